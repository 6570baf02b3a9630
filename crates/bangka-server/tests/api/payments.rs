//! Paying with a bound card: cryptograms, payments, capture and refund, and
//! every refusal with its own code.

use bangka_core::card::luhn_check_digit;
use bangka_server::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use crate::helpers::{PAY_PASSWORD, Payer, TestApp};
use crate::on_both_backends;

const M: &str = "m_coffee";

fn available(app: &TestApp, scenario: &str) -> i64 {
    app.state.simulator.as_ref().unwrap().available_fen(scenario).unwrap()
}

async fn token_atc(app: &TestApp, p: &Payer) -> i64 {
    let b = app.get(&format!("/v1/accounts/{}/bindings/{}", p.account, p.binding)).await;
    b.body["token"]["atc"].as_i64().unwrap()
}

async fn bank_state(app: &TestApp, scenario: &str, state: &str, answering: bool) {
    let r = app.post(&format!("/v1/demo/cards/{scenario}/bank-state"), json!({ "state": state, "answering": answering })).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The acceptance walk: bind `ok_debit`, set a payment password, get a
/// cryptogram, pay 12.34 CNY, capture, refund; replaying the cryptogram has
/// its own code; the holder sees the payment in the card's records.
async fn pay_capture_refund(app: TestApp) {
    let p = app.payer("ok_debit").await;
    let before = available(&app, "ok_debit");
    let r = app.cryptogram(&p, 1234, M).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body["token_number"].as_str().unwrap().to_owned();
    let cgm = r.body["cryptogram"].as_str().unwrap().to_owned();
    assert!(token.starts_with("990001") && token.len() == 16, "{token}");
    assert!(cgm.len() == 16 && cgm.bytes().all(|b| b.is_ascii_hexdigit()), "{cgm}");
    assert!(r.body["expires_at"].is_string());
    assert_eq!(r.body["atc"], 1);
    assert_eq!(token_atc(&app, &p).await, 1);

    let paid = app.pay(&token, &cgm, 1234, M).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(paid.body["status"], "authorized");
    let pid = paid.body["id"].as_str().unwrap().to_owned();
    assert_eq!(available(&app, "ok_debit"), before - 1234);

    app.pay(&token, &cgm, 1234, M).await.assert_error("CRYPTOGRAM_REPLAYED");

    let cap = app.post(&format!("/v1/payments/{pid}/capture"), json!({ "amount": 1234 })).await;
    assert_eq!(cap.status, 200, "{}", cap.body);
    assert_eq!(cap.body["status"], "captured");
    assert_eq!(cap.body["captured"], 1234);
    app.post(&format!("/v1/payments/{pid}/capture"), json!({})).await.assert_error("PAYMENT_STATE_CONFLICT");

    let r = app.post(&format!("/v1/payments/{pid}/refund"), json!({ "amount": 234 })).await;
    assert_eq!(r.body["status"], "partially_refunded", "{}", r.body);
    let e = app.post(&format!("/v1/payments/{pid}/refund"), json!({ "amount": 1001 })).await;
    assert_eq!(e.assert_error("AMOUNT_EXCEEDS_REMAINING")["details"]["remaining"], 1000);
    let r = app.post(&format!("/v1/payments/{pid}/refund"), json!({ "amount": 1000 })).await;
    assert_eq!(r.body["status"], "refunded", "{}", r.body);
    assert_eq!(r.body["refunded"], 1234);
    assert_eq!(available(&app, "ok_debit"), before);
    app.post(&format!("/v1/payments/{pid}/refund"), json!({ "amount": 1 })).await.assert_error("PAYMENT_STATE_CONFLICT");
    let ops: Vec<&str> = r.body["operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(ops, ["done", "done", "done", "done"]);
    let trail: Vec<String> = app.state.store.audit_entries(&pid).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(trail, ["payment.create", "payment.authorized", "payment.capture", "payment.refund", "payment.refund"]);

    let list = app.get(&format!("/v1/accounts/{}/bindings/{}/payments", p.account, p.binding)).await;
    let list = list.list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], pid.as_str());
    assert_eq!(list[0]["amount"], json!({ "minor": 1234, "currency": "CNY" }));
    assert_eq!(list[0]["card"]["last4"].as_str().unwrap().len(), 4);
    assert!(list[0].get("issuer_reason").is_none());
}
on_both_backends!(pay_capture_refund);

