//! The harness of the end-to-end tests: the fake ZITADEL with the demo's data, `sync` and
//! `run` (the binary with an explicit environment, every run checked for leaked secrets and,
//! when it succeeds, held to the stream's contract), and the `assert_*` and `golden` checks.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fake_zitadel::{Contract, Dataset, FakeZitadel, Fault, FaultAction, Options, Record};
use serde_json::Value;

pub const ACME: &str = "284905129371435012";
pub const GLOBEX: &str = "284905311209451523";
pub const ACME_PAT: &str = "demo-pat-acme-viewer";
pub const INSTANCE_PAT: &str = "demo-pat-iam-viewer";

/// What a run of the binary printed. `stdout` is the records with the summary's
/// `RUN_FIELDS` masked, so that runs compare with each other and with golden files;
/// `raw_stdout` is what the binary printed.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub raw_stdout: String,
}

/// The summary fields that two runs on unchanged data with the same settings print
/// differently (the README names them), and `instance_url`, which differs from one fake to
/// the next (each listens on a port of its own).
pub const RUN_FIELDS: [&str; 3] = ["started_at", "finished_at", "instance_url"];

/// `stdout` with the value of each of `RUN_FIELDS` in its summary line replaced by `*`; the
/// Makefile's demo-smoke masks them alike.
pub fn masked(stdout: &str) -> String {
    let mut out = String::with_capacity(stdout.len());
    for line in stdout.split_inclusive('\n') {
        if !line.starts_with("{\"kind\":\"summary\"") {
            out.push_str(line);
            continue;
        }
        let mut line = line.to_string();
        for field in RUN_FIELDS {
            let key = format!("\"{field}\":\"");
            if let Some(start) = line.find(&key).map(|at| at + key.len())
                && let Some(length) = line[start..].find('"')
            {
                line.replace_range(start..start + length, "*");
            }
        }
        out.push_str(&line);
    }
    out
}

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn demo() -> Dataset {
    Dataset::load(root().join("testdata/demo.json")).expect("testdata/demo.json loads")
}

pub fn serve(dataset: Dataset, options: Options) -> FakeZitadel {
    FakeZitadel::start(dataset, options).expect("the fake ZITADEL starts")
}

pub fn serve_demo() -> FakeZitadel {
    serve(demo(), Options::default())
}

/// Runs the binary with only the given environment (plus the fake's URL and, unless `env`
/// names a PAT source, the ACME token).
pub fn sync(fake: &FakeZitadel, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().env("BATON_INSTANCE_URL", fake.url());
    if !env.iter().any(|(name, _)| name.starts_with("BATON_PAT")) {
        command.env("BATON_PAT", ACME_PAT);
    }
    // Console logs are stable enough for golden files; the JSON format has its own test.
    if !env.iter().any(|(name, _)| *name == "BATON_LOG_FORMAT") {
        command.env("BATON_LOG_FORMAT", "console");
    }
    command.envs(env.iter().copied()).args(args);
    let run = run(command);
    assert!(run.stdout.is_empty() || run.stdout.ends_with('\n'), "stdout ends mid-line");
    for line in run.stdout.lines() {
        let record: Value = serde_json::from_str(line).expect("each stdout line is JSON");
        assert!(line.starts_with("{\"kind\":"), "kind comes first: {line}");
        assert!(record.is_object());
    }
    if run.status == 0 {
        check_stream(&run.stdout);
    }
    run
}

/// Runs `command` and checks that no token, and no piece of 8 characters of any PAT the
/// command gives the binary, appears in anything it printed.
pub fn run(mut command: Command) -> Run {
    let pats = pats_of(&command);
    let output = bounded(&mut command).stdin(Stdio::null()).output().expect("the binary runs");
    let raw_stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let run = Run {
        status: exit_code(output.status),
        stdout: masked(&raw_stdout),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        raw_stdout,
    };
    let mut secrets = vec!["demo-pat-".to_string(), "not-a-real-pat-1234".to_string()];
    secrets.extend(pats.iter().flat_map(|pat| pieces(pat)));
    for secret in &secrets {
        assert!(!run.raw_stdout.contains(secret), "stdout contains {secret:?}:\n{}", run.stdout);
        assert!(!run.stderr.contains(secret), "stderr contains {secret:?}:\n{}", run.stderr);
    }
    run
}

/// The longest a run of the binary may take in a test: far more than any test needs on a
/// busy machine, far less than a run that retries by mistake would take.
pub const RUN_TIME_LIMIT_SECONDS: u32 = 120;
/// The retries a run gets unless its test says otherwise: enough for a fault injected once,
/// few enough that a 403 retried by mistake fails in seconds, not in 20 minutes.
pub const TEST_MAX_RETRIES: &str = "2";

