//! The support path in the product (issue 6): maintenance windows with
//! their announcements, failing fast, and the public status page.

use bangka_server::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;
use time::format_description::well_known::Rfc3339;

use crate::helpers::TestApp;
use crate::on_both_backends;

fn issuer<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["issuers"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap()
}

/// An ICBC window makes ICBC binds and payments fail fast with the
/// window's end while other issuers go on; `/v1/status` shows the window
/// and the failure rate; cancelling it opens ICBC again.
async fn maintenance_windows_fail_fast_and_show_in_status(app: TestApp) {
    let admin = app.key_for(Role::Admin).await;
    let support = app.key_for(Role::Support).await;
    let payer = app.payer("ok_debit").await; // an ICBC card, bound before the window
    let now = bangka_core::clock::Clock::now(&*app.clock);
    let at = |d: Duration| bangka_store::rfc3339(now + d);
    let window = json!({ "issuer": "ICBC", "starts_at": at(Duration::minutes(-1)), "ends_at": at(Duration::hours(2)),
        "message": { "zh-CN": "工商银行系统升级，预计两小时。", "en": "ICBC is upgrading its systems for about two hours." } });
    let path = "/v1/ops/maintenance-windows";

    // Only an admin schedules; bad windows are refused and change nothing.
    app.request_as(&support, Method::POST, path, Some(&window)).await.assert_error("FORBIDDEN");
    app.post(path, window.clone()).await.assert_error("FORBIDDEN");
    for (field, value) in [
        ("issuer", json!("NOBANK")),
        ("ends_at", json!(at(Duration::minutes(-2)))),
        ("ends_at", json!(at(Duration::days(8)))),
        ("starts_at", json!("next tuesday")),
        ("message", json!({ "zh-CN": "", "en": "x" })),
    ] {
        let mut bad = window.clone();
        bad[field] = value;
        app.request_as(&admin, Method::POST, path, Some(&bad)).await.assert_error("MALFORMED_REQUEST");
    }
    let listed = app.request_as(&support, Method::GET, path, None).await;
    assert_eq!(listed.list().len(), 0, "{}", listed.body);

    let r = app.request_as(&admin, Method::POST, path, Some(&window)).await;
    assert_eq!((r.status, r.body["active"].as_bool()), (201, Some(true)), "{}", r.body);
    let wid = r.body["id"].as_str().unwrap().to_owned();
    let upcoming = json!({ "starts_at": at(Duration::days(1)), "ends_at": at(Duration::days(1) + Duration::hours(1)),
        "message": { "zh-CN": "平台例行维护。", "en": "Routine platform maintenance." } });
    assert_eq!(app.request_as(&admin, Method::POST, path, Some(&upcoming)).await.status, 201);

    // ICBC fails fast with the window's end; CMB binds.
    let acc = app.verified_account().await;
    let e = app.bind(&acc, &app.card("ok_debit").await).await;
    assert_eq!(e.assert_error("ISSUER_MAINTENANCE")["retry_after"], at(Duration::hours(2)).as_str());
    assert_eq!(app.bind(&acc, &app.card("ok_credit").await).await.status, 202, "another issuer is not affected");
    let e = app.cryptogram(&payer, 100, "m_tea").await;
    let err = e.assert_error("ISSUER_MAINTENANCE");
    assert_eq!(err["details"]["announcement"]["en"], "ICBC is upgrading its systems for about two hours.");
    assert_eq!(err["retry_after"], at(Duration::hours(2)).as_str());

    // A holder's typing mistake at another bank is not the bank's failure.
    let typo = app.verified_account().await;
    app.bind(&typo, &app.card("wrong_cvv").await).await.assert_error("CVV_MISMATCH");
    // The status page: the window, the announcement, and ICBC's failures.
    let s = app.get("/v1/status").await.body;
    let ccb = issuer(&s, "CCB");
    assert_eq!(ccb["bind_failures_by_side"], json!({ "bank": 0, "holder_input": 1, "wallet": 0 }), "{ccb}");
    assert_eq!(ccb["bank_failure_rate"], 0.0);
    assert_eq!(s["maintenance"]["current"][0]["id"], wid.as_str(), "{s}");
    assert_eq!(s["maintenance"]["upcoming"][0]["issuer"], Value::Null, "a platform-wide window");
    let icbc = issuer(&s, "ICBC");
    assert_eq!(
        (icbc["in_maintenance"].as_bool(), icbc["maintenance_ends_at"].as_str()),
        (Some(true), Some(at(Duration::hours(2)).as_str()))
    );
    assert!(icbc["bind_failures"].as_i64().unwrap() >= 1 && icbc["bind_failure_rate"].as_f64().unwrap() > 0.0, "{icbc}");
    assert_eq!(icbc["bind_failures_by_side"]["bank"], icbc["bind_failures"], "maintenance is the bank's side: {icbc}");
    let cmb = issuer(&s, "CMB");
    assert_eq!((cmb["in_maintenance"].as_bool(), cmb["bind_failures"].as_i64()), (Some(false), Some(0)), "{cmb}");
    // 15 minutes later, those attempts are no longer counted.
    app.clock.advance(Duration::minutes(16));
    assert_eq!(issuer(&app.get("/v1/status").await.body, "ICBC")["bind_attempts"], 0);

    // Cancelled: ICBC works again; a second cancel finds nothing.
    let cancel = format!("{path}/{wid}/cancel");
    assert_eq!(app.request_as(&admin, Method::POST, &cancel, None).await.status, 200);
    app.request_as(&admin, Method::POST, &cancel, None).await.assert_error("NOT_FOUND");
    assert_eq!(app.cryptogram(&payer, 100, "m_tea").await.status, 201);
    let trail: Vec<String> = app.state.store.audit_entries(&wid).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(trail, ["maintenance.schedule", "maintenance.cancel"]);

    // A bank's own announced window (the simulator's PSBC upgrade) carries
    // its announcement too, and is on the status page.
    let psbc = app.cards().await.into_iter().find(|c| c["issuer"] == "PSBC").expect("a PSBC test card");
    let e = app.bind(&app.verified_account().await, &psbc).await;
    let err = e.assert_error("ISSUER_MAINTENANCE");
    assert_eq!((err["details"]["scope"].as_str(), err["details"]["issuer"].as_str()), (Some("issuer"), Some("PSBC")), "{err}");
    assert!(err["details"]["announcement"]["zh-CN"].as_str().unwrap().contains("邮储"), "{err}");
    assert!(err["details"]["starts_at"].is_string() && err["details"]["ends_at"] == err["retry_after"]);
    let s = app.get("/v1/status").await.body;
    let current = s["maintenance"]["current"].as_array().unwrap();
    assert!(current.iter().any(|w| w["source"] == "issuer" && w["issuer"] == "PSBC" && w["message"]["en"].is_string()), "{s}");

    // The platform-wide window, once it starts, stops every issuer, and says
    // it is the platform: another bank's card would not help.
    app.clock.advance(Duration::days(1));
    let e = app.bind(&app.verified_account().await, &app.card("ok_credit").await).await;
    let err = e.assert_error("PLATFORM_MAINTENANCE");
    assert!(err["retry_after"].is_string());
    assert_eq!(
        (err["details"]["scope"].as_str(), err["details"]["announcement"]["en"].as_str()),
        (Some("platform"), Some("Routine platform maintenance."))
    );
    assert!(!err["message"].as_str().unwrap().contains("银行系统正在维护"), "not told their bank is down: {err}");
}
on_both_backends!(maintenance_windows_fail_fast_and_show_in_status);

