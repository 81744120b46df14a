//! The fetcher: every request of a sync or a check goes through its one retry loop, every
//! list through its one walk (parse a page, judge its rows, hand on the new ones), reusing
//! its page buffers. It prints nothing: what a row becomes is its list family's business.

use std::fmt;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::parse::{Rejected, judge, parse_page};
use crate::log::{self, Level};
use crate::paging::{self, Shape, Walk};
use crate::wire::{self, ListQuery};
use crate::zitadel::{Body, Client, Endpoint};

/// A list that the fetcher can walk: where it is, how a page of it is asked for, and how
/// its rows are told apart and checked. One small type per list, beside its family's code.
pub trait List {
    /// A row of the list, borrowed from its page.
    type Row<'b>: Deserialize<'b> + wire::Row + wire::Shaped<'b>;
    /// What is known of the rows' order and total; most lists have no defined order.
    const SHAPE: Shape = paging::UNSORTED;

    fn endpoint(&self) -> Endpoint<'_>;

    /// The body that asks for the page `query` names.
    fn request(&self, query: ListQuery) -> Vec<u8> {
        wire::list_request(query)
    }

    /// The row's id, which the walk remembers so that no row is used twice.
    fn key<'r>(row: &'r Self::Row<'_>) -> &'r str;

    /// Refuses a page whose rows no ZITADEL would send, before any of them is used.
    fn check_page(&self, _rows: &[Self::Row<'_>]) -> Result<(), String> {
        Ok(())
    }

    /// Refuses a row no ZITADEL would send; checked on every row the walk judged, new or
    /// not, in order, just before a new one is used.
    fn check_row(&self, _row: &Self::Row<'_>) -> Result<(), String> {
        Ok(())
    }
}

/// How far ahead of the row being used `walk_ahead` looks: a row's work (mapping, writing)
/// takes far longer than a load from memory, so one or two rows are enough.
const ROWS_AHEAD: usize = 2;

/// The client, the page size and the page buffers of finished walks.
pub struct Fetcher<'c> {
    client: &'c mut Client,
    page_size: u32,
    /// Page buffers of finished walks, reused so that a walk per project costs no new one.
    buffers: Vec<Body>,
}

impl<'c> Fetcher<'c> {
    pub fn new(client: &'c mut Client, page_size: u32) -> Fetcher<'c> {
        Fetcher { client, page_size, buffers: Vec::new() }
    }

    /// Names the organization in every later request.
    pub fn pin_org(&mut self, org_id: &str) {
        self.client.pin_org(org_id);
    }

    /// The HTTP requests made so far, retries included.
    pub fn requests(&self) -> u64 {
        self.client.requests()
    }

    /// The retries made so far.
    pub fn retries(&self) -> u64 {
        self.client.retries()
    }

    /// Walks `list` page by page, handing each row it has not used before to `each_new`
    /// (together with the fetcher, for the lists nested in that row); returns the finished
    /// walk. A list that changed while it was read is read again, without repeating rows.
    pub fn walk<L: List>(
        &mut self,
        list: &L,
        mut each_new: impl for<'b> FnMut(&mut Self, &L::Row<'b>) -> Result<()>,
    ) -> Result<Walk> {
        self.walk_ahead(list, |this, row, _| each_new(this, row))
    }

