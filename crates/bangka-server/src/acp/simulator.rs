//! `bangka simulator serve`: the issuer simulator as its own process,
//! speaking the issuer protocol, so every Bangka instance talking to it
//! shares one bank. It keeps each order's answer by order id: a repeated
//! order (a retry, a duplicate delivery) gets the first answer and never
//! acts twice, and `query` reports any order it received.
//!
//! Faults are injected per issuer, card and operation, from a file at
//! start or at runtime through `POST /sim/faults` (docs/issuer-protocol.md).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bangka_core::card::{Cvv, Expiry, Pan};
use bangka_core::holder::{HolderName, IdNumber, Phone};
use bangka_core::{ErrorCode, Failure};
use bangka_issuer::{CardHolder, IssuerConnector, Simulator};
use serde::{Deserialize, Serialize};

use super::{Answer, Keys, Operation, Outcome, Request, SIGNATURE_HEADER, SealedCard};

/// What a fault does to the orders it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultMode {
    /// Answer after `latency_ms` (and act normally).
    Latency,
    /// Never answer (the caller times out); nothing is done.
    NoAnswer,
    /// Answer 503 without acting.
    #[serde(rename = "error_5xx")]
    Error5xx,
    /// Drop the connection without acting.
    Reset,
    /// Act, then drop the connection: the answer is lost.
    AnswerLost,
    /// The order arrives twice (both deliveries answered from one effect).
    Duplicate,
    /// Act and answer with a signature that does not verify.
    BadSignature,
    /// A delaying proxy in front of the bank: the caller's connection is
    /// dropped at once, and the order reaches the bank `latency_ms` later
    /// (where it is checked for age then, as on arrival). Until then a
    /// query finds nothing: "not found" is not "never made".
    DelayThenDeliver,
}

/// One fault, as `POST /sim/faults` takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub issuer: Option<String>,
    pub card_number: Option<String>,
    pub operation: Operation,
    pub mode: FaultMode,
    pub latency_ms: Option<u64>,
    /// How many orders it applies to; absent: until cleared.
    pub count: Option<u32>,
}

pub struct SimService {
    sim: Arc<Simulator>,
    keys: Keys,
    latency: Duration,
    faults: Mutex<Vec<Fault>>,
    /// Each acting order's answer, by order id.
    orders: Mutex<HashMap<String, Answer>>,
    /// Orders being answered now, and the most at once (`GET /sim/stats`):
    /// shows whether callers wait on each other.
    in_flight: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
    received: std::sync::atomic::AtomicU64,
}

impl SimService {
    pub fn new(sim: Arc<Simulator>, keys: Keys, latency: Duration, faults: Vec<Fault>) -> Arc<SimService> {
        Arc::new(SimService {
            sim,
            keys,
            latency,
            faults: Mutex::new(faults),
            orders: Mutex::new(HashMap::new()),
            in_flight: Default::default(),
            peak: Default::default(),
            received: Default::default(),
        })
    }

    /// The first fault matching the order, counted down.
    fn fault_for(&self, req: &Request, card_number: Option<&str>) -> Option<Fault> {
        let mut faults = self.faults.lock().expect("faults lock");
        let i = faults.iter().position(|f| {
            f.operation == req.operation
                && f.issuer.as_deref().is_none_or(|i| req.issuer.as_deref() == Some(i))
                && f.card_number.as_deref().is_none_or(|c| card_number == Some(c))
        })?;
        let f = faults[i].clone();
        if let Some(n) = faults[i].count.as_mut() {
            *n -= 1;
            if *n == 0 {
                faults.remove(i);
            }
        }
        Some(f)
    }

    /// Runs one order against the simulator, or replays its first answer.
    async fn process(&self, req: &Request, card: Option<&SealedCard>) -> Answer {
        if req.operation == Operation::Query && req.query_order_id.is_none() {
            // By payment reference: what became of that authorization.
            let reference = req.reference.as_deref().unwrap_or_default();
            return match self.sim.authorization(reference).await {
                Ok(Some(code)) => answer(&req.order_id, Outcome::Success, None, Some(code)),
                Ok(None) => answer(&req.order_id, Outcome::NotFound, None, None),
                Err(_) => answer(&req.order_id, Outcome::Unknown, None, None),
            };
        }
        if req.operation == Operation::Maintenance {
            let windows = self.sim.maintenance_windows().await;
            let windows = windows.iter().filter(|w| req.issuer.as_deref().is_none_or(|i| w.issuer == i));
            return Answer {
                windows: Some(windows.map(super::AnnouncedWindow::from_window).collect()),
                ..answer(&req.order_id, Outcome::Success, None, None)
            };
        }
        if req.operation == Operation::Query {
            let asked = req.query_order_id.as_deref().unwrap_or_default();
            let found = self.orders.lock().expect("orders lock").get(asked).cloned();
            return found.unwrap_or_else(|| answer(asked, Outcome::NotFound, None, None));
        }
        if let Some(first) = self.orders.lock().expect("orders lock").get(&req.order_id).cloned() {
            return first;
        }
        let result = self.act(req, card).await;
        let a = match result {
            Ok(auth_code) => answer(&req.order_id, Outcome::Success, None, auth_code),
            Err(f) => answer(&req.order_id, Outcome::Failed, Some(f.code.as_str().to_owned()), None),
        };
        // Keep the first answer: two deliveries racing each other agree.
        self.orders.lock().expect("orders lock").entry(req.order_id.clone()).or_insert(a).clone()
    }

