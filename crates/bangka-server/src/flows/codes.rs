//! One-time codes: made, sent (by SMS, or read out by a call) and checked.

use bangka_core::otp::{CodeChannel, Otp, OtpPurpose, Verification};
use bangka_core::{ErrorCode, Failure};
use bangka_store::{ChallengeRow, MessageKind, NewChallenge, NewMessage, new_id};
use rand::Rng;

use super::attempts::AttemptFacts;
use super::risk::failed;
use crate::error::ApiResult;
use crate::state::AppState;

/// Checks a code against its challenge. A wrong code counts a try (never
/// beyond the limit) and says how many are left; when the last try is
/// used, `abandon` ends the operation the challenge guards (a binding or
/// an activation), so it cannot be guessed at any further.
pub async fn check_otp(
    app: &AppState,
    account_id: &str,
    kind: &str,
    facts: &AttemptFacts,
    c: &ChallengeRow,
    otp: &Otp,
    abandon: impl AsyncFnOnce() -> ApiResult<()>,
) -> ApiResult<()> {
    let now = app.clock.now();
    let code = match c.challenge.verify(&app.vault.otp_mac(&c.challenge.id, otp.expose()), now, &app.otp) {
        Verification::Passed => return Ok(()),
        Verification::Incorrect { remaining } => {
            if !app.store.count_wrong_otp(&c.challenge.id, app.otp.max_attempts).await? {
                // Concurrent wrong codes used the last try first.
                return Err(ErrorCode::OtpAttemptsExhausted.into());
            }
            if remaining == 0 {
                abandon().await?;
            }
            Failure::new(ErrorCode::OtpIncorrect).with_details(serde_json::json!({ "attempts_remaining": remaining }))
        }
        Verification::Exhausted => {
            abandon().await?;
            ErrorCode::OtpAttemptsExhausted.into()
        }
        Verification::Expired => ErrorCode::OtpExpired.into(),
    };
    Err(failed(app, account_id, kind, facts, code.into()).await)
}

/// A fresh six-digit code and its challenge row (the code stored only as a
/// keyed hash).
pub fn new_challenge(app: &AppState, purpose: OtpPurpose, phone: &str) -> (NewChallenge, Otp) {
    let now = app.clock.now();
    let id = new_id("chl");
    let otp = Otp::from_generated(rand::rngs::OsRng.gen_range(0..1_000_000));
    let challenge = NewChallenge {
        code_mac: app.vault.otp_mac(&id, otp.expose()),
        id,
        purpose,
        phone: phone.into(),
        expires_at: now + app.otp.ttl,
        sent_at: now,
        subject: None,
        context_mac: None,
    };
    (challenge, otp)
}

/// Sends a fresh SMS code for `purpose` on a bound card (unfreeze, delete):
/// refused during the resend cooldown of the last one; returns what the
/// holder needs to type it (`next_action`).
pub async fn send_binding_code(app: &AppState, b: &bangka_store::BindingRow, purpose: OtpPurpose) -> ApiResult<crate::views::NextAction> {
    send_code(app, &b.id, &b.phone, purpose, None, |code| otp_sms(app, purpose, code, &b.last4, &b.account_id, &b.phone)).await
}

/// Sends a fresh SMS code for `purpose` guarding `subject` (a binding or an
/// account) to `phone`, worded by `sms`, and bound to `context_mac` when
/// the code confirms one thing only (a payment's terms); refused during the
/// resend cooldown of the subject's last code for the same purpose.
pub async fn send_code(
    app: &AppState,
    subject: &str,
    phone: &str,
    purpose: OtpPurpose,
    context_mac: Option<String>,
    sms: impl FnOnce(&Otp) -> NewMessage,
) -> ApiResult<crate::views::NextAction> {
    send_code_and_tell(app, subject, phone, purpose, context_mac, sms, vec![]).await
}

/// Sends a challenge's code again, worded by `message` (a text, or a call
/// that reads it out): refused when its tries are used up or during the
/// resend cooldown (also when a concurrent resend won). Returns the
/// challenge as resent (its write-set may not be applied yet).
pub async fn resend_code(app: &AppState, c: ChallengeRow, message: impl FnOnce(&Otp) -> NewMessage) -> ApiResult<ChallengeRow> {
    let now = app.clock.now();
    if c.challenge.attempts >= app.otp.max_attempts {
        return Err(ErrorCode::OtpAttemptsExhausted.into());
    }
    if let Err(at) = c.challenge.check_resend(now, &app.otp) {
        return Err(Failure::new(ErrorCode::OtpResendCooldown).retry_at(at).into());
    }
    let otp = Otp::from_generated(rand::rngs::OsRng.gen_range(0..1_000_000));
    let mac = app.vault.otp_mac(&c.challenge.id, otp.expose());
    let msg = message(&otp);
    let expires_at = now + app.otp.ttl;
    if !app.store.resend_challenge(&c.challenge.id, &mac, expires_at, now, now - app.otp.resend_cooldown, &msg).await? {
        // A concurrent resend won; this one waits like any other.
        return Err(Failure::new(ErrorCode::OtpResendCooldown).retry_at(now + app.otp.resend_cooldown).into());
    }
    Ok(ChallengeRow {
        challenge: bangka_core::otp::Challenge { code_mac: mac, expires_at, last_sent_at: now, ..c.challenge },
        sends: c.sends + 1,
        ..c
    })
}