/// Bounds a run of the binary, as the last step of its setup: a small retry budget unless
/// the test chose one, and a time limit that kills the process (an alarm set before `exec`
/// survives it, and SIGALRM ends the binary) and so fails the test.
pub fn bounded(command: &mut Command) -> &mut Command {
    if !command.get_envs().any(|(name, _)| name == "BATON_MAX_RETRIES") {
        command.env("BATON_MAX_RETRIES", TEST_MAX_RETRIES);
    }
    // SAFETY: alarm is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(command, || {
            os::alarm(RUN_TIME_LIMIT_SECONDS);
            Ok(())
        })
    }
}

/// The exit status of a run, which must have ended by itself.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(os::SIGALRM)) => {
            panic!("the binary ran longer than {RUN_TIME_LIMIT_SECONDS} s and was killed")
        }
        (None, signal) => panic!("the binary was killed by signal {signal:?}"),
    }
}

/// Every PAT `command` gives the binary: `--pat`, `BATON_PAT`, and the contents of the
/// files named by `--pat-file` and `BATON_PAT_FILE`.
pub fn pats_of(command: &Command) -> Vec<String> {
    let args: Vec<String> = command.get_args().map(|arg| arg.to_string_lossy().into()).collect();
    let (mut pats, mut files) = (Vec::new(), Vec::new());
    for (at, arg) in args.iter().enumerate() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        let value = inline.or_else(|| args.get(at + 1).cloned());
        match flag {
            "--pat" => pats.extend(value),
            "--pat-file" => files.extend(value),
            _ => {}
        }
    }
    for (name, value) in command.get_envs() {
        let value = value.map(|value| value.to_string_lossy().into_owned());
        match name.to_str() {
            Some("BATON_PAT") => pats.extend(value),
            Some("BATON_PAT_FILE") => files.extend(value),
            _ => {}
        }
    }
    // Regular files only: a FIFO or a device named as the PAT file is the test's trap for
    // the binary, and would hold this process.
    let regular = |path: &&String| std::fs::metadata(path).is_ok_and(|meta| meta.is_file());
    let read = |path: &String| std::fs::read_to_string(path).ok();
    pats.extend(files.iter().filter(regular).filter_map(read));
    pats.iter().map(|pat| pat.trim_end().to_string()).filter(|pat| !pat.is_empty()).collect()
}

/// The pieces of `pat` that must never be printed: every run of 8 characters, or the whole
/// PAT if it is shorter.
pub fn pieces(pat: &str) -> Vec<String> {
    let chars: Vec<char> = pat.chars().collect();
    if chars.len() < 8 {
        return vec![pat.to_string()];
    }
    chars.windows(8).map(|piece| piece.iter().collect()).collect()
}

/// Checks the contract of a complete stream (`fake_zitadel::Contract`): resource types
/// first, each id once per kind, every reference to a record printed before it, and a
/// summary that counts the rest.
pub fn check_stream(stdout: &str) {
    if stdout.is_empty() {
        return; // `--check`, or records written to a file
    }
    let records: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (summary, records) = records.split_last().expect("a summary line");
    assert_eq!(summary["kind"], "summary", "the last line is the summary");
    // Without user (org, project grant) records, grants name those by id only.
    let synced = summary["filters"]["resource_types"].as_array().map(|types| {
        types.iter().map(|t| t.as_str().expect("a resource type").to_string()).collect()
    });
    let mut contract = Contract::new(synced);
    for record in records {
        if let Err(broken) = contract.record(&contract_fields(record)) {
            panic!("{broken}: {record}");
        }
    }
    let counts = &summary["counts"];
    contract.finish(|name| counts[name].as_u64()).unwrap_or_else(|broken| panic!("{broken}"));
}

/// The fields of an output record that the stream's contract reads.
pub fn contract_fields(record: &Value) -> Record<'_> {
    let text = |name: &str| record[name].as_str().unwrap_or_default();
    Record {
        kind: text("kind"),
        id: text("id"),
        resource_type: text("resource_type"),
        external: record["external"].as_bool(),
        project_id: text("project_id"),
        granted_org_id: text("granted_org_id"),
        status_details: text("status_details"),
        resource_id: text("resource_id"),
        slug: text("slug"),
        purpose: text("purpose"),
        entitlement_id: text("entitlement_id"),
        principal_type: text("principal_type"),
        principal_id: text("principal_id"),
        user_grant_id: record["user_grant_id"].as_str(),
        state: text("state"),
        project_grant_id: record["project_grant_id"].as_str(),
        granted_by_org_id: text("granted_by_org_id"),
        identity_id: record["secret"]["identity_id"].as_str().unwrap_or_default(),
        user_id: text("user_id"),
    }
}

