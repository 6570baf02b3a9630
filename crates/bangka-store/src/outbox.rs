//! The notification outbox and the demo inbox: messages are written in the
//! transaction of the change they tell about, then delivered and erased.

use sqlx::Row;
use time::OffsetDateTime;

use crate::WriteOn;
use crate::readers::Cols;
use crate::unit::Tx;
use crate::writeset::{Expect, WriteSet};
use crate::{Bodies, Store, StoreError, from_ms, new_id, to_ms};

/// What a message is: a one-time code (worthless after `expires_at`, so
/// never delivered late), a notice (SMS, push, email), or an alert that
/// does not warrant an SMS (a login on a device the holder already uses:
/// push and email only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A one-time code, to the phone only, by text or read out by a call.
    Code {
        expires_at: OffsetDateTime,
        channel: bangka_core::otp::CodeChannel,
    },
    Notice,
    Alert,
}

/// A message for the outbox, written in the same transaction as the change
/// it tells about, in both languages (the account's picks one).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub kind: MessageKind,
    pub account_id: String,
    /// Where SMS goes: the card's reserved phone, or the account's.
    pub phone: String,
    pub zh: String,
    pub en: String,
}

/// A queued message on one channel.
#[derive(Clone)]
pub struct OutboxMessage {
    pub id: String,
    /// `sms`, `push` or `email`.
    pub channel: String,
    /// A phone number, an account id (push) or an email address.
    pub recipient: String,
    pub body: String,
    pub tries: i64,
    pub expires_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for OutboxMessage {
    /// Never the body (it may hold a code) nor the full recipient.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxMessage").field("id", &self.id).field("channel", &self.channel).field("tries", &self.tries).finish()
    }
}

