//! How a flow's answer becomes a response.

use axum::response::{IntoResponse, Response};

use crate::error::ApiResult;

/// A flow's status and JSON body as the response.
pub fn ok(r: ApiResult<(axum::http::StatusCode, serde_json::Value)>) -> ApiResult<Response> {
    r.map(|(s, v)| (s, axum::Json(v)).into_response())
}
