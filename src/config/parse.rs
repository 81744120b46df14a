//! Reads the command line and the environment into a `Command`: one flat lexopt loop gathers
//! the flags the table of settings knows, then each setting is resolved (flag, then
//! variable, then default) and checked.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use lexopt::prelude::*;

use super::{
    AuthMethods, Command, Config, DEFAULT_MAX_RETRIES, DEFAULT_PAGE_SIZE, DEFAULT_RETRY_MAX_WAIT,
    DEFAULT_TIMEOUT, Filters, MAX_PAGE_SIZE, Secret, files, help,
};
use crate::budget;
use crate::generate::Kind;
use crate::log::{Format, Level};
use crate::redact::Redactor;
use crate::retry::RetryPolicy;
use crate::settings::{self, Setting};
use crate::settings::{
    ALLOW_INSECURE_HTTP, AUTH_METHODS, CA_CERT, CHECK, GENERATE, INCLUDE_INACTIVE_GRANTS,
    INSTANCE_URL, LOG_FORMAT, LOG_LEVEL, MAX_RETRIES, MAX_RPS, MEMORY_LIMIT, NO_PROGRESS, ORG_ID,
    OUTPUT, PAGE_SIZE, PAT, PAT_FILE, PROGRESS, PROJECT_IDS, RESOURCE_TYPES, RETRY_MAX_WAIT,
    SKIP_GRANTS, SKIP_MANAGERS, TIMEOUT,
};
use crate::zitadel::{BadProxyVariable, InstanceUrl, ProxyEnv};

/// Parses `args` (without the program name) and the environment, as looked up by `env`;
/// `names` are the names of the variables set, of which every `BATON_*` one this program
/// does not know is warned about.
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env: impl Fn(&str) -> Option<OsString>,
    names: impl IntoIterator<Item = OsString>,
) -> Result<Command> {
    let mut given = Vec::new();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(argument_error)? {
        let setting = match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Long(name) => settings::named(name),
            _ => None,
        };
        let Some(setting) = setting else {
            return Err(argument_error(arg.unexpected()));
        };
        let value = match setting.value_name {
            Some(_) => parser.value()?,
            None => OsString::new(),
        };
        // Like --help, it asks about the program, so no other setting needs to be valid.
        if *setting == GENERATE {
            return generate(value).map(Command::Generate);
        }
        given.push((setting, value));
    }
    let sources = Sources { given, env: &env };
    let instance_url = instance_url(&sources);
    let (pat, warning) = match pat(&sources) {
        Ok(pat) => pat,
        // A missing instance URL is said before a missing PAT.
        Err(err) => return Err(instance_url.err().unwrap_or(err)),
    };
    // Once the PAT is known, no message shows a piece of it: a value given in the wrong
    // place (the PAT pasted after --page-size) is quoted by the message that refuses it.
    let redactor = Redactor::new(pat.expose());
    let hide_pat = |err: anyhow::Error| anyhow!("{}", redactor.redact(&format!("{err:#}")));
    let instance_url = instance_url.map_err(hide_pat)?;
    let check = sources.switch(&CHECK).map_err(hide_pat)?;
    let mut config = resolve(&sources, instance_url, pat).map_err(hide_pat)?;
    config.warnings = names.into_iter().filter_map(|name| unknown_variable(&name)).collect();
    config.warnings.extend(warning);
    Ok(if check { Command::Check(config) } else { Command::Sync(config) })
}

/// What `--generate` names: one of the words of its row.
fn generate(value: OsString) -> Result<Kind> {
    let text = string(value, &GENERATE)?;
    Kind::named(&text).ok_or_else(|| {
        anyhow!("{} must be one of {}, got {text:?}", GENERATE.flag, GENERATE.values.join(", "))
    })
}

