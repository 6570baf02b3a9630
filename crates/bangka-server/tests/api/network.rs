//! The bank over the network (issue 15): Bangka talks the issuer protocol
//! over real HTTP to `bangka simulator serve` (here in this process, on a
//! port of its own), through every fault the simulator injects. Money is
//! never held twice nor left held by a failed payment, and the holder is
//! told what happened in the catalog's words. SQLite only: the store is
//! not what is under test.

use std::sync::Arc;

use bangka_server::acp::Keys;
use bangka_server::acp::simulator::{SimService, router};
use serde_json::{Value, json};

use crate::helpers::{Backend, Options, TestApp, spawn_app_with};

struct Bank {
    url: String,
    client: reqwest::Client,
}

impl Bank {
    async fn start(keys_path: &std::path::Path) -> Bank {
        Bank::with_latency(keys_path, std::time::Duration::ZERO).await
    }

    async fn with_latency(keys_path: &std::path::Path, latency: std::time::Duration) -> Bank {
        let keys = Keys::load_or_create(keys_path).unwrap();
        let sim = Arc::new(bangka_issuer::Simulator::new(Arc::new(bangka_core::clock::SystemClock)));
        let service = SimService::new(sim, keys, latency, Vec::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router(service)).await });
        Bank { url, client: reqwest::Client::new() }
    }

    async fn fault(&self, operation: &str, mode: &str, count: Option<u32>) {
        let body = json!({ "operation": operation, "mode": mode, "count": count, "latency_ms": 300 });
        let r = self.client.post(format!("{}/sim/faults", self.url)).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }

    /// A fault whose `latency_ms` is `ms` (a delay, or how late an order arrives).
    async fn fault_after(&self, operation: &str, mode: &str, count: Option<u32>, ms: u64) {
        let body = json!({ "operation": operation, "mode": mode, "count": count, "latency_ms": ms });
        let r = self.client.post(format!("{}/sim/faults", self.url)).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }

    async fn clear(&self) {
        self.client.delete(format!("{}/sim/faults", self.url)).send().await.unwrap();
    }

    async fn available(&self, scenario: &str) -> i64 {
        let r: Value = self.client.get(format!("{}/sim/cards/{scenario}/available", self.url)).send().await.unwrap().json().await.unwrap();
        r["available_fen"].as_i64().unwrap()
    }
}

async fn networked() -> (TestApp, Bank) {
    let dir = std::env::temp_dir().join(format!("bangka-net-{}", crate::helpers::hex(6)));
    let keys = dir.join("issuer-keys.json");
    let bank = Bank::start(&keys).await;
    // The payment job runs when a test says so (it asks the bank in the background otherwise).
    let opts = Options { issuer: Some((bank.url.clone(), keys)), background_jobs: false, ..Options::default() };
    (spawn_app_with(Backend::Sqlite, opts).await.expect("sqlite always runs"), bank)
}

#[tokio::test]
async fn a_bind_and_a_payment_go_over_the_network() {
    let (app, bank) = networked().await;
    let before = bank.available("ok_debit").await;
    let p = app.payer("ok_debit").await;
    let (token, cg) = app.cryptogram_ok(&p, 1234, "m_net").await;
    let paid = app.pay(&token, &cg, 1234, "m_net").await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(paid.body["status"], "authorized");
    assert_eq!(bank.available("ok_debit").await, before - 1234, "the bank holds the amount once");
    // A refusal crosses the protocol with its precise code.
    let account = app.verified_account().await;
    app.bind(&account, &app.card("phone_mismatch").await).await.assert_error("FOUR_ELEMENTS_PHONE_MISMATCH");
}

