//! The invariants ARCHITECTURE.md states, checked on the source: no import
//! cycles between files, no database, web or runtime crate in the core, no
//! SQL outside the store, `expose()` on secrets only where it is allowed,
//! and every route in the API document.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Every `.rs` file under `dir`, relative to the workspace root.
fn sources(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The source without `#[cfg(test)]` modules and comments (what ships).
fn shipped(text: &str) -> String {
    let body = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    body.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// A crate's module files as module paths (`flows::bind`), and the module
/// paths each file names with `crate::` or `super::` (or `use super::{…}`).
fn module_graph(src_dir: &str) -> BTreeMap<String, BTreeSet<String>> {
    let base = format!("{src_dir}/");
    let files = sources(src_dir);
    let module_of = |rel: &str| -> String {
        let m = rel.trim_start_matches(&base).trim_end_matches(".rs").replace('/', "::");
        m.trim_end_matches("::mod").to_owned()
    };
    let modules: BTreeSet<String> = files.iter().map(|(f, _)| module_of(f)).filter(|m| m != "lib" && m != "main").collect();
    let mut graph = BTreeMap::new();
    for (file, text) in &files {
        let me = module_of(file);
        if me == "lib" || me == "main" {
            continue;
        }
        // `super` of `flows/bind.rs` is `flows`; of `flows/mod.rs`, the crate root.
        let parent = me.rsplit_once("::").map(|(p, _)| p.to_owned()).unwrap_or_default();
        let text = shipped(text);
        let mut deps = BTreeSet::new();
        // `crate::a::b::c` → the longest prefix that is a module.
        let mut refer = |path: &str| {
            let parts: Vec<&str> = path.split("::").collect();
            for n in (1..=parts.len()).rev() {
                let cand = parts[..n].join("::");
                if modules.contains(&cand) && cand != me {
                    deps.insert(cand);
                    return;
                }
            }
        };
        for (prefix, base_path) in [("crate::", String::new()), ("super::", parent.clone())] {
            let mut rest = text.as_str();
            while let Some(i) = rest.find(prefix) {
                rest = &rest[i + prefix.len()..];
                let path: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
                let path = path.trim_end_matches(':');
                let full = if base_path.is_empty() { path.to_owned() } else { format!("{base_path}::{path}") };
                refer(&full);
                // `use super::{a, b::c}`: each name in the braces.
                if rest[path.len()..].starts_with("::{") || (path.is_empty() && rest.starts_with('{')) {
                    let open = rest.find('{').unwrap();
                    let close = rest[open..].find('}').map(|c| open + c).unwrap_or(rest.len());
                    for name in rest[open + 1..close].split(',') {
                        let name = name.trim().split(" as ").next().unwrap_or("").trim();
                        let joined = if full.is_empty() { name.to_owned() } else { format!("{full}::{name}") };
                        refer(joined.trim_start_matches("::"));
                    }
                }
            }
        }
        graph.insert(me, deps);
    }
    graph
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.g.contains_key(w) {
                continue;
            }
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t =
        T { g: graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), on: BTreeSet::new(), next: 0, out: Vec::new() };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let mut found = Vec::new();
    for src in ["crates/bangka-core/src", "crates/bangka-store/src", "crates/bangka-issuer/src", "crates/bangka-server/src"] {
        for cycle in cycles(&module_graph(src)) {
            found.push(format!("{src}: {}", cycle.join(", ")));
        }
    }
    assert!(found.is_empty(), "import cycles (the modules of each):\n{}", found.join("\n"));
}

#[test]
fn the_core_knows_no_database_web_or_runtime() {
    let manifest = std::fs::read_to_string(root().join("crates/bangka-core/Cargo.toml")).unwrap();
    let deps = manifest.split("[dependencies]").nth(1).unwrap_or("").split("\n[").next().unwrap_or("");
    for banned in ["sqlx", "axum", "tokio", "hyper", "reqwest"] {
        assert!(!deps.lines().any(|l| l.trim_start().starts_with(banned)), "bangka-core depends on {banned}");
    }
    for (file, text) in sources("crates/bangka-core/src") {
        for banned in ["sqlx::", "axum::", "tokio::"] {
            assert!(!shipped(&text).contains(banned), "{file} uses {banned}");
        }
    }
}

#[test]
fn no_sql_outside_the_store() {
    for src in ["crates/bangka-server/src", "crates/bangka-core/src", "crates/bangka-issuer/src"] {
        for (file, text) in sources(src) {
            let text = shipped(&text);
            for sql in ["sqlx::query", "SELECT ", "INSERT INTO", "UPDATE accounts", "DELETE FROM"] {
                assert!(!text.contains(sql), "{file} has SQL ({sql:?}); SQL lives in bangka-store");
            }
        }
    }
}

/// Where a secret may be exposed: parsing and checking it, sealing it, and
/// the few places that hand it to the bank or the holder's own phone.
const EXPOSE_ALLOWED: &[&str] = &[
    // The core's own types: parsing, check digits, masking, derivations.
    "crates/bangka-core/src/",
    // The vault seals, opens and fingerprints card numbers and codes.
    "crates/bangka-store/src/vault.rs",
    "crates/bangka-store/src/card_keys.rs",
    // The webhook signing key signs each delivery.
    "crates/bangka-store/src/webhook.rs",
    // The issuer simulator plays the bank, which knows the card.
    "crates/bangka-issuer/src/",
    // The issuer protocol seals the card for the bank (AES-256-GCM).
    "crates/bangka-server/src/acp/",
    // Codes go out in their SMS; KYC values are hashed and sealed; the
    // bank gets the card; the load tools make up cards.
    "crates/bangka-server/src/flows/",
    "crates/bangka-server/src/bench.rs",
    "crates/bangka-server/src/fill.rs",
    "crates/bangka-server/src/keys.rs",
];

#[test]
fn secrets_are_exposed_only_where_allowed() {
    let mut found = Vec::new();
    for src in ["crates/bangka-core/src", "crates/bangka-store/src", "crates/bangka-issuer/src", "crates/bangka-server/src"] {
        for (file, text) in sources(src) {
            if shipped(&text).contains(".expose()") && !EXPOSE_ALLOWED.iter().any(|a| file.starts_with(a)) {
                found.push(file);
            }
        }
    }
    assert!(found.is_empty(), "expose() outside the allowed files: {found:?}");
}

#[test]
fn every_route_is_added_with_its_document() {
    // utoipa-axum's `routes!` takes each route's path and method from its
    // handler's `#[utoipa::path]` and adds the operation to the document at
    // the same time; a plain `.route(…)` would be a route the document (and
    // the BOLA suite, which walks it) does not know.
    for (file, text) in sources("crates/bangka-server/src/http") {
        let shipped = shipped(&text);
        let mut rest = shipped.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + 7..];
            assert!(rest.starts_with("\"/openapi.json\""), "{file} adds a route by hand: use `.routes(routes!(handler))`");
        }
    }
    let doc = serde_json::to_value(bangka_server::http::openapi()).unwrap();
    let operations: usize = doc["paths"].as_object().unwrap().values().map(|ops| ops.as_object().unwrap().len()).sum();
    assert!(operations > 80, "the document lost its operations: {operations}");
}

