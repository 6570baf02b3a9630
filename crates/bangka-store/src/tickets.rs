//! Support tickets: numbering, status changes (each with its event and its
//! audit entry in one write-set), and the overdue scan the SLA job runs.

use bangka_core::ticket::{TicketStatus, ticket_number};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::audit::{Cause, Change};
use crate::outbox::NewMessage;
use crate::readers::Cols;
use crate::writeset::{Expect, WriteSet};
use crate::{Store, StoreError, from_ms, new_id, to_ms};

pub struct NewTicket<'a> {
    pub account_id: &'a str,
    pub category: &'a str,
    pub attempt_id: Option<&'a str>,
    pub binding_id: Option<&'a str>,
    pub error_code: Option<&'a str>,
    pub note: Option<&'a str>,
    pub context: &'a serde_json::Value,
    pub sla_due_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct TicketRow {
    pub number: String,
    pub account_id: String,
    pub category: String,
    pub status: TicketStatus,
    pub attempt_id: Option<String>,
    pub binding_id: Option<String>,
    pub error_code: Option<String>,
    pub note: Option<String>,
    pub context: serde_json::Value,
    pub sla_due_at: OffsetDateTime,
    pub escalated_at: Option<OffsetDateTime>,
    pub escalation_reason: Option<String>,
    pub resolved_at: Option<OffsetDateTime>,
    pub closed_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// A message for [`Store::ticket_message`].
pub struct TicketMessage<'a> {
    /// `message` (the holder), `reply` (an agent, shown to the holder) or
    /// `comment` (an agent's internal note).
    pub kind: &'a str,
    pub text: &'a str,
    /// Typed references: `(type, ref)`.
    pub attachments: &'a [(String, String)],
    /// The holder's notice of a reply.
    pub notice: Option<&'a NewMessage>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TicketEvent {
    pub kind: String,
    pub actor: String,
    pub body: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

const COLS: &str = "number, account_id, category, status, attempt_id, binding_id, error_code, note, context, sla_due_at, escalated_at, escalation_reason, resolved_at, closed_at, created_at";

fn opt(r: &AnyRow, c: &str) -> Result<Option<OffsetDateTime>, StoreError> {
    Ok(r.try_get::<Option<i64>, _>(c)?.map(from_ms))
}

fn ticket_row(r: &AnyRow) -> Result<TicketRow, StoreError> {
    let status: String = r.try_get("status")?;
    let context: String = r.try_get("context")?;
    Ok(TicketRow {
        number: r.try_get("number")?,
        account_id: r.try_get("account_id")?,
        category: r.try_get("category")?,
        status: TicketStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("ticket status {status:?}")))?,
        attempt_id: r.try_get("attempt_id")?,
        binding_id: r.try_get("binding_id")?,
        error_code: r.try_get("error_code")?,
        note: r.try_get("note")?,
        context: serde_json::from_str(&context).map_err(|e| StoreError::Corrupt(format!("ticket context: {e}")))?,
        sla_due_at: from_ms(r.try_get("sla_due_at")?),
        escalated_at: opt(r, "escalated_at")?,
        escalation_reason: r.try_get("escalation_reason")?,
        resolved_at: opt(r, "resolved_at")?,
        closed_at: opt(r, "closed_at")?,
        created_at: from_ms(r.try_get("created_at")?),
    })
}

/// A status change: which statuses it starts from, and what it sets.
pub struct TicketMove<'a> {
    pub from: &'a [TicketStatus],
    pub to: TicketStatus,
    /// `escalate`, `resolve` or `close`: the event kind and audit action.
    pub kind: &'a str,
    pub body: Option<&'a str>,
    /// For an escalation: why (`holder_request` or `sla_breach`) and the new deadline.
    pub escalation: Option<(&'a str, OffsetDateTime)>,
    /// Told to the holder in the same transaction.
    pub notice: Option<&'a NewMessage>,
}

