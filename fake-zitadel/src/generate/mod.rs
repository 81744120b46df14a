//! Generated organizations for benchmarks, in ZITADEL's wire format, with what a correct sync prints.
//!
//! This file holds the public face (the sizes, the ground truth, `Dataset::generate`); the
//! generator's work is split by job: `names.rs` (ids, names and roles to draw from),
//! `assignments.rs` (users, projects, roles and user grants), `access.rs` (managers, project
//! grants and the user grants made through them), `power.rs` (service users' tokens and
//! keys, the instance's managers) and `rows.rs` (rows as JSON text).

mod access;
mod assignments;
mod names;
mod power;
mod rows;

use crate::dataset::{
    Dataset, GrantRow, GrantedProject, MemberLevel, MemberRow, ProjectGrantRow, ProjectRow, Token,
    UserRow,
};
use crate::routes::endpoint_of;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use names::*;
use rows::*;

/// The organization `Dataset::generate` fills (the demo's ACME id, so ids look alike).
pub const GENERATED_ORG: &str = "284905129371435012";
/// A second organization: some of its users hold grants in the first one, and nothing else of
/// it (its users, projects, roles and grants) may show up in a sync of the first.
pub const GENERATED_OTHER_ORG: &str = "284905311209451523";
/// The token of a viewer of `GENERATED_ORG`, with every permission a sync needs.
pub const GENERATED_PAT: &str = "bench-pat-acme-viewer";
/// The token of a viewer of the instance (`IAM_OWNER_VIEWER`): every permission of
/// `GENERATED_PAT`, in every organization, and the instance's.
pub const GENERATED_IAM_PAT: &str = "bench-pat-iam-viewer";

/// The size of a generated organization. Everything else (names, states, which users hold
/// which roles) follows deterministically from `seed`.
#[derive(Debug, Clone, Copy)]
pub struct GenerateSpec {
    pub users: usize,
    pub projects: usize,
    pub roles_per_project: usize,
    pub user_grants: usize,
    /// Users of the second organization; about half of them hold grants in the first.
    pub other_org_users: usize,
    /// Managers of the organization itself (projects get one to three each).
    pub org_managers: usize,
    /// Grants of the organization's projects to other organizations (project grants).
    pub project_grants: usize,
    /// The organizations those grants go to, at most 10.
    pub granted_orgs: usize,
    /// Users of each granted organization.
    pub granted_org_users: usize,
    /// User grants the granted organizations make through their project grants.
    pub delegated_grants: usize,
    pub seed: u64,
}

impl GenerateSpec {
    /// The large organization of `make bench`.
    pub const LARGE: GenerateSpec = GenerateSpec {
        users: 100_000,
        projects: 1_000,
        roles_per_project: 10,
        user_grants: 300_000,
        other_org_users: 2_000,
        org_managers: 20,
        project_grants: 200,
        granted_orgs: 10,
        granted_org_users: 600,
        delegated_grants: 30_000,
        seed: 0x5eed,
    };

    /// The same organization with `factor` times fewer users, projects, grants, project
    /// grants, granted organizations and external users (roles per project, org managers
    /// and the users of each granted organization stay as they are).
    pub fn divided(self, factor: usize) -> GenerateSpec {
        GenerateSpec {
            users: self.users / factor,
            projects: self.projects / factor,
            user_grants: self.user_grants / factor,
            other_org_users: self.other_org_users / factor,
            project_grants: self.project_grants / factor,
            granted_orgs: (self.granted_orgs / factor).max(1),
            delegated_grants: self.delegated_grants / factor,
            ..self
        }
    }
}

/// What a correct sync of a generated organization prints with the default flags: first
/// its role assignments (users, projects, project roles, the user grants this organization
/// made and the users of other organizations holding them), then in `access` the whole
/// stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroundTruth {
    /// The summary's counts of the role assignments.
    pub counts: SummaryCounts,
    /// The role assignments' lines: the two resource types (`user`, `project`), every user,
    /// project, project role and user grant record, and one for the summary.
    pub records: u64,
    /// The wrapping sum of `record_hash` over the role assignments' records, so that the
    /// order of the records does not matter but each one's content does.
    pub checksum: u64,
    /// The requests of a walk of the role assignments' lists alone with 1000-row pages:
    /// `orgs/me`, then per list the pages it needs (an empty list needs one request; a full last page needs none more).
    pub min_requests: u64,
    /// What a sync prints and requests with the whole access picture (managers, project
    /// grants, user grants made through them); the fields above cover the role assignments
    /// alone (users, projects, project roles and this organization's user grants).
    pub access: AccessTruth,
    /// What a sync with the instance's token (`GENERATED_IAM_PAT`, an Iam Owner Viewer's)
    /// prints and requests: `access`, and the instance with its manager roles and managers.
    pub instance_access: AccessTruth,
}

