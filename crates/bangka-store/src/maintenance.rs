//! Maintenance windows and announcements (SPEC "Announcement / maintenance
//! window"), and the recent bind outcomes per issuer that `/v1/status`
//! shows so a holder can tell "is it just me?".

use time::OffsetDateTime;

use crate::audit::{Cause, Change};
use crate::readers::Cols;
use crate::writeset::{Expect, WriteSet};
use crate::{Store, StoreError, from_ms, new_id, to_ms};

pub struct NewMaintenance<'a> {
    /// `None`: the whole platform.
    pub issuer: Option<&'a str>,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub message_zh: &'a str,
    pub message_en: &'a str,
    pub created_by: &'a str,
}

#[derive(Debug, Clone)]
pub struct MaintenanceRow {
    pub id: String,
    pub issuer: Option<String>,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub message_zh: String,
    pub message_en: String,
    pub created_at: OffsetDateTime,
}

impl MaintenanceRow {
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.starts_at <= now && now < self.ends_at
    }

    /// Whether it stops requests that need `issuer`.
    pub fn covers(&self, issuer: &str) -> bool {
        self.issuer.as_deref().is_none_or(|i| i == issuer)
    }
}

/// Bind attempts at one issuer in a recent period, and how each ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerBindStats {
    pub issuer: String,
    pub attempts: i64,
    /// Failures by error code.
    pub failures: Vec<(String, i64)>,
}

/// Bind attempts at one issuer in one period of a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindBucket {
    pub start: OffsetDateTime,
    pub stats: IssuerBindStats,
}

const COLS: &str = "id, issuer, starts_at, ends_at, message_zh, message_en, created_at";

fn row(r: &impl Cols) -> Result<MaintenanceRow, StoreError> {
    Ok(MaintenanceRow {
        id: r.col("id")?,
        issuer: r.col("issuer")?,
        starts_at: from_ms(r.col("starts_at")?),
        ends_at: from_ms(r.col("ends_at")?),
        message_zh: r.col("message_zh")?,
        message_en: r.col("message_en")?,
        created_at: from_ms(r.col("created_at")?),
    })
}

impl Store {
    /// Schedules a window, audited as the admin's action; returns it as
    /// written (the write-set may be staged, not yet applied).
    pub async fn schedule_maintenance(
        &self,
        m: &NewMaintenance<'_>,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<MaintenanceRow, StoreError> {
        let id = new_id("mnt");
        let mut set = WriteSet::new();
        set.push(
            "window",
            format!("INSERT INTO maintenance_windows ({COLS}, created_by, cancelled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)"),
            vec![
                id.as_str().into(),
                m.issuer.into(),
                to_ms(m.starts_at).into(),
                to_ms(m.ends_at).into(),
                m.message_zh.into(),
                m.message_en.into(),
                to_ms(now).into(),
                m.created_by.into(),
            ],
            Expect::Any,
        );
        let after = format!("{} {}..{}", m.issuer.unwrap_or("platform"), crate::rfc3339(m.starts_at), crate::rfc3339(m.ends_at));
        let change = Change { action: "maintenance.schedule", subject: &id, before: None, after: Some(&after) };
        set.extend(crate::audit::entry_write(cause, change, now));
        self.stage(set).await?;
        Ok(MaintenanceRow {
            id,
            issuer: m.issuer.map(str::to_owned),
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            message_zh: m.message_zh.into(),
            message_en: m.message_en.into(),
            created_at: now,
        })
    }

