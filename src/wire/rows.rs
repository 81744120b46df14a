//! ZITADEL's objects as we read them: list details, the organization, users, projects,
//! roles, user grants, members, member roles, project grants, the instance, credentials,
//! authentication methods, the login policy, and the error body.

use std::borrow::Cow;
use std::fmt;

use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::page::{Row, enum_names, strings, text, timestamp, u64_from_string_or_number};

/// Whether strings of a row are all known to hold nothing JSON escapes (a quote, a
/// backslash, a control character) without a look at them: a row borrows a string from its
/// page only where the page has it without escapes, and JSON allows no control character
/// in a string (serde_json borrows only then and fails on a control character; the
/// shape-aware reader borrows the same strings). A string with escapes is copied,
/// unescaped, and may hold anything: so may one a row was given otherwise. (An absent field
/// is empty, and owned: `Cow`'s default.)
pub fn known_plain(texts: &[&Cow<'_, str>]) -> bool {
    texts.iter().all(|text| matches!(text, Cow::Borrowed(_)) || text.is_empty())
}

/// A row's list of strings (role keys, login names, roles): up to `FEW_STRINGS` kept in the
/// row itself, more in a vector. Nearly every list holds one to three, and a row with a list
/// is read for each of hundreds of thousands of user grants, so that a heap block each
/// (made and freed) was some 2 % of a sync's instructions.
pub enum Strings<'a> {
    Few { strings: [Cow<'a, str>; FEW_STRINGS], len: usize },
    Many(Vec<Cow<'a, str>>),
}

pub const FEW_STRINGS: usize = 3;

impl<'a> Strings<'a> {
    pub fn push(&mut self, string: Cow<'a, str>) {
        match self {
            Strings::Few { strings, len } if *len < FEW_STRINGS => {
                strings[*len] = string;
                *len += 1;
            }
            Strings::Few { strings, .. } => {
                let mut many = Vec::with_capacity(2 * FEW_STRINGS);
                many.extend(strings.iter_mut().map(std::mem::take));
                many.push(string);
                *self = Strings::Many(many);
            }
            Strings::Many(many) => many.push(string),
        }
    }
}

impl Default for Strings<'_> {
    fn default() -> Self {
        Strings::Few { strings: Default::default(), len: 0 }
    }
}

impl<'a> std::ops::Deref for Strings<'a> {
    type Target = [Cow<'a, str>];

    fn deref(&self) -> &[Cow<'a, str>] {
        match self {
            Strings::Few { strings, len } => &strings[..*len],
            Strings::Many(many) => many,
        }
    }
}

impl<'s, 'a> IntoIterator for &'s Strings<'a> {
    type Item = &'s Cow<'a, str>;
    type IntoIter = std::slice::Iter<'s, Cow<'a, str>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> FromIterator<Cow<'a, str>> for Strings<'a> {
    fn from_iter<I: IntoIterator<Item = Cow<'a, str>>>(strings: I) -> Self {
        let mut list = Strings::default();
        strings.into_iter().for_each(|string| list.push(string));
        list
    }
}

/// As the list it is, however it is kept.
impl fmt::Debug for Strings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// `ListDetails`; `totalResult` is omitted on an empty page (it is 0 there).
/// `processedSequence` is the last event the list's projection has processed: while it
/// stays the same, the list has not changed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDetails {
    #[serde(default, deserialize_with = "u64_from_string_or_number")]
    pub total_result: u64,
    #[serde(default, deserialize_with = "u64_from_string_or_number")]
    pub processed_sequence: u64,
}

/// The body of `GET /management/v1/orgs/me`.
#[derive(Debug, Deserialize)]
pub struct OrgResponse<'a> {
    #[serde(borrow)]
    pub org: Org<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Org<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub details: ObjectDetails<'a>,
    #[serde(borrow, deserialize_with = "text")]
    pub name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub primary_domain: Cow<'a, str>,
}

impl Org<'_> {
    /// The organization, no longer borrowing from the answer it was read from.
    pub fn into_owned(self) -> Org<'static> {
        Org {
            id: Cow::Owned(self.id.into_owned()),
            details: ObjectDetails {
                creation_date: Cow::Owned(self.details.creation_date.into_owned()),
                resource_owner: Cow::Owned(self.details.resource_owner.into_owned()),
            },
            name: Cow::Owned(self.name.into_owned()),
            state: Cow::Owned(self.state.into_owned()),
            primary_domain: Cow::Owned(self.primary_domain.into_owned()),
        }
    }
}

/// Per-object `details` (`ObjectDetails`), as much as records of objects print.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectDetails<'a> {
    #[serde(borrow, deserialize_with = "timestamp")]
    pub creation_date: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub resource_owner: Cow<'a, str>,
}

/// The `details` of a grant's source (a user grant, a membership, a project grant): also
/// its last change, of its roles or state, which grant records print as `updated_at`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GrantDetails<'a> {
    #[serde(borrow, deserialize_with = "timestamp")]
    pub creation_date: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "timestamp")]
    pub change_date: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub resource_owner: Cow<'a, str>,
}

