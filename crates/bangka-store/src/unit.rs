//! One request, one unit of work.
//!
//! # Why
//! A request that commits its effect, its attempt, its audit entry and its
//! idempotent answer in separate transactions can die between them: a retry
//! then runs the operation again (money doubled), and every commit is an
//! fsync. Here everything a request writes — the `Idempotency-Key` claim,
//! the effect, the attempt, the audit entry, the outbox rows and the stored
//! answer — goes into one transaction, so a crash leaves either nothing or
//! all of it.
//!
//! # How
//! A [`Store`] bound to a unit ([`Store::unit`]) routes every store call
//! through it. The unit opens lazily, at the first write: reads before it go
//! to the read pool, so a request that only reads never takes the writer.
//! Opening inserts the idempotency claim first; a claim that exists already
//! (a duplicate finished, or is running) ends the unit with
//! [`StoreError::ClaimTaken`] before anything else is written. Each store
//! method's own transaction becomes a savepoint inside the unit, so a method
//! that rolls back (a lost race, a unique violation it handles) still rolls
//! back only its own part. [`Store::finish_unit`] writes the answer and
//! commits; dropping an unfinished unit rolls all of it back.
//!
//! A bank call never happens inside an open unit (it would hold the writer,
//! or PostgreSQL row locks, for the bank's latency). A flow that must write
//! down its intent before the call (a payment's pending authorization)
//! commits it with [`Store::checkpoint`], which also records on the claim how
//! a retry after a crash resumes the operation instead of running it again.
//!
//! # SQLite: one writer, group commit
//! SQLite has one writer. All writes go through one connection ([`Writer`]);
//! readers use a pool of their own (WAL: they never wait for the writer).
//! Units take the writer in turn, each inside a savepoint of a shared
//! transaction. When a unit is done it releases its savepoint and, if no
//! other unit is waiting for the writer, commits the transaction for
//! everyone in it: one fsync (`synchronous=FULL`) acknowledges a whole batch
//! of requests. No unit answers before the commit that holds its writes.
//!
//! # PostgreSQL
//! A unit is a transaction from the pool; the server's own group commit
//! batches the fsyncs of concurrent commits.
//!
//! [`Store`]: crate::Store
//! [`Store::unit`]: crate::Store::unit
//! [`Store::finish_unit`]: crate::Store::finish_unit
//! [`Store::checkpoint`]: crate::Store::checkpoint

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};
use time::OffsetDateTime;
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, oneshot};

use crate::writeset::{WriteSet, sqlite};
use crate::{StoreError, to_ms};

/// At most this many units share one commit.
const MAX_BATCH: usize = 256;
/// A batch older than this commits even while more units wait, so a steady
/// stream of requests cannot hold the first ones' answers back.
const MAX_BATCH_AGE: Duration = Duration::from_millis(4);

/// Where a store reads and writes.
pub(crate) enum Db {
    /// One writer connection and a pool of read-only readers.
    Sqlite {
        writer: Arc<Writer>,
        /// The writer thread for write-sets (none for an in-memory
        /// database, which a second connection would not see).
        applier: Option<Applier>,
        reads: AnyPool,
        /// Read-only connections used on the calling thread for the
        /// hottest point reads (see `readers`).
        inline: Option<crate::readers::InlineReaders>,
        /// Copies the WAL into the file beside the writers (none in
        /// memory; see `checkpointer`).
        checkpointer: Option<crate::checkpointer::Checkpointer>,
    },
    Postgres {
        pool: AnyPool,
    },
}

impl Db {
    pub(crate) fn reads(&self) -> &AnyPool {
        match self {
            Db::Sqlite { reads, .. } => reads,
            Db::Postgres { pool } => pool,
        }
    }

    /// Applies a write-set whole, or refuses it whole (see
    /// [`crate::writeset`]); returns once its commit is durable.
    pub(crate) async fn apply(&self, set: WriteSet) -> Result<(), StoreError> {
        match self {
            Db::Sqlite { applier: Some(a), .. } => a.apply(set).await,
            Db::Sqlite { writer, applier: None, .. } => {
                let (mut g, sp) = writer.enter().await?;
                match set.run_on(&mut g.conn).await {
                    Ok(()) => writer.leave(g, &sp).await,
                    Err(e) => {
                        writer.abort(g, &sp).await;
                        Err(e)
                    }
                }
            }
            Db::Postgres { pool } => {
                let mut tx = pool.begin().await?;
                set.run_on(&mut tx).await?;
                Ok(tx.commit().await?)
            }
        }
    }
}

