//! Routes for tokens, cryptograms, payments and the operations API.

use axum::Json;

use super::list::Paging;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::answer::ok;
use super::body::parse_json;
use super::envelope::ErrorEnvelope;
use super::idempotent::Idempotent;
use crate::auth::{AccountAuth, MerchantAuth, OpsAuth, PaymentsAuth};
use crate::error::ApiResult;
use crate::flows::{api_keys, maintenance, ops, payments, tokens};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_cryptogram))
        .routes(routes!(request_payment_otp))
        .routes(routes!(list_binding_payments))
        .routes(routes!(suspend_token))
        .routes(routes!(resume_token))
        .routes(routes!(create_payment))
        .routes(routes!(get_payment))
        .routes(routes!(capture_payment))
        .routes(routes!(refund_payment))
        .routes(routes!(void_payment))
        .routes(routes!(charge_mandate))
        .routes(routes!(detokenize))
        .routes(routes!(schedule_maintenance, list_maintenance))
        .routes(routes!(cancel_maintenance))
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
        .routes(routes!(rotate_key))
        .routes(routes!(ops_payment))
        .routes(routes!(ops_suspend_token))
        .routes(routes!(ops_resume_token))
}

/// A one-time cryptogram for one payment, after the holder confirms it with
/// the payment password or an SMS code (`…/cryptograms/otp` first).
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/cryptograms", tag = "payments", request_body = payments::CryptogramBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 201, body = crate::views::CryptogramView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn create_cryptogram(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: payments::CryptogramBody| {
        let (who, id, bid) = (who.clone(), id.clone(), bid.clone());
        async move { payments::cryptogram(&app, &who, &id, &bid, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Send an SMS code that confirms exactly this payment (amount and merchant named in the message).
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/cryptograms/otp", tag = "payments", request_body = payments::PaymentTerms,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 202, body = crate::views::CodeSentView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn request_payment_otp(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: payments::PaymentTerms| {
        let (who, id, bid) = (who.clone(), id.clone(), bid.clone());
        async move { payments::request_otp(&app, &who, &id, &bid, req).await }
    };
    call.json(&app, &who, flow).await
}

/// The card's payments (consumption records), newest first.
#[utoipa::path(get, path = "/v1/accounts/{id}/bindings/{bid}/payments", tag = "payments",
    params(super::list::ListQuery),
    responses((status = 200, body = crate::views::PaymentList), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn list_binding_payments(
    State(app): State<AppState>,
    _: AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    Paging(page): Paging,
) -> ApiResult<Json<crate::views::PaymentList>> {
    payments::list_for_binding(&app, &id, &bid, &page).await.map(Json)
}

/// Suspend the card's token (the holder's or the wallet's decision); it can
/// be resumed the same way.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/token/suspend", tag = "tokens", request_body = Option<tokens::SuspendBody>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::BindingView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn suspend_token(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: tokens::SuspendBody| {
        let (who, id, bid) = (who.clone(), id.clone(), bid.clone());
        async move { tokens::suspend(&app, &who, &id, &bid, req).await }
    };
    call.optional_json(&app, &who, flow).await
}

/// Resume a token the holder or wallet suspended. A suspension by the issuer
/// or risk control is refused here (`TOKEN_RESUME_NOT_ALLOWED`).
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/token/resume", tag = "tokens", request_body = Option<tokens::SuspendBody>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::BindingView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn resume_token(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: tokens::SuspendBody| {
        let (who, id, bid) = (who.clone(), id.clone(), bid.clone());
        async move { tokens::resume(&app, &who, &id, &bid, req).await }
    };
    call.optional_json(&app, &who, flow).await
}

/// Pay with a token and a one-time cryptogram (merchant side). The issuer
/// authorizes; capture and refund follow.
#[utoipa::path(post, path = "/v1/payments", tag = "payments", request_body = payments::PaymentBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 201, body = crate::views::PaymentView), (status = 202, description = "The bank has not confirmed yet (its answer was lost): `status` is `pending` and `confirmation` says when to look again; the holder is told when it resolves", body = crate::views::PaymentView), (status = "4XX", body = ErrorEnvelope), (status = "5XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn create_payment(State(app): State<AppState>, PaymentsAuth(who): PaymentsAuth, call: Idempotent) -> ApiResult<Response> {
    let flow = |app: AppState, req: payments::PaymentBody| {
        let who = who.clone();
        async move { payments::pay(&app, &who, req).await }
    };
    call.json(&app, &who, flow).await
}

