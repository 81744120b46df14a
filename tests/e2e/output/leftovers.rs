//! What the next run removes of a killed run's temporary files where a pid misleads: the
//! run's own pid (a container's first process has pid 1 on every run), and the pid of a live
//! process of another user, which this run may not signal.

use std::fs;
use std::os::unix::fs::chown;
use std::process::Command;

use crate::harness::*;

/// The user the binary runs as where it must not be root.
const NOBODY: u32 = 65534;

/// Whether `tool` runs here and this test runs as root; says why the test is skipped if not.
fn can_use(tool: &str, why: &str) -> bool {
    unsafe extern "C" {
        fn geteuid() -> u32;
    }
    // SAFETY: geteuid takes nothing and cannot fail.
    let root = unsafe { geteuid() } == 0;
    let usable = root && Command::new(tool).arg("--version").output().is_ok();
    if !usable {
        eprintln!("skipped: {why} needs root and {tool}");
    }
    usable
}

/// The binary syncing the demo into `target`, behind `wrapper` (a command and its options).
fn wrapped(fake: &fake_zitadel::FakeZitadel, wrapper: &[&str], target: &std::path::Path) -> Run {
    let mut command = Command::new(wrapper[0]);
    command.args(&wrapper[1..]).arg(env!("CARGO_BIN_EXE_baton-zitadel")).arg("--output");
    command.arg(target).env_clear().env("BATON_INSTANCE_URL", fake.url());
    command.env("BATON_PAT", ACME_PAT).env("BATON_LOG_FORMAT", "console");
    run(command)
}

/// A leftover that carries the run's own pid was left by an earlier run, killed: the binary
/// runs as pid 1 of a PID namespace of its own, as in a container, where pid 1 is alive.
#[test]
fn a_leftover_with_the_run_own_pid_is_removed() {
    if !can_use("unshare", "running the binary as pid 1") {
        return;
    }
    let fake = serve_demo();
    let dir = temp_dir("pid-1");
    let path = dir.join("acme.ndjson");
    let leftover = dir.join(".acme.ndjson.1.0123456789abcdef.tmp");
    fs::write(&leftover, "partial").unwrap();
    // `--kill-child`: the harness's time limit ends unshare, and with it the binary.
    let run = wrapped(&fake, &["unshare", "--pid", "--fork", "--kill-child"], &path);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("removed {}", leftover.display())), "{}", run.stderr);
    assert!(masked(&fs::read_to_string(&path).unwrap()) == demo_golden());
    assert_eq!(files_in(&dir), ["acme.ndjson"]);
}

/// A leftover whose pid is a live process of another user is kept, even when the file is
/// the running user's: `kill(pid, 0)` fails with EPERM there, which means alive, not gone.
/// The binary runs as nobody, beside a file of nobody's that carries this test's pid
/// (root's).
#[test]
fn a_leftover_of_a_live_process_this_user_may_not_signal_is_kept() {
    if !can_use("setpriv", "running the binary as another user") {
        return;
    }
    let fake = serve_demo();
    let dir = temp_dir("eperm");
    chown(&*dir, Some(NOBODY), Some(NOBODY)).unwrap();
    let path = dir.join("acme.ndjson");
    let name = format!(".acme.ndjson.{}.0123456789abcdef.tmp", std::process::id());
    let leftover = dir.join(&name);
    fs::write(&leftover, "a live run's").unwrap();
    chown(&leftover, Some(NOBODY), Some(NOBODY)).unwrap();
    let nobody = format!("{NOBODY}");
    let setpriv =
        ["setpriv", "--reuid", &nobody, "--regid", &nobody, "--clear-groups", "--inh-caps=-all"];
    let run = wrapped(&fake, &setpriv, &path);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("removed"), "{}", run.stderr);
    assert_eq!(fs::read_to_string(&leftover).unwrap(), "a live run's");
    assert!(masked(&fs::read_to_string(&path).unwrap()) == demo_golden());
    assert_eq!(
        fs::metadata(&path).map(|meta| std::os::unix::fs::MetadataExt::uid(&meta)).unwrap(),
        NOBODY
    );
    let mut expected = vec![name.as_str(), "acme.ndjson"];
    expected.sort();
    assert_eq!(files_in(&dir), expected);
}
