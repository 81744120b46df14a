//! A fake ZITADEL Management API v1 that serves a dataset over loopback HTTP/1.1, for tests, the demo and benchmarks.
//!
//! It reproduces the wire facts of `zitadel-api.md`: the JSON mapping (rows are stored in wire
//! format, so they are served exactly as ZITADEL would), paging with or without the v4.20
//! limits, the error bodies and their order (routing, body decoding, authentication, org
//! context, permission, validation, limits), and Go's framing (`Content-Length` up to 2 KiB,
//! chunked above). Tests can inject faults and change the data while it runs.

// The demo binary, the end-to-end tests and the benchmark each include this module and each
// uses a different part of its API, so unused items are expected in every one of them.
#![allow(dead_code)]

#[path = "json.rs"]
mod json;

use json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The `processedSequence` of every list answer before the first write through
/// `FakeZitadel::with_dataset`; each write adds one, as each event processed by a ZITADEL
/// projection moves its sequence, so answers are reproducible and changes are visible.
const PROCESSED_SEQUENCE: u64 = 5427;
/// The `viewTimestamp` of every list answer; fixed for the same reason.
const VIEW_TIMESTAMP: &str = "2025-10-02T09:30:00.512309Z";
/// Go's net/http sends bodies up to this size with `Content-Length`, larger ones chunked.
const CONTENT_LENGTH_MAX: usize = 2048;
/// The size of each chunk of a chunked body (Go flushes its 4 KiB buffer per chunk).
const CHUNK_SIZE: usize = 4096;
/// Requests with a longer header line or header section are rejected as malformed.
const MAX_LINE: usize = 16 * 1024;
const MAX_HEADERS: usize = 100;
/// Request bodies are small filters; anything above this is rejected as malformed.
const MAX_BODY: usize = 1024 * 1024;
/// The body answered for `FaultAction::Garbage`: what a proxy in front of ZITADEL might send.
const GARBAGE_BODY: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
    <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

// ---------------------------------------------------------------------------------------
// Dataset
// ---------------------------------------------------------------------------------------

/// Everything the fake serves: organizations with their rows, and the known tokens.
///
/// Rows are kept as compact wire-format JSON strings plus the few fields the server filters
/// or sorts by, so a page is served by joining strings, even with 100,000s of rows.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// The organizations, in insertion order.
    pub orgs: Vec<Org>,
    /// The personal access tokens the fake accepts.
    pub tokens: Vec<Token>,
    /// Writes made through `FakeZitadel::with_dataset` (or a `Mutate` fault).
    pub writes: u64,
}

/// One organization and the rows it owns.
#[derive(Debug, Clone)]
pub struct Org {
    /// The org id, taken from the org JSON.
    pub id: String,
    /// The org as served by `orgs/me` (wire format, compact).
    pub json: String,
    /// The users; the server sorts them by id before serving, like ZITADEL's default order.
    pub users: Vec<UserRow>,
    /// The projects, served in this order (ZITADEL has no ORDER BY for them).
    pub projects: Vec<ProjectRow>,
    /// Role JSON rows per project id, each list served in its order.
    pub roles: BTreeMap<String, Vec<String>>,
    /// The user grants this org owns, served in this order.
    pub user_grants: Vec<GrantRow>,
}

/// A user row: the wire JSON and the fields the server sorts by.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    /// `details.creationDate`, for `USER_FIELD_NAME_CREATION_DATE`.
    pub creation_date: String,
    /// `userName`, for `USER_FIELD_NAME_USER_NAME`.
    pub user_name: String,
    pub json: String,
}

/// A project row: the wire JSON and its id.
#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: String,
    pub json: String,
}

/// A user grant row: the wire JSON and the fields the grant filters compare.
#[derive(Debug, Clone)]
pub struct GrantRow {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub json: String,
}

/// A personal access token and what its user may do.
#[derive(Debug, Clone)]
pub struct Token {
    /// The bearer token text.
    pub token: String,
    /// The org of the token's user: the context org when no `x-zitadel-orgid` is sent.
    pub user_org: String,
    /// Whether the user has an instance-level role, which covers every org.
    pub instance_level: bool,
    /// Permission names such as `user.read`.
    pub permissions: Vec<String>,
}

impl Token {
    /// A token of an Org Owner Viewer of `org`: every permission a sync needs, in that org.
    pub fn org_viewer(token: &str, org: &str) -> Token {
        let permissions =
            ["org.read", "user.read", "project.read", "project.role.read", "user.grant.read"];
        Token {
            token: token.to_string(),
            user_org: org.to_string(),
            instance_level: false,
            permissions: permissions.map(String::from).to_vec(),
        }
    }
}

impl Dataset {
    /// Returns an empty dataset, to be filled with the `add_*` methods.
    pub fn new() -> Dataset {
        Dataset::default()
    }

    /// Reads and parses a dataset file (format: `testdata/demo.json`).
    pub fn load(path: impl AsRef<Path>) -> Result<Dataset, String> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Dataset::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the text of a dataset file.
    pub fn parse(text: &str) -> Result<Dataset, String> {
        let root = json::parse(text)?;
        let mut dataset = Dataset::new();
        for (i, entry) in array_member(&root, "orgs")?.iter().enumerate() {
            let at = |e: String| format!("orgs[{i}]: {e}");
            let org = entry.get("org").ok_or_else(|| at("missing \"org\"".into()))?;
            let org_id = dataset.add_org_value(org).map_err(at)?;
            for (j, user) in array_member(entry, "users").map_err(at)?.iter().enumerate() {
                dataset
                    .add_user_value(&org_id, user)
                    .map_err(|e| at(format!("users[{j}]: {e}")))?;
            }
            for (j, project) in array_member(entry, "projects").map_err(at)?.iter().enumerate() {
                dataset
                    .add_project_value(&org_id, project)
                    .map_err(|e| at(format!("projects[{j}]: {e}")))?;
            }
            match entry.get("roles") {
                None | Some(Value::Null) => {}
                Some(Value::Object(projects)) => {
                    for (project_id, roles) in projects {
                        let roles = roles
                            .as_array()
                            .ok_or_else(|| at(format!("roles.{project_id}: expected an array")))?;
                        for (j, role) in roles.iter().enumerate() {
                            dataset
                                .add_role_value(&org_id, project_id, role)
                                .map_err(|e| at(format!("roles.{project_id}[{j}]: {e}")))?;
                        }
                    }
                }
                Some(_) => return Err(at("\"roles\" must be an object".into())),
            }
            for (j, grant) in array_member(entry, "userGrants").map_err(at)?.iter().enumerate() {
                dataset
                    .add_user_grant_value(&org_id, grant)
                    .map_err(|e| at(format!("userGrants[{j}]: {e}")))?;
            }
        }
        for (i, token) in array_member(&root, "tokens")?.iter().enumerate() {
            let token = token_from_value(token).map_err(|e| format!("tokens[{i}]: {e}"))?;
            dataset.add_token(token);
        }
        Ok(dataset)
    }

    /// Adds an organization from its wire JSON (`{"id":..,"details":..,"state":..,"name":..}`)
    /// and returns its id.
    pub fn add_org(&mut self, org_json: &str) -> Result<String, String> {
        self.add_org_value(&json::parse(org_json)?)
    }

    /// Adds a user (wire JSON, §1.2) to an org.
    pub fn add_user(&mut self, org_id: &str, user_json: &str) -> Result<(), String> {
        self.add_user_value(org_id, &json::parse(user_json)?)
    }

    /// Adds a user row whose fields the caller has already extracted; the JSON is not checked.
    ///
    /// This is the fast path for generated datasets with 100,000s of users.
    pub fn add_user_row(&mut self, org_id: &str, row: UserRow) -> Result<(), String> {
        self.org_mut_or_err(org_id)?.users.push(row);
        Ok(())
    }

    /// Adds a project (wire JSON, §1.3) to an org.
    pub fn add_project(&mut self, org_id: &str, project_json: &str) -> Result<(), String> {
        self.add_project_value(org_id, &json::parse(project_json)?)
    }

    /// Adds a role (wire JSON, §1.4) to a project the org already has.
    pub fn add_role(
        &mut self,
        org_id: &str,
        project_id: &str,
        role_json: &str,
    ) -> Result<(), String> {
        self.add_role_value(org_id, project_id, &json::parse(role_json)?)
    }

    /// Adds a user grant (wire JSON, §1.5) owned by the org.
    pub fn add_user_grant(&mut self, org_id: &str, grant_json: &str) -> Result<(), String> {
        self.add_user_grant_value(org_id, &json::parse(grant_json)?)
    }

    /// Adds a user grant row whose fields the caller has already extracted; the JSON is not checked.
    pub fn add_user_grant_row(&mut self, org_id: &str, row: GrantRow) -> Result<(), String> {
        self.org_mut_or_err(org_id)?.user_grants.push(row);
        Ok(())
    }

    /// Adds a token the fake accepts.
    pub fn add_token(&mut self, token: Token) {
        self.tokens.push(token);
    }

    /// Returns the org with this id.
    pub fn org(&self, org_id: &str) -> Option<&Org> {
        self.orgs.iter().find(|org| org.id == org_id)
    }

    /// Returns the org with this id, for changing its rows.
    pub fn org_mut(&mut self, org_id: &str) -> Option<&mut Org> {
        self.orgs.iter_mut().find(|org| org.id == org_id)
    }

    /// Removes a user from an org; returns whether it was there. Grants are left alone,
    /// as in ZITADEL's projection lag.
    pub fn remove_user(&mut self, org_id: &str, user_id: &str) -> bool {
        let Some(org) = self.org_mut(org_id) else { return false };
        let before = org.users.len();
        org.users.retain(|user| user.id != user_id);
        org.users.len() != before
    }

    /// Removes a user grant from an org; returns whether it was there.
    pub fn remove_user_grant(&mut self, org_id: &str, grant_id: &str) -> bool {
        let Some(org) = self.org_mut(org_id) else { return false };
        let before = org.user_grants.len();
        org.user_grants.retain(|grant| grant.id != grant_id);
        org.user_grants.len() != before
    }

