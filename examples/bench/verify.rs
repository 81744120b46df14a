//! Verifies a sync's output as it streams: the stream's contract (`fake_zitadel::Contract`),
//! then every record's content against the generator's ground truth.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use fake_zitadel::{
    AccessTruth, Contract, GENERATED_ORG, GENERATED_OTHER_ORG, GroundTruth, RECORD_KINDS, Record,
    manager_role_name, record_hash,
};
use serde::Deserialize;

/// Reads the whole stream (so the child never blocks on a full pipe, whatever it prints),
/// checks it against the ground truth and returns the summary's request count.
pub fn verify(
    mut stdout: impl BufRead,
    truth: &GroundTruth,
    access: &AccessTruth,
) -> Result<u64, String> {
    let mut line = Vec::with_capacity(4096);
    let mut first_error: Option<String> = None;
    let mut stream = Stream::default();
    loop {
        line.clear();
        match stdout.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("reading stdout: {e}")),
        }
        if first_error.is_some() {
            continue;
        }
        stream.lines += 1;
        if let Err(message) = stream.line(&line) {
            let text = String::from_utf8_lossy(&line[..line.len().min(300)]).into_owned();
            first_error = Some(format!("line {}: {message}: {text}", stream.lines));
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    stream.finish(truth, access)
}

/// A credential's `secret`, of which the checks read the user.
#[derive(Deserialize, Default)]
struct Secret<'a> {
    #[serde(borrow, default)]
    identity_id: Cow<'a, str>,
}

/// One output line, with only the fields the checks read; the rest is skipped unparsed.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    secret: Secret<'a>,
    #[serde(borrow, default)]
    resource_type: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    display_name: Cow<'a, str>,
    #[serde(borrow, default)]
    status: Cow<'a, str>,
    #[serde(borrow, default)]
    status_details: Cow<'a, str>,
    #[serde(borrow, default)]
    org_id: Cow<'a, str>,
    #[serde(default)]
    external: Option<bool>,
    #[serde(borrow, default)]
    project_id: Cow<'a, str>,
    #[serde(borrow, default)]
    granted_org_id: Cow<'a, str>,
    #[serde(borrow, default)]
    granted_org_name: Cow<'a, str>,
    #[serde(borrow, default)]
    resource_id: Cow<'a, str>,
    #[serde(borrow, default)]
    slug: Cow<'a, str>,
    #[serde(borrow, default)]
    purpose: Cow<'a, str>,
    #[serde(borrow, default)]
    entitlement_id: Cow<'a, str>,
    #[serde(borrow, default)]
    principal_type: Cow<'a, str>,
    #[serde(borrow, default)]
    principal_id: Cow<'a, str>,
    #[serde(borrow, default)]
    user_grant_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    state: Cow<'a, str>,
    #[serde(borrow, default)]
    project_grant_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    granted_by_org_id: Cow<'a, str>,
    #[serde(borrow, default)]
    user_id: Cow<'a, str>,
    #[serde(borrow, default)]
    auth_methods: Vec<Cow<'a, str>>,
    #[serde(default)]
    counts: BTreeMap<String, u64>,
    #[serde(default)]
    requests: u64,
    /// Of the summary: the parts the token could not read, by name.
    #[serde(borrow, default)]
    omitted: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
    #[serde(borrow, default)]
    synced_by: Option<Cow<'a, str>>,
}

impl Line<'_> {
    /// The fields the stream's contract reads.
    fn record(&self) -> Record<'_> {
        Record {
            kind: &self.kind,
            id: &self.id,
            resource_type: &self.resource_type,
            external: self.external,
            project_id: &self.project_id,
            granted_org_id: &self.granted_org_id,
            status_details: &self.status_details,
            resource_id: &self.resource_id,
            slug: &self.slug,
            purpose: &self.purpose,
            entitlement_id: &self.entitlement_id,
            principal_type: &self.principal_type,
            principal_id: &self.principal_id,
            user_grant_id: self.user_grant_id.as_deref(),
            state: &self.state,
            project_grant_id: self.project_grant_id.as_deref(),
            granted_by_org_id: &self.granted_by_org_id,
            identity_id: &self.secret.identity_id,
            user_id: &self.user_id,
        }
    }
}

