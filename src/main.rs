//! baton-zitadel: syncs one ZITADEL organization to stdout as baton NDJSON records.
//!
//! This file only wires things together and maps failures to exit statuses; see the README's
//! codemap for where everything else lives.

mod config;
mod mapping;
mod output;
mod paging;
mod record;
mod retry;
mod sync;
mod wire;
mod zitadel;

use std::io;
use std::process::ExitCode;

use config::Command;
use output::Output;
use zitadel::{ApiError, Client, ErrorClass};

/// Exit statuses, documented in `--help` and the README.
const EXIT_FAILURE: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_UNAUTHENTICATED: u8 = 3;
const EXIT_PERMISSION_DENIED: u8 = 4;
const EXIT_ORG_CHANGED: u8 = 5;

fn main() -> ExitCode {
    let command = match config::parse(std::env::args_os().skip(1), |name| std::env::var_os(name)) {
        Ok(command) => command,
        Err(err) => {
            eprintln!("baton-zitadel: {err:#}");
            eprintln!("Try 'baton-zitadel --help' for more information.");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let config = match command {
        Command::Help => {
            print!("{}", config::HELP);
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("baton-zitadel {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::Sync(config) => config,
    };

    let mut client = Client::new(&config);
    let mut out = Output::new(io::stdout().lock());
    let result = sync::run(&config, &mut client, &mut out);
    if result.is_err() {
        // The records already printed still reach stdout, as whole lines and without a
        // summary; a second failure to write changes nothing about the first.
        let _ = out.flush();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("baton-zitadel: {err:#}");
            ExitCode::from(exit_status(&err))
        }
    }
}

fn exit_status(err: &anyhow::Error) -> u8 {
    if err.chain().any(|cause| cause.is::<sync::OrgChanged>()) {
        return EXIT_ORG_CHANGED;
    }
    match err.chain().find_map(|cause| cause.downcast_ref::<ApiError>()) {
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
