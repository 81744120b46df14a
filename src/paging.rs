//! Offset pagination decisions, kept apart from I/O: which page to ask for next, and when a
//! walk is complete.
//!
//! The rules hold against every ZITADEL generation: an explicit limit on every call; the walk
//! ends on an empty page, or once the offset reaches `totalResult` (so a complete walk costs
//! no extra request); a short page does not end it while `totalResult` says more rows exist;
//! an inflated `totalResult` (ListUsers counts metadata rows) only costs one empty page.

use std::fmt;

use crate::wire::ListQuery;

/// The state of one list walk.
#[derive(Debug)]
pub struct Pager {
    offset: u64,
    limit: u32,
    done: bool,
}

/// A page the server should not have sent.
#[derive(Debug, PartialEq, Eq)]
pub enum PagingError {
    /// More rows than the limit asked for.
    TooManyRows { rows: usize, limit: u32 },
}

impl Pager {
    pub fn new(limit: u32) -> Pager {
        Pager { offset: 0, limit, done: false }
    }

    /// The query for the next page, or `None` once the walk is complete.
    pub fn next_query(&self) -> Option<ListQuery> {
        if self.done {
            return None;
        }
        Some(ListQuery { offset: self.offset, limit: self.limit, asc: true })
    }

    /// Records a page of `rows` rows with the page's `totalResult` and moves on.
    pub fn record_page(&mut self, rows: usize, total_result: u64) -> Result<(), PagingError> {
        if rows > self.limit as usize {
            return Err(PagingError::TooManyRows { rows, limit: self.limit });
        }
        self.offset += rows as u64;
        // A non-empty page always carries `totalResult`; without one we cannot tell where the
        // list ends, so the walk goes on to an empty page rather than risk stopping short.
        let total_known = total_result > 0;
        self.done = rows == 0 || (total_known && self.offset >= total_result);
        Ok(())
    }
}

impl fmt::Display for PagingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PagingError::TooManyRows { rows, limit } => {
                write!(f, "the server returned {rows} rows for a page of at most {limit}")
            }
        }
    }
}

impl std::error::Error for PagingError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks a list of `total` rows served `served` rows at a time (a server cap), where the
    /// server reports `reported_total`, and returns the offsets asked for.
    fn walk(limit: u32, total: u64, served: u64, reported_total: u64) -> Vec<u64> {
        let mut pager = Pager::new(limit);
        let mut offsets = Vec::new();
        while let Some(query) = pager.next_query() {
            assert_eq!(query.limit, limit, "every request carries the limit");
            offsets.push(query.offset);
            let rows = total.saturating_sub(query.offset).min(served).min(limit as u64);
            let reported = if rows == 0 { 0 } else { reported_total };
            pager.record_page(rows as usize, reported).expect("a well-formed page");
            assert!(offsets.len() < 100, "the walk must end");
        }
        offsets
    }

    #[test]
    fn exact_total_needs_no_probe_of_an_empty_page() {
        assert_eq!(walk(1000, 2500, 1000, 2500), [0, 1000, 2000]);
        assert_eq!(walk(1000, 2000, 1000, 2000), [0, 1000]);
        assert_eq!(walk(1, 3, 1, 3), [0, 1, 2]);
    }

    #[test]
    fn empty_list_takes_one_request() {
        assert_eq!(walk(1000, 0, 1000, 0), [0]);
    }

    #[test]
    fn short_pages_do_not_end_the_walk_while_more_rows_exist() {
        // A server capping pages at 100 below our limit of 1000.
        assert_eq!(walk(1000, 250, 100, 250), [0, 100, 200]);
    }

    #[test]
    fn inflated_total_ends_on_the_first_empty_page() {
        assert_eq!(walk(2, 5, 2, 9), [0, 2, 4, 5]);
    }

    #[test]
    fn missing_total_keeps_walking_until_an_empty_page() {
        assert_eq!(walk(2, 3, 2, 0), [0, 2, 3]);
    }

    #[test]
    fn more_rows_than_asked_is_an_error() {
        let mut pager = Pager::new(2);
        assert_eq!(pager.record_page(3, 10), Err(PagingError::TooManyRows { rows: 3, limit: 2 }));
    }
}
