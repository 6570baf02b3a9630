//! Wallet accounts and real-name verification (KYC).

use bangka_core::bind::{KycState, MIN_KYC_AGE};
use bangka_core::catalog::Lang;
use bangka_core::holder::{Email, HolderName, IdNumber, PaymentPassword, Phone};
use bangka_core::{ErrorCode, Failure};
use bangka_store::{Cause, Conflict, KycRecord, NewAccount, kyc_context};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::attempts::AttemptFacts;
use super::risk::failed;
use super::standing::{check_not_locked, load_account};
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::i18n::say;
use crate::state::AppState;
use crate::views::AccountView;
use crate::views::{Answer, Stepped};

#[derive(Deserialize, ToSchema)]
pub struct NewAccountBody {
    /// Mainland mobile number, e.g. `13800138000`.
    pub phone: String,
    /// The language of the holder's notices: `zh-CN` (default) or `en`.
    pub language: Option<String>,
    /// Notices also go here by email when given.
    pub email: Option<String>,
    /// How the phone is proven to be the holder's: `sms` (default: Bangka
    /// sends a code now, and the sign-up finishes with
    /// `POST /v1/accounts/{id}/phone/verify`) or `wallet` (the wallet already
    /// verified this number by SMS in its own sign-in; recorded as such).
    pub phone_verified_by: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
pub struct VerifyPhoneBody {
    /// The code sent to the account phone; without it, a new code is sent.
    pub otp: Option<String>,
    /// How a new code is sent: `sms` (default), or `voice`, a call that
    /// reads it out, for when texts do not arrive.
    #[schema(value_type = Option<String>, example = "voice")]
    #[serde(default)]
    pub channel: Option<bangka_core::otp::CodeChannel>,
}

#[derive(Deserialize, ToSchema)]
pub struct KycBody {
    pub real_name: String,
    /// 18-character resident ID number (GB 11643-1999).
    pub id_number: String,
}

pub async fn create(app: &AppState, who: &Principal, body: NewAccountBody) -> ApiResult<Answer<AccountView>> {
    let phone = Phone::parse(&body.phone)?;
    let language =
        body.language.as_deref().map(|l| Lang::from_tag(l).ok_or(ErrorCode::LanguageNotSupported)).transpose()?.unwrap_or_default();
    let email = body.email.as_deref().map(Email::parse).transpose()?;
    let by_wallet = match body.phone_verified_by.as_deref() {
        None | Some("sms") => false,
        Some("wallet") => true,
        Some(_) => return Err(crate::error::malformed("phone_verified_by", "sms or wallet").into()),
    };
    let new = NewAccount {
        mode: who.mode,
        phone: phone.as_str(),
        phone_verified_by_wallet: by_wallet,
        language: language.tag(),
        email: email.as_ref().map(Email::as_str),
    };
    // Decided: a new account (its phone's uniqueness is the write-set's
    // guard; taken meanwhile, the request decides again below and is told).
    let a = if by_wallet && app.store.defers().await {
        app.store.stage_account(new, Cause::api(who.actor()), app.clock.now()).await?
    } else {
        match app.store.create_account(new, Cause::api(who.actor()), app.clock.now()).await? {
            Ok(a) => a,
            Err(Conflict::PhoneTaken) => return Err(ErrorCode::AccountPhoneTaken.into()),
        }
    };
    let next_action = if by_wallet { None } else { Some(send_phone_code(app, &a, bangka_core::otp::CodeChannel::Sms).await?) };
    Ok(Answer::created(AccountView { next_action, ..AccountView::from_row(&a, app.clock.now()) }))
}

/// The sign-up code to the account phone.
async fn send_phone_code(
    app: &AppState,
    a: &bangka_store::AccountRow,
    channel: bangka_core::otp::CodeChannel,
) -> ApiResult<crate::views::NextAction> {
    let ttl = app.otp.ttl.whole_minutes();
    super::codes::send_code(app, &a.id, &a.phone, bangka_core::otp::OtpPurpose::VerifyPhone, None, |code| {
        if channel == bangka_core::otp::CodeChannel::Voice {
            return super::codes::voice_code(app, code, &a.id, &a.phone, "验证开通钱包账户的手机号", "verify the phone number of your new wallet account");
        }
        let code = code.expose();
        super::codes::code_message(
            app,
            &a.id,
            &a.phone,
            format!("【Bangka】验证码 {code}，用于验证您开通钱包账户的手机号，{ttl}分钟内有效。请勿将验证码告诉任何人。"),
            format!("Bangka: {code} is your code to verify the phone number of your new wallet account, valid for {ttl} minutes. Never share it."),
        )
    })
    .await
}

/// `POST /v1/accounts/{id}/phone/verify`: finishes the sign-up with the
/// code sent to the account phone (without `otp`, sends a new one).
pub async fn verify_phone(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    body: VerifyPhoneBody,
) -> ApiResult<Answer<Stepped<crate::views::AccountCodeSentView, AccountView>>> {
    let otp = body.otp.as_deref().map(bangka_core::otp::Otp::parse).transpose()?;
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    if account.phone_verified_at.is_some() {
        // Nothing left to do: answered with the account as it is.
        return Ok(Answer::ok(Stepped::Done(AccountView::from_row(&account, now))));
    }
    check_not_locked(&account, now)?;
    let Some(otp) = otp else {
        let v = crate::views::AccountCodeSentView {
            account_id: account_id.into(),
            next_action: send_phone_code(app, &account, body.channel.unwrap_or(bangka_core::otp::CodeChannel::Sms)).await?,
            then: None,
            developer: None,
        };
        return Ok(Answer::accepted(Stepped::Waiting(v)));
    };
    let missing = || Failure::new(ErrorCode::StrongVerificationRequired).with_details(json!({ "missing": "sms_code_request" }));
    let (c, _) = app.store.latest_challenge(account_id, bangka_core::otp::OtpPurpose::VerifyPhone).await?.ok_or_else(missing)?;
    if c.challenge.passed {
        return Err(missing().into());
    }
    super::codes::check_otp(app, account_id, "verify_phone", &AttemptFacts::default(), &c, &otp, async || Ok(())).await?;
    // Decided on the code and the account as read: the write-set's guards.
    let Some(verified) = app.store.verify_account_phone(&account, &c.challenge.id, Cause::api(who.actor()), now).await? else {
        return Err(missing().into());
    };
    tracing::info!(account_id, "account phone verified");
    Ok(Answer::ok(Stepped::Done(AccountView::from_row(&verified, now))))
}

pub async fn get(app: &AppState, account_id: &str) -> ApiResult<Answer<AccountView>> {
    let a = load_account(app, account_id).await?;
    Ok(Answer::ok(AccountView::from_row(&a, app.clock.now())))
}

/// Verifies the real name: the ID number must be well-formed with a valid
/// check digit and birth date, and the holder at least 16. Name and ID are
/// stored sealed, plus keyed hashes for the bind-time comparison. A rejected
/// verification is not the end: the answer says the day the holder turns
/// 16, and the holder may submit again (then, or at once with an ID number
/// typed wrong the first time).
pub async fn verify_kyc(app: &AppState, who: &Principal, account_id: &str, body: KycBody) -> ApiResult<Answer<AccountView>> {
    let account = load_account(app, account_id).await?;
    super::standing::check_complete(&account)?;
    if account.kyc == KycState::Verified {
        return Err(ErrorCode::KycAlreadyVerified.into());
    }
    let name = HolderName::parse(&body.real_name)?;
    let id = IdNumber::parse(&body.id_number)?;
    let now = app.clock.now();
    let status = if id.age_on(crate::views::beijing_date(now)) >= MIN_KYC_AGE { KycState::Verified } else { KycState::Rejected };
    let record = KycRecord {
        status,
        name_mac: app.vault.kyc_name_mac(name.as_str()),
        id_mac: app.vault.kyc_id_mac(id.expose()),
        name_sealed: app.vault.seal_value(&kyc_context(account_id, "name"), name.as_str()),
        id_sealed: app.vault.seal_value(&kyc_context(account_id, "id"), id.expose()),
    };
    // Decided on the account as read: its KYC state is the write-set's
    // guard (settled meanwhile, the request decides again below).
    let a = if app.store.defers().await {
        app.store.stage_kyc(&account, &record, Cause::api(who.actor()), now).await?
    } else {
        if !app.store.set_kyc(account_id, &record, Cause::api(who.actor()), now).await? {
            return Err(ErrorCode::KycAlreadyVerified.into());
        }
        load_account(app, account_id).await?
    };
    if status == KycState::Rejected {
        return Err(under_age(account_id, &id).into());
    }
    let v = AccountView {
        real_name_masked: Some(name.masked()),
        id_number_masked: Some(id.masked()),
        ..AccountView::from_row(&a, app.clock.now())
    };
    Ok(Answer::ok(v))
}

#[derive(Deserialize, ToSchema)]
pub struct PaymentPasswordBody {
    /// Six digits, not repeated or in sequence.
    pub password: String,
    /// Required to change a password that is already set.
    pub current_password: Option<String>,
}

/// Sets (or, with the current one, changes) the payment password. Only a
/// MAC under the payment-password key is stored (`hash_password`). A wrong current password counts toward the
/// risk lock like any failed verification.
pub async fn set_payment_password(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    body: PaymentPasswordBody,
) -> ApiResult<Answer<AccountView>> {
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    check_password_holder(&account, now)?;
    let new = PaymentPassword::parse(&body.password)?;
    let existing = app.store.payment_password_hash(account_id).await?;
    if let Some(stored) = &existing {
        // Not sending the current password is a missing step, not a guess.
        let Some(current) = body.current_password.as_deref() else {
            let e = Failure::new(ErrorCode::StrongVerificationRequired).with_details(json!({ "missing": "current_password" }));
            return Err(e.into());
        };
        let matches = match PaymentPassword::parse(current) {
            Ok(pw) => verify_password(app, account_id, pw, stored.clone()).await?,
            Err(_) => false,
        };
        if !matches {
            let e = Failure::new(ErrorCode::PaymentPasswordIncorrect).with_details(json!({ "current_password_required": true }));
            return Err(failed(app, account_id, "payment_password", &AttemptFacts::default(), e.into()).await);
        }
    }
    let hash = hash_password(app, account_id, &new);
    let (when_zh, when_en) = crate::views::holder_time(now);
    let (zh, en) = if existing.is_some() {
        (
            format!("【Bangka】您的支付密码已于 {when_zh} 修改。如非本人操作，请立即冻结账户并联系客服。"),
            format!(
                "Bangka: your payment password was changed at {when_en}. If this was not you, freeze your account now and contact support."
            ),
        )
    } else {
        (
            format!("【Bangka】您已于 {when_zh} 设置支付密码。如非本人操作，请立即冻结账户并联系客服。"),
            format!(
                "Bangka: a payment password was set for your account at {when_en}. If this was not you, freeze your account now and contact support."
            ),
        )
    };
    let notice = bangka_store::NewMessage {
        kind: bangka_store::MessageKind::Notice,
        account_id: account_id.into(),
        phone: account.phone.clone(),
        zh,
        en,
    };
    if !app.store.set_payment_password(account_id, &hash, existing.as_deref(), &notice, Cause::api(who.actor()), now).await? {
        // Changed concurrently: the current password verified is no longer current.
        return Err(ErrorCode::PaymentPasswordIncorrect.into());
    }
    // As decided (its write-set may not be applied yet).
    let a = bangka_store::AccountRow { payment_password_set_at: Some(now), ..account };
    Ok(Answer::ok(AccountView::from_row(&a, now)))
}

/// Checks the holder's payment password as one attempt of `kind` (a
/// cryptogram, an unbind, …). A card locked for guessing is refused before
/// the guess is checked; a wrong password is a failed attempt, which the
/// risk rules count per account, card and device (an hourly lock, then a
/// daily cap).
pub async fn check_payment_password(
    app: &AppState,
    account_id: &str,
    kind: &str,
    facts: &AttemptFacts,
    pw: PaymentPassword,
    stored: String,
) -> ApiResult<()> {
    if let Some(fp) = &facts.card_fp {
        super::risk::check_card_lock(app, account_id, fp).await?;
    }
    if !verify_password(app, account_id, pw, stored).await? {
        return Err(failed(app, account_id, kind, facts, ErrorCode::PaymentPasswordIncorrect.into()).await);
    }
    Ok(())
}

pub use super::password::{hash_password, verify_password};

/// `KYC_REJECTED` for an ID number under the minimum age, with the day it
/// may be submitted again (the automatic check, and a reviewer's approval).
pub fn under_age(account_id: &str, id: &IdNumber) -> Failure {
    let eligible = id.turns(MIN_KYC_AGE);
    Failure::new(ErrorCode::KycRejected).with_details(json!({
        "reason": "under_minimum_age",
        "minimum_age": MIN_KYC_AGE,
        "eligible_from": eligible.to_string(),
        "submit_again": { "method": "POST", "path": format!("/v1/accounts/{account_id}/kyc"), "from": eligible.to_string() },
    }))
}

/// `UNFREEZE_REVIEW_REQUIRED`: a recovery through a phone a freeze named
/// as lost or compromised, with the two ways that do work.
pub fn unfreeze_review_required(account_id: &str, frozen_reason: Option<&str>) -> Failure {
    Failure::new(ErrorCode::UnfreezeReviewRequired).with_details(json!({
        "frozen_reason": frozen_reason,
        "review": { "method": "POST", "path": format!("/v1/accounts/{account_id}/reviews"),
                    "body": { "kind": "unfreeze", "statement": "…", "materials": ["id_front", "id_back", "selfie"] } },
        "change_phone": { "method": "POST", "path": format!("/v1/accounts/{account_id}/phone"),
                          "body": { "new_phone": "…", "old_phone_lost": true } },
    }))
}

/// Who may set or reset a payment password: a finished sign-up, no risk
/// lock running, real-name verification done.
fn check_password_holder(account: &bangka_store::AccountRow, now: time::OffsetDateTime) -> ApiResult<()> {
    super::standing::check_complete(account)?;
    check_not_locked(account, now)?;
    if account.kyc != KycState::Verified {
        return Err(ErrorCode::KycRequired.into());
    }
    Ok(())
}

/// `POST /v1/accounts/{id}/payment-password/reset`.
#[derive(Deserialize, ToSchema)]
pub struct ResetPasswordBody {
    /// The real name on record (real-name verification).
    pub real_name: String,
    /// The ID number on record.
    pub id_number: String,
    /// The code sent to the account's phone by the first call.
    pub otp: Option<String>,
    /// With `otp`: the new payment password (six digits, not trivial).
    pub new_password: Option<String>,
}

/// Resets a forgotten payment password (seed 001: 忘记支付密码): the
/// real-name details on record, then an SMS code to the account's phone,
/// then the new password. Details that do not match count toward the risk
/// lock like any failed verification; the change is audited and told to the
/// holder, and the code is used up in the same transaction.
pub async fn reset_payment_password(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    body: ResetPasswordBody,
) -> ApiResult<Answer<Stepped<crate::views::AccountCodeSentView, AccountView>>> {
    let name = HolderName::parse(&body.real_name)?;
    let id = IdNumber::parse(&body.id_number)?;
    let otp = body.otp.as_deref().map(bangka_core::otp::Otp::parse).transpose()?;
    let new = match (&otp, body.new_password.as_deref()) {
        (Some(_), Some(p)) => Some(PaymentPassword::parse(p)?),
        (Some(_), None) => return Err(crate::error::malformed("new_password", "the new payment password, with otp").into()),
        (None, _) => None,
    };
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    check_password_holder(&account, now)?;
    // The reset's code goes to the phone the freeze says someone else has.
    if account.frozen_reason.is_some_and(bangka_core::bind::AccountFreezeReason::distrusts_phone) {
        return Err(unfreeze_review_required(account_id, account.frozen_reason.map(|r| r.as_str())).into());
    }
    let facts = AttemptFacts::default();
    if account.kyc_name_mac.as_deref() != Some(&app.vault.kyc_name_mac(name.as_str())) {
        return Err(failed(app, account_id, "password_reset", &facts, ErrorCode::HolderNameNotKycName.into()).await);
    }
    if account.kyc_id_mac.as_deref() != Some(&app.vault.kyc_id_mac(id.expose())) {
        return Err(failed(app, account_id, "password_reset", &facts, ErrorCode::HolderIdNotKycId.into()).await);
    }
    let (Some(otp), Some(new)) = (otp, new) else {
        // Step one: the code to the account's phone.
        let ttl = app.otp.ttl.whole_minutes();
        let purpose = bangka_core::otp::OtpPurpose::ResetPassword;
        let next_action = super::codes::send_code(app, account_id, &account.phone, purpose, None, |code| {
            let code = code.expose();
            super::codes::code_message(
                app,
                account_id,
                &account.phone,
                format!("【Bangka】验证码 {code}，用于重置您的支付密码，{ttl}分钟内有效。请勿将验证码告诉任何人，客服不会向您索要。"),
                format!("Bangka: {code} is your code to reset your payment password, valid for {ttl} minutes. Never share it; support never asks for it."),
            )
        })
        .await?;
        let then = say("请输入收到的验证码并设置新的支付密码。", "Enter the code you received and choose a new payment password.");
        let v = crate::views::AccountCodeSentView {
            account_id: account_id.into(),
            next_action,
            then: Some(then.get(crate::i18n::current()).into()),
            developer: Some(json!({ "then": "the same request again with otp and new_password" })),
        };
        return Ok(Answer::accepted(Stepped::Waiting(v)));
    };
    let missing = || Failure::new(ErrorCode::StrongVerificationRequired).with_details(json!({ "missing": "sms_code_request" }));
    let (c, _) = app.store.latest_challenge(account_id, bangka_core::otp::OtpPurpose::ResetPassword).await?.ok_or_else(missing)?;
    if c.challenge.passed {
        return Err(missing().into());
    }
    super::codes::check_otp(app, account_id, "password_reset", &facts, &c, &otp, async || Ok(())).await?;
    let (when_zh, when_en) = crate::views::holder_time(now);
    let notice = bangka_store::NewMessage {
        kind: bangka_store::MessageKind::Notice,
        account_id: account_id.into(),
        phone: account.phone.clone(),
        zh: format!("【Bangka】您的支付密码已于 {when_zh} 通过身份验证重置。如非本人操作，请立即冻结账户并联系客服。"),
        en: format!(
            "Bangka: your payment password was reset with identity checks at {when_en}. If this was not you, freeze your account now and contact support."
        ),
    };
    let hash = hash_password(app, account_id, &new);
    if !app.store.reset_payment_password(account_id, &c.challenge.id, &hash, &notice, Cause::api(who.actor()), now).await? {
        return Err(missing().into());
    }
    tracing::info!(account_id, "payment password reset");
    // As decided (its write-set may not be applied yet).
    let a = bangka_store::AccountRow { payment_password_set_at: Some(now), ..account };
    Ok(Answer::ok(Stepped::Done(AccountView::from_row(&a, now))))
}

#[derive(Deserialize, ToSchema)]
pub struct PhoneChangeBody {
    /// The new mobile number.
    pub new_phone: String,
    /// Step two: the code sent to the account's current phone.
    pub old_phone_otp: Option<String>,
    /// Step two: the code sent to the new phone.
    pub new_phone_otp: Option<String>,
    /// The current phone is lost or no longer the holder's: only the new
    /// phone gets a code, and the change goes to a review with ID
    /// materials (`POST /v1/accounts/{id}/reviews`, kind `phone_change`).
    /// Implied for an account frozen as `phone_lost`.
    #[serde(default)]
    pub old_phone_lost: bool,
}

/// Phone changes an account may start per window (each sends a code to a
/// new number): enough for typos, too few to probe which numbers have
/// accounts.
const PHONE_CHANGES_PER_WINDOW: usize = 5;
const PHONE_CHANGE_WINDOW: time::Duration = time::Duration::hours(1);

/// Binds a phone-change code to the number it is for: a code sent for one
/// new number cannot confirm another.
fn phone_mac(app: &AppState, account_id: &str, phone: &Phone) -> String {
    app.vault.mac("phone-change", &[account_id, phone.as_str()])
}

/// The unused code sent to `phone` for a phone change, or
/// `STRONG_VERIFICATION_REQUIRED` naming the missing step.
pub async fn new_phone_challenge(
    app: &AppState,
    account: &bangka_store::AccountRow,
    phone: &Phone,
) -> ApiResult<bangka_store::ChallengeRow> {
    challenge_for(app, &account.id, bangka_core::otp::OtpPurpose::PhoneChangeNew, &phone_mac(app, &account.id, phone)).await
}

async fn challenge_for(
    app: &AppState,
    account_id: &str,
    purpose: bangka_core::otp::OtpPurpose,
    mac: &str,
) -> ApiResult<bangka_store::ChallengeRow> {
    let missing = || Failure::new(ErrorCode::StrongVerificationRequired).with_details(json!({ "missing": "sms_code_request" }));
    match app.store.latest_challenge_for(account_id, purpose, mac).await? {
        Some(c) if !c.challenge.passed => Ok(c),
        _ => Err(missing().into()),
    }
}

/// `POST /v1/accounts/{id}/phone`: change the account phone. Step one sends
/// a code to the new phone and, unless the old one is lost, one to the
/// current phone; step two, with both codes, moves the account. With the
/// old phone lost, step two is a `phone_change` review instead, which also
/// lifts a `phone_lost` freeze when approved.
pub async fn change_phone(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    body: PhoneChangeBody,
) -> ApiResult<Answer<Stepped<crate::views::PhoneChangeStartedView, AccountView>>> {
    use bangka_core::bind::{AccountFreezeReason, AccountStatus};
    use bangka_core::otp::{Otp, OtpPurpose};
    let phone = Phone::parse(&body.new_phone)?;
    let old_otp = body.old_phone_otp.as_deref().map(Otp::parse).transpose()?;
    let new_otp = body.new_phone_otp.as_deref().map(Otp::parse).transpose()?;
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    check_not_locked(&account, now)?;
    if phone.as_str() == account.phone {
        return Err(crate::error::malformed("new_phone", "a number other than the account's phone").into());
    }
    // Whether another account has the number is not told here (issue 24,
    // finding 7: a session could probe which numbers have accounts): a
    // taken number gets a notice instead of a code, and the answer is the
    // same. Probing is bounded: a few phone changes an hour per account.
    let taken = app.store.account_by_phone(phone.as_str()).await?.is_some();
    if old_otp.is_none() && new_otp.is_none() {
        let started = app.store.challenges_sent_since(account_id, OtpPurpose::PhoneChangeNew, now - PHONE_CHANGE_WINDOW).await?;
        if started.len() >= PHONE_CHANGES_PER_WINDOW {
            let details = json!({ "limit": "phone_change", "per_hour": PHONE_CHANGES_PER_WINDOW });
            return Err(Failure::new(ErrorCode::RateLimited).with_details(details).retry_at(started[0] + PHONE_CHANGE_WINDOW).into());
        }
    }
    let lost = body.old_phone_lost || account.frozen_reason.is_some_and(AccountFreezeReason::distrusts_phone);
    if account.status == AccountStatus::Frozen && !lost {
        super::standing::check_standing(&account, now)?;
    }
    let mac = phone_mac(app, account_id, &phone);
    let ttl = app.otp.ttl.whole_minutes();
    let sms = |to: &str, code: &Otp| {
        let code = code.expose();
        super::codes::code_message(
            app,
            account_id,
            to,
            format!("【Bangka】验证码 {code}，用于更换钱包账户的手机号，{ttl}分钟内有效。请勿将验证码告诉任何人，客服不会向您索要。"),
            format!(
                "Bangka: {code} is your code to change the phone number of your wallet account, valid for {ttl} minutes. Never share it; support never asks for it."
            ),
        )
    };
    match (old_otp, new_otp) {
        (None, None) => {
            // Moving the account off a phone said to be lost is told to that
            // phone and to every other channel (push, email), each step,
            // with the way to stop it (issue 24, finding 3): whoever really
            // holds the account hears of it before it can take effect.
            let mut tell = vec![];
            if lost {
                let masked = phone.masked();
                let hours = bangka_core::review::LOST_PHONE_WAIT.whole_hours();
                tell.push(super::notices::account_notice(
                    account_id,
                    &account.phone,
                    format!("【Bangka】有人申请把您钱包账户的手机号更换为 {masked}，并称原手机号已无法使用。此申请要经人工审核，并在提交审核 {hours} 小时后才能生效。如非本人操作，请立即在钱包中冻结账户并联系客服；审核提交后也可以在钱包中撤回。"),
                    format!("Bangka: someone asked to change the phone of your wallet account to {masked}, saying the current phone can no longer be used. This needs a manual review and cannot take effect sooner than {hours} hours after the review is sent. If this was not you, freeze the account in the wallet and contact support at once; once the review is sent you can also withdraw it in the wallet."),
                ));
            }
            let new_action = super::codes::send_code_and_tell(app, account_id, phone.as_str(), OtpPurpose::PhoneChangeNew, Some(mac.clone()), |c| {
                if taken {
                    // The number's owner learns why; the asker learns nothing.
                    super::codes::code_message(
                        app,
                        account_id,
                        phone.as_str(),
                        "【Bangka】有人申请把此号码设为另一个钱包账户的手机号。此号码已是一个钱包账户的手机号，不能再用于其他账户；如是您本人操作，请先在原账户中更换手机号。".into(),
                        "Bangka: someone asked to make this number the phone of another wallet account. It is already the phone of a wallet account and cannot be used for another; if this was you, change the phone of that account first.".into(),
                    )
                } else {
                    sms(phone.as_str(), c)
                }
            }, tell)
            .await?;
            let old_action = if lost {
                None
            } else {
                Some(
                    super::codes::send_code(app, account_id, &account.phone, OtpPurpose::PhoneChangeOld, Some(mac), |c| {
                        sms(&account.phone, c)
                    })
                    .await?,
                )
            };
            let then = if lost {
                say(
                    "原手机号无法接收验证码：请输入新手机号收到的验证码，并上传身份证正反面和手持身份证照片提交人工审核；审核通过后更换手机号，因手机丢失冻结的账户同时解冻。",
                    "The old phone cannot receive codes: enter the code sent to the new phone and send a review with both sides of your ID card and a photo of you holding it; once approved, the phone changes and an account frozen for the lost phone is unfrozen.",
                )
            } else {
                say("请分别输入原手机号和新手机号收到的验证码。", "Enter the codes sent to the old phone and to the new phone.")
            };
            let developer = if lost {
                json!({ "method": "POST", "path": format!("/v1/accounts/{account_id}/reviews"),
                        "body": { "kind": "phone_change", "new_phone": "<the new phone>", "otp": "<new phone code>", "statement": "…", "materials": ["id_front", "id_back", "selfie"] } })
            } else {
                json!({ "method": "POST", "path": format!("/v1/accounts/{account_id}/phone"),
                        "body": { "new_phone": "<the new phone>", "old_phone_otp": "<code>", "new_phone_otp": "<code>" } })
            };
            let v = crate::views::PhoneChangeStartedView {
                account_id: account_id.into(),
                new_phone_masked: phone.masked(),
                next_action: new_action,
                old_phone_next_action: old_action,
                review_required: lost,
                then: then.get(crate::i18n::current()).into(),
                developer,
            };
            Ok(Answer::accepted(Stepped::Waiting(v)))
        }
        (Some(old_otp), Some(new_otp)) if !lost => {
            let new_c = new_phone_challenge(app, &account, &phone).await?;
            let old_c = challenge_for(app, account_id, OtpPurpose::PhoneChangeOld, &phone_mac(app, account_id, &phone)).await?;
            let facts = AttemptFacts::default();
            super::codes::check_otp(app, account_id, "phone_change", &facts, &old_c, &old_otp, async || Ok(())).await?;
            super::codes::check_otp(app, account_id, "phone_change", &facts, &new_c, &new_otp, async || Ok(())).await?;
            let (when_zh, when_en) = crate::views::holder_time(now);
            let masked = phone.masked();
            let notice = |to: &str, zh: String, en: String| bangka_store::NewMessage {
                kind: bangka_store::MessageKind::Notice,
                account_id: account_id.into(),
                phone: to.into(),
                zh,
                en,
            };
            let notices = [
                notice(
                    &account.phone,
                    format!("【Bangka】您的钱包账户手机号已于 {when_zh} 更换为 {masked}。如非本人操作，请立即联系客服。"),
                    format!(
                        "Bangka: the phone number of your wallet account was changed to {masked} at {when_en}. If this was not you, contact support at once."
                    ),
                ),
                notice(
                    phone.as_str(),
                    format!("【Bangka】此号码已于 {when_zh} 成为您钱包账户的手机号，今后的验证码和通知将发送到这里。"),
                    format!("Bangka: since {when_en} this number is the phone of your wallet account; codes and notices will come here."),
                ),
            ];
            let ids = [old_c.challenge.id.as_str(), new_c.challenge.id.as_str()];
            // Decided on the codes and the account as read (its phone, its
            // freeze, the phone requests waiting): the write-set's guards.
            let cause = Cause::api(who.actor());
            let Some(moved) = app.store.change_account_phone(&account, &ids, phone.as_str(), &notices, cause, now).await? else {
                // Moved meanwhile (applied at once: the second decision).
                if app.store.account_by_phone(phone.as_str()).await?.is_some_and(|other| other != account_id) {
                    return Err(ErrorCode::AccountPhoneTaken.into());
                }
                return Err(Failure::new(ErrorCode::StrongVerificationRequired)
                    .with_details(json!({ "missing": "sms_code_request" }))
                    .into());
            };
            tracing::info!(account_id, "account phone changed");
            Ok(Answer::ok(Stepped::Done(AccountView::from_row(&moved, now))))
        }
        (_, Some(_)) if lost => {
            Err(crate::error::malformed("new_phone_otp", "with the old phone lost, send this code in a phone_change review").into())
        }
        _ => Err(crate::error::malformed("old_phone_otp", "both old_phone_otp and new_phone_otp, or neither").into()),
    }
}