async fn a_failed_bind_is_diagnosed_and_becomes_a_ticket_that_escalates_when_late(app: TestApp) {
    let acc = app.verified_account().await;
    let (token, _) = app.session(&acc, "holder-phone").await;
    let card = app.card("phone_mismatch").await;
    let pan = card["card_number"].as_str().unwrap().to_owned();
    let failed = app.request_as(&token, Method::POST, &format!("/v1/accounts/{acc}/bindings"), Some(&TestApp::bind_body(&card))).await;
    let attempt =
        failed.assert_error("FOUR_ELEMENTS_PHONE_MISMATCH")["attempt_id"].as_str().expect("a failed bind names its attempt").to_owned();

    // Diagnosis: the reserved phone is the one failed item; what came before passed.
    let d = app.request_as(&token, Method::GET, &format!("/v1/accounts/{acc}/diagnosis?attempt_id={attempt}"), None).await;
    assert_eq!(d.status, 200, "{}", d.body);
    let items = d.body["items"].as_array().unwrap();
    let result =
        |name: &str| items.iter().find(|i| i["name"] == name).unwrap_or_else(|| panic!("{name}"))["result"].as_str().unwrap().to_owned();
    let failed_items: Vec<&str> = items.iter().filter(|i| i["result"] == "failed").map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(failed_items, ["reserved_phone"]);
    for passed in [
        "card_format",
        "card_accepted",
        "account_kyc",
        "account_standing",
        "risk_control",
        "issuer_maintenance",
        "holder_name",
        "id_number",
    ] {
        assert_eq!(result(passed), "passed", "{passed}");
    }
    assert_eq!(result("otp"), "unknown", "never reached");
    let phone_item = items.iter().find(|i| i["name"] == "reserved_phone").unwrap();
    assert_eq!(phone_item["evidence"]["bank_said"], "FOUR_ELEMENTS_PHONE_MISMATCH");
    let prep = &d.body["prepare_for_support"];
    assert_eq!(prep["error_code"], "FOUR_ELEMENTS_PHONE_MISMATCH");
    assert_eq!(prep["attempt_id"], attempt.as_str());
    assert_eq!(prep["device_id"], "holder-phone");
    assert!(prep["card_masked"].as_str().unwrap().ends_with(&pan[pan.len() - 4..]));
    assert!(!d.body.to_string().contains(&pan), "never the full card number");

    // A ticket from the failure, pre-filled: the holder types nothing but a note.
    let t = app
        .request_as(
            &token,
            Method::POST,
            &format!("/v1/accounts/{acc}/tickets"),
            Some(&json!({ "attempt_id": attempt, "note": "换了手机号" })),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.body);
    let number = t.body["number"].as_str().unwrap().to_owned();
    assert!(bangka_core::ticket::is_ticket_number(&number), "{number}");
    let today = crate::helpers::clock_now(&app.clock).date();
    assert!(number.starts_with(&format!("BK-{:04}{:02}{:02}-", today.year(), u8::from(today.month()), today.day())));
    assert_eq!((t.body["status"].as_str(), t.body["category"].as_str()), (Some("open"), Some("issuer")));
    let due = time::OffsetDateTime::parse(t.body["sla_due_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!((due - crate::helpers::clock_now(&app.clock) - time::Duration::hours(24)).abs() < time::Duration::seconds(1));
    let ctx = &t.body["context"];
    assert_eq!(ctx["error"]["code"], "FOUR_ELEMENTS_PHONE_MISMATCH");
    assert_eq!(ctx["attempt"]["id"], attempt.as_str());
    assert_eq!(ctx["issuer"], card["issuer"]);
    assert_eq!(ctx["device"]["device_id"], "holder-phone");
    assert!(ctx["diagnosis"].as_array().unwrap().iter().any(|i| i["name"] == "reserved_phone" && i["result"] == "failed"));
    assert!(!t.body.to_string().contains(&pan));
    // Numbers follow each other within the day.
    let second = app.post(&format!("/v1/accounts/{acc}/tickets"), json!({})).await;
    let n2 = second.body["number"].as_str().unwrap().to_owned();
    assert_eq!(n2[12..].parse::<u32>().unwrap(), number[12..].parse::<u32>().unwrap() + 1);
    assert_eq!(second.body["category"], "general");

    // Bad input changes nothing.
    let other = app.verified_account().await;
    let tickets_before = app.get(&format!("/v1/accounts/{acc}/tickets")).await.list().len();
    app.post(&format!("/v1/accounts/{other}/tickets"), json!({ "attempt_id": attempt })).await.assert_error("NOT_FOUND");
    app.post(&format!("/v1/accounts/{acc}/tickets"), json!({ "attempt_id": attempt, "binding_id": "bnd_x" }))
        .await
        .assert_error("MALFORMED_REQUEST");
    app.post(&format!("/v1/accounts/{acc}/tickets"), json!({ "note": "x".repeat(1001) })).await.assert_error("MALFORMED_REQUEST");
    app.get(&format!("/v1/accounts/{acc}/tickets/BK-20000101-000001")).await.assert_error("NOT_FOUND");
    assert_eq!(app.get(&format!("/v1/accounts/{acc}/tickets")).await.list().len(), tickets_before);

    // The holder escalates the second ticket once.
    let esc = app.post(&format!("/v1/accounts/{acc}/tickets/{n2}/escalate"), json!({ "reason": "急用" })).await;
    assert_eq!(
        (esc.status, esc.body["status"].as_str(), esc.body["escalation_reason"].as_str()),
        (200, Some("escalated"), Some("holder_request"))
    );
    app.post(&format!("/v1/accounts/{acc}/tickets/{n2}/escalate"), json!({})).await.assert_error("TICKET_STATE_CONFLICT");

    // Nobody answered the first within 24 hours: the SLA job escalates it, and tells the holder.
    assert_eq!(bangka_server::flows::tickets::escalate_overdue(&app.state).await.unwrap(), 0, "not late yet");
    app.clock.advance(time::Duration::hours(24) + time::Duration::seconds(1));
    assert_eq!(bangka_server::flows::tickets::escalate_overdue(&app.state).await.unwrap(), 1);
    assert_eq!(bangka_server::flows::tickets::escalate_overdue(&app.state).await.unwrap(), 0, "once");
    let t1 = app.get(&format!("/v1/accounts/{acc}/tickets/{number}")).await.body;
    assert_eq!((t1["status"].as_str(), t1["escalation_reason"].as_str()), (Some("escalated"), Some("sla_breach")));
    // It gets its escalated hours (issue 29: the passed deadline stayed, so
    // it stayed overdue), and no English code reaches the holder's history.
    assert_eq!(t1["overdue"], false, "{t1}");
    let due = time::OffsetDateTime::parse(t1["sla_due_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!(due > crate::helpers::clock_now(&app.clock) + Duration::hours(3), "{t1}");
    assert!(!t1["events"].to_string().contains("sla_breach"), "{}", t1["events"]);
    let push = app.get(&format!("/v1/demo/inbox/{acc}")).await.body["messages"][0]["body"].as_str().unwrap().to_owned();
    assert!(push.contains(&number) && push.contains("升级"), "{push}");

    // Agents: the queue, a comment, the resolution, closing; every step audited.
    let support = app.key_for(bangka_server::auth::Role::Support).await;
    let queue = app.request_as(&support, Method::GET, "/v1/ops/tickets?status=escalated", None).await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    let numbers: Vec<&str> = queue.body["data"].as_array().unwrap().iter().map(|t| t["number"].as_str().unwrap()).collect();
    assert!(numbers.contains(&number.as_str()) && numbers.contains(&n2.as_str()));
    app.get("/v1/ops/tickets").await.assert_error("FORBIDDEN");
    app.request_as(&support, Method::GET, "/v1/ops/tickets?status=lost", None).await.assert_error("MALFORMED_REQUEST");
    let ops = |path: String, body: Value| {
        let support = support.clone();
        let app = &app;
        async move { app.request_as(&support, Method::POST, &path, Some(&body)).await }
    };
    let base = format!("/v1/ops/tickets/{number}");
    assert_eq!(
        ops(format!("{base}/comment"), json!({ "body": "asked the holder to update the reserved phone at the bank" })).await.status,
        200
    );
    ops(format!("{base}/close"), json!({})).await.assert_error("TICKET_STATE_CONFLICT");
    let resolved = ops(format!("{base}/resolve"), json!({ "body": "请到银行柜台更新预留手机号后重新绑卡" })).await;
    assert_eq!(resolved.body["status"], "resolved", "{}", resolved.body);
    assert_eq!(ops(format!("{base}/close"), json!({})).await.body["status"], "closed");
    let kinds: Vec<String> = app.request_as(&support, Method::GET, &base, None).await.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["open", "escalate", "comment", "resolve", "close"]);
    let holder_view = app.get(&format!("/v1/accounts/{acc}/tickets/{number}")).await.body;
    let seen: Vec<&str> = holder_view["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(seen, ["open", "escalate", "resolve", "close"], "agents' internal comments stay internal");
    assert!(!holder_view.to_string().contains("asked the holder") && !holder_view.to_string().contains("key_"), "{holder_view}");
    let trail: Vec<String> = app.state.store.audit_entries(&number).await.unwrap().iter().map(|e| e.action.clone()).collect();
    assert_eq!(trail, ["ticket.open", "ticket.escalate", "ticket.comment", "ticket.resolve", "ticket.close"]);

    // Evidence for a complaint: one signed bundle.
    let ev = app.request_as(&support, Method::GET, &format!("{base}/evidence"), None).await;
    assert_eq!(ev.status, 200, "{}", ev.body);
    let key = app.get("/v1/receipts/public-key").await.body;
    assert!(bangka_store::verify_receipt(&ev.body, key["public_key"].as_str()).is_ok());
    assert!(ev.body["receipt"]["audit_excerpt"].as_array().unwrap().iter().any(|e| e["action"] == "ticket.resolve"));
    assert_eq!(
        (ev.body["receipt"]["operation"].as_str(), ev.body["receipt"]["id"].as_str()),
        (Some("ticket_evidence"), Some(number.as_str()))
    );
    let mut forged = ev.body.clone();
    forged["receipt"]["ticket"]["status"] = json!("open");
    assert!(bangka_store::verify_receipt(&forged, key["public_key"].as_str()).is_err(), "an edited bundle fails");
    assert_eq!(app.state.store.verify_audit().await.unwrap().problem, None);

    // Metrics count what happened.
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("bangka_tickets{status=\"closed\"} 1"), "{metrics}");
    assert!(metrics.contains("code=\"FOUR_ELEMENTS_PHONE_MISMATCH\""));
    assert!(metrics.contains("bangka_ticket_sla_breaches_total{category=\"issuer\"}"));
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("bangka_http_request_duration_seconds_bucket{") && l.contains("route=\"/v1/accounts/{id}/tickets\"")),
        "{metrics}"
    );
    assert!(!metrics.contains(&acc), "no account ids in labels");
}
on_both_backends!(a_failed_bind_is_diagnosed_and_becomes_a_ticket_that_escalates_when_late);

async fn a_bound_card_that_cannot_pay_is_diagnosed(app: TestApp) {
    let p = app.payer("ok_debit").await;
    app.post(&format!("/v1/accounts/{}/bindings/{}/freeze", p.account, p.binding), json!({ "reason": "holder_request" })).await;
    let d = app.get(&format!("/v1/accounts/{}/diagnosis?binding_id={}", p.account, p.binding)).await;
    assert_eq!(d.status, 200, "{}", d.body);
    let item = d.body["items"].as_array().unwrap().iter().find(|i| i["name"] == "binding_state").unwrap().clone();
    assert_eq!(item["result"], "failed");
    assert_eq!(item["evidence"]["binding_status"], "frozen");
    let otp = d.body["items"].as_array().unwrap().iter().find(|i| i["name"] == "otp").unwrap().clone();
    assert_eq!(otp["evidence"]["account_last_code_sms"]["delivered"], true, "{otp}");
    app.get(&format!("/v1/accounts/{}/diagnosis?binding_id=bnd_nope", p.account)).await.assert_error("NOT_FOUND");
    app.get(&format!("/v1/accounts/{}/diagnosis?attempt_id=att_nope", p.account)).await.assert_error("NOT_FOUND");
}
on_both_backends!(a_bound_card_that_cannot_pay_is_diagnosed);

/// Issue 16, item 8: a bound card's diagnosis asks the bank, so a card the
/// bank closed after it was bound is named as closed, with what to do.
async fn a_diagnosis_asks_the_bank_about_a_bound_card(app: TestApp) {
    let acc = app.verified_account().await;
    let b = app.bind_confirmed(&acc, "ok_debit_boc").await;
    let path = format!("/v1/accounts/{acc}/diagnosis?binding_id={}", b["id"].as_str().unwrap());
    let item = |d: &Value, name: &str| d["items"].as_array().unwrap().iter().find(|i| i["name"] == name).unwrap().clone();
    let before = app.get(&path).await;
    assert_eq!(item(&before.body, "issuer_card_state")["result"], "passed", "{}", before.body);
    app.post("/v1/demo/cards/ok_debit_boc/bank-state", json!({ "state": "closed" })).await;
    let after = app.get(&path).await;
    let state = item(&after.body, "issuer_card_state");
    assert_eq!(state["result"], "failed", "{state}");
    assert_eq!(state["error_code"], "CARD_CLOSED");
    assert!(state["evidence"]["asked_the_bank_at"].is_string());
    assert!(state["summary"].as_str().is_some_and(|s| s.contains("销户")), "{state}");
    assert!(state["remedy"].as_array().is_some_and(|r| !r.is_empty()), "{state}");
    assert!(state["title"].as_str().is_some_and(|t| !t.is_empty()));
    app.post("/v1/demo/cards/ok_debit_boc/bank-state", json!({ "state": "normal", "answering": false })).await;
    let down = app.get(&path).await;
    assert_eq!(item(&down.body, "issuer_available")["result"], "failed", "{}", down.body);
}
on_both_backends!(a_diagnosis_asks_the_bank_about_a_bound_card);

/// Issue 16, item 7: a ticket carries what an agent needs to help at once —
/// the holder's masked name and ID, the phone typed on the failed bind,
/// the app, OS and device model, the holder's attachments (references,
/// never images) and the card's recent payments.
async fn a_ticket_carries_the_support_context(app: TestApp) {
    let acc = app.verified_account().await;
    let client = [
        ("bangka-app-version", "5.2.0"),
        ("bangka-os", "iOS 18.1"),
        ("bangka-device-model", "iPhone15,2"),
        ("user-agent", "BangkaWallet/5.2.0"),
    ];
    let card = app.card("phone_mismatch").await;
    let failed = app.request(Method::POST, &format!("/v1/accounts/{acc}/bindings"), Some(&TestApp::bind_body(&card)), &client).await;
    let attempt = failed.assert_error("FOUR_ELEMENTS_PHONE_MISMATCH")["attempt_id"].as_str().unwrap().to_owned();
    let typed = card["phone"].as_str().unwrap();
    let masked = format!("{}****{}", &typed[..3], &typed[7..]);
    let d = app.get(&format!("/v1/accounts/{acc}/diagnosis?attempt_id={attempt}")).await;
    let phone_item = d.body["items"].as_array().unwrap().iter().find(|i| i["name"] == "reserved_phone").unwrap().clone();
    assert_eq!(phone_item["evidence"]["phone_used_masked"], masked.as_str(), "{phone_item}");
    let bad = json!({ "attempt_id": attempt, "attachments": [{ "type": "photo_of_cat", "ref": "wallet://x" }] });
    app.post(&format!("/v1/accounts/{acc}/tickets"), bad).await.assert_error("MALFORMED_REQUEST");
    let body = json!({ "attempt_id": attempt, "note": "银行说预留的是这个号", "attachments": [{ "type": "screenshot", "ref": "wallet://shots/err-1.png" }] });
    let t = app.post(&format!("/v1/accounts/{acc}/tickets"), body).await;
    assert_eq!(t.status, 201, "{}", t.body);
    let c = &t.body["context"];
    assert_eq!(c["attempt"]["phone_used_masked"], masked.as_str(), "{c}");
    assert_eq!(c["attempt"]["client"]["app_version"], "5.2.0", "{c}");
    assert_eq!(c["attempt"]["client"]["device_model"], "iPhone15,2");
    assert_eq!(c["account"]["holder"]["real_name_masked"].as_str().map(|n| n.ends_with('*') || n.contains('*')), Some(true), "{c}");
    assert!(c["account"]["holder"]["id_number_masked"].as_str().is_some_and(|i| i.contains('*')), "{c}");
    assert_eq!(c["attachments"], json!([{ "type": "screenshot", "ref": "wallet://shots/err-1.png" }]));
    // About a bound card: its recent payments.
    let p = app.payer("ok_debit").await;
    let (token, cryptogram) = app.cryptogram_ok(&p, 1234, "m_ctx").await;
    assert_eq!(app.pay(&token, &cryptogram, 1234, "m_ctx").await.status, 201);
    let t = app.post(&format!("/v1/accounts/{}/tickets", p.account), json!({ "binding_id": p.binding })).await;
    assert_eq!(t.body["context"]["recent_payments"][0]["amount"]["minor"], 1234, "{}", t.body);
}
on_both_backends!(a_ticket_carries_the_support_context);

/// Issue 16, item 6: a ticket support cannot resolve is closed as such,
/// with a reason, and the holder is told where to take it next — the bank,
/// the consumer complaint line 12315, the central bank's line 12363.
async fn an_unresolved_ticket_names_where_to_go_next(app: TestApp) {
    let acc = app.verified_account().await;
    let t = app.post(&format!("/v1/accounts/{acc}/tickets"), json!({ "note": "银行扣款但商户未到账" })).await;
    let number = t.body["number"].as_str().unwrap().to_owned();
    let support = app.key_for(Role::Support).await;
    let close = format!("/v1/ops/tickets/{number}/close");
    app.request_as(&support, Method::POST, &close, Some(&json!({}))).await.assert_error("TICKET_STATE_CONFLICT");
    app.request_as(&support, Method::POST, &close, Some(&json!({ "unresolved": true }))).await.assert_error("OPS_REASON_REQUIRED");
    let reason = json!({ "unresolved": true, "reason": "扣款争议需由发卡银行调查" });
    let closed = app.request_as(&support, Method::POST, &close, Some(&reason)).await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    let mine = app.get(&format!("/v1/accounts/{acc}/tickets/{number}")).await.body;
    assert_eq!((mine["status"].as_str(), mine["outcome"].as_str()), (Some("closed"), Some("unresolved")), "{mine}");
    let phones: Vec<&str> = mine["escalation_routes"].as_array().unwrap().iter().filter_map(|r| r["phone"].as_str()).collect();
    assert_eq!(phones, ["12315", "12363"]);
    assert_eq!(mine["events"].as_array().unwrap().last().unwrap()["kind"], "close_unresolved");
    let inbox = app.get(&format!("/v1/demo/inbox/{acc}")).await.body;
    assert!(inbox.to_string().contains("12363"), "{inbox}");
}
on_both_backends!(an_unresolved_ticket_names_where_to_go_next);

/// Tickets opened at the same moment each take their own number: the day's
/// counter is the guard of the write-set that takes it, and a request that
/// lost the race decides again. Each answer is the ticket as stored.
async fn tickets_opened_at_once_take_distinct_numbers(app: TestApp) {
    let acc = app.verified_account().await;
    let app = std::sync::Arc::new(app);
    let mut set = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (app, acc) = (app.clone(), acc.clone());
        set.spawn(async move { app.post(&format!("/v1/accounts/{acc}/tickets"), json!({ "note": format!("ticket {i}") })).await });
    }
    let mut answered = Vec::new();
    while let Some(r) = set.join_next().await {
        let r = r.unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        answered.push((r.body["number"].as_str().unwrap().to_owned(), r.body["note"].clone()));
    }
    answered.sort_by(|a, b| a.0.cmp(&b.0));
    let listed = app.get(&format!("/v1/accounts/{acc}/tickets?limit=100")).await;
    let mut stored: Vec<(String, serde_json::Value)> =
        listed.list().iter().map(|t| (t["number"].as_str().unwrap().to_owned(), t["note"].clone())).collect();
    stored.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(stored.len(), 8, "{stored:?}");
    assert_eq!(answered, stored);
    let day: Vec<u32> = stored.iter().map(|(n, _)| n[12..].parse().unwrap()).collect();
    assert_eq!(day, (day[0]..day[0] + 8).collect::<Vec<_>>(), "numbers follow each other");
    assert!(app.state.store.verify_audit().await.unwrap().problem.is_none());
}
on_both_backends!(tickets_opened_at_once_take_distinct_numbers);

