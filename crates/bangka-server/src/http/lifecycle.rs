//! Routes for a bound card's lifecycle (freeze, unbind, delete, mandates,
//! funds in transit, receipts) and the account's own freeze.

use axum::Json;

use super::list::Paging;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::answer::ok;
use super::envelope::ErrorEnvelope;
use super::idempotent::Idempotent;
use crate::auth::AccountAuth;
use crate::error::ApiResult;
use crate::flows::{freeze, mandates, settlements, unbind};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(freeze_binding))
        .routes(routes!(unfreeze_binding))
        .routes(routes!(list_receipts))
        .routes(routes!(binding_evidence))
        .routes(routes!(get_receipt))
        .routes(routes!(receipt_public_key))
        .routes(routes!(request_unbind))
        .routes(routes!(confirm_unbind))
        .routes(routes!(revoke_unbind))
        .routes(routes!(request_delete))
        .routes(routes!(confirm_delete))
        .routes(routes!(create_mandate, list_mandates))
        .routes(routes!(get_mandate))
        .routes(routes!(cancel_mandate))
        .routes(routes!(freeze_account))
        .routes(routes!(unfreeze_account))
        .routes(routes!(report_withdrawal))
        .routes(routes!(list_settlements))
}

/// Set up an autopay agreement (自动扣款 / 免密支付) on a bound card, confirmed
/// with the payment password. It is `active` only once the bank confirmed the
/// card can be charged; otherwise it is `failed` with the bank's reason.
#[utoipa::path(post, path = "/v1/accounts/{id}/mandates", tag = "mandates", request_body = mandates::MandateBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 201, body = mandates::MandateView), (status = "4XX", body = ErrorEnvelope), (status = "5XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn create_mandate(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: mandates::MandateBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { mandates::create(&app, &who, &id, req).await }
    };
    call.json(&app, &who, flow).await
}

