//! Pure conversion of ZITADEL wire objects into output records: no I/O, no state.

use std::borrow::Cow;

use crate::id;
use crate::record::{
    AccountType, CredentialResource, EmailAddress, Entitlement, Grant, GrantId, InstanceResource,
    ManagerGrant, OrgGrant, OrgResource, ProjectGrantResource, ProjectResource, SecretTrait,
    Status, StructuredName, UserResource, UserTrait,
};
use crate::wire;
use crate::words;

mod sign_in;

pub use sign_in::{login_policy, user_auth};

/// Maps a ZITADEL user state to a baton status.
///
/// Initial (not yet set up) and locked (too many failed logins) users keep their access, so
/// they count as enabled; deactivated and suspended users are disabled.
pub fn user_status(state: &str) -> Status {
    match state {
        "USER_STATE_ACTIVE" | "USER_STATE_INITIAL" | "USER_STATE_LOCKED" => Status::Enabled,
        "USER_STATE_INACTIVE" | "USER_STATE_SUSPEND" => Status::Disabled,
        "USER_STATE_DELETED" => Status::Deleted,
        _ => Status::Unspecified,
    }
}

/// Maps a ZITADEL project state to a baton status.
pub fn project_status(state: &str) -> Status {
    match state {
        "PROJECT_STATE_ACTIVE" => Status::Enabled,
        "PROJECT_STATE_INACTIVE" => Status::Disabled,
        _ => Status::Unspecified,
    }
}

/// A user of the synced organization. `org_id` is used when the user's own `details` do not
/// name its organization.
pub fn user<'a>(user: &'a wire::User<'a>, org_id: &'a str) -> UserResource<'a> {
    let human = user.human.as_ref();
    let machine = user.machine.as_ref();
    let profile = human.map(|h| &h.profile);
    let display_name = display_name(
        profile.map(|p| &*p.display_name),
        profile.map(|p| (&*p.first_name, &*p.last_name)),
        [machine.map(|m| &*m.name), Some(&user.preferred_login_name), Some(&user.user_name)],
        &user.id,
    );
    let emails = match human {
        Some(h) if !h.email.email.is_empty() => vec![EmailAddress {
            address: &h.email.email,
            is_primary: true,
            is_verified: Some(h.email.is_email_verified),
        }],
        _ => Vec::new(),
    };
    let login = non_empty(&user.preferred_login_name).or(non_empty(&user.user_name));
    let login_aliases = user
        .login_names
        .iter()
        .map(|name| &**name)
        .filter(|name| !name.is_empty() && Some(*name) != login)
        .collect();
    let account_type = match (human, machine) {
        (Some(_), _) => Some(AccountType::Human),
        (None, Some(_)) => Some(AccountType::Service),
        (None, None) => None,
    };
    // Every string of the record is the row's, a constant, a timestamp as ZITADEL writes
    // one (`timestamp.rs`), two of the row's joined with a space, or `org_id` where the row
    // names no organization.
    let from_row = [
        &user.id,
        &user.state,
        &user.details.resource_owner,
        &user.user_name,
        &user.preferred_login_name,
    ];
    let from_human = human.map(|h| {
        let profile = &h.profile;
        [&profile.first_name, &profile.last_name, &profile.display_name, &h.email.email]
    });
    let from_machine = machine.map(|m| [&m.name, &m.description]);
    let plain = wire::known_plain(&from_row)
        && from_human.is_none_or(|strings| wire::known_plain(&strings))
        && from_machine.is_none_or(|strings| wire::known_plain(&strings))
        && user.login_names.iter().all(|name| wire::known_plain(&[name]))
        && (!user.details.resource_owner.is_empty()
            || !words::holds_json_escaped(org_id.as_bytes()));
    UserResource {
        plain,
        kind: "resource",
        resource_type: "user",
        id: &user.id,
        display_name,
        status: user_status(&user.state),
        status_details: Some(raw_state(&user.state, "USER_STATE_UNSPECIFIED")),
        org_id: Some(non_empty(&user.details.resource_owner).unwrap_or(org_id)),
        org_name: None,
        created_at: non_empty(&user.details.creation_date),
        external: false,
        user: UserTrait {
            account_type,
            login,
            login_aliases: Some(login_aliases),
            username: non_empty(&user.user_name),
            emails,
            structured_name: profile.and_then(|p| structured_name(&p.first_name, &p.last_name)),
            description: machine.and_then(|m| non_empty(&m.description)),
        },
    }
}

/// A user of another organization, built only from what a user grant says about it and
/// the name the stream knows its organization by (`known_org_name`), if the grant has none.
pub fn external_user<'a>(
    grant: &'a wire::UserGrant<'a>,
    known_org_name: Option<&'a str>,
) -> UserResource<'a> {
    external(Someone {
        id: &grant.user_id,
        display_name: &grant.display_name,
        first_name: &grant.first_name,
        last_name: &grant.last_name,
        login: &grant.preferred_login_name,
        username: &grant.user_name,
        email: &grant.email,
        user_type: &grant.user_type,
        org_id: Some(&grant.granted_org_id),
        org_name: non_empty(&grant.granted_org_name).or(known_org_name).unwrap_or(""),
    })
}

/// What a user grant or a member row says of a user of another organization.
struct Someone<'a> {
    id: &'a str,
    display_name: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    login: &'a str,
    username: &'a str,
    email: &'a str,
    user_type: &'a str,
    org_id: Option<&'a str>,
    org_name: &'a str,
}

