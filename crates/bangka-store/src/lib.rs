//! Bangka's persistence: one SQL dialect over SQLite (embedded default) and
//! PostgreSQL (scale-out), through sqlx's `Any` driver, plus the card vault.
//!
//! # Why `Any` and portable SQL
//! Both backends must run the same store code and the same test suite. The
//! SQL here sticks to what both speak (`$n` parameters, `ON CONFLICT`,
//! partial unique indexes); times are Unix milliseconds and
//! money is integer fen, so no driver-specific types are needed. Only the
//! migrations differ (BLOB vs BYTEA).
//!
//! # Durability
//! SQLite runs in WAL mode with `synchronous=FULL` (an acknowledged commit
//! survives power loss) and one writer connection; PostgreSQL keeps its own
//! fsync defaults. Every multi-row change is one transaction.
//!
//! # Layout
//! - [`vault`]: keys, envelope encryption, fingerprints.
//! - [`card_keys`]: the card data keys, kept apart from the database.
//! - One module of queries per aggregate: [`accounts`], [`bindings`] (with
//!   their challenges, activations and vault rows), [`payments`] (tokens and
//!   payments), [`attempts`], [`outbox`], [`idempotency`], [`key_rotation`] …

pub mod accounts;
pub mod api_keys;
pub mod attempts;
pub mod audit;
pub mod bindings;
pub mod card_keys;
mod checkpointer;
pub mod fill;
pub mod idempotency;
pub mod key_rotation;
pub mod lifecycle;
pub mod maintenance;
pub mod outbox;
pub mod page;
pub mod payments;
mod readers;
pub mod receipts;
pub mod reviews;
pub mod risk;
pub mod sessions;
pub mod settlements;
pub mod tickets;
pub mod unit;
pub mod vault;
pub mod webhook;
mod writeset;

use std::str::FromStr;
use std::sync::Arc;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};
use time::OffsetDateTime;
use unit::{Conn, Db, Tx, Unit, Writer};

pub use accounts::{AccountRow, AccountUnfreezeOutcome, Conflict, KycRecord, NewAccount};
pub use api_keys::{ApiKeyRow, KeyChange, NewApiKey};
pub use attempts::AttemptRow;
pub use audit::{AuditFilter, AuditRecord, AuditVerdict, Cause, Change};
pub use bindings::{
    ActivateOutcome, ActivationFrom, ActivationRow, BindingRow, ChallengeRow, NewChallenge, NewPendingBinding, NewToken, PendingOutcome,
};
pub use fill::FilledCard;
pub use idempotency::IdemState;
pub use key_rotation::{RekeyReport, kyc_context};
pub use lifecycle::{LostReport, MandateRow, NewMandate, TokenMove, Trail, UnbindRequest, UnfreezeOutcome};
pub use maintenance::{BindBucket, IssuerBindStats, MaintenanceRow, NewMaintenance};
pub use outbox::{GiveUp, InboxMessage, MessageKind, NewMessage, OutboxMessage, OutboxStatus};
pub use page::{Page, PageRequest};
pub use payments::{
    AuthOutcome, CryptogramOutcome, CryptogramRequest, CryptogramRow, IssuedCryptogram, OpKind, PaymentOp, PaymentRow, TokenRow,
};
pub use receipts::{ReceiptDraft, ReceiptProblem, ReceiptSigner, canonical, verify_receipt};
pub use reviews::{NewReview, ReviewDecided, ReviewDecision, ReviewRow};
pub use risk::{AccountLocks, Firing, RiskDecision, SubjectLock};
pub use sessions::{DeviceRow, NewSession, SessionRow};
pub use settlements::{NewSettlement, SettlementRow};
pub use tickets::{NewTicket, TicketEvent, TicketMessage, TicketMove, TicketRow};
pub use unit::{AfterCommit, Claim, Outbox, collecting};
pub use vault::{CryptogramInput, SealedCard, Vault, sealed_value_version, token_key_context};
pub use webhook::WebhookSigner;
use writeset::WriteSet;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("key file problem: {0}")]
    Keys(String),
    #[error("vault record cannot be decrypted")]
    Crypto,
    #[error("cannot re-wrap the data key of {0}: it does not open under any loaded master key")]
    Rewrap(String),
    #[error("unsupported database url (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The unit's `Idempotency-Key` is claimed by another request (which
    /// finished, or is running): this one wrote nothing.
    #[error("the idempotency key is claimed by another request")]
    ClaimTaken,
    /// The commit holding this unit's writes failed: nothing of it stands.
    #[error("commit failed: {0}")]
    Commit(String),
    /// SQLite's writer thread failed (see [`writeset`]).
    #[error("database error: {0}")]
    Sqlite(String),
    /// A write-set was decided on a state that has moved since (the named
    /// write's expectation failed): nothing of it was written; read again
    /// and decide again.
    #[error("the state changed while the request was deciding ({0})")]
    Conflict(String),
    /// A page was asked for after an item that is not in that list.
    #[error("starting_after names no item of this list")]
    UnknownCursor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store: the database, the card key store and, for a request, its