// ------------------------------------------------------------------ writer

/// SQLite's single writer connection, shared by units in turn.
pub(crate) struct Writer {
    conn: Arc<Mutex<WriterConn>>,
    /// Units waiting for the writer: while there are any, a finishing unit
    /// leaves the transaction open for them to join.
    queued: AtomicUsize,
    /// A committer task is on its way (see [`Writer::leave`]).
    committer: std::sync::atomic::AtomicBool,
}

pub(crate) struct WriterConn {
    conn: AnyConnection,
    batch: Option<Batch>,
    /// Savepoints of units dropped before they finished, rolled back by
    /// whoever takes the writer next.
    abandoned: Vec<String>,
    names: u64,
}

/// The open transaction and the units in it waiting for its commit.
struct Batch {
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    opened: Instant,
}

/// Counts a task waiting for the writer, also when its wait is cancelled.
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Writer {
    pub(crate) fn new(conn: AnyConnection) -> Arc<Writer> {
        Arc::new(Writer {
            conn: Arc::new(Mutex::new(WriterConn { conn, batch: None, abandoned: Vec::new(), names: 0 })),
            queued: AtomicUsize::new(0),
            committer: std::sync::atomic::AtomicBool::new(false),
        })
    }

    async fn lock(&self) -> OwnedMutexGuard<WriterConn> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let _queued = Queued(&self.queued);
        self.conn.clone().lock_owned().await
    }

    /// Takes the writer for one unit: rolls back what abandoned units left,
    /// joins (or begins) the batch transaction and opens the unit's savepoint.
    async fn enter(&self) -> Result<(OwnedMutexGuard<WriterConn>, String), StoreError> {
        let mut g = self.lock().await;
        g.settle().await;
        if g.batch.is_none() {
            g.conn.execute("BEGIN IMMEDIATE").await?;
            g.batch = Some(Batch { waiters: Vec::new(), opened: Instant::now() });
        }
        g.names += 1;
        let sp = format!("u{}", g.names);
        if let Err(e) = g.conn.execute(format!("SAVEPOINT {sp}").as_str()).await {
            self.hand_over(g).await;
            return Err(e.into());
        }
        Ok((g, sp))
    }

    /// A unit is done: its savepoint is released into the batch, and the
    /// batch commits when the units now on their way to the writer have
    /// joined it: a committer task queues for the writer behind them (after
    /// letting the runtime run whatever is ready), so under load one fsync
    /// acknowledges many units, and alone a unit waits only a moment. A
    /// full or old batch commits at once. Returns once the commit that holds
    /// the unit's writes is durable.
    async fn leave(self: &Arc<Self>, mut g: OwnedMutexGuard<WriterConn>, sp: &str) -> Result<(), StoreError> {
        if let Err(e) = g.conn.execute(format!("RELEASE SAVEPOINT {sp}").as_str()).await {
            g.abandoned.push(sp.to_owned());
            self.hand_over(g).await;
            return Err(e.into());
        }
        let (tx, rx) = oneshot::channel();
        let batch = g.batch.as_mut().expect("a unit runs inside a batch");
        batch.waiters.push(tx);
        let full = batch.waiters.len() >= MAX_BATCH || batch.opened.elapsed() >= MAX_BATCH_AGE;
        if full {
            g.commit_batch().await;
        } else if self.queued.load(Ordering::SeqCst) == 0 && !self.committer.swap(true, Ordering::SeqCst) {
            let w = self.clone();
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                let mut g = w.lock().await;
                w.committer.store(false, Ordering::SeqCst);
                g.settle().await;
                g.commit_batch().await;
            });
        }
        drop(g);
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Commit(e)),
            Err(_) => Err(StoreError::Commit("the writer stopped before the commit".into())),
        }
    }

    /// A unit ends without its writes: rolls its savepoint back.
    async fn abort(&self, mut g: OwnedMutexGuard<WriterConn>, sp: &str) {
        g.abandoned.push(sp.to_owned());
        self.hand_over(g).await;
    }

    /// Gives the writer up; the last one out commits the batch, so no
    /// transaction stays open (and no answer waits) while the writer idles.
    async fn hand_over(&self, mut g: OwnedMutexGuard<WriterConn>) {
        g.settle().await;
        if self.queued.load(Ordering::SeqCst) == 0 {
            g.commit_batch().await;
        }
    }

    /// For a unit dropped while it held the writer: once the drop is done,
    /// roll its savepoint back and commit the others' work.
    fn tidy_later(self: &Arc<Self>) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        let w = self.clone();
        rt.spawn(async move {
            let g = w.lock().await;
            w.hand_over(g).await;
        });
    }

    /// For the writer thread ([`Applier`]): takes the writer, waiting as a
    /// unit would, and commits the batch the unit path left open.
    pub(crate) fn blocking_exclusive(&self, rt: &tokio::runtime::Handle) -> tokio::sync::MutexGuard<'_, WriterConn> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let queued = Queued(&self.queued);
        let mut g = self.conn.blocking_lock();
        drop(queued);
        rt.block_on(async {
            g.settle().await;
            g.commit_batch().await;
        });
        g
    }

    /// Runs `sql` outside any batch (a checkpoint, migrations at start):
    /// commits what is pending first.
    pub(crate) async fn exclusive(&self) -> OwnedMutexGuard<WriterConn> {
        let mut g = self.lock().await;
        g.settle().await;
        g.commit_batch().await;
        g
    }
}