/// Every fault mode on the authorization: the payment ends authorized with
/// one hold, or failed with none, and the holder is told which.
#[tokio::test]
async fn every_fault_on_an_authorization_holds_money_once_or_not_at_all() {
    let (app, bank) = networked().await;
    let p = app.payer("ok_debit").await;
    // A new line first: libtest prints the test's name on the line it starts.
    println!("\n| fault on authorize | payment | held | holder was told |");
    println!("|---|---|---|---|");
    for mode in ["latency", "error_5xx", "reset", "answer_lost", "duplicate", "bad_signature", "no_answer"] {
        bank.clear().await;
        let before = bank.available("ok_debit").await;
        let (token, cg) = app.cryptogram_ok(&p, 100, "m_net").await;
        bank.fault("authorize", mode, Some(1)).await;
        let r = app.pay(&token, &cg, 100, "m_net").await;
        let held = before - bank.available("ok_debit").await;
        let status = r.body["status"].as_str().or(r.code()).unwrap_or("?").to_owned();
        println!("| {mode} | {} | {held} | {} |", r.status, status);
        match r.status {
            201 => assert_eq!((r.body["status"].as_str(), held), (Some("authorized"), 100), "{mode}: one hold"),
            _ => {
                let e = r.assert_error("ISSUER_UNAVAILABLE");
                assert!(e["retry_after"].is_string(), "{mode}: when to try again");
                assert_eq!(held, 0, "{mode}: a failed payment leaves nothing held");
            }
        }
        if ["error_5xx", "reset", "answer_lost", "duplicate", "bad_signature", "no_answer", "latency"].contains(&mode) {
            // Each of these is resolved by a query or a safe resend: the payment goes through.
            assert_eq!(r.status, 201, "{mode}: resolved without acting twice: {}", r.body);
        }
    }
    // The question about a lost answer under every fault too: the answer of
    // the authorization is lost, and the first query meets the fault.
    for mode in MODES {
        bank.clear().await;
        let before = bank.available("ok_debit").await;
        let (token, cg) = app.cryptogram_ok(&p, 100, "m_net").await;
        bank.fault("authorize", "answer_lost", Some(1)).await;
        bank.fault("query", mode, Some(1)).await;
        let r = app.pay(&token, &cg, 100, "m_net").await;
        let held = before - bank.available("ok_debit").await;
        println!(
            "| answer_lost, then {mode} on query | {} | {held} | {} |",
            r.status,
            r.body["status"].as_str().or(r.code()).unwrap_or("?")
        );
        assert_eq!((r.status, r.body["status"].as_str(), held), (201, Some("authorized"), 100), "query under {mode}: {}", r.body);
    }
}

/// A bank that does not answer opens the circuit: the next calls are told
/// at once when to try again, and a bank that answers again closes it.
#[tokio::test]
async fn a_silent_bank_opens_the_circuit() {
    let (app, bank) = networked().await;
    let account = app.verified_account().await;
    let card = app.card("ok_debit").await;
    bank.fault("verify", "error_5xx", None).await;
    for _ in 0..bangka_server::acp::connector::BREAKER_FAILURES {
        let e = app.bind(&account, &card).await;
        assert_eq!(e.assert_error("ISSUER_UNAVAILABLE")["details"]["outcome"], "not_processed", "{}", e.body);
    }
    let started = std::time::Instant::now();
    let open = app.bind(&account, &card).await;
    let e = open.assert_error("ISSUER_UNAVAILABLE");
    assert_eq!(e["details"]["circuit"], "open", "{}", open.body);
    assert!(e["retry_after"].is_string());
    assert!(started.elapsed() < std::time::Duration::from_millis(500), "an open circuit answers at once");
    bank.clear().await;
}

/// The bank took the authorization but neither its answer nor any query
/// gets through: the outcome is unknown, so the payment stays pending and
/// the holder is told the bank has not confirmed yet (and when to look
/// again). The payment job asks the bank once it answers: the payment is
/// authorized with the one hold the bank made, and the holder is told.
#[tokio::test]
async fn an_authorization_whose_answer_stays_lost_is_resolved_by_the_payment_job() {
    let (app, bank) = networked().await;
    let p = app.payer("ok_debit").await;
    let before = bank.available("ok_debit").await;
    let (token, cg) = app.cryptogram_ok(&p, 500, "m_net").await;
    bank.fault("authorize", "answer_lost", None).await;
    bank.fault("query", "error_5xx", None).await;
    let r = app.pay(&token, &cg, 500, "m_net").await;
    assert_eq!((r.status, r.body["status"].as_str()), (202, Some("pending")), "{}", r.body);
    assert!(r.body["confirmation"]["message"].as_str().is_some_and(|m| m.contains("银行尚未确认")), "{}", r.body);
    assert!(r.body["confirmation"]["check_again_at"].is_string());
    assert_eq!(bank.available("ok_debit").await, before - 500, "the bank holds it once");
    let pid = r.body["id"].as_str().unwrap().to_owned();

    // Still unanswered: the job leaves it pending.
    app.clock.advance(time::Duration::seconds(31));
    assert_eq!(bangka_server::flows::payments::recover(&app.state).await.unwrap(), 0);
    assert_eq!(app.get(&format!("/v1/payments/{pid}")).await.body["status"], "pending");

    // The bank answers again: the job asks, and the payment is authorized.
    bank.clear().await;
    app.clock.advance(time::Duration::seconds(31));
    assert_eq!(bangka_server::flows::payments::recover(&app.state).await.unwrap(), 1);
    let done = app.get(&format!("/v1/payments/{pid}")).await;
    assert_eq!(done.body["status"], "authorized", "{}", done.body);
    assert!(done.body["confirmation"].is_null());
    assert_eq!(bank.available("ok_debit").await, before - 500, "still one hold");
    let inbox = app.get(&format!("/v1/demo/inbox/{}", app.card("ok_debit").await["phone"].as_str().unwrap())).await;
    assert!(inbox.body["messages"].to_string().contains("已由银行确认"), "the holder is told: {}", inbox.body);
}

