//! Offset pagination over data that may change while it is read: which page to ask for
//! next, which rows to use, and when a list has been read exactly. Pure decisions, no I/O.
//!
//! Paging holds against every ZITADEL generation: an explicit limit on every call; a walk
//! ends on an empty page, or once the offset reaches `totalResult` (so a complete walk costs
//! no extra request); a short page does not end it while `totalResult` says more rows exist;
//! an inflated `totalResult` (ListUsers counts metadata rows) only costs one empty page.
//!
//! Consistency: a list is read from offset 0 to its end, once or a few times. Rows are used
//! the first time they are read, in any read (one 8-byte hash per row remembers them), so
//! nothing is printed twice; the question is only when every row that existed throughout
//! has been read. That is decided by the list's shape:
//!
//! - A list with an exact `totalResult` (projects, roles, grants) has no defined order, so
//!   its pages may come in another order on every request. While `totalResult` and
//!   `processedSequence` (the projection's position) stay the same, the list has not
//!   changed, and once that many distinct rows were read under them, in one read or across
//!   reads, every row was. A page whose state differs starts that count afresh.
//! - A list sorted by id (users) is read in order: while the state stays the same, each
//!   page follows the one before. When it moved, the page is asked again from one row
//!   earlier (and so is every page while the state keeps moving), and its first row must be
//!   the last row read: then nothing moved across the boundary, and that row with nothing
//!   after it is the end of the list. Otherwise the list is read again from offset 0.
//! - On a busy instance the sequence moves between any two requests although the
//!   organization did not change. A read that saw each row once under one `totalResult`
//!   is therefore accepted when the next read sees the very same rows (same number, same
//!   hashes, same total): one extra read of a list that spans pages.
//!
//! A list is read at most `MAX_READS` times. A server that sends more rows than its
//! `totalResult` announces, an absurd `totalResult`, or the same page for a higher offset is
//! not ZITADEL, and the walk stops with an error.

use std::fmt;
use std::hash::BuildHasher;
use std::ops::ControlFlow;

use crate::budget::OverBudget;
use crate::keyed::{HashTable, IdSet, Keyed};
use crate::wire::ListQuery;

/// How many times one list is read at most before the sync gives up.
pub const MAX_READS: u32 = 4;
/// Hashes are reserved up front for at most this many rows, whatever `totalResult` claims
/// (and as far as the memory budget allows): the table for 2^17 rows takes 2 MiB (2^18
/// slots of an 8-byte hash) and holds the 100,000 users of the benchmark without growing.
/// Past it the table grows as rows come, each growth charged to the budget first.
const MAX_RESERVED_ROWS: u64 = 1 << 17;
/// A `totalResult` above this is not believed: no organization has a hundred million rows of
/// one kind, and a server announcing more would be paged for days while memory grows.
const MAX_TOTAL: u64 = 100_000_000;
/// How many pages' worth of rows one read may run past the `totalResult` of its first page
/// before the list counts as changed: a list that grows as fast as it is read has no end.
const GROWTH_PAGES: u64 = 10;
/// Lists in no order: how many requests in a row, at three offsets or more, must bring the
/// very same page before the server is taken to ignore the offset. A list in a new order
/// on every request brings the same page twice in a row by chance, read a row a page, as
/// often as not; sixteen times in a row, one time in 3^15 at most (a list of three rows,
/// the fewest that have three offsets). Fewer repeats are a list that seems to change.
const PROOF_REPEATS: u32 = 16;

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
    limit: u32,
    shape: Shape,
    done: bool,
    /// Reads of the list started so far, the current one included.
    reads: u32,
    /// The read in progress.
    read: Read,
    /// What the previous read saw, when it saw each row once under one `totalResult`.
    previous: Option<Fingerprint>,
    /// Sorted lists: the list moved between the last two pages, so the next page starts one
    /// row early.
    overlap: bool,
    /// Lists with an exact total: the rows read since the list last changed.
    window: Window,
    /// Lists in no order: the page the last requests in a row brought, across reads.
    repeats: Repeats,
    /// Hashes of the rows used so far, in any read.
    used: HashTable,
    hasher: Keyed,
}

