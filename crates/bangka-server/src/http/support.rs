//! Routes for the holder's side of support: sessions and devices (and, in
//! later parts of issue 6, tickets, diagnosis and review).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};

use super::meta::ErrorEnvelope;
use crate::auth::{AccountAuth, OpsAuth, WalletAuth};
use crate::error::ApiResult;
use crate::flows::{risk, sessions};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/accounts/{id}/sessions", post(open_session))
        .route("/v1/accounts/{id}/sessions/{sid}/end", post(end_session))
        .route("/v1/accounts/{id}/devices", get(list_devices))
        .route("/v1/accounts/{id}/devices/{did}/remove", post(remove_device))
        .route("/v1/ops/accounts/{id}/unlock", post(ops_unlock))
        .route("/v1/ops/accounts/{id}/risk", get(ops_risk))
}

/// Support lifts an account's risk locks (and those its attempts put on
/// cards, devices and IPs) after verifying the holder; audited with the reason.
#[utoipa::path(post, path = "/v1/ops/accounts/{id}/unlock", tag = "ops", request_body = risk::UnlockBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, description = "`released`: the scopes unlocked; `account`"), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn ops_unlock(
    State(app): State<AppState>,
    who: OpsAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    super::post_json(&app, &who.0, &headers, &body, &format!("POST /v1/ops/accounts/{id}/unlock"), |req| risk::unlock(&app, &who, &id, req))
        .await
}

/// The account's risk decisions, each with the rule that fired, and its lock.
#[utoipa::path(get, path = "/v1/ops/accounts/{id}/risk", tag = "ops",
    responses((status = 200, description = "`locked_until`, `decisions` [{rule, subject, outcome, count, attempt_id, locked_until, created_at}]"), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn ops_risk(State(app): State<AppState>, who: OpsAuth, Path(id): Path<String>) -> ApiResult<Response> {
    super::ok(risk::decisions(&app, &who, &id).await)
}

/// Open a holder session for the account (wallet key only): a bearer token
/// that acts on this account's `/v1/accounts/{id}/...` paths and nothing
/// else, for `--session-ttl` (15 minutes by default). A device the account
/// has not used before is announced to the holder by SMS, push and email.
#[utoipa::path(post, path = "/v1/accounts/{id}/sessions", tag = "sessions", request_body = sessions::SessionBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 201, description = "`token` (shown once), `session_id`, `expires_at`, `device` {device_id, new_device}"), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn open_session(
    State(app): State<AppState>,
    WalletAuth(who): WalletAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    super::post_json(&app, &who, &headers, &body, &format!("POST /v1/accounts/{id}/sessions"), |req| sessions::open(&app, &who, &id, req))
        .await
}

/// Sign out: end one of the account's sessions.
#[utoipa::path(post, path = "/v1/accounts/{id}/sessions/{sid}/end", tag = "sessions",
    responses((status = 200, description = "`ended`, and `already_ended` when it had ended before"), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn end_session(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, sid)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    super::post_empty(&app, &who, &headers, &format!("POST /v1/accounts/{id}/sessions/{sid}/end"), || sessions::end(&app, &id, &sid)).await
}

/// The devices the account has signed in on, most recent first (IP masked).
#[utoipa::path(get, path = "/v1/accounts/{id}/devices", tag = "sessions",
    responses((status = 200, description = "`device_id`, `name`, `last_ip_masked`, `first_seen_at`, `last_seen_at`"), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn list_devices(State(app): State<AppState>, _: AccountAuth, Path(id): Path<String>) -> ApiResult<Response> {
    super::ok(sessions::devices(&app, &id).await)
}

/// "That was not me": forget a device and end every session opened on it.
#[utoipa::path(post, path = "/v1/accounts/{id}/devices/{did}/remove", tag = "sessions",
    responses((status = 200, description = "`removed`, `sessions_ended`"), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn remove_device(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, did)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    super::post_empty(&app, &who, &headers, &format!("POST /v1/accounts/{id}/devices/{did}/remove"), || {
        sessions::remove_device(&app, &who, &id, &did)
    })
    .await
}
