//! Paying with a bound card (SPEC "Token", "Payment").
//!
//! 1. The holder confirms one payment (amount, currency, merchant) with the
//!    payment password or an SMS code; the wallet gets a one-time
//!    cryptogram for it, computed under the token's own key over the next
//!    ATC value (`cryptogram`).
//! 2. The merchant presents token number, cryptogram, amount, currency and
//!    merchant id (`pay`). Bangka checks, in order: the cryptogram is one it
//!    issued, unused, unexpired and for exactly these fields; the token and
//!    the binding can pay. It then consumes the cryptogram and asks the
//!    issuer to authorize.
//! 3. The merchant captures and refunds (`capture`, `refund`); each issuer
//!    call is written down first as a pending op, so a crash or an issuer
//!    outage leaves work the payment job finishes.

use bangka_core::bind::AccountStatus;
use bangka_core::binding::BindingStatus;
use bangka_core::holder::PaymentPassword;
use bangka_core::mandate::MandateStatus;
use bangka_core::mode::Mode;
use bangka_core::money::{Currency, Money};
use bangka_core::otp::{Otp, OtpPurpose};
use bangka_core::payment::{self, Amounts, CRYPTOGRAM_TTL, MerchantId, OpStatus, PaymentStatus};
use bangka_core::token::{CryptogramValue, TokenNumber};
use bangka_core::{ErrorCode, Failure};
use bangka_store::{
    AccountRow, AuthOutcome, BindingRow, Cause, CryptogramInput, CryptogramOutcome, CryptogramRequest, NewMessage, OpKind, PageRequest,
    PaymentRow, TokenRow, new_id,
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::accounts::check_payment_password;
use super::attempts::AttemptFacts;
use super::bind::{issuer_failure, token_domain};
use super::codes::{check_otp, send_code};
use super::maintenance::check_issuer_open;
use super::standing::{check_standing, load_account};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::Answer;
use crate::views::{PaymentList, PaymentView, rfc3339};

/// What one payment is for: the holder confirms exactly this.
#[derive(Deserialize, ToSchema)]
pub struct PaymentTerms {
    /// Minor units (fen) as a JSON integer: 12.34 CNY is `1234`.
    #[schema(value_type = i64)]
    pub amount: Value,
    /// `CNY`.
    pub currency: String,
    pub merchant_id: String,
}

/// `POST /v1/accounts/{id}/bindings/{bid}/cryptograms`: the payment terms and
/// exactly one of `payment_password` or `otp` (an SMS code requested with
/// `…/cryptograms/otp` for the same terms).
///
/// The terms' fields are spelled out, not flattened in: a flattened struct
/// would hide a misspelled field from the check that refuses unknown ones.
#[derive(Deserialize, ToSchema)]
pub struct CryptogramBody {
    /// Minor units (fen) as a JSON integer: 12.34 CNY is `1234`.
    #[schema(value_type = i64)]
    pub amount: Value,
    /// `CNY`.
    pub currency: String,
    pub merchant_id: String,
    pub payment_password: Option<String>,
    pub otp: Option<String>,
}

/// `POST /v1/payments`.
#[derive(Deserialize, ToSchema)]
pub struct PaymentBody {
    pub token_number: String,
    pub cryptogram: String,
    /// Minor units (fen) as a JSON integer: 12.34 CNY is `1234`.
    #[schema(value_type = i64)]
    pub amount: Value,
    /// `CNY`.
    pub currency: String,
    pub merchant_id: String,
}

/// `POST /v1/payments/{pid}/capture` (amount optional: all of it) and
/// `/refund` (amount required).
#[derive(Deserialize, ToSchema, Default)]
pub struct AmountBody {
    #[schema(value_type = Option<i64>)]
    pub amount: Option<Value>,
}

/// Parsed payment terms.
struct Terms {
    money: Money,
    merchant: MerchantId,
}

fn parse_terms(t: &PaymentTerms) -> Result<Terms, Failure> {
    terms_of(&t.amount, &t.currency, &t.merchant_id)
}

fn terms_of(amount: &Value, currency: &str, merchant_id: &str) -> Result<Terms, Failure> {
    Ok(Terms { money: Money::parse(amount, currency)?, merchant: MerchantId::parse(merchant_id)? })
}

/// How the holder confirmed.
enum Confirmation {
    Password(PaymentPassword),
    Otp(Otp),
}

fn parse_confirmation(body: &CryptogramBody) -> Result<Confirmation, Failure> {
    match (&body.payment_password, &body.otp) {
        (Some(pw), None) => Ok(Confirmation::Password(PaymentPassword::parse_for_check(pw)?)),
        (None, Some(otp)) => Ok(Confirmation::Otp(Otp::parse(otp)?)),
        (None, None) => Err(verification_required("missing")),
        (Some(_), Some(_)) => Err(verification_required("both_given")),
    }
}

fn verification_required(reason: &str) -> Failure {
    Failure::new(ErrorCode::PaymentVerificationRequired).with_details(json!({ "reason": reason, "accepted": ["payment_password", "otp"] }))
}

/// The binding and its token, if this wallet may pay with them now.
pub(super) async fn payable(app: &AppState, who: &Principal, account_id: &str, binding_id: &str) -> ApiResult<(BindingRow, TokenRow)> {
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    check_binding_can_pay(&b)?;
    let token = app.store.token_for_binding(&b.id).await?.ok_or(ErrorCode::BindingNotActive)?;
    if token.domain != token_domain(who) {
        return Err(ErrorCode::TokenDomainMismatch.into());
    }
    if let Some(f) = token.state.payment_refusal() {
        return Err(f.into());
    }
    check_issuer_open(app, &b.issuer).await?;
    Ok((b, token))
}

/// Why a frozen card cannot pay, in words that lead somewhere: a card
/// reported lost or stolen is never unfrozen, so "unfreeze it" would be a
/// dead end; it is answered in the report's safe form (whoever pays may
/// not be its holder: docs/safe-messages.md), which sends the holder to
/// the bank and its new card. Any other freeze is unfrozen.
pub fn frozen(b: &BindingRow) -> ErrorCode {
    use bangka_core::binding::FreezeReason;
    match b.frozen_reason {
        Some(FreezeReason::CardLost | FreezeReason::CardStolen) => ErrorCode::CardReportedLost.for_new_card(),
        _ => ErrorCode::BindingFrozen,
    }
}

fn check_binding_can_pay(b: &BindingRow) -> Result<(), Failure> {
    match b.status {
        BindingStatus::Active => Ok(()),
        BindingStatus::Frozen => Err(frozen(b).into()),
        BindingStatus::Unbinding => Err(ErrorCode::BindingUnbinding.into()),
        other => Err(Failure::new(ErrorCode::BindingNotActive).with_details(json!({ "status": other.as_str() }))),
    }
}

/// The keyed hash an SMS payment code is bound to: this binding, amount,
/// currency and merchant.
fn terms_mac(app: &AppState, binding_id: &str, t: &Terms) -> String {
    app.vault.mac("pay-terms", &[binding_id, &t.money.minor().to_string(), t.money.currency().as_str(), t.merchant.as_str()])
}

/// `POST …/bindings/{bid}/cryptograms/otp`: sends an SMS code that confirms
/// exactly this payment (the message names amount and merchant).
pub async fn request_otp(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    binding_id: &str,
    body: PaymentTerms,
) -> ApiResult<Answer<crate::views::CodeSentView>> {
    let terms = parse_terms(&body)?;
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    check_standing(&account, now)?;
    let (b, _token) = payable(app, who, account_id, binding_id).await?;
    let (last4, merchant, amount, ttl) = (&b.last4, terms.merchant.as_str(), terms.money.display(), app.otp.ttl.whole_minutes());
    let next_action = send_code(app, &b.id, &b.phone, OtpPurpose::Pay, Some(terms_mac(app, &b.id, &terms)), |otp| {
        let code = otp.expose();
        super::codes::code_message(
            app,
            account_id,
            &b.phone,
            format!(
                "【Bangka】验证码 {code}，用于尾号{last4}的银行卡向商户 {merchant} 支付 {amount}，{ttl}分钟内有效。请勿将验证码告诉任何人。"
            ),
            format!(
                "Bangka: {code} confirms a payment of {amount} to {merchant} with the card ending {last4}, valid for {ttl} minutes. Never share it."
            ),
        )
    })
    .await?;
    Ok(Answer::accepted(crate::views::CodeSentView { binding_id: b.id, next_action }))
}

/// `POST …/bindings/{bid}/cryptograms`: the holder's confirmation buys one
/// cryptogram for exactly these terms. Nothing moves (not even the ATC)
/// unless every check passes.
pub async fn cryptogram(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    binding_id: &str,
    body: CryptogramBody,
) -> ApiResult<Answer<crate::views::CryptogramView>> {
    let terms = terms_of(&body.amount, &body.currency, &body.merchant_id)?;
    let confirmation = parse_confirmation(&body)?;
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    check_standing(&account, now)?;
    let (b, token) = payable(app, who, account_id, binding_id).await?;
    let facts = AttemptFacts::binding(&b);

    let challenge_id = match confirmation {
        Confirmation::Password(pw) => {
            let stored = app.store.payment_password_hash(account_id).await?.ok_or(ErrorCode::PaymentPasswordNotSet)?;
            check_payment_password(app, account_id, "cryptogram", &facts, pw, stored).await?;
            None
        }
        Confirmation::Otp(otp) => {
            let (c, context) =
                app.store.latest_challenge(&b.id, OtpPurpose::Pay).await?.ok_or_else(|| verification_required("no_code_requested"))?;
            if c.challenge.passed {
                return Err(verification_required("code_already_used").into());
            }
            if context.as_deref() != Some(terms_mac(app, &b.id, &terms).as_str()) {
                return Err(verification_required("code_for_other_terms").into());
            }
            // An exhausted code simply stays unusable; a new one can be asked for.
            check_otp(app, account_id, "cryptogram", &facts, &c, &otp, async || Ok(())).await?;
            Some(c.challenge.id)
        }
    };

    let key = match &token.key_sealed {
        Some(k) => k.clone(),
        None => app.store.ensure_token_key(&token.id, &app.vault.new_token_key(&token.id)).await?,
    };
    let expires_at = now + CRYPTOGRAM_TTL;
    let req = CryptogramRequest {
        amount: terms.money.minor(),
        currency: terms.money.currency().as_str(),
        merchant_id: terms.merchant.as_str(),
        expires_at,
        challenge_id: challenge_id.as_deref(),
    };
    let issued = match next_cryptogram(app, &token, &key, &req, now).await? {
        CryptogramOutcome::Issued(c) => c,
        CryptogramOutcome::ChallengeUsed => return Err(verification_required("code_already_used").into()),
        CryptogramOutcome::TokenNotActive => return Err(token_refusal(app, &b.id).await),
    };
    app.store.stage_attempt(&super::attempts::attempt_row(app, account_id, "cryptogram", &facts, None)).await?;
    tracing::info!(binding_id = %b.id, atc = issued.atc, "cryptogram issued");
    Ok(Answer::created(crate::views::CryptogramView {
        token_number: token.number,
        cryptogram: issued.value,
        expires_at: crate::views::Timestamp(expires_at),
        atc: issued.atc,
        amount: terms.money.minor(),
        currency: terms.money.currency().as_str().into(),
        merchant_id: terms.merchant.as_str().into(),
        binding_id: b.id,
    }))
}

/// The token's next cryptogram. Decided on the token as read: it pays, at
/// the ATC after the one read; staged, the write-set holds that as its
/// guard, and a concurrent change refuses it (the request decides again on
/// the unit path, which issues at the ATC it finds).
async fn next_cryptogram(
    app: &AppState,
    token: &TokenRow,
    key: &[u8],
    req: &CryptogramRequest<'_>,
    now: time::OffsetDateTime,
) -> ApiResult<CryptogramOutcome> {
    if app.store.defers().await {
        return Ok(CryptogramOutcome::Issued(app.store.stage_cryptogram(&app.vault, token, key, req, now).await?));
    }
    Ok(app.store.issue_cryptogram(&app.vault, token, key, req, now).await?)
}

/// Why the card's token does not pay now, as read again.
async fn token_refusal(app: &AppState, binding_id: &str) -> ApiError {
    match app.store.token_for_binding(binding_id).await {
        Ok(Some(t)) => t.state.payment_refusal().unwrap_or_else(|| ErrorCode::TokenStateConflict.into()).into(),
        Ok(None) => ErrorCode::BindingNotActive.into(),
        Err(e) => e.into(),
    }
}

/// `POST /v1/payments`: the merchant presents the token and cryptogram.
pub async fn pay(app: &AppState, who: &Principal, body: PaymentBody) -> ApiResult<Answer<PaymentView>> {
    let number = TokenNumber::parse(&body.token_number)?;
    let presented = CryptogramValue::parse(&body.cryptogram)?;
    let terms = terms_of(&body.amount, &body.currency, &body.merchant_id)?;
    check_merchant(who, &terms.merchant)?;
    let now = app.clock.now();

    let token = app.store.token_by_number(number.as_str()).await?.ok_or(ErrorCode::TokenNotFound)?;
    let b = app.store.binding_by_id(&token.binding_id).await?.ok_or(ErrorCode::TokenNotFound)?;
    // A token of the other mode does not exist for this key (issue 24).
    if Mode::of_account(&b.account_id) != who.mode {
        return Err(ErrorCode::TokenNotFound.into());
    }
    let issued = app.store.find_cryptogram(&app.vault, &token.id, presented.as_str()).await?.ok_or(ErrorCode::CryptogramInvalid)?;
    // A deleted token (the card was unbound) is the answer whatever else is
    // wrong with the cryptogram.
    if token.state.status == bangka_core::token::TokenStatus::Deleted {
        return Err(ErrorCode::TokenDeleted.into());
    }
    if issued.used_at.is_some() {
        return Err(ErrorCode::CryptogramReplayed.into());
    }
    if now >= issued.expires_at {
        return Err(Failure::new(ErrorCode::CryptogramExpired).with_details(json!({ "expired_at": rfc3339(issued.expires_at) })).into());
    }
    let key = token.key_sealed.as_deref().ok_or(ErrorCode::CryptogramInvalid)?;
    let input = CryptogramInput {
        token_number: &token.number,
        atc: issued.atc,
        amount_minor: terms.money.minor(),
        currency: terms.money.currency().as_str(),
        merchant_id: terms.merchant.as_str(),
        expires_at_ms: bangka_store::to_ms(issued.expires_at),
    };
    if !app.vault.verify_cryptogram(&token.id, key, &input, presented.as_str())? {
        let mut fields = Vec::new();
        if issued.amount != terms.money.minor() {
            fields.push("amount");
        }
        if issued.currency != terms.money.currency().as_str() {
            fields.push("currency");
        }
        if issued.merchant_id != terms.merchant.as_str() {
            fields.push("merchant_id");
        }
        if fields.is_empty() {
            return Err(ErrorCode::CryptogramInvalid.into());
        }
        return Err(Failure::new(ErrorCode::CryptogramMismatch).with_details(json!({ "fields": fields })).into());
    }
    // A frozen binding is named as such (its token is suspended with it,
    // but "unfreeze the card" is the remedy); then the token; then any other
    // state of the binding.
    match b.status {
        BindingStatus::Frozen => return Err(frozen(&b).into()),
        BindingStatus::Unbinding => return Err(ErrorCode::BindingUnbinding.into()),
        _ => {}
    }
    if let Some(f) = token.state.payment_refusal() {
        return Err(f.into());
    }
    check_binding_can_pay(&b)?;

    let account = load_account(app, &b.account_id).await?;
    check_not_frozen(&account)?;
    check_issuer_open(app, &b.issuer).await?;

    let payment = PaymentRow {
        id: new_id("pay"),
        account_id: b.account_id.clone(),
        binding_id: b.id.clone(),
        token_id: token.id.clone(),
        cryptogram_id: issued.id.clone(),
        mandate_id: None,
        created_by: who.key_id.clone(),
        merchant_id: terms.merchant.as_str().into(),
        currency: terms.money.currency().as_str().into(),
        amount: terms.money.minor(),
        captured: 0,
        refunded: 0,
        status: PaymentStatus::Pending,
        decline_code: None,
        shown_code: None,
        issuer_code: None,
        created_at: now,
        updated_at: now,
    };
    authorize(app, who, &payment).await
}

/// Writes the payment (consuming its cryptogram) with its pending
/// authorization op and commits that intent, asks the issuer, and records
/// the answer: the part of a payment the holder's confirmation and an
/// autopay agreement share.
async fn authorize(app: &AppState, who: &Principal, payment: &PaymentRow) -> ApiResult<Answer<PaymentView>> {
    let op_id = new_id("op");
    // Decided: the cryptogram as read is unused. Staged, the payment and its
    // op are applied with the checkpoint as one write-set (refused if the
    // cryptogram was used meanwhile: the request decides again below).
    if app.store.defers().await {
        app.store.stage_payment(payment, &op_id, Cause::api(who.actor())).await?;
    } else if !app.store.begin_payment(payment, &op_id, Cause::api(who.actor())).await? {
        return Err(ErrorCode::CryptogramReplayed.into());
    }
    let resume = super::bank::Resume::Authorize { payment_id: payment.id.clone(), op_id: op_id.clone() };
    super::bank::checkpoint(app, &resume).await?;
    let op = PendingOp { payment_id: &payment.id, op_id: &op_id };
    match finish_authorization(app, who, op).await? {
        Some(answer) => answer,
        None => Err(ErrorCode::PaymentStateConflict.into()),
    }
}

/// A payment and the op of it a request is finishing.
#[derive(Clone, Copy)]
struct PendingOp<'a> {
    payment_id: &'a str,
    op_id: &'a str,
}

