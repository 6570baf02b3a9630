//! Nothing doubled after a crash. For each operation that makes a binding,
//! moves a card's state or moves money, a crash is injected at every point
//! of its request (see `bangka_server::failpoint`), then the same request
//! is sent again with the same `Idempotency-Key`. The retry must either
//! replay the answer or run the operation for the first time: the effects,
//! counted in the database and at the bank, are exactly one every time.
//!
//! Each case prints a row of the table in the closing note; `.ci/run` shows
//! it (`cargo test --test api crash -- --nocapture`).

use bangka_server::failpoint::Crash;
use bangka_server::idempotency::STALE_CLAIM;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Options, PAY_PASSWORD, Resp, TestApp};
use crate::on_both_backends;

/// The points of a request that writes once.
const ONE_UNIT: &[&str] = &["unit.before_commit", "unit.after_commit"];
/// The points of a payment or autopay charge (intent, bank, answer).
const AUTHORIZE: &[&str] = &["authorize.after_intent", "authorize.after_bank", "unit.before_commit", "unit.after_commit"];
/// The points of a capture or refund.
const PAYMENT_OP: &[&str] = &["op.after_intent", "op.after_bank", "unit.before_commit", "unit.after_commit"];

/// The points of an activation's confirm (intent, bank, answer).
const ACTIVATE: &[&str] = &["activate.after_intent", "activate.after_bank", "unit.before_commit", "unit.after_commit"];

fn options() -> Options {
    // The payment job would race the retry for what the crash left
    // pending; here the retry alone finishes it.
    Options { background_jobs: false, ..Options::default() }
}

async fn count(app: &TestApp, sql: &str, arg: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).bind(arg).fetch_one(app.state.store.pool()).await.unwrap();
    n
}

fn available(app: &TestApp, scenario: &str) -> i64 {
    app.state.simulator.as_ref().unwrap().available_fen(scenario).unwrap()
}

/// One row of the closing note's table.
fn row(op: &str, point: &str, retry: &Resp, effects: &str) {
    let how = if retry.headers.get("idempotent-replayed").is_some() { "replayed" } else { "ran once" };
    println!("| {op} | {point} | {} {how} | {effects} |", retry.status);
}

async fn bind_start_and_confirm(app: TestApp) {
    let card = app.card("ok_debit").await;
    let phone = card["phone"].as_str().unwrap().to_owned();
    for point in ONE_UNIT {
        let acc = app.verified_account().await;
        let path = format!("/v1/accounts/{acc}/bindings");
        let sms_before = count(&app, "SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND kind = 'code'", &phone).await;
        let (_, retry) = crash_keyed(&app, point, &path, &TestApp::bind_body(&card)).await;
        assert_eq!(retry.status, 202);
        let bindings = count(&app, "SELECT COUNT(*) FROM bindings WHERE account_id = $1", &acc).await;
        let sms = count(&app, "SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND kind = 'code'", &phone).await - sms_before;
        assert_eq!((bindings, sms), (1, 1), "bind start at {point}: one binding, one code");
        row("bind start", point, &retry, "1 binding, 1 SMS code");

        let bid = retry.body["id"].as_str().unwrap().to_owned();
        let confirm = format!("/v1/accounts/{acc}/bindings/{bid}/confirm");
        let (_, retry) = crash_keyed(&app, point, &confirm, &json!({ "otp": app.latest_otp(&phone).await })).await;
        assert_eq!(retry.body["status"], "active", "{}", retry.body);
        let tokens = count(&app, "SELECT COUNT(*) FROM tokens WHERE binding_id = $1", &bid).await;
        let receipts = count(&app, "SELECT COUNT(*) FROM receipts WHERE binding_id = $1 AND operation = 'bind'", &bid).await;
        assert_eq!((tokens, receipts), (1, 1), "confirm at {point}: one token, one receipt");
        row("bind confirm", point, &retry, "active, 1 token, 1 receipt");
    }
}
on_both_backends!(bind_start_and_confirm, super::options());

async fn unbind_confirm(app: TestApp) {
    for point in ONE_UNIT {
        let p = payer(&app, "ok_debit_ccb").await;
        let base = format!("/v1/accounts/{}/bindings/{}", p.account, p.binding);
        assert_eq!(app.post(&format!("{base}/unbind"), json!({})).await.status, 202);
        let phone = app.card("ok_debit_ccb").await["phone"].as_str().unwrap().to_owned();
        let (_, retry) = crash_keyed(&app, point, &format!("{base}/unbind/confirm"), &json!({ "otp": app.latest_otp(&phone).await })).await;
        assert_eq!(retry.body["status"], "unbinding", "{}", retry.body);
        let requests =
            count(&app, "SELECT COUNT(*) FROM unbind_requests WHERE binding_id = $1 AND status = 'cooling_off'", &p.binding).await;
        let receipts = count(&app, "SELECT COUNT(*) FROM receipts WHERE binding_id = $1 AND operation = 'unbind'", &p.binding).await;
        assert_eq!((requests, receipts), (1, 1), "unbind confirm at {point}");
        row("unbind confirm", point, &retry, "1 cooling-off request, 1 receipt");
    }
}
on_both_backends!(unbind_confirm, super::options());

