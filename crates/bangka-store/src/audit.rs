//! The audit log: append-only and hash-chained (SPEC "Audit log").
//!
//! Every entry records who (an API key id, `system` for jobs, `cli`), from
//! where (`api`, `job`, `cli`), what (an action on a subject), the state
//! before and after, and why.
//!
//! Written, then sealed (issue 25). A unit of work inserts its entry with
//! the hash of the entry's own content (`leaf_hash`, which a receipt carries)
//! and touches no shared row: a head row every audited write locked until
//! its commit made every write of every instance wait in one line. The
//! sealer ([`Store::seal_audit`], run by every instance's background loop
//! about once a second, and before every verification) takes the pending
//! entries in the order they were written (`pos`) and gives each its number
//! in the chain (`seq`: 1, 2, 3, …), its predecessor's hash and its chain
//! hash, which covers its number, the predecessor's hash and its leaf hash;
//! `audit_head` holds the last number and hash. Only sealers lock the head
//! (so the chain never forks across instances), and a sealer seals hundreds
//! of entries in one transaction.
//!
//! [`Store::verify_audit`] (`bangka audit verify`) seals what is pending,
//! then walks the chain: an edited entry no longer matches its leaf hash, a
//! deleted or reordered one (or one whose seal was removed) breaks the
//! numbering or the links, and a removed tail no longer matches the head.
//! Entries chained before sealing existed (hash format v1) are checked by
//! their v1 hash. The chain is tamper-evident, not tamper-proof: someone who
//! can write the database could rewrite every later hash; signed receipts
//! carry the leaf hash of their entry, anchoring entries outside the
//! database.

use sha2::{Digest, Sha256};
use sqlx::Row;
use time::OffsetDateTime;

use crate::writeset::{Expect, WriteSet};
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
    /// The order it was written in.
    pub pos: i64,
    /// Its number in the chain; `None` until it is sealed.
    pub seq: Option<i64>,
    pub id: String,
    pub actor: String,
    pub origin: String,
    pub action: String,
    pub subject: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
    pub created_at: OffsetDateTime,
    /// The hash of its own content, set when it is written (`None`: an entry
    /// chained before sealing existed, hash format v1).
    pub leaf_hash: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// SHA-256 over the parts, each length-prefixed (no two lists of parts
