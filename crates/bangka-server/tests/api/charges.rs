//! Money after the payment: autopay charges through the payment path,
//! holds released (void, expiry), and funds in transit to the card that an
//! unbind waits for.

use bangka_server::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use crate::helpers::{PAY_PASSWORD, Payer, TestApp};
use crate::on_both_backends;

fn available(app: &TestApp, scenario: &str) -> i64 {
    app.state.simulator.as_ref().unwrap().available_fen(scenario).unwrap()
}

async fn mandate(app: &TestApp, p: &Payer, merchant: &str, max_amount: i64) -> String {
    let body = json!({ "binding_id": p.binding, "merchant_id": merchant, "kind": "subscription", "max_amount": max_amount, "currency": "CNY", "payment_password": PAY_PASSWORD });
    let r = app.post(&format!("/v1/accounts/{}/mandates", p.account), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn charge(app: &TestApp, key: &str, mandate: &str, amount: i64) -> crate::helpers::Resp {
    app.request_as(key, Method::POST, &format!("/v1/mandates/{mandate}/charges"), Some(&json!({ "amount": amount, "currency": "CNY" })))
        .await
}

async fn inbox_text(app: &TestApp, scenario: &str) -> String {
    let phone = app.card(scenario).await["phone"].as_str().unwrap().to_owned();
    app.get(&format!("/v1/demo/inbox/{phone}")).await.body.to_string()
}

/// The agreement's merchant charges within the limit without the holder,
/// the charge is an ordinary payment (capture, refund, records), the holder
/// hears of it; any other key, amount or state is refused with its code.
async fn autopay_charges_go_through_the_payment_path(app: TestApp) {
    let p = app.payer("ok_debit").await;
    let mid = mandate(&app, &p, "m_video", 3000).await;
    let (shop, other, unbound) = (app.merchant_key("m_video").await, app.merchant_key("m_music").await, app.key_for(Role::Merchant).await);
    let before = available(&app, "ok_debit");

    let e = charge(&app, &unbound, &mid, 100).await;
    assert_eq!(e.assert_error("MERCHANT_KEY_MISMATCH")["details"]["reason"], "key_not_bound_to_merchant");
    charge(&app, &other, &mid, 100).await.assert_error("NOT_FOUND");
    charge(&app, &app.key, &mid, 100).await.assert_error("FORBIDDEN");
    let e = charge(&app, &shop, &mid, 3001).await;
    assert_eq!(e.assert_error("MANDATE_LIMIT_EXCEEDED")["details"]["max_amount"], 3000);
    let e = app
        .request_as(&shop, Method::POST, &format!("/v1/mandates/{mid}/charges"), Some(&json!({ "amount": 1.5, "currency": "CNY" })))
        .await;
    e.assert_error("AMOUNT_FORMAT");
    assert_eq!(available(&app, "ok_debit"), before, "refusals hold nothing");

    let r = charge(&app, &shop, &mid, 2500).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (r.body["status"].as_str(), r.body["mandate_id"].as_str(), r.body["merchant_id"].as_str()),
        (Some("authorized"), Some(mid.as_str()), Some("m_video"))
    );
    let pid = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(available(&app, "ok_debit"), before - 2500);
    assert!(inbox_text(&app, "ok_debit").await.contains("m_video 的自动扣款支付了 ¥25.00"), "the holder hears of every charge");
    let b = app.get(&format!("/v1/accounts/{}/bindings/{}", p.account, p.binding)).await.body;
    assert_eq!(b["token"]["atc"], 1, "the charge's cryptogram moved the token's counter");

    let cap = app.request_as(&shop, Method::POST, &format!("/v1/payments/{pid}/capture"), Some(&json!({}))).await;
    assert_eq!(cap.body["status"], "captured", "{}", cap.body);
    // Another merchant's key sees no such payment.
    app.request_as(&other, Method::GET, &format!("/v1/payments/{pid}"), None).await.assert_error("NOT_FOUND");
    let records = app.get(&format!("/v1/accounts/{}/bindings/{}/payments", p.account, p.binding)).await;
    assert_eq!(records.list()[0]["mandate_id"], mid.as_str());

    // A bound key pays only as its own merchant, even with a valid cryptogram.
    let (token, cgm) = app.cryptogram_ok(&p, 100, "m_music").await;
    let pay = json!({ "token_number": token, "cryptogram": cgm, "amount": 100, "currency": "CNY", "merchant_id": "m_music" });
    let e = app.request_as(&shop, Method::POST, "/v1/payments", Some(&pay)).await;
    assert_eq!(e.assert_error("MERCHANT_KEY_MISMATCH")["details"]["key_merchant_id"], "m_video");
    assert_eq!(app.request_as(&other, Method::POST, "/v1/payments", Some(&pay)).await.status, 201, "the cryptogram was not used up");

    // Frozen card, then a cancelled agreement: no charge.
    let base = format!("/v1/accounts/{}/bindings/{}", p.account, p.binding);
    app.post(&format!("{base}/freeze"), json!({ "reason": "holder_request" })).await;
    charge(&app, &shop, &mid, 100).await.assert_error("BINDING_FROZEN");
    app.post(&format!("/v1/accounts/{}/mandates/{mid}/cancel", p.account), json!({})).await;
    let e = charge(&app, &shop, &mid, 100).await;
    assert_eq!(e.assert_error("MANDATE_NOT_ACTIVE")["details"]["status"], "revoked");
    let trail: Vec<String> = app.state.store.audit_entries(&pid).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(trail, ["payment.create", "payment.authorized", "payment.capture"]);
    assert!(app.state.store.verify_audit().await.unwrap().problem.is_none());
}
on_both_backends!(autopay_charges_go_through_the_payment_path);

/// Concurrent charges with one Idempotency-Key make one payment.
async fn a_repeated_charge_charges_once(app: TestApp) {
    let p = app.payer("ok_debit").await;
    let mid = mandate(&app, &p, "m_video", 3000).await;
    let shop = app.merchant_key("m_video").await;
    let before = available(&app, "ok_debit");
    let path = format!("/v1/mandates/{mid}/charges");
    let body = json!({ "amount": 990, "currency": "CNY" });
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (c, url, key, body) = (app.client.clone(), format!("{}{path}", app.base), shop.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let r = c.post(url).bearer_auth(key).header("idempotency-key", "renewal-2026-11").json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        if status == 201 {
            ids.insert(body["id"].as_str().unwrap().to_owned());
        } else {
            assert_eq!(body["error"]["code"], "IDEMPOTENCY_IN_PROGRESS", "{body}");
        }
    }
    assert_eq!(ids.len(), 1, "one payment: {ids:?}");
    assert_eq!(available(&app, "ok_debit"), before - 990, "charged once");
}
on_both_backends!(a_repeated_charge_charges_once);

/// The merchant releases a hold it will not capture; a hold nobody
/// captures is released by the payment job after 7 days.
async fn void_and_expiry_release_holds(app: TestApp) {
    let p = app.payer("ok_debit").await;
    let before = available(&app, "ok_debit");
    let (token, cgm) = app.cryptogram_ok(&p, 800, "m_hotel").await;
    let pid = app.pay(&token, &cgm, 800, "m_hotel").await.body["id"].as_str().unwrap().to_owned();
    assert_eq!(available(&app, "ok_debit"), before - 800);
    let v = app.post(&format!("/v1/payments/{pid}/void"), json!({})).await;
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.body["status"], "voided");
    let ops: Vec<(&str, &str)> =
        v.body["operations"].as_array().unwrap().iter().map(|o| (o["kind"].as_str().unwrap(), o["status"].as_str().unwrap())).collect();
    assert_eq!(ops, [("authorize", "done"), ("void", "done")]);
    assert_eq!(available(&app, "ok_debit"), before);
    let e = app.post(&format!("/v1/payments/{pid}/void"), json!({})).await;
    assert_eq!(e.assert_error("PAYMENT_STATE_CONFLICT")["details"]["status"], "voided");
    app.post(&format!("/v1/payments/{pid}/capture"), json!({})).await.assert_error("PAYMENT_STATE_CONFLICT");
    let other = app.key_for(Role::Merchant).await;
    app.request_as(&other, Method::POST, &format!("/v1/payments/{pid}/void"), None).await.assert_error("NOT_FOUND");

    let (token, cgm) = app.cryptogram_ok(&p, 600, "m_hotel").await;
    let held = app.pay(&token, &cgm, 600, "m_hotel").await.body["id"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::days(6));
    bangka_server::flows::payments::recover(&app.state).await.unwrap();
    assert_eq!(app.get(&format!("/v1/payments/{held}")).await.body["status"], "authorized", "six days: still held");
    app.clock.advance(Duration::days(1));
    bangka_server::flows::payments::recover(&app.state).await.unwrap();
    assert_eq!(app.get(&format!("/v1/payments/{held}")).await.body["status"], "voided");
    assert_eq!(available(&app, "ok_debit"), before);
    let trail = app.state.store.audit_entries(&held).await.unwrap();
    let last = trail.last().unwrap();
    assert_eq!((last.action.as_str(), last.actor.as_str()), ("payment.void", "system"));
}
on_both_backends!(void_and_expiry_release_holds);

