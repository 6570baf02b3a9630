// Renders /openapi.json with Redoc (vendored in web/vendor, served from this
// binary: the reference works offline and asks no other site for anything).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("redoc");
  Redoc.init(root.dataset.spec, { hideDownloadButton: false, expandResponses: "200,201,202", disableSearch: false, theme: { colors: { primary: { main: "#0b5cab" } } } }, root);
});
