//! Benchmarks the release binary against generated organizations on the fake ZITADEL and
//! checks every run's output against the generator's ground truth (`make bench`).
//!
//! Each run is a child process with a cleared environment; its stdout is verified as it
//! streams (every count of the summary and of the records by kind, an order-independent
//! checksum, the stream's promises of ids and references; see `Stream`) and never stored,
//! and the fake's request log is held to the minimum per endpoint. Wall time is measured
//! here; the child's own CPU time and peak RSS come from `wait4`. The tables are markdown,
//! so they can be pasted into the README. The exit status is 1 when an output or request
//! check fails: a missed CPU or memory target is reported, not fatal.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use fake_zitadel::{
    Dataset, FakeZitadel, GENERATED_ORG, GENERATED_OTHER_ORG, GENERATED_PAT, GenerateSpec,
    GroundTruth, Options, RequestLog, endpoint_of, manager_role_name, record_hash,
};
use serde::Deserialize;

const USAGE: &str = "\
usage: bench [--bin PATH] [--repeat N] [--latency-ms N] [--only small|large]
       bench --serve small|large [--latency-ms N]

Generates a large organization (100,000 users, 1,000 projects with 10 roles, 300,000 user
grants, 20 org managers and one to three per project, 200 project grants to 10 other
organizations with 30,000 user grants made through them) and one ten times smaller, serves
each from the fake ZITADEL on loopback, syncs it with the binary (default
target/release/baton-zitadel), verifies the output and the requests per endpoint and prints
markdown tables: without latency (median of N runs, default 3) and with N ms (default 5)
added to every answer (one run), then the requests per endpoint.

With --serve it only generates the organization and serves it until killed, printing the
URL and token to use, e.g. for profiling the binary by hand.
";

/// The targets of issue 4, for the large organization.
const RSS_TARGET_KIB: u64 = 16 * 1024;
const RSS_GROWTH_TARGET_KIB: u64 = 2 * 1024;
const CPU_PER_RECORD_TARGET_US: f64 = 2.0;
/// The page size the connector should ask for: the largest ZITADEL accepts.
const LARGEST_PAGE: u64 = 1000;

struct Args {
    bin: PathBuf,
    repeat: usize,
    /// Added to every answer in the second half of the benchmark (default 5 ms); with
    /// `--serve`, to every answer (default none).
    latency: Option<Duration>,
    sizes: Vec<Size>,
    /// Serve this size until killed instead of benchmarking.
    serve: Option<Size>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Size {
    Small,
    Large,
}

impl Size {
    fn name(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Large => "large",
        }
    }

    fn spec(self) -> GenerateSpec {
        match self {
            Size::Small => GenerateSpec::LARGE.divided(10),
            Size::Large => GenerateSpec::LARGE,
        }
    }
}

/// One row of the table: a verified run, or the median of several.
struct Row {
    size: Size,
    latency: Duration,
    truth: GroundTruth,
    requests: u64,
    response_bytes: u64,
    wall: Duration,
    cpu: Duration,
    max_rss_kib: u64,
    /// The requests the fake served, by endpoint (`endpoint_of`).
    requests_by_endpoint: BTreeMap<&'static str, u64>,
    /// Deviations from the minimal walk; each one fails the bench.
    request_findings: Vec<String>,
}

