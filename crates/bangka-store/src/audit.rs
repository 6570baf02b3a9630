//! The audit log: append-only and hash-chained (SPEC "Audit log").
//!
//! Every entry records who (an API key id, `system` for jobs, `cli`), from
//! where (`api`, `job`, `cli`), what (an action on a subject), the state
//! before and after, and why. Entries are numbered 1, 2, 3, … and each holds
//! the previous entry's hash; its own hash covers its number and every field.
//! `audit_head` holds the last number and hash, and is updated in the same
//! transaction as each append, which also serializes appenders (a row lock
//! on PostgreSQL, the single writer on SQLite) so the chain never forks.
//!
//! [`Store::verify_audit`] (`bangka audit verify`) walks the chain: an edited
//! entry no longer matches its hash, a deleted or reordered one breaks the
//! numbering or the links, and a removed tail no longer matches the head.
//! The chain is tamper-evident, not tamper-proof: someone who can write the
//! database could rewrite every later hash; signed receipts carry the hash
//! of their entry, anchoring the chain outside the database.

use sha2::{Digest, Sha256};
use sqlx::Row;
use time::OffsetDateTime;

use crate::{Store, StoreError, from_ms, new_id, to_ms};

/// The `prev_hash` of entry 1.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who caused a change and from where, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Cause<'a> {
    /// An API key id, `system` (a background job) or `cli`.
    pub actor: &'a str,
    /// `api`, `job` or `cli`.
    pub origin: &'a str,
    /// Why, in the actor's words, when one was given.
    pub note: Option<&'a str>,
}

impl<'a> Cause<'a> {
    pub fn api(actor: &'a str) -> Self {
        Cause { actor, origin: "api", note: None }
    }

    pub fn job() -> Self {
        Cause { actor: "system", origin: "job", note: None }
    }

    pub fn with_note(self, note: &'a str) -> Self {
        Cause { note: Some(note), ..self }
    }
}

/// One change to record.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub action: &'a str,
    pub subject: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// An entry as stored.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub seq: i64,
    pub id: String,
    pub actor: String,
    pub origin: String,
    pub action: String,
    pub subject: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
    pub created_at: OffsetDateTime,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The hash this entry must have: SHA-256 over its number, the previous
    /// hash and every field, each length-prefixed (no two entries can
    /// serialize the same).
    pub fn expected_hash(&self) -> String {
        let mut h = Sha256::new();
        let none = "\u{0}none";
        for part in [
            "bangka/audit/v1",
            &self.seq.to_string(),
            &self.prev_hash,
            &self.id,
            &to_ms(self.created_at).to_string(),
            &self.actor,
            &self.origin,
            &self.action,
            &self.subject,
            self.before.as_deref().unwrap_or(none),
            self.after.as_deref().unwrap_or(none),
            self.reason.as_deref().unwrap_or(none),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// Where an appended entry sits in the chain.
#[derive(Debug, Clone)]
pub struct AuditRef {
    pub id: String,
    pub seq: i64,
    pub hash: String,
}

/// Appends one entry inside the caller's transaction.
pub(crate) async fn append(
    conn: &mut sqlx::AnyConnection,
    cause: Cause<'_>,
    change: Change<'_>,
    now: OffsetDateTime,
) -> Result<AuditRef, StoreError> {
    let (seq, prev_hash): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").fetch_one(&mut *conn).await?;
    let mut rec = AuditRecord {
        seq,
        id: new_id("aud"),
        actor: cause.actor.to_owned(),
        origin: cause.origin.to_owned(),
        action: change.action.to_owned(),
        subject: change.subject.to_owned(),
        before: change.before.map(str::to_owned),
        after: change.after.map(str::to_owned),
        reason: cause.note.map(str::to_owned),
        created_at: from_ms(to_ms(now)),
        prev_hash,
        hash: String::new(),
    };
    rec.hash = rec.expected_hash();
    sqlx::query(
        "INSERT INTO audit_log (seq, id, actor, origin, action, subject, before_state, after_state, reason, created_at, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(rec.seq)
    .bind(&rec.id)
    .bind(&rec.actor)
    .bind(&rec.origin)
    .bind(&rec.action)
    .bind(&rec.subject)
    .bind(rec.before.as_deref())
    .bind(rec.after.as_deref())
    .bind(rec.reason.as_deref())
    .bind(to_ms(rec.created_at))
    .bind(&rec.prev_hash)
    .bind(&rec.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&rec.hash).execute(&mut *conn).await?;
    Ok(AuditRef { id: rec.id, seq: rec.seq, hash: rec.hash })
}

const RECORD_COLS: &str = "seq, id, actor, origin, action, subject, before_state, after_state, reason, created_at, prev_hash, hash";

fn record(r: &sqlx::any::AnyRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: r.try_get("seq")?,
        id: r.try_get("id")?,
        actor: r.try_get("actor")?,
        origin: r.try_get::<Option<String>, _>("origin")?.unwrap_or_default(),
        action: r.try_get("action")?,
        subject: r.try_get("subject")?,
        before: r.try_get("before_state")?,
        after: r.try_get("after_state")?,
        reason: r.try_get("reason")?,
        created_at: from_ms(r.try_get("created_at")?),
        prev_hash: r.try_get::<Option<String>, _>("prev_hash")?.unwrap_or_default(),
        hash: r.try_get::<Option<String>, _>("hash")?.unwrap_or_default(),
    })
}

/// What `verify_audit` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerdict {
    pub entries: i64,
    pub head: String,
    /// The first break: the entry number and what is wrong there.
    pub problem: Option<(i64, String)>,
}

