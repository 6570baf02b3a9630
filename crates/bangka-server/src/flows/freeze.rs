//! Freeze and unfreeze a bound card (SPEC "Freeze / report lost"), or the
//! whole account (seed 001: unknown transactions → freeze the account).
//!
//! Freezing is a safety action: immediate, no SMS code (a holder whose phone
//! was stolen cannot wait for one), idempotent (freezing a frozen card just
//! answers its state). It suspends the card's token in the same
//! transaction, so payments stop at once. A lost or stolen card is also
//! reported to the bank, and is never unfrozen in the wallet: the bank
//! replaces it.
//!
//! Unfreezing makes the card able to pay again, so it needs more than
//! freezing did: the SMS code to the reserved phone and, when one is set,
//! the payment password. It resumes the token only if the freeze suspended
//! it; a suspension by the bank or risk control stays.

use bangka_core::bind::{AccountFreezeReason, AccountStatus};
use bangka_core::binding::{BindingStatus, FreezeReason};
use bangka_core::holder::PaymentPassword;
use bangka_core::otp::{Otp, OtpPurpose};
use bangka_core::token::{Actor, TokenStatus};
use bangka_core::{ErrorCode, Failure};
use bangka_store::{
    AccountRow, AccountUnfreezeOutcome, BindingRow, Cause, LostReport, MessageKind, NewMessage, TokenMove, TokenRow, Trail, UnfreezeOutcome,
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::accounts::check_payment_password;
use super::attempts::AttemptFacts;
use super::bind::binding_view as view;
use super::codes::{check_otp, code_message, send_binding_code, send_code};
use super::notices::{card_notice, receipt_draft};
use super::standing::{check_not_locked, check_standing, load_account};
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::i18n::say;
use crate::state::AppState;
use crate::views::AccountView;
use crate::views::{Answer, Stepped};

/// `POST …/bindings/{bid}/freeze`.
#[derive(Deserialize, ToSchema)]
pub struct FreezeBody {
    /// `holder_request`, `phone_lost`, `suspicious_activity`, `card_lost` or
    /// `card_stolen` (the last two are reported to the bank too).
    #[schema(value_type = String)]
    pub reason: FreezeReason,
}

/// `POST …/bindings/{bid}/unfreeze`: without `otp`, sends the SMS code;
/// then with `otp` (and `payment_password` when one is set).
#[derive(Deserialize, ToSchema, Default)]
pub struct UnfreezeBody {
    pub otp: Option<String>,
    pub payment_password: Option<String>,
}

pub async fn freeze(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    binding_id: &str,
    body: FreezeBody,
) -> ApiResult<Answer<crate::views::BindingView>> {
    load_account(app, account_id).await?;
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    match b.status {
        BindingStatus::Frozen => return Ok(Answer::ok(view(app, &b).await?)),
        BindingStatus::Active => {}
        other => return Err(Failure::new(ErrorCode::BindingNotActive).with_details(json!({ "status": other.as_str() })).into()),
    }
    let reason = body.reason;
    let msg = card_notice(
        &b,
        "已冻结，暂时无法付款。如非本人操作，请立即联系客服。",
        "is frozen and cannot pay for now. If this was not you, contact support at once.",
    );
    let cause = Cause::api(who.actor()).with_note(reason.as_str());
    let receipt = receipt_draft(app, "freeze", &b, json!({ "reason": reason.as_str() }));
    // The freeze is decided on the binding and its token as read. A token
    // moved meanwhile (the bank suspended it) refuses the write-set; the
    // freeze must happen all the same: the token is read again.
    let mut tries = 0;
    let (token, moved_to, now) = loop {
        let now = app.clock.now();
        let token = app.store.token_for_binding(&b.id).await?;
        let token_move = token.as_ref().filter(|t| t.state.status == TokenStatus::Active).and_then(|t| {
            t.state.suspend(Actor::Holder, reason.token_reason()).ok().map(|to| TokenMove { token_id: &t.id, from: t.state, to })
        });
        let moved_to = token_move.map(|m| m.to);
        if app.store.freeze_binding(&b, reason, token_move, &msg, Trail { cause, receipt: &receipt }, now).await? {
            break (token, moved_to, now);
        }
        // Frozen (or unbound) concurrently: answer with what it is now.
        let now_b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
        match now_b.status {
            BindingStatus::Frozen => return Ok(Answer::ok(view(app, &now_b).await?)),
            BindingStatus::Active if tries < 2 => tries += 1,
            BindingStatus::Active => return Err(anyhow::anyhow!("the card's token kept changing during a freeze").into()),
            other => return Err(Failure::new(ErrorCode::BindingNotActive).with_details(json!({ "status": other.as_str() })).into()),
        }
    };
    tracing::info!(binding_id = %b.id, reason = reason.as_str(), "binding frozen");
    if reason.reports_to_issuer() {
        // The freeze stands whatever the bank answers; it is committed
        // before the bank is called.
        super::bank::checkpoint(app, &super::bank::Resume::ReportLost { account_id: account_id.into(), binding_id: binding_id.into() })
            .await?;
        return report_and_answer(app, who, account_id, binding_id).await;
    }
    // As decided (its write-set may not be applied yet).
    let frozen = BindingRow { status: BindingStatus::Frozen, frozen_reason: Some(reason), frozen_at: Some(now), updated_at: now, ..b };
    let token = token.map(|t| TokenRow { state: moved_to.unwrap_or(t.state), ..t });
    Ok(Answer::ok(super::bind::view_with(app, &frozen, token.as_ref()).await?))
}

/// Reports a card frozen as lost or stolen to the bank (the bank's own
/// report is idempotent) and answers with the card, telling the holder
/// plainly whether the bank has it yet (the job keeps telling it if not).
async fn report_and_answer(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    binding_id: &str,
) -> ApiResult<Answer<crate::views::BindingView>> {
    let cause = Cause::api(who.actor());
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    let mut reported = None;
    if app.store.lost_report(&b.id).await? == Some(LostReport::Pending)
        && let Some(pan) = super::bank::kept_card_number(app, b.vault_id.as_deref()).await?
    {
        reported = match tell_bank(app, &b, &pan).await {
            Told::Yes => end_report(app, &b, Told::Yes, false, cause).await?,
            // The answer itself tells the holder to call the bank.
            Told::Refused(code) => end_report(app, &b, Told::Refused(code), false, cause).await?,
            Told::NotYet | Told::Never => None,
        };
    }
    app.failpoint("freeze.after_bank").await?;
    // As this request ended the report (its write-set may not be applied yet).
    Ok(Answer::ok(super::bind::binding_view_reported(app, &b, reported).await?))
}

/// Finishes a lost or stolen freeze whose request crashed before the bank
/// was told.
pub(super) async fn resume_report(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    binding_id: &str,
) -> ApiResult<Answer<crate::views::BindingView>> {
    report_and_answer(app, who, account_id, binding_id).await
}

/// How long a lost-card report the bank has not confirmed waits before the
/// job tells the bank (again).
pub const TELL_BANK_AGAIN_AFTER: time::Duration = bangka_core::payment::RETRY_OPS_AFTER;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Told {
    Yes,
    /// The bank was not reached, or its answer was lost.
    NotYet,
    /// The bank refused the report (the card is closed there, say).
    Refused(ErrorCode),
    /// The card's number is gone (the card was deleted): nothing to tell.
    Never,
}

/// Tells the bank a card is lost or stolen. The bank's report is
/// idempotent: reporting a card the bank already blocked changes nothing.
async fn tell_bank(app: &AppState, b: &BindingRow, pan: &bangka_core::card::Pan) -> Told {
    match app.bank().report_lost(pan, b.frozen_reason == Some(FreezeReason::CardStolen)).await {
        Ok(()) => Told::Yes,
        Err(f) if super::bank::bank_not_answering(f.code) => {
            tracing::warn!(binding_id = %b.id, code = f.code.as_str(), "reporting the card lost to the bank failed; the job will try again");
            Told::NotYet
        }
        Err(f) => {
            tracing::warn!(binding_id = %b.id, code = f.code.as_str(), "the bank refused the lost-card report");
            Told::Refused(f.code)
        }
    }
}

/// Ends a pending report as the bank's answer says, with an SMS to the
/// holder when `text` (the job's case: the holder is not waiting for an
/// answer). The report's end when this ended it.
async fn end_report(app: &AppState, b: &BindingRow, told: Told, text: bool, cause: Cause<'_>) -> ApiResult<Option<LostReport>> {
    let (to, notice) = match told {
        Told::NotYet => return Ok(None),
        Told::Yes => (
            LostReport::Confirmed,
            card_notice(
                b,
                "已由发卡银行确认挂失：这张卡已停用，请向银行申请补办新卡。",
                "is now reported lost at the bank: the card is blocked there; ask the bank for a replacement.",
            ),
        ),
        Told::Refused(_) | Told::Never => (
            LostReport::Dropped,
            card_notice(
                b,
                "未能替您向发卡银行挂失：卡片在钱包中仍是冻结的，请立即拨打卡片背面的银行客服电话挂失。",
                "could not be reported lost to the bank for you: it stays frozen in the wallet; call the number on the back of the card now to report it.",
            ),
        ),
    };
    let ended = app.store.end_lost_report(&b.id, to, text.then_some(&notice), cause, app.clock.now()).await?;
    if !ended {
        return Ok(None);
    }
    tracing::info!(binding_id = %b.id, outcome = ?told, "lost-card report settled with the bank");
    Ok(Some(to))
}

/// The job: lost-card reports the bank has not confirmed (it could not be
/// reached, its answer was lost, or the request crashed before telling it)
/// are settled: the bank is asked the card's state first — a question that
/// never acts — and told only if the card is not blocked there yet. The
/// holder is texted either way: the bank has it, or call the bank.
pub async fn report_unconfirmed(app: &AppState) -> ApiResult<u64> {
    let now = app.clock.now();
    let mut settled = 0;
    for (binding_id, seen) in app.store.pending_lost_reports(now - TELL_BANK_AGAIN_AFTER, 50).await? {
        if !app.store.claim_lost_report(&binding_id, seen, now).await? {
            continue;
        }
        let Some(b) = app.store.binding_by_id(&binding_id).await? else { continue };
        let told = match super::bank::kept_card_number(app, b.vault_id.as_deref()).await? {
            None => Told::Never,
            Some(pan) => match app.bank().card_status(&pan).await {
                Err(f) if f.code == ErrorCode::CardReportedLost => Told::Yes,
                Err(f) if super::bank::bank_not_answering(f.code) => Told::NotYet,
                _ => tell_bank(app, &b, &pan).await,
            },
        };
        settled += u64::from(end_report(app, &b, told, true, Cause::job()).await?.is_some());
    }
    Ok(settled)
}

pub async fn unfreeze(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    binding_id: &str,
    body: UnfreezeBody,
) -> ApiResult<Answer<Stepped<crate::views::UnfreezeCodeSentView, crate::views::BindingView>>> {
    let otp = body.otp.as_deref().map(Otp::parse).transpose()?;
    let password = body.payment_password.as_deref().map(PaymentPassword::parse_for_check).transpose()?;
    let account = load_account(app, account_id).await?;
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    if b.status != BindingStatus::Frozen {
        return Err(Failure::new(ErrorCode::BindingNotFrozen).with_details(json!({ "status": b.status.as_str() })).into());
    }
    if b.frozen_reason.is_some_and(FreezeReason::reports_to_issuer) {
        let e = Failure::new(ErrorCode::CardReportedLost).with_details(json!({
            "frozen_reason": b.frozen_reason.map(FreezeReason::as_str),
            "next": say(
                "这张卡已挂失，不能解冻：可以解绑删除它，并绑定银行补发的新卡。",
                "This card was reported lost, so it cannot be unfrozen: unbind and delete it, and bind the new card your bank issues.",
            ),
            "unbind": { "method": "POST", "path": format!("/v1/accounts/{account_id}/bindings/{binding_id}/unbind") },
        }));
        return Err(e.into());
    }
    let now = app.clock.now();
    check_standing(&account, now)?;
    // A card frozen because the phone was lost opens only by a code to a
    // phone proven since (a reviewed phone change, or an identity review).
    if b.frozen_reason.is_some_and(FreezeReason::distrusts_phone)
        && account.phone_verified_at.zip(b.frozen_at).is_none_or(|(proven, frozen)| proven <= frozen)
    {
        return Err(super::accounts::unfreeze_review_required(account_id, b.frozen_reason.map(FreezeReason::as_str)).into());
    }
    let stored_password = app.store.payment_password_hash(account_id).await?;

    let Some(otp) = otp else {
        // Step one: send the code.
        let next_action = send_binding_code(app, &b, OtpPurpose::Unfreeze).await?;
        return Ok(Answer::accepted(Stepped::Waiting(crate::views::UnfreezeCodeSentView {
            binding_id: Some(b.id),
            account_id: None,
            next_action,
            payment_password_required: stored_password.is_some(),
        })));
    };

    let missing = |what: &str| Failure::new(ErrorCode::StrongVerificationRequired).with_details(json!({ "missing": what }));
    let (c, _) = app.store.latest_challenge(&b.id, OtpPurpose::Unfreeze).await?.ok_or_else(|| missing("sms_code_request"))?;
    if c.challenge.passed {
        return Err(missing("sms_code_request").into());
    }
    let f = AttemptFacts::binding(&b);
    let f_password_used = stored_password.is_some();
    if let Some(stored) = stored_password {
        let pw = password.ok_or_else(|| missing("payment_password"))?;
        check_payment_password(app, account_id, "unfreeze", &f, pw, stored).await?;
    }
    check_otp(app, account_id, "unfreeze", &f, &c, &otp, async || Ok(())).await?;

    let msg = card_notice(
        &b,
        "已解冻，可以正常付款。如非本人操作，请立即冻结并联系客服。",
        "is unfrozen and can pay again. If this was not you, freeze it and contact support.",
    );
    let receipt = receipt_draft(
        app,
        "unfreeze",
        &b,
        json!({ "verified_with": if f_password_used { "sms_code+payment_password" } else { "sms_code" } }),
    );
    // Decided on the token as read; a token moved meanwhile refuses the
    // write-set, and the unfreeze is decided again on it as it is now.
    let mut tries = 0;
    let (token, token_move) = loop {
        let token = app.store.token_for_binding(&b.id).await?;
        // Only the freeze's own suspension is lifted.
        let token_move = token
            .as_ref()
            .filter(|t| t.state.suspended_by == Some(Actor::Holder))
            .and_then(|t| t.state.resume(Actor::Holder).ok().map(|to| (t.id.clone(), t.state, to)));
        let moving = token_move.as_ref().map(|(id, from, to)| TokenMove { token_id: id, from: *from, to: *to });
        let trail = Trail { cause: Cause::api(who.actor()), receipt: &receipt };
        match app.store.unfreeze_binding(&b, &c.challenge.id, moving, &msg, trail, now).await? {
            UnfreezeOutcome::Unfrozen => break (token, token_move),
            UnfreezeOutcome::ChallengeUsed => return Err(missing("sms_code_request").into()),
            UnfreezeOutcome::NotFrozen => return Err(ErrorCode::BindingNotFrozen.into()),
            UnfreezeOutcome::TokenMoved if tries < 2 => tries += 1,
            UnfreezeOutcome::TokenMoved => return Err(anyhow::anyhow!("the card's token kept changing during an unfreeze").into()),
        }
    };
    tracing::info!(binding_id = %b.id, "binding unfrozen");
    // As decided (its write-set may not be applied yet).
    let moved_to = token_move.map(|(_, _, to)| to);
    let active = BindingRow { status: BindingStatus::Active, frozen_reason: None, frozen_at: None, updated_at: now, ..b };
    let token = token.map(|t| TokenRow { state: moved_to.unwrap_or(t.state), ..t });
    Ok(Answer::ok(Stepped::Done(super::bind::view_with(app, &active, token.as_ref()).await?)))
}

// ---------------------------------------------------------------- the whole account

/// `POST /v1/accounts/{id}/freeze`.
#[derive(Deserialize, ToSchema)]
pub struct AccountFreezeBody {
    /// `unknown_transactions`, `phone_lost`, `account_compromised` or
    /// `holder_request`.
    #[schema(value_type = String)]
    pub reason: AccountFreezeReason,
}

/// A notice about the account itself, in both languages.
fn account_notice(account: &AccountRow, zh: &str, en: &str) -> NewMessage {
    NewMessage {
        kind: MessageKind::Notice,
        account_id: account.id.clone(),
        phone: account.phone.clone(),
        zh: format!("【Bangka】您的钱包账户{zh}"),
        en: format!("Bangka: your wallet account {en}"),
    }
}

/// `POST /v1/accounts/{id}/freeze`: the holder stops everything at once
/// (seed 001: transactions they do not recognise). No code is asked (the
/// phone may be what was lost); nothing pays, binds, unbinds or changes a
/// card until the account is unfrozen. Freezing a frozen account answers
/// its state.
pub async fn freeze_account(app: &AppState, who: &Principal, account_id: &str, body: AccountFreezeBody) -> ApiResult<Answer<AccountView>> {
    let account = load_account(app, account_id).await?;
    if account.status == AccountStatus::Frozen {
        return Ok(Answer::ok(AccountView::from_row(&account, app.clock.now())));
    }
    let msg = account_notice(
        &account,
        "已冻结：所有卡片暂停付款、绑卡和解绑。如非本人操作，请立即联系客服。",
        "is frozen: no card can pay, bind or unbind. If this was not you, contact support at once.",
    );
    let reason = body.reason;
    let now = app.clock.now();
    if !app.store.freeze_account(account_id, reason, &msg, Cause::api(who.actor()), now).await? {
        // Frozen concurrently (or closed): answer with what it is now.
        return Ok(Answer::ok(AccountView::from_row(&load_account(app, account_id).await?, now)));
    }
    tracing::info!(account_id, reason = reason.as_str(), "account frozen");
    // As decided (its write-set may not be applied yet).
    let frozen = AccountRow { status: AccountStatus::Frozen, frozen_reason: Some(reason), frozen_at: Some(now), ..account };
    let step = |s: crate::i18n::Say, developer: Option<Value>| crate::views::NextStepView {
        step: s.get(crate::i18n::current()).to_owned(),
        developer,
    };
    let next_steps = if reason.distrusts_phone() {
        vec![
            step(
                say(
                    "换用新手机号：新号码收验证码，并提交身份证照片人工审核，通过后自动解冻。",
                    "Move to a new number: it receives a code, you send ID photos for a review, and the approval unfreezes the account.",
                ),
                Some(
                    json!({ "method": "POST", "path": format!("/v1/accounts/{account_id}/phone"), "body": { "new_phone": "…", "old_phone_lost": true } }),
                ),
            ),
            step(
                say(
                    "如果到运营商补办了原号码，提交“解冻”审核（身份证正反面和手持身份证照片），通过后解冻。",
                    "If your carrier gave the number back, send an 'unfreeze' review (both sides of your ID card and a photo of you holding it); the approval unfreezes the account.",
                ),
                Some(json!({ "method": "POST", "path": format!("/v1/accounts/{account_id}/reviews"),
                             "body": { "kind": "unfreeze", "statement": "…", "materials": ["id_front", "id_back", "selfie"] } })),
            ),
            step(
                say(
                    "所有已登录的设备都已退出；发往原手机号的验证码不能再解冻账户或重置支付密码。",
                    "Every signed-in device was signed out, and codes sent to the account's phone can no longer unfreeze it or reset the payment password.",
                ),
                None,
            ),
            step(
                say(
                    "查看每张卡的付款记录，找出不是您本人发起的交易。",
                    "Check the payment records of every card for transactions you do not recognise.",
                ),
                None,
            ),
        ]
    } else {
        vec![
            step(
                say(
                    "查看每张卡的付款记录，找出不是您本人发起的交易。",
                    "Check the payment records of every card for transactions you do not recognise.",
                ),
                None,
            ),
            step(
                say("修改支付密码。", "Change the payment password."),
                Some(
                    json!({ "method": "POST", "path": format!("/v1/accounts/{account_id}/payment-password"), "body": { "password": "…", "current_password": "…" } }),
                ),
            ),
            step(
                say(
                    "带上这些交易的时间和金额联系客服（可在钱包内提交工单）；追回资金请联系发卡银行。",
                    "Contact support with the times and amounts of those transactions (open a ticket in the wallet); ask your bank about recovering the money.",
                ),
                Some(json!({ "method": "POST", "path": format!("/v1/accounts/{account_id}/tickets") })),
            ),
        ]
    };
    let v = AccountView { next_steps: Some(next_steps), ..AccountView::from_row(&frozen, now) };
    Ok(Answer::ok(v))
}

/// `POST /v1/accounts/{id}/unfreeze`: without `otp`, sends an SMS code to
/// the account's phone; then with `otp` (and `payment_password` when one
/// is set).
pub async fn unfreeze_account(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    body: UnfreezeBody,
) -> ApiResult<Answer<Stepped<crate::views::UnfreezeCodeSentView, AccountView>>> {
    let otp = body.otp.as_deref().map(Otp::parse).transpose()?;
    let password = body.payment_password.as_deref().map(PaymentPassword::parse_for_check).transpose()?;
    let account = load_account(app, account_id).await?;
    if account.status != AccountStatus::Frozen {
        return Err(Failure::new(ErrorCode::AccountNotFrozen).with_details(json!({ "status": account.status.as_str() })).into());
    }
    if account.frozen_reason.is_some_and(AccountFreezeReason::distrusts_phone) {
        return Err(super::accounts::unfreeze_review_required(account_id, account.frozen_reason.map(AccountFreezeReason::as_str)).into());
    }
    check_not_locked(&account, app.clock.now())?;
    let stored_password = app.store.payment_password_hash(account_id).await?;

    let Some(otp) = otp else {
        let ttl = app.otp.ttl.whole_minutes();
        let next_action = send_code(app, account_id, &account.phone, OtpPurpose::Unfreeze, None, |code| {
            let code = code.expose();
            code_message(
                app,
                account_id,
                &account.phone,
                format!("【Bangka】验证码 {code}，用于解冻您的钱包账户，{ttl}分钟内有效。请勿将验证码告诉任何人。"),
                format!("Bangka: {code} is your code to unfreeze your wallet account, valid for {ttl} minutes. Never share it."),
            )
        })
        .await?;
        let v = crate::views::UnfreezeCodeSentView {
            binding_id: None,
            account_id: Some(account_id.into()),
            next_action,
            payment_password_required: stored_password.is_some(),
        };
        return Ok(Answer::accepted(Stepped::Waiting(v)));
    };

    let missing = |what: &str| Failure::new(ErrorCode::StrongVerificationRequired).with_details(json!({ "missing": what }));
    let (c, _) = app.store.latest_challenge(account_id, OtpPurpose::Unfreeze).await?.ok_or_else(|| missing("sms_code_request"))?;
    if c.challenge.passed {
        return Err(missing("sms_code_request").into());
    }
    let facts = AttemptFacts::default();
    if let Some(stored) = stored_password {
        let pw = password.ok_or_else(|| missing("payment_password"))?;
        check_payment_password(app, account_id, "account_unfreeze", &facts, pw, stored).await?;
    }
    check_otp(app, account_id, "account_unfreeze", &facts, &c, &otp, async || Ok(())).await?;
    let msg = account_notice(
        &account,
        "已解冻，可以正常使用。如非本人操作，请立即再次冻结并联系客服。",
        "is unfrozen and can be used again. If this was not you, freeze it again and contact support.",
    );
    let now = app.clock.now();
    match app.store.unfreeze_account(account_id, &c.challenge.id, &msg, Cause::api(who.actor()), now).await? {
        AccountUnfreezeOutcome::Unfrozen => {}
        AccountUnfreezeOutcome::ChallengeUsed => return Err(missing("sms_code_request").into()),
        AccountUnfreezeOutcome::NotFrozen => return Err(ErrorCode::AccountNotFrozen.into()),
    }
    tracing::info!(account_id, "account unfrozen");
    // As decided (its write-set may not be applied yet).
    let a = AccountRow { status: AccountStatus::Active, frozen_reason: None, frozen_at: None, ..account };
    Ok(Answer::ok(Stepped::Done(AccountView::from_row(&a, now))))
}
