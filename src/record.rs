//! The NDJSON records baton-zitadel prints: the product's public contract.
//!
//! Each record is one JSON object on one line with `kind` first; field names are snake_case
//! and fields are written in declaration order, so renaming or reordering a field here is a
//! breaking change that the schema in `docs/output.md` must follow.

use std::borrow::Cow;

use serde::Serialize;

mod grant;
mod sign_in;

pub use grant::*;
pub use sign_in::*;

/// `{"kind":"resource_type",...}`: printed first, one per resource type.
#[derive(Debug, Serialize)]
pub struct ResourceType {
    pub kind: &'static str,
    pub id: &'static str,
    pub display_name: &'static str,
    pub traits: [&'static str; 1],
}

/// The resource types this connector syncs, in output order.
pub const RESOURCE_TYPES: [ResourceType; 8] = [
    ResourceType {
        kind: "resource_type",
        id: "user",
        display_name: "User",
        traits: ["TRAIT_USER"],
    },
    ResourceType {
        kind: "resource_type",
        id: "project",
        display_name: "Project",
        traits: ["TRAIT_GROUP"],
    },
    ResourceType {
        kind: "resource_type",
        id: "org",
        display_name: "Organization",
        traits: ["TRAIT_GROUP"],
    },
    ResourceType {
        kind: "resource_type",
        id: "project_grant",
        display_name: "Project Grant",
        traits: ["TRAIT_GROUP"],
    },
    ResourceType {
        kind: "resource_type",
        id: "instance",
        display_name: "Instance",
        traits: ["TRAIT_GROUP"],
    },
    ResourceType {
        kind: "resource_type",
        id: "pat",
        display_name: "Personal Access Token",
        traits: ["TRAIT_SECRET"],
    },
    ResourceType {
        kind: "resource_type",
        id: "machine_key",
        display_name: "Machine Key",
        traits: ["TRAIT_SECRET"],
    },
    ResourceType {
        kind: "resource_type",
        id: "client_secret",
        display_name: "Client Secret",
        traits: ["TRAIT_SECRET"],
    },
];

/// A user of the organization, or an external user met through a grant.
#[derive(Debug, Serialize)]
pub struct UserResource<'a> {
    pub kind: &'static str,
    pub resource_type: &'static str,
    pub id: &'a str,
    pub display_name: Cow<'a, str>,
    pub status: Status,
    /// The raw ZITADEL state; absent for external users, whose state a grant does not carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_details: Option<&'a str>,
    /// The organization the user belongs to; absent for an external manager when the server
    /// predates `userResourceOwner`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<&'a str>,
    /// Only on external users: the name of the organization they belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<&'a str>,
    /// True for a user of another organization that holds a grant in this one.
    pub external: bool,
    pub user: UserTrait<'a>,
    /// Whether every string of the record is known to hold nothing JSON escapes, so that
    /// its writer copies them without a look (`Grant::plain` says when that is so).
    #[serde(skip)]
    pub plain: bool,
}

/// baton's user trait.
#[derive(Debug, Serialize)]
pub struct UserTrait<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_type: Option<AccountType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<&'a str>,
    /// Absent for external users: a grant carries only the preferred login name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_aliases: Option<Vec<&'a str>>,
    /// ZITADEL's user name, which may differ from every login name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<&'a str>,
    pub emails: Vec<EmailAddress<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured_name: Option<StructuredName<'a>>,
    /// A machine user's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct EmailAddress<'a> {
    pub address: &'a str,
    pub is_primary: bool,
    /// Absent for external users: a grant does not say whether the address is verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_verified: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct StructuredName<'a> {
    pub given_name: &'a str,
    pub family_name: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountType {
    Human,
    Service,
}

/// baton's resource status, mapped from ZITADEL's state; the raw state travels beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Enabled,
    Disabled,
    Deleted,
    Unspecified,
}

/// A project of the organization, synced as a group.
#[derive(Debug, Serialize)]
pub struct ProjectResource<'a> {
    pub kind: &'static str,
    pub resource_type: &'static str,
    pub id: &'a str,
    pub display_name: &'a str,
    pub status: Status,
    pub status_details: &'a str,
    pub org_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<&'a str>,
}