    fn org_mut_or_err(&mut self, org_id: &str) -> Result<&mut Org, String> {
        self.org_mut(org_id).ok_or_else(|| format!("unknown org {org_id:?}"))
    }

    fn add_org_value(&mut self, org: &Value) -> Result<String, String> {
        let id = required_str(org, "id")?.to_string();
        if self.org(&id).is_some() {
            return Err(format!("duplicate org {id:?}"));
        }
        self.orgs.push(Org {
            id: id.clone(),
            json: org.to_json(),
            users: Vec::new(),
            projects: Vec::new(),
            roles: BTreeMap::new(),
            user_grants: Vec::new(),
        });
        Ok(id)
    }

    fn add_user_value(&mut self, org_id: &str, user: &Value) -> Result<(), String> {
        check_resource_owner(user, org_id)?;
        let details = user.get("details");
        let row = UserRow {
            id: required_str(user, "id")?.to_string(),
            creation_date: details
                .and_then(|d| d.get("creationDate"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            user_name: user.get("userName").and_then(Value::as_str).unwrap_or_default().to_string(),
            json: user.to_json(),
        };
        self.add_user_row(org_id, row)
    }

    fn add_project_value(&mut self, org_id: &str, project: &Value) -> Result<(), String> {
        check_resource_owner(project, org_id)?;
        let row =
            ProjectRow { id: required_str(project, "id")?.to_string(), json: project.to_json() };
        self.org_mut_or_err(org_id)?.projects.push(row);
        Ok(())
    }

    fn add_role_value(
        &mut self,
        org_id: &str,
        project_id: &str,
        role: &Value,
    ) -> Result<(), String> {
        check_resource_owner(role, org_id)?;
        required_str(role, "key")?;
        let org = self.org_mut_or_err(org_id)?;
        if !org.projects.iter().any(|project| project.id == project_id) {
            return Err(format!("org {org_id:?} has no project {project_id:?}"));
        }
        org.roles.entry(project_id.to_string()).or_default().push(role.to_json());
        Ok(())
    }

    fn add_user_grant_value(&mut self, org_id: &str, grant: &Value) -> Result<(), String> {
        check_resource_owner(grant, org_id)?;
        let row = GrantRow {
            id: required_str(grant, "id")?.to_string(),
            project_id: required_str(grant, "projectId")?.to_string(),
            user_id: required_str(grant, "userId")?.to_string(),
            json: grant.to_json(),
        };
        self.add_user_grant_row(org_id, row)
    }
}

fn token_from_value(value: &Value) -> Result<Token, String> {
    let instance_level = match value.get("instanceLevel") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("\"instanceLevel\" must be a bool".into()),
    };
    let mut permissions = Vec::new();
    for permission in array_member(value, "permissions")? {
        let permission = permission.as_str().ok_or("permissions must be strings")?;
        permissions.push(permission.to_string());
    }
    Ok(Token {
        token: required_str(value, "token")?.to_string(),
        user_org: required_str(value, "userOrg")?.to_string(),
        instance_level,
        permissions,
    })
}

/// Returns the array member `key` of an object; a missing or null member is an empty array.
fn array_member<'a>(value: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{key:?} must be an array")),
    }
}

fn required_str<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    match value.get(key).and_then(Value::as_str) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(format!("missing string {key:?}")),
    }
}

/// Rejects rows whose `details.resourceOwner` names another org, a likely dataset mistake.
fn check_resource_owner(row: &Value, org_id: &str) -> Result<(), String> {
    let owner = row.get("details").and_then(|d| d.get("resourceOwner")).and_then(Value::as_str);
    match owner {
        Some(owner) if owner != org_id => Err(format!(
            "details.resourceOwner is {owner:?}, but the row is listed under org {org_id:?}"
        )),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// Options, request log and faults
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
    /// A busy instance: `processedSequence` moves on every request (the request number is
    /// added to it), as the projection's position does when other organizations of the
    /// instance change, although the data served here does not.
    pub busy_instance: bool,
    /// Serve projects, roles and user grants in another order on every request, shuffled
    /// by this seed and the request number: those lists have no ORDER BY, and Postgres
    /// returns their rows in whatever order its plan yields.
    pub shuffle_seed: Option<u64>,
}

/// The page-size rules of a ZITADEL version (`zitadel-api.md` §2 and §2a).
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

/// A fault to inject: which requests it hits, how often, and what happens instead.
///
/// ```ignore
/// fake.inject(Fault::new(FaultAction::DropConnection).on_path("/users/_search").once());
/// ```
#[derive(Debug, Clone)]
pub struct Fault {
    /// Hit only requests whose path contains this text.
    pub path_contains: Option<String>,
    /// Hit only the request with this 1-based number.
    pub request_number: Option<u64>,
    /// How many more requests to hit; `None` means every matching request.
    pub times: Option<u32>,
    pub action: FaultAction,
}

/// What the fake does instead of answering normally.
#[derive(Debug, Clone)]
pub enum FaultAction {
    /// Answer with this status, body and extra headers (`Content-Type: application/json`
    /// is added unless the headers set a content type).
    Status { status: u16, body: String, headers: Vec<(String, String)> },
    /// Close the connection without answering.
    DropConnection,
    /// Send the normal answer's headers with its full `Content-Length`, then only half of
    /// the body, then close.
    CutBody,
    /// Answer 200 with an HTML proxy error page instead of JSON.
    Garbage,
    /// Change the dataset (one write), then answer normally: data that changes between
    /// two pages of a walk.
    Mutate(Mutation),
    /// Answer 200 with the JSON body this function makes of the request (its log entry):
    /// a server whose answers depend on the page asked for.
    Answer(Answer),
}

/// A body maker, for `FaultAction::Answer`.
#[derive(Clone)]
pub struct Answer(pub Arc<dyn Fn(&RequestLog) -> String + Send + Sync>);

impl Answer {
    pub fn new(answer: impl Fn(&RequestLog) -> String + Send + Sync + 'static) -> Answer {
        Answer(Arc::new(answer))
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Answer(..)")
    }
}

/// A change to the dataset, for `FaultAction::Mutate`.
#[derive(Clone)]
pub struct Mutation(pub Arc<dyn Fn(&mut Dataset) + Send + Sync>);

impl Mutation {
    pub fn new(change: impl Fn(&mut Dataset) + Send + Sync + 'static) -> Mutation {
        Mutation(Arc::new(change))
    }
}

impl std::fmt::Debug for Mutation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mutation(..)")
    }
}

impl Fault {
    /// A fault that hits every request; narrow it with the builder methods.
    pub fn new(action: FaultAction) -> Fault {
        Fault { path_contains: None, request_number: None, times: None, action }
    }

    /// Hits only requests whose path contains `text`.
    pub fn on_path(mut self, text: &str) -> Fault {
        self.path_contains = Some(text.to_string());
        self
    }

    /// Hits only the request with this 1-based number.
    pub fn on_request(mut self, number: u64) -> Fault {
        self.request_number = Some(number);
        self
    }

    /// Hits only the first matching request.
    pub fn once(self) -> Fault {
        self.times(1)
    }

    /// Hits only the first `n` matching requests.
    pub fn times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }

    fn matches(&self, number: u64, path: &str) -> bool {
        self.times != Some(0)
            && self.request_number.is_none_or(|n| n == number)
            && self.path_contains.as_deref().is_none_or(|text| path.contains(text))
    }
}

impl FaultAction {
    /// A ZITADEL-style error answer: `{"code":grpc_code,"message":message}` with `status`.
    pub fn error(status: u16, grpc_code: u32, message: &str) -> FaultAction {
        let body = format!("{{\"code\":{grpc_code},\"message\":{}}}", json::quote(message));
        FaultAction::Status { status, body, headers: Vec::new() }
    }
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
    /// Per org id, the positions of its user grants by project id, built on the first
    /// request that filters by project and dropped whenever `with_dataset` runs: a sync asks
    /// for one project's grants at a time, and scanning every grant of a large org for each
    /// of its projects would make the fake, not the client, the thing measured.
    grant_index: Mutex<HashMap<String, HashMap<String, Vec<usize>>>>,
}

impl FakeZitadel {
    /// Binds `127.0.0.1:0` and serves the dataset on background threads.
    pub fn start(dataset: Dataset, options: Options) -> io::Result<FakeZitadel> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
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
            grant_index: Mutex::new(HashMap::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name("fake-zitadel-accept".into())
            .spawn(move || accept_loop(&listener, &accept_shared))?;
        Ok(FakeZitadel { addr, shared, accept_thread: Some(accept_thread) })
    }

    /// The base URL, like `http://127.0.0.1:PORT`.
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

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
        if !shared.register(id, &stream) {
            return;
        }
        let conn_shared = Arc::clone(shared);
        let spawned = thread::Builder::new().name("fake-zitadel-conn".into()).spawn(move || {
            serve_connection(stream, &conn_shared);
            lock(&conn_shared.connections).remove(&id);
        });
        if spawned.is_err() {
            lock(&shared.connections).remove(&id);
        }
    }
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
        // The grants may have changed; the index is rebuilt on the next request that needs it.
        lock(&self.grant_index).clear();
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

// ---------------------------------------------------------------------------------------
// HTTP/1.1
// ---------------------------------------------------------------------------------------

/// A parsed HTTP request.
struct Request {
    method: String,
    path: String,
    http_1_1: bool,
    /// Header names are lowercased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 only when asked to keep it.
    fn keep_alive(&self) -> bool {
        let tokens = self.header("connection").unwrap_or_default().to_ascii_lowercase();
        let has = |t: &str| tokens.split(',').any(|token| token.trim() == t);
        if self.http_1_1 { !has("close") } else { has("keep-alive") }
    }
}

