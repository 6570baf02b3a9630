//! Card activation through the wallet (seed 000: 未激活 → 激活): the issuer
//! checks the elements, the holder proves the reserved phone with an OTP,
//! the issuer activates the card. The PAN is kept sealed only until then.

use bangka_core::bin;
use bangka_core::bind::KycState;
use bangka_core::binding::ActivationStatus;
use bangka_core::card::Pan;
use bangka_core::holder::{HolderName, IdNumber, Phone};
use bangka_core::otp::{Otp, OtpPurpose};
use bangka_core::{ErrorCode, Failure};
use bangka_issuer::CardHolder;
use bangka_store::{ActivationFrom, ActivationRow, Cause, NewMessage, new_id};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::attempts::AttemptFacts;
use super::bind::issuer_failure;
use super::codes::{check_otp, new_challenge, otp_sms};
use super::risk::failed;
use super::standing::{check_standing, load_account};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::i18n::say;
use crate::state::AppState;
use crate::views::Answer;
use crate::views::{ActivationView, NextAction};

#[derive(Deserialize, ToSchema)]
pub struct ActivationBody {
    pub card_number: String,
    pub holder_name: String,
    pub id_number: String,
    pub phone: String,
}

/// Starts a activation. The card is not shown to be the caller's yet, so a
/// fraud-sensitive refusal is answered in its holder-safe form
/// ([`ErrorCode::for_new_card`]); the attempt keeps the bank's precise code.
pub async fn start(app: &AppState, account_id: &str, body: ActivationBody) -> ApiResult<Answer<ActivationView>> {
    begin(app, account_id, body).await.map_err(crate::error::ApiError::for_new_card)
}

async fn begin(app: &AppState, account_id: &str, body: ActivationBody) -> ApiResult<Answer<ActivationView>> {
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    let parsed = (|| -> Result<_, Failure> {
        let pan = Pan::parse(&body.card_number)?;
        let facts = bin::lookup(&pan)?;
        app.policy.check(&facts)?;
        Ok((pan, facts, HolderName::parse(&body.holder_name)?, IdNumber::parse(&body.id_number)?, Phone::parse(&body.phone)?))
    })();
    let (pan, facts, name, id, phone) = match parsed {
        Ok(p) => p,
        Err(f) => return Err(failed(app, account_id, "activate", &AttemptFacts::default(), f.into()).await),
    };
    let attempt_facts =
        AttemptFacts { phone_masked: Some(phone.masked()), ..AttemptFacts::card(&facts, pan.last4(), app.vault.fingerprint(&pan)) };
    let checks = async {
        match account.kyc {
            KycState::Unverified => return Err(ApiError::from(ErrorCode::KycRequired)),
            KycState::Rejected => return Err(ErrorCode::KycRejected.into()),
            KycState::Verified => {}
        }
        if account.kyc_name_mac.as_deref() != Some(&app.vault.kyc_name_mac(name.as_str())) {
            return Err(ErrorCode::HolderNameNotKycName.into());
        }
        if account.kyc_id_mac.as_deref() != Some(&app.vault.kyc_id_mac(id.expose())) {
            return Err(ErrorCode::HolderIdNotKycId.into());
        }
        check_standing(&account, now)?;
        if let Some(fp) = &attempt_facts.card_fp {
            super::risk::check_card_lock(app, account_id, fp).await?;
        }
        super::maintenance::check_issuer_open(app, facts.issuer).await?;
        let card = CardHolder { pan: &pan, holder_name: &name, id_number: &id, phone: &phone, expiry: None, cvv: None };
        app.bank().verify_for_activation(card).await.map_err(|f| issuer_failure(app, f))
    };
    if let Err(e) = checks.await {
        return Err(failed(app, account_id, "activate", &attempt_facts, e).await);
    }
    let vault_id = new_id("vc");
    let sealed = app.vault.seal_pan(&vault_id, &pan);
    let (challenge, otp) = new_challenge(app, OtpPurpose::Activate, phone.as_str());
    let activation = ActivationRow {
        id: new_id("act"),
        account_id: account_id.into(),
        vault_id: Some(vault_id),
        issuer: facts.issuer.into(),
        bin: facts.bin.into(),
        last4: pan.last4().into(),
        status: ActivationStatus::PendingVerification,
        challenge_id: challenge.id.clone(),
        created_at: now,
        updated_at: now,
        asked_bank_at: None,
    };
    let msg = otp_sms(app, OtpPurpose::Activate, &otp, pan.last4(), account_id, phone.as_str());
    app.store.create_activation(&activation, &sealed, &challenge, &msg, now).await?;
    app.store.stage_attempt(&super::attempts::attempt_row(app, account_id, "activate", &attempt_facts, None)).await?;
    // As written (its write-set may not be applied yet).
    let c = bangka_store::ChallengeRow::fresh(&challenge);
    Ok(Answer::accepted(ActivationView::new(&activation, Some(NextAction::otp(&c, &app.otp)))))
}

