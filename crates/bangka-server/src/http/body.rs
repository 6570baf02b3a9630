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
    // Read through two wrappers: one notes every field the type does not
    // know (serde would drop it silently: a misspelled `langauge` made a
    // zh-CN account), the other where a value failed (a path of field
    // names and indices, never the value).
    let mut unknown: Option<String> = None;
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut note = |path: serde_ignored::Path<'_>| {
        unknown.get_or_insert_with(|| path.to_string());
    };
    let parsed: Result<T, _> = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(&mut de, &mut note));
    // A body that is not JSON at all is that first, whatever fields it had.
    let broken = parsed.as_ref().err().is_some_and(|e| !matches!(e.inner().classify(), serde_json::error::Category::Data));
    if let Some(field) = unknown.filter(|_| !broken) {
        // Named only when it reads as a field name: a key is text the caller
        // typed, and could be a card number.
        // An optional value's path has a `?` step (`terms.?.x`): not a name.
        let field = field.split('.').filter(|p| *p != "?").collect::<Vec<_>>().join(".");
        let field = safe_path(&field);
        return Err(Failure::new(ErrorCode::UnknownField).with_details(json!({ "field": field })));
    }
    let value = parsed.map_err(|err| {
        let path = safe_path(&err.path().to_string());
        let e = err.into_inner();
        let reason = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof | serde_json::error::Category::Io => {
                "body is not valid JSON".to_owned()
            }
            serde_json::error::Category::Data => {
                let msg = e.to_string();
                // Only serde's "missing field `x`" is safe to repeat: it
                // names a field, not a value.
                match msg.find("field `") {
                    Some(i) if msg.starts_with("missing field") => {
                        msg[..msg[i + 7..].find('`').map(|j| i + 8 + j).unwrap_or(msg.len())].to_owned()
                    }
                    _ => "a field has the wrong type or an invalid value".to_owned(),
                }
            }
        };
        let mut details = json!({ "reason": reason, "line": e.line(), "column": e.column() });
        if let Some(p) = path.filter(|p| p != ".") {
            details["field"] = json!(p);
        }
        Failure::new(ErrorCode::MalformedRequest).with_details(details)
    })?;
    // Nothing but whitespace may follow the object.
    de.end().map_err(|e| {
        let details = json!({ "reason": "body is not valid JSON", "line": e.line(), "column": e.column() });
        Failure::new(ErrorCode::MalformedRequest).with_details(details)
    })?;
    Ok(value)
}

/// A field's path (`materials.0.type`) as it may be repeated to the caller:
/// each part a field name (letters, digits and `_`, not starting with a
/// digit) or an index, at most 128 characters. Anything else may be a
/// value the caller typed as a key (a card number) and is not repeated.
fn safe_path(path: &str) -> Option<String> {
    let index = |p: &str| !p.is_empty() && p.len() <= 4 && p.chars().all(|c| c.is_ascii_digit());
    let part_ok = |p: &str| {
        // `materials[0]`: a name, then indices.
        let mut pieces = p.split('[');
        let name = pieces.next().unwrap_or("");
        let name_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name.len() <= 64;
        (name_ok || index(name)) && pieces.all(|i| i.strip_suffix(']').is_some_and(index))
    };
    (path.len() <= 128 && path.split('.').all(part_ok)).then(|| path.to_owned())
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
        // A field it does not know is named, unless it could be a value.
        let e = parse_json::<B>(&json_headers(), br#"{"card_number": "x", "card_numbr": "y"}"#).unwrap_err();
        assert_eq!((e.code, e.details.unwrap()["field"].clone()), (ErrorCode::UnknownField, json!("card_numbr")));
        let e = parse_json::<B>(&json_headers(), format!(r#"{{"card_number": "x", "{number}": 1}}"#).as_bytes()).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnknownField);
        assert!(!e.details.unwrap().to_string().contains(&number[..8]));
        // A wrong type names its field.
        let e = parse_json::<B>(&json_headers(), br#"{"card_number": 1}"#).unwrap_err();
        assert_eq!(e.details.unwrap()["field"], "card_number");
        // Cut off after an unknown field: not JSON, first.
        let e = parse_json::<B>(&json_headers(), br#"{"card_numbr": "y", "#).unwrap_err();
        assert_eq!((e.code, e.details.unwrap()["reason"].clone()), (ErrorCode::MalformedRequest, json!("body is not valid JSON")));
    }
}
