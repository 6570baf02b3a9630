//! API keys (issue 24): a key's hash with its role, mode, name, expiry and
//! the time it was last used; never the key itself. Every change is
//! audited. A revoked or expired key stops authenticating: the store never
//! returns it, and each instance's key cache holds a key for under a second
//! (`bangka_server::key_cache`), so a revocation reaches every instance
//! within one.

use bangka_core::api_version::ApiVersion;
use bangka_core::mode::Mode;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::WriteOn;
use crate::audit::{Cause, Change};
use crate::writeset::{Expect, WriteSet};
use crate::{Store, StoreError, from_ms, new_id, opt_time, to_ms};

/// An API key as authentication and `keys list` see it (never the key).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ApiKeyRow {
    pub id: String,
    pub role: String,
    pub mode: Mode,
    pub name: Option<String>,
    /// The merchant a merchant key speaks for, if it was bound to one.
    pub merchant_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// The key a rotation made in its place.
    pub replaced_by: Option<String>,
    /// The API version its requests get unless they ask for another.
    pub api_version: ApiVersion,
}

impl ApiKeyRow {
    /// Whether it may authenticate at `now`.
    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A key about to be stored.
#[derive(Debug, Clone, Copy)]
pub struct NewApiKey<'a> {
    pub role: &'a str,
    pub mode: Mode,
    pub key_hash: &'a str,
    pub name: Option<&'a str>,
    pub merchant_id: Option<&'a str>,
    pub expires_at: Option<OffsetDateTime>,
    /// Pinned for the key's life (a new key: the current version).
    pub api_version: ApiVersion,
}

const KEY_COLS: &str = "id, role, mode, name, merchant_id, created_at, last_used_at, expires_at, revoked_at, replaced_by, api_version";

fn key_row(r: &AnyRow) -> Result<ApiKeyRow, StoreError> {
    let mode: String = r.try_get("mode")?;
    Ok(ApiKeyRow {
        id: r.try_get("id")?,
        role: r.try_get("role")?,
        mode: Mode::parse(&mode).ok_or_else(|| StoreError::Corrupt(format!("key mode {mode}")))?,
        name: r.try_get("name")?,
        merchant_id: r.try_get("merchant_id")?,
        created_at: from_ms(r.try_get("created_at")?),
        last_used_at: opt_time(r.try_get("last_used_at")?),
        expires_at: opt_time(r.try_get("expires_at")?),
        revoked_at: opt_time(r.try_get("revoked_at")?),
        replaced_by: r.try_get("replaced_by")?,
        api_version: {
            let v: String = r.try_get("api_version")?;
            ApiVersion::parse(&v).ok_or_else(|| StoreError::Corrupt(format!("key api_version {v}")))?
        },
    })
}

/// What a revoke or rotate found.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyChange {
    Done,
    NotFound,
    /// Revoked already (nothing changed).
    Revoked,
}

impl Store {
    /// Stores a key's hash, audited (`api_key.create`), as one write-set.
    /// Returns the key as it will be.
    pub async fn create_api_key(&self, k: NewApiKey<'_>, cause: Cause<'_>, now: OffsetDateTime) -> Result<ApiKeyRow, StoreError> {
        let id = new_id("key");
        let mut set = insert(&id, &k, now);
        let after = format!("{} {}", k.mode.as_str(), k.role);
        let change = Change { action: "api_key.create", subject: &id, before: None, after: Some(&after) };
        set.extend(crate::audit::entry_write(cause, change, now));
        // A new id; the hash is unique (a key made of 256 random bits never
        // repeats, so a refusal is a tool storing a hash twice).
        if !self.put(set).await? {
            return Err(StoreError::Conflict("an API key with this hash exists".into()));
        }
        Ok(new_row(id, &k, now))
    }

    /// Stores a key's hash without a name or expiry (tests and tools).
    pub async fn insert_api_key(
        &self,
        role: &str,
        mode: Mode,
        key_hash: &str,
        merchant_id: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<String, StoreError> {
        let k = NewApiKey { role, mode, key_hash, name: None, merchant_id, expires_at: None, api_version: ApiVersion::CURRENT };
        Ok(self.create_api_key(k, Cause::api("tool"), now).await?.id)
    }

    /// The key with this hash, if it may authenticate at `now`.
    pub async fn find_api_key(&self, key_hash: &str, now: OffsetDateTime) -> Result<Option<ApiKeyRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {KEY_COLS} FROM api_keys WHERE key_hash = $1"))
            .bind(key_hash)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        Ok(row.as_ref().map(key_row).transpose()?.filter(|k| k.is_usable(now)))
    }

    pub async fn get_api_key(&self, id: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {KEY_COLS} FROM api_keys WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        row.as_ref().map(key_row).transpose()
    }

    /// A page of the keys of one mode, newest first.
    pub async fn api_key_page(&self, mode: Mode, page: &crate::PageRequest) -> Result<crate::Page<ApiKeyRow>, StoreError> {
        let list = crate::page::Listing {
            table: "api_keys",
            cols: KEY_COLS,
            scope: "mode = $1",
            owner: "mode = $1",
            key: "created_at",
            id: "id",
            descending: true,
        };
        self.page(&list, vec![mode.as_str().into()], page, key_row).await
    }