    /// `card` is `sealed_card` opened (once, by the caller).
    async fn act(&self, req: &Request, card: Option<&SealedCard>) -> Result<Option<String>, Failure> {
        if req.sealed_card.is_some() && card.is_none() {
            return Err(ErrorCode::MalformedRequest.into());
        }
        let pan = card.map(|c| Pan::parse(&c.card_number)).transpose()?;
        let reference = req.reference.as_deref().unwrap_or_default();
        let amount = req.amount_fen.unwrap_or(0);
        let need_pan = || pan.as_ref().ok_or(Failure::new(ErrorCode::MalformedRequest));
        match req.operation {
            Operation::Verify | Operation::VerifyActivation => {
                let c = card.ok_or(ErrorCode::MalformedRequest)?;
                let field = |v: &Option<String>| v.clone().ok_or(Failure::new(ErrorCode::MalformedRequest));
                let name = HolderName::parse(&field(&c.holder_name)?)?;
                let id = IdNumber::parse(&field(&c.id_number)?)?;
                let phone = Phone::parse(&field(&c.phone)?)?;
                let expiry = c.expiry.as_deref().map(Expiry::parse).transpose()?;
                let cvv = c.cvv.as_deref().map(Cvv::parse).transpose()?;
                let holder = CardHolder {
                    pan: need_pan()?,
                    holder_name: &name,
                    id_number: &id,
                    phone: &phone,
                    expiry: expiry.as_ref(),
                    cvv: cvv.as_ref(),
                };
                if req.operation == Operation::Verify {
                    self.sim.verify_for_binding(holder).await?
                } else {
                    self.sim.verify_for_activation(holder).await?
                }
                Ok(None)
            }
            Operation::Activate => self.sim.activate(need_pan()?).await.map(|_| None),
            Operation::Authorize => self.sim.authorize(need_pan()?, amount, reference).await.map(Some),
            Operation::Capture => self.sim.capture(reference, amount).await.map(|_| None),
            Operation::Refund => self.sim.refund(reference, req.refund_id.as_deref().unwrap_or_default(), amount).await.map(|_| None),
            Operation::Void => self.sim.void(reference).await.map(|_| None),
            Operation::ReportLost => self.sim.report_lost(need_pan()?, req.stolen.unwrap_or(false)).await.map(|_| None),
            Operation::Status => self.sim.card_status(need_pan()?).await.map(|_| None),
            Operation::Query | Operation::Maintenance => unreachable!("answered above"),
        }
    }

    fn signed(&self, status: StatusCode, a: &Answer, issuer: Option<&str>, corrupt: bool) -> Response {
        let body = serde_json::to_vec(a).expect("serializable");
        let mut sig = self.keys.sign(issuer, &body);
        if corrupt {
            sig.push_str("00");
        }
        let mut res = (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response();
        res.headers_mut().insert(SIGNATURE_HEADER, HeaderValue::from_str(&sig).expect("ascii"));
        res
    }
}

fn answer(order_id: &str, outcome: Outcome, code: Option<String>, auth_code: Option<String>) -> Answer {
    let now = time::OffsetDateTime::now_utc();
    Answer {
        order_id: order_id.to_owned(),
        outcome,
        code,
        auth_code,
        answered_at: now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        windows: None,
    }
}

/// A response whose body fails mid-way: the connection is dropped.
fn reset() -> Response {
    let stream =
        futures_util::stream::once(async { Err::<Bytes, std::io::Error>(std::io::Error::other("connection reset by the simulator")) });
    Response::new(Body::from_stream(stream))
}

fn plain(status: StatusCode, why: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": why }))).into_response()
}

/// Counts an order in flight for as long as it lives.
struct InFlight<'a>(&'a SimService);

