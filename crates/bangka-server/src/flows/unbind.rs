//! Unbinding a card (SPEC "Unbind request", "Delete"; seed 003).
//!
//! 1. `request`: every precondition is checked up front and all failures
//!    are answered at once (`UNBIND_BLOCKED` with `details.blockers`):
//!    standing autopay agreements (cancellable in the same request with
//!    `cancel_mandates: true` — never silently), money in transit (holds
//!    not captured, refunds and withdrawals not yet arrived, with their
//!    expected date), a frozen card, a frozen or locked account. Then an
//!    SMS code is sent; the response says which verification is asked (SMS
//!    code, plus the payment password when deleting or when the account had
//!    recent failed verifications).
//! 2. `confirm`: the binding becomes `unbinding`, its token is suspended at
//!    once, the agreements are cancelled, and the cooling-off starts.
//! 3. `revoke` during the cooling-off restores the binding and its token.
//! 4. After it, the job (`complete_due`) unbinds the card (token deleted),
//!    and with `delete` destroys the card's data key (crypto-shredding).
//!
//! Each step is one transaction with its audit entries, receipt and notice.

use bangka_core::bind::AccountStatus;
use bangka_core::binding::{BindingStatus, FreezeReason};
use bangka_core::holder::PaymentPassword;
use bangka_core::otp::{Otp, OtpPurpose};
use bangka_core::token::{Actor, Reason, TokenStatus};
use bangka_core::{ErrorCode, Failure};
use bangka_store::{BindingRow, Cause, TokenMove, TokenRow, Trail, UnbindRequest, new_id};
use serde::Deserialize;
use serde_json::{Value, json};
use time::Duration;
use utoipa::ToSchema;

use super::accounts::check_payment_password;
use super::attempts::AttemptFacts;
use super::bind::binding_view as view;
use super::codes::{check_otp, new_challenge, otp_sms, send_binding_code};
use super::notices::{card_notice, receipt_draft};
use super::standing::load_account;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::i18n::{Say, say};
use crate::state::AppState;
use crate::views::Answer;
use crate::views::{NextAction, holder_time, rfc3339};
use bangka_core::risk::VERIFICATION_FAILURES;

/// The default cooling-off (`bangka serve --cooling-off`).
pub const DEFAULT_COOLING_OFF: Duration = Duration::hours(24);

/// `POST …/bindings/{bid}/unbind`.
#[derive(Deserialize, ToSchema, Default)]
pub struct UnbindBody {
    /// Cancel the card's autopay agreements as part of the unbind.
    #[serde(default)]
    pub cancel_mandates: bool,
    /// Delete the card too: its data is destroyed when the unbind completes.
    #[serde(default)]
    pub delete: bool,
}

/// `POST …/unbind/confirm`.
#[derive(Deserialize, ToSchema)]
pub struct UnbindConfirmBody {
    pub otp: String,
    pub payment_password: Option<String>,
}

/// An unbind already under way is named as such, with its window.
async fn in_progress(app: &AppState, b: &BindingRow) -> ApiResult<Failure> {
    let r = app.store.latest_unbind_request(&b.id).await?;
    let ends = r.and_then(|r| r.cooling_off_ends_at).map(rfc3339);
    Ok(Failure::new(ErrorCode::UnbindInProgress).with_details(json!({
        "cooling_off_ends_at": ends,
        "revoke": { "method": "POST", "path": format!("/v1/accounts/{}/bindings/{}/unbind/revoke", b.account_id, b.id) },
    })))
}

