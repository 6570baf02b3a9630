//! Master key rotation: bind 100 cards, rotate, restart — every card and
//! every sealed KYC field still opens, every card still pays, and the old
//! key file is gone.

use bangka_store::{Vault, kyc_context};

use crate::helpers::{Payer, TestApp};
use crate::on_both_backends;

async fn rotation_rewraps_every_card_without_downtime(app: TestApp) {
    let mut vault_ids = Vec::new();
    let mut accounts = Vec::new();
    let mut payers = Vec::new();
    for i in 0..20 {
        // The same five test cards on twenty accounts: spread over days, or
        // the risk rule `card_distinct_accounts` (5 a day) holds them for review.
        if i % 3 == 0 {
            app.clock.advance(time::Duration::hours(25));
        }
        let acc = app.verified_account().await;
        app.set_payment_password(&acc).await;
        for s in ["ok_debit", "ok_debit_ccb", "ok_debit_abc", "ok_debit_boc", "ok_prepaid"] {
            let b = app.bind_confirmed(&acc, s).await;
            payers.push(Payer { account: acc.clone(), binding: b["id"].as_str().unwrap().to_owned() });
            let (vid,): (String,) = sqlx::query_as("SELECT vault_id FROM bindings WHERE id = $1")
                .bind(b["id"].as_str().unwrap())
                .fetch_one(app.state.store.pool())
                .await
                .unwrap();
            vault_ids.push(vid);
        }
        accounts.push(acc);
    }
    assert_eq!(vault_ids.len(), 100);
    let (ct_before,): (i64,) = sqlx::query_as("SELECT COUNT(DISTINCT pan_ct) FROM vault_cards WHERE pan_ct IS NOT NULL")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();

    // The CLI runs as its own process: its own vault over the same key files.
    let cli_vault = Vault::load_or_create(&app.data_dir).unwrap();
    let report = bangka_server::keys::rotate_master(&app.state.store, &cli_vault, false).await.unwrap();
    assert_eq!(report.new_version, 2);
    assert!(report.rewrapped >= 100 + 20 + 100, "cards, KYC fields and token keys re-wrapped: {}", report.rewrapped);
    assert_eq!(report.removed_versions, vec![1]);
    assert!(!app.data_dir.join("master.key").exists(), "old master key file removed");
    assert_eq!(app.state.store.cards_not_under(2).await.unwrap(), 0);
    let (ct_after,): (i64,) = sqlx::query_as("SELECT COUNT(DISTINCT pan_ct) FROM vault_cards WHERE pan_ct IS NOT NULL")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(ct_before, ct_after);

    // The running server keeps working: new binds seal under v2.
    let acc = app.verified_account().await;
    app.bind_confirmed(&acc, "ok_debit").await;
    // A restart (only the new key file is left) opens every card and field.
    let restarted = Vault::load_or_create(&app.data_dir).unwrap();
    assert_eq!(restarted.current_version(), 2);
    for vid in &vault_ids {
        let sealed = app.state.store.get_sealed(vid).await.unwrap().expect("sealed row");
        assert_eq!(sealed.key_version, 2);
        let pan = restarted.open_pan(&sealed).expect("opens after rotation");
        assert_eq!(restarted.fingerprint(&pan), sealed.fingerprint);
    }
    for acc in &accounts {
        let (name, _id): (Vec<u8>, Vec<u8>) = sqlx::query_as("SELECT kyc_name_enc, kyc_id_enc FROM accounts WHERE id = $1")
            .bind(acc)
            .fetch_one(app.state.store.pool())
            .await
            .unwrap();
        assert_eq!(restarted.open_value(&kyc_context(acc, "name"), &name).unwrap().as_str(), "张三");
    }
    assert_eq!(app.state.store.values_not_under(2).await.unwrap(), 0, "token keys and KYC fields all under v2");

    // Restart the server itself: all 100 cards still pay.
    let app = app.restart().await;
    for p in &payers {
        let (token, cgm) = app.cryptogram_ok(p, 100, "m_rotation").await;
        let r = app.pay(&token, &cgm, 100, "m_rotation").await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
}
on_both_backends!(rotation_rewraps_every_card_without_downtime);

/// Fingerprint key rotation: every card fingerprint and KYC hash is
/// recomputed under the new key, so after a restart duplicate detection and
/// the KYC comparison still work, open SMS codes have expired (a new one
/// works), cards still pay, and the old key file is gone.
async fn fingerprint_rotation_rekeys_every_hash(app: TestApp) {
    let acc = app.verified_account().await;
    app.set_payment_password(&acc).await;
    let bound = app.bind_confirmed(&acc, "ok_debit").await;
    let payer = Payer { account: acc.clone(), binding: bound["id"].as_str().unwrap().to_owned() };
    let pending_card = app.card("ok_debit_ccb").await;
    let pending = app.bind(&acc, &pending_card).await;
    assert_eq!(pending.status, 202, "{}", pending.body);
    let pending_id = pending.body["id"].as_str().unwrap().to_owned();
    let phone = pending_card["phone"].as_str().unwrap().to_owned();
    let old_code = app.latest_otp(&phone).await;
    let fingerprint = |id: String| {
        let pool = app.state.store.pool().clone();
        async move {
            let (f,): (String,) = sqlx::query_as("SELECT fingerprint FROM bindings WHERE id = $1").bind(id).fetch_one(&pool).await.unwrap();
            f
        }
    };
    let before = fingerprint(payer.binding.clone()).await;

    let cli_vault = Vault::open(&app.data_dir, 1).unwrap();
    let report = bangka_server::keys::rotate_fingerprint(&app.state.store, &cli_vault, false, bangka_core::clock::Clock::now(&*app.clock))
        .await
        .unwrap();
    assert_eq!(report.new_version, 2);
    assert!(report.rekeyed.cards >= 2 && report.rekeyed.accounts >= 1, "{report:?}");
    assert_eq!(report.removed_versions, vec![1]);
    assert!(!app.data_dir.join("fingerprint.key").exists() && app.data_dir.join("fingerprint-v2.key").exists());
    assert_ne!(fingerprint(payer.binding.clone()).await, before);

    let app = app.restart().await;
    assert_eq!(app.state.vault.fingerprint_version(), 2);
    app.bind(&acc, &app.card("ok_debit").await).await.assert_error("CARD_ALREADY_BOUND");
    let mut other_name = TestApp::bind_body(&app.card("ok_debit_abc").await);
    other_name["holder_name"] = "李四".into();
    app.post(&format!("/v1/accounts/{acc}/bindings"), other_name).await.assert_error("HOLDER_NAME_NOT_KYC_NAME");
    let confirm = format!("/v1/accounts/{acc}/bindings/{pending_id}/confirm");
    app.post(&confirm, serde_json::json!({ "otp": old_code })).await.assert_error("OTP_EXPIRED");
    app.clock.advance(time::Duration::seconds(61));
    let r = app.post(&format!("/v1/accounts/{acc}/bindings/{pending_id}/otp/resend"), serde_json::json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post(&confirm, serde_json::json!({ "otp": app.latest_otp(&phone).await })).await;
    assert_eq!(r.body["status"], "active", "{}", r.body);
    let (token, cgm) = app.cryptogram_ok(&payer, 100, "m_fp").await;
    assert_eq!(app.pay(&token, &cgm, 100, "m_fp").await.status, 201);
}
on_both_backends!(fingerprint_rotation_rekeys_every_hash);

/// A crash at either step of a fingerprint rotation leaves a state the next
/// start resolves: before the database switched, the staged key is
/// discarded; after, it is made final.
async fn fingerprint_rotation_survives_a_crash_at_each_step(app: TestApp) {
    let acc = app.verified_account().await;
    app.bind_confirmed(&acc, "ok_debit").await;
    let dir = app.data_dir.clone();
    let store = &app.state.store;

    // Crash after the key file was staged, before the database changed.
    let v1 = Vault::open(&dir, store.fingerprint_key_version().await.unwrap()).unwrap();
    v1.stage_fingerprint_key().unwrap();
    assert!(dir.join("fingerprint-v2.key.pending").exists());
    let reopened = Vault::open(&dir, store.fingerprint_key_version().await.unwrap()).unwrap();
    assert_eq!(reopened.fingerprint_version(), 1);
    assert!(!dir.join("fingerprint-v2.key.pending").exists(), "an uncommitted key is discarded");

    // Crash after the database switched, before the file was made final.
    let staged = reopened.stage_fingerprint_key().unwrap();
    store.rekey_fingerprints(1, &staged, time::OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(store.fingerprint_key_version().await.unwrap(), 2);
    // A second rotation from the old version is refused, not applied twice.
    assert!(store.rekey_fingerprints(1, &staged, time::OffsetDateTime::now_utc()).await.is_err());
    let app = app.restart().await;
    assert_eq!(app.state.vault.fingerprint_version(), 2);
    assert!(dir.join("fingerprint-v2.key").exists() && !dir.join("fingerprint-v2.key.pending").exists());
    app.bind(&acc, &app.card("ok_debit").await).await.assert_error("CARD_ALREADY_BOUND");
    // The old key file stays until a rotation removes it (--keep-old semantics).
    assert!(dir.join("fingerprint.key").exists());
}
on_both_backends!(fingerprint_rotation_survives_a_crash_at_each_step);

/// A second instance on the same database with key files of its own (not
/// copied from the first) refuses to start and says what to copy; with the
/// first one's files it starts.
async fn an_instance_with_other_keys_refuses_to_start(app: TestApp) {
    let config = |dir: &std::path::Path| bangka_server::Config {
        database_url: Some(match &app.schema {
            Some(_) => crate::helpers::pg_url(),
            None => format!("sqlite://{}", app.data_dir.join("bangka.db").display()),
        }),
        database_schema: app.schema.clone(),
        card_key_store_url: None,
        ..bangka_server::Config::new(dir.to_owned(), "127.0.0.1:0".parse().unwrap())
    };
    let clock = std::sync::Arc::new(bangka_core::clock::SystemClock);
    let other = std::env::temp_dir().join(format!("bangka-other-keys-{}", crate::helpers::hex(6)));
    let refused = bangka_server::Application::build(config(&other), clock.clone()).await.err().expect("refused");
    let why = format!("{refused:#}");
    assert!(why.contains("not the ones this database was started with") && why.contains("master-v1"), "{why}");
    // The signing keys are checked too (issue 24, finding 5): instances
    // that sign with different keys cannot verify each other's receipts.
    assert!(why.contains("receipt-signing") && why.contains("webhook-signing"), "{why}");

    let copy = std::env::temp_dir().join(format!("bangka-same-keys-{}", crate::helpers::hex(6)));
    std::fs::create_dir_all(&copy).unwrap();
    for f in std::fs::read_dir(&app.data_dir).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().to_string();
        if name.ends_with(".key") {
            std::fs::copy(f.path(), copy.join(&name)).unwrap();
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let second = bangka_server::Application::build(config(&copy), clock).await;
    assert!(second.is_ok(), "the same keys start: {:#}", second.err().unwrap());
}
on_both_backends!(an_instance_with_other_keys_refuses_to_start);