/// What a user can be granted on a resource: a project role (`ASSIGNMENT`), or a manager
/// role of the organization, a project or a project grant (`PERMISSION`).
#[derive(Debug, Serialize)]
pub struct Entitlement<'a> {
    pub kind: &'static str,
    /// `<resource_type>:<resource_id>:<slug>`.
    pub id: String,
    pub resource_type: &'static str,
    pub resource_id: &'a str,
    pub slug: Cow<'a, str>,
    pub display_name: Cow<'a, str>,
    pub purpose: &'static str,
    pub grantable_to: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<&'a str>,
}

/// A manager role held by a user: of the organization, a project or a project grant.
#[derive(Debug, Serialize)]
pub struct ManagerGrant<'a> {
    pub kind: &'static str,
    /// `<entitlement_id>:user:<userId>`.
    pub id: String,
    pub entitlement_id: &'a str,
    pub resource_type: &'static str,
    pub resource_id: &'a str,
    pub slug: Cow<'a, str>,
    pub principal_type: &'static str,
    pub principal_id: &'a str,
    /// When ZITADEL says the membership was made, and last changed; absent when it does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<&'a str>,
}

/// A role key of a project delegated to another organization by a project grant: the
/// organization is the principal.
#[derive(Debug, Serialize)]
pub struct OrgGrant<'a> {
    pub kind: &'static str,
    /// `project:<projectId>:<roleKey>:org:<grantedOrgId>`.
    pub id: String,
    pub entitlement_id: &'a str,
    pub resource_type: &'static str,
    pub resource_id: &'a str,
    pub slug: &'a str,
    pub principal_type: &'static str,
    pub principal_id: &'a str,
    pub project_grant_id: &'a str,
    /// The project grant's raw state, e.g. `PROJECT_GRANT_STATE_ACTIVE`.
    pub state: &'a str,
    /// When ZITADEL says the project grant was made, and last changed; absent when it does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<&'a str>,
}

/// The synced organization (`external: false`), or another organization a project grant
/// delegates to (`external: true`, with only what the grant says: id and name).
#[derive(Debug, Serialize)]
pub struct OrgResource<'a> {
    pub kind: &'static str,
    pub resource_type: &'static str,
    pub id: &'a str,
    pub display_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_details: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<&'a str>,
    pub external: bool,
    /// The synced organization's login policy, unless `--auth-methods none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_policy: Option<LoginPolicy<'a>>,
}

/// A project grant: a project of the organization delegated to another organization with
/// some of its role keys.
#[derive(Debug, Serialize)]
pub struct ProjectGrantResource<'a> {
    pub kind: &'static str,
    pub resource_type: &'static str,
    pub id: &'a str,
    /// `<project name> for <granted organization name>`.
    pub display_name: String,
    pub status: Status,
    pub status_details: &'a str,
    pub project_id: &'a str,
    pub granted_org_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted_org_name: Option<&'a str>,
    /// The delegated role keys, exactly as ZITADEL lists them.
    pub role_keys: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<&'a str>,
}

/// The ZITADEL instance the organization lives in: its managers hold their roles in every
/// organization of it.
#[derive(Debug, Serialize)]
pub struct InstanceResource<'a> {
    pub kind: &'static str,
    pub resource_type: &'static str,
    pub id: &'a str,
    pub display_name: &'a str,
    pub status: Status,
    pub status_details: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<&'a str>,
}

/// A credential of a service user: a Personal Access Token, a machine key, or the client
/// secret a user list says it has. Only what ZITADEL lists of it: never its material,
/// which no list sends.
#[derive(Debug, Serialize)]
pub struct CredentialResource<'a> {
    pub kind: &'static str,
    /// `pat`, `machine_key` or `client_secret`.
    pub resource_type: &'static str,
    /// ZITADEL's id of the token or key; a client secret's is its user's id.
    pub id: &'a str,
    pub display_name: String,
    pub org_id: &'a str,
    /// Absent for a client secret, whose dates ZITADEL does not list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<&'a str>,
    pub secret: SecretTrait<'a>,
}

