//! A failure as the domain reports it: a catalog code plus the facts that make
//! it concrete (when to retry, which binding is in the way).

use serde_json::Value;
use time::OffsetDateTime;

use crate::catalog::ErrorCode;

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: ErrorCode,
    /// When waiting is the remedy: the earliest time a retry can succeed.
    pub retry_after: Option<OffsetDateTime>,
    /// Structured facts for the caller (never card data in the clear).
    pub details: Option<Value>,
}

impl Failure {
    pub fn new(code: ErrorCode) -> Self {
        Failure { code, retry_after: None, details: None }
    }

    pub fn retry_at(mut self, at: OffsetDateTime) -> Self {
        self.retry_after = Some(at);
        self
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
}

impl From<ErrorCode> for Failure {
    fn from(code: ErrorCode) -> Self {
        Failure::new(code)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code.as_str())
    }
}

impl std::error::Error for Failure {}
