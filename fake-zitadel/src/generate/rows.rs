//! Rows of a generated organization written as ZITADEL's JSON text, and how many of each.

use super::*;

/// Writes a user row like `ListUsers` returns it into `out`.
pub(super) fn user_json(out: &mut String, person: &Person, org: OrgNames, i: usize) {
    let hash = person.hash;
    out.clear();
    let _ = write!(
        out,
        "{{\"id\":\"{}\",\"details\":{{\"sequence\":\"{}\",\"creationDate\":\"{}\",\"changeDate\":\"{}\",\
         \"resourceOwner\":\"{}\"}},\"state\":\"{}\",\"userName\":\"{}\",\"loginNames\":[\"{}@{}\",\"{}\"],\
         \"preferredLoginName\":\"{}\"",
        person.id,
        hash % 30 + 1,
        timestamp(hash),
        timestamp(hash >> 5),
        org.id,
        person.state,
        person.user_name,
        person.user_name,
        org.zitadel_domain,
        person.preferred_login_name,
        person.preferred_login_name,
    );
    if person.machine {
        let _ = write!(out, ",\"machine\":{{\"name\":\"{}\"", person.machine_name);
        if !hash.is_multiple_of(3) {
            out.push_str(
                ",\"description\":\"Reads users and grants for the nightly access review\"",
            );
        }
        if hash.is_multiple_of(2) {
            out.push_str(",\"accessTokenType\":\"ACCESS_TOKEN_TYPE_JWT\"");
        } else {
            out.push_str(",\"hasSecret\":true");
        }
        out.push_str("}}");
        return;
    }
    let _ = write!(
        out,
        ",\"human\":{{\"profile\":{{\"firstName\":\"{}\",\"lastName\":\"{}\"",
        person.first_name, person.last_name
    );
    if hash.is_multiple_of(4) {
        let _ = write!(out, ",\"nickName\":\"{}\"", &person.user_name[..3]);
    }
    if !person.display_name.is_empty() {
        let _ = write!(out, ",\"displayName\":\"{}\"", person.display_name);
    }
    let language = ["en", "de", "fr", "und", "ja"][(hash >> 44) as usize % 5];
    let _ = write!(out, ",\"preferredLanguage\":\"{language}\"");
    if hash % 5 < 3 {
        let gender = ["GENDER_FEMALE", "GENDER_MALE", "GENDER_DIVERSE"][(hash >> 48) as usize % 3];
        let _ = write!(out, ",\"gender\":\"{gender}\"");
    }
    if hash % 7 < 2 {
        let _ = write!(
            out,
            ",\"avatarUrl\":\"https://{}/assets/v1/{}/users/{}/avatar?v={}\"",
            org.zitadel_domain,
            org.id,
            person.id,
            i % 9 + 1
        );
    }
    let _ = write!(out, "}},\"email\":{{\"email\":\"{}\"", person.email);
    if hash % 10 < 8 {
        out.push_str(",\"isEmailVerified\":true");
    }
    out.push_str("},\"phone\":{");
    if hash.is_multiple_of(3) {
        let _ = write!(out, "\"phone\":\"+4179{:07}\",\"isPhoneVerified\":true", hash % 10_000_000);
    }
    out.push('}');
    if hash.is_multiple_of(2) {
        let _ = write!(out, ",\"passwordChanged\":\"{}\"", timestamp(hash >> 9));
    }
    out.push_str("}}");
}

/// Writes a user grant row like `ListUserGrants` returns it into `out`.
#[allow(clippy::too_many_arguments)]
pub(super) fn grant_json(
    out: &mut String,
    id: &str,
    keys: &[&str],
    inactive: bool,
    person: &Person,
    person_org: OrgNames,
    owner: OrgNames,
    project_id: &str,
    project_name: &str,
    project_grant_id: &str,
    hash: u64,
) {
    out.clear();
    let _ = write!(
        out,
        "{{\"id\":\"{id}\",\"details\":{{\"sequence\":\"{}\",\"creationDate\":\"{}\",\"changeDate\":\"{}\",\
         \"resourceOwner\":\"{}\"}}",
        hash % 4 + 1,
        timestamp(hash),
        timestamp(hash >> 3),
        owner.id
    );
    if !keys.is_empty() {
        out.push_str(",\"roleKeys\":[");
        for (n, key) in keys.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            let _ = write!(out, "\"{key}\"");
        }
        out.push(']');
    }
    let state = if inactive { "USER_GRANT_STATE_INACTIVE" } else { "USER_GRANT_STATE_ACTIVE" };
    let _ = write!(
        out,
        ",\"state\":\"{state}\",\"userId\":\"{}\",\"userName\":\"{}\"",
        person.id, person.user_name
    );
    for (key, value) in [
        ("firstName", person.first_name),
        ("lastName", person.last_name),
        ("email", person.email.as_str()),
        ("displayName", person.display_name.as_str()),
    ] {
        if !value.is_empty() {
            let _ = write!(out, ",\"{key}\":\"{value}\"");
        }
    }
    let _ = write!(
        out,
        ",\"orgId\":\"{}\",\"orgName\":\"{}\",\"orgDomain\":\"{}\",\"projectId\":\"{project_id}\",\
         \"projectName\":\"{project_name}\"",
        owner.id, owner.name, owner.domain,
    );
    // Only grants made through a project grant name it (an empty string is omitted).
    if !project_grant_id.is_empty() {
        let _ = write!(out, ",\"projectGrantId\":\"{project_grant_id}\"");
    }
    let _ = write!(
        out,
        ",\"preferredLoginName\":\"{}\",\"userType\":\"{}\",\
         \"grantedOrgId\":\"{}\",\"grantedOrgName\":\"{}\",\"grantedOrgDomain\":\"{}\"}}",
        person.preferred_login_name,
        if person.machine { "TYPE_MACHINE" } else { "TYPE_HUMAN" },
        person_org.id,
        person_org.name,
        person_org.domain,
    );
}