/// Each setting's value, from its source, checked. A new setting is one line here.
fn resolve(s: &Sources, instance_url: InstanceUrl, pat: Secret) -> Result<Config> {
    Ok(Config {
        instance_url,
        pat,
        // An empty `--org-id ""` unsets the variable's organization.
        org_id: s.text(&ORG_ID)?.filter(|id| !id.is_empty()).map(check_org_id).transpose()?,
        page_size: s.parsed(&PAGE_SIZE, parse_page_size)?.unwrap_or(DEFAULT_PAGE_SIZE),
        memory_limit_mib: s
            .parsed(&MEMORY_LIMIT, parse_memory_limit)?
            .unwrap_or(budget::DEFAULT_LIMIT_MIB),
        include_inactive_grants: s.switch(&INCLUDE_INACTIVE_GRANTS)?,
        retry: RetryPolicy {
            max_retries: s.parsed(&MAX_RETRIES, parse_max_retries)?.unwrap_or(DEFAULT_MAX_RETRIES),
            max_total_wait: s
                .parsed(&RETRY_MAX_WAIT, |text| parse_seconds(text, &RETRY_MAX_WAIT, true))?
                .unwrap_or(DEFAULT_RETRY_MAX_WAIT),
        },
        max_rps: s.parsed(&MAX_RPS, parse_rps)?,
        timeout: s
            .parsed(&TIMEOUT, |text| parse_seconds(text, &TIMEOUT, false))?
            .unwrap_or(DEFAULT_TIMEOUT),
        ca_certs: s.path(&CA_CERT)?.map(|path| files::read_ca_certs(&path)).transpose()?,
        proxy: proxy(s)?,
        filters: Filters {
            resource_types: s.parsed(&RESOURCE_TYPES, parse_resource_types)?,
            project_ids: project_ids(s)?,
            skip_grants: s.switch(&SKIP_GRANTS)?,
            skip_managers: s.switch(&SKIP_MANAGERS)?,
            auth_methods: s.parsed(&AUTH_METHODS, parse_auth_methods)?.unwrap_or_default(),
        },
        log_level: s.parsed(&LOG_LEVEL, parse_log_level)?.unwrap_or(Level::Info),
        log_format: s.parsed(&LOG_FORMAT, parse_log_format)?,
        output: s.path(&OUTPUT)?.filter(|path| path.as_os_str() != "-"),
        progress: progress(s)?,
        warnings: Vec::new(),
    })
}

/// Where settings find their values: the flags given, then the environment.
struct Sources<'a> {
    /// Each flag given, in order, with its value (empty for a switch).
    given: Vec<(&'static Setting, OsString)>,
    env: &'a dyn Fn(&str) -> Option<OsString>,
}

/// A variable is read even where the flag wins, so that one that is not UTF-8 is reported
/// whether or not a flag hides it.
impl Sources<'_> {
    /// The values given to the setting's flag, in order; an empty one for each switch.
    fn flags<'s>(&'s self, setting: &Setting) -> impl Iterator<Item = &'s OsString> + use<'s> {
        let flag = setting.flag;
        self.given.iter().filter(move |(given, _)| given.flag == flag).map(|(_, value)| value)
    }

    /// The last value given to the setting's flag, if it was given.
    fn flag(&self, setting: &Setting) -> Option<&OsString> {
        self.flags(setting).last()
    }

    /// The setting's variable, or else its alias, unless it is unset or empty.
    fn var(&self, setting: &Setting) -> Result<Option<String>> {
        let read = |var: Option<&str>| match var.and_then(self.env) {
            Some(value) if value.is_empty() => Ok(None),
            Some(value) => string(value, setting).map(Some),
            None => Ok(None),
        };
        match (read(setting.var)?, read(setting.var_alias)?) {
            (Some(_), Some(_)) => bail!(
                "{setting} and {} both set: use only one",
                setting.var_alias.unwrap_or_default()
            ),
            (var, alias) => Ok(var.or(alias)),
        }
    }

    /// The setting's text: its flag's, else its variable's.
    fn text(&self, setting: &Setting) -> Result<Option<String>> {
        let var = self.var(setting)?;
        match self.flag(setting) {
            Some(value) => string(value.clone(), setting).map(Some),
            None => Ok(var),
        }
    }

    /// The setting's text, read by `parse`.
    fn parsed<T>(
        &self,
        setting: &Setting,
        parse: impl FnOnce(&str) -> Result<T>,
    ) -> Result<Option<T>> {
        self.text(setting)?.map(|text| parse(&text)).transpose()
    }

    /// A path: its flag's, whatever its bytes, else its variable's.
    fn path(&self, setting: &Setting) -> Result<Option<PathBuf>> {
        let var = self.var(setting)?;
        Ok(self.flag(setting).map(PathBuf::from).or(var.map(PathBuf::from)))
    }

    /// A switch: on when its flag is given, else as its variable says.
    fn switch(&self, setting: &Setting) -> Result<bool> {
        let var = self.var(setting)?;
        if self.flag(setting).is_some() {
            return Ok(true);
        }
        var.map_or(Ok(false), |text| parse_bool(&text, setting))
    }
}

fn string(value: OsString, setting: &Setting) -> Result<String> {
    value.into_string().map_err(|_| anyhow!("{setting} is not valid UTF-8"))
}

/// The instance URL, required, checked, and allowed plain HTTP where that is safe.
fn instance_url(s: &Sources) -> Result<InstanceUrl> {
    let text = s.text(&INSTANCE_URL)?.ok_or_else(|| {
        anyhow!("missing {INSTANCE_URL}: set it to your ZITADEL instance, e.g. https://acme.zitadel.cloud")
    })?;
    let allow_insecure_http = s.switch(&ALLOW_INSECURE_HTTP)?;
    // Never echo the value: a URL with credentials in it would print them.
    let url = InstanceUrl::parse(&text).map_err(|invalid| anyhow!("{INSTANCE_URL} {invalid}"))?;
    if !allow_insecure_http && !url.is_https() && !url.is_loopback() {
        bail!(
            "{INSTANCE_URL} uses http:// to a host that is not loopback, which would send the PAT in clear text: use https://, or pass {ALLOW_INSECURE_HTTP} if you must"
        );
    }
    Ok(url)
}

