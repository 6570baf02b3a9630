//! One API error type for every handler, rendered from the catalog.
//!
//! Handlers return `Err(ApiError)`; `IntoResponse` only sets the status and
//! attaches the failure as a response extension, because the envelope needs
//! the caller's language and the request id, which the handler does not
//! carry. [`render_errors`] (a middleware around every route) writes the envelope. It
//! also turns axum's own bare 404/405/413 answers into catalog errors, so no
//! response leaves the server without an explanation.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bangka_core::catalog::{Lang, PREPARE_FOR_SUPPORT};
use bangka_core::clock::Clock;
use bangka_core::{ErrorCode, Failure};
use serde_json::{Value, json};

use crate::telemetry::RequestId;

/// Every failure a handler can return.
#[derive(Debug)]
pub enum ApiError {
    /// A catalog failure, with the attempt it was recorded as (if any).
    Domain { failure: Failure, attempt_id: Option<String> },
    /// Something broke on our side; logged in full, shown as `INTERNAL`.
    Internal(anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `MALFORMED_REQUEST` naming the field and what it must be.
pub fn malformed(field: &str, problem: &str) -> Failure {
    Failure::new(ErrorCode::MalformedRequest).with_details(json!({ "field": field, "problem": problem }))
}

impl ApiError {
    pub fn with_attempt(self, attempt_id: &str) -> Self {
        match self {
            ApiError::Domain { failure, .. } => ApiError::Domain { failure, attempt_id: Some(attempt_id.to_owned()) },
            other => other,
        }
    }

    /// Adds one fact to a domain failure's details (e.g. the id of the record
    /// a refusal left behind, so the caller and support can find it).
    pub fn with_detail(self, key: &str, value: &str) -> Self {
        match self {
            ApiError::Domain { mut failure, attempt_id } => {
                let mut d = failure.details.take().unwrap_or_else(|| serde_json::json!({}));
                d[key] = value.into();
                ApiError::Domain { failure: failure.with_details(d), attempt_id }
            }
            other => other,
        }
    }

    /// For a bind or an activation: a fraud-sensitive cause becomes its
    /// holder-safe form (details dropped, attempt id kept).
    pub fn for_new_card(self) -> Self {
        match self {
            ApiError::Domain { failure, attempt_id } if failure.code.for_new_card() != failure.code => {
                ApiError::Domain { failure: Failure::new(failure.code.for_new_card()), attempt_id }
            }
            other => other,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Domain { failure, .. } => failure.code,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        ApiError::Domain { failure, attempt_id: None }
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Failure::new(code).into()
    }
}

impl From<bangka_store::StoreError> for ApiError {
    fn from(e: bangka_store::StoreError) -> Self {
        if let bangka_store::StoreError::UnknownCursor = e {
            return malformed("starting_after", "the id of an item of this list (the last one of the page before)").into();
        }
        ApiError::Internal(e.into())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(e)
    }
}

/// The failure waiting to be rendered, carried as a response extension.
#[derive(Debug, Clone)]
pub struct PendingError {
    pub failure: Failure,
    pub attempt_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let pending = match self {
            ApiError::Domain { failure, attempt_id } => PendingError { failure, attempt_id },
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                PendingError { failure: Failure::new(ErrorCode::Internal), attempt_id: None }
            }
        };
        let status = StatusCode::from_u16(pending.failure.code.entry().http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = status.into_response();
        res.extensions_mut().insert(pending);
        res
    }
}

pub use bangka_store::rfc3339;

/// The catalog's message, naming the field for an unknown one (the
/// field's path was checked to be a name, not a value: `http::body`).
fn message(p: &PendingError, lang: Lang) -> String {
    let base = p.failure.code.entry().message.get(lang);
    let field = p.failure.details.as_ref().and_then(|d| d.get("field")).and_then(Value::as_str);
    let missing = p.failure.details.as_ref().and_then(|d| d.get("missing")).and_then(Value::as_str);
    match (p.failure.code, field, missing) {
        (ErrorCode::UnknownField, Some(f), _) => match lang {
            Lang::Zh => format!("{base}字段：{f}"),
            Lang::En => format!("{base} Field: {f}"),
        },
        // What is missing, in the holder's words (the field name stays in
        // details.missing for the wallet's code).
        (ErrorCode::StrongVerificationRequired, _, Some(m)) => {
            let (zh, en) = match m {
                "sms_code_request" => ("请先获取短信验证码。", "Get an SMS code first."),
                "payment_password" => ("还需要输入支付密码。", "Your payment password is needed too."),
                "current_password" => ("需要输入当前的支付密码。", "Enter your current payment password."),
                _ => ("", ""),
            };
            match lang {
                Lang::Zh => format!("{base}{zh}"),
                Lang::En if en.is_empty() => base.to_owned(),
                Lang::En => format!("{base} {en}"),
            }
        }
        _ => base.to_owned(),
    }
}

/// The error envelope (`{"error": {...}}`) in the holder's language.
pub fn envelope(p: &PendingError, lang: Lang, request_id: &str) -> Value {
    let e = p.failure.code.entry();
    let mut body = json!({
        "code": e.code.as_str(),
        "category": e.category,
        "message": message(p, lang),
        "remediation": e.remediation.iter().map(|t| t.get(lang)).collect::<Vec<_>>(),
        // The same steps with how each is carried out: the Bangka operation
        // to wire it to, or who outside Bangka does it.
        "steps": e.remediation.iter().zip(e.code.steps()).map(|(t, s)| json!({ "text": t.get(lang), "action": s })).collect::<Vec<_>>(),
        "fix_by": e.fix_by,
        "ticket_advised": e.ticket_advised,
        "request_id": request_id,
        "doc_url": format!("/help/errors/{}", e.code.as_str()),
        "lang": lang.tag(),
    });
    if let Some(at) = p.failure.retry_after {
        body["retry_after"] = json!(rfc3339(at));
    }
    if let Some(a) = &p.attempt_id {
        body["attempt_id"] = json!(a);
    }
    if let Some(d) = &p.failure.details {
        body["details"] = d.clone();
    }
    if e.ticket_advised {
        body["prepare_for_support"] = json!(PREPARE_FOR_SUPPORT.iter().map(|t| t.get(lang)).collect::<Vec<_>>());
    }
    json!({ "error": body })
}

/// Middleware inside [`render_errors`]: a handler that panics (a bug) is
/// answered `INTERNAL` like any failure of ours, with the request id,
/// instead of a dropped connection. What its unit of work wrote is rolled
/// back with it (the transaction is dropped uncommitted), so a retry runs
/// the request afresh.
pub async fn catch_panic(req: Request, next: Next) -> Response {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(res) => res,
        Err(panic) => {
            let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
            ApiError::Internal(anyhow::anyhow!("handler panicked: {}", what.as_deref().unwrap_or("(no message)"))).into_response()
        }
    }
}

/// Middleware around every route: renders [`PendingError`]s and axum's bare
/// errors. Takes the clock so `Retry-After` agrees with `retry_after`.
pub async fn render_errors(State(clock): State<Arc<dyn Clock>>, req: Request, next: Next) -> Response {
    let lang = Lang::from_accept_language(req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let mut res = crate::i18n::scope(lang, next.run(req)).await;
    let pending = res.extensions_mut().remove::<PendingError>().or_else(|| {
        // axum's own refusals (no route, wrong method, a path it cannot
        // decode, a body too large): plain text, so explained here.
        let bare = res.headers().get(header::CONTENT_TYPE).is_none_or(|ct| !ct.as_bytes().starts_with(b"application/json"));
        let failed = res.status().is_client_error() || res.status().is_server_error();
        (bare && failed).then(|| PendingError { failure: Failure::new(code_for_status(res.status())), attempt_id: None })
    });
    let Some(p) = pending else { return res };
    let e = p.failure.code.entry();
    tracing::info!(code = e.code.as_str(), status = e.http_status, "request failed");
    let status = StatusCode::from_u16(e.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = envelope(&p, lang, &request_id);
    let mut out = Response::new(Body::from(body.to_string()));
    *out.status_mut() = status;
    let headers = out.headers_mut();
    for (k, v) in res.headers() {
        if k != header::CONTENT_LENGTH && k != header::CONTENT_TYPE {
            headers.insert(k.clone(), v.clone());
        }
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
    // A body refused before it was read (too large, too slow) is still on
    // the wire: the connection cannot carry another request, so say that it
    // closes rather than let a client send its next request into it.
    if matches!(e.code, ErrorCode::PayloadTooLarge | ErrorCode::RequestTimeout) {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if let Some(at) = p.failure.retry_after {
        let secs = (at - clock.now()).whole_seconds().max(1);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            headers.insert(header::RETRY_AFTER, v);
        }
    }
    out
}

/// The catalog code for a bare error status.
pub fn code_for_status(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::RequestTimeout,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::URI_TOO_LONG => ErrorCode::UriTooLong,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ErrorCode::HeadersTooLarge,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::MalformedRequest,
    }
}
