//! Public endpoints: supported issuers, the error catalog and its help pages,
//! health, the OpenAPI document, and (demo mode) test cards and the phone inbox.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use bangka_core::ErrorCode;
use bangka_core::bin::{BIN_TABLE, ISSUERS};
use bangka_core::catalog::{self, Lang, PREPARE_FOR_SUPPORT};
use bangka_core::holder::{Email, Phone};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::auth::Role;
use crate::error::{ApiResult, rfc3339};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/issuers", get(issuers))
        .route("/v1/errors", get(errors))
        .route("/help/errors/{code}", get(help_page))
        .route("/v1/status", get(service_status))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi_json))
}

pub fn demo_router() -> Router<AppState> {
    Router::new()
        .route("/v1/demo/cards", get(demo_cards))
        .route("/v1/demo/cards/{scenario}/bank-state", axum::routing::post(demo_bank_state))
        .route("/v1/demo/inbox/{recipient}", get(demo_inbox))
        .route("/v1/demo/population", get(demo_population))
        .route("/v1/demo/keys", axum::routing::post(demo_key))
}

/// The error envelope every failure is sent in.
#[derive(Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable code, e.g. `CARD_NOT_ACTIVATED`; see `GET /v1/errors`.
    pub code: String,
    /// `input`, `account`, `card`, `issuer`, `policy`, `risk` or `system`.
    pub category: String,
    /// For the holder, in the language of `Accept-Language` (zh-CN default, en).
    pub message: String,
    /// Ordered next steps.
    pub remediation: Vec<String>,
    /// The same steps, each with how it is carried out.
    pub steps: Vec<StepBody>,
    /// RFC 3339 time when waiting is the remedy.
    pub retry_after: Option<String>,
    /// `holder`, `bank` or `wallet`.
    pub fix_by: String,
    pub ticket_advised: bool,
    pub request_id: String,
    /// The recorded attempt, for diagnosis and support.
    pub attempt_id: Option<String>,
    /// Self-service help page for this code.
    pub doc_url: String,
    pub lang: String,
    /// Facts specific to this failure (e.g. the existing binding, the cards counted against the limit).
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
    pub prepare_for_support: Option<Vec<String>>,
}

/// One remediation step: its words and its action.
#[derive(Serialize, ToSchema)]
pub struct StepBody {
    /// The step in the holder's language.
    pub text: String,
    pub action: StepAction,
}