/// Partial capture releases the rest of the hold; a credit card pays
/// against its credit limit.
async fn partial_capture_and_credit_limit(app: TestApp) {
    let p = app.payer("ok_credit").await;
    let (token, cgm) = app.cryptogram_ok(&p, 10_000, M).await;
    let before = available(&app, "ok_credit");
    let pid = app.pay(&token, &cgm, 10_000, M).await.body["id"].as_str().unwrap().to_owned();
    let r = app.post(&format!("/v1/payments/{pid}/capture"), json!({ "amount": 6_000 })).await;
    assert_eq!((r.body["status"].as_str(), r.body["captured"].as_i64()), (Some("captured"), Some(6_000)), "{}", r.body);
    assert_eq!(available(&app, "ok_credit"), before - 6_000);
    let e = app.post(&format!("/v1/payments/{pid}/refund"), json!({ "amount": 6_001 })).await;
    e.assert_error("AMOUNT_EXCEEDS_REMAINING");

    let low = app.payer("credit_limit_low").await;
    let (token, cgm) = app.cryptogram_ok(&low, 5_001, M).await;
    let e = app.pay(&token, &cgm, 5_001, M).await;
    assert!(e.assert_error("INSUFFICIENT_FUNDS")["details"]["payment_id"].is_string());
    let (token, cgm) = app.cryptogram_ok(&low, 5_000, M).await;
    assert_eq!(app.pay(&token, &cgm, 5_000, M).await.status, 201);
    // Capturing more than was authorized is refused.
    let (token, cgm) = app.cryptogram_ok(&p, 100, M).await;
    let pid = app.pay(&token, &cgm, 100, M).await.body["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/payments/{pid}/capture"), json!({ "amount": 101 })).await.assert_error("AMOUNT_EXCEEDS_REMAINING");
}
on_both_backends!(partial_capture_and_credit_limit);