/// Finding 2 of issue 24: a delaying proxy held the authorization while
/// every query failed; the payment answered 202 pending; the payment job's
/// query then found nothing and failed it ("the bank took nothing, pay
/// again"), and the order reached the bank after that and held the money.
/// Now "not found" is not "never made" while the order may still arrive
/// (the bank's five minutes after `sent_at`, and one more): the payment
/// stays pending, and the late hold is found and recorded. An order that
/// never arrives fails only after that window, with nothing held.
#[tokio::test]
async fn a_late_delivered_authorization_never_leaves_money_held_on_a_failed_payment() {
    let (app, bank) = networked().await;
    let p = app.payer("ok_debit").await;
    let before = bank.available("ok_debit").await;
    let (token, cg) = app.cryptogram_ok(&p, 5000, "m_net").await;
    bank.fault_after("authorize", "delay_then_deliver", Some(1), 4000).await;
    bank.fault("query", "error_5xx", None).await;
    let r = app.pay(&token, &cg, 5000, "m_net").await;
    assert_eq!((r.status, r.body["status"].as_str()), (202, Some("pending")), "{}", r.body);
    let pid = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(bank.available("ok_debit").await, before, "the order has not arrived yet");

    // The queries answer again before the order has arrived: nothing found.
    bank.clear().await;
    app.clock.advance(time::Duration::seconds(31));
    assert_eq!(bangka_server::flows::payments::recover(&app.state).await.unwrap(), 0);
    assert_eq!(app.get(&format!("/v1/payments/{pid}")).await.body["status"], "pending", "not found is not never made");
    // The order reaches the bank, which holds the money.
    for _ in 0..200 {
        if bank.available("ok_debit").await != before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(bank.available("ok_debit").await, before - 5000, "the late order was delivered");
    app.clock.advance(time::Duration::seconds(31));
    assert_eq!(bangka_server::flows::payments::recover(&app.state).await.unwrap(), 1);
    let done = app.get(&format!("/v1/payments/{pid}")).await;
    assert_eq!(done.body["status"], "authorized", "the hold is the payment's: {}", done.body);
    // The merchant can release it: nothing is held that Bangka does not know of.
    let void = app.post(&format!("/v1/payments/{pid}/void"), json!({})).await;
    assert_eq!((void.status, void.body["status"].as_str()), (200, Some("voided")), "{}", void.body);
    assert_eq!(bank.available("ok_debit").await, before);

    // An order that never arrives (held past the bank's window): failed only then, nothing held.
    let (token, cg) = app.cryptogram_ok(&p, 700, "m_net").await;
    bank.fault_after("authorize", "delay_then_deliver", Some(1), 600_000).await;
    bank.fault("query", "error_5xx", None).await;
    let r = app.pay(&token, &cg, 700, "m_net").await;
    assert_eq!(r.status, 202, "{}", r.body);
    let pid = r.body["id"].as_str().unwrap().to_owned();
    bank.clear().await;
    for _ in 0..5 {
        app.clock.advance(time::Duration::seconds(61));
        bangka_server::flows::payments::recover(&app.state).await.unwrap();
        assert_eq!(app.get(&format!("/v1/payments/{pid}")).await.body["status"], "pending", "within the window");
    }
    app.clock.advance(bangka_server::flows::payments::ORDER_MAY_ARRIVE_FOR);
    assert_eq!(bangka_server::flows::payments::recover(&app.state).await.unwrap(), 1);
    assert_eq!(app.get(&format!("/v1/payments/{pid}")).await.body["status"], "failed");
    assert_eq!(bank.available("ok_debit").await, before, "a failed payment holds nothing");
}

/// `/v1/status` shows an open circuit with when it closes, and `/readyz`
/// says so when the bank over the network does not answer at all.
#[tokio::test]
async fn status_and_readiness_show_the_bank() {
    let (app, bank) = networked().await;
    assert_eq!(app.get("/readyz").await.status, 200);
    let account = app.verified_account().await;
    let card = app.card("ok_debit").await;
    bank.fault("verify", "reset", None).await;
    for _ in 0..bangka_server::acp::connector::BREAKER_FAILURES {
        app.bind(&account, &card).await.assert_error("ISSUER_UNAVAILABLE");
    }
    let status = app.get("/v1/status").await;
    let icbc = status.body["issuers"].as_array().unwrap().iter().find(|i| i["id"] == "ICBC").unwrap().clone();
    assert!(icbc["circuit_open_until"].is_string(), "{icbc}");
    let other = status.body["issuers"].as_array().unwrap().iter().find(|i| i["id"] == "CCB").unwrap().clone();
    assert!(other["circuit_open_until"].is_null(), "one bank's silence does not stop the others: {other}");

    // A bank that is not there at all.
    let dir = std::env::temp_dir().join(format!("bangka-net-{}", crate::helpers::hex(6)));
    let keys = dir.join("issuer-keys.json");
    Keys::load_or_create(&keys).unwrap();
    let nowhere = Options { issuer: Some(("http://127.0.0.1:9".into(), keys)), ..Options::default() };
    let lonely = spawn_app_with(Backend::Sqlite, nowhere).await.unwrap();
    let r = lonely.get("/readyz").await;
    assert_eq!((r.status, r.body["issuer"].as_str()), (503, Some("unreachable")), "{}", r.body);
}

const MODES: [&str; 7] = ["latency", "error_5xx", "reset", "answer_lost", "duplicate", "bad_signature", "no_answer"];

/// Every fault mode on every money step after the authorization (capture,
/// refund, void) and on the bind's verification and a lost-card report:
/// the step goes through once — the bank's balance moves exactly as one
/// effect would move it — and the holder sees the normal answer.
#[tokio::test]
async fn every_fault_on_every_step_acts_once() {
    let (app, bank) = networked().await;
    let p = app.payer("ok_debit").await;
    let mut table = vec!["| step | fault | answer | bank moved by |".to_owned(), "|---|---|---|---|".to_owned()];
    for step in ["capture", "refund", "void"] {
        for mode in MODES {
            bank.clear().await;
            let start = bank.available("ok_debit").await;
            let (token, cg) = app.cryptogram_ok(&p, 200, "m_net").await;
            let paid = app.pay(&token, &cg, 200, "m_net").await;
            assert_eq!(paid.status, 201, "{}", paid.body);
            let pid = paid.body["id"].as_str().unwrap().to_owned();
            if step == "refund" {
                assert_eq!(app.post(&format!("/v1/payments/{pid}/capture"), json!({ "amount": 200 })).await.status, 200);
            }
            bank.fault(step, mode, Some(1)).await;
            let r = match step {
                "capture" => app.post(&format!("/v1/payments/{pid}/capture"), json!({ "amount": 150 })).await,
                "refund" => app.post(&format!("/v1/payments/{pid}/refund"), json!({ "amount": 80 })).await,
                _ => app.post(&format!("/v1/payments/{pid}/void"), json!({})).await,
            };
            let moved = start - bank.available("ok_debit").await;
            table.push(format!("| {step} | {mode} | {} {} | {moved} |", r.status, r.body["status"].as_str().unwrap_or("")));
            assert_eq!(r.status, 200, "{step} under {mode}: {}", r.body);
            let expected = match step {
                "capture" => 150, // the hold of 200 became a charge of 150, the rest released
                "refund" => 200 - 80,
                _ => 0,
            };
            assert_eq!(moved, expected, "{step} under {mode}: one effect");
        }
    }
    // The bind's verification (asks only) and a lost-card report (acts).
    let account = app.verified_account().await;
    let card = app.card("ok_debit_ccb").await;
    for mode in MODES {
        bank.clear().await;
        bank.fault("verify", mode, Some(1)).await;
        let r = app.bind(&account, &card).await;
        table.push(format!("| verify | {mode} | {} {} | - |", r.status, r.body["status"].as_str().or(r.code()).unwrap_or("")));
        assert!(r.status < 300, "verify under {mode}: {}", r.body);
    }
    let pending = app.get(&format!("/v1/accounts/{account}/bindings")).await;
    let pendings = pending.list().iter().filter(|b| b["status"] == "pending_verification").count();
    assert_eq!(pendings, 1, "seven binds of one card under faults: one pending binding");
    bank.clear().await;
    bank.fault("report_lost", "answer_lost", Some(1)).await;
    let lost = app.post(&format!("/v1/accounts/{}/bindings/{}/freeze", p.account, p.binding), json!({ "reason": "card_lost" })).await;
    table.push(format!("| report_lost | answer_lost | {} {} | - |", lost.status, lost.body["status"].as_str().unwrap_or("")));
    assert_eq!((lost.status, lost.body["status"].as_str()), (200, Some("frozen")), "{}", lost.body);
    println!("\n{}", table.join("\n"));
}

/// `--issuer-url ICBC=URL,URL`: ICBC's cards go to their own bank, the
/// rest to the other; a bank no URL reaches is refused plainly, sending nothing.
#[tokio::test]
async fn each_issuer_can_have_its_own_url() {
    let dir = std::env::temp_dir().join(format!("bangka-net-{}", crate::helpers::hex(6)));
    let keys = dir.join("issuer-keys.json");
    let icbc = Bank::start(&keys).await;
    let others = Bank::start(&keys).await;
    let opts =
        Options { issuer: Some((format!("ICBC={},{}", icbc.url, others.url), keys.clone())), background_jobs: false, ..Options::default() };
    let app = spawn_app_with(Backend::Sqlite, opts).await.unwrap();
    let p = app.payer("ok_debit").await; // ICBC
    let (token, cg) = app.cryptogram_ok(&p, 300, "m_net").await;
    assert_eq!(app.pay(&token, &cg, 300, "m_net").await.status, 201);
    assert_eq!(bank_moved(&icbc, &others, "ok_debit").await, (300, 0), "ICBC's bank held it");
    let q = app.payer("ok_debit_ccb").await; // CCB
    let (token, cg) = app.cryptogram_ok(&q, 400, "m_net").await;
    assert_eq!(app.pay(&token, &cg, 400, "m_net").await.status, 201);
    assert_eq!(bank_moved(&icbc, &others, "ok_debit_ccb").await, (0, 400), "CCB's went to the other");

    let only_icbc = Options { issuer: Some((format!("ICBC={}", icbc.url), keys)), background_jobs: false, ..Options::default() };
    let app = spawn_app_with(Backend::Sqlite, only_icbc).await.unwrap();
    let account = app.verified_account().await;
    let refused = app.bind(&account, &app.card("ok_debit_ccb").await).await;
    assert_eq!(refused.assert_error("ISSUER_UNAVAILABLE")["details"]["outcome"], "not_processed", "{}", refused.body);
}

/// How much each of two banks moved a test card's balance (from its start).
async fn bank_moved(a: &Bank, b: &Bank, scenario: &str) -> (i64, i64) {
    let full = 1_000_000;
    (full - a.available(scenario).await, full - b.available(scenario).await)
}

/// No lock is held across a bank call: with 200 ms of bank latency, 64
/// binds sent at once (64 accounts, SQLite's one writer) reach the bank
/// together, not one after another. Counted at the bank (the most orders
/// it held at once), not timed.
#[tokio::test]
async fn binds_are_not_serialized_behind_a_slow_bank() {
    let dir = std::env::temp_dir().join(format!("bangka-net-{}", crate::helpers::hex(6)));
    let keys = dir.join("issuer-keys.json");
    let bank = Bank::with_latency(&keys, std::time::Duration::from_millis(200)).await;
    // One test card on 64 accounts: without the rule that sends a card seen
    // on many accounts to review, every bind reaches the bank.
    let rules = r#"{ "rules": [
      { "name": "acc", "signal": "failed_verification", "per": "account", "window": "1h", "threshold": 10, "action": "lock", "lock_for": "30m" }
    ] }"#;
    let opts =
        Options { issuer: Some((bank.url.clone(), keys)), background_jobs: false, risk_rules: Some(rules.into()), ..Options::default() };
    let app = Arc::new(spawn_app_with(Backend::Sqlite, opts).await.unwrap());
    let card = app.card("ok_debit").await;
    let mut accounts = Vec::new();
    for _ in 0..64 {
        accounts.push(app.verified_account().await);
    }
    let before: Value = bank.client.get(format!("{}/sim/stats", bank.url)).send().await.unwrap().json().await.unwrap();
    let mut tasks = Vec::new();
    for account in accounts {
        let (app, card) = (app.clone(), card.clone());
        tasks.push(tokio::spawn(async move { app.bind(&account, &card).await.status }));
    }
    for t in tasks {
        assert!(t.await.unwrap() < 300);
    }
    let after: Value = bank.client.get(format!("{}/sim/stats", bank.url)).send().await.unwrap().json().await.unwrap();
    let peak = after["peak_in_flight"].as_u64().unwrap();
    println!(
        "\n64 binds at once behind 200 ms of bank latency: the bank held up to {peak} orders at once (before: {})",
        before["peak_in_flight"]
    );
    assert!(peak >= 32, "binds wait on each other around the bank call: at most {peak} at the bank at once");
}

