//! Everything written to stderr: log lines, as console text or JSON objects, filtered by
//! level, and the self-updating progress line on a terminal.
//!
//! The logger is process-wide, set once at start, because every module may need to say
//! something and stderr is one stream. Messages carry server text (ids, names, error
//! bodies), so console lines escape control characters, and every line passes through
//! `redact` on its way out: no piece of the PAT reaches stderr, whatever a message holds.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::redact;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text.to_ascii_lowercase().as_str() {
            "error" => Some(Level::Error),
            "warn" | "warning" => Some(Level::Warn),
            "info" => Some(Level::Info),
            "debug" => Some(Level::Debug),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Console,
    Json,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text.to_ascii_lowercase().as_str() {
            "console" => Some(Format::Console),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

struct Logger {
    level: Level,
    format: Format,
    /// Whether to draw the progress line: stderr is a terminal and logs are for people.
    progress: bool,
    started: Instant,
    state: Mutex<ProgressState>,
}

#[derive(Default)]
struct ProgressState {
    /// Whether a progress line is on screen, to be cleared before the next log line.
    shown: bool,
    last_drawn: Option<Instant>,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// Sets up logging; the first call wins. Without it, logs are console lines at info level.
/// `progress` says whether stderr is a terminal that may show a progress line; it shows
/// one only for console logs at info level or more, since progress is information.
pub fn init(level: Level, format: Format, progress: bool) {
    let _ = LOGGER.set(Logger {
        level,
        format,
        progress: progress && format == Format::Console && level >= Level::Info,
        started: Instant::now(),
        state: Mutex::new(ProgressState::default()),
    });
}

fn logger() -> &'static Logger {
    LOGGER.get_or_init(|| Logger {
        level: Level::Info,
        format: Format::Console,
        progress: false,
        started: Instant::now(),
        state: Mutex::new(ProgressState::default()),
    })
}

pub fn enabled(level: Level) -> bool {
    level <= logger().level
}

pub fn error(message: &str) {
    log(Level::Error, message, &[]);
}

pub fn warn(message: &str) {
    log(Level::Warn, message, &[]);
}

pub fn info(message: &str) {
    log(Level::Info, message, &[]);
}

/// Writes one log line with extra fields, if `level` is enabled. In console format the
/// fields follow the message as `key=value`; in JSON they are keys of the object.
pub fn log(level: Level, message: &str, fields: &[(&str, Value)]) {
    let logger = logger();
    if level > logger.level {
        return;
    }
    let line = match logger.format {
        Format::Console => console_line(level, message, fields),
        Format::Json => json_line(level, message, fields, SystemTime::now()),
    };
    // The last line of defence: whatever a message was built from, no piece of the PAT
    // leaves the process. Pieces are looked for in the line as written, escapes included.
    let line = redact::redact(&line);
    let mut state = logger.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut stderr = io::stderr().lock();
    if state.shown {
        let _ = stderr.write_all(b"\r\x1b[2K");
        state.shown = false;
    }
    // A log line that cannot be written has nowhere else to go.
    let _ = stderr.write_all(line.as_bytes());
}

/// Redraws the progress line, at most ten times a second, when stderr is a terminal.
///
/// `parts` are shown in order, then the elapsed time. The line never reaches the last
/// column of the terminal: a line that wraps leaves rows behind that `\r\x1b[2K` does not
/// clear. When it would, the parts with the lowest importance (the number beside each) are
/// left out.
pub fn progress(parts: impl FnOnce() -> Vec<(String, u8)>) {
    let logger = logger();
    if !logger.progress {
        return;
    }
    let mut state = logger.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if state.last_drawn.is_some_and(|at| at.elapsed() < Duration::from_millis(100)) {
        return;
    }
    state.last_drawn = Some(Instant::now());
    state.shown = true;
    let mut parts = parts();
    let elapsed = logger.started.elapsed().as_secs_f64();
    parts.push((format!("{elapsed:.1}s"), u8::MAX));
    let line = fit_line(&parts, terminal_width().saturating_sub(1));
    let _ = write!(io::stderr().lock(), "\r\x1b[2K{line}");
}

/// The parts joined by `, `, leaving out the least important ones until the line has at
/// most `width` characters, and cut to `width` if even the most important is longer.
fn fit_line(parts: &[(String, u8)], width: usize) -> String {
    let mut shown: Vec<&(String, u8)> = parts.iter().collect();
    loop {
        let line = shown.iter().map(|(text, _)| text.as_str()).collect::<Vec<_>>().join(", ");
        if line.chars().count() <= width || shown.len() <= 1 {
            return line.chars().take(width).collect();
        }
        let least = shown.iter().enumerate().min_by_key(|(_, (_, importance))| *importance);
        let index = least.map_or(0, |(index, _)| index);
        shown.remove(index);
    }
}

/// Columns of a terminal of unknown width: short enough for any.
const FALLBACK_WIDTH: usize = 40;

/// The width of the terminal on stderr, asked each time since it may be resized; `COLUMNS`
/// when the terminal does not say (as some serial consoles), else a short line.
fn terminal_width() -> usize {
    if let Some(columns) = terminal::columns(2) {
        return columns;
    }
    let columns = std::env::var("COLUMNS").ok().and_then(|text| text.trim().parse().ok());
    columns.filter(|&columns| columns > 0).unwrap_or(FALLBACK_WIDTH)
}

/// The terminal size through `ioctl(TIOCGWINSZ)`, declared here rather than through a crate.
mod terminal {
    use std::ffi::{c_int, c_ulong};

    #[repr(C)]
    #[derive(Default)]
    struct WinSize {
        rows: u16,
        columns: u16,
        x_pixels: u16,
        y_pixels: u16,
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    const TIOCGWINSZ: Option<c_ulong> = if cfg!(any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "arm",
        target_arch = "aarch64",
        target_arch = "riscv64",
        target_arch = "s390x",
        target_arch = "loongarch64"
    )) {
        Some(0x5413)
    } else {
        None
    };
    #[cfg(any(
        target_os = "macos",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd"
    ))]
    const TIOCGWINSZ: Option<c_ulong> = Some(0x4008_7468);
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd"
    )))]
    const TIOCGWINSZ: Option<c_ulong> = None;

    unsafe extern "C" {
        fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
    }

    /// The columns of the terminal open as `fd`; `None` if it is none or does not say.
    pub fn columns(fd: c_int) -> Option<usize> {
        let request = TIOCGWINSZ?;
        let mut size = WinSize::default();
        // SAFETY: TIOCGWINSZ writes one `struct winsize`, which `WinSize` mirrors, and
        // touches nothing else; an fd that is not a terminal makes it fail with ENOTTY.
        let result = unsafe { ioctl(fd, request, &mut size as *mut WinSize) };
        (result == 0 && size.columns > 0).then_some(usize::from(size.columns))
    }
}

