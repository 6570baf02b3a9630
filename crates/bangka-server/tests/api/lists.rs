//! Every list pages the same way (issue 26): `{"data": [...], "has_more"}`,
//! `?limit=` and `?starting_after=<the last item's id>`.

use bangka_server::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp};
use crate::on_both_backends;

/// Reads a whole list `limit` items at a time; returns the ids (under
/// `id_field`) page by page.
async fn walk(app: &TestApp, key: &str, path: &str, id_field: &str, limit: u32) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &after {
            Some(a) => format!("{path}{sep}limit={limit}&starting_after={a}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let r: Resp = app.request_as(key, Method::GET, &url, None).await;
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        let ids: Vec<String> = r.list().iter().map(|x| x[id_field].as_str().unwrap().to_owned()).collect();
        assert!(ids.len() <= limit as usize, "{url}: a page holds at most `limit` items");
        let more = r.body["has_more"].as_bool().unwrap();
        after = ids.last().cloned();
        pages.push(ids);
        if !more {
            return pages;
        }
        assert!(pages.len() < 50, "{path}: has_more never ends");
    }
}

/// Five tickets read two at a time: three pages, each item once, in the
/// list's order (ties on the same millisecond broken by id), on the
/// holder's list and the agents' queue alike. A cursor from another list
/// and a bad limit are refused by name and change nothing.
async fn pages_walk_a_list_once(app: TestApp) {
    let acc = app.verified_account().await;
    let other = app.verified_account().await;
    for i in 0..5 {
        let r = app.post(&format!("/v1/accounts/{acc}/tickets"), json!({ "note": format!("page {i}") })).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let stranger = app.post(&format!("/v1/accounts/{other}/tickets"), json!({ "note": "not yours" })).await.body["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let wallet = app.key.clone();
    let mine = format!("/v1/accounts/{acc}/tickets");
    let whole = app.get(&format!("{mine}?limit=100")).await;
    let all: Vec<String> = whole.list().iter().map(|t| t["number"].as_str().unwrap().to_owned()).collect();
    assert_eq!((all.len(), whole.body["has_more"].clone()), (5, json!(false)));
    let pages = walk(&app, &wallet, &mine, "number", 2).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    assert_eq!(pages.concat(), all, "each item once, in the list's order");

    // The agents' queue holds all six, soonest deadline first.
    let support = app.key_for(Role::Support).await;
    let queue = walk(&app, &support, "/v1/ops/tickets?status=open", "number", 4).await;
    assert_eq!(queue.iter().map(Vec::len).collect::<Vec<_>>(), [4, 2]);
    let mut seen = queue.concat();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6);
    // The cursor's item may leave the list's filter between two pages (a
    // ticket resolved meanwhile): it still marks where the next page starts.
    let first = app.request_as(&support, Method::GET, "/v1/ops/tickets?status=open&limit=2", None).await;
    let last = first.list()[1]["number"].as_str().unwrap().to_owned();
    let resolved =
        app.request_as(&support, Method::POST, &format!("/v1/ops/tickets/{last}/resolve"), Some(&json!({ "body": "done" }))).await;
    assert_eq!(resolved.body["status"], "resolved", "{}", resolved.body);
    let next = app.request_as(&support, Method::GET, &format!("/v1/ops/tickets?status=open&limit=10&starting_after={last}"), None).await;
    let rest: Vec<&str> = next.list().iter().map(|t| t["number"].as_str().unwrap()).collect();
    assert_eq!(rest.len(), 4, "the rest of the queue after the resolved ticket: {rest:?}");

    // Refused by name: another account's ticket as the cursor, bad limits.
    let r = app.get(&format!("{mine}?starting_after={stranger}")).await;
    assert_eq!(r.assert_error("MALFORMED_REQUEST")["details"]["field"], "starting_after");
    for bad in ["0", "101", "ten", "-1"] {
        let r = app.get(&format!("{mine}?limit={bad}")).await;
        assert_eq!(r.assert_error("MALFORMED_REQUEST")["details"]["field"], "limit", "limit={bad}");
    }
    let r = app.get(&format!("{mine}?starting_after=x%27%20OR%201=1")).await;
    assert_eq!(r.assert_error("MALFORMED_REQUEST")["details"]["field"], "starting_after");
    assert_eq!(app.get(&format!("{mine}?limit=100")).await.list().len(), 5, "refusals changed nothing");
}
on_both_backends!(pages_walk_a_list_once);

/// The document says the same: no answer is a bare array, and every
/// operation answering a page (`data` + `has_more`) takes `limit` and
/// `starting_after`.
#[test]
fn every_list_in_the_document_pages() {
    let doc = serde_json::to_value(bangka_server::http::openapi()).unwrap();
    let schema = |s: &Value| -> Value {
        match s["$ref"].as_str() {
            Some(r) => doc["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
            None => s.clone(),
        }
    };
    let (mut lists, mut bad) = (0, Vec::new());
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let Some(answers) = op["responses"].as_object() else { continue };
            for (status, answer) in answers.iter().filter(|(s, _)| s.starts_with('2')) {
                let Some(s) = answer.pointer("/content/application~1json/schema") else { continue };
                let s = schema(s);
                if s["type"] == "array" {
                    bad.push(format!("{method} {path} {status}: a bare array"));
                }
                if s["properties"]["data"]["type"] != "array" {
                    continue;
                }
                lists += 1;
                if s["properties"]["has_more"]["type"] != "boolean" {
                    bad.push(format!("{method} {path}: data without has_more"));
                }
                let params: Vec<&str> = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "query")
                    .filter_map(|p| p["name"].as_str())
                    .collect();
                for p in ["limit", "starting_after"] {
                    if !params.contains(&p) {
                        bad.push(format!("{method} {path}: no `{p}` parameter"));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
    assert!(lists >= 16, "{lists} lists");
}