/// One read of the list, from offset 0 to its end.
#[derive(Debug, Default)]
struct Read {
    /// Where the next page starts (it is asked for one row earlier when it overlaps).
    offset: u64,
    /// `totalResult` and `processedSequence` of the page before, and its rows' hashes.
    last_state: Option<(u64, u64)>,
    last_page: Vec<u64>,
    /// Sorted lists: the id of the last row read.
    last_key: Option<String>,
    /// `totalResult` of the read's first non-empty page.
    first_total: Option<u64>,
    /// The rows read (an overlap row not counted) and the wrapping sum of their hashes.
    rows: u64,
    sum: u64,
    /// Hashes of the rows read; `None` in the first read, whose rows are exactly `used`.
    seen: Option<HashTable>,
    /// Some row was read twice.
    repeated: bool,
    /// `totalResult` differed between pages.
    total_moved: bool,
    /// Sorted lists read one row a page: a page could not be shown to follow the one before.
    unverified: bool,
}

/// What a read saw when it saw each row once: the number of rows, the wrapping sum of their
/// hashes (keyed per walk, so a server cannot forge an equal sum) and `totalResult`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    rows: u64,
    sum: u64,
    total: u64,
}

/// Lists with an exact total: the distinct rows read since the list last changed.
#[derive(Debug, Default)]
struct Window {
    /// The `totalResult` and `processedSequence` the list has had since the window began.
    state: Option<(u64, u64)>,
    /// The rows; `None` while the window began with the walk, whose rows are exactly `used`.
    seen: Option<HashTable>,
}

/// Lists in no order: the page that the last requests in a row brought, the proof that a
/// server ignores the offset once it came often enough and at enough offsets.
#[derive(Debug, Default)]
struct Repeats {
    /// The page's `totalResult` and `processedSequence`, and its rows' hashes in order.
    state: Option<(u64, u64)>,
    page: Vec<u64>,
    /// How many requests in a row brought it.
    times: u32,
    /// The distinct offsets it was brought for, up to three.
    offsets: Vec<u64>,
}

impl Repeats {
    /// Counts one more page; true once the same page came for `PROOF_REPEATS` requests in
    /// a row, at three offsets or more, while nothing changed.
    fn proven(&mut self, state: (u64, u64), offset: u64, hashes: &[u64]) -> bool {
        if hashes.is_empty() {
            return false;
        }
        if self.state == Some(state) && self.page == hashes {
            self.times += 1;
            if self.offsets.len() < 3 && !self.offsets.contains(&offset) {
                self.offsets.push(offset);
            }
        } else {
            self.state = Some(state);
            self.page.clear();
            self.page.extend_from_slice(hashes);
            self.times = 1;
            self.offsets.clear();
            self.offsets.push(offset);
        }
        self.times >= PROOF_REPEATS && self.offsets.len() >= 3
    }
}

/// What to do with a page.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Use the rows whose flag is true; the others were used before.
    Use(Vec<bool>),
    /// Ignore this page: it cannot be shown to follow the rows read before it. The walk
    /// goes on from `next_query()`, which starts on the last row read or at offset 0.
    Ignore,
}

/// A page no ZITADEL should send, or a list that would not hold still.
#[derive(Debug, PartialEq, Eq)]
pub enum WalkError {
    /// More rows than the limit asked for.
    TooManyRows { rows: usize, limit: u32 },
    /// A row without its id.
    MissingKey,
    /// A `totalResult` no organization has.
    TotalTooLarge { total: u64 },
    /// At least `rows` rows of a list whose `totalResult` is smaller.
    MoreRowsThanTotal { rows: u64, total: u64 },
    /// The page before again, row for row, while nothing changed (for a list in no order,
    /// `PROOF_REPEATS` requests in a row at three offsets or more): the server ignores
    /// `offset`, and asking on would loop forever.
    SamePageAgain { offset: u64 },
    /// The list changed during every one of its reads.
    ChangedTooOften { reads: u32 },
    /// The hashes of the rows read would take the sync past its memory limit.
    OverBudget(OverBudget),
}

impl From<OverBudget> for WalkError {
    fn from(err: OverBudget) -> WalkError {
        WalkError::OverBudget(err)
    }
}

impl Walk {
    pub fn new(limit: u32, shape: Shape) -> Walk {
        Walk {
            limit,
            shape,
            done: false,
            reads: 1,
            read: Read::default(),
            previous: None,
            overlap: false,
            window: Window::default(),
            repeats: Repeats::default(),
            used: HashTable::new(USED),
            hasher: Keyed::default(),
        }
    }

