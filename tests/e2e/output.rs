//! `--output` files: replaced only by a complete sync, left alone by an interrupted one,
//! devices written through, and a failed write named with its own exit status.
//!
//! `shared_directory.rs` holds `--output` in a directory shared with other users.

mod leftovers;
mod shared_directory;

use std::process::{Command, Stdio};
use std::time::Duration;

use fake_zitadel::{Fault, FaultAction};

use crate::harness::*;

#[test]
fn output_files_are_replaced_only_by_a_complete_sync() {
    let dir = temp_dir("output");
    let path = dir.join("acme.ndjson");
    let fake = serve_demo();
    let run = sync(&fake, &["--output", path.to_str().unwrap()], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(masked(&std::fs::read_to_string(&path).unwrap()) == demo_golden());
    assert_eq!(files_in(&dir), ["acme.ndjson"]);
    // A new export names every user and their access: for its owner's eyes only. A replaced
    // one keeps the mode it had, whatever the umask.
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
    let run = sync(&fake, &["--output", path.to_str().unwrap()], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(mode(&path), 0o664);

    // A sync that fails mid-way leaves yesterday's file byte for byte, and nothing beside it.
    std::fs::write(&path, "yesterday's export\n").unwrap();
    fake.inject(
        Fault::new(FaultAction::Status { status: 500, body: "{}".into(), headers: vec![] })
            .on_path("/projects/_search"),
    );
    let run =
        sync(&fake, &[], &[("BATON_OUTPUT", path.to_str().unwrap()), ("BATON_MAX_RETRIES", "0")]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "yesterday's export\n");
    assert_eq!(files_in(&dir), ["acme.ndjson"]);

    let run = sync(
        &fake,
        &["--output", "-"],
        &[("BATON_OUTPUT", path.to_str().unwrap()), ("BATON_MAX_RETRIES", "0")],
    );
    assert_eq!(run.status, 1);
    assert!(run.stdout.contains("\"kind\":\"resource_type\""), "`-` is stdout");

    // A missing directory is named, not the temporary file, in the one form of every
    // configuration error, whatever the log format, and before any request.
    let missing = dir.join("missing/acme.ndjson");
    let requests = fake.request_count();
    for format in ["console", "json"] {
        let env = [("BATON_LOG_FORMAT", format)];
        let run = sync(&fake, &["--output", missing.to_str().unwrap()], &env);
        assert_eq!(run.status, 2, "{}", run.stderr);
        assert_eq!(
            run.stderr,
            format!(
                "baton-zitadel: --output (BATON_OUTPUT) {}: the directory {} does not exist: create it, or name a file in a directory that does\n",
                missing.display(),
                dir.join("missing").display()
            )
        );
    }
    assert_eq!(fake.request_count(), requests, "no request");
    let run = sync(&fake, &["--output", dir.to_str().unwrap()], &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is a directory"));
}

#[test]
fn output_to_a_device_writes_through_it_and_leaves_it_a_device() {
    use std::os::unix::fs::FileTypeExt;
    let fake = serve_demo();
    let run = sync(&fake, &["--output", "/dev/null"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let null = std::fs::metadata("/dev/null").unwrap();
    assert!(null.file_type().is_char_device(), "/dev/null must never be replaced");
}

/// Each of the signals the binary handles, every one of them, removes the temporary file;
/// the test gives each its default action first, so that a signal the test runner was
/// started with ignored (as a shell starts a background job) is handled too.
#[test]
fn an_interrupted_sync_leaves_the_output_file_alone() {
    use std::os::unix::process::ExitStatusExt;
    let dir = temp_dir("interrupted");
    let path = dir.join("acme.ndjson");
    for signum in os::ENDING_SIGNALS {
        std::fs::write(&path, "yesterday's export\n").unwrap();
        let fake = slow_demo(Duration::from_secs(30));
        let mut command = binary(&fake, &["--output", path.to_str().unwrap()]);
        // SAFETY: signal is async-signal-safe.
        unsafe { std::os::unix::process::CommandExt::pre_exec(&mut command, os::default_actions) };
        let mut child = command.spawn().unwrap();
        // The temporary file exists before the first request is sent.
        assert!(fake.wait_for_requests(1, Duration::from_secs(20)), "the sync started");
        assert_eq!(files_in(&dir).len(), 2, "the temporary file is there: {:?}", files_in(&dir));
        os::send(&child, signum);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signum), "it dies of the signal, as without a handler");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "yesterday's export\n");
        assert_eq!(files_in(&dir), ["acme.ndjson"], "signal {signum}: no temporary file left");
    }
}

#[test]
fn a_signal_ignored_at_start_stays_ignored() {
    // `nohup` and service managers start a program with SIGHUP (or SIGINT) ignored.
    let dir = temp_dir("nohup");
    let path = dir.join("acme.ndjson");
    let fake = slow_demo(Duration::from_millis(200));
    let mut command = binary(&fake, &["--output", path.to_str().unwrap()]);
    // SAFETY: signal is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            os::ignore(os::SIGHUP)?;
            os::ignore(os::SIGINT)
        })
    };
    let mut child = command.spawn().unwrap();
    assert!(fake.wait_for_requests(1, Duration::from_secs(20)), "the sync started");
    os::send(&child, os::SIGHUP);
    os::send(&child, os::SIGINT);
    // Requests are logged as they are answered, and the sync needs every answer: it was
    // still running when the signals came.
    let (_, requests) = records_and_requests(&demo_golden());
    assert!((fake.request_count() as u64) < requests, "the signals came mid-sync");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(masked(&std::fs::read_to_string(&path).unwrap()) == demo_golden());
    assert_eq!(files_in(&dir), ["acme.ndjson"]);
}

