//! The text of `--help`, whose option rows come from the table of settings, and the
//! "did you mean" suggestion for a mistyped flag, which knows the same flags.

use crate::settings::{self, Section, Setting};

/// The whole of `--help`.
pub fn text() -> String {
    let mut help = String::from(ABOUT);
    for section in [Section::Options, Section::Filters, Section::Logs, Section::Network] {
        help.push_str(heading(section));
        rows(&mut help, section);
        if section == Section::Network {
            // Read with the other variables (`zitadel::ProxyEnv`), not listed as settings.
            help.push_str(
                "    HTTPS_PROXY, HTTP_PROXY, ALL_PROXY (http:// or https:// proxies) and\n",
            );
            help.push_str("    NO_PROXY (read as curl reads it) are honoured.\n");
        }
        help.push('\n');
    }
    rows(&mut help, Section::Program);
    help.push_str(AFTER_OPTIONS);
    help
}

/// The known flag an unknown one was probably meant to be: the only one it begins, as
/// `--org` begins `--org-id`, or else the closest, a few typing mistakes away.
pub fn did_you_mean(unknown: &str) -> Option<&'static str> {
    let typed = unknown.trim_start_matches('-');
    if typed.len() >= 3 {
        let mut longer = flags().filter(|flag| flag[2..].starts_with(typed));
        if let (Some(flag), None) = (longer.next(), longer.next()) {
            return Some(flag);
        }
    }
    let (distance, flag) = flags()
        .map(|flag| (edit_distance(typed, &flag[2..]), flag))
        .min_by_key(|(distance, _)| *distance)?;
    // About one mistake in three letters, and at least two, is still a typo.
    (distance <= (typed.len() / 3).max(2)).then_some(flag)
}

/// The known variable an unknown `BATON_*` one was probably meant to be, found as for a
/// flag: `BATON_SKIP_GRANT` is `BATON_SKIP_GRANTS`.
pub fn did_you_mean_variable(unknown: &str) -> Option<&'static str> {
    let typed = unknown.strip_prefix("BATON_")?;
    let variables =
        settings::ALL.iter().flat_map(|setting| setting.var.into_iter().chain(setting.var_alias));
    let (distance, var) = variables
        .map(|var| (edit_distance(typed, &var["BATON_".len()..]), var))
        .min_by_key(|(distance, _)| *distance)?;
    (distance <= (typed.len() / 3).max(2)).then_some(var)
}

/// Every long flag and alias, in the order of `--help`.
fn flags() -> impl Iterator<Item = &'static str> {
    settings::ALL.iter().flat_map(|setting| std::iter::once(setting.flag).chain(setting.alias))
}

/// Where a setting's description starts: the flags take the columns before it, after an
/// indent of four. With descriptions of at most 49 characters, the help fits 80 columns.
const DESCRIPTION_COLUMN: usize = 31;
const FLAGS_WIDTH: usize = DESCRIPTION_COLUMN - 4;

/// Appends the rows of the section's settings: the flag and its value's name, then the
/// description, its continuation lines aligned under its first.
fn rows(help: &mut String, section: Section) {
    for setting in settings::ALL.iter().filter(|setting| setting.section == section) {
        let mut description = setting.help.to_string();
        if let Some(var) = setting.var {
            description = description.replace("{var}", var);
        }
        let mut lines = description.lines();
        let first = lines.next().unwrap_or("");
        help.push_str(&format!("    {:<FLAGS_WIDTH$}{first}\n", flags_column(setting)));
        for line in lines {
            help.push_str(&format!("{:DESCRIPTION_COLUMN$}{line}\n", ""));
        }
    }
}

/// What a row shows before the description: `-h, --help`, `--page-size N`.
fn flags_column(setting: &Setting) -> String {
    let short = setting.short.map(|short| format!("-{short}, ")).unwrap_or_default();
    match setting.value_name {
        Some(value) => format!("{short}{} {value}", setting.flag),
        None => format!("{short}{}", setting.flag),
    }
}

fn heading(section: Section) -> &'static str {
    match section {
        Section::Options => "OPTIONS:\n",
        Section::Filters => {
            "FILTERS (named in the summary record: a filtered stream is never taken\n\
             for a whole one):\n"
        }
        Section::Logs => "LOGS (stderr):\n",
        Section::Network => "NETWORK:\n",
        Section::Program => "",
    }
}

/// What comes before the options: what the program does and how it is called.
const ABOUT: &str = "\
baton-zitadel: sync who has access to what in one ZITADEL organization (users,
projects, roles, managers, project grants to other organizations, and every
user grant, those made through project grants included) to stdout as
newline-delimited JSON in ConductorOne's baton model. Read-only.