/// How a step is carried out. `kind` is `api` (a Bangka operation: `operation`,
/// `method` and `path`, with `{id}`, `{bid}`, `{mid}`, `{number}`, `{pid}` to fill
/// in), `correct_and_resend` (fix what was typed or sent and send the request
/// again), `retry` (send it again, after `retry_after` when given), `outside`
/// (`by`: `bank`, `carrier`, `wallet`, `integrator`, `administrator` or `merchant`)
/// or `advice` (nothing to send).
#[derive(Serialize, ToSchema)]
pub struct StepAction {
    pub kind: String,
    pub operation: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub by: Option<String>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Bangka", description = "Card binding for digital wallets: bind, activate and manage bank cards; every failure explains itself."),
    paths(
        super::create_account, super::get_account, super::verify_kyc, super::set_payment_password, super::reset_payment_password, super::change_phone, super::verify_phone,
        super::create_binding, super::list_bindings, super::get_binding, super::resend_binding_otp, super::confirm_binding, super::test_authorization,
        super::start_activation, super::get_activation, super::confirm_activation,
        super::payments::create_cryptogram, super::payments::request_payment_otp, super::payments::list_binding_payments,
        super::payments::suspend_token, super::payments::resume_token,
        super::lifecycle::freeze_binding, super::lifecycle::unfreeze_binding,
        super::lifecycle::request_unbind, super::lifecycle::confirm_unbind, super::lifecycle::revoke_unbind,
        super::lifecycle::request_delete, super::lifecycle::confirm_delete,
        super::lifecycle::list_receipts, super::lifecycle::get_receipt, super::lifecycle::receipt_public_key, super::lifecycle::binding_evidence,
        super::lifecycle::create_mandate, super::lifecycle::list_mandates, super::lifecycle::get_mandate, super::lifecycle::cancel_mandate,
        super::lifecycle::freeze_account, super::lifecycle::unfreeze_account, super::lifecycle::report_withdrawal, super::lifecycle::list_settlements,
        super::payments::void_payment, super::payments::charge_mandate,
        super::payments::schedule_maintenance, super::payments::list_maintenance, super::payments::cancel_maintenance,
        super::support::open_session, super::support::end_session, super::support::list_devices, super::support::remove_device,
        super::support::ops_unlock, super::support::ops_risk, super::support::ops_attempts,
        super::support::diagnose, super::support::open_ticket, super::support::list_tickets, super::support::get_ticket, super::support::escalate_ticket,
        super::support::ops_tickets, super::support::ops_ticket, super::support::ops_comment, super::support::ops_ticket_unlock,
        super::support::ops_resolve, super::support::ops_close, super::support::ops_evidence, metrics,
        super::support::submit_review, super::support::list_reviews, super::support::get_review,
        super::support::ops_reviews, super::support::ops_approve_review, super::support::ops_reject_review,
        service_status,
        super::payments::create_payment, super::payments::get_payment, super::payments::capture_payment, super::payments::refund_payment,
        super::payments::detokenize, super::payments::ops_payment, super::payments::ops_suspend_token, super::payments::ops_resume_token,
        issuers, errors, help_page, healthz, readyz, demo_cards, demo_inbox, demo_bank_state, demo_population, demo_key,
    ),
    components(schemas(ErrorEnvelope, ErrorBody)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// Is it just me? Current and upcoming maintenance windows with their
/// announcements, and per issuer whether it is in maintenance and its bind
/// failure rate over the last 15 minutes. Public.
#[utoipa::path(get, path = "/v1/status", tag = "meta", responses((status = 200, description = "Maintenance windows and per-issuer bind outcomes")))]
async fn service_status(State(app): State<AppState>) -> ApiResult<Response> {
    super::ok(crate::flows::maintenance::status(&app).await)
}

/// The banks and card types this wallet accepts, with maintenance state.
#[utoipa::path(get, path = "/v1/issuers", tag = "meta", responses((status = 200, description = "Issuers, accepted card types, maintenance windows")))]
async fn issuers(State(app): State<AppState>) -> Json {
    let now = app.clock.now();
    let windows = app.issuer.maintenance_windows().await;
    let list: Vec<Value> = ISSUERS
        .iter()
        .map(|i| {
            let accepted: Vec<&str> = app.policy.accepted_types(i.id).unwrap_or(&[]).iter().map(|t| t.as_str()).collect();
            let mine: Vec<&bangka_issuer::MaintenanceWindow> = windows.iter().filter(|w| w.issuer == i.id).collect();
            let current = mine.iter().find(|w| w.is_active(now));
            json!({
                "id": i.id,
                "name": i.name,
                "region": i.region,
                "supported": !accepted.is_empty() && app.policy.regions.contains(&i.region),
                "accepted_card_types": accepted,
                "bins": BIN_TABLE.iter().filter(|r| r.issuer == i.id).map(|r| json!({"prefix": r.prefix, "type": r.card_type, "brand": r.brand, "length": r.length})).collect::<Vec<_>>(),
                "in_maintenance": current.is_some(),
                "maintenance_ends_at": current.map(|w| rfc3339(w.ends_at)),
                "maintenance_windows": mine.iter().map(|w| json!({"starts_at": rfc3339(w.starts_at), "ends_at": rfc3339(w.ends_at)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(json!({ "binding_limit": app.policy.binding_limit, "accepted_regions": app.policy.regions, "issuers": list }))
}

struct Json(Value);

impl IntoResponse for Json {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

pub fn catalog_json() -> Value {
    json!({ "errors": catalog::entries().map(|e| json!({
        "code": e.code,
        "category": e.category,
        "http_status": e.http_status,
        "fix_by": e.fix_by,
        "ticket_advised": e.ticket_advised,
        "retry": e.retry,
        "message": e.message,
        "cause": e.cause,
        "remediation": e.remediation,
        "doc_url": format!("/help/errors/{}", e.code.as_str()),
    })).collect::<Vec<_>>() })
}

/// The whole error catalog, both languages.
#[utoipa::path(get, path = "/v1/errors", tag = "meta", responses((status = 200, description = "Every error code with zh-CN and en texts")))]
async fn errors() -> Json {
    Json(catalog_json())
}

/// Self-service help for one error code (HTML): cause, steps, what to prepare for support.
#[utoipa::path(get, path = "/help/errors/{code}", tag = "meta", responses((status = 200, description = "HTML help page"), (status = 404, body = ErrorEnvelope)))]
async fn help_page(Path(code): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    let code = ErrorCode::parse(&code).ok_or(ErrorCode::NotFound)?;
    let lang = Lang::from_accept_language(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let e = code.entry();
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let section = |l: Lang| {
        let steps: String = e.remediation.iter().map(|t| format!("<li>{}</li>", esc(t.get(l)))).collect();
        let prep: String = PREPARE_FOR_SUPPORT.iter().map(|t| format!("<li>{}</li>", esc(t.get(l)))).collect();
        let (h_cause, h_steps, h_prep) = match l {
            Lang::Zh => ("原因", "您可以这样做", "联系客服前请准备"),
            Lang::En => ("Why this happens", "What you can do", "What to prepare for support"),
        };
        format!(
            "<section lang=\"{tag}\"><h2>{msg}</h2><h3>{h_cause}</h3><p>{cause}</p><h3>{h_steps}</h3><ol>{steps}</ol><h3>{h_prep}</h3><ul>{prep}</ul></section>",
            tag = l.tag(),
            msg = esc(e.message.get(l)),
            cause = esc(e.cause.get(l)),
        )
    };
    let other = if lang == Lang::Zh { Lang::En } else { Lang::Zh };
    let html = format!(
        "<!doctype html><html lang=\"{tag}\"><head><meta charset=\"utf-8\"><title>{code} · Bangka</title></head><body><h1><code>{code}</code></h1><p>HTTP {status} · {category:?} · fix by {fix:?}</p>{first}<hr>{second}</body></html>",
        tag = lang.tag(),
        code = e.code.as_str(),
        status = e.http_status,
        category = e.category,
        fix = e.fix_by,
        first = section(lang),
        second = section(other),
    );
    Ok(Html(html).into_response())
}

/// Prometheus metrics (text format): attempts by kind, issuer and outcome,
/// SMS codes sent, risk locks, tickets by status, SLA breaches, request
/// latency. Scrape it from inside your network.
#[utoipa::path(get, path = "/metrics", tag = "meta", responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
async fn metrics(State(app): State<AppState>) -> ApiResult<Response> {
    use axum::response::IntoResponse;
    let tickets = app.store.tickets_by_status().await?;
    let overdue = app.store.overdue_ticket_count(app.clock.now()).await?;
    let text = crate::metrics::render(&tickets, overdue);
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "alive")))]
async fn healthz() -> Json {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "meta", responses((status = 200, description = "ready"), (status = 503, description = "database unreachable")))]
async fn readyz(State(app): State<AppState>) -> Response {
    if app.store.ping().await {
        axum::Json(json!({ "status": "ready" })).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({ "status": "not_ready", "database": "unreachable" }))).into_response()
    }
}

async fn openapi_json() -> Json {
    Json(serde_json::to_value(super::openapi()).unwrap_or(Value::Null))
}

/// `GET /v1/demo/population?offset=K&limit=L`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PopulationQuery {
    /// The first card (0-based; a population has at most 100 million).
    #[param(maximum = 100_000_000)]
    pub offset: Option<u32>,
    /// How many (at most 1000; 100 by default).
    #[param(maximum = 1000)]
    pub limit: Option<u32>,
}

/// Demo: the load population (`bangka serve --demo-population N`): N good
/// cards, each with its own holder and reserved phone, in the
/// `/v1/demo/cards` format; `X-Total-Count` says how many there are.
#[utoipa::path(get, path = "/v1/demo/population", tag = "demo", params(PopulationQuery),
    responses((status = 200, description = "Population cards"), (status = "4XX", body = ErrorEnvelope)))]
async fn demo_population(State(app): State<AppState>, query: Result<Query<PopulationQuery>, QueryRejection>) -> ApiResult<Response> {
    let Query(q) = query.map_err(|_| crate::error::malformed("offset", "whole numbers: offset, and limit up to 1000"))?;
    let limit = q.limit.unwrap_or(100);
    if limit > 1000 {
        return Err(crate::error::malformed("limit", "at most 1000").into());
    }
    if u64::from(q.offset.unwrap_or(0)) > bangka_issuer::Population::MAX {
        return Err(crate::error::malformed("offset", "at most 100000000").into());
    }
    let sim = app.simulator.as_ref().ok_or(ErrorCode::NotFound)?;
    let cards = sim.population().page(u64::from(q.offset.unwrap_or(0)), u64::from(limit));
    let mut res = axum::Json(cards).into_response();
    res.headers_mut().insert("x-total-count", sim.population().len().into());
    Ok(res)
}

/// `POST /v1/demo/keys`.
#[derive(serde::Deserialize, ToSchema, Default)]
pub struct DemoKeyBody {
    /// `wallet` (default) or `merchant`.
    pub role: Option<String>,
    /// For a merchant key: the merchant it speaks for.
    pub merchant_id: Option<String>,
}

/// Demo: a fresh API key for trying the service (a wallet key, or a
/// merchant key), as `bangka keys create` makes one; shown once. Operator
/// roles are never handed out here.
#[utoipa::path(post, path = "/v1/demo/keys", tag = "demo", request_body = Option<DemoKeyBody>,
    responses((status = 201, description = "`{role, key}`; the key is shown once"), (status = "4XX", body = ErrorEnvelope)))]
