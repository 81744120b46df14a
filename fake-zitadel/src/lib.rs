//! A fake ZITADEL Management API v1 that serves a dataset over loopback HTTP/1.1, for tests, the demo and benchmarks.
//!
//! It reproduces the wire facts of `docs/zitadel-api.md`: the JSON mapping (rows are stored in
//! wire format, so they are served exactly as ZITADEL would), paging with or without the v4.20
//! limits, the error bodies and their order (routing, body decoding, authentication, org
//! context, permission, validation, limits), and Go's framing (`Content-Length` up to 2 KiB,
//! chunked above). Tests can inject faults and change the data while it runs.
//!
//! This file is the public face: the running server, its options and the request log. The
//! rest lives beside it, one concern a file: `dataset/` (what is served, and reading it from
//! a file), `http.rs` (the connections), `routes.rs` (ZITADEL's endpoints and checks),
//! `query.rs` (list request bodies), `access.rs` (the access endpoints: managers, member
//! roles, project grants), `admin.rs` (the instance and its managers),
//! `credentials.rs` (service users' tokens and keys), `faults.rs` (what tests inject), `generate/` (benchmark
//! organizations and their ground truth) and `json.rs`. `contract.rs` checks what the
//! client prints: the promises of its output stream. The binary (`main.rs`) serves a
//! dataset file, for `make demo`.

mod access;
mod admin;
mod contract;
mod credentials;
mod dataset;
mod faults;
mod generate;
mod http;
mod json;
mod me;
mod query;
mod routes;
mod sign_in;

pub use contract::{Contract, RECORD_KINDS, Record};
pub use dataset::{
    CredentialRow, Dataset, GrantRow, GrantedProject, Instance, MANAGER_ROLES, MemberLevel,
    MemberRow, Org, ProjectGrantRow, ProjectRow, Token, UserRow,
};
pub use faults::{Answer, Fault, FaultAction, Mutation};
pub use generate::{
    AccessCounts, AccessTruth, GENERATED_IAM_PAT, GENERATED_ORG, GENERATED_OTHER_ORG,
    GENERATED_PAT, GenerateSpec, GroundTruth, SummaryCounts, manager_role_name, record_hash,
};
pub use routes::endpoint_of;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// Options and request log
// ---------------------------------------------------------------------------------------

/// How the fake behaves beyond the data.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The page-size rules (default: enforced, like v4.20 and later).
    pub limits: Limits,
    /// Added to the users `totalResult` of every non-empty page, mimicking zitadel#10825
    /// (users with several metadata entries are counted several times).
    pub users_total_inflation: u64,
    /// Slept before answering each request.
    pub latency: Duration,
    /// Leaves `userResourceOwner` out of member rows, as servers before zitadel#9168
    /// (2025-01) do.
    pub omit_member_user_resource_owner: bool,
    /// A busy instance: `processedSequence` moves on every request (the request number is
    /// added to it), as the projection's position does when other organizations of the
    /// instance change, although the data served here does not.
    pub busy_instance: bool,
    /// Serve the lists without ORDER BY (projects, roles, user grants, managers, project
    /// grants) in another order on every request, shuffled by this seed and the request
    /// number: Postgres returns their rows in whatever order its plan yields.
    pub shuffle_seed: Option<u64>,
    /// A server older than the v2 lists of tokens and keys: they answer 404, as an unknown
    /// route does.
    pub without_v2_credential_lists: bool,
}

/// The page-size rules of a ZITADEL version (`docs/zitadel-api.md#lists-and-paging` and
/// `#page-limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limits {
    /// Before v4.20: `limit` 0 or absent returns every row, and there is no maximum.
    Unlimited,
    /// v4.20 and later: `limit` 0 or absent means `default`; above `max` is a 400.
    Enforced { default: u64, max: u64 },
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::Enforced { default: 100, max: 1000 }
    }
}

/// One request as the fake saw it (the token itself is deliberately not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLog {
    /// The 1-based number of the request across all connections.
    pub number: u64,
    pub method: String,
    /// The request path without the query string.
    pub path: String,
    /// The `Host` header, by which ZITADEL tells its instances apart, if sent.
    pub host: Option<String>,
    /// The `x-zitadel-orgid` header, if sent.
    pub org_header: Option<String>,
    /// Whether an `Authorization` header was sent.
    pub has_authorization: bool,
    /// `query.offset` of the body, if it was there and a valid number.
    pub offset: Option<u64>,
    /// `query.limit` of the body, if it was there and a valid number.
    pub limit: Option<u64>,
    /// The raw request body (lossily decoded as UTF-8).
    pub body: String,
    /// The status sent, or 0 when the connection was dropped without an answer.
    pub status: u16,
}

// ---------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------

