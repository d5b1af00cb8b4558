//! Paging, once for every list: a limit checked against its bounds, and a
//! page cut from `limit + 1` fetched rows.

use serde::Serialize;

use crate::error::{ApiError, ApiResult};

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Everything on one page.
    pub fn all(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

/// The requested limit (or `default`), refused outside `1..=max`.
pub fn limit(requested: Option<i64>, default: i64, max: i64) -> ApiResult<i64> {
    let limit = requested.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::Invalid(format!(
            "limit must be between 1 and {max}"
        )))
    }
}

/// A page from `limit + 1` fetched rows: the extra row only says that another
/// page exists, and the cursor is the last shown row's.
pub fn page<R, V>(
    mut rows: Vec<R>,
    limit: i64,
    cursor_of: impl Fn(&R) -> String,
    view: impl FnMut(R) -> V,
) -> Page<V> {
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        rows.last().map(cursor_of)
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(view).collect(),
        next_cursor,
    }
}