/// Each refusal has its own code; none of them is "binding invalid".
async fn every_refusal_has_its_own_code(app: TestApp) {
    let p = app.payer("ok_debit").await;

    // Wrong amount or merchant: the cryptogram covers both, and says which.
    let (token, cgm) = app.cryptogram_ok(&p, 500, M).await;
    let e = app.pay(&token, &cgm, 501, M).await;
    assert_eq!(e.assert_error("CRYPTOGRAM_MISMATCH")["details"]["fields"], json!(["amount"]));
    let e = app.pay(&token, &cgm, 500, "m_other").await;
    assert_eq!(e.assert_error("CRYPTOGRAM_MISMATCH")["details"]["fields"], json!(["merchant_id"]));
    // A mismatch does not use the cryptogram up.
    assert_eq!(app.pay(&token, &cgm, 500, M).await.status, 201);

    // Not issued for this token.
    app.pay(&token, "0123456789abcdef", 500, M).await.assert_error("CRYPTOGRAM_INVALID");
    let payload = "990001000000000";
    let unknown = format!("{payload}{}", luhn_check_digit(payload));
    app.pay(&unknown, &cgm, 500, M).await.assert_error("TOKEN_NOT_FOUND");

    // Expired.
    let (token, cgm) = app.cryptogram_ok(&p, 500, M).await;
    app.clock.advance(Duration::minutes(6));
    app.pay(&token, &cgm, 500, M).await.assert_error("CRYPTOGRAM_EXPIRED");

    // Suspended by the holder: says so, and the holder can resume.
    let (token, cgm) = app.cryptogram_ok(&p, 500, M).await;
    let tok = format!("/v1/accounts/{}/bindings/{}/token", p.account, p.binding);
    let r = app.post(&format!("{tok}/suspend"), json!({})).await;
    assert_eq!(r.body["token"]["status"], "suspended", "{}", r.body);
    let e = app.pay(&token, &cgm, 500, M).await;
    assert_eq!(e.assert_error("TOKEN_SUSPENDED")["details"], json!({ "suspended_by": "holder", "reason": "holder_request" }));
    app.cryptogram(&p, 500, M).await.assert_error("TOKEN_SUSPENDED");
    app.post(&format!("{tok}/suspend"), json!({})).await.assert_error("TOKEN_STATE_CONFLICT");
    assert_eq!(app.post(&format!("{tok}/resume"), json!({})).await.body["token"]["status"], "active");
    app.post(&format!("{tok}/resume"), json!({})).await.assert_error("TOKEN_STATE_CONFLICT");
    assert_eq!(app.pay(&token, &cgm, 500, M).await.status, 201);

    // Suspended by the issuer (through ops): the payer learns who, not why,
    // and only the issuer can lift it.
    let admin = app.key_for(Role::Admin).await;
    let ops = |action: &str, body: Value| {
        let path = format!("/v1/ops/tokens/{token}/{action}");
        let admin = admin.clone();
        let app = &app;
        async move { app.request_as(&admin, Method::POST, &path, Some(&body)).await }
    };
    let (_, before_suspension) = app.cryptogram_ok(&p, 500, M).await;
    let r = ops("suspend", json!({ "on_behalf_of": "issuer", "reason": "stolen", "note": "bank reports the card stolen" })).await;
    assert_eq!(r.body["suspended_by"], "issuer", "{}", r.body);
    let e = app.pay(&token, &before_suspension, 500, M).await;
    assert_eq!(e.assert_error("TOKEN_SUSPENDED")["details"], json!({ "suspended_by": "issuer" }));
    let e = app.cryptogram(&p, 500, M).await;
    assert_eq!(e.assert_error("TOKEN_SUSPENDED")["details"], json!({ "suspended_by": "issuer" }));
    app.post(&format!("{tok}/resume"), json!({})).await.assert_error("TOKEN_RESUME_NOT_ALLOWED");
    let wrong_party = ops("resume", json!({ "on_behalf_of": "risk", "note": "risk cannot lift the bank's decision" })).await;
    wrong_party.assert_error("TOKEN_RESUME_NOT_ALLOWED");
    let r = ops("resume", json!({ "on_behalf_of": "issuer", "note": "card found by the holder" })).await;
    assert_eq!(r.body["status"], "active", "{}", r.body);
    // Every change is in the audit log, with its before and after state.
    let audit = app.state.store.audit_entries(&token_id(&app, &token).await).await.unwrap();
    let trail: Vec<(&str, &str)> = audit.iter().map(|e| (e.action.as_str(), e.after.as_deref().unwrap())).collect();
    assert_eq!(
        trail,
        [
            ("token.suspend", "suspended by holder (holder_request)"),
            ("token.resume", "active"),
            ("token.suspend", "suspended by issuer (stolen)"),
            ("token.resume", "active"),
        ]
    );
    assert_eq!(audit[2].reason.as_deref(), Some("bank reports the card stolen"));
    assert!(app.state.store.verify_audit().await.unwrap().problem.is_none());

    // Another wallet cannot use this wallet's token.
    let other_wallet = app.key_for(Role::Wallet).await;
    let path = format!("/v1/accounts/{}/bindings/{}/cryptograms", p.account, p.binding);
    let body = json!({ "amount": 500, "currency": "CNY", "merchant_id": M, "payment_password": PAY_PASSWORD });
    app.request_as(&other_wallet, Method::POST, &path, Some(&body)).await.assert_error("TOKEN_DOMAIN_MISMATCH");

    // Not enough money.
    let low = app.payer("low_balance").await;
    let (lt, lc) = app.cryptogram_ok(&low, 101, M).await;
    app.pay(&lt, &lc, 101, M).await.assert_error("INSUFFICIENT_FUNDS");

    // The bank reports the card lost after it was bound: the payer is told
    // only that the bank declined; operators see why.
    let lost = app.payer("ok_debit_ccb").await;
    let (t, c) = app.cryptogram_ok(&lost, 300, M).await;
    bank_state(&app, "ok_debit_ccb", "lost", true).await;
    let e = app.pay(&t, &c, 300, M).await;
    let err = e.assert_error("ISSUER_DECLINED");
    assert!(!e.body.to_string().contains("LOST"), "{}", e.body);
    let pid = err["details"]["payment_id"].as_str().unwrap().to_owned();
    let holder_view = app.get(&format!("/v1/accounts/{}/bindings/{}/payments", lost.account, lost.binding)).await;
    assert_eq!(holder_view.list()[0]["reason"]["code"], "ISSUER_DECLINED");
    assert!(!holder_view.body.to_string().contains("CARD_REPORTED_LOST"));
    let support = app.key_for(Role::Support).await;
    let ops_view = app.request_as(&support, Method::GET, &format!("/v1/ops/payments/{pid}"), None).await;
    assert_eq!(ops_view.body["issuer_reason"]["code"], "CARD_REPORTED_LOST", "{}", ops_view.body);
    assert_eq!(ops_view.body["status"], "declined");

    // The bank does not answer: retry time given, the cryptogram stays usable.
    bank_state(&app, "ok_debit_ccb", "normal", false).await;
    let (t, c) = app.cryptogram_ok(&lost, 300, M).await;
    let e = app.pay(&t, &c, 300, M).await;
    assert!(e.assert_error("ISSUER_UNAVAILABLE")["retry_after"].is_string());
    bank_state(&app, "ok_debit_ccb", "normal", true).await;
    assert_eq!(app.pay(&t, &c, 300, M).await.status, 201);

    // A frozen binding (see lifecycle.rs for freeze itself) and a deleted
    // token (the unbind flow of issue 5 deletes tokens; here the row is set
    // directly).
    let (t, c) = app.cryptogram_ok(&p, 200, M).await;
    let frozen =
        app.post(&format!("/v1/accounts/{}/bindings/{}/freeze", p.account, p.binding), json!({ "reason": "holder_request" })).await;
    assert_eq!(frozen.body["status"], "frozen", "{}", frozen.body);
    app.pay(&t, &c, 200, M).await.assert_error("BINDING_FROZEN");
    app.cryptogram(&p, 200, M).await.assert_error("BINDING_FROZEN");
    sqlx::query("UPDATE bindings SET status = 'active' WHERE id = $1").bind(&p.binding).execute(app.state.store.pool()).await.unwrap();
    sqlx::query("UPDATE tokens SET status = 'deleted', reason = 'unbound' WHERE number = $1")
        .bind(&t)
        .execute(app.state.store.pool())
        .await
        .unwrap();
    app.pay(&t, &c, 200, M).await.assert_error("TOKEN_DELETED");
    app.post(&format!("{tok}/resume"), json!({})).await.assert_error("TOKEN_DELETED");
}
on_both_backends!(every_refusal_has_its_own_code);

