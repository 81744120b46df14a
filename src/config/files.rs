//! The files a setting names and the parser reads: the PAT file and the CA certificate file.
//! This is the configuration's only I/O.
//!
//! A file is read only if it is a regular file or one of the process's own descriptors
//! (`/dev/stdin`, `/dev/fd/N`, which `<(...)` expands to), and never past a bound: a FIFO
//! that nobody writes would hold the sync forever, and a device or a huge file would fill
//! memory. Messages name the setting, never the path: the path may be the PAT itself, given
//! where a path was expected.

use std::ffi::c_int;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::fd::FromRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Result, anyhow, bail};

use crate::settings::{CA_CERT, PAT_FILE, Setting};

/// Far more than any PAT (ZITADEL's are under 100 bytes), little enough to hold.
const PAT_FILE_BYTES: u64 = 64 * 1024;
/// Far more than any bundle of CA certificates (Mozilla's whole set is about 220 KiB).
const CA_FILE_BYTES: u64 = 1024 * 1024;

/// The PAT file's text, and a warning to log when others may read it.
pub struct PatFile {
    /// The text without the trailing newline that editors and `echo` add.
    pub text: String,
    pub warning: Option<String>,
}

/// The PEM file's certificates, in DER.
pub fn read_ca_certs(path: &Path) -> Result<Vec<Vec<u8>>> {
    let (pem, _) = read_bounded(path, &CA_CERT, CA_FILE_BYTES)?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert.der().to_vec()),
            Ok(_) => {}
            Err(_) => bail!("{CA_CERT} names a file that is not valid PEM"),
        }
    }
    if certs.is_empty() {
        bail!("{CA_CERT} names a file that holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    Ok(certs)
}

/// The PAT file's text, and a warning if the file is readable by its group or by others.
pub fn read_pat_file(path: &Path) -> Result<PatFile> {
    let (bytes, mode) = read_bounded(path, &PAT_FILE, PAT_FILE_BYTES)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow!("the PAT from {PAT_FILE} is not valid UTF-8: check the file"))?;
    // Logged once logging is set up, and through its redaction like every line.
    let warning = mode.filter(|mode| mode & 0o044 != 0).map(|mode| {
        format!(
            "{PAT_FILE} names a file that its group or other users can read (mode {:o}): make it yours alone with chmod 600 {}",
            mode & 0o777,
            path.display()
        )
    });
    Ok(PatFile { text: text.trim_end().to_string(), warning })
}

/// At most `limit` bytes of the file `setting` names, and its mode if it is a regular file
/// named by its path. Anything longer is refused rather than cut.
fn read_bounded(path: &Path, setting: &Setting, limit: u64) -> Result<(Vec<u8>, Option<u32>)> {
    let (file, mode) = match own_descriptor(path) {
        Some(fd) => (dup_descriptor(fd, setting)?, None),
        None => {
            let file = open_regular(path, setting)?;
            let mode = file.metadata().map(|meta| meta.permissions().mode()).ok();
            (file, mode)
        }
    };
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| anyhow!("{setting} names a file that cannot be read: {err}"))?;
    if bytes.len() as u64 > limit {
        bail!("{setting} names a file larger than {} KiB: is it the right file?", limit / 1024);
    }
    Ok((bytes, mode))
}

/// Opens the path, which must be a regular file. The open does not wait (a FIFO would wait
/// for a writer) and what was opened is looked at before anything is read.
fn open_regular(path: &Path, setting: &Setting) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK | O_NOCTTY)
        .open(path)
        .map_err(|err| anyhow!("{setting} names no readable file: {err}"))?;
    let kind = file
        .metadata()
        .map_err(|err| anyhow!("{setting} names a file that cannot be read: {err}"))?
        .file_type();
    let what = if kind.is_file() {
        return Ok(file);
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a device"
    };
    bail!(
        "{setting} names {what}, which may never end or never be written: give a regular file, or /dev/stdin or <(...) for the output of a command"
    )
}

/// The descriptor `path` names if it is one of the process's own: `/dev/stdin`, or what the
/// `--output` file knows (`/dev/fd/N`, `/proc/self/fd/N`, `/dev/stdout`, `/dev/stderr`).
fn own_descriptor(path: &Path) -> Option<c_int> {
    match path.as_os_str().as_bytes() {
        b"/dev/stdin" => Some(0),
        _ => crate::file::own_descriptor(path),
    }
}

/// A handle of its own on the process's descriptor `fd`, which must be open. Reading it may
/// wait, as reading stdin does: the process's own pipe has a writer, the shell's command.
fn dup_descriptor(fd: c_int, setting: &Setting) -> Result<File> {
    // SAFETY: F_DUPFD_CLOEXEC on any number is safe; it fails with EBADF when `fd` is not
    // open, and the new descriptor it returns is owned by nothing else.
    let copy = unsafe { fcntl(fd, F_DUPFD_CLOEXEC, 3) };
    if copy < 0 {
        let err = std::io::Error::last_os_error();
        bail!("{setting} names descriptor {fd}, which is not open: {err}");
    }
    // SAFETY: `copy` is a fresh descriptor that nothing else owns.
    Ok(unsafe { File::from_raw_fd(copy) })
}

unsafe extern "C" {
    fn fcntl(fd: c_int, command: c_int, ...) -> c_int;
}

const F_DUPFD_CLOEXEC: c_int = 1030;
const O_NONBLOCK: c_int = 0o4000;
const O_NOCTTY: c_int = 0o400;
