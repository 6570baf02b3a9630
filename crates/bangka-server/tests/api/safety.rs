//! Safe by default (issue 24): what an attack pass on an earlier build got
//! through, each replayed here as the attacker did it. Every test failed on
//! the build the pass attacked.

use bangka_server::auth::Role;
use bangka_server::failpoint::Crash;
use bangka_server::idempotency::STALE_CLAIM;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{PAY_PASSWORD, Resp, TestApp};
use crate::on_both_backends;
use crate::reviews::{codes_for, id_docs_and_selfie, new_phone};

const M: &str = "m_safety";

/// A verified account on a phone of its own with the `ok_debit` card bound
/// and a payment password: (account id, account phone, binding id).
async fn holder_with_card(app: &TestApp) -> (String, String, String) {
    let phone = new_phone();
    let r = app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": phone })).await;
    let acc = r.body["id"].as_str().unwrap().to_owned();
    let card = app.card("ok_debit").await;
    let kyc = json!({ "real_name": card["holder_name"], "id_number": card["id_number"] });
    assert_eq!(app.post(&format!("/v1/accounts/{acc}/kyc"), kyc).await.status, 200);
    let b = app.bind_confirmed(&acc, "ok_debit").await;
    app.set_payment_password(&acc).await;
    (acc, phone, b["id"].as_str().unwrap().to_owned())
}

async fn approve(app: &TestApp, review_id: &str) -> Resp {
    let risk = app.key_for(Role::Risk).await;
    let path = format!("/v1/ops/reviews/{review_id}/approve");
    app.request_as(&risk, Method::POST, &path, Some(&json!({ "reason": "证件与手持照片一致，本人确认" }))).await
}