/// Everything that stands in the way, at once.
async fn blockers(app: &AppState, b: &BindingRow, cancel_mandates: bool) -> ApiResult<Vec<Value>> {
    let mut out = Vec::new();
    let account = load_account(app, &b.account_id).await?;
    let now = app.clock.now();
    let acc = &account.id;
    if account.status == AccountStatus::Frozen {
        out.push(json!({
            "type": "account_frozen", "reason": account.frozen_reason.map(|r| r.as_str()),
            "resolve": say("先解冻账户（需要短信验证码）。", "Unfreeze the account first (an SMS code is needed)."),
            "developer": { "method": "POST", "path": format!("/v1/accounts/{acc}/unfreeze") },
        }));
    }
    if let Some(until) = account.locked_until.filter(|u| *u > now) {
        let (zh, en) = holder_time(until);
        let resolve = Say::new(
            format!("账户因多次验证失败被暂时锁定，请在{zh}之后再试；如需提前解锁，请提交人工审核。"),
            format!(
                "The account is locked for a while after repeated failed checks: try again after {en}, or ask for a review to unlock it sooner."
            ),
        );
        out.push(json!({
            "type": "account_locked", "until": rfc3339(until),
            "resolve": resolve,
            "developer": { "method": "POST", "path": format!("/v1/accounts/{acc}/reviews"), "body": { "kind": "unbind", "binding_id": b.id } },
        }));
    }
    // A card frozen because it was reported lost or stolen never comes back
    // (the bank blocked it): it is unbound as it is. Any other freeze is
    // lifted first, so nothing is unbound by someone who merely holds it.
    if b.status == BindingStatus::Frozen && !b.frozen_reason.is_some_and(FreezeReason::reports_to_issuer) {
        out.push(json!({
            "type": "binding_frozen", "reason": b.frozen_reason.map(|r| r.as_str()),
            "resolve": say("先解冻这张卡（需要短信验证码），再解绑。", "Unfreeze this card first (an SMS code is needed), then unbind it."),
            "developer": { "method": "POST", "path": format!("/v1/accounts/{acc}/bindings/{}/unfreeze", b.id) },
        }));
    }
    if !cancel_mandates {
        for m in app.store.standing_mandates(&b.id).await? {
            out.push(json!({
                "type": "mandate", "mandate_id": m.id, "merchant_id": m.merchant_id, "kind": m.kind.as_str(), "status": m.status.as_str(),
                "resolve": say(
                    "这张卡上还有自动扣款协议：先取消它，或在解绑时选择一并取消。",
                    "An autopay agreement still uses this card: cancel it first, or choose to cancel it together with the unbind.",
                ),
                "developer": { "method": "POST", "path": format!("/v1/accounts/{acc}/mandates/{}/cancel", m.id), "or": { "body": { "cancel_mandates": true } } },
            }));
        }
    }
    for f in app.store.in_transit(&b.id).await? {
        let (zh, en) = holder_time(f.expected_at);
        let resolve = Say::new(
            format!("有一笔退款或提现正在转入这张卡，预计{zh}前到账；到账后再解绑。"),
            format!("Money is on its way back to this card, expected by {en}; unbind once it has arrived."),
        );
        out.push(json!({
            "type": "funds_in_transit", "settlement_id": f.id, "kind": f.kind.as_str(), "payment_id": f.payment_id,
            "amount": { "minor": f.amount, "currency": f.currency }, "expected_at": rfc3339(f.expected_at),
            "resolve": resolve,
        }));
    }
    for p in app.store.unsettled_payments(&b.id).await? {
        // An authorization the merchant never takes is released by the
        // payment job when its hold ends: the date the holder can count on.
        let released_by =
            (p.status == bangka_core::payment::PaymentStatus::Authorized).then(|| p.created_at + super::payments::AUTHORIZATION_HOLD);
        let resolve = match released_by {
            Some(at) => {
                let (zh, en) = holder_time(at);
                Say::new(
                    format!("有一笔已授权、商户尚未扣款的付款：商户扣款或撤销后即可解绑；商户一直不处理的话，{zh}会自动释放。"),
                    format!(
                        "A payment is authorized but not yet taken by the merchant: unbind once they take or release it; if they never do, it is released on {en}."
                    ),
                )
            }
            None => say(
                "有一笔付款尚未完成：等商户扣款或撤销、银行确认后再解绑。",
                "A payment is not finished yet: unbind once the merchant has taken or released it and the bank has confirmed.",
            ),
        };
        out.push(json!({
            "type": "unsettled_payment", "payment_id": p.id, "amount": { "minor": p.amount, "currency": p.currency }, "status": p.status.as_str(),
            "released_by": released_by.map(rfc3339),
            "resolve": resolve,
        }));
    }
    Ok(out)
}