/// unit of work ([`Store::unit`]). Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Arc<Db>,
    backend: Backend,
    keys: card_keys::CardKeys,
    /// A small read-write pool for tests that poke the database directly.
    poke: AnyPool,
    /// The request's unit of work, when this store is bound to one.
    unit: Option<Arc<Unit>>,
    /// Outbox rows committed outside a request's unit, for the delivery job.
    outbox: Arc<unit::Outbox>,
    /// Seals message bodies at rest (they may hold a one-time code).
    bodies: Bodies,
    /// Where the orphan key sweep goes on from (ms; 0: not yet swept).
    sweep_from: Arc<std::sync::atomic::AtomicI64>,
}

/// Message bodies (outbox, demo inbox) are sealed at rest under the master
/// key: a body may hold a one-time code, and no secret rests in clear, not
/// even in the WAL before delivery erases it. The service attaches its
/// vault at start ([`Store::attach_vault`]); a store without one (some
/// store tests) keeps bodies as they are.
#[derive(Clone, Default)]
pub(crate) struct Bodies(Arc<std::sync::OnceLock<Vault>>);

/// Marks a sealed body (hex of the sealed blob follows).
const SEALED_BODY: &str = "sealed:";

impl Bodies {
    pub(crate) fn seal(&self, context: &str, body: &str) -> String {
        match self.0.get() {
            Some(v) => format!("{SEALED_BODY}{}", hex::encode(v.seal_value(context, body))),
            None => body.to_owned(),
        }
    }

    pub(crate) fn open(&self, context: &str, stored: &str) -> Result<String, StoreError> {
        let Some(sealed) = stored.strip_prefix(SEALED_BODY) else { return Ok(stored.to_owned()) };
        let vault = self.0.get().ok_or(StoreError::Crypto)?;
        let blob = hex::decode(sealed).map_err(|_| StoreError::Crypto)?;
        Ok(vault.open_value(context, &blob)?.to_string())
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).field("unit", &self.unit.is_some()).finish_non_exhaustive()
    }
}

const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_payment_password.sql")),
    (3, include_str!("../migrations/sqlite/0003_payments.sql")),
    (4, include_str!("../migrations/sqlite/0004_key_state.sql")),
    (5, include_str!("../migrations/sqlite/0005_audit_chain.sql")),
    (6, include_str!("../migrations/sqlite/0006_freeze.sql")),
    (7, include_str!("../migrations/sqlite/0007_receipts.sql")),
    (8, include_str!("../migrations/sqlite/0008_mandates.sql")),
    (9, include_str!("../migrations/sqlite/0009_unbind.sql")),
    (10, include_str!("../migrations/sqlite/0010_card_key_store.sql")),
    (11, include_str!("../migrations/sqlite/0011_notifications.sql")),
    (12, include_str!("../migrations/sqlite/0012_charges_settlements_account_freeze.sql")),
    (13, include_str!("../migrations/sqlite/0013_maintenance_windows.sql")),
    (14, include_str!("../migrations/sqlite/0014_holder_sessions.sql")),
    (15, include_str!("../migrations/sqlite/0015_risk_engine.sql")),
    (16, include_str!("../migrations/sqlite/0016_tickets.sql")),
    (17, include_str!("../migrations/sqlite/0017_reviews.sql")),
    (18, include_str!("../migrations/sqlite/0018_unit_of_work.sql")),
    (19, include_str!("../migrations/sqlite/0019_scale_indexes.sql")),
    (20, include_str!("../migrations/sqlite/0020_phone_change.sql")),
    (21, include_str!("../migrations/sqlite/0021_key_checks.sql")),
    (22, include_str!("../migrations/sqlite/0022_lost_reports.sql")),
    (23, include_str!("../migrations/sqlite/0023_order_sent_at.sql")),
    (24, include_str!("../migrations/sqlite/0024_key_lifecycle.sql")),
    (25, include_str!("../migrations/sqlite/0025_instances.sql")),
    (26, include_str!("../migrations/sqlite/0026_webhook_secrets.sql")),
    (27, include_str!("../migrations/sqlite/0027_audit_sealed_in_batches.sql")),
    (28, include_str!("../migrations/sqlite/0028_api_version.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_payment_password.sql")),
    (3, include_str!("../migrations/postgres/0003_payments.sql")),
    (4, include_str!("../migrations/postgres/0004_key_state.sql")),
    (5, include_str!("../migrations/postgres/0005_audit_chain.sql")),
    (6, include_str!("../migrations/postgres/0006_freeze.sql")),
    (7, include_str!("../migrations/postgres/0007_receipts.sql")),
    (8, include_str!("../migrations/postgres/0008_mandates.sql")),
    (9, include_str!("../migrations/postgres/0009_unbind.sql")),
    (10, include_str!("../migrations/postgres/0010_card_key_store.sql")),
    (11, include_str!("../migrations/postgres/0011_notifications.sql")),
    (12, include_str!("../migrations/postgres/0012_charges_settlements_account_freeze.sql")),
    (13, include_str!("../migrations/postgres/0013_maintenance_windows.sql")),
    (14, include_str!("../migrations/postgres/0014_holder_sessions.sql")),
    (15, include_str!("../migrations/postgres/0015_risk_engine.sql")),
    (16, include_str!("../migrations/postgres/0016_tickets.sql")),
    (17, include_str!("../migrations/postgres/0017_reviews.sql")),
    (18, include_str!("../migrations/postgres/0018_unit_of_work.sql")),
    (19, include_str!("../migrations/postgres/0019_scale_indexes.sql")),
    (20, include_str!("../migrations/postgres/0020_phone_change.sql")),
    (21, include_str!("../migrations/postgres/0021_key_checks.sql")),
    (22, include_str!("../migrations/postgres/0022_lost_reports.sql")),
    (23, include_str!("../migrations/postgres/0023_order_sent_at.sql")),
    (24, include_str!("../migrations/postgres/0024_key_lifecycle.sql")),
    (25, include_str!("../migrations/postgres/0025_instances.sql")),
    (26, include_str!("../migrations/postgres/0026_webhook_secrets.sql")),
    (27, include_str!("../migrations/postgres/0027_audit_sealed_in_batches.sql")),
    (28, include_str!("../migrations/postgres/0028_api_version.sql")),
];

