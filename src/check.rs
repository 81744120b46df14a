//! `--check`: probes every permission a sync needs with the smallest request each, reports
//! one line per permission on stderr, and fails as the sync would have failed.

use std::io;

use anyhow::{Result, anyhow};
use serde::de::IgnoredAny;

use crate::config::Config;
use crate::log::{self, Level};
use crate::output::Output;
use crate::sync::{self, Sync};
use crate::wire::{self, ListQuery};
use crate::zitadel::{ApiError, Client, Endpoint, ErrorClass};

/// Runs the probes in the order a sync makes its calls. Returns the first failure, which
/// gives the exit status the sync would have had.
pub fn run(config: &Config, client: &mut Client) -> Result<()> {
    let mut sink = Output::new(io::sink());
    let mut sync = Sync::new(config, client, &mut sink);
    let filters = &config.filters;

    // Without the organization nothing else can be asked.
    let org_name = match sync.resolve_org() {
        Ok(name) => name,
        Err(err) => {
            report("org.read", Err(&err));
            return Err(err);
        }
    };
    report("org.read", Ok(format!("organization {org_name:?} ({})", sync.org_id())));

    let mut first_failure = None;
    let mut note = |permission: &str, outcome: Result<String>| {
        report(permission, outcome.as_ref().map(String::clone));
        if let Err(err) = outcome {
            first_failure.get_or_insert(err);
        }
    };
    let query = ListQuery { offset: 0, limit: 1, asc: true };
    if filters.users() {
        let users = total(&mut sync, Endpoint::Users, &wire::users_request(query));
        note("user.read", users.map(|n| format!("{n} users (ZITADEL counts metadata rows too)")));
    }
    let managers = !filters.skip_managers;
    if filters.orgs() && managers {
        let managers =
            managers_of(&mut sync, Endpoint::OrgMemberRoles, Endpoint::OrgMembers, query);
        note("org.member.read", managers.map(|found| format!("the organization has {found}")));
    }
    if !filters.projects() {
        return finish(first_failure);
    }
    // Every `--project-id` is checked, as the sync checks them; the first one's roles and
    // grants are probed.
    let project = match filters.project_ids.first() {
        Some(first) => filters
            .project_ids
            .iter()
            .try_for_each(|id| sync.require_project(id))
            .map(|()| Some(first.clone())),
        None => first_project(&mut sync, query),
    };
    let project = match project {
        Ok(project) => {
            let projects = match &filters.project_ids[..] {
                [] => "the first project".to_string(),
                ids => format!("projects {}", ids.join(", ")),
            };
            note("project.read", Ok(format!("can read {projects}")));
            project
        }
        Err(err) => {
            note("project.read", Err(err));
            None
        }
    };
    match &project {
        Some(project_id) => {
            let endpoint = Endpoint::ProjectRoles { project_id };
            let roles = total(&mut sync, endpoint, &wire::list_request(query));
            note("project.role.read", roles.map(|n| format!("{n} roles in project {project_id}")));
        }
        None => log::info("check: project.role.read not checked: no project to read roles of"),
    }
    if managers {
        let found = match &project {
            Some(project_id) => {
                let members = Endpoint::ProjectMembers { project_id };
                managers_of(&mut sync, Endpoint::ProjectMemberRoles, members, query)
                    .map(|found| format!("project {project_id} has {found}"))
            }
            None => manager_roles(&mut sync, Endpoint::ProjectMemberRoles)
                .map(|n| format!("{n} project manager roles (no project to read managers of)")),
        };
        note("project.member.read", found);
    }
    if filters.project_grants() {
        match &project {
            Some(project_id) => {
                let endpoint = Endpoint::ProjectGrants { project_id };
                let grants = total(&mut sync, endpoint, &wire::list_request(query));
                let found = grants.map(|n| format!("{n} project grants of project {project_id}"));
                note("project.grant.read", found);
            }
            None => log::info(
                "check: project.grant.read not checked: no project to read project grants of",
            ),
        }
        if managers {
            // The role list needs the permission as much as a grant's managers do, and
            // needs no project grant to exist.
            let roles = manager_roles(&mut sync, Endpoint::ProjectGrantMemberRoles);
            let found = roles.map(|n| format!("{n} project grant manager roles"));
            note("project.grant.member.read", found);
        }
    }
    if !filters.skip_grants {
        let request = match &project {
            Some(project_id) => wire::user_grants_request(query, project_id),
            None => wire::list_request(query),
        };
        let grants = total(&mut sync, Endpoint::UserGrants, &request);
        let scope =
            project.as_deref().map_or("the organization".into(), |p| format!("project {p}"));
        note("user.grant.read", grants.map(|n| format!("{n} user grants in {scope}")));
    }
    finish(first_failure)
}