impl WriterConn {
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    /// Rolls back the savepoints of abandoned units. If that fails, the
    /// transaction is in an unknown state and is rolled back whole: every
    /// unit waiting in it is told its commit failed (it answers an internal
    /// error and a retry runs it afresh).
    async fn settle(&mut self) {
        while let Some(sp) = self.abandoned.pop() {
            let back = self.conn.execute(format!("ROLLBACK TO SAVEPOINT {sp}; RELEASE SAVEPOINT {sp}").as_str()).await;
            if let Err(e) = back {
                tracing::error!(error = %e, "rolling back an abandoned unit failed; rolling the batch back");
                self.abandoned.clear();
                self.fail_batch(e.to_string()).await;
                return;
            }
        }
    }

    async fn commit_batch(&mut self) {
        let Some(batch) = self.batch.take() else { return };
        let res = match self.conn.execute("COMMIT").await {
            Ok(_) => Ok(()),
            Err(e) => {
                let _ = self.conn.execute("ROLLBACK").await;
                tracing::error!(error = %e, units = batch.waiters.len(), "commit failed; the batch is rolled back");
                Err(e.to_string())
            }
        };
        for w in batch.waiters {
            let _ = w.send(res.clone());
        }
    }

    async fn fail_batch(&mut self, why: String) {
        let Some(batch) = self.batch.take() else { return };
        let _ = self.conn.execute("ROLLBACK").await;
        for w in batch.waiters {
            let _ = w.send(Err(why.clone()));
        }
    }
}

// -------------------------------------------------------------------- unit

/// The `Idempotency-Key` claim a unit inserts when it opens.
#[derive(Debug, Clone)]
pub struct Claim {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
    pub at: OffsetDateTime,
    /// The claim row exists already and is this unit's (resuming it after a
    /// crash): nothing is inserted, and the answer is stored only if no one
    /// else stored one first.
    pub owned: bool,
}

/// A request's unit of work: see the module docs.
pub(crate) struct Unit {
    pub(crate) claim: Option<Claim>,
    /// Its flow may stage writes as a write-set ([`crate::Store::stage`])
    /// applied at its finish, instead of opening the unit.
    pub(crate) defer: bool,
    /// A checkpoint made its decision durable: a conflict later never runs
    /// the flow again; the request is finished by its resume note, as after
    /// a crash at that point.
    pub(crate) decided: std::sync::atomic::AtomicBool,
    pub(crate) state: Arc<Mutex<UnitState>>,
}

