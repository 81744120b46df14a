//! The `--output` file, replaced atomically: records go to a temporary file beside it, which
//! is synced and renamed over the target only when the sync completed. A failed or
//! interrupted run leaves the previous file untouched and no temporary file behind; the
//! temporary file of a run killed with SIGKILL, which nothing can catch, is removed by the
//! next run for the same target.

use std::ffi::{CString, OsStr, c_char, c_int};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};

use crate::log;
use crate::output::WriteFailed;
use crate::settings::{self, Setting};

/// Where `--output` writes.
pub enum OutputFile {
    /// A regular file (or a new one): replaced atomically.
    Replace(AtomicFile),
    /// A device or pipe that cannot be replaced (nor should be), such as `/dev/null`, a FIFO
    /// of the running user's, or one of the process's own descriptors (`/dev/stdout`,
    /// `/dev/fd/3`): written to directly.
    Direct(File),
}

impl OutputFile {
    /// Opens `target` for the records. The path is looked at without following a link, so
    /// that what another user put there in a shared directory (a link, a FIFO, a file of
    /// theirs) can neither receive the export nor choose its mode: a link or a file is
    /// replaced by a new file of this user's, and a FIFO, socket or device is written to only
    /// when this user or root owns it.
    pub fn open(target: &Path) -> Result<OutputFile> {
        if let Some(fd) = own_descriptor(target) {
            return dup_descriptor(fd, target).map(OutputFile::Direct);
        }
        let shown = target.display();
        match fs::symlink_metadata(target) {
            Ok(meta) if meta.is_dir() => {
                anyhow::bail!("{SETTING} {shown} is a directory: name a file")
            }
            Ok(meta) if meta.is_file() => {
                // A mode is taken over only from a file of this user's: another user's 0666
                // file must not make the export readable by all.
                let mode = (meta.uid() == effective_uid()).then_some(meta.mode() & 0o777);
                AtomicFile::create(target, mode).map(OutputFile::Replace)
            }
            // A link is replaced, never followed, and its target's mode is not taken over.
            Ok(meta) if meta.file_type().is_symlink() => {
                AtomicFile::create(target, None).map(OutputFile::Replace)
            }
            Ok(meta) => open_special(target, &meta).map(OutputFile::Direct),
            Err(_) => AtomicFile::create(target, None).map(OutputFile::Replace),
        }
    }

    /// A handle to write the records through.
    pub fn writer(&self) -> io::Result<File> {
        match self {
            OutputFile::Replace(file) => file.file.try_clone(),
            OutputFile::Direct(file) => file.try_clone(),
        }
    }

    /// Makes what was written final.
    pub fn commit(self) -> Result<()> {
        match self {
            OutputFile::Replace(file) => file.commit(),
            OutputFile::Direct(_) => Ok(()),
        }
    }
}

/// How messages name the setting.
const SETTING: &Setting = &settings::OUTPUT;

/// Whether `target` names the process's own standard output, where a closed pipe is a normal
/// way to end (`| head`), as for records written to stdout without `--output`.
pub fn is_stdout(target: &Path) -> bool {
    own_descriptor(target) == Some(1)
}

/// Whether stdout is a pipe (or a socket, as some shells and runners use), looked at through
/// a copy of the descriptor.
pub fn stdout_is_pipe() -> bool {
    use std::os::fd::AsFd;
    let copy = io::stdout().as_fd().try_clone_to_owned();
    let kind = copy.and_then(|fd| File::from(fd).metadata()).map(|meta| meta.file_type());
    kind.is_ok_and(|kind| kind.is_fifo() || kind.is_socket())
}

/// The descriptor that `target` names if it is one of the process's own: `/dev/stdout`,
/// `/dev/stderr`, `/dev/fd/N` or `/proc/self/fd/N` (what `>(...)` in a shell expands to).
pub fn own_descriptor(target: &Path) -> Option<c_int> {
    let path = target.as_os_str().as_bytes();
    match path {
        b"/dev/stdout" => return Some(1),
        b"/dev/stderr" => return Some(2),
        _ => {}
    }
    let number = path.strip_prefix(b"/dev/fd/").or_else(|| path.strip_prefix(b"/proc/self/fd/"))?;
    if number.is_empty() || number.len() > 9 || !number.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(number).ok()?.parse().ok()
}

/// A handle of its own on the process's descriptor `fd`, which must be open.
fn dup_descriptor(fd: c_int, target: &Path) -> Result<File> {
    // SAFETY: F_DUPFD_CLOEXEC on any number is safe; it fails with EBADF when `fd` is not
    // open, and the new descriptor it returns is owned by nothing else.
    let copy = unsafe { fcntl(fd, F_DUPFD_CLOEXEC, 3) };
    if copy < 0 {
        let err = io::Error::last_os_error();
        anyhow::bail!(
            "{SETTING} {} names descriptor {fd}, which is not open: {err}",
            target.display()
        );
    }
    // SAFETY: `copy` is a fresh descriptor that nothing else owns.
    Ok(unsafe { File::from_raw_fd(copy) })
}

