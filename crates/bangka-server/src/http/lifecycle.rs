//! Routes for a bound card's lifecycle: freeze and unfreeze.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;

use super::body::{parse_json, parse_optional_json};
use super::meta::ErrorEnvelope;
use crate::auth::WalletAuth;
use crate::error::ApiResult;
use crate::flows::freeze;
use crate::idempotency;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/accounts/{id}/bindings/{bid}/freeze", post(freeze_binding))
        .route("/v1/accounts/{id}/bindings/{bid}/unfreeze", post(unfreeze_binding))
}

/// Freeze a card at once (no SMS code): its token is suspended and payments
/// stop. `card_lost` and `card_stolen` also report it to the bank.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/freeze", tag = "bindings", request_body = freeze::FreezeBody,
    responses((status = 200, body = crate::views::BindingView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn freeze_binding(
    State(app): State<AppState>,
    WalletAuth(who): WalletAuth,
    Path((id, bid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let key = idempotency::key_from(&headers)?;
    let req = parse_json(&headers, &body)?;
    idempotency::run(&app, &who, key, &format!("POST /v1/accounts/{id}/bindings/{bid}/freeze"), &body, || {
        freeze::freeze(&app, &who, &id, &bid, req)
    })
    .await
}

/// Unfreeze a card: first without `otp` (an SMS code is sent, `202`), then
/// with `otp` and, when one is set, `payment_password`.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/unfreeze", tag = "bindings", request_body = Option<freeze::UnfreezeBody>,
    responses((status = 200, body = crate::views::BindingView), (status = 202, description = "`next_action`: the SMS code was sent"), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn unfreeze_binding(
    State(app): State<AppState>,
    WalletAuth(who): WalletAuth,
    Path((id, bid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let key = idempotency::key_from(&headers)?;
    let req = parse_optional_json(&headers, &body)?;
    idempotency::run(&app, &who, key, &format!("POST /v1/accounts/{id}/bindings/{bid}/unfreeze"), &body, || {
        freeze::unfreeze(&app, &who, &id, &bid, req)
    })
    .await
}