/// One payment this caller made.
#[utoipa::path(get, path = "/v1/payments/{pid}", tag = "payments",
    responses((status = 200, body = crate::views::PaymentView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn get_payment(State(app): State<AppState>, PaymentsAuth(who): PaymentsAuth, Path(pid): Path<String>) -> ApiResult<Response> {
    ok(payments::get(&app, &who, &pid).await)
}

/// Capture an authorized payment: all of it, or `amount` fen of it (the rest of the hold is released).
#[utoipa::path(post, path = "/v1/payments/{pid}/capture", tag = "payments", request_body = Option<payments::AmountBody>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::PaymentView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn capture_payment(
    State(app): State<AppState>,
    PaymentsAuth(who): PaymentsAuth,
    Path(pid): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: payments::AmountBody| {
        let (who, pid) = (who.clone(), pid.clone());
        async move { payments::capture(&app, &who, &pid, req).await }
    };
    call.optional_json(&app, &who, flow).await
}

/// Release an authorized hold that will not be captured (a hold not captured
/// within 7 days is released by the payment job).
#[utoipa::path(post, path = "/v1/payments/{pid}/void", tag = "payments",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::PaymentView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn void_payment(
    State(app): State<AppState>,
    PaymentsAuth(who): PaymentsAuth,
    Path(pid): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState| {
        let (who, pid) = (who.clone(), pid.clone());
        async move { payments::void(&app, &who, &pid).await }
    };
    call.empty(&app, &who, flow).await
}