async fn demo_key(State(app): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> ApiResult<Response> {
    let req: DemoKeyBody = super::body::parse_optional_json(&headers, &body)?;
    let role = match req.role.as_deref().unwrap_or("wallet") {
        "wallet" => Role::Wallet,
        "merchant" => Role::Merchant,
        _ => return Err(crate::error::malformed("role", "wallet or merchant").into()),
    };
    let merchant = req.merchant_id.as_deref().map(bangka_core::payment::MerchantId::parse).transpose()?;
    let key = crate::auth::generate_key(role);
    let hash = crate::auth::hash_key(&key);
    app.store.insert_api_key(role.as_str(), &hash, merchant.as_ref().map(|m| m.as_str()), app.clock.now()).await?;
    tracing::warn!(role = role.as_str(), "demo: API key handed out");
    Ok((StatusCode::CREATED, axum::Json(json!({ "role": role.as_str(), "key": key }))).into_response())
}

/// Demo: the simulator's test cards (one per scenario) as a person types them.
#[utoipa::path(get, path = "/v1/demo/cards", tag = "demo", responses((status = 200, description = "Test cards with the code each is expected to end in")))]
async fn demo_cards(State(app): State<AppState>) -> Json {
    let cards = app.simulator.as_ref().map(|s| s.test_cards().to_vec()).unwrap_or_default();
    let mut v = serde_json::to_value(cards).unwrap_or(Value::Null);
    // What a bind answers: a fraud-sensitive cause in its safe form, the
    // bank's own code beside it (docs/safe-messages.md).
    for card in v.as_array_mut().into_iter().flatten() {
        if let Some(code) = card["expect_code"].as_str().and_then(bangka_core::ErrorCode::parse)
            && code.for_new_card() != code
        {
            card["bank_code"] = json!(code.as_str());
            card["expect_code"] = json!(code.for_new_card().as_str());
        }
    }
    Json(v)
}

/// Demo: the messages a phone number received by SMS (codes readable), or
/// an account id by push, or an email address by email; newest first.
#[utoipa::path(get, path = "/v1/demo/inbox/{recipient}", tag = "demo", responses((status = 200, description = "Messages"), (status = "4XX", body = ErrorEnvelope)))]
async fn demo_inbox(State(app): State<AppState>, Path(recipient): Path<String>) -> ApiResult<Response> {
    let recipient =
        if recipient.starts_with("acc_") && recipient.len() <= 40 && recipient.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            recipient
        } else if recipient.contains('@') {
            Email::parse(&recipient)?.as_str().to_owned()
        } else {
            Phone::parse(&recipient)?.as_str().to_owned()
        };
    crate::flows::outbox::deliver_all_due(&app).await;
    let messages = app.store.inbox(&recipient).await?;
    Ok(axum::Json(json!({ "recipient": recipient, "phone": recipient, "messages": messages })).into_response())
}

