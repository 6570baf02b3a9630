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
/// On the version before pages (2026-11-01) a list was read at once, cut at
/// 100 to 500 items depending on the list: such a wallet gets pages of up
/// to 500, and 500 when it names no size.
pub const BEFORE_PAGES_LIMIT: u32 = 500;

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
        let before_pages = parts.extensions.get::<crate::versioning::RequestVersion>().is_some_and(|v| !v.get().pages_lists());
        Ok(Paging(parse(raw, before_pages)?))
    }
}

fn parse(raw: Raw, before_pages: bool) -> Result<PageRequest, ApiError> {
    let (default, max) = if before_pages { (BEFORE_PAGES_LIMIT, BEFORE_PAGES_LIMIT) } else { (DEFAULT_LIMIT, MAX_LIMIT) };
    let limit = match raw.limit.as_deref() {
        None => default,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| malformed("limit", &format!("a whole number from 1 to {max}")))?,
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

/// Ids, ticket numbers, card numbers and device ids are short runs of
/// letters, digits and `_ - . :` (a device id may be 128 long).
fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(limit: Option<&str>, after: Option<&str>) -> Raw {
        Raw { limit: limit.map(Into::into), starting_after: after.map(Into::into) }
    }

    #[test]
    fn pages_are_checked() {
        assert_eq!(parse(raw(None, None), false).ok(), Some(PageRequest { starting_after: None, limit: 20 }));
        assert_eq!(
            parse(raw(Some("100"), Some("bnd_1")), false).ok(),
            Some(PageRequest { starting_after: Some("bnd_1".into()), limit: 100 })
        );
        for bad in ["0", "101", "-1", "ten", ""] {
            assert!(parse(raw(Some(bad), None), false).is_err(), "{bad}");
        }
        for bad in ["", "a b", "x'--", &"x".repeat(129)] {
            assert!(parse(raw(None, Some(bad)), false).is_err(), "{bad}");
        }
        // A device id, with its dots and colons.
        assert!(parse(raw(None, Some("ios-1.2:ab")), false).is_ok());
        // The version before pages: whole lists (up to 500) unless sized.
        assert_eq!(parse(raw(None, None), true).ok().map(|p| p.limit), Some(500));
        assert!(parse(raw(Some("500"), None), true).is_ok() && parse(raw(Some("501"), None), true).is_err());
    }
}
