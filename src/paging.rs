//! Offset pagination over data that may change while it is read: which page to ask for
//! next, which rows to use, and when a list must be read again. Pure decisions, no I/O.
//!
//! Paging holds against every ZITADEL generation: an explicit limit on every call; a walk
//! ends on an empty page, or once the offset reaches `totalResult` (so a complete walk costs
//! no extra request); a short page does not end it while `totalResult` says more rows exist;
//! an inflated `totalResult` (ListUsers counts metadata rows) only costs one empty page.
//!
//! Consistency: a list is read in passes. A pass is sound when every page reports the same
//! `totalResult` and `processedSequence` as its first page (no write reached the list's
//! projection in between), no page repeats a row of the same pass, and, where `totalResult`
//! is exact, the pass reads that many rows. Offset shifts caused by rows created or deleted
//! mid-walk break one of these, and the list is read again from the start, using only rows
//! not used before (one 8-byte hash per row remembers them). This costs no request while
//! nothing changes. A list sorted by id (users) needs less when it changed: if the row just
//! before the next page is still the last row read, nothing moved across the boundary, and
//! the walk goes on from there, at the cost of one request.

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

use crate::wire::ListQuery;

/// How many times one list may be read again before the sync gives up.
pub const MAX_REREADS: u32 = 3;
/// Hashes are reserved up front for at most this many rows, whatever `totalResult` claims.
const MAX_RESERVED_ROWS: u64 = 1 << 20;

/// What is known of a list's rows.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// `totalResult` counts exactly the rows (false for users, see above).
    pub exact_total: bool,
    /// The server returns the rows in ascending id order (users, as we ask for them).
    pub sorted_by_id: bool,
}

/// Users: sorted by id as requested, with a `totalResult` that may count too many.
pub const USERS: Shape = Shape { exact_total: false, sorted_by_id: true };
/// Projects, roles and user grants: no defined order, an exact `totalResult`.
pub const UNSORTED: Shape = Shape { exact_total: true, sorted_by_id: false };

/// The state of one list walk.
#[derive(Debug)]
pub struct Walk {
    offset: u64,
    limit: u32,
    done: bool,
    shape: Shape,
    /// In a list sorted by id: the id of the last row read.
    last_key: Option<String>,
    /// The next page starts one row early, to check that it still follows `last_key`.
    checking: bool,
    /// Boundary checks in this pass.
    checks: u64,
    /// `totalResult` and `processedSequence` of the current pass's first non-empty page.
    snapshot: Option<(u64, u64)>,
    /// Hashes of the rows used so far, in any pass.
    used: Hashes,
    /// Hashes of the rows read in the current pass, once the list is read again (in the
    /// first pass, `used` is exactly that).
    this_pass: Option<Hashes>,
    rereads: u32,
    hasher: RandomState,
}

/// What to do with a page.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Use the rows whose flag is true; the others were used before.
    Use(Vec<bool>),
    /// The list changed: ignore this page; the walk goes on from `next_query()`, which
    /// checks the boundary or starts again from offset 0.
    Ignore,
}

/// A page no ZITADEL should send, or a list that would not hold still.
#[derive(Debug, PartialEq, Eq)]
pub enum WalkError {
    /// More rows than the limit asked for.
    TooManyRows { rows: usize, limit: u32 },
    /// A row without its id.
    MissingKey,
    /// Only rows already read in this pass, while nothing changed: the server ignores
    /// `offset`, and asking on would loop forever.
    SamePageAgain { offset: u64 },
    /// The list changed during every one of its reads.
    ChangedTooOften { reads: u32 },
}

impl Walk {
    pub fn new(limit: u32, shape: Shape) -> Walk {
        Walk {
            offset: 0,
            limit,
            done: false,
            shape,
            last_key: None,
            checking: false,
            checks: 0,
            snapshot: None,
            used: Hashes::default(),
            this_pass: None,
            rereads: 0,
            hasher: RandomState::new(),
        }
    }

    /// The query for the next page, or `None` once the walk is complete.
    pub fn next_query(&self) -> Option<ListQuery> {
        if self.done {
            return None;
        }
        let offset = if self.checking { self.offset - 1 } else { self.offset };
        Some(ListQuery { offset, limit: self.limit, asc: true })
    }

    /// How many times the list was read again.
    pub fn rereads(&self) -> u32 {
        self.rereads
    }