/// Tickets go both ways (issue 29): the holder writes back with documents,
/// an agent answers (the holder is told) or leaves an internal note (the
/// holder never sees it); the thread shows both sides in order; a closed
/// ticket takes no more messages, and a refused message changes nothing.
async fn tickets_go_both_ways(app: TestApp) {
    let acc = app.verified_account().await;
    let t = app.post(&format!("/v1/accounts/{acc}/tickets"), json!({ "note": "绑卡一直失败" })).await;
    assert_eq!(t.status, 201, "{}", t.body);
    let number = t.body["number"].as_str().unwrap().to_owned();
    let mine = format!("/v1/accounts/{acc}/tickets/{number}");
    let shot = json!([{ "type": "screenshot", "ref": "wallet/shots/1.png" }]);
    let r = app.post(&format!("{mine}/messages"), json!({ "text": "补充截图", "attachments": shot })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let thread = r.body["messages"].as_array().unwrap();
    assert_eq!(thread.len(), 2, "the opening note, then the message: {thread:?}");
    assert_eq!((thread[0]["from"].as_str(), thread[0]["text"].as_str()), (Some("holder"), Some("绑卡一直失败")));
    assert_eq!(thread[1]["attachments"], shot);
    // Bad input is refused and changes nothing.
    app.post(&format!("{mine}/messages"), json!({ "text": "  " })).await.assert_error("MALFORMED_REQUEST");
    app.post(&format!("/v1/accounts/{acc}/tickets/BK-20200101-000001/messages"), json!({ "text": "x" })).await.assert_error("NOT_FOUND");

    let support = app.key_for(bangka_server::auth::Role::Support).await;
    let reply = |text: &str, internal: bool| {
        let (app, support, number) = (&app, &support, &number);
        let body = json!({ "text": text, "internal": internal });
        async move { app.request_as(support, Method::POST, &format!("/v1/ops/tickets/{number}/reply"), Some(&body)).await }
    };
    let r = reply("已转发银行核实，请稍候", false).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = reply("疑似银行侧风控，内部跟进", true).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["messages"].as_array().unwrap().last().unwrap()["internal"], true, "agents see their notes");
    app.request_as(&support, Method::POST, &format!("/v1/ops/tickets/{number}/reply"), Some(&json!({ "text": "x", "channel": "sms" })))
        .await
        .assert_error("UNKNOWN_FIELD");

    let seen = app.get(&mine).await.body;
    let thread: Vec<(String, String)> = seen["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["from"].as_str().unwrap().to_owned(), m["text"].as_str().unwrap().to_owned()))
        .collect();
    let want = [("holder", "绑卡一直失败"), ("holder", "补充截图"), ("agent", "已转发银行核实，请稍候")];
    assert_eq!(thread, want.map(|(a, b)| (a.to_owned(), b.to_owned())), "the internal note is not the holder's to see");
    assert!(!seen.to_string().contains("内部跟进"));
    let phone = app.state.store.get_account(&acc).await.unwrap().unwrap().phone;
    let inbox = app.get(&format!("/v1/demo/inbox/{phone}")).await.body;
    let told = inbox["messages"].as_array().unwrap().iter().filter_map(|m| m["body"].as_str()).any(|b| b.contains("已转发银行核实"));
    assert!(told, "the holder is told of the reply: {inbox}");
    assert!(!inbox.to_string().contains("内部跟进"), "never of an internal note");

    // Closed: no more messages from either side.
    let close = app
        .request_as(
            &support,
            Method::POST,
            &format!("/v1/ops/tickets/{number}/close"),
            Some(&json!({ "unresolved": true, "reason": "需由银行处理" })),
        )
        .await;
    assert_eq!(close.status, 200, "{}", close.body);
    let before = app.state.store.ticket_events(&number).await.unwrap().len();
    app.post(&format!("{mine}/messages"), json!({ "text": "还在吗" })).await.assert_error("TICKET_STATE_CONFLICT");
    reply("补充说明", false).await.assert_error("TICKET_STATE_CONFLICT");
    assert_eq!(app.state.store.ticket_events(&number).await.unwrap().len(), before, "refused messages changed nothing");
    assert!(app.state.store.verify_audit().await.unwrap().problem.is_none());
}
on_both_backends!(tickets_go_both_ways);
