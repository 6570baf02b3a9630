//! No secret rests in clear: not a cryptogram in a stored idempotent
//! answer, not a one-time code in a message body, not a card or ID number
//! a holder typed into free text.

use bangka_server::auth::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;

/// Every text column of the tables that keep answers, messages and free
/// text, joined (the database as someone with a copy of it reads it).
async fn stored_text(app: &TestApp) -> String {
    let mut all = String::new();
    for (table, cols) in [
        ("idempotency", "response"),
        ("outbox", "body"),
        ("demo_inbox", "body"),
        ("tickets", "COALESCE(note, '') || ' ' || context"),
        ("ticket_events", "COALESCE(body, '')"),
        ("audit_log", "COALESCE(reason, '')"),
        ("reviews", "COALESCE(statement, '')"),
        ("devices", "COALESCE(name, '')"),
    ] {
        let rows: Vec<(Option<String>,)> = sqlx::query_as(&format!("SELECT {cols} FROM {table}"))
            .fetch_all(app.state.store.pool())
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        for t in rows.into_iter().filter_map(|(t,)| t) {
            all.push_str(&t);
            all.push('\n');
        }
    }
    all
}

/// A cryptogram asked for with an `Idempotency-Key` is replayed, but the
/// stored answer holds only its sealed form; the code SMS and notices are
/// sealed in the outbox and the demo inbox too.
async fn stored_answers_and_messages_hold_no_secret(app: TestApp) {
    let card = app.card("ok_debit").await;
    let acc = app.verified_account().await;
    let b = app.bind(&acc, &card).await;
    let code = app.latest_otp(card["phone"].as_str().unwrap()).await;
    let bid = b.body["id"].as_str().unwrap().to_owned();
    let confirmed = app.post(&format!("/v1/accounts/{acc}/bindings/{bid}/confirm"), json!({ "otp": code })).await;
    assert_eq!(confirmed.body["status"], "active", "{}", confirmed.body);
    app.set_payment_password(&acc).await;
    let p = crate::helpers::Payer { account: acc, binding: bid };
    let path = format!("/v1/accounts/{}/bindings/{}/cryptograms", p.account, p.binding);
    let body = json!({ "amount": 500, "currency": "CNY", "merchant_id": "m_secret", "payment_password": crate::helpers::PAY_PASSWORD });
    let first = app.request(Method::POST, &path, Some(&body), &[("idempotency-key", "cg-1")]).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let cryptogram = first.body["cryptogram"].as_str().unwrap().to_owned();
    let again = app.request(Method::POST, &path, Some(&body), &[("idempotency-key", "cg-1")]).await;
    assert_eq!(again.body["cryptogram"], cryptogram.as_str(), "the replay gives the same cryptogram");
    let text = stored_text(&app).await;
    assert!(!text.contains(&cryptogram), "a cryptogram rests in clear");
    assert!(!text.contains(&format!("验证码 {code}")), "a code rests in clear");
    assert!(text.contains("\"sealed\""), "the stored answer keeps the cryptogram sealed");
    // The replayed cryptogram pays.
    let pay = app.pay(first.body["token_number"].as_str().unwrap(), &cryptogram, 500, "m_secret").await;
    assert_eq!(pay.status, 201, "{}", pay.body);
}
on_both_backends!(stored_answers_and_messages_hold_no_secret);

