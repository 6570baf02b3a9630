//! Routes for the support path: holder sessions and devices, diagnosis,
//! tickets, and the ops side (tickets, risk decisions, unlock).

use axum::Json;

use super::list::Paging;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::answer::ok;
use super::envelope::ErrorEnvelope;
use super::idempotent::Idempotent;
use crate::auth::{AccountAuth, OpsAuth, WalletAuth};
use crate::error::{ApiResult, malformed};
use crate::flows::{diagnosis, reviews, risk, sessions, tickets};
use crate::state::AppState;

/// A query string that does not parse is `MALFORMED_REQUEST`, like a body.
fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, crate::error::ApiError> {
    q.map(|Query(v)| v).map_err(|_| malformed("query", "each parameter at most once, as documented").into())
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_session))
        .routes(routes!(end_session))
        .routes(routes!(list_devices))
        .routes(routes!(list_attempts))
        .routes(routes!(remove_device))
        .routes(routes!(diagnose))
        .routes(routes!(open_ticket, list_tickets))
        .routes(routes!(get_ticket))
        .routes(routes!(escalate_ticket))
        .routes(routes!(post_ticket_message))
        .routes(routes!(submit_review, list_reviews))
        .routes(routes!(get_review))
        .routes(routes!(withdraw_review))
        .routes(routes!(ops_me))
        .routes(routes!(ops_bind_stats))
        .routes(routes!(ops_audit))
        .routes(routes!(ops_reviews))
        .routes(routes!(ops_approve_review))
        .routes(routes!(ops_reject_review))
        .routes(routes!(ops_tickets))
        .routes(routes!(ops_ticket))
        .routes(routes!(ops_comment))
        .routes(routes!(ops_reply))
        .routes(routes!(ops_ticket_unlock))
        .routes(routes!(ops_resolve))
        .routes(routes!(ops_close))
        .routes(routes!(ops_evidence))
        .routes(routes!(ops_unlock))
        .routes(routes!(ops_risk))
        .routes(routes!(ops_attempts))
}

/// Support lifts an account's risk locks (and those its attempts put on
/// cards, devices and IPs) after verifying the holder; audited with the reason.
#[utoipa::path(post, path = "/v1/ops/accounts/{id}/unlock", tag = "ops", request_body = risk::UnlockBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::UnlockView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn ops_unlock(State(app): State<AppState>, who: OpsAuth, Path(id): Path<String>, call: Idempotent) -> ApiResult<Response> {
    let principal = who.0.clone();
    let flow = |app: AppState, req: risk::UnlockBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { risk::unlock(&app, &who, &id, req).await }
    };
    call.json(&app, &principal, flow).await
}