async fn payment_capture_refund(app: TestApp) {
    for point in AUTHORIZE {
        let p = payer(&app, "ok_debit").await;
        let before = available(&app, "ok_debit");
        let (token, cgm) = app.cryptogram_ok(&p, 1234, "m_crash").await;
        let body = json!({ "token_number": token, "cryptogram": cgm, "amount": 1234, "currency": "CNY", "merchant_id": "m_crash" });
        let (_, retry) = crash_keyed(&app, point, "/v1/payments", &body).await;
        assert_eq!((retry.status, retry.body["status"].as_str()), (201, Some("authorized")), "{}", retry.body);
        let payments = count(&app, "SELECT COUNT(*) FROM payments WHERE binding_id = $1", &p.binding).await;
        assert_eq!((payments, before - available(&app, "ok_debit")), (1, 1234), "payment at {point}: one payment, held once");
        row("payment", point, &retry, "1 payment, 12.34 held once at the bank");
    }
    for point in PAYMENT_OP {
        let pid = paid(&app, 1000).await;
        let before = available(&app, "ok_debit");
        let (_, retry) = crash_keyed(&app, point, &format!("/v1/payments/{pid}/capture"), &json!({ "amount": 600 })).await;
        assert_eq!((retry.body["status"].as_str(), retry.body["captured"].as_i64()), (Some("captured"), Some(600)), "{}", retry.body);
        let ops = count(&app, "SELECT COUNT(*) FROM payment_ops WHERE payment_id = $1 AND kind = 'capture'", &pid).await;
        assert_eq!((ops, available(&app, "ok_debit") - before), (1, 400), "capture at {point}: one capture, the rest released once");
        row("capture", point, &retry, "1 capture op, 4.00 released once");

        let before = available(&app, "ok_debit");
        let (_, retry) = crash_keyed(&app, point, &format!("/v1/payments/{pid}/refund"), &json!({ "amount": 250 })).await;
        assert_eq!(retry.body["refunded"].as_i64(), Some(250), "{}", retry.body);
        let ops = count(&app, "SELECT COUNT(*) FROM payment_ops WHERE payment_id = $1 AND kind = 'refund'", &pid).await;
        let in_transit = count(&app, "SELECT COUNT(*) FROM settlements WHERE payment_id = $1", &pid).await;
        assert_eq!((ops, in_transit, available(&app, "ok_debit") - before), (1, 1, 250), "refund at {point}: refunded once");
        row("refund", point, &retry, "1 refund op, 2.50 returned once, 1 settlement");
    }
}
on_both_backends!(payment_capture_refund, super::options());

/// An activation's confirm crashed at every point: the retry settles it by
/// asking the card's state first, so the bank activates once and the
/// holder is told once.
async fn activation_confirm(app: TestApp) {
    let card = app.card("not_activated").await;
    let phone = card["phone"].as_str().unwrap().to_owned();
    let body =
        json!({ "card_number": card["card_number"], "holder_name": card["holder_name"], "id_number": card["id_number"], "phone": phone });
    for point in ACTIVATE {
        assert_eq!(app.post("/v1/demo/cards/not_activated/bank-state", json!({ "state": "not_activated" })).await.status, 200);
        let acc = app.verified_account().await;
        let started = app.post(&format!("/v1/accounts/{acc}/activations"), body.clone()).await;
        assert_eq!(started.status, 202, "{}", started.body);
        let aid = started.body["id"].as_str().unwrap().to_owned();
        let confirm = format!("/v1/accounts/{acc}/activations/{aid}/confirm");
        let told_before = told_activated(&app, &phone).await;
        let (_, retry) = crash_keyed(&app, point, &confirm, &json!({ "otp": app.latest_otp(&phone).await })).await;
        assert_eq!((retry.status, retry.body["status"].as_str()), (200, Some("activated")), "{point}: {}", retry.body);
        let told = told_activated(&app, &phone).await - told_before;
        let states = count(&app, "SELECT COUNT(*) FROM activations WHERE account_id = $1 AND status = 'activated'", &acc).await;
        assert_eq!((states, told), (1, 1), "activation at {point}: activated once, told once");
        app.post("/v1/demo/cards/not_activated/bank-state", json!({ "state": "normal" })).await;
        // The card the bank activated binds (it would say NOT_ACTIVATED otherwise).
        assert!(app.bind(&acc, &card).await.status < 300, "{point}");
        row("activation confirm", point, &retry, "activated once at the bank, 1 SMS");
    }
}
on_both_backends!(activation_confirm, super::options());