/// Every fault mode on an activation (the card's verification for it and
/// the activation itself) and on the card-status question a diagnosis asks:
/// the card ends activated once, and the diagnosis gets its answer.
#[tokio::test]
async fn every_fault_on_activation_and_status_gets_through() {
    let (app, bank) = networked().await;
    let account = app.verified_account().await;
    let card = app.card("not_activated").await;
    let body = json!({ "card_number": card["card_number"], "holder_name": card["holder_name"], "id_number": card["id_number"], "phone": card["phone"] });
    let mut table = vec!["| step | fault | answer |".to_owned(), "|---|---|---|".to_owned()];
    for step in ["verify_activation", "activate"] {
        for mode in MODES {
            bank.clear().await;
            let reset = bank
                .client
                .post(format!("{}/sim/cards/not_activated/state", bank.url))
                .json(&json!({ "state": "not_activated" }))
                .send()
                .await
                .unwrap();
            assert_eq!(reset.status(), 200);
            bank.fault(step, mode, Some(1)).await;
            let started = app.post(&format!("/v1/accounts/{account}/activations"), body.clone()).await;
            assert!(started.status < 300, "{step} under {mode}: {}", started.body);
            let aid = started.body["id"].as_str().unwrap().to_owned();
            let code = app.latest_otp(card["phone"].as_str().unwrap()).await;
            let done = app.post(&format!("/v1/accounts/{account}/activations/{aid}/confirm"), json!({ "otp": code })).await;
            table.push(format!("| {step} | {mode} | {} {} |", done.status, done.body["status"].as_str().or(done.code()).unwrap_or("")));
            assert_eq!((done.status, done.body["status"].as_str()), (200, Some("activated")), "{step} under {mode}: {}", done.body);
        }
    }
    // A bound card's status, asked by the diagnosis.
    let p = app.payer("ok_debit").await;
    for mode in MODES {
        bank.clear().await;
        bank.fault("status", mode, Some(1)).await;
        let d = app.get(&format!("/v1/accounts/{}/diagnosis?binding_id={}", p.account, p.binding)).await;
        let item =
            d.body["items"].as_array().and_then(|i| i.iter().find(|x| x["name"] == "issuer_card_state")).cloned().unwrap_or_default();
        table.push(format!("| status | {mode} | {} {} |", d.status, item["result"].as_str().unwrap_or("")));
        assert_eq!((d.status, item["result"].as_str()), (200, Some("passed")), "status under {mode}: {}", d.body);
    }
    println!("\n{}", table.join("\n"));
}

