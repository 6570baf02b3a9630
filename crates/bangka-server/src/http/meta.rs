//! Public endpoints: supported issuers, the error catalog and its help pages,
//! health, the OpenAPI document, and (demo mode) test cards and the phone inbox.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use bangka_core::ErrorCode;
use bangka_core::bin::{BIN_TABLE, ISSUERS};
use bangka_core::catalog::{self, Lang, PREPARE_FOR_SUPPORT};
use bangka_core::holder::{Email, Phone};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::auth::Role;
use crate::error::{ApiResult, rfc3339};
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issuers))
        .routes(routes!(errors))
        .routes(routes!(help_page))
        .routes(routes!(service_status))
        .routes(routes!(healthz))
        .routes(routes!(metrics))
        .routes(routes!(readyz))
}

/// Demo mode's routes; `with_clock` adds the clock that can be moved on.
pub fn demo_router(with_clock: bool) -> OpenApiRouter<AppState> {
    let r = OpenApiRouter::new()
        .routes(routes!(demo_cards))
        .routes(routes!(demo_bank_state))
        .routes(routes!(demo_inbox))
        .routes(routes!(demo_population))
        .routes(routes!(demo_key));
    if with_clock { r.routes(routes!(demo_clock_advance)) } else { r }
}

use super::answer::ok;
pub use super::envelope::ErrorEnvelope;

/// Is it just me? Current and upcoming maintenance windows with their
/// announcements, and per issuer whether it is in maintenance and its bind
/// failure rate over the last 15 minutes. Public.
#[utoipa::path(get, path = "/v1/status", tag = "meta", responses((status = 200, body = crate::flows::maintenance::StatusView), (status = "4XX", body = ErrorEnvelope)))]
async fn service_status(State(app): State<AppState>) -> ApiResult<Response> {
    ok(crate::flows::maintenance::status(&app).await)
}

/// The banks and card types this wallet accepts, with maintenance state.
#[utoipa::path(get, path = "/v1/issuers", tag = "meta", responses((status = 200, body = crate::views::IssuersView), (status = "4XX", body = ErrorEnvelope)))]
async fn issuers(State(app): State<AppState>) -> axum::Json<crate::views::IssuersView> {
    use crate::views::{BinView, IssuerView, IssuersView, WindowSpanView};
    let now = app.clock.now();
    let windows = app.issuer.maintenance_windows().await;
    let issuers = ISSUERS
        .iter()
        .map(|i| {
            let accepted: Vec<String> = app.policy.accepted_types(i.id).unwrap_or(&[]).iter().map(|t| t.as_str().into()).collect();
            let mine: Vec<&bangka_issuer::MaintenanceWindow> = windows.iter().filter(|w| w.issuer == i.id).collect();
            let current = mine.iter().find(|w| w.is_active(now));
            IssuerView {
                id: i.id.into(),
                name: i.name.into(),
                region: i.region.as_str().into(),
                supported: !accepted.is_empty() && app.policy.regions.contains(&i.region),
                accepted_card_types: accepted,
                bins: BIN_TABLE
                    .iter()
                    .filter(|r| r.issuer == i.id)
                    .map(|r| BinView {
                        prefix: r.prefix.into(),
                        card_type: r.card_type.as_str().into(),
                        brand: r.brand.as_str().into(),
                        length: r.length,
                    })
                    .collect(),
                in_maintenance: current.is_some(),
                maintenance_ends_at: current.map(|w| crate::views::Timestamp(w.ends_at)),
                maintenance_windows: mine
                    .iter()
                    .map(|w| WindowSpanView {
                        starts_at: crate::views::Timestamp(w.starts_at),
                        ends_at: crate::views::Timestamp(w.ends_at),
                    })
                    .collect(),
            }
        })
        .collect();
    let accepted_regions = app.policy.regions.iter().map(|r| r.as_str().into()).collect();
    axum::Json(IssuersView { binding_limit: app.policy.binding_limit, accepted_regions, issuers })
}

struct Json(Value);

