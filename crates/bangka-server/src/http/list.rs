//! `?limit=&starting_after=` on every list: which page to answer.
//!
//! Every list answers `{"data": [...], "has_more": bool}`; the next page is
//! the same request with `starting_after` set to the last item's id. The
//! store reads a page as one keyset range ([`bangka_store::page`]).

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use bangka_store::PageRequest;
use serde::Deserialize;

use crate::error::{ApiError, malformed};

/// Items on a page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: u32 = 20;
/// The most a page holds.
pub const MAX_LIMIT: u32 = 100;

/// The page parameters, as the document lists them on each list operation.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // parsed by `Paging`; here for the document
pub struct ListQuery {
    /// How many items at most: 1 to 100 (20 when left out).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The id of the last item of the page before: the answer is the page
    /// after it. It must be an item of this list.
    starting_after: Option<String>,
}

/// The page a list request asked for, checked: `limit` a whole number from
/// 1 to 100, `starting_after` a plausible id (whether it is an item of the
/// list, the store checks).
pub struct Paging(pub PageRequest);

/// The query as typed, each parameter read as text so that a bad one is
/// named in the error (other parameters belong to the list's filters).
#[derive(Deserialize)]
struct Raw {
    limit: Option<String>,
    starting_after: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(raw) = Query::<Raw>::from_request_parts(parts, state)
            .await
            .map_err(|_| malformed("query", "each parameter at most once, as documented"))?;
        let mut page = parse(raw)?;
        // A wallet on the version before pages read lists whole: it gets
        // the largest page unless it asks for a size.
        let before_pages = parts.extensions.get::<crate::versioning::RequestVersion>().is_some_and(|v| !v.get().pages_lists());
        if before_pages && !parts.uri.query().unwrap_or("").split('&').any(|p| p.starts_with("limit=")) {
            page.limit = MAX_LIMIT;
        }
        Ok(Paging(page))
    }
}

fn parse(raw: Raw) -> Result<PageRequest, ApiError> {
    let limit = match raw.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| malformed("limit", "a whole number from 1 to 100"))?,
    };
    let starting_after = match raw.starting_after {
        None => None,
        Some(id) if is_id(&id) => Some(id),
        Some(_) => return Err(malformed("starting_after", "the id of the last item of the page before").into()),
    };
    Ok(PageRequest { starting_after, limit })
}

/// One page of a list held whole in memory (a fixed, short one: the demo's
/// test cards), by the same rules as the store's pages.
pub fn page_of<T>(items: Vec<T>, id: impl Fn(&T) -> &str, page: &PageRequest) -> Result<bangka_store::Page<T>, ApiError> {
    let start = match &page.starting_after {
        None => 0,
        Some(after) => items.iter().position(|x| id(x) == after).ok_or(bangka_store::StoreError::UnknownCursor)? + 1,
    };
    let limit = page.limit as usize;
    let has_more = items.len() > start + limit;
    Ok(bangka_store::Page { items: items.into_iter().skip(start).take(limit).collect(), has_more })
}

/// Ids, ticket numbers and card numbers are short runs of letters, digits,
/// `_` and `-`.
fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(limit: Option<&str>, after: Option<&str>) -> Raw {
        Raw { limit: limit.map(Into::into), starting_after: after.map(Into::into) }
    }

    #[test]
    fn pages_are_checked() {
        assert_eq!(parse(raw(None, None)).ok(), Some(PageRequest { starting_after: None, limit: 20 }));
        assert_eq!(parse(raw(Some("100"), Some("bnd_1"))).ok(), Some(PageRequest { starting_after: Some("bnd_1".into()), limit: 100 }));
        for bad in ["0", "101", "-1", "ten", ""] {
            assert!(parse(raw(Some(bad), None)).is_err(), "{bad}");
        }
        for bad in ["", "a b", "x'--", &"x".repeat(65)] {
            assert!(parse(raw(None, Some(bad))).is_err(), "{bad}");
        }
    }
}