/// Runs the binary as a grandchild and reports its usage (see `measure`).
const MEASURE_FLAG: &str = "--measure";
/// The start of the last stderr line of `--measure`: exit code (-1 for a signal), wall time
/// in µs, CPU time in µs, peak RSS in KiB.
const MEASURE_REPORT: &str = "bench: measured: ";

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    if let (Some(MEASURE_FLAG), Some(bin)) = (argv.next().as_deref(), argv.next()) {
        return measure(&bin);
    }
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("bench: {message}");
            return ExitCode::from(2);
        }
    };
    if let Some(size) = args.serve {
        return serve(size, args.latency.unwrap_or_default());
    }
    if !args.bin.is_file() {
        eprintln!("bench: {} not found; run `cargo build --release` first", args.bin.display());
        return ExitCode::from(2);
    }
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for &size in &args.sizes {
        let started = Instant::now();
        let (dataset, truth) = Dataset::generate(size.spec());
        eprintln!(
            "bench: generated the {} organization in {:.1?}: {} records expected, at least {} requests",
            size.name(),
            started.elapsed(),
            truth.access.records,
            truth.access.min_requests
        );
        let fake = match FakeZitadel::start(dataset, Options::default()) {
            Ok(fake) => fake,
            Err(e) => {
                eprintln!("bench: cannot start the fake ZITADEL: {e}");
                return ExitCode::from(2);
            }
        };
        let latency = args.latency.unwrap_or(Duration::from_millis(5));
        // Without latency to add, the second pass would repeat the first.
        let passes = [(Duration::ZERO, args.repeat), (latency, 1)];
        let passes = if latency.is_zero() { &passes[..1] } else { &passes[..] };
        for &(latency, repeat) in passes {
            fake.set_options(Options { latency, ..Options::default() });
            let mut runs = Vec::new();
            for n in 0..repeat {
                let label = format!("{} latency {latency:?} run {}", size.name(), n + 1);
                match run(&args, &fake, size, latency, &truth) {
                    Ok(row) => {
                        for finding in &row.request_findings {
                            failures.push(format!("{label}: {finding}"));
                        }
                        runs.push(row);
                    }
                    Err(message) => failures.push(format!("{label}: {message}")),
                }
            }
            if !runs.is_empty() {
                rows.push(median(runs));
            }
        }
    }
    rows.sort_by_key(|row| (row.latency, row.size == Size::Large));
    print_table(&args, &rows);
    if failures.is_empty() {
        println!(
            "\nEvery run's output matched the ground truth (counts, checksum, ids and references, summary), and its requests the minimum per endpoint."
        );
        return ExitCode::SUCCESS;
    }
    println!("\nOUTPUT OR REQUEST CHECKS FAILED:");
    for failure in &failures {
        println!("- {failure}");
    }
    ExitCode::FAILURE
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args {
        bin: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/baton-zitadel")),
        repeat: 3,
        latency: None,
        sizes: vec![Size::Small, Size::Large],
        serve: None,
    };
    while let Some(arg) = argv.next() {
        let mut value = || argv.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--bin" => args.bin = PathBuf::from(value()?),
            "--repeat" => {
                args.repeat = value()?.parse().map_err(|_| "--repeat needs a number")?;
                args.repeat = args.repeat.max(1);
            }
            "--latency-ms" => {
                let ms = value()?.parse().map_err(|_| "--latency-ms needs a number")?;
                args.latency = Some(Duration::from_millis(ms));
            }
            "--only" => args.sizes = vec![size(&value()?)?],
            "--serve" => args.serve = Some(size(&value()?)?),
            _ => return Err(format!("unexpected argument {arg:?} (see --help)")),
        }
    }
    Ok(Some(args))
}

fn size(name: &str) -> Result<Size, String> {
    match name {
        "small" => Ok(Size::Small),
        "large" => Ok(Size::Large),
        other => Err(format!("expected small or large, not {other:?}")),
    }
}

/// Serves a generated organization until the process is killed.
fn serve(size: Size, latency: Duration) -> ExitCode {
    let (dataset, truth) = Dataset::generate(size.spec());
    let fake = match FakeZitadel::start(dataset, Options { latency, ..Options::default() }) {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("bench: cannot start the fake ZITADEL: {e}");
            return ExitCode::from(2);
        }
    };
    println!("BATON_INSTANCE_URL={} BATON_PAT={GENERATED_PAT}", fake.url());
    let access = &truth.access;
    println!("# {} records expected, {} requests at least", access.records, access.min_requests);
    // The server runs on its own threads; this one only keeps the process alive.
    loop {
        thread::park();
    }
}