/// Asks the issuer to authorize a pending payment (idempotent per payment
/// id at the issuer) and records its answer with the attempt and, for an
/// autopay charge, the holder's notice. `None` when the payment was no
/// longer pending (the payment job ended it first).
///
/// Past the checkpoint, the answer is decided on the payment as read after
/// the bank answered (pending) and staged: the request's last write-set
/// holds it with the attempt and the stored answer. Should the payment job
/// end the payment in the moment between, that write-set is refused and the
/// request is finished by its resume note, as after a crash
/// ([`resume_authorization`]).
async fn finish_authorization(app: &AppState, who: &Principal, op: PendingOp<'_>) -> ApiResult<Option<ApiResult<Answer<PaymentView>>>> {
    let payment = app.store.get_payment(op.payment_id).await?.ok_or(ErrorCode::NotFound)?;
    if payment.status != PaymentStatus::Pending {
        return Ok(None);
    }
    let b = app.store.binding_by_id(&payment.binding_id).await?.ok_or(ErrorCode::NotFound)?;
    let vault_id = b.vault_id.clone().ok_or(ErrorCode::BindingNotActive)?;
    let sealed = app.store.get_sealed(&vault_id).await?.ok_or(ErrorCode::BindingNotActive)?;
    let pan = app.vault.open_pan(&sealed)?;
    let answer = app.bank().authorize(&pan, payment.amount, &payment.id).await;
    drop(pan);
    app.failpoint("authorize.after_bank").await?;
    let now = app.clock.now();
    let facts = AttemptFacts::binding(&b);
    let cause = Cause::api(who.actor());
    let notice = payment.mandate_id.is_some().then(|| charge_notice(&b, &payment));
    let (outcome, refusal): (AuthOutcome<'_>, Option<ApiError>) = match &answer {
        Ok(code) => (AuthOutcome::Authorized { issuer_code: code }, None),
        Err(f) if matches!(f.code, ErrorCode::IssuerUnavailable | ErrorCode::IssuerMaintenance) => {
            // A bank over the network may have authorized before its answer
            // was lost: the payment stays pending (its op written down
            // before the call) and the payment job asks the bank what became
            // of it, never sending it blind again. The holder is told the
            // bank has not confirmed yet, and when to look again.
            if f.details.as_ref().is_some_and(|d| d["outcome"] == "unknown") {
                tracing::warn!(payment_id = %payment.id, "the bank's answer to an authorization was lost; left pending for the payment job");
                return Ok(Some(Ok(Answer::accepted(view(app, &payment, false).await?))));
            }
            (AuthOutcome::Failed { code: f.code.as_str() }, Some(issuer_failure(app, f.clone())))
        }
        Err(f) => {
            let shown = payment::shown_to_payer(f.code);
            tracing::info!(payment_id = %payment.id, decline = f.code.as_str(), shown = shown.as_str(), "payment declined");
            (AuthOutcome::Declined { decline_code: f.code.as_str(), shown_code: shown.as_str() }, Some(Failure::new(shown).into()))
        }
    };
    let notice = notice.filter(|_| refusal.is_none());
    // Read again after the bank: the decision below is staged on "still
    // pending", and a refusal at the apply could no longer release a hold.
    let still_pending = app.store.get_payment(&payment.id).await?.is_some_and(|p| p.status == PaymentStatus::Pending);
    if !still_pending || !app.store.finish_authorization(&payment.id, op.op_id, outcome, notice.as_ref(), cause, now).await? {
        if answer.is_ok() {
            // The payment job gave up on this slow answer and failed the
            // payment: release the hold that arrived after all.
            let _ = app.bank().void(&payment.id).await;
        }
        return Ok(None);
    }
    let attempt = super::attempts::attempt_row(app, &b.account_id, "payment", &facts, refusal.as_ref().map(ApiError::code));
    app.store.stage_attempt(&attempt).await?;
    if let Some(e) = refusal {
        return Ok(Some(Err(e.with_detail("payment_id", &payment.id).with_attempt(&attempt.id))));
    }
    // The payment as recorded (the write-set may not be applied yet).
    let row = authorized(payment, outcome, now);
    tracing::info!(payment_id = %row.id, status = row.status.as_str(), mandate_id = ?row.mandate_id, "payment authorized");
    Ok(Some(Ok(Answer::created(view_with(app, &row, Some(op.op_id), false).await?))))
}

