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

/// The source without its `#[cfg(test)] mod tests { … }` blocks, wherever
/// they stand in the file (braces counted).
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("#[cfg(test)]\nmod ") {
        out.push_str(&rest[..i]);
        let block = &rest[i..];
        let open = block.find('{').unwrap_or(block.len());
        let mut depth = 0;
        let mut end = block.len();
        for (j, c) in block[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &block[end..];
    }
    out.push_str(rest);
    out
}

/// The source as the module graph reads it: without `#[cfg(test)]` modules
/// and plain `//` comments, but with doc comments (`///`, `//!`), whose
/// intra-doc links (`[`crate::flows`]`) are references as the drawing
/// (farm-studio) reads them.
fn referring(text: &str) -> String {
    without_tests(text)
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with("//") || t.starts_with("///") || t.starts_with("//!")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A crate's modules (`flows::bind`; the crate root is `crate`) and the
/// modules each one refers to, in every form a path can take: `crate::…`,
/// `super::…`, `self::…`, a bare path into a child module (`bind::view` in
/// `flows/mod.rs`, or in `lib.rs`), the names inside `use …::{a, b::c}`, and
/// the same paths in doc links. An item of the crate root (`crate::Config`)
/// is a reference to the root. Declaring a child (`mod bind;`) is not.
fn module_graph(files: &[(String, String)], base: &str) -> BTreeMap<String, BTreeSet<String>> {
    const ROOT: &str = "crate";
    let module_of = |rel: &str| -> String {
        let m = rel.trim_start_matches(base).trim_start_matches('/').trim_end_matches(".rs").replace('/', "::");
        match m.trim_end_matches("::mod") {
            "lib" | "main" => ROOT.to_owned(),
            m => m.to_owned(),
        }
    };
    let modules: BTreeSet<String> = files.iter().map(|(f, _)| module_of(f)).collect();
    // What the root re-exports (`pub use state::AppState;`): `crate::AppState`
    // is a reference to `state`, the module that defines it.
    let mut reexported: BTreeMap<String, String> = BTreeMap::new();
    for (file, text) in files.iter().filter(|(f, _)| module_of(f) == ROOT && !f.ends_with("main.rs")) {
        let _ = file;
        for stmt in referring(text).split(';') {
            let Some(rest) = stmt.trim().strip_prefix("pub use ") else { continue };
            let (path, names) = match rest.split_once("::{") {
                Some((p, n)) => (p.trim().to_owned(), n.trim_end_matches('}').split(',').map(str::to_owned).collect::<Vec<_>>()),
                None => match rest.rsplit_once("::") {
                    Some((p, n)) => (p.trim().to_owned(), vec![n.to_owned()]),
                    None => continue,
                },
            };
            let path = path.trim_start_matches("crate::").trim_start_matches("self::").to_owned();
            let first = path.split("::").next().unwrap_or("");
            if !modules.contains(first) {
                continue; // from another crate
            }
            for n in names {
                let name = n.split(" as ").last().unwrap_or("").trim().to_owned();
                if !name.is_empty() {
                    reexported.insert(name, path.clone());
                }
            }
        }
    }
    let mut graph = BTreeMap::new();
    for (file, text) in files {
        if file.ends_with("main.rs") {
            continue; // the binary sits above the library
        }
        let me = module_of(file);
        let in_me = |rel: &str| if me == ROOT { rel.to_owned() } else { format!("{me}::{rel}") };
        let parent = match me.rsplit_once("::") {
            Some((p, _)) => p.to_owned(),
            None if me == ROOT => ROOT.to_owned(),
            None => ROOT.to_owned(),
        };
        let text = referring(text);
        let mut deps = BTreeSet::new();
        // `a::b::c` from the crate root → the longest prefix that is a
        // module, else an item of the root itself.
        let mut refer = |path: &str| {
            let path = path.trim_matches(':');
            if path.is_empty() {
                return;
            }
            let parts: Vec<&str> = path.split("::").collect();
            let found = (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|c| modules.contains(c));
            let target = found.or_else(|| reexported.get(parts[0]).cloned()).unwrap_or_else(|| ROOT.to_owned());
            if target != me {
                deps.insert(target);
            }
        };
        let rooted = |base: &str, path: &str| -> String {
            if base == ROOT {
                path.to_owned()
            } else if path.is_empty() {
                base.to_owned()
            } else {
                format!("{base}::{path}")
            }
        };
        let children: BTreeSet<&str> = modules
            .iter()
            .filter_map(|m| {
                if me == ROOT {
                    Some(m.as_str()).filter(|m| !m.contains("::") && *m != ROOT)
                } else {
                    m.strip_prefix(&format!("{me}::")).filter(|c| !c.contains("::"))
                }
            })
            .collect();
        let ident = |c: char| c.is_alphanumeric() || c == '_';
        let bytes: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < bytes.len() {
            // A path starts at an identifier not preceded by `::`, `.` or another identifier character.
            let starts = ident(bytes[i]) && (i == 0 || !(ident(bytes[i - 1]) || bytes[i - 1] == ':' || bytes[i - 1] == '.'));
            if !starts {
                i += 1;
                continue;
            }
            let path: String = bytes[i..].iter().take_while(|c| ident(**c) || **c == ':').collect();
            let end = i + path.len();
            i = end.max(i + 1);
            let Some((head, rest)) = path.split_once("::") else { continue };
            // `mod child;` declares, it does not refer.
            let full = match head {
                "crate" => rooted(ROOT, rest),
                "super" => {
                    let mut base = parent.clone();
                    let mut rest = rest;
                    while let Some(r) = rest.strip_prefix("super::") {
                        base = base.rsplit_once("::").map(|(p, _)| p.to_owned()).unwrap_or_else(|| ROOT.to_owned());
                        rest = r;
                    }
                    rooted(&base, rest)
                }
                "self" => rooted(&me, rest),
                child if children.contains(child) => in_me(&path),
                _ => continue,
            };
            refer(&full);
            // `use x::{a, b::c}`: each name in the braces.
            let after: String = bytes[end..].iter().take(1).collect();
            if path.ends_with("::") && after == "{" {
                let close = bytes[end..].iter().position(|c| *c == '}').map(|c| end + c).unwrap_or(bytes.len());
                let inner: String = bytes[end + 1..close].iter().collect();
                for name in inner.split(',') {
                    let name = name.trim().split(" as ").next().unwrap_or("").trim();
                    if name != "self" && !name.is_empty() {
                        refer(&format!("{}::{name}", full.trim_end_matches(':')));
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

/// The store is the one crate still in a circle: every module of it is an
/// `impl Store` block of the one `Store` type its root defines, and the
/// root's unit of work, readers and writer call back into them (issue 26
/// leaves splitting it for later). Pinned exactly: a module joining or
/// leaving the circle fails the test until this list says so.
const STORE_CIRCLE: &[&str] = &[
    "accounts",
    "api_keys",
    "attempts",
    "audit",
    "bindings",
    "card_keys",
    "checkpointer",
    "crate",
    "fill",
    "idempotency",
    "key_rotation",
    "lifecycle",
    "maintenance",
    "outbox",
    "page",
    "payments",
    "readers",
    "receipts",
    "reviews",
    "risk",
    "sessions",
    "settlements",
    "tickets",
    "unit",
    "vault",
    "webhook",
    "writeset",
];

/// Every circle of references in one crate's modules, each with the arrows
/// inside it (so the reader sees what to cut).
fn circles_in(src: &str) -> Vec<(Vec<String>, String)> {
    let graph = module_graph(&sources(src), src);
    cycles(&graph)
        .into_iter()
        .map(|cycle| {
            let arrows: Vec<String> =
                cycle.iter().flat_map(|m| graph[m].iter().filter(|d| cycle.contains(d)).map(move |d| format!("{m} -> {d}"))).collect();
            let text = format!("{src}: {}\n    {}", cycle.join(", "), arrows.join("\n    "));
            (cycle, text)
        })
        .collect()
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let mut found = Vec::new();
    for src in ["crates/bangka-core/src", "crates/bangka-issuer/src", "crates/bangka-server/src"] {
        found.extend(circles_in(src).into_iter().map(|(_, text)| text));
    }
    for (cycle, text) in circles_in("crates/bangka-store/src") {
        if cycle != STORE_CIRCLE {
            found.push(format!("{text}\n    (the store's known circle is STORE_CIRCLE: this one differs)"));
        }
    }
    assert!(found.is_empty(), "import cycles (the modules of each, and the arrows inside):\n{}", found.join("\n"));
}

/// The graph sees a cycle made in each way a Rust file can refer to
/// another: planted in made-up crates, each must be found.
#[test]
fn a_planted_cycle_of_each_reference_form_is_found() {
    let crate_of =
        |files: &[(&str, &str)]| -> Vec<(String, String)> { files.iter().map(|(f, t)| (format!("x/src/{f}"), (*t).to_owned())).collect() };
    // (the form, the files of a made-up crate, the circle it must show)
    type Planted<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let planted: &[Planted] = &[
        ("crate:: paths", &[("lib.rs", "mod a; mod b;"), ("a.rs", "use crate::b::B;"), ("b.rs", "fn f() { crate::a::g() }")], &["a", "b"]),
        (
            "super:: and a bare child path",
            &[("lib.rs", "mod p;"), ("p/mod.rs", "mod c;\npub fn h() { c::go() }"), ("p/c.rs", "pub fn go() { super::h() }")],
            &["p", "p::c"],
        ),
        (
            "use super::{…} and self::",
            &[("lib.rs", "mod p;"), ("p/mod.rs", "mod c;\nuse self::c::Go;"), ("p/c.rs", "use super::{h, Thing};")],
            &["p", "p::c"],
        ),
        (
            "the crate root (lib.rs)",
            &[("lib.rs", "mod a;\npub struct Config;\nfn run() { a::start() }"), ("a.rs", "use crate::Config;")],
            &["a", "crate"],
        ),
        (
            "a root re-export",
            &[("lib.rs", "mod a; mod b;\npub use a::Thing;"), ("a.rs", "use crate::b::other;"), ("b.rs", "fn f(_: crate::Thing) {}")],
            &["a", "b"],
        ),
        (
            "a doc link",
            &[
                ("lib.rs", "mod a; mod b;"),
                ("a.rs", "//! Called by [`crate::b::run`].\npub fn go() {}"),
                ("b.rs", "pub fn run() { crate::a::go() }"),
            ],
            &["a", "b"],
        ),
    ];
    for (form, files, expect) in planted {
        let graph = module_graph(&crate_of(files), "x/src");
        let found = cycles(&graph);
        assert_eq!(found, [expect.iter().map(|m| m.to_string()).collect::<Vec<_>>()], "a cycle through {form} was not found: {graph:?}");
    }
    // And what is not a reference: a plain comment, a test module, a
    // declared child, a path of another crate that shares a name.
    let clean = crate_of(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "// see crate::b::run\nuse std::fmt;\nfn f() { other::b::x() }\n#[cfg(test)]\nmod tests {\n    use crate::b::run;\n}"),
        ("b.rs", "pub fn run() { crate::a::f() }"),
    ]);
    assert_eq!(cycles(&module_graph(&clean, "x/src")), Vec::<Vec<String>>::new());
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

/// A flow's answer is typed from the flow to the response (issue 26): it
/// returns `Answer<SomeView>`, and JSON is written once, by the response or
/// by the runner keeping an idempotent answer (`views::Written`). No flow
/// or handler hands back a bare status and JSON value.
#[test]
fn answers_are_typed_from_the_flow_to_the_response() {
    let mut found = Vec::new();
    for (file, text) in sources("crates/bangka-server/src") {
        let text = shipped(&text);
        for untyped in ["(StatusCode, Value)", "(axum::http::StatusCode, serde_json::Value)", "Answer<Value>", "Answer<serde_json::Value>"]
        {
            if text.contains(untyped) {
                found.push(format!("{file}: {untyped}"));
            }
        }
    }
    assert!(found.is_empty(), "untyped answers: {found:?}");
}

/// What is still built with `json!` in the server (error details, ticket
/// context snapshots, signed evidence bundles): issue 26 types them next.
/// A ratchet: the count may only go down (lower it here when it does).
#[test]
fn json_literals_only_go_down() {
    const AT_MOST: usize = 181;
    let n: usize = sources("crates/bangka-server/src").iter().map(|(_, t)| shipped(t).matches("json!").count()).sum();
    assert!(n <= AT_MOST, "{n} json! in the server's shipped code, more than the {AT_MOST} left to type: type the new one instead");
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