/// An external user record, inventing nothing the source did not say.
fn external(someone: Someone<'_>) -> UserResource<'_> {
    let display_name = display_name(
        Some(someone.display_name),
        Some((someone.first_name, someone.last_name)),
        [Some(someone.login), Some(someone.username)],
        someone.id,
    );
    let account_type = match someone.user_type {
        "TYPE_HUMAN" => Some(AccountType::Human),
        "TYPE_MACHINE" => Some(AccountType::Service),
        _ => None,
    };
    let emails = non_empty(someone.email)
        .map(|address| EmailAddress { address, is_primary: true, is_verified: None })
        .into_iter()
        .collect();
    UserResource {
        plain: false,
        kind: "resource",
        resource_type: "user",
        id: someone.id,
        display_name,
        status: Status::Unspecified,
        status_details: None,
        org_id: someone.org_id,
        org_name: non_empty(someone.org_name),
        created_at: None,
        external: true,
        user: UserTrait {
            account_type,
            login: non_empty(someone.login),
            login_aliases: None,
            username: non_empty(someone.username),
            emails,
            structured_name: structured_name(someone.first_name, someone.last_name),
            description: None,
        },
    }
}

/// A project of the synced organization.
pub fn project<'a>(project: &'a wire::Project<'a>, org_id: &'a str) -> ProjectResource<'a> {
    ProjectResource {
        kind: "resource",
        resource_type: "project",
        id: &project.id,
        display_name: if project.name.is_empty() { &project.id } else { &project.name },
        status: project_status(&project.state),
        status_details: raw_state(&project.state, "PROJECT_STATE_UNSPECIFIED"),
        org_id: non_empty(&project.details.resource_owner).unwrap_or(org_id),
        created_at: non_empty(&project.details.creation_date),
    }
}

/// A role of `project_id`, as the entitlement to hold it.
pub fn entitlement<'a>(project_id: &'a str, role: &'a wire::Role<'a>) -> Entitlement<'a> {
    Entitlement {
        kind: "entitlement",
        id: entitlement_id(project_id, &role.key),
        resource_type: "project",
        resource_id: project_id,
        slug: Cow::Borrowed(&role.key),
        display_name: Cow::Borrowed(non_empty(&role.display_name).unwrap_or(&role.key)),
        purpose: "ASSIGNMENT",
        grantable_to: ["user"],
        group: non_empty(&role.group),
    }
}

/// One role key of a user grant on `project_id`; `entitlement_id` is the role's, as
/// `entitlement_id` makes it (made once per role, not once per grant); `plain_project` is
/// whether the project's id and role keys hold nothing JSON escapes (`Project::plain`). A
/// grant made through a project grant says so, and by whom.
pub fn grant<'a>(
    project_id: &'a str,
    role_key: &'a str,
    entitlement_id: &'a str,
    plain_project: bool,
    user_grant: &'a wire::UserGrant<'a>,
) -> Grant<'a> {
    let project_grant_id = non_empty(&user_grant.project_grant_id);
    // Its dates are timestamps as ZITADEL writes them (`timestamp.rs`), plain whatever their
    // source; its constants are.
    let from_user_grant = &[
        &user_grant.user_id,
        &user_grant.id,
        &user_grant.state,
        &user_grant.project_grant_id,
        &user_grant.details.resource_owner,
    ];
    Grant {
        plain: plain_project && wire::known_plain(from_user_grant),
        id: GrantId::new(entitlement_id, &user_grant.user_id, project_grant_id),
        entitlement_id,
        resource_id: project_id,
        slug: role_key,
        principal_id: &user_grant.user_id,
        user_grant_id: &user_grant.id,
        state: raw_state(&user_grant.state, "USER_GRANT_STATE_UNSPECIFIED"),
        project_grant_id,
        granted_by_org_id: project_grant_id.and(non_empty(&user_grant.details.resource_owner)),
        created_at: non_empty(&user_grant.details.creation_date),
        updated_at: non_empty(&user_grant.details.change_date),
    }
}

/// Whether a user grant is inactive. A grant whose state is missing is kept: dropping it
/// would hide access that may well exist.
pub fn is_inactive(user_grant: &wire::UserGrant) -> bool {
    user_grant.state == "USER_GRANT_STATE_INACTIVE"
}

/// baton's entitlement id convention: `<resource_type>:<resource_id>:<slug>`, each part
/// escaped (`id.rs`).
pub fn entitlement_id(project_id: &str, role_key: &str) -> String {
    id::join(["project", project_id, role_key])
}

/// Maps a ZITADEL organization state to a baton status.
pub fn org_status(state: &str) -> Status {
    match state {
        "ORG_STATE_ACTIVE" => Status::Enabled,
        "ORG_STATE_INACTIVE" => Status::Disabled,
        _ => Status::Unspecified,
    }
}

/// Maps a ZITADEL project grant state to a baton status.
pub fn project_grant_status(state: &str) -> Status {
    match state {
        "PROJECT_GRANT_STATE_ACTIVE" => Status::Enabled,
        "PROJECT_GRANT_STATE_INACTIVE" => Status::Disabled,
        _ => Status::Unspecified,
    }
}

/// The synced organization itself.
pub fn org<'a>(org: &'a wire::Org<'a>) -> OrgResource<'a> {
    OrgResource {
        kind: "resource",
        resource_type: "org",
        id: &org.id,
        display_name: non_empty(&org.name).unwrap_or(&org.id),
        status: Some(org_status(&org.state)),
        status_details: Some(raw_state(&org.state, "ORG_STATE_UNSPECIFIED")),
        primary_domain: non_empty(&org.primary_domain),
        created_at: non_empty(&org.details.creation_date),
        external: false,
        login_policy: None,
    }
}

/// Another organization, known only by what a project grant says of it.
pub fn external_org<'a>(id: &'a str, name: &'a str) -> OrgResource<'a> {
    OrgResource {
        kind: "resource",
        resource_type: "org",
        id,
        display_name: non_empty(name).unwrap_or(id),
        status: None,
        status_details: None,
        primary_domain: None,
        created_at: None,
        external: true,
        login_policy: None,
    }
}

/// Maps a ZITADEL instance state to a baton status: a running instance is enabled, one
/// stopping or stopped disabled, one still being created unspecified.
pub fn instance_status(state: &str) -> Status {
    match state {
        "STATE_RUNNING" => Status::Enabled,
        "STATE_STOPPING" | "STATE_STOPPED" => Status::Disabled,
        _ => Status::Unspecified,
    }
}

