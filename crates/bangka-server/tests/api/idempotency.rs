//! Idempotency keys and concurrent duplicates.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;

async fn same_key_replays_and_other_body_is_refused(app: TestApp) {
    let key = [("idempotency-key", "acct-create-1")];
    let body = json!({ "phone": "13755550000" });
    let a = app.request(reqwest::Method::POST, "/v1/accounts", Some(&body), &key).await;
    let b = app.request(reqwest::Method::POST, "/v1/accounts", Some(&body), &key).await;
    assert_eq!(a.status, 201);
    assert_eq!(a.body, b.body, "replay differs");
    assert_eq!(b.headers.get("idempotent-replayed").unwrap(), "true");
    let other = app
        .request(reqwest::Method::POST, "/v1/accounts", Some(&json!({ "phone_verified_by": "wallet", "phone": "13755550001" })), &key)
        .await;
    assert_eq!(other.status, 422);
    other.assert_error("IDEMPOTENCY_KEY_REUSED");
    // A failure is replayed too, in the language of the repeat.
    let k2 = [("idempotency-key", "acct-create-2")];
    let first = app.request(reqwest::Method::POST, "/v1/accounts", Some(&body), &k2).await;
    first.assert_error("ACCOUNT_PHONE_TAKEN");
    let again = app.request(reqwest::Method::POST, "/v1/accounts", Some(&body), &[k2[0], ("accept-language", "en")]).await;
    assert_eq!(again.assert_error("ACCOUNT_PHONE_TAKEN")["lang"], "en");
}
on_both_backends!(same_key_replays_and_other_body_is_refused);

/// Sends twenty identical binds at once; all must be accepted. Returns the
/// distinct binding ids they answered with.
async fn bind_concurrently(app: &TestApp, path: &str, body: &serde_json::Value, key: Option<&str>) -> HashSet<String> {
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let mut rb = app.client.post(format!("{}{path}", app.base)).bearer_auth(&app.key).json(body);
        if let Some(k) = key {
            rb = rb.header("idempotency-key", k);
        }
        tasks.push(tokio::spawn(async move {
            let r = rb.send().await.unwrap();
            (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 202, "{body}");
        ids.insert(body["id"].as_str().unwrap().to_owned());
    }
    ids
}

/// Twenty concurrent identical binds with one key → one binding, twenty
/// equal answers; twenty without a key → still one binding.
async fn concurrent_identical_binds_make_one_binding(app: TestApp) {
    let acc = app.verified_account().await;
    let card = app.card("ok_debit").await;
    let body = TestApp::bind_body(&card);
    let ids = bind_concurrently(&app, &format!("/v1/accounts/{acc}/bindings"), &body, Some("bind-once")).await;
    assert_eq!(ids.len(), 1, "one key, one binding");
    let (sms,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox").fetch_one(app.state.store.pool()).await.unwrap();
    assert_eq!(sms, 1, "one SMS for one binding");

    let acc2 = app.verified_account().await;
    let body2 = TestApp::bind_body(&app.card("ok_debit_abc").await);
    let path2 = format!("/v1/accounts/{acc2}/bindings");
    let ids = bind_concurrently(&app, &path2, &body2, None).await;
    assert_eq!(ids.len(), 1, "identical binds share one pending binding");
    let all = app.get(&path2).await;
    assert_eq!(all.list().len(), 1);
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM bindings WHERE account_id = $1").bind(&acc2).fetch_one(app.state.store.pool()).await.unwrap();
    assert_eq!(n, 1, "no abandoned duplicates either");
}
on_both_backends!(concurrent_identical_binds_make_one_binding);
