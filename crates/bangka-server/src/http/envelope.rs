//! The error envelope's schema for the API document (a leaf: every handler
//! module names it in its responses). `crate::error::envelope` writes it.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

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