/// Finding 1 (high): the thief with the lost phone and a session opened
/// before the freeze reset the payment password (code to the lost phone),
/// unfroze the account and paid. Now the freeze ends every session, so the
/// chain ends at its first step; and no recovery runs through the phone the
/// freeze names: neither the wallet's key nor a new session gets a code
/// sent there. An identity review (the holder kept the number) lifts it.
async fn a_lost_phone_freeze_cannot_be_undone_through_the_lost_phone(app: TestApp) {
    let (acc, phone, bid) = holder_with_card(&app).await;
    let card = app.card("ok_debit").await;
    let (thief, _) = app.session(&acc, "dev-stolen-phone").await;
    let (holder, _) = app.session(&acc, "dev-borrowed").await;
    let base = format!("/v1/accounts/{acc}");

    let frozen = app.request_as(&holder, Method::POST, &format!("{base}/freeze"), Some(&json!({ "reason": "phone_lost" }))).await;
    assert_eq!((frozen.status, frozen.body["status"].as_str()), (200, Some("frozen")), "{}", frozen.body);
    // Every session of the account ended, the freezer's own included.
    for token in [&thief, &holder] {
        app.request_as(token, Method::GET, &base, None).await.assert_error("SESSION_EXPIRED");
    }
    // The attack's first step, with the thief's session: refused.
    let identity = json!({ "real_name": card["holder_name"], "id_number": card["id_number"] });
    let reset = format!("{base}/payment-password/reset");
    app.request_as(&thief, Method::POST, &reset, Some(&identity)).await.assert_error("SESSION_EXPIRED");
    app.request_as(&thief, Method::POST, &format!("{base}/unfreeze"), Some(&json!({}))).await.assert_error("SESSION_EXPIRED");

    // Through the wallet's key (or a new session) no code goes to the lost phone.
    let codes_before = codes_for(&app, &phone).await.len();
    let e = app.post(&reset, identity.clone()).await;
    assert_eq!(e.assert_error("UNFREEZE_REVIEW_REQUIRED")["details"]["frozen_reason"], "phone_lost");
    let e = app.post(&format!("{base}/unfreeze"), json!({})).await;
    assert_eq!(e.assert_error("UNFREEZE_REVIEW_REQUIRED")["details"]["review"]["body"]["kind"], "unfreeze", "{}", e.body);
    let (fresh, _) = app.session(&acc, "dev-new").await;
    app.request_as(&fresh, Method::POST, &format!("{base}/unfreeze"), Some(&json!({}))).await.assert_error("UNFREEZE_REVIEW_REQUIRED");
    assert_eq!(codes_for(&app, &phone).await.len(), codes_before, "no code was sent to the lost phone");
    app.cryptogram(&crate::helpers::Payer { account: acc.clone(), binding: bid.clone() }, 5000, M).await.assert_error("ACCOUNT_FROZEN");

    // The holder got the number back from the carrier: an identity review.
    let reviews = format!("{base}/reviews");
    let ask = json!({ "kind": "unfreeze", "statement": "手机丢失后已到营业厅补办原号码", "materials": id_docs_and_selfie() });
    let r = app.request_as(&fresh, Method::POST, &reviews, Some(&ask)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let done = approve(&app, r.body["id"].as_str().unwrap()).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(app.get(&base).await.body["status"], "active");
    let trail: Vec<String> = app.state.store.audit_entries(&acc).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(trail.ends_with(&["account.freeze".into(), "account.unfreeze".into()]), "{trail:?}");
    // Nothing was frozen for a lost phone any more: the review has nothing to do.
    app.post(&reviews, ask).await.assert_error("REVIEW_NOT_APPLICABLE");
    let payer = crate::helpers::Payer { account: acc, binding: bid };
    let (token, cg) = app.cryptogram_ok(&payer, 5000, M).await;
    assert_eq!(app.pay(&token, &cg, 5000, M).await.status, 201);
}
on_both_backends!(a_lost_phone_freeze_cannot_be_undone_through_the_lost_phone);

/// Finding 1, second half: a session on an account frozen
/// `account_compromised` could still start a lost-phone change. The freeze
/// ends it; the account phone's codes cannot unfreeze it either.
async fn a_compromised_account_freeze_ends_the_sessions_that_could_move_it(app: TestApp) {
    let (acc, phone, _) = holder_with_card(&app).await;
    let (thief, _) = app.session(&acc, "dev-intruder").await;
    let base = format!("/v1/accounts/{acc}");
    let r = app.post(&format!("{base}/freeze"), json!({ "reason": "account_compromised" })).await;
    assert_eq!(r.body["status"], "frozen", "{}", r.body);
    let change = json!({ "new_phone": new_phone(), "old_phone_lost": true });
    app.request_as(&thief, Method::POST, &format!("{base}/phone"), Some(&change)).await.assert_error("SESSION_EXPIRED");
    app.post(&format!("{base}/unfreeze"), json!({})).await.assert_error("UNFREEZE_REVIEW_REQUIRED");
    assert!(codes_for(&app, &phone).await.is_empty(), "no code went to the account phone");
    // A holder_request freeze still unfreezes by code (the phone is trusted).
    let (other, other_phone, _) = holder_with_card(&app).await;
    app.post(&format!("/v1/accounts/{other}/freeze"), json!({ "reason": "holder_request" })).await;
    assert_eq!(app.post(&format!("/v1/accounts/{other}/unfreeze"), json!({})).await.status, 202);
    let otp = codes_for(&app, &other_phone).await[0].clone();
    let r = app.post(&format!("/v1/accounts/{other}/unfreeze"), json!({ "otp": otp, "payment_password": PAY_PASSWORD })).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("active")), "{}", r.body);
}
on_both_backends!(a_compromised_account_freeze_ends_the_sessions_that_could_move_it);