/// Why reading a request stopped.
enum ReadError {
    /// The peer closed or the socket failed: nothing to answer.
    Closed,
    /// The bytes are not a valid request: answer 400 and close.
    Malformed,
}

/// An answer: status, extra headers and body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    loop {
        let request = match read_request(&mut reader, &mut writer) {
            Ok(Some(request)) => request,
            Ok(None) | Err(ReadError::Closed) => return,
            Err(ReadError::Malformed) => {
                answer_malformed(&mut writer, shared);
                return;
            }
        };
        let number = shared.request_counter.fetch_add(1, Ordering::SeqCst) + 1;
        // Taking the lock that waiters hold between checking and sleeping means no waiter
        // can miss this wake-up.
        drop(lock(&shared.log));
        shared.arrived.notify_all();
        let keep_alive = request.keep_alive();
        let fault = shared.take_fault(number, &request.path);
        let latency = lock(&shared.options).latency;
        if !latency.is_zero() {
            thread::sleep(latency);
        }
        let mut entry = log_entry(&request, number);
        let sent = match fault {
            None | Some(FaultAction::Mutate(_)) => {
                if let Some(FaultAction::Mutate(Mutation(change))) = &fault {
                    shared.write(|dataset| change(dataset));
                }
                let response = handle(shared, &request, number);
                entry.status = response.status;
                shared.log(entry);
                send(&mut writer, &response, request.http_1_1, keep_alive)
            }
            Some(FaultAction::Answer(Answer(answer))) => {
                let response = Response { status: 200, headers: Vec::new(), body: answer(&entry) };
                entry.status = 200;
                shared.log(entry);
                send(&mut writer, &response, request.http_1_1, keep_alive)
            }
            Some(FaultAction::Status { status, body, headers }) => {
                let mut response = Response { status, headers, body };
                if !response.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
                    response.headers.insert(0, ("Content-Type".into(), "application/json".into()));
                }
                entry.status = status;
                shared.log(entry);
                send_raw(&mut writer, &response, keep_alive)
            }
            Some(FaultAction::Garbage) => {
                let headers = vec![("Content-Type".into(), "text/html".into())];
                let response = Response { status: 200, headers, body: GARBAGE_BODY.into() };
                entry.status = 200;
                shared.log(entry);
                send_raw(&mut writer, &response, keep_alive)
            }
            Some(FaultAction::DropConnection) => {
                shared.log(entry);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Some(FaultAction::CutBody) => {
                let response = handle(shared, &request, number);
                entry.status = response.status;
                shared.log(entry);
                if let Ok(bytes) = send_cut(&mut writer, &response) {
                    shared.response_bytes.fetch_add(bytes, Ordering::SeqCst);
                }
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
        };
        match sent {
            Ok(bytes) => shared.response_bytes.fetch_add(bytes, Ordering::SeqCst),
            Err(_) => return,
        };
        if !keep_alive {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Builds the log entry of a request; its status is filled in once the answer is decided.
fn log_entry(request: &Request, number: u64) -> RequestLog {
    let parsed = std::str::from_utf8(&request.body).ok().and_then(|text| json::parse(text).ok());
    let query = parsed.as_ref().and_then(|body| body.get("query"));
    let number_of = |key: &str| query.and_then(|q| q.get(key)).and_then(|v| uint_of(v, u64::MAX));
    RequestLog {
        number,
        method: request.method.clone(),
        path: request.path.clone(),
        org_header: request.header("x-zitadel-orgid").map(str::to_string),
        has_authorization: request.header("authorization").is_some(),
        offset: number_of("offset"),
        limit: number_of("limit"),
        body: String::from_utf8_lossy(&request.body).into_owned(),
        status: 0,
    }
}

/// Answers a malformed request like Go's net/http does: a plain-text 400, then close.
fn answer_malformed(writer: &mut TcpStream, shared: &Shared) {
    let number = shared.request_counter.fetch_add(1, Ordering::SeqCst) + 1;
    shared.log(RequestLog {
        number,
        method: String::new(),
        path: String::new(),
        org_header: None,
        has_authorization: false,
        offset: None,
        limit: None,
        body: String::new(),
        status: 400,
    });
    let body = "400 Bad Request";
    let head = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(body.as_bytes())).is_ok() {
        shared.response_bytes.fetch_add(body.len() as u64, Ordering::SeqCst);
    }
    let _ = writer.shutdown(Shutdown::Both);
}

/// Reads one request; `Ok(None)` is a clean close between requests.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> Result<Option<Request>, ReadError> {
    // RFC 9112 asks servers to ignore empty lines before a request line.
    let request_line = loop {
        match read_line(reader)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Malformed);
    };
    let http_1_1 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(ReadError::Malformed),
    };
    if method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !target.starts_with('/')
    {
        return Err(ReadError::Malformed);
    }
    let path = target.split('?').next().unwrap_or_default().to_string();

    let mut headers = Vec::new();
    loop {
        let Some(line) = read_line(reader)? else { return Err(ReadError::Malformed) };
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else { return Err(ReadError::Malformed) };
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(ReadError::Malformed);
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
        if headers.len() > MAX_HEADERS {
            return Err(ReadError::Malformed);
        }
    }
    let mut request =
        Request { method: method.to_string(), path, http_1_1, headers, body: Vec::new() };

    let chunked = match request.header("transfer-encoding") {
        None => false,
        Some(codings) if codings.to_ascii_lowercase().trim() == "chunked" => true,
        Some(_) => return Err(ReadError::Malformed),
    };
    let length = match request.header("content-length") {
        None => 0,
        Some(_) if chunked => return Err(ReadError::Malformed),
        Some(text) => text.parse::<usize>().map_err(|_| ReadError::Malformed)?,
    };
    if length > MAX_BODY {
        return Err(ReadError::Malformed);
    }
    let expects_body = chunked || length > 0;
    if expects_body
        && request.header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").map_err(|_| ReadError::Closed)?;
    }
    if chunked {
        request.body = read_chunked_body(reader)?;
    } else {
        request.body = vec![0; length];
        reader.read_exact(&mut request.body).map_err(|_| ReadError::Closed)?;
    }
    Ok(Some(request))
}

/// Reads a `Transfer-Encoding: chunked` body, discarding chunk extensions and trailers.
fn read_chunked_body(reader: &mut BufReader<TcpStream>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let Some(line) = read_line(reader)? else { return Err(ReadError::Malformed) };
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| ReadError::Malformed)?;
        if size == 0 {
            // Trailer fields up to an empty line.
            loop {
                match read_line(reader)? {
                    None => return Err(ReadError::Malformed),
                    Some(line) if line.is_empty() => return Ok(body),
                    Some(_) => {}
                }
            }
        }
        if body.len().saturating_add(size) > MAX_BODY {
            return Err(ReadError::Malformed);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).map_err(|_| ReadError::Closed)?;
        if read_line(reader)?.is_none_or(|rest| !rest.is_empty()) {
            return Err(ReadError::Malformed);
        }
    }
}

/// Reads one line without its line ending; `Ok(None)` at end of stream before any byte.
fn read_line(reader: &mut BufReader<TcpStream>) -> Result<Option<String>, ReadError> {
    let mut line = Vec::new();
    let limit = MAX_LINE as u64 + 1;
    let read = reader.by_ref().take(limit).read_until(b'\n', &mut line);
    if read.map_err(|_| ReadError::Closed)? == 0 {
        return Ok(None);
    }
    // A line without its newline was either too long or cut off by the peer.
    if line.pop() != Some(b'\n') {
        return Err(ReadError::Malformed);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).map(Some).map_err(|_| ReadError::Malformed)
}

/// Sends a ZITADEL answer with Go's framing: `Content-Length` for small bodies, chunked for
/// large ones. Returns the number of body bytes sent.
fn send(
    writer: &mut TcpStream,
    response: &Response,
    http_1_1: bool,
    keep_alive: bool,
) -> io::Result<u64> {
    let mut head = status_line(response.status);
    head.push_str("Content-Type: application/json\r\n");
    if response.status == 200 {
        head.push_str("Grpc-Metadata-Cache-Control: no-store\r\n");
        head.push_str("Grpc-Metadata-Content-Type: application/grpc\r\n");
    }
    head.push_str("X-Robots-Tag: none\r\n");
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = response.body.as_bytes();
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    if body.len() <= CONTENT_LENGTH_MAX || !http_1_1 {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut out = head.into_bytes();
        out.extend_from_slice(body);
        writer.write_all(&out)?;
        return Ok(body.len() as u64);
    }
    head.push_str("Transfer-Encoding: chunked\r\n\r\n");
    let mut out = head.into_bytes();
    for chunk in body.chunks(CHUNK_SIZE) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    writer.write_all(&out)?;
    Ok(body.len() as u64)
}

/// Sends an injected answer exactly with the given headers and `Content-Length`.
fn send_raw(writer: &mut TcpStream, response: &Response, keep_alive: bool) -> io::Result<u64> {
    let mut head = status_line(response.status);
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", response.body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(response.body.as_bytes());
    writer.write_all(&out)?;
    Ok(response.body.len() as u64)
}

/// Sends the headers of a normal answer with its full `Content-Length`, but only half the body.
fn send_cut(writer: &mut TcpStream, response: &Response) -> io::Result<u64> {
    let body = response.body.as_bytes();
    let mut head = status_line(response.status);
    head.push_str("Content-Type: application/json\r\n");
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = head.into_bytes();
    let half = &body[..body.len() / 2];
    out.extend_from_slice(half);
    writer.write_all(&out)?;
    Ok(half.len() as u64)
}

fn status_line(status: u16) -> String {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    };
    format!("HTTP/1.1 {status} {reason}\r\n")
}

// ---------------------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------------------

/// The endpoints the fake knows.
enum Route {
    OrgsMe,
    Users,
    Projects,
    /// `GET /management/v1/projects/{id}` (GetProjectByID).
    Project {
        project_id: String,
    },
    Roles {
        project_id: String,
    },
    UserGrants,
}

