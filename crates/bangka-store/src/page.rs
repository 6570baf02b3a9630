//! Lists read a page at a time: at most `limit` items, resuming after the
//! item the client saw last (`starting_after`, that item's id).
//!
//! Keyset, not offset: each page is one indexed range read wherever it
//! starts, and an item written between two pages neither repeats nor pushes
//! another one out of sight (an offset would shift under it). A list sorted
//! by a value that changes (a device's last use, a ticket's deadline) can
//! show an item that moved between two pages twice, or not at all: the
//! next read shows it where it is now.

use crate::readers::Cols;
use crate::writeset::Arg;
use crate::{Store, StoreError};

/// Which page of a list to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// The id of the last item of the previous page; the first page without it.
    pub starting_after: Option<String>,
    /// At most this many items (at least 1).
    pub limit: u32,
}

impl PageRequest {
    /// The first `limit` items.
    pub fn first(limit: u32) -> Self {
        PageRequest { starting_after: None, limit }
    }
}

/// One page of a list, and whether more follow it.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), has_more: self.has_more }
    }
}

/// How one list is kept: the rows of `table` that `scope` selects (its
/// parameters `$1`, `$2`, … are the scope's arguments), in `key` order and
/// then by `id`, a column unique within `owner` (the cursor names it).
/// `owner` is the part of the scope that says whose list it is (an
/// account's, or everyone's: `1 = 1`), using no parameter but the scope's
/// first (`$1`): a cursor must be an item of the owner's, and may have left the
/// list's filter since (a review decided, a ticket escalated) and still
/// mark where the next page starts.
pub(crate) struct Listing<'a> {
    pub table: &'a str,
    pub cols: &'a str,
    pub scope: &'a str,
    pub owner: &'a str,
    pub key: &'a str,
    pub id: &'a str,
    /// Newest (largest key) first.
    pub descending: bool,
}

impl Store {
    /// One page of `list`. A cursor that names no item of this very list
    /// (another account's, a made-up one) is refused: answering an empty
    /// page would read as "nothing more" when the client asked wrongly.
    pub(crate) async fn page<T>(
        &self,
        list: &Listing<'_>,
        scope_args: Vec<Arg>,
        page: &PageRequest,
        row: impl Fn(&sqlx::any::AnyRow) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let Listing { table, cols, scope, owner, key, id, descending } = *list;
        let (cmp, dir) = if descending { ("<", " DESC") } else { (">", "") };
        let mut args = scope_args;
        let mut after = String::new();
        if let Some(cursor) = &page.starting_after {
            // The check binds only what it names: the owner's `$1`, if any,
            // and the cursor.
            let mut probe: Vec<Arg> = if owner.contains("$1") { args[..1].to_vec() } else { Vec::new() };
            probe.push(cursor.as_str().into());
            let check = format!("SELECT 1 AS found FROM {table} WHERE {owner} AND {id} = ${}", probe.len());
            let known: Option<i64> = self.fetch_row(&check, &probe, |r| r.col("found"), |r| r.col("found")).await?;
            if known.is_none() {
                return Err(StoreError::UnknownCursor);
            }
            args.push(cursor.as_str().into());
            // Row values compare the key, then the id: the items strictly
            // after the cursor's item in this list's order.
            after = format!(" AND ({key}, {id}) {cmp} (SELECT {key}, {id} FROM {table} WHERE {owner} AND {id} = ${})", args.len());
        }
        args.push(i64::from(page.limit.max(1)).saturating_add(1).into());
        let sql = format!("SELECT {cols} FROM {table} WHERE {scope}{after} ORDER BY {key}{dir}, {id}{dir} LIMIT ${}", args.len());
        let rows = crate::writeset::bind_all(sqlx::query(&sql), &args).fetch_all(&mut *self.read().await?).await?;
        let mut items = rows.iter().map(row).collect::<Result<Vec<T>, StoreError>>()?;
        let has_more = items.len() > page.limit.max(1) as usize;
        items.truncate(page.limit.max(1) as usize);
        Ok(Page { items, has_more })
    }
}