/// One outbox row as operators see it (no body).
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutboxStatus {
    pub id: String,
    pub channel: String,
    pub kind: String,
    pub tries: i64,
    pub delivered: bool,
    pub body_kept: bool,
    pub last_error: Option<String>,
    pub end_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct InboxMessage {
    pub id: String,
    pub channel: String,
    #[serde(rename = "to")]
    pub phone: String,
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

/// Why a message stopped being retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// A code whose challenge expired: delivering it late helps nobody.
    Expired,
    /// The sink kept failing for the whole retry budget.
    Exhausted,
}

/// A demo inbox row: id, channel, phone, sealed body, received at.
fn inbox_row(r: &impl Cols) -> Result<(String, String, String, String, i64), StoreError> {
    Ok((r.col("id")?, r.col("channel")?, r.col("phone")?, r.col("body")?, r.col("received_at")?))
}

impl Store {
    /// Messages due for (another) delivery attempt: not delivered, not
    /// given up, their backoff over and no live claim by another instance;
    /// a message never tried only if it was written before `written_before`
    /// (until then it is its committer's to deliver).
    pub async fn due_messages(
        &self,
        now: OffsetDateTime,
        written_before: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLS} FROM outbox
             WHERE delivered_at IS NULL AND ended_at IS NULL AND (tries > 0 OR created_at <= $2)
               AND (next_attempt_at IS NULL OR next_attempt_at <= $1) AND (claimed_until IS NULL OR claimed_until <= $1)
             ORDER BY created_at, id LIMIT $3"
        ))
        .bind(to_ms(now))
        .bind(to_ms(written_before))
        .bind(limit)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(|r| message_row(r, &self.bodies)).collect()
    }

    /// The messages with these ids that are still to deliver (those a
    /// commit just queued: the committer delivers its own at once).
    pub async fn undelivered(&self, ids: &[String]) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        let sql = format!("SELECT {MESSAGE_COLS} FROM outbox WHERE id = $1 AND delivered_at IS NULL AND ended_at IS NULL");
        for id in ids {
            let bodies = &self.bodies;
            if let Some(m) = self.fetch_row(&sql, &[id.into()], |r| message_row(r, bodies), |r| message_row(r, bodies)).await? {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// Claims a message for one delivery attempt until `until`, so several
    /// instances never send it at once. False when another holds it or it
    /// is done.
    pub async fn claim_message(&self, id: &str, now: OffsetDateTime, until: OffsetDateTime) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "UPDATE outbox SET claimed_until = $1 WHERE id = $2 AND delivered_at IS NULL AND ended_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $3)",
        )
        .bind(to_ms(until))
        .bind(id)
        .bind(to_ms(now))
        .write_on(self)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// How many messages another delivery attempt holds right now.
    pub async fn deliveries_in_flight(&self, now: OffsetDateTime) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND ended_at IS NULL AND claimed_until > $1";
        Ok(self.fetch_row(sql, &[to_ms(now).into()], |r| r.col("n"), |r| r.col("n")).await?.unwrap_or(0))
    }

    /// Delivers these messages into the demo inbox inside the current unit
    /// (the demo sink is a table of our own, so delivering is a write like
    /// the others): each is copied (sealed body and all) and marked
    /// delivered, its outbox body erased. Returns how many code SMS went.
    pub async fn deliver_to_demo_inbox(&self, ids: &[String], now: OffsetDateTime) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        // The ids are $2, $3, … ($1 is the time; the count binds it too).
        let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let list = list.join(", ");
        let staged = self.staged_codes(ids).await;
        let count_sql = format!(
            "SELECT COUNT(*) FROM outbox WHERE id IN ({list}) AND kind = 'code' AND channel IN ('sms', 'voice') AND delivered_at IS NULL AND created_at <= $1"
        );
        // In the order they were written (the inbox lists newest first).
        let order: Vec<String> = (0..ids.len()).map(|i| format!("WHEN ${} THEN {i}", i + 2)).collect();
        let copy_sql = format!(
            "INSERT INTO demo_inbox (id, phone, body, received_at, channel)
             SELECT id, recipient, body, $1, channel FROM outbox WHERE id IN ({list}) AND delivered_at IS NULL AND ended_at IS NULL
             AND {}
             ORDER BY CASE id {} END
             ON CONFLICT (id) DO NOTHING",
            test_account_sql(),
            order.join(" ")
        );
        let mark_sql = format!(
            "UPDATE outbox SET delivered_at = $1, body = NULL, tries = tries + 1, claimed_until = NULL, last_error = NULL
             WHERE id IN ({list}) AND delivered_at IS NULL AND ended_at IS NULL"
        );
        let args: Vec<crate::writeset::Arg> = std::iter::once(to_ms(now).into()).chain(ids.iter().map(Into::into)).collect();
        let mut set = WriteSet::new();
        set.push("demo inbox", copy_sql, args.clone(), Expect::Any);
        set.push("delivered", mark_sql, args, Expect::Any);
        // Staged rows are not in the database yet: the write-set copies
        // them at its apply, and the count is what was staged.
        if let Some(codes) = staged {
            self.stage(set).await?;
            return Ok(codes);
        }
        let mut tx = self.begin().await?;
        let mut codes = sqlx::query(&count_sql).bind(to_ms(now));
        for id in ids {
            codes = codes.bind(id);
        }
        let code_sms: i64 = codes.fetch_one(&mut *tx).await?.try_get(0)?;
        set.run_on(&mut tx).await?;
        tx.commit().await?;
        Ok(code_sms as u64)
    }

    /// The sink took it: the body is erased (it may hold a code).
    pub async fn mark_delivered(&self, id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "UPDATE outbox SET delivered_at = $1, body = NULL, tries = tries + 1, claimed_until = NULL, last_error = NULL WHERE id = $2 AND delivered_at IS NULL",
        )
        .bind(to_ms(now))
        .bind(id)
        .write_on(self)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// The sink failed: try again at `next` (the caller's backoff).
    pub async fn retry_message(&self, id: &str, error: &str, next: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET tries = tries + 1, next_attempt_at = $1, claimed_until = NULL, last_error = $2 WHERE id = $3 AND delivered_at IS NULL")
            .bind(to_ms(next))
            .bind(error)
            .bind(id)
            .write_on(self)
            .await?;
        Ok(())
    }

    /// Stops retrying a message; its body is erased.
    pub async fn give_up_message(&self, id: &str, why: GiveUp, error: Option<&str>, now: OffsetDateTime) -> Result<(), StoreError> {
        let reason = match why {
            GiveUp::Expired => "expired",
            GiveUp::Exhausted => "retries_exhausted",
        };
        let tried = i64::from(why == GiveUp::Exhausted);
        sqlx::query(
            "UPDATE outbox SET ended_at = $1, end_reason = $2, body = NULL, claimed_until = NULL, tries = tries + $3, last_error = COALESCE($4, last_error)
             WHERE id = $5 AND delivered_at IS NULL AND ended_at IS NULL",
        )
        .bind(to_ms(now))
        .bind(reason)
        .bind(tried)
        .bind(error)
        .bind(id)
        .write_on(self)
        .await?;
        Ok(())
    }

    /// The demo sink: puts a message in the demo inbox of its recipient (a
    /// test account's only: a live account's messages never show there).
    /// Idempotent per message id (a retried delivery lands once).
    pub async fn put_in_demo_inbox(&self, m: &OutboxMessage, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO demo_inbox (id, phone, body, received_at, channel)
             SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM outbox WHERE id = $1 AND {})
             ON CONFLICT (id) DO NOTHING",
            test_account_sql()
        ))
        .bind(&m.id)
        .bind(&m.recipient)
        .bind(self.bodies.seal(&message_context(&m.id), &m.body))
        .bind(to_ms(now))
        .bind(&m.channel)
        .write_on(self)
        .await?;
        Ok(())
    }

    /// The demo inbox of a phone number, account id (push) or email address.
    pub async fn inbox(&self, recipient: &str) -> Result<Vec<InboxMessage>, StoreError> {
        let sql = "SELECT id, channel, phone, body, received_at FROM demo_inbox WHERE phone = $1 ORDER BY seq DESC LIMIT 50";
        let rows = self.fetch_rows(sql, &[recipient.into()], inbox_row, |r| inbox_row(r)).await?;
        rows.into_iter()
            .map(|(id, channel, phone, body, t)| {
                let body = self.bodies.open(&message_context(&id), &body)?;
                Ok(InboxMessage { id, channel, phone, body, received_at: from_ms(t) })
            })
            .collect()
    }

    /// An account's outbox rows, newest first, without bodies (ops, tests).
    pub async fn outbox_status(&self, account_id: &str) -> Result<Vec<OutboxStatus>, StoreError> {
        type Row = (String, String, String, i64, Option<i64>, Option<String>, Option<String>, Option<String>, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, channel, kind, tries, delivered_at, body, last_error, end_reason, next_attempt_at FROM outbox
             WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200",
        )
        .bind(account_id)
        .fetch_all(&mut *self.read().await?)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, channel, kind, tries, delivered, body, last_error, end_reason, next)| OutboxStatus {
                id,
                channel,
                kind,
                tries,
                delivered: delivered.is_some(),
                body_kept: body.is_some(),
                last_error,
                end_reason,
                next_attempt_at: next.map(from_ms),
            })
            .collect())
    }
}