/// Runs one sync, verifies its output and its requests, and measures it.
fn run(
    args: &Args,
    fake: &FakeZitadel,
    size: Size,
    latency: Duration,
    truth: &GroundTruth,
) -> Result<Row, String> {
    fake.clear_requests();
    let bytes_before = fake.response_bytes();
    let this = std::env::current_exe().map_err(|e| format!("cannot find the bench: {e}"))?;
    let mut child = Command::new(this)
        .arg(MEASURE_FLAG)
        .arg(&args.bin)
        .env_clear()
        .env("BATON_INSTANCE_URL", fake.url())
        .env("BATON_PAT", GENERATED_PAT)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the bench as {MEASURE_FLAG}: {e}"))?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let stderr = thread::spawn(move || tail(stderr, 2048));
    let stdout = child.stdout.take().expect("stdout is piped");
    let verdict = verify(BufReader::with_capacity(256 * 1024, stdout), truth);
    let measured = child.wait().map_err(|e| format!("waiting for {MEASURE_FLAG}: {e}"))?;
    let stderr = stderr.join().unwrap_or_default();
    let report = stderr.lines().last().and_then(|line| line.strip_prefix(MEASURE_REPORT));
    let Some(report) = report.filter(|_| measured.success()) else {
        return Err(format!("{MEASURE_FLAG} failed ({measured}); stderr ends with:\n{stderr}"));
    };
    let numbers: Vec<i64> = report.split(' ').filter_map(|n| n.parse().ok()).collect();
    let [code, wall_us, cpu_us, max_rss_kib] = numbers[..] else {
        return Err(format!("unexpected report {report:?}"));
    };
    if code != 0 {
        return Err(format!("the sync failed (exit status {code}); stderr ends with:\n{stderr}"));
    }
    let wall = Duration::from_micros(wall_us as u64);
    let usage =
        Usage { cpu: Duration::from_micros(cpu_us as u64), max_rss_kib: max_rss_kib as u64 };
    let summary_requests = verdict?;
    let log = fake.requests();
    let requests = log.len() as u64;
    if summary_requests != requests {
        return Err(format!(
            "the summary counts {summary_requests} requests, the server saw {requests}"
        ));
    }
    let (requests_by_endpoint, findings) = check_requests(&log, truth);
    Ok(Row {
        size,
        latency,
        truth: truth.clone(),
        requests,
        response_bytes: fake.response_bytes() - bytes_before,
        wall,
        cpu: usage.cpu,
        max_rss_kib: usage.max_rss_kib,
        requests_by_endpoint,
        request_findings: findings,
    })
}

/// Groups the fake's request log by endpoint and holds it to the minimal walk: per endpoint
/// exactly the requests `AccessTruth::requests` says, every list page with the largest page
/// size, every answer a 200, no page twice. Returns the requests by endpoint and every
/// deviation, one line per endpoint and kind of deviation with its first example.
fn check_requests(
    log: &[RequestLog],
    truth: &GroundTruth,
) -> (BTreeMap<&'static str, u64>, Vec<String>) {
    let mut by_endpoint: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut deviations: BTreeMap<(&str, &str), (u64, String)> = BTreeMap::new();
    let mut deviation = |endpoint, what, example: String| {
        deviations.entry((endpoint, what)).or_insert((0, example)).0 += 1;
    };
    let mut pages = HashSet::new();
    for request in log {
        let Some(endpoint) = endpoint_of(&request.path) else {
            deviation("", "no ZITADEL endpoint", format!("{} {}", request.method, request.path));
            continue;
        };
        *by_endpoint.entry(endpoint).or_default() += 1;
        if request.status != 200 {
            deviation(endpoint, "not answered 200", format!("{} {}", request.path, request.status));
        }
        // The member-role lists take no parameters: they are no pages.
        let list = request.method == "POST" && !endpoint.ends_with("/members/roles/_search");
        if list && request.limit != Some(LARGEST_PAGE) {
            let example = format!("{} with limit {:?}", request.path, request.limit);
            deviation(endpoint, "a page size other than 1000", example);
        }
        if !pages.insert((request.path.clone(), request.body.clone())) {
            deviation(endpoint, "fetched twice", format!("{} {}", request.path, request.body));
        }
    }
    let mut findings: Vec<String> = deviations
        .into_iter()
        .map(|((endpoint, what), (n, example))| {
            format!("{endpoint}: {n} requests {what}, the first {example}")
        })
        .collect();
    let minimum = &truth.access.requests;
    for endpoint in minimum.keys().chain(by_endpoint.keys()).collect::<BTreeSet<_>>() {
        let sent = by_endpoint.get(endpoint).copied().unwrap_or_default();
        let least = minimum.get(endpoint).copied().unwrap_or_default();
        if sent != least {
            findings.push(format!("{endpoint}: {sent} requests, the minimum is {least}"));
        }
    }
    (by_endpoint, findings)
}

/// One output line, with only the fields the checks read; the rest is skipped unparsed.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    resource_type: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    display_name: Cow<'a, str>,
    #[serde(borrow, default)]
    status: Cow<'a, str>,
    #[serde(borrow, default)]
    status_details: Cow<'a, str>,
    #[serde(borrow, default)]
    org_id: Cow<'a, str>,
    #[serde(default)]
    external: bool,
    #[serde(borrow, default)]
    project_id: Cow<'a, str>,
    #[serde(borrow, default)]
    granted_org_id: Cow<'a, str>,
    #[serde(borrow, default)]
    granted_org_name: Cow<'a, str>,
    #[serde(borrow, default)]
    resource_id: Cow<'a, str>,
    #[serde(borrow, default)]
    slug: Cow<'a, str>,
    #[serde(borrow, default)]
    purpose: Cow<'a, str>,
    #[serde(borrow, default)]
    entitlement_id: Cow<'a, str>,
    #[serde(borrow, default)]
    principal_type: Cow<'a, str>,
    #[serde(borrow, default)]
    principal_id: Cow<'a, str>,
    #[serde(borrow, default)]
    user_grant_id: Cow<'a, str>,
    #[serde(borrow, default)]
    state: Cow<'a, str>,
    #[serde(borrow, default)]
    project_grant_id: Cow<'a, str>,
    #[serde(borrow, default)]
    granted_by_org_id: Cow<'a, str>,
    #[serde(default)]
    counts: BTreeMap<String, u64>,
    #[serde(default)]
    requests: u64,
}

