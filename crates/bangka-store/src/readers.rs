//! SQLite reads without a thread hop, and rows decoded one way from either
//! driver.
//!
//! # Why
//! sqlx runs every SQLite statement on the connection's own worker thread:
//! a point read of a few microseconds of SQLite work costs two thread
//! handoffs (issue 25's profile: most of a read's server time). The hottest
//! reads (a card with its token, an account, a binding) run here instead,
//! on the calling thread, on a small set of read-only connections (WAL:
//! they never wait for the writer). A read this short is cheaper done than
//! handed off; nothing here waits on anything but SQLite.
//!
//! # Rows
//! [`Cols`] reads a column by name from an sqlx row or a rusqlite row, so a
//! row's decoder (`binding_row`, `account_row`, …) is written once for both.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::StoreError;
use crate::writeset::{Arg, bind_sqlite, sqlite};

/// A column value both drivers decode.
pub(crate) trait Col: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + rusqlite::types::FromSql {}
impl<T> Col for T where T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + rusqlite::types::FromSql {}

/// A row whose columns are read by name.
pub(crate) trait Cols {
    fn col<T: Col>(&self, name: &str) -> Result<T, StoreError>;
}

impl Cols for sqlx::any::AnyRow {
    fn col<T: Col>(&self, name: &str) -> Result<T, StoreError> {
        Ok(sqlx::Row::try_get(self, name)?)
    }
}

impl Cols for rusqlite::Row<'_> {
    fn col<T: Col>(&self, name: &str) -> Result<T, StoreError> {
        self.get(name).map_err(sqlite)
    }
}

/// Read-only connections used on the calling thread.
pub(crate) struct InlineReaders {
    conns: Vec<Mutex<rusqlite::Connection>>,
    next: AtomicUsize,
    /// Set by `Store::close`: reads fail from then on, as sqlx's do.
    closed: AtomicBool,
}

impl InlineReaders {
    /// `n` connections to the database file at `path`.
    pub(crate) fn open(path: &str, n: usize) -> Result<InlineReaders, StoreError> {
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            let c = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(sqlite)?;
            // Readers never write; a short busy wait (a reader waits only
            // while the WAL is reset, at a checkpoint) keeps a worker thread
            // from sleeping long.
            c.execute_batch("PRAGMA query_only=ON; PRAGMA busy_timeout=1000; PRAGMA cache_size=-8192;").map_err(sqlite)?;
            c.set_prepared_statement_cache_capacity(64);
            conns.push(Mutex::new(c));
        }
        Ok(InlineReaders { conns, next: AtomicUsize::new(0), closed: AtomicBool::new(false) })
    }

    /// Runs `f` on a free connection (or waits for one: there are as many
    /// as worker threads, so that is rare).
    pub(crate) fn with<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(StoreError::Sqlite("the store is closed".into()));
        }
        for c in &self.conns {
            if let Ok(g) = c.try_lock() {
                return f(&g);
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        let g = self.conns[i].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&g)
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }
}

/// Runs `sql` with `args` bound to `$1`, `$2`, … (a statement prepared
/// once and cached) and hands its rows to `f`.
pub(crate) fn query<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg],
    f: impl FnOnce(&mut rusqlite::Rows<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(sqlite)?;
    bind_sqlite(&mut stmt, args)?;
    f(&mut stmt.raw_query())
}
