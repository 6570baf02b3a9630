//! Autopay agreements (SPEC "Mandate"): set up with the holder's payment
//! password and a check at the bank, listed, cancelled by the holder.
//!
//! Setup is honest about failure: the agreement is recorded `pending`, the
//! bank is asked whether the card can be charged online (a 0.01 CNY
//! authorization, voided at once), and only then does it become `active`. A
//! refusal leaves it `failed` with the bank's reason — never `active`.

use bangka_core::holder::PaymentPassword;
use bangka_core::mandate::{MandateKind, MandateStatus};
use bangka_core::money::{Currency, Money};
use bangka_core::payment::MerchantId;
use bangka_core::{ErrorCode, Failure};
use bangka_store::{Cause, MandateRow, NewMandate, new_id};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::accounts::check_payment_password;
use super::attempts::AttemptFacts;
use super::bind::{TEST_AUTHORIZATION_FEN, issuer_failure};
use super::standing::{check_standing, load_account};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::Answer;
use crate::views::Timestamp;

/// `POST /v1/accounts/{id}/mandates`.
#[derive(Deserialize, ToSchema)]
pub struct MandateBody {
    pub binding_id: String,
    pub merchant_id: String,
    /// `subscription`, `installment` or `password_free`.
    #[schema(value_type = String)]
    pub kind: MandateKind,
    /// The most one charge may take, in fen.
    #[schema(value_type = i64)]
    pub max_amount: Value,
    pub currency: String,
    /// The holder confirms the agreement with the payment password.
    pub payment_password: String,
}

/// An autopay agreement.
#[derive(Debug, Serialize, ToSchema)]
pub struct MandateView {
    pub id: String,
    pub binding_id: String,
    pub merchant_id: String,
    pub kind: String,
    /// `pending`, `active`, `suspended`, `revoked`, `expired` or `failed` (the setup failed; never active).
    #[schema(schema_with = crate::views::states::<bangka_core::mandate::MandateStatus>)]
    pub status: bangka_core::mandate::MandateStatus,
    pub max_amount: i64,
    pub currency: String,
    /// Why the setup failed: a catalog code and its help page.
    pub failure: Option<Value>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: crate::views::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub activated_at: Option<crate::views::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<crate::views::Timestamp>,
}

impl MandateView {
    pub fn new(m: &MandateRow) -> Self {
        MandateView {
            id: m.id.clone(),
            binding_id: m.binding_id.clone(),
            merchant_id: m.merchant_id.clone(),
            kind: m.kind.as_str().into(),
            status: m.status,
            max_amount: m.max_amount,
            currency: m.currency.clone(),
            failure: m.failure_code.as_ref().map(|c| json!({ "code": c, "doc_url": format!("/help/errors/{c}") })),
            created_at: Timestamp(m.created_at),
            activated_at: m.activated_at.map(Timestamp),
            revoked_at: m.revoked_at.map(Timestamp),
        }
    }
}

pub async fn create(app: &AppState, who: &Principal, account_id: &str, body: MandateBody) -> ApiResult<Answer<MandateView>> {
    let merchant = MerchantId::parse(&body.merchant_id)?;
    let limit = Money::parse(&body.max_amount, &body.currency)?;
    let password = PaymentPassword::parse_for_check(&body.payment_password)?;
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    check_standing(&account, now)?;
    // The card must be able to pay from this wallet, exactly as for a payment.
    let (b, _token) = super::payments::payable(app, who, account_id, &body.binding_id).await?;
    let facts = AttemptFacts::binding(&b);
    let stored = app.store.payment_password_hash(account_id).await?.ok_or(ErrorCode::PaymentPasswordNotSet)?;
    check_payment_password(app, account_id, "mandate", &facts, password, stored).await?;

    let id = new_id("mdt");
    let cause = Cause::api(who.actor());
    let new = NewMandate {
        id: &id,
        account_id,
        binding_id: &b.id,
        merchant_id: merchant.as_str(),
        kind: body.kind,
        max_amount: limit.minor(),
        currency: limit.currency().as_str(),
    };
    if !app.store.create_mandate(&new, cause, now).await? {
        let existing = app.store.standing_mandates(&b.id).await?.into_iter().find(|m| m.merchant_id == merchant.as_str()).map(|m| m.id);
        return Err(Failure::new(ErrorCode::MandateAlreadyExists).with_details(json!({ "mandate_id": existing })).into());
    }

    super::bank::checkpoint(app, &super::bank::Resume::Mandate { account_id: account_id.to_owned(), mandate_id: id.clone() }).await?;
    setup(app, who, account_id, &id).await
}