/// A confirmed refund and a reported withdrawal are money on the way to the
/// card: the unbind lists each with its expected date, the settle job
/// marks them arrived (once, on two instances), and then the unbind goes.
async fn funds_in_transit_block_unbind_until_they_settle(app: TestApp) {
    let p = app.payer("ok_debit").await;
    let base = format!("/v1/accounts/{}/bindings/{}", p.account, p.binding);
    let (token, cgm) = app.cryptogram_ok(&p, 1000, "m_shoes").await;
    let pid = app.pay(&token, &cgm, 1000, "m_shoes").await.body["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/payments/{pid}/capture"), json!({})).await;
    assert_eq!(app.post(&format!("/v1/payments/{pid}/refund"), json!({ "amount": 400 })).await.status, 200);

    let now = bangka_core::clock::Clock::now(&*app.clock);
    let at = |d: Duration| bangka_store::rfc3339(now + d);
    let report = format!("{base}/settlements");
    let list = format!("/v1/accounts/{}/settlements", p.account);
    for (body, code) in [
        (json!({ "amount": 5000, "currency": "CNY", "expected_at": at(Duration::hours(-1)) }), "MALFORMED_REQUEST"),
        (json!({ "amount": 5000, "currency": "CNY", "expected_at": at(Duration::days(31)) }), "MALFORMED_REQUEST"),
        (json!({ "amount": 5000, "currency": "CNY", "expected_at": "tomorrow" }), "MALFORMED_REQUEST"),
        (json!({ "amount": 0, "currency": "CNY", "expected_at": at(Duration::hours(2)) }), "AMOUNT_OUT_OF_RANGE"),
    ] {
        app.post(&report, body).await.assert_error(code);
    }
    assert_eq!(app.get(&list).await.list().len(), 1, "bad reports record nothing");
    let w = app.post(&report, json!({ "amount": 5000, "currency": "CNY", "expected_at": at(Duration::hours(2)) })).await;
    assert_eq!((w.status, w.body["kind"].as_str(), w.body["status"].as_str()), (201, Some("withdrawal"), Some("in_transit")), "{}", w.body);

    let e = app.post(&format!("{base}/unbind"), json!({})).await;
    let blockers = e.assert_error("UNBIND_BLOCKED")["details"]["blockers"].as_array().unwrap().clone();
    let found: Vec<(&str, &str, i64)> = blockers
        .iter()
        .map(|b| (b["type"].as_str().unwrap(), b["kind"].as_str().unwrap(), b["amount"]["minor"].as_i64().unwrap()))
        .collect();
    assert_eq!(found, [("funds_in_transit", "withdrawal", 5000), ("funds_in_transit", "refund", 400)], "soonest first");
    assert_eq!(blockers[0]["expected_at"], at(Duration::hours(2)).as_str());
    assert_eq!(blockers[1]["expected_at"], at(Duration::hours(72)).as_str(), "a refund arrives after --refund-settles-after");
    assert_eq!(blockers[1]["payment_id"], pid.as_str());

    app.clock.advance(Duration::hours(2));
    assert_eq!(bangka_server::flows::settlements::settle_due(&app.state).await.unwrap(), 1);
    let e = app.post(&format!("{base}/unbind"), json!({})).await;
    assert_eq!(e.assert_error("UNBIND_BLOCKED")["details"]["blockers"].as_array().unwrap().len(), 1);
    assert!(inbox_text(&app, "ok_debit").await.contains("提现 ¥50.00 已到账"));

    app.clock.advance(Duration::hours(70));
    let (a, b) =
        tokio::join!(bangka_server::flows::settlements::settle_due(&app.state), bangka_server::flows::settlements::settle_due(&app.state));
    assert_eq!(a.unwrap() + b.unwrap(), 1, "settled once across two job runs");
    let all = app.get(&list).await.body;
    assert!(all["data"].as_array().unwrap().iter().all(|s| s["status"] == "settled" && s["settled_at"].is_string()), "{all}");
    assert_eq!(app.post(&format!("{base}/unbind"), json!({})).await.status, 202);
    let sid = w.body["id"].as_str().unwrap();
    let trail: Vec<String> = app.state.store.audit_entries(sid).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(trail, ["settlement.create", "settlement.settle"]);
}
on_both_backends!(funds_in_transit_block_unbind_until_they_settle);
