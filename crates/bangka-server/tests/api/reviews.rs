//! Manual review with materials: a risk lock lifted, a held bind released,
//! a real-name record changed; each decided once by a risk reviewer.

use bangka_server::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

fn id_docs() -> Value {
    json!([{ "type": "id_front", "ref": "wallet://docs/id-front-1.jpg" }, { "type": "id_back", "ref": "wallet://docs/id-back-1.jpg" }])
}

/// A valid resident ID number (GB 11643-1999 check character) for a birth date.
fn resident_id(body17: &str) -> String {
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body17.bytes().zip(weights).map(|(b, w)| u32::from(b - b'0') * w).sum();
    format!("{body17}{}", "10X98765432".as_bytes()[(sum % 11) as usize] as char)
}

async fn a_locked_holder_is_unlocked_by_an_approved_review(app: TestApp) {
    let acc = app.verified_account().await;
    let reviews = format!("/v1/accounts/{acc}/reviews");
    let ask = json!({ "kind": "risk_lock", "statement": "我换了手机号，之前输错了", "materials": id_docs() });
    app.post(&reviews, ask.clone()).await.assert_error("REVIEW_NOT_APPLICABLE");
    let card = app.card("phone_mismatch").await;
    for _ in 0..10 {
        app.bind(&acc, &card).await;
    }
    let locked = app.bind(&acc, &app.card("ok_debit").await).await;
    assert_eq!(locked.assert_error("RISK_LOCKED")["details"]["unlock"]["or_request_review"]["path"], reviews.as_str());

    // Materials are checked, and one review of a kind waits at a time.
    let missing = app
        .post(&reviews, json!({ "kind": "risk_lock", "statement": "x", "materials": [{ "type": "id_front", "ref": "wallet://a" }] }))
        .await;
    assert_eq!(missing.assert_error("REVIEW_MATERIALS_INVALID")["details"]["missing"], json!(["id_back"]));
    let bad_ref = json!({ "kind": "risk_lock", "statement": "x", "materials": [{ "type": "id_front", "ref": "no spaces" }, { "type": "id_back", "ref": "b" }] });
    app.post(&reviews, bad_ref).await.assert_error("REVIEW_MATERIALS_INVALID");
    app.post(&reviews, json!({ "kind": "amnesty", "statement": "x", "materials": id_docs() })).await.assert_error("MALFORMED_REQUEST");
    assert_eq!(app.get(&reviews).await.list().len(), 0, "refusals recorded nothing");
    let r = app.post(&reviews, ask.clone()).await;
    assert_eq!((r.status, r.body["status"].as_str()), (201, Some("submitted")), "{}", r.body);
    let rid = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.post(&reviews, ask).await.assert_error("REVIEW_ALREADY_PENDING")["details"]["review_id"], rid.as_str());

    // Risk reviewers decide; support may look but not decide.
    let risk = app.key_for(Role::Risk).await;
    let support = app.key_for(Role::Support).await;
    let queue = app.request_as(&support, Method::GET, "/v1/ops/reviews", None).await;
    assert!(queue.body["data"].as_array().unwrap().iter().any(|r| r["id"] == rid.as_str()), "{}", queue.body);
    let approve = format!("/v1/ops/reviews/{rid}/approve");
    app.request_as(&support, Method::POST, &approve, Some(&json!({ "reason": "ok" }))).await.assert_error("FORBIDDEN");
    app.request_as(&risk, Method::POST, &approve, Some(&json!({ "reason": " " }))).await.assert_error("OPS_REASON_REQUIRED");
    let done = app.request_as(&risk, Method::POST, &approve, Some(&json!({ "reason": "证件与账户一致，已解锁" }))).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["status"], "approved");
    assert_eq!(done.body["released"], json!(["account", "card"]));
    app.request_as(&risk, Method::POST, &format!("/v1/ops/reviews/{rid}/reject"), Some(&json!({ "reason": "x" })))
        .await
        .assert_error("REVIEW_ALREADY_DECIDED");

    // The holder sees the decision and is told; the account binds again.
    let mine = app.get(&format!("{reviews}/{rid}")).await;
    assert_eq!(mine.body["decision"]["reason"], "证件与账户一致，已解锁");
    let push = app.get(&format!("/v1/demo/inbox/{acc}")).await.body["messages"][0]["body"].as_str().unwrap().to_owned();
    assert!(push.contains("风控解锁审核已通过"), "{push}");
    app.bind_confirmed(&acc, "ok_debit").await;
    let trail: Vec<String> = app.state.store.audit_entries(&rid).await.unwrap().iter().map(|e| e.action.clone()).collect();
    assert_eq!(trail, ["review.submit", "review.approve"]);
    assert!(app.state.store.audit_entries(&acc).await.unwrap().iter().any(|e| e.action == "account.unlock"));
    assert_eq!(app.state.store.verify_audit().await.unwrap().problem, None);
}
on_both_backends!(a_locked_holder_is_unlocked_by_an_approved_review);