impl IntoResponse for Json {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

pub fn catalog_json() -> Value {
    let name = |v: Value| v.as_str().unwrap_or_default().to_owned();
    let errors = catalog::entries()
        .map(|e| crate::views::CatalogEntryView {
            code: e.code.as_str().into(),
            category: name(json!(e.category)),
            http_status: e.http_status,
            fix_by: name(json!(e.fix_by)),
            ticket_advised: e.ticket_advised,
            retry: name(json!(e.retry)),
            message: e.message.into(),
            cause: e.cause.into(),
            remediation: e.remediation.iter().map(|t| (*t).into()).collect(),
            doc_url: format!("/help/errors/{}", e.code.as_str()),
        })
        .collect();
    json!(crate::views::CatalogView { errors })
}

/// The whole error catalog, both languages.
#[utoipa::path(get, path = "/v1/errors", tag = "meta", responses((status = 200, body = crate::views::CatalogView), (status = "4XX", body = ErrorEnvelope)))]
async fn errors() -> Json {
    Json(catalog_json())
}

/// Self-service help for one error code (HTML): cause, steps, what to prepare for support.
#[utoipa::path(get, path = "/help/errors/{code}", tag = "meta", responses((status = 200, description = "HTML help page", content_type = "text/html", body = String), (status = 404, body = ErrorEnvelope)))]
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

/// Prometheus metrics: attempts by kind, issuer and outcome, SMS codes
/// sent, risk locks, tickets by status, SLA breaches, request latency. The
/// classic text format (0.0.4); OpenMetrics to a scraper whose `Accept`
/// names `application/openmetrics-text` (Prometheus does). Scrape it from
/// inside your network.
#[utoipa::path(get, path = "/metrics", tag = "meta", responses((status = 200, description = "Prometheus text exposition (0.0.4)", content_type = "text/plain"), (status = "4XX", body = ErrorEnvelope)))]
async fn metrics(State(app): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    use axum::response::IntoResponse;
    let tickets = app.store.tickets_by_status().await?;
    let overdue = app.store.overdue_ticket_count(app.clock.now()).await?;
    let text = crate::metrics::render(&tickets, overdue);
    let wants_openmetrics =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/openmetrics-text"));
    Ok(if wants_openmetrics {
        ([(header::CONTENT_TYPE, crate::metrics::OPENMETRICS)], text).into_response()
    } else {
        ([(header::CONTENT_TYPE, crate::metrics::TEXT)], crate::metrics::to_text_format(&text)).into_response()
    })
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, body = crate::views::HealthView), (status = "4XX", body = ErrorEnvelope)))]
async fn healthz() -> Json {
    Json(json!(crate::views::HealthView { status: crate::views::HealthStatus::Ok, database: None, issuer: None }))
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "meta",
    responses((status = 200, body = crate::views::HealthView), (status = 503, description = "`not_ready`: the database or the bank over the network is unreachable", body = crate::views::HealthView),
        (status = "4XX", body = ErrorEnvelope)))]
async fn readyz(State(app): State<AppState>) -> Response {
    use crate::views::HealthView;
    let (database, issuer) = tokio::join!(app.store.ping(), app.bank().ready());
    if database && issuer {
        axum::Json(HealthView { status: crate::views::HealthStatus::Ready, database: None, issuer: None }).into_response()
    } else {
        let down = HealthView {
            status: crate::views::HealthStatus::NotReady,
            database: (!database).then(|| "unreachable".into()),
            issuer: (!issuer).then(|| "unreachable".into()),
        };
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(down)).into_response()
    }
}

/// `GET /v1/demo/population?limit=L&starting_after=CARD` (or `offset=K`).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PopulationQuery {
    /// How many (1 to 1000; 100 by default: load tools read big pages).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The card number of the last card of the page before.
    pub starting_after: Option<String>,
    /// Or: the first card by position (0-based; a population has at most
    /// 100 million), for load tools that start part-way through.
    #[param(maximum = 100_000_000)]
    pub offset: Option<u32>,
}

/// Demo: the load population (`bangka serve --demo-population N`): N good
/// cards, each with its own holder and reserved phone, in the
/// `/v1/demo/cards` format; `X-Total-Count` says how many there are.
#[utoipa::path(get, path = "/v1/demo/population", tag = "demo", params(PopulationQuery),
    responses((status = 200, body = crate::views::DemoCardList), (status = "4XX", body = ErrorEnvelope)))]
async fn demo_population(State(app): State<AppState>, query: Result<Query<PopulationQuery>, QueryRejection>) -> ApiResult<Response> {
    use crate::error::malformed;
    let Query(q) =
        query.map_err(|_| malformed("query", "limit (1 to 1000), and starting_after (a card number) or offset (a whole number)"))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(malformed("limit", "a whole number from 1 to 1000").into());
    }
    let first = match (q.starting_after.as_deref(), q.offset) {
        (Some(_), Some(_)) => return Err(malformed("offset", "starting_after or offset, not both").into()),
        (Some(card), None) => {
            app.population.find(card).ok_or_else(|| malformed("starting_after", "a card number of this population"))?.index + 1
        }
        (None, offset) if u64::from(offset.unwrap_or(0)) > bangka_issuer::Population::MAX => {
            return Err(malformed("offset", "at most 100000000").into());
        }
        (None, offset) => u64::from(offset.unwrap_or(0)),
    };
    let data: Vec<crate::views::DemoCardView> =
        app.population.page(first, u64::from(limit)).into_iter().map(crate::views::DemoCardView::from).collect();
    let has_more = first.saturating_add(u64::from(limit)) < app.population.len();
    let mut res = axum::Json(crate::views::DemoCardList { data, has_more }).into_response();
    res.headers_mut().insert("x-total-count", app.population.len().into());
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

/// Demo: a fresh test-mode API key for trying the service (a wallet key,
/// or a merchant key); shown once. A test key finds only test accounts
/// (`acc_test_…`), never a live one. Operator roles are never handed out here.
#[utoipa::path(post, path = "/v1/demo/keys", tag = "demo", request_body = Option<DemoKeyBody>,
    responses((status = 201, body = crate::views::DemoKeyView), (status = "4XX", body = ErrorEnvelope)))]
