//! A write-set: everything a request changes, decided before the writer is
//! taken, applied in one go.
//!
//! # Why
//! A unit of work that writes statement by statement holds SQLite's one
//! writer (or PostgreSQL row locks) from its first write to its commit,
//! across every `await` of the flow in between and a thread hop per
//! statement (sqlx runs each SQLite statement on its own worker thread).
//! That made the writer, not the work, the limit (issue 25: ~620 units/s
//! while a core idled). A flow that reads and decides first, and then hands
//! the store one [`WriteSet`], holds the writer only for SQLite's own work.
//!
//! # Preconditions
//! A flow decides on what it read; by the time its write-set is applied the
//! state may have moved. Each [`Write`] therefore says what it expects
//! ([`Expect`]): exactly one row changed (an update guarded by the status
//! the flow saw), a guard query that returns a row (no live card of this
//! fingerprint, room under the binding limit), or the idempotency claim.
//! A write-set whose expectation fails is refused whole with
//! [`StoreError::Conflict`] (or [`StoreError::ClaimTaken`]) and changes
//! nothing; the caller re-reads and decides again.
//!
//! # SQLite: a writer that only writes
//! `unit::Applier` is a thread owning a synchronous connection (rusqlite, its
//! statements prepared once and cached). It applies queued write-sets back
//! to back, each inside a savepoint of one transaction, and commits the
//! batch with one fsync (`synchronous=FULL`: an acknowledged write survives
//! power loss). No flow code runs while it holds the writer. The unit path
//! (`unit.rs`) still writes statement by statement through sqlx for flows
//! not yet in this shape; the two take SQLite's one writer in turn (the
//! applier takes the unit path's lock, committing what it left open).
//!
//! # PostgreSQL
//! A write-set is one transaction from the pool, run without a pause.

use crate::StoreError;

/// A value bound to a statement's `$n`. Nulls keep their type: PostgreSQL
/// needs to know what an absent value would have been. Not `Debug`: the
/// values include phone numbers and sealed blobs, and nothing should print
/// them by accident.
#[derive(Clone)]
pub enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        Arg::Int(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Arg {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Arg {
        Arg::Text(v.map(str::to_owned))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        Arg::Text(v)
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Arg {
        Arg::Text(v.clone())
    }
}
impl From<&[u8]> for Arg {
    fn from(v: &[u8]) -> Arg {
        Arg::Blob(Some(v.to_vec()))
    }
}
impl From<&Vec<u8>> for Arg {
    fn from(v: &Vec<u8>) -> Arg {
        Arg::Blob(Some(v.clone()))
    }
}

/// What a write expects of the state it was decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Whatever it changes.
    Any,
    /// Exactly one row changed, else the write-set conflicts.
    One,
    /// A guard query that must return a row, else the write-set conflicts.
    Row,
    /// The idempotency claim (inserted or answered): exactly one row, else
    /// another request holds the key ([`StoreError::ClaimTaken`]).
    Claim,
}

/// One statement of a write-set.
#[derive(Clone)]
pub struct Write {
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
    pub(crate) expect: Expect,
    /// What the write is, for a conflict's message.
    pub(crate) what: &'static str,
}

/// Everything one request changes, in order (see the module docs).
#[derive(Default)]
#[must_use]
pub struct WriteSet {
    pub(crate) writes: Vec<Write>,
    /// Outbox rows it inserts (delivered after the commit).
    pub(crate) messages: Vec<String>,
    /// Of those, codes by text or call (the demo inbox counts them).
    pub(crate) codes: Vec<String>,
}

impl WriteSet {
    pub fn new() -> WriteSet {
        WriteSet::default()
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    pub(crate) fn push(&mut self, what: &'static str, sql: impl Into<String>, args: Vec<Arg>, expect: Expect) {
        self.writes.push(Write { sql: sql.into(), args, expect, what });
    }

    /// Appends `other` after this set's writes.
    pub fn extend(&mut self, other: WriteSet) {
        self.writes.extend(other.writes);
        self.messages.extend(other.messages);
        self.codes.extend(other.codes);
    }

    /// Runs the writes on a connection that is already inside a
    /// transaction (the unit path, and PostgreSQL).
    pub(crate) async fn run_on(&self, conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
        for w in &self.writes {
            w.run_on(conn).await?;
        }
        Ok(())
    }
}

/// Binds `args` to an sqlx query in order.
pub(crate) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    args: &[Arg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.clone()),
            Arg::Blob(v) => q.bind(v.clone()),
        };
    }
    q
}

/// Binds `args` to `$1`, `$2`, … of a rusqlite statement. `$n` is a named
/// parameter to SQLite: its slot is looked up (the same `$n` may appear
/// twice, or after a higher one).
pub(crate) fn bind_sqlite(stmt: &mut rusqlite::Statement<'_>, args: &[Arg]) -> Result<(), StoreError> {
    let mut name = String::with_capacity(4);
    for (i, a) in args.iter().enumerate() {
        name.clear();
        std::fmt::Write::write_fmt(&mut name, format_args!("${}", i + 1)).expect("writing to a String");
        let Some(slot) = stmt.parameter_index(&name).map_err(sqlite)? else { continue };
        match a {
            Arg::Int(v) => stmt.raw_bind_parameter(slot, v),
            Arg::Text(v) => stmt.raw_bind_parameter(slot, v),
            Arg::Blob(v) => stmt.raw_bind_parameter(slot, v),
        }
        .map_err(sqlite)?;
    }
    Ok(())
}

impl Write {
    async fn run_on(&self, conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
        let q = bind_all(sqlx::query(&self.sql), &self.args);
        let changed = match self.expect {
            Expect::Row => u64::from(q.fetch_optional(&mut *conn).await.map_err(|e| self.refused(e))?.is_some()),
            _ => q.execute(&mut *conn).await.map_err(|e| self.refused(e))?.rows_affected(),
        };
        self.check(changed)
    }

    /// A unique violation means the state moved since the decision (a row
    /// the flow saw absent is there now): a conflict, not a failure.
    fn refused(&self, e: sqlx::Error) -> StoreError {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(self.what.into()),
            _ => e.into(),
        }
    }

    fn check(&self, changed: u64) -> Result<(), StoreError> {
        match self.expect {
            Expect::Any => Ok(()),
            Expect::One | Expect::Row if changed == 1 => Ok(()),
            Expect::One | Expect::Row => Err(StoreError::Conflict(self.what.into())),
            Expect::Claim if changed == 1 => Ok(()),
            Expect::Claim => Err(StoreError::ClaimTaken),
        }
    }

    pub(crate) fn run_sqlite(&self, conn: &rusqlite::Connection) -> Result<(), StoreError> {
        let mut stmt = conn.prepare_cached(&self.sql).map_err(sqlite)?;
        bind_sqlite(&mut stmt, &self.args)?;
        let changed = match self.expect {
            Expect::Row => u64::from(stmt.raw_query().next().map_err(|e| self.refused_sqlite(e))?.is_some()),
            _ => stmt.raw_execute().map_err(|e| self.refused_sqlite(e))? as u64,
        };
        self.check(changed)
    }

    fn refused_sqlite(&self, e: rusqlite::Error) -> StoreError {
        match e.sqlite_error() {
            Some(f)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                StoreError::Conflict(self.what.into())
            }
            _ => sqlite(e),
        }
    }
}

pub(crate) fn sqlite(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e.to_string())
}