async fn a_held_bind_is_released_and_a_real_name_is_changed_by_review(app: TestApp) {
    // One card on a fifth account in a day is held for review.
    let card = app.card("ok_debit_boc").await;
    for _ in 0..4 {
        let a = app.verified_account().await;
        app.bind_confirmed(&a, "ok_debit_boc").await;
    }
    let acc = app.verified_account().await;
    let held = app.bind(&acc, &card).await;
    let e = held.assert_error("RISK_REVIEW_REQUIRED");
    assert_eq!(e["details"]["request_review"]["kind"], "bind");
    let attempt = e["attempt_id"].as_str().unwrap().to_owned();
    let reviews = format!("/v1/accounts/{acc}/reviews");
    let no_card_photo = json!({ "kind": "bind", "statement": "这是我本人的卡", "materials": id_docs(), "attempt_id": attempt });
    assert_eq!(
        app.post(&reviews, no_card_photo).await.assert_error("REVIEW_MATERIALS_INVALID")["details"]["missing"],
        json!(["bank_card"])
    );
    let mut materials = id_docs();
    materials.as_array_mut().unwrap().push(json!({ "type": "bank_card", "ref": "wallet://docs/card-1.jpg" }));
    let r =
        app.post(&reviews, json!({ "kind": "bind", "statement": "这是我本人的卡", "materials": materials, "attempt_id": attempt })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let risk = app.key_for(Role::Risk).await;
    let ok = app
        .request_as(
            &risk,
            Method::POST,
            &format!("/v1/ops/reviews/{}/approve", r.body["id"].as_str().unwrap()),
            Some(&json!({ "reason": "卡片照片与持卡人一致" })),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    app.bind_confirmed(&acc, "ok_debit_boc").await;

    // A real-name change: the new record replaces the old only on approval.
    let change = |name: &str, id: &str| json!({ "kind": "info_change", "statement": "户口本更名", "materials": id_docs(), "real_name": name, "id_number": id });
    app.post(&reviews, change("张三", "110105199003071239")).await.assert_error("REVIEW_NOT_APPLICABLE");
    app.post(&reviews, change("李四", "110105199003071230")).await.assert_error("ID_NUMBER_CHECK_DIGIT");
    let new_id = resident_id("11010519880512123");
    let r = app.post(&reviews, change("李四", &new_id)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(!r.body.to_string().contains(&new_id) && !r.body.to_string().contains("李四"), "the requested record is not echoed");
    let rid = r.body["id"].as_str().unwrap().to_owned();
    // Until approved, the old record stands.
    let other_name = app.card("ok_credit").await;
    assert_eq!(app.bind(&acc, &other_name).await.status, 202);
    let ok = app.request_as(&risk, Method::POST, &format!("/v1/ops/reviews/{rid}/approve"), Some(&json!({ "reason": "证件已核验" }))).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // Now the old name no longer matches the account's real name.
    app.bind(&acc, &app.card("ok_prepaid").await).await.assert_error("HOLDER_NAME_NOT_KYC_NAME");
    let (name_enc,): (Option<Vec<u8>>,) =
        sqlx::query_as("SELECT name_enc FROM reviews WHERE id = $1").bind(&rid).fetch_one(app.state.store.pool()).await.unwrap();
    assert!(name_enc.is_none(), "the requested values leave the review once decided");
    assert!(app.state.store.audit_entries(&acc).await.unwrap().iter().any(|e| e.action == "account.kyc_change"));
    // A rejected change leaves the record as it is.
    let r = app.post(&reviews, change("王五", &resident_id("11010519800101123"))).await;
    let rej = app
        .request_as(
            &risk,
            Method::POST,
            &format!("/v1/ops/reviews/{}/reject", r.body["id"].as_str().unwrap()),
            Some(&json!({ "reason": "照片不清晰" })),
        )
        .await;
    assert_eq!(rej.body["status"], "rejected");
    app.bind(&acc, &app.card("ok_prepaid").await).await.assert_error("HOLDER_NAME_NOT_KYC_NAME");
}
on_both_backends!(a_held_bind_is_released_and_a_real_name_is_changed_by_review);

pub(crate) fn id_docs_and_selfie() -> Value {
    json!([
        { "type": "id_front", "ref": "wallet://docs/id-front-2.jpg" },
        { "type": "id_back", "ref": "wallet://docs/id-back-2.jpg" },
        { "type": "selfie", "ref": "wallet://docs/holding-id-2.jpg" },
    ])
}

pub(crate) fn new_phone() -> String {
    format!("136{:08}", rand::random::<u32>() % 100_000_000)
}

/// The codes in a phone's demo inbox, newest first.
pub(crate) async fn codes_for(app: &TestApp, phone: &str) -> Vec<String> {
    let r = app.get(&format!("/v1/demo/inbox/{phone}")).await;
    r.body["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["body"].as_str()?.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Dead end 3 of issue 16: an account frozen because its phone was lost
/// gets its SMS codes on the lost phone. The holder proves the new phone
/// with a code and themselves with ID photos; a risk reviewer's approval
/// moves the account to the new phone and unfreezes it.
async fn a_lost_phone_account_moves_to_a_new_phone_through_a_review(app: TestApp) {
    let old = new_phone();
    let acc =
        app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": old })).await.body["id"].as_str().unwrap().to_owned();
    let card = app.card("ok_debit").await;
    app.post(&format!("/v1/accounts/{acc}/kyc"), json!({ "real_name": card["holder_name"], "id_number": card["id_number"] })).await;
    let frozen = app.post(&format!("/v1/accounts/{acc}/freeze"), json!({ "reason": "phone_lost" })).await;
    assert_eq!(frozen.body["status"], "frozen", "{}", frozen.body);
    assert_eq!(frozen.body["next_steps"][0]["developer"]["path"], format!("/v1/accounts/{acc}/phone"), "{}", frozen.body);

    let fresh = new_phone();
    let step1 = app.post(&format!("/v1/accounts/{acc}/phone"), json!({ "new_phone": fresh })).await;
    assert_eq!(step1.status, 202, "{}", step1.body);
    assert_eq!(step1.body["review_required"], true);
    assert!(step1.body["old_phone_next_action"].is_null(), "no code to the lost phone");
    assert!(codes_for(&app, &old).await.is_empty(), "the lost phone got a code");
    let code = codes_for(&app, &fresh).await[0].clone();
    let reviews = format!("/v1/accounts/{acc}/reviews");
    let ask = |otp: &str| json!({ "kind": "phone_change", "statement": "手机丢了，换了新号码", "materials": id_docs_and_selfie(), "new_phone": fresh, "otp": otp });
    let wrong = if code == "000000" { "111111" } else { "000000" };
    app.post(&reviews, ask(wrong)).await.assert_error("OTP_INCORRECT");
    let no_selfie = json!({ "kind": "phone_change", "statement": "x", "materials": id_docs(), "new_phone": fresh, "otp": code });
    assert_eq!(app.post(&reviews, no_selfie).await.assert_error("REVIEW_MATERIALS_INVALID")["details"]["missing"], json!(["selfie"]));
    let r = app.post(&reviews, ask(&code)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["new_phone_masked"], format!("{}****{}", &fresh[..3], &fresh[7..]));
    let rid = r.body["id"].as_str().unwrap().to_owned();
    // The code confirmed the submission and cannot be used again.
    app.post(&reviews, ask(&code)).await.assert_error("STRONG_VERIFICATION_REQUIRED");

    // A move off a phone that cannot answer waits a day, told to that phone
    // (and push, email) so whoever really holds the account can stop it.
    let told = app.get(&format!("/v1/demo/inbox/{old}")).await.body.to_string();
    assert!(told.contains(&rid) && told.contains("撤回"), "the current phone was not told of the review: {told}");
    let risk = app.key_for(Role::Risk).await;
    let approve = || {
        let (app, risk, path) = (&app, &risk, format!("/v1/ops/reviews/{rid}/approve"));
        async move { app.request_as(risk, Method::POST, &path, Some(&json!({ "reason": "证件与手持照片一致" }))).await }
    };
    let early = approve().await;
    assert!(early.assert_error("REVIEW_WAITING_PERIOD")["retry_after"].is_string(), "{}", early.body);
    app.clock.advance(time::Duration::hours(24));
    let done = approve().await;
    assert_eq!(done.status, 200, "{}", done.body);
    let moved = app.get(&format!("/v1/demo/inbox/{old}")).await.body.to_string();
    assert!(moved.contains("经人工审核更换为"), "the phone the account left was not told: {moved}");
    let a = app.get(&format!("/v1/accounts/{acc}")).await;
    assert_eq!(a.body["status"], "active", "unfrozen: {}", a.body);
    assert_eq!(a.body["phone_masked"], format!("{}****{}", &fresh[..3], &fresh[7..]));
    let inbox = app.get(&format!("/v1/demo/inbox/{fresh}")).await;
    assert!(inbox.body["messages"][0]["body"].as_str().unwrap().contains("更换手机号审核已通过"), "{}", inbox.body);
    // The account works again, with codes to the new phone.
    app.bind_confirmed(&acc, "ok_debit").await;
    let audit = sqlx::query_scalar::<_, String>("SELECT action FROM audit_log WHERE subject = $1 ORDER BY seq")
        .bind(&acc)
        .fetch_all(app.state.store.pool())
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a == "account.phone_change") && audit.iter().any(|a| a == "account.unfreeze"), "{audit:?}");
}
on_both_backends!(a_lost_phone_account_moves_to_a_new_phone_through_a_review);

/// With the old phone at hand, a code to each phone changes the number at
/// once; the old phone is told.
async fn the_account_phone_changes_with_a_code_to_each_phone(app: TestApp) {
    let old = new_phone();
    let acc =
        app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": old })).await.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/accounts/{acc}/phone");
    app.post(&path, json!({ "new_phone": old })).await.assert_error("MALFORMED_REQUEST");
    let other = new_phone();
    app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": other })).await;
    // A number another account has: answered like any other (issue 24); its
    // owner gets a notice, never a code.
    let taken = app.post(&path, json!({ "new_phone": other })).await;
    assert_eq!((taken.status, taken.body["review_required"].as_bool()), (202, Some(false)), "{}", taken.body);
    assert!(codes_for(&app, &other).await.is_empty(), "no code to a number another account has");
    let fresh = new_phone();
    let step1 = app.post(&path, json!({ "new_phone": fresh })).await;
    assert_eq!(step1.status, 202, "{}", step1.body);
    assert_eq!(step1.body["review_required"], false);
    let (old_code, new_code) = (codes_for(&app, &old).await[0].clone(), codes_for(&app, &fresh).await[0].clone());
    // A code for this number confirms only this number.
    let elsewhere = new_phone();
    app.post(&path, json!({ "new_phone": elsewhere, "old_phone_otp": old_code, "new_phone_otp": new_code }))
        .await
        .assert_error("STRONG_VERIFICATION_REQUIRED");
    app.post(&path, json!({ "new_phone": fresh, "old_phone_otp": old_code })).await.assert_error("MALFORMED_REQUEST");
    let done = app.post(&path, json!({ "new_phone": fresh, "old_phone_otp": old_code, "new_phone_otp": new_code })).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["phone_masked"], format!("{}****{}", &fresh[..3], &fresh[7..]));
    let told = app.get(&format!("/v1/demo/inbox/{old}")).await;
    assert!(told.body["messages"][0]["body"].as_str().unwrap().contains("已于"), "{}", told.body);
    // The old number is free again.
    assert_eq!(app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": old })).await.status, 201);
}
on_both_backends!(the_account_phone_changes_with_a_code_to_each_phone);

/// Dead end 2 of issue 16, with the rules of issue 24 (finding 4): a
/// reviewer decides a real-name review seeing what is asked for and the
/// account as it is (masked), and an approval runs every rule the automatic
/// check runs: an ID number under the minimum age is refused at submission,
/// and one already waiting is refused at approval, so a person can never
/// verify it.
async fn a_rejected_kyc_is_corrected_by_a_reviewer(app: TestApp) {
    let acc = app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": new_phone() })).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reviews = format!("/v1/accounts/{acc}/reviews");
    let child = resident_id("11010520150101001");
    app.post(&format!("/v1/accounts/{acc}/kyc"), json!({ "real_name": "王小明", "id_number": child })).await.assert_error("KYC_REJECTED");
    let ask = |id: &str| json!({ "kind": "kyc", "statement": "请人工核实", "materials": id_docs_and_selfie(), "real_name": "王小明", "id_number": id });
    // The age rule holds for a person too: an under-age number is refused at once.
    let e = app.post(&reviews, ask(&child)).await;
    assert_eq!(e.assert_error("KYC_REJECTED")["details"]["reason"], "under_minimum_age");
    // One that waits from before this rule is refused at approval, and stays waiting.
    let sealed = (
        app.state.vault.seal_value(&bangka_store::kyc_context(&acc, "name"), "王小明"),
        app.state.vault.seal_value(&bangka_store::kyc_context(&acc, "id"), &child),
    );
    let materials = json!([]);
    let old = bangka_store::NewReview {
        account_id: &acc,
        kind: bangka_core::review::ReviewKind::Kyc,
        statement: "户口登记的出生日期有误",
        materials: &materials,
        attempt_id: None,
        binding_id: None,
        card_fp: None,
        sealed: Some((sealed.0.as_slice(), sealed.1.as_slice())),
        new_phone: None,
    };
    let waiting = app
        .state
        .store
        .create_review(&old, &[], bangka_store::Cause::api("before"), crate::helpers::clock_now(&app.clock))
        .await
        .unwrap()
        .unwrap();
    let risk = app.key_for(Role::Risk).await;
    // The reviewer sees what is asked for, and the account as it is.
    let queue = app.request_as(&risk, Method::GET, "/v1/ops/reviews", None).await;
    let mine = queue.body["data"].as_array().unwrap().iter().find(|r| r["id"] == waiting.id.as_str()).unwrap().clone();
    assert_eq!(mine["requested"]["real_name_masked"], "王*明", "{mine}");
    assert!(mine["requested"]["id_number_masked"].as_str().is_some_and(|m| m.starts_with("1101") && m.contains('*')), "{mine}");
    assert_eq!((mine["account"]["kyc_status"].as_str(), mine["account"]["status"].as_str()), (Some("rejected"), Some("active")), "{mine}");
    assert!(mine["account"]["phone_masked"].as_str().is_some_and(|p| p.contains("****")), "{mine}");
    let approve = |rid: String| {
        let (app, risk) = (&app, &risk);
        async move {
            app.request_as(risk, Method::POST, &format!("/v1/ops/reviews/{rid}/approve"), Some(&json!({ "reason": "证明材料核实无误" })))
                .await
        }
    };
    approve(waiting.id.clone()).await.assert_error("KYC_REJECTED");
    assert_eq!(app.get(&format!("/v1/accounts/{acc}")).await.body["kyc_status"], "rejected");
    // An adult's number is verified by a person as by the automatic check.
    let adult = resident_id("11010519900101001");
    let reject = app
        .request_as(&risk, Method::POST, &format!("/v1/ops/reviews/{}/reject", waiting.id), Some(&json!({ "reason": "未满16周岁" })))
        .await;
    assert_eq!(reject.status, 200, "{}", reject.body);
    let r = app.post(&reviews, ask(&adult)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let done = approve(r.body["id"].as_str().unwrap().to_owned()).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(app.get(&format!("/v1/accounts/{acc}")).await.body["kyc_status"], "verified");
}
on_both_backends!(a_rejected_kyc_is_corrected_by_a_reviewer);