async fn token_id(app: &TestApp, number: &str) -> String {
    app.state.store.token_by_number(number).await.unwrap().unwrap().id
}

/// Bad input: a clear 4xx, nothing written, the ATC unchanged.
async fn bad_input_changes_nothing(app: TestApp) {
    let acc = app.verified_account().await;
    let b = app.bind_confirmed(&acc, "ok_debit").await;
    let p = Payer { account: acc.clone(), binding: b["id"].as_str().unwrap().to_owned() };
    let path = format!("/v1/accounts/{acc}/bindings/{}/cryptograms", p.binding);
    let with = |f: &str, v: Value| {
        let mut body = json!({ "amount": 1234, "currency": "CNY", "merchant_id": M, "payment_password": PAY_PASSWORD });
        if v.is_null() {
            body.as_object_mut().unwrap().remove(f);
        } else {
            body[f] = v;
        }
        body
    };
    // No password set yet.
    app.post(&path, with("amount", json!(1234))).await.assert_error("PAYMENT_PASSWORD_NOT_SET");
    app.set_payment_password(&acc).await;
    for (body, code) in [
        (with("amount", json!(12.34)), "AMOUNT_FORMAT"),
        (with("amount", json!(1234.0)), "AMOUNT_FORMAT"),
        (with("amount", json!("1234")), "AMOUNT_FORMAT"),
        (with("amount", json!(0)), "AMOUNT_OUT_OF_RANGE"),
        (with("amount", json!(-5)), "AMOUNT_OUT_OF_RANGE"),
        (with("amount", json!(10_000_001)), "AMOUNT_OUT_OF_RANGE"),
        (with("currency", json!("USD")), "CURRENCY_NOT_SUPPORTED"),
        (with("currency", json!("cny")), "CURRENCY_NOT_SUPPORTED"),
        (with("merchant_id", json!("shop with spaces")), "MERCHANT_ID_FORMAT"),
        (with("payment_password", Value::Null), "PAYMENT_VERIFICATION_REQUIRED"),
        (with("otp", json!("123456")), "PAYMENT_VERIFICATION_REQUIRED"),
        (with("payment_password", json!("12345")), "PAYMENT_PASSWORD_FORMAT"),
        (with("payment_password", json!("111111")), "PAYMENT_PASSWORD_INCORRECT"),
        (with("amount", Value::Null), "MALFORMED_REQUEST"),
    ] {
        app.post(&path, body.clone()).await.assert_error(code);
    }
    // An SMS code when none was asked for.
    let mut otp_only = with("payment_password", Value::Null);
    otp_only["otp"] = json!("123456");
    let e = app.post(&path, otp_only).await;
    assert_eq!(e.assert_error("PAYMENT_VERIFICATION_REQUIRED")["details"]["reason"], "no_code_requested");
    assert_eq!(token_atc(&app, &p).await, 0, "no cryptogram was issued");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cryptograms").fetch_one(app.state.store.pool()).await.unwrap();
    assert_eq!(n, 0);

    let (token, cgm) = app.cryptogram_ok(&p, 1234, M).await;
    let pay =
        |f: &str, v: Value| json!({ "token_number": token, "cryptogram": cgm, "amount": 1234, "currency": "CNY", "merchant_id": M, f: v });
    let card = app.card("ok_debit").await;
    for (body, code) in [
        (pay("token_number", json!("99000112345")), "TOKEN_NUMBER_FORMAT"),
        (pay("token_number", card["card_number"].clone()), "TOKEN_NUMBER_FORMAT"),
        (pay("token_number", json!(1234)), "MALFORMED_REQUEST"),
        (pay("cryptogram", json!("xyz")), "CRYPTOGRAM_FORMAT"),
        (pay("cryptogram", json!("0123456789abcdeZ")), "CRYPTOGRAM_FORMAT"),
        (pay("amount", json!(12.34)), "AMOUNT_FORMAT"),
        (pay("amount", json!(-1234)), "AMOUNT_OUT_OF_RANGE"),
        (pay("currency", json!("EUR")), "CURRENCY_NOT_SUPPORTED"),
        (pay("merchant_id", json!("")), "MERCHANT_ID_FORMAT"),
    ] {
        app.post("/v1/payments", body).await.assert_error(code);
    }
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payments").fetch_one(app.state.store.pool()).await.unwrap();
    assert_eq!(n, 0, "no payment recorded");
    assert_eq!(token_atc(&app, &p).await, 1);
    // The cryptogram is still good after all of that.
    let pid = app.pay(&token, &cgm, 1234, M).await.body["id"].as_str().unwrap().to_owned();
    let cap = format!("/v1/payments/{pid}/capture");
    app.post(&cap, json!({ "amount": 12.5 })).await.assert_error("AMOUNT_FORMAT");
    app.post(&cap, json!({ "amount": 0 })).await.assert_error("AMOUNT_OUT_OF_RANGE");
    app.post(&format!("/v1/payments/{pid}/refund"), json!({})).await.assert_error("MALFORMED_REQUEST");
    // A payment is visible only to the caller that made it.
    let merchant = app.key_for(Role::Merchant).await;
    app.request_as(&merchant, Method::GET, &format!("/v1/payments/{pid}"), None).await.assert_error("NOT_FOUND");
    app.request_as(&merchant, Method::POST, &cap, Some(&json!({}))).await.assert_error("NOT_FOUND");
    assert_eq!(app.get(&format!("/v1/payments/{pid}")).await.body["status"], "authorized");
}
on_both_backends!(bad_input_changes_nothing);

