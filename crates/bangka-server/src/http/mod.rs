//! The HTTP edge: routes, handlers and the OpenAPI document. Handlers parse,
//! authenticate and hand over to [`crate::flows`]; they hold no SQL and no
//! business rules.

mod answer;
mod body;
pub mod conn;
mod doc;
mod envelope;
mod idempotent;
mod lifecycle;
mod list;
mod meta;
mod payments;
mod support;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::response::Response;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AccountAuth, WalletAuth};
use crate::error::ApiResult;
use crate::flows::{accounts, activation, bind};
use crate::state::AppState;
use answer::ok;
use idempotent::Idempotent;

pub use doc::ApiDoc;

/// Request bodies are small JSON documents.
pub const BODY_LIMIT: usize = 16 * 1024;

/// The routes and the API document come from one list: a route is added
/// with its handler's `#[utoipa::path]`, so it cannot exist undocumented.
fn routes(demo: bool, demo_clock: bool) -> OpenApiRouter<AppState> {
    let r = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(create_account))
        .routes(routes!(get_account))
        .routes(routes!(verify_kyc))
        .routes(routes!(set_payment_password))
        .routes(routes!(reset_payment_password))
        .routes(routes!(change_phone))
        .routes(routes!(verify_phone))
        .routes(routes!(create_binding, list_bindings))
        .routes(routes!(get_binding))
        .routes(routes!(resend_binding_otp))
        .routes(routes!(confirm_binding))
        .routes(routes!(test_authorization))
        .routes(routes!(start_activation))
        .routes(routes!(get_activation))
        .routes(routes!(confirm_activation))
        .routes(routes!(resend_activation_otp))
        .merge(payments::router())
        .merge(lifecycle::router())
        .merge(support::router())
        .merge(meta::router());
    if demo { r.merge(meta::demo_router(demo_clock)) } else { r }
}

pub fn router(app: AppState) -> Router {
    let (r, _) = routes(app.demo, app.demo_clock.is_some()).split_for_parts();
    // The document of every route, here above them (the routes' modules do
    // not refer back to this one).
    r.route("/openapi.json", axum::routing::get(openapi_json)).layer(DefaultBodyLimit::max(BODY_LIMIT)).with_state(app)
}

/// Create a wallet account for a phone number.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = accounts::NewAccountBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 201, body = crate::views::AccountView), (status = "4XX", body = envelope::ErrorEnvelope)),
    security(("bearer" = [])))]
