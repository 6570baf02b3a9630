//! Holder sessions and known devices. A session row holds only the token's
//! SHA-256; the device row remembers where an account has been used, so the
//! first login from a new device can be announced in the same transaction
//! that opens the session.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::WriteOn;
use crate::audit::{Cause, Change};
use crate::outbox::NewMessage;
use crate::{Store, StoreError, from_ms, to_ms};

pub struct NewSession<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub token_hash: &'a str,
    pub wallet_key_id: &'a str,
    pub device_id: &'a str,
    pub device_name: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub account_id: String,
    pub wallet_key_id: String,
    pub device_id: String,
    pub client_ip: Option<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
}

impl SessionRow {
    /// Whether it may still act: not ended and not expired.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.ended_at.is_none() && now < self.expires_at
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceRow {
    pub device_id: String,
    pub name: Option<String>,
    #[serde(skip)]
    pub last_ip: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
}

const SESSION_COLS: &str = "id, account_id, wallet_key_id, device_id, client_ip, created_at, expires_at, ended_at";

fn session_row(r: &AnyRow) -> Result<SessionRow, StoreError> {
    Ok(SessionRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        wallet_key_id: r.try_get("wallet_key_id")?,
        device_id: r.try_get("device_id")?,
        client_ip: r.try_get("client_ip")?,
        created_at: from_ms(r.try_get("created_at")?),
        expires_at: from_ms(r.try_get("expires_at")?),
        ended_at: r.try_get::<Option<i64>, _>("ended_at")?.map(from_ms),
    })
}

impl Store {
    /// Opens a session. A device the account has not used before is
    /// remembered (audited as `device.add`) and `on_new_device` is queued;
    /// on a known device `on_known_device` is, if given. Concurrent first
    /// logins from one device announce it once. Returns whether the device
    /// was new.
    pub async fn open_session(
        &self,
        s: &NewSession<'_>,
        on_new_device: &NewMessage,
        on_known_device: Option<&NewMessage>,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let added = sqlx::query(
            "INSERT INTO devices (account_id, device_id, name, last_ip, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (account_id, device_id) DO NOTHING",
        )
        .bind(s.account_id)
        .bind(s.device_id)
        .bind(s.device_name)
        .bind(s.client_ip)
        .bind(to_ms(now))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if added {
            let subject = format!("{}/{}", s.account_id, s.device_id);
            let change = Change { action: "device.add", subject: &subject, before: None, after: Some("known") };
            crate::audit::append(&mut tx, cause, change, now).await?;
            self.insert_message(&mut tx, on_new_device, now).await?;
        } else {
            sqlx::query(
                "UPDATE devices SET last_seen_at = $1, name = COALESCE($2, name), last_ip = COALESCE($3, last_ip)
                 WHERE account_id = $4 AND device_id = $5",
            )
            .bind(to_ms(now))
            .bind(s.device_name)
            .bind(s.client_ip)
            .bind(s.account_id)
            .bind(s.device_id)
            .execute(&mut *tx)
            .await?;
            if let Some(m) = on_known_device {
                self.insert_message(&mut tx, m, now).await?;
            }
        }
        sqlx::query(&format!("INSERT INTO holder_sessions ({SESSION_COLS}, token_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)"))
            .bind(s.id)
            .bind(s.account_id)
            .bind(s.wallet_key_id)
            .bind(s.device_id)
            .bind(s.client_ip)
            .bind(to_ms(now))
            .bind(to_ms(s.expires_at))
            .bind(s.token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(added)
    }

    /// The session a token hash belongs to, live or not (so an expired
    /// token can be told apart from a wrong one), while the wallet key that
    /// opened it is not revoked: revoking a key ends its sessions.
    pub async fn find_session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        let r = sqlx::query(
            "SELECT s.id, s.account_id, s.wallet_key_id, s.device_id, s.client_ip, s.created_at, s.expires_at, s.ended_at
             FROM holder_sessions s JOIN api_keys k ON k.id = s.wallet_key_id WHERE s.token_hash = $1 AND k.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&mut *self.read().await?)
        .await?;
        r.as_ref().map(session_row).transpose()
    }

    /// Ends one of the account's sessions (sign-out): `None` when the
    /// account has no such session, else whether this call ended it.
    pub async fn end_account_session(&self, account_id: &str, id: &str, now: OffsetDateTime) -> Result<Option<bool>, StoreError> {
        let res = sqlx::query("UPDATE holder_sessions SET ended_at = $1 WHERE id = $2 AND account_id = $3 AND ended_at IS NULL")
            .bind(to_ms(now))
            .bind(id)
            .bind(account_id)
            .write_on(self)
            .await?;
        if res.rows_affected() == 1 {
            return Ok(Some(true));
        }
        let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM holder_sessions WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        Ok(exists.map(|_| false))
    }

    /// The account's known devices, most recently used first.
    pub async fn list_devices(&self, account_id: &str) -> Result<Vec<DeviceRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT device_id, name, last_ip, first_seen_at, last_seen_at FROM devices WHERE account_id = $1
             ORDER BY last_seen_at DESC, device_id LIMIT 100",
        )
        .bind(account_id)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeviceRow {
                    device_id: r.try_get("device_id")?,
                    name: r.try_get("name")?,
                    last_ip: r.try_get("last_ip")?,
                    first_seen_at: from_ms(r.try_get("first_seen_at")?),
                    last_seen_at: from_ms(r.try_get("last_seen_at")?),
                })
            })
            .collect()
    }

    /// Forgets a device and ends every session opened on it, audited
    /// (`device.remove`). Returns false when the account has no such device.
    pub async fn remove_device(
        &self,
        account_id: &str,
        device_id: &str,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let res = sqlx::query("DELETE FROM devices WHERE account_id = $1 AND device_id = $2")
            .bind(account_id)
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        if res.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("UPDATE holder_sessions SET ended_at = $1 WHERE account_id = $2 AND device_id = $3 AND ended_at IS NULL")
            .bind(to_ms(now))
            .bind(account_id)
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        let subject = format!("{account_id}/{device_id}");
        let change = Change { action: "device.remove", subject: &subject, before: Some("known"), after: None };
        crate::audit::append(&mut tx, cause, change, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