fn finish(first_failure: Option<anyhow::Error>) -> Result<()> {
    match first_failure {
        None => {
            log::info("check passed: a sync would succeed");
            Ok(())
        }
        Some(err) => Err(err.context("check failed")),
    }
}

/// One report line: `check: user.read ok: 9 users`, or what is missing and why.
fn report(permission: &str, outcome: Result<String, &anyhow::Error>) {
    let fields = |status: &str| [("permission", permission.into()), ("status", status.into())];
    match outcome {
        Ok(detail) => {
            log::log(Level::Info, &format!("check: {permission} ok: {detail}"), &fields("ok"))
        }
        Err(err) => {
            let class = err.chain().find_map(|c| c.downcast_ref::<ApiError>()).map(|api| api.class);
            let (status, level) = match class {
                Some(ErrorClass::PermissionDenied) => ("missing", Level::Warn),
                _ => ("failed", Level::Error),
            };
            log::log(level, &format!("check: {permission} {status}: {err:#}"), &fields(status));
        }
    }
}

/// The `totalResult` of a one-row page of `endpoint`.
fn total<W: io::Write>(sync: &mut Sync<W>, endpoint: Endpoint, request: &[u8]) -> Result<u64> {
    let mut body = Vec::new();
    sync.request(endpoint, Some(0), Some(1), request, &mut body, |_, bytes| {
        let page = sync::parse_page::<IgnoredAny>(bytes, 1)?;
        Ok(sync::list_details(&page.details)?.total_result)
    })
}

/// How many manager roles a member-role list names.
fn manager_roles<W: io::Write>(sync: &mut Sync<W>, endpoint: Endpoint) -> Result<usize> {
    let mut body = Vec::new();
    sync.request(endpoint, None, None, wire::MEMBER_ROLES_REQUEST, &mut body, |_, bytes| {
        Ok(sync::parse::<wire::MemberRoles>(bytes)?.result.len())
    })
}

/// The manager roles and managers of a resource, probed with one request each.
fn managers_of<W: io::Write>(
    sync: &mut Sync<W>,
    roles: Endpoint,
    members: Endpoint,
    query: ListQuery,
) -> Result<String> {
    let roles = manager_roles(sync, roles)?;
    if sync.config().filters.skip_grants {
        return Ok(format!("{roles} manager roles"));
    }
    let managers = total(sync, members, &wire::list_request(query))?;
    Ok(format!("{roles} manager roles and {managers} managers"))
}

/// The id of the organization's first project, if it has one.
fn first_project<W: io::Write>(sync: &mut Sync<W>, query: ListQuery) -> Result<Option<String>> {
    let mut body = Vec::new();
    let request = wire::list_request(query);
    sync.request(Endpoint::Projects, Some(0), Some(1), &request, &mut body, |_, bytes| {
        let page = sync::parse_page::<wire::Project>(bytes, 1)?;
        Ok(page.result.first().map(|project| project.id.to_string()))
    })
    .and_then(|project| match project {
        Some(id) if id.is_empty() => {
            Err(anyhow!("{}: malformed response: a project has no id", Endpoint::Projects))
        }
        other => Ok(other),
    })
}