impl Route {
    /// Finds the endpoint of a path; the method is checked separately (405, not 404).
    fn of(path: &str) -> Option<Route> {
        let route = match path {
            "/management/v1/orgs/me" => Route::OrgsMe,
            "/management/v1/users/_search" => Route::Users,
            "/management/v1/projects/_search" => Route::Projects,
            "/management/v1/users/grants/_search" => Route::UserGrants,
            _ => {
                let rest = path.strip_prefix("/management/v1/projects/")?;
                let (id, roles) = match rest.strip_suffix("/roles/_search") {
                    Some(id) => (id, true),
                    None => (rest, false),
                };
                if id.is_empty() || id.contains('/') {
                    return None;
                }
                let project_id = id.to_string();
                if roles { Route::Roles { project_id } } else { Route::Project { project_id } }
            }
        };
        Some(route)
    }

    fn method(&self) -> &'static str {
        match self {
            Route::OrgsMe | Route::Project { .. } => "GET",
            _ => "POST",
        }
    }

    fn permission(&self) -> &'static str {
        match self {
            Route::OrgsMe => "org.read",
            Route::Users => "user.read",
            Route::Projects | Route::Project { .. } => "project.read",
            Route::Roles { .. } => "project.role.read",
            Route::UserGrants => "user.grant.read",
        }
    }
}

/// A decoded list request body; everything defaults like protojson's zero values.
#[derive(Default)]
struct ListRequest {
    offset: u64,
    /// 0 when absent.
    limit: u64,
    asc: bool,
    sort: UserSort,
    grant_filters: Vec<GrantFilter>,
    /// The index of the first `queries` element with no filter set (fails validation).
    empty_query: Option<usize>,
}

/// The user orders the fake implements (`sortingColumn`).
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum UserSort {
    #[default]
    Id,
    UserName,
    CreationDate,
}

/// A user grant filter; the ones the fake does not implement match everything.
enum GrantFilter {
    ProjectId(String),
    UserId(String),
    Ignored,
}

/// The oneof keys of `UserGrantQuery` in the proto of 2025-10-02, camelCase and snake_case.
const USER_GRANT_QUERY_KEYS: &[(&str, &str)] = &[
    ("projectIdQuery", "project_id_query"),
    ("userIdQuery", "user_id_query"),
    ("withGrantedQuery", "with_granted_query"),
    ("roleKeyQuery", "role_key_query"),
    ("projectGrantIdQuery", "project_grant_id_query"),
    ("userNameQuery", "user_name_query"),
    ("firstNameQuery", "first_name_query"),
    ("lastNameQuery", "last_name_query"),
    ("emailQuery", "email_query"),
    ("orgNameQuery", "org_name_query"),
    ("orgDomainQuery", "org_domain_query"),
    ("projectNameQuery", "project_name_query"),
    ("displayNameQuery", "display_name_query"),
    ("userTypeQuery", "user_type_query"),
];

/// Answers one request, checking in ZITADEL's order: route, method, body decoding,
/// authentication, org context, permission, validation, limits.
fn handle(shared: &Shared, request: &Request, number: u64) -> Response {
    match try_handle(shared, request, number) {
        Ok(response) | Err(response) => response,
    }
}

fn try_handle(shared: &Shared, request: &Request, number: u64) -> Result<Response, Response> {
    let route = Route::of(&request.path).ok_or_else(|| plain_error(404, 5, "Not Found"))?;
    if request.method != route.method() {
        return Err(plain_error(405, 12, "Method Not Allowed"));
    }
    // grpc-gateway decodes the body before the call reaches ZITADEL's interceptors, so a
    // bad body is a 400 even when the token is bad too. `orgs/me` is a GET without a body.
    let list = match route {
        Route::OrgsMe | Route::Project { .. } => Ok(ListRequest::default()),
        Route::UserGrants => decode_list_request(&request.body, true),
        _ => decode_list_request(&request.body, false),
    }
    .map_err(|message| plain_error(400, 3, &format!("proto: {message}")))?;

    let options = lock(&shared.options).clone();
    let mut dataset = lock(&shared.dataset);
    let token = authenticate(request, &dataset)?;
    let org_id = context_org(request, token, &dataset)?;
    if !token.permissions.iter().any(|p| p == route.permission()) {
        return Err(zitadel_error(403, 7, "No matching permissions found", "AUTH-5mWD2"));
    }
    if let Some(index) = list.empty_query {
        let message = format!(
            "invalid ListUserGrantRequest.Queries[{index}]: embedded message failed validation \
             | caused by: invalid UserGrantQuery.Query: value is required"
        );
        return Err(plain_error(400, 3, &message));
    }
    let limit = match options.limits {
        Limits::Unlimited => list.limit,
        Limits::Enforced { default, .. } if list.limit == 0 => default,
        Limits::Enforced { max, .. } if list.limit > max => {
            return Err(zitadel_error(400, 3, "Limit exceeded", "QUERY-4M0fs"));
        }
        Limits::Enforced { .. } => list.limit,
    };
    let page = Page { offset: list.offset, limit, shuffle: None };
    // Lists without ORDER BY; users are sorted.
    let unsorted_page =
        Page { shuffle: options.shuffle_seed.map(|seed| mix(seed ^ number)), ..page };

    let busy = if options.busy_instance { number } else { 0 };
    let sequence = PROCESSED_SEQUENCE + dataset.writes + busy;
    // GetProjectByID looks the project up by id in the whole instance, with no filter on its
    // resource owner: a project of another organization is found as well.
    let any_project = match &route {
        Route::Project { project_id } => {
            let mut projects = dataset.orgs.iter().flat_map(|org| &org.projects);
            projects.find(|project| project.id == *project_id).map(|project| project.json.clone())
        }
        _ => None,
    };
    let Some(org) = dataset.org_mut(&org_id) else {
        return Err(zitadel_error(403, 7, "Organisation doesn't exist", "AUTH-Bs7Ds"));
    };
    let body = match &route {
        Route::OrgsMe => format!("{{\"org\":{}}}", org.json),
        Route::Project { .. } => match any_project {
            Some(project) => format!("{{\"project\":{project}}}"),
            None => return Err(zitadel_error(404, 5, "Project not found", "QUERY-fk2fs")),
        },
        Route::Users => list_users(org, &list, page, options.users_total_inflation, sequence),
        Route::Projects => {
            let (total, rows) = unsorted_page.apply(org.projects.iter().map(|p| p.json.as_str()));
            list_body(total, rows, sequence)
        }
        Route::Roles { project_id } => {
            let roles = org.roles.get(project_id).map(Vec::as_slice).unwrap_or_default();
            let (total, rows) = unsorted_page.apply(roles.iter().map(String::as_str));
            list_body(total, rows, sequence)
        }
        Route::UserGrants => {
            let grants = &org.user_grants;
            let matches = |g: &&GrantRow| grant_matches(g, &list.grant_filters);
            let project = list.grant_filters.iter().find_map(|filter| match filter {
                GrantFilter::ProjectId(id) => Some(id),
                _ => None,
            });
            // The index only narrows the rows to look at, in their order; every filter is
            // still applied, so the answer is the same as from scanning every grant.
            let (total, rows) = match project {
                None => unsorted_page.apply(grants.iter().filter(matches).map(|g| g.json.as_str())),
                Some(project_id) => {
                    let mut index = lock(&shared.grant_index);
                    let by_project =
                        index.entry(org_id.clone()).or_insert_with(|| index_grants(grants));
                    let positions = by_project.get(project_id).map(Vec::as_slice);
                    let candidates = positions.unwrap_or_default().iter().map(|&i| &grants[i]);
                    unsorted_page.apply(candidates.filter(matches).map(|g| g.json.as_str()))
                }
            };
            list_body(total, rows, sequence)
        }
    };
    Ok(Response { status: 200, headers: Vec::new(), body })
}

/// Checks the `Authorization` header and returns the token it names.
fn authenticate<'a>(request: &Request, dataset: &'a Dataset) -> Result<&'a Token, Response> {
    let Some(header) = request.header("authorization") else {
        return Err(plain_error(401, 16, "auth header missing"));
    };
    // ZITADEL splits on "Bearer " and wants exactly two parts (`Z:internal/api/authz/context.go`).
    let parts: Vec<&str> = header.split("Bearer ").collect();
    let [_, token] = parts.as_slice() else {
        return Err(zitadel_error(401, 16, "invalid auth header", "AUTH-toLo1"));
    };
    dataset
        .tokens
        .iter()
        .find(|t| t.token == *token)
        .ok_or_else(|| zitadel_error(401, 16, "Errors.Token.Invalid", "AUTH-7fs1e"))
}

/// Returns the org the request acts on: the `x-zitadel-orgid` header, else the token's org.
fn context_org(request: &Request, token: &Token, dataset: &Dataset) -> Result<String, Response> {
    let header = request.header("x-zitadel-orgid").unwrap_or_default();
    if header.is_empty() {
        return Ok(token.user_org.clone());
    }
    if dataset.org(header).is_none() {
        return Err(zitadel_error(403, 7, "Organisation doesn't exist", "AUTH-Bs7Ds"));
    }
    if !token.instance_level && token.user_org != header {
        return Err(zitadel_error(404, 5, "membership not found", "AUTHZ-cdgFk"));
    }
    Ok(header.to_string())
}

/// Returns the positions of the grants of each project id.
fn index_grants(grants: &[GrantRow]) -> HashMap<String, Vec<usize>> {
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, grant) in grants.iter().enumerate() {
        index.entry(grant.project_id.clone()).or_default().push(i);
    }
    index
}

fn grant_matches(grant: &GrantRow, filters: &[GrantFilter]) -> bool {
    filters.iter().all(|filter| match filter {
        // An empty project id matches nothing, as in ZITADEL.
        GrantFilter::ProjectId(id) => !id.is_empty() && grant.project_id == *id,
        GrantFilter::UserId(id) => grant.user_id == *id,
        GrantFilter::Ignored => true,
    })
}