pub async fn request(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    binding_id: &str,
    body: UnbindBody,
) -> ApiResult<Answer<crate::views::UnbindRequestedView>> {
    let account = load_account(app, account_id).await?;
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    match b.status {
        BindingStatus::Active | BindingStatus::Frozen => {}
        BindingStatus::Unbinding => return Err(in_progress(app, &b).await?.into()),
        other => return Err(Failure::new(ErrorCode::BindingNotActive).with_details(json!({ "status": other.as_str() })).into()),
    }
    let found = blockers(app, &b, body.cancel_mandates).await?;
    if !found.is_empty() {
        let e = Failure::new(ErrorCode::UnbindBlocked).with_details(json!({ "blockers": found, "nothing_changed": true }));
        return Err(e.into());
    }
    // Verification strength by risk: deleting, or recent failed
    // verifications on the account, ask for the payment password too.
    let now = app.clock.now();
    let codes: Vec<&str> = VERIFICATION_FAILURES.iter().map(|c| c.as_str()).collect();
    let recent_failures = app.store.count_failures(account_id, &codes, now - app.risk.account_failure_window()).await?;
    let has_password = account.payment_password_set_at.is_some();
    if body.delete && !has_password {
        let e = Failure::new(ErrorCode::PaymentPasswordNotSet).with_details(json!({ "why": say("删除卡片需要验证支付密码，请先设置支付密码。", "Deleting a card needs the payment password: set one first.") }));
        return Err(e.into());
    }
    let needs_password = has_password && (body.delete || recent_failures > 0);
    // A repeated request sends a new code only after the resend cooldown.
    // Before that, the same request is still waiting for its code: it is
    // answered again (a double tap is not an error); a different one (now
    // with delete, say) waits for the cooldown.
    if let Some(prev) = app.store.latest_unbind_request(&b.id).await?.filter(|r| r.status == "requested")
        && let Some(c) = app.store.get_challenge(&prev.challenge_id).await?
        && let Err(at) = c.challenge.check_resend(now, &app.otp)
    {
        if prev.delete_card == body.delete && prev.cancel_mandates == body.cancel_mandates {
            return Ok(Answer::accepted(requested(app, &b, &prev, &c).await?));
        }
        return Err(Failure::new(ErrorCode::OtpResendCooldown).retry_at(at).into());
    }
    let (mut challenge, code) = new_challenge(app, OtpPurpose::Unbind, &b.phone);
    challenge.subject = Some(b.id.clone());
    let r = UnbindRequest {
        id: new_id("ubr"),
        binding_id: b.id.clone(),
        account_id: account_id.into(),
        challenge_id: challenge.id.clone(),
        cancel_mandates: body.cancel_mandates,
        delete_card: body.delete,
        needs_password,
        status: "requested".into(),
        created_at: now,
        cooling_off_ends_at: None,
    };
    let sms = otp_sms(app, OtpPurpose::Unbind, &code, &b.last4, &b.account_id, &b.phone);
    app.store.create_unbind_request(&r, &challenge, &sms).await?;
    let c = bangka_store::ChallengeRow::fresh(&challenge);
    tracing::info!(binding_id = %b.id, by = %who.actor(), delete = body.delete, "unbind requested");
    Ok(Answer::accepted(requested(app, &b, &r, &c).await?))
}

/// An unbind request waiting for its code, as its answer shows it.
async fn requested(
    app: &AppState,
    b: &BindingRow,
    r: &UnbindRequest,
    c: &bangka_store::ChallengeRow,
) -> ApiResult<crate::views::UnbindRequestedView> {
    let cancels: Vec<String> =
        if r.cancel_mandates { app.store.standing_mandates(&b.id).await?.into_iter().map(|m| m.id).collect() } else { Vec::new() };
    let verification = if r.needs_password { vec!["sms_code", "payment_password"] } else { vec!["sms_code"] };
    Ok(crate::views::UnbindRequestedView {
        unbind_request_id: r.id.clone(),
        binding_id: b.id.clone(),
        next_action: NextAction::otp(c, &app.otp),
        verification: verification.into_iter().map(String::from).collect(),
        will_cancel_mandates: cancels,
        delete: r.delete_card,
        cooling_off_seconds: app.cooling_off.whole_seconds(),
        confirm: crate::views::Link::post(format!("/v1/accounts/{}/bindings/{}/unbind/confirm", b.account_id, b.id)),
    })
}

