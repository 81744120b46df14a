//! Pure conversion of ZITADEL wire objects into output records: no I/O, no state.

use std::borrow::Cow;

use crate::record::{
    AccountType, EmailAddress, Entitlement, Grant, GrantId, ProjectResource, Status,
    StructuredName, UserResource, UserTrait,
};
use crate::wire;

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
    let display_name = first_present([
        profile.map(|p| Cow::Borrowed(&*p.display_name)),
        profile.map(|p| full_name(&p.first_name, &p.last_name)),
        machine.map(|m| Cow::Borrowed(&*m.name)),
        Some(Cow::Borrowed(&*user.preferred_login_name)),
        Some(Cow::Borrowed(&*user.user_name)),
    ])
    .unwrap_or(Cow::Borrowed(&*user.id));
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
    UserResource {
        kind: "resource",
        resource_type: "user",
        id: &user.id,
        display_name,
        status: user_status(&user.state),
        status_details: Some(raw_state(&user.state, "USER_STATE_UNSPECIFIED")),
        org_id: non_empty(&user.details.resource_owner).unwrap_or(org_id),
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

/// A user of another organization, built only from what a user grant says about it.
pub fn external_user<'a>(grant: &'a wire::UserGrant<'a>) -> UserResource<'a> {
    let display_name = first_present([
        Some(Cow::Borrowed(&*grant.display_name)),
        Some(full_name(&grant.first_name, &grant.last_name)),
        Some(Cow::Borrowed(&*grant.preferred_login_name)),
        Some(Cow::Borrowed(&*grant.user_name)),
    ])
    .unwrap_or(Cow::Borrowed(&*grant.user_id));
    let account_type = match &*grant.user_type {
        "TYPE_HUMAN" => Some(AccountType::Human),
        "TYPE_MACHINE" => Some(AccountType::Service),
        _ => None,
    };
    let emails = non_empty(&grant.email)
        .map(|address| EmailAddress { address, is_primary: true, is_verified: None })
        .into_iter()
        .collect();
    UserResource {
        kind: "resource",
        resource_type: "user",
        id: &grant.user_id,
        display_name,
        status: Status::Unspecified,
        status_details: None,
        org_id: &grant.granted_org_id,
        org_name: non_empty(&grant.granted_org_name),
        created_at: None,
        external: true,
        user: UserTrait {
            account_type,
            login: non_empty(&grant.preferred_login_name),
            login_aliases: None,
            username: non_empty(&grant.user_name),
            emails,
            structured_name: structured_name(&grant.first_name, &grant.last_name),
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
        slug: &role.key,
        display_name: non_empty(&role.display_name).unwrap_or(&role.key),
        purpose: "ASSIGNMENT",
        grantable_to: ["user"],
        group: non_empty(&role.group),
    }
}

/// One role key of a user grant on `project_id`; `entitlement_id` is the role's, as
/// `entitlement_id` makes it (made once per role, not once per grant).
pub fn grant<'a>(
    project_id: &'a str,
    role_key: &'a str,
    entitlement_id: &'a str,
    user_grant: &'a wire::UserGrant<'a>,
) -> Grant<'a> {
    Grant {
        kind: "grant",
        id: GrantId { entitlement_id, principal_id: &user_grant.user_id },
        entitlement_id,
        resource_type: "project",
        resource_id: project_id,
        slug: role_key,
        principal_type: "user",
        principal_id: &user_grant.user_id,
        user_grant_id: &user_grant.id,
        state: raw_state(&user_grant.state, "USER_GRANT_STATE_UNSPECIFIED"),
    }
}

/// Whether a user grant is inactive. A grant whose state is missing is kept: dropping it
/// would hide access that may well exist.
pub fn is_inactive(user_grant: &wire::UserGrant) -> bool {
    user_grant.state == "USER_GRANT_STATE_INACTIVE"
}

/// baton's entitlement id convention: `<resource_type>:<resource_id>:<slug>`.
pub fn entitlement_id(project_id: &str, role_key: &str) -> String {
    let mut id = String::with_capacity(9 + project_id.len() + role_key.len());
    id.push_str("project:");
    id.push_str(project_id);
    id.push(':');
    id.push_str(role_key);
    id
}

fn first_present<'a, const N: usize>(
    candidates: [Option<Cow<'a, str>>; N],
) -> Option<Cow<'a, str>> {
    candidates.into_iter().flatten().find(|name| !name.is_empty())
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
            |g: &wire::UserGrant| json(&grant("300", "viewer", "project:300:viewer", g)),
            r#"{"kind":"grant","id":"project:300:viewer:user:777","entitlement_id":"project:300:viewer","resource_type":"project",
               "resource_id":"300","slug":"viewer","principal_type":"user","principal_id":"777","user_grant_id":"500",
               "state":"USER_GRANT_STATE_ACTIVE"}"#,
        )
    }

    #[test]
    fn external_user_uses_the_users_own_org_and_invents_nothing()
    -> Result<(), Box<dyn std::error::Error>> {
        check(
            EXTERNAL_GRANT,
            |g: &wire::UserGrant| json(&external_user(g)),
            r#"{"kind":"resource","resource_type":"user","id":"777","display_name":"Eve P.","status":"UNSPECIFIED",
               "org_id":"800","org_name":"Globex","external":true,
               "user":{"account_type":"HUMAN","login":"eve@globex.example.com","username":"eve",
                       "emails":[{"address":"eve@globex.example.com","is_primary":true}],
                       "structured_name":{"given_name":"Eve","family_name":"Polastri"}}}"#,
        )?;
        check(
            r#"{"id":"501","userId":"778","userName":"bot","userType":"TYPE_MACHINE","grantedOrgId":"800"}"#,
            |g: &wire::UserGrant| json(&external_user(g)),
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
            grant("1", "k", "project:1:k", &unspecified).state,
            "USER_GRANT_STATE_UNSPECIFIED"
        );
        Ok(())
    }
}