/// An activation whose answer is lost and whose order no query settles is
/// written down as `activating`: the holder is told the bank has not
/// confirmed yet (202, with when to look again), and the job settles it by
/// asking the card's state — a question that never activates. The bank
/// acted: the activation ends activated. The bank never got it: the
/// activation ends failed. Either way the holder gets an SMS.
#[tokio::test]
async fn an_activation_whose_answer_stays_lost_is_resolved_by_the_job() {
    let (app, bank) = networked().await;
    let account = app.verified_account().await;
    let card = app.card("not_activated").await;
    let phone = card["phone"].as_str().unwrap().to_owned();
    let body =
        json!({ "card_number": card["card_number"], "holder_name": card["holder_name"], "id_number": card["id_number"], "phone": phone });
    for (mode, ends) in [("no_answer", "failed"), ("answer_lost", "activated")] {
        bank.clear().await;
        let reset = bank.client.post(format!("{}/sim/cards/not_activated/state", bank.url)).json(&json!({ "state": "not_activated" }));
        assert_eq!(reset.send().await.unwrap().status(), 200);
        let started = app.post(&format!("/v1/accounts/{account}/activations"), body.clone()).await;
        assert_eq!(started.status, 202, "{}", started.body);
        let aid = started.body["id"].as_str().unwrap().to_owned();
        let code = app.latest_otp(&phone).await;
        bank.fault("activate", mode, None).await;
        bank.fault("query", "error_5xx", None).await;
        bank.fault("status", "error_5xx", None).await;
        let r = app.post(&format!("/v1/accounts/{account}/activations/{aid}/confirm"), json!({ "otp": code })).await;
        assert_eq!((r.status, r.body["status"].as_str()), (202, Some("activating")), "{mode}: {}", r.body);
        assert!(r.body["confirmation"]["message"].as_str().is_some_and(|m| m.contains("银行尚未确认激活")), "{}", r.body);
        assert!(r.body["confirmation"]["check_again_at"].is_string());
        let again = app.post(&format!("/v1/accounts/{account}/activations/{aid}/confirm"), json!({ "otp": code })).await;
        again.assert_error("ACTIVATION_NOT_PENDING");

        // The bank still does not answer: the job leaves it waiting.
        app.clock.advance(time::Duration::seconds(31));
        assert_eq!(bangka_server::flows::activation::resolve_unconfirmed(&app.state).await.unwrap(), 0);
        assert_eq!(app.get(&format!("/v1/accounts/{account}/activations/{aid}")).await.body["status"], "activating");

        // It answers again: the job asks the card's state and settles it
        // (a card still not activated only once no order sent before can
        // still arrive at the bank).
        bank.clear().await;
        app.clock.advance(time::Duration::minutes(7));
        assert_eq!(bangka_server::flows::activation::resolve_unconfirmed(&app.state).await.unwrap(), 1, "{mode}");
        let done = app.get(&format!("/v1/accounts/{account}/activations/{aid}")).await;
        assert_eq!(done.body["status"], ends, "{mode}: {}", done.body);
        assert!(done.body["confirmation"].is_null());
        let inbox = app.get(&format!("/v1/demo/inbox/{phone}")).await;
        let told = if ends == "activated" { "已激活" } else { "未能激活" };
        assert!(inbox.body["messages"][0]["body"].as_str().is_some_and(|m| m.contains(told)), "{mode}: {}", inbox.body);
    }
    // The card the bank activated once binds.
    let bound = app.bind(&account, &card).await;
    assert!(bound.status < 300, "{}", bound.body);
}