/// Confirming with an SMS code: the code names the amount and merchant and
/// confirms exactly that payment, once.
async fn sms_code_confirms_one_payment(app: TestApp) {
    let p = app.payer("ok_debit_abc").await;
    let card = app.card("ok_debit_abc").await;
    let base = format!("/v1/accounts/{}/bindings/{}/cryptograms", p.account, p.binding);
    let terms = json!({ "amount": 1234, "currency": "CNY", "merchant_id": M });
    let r = app.post(&format!("{base}/otp"), terms.clone()).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["next_action"]["type"], "otp");
    app.post(&format!("{base}/otp"), terms.clone()).await.assert_error("OTP_RESEND_COOLDOWN");
    let inbox = app.get(&format!("/v1/demo/inbox/{}", card["phone"].as_str().unwrap())).await;
    let sms = inbox.body["messages"][0]["body"].as_str().unwrap().to_owned();
    assert!(sms.contains("¥12.34") && !sms.contains("CNY") && sms.contains(M), "{sms}");
    let otp = app.latest_otp(card["phone"].as_str().unwrap()).await;

    let mut other = terms.clone();
    other["amount"] = json!(99_999);
    other["otp"] = json!(otp);
    let e = app.post(&base, other).await;
    assert_eq!(e.assert_error("PAYMENT_VERIFICATION_REQUIRED")["details"]["reason"], "code_for_other_terms");
    let mut wrong = terms.clone();
    wrong["otp"] = json!(if otp == "000000" { "111111" } else { "000000" });
    app.post(&base, wrong).await.assert_error("OTP_INCORRECT");
    let mut right = terms.clone();
    right["otp"] = json!(otp);
    let r = app.post(&base, right.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let e = app.post(&base, right).await;
    assert_eq!(e.assert_error("PAYMENT_VERIFICATION_REQUIRED")["details"]["reason"], "code_already_used");
    let paid = app.pay(r.body["token_number"].as_str().unwrap(), r.body["cryptogram"].as_str().unwrap(), 1234, M).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
}
on_both_backends!(sms_code_confirms_one_payment);