/// A user as `ListUsers` returns it: the type is whichever of `human` or `machine` is set.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct User<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub details: ObjectDetails<'a>,
    #[serde(borrow, deserialize_with = "text")]
    pub state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "strings")]
    pub login_names: Strings<'a>,
    #[serde(borrow, deserialize_with = "text")]
    pub preferred_login_name: Cow<'a, str>,
    #[serde(borrow)]
    pub human: Option<Human<'a>>,
    #[serde(borrow)]
    pub machine: Option<Machine<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Human<'a> {
    #[serde(borrow)]
    pub profile: Profile<'a>,
    #[serde(borrow)]
    pub email: Email<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Profile<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub first_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub last_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub display_name: Cow<'a, str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Email<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub email: Cow<'a, str>,
    pub is_email_verified: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct Machine<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub description: Cow<'a, str>,
    /// Whether the machine has a client secret (for the client-credentials grant): all
    /// ZITADEL says of one, no id and no dates.
    pub has_secret: bool,
}

/// The body of `GET /management/v1/projects/{id}`.
#[derive(Debug, Deserialize)]
pub struct ProjectResponse<'a> {
    #[serde(borrow)]
    pub project: Project<'a>,
}

/// A project of the organization (`ListProjects`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Project<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub details: ObjectDetails<'a>,
    #[serde(borrow, deserialize_with = "text")]
    pub name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub state: Cow<'a, str>,
}

/// A project role (`ListProjectRoles`); it does not carry its project's id.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Role<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub key: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub display_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub group: Cow<'a, str>,
}

/// A user grant (`ListUserGrants`). `orgId` is the org that owns the grant; the user's own
/// org is `grantedOrgId`, despite the name.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserGrant<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub id: Cow<'a, str>,
    /// `resourceOwner` is the organization that made the grant: another one for a grant made
    /// through a project grant.
    #[serde(borrow)]
    pub details: GrantDetails<'a>,
    #[serde(borrow, deserialize_with = "strings")]
    pub role_keys: Strings<'a>,
    #[serde(borrow, deserialize_with = "text")]
    pub state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub first_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub last_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub email: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub display_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub project_id: Cow<'a, str>,
    /// Set when the grant was made through a project grant (by the granted organization).
    #[serde(borrow, deserialize_with = "text")]
    pub project_grant_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub preferred_login_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_type: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub granted_org_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub granted_org_name: Cow<'a, str>,
}

/// A manager (`zitadel.member.v1.Member`) of the organization, a project or a project grant.
/// Managers may be users of any organization; `userResourceOwner` names it, but only servers
/// after zitadel#9168 send it. Machine users have no email or names, and their machine name
/// as `displayName`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Member<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub user_id: Cow<'a, str>,
    /// Of the membership: `creationDate` when it was added, `changeDate` its last change
    /// of roles.
    #[serde(borrow)]
    pub details: GrantDetails<'a>,
    #[serde(borrow, deserialize_with = "strings")]
    pub roles: Strings<'a>,
    #[serde(borrow, deserialize_with = "text")]
    pub preferred_login_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub email: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub first_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub last_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub display_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_type: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_resource_owner: Cow<'a, str>,
}

/// The answer of a member-role list: the manager roles that exist at that level. No
/// `details`, no paging.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MemberRoles<'a> {
    #[serde(borrow, deserialize_with = "strings")]
    pub result: Strings<'a>,
}

/// The body of `GET /admin/v1/instances/me` (`GetMyInstanceResponse`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InstanceResponse<'a> {
    #[serde(borrow)]
    pub instance: Instance<'a>,
}

/// The instance (`zitadel.instance.v1.InstanceDetail`); its state is `STATE_RUNNING`,
/// `STATE_CREATING`, `STATE_STOPPING` or `STATE_STOPPED`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Instance<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub details: ObjectDetails<'a>,
    #[serde(borrow, deserialize_with = "text")]
    pub name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub state: Cow<'a, str>,
}

impl Instance<'_> {
    /// The instance, no longer borrowing from the answer it was read from.
    pub fn into_owned(self) -> Instance<'static> {
        Instance {
            id: Cow::Owned(self.id.into_owned()),
            details: ObjectDetails {
                creation_date: Cow::Owned(self.details.creation_date.into_owned()),
                resource_owner: Cow::Owned(self.details.resource_owner.into_owned()),
            },
            name: Cow::Owned(self.name.into_owned()),
            state: Cow::Owned(self.state.into_owned()),
        }
    }
}

/// A Personal Access Token or a machine key of a service user, as the v2 lists
/// (`ListPersonalAccessTokens`, `ListKeys`: `creationDate`, `userId`, `organizationId`) or
/// the v1 lists of one user (`details`, the user in the path) send it. No field holds the
/// token or the key: no list sends them, and a field a server added would not be read.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Credential<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub organization_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "timestamp")]
    pub creation_date: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "timestamp")]
    pub expiration_date: Cow<'a, str>,
    #[serde(borrow)]
    pub details: ObjectDetails<'a>,
}

