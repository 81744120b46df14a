//! The man page and the shell completion scripts, made from the table of settings and the
//! text of `--help`, so that neither can say anything `--help` does not.
//!
//! Pure: settings and help text in, roff or shell out. The pieces of the man page that are
//! not settings (the description, the exit statuses, the examples) are read out of
//! `--help`'s sections, which the help's own tests keep in shape.

use crate::settings::{self, GENERATE, Section, Setting};

/// What `--generate` can print, one for each word of its row in the table of settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Man,
    Bash,
    Zsh,
    Fish,
}

impl Kind {
    /// The kind `--generate` names, one of the words of its row.
    pub fn named(name: &str) -> Option<Kind> {
        let kind = match name {
            "man" => Kind::Man,
            "complete-bash" => Kind::Bash,
            "complete-zsh" => Kind::Zsh,
            "complete-fish" => Kind::Fish,
            _ => return None,
        };
        GENERATE.values.contains(&name).then_some(kind)
    }
}

/// The text `--generate` prints; `help` is the text of `--help`, `version` the program's.
pub fn text(kind: Kind, help: &str, version: &str) -> String {
    match kind {
        Kind::Man => man(help, version),
        Kind::Bash => bash(),
        Kind::Zsh => zsh(),
        Kind::Fish => fish(),
    }
}

const PROGRAM: &str = "baton-zitadel";

/// The man page, section 1, in the `man` macros.
fn man(help: &str, version: &str) -> String {
    let mut page =
        format!(".TH BATON\\-ZITADEL 1 \"\" \"{PROGRAM} {version}\" \"User Commands\"\n");
    // Flags and variables are not words to break at the end of a line.
    page.push_str(".nh\n.ad l\n");
    page.push_str(".SH NAME\n");
    let what = env!("CARGO_PKG_DESCRIPTION");
    let what = what[..1].to_lowercase() + &what[1..];
    page.push_str(&format!("{} \\- {}\n", roff(PROGRAM), roff(&what)));
    page.push_str(&synopsis());
    page.push_str(".SH DESCRIPTION\n");
    let about = paragraph(help.split("\n\n").next().unwrap_or_default());
    let about = about.strip_prefix(&format!("{PROGRAM}: ")).unwrap_or(&about);
    let about = about[..1].to_uppercase() + &about[1..];
    page.push_str(&format!("{}\n.PP\n", roff(&about)));
    page.push_str(&format!("{}\n", roff(&paragraph(&section_of(help, "OUTPUT")))));
    for (section, heading) in [
        (Section::Options, ".SH OPTIONS"),
        (Section::Filters, ".SS Filters"),
        (Section::Logs, ".SS \"Logs (stderr)\""),
        (Section::Network, ".SS Network"),
        (Section::Program, ".SS \"About the program\""),
    ] {
        page.push_str(heading);
        page.push('\n');
        for setting in settings::ALL.iter().filter(|setting| setting.section == section) {
            page.push_str(&format!(".TP\n{}\n{}\n", man_flags(setting), roff(&described(setting))));
        }
    }
    page.push_str(&environment(help));
    page.push_str(".SH \"EXIT STATUS\"\n");
    for (status, meaning) in exit_statuses(help) {
        page.push_str(&format!(".TP\n.B {status}\n{}\n", roff(&meaning)));
    }
    page.push_str(&files());
    page.push_str(".SH EXAMPLES\n.nf\n.RS 4\n");
    for line in section_of(help, "EXAMPLES").lines() {
        match line {
            "" => page.push_str(".sp\n"),
            line => page.push_str(&format!("{}\n", roff(line))),
        }
    }
    page.push_str(".RE\n.fi\n");
    page.push_str(SEE_ALSO);
    page
}

/// How the program is called: a sync, a check, the generated texts, help and version.
fn synopsis() -> String {
    let call = |rest: &str| format!(".B {}\n{rest}\n.br\n", roff(PROGRAM));
    let mut synopsis = String::from(".SH SYNOPSIS\n");
    synopsis.push_str(&call("\\fB\\-\\-instance\\-url\\fR \\fIURL\\fR [\\fIOPTIONS\\fR]"));
    synopsis.push_str(&call(
        "\\fB\\-\\-instance\\-url\\fR \\fIURL\\fR \\fB\\-\\-check\\fR [\\fIOPTIONS\\fR]",
    ));
    let words = GENERATE.values.iter().map(|word| roff(word)).collect::<Vec<_>>();
    synopsis.push_str(&call(&format!("\\fB\\-\\-generate\\fR {}", words.join(" | "))));
    synopsis.push_str(&call("\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR"));
    synopsis
}

