//! Notifications: the holder's language, one message per channel, delivery
//! through a real webhook with retries and backoff, codes never delivered
//! late, and no body (it may hold a code) kept once a message is done.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, Options, TestApp, spawn_app_with};
use crate::on_both_backends;

async fn bodies_kept(app: &TestApp) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE body IS NOT NULL").fetch_one(app.state.store.pool()).await.unwrap();
    n
}

/// An English-speaking holder with an email: codes come by SMS only, in
/// English; notices come by SMS, push and email.
async fn notices_follow_the_holders_language_and_channels(app: TestApp) {
    let card = app.card("ok_debit").await;
    let phone = card["phone"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/v1/accounts",
            json!({ "phone_verified_by": "wallet", "phone": "13612345678", "language": "en", "email": "li.lei@example.com" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!((r.body["language"].as_str(), r.body["email_masked"].as_str()), (Some("en"), Some("l***@example.com")));
    let acc = r.body["id"].as_str().unwrap().to_owned();
    let kyc = json!({ "real_name": card["holder_name"], "id_number": card["id_number"] });
    assert_eq!(app.post(&format!("/v1/accounts/{acc}/kyc"), kyc).await.status, 200);

    let r = app.bind(&acc, &card).await;
    let code_sms = app.get(&format!("/v1/demo/inbox/{phone}")).await.body["messages"][0].clone();
    assert_eq!(code_sms["channel"], "sms");
    assert!(code_sms["body"].as_str().unwrap().starts_with("Bangka: "), "{code_sms}");
    assert!(!code_sms["body"].as_str().unwrap().contains("验证码"), "one language: the holder's");
    let otp = app.latest_otp(&phone).await;
    let bid = r.body["id"].as_str().unwrap();
    assert_eq!(app.post(&format!("/v1/accounts/{acc}/bindings/{bid}/confirm"), json!({ "otp": otp })).await.status, 200);

    let sms = app.get(&format!("/v1/demo/inbox/{phone}")).await.body["messages"][0].clone();
    let push = app.get(&format!("/v1/demo/inbox/{acc}")).await.body["messages"].clone();
    let email = app.get("/v1/demo/inbox/li.lei@example.com").await.body["messages"].clone();
    assert!(sms["body"].as_str().unwrap().contains("is now bound"), "{sms}");
    for (channel, list) in [("push", &push), ("email", &email)] {
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1, "{channel}: the notice only, never the code: {list:?}");
        assert_eq!(list[0]["channel"], channel);
        assert_eq!(list[0]["body"], sms["body"]);
    }
    assert_eq!(bodies_kept(&app).await, 0, "delivered bodies are erased from the outbox");

    // Bad settings are refused and create nothing.
    let e = app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": "13612345679", "language": "fr" })).await;
    e.assert_error("LANGUAGE_NOT_SUPPORTED");
    let e = app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": "13612345679", "email": "not an email" })).await;
    e.assert_error("EMAIL_FORMAT");
    assert_eq!(
        app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": "13612345679" })).await.status,
        201,
        "the phone was not taken by a refused request"
    );
}
on_both_backends!(notices_follow_the_holders_language_and_channels);

/// A delivery's `Bangka-Signature` header and the body bytes it signs.
type Signed = (String, Vec<u8>);

/// A wallet backend's webhook: records what it receives; fails with 503
/// while `failing` is above zero (counting down), or always when it is
/// `usize::MAX`.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, Value)>>>,
    /// Each delivery's `Bangka-Signature` header and the bytes it signs.
    signed: Arc<Mutex<Vec<Signed>>>,
    calls: Arc<AtomicUsize>,
    failing: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(&self) -> String {
        let me = self.clone();
        let handler = move |headers: HeaderMap, raw: axum::body::Bytes| {
            let me = me.clone();
            async move {
                let body: Value = serde_json::from_slice(&raw).unwrap();
                let signature = headers.get("bangka-signature").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                me.signed.lock().unwrap().push((signature, raw.to_vec()));
                me.calls.fetch_add(1, Ordering::SeqCst);
                let f = me.failing.load(Ordering::SeqCst);
                if f > 0 {
                    if f != usize::MAX {
                        me.failing.fetch_sub(1, Ordering::SeqCst);
                    }
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                me.got.lock().unwrap().push((key, body));
                StatusCode::OK
            }
        };
        let router = axum::Router::new().route("/notify", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        format!("http://{addr}/notify")
    }

    /// Waits (delivering what is due) until the webhook saw `n` calls.
    async fn until_calls(&self, app: &TestApp, n: usize) {
        for _ in 0..100 {
            if self.calls.load(Ordering::SeqCst) >= n {
                return;
            }
            bangka_server::flows::outbox::deliver_now(&app.state).await;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the webhook saw {} calls, expected {n}", self.calls.load(Ordering::SeqCst));
    }
}

/// Delivery through a real webhook: a 503 is retried after 2 s, then 4 s
/// (never earlier), with the message id as `Idempotency-Key`; a code that
/// could not be delivered before it expired is dropped, not sent late; and
/// no body stays in the outbox either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_delivery_retries_with_backoff_and_drops_expired_codes() {
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let opts = Options { notify_webhook: Some(url), ..Options::default() };
    let app = spawn_app_with(Backend::Sqlite, opts).await.unwrap();
    receiver.failing.store(2, Ordering::SeqCst);
    let r = app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": "13712345670" })).await;
    let acc = r.body["id"].as_str().unwrap().to_owned();
    let card = app.card("ok_debit").await;
    let kyc = json!({ "real_name": card["holder_name"], "id_number": card["id_number"] });
    app.post(&format!("/v1/accounts/{acc}/kyc"), kyc).await;
    assert_eq!(app.bind(&acc, &card).await.status, 202);

    receiver.until_calls(&app, 1).await; // 503
    let status = app.state.store.outbox_status(&acc).await.unwrap();
    assert_eq!((status[0].tries, status[0].last_error.as_deref()), (1, Some("webhook answered 503")));
    app.clock.advance(time::Duration::seconds(1));
    bangka_server::flows::outbox::deliver_now(&app.state).await;
    assert_eq!(receiver.calls.load(Ordering::SeqCst), 1, "not before its backoff");
    app.clock.advance(time::Duration::seconds(1));
    receiver.until_calls(&app, 2).await; // 503 again, next in 4 s
    app.clock.advance(time::Duration::seconds(4));
    receiver.until_calls(&app, 3).await; // delivered
    let got = receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (key, body) = &got[0];
    assert_eq!(body["id"].as_str(), Some(key.as_str()), "the message id is the Idempotency-Key");
    assert_eq!((body["channel"].as_str(), body["to"].as_str(), body["attempt"].as_i64()), (Some("sms"), card["phone"].as_str(), Some(3)));
    assert!(body["body"].as_str().unwrap().contains("验证码"));
    let status = app.state.store.outbox_status(&acc).await.unwrap();
    assert!(status[0].delivered && !status[0].body_kept);
    // Every delivery is signed with the secret `bangka keys webhook-secret`
    // prints; a receiver checks it as docs/webhooks.md shows.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bangka"))
        .args(["keys", "webhook-secret", "--data-dir"])
        .arg(&app.data_dir)
        .output()
        .unwrap();
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signed = receiver.signed.lock().unwrap().clone();
    assert_eq!(signed.len(), 3, "the failed attempts were signed too");
    for (header, raw) in &signed {
        assert!(bangka_store::webhook::verify(&secret, header, raw, now, 300), "{header}");
        assert!(!bangka_store::webhook::verify(&secret, header, b"{}", now, 300), "another body fails");
    }

    // The webhook goes down for good: the next code expires undelivered.
    receiver.failing.store(usize::MAX, Ordering::SeqCst);
    app.clock.advance(time::Duration::seconds(61));
    let bid = app.get(&format!("/v1/accounts/{acc}/bindings")).await.list()[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.post(&format!("/v1/accounts/{acc}/bindings/{bid}/otp/resend"), json!({})).await.status, 200);
    receiver.until_calls(&app, 4).await;
    app.clock.advance(time::Duration::minutes(5));
    bangka_server::flows::outbox::deliver_now(&app.state).await;
    let status = app.state.store.outbox_status(&acc).await.unwrap();
    assert_eq!(status[0].end_reason.as_deref(), Some("expired"), "{:?}", status[0]);
    assert!(!status[0].delivered && !status[0].body_kept);
    assert_eq!(bodies_kept(&app).await, 0);
    let calls = receiver.calls.load(Ordering::SeqCst);
    app.clock.advance(time::Duration::hours(1));
    bangka_server::flows::outbox::deliver_now(&app.state).await;
    assert_eq!(receiver.calls.load(Ordering::SeqCst), calls, "an expired code is never sent");
}

/// Issue 24: the webhook secret rotates without a restart. After `bangka
/// keys webhook-rotate` (the same function), deliveries carry a signature
/// under the new secret and one under the old, so a receiver holding
/// either accepts them; once the overlap ends, only the new one signs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_secret_rotates_with_an_overlap_and_no_restart() {
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let opts = Options { notify_webhook: Some(url), ..Options::default() };
    let app = spawn_app_with(Backend::Sqlite, opts).await.unwrap();
    let signup = |n: u32| {
        let app = &app;
        async move {
            let r = app.post("/v1/accounts", json!({ "phone": format!("1371234{n:04}") })).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
    };
    let last = || receiver.signed.lock().unwrap().last().cloned().unwrap();
    let verifies = |secret: &str, (header, raw): &(String, Vec<u8>)| {
        bangka_store::webhook::verify(secret, header, raw, time::OffsetDateTime::now_utc().unix_timestamp(), 300)
    };
    let old = app.state.webhooks.current().expose().clone();
    signup(1).await;
    receiver.until_calls(&app, 1).await;
    assert!(verifies(&old, &last()));

    let now = crate::helpers::clock_now(&app.clock);
    let new =
        bangka_server::keys::rotate_webhook_secret(&app.state.store, &app.state.vault, &app.state.webhooks, time::Duration::hours(1), now)
            .await
            .unwrap();
    let new = new.expose().clone();
    assert!(new.starts_with("whsec_") && new != old);
    signup(2).await;
    receiver.until_calls(&app, 2).await;
    let during = last();
    assert!(verifies(&new, &during) && verifies(&old, &during), "both verify during the overlap: {}", during.0);
    assert_eq!(during.0.matches("v1=").count(), 2);
    // `keys webhook-secret` prints the new one.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bangka"))
        .args(["keys", "webhook-secret", "--data-dir"])
        .arg(&app.data_dir)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), new, "{}", String::from_utf8_lossy(&out.stderr));

    // The overlap ends (the background loop reloads every two seconds; here by hand).
    app.clock.advance(time::Duration::hours(1) + time::Duration::seconds(1));
    let now = crate::helpers::clock_now(&app.clock);
    bangka_server::keys::refresh_webhook_secrets(&app.state.store, &app.state.vault, &app.state.webhooks, now).await.unwrap();
    signup(3).await;
    receiver.until_calls(&app, 3).await;
    let after = last();
    assert!(verifies(&new, &after) && !verifies(&old, &after), "only the new secret after the overlap: {}", after.0);
    let trail: Vec<String> = app.state.store.audit_entries("webhook").await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(trail, ["webhook_secret.rotate"]);
    // The sealed secrets move to a new master key with everything else.
    let report = bangka_server::keys::rotate_master(&app.state.store, &app.state.vault, false).await.unwrap();
    assert_eq!(report.removed_versions, [1], "nothing is left under the old master key");
    bangka_server::keys::refresh_webhook_secrets(&app.state.store, &app.state.vault, &app.state.webhooks, now).await.unwrap();
    assert_eq!(app.state.webhooks.current().expose(), &new);
}