const MESSAGE_COLS: &str = "id, channel, recipient, body, tries, expires_at";

/// The sealing context of a message body: the same in the outbox and the
/// demo inbox, so delivery into the inbox copies the sealed body as it is.
pub(crate) fn message_context(id: &str) -> String {
    format!("message:{id}")
}

fn message_row(r: &impl Cols, bodies: &Bodies) -> Result<OutboxMessage, StoreError> {
    let id: String = r.col("id")?;
    let body = r.col::<Option<String>>("body")?.map(|b| bodies.open(&message_context(&id), &b)).transpose()?;
    Ok(OutboxMessage {
        id,
        channel: r.col("channel")?,
        recipient: r.col("recipient")?,
        body: body.unwrap_or_default(),
        tries: r.col("tries")?,
        expires_at: r.col::<Option<i64>>("expires_at")?.map(from_ms),
    })
}

impl Store {
    /// Queues a message for the holder in the same transaction as the change
    /// it tells about. The account's language picks the text; the message fans
    /// out to its channels: SMS to the phone always (codes go only there, to
    /// the number the bank or the account registered), and a notice also as a
    /// push to the wallet app and, when the account has one, as an email.
    pub(crate) async fn insert_message(&self, tx: &mut Tx, m: &NewMessage, now: OffsetDateTime) -> Result<(), StoreError> {
        let account: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT language, email FROM accounts WHERE id = $1").bind(&m.account_id).fetch_optional(&mut **tx).await?;
        let (language, email) = account.unwrap_or_else(|| ("zh-CN".into(), None));
        let set = self.message_writes(m, &language, email.as_deref(), now);
        for id in &set.messages {
            tx.note_message(id);
        }
        set.run_on(tx).await
    }