/// Every variable, with the flag it stands for, and the proxy variables.
fn environment(help: &str) -> String {
    let mut section = String::from(".SH ENVIRONMENT\n");
    section.push_str("A flag beats its variable; an empty variable counts as unset.\n");
    for setting in settings::ALL {
        if let Some(var) = setting.var {
            section.push_str(&format!(
                ".TP\n.B {}\nas \\fB{}\\fR\n",
                roff(var),
                roff(setting.flag)
            ));
        }
    }
    if let Some(proxies) = help.lines().find(|line| line.contains("HTTPS_PROXY")) {
        section.push_str(&format!(".PP\n{}\n", roff(proxies.trim())));
    }
    section
}

/// The files the program reads and writes: only those the settings name.
fn files() -> String {
    use settings::{CA_CERT, OUTPUT, PAT_FILE};
    let item =
        |setting: &Setting, text: &str| format!(".TP\n{}\n{}\n", man_flags(setting), roff(text));
    let mut section = String::from(".SH FILES\n");
    section.push_str(&item(
        &PAT_FILE,
        "The Personal Access Token, read once; keep it readable by the user who runs the sync \
         alone (mode 0600).",
    ));
    section.push_str(&item(&CA_CERT, "PEM certificates of a private certificate authority."));
    section.push_str(&item(
        &OUTPUT,
        "The export: written into a temporary file in the same directory, which replaces it \
         only when the sync completed.",
    ));
    section
        .push_str(".PP\nNo configuration file is read: every setting is a flag or a variable.\n");
    section
}

const SEE_ALSO: &str = "\
.SH \"SEE ALSO\"
.BR jq (1)
.PP
README.md and the documents in docs/, beside the binary in the release archive: the output's
records, recipes, and how to run it in production.
.PP
baton, the ConductorOne connector framework: https://github.com/conductorone/baton
";

/// A setting's flags in a man page's tag line: `\fB\-\-page\-size\fR \fIN\fR`, with its
/// one-letter flag and its alias.
fn man_flags(setting: &Setting) -> String {
    let value = setting.value_name.map(|name| format!(" \\fI{name}\\fR")).unwrap_or_default();
    let mut names: Vec<String> =
        setting.short.map(|short| format!("-{short}")).into_iter().collect();
    names.push(setting.flag.to_string());
    names.extend(setting.alias.map(String::from));
    let names = names.iter().map(|name| format!("\\fB{}\\fR{value}", roff(name)));
    names.collect::<Vec<_>>().join(", ")
}

/// A setting's description on one line, with its variable.
fn described(setting: &Setting) -> String {
    paragraph(&setting.help.replace("{var}", setting.var.unwrap_or_default()))
}

/// The short description of completion menus: the description up to its first bracket.
fn brief(setting: &Setting) -> String {
    let text = paragraph(setting.help);
    text.split(" [").next().unwrap_or_default().trim_end_matches(['.', ',']).to_string()
}

/// Lines joined into one, each trimmed.
fn paragraph(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The lines of the help's section `NAME:`, four spaces of indent removed.
fn section_of(help: &str, name: &str) -> String {
    let heading = format!("\n{name}:\n");
    let body = help.split_once(&heading).map(|(_, body)| body).unwrap_or_default();
    let lines = body.lines().take_while(|line| line.is_empty() || line.starts_with(' '));
    let lines: Vec<&str> = lines.map(|line| line.strip_prefix("    ").unwrap_or(line)).collect();
    lines.join("\n").trim_end().to_string()
}

/// The help's exit statuses: rows that start with the status, and their continuations.
fn exit_statuses(help: &str) -> Vec<(String, String)> {
    let mut statuses: Vec<(String, String)> = Vec::new();
    for line in section_of(help, "EXIT STATUS").lines() {
        match line.split_once("  ") {
            Some((status, meaning)) if status.parse::<u8>().is_ok() => {
                statuses.push((status.to_string(), meaning.trim().to_string()));
            }
            _ => {
                if let Some((_, meaning)) = statuses.last_mut() {
                    meaning.push(' ');
                    meaning.push_str(line.trim());
                }
            }
        }
    }
    statuses
}

/// Text as roff prints it literally: backslashes and minus signs escaped, anything but ASCII
/// named by its code point, and no line taken for a request.
fn roff(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    if text.starts_with(['.', '\'']) {
        out.push_str("\\&");
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&format!("\\[u{:04X}]", u32::from(c))),
        }
    }
    out
}

/// Every long flag and alias, then every one-letter flag, as completions offer them.
fn all_flags() -> Vec<String> {
    let long = settings::ALL.iter().flat_map(|setting| [Some(setting.flag), setting.alias]);
    let short = settings::ALL.iter().map(|setting| setting.short.map(|short| format!("-{short}")));
    long.flatten().map(String::from).chain(short.flatten()).collect()
}