/// What the checks of one stream have seen so far.
///
/// Every record must keep the stream's contract, and besides the counts, every record's
/// content is held to the ground truth's two order-independent checksums (`record_hash`):
/// the role assignments (users, projects, project roles, the user grants this organization
/// made and the users of the second organization holding them) add up to
/// `GroundTruth::checksum`, and the rest of the access picture (the org, external orgs,
/// project grants, manager roles and the grants of manager roles, to orgs and made through
/// project grants, every external user by id and org) to `AccessTruth::checksum`.
#[derive(Debug)]
struct Stream {
    lines: u64,
    contract: Contract,
    /// The role assignment records: how many, and the sum of their hashes.
    assignment_records: u64,
    assignment_checksum: u64,
    /// The sum of the hashes of all other records (`AccessTruth::checksum`).
    access_checksum: u64,
    /// External users of the second organization, with their record's hash and whether
    /// they hold a grant this organization made (then they are role assignments too).
    other_org_users: HashMap<String, (u64, bool)>,
    /// Project names by id, for the project grants' display names.
    projects: HashMap<String, String>,
    summary: Option<Summary>,
}

/// What the checks read of the summary.
#[derive(Debug)]
struct Summary {
    counts: BTreeMap<String, u64>,
    requests: u64,
    /// The parts it names as omitted.
    omitted: Vec<String>,
    synced_by: bool,
}

impl Default for Stream {
    fn default() -> Stream {
        Stream {
            lines: 0,
            // The bench syncs every resource type.
            contract: Contract::new(None),
            assignment_records: 0,
            assignment_checksum: 0,
            access_checksum: 0,
            other_org_users: HashMap::new(),
            projects: HashMap::new(),
            summary: None,
        }
    }
}

impl Stream {
    fn line(&mut self, line: &[u8]) -> Result<(), String> {
        if self.summary.is_some() {
            return Err("a line after the summary".into());
        }
        let Some(json) = line.strip_suffix(b"\n") else {
            return Err("the stream ends mid-line".into());
        };
        let record: Line =
            serde_json::from_slice(json).map_err(|e| format!("not a record ({e})"))?;
        if record.kind == "summary" {
            if record.org_id != GENERATED_ORG {
                return Err("the summary names another organization".into());
            }
            self.summary = Some(Summary {
                omitted: record.omitted.keys().map(|part| part.to_string()).collect(),
                synced_by: record.synced_by.is_some_and(|id| !id.is_empty()),
                counts: record.counts,
                requests: record.requests,
            });
            return Ok(());
        }
        let counted = self.contract.record(&record.record())?;
        match (&*record.kind, counted) {
            ("resource_type", _) => self.resource_type(&record),
            ("resource", Some(kind)) => self.resource(&record, kind),
            ("entitlement", _) => self.entitlement(&record),
            ("grant", Some(kind)) => self.grant(&record, kind),
            ("user_auth", _) => {
                self.access(record_hash(&[
                    "user_auth",
                    &record.user_id,
                    &record.auth_methods.join(","),
                ]));
                Ok(())
            }
            (kind, _) => Err(format!("unknown kind {kind:?}")),
        }
    }

    fn resource_type(&mut self, r: &Line) -> Result<(), String> {
        let hash = record_hash(&["resource_type", &r.id]);
        match &*r.id {
            "user" | "project" => self.assignment(hash),
            _ => self.access(hash),
        }
        Ok(())
    }

    fn resource(&mut self, r: &Line, kind: &str) -> Result<(), String> {
        let external = if r.external == Some(true) { "true" } else { "false" };
        match kind {
            "user" | "external_user" => {
                let parts = ["user", &r.id, &r.display_name, &r.status, &r.org_id, external];
                let hash = record_hash(&parts);
                if kind == "user" {
                    self.assignment(hash);
                } else {
                    self.access(record_hash(&["external_user", &r.id, &r.org_id]));
                    if r.org_id == GENERATED_OTHER_ORG {
                        self.other_org_users.insert(r.id.to_string(), (hash, false));
                    }
                }
            }
            "project" => {
                self.assignment(record_hash(&["project", &r.id, &r.display_name, &r.status]));
                self.projects.insert(r.id.to_string(), r.display_name.to_string());
            }
            "org" | "external_org" => {
                self.access(record_hash(&["org", &r.id, &r.display_name, external]));
            }
            "pat" | "machine_key" | "client_secret" => {
                self.access(record_hash(&[kind, &r.id, &r.secret.identity_id]));
            }
            "instance" => {
                self.access(record_hash(&["instance", &r.id, &r.display_name, &r.status]));
            }
            _ => {
                let project_name = &self.projects[&*r.project_id];
                if r.display_name != format!("{project_name} for {}", r.granted_org_name) {
                    return Err("not named \"<project> for <granted org>\"".into());
                }
                self.access(record_hash(&["project_grant", &r.id, &r.display_name, &r.status]));
            }
        }
        Ok(())
    }

