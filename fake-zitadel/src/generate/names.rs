//! What generated organizations are made of: id ranges, names, roles and manager roles.

use super::*;

// Id ranges: the base plus a multiple of `ID_STRIDE` stays 18 digits and unique across kinds.
pub(super) const OTHER_USER_BASE: u64 = 284_905_400_000_000_000;
pub(super) const OTHER_PROJECT_BASE: u64 = 284_905_500_000_000_000;
pub(super) const OTHER_GRANT_BASE: u64 = 284_905_600_000_000_000;
pub(super) const USER_BASE: u64 = 284_906_000_000_000_000;
pub(super) const PROJECT_BASE: u64 = 284_906_400_000_000_000;
pub(super) const GRANT_BASE: u64 = 284_915_000_000_000_000;
pub(super) const GRANTED_USER_BASE: u64 = 284_905_800_000_000_000;
/// Each granted org's users get ids from a span of this many strides.
pub(super) const GRANTED_USER_SPAN: u64 = 10_000;
pub(super) const PROJECT_GRANT_BASE: u64 = 284_917_000_000_000_000;
pub(super) const DELEGATED_GRANT_BASE: u64 = 284_918_000_000_000_000;
pub(super) const ID_STRIDE: u64 = 4_099;
/// The page size the walk is measured against: the largest ZITADEL accepts.
pub(super) const GENERATED_PAGE: u64 = 1000;
/// Every 997th user grant also names this role, which no project has.
pub(super) const UNKNOWN_ROLE: &str = "deprecated-role";

/// Given names (display form, login form); none needs escaping in JSON.
pub(super) const FIRST_NAMES: &[(&str, &str)] = &[
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
pub(super) const LAST_NAMES: &[(&str, &str)] = &[
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
pub(super) const PROJECT_NAMES: &[&str] = &[
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
pub(super) const ROLES: &[(&str, &str, &str)] = &[
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
pub(super) struct Person {
    pub(super) id: String,
    pub(super) user_name: String,
    /// Empty for machines.
    pub(super) first_name: &'static str,
    pub(super) last_name: &'static str,
    /// The profile's display name; empty for some humans (then "first last" is shown).
    pub(super) display_name: String,
    /// Empty for machines.
    pub(super) email: String,
    pub(super) preferred_login_name: String,
    pub(super) machine: bool,
    pub(super) machine_name: String,
    pub(super) state: &'static str,
    pub(super) hash: u64,
}

impl Person {
    /// The display name a sync prints, by the connector's fallback order.
    pub(super) fn shown_name(&self) -> String {
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
pub(super) struct OrgNames {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) domain: &'static str,
    /// The organization's ZITADEL-generated domain, for the first login name.
    pub(super) zitadel_domain: &'static str,
    /// The id of its first user; the others follow `ID_STRIDE` apart.
    pub(super) user_base: u64,
    /// Mixed into each user's hash, so that the orgs' users differ.
    pub(super) salt: u64,
    /// Whether some of its users are machines.
    pub(super) machines: bool,
}

pub(super) const OWN: OrgNames = OrgNames {
    id: GENERATED_ORG,
    name: "ACME Corporation",
    domain: "acme.example.com",
    zitadel_domain: "acme-corp.zitadel.cloud",
    user_base: USER_BASE,
    salt: 1,
    machines: true,
};
pub(super) const OTHER: OrgNames = OrgNames {
    id: GENERATED_OTHER_ORG,
    name: "Globex",
    domain: "globex.example.com",
    zitadel_domain: "globex.zitadel.cloud",
    user_base: OTHER_USER_BASE,
    salt: 0,
    machines: false,
};

/// The orgs `OWN`'s projects are granted to (`GenerateSpec::granted_orgs` of them).
pub(super) const GRANTED_ORGS: [OrgNames; 10] = [
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
pub(super) const fn granted(
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
pub(super) const ORG_MANAGER_ROLES: &[&[&str]] = &[
    &["ORG_OWNER"],
    &["ORG_OWNER_VIEWER"],
    &["ORG_USER_MANAGER", "ORG_USER_PERMISSION_EDITOR"],
    &["ORG_PROJECT_PERMISSION_EDITOR"],
    &["ORG_SETTINGS_MANAGER"],
];
pub(super) const PROJECT_MANAGER_ROLES: &[&[&str]] =
    &[&["PROJECT_OWNER"], &["PROJECT_OWNER_VIEWER"], &["PROJECT_OWNER", "PROJECT_OWNER_VIEWER"]];
pub(super) const GRANT_MANAGER_ROLES: &[&[&str]] =
    &[&["PROJECT_GRANT_OWNER"], &["PROJECT_GRANT_OWNER_VIEWER"]];
