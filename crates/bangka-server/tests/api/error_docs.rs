//! Every error answer the suite gets is checked against the API document:
//! the operation must list the code (in its error response's
//! `x-error-codes`) or the code must be common to all (`x-common-error-codes`).
//! With `BANGKA_BLESS=1` a missing code is added to
//! `src/http/operation_errors.txt` instead (then `sort -u` that file).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::sync::LazyLock;

use serde_json::Value;

use crate::helpers::Resp;

const TABLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/operation_errors.txt");

struct Documented {
    /// (method, path template split into segments) → codes listed.
    operations: Vec<(String, Vec<String>, BTreeSet<String>)>,
    common: BTreeSet<String>,
}

static DOC: LazyLock<Documented> = LazyLock::new(|| {
    let doc = serde_json::to_value(bangka_server::http::openapi()).unwrap();
    let strings = |v: &Value| -> BTreeSet<String> {
        v.as_array().map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect()).unwrap_or_default()
    };
    let mut operations = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let mut codes = BTreeSet::new();
            for (status, r) in op["responses"].as_object().unwrap() {
                if !status.starts_with('2') {
                    codes.extend(strings(&r["x-error-codes"]));
                }
            }
            operations.push((method.to_uppercase(), path.split('/').map(str::to_owned).collect(), codes));
        }
    }
    Documented { operations, common: strings(&doc["x-common-error-codes"]) }
});

/// The operation a request went to: `(METHOD, template)`, if any.
fn operation(method: &str, path: &str) -> Option<(String, &'static BTreeSet<String>)> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let matching = DOC.operations.iter().filter(|(m, template, _)| {
        m == method
            && template.len() == segments.len()
            && template.iter().zip(&segments).all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
    });
    // A literal segment beats a parameter (`/v1/ops/tickets/…` vs `/v1/ops/{x}`).
    let best = matching.max_by_key(|(_, t, _)| t.iter().filter(|s| !s.starts_with('{')).count())?;
    Some((best.1.join("/"), &best.2))
}

/// Checks one answer; called by the harness for every request it sends.
pub fn check(method: &str, path: &str, r: &Resp) {
    let Some(code) = r.code() else { return };
    if DOC.common.contains(code) {
        return;
    }
    let Some((template, codes)) = operation(method, path) else { return };
    if codes.contains(code) {
        return;
    }
    if std::env::var_os("BANGKA_BLESS").is_some() {
        // One short line per write: appends from parallel tests do not interleave.
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(TABLE).unwrap();
        f.write_all(format!("{method} {template} {code}\n").as_bytes()).unwrap();
        return;
    }
    panic!(
        "{method} {template} answered {code}, which its API document does not list: \
         run the suite with BANGKA_BLESS=1 and `sort -u -o {TABLE} {TABLE}`"
    );
}

#[test]
fn the_error_table_names_real_operations_and_codes_in_order() {
    let text = std::fs::read_to_string(TABLE).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut sorted = lines.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(lines, sorted, "sort the table: sort -u -o {TABLE} {TABLE}");
    let known: BTreeMap<&str, ()> = bangka_core::ErrorCode::ALL.iter().map(|c| (c.as_str(), ())).collect();
    for line in lines {
        let parts: Vec<&str> = line.split(' ').collect();
        assert_eq!(parts.len(), 3, "METHOD /path CODE: {line:?}");
        assert!(known.contains_key(parts[2]), "no such code: {line:?}");
        assert!(!DOC.common.contains(parts[2]), "a common code needs no line: {line:?}");
        let found = operation(parts[0], parts[1]).is_some_and(|(t, _)| t == parts[1]);
        assert!(found, "no such operation: {line:?}");
    }
    assert!(!DOC.common.is_empty());
}
