//! Benchmarks the release binary against generated organizations on the fake ZITADEL and
//! checks every run's output against the generator's ground truth (`make bench`).
//!
//! Each run is a child process with a cleared environment; its stdout is verified as it
//! streams (counts by kind, an order-independent checksum, the summary) and never stored.
//! Wall time is measured here; the child's own CPU time and peak RSS come from `wait4`.
//! The table is markdown, so it can be pasted into the README. The exit status is 1 only
//! when an output check fails: a missed performance target is reported, not fatal.

#[path = "../fake_zitadel/zitadel.rs"]
mod zitadel;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;
use zitadel::{
    Dataset, FakeZitadel, GENERATED_ORG, GENERATED_PAT, GenerateSpec, GroundTruth, Options,
    record_hash,
};

const USAGE: &str = "\
usage: bench [--bin PATH] [--repeat N] [--latency-ms N] [--only small|large]
       bench --serve small|large [--latency-ms N]

Generates a large organization (100,000 users, 1,000 projects with 10 roles, 300,000 user
grants) and one ten times smaller, serves each from the fake ZITADEL on loopback, syncs it
with the binary (default target/release/baton-zitadel), verifies the output and prints one
markdown table: without latency (median of N runs, default 3) and with N ms (default 5)
added to every answer (one run).

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
    /// Deviations from the minimal walk (a target, not an output check).
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
            truth.records,
            truth.min_requests
        );
        let fake = match FakeZitadel::start(dataset, Options::default()) {
            Ok(fake) => fake,
            Err(e) => {
                eprintln!("bench: cannot start the fake ZITADEL: {e}");
                return ExitCode::from(2);
            }
        };
        let latency = args.latency.unwrap_or(Duration::from_millis(5));
        for (latency, repeat) in [(Duration::ZERO, args.repeat), (latency, 1)] {
            fake.set_options(Options { latency, ..Options::default() });
            let mut runs = Vec::new();
            for n in 0..repeat {
                let label = format!("{} latency {latency:?} run {}", size.name(), n + 1);
                match run(&args, &fake, size, latency, &truth) {
                    Ok(row) => runs.push(row),
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
        println!("\nEvery run's output matched the ground truth (counts, checksum, summary).");
        return ExitCode::SUCCESS;
    }
    println!("\nOUTPUT CHECKS FAILED:");
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
    println!("# {} records expected, {} requests at least", truth.records, truth.min_requests);
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
    let mut findings = Vec::new();
    if requests != truth.min_requests {
        findings.push(format!("{requests} requests, the minimum is {}", truth.min_requests));
    }
    let mut pages = HashSet::new();
    for request in &log {
        if request.status != 200 {
            findings
                .push(format!("{} {} answered {}", request.method, request.path, request.status));
        }
        if request.method == "POST" && request.limit != Some(LARGEST_PAGE) {
            findings.push(format!("{} with limit {:?}", request.path, request.limit));
        }
        if !pages.insert((request.path.clone(), request.body.clone())) {
            findings.push(format!("{} {} fetched twice", request.path, request.body));
        }
    }
    Ok(Row {
        size,
        latency,
        truth: truth.clone(),
        requests,
        response_bytes: fake.response_bytes() - bytes_before,
        wall,
        cpu: usage.cpu,
        max_rss_kib: usage.max_rss_kib,
        request_findings: findings,
    })
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
    org_id: Cow<'a, str>,
    #[serde(default)]
    external: bool,
    #[serde(borrow, default)]
    user_grant_id: Cow<'a, str>,
    #[serde(borrow, default)]
    state: Cow<'a, str>,
    #[serde(default)]
    counts: BTreeMap<String, u64>,
    #[serde(default)]
    requests: u64,
}

/// Reads the whole stream (so the child never blocks on a full pipe, whatever it prints),
/// checks it against the ground truth and returns the summary's request count.
fn verify(mut stdout: impl BufRead, truth: &GroundTruth) -> Result<u64, String> {
    let mut line = Vec::with_capacity(4096);
    let mut first_error: Option<String> = None;
    let mut checksum = 0u64;
    let mut records = 0u64;
    let mut seen: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut summary: Option<(BTreeMap<String, u64>, u64)> = None;
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
        records += 1;
        let result = check_line(&line, &mut checksum, &mut seen, &mut summary);
        if let Err(message) = result {
            let text = String::from_utf8_lossy(&line[..line.len().min(300)]).into_owned();
            first_error = Some(format!("line {records}: {message}: {text}"));
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    let Some((summary_counts, requests)) = summary else {
        return Err("no summary line: the stream is incomplete".into());
    };
    let mut problems = Vec::new();
    if records != truth.records {
        problems.push(format!("{records} lines, expected {}", truth.records));
    }
    if checksum != truth.checksum {
        problems.push(format!("checksum {checksum:016x}, expected {:016x}", truth.checksum));
    }
    for (name, expected) in truth.counts.named() {
        if summary_counts.get(name) != Some(&expected) {
            problems.push(format!(
                "summary counts {name} = {:?}, expected {expected}",
                summary_counts.get(name)
            ));
        }
        // The summary's kinds that are records must also be what the stream holds.
        if let Some(&printed) = seen.get(name)
            && printed != expected
        {
            problems.push(format!("{printed} {name} records printed, expected {expected}"));
        }
    }
    if summary_counts.len() != truth.counts.named().len() {
        problems.push(format!("the summary has counts {:?}", summary_counts.keys()));
    }
    if problems.is_empty() { Ok(requests) } else { Err(problems.join("; ")) }
}

fn check_line(
    line: &[u8],
    checksum: &mut u64,
    seen: &mut BTreeMap<&'static str, u64>,
    summary: &mut Option<(BTreeMap<String, u64>, u64)>,
) -> Result<(), String> {
    if summary.is_some() {
        return Err("a line after the summary".into());
    }
    let Some(json) = line.strip_suffix(b"\n") else {
        return Err("the stream ends mid-line".into());
    };
    let record: Line = serde_json::from_slice(json).map_err(|e| format!("not a record ({e})"))?;
    let (kind, hash) = match (&*record.kind, &*record.resource_type) {
        ("resource_type", _) => ("resource_type", record_hash(&["resource_type", &record.id])),
        ("resource", "user") => {
            let kind = if record.external { "external_user" } else { "user" };
            let external = if record.external { "true" } else { "false" };
            let parts = ["user", &record.id, &record.display_name, &record.status];
            (kind, record_hash(&[&parts[..], &[&*record.org_id, external]].concat()))
        }
        ("resource", "project") => {
            ("project", record_hash(&["project", &record.id, &record.display_name, &record.status]))
        }
        ("entitlement", _) => {
            ("entitlement", record_hash(&["entitlement", &record.id, &record.display_name]))
        }
        ("grant", _) => {
            ("grant", record_hash(&["grant", &record.id, &record.user_grant_id, &record.state]))
        }
        ("summary", _) => {
            if record.org_id != GENERATED_ORG {
                return Err("the summary names another organization".into());
            }
            *summary = Some((record.counts, record.requests));
            return Ok(());
        }
        (kind, resource_type) => {
            return Err(format!("unknown kind {kind:?} (resource_type {resource_type:?})"));
        }
    };
    *checksum = checksum.wrapping_add(hash);
    *seen.entry(kind).or_default() += 1;
    Ok(())
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
        "| run | users | external | projects | entitlements | grants | records | requests (min) | response MiB | wall s | CPU s | CPU µs/record | peak RSS MiB |"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for row in rows {
        let counts = &row.truth.counts;
        let latency = if row.latency.is_zero() {
            format!(", median of {}", args.repeat)
        } else {
            format!(" + {} ms/request", row.latency.as_millis())
        };
        println!(
            "| {}{latency} | {} | {} | {} | {} | {} | {} | {} ({}) | {:.1} | {:.2} | {:.2} | {:.2} | {:.1} |",
            row.size.name(),
            counts.user,
            counts.external_user,
            counts.project,
            counts.entitlement,
            counts.grant,
            row.truth.records,
            row.requests,
            row.truth.min_requests,
            row.response_bytes as f64 / (1024.0 * 1024.0),
            row.wall.as_secs_f64(),
            row.cpu.as_secs_f64(),
            cpu_per_record(row),
            row.max_rss_kib as f64 / 1024.0,
        );
    }
    if let Some(row) = rows.first() {
        let c = &row.truth.counts;
        println!(
            "\nSkipped, as the summary counts them ({}): {} inactive user grants, {} without role keys, {} unknown role keys.",
            row.size.name(),
            c.inactive_user_grant,
            c.user_grant_without_roles,
            c.unknown_role_key
        );
    }
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

fn cpu_per_record(row: &Row) -> f64 {
    row.cpu.as_secs_f64() * 1e6 / row.truth.records as f64
}

fn target(met: bool, text: &str) {
    println!("- {} {text}", if met { "met:" } else { "MISSED:" });
}