/// The instance the organization lives in.
pub fn instance<'a>(instance: &'a wire::Instance<'a>) -> InstanceResource<'a> {
    InstanceResource {
        kind: "resource",
        resource_type: "instance",
        id: &instance.id,
        display_name: non_empty(&instance.name).unwrap_or(&instance.id),
        status: instance_status(&instance.state),
        status_details: raw_state(&instance.state, "STATE_UNSPECIFIED"),
        created_at: non_empty(&instance.details.creation_date),
    }
}

/// The kinds of credential of a service user: resource type, display name's noun,
/// baton's credential type and detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Pat,
    MachineKey,
    ClientSecret,
}

impl CredentialKind {
    pub fn resource_type(self) -> &'static str {
        match self {
            CredentialKind::Pat => "pat",
            CredentialKind::MachineKey => "machine_key",
            CredentialKind::ClientSecret => "client_secret",
        }
    }

    fn name(self) -> &'static str {
        match self {
            CredentialKind::Pat => "Personal Access Token",
            CredentialKind::MachineKey => "Machine Key",
            CredentialKind::ClientSecret => "Client Secret",
        }
    }

    fn credential_type(self) -> &'static str {
        match self {
            CredentialKind::MachineKey => "CREDENTIAL_TYPE_ASYMMETRIC_KEY",
            _ => "CREDENTIAL_TYPE_STATIC_SECRET",
        }
    }

    fn detail(self) -> &'static str {
        match self {
            CredentialKind::Pat => "zitadel.personal_access_token",
            CredentialKind::MachineKey => "zitadel.machine_key",
            CredentialKind::ClientSecret => "zitadel.client_secret",
        }
    }
}

/// A token or key of the service user `user_id` of `org_id`, from a v2 list (dates at the
/// top) or a v1 list (dates in `details`). The expiry is ZITADEL's, rewritten in no way.
pub fn credential<'a>(
    kind: CredentialKind,
    row: &'a wire::Credential<'a>,
    user_id: &'a str,
    org_id: &'a str,
) -> CredentialResource<'a> {
    let created_at = non_empty(&row.creation_date).or(non_empty(&row.details.creation_date));
    let org_id = non_empty(&row.organization_id)
        .or(non_empty(&row.details.resource_owner))
        .unwrap_or(org_id);
    CredentialResource {
        kind: "resource",
        resource_type: kind.resource_type(),
        id: &row.id,
        display_name: format!("{} {} of {user_id}", kind.name(), row.id),
        org_id,
        created_at,
        secret: SecretTrait {
            identity_id: user_id,
            credential_type: kind.credential_type(),
            credential_detail: kind.detail(),
            expires_at: non_empty(&row.expiration_date),
        },
    }
}

/// The client secret of the service user `user_id`: all ZITADEL says of it is that it
/// exists, so it takes its user's id and has no dates.
pub fn client_secret<'a>(user_id: &'a str, org_id: &'a str) -> CredentialResource<'a> {
    let kind = CredentialKind::ClientSecret;
    CredentialResource {
        kind: "resource",
        resource_type: kind.resource_type(),
        id: user_id,
        display_name: format!("{} of {user_id}", kind.name()),
        org_id,
        created_at: None,
        secret: SecretTrait {
            identity_id: user_id,
            credential_type: kind.credential_type(),
            credential_detail: kind.detail(),
            expires_at: None,
        },
    }
}

/// A manager role as ZITADEL's console shows it: the words of `ORG_OWNER_VIEWER`
/// title-cased, `Org Owner Viewer`.
pub fn manager_role_name(role: &str) -> String {
    let mut name = String::with_capacity(role.len());
    for word in role.split('_').filter(|word| !word.is_empty()) {
        if !name.is_empty() {
            name.push(' ');
        }
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.extend(chars.flat_map(char::to_lowercase));
        }
    }
    name
}

/// The slug of a manager role on a resource: the role itself, except on a project, whose
/// slugs are its role keys already, where it is `manager:<ROLE>`.
pub fn manager_slug<'a>(resource_type: &str, role: &'a str) -> Cow<'a, str> {
    match resource_type {
        "project" => Cow::Owned(format!("manager:{role}")),
        _ => Cow::Borrowed(role),
    }
}

/// A manager role of a resource (`org`, `project`, `project_grant` or `instance`), as the entitlement
/// to hold it.
pub fn manager_entitlement<'a>(
    resource_type: &'static str,
    resource_id: &'a str,
    role: &'a str,
) -> Entitlement<'a> {
    let slug = manager_slug(resource_type, role);
    // A project's `manager:` is a component of its own, so that no role key, in which a `:`
    // is escaped, gives the same id.
    let id = match resource_type {
        "project" => id::join([resource_type, resource_id, "manager", role]),
        _ => id::join([resource_type, resource_id, role]),
    };
    Entitlement {
        kind: "entitlement",
        id,
        resource_type,
        resource_id,
        slug,
        display_name: Cow::Owned(manager_role_name(role)),
        purpose: "PERMISSION",
        grantable_to: ["user"],
        group: None,
    }
}

/// A manager role held by `member`; `entitlement_id` is the role's, as
/// `manager_entitlement` makes it.
pub fn manager_grant<'a>(
    resource_type: &'static str,
    resource_id: &'a str,
    role: &'a str,
    entitlement_id: &'a str,
    member: &'a wire::Member<'a>,
) -> ManagerGrant<'a> {
    let user_id = &*member.user_id;
    ManagerGrant {
        kind: "grant",
        id: id::extend(entitlement_id, ["user", user_id]),
        entitlement_id,
        resource_type,
        resource_id,
        slug: manager_slug(resource_type, role),
        principal_type: "user",
        principal_id: user_id,
        created_at: non_empty(&member.details.creation_date),
        updated_at: non_empty(&member.details.change_date),
    }
}