impl Row for Credential<'_> {}

/// The body of `GET /auth/v1/users/me` (`GetMyUserResponse`: `user`, `lastLogin`): the
/// token's own user, of which only the id is read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MyUserResponse<'a> {
    #[serde(borrow)]
    pub user: MyUser<'a>,
}

/// `zitadel.user.v1.User`, its id only.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MyUser<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub id: Cow<'a, str>,
}

/// The answer of `ListIAMMemberRoles`: unlike the other member-role lists, its roles are
/// under `roles`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InstanceMemberRoles<'a> {
    #[serde(borrow, deserialize_with = "strings")]
    pub roles: Strings<'a>,
}

/// The body of `GET /v2/users/{userId}/authentication_methods`
/// (`ListAuthenticationMethodTypesResponse`): the kinds of method the user can sign in with,
/// in no order (absent when none). Read sorted and each once (`enum_names`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AuthMethodTypes {
    #[serde(deserialize_with = "auth_method_types")]
    pub auth_method_types: Vec<String>,
}

fn auth_method_types<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    enum_names(d, "AUTHENTICATION_METHOD_TYPE_")
}

/// The body of `GET /management/v1/policies/login` (`GetLoginPolicyResponse`). ZITADEL always
/// sends the policy; `isDefault` (here and in it) says it is the instance's default.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LoginPolicyResponse<'a> {
    #[serde(borrow)]
    pub policy: Option<LoginPolicy<'a>>,
    pub is_default: bool,
}

/// An organization's login policy (`zitadel.policy.v1.LoginPolicy`), the fields of how its
/// users sign in; `passwordlessType` is absent for `PASSWORDLESS_TYPE_NOT_ALLOWED` (0).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LoginPolicy<'a> {
    pub allow_username_password: bool,
    pub allow_external_idp: bool,
    pub force_mfa: bool,
    pub force_mfa_local_only: bool,
    #[serde(borrow, deserialize_with = "text")]
    pub passwordless_type: Cow<'a, str>,
    #[serde(deserialize_with = "second_factors")]
    pub second_factors: Vec<String>,
    #[serde(deserialize_with = "multi_factors")]
    pub multi_factors: Vec<String>,
    pub is_default: bool,
}

impl LoginPolicyResponse<'_> {
    /// The answer, no longer borrowing from the body it was read from.
    pub fn into_owned(self) -> LoginPolicyResponse<'static> {
        let policy = self.policy.map(|policy| LoginPolicy {
            passwordless_type: Cow::Owned(policy.passwordless_type.into_owned()),
            ..policy
        });
        LoginPolicyResponse { policy, is_default: self.is_default }
    }
}

fn second_factors<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    enum_names(d, "SECOND_FACTOR_TYPE_")
}

fn multi_factors<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    enum_names(d, "MULTI_FACTOR_TYPE_")
}

/// A project grant (`zitadel.project.v1.GrantedProject`): a project delegated to another
/// organization with some of its role keys.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProjectGrant<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub grant_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub granted_org_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub granted_org_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "strings")]
    pub granted_role_keys: Strings<'a>,
    #[serde(borrow, deserialize_with = "text")]
    pub state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub project_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub project_name: Cow<'a, str>,
    #[serde(borrow)]
    pub details: GrantDetails<'a>,
}

impl Row for User<'_> {
    fn list_items(&self) -> usize {
        self.login_names.len()
    }
}

impl Row for UserGrant<'_> {
    fn list_items(&self) -> usize {
        self.role_keys.len()
    }
}

impl Row for Project<'_> {}

impl Row for Role<'_> {}

/// Rows that are only counted, never read.
impl Row for IgnoredAny {}

impl Row for Member<'_> {
    fn list_items(&self) -> usize {
        self.roles.len()
    }
}

impl Row for ProjectGrant<'_> {
    fn list_items(&self) -> usize {
        self.granted_role_keys.len()
    }
}

/// An error body (`google.rpc.Status`): `{"code":16,"message":"... (AUTH-7fs1e)",
/// "details":[{"id":"AUTH-7fs1e","message":"..."}]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Status {
    pub code: i64,
    pub message: String,
    /// The first non-empty `details[].id`; the details are read one at a time and dropped.
    #[serde(rename = "details", deserialize_with = "first_error_id")]
    error_id: String,
}

impl Status {
    /// ZITADEL's own error id (`AUTH-7fs1e`), if the body carries one.
    pub fn error_id(&self) -> Option<&str> {
        Some(self.error_id.as_str()).filter(|id| !id.is_empty())
    }
}

fn first_error_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Default, Deserialize)]
    #[serde(default)]
    struct ErrorDetail {
        id: String,
    }
    struct FirstId;
    impl<'de> Visitor<'de> for FirstId {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of error details")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
            let mut first = String::new();
            while let Some(detail) = seq.next_element::<ErrorDetail>()? {
                if first.is_empty() {
                    first = detail.id;
                }
            }
            Ok(first)
        }
    }
    deserializer.deserialize_seq(FirstId)
}