/// Removes the progress line, if one is shown.
pub fn clear_progress() {
    let logger = logger();
    let mut state = logger.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if state.shown {
        let _ = io::stderr().lock().write_all(b"\r\x1b[2K");
        state.shown = false;
    }
}

/// The clock, for the summary's times: read here, where the logs read it.
pub fn now() -> SystemTime {
    SystemTime::now()
}

/// Time since logging started.
pub fn elapsed() -> Duration {
    logger().started.elapsed()
}

/// One console line: `baton-zitadel: warning: ...`. Control characters in the message and
/// the fields are escaped, so that server text can neither forge a line nor move the cursor.
fn console_line(level: Level, message: &str, fields: &[(&str, Value)]) -> String {
    let mut line = String::from("baton-zitadel: ");
    match level {
        Level::Error | Level::Info => {}
        Level::Warn => line.push_str("warning: "),
        Level::Debug => line.push_str("debug: "),
    }
    line.push_str(&redact::escape_controls(message));
    // Messages say what people need; the fields, for machines, are shown only when
    // debugging, where they are the point.
    if level < Level::Debug {
        line.push('\n');
        return line;
    }
    for (key, value) in fields {
        match value {
            Value::String(text) => write!(line, " {key}={}", redact::escape_controls(text)),
            other => write!(line, " {key}={other}"),
        }
        .expect("writing to a String cannot fail");
    }
    line.push('\n');
    line
}

