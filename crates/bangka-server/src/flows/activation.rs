//! Card activation through the wallet (seed 000: 未激活 → 激活): the issuer
//! checks the elements, the holder proves the reserved phone with an OTP,
//! the issuer activates the card. The PAN is kept sealed only until then.

use axum::http::StatusCode;
use bangka_core::bin;
use bangka_core::bind::KycState;
use bangka_core::card::Pan;
use bangka_core::holder::{HolderName, IdNumber, Phone};
use bangka_core::otp::{Otp, OtpPurpose};
use bangka_core::{ErrorCode, Failure};
use bangka_issuer::CardHolder;
use bangka_store::{ActivationRow, new_id};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::bind::issuer_failure;
use super::{AttemptFacts, check_otp, check_standing, failed, load_account, new_challenge, otp_sms, record_attempt};
use crate::error::{ApiError, ApiResult};
use crate::i18n::say;
use crate::state::AppState;
use crate::views::{ActivationView, NextAction};

#[derive(Deserialize, ToSchema)]
pub struct ActivationBody {
    pub card_number: String,
    pub holder_name: String,
    pub id_number: String,
    pub phone: String,
}

/// Starts a activation. The card is not shown to be the caller's yet, so a
/// fraud-sensitive refusal is answered in its holder-safe form
/// ([`ErrorCode::for_new_card`]); the attempt keeps the bank's precise code.
pub async fn start(app: &AppState, account_id: &str, body: ActivationBody) -> ApiResult<(StatusCode, Value)> {
    begin(app, account_id, body).await.map_err(crate::error::ApiError::for_new_card)
}

async fn begin(app: &AppState, account_id: &str, body: ActivationBody) -> ApiResult<(StatusCode, Value)> {
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    let parsed = (|| -> Result<_, Failure> {
        let pan = Pan::parse(&body.card_number)?;
        let facts = bin::lookup(&pan)?;
        app.policy.check(&facts)?;
        Ok((pan, facts, HolderName::parse(&body.holder_name)?, IdNumber::parse(&body.id_number)?, Phone::parse(&body.phone)?))
    })();
    let (pan, facts, name, id, phone) = match parsed {
        Ok(p) => p,
        Err(f) => return Err(failed(app, account_id, "activate", &AttemptFacts::default(), f.into()).await),
    };
    let attempt_facts =
        AttemptFacts { phone_masked: Some(phone.masked()), ..AttemptFacts::card(&facts, pan.last4(), app.vault.fingerprint(&pan)) };
    let checks = async {
        match account.kyc {
            KycState::Unverified => return Err(ApiError::from(ErrorCode::KycRequired)),
            KycState::Rejected => return Err(ErrorCode::KycRejected.into()),
            KycState::Verified => {}
        }
        if account.kyc_name_mac.as_deref() != Some(&app.vault.kyc_name_mac(name.as_str())) {
            return Err(ErrorCode::HolderNameNotKycName.into());
        }
        if account.kyc_id_mac.as_deref() != Some(&app.vault.kyc_id_mac(id.expose())) {
            return Err(ErrorCode::HolderIdNotKycId.into());
        }
        check_standing(&account, now)?;
        if let Some(fp) = &attempt_facts.card_fp {
            super::risk::check_card_lock(app, account_id, fp).await?;
        }
        super::maintenance::check_issuer_open(app, facts.issuer).await?;
        let card = CardHolder { pan: &pan, holder_name: &name, id_number: &id, phone: &phone, expiry: None, cvv: None };
        app.bank().verify_for_activation(card).await.map_err(|f| issuer_failure(app, f))
    };
    if let Err(e) = checks.await {
        return Err(failed(app, account_id, "activate", &attempt_facts, e).await);
    }
    let vault_id = new_id("vc");
    let sealed = app.vault.seal_pan(&vault_id, &pan);
    let (challenge, otp) = new_challenge(app, OtpPurpose::Activate, phone.as_str());
    let activation = ActivationRow {
        id: new_id("act"),
        account_id: account_id.into(),
        vault_id: Some(vault_id),
        issuer: facts.issuer.into(),
        bin: facts.bin.into(),
        last4: pan.last4().into(),
        status: "pending_verification".into(),
        challenge_id: challenge.id.clone(),
        created_at: now,
    };
    let msg = otp_sms(app, OtpPurpose::Activate, &otp, pan.last4(), account_id, phone.as_str());
    app.store.create_activation(&activation, &sealed, &challenge, &msg, now).await?;
    record_attempt(app, account_id, "activate", &attempt_facts, None).await?;
    let c = app.store.get_challenge(&challenge.id).await?.ok_or_else(|| anyhow::anyhow!("challenge vanished"))?;
    Ok((StatusCode::ACCEPTED, json!(ActivationView::new(&activation, Some(NextAction::otp(&c, &app.otp))))))
}

