//! The flows: what happens for each operation, step by step, between the
//! HTTP edge, the pure domain core, the store and the issuer.

pub mod accounts;
pub mod activation;
pub mod api_keys;
pub mod bind;
pub mod diagnosis;
pub mod evidence;
pub mod freeze;
pub mod maintenance;
pub mod mandates;
pub mod ops;
pub mod outbox;
pub mod password;
pub mod payments;
pub mod reviews;
pub mod risk;
pub mod sessions;
pub mod settlements;
pub mod tickets;
pub mod tokens;
pub mod unbind;

use bangka_core::ErrorCode;
use bangka_core::Failure;
use bangka_core::bin::CardFacts;
use bangka_core::bind::AccountStatus;
use bangka_core::otp::{CodeChannel, Otp, OtpPurpose, Verification};
use bangka_store::{AccountRow, AttemptRow, ChallengeRow, MessageKind, NewChallenge, NewMessage, new_id};
use rand::Rng;
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use bangka_core::risk::VERIFICATION_FAILURES;

/// How a request interrupted after it wrote down its intent is finished:
/// stored on its idempotency claim at [`checkpoint`], read back when a retry
/// finds the claim stale ([`resume`]).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resume {
    /// A payment or an autopay charge waiting for its authorization.
    Authorize { payment_id: String, op_id: String },
    /// A capture, refund or void waiting for the issuer's confirmation.
    PaymentOp { payment_id: String, op_id: String },
    /// An autopay agreement waiting for the bank's setup check.
    Mandate { account_id: String, mandate_id: String },
    /// A card frozen as lost or stolen, not yet reported to the bank.
    ReportLost { account_id: String, binding_id: String },
    /// An activation written down as being asked of the bank.
    Activate { account_id: String, activation_id: String },
}

impl Resume {
    /// The crash points around the bank call this intent precedes.
    fn points(&self) -> &'static str {
        match self {
            Resume::Authorize { .. } => "authorize",
            Resume::PaymentOp { .. } => "op",
            Resume::Mandate { .. } => "mandate",
            Resume::ReportLost { .. } => "freeze",
            Resume::Activate { .. } => "activate",
        }
    }
}

/// Commits what the request wrote so far (its intent) before a bank call,
/// noting how a retry after a crash finishes it. Afterwards the flow may
/// call the bank: no transaction is open.
pub async fn checkpoint(app: &AppState, resume: &Resume) -> ApiResult<()> {
    let note = serde_json::to_string(resume).map_err(anyhow::Error::from)?;
    app.store.checkpoint(&note, app.clock.now()).await?;
    app.failpoint(&format!("{}.after_intent", resume.points())).await
}

/// Finishes a request a crash interrupted after its [`checkpoint`]: never
/// by running it again, but by taking its written-down intent to its end
/// (the same bank reference, so the bank acts once) and answering from
/// what it became.
pub async fn resume(app: &AppState, who: &crate::auth::Principal, note: &str) -> ApiResult<(axum::http::StatusCode, serde_json::Value)> {
    let r: Resume = serde_json::from_str(note).map_err(|e| anyhow::anyhow!("resume note {note}: {e}"))?;
    match r {
        Resume::Authorize { payment_id, op_id } => payments::resume_authorization(app, who, &payment_id, &op_id).await,
        Resume::PaymentOp { payment_id, op_id } => payments::resume_op(app, who, &payment_id, &op_id).await,
        Resume::Mandate { account_id, mandate_id } => mandates::resume(app, who, &account_id, &mandate_id).await,
        Resume::ReportLost { account_id, binding_id } => freeze::resume_report(app, who, &account_id, &binding_id).await,
        Resume::Activate { account_id, activation_id } => activation::resume(app, who, &account_id, &activation_id).await,
    }
}

/// The card number a vault row still keeps; `None` once it is shredded (a
/// deleted card, an ended activation). A database error is an error, not
/// a missing card.
pub(super) async fn kept_card_number(app: &AppState, vault_id: Option<&str>) -> ApiResult<Option<bangka_core::card::Pan>> {
    let Some(vault_id) = vault_id else { return Ok(None) };
    let Some(sealed) = app.store.get_sealed(vault_id).await? else { return Ok(None) };
    Ok(Some(app.vault.open_pan(&sealed)?))
}

/// Whether a refusal only says the bank cannot answer now (unreachable, or
/// in maintenance), so a question about a card's state must be asked again.
pub(super) fn bank_not_answering(code: ErrorCode) -> bool {
    matches!(code, ErrorCode::IssuerUnavailable | ErrorCode::IssuerMaintenance | ErrorCode::PlatformMaintenance)
}

