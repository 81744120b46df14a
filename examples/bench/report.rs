//! The bench's markdown tables: the runs, the requests per endpoint and the targets.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::{
    Args, CPU_PER_RECORD_TARGET_US, RSS_GROWTH_TARGET_KIB, RSS_TARGET_KIB, Row, Size, Token,
};

/// Folds repeated runs into one row: the median of each measurement separately.
pub fn median(mut runs: Vec<Row>) -> Row {
    let middle = runs.len() / 2;
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    let mut cpus: Vec<Duration> = runs.iter().map(|r| r.cpu).collect();
    let mut rss: Vec<u64> = runs.iter().map(|r| r.max_rss_kib).collect();
    walls.sort();
    cpus.sort();
    rss.sort();
    let mut row = runs.swap_remove(0);
    for other in runs {
        row.request_findings.extend(other.request_findings);
    }
    row.request_findings.sort();
    row.request_findings.dedup();
    row.wall = walls[middle];
    row.cpu = cpus[middle];
    row.max_rss_kib = rss[middle];
    row
}

pub fn print_table(args: &Args, rows: &[Row]) {
    println!(
        "| run | users | external users | credentials | projects | project grants | entitlements | grants | records | requests (min) | response MiB | wall s | CPU s | CPU µs/record | peak RSS MiB |"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for row in rows {
        let access = &row.access;
        let counts = &access.counts;
        let latency = if row.latency.is_zero() {
            format!(", median of {}", args.repeat)
        } else {
            format!(" + {} ms/request", row.latency.as_millis())
        };
        println!(
            "| {}, {}{latency} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) | {:.1} | {:.2} | {:.2} | {:.2} | {:.1} |",
            row.size.name(),
            row.token.name(),
            counts.user,
            counts.external_user,
            counts.pat + counts.machine_key + counts.client_secret,
            counts.project,
            counts.project_grant,
            counts.entitlement,
            counts.grant,
            access.records,
            row.requests,
            access.min_requests,
            row.response_bytes as f64 / (1024.0 * 1024.0),
            row.wall.as_secs_f64(),
            row.cpu.as_secs_f64(),
            cpu_per_record(row),
            row.max_rss_kib as f64 / 1024.0,
        );
    }
    let zero_latency: Vec<&Row> = rows.iter().filter(|row| row.latency.is_zero()).collect();
    for row in &zero_latency {
        let c = &row.access.counts;
        println!(
            "\n{}, {}: {} Personal Access Tokens, {} machine keys, {} client secrets; {} instance; {} grants of user grants this organization made, {} of user grants made through project grants, {} of manager roles, {} to {} other organizations; skipped, as the summary counts them: {} inactive user grants, {} inactive project grants, {} user grants without role keys, {} unknown role keys.",
            row.size.name(),
            row.token.name(),
            c.pat,
            c.machine_key,
            c.client_secret,
            c.instance,
            c.grant - c.delegated_grant - c.manager_grant - c.org_grant,
            c.delegated_grant,
            c.manager_grant,
            c.org_grant,
            c.external_org,
            c.inactive_user_grant,
            c.inactive_project_grant,
            c.user_grant_without_roles,
            c.unknown_role_key
        );
    }
    print_requests(&zero_latency);
    print_targets(rows);
}

/// Whether the large organization met the memory and CPU targets, and each run the minimal
/// walk.
fn print_targets(rows: &[Row]) {
    println!("\nTargets (large organization):");
    for token in [Token::Org, Token::Instance] {
        let find =
            |size| rows.iter().find(|r| r.size == size && r.latency.is_zero() && r.token == token);
        print_resource_targets(token, find(Size::Large), find(Size::Small));
    }
    for row in rows {
        let name = format!(
            "{}, {} (latency {} ms)",
            row.size.name(),
            row.token.name(),
            row.latency.as_millis()
        );
        if row.request_findings.is_empty() {
            target(
                true,
                &format!("{name}: exactly the minimal walk, 1000-row pages, no page twice"),
            );
        } else {
            let shown: Vec<&str> =
                row.request_findings.iter().take(5).map(String::as_str).collect();
            target(false, &format!("{name}: {}", shown.join("; ")));
        }
    }
}

/// Whether the large organization's runs with `token` met the memory and CPU targets.
fn print_resource_targets(token: Token, large: Option<&Row>, small: Option<&Row>) {
    if let Some(large) = large {
        println!("- {}:", token.name());
        let rss = large.max_rss_kib;
        target(
            rss <= RSS_TARGET_KIB,
            &format!("peak RSS {:.1} MiB <= 16 MiB", rss as f64 / 1024.0),
        );
        if let Some(small) = small {
            let growth = rss.saturating_sub(small.max_rss_kib);
            target(
                growth <= RSS_GROWTH_TARGET_KIB,
                &format!(
                    "peak RSS {:.1} MiB above the small organization's <= 2 MiB",
                    growth as f64 / 1024.0
                ),
            );
        }
        let per_record = cpu_per_record(large);
        target(
            per_record <= CPU_PER_RECORD_TARGET_US,
            &format!("{per_record:.2} µs CPU per record <= 2 µs"),
        );
    }
}

/// The requests per endpoint of each organization, sent and (in parentheses) the minimum.
fn print_requests(rows: &[&Row]) {
    let endpoints: BTreeSet<&str> = rows
        .iter()
        .flat_map(|row| row.access.requests.keys().chain(row.requests_by_endpoint.keys()))
        .copied()
        .collect();
    let sizes: Vec<String> =
        rows.iter().map(|row| format!("{}, {}", row.size.name(), row.token.name())).collect();
    println!("\n| endpoint | {} |", sizes.join(" | "));
    println!("| --- |{}", " ---: |".repeat(rows.len()));
    for endpoint in endpoints {
        let cells: Vec<String> = rows
            .iter()
            .map(|row| {
                let sent = row.requests_by_endpoint.get(endpoint).copied().unwrap_or_default();
                let least = row.access.requests.get(endpoint).copied().unwrap_or_default();
                format!("{sent} ({least})")
            })
            .collect();
        println!("| `{endpoint}` | {} |", cells.join(" | "));
    }
}

fn cpu_per_record(row: &Row) -> f64 {
    row.cpu.as_secs_f64() * 1e6 / row.access.records as f64
}

fn target(met: bool, text: &str) {
    println!("- {} {text}", if met { "met:" } else { "MISSED:" });
}