/// One JSON object: `{"ts":"2026-11-28T17:36:04.123Z","level":"info","msg":"...",...}`,
/// written by hand so that the timestamp, level and message come first. JSON escapes control
/// characters itself; text is redacted before it is escaped too, since a PAT with `"` or `\`
/// in it would not appear as itself in the escaped line.
fn json_line(level: Level, message: &str, fields: &[(&str, Value)], now: SystemTime) -> String {
    let mut line = format!(
        "{{\"ts\":\"{}\",\"level\":\"{}\",\"msg\":{}",
        crate::timestamp::rfc3339_millis(now),
        level.name(),
        Value::from(redact::redact(message))
    );
    for (key, value) in fields {
        let value = match value {
            Value::String(text) => &Value::from(redact::redact(text)),
            other => other,
        };
        write!(line, ",{}:{value}", Value::from(*key)).expect("writing to a String cannot fail");
    }
    line.push_str("}\n");
    line
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn console_and_json_lines() -> serde_json::Result<()> {
        let fields = [("status", Value::from(200)), ("path", Value::from("/x"))];
        assert_eq!(
            console_line(Level::Debug, "request", &fields),
            "baton-zitadel: debug: request status=200 path=/x\n"
        );
        assert_eq!(
            console_line(Level::Warn, "careful", &fields),
            "baton-zitadel: warning: careful\n"
        );
        let line = json_line(Level::Info, "said \"hi\"", &fields, UNIX_EPOCH);
        assert!(line.starts_with(
            r#"{"ts":"1970-01-01T00:00:00.000Z","level":"info","msg":"said \"hi\"","#
        ));
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let object: Value = serde_json::from_str(&line)?;
        assert_eq!(object["ts"], "1970-01-01T00:00:00.000Z");
        assert_eq!(object["level"], "info");
        assert_eq!(object["msg"], "said \"hi\"");
        assert_eq!(object["status"], 200);
        Ok(())
    }

    #[test]
    fn console_lines_escape_what_could_forge_or_hide_a_line() {
        let fields = [("path", Value::from("/x\r\u{1b}[2J")), ("status", Value::from(500))];
        assert_eq!(
            console_line(Level::Debug, "id 1\nbaton-zitadel: sync complete\u{202e}", &fields),
            "baton-zitadel: debug: id 1\\nbaton-zitadel: sync complete\\u{202e} path=/x\\r\\u{1b}[2J status=500\n"
        );
    }

    #[test]
    fn the_progress_line_fits_the_width() {
        let parts = |users: u64| {
            vec![
                (format!("{users} users"), 4),
                ("1905 external users".to_string(), 1),
                ("1000 projects".to_string(), 3),
                ("10000 entitlements".to_string(), 2),
                ("436228 grants".to_string(), 5),
                ("2207 requests".to_string(), 0),
                ("52.1s".to_string(), u8::MAX),
            ]
        };
        let all = "9 users, 1905 external users, 1000 projects, 10000 entitlements, 436228 grants, 2207 requests, 52.1s";
        assert_eq!(fit_line(&parts(9), 200), all);
        assert_eq!(fit_line(&parts(9), all.len()), all);
        assert_eq!(
            fit_line(&parts(100_000), 79),
            "100000 users, 1000 projects, 10000 entitlements, 436228 grants, 52.1s"
        );
        assert_eq!(fit_line(&parts(100_000), 39), "100000 users, 436228 grants, 52.1s");
        assert_eq!(fit_line(&parts(100_000), 3), "52.");
        for width in 0..120 {
            assert!(fit_line(&parts(100_000), width).chars().count() <= width, "{width}");
        }
    }

    #[test]
    fn levels_parse_and_order() {
        assert_eq!(Level::parse("WARN"), Some(Level::Warn));
        assert_eq!(Level::parse("verbose"), None);
        assert!(Level::Error < Level::Debug);
        assert_eq!(Format::parse("json"), Some(Format::Json));
    }
}
