//! `--output` in a directory shared with other users, such as /tmp: whatever another user
//! puts at the export's path or at a temporary file's name beforehand (a FIFO, a link, a file
//! of theirs) neither receives the export nor chooses its mode, nor stops the sync; a file
//! size limit or a reader that leaves fails the export loudly, on a whole line.

use std::ffi::{CString, c_int};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::harness::{ACME_PAT, demo, demo_golden, masked, run, serve, serve_demo, sync};
use fake_zitadel::{Dataset, FakeZitadel, GENERATED_PAT, GenerateSpec, Options};

/// The user `nobody`, standing for another user of the machine.
const OTHER_UID: u32 = 65534;

unsafe extern "C" {
    fn mkfifo(path: *const std::ffi::c_char, mode: u32) -> c_int;
    fn geteuid() -> u32;
    fn umask(mask: u32) -> u32;
    fn setrlimit(resource: c_int, limit: *const [u64; 2]) -> c_int;
    fn signal(signum: c_int, handler: usize) -> usize;
}

fn make_fifo(path: &Path) {
    let path = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo reads a valid C string.
    assert_eq!(unsafe { mkfifo(path.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Whether this test runs as root, which alone can make a file another user's.
fn as_root() -> bool {
    // SAFETY: geteuid takes nothing and cannot fail.
    let root = unsafe { geteuid() } == 0;
    if !root {
        eprintln!("skipped: only root can give a file to another user here");
    }
    root
}

/// A fresh directory of its own for one test, removed at its end.
fn shared_dir(name: &str) -> crate::harness::TempDir {
    crate::harness::temp_dir(name)
}

fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
}

/// The binary syncing the demo into `--output path`, set up like `sync` does.
fn output_to(fake: &FakeZitadel, path: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().env("BATON_INSTANCE_URL", fake.url()).env("BATON_PAT", ACME_PAT);
    command.env("BATON_LOG_FORMAT", "console").arg("--output").arg(path);
    crate::harness::bounded(&mut command);
    command
}

#[test]
fn another_users_fifo_at_the_output_path_receives_nothing() {
    if !as_root() {
        return;
    }
    let dir = shared_dir("foreign-fifo");
    let path = dir.join("acme.ndjson");
    make_fifo(&path);
    std::os::unix::fs::chown(&path, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    // The other user's reader, waiting for the export.
    let reader = {
        let path = path.clone();
        std::thread::spawn(move || fs::read(&path).unwrap())
    };
    let fake = serve_demo();
    let run = sync(&fake, &["--output", path.to_str().unwrap()], &[]);
    // Unblock the reader if the binary never opened the FIFO: a writer that goes at once
    // (without waiting for a reader, O_NONBLOCK, should the reader be gone already).
    drop(fs::OpenOptions::new().write(true).custom_flags(0o4000).open(&path));
    let received = reader.join().unwrap();
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is a FIFO owned by another user (uid 65534)"),
        "the refusal says why: {}",
        run.stderr
    );
    assert!(received.is_empty(), "the other user received {} bytes", received.len());
    assert!(fake.requests().is_empty(), "nothing is read from ZITADEL for nobody");
}

#[test]
fn another_users_file_or_link_cannot_choose_the_exports_mode() {
    if !as_root() {
        return;
    }
    let fake = serve_demo();
    let dir = shared_dir("foreign-file");
    // A file of another user's, readable and writable by all.
    let path = dir.join("acme.ndjson");
    fs::write(&path, "planted\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    std::os::unix::fs::chown(&path, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    // A link to another file of theirs, also 0666, which must not be written through.
    let planted = dir.join("planted.ndjson");
    fs::write(&planted, "planted\n").unwrap();
    fs::set_permissions(&planted, fs::Permissions::from_mode(0o666)).unwrap();
    std::os::unix::fs::chown(&planted, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    let link = dir.join("linked.ndjson");
    std::os::unix::fs::symlink(&planted, &link).unwrap();

    for target in [&path, &link] {
        let run = sync(&fake, &["--output", target.to_str().unwrap()], &[]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        let meta = fs::symlink_metadata(target).unwrap();
        assert!(meta.is_file(), "{} is the export, a regular file", target.display());
        assert_eq!(meta.uid(), 0, "the export is the running user's");
        assert_eq!(mode_of(target), 0o600, "{} is readable by its owner only", target.display());
        assert_eq!(masked(&fs::read_to_string(target).unwrap()), demo_golden());
    }
    assert_eq!(fs::read_to_string(&planted).unwrap(), "planted\n", "the link was not followed");
}

#[test]
fn a_new_export_is_never_wider_than_the_umask_allows() {
    let fake = serve_demo();
    let dir = shared_dir("umask");
    let path = dir.join("acme.ndjson");
    let mut command = output_to(&fake, &path);
    // SAFETY: umask is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            umask(0o277);
            Ok(())
        })
    };
    let run = run(command);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(mode_of(&path), 0o400, "0600 narrowed by the umask 0277");

    // The user's own file keeps the mode the user gave it.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let run = sync(&fake, &["--output", path.to_str().unwrap()], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(mode_of(&path), 0o640);
}

#[test]
fn the_process_own_stdout_is_written_and_never_replaced() {
    let fake = serve_demo();
    let dir = shared_dir("own-stdout");
    // /dev/stdout last: code that replaced what the path names would replace the link.
    for name in ["/dev/fd/1", "/proc/self/fd/1", "/dev/stdout"] {
        // stdout redirected to a regular file, as `> export.ndjson` does.
        let file = dir.join("redirected.ndjson");
        let mut command = output_to(&fake, Path::new(name));
        command.stdout(fs::File::create(&file).unwrap()).stderr(Stdio::piped());
        let run = run(command);
        assert_eq!(run.status, 0, "{name}: {}", run.stderr);
        assert_eq!(masked(&fs::read_to_string(&file).unwrap()), demo_golden(), "{name}");
    }
    let stdout = fs::symlink_metadata("/dev/stdout").unwrap();
    assert!(stdout.file_type().is_symlink(), "/dev/stdout is still a link");
    assert!(
        !fs::read_dir("/dev")
            .unwrap()
            .any(|entry| { entry.unwrap().file_name().to_string_lossy().starts_with(".stdout.") }),
        "no temporary file was made in /dev"
    );
    // A descriptor the process does not have is a configuration error.
    let run = sync(&fake, &["--output", "/dev/fd/9"], &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("names descriptor 9, which is not open"), "{}", run.stderr);
}

#[test]
fn leftover_temporary_names_cannot_block_or_be_claimed() {
    let fake = serve_demo();
    let dir = shared_dir("leftovers");
    let path = dir.join("acme.ndjson");
    // Names of a killed run's temporary files, claimed as FIFOs (which would block an
    // ordinary open forever) and as another user's file, which only its owner may remove.
    let fifo = dir.join(".acme.ndjson.999999999.0123456789abcdef.tmp");
    make_fifo(&fifo);
    let foreign = dir.join(".acme.ndjson.999999998.0123456789abcdef.tmp");
    fs::write(&foreign, "theirs").unwrap();
    let foreign_owned = as_root();
    if foreign_owned {
        std::os::unix::fs::chown(&foreign, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    }
    // A leftover of this user's own killed run is still removed.
    let own = dir.join(".acme.ndjson.999999997.fedcba9876543210.tmp");
    fs::write(&own, "partial").unwrap();

    let run = sync(&fake, &["--output", path.to_str().unwrap()], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(masked(&fs::read_to_string(&path).unwrap()), demo_golden());
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "FIFO left alone");
    assert!(!own.exists(), "the user's own leftover is removed");
    assert_eq!(foreign.exists(), foreign_owned, "another user's file is left alone");

    // The temporary file's name has a random part, so no name can be claimed in advance:
    // two runs use two names.
    let names: Vec<String> = (0..2)
        .map(|_| {
            let fake = serve(demo(), Options { latency: ms(50), ..Options::default() });
            let mut command = output_to(&fake, &path);
            let mut child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
            assert!(fake.wait_for_requests(1, std::time::Duration::from_secs(20)));
            let temp = temp_names(&dir);
            child.wait().unwrap();
            assert_eq!(temp.len(), 1, "one temporary file: {temp:?}");
            temp.into_iter().next().unwrap()
        })
        .collect();
    assert_ne!(names[0], names[1]);
    for name in &names {
        let random = name.strip_suffix(".tmp").unwrap().rsplit('.').next().unwrap();
        assert_eq!(random.len(), 16, "{name}");
    }
}

fn ms(millis: u64) -> std::time::Duration {
    std::time::Duration::from_millis(millis)
}

/// The temporary files of runs for `acme.ndjson` in `dir`, but the planted ones.
fn temp_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".acme.ndjson.") && !name.contains(".99999999"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_reader_leaving_an_output_fifo_fails_the_export() {
    // An organization whose export is larger than a pipe holds, so the writer must wait for
    // the reader, who leaves without reading.
    let (dataset, _) = Dataset::generate(GenerateSpec::LARGE.divided(100));
    let fake = serve(dataset, Options::default());
    let dir = shared_dir("fifo-reader-left");
    let path = dir.join("export.fifo");
    make_fifo(&path);
    let reader = {
        let path = path.clone();
        std::thread::spawn(move || drop(fs::File::open(path).unwrap()))
    };
    let mut command = output_to(&fake, &path);
    command.env("BATON_PAT", GENERATED_PAT);
    let run = run(command);
    reader.join().unwrap();
    assert_eq!(run.status, 6, "a broken pipe on --output is a failed write: {}", run.stderr);
    let expected = format!("cannot write the records to --output {}", path.display());
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert!(run.stderr.contains("Broken pipe"), "{}", run.stderr);
}

#[test]
fn a_file_size_limit_ends_the_export_on_a_whole_line_with_status_6() {
    let fake = serve_demo();
    let dir = shared_dir("file-size-limit");
    let file = dir.join("redirected.ndjson");
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().env("BATON_INSTANCE_URL", fake.url()).env("BATON_PAT", ACME_PAT);
    command.env("BATON_LOG_FORMAT", "console");
    command.stdout(fs::File::create(&file).unwrap()).stderr(Stdio::piped());
    // The limit falls inside a record. SIGXFSZ keeps its default action, which kills the
    // process, whatever the test runner's own disposition was.
    // SAFETY: setrlimit and signal are async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            signal(25, 0);
            match setrlimit(1, &[1000, 1000]) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        })
    };
    let run = run(command);
    assert_eq!(run.status, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot write the records to stdout: File too large"),
        "{}",
        run.stderr
    );
    let written = fs::read_to_string(&file).unwrap();
    assert!(!written.is_empty() && written.len() <= 1000, "{} bytes", written.len());
    assert!(written.ends_with('\n'), "the file ends on a whole line: {written:?}");
    assert!(demo_golden().starts_with(&written), "whole records of the export");
}
