//! Support tickets (issue 6; SPEC "Ticket"). A holder opens one from any
//! failure (an `attempt_id` from the error, or a binding) and gets a number,
//! a category and a deadline; the context the seeds tell a holder to
//! gather (error code, time, masked card, issuer, the diagnosis, device) is
//! attached automatically. The holder may escalate an open ticket; the SLA
//! job escalates those past their deadline. Agents (support role) comment,
//! unlock, resolve and close through the ops API, all audited, and export a
//! ticket's evidence (receipts and audit excerpt) as one signed bundle.

use bangka_core::ErrorCode;
use bangka_core::Failure;
use bangka_core::ticket::{ESCALATED_SLA, TicketCategory, TicketStatus, is_ticket_number};
use bangka_store::{Cause, MessageKind, NewMessage, NewTicket, TicketEvent, TicketMessage, TicketMove, TicketRow};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::diagnosis::{self, DiagnosisQuery};
use super::standing::load_account;
use crate::auth::{Duty, OpsAuth, Principal, current_origin};
use crate::error::{ApiResult, malformed};
use crate::state::AppState;
use crate::views::Answer;
use crate::views::{AttachmentView, EscalationRoute, MessageFrom, TicketEventView, TicketList, TicketMessageView, TicketView, rfc3339};

#[derive(Deserialize, ToSchema, Default)]
pub struct TicketBody {
    /// The failed attempt (`attempt_id` from the error).
    pub attempt_id: Option<String>,
    /// Or the bound card the ticket is about.
    pub binding_id: Option<String>,
    /// The holder's own words (up to 1000 characters).
    pub note: Option<String>,
    /// Up to 5 documents the wallet stored (a screenshot of the error, the
    /// bank's proof that a card was closed): typed references, never the
    /// images themselves.
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
}

#[derive(Deserialize, ToSchema)]
pub struct AttachmentBody {
    /// `screenshot`, `bank_proof` (e.g. that the bank closed or replaced a card) or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where the wallet stored it (1–200 of `A–Z a–z 0–9 . _ : / -`).
    #[serde(rename = "ref")]
    pub reference: String,
}

/// Checks a ticket's attachments: typed references only, as `(type, ref)`.
fn attachments(list: &[AttachmentBody]) -> ApiResult<Vec<(String, String)>> {
    if list.len() > 5 {
        return Err(malformed("attachments", "at most 5").into());
    }
    list.iter()
        .enumerate()
        .map(|(i, a)| {
            let kind_ok = matches!(a.kind.as_str(), "screenshot" | "bank_proof" | "other");
            if !kind_ok || !bangka_core::review::is_document_reference(&a.reference) {
                return Err(malformed(
                    &format!("attachments[{i}]"),
                    "type screenshot, bank_proof or other; ref 1-200 of A-Z a-z 0-9 . _ : / -",
                )
                .into());
            }
            Ok((a.kind.clone(), a.reference.clone()))
        })
        .collect()
}