/// The summary's counts that are records, each checked against the records of its kind in
/// the stream too (a grant also counts under its kind of grant, if it has one).
const RECORD_KINDS: [&str; 11] = [
    "user",
    "external_user",
    "org",
    "external_org",
    "project",
    "project_grant",
    "entitlement",
    "grant",
    "manager_grant",
    "org_grant",
    "delegated_grant",
];

/// Reads the whole stream (so the child never blocks on a full pipe, whatever it prints),
/// checks it against the ground truth and returns the summary's request count.
fn verify(mut stdout: impl BufRead, truth: &GroundTruth) -> Result<u64, String> {
    let mut line = Vec::with_capacity(4096);
    let mut first_error: Option<String> = None;
    let mut stream = Stream::default();
    loop {
        line.clear();
        match stdout.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("reading stdout: {e}")),
        }
        if first_error.is_some() {
            continue;
        }
        stream.lines += 1;
        if let Err(message) = stream.line(&line) {
            let text = String::from_utf8_lossy(&line[..line.len().min(300)]).into_owned();
            first_error = Some(format!("line {}: {message}: {text}", stream.lines));
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    stream.finish(truth)
}

/// What the checks of one stream have seen so far.
///
/// Besides the counts, every record's content is held to the ground truth's two
/// order-independent checksums (`record_hash`): the records a sync printed before issue 10
/// (users, projects, project roles, the user grants this organization made and the users of
/// the second organization holding them) add up to `GroundTruth::checksum`, and all others
/// (the org, external orgs, project grants, manager roles and the grants of manager roles,
/// to orgs and made through project grants, every external user by id and org) to
/// `AccessTruth::checksum`. And every record must keep the stream's promises, which
/// neither sees: ids as documented and never repeated within a kind, every reference
/// pointing backwards, grants to organizations and grants made through project grants
/// agreeing with the project grant they name.
#[derive(Default)]
struct Stream {
    lines: u64,
    /// Records by the summary's name of their kind.
    printed: BTreeMap<&'static str, u64>,
    /// The records a sync before issue 10 printed: how many, and the sum of their hashes.
    legacy_records: u64,
    legacy_checksum: u64,
    /// The sum of the hashes of all other records (`AccessTruth::checksum`).
    access_checksum: u64,
    /// External users of the second organization, with their record's hash and whether
    /// they hold a grant this organization made (then they are legacy records too).
    other_org_users: HashMap<String, (u64, bool)>,
    resource_types: HashSet<String>,
    /// Hashes of (resource type, id), of entitlement ids and of grant ids printed so far.
    resources: HashSet<u64>,
    entitlements: HashSet<u64>,
    grants: HashSet<u64>,
    /// Project names by id, for the project grants' display names.
    projects: HashMap<String, String>,
    project_grants: HashMap<String, ProjectGrantSeen>,
    summary: Option<(BTreeMap<String, u64>, u64)>,
}

/// What the grants that name a project grant must agree with.
struct ProjectGrantSeen {
    project_id: String,
    granted_org_id: String,
    state: String,
}

impl Stream {
    fn line(&mut self, line: &[u8]) -> Result<(), String> {
        if self.summary.is_some() {
            return Err("a line after the summary".into());
        }
        let Some(json) = line.strip_suffix(b"\n") else {
            return Err("the stream ends mid-line".into());
        };
        let record: Line =
            serde_json::from_slice(json).map_err(|e| format!("not a record ({e})"))?;
        match &*record.kind {
            "resource_type" => self.resource_type(&record),
            "resource" => self.resource(&record),
            "entitlement" => self.entitlement(&record),
            "grant" => self.grant(&record),
            "summary" => {
                if record.org_id != GENERATED_ORG {
                    return Err("the summary names another organization".into());
                }
                self.summary = Some((record.counts, record.requests));
                Ok(())
            }
            kind => Err(format!("unknown kind {kind:?}")),
        }
    }

