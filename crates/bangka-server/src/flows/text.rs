//! Free text from holders and agents, checked and masked before anything
//! keeps it.

use bangka_core::ErrorCode;

use crate::error::ApiResult;

/// Free text from a holder or an agent (a note, a statement, a comment):
/// trimmed, at most `max` characters, no control characters but line
/// breaks; empty is `None`. Card and ID numbers typed into it are masked
/// before anything keeps it ([`mask_free_text`]).
pub fn optional_text(field: &str, s: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > max || t.chars().any(|c| c.is_control() && c != '\n') => {
            Err(crate::error::malformed(field, &format!("at most {max} characters, no control characters")).into())
        }
        Some(t) => Ok(Some(mask_free_text(t))),
    }
}

tokio::task_local! {
    /// What [`mask_free_text`] masked while serving the current request
    /// (the answer says so: `idempotency::run` adds a `redacted` field).
    static REDACTED: std::cell::RefCell<std::collections::BTreeSet<bangka_core::redact::Sensitive>>;
}

/// Masks card and ID numbers in free text and notes that it did.
pub fn mask_free_text(text: &str) -> String {
    let r = bangka_core::redact::redact(text);
    if !r.found.is_empty() {
        let _ = REDACTED.try_with(|seen| seen.borrow_mut().extend(r.found.iter().copied()));
    }
    r.text
}

/// Runs `f`, collecting what free text it masked.
pub async fn noting_redactions<F: std::future::Future>(f: F) -> (F::Output, Vec<&'static str>) {
    REDACTED
        .scope(Default::default(), async {
            let out = f.await;
            let found = REDACTED.with(|seen| seen.take().into_iter().map(|s| s.as_str()).collect());
            (out, found)
        })
        .await
}

/// As [`optional_text`], where the text is required.
pub fn required_text(field: &str, s: &str, max: usize) -> ApiResult<String> {
    optional_text(field, Some(s), max)?.ok_or_else(|| crate::error::malformed(field, &format!("1 to {max} characters")).into())
}

/// An operator's stated reason for the audit log: trimmed, `min_chars` to
/// 500 characters, else `OPS_REASON_REQUIRED`; card and ID numbers in it
/// masked like any free text.
pub fn ops_reason(note: &str, min_chars: usize) -> ApiResult<String> {
    let n = note.trim();
    if (min_chars..=500).contains(&n.chars().count()) { Ok(mask_free_text(n)) } else { Err(ErrorCode::OpsReasonRequired.into()) }
}