/// A pending payment as `finish_authorization` records it authorized.
fn authorized(p: PaymentRow, outcome: AuthOutcome<'_>, now: time::OffsetDateTime) -> PaymentRow {
    let issuer_code = match outcome {
        AuthOutcome::Authorized { issuer_code } => Some(issuer_code.to_owned()),
        _ => None,
    };
    PaymentRow { status: PaymentStatus::Authorized, issuer_code, updated_at: now, ..p }
}

/// A payment's amount as a notice writes it (`¥12.34`).
fn amount_text(p: &PaymentRow) -> String {
    Currency::parse(&p.currency)
        .ok()
        .and_then(|c| Money::from_minor(p.amount, c))
        .map_or_else(|| format!("{} fen", p.amount), Money::display)
}

/// The holder's notice of one autopay charge.
fn charge_notice(b: &BindingRow, p: &PaymentRow) -> NewMessage {
    let merchant = &p.merchant_id;
    let amount = amount_text(p);
    super::notices::card_notice(
        b,
        &format!("通过与商户 {merchant} 的自动扣款支付了 {amount}。如有疑问，可在钱包中查看或取消该协议。"),
        &format!("paid {amount} to {merchant} under your autopay agreement. You can review or cancel it in the wallet."),
    )
}

/// Finishes a payment whose request crashed after writing down its
/// authorization: asks the issuer now if nothing has ended it yet (the same
/// reference, so the bank holds the funds once), else answers from what
/// the payment became.
pub(super) async fn resume_authorization(app: &AppState, who: &Principal, payment_id: &str, op_id: &str) -> ApiResult<Answer<PaymentView>> {
    let p = own_payment(app, who, payment_id).await?;
    if p.status == PaymentStatus::Pending
        && let Some(op) = app.store.payment_ops(payment_id).await?.into_iter().find(|o| o.id == op_id)
        && app.store.claim_op(&op, true, app.clock.now()).await?
    {
        // The claim keeps the payment job off it while the bank is asked.
        super::bank::checkpoint(app, &super::bank::Resume::Authorize { payment_id: payment_id.into(), op_id: op_id.into() }).await?;
        if let Some(answer) = finish_authorization(app, who, PendingOp { payment_id, op_id }).await? {
            return answer;
        }
    }
    let p = own_payment(app, who, payment_id).await?;
    match p.status {
        PaymentStatus::Pending => {
            Err(Failure::new(ErrorCode::IdempotencyInProgress).retry_at(app.clock.now() + time::Duration::seconds(5)).into())
        }
        PaymentStatus::Declined => {
            let shown = p.shown_code.as_deref().and_then(ErrorCode::parse).unwrap_or(ErrorCode::IssuerDeclined);
            Err(ApiError::from(Failure::new(shown)).with_detail("payment_id", &p.id))
        }
        PaymentStatus::Failed => {
            // Over for good (the bank holds nothing); the advice is fresh.
            let code = p.decline_code.as_deref().and_then(ErrorCode::parse).unwrap_or(ErrorCode::IssuerUnavailable);
            Err(issuer_failure(app, code.into()).with_detail("payment_id", &p.id).with_detail("payment_status", "failed"))
        }
        _ => Ok(Answer::created(view(app, &p, false).await?)),
    }
}

