// Shared by the wallet (/) and the operations console (/ops): the API
// client, the two languages, DOM helpers and how a failure is shown.
// No framework and no build step: the files are served as written, from
// the binary. Text from the API is always set with textContent, never as
// HTML, and the pages' Content-Security-Policy allows scripts from this
// server only.
"use strict";

const Bangka = (() => {
  const DEMO = document.body.dataset.demo === "true";

  // ---------------------------------------------------------------- language
  const TEXT = {
    "zh-CN": {
      lang_switch: "English",
      retry_in: "可在 {s} 秒后重试",
      retry_now: "现在可以重试",
      request_id: "请求编号",
      attempt_id: "尝试编号",
      prepare: "联系客服时请准备",
      create_ticket: "提交工单",
      ticket_created: "工单 {n} 已提交，我们会在 {due} 前答复。",
      dismiss: "关闭",
      working: "处理中…",
      network_down: "网络连接失败，请检查网络后重试。",
      who_fixes: { holder: "需要您处理", bank: "需要银行处理", wallet: "需要钱包处理" },
      step_outside: { bank: "联系发卡银行", carrier: "联系手机运营商", wallet: "联系钱包客服", integrator: "由钱包处理", administrator: "由管理员处理", merchant: "联系商户" },
    },
    en: {
      lang_switch: "中文",
      retry_in: "You can try again in {s} s",
      retry_now: "You can try again now",
      request_id: "Request",
      attempt_id: "Attempt",
      prepare: "Have these ready for support",
      create_ticket: "Ask support",
      ticket_created: "Ticket {n} sent; we will answer by {due}.",
      dismiss: "Close",
      working: "Working…",
      network_down: "Could not reach the service. Check your connection and try again.",
      who_fixes: { holder: "For you to fix", bank: "For the bank to fix", wallet: "For the wallet to fix" },
      step_outside: { bank: "Contact your bank", carrier: "Contact your phone carrier", wallet: "Contact wallet support", integrator: "The wallet handles this", administrator: "An administrator handles this", merchant: "Contact the merchant" },
    },
  };
  let lang = localStorage.getItem("bangka.lang") || (navigator.language.startsWith("zh") ? "zh-CN" : "en");
  const pageText = {}; // per page: { "zh-CN": {...}, en: {...} }

  function t(key, vars) {
    const table = { ...TEXT[lang], ...(pageText[lang] || {}) };
    let s = key.split(".").reduce((o, k) => (o == null ? o : o[k]), table);
    if (s == null) s = key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll("{" + k + "}", v);
    return s;
  }

  function addText(table) {
    for (const l of Object.keys(table)) pageText[l] = { ...(pageText[l] || {}), ...table[l] };
  }

  /// Fills every element carrying data-t with its text, and placeholders.
  function translate(root) {
    document.documentElement.lang = lang;
    for (const e of (root || document).querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
    for (const e of (root || document).querySelectorAll("[data-t-placeholder]")) e.placeholder = t(e.dataset.tPlaceholder);
    for (const e of (root || document).querySelectorAll("[data-t-label]")) e.setAttribute("aria-label", t(e.dataset.tLabel));
  }

  const langListeners = [];
  function onLanguage(f) {
    langListeners.push(f);
  }
  function setLanguage(l) {
    lang = l;
    localStorage.setItem("bangka.lang", l);
    translate();
    langListeners.forEach((f) => f());
  }
  function language() {
    return lang;
  }

  // ---------------------------------------------------------------- DOM
  /// el("button", {class: "x", onclick: f}, "text", child …)
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k === "dataset") Object.assign(e.dataset, v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c == null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function clear(e) {
    while (e.firstChild) e.firstChild.remove();
    return e;
  }

  function $(sel, root) {
    return (root || document).querySelector(sel);
  }

  // ---------------------------------------------------------------- API
  const KEY_NAME = "bangka.key." + (document.body.dataset.page || "wallet");
  let key = sessionStorage.getItem(KEY_NAME) || "";
  function setKey(k) {
    key = k || "";
    if (key) sessionStorage.setItem(KEY_NAME, key);
    else sessionStorage.removeItem(KEY_NAME);
  }
  function currentKey() {
    return key;
  }

  function newIdempotencyKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  /// One call to the JSON API. Resolves to {ok, status, body}; a network
  /// failure resolves too (status 0), so callers show it like any failure.
  /// Writes carry a fresh Idempotency-Key: a double click or a retry of the
  /// same action (pass `idempotencyKey`) replays instead of acting twice.
  const API_VERSION = "2026-12-01";

  async function api(method, path, body, opts) {
    const o = opts || {};
    // The pages are built against this API version: they say so, so a key
    // pinned to an older one (made before versions existed) still works here.
    const headers = { "accept-language": lang, accept: "application/json", "bangka-version": API_VERSION };
    const k = o.key != null ? o.key : key;
    if (k) headers.authorization = "Bearer " + k;
    if (method !== "GET") headers["idempotency-key"] = o.idempotencyKey || newIdempotencyKey();
    if (body !== undefined) headers["content-type"] = "application/json";
    try {
      const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let parsed = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch (_) {
        parsed = text;
      }
      return { ok: res.ok, status: res.status, body: parsed };
    } catch (e) {
      return { ok: false, status: 0, body: null };
    }
  }

  // ---------------------------------------------------------------- time
  function secondsUntil(iso) {
    return Math.max(0, Math.ceil((Date.parse(iso) - Date.now()) / 1000));
  }

  /// Keeps `node`'s text as `render(secondsLeft)` until `iso`, then calls
  /// `done`. Returns a function that stops it.
  function countdown(node, iso, render, done) {
    let timer = null;
    const tick = () => {
      const s = secondsUntil(iso);
      node.textContent = render(s);
      if (s <= 0) {
        clearInterval(timer);
        if (done) done();
      }
    };
    tick();
    timer = setInterval(tick, 1000);
    return () => clearInterval(timer);
  }

  function when(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString(lang === "zh-CN" ? "zh-CN" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
  }

  // ---------------------------------------------------------------- failures
  /// A failure as the holder reads it: the message, who fixes it, the
  /// ordered steps (a step that is a Bangka operation may be offered as a
  /// button by the page through `actions[operation]`), the retry countdown,
  /// what to have ready for support, the request id, and "ask support"
  /// when `onTicket` is given.
  function failure(res, opts) {
    const o = opts || {};
    const box = el("div", { class: "failure", role: "alert", tabindex: "-1" });
    if (res.status === 0 || !res.body || !res.body.error) {
      box.append(el("p", { class: "failure-message", text: res.status === 0 ? t("network_down") : String(res.body || res.status) }));
      return box;
    }
    const e = res.body.error;
    box.dataset.code = e.code;
    box.append(el("p", { class: "failure-message", text: e.message }));
    box.append(el("p", { class: "failure-meta" }, el("span", { class: "badge badge-" + e.fix_by, text: t("who_fixes." + e.fix_by) }), " ", el("code", { text: e.code })));
    const steps = el("ol", { class: "failure-steps" });
    for (const s of e.steps || []) {
      const li = el("li", {}, el("span", { text: s.text }));
      const a = s.action || {};
      if (a.kind === "api" && o.actions && o.actions[a.operation]) {
        li.append(" ", el("button", { type: "button", class: "link", onclick: o.actions[a.operation].run, text: o.actions[a.operation].label }));
      } else if (a.kind === "outside" && a.by) {
        li.append(" ", el("span", { class: "hint", text: "(" + t("step_outside." + a.by) + ")" }));
      }
      steps.append(li);
    }
    box.append(steps);
    if (e.retry_after) {
      const p = el("p", { class: "retry" });
      box.append(p);
      countdown(p, e.retry_after, (s) => (s > 0 ? t("retry_in", { s }) : t("retry_now")));
    }
    if (e.prepare_for_support && e.prepare_for_support.length) {
      box.append(el("details", {}, el("summary", { text: t("prepare") }), el("ul", {}, e.prepare_for_support.map((x) => el("li", { text: x })))));
    }
    box.append(
      el(
        "p",
        { class: "failure-ids" },
        el("span", { text: t("request_id") + ": " }),
        el("code", { text: e.request_id }),
        e.attempt_id ? [" · ", el("span", { text: t("attempt_id") + ": " }), el("code", { class: "attempt-id", text: e.attempt_id })] : null,
      ),
    );
    if (o.onTicket) {
      const result = el("p", { class: "ticket-result", role: "status" });
      box.append(el("button", { type: "button", class: "secondary ticket-button", onclick: () => o.onTicket(e, result), text: t("create_ticket") }), result);
    }
    return box;
  }

  /// Shows a failure in `slot` (replacing what was there) and moves focus to it.
  function showFailure(slot, res, opts) {
    clear(slot).append(failure(res, opts));
    slot.firstChild.focus();
  }

  /// Runs `f` with the button disabled and marked busy (no double submit).
  async function busy(button, f) {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      return await f();
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  function mountLanguageSwitch() {
    const b = $("#lang-switch");
    if (!b) return;
    b.addEventListener("click", () => setLanguage(lang === "zh-CN" ? "en" : "zh-CN"));
  }

  document.addEventListener("DOMContentLoaded", () => {
    translate();
    mountLanguageSwitch();
  });

  return { DEMO, t, addText, translate, onLanguage, setLanguage, language, el, clear, $, api, setKey, currentKey, newIdempotencyKey, countdown, secondsUntil, when, failure, showFailure, busy };
})();