impl Unit {
    pub(crate) fn new(claim: Option<Claim>, defer: bool) -> Unit {
        let claimed = claim.as_ref().is_some_and(|c| c.owned);
        Unit { claim, defer, decided: Default::default(), state: Arc::new(Mutex::new(UnitState::new(claimed))) }
    }
}

pub(crate) struct UnitState {
    open: Option<Open>,
    /// The claim row is in the open transaction or committed.
    pub(crate) claimed: bool,
    /// The claim was taken by another request: this unit may write nothing.
    pub(crate) poisoned: bool,
    names: u32,
    /// Savepoints of store methods that returned without committing.
    abandoned: Vec<String>,
    /// Outbox rows written (delivery follows the commit).
    pub(crate) messages: Vec<String>,
    /// Vault rows were shredded (their keys are destroyed after the commit).
    pub(crate) shredded: bool,
    /// Writes staged while the unit is not open: applied as one write-set
    /// at its finish, or run first thing when it opens.
    pub(crate) staged: WriteSet,
    /// Card keys put in the key store for staged vault rows: forgotten if
    /// the unit does not commit.
    pub(crate) staged_keys: Vec<String>,
    /// Outbox rows (of `messages`) that are codes by text or call.
    pub(crate) codes: Vec<String>,
    /// The resume note of the unit's last checkpoint.
    pub(crate) resume: Option<String>,
}

enum Open {
    Sqlite(SqliteUnit),
    Postgres(Transaction<'static, Any>),
}

struct SqliteUnit {
    writer: Arc<Writer>,
    guard: Option<OwnedMutexGuard<WriterConn>>,
    savepoint: String,
}

impl Drop for SqliteUnit {
    fn drop(&mut self) {
        // Dropped unfinished (a cancelled request, a panic): the next
        // holder of the writer rolls the savepoint back.
        if let Some(mut g) = self.guard.take() {
            g.abandoned.push(self.savepoint.clone());
            drop(g);
            self.writer.tidy_later();
        }
    }
}

impl Open {
    fn conn(&mut self) -> &mut AnyConnection {
        match self {
            Open::Sqlite(s) => &mut s.guard.as_mut().expect("an open unit holds the writer").conn,
            Open::Postgres(t) => t,
        }
    }

    async fn commit(self) -> Result<(), StoreError> {
        match self {
            Open::Sqlite(mut s) => {
                let g = s.guard.take().expect("an open unit holds the writer");
                s.writer.leave(g, &s.savepoint).await
            }
            Open::Postgres(t) => Ok(t.commit().await?),
        }
    }

    async fn abort(self) {
        match self {
            Open::Sqlite(mut s) => {
                let g = s.guard.take().expect("an open unit holds the writer");
                s.writer.abort(g, &s.savepoint).await;
            }
            Open::Postgres(t) => {
                let _ = t.rollback().await;
            }
        }
    }
}

impl UnitState {
    pub(crate) fn new(claimed: bool) -> UnitState {
        UnitState {
            open: None,
            claimed,
            poisoned: false,
            names: 0,
            abandoned: Vec::new(),
            messages: Vec::new(),
            shredded: false,
            staged: WriteSet::new(),
            staged_keys: Vec::new(),
            codes: Vec::new(),
            resume: None,
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Opens the unit if it is not open: takes the writer (SQLite) or a
    /// transaction (PostgreSQL), and inserts the claim first.
    pub(crate) async fn ensure_open(&mut self, db: &Db, claim: Option<&Claim>) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::ClaimTaken);
        }
        if self.open.is_some() {
            return self.settle().await;
        }
        let mut open = match db {
            Db::Sqlite { writer, .. } => {
                let (g, savepoint) = writer.enter().await?;
                Open::Sqlite(SqliteUnit { writer: writer.clone(), guard: Some(g), savepoint })
            }
            Db::Postgres { pool } => Open::Postgres(pool.begin().await?),
        };
        if let Some(c) = claim.filter(|_| !self.claimed) {
            let inserted = sqlx::query(
                "INSERT INTO idempotency (scope, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (scope, idem_key) DO NOTHING",
            )
            .bind(&c.scope)
            .bind(&c.key)
            .bind(&c.request_hash)
            .bind(to_ms(c.at))
            .execute(open.conn())
            .await;
            match inserted {
                Ok(r) if r.rows_affected() == 1 => self.claimed = true,
                Ok(_) => {
                    self.poisoned = true;
                    open.abort().await;
                    return Err(StoreError::ClaimTaken);
                }
                Err(e) => {
                    open.abort().await;
                    return Err(e.into());
                }
            }
        }
        // What the flow staged before it wrote this way comes first, in
        // the order it was decided.
        let staged = std::mem::take(&mut self.staged);
        if let Err(e) = staged.run_on(open.conn()).await {
            open.abort().await;
            return Err(e);
        }
        self.open = Some(open);
        Ok(())
    }

