//! How a flow's answer becomes a response.

use axum::response::{IntoResponse, Response};

use crate::error::ApiResult;
use crate::views::Answer;

/// A flow's typed answer as the response (its status, its body as JSON).
pub fn ok<T: serde::Serialize>(r: ApiResult<Answer<T>>) -> ApiResult<Response> {
    r.map(IntoResponse::into_response)
}