impl Store {
    /// Opens a ticket with the day's next number, its first event and its
    /// audit entry, as one write-set. The number is decided on the day's
    /// counter as read, which the write-set holds as its guard: a ticket
    /// opened meanwhile took it, and then (applied now) the answer is `None`
    /// and the caller reads again, or (staged) the request decides again.
    /// Returns the ticket as it will be.
    pub async fn open_ticket(&self, t: &NewTicket<'_>, cause: Cause<'_>, now: OffsetDateTime) -> Result<Option<TicketRow>, StoreError> {
        let day = now.date().to_string();
        const LAST: &str = "SELECT last FROM ticket_counters WHERE day = $1";
        let last: Option<i64> = self.fetch_row(LAST, &[(&day).into()], |r| r.col("last"), |r| r.col("last")).await?;
        let seq = last.unwrap_or(0) + 1;
        let number = ticket_number(now.date(), seq as u32);
        let mut set = WriteSet::new();
        match last {
            None => set.push(
                "the day's first ticket number",
                "INSERT INTO ticket_counters (day, last) VALUES ($1, 1) ON CONFLICT (day) DO NOTHING",
                vec![(&day).into()],
                Expect::One,
            ),
            Some(last) => set.push(
                "the day's next ticket number",
                "UPDATE ticket_counters SET last = $2 WHERE day = $1 AND last = $3",
                vec![(&day).into(), seq.into(), last.into()],
                Expect::One,
            ),
        }
        set.push(
            "ticket",
            format!(
                "INSERT INTO tickets ({COLS}, updated_at) VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $8, $9, NULL, NULL, NULL, NULL, $10, $10)"
            ),
            vec![
                (&number).into(),
                t.account_id.into(),
                t.category.into(),
                t.attempt_id.into(),
                t.binding_id.into(),
                t.error_code.into(),
                t.note.into(),
                t.context.to_string().into(),
                to_ms(t.sla_due_at).into(),
                to_ms(now).into(),
            ],
            Expect::One,
        );
        set.extend(event_write(&number, "open", cause.actor, t.note, now));
        let change = Change { action: "ticket.open", subject: &number, before: None, after: Some("open") };
        set.extend(crate::audit::entry_write(cause, change, now));
        if !self.put(set).await? {
            return Ok(None);
        }
        Ok(Some(TicketRow {
            number,
            account_id: t.account_id.to_owned(),
            category: t.category.to_owned(),
            status: TicketStatus::Open,
            attempt_id: t.attempt_id.map(str::to_owned),
            binding_id: t.binding_id.map(str::to_owned),
            error_code: t.error_code.map(str::to_owned),
            note: t.note.map(str::to_owned),
            context: t.context.clone(),
            sla_due_at: t.sla_due_at,
            escalated_at: None,
            escalation_reason: None,
            resolved_at: None,
            closed_at: None,
            // As stored: to the millisecond.
            created_at: from_ms(to_ms(now)),
        }))
    }

    pub async fn get_ticket(&self, number: &str) -> Result<Option<TicketRow>, StoreError> {
        let r = sqlx::query(&format!("SELECT {COLS} FROM tickets WHERE number = $1"))
            .bind(number)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        r.as_ref().map(ticket_row).transpose()
    }

    /// The account's tickets, newest first.
    pub async fn account_tickets(&self, account_id: &str, page: &crate::PageRequest) -> Result<crate::Page<TicketRow>, StoreError> {
        let list = crate::page::Listing {
            table: "tickets",
            cols: COLS,
            scope: "account_id = $1",
            owner: "account_id = $1",
            key: "created_at",
            id: "number",
            descending: true,
        };
        self.page(&list, vec![account_id.into()], page, ticket_row).await
    }

    /// Tickets for agents: by status, soonest deadline first.
    pub async fn ops_tickets(&self, status: Option<TicketStatus>, page: &crate::PageRequest) -> Result<crate::Page<TicketRow>, StoreError> {
        let (scope, args) = match status {
            Some(s) => ("status = $1", vec![s.as_str().into()]),
            None => ("1 = 1", vec![]),
        };
        let list = crate::page::Listing {
            table: "tickets",
            cols: COLS,
            scope,
            owner: "1 = 1",
            key: "sla_due_at",
            id: "number",
            descending: false,
        };
        self.page(&list, args, page, ticket_row).await
    }

