//! baton-zitadel: syncs one ZITADEL organization to stdout as baton NDJSON records.
//!
//! This file only wires things together and maps failures to exit statuses; see the codemap
//! in `docs/ARCHITECTURE.md` for where everything else lives.

mod budget;
mod check;
mod config;
mod file;
#[cfg(test)]
mod fuzz;
mod generate;
mod id;
mod keyed;
mod log;
mod mapping;
mod output;
mod paging;
mod record;
mod record_json;
mod redact;
mod retry;
mod settings;
mod sync;
mod timestamp;
mod wire;
mod words;
mod zitadel;

use std::io::{self, IsTerminal};
use std::os::fd::{AsFd, AsRawFd};
use std::process::ExitCode;

use config::{Command, Config};
use file::OutputFile;
use output::Output;
use zitadel::{ApiError, Client, ErrorClass, Settings};

/// Exit statuses, documented in `--help` and the README.
const EXIT_FAILURE: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_UNAUTHENTICATED: u8 = 3;
const EXIT_PERMISSION_DENIED: u8 = 4;
const EXIT_ORG_CHANGED: u8 = 5;
const EXIT_OUTPUT_FAILED: u8 = 6;

fn main() -> ExitCode {
    // Before the PAT is read: a core dump of this process would hold it.
    forbid_core_dumps();
    // A file size limit (`ulimit -f`) then fails a write with EFBIG, which is reported and
    // leaves whole lines, instead of killing the process in the middle of a record.
    file::ignore_file_size_signal();
    let args = std::env::args_os().skip(1);
    let variables = std::env::vars_os().map(|(name, _)| name);
    let command = match config::parse(args, |name| std::env::var_os(name), variables) {
        Ok(command) => command,
        Err(err) => return bad_configuration(&err),
    };
    let (config, check) = match command {
        Command::Help => {
            print!("{}", config::help_text());
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            print!("{}", version());
            return ExitCode::SUCCESS;
        }
        Command::Generate(kind) => {
            let help = config::help_text();
            print!("{}", generate::text(kind, &help, env!("CARGO_PKG_VERSION")));
            return ExitCode::SUCCESS;
        }
        Command::Sync(config) => (config, false),
        Command::Check(config) => (config, true),
    };
    // From here on, no piece of the PAT reaches stderr, whatever a server sends.
    redact::hide(config.pat.expose());
    // As baton does: logs for people on a terminal, JSON for machines otherwise.
    let terminal = io::stderr().is_terminal();
    let format = config.log_format.unwrap_or(if terminal {
        log::Format::Console
    } else {
        log::Format::Json
    });

    // A pipe usually feeds a program that writes to the same terminal, whose output the
    // progress line would break.
    let progress = config.progress.unwrap_or_else(|| terminal && !file::stdout_is_pipe());
    log::init(config.log_level, format, progress);
    for warning in &config.warnings {
        log::warn(warning);
    }
    // The export is opened before any request: a directory that does not exist is the
    // configuration's fault, reported as a bad flag is.
    let output = match (check, &config.output) {
        (false, Some(path)) => match OutputFile::open(path) {
            Ok(file) => Some((path.as_path(), file)),
            Err(err) => return bad_configuration(&err),
        },
        _ => None,
    };

    budget::set_limit(config.memory_limit_mib);
    let settings = client_settings(&config);
    let mut client = Client::new(&if check { check::bounded(settings) } else { settings });
    let result = match output {
        _ if check => check::run(&config, &mut client),
        None => sync_to_stdout(&config, &mut client),
        Some((path, file)) => sync_to_file(&config, &mut client, path, file),
    };
    log::clear_progress();
    // Only a reader of stdout that has seen enough (`| head`) ends the sync well: a FIFO
    // named by --output whose reader left is a failed export.
    let to_stdout = config.output.as_deref().is_none_or(file::is_stdout);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if to_stdout && is_broken_pipe(&err) => ExitCode::SUCCESS,
        // Each probe of `--check` has printed its own failure; the error says only that the
        // check failed, so that no message is printed twice.
        Err(err) if check => {
            log::error(&err.to_string());
            ExitCode::from(exit_status(&err))
        }
        Err(err) => {
            log::error(&format!("{err:#}"));
            ExitCode::from(exit_status(&err))
        }
    }
}