    /// The query for the next page, or `None` once the walk is complete.
    pub fn next_query(&self) -> Option<ListQuery> {
        if self.done {
            return None;
        }
        Some(ListQuery { offset: self.page_offset(), limit: self.limit, asc: true })
    }

    /// How many reads of the list were started, the current one included.
    pub fn reads(&self) -> u32 {
        self.reads
    }

    /// Whether the current read is only to confirm the previous one, which saw every row
    /// once while the instance's sequence moved.
    pub fn confirming(&self) -> bool {
        self.previous.is_some()
    }

    /// The ids of every row used, once the walk is over.
    pub fn into_used(mut self) -> IdSet {
        // The table was sized by `totalResult`, which counts too many users at times.
        self.used.shrink_to_fit();
        IdSet::of(self.hasher, self.used)
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
        let overlapping = self.overlapping();
        let offset = self.page_offset();
        self.check_size(rows, offset, total_result)?;
        let keys: Vec<&str> = keys.collect();
        if keys.iter().any(|key| key.is_empty()) {
            return Err(WalkError::MissingKey);
        }
        let hashes: Vec<u64> = keys.iter().map(|key| self.hasher.hash_one(key)).collect();
        let state = (total_result, sequence);
        let unchanged = self.note_page(state, offset, &hashes)?;

        let mut skip = 0;
        if self.shape.sorted_by_id {
            match self.follow_on(&keys, overlapping, unchanged)? {
                ControlFlow::Continue(overlap) => skip = overlap,
                ControlFlow::Break(verdict) => return Ok(verdict),
            }
        }
        if rows == 0 {
            if offset == 0 {
                // The list is empty now, so no row existed throughout the walk.
                self.done = true;
                return Ok(Verdict::Use(Vec::new()));
            }
            if !unchanged {
                self.window = Window { state: None, seen: Some(HashTable::new(SEEN)) };
            }
            return self.end_of_read(Vec::new());
        }

        let mut flags = vec![false; skip];
        flags.extend(self.take(state, &hashes[skip..])?);
        let end = offset + rows as u64;
        self.read.offset = end;
        if self.shape.sorted_by_id {
            self.read.last_key = keys.last().map(|key| key.to_string());
        }
        self.after_rows(total_result, end, flags)
    }

    /// Remembers the page's state and rows, and says whether the list is unchanged since
    /// the page before. Fails when the page is the one before again while nothing changed.
    fn note_page(
        &mut self,
        state: (u64, u64),
        offset: u64,
        hashes: &[u64],
    ) -> Result<bool, WalkError> {
        let (total_result, sequence) = state;
        let rows = hashes.len();
        let read = &mut self.read;
        // An empty page has no `totalResult`: only its sequence tells whether the list moved.
        let unchanged = read
            .last_state
            .is_none_or(|(total, seq)| seq == sequence && (rows == 0 || total == total_result));
        let same_page = rows > 0 && offset > 0 && unchanged && hashes == read.last_page;
        // Rows sorted by id cannot come back in the same order by chance. Rows in no order
        // can, often, read a row a page: that is only a sign of a change (the read counts
        // a repeated row), and proof of an ignored offset needs many more.
        let ignored = match self.shape.sorted_by_id {
            true => same_page,
            false => self.repeats.proven(state, offset, hashes),
        };
        if ignored {
            return Err(WalkError::SamePageAgain { offset });
        }
        read.last_state = Some(state);
        read.last_page.clear();
        read.last_page.extend_from_slice(hashes);
        Ok(unchanged)
    }

    /// Sorted lists: whether the page follows the last row read. Continues with how many
    /// rows at its start were read before (the overlap row), or breaks with the verdict
    /// on a page that cannot be shown to follow on, or that ends the list.
    fn follow_on(
        &mut self,
        keys: &[&str],
        overlapping: bool,
        unchanged: bool,
    ) -> Result<ControlFlow<Verdict, usize>, WalkError> {
        if overlapping {
            if keys.first().copied() != self.read.last_key.as_deref() {
                // The last row read moved or went: other rows may have moved across the
                // boundary, unread.
                self.next_read()?;
                return Ok(ControlFlow::Break(Verdict::Ignore));
            }
            if keys.len() == 1 {
                // Nothing follows the last row read: this is the end of the list.
                self.done = true;
                return Ok(ControlFlow::Break(Verdict::Use(vec![false])));
            }
            // While the list keeps moving, every page overlaps; once it holds still from
            // one page to the next, pages follow on as before.
            self.overlap = !unchanged;
            return Ok(ControlFlow::Continue(1));
        }
        if !unchanged {
            if self.limit > 1 {
                // Rows may have moved across the boundary, so this page may not follow the
                // last row read; the next one, starting on that row, shows it.
                self.overlap = true;
                return Ok(ControlFlow::Break(Verdict::Ignore));
            }
            // One row a page leaves no room for the last row read.
            self.read.unverified = true;
        }
        Ok(ControlFlow::Continue(0))
    }