pub async fn get(app: &AppState, account_id: &str, activation_id: &str) -> ApiResult<Answer<ActivationView>> {
    let a = app.store.get_activation(account_id, activation_id).await?.ok_or(ErrorCode::NotFound)?;
    let next = if a.status == ActivationStatus::PendingVerification {
        app.store.get_challenge(&a.challenge_id).await?.map(|c| NextAction::otp(&c, &app.otp))
    } else {
        None
    };
    Ok(Answer::ok(ActivationView::new(&a, next)))
}

/// `POST …/activations/{aid}/otp/resend`: a new code after the cooldown,
/// by text or, for when texts do not arrive, by a call that reads it out
/// (the same cooldown, tries and expiry as the first).
pub async fn resend(
    app: &AppState,
    account_id: &str,
    activation_id: &str,
    body: super::bind::ResendBody,
) -> ApiResult<Answer<ActivationView>> {
    use bangka_core::otp::CodeChannel;
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    let a = app.store.get_activation(account_id, activation_id).await?.ok_or(ErrorCode::NotFound)?;
    let not_pending = || Failure::new(ErrorCode::ActivationNotPending).with_details(json!({ "status": a.status.as_str() }));
    if a.status != ActivationStatus::PendingVerification {
        return Err(not_pending().into());
    }
    check_standing(&account, now)?;
    let c = app.store.get_challenge(&a.challenge_id).await?.ok_or_else(not_pending)?;
    let phone = c.phone.clone();
    let resent = super::codes::resend_code(app, c, |otp| match body.channel.unwrap_or_default() {
        CodeChannel::Sms => otp_sms(app, OtpPurpose::Activate, otp, &a.last4, account_id, &phone),
        CodeChannel::Voice => super::codes::voice_code(
            app,
            otp,
            account_id,
            &phone,
            &format!("激活尾号{}银行卡", a.last4),
            &format!("activate the card ending {}", a.last4),
        ),
    })
    .await?;
    Ok(Answer::ok(ActivationView::new(&a, Some(NextAction::otp(&resent, &app.otp)))))
}

pub async fn confirm(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    activation_id: &str,
    otp: &str,
) -> ApiResult<Answer<ActivationView>> {
    let cause = Cause::api(who.actor());
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    let a = app.store.get_activation(account_id, activation_id).await?.ok_or(ErrorCode::NotFound)?;
    if a.status != ActivationStatus::PendingVerification {
        return Err(Failure::new(ErrorCode::ActivationNotPending).with_details(json!({ "status": a.status.as_str() })).into());
    }
    check_standing(&account, now)?;
    let facts = attempt_facts(app, &a).await?;
    if let Some(fp) = &facts.card_fp {
        super::risk::check_card_lock(app, account_id, fp).await?;
    }
    let otp = Otp::parse(otp)?;
    let c = app.store.get_challenge(&a.challenge_id).await?.ok_or(ErrorCode::ActivationNotPending)?;
    check_otp(app, account_id, "activate", &facts, &c, &otp, async || {
        app.store.finish_activation(&a, ActivationFrom::Pending, ActivationStatus::Failed, None, cause, now).await?;
        Ok(())
    })
    .await?;
    let pan = super::bank::kept_card_number(app, a.vault_id.as_deref()).await?.ok_or(ErrorCode::ActivationNotPending)?;
    // Written down and committed before the bank is asked (no transaction
    // stays open across the call): a crash or a lost answer leaves an
    // `activating` row that a retry or the job settles by asking the card's
    // state first. Two confirms at once: one asks the bank.
    if !app.store.begin_activating(&a, now).await? {
        return Err(ErrorCode::ActivationNotPending.into());
    }
    super::bank::checkpoint(app, &super::bank::Resume::Activate { account_id: account_id.into(), activation_id: activation_id.into() })
        .await?;
    ask_bank(app, &a, &facts, &pan, &c.phone, cause).await
}