/// Asks the bank whether it can charge the card online (0.01 CNY
/// authorized and voided, one reference per agreement, so a repeat holds
/// nothing twice) and moves the pending agreement to `active` or `failed`;
/// answers with what the agreement became.
async fn setup(app: &AppState, who: &Principal, account_id: &str, id: &str) -> ApiResult<Answer<MandateView>> {
    let mut m = app.store.get_mandate(account_id, id).await?.ok_or(ErrorCode::NotFound)?;
    if m.status == MandateStatus::Pending {
        let b = app.store.binding_by_id(&m.binding_id).await?.ok_or(ErrorCode::NotFound)?;
        let check = async {
            let vault_id = b.vault_id.as_deref().ok_or_else(|| Failure::new(ErrorCode::BindingNotActive))?;
            let sealed = app.store.get_sealed(vault_id).await.map_err(|_| Failure::new(ErrorCode::IssuerUnavailable))?;
            let sealed = sealed.ok_or_else(|| Failure::new(ErrorCode::BindingNotActive))?;
            let pan = app.vault.open_pan(&sealed).map_err(|_| Failure::new(ErrorCode::BindingNotActive))?;
            let reference = format!("{id}-setup");
            app.bank().authorize(&pan, TEST_AUTHORIZATION_FEN, &reference).await?;
            if let Err(f) = app.bank().void(&reference).await {
                tracing::warn!(mandate_id = %id, code = f.code.as_str(), "voiding the mandate setup check failed");
            }
            Ok::<(), Failure>(())
        };
        let checked = check.await;
        app.failpoint("mandate.after_bank").await?;
        let cause = Cause::api(who.actor());
        let later = app.clock.now();
        let (to, failure, notice) = match &checked {
            Ok(()) => {
                let limit = Currency::parse(&m.currency).ok().and_then(|c| Money::from_minor(m.max_amount, c));
                let limit = limit.map_or_else(|| format!("{} fen", m.max_amount), Money::display);
                let merchant = &m.merchant_id;
                let notice = super::notices::card_notice(
                    &b,
                    &format!("已与商户 {merchant} 开通自动扣款，单笔上限 {limit}。可随时在钱包中取消。"),
                    &format!("has autopay with {merchant} on, up to {limit} per charge. Cancel it any time in the wallet."),
                );
                (MandateStatus::Active, None, Some(notice))
            }
            Err(f) => (MandateStatus::Failed, Some(f.code.as_str()), None),
        };
        m = if app.store.move_mandate(&m, to, failure, notice.as_ref(), cause, later).await? {
            if let Err(f) = checked {
                let e = if matches!(f.code, ErrorCode::IssuerUnavailable | ErrorCode::IssuerMaintenance) {
                    issuer_failure(app, f)
                } else {
                    f.into()
                };
                return Err(e.with_detail("mandate_id", id));
            }
            moved(m, to, failure, later)
        } else {
            // Moved by someone else (the holder cancelled it meanwhile).
            app.store.get_mandate(account_id, id).await?.ok_or(ErrorCode::NotFound)?
        };
    }
    match m.status {
        MandateStatus::Failed => {
            let code = m.failure_code.as_deref().and_then(ErrorCode::parse).unwrap_or(ErrorCode::IssuerUnavailable);
            Err(ApiError::from(Failure::new(code)).with_detail("mandate_id", id))
        }
        _ => Ok(Answer::created(MandateView::new(&m))),
    }
}

/// A mandate as [`bangka_store::Store::move_mandate`] records its move
/// (the write-set may not be applied yet).
fn moved(m: MandateRow, to: MandateStatus, failure_code: Option<&str>, now: time::OffsetDateTime) -> MandateRow {
    MandateRow {
        status: to,
        failure_code: failure_code.map(str::to_owned).or(m.failure_code),
        updated_at: now,
        activated_at: if to == MandateStatus::Active { m.activated_at.or(Some(now)) } else { m.activated_at },
        revoked_at: if to == MandateStatus::Revoked { Some(now) } else { m.revoked_at },
        ..m
    }
}

/// Finishes an agreement whose request crashed after it was written down.
pub(super) async fn resume(app: &AppState, who: &Principal, account_id: &str, id: &str) -> ApiResult<Answer<MandateView>> {
    setup(app, who, account_id, id).await
}

crate::views::list_view!(
    /// The account's autopay agreements, newest first.
    MandateList of MandateView
);

pub async fn list(app: &AppState, account_id: &str, page: &bangka_store::PageRequest) -> ApiResult<MandateList> {
    load_account(app, account_id).await?;
    Ok(MandateList::new(app.store.mandate_page(account_id, page).await?.map(|m| MandateView::new(&m))))
}

pub async fn get(app: &AppState, account_id: &str, id: &str) -> ApiResult<Answer<MandateView>> {
    let m = app.store.get_mandate(account_id, id).await?.ok_or(ErrorCode::NotFound)?;
    Ok(Answer::ok(MandateView::new(&m)))
}

/// `POST /v1/accounts/{id}/mandates/{mid}/cancel`: the holder revokes an
/// agreement at once (cancelling never needs a code).
pub async fn cancel(app: &AppState, who: &Principal, account_id: &str, id: &str) -> ApiResult<Answer<MandateView>> {
    let m = app.store.get_mandate(account_id, id).await?.ok_or(ErrorCode::NotFound)?;
    let b = app.store.binding_by_id(&m.binding_id).await?.ok_or(ErrorCode::NotFound)?;
    let notice = super::notices::card_notice(
        &b,
        &format!("与商户 {} 的自动扣款已取消。", m.merchant_id),
        &format!("no longer has autopay with {}: it is cancelled.", m.merchant_id),
    );
    let standing = [MandateStatus::Pending, MandateStatus::Active, MandateStatus::Suspended];
    let now = app.clock.now();
    let not_active = |m: &MandateRow| Failure::new(ErrorCode::MandateNotActive).with_details(json!({ "status": m.status.as_str() }));
    let mut m = m;
    // A move meanwhile between standing states (a suspension) still cancels.
    for _ in 0..3 {
        if !standing.contains(&m.status) {
            return Err(not_active(&m).into());
        }
        if app.store.move_mandate(&m, MandateStatus::Revoked, None, Some(&notice), Cause::api(who.actor()), now).await? {
            return Ok(Answer::ok(MandateView::new(&moved(m, MandateStatus::Revoked, None, now))));
        }
        m = app.store.get_mandate(account_id, id).await?.ok_or(ErrorCode::NotFound)?;
    }
    Err(anyhow::anyhow!("mandate {id} kept changing").into())
}