    fn resource_type(&mut self, r: &Line) -> Result<(), String> {
        if !self.resource_types.insert(r.id.to_string()) {
            return Err("a resource type printed twice".into());
        }
        let hash = record_hash(&["resource_type", &r.id]);
        match &*r.id {
            "user" | "project" => self.legacy(hash),
            _ => self.access(hash),
        }
        Ok(())
    }

    fn resource(&mut self, r: &Line) -> Result<(), String> {
        if !self.resource_types.contains(&*r.resource_type) {
            return Err("a resource before its resource type".into());
        }
        if !self.resources.insert(record_hash(&[&r.resource_type, &r.id])) {
            return Err("a resource printed twice".into());
        }
        let kind = match (&*r.resource_type, r.external) {
            ("user", external) => {
                let flag = if external { "true" } else { "false" };
                let parts = ["user", &r.id, &r.display_name, &r.status, &r.org_id, flag];
                let hash = record_hash(&parts);
                if !external {
                    self.legacy(hash);
                    "user"
                } else {
                    self.access(record_hash(&["external_user", &r.id, &r.org_id]));
                    if r.org_id == GENERATED_OTHER_ORG {
                        self.other_org_users.insert(r.id.to_string(), (hash, false));
                    }
                    "external_user"
                }
            }
            ("project", _) => {
                self.legacy(record_hash(&["project", &r.id, &r.display_name, &r.status]));
                self.projects.insert(r.id.to_string(), r.display_name.to_string());
                "project"
            }
            ("org", external) => {
                let flag = if external { "true" } else { "false" };
                self.access(record_hash(&["org", &r.id, &r.display_name, flag]));
                if external { "external_org" } else { "org" }
            }
            ("project_grant", _) => {
                let Some(project_name) = self.projects.get(&*r.project_id) else {
                    return Err("a project grant before its project".into());
                };
                if r.display_name != format!("{project_name} for {}", r.granted_org_name) {
                    return Err("not named \"<project> for <granted org>\"".into());
                }
                let seen = ProjectGrantSeen {
                    project_id: r.project_id.to_string(),
                    granted_org_id: r.granted_org_id.to_string(),
                    state: r.status_details.to_string(),
                };
                self.project_grants.insert(r.id.to_string(), seen);
                self.access(record_hash(&["project_grant", &r.id, &r.display_name, &r.status]));
                "project_grant"
            }
            (other, _) => return Err(format!("a resource of unknown type {other:?}")),
        };
        self.count(kind);
        Ok(())
    }

    fn entitlement(&mut self, r: &Line) -> Result<(), String> {
        if !self.resources.contains(&record_hash(&[&r.resource_type, &r.resource_id])) {
            return Err("an entitlement before its resource".into());
        }
        if r.id != format!("{}:{}:{}", r.resource_type, r.resource_id, r.slug) {
            return Err("an entitlement id other than <resource_type>:<resource_id>:<slug>".into());
        }
        if !self.entitlements.insert(record_hash(&[&r.id])) {
            return Err("an entitlement printed twice".into());
        }
        let manager_role = match (&*r.resource_type, r.slug.strip_prefix("manager:")) {
            ("project", None) => None,
            ("project", Some(role)) => Some(role),
            _ => Some(&*r.slug),
        };
        match manager_role {
            None => self.legacy(record_hash(&["entitlement", &r.id, &r.display_name])),
            Some(role)
                if r.purpose != "PERMISSION" || r.display_name != manager_role_name(role) =>
            {
                return Err(format!(
                    "a manager role not shown as {:?} with purpose PERMISSION",
                    manager_role_name(role)
                ));
            }
            Some(_) => self.access(record_hash(&["entitlement", &r.id, &r.display_name])),
        }
        self.count("entitlement");
        Ok(())
    }