/// A notice about a bound card to its reserved phone, in both languages:
/// `zh` and `en` complete "the card ending NNNN …".
pub fn card_notice(b: &bangka_store::BindingRow, zh: &str, en: &str) -> NewMessage {
    notice(&b.account_id, &b.phone, &b.last4, zh, en)
}

/// A notice about the card ending `last4`, in both languages (the account's
/// language picks one when it is queued): by SMS to `phone`, and as a push
/// and an email to the account.
pub fn notice(account_id: &str, phone: &str, last4: &str, zh: &str, en: &str) -> NewMessage {
    NewMessage {
        kind: MessageKind::Notice,
        account_id: account_id.into(),
        phone: phone.into(),
        zh: format!("【Bangka】尾号{last4}的银行卡{zh}"),
        en: format!("Bangka: the card ending {last4} {en}"),
    }
}

/// A notice about the account (not one card), in both languages: by SMS to
/// `phone`, and as a push and an email to the account.
pub fn account_notice(account_id: &str, phone: &str, zh: String, en: String) -> NewMessage {
    NewMessage { kind: MessageKind::Notice, account_id: account_id.into(), phone: phone.into(), zh, en }
}

/// The receipt for an operation on a binding: masked card facts only.
pub fn receipt_draft<'a>(
    app: &'a AppState,
    operation: &'a str,
    b: &'a bangka_store::BindingRow,
    details: serde_json::Value,
) -> bangka_store::ReceiptDraft<'a> {
    let card = crate::views::CardView::from_binding(b);
    bangka_store::ReceiptDraft {
        signer: &app.signer,
        operation,
        account_id: &b.account_id,
        binding_id: &b.id,
        card: serde_json::json!({ "masked": card.masked, "last4": card.last4, "issuer": card.issuer, "brand": card.brand, "type": card.card_type }),
        details,
    }
}

/// Free text from a holder or an agent (a note, a statement, a comment):
/// trimmed, at most `max` characters, no control characters but line
/// breaks; empty is `None`. Card and ID numbers typed into it are masked
/// before anything keeps it ([`mask_free_text`]).
pub fn optional_text(field: &str, s: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > max || t.chars().any(|c| c.is_control() && c != '\n') => {
            Err(crate::error::malformed(field, &format!("at most {max} characters, no control characters")).into())
        }
        Some(t) => Ok(Some(mask_free_text(t))),
    }
}

tokio::task_local! {
    /// What [`mask_free_text`] masked while serving the current request
    /// (the answer says so: `idempotency::run` adds a `redacted` field).
    static REDACTED: std::cell::RefCell<std::collections::BTreeSet<bangka_core::redact::Sensitive>>;
}

/// Masks card and ID numbers in free text and notes that it did.
pub fn mask_free_text(text: &str) -> String {
    let r = bangka_core::redact::redact(text);
    if !r.found.is_empty() {
        let _ = REDACTED.try_with(|seen| seen.borrow_mut().extend(r.found.iter().copied()));
    }
    r.text
}

/// Runs `f`, collecting what free text it masked.
pub async fn noting_redactions<F: std::future::Future>(f: F) -> (F::Output, Vec<&'static str>) {
    REDACTED
        .scope(Default::default(), async {
            let out = f.await;
            let found = REDACTED.with(|seen| seen.take().into_iter().map(|s| s.as_str()).collect());
            (out, found)
        })
        .await
}

/// As [`optional_text`], where the text is required.
pub fn required_text(field: &str, s: &str, max: usize) -> ApiResult<String> {
    optional_text(field, Some(s), max)?.ok_or_else(|| crate::error::malformed(field, &format!("1 to {max} characters")).into())
}

/// An operator's stated reason for the audit log: trimmed, `min_chars` to
/// 500 characters, else `OPS_REASON_REQUIRED`; card and ID numbers in it
/// masked like any free text.
pub fn ops_reason(note: &str, min_chars: usize) -> ApiResult<String> {
    let n = note.trim();
    if (min_chars..=500).contains(&n.chars().count()) { Ok(mask_free_text(n)) } else { Err(ErrorCode::OpsReasonRequired.into()) }
}

pub async fn load_account(app: &AppState, account_id: &str) -> ApiResult<AccountRow> {
    app.store.get_account(account_id).await?.ok_or_else(|| ErrorCode::NotFound.into())
}

/// The card facts an attempt is recorded with (masked only).
#[derive(Default, Clone)]
pub struct AttemptFacts {
    pub issuer: Option<String>,
    pub bin: Option<String>,
    pub last4: Option<String>,
    pub binding_id: Option<String>,
    /// The card's keyed fingerprint, for per-card risk rules.
    pub card_fp: Option<String>,
    /// The phone the holder typed, masked (for support: "which number did I use?").
    pub phone_masked: Option<String>,
}