/// Card and ID numbers typed into a ticket note, an escalation reason, an
/// agent's comment, a review statement, a device name or an operator's
/// reason are masked before anything keeps them, and the answer says so.
async fn typed_in_card_and_id_numbers_are_masked(app: TestApp) {
    let card = app.card("ok_debit").await;
    let (pan, id) = (card["card_number"].as_str().unwrap().to_owned(), card["id_number"].as_str().unwrap().to_owned());
    let spaced: String = pan.chars().collect::<Vec<_>>().chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(" ");
    let acc = app.verified_account().await;
    let t = app.post(&format!("/v1/accounts/{acc}/tickets"), json!({ "note": format!("卡号 {spaced}，身份证 {id}，绑不上") })).await;
    assert_eq!(t.status, 201, "{}", t.body);
    assert_eq!(t.body["redacted"], json!(["card_number", "id_number"]), "{}", t.body);
    let note = t.body["note"].as_str().unwrap();
    assert!(note.contains("622202*********0178") && note.contains("1101**********1239"), "{note}");
    let number = t.body["number"].as_str().unwrap().to_owned();
    let r = app.post(&format!("/v1/accounts/{acc}/tickets/{number}/escalate"), json!({ "reason": format!("急，卡 {pan}") })).await;
    assert_eq!(r.body["redacted"], json!(["card_number"]), "{}", r.body);
    let support = app.key_for(Role::Support).await;
    let c = app
        .request_as(
            &support,
            Method::POST,
            &format!("/v1/ops/tickets/{number}/comment"),
            Some(&json!({ "body": format!("客户说卡号 {pan}") })),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    let s = app.post(&format!("/v1/accounts/{acc}/sessions"), json!({ "device_id": "phone-1", "device_name": format!("卡{pan}") })).await;
    assert_eq!((s.status, &s.body["redacted"]), (201, &json!(["card_number"])), "{}", s.body);
    let ev = app.request_as(&support, Method::GET, &format!("/v1/ops/tickets/{number}/evidence"), None).await;
    assert_eq!(ev.status, 200);
    let text = format!("{}\n{}", stored_text(&app).await, ev.body);
    assert!(!text.contains(&pan) && !text.contains(&spaced) && !text.contains(&id), "a typed-in number was kept");
    assert!(!text.contains(&pan[..pan.len() - 4]) && !text.contains(&pan[6..]), "more of the card number than masking allows");
}
on_both_backends!(typed_in_card_and_id_numbers_are_masked);

/// The data directory is the service's alone: 0700, every file in it 0600
/// (the WAL and shared-memory files too); a directory others can read is
/// refused at start with the command that fixes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.unwrap();
    let p = app.payer("ok_debit").await;
    assert!(!p.binding.is_empty());
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&app.data_dir), 0o700);
    let files: Vec<_> = std::fs::read_dir(&app.data_dir).unwrap().flatten().map(|e| e.path()).collect();
    for needed in ["bangka.db", "bangka.db-wal", "bangka.db-shm", "bangka.card-keys.db", "master.key", "fingerprint.key"] {
        assert!(files.iter().any(|f| f.ends_with(needed)), "{needed} in {files:?}");
    }
    for f in &files {
        assert_eq!(mode(f), 0o600, "{} is {:o}", f.display(), mode(f));
    }

    let open = std::env::temp_dir().join(format!("bangka-open-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = bangka_server::Config {
        data_dir: open.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: None,
        database_schema: None,
        card_key_store_url: None,
        notify_webhook: None,
        demo: true,
        binding_limit: 5,
        demo_population: 0,
        ..bangka_server::Config::new(open.clone(), "127.0.0.1:0".parse().unwrap())
    };
    let clock = std::sync::Arc::new(bangka_core::clock::SystemClock);
    let refused = bangka_server::Application::build(config, clock).await.err().expect("refused");
    let why = format!("{refused:#}");
    assert!(why.contains("can be read by other users") && why.contains(&format!("chmod 700 {}", open.display())), "{why}");
    assert!(!open.join("bangka.db").exists(), "nothing was written into it");
    let _ = std::fs::remove_dir_all(&open);
}

/// The bank (not the holder) marks a bound card lost: everything a holder
/// reads says it in the safe form (`CARD_UNAVAILABLE`); support still sees
/// the bank's precise answer.
async fn a_card_the_bank_marked_lost_reads_safe_to_the_holder(app: TestApp) {
    let p = app.payer("ok_debit_abc").await;
    let base = format!("/v1/accounts/{}/bindings/{}", p.account, p.binding);
    let r = app.post("/v1/demo/cards/ok_debit_abc/bank-state", json!({ "state": "lost" })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = app.post(&format!("{base}/test-authorization"), json!({})).await;
    assert_eq!(
        (t.body["can_pay_online"].as_bool(), t.body["reason"]["code"].as_str()),
        (Some(false), Some("CARD_UNAVAILABLE")),
        "{}",
        t.body
    );
    let d = app.get(&format!("/v1/accounts/{}/diagnosis?binding_id={}", p.account, p.binding)).await;
    assert_eq!(d.status, 200, "{}", d.body);
    let ticket = app.post(&format!("/v1/accounts/{}/tickets", p.account), json!({ "binding_id": p.binding })).await;
    assert_eq!(ticket.status, 201, "{}", ticket.body);
    let number = ticket.body["number"].as_str().unwrap().to_owned();
    let holder_view = app.get(&format!("/v1/accounts/{}/tickets/{number}", p.account)).await;
    for (what, v) in [("test authorization", &t.body), ("diagnosis", &d.body), ("ticket", &ticket.body), ("ticket view", &holder_view.body)]
    {
        assert!(!v.to_string().contains("CARD_REPORTED_LOST"), "{what} tells the holder the bank's fraud mark: {v}");
    }
    assert_eq!(ticket.body["error_code"], "CARD_UNAVAILABLE", "{}", ticket.body);
    let support = app.key_for(Role::Support).await;
    let ops = app.request_as(&support, Method::GET, &format!("/v1/ops/tickets/{number}"), None).await;
    assert_eq!(ops.body["attempt_code"], "CARD_REPORTED_LOST", "support sees the precise cause: {}", ops.body);
}
on_both_backends!(a_card_the_bank_marked_lost_reads_safe_to_the_holder);