fn list_users(
    org: &mut Org,
    list: &ListRequest,
    page: Page,
    inflation: u64,
    sequence: u64,
) -> String {
    // Rows may be added in any order (or changed through `with_dataset`); sorting only when
    // needed keeps repeated pages over 100,000 users cheap.
    if !org.users.is_sorted_by(|a, b| a.id <= b.id) {
        org.users.sort_by(|a, b| a.id.cmp(&b.id));
    }
    let users = &org.users;
    let (total, rows) = match (list.sort, list.asc) {
        (UserSort::Id, true) => page.apply(users.iter().map(|u| u.json.as_str())),
        (UserSort::Id, false) => page.apply(users.iter().rev().map(|u| u.json.as_str())),
        (sort, asc) => {
            let mut ordered: Vec<&UserRow> = users.iter().collect();
            // Stable sorts over id order, so ties stay in id order (ZITADEL's are unstable).
            match sort {
                UserSort::CreationDate => {
                    ordered.sort_by_cached_key(|u| timestamp_key(&u.creation_date));
                }
                _ => ordered.sort_by_cached_key(|u| u.user_name.to_lowercase()),
            }
            if !asc {
                ordered.reverse();
            }
            page.apply(ordered.into_iter().map(|u| u.json.as_str()))
        }
    };
    let inflated = if rows.is_empty() { total } else { total + inflation as usize };
    list_body(inflated, rows, sequence)
}

/// Makes RFC 3339 timestamps with 0, 3, 6 or 9 fractional digits comparable as text by
/// padding the fraction to 9 digits (`12Z` would otherwise sort after `12.5Z`).
fn timestamp_key(timestamp: &str) -> String {
    let without_zone = timestamp.strip_suffix('Z').unwrap_or(timestamp);
    let (seconds, fraction) = without_zone.split_once('.').unwrap_or((without_zone, ""));
    format!("{seconds}.{fraction:0<9}")
}

/// The requested window of rows.
#[derive(Clone, Copy)]
struct Page {
    offset: u64,
    /// 0 means every row.
    limit: u64,
    /// Shuffle the rows with this seed before taking the window.
    shuffle: Option<u64>,
}

impl Page {
    /// Returns the number of rows and the rows inside the window.
    fn apply<'a>(self, rows: impl Iterator<Item = &'a str> + Clone) -> (usize, Vec<&'a str>) {
        if let Some(seed) = self.shuffle {
            let mut rows: Vec<&str> = rows.collect();
            shuffle(&mut rows, seed);
            return Page { shuffle: None, ..self }.apply(rows.into_iter());
        }
        let total = rows.clone().count();
        let skip = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let take = if self.limit == 0 {
            usize::MAX
        } else {
            usize::try_from(self.limit).unwrap_or(usize::MAX)
        };
        (total, rows.skip(skip).take(take).collect())
    }
}

/// Puts `rows` in an order chosen by `seed` (Fisher-Yates).
fn shuffle<T>(rows: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..rows.len()).rev() {
        state = mix(state);
        let j = usize::try_from(state % (i as u64 + 1)).unwrap_or_default();
        rows.swap(i, j);
    }
}

/// Builds a list answer; an empty page has no `totalResult` and no `result`, like ZITADEL.
fn list_body(total: usize, rows: Vec<&str>, sequence: u64) -> String {
    let details =
        format!("\"processedSequence\":\"{sequence}\",\"viewTimestamp\":\"{VIEW_TIMESTAMP}\"");
    if rows.is_empty() {
        return format!("{{\"details\":{{{details}}}}}");
    }
    let size: usize = rows.iter().map(|row| row.len() + 1).sum();
    let mut body = String::with_capacity(size + 128);
    body.push_str(&format!("{{\"details\":{{\"totalResult\":\"{total}\",{details}}},\"result\":["));
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(row);
    }
    body.push_str("]}");
    body
}

/// A `google.rpc.Status` body without details (plain gRPC or gateway errors).
fn plain_error(status: u16, code: u32, message: &str) -> Response {
    let body = format!("{{\"code\":{code},\"message\":{}}}", json::quote(message));
    error_response(status, code, message, body)
}

/// A ZITADEL error: `<message> (<id>)` plus one `zitadel.v1.ErrorDetail`.
fn zitadel_error(status: u16, code: u32, message: &str, id: &str) -> Response {
    let full = format!("{message} ({id})");
    let body = format!(
        "{{\"code\":{code},\"message\":{},\"details\":[{{\"@type\":\"type.googleapis.com/zitadel.v1.ErrorDetail\",\
         \"id\":{},\"message\":{}}}]}}",
        json::quote(&full),
        json::quote(id),
        json::quote(message)
    );
    error_response(status, code, &full, body)
}

/// Unauthenticated answers also name the message in `WWW-Authenticate`, like grpc-gateway.
fn error_response(status: u16, code: u32, message: &str, body: String) -> Response {
    let mut headers = Vec::new();
    if code == 16 {
        headers.push(("WWW-Authenticate".to_string(), message.to_string()));
    }
    Response { status, headers, body }
}

// ---------------------------------------------------------------------------------------
// Request body decoding (protojson rules)
// ---------------------------------------------------------------------------------------

/// Decodes a list request body the way protojson would: unknown fields are ignored, both
/// camelCase and snake_case names are accepted, numbers may be strings, null is the default.
fn decode_list_request(body: &[u8], user_grants: bool) -> Result<ListRequest, String> {
    let text = std::str::from_utf8(body)
        .map_err(|_| "syntax error (line 1:1): invalid UTF-8".to_string())?;
    let mut list = ListRequest::default();
    if text.trim().is_empty() {
        return Ok(list);
    }
    let root = json::parse(text)?;
    if !matches!(root, Value::Object(_)) {
        return Err(format!("unexpected token {}", root.to_json()));
    }
    match member(&root, "query", "query") {
        None => {}
        Some(query @ Value::Object(_)) => {
            if let Some(offset) = member(query, "offset", "offset") {
                list.offset =
                    uint_of(offset, u64::MAX).ok_or_else(|| invalid("uint64", "offset", offset))?;
            }
            if let Some(limit) = member(query, "limit", "limit") {
                list.limit = uint_of(limit, u32::MAX.into())
                    .ok_or_else(|| invalid("uint32", "limit", limit))?;
            }
            match member(query, "asc", "asc") {
                None => {}
                Some(Value::Bool(asc)) => list.asc = *asc,
                Some(other) => return Err(invalid("bool", "asc", other)),
            }
        }
        Some(other) => return Err(format!("unexpected token {}", other.to_json())),
    }
    match member(&root, "sortingColumn", "sorting_column") {
        None => {}
        // Unknown enum names are dropped (DiscardUnknown), which leaves the id order.
        Some(Value::String(name)) => {
            list.sort = match name.as_str() {
                "USER_FIELD_NAME_USER_NAME" => UserSort::UserName,
                "USER_FIELD_NAME_CREATION_DATE" => UserSort::CreationDate,
                _ => UserSort::Id,
            }
        }
        Some(Value::Number(_)) => {}
        Some(other) => return Err(invalid("enum", "sortingColumn", other)),
    }
    let queries = match member(&root, "queries", "queries") {
        None => &[][..],
        Some(Value::Array(queries)) => queries.as_slice(),
        Some(other) => return Err(format!("unexpected token {}", other.to_json())),
    };
    for (index, query) in queries.iter().enumerate() {
        if !matches!(query, Value::Object(_)) {
            return Err(format!("unexpected token {}", query.to_json()));
        }
        if !user_grants {
            // Users and projects filters are accepted but not applied by the fake.
            continue;
        }
        let set: Vec<(&str, &Value)> = USER_GRANT_QUERY_KEYS
            .iter()
            .filter_map(|(camel, snake)| member(query, camel, snake).map(|v| (*camel, v)))
            .collect();
        let filter = match set.as_slice() {
            [] => {
                list.empty_query.get_or_insert(index);
                continue;
            }
            [(key, value)] => grant_filter(key, value)?,
            [_, (key, _), ..] => {
                return Err(format!(
                    "error parsing {key:?}, oneof zitadel.user.v1.UserGrantQuery.query is already set"
                ));
            }
        };
        list.grant_filters.push(filter);
    }
    Ok(list)
}

/// Decodes one `UserGrantQuery` filter.
fn grant_filter(key: &str, value: &Value) -> Result<GrantFilter, String> {
    if !matches!(value, Value::Object(_)) {
        return Err(format!("unexpected token {}", value.to_json()));
    }
    let string_field = |camel: &str, snake: &str| match member(value, camel, snake) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(invalid("string", camel, other)),
    };
    Ok(match key {
        "projectIdQuery" => GrantFilter::ProjectId(string_field("projectId", "project_id")?),
        "userIdQuery" => GrantFilter::UserId(string_field("userId", "user_id")?),
        _ => GrantFilter::Ignored,
    })
}

/// Returns a member by its JSON or proto name; null counts as absent, as in protojson.
fn member<'a>(object: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    object.get(camel).or_else(|| object.get(snake)).filter(|v| !matches!(v, Value::Null))
}