/// The PAT, from `--pat`, `--pat-file` or one of their variables: never from two, and flags
/// before variables; with a warning about the PAT file, if it has one. No message quotes a
/// value: each may be the PAT.
fn pat(s: &Sources) -> Result<(Secret, Option<String>)> {
    let file = |path: &OsStr| files::read_pat_file(path.as_ref()).map(|f| (f.text, f.warning));
    let ((pat, warning), source) = match (s.flag(&PAT), s.flag(&PAT_FILE)) {
        (Some(_), Some(_)) => bail!("{PAT} and {PAT_FILE} both given: use only one"),
        (Some(pat), None) => ((string(pat.clone(), &PAT)?, None), &PAT),
        (None, Some(path)) => (file(path)?, &PAT_FILE),
        (None, None) => match (s.var(&PAT)?, s.var(&PAT_FILE)?) {
            (Some(_), Some(_)) => bail!("{PAT} and {PAT_FILE} both set: use only one"),
            (Some(pat), None) => ((without_one_newline(pat), None), &PAT),
            (None, Some(path)) => (file(path.as_ref())?, &PAT_FILE),
            (None, None) => bail!(
                "missing PAT: set BATON_PAT or BATON_PAT_FILE (or --pat-file) to the service user's Personal Access Token"
            ),
        },
    };
    Ok((check_pat(pat, source)?, warning))
}

/// The PAT without one trailing newline, as a Kubernetes secret made with `--from-file`
/// carries into the variable, and as `--pat-file` trims.
fn without_one_newline(mut pat: String) -> String {
    if pat.ends_with('\n') {
        pat.pop();
        if pat.ends_with('\r') {
            pat.pop();
        }
    }
    pat
}

/// Whether to draw the progress line: `Some` when a flag or variable says so, `None` to
/// decide by where stdout and stderr go. Of the two flags, the last given wins, as a later
/// flag overrides an earlier one; the two variables must not both be on.
fn progress(s: &Sources) -> Result<Option<bool>> {
    let is_progress = |setting: &Setting| [PROGRESS.flag, NO_PROGRESS.flag].contains(&setting.flag);
    if let Some((setting, _)) = s.given.iter().rev().find(|(setting, _)| is_progress(setting)) {
        return Ok(Some(setting.flag == PROGRESS.flag));
    }
    match (s.switch(&PROGRESS)?, s.switch(&NO_PROGRESS)?) {
        (true, true) => bail!("{PROGRESS} and {NO_PROGRESS} both set: use only one"),
        (true, false) => Ok(Some(true)),
        (false, true) => Ok(Some(false)),
        (false, false) => Ok(None),
    }
}

/// The warning for a `BATON_*` variable that no setting reads, with the one it was
/// probably meant to be. It is a warning, not an error: one environment may serve several
/// baton connectors, each reading its own `BATON_*` variables.
fn unknown_variable(name: &OsString) -> Option<String> {
    let name = name.to_str()?;
    if !name.starts_with("BATON_") || settings::variable(name).is_some() {
        return None;
    }
    Some(match help::did_you_mean_variable(name) {
        Some(var) => format!("unknown variable {name} is ignored: did you mean {var}?"),
        None => format!(
            "unknown variable {name} is ignored: see baton-zitadel --help for every variable"
        ),
    })
}

/// The projects to sync: every `--project-id` given, else the variable's comma-separated list.
fn project_ids(s: &Sources) -> Result<Vec<String>> {
    let mut ids = s
        .flags(&PROJECT_IDS)
        .map(|id| string(id.clone(), &PROJECT_IDS))
        .collect::<Result<Vec<_>>>()?;
    if ids.is_empty()
        && let Some(text) = s.var(&PROJECT_IDS)?
    {
        ids =
            text.split(',').map(str::trim).filter(|id| !id.is_empty()).map(String::from).collect();
    }
    for id in &ids {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_graphic()) {
            bail!("{PROJECT_IDS} must be project ids such as 284906487321587717, got {id:?}");
        }
    }
    Ok(ids)
}

/// The proxy variables, of which every one set must name a proxy. None is ever echoed: a
/// proxy URL may hold a password.
fn proxy(s: &Sources) -> Result<ProxyEnv> {
    ProxyEnv::read(s.env).map_err(|bad| match bad {
        // Named as every setting is, the variable standing for the flag it does not have.
        BadProxyVariable::NotUtf8(var) => anyhow!("{var} ({var}) is not valid UTF-8"),
        BadProxyVariable::NotAProxyUrl(var) => {
            anyhow!("{var} is not a valid proxy URL such as http://proxy.example.com:3128")
        }
        unsupported @ BadProxyVariable::Unsupported { .. } => anyhow!("{unsupported}"),
    })
}