/// The attempt's card facts, from the activation row.
async fn attempt_facts(app: &AppState, a: &ActivationRow) -> ApiResult<AttemptFacts> {
    let card_fp = match &a.vault_id {
        Some(v) => app.store.vault_fingerprint(v).await?,
        None => None,
    };
    Ok(AttemptFacts {
        issuer: Some(a.issuer.clone()),
        bin: Some(a.bin.clone()),
        last4: Some(a.last4.clone()),
        binding_id: None,
        card_fp,
        phone_masked: None,
    })
}

/// Asks the bank to activate an activation written down as `activating`
/// and answers from what it became.
async fn ask_bank(
    app: &AppState,
    a: &ActivationRow,
    facts: &AttemptFacts,
    pan: &Pan,
    phone: &str,
    cause: Cause<'_>,
) -> ApiResult<Answer<ActivationView>> {
    match app.bank().activate(pan).await {
        // Already activated (at an ATM, or by an order of ours that
        // arrived late): the card is activated all the same.
        Ok(()) => {}
        Err(f) if f.code == ErrorCode::CardAlreadyActivated => {}
        Err(f) if outcome_unknown(&f) => {
            tracing::warn!(activation_id = %a.id, "the bank's answer to an activation was lost; the job will ask");
            return answer(app, &a.account_id, &a.id).await;
        }
        Err(f) => {
            // The bank did not activate: the activation is pending again,
            // and the same code may be entered once more while it is valid.
            app.store.undo_activating(a, app.clock.now()).await?;
            return Err(failed(app, &a.account_id, "activate", facts, issuer_failure(app, f)).await);
        }
    }
    app.failpoint("activate.after_bank").await?;
    let notice = activated_notice(a, phone);
    let now = app.clock.now();
    if app.store.finish_activation(a, ActivationFrom::Activating, ActivationStatus::Activated, Some(&notice), cause, now).await? {
        app.store.stage_attempt(&super::attempts::attempt_row(app, &a.account_id, "activate", facts, None)).await?;
        // As decided (its write-set may not be applied yet).
        let done = ActivationRow { status: ActivationStatus::Activated, updated_at: now, ..a.clone() };
        return answer_for(app, done).await;
    }
    // Otherwise the job settled it first (an answer that came very late).
    answer(app, &a.account_id, &a.id).await
}

/// How long an activation the bank has not confirmed waits before the job
/// asks the bank about it (again).
pub const ASK_BANK_AFTER: time::Duration = bangka_core::payment::RETRY_OPS_AFTER;

/// How long after `activate` was last sent a card still "not activated"
/// may yet be activated by that order (the bank's window, and a minute).
pub use bangka_core::payment::ORDER_MAY_ARRIVE_FOR;

/// How long the job keeps asking about one activation before it stops,
/// shreds the card number and tells the holder to check with the bank.
pub const GIVE_UP_AFTER: time::Duration = time::Duration::hours(24);

/// Whether a failed bank call may have acted (its answer was lost and no
/// query settled it), so only asking later can tell.
fn outcome_unknown(f: &Failure) -> bool {
    f.code == ErrorCode::IssuerUnavailable && f.details.as_ref().is_some_and(|d| d["outcome"] == "unknown")
}

fn activated_notice(a: &ActivationRow, phone: &str) -> NewMessage {
    super::notices::notice(
        &a.account_id,
        phone,
        &a.last4,
        "已激活，现在可以绑定到钱包。",
        "is now activated and can be bound to your wallet.",
    )
}

