//! Attempts: every try at binding, activating, confirming or paying, kept
//! with its precise code (diagnosis, risk counts, support).

use time::OffsetDateTime;

use crate::readers::Cols;
use crate::writeset::{Expect, WriteSet};
use crate::{Store, StoreError, from_ms, to_ms};

/// One try at binding or activating, successful or not (diagnosis and risk).
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub id: String,
    pub account_id: String,
    pub kind: String,
    pub binding_id: Option<String>,
    pub issuer: Option<String>,
    pub bin: Option<String>,
    pub last4: Option<String>,
    pub code: Option<String>,
    pub created_at: OffsetDateTime,
    /// The card's keyed fingerprint (per-card risk rules), when the card parsed.
    pub card_fp: Option<String>,
    /// The holder session's device and client IP, when it came through one.
    pub device_id: Option<String>,
    pub client_ip: Option<String>,
    /// The phone typed for a bind or activation, masked (138****8000).
    pub phone_masked: Option<String>,
    /// The app, OS and device model the request named (JSON), if any.
    pub client: Option<serde_json::Value>,
}

const ATTEMPT_COLS: &str =
    "id, account_id, kind, binding_id, issuer, bin, last4, code, created_at, card_fp, device_id, client_ip, phone_masked, client";

fn attempt_row(r: &sqlx::any::AnyRow) -> Result<AttemptRow, StoreError> {
    use sqlx::Row;
    Ok(AttemptRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        kind: r.try_get("kind")?,
        binding_id: r.try_get("binding_id")?,
        issuer: r.try_get("issuer")?,
        bin: r.try_get("bin")?,
        last4: r.try_get("last4")?,
        code: r.try_get("code")?,
        created_at: from_ms(r.try_get("created_at")?),
        card_fp: r.try_get("card_fp")?,
        device_id: r.try_get("device_id")?,
        client_ip: r.try_get("client_ip")?,
        phone_masked: r.try_get("phone_masked")?,
        client: r.try_get::<Option<String>, _>("client")?.and_then(|c| serde_json::from_str(&c).ok()),
    })
}

impl Store {
    /// Records an attempt now (what follows may count it: risk rules do).
    pub async fn record_attempt(&self, a: &AttemptRow) -> Result<(), StoreError> {
        self.write_now(attempt_write(a)).await
    }

    /// Stages an attempt for the request's write-set (nothing in the
    /// request reads it back before the commit).
    pub async fn stage_attempt(&self, a: &AttemptRow) -> Result<(), StoreError> {
        self.stage(attempt_write(a)).await
    }

    /// One of the account's attempts.
    pub async fn get_attempt(&self, account_id: &str, id: &str) -> Result<Option<AttemptRow>, StoreError> {
        let r = sqlx::query(&format!("SELECT {ATTEMPT_COLS} FROM attempts WHERE account_id = $1 AND id = $2"))
            .bind(account_id)
            .bind(id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        r.as_ref().map(attempt_row).transpose()
    }

    /// Failed verifications (codes in `codes`) of an account since `since`.
    pub async fn count_failures(&self, account_id: &str, codes: &[&str], since: OffsetDateTime) -> Result<u32, StoreError> {
        if codes.is_empty() {
            return Ok(0);
        }
        let list = codes.iter().map(|c| format!("'{}'", c.replace('\'', ""))).collect::<Vec<_>>().join(",");
        let sql = format!("SELECT COUNT(*) AS n FROM attempts WHERE account_id = $1 AND created_at >= $2 AND code IN ({list})");
        let n = self.fetch_row(&sql, &[account_id.into(), to_ms(since).into()], |r| r.col::<i64>("n"), |r| r.col::<i64>("n")).await?;
        Ok(n.unwrap_or(0) as u32)
    }

    /// The account's latest 500 attempts, newest first (what diagnosis reads).
    pub async fn list_attempts(&self, account_id: &str) -> Result<Vec<AttemptRow>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {ATTEMPT_COLS} FROM attempts WHERE account_id = $1 ORDER BY created_at DESC, id LIMIT 500"))
                .bind(account_id)
                .fetch_all(&mut *self.read().await?)
                .await?;
        rows.iter().map(attempt_row).collect()
    }

    /// A page of the account's attempts, newest first.
    pub async fn attempt_page(&self, account_id: &str, page: &crate::PageRequest) -> Result<crate::Page<AttemptRow>, StoreError> {
        let list = crate::page::Listing {
            table: "attempts",
            cols: ATTEMPT_COLS,
            scope: "account_id = $1",
            owner: "account_id = $1",
            key: "created_at",
            id: "id",
            descending: true,
        };
        self.page(&list, vec![account_id.into()], page, attempt_row).await
    }
}

fn attempt_write(a: &AttemptRow) -> WriteSet {
    let mut set = WriteSet::new();
    set.push(
        "attempt",
        "INSERT INTO attempts (id, account_id, kind, binding_id, issuer, bin, last4, code, created_at, card_fp, device_id, client_ip, phone_masked, client)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        vec![
            (&a.id).into(),
            (&a.account_id).into(),
            (&a.kind).into(),
            (&a.binding_id).into(),
            (&a.issuer).into(),
            (&a.bin).into(),
            (&a.last4).into(),
            (&a.code).into(),
            to_ms(a.created_at).into(),
            (&a.card_fp).into(),
            (&a.device_id).into(),
            (&a.client_ip).into(),
            (&a.phone_masked).into(),
            a.client.as_ref().map(|c| c.to_string()).into(),
        ],
        Expect::Any,
    );
    set
}
