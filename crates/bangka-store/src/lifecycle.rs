//! The binding lifecycle after activation: freeze and unfreeze (and, with
//! issue 5's next steps, unbind and delete). Each change moves the binding,
//! its token, the audit log and the notice together in one transaction.

use bangka_core::binding::{BindingStatus, FreezeReason};
use bangka_core::mandate::{MandateKind, MandateStatus, STANDING_STATUSES_SQL};
use bangka_core::token::TokenState;
use sqlx::Row;
use time::OffsetDateTime;

use crate::audit::{Cause, Change};
use crate::bindings::BindingRow;
use crate::outbox::NewMessage;
use crate::payments::move_token_write;
use crate::receipts::ReceiptDraft;
use crate::writeset::{Expect, WriteSet};
use crate::{Store, StoreError, WriteOn, from_ms, to_ms};

/// A token change that goes with a binding change.
#[derive(Debug, Clone, Copy)]
pub struct TokenMove<'a> {
    pub token_id: &'a str,
    pub from: TokenState,
    pub to: TokenState,
}

/// What a lifecycle change leaves behind, in its own transaction: the audit
/// entry (who caused it) and the signed receipt.
#[derive(Clone, Copy)]
pub struct Trail<'a> {
    pub cause: Cause<'a>,
    pub receipt: &'a ReceiptDraft<'a>,
}

/// Where the report of a lost or stolen card stands with its bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostReport {
    /// Written down; the bank has not confirmed it yet (the job keeps trying).
    Pending,
    /// The bank has it: the card is blocked there.
    Confirmed,
    /// The bank could not be told: it refused the report, or the card was
    /// deleted (its number shredded) first. The holder was told to call
    /// the bank.
    Dropped,
}