    /// The outbox rows of one message for a write-set, worded in the
    /// account's language as read now (a language changed before the apply
    /// words one notice the old way, as a message queued a moment earlier
    /// would).
    pub(crate) async fn message_set(&self, m: &NewMessage, now: OffsetDateTime) -> Result<WriteSet, StoreError> {
        const SQL: &str = "SELECT language, email FROM accounts WHERE id = $1";
        let to = self
            .fetch_row(
                SQL,
                &[m.account_id.as_str().into()],
                |r| Ok((r.col::<String>("language")?, r.col::<Option<String>>("email")?)),
                |r| Ok((r.col::<String>("language")?, r.col::<Option<String>>("email")?)),
            )
            .await?;
        let (language, email) = to.unwrap_or_else(|| ("zh-CN".into(), None));
        Ok(self.message_writes(m, &language, email.as_deref(), now))
    }

    /// The outbox rows of one message (a row per channel) for a write-set,
    /// worded in `language`, to `email` too when it is a notice.
    pub(crate) fn message_writes(&self, m: &NewMessage, language: &str, email: Option<&str>, now: OffsetDateTime) -> WriteSet {
        let mut set = WriteSet::new();
        let body = if language == "en" { &m.en } else { &m.zh };
        let (kind, expires_at) = match m.kind {
            MessageKind::Code { expires_at, .. } => ("code", Some(to_ms(expires_at))),
            MessageKind::Notice | MessageKind::Alert => ("notice", None),
        };
        let mut channels = match m.kind {
            MessageKind::Alert => vec![],
            MessageKind::Code { channel, .. } => vec![(channel.as_str(), m.phone.clone())],
            MessageKind::Notice => vec![("sms", m.phone.clone())],
        };
        if !matches!(m.kind, MessageKind::Code { .. }) {
            channels.push(("push", m.account_id.clone()));
            if let Some(e) = email {
                channels.push(("email", e.to_owned()));
            }
        }
        for (channel, recipient) in channels {
            let id = new_id("msg");
            if kind == "code" && matches!(channel, "sms" | "voice") {
                set.codes.push(id.clone());
            }
            set.messages.push(id.clone());
            let sealed = self.bodies.seal(&message_context(&id), body);
            set.push(
                "message",
                "INSERT INTO outbox (id, channel, recipient, body, created_at, tries, account_id, kind, expires_at, next_attempt_at)
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $5)",
                vec![
                    id.into(),
                    channel.into(),
                    recipient.into(),
                    sealed.into(),
                    to_ms(now).into(),
                    (&m.account_id).into(),
                    kind.into(),
                    expires_at.into(),
                ],
                Expect::Any,
            );
        }
        set
    }
}

/// SQL true for a row whose `account_id` is a test account's (issue 24):
/// only their messages reach the demo inbox, which anyone can read. A live
/// account's message on a test-mode server is marked delivered without
/// landing there (as the log sink does).
fn test_account_sql() -> String {
    let prefix = format!("{}_", bangka_core::mode::Mode::Test.account_id_prefix());
    format!("substr(account_id, 1, {}) = '{prefix}'", prefix.len())
}
