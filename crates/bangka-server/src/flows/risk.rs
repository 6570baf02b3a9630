//! The risk engine at work: after each failure, the velocity rules that
//! count it lock their subject at the threshold; before each bind, locks on
//! the card, device and IP are checked and the distinct-card and
//! distinct-account rules may ask for the payment password (step-up) or a
//! human review. Every decision is recorded with the rule that fired, and
//! support lifts locks through the ops API.
//!
//! The rules are `bangka_core::risk` (pure, loaded from `--risk-rules`).

use bangka_core::holder::PaymentPassword;
use bangka_core::risk::{Outcome, Signal, Subject};
use bangka_core::{ErrorCode, Failure};
use bangka_store::{AccountRow, Cause, Firing};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::attempts::AttemptFacts;
use super::standing::load_account;
use crate::auth::{Duty, OpsAuth, current_origin};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::Answer;
use crate::views::Timestamp;

/// The subject's value for a rule, when the request has it.
fn subject_value<'a>(
    per: Subject,
    account_id: &'a str,
    card_fp: Option<&'a str>,
    device: Option<&'a str>,
    ip: Option<&'a str>,
) -> Option<&'a str> {
    match per {
        Subject::Account => Some(account_id),
        Subject::Card => card_fp,
        Subject::Device => device,
        Subject::Ip => ip,
    }
}

/// Counts since the rule's window started, or from just after support last
/// cleared the subject or this rule last locked it, whichever is later
/// (stored times are whole milliseconds; see `Store::risk_counted_from`).
async fn since(app: &AppState, rule: &bangka_core::risk::Rule, value: &str, now: OffsetDateTime) -> ApiResult<OffsetDateTime> {
    let start = now - rule.window;
    let cleared = app.store.risk_counted_from(rule.per, value, &rule.name).await?.map(|c| c + time::Duration::milliseconds(1));
    Ok(cleared.map_or(start, |c| c.max(start)))
}

/// After a failure with `code` was recorded as `attempt_id`: every rule
/// counting it is evaluated, and those at their threshold lock.
/// Returns the lock this failure set, if it set one (the longest): the
/// failure that causes a lock is answered with the lock, not told to try
/// again.
pub async fn after_failure(
    app: &AppState,
    account_id: &str,
    code: ErrorCode,
    facts: &AttemptFacts,
    attempt_id: &str,
) -> ApiResult<Option<(Subject, OffsetDateTime)>> {
    let now = app.clock.now();
    let origin = current_origin();
    let mut set: Option<(Subject, OffsetDateTime)> = None;
    for rule in app.risk.after_failure(code) {
        let Some(value) =
            subject_value(rule.per, account_id, facts.card_fp.as_deref(), origin.device_id.as_deref(), origin.client_ip.as_deref())
        else {
            continue;
        };
        let n = app.store.count_signal(rule.per, value, rule.signal, since(app, rule, value, now).await?).await?;
        let Outcome::LockUntil(until) = rule.decide(n, now) else { continue };
        if already_locked_until(app, rule.per, account_id, value, now).await?.is_some_and(|t| t >= until) {
            continue;
        }
        tracing::warn!(account_id, rule = %rule.name, subject = rule.per.as_str(), count = n, "risk lock");
        let firing = Firing { rule: &rule.name, per: rule.per, subject: value, account_id, attempt_id: Some(attempt_id), count: n };
        app.store.risk_lock(&firing, until, now).await?;
        crate::metrics::risk_lock(rule.per.as_str(), &rule.name);
        if set.is_none_or(|(_, t)| until > t) {
            set = Some((rule.per, until));
        }
    }
    Ok(set)
}

async fn already_locked_until(
    app: &AppState,
    per: Subject,
    account_id: &str,
    value: &str,
    now: OffsetDateTime,
) -> ApiResult<Option<OffsetDateTime>> {
    if per == Subject::Account {
        return Ok(load_account(app, account_id).await?.locked_until.filter(|u| *u > now));
    }
    Ok(app.store.active_subject_locks(&[(per, value)], now).await?.first().map(|l| l.locked_until))
}

/// The lock on a bind that runs longest: the account's own and those on
/// this card, device and address. Several fire together (an account lock
/// of 30 minutes and a card lock of a day, after the same wrong phone);
/// the answer names the one that ends last, else the holder waits out the
/// first only to be refused again until the next day.
pub async fn longest_bind_lock(
    app: &AppState,
    account: &AccountRow,
    card_fp: &str,
    now: OffsetDateTime,
) -> ApiResult<Option<(Subject, OffsetDateTime)>> {
    let origin = current_origin();
    let mut subjects = vec![(Subject::Card, card_fp)];
    if let Some(d) = origin.device_id.as_deref() {
        subjects.push((Subject::Device, d));
    }
    if let Some(ip) = origin.client_ip.as_deref() {
        subjects.push((Subject::Ip, ip));
    }
    let own = account.locked_until.filter(|u| *u > now).map(|u| (Subject::Account, u));
    let others = app.store.active_subject_locks(&subjects, now).await?.into_iter().map(|l| (l.per, l.locked_until));
    Ok(own.into_iter().chain(others).max_by_key(|(_, until)| *until))
}