pub async fn confirm(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    binding_id: &str,
    body: UnbindConfirmBody,
) -> ApiResult<Answer<crate::views::BindingView>> {
    let otp = Otp::parse(&body.otp)?;
    let password = body.payment_password.as_deref().map(PaymentPassword::parse_for_check).transpose()?;
    load_account(app, account_id).await?;
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    if b.status == BindingStatus::Unbinding {
        return Err(in_progress(app, &b).await?.into());
    }
    let r = app.store.latest_unbind_request(&b.id).await?.filter(|r| r.status == "requested").ok_or(ErrorCode::UnbindNotRequested)?;
    // Anything that changed since the request is answered the same way.
    let found = blockers(app, &b, r.cancel_mandates).await?;
    if !found.is_empty() {
        return Err(Failure::new(ErrorCode::UnbindBlocked).with_details(json!({ "blockers": found, "nothing_changed": true })).into());
    }
    let f = AttemptFacts::binding(&b);
    if r.needs_password {
        let pw = password
            .ok_or_else(|| Failure::new(ErrorCode::StrongVerificationRequired).with_details(json!({ "missing": "payment_password" })))?;
        let stored = app.store.payment_password_hash(account_id).await?.ok_or(ErrorCode::PaymentPasswordNotSet)?;
        check_payment_password(app, account_id, "unbind", &f, pw, stored).await?;
    }
    let c = app.store.get_challenge(&r.challenge_id).await?.ok_or(ErrorCode::UnbindNotRequested)?;
    check_otp(app, account_id, "unbind", &f, &c, &otp, async || Ok(())).await?;

    let now = app.clock.now();
    let ends_at = now + app.cooling_off;
    let token = app.store.token_for_binding(&b.id).await?;
    let token_move = token
        .as_ref()
        .filter(|t| t.state.status == TokenStatus::Active)
        .and_then(|t| t.state.suspend(Actor::Holder, Reason::Unbinding).ok().map(|to| TokenMove { token_id: &t.id, from: t.state, to }));
    let mandates: Vec<String> =
        if r.cancel_mandates { app.store.standing_mandates(&b.id).await?.into_iter().map(|m| m.id).collect() } else { Vec::new() };
    let receipt = receipt_draft(
        app,
        "unbind",
        &b,
        json!({ "cooling_off_ends_at": rfc3339(ends_at), "cancelled_mandates": mandates, "delete": r.delete_card }),
    );
    let (ends_zh, ends_en) = crate::views::holder_time(ends_at);
    let msg = card_notice(
        &b,
        &format!("将于{ends_zh}（北京时间）解绑，在此之前可随时撤销。如非本人操作，请立即撤销并联系客服。"),
        &format!("will be unbound on {ends_en}; you can revoke this until then. If this was not you, revoke it and contact support."),
    );
    let trail = Trail { cause: Cause::api(who.actor()), receipt: &receipt };
    if !app.store.confirm_unbind(&r, &b, token_move, &mandates, ends_at, &msg, trail, now).await? {
        return Err(ErrorCode::UnbindNotRequested.into());
    }
    tracing::info!(binding_id = %b.id, "unbind confirmed; cooling-off started");
    // As decided (its write-set may not be applied yet).
    let moved_to = token_move.map(|m| m.to);
    let token = token.map(|t| TokenRow { state: moved_to.unwrap_or(t.state), ..t });
    let revoke = crate::views::Link::post(format!("/v1/accounts/{account_id}/bindings/{}/unbind/revoke", b.id));
    let unbinding = BindingRow { status: BindingStatus::Unbinding, updated_at: now, ..b };
    let v = crate::views::BindingView {
        cooling_off_ends_at: Some(crate::views::Timestamp(ends_at)),
        cancelled_mandates: Some(mandates),
        revoke: Some(revoke),
        ..super::bind::binding_view_with(app, &unbinding, token.as_ref()).await?
    };
    Ok(Answer::accepted(v))
}

