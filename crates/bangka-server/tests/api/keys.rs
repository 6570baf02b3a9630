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
    for _ in 0..20 {
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