/// The account's autopay agreements, newest first.
#[utoipa::path(get, path = "/v1/accounts/{id}/mandates", tag = "mandates",
    params(super::list::ListQuery),
    responses((status = 200, body = mandates::MandateList), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn list_mandates(
    State(app): State<AppState>,
    _: AccountAuth,
    Path(id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<mandates::MandateList>> {
    mandates::list(&app, &id, &page).await.map(Json)
}

/// One autopay agreement.
#[utoipa::path(get, path = "/v1/accounts/{id}/mandates/{mid}", tag = "mandates",
    responses((status = 200, body = mandates::MandateView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn get_mandate(State(app): State<AppState>, _: AccountAuth, Path((id, mid)): Path<(String, String)>) -> ApiResult<Response> {
    ok(mandates::get(&app, &id, &mid).await)
}

/// Cancel an autopay agreement at once (no code needed to stop charges).
#[utoipa::path(post, path = "/v1/accounts/{id}/mandates/{mid}/cancel", tag = "mandates",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = mandates::MandateView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn cancel_mandate(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, mid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState| {
        let (who, id, mid) = (who.clone(), id.clone(), mid.clone());
        async move { mandates::cancel(&app, &who, &id, &mid).await }
    };
    call.empty(&app, &who, flow).await
}

/// The account's receipts, newest first: each a self-contained signed JSON
/// document (`receipt` and its Ed25519 `signature`), verifiable offline with
/// `bangka receipt verify FILE --public-key …`.
#[utoipa::path(get, path = "/v1/accounts/{id}/receipts", tag = "receipts",
    params(super::list::ListQuery),
    responses((status = 200, body = crate::views::ReceiptList), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn list_receipts(
    State(app): State<AppState>,
    _: AccountAuth,
    Path(id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<crate::views::ReceiptList>> {
    crate::flows::standing::load_account(&app, &id).await?;
    let page = app.store.receipt_page(&id, &page).await?;
    Ok(Json(crate::views::ReceiptList { data: page.items, has_more: page.has_more }))
}

/// The holder's evidence for one card, for a complaint: the card as it is,
/// its receipts, what was recorded about it (no key or session ids, no
/// operators' notes) and the lines to complain to, as one document signed
/// with the receipt key; `bangka receipt verify FILE` checks it offline.
#[utoipa::path(get, path = "/v1/accounts/{id}/bindings/{bid}/evidence", tag = "receipts",
    responses((status = 200, description = "A signed evidence bundle (`receipt.operation` is `card_evidence`)", body = crate::views::SignedDocumentView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn binding_evidence(State(app): State<AppState>, _: AccountAuth, Path((id, bid)): Path<(String, String)>) -> ApiResult<Response> {
    let doc = crate::flows::evidence::for_binding(&app, &id, &bid).await?;
    let disposition = format!("attachment; filename=\"evidence-{bid}.json\"");
    Ok(([(axum::http::header::CONTENT_DISPOSITION, disposition)], axum::Json(doc)).into_response())
}

/// One receipt, to download and keep.
#[utoipa::path(get, path = "/v1/accounts/{id}/receipts/{rid}", tag = "receipts",
    responses((status = 200, body = crate::views::SignedDocumentView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn get_receipt(State(app): State<AppState>, _: AccountAuth, Path((id, rid)): Path<(String, String)>) -> ApiResult<Response> {
    let doc = app.store.receipt(&id, &rid).await?.ok_or(bangka_core::ErrorCode::NotFound)?;
    let disposition = format!("attachment; filename=\"{rid}.json\"");
    Ok(([(axum::http::header::CONTENT_DISPOSITION, disposition)], axum::Json(doc)).into_response())
}

/// The public key receipts are signed with (Ed25519, hex).
#[utoipa::path(get, path = "/v1/receipts/public-key", tag = "receipts", responses((status = 200, body = crate::views::PublicKeyView), (status = "4XX", body = ErrorEnvelope)))]
async fn receipt_public_key(State(app): State<AppState>) -> Response {
    axum::Json(crate::views::PublicKeyView { alg: "Ed25519".into(), key_id: app.signer.key_id(), public_key: app.signer.public_key_hex() })
        .into_response()
}

/// Freeze the whole account at once (no SMS code): no card pays, binds or
/// unbinds until it is unfrozen.
#[utoipa::path(post, path = "/v1/accounts/{id}/freeze", tag = "accounts", request_body = freeze::AccountFreezeBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::AccountView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn freeze_account(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: freeze::AccountFreezeBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { freeze::freeze_account(&app, &who, &id, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Unfreeze the account: first without `otp` (an SMS code is sent to the
/// account's phone, `202`), then with `otp` and, when one is set,
/// `payment_password`.
#[utoipa::path(post, path = "/v1/accounts/{id}/unfreeze", tag = "accounts", request_body = Option<freeze::UnfreezeBody>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::AccountView), (status = 202, body = crate::views::UnfreezeCodeSentView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn unfreeze_account(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: freeze::UnfreezeBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { freeze::unfreeze_account(&app, &who, &id, req).await }
    };
    call.optional_json(&app, &who, flow).await
}

/// Report wallet balance withdrawn to this card and when the bank expects
/// it there: until then the card cannot be unbound.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/settlements", tag = "bindings", request_body = settlements::WithdrawalBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 201, body = settlements::SettlementView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn report_withdrawal(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: settlements::WithdrawalBody| {
        let (who, id, bid) = (who.clone(), id.clone(), bid.clone());
        async move { settlements::report_withdrawal(&app, &who, &id, &bid, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Funds on their way to the account's cards (refunds, withdrawals), newest first.
#[utoipa::path(get, path = "/v1/accounts/{id}/settlements", tag = "accounts",
    params(super::list::ListQuery),
    responses((status = 200, body = settlements::SettlementList), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn list_settlements(
    State(app): State<AppState>,
    _: AccountAuth,
    Path(id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<settlements::SettlementList>> {
    settlements::list(&app, &id, &page).await.map(Json)
}

/// Freeze a card at once (no SMS code): its token is suspended and payments
/// stop. `card_lost` and `card_stolen` also report it to the bank.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/freeze", tag = "bindings", request_body = freeze::FreezeBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::BindingView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn freeze_binding(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: freeze::FreezeBody| {
        let (who, id, bid) = (who.clone(), id.clone(), bid.clone());
        async move { freeze::freeze(&app, &who, &id, &bid, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Unfreeze a card: first without `otp` (an SMS code is sent, `202`), then
/// with `otp` and, when one is set, `payment_password`.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/unfreeze", tag = "bindings", request_body = Option<freeze::UnfreezeBody>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::BindingView), (status = 202, body = crate::views::UnfreezeCodeSentView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn unfreeze_binding(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: freeze::UnfreezeBody| {
        let (who, id, bid) = (who.clone(), id.clone(), bid.clone());
        async move { freeze::unfreeze(&app, &who, &id, &bid, req).await }
    };
    call.optional_json(&app, &who, flow).await
}

/// Unbind a card: every blocker is answered at once (`409 UNBIND_BLOCKED`);
/// otherwise `202` with `next_action` (an SMS code) and the `verification`
/// asked for confirm. `cancel_mandates` cancels the card's autopay
/// agreements with it; `delete` destroys the card's data when it completes.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/unbind", tag = "bindings", request_body = Option<unbind::UnbindBody>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 202, body = crate::views::UnbindRequestedView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn request_unbind(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: unbind::UnbindBody| {
        let (who, id, bid) = (who.clone(), id.clone(), bid.clone());
        async move { unbind::request(&app, &who, &id, &bid, req).await }
    };
    call.optional_json(&app, &who, flow).await
}

/// Confirm an unbind with the SMS code (and the payment password when asked):
/// the card stops paying at once and the cooling-off starts.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/unbind/confirm", tag = "bindings", request_body = unbind::UnbindConfirmBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 202, body = crate::views::BindingView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn confirm_unbind(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: unbind::UnbindConfirmBody| {
        let (who, id, bid) = (who.clone(), id.clone(), bid.clone());
        async move { unbind::confirm(&app, &who, &id, &bid, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Revoke an unbind during its cooling-off: the card is bound and pays again.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/unbind/revoke", tag = "bindings",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::BindingView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn revoke_unbind(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState| {
        let (who, id, bid) = (who.clone(), id.clone(), bid.clone());
        async move { unbind::revoke(&app, &who, &id, &bid).await }
    };
    call.empty(&app, &who, flow).await
}

/// Delete an unbound card: sends an SMS code; confirm with it and the payment
/// password. A card not yet unbound is refused (`DELETE_REQUIRES_UNBIND`:
/// unbind with `delete: true` instead).
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/delete", tag = "bindings",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 202, body = crate::views::DeleteRequestedView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn request_delete(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState| {
        let (id, bid) = (id.clone(), bid.clone());
        async move { unbind::request_delete(&app, &id, &bid).await }
    };
    call.empty(&app, &who, flow).await
}

/// Confirm a delete with the SMS code and the payment password: the card's
/// data key is destroyed (crypto-shredding); only masked facts remain.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/delete/confirm", tag = "bindings", request_body = unbind::DeleteConfirmBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::BindingView), (status = "4XX", body = ErrorEnvelope)), security(("bearer" = [])))]
async fn confirm_delete(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: unbind::DeleteConfirmBody| {
        let (who, id, bid) = (who.clone(), id.clone(), bid.clone());
        async move { unbind::confirm_delete(&app, &who, &id, &bid, req).await }
    };
    call.json(&app, &who, flow).await
}