/// Reports an error found before the sync starts (a setting, the export's directory) in the
/// one form such errors have whatever the log format, since that format may be the very
/// setting that is wrong: one console line, escaped and redacted as every log line is.
fn bad_configuration(err: &anyhow::Error) -> ExitCode {
    let message = format!("{err:#}");
    let line = format!("baton-zitadel: {}\n", redact::escape_controls(&message));
    eprint!("{}", redact::redact(&line));
    ExitCode::from(EXIT_USAGE)
}

/// What the HTTP client is told of the configuration.
fn client_settings(config: &Config) -> Settings<'_> {
    Settings {
        url: &config.instance_url,
        pat: config.pat.expose(),
        org_id: config.org_id.as_deref(),
        timeout: config.timeout,
        retry: config.retry,
        max_rps: config.max_rps,
        ca_certs: config.ca_certs.as_deref(),
        proxy: &config.proxy,
    }
}

/// What `--version` prints: what an audit of an installed binary asks, recorded by `build.rs`.
fn version() -> String {
    let commit = match env!("BATON_BUILD_COMMIT") {
        "" => String::new(),
        commit => format!("commit: {commit}\n"),
    };
    format!(
        "baton-zitadel {}\n{commit}target: {}\nroot certificates: {} (Mozilla's, built in)\n",
        env!("CARGO_PKG_VERSION"),
        env!("BATON_BUILD_TARGET"),
        env!("BATON_BUILD_ROOTS"),
    )
}

/// Syncs to `out`. Whatever happens, the records printed reach it as whole lines; a failed
/// sync writes no summary.
fn sync_to(
    config: &Config,
    client: &mut Client,
    mut out: Output<impl io::Write>,
) -> anyhow::Result<()> {
    let result = sync::run(config, client, &mut out);
    if result.is_err() {
        // A second failure, to write, changes nothing about the first.
        let _ = out.flush();
    }
    result
}

/// Syncs to stdout, written through a descriptor of its own: `Output` buffers whole lines
/// already, and a failed write that left part of a line in a file can be taken back.
fn sync_to_stdout(config: &Config, client: &mut Client) -> anyhow::Result<()> {
    let stdout = io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|err| output::WriteFailed::new("stdout".to_string(), err))?;
    let fd = stdout.as_raw_fd();
    sync_to(config, client, Output::new(std::fs::File::from(stdout)).whole_lines_on(fd))
}

/// Syncs into a temporary file that replaces `path` only when the sync completed (or into
/// `path` itself when it is a device or pipe).
fn sync_to_file(
    config: &Config,
    client: &mut Client,
    path: &std::path::Path,
    file: OutputFile,
) -> anyhow::Result<()> {
    let name = match file::is_stdout(path) {
        true => "stdout".to_string(),
        false => format!("{} {}", settings::OUTPUT.flag, path.display()),
    };
    let writer = file.writer()?;
    let fd = writer.as_raw_fd();
    let out = Output::new(writer).named(name).whole_lines_on(fd);
    sync_to(config, client, out)?;
    file.commit()
}

fn exit_status(err: &anyhow::Error) -> u8 {
    if err.chain().any(|cause| cause.is::<sync::OrgChanged>()) {
        return EXIT_ORG_CHANGED;
    }
    if output::is_write_failure(err) {
        return EXIT_OUTPUT_FAILED;
    }
    if err.chain().any(|cause| cause.is::<sync::UnknownProject>()) {
        return EXIT_USAGE;
    }
    match ApiError::in_chain(err) {
        Some(api) => match api.class {
            ErrorClass::Unauthenticated => EXIT_UNAUTHENTICATED,
            ErrorClass::PermissionDenied => EXIT_PERMISSION_DENIED,
            ErrorClass::Other => EXIT_FAILURE,
        },
        None => EXIT_FAILURE,
    }
}

/// Whether the error is a write to a closed stdout (`| head`), which is a normal way to end.
/// The `io::Error` may sit inside a `serde_json::Error`.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let kind = match cause.downcast_ref::<io::Error>() {
            Some(io_error) => Some(io_error.kind()),
            None => {
                cause.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind)
            }
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}

/// Makes the process non-dumpable: no core file, which would hold the PAT, and no reading of
/// its memory or environment (`BATON_PAT`) through `/proc` or ptrace by other processes of
/// the same user.
fn forbid_core_dumps() {
    unsafe extern "C" {
        fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
    }
    const PR_SET_DUMPABLE: std::ffi::c_int = 4;
    // SAFETY: PR_SET_DUMPABLE reads one integer argument and no memory. It cannot fail with
    // the value 0, and nothing could be done about it if it did.
    unsafe { prctl(PR_SET_DUMPABLE, 0 as std::ffi::c_ulong) };
}
