//! Holder sessions and known devices. A session row holds only the token's
//! SHA-256; the device row remembers where an account has been used, so the
//! first login from a new device can be announced in the same transaction
//! that opens the session.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::audit::{Cause, Change};
use crate::outbox::NewMessage;
use crate::readers::Cols;
use crate::writeset::{Expect, WriteSet};
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
    /// The API version of the wallet key that opened it (read with the
    /// session: its requests speak it unless they ask for another).
    pub api_version: bangka_core::api_version::ApiVersion,
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
        api_version: {
            let v: String = r.try_get("api_version")?;
            bangka_core::api_version::ApiVersion::parse(&v).ok_or_else(|| StoreError::Corrupt(format!("key api_version {v}")))?
        },
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
        const KNOWN: &str = "SELECT device_id FROM devices WHERE account_id = $1 AND device_id = $2";
        // Decided on the device as read: new (added, audited, the holder
        // told) or known (seen again). A device added or removed meanwhile
        // refuses the set, and it is decided again.
        for _ in 0..3 {
            let args = [s.account_id.into(), s.device_id.into()];
            let known = self.fetch_row(KNOWN, &args, |r| r.col::<String>("device_id"), |r| r.col::<String>("device_id")).await?.is_some();
            let mut set = WriteSet::new();
            if known {
                set.push(
                    "the device known",
                    "UPDATE devices SET last_seen_at = $1, name = COALESCE($2, name), last_ip = COALESCE($3, last_ip)
                     WHERE account_id = $4 AND device_id = $5",
                    vec![to_ms(now).into(), s.device_name.into(), s.client_ip.into(), s.account_id.into(), s.device_id.into()],
                    Expect::One,
                );
                if let Some(m) = on_known_device {
                    set.extend(self.message_set(m, now).await?);
                }
            } else {
                set.push(
                    "the device new",
                    "INSERT INTO devices (account_id, device_id, name, last_ip, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)
                     ON CONFLICT (account_id, device_id) DO NOTHING",
                    vec![s.account_id.into(), s.device_id.into(), s.device_name.into(), s.client_ip.into(), to_ms(now).into()],
                    Expect::One,
                );
                let subject = format!("{}/{}", s.account_id, s.device_id);
                let change = Change { action: "device.add", subject: &subject, before: None, after: Some("known") };
                set.extend(crate::audit::entry_write(cause, change, now));
                set.extend(self.message_set(on_new_device, now).await?);
            }
            set.push(
                "session",
                format!("INSERT INTO holder_sessions ({SESSION_COLS}, token_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)"),
                vec![
                    s.id.into(),
                    s.account_id.into(),
                    s.wallet_key_id.into(),
                    s.device_id.into(),
                    s.client_ip.into(),
                    to_ms(now).into(),
                    to_ms(s.expires_at).into(),
                    s.token_hash.into(),
                ],
                Expect::Any,
            );
            if self.put(set).await? {
                return Ok(!known);
            }
        }
        Err(StoreError::Conflict("the device kept changing".into()))
    }

    /// The session a token hash belongs to, live or not (so an expired
    /// token can be told apart from a wrong one), while the wallet key that
    /// opened it is not revoked: revoking a key ends its sessions.
    pub async fn find_session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        let r = sqlx::query(
            "SELECT s.id, s.account_id, s.wallet_key_id, s.device_id, s.client_ip, s.created_at, s.expires_at, s.ended_at, k.api_version
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
        const LIVE: &str = "SELECT ended_at FROM holder_sessions WHERE id = $1 AND account_id = $2";
        let args = [id.into(), account_id.into()];
        let ended = self.fetch_row(LIVE, &args, |r| r.col::<Option<i64>>("ended_at"), |r| r.col::<Option<i64>>("ended_at")).await?;
        let Some(ended) = ended else { return Ok(None) };
        if ended.is_some() {
            return Ok(Some(false));
        }
        let mut set = WriteSet::new();
        set.push(
            "the session live",
            "UPDATE holder_sessions SET ended_at = $1 WHERE id = $2 AND account_id = $3 AND ended_at IS NULL",
            vec![to_ms(now).into(), id.into(), account_id.into()],
            Expect::One,
        );
        // Not live any more: ended meanwhile.
        Ok(Some(self.put(set).await?))
    }

    /// A page of the account's known devices, most recently used first.
    pub async fn device_page(&self, account_id: &str, page: &crate::PageRequest) -> Result<crate::Page<DeviceRow>, StoreError> {
        let list = crate::page::Listing {
            table: "devices",
            cols: "device_id, name, last_ip, first_seen_at, last_seen_at",
            scope: "account_id = $1",
            owner: "account_id = $1",
            key: "last_seen_at",
            id: "device_id",
            descending: true,
        };
        let row = |r: &sqlx::any::AnyRow| {
            Ok(DeviceRow {
                device_id: r.try_get("device_id")?,
                name: r.try_get("name")?,
                last_ip: r.try_get("last_ip")?,
                first_seen_at: from_ms(r.try_get("first_seen_at")?),
                last_seen_at: from_ms(r.try_get("last_seen_at")?),
            })
        };
        self.page(&list, vec![account_id.into()], page, row).await
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
        let mut set = WriteSet::new();
        set.push(
            "the device known",
            "DELETE FROM devices WHERE account_id = $1 AND device_id = $2",
            vec![account_id.into(), device_id.into()],
            Expect::One,
        );
        set.push(
            "its sessions ended",
            "UPDATE holder_sessions SET ended_at = $1 WHERE account_id = $2 AND device_id = $3 AND ended_at IS NULL",
            vec![to_ms(now).into(), account_id.into(), device_id.into()],
            Expect::Any,
        );
        let subject = format!("{account_id}/{device_id}");
        let change = Change { action: "device.remove", subject: &subject, before: Some("known"), after: None };
        set.extend(crate::audit::entry_write(cause, change, now));
        self.put(set).await
    }
}
