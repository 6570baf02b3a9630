//! The bind flow (SPEC "The bind flow"): local checks → issuer checks → OTP →
//! active binding with a vaulted PAN and a token.

use bangka_core::bin::TOKEN_BIN;
use bangka_core::bind::{AccountFacts, BindRequest, RawCardHolder, check_account};
use bangka_core::binding::BindingStatus;
use bangka_core::card::luhn_check_digit;
use bangka_core::otp::{CodeChannel, Otp, OtpPurpose};
use bangka_core::{ErrorCode, Failure};
use bangka_issuer::CardHolder;
use bangka_store::{ActivateOutcome, BindingRow, Cause, NewPendingBinding, NewToken, PendingOutcome, Trail, new_id};
use rand::Rng;
use serde::Deserialize;
use serde_json::json;
use time::Duration;
use utoipa::ToSchema;

use super::attempts::{AttemptFacts, record_attempt};
use super::codes::{check_otp, new_challenge, otp_sms};
use super::notices::receipt_draft;
use super::risk::failed;
use super::standing::{check_standing, load_account};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::Answer;
use crate::views::{BindingView, NextAction};

/// `POST /v1/accounts/{id}/bindings`. Credit cards also need `expiry`
/// (`MM/YY`) and `cvv`; the CVV is passed to the issuer once and never stored.
#[derive(Deserialize, ToSchema)]
pub struct BindBody {
    pub card_number: String,
    pub holder_name: String,
    pub id_number: String,
    pub phone: String,
    pub expiry: Option<String>,
    pub cvv: Option<String>,
    /// Needed only when a risk rule asks for it (`RISK_STEP_UP_REQUIRED`).
    pub payment_password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct OtpBody {
    pub otp: String,
}

/// Starts a bind. The card is not shown to be the caller's yet, so a
/// fraud-sensitive refusal is answered in its holder-safe form
/// ([`ErrorCode::for_new_card`]); the attempt keeps the bank's precise code.
pub async fn start(app: &AppState, who: &Principal, account_id: &str, body: BindBody) -> ApiResult<Answer<BindingView>> {
    begin(app, who, account_id, body).await.map_err(crate::error::ApiError::for_new_card)
}

async fn begin(app: &AppState, who: &Principal, account_id: &str, body: BindBody) -> ApiResult<Answer<BindingView>> {
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    let raw = RawCardHolder {
        card_number: &body.card_number,
        holder_name: &body.holder_name,
        id_number: &body.id_number,
        phone: &body.phone,
        expiry: body.expiry.as_deref(),
        cvv: body.cvv.as_deref(),
    };
    let req = match BindRequest::parse(raw, &app.policy, now) {
        Ok(r) => r,
        Err(f) => return Err(failed(app, account_id, "bind", &AttemptFacts::default(), f.into()).await),
    };
    let facts = AttemptFacts {
        phone_masked: Some(req.phone.masked()),
        ..AttemptFacts::card(&req.facts, req.pan.last4(), app.vault.fingerprint(&req.pan))
    };
    let superseding = match check_and_verify(app, &account, &req, body.payment_password.as_deref()).await {
        Ok(Checked::Waiting(existing)) => {
            let attempt =
                record_attempt(app, account_id, "bind", &AttemptFacts { binding_id: Some(existing.id.clone()), ..facts }, None).await?;
            return Ok(Answer::accepted(pending_view(app, &existing, Some(attempt)).await?));
        }
        Ok(Checked::New { superseding }) => superseding,
        Err(e) => return Err(failed(app, account_id, "bind", &facts, offer_activation(e, account_id)).await),
    };

    let binding_id = new_id("bnd");
    let vault_id = new_id("vc");
    let sealed = app.vault.seal_pan(&vault_id, &req.pan);
    let (challenge, otp) = new_challenge(app, OtpPurpose::Bind, req.phone.as_str());
    let binding = BindingRow {
        id: binding_id.clone(),
        account_id: account_id.into(),
        fingerprint: sealed.fingerprint.clone(),
        vault_id: Some(vault_id),
        bin: req.facts.bin.into(),
        last4: req.pan.last4().into(),
        brand: req.facts.brand.as_str().into(),
        card_type: req.facts.card_type.as_str().into(),
        issuer: req.facts.issuer.into(),
        expiry: req.expiry.map(|e| e.as_mm_yy()),
        phone: req.phone.as_str().into(),
        elements_mac: elements_mac(app, &req),
        status: BindingStatus::PendingVerification,
        challenge_id: Some(challenge.id.clone()),
        created_at: now,
        updated_at: now,
        activated_at: None,
        frozen_reason: None,
        frozen_at: None,
    };
    let message = otp_sms(app, OtpPurpose::Bind, &otp, req.pan.last4(), account_id, req.phone.as_str());
    let new = NewPendingBinding {
        binding: &binding,
        sealed: &sealed,
        challenge: &challenge,
        message: &message,
        limit: app.policy.binding_limit,
        cause: Cause::api(who.actor()),
        now,
    };
    let with_binding = |id: &str| AttemptFacts { binding_id: Some(id.to_owned()), ..facts.clone() };
    // Decided: a new card for this account, room under the limit, no
    // attempt of this card to end first. The write-set holds that as its
    // guard; if it no longer holds at the apply, nothing is written and
    // the request decides again on the unit path below.
    if !superseding && app.store.defers().await {
        app.store.stage_pending_binding(new, (&account.language, account.email.as_deref())).await?;
        let attempt = super::attempts::attempt_row(app, account_id, "bind", &with_binding(&binding_id), None);
        app.store.stage_attempt(&attempt).await?;
        tracing::info!(binding_id, issuer = req.facts.issuer, card = %req.pan.masked(), "bind pending verification");
        let next = NextAction::otp(&bangka_store::ChallengeRow::fresh(&challenge), &app.otp);
        return Ok(Answer::accepted(BindingView::new(&binding, None, Some(next), Some(attempt.id))));
    }
    let outcome = app.store.create_pending_binding(new).await?;
    match outcome {
        PendingOutcome::Created => {
            let attempt = record_attempt(app, account_id, "bind", &with_binding(&binding_id), None).await?;
            tracing::info!(binding_id, issuer = req.facts.issuer, card = %req.pan.masked(), "bind pending verification");
            Ok(Answer::accepted(pending_view(app, &binding, Some(attempt)).await?))
        }
        PendingOutcome::Existing(b) => {
            let attempt = record_attempt(app, account_id, "bind", &with_binding(&b.id), None).await?;
            Ok(Answer::accepted(pending_view(app, &b, Some(attempt)).await?))
        }
        PendingOutcome::Duplicate(id) => {
            let e = Failure::new(ErrorCode::CardAlreadyBound).with_details(json!({ "binding_id": id }));
            Err(failed(app, account_id, "bind", &facts, e.into()).await)
        }
        PendingOutcome::LimitReached(cards) => {
            let e = Failure::new(ErrorCode::BindingLimitReached).with_details(json!({ "limit": app.policy.binding_limit, "cards": cards }));
            Err(failed(app, account_id, "bind", &facts, e.into()).await)
        }
    }
}

/// A card that is not activated can be activated right here: the error says
/// where, so the wallet can offer it as the next step.
fn offer_activation(e: ApiError, account_id: &str) -> ApiError {
    match e {
        ApiError::Domain { failure, attempt_id } if failure.code == ErrorCode::CardNotActivated => {
            let failure = failure.with_details(json!({
                "activation": { "method": "POST", "path": format!("/v1/accounts/{account_id}/activations"), "fields": ["card_number", "holder_name", "id_number", "phone"] }
            }));
            ApiError::Domain { failure, attempt_id }
        }
        other => other,
    }
}

/// A keyed hash of the elements as typed: an identical repeat of a pending
/// bind reuses it instead of asking the issuer (and the SMS gateway) again.
fn elements_mac(app: &AppState, req: &BindRequest) -> String {
    elements_mac_of(&app.vault, req)
}

/// The keyed hash of a bind's elements (see [`elements_mac`]).
pub fn elements_mac_of(vault: &bangka_store::Vault, req: &BindRequest) -> String {
    let expiry = req.expiry.map(|e| e.as_mm_yy()).unwrap_or_default();
    vault.mac("bind-elements", &[req.holder_name.as_str(), req.id_number.expose(), req.phone.as_str(), &expiry])
}

/// What the checks found, when they pass.
enum Checked {
    /// An identical pending binding already waits for its code.
    Waiting(Box<BindingRow>),
    /// The card may be bound; `superseding`: an earlier attempt of it,
    /// pending with other elements or a spent code, ends first.
    New { superseding: bool },
}

/// Account-side checks, then the issuer.
async fn check_and_verify(
    app: &AppState,
    account: &bangka_store::AccountRow,
    req: &BindRequest,
    password: Option<&str>,
) -> ApiResult<Checked> {
    let now = app.clock.now();
    let fingerprint = app.vault.fingerprint(&req.pan);
    let name_matches = account.kyc_name_mac.as_deref() == Some(&app.vault.kyc_name_mac(req.holder_name.as_str()));
    let id_matches = account.kyc_id_mac.as_deref() == Some(&app.vault.kyc_id_mac(req.id_number.expose()));
    let live = app.store.live_cards(&account.id).await?;
    let duplicate = app.store.live_binding_for_card(&account.id, &fingerprint).await?;
    let maintenance = super::maintenance::maintenance_until(app, req.facts.issuer, now).await?;
    // Frozen or locked first, with the way out in the details; a locked
    // account is told the longest of the locks this bind meets.
    if let Err(e) = check_standing(account, now) {
        if e.code() == ErrorCode::RiskLocked
            && let Some((per, until)) = super::risk::longest_bind_lock(app, account, &fingerprint, now).await?
        {
            return Err(super::risk::locked(&account.id, per, until));
        }
        return Err(e);
    }
    check_account(
        &AccountFacts {
            status: account.status,
            kyc: account.kyc,
            name_matches_kyc: name_matches,
            id_matches_kyc: id_matches,
            live_cards: &live,
            duplicate_of: duplicate.as_deref(),
            locked_until: account.locked_until,
            issuer_maintenance_until: maintenance.as_ref().map(|(until, _)| *until),
        },
        &app.policy,
        now,
    )
    .map_err(|f| match &maintenance {
        // The core decides that maintenance is the answer; the window says
        // which (the bank's or the whole platform's), until when and why.
        Some((_, window)) if f.code == ErrorCode::IssuerMaintenance => window.failure(req.facts.issuer),
        _ => f,
    })?;
    let step_up = super::risk::before_bind(app, account, &fingerprint, password).await?;
    let pending = app.store.pending_binding_for_card(&account.id, &fingerprint).await?;
    if let Some(p) = pending.as_ref()
        && p.elements_mac == elements_mac(app, req)
        && challenge_usable(app, p).await?
    {
        if let Some(s) = step_up {
            s.record(app, &account.id).await?;
        }
        return Ok(Checked::Waiting(Box::new(pending.expect("just matched"))));
    }
    let card = CardHolder {
        pan: &req.pan,
        holder_name: &req.holder_name,
        id_number: &req.id_number,
        phone: &req.phone,
        expiry: req.expiry.as_ref(),
        cvv: req.cvv.as_ref(),
    };
    let verified = app.bank().verify_for_binding(card).await;
    if let Some(s) = step_up {
        s.record(app, &account.id).await?;
    }
    verified.map_err(|f| issuer_failure(app, f))?;
    Ok(Checked::New { superseding: pending.is_some() })
}

async fn challenge_usable(app: &AppState, b: &BindingRow) -> ApiResult<bool> {
    let Some(cid) = &b.challenge_id else { return Ok(false) };
    let now = app.clock.now();
    Ok(app
        .store
        .get_challenge(cid)
        .await?
        .is_some_and(|c| !c.challenge.passed && c.challenge.expires_at > now && c.challenge.attempts < app.otp.max_attempts))
}

/// An issuer that failed to answer gets a concrete retry time.
pub fn issuer_failure(app: &AppState, f: Failure) -> ApiError {
    if f.code == ErrorCode::IssuerUnavailable && f.retry_after.is_none() {
        return f.retry_at(app.clock.now() + Duration::seconds(30)).into();
    }
    f.into()
}

async fn pending_view(app: &AppState, b: &BindingRow, attempt: Option<String>) -> ApiResult<BindingView> {
    let next = match &b.challenge_id {
        Some(cid) => app.store.get_challenge(cid).await?.map(|c| NextAction::otp(&c, &app.otp)),
        None => None,
    };
    Ok(BindingView::new(b, None, next, attempt))
}

/// The binding as its holder sees it (with the code it waits for, if pending).
pub async fn binding_view(app: &AppState, b: &BindingRow) -> ApiResult<BindingView> {
    binding_view_reported(app, b, None).await
}

/// As [`binding_view`], for a card whose lost report this request just
/// ended as `reported` (its write-set may not be applied yet).
pub async fn binding_view_reported(app: &AppState, b: &BindingRow, reported: Option<bangka_store::LostReport>) -> ApiResult<BindingView> {
    if b.status == BindingStatus::PendingVerification {
        return pending_view(app, b, None).await;
    }
    let token = app.store.token_for_binding(&b.id).await?;
    with_state_details(app, b, BindingView::new(b, token.as_ref(), None, None), reported).await
}

/// As [`binding_view`], with the binding's token already read (or as a flow just
/// decided it).
pub async fn view_with(app: &AppState, b: &BindingRow, token: Option<&bangka_store::TokenRow>) -> ApiResult<BindingView> {
    if b.status == BindingStatus::PendingVerification {
        return pending_view(app, b, None).await;
    }
    binding_view_with(app, b, token).await
}

/// As [`binding_view`], for a card past its verification with its token
/// already in hand.
pub async fn binding_view_with(app: &AppState, b: &BindingRow, token: Option<&bangka_store::TokenRow>) -> ApiResult<BindingView> {
    with_state_details(app, b, BindingView::new(b, token, None, None), None).await
}

/// What the card's state needs said beside it (one more read, for such
/// cards only): an unbind in its cooling-off shows when that ends and how to
/// take it back (issue 29: the wallet said the cooling-off was over while a
/// day remained); a card frozen as lost or stolen shows whether its bank
/// has the report yet, and, until it does, what the holder can do meanwhile.
async fn with_state_details(
    app: &AppState,
    b: &BindingRow,
    mut v: BindingView,
    reported: Option<bangka_store::LostReport>,
) -> ApiResult<BindingView> {
    if b.status == BindingStatus::Unbinding {
        if let Some(ends) = app.store.latest_unbind_request(&b.id).await?.and_then(|r| r.cooling_off_ends_at) {
            v.cooling_off_ends_at = Some(crate::views::Timestamp(ends));
            v.revoke = Some(crate::views::Link::post(format!("/v1/accounts/{}/bindings/{}/unbind/revoke", b.account_id, b.id)));
        }
        return Ok(v);
    }
    if b.status != BindingStatus::Frozen || !b.frozen_reason.is_some_and(bangka_core::binding::FreezeReason::reports_to_issuer) {
        return Ok(v);
    }
    // Cards frozen as lost before reports were written down have no row:
    // nothing is claimed either way.
    let report = match reported {
        Some(r) => r,
        None => match app.store.lost_report(&b.id).await? {
            Some(r) => r,
            None => return Ok(v),
        },
    };
    v.issuer_notified = Some(report == bangka_store::LostReport::Confirmed);
    let advice = match report {
        bangka_store::LostReport::Confirmed => None,
        bangka_store::LostReport::Pending => Some(crate::i18n::say(
            "暂时还未能通知发卡银行：卡片已在钱包中冻结，无法付款；我们会继续通知银行，银行确认后短信告诉您。如需立即挂失，请拨打卡片背面的银行客服电话。",
            "The bank has not been told yet: the card is frozen in the wallet and cannot pay; we keep telling the bank and will text you when it confirms. To report it to the bank at once, call the number on the back of the card.",
        )),
        bangka_store::LostReport::Dropped => Some(crate::i18n::say(
            "未能替您向发卡银行挂失：卡片已在钱包中冻结，无法付款。请立即拨打卡片背面的银行客服电话挂失。",
            "We could not report the card lost to the bank for you: it is frozen in the wallet and cannot pay. Call the number on the back of the card now to report it.",
        )),
    };
    v.issuer_advice = advice.map(|a| a.get(crate::i18n::current()).to_owned());
    Ok(v)
}

/// The code a pending binding waits for; `BINDING_NOT_PENDING` otherwise.
async fn pending_challenge(app: &AppState, b: &BindingRow) -> ApiResult<bangka_store::ChallengeRow> {
    if b.status != BindingStatus::PendingVerification {
        return Err(Failure::new(ErrorCode::BindingNotPending).with_details(json!({ "status": b.status.as_str() })).into());
    }
    let cid = b.challenge_id.clone().ok_or(ErrorCode::BindingNotPending)?;
    Ok(app.store.get_challenge(&cid).await?.ok_or(ErrorCode::BindingNotPending)?)
}

/// `POST …/bindings/{bid}/otp/resend`.
#[derive(Deserialize, ToSchema, Default)]
pub struct ResendBody {
    /// `sms` (default), or `voice`: a call reads the code out, for when texts
    /// do not arrive. The same cooldown, tries and expiry apply.
    #[schema(value_type = Option<String>, example = "voice")]
    #[serde(default)]
    pub channel: Option<CodeChannel>,
}

/// `POST …/bindings/{bid}/otp/resend`: a new code after the cooldown, by
/// text or by a call.
pub async fn resend(app: &AppState, account_id: &str, binding_id: &str, body: ResendBody) -> ApiResult<Answer<BindingView>> {
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    let ready = async {
        check_standing(&account, now)?;
        let c = pending_challenge(app, &b).await?;
        let phone = c.phone.clone();
        super::codes::resend_code(app, c, |otp| match body.channel.unwrap_or_default() {
            CodeChannel::Sms => otp_sms(app, OtpPurpose::Bind, otp, &b.last4, &b.account_id, &phone),
            CodeChannel::Voice => super::codes::otp_voice(app, otp, &b.last4, &b.account_id, &phone),
        })
        .await
    };
    let resent = match ready.await {
        Ok(c) => c,
        // A refused resend (tries used up, too soon) counts as an attempt;
        // a store that failed is not the holder's attempt.
        Err(e @ ApiError::Domain { .. }) => return Err(failed(app, account_id, "resend", &AttemptFacts::binding(&b), e).await),
        Err(e) => return Err(e),
    };
    Ok(Answer::ok(BindingView::new(&b, None, Some(NextAction::otp(&resent, &app.otp)), None)))
}

/// `POST …/bindings/{bid}/confirm`: the OTP makes the binding active and
/// issues its token, in one transaction.
pub async fn confirm(app: &AppState, who: &Principal, account_id: &str, binding_id: &str, body: OtpBody) -> ApiResult<Answer<BindingView>> {
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    let facts = AttemptFacts::binding(&b);
    // Every refusal of an existing binding's confirm is an attempt support can find.
    let ready = async {
        let c = pending_challenge(app, &b).await?;
        check_standing(&account, now)?;
        super::risk::check_card_lock(app, account_id, &b.fingerprint).await?;
        Ok::<_, ApiError>((c, Otp::parse(&body.otp)?))
    };
    let (c, otp) = match ready.await {
        Ok(r) => r,
        Err(e) => return Err(failed(app, account_id, "confirm", &facts, e).await),
    };
    check_otp(app, account_id, "confirm", &facts, &c, &otp, async || {
        Ok(app.store.fail_pending_binding(&b, Cause::api(who.actor()).with_note("the code's tries are used up"), now).await?)
    })
    .await?;
    let notice = super::notices::notice(
        account_id,
        &c.phone,
        &b.last4,
        "已成功绑定。如非本人操作，请立即冻结该卡并联系客服。",
        "is now bound to your wallet. If this was not you, freeze the card and contact support.",
    );
    let receipt = receipt_draft(
        app,
        "bind",
        &b,
        json!({ "phone_masked": bangka_core::holder::Phone::parse(&b.phone).map(|p| p.masked()).unwrap_or_default() }),
    );
    // Decided: the binding as read is pending and the account has room; the
    // write-set holds that as its guard (and a token number drawn taken
    // meanwhile refuses it): refused, the request decides again below.
    if app.store.defers().await {
        let id = new_id("tok");
        let key_sealed = app.vault.new_token_key(&id);
        let token = NewToken { id, number: new_token_number(), domain: token_domain(who), key_sealed };
        let trail = Trail { cause: Cause::api(who.actor()), receipt: &receipt };
        let to = (account.language.as_str(), account.email.as_deref());
        let (active, token) = app.store.stage_activation(&b, &token, &notice, to, app.policy.binding_limit, trail, now).await?;
        app.store.stage_attempt(&super::attempts::attempt_row(app, account_id, "confirm", &facts, None)).await?;
        tracing::info!(binding_id = %b.id, issuer = %b.issuer, "binding active");
        return Ok(Answer::ok(view_with(app, &active, Some(&token)).await?));
    }
    // Token numbers are drawn at random (10^9 per BIN); a number already in
    // use rolls the activation back and another is drawn.
    let mut draws = 0;
    loop {
        let id = new_id("tok");
        let key_sealed = app.vault.new_token_key(&id);
        let token = NewToken { id, number: new_token_number(), domain: token_domain(who), key_sealed };
        match app
            .store
            .activate_binding(
                &b,
                &token,
                &notice,
                app.policy.binding_limit,
                Trail { cause: Cause::api(who.actor()), receipt: &receipt },
                now,
            )
            .await?
        {
            ActivateOutcome::Activated => break,
            ActivateOutcome::TokenNumberTaken if draws < 8 => draws += 1,
            ActivateOutcome::TokenNumberTaken => return Err(anyhow::anyhow!("no free token number after {draws} draws").into()),
            ActivateOutcome::NotPending => {
                return Err(failed(app, account_id, "confirm", &facts, ErrorCode::BindingNotPending.into()).await);
            }
            ActivateOutcome::LimitReached(cards) => {
                let e =
                    Failure::new(ErrorCode::BindingLimitReached).with_details(json!({ "limit": app.policy.binding_limit, "cards": cards }));
                return Err(failed(app, account_id, "confirm", &facts, e.into()).await);
            }
        }
    }
    record_attempt(app, account_id, "confirm", &facts, None).await?;
    tracing::info!(binding_id = %b.id, issuer = %b.issuer, "binding active");
    let active = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    Ok(Answer::ok(binding_view(app, &active).await?))
}

/// The domain a token is provisioned for: the wallet (API key) that bound
/// the card. Only that wallet can ask for its cryptograms.
pub fn token_domain(who: &Principal) -> String {
    format!("wallet:{}", who.key_id)
}

/// A Luhn-valid 16-digit token number from the token BIN.
pub fn new_token_number() -> String {
    let mut rng = rand::rngs::OsRng;
    let body: String = (0..9).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect();
    let payload = format!("{TOKEN_BIN}{body}");
    format!("{payload}{}", luhn_check_digit(&payload))
}

/// The amount of the small test authorization (小额测试): 0.01 CNY.
pub const TEST_AUTHORIZATION_FEN: i64 = 1;

/// `POST …/bindings/{bid}/test-authorization`: authorizes 0.01 CNY on the
/// bound card and voids it at once, to tell the holder plainly whether the
/// card can pay online (seed 000: "激活卡片后先小额测试一次"). A decline is the
/// answer, not an error; only a test that could not run (the bank is down or
/// in maintenance) is an error, with its retry time.
pub async fn test_authorization(
    app: &AppState,
    account_id: &str,
    binding_id: &str,
) -> ApiResult<Answer<crate::views::TestAuthorizationView>> {
    load_account(app, account_id).await?;
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(ErrorCode::NotFound)?;
    if b.status != BindingStatus::Active {
        return Err(Failure::new(ErrorCode::BindingNotActive).with_details(json!({ "status": b.status.as_str() })).into());
    }
    let facts = AttemptFacts::binding(&b);
    let vault_id = b.vault_id.clone().ok_or(ErrorCode::BindingNotActive)?;
    let sealed = app.store.get_sealed(&vault_id).await?.ok_or(ErrorCode::BindingNotActive)?;
    let pan = app.vault.open_pan(&sealed)?;
    let reference = new_id("tst");
    let outcome = match app.bank().authorize(&pan, TEST_AUTHORIZATION_FEN, &reference).await {
        Ok(_) => {
            // The hold is released at once; a failed void is retried by the
            // bank's own expiry of holds, so it is logged, not shown.
            if let Err(f) = app.bank().void(&reference).await {
                tracing::warn!(binding_id, code = f.code.as_str(), "voiding the test authorization failed");
            }
            Ok(())
        }
        Err(f) if matches!(f.code, ErrorCode::IssuerUnavailable | ErrorCode::IssuerMaintenance) => {
            return Err(failed(app, account_id, "test_authorization", &facts, issuer_failure(app, f)).await);
        }
        Err(f) => Err(f.code),
    };
    let attempt = super::attempts::attempt_row(app, account_id, "test_authorization", &facts, outcome.err());
    app.store.stage_attempt(&attempt).await?;
    let attempt = attempt.id;
    // The card is active, so the holder did not report it: a lost or
    // stolen mark is the bank's, and shown in its safe form.
    let lang = crate::i18n::current();
    let reason = outcome.err().map(|code| {
        let code = code.for_holder(false);
        let e = code.entry();
        crate::views::TestAuthorizationReason {
            code: code.as_str().into(),
            message: e.message.get(lang).into(),
            remediation: e.remediation.iter().map(|t| t.get(lang).to_owned()).collect(),
            doc_url: format!("/help/errors/{}", code.as_str()),
        }
    });
    let v = crate::views::TestAuthorizationView {
        binding_id: b.id,
        amount: crate::views::AmountView { minor: TEST_AUTHORIZATION_FEN, currency: "CNY".into() },
        voided: outcome.is_ok(),
        can_pay_online: outcome.is_ok(),
        attempt_id: attempt,
        reason,
    };
    Ok(Answer::ok(v))
}

#[cfg(test)]
mod tests {
    #[test]
    fn token_numbers_are_luhn_valid_and_not_card_bins() {
        for _ in 0..100 {
            let t = super::new_token_number();
            assert_eq!(t.len(), 16);
            assert!(bangka_core::card::luhn_valid(&t));
            let pan = bangka_core::card::Pan::parse(&t).unwrap();
            assert_eq!(bangka_core::bin::lookup(&pan).unwrap_err(), bangka_core::ErrorCode::CardBinUnknown);
        }
    }
}