/// Demo (`bangka serve --demo-clock`): how far to move the service's clock.
#[derive(serde::Deserialize)]
pub struct ClockAdvanceBody {
    /// `90s`, `30m`, `24h`, `7d`.
    pub by: String,
}

/// Demo (`bangka serve --demo-clock` only; not in the OpenAPI document):
/// moves the service's clock forward, never back. The background jobs see
/// the new time on their next tick (within a second).
pub async fn demo_clock_advance(
    State(app): State<AppState>,
    _: crate::auth::WalletAuth,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: ClockAdvanceBody = super::body::parse_json(&headers, &body)?;
    let by = crate::parse_duration(&req.by).map_err(|problem| {
        bangka_core::Failure::new(ErrorCode::MalformedRequest).with_details(json!({ "field": "by", "problem": problem }))
    })?;
    let clock = app.demo_clock.as_ref().ok_or(ErrorCode::NotFound)?;
    clock.advance(by);
    tracing::warn!(by = %req.by, "demo clock advanced");
    Ok(axum::Json(json!({ "now": rfc3339(app.clock.now()), "offset_seconds": clock.offset().whole_seconds() })).into_response())
}

/// Demo: what the simulated bank thinks of a test card.
#[derive(serde::Deserialize, ToSchema)]
pub struct BankStateBody {
    /// `normal`, `frozen`, `lost`, `expired`, `closed` or `not_activated`.
    #[schema(value_type = String)]
    pub state: bangka_issuer::BankState,
    /// `false`: the bank stops answering for this card (`ISSUER_UNAVAILABLE`).
    pub answering: Option<bool>,
}

/// Demo: change a test card's state at the simulated bank — e.g. the bank
/// freezes a card after it was bound — so payment refusals can be tried by hand.
#[utoipa::path(post, path = "/v1/demo/cards/{scenario}/bank-state", tag = "demo", request_body = BankStateBody,
    responses((status = 200, description = "The new state"), (status = "4XX", body = ErrorEnvelope)))]
async fn demo_bank_state(
    State(app): State<AppState>,
    Path(scenario): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: BankStateBody = super::body::parse_json(&headers, &body)?;
    let sim = app.simulator.as_ref().ok_or(ErrorCode::NotFound)?;
    let answering = req.answering.unwrap_or(true);
    if !sim.set_bank_state(&scenario, req.state, answering) {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(axum::Json(json!({ "scenario": scenario, "state": req.state, "answering": answering })).into_response())
}
