//! Dated API versions on the wire: `Bangka-Version: 2026-12-01` asks for a
//! version; without it a request gets its key's pinned version (the one
//! current when the key was made), so a wallet built against an older
//! version keeps the answers it was built for. Every answer says which
//! version it is in (`Bangka-Version`).
//!
//! What differs between versions is written here, at the edge, from the
//! current answer: the flows know one version only.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bangka_core::api_version::ApiVersion;
use bangka_core::{ErrorCode, Failure};
use serde::Serialize;
use serde_json::Value;

/// The request and answer header.
pub const HEADER: &str = "bangka-version";

/// The version one request is served in: set by the header, else pinned by
/// authentication from the key; `CURRENT` when neither (a holder session,
/// no key).
#[derive(Clone, Default)]
pub struct RequestVersion(Arc<OnceLock<ApiVersion>>);

impl RequestVersion {
    /// The key's version, unless the request asked for one.
    pub fn pin(&self, v: ApiVersion) {
        let _ = self.0.set(v);
    }

    pub fn get(&self) -> ApiVersion {
        self.0.get().copied().unwrap_or(ApiVersion::CURRENT)
    }
}

/// The middleware: reads `Bangka-Version` (an unknown one is refused,
/// naming the versions there are), serves the request, says the version on
/// the answer and writes a list in the shape the version had.
pub async fn versioned(mut req: Request, next: Next) -> Response {
    let version = RequestVersion::default();
    if let Some(asked) = req.headers().get(HEADER) {
        match asked.to_str().ok().and_then(ApiVersion::parse) {
            Some(v) => version.pin(v),
            None => {
                let details = UnknownVersion { header: "Bangka-Version", known: ApiVersion::ALL, current: ApiVersion::CURRENT };
                let failure = Failure::new(ErrorCode::ApiVersionUnknown).with_details(serde_json::to_value(details).unwrap_or_default());
                return crate::error::ApiError::from(failure).into_response();
            }
        }
    }
    req.extensions_mut().insert(version.clone());
    let (get, path) = (req.method() == Method::GET, req.uri().path().to_owned());
    let mut res = next.run(req).await;
    let served = version.get();
    if get && res.status() == StatusCode::OK && !served.pages_lists() {
        res = lists_as_before_pages(&path, res).await;
    }
    res.headers_mut().insert(HEADER, HeaderValue::from_static(served.as_str()));
    res
}

/// `API_VERSION_UNKNOWN`'s details: the versions there are.
#[derive(Serialize)]
struct UnknownVersion {
    header: &'static str,
    known: [ApiVersion; 2],
    current: ApiVersion,
}

/// The shapes lists had before pages (2026-11-01): the items alone, or an
/// operator list's wrapper.
#[derive(Serialize)]
#[serde(untagged)]
enum BeforePages {
    Items(Value),
    Keys { keys: Value },
    Tickets { tickets: Value },
    Reviews { reviews: Value },
    Audit { entries: Value, chain: Value },
    Attempts { account_id: String, attempts: Value },
}

/// A list's page in the shape lists had before pages (2026-11-01): the
/// items alone, or in the wrapper an operator list had. Answers that are
/// not a page pass unchanged.
async fn lists_as_before_pages(path: &str, res: Response) -> Response {
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        // The answer could not be read back: an internal error, rendered
        // like any other (the envelope, not a half answer).
        return crate::error::ApiError::Internal(anyhow::anyhow!("reading a list answer to write it in its version's shape"))
            .into_response();
    };
    let page = serde_json::from_slice::<Value>(&bytes).ok().filter(|v| v["data"].is_array() && v["has_more"].is_boolean());
    let Some(mut page) = page else { return Response::from_parts(parts, Body::from(bytes)) };
    let data = page["data"].take();
    let before = match path {
        "/v1/ops/keys" => BeforePages::Keys { keys: data },
        "/v1/ops/tickets" => BeforePages::Tickets { tickets: data },
        "/v1/ops/reviews" => BeforePages::Reviews { reviews: data },
        "/v1/ops/audit" => BeforePages::Audit { entries: data, chain: page["chain"].take() },
        p => match p.strip_prefix("/v1/ops/accounts/").and_then(|r| r.strip_suffix("/attempts")) {
            Some(account) => BeforePages::Attempts { account_id: account.to_owned(), attempts: data },
            None => BeforePages::Items(data),
        },
    };
    let body = serde_json::to_vec(&before).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}