/// Twenty concurrent presentations of one cryptogram make one payment; ten
/// concurrent refunds never return more than was captured.
async fn concurrent_duplicates_make_one_effect(app: TestApp) {
    let p = app.payer("ok_debit_boc").await;
    let before = available(&app, "ok_debit_boc");
    let (token, cgm) = app.cryptogram_ok(&p, 1234, M).await;
    let body = json!({ "token_number": token, "cryptogram": cgm, "amount": 1234, "currency": "CNY", "merchant_id": M });
    let answers = app.post_concurrently("/v1/payments", &body, 20).await;
    let ok: Vec<&Value> = answers.iter().filter(|r| r.status == 201).map(|r| &r.body).collect();
    assert_eq!(ok.len(), 1, "{answers:?}");
    for r in answers.iter().filter(|r| r.status != 201) {
        r.assert_error("CRYPTOGRAM_REPLAYED");
    }
    assert_eq!(available(&app, "ok_debit_boc"), before - 1234);
    let pid = ok[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.post(&format!("/v1/payments/{pid}/capture"), json!({})).await.status, 200);
    let answers = app.post_concurrently(&format!("/v1/payments/{pid}/refund"), &json!({ "amount": 500 }), 10).await;
    assert_eq!(answers.iter().filter(|r| r.status == 200).count(), 2, "{answers:?}");
    for r in answers.iter().filter(|r| r.status != 200) {
        r.assert_error("AMOUNT_EXCEEDS_REMAINING");
    }
    let p = app.get(&format!("/v1/payments/{pid}")).await;
    assert_eq!((p.body["refunded"].as_i64(), p.body["status"].as_str()), (Some(1000), Some("partially_refunded")));
    assert_eq!(available(&app, "ok_debit_boc"), before - 234);
}
on_both_backends!(concurrent_duplicates_make_one_effect);