    /// Rolls back the savepoints of store methods that gave up.
    async fn settle(&mut self) -> Result<(), StoreError> {
        while let Some(sp) = self.abandoned.pop() {
            let conn = self.conn();
            conn.execute(format!("ROLLBACK TO SAVEPOINT {sp}; RELEASE SAVEPOINT {sp}").as_str()).await?;
        }
        Ok(())
    }

    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        self.open.as_mut().expect("the unit is open").conn()
    }

    async fn savepoint(&mut self) -> Result<String, StoreError> {
        self.names += 1;
        let sp = format!("s{}", self.names);
        self.conn().execute(format!("SAVEPOINT {sp}").as_str()).await?;
        Ok(sp)
    }

    /// Commits what the unit wrote (nothing if it never opened). The unit
    /// can open again afterwards (after a checkpoint).
    pub(crate) async fn commit(&mut self) -> Result<(), StoreError> {
        if let Err(e) = self.settle().await {
            self.abort().await;
            return Err(e);
        }
        match self.open.take() {
            Some(open) => open.commit().await,
            None => Ok(()),
        }
    }

    pub(crate) async fn abort(&mut self) {
        self.abandoned.clear();
        self.staged = WriteSet::new();
        if let Some(open) = self.open.take() {
            open.abort().await;
        }
    }
}

// ------------------------------------------------------------ transactions

/// A store method's transaction: a savepoint inside the request's unit, or
/// (outside any unit) a unit of its own. Dereferences to the connection.
pub(crate) struct Tx {
    state: OwnedMutexGuard<UnitState>,
    /// Inside a request's unit: this method's savepoint.
    savepoint: Option<String>,
    /// A unit of its own: where its commit hands the outbox rows it queued.
    outbox: Option<Arc<Outbox>>,
    done: bool,
}

impl Tx {
    pub(crate) async fn nested(mut state: OwnedMutexGuard<UnitState>) -> Result<Tx, StoreError> {
        let sp = state.savepoint().await?;
        Ok(Tx { state, savepoint: Some(sp), outbox: None, done: false })
    }

    pub(crate) fn own(state: OwnedMutexGuard<UnitState>, outbox: Arc<Outbox>) -> Tx {
        Tx { state, savepoint: None, outbox: Some(outbox), done: false }
    }

    /// Notes an outbox row this transaction queued.
    pub(crate) fn note_message(&mut self, id: &str) {
        self.state.messages.push(id.to_owned());
    }

    /// Commits: releases the savepoint into the request's unit, or commits
    /// the unit of its own (durable on return) and wakes outbox delivery
    /// when it queued messages.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        self.done = true;
        match self.savepoint.take() {
            Some(sp) => {
                self.state.conn().execute(format!("RELEASE SAVEPOINT {sp}").as_str()).await?;
            }
            None => {
                self.state.commit().await?;
                let ids = std::mem::take(&mut self.state.messages);
                if let Some(o) = &self.outbox {
                    o.committed_outside_a_request(ids);
                }
            }
        }
        Ok(())
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        match self.savepoint.take() {
            // Rolled back on the unit's next use.
            Some(sp) => self.state.abandoned.push(sp),
            // A unit of its own: dropping its connection rolls it back.
            None => drop(self.state.open.take()),
        }
    }
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self.state.open.as_ref().expect("the unit is open") {
            Open::Sqlite(s) => &s.guard.as_ref().expect("an open unit holds the writer").conn,
            Open::Postgres(t) => t,
        }
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.state.conn()
    }
}