/// Opens a FIFO, socket or device to write into, if this user or root owns it: anything else
/// was put there by another user, who would receive the export.
fn open_special(target: &Path, seen: &fs::Metadata) -> Result<File> {
    let shown = target.display();
    let owner = seen.uid();
    if owner != effective_uid() && owner != 0 {
        anyhow::bail!(
            "{SETTING} {shown} is a {} owned by another user (uid {owner}), who would receive the export: remove it or name another path",
            kind_of(seen)
        );
    }
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(O_NOFOLLOW)
        .open(target)
        .with_context(|| format!("cannot open {shown} for {SETTING}"))?;
    // The path may have been swapped between the look and the open.
    let opened = file.metadata().with_context(|| format!("cannot inspect {shown}"))?;
    if (opened.dev(), opened.ino(), opened.uid()) != (seen.dev(), seen.ino(), owner) {
        anyhow::bail!("{SETTING} {shown} was replaced while it was opened: name another path");
    }
    Ok(file)
}

/// What a special file is, for messages.
fn kind_of(meta: &fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_fifo() {
        "FIFO"
    } else if kind.is_socket() {
        "socket"
    } else {
        "device"
    }
}

/// Ignores SIGXFSZ, whose default action kills the process at the file size limit: a write
/// past the limit then fails with EFBIG instead, which is reported as any failed write.
pub fn ignore_file_size_signal() {
    // SAFETY: SIG_IGN installs no code.
    unsafe { signal(SIGXFSZ, SIG_IGN) };
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid takes nothing and cannot fail.
    unsafe { geteuid() }
}

/// A temporary file that becomes `target` on `commit`, and is removed otherwise.
pub struct AtomicFile {
    file: File,
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Creates `.<name>.<pid>.<random>.tmp` beside `target`, readable by the owner only (an
    /// export names every user and their access; the umask may narrow it further), or with
    /// `mode`, the mode of the user's own file it replaces. The random part makes the name
    /// impossible to claim in advance. A lock is held on the file for as long as the process
    /// lives, so that no other run takes it for the leftover of a killed one.
    pub fn create(target: &Path, mode: Option<u32>) -> Result<AtomicFile> {
        let name = target
            .file_name()
            .with_context(|| format!("{SETTING} {} names no file", target.display()))?;
        remove_stale_temps(target, name);
        let (file, temp) = create_temp(target, name)?;
        // A file system without locks keeps the file unlocked: other runs then leave it
        // alone as long as this process lives, by its pid.
        try_lock(&file);
        remove_on_signal(&temp);
        let file = AtomicFile { file, temp, target: target.to_path_buf(), committed: false };
        // The umask narrowed the mode given to open; the user's own file keeps its mode.
        if let Some(mode) = mode {
            file.file
                .set_permissions(fs::Permissions::from_mode(mode))
                .with_context(|| format!("cannot set the mode of {}", file.temp.display()))?;
        }
        Ok(file)
    }

    /// Makes the written file durable and moves it over the target.
    pub fn commit(mut self) -> Result<()> {
        let target = format!("{} {}", SETTING.flag, self.target.display());
        let failed = |err| WriteFailed::new(target.clone(), err);
        self.file.sync_all().map_err(failed)?;
        fs::rename(&self.temp, &self.target).map_err(failed)?;
        self.committed = true;
        // The rename itself is durable only once the directory is synced.
        let dir = match self.target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        File::open(dir).and_then(|dir| dir.sync_all()).map_err(failed)?;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Creates a new temporary file for `target`, of a name nobody could have claimed before:
/// a name that exists already (a leftover, or a trap) is never opened, another is drawn.
fn create_temp(target: &Path, name: &OsStr) -> Result<(File, PathBuf)> {
    let mut tries = 0;
    loop {
        let temp = target.with_file_name(temp_name(name, std::process::id(), random_u64()));
        let created = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp);
        match created {
            Ok(file) => return Ok((file, temp)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists && tries < 8 => tries += 1,
            // The export is written beside its target and renamed over it, so the message
            // names the directory that must exist and be writable, not the temporary file.
            Err(err) => {
                let dir = match target.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir,
                    _ => Path::new("."),
                };
                if err.kind() == io::ErrorKind::NotFound {
                    anyhow::bail!(
                        "{SETTING} {}: the directory {} does not exist: create it, or name a file in a directory that does",
                        target.display(),
                        dir.display()
                    );
                }
                return Err(err).with_context(|| {
                    format!(
                        "cannot create the export in the directory {} for {SETTING}",
                        dir.display()
                    )
                });
            }
        }
    }
}

/// 64 random bits from the standard library's per-process random keys, which the operating
/// system supplies.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new().build_hasher().finish()
}

/// The temporary file name of the run with process id `pid` for the target named `name`.
fn temp_name(name: &OsStr, pid: u32, random: u64) -> std::ffi::OsString {
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".{pid}.{random:016x}.tmp"));
    temp
}