    /// Judges the page just read for `next_query()`: its `totalResult`, its
    /// `processedSequence` (0 when absent) and the id of each row, in order.
    pub fn judge<'k>(
        &mut self,
        total_result: u64,
        sequence: u64,
        keys: impl ExactSizeIterator<Item = &'k str>,
    ) -> Result<Verdict, WalkError> {
        let rows = keys.len();
        if rows > self.limit as usize {
            return Err(WalkError::TooManyRows { rows, limit: self.limit });
        }
        let mut keys: Vec<&str> = keys.collect();
        let mut flags = Vec::with_capacity(rows);
        if self.checking {
            self.checking = false;
            if keys.first().copied() != self.last_key.as_deref() {
                return self.reread();
            }
            // The list as it is now goes on right after the last row read: take this page's
            // state as the pass's, and its rows after that one.
            self.snapshot = Some((total_result, sequence));
            keys.remove(0);
            flags.push(false);
        }
        let rows = keys.len();
        if rows == 0 {
            let short = self.snapshot.is_some_and(|(total, _)| self.offset < total);
            if self.shape.exact_total && short {
                // Rows were deleted behind the walk: some may have moved past it unread.
                return self.reread();
            }
            self.done = true;
            return Ok(Verdict::Use(flags));
        }
        match self.snapshot {
            None => self.snapshot = Some((total_result, sequence)),
            Some(snapshot) if snapshot != (total_result, sequence) => {
                // About one check per page of progress: a list that grows as fast as it is
                // read would otherwise be checked forever.
                let checks_allowed = 10 + self.offset / u64::from(self.limit);
                if self.shape.sorted_by_id
                    && self.last_key.is_some()
                    && self.checks < checks_allowed
                {
                    self.checks += 1;
                    self.checking = true;
                    return Ok(Verdict::Ignore);
                }
                return self.reread();
            }
            Some(_) => {}
        }
        if self.used.is_empty() && self.this_pass.is_none() {
            self.used.reserve(total_result.min(MAX_RESERVED_ROWS) as usize);
        }

        let mut hashes = Vec::with_capacity(rows);
        for &key in &keys {
            if key.is_empty() {
                return Err(WalkError::MissingKey);
            }
            hashes.push(self.hasher.hash_one(key));
        }
        let seen = self.this_pass.as_ref().unwrap_or(&self.used);
        let repeats = hashes.iter().filter(|hash| seen.contains(hash)).count();
        let mut sorted = hashes.clone();
        sorted.sort_unstable();
        let repeated_within_page = sorted.windows(2).any(|pair| pair[0] == pair[1]);
        if repeats == rows && self.offset > 0 {
            return Err(WalkError::SamePageAgain { offset: self.offset });
        }
        if repeats > 0 || repeated_within_page {
            // Rows moved to a later offset: others may have moved out of reach.
            return self.reread();
        }

        if let Some(this_pass) = &mut self.this_pass {
            this_pass.extend(&hashes);
        }
        flags.extend(hashes.iter().map(|hash| self.used.insert(*hash)));
        if self.shape.sorted_by_id {
            self.last_key = keys.last().map(|key| key.to_string());
        }
        // A non-empty page always carries `totalResult`; without one we cannot tell where
        // the list ends, so the walk goes on to an empty page rather than risk stopping short.
        self.offset += rows as u64;
        self.done = total_result > 0 && self.offset >= total_result;
        Ok(Verdict::Use(flags))
    }

    fn reread(&mut self) -> Result<Verdict, WalkError> {
        self.rereads += 1;
        if self.rereads > MAX_REREADS {
            return Err(WalkError::ChangedTooOften { reads: self.rereads });
        }
        self.offset = 0;
        self.snapshot = None;
        self.checking = false;
        self.checks = 0;
        self.this_pass = Some(Hashes::default());
        Ok(Verdict::Ignore)
    }
}

/// A set of row hashes. They are random already (keyed per walk, so a server cannot choose
/// colliding ids), so the set uses them as they are instead of hashing them again.
type Hashes = HashSet<u64, BuildHasherDefault<AlreadyHashed>>;

#[derive(Default)]
struct AlreadyHashed(u64);

impl Hasher for AlreadyHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 hashes are stored");
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkError::TooManyRows { rows, limit } => {
                write!(f, "the server returned {rows} rows for a page of at most {limit}")
            }
            WalkError::MissingKey => write!(f, "malformed response: a row has no id"),
            WalkError::SamePageAgain { offset } => write!(
                f,
                "the server answered offset {offset} with rows it had already sent: it ignores the offset, so the list cannot be read"
            ),
            WalkError::ChangedTooOften { reads } => write!(
                f,
                "the organization changed during each of {reads} reads of this list; run the sync again"
            ),
        }
    }
}