/// A manager from another organization, built only from what the member list says of it
/// (no user name, and no organization on servers before zitadel#9168) and the name the
/// stream knows its organization by, which the member list never gives.
pub fn external_member<'a>(
    member: &'a wire::Member<'a>,
    known_org_name: Option<&'a str>,
) -> UserResource<'a> {
    external(Someone {
        id: &member.user_id,
        display_name: &member.display_name,
        first_name: &member.first_name,
        last_name: &member.last_name,
        login: &member.preferred_login_name,
        username: "",
        email: &member.email,
        user_type: &member.user_type,
        org_id: non_empty(&member.user_resource_owner),
        org_name: known_org_name.unwrap_or(""),
    })
}

/// A project grant of the project `project_name` (the project's own name, used when the
/// grant does not carry it).
pub fn project_grant<'a>(
    grant: &'a wire::ProjectGrant<'a>,
    project_name: &str,
) -> ProjectGrantResource<'a> {
    let project = non_empty(&grant.project_name).or(non_empty(project_name));
    let project = project.unwrap_or(&grant.project_id);
    let granted_org = non_empty(&grant.granted_org_name).unwrap_or(&grant.granted_org_id);
    ProjectGrantResource {
        kind: "resource",
        resource_type: "project_grant",
        id: &grant.grant_id,
        display_name: format!("{project} for {granted_org}"),
        status: project_grant_status(&grant.state),
        status_details: raw_state(&grant.state, "PROJECT_GRANT_STATE_UNSPECIFIED"),
        project_id: &grant.project_id,
        granted_org_id: &grant.granted_org_id,
        granted_org_name: non_empty(&grant.granted_org_name),
        role_keys: grant.granted_role_keys.iter().map(|key| &**key).collect(),
        created_at: non_empty(&grant.details.creation_date),
    }
}

/// Whether a project grant is inactive; as for user grants, a missing state is kept.
pub fn is_inactive_project_grant(grant: &wire::ProjectGrant) -> bool {
    grant.state == "PROJECT_GRANT_STATE_INACTIVE"
}

/// A role key of `project_id` delegated by a project grant to its granted organization.
pub fn org_grant<'a>(
    project_id: &'a str,
    role_key: &'a str,
    entitlement_id: &'a str,
    grant: &'a wire::ProjectGrant<'a>,
) -> OrgGrant<'a> {
    OrgGrant {
        kind: "grant",
        id: id::extend(entitlement_id, ["org", &grant.granted_org_id]),
        entitlement_id,
        resource_type: "project",
        resource_id: project_id,
        slug: role_key,
        principal_type: "org",
        principal_id: &grant.granted_org_id,
        project_grant_id: &grant.grant_id,
        state: raw_state(&grant.state, "PROJECT_GRANT_STATE_UNSPECIFIED"),
        created_at: non_empty(&grant.details.creation_date),
        updated_at: non_empty(&grant.details.change_date),
    }
}

/// The first name that is not empty: the display name ZITADEL sent, else the full name
/// made of `first` and `last`, else the first of `others`, else the id. The full name is
/// built only when there is no display name (it is a new string, and nearly every user has
/// one).
fn display_name<'a, const N: usize>(
    given: Option<&'a str>,
    names: Option<(&'a str, &'a str)>,
    others: [Option<&'a str>; N],
    id: &'a str,
) -> Cow<'a, str> {
    if let Some(given) = given.and_then(non_empty) {
        return Cow::Borrowed(given);
    }
    match names.map(|(first, last)| full_name(first, last)) {
        Some(full) if !full.is_empty() => full,
        _ => {
            Cow::Borrowed(others.into_iter().flatten().find(|name| !name.is_empty()).unwrap_or(id))
        }
    }
}

fn full_name<'a>(first: &'a str, last: &'a str) -> Cow<'a, str> {
    match (first.is_empty(), last.is_empty()) {
        (false, false) => Cow::Owned(format!("{first} {last}")),
        (false, true) => Cow::Borrowed(first),
        (true, _) => Cow::Borrowed(last),
    }
}

fn structured_name<'a>(given_name: &'a str, family_name: &'a str) -> Option<StructuredName<'a>> {
    if given_name.is_empty() && family_name.is_empty() {
        return None;
    }
    Some(StructuredName { given_name, family_name })
}

fn raw_state<'a>(state: &'a str, unspecified: &'static str) -> &'a str {
    if state.is_empty() { unspecified } else { state }
}

