//! The files settings name, the PAT file and the CA file: read only from a regular file or
//! one of the process's own descriptors (`/dev/stdin`, `<(...)`), never past a bound, never
//! waiting on a FIFO nobody writes; a PAT file others can read is warned about.

use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::harness::*;

unsafe extern "C" {
    fn mkfifo(path: *const std::ffi::c_char, mode: u32) -> std::ffi::c_int;
}

fn make_fifo(path: &Path) {
    let path = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo reads a valid C string.
    assert_eq!(unsafe { mkfifo(path.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// A FIFO nobody writes, a device, a directory and a file past the bound are each refused
/// at once with status 2, naming the setting: none of them is read, and none holds the run.
#[test]
fn the_pat_and_ca_files_are_refused_unless_regular_and_small() {
    let fake = serve_demo();
    let dir = temp_dir("setting-files");
    let fifo = dir.join("pat.fifo");
    make_fifo(&fifo);
    let huge_pat = dir.join("huge-pat");
    std::fs::write(&huge_pat, "p".repeat(64 * 1024 + 1)).unwrap();
    let huge_ca = dir.join("huge.pem");
    std::fs::write(&huge_ca, "c".repeat(1024 * 1024 + 1)).unwrap();
    let (fifo, dir_path) = (fifo.to_str().unwrap(), dir.to_str().unwrap());
    for (flag, path, needle) in [
        ("--pat-file", fifo, "--pat-file (BATON_PAT_FILE) names a FIFO"),
        ("--pat-file", "/dev/zero", "--pat-file (BATON_PAT_FILE) names a device"),
        ("--pat-file", dir_path, "--pat-file (BATON_PAT_FILE) names a directory"),
        ("--pat-file", huge_pat.to_str().unwrap(), "names a file larger than 64 KiB"),
        ("--ca-cert", fifo, "--ca-cert (BATON_CA_CERT) names a FIFO"),
        ("--ca-cert", "/dev/urandom", "--ca-cert (BATON_CA_CERT) names a device"),
        ("--ca-cert", huge_ca.to_str().unwrap(), "names a file larger than 1024 KiB"),
    ] {
        let run = sync(&fake, &[flag, path], &[]);
        assert_failure(&run, 2, &[needle]);
        assert!(!run.stderr.contains(path), "the path is not quoted: {}", run.stderr);
    }
    assert_eq!(fake.request_count(), 0);
}

/// The process's own descriptors are read: the PAT piped to `/dev/stdin`, and the output of
/// a command through `<(...)` (a pipe on `/dev/fd/63`).
#[test]
fn the_pat_file_may_be_stdin_or_a_process_substitution() {
    let fake = serve_demo();
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().env("BATON_INSTANCE_URL", fake.url()).args(["--pat-file", "/dev/stdin"]);
    bounded(&mut command).stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::piped());
    let mut child = command.spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{ACME_PAT}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(exit_code(output.status), 0, "{}", String::from_utf8_lossy(&output.stderr));
    assert!(masked(&String::from_utf8(output.stdout).unwrap()) == demo_golden());

    let line = format!(
        "exec {} --pat-file <(printf %s\\\\n {ACME_PAT})",
        env!("CARGO_BIN_EXE_baton-zitadel")
    );
    let mut command = Command::new("bash");
    command.args(["-c", &line]).env_clear().env("BATON_INSTANCE_URL", fake.url());
    command.env("PATH", "/usr/bin:/bin");
    let run = run(command);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout == demo_golden());
}

/// A PAT file its group or other users can read is used, with one warning that names the
/// setting and the fix; a file of the owner's alone gets none.
#[test]
fn a_pat_file_others_can_read_is_warned_about_once() {
    let fake = serve_demo();
    let file = temp_file("pat", &format!("{ACME_PAT}\n"));
    let path = file.to_str().unwrap();
    let set_mode = |mode| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    for (mode, warned) in [(0o644, true), (0o640, true), (0o604, true), (0o600, false)] {
        set_mode(mode).unwrap();
        for args in [&["--pat-file", path][..], &["--pat-file", path, "--check"]] {
            let run = sync(&fake, args, &[]);
            assert_eq!(run.status, 0, "{}", run.stderr);
            let warnings: Vec<&str> =
                run.stderr.lines().filter(|line| line.contains("chmod 600")).collect();
            assert_eq!(warnings.len(), usize::from(warned), "{mode:o}: {}", run.stderr);
            if warned {
                assert!(warnings[0].starts_with("baton-zitadel: warning: --pat-file (BATON_PAT_FILE) names a file that its group or other users can read"), "{}", warnings[0]);
                assert!(warnings[0].ends_with(&format!("chmod 600 {path}")), "{}", warnings[0]);
            }
        }
    }
}