tokio::task_local! {
    /// The outbox rows committed (outside a request's unit) by the task
    /// running inside [`collecting`].
    static COMMITTED: std::cell::RefCell<Vec<String>>;
}

/// Runs `f`, collecting the outbox rows its own commits queue, so the
/// caller (a job) delivers exactly its own messages, at once and in order.
pub async fn collecting<F: std::future::Future>(f: F) -> (F::Output, Vec<String>) {
    COMMITTED
        .scope(Default::default(), async {
            let out = f.await;
            let ids = COMMITTED.with(std::cell::RefCell::take);
            (out, ids)
        })
        .await
}

/// Adds `ids` to the collecting task's list; gives them back outside one.
fn collected(ids: Vec<String>) -> Result<(), Vec<String>> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut ids = Some(ids);
    let _ = COMMITTED.try_with(|c| c.borrow_mut().extend(ids.take().into_iter().flatten()));
    match ids {
        None => Ok(()),
        Some(ids) => Err(ids),
    }
}

/// Outbox rows committed outside a request's unit (by jobs), waiting for
/// the delivery job, which [`Outbox::notify`] wakes.
#[derive(Default)]
pub struct Outbox {
    committed: std::sync::Mutex<Vec<String>>,
    pub notify: Notify,
}

impl Outbox {
    fn committed(&self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        self.committed.lock().expect("outbox lock").extend(ids);
        self.notify.notify_one();
    }

    /// Queues rows a request's unit committed, for the delivery job.
    pub fn queue(&self, ids: Vec<String>) {
        self.committed(ids);
    }

    /// Rows committed outside a request (by a job): a job collecting its
    /// own messages ([`collecting`]) delivers them itself; otherwise the
    /// delivery job is woken for them.
    pub(crate) fn committed_outside_a_request(&self, ids: Vec<String>) {
        if let Err(ids) = collected(ids) {
            self.committed(ids);
        }
    }

    /// Takes the ids committed since the last call.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.committed.lock().expect("outbox lock"))
    }
}

/// What a committed unit leaves to do.
#[derive(Debug, Default, Clone)]
#[must_use]
pub struct AfterCommit {
    /// Outbox rows committed: deliver them.
    pub messages: Vec<String>,
    /// Vault rows were shredded: destroy their keys.
    pub shredded: bool,
}

// ------------------------------------------------------------------- reads

/// A connection to read from: the request's open unit (to see its own
/// writes), or one from the read pool.
pub(crate) enum Conn {
    Pool(PoolConnection<Any>),
    Unit(OwnedMutexGuard<UnitState>),
}

impl Deref for Conn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            Conn::Pool(c) => c,
            Conn::Unit(u) => match u.open.as_ref().expect("the unit is open") {
                Open::Sqlite(s) => &s.guard.as_ref().expect("an open unit holds the writer").conn,
                Open::Postgres(t) => t,
            },
        }
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Conn::Pool(c) => c,
            Conn::Unit(u) => u.conn(),
        }
    }
}

/// Lets [`Conn::Unit`] settle abandoned savepoints before a read.
pub(crate) async fn settled(mut state: OwnedMutexGuard<UnitState>) -> Result<Conn, StoreError> {
    state.settle().await?;
    Ok(Conn::Unit(state))
}

// ------------------------------------------------------- the writer thread

/// At most this many write-sets share one commit.
const MAX_WRITE_SETS: usize = 256;

struct Job {
    set: WriteSet,
    /// The answer, and the write-set handed back: it is freed by the task
    /// that built it, not on the writer thread (freeing another thread's
    /// allocations took the allocator's lock of that thread and the time
    /// of the one thread every commit waits for).
    done: oneshot::Sender<(Result<(), StoreError>, WriteSet)>,
}

impl Job {
    fn answer(self, res: Result<(), StoreError>) {
        let _ = self.done.send((res, self.set));
    }
}

/// SQLite's writer thread for write-sets (see [`crate::writeset`]).
#[derive(Clone)]
pub(crate) struct Applier {
    jobs: std::sync::mpsc::Sender<Job>,
    /// Set by `Store::close`: write-sets are refused from then on.
    closed: Arc<std::sync::atomic::AtomicBool>,
}