/// A setting's flag and alias, as one `case` pattern: `--resource-types|--sync-resource-types`.
fn pattern(setting: &Setting) -> String {
    [Some(setting.flag), setting.alias].into_iter().flatten().collect::<Vec<_>>().join("|")
}

/// Whether the setting names a file, which the shell completes as one.
fn is_path(setting: &Setting) -> bool {
    setting.value_name == Some("PATH")
}

/// Whether the setting takes a comma-separated list of its values.
fn is_list(setting: &Setting) -> bool {
    setting.value_name == Some("LIST")
}

/// The bash completion: a function that completes flags, and the values of those that take
/// a few words or a file.
fn bash() -> String {
    let takes_value = settings::ALL.iter().filter(|setting| setting.value_name.is_some());
    let (mut cases, mut paths, mut typed) = (String::new(), Vec::new(), Vec::new());
    for setting in takes_value {
        let words = setting.values.join(" ");
        let action = if is_list(setting) {
            // A comma-separated list: the items before the last one stay as they are.
            format!(
                "local done=${{cur%\"${{cur##*,}}\"}}\n            \
                 COMPREPLY=($(compgen -P \"$done\" -W \"{words}\" -- \"${{cur##*,}}\"))"
            )
        } else if !setting.values.is_empty() {
            format!("COMPREPLY=($(compgen -W \"{words}\" -- \"$cur\"))")
        } else if is_path(setting) {
            paths.push(pattern(setting));
            continue;
        } else {
            typed.push(pattern(setting));
            continue;
        };
        cases.push_str(&format!(
            "        {})\n            {action}\n            return ;;\n",
            pattern(setting)
        ));
    }
    if !paths.is_empty() {
        cases.push_str(&format!(
            "        {})\n            compopt -o filenames 2>/dev/null\n            \
             COMPREPLY=($(compgen -f -- \"$cur\"))\n            return ;;\n",
            paths.join("|")
        ));
    }
    if !typed.is_empty() {
        cases.push_str(&format!(
            "        # A value to type, such as a URL or an id: nothing to offer.\n        \
             {})\n            return ;;\n",
            typed.join("|")
        ));
    }
    format!(
        "# bash completion for {PROGRAM}, made by `{PROGRAM} --generate complete-bash`.
# Source it, or install it as /usr/share/bash-completion/completions/{PROGRAM}.
_baton_zitadel() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=
    (( COMP_CWORD > 0 )) && prev=${{COMP_WORDS[COMP_CWORD-1]}}
    # bash splits `--flag=value` at the `=`.
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then
        prev=${{COMP_WORDS[COMP_CWORD-2]}}
    fi
    case $prev in
{cases}    esac
    COMPREPLY=($(compgen -W \"{flags}\" -- \"$cur\"))
}}
complete -F _baton_zitadel {PROGRAM}
",
        flags = all_flags().join(" ")
    )
}