/// The account's risk decisions, each with the rule that fired, and its lock.
#[utoipa::path(get, path = "/v1/ops/accounts/{id}/risk", tag = "ops",
    responses((status = 200, body = crate::views::RiskView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn ops_risk(State(app): State<AppState>, who: OpsAuth, Path(id): Path<String>) -> ApiResult<Response> {
    ok(risk::decisions(&app, &who, &id).await)
}

/// Open a holder session for the account (wallet key only): a bearer token
/// that acts on this account's `/v1/accounts/{id}/...` paths and nothing
/// else, for `--session-ttl` (15 minutes by default). A device the account
/// has not used before is announced to the holder by SMS, push and email.
/// The token is shown once: a repeat with the same `Idempotency-Key` opens
/// no second session and replays the answer with `token: null` (the token
/// is never stored, only its hash); open a new session with a new key.
#[utoipa::path(post, path = "/v1/accounts/{id}/sessions", tag = "sessions", request_body = sessions::SessionBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat opens no second session; its replay has `token: null`")),
    responses((status = 201, body = crate::views::SessionView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn open_session(
    State(app): State<AppState>,
    WalletAuth(who): WalletAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: sessions::SessionBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { sessions::open(&app, &who, &id, req).await }
    };
    call.json_shown_once(&app, &who, &["token"], flow).await
}

/// Sign out: end one of the account's sessions.
#[utoipa::path(post, path = "/v1/accounts/{id}/sessions/{sid}/end", tag = "sessions",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::SessionEndedView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn end_session(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, sid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState| {
        let (id, sid) = (id.clone(), sid.clone());
        async move { sessions::end(&app, &id, &sid).await }
    };
    call.empty(&app, &who, flow).await
}

/// The devices the account has signed in on, most recent first (IP masked).
#[utoipa::path(get, path = "/v1/accounts/{id}/devices", tag = "sessions",
    params(super::list::ListQuery),
    responses((status = 200, body = crate::views::DeviceList), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn list_devices(
    State(app): State<AppState>,
    _: AccountAuth,
    Path(id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<crate::views::DeviceList>> {
    sessions::devices(&app, &id, &page).await.map(Json)
}

/// The account's own attempts (binds, activations, payments…), newest
/// first: what was tried, what the holder was told, and for a failed one
/// where to ask about it (diagnosis, a ticket naming it).
#[utoipa::path(get, path = "/v1/accounts/{id}/attempts", tag = "support",
    params(super::list::ListQuery),
    responses((status = 200, body = crate::views::HolderAttemptList), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn list_attempts(
    State(app): State<AppState>,
    _: AccountAuth,
    Path(id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<crate::views::HolderAttemptList>> {
    crate::flows::attempts::holder_list(&app, &id, &page).await.map(Json)
}

/// "That was not me": forget a device and end every session opened on it.
#[utoipa::path(post, path = "/v1/accounts/{id}/devices/{did}/remove", tag = "sessions",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::DeviceRemovedView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn remove_device(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, did)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState| {
        let (who, id, did) = (who.clone(), id.clone(), did.clone());
        async move { sessions::remove_device(&app, &who, &id, &did).await }
    };
    call.empty(&app, &who, flow).await
}

/// Why a bind failed, or why a bound card cannot be used: the triage
/// checklist on real state, item by item (`passed` / `failed` / `unknown`,
/// with evidence), and what to prepare for support, filled in and masked.
#[utoipa::path(get, path = "/v1/accounts/{id}/diagnosis", tag = "support", params(diagnosis::DiagnosisQuery),
    responses((status = 200, body = crate::views::DiagnosisView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn diagnose(
    State(app): State<AppState>,
    _: AccountAuth,
    Path(id): Path<String>,
    Query(q): Query<diagnosis::DiagnosisQuery>,
) -> ApiResult<Response> {
    let v = diagnosis::diagnose(&app, &id, &q).await?;
    ok(Ok(crate::views::Answer::ok(v)))
}

/// Open a ticket from a failure (`attempt_id`) or about a card
/// (`binding_id`): number, category, answer deadline, and the context
/// (error, time, masked card, issuer, diagnosis, device) attached.
#[utoipa::path(post, path = "/v1/accounts/{id}/tickets", tag = "support", request_body = tickets::TicketBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 201, body = crate::views::TicketView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn open_ticket(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: tickets::TicketBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { tickets::open(&app, &who, &id, req).await }
    };
    call.optional_json(&app, &who, flow).await
}

/// The account's tickets, newest first.
#[utoipa::path(get, path = "/v1/accounts/{id}/tickets", tag = "support",
    params(super::list::ListQuery),
    responses((status = 200, body = crate::views::TicketList), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn list_tickets(
    State(app): State<AppState>,
    _: AccountAuth,
    Path(id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<crate::views::TicketList>> {
    tickets::list(&app, &id, &page).await.map(Json)
}

/// One ticket with its history.
#[utoipa::path(get, path = "/v1/accounts/{id}/tickets/{number}", tag = "support",
    responses((status = 200, body = crate::views::TicketView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn get_ticket(State(app): State<AppState>, _: AccountAuth, Path((id, number)): Path<(String, String)>) -> ApiResult<Response> {
    ok(tickets::get(&app, &id, &number).await)
}

/// Ask for a specialist sooner: an open ticket is escalated (new deadline: 4 hours).
#[utoipa::path(post, path = "/v1/accounts/{id}/tickets/{number}/escalate", tag = "support", request_body = Option<tickets::EscalateBody>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::TicketView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn escalate_ticket(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, number)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: tickets::EscalateBody| {
        let (who, id, number) = (who.clone(), id.clone(), number.clone());
        async move { tickets::escalate(&app, &who, &id, &number, req).await }
    };
    call.optional_json(&app, &who, flow).await
}

/// Write back on an open or escalated ticket, with more documents if need
/// be; the thread (`messages`) shows it with the agents' replies.
#[utoipa::path(post, path = "/v1/accounts/{id}/tickets/{number}/messages", tag = "support", request_body = tickets::MessageBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 201, body = crate::views::TicketView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn post_ticket_message(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, number)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: tickets::MessageBody| {
        let (who, id, number) = (who.clone(), id.clone(), number.clone());
        async move { tickets::post_message(&app, &who, &id, &number, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Bind attempts over time by issuer and failures by code, from the
/// database (`?hours=`, 24 by default): what the console charts.
#[utoipa::path(get, path = "/v1/ops/stats/binds", tag = "ops", params(crate::flows::ops::StatsQuery),
    responses((status = 200, body = crate::views::BindStatsView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_bind_stats(
    State(app): State<AppState>,
    who: OpsAuth,
    q: Result<Query<crate::flows::ops::StatsQuery>, QueryRejection>,
) -> ApiResult<Response> {
    ok(crate::flows::ops::bind_stats(&app, &who, query(q)?).await)
}

/// The latest audit entries, newest first, and whether the hash chain is
/// intact; filtered by subject, action or actor, a page at a time.
#[utoipa::path(get, path = "/v1/ops/audit", tag = "ops", params(crate::flows::ops::AuditQuery, super::list::ListQuery),
    responses((status = 200, body = crate::views::AuditView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_audit(
    State(app): State<AppState>,
    who: OpsAuth,
    q: Result<Query<crate::flows::ops::AuditQuery>, QueryRejection>,
    Paging(page): Paging,
) -> ApiResult<Json<crate::views::AuditView>> {
    crate::flows::ops::audit(&app, &who, query(q)?, &page).await.map(Json)
}

/// Tickets for agents, soonest deadline first (`?status=`).
#[utoipa::path(get, path = "/v1/ops/tickets", tag = "ops", params(tickets::TicketFilter, super::list::ListQuery),
    responses((status = 200, body = crate::views::TicketList), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_tickets(
    State(app): State<AppState>,
    who: OpsAuth,
    f: Result<Query<tickets::TicketFilter>, QueryRejection>,
    Paging(page): Paging,
) -> ApiResult<Json<crate::views::TicketList>> {
    tickets::ops_list(&app, &who, query(f)?, &page).await.map(Json)
}

/// A ticket with its account and history.
#[utoipa::path(get, path = "/v1/ops/tickets/{number}", tag = "ops",
    responses((status = 200, body = crate::views::TicketView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_ticket(State(app): State<AppState>, who: OpsAuth, Path(number): Path<String>) -> ApiResult<Response> {
    ok(tickets::ops_get(&app, &who, &number).await)
}

/// An agent's reply (support): shown to the holder, who is told by a notice;
/// with `internal`, a note only agents see.
#[utoipa::path(post, path = "/v1/ops/tickets/{number}/reply", tag = "ops", request_body = tickets::ReplyBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 201, body = crate::views::TicketView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_reply(State(app): State<AppState>, who: OpsAuth, Path(number): Path<String>, call: Idempotent) -> ApiResult<Response> {
    let principal = who.0.clone();
    let flow = |app: AppState, req: tickets::ReplyBody| {
        let (who, number) = (who.clone(), number.clone());
        async move { tickets::reply(&app, &who, &number, req).await }
    };
    call.json(&app, &principal, flow).await
}

/// An agent's comment on a ticket (support), audited.
#[utoipa::path(post, path = "/v1/ops/tickets/{number}/comment", tag = "ops", request_body = tickets::AgentBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::TicketView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_comment(State(app): State<AppState>, who: OpsAuth, Path(number): Path<String>, call: Idempotent) -> ApiResult<Response> {
    let principal = who.0.clone();
    let flow = |app: AppState, req: tickets::AgentBody| {
        let (who, number) = (who.clone(), number.clone());
        async move { tickets::comment(&app, &who, &number, req).await }
    };
    call.json(&app, &principal, flow).await
}

/// Lift the ticket's account's risk locks (support), with the reason in the ticket and the audit log.
#[utoipa::path(post, path = "/v1/ops/tickets/{number}/unlock", tag = "ops", request_body = tickets::AgentBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::TicketView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_ticket_unlock(State(app): State<AppState>, who: OpsAuth, Path(number): Path<String>, call: Idempotent) -> ApiResult<Response> {
    let principal = who.0.clone();
    let flow = |app: AppState, req: tickets::AgentBody| {
        let (who, number) = (who.clone(), number.clone());
        async move { tickets::unlock(&app, &who, &number, req).await }
    };
    call.json(&app, &principal, flow).await
}

/// Resolve a ticket (support); the resolution is sent to the holder.
#[utoipa::path(post, path = "/v1/ops/tickets/{number}/resolve", tag = "ops", request_body = tickets::AgentBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::TicketView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_resolve(State(app): State<AppState>, who: OpsAuth, Path(number): Path<String>, call: Idempotent) -> ApiResult<Response> {
    let principal = who.0.clone();
    let flow = |app: AppState, req: tickets::AgentBody| {
        let (who, number) = (who.clone(), number.clone());
        async move { tickets::resolve(&app, &who, &number, req).await }
    };
    call.json(&app, &principal, flow).await
}

/// Close a resolved ticket (support); or, with `unresolved` and a reason,
/// close one that cannot be resolved here: the holder is told where to
/// take it next (the bank, 12315, 12363).
#[utoipa::path(post, path = "/v1/ops/tickets/{number}/close", tag = "ops", request_body = Option<tickets::CloseBody>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::TicketView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_close(State(app): State<AppState>, who: OpsAuth, Path(number): Path<String>, call: Idempotent) -> ApiResult<Response> {
    let principal = who.0.clone();
    let flow = |app: AppState, req: tickets::CloseBody| {
        let (who, number) = (who.clone(), number.clone());
        async move { tickets::close(&app, &who, &number, req).await }
    };
    call.optional_json(&app, &principal, flow).await
}

/// Evidence for a complaint: the ticket, its history, the receipts and the
/// audit excerpt, as one JSON bundle signed with the receipt key.
#[utoipa::path(get, path = "/v1/ops/tickets/{number}/evidence", tag = "ops",
    responses((status = 200, body = crate::views::SignedDocumentView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_evidence(State(app): State<AppState>, who: OpsAuth, Path(number): Path<String>) -> ApiResult<Response> {
    ok(tickets::evidence(&app, &who, &number).await)
}

/// The account's attempts with the bank's precise codes and what the holder was shown.
#[utoipa::path(get, path = "/v1/ops/accounts/{id}/attempts", tag = "ops",
    params(super::list::ListQuery),
    responses((status = 200, body = crate::views::AttemptList), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn ops_attempts(
    State(app): State<AppState>,
    who: OpsAuth,
    Path(id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<crate::views::AttemptList>> {
    risk::attempts(&app, &who, &id, &page).await.map(Json)
}

/// Ask for a manual review with materials: a risk lock, a bind held for
/// review, an unbind stopped by a lock, or a real-name change.
#[utoipa::path(post, path = "/v1/accounts/{id}/reviews", tag = "support", request_body = reviews::ReviewBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 201, body = crate::views::ReviewView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn submit_review(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let principal = who.clone();
    let flow = |app: AppState, req: reviews::ReviewBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { reviews::submit(&app, &who, &id, req).await }
    };
    call.json(&app, &principal, flow).await
}

/// The account's reviews and their decisions, newest first.
#[utoipa::path(get, path = "/v1/accounts/{id}/reviews", tag = "support",
    params(super::list::ListQuery),
    responses((status = 200, body = crate::views::ReviewList), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn list_reviews(
    State(app): State<AppState>,
    _: AccountAuth,
    Path(id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<crate::views::ReviewList>> {
    reviews::list(&app, &id, &page).await.map(Json)
}

/// One review.
#[utoipa::path(get, path = "/v1/accounts/{id}/reviews/{rvid}", tag = "support",
    responses((status = 200, body = crate::views::ReviewView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn get_review(State(app): State<AppState>, _: AccountAuth, Path((id, rid)): Path<(String, String)>) -> ApiResult<Response> {
    ok(reviews::get(&app, &id, &rid).await)
}

/// Withdraw a review still waiting: it will not take effect. For a
/// lost-phone change or an identity unfreeze someone else sent, this is the
/// holder's way to stop it during its waiting period.
#[utoipa::path(post, path = "/v1/accounts/{id}/reviews/{rvid}/withdraw", tag = "support",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::ReviewView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn withdraw_review(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, rid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState| {
        let (who, id, rid) = (who.clone(), id.clone(), rid.clone());
        async move { reviews::withdraw(&app, &who, &id, &rid).await }
    };
    call.empty(&app, &who, flow).await
}

/// The operator behind this key: role and duties (what the console offers).
#[utoipa::path(get, path = "/v1/ops/me", tag = "ops",
    responses((status = 200, body = crate::views::OperatorView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_me(who: OpsAuth) -> axum::Json<crate::views::OperatorView> {
    let role = who.0.role;
    let duties = crate::auth::Duty::of(role).into_iter().map(|d| d.as_str().to_owned()).collect();
    axum::Json(crate::views::OperatorView {
        role: role.as_str().into(),
        duties,
        key_id: who.0.key_id.clone(),
        mode: who.0.mode.as_str().into(),
    })
}

/// Reviews for reviewers, oldest first (`?status=`, `submitted` by default).
#[utoipa::path(get, path = "/v1/ops/reviews", tag = "ops", params(reviews::ReviewFilter, super::list::ListQuery),
    responses((status = 200, body = crate::views::ReviewList), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_reviews(
    State(app): State<AppState>,
    who: OpsAuth,
    f: Result<Query<reviews::ReviewFilter>, QueryRejection>,
    Paging(page): Paging,
) -> ApiResult<Json<crate::views::ReviewList>> {
    reviews::ops_list(&app, &who, query(f)?, &page).await.map(Json)
}

/// Approve a review (risk): it takes effect at once, and the holder is told the reason.
#[utoipa::path(post, path = "/v1/ops/reviews/{rvid}/approve", tag = "ops", request_body = reviews::DecisionBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::ReviewView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_approve_review(State(app): State<AppState>, who: OpsAuth, Path(rid): Path<String>, call: Idempotent) -> ApiResult<Response> {
    let principal = who.0.clone();
    let flow = |app: AppState, req: reviews::DecisionBody| {
        let (who, rid) = (who.clone(), rid.clone());
        async move { reviews::decide(&app, &who, &rid, true, req).await }
    };
    call.json(&app, &principal, flow).await
}

/// Reject a review (risk), with the reason told to the holder.
#[utoipa::path(post, path = "/v1/ops/reviews/{rvid}/reject", tag = "ops", request_body = reviews::DecisionBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::ReviewView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_reject_review(State(app): State<AppState>, who: OpsAuth, Path(rid): Path<String>, call: Idempotent) -> ApiResult<Response> {
    let principal = who.0.clone();
    let flow = |app: AppState, req: reviews::DecisionBody| {
        let (who, rid) = (who.clone(), rid.clone());
        async move { reviews::decide(&app, &who, &rid, false, req).await }
    };
    call.json(&app, &principal, flow).await
}