/// Reads an unsigned integer given as a JSON number or numeric string, up to `max`.
fn uint_of(value: &Value, max: u64) -> Option<u64> {
    let text = match value {
        Value::Number(text) | Value::String(text) => text,
        _ => return None,
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>().ok().filter(|n| *n <= max)
}

fn invalid(kind: &str, field: &str, value: &Value) -> String {
    format!("invalid value for {kind} field {field}: {}", value.to_json())
}

// ---------------------------------------------------------------------------------------
// Generated organizations, for benchmarks
// ---------------------------------------------------------------------------------------

/// The organization `Dataset::generate` fills (the demo's ACME id, so ids look alike).
pub const GENERATED_ORG: &str = "284905129371435012";
/// A second organization: some of its users hold grants in the first one, and nothing else of
/// it (its users, projects, roles and grants) may show up in a sync of the first.
pub const GENERATED_OTHER_ORG: &str = "284905311209451523";
/// The token of a viewer of `GENERATED_ORG`, with every permission a sync needs.
pub const GENERATED_PAT: &str = "bench-pat-acme-viewer";

/// The size of a generated organization. Everything else (names, states, which users hold
/// which roles) follows deterministically from `seed`.
#[derive(Debug, Clone, Copy)]
pub struct GenerateSpec {
    pub users: usize,
    pub projects: usize,
    pub roles_per_project: usize,
    pub user_grants: usize,
    /// Users of the second organization; about half of them hold grants in the first.
    pub other_org_users: usize,
    pub seed: u64,
}

impl GenerateSpec {
    /// The large organization of `make bench`.
    pub const LARGE: GenerateSpec = GenerateSpec {
        users: 100_000,
        projects: 1_000,
        roles_per_project: 10,
        user_grants: 300_000,
        other_org_users: 2_000,
        seed: 0x5eed,
    };

    /// The same organization with `factor` times fewer users, projects, grants and external
    /// users (roles per project stay as they are).
    pub fn divided(self, factor: usize) -> GenerateSpec {
        GenerateSpec {
            users: self.users / factor,
            projects: self.projects / factor,
            user_grants: self.user_grants / factor,
            other_org_users: self.other_org_users / factor,
            ..self
        }
    }
}

/// What a correct sync of a generated organization prints with the default flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroundTruth {
    /// The summary's `counts`.
    pub counts: SummaryCounts,
    /// Output lines: the two resource types, every user, project, entitlement and grant
    /// record, and the summary.
    pub records: u64,
    /// The wrapping sum of `record_hash` over every record but the summary, so that the
    /// order of the records does not matter but each one's content does.
    pub checksum: u64,
    /// The requests of a complete walk with 1000-row pages: `orgs/me`, then per list the
    /// pages it needs (an empty list needs one request; a full last page needs none more).
    pub min_requests: u64,
}

/// The counts of the summary record, field for field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SummaryCounts {
    pub user: u64,
    pub project: u64,
    pub entitlement: u64,
    pub grant: u64,
    pub external_user: u64,
    pub user_grant_without_roles: u64,
    pub unknown_role_key: u64,
    pub inactive_user_grant: u64,
    pub grant_without_principal: u64,
}