/// A merchant key bound to a merchant speaks only for that merchant.
fn check_merchant(who: &Principal, merchant: &MerchantId) -> Result<(), Failure> {
    match &who.merchant_id {
        Some(bound) if bound != merchant.as_str() => {
            Err(Failure::new(ErrorCode::MerchantKeyMismatch).with_details(json!({ "reason": "other_merchant", "key_merchant_id": bound })))
        }
        _ => Ok(()),
    }
}

/// Nothing pays from an account its holder froze.
fn check_not_frozen(account: &AccountRow) -> ApiResult<()> {
    if account.status == AccountStatus::Frozen {
        return Err(Failure::new(ErrorCode::AccountFrozen).into());
    }
    Ok(())
}

/// `POST /v1/mandates/{mid}/charges`.
#[derive(Deserialize, ToSchema)]
pub struct ChargeBody {
    /// Minor units (fen), at most the agreement's `max_amount`.
    #[schema(value_type = i64)]
    pub amount: Value,
    /// The agreement's currency.
    pub currency: String,
}

/// `POST /v1/mandates/{mid}/charges`: the merchant of an active autopay
/// agreement takes one charge within its limit. The holder is not asked
/// again (that is what the agreement is for), so Bangka itself computes the
/// charge's one-time cryptogram under the token's key; from there it is a
/// payment like any other (capture, refund, void, consumption records), and
/// the holder gets a notice of every charge.
pub async fn charge(app: &AppState, who: &Principal, mandate_id: &str, body: ChargeBody) -> ApiResult<Answer<PaymentView>> {
    let money = Money::parse(&body.amount, &body.currency)?;
    let Some(merchant) = who.merchant_id.as_deref() else {
        let e = Failure::new(ErrorCode::MerchantKeyMismatch).with_details(json!({ "reason": "key_not_bound_to_merchant" }));
        return Err(e.into());
    };
    // Another merchant's agreement does not exist for this key.
    let m = app
        .store
        .mandate_by_id(mandate_id)
        .await?
        .filter(|m| m.merchant_id == merchant && Mode::of_account(&m.account_id) == who.mode)
        .ok_or(ErrorCode::NotFound)?;
    if m.status != MandateStatus::Active {
        return Err(Failure::new(ErrorCode::MandateNotActive).with_details(json!({ "status": m.status.as_str() })).into());
    }
    if money.currency().as_str() != m.currency || money.minor() > m.max_amount {
        let e = Failure::new(ErrorCode::MandateLimitExceeded).with_details(json!({ "max_amount": m.max_amount, "currency": m.currency }));
        return Err(e.into());
    }
    let account = load_account(app, &m.account_id).await?;
    check_not_frozen(&account)?;
    let b = app.store.binding_by_id(&m.binding_id).await?.ok_or(ErrorCode::NotFound)?;
    check_binding_can_pay(&b)?;
    let token = app.store.token_for_binding(&b.id).await?.ok_or(ErrorCode::BindingNotActive)?;
    if let Some(f) = token.state.payment_refusal() {
        return Err(f.into());
    }
    check_issuer_open(app, &b.issuer).await?;
    let key = match &token.key_sealed {
        Some(k) => k.clone(),
        None => app.store.ensure_token_key(&token.id, &app.vault.new_token_key(&token.id)).await?,
    };
    let now = app.clock.now();
    let req = CryptogramRequest {
        amount: money.minor(),
        currency: money.currency().as_str(),
        merchant_id: merchant,
        expires_at: now + CRYPTOGRAM_TTL,
        challenge_id: None,
    };
    let issued = match next_cryptogram(app, &token, &key, &req, now).await? {
        CryptogramOutcome::Issued(c) => c,
        CryptogramOutcome::TokenNotActive | CryptogramOutcome::ChallengeUsed => return Err(token_refusal(app, &b.id).await),
    };
    let payment = PaymentRow {
        id: new_id("pay"),
        account_id: b.account_id.clone(),
        binding_id: b.id.clone(),
        token_id: token.id.clone(),
        cryptogram_id: issued.id,
        mandate_id: Some(m.id.clone()),
        created_by: who.key_id.clone(),
        merchant_id: merchant.into(),
        currency: m.currency.clone(),
        amount: money.minor(),
        captured: 0,
        refunded: 0,
        status: PaymentStatus::Pending,
        decline_code: None,
        shown_code: None,
        issuer_code: None,
        created_at: now,
        updated_at: now,
    };
    authorize(app, who, &payment).await
}