    /// Cancels a window not yet over. Returns false when there is none.
    pub async fn cancel_maintenance(&self, id: &str, cause: Cause<'_>, now: OffsetDateTime) -> Result<bool, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "the window not over",
            "UPDATE maintenance_windows SET cancelled_at = $1 WHERE id = $2 AND cancelled_at IS NULL AND ends_at > $1",
            vec![to_ms(now).into(), id.into()],
            Expect::One,
        );
        let change = Change { action: "maintenance.cancel", subject: id, before: Some("scheduled"), after: Some("cancelled") };
        set.extend(crate::audit::entry_write(cause, change, now));
        self.put(set).await
    }

    pub async fn get_maintenance(&self, id: &str) -> Result<Option<MaintenanceRow>, StoreError> {
        let r = sqlx::query(&format!("SELECT {COLS} FROM maintenance_windows WHERE id = $1 AND cancelled_at IS NULL"))
            .bind(id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        r.as_ref().map(row).transpose()
    }

    /// Windows not cancelled and not over at `now` (current and upcoming),
    /// soonest first.
    pub async fn open_maintenance(&self, now: OffsetDateTime) -> Result<Vec<MaintenanceRow>, StoreError> {
        let sql =
            format!("SELECT {COLS} FROM maintenance_windows WHERE cancelled_at IS NULL AND ends_at > $1 ORDER BY starts_at, id LIMIT 200");
        self.fetch_rows(&sql, &[to_ms(now).into()], row, |r| row(r)).await
    }

    /// A page of the windows not cancelled and not over at `now`, soonest
    /// first.
    pub async fn maintenance_page(
        &self,
        now: OffsetDateTime,
        page: &crate::PageRequest,
    ) -> Result<crate::Page<MaintenanceRow>, StoreError> {
        let list = crate::page::Listing {
            table: "maintenance_windows",
            cols: COLS,
            scope: "cancelled_at IS NULL AND ends_at > $1",
            owner: "1 = 1",
            key: "starts_at",
            id: "id",
            descending: false,
        };
        self.page(&list, vec![to_ms(now).into()], page, row).await
    }

    /// Bind attempts per issuer since `since`, and their failures by code.
    pub async fn bind_stats_since(&self, since: OffsetDateTime) -> Result<Vec<IssuerBindStats>, StoreError> {
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT issuer, code, COUNT(*) FROM attempts
             WHERE kind = 'bind' AND created_at >= $1 AND issuer IS NOT NULL GROUP BY issuer, code ORDER BY issuer",
        )
        .bind(to_ms(since))
        .fetch_all(&mut *self.read().await?)
        .await?;
        let mut out: Vec<IssuerBindStats> = Vec::new();
        for (issuer, code, n) in rows {
            if out.last().is_none_or(|s| s.issuer != issuer) {
                out.push(IssuerBindStats { issuer: issuer.clone(), attempts: 0, failures: Vec::new() });
            }
            let s = out.last_mut().expect("just pushed");
            s.attempts += n;
            if let Some(code) = code {
                s.failures.push((code, n));
            }
        }
        Ok(out)
    }

    /// Bind attempts per period of `bucket` and issuer since `since`, with
    /// their failures by code (for the console's charts): the same counting
    /// as [`Store::bind_stats_since`], over time.
    pub async fn bind_series(&self, since: OffsetDateTime, bucket: time::Duration) -> Result<Vec<BindBucket>, StoreError> {
        let width = bucket.whole_milliseconds().max(1000) as i64;
        let rows: Vec<(i64, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT (created_at / $2) * $2 AS bucket, issuer, code, COUNT(*) FROM attempts
             WHERE kind = 'bind' AND created_at >= $1 AND issuer IS NOT NULL
             GROUP BY bucket, issuer, code ORDER BY bucket, issuer",
        )
        .bind(to_ms(since))
        .bind(width)
        .fetch_all(&mut *self.read().await?)
        .await?;
        let mut out: Vec<BindBucket> = Vec::new();
        for (start, issuer, code, n) in rows {
            let start = from_ms(start);
            if out.last().is_none_or(|b| b.start != start || b.stats.issuer != issuer) {
                out.push(BindBucket { start, stats: IssuerBindStats { issuer: issuer.clone(), attempts: 0, failures: Vec::new() } });
            }
            let s = &mut out.last_mut().expect("just pushed").stats;
            s.attempts += n;
            if let Some(code) = code {
                s.failures.push((code, n));
            }
        }
        Ok(out)
    }
}