pub async fn revoke(app: &AppState, who: &Principal, account_id: &str, binding_id: &str) -> ApiResult<Answer<crate::views::BindingView>> {
    load_account(app, account_id).await?;
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    let r = app.store.latest_unbind_request(&b.id).await?.ok_or(ErrorCode::UnbindNotRequested)?;
    let now = app.clock.now();
    let over = || Failure::new(ErrorCode::CoolingOffOver).with_details(json!({ "status": b.status.as_str() }));
    match r.status.as_str() {
        "cooling_off" if r.cooling_off_ends_at.is_some_and(|e| e > now) => {}
        "cooling_off" | "completed" => return Err(over().into()),
        _ => return Err(ErrorCode::UnbindNotRequested.into()),
    }
    let token = app.store.token_for_binding(&b.id).await?;
    let token_move = token
        .as_ref()
        .filter(|t| t.state.suspended_by == Some(Actor::Holder) && t.state.reason == Some(Reason::Unbinding))
        .and_then(|t| t.state.resume(Actor::Holder).ok().map(|to| TokenMove { token_id: &t.id, from: t.state, to }));
    let receipt = receipt_draft(app, "unbind_revoke", &b, json!({ "unbind_request_id": r.id }));
    let msg = if b.frozen_reason.is_some_and(FreezeReason::reports_to_issuer) {
        card_notice(&b, "的解绑已撤销，卡片仍为挂失冻结状态。", "stays bound, still frozen as reported lost: the unbind was revoked.")
    } else {
        card_notice(&b, "的解绑已撤销，卡片恢复可用。", "stays bound: the unbind was revoked.")
    };
    let trail = Trail { cause: Cause::api(who.actor()), receipt: &receipt };
    if !app.store.revoke_unbind(&r, &b, token_move, &msg, trail, now).await? {
        return Err(over().into());
    }
    // As decided (its write-set may not be applied yet): a card frozen as
    // lost is frozen again, its token still suspended.
    let (status, moved_to) = match b.frozen_reason {
        None => (BindingStatus::Active, token_move.map(|m| m.to)),
        Some(_) => (BindingStatus::Frozen, None),
    };
    let token = token.map(|t| TokenRow { state: moved_to.unwrap_or(t.state), ..t });
    let now_b = BindingRow { status, updated_at: now, ..b };
    Ok(Answer::ok(super::bind::view_with(app, &now_b, token.as_ref()).await?))
}

/// The job: completes every unbind whose cooling-off ended. Safe on several
/// instances (each completion claims its request). Returns how many.
pub async fn complete_due(app: &AppState) -> ApiResult<u64> {
    super::outbox::delivering(app, complete_due_work(app)).await
}

async fn complete_due_work(app: &AppState) -> ApiResult<u64> {
    let now = app.clock.now();
    let mut done = 0;
    for r in app.store.due_unbinds(now, 100).await? {
        let Some(b) = app.store.binding_by_id(&r.binding_id).await? else { continue };
        let token = app.store.token_for_binding(&b.id).await?;
        let token_move = token
            .as_ref()
            .filter(|t| t.state.status != TokenStatus::Deleted)
            .and_then(|t| t.state.delete(Reason::Unbound).ok().map(|to| TokenMove { token_id: &t.id, from: t.state, to }));
        let receipt = receipt_draft(app, "unbind_complete", &b, json!({ "unbind_request_id": r.id }));
        let delete_receipt = receipt_draft(app, "delete", &b, json!({ "card_data": "destroyed (data key shredded)" }));
        let msg = if r.delete_card {
            card_notice(&b, "已解绑并删除，卡片数据已销毁。", "is unbound and deleted; its card data is destroyed.")
        } else {
            card_notice(&b, "已解绑。", "is unbound.")
        };
        let trail = Trail { cause: Cause::job(), receipt: &receipt };
        if app.store.complete_unbind(&r, &b, token_move, &msg, trail, Some(&delete_receipt), now).await? {
            tracing::info!(binding_id = %b.id, deleted = r.delete_card, "unbind completed");
            done += 1;
        }
    }
    Ok(done)
}

/// `POST …/bindings/{bid}/delete/confirm`.
#[derive(Deserialize, ToSchema)]
pub struct DeleteConfirmBody {
    pub otp: String,
    pub payment_password: String,
}