/// A card frozen `phone_lost` opens only by a code to a phone proven after
/// the freeze: an identity review (or a reviewed phone change) first.
async fn a_card_frozen_for_a_lost_phone_needs_the_phone_proven_again(app: TestApp) {
    let (acc, _, bid) = holder_with_card(&app).await;
    let card_phone = app.card("ok_debit").await["phone"].as_str().unwrap().to_owned();
    let base = format!("/v1/accounts/{acc}/bindings/{bid}");
    let (session, _) = app.session(&acc, "dev-1").await;
    let r = app.post(&format!("{base}/freeze"), json!({ "reason": "phone_lost" })).await;
    assert_eq!(r.body["status"], "frozen", "{}", r.body);
    app.request_as(&session, Method::GET, &base, None).await.assert_error("SESSION_EXPIRED");
    let codes_before = codes_for(&app, &card_phone).await.len();
    app.post(&format!("{base}/unfreeze"), json!({})).await.assert_error("UNFREEZE_REVIEW_REQUIRED");
    assert_eq!(codes_for(&app, &card_phone).await.len(), codes_before, "no code to the lost phone");

    let ask = json!({ "kind": "unfreeze", "statement": "补办了原号码", "materials": id_docs_and_selfie() });
    let r = app.post(&format!("/v1/accounts/{acc}/reviews"), ask).await;
    assert_eq!(r.status, 201, "{}", r.body);
    app.clock.advance(time::Duration::seconds(1));
    assert_eq!(approve(&app, r.body["id"].as_str().unwrap()).await.status, 200);
    assert_eq!(app.post(&format!("{base}/unfreeze"), json!({})).await.status, 202);
    let otp = app.latest_otp(&card_phone).await;
    let r = app.post(&format!("{base}/unfreeze"), json!({ "otp": otp, "payment_password": PAY_PASSWORD })).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("active")), "{}", r.body);
}
on_both_backends!(a_card_frozen_for_a_lost_phone_needs_the_phone_proven_again);

/// Finding 8 (low): a payment resumed after a crash answered "503, try
/// again later", and that answer was replayed after its time had passed,
/// while the payment had failed for good. A refusal that says when to try
/// again no longer replays past that time: the retry resumes the request
/// and answers the payment's state now.
async fn a_transient_answer_does_not_outlive_its_cause(app: TestApp) {
    let p = app.payer("ok_debit").await;
    let sim = app.state.simulator.clone().unwrap();
    let before = sim.available_fen("ok_debit").unwrap();
    let (token, cg) = app.cryptogram_ok(&p, 700, M).await;
    let body = json!({ "token_number": token, "cryptogram": cg, "amount": 700, "currency": "CNY", "merchant_id": M });
    let idem = format!("crash-late-{}", rand::random::<u32>());
    let headers = [("idempotency-key", idem.as_str())];
    let send = || app.request(Method::POST, "/v1/payments", Some(&body), &headers);

    // Killed after the authorization was written down; then the bank stops answering.
    app.state.failpoints.arm("authorize.after_intent", "/v1/payments", Crash::Error, 1);
    assert_eq!(send().await.status, 500);
    app.state.failpoints.clear();
    let state = sim.bank_state("ok_debit").unwrap();
    sim.set_bank_state("ok_debit", state, false);
    app.clock.advance(STALE_CLAIM + time::Duration::seconds(1));
    let first = send().await;
    let e = first.assert_error("ISSUER_UNAVAILABLE").clone();
    let said = time::OffsetDateTime::parse(e["retry_after"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
    // Before that time, the same answer (nothing has changed).
    let again = send().await;
    assert_eq!(again.body["error"]["retry_after"], e["retry_after"]);

    // After it: the answer is the payment's state now, not the old advice.
    sim.set_bank_state("ok_debit", state, true);
    app.clock.advance(time::Duration::minutes(2));
    let later = send().await;
    let now = crate::helpers::clock_now(&app.clock);
    let e = later.assert_error("ISSUER_UNAVAILABLE");
    let at = time::OffsetDateTime::parse(e["retry_after"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
    assert!(at > now && at > said, "the advice is fresh: {} (now {now})", later.body);
    assert_eq!(e["details"]["payment_status"], "failed", "{}", later.body);
    assert_eq!(sim.available_fen("ok_debit").unwrap(), before, "the bank moved nothing");
    let pid = e["details"]["payment_id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/payments/{pid}")).await.body["status"], "failed");
}
on_both_backends!(a_transient_answer_does_not_outlive_its_cause);