impl SummaryCounts {
    /// The counts with their names in the summary, in its order.
    pub fn named(&self) -> [(&'static str, u64); 9] {
        [
            ("user", self.user),
            ("project", self.project),
            ("entitlement", self.entitlement),
            ("grant", self.grant),
            ("external_user", self.external_user),
            ("user_grant_without_roles", self.user_grant_without_roles),
            ("unknown_role_key", self.unknown_role_key),
            ("inactive_user_grant", self.inactive_user_grant),
            ("grant_without_principal", self.grant_without_principal),
        ]
    }
}

/// A 64-bit FNV-1a hash of a record's identifying and mapped fields, each part ended by a
/// 0x1f byte so that `["ab", "c"]` and `["a", "bc"]` differ. The checksum of a run is the
/// wrapping sum of these over its records: the parts are, by record,
///
/// - `resource_type`: `"resource_type"`, id
/// - user resource: `"user"`, id, display_name, status, org_id, external (`true`/`false`)
/// - project resource: `"project"`, id, display_name, status
/// - `entitlement`: `"entitlement"`, id, display_name
/// - `grant`: `"grant"`, id, user_grant_id, state
pub fn record_hash(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in part.as_bytes().iter().chain(&[0x1f]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

impl Dataset {
    /// Builds a synthetic organization of `spec`'s size in ZITADEL's exact wire format, plus
    /// the second organization and a token, and what a sync of it must print.
    ///
    /// The rows mix humans and machines, every user state, active and inactive grants with
    /// one to three role keys, a few grants without role keys or naming a role the project
    /// does not have, grants held by users of the second organization, projects without
    /// grants and projects with several pages of them. Ids are 18 digits like ZITADEL's, and
    /// rows are written as JSON text directly (no parsing), so even the large one takes
    /// about a second.
    pub fn generate(spec: GenerateSpec) -> (Dataset, GroundTruth) {
        let mut generator = Generator {
            spec,
            dataset: Dataset::new(),
            truth: GroundTruth::default(),
            external_printed: vec![false; spec.other_org_users],
        };
        generator.run();
        (generator.dataset, generator.truth)
    }
}

// Id ranges: the base plus a multiple of `ID_STRIDE` stays 18 digits and unique across kinds.
const OTHER_USER_BASE: u64 = 284_905_400_000_000_000;
const OTHER_PROJECT_BASE: u64 = 284_905_500_000_000_000;
const OTHER_GRANT_BASE: u64 = 284_905_600_000_000_000;
const USER_BASE: u64 = 284_906_000_000_000_000;
const PROJECT_BASE: u64 = 284_906_400_000_000_000;
const GRANT_BASE: u64 = 284_915_000_000_000_000;
const ID_STRIDE: u64 = 4_099;
/// The page size the walk is measured against: the largest ZITADEL accepts.
const GENERATED_PAGE: u64 = 1000;
/// Every 997th user grant also names this role, which no project has.
const UNKNOWN_ROLE: &str = "deprecated-role";

/// Given names (display form, login form); none needs escaping in JSON.
const FIRST_NAMES: &[(&str, &str)] = &[
    ("Alice", "alice"),
    ("Bob", "bob"),
    ("Carol", "carol"),
    ("Dave", "dave"),
    ("Erin", "erin"),
    ("Frank", "frank"),
    ("Grace", "grace"),
    ("Heidi", "heidi"),
    ("Ivan", "ivan"),
    ("Judy", "judy"),
    ("Mallory", "mallory"),
    ("Niaj", "niaj"),
    ("Olivia", "olivia"),
    ("Peggy", "peggy"),
    ("Rupert", "rupert"),
    ("Sybil", "sybil"),
    ("Trent", "trent"),
    ("Victor", "victor"),
    ("Walter", "walter"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Björn", "bjorn"),
    ("Łukasz", "lukasz"),
    ("Søren", "soren"),
    ("Renée", "renee"),
    ("Ángel", "angel"),
    ("Yuki", "yuki"),
    ("Priya", "priya"),
];
const LAST_NAMES: &[(&str, &str)] = &[
    ("Anderson", "anderson"),
    ("Brown", "brown"),
    ("Clark", "clark"),
    ("Davis", "davis"),
    ("Evans", "evans"),
    ("Fischer", "fischer"),
    ("García", "garcia"),
    ("Hill", "hill"),
    ("Ito", "ito"),
    ("Johnson", "johnson"),
    ("Müller", "mueller"),
    ("Nguyễn", "nguyen"),
    ("O'Brien", "obrien"),
    ("Petrović", "petrovic"),
    ("Schmidt", "schmidt"),
    ("Tanaka", "tanaka"),
    ("Van der Berg", "vanderberg"),
    ("Wójcik", "wojcik"),
    ("Yilmaz", "yilmaz"),
    ("Zimmermann", "zimmermann"),
];
const PROJECT_NAMES: &[&str] = &[
    "Customer Portal",
    "Internal Tools",
    "Legacy Billing",
    "Data Platform",
    "Mobile App",
    "Partner API",
    "Support Desk",
    "Analytics",
];
/// Role keys, display names (empty: none, so the key is shown) and groups (empty: none).
const ROLES: &[(&str, &str, &str)] = &[
    ("admin", "Administrator", "Admins"),
    ("editor", "Editor", "Admins"),
    ("viewer", "Viewer", ""),
    ("support", "", ""),
    ("operator", "Operator", "Ops"),
    ("auditor", "Auditor", "Compliance"),
    ("developer", "Developer", ""),
    ("billing.read", "Billing reader", "Finance"),
    ("billing.write", "Billing writer", "Finance"),
    ("owner", "Owner", "Admins"),
];

/// One user as its own row and its grants describe it.
struct Person {
    id: String,
    user_name: String,
    /// Empty for machines.
    first_name: &'static str,
    last_name: &'static str,
    /// The profile's display name; empty for some humans (then "first last" is shown).
    display_name: String,
    /// Empty for machines.
    email: String,
    preferred_login_name: String,
    machine: bool,
    machine_name: String,
    state: &'static str,
    hash: u64,
}

impl Person {
    /// The display name a sync prints, by the connector's fallback order.
    fn shown_name(&self) -> String {
        if self.machine {
            self.machine_name.clone()
        } else if !self.display_name.is_empty() {
            self.display_name.clone()
        } else {
            format!("{} {}", self.first_name, self.last_name)
        }
    }
}

/// Which organization a person or row belongs to.
#[derive(Clone, Copy)]
struct OrgNames {
    id: &'static str,
    name: &'static str,
    domain: &'static str,
    /// The organization's ZITADEL-generated domain, for the first login name.
    zitadel_domain: &'static str,
}

const OWN: OrgNames = OrgNames {
    id: GENERATED_ORG,
    name: "ACME Corporation",
    domain: "acme.example.com",
    zitadel_domain: "acme-corp.zitadel.cloud",
};
const OTHER: OrgNames = OrgNames {
    id: GENERATED_OTHER_ORG,
    name: "Globex",
    domain: "globex.example.com",
    zitadel_domain: "globex.zitadel.cloud",
};

struct Generator {
    spec: GenerateSpec,
    dataset: Dataset,
    truth: GroundTruth,
    /// Which users of the other organization a sync has printed so far.
    external_printed: Vec<bool>,
}

impl Generator {
    fn run(&mut self) {
        self.truth.min_requests = 1; // orgs/me
        self.truth.records = 1; // the summary; `checksum` counts every other record
        for id in ["user", "project"] {
            self.checksum(&["resource_type", id]);
        }
        for org in [OWN, OTHER] {
            let org_json = format!(
                "{{\"id\":\"{}\",\"details\":{{\"sequence\":\"6\",\"creationDate\":\"2024-11-05T09:02:47.719245Z\",\
                 \"changeDate\":\"2025-02-11T08:00:15.360Z\",\"resourceOwner\":\"{}\"}},\"state\":\"ORG_STATE_ACTIVE\",\
                 \"name\":\"{}\",\"primaryDomain\":\"{}\"}}",
                org.id, org.id, org.name, org.domain
            );
            self.dataset.add_org(&org_json).expect("generated orgs are valid and distinct");
        }
        self.dataset.add_token(Token::org_viewer(GENERATED_PAT, GENERATED_ORG));
        self.users();
        self.projects();
        self.other_org();
    }

    fn users(&mut self) {
        let mut json = String::new();
        for i in 0..self.spec.users {
            let person = self.person(OWN, i);
            user_json(&mut json, &person, OWN, i);
            let row = UserRow {
                id: person.id.clone(),
                creation_date: timestamp(person.hash),
                user_name: person.user_name.clone(),
                json: json.clone(),
            };
            self.dataset.add_user_row(GENERATED_ORG, row).expect("the org exists");
            let status = match person.state {
                "USER_STATE_INACTIVE" | "USER_STATE_SUSPEND" => "DISABLED",
                _ => "ENABLED",
            };
            self.checksum(&[
                "user",
                &person.id,
                &person.shown_name(),
                status,
                GENERATED_ORG,
                "false",
            ]);
            self.truth.counts.user += 1;
        }
        self.truth.min_requests += pages(self.spec.users);
    }

    fn projects(&mut self) {
        let sizes = grant_counts(&self.spec);
        let pool = self.spec.users + self.spec.other_org_users;
        let stride = [7919, 7927, 7933, 7937, 7949]
            .into_iter()
            .find(|prime| !pool.is_multiple_of(*prime))
            .expect("at most four of five primes divide the pool");
        let mut next_grant = 0;
        let mut grant = String::new();
        for (p, &size) in sizes.iter().enumerate() {
            let hash = mix(self.spec.seed ^ 0x9e37 ^ ((p as u64) << 20));
            let project_id = (PROJECT_BASE + p as u64 * ID_STRIDE).to_string();
            let name = format!("{} {}", PROJECT_NAMES[p % PROJECT_NAMES.len()], p + 1);
            let active = p % 20 != 19;
            self.add_project(OWN, &project_id, &name, active, hash);
            self.checksum(&[
                "project",
                &project_id,
                &name,
                if active { "ENABLED" } else { "DISABLED" },
            ]);
            self.truth.counts.project += 1;
            let roles = self.add_roles(OWN, &project_id, self.spec.roles_per_project, true);

            let start = (hash % pool as u64) as usize;
            for k in 0..size {
                let principal = (start + k * stride) % pool;
                let g = next_grant;
                next_grant += 1;
                let hash = mix(self.spec.seed ^ 0x6a09 ^ ((g as u64) << 24));
                let (person, org) = if principal < self.spec.users {
                    (self.person(OWN, principal), OWN)
                } else {
                    (self.person(OTHER, principal - self.spec.users), OTHER)
                };
                let mut keys: Vec<&str> = Vec::new();
                if g % 1009 != 17 {
                    let wanted = match hash % 10 {
                        0..=5 => 1,
                        6..=8 => 2,
                        _ => 3,
                    }
                    .min(roles.len());
                    let mut pick = hash >> 8;
                    while keys.len() < wanted {
                        let key = roles[(pick % roles.len() as u64) as usize].as_str();
                        pick = mix(pick);
                        if !keys.contains(&key) {
                            keys.push(key);
                        }
                    }
                    if g % 997 == 13 {
                        keys.push(UNKNOWN_ROLE);
                    }
                }
                let inactive = (hash >> 40) % 100 < 3;
                let grant_id = (GRANT_BASE + g as u64 * ID_STRIDE).to_string();
                grant_json(
                    &mut grant,
                    &grant_id,
                    &keys,
                    inactive,
                    &person,
                    org,
                    OWN,
                    &project_id,
                    &name,
                    hash,
                );
                let row = GrantRow {
                    id: grant_id.clone(),
                    project_id: project_id.clone(),
                    user_id: person.id.clone(),
                    json: grant.clone(),
                };
                self.dataset.add_user_grant_row(GENERATED_ORG, row).expect("the org exists");
                self.expect_grant(
                    &grant_id,
                    &keys,
                    inactive,
                    &person,
                    principal,
                    &project_id,
                    &roles,
                );
            }
            self.truth.min_requests += pages(roles.len()) + pages(size);
        }
        self.truth.min_requests += pages(sizes.len());
    }

    /// Adds to the ground truth what the sync prints for one user grant.
    #[allow(clippy::too_many_arguments)]
    fn expect_grant(
        &mut self,
        grant_id: &str,
        keys: &[&str],
        inactive: bool,
        person: &Person,
        principal: usize,
        project_id: &str,
        roles: &[String],
    ) {
        let counts = &mut self.truth.counts;
        if inactive {
            counts.inactive_user_grant += 1;
            return;
        }
        if keys.is_empty() {
            counts.user_grant_without_roles += 1;
            return;
        }
        for key in keys {
            if !roles.iter().any(|role| role == key) {
                self.truth.counts.unknown_role_key += 1;
                continue;
            }
            if let Some(j) = principal.checked_sub(self.spec.users)
                && !self.external_printed[j]
            {
                self.external_printed[j] = true;
                self.truth.counts.external_user += 1;
                self.checksum(&[
                    "user",
                    &person.id,
                    &person.shown_name(),
                    "UNSPECIFIED",
                    GENERATED_OTHER_ORG,
                    "true",
                ]);
            }
            let id = format!("project:{project_id}:{key}:user:{}", person.id);
            self.checksum(&["grant", &id, grant_id, "USER_GRANT_STATE_ACTIVE"]);
            self.truth.counts.grant += 1;
        }
    }

    /// The second organization: its users (the external ones) with rows of their own, plus
    /// projects, roles and grants, none of which a sync of the first may print.
    fn other_org(&mut self) {
        let mut json = String::new();
        for j in 0..self.spec.other_org_users {
            let person = self.person(OTHER, j);
            user_json(&mut json, &person, OTHER, j);
            let row = UserRow {
                id: person.id.clone(),
                creation_date: timestamp(person.hash),
                user_name: person.user_name.clone(),
                json: json.clone(),
            };
            self.dataset.add_user_row(GENERATED_OTHER_ORG, row).expect("the org exists");
        }
        let mut grant = String::new();
        for (p, project_name) in PROJECT_NAMES.iter().enumerate().take(3) {
            let project_id = (OTHER_PROJECT_BASE + p as u64 * ID_STRIDE).to_string();
            let name = format!("Globex {project_name}");
            self.add_project(OTHER, &project_id, &name, true, mix(p as u64));
            let roles = self.add_roles(OTHER, &project_id, 3, false);
            for j in (p..self.spec.other_org_users).step_by(3) {
                let person = self.person(OTHER, j);
                let grant_id = (OTHER_GRANT_BASE + j as u64 * ID_STRIDE).to_string();
                let keys = [roles[j % roles.len()].as_str()];
                let hash = mix(j as u64);
                grant_json(
                    &mut grant,
                    &grant_id,
                    &keys,
                    false,
                    &person,
                    OTHER,
                    OTHER,
                    &project_id,
                    &name,
                    hash,
                );
                let row = GrantRow {
                    id: grant_id,
                    project_id: project_id.clone(),
                    user_id: person.id.clone(),
                    json: grant.clone(),
                };
                self.dataset.add_user_grant_row(GENERATED_OTHER_ORG, row).expect("the org exists");
            }
        }
    }

    fn add_project(&mut self, org: OrgNames, id: &str, name: &str, active: bool, hash: u64) {
        let state = if active { "PROJECT_STATE_ACTIVE" } else { "PROJECT_STATE_INACTIVE" };
        let mut json = format!(
            "{{\"id\":\"{id}\",\"details\":{{\"sequence\":\"{}\",\"creationDate\":\"{}\",\"changeDate\":\"{}\",\
             \"resourceOwner\":\"{}\"}},\"name\":\"{name}\",\"state\":\"{state}\"",
            hash % 40 + 1,
            timestamp(hash),
            timestamp(hash >> 7),
            org.id
        );
        if hash.is_multiple_of(3) {
            json.push_str(",\"projectRoleAssertion\":true");
        }
        if hash.is_multiple_of(5) {
            json.push_str(",\"hasProjectCheck\":true");
        }
        json.push('}');
        let org = self.dataset.org_mut(org.id).expect("the org exists");
        org.projects.push(ProjectRow { id: id.to_string(), json });
    }

    /// Adds `count` roles to a project and returns their keys.
    fn add_roles(
        &mut self,
        org: OrgNames,
        project_id: &str,
        count: usize,
        expect: bool,
    ) -> Vec<String> {
        let mut keys = Vec::with_capacity(count);
        let mut rows = Vec::with_capacity(count);
        for r in 0..count {
            let (key, display_name, group) = match ROLES.get(r) {
                Some(&(key, display_name, group)) => (key.to_string(), display_name, group),
                None => (format!("role-{r}"), "", ""),
            };
            let date = timestamp(mix(r as u64 ^ project_id.len() as u64));
            let mut json = format!(
                "{{\"key\":\"{key}\",\"details\":{{\"sequence\":\"3\",\"creationDate\":\"{date}\",\
                 \"changeDate\":\"{date}\",\"resourceOwner\":\"{}\"}}",
                org.id
            );
            if !display_name.is_empty() {
                let _ = write!(json, ",\"displayName\":\"{display_name}\"");
            }
            if !group.is_empty() {
                let _ = write!(json, ",\"group\":\"{group}\"");
            }
            json.push('}');
            rows.push(json);
            if expect {
                let id = format!("project:{project_id}:{key}");
                let shown = if display_name.is_empty() { key.as_str() } else { display_name };
                self.checksum(&["entitlement", &id, shown]);
                self.truth.counts.entitlement += 1;
            }
            keys.push(key);
        }
        let org = self.dataset.org_mut(org.id).expect("the org exists");
        org.roles.insert(project_id.to_string(), rows);
        keys
    }

    /// The `i`th user of an organization, the same each time it is asked for.
    fn person(&self, org: OrgNames, i: usize) -> Person {
        let own = org.id == GENERATED_ORG;
        let base = if own { USER_BASE } else { OTHER_USER_BASE };
        let hash = mix(self.spec.seed ^ ((i as u64) << 16) ^ u64::from(own));
        let machine = own && hash % 10 == 7;
        let (first, first_login) = FIRST_NAMES[(hash >> 8) as usize % FIRST_NAMES.len()];
        let (last, last_login) = LAST_NAMES[(hash >> 16) as usize % LAST_NAMES.len()];
        let state = match (hash >> 24) % 100 {
            0..=89 => "USER_STATE_ACTIVE",
            90..=93 => "USER_STATE_INACTIVE",
            94..=96 => "USER_STATE_LOCKED",
            97..=98 => "USER_STATE_INITIAL",
            _ => "USER_STATE_SUSPEND",
        };
        let user_name = if machine {
            format!(
                "svc-{}-{i}",
                PROJECT_NAMES[(hash >> 32) as usize % PROJECT_NAMES.len()]
                    .to_lowercase()
                    .replace(' ', "-")
            )
        } else {
            format!("{first_login}.{last_login}{i}")
        };
        let preferred_login_name = format!("{user_name}@{}", org.domain);
        Person {
            id: (base + i as u64 * ID_STRIDE).to_string(),
            first_name: if machine { "" } else { first },
            last_name: if machine { "" } else { last },
            display_name: if machine || (hash >> 40).is_multiple_of(13) {
                String::new()
            } else {
                format!("{first} {last}")
            },
            email: if machine { String::new() } else { preferred_login_name.clone() },
            machine_name: if machine { format!("Service Account {i}") } else { String::new() },
            preferred_login_name,
            user_name,
            machine,
            state,
            hash,
        }
    }

    fn checksum(&mut self, parts: &[&str]) {
        self.truth.checksum = self.truth.checksum.wrapping_add(record_hash(parts));
        self.truth.records += 1;
    }
}

/// Writes a user row like `ListUsers` returns it into `out`.
fn user_json(out: &mut String, person: &Person, org: OrgNames, i: usize) {
    let hash = person.hash;
    out.clear();
    let _ = write!(
        out,
        "{{\"id\":\"{}\",\"details\":{{\"sequence\":\"{}\",\"creationDate\":\"{}\",\"changeDate\":\"{}\",\
         \"resourceOwner\":\"{}\"}},\"state\":\"{}\",\"userName\":\"{}\",\"loginNames\":[\"{}@{}\",\"{}\"],\
         \"preferredLoginName\":\"{}\"",
        person.id,
        hash % 30 + 1,
        timestamp(hash),
        timestamp(hash >> 5),
        org.id,
        person.state,
        person.user_name,
        person.user_name,
        org.zitadel_domain,
        person.preferred_login_name,
        person.preferred_login_name,
    );
    if person.machine {
        let _ = write!(out, ",\"machine\":{{\"name\":\"{}\"", person.machine_name);
        if !hash.is_multiple_of(3) {
            out.push_str(
                ",\"description\":\"Reads users and grants for the nightly access review\"",
            );
        }
        if hash.is_multiple_of(2) {
            out.push_str(",\"accessTokenType\":\"ACCESS_TOKEN_TYPE_JWT\"");
        } else {
            out.push_str(",\"hasSecret\":true");
        }
        out.push_str("}}");
        return;
    }
    let _ = write!(
        out,
        ",\"human\":{{\"profile\":{{\"firstName\":\"{}\",\"lastName\":\"{}\"",
        person.first_name, person.last_name
    );
    if hash.is_multiple_of(4) {
        let _ = write!(out, ",\"nickName\":\"{}\"", &person.user_name[..3]);
    }
    if !person.display_name.is_empty() {
        let _ = write!(out, ",\"displayName\":\"{}\"", person.display_name);
    }
    let language = ["en", "de", "fr", "und", "ja"][(hash >> 44) as usize % 5];
    let _ = write!(out, ",\"preferredLanguage\":\"{language}\"");
    if hash % 5 < 3 {
        let gender = ["GENDER_FEMALE", "GENDER_MALE", "GENDER_DIVERSE"][(hash >> 48) as usize % 3];
        let _ = write!(out, ",\"gender\":\"{gender}\"");
    }
    if hash % 7 < 2 {
        let _ = write!(
            out,
            ",\"avatarUrl\":\"https://{}/assets/v1/{}/users/{}/avatar?v={}\"",
            org.zitadel_domain,
            org.id,
            person.id,
            i % 9 + 1
        );
    }
    let _ = write!(out, "}},\"email\":{{\"email\":\"{}\"", person.email);
    if hash % 10 < 8 {
        out.push_str(",\"isEmailVerified\":true");
    }
    out.push_str("},\"phone\":{");
    if hash.is_multiple_of(3) {
        let _ = write!(out, "\"phone\":\"+4179{:07}\",\"isPhoneVerified\":true", hash % 10_000_000);
    }
    out.push('}');
    if hash.is_multiple_of(2) {
        let _ = write!(out, ",\"passwordChanged\":\"{}\"", timestamp(hash >> 9));
    }
    out.push_str("}}");
}

/// Writes a user grant row like `ListUserGrants` returns it into `out`.
#[allow(clippy::too_many_arguments)]
fn grant_json(
    out: &mut String,
    id: &str,
    keys: &[&str],
    inactive: bool,
    person: &Person,
    person_org: OrgNames,
    owner: OrgNames,
    project_id: &str,
    project_name: &str,
    hash: u64,
) {
    out.clear();
    let _ = write!(
        out,
        "{{\"id\":\"{id}\",\"details\":{{\"sequence\":\"{}\",\"creationDate\":\"{}\",\"changeDate\":\"{}\",\
         \"resourceOwner\":\"{}\"}}",
        hash % 4 + 1,
        timestamp(hash),
        timestamp(hash >> 3),
        owner.id
    );
    if !keys.is_empty() {
        out.push_str(",\"roleKeys\":[");
        for (n, key) in keys.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            let _ = write!(out, "\"{key}\"");
        }
        out.push(']');
    }
    let state = if inactive { "USER_GRANT_STATE_INACTIVE" } else { "USER_GRANT_STATE_ACTIVE" };
    let _ = write!(
        out,
        ",\"state\":\"{state}\",\"userId\":\"{}\",\"userName\":\"{}\"",
        person.id, person.user_name
    );
    for (key, value) in [
        ("firstName", person.first_name),
        ("lastName", person.last_name),
        ("email", person.email.as_str()),
        ("displayName", person.display_name.as_str()),
    ] {
        if !value.is_empty() {
            let _ = write!(out, ",\"{key}\":\"{value}\"");
        }
    }
    let _ = write!(
        out,
        ",\"orgId\":\"{}\",\"orgName\":\"{}\",\"orgDomain\":\"{}\",\"projectId\":\"{project_id}\",\
         \"projectName\":\"{project_name}\",\"preferredLoginName\":\"{}\",\"userType\":\"{}\",\
         \"grantedOrgId\":\"{}\",\"grantedOrgName\":\"{}\",\"grantedOrgDomain\":\"{}\"}}",
        owner.id,
        owner.name,
        owner.domain,
        person.preferred_login_name,
        if person.machine { "TYPE_MACHINE" } else { "TYPE_HUMAN" },
        person_org.id,
        person_org.name,
        person_org.domain,
    );
}

/// The number of user grants of each project: a long tail (most projects have a few hundred,
/// some well over a thousand, so several pages), every 97th project none, summing to
/// `spec.user_grants` with no project above the number of distinct users.
fn grant_counts(spec: &GenerateSpec) -> Vec<usize> {
    let pool = spec.users + spec.other_org_users;
    let weights: Vec<f64> = (0..spec.projects)
        .map(|p| {
            if p % 97 == 5 {
                return 0.0;
            }
            let unit =
                (mix(spec.seed ^ 0xbb67 ^ ((p as u64) << 12)) >> 11) as f64 / (1u64 << 53) as f64;
            0.2 + 8.0 * unit.powi(6)
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|w| ((spec.user_grants as f64 * w / total) as usize).min(pool))
        .collect();
    let mut missing = spec.user_grants.saturating_sub(counts.iter().sum());
    'fill: while missing > 0 {
        let before = missing;
        for (count, weight) in counts.iter_mut().zip(&weights) {
            if missing == 0 {
                break 'fill;
            }
            if *weight > 0.0 && *count < pool {
                *count += 1;
                missing -= 1;
            }
        }
        if missing == before {
            break; // Every project is full: fewer grants than asked for.
        }
    }
    counts
}

/// Requests to walk a list of `rows` rows with full pages (an empty list takes one).
fn pages(rows: usize) -> u64 {
    (rows as u64).div_ceil(GENERATED_PAGE).max(1)
}

/// An RFC 3339 timestamp in 2023 to 2025 with 0, 3 or 6 fractional digits, like ZITADEL's.
fn timestamp(hash: u64) -> String {
    let year = 2023 + hash % 3;
    let month = (hash >> 2) % 12 + 1;
    let day = (hash >> 6) % 28 + 1;
    let hour = (hash >> 11) % 24;
    let minute = (hash >> 16) % 60;
    let second = (hash >> 22) % 60;
    let date = format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
    match (hash >> 28) % 3 {
        0 => format!("{date}Z"),
        1 => format!("{date}.{:03}Z", (hash >> 32) % 1000),
        _ => format!("{date}.{:06}Z", (hash >> 32) % 1_000_000),
    }
}

/// splitmix64's finalizer: a deterministic, well-spread hash of a counter.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