/// The holder's real name and ID number, masked, for the agent to confirm
/// who is asking (the full values never leave the vault).
async fn holder_masked(app: &AppState, account_id: &str) -> ApiResult<Value> {
    use bangka_core::holder::{HolderName, IdNumber};
    let Some((n, i)) = app.store.kyc_sealed(account_id).await? else { return Ok(Value::Null) };
    let name = app.vault.open_value(&bangka_store::kyc_context(account_id, "name"), &n)?;
    let id = app.vault.open_value(&bangka_store::kyc_context(account_id, "id"), &i)?;
    Ok(json!({
        "real_name_masked": HolderName::parse(name.as_str()).ok().map(|n| n.masked()),
        "id_number_masked": IdNumber::parse(id.as_str()).ok().map(|i| i.masked()),
    }))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct EscalateBody {
    /// Why the holder asks for a person sooner.
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct AgentBody {
    /// A comment, or the resolution when resolving (1 to 2000 characters).
    pub body: String,
}

/// `POST /v1/accounts/{id}/tickets/{number}/messages`: the holder writes back.
#[derive(Deserialize, ToSchema)]
pub struct MessageBody {
    /// The holder's words (1 to 2000 characters; card and ID numbers in it are masked).
    pub text: String,
    /// Up to 5 more documents, as when opening the ticket.
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
}

/// `POST /v1/ops/tickets/{number}/reply`: an agent answers.
#[derive(Deserialize, ToSchema)]
pub struct ReplyBody {
    /// 1 to 2000 characters.
    pub text: String,
    /// An internal note: never shown or sent to the holder.
    #[serde(default)]
    pub internal: bool,
}

#[derive(Deserialize, ToSchema, Default)]
pub struct CloseBody {
    /// Close a ticket that could not be resolved here (from `open` or
    /// `escalated`): the holder is told where to take the matter next.
    #[serde(default)]
    pub unresolved: bool,
    /// Why it could not be resolved, told to the holder (required with `unresolved`).
    pub reason: Option<String>,
}

/// Where a holder takes a matter support could not resolve (seeds 000/004:
/// the bank, the consumer complaint line, the central bank's line), in the
/// request's language.
pub fn escalation_routes() -> Vec<EscalationRoute> {
    let lang = crate::i18n::current();
    bangka_core::ticket::COMPLAINT_ROUTES
        .iter()
        .map(|r| EscalationRoute {
            name: r.name.get(lang).to_owned(),
            how: r.how.map(|h| h.get(lang).to_owned()),
            phone: r.phone.map(str::to_owned),
        })
        .collect()
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct TicketFilter {
    /// `open`, `escalated`, `resolved` or `closed`.
    pub status: Option<String>,
}

/// The ticket as the holder and agents see it. A ticket closed without a
/// resolution names where to take the matter next.
pub fn view(t: &TicketRow, now: time::OffsetDateTime) -> TicketView {
    let unresolved = t.status == TicketStatus::Closed && t.resolved_at.is_none();
    TicketView {
        number: t.number.clone(),
        status: t.status,
        category: t.category.clone(),
        sla_due_at: crate::views::Timestamp(t.sla_due_at),
        overdue: t.status.is_pending() && t.sla_due_at <= now,
        attempt_id: t.attempt_id.clone(),
        binding_id: t.binding_id.clone(),
        error_code: t.error_code.clone(),
        note: t.note.clone(),
        context: t.context.clone(),
        escalated_at: t.escalated_at.map(crate::views::Timestamp),
        escalation_reason: t.escalation_reason.clone(),
        resolved_at: t.resolved_at.map(crate::views::Timestamp),
        closed_at: t.closed_at.map(crate::views::Timestamp),
        created_at: crate::views::Timestamp(t.created_at),
        outcome: if unresolved { Some("unresolved".into()) } else { t.resolved_at.map(|_| "resolved".into()) },
        escalation_routes: unresolved.then(escalation_routes),
        events: None,
        messages: None,
        account_id: None,
        attempt_code: None,
    }
}

/// How many times a ticket's opening decides its number again before it
/// gives up (an internal error a retry runs afresh).
const OPEN_TRIES: usize = 32;

/// `POST /v1/accounts/{id}/tickets`.
pub async fn open(app: &AppState, who: &Principal, account_id: &str, body: TicketBody) -> ApiResult<Answer<TicketView>> {
    let account = load_account(app, account_id).await?;
    let note = super::text::optional_text("note", body.note.as_deref(), 1000)?;
    let attachments = attachments(&body.attachments)?;
    let q = DiagnosisQuery { attempt_id: body.attempt_id.clone(), binding_id: body.binding_id.clone() };
    let subjects = diagnosis::subjects(app, account_id, &q).await?;
    let diagnosis = diagnosis::evaluate(app, &account, &subjects).await?;
    // The code the holder saw (the diagnosis shows a fraud-sensitive cause
    // in its safe form too); agents find the bank's own on the attempt.
    let code = diagnosis.error_code.as_deref().and_then(ErrorCode::parse);
    // A holder stopped by a risk lock is answered first, even when the
    // ticket names no attempt (the lock's answer links here directly).
    let now = app.clock.now();
    let locked = account.locked_until.is_some_and(|u| u > now) || app.store.has_running_subject_locks(account_id, now).await?;
    let category = if code.is_none() && locked { TicketCategory::Risk } else { TicketCategory::of(code) };
    let origin = current_origin();
    let mut payments = Vec::new();
    if let Some(b) = &subjects.binding {
        for p in app.store.payments_for_binding(&b.id, 5).await? {
            payments.push(json!({
                "payment_id": p.id, "status": p.status.as_str(), "amount": { "minor": p.amount, "currency": p.currency },
                "merchant_id": p.merchant_id, "at": rfc3339(p.created_at),
            }));
        }
    }
    let client = origin.client.clone().map(|c| json!(c)).or_else(|| subjects.attempt.as_ref().and_then(|a| a.client.clone()));
    let context = json!({
        "error": code.map(|c| {
            let e = c.entry();
            json!({ "code": c.as_str(), "category": e.category, "message": e.message })
        }),
        "attempt": subjects.attempt.as_ref().map(|a| json!({
            "id": a.id, "operation": a.kind, "at": rfc3339(a.created_at), "phone_used_masked": a.phone_masked, "client": a.client,
        })),
        "card": diagnosis.prepare_for_support.card_masked,
        "issuer": diagnosis.prepare_for_support.issuer,
        "account": {
            "phone_masked": diagnosis.prepare_for_support.account_phone_masked,
            "kyc_status": account.kyc.as_str(),
            "holder": holder_masked(app, account_id).await?,
        },
        "device": {
            "device_id": origin.device_id.or_else(|| subjects.attempt.as_ref().and_then(|a| a.device_id.clone())),
            "client": client,
        },
        "recent_payments": payments,
        "attachments": attachments.iter().map(|(kind, reference)| json!({ "type": kind, "ref": reference })).collect::<Vec<_>>(),
        "diagnosis": diagnosis.items,
        "prepare_for_support": diagnosis.prepare_for_support,
    });
    let binding_id = subjects.binding.as_ref().map(|b| b.id.clone());
    let new = NewTicket {
        account_id,
        category: category.as_str(),
        attempt_id: subjects.attempt.as_ref().map(|a| a.id.as_str()),
        binding_id: binding_id.as_deref(),
        error_code: code.map(|c| c.as_str()),
        note: note.as_deref(),
        context: &context,
        sla_due_at: now + category.sla(),
    };
    // The day's next number is decided on the counter as read: a ticket
    // opened meanwhile took it, so read again (applied now) — staged, the
    // apply refuses and the request decides again. Each round one of the
    // requests racing for a number wins it (on PostgreSQL they decide again
    // side by side), so this many rounds serve that many opened at once.
    let mut opened = None;
    for _ in 0..OPEN_TRIES {
        opened = app.store.open_ticket(&new, Cause::api(who.actor()), now).await?;
        if opened.is_some() {
            break;
        }
    }
    let t = opened.ok_or_else(|| bangka_store::StoreError::Conflict("the day's ticket numbers kept moving".into()))?;
    crate::metrics::ticket_opened(category.as_str());
    tracing::info!(ticket = %t.number, account_id, category = category.as_str(), "ticket opened");
    Ok(Answer::created(view(&t, now)))
}

/// A ticket of this account, or `NOT_FOUND` (as for a number that does not exist).
async fn account_ticket(app: &AppState, account_id: &str, number: &str) -> ApiResult<TicketRow> {
    if !is_ticket_number(number) {
        return Err(ErrorCode::NotFound.into());
    }
    match app.store.get_ticket(number).await? {
        Some(t) if t.account_id == account_id => Ok(t),
        _ => Err(ErrorCode::NotFound.into()),
    }
}

pub async fn list(app: &AppState, account_id: &str, page: &bangka_store::PageRequest) -> ApiResult<TicketList> {
    load_account(app, account_id).await?;
    let now = app.clock.now();
    Ok(TicketList::new(app.store.account_tickets(account_id, page).await?.map(|t| view(&t, now))))
}

/// What the holder sees of a ticket's history: its status changes and the
/// resolution, not agents' internal comments or who they are.
const HOLDER_EVENTS: &[&str] = &["open", "escalate", "resolve", "close", "close_unresolved"];

pub async fn get(app: &AppState, account_id: &str, number: &str) -> ApiResult<Answer<TicketView>> {
    let t = account_ticket(app, account_id, number).await?;
    let history = app.store.ticket_events(number).await?;
    Ok(Answer::ok(holder_view(app, &t, history)))
}

/// The ticket as its holder sees it, with its history. A flow that moved
/// it passes the history read before the move with the move's event added:
/// the move is applied at the request's end, or (deciding again) in the
/// request's transaction, where a read would see it already.
fn holder_view(app: &AppState, t: &TicketRow, history: Vec<TicketEvent>) -> TicketView {
    let mut v = view(t, app.clock.now());
    v.messages = Some(thread(t, &history, false));
    let events: Vec<TicketEventView> = history
        .into_iter()
        .filter(|e| HOLDER_EVENTS.contains(&e.kind.as_str()))
        .map(|e| {
            let by = if e.actor == "system" {
                "system"
            } else if matches!(e.kind.as_str(), "resolve" | "close" | "close_unresolved") {
                "support"
            } else {
                "holder"
            };
            TicketEventView { kind: e.kind, by: by.into(), body: e.body, at: crate::views::Timestamp(e.at) }
        })
        .collect();
    v.events = Some(events);
    v
}

/// The ticket's thread from its history: the opening note, then each
/// holder message (with the attachments written with it) and agent reply;
/// with `internal`, an agent's internal notes too (marked).
fn thread(t: &TicketRow, history: &[TicketEvent], internal: bool) -> Vec<TicketMessageView> {
    let mut out = Vec::new();
    if let Some(note) = &t.note {
        out.push(TicketMessageView {
            from: MessageFrom::Holder,
            text: note.clone(),
            at: crate::views::Timestamp(t.created_at),
            attachments: vec![],
            internal: false,
        });
    }
    for e in history {
        let text = e.body.clone().unwrap_or_default();
        let at = crate::views::Timestamp(e.at);
        match e.kind.as_str() {
            "message" => out.push(TicketMessageView { from: MessageFrom::Holder, text, at, attachments: vec![], internal: false }),
            "reply" => out.push(TicketMessageView { from: MessageFrom::Agent, text, at, attachments: vec![], internal: false }),
            "comment" if internal => {
                out.push(TicketMessageView { from: MessageFrom::Agent, text, at, attachments: vec![], internal: true })
            }
            // Written with its message, in the same write-set (same time).
            "attachment" => {
                if let Some(m) = out.last_mut().filter(|m| m.from == MessageFrom::Holder && m.at == at)
                    && let Some((kind, reference)) = text.split_once(' ')
                {
                    m.attachments.push(AttachmentView { kind: kind.into(), reference: reference.into() });
                }
            }
            _ => {}
        }
    }
    out
}

fn conflict(t: &TicketRow) -> crate::error::ApiError {
    Failure::new(ErrorCode::TicketStateConflict).with_details(json!({ "status": t.status.as_str() })).into()
}

fn escalation_notice(t: &TicketRow, phone: &str) -> NewMessage {
    NewMessage {
        kind: MessageKind::Notice,
        account_id: t.account_id.clone(),
        phone: phone.into(),
        zh: format!("【Bangka】您的工单 {} 已升级至专人处理，我们会尽快回复。", t.number),
        en: format!("Bangka: your ticket {} has been escalated to a specialist; we will answer as soon as we can.", t.number),
    }
}

/// `POST /v1/accounts/{id}/tickets/{number}/escalate`: the holder asks for a
/// person sooner. Only an open ticket; the new deadline is 4 hours.
pub async fn escalate(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    number: &str,
    body: EscalateBody,
) -> ApiResult<Answer<TicketView>> {
    let account = load_account(app, account_id).await?;
    let t = account_ticket(app, account_id, number).await?;
    let reason = super::text::optional_text("reason", body.reason.as_deref(), 500)?;
    let now = app.clock.now();
    let notice = escalation_notice(&t, &account.phone);
    let m = TicketMove {
        from: &[TicketStatus::Open],
        to: TicketStatus::Escalated,
        kind: "escalate",
        body: reason.as_deref(),
        escalation: Some(("holder_request", now + ESCALATED_SLA)),
        notice: Some(&notice),
    };
    let mut history = app.store.ticket_events(&t.number).await?;
    let Some((moved, event)) = app.store.move_ticket(&t, &m, Cause::api(who.actor()), now).await? else {
        return Err(conflict(&t));
    };
    history.push(event);
    Ok(Answer::ok(holder_view(app, &moved, history)))
}

/// The SLA job: open tickets past their deadline are escalated (the
/// conditional update is the claim, so it happens once across instances).
pub async fn escalate_overdue(app: &AppState) -> ApiResult<u64> {
    super::outbox::delivering(app, escalate_overdue_work(app)).await
}

async fn escalate_overdue_work(app: &AppState) -> ApiResult<u64> {
    let now = app.clock.now();
    let mut n = 0;
    for t in app.store.overdue_tickets(now).await? {
        let Some(account) = app.store.get_account(&t.account_id).await? else { continue };
        let notice = escalation_notice(&t, &account.phone);
        let m = TicketMove {
            from: &[TicketStatus::Open],
            to: TicketStatus::Escalated,
            kind: "escalate",
            // No sentence of its own: `escalation_reason` (sla_breach) says
            // why, and the holder's notice says it in their language (the
            // English sentence this wrote reached zh-CN holders).
            body: None,
            escalation: Some(("sla_breach", now + ESCALATED_SLA)),
            notice: Some(&notice),
        };
        if app.store.move_ticket(&t, &m, Cause::job().with_note("SLA breached"), now).await?.is_some() {
            tracing::warn!(ticket = %t.number, due = %rfc3339(t.sla_due_at), "ticket past its SLA: escalated");
            crate::metrics::sla_breached(&t.category);
            n += 1;
        }
    }
    Ok(n)
}

fn parse_status(s: Option<&str>) -> ApiResult<Option<TicketStatus>> {
    s.map(|s| TicketStatus::parse(s).ok_or_else(|| malformed("status", "open, escalated, resolved or closed").into())).transpose()
}

/// `GET /v1/ops/tickets[?status=]` (support, risk, admin): soonest deadline first.
pub async fn ops_list(app: &AppState, who: &OpsAuth, f: TicketFilter, page: &bangka_store::PageRequest) -> ApiResult<TicketList> {
    who.require(Duty::ReadOps)?;
    let status = parse_status(f.status.as_deref())?;
    let now = app.clock.now();
    Ok(TicketList::new(app.store.ops_tickets(status, page).await?.map(|t| view(&t, now))))
}

async fn ops_ticket(app: &AppState, number: &str) -> ApiResult<TicketRow> {
    if !is_ticket_number(number) {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(app.store.get_ticket(number).await?.ok_or(ErrorCode::NotFound)?)
}

/// `GET /v1/ops/tickets/{number}`: the ticket with its history.
pub async fn ops_get(app: &AppState, who: &OpsAuth, number: &str) -> ApiResult<Answer<TicketView>> {
    who.require(Duty::ReadOps)?;
    let t = ops_ticket(app, number).await?;
    let history = app.store.ticket_events(number).await?;
    ops_view(app, &t, history).await.map(Answer::ok)
}

/// The ticket as support sees it, with its history (read before a change
/// this request made, with the change's event added: see [`holder_view`]).
async fn ops_view(app: &AppState, t: &TicketRow, history: Vec<TicketEvent>) -> ApiResult<TicketView> {
    let mut v = view(t, app.clock.now());
    v.account_id = Some(t.account_id.clone());
    // The bank's precise answer, which the holder may not have been shown.
    if let Some(a) = &t.attempt_id {
        v.attempt_code = app.store.get_attempt(&t.account_id, a).await?.and_then(|a| a.code);
    }
    v.messages = Some(thread(t, &history, true));
    v.events = Some(
        history
            .into_iter()
            .map(|e| TicketEventView { kind: e.kind, by: e.actor, body: e.body, at: crate::views::Timestamp(e.at) })
            .collect(),
    );
    Ok(v)
}

fn agent_text(body: &AgentBody) -> ApiResult<String> {
    super::text::required_text("body", &body.body, 2000)
}

/// `POST /v1/ops/tickets/{number}/comment` (support, admin).
pub async fn comment(app: &AppState, who: &OpsAuth, number: &str, body: AgentBody) -> ApiResult<Answer<TicketView>> {
    let p = who.require(Duty::HandleTickets)?;
    let t = ops_ticket(app, number).await?;
    let text = agent_text(&body)?;
    let mut history = app.store.ticket_events(&t.number).await?;
    history.push(app.store.ticket_note(&t.number, "comment", &text, Cause::api(p.actor()), app.clock.now()).await?);
    ops_view(app, &t, history).await.map(Answer::ok)
}

/// Statuses a holder may write in: a resolved ticket that did not help is
/// a new ticket (see `TicketStatus`).
const HOLDER_WRITES_IN: &[TicketStatus] = &[TicketStatus::Open, TicketStatus::Escalated];

/// Statuses an agent may answer in: after a resolution too, not once closed.
const AGENT_WRITES_IN: &[TicketStatus] = &[TicketStatus::Open, TicketStatus::Escalated, TicketStatus::Resolved];

/// `POST /v1/accounts/{id}/tickets/{number}/messages`: the holder writes
/// back, with more documents if need be (issue 29: tickets went one way).
pub async fn post_message(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    number: &str,
    body: MessageBody,
) -> ApiResult<Answer<TicketView>> {
    let t = account_ticket(app, account_id, number).await?;
    let text = super::text::required_text("text", &body.text, 2000)?;
    let attached = attachments(&body.attachments)?;
    if !HOLDER_WRITES_IN.contains(&t.status) {
        return Err(conflict(&t));
    }
    let m = TicketMessage { kind: "message", text: &text, attachments: &attached, notice: None };
    let mut history = app.store.ticket_events(&t.number).await?;
    let Some(events) = app.store.ticket_message(&t, HOLDER_WRITES_IN, &m, Cause::api(who.actor()), app.clock.now()).await? else {
        // Moved meanwhile (applied at once: the request's second decision).
        let now_t = account_ticket(app, account_id, number).await?;
        return Err(conflict(&now_t));
    };
    history.extend(events);
    let v = holder_view(app, &t, history);
    Ok(Answer::created(v))
}

/// `POST /v1/ops/tickets/{number}/reply` (support, admin): an answer the
/// holder sees (and is told of by a notice), or an internal note.
pub async fn reply(app: &AppState, who: &OpsAuth, number: &str, body: ReplyBody) -> ApiResult<Answer<TicketView>> {
    let p = who.require(Duty::HandleTickets)?;
    let t = ops_ticket(app, number).await?;
    let text = super::text::required_text("text", &body.text, 2000)?;
    if !AGENT_WRITES_IN.contains(&t.status) {
        return Err(conflict(&t));
    }
    // A public reply is told to the holder; an internal note to no one.
    let notice = match body.internal {
        true => None,
        false => Some(NewMessage {
            kind: MessageKind::Notice,
            account_id: t.account_id.clone(),
            phone: load_account(app, &t.account_id).await?.phone,
            zh: format!("【Bangka】客服回复了您的工单 {}：{text}", t.number),
            en: format!("Bangka: support answered your ticket {}: {text}", t.number),
        }),
    };
    let kind = if body.internal { "comment" } else { "reply" };
    let m = TicketMessage { kind, text: &text, attachments: &[], notice: notice.as_ref() };
    let mut history = app.store.ticket_events(&t.number).await?;
    let Some(events) = app.store.ticket_message(&t, AGENT_WRITES_IN, &m, Cause::api(p.actor()), app.clock.now()).await? else {
        let now_t = ops_ticket(app, number).await?;
        return Err(conflict(&now_t));
    };
    history.extend(events);
    let v = ops_view(app, &t, history).await?;
    Ok(Answer::created(v))
}

/// `POST /v1/ops/tickets/{number}/unlock` (support, admin): lifts the
/// account's risk locks for this ticket, with the reason in both trails.
pub async fn unlock(app: &AppState, who: &OpsAuth, number: &str, body: AgentBody) -> ApiResult<Answer<TicketView>> {
    let p = who.require(Duty::HandleTickets)?;
    let t = ops_ticket(app, number).await?;
    let reason = agent_text(&body)?;
    if reason.chars().count() > 500 {
        return Err(malformed("body", "an unlock reason is at most 500 characters").into());
    }
    let now = app.clock.now();
    // Decided on the locks as read: they are the write-set's guard.
    let locks = app.store.account_locks(&t.account_id, now).await?;
    if locks.is_empty() {
        return Err(ErrorCode::AccountNotLocked.into());
    }
    let mut history = app.store.ticket_events(&t.number).await?;
    let Some(event) = app.store.ticket_unlock(&t, &locks, &reason, Cause::api(p.actor()).with_note(&reason), now).await? else {
        // Changed meanwhile (applied at once: the request's second decision).
        return Err(ErrorCode::AccountNotLocked.into());
    };
    tracing::info!(ticket = %t.number, operator = %p.key_id, "risk locks lifted for a ticket");
    history.push(event);
    ops_view(app, &t, history).await.map(Answer::ok)
}

/// `POST /v1/ops/tickets/{number}/resolve` (support, admin): the resolution
/// is told to the holder.
pub async fn resolve(app: &AppState, who: &OpsAuth, number: &str, body: AgentBody) -> ApiResult<Answer<TicketView>> {
    let p = who.require(Duty::HandleTickets)?;
    let t = ops_ticket(app, number).await?;
    let text = agent_text(&body)?;
    let account = load_account(app, &t.account_id).await?;
    let notice = NewMessage {
        kind: MessageKind::Notice,
        account_id: t.account_id.clone(),
        phone: account.phone.clone(),
        zh: format!("【Bangka】您的工单 {} 已处理：{text}", t.number),
        en: format!("Bangka: your ticket {} is resolved: {text}", t.number),
    };
    let m = TicketMove {
        from: &[TicketStatus::Open, TicketStatus::Escalated],
        to: TicketStatus::Resolved,
        kind: "resolve",
        body: Some(&text),
        escalation: None,
        notice: Some(&notice),
    };
    let mut history = app.store.ticket_events(&t.number).await?;
    let Some((moved, event)) = app.store.move_ticket(&t, &m, Cause::api(p.actor()), app.clock.now()).await? else {
        return Err(conflict(&t));
    };
    history.push(event);
    ops_view(app, &moved, history).await.map(Answer::ok)
}

/// `POST /v1/ops/tickets/{number}/close` (support, admin): after a
/// resolution; or unresolved, with a reason, from `open` or `escalated`.
pub async fn close(app: &AppState, who: &OpsAuth, number: &str, body: CloseBody) -> ApiResult<Answer<TicketView>> {
    let p = who.require(Duty::HandleTickets)?;
    let t = ops_ticket(app, number).await?;
    let reason = match (body.unresolved, body.reason.as_deref()) {
        (true, Some(r)) => Some(super::text::ops_reason(r, 1)?),
        (true, None) => return Err(ErrorCode::OpsReasonRequired.into()),
        (false, _) => None,
    };
    let notice = match &reason {
        Some(r) => {
            let account = load_account(app, &t.account_id).await?;
            Some(NewMessage {
                kind: MessageKind::Notice,
                account_id: t.account_id.clone(),
                phone: account.phone.clone(),
                zh: format!(
                    "【Bangka】您的工单 {} 未能在此解决：{r}。您可以联系发卡银行客服，或拨打全国消费者投诉举报电话 12315、中国人民银行金融消费者投诉电话 12363；钱包内可下载这张卡的证据包。",
                    t.number
                ),
                en: format!(
                    "Bangka: your ticket {} could not be resolved here: {r}. You can contact your card's bank, the consumer complaint line 12315 or the People's Bank of China financial consumer line 12363; the card's evidence bundle can be downloaded in the wallet.",
                    t.number
                ),
            })
        }
        None => None,
    };
    let from: &[TicketStatus] = if reason.is_some() { &[TicketStatus::Open, TicketStatus::Escalated] } else { &[TicketStatus::Resolved] };
    let m = TicketMove {
        from,
        to: TicketStatus::Closed,
        kind: if reason.is_some() { "close_unresolved" } else { "close" },
        body: reason.as_deref(),
        escalation: None,
        notice: notice.as_ref(),
    };
    let mut history = app.store.ticket_events(&t.number).await?;
    let Some((moved, event)) = app.store.move_ticket(&t, &m, Cause::api(p.actor()), app.clock.now()).await? else {
        return Err(conflict(&t));
    };
    history.push(event);
    ops_view(app, &moved, history).await.map(Answer::ok)
}

/// `GET /v1/ops/tickets/{number}/evidence` (support, admin): for a
/// complaint, the ticket, its history, the account's receipts and the audit
/// entries about the ticket, account and card, as one JSON bundle signed
/// with the receipt key (`bangka receipts verify` checks it).
pub async fn evidence(app: &AppState, who: &OpsAuth, number: &str) -> ApiResult<Answer<crate::views::SignedDocument>> {
    let p = who.require(Duty::HandleTickets)?;
    let t = ops_ticket(app, number).await?;
    let now = app.clock.now();
    let receipts: Vec<Value> = app
        .store
        .receipts(&t.account_id)
        .await?
        .into_iter()
        .filter(|r| t.binding_id.is_none() || r["receipt"]["binding_id"].as_str() == t.binding_id.as_deref())
        .collect();
    let mut subjects = vec![t.number.clone(), t.account_id.clone()];
    subjects.extend(t.binding_id.clone());
    let audit = super::evidence::audit_excerpt(app, &subjects, super::evidence::Reader::Support).await?;
    let bundle = json!({
        "operation": "ticket_evidence",
        "id": t.number,
        "at": rfc3339(now),
        "ticket": view(&t, now),
        "events": app.store.ticket_events(&t.number).await?,
        "receipts": receipts,
        "audit_excerpt": audit,
    });
    app.store.ticket_note(&t.number, "evidence_export", "evidence bundle exported", Cause::api(p.actor()), now).await?;
    Ok(Answer::ok(crate::views::SignedDocument(app.signer.sign(bundle))))
}
