//! API keys for administrators (issue 24): `/v1/ops/keys` does what `bangka
//! keys list|create|revoke|rotate` does, for the admin key's own mode, with
//! the key shown once and every change audited.

use bangka_core::mode::Mode;
use bangka_server::auth::{Role, generate_key, hash_key};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, clock_now};
use crate::on_both_backends;

/// Whether `key` authenticates: a missing account answers 404 to a working
/// key and 401 to any other. A revocation may take up to a second to reach
/// the key cache, so a refusal is waited for (never longer than that).
async fn works(app: &TestApp, key: &str, expect: bool) {
    let started = std::time::Instant::now();
    loop {
        let r = app.request_as(key, Method::GET, "/v1/accounts/acc_test_nosuchaccount0000", None).await;
        let now = r.status == 404;
        if now == expect {
            return;
        }
        assert!(r.status == 401 || r.status == 404, "{} {}", r.status, r.body);
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "the key still answers {} after a second", r.status);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn key_in(list: &Resp, id: &str) -> Value {
    list.body["data"].as_array().unwrap().iter().find(|k| k["id"] == id).cloned().unwrap_or(Value::Null)
}

async fn an_admin_manages_the_keys_of_its_mode(app: TestApp) {
    let admin = app.key_for(Role::Admin).await;
    let support = app.key_for(Role::Support).await;
    let as_admin = |m: Method, path: &str, body: Option<Value>| {
        let (app, admin, path) = (&app, &admin, path.to_owned());
        async move { app.request_as(admin, m, &path, body.as_ref()).await }
    };
    // Only an admin: support may not even list them.
    app.request_as(&support, Method::GET, "/v1/ops/keys", None).await.assert_error("FORBIDDEN");
    app.request_as(&support, Method::POST, "/v1/ops/keys", Some(&json!({ "role": "admin" }))).await.assert_error("FORBIDDEN");

    // Bad input changes nothing.
    let before = as_admin(Method::GET, "/v1/ops/keys", None).await.body["data"].as_array().unwrap().len();
    for bad in [
        json!({ "role": "holder" }),
        json!({ "role": "root" }),
        json!({ "role": "wallet", "mode": "live" }),
        json!({ "role": "wallet", "expires_in": "-1h" }),
        json!({ "role": "wallet", "expires_in": "soon" }),
        json!({ "role": "wallet", "name": "a\u{7}b" }),
        json!({ "role": "wallet", "merchant_id": "m_shop" }),
        json!({ "role": "wallet", "nmae": "typo" }),
    ] {
        as_admin(Method::POST, "/v1/ops/keys", Some(bad.clone())).await.assert_error("MALFORMED_REQUEST");
    }
    assert_eq!(as_admin(Method::GET, "/v1/ops/keys", None).await.body["data"].as_array().unwrap().len(), before);

    // Create: the key once, in the answer; a replay leaves it out.
    let body = json!({ "role": "wallet", "name": "wallet-app-1", "expires_in": "90d" });
    let idem = [("Idempotency-Key", "ops-key-create-1")];
    let made = app.request_with(&admin, Method::POST, "/v1/ops/keys", Some(&body), &idem).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let key = made.body["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("bk_test_wallet_"), "{key}");
    let id = made.body["api_key"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (made.body["api_key"]["name"].as_str(), made.body["api_key"]["mode"].as_str(), made.body["api_key"]["status"].as_str()),
        (Some("wallet-app-1"), Some("test"), Some("active"))
    );
    assert!(made.body["api_key"]["expires_at"].is_string());
    let replay = app.request_with(&admin, Method::POST, "/v1/ops/keys", Some(&body), &idem).await;
    assert_eq!(replay.body["api_key"]["id"], id.as_str(), "{}", replay.body);
    assert!(replay.body["key"].is_null() && !replay.body.to_string().contains(&key), "a replay never carries the key: {}", replay.body);
    works(&app, &key, true).await;

    // Listed with its name and last use, never the key; only this mode's.
    let live = generate_key(Role::Wallet, Mode::Live);
    let live_id = app.state.store.insert_api_key("wallet", Mode::Live, &hash_key(&live), None, clock_now(&app.clock)).await.unwrap();
    let list = as_admin(Method::GET, "/v1/ops/keys", None).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(!list.body.to_string().contains("bk_test_") && !list.body.to_string().contains(&key), "{}", list.body);
    assert_eq!(key_in(&list, &id)["role"], "wallet");
    // The last use is noted beside the request, not in its way: a moment later.
    let mut used = key_in(&list, &id)["last_used_at"].clone();
    for _ in 0..40 {
        if used.is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        used = key_in(&as_admin(Method::GET, "/v1/ops/keys", None).await, &id)["last_used_at"].clone();
    }
    assert!(used.is_string(), "the key's use was noted: {}", key_in(&list, &id));
    assert!(key_in(&list, &live_id).is_null(), "a test admin key never sees a live key");
    as_admin(Method::POST, &format!("/v1/ops/keys/{live_id}/revoke"), None).await.assert_error("NOT_FOUND");
    as_admin(Method::POST, &format!("/v1/ops/keys/{live_id}/rotate"), None).await.assert_error("NOT_FOUND");
    works(&app, &live, true).await;

    // Rotate: a new key in its place; both work during the overlap.
    let rotated = as_admin(Method::POST, &format!("/v1/ops/keys/{id}/rotate"), Some(json!({ "overlap": "1h" }))).await;
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let new_key = rotated.body["key"].as_str().unwrap().to_owned();
    let new_id = rotated.body["api_key"]["id"].as_str().unwrap().to_owned();
    assert_eq!(rotated.body["api_key"]["name"], "wallet-app-1");
    works(&app, &key, true).await;
    works(&app, &new_key, true).await;
    let list = as_admin(Method::GET, "/v1/ops/keys", None).await;
    assert_eq!(key_in(&list, &id)["replaced_by"], new_id.as_str());
    as_admin(Method::POST, &format!("/v1/ops/keys/{id}/rotate"), None).await.assert_error("API_KEY_NOT_ACTIVE");
    as_admin(Method::POST, &format!("/v1/ops/keys/{id}/rotate"), Some(json!({ "overlap": "400d" })))
        .await
        .assert_error("MALFORMED_REQUEST");
    // After the overlap only the new key works.
    app.clock.advance(time::Duration::hours(1));
    works(&app, &key, false).await;
    works(&app, &new_key, true).await;
    assert_eq!(key_in(&as_admin(Method::GET, "/v1/ops/keys", None).await, &id)["status"], "expired");

    // Revoke: refused within a second; revoking again changes nothing.
    let revoked = as_admin(Method::POST, &format!("/v1/ops/keys/{new_id}/revoke"), None).await;
    assert_eq!((revoked.status, revoked.body["status"].as_str()), (200, Some("revoked")), "{}", revoked.body);
    works(&app, &new_key, false).await;
    assert_eq!(as_admin(Method::POST, &format!("/v1/ops/keys/{new_id}/revoke"), None).await.body["status"], "revoked");
    as_admin(Method::POST, "/v1/ops/keys/key_nosuchkey/revoke", None).await.assert_error("NOT_FOUND");

    // Every change audited, by the admin's key.
    let me = app.request_as(&admin, Method::GET, "/v1/ops/me", None).await;
    assert!(me.body["duties"].as_array().unwrap().contains(&json!("manage_keys")), "{}", me.body);
    let admin_id = me.body["key_id"].as_str().unwrap();
    let trail = |subject: String| {
        let app = &app;
        async move { app.state.store.audit_entries(&subject).await.unwrap().into_iter().map(|e| (e.action, e.actor)).collect::<Vec<_>>() }
    };
    let by = |a: &str| (a.to_owned(), admin_id.to_owned());
    assert_eq!(trail(id.clone()).await, [by("api_key.create"), by("api_key.rotate")]);
    assert_eq!(trail(new_id.clone()).await, [by("api_key.create"), by("api_key.revoke")]);
}
on_both_backends!(an_admin_manages_the_keys_of_its_mode);