/// What a sync that shows the whole access picture prints and requests with the default
/// flags and 1000-row pages, worked out from the generated rows alone.
///
/// The stream: the four resource types (`user`, `project`, `org`, `project_grant`); every
/// user; the org, its manager entitlements (one per role `ListOrgMemberRoles` names or a
/// manager holds) and manager grants (one per manager and role); per project the project,
/// its roles, its manager entitlements and grants, its project grants (each a resource with
/// two manager entitlements and its managers' grants, plus one org grant per delegated key
/// the project has, skipped for an inactive project grant), and its user grants including
/// those made through project grants; the summary. Users of other orgs are printed once as
/// external users (managers, and holders of a printed grant); a granted org is printed once
/// as an external org, before its first org grant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessTruth {
    pub counts: AccessCounts,
    /// Output lines, the summary included.
    pub records: u64,
    /// The minimum requests per endpoint (`endpoint_of`): `orgs/me` and `users/me` once,
    /// each member-role list once, and every list in as many pages as it needs (at least one): users, org
    /// managers, projects, and per project its roles, its managers, its project grants and
    /// its user grants (with `withGrantedQuery`), and per project grant its managers.
    pub requests: BTreeMap<&'static str, u64>,
    /// The sum of `requests`.
    pub min_requests: u64,
    /// The wrapping sum of `record_hash` over the records `GroundTruth::checksum` does not
    /// cover (the org, external orgs, project grants, manager roles, grants of manager roles,
    /// to orgs and made through project grants) and over every external user by id and org
    /// only (an external user's other fields depend on which record named it first).
    pub checksum: u64,
}

/// The counts of the summary of a sync that shows the whole access picture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessCounts {
    pub user: u64,
    pub project: u64,
    /// The org itself.
    pub org: u64,
    /// Granted orgs, printed before their first org grant.
    pub external_org: u64,
    pub project_grant: u64,
    /// Project roles and manager roles of the org, projects and project grants.
    pub entitlement: u64,
    /// Every grant record: of user grants, of manager roles, and to orgs.
    pub grant: u64,
    pub external_user: u64,
    /// Grants of manager roles.
    pub manager_grant: u64,
    /// Grants of a delegated role key to the granted org.
    pub org_grant: u64,
    /// Grant records of user grants made through a project grant.
    pub delegated_grant: u64,
    pub user_grant_without_roles: u64,
    /// Keys of user grants and project grants that the project does not have.
    pub unknown_role_key: u64,
    pub inactive_user_grant: u64,
    pub inactive_project_grant: u64,
    /// Service users with a client secret.
    pub client_secret: u64,
    /// Human managers of the organization whose authentication methods are printed.
    pub user_auth: u64,
    /// Personal Access Tokens and machine keys of service users.
    pub pat: u64,
    pub machine_key: u64,
    /// The instance's record: 1 for a sync with the instance token, else 0.
    pub instance: u64,
}

impl AccessCounts {
    /// The counts with their names in the summary.
    pub fn named(&self) -> [(&'static str, u64); 20] {
        [
            ("client_secret", self.client_secret),
            ("user_auth", self.user_auth),
            ("pat", self.pat),
            ("machine_key", self.machine_key),
            ("instance", self.instance),
            ("user", self.user),
            ("project", self.project),
            ("org", self.org),
            ("external_org", self.external_org),
            ("project_grant", self.project_grant),
            ("entitlement", self.entitlement),
            ("grant", self.grant),
            ("external_user", self.external_user),
            ("manager_grant", self.manager_grant),
            ("org_grant", self.org_grant),
            ("delegated_grant", self.delegated_grant),
            ("user_grant_without_roles", self.user_grant_without_roles),
            ("unknown_role_key", self.unknown_role_key),
            ("inactive_user_grant", self.inactive_user_grant),
            ("inactive_project_grant", self.inactive_project_grant),
        ]
    }
}

/// The counts of the summary record, field for field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SummaryCounts {
    pub user: u64,
    pub project: u64,
    pub entitlement: u64,
    pub grant: u64,
    pub external_user: u64,
    pub user_grant_without_roles: u64,
    pub unknown_role_key: u64,
    pub inactive_user_grant: u64,
    pub grant_without_principal: u64,
}