impl<'a> InFlight<'a> {
    fn enter(s: &'a SimService) -> InFlight<'a> {
        use std::sync::atomic::Ordering::SeqCst;
        s.received.fetch_add(1, SeqCst);
        let now = s.in_flight.fetch_add(1, SeqCst) + 1;
        s.peak.fetch_max(now, SeqCst);
        InFlight(s)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn order(State(s): State<Arc<SimService>>, Path(op): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let _counted = InFlight::enter(&s);
    let Some(sig) = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()) else {
        return plain(StatusCode::UNAUTHORIZED, "unsigned order");
    };
    if !s.keys.verify(sig, &body) {
        return plain(StatusCode::UNAUTHORIZED, "the signature does not verify");
    }
    let Ok(req) = serde_json::from_slice::<Request>(&body) else { return plain(StatusCode::BAD_REQUEST, "not an order") };
    if Operation::parse(&op) != Some(req.operation) {
        return plain(StatusCode::BAD_REQUEST, "the path and the order name different operations");
    }
    // A replayed old order is refused (five minutes, as ACP's orders expire).
    let sent = time::OffsetDateTime::parse(&req.sent_at, &time::format_description::well_known::Rfc3339);
    if sent.is_err() || sent.is_ok_and(|t| time::OffsetDateTime::now_utc() - t > time::Duration::minutes(5)) {
        return plain(StatusCode::BAD_REQUEST, "sent_at is missing or more than five minutes old");
    }
    if !s.latency.is_zero() {
        tokio::time::sleep(s.latency).await;
    }
    let card = req.sealed_card.as_deref().and_then(|c| s.keys.open(c));
    let card = card.as_ref();
    let fault = s.fault_for(&req, card.map(|c| c.card_number.as_str()));
    let issuer = req.issuer.as_deref();
    match fault.map(|f| (f.mode, f.latency_ms)) {
        None => s.signed(StatusCode::OK, &s.process(&req, card).await, issuer, false),
        Some((FaultMode::Latency, ms)) => {
            tokio::time::sleep(Duration::from_millis(ms.unwrap_or(1000))).await;
            s.signed(StatusCode::OK, &s.process(&req, card).await, issuer, false)
        }
        Some((FaultMode::NoAnswer, _)) => {
            tokio::time::sleep(Duration::from_secs(600)).await;
            plain(StatusCode::GATEWAY_TIMEOUT, "no answer")
        }
        Some((FaultMode::Error5xx, _)) => plain(StatusCode::SERVICE_UNAVAILABLE, "bank system busy"),
        Some((FaultMode::Reset, _)) => reset(),
        Some((FaultMode::AnswerLost, _)) => {
            s.process(&req, card).await;
            reset()
        }
        Some((FaultMode::Duplicate, _)) => {
            let (a, b) = tokio::join!(s.process(&req, card), s.process(&req, card));
            debug_assert_eq!(a.outcome, b.outcome);
            s.signed(StatusCode::OK, &b, issuer, false)
        }
        Some((FaultMode::BadSignature, _)) => s.signed(StatusCode::OK, &s.process(&req, card).await, issuer, true),
        Some((FaultMode::DelayThenDeliver, ms)) => {
            let late = s.clone();
            let req = req.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms.unwrap_or(1000))).await;
                let sent = time::OffsetDateTime::parse(&req.sent_at, &time::format_description::well_known::Rfc3339);
                if sent.is_ok_and(|t| time::OffsetDateTime::now_utc() - t <= time::Duration::minutes(5)) {
                    let card = req.sealed_card.as_deref().and_then(|c| late.keys.open(c));
                    late.process(&req, card.as_ref()).await;
                }
            });
            reset()
        }
    }
}

async fn add_fault(State(s): State<Arc<SimService>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Fault>(&body) {
        Ok(f) if f.count != Some(0) => {
            s.faults.lock().expect("faults lock").push(f.clone());
            (StatusCode::CREATED, axum::Json(f)).into_response()
        }
        _ => plain(
            StatusCode::BAD_REQUEST,
            "a fault is {\"issuer\"?, \"card_number\"?, \"operation\", \"mode\", \"latency_ms\"?, \"count\"?}; \
             operation: verify, verify_activation, activate, authorize, capture, refund, void, report_lost, status, query, maintenance; \
             mode: latency, no_answer, error_5xx, reset, answer_lost, duplicate, bad_signature, delay_then_deliver; count at least 1",
        ),
    }
}

async fn stats(State(s): State<Arc<SimService>>) -> axum::Json<serde_json::Value> {
    use std::sync::atomic::Ordering::SeqCst;
    axum::Json(serde_json::json!({
        "orders": s.received.load(SeqCst),
        "in_flight": s.in_flight.load(SeqCst),
        "peak_in_flight": s.peak.load(SeqCst),
    }))
}

async fn list_faults(State(s): State<Arc<SimService>>) -> axum::Json<Vec<Fault>> {
    axum::Json(s.faults.lock().expect("faults lock").clone())
}

async fn clear_faults(State(s): State<Arc<SimService>>) -> StatusCode {
    s.faults.lock().expect("faults lock").clear();
    StatusCode::NO_CONTENT
}

