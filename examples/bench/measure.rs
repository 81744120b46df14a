//! Runs the binary as a grandchild of the bench and reports its exit code, wall time, CPU
//! time and peak RSS (`--measure`), and reads what it prints.

use std::io::{self, Read};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary as a grandchild and reports its usage (see `measure`).
pub const MEASURE_FLAG: &str = "--measure";
/// The start of the last stderr line of `--measure`: exit code (-1 for a signal), wall time
/// in µs, CPU time in µs, peak RSS in KiB.
pub const MEASURE_REPORT: &str = "bench: measured: ";

/// Runs `bin` with the environment it was given, its stdout and stderr passed through, and
/// prints its exit code, wall time, CPU time and peak RSS as the last line on stderr.
///
/// The bench holds the generated organizations, hundreds of MiB, and Linux charges a child
/// the peak RSS of the memory it was spawned from (`exec` folds the old mm's high-water mark
/// into `ru_maxrss`, and std spawns with vfork, whose old mm is the parent's). A freshly
/// started copy of the bench is small, so the binary's peak RSS is its own.
pub fn measure(bin: &str) -> ExitCode {
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
pub struct Usage {
    /// User plus system CPU time.
    pub cpu: Duration,
    pub max_rss_kib: u64,
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
pub fn wait_with_usage(child: Child) -> io::Result<(ExitStatus, Usage)> {
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
pub fn wait_with_usage(mut child: Child) -> io::Result<(ExitStatus, Usage)> {
    let status = child.wait()?;
    Ok((status, Usage { cpu: Duration::ZERO, max_rss_kib: 0 }))
}

/// Reads a stream to its end and returns its last `keep` bytes, as text.
pub fn tail(mut stream: impl Read, keep: usize) -> String {
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