/// The process id in `file_name` if it is the temporary file name of a run for the target
/// named `name`.
fn temp_pid(file_name: &OsStr, name: &OsStr) -> Option<u32> {
    let rest = file_name.as_bytes().strip_prefix(b".")?.strip_prefix(name.as_bytes())?;
    let rest = rest.strip_prefix(b".")?.strip_suffix(b".tmp")?;
    let (digits, random) = rest.split_at(rest.iter().position(|&byte| byte == b'.')?);
    let random = &random[1..];
    if random.len() != 16 || !random.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Removes the temporary files of earlier runs for the same target that were killed with
/// SIGKILL, which no handler can catch: those whose process is gone (or carried this run's
/// pid, as a container's first process does every time) and that no process holds locked.
/// The lock protects a live run whose pid this one cannot see, such as one in another
/// container that shares the directory. Only regular files of this user's are removed, and
/// a name is opened without following a link and without waiting (a FIFO swapped in after
/// the directory was read would block an ordinary open forever). What cannot be removed is
/// left alone.
fn remove_stale_temps(target: &Path, name: &OsStr) {
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let Some(pid) = temp_pid(&entry.file_name(), name) else { continue };
        if pid != std::process::id() && process_exists(pid) {
            continue;
        }
        let path = entry.path();
        let opened =
            OpenOptions::new().read(true).custom_flags(O_NONBLOCK | O_NOFOLLOW).open(&path);
        let Ok(file) = opened else { continue };
        let ours =
            file.metadata().is_ok_and(|meta| meta.is_file() && meta.uid() == effective_uid());
        if !ours || !try_lock(&file) {
            continue;
        }
        if fs::remove_file(&path).is_ok() {
            log::info(&format!(
                "removed {}, left by a run for the same {} that was killed",
                path.display(),
                SETTING.flag
            ));
        }
    }
}

/// Whether a process with this id exists (in this PID namespace).
fn process_exists(pid: u32) -> bool {
    // Ids above i32::MAX are no process's; 0 and negative ids would address process groups.
    let Ok(pid) = i32::try_from(pid) else { return false };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 sends nothing; it only checks that the process exists.
    let alive = unsafe { kill(pid, 0) } == 0;
    alive || io::Error::last_os_error().raw_os_error() != Some(ESRCH)
}

/// Takes an exclusive lock on `file` without waiting, held while the file is open; false if
/// another process holds one (or the file system has no locks, which keeps every leftover:
/// the safe side).
fn try_lock(file: &File) -> bool {
    // SAFETY: flock on a valid open descriptor.
    unsafe { flock(file.as_raw_fd(), LOCK_EX | LOCK_NB) == 0 }
}

// A signal ends the process without running `Drop`, so every signal whose default action
// ends the process and that can be caught gets a handler that removes the temporary file and
// then dies of the same signal. Not handled: SIGXFSZ (ignored from the start, so that a write
// past the file size limit fails instead), SIGKILL and SIGSTOP (they cannot be caught),
// SIGSEGV and SIGBUS (std's stack overflow detection uses them), SIGILL, SIGFPE and SIGTRAP
// (faults of the program itself), SIGPIPE (std ignores it, so writes report EPIPE) and the
// real-time signals. A signal ignored when the process started (`nohup`, a service manager)
// stays ignored. The handler does only what is safe in a signal handler: it reads a path
// prepared beforehand and calls unlink, signal and raise. The C library is linked into every
// Rust program already.
unsafe extern "C" {
    fn signal(signum: c_int, handler: usize) -> usize;
    fn sigaction(signum: c_int, action: *const SigAction, old: *mut SigAction) -> c_int;
    fn unlink(path: *const c_char) -> c_int;
    fn raise(signum: c_int) -> c_int;
    fn kill(pid: c_int, signum: c_int) -> c_int;
    fn flock(fd: c_int, operation: c_int) -> c_int;
    fn fcntl(fd: c_int, command: c_int, ...) -> c_int;
    fn geteuid() -> u32;
}

/// `struct sigaction` of the C library on Linux (glibc and musl, x86-64 and aarch64).
#[repr(C)]
struct SigAction {
    handler: usize,
    mask: [u64; 16],
    flags: c_int,
    restorer: usize,
}