impl LostReport {
    pub fn as_str(self) -> &'static str {
        match self {
            LostReport::Pending => "pending",
            LostReport::Confirmed => "confirmed",
            LostReport::Dropped => "dropped",
        }
    }

    fn parse(s: &str) -> Option<LostReport> {
        [LostReport::Pending, LostReport::Confirmed, LostReport::Dropped].into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum UnfreezeOutcome {
    Unfrozen,
    /// It was no longer frozen (a concurrent unfreeze, say).
    NotFrozen,
    /// The SMS code was used by a concurrent request.
    ChallengeUsed,
    /// Still frozen and the code unused: the card's token moved meanwhile
    /// (the bank or the wallet suspended or resumed it), so the unfreeze is
    /// decided again on the token as it is now.
    TokenMoved,
}

impl Store {
    /// Freezes an active binding, suspends its token (when given) and queues
    /// the notice, at once. Returns false when the binding was no longer
    /// active. A token that changed meanwhile (the bank suspended it) keeps
    /// its state: it cannot pay either way.
    pub async fn freeze_binding(
        &self,
        b: &BindingRow,
        reason: FreezeReason,
        token: Option<TokenMove<'_>>,
        notice: &NewMessage,
        trail: Trail<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "the binding active",
            "UPDATE bindings SET status = 'frozen', frozen_reason = $1, frozen_at = $2, updated_at = $2 WHERE id = $3 AND status = 'active'",
            vec![reason.as_str().into(), to_ms(now).into(), b.id.as_str().into()],
            Expect::One,
        );
        let after = format!("frozen ({})", reason.as_str());
        let change = Change { action: "binding.freeze", subject: &b.id, before: Some("active"), after: Some(&after) };
        let (entry, audit_id, leaf_hash) = crate::audit::entry_write_ref(trail.cause, change, now);
        set.extend(entry);
        set.extend(crate::receipts::issue_write(trail.receipt, &audit_id, &leaf_hash, now));
        if let Some(t) = token {
            // A token moved meanwhile (the bank suspended it) refuses the
            // set; decided again, the freeze leaves that token as it is.
            set.extend(move_token_write(t.token_id, t.from, t.to, trail.cause, now));
        }
        if reason.distrusts_phone() {
            set.extend(crate::accounts::end_all_sessions_write(&b.account_id, now));
        }
        if reason.reports_to_issuer() {
            // Written down with the freeze, before the bank is told.
            set.push(
                "lost report",
                "INSERT INTO lost_reports (binding_id, account_id, status, created_at, checked_at) VALUES ($1, $2, 'pending', $3, $3)
                 ON CONFLICT (binding_id) DO NOTHING",
                vec![b.id.as_str().into(), b.account_id.as_str().into(), to_ms(now).into()],
                Expect::Any,
            );
        }
        set.extend(self.message_set(notice, now).await?);
        self.put(set).await
    }

    /// Where the report of a card frozen as lost or stolen stands with its
    /// bank (`None`: no report was made).
    pub async fn lost_report(&self, binding_id: &str) -> Result<Option<LostReport>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT status FROM lost_reports WHERE binding_id = $1")
            .bind(binding_id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        Ok(row.and_then(|(s,)| LostReport::parse(&s)))
    }

    /// Ends a pending report (`Confirmed` or `Dropped`) with its audit entry
    /// and queues the notice with it; false when it had already ended
    /// (another instance).
    pub async fn end_lost_report(
        &self,
        binding_id: &str,
        to: LostReport,
        notice: Option<&NewMessage>,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "the report still pending",
            "UPDATE lost_reports SET status = $1, ended_at = $2 WHERE binding_id = $3 AND status = 'pending'",
            vec![to.as_str().into(), to_ms(now).into(), binding_id.into()],
            Expect::One,
        );
        let change = Change { action: "binding.lost_report", subject: binding_id, before: Some("pending"), after: Some(to.as_str()) };
        set.extend(crate::audit::entry_write(cause, change, now));
        if let Some(m) = notice {
            set.extend(self.message_set(m, now).await?);
        }
        self.put(set).await
    }

    /// Pending reports last looked at before `before`, oldest first, each
    /// with when it was last looked at (for [`Store::claim_lost_report`]).
    pub async fn pending_lost_reports(&self, before: OffsetDateTime, limit: i64) -> Result<Vec<(String, OffsetDateTime)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT binding_id, checked_at FROM lost_reports WHERE status = 'pending' AND checked_at < $1 ORDER BY checked_at LIMIT $2",
        )
        .bind(to_ms(before))
        .bind(limit)
        .fetch_all(&mut *self.read().await?)
        .await?;
        Ok(rows.into_iter().map(|(id, at)| (id, from_ms(at))).collect())
    }

    /// Claims a pending report for one attempt to tell the bank (a
    /// conditional update: on many instances, one tries; the next attempt
    /// waits for the interval again).
    pub async fn claim_lost_report(&self, binding_id: &str, seen: OffsetDateTime, now: OffsetDateTime) -> Result<bool, StoreError> {
        let res = sqlx::query("UPDATE lost_reports SET checked_at = $1 WHERE binding_id = $2 AND status = 'pending' AND checked_at = $3")
            .bind(to_ms(now))
            .bind(binding_id)
            .bind(to_ms(seen))
            .write_on(self)
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Unfreezes a frozen binding after its SMS challenge passed (consumed
    /// here), resumes the token the freeze suspended (when given) and queues
    /// the notice, at once.
    pub async fn unfreeze_binding(
        &self,
        b: &BindingRow,
        challenge_id: &str,
        token: Option<TokenMove<'_>>,
        notice: &NewMessage,
        trail: Trail<'_>,
        now: OffsetDateTime,
    ) -> Result<UnfreezeOutcome, StoreError> {
        let mut set = crate::bindings::use_challenge_write(challenge_id, now);
        set.push(
            "the binding frozen",
            "UPDATE bindings SET status = 'active', frozen_reason = NULL, frozen_at = NULL, updated_at = $1 WHERE id = $2 AND status = 'frozen'",
            vec![to_ms(now).into(), b.id.as_str().into()],
            Expect::One,
        );
        let before = format!("frozen ({})", b.frozen_reason.map(FreezeReason::as_str).unwrap_or("unknown"));
        let change = Change { action: "binding.unfreeze", subject: &b.id, before: Some(&before), after: Some("active") };
        let (entry, audit_id, leaf_hash) = crate::audit::entry_write_ref(trail.cause, change, now);
        set.extend(entry);
        set.extend(crate::receipts::issue_write(trail.receipt, &audit_id, &leaf_hash, now));
        if let Some(t) = token {
            // After the binding's own move: a token becomes active only
            // beside an active binding.
            set.extend(move_token_write(t.token_id, t.from, t.to, trail.cause, now));
        }
        set.extend(self.message_set(notice, now).await?);
        if self.put(set).await? {
            return Ok(UnfreezeOutcome::Unfrozen);
        }
        // Refused whole: say which expectation failed.
        let code_used = self.get_challenge(challenge_id).await?.is_none_or(|c| c.challenge.passed);
        if code_used {
            return Ok(UnfreezeOutcome::ChallengeUsed);
        }
        let frozen = self.get_binding(&b.account_id, &b.id).await?.is_some_and(|now| now.status == BindingStatus::Frozen);
        Ok(if frozen { UnfreezeOutcome::TokenMoved } else { UnfreezeOutcome::NotFrozen })
    }
}

// ---------------------------------------------------------------- mandates

#[derive(Debug, Clone)]
pub struct MandateRow {
    pub id: String,
    pub account_id: String,
    pub binding_id: String,
    pub merchant_id: String,
    pub kind: MandateKind,
    pub max_amount: i64,
    pub currency: String,
    pub status: MandateStatus,
    pub failure_code: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub activated_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

pub struct NewMandate<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub binding_id: &'a str,
    pub merchant_id: &'a str,
    pub kind: MandateKind,
    pub max_amount: i64,
    pub currency: &'a str,
}

const MANDATE_COLS: &str = "id, account_id, binding_id, merchant_id, kind, max_amount, currency, status, failure_code, created_at, updated_at, activated_at, revoked_at";

fn mandate_row(r: &sqlx::any::AnyRow) -> Result<MandateRow, StoreError> {
    let kind: String = r.try_get("kind")?;
    let status: String = r.try_get("status")?;
    Ok(MandateRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        binding_id: r.try_get("binding_id")?,
        merchant_id: r.try_get("merchant_id")?,
        kind: MandateKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("mandate kind {kind}")))?,
        max_amount: r.try_get("max_amount")?,
        currency: r.try_get("currency")?,
        status: MandateStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("mandate status {status}")))?,
        failure_code: r.try_get("failure_code")?,
        created_at: from_ms(r.try_get("created_at")?),
        updated_at: from_ms(r.try_get("updated_at")?),
        activated_at: r.try_get::<Option<i64>, _>("activated_at")?.map(from_ms),
        revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_ms),
    })
}