/// The answer to a confirm, from what the activation became: activated
/// (with the next step: bind it), still waiting for the bank (202, with
/// when to look again), or as it is.
async fn answer(app: &AppState, account_id: &str, activation_id: &str) -> ApiResult<Answer<ActivationView>> {
    let done = app.store.get_activation(account_id, activation_id).await?.ok_or(ErrorCode::NotFound)?;
    answer_for(app, done).await
}

/// As [`answer`], for the activation as it is (or as this request made it).
async fn answer_for(app: &AppState, done: ActivationRow) -> ApiResult<Answer<ActivationView>> {
    let (account_id, activation_id) = (done.account_id.as_str(), done.id.as_str());
    match done.status {
        ActivationStatus::Activated => {
            let hint = say("卡片已激活：现在可以用同一张卡绑定到钱包。", "The card is activated: bind the same card to your wallet now.");
            let next = crate::views::ActivationStepView {
                kind: "bind".into(),
                hint: hint.get(crate::i18n::current()).into(),
                developer: crate::views::Link::post(format!("/v1/accounts/{account_id}/bindings")),
            };
            Ok(Answer::ok(ActivationView { next_steps: Some(vec![next]), ..ActivationView::new(&done, None) }))
        }
        ActivationStatus::Activating => Ok(Answer::accepted(ActivationView::new(&done, None))),
        _ => get(app, account_id, activation_id).await,
    }
}

/// Finishes a confirm a crash interrupted after the activation was written
/// down (the retry of the same request): the card's state is asked first
/// — a question that never acts. Not activated: `activate` is sent again,
/// claimed and timed first so the job cannot decide on what came before (a
/// card is activated once whatever arrives, so this cannot act twice).
/// Activated: so it ends. No answer: as a lost answer (the job settles it).
pub(super) async fn resume(app: &AppState, who: &Principal, account_id: &str, activation_id: &str) -> ApiResult<Answer<ActivationView>> {
    let cause = Cause::api(who.actor());
    let a = app.store.get_activation(account_id, activation_id).await?.ok_or(ErrorCode::NotFound)?;
    if a.status != ActivationStatus::Activating {
        return answer(app, account_id, activation_id).await;
    }
    let (Some(pan), Some(c)) =
        (super::bank::kept_card_number(app, a.vault_id.as_deref()).await?, app.store.get_challenge(&a.challenge_id).await?)
    else {
        return answer(app, account_id, activation_id).await;
    };
    if let CardState::NotActivated = card_state(app, &a, &pan).await
        && app.store.claim_activation_resend(&a, app.clock.now()).await?
    {
        // The claim is committed before the bank is asked again.
        super::bank::checkpoint(app, &super::bank::Resume::Activate { account_id: account_id.into(), activation_id: activation_id.into() })
            .await?;
        return ask_bank(app, &a, &attempt_facts(app, &a).await?, &pan, &c.phone, cause).await;
    }
    settle(app, &a, &pan, &c.phone, cause, app.clock.now()).await?;
    answer(app, account_id, activation_id).await
}

/// What the bank says of a card whose activation was asked for.
enum CardState {
    /// Activated (usable, or limited only by its online settings).
    Activated,
    /// Still not activated.
    NotActivated,
    /// In a state that says nothing of the activation (frozen, lost,
    /// closed, expired, unknown to the bank): only the bank can tell.
    Other(ErrorCode),
    /// The bank did not answer.
    Unknown,
}

/// Asks the bank the card's state (a question that never acts).
async fn card_state(app: &AppState, a: &ActivationRow, pan: &Pan) -> CardState {
    match app.bank().card_status(pan).await {
        Ok(()) => CardState::Activated,
        Err(f) if matches!(f.code, ErrorCode::OnlinePaymentsDisabled | ErrorCode::IssuerRestricted) => CardState::Activated,
        Err(f) if f.code == ErrorCode::CardNotActivated => CardState::NotActivated,
        Err(f) if super::bank::bank_not_answering(f.code) => {
            tracing::warn!(activation_id = %a.id, code = f.code.as_str(), "activation still unconfirmed by the issuer");
            CardState::Unknown
        }
        Err(f) => CardState::Other(f.code),
    }
}