impl SummaryCounts {
    /// The counts with their names in the summary, in its order.
    pub fn named(&self) -> [(&'static str, u64); 9] {
        [
            ("user", self.user),
            ("project", self.project),
            ("entitlement", self.entitlement),
            ("grant", self.grant),
            ("external_user", self.external_user),
            ("user_grant_without_roles", self.user_grant_without_roles),
            ("unknown_role_key", self.unknown_role_key),
            ("inactive_user_grant", self.inactive_user_grant),
            ("grant_without_principal", self.grant_without_principal),
        ]
    }
}

/// A 64-bit FNV-1a hash of a record's identifying and mapped fields, each part ended by a
/// 0x1f byte so that `["ab", "c"]` and `["a", "bc"]` differ. The checksum of a run is the
/// wrapping sum of these over its records: the parts are, by record,
///
/// - `resource_type`: `"resource_type"`, id
/// - user resource: `"user"`, id, display_name, status, org_id, external (`true`/`false`)
/// - project resource: `"project"`, id, display_name, status
/// - `entitlement`: `"entitlement"`, id, display_name
/// - `grant`: `"grant"`, id, user_grant_id, state
///
/// and for `AccessTruth::checksum` also
///
/// - org resource: `"org"`, id, display_name, external (`true`/`false`)
/// - project_grant resource: `"project_grant"`, id, display_name, status
/// - every external user, whatever else covers it: `"external_user"`, id, org_id
pub fn record_hash(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in part.as_bytes().iter().chain(&[0x1f]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

impl Dataset {
    /// Builds a synthetic organization of `spec`'s size in ZITADEL's exact wire format, plus
    /// the second organization and a token, and what a sync of it must print.
    ///
    /// The rows mix humans and machines, every user state, active and inactive grants with
    /// one to three role keys, a few grants without role keys or naming a role the project
    /// does not have, grants held by users of the second organization, projects without
    /// grants and projects with several pages of them. Managers of the org and its projects
    /// include machines and users of other orgs; project grants go to several granted orgs,
    /// some inactive, some without role keys or with a key the project lacks, and the granted
    /// orgs make user grants through them. Ids are 18 digits like ZITADEL's, and rows are
    /// written as JSON text directly (no parsing), so even the large one takes about a second.
    pub fn generate(spec: GenerateSpec) -> (Dataset, GroundTruth) {
        let mut generator = Generator {
            spec,
            dataset: Dataset::new(),
            truth: GroundTruth::default(),
            external_printed: vec![false; spec.other_org_users],
            projects: Vec::with_capacity(spec.projects),
        };
        generator.run();
        (generator.dataset, generator.truth)
    }
}

struct Generator {
    spec: GenerateSpec,
    dataset: Dataset,
    truth: GroundTruth,
    /// Which users of the other organization a sync has printed so far.
    external_printed: Vec<bool>,
    /// The projects of `OWN`, for the managers and project grants added after them.
    projects: Vec<GeneratedProject>,
}

/// What the access pass needs to know of a generated project of `OWN`.
struct GeneratedProject {
    id: String,
    name: String,
    roles: Vec<String>,
    /// Its user grants made by `OWN` itself.
    user_grants: usize,
}

/// A manager as the ground truth sees it.
struct Manager {
    id: String,
    /// A service user: no authentication methods are read of it.
    machine: bool,
    /// The org the user belongs to.
    org: &'static str,
    roles: &'static [&'static str],
}

/// A manager role as ZITADEL's console shows it: the underscore-separated words title-cased
/// (`ORG_OWNER` is `Org Owner`).
pub fn manager_role_name(role: &str) -> String {
    let words = role.split('_').map(|word| {
        let mut chars = word.chars();
        let first = chars.next().map(|c| c.to_ascii_uppercase());
        first.into_iter().chain(chars.map(|c| c.to_ascii_lowercase())).collect::<String>()
    });
    words.collect::<Vec<_>>().join(" ")
}

/// splitmix64's finalizer: a deterministic, well-spread hash of a counter.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