    /// `walk`, handing `each_new` also the row `ROWS_AHEAD` places further on the page, if
    /// there is one, so that what that row will need can be asked for before it is used.
    pub fn walk_ahead<L: List>(
        &mut self,
        list: &L,
        mut each_new: impl for<'b> FnMut(&mut Self, &L::Row<'b>, Option<&L::Row<'b>>) -> Result<()>,
    ) -> Result<Walk> {
        let endpoint = list.endpoint();
        let mut walk = Walk::new(self.page_size, L::SHAPE);
        let mut body = self.buffers.pop().unwrap_or_default();
        while let Some(query) = walk.next_query() {
            let reads = walk.reads();
            let (offset, limit) = (Some(query.offset), Some(query.limit));
            self.request(
                endpoint,
                offset,
                limit,
                &list.request(query),
                &mut body,
                |this, bytes| {
                    let page = parse_page::<L::Row<'_>>(bytes, this.page_size)?;
                    list.check_page(&page.result).map_err(Rejected::invalid)?;
                    let flags = judge(&mut walk, &page.details, page.result.iter().map(L::key))?;
                    for (at, (row, new)) in page.result.iter().zip(flags).enumerate() {
                        list.check_row(row).map_err(Rejected::invalid)?;
                        if new {
                            each_new(this, row, page.result.get(at + ROWS_AHEAD))?;
                        }
                    }
                    Ok(())
                },
            )?;
            if walk.reads() != reads {
                log_reread(endpoint, query.offset, walk.confirming());
            }
        }
        self.buffers.push(body);
        Ok(walk)
    }

    /// Fetches one object (no paging), retrying transient failures, until `accept` takes it.
    pub fn fetch<R>(
        &mut self,
        endpoint: Endpoint,
        request: &[u8],
        mut accept: impl FnMut(&[u8]) -> Result<R, Rejected>,
    ) -> Result<R> {
        let mut body = Body::default();
        self.request(endpoint, None, None, request, &mut body, |_, bytes| accept(bytes))
    }

    /// Sends one request, retrying transient failures, until `accept` takes the body.
    /// `offset` and `limit` are the page's, for messages and logs.
    pub fn request<R>(
        &mut self,
        endpoint: Endpoint,
        offset: Option<u64>,
        limit: Option<u32>,
        request: &[u8],
        body: &mut Body,
        mut accept: impl FnMut(&mut Self, &[u8]) -> Result<R, Rejected>,
    ) -> Result<R> {
        let at = At { endpoint, offset };
        let mut attempts = self.client.attempts();
        loop {
            let started = std::time::Instant::now();
            let sent = self.client.send(endpoint, request, body);
            if log::enabled(Level::Debug) {
                let status = match &sent {
                    Ok(status) => Some(*status),
                    Err(failure) => failure.status,
                };
                log::log(
                    Level::Debug,
                    "request",
                    &[
                        ("method", endpoint.method().into()),
                        ("path", endpoint.path().into()),
                        ("offset", offset.into()),
                        ("limit", limit.into()),
                        ("status", status.into()),
                        ("bytes", body.bytes().len().into()),
                        ("duration_ms", (started.elapsed().as_secs_f64() * 1000.0).round().into()),
                        ("attempt", attempts.made().into()),
                    ],
                );
            }
            let failure = match sent {
                Ok(_) => match accept(self, body.bytes()) {
                    Ok(accepted) => return Ok(accepted),
                    Err(Rejected::Malformed(failure)) => failure,
                    Err(Rejected::Invalid(err)) => return Err(err.context(at.to_string())),
                    Err(Rejected::Fatal(err)) => return Err(err),
                },
                Err(failure) => failure,
            };
            self.client
                .retry_or_give_up(&mut attempts, failure, &at)
                .with_context(|| at.to_string())?;
        }
    }
}

/// Says why a list is read again from its start.
fn log_reread(endpoint: Endpoint, offset: u64, confirming: bool) {
    if confirming {
        // A busy instance: expected, and no sign of trouble.
        log::info(&format!(
            "{endpoint}: ZITADEL's sequence moved while the list was read (offset {offset}); reading it again to confirm that the list did not change"
        ));
    } else {
        log::warn(&format!(
            "{endpoint}: the list changed while it was read (offset {offset}); reading it again, without repeating records"
        ));
    }
}

/// Where a request went, for messages: `POST /management/v1/users/_search at offset 2000`.
struct At<'e> {
    endpoint: Endpoint<'e>,
    offset: Option<u64>,
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(offset) => write!(f, "{} at offset {offset}", self.endpoint),
            None => write!(f, "{}", self.endpoint),
        }
    }
}