/// `RISK_LOCKED` for the holder (built in the core: authentication needs it too).
pub fn locked(account_id: &str, scope: Subject, until: OffsetDateTime) -> ApiError {
    bangka_core::risk::locked(account_id, scope, until).into()
}

/// Refuses while a lock on this card runs (bind and activation, start and
/// confirm): a card someone guessed at is not verified again until then.
pub async fn check_card_lock(app: &AppState, account_id: &str, card_fp: &str) -> ApiResult<()> {
    match app.store.active_subject_locks(&[(Subject::Card, card_fp)], app.clock.now()).await?.first() {
        Some(l) => Err(locked(account_id, l.per, l.locked_until)),
        None => Ok(()),
    }
}

/// Before a bind goes to the bank: locks on this card, device or IP, then
/// the distinct-card and distinct-account rules. A step-up is met by the
/// account's payment password in the request.
/// A step-up the holder passed: recorded with the bind's writes, after the
/// bank answered (no write may precede a bank call in a unit of work).
pub struct PassedStepUp {
    rule: String,
    per: Subject,
    subject: String,
    count: u32,
}

impl PassedStepUp {
    pub async fn record(&self, app: &AppState, account_id: &str) -> ApiResult<()> {
        let firing = Firing { rule: &self.rule, per: self.per, subject: &self.subject, account_id, attempt_id: None, count: self.count };
        app.store.record_risk_decision(&firing, "step_up_passed", app.clock.now()).await?;
        Ok(())
    }
}

pub async fn before_bind(app: &AppState, account: &AccountRow, card_fp: &str, password: Option<&str>) -> ApiResult<Option<PassedStepUp>> {
    let now = app.clock.now();
    let origin = current_origin();
    if let Some((per, until)) = longest_bind_lock(app, account, card_fp, now).await? {
        return Err(locked(&account.id, per, until));
    }
    let mut step_up = None;
    // A reviewer approved this card on this account: no review or step-up.
    let vouched = vouched(app, &account.id, card_fp).await?;
    for rule in app.risk.before_bind() {
        let Some(value) = subject_value(rule.per, &account.id, Some(card_fp), origin.device_id.as_deref(), origin.client_ip.as_deref())
        else {
            continue;
        };
        let from = since(app, rule, value, now).await?;
        let mut n = app.store.count_signal(rule.per, value, rule.signal, from).await?;
        // This attempt counts too, unless the subject already tried this
        // card (distinct cards) or this account (distinct accounts).
        let (other, other_value) = match rule.signal {
            Signal::DistinctAccounts => (Subject::Account, account.id.as_str()),
            _ => (Subject::Card, card_fp),
        };
        if !app.store.bind_seen_with(rule.per, value, other, other_value, from).await? {
            n += 1;
        }
        let firing = Firing { rule: &rule.name, per: rule.per, subject: value, account_id: &account.id, attempt_id: None, count: n };
        match rule.decide(n, now) {
            Outcome::Allow => {}
            Outcome::StepUp | Outcome::Review if vouched => {}
            Outcome::StepUp => step_up = Some(firing),
            Outcome::Review => {
                app.store.record_risk_decision(&firing, "review", now).await?;
                tracing::warn!(account_id = %account.id, rule = %rule.name, count = n, "bind held for review");
                return Err(Failure::new(ErrorCode::RiskReviewRequired)
                    .with_details(json!({
                        "request_review": {
                            "method": "POST",
                            "path": format!("/v1/accounts/{}/reviews", account.id),
                            "kind": "bind",
                            "materials": ["id_front", "id_back", "bank_card"],
                            "with": "this error's attempt_id",
                        },
                        "contact_support": { "method": "POST", "path": format!("/v1/accounts/{}/tickets", account.id) },
                    }))
                    .into());
            }
            Outcome::LockUntil(until) => {
                app.store.risk_lock(&firing, until, now).await?;
                crate::metrics::risk_lock(rule.per.as_str(), &rule.name);
                return Err(locked(&account.id, rule.per, until));
            }
        }
    }
    if let Some(firing) = step_up {
        let ok = match password {
            None => false,
            Some(p) => {
                let pw = PaymentPassword::parse_for_check(p)?;
                let stored = app.store.payment_password_hash(&account.id).await?.ok_or(ErrorCode::PaymentPasswordNotSet)?;
                if !super::password::verify_password(app, &account.id, pw, stored).await? {
                    return Err(ErrorCode::PaymentPasswordIncorrect.into());
                }
                true
            }
        };
        if !ok {
            app.store.record_risk_decision(&firing, "step_up", now).await?;
            return Err(Failure::new(ErrorCode::RiskStepUpRequired)
                .with_details(json!({ "method": "payment_password", "field": "payment_password", "password_set": account.payment_password_set_at.is_some() }))
                .into());
        }
        return Ok(Some(PassedStepUp {
            rule: firing.rule.to_owned(),
            per: firing.per,
            subject: firing.subject.to_owned(),
            count: firing.count,
        }));
    }
    Ok(None)
}