/// [`send_code`], with notices about the step queued in the same
/// transaction as the code (a lost-phone change tells the current phone).
pub async fn send_code_and_tell(
    app: &AppState,
    subject: &str,
    phone: &str,
    purpose: OtpPurpose,
    context_mac: Option<String>,
    sms: impl FnOnce(&Otp) -> NewMessage,
    mut notices: Vec<NewMessage>,
) -> ApiResult<crate::views::NextAction> {
    let now = app.clock.now();
    // The cooldown is between codes for the same thing: a code for another
    // context (a phone change to another number) is not held up by it, so
    // someone else's request cannot block the holder's own (issue 24).
    let last = match &context_mac {
        Some(context) => app.store.latest_challenge_for(subject, purpose, context).await?,
        None => app.store.latest_challenge(subject, purpose).await?.map(|(c, _)| c),
    };
    if let Some(last) = last
        && let Err(at) = last.challenge.check_resend(now, &app.otp)
    {
        return Err(Failure::new(ErrorCode::OtpResendCooldown).retry_at(at).into());
    }
    let (mut challenge, code) = new_challenge(app, purpose, phone);
    challenge.subject = Some(subject.to_owned());
    challenge.context_mac = context_mac;
    notices.insert(0, sms(&code));
    app.store.create_challenge(&challenge, &notices).await?;
    // As written (it may be staged, not yet applied).
    Ok(crate::views::NextAction::otp(&bangka_store::ChallengeRow::fresh(&challenge), &app.otp))
}

/// The SMS carrying a code (SMS only, never push or email: the code proves
/// the holder has the phone). Not delivered after the code expires.
pub fn otp_sms(app: &AppState, purpose: OtpPurpose, otp: &Otp, last4: &str, account_id: &str, phone: &str) -> NewMessage {
    let (zh_what, en_what) = match purpose {
        OtpPurpose::Bind => ("绑定", "bind"),
        OtpPurpose::Activate => ("激活", "activate"),
        OtpPurpose::Pay => ("支付确认", "confirm a payment with"),
        OtpPurpose::Unfreeze => ("解冻", "unfreeze"),
        OtpPurpose::Unbind => ("解绑", "unbind"),
        OtpPurpose::Delete => ("删除卡片", "delete the card"),
        OtpPurpose::ResetPassword => ("重置支付密码，", "reset the payment password of"),
        OtpPurpose::PhoneChangeOld | OtpPurpose::PhoneChangeNew => ("更换手机号，", "change the phone number of"),
        OtpPurpose::VerifyPhone => ("验证手机号，", "verify the phone number of"),
    };
    let ttl = app.otp.ttl.whole_minutes();
    let code = otp.expose();
    code_message(
        app,
        account_id,
        phone,
        format!("【Bangka】验证码 {code}，用于{zh_what}尾号{last4}的银行卡，{ttl}分钟内有效。请勿将验证码告诉任何人。"),
        format!("Bangka: {code} is your code to {en_what} the card ending {last4}, valid for {ttl} minutes. Never share it."),
    )
}

/// The binding code read out by a call (语音验证码), for when texts do not
/// arrive.
pub fn otp_voice(app: &AppState, otp: &Otp, last4: &str, account_id: &str, phone: &str) -> NewMessage {
    voice_code(app, otp, account_id, phone, &format!("绑定尾号{last4}银行卡"), &format!("bind the card ending {last4}"))
}

/// A code read out by a call, for when texts do not arrive: digit by
/// digit, twice, as voice-code services read them. `zh_what` and `en_what`
/// say what the code is for ("绑定尾号0178银行卡" / "bind the card ending 0178").
pub fn voice_code(app: &AppState, otp: &Otp, account_id: &str, phone: &str, zh_what: &str, en_what: &str) -> NewMessage {
    let spoken = otp.expose().chars().map(String::from).collect::<Vec<_>>().join(" ");
    let ttl = app.otp.ttl.whole_minutes();
    NewMessage {
        kind: MessageKind::Code { expires_at: app.clock.now() + app.otp.ttl, channel: CodeChannel::Voice },
        account_id: account_id.into(),
        phone: phone.into(),
        zh: format!("您好，这里是 Bangka。您{zh_what}的验证码是：{spoken}。重复一遍：{spoken}。{ttl}分钟内有效，请勿告诉任何人。"),
        en: format!(
            "Hello, this is Bangka. Your code to {en_what} is: {spoken}. Again: {spoken}. It is valid for {ttl} minutes. Never share it."
        ),
    }
}

/// A code message: expires with the code.
pub fn code_message(app: &AppState, account_id: &str, phone: &str, zh: String, en: String) -> NewMessage {
    NewMessage {
        kind: MessageKind::Code { expires_at: app.clock.now() + app.otp.ttl, channel: CodeChannel::Sms },
        account_id: account_id.into(),
        phone: phone.into(),
        zh,
        en,
    }
}