/// The records of a stream (its summary left out), each by its kind (a resource's with its
/// type) and id, which `check_stream` proves unique.
pub fn records_by_id(stdout: &str) -> HashMap<(String, String), Value> {
    let (records, _) = records_and_requests(stdout);
    records.lines().map(|line| keyed(serde_json::from_str(line).unwrap())).collect()
}

pub fn keyed(record: Value) -> ((String, String), Value) {
    let kind = match record["kind"].as_str().unwrap() {
        "resource" => format!("resource:{}", record["resource_type"].as_str().unwrap()),
        other => other.to_string(),
    };
    // A user's authentication methods are keyed by the user, once each.
    let id = if kind == "user_auth" { &record["user_id"] } else { &record["id"] };
    ((kind, id.as_str().unwrap().to_string()), record)
}

/// Asserts that `stdout` holds exactly the `expected` records (in any order). An external
/// user's record is built from the first member or user grant that names it, so its fields
/// depend on which came first; it must be the same user, all fields both sources carry
/// equal. Every other record must be equal byte for byte, as JSON.
pub fn assert_same_records(stdout: &str, expected: impl IntoIterator<Item = String>, what: &str) {
    let actual = records_by_id(stdout);
    let expected: HashMap<_, _> =
        expected.into_iter().map(|line| keyed(serde_json::from_str(&line).unwrap())).collect();
    let mut missing: Vec<_> = expected.keys().filter(|key| !actual.contains_key(*key)).collect();
    let mut extra: Vec<_> = actual.keys().filter(|key| !expected.contains_key(*key)).collect();
    missing.sort();
    extra.sort();
    assert!(missing.is_empty() && extra.is_empty(), "{what}: missing {missing:?}, extra {extra:?}");
    for (key, record) in &actual {
        let wanted = &expected[key];
        let same = record == wanted
            || record["external"] == true && key.0 == "resource:user" && same_user(record, wanted);
        assert!(same, "{what}: {record}\nexpected: {wanted}");
    }
}

/// Whether two records of an external user agree: every field is in both and equal, but
/// for those that only a user grant carries (the user's org name and username).
pub fn same_user(one: &Value, other: &Value) -> bool {
    const ONLY_IN_USER_GRANTS: [&str; 2] = ["org_name", "username"];
    match (one, other) {
        (Value::Object(one), Value::Object(other)) => {
            let keys: HashSet<&String> = one.keys().chain(other.keys()).collect();
            keys.into_iter().all(|key| match (one.get(key), other.get(key)) {
                (Some(a), Some(b)) => same_user(a, b),
                _ => ONLY_IN_USER_GRANTS.contains(&key.as_str()),
            })
        }
        _ => one == other,
    }
}

/// Compares `actual` with `testdata/golden/<name>`, or rewrites it with `UPDATE_GOLDEN=1`.
pub fn golden(name: &str, actual: &str) {
    let path = root().join("testdata/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!("{}: {err}; run with UPDATE_GOLDEN=1 to create it", path.display())
    });
    assert!(
        expected == actual,
        "{name} differs from its golden file; run with UPDATE_GOLDEN=1 and review the diff.\n--- actual ---\n{actual}"
    );
}

pub fn summary(stdout: &str) -> Value {
    serde_json::from_str(stdout.lines().last().expect("a summary line")).unwrap()
}

/// Splits a stream into its records and its summary's request count.
pub fn records_and_requests(stdout: &str) -> (String, u64) {
    let (records, last) = stdout.trim_end().rsplit_once('\n').expect("records and a summary");
    let summary: Value = serde_json::from_str(last).unwrap();
    (records.to_string(), summary["requests"].as_u64().unwrap())
}

pub fn demo_golden() -> String {
    std::fs::read_to_string(root().join("testdata/golden/demo.ndjson")).unwrap()
}

/// Asserts a failed run: its status, one error line naming `needles`, and stdout that holds
/// whole records but no summary.
pub fn assert_failure(run: &Run, status: i32, needles: &[&str]) {
    assert_eq!(run.status, status, "stderr: {}", run.stderr);
    let error = run.stderr.lines().last().unwrap_or_default();
    assert!(error.starts_with("baton-zitadel: "), "{}", run.stderr);
    for needle in needles {
        assert!(error.contains(needle), "error line lacks {needle:?}: {error}");
    }
    assert!(!run.stdout.contains("\"kind\":\"summary\""), "a failed run writes no summary");
}

