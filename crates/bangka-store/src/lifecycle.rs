//! The binding lifecycle after activation: freeze and unfreeze (and, with
//! issue 5's next steps, unbind and delete). Each change moves the binding,
//! its token, the audit log and the notice together in one transaction.

use bangka_core::binding::FreezeReason;
use bangka_core::mandate::{MandateKind, MandateStatus, STANDING_STATUSES_SQL};
use bangka_core::token::TokenState;
use sqlx::Row;
use time::OffsetDateTime;

use crate::audit::{Cause, Change};
use crate::payments::move_token;
use crate::receipts::ReceiptDraft;
use crate::repo::{BindingRow, NewMessage, insert_message};
use crate::{Store, StoreError, from_ms, is_unique_violation, to_ms};

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

#[derive(Debug, PartialEq, Eq)]
pub enum UnfreezeOutcome {
    Unfrozen,
    /// It was no longer frozen (a concurrent unfreeze, say).
    NotFrozen,
    /// The SMS code was used by a concurrent request.
    ChallengeUsed,
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
        let mut tx = self.pool.begin().await?;
        let res = sqlx::query(
            "UPDATE bindings SET status = 'frozen', frozen_reason = $1, frozen_at = $2, updated_at = $2 WHERE id = $3 AND status = 'active'",
        )
        .bind(reason.as_str())
        .bind(to_ms(now))
        .bind(&b.id)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            return Ok(false);
        }
        let after = format!("frozen ({})", reason.as_str());
        let audit_ref = crate::audit::append(
            &mut tx,
            trail.cause,
            Change { action: "binding.freeze", subject: &b.id, before: Some("active"), after: Some(&after) },
            now,
        )
        .await?;
        crate::receipts::issue(&mut tx, trail.receipt, &audit_ref, now).await?;
        if let Some(t) = token {
            move_token(&mut tx, t.token_id, t.from, t.to, trail.cause, now).await?;
        }
        insert_message(&mut tx, notice, now).await?;
        tx.commit().await?;
        Ok(true)
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
        let mut tx = self.pool.begin().await?;
        let res = sqlx::query("UPDATE challenges SET passed_at = $1 WHERE id = $2 AND passed_at IS NULL")
            .bind(to_ms(now))
            .bind(challenge_id)
            .execute(&mut *tx)
            .await?;
        if res.rows_affected() != 1 {
            return Ok(UnfreezeOutcome::ChallengeUsed);
        }
        let res = sqlx::query(
            "UPDATE bindings SET status = 'active', frozen_reason = NULL, frozen_at = NULL, updated_at = $1 WHERE id = $2 AND status = 'frozen'",
        )
        .bind(to_ms(now))
        .bind(&b.id)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            return Ok(UnfreezeOutcome::NotFrozen);
        }
        let before = format!("frozen ({})", b.frozen_reason.map(FreezeReason::as_str).unwrap_or("unknown"));
        let audit_ref = crate::audit::append(
            &mut tx,
            trail.cause,
            Change { action: "binding.unfreeze", subject: &b.id, before: Some(&before), after: Some("active") },
            now,
        )
        .await?;
        crate::receipts::issue(&mut tx, trail.receipt, &audit_ref, now).await?;
        if let Some(t) = token {
            move_token(&mut tx, t.token_id, t.from, t.to, trail.cause, now).await?;
        }
        insert_message(&mut tx, notice, now).await?;
        tx.commit().await?;
        Ok(UnfreezeOutcome::Unfrozen)
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
        let mut tx = self.pool.begin().await?;
        let res = sqlx::query(&format!(
            "INSERT INTO mandates ({MANDATE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', NULL, $8, $8, NULL, NULL)"
        ))
        .bind(m.id)
        .bind(m.account_id)
        .bind(m.binding_id)
        .bind(m.merchant_id)
        .bind(m.kind.as_str())
        .bind(m.max_amount)
        .bind(m.currency)
        .bind(to_ms(now))
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e, "mandates_one_standing", "mandates.binding_id") => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        crate::audit::append(&mut tx, cause, Change { action: "mandate.create", subject: m.id, before: None, after: Some("pending") }, now)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Moves a mandate from one of `from` to `to` (audited, with an
    /// optional notice); `failure_code` is kept for a failed setup. Returns
    /// false when it was in none of `from`.
    #[allow(clippy::too_many_arguments)]
    pub async fn move_mandate(
        &self,
        id: &str,
        from: &[MandateStatus],
        to: MandateStatus,
        failure_code: Option<&str>,
        notice: Option<&NewMessage>,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let current: Option<(String,)> =
            sqlx::query_as("SELECT status FROM mandates WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        let Some((current,)) = current else { return Ok(false) };
        if !from.iter().any(|s| s.as_str() == current) {
            return Ok(false);
        }
        let res = sqlx::query(
            "UPDATE mandates SET status = $1, failure_code = COALESCE($2, failure_code), updated_at = $3,
                 activated_at = CASE WHEN $1 = 'active' AND activated_at IS NULL THEN $3 ELSE activated_at END,
                 revoked_at = CASE WHEN $1 = 'revoked' THEN $3 ELSE revoked_at END
             WHERE id = $4 AND status = $5",
        )
        .bind(to.as_str())
        .bind(failure_code)
        .bind(to_ms(now))
        .bind(id)
        .bind(&current)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            return Ok(false);
        }
        let action = format!("mandate.{}", to.as_str());
        crate::audit::append(
            &mut tx,
            cause,
            Change { action: &action, subject: id, before: Some(&current), after: Some(to.as_str()) },
            now,
        )
        .await?;
        if let Some(n) = notice {
            insert_message(&mut tx, n, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn get_mandate(&self, account_id: &str, id: &str) -> Result<Option<MandateRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {MANDATE_COLS} FROM mandates WHERE id = $1 AND account_id = $2"))
            .bind(id)
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(mandate_row).transpose()
    }

    /// The account's agreements, newest first.
    pub async fn mandates(&self, account_id: &str) -> Result<Vec<MandateRow>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {MANDATE_COLS} FROM mandates WHERE account_id = $1 ORDER BY created_at DESC, id DESC"))
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(mandate_row).collect()
    }

    /// The agreements that still stand on a card (what an unbind must deal with).
    pub async fn standing_mandates(&self, binding_id: &str) -> Result<Vec<MandateRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MANDATE_COLS} FROM mandates WHERE binding_id = $1 AND status IN {STANDING_STATUSES_SQL} ORDER BY created_at"
        ))
        .bind(binding_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(mandate_row).collect()
    }
}