async fn create_account(State(app): State<AppState>, WalletAuth(who): WalletAuth, call: Idempotent) -> ApiResult<Response> {
    let flow = |app: AppState, req: accounts::NewAccountBody| {
        let who = who.clone();
        async move { accounts::create(&app, &who, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Show an account (phone masked).
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts",
    responses((status = 200, body = crate::views::AccountView), (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn get_account(State(app): State<AppState>, _: AccountAuth, Path(id): Path<String>) -> ApiResult<Response> {
    ok(accounts::get(&app, &id).await)
}

/// Real-name verification (实名认证): name and resident ID number.
#[utoipa::path(post, path = "/v1/accounts/{id}/kyc", tag = "accounts", request_body = accounts::KycBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::AccountView), (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn verify_kyc(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: accounts::KycBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { accounts::verify_kyc(&app, &who, &id, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Set the payment password (6 digits), or change it with `current_password`.
#[utoipa::path(post, path = "/v1/accounts/{id}/payment-password", tag = "accounts", request_body = accounts::PaymentPasswordBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::AccountView), (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn set_payment_password(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: accounts::PaymentPasswordBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { accounts::set_payment_password(&app, &who, &id, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Finish the sign-up: verify the account phone with the SMS code sent when
/// the account was opened (without `otp`, a new code is sent, `202`).
#[utoipa::path(post, path = "/v1/accounts/{id}/phone/verify", tag = "accounts", request_body = Option<accounts::VerifyPhoneBody>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::AccountView), (status = 202, body = crate::views::AccountCodeSentView),
        (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn verify_phone(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let principal = who.clone();
    let flow = |app: AppState, req: accounts::VerifyPhoneBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { accounts::verify_phone(&app, &who, &id, req).await }
    };
    call.optional_json(&app, &principal, flow).await
}

/// Change the account phone: first with `new_phone` (codes go to the old and
/// the new phone, `202`; with the old phone lost, only to the new one, and
/// the change continues as a `phone_change` review), then with both codes.
#[utoipa::path(post, path = "/v1/accounts/{id}/phone", tag = "accounts", request_body = accounts::PhoneChangeBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::AccountView), (status = 202, body = crate::views::PhoneChangeStartedView),
        (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn change_phone(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let principal = who.clone();
    let flow = |app: AppState, req: accounts::PhoneChangeBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { accounts::change_phone(&app, &who, &id, req).await }
    };
    call.json(&app, &principal, flow).await
}

/// Reset a forgotten payment password: first with the real-name details on
/// record (an SMS code goes to the account's phone, `202`), then the same
/// with `otp` and `new_password`.
#[utoipa::path(post, path = "/v1/accounts/{id}/payment-password/reset", tag = "accounts", request_body = accounts::ResetPasswordBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::AccountView), (status = 202, body = crate::views::AccountCodeSentView),
        (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn reset_payment_password(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: accounts::ResetPasswordBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { accounts::reset_payment_password(&app, &who, &id, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Start binding a card: local checks, issuer checks, then an SMS code to the
/// reserved phone (`next_action`).
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings", tag = "bindings", request_body = bind::BindBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 202, body = crate::views::BindingView), (status = "4XX", body = envelope::ErrorEnvelope), (status = "5XX", body = envelope::ErrorEnvelope)),
    security(("bearer" = [])))]
async fn create_binding(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: bind::BindBody| {
        let (who, id) = (who.clone(), id.clone());
        async move { bind::start(&app, &who, &id, req).await }
    };
    call.json(&app, &who, flow).await
}

/// The account's bindings (abandoned attempts left out), newest first.
#[utoipa::path(get, path = "/v1/accounts/{id}/bindings", tag = "bindings",
    params(list::ListQuery),
    responses((status = 200, body = crate::views::BindingList), (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn list_bindings(
    State(app): State<AppState>,
    _: AccountAuth,
    Path(id): Path<String>,
    list::Paging(page): list::Paging,
) -> ApiResult<axum::Json<crate::views::BindingList>> {
    crate::flows::standing::load_account(&app, &id).await?;
    let page = app.store.binding_page(&id, &page).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for b in &page.items {
        data.push(bind::binding_view(&app, b).await?);
    }
    Ok(axum::Json(crate::views::BindingList { data, has_more: page.has_more }))
}

/// One binding.
#[utoipa::path(get, path = "/v1/accounts/{id}/bindings/{bid}", tag = "bindings",
    responses((status = 200, body = crate::views::BindingView), (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn get_binding(State(app): State<AppState>, _: AccountAuth, Path((id, bid)): Path<(String, String)>) -> ApiResult<Response> {
    let (b, token) = app.store.binding_with_token(&id, &bid).await?.ok_or(bangka_core::ErrorCode::NotFound)?;
    ok(Ok(crate::views::Answer::ok(bind::view_with(&app, &b, token.as_ref()).await?)))
}

/// Send a new code (after the cooldown): by SMS, or with `{"channel":"voice"}`
/// by a call that reads it out, when texts do not arrive.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/otp/resend", tag = "bindings", request_body = Option<bind::ResendBody>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::BindingView), (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn resend_binding_otp(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: bind::ResendBody| {
        let (id, bid) = (id.clone(), bid.clone());
        async move { bind::resend(&app, &id, &bid, req).await }
    };
    call.optional_json(&app, &who, flow).await
}

/// Send a new activation code (after the cooldown): by SMS, or with
/// `{"channel":"voice"}` by a call that reads it out, when texts do not arrive.
#[utoipa::path(post, path = "/v1/accounts/{id}/activations/{aid}/otp/resend", tag = "activations", request_body = Option<bind::ResendBody>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::ActivationView), (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn resend_activation_otp(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, aid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: bind::ResendBody| {
        let (id, aid) = (id.clone(), aid.clone());
        async move { activation::resend(&app, &id, &aid, req).await }
    };
    call.optional_json(&app, &who, flow).await
}

/// Confirm a binding with the SMS code: the binding becomes active and gets a token.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/confirm", tag = "bindings", request_body = bind::OtpBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::BindingView), (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn confirm_binding(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: bind::OtpBody| {
        let (who, id, bid) = (who.clone(), id.clone(), bid.clone());
        async move { bind::confirm(&app, &who, &id, &bid, req).await }
    };
    call.json(&app, &who, flow).await
}

/// Small test authorization (小额测试): 0.01 CNY authorized and voided at once;
/// answers whether the card can pay online and, if not, why.
#[utoipa::path(post, path = "/v1/accounts/{id}/bindings/{bid}/test-authorization", tag = "bindings",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::TestAuthorizationView), (status = "4XX", body = envelope::ErrorEnvelope), (status = "5XX", body = envelope::ErrorEnvelope)),
    security(("bearer" = [])))]
async fn test_authorization(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, bid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState| {
        let (id, bid) = (id.clone(), bid.clone());
        async move { bind::test_authorization(&app, &id, &bid).await }
    };
    call.empty(&app, &who, flow).await
}

/// Activate a not-yet-activated card through the wallet (SMS code to the reserved phone).
#[utoipa::path(post, path = "/v1/accounts/{id}/activations", tag = "activations", request_body = activation::ActivationBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 202, body = crate::views::ActivationView), (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn start_activation(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path(id): Path<String>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: activation::ActivationBody| {
        let id = id.clone();
        async move { activation::start(&app, &id, req).await }
    };
    call.json(&app, &who, flow).await
}

/// One activation.
#[utoipa::path(get, path = "/v1/accounts/{id}/activations/{aid}", tag = "activations",
    responses((status = 200, body = crate::views::ActivationView), (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn get_activation(State(app): State<AppState>, _: AccountAuth, Path((id, aid)): Path<(String, String)>) -> ApiResult<Response> {
    ok(activation::get(&app, &id, &aid).await)
}

/// Confirm an activation with the SMS code; the issuer activates the card.
#[utoipa::path(post, path = "/v1/accounts/{id}/activations/{aid}/confirm", tag = "activations", request_body = bind::OtpBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a repeated request")),
    responses((status = 200, body = crate::views::ActivationView), (status = "4XX", body = envelope::ErrorEnvelope)), security(("bearer" = [])))]
async fn confirm_activation(
    State(app): State<AppState>,
    AccountAuth(who): AccountAuth,
    Path((id, aid)): Path<(String, String)>,
    call: Idempotent,
) -> ApiResult<Response> {
    let flow = |app: AppState, req: bind::OtpBody| {
        let (who, id, aid) = (who.clone(), id.clone(), aid.clone());
        async move { activation::confirm(&app, &who, &id, &aid, &req.otp).await }
    };
    call.json(&app, &who, flow).await
}

/// The document is the same for the life of the process: built and
/// serialized once.
async fn openapi_json() -> Response {
    use axum::response::IntoResponse;
    static DOC: std::sync::LazyLock<axum::body::Bytes> =
        std::sync::LazyLock::new(|| serde_json::to_vec(&openapi()).expect("the API document serializes").into());
    ([(axum::http::header::CONTENT_TYPE, "application/json")], DOC.clone()).into_response()
}

/// The whole API as documented, demo operations included (they are tagged
/// `demo` and answer only in demo mode).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = routes(true, true).into_openapi();
    doc::describe_errors(&mut doc);
    doc::close_request_bodies(&mut doc);
    doc
}