/// The "activated" texts `phone` received.
async fn told_activated(app: &TestApp, phone: &str) -> usize {
    let inbox = app.get(&format!("/v1/demo/inbox/{phone}")).await;
    inbox.body["messages"].as_array().unwrap().iter().filter(|m| m["body"].as_str().is_some_and(|b| b.contains("已激活，"))).count()
}

async fn mandate_charge(app: TestApp) {
    let p = app.payer("ok_debit_boc").await;
    let body = json!({ "binding_id": p.binding, "merchant_id": "m_gym", "kind": "subscription", "max_amount": 5000, "currency": "CNY", "payment_password": PAY_PASSWORD });
    let r = app.post(&format!("/v1/accounts/{}/mandates", p.account), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mid = r.body["id"].as_str().unwrap().to_owned();
    let shop = app.merchant_key("m_gym").await;
    for point in AUTHORIZE {
        let before = available(&app, "ok_debit_boc");
        let charges_before = count(&app, "SELECT COUNT(*) FROM payments WHERE mandate_id = $1", &mid).await;
        let path = format!("/v1/mandates/{mid}/charges");
        let (_, retry) = crash_as(&app, &shop, point, &path, &json!({ "amount": 1990, "currency": "CNY" })).await;
        assert_eq!((retry.status, retry.body["status"].as_str()), (201, Some("authorized")), "{}", retry.body);
        let charges = count(&app, "SELECT COUNT(*) FROM payments WHERE mandate_id = $1", &mid).await - charges_before;
        assert_eq!((charges, before - available(&app, "ok_debit_boc")), (1, 1990), "charge at {point}: charged once");
        row("mandate charge", point, &retry, "1 payment, 19.90 held once at the bank");
    }
}
on_both_backends!(mandate_charge, super::options());

/// A fresh holder with `scenario` bound: a day apart, so the risk rule on
/// one card across many accounts in a day does not hold the bind.
async fn payer(app: &TestApp, scenario: &str) -> crate::helpers::Payer {
    app.clock.advance(time::Duration::hours(25));
    app.payer(scenario).await
}

/// An authorized payment of `amount` on a fresh payer.
async fn paid(app: &TestApp, amount: i64) -> String {
    let p = payer(app, "ok_debit").await;
    let (token, cgm) = app.cryptogram_ok(&p, amount, "m_crash").await;
    let r = app.pay(&token, &cgm, amount, "m_crash").await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn crash_keyed(app: &TestApp, point: &str, path: &str, body: &Value) -> (Resp, Resp) {
    crash_as(app, &app.key, point, path, body).await
}

/// Crashes `path` at `point`, then sends it again under the same key once
/// the crashed request's claim is stale; a third send replays the retry.
/// Returns (first, retry).
async fn crash_as(app: &TestApp, key: &str, point: &str, path: &str, body: &Value) -> (Resp, Resp) {
    let idem = format!("crash-{point}-{}", rand::random::<u32>());
    app.state.failpoints.arm(point, path, Crash::Error, 1);
    let send = || async {
        let mut rb = app.client.request(Method::POST, format!("{}{path}", app.base)).bearer_auth(key).header("idempotency-key", &idem);
        rb = rb.json(body);
        let res = rb.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        Resp { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)), headers }
    };
    let first = send().await;
    assert_eq!(first.status, 500, "{point} on {path}: the crash answers nothing of the operation: {}", first.body);
    // A crash past a checkpoint leaves the claim running until it is stale.
    app.clock.advance(STALE_CLAIM + time::Duration::seconds(1));
    let retry = send().await;
    assert!(retry.status < 300, "{point} on {path}: the retry finishes the operation: {} {}", retry.status, retry.body);
    let again = send().await;
    assert_eq!((again.status, &again.body), (retry.status, &retry.body), "{point}: a further repeat replays");
    assert_eq!(again.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    app.state.failpoints.clear();
    (first, retry)
}

/// A bug that panics inside a handler is answered `INTERNAL` with the
/// envelope and the request id, not a dropped connection; what the request
/// wrote is rolled back, so the same request afterwards runs afresh.
async fn a_panicking_handler_is_answered_and_changes_nothing(app: TestApp) {
    let acc = app.verified_account().await;
    let path = format!("/v1/accounts/{acc}/bindings");
    app.state.failpoints.arm("unit.before_commit", &path, Crash::Panic, 1);
    let card = app.card("ok_debit").await;
    let r = app.bind(&acc, &card).await;
    assert_eq!(r.status, 500, "{}", r.body);
    r.assert_error("INTERNAL");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM bindings WHERE account_id = $1", &acc).await, 0, "rolled back");
    let again = app.bind(&acc, &card).await;
    assert_eq!(again.status, 202, "{}", again.body);
    // The server is still serving.
    assert_eq!(app.get(&format!("/v1/accounts/{acc}")).await.status, 200);
}
on_both_backends!(a_panicking_handler_is_answered_and_changes_nothing, super::options());
