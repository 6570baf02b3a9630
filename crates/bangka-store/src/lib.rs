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
//! - [`repo`]: the queries, grouped by aggregate.

pub mod audit;
pub mod card_keys;
pub mod lifecycle;
pub mod maintenance;
pub mod payments;
pub mod receipts;
pub mod repo;
pub mod reviews;
pub mod risk;
pub mod sessions;
pub mod settlements;
pub mod tickets;
pub mod vault;

use std::str::FromStr;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use time::OffsetDateTime;

pub use audit::{AuditRecord, AuditVerdict, Cause, Change};
pub use lifecycle::{MandateRow, NewMandate, TokenMove, Trail, UnbindRequest, UnfreezeOutcome};
pub use maintenance::{IssuerBindStats, MaintenanceRow, NewMaintenance};
pub use payments::*;
pub use receipts::{ReceiptDraft, ReceiptProblem, ReceiptSigner, canonical, verify_receipt};
pub use repo::*;
pub use reviews::{NewReview, ReviewDecision, ReviewRow};
pub use risk::{Firing, RiskDecision, SubjectLock};
pub use sessions::{DeviceRow, NewSession, SessionRow};
pub use settlements::{NewSettlement, SettlementRow};
pub use tickets::{NewTicket, TicketEvent, TicketMove, TicketRow};
pub use vault::{CryptogramInput, SealedCard, Vault, sealed_value_version, token_key_context};

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store: a pool and which backend it talks to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    keys: card_keys::CardKeys,
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
        let (pool, backend) = open_pool(url, schema).await?;
        let (keys_url, keys_schema) = card_keys::location(url, schema, key_store_url)?;
        let keys = card_keys::CardKeys::open(&keys_url, keys_schema.as_deref()).await?;
        let store = Store { pool, backend, keys };
        store.migrate().await?;
        store.chain_unchained_audit().await?;
        store.move_legacy_card_keys().await?;
        store.destroy_shredded_keys().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies the embedded migrations not yet applied, each in a transaction.
    async fn migrate(&self) -> Result<(), StoreError> {
        self.pool.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)").await?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        for (version, sql) in migrations {
            let mut tx = self.pool.begin().await?;
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

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// SQLite: moves the WAL into the main file (used before inspecting the
    /// file in tests, and on shutdown).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            self.pool.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
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
                        conn.execute(
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; PRAGMA secure_delete=ON;",
                        )
                        .await?;
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
            let search_path = schema.map(|s| format!("SET search_path TO {s}"));
            AnyPoolOptions::new()
                .max_connections(10)
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
                .await?
        }
    };
    Ok((pool, backend))
}

fn sqlite_url_with_create(url: &str) -> String {
    if url.contains('?') { url.to_owned() } else { format!("{url}?mode=rwc") }
}

pub fn to_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
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
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
