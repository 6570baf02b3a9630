//! `Idempotency-Key` on state-changing POSTs.
//!
//! The first request with a key claims it in the store (a unique row), runs,
//! and stores its answer; a repeat with the same body gets that answer again
//! (in its own language, with its own request id); a repeat with another body
//! is refused. Concurrent duplicates wait for the first to finish and then
//! replay it, so twenty identical requests make one effect and twenty equal
//! answers.

use std::future::Future;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bangka_core::{ErrorCode, Failure};
use bangka_store::{IdemBegin, from_ms, to_ms};
use serde_json::{Value, json};
use time::Duration;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long a duplicate waits, by default, for the first request before
/// answering `IDEMPOTENCY_IN_PROGRESS`.
pub const WAIT_FOR_FIRST: std::time::Duration = std::time::Duration::from_secs(15);
/// A claim older than this with no answer belongs to a crashed request.
const STALE_CLAIM: Duration = Duration::seconds(60);

/// The key from the headers, validated (1–255 visible ASCII characters).
pub fn key_from(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    let s = v.to_str().map_err(|_| ErrorCode::IdempotencyKeyInvalid)?;
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ErrorCode::IdempotencyKeyInvalid.into());
    }
    Ok(Some(s.to_owned()))
}

/// Runs `f` at most once per (caller, key). `route` names the operation and
/// target (e.g. `POST /v1/accounts/acc_x/bindings`), so one key cannot be
/// replayed against another resource.
pub async fn run<F, Fut>(app: &AppState, who: &Principal, key: Option<String>, route: &str, body: &[u8], f: F) -> ApiResult<Response>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<(StatusCode, Value)>>,
{
    run_shown_once(app, who, key, route, body, &[], f).await
}

/// As [`run`], for an answer holding a secret shown once (a session
/// token): the stored answer has the `shown_once` top-level fields set to
/// null, so the secret never rests in the idempotency table. A repeat still
/// makes no second effect; it replays the answer without the secret.
pub async fn run_shown_once<F, Fut>(
    app: &AppState,
    who: &Principal,
    key: Option<String>,
    route: &str,
    body: &[u8],
    shown_once: &[&str],
    f: F,
) -> ApiResult<Response>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<(StatusCode, Value)>>,
{
    let Some(key) = key else {
        return f().await.map(|(s, v)| (s, axum::Json(v)).into_response());
    };
    // Keyed: a bind body holds a card number, which a plain hash would let
    // anyone with the database guess from the BIN and last four.
    let hash = request_hash(app, route, body);
    let scope = who.idempotency_scope();
    let scope = scope.as_str();
    let deadline = tokio::time::Instant::now() + app.idempotency_wait;
    loop {
        match app.store.idem_begin(scope, &key, &hash, app.clock.now(), STALE_CLAIM).await? {
            IdemBegin::Fresh => break,
            IdemBegin::Replay { status, response } => return replay(status, &response),
            IdemBegin::Mismatch => return Err(ErrorCode::IdempotencyKeyReused.into()),
            IdemBegin::InProgress if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            IdemBegin::InProgress => {
                return Err(Failure::new(ErrorCode::IdempotencyInProgress).retry_at(app.clock.now() + Duration::seconds(1)).into());
            }
        }
    }
    let outcome = f().await;
    let stored = match &outcome {
        Ok((status, v)) => {
            let mut kept = v.clone();
            for field in shown_once {
                if let Some(slot) = kept.get_mut(*field) {
                    *slot = Value::Null;
                }
            }
            Some((status.as_u16(), json!({ "ok": kept })))
        }
        Err(ApiError::Domain { failure, attempt_id }) => Some((
            failure.code.entry().http_status,
            json!({ "failure": {
                "code": failure.code.as_str(),
                "retry_after_ms": failure.retry_after.map(to_ms),
                "details": failure.details,
                "attempt_id": attempt_id,
            }}),
        )),
        // Our own failure: release the key so the caller can retry.
        Err(ApiError::Internal(_)) => None,
    };
    match stored {
        Some((status, v)) => app.store.idem_complete(scope, &key, status, &v.to_string()).await?,
        None => app.store.idem_release(scope, &key).await?,
    }
    outcome.map(|(s, v)| (s, axum::Json(v)).into_response())
}

/// The stored fingerprint of a request: route and body under the MAC key.
pub fn request_hash(app: &AppState, route: &str, body: &[u8]) -> String {
    app.vault.mac_bytes("idempotency", &[route.as_bytes(), body])
}

fn replay(status: u16, stored: &str) -> ApiResult<Response> {
    let v: Value = serde_json::from_str(stored).map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(f) = v.get("failure") {
        let code = f["code"].as_str().and_then(ErrorCode::parse).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("stored code")))?;
        let failure = Failure {
            code,
            retry_after: f["retry_after_ms"].as_i64().map(from_ms),
            details: Some(f["details"].clone()).filter(|d| !d.is_null()),
        };
        return Err(ApiError::Domain { failure, attempt_id: f["attempt_id"].as_str().map(str::to_owned) });
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut res = (status, axum::Json(v["ok"].clone())).into_response();
    res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(res)
}