    fn grant(&mut self, r: &Line) -> Result<(), String> {
        if !self.entitlements.contains(&record_hash(&[&r.entitlement_id])) {
            return Err("a grant before its entitlement".into());
        }
        if r.entitlement_id != format!("{}:{}:{}", r.resource_type, r.resource_id, r.slug) {
            return Err("a grant whose entitlement is not its resource's and slug's".into());
        }
        if !self.resources.contains(&record_hash(&[&r.principal_type, &r.principal_id])) {
            return Err("a grant before its principal".into());
        }
        let through_project_grant = !r.project_grant_id.is_empty();
        let mut id = format!("{}:{}:{}", r.entitlement_id, r.principal_type, r.principal_id);
        if through_project_grant && r.principal_type == "user" {
            id = format!("{id}:project_grant:{}", r.project_grant_id);
        }
        if r.id != id {
            return Err(format!("a grant id other than {id:?}"));
        }
        if !self.grants.insert(record_hash(&[&r.id])) {
            return Err("a grant printed twice".into());
        }
        let project_grant = match self.project_grants.get(&*r.project_grant_id) {
            Some(seen) if seen.project_id == r.resource_id => Some(seen),
            Some(_) => return Err("a grant naming a project grant of another project".into()),
            None if through_project_grant => {
                return Err("a grant naming a project grant not printed before".into());
            }
            None => None,
        };
        let user_grant = !r.user_grant_id.is_empty();
        let hash = record_hash(&["grant", &r.id, &r.user_grant_id, &r.state]);
        let kind = match (&*r.principal_type, project_grant, user_grant) {
            ("org", Some(seen), false) => {
                if seen.granted_org_id != r.principal_id || seen.state != r.state {
                    return Err("a grant to an organization other than its project grant's, or in another state".into());
                }
                Some("org_grant")
            }
            ("user", Some(seen), true) => {
                if seen.granted_org_id != r.granted_by_org_id {
                    return Err("granted_by_org_id is not the project grant's organization".into());
                }
                Some("delegated_grant")
            }
            ("user", None, true) => {
                self.legacy(hash);
                if let Some((_, holds)) = self.other_org_users.get_mut(&*r.principal_id) {
                    *holds = true;
                }
                None
            }
            ("user", None, false) => Some("manager_grant"),
            _ => return Err("a grant of no kind the stream has".into()),
        };
        self.count("grant");
        if let Some(kind) = kind {
            self.access(hash);
            self.count(kind);
        }
        Ok(())
    }

    fn count(&mut self, kind: &'static str) {
        *self.printed.entry(kind).or_default() += 1;
    }

    fn legacy(&mut self, hash: u64) {
        self.legacy_checksum = self.legacy_checksum.wrapping_add(hash);
        self.legacy_records += 1;
    }

    fn access(&mut self, hash: u64) {
        self.access_checksum = self.access_checksum.wrapping_add(hash);
    }

    /// Compares what the stream held with the ground truth; returns the summary's request
    /// count.
    fn finish(mut self, truth: &GroundTruth) -> Result<u64, String> {
        let Some((summary_counts, requests)) = self.summary.take() else {
            return Err("no summary line: the stream is incomplete".into());
        };
        for (hash, holds) in std::mem::take(&mut self.other_org_users).into_values() {
            if holds {
                self.legacy(hash);
            }
        }
        let access = &truth.access;
        let mut problems = Vec::new();
        if self.lines != access.records {
            problems.push(format!("{} lines, expected {}", self.lines, access.records));
        }
        // `GroundTruth::records` counts the summary too.
        if self.legacy_records + 1 != truth.records || self.legacy_checksum != truth.checksum {
            problems.push(format!(
                "the records of users, projects, project roles and this organization's user grants: {} with checksum {:016x}, expected {} with {:016x}",
                self.legacy_records,
                self.legacy_checksum,
                truth.records - 1,
                truth.checksum
            ));
        }
        if self.access_checksum != access.checksum {
            problems.push(format!(
                "the org, external orgs and users, project grants, manager roles and the grants of manager roles, to orgs and made through project grants: checksum {:016x}, expected {:016x}",
                self.access_checksum, access.checksum
            ));
        }
        let mut expected: Vec<(&str, u64)> = access.counts.named().to_vec();
        expected.push(("grant_without_principal", truth.counts.grant_without_principal));
        for &(name, count) in &expected {
            if summary_counts.get(name) != Some(&count) {
                problems.push(format!(
                    "summary counts {name} = {:?}, expected {count}",
                    summary_counts.get(name)
                ));
            }
            let printed = self.printed.get(name).copied().unwrap_or_default();
            if RECORD_KINDS.contains(&name) && printed != count {
                problems.push(format!("{printed} {name} records printed, expected {count}"));
            }
        }
        let unexpected: Vec<&String> = summary_counts
            .keys()
            .filter(|name| !expected.iter().any(|(known, _)| known == name))
            .collect();
        if !unexpected.is_empty() {
            problems.push(format!("the summary also counts {unexpected:?}"));
        }
        if problems.is_empty() { Ok(requests) } else { Err(problems.join("; ")) }
    }
}