impl Store {
    /// Connects to `url` (`sqlite://FILE` or `postgres://…`). For PostgreSQL,
    /// `schema` (if given) is created if missing and used as the search path,
    /// which is how each test run gets a fresh, isolated schema.
    /// Opens the database at `url` (and, for PostgreSQL, `schema`) and its
    /// card key store at the default place beside it (see [`card_keys`]).
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Store, StoreError> {
        Self::connect_with_key_store(url, schema, None).await
    }

    /// Like [`Store::connect`], with the card key store at `key_store_url`
    /// (another file or server, so that database backups never hold card
    /// data keys) instead of the default place.
    pub async fn connect_with_key_store(url: &str, schema: Option<&str>, key_store_url: Option<&str>) -> Result<Store, StoreError> {
        let (db, poke, backend) = open_db(url, schema).await?;
        let (keys_url, keys_schema) = card_keys::location(url, schema, key_store_url)?;
        let keys = card_keys::CardKeys::open(&keys_url, keys_schema.as_deref()).await?;
        let store = Store {
            db: Arc::new(db),
            backend,
            keys,
            poke,
            unit: None,
            outbox: Arc::new(unit::Outbox::default()),
            bodies: Bodies::default(),
            sweep_from: Arc::default(),
        };
        store.migrate().await?;
        // Entries written before a crash (or before sealing existed) are
        // sealed before the instance serves.
        while store.seal_audit().await? == audit::SEAL_BATCH {}
        store.move_legacy_card_keys().await?;
        store.destroy_shredded_keys().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Seals message bodies with `vault` from now on (once; see [`Bodies`]).
    pub fn attach_vault(&self, vault: &Vault) {
        let _ = self.bodies.0.set(vault.clone());
    }

    /// A read-write pool for tests that set up edge cases by hand; the
    /// service itself never writes through it.
    pub fn pool(&self) -> &AnyPool {
        &self.poke
    }

    /// Outbox rows committed outside a request's unit (the delivery job
    /// waits on its `notify` and delivers what it takes).
    pub fn outbox(&self) -> Arc<unit::Outbox> {
        self.outbox.clone()
    }

    /// A transaction for one store method: a savepoint inside the request's
    /// unit when this store is bound to one, otherwise a unit of its own
    /// (committed, and durable, when the method commits).
    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        match &self.unit {
            Some(u) => {
                let mut state = u.state.clone().lock_owned().await;
                state.ensure_open(&self.db, u.claim.as_ref()).await?;
                Tx::nested(state).await
            }
            None => {
                let mut state = Arc::new(tokio::sync::Mutex::new(unit::UnitState::new(false))).lock_owned().await;
                state.ensure_open(&self.db, None).await?;
                Ok(Tx::own(state, self.outbox.clone()))
            }
        }
    }

    /// A connection to read from: the request's unit once it has written
    /// (its own writes are visible there), else the read pool.
    pub(crate) async fn read(&self) -> Result<Conn, StoreError> {
        if let Some(u) = &self.unit {
            let state = u.state.clone().lock_owned().await;
            if state.is_open() {
                return unit::settled(state).await;
            }
        }
        Ok(Conn::Pool(self.db.reads().acquire().await?))
    }