/// Rejects an empty PAT and one that would break or inject into the `Authorization` header.
fn check_pat(pat: String, source: &Setting) -> Result<Secret> {
    if pat.is_empty() {
        bail!("the PAT from {source} is empty");
    }
    if pat.starts_with('\u{feff}') {
        bail!(
            "the PAT from {source} starts with a byte-order mark (U+FEFF), as some Windows editors write: save it without one"
        );
    }
    if pat.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!(
            "the PAT from {source} contains whitespace or control characters: check for a stray newline or space"
        );
    }
    // An HTTP header carries ASCII only, and no PAT has anything else: such a PAT would
    // fail every request on this side, slowly, through every retry.
    if !pat.is_ascii() {
        bail!(
            "the PAT from {source} contains a character that is not ASCII, which no PAT has: check the file's encoding"
        );
    }
    Ok(Secret(pat))
}

fn check_org_id(id: String) -> Result<String> {
    if !id.chars().all(|c| c.is_ascii_graphic()) {
        bail!(
            "{ORG_ID} must be an organization id such as 284905129371435012, without spaces or control characters"
        );
    }
    Ok(id)
}

fn parse_page_size(text: &str) -> Result<u32> {
    match text.parse::<u32>() {
        Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        _ => bail!("{PAGE_SIZE} must be a whole number from 1 to {MAX_PAGE_SIZE}, got {text:?}"),
    }
}

/// Seconds as a whole or decimal number; zero only where `zero_ok`.
fn parse_seconds(text: &str, setting: &Setting, zero_ok: bool) -> Result<Duration> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 => {
            Ok(Duration::from_secs_f64(seconds))
        }
        Ok(seconds) if zero_ok && seconds == 0.0 => Ok(Duration::ZERO),
        _ => bail!(
            "{setting} must be a number of seconds from {} to 86400, got {text:?}",
            if zero_ok { "0" } else { "0.001" }
        ),
    }
}

/// A comma-separated list of resource types, returned in output order without repeats.
fn parse_resource_types(text: &str) -> Result<Vec<&'static str>> {
    let known = RESOURCE_TYPES.values;
    let mut wanted = Vec::new();
    for name in text.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        match known.iter().find(|known| **known == name) {
            Some(known) => wanted.push(*known),
            None => bail!(
                "{RESOURCE_TYPES} knows the resource types user, project, org, project_grant, instance, pat, machine_key and client_secret, got {name:?}"
            ),
        }
    }
    if wanted.is_empty() {
        bail!(
            "{RESOURCE_TYPES} names no resource type: give some of user, project, org, project_grant, instance, pat, machine_key, client_secret"
        );
    }
    if wanted.contains(&"project_grant") && !wanted.contains(&"project") {
        bail!(
            "{RESOURCE_TYPES} names project_grant without project: a project grant's grants are grants of its project's roles, so add project"
        );
    }
    let credentials = ["pat", "machine_key", "client_secret"];
    if let Some(credential) = credentials.iter().find(|kind| wanted.contains(kind))
        && !wanted.contains(&"user")
    {
        bail!(
            "{RESOURCE_TYPES} names {credential} without user: a credential names the service user it signs in as, so add user"
        );
    }
    Ok(known.iter().copied().filter(|known| wanted.contains(known)).collect())
}

fn parse_auth_methods(text: &str) -> Result<AuthMethods> {
    let all = [AuthMethods::None, AuthMethods::Managers, AuthMethods::All];
    all.into_iter()
        .find(|whose| whose.name() == text)
        .ok_or_else(|| anyhow!("{AUTH_METHODS} must be none, managers or all, got {text:?}"))
}

fn parse_memory_limit(text: &str) -> Result<u64> {
    let (min, max) = (budget::MIN_LIMIT_MIB, budget::MAX_LIMIT_MIB);
    match text.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => {
            bail!("{MEMORY_LIMIT} must be a whole number of MiB from {min} to {max}, got {text:?}")
        }
    }
}

fn parse_max_retries(text: &str) -> Result<u32> {
    match text.parse::<u32>() {
        Ok(n) if n <= 100 => Ok(n),
        _ => bail!("{MAX_RETRIES} must be a whole number from 0 to 100, got {text:?}"),
    }
}

fn parse_rps(text: &str) -> Result<f64> {
    match text.parse::<f64>() {
        Ok(rps) if (0.01..=100_000.0).contains(&rps) => Ok(rps),
        _ => bail!(
            "{MAX_RPS} must be a number of requests per second from 0.01 to 100000, got {text:?}"
        ),
    }
}

fn parse_bool(text: &str, setting: &Setting) -> Result<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => bail!("{setting} must be 1, true, yes, 0, false or no, got {text:?}"),
    }
}

fn parse_log_level(text: &str) -> Result<Level> {
    Level::parse(text)
        .ok_or_else(|| anyhow!("{LOG_LEVEL} must be error, warn, info or debug, got {text:?}"))
}