/// Settles an activation left `activating` from the card's state at the
/// bank, texting the holder. True when it ended.
async fn settle(app: &AppState, a: &ActivationRow, pan: &Pan, phone: &str, cause: Cause<'_>, now: time::OffsetDateTime) -> ApiResult<bool> {
    let notice = |zh: &str, en: &str| super::notices::notice(&a.account_id, phone, &a.last4, zh, en);
    let (from, status, notice) = match card_state(app, a, pan).await {
        CardState::Activated => (ActivationFrom::Activating, ActivationStatus::Activated, activated_notice(a, phone)),
        // Only once no order sent earlier can still arrive: a late one
        // would activate the card after we said it was not.
        CardState::NotActivated if a.asked_bank_at.is_none_or(|at| now - at > ORDER_MAY_ARRIVE_FOR) => (
            ActivationFrom::AskedAt(a.asked_bank_at),
            ActivationStatus::Failed,
            notice(
                "未能激活：银行没有完成激活。请在钱包中重新激活，或拨打卡片背面的银行客服电话。",
                "was not activated: the bank did not complete it. Start the activation again in the wallet, or call the number on the back of the card.",
            ),
        ),
        CardState::Other(code) => (
            ActivationFrom::AskedAt(a.asked_bank_at),
            ActivationStatus::Failed,
            notice(
                "未能确认已激活，且银行显示这张卡目前无法使用。请拨打卡片背面的银行客服电话确认。",
                &format!(
                    "could not be confirmed as activated, and the bank shows it cannot be used now ({}). Call the number on the back of the card.",
                    code.as_str()
                ),
            ),
        ),
        CardState::NotActivated | CardState::Unknown if now - a.created_at > GIVE_UP_AFTER => (
            ActivationFrom::AskedAt(a.asked_bank_at),
            ActivationStatus::Failed,
            notice(
                "一直未能向银行确认是否已激活。请拨打卡片背面的银行客服电话确认；如未激活，可在钱包中重新激活。",
                "could not be confirmed with the bank as activated. Call the number on the back of the card to check; if it is not activated, start again in the wallet.",
            ),
        ),
        CardState::NotActivated | CardState::Unknown => return Ok(false),
    };
    let ended = app.store.finish_activation(a, from, status, Some(&notice), cause, now).await?;
    if ended {
        tracing::info!(activation_id = %a.id, status = status.as_str(), "unconfirmed activation settled by asking the issuer");
    }
    Ok(ended)
}

/// The job: activations the bank was asked to make without a definite
/// answer (a lost answer, a crash) are settled by asking the bank the
/// card's state — a question that never acts — every [`ASK_BANK_AFTER`],
/// until it answers, for at most [`GIVE_UP_AFTER`]. The holder is texted.
pub async fn resolve_unconfirmed(app: &AppState) -> ApiResult<u64> {
    let now = app.clock.now();
    let mut settled = 0;
    for a in app.store.unconfirmed_activations(now - ASK_BANK_AFTER, 50).await? {
        if !app.store.claim_activation_check(&a, now).await? {
            continue;
        }
        let pan = super::bank::kept_card_number(app, a.vault_id.as_deref()).await?;
        let Some(c) = app.store.get_challenge(&a.challenge_id).await? else {
            tracing::error!(activation_id = %a.id, "an activation waiting for the bank has no challenge");
            continue;
        };
        let ended = match pan {
            Some(pan) => settle(app, &a, &pan, &c.phone, Cause::job(), now).await?,
            None => {
                // Its card number is gone: nothing can be asked any more.
                let notice = super::notices::notice(
                    &a.account_id,
                    &c.phone,
                    &a.last4,
                    "未能向银行确认是否已激活。请拨打卡片背面的银行客服电话确认；如未激活，可在钱包中重新激活。",
                    "could not be confirmed with the bank as activated. Call the number on the back of the card to check; if it is not activated, start again in the wallet.",
                );
                let from = ActivationFrom::AskedAt(a.asked_bank_at);
                app.store.finish_activation(&a, from, ActivationStatus::Failed, Some(&notice), Cause::job(), now).await?
            }
        };
        settled += u64::from(ended);
    }
    Ok(settled)
}