impl Store {
    /// Records a new agreement as `pending`. Returns false (nothing written)
    /// when one already stands for this card and merchant.
    pub async fn create_mandate(&self, m: &NewMandate<'_>, cause: Cause<'_>, now: OffsetDateTime) -> Result<bool, StoreError> {
        let mut set = WriteSet::new();
        // One standing agreement per card and merchant: a second one is a
        // unique violation, which refuses the set.
        set.push(
            "no standing mandate of this card and merchant",
            format!("INSERT INTO mandates ({MANDATE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', NULL, $8, $8, NULL, NULL)"),
            vec![
                m.id.into(),
                m.account_id.into(),
                m.binding_id.into(),
                m.merchant_id.into(),
                m.kind.as_str().into(),
                m.max_amount.into(),
                m.currency.into(),
                to_ms(now).into(),
            ],
            Expect::Any,
        );
        let change = Change { action: "mandate.create", subject: m.id, before: None, after: Some("pending") };
        set.extend(crate::audit::entry_write(cause, change, now));
        self.put(set).await
    }

    /// Moves a mandate from its status as read (`m`) to `to` (audited, with
    /// an optional notice); `failure_code` is kept for a failed setup.
    /// Returns false when it had moved meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn move_mandate(
        &self,
        m: &MandateRow,
        to: MandateStatus,
        failure_code: Option<&str>,
        notice: Option<&NewMessage>,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let current = m.status.as_str();
        let mut set = WriteSet::new();
        set.push(
            "the mandate as read",
            "UPDATE mandates SET status = $1, failure_code = COALESCE($2, failure_code), updated_at = $3,
                 activated_at = CASE WHEN $1 = 'active' AND activated_at IS NULL THEN $3 ELSE activated_at END,
                 revoked_at = CASE WHEN $1 = 'revoked' THEN $3 ELSE revoked_at END
             WHERE id = $4 AND status = $5",
            vec![to.as_str().into(), failure_code.into(), to_ms(now).into(), m.id.as_str().into(), current.into()],
            Expect::One,
        );
        let action = format!("mandate.{}", to.as_str());
        let change = Change { action: &action, subject: &m.id, before: Some(current), after: Some(to.as_str()) };
        set.extend(crate::audit::entry_write(cause, change, now));
        if let Some(n) = notice {
            set.extend(self.message_set(n, now).await?);
        }
        self.put(set).await
    }

    /// A mandate by id alone (a merchant charging it; the caller checks
    /// the merchant).
    pub async fn mandate_by_id(&self, id: &str) -> Result<Option<MandateRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {MANDATE_COLS} FROM mandates WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        row.as_ref().map(mandate_row).transpose()
    }

    pub async fn get_mandate(&self, account_id: &str, id: &str) -> Result<Option<MandateRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {MANDATE_COLS} FROM mandates WHERE id = $1 AND account_id = $2"))
            .bind(id)
            .bind(account_id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        row.as_ref().map(mandate_row).transpose()
    }

    /// The account's agreements, newest first.
    pub async fn mandate_page(&self, account_id: &str, page: &crate::PageRequest) -> Result<crate::Page<MandateRow>, StoreError> {
        let list = crate::page::Listing {
            table: "mandates",
            cols: MANDATE_COLS,
            scope: "account_id = $1",
            owner: "account_id = $1",
            key: "created_at",
            id: "id",
            descending: true,
        };
        self.page(&list, vec![account_id.into()], page, mandate_row).await
    }

    /// The agreements that still stand on a card (what an unbind must deal with).
    pub async fn standing_mandates(&self, binding_id: &str) -> Result<Vec<MandateRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MANDATE_COLS} FROM mandates WHERE binding_id = $1 AND status IN {STANDING_STATUSES_SQL} ORDER BY created_at"
        ))
        .bind(binding_id)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(mandate_row).collect()
    }
}