/// A file in a fresh directory of its own, both removed when it is dropped.
pub struct TempFile {
    path: PathBuf,
    _dir: TempDir,
}

impl std::ops::Deref for TempFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

pub fn temp_file(name: &str, contents: &str) -> TempFile {
    let dir = temp_dir(&format!("file-{name}"));
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    TempFile { path, _dir: dir }
}

/// A retryable status answer; `Retry-After: 0` keeps the test from waiting out a backoff.
pub fn status(status: u16, body: &str, retry_after: Option<&str>) -> FaultAction {
    let headers = retry_after.map(|value| ("Retry-After".to_string(), value.to_string()));
    FaultAction::Status { status, body: body.into(), headers: headers.into_iter().collect() }
}

/// Asserts that `run` printed the fault-free demo records, with `extra` more requests.
pub fn assert_fault_free(run: &Run, extra: u64) {
    assert_eq!(run.status, 0, "{}", run.stderr);
    let (records, requests) = records_and_requests(&run.stdout);
    let (expected, expected_requests) = records_and_requests(&demo_golden());
    assert!(records == expected, "the records differ from the fault-free run");
    assert_eq!(requests, expected_requests + extra);
}

/// A user row in ACME's wire format with the given id.
pub fn user_row(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","details":{{"sequence":"1","creationDate":"2025-06-01T00:00:00Z","changeDate":"2025-06-01T00:00:00Z","resourceOwner":"{ACME}"}},"state":"USER_STATE_ACTIVE","userName":"u{id}","loginNames":["u{id}"],"preferredLoginName":"u{id}","machine":{{"name":"Robot {id}"}}}}"#
    )
}

/// The demo with these changes to its dataset file.
pub fn demo_changed(change: impl FnOnce(&mut Value)) -> Dataset {
    let text = std::fs::read_to_string(root().join("testdata/demo.json")).unwrap();
    let mut demo: Value = serde_json::from_str(&text).unwrap();
    change(&mut demo);
    Dataset::parse(&demo.to_string()).unwrap()
}

/// An answer with this status and body, as ZITADEL's gateway would send it.
pub fn answer(status: u16, body: &str) -> Fault {
    Fault::new(FaultAction::Status { status, body: body.into(), headers: Vec::new() })
}

/// A PAT the fake accepts, random as real ones are, for the runs that echo it back.
pub const PAT: &str = "Xk2mP9qL7vR4tW8nZ3bY6cJ1";

/// A user grant of the demo's first project and user, without role keys, so that it is
/// only warned about, with this id.
pub fn grant_without_roles(id_json: &str) -> String {
    format!(
        r#"{{"id":{id_json},"details":{{"resourceOwner":"{ACME}"}},"state":"USER_GRANT_STATE_ACTIVE","userId":"284906014215673861","projectId":"284906487321587717","grantedOrgId":"{ACME}"}}"#
    )
}

/// A fresh directory under the system's temporary directory, removed with all it holds
/// when the guard is dropped, whether the test passed or panicked.
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The bench's `--measure` mode: a freshly started, small process that runs the binary and
/// reports the binary's own peak RSS (see `measure` in examples/bench/measure.rs). Measuring
/// from this test process instead would charge the binary with this process's own peak,
/// which Linux folds into a child's `ru_maxrss` when it starts. `cargo test` builds it.
pub fn bench() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let debug = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps");
    let bench = debug.join("examples").join("bench");
    assert!(bench.is_file(), "{} is missing: run `cargo test`, which builds it", bench.display());
    bench
}

/// Runs the binary against `fake` with only `env` (plus the URL, the ACME token and console
/// logs), and returns the run with the binary's peak RSS in KiB.
pub fn sync_measured(fake: &FakeZitadel, env: &[(&str, &str)]) -> (Run, u64) {
    let mut command = Command::new(bench());
    command
        .arg("--measure")
        .arg(env!("CARGO_BIN_EXE_baton-zitadel"))
        .env_clear()
        .env("BATON_INSTANCE_URL", fake.url())
        .env("BATON_PAT", ACME_PAT)
        .env("BATON_LOG_FORMAT", "console")
        .envs(env.iter().copied());
    let mut run = run(command);
    assert_eq!(run.status, 0, "the bench measured the run: {}", run.stderr);
    let (stderr, report) = run.stderr.trim_end().rsplit_once('\n').unwrap_or(("", &run.stderr));
    let report: Vec<u64> = report
        .strip_prefix("bench: measured: ")
        .expect("the bench's report ends stderr")
        .split(' ')
        .map(|field| field.parse().unwrap_or(u64::MAX))
        .collect();
    let [status, _wall_us, _cpu_us, peak_kib] = report[..] else {
        panic!("the bench's report has four fields: {report:?}");
    };
    run.status = i32::try_from(status).expect("an exit code, not a signal");
    run.stderr = format!("{stderr}\n");
    (run, peak_kib)
}