/// hash alike).
fn hash_parts(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

const NONE: &str = "\u{0}none";

impl AuditRecord {
    /// The hash of the entry's content: every field but its place in the chain.
    pub fn expected_leaf_hash(&self) -> String {
        hash_parts(&[
            "bangka/audit/leaf/v2",
            &self.id,
            &to_ms(self.created_at).to_string(),
            &self.actor,
            &self.origin,
            &self.action,
            &self.subject,
            self.before.as_deref().unwrap_or(NONE),
            self.after.as_deref().unwrap_or(NONE),
            self.reason.as_deref().unwrap_or(NONE),
        ])
    }

    /// The chain hash this entry must have: over its number, the previous
    /// hash and its leaf hash (v2), or, for an entry chained before sealing
    /// existed, over its number, the previous hash and every field (v1).
    pub fn expected_hash(&self) -> String {
        let seq = self.seq.unwrap_or_default().to_string();
        match &self.leaf_hash {
            Some(leaf) => chain_hash(self.seq.unwrap_or_default(), &self.prev_hash, leaf),
            None => hash_parts(&[
                "bangka/audit/v1",
                &seq,
                &self.prev_hash,
                &self.id,
                &to_ms(self.created_at).to_string(),
                &self.actor,
                &self.origin,
                &self.action,
                &self.subject,
                self.before.as_deref().unwrap_or(NONE),
                self.after.as_deref().unwrap_or(NONE),
                self.reason.as_deref().unwrap_or(NONE),
            ]),
        }
    }
}

/// An entry just written (not sealed yet).
#[derive(Debug, Clone)]
pub struct AuditRef {
    pub id: String,
    /// The order it was written in.
    pub pos: i64,
    /// The hash of its content (what a receipt carries).
    pub leaf_hash: String,
}

/// Appends one entry inside the caller's transaction: one insert, no shared
/// row (the sealer chains it after the commit).
pub(crate) async fn append(
    conn: &mut sqlx::AnyConnection,
    cause: Cause<'_>,
    change: Change<'_>,
    now: OffsetDateTime,
) -> Result<AuditRef, StoreError> {
    let (rec, leaf_hash) = new_entry(cause, change, now);
    let (pos,): (i64,) = sqlx::query_as(&format!("{INSERT_ENTRY} RETURNING pos"))
        .bind(&rec.id)
        .bind(&rec.actor)
        .bind(&rec.origin)
        .bind(&rec.action)
        .bind(&rec.subject)
        .bind(rec.before.as_deref())
        .bind(rec.after.as_deref())
        .bind(rec.reason.as_deref())
        .bind(to_ms(rec.created_at))
        .bind(&leaf_hash)
        .fetch_one(&mut *conn)
        .await?;
    Ok(AuditRef { id: rec.id, pos, leaf_hash })
}

const INSERT_ENTRY: &str =
    "INSERT INTO audit_log (id, actor, origin, action, subject, before_state, after_state, reason, created_at, leaf_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// One entry for a write-set (see [`crate::writeset`]).
pub(crate) fn entry_write(cause: Cause<'_>, change: Change<'_>, now: OffsetDateTime) -> WriteSet {
    entry_write_ref(cause, change, now).0
}

/// As [`entry_write`], with the entry's id and content hash (what a
/// receipt in the same write-set points at).
pub(crate) fn entry_write_ref(cause: Cause<'_>, change: Change<'_>, now: OffsetDateTime) -> (WriteSet, String, String) {
    let (rec, leaf_hash) = new_entry(cause, change, now);
    let (id, hash) = (rec.id.clone(), leaf_hash.clone());
    let mut set = WriteSet::new();
    set.push(
        "audit entry",
        INSERT_ENTRY,
        vec![
            rec.id.into(),
            rec.actor.into(),
            rec.origin.into(),
            rec.action.into(),
            rec.subject.into(),
            rec.before.into(),
            rec.after.into(),
            rec.reason.into(),
            to_ms(rec.created_at).into(),
            leaf_hash.into(),
        ],
        Expect::Any,
    );
    (set, id, hash)
}

/// An entry as written, and the hash of its content.
fn new_entry(cause: Cause<'_>, change: Change<'_>, now: OffsetDateTime) -> (AuditRecord, String) {
    let rec = AuditRecord {
        pos: 0,
        seq: None,
        id: new_id("aud"),
        actor: cause.actor.to_owned(),
        origin: cause.origin.to_owned(),
        action: change.action.to_owned(),
        subject: change.subject.to_owned(),
        before: change.before.map(str::to_owned),
        after: change.after.map(str::to_owned),
        reason: cause.note.map(str::to_owned),
        created_at: from_ms(to_ms(now)),
        leaf_hash: None,
        prev_hash: String::new(),
        hash: String::new(),
    };
    let leaf_hash = rec.expected_leaf_hash();
    (rec, leaf_hash)
}

const RECORD_COLS: &str =
    "pos, seq, id, actor, origin, action, subject, before_state, after_state, reason, created_at, leaf_hash, prev_hash, hash";

fn record(r: &sqlx::any::AnyRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        pos: r.try_get("pos")?,
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
        leaf_hash: r.try_get("leaf_hash")?,
        prev_hash: r.try_get::<Option<String>, _>("prev_hash")?.unwrap_or_default(),
        hash: r.try_get::<Option<String>, _>("hash")?.unwrap_or_default(),
    })
}

/// What `verify_audit` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerdict {
    /// Sealed entries walked.
    pub entries: i64,
    pub head: String,
    /// The first break: the entry number and what is wrong there.
    pub problem: Option<(i64, String)>,
}

impl Store {
    /// Records a change that touches nothing else (e.g. a detokenization),
    /// durable before it returns (outside a request's unit: by the writer,
    /// on its own). Returns the entry id.
    pub async fn audit(&self, cause: Cause<'_>, change: Change<'_>, now: OffsetDateTime) -> Result<String, StoreError> {
        let (set, id, _) = entry_write_ref(cause, change, now);
        self.write_now(set).await?;
        Ok(id)
    }

    /// The entries about one subject, in order.
    pub async fn audit_entries(&self, subject: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {RECORD_COLS} FROM audit_log WHERE subject = $1 ORDER BY pos"))
            .bind(subject)
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(record).collect()
    }

