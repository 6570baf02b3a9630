//! Suspending and resuming tokens (SPEC "Token").
//!
//! The holder (through the wallet) can suspend a card's token — a lost
//! phone, a card mislaid — and resume it. The issuer and risk control
//! suspend through the operations API; their suspensions are theirs to
//! lift ([`bangka_core::token::TokenState::resume`]), so a fraudster holding
//! the wallet cannot undo them.

use bangka_core::ErrorCode;
use bangka_core::token::{Actor, Reason, TokenNumber, TokenState};
use bangka_store::{Cause, TokenRow};
use serde::Deserialize;
use utoipa::ToSchema;

use super::bind::view_with;
use super::standing::load_account;
use crate::auth::{Duty, OpsAuth, Principal, Role};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::Answer;

/// `POST …/bindings/{bid}/token/suspend`.
#[derive(Deserialize, ToSchema, Default)]
pub struct SuspendBody {
    /// `holder_request` (default), `lost` or `stolen`.
    #[schema(value_type = Option<String>)]
    pub reason: Option<Reason>,
    /// `holder` (default: the holder asked for it in the wallet) or `wallet`
    /// (the wallet acts on its own, e.g. a compromised device).
    #[schema(value_type = Option<String>)]
    pub by: Option<Actor>,
}

/// `POST /v1/ops/tokens/{token_number}/suspend` and `/resume`.
#[derive(Deserialize, ToSchema)]
pub struct OpsTokenBody {
    /// `issuer` or `risk`: whose decision this records.
    #[schema(value_type = String)]
    pub on_behalf_of: Actor,
    /// For a suspension: `lost`, `stolen`, `fraud` or `card_reissued`.
    #[schema(value_type = Option<String>)]
    pub reason: Option<Reason>,
    /// Why, in words (5–500 characters), for the audit log.
    pub note: String,
}

/// An operator's stated reason for a token action, 5–500 characters.
pub fn ops_reason(note: &str) -> ApiResult<String> {
    super::text::ops_reason(note, 5)
}

/// Who is acting, from the credential: a holder session is the holder
/// whatever the body says; the wallet's own key relays the holder (`by`
/// left out or `holder`) or acts for itself (`wallet`). Nobody here speaks
/// for the issuer or risk control.
fn wallet_actor(who: &Principal, by: Option<Actor>) -> ApiResult<Actor> {
    match (who.session.is_some(), by.unwrap_or(Actor::Holder)) {
        (_, Actor::Holder) => Ok(Actor::Holder),
        (false, Actor::Wallet) => Ok(Actor::Wallet),
        _ => Err(ErrorCode::Forbidden.into()),
    }
}

/// A token pays again only on an active card: a frozen one is unfrozen,
/// one being unbound is revoked first (each with its own code).
fn check_can_resume(b: &bangka_store::BindingRow) -> ApiResult<()> {
    use bangka_core::binding::BindingStatus;
    match b.status {
        BindingStatus::Active => Ok(()),
        BindingStatus::Frozen => Err(super::payments::frozen(b).into()),
        BindingStatus::Unbinding => Err(ErrorCode::BindingUnbinding.into()),
        other => {
            Err(bangka_core::Failure::new(ErrorCode::BindingNotActive).with_details(serde_json::json!({ "status": other.as_str() })).into())
        }
    }
}

async fn binding_token(app: &AppState, account_id: &str, binding_id: &str) -> ApiResult<(bangka_store::BindingRow, TokenRow)> {
    load_account(app, account_id).await?;
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    let t = app.store.token_for_binding(&b.id).await?.ok_or(ErrorCode::BindingNotActive)?;
    Ok((b, t))
}

/// Applies `step` to the token's state and stores it if nothing changed
/// meanwhile (otherwise reads again and re-decides).
async fn transition(
    app: &AppState,
    token: TokenRow,
    step: impl Fn(TokenState) -> Result<TokenState, bangka_core::token::Refusal>,
    cause: Cause<'_>,
) -> ApiResult<TokenRow> {
    let mut t = token;
    for _ in 0..5 {
        let to = step(t.state).map_err(|r| r.failure(t.state))?;
        if app.store.change_token_state(&t.id, t.state, to, cause, app.clock.now()).await? {
            tracing::info!(token_id = %t.id, status = to.status.as_str(), by = ?to.suspended_by, "token state changed");
            // As decided (its write-set may not be applied yet).
            return Ok(TokenRow { state: to, ..t });
        }
        t = app.store.token_by_number(&t.number).await?.ok_or(ErrorCode::NotFound)?;
    }
    Err(anyhow::anyhow!("token state kept changing").into())
}

pub async fn suspend(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    binding_id: &str,
    body: SuspendBody,
) -> ApiResult<Answer<crate::views::BindingView>> {
    let by = wallet_actor(who, body.by)?;
    let reason = body.reason.unwrap_or(Reason::HolderRequest);
    if !matches!(reason, Reason::HolderRequest | Reason::Lost | Reason::Stolen) {
        return Err(ErrorCode::MalformedRequest.into());
    }
    let (b, t) = binding_token(app, account_id, binding_id).await?;
    let t = transition(app, t, |s| s.suspend(by, reason), Cause::api(who.actor())).await?;
    Ok(Answer::ok(view_with(app, &b, Some(&t)).await?))
}

pub async fn resume(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    binding_id: &str,
    body: SuspendBody,
) -> ApiResult<Answer<crate::views::BindingView>> {
    let by = wallet_actor(who, body.by)?;
    let (b, t) = binding_token(app, account_id, binding_id).await?;
    check_can_resume(&b)?;
    let t = match transition(app, t, |s| s.resume(by), Cause::api(who.actor())).await {
        Ok(t) => t,
        Err(e) => {
            // Frozen or unbinding meanwhile: say so.
            let now_b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
            check_can_resume(&now_b)?;
            return Err(e);
        }
    };
    Ok(Answer::ok(view_with(app, &b, Some(&t)).await?))
}

/// The ops side: the issuer's or risk control's decision, recorded by an
/// operator (admin for either; a risk reviewer only for risk).
pub async fn ops_change(
    app: &AppState,
    who: &OpsAuth,
    number: &str,
    body: OpsTokenBody,
    suspend: bool,
) -> ApiResult<Answer<crate::views::TokenView>> {
    let p = who.require(Duty::SuspendTokens)?;
    let actor = body.on_behalf_of;
    match (p.role, actor) {
        (Role::Admin, Actor::Issuer | Actor::Risk) | (Role::Risk, Actor::Risk) => {}
        _ => return Err(ErrorCode::Forbidden.into()),
    }
    let note = ops_reason(&body.note)?;
    let number = TokenNumber::parse(number)?;
    let t = app.store.token_by_number(number.as_str()).await?.ok_or(ErrorCode::TokenNotFound)?;
    let cause = Cause::api(&p.key_id).with_note(&note);
    let t = if suspend {
        let reason = body.reason.unwrap_or(Reason::Fraud);
        if !matches!(reason, Reason::Lost | Reason::Stolen | Reason::Fraud | Reason::CardReissued) {
            return Err(ErrorCode::MalformedRequest.into());
        }
        transition(app, t, |s| s.suspend(actor, reason), cause).await?
    } else {
        let b = app.store.binding_by_id(&t.binding_id).await?.ok_or(ErrorCode::TokenNotFound)?;
        check_can_resume(&b)?;
        transition(app, t, |s| s.resume(actor), cause).await?
    };
    Ok(Answer::ok(crate::views::TokenView::from_row(&t)))
}