impl Applier {
    /// Opens a connection to the database file at `path` and starts the
    /// thread. `unit_writer` is the unit path's writer, taken in turn (none
    /// where every write is a write-set: the card key store's puts).
    pub(crate) fn start(path: &str, pragmas: &str, unit_writer: Option<Arc<Writer>>) -> Result<Applier, StoreError> {
        let conn = rusqlite::Connection::open(path).map_err(sqlite)?;
        conn.execute_batch(pragmas).map_err(sqlite)?;
        conn.set_prepared_statement_cache_capacity(128);
        let rt = tokio::runtime::Handle::current();
        let (jobs, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("bangka-sqlite-writer".into())
            .spawn(move || run(&conn, &rx, unit_writer.as_deref(), &rt))
            .map_err(|e| StoreError::Sqlite(format!("cannot start the writer thread: {e}")))?;
        Ok(Applier { jobs, closed: Arc::default() })
    }

    /// Applies `set` in the next batch; returns once its commit is durable.
    pub(crate) async fn apply(&self, set: WriteSet) -> Result<(), StoreError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Commit("the store is closed".into()));
        }
        let (done, answer) = oneshot::channel();
        self.jobs.send(Job { set, done }).map_err(|_| StoreError::Commit("the writer thread has stopped".into()))?;
        match answer.await {
            Ok((res, _set)) => res,
            Err(_) => Err(StoreError::Commit("the writer thread stopped before the commit".into())),
        }
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

/// The writer thread: waits for a write-set, takes the writer, applies it
/// and every write-set queued meanwhile, commits once, answers them all.
/// Ends when the store (every [`Applier`] sender) is dropped.
fn run(conn: &rusqlite::Connection, rx: &std::sync::mpsc::Receiver<Job>, unit_writer: Option<&Writer>, rt: &tokio::runtime::Handle) {
    while let Ok(first) = rx.recv() {
        // SQLite has one writer: take it from the unit path, committing
        // the batch it left open for its next unit.
        let unit_side = unit_writer.map(|w| w.blocking_exclusive(rt));
        let mut applied = Vec::new();
        let mut next = Some(first);
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            next.take().expect("the first job").answer(Err(sqlite(e)));
        }
        while let Some(job) = next.take() {
            match apply_one(conn, &job.set) {
                Ok(()) => applied.push(job),
                Err(Broken(e)) => {
                    // The transaction is in an unknown state: nothing of
                    // this batch stands.
                    let _ = conn.execute_batch("ROLLBACK");
                    let why = e.to_string();
                    job.answer(Err(e));
                    for done in applied.drain(..) {
                        done.answer(Err(StoreError::Commit(why.clone())));
                    }
                    break;
                }
                Err(Refused(e)) => {
                    job.answer(Err(e));
                }
            }
            if applied.len() < MAX_WRITE_SETS {
                next = rx.try_recv().ok();
            }
        }
        if !applied.is_empty() {
            let res = conn.execute_batch("COMMIT").map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                tracing::error!(error = %e, write_sets = applied.len(), "commit failed; the batch is rolled back");
                e.to_string()
            });
            for done in applied {
                done.answer(res.clone().map_err(StoreError::Commit));
            }
        } else if !conn.is_autocommit() {
            let _ = conn.execute_batch("COMMIT");
        }
        drop(unit_side);
    }
}

/// A write-set refused (nothing of it stands; the batch goes on), or a
/// batch broken (rolled back whole).
enum Outcome {
    Refused(StoreError),
    Broken(StoreError),
}
use Outcome::{Broken, Refused};

fn apply_one(conn: &rusqlite::Connection, set: &WriteSet) -> Result<(), Outcome> {
    conn.execute_batch("SAVEPOINT ws").map_err(|e| Broken(sqlite(e)))?;
    for w in &set.writes {
        if let Err(e) = w.run_sqlite(conn) {
            conn.execute_batch("ROLLBACK TO ws; RELEASE ws").map_err(|e| Broken(sqlite(e)))?;
            return Err(Refused(e));
        }
    }
    conn.execute_batch("RELEASE ws").map_err(|e| Broken(sqlite(e)))
}