/// Charge an active autopay agreement (merchant key bound to the
/// agreement's merchant): within its per-charge limit, no holder step; the
/// holder is notified of every charge. The result is a payment like any other.
#[utoipa::path(post, path = "/v1/mandates/{mid}/charges", tag = "payments", request_body = payments::ChargeBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 201, body = crate::views::PaymentView), (status = 202, description = "The bank has not confirmed yet: `status` is `pending`, see `confirmation`", body = crate::views::PaymentView), (status = "4XX", body = ErrorEnvelope), (status = "5XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn charge_mandate(
    State(app): State<AppState>,
    MerchantAuth(who): MerchantAuth,
    Path(mid): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: payments::ChargeBody| {
        let (who, mid) = (who.clone(), mid.clone());
        async move { payments::charge(&app, &who, &mid, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Refund `amount` fen of a captured payment (several partial refunds allowed, never more than captured).
#[utoipa::path(post, path = "/v1/payments/{pid}/refund", tag = "payments", request_body = payments::AmountBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::PaymentView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn refund_payment(
    State(app): State<AppState>,
    PaymentsAuth(who): PaymentsAuth,
    Path(pid): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: payments::AmountBody| {
        let (who, pid) = (who.clone(), pid.clone());
        async move { payments::refund(&app, &who, &pid, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Ops (admin only): the full card number behind a token. The reason is
/// audited before the number is returned.
#[utoipa::path(post, path = "/v1/ops/detokenize", tag = "ops", request_body = ops::DetokenizeBody,
    responses((status = 200, body = crate::views::DetokenizedView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
// Not idempotent by key: its answer holds a card number, which must never
// rest in a stored answer; a repeat is a new, audited detokenization.
async fn detokenize(State(app): State<AppState>, who: OpsAuth, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    let req = parse_json(&headers, &body)?;
    ok(ops::detokenize(&app, &who, req).await)
}

/// Ops: a payment with the issuer's precise decline reason.
#[utoipa::path(get, path = "/v1/ops/payments/{pid}", tag = "ops",
    responses((status = 200, body = crate::views::PaymentView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_payment(State(app): State<AppState>, who: OpsAuth, Path(pid): Path<String>) -> ApiResult<Response> {
    ok(ops::payment(&app, &who, &pid).await)
}

/// Ops: suspend a token on behalf of the issuer or risk control (audited).
#[utoipa::path(post, path = "/v1/ops/tokens/{token_number}/suspend", tag = "ops", request_body = tokens::OpsTokenBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::TokenView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_suspend_token(
    State(app): State<AppState>,
    who: OpsAuth,
    Path(token_number): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: tokens::OpsTokenBody| {
        let (who, number) = (who.clone(), token_number.clone());
        async move { tokens::ops_change(&app, &who, &number, req, true).await }
    };
    call.json(&app, &who.0, flow).await
}

/// Ops: lift a suspension made on behalf of the issuer or risk control (audited).
#[utoipa::path(post, path = "/v1/ops/tokens/{token_number}/resume", tag = "ops", request_body = tokens::OpsTokenBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::TokenView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn ops_resume_token(
    State(app): State<AppState>,
    who: OpsAuth,
    Path(token_number): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: tokens::OpsTokenBody| {
        let (who, number) = (who.clone(), token_number.clone());
        async move { tokens::ops_change(&app, &who, &number, req, false).await }
    };
    call.json(&app, &who.0, flow).await
}

/// Schedule a maintenance window with its announcement, for one issuer or
/// the whole platform (admin). While it runs, requests that need the issuer
/// fail fast with `ISSUER_MAINTENANCE` and the window's end as `retry_after`.
#[utoipa::path(post, path = "/v1/ops/maintenance-windows", tag = "ops", request_body = maintenance::WindowBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 201, body = maintenance::WindowView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn schedule_maintenance(State(app): State<AppState>, who: OpsAuth, call: Idempotent) -> ApiResult<Response> {
    let p = who.0.clone();
    let flow = |app: AppState, req: maintenance::WindowBody| {
        let who = who.clone();
        async move { maintenance::schedule(&app, &who, req).await }
    };
    call.json(&app, &p, flow).await
}

/// Current and upcoming maintenance windows (any operator).
#[utoipa::path(get, path = "/v1/ops/maintenance-windows", tag = "ops",
    params(super::list::ListQuery),
    responses((status = 200, body = maintenance::WindowList), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn list_maintenance(State(app): State<AppState>, who: OpsAuth, Paging(page): Paging) -> ApiResult<Json<maintenance::WindowList>> {
    maintenance::list(&app, &who, &page).await.map(Json)
}

/// Cancel a maintenance window that has not ended (admin).
#[utoipa::path(post, path = "/v1/ops/maintenance-windows/{wid}/cancel", tag = "ops",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::CancelledView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn cancel_maintenance(State(app): State<AppState>, who: OpsAuth, Path(wid): Path<String>, call: Idempotent) -> ApiResult<Response> {
    let p = who.0.clone();
    let flow = |app: AppState| {
        let (who, wid) = (who.clone(), wid.clone());
        async move { maintenance::cancel(&app, &who, &wid).await }
    };
    call.empty(&app, &p, flow).await
}

/// The API keys of this admin key's mode, newest first (admin): name, role,
/// created, last used, expiry and revocation; never a key itself.
#[utoipa::path(get, path = "/v1/ops/keys", tag = "ops",
    params(super::list::ListQuery),
    responses((status = 200, body = api_keys::ApiKeyList), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn list_keys(State(app): State<AppState>, who: OpsAuth, Paging(page): Paging) -> ApiResult<Json<api_keys::ApiKeyList>> {
    api_keys::list(&app, &who, &page).await.map(Json)
}

/// Create an API key (admin), of this admin key's mode. The key is in this
/// answer only: a replay with the same `Idempotency-Key` leaves it out.
#[utoipa::path(post, path = "/v1/ops/keys", tag = "ops", request_body = api_keys::NewKeyBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request, without the key")),
    responses((status = 201, body = api_keys::NewApiKeyView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn create_key(State(app): State<AppState>, who: OpsAuth, call: Idempotent) -> ApiResult<Response> {
    let p = who.0.clone();
    let flow = |app: AppState, req: api_keys::NewKeyBody| {
        let who = who.clone();
        async move { api_keys::create(&app, &who, req).await }
    };
    call.json_shown_once(&app, &p, &["key"], flow).await
}

/// Revoke an API key (admin): every instance refuses it within a second.
#[utoipa::path(post, path = "/v1/ops/keys/{kid}/revoke", tag = "ops",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = api_keys::ApiKeyView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn revoke_key(State(app): State<AppState>, who: OpsAuth, Path(kid): Path<String>, call: Idempotent) -> ApiResult<Response> {
    let p = who.0.clone();
    let flow = |app: AppState| {
        let (who, kid) = (who.clone(), kid.clone());
        async move { api_keys::revoke(&app, &who, &kid).await }
    };
    call.empty(&app, &p, flow).await
}

/// Rotate an API key (admin): a new key in its place, both working until
/// the overlap ends (24 hours unless the body says). The new key is in this
/// answer only.
#[utoipa::path(post, path = "/v1/ops/keys/{kid}/rotate", tag = "ops", request_body = Option<api_keys::RotateBody>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request, without the key")),
    responses((status = 201, body = api_keys::NewApiKeyView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn rotate_key(State(app): State<AppState>, who: OpsAuth, Path(kid): Path<String>, call: Idempotent) -> ApiResult<Response> {
    let p = who.0.clone();
    let flow = |app: AppState, req: api_keys::RotateBody| {
        let (who, kid) = (who.clone(), kid.clone());
        async move { api_keys::rotate(&app, &who, &kid, req).await }
    };
    call.optional_json_shown_once(&app, &p, &["key"], flow).await
}
