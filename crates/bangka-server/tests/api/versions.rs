//! Dated API versions (issue 26): a key is pinned to the version current
//! when it was made; `Bangka-Version` asks for another; every answer says
//! which version it is in. Lists changed shape at 2026-12-01 (pages); a
//! wallet on 2026-11-01 keeps reading them as it did.

use bangka_core::api_version::ApiVersion;
use bangka_server::auth::{Role, generate_key, hash_key};
use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;

async fn key_on(app: &TestApp, role: Role, v: ApiVersion) -> String {
    let key = generate_key(role, bangka_core::mode::Mode::Test);
    let hash = hash_key(&key);
    let new = bangka_store::NewApiKey {
        role: role.as_str(),
        mode: bangka_core::mode::Mode::Test,
        key_hash: &hash,
        name: None,
        merchant_id: None,
        expires_at: None,
        api_version: v,
    };
    app.state.store.create_api_key(new, bangka_store::Cause::api("test"), time::OffsetDateTime::now_utc()).await.unwrap();
    key
}

async fn pinned_keys_keep_their_answers(app: TestApp) {
    let old = key_on(&app, Role::Wallet, ApiVersion::V2026_11_01).await;
    let acc = app.verified_account().await;
    app.post(&format!("/v1/accounts/{acc}/tickets"), json!({ "note": "one" })).await;
    let path = format!("/v1/accounts/{acc}/tickets");

    // The current key: a page, and the version said.
    let now = app.get(&path).await;
    assert_eq!((now.list().len(), now.headers["bangka-version"].to_str().unwrap()), (1, "2026-12-01"));
    // The old key: the whole list as an array, as its wallet was built.
    let before = app.request_as(&old, Method::GET, &path, None).await;
    assert_eq!(before.headers["bangka-version"], "2026-11-01");
    assert_eq!(before.body.as_array().map(Vec::len), Some(1), "{}", before.body);
    // Asking for a version, either way.
    let asked = app.request_with(&old, Method::GET, &path, None, &[("bangka-version", "2026-12-01")]).await;
    assert_eq!((asked.list().len(), asked.headers["bangka-version"].to_str().unwrap()), (1, "2026-12-01"));
    let back = app.request_with(&app.key, Method::GET, &path, None, &[("bangka-version", "2026-11-01")]).await;
    assert!(back.body.is_array(), "{}", back.body);
    // The holder's app in a session the old wallet opened speaks its version.
    let opened =
        app.request_as(&old, Method::POST, &format!("/v1/accounts/{acc}/sessions"), Some(&json!({ "device_id": "dev-old-1" }))).await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    let token = opened.body["token"].as_str().unwrap().to_owned();
    let in_session = app.request_as(&token, Method::GET, &path, None).await;
    assert_eq!((in_session.body.is_array(), in_session.headers["bangka-version"].to_str().unwrap()), (true, "2026-11-01"));
    // Without a size, the old version reads up to 500 at once; more is refused.
    let r = app.request_as(&old, Method::GET, &format!("{path}?limit=501"), None).await;
    assert_eq!(r.assert_error("MALFORMED_REQUEST")["details"]["field"], "limit");
    // An operator list comes back in its old wrapper.
    let support = key_on(&app, Role::Support, ApiVersion::V2026_11_01).await;
    let queue = app.request_as(&support, Method::GET, "/v1/ops/tickets", None).await;
    assert_eq!(queue.body["tickets"].as_array().map(Vec::len), Some(1), "{}", queue.body);
    // Not a list: the same in every version.
    let account = app.request_as(&old, Method::GET, &format!("/v1/accounts/{acc}"), None).await;
    assert_eq!(account.body, app.get(&format!("/v1/accounts/{acc}")).await.body);

    // An unknown version is refused by name, before anything runs.
    let r = app
        .request_with(&app.key, Method::POST, "/v1/accounts", Some(&json!({ "phone": "13700000999" })), &[("bangka-version", "2027-01-01")])
        .await;
    let e = r.assert_error("API_VERSION_UNKNOWN");
    assert_eq!(e["details"]["known"], json!(["2026-11-01", "2026-12-01"]));
    let made = app.request_with(&app.key, Method::POST, "/v1/accounts", Some(&json!({ "phone": "13700000999" })), &[]).await;
    assert_eq!(made.status, 201, "the refused request made nothing: {}", made.body);

    // An admin makes a key for a wallet built on the older version; the list shows each key's version.
    let admin = app.key_for(Role::Admin).await;
    let made = app.request_as(&admin, Method::POST, "/v1/ops/keys", Some(&json!({ "role": "wallet", "api_version": "2026-11-01" }))).await;
    assert_eq!((made.status, made.body["api_key"]["api_version"].as_str()), (201, Some("2026-11-01")), "{}", made.body);
    let r = app.request_as(&admin, Method::POST, "/v1/ops/keys", Some(&json!({ "role": "wallet", "api_version": "latest" }))).await;
    assert_eq!(r.assert_error("MALFORMED_REQUEST")["details"]["field"], "api_version");
}
on_both_backends!(pinned_keys_keep_their_answers);