#[test]
fn the_next_run_removes_what_a_killed_run_left() {
    let dir = temp_dir("killed");
    let path = dir.join("acme.ndjson");
    std::fs::write(&path, "yesterday's export\n").unwrap();
    let fake = slow_demo(Duration::from_secs(30));
    let mut child = binary(&fake, &["--output", path.to_str().unwrap()]).spawn().unwrap();
    assert!(fake.wait_for_requests(1, Duration::from_secs(20)), "the sync started");
    os::send(&child, os::SIGKILL);
    child.wait().unwrap();
    let killed = child.id();
    // `.<target>.<pid>.<16 random hex digits>.tmp`
    let left = files_in(&dir);
    let leftover = left[0].clone();
    let random = leftover.strip_prefix(&format!(".acme.ndjson.{killed}.")).unwrap();
    let random = random.strip_suffix(".tmp").unwrap();
    assert!(random.len() == 16 && random.bytes().all(|byte| byte.is_ascii_hexdigit()), "{left:?}");
    assert_eq!(left, [leftover.as_str(), "acme.ndjson"], "SIGKILL cannot be caught");

    // Beside it: the file of a live run (this test's own pid), a file of another target, and
    // one whose pid is gone but which a live process holds locked (a run in another
    // container, whose pid this one cannot see).
    let live = format!(".acme.ndjson.{}.0123456789abcdef.tmp", std::process::id());
    let other_target = format!(".other.ndjson.{killed}.0123456789abcdef.tmp");
    let mut finished = Command::new("true").spawn().unwrap();
    finished.wait().unwrap();
    let locked = format!(".acme.ndjson.{}.0123456789abcdef.tmp", finished.id());
    for name in [&live, &other_target, &locked] {
        std::fs::write(dir.join(name), "").unwrap();
    }
    let held = std::fs::File::open(dir.join(&locked)).unwrap();
    os::lock(&held);

    let run = sync(&serve_demo(), &["--output", path.to_str().unwrap()], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("removed {}", dir.join(&leftover).display())));
    assert!(masked(&std::fs::read_to_string(&path).unwrap()) == demo_golden());
    let mut expected = vec![live.as_str(), locked.as_str(), other_target.as_str(), "acme.ndjson"];
    expected.sort();
    assert_eq!(files_in(&dir), expected, "only the killed run's file is gone");
    drop(held);
}

#[test]
fn a_failed_write_names_where_and_exits_6() {
    let fake = serve_demo();
    // stdout on a full disk.
    let mut command = binary(&fake, &[]);
    command.stdout(std::fs::File::create("/dev/full").unwrap()).stderr(Stdio::piped());
    let run = crate::harness::run(command);
    assert_failure(&run, 6, &["cannot write the records to stdout: No space left on device"]);

    // --output on a device that is full, and on a file that outgrows the file size limit.
    let run = sync(&fake, &["--output", "/dev/full"], &[]);
    assert_failure(&run, 6, &["cannot write the records to --output /dev/full: No space left"]);
    let dir = temp_dir("too-large");
    let path = dir.join("acme.ndjson");
    std::fs::write(&path, "yesterday's export\n").unwrap();
    let mut command = binary(&fake, &["--output", path.to_str().unwrap()]);
    command.stderr(Stdio::piped());
    // SAFETY: setrlimit and signal are async-signal-safe. With SIGXFSZ ignored, a write
    // past the limit fails with EFBIG instead of killing the process.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            os::ignore(os::SIGXFSZ)?;
            os::limit(os::RLIMIT_FSIZE, 1000)
        })
    };
    let run = crate::harness::run(command);
    let expected =
        format!("cannot write the records to --output {}: File too large", path.display());
    assert_failure(&run, 6, &[&expected]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "yesterday's export\n");
    assert_eq!(files_in(&dir), ["acme.ndjson"]);
}