pub async fn get(app: &AppState, account_id: &str, activation_id: &str) -> ApiResult<(StatusCode, Value)> {
    let a = app.store.get_activation(account_id, activation_id).await?.ok_or(ErrorCode::NotFound)?;
    let next = if a.status == "pending_verification" {
        app.store.get_challenge(&a.challenge_id).await?.map(|c| NextAction::otp(&c, &app.otp))
    } else {
        None
    };
    Ok((StatusCode::OK, json!(ActivationView::new(&a, next))))
}

pub async fn confirm(app: &AppState, account_id: &str, activation_id: &str, otp: &str) -> ApiResult<(StatusCode, Value)> {
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    let a = app.store.get_activation(account_id, activation_id).await?.ok_or(ErrorCode::NotFound)?;
    if a.status != "pending_verification" {
        return Err(Failure::new(ErrorCode::ActivationNotPending).with_details(json!({ "status": a.status })).into());
    }
    check_standing(&account, now)?;
    let card_fp = match &a.vault_id {
        Some(v) => app.store.vault_fingerprint(v).await?,
        None => None,
    };
    if let Some(fp) = &card_fp {
        super::risk::check_card_lock(app, account_id, fp).await?;
    }
    let facts = AttemptFacts {
        issuer: Some(a.issuer.clone()),
        bin: Some(a.bin.clone()),
        last4: Some(a.last4.clone()),
        binding_id: None,
        card_fp,
        phone_masked: None,
    };
    let otp = Otp::parse(otp)?;
    let c = app.store.get_challenge(&a.challenge_id).await?.ok_or(ErrorCode::ActivationNotPending)?;
    check_otp(app, account_id, "activate", &facts, &c, &otp, async || {
        app.store.finish_activation(&a, "failed", false, None, now).await?;
        Ok(())
    })
    .await?;
    let vault_id = a.vault_id.clone().ok_or(ErrorCode::ActivationNotPending)?;
    let sealed = app.store.get_sealed(&vault_id).await?.ok_or(ErrorCode::ActivationNotPending)?;
    let pan = app.vault.open_pan(&sealed)?;
    if let Err(f) = app.bank().activate(&pan).await {
        return Err(failed(app, account_id, "activate", &facts, issuer_failure(app, f)).await);
    }
    let notice =
        super::notice(account_id, &c.phone, &a.last4, "已激活，现在可以绑定到钱包。", "is now activated and can be bound to your wallet.");
    if !app.store.finish_activation(&a, "activated", true, Some(&notice), now).await? {
        return Err(ErrorCode::ActivationNotPending.into());
    }
    record_attempt(app, account_id, "activate", &facts, None).await?;
    let done = app.store.get_activation(account_id, activation_id).await?.ok_or(ErrorCode::NotFound)?;
    let hint = say("卡片已激活：现在可以用同一张卡绑定到钱包。", "The card is activated: bind the same card to your wallet now.");
    let next = crate::views::ActivationStepView {
        kind: "bind".into(),
        hint: hint.get(crate::i18n::current()).into(),
        developer: crate::views::Link::post(format!("/v1/accounts/{account_id}/bindings")),
    };
    Ok((StatusCode::OK, json!(ActivationView { next_steps: Some(vec![next]), ..ActivationView::new(&done, None) })))
}
