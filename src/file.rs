//! The `--output` file, replaced atomically: records go to a temporary file beside it, which
//! is synced and renamed over the target only when the sync completed. A failed or
//! interrupted run leaves the previous file untouched and no temporary file behind.

use std::ffi::{CString, c_char, c_int};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};

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
    /// exists, else readable by the owner only (an export names every user and their access).
    pub fn create(target: &Path) -> Result<AtomicFile> {
        let name = target.file_name().with_context(|| {
            format!("--output (BATON_OUTPUT) {} names no file", target.display())
        })?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.tmp", std::process::id()));
        let temp = target.with_file_name(temp_name);
        let mode = fs::metadata(target).map_or(0o600, |meta| meta.permissions().mode() & 0o777);
        let file =
            OpenOptions::new().write(true).create_new(true).mode(mode).open(&temp).with_context(
                || format!("cannot create {} for --output (BATON_OUTPUT)", temp.display()),
            )?;
        remove_on_signal(&temp);
        Ok(AtomicFile { file, temp, target: target.to_path_buf(), committed: false })
    }

    /// Makes the written file durable and moves it over the target.
    pub fn commit(mut self) -> Result<()> {
        let target = self.target.display().to_string();
        self.file.sync_all().with_context(|| format!("cannot write {target}"))?;
        fs::rename(&self.temp, &self.target).with_context(|| format!("cannot replace {target}"))?;
        self.committed = true;
        // The rename itself is durable only once the directory is synced.
        let dir = match self.target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|dir| dir.sync_all())
            .with_context(|| format!("cannot sync the directory of {target}"))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

// A signal ends the process without running `Drop`, so SIGINT, SIGTERM and SIGHUP get a
// handler that removes the temporary file and then dies of the same signal. The handler
// does only what is safe in a signal handler: it reads a path prepared beforehand and calls
// unlink, signal and raise. The C library is linked into every Rust program already.
unsafe extern "C" {
    fn signal(signum: c_int, handler: usize) -> usize;
    fn unlink(path: *const c_char) -> c_int;
    fn raise(signum: c_int) -> c_int;
}

const SIGHUP: c_int = 1;
const SIGINT: c_int = 2;
const SIGTERM: c_int = 15;
const SIG_DFL: usize = 0;

static TEMP_PATH: OnceLock<CString> = OnceLock::new();

fn remove_on_signal(temp: &Path) {
    let Ok(path) = CString::new(temp.as_os_str().as_bytes()) else { return };
    if TEMP_PATH.set(path).is_err() {
        return;
    }
    let handler = remove_temp_and_die as extern "C" fn(c_int) as usize;
    for signum in [SIGHUP, SIGINT, SIGTERM] {
        // SAFETY: installs a handler that only makes async-signal-safe calls.
        unsafe { signal(signum, handler) };
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