    /// After the rows of a page up to `end` were taken: whether the list was read exactly,
    /// a read ended, or the list grows as fast as it is read.
    fn after_rows(
        &mut self,
        total_result: u64,
        end: u64,
        flags: Vec<bool>,
    ) -> Result<Verdict, WalkError> {
        if self.shape.exact_total {
            let distinct = self.window.seen.as_ref().map_or(self.used.len(), HashTable::len) as u64;
            if distinct > total_result {
                return Err(WalkError::MoreRowsThanTotal { rows: distinct, total: total_result });
            }
            if distinct == total_result {
                // As many distinct rows as the list has, read while it did not change.
                self.done = true;
                return Ok(Verdict::Use(flags));
            }
        }
        if end >= total_result {
            return self.end_of_read(flags);
        }
        let growth = GROWTH_PAGES.saturating_mul(u64::from(self.limit));
        let read = &self.read;
        if read.rows > read.first_total.unwrap_or_default().saturating_add(growth) {
            // The list grows about as fast as it is read.
            self.previous = None;
            self.next_read()?;
        }
        Ok(Verdict::Use(flags))
    }

    /// Refuses a page no ZITADEL sends: more rows than asked for, an absurd total, or rows
    /// beyond the total.
    fn check_size(&self, rows: usize, offset: u64, total_result: u64) -> Result<(), WalkError> {
        if rows > self.limit as usize {
            return Err(WalkError::TooManyRows { rows, limit: self.limit });
        }
        if total_result > MAX_TOTAL {
            return Err(WalkError::TotalTooLarge { total: total_result });
        }
        let end = offset.saturating_add(rows as u64);
        if rows > 0 && end > total_result {
            // ZITADEL counts the rows in the query that reads the page (`COUNT(*) OVER ()`),
            // so no row lies beyond the total; a server that sends such rows (with a total
            // of 0, say) would otherwise be paged forever.
            return Err(WalkError::MoreRowsThanTotal { rows: end, total: total_result });
        }
        Ok(())
    }

    /// Takes the rows of a page read with `state`: which are new to the walk, and what the
    /// read and the window learn from them.
    fn take(&mut self, state: (u64, u64), hashes: &[u64]) -> Result<Vec<bool>, OverBudget> {
        let (total_result, _) = state;
        if self.used.len() == 0 {
            self.used.reserve(total_result.min(MAX_RESERVED_ROWS) as usize);
        }
        let exact = self.shape.exact_total;
        let window = &mut self.window;
        if exact && window.state != Some(state) {
            // The list changed (or this is the first page): count its rows afresh.
            if window.state.is_some() {
                window.seen = Some(HashTable::new(SEEN));
            }
            window.state = Some(state);
        }
        let read = &mut self.read;
        match read.first_total {
            None => read.first_total = Some(total_result),
            Some(first) => read.total_moved |= first != total_result,
        }
        let mut flags = Vec::with_capacity(hashes.len());
        for &hash in hashes {
            let new = self.used.insert(hash)?;
            let new_in_read = match &mut read.seen {
                Some(seen) => seen.insert(hash)?,
                None => new,
            };
            read.repeated |= !new_in_read;
            if let (true, Some(seen)) = (exact, &mut window.seen) {
                seen.insert(hash)?;
            }
            read.rows += 1;
            read.sum = read.sum.wrapping_add(hash);
            flags.push(new);
        }
        Ok(flags)
    }

    /// Sorted lists: whether the next page starts on the last row read.
    fn overlapping(&self) -> bool {
        self.overlap && self.read.last_key.is_some()
    }