/// A lost-card report the bank could not be given (or whose answer was
/// lost) stays `pending` with the freeze: the holder is told the card is
/// frozen in the wallet and the bank not told yet; the job asks the card's
/// state and tells the bank only if it has not got the report, then texts
/// the holder.
#[tokio::test]
async fn a_lost_card_report_the_bank_did_not_confirm_is_finished_by_the_job() {
    let (app, bank) = networked().await;
    for (mode, scenario) in [("answer_lost", "ok_debit"), ("error_5xx", "ok_debit_ccb")] {
        bank.clear().await;
        let p = app.payer(scenario).await;
        bank.fault("report_lost", mode, None).await;
        bank.fault("query", "error_5xx", None).await;
        let path = format!("/v1/accounts/{}/bindings/{}", p.account, p.binding);
        let r = app.post(&format!("{path}/freeze"), json!({ "reason": "card_lost" })).await;
        assert_eq!(
            (r.status, r.body["status"].as_str(), r.body["issuer_notified"].as_bool()),
            (200, Some("frozen"), Some(false)),
            "{}",
            r.body
        );
        assert!(r.body["issuer_advice"].as_str().is_some_and(|a| a.contains("继续通知银行")), "{}", r.body);
        assert_eq!(app.get(&path).await.body["issuer_notified"], false, "the card shows it too");

        bank.clear().await;
        app.clock.advance(time::Duration::seconds(31));
        assert_eq!(bangka_server::flows::freeze::report_unconfirmed(&app.state).await.unwrap(), 1, "{mode}");
        let done = app.get(&path).await;
        assert_eq!((done.body["issuer_notified"].as_bool(), done.body["issuer_advice"].is_null()), (Some(true), true), "{}", done.body);
        let at_bank: Value =
            bank.client.get(format!("{}/sim/cards/{scenario}/state", bank.url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(at_bank["state"], "lost", "{mode}: the bank blocked {scenario}");
        let phone = app.card(scenario).await["phone"].as_str().unwrap().to_owned();
        let inbox = app.get(&format!("/v1/demo/inbox/{phone}")).await;
        assert!(inbox.body["messages"][0]["body"].as_str().is_some_and(|m| m.contains("已由发卡银行确认挂失")), "{}", inbox.body);
        // Settled once.
        app.clock.advance(time::Duration::seconds(31));
        assert_eq!(bangka_server::flows::freeze::report_unconfirmed(&app.state).await.unwrap(), 0);
    }
    // A bank that refuses the report (the card is closed there): the card
    // stays frozen, and the holder is told plainly to call the bank.
    let p = app.payer("ok_debit_boc").await;
    let closed = bank.client.post(format!("{}/sim/cards/ok_debit_boc/state", bank.url)).json(&json!({ "state": "closed" }));
    assert_eq!(closed.send().await.unwrap().status(), 200);
    let path = format!("/v1/accounts/{}/bindings/{}", p.account, p.binding);
    let r = app.post(&format!("{path}/freeze"), json!({ "reason": "card_lost" })).await;
    assert_eq!(
        (r.status, r.body["status"].as_str(), r.body["issuer_notified"].as_bool()),
        (200, Some("frozen"), Some(false)),
        "{}",
        r.body
    );
    assert!(r.body["issuer_advice"].as_str().is_some_and(|a| a.contains("请立即拨打")), "{}", r.body);
    app.clock.advance(time::Duration::seconds(31));
    assert_eq!(bangka_server::flows::freeze::report_unconfirmed(&app.state).await.unwrap(), 0, "nothing left to try");
}

/// Every fault mode on a lost-card report (one good card each): the card
/// is frozen at once whatever the bank does, and the report reaches the
/// bank within the request — the holder is told the bank has it.
#[tokio::test]
async fn every_fault_on_a_lost_card_report_still_reaches_the_bank() {
    let (app, bank) = networked().await;
    let cards = ["ok_debit", "ok_credit", "ok_debit_ccb", "ok_debit_abc", "ok_debit_boc", "ok_prepaid", "ok_credit_ccb"];
    let mut table = vec!["| step | fault | answer | bank told |".to_owned(), "|---|---|---|---|".to_owned()];
    for (mode, scenario) in MODES.into_iter().zip(cards) {
        bank.clear().await;
        let p = app.payer(scenario).await;
        bank.fault("report_lost", mode, Some(1)).await;
        let r = app.post(&format!("/v1/accounts/{}/bindings/{}/freeze", p.account, p.binding), json!({ "reason": "card_stolen" })).await;
        table.push(format!(
            "| report_lost | {mode} | {} {} | {} |",
            r.status,
            r.body["status"].as_str().unwrap_or(""),
            r.body["issuer_notified"]
        ));
        assert_eq!(
            (r.status, r.body["status"].as_str(), r.body["issuer_notified"].as_bool()),
            (200, Some("frozen"), Some(true)),
            "{mode}: {}",
            r.body
        );
        let at_bank: Value =
            bank.client.get(format!("{}/sim/cards/{scenario}/state", bank.url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(at_bank["state"], "lost", "{mode}: the bank blocked {scenario}");
    }
    // Nothing is left for the job.
    app.clock.advance(time::Duration::seconds(31));
    assert_eq!(bangka_server::flows::freeze::report_unconfirmed(&app.state).await.unwrap(), 0);
    println!("\n{}", table.join("\n"));
}

/// A bank over the network announces its maintenance with `maintenance`:
/// Bangka shows it on `/v1/status` and refuses that bank's cards at once,
/// with when to come back, without sending them; asked again every 30 s,
/// so a window the bank ends is gone after that.
#[tokio::test]
async fn the_bank_announces_its_maintenance_over_the_protocol() {
    let (app, bank) = networked().await;
    let issuer = |status: &Value, id: &str| status["issuers"].as_array().unwrap().iter().find(|i| i["id"] == id).cloned().unwrap();
    // The simulator's standing window (PSBC) crosses the protocol.
    let status = app.get("/v1/status").await.body;
    assert_eq!(issuer(&status, "PSBC")["in_maintenance"], true, "{status}");
    assert_eq!(issuer(&status, "ICBC")["in_maintenance"], false);

    // ICBC announces one: seen once the windows are asked again.
    let ends = time::OffsetDateTime::now_utc() + time::Duration::hours(2);
    let body = json!({ "issuer": "ICBC", "ends_at": bangka_store::rfc3339(ends) });
    let r = bank.client.post(format!("{}/sim/maintenance", bank.url)).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);
    app.clock.advance(time::Duration::seconds(31));
    let status = app.get("/v1/status").await.body;
    assert_eq!(issuer(&status, "ICBC")["in_maintenance"], true, "{status}");
    let account = app.verified_account().await;
    let card = app.card("ok_debit").await;
    let orders = |v: Value| v["orders"].as_u64().unwrap();
    let before = orders(bank.client.get(format!("{}/sim/stats", bank.url)).send().await.unwrap().json().await.unwrap());
    let refused = app.bind(&account, &card).await;
    let e = refused.assert_error("ISSUER_MAINTENANCE");
    assert!(e["retry_after"].is_string(), "when to come back: {e}");
    let after = orders(bank.client.get(format!("{}/sim/stats", bank.url)).send().await.unwrap().json().await.unwrap());
    assert_eq!(after, before, "the card was not sent to a bank in maintenance");

    // The bank ends it: binds go through again after the next question.
    assert_eq!(bank.client.delete(format!("{}/sim/maintenance", bank.url)).send().await.unwrap().status(), 204);
    app.clock.advance(time::Duration::seconds(31));
    assert_eq!(issuer(&app.get("/v1/status").await.body, "ICBC")["in_maintenance"], false);
    assert!(app.bind(&account, &card).await.status < 300);
    // A window that makes no sense is refused by the simulator's admin.
    let bad = bank
        .client
        .post(format!("{}/sim/maintenance", bank.url))
        .json(&json!({ "issuer": "NOPE", "ends_at": "soon" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