/// Why this card cannot be deleted on its own now, if it cannot.
async fn delete_refusal(app: &AppState, b: &BindingRow) -> ApiResult<Option<Failure>> {
    let path = format!("/v1/accounts/{}/bindings/{}/unbind", b.account_id, b.id);
    Ok(match b.status {
        BindingStatus::Unbound => None,
        BindingStatus::Deleted => Some(ErrorCode::BindingAlreadyDeleted.into()),
        BindingStatus::Active | BindingStatus::Frozen => Some(Failure::new(ErrorCode::DeleteRequiresUnbind).with_details(json!({
            "status": b.status.as_str(),
            "unbind_and_delete": { "method": "POST", "path": path, "body": { "delete": true } },
        }))),
        BindingStatus::Unbinding => {
            let r = app.store.latest_unbind_request(&b.id).await?;
            let deleting = r.as_ref().is_some_and(|r| r.delete_card);
            let ends = r.and_then(|r| r.cooling_off_ends_at).map(rfc3339);
            Some(Failure::new(ErrorCode::DeleteRequiresUnbind).with_details(json!({
                "status": "unbinding",
                "cooling_off_ends_at": ends,
                "deleted_when_unbind_completes": deleting,
            })))
        }
        other => Some(Failure::new(ErrorCode::BindingNotActive).with_details(json!({ "status": other.as_str() }))),
    })
}

/// `POST …/bindings/{bid}/delete`: deleting an unbound card asks for more
/// than the unbind did — an SMS code and the payment password. This sends
/// the code; anything else than an unbound card is refused with why.
pub async fn request_delete(app: &AppState, account_id: &str, binding_id: &str) -> ApiResult<Answer<crate::views::DeleteRequestedView>> {
    let account = load_account(app, account_id).await?;
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    if let Some(f) = delete_refusal(app, &b).await? {
        return Err(f.into());
    }
    if account.payment_password_set_at.is_none() {
        let e = Failure::new(ErrorCode::PaymentPasswordNotSet).with_details(json!({ "why": say("删除卡片需要验证支付密码，请先设置支付密码。", "Deleting a card needs the payment password: set one first.") }));
        return Err(e.into());
    }
    let next_action = send_binding_code(app, &b, OtpPurpose::Delete).await?;
    Ok(Answer::accepted(crate::views::DeleteRequestedView {
        confirm: crate::views::Link::post(format!("/v1/accounts/{account_id}/bindings/{}/delete/confirm", b.id)),
        binding_id: b.id,
        next_action,
        verification: vec!["sms_code".into(), "payment_password".into()],
    }))
}

/// `POST …/bindings/{bid}/delete/confirm` {otp, payment_password}: the card's
/// data key is destroyed; only masked facts and the audit trail remain.
pub async fn confirm_delete(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    binding_id: &str,
    body: DeleteConfirmBody,
) -> ApiResult<Answer<crate::views::BindingView>> {
    let otp = Otp::parse(&body.otp)?;
    let password = PaymentPassword::parse_for_check(&body.payment_password)?;
    load_account(app, account_id).await?;
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    if let Some(f) = delete_refusal(app, &b).await? {
        return Err(f.into());
    }
    let missing = || Failure::new(ErrorCode::StrongVerificationRequired).with_details(json!({ "missing": "sms_code_request" }));
    let (c, _) = app.store.latest_challenge(&b.id, OtpPurpose::Delete).await?.ok_or_else(missing)?;
    if c.challenge.passed {
        return Err(missing().into());
    }
    let f = AttemptFacts::binding(&b);
    let stored = app.store.payment_password_hash(account_id).await?.ok_or(ErrorCode::PaymentPasswordNotSet)?;
    check_payment_password(app, account_id, "delete", &f, password, stored).await?;
    check_otp(app, account_id, "delete", &f, &c, &otp, async || Ok(())).await?;
    let receipt = receipt_draft(app, "delete", &b, json!({ "card_data": "destroyed (data key shredded)" }));
    let msg = card_notice(&b, "已删除，卡片数据已销毁。", "is deleted; its card data is destroyed.");
    let trail = Trail { cause: Cause::api(who.actor()), receipt: &receipt };
    let now = app.clock.now();
    if !app.store.delete_unbound(&b, &c.challenge.id, &msg, trail, now).await? {
        let now_b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
        return Err(delete_refusal(app, &now_b).await?.unwrap_or_else(missing).into());
    }
    tracing::info!(binding_id = %b.id, "card deleted");
    // As decided (its write-set may not be applied yet).
    let deleted = BindingRow { status: BindingStatus::Deleted, updated_at: now, ..b };
    Ok(Answer::ok(view(app, &deleted).await?))
}
