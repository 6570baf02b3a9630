//! Manual reviews: submission (one waiting per account and kind), the
//! holder's withdrawal, and the reviewer's decision with its effect (unlock,
//! real-name change, phone move), the holder's notices and the audit
//! entries, each in one transaction.

use bangka_core::review::{ReviewKind, ReviewStatus};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::audit::{Cause, Change};
use crate::outbox::NewMessage;
use crate::readers::Cols;
use crate::writeset::{Expect, WriteSet};
use crate::{Store, StoreError, from_ms, is_unique_violation, new_id, to_ms};

pub struct NewReview<'a> {
    pub account_id: &'a str,
    pub kind: ReviewKind,
    pub statement: &'a str,
    /// JSON array of `{type, ref}`.
    pub materials: &'a serde_json::Value,
    pub attempt_id: Option<&'a str>,
    pub binding_id: Option<&'a str>,
    pub card_fp: Option<&'a str>,
    /// A real-name change: the requested name and ID, sealed under the
    /// account's KYC contexts.
    pub sealed: Option<(&'a [u8], &'a [u8])>,
    /// A phone change: the new number, and the SMS code that proved it
    /// (used up with the submission).
    pub new_phone: Option<(&'a str, &'a str)>,
}

#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub id: String,
    pub account_id: String,
    pub kind: ReviewKind,
    pub status: ReviewStatus,
    pub statement: String,
    pub materials: serde_json::Value,
    pub attempt_id: Option<String>,
    pub binding_id: Option<String>,
    pub card_fp: Option<String>,
    pub name_enc: Option<Vec<u8>>,
    pub id_enc: Option<Vec<u8>>,
    /// A phone change's requested number.
    pub new_phone: Option<String>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// A reviewer's decision.
pub enum ReviewDecision<'a> {
    Reject,
    /// Approve; for a real-name change, the new record's keyed hashes
    /// (the sealed values move from the review to the account).
    Approve {
        kyc_macs: Option<(&'a str, &'a str)>,
    },
}

const COLS: &str = "id, account_id, kind, status, statement, materials, attempt_id, binding_id, card_fp, name_enc, id_enc, decided_by, decision_reason, decided_at, created_at, new_phone";

fn review_row(r: &AnyRow) -> Result<ReviewRow, StoreError> {
    let kind: String = r.try_get("kind")?;
    let status: String = r.try_get("status")?;
    let materials: String = r.try_get("materials")?;
    Ok(ReviewRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        kind: ReviewKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("review kind {kind:?}")))?,
        status: ReviewStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("review status {status:?}")))?,
        statement: r.try_get("statement")?,
        materials: serde_json::from_str(&materials).map_err(|e| StoreError::Corrupt(format!("review materials: {e}")))?,
        attempt_id: r.try_get("attempt_id")?,
        binding_id: r.try_get("binding_id")?,
        card_fp: r.try_get("card_fp")?,
        name_enc: r.try_get("name_enc")?,
        id_enc: r.try_get("id_enc")?,
        new_phone: r.try_get("new_phone")?,
        decided_by: r.try_get("decided_by")?,
        decision_reason: r.try_get("decision_reason")?,
        decided_at: r.try_get::<Option<i64>, _>("decided_at")?.map(from_ms),
        created_at: from_ms(r.try_get("created_at")?),
    })
}