#[test]
fn no_handler_types_its_route_by_hand() {
    // The Idempotent extractor takes the route from the request itself.
    for (file, text) in sources("crates/bangka-server/src/http") {
        for typed in ["\"POST /", "post_json(", "post_empty("] {
            assert!(!shipped(&text).contains(typed), "{file} has {typed:?}: take `Idempotent` instead");
        }
    }
}

#[test]
fn every_idempotent_operation_documents_its_key() {
    // A handler taking `Idempotent` reads `Idempotency-Key`; its document
    // must say so, and so lists the IDEMPOTENCY_* codes it can answer.
    for (file, text) in sources("crates/bangka-server/src/http") {
        let text = shipped(&text);
        for (i, _) in text.match_indices("call: Idempotent") {
            let attr = &text[text[..i].rfind("#[utoipa::path(").expect("an annotated handler")..i];
            let name = attr.split("async fn ").nth(1).and_then(|r| r.split('(').next()).unwrap_or("?");
            assert!(attr.contains("\"Idempotency-Key\""), "{file}: {name} takes Idempotent but documents no Idempotency-Key");
        }
    }
}

#[test]
fn every_success_answer_is_typed_in_the_api_document() {
    let doc = serde_json::to_value(bangka_server::http::openapi()).unwrap();
    let mut untyped = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for (status, r) in op["responses"].as_object().unwrap() {
                if status.starts_with('2') && r.get("content").is_none() {
                    untyped.push(format!("{} {path} {status}", method.to_uppercase()));
                }
            }
        }
    }
    assert!(untyped.is_empty(), "answers with no schema (a generated client would return None): {untyped:?}");
}

#[test]
fn every_operation_names_its_error_codes() {
    // The error envelope of every operation, with the codes it answers by
    // name (the API suite checks every error it gets against these lists).
    let doc = serde_json::to_value(bangka_server::http::openapi()).unwrap();
    assert!(doc["x-common-error-codes"].as_array().is_some_and(|c| c.len() > 5));
    let mut silent = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let named = op["responses"].as_object().unwrap().iter().any(|(status, r)| {
                status.starts_with('4') && r["x-error-codes"].is_array() && r["content"]["application/json"]["schema"]["$ref"].is_string()
            });
            if !named {
                silent.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(silent.is_empty(), "operations with no error envelope and codes: {silent:?}");
}