/// A capture the bank did not confirm, and an authorization whose request
/// crashed, are finished by the payment job.
async fn payment_job_finishes_what_requests_left(app: TestApp) {
    let p = app.payer("ok_prepaid").await;
    let before = available(&app, "ok_prepaid");
    let (token, cgm) = app.cryptogram_ok(&p, 700, M).await;
    let pid = app.pay(&token, &cgm, 700, M).await.body["id"].as_str().unwrap().to_owned();
    bank_state(&app, "ok_prepaid", "normal", false).await;
    let r = app.post(&format!("/v1/payments/{pid}/capture"), json!({ "amount": 500 })).await;
    assert_eq!(r.body["status"], "captured", "{}", r.body);
    assert_eq!(r.body["operations"][1]["status"], "pending");
    assert_eq!(bangka_server::flows::payments::recover(&app.state).await.unwrap(), 0, "not stale yet");
    app.clock.advance(Duration::seconds(31));
    assert_eq!(bangka_server::flows::payments::recover(&app.state).await.unwrap(), 0, "bank still down");
    bank_state(&app, "ok_prepaid", "normal", true).await;
    app.clock.advance(Duration::seconds(31));
    assert_eq!(bangka_server::flows::payments::recover(&app.state).await.unwrap(), 1);
    let r = app.get(&format!("/v1/payments/{pid}")).await;
    assert_eq!(r.body["operations"][1]["status"], "done", "{}", r.body);
    assert_eq!(available(&app, "ok_prepaid"), before - 500);

    // A request that crashed after recording the payment but before the
    // issuer's answer was stored: the job reverses it and frees the cryptogram.
    let (token, cgm) = app.cryptogram_ok(&p, 300, M).await;
    let t = app.state.store.token_by_number(&token).await.unwrap().unwrap();
    let c = app.state.store.find_cryptogram(&app.state.vault, &t.id, &cgm).await.unwrap().unwrap();
    let now = bangka_core::clock::Clock::now(&*app.clock);
    let crashed = bangka_store::PaymentRow {
        id: "pay_crashed".into(),
        account_id: p.account.clone(),
        binding_id: p.binding.clone(),
        token_id: t.id.clone(),
        cryptogram_id: c.id.clone(),
        mandate_id: None,
        created_by: "someone".into(),
        merchant_id: M.into(),
        currency: "CNY".into(),
        amount: 300,
        captured: 0,
        refunded: 0,
        status: bangka_core::payment::PaymentStatus::Pending,
        decline_code: None,
        shown_code: None,
        issuer_code: None,
        created_at: now,
        updated_at: now,
    };
    assert!(app.state.store.begin_payment(&crashed, "op_crashed", bangka_store::Cause::api("someone")).await.unwrap());
    app.pay(&token, &cgm, 300, M).await.assert_error("CRYPTOGRAM_REPLAYED");
    // The bank has not seen it, but its order may still arrive (issue 24):
    // pending until the bank's window has passed, then failed.
    app.clock.advance(Duration::seconds(31));
    assert_eq!(bangka_server::flows::payments::recover(&app.state).await.unwrap(), 0);
    assert_eq!(app.state.store.get_payment("pay_crashed").await.unwrap().unwrap().status.as_str(), "pending");
    app.clock.advance(bangka_server::flows::payments::ORDER_MAY_ARRIVE_FOR);
    assert_eq!(bangka_server::flows::payments::recover(&app.state).await.unwrap(), 1);
    assert_eq!(app.state.store.get_payment("pay_crashed").await.unwrap().unwrap().status.as_str(), "failed");
    // Its cryptogram is free again (no longer "replayed"), but by now past its five minutes.
    app.pay(&token, &cgm, 300, M).await.assert_error("CRYPTOGRAM_EXPIRED");
    let (token, cgm) = app.cryptogram_ok(&p, 300, M).await;
    let r = app.pay(&token, &cgm, 300, M).await;
    assert_eq!(r.status, 201, "{}", r.body);
}
on_both_backends!(payment_job_finishes_what_requests_left);