fn non_empty(text: &str) -> Option<&str> {
    if text.is_empty() { None } else { Some(text) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a wire sample, maps it with `map` (which serializes the record with `json`) and
    /// compares the result with `expected` (key order is left to the golden files).
    fn check<'a, W: serde::Deserialize<'a>>(
        wire: &'a str,
        map: impl FnOnce(&W) -> String,
        expected: &str,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let parsed: W = serde_json::from_str(wire)?;
        let actual: serde_json::Value = serde_json::from_str(&map(&parsed))?;
        let expected: serde_json::Value = serde_json::from_str(expected)?;
        assert_eq!(actual, expected, "\nwire: {wire}");
        Ok(())
    }

    fn json(record: &impl serde::Serialize) -> String {
        serde_json::to_string(record).expect("records always serialize")
    }

    #[test]
    fn human_user_maps_every_field() -> Result<(), Box<dyn std::error::Error>> {
        check(
            r#"{"id":"100","details":{"sequence":"3","creationDate":"2025-03-04T10:11:12.123456Z","changeDate":"2025-03-05T10:11:12Z","resourceOwner":"900"},
               "state":"USER_STATE_ACTIVE","userName":"alice","loginNames":["alice","alice@acme.example.com"],
               "preferredLoginName":"alice@acme.example.com",
               "human":{"profile":{"firstName":"Alice","lastName":"Liddell","displayName":"Alice L.","preferredLanguage":"und"},
                        "email":{"email":"alice@acme.example.com","isEmailVerified":true},"phone":{}}}"#,
            |u: &wire::User| json(&user(u, "ignored")),
            r#"{"kind":"resource","resource_type":"user","id":"100","display_name":"Alice L.","status":"ENABLED",
               "status_details":"USER_STATE_ACTIVE","org_id":"900","created_at":"2025-03-04T10:11:12.123456Z","external":false,
               "user":{"account_type":"HUMAN","login":"alice@acme.example.com","login_aliases":["alice"],"username":"alice",
                       "emails":[{"address":"alice@acme.example.com","is_primary":true,"is_verified":true}],
                       "structured_name":{"given_name":"Alice","family_name":"Liddell"}}}"#,
        )
    }

    #[test]
    fn human_without_email_or_display_name() -> Result<(), Box<dyn std::error::Error>> {
        check(
            r#"{"id":"101","state":"USER_STATE_LOCKED","userName":"bob",
               "human":{"profile":{"firstName":"Bob","lastName":"Builder"},"email":{},"phone":{}}}"#,
            |u: &wire::User| json(&user(u, "900")),
            r#"{"kind":"resource","resource_type":"user","id":"101","display_name":"Bob Builder","status":"ENABLED",
               "status_details":"USER_STATE_LOCKED","org_id":"900","external":false,
               "user":{"account_type":"HUMAN","login":"bob","login_aliases":[],"username":"bob","emails":[],
                       "structured_name":{"given_name":"Bob","family_name":"Builder"}}}"#,
        )
    }

    #[test]
    fn machine_user_is_a_service_account() -> Result<(), Box<dyn std::error::Error>> {
        check(
            r#"{"id":"102","state":"USER_STATE_INACTIVE","userName":"ci-bot","loginNames":["ci-bot"],"preferredLoginName":"ci-bot",
               "machine":{"name":"CI Bot","description":"deploys","accessTokenType":"ACCESS_TOKEN_TYPE_JWT"}}"#,
            |u: &wire::User| json(&user(u, "900")),
            r#"{"kind":"resource","resource_type":"user","id":"102","display_name":"CI Bot","status":"DISABLED",
               "status_details":"USER_STATE_INACTIVE","org_id":"900","external":false,
               "user":{"account_type":"SERVICE","login":"ci-bot","login_aliases":[],"username":"ci-bot","emails":[],
                       "description":"deploys"}}"#,
        )
    }

    /// The organization's id stands in for a user's own where the row names none, and is
    /// then written escaped, though every string of the row is plain.
    #[test]
    fn a_user_without_an_organization_takes_the_organizations_id_escaped()
    -> Result<(), Box<dyn std::error::Error>> {
        use crate::record_json::WriteJson;
        let row: wire::User = serde_json::from_str(r#"{"id":"1","userName":"u","machine":{}}"#)?;
        let mut line = Vec::new();
        user(&row, "9\"00").write_json(&mut line);
        let written: serde_json::Value = serde_json::from_slice(&line)?;
        assert_eq!(written["org_id"], "9\"00");
        Ok(())
    }

    #[test]
    fn display_name_falls_back_to_login_then_user_name_then_id()
    -> Result<(), Box<dyn std::error::Error>> {
        let name = |wire: &str| -> Result<String, Box<dyn std::error::Error>> {
            let parsed: wire::User = serde_json::from_str(wire)?;
            Ok(user(&parsed, "900").display_name.into_owned())
        };
        assert_eq!(
            name(r#"{"id":"1","preferredLoginName":"p","userName":"u","machine":{}}"#)?,
            "p"
        );
        assert_eq!(name(r#"{"id":"1","userName":"u","human":{"profile":{}}}"#)?, "u");
        assert_eq!(name(r#"{"id":"1"}"#)?, "1");
        assert_eq!(name(r#"{"id":"1","human":{"profile":{"lastName":"Last"}}}"#)?, "Last");
        Ok(())
    }

    #[test]
    fn user_states_map_to_baton_statuses() {
        assert_eq!(user_status("USER_STATE_INITIAL"), Status::Enabled);
        assert_eq!(user_status("USER_STATE_SUSPEND"), Status::Disabled);
        assert_eq!(user_status("USER_STATE_DELETED"), Status::Deleted);
        assert_eq!(user_status(""), Status::Unspecified);
        assert_eq!(user_status("USER_STATE_SOMETHING_NEW"), Status::Unspecified);
        assert_eq!(project_status("PROJECT_STATE_REMOVED"), Status::Unspecified);
    }

    #[test]
    fn user_without_state_is_unspecified() -> Result<(), Box<dyn std::error::Error>> {
        let parsed: wire::User = serde_json::from_str(r#"{"id":"1"}"#)?;
        let record = user(&parsed, "900");
        assert_eq!(record.status, Status::Unspecified);
        assert_eq!(record.status_details, Some("USER_STATE_UNSPECIFIED"));
        Ok(())
    }

    #[test]
    fn project_and_role_map_to_resource_and_entitlement() -> Result<(), Box<dyn std::error::Error>>
    {
        check(
            r#"{"id":"300","details":{"creationDate":"2025-01-02T03:04:05Z","resourceOwner":"900"},"name":"Billing","state":"PROJECT_STATE_INACTIVE","projectRoleAssertion":true}"#,
            |p: &wire::Project| json(&project(p, "900")),
            r#"{"kind":"resource","resource_type":"project","id":"300","display_name":"Billing","status":"DISABLED",
               "status_details":"PROJECT_STATE_INACTIVE","org_id":"900","created_at":"2025-01-02T03:04:05Z"}"#,
        )?;
        check(
            r#"{"key":"admin","details":{"sequence":"2"},"displayName":"Administrator","group":"ops"}"#,
            |r: &wire::Role| json(&entitlement("300", r)),
            r#"{"kind":"entitlement","id":"project:300:admin","resource_type":"project","resource_id":"300","slug":"admin",
               "display_name":"Administrator","purpose":"ASSIGNMENT","grantable_to":["user"],"group":"ops"}"#,
        )?;
        check(
            r#"{"key":"viewer"}"#,
            |r: &wire::Role| json(&entitlement("300", r)),
            r#"{"kind":"entitlement","id":"project:300:viewer","resource_type":"project","resource_id":"300","slug":"viewer",
               "display_name":"viewer","purpose":"ASSIGNMENT","grantable_to":["user"]}"#,
        )
    }

    const EXTERNAL_GRANT: &str = r#"{"id":"500","details":{"resourceOwner":"900"},"roleKeys":["viewer"],"state":"USER_GRANT_STATE_ACTIVE",
        "userId":"777","userName":"eve","firstName":"Eve","lastName":"Polastri","email":"eve@globex.example.com","displayName":"Eve P.",
        "orgId":"900","orgName":"ACME","orgDomain":"acme.example.com","projectId":"300","projectName":"Billing",
        "preferredLoginName":"eve@globex.example.com","userType":"TYPE_HUMAN",
        "grantedOrgId":"800","grantedOrgName":"Globex","grantedOrgDomain":"globex.example.com"}"#;

    #[test]
    fn grant_names_entitlement_and_principal() -> Result<(), Box<dyn std::error::Error>> {
        check(
            EXTERNAL_GRANT,
            |g: &wire::UserGrant| json(&grant("300", "viewer", "project:300:viewer", true, g)),
            r#"{"kind":"grant","id":"project:300:viewer:user:777","entitlement_id":"project:300:viewer","resource_type":"project",
               "resource_id":"300","slug":"viewer","principal_type":"user","principal_id":"777","user_grant_id":"500",
               "state":"USER_GRANT_STATE_ACTIVE"}"#,
        )
    }

    #[test]
    fn a_grant_says_when_its_user_grant_was_made_and_last_changed()
    -> Result<(), Box<dyn std::error::Error>> {
        check(
            r#"{"id":"500","details":{"sequence":"2","creationDate":"2025-06-01T10:00:00.1Z","changeDate":"2025-06-03T07:00:00.25Z","resourceOwner":"900"},
                "roleKeys":["viewer"],"state":"USER_GRANT_STATE_ACTIVE","userId":"777"}"#,
            |g: &wire::UserGrant| json(&grant("300", "viewer", "project:300:viewer", true, g)),
            r#"{"kind":"grant","id":"project:300:viewer:user:777","entitlement_id":"project:300:viewer","resource_type":"project",
               "resource_id":"300","slug":"viewer","principal_type":"user","principal_id":"777","user_grant_id":"500",
               "state":"USER_GRANT_STATE_ACTIVE","created_at":"2025-06-01T10:00:00.1Z","updated_at":"2025-06-03T07:00:00.25Z"}"#,
        )
    }

    #[test]
    fn external_user_uses_the_users_own_org_and_invents_nothing()
    -> Result<(), Box<dyn std::error::Error>> {
        check(
            EXTERNAL_GRANT,
            |g: &wire::UserGrant| json(&external_user(g, None)),
            r#"{"kind":"resource","resource_type":"user","id":"777","display_name":"Eve P.","status":"UNSPECIFIED",
               "org_id":"800","org_name":"Globex","external":true,
               "user":{"account_type":"HUMAN","login":"eve@globex.example.com","username":"eve",
                       "emails":[{"address":"eve@globex.example.com","is_primary":true}],
                       "structured_name":{"given_name":"Eve","family_name":"Polastri"}}}"#,
        )?;
        check(
            r#"{"id":"501","userId":"778","userName":"bot","userType":"TYPE_MACHINE","grantedOrgId":"800"}"#,
            |g: &wire::UserGrant| json(&external_user(g, None)),
            r#"{"kind":"resource","resource_type":"user","id":"778","display_name":"bot","status":"UNSPECIFIED",
               "org_id":"800","external":true,"user":{"account_type":"SERVICE","username":"bot","emails":[]}}"#,
        )
    }

    #[test]
    fn only_an_explicitly_inactive_grant_is_inactive() -> Result<(), Box<dyn std::error::Error>> {
        let inactive: wire::UserGrant =
            serde_json::from_str(r#"{"state":"USER_GRANT_STATE_INACTIVE"}"#)?;
        let unspecified: wire::UserGrant = serde_json::from_str(r#"{}"#)?;
        assert!(is_inactive(&inactive));
        assert!(!is_inactive(&unspecified));
        assert_eq!(
            grant("1", "k", "project:1:k", true, &unspecified).state,
            "USER_GRANT_STATE_UNSPECIFIED"
        );
        Ok(())
    }

    #[test]
    fn manager_roles_are_named_as_the_console_names_them() {
        assert_eq!(manager_role_name("ORG_OWNER_VIEWER"), "Org Owner Viewer");
        assert_eq!(manager_role_name("IAM_OWNER"), "Iam Owner");
        assert_eq!(manager_role_name("SELF_MANAGEMENT_GLOBAL"), "Self Management Global");
        assert_eq!(manager_role_name("_ODD__ROLE_"), "Odd Role");
        assert_eq!(manager_role_name(""), "");
    }

    #[test]
    fn manager_entitlements_and_grants_follow_batons_id_convention()
    -> Result<(), Box<dyn std::error::Error>> {
        let org = manager_entitlement("org", "900", "ORG_OWNER");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json(&org))?,
            serde_json::json!({"kind":"entitlement","id":"org:900:ORG_OWNER","resource_type":"org",
                "resource_id":"900","slug":"ORG_OWNER","display_name":"Org Owner","purpose":"PERMISSION",
                "grantable_to":["user"]})
        );
        let project = manager_entitlement("project", "300", "PROJECT_OWNER");
        assert_eq!(project.id, "project:300:manager:PROJECT_OWNER");
        assert_eq!(project.slug, "manager:PROJECT_OWNER");
        let grant = manager_entitlement("project_grant", "400", "PROJECT_GRANT_OWNER");
        assert_eq!(grant.id, "project_grant:400:PROJECT_GRANT_OWNER");
        // The membership's dates are the grant's: when it was added, when its roles changed.
        let member: wire::Member = serde_json::from_str(
            r#"{"userId":"777","details":{"sequence":"4","creationDate":"2025-01-20T10:00:01.123456Z","changeDate":"2025-03-02T08:00:00.5Z","resourceOwner":"900"},"roles":["PROJECT_OWNER"]}"#,
        )?;
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json(&manager_grant(
                "project",
                "300",
                "PROJECT_OWNER",
                &project.id,
                &member
            )))?,
            serde_json::json!({"kind":"grant","id":"project:300:manager:PROJECT_OWNER:user:777",
                "entitlement_id":"project:300:manager:PROJECT_OWNER","resource_type":"project",
                "resource_id":"300","slug":"manager:PROJECT_OWNER","principal_type":"user","principal_id":"777",
                "created_at":"2025-01-20T10:00:01.123456Z","updated_at":"2025-03-02T08:00:00.5Z"})
        );
        // A row without dates (no ZITADEL sends one) makes a grant without them.
        let undated: wire::Member =
            serde_json::from_str(r#"{"userId":"777","roles":["PROJECT_OWNER"]}"#)?;
        let grant = manager_grant("project", "300", "PROJECT_OWNER", &project.id, &undated);
        assert_eq!((grant.created_at, grant.updated_at), (None, None));
        Ok(())
    }

    #[test]
    fn the_instance_and_its_manager_roles() -> Result<(), Box<dyn std::error::Error>> {
        let wire: wire::Instance = serde_json::from_str(
            r#"{"id":"100","details":{"creationDate":"2024-01-01T00:00:00Z","resourceOwner":"100"},"state":"STATE_RUNNING","name":"acme-cloud","version":"v4.2.0"}"#,
        )?;
        assert_eq!(
            json(&instance(&wire)),
            r#"{"kind":"resource","resource_type":"instance","id":"100","display_name":"acme-cloud","status":"ENABLED","status_details":"STATE_RUNNING","created_at":"2024-01-01T00:00:00Z"}"#
        );
        let table = [
            ("STATE_RUNNING", Status::Enabled),
            ("STATE_STOPPING", Status::Disabled),
            ("STATE_STOPPED", Status::Disabled),
            ("STATE_CREATING", Status::Unspecified),
            ("", Status::Unspecified),
        ];
        for (state, status) in table {
            assert_eq!(instance_status(state), status, "{state}");
        }
        let unnamed: wire::Instance = serde_json::from_str(r#"{"id":"100"}"#)?;
        let unnamed = instance(&unnamed);
        assert_eq!((unnamed.display_name, unnamed.status_details), ("100", "STATE_UNSPECIFIED"));
        let owner = manager_entitlement("instance", "100", "IAM_OWNER");
        assert_eq!(
            (&*owner.id, &*owner.slug, &*owner.display_name),
            ("instance:100:IAM_OWNER", "IAM_OWNER", "Iam Owner")
        );
        let member: wire::Member = serde_json::from_str(r#"{"userId":"7:7"}"#)?;
        let grant = manager_grant("instance", "100", "IAM_OWNER", &owner.id, &member);
        assert_eq!(grant.id, "instance:100:IAM_OWNER:user:7%3A7");
        Ok(())
    }

    #[test]
    fn credentials_say_what_zitadel_lists_and_nothing_more()
    -> Result<(), Box<dyn std::error::Error>> {
        let v2: wire::Credential = serde_json::from_str(
            r#"{"creationDate":"2025-01-01T00:00:00Z","changeDate":"2025-01-02T00:00:00Z","id":"51","userId":"7","organizationId":"900","expirationDate":"9999-12-31T23:59:59Z","token":"never-read"}"#,
        )?;
        assert_eq!(
            json(&credential(CredentialKind::Pat, &v2, &v2.user_id, "900")),
            r#"{"kind":"resource","resource_type":"pat","id":"51","display_name":"Personal Access Token 51 of 7","org_id":"900","created_at":"2025-01-01T00:00:00Z","secret":{"identity_id":"7","credential_type":"CREDENTIAL_TYPE_STATIC_SECRET","credential_detail":"zitadel.personal_access_token","expires_at":"9999-12-31T23:59:59Z"}}"#
        );
        let v1: wire::Credential = serde_json::from_str(
            r#"{"id":"52","details":{"creationDate":"2025-02-01T00:00:00Z","resourceOwner":"900"},"type":"KEY_TYPE_JSON","expirationDate":"2026-01-01T00:00:00Z"}"#,
        )?;
        let key = credential(CredentialKind::MachineKey, &v1, "7", "111");
        assert_eq!((key.org_id, key.created_at), ("900", Some("2025-02-01T00:00:00Z")));
        assert_eq!(key.secret.credential_type, "CREDENTIAL_TYPE_ASYMMETRIC_KEY");
        assert_eq!(
            json(&client_secret("7", "900")),
            r#"{"kind":"resource","resource_type":"client_secret","id":"7","display_name":"Client Secret of 7","org_id":"900","secret":{"identity_id":"7","credential_type":"CREDENTIAL_TYPE_STATIC_SECRET","credential_detail":"zitadel.client_secret"}}"#
        );
        Ok(())
    }

    #[test]
    fn the_organization_and_external_organizations() -> Result<(), Box<dyn std::error::Error>> {
        check(
            r#"{"id":"900","details":{"sequence":"6","creationDate":"2024-11-05T09:02:47.719245Z","resourceOwner":"900"},
                "state":"ORG_STATE_INACTIVE","name":"ACME","primaryDomain":"acme.example.com"}"#,
            |o: &wire::Org| json(&org(o)),
            r#"{"kind":"resource","resource_type":"org","id":"900","display_name":"ACME","status":"DISABLED",
               "status_details":"ORG_STATE_INACTIVE","primary_domain":"acme.example.com",
               "created_at":"2024-11-05T09:02:47.719245Z","external":false}"#,
        )?;
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json(&external_org("800", "")))?,
            serde_json::json!({"kind":"resource","resource_type":"org","id":"800","display_name":"800","external":true})
        );
        assert_eq!(org_status("ORG_STATE_REMOVED"), Status::Unspecified);
        Ok(())
    }

    const PROJECT_GRANT: &str = r#"{"grantId":"400","grantedOrgId":"800","grantedOrgName":"Globex",
        "grantedRoleKeys":["reader","writer"],"state":"PROJECT_GRANT_STATE_INACTIVE","projectId":"300",
        "projectName":"HR","projectOwnerId":"900","projectOwnerName":"ACME",
        "details":{"sequence":"17","creationDate":"2025-04-01T12:00:00.000123Z","changeDate":"2025-05-02T08:30:00.5Z","resourceOwner":"900"}}"#;

    #[test]
    fn project_grants_map_to_a_resource_and_grants_to_the_organization()
    -> Result<(), Box<dyn std::error::Error>> {
        check(
            PROJECT_GRANT,
            |g: &wire::ProjectGrant| json(&project_grant(g, "ignored")),
            r#"{"kind":"resource","resource_type":"project_grant","id":"400","display_name":"HR for Globex",
               "status":"DISABLED","status_details":"PROJECT_GRANT_STATE_INACTIVE","project_id":"300",
               "granted_org_id":"800","granted_org_name":"Globex","role_keys":["reader","writer"],
               "created_at":"2025-04-01T12:00:00.000123Z"}"#,
        )?;
        check(
            PROJECT_GRANT,
            |g: &wire::ProjectGrant| json(&org_grant("300", "reader", "project:300:reader", g)),
            r#"{"kind":"grant","id":"project:300:reader:org:800","entitlement_id":"project:300:reader",
               "resource_type":"project","resource_id":"300","slug":"reader","principal_type":"org",
               "principal_id":"800","project_grant_id":"400","state":"PROJECT_GRANT_STATE_INACTIVE",
               "created_at":"2025-04-01T12:00:00.000123Z","updated_at":"2025-05-02T08:30:00.5Z"}"#,
        )?;
        check(
            r#"{"grantId":"401","grantedOrgId":"801","projectId":"300"}"#,
            |g: &wire::ProjectGrant| json(&project_grant(g, "Billing")),
            r#"{"kind":"resource","resource_type":"project_grant","id":"401","display_name":"Billing for 801",
               "status":"UNSPECIFIED","status_details":"PROJECT_GRANT_STATE_UNSPECIFIED","project_id":"300",
               "granted_org_id":"801","role_keys":[]}"#,
        )?;
        let inactive: wire::ProjectGrant = serde_json::from_str(PROJECT_GRANT)?;
        assert!(is_inactive_project_grant(&inactive));
        Ok(())
    }

    #[test]
    fn a_grant_made_through_a_project_grant_says_so_in_its_id_and_fields()
    -> Result<(), Box<dyn std::error::Error>> {
        check(
            r#"{"id":"600","details":{"resourceOwner":"800"},"roleKeys":["reader"],"state":"USER_GRANT_STATE_ACTIVE",
                "userId":"777","orgId":"800","projectId":"300","projectGrantId":"400","grantedOrgId":"800"}"#,
            |g: &wire::UserGrant| json(&grant("300", "reader", "project:300:reader", true, g)),
            r#"{"kind":"grant","id":"project:300:reader:user:777:project_grant:400","entitlement_id":"project:300:reader",
               "resource_type":"project","resource_id":"300","slug":"reader","principal_type":"user","principal_id":"777",
               "user_grant_id":"600","state":"USER_GRANT_STATE_ACTIVE","project_grant_id":"400","granted_by_org_id":"800"}"#,
        )
    }

    #[test]
    fn external_managers_carry_what_the_member_list_says() -> Result<(), Box<dyn std::error::Error>>
    {
        check(
            r#"{"userId":"777","details":{"resourceOwner":"900"},"roles":["ORG_OWNER"],"preferredLoginName":"eve@globex.example.com",
                "email":"eve@globex.example.com","firstName":"Eve","lastName":"Polastri","displayName":"Eve P.",
                "userType":"TYPE_HUMAN","userResourceOwner":"800"}"#,
            |m: &wire::Member| json(&external_member(m, None)),
            r#"{"kind":"resource","resource_type":"user","id":"777","display_name":"Eve P.","status":"UNSPECIFIED",
               "org_id":"800","external":true,
               "user":{"account_type":"HUMAN","login":"eve@globex.example.com",
                       "emails":[{"address":"eve@globex.example.com","is_primary":true}],
                       "structured_name":{"given_name":"Eve","family_name":"Polastri"}}}"#,
        )?;
        // The name the stream knows the manager's organization by, from a project grant.
        check(
            r#"{"userId":"777","roles":["ORG_OWNER"],"displayName":"Eve P.","userResourceOwner":"800"}"#,
            |m: &wire::Member| json(&external_member(m, Some("Globex"))),
            r#"{"kind":"resource","resource_type":"user","id":"777","display_name":"Eve P.","status":"UNSPECIFIED",
               "org_id":"800","org_name":"Globex","external":true,"user":{"emails":[]}}"#,
        )?;
        // A machine manager on a server without `userResourceOwner` (before zitadel#9168).
        check(
            r#"{"userId":"778","roles":["PROJECT_OWNER"],"preferredLoginName":"bot@globex","displayName":"Deploy Bot","userType":"TYPE_MACHINE"}"#,
            |m: &wire::Member| json(&external_member(m, None)),
            r#"{"kind":"resource","resource_type":"user","id":"778","display_name":"Deploy Bot","status":"UNSPECIFIED",
               "external":true,"user":{"account_type":"SERVICE","login":"bot@globex","emails":[]}}"#,
        )
    }
}