/// The test cards, as `GET /v1/demo/cards` on Bangka shows them.
async fn demo_cards(State(s): State<Arc<SimService>>) -> axum::Json<Vec<serde_json::Value>> {
    let cards =
        s.sim.test_cards().iter().map(|c| serde_json::to_value(crate::views::DemoCardView::from(c.clone())).unwrap_or_default()).collect();
    axum::Json(cards)
}

/// A bank's money view for tests: what a card can spend now.
async fn available(State(s): State<Arc<SimService>>, Path(scenario): Path<String>) -> Response {
    match s.sim.available_fen(&scenario) {
        Some(fen) => axum::Json(serde_json::json!({ "scenario": scenario, "available_fen": fen })).into_response(),
        None => plain(StatusCode::NOT_FOUND, "no such test card"),
    }
}

/// `POST /sim/cards/{scenario}/state {"state", "answering"?}`: what the bank
/// thinks of a test card (as Bangka's `POST /v1/demo/cards/{scenario}/bank-state`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateBody {
    state: bangka_issuer::BankState,
    answering: Option<bool>,
}

async fn set_state(State(s): State<Arc<SimService>>, Path(scenario): Path<String>, body: Bytes) -> Response {
    let Ok(b) = serde_json::from_slice::<StateBody>(&body) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "{\"state\": normal | not_activated | frozen | lost | expired | closed, \"answering\"?: bool}",
        );
    };
    if s.sim.set_bank_state(&scenario, b.state, b.answering.unwrap_or(true)) {
        axum::Json(serde_json::json!({ "scenario": scenario, "state": b.state })).into_response()
    } else {
        plain(StatusCode::NOT_FOUND, "no such test card")
    }
}

/// `POST /sim/maintenance`: the bank announces a window (it refuses the
/// issuer's cards meanwhile, and answers `maintenance` with it).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaintenanceBody {
    issuer: String,
    /// RFC 3339; absent: now.
    starts_at: Option<String>,
    /// RFC 3339.
    ends_at: String,
    message_zh: Option<String>,
    message_en: Option<String>,
}

async fn add_maintenance(State(s): State<Arc<SimService>>, body: Bytes) -> Response {
    let usage = "{\"issuer\", \"starts_at\"?, \"ends_at\", \"message_zh\"?, \"message_en\"?} with RFC 3339 times, ending after it starts";
    let Ok(b) = serde_json::from_slice::<MaintenanceBody>(&body) else { return plain(StatusCode::BAD_REQUEST, usage) };
    let now = crate::error::rfc3339(time::OffsetDateTime::now_utc());
    let Some(bank) = bangka_core::bin::issuer(&b.issuer) else { return plain(StatusCode::BAD_REQUEST, usage) };
    let announced = super::AnnouncedWindow {
        message_zh: b.message_zh.unwrap_or_else(|| format!("{}系统维护中，期间暂停绑卡和快捷支付。", bank.name.zh)),
        message_en: b
            .message_en
            .unwrap_or_else(|| format!("{} is under maintenance; binding and quick payments are paused.", bank.name.en)),
        issuer: b.issuer,
        starts_at: b.starts_at.unwrap_or(now),
        ends_at: b.ends_at,
    };
    match announced.to_window() {
        Some(w) if w.ends_at > w.starts_at => {
            s.sim.schedule_maintenance(w);
            (StatusCode::CREATED, axum::Json(announced)).into_response()
        }
        _ => plain(StatusCode::BAD_REQUEST, usage),
    }
}

async fn clear_maintenance(State(s): State<Arc<SimService>>) -> StatusCode {
    s.sim.clear_maintenance();
    StatusCode::NO_CONTENT
}

/// `GET /sim/cards/{scenario}/state`: what the bank thinks of a test card.
async fn get_state(State(s): State<Arc<SimService>>, Path(scenario): Path<String>) -> Response {
    match s.sim.bank_state(&scenario) {
        Some(state) => axum::Json(serde_json::json!({ "scenario": scenario, "state": state })).into_response(),
        None => plain(StatusCode::NOT_FOUND, "no such test card"),
    }
}

pub fn router(s: Arc<SimService>) -> Router {
    Router::new()
        .route("/acp/v1/{operation}", post(order))
        .route("/sim/faults", post(add_fault).get(list_faults).delete(clear_faults))
        .route("/sim/cards/{scenario}/available", get(available))
        .route("/sim/stats", get(stats))
        .route("/sim/maintenance", post(add_maintenance).delete(clear_maintenance))
        .route("/sim/cards/{scenario}/state", post(set_state).get(get_state))
        .route("/v1/demo/cards", get(demo_cards))
        .route("/healthz", get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }))
        .with_state(s)
}