/// Detokenization: admin only, a reason required, audited before the number
/// is returned.
async fn detokenization_is_for_admins_and_audited(app: TestApp) {
    let p = app.payer("ok_debit").await;
    let (token, _) = app.cryptogram_ok(&p, 100, M).await;
    let body = json!({ "token_number": token, "reason": "chargeback investigation #4411" });
    for role in [Role::Support, Role::Risk] {
        let k = app.key_for(role).await;
        app.request_as(&k, Method::POST, "/v1/ops/detokenize", Some(&body)).await.assert_error("FORBIDDEN");
    }
    app.post("/v1/ops/detokenize", body.clone()).await.assert_error("FORBIDDEN");
    let admin = app.key_for(Role::Admin).await;
    let short = json!({ "token_number": token, "reason": "x" });
    app.request_as(&admin, Method::POST, "/v1/ops/detokenize", Some(&short)).await.assert_error("OPS_REASON_REQUIRED");
    let tid = token_id(&app, &token).await;
    assert!(app.state.store.audit_entries(&tid).await.unwrap().is_empty(), "refusals are not disclosures");
    let r = app.request_as(&admin, Method::POST, "/v1/ops/detokenize", Some(&body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["card_number"], app.card("ok_debit").await["card_number"]);
    let audit = app.state.store.audit_entries(&tid).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "token.detokenize");
    assert_eq!(audit[0].reason.as_deref(), Some("chargeback investigation #4411"));
    assert_eq!(audit[0].id, r.body["audit_id"].as_str().unwrap());
    assert_eq!(audit[0].origin, "api");
    // A risk reviewer may act for risk control, not for the bank.
    let risk = app.key_for(Role::Risk).await;
    let as_bank = json!({ "on_behalf_of": "issuer", "reason": "fraud", "note": "pretending to be the bank" });
    app.request_as(&risk, Method::POST, &format!("/v1/ops/tokens/{token}/suspend"), Some(&as_bank)).await.assert_error("FORBIDDEN");
    let as_risk = json!({ "on_behalf_of": "risk", "reason": "fraud", "note": "velocity rule fired" });
    let r = app.request_as(&risk, Method::POST, &format!("/v1/ops/tokens/{token}/suspend"), Some(&as_risk)).await;
    assert_eq!(r.body["suspended_by"], "risk", "{}", r.body);
    let tok = format!("/v1/accounts/{}/bindings/{}/token/resume", p.account, p.binding);
    let e = app.post(&tok, json!({})).await;
    assert_eq!(e.assert_error("TOKEN_RESUME_NOT_ALLOWED")["details"]["suspended_by"], "risk");
}
on_both_backends!(detokenization_is_for_admins_and_audited);

/// A payment password stored the old way (argon2id) still works, and the
/// first successful check replaces it with its MAC; a wrong one changes
/// nothing.
async fn an_argon2_payment_password_is_upgraded_on_its_next_check(app: TestApp) {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let p = app.payer("ok_debit").await;
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let phc = argon2::Argon2::default().hash_password(crate::helpers::PAY_PASSWORD.as_bytes(), &salt).unwrap().to_string();
    sqlx::query("UPDATE accounts SET payment_password_hash = $1 WHERE id = $2")
        .bind(&phc)
        .bind(&p.account)
        .execute(app.state.store.pool())
        .await
        .unwrap();
    let stored = || async {
        let (h,): (String,) = sqlx::query_as("SELECT payment_password_hash FROM accounts WHERE id = $1")
            .bind(&p.account)
            .fetch_one(app.state.store.pool())
            .await
            .unwrap();
        h
    };
    let path = format!("/v1/accounts/{}/bindings/{}/cryptograms", p.account, p.binding);
    let wrong = json!({ "amount": 100, "currency": "CNY", "merchant_id": "m_pw", "payment_password": "102938" });
    app.post(&path, wrong).await.assert_error("PAYMENT_PASSWORD_INCORRECT");
    assert_eq!(stored().await, phc, "a wrong password upgrades nothing");
    let (token, cgm) = app.cryptogram_ok(&p, 100, "m_pw").await;
    let upgraded = stored().await;
    assert!(upgraded.starts_with("pmac1$") && !upgraded.contains(crate::helpers::PAY_PASSWORD), "{upgraded}");
    assert_eq!(app.pay(&token, &cgm, 100, "m_pw").await.status, 201);
    app.cryptogram_ok(&p, 100, "m_pw").await;
}
on_both_backends!(an_argon2_payment_password_is_upgraded_on_its_next_check);

/// Issue 29: a test card's bank set back to `normal` is everything the
/// holder fixed at the bank (online payments switched on, a restriction
/// lifted), so the remedy those failures give works: the card binds.
async fn a_bank_back_to_normal_lifts_what_the_holder_fixed(app: TestApp) {
    for scenario in ["online_payments_disabled", "issuer_restricted"] {
        let card = app.card(scenario).await;
        let acc = app.verified_account().await;
        let expected = card["expect_code"].as_str().unwrap().to_owned();
        app.bind(&acc, &card).await.assert_error(&expected);
        let r = app.post(&format!("/v1/demo/cards/{scenario}/bank-state"), json!({ "state": "normal" })).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let bound = app.bind(&acc, &card).await;
        assert_eq!((bound.status, bound.body["status"].as_str()), (202, Some("pending_verification")), "{scenario}: {}", bound.body);
    }
}
on_both_backends!(a_bank_back_to_normal_lifts_what_the_holder_fixed);