impl std::error::Error for WalkError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list served by offset, as the server holds it at the moment of each request.
    struct List {
        rows: Vec<String>,
        sequence: u64,
        /// Rows added to `totalResult` (the ListUsers metadata bug).
        inflation: u64,
        /// The server caps pages at this size.
        cap: usize,
    }

    impl List {
        fn new(n: usize) -> List {
            List {
                rows: (0..n).map(|i| format!("{i:03}")).collect(),
                sequence: 7,
                inflation: 0,
                cap: 1000,
            }
        }

        fn page(&self, query: ListQuery) -> (u64, u64, Vec<String>) {
            let start = (query.offset as usize).min(self.rows.len());
            let end = (start + (query.limit as usize).min(self.cap)).min(self.rows.len());
            let rows = self.rows[start..end].to_vec();
            let total = if rows.is_empty() { 0 } else { (self.rows.len() as u64) + self.inflation };
            (total, self.sequence, rows)
        }
    }

    /// Walks `list` with `limit`, calling `change` before each request (with the request's
    /// number), and returns the rows used and the offsets asked for.
    fn walk(
        list: &mut List,
        limit: u32,
        shape: Shape,
        mut change: impl FnMut(usize, &mut List),
    ) -> Result<(Vec<String>, Vec<u64>), WalkError> {
        let mut walk = Walk::new(limit, shape);
        let (mut used, mut offsets) = (Vec::new(), Vec::new());
        while let Some(query) = walk.next_query() {
            assert_eq!(query.limit, limit, "every request carries the limit");
            change(offsets.len(), list);
            offsets.push(query.offset);
            let (total, sequence, rows) = list.page(query);
            if let Verdict::Use(flags) =
                walk.judge(total, sequence, rows.iter().map(String::as_str))?
            {
                used.extend(rows.into_iter().zip(flags).filter(|(_, f)| *f).map(|(r, _)| r));
            }
            assert!(offsets.len() < 1000, "the walk must end");
        }
        Ok((used, offsets))
    }

    fn ids(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("{i:03}")).collect()
    }

    #[test]
    fn exact_total_needs_no_probe_of_an_empty_page() -> Result<(), WalkError> {
        assert_eq!(
            walk(&mut List::new(25), 10, UNSORTED, |_, _| ())?,
            (ids(0..25), vec![0, 10, 20])
        );
        assert_eq!(walk(&mut List::new(20), 10, UNSORTED, |_, _| ())?.1, [0, 10]);
        assert_eq!(walk(&mut List::new(3), 1, UNSORTED, |_, _| ())?.1, [0, 1, 2]);
        Ok(())
    }

    #[test]
    fn empty_list_takes_one_request() -> Result<(), WalkError> {
        assert_eq!(walk(&mut List::new(0), 1000, UNSORTED, |_, _| ())?, (vec![], vec![0]));
        Ok(())
    }

    #[test]
    fn short_pages_do_not_end_the_walk_while_more_rows_exist() -> Result<(), WalkError> {
        let mut list = List { cap: 4, ..List::new(10) };
        assert_eq!(walk(&mut list, 1000, UNSORTED, |_, _| ())?, (ids(0..10), vec![0, 4, 8]));
        Ok(())
    }

    #[test]
    fn inflated_total_ends_on_the_first_empty_page() -> Result<(), WalkError> {
        let mut list = List { inflation: 4, ..List::new(5) };
        assert_eq!(walk(&mut list, 2, USERS, |_, _| ())?, (ids(0..5), vec![0, 2, 4, 5]));
        Ok(())
    }

    #[test]
    fn more_rows_than_asked_is_an_error() {
        let mut walk = Walk::new(2, UNSORTED);
        assert_eq!(
            walk.judge(10, 1, ["a", "b", "c"].into_iter()),
            Err(WalkError::TooManyRows { rows: 3, limit: 2 })
        );
        assert_eq!(
            Walk::new(2, UNSORTED).judge(10, 1, [""].into_iter()),
            Err(WalkError::MissingKey)
        );
    }

    #[test]
    fn a_server_that_ignores_the_offset_is_stopped() {
        let mut walk = Walk::new(2, UNSORTED);
        assert!(matches!(walk.judge(10, 1, ["a", "b"].into_iter()), Ok(Verdict::Use(_))));
        assert_eq!(
            walk.judge(10, 1, ["a", "b"].into_iter()),
            Err(WalkError::SamePageAgain { offset: 2 })
        );
    }

    #[test]
    fn a_row_created_before_the_offset_is_caught_by_the_repeat_and_nothing_is_lost()
    -> Result<(), WalkError> {
        // Before the second request, a row is inserted at the front: the old row 009 moves
        // to offset 10 and would be read twice; the sequence changes as well.
        let (used, offsets) = walk(&mut List::new(25), 10, UNSORTED, |request, list| {
            if request == 1 {
                list.rows.insert(0, "new".into());
                list.sequence += 1;
            }
        })?;
        let mut expected = ids(0..25);
        expected.push("new".into());
        let mut sorted = used.clone();
        sorted.sort();
        expected.sort();
        assert_eq!(sorted, expected, "every row once, the new one included");
        assert_eq!(offsets, [0, 10, 0, 10, 20], "read again from the start");
        Ok(())
    }

    #[test]
    fn a_deleted_row_is_caught_even_when_nothing_repeats() -> Result<(), WalkError> {
        // Row 003 is deleted and a row appended, so the total stays 25 and no row repeats,
        // but 010 slides to offset 9, behind the walk. Only the sequence tells.
        let (used, _) = walk(&mut List::new(25), 10, UNSORTED, |request, list| {
            if request == 1 {
                list.rows.remove(3);
                list.rows.push("999".into());
                list.sequence += 1;
            }
        })?;
        for id in ids(0..25).iter().filter(|id| *id != "003") {
            assert!(used.contains(id), "{id} was missed");
        }
        assert_eq!(used.len(), 26, "each row used once, the deleted one before it went");
        Ok(())
    }

    #[test]
    fn rows_deleted_at_the_end_of_an_exact_list_start_a_reread() -> Result<(), WalkError> {
        // Without a sequence to tell, the empty page before `totalResult` does.
        let mut list = List { sequence: 0, ..List::new(20) };
        let (used, offsets) = walk(&mut list, 10, UNSORTED, |request, list| {
            if request == 1 {
                list.rows.drain(0..10);
            }
        })?;
        assert_eq!(offsets, [0, 10, 0]);
        assert_eq!(used, ids(0..20));
        Ok(())
    }

    #[test]
    fn a_sorted_list_that_only_changed_elsewhere_costs_one_request() -> Result<(), WalkError> {
        // A row is updated (the sequence moves) but none moves: the boundary check passes.
        let (used, offsets) = walk(&mut List::new(25), 10, USERS, |request, list| {
            if request == 1 {
                list.sequence += 1;
            }
        })?;
        assert_eq!(used, ids(0..25));
        assert_eq!(offsets, [0, 10, 9, 19], "one check from offset 9, then on");
        Ok(())
    }

    #[test]
    fn a_sorted_list_that_shifted_is_read_again() -> Result<(), WalkError> {
        // 003 is deleted: the row before offset 10 is now 010, not 009.
        let (used, offsets) = walk(&mut List::new(25), 10, USERS, |request, list| {
            if request == 1 {
                list.rows.remove(3);
                list.sequence += 1;
            }
        })?;
        let mut expected = ids(0..25);
        expected.remove(3);
        assert_eq!(used[..3], expected[..3]);
        assert_eq!(used.len(), 25, "each row once, 003 before it went");
        assert_eq!(offsets[..4], [0, 10, 9, 0]);
        Ok(())
    }

    #[test]
    fn a_sorted_list_that_grows_as_fast_as_it_is_read_is_not_checked_forever() {
        let mut next = 100;
        let result = walk(&mut List::new(25), 2, USERS, |_, list| {
            list.rows.push(format!("{next:03}"));
            next += 1;
            list.sequence += 1;
        });
        assert_eq!(result, Err(WalkError::ChangedTooOften { reads: 4 }));
    }

    #[test]
    fn a_list_that_never_holds_still_fails_after_three_rereads() {
        let result = walk(&mut List::new(25), 10, UNSORTED, |request, list| {
            if request % 2 == 1 {
                list.sequence += 1;
            }
        });
        assert_eq!(result, Err(WalkError::ChangedTooOften { reads: 4 }));
    }
}
