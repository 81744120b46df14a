//! Generated organizations for benchmarks, in ZITADEL's wire format, with what a correct sync prints.

use crate::dataset::{
    Dataset, GrantRow, GrantedProject, MemberLevel, MemberRow, ProjectGrantRow, ProjectRow, Token,
    UserRow,
};
use crate::routes::endpoint_of;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

/// The organization `Dataset::generate` fills (the demo's ACME id, so ids look alike).
pub const GENERATED_ORG: &str = "284905129371435012";
/// A second organization: some of its users hold grants in the first one, and nothing else of
/// it (its users, projects, roles and grants) may show up in a sync of the first.
pub const GENERATED_OTHER_ORG: &str = "284905311209451523";
/// The token of a viewer of `GENERATED_ORG`, with every permission a sync needs.
pub const GENERATED_PAT: &str = "bench-pat-acme-viewer";

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
    /// The minimum requests per endpoint (`endpoint_of`): `orgs/me` once, each member-role
    /// list once, and every list in as many pages as it needs (at least one): users, org
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
}

impl AccessCounts {
    /// The counts with their names in the summary.
    pub fn named(&self) -> [(&'static str, u64); 15] {
        [
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

// Id ranges: the base plus a multiple of `ID_STRIDE` stays 18 digits and unique across kinds.
const OTHER_USER_BASE: u64 = 284_905_400_000_000_000;
const OTHER_PROJECT_BASE: u64 = 284_905_500_000_000_000;
const OTHER_GRANT_BASE: u64 = 284_905_600_000_000_000;
const USER_BASE: u64 = 284_906_000_000_000_000;
const PROJECT_BASE: u64 = 284_906_400_000_000_000;
const GRANT_BASE: u64 = 284_915_000_000_000_000;
const GRANTED_USER_BASE: u64 = 284_905_800_000_000_000;
/// Each granted org's users get ids from a span of this many strides.
const GRANTED_USER_SPAN: u64 = 10_000;
const PROJECT_GRANT_BASE: u64 = 284_917_000_000_000_000;
const DELEGATED_GRANT_BASE: u64 = 284_918_000_000_000_000;
const ID_STRIDE: u64 = 4_099;
/// The page size the walk is measured against: the largest ZITADEL accepts.
const GENERATED_PAGE: u64 = 1000;
/// Every 997th user grant also names this role, which no project has.
const UNKNOWN_ROLE: &str = "deprecated-role";

/// Given names (display form, login form); none needs escaping in JSON.
const FIRST_NAMES: &[(&str, &str)] = &[
    ("Alice", "alice"),
    ("Bob", "bob"),
    ("Carol", "carol"),
    ("Dave", "dave"),
    ("Erin", "erin"),
    ("Frank", "frank"),
    ("Grace", "grace"),
    ("Heidi", "heidi"),
    ("Ivan", "ivan"),
    ("Judy", "judy"),
    ("Mallory", "mallory"),
    ("Niaj", "niaj"),
    ("Olivia", "olivia"),
    ("Peggy", "peggy"),
    ("Rupert", "rupert"),
    ("Sybil", "sybil"),
    ("Trent", "trent"),
    ("Victor", "victor"),
    ("Walter", "walter"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Björn", "bjorn"),
    ("Łukasz", "lukasz"),
    ("Søren", "soren"),
    ("Renée", "renee"),
    ("Ángel", "angel"),
    ("Yuki", "yuki"),
    ("Priya", "priya"),
];
const LAST_NAMES: &[(&str, &str)] = &[
    ("Anderson", "anderson"),
    ("Brown", "brown"),
    ("Clark", "clark"),
    ("Davis", "davis"),
    ("Evans", "evans"),
    ("Fischer", "fischer"),
    ("García", "garcia"),
    ("Hill", "hill"),
    ("Ito", "ito"),
    ("Johnson", "johnson"),
    ("Müller", "mueller"),
    ("Nguyễn", "nguyen"),
    ("O'Brien", "obrien"),
    ("Petrović", "petrovic"),
    ("Schmidt", "schmidt"),
    ("Tanaka", "tanaka"),
    ("Van der Berg", "vanderberg"),
    ("Wójcik", "wojcik"),
    ("Yilmaz", "yilmaz"),
    ("Zimmermann", "zimmermann"),
];
const PROJECT_NAMES: &[&str] = &[
    "Customer Portal",
    "Internal Tools",
    "Legacy Billing",
    "Data Platform",
    "Mobile App",
    "Partner API",
    "Support Desk",
    "Analytics",
];
/// Role keys, display names (empty: none, so the key is shown) and groups (empty: none).
const ROLES: &[(&str, &str, &str)] = &[
    ("admin", "Administrator", "Admins"),
    ("editor", "Editor", "Admins"),
    ("viewer", "Viewer", ""),
    ("support", "", ""),
    ("operator", "Operator", "Ops"),
    ("auditor", "Auditor", "Compliance"),
    ("developer", "Developer", ""),
    ("billing.read", "Billing reader", "Finance"),
    ("billing.write", "Billing writer", "Finance"),
    ("owner", "Owner", "Admins"),
];

/// One user as its own row and its grants describe it.
struct Person {
    id: String,
    user_name: String,
    /// Empty for machines.
    first_name: &'static str,
    last_name: &'static str,
    /// The profile's display name; empty for some humans (then "first last" is shown).
    display_name: String,
    /// Empty for machines.
    email: String,
    preferred_login_name: String,
    machine: bool,
    machine_name: String,
    state: &'static str,
    hash: u64,
}

impl Person {
    /// The display name a sync prints, by the connector's fallback order.
    fn shown_name(&self) -> String {
        if self.machine {
            self.machine_name.clone()
        } else if !self.display_name.is_empty() {
            self.display_name.clone()
        } else {
            format!("{} {}", self.first_name, self.last_name)
        }
    }
}

/// Which organization a person or row belongs to.
#[derive(Clone, Copy)]
struct OrgNames {
    id: &'static str,
    name: &'static str,
    domain: &'static str,
    /// The organization's ZITADEL-generated domain, for the first login name.
    zitadel_domain: &'static str,
    /// The id of its first user; the others follow `ID_STRIDE` apart.
    user_base: u64,
    /// Mixed into each user's hash, so that the orgs' users differ.
    salt: u64,
    /// Whether some of its users are machines.
    machines: bool,
}

const OWN: OrgNames = OrgNames {
    id: GENERATED_ORG,
    name: "ACME Corporation",
    domain: "acme.example.com",
    zitadel_domain: "acme-corp.zitadel.cloud",
    user_base: USER_BASE,
    salt: 1,
    machines: true,
};
const OTHER: OrgNames = OrgNames {
    id: GENERATED_OTHER_ORG,
    name: "Globex",
    domain: "globex.example.com",
    zitadel_domain: "globex.zitadel.cloud",
    user_base: OTHER_USER_BASE,
    salt: 0,
    machines: false,
};

/// The orgs `OWN`'s projects are granted to (`GenerateSpec::granted_orgs` of them).
const GRANTED_ORGS: [OrgNames; 10] = [
    granted(0, "284905700000000000", "Initech", "initech.example.com", "initech.zitadel.cloud"),
    granted(
        1,
        "284905704099012297",
        "Umbrella Corporation",
        "umbrella.example.com",
        "umbrella.zitadel.cloud",
    ),
    granted(2, "284905708198024594", "Hooli", "hooli.example.com", "hooli.zitadel.cloud"),
    granted(
        3,
        "284905712297036891",
        "Stark Industries",
        "stark.example.com",
        "stark.zitadel.cloud",
    ),
    granted(
        4,
        "284905716396049188",
        "Wayne Enterprises",
        "wayne.example.com",
        "wayne.zitadel.cloud",
    ),
    granted(
        5,
        "284905720495061485",
        "Wonka Industries",
        "wonka.example.com",
        "wonka.zitadel.cloud",
    ),
    granted(
        6,
        "284905724594073782",
        "Tyrell Corporation",
        "tyrell.example.com",
        "tyrell.zitadel.cloud",
    ),
    granted(
        7,
        "284905728693086079",
        "Cyberdyne Systems",
        "cyberdyne.example.com",
        "cyberdyne.zitadel.cloud",
    ),
    granted(
        8,
        "284905732792098376",
        "Soylent Corporation",
        "soylent.example.com",
        "soylent.zitadel.cloud",
    ),
    granted(
        9,
        "284905736891110673",
        "Massive Dynamic",
        "massive-dynamic.example.com",
        "massive-dynamic.zitadel.cloud",
    ),
];

/// The `index`th granted org, with its users' ids after those of the granted orgs before it.
const fn granted(
    index: u64,
    id: &'static str,
    name: &'static str,
    domain: &'static str,
    zitadel_domain: &'static str,
) -> OrgNames {
    OrgNames {
        id,
        name,
        domain,
        zitadel_domain,
        user_base: GRANTED_USER_BASE + index * GRANTED_USER_SPAN * ID_STRIDE,
        salt: 2 + index,
        machines: true,
    }
}

/// The roles managers hold, taken in turn: org managers, project managers, grant managers.
const ORG_MANAGER_ROLES: &[&[&str]] = &[
    &["ORG_OWNER"],
    &["ORG_OWNER_VIEWER"],
    &["ORG_USER_MANAGER", "ORG_USER_PERMISSION_EDITOR"],
    &["ORG_PROJECT_PERMISSION_EDITOR"],
    &["ORG_SETTINGS_MANAGER"],
];
const PROJECT_MANAGER_ROLES: &[&[&str]] =
    &[&["PROJECT_OWNER"], &["PROJECT_OWNER_VIEWER"], &["PROJECT_OWNER", "PROJECT_OWNER_VIEWER"]];
const GRANT_MANAGER_ROLES: &[&[&str]] =
    &[&["PROJECT_GRANT_OWNER"], &["PROJECT_GRANT_OWNER_VIEWER"]];

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
    /// The org the user belongs to.
    org: &'static str,
    roles: &'static [&'static str],
}

/// What a sync that shows the whole access picture prints and requests, built up as the
/// generator goes.
#[derive(Default)]
struct AccessTally {
    counts: AccessCounts,
    /// Users of other orgs the stream prints, each once, with their org.
    external_users: HashMap<String, &'static str>,
    /// Granted orgs the stream prints, each once, before their first org grant.
    external_orgs: HashSet<&'static str>,
    requests: BTreeMap<&'static str, u64>,
    /// `AccessTruth::checksum` so far, external users not yet included.
    checksum: u64,
}

impl AccessTally {
    /// Adds `n` requests to the endpoint of `path`.
    fn request(&mut self, path: &str, n: u64) {
        let endpoint = endpoint_of(path).expect("the fake serves every path a sync requests");
        *self.requests.entry(endpoint).or_default() += n;
    }

    /// Counts one list of managers of the resource `resource_id`: an entitlement per role
    /// the level's role list names or a manager holds, a grant per manager and role, and
    /// managers of other orgs as external users.
    fn managers(&mut self, level: MemberLevel, resource_id: &str, managers: &[Manager]) {
        let (resource_type, slug_prefix) = match level {
            MemberLevel::Org => ("org", ""),
            MemberLevel::Project => ("project", "manager:"),
            MemberLevel::ProjectGrant => ("project_grant", ""),
        };
        let entitlement_id =
            |role: &str| format!("{resource_type}:{resource_id}:{slug_prefix}{role}");
        let mut roles = level.roles(false);
        for manager in managers {
            for role in manager.roles {
                if !roles.contains(role) {
                    roles.push(role);
                }
                let id = format!("{}:user:{}", entitlement_id(role), manager.id);
                self.record(&["grant", &id, "", ""]);
            }
            let grants = manager.roles.len() as u64;
            self.counts.manager_grant += grants;
            self.counts.grant += grants;
            if manager.org != OWN.id {
                self.external_users.insert(manager.id.clone(), manager.org);
            }
        }
        for role in &roles {
            self.record(&["entitlement", &entitlement_id(role), &manager_role_name(role)]);
        }
        self.counts.entitlement += roles.len() as u64;
    }

    /// Adds a record to `checksum`.
    fn record(&mut self, parts: &[&str]) {
        self.checksum = self.checksum.wrapping_add(record_hash(parts));
    }
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

impl Generator {
    fn run(&mut self) {
        self.truth.min_requests = 1; // orgs/me
        self.truth.records = 1; // the summary; `checksum` counts every other record
        for id in ["user", "project"] {
            self.checksum(&["resource_type", id]);
        }
        for org in [OWN, OTHER] {
            let org_json = format!(
                "{{\"id\":\"{}\",\"details\":{{\"sequence\":\"6\",\"creationDate\":\"2024-11-05T09:02:47.719245Z\",\
                 \"changeDate\":\"2025-02-11T08:00:15.360Z\",\"resourceOwner\":\"{}\"}},\"state\":\"ORG_STATE_ACTIVE\",\
                 \"name\":\"{}\",\"primaryDomain\":\"{}\"}}",
                org.id, org.id, org.name, org.domain
            );
            self.dataset.add_org(&org_json).expect("generated orgs are valid and distinct");
        }
        self.dataset.add_token(Token::org_viewer(GENERATED_PAT, GENERATED_ORG));
        self.users();
        self.projects();
        self.other_org();
        self.access();
    }

    fn users(&mut self) {
        let mut json = String::new();
        for i in 0..self.spec.users {
            let person = self.person(OWN, i);
            user_json(&mut json, &person, OWN, i);
            let row = UserRow {
                id: person.id.clone(),
                creation_date: timestamp(person.hash),
                user_name: person.user_name.clone(),
                json: json.clone(),
            };
            self.dataset.add_user_row(GENERATED_ORG, row).expect("the org exists");
            let status = match person.state {
                "USER_STATE_INACTIVE" | "USER_STATE_SUSPEND" => "DISABLED",
                _ => "ENABLED",
            };
            self.checksum(&[
                "user",
                &person.id,
                &person.shown_name(),
                status,
                GENERATED_ORG,
                "false",
            ]);
            self.truth.counts.user += 1;
        }
        self.truth.min_requests += pages(self.spec.users);
    }

    fn projects(&mut self) {
        let sizes = grant_counts(&self.spec);
        let pool = self.spec.users + self.spec.other_org_users;
        let stride = [7919, 7927, 7933, 7937, 7949]
            .into_iter()
            .find(|prime| !pool.is_multiple_of(*prime))
            .expect("at most four of five primes divide the pool");
        let mut next_grant = 0;
        let mut grant = String::new();
        for (p, &size) in sizes.iter().enumerate() {
            let hash = mix(self.spec.seed ^ 0x9e37 ^ ((p as u64) << 20));
            let project_id = (PROJECT_BASE + p as u64 * ID_STRIDE).to_string();
            let name = format!("{} {}", PROJECT_NAMES[p % PROJECT_NAMES.len()], p + 1);
            let active = p % 20 != 19;
            self.add_project(OWN, &project_id, &name, active, hash);
            self.checksum(&[
                "project",
                &project_id,
                &name,
                if active { "ENABLED" } else { "DISABLED" },
            ]);
            self.truth.counts.project += 1;
            let roles = self.add_roles(OWN, &project_id, self.spec.roles_per_project, true);

            let start = (hash % pool as u64) as usize;
            for k in 0..size {
                let principal = (start + k * stride) % pool;
                let g = next_grant;
                next_grant += 1;
                let hash = mix(self.spec.seed ^ 0x6a09 ^ ((g as u64) << 24));
                let (person, org) = if principal < self.spec.users {
                    (self.person(OWN, principal), OWN)
                } else {
                    (self.person(OTHER, principal - self.spec.users), OTHER)
                };
                let mut keys: Vec<&str> = Vec::new();
                if g % 1009 != 17 {
                    let wanted = match hash % 10 {
                        0..=5 => 1,
                        6..=8 => 2,
                        _ => 3,
                    }
                    .min(roles.len());
                    let mut pick = hash >> 8;
                    while keys.len() < wanted {
                        let key = roles[(pick % roles.len() as u64) as usize].as_str();
                        pick = mix(pick);
                        if !keys.contains(&key) {
                            keys.push(key);
                        }
                    }
                    if g % 997 == 13 {
                        keys.push(UNKNOWN_ROLE);
                    }
                }
                let inactive = (hash >> 40) % 100 < 3;
                let grant_id = (GRANT_BASE + g as u64 * ID_STRIDE).to_string();
                grant_json(
                    &mut grant,
                    &grant_id,
                    &keys,
                    inactive,
                    &person,
                    org,
                    OWN,
                    &project_id,
                    &name,
                    "",
                    hash,
                );
                let row = GrantRow {
                    id: grant_id.clone(),
                    project_id: project_id.clone(),
                    user_id: person.id.clone(),
                    project_grant_id: String::new(),
                    json: grant.clone(),
                };
                self.dataset.add_user_grant_row(GENERATED_ORG, row).expect("the org exists");
                self.expect_grant(
                    &grant_id,
                    &keys,
                    inactive,
                    &person,
                    principal,
                    &project_id,
                    &roles,
                );
            }
            self.truth.min_requests += pages(roles.len()) + pages(size);
            self.projects.push(GeneratedProject { id: project_id, name, roles, user_grants: size });
        }
        self.truth.min_requests += pages(sizes.len());
    }

    /// Adds to the ground truth what the sync prints for one user grant.
    #[allow(clippy::too_many_arguments)]
    fn expect_grant(
        &mut self,
        grant_id: &str,
        keys: &[&str],
        inactive: bool,
        person: &Person,
        principal: usize,
        project_id: &str,
        roles: &[String],
    ) {
        let counts = &mut self.truth.counts;
        if inactive {
            counts.inactive_user_grant += 1;
            return;
        }
        if keys.is_empty() {
            counts.user_grant_without_roles += 1;
            return;
        }
        for key in keys {
            if !roles.iter().any(|role| role == key) {
                self.truth.counts.unknown_role_key += 1;
                continue;
            }
            if let Some(j) = principal.checked_sub(self.spec.users)
                && !self.external_printed[j]
            {
                self.external_printed[j] = true;
                self.truth.counts.external_user += 1;
                self.checksum(&[
                    "user",
                    &person.id,
                    &person.shown_name(),
                    "UNSPECIFIED",
                    GENERATED_OTHER_ORG,
                    "true",
                ]);
            }
            let id = format!("project:{project_id}:{key}:user:{}", person.id);
            self.checksum(&["grant", &id, grant_id, "USER_GRANT_STATE_ACTIVE"]);
            self.truth.counts.grant += 1;
        }
    }

    /// The second organization: its users (the external ones) with rows of their own, plus
    /// projects, roles and grants, none of which a sync of the first may print.
    fn other_org(&mut self) {
        let mut json = String::new();
        for j in 0..self.spec.other_org_users {
            let person = self.person(OTHER, j);
            user_json(&mut json, &person, OTHER, j);
            let row = UserRow {
                id: person.id.clone(),
                creation_date: timestamp(person.hash),
                user_name: person.user_name.clone(),
                json: json.clone(),
            };
            self.dataset.add_user_row(GENERATED_OTHER_ORG, row).expect("the org exists");
        }
        let mut grant = String::new();
        for (p, project_name) in PROJECT_NAMES.iter().enumerate().take(3) {
            let project_id = (OTHER_PROJECT_BASE + p as u64 * ID_STRIDE).to_string();
            let name = format!("Globex {project_name}");
            self.add_project(OTHER, &project_id, &name, true, mix(p as u64));
            let roles = self.add_roles(OTHER, &project_id, 3, false);
            for j in (p..self.spec.other_org_users).step_by(3) {
                let person = self.person(OTHER, j);
                let grant_id = (OTHER_GRANT_BASE + j as u64 * ID_STRIDE).to_string();
                let keys = [roles[j % roles.len()].as_str()];
                let hash = mix(j as u64);
                grant_json(
                    &mut grant,
                    &grant_id,
                    &keys,
                    false,
                    &person,
                    OTHER,
                    OTHER,
                    &project_id,
                    &name,
                    "",
                    hash,
                );
                let row = GrantRow {
                    id: grant_id,
                    project_id: project_id.clone(),
                    user_id: person.id.clone(),
                    project_grant_id: String::new(),
                    json: grant.clone(),
                };
                self.dataset.add_user_grant_row(GENERATED_OTHER_ORG, row).expect("the org exists");
            }
        }
    }

    fn add_project(&mut self, org: OrgNames, id: &str, name: &str, active: bool, hash: u64) {
        let state = if active { "PROJECT_STATE_ACTIVE" } else { "PROJECT_STATE_INACTIVE" };
        let mut json = format!(
            "{{\"id\":\"{id}\",\"details\":{{\"sequence\":\"{}\",\"creationDate\":\"{}\",\"changeDate\":\"{}\",\
             \"resourceOwner\":\"{}\"}},\"name\":\"{name}\",\"state\":\"{state}\"",
            hash % 40 + 1,
            timestamp(hash),
            timestamp(hash >> 7),
            org.id
        );
        if hash.is_multiple_of(3) {
            json.push_str(",\"projectRoleAssertion\":true");
        }
        if hash.is_multiple_of(5) {
            json.push_str(",\"hasProjectCheck\":true");
        }
        json.push('}');
        let org = self.dataset.org_mut(org.id).expect("the org exists");
        org.projects.push(ProjectRow { id: id.to_string(), json });
    }

    /// Adds `count` roles to a project and returns their keys.
    fn add_roles(
        &mut self,
        org: OrgNames,
        project_id: &str,
        count: usize,
        expect: bool,
    ) -> Vec<String> {
        let mut keys = Vec::with_capacity(count);
        let mut rows = Vec::with_capacity(count);
        for r in 0..count {
            let (key, display_name, group) = match ROLES.get(r) {
                Some(&(key, display_name, group)) => (key.to_string(), display_name, group),
                None => (format!("role-{r}"), "", ""),
            };
            let date = timestamp(mix(r as u64 ^ project_id.len() as u64));
            let mut json = format!(
                "{{\"key\":\"{key}\",\"details\":{{\"sequence\":\"3\",\"creationDate\":\"{date}\",\
                 \"changeDate\":\"{date}\",\"resourceOwner\":\"{}\"}}",
                org.id
            );
            if !display_name.is_empty() {
                let _ = write!(json, ",\"displayName\":\"{display_name}\"");
            }
            if !group.is_empty() {
                let _ = write!(json, ",\"group\":\"{group}\"");
            }
            json.push('}');
            rows.push(json);
            if expect {
                let id = format!("project:{project_id}:{key}");
                let shown = if display_name.is_empty() { key.as_str() } else { display_name };
                self.checksum(&["entitlement", &id, shown]);
                self.truth.counts.entitlement += 1;
            }
            keys.push(key);
        }
        let org = self.dataset.org_mut(org.id).expect("the org exists");
        org.roles.insert(project_id.to_string(), rows);
        keys
    }

    /// Managers, project grants and the user grants made through them, plus what a sync that
    /// reads them prints and requests (`GroundTruth::access`). It adds rows only, after every
    /// other, so the rest of the dataset and of the ground truth stay as they were.
    fn access(&mut self) {
        let spec = self.spec;
        let granted = &GRANTED_ORGS[..spec.granted_orgs.min(GRANTED_ORGS.len())];
        for &org in granted {
            self.granted_org(org);
        }
        let today = self.truth.counts;
        let mut tally = AccessTally {
            counts: AccessCounts {
                user: today.user,
                project: today.project,
                org: 1,
                entitlement: today.entitlement,
                grant: today.grant,
                user_grant_without_roles: today.user_grant_without_roles,
                unknown_role_key: today.unknown_role_key,
                inactive_user_grant: today.inactive_user_grant,
                ..AccessCounts::default()
            },
            ..AccessTally::default()
        };
        for (j, printed) in self.external_printed.iter().enumerate() {
            if *printed {
                tally.external_users.insert(self.person(OTHER, j).id, OTHER.id);
            }
        }
        for id in ["org", "project_grant"] {
            tally.record(&["resource_type", id]);
        }
        tally.record(&["org", OWN.id, OWN.name, "false"]);
        tally.request("/management/v1/orgs/me", 1);
        tally.request("/management/v1/users/_search", pages(spec.users));
        tally.request("/management/v1/orgs/members/roles/_search", 1);
        tally.request("/management/v1/projects/members/roles/_search", 1);
        tally.request("/management/v1/projects/grants/members/roles/_search", 1);
        tally.request("/management/v1/projects/_search", pages(spec.projects));
        self.org_managers(&mut tally, granted);

        let plan = self.plan_project_grants(granted.len());
        let delegated = delegated_counts(&spec, plan.len());
        let mut next_delegated = 0;
        for p in 0..self.projects.len() {
            let project_id = self.projects[p].id.clone();
            let members = self.project_managers(&mut tally, p);
            let grants: Vec<usize> = (0..plan.len()).filter(|&k| plan[k].0 == p).collect();
            let mut user_grants = self.projects[p].user_grants;
            for &k in &grants {
                let org = granted[plan[k].1];
                let grant_id = self.project_grant(&mut tally, k, p, org);
                let first = next_delegated;
                next_delegated += delegated[k];
                self.delegated_grants(&mut tally, first..next_delegated, k, &grant_id, p, org);
                user_grants += delegated[k];
            }
            let project = format!("/management/v1/projects/{project_id}");
            tally.request(&format!("{project}/roles/_search"), pages(self.projects[p].roles.len()));
            tally.request(&format!("{project}/members/_search"), pages(members));
            tally.request(&format!("{project}/grants/_search"), pages(grants.len()));
            tally.request("/management/v1/users/grants/_search", pages(user_grants));
        }

        for (id, org) in &tally.external_users {
            let hash = record_hash(&["external_user", id, org]);
            tally.checksum = tally.checksum.wrapping_add(hash);
        }
        let counts = &mut tally.counts;
        counts.external_user = tally.external_users.len() as u64;
        counts.external_org = tally.external_orgs.len() as u64;
        let access = &mut self.truth.access;
        access.counts = *counts;
        // The summary, the four resource types, then one line per record.
        access.records = 1
            + 4
            + counts.user
            + counts.external_user
            + counts.org
            + counts.external_org
            + counts.project
            + counts.project_grant
            + counts.entitlement
            + counts.grant;
        access.min_requests = tally.requests.values().sum();
        access.requests = tally.requests;
        access.checksum = tally.checksum;
    }

    /// Adds a granted org and its users.
    fn granted_org(&mut self, org: OrgNames) {
        let org_json = format!(
            "{{\"id\":\"{}\",\"details\":{{\"sequence\":\"4\",\"creationDate\":\"2025-01-13T08:30:00.125Z\",\
             \"changeDate\":\"2025-01-13T08:30:00.125Z\",\"resourceOwner\":\"{}\"}},\"state\":\"ORG_STATE_ACTIVE\",\
             \"name\":\"{}\",\"primaryDomain\":\"{}\"}}",
            org.id, org.id, org.name, org.domain
        );
        self.dataset.add_org(&org_json).expect("generated orgs are valid and distinct");
        let mut json = String::new();
        for i in 0..self.spec.granted_org_users {
            let person = self.person(org, i);
            user_json(&mut json, &person, org, i);
            let row = UserRow {
                id: person.id.clone(),
                creation_date: timestamp(person.hash),
                user_name: person.user_name.clone(),
                json: json.clone(),
            };
            self.dataset.add_user_row(org.id, row).expect("the org exists");
        }
    }

    /// The org's managers: mostly its own users, some of the second org and of granted orgs.
    fn org_managers(&mut self, tally: &mut AccessTally, granted: &[OrgNames]) {
        let spec = self.spec;
        let mut managers: Vec<Manager> = Vec::new();
        for i in 0..spec.org_managers {
            let (org, index) = match i % 7 {
                3 if spec.other_org_users > 0 => (OTHER, (i * 37) % spec.other_org_users),
                5 if !granted.is_empty() && spec.granted_org_users > 0 => {
                    (granted[i % granted.len()], (i * 13) % spec.granted_org_users)
                }
                _ if spec.users > 0 => (OWN, (i * 4987 + 11) % spec.users),
                _ => continue,
            };
            let person = self.person(org, index);
            if managers.iter().any(|manager| manager.id == person.id) {
                continue;
            }
            let roles = ORG_MANAGER_ROLES[i % ORG_MANAGER_ROLES.len()];
            let details = object_details(mix(spec.seed ^ 0x3c6e ^ ((i as u64) << 20)), OWN.id);
            let row = MemberRow::new(&person.id, &details, roles);
            self.dataset.org_mut(OWN.id).expect("the org exists").members.push(row);
            managers.push(Manager { id: person.id, org: org.id, roles });
        }
        tally.managers(MemberLevel::Org, OWN.id, &managers);
        tally.request("/management/v1/orgs/me/members/_search", pages(managers.len()));
    }

    /// One to three managers of the `p`th project, every tenth project's last one of the
    /// second org; returns how many.
    fn project_managers(&mut self, tally: &mut AccessTally, p: usize) -> usize {
        let spec = self.spec;
        let hash = mix(spec.seed ^ 0xa54f ^ ((p as u64) << 20));
        let wanted = 1 + (hash % 3) as usize;
        let mut managers: Vec<Manager> = Vec::new();
        let mut rows = Vec::new();
        for t in 0..wanted {
            let (org, index) = if t + 1 == wanted && p % 10 == 4 && spec.other_org_users > 0 {
                (OTHER, (p * 7 + 3) % spec.other_org_users)
            } else if spec.users > 0 {
                (OWN, (p * 7919 + t * 30011 + 17) % spec.users)
            } else {
                continue;
            };
            let person = self.person(org, index);
            if managers.iter().any(|manager| manager.id == person.id) {
                continue;
            }
            let roles = PROJECT_MANAGER_ROLES[t % PROJECT_MANAGER_ROLES.len()];
            let details = object_details(mix(hash ^ t as u64), OWN.id);
            rows.push(MemberRow::new(&person.id, &details, roles));
            managers.push(Manager { id: person.id, org: org.id, roles });
        }
        let project_id = self.projects[p].id.clone();
        tally.managers(MemberLevel::Project, &project_id, &managers);
        let org = self.dataset.org_mut(OWN.id).expect("the org exists");
        org.project_members.insert(project_id, rows);
        managers.len()
    }

    /// Which project (position in `projects`) goes to which granted org (position), one
    /// entry per project grant: projects in a scattered order, each to one to three
    /// consecutive granted orgs, so no project is granted to an org twice.
    fn plan_project_grants(&self, granted: usize) -> Vec<(usize, usize)> {
        let projects = self.projects.len();
        let mut plan = Vec::with_capacity(self.spec.project_grants);
        if granted == 0 || projects == 0 {
            return plan;
        }
        let mut taken = vec![false; projects];
        for slot in 0..projects {
            let p = (slot * 7919 + 3) % projects;
            if std::mem::replace(&mut taken[p], true) {
                continue;
            }
            let hash = mix(self.spec.seed ^ 0x510e ^ ((slot as u64) << 20));
            let first = (hash >> 8) as usize % granted;
            let count = (1 + (hash % 3) as usize).min(granted);
            for t in 0..count {
                if plan.len() == self.spec.project_grants {
                    return plan;
                }
                plan.push((p, (first + t) % granted));
            }
        }
        plan
    }

    /// Adds the `k`th project grant (of the `p`th project, to `org`) with its managers, counts
    /// what the sync prints for it, and returns its id. Every tenth is inactive, every 25th
    /// has no role keys, every 20th also delegates a key the project does not have.
    fn project_grant(
        &mut self,
        tally: &mut AccessTally,
        k: usize,
        p: usize,
        org: OrgNames,
    ) -> String {
        let spec = self.spec;
        let hash = mix(spec.seed ^ 0x9b05 ^ ((k as u64) << 20));
        let id = (PROJECT_GRANT_BASE + k as u64 * ID_STRIDE).to_string();
        let active = k % 10 != 7;
        let project = &self.projects[p];
        let mut keys: Vec<&str> = Vec::new();
        if k % 25 != 11 && !project.roles.is_empty() {
            let wanted = (1 + (hash % 4) as usize).min(project.roles.len());
            let mut pick = hash >> 8;
            while keys.len() < wanted {
                let key = project.roles[(pick % project.roles.len() as u64) as usize].as_str();
                pick = mix(pick);
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        if k % 20 == 3 {
            keys.push(UNKNOWN_ROLE);
        }
        let details = object_details(hash, OWN.id);
        let json = GrantedProject {
            grant_id: &id,
            granted_org_id: org.id,
            granted_org_name: org.name,
            role_keys: &keys,
            active,
            project_id: &project.id,
            project_name: &project.name,
            project_owner_id: OWN.id,
            project_owner_name: OWN.name,
            details_json: &details,
        }
        .to_json();

        tally.counts.project_grant += 1;
        let name = format!("{} for {}", project.name, org.name);
        let status = if active { "ENABLED" } else { "DISABLED" };
        tally.record(&["project_grant", &id, &name, status]);
        if !active {
            tally.counts.inactive_project_grant += 1;
        } else {
            for key in &keys {
                if project.roles.iter().any(|role| role == key) {
                    tally.counts.org_grant += 1;
                    tally.counts.grant += 1;
                    if tally.external_orgs.insert(org.id) {
                        tally.record(&["org", org.id, org.name, "true"]);
                    }
                    let grant_id = format!("project:{}:{key}:org:{}", project.id, org.id);
                    tally.record(&["grant", &grant_id, "", "PROJECT_GRANT_STATE_ACTIVE"]);
                } else {
                    tally.counts.unknown_role_key += 1;
                }
            }
        }
        let wanted = if k % 6 == 4 { 0 } else { 1 + ((hash >> 20) % 2) as usize };
        let mut managers: Vec<Manager> = Vec::new();
        let mut members = Vec::new();
        for t in 0..wanted.min(spec.granted_org_users) {
            let person = self.person(org, (k * 31 + t * 97 + 1) % spec.granted_org_users);
            if managers.iter().any(|manager| manager.id == person.id) {
                continue;
            }
            let roles = GRANT_MANAGER_ROLES[t % GRANT_MANAGER_ROLES.len()];
            members.push(MemberRow::new(
                &person.id,
                &object_details(mix(hash ^ t as u64), OWN.id),
                roles,
            ));
            managers.push(Manager { id: person.id, org: org.id, roles });
        }
        tally.managers(MemberLevel::ProjectGrant, &id, &managers);
        let path = format!("/management/v1/projects/{}/grants/{id}/members/_search", project.id);
        tally.request(&path, pages(managers.len()));
        let row = ProjectGrantRow {
            id: id.clone(),
            project_id: project.id.clone(),
            granted_org_id: org.id.to_string(),
            role_keys: keys.iter().map(|key| key.to_string()).collect(),
            json,
            members,
        };
        self.dataset.org_mut(OWN.id).expect("the org exists").project_grants.push(row);
        id
    }

    /// Adds the user grants `numbers` (a range of the generator's count of them) that
    /// `org` makes through the `k`th project grant, each for a different user of `org`
    /// with one to three of the grant's keys (none when the grant has none), and counts
    /// what the sync prints for them.
    fn delegated_grants(
        &mut self,
        tally: &mut AccessTally,
        numbers: std::ops::Range<usize>,
        k: usize,
        grant_id: &str,
        p: usize,
        org: OrgNames,
    ) {
        let users = self.spec.granted_org_users;
        if numbers.is_empty() || users == 0 {
            return;
        }
        let grant_keys: Vec<String> = {
            let owner = self.dataset.org(OWN.id).expect("the org exists");
            let grant = owner.project_grants.iter().find(|grant| grant.id == grant_id);
            grant.expect("added just before").role_keys.clone()
        };
        let stride = [7919, 7927, 7933, 7937, 7949]
            .into_iter()
            .find(|prime| !users.is_multiple_of(*prime))
            .expect("at most four of five primes divide the number of users");
        let start = (mix(self.spec.seed ^ 0x2b99 ^ ((k as u64) << 20)) % users as u64) as usize;
        let (project_id, project_name) =
            (self.projects[p].id.clone(), self.projects[p].name.clone());
        let mut json = String::new();
        for (i, g) in numbers.enumerate() {
            let person = self.person(org, (start + i * stride) % users);
            let hash = mix(self.spec.seed ^ 0x1f83 ^ ((g as u64) << 24));
            let mut keys: Vec<&str> = Vec::new();
            if !grant_keys.is_empty() {
                let wanted = (1 + (hash % 3) as usize).min(grant_keys.len());
                let mut pick = hash >> 8;
                while keys.len() < wanted {
                    let key = grant_keys[(pick % grant_keys.len() as u64) as usize].as_str();
                    pick = mix(pick);
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
            let inactive = (hash >> 40) % 100 < 4;
            let id = (DELEGATED_GRANT_BASE + g as u64 * ID_STRIDE).to_string();
            grant_json(
                &mut json,
                &id,
                &keys,
                inactive,
                &person,
                org,
                org,
                &project_id,
                &project_name,
                grant_id,
                hash,
            );
            let counts = &mut tally.counts;
            if inactive {
                counts.inactive_user_grant += 1;
            } else if keys.is_empty() {
                counts.user_grant_without_roles += 1;
            } else {
                for key in &keys {
                    if self.projects[p].roles.iter().any(|role| role == key) {
                        counts.delegated_grant += 1;
                        counts.grant += 1;
                        tally.external_users.insert(person.id.clone(), org.id);
                        let grant_id = format!(
                            "project:{project_id}:{key}:user:{}:project_grant:{grant_id}",
                            person.id
                        );
                        let hash =
                            record_hash(&["grant", &grant_id, &id, "USER_GRANT_STATE_ACTIVE"]);
                        tally.checksum = tally.checksum.wrapping_add(hash);
                    } else {
                        counts.unknown_role_key += 1;
                    }
                }
            }
            let row = GrantRow {
                id,
                project_id: project_id.clone(),
                user_id: person.id,
                project_grant_id: grant_id.to_string(),
                json: json.clone(),
            };
            self.dataset.add_user_grant_row(org.id, row).expect("the org exists");
        }
    }

    /// The `i`th user of an organization, the same each time it is asked for.
    fn person(&self, org: OrgNames, i: usize) -> Person {
        let base = org.user_base;
        let hash = mix(self.spec.seed ^ ((i as u64) << 16) ^ org.salt);
        let machine = org.machines && hash % 10 == 7;
        let (first, first_login) = FIRST_NAMES[(hash >> 8) as usize % FIRST_NAMES.len()];
        let (last, last_login) = LAST_NAMES[(hash >> 16) as usize % LAST_NAMES.len()];
        let state = match (hash >> 24) % 100 {
            0..=89 => "USER_STATE_ACTIVE",
            90..=93 => "USER_STATE_INACTIVE",
            94..=96 => "USER_STATE_LOCKED",
            97..=98 => "USER_STATE_INITIAL",
            _ => "USER_STATE_SUSPEND",
        };
        let user_name = if machine {
            format!(
                "svc-{}-{i}",
                PROJECT_NAMES[(hash >> 32) as usize % PROJECT_NAMES.len()]
                    .to_lowercase()
                    .replace(' ', "-")
            )
        } else {
            format!("{first_login}.{last_login}{i}")
        };
        let preferred_login_name = format!("{user_name}@{}", org.domain);
        Person {
            id: (base + i as u64 * ID_STRIDE).to_string(),
            first_name: if machine { "" } else { first },
            last_name: if machine { "" } else { last },
            display_name: if machine || (hash >> 40).is_multiple_of(13) {
                String::new()
            } else {
                format!("{first} {last}")
            },
            email: if machine { String::new() } else { preferred_login_name.clone() },
            machine_name: if machine { format!("Service Account {i}") } else { String::new() },
            preferred_login_name,
            user_name,
            machine,
            state,
            hash,
        }
    }

    fn checksum(&mut self, parts: &[&str]) {
        self.truth.checksum = self.truth.checksum.wrapping_add(record_hash(parts));
        self.truth.records += 1;
    }
}

/// Writes a user row like `ListUsers` returns it into `out`.
fn user_json(out: &mut String, person: &Person, org: OrgNames, i: usize) {
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
fn grant_json(
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
fn grant_counts(spec: &GenerateSpec) -> Vec<usize> {
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
fn delegated_counts(spec: &GenerateSpec, grants: usize) -> Vec<usize> {
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
fn spread(total: usize, weights: &[f64], cap: usize) -> Vec<usize> {
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
fn object_details(hash: u64, owner: &str) -> String {
    format!(
        "{{\"sequence\":\"{}\",\"creationDate\":\"{}\",\"changeDate\":\"{}\",\"resourceOwner\":\"{owner}\"}}",
        hash % 9 + 1,
        timestamp(hash),
        timestamp(hash >> 5)
    )
}

/// Requests to walk a list of `rows` rows with full pages (an empty list takes one).
fn pages(rows: usize) -> u64 {
    (rows as u64).div_ceil(GENERATED_PAGE).max(1)
}

/// An RFC 3339 timestamp in 2023 to 2025 with 0, 3 or 6 fractional digits, like ZITADEL's.
fn timestamp(hash: u64) -> String {
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

/// splitmix64's finalizer: a deterministic, well-spread hash of a counter.
pub(super) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
