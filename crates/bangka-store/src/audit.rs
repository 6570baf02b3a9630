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
//! `audit_head` holds the last number and hash. Only sealers move the head,
//! each with a write-set guarded by the head as it read it (so the chain
//! never forks across instances: a sealer that lost the race reads again),
//! and a sealer seals up to thousands of entries in one write-set, computed
//! before the writer is taken.
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

use crate::readers::Cols;
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

/// Which entries of the log to list (each given field must match).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub subject: Option<String>,
    pub action: Option<String>,
    pub actor: Option<String>,
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

    /// A page of the log, newest first (the console's audit view), of the
    /// entries about `subject`, of `action` and by `actor` where given.
    pub async fn audit_page(&self, filter: &AuditFilter, page: &crate::PageRequest) -> Result<crate::Page<AuditRecord>, StoreError> {
        let mut scope = vec!["1 = 1".to_owned()];
        let mut args: Vec<crate::writeset::Arg> = Vec::new();
        for (column, value) in [("subject", &filter.subject), ("action", &filter.action), ("actor", &filter.actor)] {
            if let Some(v) = value {
                args.push(v.as_str().into());
                scope.push(format!("{column} = ${}", args.len()));
            }
        }
        let scope = scope.join(" AND ");
        let list = crate::page::Listing {
            table: "audit_log",
            cols: RECORD_COLS,
            scope: &scope,
            owner: "1 = 1",
            key: "pos",
            id: "id",
            descending: true,
        };
        self.page(&list, args, page, record).await
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
    /// written, as one write-set: each gets the next number, the hash
    /// before it and its chain hash, and the head moves to the last. Safe on
    /// many instances: the write-set is guarded by the head as read, so of
    /// two sealers that read the same head one applies and the other reads
    /// again. Returns how many it sealed.
    pub async fn seal_audit(&self) -> Result<usize, StoreError> {
        // Another instance's sealer moved the head between this one's read
        // and its apply: read again (each turn seals what is pending then).
        for _ in 0..5 {
            if let Some(n) = self.base().seal_once().await? {
                return Ok(n);
            }
        }
        Ok(0)
    }

    /// One sealing turn in the read-decide-apply shape: the head and the
    /// pending entries read on the read side, the chain computed, and one
    /// write-set guarded by the head as read (only a sealer moves it, so
    /// the entries read as pending still are), applied by the writer
    /// thread on SQLite: the sealer never holds the writer while it
    /// computes. `None`: the head moved meanwhile, nothing written.
    /// (An idle instance's turn is two small reads.)
    async fn seal_once(&self) -> Result<Option<usize>, StoreError> {
        // The head first, then what is pending: if the head has not moved
        // by the apply, no sealer sealed anything since it was read, so
        // every entry read as pending still is.
        let sql = "SELECT seq, hash FROM audit_head WHERE id = 1";
        let head: Option<(i64, String)> =
            self.fetch_row(sql, &[], |r| Ok((r.col("seq")?, r.col("hash")?)), |r| Ok((r.col("seq")?, r.col("hash")?))).await?;
        let (mut seq, mut prev) = head.ok_or_else(|| StoreError::Corrupt("the audit head is missing".into()))?;
        let sql = format!("SELECT pos, leaf_hash FROM audit_log WHERE seq IS NULL ORDER BY pos LIMIT {SEAL_BATCH}");
        let pending: Vec<(i64, Option<String>)> =
            self.fetch_rows(&sql, &[], |r| Ok((r.col("pos")?, r.col("leaf_hash")?)), |r| Ok((r.col("pos")?, r.col("leaf_hash")?))).await?;
        if pending.is_empty() {
            return Ok(Some(0));
        }
        let (head_seq, head_hash) = (seq, prev.clone());
        let mut set = WriteSet::new();
        let mut sealed: Vec<(i64, i64, String, String)> = Vec::with_capacity(pending.len());
        for (pos, leaf) in pending {
            let leaf = match leaf {
                Some(leaf) => leaf,
                None => {
                    let (write, leaf) = self.legacy_leaf(pos).await?;
                    set.extend(write);
                    leaf
                }
            };
            seq += 1;
            let hash = chain_hash(seq, &prev, &leaf);
            sealed.push((pos, seq, std::mem::replace(&mut prev, hash.clone()), hash));
        }
        set.push(
            "the audit head as read",
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4",
            vec![seq.into(), (&prev).into(), head_seq.into(), head_hash.into()],
            Expect::One,
        );
        if self.backend == crate::Backend::Postgres {
            // Many rows a statement: each costs PostgreSQL a round trip.
            // VALUES columns are named column1, column2, ….
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
                let args =
                    chunk.iter().flat_map(|(pos, seq, prev, hash)| [(*pos).into(), (*seq).into(), prev.into(), hash.into()]).collect();
                set.push("audit entries still pending", sql, args, Expect::Any);
            }
        } else {
            // One prepared statement a row on the writer thread: cheaper
            // than one statement with thousands of named parameters.
            for (pos, seq, prev, hash) in &sealed {
                set.push(
                    "an audit entry still pending",
                    "UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE pos = $4 AND seq IS NULL",
                    vec![(*seq).into(), prev.into(), hash.into(), (*pos).into()],
                    Expect::One,
                );
            }
        }
        Ok(self.put(set).await?.then_some(sealed.len()))
    }

    /// An entry written before sealing existed (and never chained, from
    /// before migration 0005): its origin defaulted and its leaf hash
    /// computed, and the write that stores both, so it is sealed like any
    /// other.
    async fn legacy_leaf(&self, pos: i64) -> Result<(WriteSet, String), StoreError> {
        let row = sqlx::query(&format!("SELECT {RECORD_COLS} FROM audit_log WHERE pos = $1"))
            .bind(pos)
            .fetch_one(&mut *self.read().await?)
            .await?;
        let mut rec = record(&row)?;
        if rec.origin.is_empty() {
            rec.origin = "api".into();
        }
        let leaf = rec.expected_leaf_hash();
        let mut set = WriteSet::new();
        set.push(
            "a legacy audit entry",
            "UPDATE audit_log SET origin = $1, leaf_hash = $2 WHERE pos = $3",
            vec![(&rec.origin).into(), (&leaf).into(), pos.into()],
            Expect::One,
        );
        Ok((set, leaf))
    }
}

/// The chain hash of entry `seq` (format v2): over its number, the hash
/// before it and its leaf hash.
fn chain_hash(seq: i64, prev: &str, leaf: &str) -> String {
    hash_parts(&["bangka/audit/v2", &seq.to_string(), prev, leaf])
}

/// Entries one sealing transaction seals at most.
pub const SEAL_BATCH: usize = 2000;

/// Entries one statement seals (6 parameters each: well under SQLite's and
/// PostgreSQL's limits on parameters per statement).
const SEALS_PER_STATEMENT: usize = 250;