fn parse_log_format(text: &str) -> Result<Format> {
    Format::parse(text).ok_or_else(|| anyhow!("{LOG_FORMAT} must be console or json, got {text:?}"))
}

/// Rewrites lexopt's errors so that they never echo a value, which may be a mistyped PAT,
/// and so that an unknown flag comes with a suggestion.
fn argument_error(err: lexopt::Error) -> anyhow::Error {
    match err {
        lexopt::Error::UnexpectedOption(option) => match help::did_you_mean(&option) {
            Some(flag) => anyhow!("unknown flag {option}: did you mean {flag}?"),
            None => anyhow!("unknown flag {option}: see baton-zitadel --help for every flag"),
        },
        lexopt::Error::UnexpectedArgument(_) => anyhow!(
            "unexpected argument (not shown, as it may be a secret): every setting is a flag, such as --instance-url URL; see baton-zitadel --help"
        ),
        lexopt::Error::UnexpectedValue { option, .. } => {
            anyhow!("{option} takes no value (the value is not shown, as it may be a secret)")
        }
        lexopt::Error::NonUnicodeValue(_) => anyhow!("an argument is not valid UTF-8"),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `args` with `vars` as the whole environment.
    fn parse_with(args: &[&str], vars: &[(&str, &str)]) -> Result<Command> {
        let args = args.iter().map(OsString::from).collect::<Vec<_>>();
        let names = vars.iter().map(|(name, _)| OsString::from(name));
        let env = |name: &str| {
            vars.iter().find(|(var, _)| *var == name).map(|(_, value)| OsString::from(value))
        };
        parse(args, env, names)
    }

    fn sync(args: &[&str], vars: &[(&str, &str)]) -> Result<Config> {
        match parse_with(args, vars)? {
            Command::Sync(config) => Ok(config),
            other => bail!("expected a sync, got {other:?}"),
        }
    }

    /// `BASE` and `vars`.
    fn with(vars: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        [&BASE[..], vars].concat()
    }

    /// The one-line message of the error that parsing must end in.
    fn error(args: &[&str], vars: &[(&str, &str)]) -> Result<String> {
        match parse_with(args, vars) {
            Ok(command) => bail!("expected an error, got {command:?}"),
            Err(err) => Ok(format!("{err:#}")),
        }
    }

    const BASE: [(&str, &str); 2] =
        [("BATON_INSTANCE_URL", "https://acme.example.com/"), ("BATON_PAT", "pat-123")];

    #[test]
    fn environment_alone_is_enough() -> Result<()> {
        let config = sync(&[], &BASE)?;
        assert_eq!(config.instance_url, "https://acme.example.com");
        assert_eq!(config.pat.expose(), "pat-123");
        assert_eq!(config.org_id, None);
        assert_eq!(config.page_size, 1000);
        assert!(!config.include_inactive_grants);
        Ok(())
    }

    #[test]
    fn flags_beat_environment() -> Result<()> {
        let vars = [BASE[0], BASE[1], ("BATON_ORG_ID", "1"), ("BATON_PAGE_SIZE", "5")];
        let config = sync(
            &["--instance-url=http://127.0.0.1:8080", "--pat", "flag-pat", "--org-id", "2"],
            &vars,
        )?;
        assert_eq!(config.instance_url, "http://127.0.0.1:8080");
        assert_eq!(config.pat.expose(), "flag-pat");
        assert_eq!(config.org_id.as_deref(), Some("2"));
        assert_eq!(config.page_size, 5);
        Ok(())
    }

    #[test]
    fn empty_environment_variables_count_as_unset() -> Result<()> {
        let vars = [
            BASE[0],
            BASE[1],
            ("BATON_ORG_ID", ""),
            ("BATON_PAGE_SIZE", ""),
            ("BATON_PAT_FILE", ""),
        ];
        let config = sync(&[], &vars)?;
        assert_eq!(config.org_id, None);
        assert_eq!(config.page_size, 1000);
        Ok(())
    }

    #[test]
    fn booleans_from_the_environment() -> Result<()> {
        for (text, expected) in
            [("1", true), ("YES", true), ("true", true), ("0", false), ("no", false)]
        {
            let vars = [BASE[0], BASE[1], ("BATON_INCLUDE_INACTIVE_GRANTS", text)];
            assert_eq!(sync(&[], &vars)?.include_inactive_grants, expected, "{text}");
        }
        let vars = [BASE[0], BASE[1], ("BATON_INCLUDE_INACTIVE_GRANTS", "maybe")];
        assert_eq!(
            error(&[], &vars)?,
            "--include-inactive-grants (BATON_INCLUDE_INACTIVE_GRANTS) must be 1, true, yes, 0, false or no, got \"maybe\""
        );
        assert!(sync(&["--include-inactive-grants"], &BASE)?.include_inactive_grants);
        Ok(())
    }

    #[test]
    fn help_and_version() -> Result<()> {
        assert!(matches!(parse_with(&["--help"], &[])?, Command::Help));
        assert!(matches!(parse_with(&["-V"], &[])?, Command::Version));
        Ok(())
    }

    #[test]
    fn bad_values_name_flag_and_variable() -> Result<()> {
        let url = |url: &str| error(&[], &[("BATON_INSTANCE_URL", url), BASE[1]]);
        assert_eq!(
            url("acme.example.com")?,
            "--instance-url (BATON_INSTANCE_URL) must start with https:// or http://, e.g. https://acme.zitadel.cloud"
        );
        assert!(
            url("ftp://acme.example.com")?
                .starts_with("--instance-url (BATON_INSTANCE_URL) must start")
        );
        assert!(url("https://acme.example.com/ui/console")?.contains("without a path"));
        assert!(url("https://acme.example.com?x=1")?.contains("without a path, query"));
        assert!(url("https://")?.contains("no host"));
        assert!(url("https://acme.example.com:port")?.contains("invalid port \"port\""));
        assert!(url("https://acme.example.com:70000")?.contains("invalid port"));
        assert!(url("https://exa mple.com")?.contains("invalid host or port"));
        assert!(sync(&[], &[("BATON_INSTANCE_URL", "http://[::1]:8080/"), BASE[1]]).is_ok());
        let with_credentials = url("https://admin:hunter2@acme.example.com")?;
        assert!(with_credentials.contains("must not contain credentials"));
        assert!(!with_credentials.contains("hunter2"));

        let page = |size: &str| error(&["--page-size", size], &BASE);
        for size in ["0", "1001", "-1", "ten"] {
            assert!(
                page(size)?.starts_with(
                    "--page-size (BATON_PAGE_SIZE) must be a whole number from 1 to 1000"
                ),
                "{size}"
            );
        }
        let limit = |mib: &str| error(&["--memory-limit", mib], &BASE);
        for mib in ["24", "0", "1048577", "64MiB", "-1"] {
            assert_eq!(
                limit(mib)?,
                format!(
                    "--memory-limit (BATON_MEMORY_LIMIT) must be a whole number of MiB from 25 to 1048576, got {mib:?}"
                )
            );
        }
        assert_eq!(sync(&[], &BASE)?.memory_limit_mib, 128);
        assert_eq!(sync(&[], &with(&[("BATON_MEMORY_LIMIT", "25")]))?.memory_limit_mib, 25);
        assert_eq!(sync(&["--memory-limit", "4096"], &BASE)?.memory_limit_mib, 4096);
        assert!(
            error(&["--org-id", "12 34"], &BASE)?.starts_with("--org-id (BATON_ORG_ID) must be")
        );
        assert_eq!(
            error(&["--verbose"], &BASE)?,
            "unknown flag --verbose: see baton-zitadel --help for every flag"
        );
        Ok(())
    }

    #[test]
    fn unknown_flags_get_a_suggestion() -> Result<()> {
        for (typed, meant) in [
            ("--instance-urll", "--instance-url"),
            ("--org", "--org-id"),
            ("--page", "--page-size"),
            ("--pat-fiel", "--pat-file"),
            ("--skip-grant", "--skip-grants"),
            ("--includeinactivegrants", "--include-inactive-grants"),
            ("--sync-resource-type", "--sync-resource-types"),
        ] {
            assert_eq!(
                error(&[typed, "x"], &BASE)?,
                format!("unknown flag {typed}: did you mean {meant}?"),
                "{typed}"
            );
        }
        for unrelated in ["--verbose", "--log", "-x", "--zzzzzzzz"] {
            assert!(!error(&[unrelated], &BASE)?.contains("did you mean"), "{unrelated}");
        }
        Ok(())
    }

    #[test]
    fn baton_name_for_resource_types() -> Result<()> {
        let config = sync(&["--sync-resource-types", "project"], &BASE)?;
        assert_eq!(config.filters.resource_types, Some(vec!["project"]));
        Ok(())
    }

    #[test]
    fn stray_values_are_never_echoed() -> Result<()> {
        let positional = error(&["pat-1234-secret"], &BASE)?;
        assert!(positional.starts_with("unexpected argument (not shown"), "{positional}");
        assert!(!positional.contains("pat-1234-secret"));
        let inline = error(&["--check=pat-1234-secret"], &BASE)?;
        assert!(inline.starts_with("--check takes no value"), "{inline}");
        assert!(!inline.contains("pat-1234-secret"));
        let unknown = error(&["--token=pat-1234-secret"], &BASE)?;
        assert!(unknown.starts_with("unknown flag --token"), "{unknown}");
        assert!(!unknown.contains("pat-1234-secret"));
        Ok(())
    }

    #[test]
    fn progress_can_be_forced_on_or_off() -> Result<()> {
        assert_eq!(sync(&[], &BASE)?.progress, None);
        assert_eq!(sync(&["--no-progress"], &BASE)?.progress, Some(false));
        assert_eq!(sync(&["--progress"], &BASE)?.progress, Some(true));
        assert_eq!(sync(&["--progress", "--no-progress"], &BASE)?.progress, Some(false));
        assert_eq!(sync(&["--no-progress", "--progress"], &BASE)?.progress, Some(true));
        assert_eq!(sync(&[], &with(&[("BATON_NO_PROGRESS", "1")]))?.progress, Some(false));
        assert_eq!(sync(&[], &with(&[("BATON_PROGRESS", "1")]))?.progress, Some(true));
        assert_eq!(sync(&[], &with(&[("BATON_PROGRESS", "0")]))?.progress, None);
        let flag_wins = [("BATON_NO_PROGRESS", "1")];
        assert_eq!(sync(&["--progress"], &with(&flag_wins))?.progress, Some(true));
        let both = with(&[("BATON_NO_PROGRESS", "1"), ("BATON_PROGRESS", "1")]);
        assert!(error(&[], &both)?.contains("both set: use only one"));
        Ok(())
    }

    #[test]
    fn shorter_variable_names_people_guess_are_aliases() -> Result<()> {
        let config = sync(&[], &with(&[("BATON_RESOURCE_TYPES", "user,org")]))?;
        assert_eq!(config.filters.resource_types, Some(vec!["user", "org"]));
        let config = sync(&[], &with(&[("BATON_PROJECT_ID", "1,2")]))?;
        assert_eq!(config.filters.project_ids, ["1", "2"]);
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        let both = with(&[("BATON_PROJECT_ID", "1"), ("BATON_PROJECT_IDS", "2")]);
        assert_eq!(
            error(&[], &both)?,
            "--project-id (BATON_PROJECT_IDS) and BATON_PROJECT_ID both set: use only one"
        );
        Ok(())
    }

    #[test]
    fn unknown_baton_variables_are_warned_about_with_a_suggestion() -> Result<()> {
        let vars = [
            BASE[0],
            BASE[1],
            ("BATON_SKIP_GRANT", "1"),
            ("BATON_ORGID", "1"),
            ("BATON_CLIENT_SECRET", "x"),
            ("HOME", "/root"),
        ];
        assert_eq!(
            sync(&[], &vars)?.warnings,
            [
                "unknown variable BATON_SKIP_GRANT is ignored: did you mean BATON_SKIP_GRANTS?",
                "unknown variable BATON_ORGID is ignored: did you mean BATON_ORG_ID?",
                "unknown variable BATON_CLIENT_SECRET is ignored: see baton-zitadel --help for every variable",
            ]
        );
        Ok(())
    }

    #[test]
    fn one_trailing_newline_of_the_pat_variable_is_removed() -> Result<()> {
        for pat in ["pat-123\n", "pat-123\r\n", "pat-123"] {
            assert_eq!(sync(&[], &[BASE[0], ("BATON_PAT", pat)])?.pat.expose(), "pat-123");
        }
        let two = error(&[], &[BASE[0], ("BATON_PAT", "pat-123\n\n")])?;
        assert!(two.contains("whitespace or control characters"), "{two}");
        Ok(())
    }

    #[test]
    fn missing_settings_say_what_to_set() -> Result<()> {
        assert!(error(&[], &[BASE[1]])?.starts_with("missing --instance-url (BATON_INSTANCE_URL)"));
        assert!(
            error(&[], &[BASE[0]])?.starts_with("missing PAT: set BATON_PAT or BATON_PAT_FILE")
        );
        Ok(())
    }

    #[test]
    fn pat_sources_are_exclusive_and_never_echoed() -> Result<()> {
        assert_eq!(
            error(&["--pat", "a", "--pat-file", "/nonexistent"], &BASE)?,
            "--pat (BATON_PAT) and --pat-file (BATON_PAT_FILE) both given: use only one"
        );
        assert_eq!(
            error(&[], &[BASE[0], BASE[1], ("BATON_PAT_FILE", "/x")])?,
            "--pat (BATON_PAT) and --pat-file (BATON_PAT_FILE) both set: use only one"
        );
        let bad = error(&["--pat", "secret\r\nX-Injected: 1"], &BASE)?;
        assert!(bad.contains("whitespace or control characters"));
        assert!(!bad.contains("secret"));
        assert!(error(&["--pat", ""], &BASE)?.contains("is empty"));
        Ok(())
    }

    /// A PAT given where a path is expected is never quoted: the setting is named instead.
    #[test]
    fn a_pat_given_as_a_path_is_not_echoed() -> Result<()> {
        let token = "Xk2mP9qL7vR4tW8nZ3bY6cJ1";
        for (args, vars) in [
            (&["--pat-file", token][..], &[BASE[0]][..]),
            (&[], &[BASE[0], ("BATON_PAT_FILE", token)]),
            (&["--ca-cert", token], &[BASE[0], ("BATON_PAT_FILE", token)]),
            (&["--pat", "other-pat-1234", "--ca-cert", token], &[BASE[0]]),
        ] {
            let message = error(args, vars)?;
            assert!(message.contains("names no readable file: No such file"), "{message}");
            assert!(!message.contains(&token[..8]), "{message}");
        }
        Ok(())
    }

    /// Once the PAT is known, every message is redacted with it, whatever setting quotes it.
    #[test]
    fn messages_after_the_pat_is_known_hide_it() -> Result<()> {
        let token = "Xk2mP9qL7vR4tW8nZ3bY6cJ1";
        for (args, vars) in [
            (&["--page-size", token][..], &[BASE[0], ("BATON_PAT", token)][..]),
            (&["--pat", token, "--log-level", token], &[BASE[0]]),
            (&["--pat", token], &[BASE[0], ("BATON_SKIP_GRANTS", token)]),
            (&["--pat", token, "--timeout", token], &[BASE[0]]),
        ] {
            let message = error(args, vars)?;
            assert!(message.contains("[redacted]"), "{message}");
            assert!(!message.contains(&token[..8]), "{message}");
        }
        Ok(())
    }

    #[test]
    fn a_pat_that_is_not_ascii_is_named_not_echoed() -> Result<()> {
        let bom = error(&["--pat", "\u{feff}pat-123"], &BASE)?;
        assert_eq!(
            bom,
            "the PAT from --pat (BATON_PAT) starts with a byte-order mark (U+FEFF), as some Windows editors write: save it without one"
        );
        let accented = error(&[], &[BASE[0], ("BATON_PAT", "pat-123-é")])?;
        assert!(
            accented.starts_with(
                "the PAT from --pat (BATON_PAT) contains a character that is not ASCII"
            )
        );
        assert!(!accented.contains("pat-123"));
        Ok(())
    }

    #[test]
    fn secret_debug_is_redacted() -> Result<()> {
        let config = sync(&[], &BASE)?;
        assert!(!format!("{config:?}").contains("pat-123"));
        Ok(())
    }

    #[test]
    fn network_settings_have_defaults_and_bounds() -> Result<()> {
        let config = sync(&[], &BASE)?;
        assert_eq!(config.timeout, DEFAULT_TIMEOUT);
        assert_eq!(
            config.retry,
            RetryPolicy { max_retries: 8, max_total_wait: DEFAULT_RETRY_MAX_WAIT }
        );
        assert_eq!(config.max_rps, None);
        let vars = [
            BASE[0],
            BASE[1],
            ("BATON_TIMEOUT", "2.5"),
            ("BATON_MAX_RPS", "25"),
            ("BATON_RETRY_MAX_WAIT", "0"),
        ];
        let config = sync(&["--max-retries", "0"], &vars)?;
        assert_eq!(config.timeout, Duration::from_millis(2500));
        assert_eq!(config.max_rps, Some(25.0));
        assert_eq!(config.retry, RetryPolicy { max_retries: 0, max_total_wait: Duration::ZERO });
        assert!(
            error(&["--timeout", "0"], &BASE)?.starts_with("--timeout (BATON_TIMEOUT) must be")
        );
        assert!(
            error(&["--timeout", "NaN"], &BASE)?.starts_with("--timeout (BATON_TIMEOUT) must be")
        );
        assert!(
            error(&["--max-retries", "101"], &BASE)?
                .starts_with("--max-retries (BATON_MAX_RETRIES)")
        );
        assert!(error(&["--max-rps", "0"], &BASE)?.starts_with("--max-rps (BATON_MAX_RPS)"));
        assert!(
            error(&["--ca-cert", "/nonexistent.pem"], &BASE)?
                .starts_with("--ca-cert (BATON_CA_CERT) names no readable file: No such file")
        );
        Ok(())
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() -> Result<()> {
        for url in
            ["http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:1", "http://[::1]:80/"]
        {
            assert!(sync(&[], &[("BATON_INSTANCE_URL", url), BASE[1]]).is_ok(), "{url}");
        }
        let remote = [("BATON_INSTANCE_URL", "http://zitadel.internal"), BASE[1]];
        assert!(error(&[], &remote)?.contains("would send the PAT in clear text"));
        assert!(sync(&["--allow-insecure-http"], &remote).is_ok());
        let allowed = [remote[0], remote[1], ("BATON_ALLOW_INSECURE_HTTP", "1")];
        assert!(sync(&[], &allowed).is_ok());
        Ok(())
    }

    #[test]
    fn proxy_variables_must_be_valid_and_are_not_echoed() -> Result<()> {
        let vars = [BASE[0], BASE[1], ("HTTPS_PROXY", "http://user:secret@bad host")];
        let message = error(&[], &vars)?;
        assert!(message.starts_with("HTTPS_PROXY is not a valid proxy URL"), "{message}");
        assert!(!message.contains("secret"));
        Ok(())
    }
}