impl AttemptFacts {
    /// The facts of a bound (or pending) card.
    pub fn binding(b: &bangka_store::BindingRow) -> Self {
        AttemptFacts {
            issuer: Some(b.issuer.clone()),
            bin: Some(b.bin.clone()),
            last4: Some(b.last4.clone()),
            binding_id: Some(b.id.clone()),
            card_fp: Some(b.fingerprint.clone()),
            phone_masked: bangka_core::holder::Phone::parse(&b.phone).ok().map(|p| p.masked()),
        }
    }

    pub fn card(facts: &CardFacts, last4: &str, card_fp: String) -> Self {
        AttemptFacts {
            issuer: Some(facts.issuer.into()),
            bin: Some(facts.bin.into()),
            last4: Some(last4.into()),
            binding_id: None,
            card_fp: Some(card_fp),
            phone_masked: None,
        }
    }
}

pub async fn record_attempt(
    app: &AppState,
    account_id: &str,
    kind: &str,
    facts: &AttemptFacts,
    code: Option<ErrorCode>,
) -> ApiResult<String> {
    let row = attempt_row(app, account_id, kind, facts, code);
    app.store.record_attempt(&row).await?;
    Ok(row.id)
}

/// An attempt as recorded (and counted in the metrics): for a flow that
/// stages it in its write-set.
pub fn attempt_row(app: &AppState, account_id: &str, kind: &str, facts: &AttemptFacts, code: Option<ErrorCode>) -> AttemptRow {
    crate::metrics::attempt(kind, facts.issuer.as_deref(), code.map(|c| c.as_str()));
    // The holder session's device and IP, when the request came with one.
    let origin = crate::auth::current_origin();
    AttemptRow {
        id: new_id("att"),
        account_id: account_id.into(),
        kind: kind.into(),
        binding_id: facts.binding_id.clone(),
        issuer: facts.issuer.clone(),
        bin: facts.bin.clone(),
        last4: facts.last4.clone(),
        code: code.map(|c| c.as_str().into()),
        created_at: app.clock.now(),
        card_fp: facts.card_fp.clone(),
        device_id: origin.device_id,
        client_ip: origin.client_ip,
        phone_masked: facts.phone_masked.clone(),
        client: origin.client.map(|c| serde_json::json!(c)),
    }
}

/// Records a failed attempt, applies the risk rules, and returns the error
/// carrying the attempt id (so support and diagnosis can find it).
pub async fn failed(app: &AppState, account_id: &str, kind: &str, facts: &AttemptFacts, err: ApiError) -> ApiError {
    let code = err.code();
    let attempt = match record_attempt(app, account_id, kind, facts, Some(code)).await {
        Ok(id) => id,
        Err(e) => return e,
    };
    match risk::after_failure(app, account_id, code, facts, &attempt).await {
        Err(e) => e,
        // This failure locked something: say so now, with what caused it,
        // rather than invite another try that will be refused. The cause is
        // told in its safe form (only verification failures lock today, none
        // of them fraud-sensitive; this keeps it so if a rule ever counts one).
        Ok(Some((scope, until))) => {
            risk::locked(account_id, scope, until).with_detail("because", code.for_new_card().as_str()).with_attempt(&attempt)
        }
        Ok(None) => err.with_attempt(&attempt),
    }
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
        Some(until) => Err(risk::locked(&account.id, bangka_core::risk::Subject::Account, until)),
        None => Ok(()),
    }
}

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
/// arrive: digit by digit, twice, as voice-code services read them.
pub fn otp_voice(app: &AppState, otp: &Otp, last4: &str, account_id: &str, phone: &str) -> NewMessage {
    let spoken = otp.expose().chars().map(String::from).collect::<Vec<_>>().join(" ");
    let ttl = app.otp.ttl.whole_minutes();
    NewMessage {
        kind: MessageKind::Code { expires_at: app.clock.now() + app.otp.ttl, channel: CodeChannel::Voice },
        account_id: account_id.into(),
        phone: phone.into(),
        zh: format!(
            "您好，这里是 Bangka。您绑定尾号{last4}银行卡的验证码是：{spoken}。重复一遍：{spoken}。{ttl}分钟内有效，请勿告诉任何人。"
        ),
        en: format!(
            "Hello, this is Bangka. Your code to bind the card ending {last4} is: {spoken}. Again: {spoken}. It is valid for {ttl} minutes. Never share it."
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
