//! JSON request bodies, parsed by hand so that every failure is a catalog
//! error and no error message echoes what the caller sent (serde's messages
//! quote values, which could be a card number).

use axum::http::{HeaderMap, header};
use bangka_core::{ErrorCode, Failure};
use serde::de::DeserializeOwned;
use serde_json::json;

pub fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, Failure> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.trim_start().to_ascii_lowercase().starts_with("application/json") {
        return Err(ErrorCode::UnsupportedMediaType.into());
    }
    // Every body is an object. serde would also fill a struct from an array
    // (`[null, null]` by position), which no caller means.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let reason = match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => "body must be a JSON object",
            Err(_) => "body is not valid JSON",
        };
        return Err(Failure::new(ErrorCode::MalformedRequest).with_details(json!({ "reason": reason })));
    }
    serde_json::from_slice(body).map_err(|e| {
        let reason = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof | serde_json::error::Category::Io => {
                "body is not valid JSON".to_owned()
            }
            serde_json::error::Category::Data => {
                let msg = e.to_string();
                // Only serde's "missing field `x`" / "unknown field `x`" are
                // safe to repeat: they name a field, not a value.
                match msg.find("field `") {
                    Some(i) if msg.starts_with("missing field") => {
                        msg[..msg[i + 7..].find('`').map(|j| i + 8 + j).unwrap_or(msg.len())].to_owned()
                    }
                    _ => "a field has the wrong type or an invalid value".to_owned(),
                }
            }
        };
        Failure::new(ErrorCode::MalformedRequest).with_details(json!({ "reason": reason, "line": e.line(), "column": e.column() }))
    })
}

/// A body that may be left out entirely (no fields needed): empty means
/// the defaults; anything sent must be valid JSON like any body.
pub fn parse_optional_json<T: DeserializeOwned + Default>(headers: &HeaderMap, body: &[u8]) -> Result<T, Failure> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_json(headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct B {
        card_number: String,
    }

    fn json_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        h
    }

    /// A card number from the simulator's table of test cards.
    fn test_card_number() -> String {
        let clock = std::sync::Arc::new(bangka_core::clock::SystemClock);
        bangka_issuer::Simulator::new(clock).test_cards()[0].card_number.clone()
    }

    #[test]
    fn errors_never_echo_values() {
        let number = test_card_number();
        // The number as a JSON number where a string belongs: refused, not echoed.
        let e = parse_json::<B>(&json_headers(), format!(r#"{{"card_number": {number}}}"#).as_bytes()).unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedRequest);
        assert!(!e.details.unwrap().to_string().contains(&number));
        let e = parse_json::<B>(&json_headers(), br#"{}"#).unwrap_err();
        assert_eq!(e.details.unwrap()["reason"], "missing field `card_number`");
        let e = parse_json::<B>(&json_headers(), b"{not json").unwrap_err();
        assert_eq!(e.details.unwrap()["reason"], "body is not valid JSON");
        assert_eq!(parse_json::<B>(&HeaderMap::new(), b"{}").unwrap_err().code, ErrorCode::UnsupportedMediaType);
        let e = parse_json::<B>(&json_headers(), format!(r#"["{number}"]"#).as_bytes()).unwrap_err();
        assert_eq!(e.details.unwrap()["reason"], "body must be a JSON object");
        let e = parse_json::<B>(&json_headers(), b"not json").unwrap_err();
        assert_eq!(e.details.unwrap()["reason"], "body is not valid JSON");
    }
}