// ---------------------------------------------------------------- unbind

/// An unbind request; see migration 0009 for its states.
#[derive(Debug, Clone)]
pub struct UnbindRequest {
    pub id: String,
    pub binding_id: String,
    pub account_id: String,
    pub challenge_id: String,
    pub cancel_mandates: bool,
    pub delete_card: bool,
    pub needs_password: bool,
    /// `requested`, `cooling_off`, `revoked` or `completed`.
    pub status: String,
    pub created_at: OffsetDateTime,
    pub cooling_off_ends_at: Option<OffsetDateTime>,
}

const UNBIND_COLS: &str =
    "id, binding_id, account_id, challenge_id, cancel_mandates, delete_card, needs_password, status, created_at, cooling_off_ends_at";

fn unbind_row(r: &sqlx::any::AnyRow) -> Result<UnbindRequest, StoreError> {
    Ok(UnbindRequest {
        id: r.try_get("id")?,
        binding_id: r.try_get("binding_id")?,
        account_id: r.try_get("account_id")?,
        challenge_id: r.try_get("challenge_id")?,
        cancel_mandates: r.try_get::<i64, _>("cancel_mandates")? != 0,
        delete_card: r.try_get::<i64, _>("delete_card")? != 0,
        needs_password: r.try_get::<i64, _>("needs_password")? != 0,
        status: r.try_get("status")?,
        created_at: from_ms(r.try_get("created_at")?),
        cooling_off_ends_at: r.try_get::<Option<i64>, _>("cooling_off_ends_at")?.map(from_ms),
    })
}

