//! Funds in transit to a card (SPEC "Pending settlement"; seed 003's most
//! common unbind failure: "卡内无未结算的余额" — balance withdrawn to the card
//! that has not arrived yet).
//!
//! Two sources: a refund the bank confirmed (recorded by the payment flow,
//! expected after `--refund-settles-after`), and a withdrawal of wallet
//! balance the wallet backend reports with the bank's expected arrival. An
//! unbind is refused while any is in transit, naming each with its
//! expected date; the settle job marks them arrived when that time comes
//! and tells the holder.

use bangka_core::binding::BindingStatus;
use bangka_core::money::Money;
use bangka_core::settlement::SettlementKind;
use bangka_core::{ErrorCode, Failure};
use bangka_store::{Cause, NewSettlement, SettlementRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

use super::standing::load_account;
use crate::auth::Principal;
use crate::error::{ApiResult, malformed};
use crate::state::AppState;
use crate::views::Answer;
use crate::views::Timestamp;

/// The default time a confirmed refund takes to reach the card
/// (`bangka serve --refund-settles-after`).
pub const DEFAULT_REFUND_SETTLES_AFTER: Duration = Duration::hours(72);

/// The furthest ahead a reported withdrawal may be expected.
pub const MAX_EXPECTED_AHEAD: Duration = Duration::days(30);

/// `POST …/bindings/{bid}/settlements`: the wallet reports balance
/// withdrawn to this card.
#[derive(Deserialize, ToSchema)]
pub struct WithdrawalBody {
    /// Minor units (fen).
    #[schema(value_type = i64)]
    pub amount: Value,
    pub currency: String,
    /// When the bank expects it on the card (RFC 3339, within 30 days).
    #[schema(format = DateTime)]
    pub expected_at: String,
}

/// Money on its way to a card.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementView {
    pub id: String,
    pub binding_id: String,
    /// `refund` or `withdrawal`.
    pub kind: String,
    pub payment_id: Option<String>,
    pub amount: i64,
    pub currency: String,
    /// `in_transit` or `settled`.
    #[schema(schema_with = crate::views::states::<bangka_core::settlement::SettlementStatus>)]
    pub status: bangka_core::settlement::SettlementStatus,
    #[schema(value_type = String, format = DateTime)]
    pub expected_at: crate::views::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub settled_at: Option<crate::views::Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: crate::views::Timestamp,
}

impl SettlementView {
    pub fn new(s: &SettlementRow) -> Self {
        SettlementView {
            id: s.id.clone(),
            binding_id: s.binding_id.clone(),
            kind: s.kind.as_str().into(),
            payment_id: s.payment_id.clone(),
            amount: s.amount,
            currency: s.currency.clone(),
            status: s.status,
            expected_at: Timestamp(s.expected_at),
            settled_at: s.settled_at.map(Timestamp),
            created_at: Timestamp(s.created_at),
        }
    }
}

fn parse_expected(s: &str, now: OffsetDateTime) -> Result<OffsetDateTime, Failure> {
    let t = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| malformed("expected_at", "an RFC 3339 time, e.g. 2026-11-24T10:00:00+08:00"))?;
    if t <= now || t > now + MAX_EXPECTED_AHEAD {
        return Err(malformed("expected_at", "must be in the future and at most 30 days ahead"));
    }
    Ok(t)
}

pub async fn report_withdrawal(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    binding_id: &str,
    body: WithdrawalBody,
) -> ApiResult<Answer<SettlementView>> {
    let money = Money::parse(&body.amount, &body.currency)?;
    let now = app.clock.now();
    let expected_at = parse_expected(&body.expected_at, now)?;
    load_account(app, account_id).await?;
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    if !matches!(b.status, BindingStatus::Active | BindingStatus::Frozen) {
        return Err(Failure::new(ErrorCode::BindingNotActive).with_details(json!({ "status": b.status.as_str() })).into());
    }
    let new = NewSettlement {
        account_id,
        binding_id: &b.id,
        kind: SettlementKind::Withdrawal,
        payment_id: None,
        op_id: None,
        amount: money.minor(),
        currency: money.currency().as_str(),
        expected_at,
    };
    let s = app.store.create_settlement(&new, Cause::api(who.actor()), now).await?;
    Ok(Answer::created(SettlementView::new(&s)))
}

/// `GET /v1/accounts/{id}/settlements`: newest first.
pub async fn list(app: &AppState, account_id: &str, page: &bangka_store::PageRequest) -> ApiResult<SettlementList> {
    load_account(app, account_id).await?;
    Ok(SettlementList::new(app.store.settlement_page(account_id, page).await?.map(|s| SettlementView::new(&s))))
}

crate::views::list_view!(
    /// Funds on their way to the account's cards, newest first.
    SettlementList of SettlementView
);

/// The settle job: marks due settlements arrived, each with its audit
/// entry and the holder's notice. Safe on many instances (each row is
/// claimed by its conditional update). Returns how many it settled.
pub async fn settle_due(app: &AppState) -> ApiResult<u64> {
    super::outbox::delivering(app, settle_due_work(app)).await
}

async fn settle_due_work(app: &AppState) -> ApiResult<u64> {
    let now = app.clock.now();
    let mut settled = 0;
    for s in app.store.due_settlements(now, 100).await? {
        let Some(b) = app.store.binding_by_id(&s.binding_id).await? else { continue };
        let amount = bangka_core::money::Currency::parse(&s.currency)
            .ok()
            .and_then(|c| Money::from_minor(s.amount, c))
            .map_or_else(|| format!("{} {}", s.amount, s.currency), Money::display);
        let (zh, en) = s.kind.noun();
        let notice = super::notices::card_notice(&b, &format!("的{zh} {amount} 已到账。"), &format!("has received the {en} of {amount}."));
        if app.store.settle(&s.id, &notice, Cause::job(), now).await? {
            tracing::info!(settlement_id = %s.id, kind = s.kind.as_str(), "funds arrived on the card");
            settled += 1;
        }
    }
    Ok(settled)
}
