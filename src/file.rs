//! The `--output` file, replaced atomically: records go to a temporary file beside it, which
//! is synced and renamed over the target only when the sync completed. A failed or
//! interrupted run leaves the previous file untouched and no temporary file behind; the
//! temporary file of a run killed with SIGKILL, which nothing can catch, is removed by the
//! next run for the same target.

use std::ffi::{CString, OsStr, c_char, c_int};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};

use crate::log;
use crate::output::WriteFailed;

/// Where `--output` writes.
pub enum OutputFile {
    /// A regular file (or a new one): replaced atomically.
    Replace(AtomicFile),
    /// A device or pipe, such as `/dev/null` or a FIFO, which cannot be replaced (nor should
    /// be): written to directly.
    Direct(File),
}

impl OutputFile {
    pub fn open(target: &Path) -> Result<OutputFile> {
        let setting = "--output (BATON_OUTPUT)";
        match fs::metadata(target) {
            Ok(meta) if meta.is_dir() => {
                anyhow::bail!("{setting} {} is a directory: name a file", target.display())
            }
            Ok(meta) if !meta.is_file() => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(target)
                    .with_context(|| format!("cannot open {} for {setting}", target.display()))?;
                Ok(OutputFile::Direct(file))
            }
            _ => AtomicFile::create(target).map(OutputFile::Replace),
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

/// A temporary file that becomes `target` on `commit`, and is removed otherwise.
pub struct AtomicFile {
    file: File,
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Creates `.<name>.<pid>.tmp` beside `target`, with the target's permissions if it
    /// exists, else readable by the owner only (an export names every user and their access),
    /// and holds a lock on it for as long as the process lives, so that no other run takes
    /// it for the leftover of a killed one.
    pub fn create(target: &Path) -> Result<AtomicFile> {
        let name = target.file_name().with_context(|| {
            format!("--output (BATON_OUTPUT) {} names no file", target.display())
        })?;
        remove_stale_temps(target, name);
        let temp = target.with_file_name(temp_name(name, std::process::id()));
        let mode = fs::metadata(target).map_or(0o600, |meta| meta.permissions().mode() & 0o777);
        let file =
            OpenOptions::new().write(true).create_new(true).mode(mode).open(&temp).with_context(
                || format!("cannot create {} for --output (BATON_OUTPUT)", temp.display()),
            )?;
        // A file system without locks keeps the file unlocked: other runs then leave it
        // alone as long as this process lives, by its pid.
        try_lock(&file);
        remove_on_signal(&temp);
        let file = AtomicFile { file, temp, target: target.to_path_buf(), committed: false };
        // The umask narrowed the mode given to open; the target's own mode is what it keeps.
        file.file
            .set_permissions(fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the mode of {}", file.temp.display()))?;
        Ok(file)
    }

    /// Makes the written file durable and moves it over the target.
    pub fn commit(mut self) -> Result<()> {
        let target = format!("--output {}", self.target.display());
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

/// The temporary file name of the run with process id `pid` for the target named `name`.
fn temp_name(name: &OsStr, pid: u32) -> std::ffi::OsString {
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".{pid}.tmp"));
    temp
}

/// The process id in `file_name` if it is the temporary file name of a run for the target
/// named `name`.
fn temp_pid(file_name: &OsStr, name: &OsStr) -> Option<u32> {
    let rest = file_name.as_bytes().strip_prefix(b".")?.strip_prefix(name.as_bytes())?;
    let digits = rest.strip_prefix(b".")?.strip_suffix(b".tmp")?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Removes the temporary files of earlier runs for the same target that were killed with
/// SIGKILL, which no handler can catch: those whose process is gone (or carried this run's
/// pid, as a container's first process does every time) and that no process holds locked.
/// The lock protects a live run whose pid this one cannot see, such as one in another
/// container that shares the directory. What cannot be removed is left alone.
fn remove_stale_temps(target: &Path, name: &OsStr) {
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let Some(pid) = temp_pid(&entry.file_name(), name) else { continue };
        // Only regular files: opening a FIFO of that name would block.
        let regular = entry.file_type().is_ok_and(|kind| kind.is_file());
        if !regular || (pid != std::process::id() && process_exists(pid)) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else { continue };
        if !try_lock(&file) {
            continue;
        }
        if fs::remove_file(&path).is_ok() {
            log::info(&format!(
                "removed {}, left by a run for the same --output that was killed",
                path.display()
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
// then dies of the same signal. Not handled: SIGKILL and SIGSTOP (they cannot be caught),
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
const ENDING_SIGNALS: [c_int; 15] = [
    SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGSTKFLT, SIGXCPU,
    SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR,
];
const SIG_DFL: usize = 0;
const SIG_IGN: usize = 1;
const SA_RESTART: c_int = 0x1000_0000;
const ESRCH: i32 = 3;
const LOCK_EX: c_int = 2;
const LOCK_NB: c_int = 4;

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
        assert_eq!(temp_name(name, 42), ".acme.ndjson.42.tmp");
        assert_eq!(temp_pid(OsStr::new(".acme.ndjson.42.tmp"), name), Some(42));
        for other in [
            "acme.ndjson",
            ".acme.ndjson.tmp",
            ".acme.ndjson..tmp",
            ".acme.ndjson.4x2.tmp",
            ".acme.ndjson.-42.tmp",
            ".acme.ndjson.7.42.tmp",
            ".other.ndjson.42.tmp",
            ".acme.ndjson.42.tmp.swp",
            ".acme.ndjson.99999999999999999999.tmp",
        ] {
            assert_eq!(temp_pid(OsStr::new(other), name), None, "{other}");
        }
    }
}