impl Store {
    /// Records an unbind request with its SMS challenge and message, at once.
    pub async fn create_unbind_request(
        &self,
        r: &UnbindRequest,
        challenge: &crate::NewChallenge,
        message: &NewMessage,
    ) -> Result<(), StoreError> {
        let mut set = crate::bindings::challenge_write(challenge);
        set.extend(self.message_set(message, r.created_at).await?);
        set.push(
            "unbind request",
            format!("INSERT INTO unbind_requests ({UNBIND_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested', $8, NULL)"),
            vec![
                r.id.as_str().into(),
                r.binding_id.as_str().into(),
                r.account_id.as_str().into(),
                r.challenge_id.as_str().into(),
                i64::from(r.cancel_mandates).into(),
                i64::from(r.delete_card).into(),
                i64::from(r.needs_password).into(),
                to_ms(r.created_at).into(),
            ],
            Expect::Any,
        );
        self.stage(set).await
    }

    /// The newest unbind request for a binding.
    pub async fn latest_unbind_request(&self, binding_id: &str) -> Result<Option<UnbindRequest>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {UNBIND_COLS} FROM unbind_requests WHERE binding_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
        ))
        .bind(binding_id)
        .fetch_optional(&mut *self.read().await?)
        .await?;
        row.as_ref().map(unbind_row).transpose()
    }

    /// Unbinds whose cooling-off has ended.
    pub async fn due_unbinds(&self, now: OffsetDateTime, limit: i64) -> Result<Vec<UnbindRequest>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {UNBIND_COLS} FROM unbind_requests WHERE status = 'cooling_off' AND cooling_off_ends_at <= $1 ORDER BY cooling_off_ends_at LIMIT $2"
        ))
        .bind(to_ms(now))
        .bind(limit)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(unbind_row).collect()
    }

    /// Confirms an unbind: the challenge is consumed, the binding becomes
    /// `unbinding`, the token is suspended, the listed mandates are revoked,
    /// the cooling-off starts — with audit entries, receipt and notice, at
    /// once. Decided on the binding `b`, the request `r` and the mandates as
    /// read; returns false (nothing changed) if any of them moved meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_unbind(
        &self,
        r: &UnbindRequest,
        b: &BindingRow,
        token: Option<TokenMove<'_>>,
        mandates: &[String],
        ends_at: OffsetDateTime,
        notice: &NewMessage,
        trail: Trail<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let from = b.status.as_str();
        let mut set = crate::bindings::use_challenge_write(&r.challenge_id, now);
        set.push(
            "the unbind requested",
            "UPDATE unbind_requests SET status = 'cooling_off', confirmed_at = $1, cooling_off_ends_at = $2 WHERE id = $3 AND status = 'requested'",
            vec![to_ms(now).into(), to_ms(ends_at).into(), r.id.as_str().into()],
            Expect::One,
        );
        // An active card, or one frozen because it was reported lost or
        // stolen (the bank blocked it; it is never unfrozen). A freeze for
        // any other reason may have come meanwhile: it refuses the set.
        set.push(
            "the binding as read",
            "UPDATE bindings SET status = 'unbinding', updated_at = $1
             WHERE id = $2 AND status = $3 AND (status = 'active' OR (status = 'frozen' AND frozen_reason IN ('card_lost', 'card_stolen')))",
            vec![to_ms(now).into(), r.binding_id.as_str().into(), from.into()],
            Expect::One,
        );
        for m in mandates {
            set.push(
                "the mandate standing",
                format!("UPDATE mandates SET status = 'revoked', revoked_at = $1, updated_at = $1 WHERE id = $2 AND status IN {STANDING_STATUSES_SQL}"),
                vec![to_ms(now).into(), m.as_str().into()],
                Expect::One,
            );
            let cause = trail.cause.with_note("cancelled with the unbind");
            let change = Change { action: "mandate.revoked", subject: m, before: Some("standing"), after: Some("revoked") };
            set.extend(crate::audit::entry_write(cause, change, now));
        }
        let change = Change { action: "binding.unbind", subject: &r.binding_id, before: Some(from), after: Some("unbinding") };
        let (entry, audit_id, leaf_hash) = crate::audit::entry_write_ref(trail.cause, change, now);
        set.extend(entry);
        set.extend(crate::receipts::issue_write(trail.receipt, &audit_id, &leaf_hash, now));
        if let Some(t) = token {
            set.extend(move_token_write(t.token_id, t.from, t.to, trail.cause, now));
        }
        set.extend(self.message_set(notice, now).await?);
        self.put(set).await
    }

    /// Revokes an unbind during its cooling-off: the binding is `active`
    /// again (or `frozen` again, when it was frozen as lost or stolen: the
    /// freeze reason stays through the unbind) and the token resumed, at
    /// once. Returns false if the window had closed or it was no longer
    /// cooling off.
    pub async fn revoke_unbind(
        &self,
        r: &UnbindRequest,
        b: &BindingRow,
        token: Option<TokenMove<'_>>,
        notice: &NewMessage,
        trail: Trail<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let to = if b.frozen_reason.is_none() { "active" } else { "frozen" };
        let mut set = WriteSet::new();
        set.push(
            "the unbind cooling off",
            "UPDATE unbind_requests SET status = 'revoked', finished_at = $1 WHERE id = $2 AND status = 'cooling_off' AND cooling_off_ends_at > $1",
            vec![to_ms(now).into(), r.id.as_str().into()],
            Expect::One,
        );
        set.push(
            "the binding unbinding",
            // The freeze reason, read with `b`, does not change while a card unbinds.
            "UPDATE bindings SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'unbinding'",
            vec![to.into(), to_ms(now).into(), r.binding_id.as_str().into()],
            Expect::One,
        );
        let change = Change { action: "binding.unbind_revoke", subject: &r.binding_id, before: Some("unbinding"), after: Some(to) };
        let (entry, audit_id, leaf_hash) = crate::audit::entry_write_ref(trail.cause, change, now);
        set.extend(entry);
        set.extend(crate::receipts::issue_write(trail.receipt, &audit_id, &leaf_hash, now));
        // A token resumes only beside an active binding: a card frozen as
        // lost keeps its token suspended.
        if let Some(t) = token.filter(|_| to == "active") {
            set.extend(move_token_write(t.token_id, t.from, t.to, trail.cause, now));
        }
        set.extend(self.message_set(notice, now).await?);
        self.put(set).await
    }

    /// Completes an unbind after its cooling-off (the job): the binding is
    /// `unbound` — or `deleted`, its card data key destroyed, when delete was
    /// asked for — and the token deleted, in one transaction. The request's
    /// conditional update claims it, so several instances never complete it
    /// twice. Returns false if another instance (or a revoke) got there first.
    #[allow(clippy::too_many_arguments)]
    pub async fn complete_unbind(
        &self,
        r: &UnbindRequest,
        b: &BindingRow,
        token: Option<TokenMove<'_>>,
        notice: &NewMessage,
        trail: Trail<'_>,
        delete_receipt: Option<&ReceiptDraft<'_>>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "the unbind due",
            "UPDATE unbind_requests SET status = 'completed', finished_at = $1 WHERE id = $2 AND status = 'cooling_off' AND cooling_off_ends_at <= $1",
            vec![to_ms(now).into(), r.id.as_str().into()],
            Expect::One,
        );
        let end = if r.delete_card { "deleted" } else { "unbound" };
        set.push(
            "the binding unbinding",
            "UPDATE bindings SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'unbinding'",
            vec![end.into(), to_ms(now).into(), r.binding_id.as_str().into()],
            Expect::One,
        );
        let change = Change { action: "binding.unbound", subject: &r.binding_id, before: Some("unbinding"), after: Some("unbound") };
        let (entry, audit_id, leaf_hash) = crate::audit::entry_write_ref(trail.cause, change, now);
        set.extend(entry);
        set.extend(crate::receipts::issue_write(trail.receipt, &audit_id, &leaf_hash, now));
        if let Some(t) = token {
            // A token moved meanwhile refuses the set: the next pass decides again.
            set.extend(move_token_write(t.token_id, t.from, t.to, trail.cause, now));
        }
        let shreds = matches!((r.delete_card, b.vault_id.as_deref(), delete_receipt), (true, Some(_), Some(_)));
        if let (true, Some(vault_id), Some(receipt)) = (r.delete_card, b.vault_id.as_deref(), delete_receipt) {
            // Crypto-shredding: the data key goes, so the PAN cannot be
            // recovered even from a backup taken before.
            set.extend(crate::bindings::shred_write(vault_id, now));
            let change = Change {
                action: "binding.delete",
                subject: &r.binding_id,
                before: Some("unbound"),
                after: Some("deleted (card data key destroyed)"),
            };
            let (entry, audit_id, leaf_hash) = crate::audit::entry_write_ref(trail.cause, change, now);
            set.extend(entry);
            set.extend(crate::receipts::issue_write(receipt, &audit_id, &leaf_hash, now));
        }
        set.extend(self.message_set(notice, now).await?);
        if !self.put(set).await? {
            return Ok(false);
        }
        if shreds {
            self.destroy_shredded_keys_after_commit().await?;
        }
        Ok(true)
    }

    /// Deletes an unbound card once its SMS challenge passed (consumed
    /// here): the binding becomes `deleted` and the vault row is shredded,
    /// with audit entry, receipt and notice, in one transaction; the data key
    /// is destroyed in the card key store right after. Returns false
    /// (nothing changed) if the code was used or the card moved meanwhile.
    pub async fn delete_unbound(
        &self,
        b: &BindingRow,
        challenge_id: &str,
        notice: &NewMessage,
        trail: Trail<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut set = crate::bindings::use_challenge_write(challenge_id, now);
        set.push(
            "the binding unbound",
            "UPDATE bindings SET status = 'deleted', updated_at = $1 WHERE id = $2 AND status = 'unbound'",
            vec![to_ms(now).into(), b.id.as_str().into()],
            Expect::One,
        );
        if let Some(vault_id) = b.vault_id.as_deref() {
            set.extend(crate::bindings::shred_write(vault_id, now));
        }
        let change =
            Change { action: "binding.delete", subject: &b.id, before: Some("unbound"), after: Some("deleted (card data key destroyed)") };
        let (entry, audit_id, leaf_hash) = crate::audit::entry_write_ref(trail.cause, change, now);
        set.extend(entry);
        set.extend(crate::receipts::issue_write(trail.receipt, &audit_id, &leaf_hash, now));
        set.extend(self.message_set(notice, now).await?);
        if !self.put(set).await? {
            return Ok(false);
        }
        // The data key goes once the shred is durable (never before: a
        // refused set would leave a card nobody can read).
        self.destroy_shredded_keys_after_commit().await?;
        Ok(true)
    }

    /// Payments on a card whose money is still in transit: authorized and
    /// not captured or voided, or with an issuer call not yet confirmed.
    pub async fn unsettled_payments(&self, binding_id: &str) -> Result<Vec<crate::PaymentRow>, StoreError> {
        self.payments_where(
            "binding_id = $1 AND (status IN ('pending', 'authorized') OR id IN (SELECT payment_id FROM payment_ops WHERE status = 'pending'))",
            binding_id,
        )
        .await
    }
}