/// The zsh completion, for a directory of `$fpath`, as `_baton-zitadel`.
fn zsh() -> String {
    let quote = |text: &str| text.replace('\'', "'\\''");
    let explain = |setting: &Setting| {
        let text = brief(setting);
        let escaped: String = text
            .chars()
            .flat_map(|c| match c {
                '\\' | '[' | ']' | ':' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        quote(&escaped)
    };
    let mut specs = Vec::new();
    for setting in settings::ALL {
        let action = match setting.value_name {
            None => String::new(),
            Some(name) if is_list(setting) => {
                format!(":{name}:_sequence compadd - {}", setting.values.join(" "))
            }
            Some(name) if !setting.values.is_empty() => {
                format!(":{name}:({})", setting.values.join(" "))
            }
            Some(name) if is_path(setting) => format!(":{name}:_files"),
            Some(name) => format!(":{name}: "),
        };
        let equals = if setting.value_name.is_some() { "=" } else { "" };
        let names = [Some(setting.flag), setting.alias].into_iter().flatten();
        let short = setting.short.map(|short| format!("-{short}"));
        for name in names.map(String::from).chain(short) {
            let equals = if name.starts_with("--") { equals } else { "" };
            specs.push(format!("  '{name}{equals}[{}]{action}'", explain(setting)));
        }
    }
    format!(
        "#compdef {PROGRAM}
# zsh completion for {PROGRAM}, made by `{PROGRAM} --generate complete-zsh`.
# Install it as _{PROGRAM} in a directory of $fpath.
_arguments \\
{}
",
        specs.join(" \\\n")
    )
}

/// The fish completion, for `~/.config/fish/completions/baton-zitadel.fish`.
fn fish() -> String {
    let quote = |text: &str| format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"));
    let mut lines = vec![
        format!("# fish completion for {PROGRAM}, made by `{PROGRAM} --generate complete-fish`."),
        format!("# Install it as ~/.config/fish/completions/{PROGRAM}.fish."),
        format!("complete -c {PROGRAM} -f"),
    ];
    for setting in settings::ALL {
        let names = [Some(setting.flag), setting.alias].into_iter().flatten();
        let mut line = format!("complete -c {PROGRAM}");
        if let Some(short) = setting.short {
            line.push_str(&format!(" -s {short}"));
        }
        for name in names {
            line.push_str(&format!(" -l {}", &name[2..]));
        }
        let words = setting.values.join(" ");
        if is_list(setting) {
            let list = format!("(__fish_complete_list , \"string split ' ' '{words}'\")");
            line.push_str(&format!(" -x -a {}", quote(&list)));
        } else if !setting.values.is_empty() {
            line.push_str(&format!(" -x -a {}", quote(&words)));
        } else if is_path(setting) {
            line.push_str(" -r -F");
        } else if setting.value_name.is_some() {
            line.push_str(" -x");
        }
        line.push_str(&format!(" -d {}", quote(&brief(setting))));
        lines.push(line);
    }
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use anyhow::{Result, bail};

    use super::*;
    use crate::log::{Format, Level};

    fn help() -> String {
        crate::config::help_text()
    }

    #[test]
    fn every_word_of_a_row_is_a_value_the_program_takes() -> Result<()> {
        let mut kinds = Vec::new();
        for word in GENERATE.values {
            let Some(kind) = Kind::named(word) else { bail!("--generate {word}") };
            kinds.push(kind);
        }
        assert_eq!(kinds, [Kind::Man, Kind::Bash, Kind::Zsh, Kind::Fish]);
        assert!(text(Kind::Bash, &help(), "0.0.0").starts_with("# bash completion"));
        assert!(settings::LOG_LEVEL.values.iter().all(|word| Level::parse(word).is_some()));
        assert!(settings::LOG_FORMAT.values.iter().all(|word| Format::parse(word).is_some()));
        Ok(())
    }

    #[test]
    fn the_man_page_has_every_section_setting_and_variable() {
        let page = man(&help(), "1.2.3");
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "ENVIRONMENT",
            "\"EXIT STATUS\"",
            "FILES",
            "EXAMPLES",
            "\"SEE ALSO\"",
        ] {
            assert!(page.contains(&format!("\n.SH {section}\n")), "{section}");
        }
        assert!(page.starts_with(".TH BATON\\-ZITADEL 1 \"\" \"baton-zitadel 1.2.3\""));
        for setting in settings::ALL {
            assert!(page.contains(&format!(".TP\n{}\n", man_flags(setting))), "{}", setting.flag);
            if let Some(var) = setting.var {
                assert!(page.contains(&format!("[env: {}", roff(var))), "{var}");
                assert!(page.contains(&format!(".B {}\n", roff(var))), "{var}");
            }
        }
        for status in 0..=6 {
            assert!(page.contains(&format!(".TP\n.B {status}\n")), "exit status {status}");
        }
        assert!(page.contains("baton\\-zitadel \\-\\-instance\\-url https://acme.zitadel.cloud"));
        assert!(!page.contains("\n\n"), "a blank line is a roff paragraph of its own");
    }

    #[test]
    fn the_man_page_escapes_what_roff_would_read() {
        assert_eq!(roff(".a\\b-c é"), "\\&.a\\eb\\-c \\[u00E9]");
        assert_eq!(roff("'quoted'"), "\\&'quoted'");
    }

    #[test]
    fn the_help_sections_the_man_page_reads_are_there() {
        let statuses = exit_statuses(&help());
        assert_eq!(statuses.len(), 7);
        assert!(statuses[6].1.contains("the message names which"), "{statuses:?}");
        assert!(section_of(&help(), "EXAMPLES").starts_with("BATON_PAT_FILE="));
    }

    #[test]
    fn every_completion_offers_every_flag() {
        let offered = |script: &str, flag: &str| match script {
            // The words the last `compgen` offers when no value is due.
            "bash" => bash().lines().filter(|line| line.contains("compgen -W \"--")).any(|line| {
                line.split('"').nth(1).unwrap_or_default().split(' ').any(|w| w == flag)
            }),
            "zsh" => zsh().contains(&format!("'{flag}[")) || zsh().contains(&format!("'{flag}=[")),
            _ => match flag.strip_prefix("--") {
                Some(long) => fish().contains(&format!(" -l {long} ")),
                None => fish().contains(&format!(" -s {} ", &flag[1..])),
            },
        };
        for (shell, script) in [("bash", bash()), ("zsh", zsh()), ("fish", fish())] {
            for flag in all_flags() {
                assert!(offered(shell, &flag), "{flag} in\n{script}");
            }
            for word in settings::RESOURCE_TYPES.values {
                assert!(script.contains(word), "{word}");
            }
        }
    }
}
