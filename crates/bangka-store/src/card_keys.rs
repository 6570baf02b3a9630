//! The card key store: every card's data key (wrapped under the master key)
//! lives here, in a database of its own, apart from the ciphertext in
//! `vault_cards`.
//!
//! # Why apart
//! Deleting a card must make its number unrecoverable *even from backups of
//! the database* (SPEC "Delete"). If the wrapped data key sat in the same
//! row as the ciphertext, a backup taken before the delete would hold both,
//! and the master key (which stays) would open it. Kept here, the key is
//! destroyed in one place, and a database backup holds only ciphertext whose
//! key no longer exists anywhere. Operators back this store up on its own,
//! short retention (or only replicate it); see README "Operating notes".
//!
//! # Where it is
//! By default beside the database: for SQLite `bangka.db` the file
//! `bangka.card-keys.db` (with `secure_delete`, and its WAL truncated after
//! every destruction, so no copy of a destroyed key stays in the file); for
//! PostgreSQL the schema `<schema>_card_keys` (or `bangka_card_keys`),
//! vacuumed after every destruction. `--card-key-store-url` puts it on
//! another server.
//!
//! # Consistency without a shared transaction
//! A key is written *before* the transaction that inserts its vault row, so
//! a committed row always has its key; a rolled-back insert leaves an
//! orphan key, removed by [`crate::Store::sweep_orphan_keys`] once it is old.
//! A shred NULLs the ciphertext inside the operation's transaction and
//! records nothing here; [`crate::Store::destroy_shredded_keys`] (right
//! after, at start-up and from the job) destroys the keys of shredded rows
//! and marks them, so a crash in between only delays the destruction.

use sqlx::{AnyPool, Executor};
use time::OffsetDateTime;

use crate::readers::Cols;
use crate::writeset::{Expect, WriteSet};
use crate::{Backend, StoreError, open_pool, to_ms};

/// A card's data key as the key store holds it.
#[derive(Debug, Clone)]
pub struct WrappedKey {
    pub key_version: i64,
    pub wrapped_dek: Vec<u8>,
    pub dek_nonce: Vec<u8>,
}

#[derive(Clone)]
pub struct CardKeys {
    pool: AnyPool,
    backend: Backend,
    /// SQLite: a writer thread that puts the keys of concurrent binds with
    /// one fsync (see [`crate::writeset`]); a put is on every bind's path.
    puts: Option<crate::unit::Applier>,
    /// SQLite: a key read on the calling thread (every payment reads one).
    inline: Option<std::sync::Arc<crate::readers::InlineReaders>>,
}

/// Where the key store of the database at `url` lives (url, schema).
pub fn location(url: &str, schema: Option<&str>, explicit: Option<&str>) -> Result<(String, Option<String>), StoreError> {
    let pg_schema = || Some(schema.map_or_else(|| "bangka_card_keys".to_owned(), |s| format!("{s}_card_keys")));
    if let Some(u) = explicit {
        let s = if u.starts_with("sqlite:") { None } else { pg_schema() };
        return Ok((u.to_owned(), s));
    }
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Ok((url.to_owned(), pg_schema()));
    }
    let Some(rest) = url.strip_prefix("sqlite:") else { return Err(StoreError::UnsupportedUrl) };
    let (path, query) = rest.split_once('?').map_or((rest, None), |(p, q)| (p, Some(q)));
    if path.contains(":memory:") {
        return Ok(("sqlite::memory:".to_owned(), None));
    }
    let path = path.trim_start_matches("//");
    let p = std::path::Path::new(path);
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("bangka");
    let file = p.with_file_name(format!("{stem}.card-keys.db"));
    let mut out = format!("sqlite://{}", file.display());
    if let Some(q) = query {
        out = format!("{out}?{q}");
    }
    Ok((out, None))
}

