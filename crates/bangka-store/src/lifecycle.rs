//! The binding lifecycle after activation: freeze and unfreeze (and, with
//! issue 5's next steps, unbind and delete). Each change moves the binding,
//! its token, the audit log and the notice together in one transaction.

use bangka_core::binding::FreezeReason;
use bangka_core::token::TokenState;
use time::OffsetDateTime;

use crate::audit::{Cause, Change};
use crate::payments::move_token;
use crate::receipts::ReceiptDraft;
use crate::repo::{BindingRow, NewMessage, insert_message};
use crate::{Store, StoreError, to_ms};

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