/// The number of user grants of each project: a long tail (most projects have a few hundred,
/// some well over a thousand, so several pages), every 97th project none, summing to
/// `spec.user_grants` with no project above the number of distinct users.
pub(super) fn grant_counts(spec: &GenerateSpec) -> Vec<usize> {
    let pool = spec.users + spec.other_org_users;
    let weights: Vec<f64> = (0..spec.projects)
        .map(|p| {
            if p % 97 == 5 {
                return 0.0;
            }
            let unit =
                (mix(spec.seed ^ 0xbb67 ^ ((p as u64) << 12)) >> 11) as f64 / (1u64 << 53) as f64;
            0.2 + 8.0 * unit.powi(6)
        })
        .collect();
    spread(spec.user_grants, &weights, pool)
}

/// The number of user grants made through each of `grants` project grants: a tail of a few
/// large ones, every 13th none, each at most the users of its granted org (one grant per user
/// and project grant, as ZITADEL's unique constraint has it).
pub(super) fn delegated_counts(spec: &GenerateSpec, grants: usize) -> Vec<usize> {
    let weights: Vec<f64> = (0..grants)
        .map(|k| {
            if k % 13 == 6 {
                return 0.0;
            }
            let unit =
                (mix(spec.seed ^ 0x7f4a ^ ((k as u64) << 12)) >> 11) as f64 / (1u64 << 53) as f64;
            0.5 + 3.0 * unit.powi(4)
        })
        .collect();
    spread(spec.delegated_grants, &weights, spec.granted_org_users)
}

/// Splits `total` in proportion to `weights`, each share at most `cap`; a zero weight gets
/// nothing. When every share is full, the shares sum to less than `total`.
pub(super) fn spread(total: usize, weights: &[f64], cap: usize) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let mut counts: Vec<usize> =
        weights.iter().map(|w| ((total as f64 * w / sum) as usize).min(cap)).collect();
    let mut missing = total.saturating_sub(counts.iter().sum());
    'fill: while missing > 0 {
        let before = missing;
        for (count, weight) in counts.iter_mut().zip(weights) {
            if missing == 0 {
                break 'fill;
            }
            if *weight > 0.0 && *count < cap {
                *count += 1;
                missing -= 1;
            }
        }
        if missing == before {
            break; // Every share is full: less than asked for.
        }
    }
    counts
}

/// The `details` (an `ObjectDetails`) of a membership or project grant owned by `owner`.
pub(super) fn object_details(hash: u64, owner: &str) -> String {
    format!(
        "{{\"sequence\":\"{}\",\"creationDate\":\"{}\",\"changeDate\":\"{}\",\"resourceOwner\":\"{owner}\"}}",
        hash % 9 + 1,
        timestamp(hash),
        timestamp(hash >> 5)
    )
}

/// Requests to walk a list of `rows` rows with full pages (an empty list takes one).
pub(super) fn pages(rows: usize) -> u64 {
    (rows as u64).div_ceil(GENERATED_PAGE).max(1)
}

/// An RFC 3339 timestamp in 2023 to 2025 with 0, 3 or 6 fractional digits, like ZITADEL's.
pub(super) fn timestamp(hash: u64) -> String {
    let year = 2023 + hash % 3;
    let month = (hash >> 2) % 12 + 1;
    let day = (hash >> 6) % 28 + 1;
    let hour = (hash >> 11) % 24;
    let minute = (hash >> 16) % 60;
    let second = (hash >> 22) % 60;
    let date = format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
    match (hash >> 28) % 3 {
        0 => format!("{date}Z"),
        1 => format!("{date}.{:03}Z", (hash >> 32) % 1000),
        _ => format!("{date}.{:06}Z", (hash >> 32) % 1_000_000),
    }
}