impl Store {
    /// Records a change that touches nothing else (e.g. a detokenization),
    /// in its own transaction. Returns the entry id.
    pub async fn audit(&self, cause: Cause<'_>, change: Change<'_>, now: OffsetDateTime) -> Result<String, StoreError> {
        let mut tx = self.begin().await?;
        let r = append(&mut tx, cause, change, now).await?;
        tx.commit().await?;
        Ok(r.id)
    }

    /// The entries about one subject, in order.
    pub async fn audit_entries(&self, subject: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {RECORD_COLS} FROM audit_log WHERE subject = $1 ORDER BY seq"))
            .bind(subject)
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(record).collect()
    }

    /// The latest `limit` entries, newest first (the console's audit view).
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {RECORD_COLS} FROM audit_log ORDER BY seq DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(record).collect()
    }

    /// Walks the whole chain; see the module docs.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        let rows = sqlx::query(&format!("SELECT {RECORD_COLS} FROM audit_log ORDER BY seq")).fetch_all(&mut *self.read().await?).await?;
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut *self.read().await?).await?;
        let mut prev = GENESIS.to_owned();
        let mut expect = 1;
        let broken = |at: i64, why: String, n: i64| Ok(AuditVerdict { entries: n, head: head_hash.clone(), problem: Some((at, why)) });
        for r in &rows {
            let rec = record(r)?;
            if rec.seq != expect {
                return broken(
                    expect,
                    format!("entry {expect} is missing or out of order (found entry {} next)", rec.seq),
                    rows.len() as i64,
                );
            }
            if rec.prev_hash != prev {
                return broken(
                    rec.seq,
                    format!("entry {} does not follow entry {}: an entry was removed, inserted or moved", rec.seq, rec.seq - 1),
                    rows.len() as i64,
                );
            }
            if rec.hash != rec.expected_hash() {
                return broken(rec.seq, format!("entry {} was altered after it was written", rec.seq), rows.len() as i64);
            }
            prev = rec.hash;
            expect += 1;
        }
        let last = expect - 1;
        if head_seq != last || head_hash != prev {
            return broken(
                last + 1,
                format!("the log ends at entry {last} but {head_seq} were written: the last entries were removed"),
                rows.len() as i64,
            );
        }
        Ok(AuditVerdict { entries: rows.len() as i64, head: head_hash, problem: None })
    }

    /// Chains entries written before the log was chained (migration 0005).
    pub(crate) async fn chain_unchained_audit(&self) -> Result<(), StoreError> {
        let rows = sqlx::query(&format!("SELECT {RECORD_COLS} FROM audit_log WHERE hash IS NULL ORDER BY seq"))
            .fetch_all(&mut *self.read().await?)
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1").execute(&mut *tx).await?;
        let (mut seq, mut prev): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut *tx).await?;
        for r in &rows {
            let mut rec = record(r)?;
            let old_seq = rec.seq;
            seq += 1;
            rec.seq = seq;
            rec.prev_hash = prev;
            rec.origin = if rec.origin.is_empty() { "api".into() } else { rec.origin };
            rec.hash = rec.expected_hash();
            sqlx::query("UPDATE audit_log SET seq = $1, origin = $2, prev_hash = $3, hash = $4 WHERE seq = $5 AND hash IS NULL")
                .bind(rec.seq)
                .bind(&rec.origin)
                .bind(&rec.prev_hash)
                .bind(&rec.hash)
                .bind(old_seq)
                .execute(&mut *tx)
                .await?;
            prev = rec.hash;
        }
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1").bind(seq).bind(&prev).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
