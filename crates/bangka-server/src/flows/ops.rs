//! Operator actions that read card data: detokenization and the full view of
//! a payment. Each is limited by role, and detokenization is audited (with
//! its stated reason) before the card number is handed out.

use axum::http::StatusCode;
use bangka_core::ErrorCode;
use bangka_core::token::TokenNumber;
use bangka_store::{Cause, Change};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::payments;
use super::tokens::ops_reason;
use crate::auth::{OpsAuth, Role};
use crate::error::ApiResult;
use crate::state::AppState;

/// `POST /v1/ops/detokenize`.
#[derive(Deserialize, ToSchema)]
pub struct DetokenizeBody {
    pub token_number: String,
    /// Why the full card number is needed (5–500 characters); kept in the audit log.
    pub reason: String,
}

/// The full card number behind a token, for an administrator, with the
/// reason recorded first: if the audit entry cannot be written, the number
/// is not returned.
pub async fn detokenize(app: &AppState, who: &OpsAuth, body: DetokenizeBody) -> ApiResult<(StatusCode, Value)> {
    let p = who.require(&[Role::Admin])?;
    let number = TokenNumber::parse(&body.token_number)?;
    let reason = ops_reason(&body.reason)?;
    let t = app.store.token_by_number(number.as_str()).await?.ok_or(ErrorCode::TokenNotFound)?;
    let b = app.store.binding_by_id(&t.binding_id).await?.ok_or(ErrorCode::TokenNotFound)?;
    // A deleted card's data key is gone (crypto-shredding): nothing to show.
    let vault_id = b.vault_id.clone().ok_or(ErrorCode::TokenDeleted)?;
    let sealed = app.store.get_sealed(&vault_id).await?.ok_or(ErrorCode::TokenDeleted)?;
    let change = Change { action: "token.detokenize", subject: &t.id, before: None, after: None };
    let audit_id = app.store.audit(Cause::api(&p.key_id).with_note(&reason), change, app.clock.now()).await?;
    let pan = app.vault.open_pan(&sealed)?;
    tracing::warn!(token_id = %t.id, audit_id, operator = %p.key_id, "detokenized by an operator");
    Ok((
        StatusCode::OK,
        json!(crate::views::DetokenizedView {
            token_number: t.number,
            card_number: pan.expose().to_owned(),
            binding_id: b.id,
            account_id: b.account_id,
            audit_id,
        }),
    ))
}

/// `GET /v1/ops/payments/{pid}`: a payment with the issuer's precise reason.
pub async fn payment(app: &AppState, who: &OpsAuth, payment_id: &str) -> ApiResult<(StatusCode, Value)> {
    who.require(&[Role::Support, Role::Risk, Role::Admin])?;
    let p = app.store.get_payment(payment_id).await?.ok_or(ErrorCode::NotFound)?;
    Ok((StatusCode::OK, payments::view(app, &p, true).await?))
}