    fn page_offset(&self) -> u64 {
        self.read.offset.saturating_sub(u64::from(self.overlapping()))
    }

    /// Decides, at the end of a read, whether the walk is complete or the list is read again.
    fn end_of_read(&mut self, flags: Vec<bool>) -> Result<Verdict, WalkError> {
        let read = &self.read;
        if self.shape.sorted_by_id && !read.unverified && !read.repeated {
            // Every page followed the one before it: no row was skipped.
            self.done = true;
            return Ok(Verdict::Use(flags));
        }
        let total = read.first_total.unwrap_or_default();
        let once =
            !read.repeated && !read.total_moved && (read.rows == total || !self.shape.exact_total);
        let fingerprint = once.then_some(Fingerprint { rows: read.rows, sum: read.sum, total });
        if fingerprint.is_some() && fingerprint == self.previous {
            // Two reads in a row saw the very same rows: the list held still, although the
            // instance's sequence moved.
            self.done = true;
            return Ok(Verdict::Use(flags));
        }
        self.previous = fingerprint;
        self.next_read()?;
        Ok(Verdict::Use(flags))
    }

    /// Starts reading the list again from offset 0, unless it was read often enough.
    fn next_read(&mut self) -> Result<(), WalkError> {
        if self.reads >= MAX_READS {
            return Err(WalkError::ChangedTooOften { reads: self.reads });
        }
        self.reads += 1;
        self.read = Read { seen: Some(HashTable::new(SEEN)), ..Read::default() };
        Ok(())
    }
}