/// A fresh directory of its own: the name, the test process and a count make it unique.
pub fn temp_dir(name: &str) -> TempDir {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let count = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("baton-zitadel-{}-{count}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

pub fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The C library calls the process tests need: limits and signal dispositions set in the
/// child before it runs the binary, signals, and a lock.
pub mod os {
    use std::ffi::c_int;

    unsafe extern "C" {
        fn setrlimit(resource: c_int, limit: *const [u64; 2]) -> c_int;
        fn signal(signum: c_int, handler: usize) -> usize;
        fn kill(pid: c_int, signum: c_int) -> c_int;
        fn flock(fd: c_int, operation: c_int) -> c_int;
        #[link_name = "alarm"]
        fn c_alarm(seconds: u32) -> u32;
    }

    /// Sends SIGALRM to the process after `seconds`, across `exec`; for `pre_exec`.
    pub fn alarm(seconds: u32) {
        // SAFETY: alarm only sets a timer.
        unsafe { c_alarm(seconds) };
    }

    pub const SIGHUP: c_int = 1;
    pub const SIGINT: c_int = 2;
    pub const SIGQUIT: c_int = 3;
    pub const SIGKILL: c_int = 9;
    pub const SIGUSR1: c_int = 10;
    pub const SIGUSR2: c_int = 12;
    pub const SIGALRM: c_int = 14;
    pub const SIGTERM: c_int = 15;
    pub const SIGXFSZ: c_int = 25;
    /// Every signal the binary removes its temporary file on before it dies of it: each
    /// whose default action ends the process and that a handler may catch, but SIGXFSZ
    /// (ignored), SIGSEGV and SIGBUS (std's), SIGILL, SIGFPE and SIGTRAP (faults), SIGPIPE.
    pub const ENDING_SIGNALS: [c_int; 14] =
        [SIGHUP, SIGINT, SIGQUIT, 6, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, 16, 24, 26, 27, 29, 30];
    pub const RLIMIT_FSIZE: c_int = 1;
    pub const RLIMIT_CORE: c_int = 4;

    /// Sets a resource limit; for `pre_exec`.
    pub fn limit(resource: c_int, value: u64) -> std::io::Result<()> {
        // SAFETY: setrlimit reads the two-word struct rlimit passed by pointer.
        match unsafe { setrlimit(resource, &[value, value]) } {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        }
    }

    /// Gives every signal of `ENDING_SIGNALS` its default action, whatever the test runner
    /// inherited (a shell starts a background job with SIGINT and SIGQUIT ignored); for
    /// `pre_exec`.
    pub fn default_actions() -> std::io::Result<()> {
        for signum in ENDING_SIGNALS {
            // SAFETY: SIG_DFL (0) installs no code.
            unsafe { signal(signum, 0) };
        }
        Ok(())
    }

    /// Ignores a signal; for `pre_exec`, as `nohup` does.
    pub fn ignore(signum: c_int) -> std::io::Result<()> {
        // SAFETY: SIG_IGN (1) installs no code.
        unsafe { signal(signum, 1) };
        Ok(())
    }

    pub fn send(child: &std::process::Child, signum: c_int) {
        // SAFETY: signals a child that has not been waited for, so its pid is still its own.
        let sent = unsafe { kill(child.id() as c_int, signum) };
        assert_eq!(sent, 0, "signal {signum} sent");
    }

    /// Holds an exclusive lock on `file` while it is open.
    pub fn lock(file: &std::fs::File) {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on an open descriptor; LOCK_EX | LOCK_NB.
        assert_eq!(unsafe { flock(file.as_raw_fd(), 2 | 4) }, 0, "locked");
    }
}

/// The binary, set up as `sync` sets it up, to be spawned by a test that acts on the process.
pub fn binary(fake: &FakeZitadel, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().env("BATON_INSTANCE_URL", fake.url()).env("BATON_PAT", ACME_PAT);
    command.env("BATON_LOG_FORMAT", "console").args(args);
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    bounded(&mut command);
    command
}

/// A fake whose every answer takes `latency`: a sync against it is still running when a
/// test has seen its first request arrive.
pub fn slow_demo(latency: Duration) -> FakeZitadel {
    serve(demo(), Options { latency, ..Options::default() })
}
