//! Telemetry in one place: the log subscriber and the request-id middleware.
//!
//! Logs are structured (JSON with `--log-format json`). Nothing card-related
//! is ever logged in the clear: card types print masked by construction, and
//! request bodies are never logged.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// The id of one request, echoed as `x-request-id` and in every error.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Who a request authenticated as, for its access-log line: filled by
/// authentication (a key's id, or `session:<id>` for a holder session),
/// read once the answer is out. Never the key or token itself. Also where
/// the request stands in its tightest rate limit, for the `RateLimit-*`
/// headers.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    who: std::sync::Arc<std::sync::OnceLock<String>>,
    standing: std::sync::Arc<std::sync::OnceLock<crate::rate_limit::Standing>>,
}

impl Caller {
    /// Records the caller (the first authentication of a request wins).
    pub fn set(&self, who: String) {
        let _ = self.who.set(who);
    }

    /// Records the request's rate-limit standing (the first one wins).
    pub fn set_standing(&self, s: crate::rate_limit::Standing) {
        let _ = self.standing.set(s);
    }

    fn get(&self) -> &str {
        self.who.get().map_or("-", String::as_str)
    }
}

/// Installs the global subscriber once. `json` selects JSON lines. Lines
/// are written by a background thread (a request never waits on the log
/// file); keep the returned guard alive until exit, so the last lines are
/// flushed.
pub fn init(json: bool) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    // Not lossy: a full buffer slows logging down rather than drop lines.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default().lossy(false).finish(std::io::stdout());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi).with_writer(writer);
    let _ = if json { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
    guard
}

/// The subscriber for the command-line tools (`bench`, `fill`, `keys` …):
/// plain lines on stderr, so stdout carries only the command's answer.
pub fn init_cli() -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default().lossy(false).finish(std::io::stderr());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi).with_writer(writer).without_time().try_init();
    guard
}

/// Assigns a request id (or keeps a sane incoming `x-request-id`) and runs
/// the request inside a span that carries it.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let incoming = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .map(str::to_owned);
    let id = incoming.unwrap_or_else(|| bangka_store::new_id("req"));
    req.extensions_mut().insert(RequestId(id.clone()));
    let caller = Caller::default();
    req.extensions_mut().insert(caller.clone());
    // The route template, not the raw path: paths carry ids and phone numbers.
    let route = req.extensions().get::<axum::extract::MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    // Standard methods only in labels: an invented one must not grow the metrics.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => m.to_owned(),
        _ => "OTHER".to_owned(),
    };
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let started = std::time::Instant::now();
    let mut res = next.run(req).instrument(span.clone()).await;
    crate::metrics::request(&route, &method, res.status().as_u16(), started.elapsed().as_secs_f64());
    // The access log: one line per request at the default level, so an
    // operator can tell who did what from the logs alone (issue 24). The
    // span carries the request id, method and route template; the line
    // adds the caller, status and duration. Never a body, a query string or
    // a raw path (paths carry ids and phone numbers), a key or a code. The
    // writer is non-blocking: a request never waits on the log.
    let (status, elapsed_ms) = (res.status().as_u16(), started.elapsed().as_secs_f64() * 1000.0);
    let key_id = caller.get();
    span.in_scope(|| tracing::info!(target: "access", key_id, status, elapsed_ms, "request"));
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    if let Some(s) = caller.standing.get() {
        // The IETF draft's names (draft-ietf-httpapi-ratelimit-headers).
        let h = res.headers_mut();
        h.insert("ratelimit-limit", HeaderValue::from(s.limit));
        h.insert("ratelimit-remaining", HeaderValue::from(s.remaining));
        h.insert("ratelimit-reset", HeaderValue::from(s.reset_secs));
    }
    res
}