    /// Moves a ticket decided to be in one of `m.from`, with its event, its
    /// audit entry and the holder's notice, as one write-set; the status is
    /// its guard (two agents, or the job and an agent, cannot both move it).
    /// Returns the ticket and its new event as they will be, or `None` when
    /// it was not in one of `m.from` (as read, or at the apply when applied
    /// now; staged, the request decides again).
    pub async fn move_ticket(
        &self,
        t: &TicketRow,
        m: &TicketMove<'_>,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<(TicketRow, TicketEvent)>, StoreError> {
        if !m.from.contains(&t.status) {
            return Ok(None);
        }
        let from = m.from.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",");
        let stamp = match m.to {
            TicketStatus::Escalated => "escalated_at",
            TicketStatus::Resolved => "resolved_at",
            TicketStatus::Closed => "closed_at",
            TicketStatus::Open => "updated_at",
        };
        let (reason, due) = m.escalation.map_or((None, None), |(r, d)| (Some(r), Some(to_ms(d))));
        let mut set = WriteSet::new();
        set.push(
            "ticket in the status the move starts from",
            format!(
                "UPDATE tickets SET status = $1, {stamp} = $2, updated_at = $2, escalation_reason = COALESCE($3, escalation_reason),
                 sla_due_at = CASE WHEN $4 < sla_due_at OR sla_due_at <= $2 THEN $4 ELSE sla_due_at END WHERE number = $5 AND status IN ({from})"
            ),
            vec![m.to.as_str().into(), to_ms(now).into(), reason.into(), due.into(), (&t.number).into()],
            Expect::One,
        );
        // The event keeps the words someone wrote (the holder's reason); why
        // it was escalated is `escalation_reason`, a code the views put in
        // words (it reached zh-CN holders as "sla_breach").
        let body = m.body.map(str::to_owned);
        set.extend(event_write(&t.number, m.kind, cause.actor, body.as_deref(), now));
        let action = format!("ticket.{}", m.kind);
        let change = Change { action: &action, subject: &t.number, before: None, after: Some(m.to.as_str()) };
        set.extend(crate::audit::entry_write(cause, change, now));
        if let Some(n) = m.notice {
            set.extend(self.message_set(n, now).await?);
        }
        if !self.put(set).await? {
            return Ok(None);
        }
        let at = Some(from_ms(to_ms(now)));
        let mut moved = TicketRow { status: m.to, ..t.clone() };
        match m.to {
            TicketStatus::Escalated => moved.escalated_at = at,
            TicketStatus::Resolved => moved.resolved_at = at,
            TicketStatus::Closed => moved.closed_at = at,
            TicketStatus::Open => {}
        }
        if let Some(r) = reason {
            moved.escalation_reason = Some(r.to_owned());
        }
        // An escalation's deadline: the earlier of the two, unless the old
        // one has passed (an overdue ticket gets its new hours; it stayed
        // overdue).
        if let Some((_, d)) = m.escalation {
            let d = from_ms(to_ms(d));
            moved.sla_due_at = if moved.sla_due_at <= from_ms(to_ms(now)) { d } else { moved.sla_due_at.min(d) };
        }
        Ok(Some((moved, TicketEvent { kind: m.kind.to_owned(), actor: cause.actor.to_owned(), body, at: from_ms(to_ms(now)) })))
    }

    /// An agent's comment (or an evidence export), audited, as one
    /// write-set. The ticket row is updated first: its lock orders
    /// concurrent events on the ticket. Returns the event as it will be.
    pub async fn ticket_note(
        &self,
        number: &str,
        kind: &str,
        body: &str,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<TicketEvent, StoreError> {
        let mut set = WriteSet::new();
        set.push("ticket", "UPDATE tickets SET updated_at = $1 WHERE number = $2", vec![to_ms(now).into(), number.into()], Expect::One);
        set.extend(event_write(number, kind, cause.actor, Some(body), now));
        let action = format!("ticket.{kind}");
        let change = Change { action: &action, subject: number, before: None, after: None };
        set.extend(crate::audit::entry_write(cause, change, now));
        // The ticket exists (the caller read it; tickets are never deleted)
        // and its row's update orders concurrent events, so a refusal is not
        // expected; if one comes, the note was not written and must not be
        // answered as if it had been.
        if !self.put(set).await? {
            return Err(StoreError::Conflict(format!("ticket {number} changed while a note was added")));
        }
        Ok(TicketEvent { kind: kind.to_owned(), actor: cause.actor.to_owned(), body: Some(body.to_owned()), at: from_ms(to_ms(now)) })
    }

    /// A message on a ticket — the holder's, or an agent's reply or internal
    /// note — with its attachments (typed references: `(type, ref)`), audited,
    /// and the holder's notice of a reply, as one write-set guarded by the
    /// ticket's status as read being one of `from`. Returns the events as
    /// they will be (the message first), or `None` when the ticket moved
    /// meanwhile (applied now, nothing written; staged, the request decides
    /// again).
    pub async fn ticket_message(
        &self,
        t: &TicketRow,
        from: &[TicketStatus],
        m: &TicketMessage<'_>,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<Vec<TicketEvent>>, StoreError> {
        if !from.contains(&t.status) {
            return Ok(None);
        }
        let statuses = from.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",");
        let mut set = WriteSet::new();
        set.push(
            "ticket in a status that takes messages",
            format!("UPDATE tickets SET updated_at = $1 WHERE number = $2 AND status IN ({statuses})"),
            vec![to_ms(now).into(), (&t.number).into()],
            Expect::One,
        );
        let at = from_ms(to_ms(now));
        let mut events = vec![TicketEvent { kind: m.kind.to_owned(), actor: cause.actor.to_owned(), body: Some(m.text.to_owned()), at }];
        for (kind, reference) in m.attachments {
            events.push(TicketEvent {
                kind: "attachment".into(),
                actor: cause.actor.to_owned(),
                body: Some(format!("{kind} {reference}")),
                at,
            });
        }
        for e in &events {
            set.extend(event_write(&t.number, &e.kind, cause.actor, e.body.as_deref(), now));
        }
        let action = format!("ticket.{}", m.kind);
        let change = Change { action: &action, subject: &t.number, before: None, after: None };
        set.extend(crate::audit::entry_write(cause, change, now));
        if let Some(n) = m.notice {
            set.extend(self.message_set(n, now).await?);
        }
        if !self.put(set).await? {
            return Ok(None);
        }
        Ok(Some(events))
    }

    /// Lifts the locks that stop the ticket's account, as read (`locks`,
    /// not empty), with the ticket's event and both audit entries, as one
    /// write-set. Returns the event, or `None` when the locks changed
    /// meanwhile (applied now, nothing written; staged, the request
    /// decides again).
    pub async fn ticket_unlock(
        &self,
        t: &TicketRow,
        locks: &crate::AccountLocks,
        reason: &str,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<TicketEvent>, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "ticket touched",
            "UPDATE tickets SET updated_at = $1 WHERE number = $2",
            vec![to_ms(now).into(), (&t.number).into()],
            Expect::One,
        );
        set.extend(crate::risk::unlock_write(&t.account_id, locks, cause, now));
        let body = format!("unlocked {}: {reason}", locks.scopes().join(", "));
        set.extend(event_write(&t.number, "unlock", cause.actor, Some(&body), now));
        let change = Change { action: "ticket.unlock", subject: &t.number, before: None, after: None };
        set.extend(crate::audit::entry_write(cause, change, now));
        if !self.put(set).await? {
            return Ok(None);
        }
        Ok(Some(TicketEvent { kind: "unlock".into(), actor: cause.actor.to_owned(), body: Some(body), at: from_ms(to_ms(now)) }))
    }

    pub async fn ticket_events(&self, number: &str) -> Result<Vec<TicketEvent>, StoreError> {
        let rows = sqlx::query("SELECT kind, actor, body, created_at FROM ticket_events WHERE number = $1 ORDER BY seq")
            .bind(number)
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TicketEvent {
                    kind: r.try_get("kind")?,
                    actor: r.try_get("actor")?,
                    body: r.try_get("body")?,
                    at: from_ms(r.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// Open tickets past their deadline (the SLA job escalates them).
    pub async fn overdue_tickets(&self, now: OffsetDateTime) -> Result<Vec<TicketRow>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {COLS} FROM tickets WHERE status = 'open' AND sla_due_at <= $1 ORDER BY sla_due_at LIMIT 100"))
                .bind(to_ms(now))
                .fetch_all(&mut *self.read().await?)
                .await?;
        rows.iter().map(ticket_row).collect()
    }

    /// How many tickets are in each status (metrics).
    pub async fn tickets_by_status(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT status, COUNT(*) FROM tickets GROUP BY status ORDER BY status")
            .fetch_all(&mut *self.read().await?)
            .await?)
    }

    /// Tickets still owed an answer past their deadline (metrics): open
    /// ones the job has not escalated yet, and escalated ones late again.
    pub async fn overdue_ticket_count(&self, now: OffsetDateTime) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tickets WHERE status IN ('open', 'escalated') AND sla_due_at <= $1")
            .bind(to_ms(now))
            .fetch_one(&mut *self.read().await?)
            .await?;
        Ok(n)
    }
}

/// A ticket's event, numbered in the ticket's own sequence at the apply
/// (times can tie); a racing writer hits the unique index and its
/// write-set is refused whole.
fn event_write(number: &str, kind: &str, actor: &str, body: Option<&str>, now: OffsetDateTime) -> WriteSet {
    let mut set = WriteSet::new();
    set.push(
        "ticket event",
        "INSERT INTO ticket_events (id, number, seq, kind, actor, body, created_at)
         VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_events WHERE number = $2), $3, $4, $5, $6)",
        vec![new_id("tev").into(), number.into(), kind.into(), actor.into(), body.into(), to_ms(now).into()],
        Expect::One,
    );
    set
}