async fn demo_key(State(app): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> ApiResult<Response> {
    let req: DemoKeyBody = super::body::parse_optional_json(&headers, &body)?;
    let role = match req.role.as_deref().unwrap_or("wallet") {
        "wallet" => Role::Wallet,
        "merchant" => Role::Merchant,
        _ => return Err(crate::error::malformed("role", "wallet or merchant").into()),
    };
    let merchant = req.merchant_id.as_deref().map(bangka_core::payment::MerchantId::parse).transpose()?;
    // Always a test key: it finds test accounts only, never a live one.
    let mode = bangka_core::mode::Mode::Test;
    let key = crate::auth::generate_key(role, mode);
    let hash = crate::auth::hash_key(&key);
    let new = bangka_store::NewApiKey {
        role: role.as_str(),
        mode,
        key_hash: &hash,
        name: Some("demo"),
        merchant_id: merchant.as_ref().map(|m| m.as_str()),
        expires_at: None,
        api_version: bangka_core::api_version::ApiVersion::CURRENT,
    };
    app.store.create_api_key(new, bangka_store::Cause::api("demo"), app.clock.now()).await?;
    tracing::warn!(role = role.as_str(), "demo: test API key handed out");
    Ok((StatusCode::CREATED, axum::Json(crate::views::DemoKeyView { role: role.as_str().into(), key })).into_response())
}

/// Demo: the simulator's test cards (one per scenario) as a person types them.
#[utoipa::path(get, path = "/v1/demo/cards", tag = "demo", params(super::list::ListQuery),
    responses((status = 200, body = crate::views::DemoCardList), (status = "4XX", body = ErrorEnvelope)))]
async fn demo_cards(
    State(app): State<AppState>,
    super::list::Paging(page): super::list::Paging,
) -> ApiResult<axum::Json<crate::views::DemoCardList>> {
    // With a bank over the network (`--issuer-url`) the test cards are the
    // same fixed list the simulator service holds: made once.
    static FIXED: std::sync::LazyLock<Vec<bangka_issuer::TestCard>> = std::sync::LazyLock::new(|| {
        bangka_issuer::Simulator::new(std::sync::Arc::new(bangka_core::clock::SystemClock)).test_cards().to_vec()
    });
    let cards = match &app.simulator {
        Some(s) => s.test_cards().to_vec(),
        None => FIXED.clone(),
    };
    let cards: Vec<crate::views::DemoCardView> = cards.into_iter().map(crate::views::DemoCardView::from).collect();
    let page = super::list::page_of(cards, |c| &c.card_number, &page)?;
    Ok(axum::Json(crate::views::DemoCardList::new(page)))
}

/// Demo: the messages a phone number received by SMS (codes readable), or
/// an account id by push, or an email address by email; newest first.
#[utoipa::path(get, path = "/v1/demo/inbox/{recipient}", tag = "demo", responses((status = 200, body = crate::views::InboxView), (status = "4XX", body = ErrorEnvelope)))]
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
    let messages = app
        .store
        .inbox(&recipient)
        .await?
        .into_iter()
        .map(|m| crate::views::InboxMessageView {
            id: m.id,
            channel: m.channel,
            to: m.phone,
            body: m.body,
            received_at: crate::views::Timestamp(m.received_at),
        })
        .collect();
    Ok(axum::Json(crate::views::InboxView { phone: recipient.clone(), recipient, messages }).into_response())
}

/// Demo (`bangka serve --demo-clock`): how far to move the service's clock.
#[derive(serde::Deserialize, ToSchema)]
pub struct ClockAdvanceBody {
    /// `90s`, `30m`, `24h`, `7d`.
    pub by: String,
}

/// Demo, only with `bangka serve --demo-clock` (otherwise 404): moves the
/// service's clock forward, never back. The background jobs see the new
/// time on their next tick (within a second).
#[utoipa::path(post, path = "/v1/demo/clock/advance", tag = "demo", request_body = ClockAdvanceBody,
    responses((status = 200, body = crate::views::ClockView), (status = "4XX", body = ErrorEnvelope)),
    security(("bearer" = [])))]
async fn demo_clock_advance(
    State(app): State<AppState>,
    _: crate::auth::WalletAuth,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: ClockAdvanceBody = super::body::parse_json(&headers, &body)?;
    let by = bangka_core::clock::parse_duration(&req.by).map_err(|problem| {
        bangka_core::Failure::new(ErrorCode::MalformedRequest).with_details(json!({ "field": "by", "problem": problem }))
    })?;
    let clock = app.demo_clock.as_ref().ok_or(ErrorCode::NotFound)?;
    clock.advance(by);
    tracing::warn!(by = %req.by, "demo clock advanced");
    Ok(axum::Json(crate::views::ClockView { now: rfc3339(app.clock.now()), offset_seconds: clock.offset().whole_seconds() })
        .into_response())
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
    responses((status = 200, body = crate::views::BankStateView), (status = "4XX", body = ErrorEnvelope)))]
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
    let state = json!(req.state).as_str().unwrap_or_default().to_owned();
    Ok(axum::Json(crate::views::BankStateView { scenario, state, answering }).into_response())
}