    fn entitlement(&mut self, r: &Line) -> Result<(), String> {
        let manager_role = match (&*r.resource_type, r.slug.strip_prefix("manager:")) {
            ("project", None) => None,
            ("project", Some(role)) => Some(role),
            _ => Some(&*r.slug),
        };
        let hash = record_hash(&["entitlement", &r.id, &r.display_name]);
        match manager_role {
            None => self.assignment(hash),
            Some(role)
                if r.purpose != "PERMISSION" || r.display_name != manager_role_name(role) =>
            {
                return Err(format!(
                    "a manager role not shown as {:?} with purpose PERMISSION",
                    manager_role_name(role)
                ));
            }
            Some(_) => self.access(hash),
        }
        Ok(())
    }

    fn grant(&mut self, r: &Line, kind: &str) -> Result<(), String> {
        let user_grant_id = r.user_grant_id.as_deref().unwrap_or_default();
        let hash = record_hash(&["grant", &r.id, user_grant_id, &r.state]);
        if kind == "grant" {
            self.assignment(hash);
            if let Some((_, holds)) = self.other_org_users.get_mut(&*r.principal_id) {
                *holds = true;
            }
        } else {
            self.access(hash);
        }
        Ok(())
    }

    fn assignment(&mut self, hash: u64) {
        self.assignment_checksum = self.assignment_checksum.wrapping_add(hash);
        self.assignment_records += 1;
    }

    fn access(&mut self, hash: u64) {
        self.access_checksum = self.access_checksum.wrapping_add(hash);
    }

    /// Compares what the stream held with the ground truth; returns the summary's request
    /// count.
    fn finish(mut self, truth: &GroundTruth, access: &AccessTruth) -> Result<u64, String> {
        let Some(summary) = self.summary.take() else {
            return Err("no summary line: the stream is incomplete".into());
        };
        let (summary_counts, requests) = (summary.counts, summary.requests);
        for (hash, holds) in std::mem::take(&mut self.other_org_users).into_values() {
            if holds {
                self.assignment(hash);
            }
        }
        let mut problems = Vec::new();
        // The counts of the summary must be those of the records (the contract) and those
        // of the ground truth.
        if let Err(problem) = self.contract.finish(|name| summary_counts.get(name).copied()) {
            problems.push(problem);
        }
        if self.lines != access.records {
            problems.push(format!("{} lines, expected {}", self.lines, access.records));
        }
        // `GroundTruth::records` counts the summary too.
        if self.assignment_records + 1 != truth.records
            || self.assignment_checksum != truth.checksum
        {
            problems.push(format!(
                "the records of users, projects, project roles and this organization's user grants: {} with checksum {:016x}, expected {} with {:016x}",
                self.assignment_records,
                self.assignment_checksum,
                truth.records - 1,
                truth.checksum
            ));
        }
        if self.access_checksum != access.checksum {
            problems.push(format!(
                "the org, external orgs and users, project grants, manager roles and the grants of manager roles, to orgs and made through project grants: checksum {:016x}, expected {:016x}",
                self.access_checksum, access.checksum
            ));
        }
        problems.extend(summary_problems(&summary_counts, truth, access));
        // The organization's token cannot read the instance, and the summary says so; the
        // instance's token can. Either token's own user is known.
        let omitted: &[&str] = if access.counts.instance == 0 { &["instance"] } else { &[] };
        if summary.omitted != omitted {
            problems.push(format!("the summary omits {:?}, expected {omitted:?}", summary.omitted));
        }
        if !summary.synced_by {
            problems.push("the summary names no synced_by".into());
        }
        if problems.is_empty() { Ok(requests) } else { Err(problems.join("; ")) }
    }
}

/// Compares the summary's counts with the ground truth's: every count it should have, with
/// its value, and no other.
fn summary_problems(
    summary_counts: &BTreeMap<String, u64>,
    truth: &GroundTruth,
    access: &AccessTruth,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expected: Vec<(&str, u64)> = access.counts.named().to_vec();
    expected.push(("grant_without_principal", truth.counts.grant_without_principal));
    // Every credential's user is printed before it, and every manager's methods are read.
    for none in ["secret_without_identity", "auth_methods_unknown"] {
        expected.push((none, 0));
    }
    for &(name, count) in &expected {
        if summary_counts.get(name) != Some(&count) {
            let kind = if RECORD_KINDS.contains(&name) { "records" } else { "rows skipped" };
            problems.push(format!(
                "summary counts {name} = {:?}, expected {count} ({kind})",
                summary_counts.get(name)
            ));
        }
    }
    let unexpected: Vec<&String> = summary_counts
        .keys()
        .filter(|name| !expected.iter().any(|(known, _)| known == name))
        .collect();
    if !unexpected.is_empty() {
        problems.push(format!("the summary also counts {unexpected:?}"));
    }
    problems
}
