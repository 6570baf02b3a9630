//! The OpenAPI document's frame: title, security scheme and the error
//! envelope. The operations are added by the router (`http::routes`), each
//! with its route, so the two cannot differ.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use bangka_core::ErrorCode;

use super::envelope::{ErrorBody, ErrorEnvelope};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Bangka", description = "Card binding for digital wallets: bind, activate and manage bank cards; every failure explains itself.\n\n\
Versions: an API key is pinned to the dated version current when it was made; `Bangka-Version: 2026-12-01` on a request asks for \
a version, and every answer says its version in `Bangka-Version`. This document is 2026-12-01, where every list answers one page \
(`{\"data\": [...], \"has_more\"}`, `limit` and `starting_after`); on 2026-11-01 lists answer in the shape they had before \
(an array, or the operator lists' `{keys}`, `{tickets}`, `{reviews}`, `{entries, chain}`, `{account_id, attempts}`; up to 500 items)."),
    components(schemas(ErrorEnvelope, ErrorBody)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// Codes any operation can answer, whatever it does: the request could not
/// be read or authorized, came too fast or too big, or something failed on
/// our side. The document lists them once (`x-common-error-codes`).
pub const COMMON_ERRORS: &[ErrorCode] = &[
    ErrorCode::MalformedRequest,
    ErrorCode::UnknownField,
    ErrorCode::ApiVersionUnknown,
    ErrorCode::UnsupportedMediaType,
    ErrorCode::PayloadTooLarge,
    ErrorCode::UriTooLong,
    ErrorCode::HeadersTooLarge,
    ErrorCode::RequestTimeout,
    ErrorCode::NotFound,
    ErrorCode::MethodNotAllowed,
    ErrorCode::Unauthenticated,
    ErrorCode::SessionExpired,
    ErrorCode::Forbidden,
    ErrorCode::RateLimited,
    ErrorCode::Internal,
];

/// What any operation taking an `Idempotency-Key` can answer about the key.
const IDEMPOTENCY_ERRORS: &[ErrorCode] =
    &[ErrorCode::IdempotencyKeyInvalid, ErrorCode::IdempotencyKeyReused, ErrorCode::IdempotencyInProgress];

/// Which codes each operation answers beyond the common ones, one
/// `METHOD /path CODE` per line, sorted. The API suite checks every error
/// answer it gets against the document and adds what is missing with
/// `BANGKA_BLESS=1` (then `sort -u` the file), so the list is what the
/// operation is seen to answer, not what someone remembered.
const OPERATION_ERRORS: &str = include_str!("operation_errors.txt");

/// Writes each operation's codes, by name, into its error response: in the
/// description (for people) and as `x-error-codes` (for tools).
pub fn describe_errors(doc: &mut utoipa::openapi::OpenApi) {
    use std::collections::{BTreeMap, BTreeSet};
    use utoipa::openapi::RefOr;
    use utoipa::openapi::extensions::Extensions;

    let mut by_operation: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for line in OPERATION_ERRORS.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.split_whitespace();
        let (Some(method), Some(path), Some(code)) = (parts.next(), parts.next(), parts.next()) else { continue };
        by_operation.entry((path, method)).or_default().insert(code);
    }
    let common: Vec<&str> = COMMON_ERRORS.iter().map(|c| c.as_str()).collect();
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [("GET", &mut item.get), ("POST", &mut item.post), ("PUT", &mut item.put), ("DELETE", &mut item.delete)];
        for (method, op) in operations {
            let Some(op) = op else { continue };
            let mut codes: BTreeSet<&str> = by_operation.get(&(path.as_str(), method)).cloned().unwrap_or_default();
            let keyed = op.parameters.iter().flatten().any(|p| p.name == "Idempotency-Key");
            if keyed {
                codes.extend(IDEMPOTENCY_ERRORS.iter().map(|c| c.as_str()));
            }
            for (status, response) in op.responses.responses.iter_mut() {
                let RefOr::T(response) = response else { continue };
                let envelope = response
                    .content
                    .values()
                    .any(|c| matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/ErrorEnvelope")));
                if status.starts_with('2') || !envelope {
                    continue;
                }
                let listed = if codes.is_empty() {
                    "only the common codes".to_owned()
                } else {
                    codes.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                };
                response.description = format!(
                    "The error envelope. Codes this operation answers: {listed}; and any of the common codes \
                     (`x-common-error-codes` at the top of this document). Each code is explained by `GET /v1/errors`."
                );
                let mut ext = Extensions::default();
                ext.insert("x-error-codes".into(), serde_json::json!(codes));
                response.extensions.get_or_insert_with(Default::default).merge(ext);
            }
        }
    }
    let mut ext = Extensions::default();
    ext.insert("x-common-error-codes".into(), serde_json::json!(common));
    doc.extensions.get_or_insert_with(Default::default).merge(ext);
}

/// Marks every request body's schema closed (`additionalProperties:
/// false`), as the server reads it: a field it does not know is refused
/// with `UNKNOWN_FIELD` (`http::body`), never silently dropped. Schemas
/// that answers use too are left open (an answer may gain fields).
pub fn close_request_bodies(doc: &mut utoipa::openapi::OpenApi) {
    use std::collections::BTreeSet;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AdditionalProperties, Schema};

    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(|r| r.as_str()).and_then(|r| r.strip_prefix("#/components/schemas/")) {
                    out.push(r.to_owned());
                }
                m.values().for_each(|x| refs(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let Some(components) = doc.components.as_ref() else { return };
    // Every schema reachable from `start`, through the components.
    let reach = |start: Vec<String>| {
        let mut seen = BTreeSet::new();
        let mut todo = start;
        while let Some(name) = todo.pop() {
            if seen.insert(name.clone())
                && let Some(s) = components.schemas.get(&name)
            {
                refs(&serde_json::to_value(s).unwrap_or_default(), &mut todo);
            }
        }
        seen
    };
    let (mut asked, mut answered) = (Vec::new(), Vec::new());
    for item in doc.paths.paths.values() {
        for op in [&item.get, &item.post, &item.put, &item.delete].into_iter().flatten() {
            if let Some(b) = &op.request_body {
                refs(&serde_json::to_value(b).unwrap_or_default(), &mut asked);
            }
            refs(&serde_json::to_value(&op.responses).unwrap_or_default(), &mut answered);
        }
    }
    let (asked, answered) = (reach(asked), reach(answered));
    let Some(components) = doc.components.as_mut() else { return };
    for name in asked.difference(&answered) {
        if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(name) {
            o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}