    /// One row of `sql` (`args` bound to `$1`, `$2`, …): on SQLite read on
    /// this thread ([`readers`]) unless the request's unit is open (its own
    /// writes are visible only there), else through sqlx. `any` and `lite`
    /// are the row's decoder for each driver (one generic function).
    pub(crate) async fn fetch_row<T>(
        &self,
        sql: &str,
        args: &[writeset::Arg],
        any: impl FnOnce(&sqlx::any::AnyRow) -> Result<T, StoreError>,
        lite: impl FnOnce(&rusqlite::Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        if let Some(inline) = self.inline_readers().await {
            return inline.with(|c| readers::query(c, sql, args, |rows| rows.next().map_err(writeset::sqlite)?.map(lite).transpose()));
        }
        let row = writeset::bind_all(sqlx::query(sql), args).fetch_optional(&mut *self.read().await?).await?;
        row.as_ref().map(any).transpose()
    }

    /// Every row of `sql`, as [`Store::fetch_row`].
    pub(crate) async fn fetch_rows<T>(
        &self,
        sql: &str,
        args: &[writeset::Arg],
        any: impl Fn(&sqlx::any::AnyRow) -> Result<T, StoreError>,
        lite: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        if let Some(inline) = self.inline_readers().await {
            return inline.with(|c| {
                readers::query(c, sql, args, |rows| {
                    let mut out = Vec::new();
                    while let Some(r) = rows.next().map_err(writeset::sqlite)? {
                        out.push(lite(r)?);
                    }
                    Ok(out)
                })
            });
        }
        let rows = writeset::bind_all(sqlx::query(sql), args).fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(any).collect()
    }

    async fn inline_readers(&self) -> Option<&readers::InlineReaders> {
        let unit::Db::Sqlite { inline: Some(inline), .. } = &*self.db else { return None };
        if let Some(u) = &self.unit
            && u.state.lock().await.is_open()
        {
            return None;
        }
        Some(inline)
    }

    /// This store bound to a new unit of work (see [`unit`]): every call
    /// through it joins one transaction, opened at the first write (which
    /// inserts `claim` first) and committed by [`Store::finish_unit`].
    pub fn unit(&self, claim: Option<Claim>) -> Store {
        Store { unit: Some(Arc::new(Unit::new(claim, false))), ..self.clone() }
    }

    /// As [`Store::unit`], for a flow in the read-decide-apply shape: what
    /// it stages ([`Store::stage`]) before any write of the unit path is
    /// applied at [`Store::finish_unit`] as one write-set with the claim
    /// and the answer, without the flow ever holding the writer. Its finish
    /// may refuse with [`StoreError::Conflict`]; the caller then runs the
    /// flow again in a [`Store::unit`].
    pub fn deciding_unit(&self, claim: Option<Claim>) -> Store {
        Store { unit: Some(Arc::new(Unit::new(claim, true))), ..self.clone() }
    }

    /// Whether this store is bound to a deciding unit that may still decide
    /// again (it has not made an intent durable with a checkpoint).
    pub fn is_deciding(&self) -> bool {
        self.unit.as_ref().is_some_and(|u| u.defer && !u.decided.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Whether writes staged now are deferred to the finish (a deciding
    /// unit that has not opened): a flow takes its write-set path then.
    pub async fn defers(&self) -> bool {
        match &self.unit {
            Some(u) if u.defer => !u.state.lock().await.is_open(),
            _ => false,
        }
    }

    /// Hands the store a write-set. In a deciding unit that has not opened
    /// it is staged for the finish; in any other unit it runs now, in a
    /// savepoint of the request's unit; outside a unit (a job) it is applied
    /// on its own, by SQLite's writer thread, and its messages are handed to
    /// delivery once it is durable.
    pub(crate) async fn stage(&self, set: WriteSet) -> Result<(), StoreError> {
        let Some(u) = &self.unit else {
            let messages = set.messages.clone();
            self.db.apply(set).await?;
            self.outbox.committed_outside_a_request(messages);
            return Ok(());
        };
        if u.defer {
            let mut state = u.state.lock().await;
            if !state.is_open() {
                state.messages.extend(set.messages.iter().cloned());
                state.codes.extend(set.codes.iter().cloned());
                state.staged.extend(set);
                return Ok(());
            }
        }
        let mut tx = self.begin().await?;
        set.run_on(&mut tx).await?;
        for id in &set.messages {
            tx.note_message(id);
        }
        tx.commit().await
    }

    /// Hands the store a write-set whose expectations the flow decided on
    /// (see [`writeset`]). In a deciding unit that has not opened it is
    /// staged and `true` is the answer the flow goes on with: the apply
    /// checks the expectations, and a refusal decides again (before a
    /// checkpoint) or finishes the request by its resume note (after one).
    /// Otherwise it runs now: `false` when an expectation failed (nothing
    /// of it written).
    pub(crate) async fn put(&self, set: WriteSet) -> Result<bool, StoreError> {
        match self.stage(set).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(what)) => {
                tracing::debug!(what, "a write-set's expectation failed");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// The resume note of a deciding unit past its checkpoint: a write-set
    /// refused after it finishes the request this way (see [`Store::put`]).
    pub async fn resume_note(&self) -> Option<String> {
        let u = self.unit.as_ref().filter(|u| u.defer && u.decided.load(std::sync::atomic::Ordering::SeqCst))?;
        u.state.lock().await.resume.clone()
    }

    /// The store outside any unit (for work that must not join the
    /// request's transaction, such as delivery after the commit).
    pub fn base(&self) -> Store {
        Store { unit: None, ..self.clone() }
    }

    /// Whether this store's unit holds an open transaction (then no bank
    /// call may be made: see [`unit`]).
    pub fn holds_open_unit(&self) -> bool {
        self.unit.as_ref().is_some_and(|u| u.state.try_lock().map_or(true, |s| s.is_open()))
    }

    /// Ends the unit: stores `answer` (status, body) on its claim, commits,
    /// and returns what the commit left to do. A claim answered meanwhile
    /// by someone else (a resume race) is [`StoreError::ClaimTaken`], and
    /// nothing of this unit stands.
    pub async fn finish_unit(&self, answer: Option<StoredAnswer<'_>>) -> Result<AfterCommit, StoreError> {
        let u = self.unit.as_ref().expect("finish_unit on a store bound to a unit");
        let mut state = u.state.lock().await;
        if !state.is_open() && !state.poisoned {
            self.finish_as_write_set(u, &mut state, answer, WriteSet::new()).await?;
        } else {
            self.finish_open_unit(u, &mut state, answer).await?;
        }
        state.staged_keys.clear();
        let after = AfterCommit { messages: std::mem::take(&mut state.messages), shredded: state.shredded };
        if after.shredded
            && let Err(e) = self.base().destroy_shredded_keys().await
        {
            // The job destroys them on its next pass.
            tracing::warn!(error = %e, "destroying shredded card keys after the commit failed; the job will retry");
        }
        Ok(after)
    }

    /// Stores the answer in the open unit (opening it if need be) and
    /// commits the unit.
    async fn finish_open_unit(&self, u: &Unit, state: &mut unit::UnitState, answer: Option<StoredAnswer<'_>>) -> Result<(), StoreError> {
        if let (Some(c), Some(a)) = (&u.claim, answer) {
            state.ensure_open(&self.db, Some(c)).await?;
            let stored = sqlx::query(answer_sql(a.transient))
                .bind(i64::from(a.status))
                .bind(a.body)
                .bind(&c.scope)
                .bind(&c.key)
                .execute(state.conn())
                .await;
            match stored {
                Ok(r) if r.rows_affected() == 1 => {}
                Ok(_) => {
                    state.abort().await;
                    return Err(StoreError::ClaimTaken);
                }
                Err(e) => {
                    state.abort().await;
                    return Err(e.into());
                }
            }
        }
        state.commit().await
    }

    /// Runs a write-set now: in the request's unit (opening it; one
    /// write-set is atomic there by itself, a failure fails the request) or
    /// on its own ([`Store::stage`]).
    pub(crate) async fn write_now(&self, set: WriteSet) -> Result<(), StoreError> {
        match &self.unit {
            Some(u) => {
                let mut state = u.state.clone().lock_owned().await;
                state.ensure_open(&self.db, u.claim.as_ref()).await?;
                set.run_on(state.conn()).await?;
                state.messages.extend(set.messages);
                Ok(())
            }
            None => self.stage(set).await,
        }
    }

    /// A card key put for a staged vault row (forgotten if the unit does
    /// not commit).
    pub(crate) async fn note_staged_key(&self, vault_id: &str) {
        if let Some(u) = &self.unit {
            u.state.lock().await.staged_keys.push(vault_id.to_owned());
        }
    }

    /// While the unit defers: how many of `ids` are staged codes by text or
    /// call. `None` once its writes are in the database.
    pub(crate) async fn staged_codes(&self, ids: &[String]) -> Option<u64> {
        let u = self.unit.as_ref().filter(|u| u.defer)?;
        let state = u.state.lock().await;
        if state.is_open() {
            return None;
        }
        Some(ids.iter().filter(|id| state.codes.contains(id)).count() as u64)
    }

    /// A unit that never opened ends as one write-set: the claim, what the
    /// flow staged and the answer, applied whole or refused whole.
    async fn finish_as_write_set(
        &self,
        u: &Unit,
        state: &mut unit::UnitState,
        answer: Option<StoredAnswer<'_>>,
        tail: WriteSet,
    ) -> Result<(), StoreError> {
        let mut set = WriteSet::new();
        if let Some(c) = &u.claim
            && !state.claimed
        {
            set.push(
                "claim",
                "INSERT INTO idempotency (scope, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (scope, idem_key) DO NOTHING",
                vec![c.scope.as_str().into(), c.key.as_str().into(), c.request_hash.as_str().into(), to_ms(c.at).into()],
                writeset::Expect::Claim,
            );
        }
        set.extend(std::mem::take(&mut state.staged));
        if let (Some(c), Some(a)) = (&u.claim, answer) {
            set.push("answer", answer_sql(a.transient), answer_args(c, a), writeset::Expect::Claim);
        }
        set.extend(tail);
        if !set.is_empty()
            && let Err(e) = self.db.apply(set).await
        {
            state.messages.clear();
            state.codes.clear();
            self.forget_staged_keys(state).await;
            if matches!(e, StoreError::ClaimTaken) {
                state.poisoned = true;
            }
            return Err(e);
        }
        state.claimed = true;
        // Their vault rows are committed now: never forgotten after this.
        state.staged_keys.clear();
        Ok(())
    }

    async fn forget_staged_keys(&self, state: &mut unit::UnitState) {
        let keys = std::mem::take(&mut state.staged_keys);
        if !keys.is_empty()
            && let Err(e) = self.keys.forget(&keys).await
        {
            // The orphan sweep destroys them later.
            tracing::warn!(error = %e, "forgetting the card keys of a refused write-set failed");
        }
    }

    /// The outbox rows this unit has written so far.
    pub async fn unit_messages(&self) -> Vec<String> {
        match &self.unit {
            Some(u) => u.state.lock().await.messages.clone(),
            None => Vec::new(),
        }
    }

    /// Ends the unit without its writes.
    pub async fn abort_unit(&self) {
        if let Some(u) = &self.unit {
            let mut state = u.state.lock().await;
            state.abort().await;
            self.forget_staged_keys(&mut state).await;
        }
    }

    /// Commits what the unit wrote so far before a bank call (its intent,
    /// e.g. a pending authorization), recording on the claim how a retry
    /// resumes the request after a crash (`resume`, a flow's own JSON). The
    /// unit opens again at the next write, and its finish stores the answer.
    pub async fn checkpoint(&self, resume: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let Some(u) = &self.unit else { return Ok(()) };
        let mut state = u.state.lock().await;
        if u.defer && !state.is_open() && !state.poisoned {
            // A deciding unit's intent is one write-set: the claim, what the
            // flow staged and the resume note. Past it, the flow has made
            // its decision durable: it is not decided again.
            let mut set = WriteSet::new();
            if let Some(c) = &u.claim {
                set.push(
                    "resume note",
                    "UPDATE idempotency SET resume = $1, created_at = $2 WHERE scope = $3 AND idem_key = $4",
                    vec![resume.into(), to_ms(now).into(), c.scope.as_str().into(), c.key.as_str().into()],
                    writeset::Expect::Claim,
                );
            }
            self.finish_as_write_set(u, &mut state, None, set).await?;
            state.resume = Some(resume.to_owned());
            u.decided.store(true, std::sync::atomic::Ordering::SeqCst);
            return Ok(());
        }
        if let Some(c) = &u.claim {
            state.ensure_open(&self.db, Some(c)).await?;
            let marked = sqlx::query("UPDATE idempotency SET resume = $1, created_at = $2 WHERE scope = $3 AND idem_key = $4")
                .bind(resume)
                .bind(to_ms(now))
                .bind(&c.scope)
                .bind(&c.key)
                .execute(state.conn())
                .await;
            if let Err(e) = marked {
                state.abort().await;
                return Err(e.into());
            }
        }
        state.commit().await?;
        state.staged_keys.clear();
        if u.defer {
            // Writes staged after this point are past the decision too.
            state.resume = Some(resume.to_owned());
            u.decided.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        if state.shredded {
            state.shredded = false;
            self.base().destroy_shredded_keys().await?;
        }
        Ok(())
    }

    /// Destroys shredded cards' keys now, or after the request's unit
    /// commits (a key destroyed for a shred that then rolls back would
    /// leave a card nobody can read).
    pub(crate) async fn destroy_shredded_keys_after_commit(&self) -> Result<(), StoreError> {
        match &self.unit {
            Some(u) => {
                u.state.lock().await.shredded = true;
                Ok(())
            }
            None => self.destroy_shredded_keys().await.map(drop),
        }
    }

    /// Applies the embedded migrations not yet applied, each in a transaction.
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)").await?;
        tx.commit().await?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        for (version, sql) in migrations {
            let mut tx = self.begin().await?;
            if self.backend == Backend::Postgres {
                // Serialize concurrent starts of several instances.
                tx.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE").await?;
            }
            let applied: Option<(i64,)> =
                sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1").bind(version).fetch_optional(&mut *tx).await?;
            if applied.is_none() {
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(version)
                    .bind(to_ms(OffsetDateTime::now_utc()))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Records each key's check value the first time it is seen and returns
    /// the names of those whose value differs from the recorded one: keys
    /// another instance did not start with (see `Vault::key_checks`).
    pub async fn check_keys(&self, checks: &[(String, String)], now: OffsetDateTime) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin().await?;
        for (name, value) in checks {
            sqlx::query("INSERT INTO key_checks (name, check_value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(value)
                .bind(to_ms(now))
                .execute(&mut *tx)
                .await?;
        }
        let recorded: Vec<(String, String)> = sqlx::query_as("SELECT name, check_value FROM key_checks").fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(checks
            .iter()
            .filter(|(name, value)| recorded.iter().any(|(n, v)| n == name && v != value))
            .map(|(name, _)| name.clone())
            .collect())
    }

    /// Notes that instance `id` is alive at `now` and returns how many
    /// instances beat since `fresh_since` (itself included). Rows not seen
    /// for an hour are removed.
    pub async fn instance_beat(&self, id: &str, now: OffsetDateTime, fresh_since: OffsetDateTime) -> Result<u32, StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO instances (id, seen_at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET seen_at = $2")
            .bind(id)
            .bind(to_ms(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM instances WHERE seen_at < $1").bind(to_ms(now - time::Duration::hours(1))).execute(&mut *tx).await?;
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM instances WHERE seen_at >= $1").bind(to_ms(fresh_since)).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX).max(1))
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> bool {
        match self.read().await {
            Ok(mut c) => sqlx::query("SELECT 1").execute(&mut *c).await.is_ok(),
            Err(_) => false,
        }
    }

    /// SQLite: moves the WAL into the main file (used before inspecting the
    /// file in tests, and on shutdown).
    pub async fn checkpoint_wal(&self) -> Result<(), StoreError> {
        if let Db::Sqlite { writer, .. } = &*self.db {
            let mut g = writer.exclusive().await;
            g.conn().execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.db.reads().close().await;
        self.poke.close().await;
        if let Db::Sqlite { writer, applier, inline, checkpointer, .. } = &*self.db {
            applier.iter().for_each(unit::Applier::close);
            inline.iter().for_each(readers::InlineReaders::close);
            checkpointer.iter().for_each(checkpointer::Checkpointer::close);
            let g = writer.exclusive().await;
            drop(g);
        }
        self.keys.close().await;
    }
}

/// A pool for `url`: SQLite with one connection in WAL mode and
/// `synchronous=FULL`, or PostgreSQL with `search_path` set to `schema`
/// (created if missing).
pub(crate) async fn open_pool(url: &str, schema: Option<&str>) -> Result<(AnyPool, Backend), StoreError> {
    install_default_drivers();
    let backend = if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Backend::Postgres
    } else {
        return Err(StoreError::UnsupportedUrl);
    };
    let pool = match backend {
        Backend::Sqlite => {
            // One connection: SQLite has one writer anyway, and a single
            // connection makes every transaction serializable without
            // BUSY errors under concurrent requests. `secure_delete`
            // overwrites deleted content, so a destroyed card key does not
            // linger in free pages.
            AnyPoolOptions::new()
                .max_connections(1)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(SQLITE_WRITER_PRAGMAS).await?;
                        Ok(())
                    })
                })
                .connect(&sqlite_url_with_create(url))
                .await?
        }
        Backend::Postgres => {
            if let Some(schema) = schema {
                if !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(StoreError::Corrupt("schema name must be [A-Za-z0-9_]".into()));
                }
                let setup = AnyPoolOptions::new().max_connections(1).connect(url).await?;
                setup.execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str()).await?;
                setup.close().await;
            }
            postgres_pool(url, schema, 4).await?
        }
    };
    Ok((pool, backend))
}

/// The main database: for SQLite one writer connection (WAL,
/// `synchronous=FULL`) and a read-only pool of readers sized to the cores;
/// for PostgreSQL a pool with `search_path` set to `schema`. Also returns a
/// small read-write pool for tests to poke with.
async fn open_db(url: &str, schema: Option<&str>) -> Result<(Db, AnyPool, Backend), StoreError> {
    let (poke, backend) = open_pool(url, schema).await?;
    match backend {
        Backend::Postgres => {
            let pool = postgres_pool(url, schema, postgres_pool_size()).await?;
            Ok((Db::Postgres { pool }, poke, backend))
        }
        Backend::Sqlite => {
            let url = sqlite_url_with_create(url);
            let file = sqlite_file(&url);
            // A file database is checkpointed by a thread of its own, never
            // by a writer (see `checkpointer`); in memory there is no WAL.
            let writer_pragmas = match file {
                Some(_) => format!("{SQLITE_MAIN_WRITER_PRAGMAS} {}", checkpointer::NO_AUTOCHECKPOINT),
                None => SQLITE_MAIN_WRITER_PRAGMAS.to_owned(),
            };
            let mut conn = AnyConnection::connect(&url).await?;
            conn.execute(writer_pragmas.as_str()).await?;
            let readers = std::thread::available_parallelism().map_or(2, |n| n.get()).max(2) as u32;
            let reads = AnyPoolOptions::new()
                .max_connections(readers)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // Readers never write: a write through one is a bug.
                        conn.execute("PRAGMA busy_timeout=5000; PRAGMA query_only=ON; PRAGMA temp_store=MEMORY;").await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await?;
            let writer = Writer::new(conn);
            let applier = match &file {
                Some(file) => Some(unit::Applier::start(file, &writer_pragmas, Some(writer.clone()))?),
                None => None,
            };
            let inline = match &file {
                Some(file) => Some(readers::InlineReaders::open(file, readers as usize)?),
                None => None,
            };
            let checkpointer = match &file {
                Some(file) => Some(checkpointer::Checkpointer::start(file)?),
                None => None,
            };
            Ok((Db::Sqlite { writer, applier, reads, inline, checkpointer }, poke, backend))
        }
    }
}

/// The writer's settings. WAL lets readers run beside it; `synchronous=FULL`
/// makes an acknowledged commit survive power loss; `secure_delete`
/// overwrites deleted content, so a destroyed card key does not linger in
/// free pages. `temp_store=MEMORY` keeps statement journals (every
/// statement inside a savepoint may need one) off the disk: a temporary
/// file created and deleted per statement was most of a write's cost.
pub(crate) const SQLITE_WRITER_PRAGMAS: &str = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; \
     PRAGMA secure_delete=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384;";

/// The main database's writer: as [`SQLITE_WRITER_PRAGMAS`], but deleted
/// content is overwritten only where that costs no extra page write
/// (`secure_delete=FAST`: card keys live in the card key store, which keeps
/// `ON`).
const SQLITE_MAIN_WRITER_PRAGMAS: &str = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; \
     PRAGMA busy_timeout=5000; PRAGMA secure_delete=FAST; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384;";

/// Connections per PostgreSQL pool: a unit holds one only while it writes,
/// so a few per core keep the server busy without queueing on the pool.
fn postgres_pool_size() -> u32 {
    (std::thread::available_parallelism().map_or(2, |n| n.get()) as u32 * 4).clamp(8, 32)
}

async fn postgres_pool(url: &str, schema: Option<&str>, size: u32) -> Result<AnyPool, StoreError> {
    let search_path = schema.map(|s| format!("SET search_path TO {s}"));
    Ok(AnyPoolOptions::new()
        .max_connections(size)
        .after_connect(move |conn, _| {
            let sp = search_path.clone();
            Box::pin(async move {
                if let Some(sp) = sp {
                    conn.execute(sp.as_str()).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

/// The database file of a `sqlite:` url (none for an in-memory one).
pub(crate) fn sqlite_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    if path.contains(":memory:") {
        return None;
    }
    Some(path.trim_start_matches("//").to_owned())
}

fn sqlite_url_with_create(url: &str) -> String {
    if url.contains('?') { url.to_owned() } else { format!("{url}?mode=rwc") }
}

pub fn to_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// An optional stored time.
pub(crate) fn opt_time(v: Option<i64>) -> Option<OffsetDateTime> {
    v.map(from_ms)
}

pub fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A random id with a type prefix: `bnd_` + 20 base32 characters (100 bits).
pub fn new_id(prefix: &str) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut rng = rand::thread_rng();
    let tail: String = (0..20).map(|_| char::from(ALPHABET[rng.gen_range(0..32)])).collect();
    format!("{prefix}_{tail}")
}

/// Whether `e` is a unique violation of the named constraint. PostgreSQL
/// names the constraint or index; SQLite names the table and columns.
pub(crate) fn is_unique_violation(e: &sqlx::Error, pg_name: &str, sqlite_columns: &str) -> bool {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => db.constraint() == Some(pg_name) || db.message().contains(sqlite_columns),
        _ => false,
    }
}

impl FromStr for Backend {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" => Ok(Backend::Postgres),
            _ => Err(StoreError::UnsupportedUrl),
        }
    }
}

/// RFC 3339 with millisecond precision (what the store keeps), so a time
/// reads the same in the answer that created it, in every later read and in
/// a signed receipt.
pub use bangka_core::clock::rfc3339;

/// One statement written on its own: `query.write_on(store)` runs it in a
/// transaction of its own (or a savepoint of the request's unit) and commits.
pub(crate) trait WriteOn {
    fn write_on(self, store: &Store) -> impl std::future::Future<Output = Result<sqlx::any::AnyQueryResult, StoreError>> + Send;
}

impl<'q> WriteOn for sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    async fn write_on(self, store: &Store) -> Result<sqlx::any::AnyQueryResult, StoreError> {
        match &store.unit {
            // Inside a request's unit: one statement is atomic by itself, so
            // it needs no savepoint of its own (a failure fails the request).
            Some(u) => {
                let mut state = u.state.clone().lock_owned().await;
                state.ensure_open(&store.db, u.claim.as_ref()).await?;
                Ok(self.execute(state.conn()).await?)
            }
            None => {
                let mut tx = store.begin().await?;
                let res = self.execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(res)
            }
        }
    }
}

/// Stores a unit's answer on its claim. A transient answer keeps the
/// resume note (see IdemState); a claim still holding one may be answered
/// again by its resumer.
fn answer_sql(transient: bool) -> &'static str {
    if transient {
        "UPDATE idempotency SET status_code = $1, response = $2
         WHERE scope = $3 AND idem_key = $4 AND (status_code IS NULL OR resume IS NOT NULL)"
    } else {
        "UPDATE idempotency SET status_code = $1, response = $2, resume = NULL
         WHERE scope = $3 AND idem_key = $4 AND (status_code IS NULL OR resume IS NOT NULL)"
    }
}

fn answer_args(c: &Claim, a: StoredAnswer<'_>) -> Vec<writeset::Arg> {
    vec![i64::from(a.status).into(), a.body.into(), c.scope.as_str().into(), c.key.as_str().into()]
}

/// The answer a unit stores with its effect for `Idempotency-Key` replays.
#[derive(Debug, Clone, Copy)]
pub struct StoredAnswer<'a> {
    pub status: u16,
    pub body: &'a str,
    /// It says when to try again (a transient refusal): the claim keeps its
    /// resume note, so a retry after that time resumes the request.
    pub transient: bool,
}

impl<'a> StoredAnswer<'a> {
    /// An answer that holds for good.
    pub fn lasting(status: u16, body: &'a str) -> StoredAnswer<'a> {
        StoredAnswer { status, body, transient: false }
    }
}
