//! The end of a sync: the summary record, and the log line that says the same in words.

use std::io::Write;
use std::time::SystemTime;

use anyhow::Result;

use super::fetcher::Fetcher;
use super::ledger::Ledger;
use crate::config::{AuthMethods, Config};
use crate::log::{self, Level};
use crate::record::{Counts, Summary, SummaryFilters};
use crate::timestamp;

/// What the summary says of the run itself rather than of the organization.
pub struct RunFacts {
    /// When the run started.
    pub started_at: SystemTime,
    /// The token's own user, when ZITADEL said.
    pub synced_by: Option<String>,
}

/// Prints the summary record, flushes the output and logs the summary line.
pub fn finish<W: Write>(
    fetcher: &Fetcher,
    ledger: &mut Ledger<W>,
    config: &Config,
    run: &RunFacts,
) -> Result<()> {
    let filters = &config.filters;
    let filtered = !filters.is_empty() || config.include_inactive_grants;
    let org = ledger.org();
    let summary = Summary {
        kind: "summary",
        org_id: &org.id,
        org_name: &org.name,
        instance_url: config.instance_url.as_str(),
        synced_by: run.synced_by.as_deref(),
        version: env!("CARGO_PKG_VERSION"),
        started_at: timestamp::rfc3339_millis(run.started_at),
        finished_at: timestamp::rfc3339_millis(log::now()),
        counts: ledger.counts.clone(),
        requests: fetcher.requests(),
        filters: filtered.then_some(SummaryFilters {
            resource_types: filters.resource_types.as_deref(),
            project_ids: &filters.project_ids,
            skip_grants: filters.skip_grants,
            skip_managers: filters.skip_managers,
            auth_methods: (filters.auth_methods != AuthMethods::Managers)
                .then_some(filters.auth_methods.name()),
            include_inactive_grants: config.include_inactive_grants,
        }),
        omitted: ledger.omitted.clone(),
    };
    ledger.print(&summary)?;
    ledger.flush()?;
    let counts = &ledger.counts;
    let (requests, retries) = (fetcher.requests(), fetcher.retries());
    let seconds = log::elapsed().as_secs_f64();
    log::log(
        Level::Info,
        &format!(
            "sync complete in {seconds:.1}s: {}; {}, {}",
            in_words(counts),
            counted(requests, "request"),
            counted(retries, "retry")
        ),
        &[
            ("duration_s", ((seconds * 1000.0).round() / 1000.0).into()),
            ("requests", requests.into()),
            ("retries", retries.into()),
            ("counts", serde_json::to_value(counts).unwrap_or_default()),
        ],
    );
    Ok(())
}

/// `9 users, 1 external user, ...; skipped 1 inactive user grant, ...`: every count of
/// records printed that is said even when zero or is not zero, then every count of
/// something skipped that is not zero.
fn in_words(counts: &Counts) -> String {
    let printed: Vec<String> = counts
        .printed()
        .into_iter()
        .filter(|&(_, n, always_said)| always_said || n > 0)
        .map(|(name, n, _)| counted(n, name))
        .collect();
    let skipped: Vec<String> = counts
        .skipped()
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .map(|(name, n)| counted(n, name))
        .collect();
    match skipped.is_empty() {
        true => printed.join(", "),
        false => format!("{}; skipped {}", printed.join(", "), skipped.join(", ")),
    }
}

/// A count in words, from a count's name in `Counts`: `1 external user`, `2 user grants
/// without roles`. The noun before `with` or `without` (else the last) takes the plural.
pub fn counted(n: u64, name: &str) -> String {
    format!("{n} {}", noun_phrase(name, n != 1))
}

pub fn noun_phrase(name: &str, plural: bool) -> String {
    let mut words: Vec<String> = name.split('_').map(String::from).collect();
    let noun = words.iter().position(|word| word == "with" || word == "without");
    let noun = noun.unwrap_or(words.len()).saturating_sub(1);
    // `auth_methods_unknown`: the methods are what is unknown, and plural already.
    if plural && let Some(word) = words.get_mut(noun).filter(|word| *word != "unknown") {
        match word.strip_suffix('y') {
            Some(stem) if !stem.ends_with(['a', 'e', 'o', 'u']) => *word = format!("{stem}ies"),
            _ => word.push('s'),
        }
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_words() {
        assert_eq!(counted(1, "external_user"), "1 external user");
        assert_eq!(counted(2, "user_grant_without_roles"), "2 user grants without roles");
        assert_eq!(counted(1, "user_grant_without_roles"), "1 user grant without roles");
        assert_eq!(counted(0, "grant_without_principal"), "0 grants without principal");
        assert_eq!(counted(3, "retry"), "3 retries");
        assert_eq!(counted(1, "retry"), "1 retry");
        assert_eq!(counted(7, "unknown_role_key"), "7 unknown role keys");
        let counts =
            Counts { user: 1, project: 1, grant: 2, unknown_role_key: 1, ..Counts::default() };
        assert_eq!(
            in_words(&counts),
            "1 user, 0 external users, 1 project, 0 entitlements, 2 grants; skipped 1 unknown role key"
        );
        let counts = Counts { org: 1, manager_grant: 2, ..counts };
        assert_eq!(
            in_words(&counts),
            "1 user, 0 external users, 1 org, 1 project, 0 entitlements, 2 grants, 2 manager grants; skipped 1 unknown role key"
        );
        let counts = Counts { inactive_user_grant: 3, user_grant_without_roles: 1, ..counts };
        assert!(in_words(&counts).ends_with(
            "; skipped 3 inactive user grants, 1 unknown role key, 1 user grant without roles"
        ));
    }
}