/// A payment the caller created (another caller's payment does not exist
/// for it).
async fn own_payment(app: &AppState, who: &Principal, payment_id: &str) -> ApiResult<PaymentRow> {
    let p = app.store.get_payment(payment_id).await?.ok_or(ErrorCode::NotFound)?;
    if p.created_by != who.key_id || Mode::of_account(&p.account_id) != who.mode {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(p)
}

fn amounts(p: &PaymentRow) -> Amounts {
    Amounts { authorized: p.amount, captured: p.captured, refunded: p.refunded }
}

fn parse_amount(v: Option<&Value>, p: &PaymentRow) -> Result<Option<i64>, Failure> {
    let currency = Currency::parse(&p.currency)?;
    v.map(|v| Money::parse_in(v, currency).map(Money::minor)).transpose()
}

/// `POST /v1/payments/{pid}/capture`.
pub async fn capture(app: &AppState, who: &Principal, payment_id: &str, body: AmountBody) -> ApiResult<Answer<PaymentView>> {
    let p = own_payment(app, who, payment_id).await?;
    let requested = parse_amount(body.amount.as_ref(), &p)?;
    let amount = payment::capture_amount(p.status, amounts(&p), requested)?;
    let op_id = new_id("op");
    if !app.store.begin_capture(&p.id, amount, &op_id, Cause::api(who.actor()), app.clock.now()).await? {
        // Changed meanwhile: answer from its state now.
        let now_p = own_payment(app, who, payment_id).await?;
        payment::capture_amount(now_p.status, amounts(&now_p), requested)?;
        return Err(ErrorCode::PaymentStateConflict.into());
    }
    run_op(app, who, PendingOp { payment_id: &p.id, op_id: &op_id }).await
}

/// `POST /v1/payments/{pid}/refund`.
pub async fn refund(app: &AppState, who: &Principal, payment_id: &str, body: AmountBody) -> ApiResult<Answer<PaymentView>> {
    let p = own_payment(app, who, payment_id).await?;
    let Some(amount) = parse_amount(body.amount.as_ref(), &p)? else {
        return Err(Failure::new(ErrorCode::MalformedRequest).with_details(json!({ "field": "amount", "problem": "required" })).into());
    };
    let op_id = new_id("op");
    // Concurrent refunds: each attempt is a compare-and-set on the refunded
    // total; a loser re-reads and checks again what is left.
    let mut current = p;
    loop {
        let next = payment::refund(current.status, amounts(&current), amount)?;
        if app.store.begin_refund(&current.id, amount, current.refunded, next, &op_id, Cause::api(who.actor()), app.clock.now()).await? {
            break;
        }
        current = own_payment(app, who, payment_id).await?;
    }
    run_op(app, who, PendingOp { payment_id: &current.id, op_id: &op_id }).await
}

/// `POST /v1/payments/{pid}/void`: the merchant releases an authorized
/// hold it will not capture (the holder's funds are freed at the bank).
pub async fn void(app: &AppState, who: &Principal, payment_id: &str) -> ApiResult<Answer<PaymentView>> {
    let p = own_payment(app, who, payment_id).await?;
    if p.status != PaymentStatus::Authorized {
        return Err(Failure::new(ErrorCode::PaymentStateConflict).with_details(json!({ "status": p.status.as_str() })).into());
    }
    let op_id = new_id("op");
    if !app.store.begin_void(&p, &op_id, Cause::api(who.actor()), app.clock.now()).await? {
        let now_p = own_payment(app, who, payment_id).await?;
        return Err(Failure::new(ErrorCode::PaymentStateConflict).with_details(json!({ "status": now_p.status.as_str() })).into());
    }
    run_op(app, who, PendingOp { payment_id: &p.id, op_id: &op_id }).await
}

/// A capture, refund or void written down as a pending op: commits that
/// intent, sends it to the issuer and records the confirmation; answers
/// with the payment.
async fn run_op(app: &AppState, who: &Principal, op: PendingOp<'_>) -> ApiResult<Answer<PaymentView>> {
    let resume = super::bank::Resume::PaymentOp { payment_id: op.payment_id.to_owned(), op_id: op.op_id.to_owned() };
    super::bank::checkpoint(app, &resume).await?;
    let settled = send_op(app, op).await?;
    let row = own_payment(app, who, op.payment_id).await?;
    Ok(Answer::ok(view_with(app, &row, settled.then_some(op.op_id), false).await?))
}

/// Sends a pending op to the issuer (idempotent per op there) and records
/// the confirmation; an op no longer pending is left alone. True when this
/// recorded the confirmation.
async fn send_op(app: &AppState, op: PendingOp<'_>) -> ApiResult<bool> {
    let Some(o) = app.store.payment_ops(op.payment_id).await?.into_iter().find(|o| o.id == op.op_id) else {
        return Err(ErrorCode::NotFound.into());
    };
    if o.status != OpStatus::Pending {
        return Ok(false);
    }
    let answer = match o.kind {
        OpKind::Capture => app.bank().capture(op.payment_id, o.amount).await,
        OpKind::Refund => app.bank().refund(op.payment_id, op.op_id, o.amount).await,
        OpKind::Void | OpKind::Authorize => app.bank().void(op.payment_id).await,
    };
    app.failpoint("op.after_bank").await?;
    settle_op(app, op.payment_id, op.op_id, answer).await
}

/// Finishes a capture, refund or void whose request crashed after writing
/// it down: sends it now unless the payment job has it, then answers with
/// the payment.
pub(super) async fn resume_op(app: &AppState, who: &Principal, payment_id: &str, op_id: &str) -> ApiResult<Answer<PaymentView>> {
    let p = own_payment(app, who, payment_id).await?;
    if let Some(op) = app.store.payment_ops(&p.id).await?.into_iter().find(|o| o.id == op_id && o.status == OpStatus::Pending)
        && app.store.claim_op(&op, true, app.clock.now()).await?
    {
        super::bank::checkpoint(app, &super::bank::Resume::PaymentOp { payment_id: payment_id.into(), op_id: op_id.into() }).await?;
        send_op(app, PendingOp { payment_id, op_id }).await?;
    }
    let row = own_payment(app, who, payment_id).await?;
    Ok(Answer::ok(view(app, &row, false).await?))
}

/// Records the issuer's confirmation of a capture or refund; when the issuer
/// did not answer, the op stays pending and the payment job retries it (the
/// issuer call is idempotent per op).
async fn settle_op(app: &AppState, payment_id: &str, op_id: &str, answer: Result<(), Failure>) -> ApiResult<bool> {
    match answer {
        Ok(()) => Ok(app.store.finish_op(op_id, app.refund_settles_after, app.clock.now()).await?),
        Err(f) => {
            tracing::warn!(payment_id, op_id, code = f.code.as_str(), "issuer did not confirm; the payment job will retry");
            Ok(false)
        }
    }
}

/// `GET /v1/payments/{pid}`.
pub async fn get(app: &AppState, who: &Principal, payment_id: &str) -> ApiResult<Answer<PaymentView>> {
    let p = own_payment(app, who, payment_id).await?;
    Ok(Answer::ok(view(app, &p, false).await?))
}

/// `GET /v1/accounts/{id}/bindings/{bid}/payments`: the holder's consumption
/// records for one card, newest first.
pub async fn list_for_binding(app: &AppState, account_id: &str, binding_id: &str, page: &PageRequest) -> ApiResult<PaymentList> {
    load_account(app, account_id).await?;
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    let page = app.store.payment_page(&b.id, page).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for p in &page.items {
        let ops = app.store.payment_ops(&p.id).await?;
        data.push(PaymentView::new(p, &b, &ops, false));
    }
    Ok(PaymentList { data, has_more: page.has_more })
}

/// A payment as the payer sees it, or (`for_ops`) with the issuer's precise
/// decline reason.
pub async fn view(app: &AppState, p: &PaymentRow, for_ops: bool) -> ApiResult<PaymentView> {
    view_with(app, p, None, for_ops).await
}

/// As [`view`], for a payment whose op `done_op` this request has just
/// recorded done: shown as staged, before its write-set is applied.
async fn view_with(app: &AppState, p: &PaymentRow, done_op: Option<&str>, for_ops: bool) -> ApiResult<PaymentView> {
    let b = app.store.binding_by_id(&p.binding_id).await?.ok_or_else(|| anyhow::anyhow!("payment without binding"))?;
    let mut ops = app.store.payment_ops(&p.id).await?;
    for o in ops.iter_mut().filter(|o| Some(o.id.as_str()) == done_op) {
        o.status = OpStatus::Done;
    }
    Ok(PaymentView::new(p, &b, &ops, for_ops))
}

/// How long an authorization holds the holder's funds before the payment
/// job voids it (uncaptured holds expire after 7 days on the card networks).
pub const AUTHORIZATION_HOLD: time::Duration = time::Duration::days(7);

pub use bangka_core::payment::{ORDER_MAY_ARRIVE_FOR, RETRY_OPS_AFTER};

/// The payment job: releases expired holds, and finishes what requests
/// left pending. An authorization with no recorded answer (a crash, a lost
/// answer) is asked about at the issuer: held, the payment is authorized;
/// never made, it fails and frees its cryptogram; no answer, it waits for
/// the next round (the holder is told either way when it ends); a capture
/// or refund is sent again (idempotent per op at the issuer) until the bank
/// confirms it. Each op is claimed first, so several instances never run
/// the same one. Returns how many ops were finished.
pub async fn recover(app: &AppState) -> ApiResult<u64> {
    let now = app.clock.now();
    let mut finished = 0;
    // Holds never captured are released after AUTHORIZATION_HOLD, as the
    // card networks do: the void op is written first, then sent below.
    for p in app.store.stale_authorizations(now - AUTHORIZATION_HOLD, 100).await? {
        let op_id = new_id("op");
        if app.store.begin_void(&p, &op_id, Cause::job().with_note("authorization expired"), now).await? {
            tracing::info!(payment_id = %p.id, "authorization expired uncaptured; releasing the hold");
            settle_op(app, &p.id, &op_id, app.bank().void(&p.id).await).await?;
            finished += 1;
        }
    }
    for op in app.store.stale_ops(now - RETRY_OPS_AFTER, 100).await? {
        // An authorization is only asked about; every other op is sent again.
        if !app.store.claim_op(&op, op.kind != OpKind::Authorize, now).await? {
            continue;
        }
        if op.kind == OpKind::Authorize {
            // An authorization whose answer never arrived (a crash, a lost
            // answer): ask the bank what became of it. Held: the payment is
            // authorized. Not found: while the order may still reach the
            // bank (a delaying network; issue 24) the payment stays pending,
            // since failing it now would leave a late hold on a payment the
            // holder was told to pay again; after that window it failed.
            match app.bank().authorization(&op.payment_id).await {
                Ok(None) if now - op.sent_at <= ORDER_MAY_ARRIVE_FOR => {
                    tracing::info!(op_id = %op.id, payment_id = %op.payment_id, "authorization not found yet; the order may still arrive");
                }
                Ok(found) => {
                    let never_made = found.is_none();
                    finish_unconfirmed(app, &op, found).await?;
                    if never_made {
                        // Past the window the bank refuses the order; a void
                        // releases anything a bank that took it anyway holds.
                        let _ = app.bank().void(&op.payment_id).await;
                    }
                    finished += 1;
                }
                Err(f) => {
                    tracing::warn!(op_id = %op.id, code = f.code.as_str(), tries = op.tries + 1, "authorization still unconfirmed by the issuer");
                }
            }
            continue;
        }
        let answer = match op.kind {
            OpKind::Authorize | OpKind::Void => app.bank().void(&op.payment_id).await,
            OpKind::Capture => app.bank().capture(&op.payment_id, op.amount).await,
            OpKind::Refund => app.bank().refund(&op.payment_id, &op.id, op.amount).await,
        };
        if let Err(f) = answer {
            tracing::warn!(op_id = %op.id, kind = op.kind.as_str(), code = f.code.as_str(), tries = op.tries + 1, "payment op still not confirmed by the issuer");
            continue;
        }
        match op.kind {
            OpKind::Authorize => unreachable!("answered by the query above"),
            OpKind::Capture | OpKind::Refund | OpKind::Void => {
                app.store.finish_op(&op.id, app.refund_settles_after, app.clock.now()).await?;
            }
        }
        tracing::info!(op_id = %op.id, kind = op.kind.as_str(), payment_id = %op.payment_id, "payment op finished by the job");
        finished += 1;
    }
    Ok(finished)
}

/// Records what the bank said became of an authorization whose answer was
/// lost, and tells the holder (they were told the bank had not confirmed).
async fn finish_unconfirmed(app: &AppState, op: &bangka_store::PaymentOp, found: Option<String>) -> ApiResult<()> {
    let Some(p) = app.store.get_payment(&op.payment_id).await? else { return Ok(()) };
    let b = app.store.binding_by_id(&p.binding_id).await?.ok_or_else(|| anyhow::anyhow!("payment without binding"))?;
    let amount = amount_text(&p);
    let merchant = &p.merchant_id;
    let (outcome, notice) = match &found {
        Some(code) => (
            AuthOutcome::Authorized { issuer_code: code },
            super::notices::card_notice(
                &b,
                &format!("向商户 {merchant} 支付的 {amount} 已由银行确认，付款成功。"),
                &format!("the bank confirmed your payment of {amount} to {merchant}: it went through."),
            ),
        ),
        None => (
            AuthOutcome::Failed { code: ErrorCode::IssuerUnavailable.as_str() },
            super::notices::card_notice(
                &b,
                &format!("向商户 {merchant} 支付的 {amount} 未成功，银行没有扣款，可以重新付款。"),
                &format!("your payment of {amount} to {merchant} did not go through; the bank took nothing, and you can pay again."),
            ),
        ),
    };
    let done = app.store.finish_authorization(&p.id, &op.id, outcome, Some(&notice), Cause::job(), app.clock.now()).await?;
    if done {
        tracing::info!(payment_id = %p.id, authorized = found.is_some(), "unconfirmed authorization resolved by asking the issuer");
    }
    Ok(())
}