The PAT is a service user's, with the role Org Owner Viewer (ORG_OWNER_VIEWER)
on the organization; `--check` says whether it can read all a sync needs.

USAGE:
    baton-zitadel --instance-url URL [OPTIONS]

";

/// What follows the options: the output, the exit statuses and examples.
const AFTER_OPTIONS: &str = "
OUTPUT:
    One JSON object per line on stdout, `kind` first: resource_type, resource
    (users, projects, the organization and others granted a project, project
    grants), entitlement (project roles, manager roles), grant (role keys of
    user grants, manager roles held, roles delegated to organizations), and a
    summary, written only when the sync completed: a stream without it is
    incomplete. Progress and warnings go to stderr. Every record and field is
    described in docs/output.md (in the release archive and the repository).

EXIT STATUS:
    0  the sync completed (or stdout was closed early, as by `| head`)
    1  network, server or response error (after retries), or more to keep
       than --memory-limit allows
    2  bad flag, environment variable, PAT file, CA file or --output directory
    3  ZITADEL rejected the PAT (401)
    4  the PAT lacks a permission, or cannot access the organization (403, 404)
    5  the organization changed during the sync faster than it could recover:
       run again
    6  the records could not be written to stdout or --output (disk full, file
       size limit, I/O error); the message names which

EXAMPLES:
    BATON_PAT_FILE=/run/secrets/zitadel-pat \\
        baton-zitadel --instance-url https://acme.zitadel.cloud \\
        --output acme.ndjson

    # Can this token see everything a sync needs?
    baton-zitadel --instance-url https://acme.zitadel.cloud --check

    # Who holds role `admin` in project 123?
    jq -r 'select(.kind == \"grant\" and .resource_id == \"123\"
                  and .slug == \"admin\") | .principal_id' acme.ndjson
";

/// The Levenshtein distance: insertions, deletions and substitutions of characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use anyhow::{Result, bail};

    use super::*;

    /// The longest line of a description: the help stays within 80 columns.
    const DESCRIPTION_WIDTH: usize = 80 - DESCRIPTION_COLUMN;

    /// The README's configuration table, as pairs of its first two columns without their
    /// backticks: (`--page-size N`, `BATON_PAGE_SIZE`).
    fn readme_settings() -> Result<BTreeSet<(String, String)>> {
        let readme = include_str!("../../README.md");
        let Some((_, section)) = readme.split_once("\n## Configuration\n") else {
            bail!("the README has no section ## Configuration");
        };
        let table = section
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .skip(2);
        let mut rows = BTreeSet::new();
        for line in table {
            // The first two columns hold no `|`; the third may, escaped.
            let mut columns = line.split('|').skip(1).map(|column| column.trim().replace('`', ""));
            let (Some(flags), Some(var)) = (columns.next(), columns.next()) else {
                bail!("the README's configuration table has a row without two columns: {line}");
            };
            rows.insert((flags, var));
        }
        Ok(rows)
    }

    #[test]
    fn help_table_and_readme_name_the_same_settings() -> Result<()> {
        let table: BTreeSet<(String, String)> = settings::ALL
            .iter()
            .map(|setting| (flags_column(setting), setting.var.unwrap_or_default().to_string()))
            .collect();
        let help = text();
        // A row of the help starts four spaces in; its flags end at two spaces.
        let help_rows: BTreeSet<String> = help
            .lines()
            .filter_map(|line| line.strip_prefix("    ").filter(|row| row.starts_with('-')))
            .filter_map(|row| row.split("  ").next().map(String::from))
            .collect();
        let table_rows = table.iter().map(|(flags, _)| flags.clone()).collect();
        assert_eq!(help_rows, table_rows, "--help's rows and the table of settings");
        for (_, var) in table.iter().filter(|(_, var)| !var.is_empty()) {
            assert!(help.contains(&format!("[env: {var}")), "--help lacks {var}");
        }
        assert_eq!(readme_settings()?, table, "the README's ## Configuration and the table");
        Ok(())
    }

    #[test]
    fn every_row_fits_and_names_its_variable() {
        for setting in settings::ALL {
            assert!(flags_column(setting).len() < FLAGS_WIDTH - 1, "{}", setting.flag);
            assert_eq!(setting.help.contains("{var}"), setting.var.is_some(), "{}", setting.flag);
            let description = setting.help.replace("{var}", setting.var.unwrap_or_default());
            for line in description.lines() {
                assert!(line.len() <= DESCRIPTION_WIDTH, "{}: {line}", setting.flag);
            }
            assert_eq!(settings::named(&setting.flag[2..]), Some(*setting));
        }
    }
}