impl CardKeys {
    pub(crate) async fn open(url: &str, schema: Option<&str>) -> Result<CardKeys, StoreError> {
        let (pool, backend) = open_pool(url, schema).await?;
        let blob = if backend == Backend::Postgres { "BYTEA" } else { "BLOB" };
        pool.execute(
            format!(
                "CREATE TABLE IF NOT EXISTS card_keys (
                    vault_id     TEXT PRIMARY KEY,
                    key_version  BIGINT NOT NULL,
                    wrapped_dek  {blob} NOT NULL,
                    dek_nonce    {blob} NOT NULL,
                    created_at   BIGINT NOT NULL
                )"
            )
            .as_str(),
        )
        .await?;
        // The orphan sweep walks keys by age.
        pool.execute("CREATE INDEX IF NOT EXISTS card_keys_by_time ON card_keys (created_at, vault_id)").await?;
        let (puts, inline) = match crate::sqlite_file(url) {
            Some(file) if backend == Backend::Sqlite => (
                Some(crate::unit::Applier::start(&file, crate::SQLITE_WRITER_PRAGMAS, None)?),
                Some(std::sync::Arc::new(crate::readers::InlineReaders::open(&file, 2)?)),
            ),
            _ => (None, None),
        };
        Ok(CardKeys { pool, backend, puts, inline })
    }

    pub(crate) async fn close(&self) {
        self.puts.iter().for_each(crate::unit::Applier::close);
        self.inline.iter().for_each(|r| r.close());
        self.pool.close().await;
    }

    /// Stores a card's key; a repeat for the same card is a no-op.
    pub(crate) async fn put(&self, vault_id: &str, key: &WrappedKey, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "card key",
            "INSERT INTO card_keys (vault_id, key_version, wrapped_dek, dek_nonce, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (vault_id) DO NOTHING",
            vec![vault_id.into(), key.key_version.into(), (&key.wrapped_dek).into(), (&key.dek_nonce).into(), to_ms(now).into()],
            Expect::Any,
        );
        match &self.puts {
            Some(puts) => puts.apply(set).await,
            None => set.run_on(&mut *self.pool.acquire().await?).await,
        }
    }

    /// Stores many keys in one transaction (scale data).
    pub(crate) async fn put_many(&self, keys: &[(String, WrappedKey)], now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for chunk in keys.chunks(500) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| format!("(${}, ${}, ${}, ${}, ${})", r * 5 + 1, r * 5 + 2, r * 5 + 3, r * 5 + 4, r * 5 + 5))
                .collect();
            let sql = format!(
                "INSERT INTO card_keys (vault_id, key_version, wrapped_dek, dek_nonce, created_at) VALUES {} ON CONFLICT (vault_id) DO NOTHING",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (vault_id, key) in chunk {
                q = q.bind(vault_id).bind(key.key_version).bind(&key.wrapped_dek).bind(&key.dek_nonce).bind(to_ms(now));
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn get(&self, vault_id: &str) -> Result<Option<WrappedKey>, StoreError> {
        const SQL: &str = "SELECT key_version, wrapped_dek, dek_nonce FROM card_keys WHERE vault_id = $1";
        if let Some(inline) = &self.inline {
            return inline.with(|c| {
                crate::readers::query(c, SQL, &[vault_id.into()], |rows| match rows.next().map_err(crate::writeset::sqlite)? {
                    Some(r) => Ok(Some(WrappedKey {
                        key_version: r.col("key_version")?,
                        wrapped_dek: r.col("wrapped_dek")?,
                        dek_nonce: r.col("dek_nonce")?,
                    })),
                    None => Ok(None),
                })
            });
        }
        let row: Option<(i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(SQL).bind(vault_id).fetch_optional(&self.pool).await?;
        Ok(row.map(|(key_version, wrapped_dek, dek_nonce)| WrappedKey { key_version, wrapped_dek, dek_nonce }))
    }

    /// Destroys these cards' keys and leaves no copy in the store's files:
    /// SQLite overwrites the deleted cells (`secure_delete`) and the WAL is
    /// truncated; PostgreSQL vacuums the table so no dead tuple keeps them.
    pub(crate) async fn destroy(&self, vault_ids: &[String]) -> Result<(), StoreError> {
        if vault_ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for id in vault_ids {
            sqlx::query("DELETE FROM card_keys WHERE vault_id = $1").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        match self.backend {
            Backend::Sqlite => {
                self.pool.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
            }
            Backend::Postgres => {
                self.pool.execute("VACUUM card_keys").await?;
            }
        }
        Ok(())
    }

    /// Deletes keys whose vault row never committed (no ciphertext exists
    /// for them anywhere), without the file clean-up [`CardKeys::destroy`]
    /// does: there is nothing a backup could pair them with.
    pub(crate) async fn forget(&self, vault_ids: &[String]) -> Result<(), StoreError> {
        for id in vault_ids {
            sqlx::query("DELETE FROM card_keys WHERE vault_id = $1").bind(id).execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Keys wrapped under another master key version than `version`.
    pub(crate) async fn not_under(&self, version: i64, limit: i64) -> Result<Vec<(String, WrappedKey)>, StoreError> {
        let rows: Vec<(String, i64, Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT vault_id, key_version, wrapped_dek, dek_nonce FROM card_keys WHERE key_version <> $1 LIMIT $2")
                .bind(version)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, key_version, wrapped_dek, dek_nonce)| (id, WrappedKey { key_version, wrapped_dek, dek_nonce }))
            .collect())
    }

    pub(crate) async fn count_not_under(&self, version: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM card_keys WHERE key_version <> $1").bind(version).fetch_one(&self.pool).await?;
        Ok(n)
    }

    /// Replaces a key re-wrapped under a new master key, only if it is still
    /// under `old_version` (another rotation pass may have done it).
    pub(crate) async fn replace(&self, vault_id: &str, old_version: i64, new: &WrappedKey) -> Result<u64, StoreError> {
        let res =
            sqlx::query("UPDATE card_keys SET wrapped_dek = $1, dek_nonce = $2, key_version = $3 WHERE vault_id = $4 AND key_version = $5")
                .bind(&new.wrapped_dek)
                .bind(&new.dek_nonce)
                .bind(new.key_version)
                .bind(vault_id)
                .bind(old_version)
                .execute(&self.pool)
                .await?;
        Ok(res.rows_affected())
    }

    /// Keys written in `[from, cutoff)`, oldest first, with their times
    /// (candidates for the orphan sweep, which walks forward from where it
    /// stopped, so each key is looked at once).
    pub(crate) async fn written_between(&self, from: i64, cutoff: OffsetDateTime, limit: i64) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT vault_id, created_at FROM card_keys WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, vault_id LIMIT $3",
        )
        .bind(from)
        .bind(to_ms(cutoff))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// SQLite: moves the WAL into the file (tests inspect the file).
    pub(crate) async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            self.pool.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::location;

    #[test]
    fn the_key_store_sits_beside_the_database() {
        assert_eq!(location("sqlite:///d/bangka.db", None, None).unwrap(), ("sqlite:///d/bangka.card-keys.db".into(), None));
        assert_eq!(location("sqlite:///d/x.sqlite?mode=rwc", None, None).unwrap(), ("sqlite:///d/x.card-keys.db?mode=rwc".into(), None));
        assert_eq!(location("sqlite::memory:", None, None).unwrap().0, "sqlite::memory:");
        assert_eq!(location("postgres://h/db", Some("t1"), None).unwrap(), ("postgres://h/db".into(), Some("t1_card_keys".into())));
        assert_eq!(location("postgres://h/db", None, None).unwrap().1.as_deref(), Some("bangka_card_keys"));
        assert_eq!(location("postgres://h/db", None, Some("postgres://k/keys")).unwrap().0, "postgres://k/keys");
        assert_eq!(location("sqlite:///d/b.db", None, Some("sqlite:///e/k.db")).unwrap(), ("sqlite:///e/k.db".into(), None));
    }
}