#[derive(Deserialize, ToSchema)]
pub struct UnlockBody {
    /// Why support lifts the lock (kept in the audit log), e.g. "identity verified by phone".
    pub reason: String,
}

/// `POST /v1/ops/accounts/{id}/unlock` (support, admin): lifts the
/// account's risk locks and those its attempts put on cards, devices and
/// IPs; failures before now stop counting. Audited with the reason.
pub async fn unlock(app: &AppState, who: &OpsAuth, account_id: &str, body: UnlockBody) -> ApiResult<Answer<crate::views::UnlockView>> {
    let p = who.require(Duty::Unlock)?;
    let reason = super::text::ops_reason(&body.reason, 1)?;
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    // Decided on the locks as read: they are the write-set's guard.
    let locks = app.store.account_locks(account_id, now).await?;
    if locks.is_empty() {
        return Err(ErrorCode::AccountNotLocked.into());
    }
    if !app.store.unlock_account(account_id, &locks, Cause::api(p.actor()).with_note(&reason), now).await? {
        // Changed meanwhile (applied at once: the request's second decision).
        return Err(ErrorCode::AccountNotLocked.into());
    }
    tracing::info!(account_id, operator = %p.key_id, "risk lock lifted by support");
    let account = bangka_store::AccountRow { locked_until: None, ..account };
    Ok(Answer::ok(crate::views::UnlockView {
        account_id: account_id.into(),
        released: locks.scopes(),
        account: crate::views::AccountView::from_row(&account, now),
    }))
}

/// `GET /v1/ops/accounts/{id}/risk` (any operator): the account's risk
/// decisions with the rule that fired, and its locks.
pub async fn decisions(app: &AppState, who: &OpsAuth, account_id: &str) -> ApiResult<Answer<crate::views::RiskView>> {
    who.require(Duty::ReadOps)?;
    let account = load_account(app, account_id).await?;
    let decisions = app
        .store
        .risk_decisions(account_id)
        .await?
        .into_iter()
        .map(|d| crate::views::RiskDecisionView {
            id: d.id,
            rule: d.rule,
            subject: d.subject,
            outcome: d.outcome,
            count: d.count,
            attempt_id: d.attempt_id,
            locked_until: d.locked_until.map(Timestamp),
            created_at: Timestamp(d.created_at),
        })
        .collect();
    let v = crate::views::RiskView { account_id: account_id.into(), locked_until: account.locked_until.map(Timestamp), decisions };
    Ok(Answer::ok(v))
}

/// `GET /v1/ops/accounts/{id}/attempts` (any operator): the account's
/// attempts with the bank's precise codes (what the holder saw may be the
/// safe form, docs/safe-messages.md), device and masked card.
pub async fn attempts(
    app: &AppState,
    who: &OpsAuth,
    account_id: &str,
    page: &bangka_store::PageRequest,
) -> ApiResult<crate::views::AttemptList> {
    who.require(Duty::ReadOps)?;
    load_account(app, account_id).await?;
    let page = app.store.attempt_page(account_id, page).await?.map(|a| {
        let card = match (&a.bin, &a.last4) {
            (Some(b), Some(l)) => Some(crate::views::masked_card(b, l)),
            _ => None,
        };
        let shown = super::attempts::shown_code(&a);
        crate::views::AttemptView {
            holder_was_shown: shown.map(|c| c.as_str().into()),
            id: a.id,
            kind: a.kind,
            code: a.code,
            issuer: a.issuer,
            card_masked: card,
            binding_id: a.binding_id,
            device_id: a.device_id,
            phone_used_masked: a.phone_masked,
            client: a.client,
            at: Timestamp(a.created_at),
        }
    });
    Ok(crate::views::AttemptList::new(page))
}

/// How long an approved bind review vouches for the card on the account.
pub const BIND_REVIEW_VALID: time::Duration = time::Duration::days(7);

/// Whether a reviewer vouched for binding this card to this account.
pub async fn vouched(app: &AppState, account_id: &str, card_fp: &str) -> ApiResult<bool> {
    Ok(app.store.approved_bind_review(account_id, card_fp, app.clock.now() - BIND_REVIEW_VALID).await?)
}

/// Records a failed attempt, applies the risk rules, and returns the error
/// carrying the attempt id (so support and diagnosis can find it).
pub async fn failed(app: &AppState, account_id: &str, kind: &str, facts: &AttemptFacts, err: ApiError) -> ApiError {
    let code = err.code();
    let attempt = match super::attempts::record_attempt(app, account_id, kind, facts, Some(code)).await {
        Ok(id) => id,
        Err(e) => return e,
    };
    match after_failure(app, account_id, code, facts, &attempt).await {
        Err(e) => e,
        // This failure locked something: say so now, with what caused it,
        // rather than invite another try that will be refused. The cause is
        // told in its safe form (only verification failures lock today, none
        // of them fraud-sensitive; this keeps it so if a rule ever counts one).
        Ok(Some((scope, until))) => {
            locked(account_id, scope, until).with_detail("because", code.for_new_card().as_str()).with_attempt(&attempt)
        }
        Ok(None) => err.with_attempt(&attempt),
    }
}
