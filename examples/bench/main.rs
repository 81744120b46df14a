//! Benchmarks the release binary against generated organizations on the fake ZITADEL and
//! checks every run's output against the generator's ground truth (`make bench`).
//!
//! Each run is a child process with a cleared environment; its stdout is verified as it
//! streams (every count of the summary and of the records by kind, an order-independent
//! checksum, the stream's contract of ids and references; see `verify.rs`) and never stored,
//! and the fake's request log is held to the minimum per endpoint. Wall time is measured
//! here; the child's own CPU time and peak RSS come from `wait4`. The tables are markdown,
//! so they can be pasted into `docs/performance.md`. The exit status is 1 when an output or
//! request check fails: a missed CPU or memory target is reported, not fatal.

mod measure;
mod report;
mod verify;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use fake_zitadel::{
    AccessTruth, Dataset, FakeZitadel, GENERATED_IAM_PAT, GENERATED_PAT, GenerateSpec, GroundTruth,
    Options, RequestLog, endpoint_of,
};
use measure::{MEASURE_FLAG, MEASURE_REPORT, Usage, measure, tail};
use report::{median, print_table};
use verify::verify;

const USAGE: &str = "\
usage: bench [--bin PATH] [--repeat N] [--latency-ms N] [--only small|large]
       bench --serve small|large [--latency-ms N]

Generates a large organization (100,000 users, 1,000 projects with 10 roles, 300,000 user
grants, 20 org managers and one to three per project, 200 project grants to 10 other
organizations with 30,000 user grants made through them, tokens and keys of its service
users, six instance managers) and one ten times smaller, serves each from the fake ZITADEL
on loopback, syncs it with the binary (default target/release/baton-zitadel), verifies the
output and the requests per endpoint and prints markdown tables: without latency (median
of N runs, default 3) with an organization's token and with the instance's (which reads the
instance's managers too), and with N ms (default 5) added to every answer (one run, the
organization's token), then the requests per endpoint.

With --serve it only generates the organization and serves it until killed, printing the
URL and token to use, e.g. for profiling the binary by hand.
";

/// The targets for the large organization: memory that stays flat as it grows, and a CPU
/// cost per record.
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

/// The token a run syncs with.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Token {
    /// An Org Owner Viewer's: everything but the instance, which it is refused.
    Org,
    /// An Iam Owner Viewer's: everything, the instance and its managers included.
    Instance,
}

impl Token {
    fn name(self) -> &'static str {
        match self {
            Token::Org => "organization token",
            Token::Instance => "instance token",
        }
    }

    fn pat(self) -> &'static str {
        match self {
            Token::Org => GENERATED_PAT,
            Token::Instance => GENERATED_IAM_PAT,
        }
    }

    /// What a sync with it prints and requests.
    fn access(self, truth: &GroundTruth) -> &AccessTruth {
        match self {
            Token::Org => &truth.access,
            Token::Instance => &truth.instance_access,
        }
    }
}

/// One row of the table: a verified run, or the median of several.
struct Row {
    size: Size,
    latency: Duration,
    token: Token,
    /// What a sync with the run's token prints and requests.
    access: AccessTruth,
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
        // Without latency to add, the last pass would repeat the first. The instance's
        // token syncs the organization and the instance's managers too.
        let passes = [
            (Duration::ZERO, args.repeat, Token::Org),
            (Duration::ZERO, args.repeat, Token::Instance),
            (latency, 1, Token::Org),
        ];
        let passes = if latency.is_zero() { &passes[..2] } else { &passes[..] };
        for &(latency, repeat, token) in passes {
            fake.set_options(Options { latency, ..Options::default() });
            let mut runs = Vec::new();
            for n in 0..repeat {
                let label =
                    format!("{} {} latency {latency:?} run {}", size.name(), token.name(), n + 1);
                match run(&args, &fake, (size, token), latency, &truth) {
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
    rows.sort_by_key(|row| (row.latency, row.size == Size::Large, row.token));
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
    let access = &truth.instance_access;
    println!(
        "# with BATON_PAT={GENERATED_IAM_PAT}, the instance's: {} records expected, {} requests at least",
        access.records, access.min_requests
    );
    // The server runs on its own threads; this one only keeps the process alive.
    loop {
        thread::park();
    }
}

/// Runs one sync, verifies its output and its requests, and measures it.
fn run(
    args: &Args,
    fake: &FakeZitadel,
    (size, token): (Size, Token),
    latency: Duration,
    truth: &GroundTruth,
) -> Result<Row, String> {
    let access = token.access(truth);
    fake.clear_requests();
    let bytes_before = fake.response_bytes();
    let this = std::env::current_exe().map_err(|e| format!("cannot find the bench: {e}"))?;
    let mut child = Command::new(this)
        .arg(MEASURE_FLAG)
        .arg(&args.bin)
        .env_clear()
        .env("BATON_INSTANCE_URL", fake.url())
        .env("BATON_PAT", token.pat())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the bench as {MEASURE_FLAG}: {e}"))?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let stderr = thread::spawn(move || tail(stderr, 2048));
    let stdout = child.stdout.take().expect("stdout is piped");
    let verdict = verify(BufReader::with_capacity(256 * 1024, stdout), truth, access);
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
    let (requests_by_endpoint, findings) = check_requests(&log, access);
    Ok(Row {
        size,
        latency,
        token,
        access: access.clone(),
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
    access: &AccessTruth,
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
        // An organization's token is refused the instance's role list, once, and the sync
        // goes on without the instance (the instance's token is not: its truth has the
        // instance).
        let refused_instance = endpoint == "POST /admin/v1/members/roles/_search"
            && request.status == 403
            && access.counts.instance == 0;
        if request.status != 200 && !refused_instance {
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
    let minimum = &access.requests;
    for endpoint in minimum.keys().chain(by_endpoint.keys()).collect::<BTreeSet<_>>() {
        let sent = by_endpoint.get(endpoint).copied().unwrap_or_default();
        let least = minimum.get(endpoint).copied().unwrap_or_default();
        if sent != least {
            findings.push(format!("{endpoint}: {sent} requests, the minimum is {least}"));
        }
    }
    (by_endpoint, findings)
}
