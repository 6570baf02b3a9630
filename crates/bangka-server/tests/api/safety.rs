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
    app.clock.advance(bangka_core::review::LOST_PHONE_WAIT);
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
    app.clock.advance(bangka_core::review::LOST_PHONE_WAIT);
    assert_eq!(approve(&app, r.body["id"].as_str().unwrap()).await.status, 200);
    assert_eq!(app.post(&format!("{base}/unfreeze"), json!({})).await.status, 202);
    let otp = app.latest_otp(&card_phone).await;
    let r = app.post(&format!("{base}/unfreeze"), json!({ "otp": otp, "payment_password": PAY_PASSWORD })).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("active")), "{}", r.body);
}
on_both_backends!(a_card_frozen_for_a_lost_phone_needs_the_phone_proven_again);

/// Finding 3 (medium): through a stolen session, a lost-phone change moved
/// the account to the thief's phone with no word to the current phone; the
/// holder could not withdraw it, and a stale review still moved the account
/// after the holder had changed phone properly. Now each step is told to
/// the current phone (and push, email) with the way to stop it, a reviewer
/// may approve only after a day, the holder withdraws, and a review the
/// account changed under is void.
async fn a_lost_phone_change_is_told_and_can_be_stopped(app: TestApp) {
    let (acc, phone, _) = holder_with_card(&app).await;
    let (thief, _) = app.session(&acc, "dev-stolen-session").await;
    let base = format!("/v1/accounts/{acc}");
    let notices = |phone: String| {
        let app = &app;
        async move {
            let inbox = app.get(&format!("/v1/demo/inbox/{phone}")).await;
            inbox.body["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    // Step 1, the thief: the current phone hears of it at once.
    let thiefs = new_phone();
    let masked = format!("{}****{}", &thiefs[..3], &thiefs[7..]);
    let start = json!({ "new_phone": thiefs, "old_phone_lost": true });
    let r = app.request_as(&thief, Method::POST, &format!("{base}/phone"), Some(&start)).await;
    assert_eq!((r.status, r.body["review_required"].as_bool()), (202, Some(true)), "{}", r.body);
    let told = notices(phone.clone()).await;
    assert!(told.iter().any(|m| m.contains(&masked) && m.contains("冻结账户")), "the current phone was not told: {told:?}");
    // Step 2, the review: told again, with its id and when it may take effect.
    let code = codes_for(&app, &thiefs).await[0].clone();
    let ask =
        json!({ "kind": "phone_change", "statement": "手机丢了", "materials": id_docs_and_selfie(), "new_phone": thiefs, "otp": code });
    let review = app.request_as(&thief, Method::POST, &format!("{base}/reviews"), Some(&ask)).await;
    assert_eq!(review.status, 201, "{}", review.body);
    let rid = review.body["id"].as_str().unwrap().to_owned();
    let from =
        time::OffsetDateTime::parse(review.body["approvable_from"].as_str().unwrap(), &time::format_description::well_known::Rfc3339)
            .unwrap();
    let wait = from - crate::helpers::clock_now(&app.clock);
    assert!((wait - bangka_core::review::LOST_PHONE_WAIT).abs() < time::Duration::seconds(1), "{}", review.body);
    let told = notices(phone.clone()).await;
    assert!(told.iter().any(|m| m.contains(&rid) && m.contains("撤回")), "the review was not told: {told:?}");
    // A reviewer cannot approve it yet: the waiting period.
    let early = approve(&app, &rid).await;
    assert!(early.assert_error("REVIEW_WAITING_PERIOD")["retry_after"].is_string(), "{}", early.body);
    // The holder withdraws it (from the wallet); it can no longer be approved.
    let w = app.post(&format!("{base}/reviews/{rid}/withdraw"), json!({})).await;
    assert_eq!((w.status, w.body["status"].as_str()), (200, Some("withdrawn")), "{}", w.body);
    app.post(&format!("{base}/reviews/{rid}/withdraw"), json!({})).await.assert_error("REVIEW_ALREADY_DECIDED");
    app.clock.advance(bangka_core::review::LOST_PHONE_WAIT);
    assert_eq!(approve(&app, &rid).await.assert_error("REVIEW_ALREADY_DECIDED")["details"]["status"], "withdrawn");
    assert_eq!(app.get(&base).await.body["phone_masked"], format!("{}****{}", &phone[..3], &phone[7..]));

    // A second try is left waiting; meanwhile the holder changes phone the
    // proper way (a code to each phone). The waiting review is now void.
    let (thief, _) = app.session(&acc, "dev-stolen-session").await;
    app.request_as(&thief, Method::POST, &format!("{base}/phone"), Some(&start)).await;
    let code = codes_for(&app, &thiefs).await[0].clone();
    let ask =
        json!({ "kind": "phone_change", "statement": "手机丢了", "materials": id_docs_and_selfie(), "new_phone": thiefs, "otp": code });
    let stale = app.request_as(&thief, Method::POST, &format!("{base}/reviews"), Some(&ask)).await;
    assert_eq!(stale.status, 201, "{}", stale.body);
    let stale = stale.body["id"].as_str().unwrap().to_owned();
    let mine = new_phone();
    app.post(&format!("{base}/phone"), json!({ "new_phone": mine })).await;
    let (old_code, new_code) = (app.latest_otp(&phone).await, codes_for(&app, &mine).await[0].clone());
    let moved =
        app.post(&format!("{base}/phone"), json!({ "new_phone": mine, "old_phone_otp": old_code, "new_phone_otp": new_code })).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let void = app.get(&format!("{base}/reviews/{stale}")).await;
    assert_eq!(void.body["status"], "void", "{}", void.body);
    app.clock.advance(bangka_core::review::LOST_PHONE_WAIT);
    assert_eq!(approve(&app, &stale).await.assert_error("REVIEW_ALREADY_DECIDED")["details"]["status"], "void");
    assert_eq!(app.get(&base).await.body["phone_masked"], format!("{}****{}", &mine[..3], &mine[7..]));
    let trail: Vec<String> = app.state.store.audit_entries(&stale).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(trail, ["review.submit", "review.void"]);
}
on_both_backends!(a_lost_phone_change_is_told_and_can_be_stopped);

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

/// Finding 7 (low): a holder session could learn which phone numbers have
/// accounts (`ACCOUNT_PHONE_TAKEN`), 50 probes in 10 s. Now a number another
/// account has is answered like any other (its owner gets a notice, no
/// code), and an account starts at most five phone changes an hour.
async fn a_session_cannot_probe_which_numbers_have_accounts(app: TestApp) {
    let (acc, _, _) = holder_with_card(&app).await;
    let (session, _) = app.session(&acc, "dev-prober").await;
    let registered = new_phone();
    assert_eq!(app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": registered })).await.status, 201);
    let free = new_phone();
    let path = format!("/v1/accounts/{acc}/phone");
    let probe = |n: &str| {
        let (app, session, path) = (&app, &session, &path);
        let body = json!({ "new_phone": n });
        async move { app.request_as(session, Method::POST, path, Some(&body)).await }
    };
    let (a, b) = (probe(&registered).await, probe(&free).await);
    assert_eq!((a.status, b.status), (202, 202), "{} {}", a.body, b.body);
    let shape = |r: &crate::helpers::Resp| {
        let mut v = r.body.clone();
        for k in ["new_phone_masked", "next_action", "old_phone_next_action", "developer"] {
            v[k] = json!(null);
        }
        v
    };
    assert_eq!(shape(&a), shape(&b), "the same answer for a registered and a free number");
    assert_eq!(a.body["next_action"]["type"], b.body["next_action"]["type"]);
    assert!(codes_for(&app, &registered).await.is_empty(), "the owner of a registered number gets no code");
    let notice = app.get(&format!("/v1/demo/inbox/{registered}")).await;
    assert!(notice.body["messages"][0]["body"].as_str().is_some_and(|m| m.contains("已是一个钱包账户的手机号")), "{}", notice.body);
    assert_eq!(codes_for(&app, &free).await.len(), 1);
    // Someone else's request does not hold up the next one (no resend cooldown across numbers).
    for _ in 0..3 {
        assert_eq!(probe(&new_phone()).await.status, 202);
    }
    // The sixth start within the hour is refused; an hour later it goes through.
    let r = probe(&new_phone()).await;
    let e = r.assert_error("RATE_LIMITED");
    assert_eq!(e["details"]["limit"], "phone_change");
    assert!(e["retry_after"].is_string());
    app.clock.advance(time::Duration::hours(1) + time::Duration::seconds(1));
    let (fresh, _) = app.session(&acc, "dev-prober").await;
    assert_eq!(app.request_as(&fresh, Method::POST, &path, Some(&json!({ "new_phone": new_phone() }))).await.status, 202);
}
on_both_backends!(a_session_cannot_probe_which_numbers_have_accounts);

/// Finding 6 (low–medium): card and ID numbers typed into free text in 19
/// of 26 spellings rested in clear and were shown to agents. A ticket note
/// with a card typed with dots, zero-width spaces and Arabic-Indic digits,
/// and an ID number with no-break spaces, is kept and shown masked.
async fn card_numbers_typed_any_way_into_free_text_are_masked(app: TestApp) {
    let (acc, _, _) = holder_with_card(&app).await;
    let arabic: String = "6222020000030000178".chars().map(|c| char::from_u32(0x0660 + (c as u32 - '0' as u32)).unwrap()).collect();
    let nbsp_id = ["1101", "0519", "9003", "0712", "39"].join("\u{00A0}");
    let zero_width: String = "6222020000030000178".chars().map(|c| format!("{c}\u{200B}")).collect();
    let note = format!("卡号 6222.0200.0003.0000.178，另一张 {arabic}，身份证 {nbsp_id}，还有 {zero_width}");
    let r = app.post(&format!("/v1/accounts/{acc}/tickets"), json!({ "note": note })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let number = r.body["number"].as_str().unwrap().to_owned();
    let support = app.key_for(Role::Support).await;
    let seen = app.request_as(&support, Method::GET, &format!("/v1/ops/tickets/{number}"), None).await;
    let text = seen.body.to_string();
    for clear in ["0200.0003", "0000030000", "19900307", "٠٠٠٠٠٣٠٠٠٠"] {
        assert!(!text.contains(clear), "{clear} shown to an agent: {text}");
    }
    assert!(text.contains("622202*********0178") && text.contains("1101**********1239"), "{text}");
}
on_both_backends!(card_numbers_typed_any_way_into_free_text_are_masked);