/// baton's secret trait.
#[derive(Debug, Serialize)]
pub struct SecretTrait<'a> {
    /// The service user the credential signs in as, printed before it.
    pub identity_id: &'a str,
    pub credential_type: &'static str,
    pub credential_detail: &'static str,
    /// Exactly as ZITADEL sends it: `9999-12-31T23:59:59Z` is its "never".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<&'a str>,
}

/// The last line, written only when the sync completed: its absence marks a truncated stream.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    pub kind: &'static str,
    pub org_id: &'a str,
    pub org_name: &'a str,
    /// The instance read, as `--instance-url` gave it (scheme and host only).
    pub instance_url: &'a str,
    /// The token's own user; absent when ZITADEL would not say (`omitted` says why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synced_by: Option<&'a str>,
    /// The program's version, as `--version` prints it after its name.
    pub version: &'static str,
    /// When the run started and when the sync finished, RFC 3339 in UTC with milliseconds.
    pub started_at: String,
    pub finished_at: String,
    pub counts: Counts,
    /// HTTP requests the sync made.
    pub requests: u64,
    /// The filters in force; absent when the whole organization was synced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<SummaryFilters<'a>>,
    /// What the sync left out because the token cannot read it, and why; absent when
    /// nothing was: a reviewer tells from the file alone that a part is missing.
    #[serde(skip_serializing_if = "Omitted::is_empty")]
    pub omitted: Omitted,
}

/// The parts of a sync left out because the token cannot read them, each with the reason.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Omitted {
    /// The instance, its manager roles and its managers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The token's own user (`synced_by`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synced_by: Option<String>,
}

impl Omitted {
    pub fn is_empty(&self) -> bool {
        *self == Omitted::default()
    }
}

/// The filters of a sync, named so that a filtered stream is never taken for a whole one.
#[derive(Debug, Serialize)]
pub struct SummaryFilters<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_types: Option<&'a [&'static str]>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub project_ids: &'a [String],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skip_grants: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skip_managers: bool,
    /// `--auth-methods`, unless `managers`, the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_methods: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub include_inactive_grants: bool,
}