    /// The latest `limit` entries, newest first (the console's audit view).
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {RECORD_COLS} FROM audit_log ORDER BY pos DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(record).collect()
    }

    /// Seals the pending entries, then walks the whole chain; see the
    /// module docs.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        while self.seal_audit().await? == SEAL_BATCH {}
        let rows = sqlx::query(&format!("SELECT {RECORD_COLS} FROM audit_log WHERE seq IS NOT NULL ORDER BY seq"))
            .fetch_all(&mut *self.read().await?)
            .await?;
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut *self.read().await?).await?;
        let mut prev = GENESIS.to_owned();
        let mut expect = 1;
        let n = rows.len() as i64;
        let broken = |at: i64, why: String| Ok(AuditVerdict { entries: n, head: head_hash.clone(), problem: Some((at, why)) });
        for r in &rows {
            let rec = record(r)?;
            let seq = rec.seq.unwrap_or_default();
            if seq != expect {
                return broken(expect, format!("entry {expect} is missing or out of order (found entry {seq} next)"));
            }
            if rec.prev_hash != prev {
                return broken(seq, format!("entry {seq} does not follow entry {}: an entry was removed, inserted or moved", seq - 1));
            }
            let content_intact = rec.leaf_hash.as_ref().is_none_or(|leaf| *leaf == rec.expected_leaf_hash());
            if !content_intact || rec.hash != rec.expected_hash() {
                return broken(seq, format!("entry {seq} was altered after it was written"));
            }
            prev = rec.hash;
            expect += 1;
        }
        let last = expect - 1;
        if head_seq != last || head_hash != prev {
            return broken(last + 1, format!("the log ends at entry {last} but {head_seq} were written: the last entries were removed"));
        }
        Ok(AuditVerdict { entries: n, head: head_hash, problem: None })
    }

    /// Seals up to [`SEAL_BATCH`] pending entries, in the order they were
    /// written, in one transaction: each gets the next number, the hash
    /// before it and its chain hash, and the head moves to the last. Safe on
    /// many instances: the head's row lock (taken only here) makes sealers
    /// take turns, and each seals what is still pending when its turn
    /// comes. Returns how many it sealed.
    pub async fn seal_audit(&self) -> Result<usize, StoreError> {
        // Most turns of an idle instance find nothing: asked on the read
        // side first, so they take neither the writer nor the head's lock.
        let any: Option<(i64,)> =
            sqlx::query_as("SELECT pos FROM audit_log WHERE seq IS NULL LIMIT 1").fetch_optional(&mut *self.read().await?).await?;
        if any.is_none() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let (mut seq, mut prev): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash").fetch_one(&mut *tx).await?;
        // Only what the chain hash needs: the leaf hash, set when the entry
        // was written (the sealer holds the writer; decoding whole entries
        // was most of its time).
        let pending: Vec<(i64, Option<String>)> =
            sqlx::query_as(&format!("SELECT pos, leaf_hash FROM audit_log WHERE seq IS NULL ORDER BY pos LIMIT {SEAL_BATCH}"))
                .fetch_all(&mut *tx)
                .await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut sealed: Vec<(i64, i64, String, String)> = Vec::with_capacity(pending.len());
        for (pos, leaf) in pending {
            let leaf = match leaf {
                Some(leaf) => leaf,
                None => legacy_leaf(&mut tx, pos).await?,
            };
            seq += 1;
            let hash = chain_hash(seq, &prev, &leaf);
            sealed.push((pos, seq, std::mem::replace(&mut prev, hash.clone()), hash));
        }
        // Many rows a statement (a statement costs a round trip to the
        // database, or a thread hop to SQLite's); VALUES columns are named
        // column1, column2, … on both databases.
        for chunk in sealed.chunks(SEALS_PER_STATEMENT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 4;
                    format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4)
                })
                .collect();
            let sql = format!(
                "UPDATE audit_log SET seq = v.column2, prev_hash = v.column3, hash = v.column4
                 FROM (VALUES {}) AS v WHERE audit_log.pos = v.column1 AND audit_log.seq IS NULL",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (pos, seq, prev_hash, hash) in chunk {
                q = q.bind(pos).bind(seq).bind(prev_hash).bind(hash);
            }
            let res = q.execute(&mut *tx).await?;
            if res.rows_affected() != chunk.len() as u64 {
                // Sealed by someone else under our lock: the store is not
                // what this code wrote; seal nothing rather than fork.
                return Err(StoreError::Corrupt("audit entries sealed while the head was held".into()));
            }
        }
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1").bind(seq).bind(&prev).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(sealed.len())
    }
}

/// The chain hash of entry `seq` (format v2): over its number, the hash
/// before it and its leaf hash.
fn chain_hash(seq: i64, prev: &str, leaf: &str) -> String {
    hash_parts(&["bangka/audit/v2", &seq.to_string(), prev, leaf])
}

/// An entry written before sealing existed (and never chained, from before
/// migration 0005): its origin defaulted and its leaf hash computed and
/// stored, so it is sealed like any other.
async fn legacy_leaf(tx: &mut sqlx::AnyConnection, pos: i64) -> Result<String, StoreError> {
    let row = sqlx::query(&format!("SELECT {RECORD_COLS} FROM audit_log WHERE pos = $1")).bind(pos).fetch_one(&mut *tx).await?;
    let mut rec = record(&row)?;
    if rec.origin.is_empty() {
        rec.origin = "api".into();
    }
    let leaf = rec.expected_leaf_hash();
    sqlx::query("UPDATE audit_log SET origin = $1, leaf_hash = $2 WHERE pos = $3")
        .bind(&rec.origin)
        .bind(&leaf)
        .bind(pos)
        .execute(&mut *tx)
        .await?;
    Ok(leaf)
}

/// Entries one sealing transaction seals at most.
pub const SEAL_BATCH: usize = 2000;

/// Entries one statement seals (6 parameters each: well under SQLite's and
/// PostgreSQL's limits on parameters per statement).
const SEALS_PER_STATEMENT: usize = 250;