/// A running fake ZITADEL on `127.0.0.1`; it stops when dropped.
pub struct FakeZitadel {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

/// The state shared by the handle, the accept thread and the connection threads.
struct Shared {
    dataset: Mutex<Dataset>,
    options: Mutex<Options>,
    faults: Mutex<Vec<Fault>>,
    log: Mutex<Vec<RequestLog>>,
    /// Signalled whenever a request arrives, for `wait_for_requests`.
    arrived: Condvar,
    /// Open connections, so that stopping can shut them down and free their threads.
    connections: Mutex<HashMap<u64, TcpStream>>,
    next_connection: AtomicU64,
    request_counter: AtomicU64,
    response_bytes: AtomicU64,
    stopping: AtomicBool,
    /// Lookups across the dataset (`routes::Index`), built by the first request that needs
    /// them and dropped whenever the dataset changes.
    index: Mutex<Option<routes::Index>>,
}

impl FakeZitadel {
    /// Binds `127.0.0.1:0` and serves the dataset on background threads.
    pub fn start(dataset: Dataset, options: Options) -> io::Result<FakeZitadel> {
        FakeZitadel::start_on(dataset, options, Ipv4Addr::LOCALHOST.into())
    }

    /// `start` on a free port of `ip` alone (`::1` for a server reached over IPv6 only).
    pub fn start_on(dataset: Dataset, options: Options, ip: IpAddr) -> io::Result<FakeZitadel> {
        let listener = TcpListener::bind((ip, 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            dataset: Mutex::new(dataset),
            options: Mutex::new(options),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
            connections: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(0),
            request_counter: AtomicU64::new(0),
            response_bytes: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            index: Mutex::new(None),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name("fake-zitadel-accept".into())
            .spawn(move || http::accept_loop(&listener, &accept_shared))?;
        Ok(FakeZitadel { addr, shared, accept_thread: Some(accept_thread) })
    }

    /// The base URL, like `http://127.0.0.1:PORT` (`http://[::1]:PORT` on IPv6).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request so far, in the order the answers were decided.
    pub fn requests(&self) -> Vec<RequestLog> {
        lock(&self.shared.log).clone()
    }

    /// How many requests have been logged.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.log).len()
    }

    /// The total number of response body bytes sent.
    pub fn response_bytes(&self) -> u64 {
        self.shared.response_bytes.load(Ordering::SeqCst)
    }

    /// Blocks until at least `n` requests have arrived since the start (before any latency
    /// or answer), or `timeout` passes; returns whether they have.
    pub fn wait_for_requests(&self, n: u64, timeout: Duration) -> bool {
        let arrived = || self.shared.request_counter.load(Ordering::SeqCst);
        let log = lock(&self.shared.log);
        let _ = self
            .shared
            .arrived
            .wait_timeout_while(log, timeout, |_| arrived() < n)
            .unwrap_or_else(PoisonError::into_inner);
        arrived() >= n
    }

    /// Forgets the logged requests (request numbers keep counting).
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Adds a fault; faults are tried in the order they were added, the first match wins.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Removes all faults.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Replaces the options; requests read them when they arrive.
    pub fn set_options(&self, options: Options) {
        *lock(&self.shared.options) = options;
    }

    /// The current options.
    pub fn options(&self) -> Options {
        lock(&self.shared.options).clone()
    }

    /// Runs `f` on the dataset while no request is being answered, e.g. to remove a user
    /// between two pages.
    pub fn with_dataset<R>(&self, f: impl FnOnce(&mut Dataset) -> R) -> R {
        self.shared.write(f)
    }

    /// Stops accepting, closes open connections and waits for the accept thread.
    pub fn stop(&mut self) {
        if self.shared.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        // The accept thread blocks in accept(); a connection of our own wakes it up so it
        // can see the stop flag.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        for (_, stream) in lock(&self.shared.connections).drain() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        if let Some(handle) = self.accept_thread.take()
            && woke
        {
            let _ = handle.join();
        }
    }
}

impl Drop for FakeZitadel {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Locks a mutex, ignoring poisoning: a panicking test closure must not break the server.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Records an open connection unless the server is stopping; the check happens under
    /// the same lock `stop` drains, so no connection escapes the shutdown.
    fn register(&self, id: u64, stream: &TcpStream) -> bool {
        let mut connections = lock(&self.connections);
        if self.stopping.load(Ordering::SeqCst) {
            return false;
        }
        if let Ok(clone) = stream.try_clone() {
            connections.insert(id, clone);
        }
        true
    }

    /// Records a request; callers log before answering, so a client that got its answer
    /// always finds its request in `FakeZitadel::requests`.
    fn log(&self, entry: RequestLog) {
        lock(&self.log).push(entry);
    }

    /// Changes the dataset as one write.
    fn write<R>(&self, f: impl FnOnce(&mut Dataset) -> R) -> R {
        let mut dataset = lock(&self.dataset);
        let result = f(&mut dataset);
        dataset.writes += 1;
        // Any row may have changed; the index is rebuilt on the next request that needs it.
        *lock(&self.index) = None;
        result
    }

    /// Returns the action of the first fault that hits this request, using up one of its times.
    fn take_fault(&self, number: u64, path: &str) -> Option<FaultAction> {
        let mut faults = lock(&self.faults);
        let fault = faults.iter_mut().find(|fault| fault.matches(number, path))?;
        if let Some(times) = &mut fault.times {
            *times -= 1;
        }
        Some(fault.action.clone())
    }
}
