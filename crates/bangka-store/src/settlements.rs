//! Funds in transit to a card (SPEC "Pending settlement"): a refund the
//! bank confirmed, or a withdrawal of wallet balance the wallet reported.
//! Each waits for its expected time; the settle job marks it settled (one
//! instance wins each row) with its audit entry and the holder's notice.

use bangka_core::settlement::{SettlementKind, SettlementStatus};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::audit::{Cause, Change};
use crate::outbox::NewMessage;
use crate::writeset::{Expect, WriteSet};
use crate::{Store, StoreError, from_ms, new_id, to_ms};

pub struct NewSettlement<'a> {
    pub account_id: &'a str,
    pub binding_id: &'a str,
    pub kind: SettlementKind,
    /// The refunded payment and the refund op.
    pub payment_id: Option<&'a str>,
    pub op_id: Option<&'a str>,
    pub amount: i64,
    pub currency: &'a str,
    pub expected_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct SettlementRow {
    pub id: String,
    pub account_id: String,
    pub binding_id: String,
    pub kind: SettlementKind,
    pub payment_id: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub status: SettlementStatus,
    pub expected_at: OffsetDateTime,
    pub settled_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

const COLS: &str = "id, account_id, binding_id, kind, payment_id, amount, currency, status, expected_at, settled_at, created_at";

fn row(r: &AnyRow) -> Result<SettlementRow, StoreError> {
    let kind: String = r.try_get("kind")?;
    let status: String = r.try_get("status")?;
    Ok(SettlementRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        binding_id: r.try_get("binding_id")?,
        kind: SettlementKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("settlement kind {kind}")))?,
        payment_id: r.try_get("payment_id")?,
        amount: r.try_get("amount")?,
        currency: r.try_get("currency")?,
        status: SettlementStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("settlement status {status}")))?,
        expected_at: from_ms(r.try_get("expected_at")?),
        settled_at: r.try_get::<Option<i64>, _>("settled_at")?.map(from_ms),
        created_at: from_ms(r.try_get("created_at")?),
    })
}

/// A new settlement in transit with its audit entry, for a write-set.
pub(crate) fn settlement_write(s: &NewSettlement<'_>, cause: Cause<'_>, now: OffsetDateTime) -> (WriteSet, String) {
    let id = new_id("stl");
    let mut set = WriteSet::new();
    set.push(
        "settlement",
        format!(
            "INSERT INTO settlements ({COLS}, op_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'in_transit', $8, NULL, $9, $10, $9)"
        ),
        vec![
            id.as_str().into(),
            s.account_id.into(),
            s.binding_id.into(),
            s.kind.as_str().into(),
            s.payment_id.into(),
            s.amount.into(),
            s.currency.into(),
            to_ms(s.expected_at).into(),
            to_ms(now).into(),
            s.op_id.into(),
        ],
        Expect::Any,
    );
    let change = Change { action: "settlement.create", subject: &id, before: None, after: Some(SettlementStatus::InTransit.as_str()) };
    set.extend(crate::audit::entry_write(cause, change, now));
    (set, id)
}

impl Store {
    /// Records a withdrawal to the card the wallet reported.
    /// Returns it as written (the write-set may be staged, not yet applied).
    pub async fn create_settlement(
        &self,
        s: &NewSettlement<'_>,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<SettlementRow, StoreError> {
        let (set, id) = settlement_write(s, cause, now);
        self.stage(set).await?;
        Ok(SettlementRow {
            id,
            account_id: s.account_id.into(),
            binding_id: s.binding_id.into(),
            kind: s.kind,
            payment_id: s.payment_id.map(str::to_owned),
            amount: s.amount,
            currency: s.currency.into(),
            status: SettlementStatus::InTransit,
            expected_at: s.expected_at,
            settled_at: None,
            created_at: now,
        })
    }

    pub async fn get_settlement(&self, account_id: &str, id: &str) -> Result<Option<SettlementRow>, StoreError> {
        let r = sqlx::query(&format!("SELECT {COLS} FROM settlements WHERE id = $1 AND account_id = $2"))
            .bind(id)
            .bind(account_id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        r.as_ref().map(row).transpose()
    }

    /// A page of an account's settlements, newest first.
    pub async fn settlement_page(&self, account_id: &str, page: &crate::PageRequest) -> Result<crate::Page<SettlementRow>, StoreError> {
        let list = crate::page::Listing {
            table: "settlements",
            cols: COLS,
            scope: "account_id = $1",
            owner: "account_id = $1",
            key: "created_at",
            id: "id",
            descending: true,
        };
        self.page(&list, vec![account_id.into()], page, row).await
    }

    /// A card's funds still in transit, soonest first (what blocks its unbind).
    pub async fn in_transit(&self, binding_id: &str) -> Result<Vec<SettlementRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM settlements WHERE binding_id = $1 AND status = 'in_transit' ORDER BY expected_at, id"
        ))
        .bind(binding_id)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(row).collect()
    }

    /// Settlements in transit whose expected time has come.
    pub async fn due_settlements(&self, now: OffsetDateTime, limit: i64) -> Result<Vec<SettlementRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM settlements WHERE status = 'in_transit' AND expected_at <= $1 ORDER BY expected_at, id LIMIT $2"
        ))
        .bind(to_ms(now))
        .bind(limit)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(row).collect()
    }

    /// Marks one settlement settled with its audit entry and notice. The
    /// conditional update is the claim: on several instances exactly one
    /// settles it (the others get false).
    pub async fn settle(&self, id: &str, notice: &NewMessage, cause: Cause<'_>, now: OffsetDateTime) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let res = sqlx::query(
            "UPDATE settlements SET status = 'settled', settled_at = $1, updated_at = $1 WHERE id = $2 AND status = 'in_transit'",
        )
        .bind(to_ms(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            return Ok(false);
        }
        let change = Change { action: "settlement.settle", subject: id, before: Some("in_transit"), after: Some("settled") };
        crate::audit::append(&mut tx, cause, change, now).await?;
        self.insert_message(&mut tx, notice, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