/// Runs `bin` with the environment it was given, its stdout and stderr passed through, and
/// prints its exit code, wall time, CPU time and peak RSS as the last line on stderr.
///
/// The bench holds the generated organizations, hundreds of MiB, and Linux charges a child
/// the peak RSS of the memory it was spawned from (`exec` folds the old mm's high-water mark
/// into `ru_maxrss`, and std spawns with vfork, whose old mm is the parent's). A freshly
/// started copy of the bench is small, so the binary's peak RSS is its own.
fn measure(bin: &str) -> ExitCode {
    let started = Instant::now();
    let child = match Command::new(bin).stdin(Stdio::null()).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("bench: cannot run {bin}: {e}");
            return ExitCode::from(2);
        }
    };
    match wait_with_usage(child) {
        Ok((status, usage)) => {
            eprintln!(
                "{MEASURE_REPORT}{} {} {} {}",
                status.code().unwrap_or(-1),
                started.elapsed().as_micros(),
                usage.cpu.as_micros(),
                usage.max_rss_kib
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench: wait4 failed: {e}");
            ExitCode::from(2)
        }
    }
}

/// The child's own resource usage.
struct Usage {
    /// User plus system CPU time.
    cpu: Duration,
    max_rss_kib: u64,
}

/// Linux's `struct rusage` on 64-bit targets (`<sys/resource.h>`): two `struct timeval`s,
/// then fourteen `long`s, of which only `ru_maxrss` (in KiB) is read here.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
#[repr(C)]
#[derive(Default)]
struct Rusage {
    ru_utime: Timeval,
    ru_stime: Timeval,
    ru_maxrss: i64,
    _more: [i64; 13],
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
#[repr(C)]
#[derive(Default)]
struct Timeval {
    tv_sec: i64,
    tv_usec: i64,
}

// std's `Child::wait` reaps the child but drops its resource usage, and
// `getrusage(RUSAGE_CHILDREN)` would add up every child so far and keep the largest RSS of
// all of them; `wait4` reports exactly this child's CPU time and peak RSS. std links libc
// anyway, so declaring the one function here spares a dependency on the libc crate.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
unsafe extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
}

/// Waits for the child and returns its exit status with its own CPU time and peak RSS.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn wait_with_usage(child: Child) -> io::Result<(ExitStatus, Usage)> {
    use std::os::unix::process::ExitStatusExt;
    let pid = i32::try_from(child.id()).map_err(io::Error::other)?;
    let mut status = 0;
    let mut usage = Rusage::default();
    loop {
        // SAFETY: both pointers point to live, writable values of the types wait4 expects,
        // and the pid is our own unreaped child (std never waits for it once we own it here).
        let reaped = unsafe { wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    // The child is reaped; dropping the handle does not wait again.
    drop(child);
    let micros = |t: &Timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    let cpu = Duration::from_micros(micros(&usage.ru_utime) + micros(&usage.ru_stime));
    Ok((ExitStatus::from_raw(status), Usage { cpu, max_rss_kib: usage.ru_maxrss as u64 }))
}

/// Elsewhere there is no per-child usage to read; the table shows zeros.
#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn wait_with_usage(mut child: Child) -> io::Result<(ExitStatus, Usage)> {
    let status = child.wait()?;
    Ok((status, Usage { cpu: Duration::ZERO, max_rss_kib: 0 }))
}

/// Reads a stream to its end and returns its last `keep` bytes, as text.
fn tail(mut stream: impl Read, keep: usize) -> String {
    let mut kept = Vec::new();
    let mut buffer = [0; 8192];
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&buffer[..n]);
        if kept.len() > 2 * keep {
            kept.drain(..kept.len() - keep);
        }
    }
    let start = kept.len().saturating_sub(keep);
    String::from_utf8_lossy(&kept[start..]).into_owned()
}

/// Folds repeated runs into one row: the median of each measurement separately.
fn median(mut runs: Vec<Row>) -> Row {
    let middle = runs.len() / 2;
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    let mut cpus: Vec<Duration> = runs.iter().map(|r| r.cpu).collect();
    let mut rss: Vec<u64> = runs.iter().map(|r| r.max_rss_kib).collect();
    walls.sort();
    cpus.sort();
    rss.sort();
    let mut row = runs.swap_remove(0);
    for other in runs {
        row.request_findings.extend(other.request_findings);
    }
    row.request_findings.sort();
    row.request_findings.dedup();
    row.wall = walls[middle];
    row.cpu = cpus[middle];
    row.max_rss_kib = rss[middle];
    row
}

