//! The account a request acts for, and whether it may act now: sign-up
//! finished, not frozen, not risk-locked.

use bangka_core::bind::AccountStatus;
use bangka_core::{ErrorCode, Failure};
use bangka_store::AccountRow;
use time::OffsetDateTime;

use crate::error::ApiResult;
use crate::state::AppState;

pub async fn load_account(app: &AppState, account_id: &str) -> ApiResult<AccountRow> {
    app.store.get_account(account_id).await?.ok_or_else(|| ErrorCode::NotFound.into())
}

/// Refuses while the holder has frozen the account, then while it is
/// risk-locked: what every operation that pays, binds or unbinds checks.
/// Refuses an account whose sign-up is not finished (its phone never verified).
pub fn check_complete(account: &AccountRow) -> ApiResult<()> {
    if account.phone_verified_at.is_some() {
        return Ok(());
    }
    let details = serde_json::json!({
        "missing": "phone_verification",
        "next": crate::i18n::say("输入注册手机号收到的短信验证码。", "Enter the code sent by SMS to the account's phone."),
        "developer": { "method": "POST", "path": format!("/v1/accounts/{}/phone/verify", account.id), "body": { "otp": "<code>" } },
    });
    Err(Failure::new(ErrorCode::AccountIncomplete).with_details(details).into())
}

pub fn check_standing(account: &AccountRow, now: OffsetDateTime) -> ApiResult<()> {
    check_complete(account)?;
    if account.status == AccountStatus::Frozen {
        let details = serde_json::json!({
            "frozen_reason": account.frozen_reason.map(|r| r.as_str()),
            "frozen_at": account.frozen_at.map(crate::views::rfc3339),
            "unfreeze": { "method": "POST", "path": format!("/v1/accounts/{}/unfreeze", account.id) },
        });
        return Err(Failure::new(ErrorCode::AccountFrozen).with_details(details).into());
    }
    check_not_locked(account, now)
}

/// Refuses while the account is risk-locked.
pub fn check_not_locked(account: &AccountRow, now: OffsetDateTime) -> ApiResult<()> {
    match account.locked_until.filter(|u| *u > now) {
        Some(until) => Err(bangka_core::risk::locked(&account.id, bangka_core::risk::Subject::Account, until).into()),
        None => Ok(()),
    }
}
