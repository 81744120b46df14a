//! Runs the fake ZITADEL on a dataset file, either forever or around one command (`make demo`).

use fake_zitadel::{Dataset, FakeZitadel, Limits, Options};
use std::ffi::OsString;
use std::process::{Command, ExitCode};
use std::time::Duration;

const USAGE: &str = "\
usage: fake_zitadel [--limits unlimited|enforced] [--latency-ms N] [--without-user-resource-owner]
                    DATASET.json [-- COMMAND ARGS...]

Serves DATASET.json as a fake ZITADEL Management API v1 on http://127.0.0.1:PORT.

Without COMMAND it serves until killed. With COMMAND it runs it with BATON_INSTANCE_URL
set to the server's URL and BATON_PAT=demo-pat-acme-viewer, and no other BATON_* variable
(configure it with flags after --), then stops and exits with the command's exit code.

OPTIONS:
  --limits MODE     enforced (default): limit 0 means 100, above 1000 is a 400 (v4.20+);
                    unlimited: limit 0 means every row, no maximum (older v1)
  --latency-ms N    wait N milliseconds before each answer
  --without-user-resource-owner
                    member rows without userResourceOwner, like servers before zitadel#9168
  -h, --help        print this help
";

/// The parsed command line.
struct Args {
    dataset: String,
    options: Options,
    /// The command to run around, if any.
    command: Vec<OsString>,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args_os().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => return fail(&message),
    };
    let dataset = match Dataset::load(&args.dataset) {
        Ok(dataset) => dataset,
        Err(message) => return fail(&message),
    };
    let mut server = match FakeZitadel::start(dataset, args.options) {
        Ok(server) => server,
        Err(e) => return fail(&format!("cannot listen on 127.0.0.1: {e}")),
    };
    let Some((program, program_args)) = args.command.split_first() else {
        eprintln!("fake ZITADEL listening on {}", server.url());
        // The server runs on its own threads; this one only keeps the process alive.
        loop {
            std::thread::park();
        }
    };

    let mut command = Command::new(program);
    // The command runs with this server's settings whatever the environment holds: a
    // user's BATON_PAT_FILE would send a real PAT here, a BATON_OUTPUT would hide the output.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BATON_") {
            command.env_remove(name);
        }
    }
    command.args(program_args).env("BATON_INSTANCE_URL", server.url());
    command.env("BATON_PAT", "demo-pat-acme-viewer");
    let status = command.status();
    server.stop();
    match status {
        Ok(status) => ExitCode::from(exit_code(status)),
        Err(e) => fail(&format!("cannot run {}: {e}", program.to_string_lossy())),
    }
}

/// Parses the arguments after the program name; `Ok(None)` asks for the help text.
fn parse_args(mut argv: impl Iterator<Item = OsString>) -> Result<Option<Args>, String> {
    let mut dataset = None;
    let mut options = Options::default();
    let mut command = Vec::new();
    while let Some(arg) = argv.next() {
        let arg = arg.into_string().map_err(|arg| format!("invalid argument {arg:?}"))?;
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || match inline_value.clone() {
            Some(value) => Ok(value),
            None => argv
                .next()
                .and_then(|v| v.into_string().ok())
                .ok_or_else(|| format!("{flag} needs a value")),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--limits" => {
                options.limits = match value()?.as_str() {
                    "unlimited" => Limits::Unlimited,
                    "enforced" => Limits::default(),
                    other => {
                        return Err(format!(
                            "--limits must be unlimited or enforced, not {other:?}"
                        ));
                    }
                }
            }
            "--without-user-resource-owner" => options.omit_member_user_resource_owner = true,
            "--latency-ms" => {
                let text = value()?;
                let ms = text
                    .parse()
                    .map_err(|_| format!("--latency-ms needs a number, not {text:?}"))?;
                options.latency = Duration::from_millis(ms);
            }
            "--" => {
                command.extend(argv.by_ref());
                if command.is_empty() {
                    return Err("no command after --".into());
                }
            }
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
            _ if dataset.is_none() => dataset = Some(arg),
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    let dataset = dataset.ok_or("missing DATASET.json (see --help)")?;
    Ok(Some(Args { dataset, options, command }))
}

/// The exit code to pass on: the command's own, or 128 + signal like a shell does.
fn exit_code(status: std::process::ExitStatus) -> u8 {
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return u8::try_from(128 + signal).unwrap_or(255);
    }
    status.code().and_then(|code| u8::try_from(code).ok()).unwrap_or(1)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("fake_zitadel: {message}");
    ExitCode::from(2)
}