impl Store {
    /// Submits a review, audited. `Err(id)` when one of the kind is
    /// already waiting for the account (then nothing changes).
    pub async fn create_review(
        &self,
        r: &NewReview<'_>,
        notices: &[NewMessage],
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<Result<ReviewRow, String>, StoreError> {
        let id = new_id("rev");
        let mut tx = self.begin().await?;
        let res = sqlx::query(&format!(
            "INSERT INTO reviews ({COLS}) VALUES ($1, $2, $3, 'submitted', $4, $5, $6, $7, $8, $9, $10, NULL, NULL, NULL, $11, $12)"
        ))
        .bind(&id)
        .bind(r.account_id)
        .bind(r.kind.as_str())
        .bind(r.statement)
        .bind(r.materials.to_string())
        .bind(r.attempt_id)
        .bind(r.binding_id)
        .bind(r.card_fp)
        .bind(r.sealed.map(|s| s.0))
        .bind(r.sealed.map(|s| s.1))
        .bind(to_ms(now))
        .bind(r.new_phone.map(|p| p.0))
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e, "reviews_one_pending", "reviews.account_id, reviews.kind") => {
                drop(tx);
                let pending: Option<(String,)> =
                    sqlx::query_as("SELECT id FROM reviews WHERE account_id = $1 AND kind = $2 AND status = 'submitted'")
                        .bind(r.account_id)
                        .bind(r.kind.as_str())
                        .fetch_optional(&mut *self.read().await?)
                        .await?;
                // Decided in between: the caller may simply submit again.
                return Ok(Err(pending.map(|(id,)| id).unwrap_or_default()));
            }
            Err(e) => return Err(e.into()),
        }
        if let Some((_, challenge_id)) = r.new_phone
            && !crate::bindings::use_challenge(&mut tx, challenge_id, now).await?
        {
            // The code was used meanwhile: nothing submitted.
            return Ok(Err(String::new()));
        }
        let change = Change { action: "review.submit", subject: &id, before: None, after: Some(r.kind.as_str()) };
        crate::audit::append(&mut tx, cause, change, now).await?;
        for n in notices {
            // A notice names the review: `{review_id}` is filled in here,
            // where the id is made.
            let n = NewMessage { zh: n.zh.replace("{review_id}", &id), en: n.en.replace("{review_id}", &id), ..n.clone() };
            self.insert_message(&mut tx, &n, now).await?;
        }
        tx.commit().await?;
        Ok(Ok(self.get_review(&id).await?.expect("just inserted")))
    }

    pub async fn get_review(&self, id: &str) -> Result<Option<ReviewRow>, StoreError> {
        let r = sqlx::query(&format!("SELECT {COLS} FROM reviews WHERE id = $1")).bind(id).fetch_optional(&mut *self.read().await?).await?;
        r.as_ref().map(review_row).transpose()
    }

    pub async fn account_reviews(&self, account_id: &str) -> Result<Vec<ReviewRow>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM reviews WHERE account_id = $1 ORDER BY created_at DESC, id LIMIT 100"))
            .bind(account_id)
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(review_row).collect()
    }

    /// Reviews for reviewers, oldest first.
    pub async fn ops_reviews(&self, status: ReviewStatus) -> Result<Vec<ReviewRow>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM reviews WHERE status = $1 ORDER BY created_at, id LIMIT 500"))
            .bind(status.as_str())
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(review_row).collect()
    }

    /// Whether a reviewer approved binding this card to this account since `since`.
    pub async fn approved_bind_review(&self, account_id: &str, card_fp: &str, since: OffsetDateTime) -> Result<bool, StoreError> {
        let sql = "SELECT id FROM reviews WHERE account_id = $1 AND card_fp = $2 AND kind = 'bind' AND status = 'approved' AND decided_at >= $3 LIMIT 1";
        let args = [account_id.into(), card_fp.into(), to_ms(since).into()];
        let r: Option<String> = self.fetch_row(sql, &args, |r| r.col("id"), |r| r.col("id")).await?;
        Ok(r.is_some())
    }

    /// The holder takes back a review still waiting: withdrawn (the sealed
    /// real-name values erased), the notice queued and the change audited,
    /// as one write-set guarded by the status. Returns the review as it
    /// will be, or `None` when it was no longer waiting (applied now;
    /// staged, the request decides again).
    pub async fn withdraw_review(
        &self,
        review: &ReviewRow,
        notice: &NewMessage,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<ReviewRow>, StoreError> {
        const REASON: &str = "withdrawn by the holder";
        if review.status != ReviewStatus::Submitted {
            return Ok(None);
        }
        let mut set = WriteSet::new();
        set.push(
            "review still waiting",
            "UPDATE reviews SET status = 'withdrawn', decided_by = $1, decision_reason = $2, decided_at = $3,
               name_enc = NULL, id_enc = NULL
             WHERE id = $4 AND status = 'submitted'",
            vec![cause.actor.into(), REASON.into(), to_ms(now).into(), (&review.id).into()],
            Expect::One,
        );
        let change = Change { action: "review.withdraw", subject: &review.id, before: Some("submitted"), after: Some("withdrawn") };
        set.extend(crate::audit::entry_write(cause, change, now));
        set.extend(self.message_set(notice, now).await?);
        if !self.put(set).await? {
            return Ok(None);
        }
        Ok(Some(ReviewRow {
            status: ReviewStatus::Withdrawn,
            decided_by: Some(cause.actor.to_owned()),
            decision_reason: Some(REASON.to_owned()),
            decided_at: Some(from_ms(to_ms(now))),
            name_enc: None,
            id_enc: None,
            ..review.clone()
        }))
    }

    /// Decides a submitted review: its status, the effect of an approval
    /// (a lock lifted, the real-name record replaced), the holder's notice
    /// and the audit entries, in one transaction. The requested real-name
    /// values are erased from the review either way. Returns what was
    /// released by an unlock, or `None` when the review was not waiting.
    pub async fn decide_review(
        &self,
        review: &ReviewRow,
        decision: ReviewDecision<'_>,
        reason: &str,
        notices: &[NewMessage],
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let mut tx = self.begin().await?;
        let approve = matches!(decision, ReviewDecision::Approve { .. });
        let mut released = Vec::new();
        if let ReviewDecision::Approve { kyc_macs: Some((name_mac, id_mac)) } = decision {
            // A real-name change, or a verification a reviewer corrected:
            // either way the account is verified with these details.
            sqlx::query(
                "UPDATE accounts SET kyc_status = 'verified', kyc_name_mac = $1, kyc_id_mac = $2,
                 kyc_name_enc = (SELECT name_enc FROM reviews WHERE id = $3), kyc_id_enc = (SELECT id_enc FROM reviews WHERE id = $3),
                 version = version + 1 WHERE id = $4",
            )
            .bind(name_mac)
            .bind(id_mac)
            .bind(&review.id)
            .bind(&review.account_id)
            .execute(&mut *tx)
            .await?;
        }
        let status = if approve { ReviewStatus::Approved } else { ReviewStatus::Rejected };
        let res = sqlx::query(
            "UPDATE reviews SET status = $1, decided_by = $2, decision_reason = $3, decided_at = $4, name_enc = NULL, id_enc = NULL
             WHERE id = $5 AND status = 'submitted'",
        )
        .bind(status.as_str())
        .bind(cause.actor)
        .bind(reason)
        .bind(to_ms(now))
        .bind(&review.id)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            return Ok(None);
        }
        if approve {
            match review.kind {
                ReviewKind::RiskLock | ReviewKind::Unbind => {
                    released = crate::risk::unlock_in(&mut tx, &review.account_id, cause, now).await?;
                }
                ReviewKind::Kyc => {
                    let change =
                        Change { action: "account.kyc", subject: &review.account_id, before: Some("rejected"), after: Some("verified") };
                    crate::audit::append(&mut tx, cause, change, now).await?;
                }
                ReviewKind::PhoneChange => {
                    let Some(phone) = review.new_phone.as_deref() else {
                        return Err(StoreError::Corrupt(format!("phone change review {} without a phone", review.id)));
                    };
                    crate::accounts::move_phone(&mut tx, &review.account_id, phone, cause, now).await?;
                }
                ReviewKind::InfoChange => {
                    let change = Change {
                        action: "account.kyc_change",
                        subject: &review.account_id,
                        before: Some("verified"),
                        after: Some("verified"),
                    };
                    crate::audit::append(&mut tx, cause, change, now).await?;
                }
                ReviewKind::Unfreeze => {
                    crate::accounts::phone_proven(&mut tx, &review.account_id, "review", cause.with_note("identity review"), now).await?;
                }
                ReviewKind::Bind => {}
            }
        }
        let action = if approve { "review.approve" } else { "review.reject" };
        let change = Change { action, subject: &review.id, before: Some("submitted"), after: Some(status.as_str()) };
        crate::audit::append(&mut tx, cause, change, now).await?;
        for n in notices {
            self.insert_message(&mut tx, n, now).await?;
        }
        tx.commit().await?;
        Ok(Some(released))
    }
}