const SIGHUP: c_int = 1;
const SIGINT: c_int = 2;
const SIGQUIT: c_int = 3;
const SIGABRT: c_int = 6;
const SIGUSR1: c_int = 10;
const SIGUSR2: c_int = 12;
const SIGALRM: c_int = 14;
const SIGTERM: c_int = 15;
const SIGSTKFLT: c_int = 16;
const SIGXCPU: c_int = 24;
const SIGXFSZ: c_int = 25;
const SIGVTALRM: c_int = 26;
const SIGPROF: c_int = 27;
const SIGIO: c_int = 29;
const SIGPWR: c_int = 30;
/// Every signal that gets the handler (see above).
const ENDING_SIGNALS: [c_int; 14] = [
    SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGSTKFLT, SIGXCPU,
    SIGVTALRM, SIGPROF, SIGIO, SIGPWR,
];
const SIG_DFL: usize = 0;
const SIG_IGN: usize = 1;
const SA_RESTART: c_int = 0x1000_0000;
const ESRCH: i32 = 3;
const LOCK_EX: c_int = 2;
const LOCK_NB: c_int = 4;
const F_DUPFD_CLOEXEC: c_int = 1030;
const O_NONBLOCK: c_int = 0o4000;
const O_NOFOLLOW: c_int = 0o400000;

static TEMP_PATH: OnceLock<CString> = OnceLock::new();

fn remove_on_signal(temp: &Path) {
    let Ok(path) = CString::new(temp.as_os_str().as_bytes()) else { return };
    if TEMP_PATH.set(path).is_err() {
        return;
    }
    let handler = remove_temp_and_die as extern "C" fn(c_int) as usize;
    // Every other signal waits while the handler runs, so the first one decides how the
    // process ends.
    let action = SigAction { handler, mask: [u64::MAX; 16], flags: SA_RESTART, restorer: 0 };
    for signum in ENDING_SIGNALS {
        let mut current = SigAction { handler: SIG_DFL, mask: [0; 16], flags: 0, restorer: 0 };
        // SAFETY: a null new action only reads the current one into `current`.
        let read = unsafe { sigaction(signum, std::ptr::null(), &mut current) };
        if read != 0 || current.handler == SIG_IGN {
            continue;
        }
        // SAFETY: installs a handler that only makes async-signal-safe calls.
        unsafe { sigaction(signum, &action, std::ptr::null_mut()) };
    }
}

extern "C" fn remove_temp_and_die(signum: c_int) {
    if let Some(path) = TEMP_PATH.get() {
        // SAFETY: `path` is a valid C string that lives for the rest of the process.
        unsafe { unlink(path.as_ptr()) };
    }
    // SAFETY: restores the default action and re-raises, so the process ends as it would
    // have without the handler (and its parent sees the signal).
    unsafe {
        signal(signum, SIG_DFL);
        raise(signum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_files_are_told_apart_by_target_and_pid() {
        let name = OsStr::new("acme.ndjson");
        let temp = temp_name(name, 42, 0x0123_4567_89ab_cdef);
        assert_eq!(temp, ".acme.ndjson.42.0123456789abcdef.tmp");
        assert_eq!(temp_pid(&temp, name), Some(42));
        for other in [
            "acme.ndjson",
            ".acme.ndjson.tmp",
            ".acme.ndjson..tmp",
            ".acme.ndjson.42.tmp",
            ".acme.ndjson.42..tmp",
            ".acme.ndjson.4x2.0123456789abcdef.tmp",
            ".acme.ndjson.-42.0123456789abcdef.tmp",
            ".acme.ndjson.42.0123456789abcdeg.tmp",
            ".acme.ndjson.42.0123456789abcde.tmp",
            ".other.ndjson.42.0123456789abcdef.tmp",
            ".acme.ndjson.42.0123456789abcdef.tmp.swp",
            ".acme.ndjson.99999999999999999999.0123456789abcdef.tmp",
        ] {
            assert_eq!(temp_pid(OsStr::new(other), name), None, "{other}");
        }
    }

    #[test]
    fn the_process_own_descriptors_are_told_by_name() {
        for (path, fd) in [
            ("/dev/stdout", Some(1)),
            ("/dev/stderr", Some(2)),
            ("/dev/fd/1", Some(1)),
            ("/dev/fd/63", Some(63)),
            ("/proc/self/fd/3", Some(3)),
            ("/dev/fd/", None),
            ("/dev/fd/3x", None),
            ("/dev/fd/-1", None),
            ("/dev/fd/9999999999", None),
            ("/proc/1/fd/1", None),
            ("/tmp/dev/stdout", None),
            ("dev/stdout", None),
        ] {
            assert_eq!(own_descriptor(Path::new(path)), fd, "{path}");
        }
        assert!(is_stdout(Path::new("/dev/stdout")));
        assert!(!is_stdout(Path::new("/dev/stderr")));
    }
}