/// What the sync emitted and what it skipped, by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// The organization's own users.
    pub user: u64,
    pub project: u64,
    pub entitlement: u64,
    pub grant: u64,
    /// Users of other organizations printed because they hold a grant or manage here.
    pub external_user: u64,
    /// Personal Access Tokens, machine keys and client secrets of service users.
    pub pat: u64,
    pub machine_key: u64,
    pub client_secret: u64,
    /// Human users whose authentication methods were printed (`user_auth` records).
    pub user_auth: u64,
    /// The synced organization's own record (1, or 0 when filtered out).
    pub org: u64,
    /// Other organizations printed because a project grant delegates to them.
    pub external_org: u64,
    /// The instance's own record (1, or 0 when filtered out or not readable).
    pub instance: u64,
    pub project_grant: u64,
    /// Grants of manager roles (organization, project and project-grant managers).
    pub manager_grant: u64,
    /// Grants of project roles to organizations, through project grants.
    pub org_grant: u64,
    /// User grants made by other organizations through project grants (their grant records).
    pub delegated_grant: u64,
    /// User grants (not skipped as inactive) that carry no role key.
    pub user_grant_without_roles: u64,
    /// (user grant, role key) pairs skipped because the project has no such role.
    pub unknown_role_key: u64,
    /// Inactive user grants skipped (zero with `--include-inactive-grants`).
    pub inactive_user_grant: u64,
    /// User grants skipped because their user, of this organization, was not printed.
    pub grant_without_principal: u64,
    /// Credentials skipped because their user was not printed (created after the users
    /// were read).
    pub secret_without_identity: u64,
    /// Human users whose authentication methods could not be read (403 or 404): no
    /// `user_auth` record, which never means "no second factor".
    pub auth_methods_unknown: u64,
    /// Inactive project grants whose delegation grants were skipped (zero with
    /// `--include-inactive-grants`); the project grant itself is still printed.
    pub inactive_project_grant: u64,
    /// Grants skipped because a grant with the same id was printed before: a user grant
    /// removed and made again while its list was read, or a server that repeats one. Only a
    /// server that does so has it in its summary.
    #[serde(skip_serializing_if = "is_zero")]
    pub repeated_grant: u64,
    /// Project grants skipped, with their roles and managers, because one with the same id
    /// was printed under another project: the two cannot be told apart. Only a server that
    /// does so has it in its summary.
    #[serde(skip_serializing_if = "is_zero")]
    pub repeated_project_grant: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Counts {
    /// The counts of records printed, in output order (the last three are kinds of grant),
    /// each with whether it is said even when zero.
    pub fn printed(&self) -> [(&'static str, u64, bool); 16] {
        [
            ("user", self.user, true),
            ("external_user", self.external_user, true),
            ("pat", self.pat, false),
            ("machine_key", self.machine_key, false),
            ("client_secret", self.client_secret, false),
            ("user_auth", self.user_auth, false),
            ("org", self.org, false),
            ("external_org", self.external_org, false),
            ("instance", self.instance, false),
            ("project", self.project, true),
            ("project_grant", self.project_grant, false),
            ("entitlement", self.entitlement, true),
            ("grant", self.grant, true),
            ("manager_grant", self.manager_grant, false),
            ("org_grant", self.org_grant, false),
            ("delegated_grant", self.delegated_grant, false),
        ]
    }

    /// The counts of something skipped, by name.
    pub fn skipped(&self) -> [(&'static str, u64); 9] {
        [
            ("auth_methods_unknown", self.auth_methods_unknown),
            ("grant_without_principal", self.grant_without_principal),
            ("inactive_project_grant", self.inactive_project_grant),
            ("inactive_user_grant", self.inactive_user_grant),
            ("repeated_grant", self.repeated_grant),
            ("repeated_project_grant", self.repeated_project_grant),
            ("secret_without_identity", self.secret_without_identity),
            ("unknown_role_key", self.unknown_role_key),
            ("user_grant_without_roles", self.user_grant_without_roles),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every count is either printed or skipped, once, under the name the summary record
    /// gives it, so that the summary's words say what its record says.
    #[test]
    fn the_counts_by_name_are_the_counts_of_the_summary_record() -> serde_json::Result<()> {
        let counts = Counts {
            user: 1,
            project: 2,
            entitlement: 3,
            grant: 4,
            external_user: 5,
            pat: 20,
            machine_key: 21,
            client_secret: 22,
            secret_without_identity: 23,
            user_auth: 24,
            auth_methods_unknown: 25,
            org: 6,
            external_org: 7,
            instance: 19,
            project_grant: 8,
            manager_grant: 9,
            org_grant: 10,
            delegated_grant: 11,
            user_grant_without_roles: 12,
            unknown_role_key: 13,
            inactive_user_grant: 14,
            grant_without_principal: 15,
            inactive_project_grant: 16,
            repeated_grant: 17,
            repeated_project_grant: 18,
        };
        let record = serde_json::to_value(&counts)?;
        let by_name: Vec<(&str, u64)> = counts
            .printed()
            .iter()
            .map(|(name, n, _)| (*name, *n))
            .chain(counts.skipped())
            .collect();
        assert_eq!(Some(by_name.len()), record.as_object().map(|fields| fields.len()));
        let fields = by_name.len();
        for (name, count) in by_name {
            assert_eq!(record[name], count, "{name}");
        }
        // The counts only a hostile server gives are left out while zero, so that the
        // summary of every other sync keeps its fields.
        let quiet = Counts { repeated_grant: 0, repeated_project_grant: 0, ..counts };
        let quiet = serde_json::to_value(&quiet)?;
        assert_eq!(quiet.as_object().map(|fields| fields.len()), Some(fields - 2));
        assert!(quiet.get("repeated_grant").is_none());
        Ok(())
    }
}