/// What the walk's sets hold, for the message when one would outgrow the memory budget.
const USED: &str = "the hashes of the rows read of this list";
const SEEN: &str = "the hashes of the rows read again of this list";

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkError::TooManyRows { rows, limit } => {
                write!(f, "the server returned {rows} rows for a page of at most {limit}")
            }
            WalkError::MissingKey => write!(f, "malformed response: a row has no id"),
            WalkError::TotalTooLarge { total } => write!(
                f,
                "the server announced {total} rows (totalResult), more than any organization has (at most {MAX_TOTAL} are read)"
            ),
            WalkError::MoreRowsThanTotal { rows, total } => write!(
                f,
                "the server sent at least {rows} rows of a list whose totalResult is {total}: it keeps sending rows, so the list cannot be read"
            ),
            WalkError::SamePageAgain { offset } => write!(
                f,
                "the server answered offset {offset} with the page it had just sent: it ignores the offset, so the list cannot be read"
            ),
            WalkError::ChangedTooOften { reads } => write!(
                f,
                "the organization changed during each of {reads} reads of this list; run the sync again"
            ),
            WalkError::OverBudget(err) => err.fmt(f),
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
        /// The server answers every offset as offset 0.
        ignores_offset: bool,
    }

    impl List {
        fn new(n: usize) -> List {
            List {
                rows: (0..n).map(|i| format!("{i:03}")).collect(),
                sequence: 7,
                inflation: 0,
                cap: 1000,
                ignores_offset: false,
            }
        }

        fn page(&self, query: ListQuery) -> (u64, u64, Vec<String>) {
            let offset = if self.ignores_offset { 0 } else { query.offset };
            let start = (offset as usize).min(self.rows.len());
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
                assert_eq!(flags.len(), rows.len(), "one flag per row");
                used.extend(rows.into_iter().zip(flags).filter(|(_, f)| *f).map(|(r, _)| r));
            }
            assert!(offsets.len() < 1000, "the walk must end");
        }
        Ok((used, offsets))
    }

    fn ids(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("{i:03}")).collect()
    }

    fn sorted(mut rows: Vec<String>) -> Vec<String> {
        rows.sort();
        rows
    }

    /// A deterministic shuffle of the rows, different for each `round`.
    fn shuffle(rows: &mut [String], round: u64) {
        let mut state = round.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        for i in (1..rows.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            rows.swap(i, (state % (i as u64 + 1)) as usize);
        }
    }

    #[test]
    fn exact_total_needs_no_probe_of_an_empty_page() -> Result<(), WalkError> {
        assert_eq!(
            walk(&mut List::new(25), 10, UNSORTED, |_, _| ())?,
            (ids(0..25), vec![0, 10, 20])
        );
        assert_eq!(walk(&mut List::new(20), 10, UNSORTED, |_, _| ())?.1, [0, 10]);
        assert_eq!(walk(&mut List::new(3), 1, UNSORTED, |_, _| ())?.1, [0, 1, 2]);
        assert_eq!(walk(&mut List::new(25), 10, USERS, |_, _| ())?.1, [0, 10, 20]);
        Ok(())
    }

    #[test]
    fn empty_list_takes_one_request() -> Result<(), WalkError> {
        assert_eq!(walk(&mut List::new(0), 1000, UNSORTED, |_, _| ())?, (vec![], vec![0]));
        assert_eq!(walk(&mut List::new(0), 1000, USERS, |_, _| ())?, (vec![], vec![0]));
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
        let mut sorted = Walk::new(2, USERS);
        assert!(matches!(sorted.judge(10, 1, ["a", "b"].into_iter()), Ok(Verdict::Use(_))));
        assert_eq!(
            sorted.judge(10, 1, ["a", "b"].into_iter()),
            Err(WalkError::SamePageAgain { offset: 2 })
        );
        // Rows in no order may come back as the page before by chance, often; sixteen
        // requests in a row, at offsets 0 to 30, are proof.
        let mut one = Walk::new(2, UNSORTED);
        for _ in 1..PROOF_REPEATS {
            assert!(matches!(one.judge(100, 1, ["a", "b"].into_iter()), Ok(Verdict::Use(_))));
        }
        assert_eq!(
            one.judge(100, 1, ["a", "b"].into_iter()),
            Err(WalkError::SamePageAgain { offset: 30 })
        );
        // Across reads as well, as long as three offsets brought it: five pages a read.
        let mut list = List { ignores_offset: true, ..List::new(10) };
        assert_eq!(
            walk(&mut list, 2, UNSORTED, |_, _| ()),
            Err(WalkError::SamePageAgain { offset: 0 })
        );
    }

    #[test]
    fn a_list_of_two_pages_served_the_same_always_is_no_proof() {
        // Two offsets bring the same page however often: no third offset to prove it, so
        // the list seems to change on every read.
        let mut list = List { ignores_offset: true, ..List::new(4) };
        assert_eq!(
            walk(&mut list, 2, UNSORTED, |_, _| ()),
            Err(WalkError::ChangedTooOften { reads: MAX_READS })
        );
    }

    #[test]
    fn a_new_order_on_every_request_a_row_a_page_is_no_ignored_offset() {
        // Three rows, read a row a page, in a new order on every request: the same row
        // comes back at the next offset one time in three. Never taken for proof.
        for round in 0..200 {
            let result = walk(&mut List::new(3), 1, UNSORTED, |request, list| {
                shuffle(&mut list.rows, round * 1000 + request as u64);
            });
            match result {
                Ok((used, _)) => assert_eq!(sorted(used), ids(0..3), "round {round}"),
                Err(err) => assert_eq!(err, WalkError::ChangedTooOften { reads: MAX_READS }),
            }
        }
    }

    #[test]
    fn rows_beyond_the_total_are_a_hostile_server() {
        // Fresh rows with a total of 0 would be paged forever.
        assert_eq!(
            Walk::new(2, USERS).judge(0, 1, ["a", "b"].into_iter()),
            Err(WalkError::MoreRowsThanTotal { rows: 2, total: 0 })
        );
        let mut walk = Walk::new(2, UNSORTED);
        assert!(matches!(walk.judge(3, 1, ["a", "b"].into_iter()), Ok(Verdict::Use(_))));
        assert_eq!(
            walk.judge(3, 1, ["c", "d"].into_iter()),
            Err(WalkError::MoreRowsThanTotal { rows: 4, total: 3 })
        );
        // So would fresh rows under a total too large to reach.
        assert_eq!(
            Walk::new(2, USERS).judge(1 << 63, 1, ["a", "b"].into_iter()),
            Err(WalkError::TotalTooLarge { total: 1 << 63 })
        );
    }

    #[test]
    fn one_row_past_the_total_is_a_hostile_server() {
        // The boundary itself: three rows of a list whose total is two, in one page or
        // across pages, whether the total is exact or not.
        for shape in [USERS, UNSORTED] {
            assert_eq!(
                Walk::new(3, shape).judge(2, 1, ["a", "b", "c"].into_iter()),
                Err(WalkError::MoreRowsThanTotal { rows: 3, total: 2 }),
                "{shape:?}"
            );
            let mut walk = Walk::new(2, shape);
            assert!(matches!(walk.judge(3, 1, ["a", "b"].into_iter()), Ok(Verdict::Use(_))));
            assert_eq!(
                walk.judge(3, 1, ["c", "d"].into_iter()),
                Err(WalkError::MoreRowsThanTotal { rows: 4, total: 3 }),
                "{shape:?}"
            );
        }
        // As many rows as the total is the list itself.
        assert!(Walk::new(3, USERS).judge(3, 1, ["a", "b", "c"].into_iter()).is_ok());
    }

    #[test]
    fn a_busy_instance_is_confirmed_by_the_rows_not_only_their_number() -> Result<(), WalkError> {
        // The sequence moves before every request. During the second read a row already
        // read is deleted and another created: that read sees as many rows, under the same
        // total, but not the same rows, so it confirms nothing and a third read follows
        // (which, missing 000 and holding 010, confirms nothing either: a fourth does).
        let (used, offsets) = walk(&mut List::new(25), 10, UNSORTED, |request, list| {
            list.sequence += 1;
            if request == 4 {
                list.rows.remove(0);
                list.rows.push("999".into());
            }
        })?;
        let mut expected = ids(0..25);
        expected.push("999".into());
        assert_eq!(sorted(used), expected);
        assert_eq!(offsets, [0, 10, 20, 0, 10, 20, 0, 10, 20, 0, 10, 20], "not the second read");
        Ok(())
    }

    #[test]
    fn more_distinct_rows_than_an_unchanged_total_are_a_hostile_server() {
        // Pages in another order are fine (see below), but not a fifth row of four.
        let mut walk = Walk::new(2, UNSORTED);
        assert!(matches!(walk.judge(4, 1, ["a", "b"].into_iter()), Ok(Verdict::Use(_))));
        assert!(matches!(walk.judge(4, 1, ["b", "c"].into_iter()), Ok(Verdict::Use(_))));
        assert!(matches!(walk.judge(4, 1, ["d", "a"].into_iter()), Ok(Verdict::Use(_))));
        assert_eq!(
            walk.judge(4, 1, ["e", "b"].into_iter()),
            Err(WalkError::MoreRowsThanTotal { rows: 5, total: 4 })
        );
    }

    #[test]
    fn a_hostile_total_reserves_little_memory() {
        let mut walk = Walk::new(2, UNSORTED);
        assert!(walk.judge(MAX_TOTAL, 1, ["a", "b"].into_iter()).is_ok());
        // Each slot of the table holds an 8-byte hash.
        let reserved = walk.used.slots() * 8;
        assert!(reserved <= 4 << 20, "{reserved} bytes reserved for two rows");
    }

    #[test]
    fn a_row_created_before_the_offset_is_caught_by_the_repeat_and_nothing_is_lost()
    -> Result<(), WalkError> {
        // Before the second request, a row is inserted at the front: the old row 009 moves
        // to offset 10 and is read twice; the sequence changes as well.
        let (used, offsets) = walk(&mut List::new(25), 10, UNSORTED, |request, list| {
            if request == 1 {
                list.rows.insert(0, "new".into());
                list.sequence += 1;
            }
        })?;
        let mut expected = ids(0..25);
        expected.push("new".into());
        assert_eq!(sorted(used), sorted(expected), "every row once, the new one included");
        // The rows read since the change, and the first page read again, are all 26.
        assert_eq!(offsets, [0, 10, 20, 0], "read on to the end, then from the start");
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
    fn an_empty_page_after_a_change_does_not_end_the_walk() -> Result<(), WalkError> {
        // 13 rows, pages of 12: after the first page, a row already read is deleted, the
        // last row slides into the first page's range, and the second page is empty. The
        // last row, there all along, must still be read.
        for shape in [USERS, UNSORTED] {
            let (used, offsets) = walk(&mut List::new(13), 12, shape, |request, list| {
                if request == 1 {
                    list.rows.remove(1);
                    list.sequence += 1;
                }
            })?;
            assert_eq!(used, ids(0..13), "{shape:?}");
            let expected: &[u64] = if shape.sorted_by_id { &[0, 12, 11, 0] } else { &[0, 12, 0] };
            assert_eq!(offsets, expected, "{shape:?}");
        }
        Ok(())
    }

    #[test]
    fn a_reordered_page_is_not_taken_for_an_ignored_offset() -> Result<(), WalkError> {
        // The same rows in another order at offset 2, the sequence unchanged: the list did
        // not change, so the rows seen in both reads together make it whole.
        let mut walk = Walk::new(2, UNSORTED);
        assert_eq!(walk.judge(4, 1, ["a", "b"].into_iter())?, Verdict::Use(vec![true, true]));
        assert_eq!(walk.judge(4, 1, ["b", "a"].into_iter())?, Verdict::Use(vec![false, false]));
        assert_eq!(walk.next_query().map(|query| query.offset), Some(0), "read again");
        assert_eq!(walk.judge(4, 1, ["d", "c"].into_iter())?, Verdict::Use(vec![true, true]));
        assert_eq!(walk.next_query(), None, "four distinct rows of four");
        Ok(())
    }

    #[test]
    fn an_unsorted_list_in_a_new_order_on_every_request_is_read_exactly() {
        // Postgres may return rows without ORDER BY in any order. With the data unchanged,
        // every row is read exactly once, or the walk gives up: never a row too few.
        let mut exact = 0;
        for round in 0..50 {
            let result = walk(&mut List::new(12), 4, UNSORTED, |request, list| {
                shuffle(&mut list.rows, round * 1000 + request as u64);
            });
            match result {
                Ok((used, _)) => {
                    assert_eq!(sorted(used), ids(0..12), "round {round}");
                    exact += 1;
                }
                Err(err) => assert_eq!(err, WalkError::ChangedTooOften { reads: MAX_READS }),
            }
        }
        assert!(exact >= 40, "only {exact} of 50 shuffled walks completed");
    }

    #[test]
    fn a_sorted_list_that_only_changed_elsewhere_costs_one_request() -> Result<(), WalkError> {
        // A row is updated (the sequence moves) but none moves: the page after the change
        // is asked again from one row earlier, and the list then holds still.
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
    fn a_busy_instance_costs_a_bounded_number_of_requests() -> Result<(), WalkError> {
        // The sequence moves before every request, the data never.
        let busy = |_: usize, list: &mut List| list.sequence += 1;
        // Unsorted: one more read, to see the same rows again.
        let (used, offsets) = walk(&mut List::new(25), 10, UNSORTED, busy)?;
        assert_eq!(used, ids(0..25));
        assert_eq!(offsets, [0, 10, 20, 0, 10, 20]);
        // Sorted: one page asked again, and every later page one row early.
        let (used, offsets) = walk(&mut List::new(25), 10, USERS, busy)?;
        assert_eq!(used, ids(0..25));
        assert_eq!(offsets, [0, 10, 9, 18]);
        // Sorted, a row a page: no room for an overlap, so one more read as well.
        let (used, offsets) = walk(&mut List::new(3), 1, USERS, busy)?;
        assert_eq!(used, ids(0..3));
        assert_eq!(offsets, [0, 1, 2, 0, 1, 2]);
        // A list on one page needs nothing more.
        assert_eq!(walk(&mut List::new(25), 100, UNSORTED, busy)?.1, [0]);
        Ok(())
    }

    #[test]
    fn a_busy_instance_does_not_hide_a_real_change() -> Result<(), WalkError> {
        // The sequence moves before every request, and in the second read a row already
        // read is deleted, which pulls 010 behind the walk: the two reads differ, so a third
        // is compared with the second.
        let (used, offsets) = walk(&mut List::new(25), 10, UNSORTED, |request, list| {
            list.sequence += 1;
            if request == 4 {
                list.rows.remove(0);
            }
        })?;
        assert_eq!(used, ids(0..25));
        assert_eq!(offsets, [0, 10, 20, 0, 10, 20, 0, 10, 20, 0, 10, 20]);
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
    fn a_list_that_changes_during_every_read_fails_after_four_reads() {
        // A row is created before every other request: no read sees the same rows as the
        // one before it, and no stretch without a change is long enough to see them all.
        let mut next = 100;
        let result = walk(&mut List::new(25), 10, UNSORTED, |request, list| {
            if request % 2 == 1 {
                list.rows.insert(0, format!("{next:03}"));
                next += 1;
                list.sequence += 1;
            }
        });
        assert_eq!(result, Err(WalkError::ChangedTooOften { reads: 4 }));
    }
}
