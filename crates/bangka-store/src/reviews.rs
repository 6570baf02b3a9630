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
use crate::writeset::{Arg, Expect, WriteSet};
use crate::{Store, StoreError, from_ms, new_id, to_ms};

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

impl ReviewRow {
    /// The review as its end leaves it (decided, withdrawn): the requested
    /// real-name values erased.
    fn ended(&self, status: ReviewStatus, by: &str, reason: &str, now: OffsetDateTime) -> ReviewRow {
        ReviewRow {
            status,
            decided_by: Some(by.to_owned()),
            decision_reason: Some(reason.to_owned()),
            decided_at: Some(from_ms(to_ms(now))),
            name_enc: None,
            id_enc: None,
            ..self.clone()
        }
    }
}

/// What a review's decision leaves (see [`Store::decide_review`]).
pub struct ReviewDecided {
    pub review: ReviewRow,
    pub account: crate::AccountRow,
    /// The scopes an approval's unlock released.
    pub released: Vec<String>,
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
    /// Submits a review, audited, with its notices, as one write-set (a
    /// phone change's code used up with it). `Err(id)` when one of the kind
    /// is already waiting for the account, `Err("")` when the code was used
    /// meanwhile (applied now, nothing written; staged, the state it was
    /// decided on moved and the request decides again).
    pub async fn create_review(
        &self,
        r: &NewReview<'_>,
        notices: &[NewMessage],
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<Result<ReviewRow, String>, StoreError> {
        let id = new_id("rev");
        let mut set = WriteSet::new();
        // The unique index on a waiting review of the kind refuses a second.
        set.push(
            "no review of the kind waiting",
            format!(
                "INSERT INTO reviews ({COLS}) VALUES ($1, $2, $3, 'submitted', $4, $5, $6, $7, $8, $9, $10, NULL, NULL, NULL, $11, $12)"
            ),
            vec![
                (&id).into(),
                r.account_id.into(),
                r.kind.as_str().into(),
                r.statement.into(),
                r.materials.to_string().into(),
                r.attempt_id.into(),
                r.binding_id.into(),
                r.card_fp.into(),
                Arg::Blob(r.sealed.map(|s| s.0.to_vec())),
                Arg::Blob(r.sealed.map(|s| s.1.to_vec())),
                to_ms(now).into(),
                r.new_phone.map(|p| p.0).into(),
            ],
            Expect::One,
        );
        if let Some((_, challenge_id)) = r.new_phone {
            set.extend(crate::bindings::use_challenge_write(challenge_id, now));
        }
        let change = Change { action: "review.submit", subject: &id, before: None, after: Some(r.kind.as_str()) };
        set.extend(crate::audit::entry_write(cause, change, now));
        for n in notices {
            // A notice names the review: `{review_id}` is filled in here,
            // where the id is made.
            let n = NewMessage { zh: n.zh.replace("{review_id}", &id), en: n.en.replace("{review_id}", &id), ..n.clone() };
            set.extend(self.message_set(&n, now).await?);
        }
        if !self.put(set).await? {
            let sql = "SELECT id FROM reviews WHERE account_id = $1 AND kind = $2 AND status = 'submitted'";
            let pending: Option<String> =
                self.fetch_row(sql, &[r.account_id.into(), r.kind.as_str().into()], |r| r.col("id"), |r| r.col("id")).await?;
            // None: the code was used, or the review decided in between
            // (the caller may simply submit again).
            return Ok(Err(pending.unwrap_or_default()));
        }
        Ok(Ok(ReviewRow {
            id,
            account_id: r.account_id.to_owned(),
            kind: r.kind,
            status: ReviewStatus::Submitted,
            statement: r.statement.to_owned(),
            materials: r.materials.clone(),
            attempt_id: r.attempt_id.map(str::to_owned),
            binding_id: r.binding_id.map(str::to_owned),
            card_fp: r.card_fp.map(str::to_owned),
            name_enc: r.sealed.map(|s| s.0.to_vec()),
            id_enc: r.sealed.map(|s| s.1.to_vec()),
            new_phone: r.new_phone.map(|p| p.0.to_owned()),
            decided_by: None,
            decision_reason: None,
            decided_at: None,
            created_at: from_ms(to_ms(now)),
        }))
    }

    pub async fn get_review(&self, id: &str) -> Result<Option<ReviewRow>, StoreError> {
        let r = sqlx::query(&format!("SELECT {COLS} FROM reviews WHERE id = $1")).bind(id).fetch_optional(&mut *self.read().await?).await?;
        r.as_ref().map(review_row).transpose()
    }

    pub async fn account_reviews(&self, account_id: &str, page: &crate::PageRequest) -> Result<crate::Page<ReviewRow>, StoreError> {
        let list = crate::page::Listing {
            table: "reviews",
            cols: COLS,
            scope: "account_id = $1",
            owner: "account_id = $1",
            key: "created_at",
            id: "id",
            descending: true,
        };
        self.page(&list, vec![account_id.into()], page, review_row).await
    }

    /// Reviews for reviewers, oldest first (the queue's order).
    pub async fn ops_reviews(&self, status: ReviewStatus, page: &crate::PageRequest) -> Result<crate::Page<ReviewRow>, StoreError> {
        let list = crate::page::Listing {
            table: "reviews",
            cols: COLS,
            scope: "status = $1",
            owner: "1 = 1",
            key: "created_at",
            id: "id",
            descending: false,
        };
        self.page(&list, vec![status.as_str().into()], page, review_row).await
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
        Ok(Some(review.ended(ReviewStatus::Withdrawn, cause.actor, REASON, now)))
    }

    /// Decides a submitted review: its status, the effect of an approval
    /// (a lock lifted, the real-name record replaced, the phone moved or
    /// proven), the holder's notices and the audit entries, as one
    /// write-set decided on the review and its `account` as read. The
    /// requested real-name values are erased from the review either way.
    /// Returns the review and its account as they will be, or
    /// `None` when the state moved meanwhile (the review decided, the
    /// locks or the account changed: applied now, nothing written; staged,
    /// the request decides again).
    #[allow(clippy::too_many_arguments)]
    pub async fn decide_review(
        &self,
        review: &ReviewRow,
        account: &crate::AccountRow,
        decision: ReviewDecision<'_>,
        reason: &str,
        notices: &[NewMessage],
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<ReviewDecided>, StoreError> {
        if review.status != ReviewStatus::Submitted {
            return Ok(None);
        }
        let approve = matches!(decision, ReviewDecision::Approve { .. });
        let mut set = WriteSet::new();
        let mut released = Vec::new();
        let mut after = account.clone();
        if let ReviewDecision::Approve { kyc_macs: Some((name_mac, id_mac)) } = decision {
            // A real-name change, or a verification a reviewer corrected:
            // either way the account is verified with these details.
            set.push(
                "account",
                "UPDATE accounts SET kyc_status = 'verified', kyc_name_mac = $1, kyc_id_mac = $2,
                 kyc_name_enc = (SELECT name_enc FROM reviews WHERE id = $3), kyc_id_enc = (SELECT id_enc FROM reviews WHERE id = $3),
                 version = version + 1 WHERE id = $4",
                vec![name_mac.into(), id_mac.into(), (&review.id).into(), (&review.account_id).into()],
                Expect::One,
            );
            after.kyc = bangka_core::bind::KycState::Verified;
            after.kyc_name_mac = Some(name_mac.to_owned());
            after.kyc_id_mac = Some(id_mac.to_owned());
        }
        let status = if approve { ReviewStatus::Approved } else { ReviewStatus::Rejected };
        set.push(
            "review still waiting",
            "UPDATE reviews SET status = $1, decided_by = $2, decision_reason = $3, decided_at = $4, name_enc = NULL, id_enc = NULL
             WHERE id = $5 AND status = 'submitted'",
            vec![status.as_str().into(), cause.actor.into(), reason.into(), to_ms(now).into(), (&review.id).into()],
            Expect::One,
        );
        if approve {
            match review.kind {
                ReviewKind::RiskLock | ReviewKind::Unbind => {
                    let locks = self.account_locks(&review.account_id, now).await?;
                    if !locks.is_empty() {
                        set.extend(crate::risk::unlock_write(&review.account_id, &locks, cause, now));
                        released = locks.scopes();
                        after.locked_until = None;
                    }
                }
                ReviewKind::Kyc => {
                    let change =
                        Change { action: "account.kyc", subject: &review.account_id, before: Some("rejected"), after: Some("verified") };
                    set.extend(crate::audit::entry_write(cause, change, now));
                }
                ReviewKind::PhoneChange => {
                    let Some(phone) = review.new_phone.as_deref() else {
                        return Err(StoreError::Corrupt(format!("phone change review {} without a phone", review.id)));
                    };
                    let stale = self.stale_others(review).await?;
                    set.extend(crate::accounts::move_phone_write(account, &stale, phone, cause, now));
                    after = crate::accounts::AccountRow { phone: phone.to_owned(), ..crate::accounts::phone_proven_row(&after, now) };
                }
                ReviewKind::InfoChange => {
                    let change = Change {
                        action: "account.kyc_change",
                        subject: &review.account_id,
                        before: Some("verified"),
                        after: Some("verified"),
                    };
                    set.extend(crate::audit::entry_write(cause, change, now));
                }
                ReviewKind::Unfreeze => {
                    let stale = self.stale_others(review).await?;
                    set.extend(crate::accounts::phone_proven_write(account, &stale, "review", cause.with_note("identity review"), now));
                    after = crate::accounts::phone_proven_row(&after, now);
                }
                ReviewKind::Bind => {}
            }
        }
        let action = if approve { "review.approve" } else { "review.reject" };
        let change = Change { action, subject: &review.id, before: Some("submitted"), after: Some(status.as_str()) };
        set.extend(crate::audit::entry_write(cause, change, now));
        for n in notices {
            set.extend(self.message_set(n, now).await?);
        }
        if !self.put(set).await? {
            return Ok(None);
        }
        Ok(Some(ReviewDecided { review: review.ended(status, cause.actor, reason, now), account: after, released }))
    }

    /// The phone requests waiting besides `review` (which its decision
    /// takes out of the waiting ones first).
    async fn stale_others(&self, review: &ReviewRow) -> Result<Vec<String>, StoreError> {
        Ok(self.stale_phone_reviews(&review.account_id).await?.into_iter().filter(|id| *id != review.id).collect())
    }
}
