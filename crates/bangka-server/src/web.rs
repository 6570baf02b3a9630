//! The web pages `bangka serve` serves beside the API: the reference wallet
//! (`/`), the operations console (`/ops`) and the API reference (`/docs`).
//!
//! Every file is compiled into the binary (`web/`), so a running Bangka
//! needs nothing else and makes no request elsewhere. The pages are static
//! HTML with small scripts that call the JSON API like any wallet or console
//! would; they hold no business rule. They are not API operations, so they
//! are not in `/openapi.json` (this module sits beside `http`, not in it).
//!
//! Security: a strict Content-Security-Policy (scripts and styles from this
//! server only; the API reference alone allows the inline styles its
//! renderer writes), no framing, no referrer. The pages keep the bearer key
//! in `sessionStorage` and send it in `Authorization`; no cookie carries
//! authority, so a cross-site request cannot act for the user (no CSRF).

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Scripts, styles and data only from this server; nothing may frame us.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
     connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The API reference: Redoc writes its styles inline and searches in a
/// worker made from a blob; still nothing from elsewhere.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     font-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Changes with every build that changes an asset, so browsers never mix
/// an old script with a new page (`?v=` on every asset link).
const VERSION: &str = env!("CARGO_PKG_VERSION");

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset { name: $name, content_type: $type, body: include_bytes!(concat!("../web/assets/", $name)) }
    };
}

const ASSETS: &[Asset] = &[
    asset!("bangka.css", "text/css; charset=utf-8"),
    asset!("common.js", "text/javascript; charset=utf-8"),
    asset!("wallet.js", "text/javascript; charset=utf-8"),
    asset!("ops.js", "text/javascript; charset=utf-8"),
    asset!("docs.js", "text/javascript; charset=utf-8"),
    asset!("redoc-logo.svg", "image/svg+xml"),
    Asset {
        name: "redoc.standalone.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/vendor/redoc.standalone.js"),
    },
];

const WALLET: &str = include_str!("../web/wallet.html");
const OPS: &str = include_str!("../web/ops.html");
const DOCS: &str = include_str!("../web/docs.html");

/// The pages and their assets. `demo` shows the demo helpers (test cards,
/// the phone inbox, "start as a demo holder").
pub fn router(demo: bool) -> Router {
    Router::new()
        .route("/", get(move || async move { page(WALLET, demo, PAGE_CSP) }))
        .route("/ops", get(move || async move { page(OPS, demo, PAGE_CSP) }))
        .route("/docs", get(move || async move { page(DOCS, demo, DOCS_CSP) }))
        .route("/assets/{name}", get(asset))
}

fn page(template: &'static str, demo: bool, csp: &'static str) -> Response {
    let html = template.replace("{{demo}}", if demo { "true" } else { "false" }).replace("{{version}}", VERSION);
    let mut res = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    secure(&mut res, csp);
    res
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some(a) = ASSETS.iter().find(|a| a.name == name) else {
        // The catalog's NOT_FOUND envelope is written by `render_errors`.
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut res = ([(header::CONTENT_TYPE, a.content_type)], a.body).into_response();
    // Versioned links (`?v=`): a new build is a new URL.
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    secure(&mut res, PAGE_CSP);
    res
}

fn secure(res: &mut Response, csp: &'static str) {
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_a_page_links_is_served() {
        for page in [WALLET, OPS, DOCS] {
            for part in page.split("/assets/").skip(1) {
                let name = part.split(['?', '"']).next().unwrap();
                assert!(ASSETS.iter().any(|a| a.name == name), "a page links /assets/{name}, which is not served");
            }
            assert!(!page.contains("http://") && !page.contains("https://"), "a page refers to another site");
            assert!(!page.contains(" style=") && !page.contains("<style"), "an inline style: the CSP forbids it");
            let handler = page.split(" on").skip(1).any(|rest| {
                let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase()).collect();
                !name.is_empty() && rest[name.len()..].starts_with('=')
            });
            assert!(!handler, "an inline event handler: the CSP forbids it");
            assert!(!page.contains("<script>"), "an inline script: the CSP forbids it");
        }
    }
}