    /// The keys with these ids (those that exist), to name the actors of
    /// audit entries.
    pub async fn api_keys_by_id(&self, ids: &[&str]) -> Result<Vec<ApiKeyRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT {KEY_COLS} FROM api_keys WHERE id IN ({})", marks.join(", "));
        let rows = crate::writeset::bind_all(sqlx::query(&sql), &ids.iter().map(|i| (*i).into()).collect::<Vec<_>>())
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(key_row).collect()
    }

    /// Every key, newest first.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyRow>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {KEY_COLS} FROM api_keys ORDER BY created_at DESC, id LIMIT 10000"))
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(key_row).collect()
    }

    /// Revokes a key at once, audited (`api_key.revoke`), as one write-set
    /// decided on the key as read (its guard: not revoked meanwhile).
    /// Returns the key as it will be, with what was found.
    pub async fn revoke_api_key(
        &self,
        id: &str,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<(KeyChange, Option<ApiKeyRow>), StoreError> {
        let Some(key) = self.get_api_key(id).await? else { return Ok((KeyChange::NotFound, None)) };
        if key.revoked_at.is_some() {
            return Ok((KeyChange::Revoked, Some(key)));
        }
        let mut set = WriteSet::new();
        set.push(
            "key not revoked",
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            vec![to_ms(now).into(), id.into()],
            Expect::One,
        );
        let change = Change { action: "api_key.revoke", subject: id, before: Some("active"), after: Some("revoked") };
        set.extend(crate::audit::entry_write(cause, change, now));
        if !self.put(set).await? {
            // Revoked meanwhile.
            return Ok((KeyChange::Revoked, self.get_api_key(id).await?));
        }
        Ok((KeyChange::Done, Some(ApiKeyRow { revoked_at: Some(from_ms(to_ms(now))), ..key })))
    }

    /// Rotates a key: a new key of the same role, mode, name and merchant is
    /// stored (its hash given), and the old one expires after `overlap`
    /// (sooner if it expired sooner), so both work while the wallet moves
    /// over. Audited (`api_key.rotate`, `api_key.create`), as one write-set
    /// decided on the old key as read (its guard: not revoked or rotated
    /// meanwhile). Returns the new key as it will be.
    pub async fn rotate_api_key(
        &self,
        id: &str,
        new_hash: &str,
        overlap: time::Duration,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<Result<ApiKeyRow, KeyChange>, StoreError> {
        let Some(old) = self.get_api_key(id).await? else { return Ok(Err(KeyChange::NotFound)) };
        if !old.is_usable(now) {
            return Ok(Err(KeyChange::Revoked));
        }
        let new_id = new_id("key");
        let k = NewApiKey {
            role: &old.role,
            mode: old.mode,
            key_hash: new_hash,
            name: old.name.as_deref(),
            merchant_id: old.merchant_id.as_deref(),
            expires_at: old.expires_at,
            // A rotation changes the secret, not what the wallet was built
            // against.
            api_version: old.api_version,
        };
        let mut set = insert(&new_id, &k, now);
        let until = old.expires_at.map_or(now + overlap, |e| e.min(now + overlap));
        set.push(
            "old key neither revoked nor rotated",
            "UPDATE api_keys SET expires_at = $1, replaced_by = $2 WHERE id = $3 AND revoked_at IS NULL AND replaced_by IS NULL",
            vec![to_ms(until).into(), (&new_id).into(), id.into()],
            Expect::One,
        );
        let after = format!("expires with the overlap; replaced by {new_id}");
        let change = Change { action: "api_key.rotate", subject: id, before: Some("active"), after: Some(&after) };
        set.extend(crate::audit::entry_write(cause, change, now));
        let after = format!("{} {}", old.mode.as_str(), old.role);
        let change = Change { action: "api_key.create", subject: &new_id, before: None, after: Some(&after) };
        set.extend(crate::audit::entry_write(cause.with_note("rotation"), change, now));
        if !self.put(set).await? {
            // Revoked or rotated meanwhile.
            return Ok(Err(KeyChange::Revoked));
        }
        Ok(Ok(new_row(new_id, &k, now)))
    }

    /// Notes that a key was used, at most once a minute (a write per
    /// request would put the key's row in every request's way).
    pub async fn touch_api_key(&self, id: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
            .bind(to_ms(now))
            .bind(id)
            .bind(to_ms(now - time::Duration::minutes(1)))
            .write_on(self)
            .await?;
        Ok(())
    }
}

fn insert(id: &str, k: &NewApiKey<'_>, now: OffsetDateTime) -> WriteSet {
    let mut set = WriteSet::new();
    set.push(
        "new key",
        "INSERT INTO api_keys (id, role, mode, key_hash, name, merchant_id, created_at, expires_at, api_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            id.into(),
            k.role.into(),
            k.mode.as_str().into(),
            k.key_hash.into(),
            k.name.into(),
            k.merchant_id.into(),
            to_ms(now).into(),
            k.expires_at.map(to_ms).into(),
            k.api_version.as_str().into(),
        ],
        Expect::One,
    );
    set
}

/// A key just created, as it will read.
fn new_row(id: String, k: &NewApiKey<'_>, now: OffsetDateTime) -> ApiKeyRow {
    ApiKeyRow {
        id,
        role: k.role.to_owned(),
        mode: k.mode,
        name: k.name.map(str::to_owned),
        merchant_id: k.merchant_id.map(str::to_owned),
        created_at: from_ms(to_ms(now)),
        last_used_at: None,
        expires_at: k.expires_at.map(|e| from_ms(to_ms(e))),
        revoked_at: None,
        replaced_by: None,
        api_version: k.api_version,
    }
}
