//! Wallet accounts and real-name verification (KYC).

use axum::http::StatusCode;
use bangka_core::bind::{KycState, MIN_KYC_AGE};
use bangka_core::holder::{HolderName, IdNumber, Phone};
use bangka_core::{ErrorCode, Failure};
use bangka_store::{Conflict, KycRecord, kyc_context};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::load_account;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::AccountView;

#[derive(Deserialize, ToSchema)]
pub struct NewAccountBody {
    /// Mainland mobile number, e.g. `13800138000`.
    pub phone: String,
}

#[derive(Deserialize, ToSchema)]
pub struct KycBody {
    pub real_name: String,
    /// 18-character resident ID number (GB 11643-1999).
    pub id_number: String,
}

pub async fn create(app: &AppState, body: NewAccountBody) -> ApiResult<(StatusCode, Value)> {
    let phone = Phone::parse(&body.phone)?;
    match app.store.create_account(phone.as_str(), app.clock.now()).await? {
        Ok(a) => Ok((StatusCode::CREATED, json!(AccountView::from_row(&a)))),
        Err(Conflict::PhoneTaken) => Err(ErrorCode::AccountPhoneTaken.into()),
    }
}

pub async fn get(app: &AppState, account_id: &str) -> ApiResult<(StatusCode, Value)> {
    let a = load_account(app, account_id).await?;
    Ok((StatusCode::OK, json!(AccountView::from_row(&a))))
}

/// Verifies the real name: the ID number must be well-formed with a valid
/// check digit and birth date, and the holder at least 16. Name and ID are
/// stored sealed, plus keyed hashes for the bind-time comparison.
pub async fn verify_kyc(app: &AppState, account_id: &str, body: KycBody) -> ApiResult<(StatusCode, Value)> {
    let account = load_account(app, account_id).await?;
    if account.kyc != KycState::Unverified {
        return Err(match account.kyc {
            KycState::Rejected => ErrorCode::KycRejected,
            _ => ErrorCode::KycAlreadyVerified,
        }
        .into());
    }
    let name = HolderName::parse(&body.real_name)?;
    let id = IdNumber::parse(&body.id_number)?;
    let now = app.clock.now();
    let status = if id.age_on(now.date()) >= MIN_KYC_AGE { KycState::Verified } else { KycState::Rejected };
    let record = KycRecord {
        status,
        name_mac: app.vault.mac("kyc-name", &[name.as_str()]),
        id_mac: app.vault.mac("kyc-id", &[id.expose()]),
        name_sealed: app.vault.seal_value(&kyc_context(account_id, "name"), name.as_str()),
        id_sealed: app.vault.seal_value(&kyc_context(account_id, "id"), id.expose()),
    };
    if !app.store.set_kyc(account_id, &record).await? {
        return Err(ErrorCode::KycAlreadyVerified.into());
    }
    if status == KycState::Rejected {
        return Err(Failure::new(ErrorCode::KycRejected)
            .with_details(json!({ "reason": "under_minimum_age", "minimum_age": MIN_KYC_AGE }))
            .into());
    }
    let a = load_account(app, account_id).await?;
    let mut v = json!(AccountView::from_row(&a));
    v["real_name_masked"] = json!(name.masked());
    v["id_number_masked"] = json!(id.masked());
    Ok((StatusCode::OK, v))
}
