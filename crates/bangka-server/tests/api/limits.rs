//! Rate limits (issue 24): the attack pass sent 12,342 requests in 3 s on
//! one key and none was refused. Now a key, an account and a client address
//! each have a bucket; a request over one is answered `429 RATE_LIMITED`
//! in the catalog envelope with `retry_after`, `Retry-After` and the
//! `RateLimit-*` headers, and changes nothing. (Two instances sharing the
//! limits: `tests/cluster.rs`.)

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, Options, Resp, spawn_app_with};
use crate::reviews::new_phone;

fn header(r: &Resp, name: &str) -> Option<u64> {
    r.headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn a_key_over_its_limit_is_told_when_to_try_again() {
    let limits = r#"{"per_key": {"per_second": 1, "burst": 5}}"#;
    let app = spawn_app_with(Backend::Sqlite, Options { rate_limits: Some(limits.into()), ..Options::default() }).await.unwrap();
    let mut remaining = Vec::new();
    let mut refused = None;
    for _ in 0..8 {
        let r = app.get("/v1/accounts/acc_test_nosuchaccount00000000").await;
        if r.status == 429 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, 404, "{}", r.body);
        assert_eq!(header(&r, "ratelimit-limit"), Some(5));
        remaining.push(header(&r, "ratelimit-remaining").unwrap());
    }
    assert_eq!(remaining, [4, 3, 2, 1, 0], "the burst, counted down in the headers");
    let r = refused.expect("the sixth request is refused");
    let e = r.assert_error("RATE_LIMITED");
    assert_eq!((e["details"]["limit"].as_str(), e["fix_by"].as_str()), (Some("key"), Some("wallet")));
    assert!(e["retry_after"].is_string(), "{}", r.body);
    assert!(header(&r, "retry-after").is_some_and(|s| s <= 1), "{:?}", r.headers);
    assert_eq!(header(&r, "ratelimit-remaining"), Some(0));
    // A refused write changes nothing.
    let phone = new_phone();
    let w = app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": phone })).await;
    w.assert_error("RATE_LIMITED");
    // Another key has a bucket of its own; after the wait the key works again.
    let other = app.key_for(bangka_server::auth::Role::Wallet).await;
    assert_eq!(app.request_as(&other, Method::GET, "/v1/accounts/acc_test_nosuchaccount00000000", None).await.status, 404);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": phone })).await;
    assert_eq!(again.status, 201, "the refused request had not opened the account: {}", again.body);
}

#[tokio::test]
async fn an_account_and_an_address_have_limits_of_their_own() {
    let limits = r#"{"per_account": {"per_second": 1, "burst": 3}, "per_address": {"per_second": 1, "burst": 4}}"#;
    let app = spawn_app_with(Backend::Sqlite, Options { rate_limits: Some(limits.into()), ..Options::default() }).await.unwrap();
    let acc = app.verified_account().await; // two requests on the account: create (no {id}), KYC
    // Two keys, one account: the account's bucket counts both.
    let other = app.key_for(bangka_server::auth::Role::Wallet).await;
    let path = format!("/v1/accounts/{acc}");
    assert_eq!(app.get(&path).await.status, 200);
    assert_eq!(app.request_as(&other, Method::GET, &path, None).await.status, 200);
    let r = app.request_as(&other, Method::GET, &path, None).await;
    assert_eq!(r.assert_error("RATE_LIMITED")["details"]["limit"], "account");
    // Requests without a key from one address (here, the test's): the
    // address's bucket, four at once.
    let anon = reqwest::Client::new();
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(anon.get(format!("{}/v1/status", app.base)).send().await.unwrap().status().as_u16());
    }
    assert_eq!(codes, [200, 200, 200, 200, 429, 429]);
    // Keyed requests from that address are not counted there.
    assert_eq!(app.get("/v1/accounts/acc_test_nosuchaccount00000000").await.status, 404);
    // Guessing keys counts against the address too.
    let guess = anon.get(format!("{}/v1/accounts/{acc}", app.base)).bearer_auth("bk_live_wallet_guess").send().await.unwrap();
    assert_eq!(guess.status().as_u16(), 429);
}
