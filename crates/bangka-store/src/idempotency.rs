//! Idempotency keys: what a request with a key finds, its claim and its
//! stored answer.

use time::OffsetDateTime;

use crate::WriteOn;
use crate::readers::Cols;
use crate::{Store, StoreError, from_ms, to_ms};

/// An `Idempotency-Key` row as a request finds it before running.
#[derive(Debug, PartialEq, Eq)]
pub enum IdemState {
    /// Answered: send this stored answer again. `resume` is kept with a
    /// transient answer (one that says when to try again) of a request
    /// that wrote down an intent: once that time has passed, a retry
    /// resumes the request and answers its state then, instead of
    /// replaying advice that no longer holds.
    Answered { status: u16, response: String, resume: Option<String> },
    /// Claimed and not answered: a request is running it, or committed its
    /// intent before a bank call and then crashed. `resume` says how to
    /// finish it (the flow's own JSON); `since` is when it was claimed or
    /// last checkpointed.
    Running { resume: Option<String>, since: OffsetDateTime },
    /// The key was used with a different request.
    Mismatch,
}

impl Store {
    /// What a request with this key and hash finds (`None`: the key is new).
    pub async fn idem_peek(&self, scope: &str, key: &str, request_hash: &str) -> Result<Option<IdemState>, StoreError> {
        type Row = (String, Option<i64>, Option<String>, i64, Option<String>);
        fn claim_row(r: &impl Cols) -> Result<Row, StoreError> {
            Ok((r.col("request_hash")?, r.col("status_code")?, r.col("response")?, r.col("created_at")?, r.col("resume")?))
        }
        // Every keyed request asks first: read on this thread (no hop).
        const SQL: &str =
            "SELECT request_hash, status_code, response, created_at, resume FROM idempotency WHERE scope = $1 AND idem_key = $2";
        let row = self.fetch_row(SQL, &[scope.into(), key.into()], claim_row, |r| claim_row(r)).await?;
        Ok(row.map(|(hash, status, response, created_at, resume)| match (status, response) {
            _ if hash != request_hash => IdemState::Mismatch,
            (Some(s), Some(r)) => IdemState::Answered { status: s as u16, response: r, resume },
            _ => IdemState::Running { resume, since: from_ms(created_at) },
        }))
    }

    /// Removes an unanswered claim with nothing to resume that was taken at
    /// `since` (left by a version that claimed before its unit of work);
    /// whether it was removed.
    pub async fn idem_take_over(&self, scope: &str, key: &str, since: OffsetDateTime) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "DELETE FROM idempotency WHERE scope = $1 AND idem_key = $2 AND created_at = $3 AND status_code IS NULL AND resume IS NULL",
        )
        .bind(scope)
        .bind(key)
        .bind(to_ms(since))
        .write_on(self)
        .await?;
        Ok(res.rows_affected() == 1)
    }
}