fn print_table(args: &Args, rows: &[Row]) {
    println!(
        "| run | users | external users | projects | project grants | entitlements | grants | records | requests (min) | response MiB | wall s | CPU s | CPU µs/record | peak RSS MiB |"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for row in rows {
        let access = &row.truth.access;
        let counts = &access.counts;
        let latency = if row.latency.is_zero() {
            format!(", median of {}", args.repeat)
        } else {
            format!(" + {} ms/request", row.latency.as_millis())
        };
        println!(
            "| {}{latency} | {} | {} | {} | {} | {} | {} | {} | {} ({}) | {:.1} | {:.2} | {:.2} | {:.2} | {:.1} |",
            row.size.name(),
            counts.user,
            counts.external_user,
            counts.project,
            counts.project_grant,
            counts.entitlement,
            counts.grant,
            access.records,
            row.requests,
            access.min_requests,
            row.response_bytes as f64 / (1024.0 * 1024.0),
            row.wall.as_secs_f64(),
            row.cpu.as_secs_f64(),
            cpu_per_record(row),
            row.max_rss_kib as f64 / 1024.0,
        );
    }
    let zero_latency: Vec<&Row> = rows.iter().filter(|row| row.latency.is_zero()).collect();
    for row in &zero_latency {
        let c = &row.truth.access.counts;
        println!(
            "\n{}: {} grants of user grants this organization made, {} of user grants made through project grants, {} of manager roles, {} to {} other organizations; skipped, as the summary counts them: {} inactive user grants, {} inactive project grants, {} user grants without role keys, {} unknown role keys.",
            row.size.name(),
            c.grant - c.delegated_grant - c.manager_grant - c.org_grant,
            c.delegated_grant,
            c.manager_grant,
            c.org_grant,
            c.external_org,
            c.inactive_user_grant,
            c.inactive_project_grant,
            c.user_grant_without_roles,
            c.unknown_role_key
        );
    }
    print_requests(&zero_latency);
    println!("\nTargets (large organization):");
    let find = |size, latency: bool| {
        rows.iter().find(|r| r.size == size && r.latency.is_zero() != latency)
    };
    if let (Some(large), small) = (find(Size::Large, false), find(Size::Small, false)) {
        let rss = large.max_rss_kib;
        target(
            rss <= RSS_TARGET_KIB,
            &format!("peak RSS {:.1} MiB <= 16 MiB", rss as f64 / 1024.0),
        );
        if let Some(small) = small {
            let growth = rss.saturating_sub(small.max_rss_kib);
            target(
                growth <= RSS_GROWTH_TARGET_KIB,
                &format!(
                    "peak RSS {:.1} MiB above the small organization's <= 2 MiB",
                    growth as f64 / 1024.0
                ),
            );
        }
        let per_record = cpu_per_record(large);
        target(
            per_record <= CPU_PER_RECORD_TARGET_US,
            &format!("{per_record:.2} µs CPU per record <= 2 µs"),
        );
    }
    for row in rows {
        let name = format!("{} (latency {} ms)", row.size.name(), row.latency.as_millis());
        if row.request_findings.is_empty() {
            target(
                true,
                &format!("{name}: exactly the minimal walk, 1000-row pages, no page twice"),
            );
        } else {
            let shown: Vec<&str> =
                row.request_findings.iter().take(5).map(String::as_str).collect();
            target(false, &format!("{name}: {}", shown.join("; ")));
        }
    }
}

/// The requests per endpoint of each organization, sent and (in parentheses) the minimum.
fn print_requests(rows: &[&Row]) {
    let endpoints: BTreeSet<&str> = rows
        .iter()
        .flat_map(|row| row.truth.access.requests.keys().chain(row.requests_by_endpoint.keys()))
        .copied()
        .collect();
    let sizes: Vec<&str> = rows.iter().map(|row| row.size.name()).collect();
    println!("\n| endpoint | {} |", sizes.join(" | "));
    println!("| --- |{}", " ---: |".repeat(rows.len()));
    for endpoint in endpoints {
        let cells: Vec<String> = rows
            .iter()
            .map(|row| {
                let sent = row.requests_by_endpoint.get(endpoint).copied().unwrap_or_default();
                let least = row.truth.access.requests.get(endpoint).copied().unwrap_or_default();
                format!("{sent} ({least})")
            })
            .collect();
        println!("| `{endpoint}` | {} |", cells.join(" | "));
    }
}

fn cpu_per_record(row: &Row) -> f64 {
    row.cpu.as_secs_f64() * 1e6 / row.truth.access.records as f64
}

fn target(met: bool, text: &str) {
    println!("- {} {text}", if met { "met:" } else { "MISSED:" });
}
