//! `--check`: probes every permission a sync needs with the smallest request each, reports
//! one line per permission on stderr, and fails as the sync would have failed.

use std::time::Duration;

use anyhow::{Result, anyhow};
use serde::de::IgnoredAny;

use crate::config::{AuthMethods, Config};
use crate::log::{self, Level};
use crate::mapping::CredentialKind;
use crate::retry::RetryPolicy;
use crate::sync::{self, Fetcher};
use crate::wire::{self, ListQuery};
use crate::zitadel::{ApiError, Body, Client, Endpoint, ErrorClass, Settings};

/// Every probe asks for one row at most.
const QUERY: ListQuery = ListQuery { offset: 0, limit: 1, asc: true };

/// The longest one probe's attempt may take: a one-row page comes back in well under a
/// second from a healthy instance.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// One retry, after a wait of at most a second (the first backoff): two attempts and the
/// wait between them take at most 11 seconds, so a check of a host that does not answer
/// ends within 15.
const RETRY: RetryPolicy = RetryPolicy { max_retries: 1, max_total_wait: Duration::from_secs(1) };

/// The client settings of a check: as a sync's, but a host that does not answer is given
/// up on quickly, since a check is run by someone waiting for its answer.
pub fn bounded(settings: Settings) -> Settings {
    Settings {
        timeout: settings.timeout.min(ATTEMPT_TIMEOUT),
        retry: RetryPolicy {
            max_retries: settings.retry.max_retries.min(RETRY.max_retries),
            max_total_wait: settings.retry.max_total_wait.min(RETRY.max_total_wait),
        },
        ..settings
    }
}

/// Runs the probes in the order a sync makes its calls. Returns the first failure, which
/// gives the exit status the sync would have had.
pub fn run(config: &Config, client: &mut Client) -> Result<()> {
    let mut fetcher = Fetcher::new(client, config.page_size);
    let filters = &config.filters;

    // Without the organization nothing else can be asked.
    let org = match sync::resolve_org(&mut fetcher, config.org_id.as_deref()) {
        Ok(org) => org,
        Err(err) => {
            report("org.read", Err(&err));
            return Err(err.context(
                "check failed at org.read, the first probe: nothing else can be checked",
            ));
        }
    };
    report("org.read", Ok(format!("organization {:?} ({})", org.name, org.id)));

    let mut probes = Probes { fetcher, config, failures: Vec::new() };
    let mut first_user = None;
    if filters.users() {
        let users = users(&mut probes.fetcher);
        let found = users.map(|(n, first)| {
            first_user = first;
            format!("{n} users (ZITADEL counts metadata rows too)")
        });
        probes.note("user.read", found);
        if ["pat", "machine_key"].iter().any(|kind| filters.credentials(kind)) {
            probes.credentials(&org.id);
        }
    }
    if filters.login_policy() {
        probes.login_policy();
    }
    if filters.auth_methods() != AuthMethods::None {
        probes.auth_methods(first_user.as_deref());
    }
    if filters.orgs() && !filters.skip_managers {
        let found = probes.managers_of(Endpoint::OrgMemberRoles, Endpoint::OrgMembers);
        probes.note("org.member.read", found.map(|found| format!("the organization has {found}")));
    }
    if filters.instance_managers() {
        probes.instance();
    }
    if filters.projects() {
        let project = probes.project(&org.id);
        probes.project_lists(project.as_deref());
    }
    finish(probes.failures)
}

/// The probes after the organization's: the fetcher they share and the failures, each
/// with its permission.
struct Probes<'c> {
    fetcher: Fetcher<'c>,
    config: &'c Config,
    failures: Vec<(&'static str, anyhow::Error)>,
}

impl Probes<'_> {
    /// Reports a permission's outcome and keeps the first failure.
    fn note(&mut self, permission: &'static str, outcome: Result<String>) {
        report(permission, outcome.as_ref().map(String::clone));
        if let Err(err) = outcome {
            self.failures.push((permission, err));
        }
    }

    /// Checks every `--project-id`, as the sync checks them, and returns the project whose
    /// lists are probed: the first one named, or else the organization's first project.
    fn project(&mut self, org_id: &str) -> Option<String> {
        let project_ids = &self.config.filters.project_ids;
        let project = match project_ids.first() {
            Some(first) => project_ids
                .iter()
                .try_for_each(|id| sync::require_project(&mut self.fetcher, org_id, id))
                .map(|()| Some(first.clone())),
            None => first_project(&mut self.fetcher),
        };
        match project {
            Ok(project) => {
                let projects = match &project_ids[..] {
                    [] => "the first project".to_string(),
                    ids => format!("projects {}", ids.join(", ")),
                };
                self.note("project.read", Ok(format!("can read {projects}")));
                project
            }
            Err(err) => {
                self.note("project.read", Err(err));
                None
            }
        }
    }

    /// Probes the lists of a project (or, with none, the lists that need no project).
    fn project_lists(&mut self, project: Option<&str>) {
        let filters = &self.config.filters;
        match project {
            Some(project_id) => {
                let endpoint = Endpoint::ProjectRoles { project_id };
                let roles = total(&mut self.fetcher, endpoint, &wire::list_request(QUERY));
                let found = roles.map(|n| format!("{n} roles in project {project_id}"));
                self.note("project.role.read", found);
            }
            None => log::info("check: project.role.read not checked: no project to read roles of"),
        }
        if !filters.skip_managers {
            let found = match project {
                Some(project_id) => {
                    let members = Endpoint::ProjectMembers { project_id };
                    self.managers_of(Endpoint::ProjectMemberRoles, members)
                        .map(|found| format!("project {project_id} has {found}"))
                }
                None => manager_roles(&mut self.fetcher, Endpoint::ProjectMemberRoles)
                    .map(|n| format!("{n} project manager roles (no project to read managers of)")),
            };
            self.note("project.member.read", found);
        }
        if filters.project_grants() {
            self.project_grants(project);
        }
        if !filters.skip_grants {
            let request = match project {
                Some(project_id) => wire::user_grants_request(QUERY, project_id),
                None => wire::list_request(QUERY),
            };
            let grants = total(&mut self.fetcher, Endpoint::UserGrants, &request);
            let scope = project.map_or("the organization".into(), |p| format!("project {p}"));
            self.note("user.grant.read", grants.map(|n| format!("{n} user grants in {scope}")));
        }
    }

    /// Probes a project's project grants and the project grant manager roles.
    fn project_grants(&mut self, project: Option<&str>) {
        match project {
            Some(project_id) => {
                let endpoint = Endpoint::ProjectGrants { project_id };
                let grants = total(&mut self.fetcher, endpoint, &wire::list_request(QUERY));
                let found = grants.map(|n| format!("{n} project grants of project {project_id}"));
                self.note("project.grant.read", found);
            }
            None => log::info(
                "check: project.grant.read not checked: no project to read project grants of",
            ),
        }
        if !self.config.filters.skip_managers {
            // The role list needs the permission as much as a grant's managers do, and
            // needs no project grant to exist.
            let roles = manager_roles(&mut self.fetcher, Endpoint::ProjectGrantMemberRoles);
            let found = roles.map(|n| format!("{n} project grant manager roles"));
            self.note("project.grant.member.read", found);
        }
    }

    /// Probes the organization's lists of tokens and keys that a sync reads, one row each.
    /// A server without them (404, 501) is read per service user by a sync, through lists
    /// that `user.read` opens as the user list does: so that is no failure.
    fn credentials(&mut self, org_id: &str) {
        let filters = &self.config.filters;
        let mut found = Vec::new();
        for (kind, noun) in [(CredentialKind::Pat, "tokens"), (CredentialKind::MachineKey, "keys")]
        {
            if !filters.credentials(kind.resource_type()) {
                continue;
            }
            let (endpoint, request) = sync::org_list(kind, org_id, QUERY);
            match total(&mut self.fetcher, endpoint, &request) {
                Ok(n) => found.push(format!("{n} {noun}")),
                Err(err) if sync::no_such_list(&err) => {
                    let said = format!(
                        "credentials: {endpoint} is not on this server (an older ZITADEL); a sync reads each service user's tokens and keys instead"
                    );
                    return self.note("user.read", Ok(said));
                }
                Err(err) => return self.note("user.read", Err(err)),
            }
        }
        let found = found.join(" and ");
        self.note("user.read", Ok(format!("credentials: the organization's lists hold {found}")));
    }

    /// Probes the instance's manager roles and managers, then the instance itself. Without
    /// the permission a sync leaves the instance out and says so, unless `--resource-types`
    /// names it: so only then is its absence a failure.
    fn instance(&mut self) {
        let explicit = self.config.filters.resource_types.is_some();
        let managers = self.managers_of_instance();
        let denied = managers.as_ref().err().is_some_and(|err| {
            let class = ApiError::in_chain(err).map(|api| api.class);
            class == Some(ErrorClass::PermissionDenied)
        });
        if denied && !explicit {
            log::info(
                "check: iam.member.read not granted: a sync leaves out the instance and its managers and names them in the summary's omitted (give the service user the Iam Owner Viewer role, IAM_OWNER_VIEWER, on the instance to sync them)",
            );
            return;
        }
        self.note("iam.member.read", managers.map(|found| format!("the instance has {found}")));
        let instance = self.fetcher.fetch(Endpoint::Instance, &[], |bytes| {
            let instance = sync::parse::<wire::InstanceResponse>(bytes)?.instance;
            Ok(format!("instance {:?} ({})", instance.name, instance.id))
        });
        self.note("iam.read", instance);
    }

    /// Probes the organization's login policy, which a sync reads for the organization's
    /// record unless `--auth-methods none`.
    fn login_policy(&mut self) {
        let policy = self.fetcher.fetch(Endpoint::LoginPolicy, &[], |bytes| {
            let answer = sync::parse::<wire::LoginPolicyResponse>(bytes)?;
            let Some(policy) = answer.policy else {
                let message = "malformed response: no login policy".to_string();
                return Err(sync::Rejected::invalid(message));
            };
            let whose = match answer.is_default || policy.is_default {
                true => "the instance's default",
                false => "the organization's own",
            };
            Ok(format!("the login policy ({whose}) forces MFA: {}", policy.force_mfa))
        });
        self.note("policy.read", policy);
    }

    /// Probes the authentication methods of the organization's first user. A sync that
    /// cannot read a user's counts them as unknown and goes on, so this is no failure.
    /// (ZITADEL checks no permission when the token's own user asks about itself: a token
    /// whose user is the first proves less.)
    fn auth_methods(&mut self, user: Option<&str>) {
        let Some(user_id) = user else {
            log::info("check: authentication methods not checked: the organization has no user");
            return;
        };
        let endpoint = Endpoint::AuthMethods { user_id };
        let read = self.fetcher.fetch(endpoint, &[], |bytes| {
            Ok(sync::parse::<wire::AuthMethodTypes>(bytes)?.auth_method_types.len())
        });
        let permission = "user.read (authentication methods)";
        match read {
            Ok(n) => report(permission, Ok(format!("user {user_id} has {n} kinds of method"))),
            Err(err) if is_refused(&err) => log::warn(&format!(
                "check: {permission} missing: {err:#}; a sync counts every such user in the summary's auth_methods_unknown and prints no user_auth record for them"
            )),
            Err(err) => self.note(permission, Err(err)),
        }
    }

    /// The instance's manager roles and managers, probed with one request each.
    fn managers_of_instance(&mut self) -> Result<String> {
        let roles = self.fetcher.fetch(
            Endpoint::InstanceMemberRoles,
            wire::MEMBER_ROLES_REQUEST,
            |bytes| Ok(sync::parse::<wire::InstanceMemberRoles>(bytes)?.roles.len()),
        )?;
        if self.config.filters.skip_grants {
            return Ok(format!("{roles} manager roles"));
        }
        let request = wire::instance_members_request(QUERY);
        let managers = total(&mut self.fetcher, Endpoint::InstanceMembers, &request)?;
        Ok(format!("{roles} manager roles and {managers} managers"))
    }

    /// The manager roles and managers of a resource, probed with one request each.
    fn managers_of(&mut self, roles: Endpoint, members: Endpoint) -> Result<String> {
        let roles = manager_roles(&mut self.fetcher, roles)?;
        if self.config.filters.skip_grants {
            return Ok(format!("{roles} manager roles"));
        }
        let managers = total(&mut self.fetcher, members, &wire::list_request(QUERY))?;
        Ok(format!("{roles} manager roles and {managers} managers"))
    }
}

/// The check's outcome: the first failure gives the exit status, and the context, which is
/// all that is printed of it, names the probes that failed, whose messages are above.
fn finish(failures: Vec<(&'static str, anyhow::Error)>) -> Result<()> {
    let names: Vec<&str> = failures.iter().map(|(permission, _)| *permission).collect();
    match failures.into_iter().next() {
        None => {
            log::info("check passed: a sync would succeed");
            Ok(())
        }
        Some((_, err)) => Err(err.context(format!("check failed at {}", names.join(", ")))),
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
            let class = ApiError::in_chain(err).map(|api| api.class);
            let (status, level) = match class {
                Some(ErrorClass::PermissionDenied) => ("missing", Level::Warn),
                _ => ("failed", Level::Error),
            };
            log::log(level, &format!("check: {permission} {status}: {err:#}"), &fields(status));
        }
    }
}

/// Whether a request was refused (403) or its object not found (404).
fn is_refused(err: &anyhow::Error) -> bool {
    let api = ApiError::in_chain(err);
    matches!(api.and_then(|api| api.status), Some(403 | 404))
}

/// The organization's users (`totalResult`) and the id of the first, from a one-row page.
fn users(fetcher: &mut Fetcher) -> Result<(u64, Option<String>)> {
    let mut body = Body::default();
    let request = wire::users_request(QUERY);
    fetcher.request(Endpoint::Users, Some(0), Some(1), &request, &mut body, |_, bytes| {
        let page = sync::parse_page::<wire::User>(bytes, 1)?;
        let first = page.result.first().map(|user| user.id.to_string());
        Ok((sync::list_details(&page.details)?.total_result, first.filter(|id| !id.is_empty())))
    })
}

/// The `totalResult` of a one-row page of `endpoint`.
fn total(fetcher: &mut Fetcher, endpoint: Endpoint, request: &[u8]) -> Result<u64> {
    let mut body = Body::default();
    fetcher.request(endpoint, Some(0), Some(1), request, &mut body, |_, bytes| {
        let page = sync::parse_page::<IgnoredAny>(bytes, 1)?;
        Ok(sync::list_details(&page.details)?.total_result)
    })
}

/// How many manager roles a member-role list names.
fn manager_roles(fetcher: &mut Fetcher, endpoint: Endpoint) -> Result<usize> {
    fetcher.fetch(endpoint, wire::MEMBER_ROLES_REQUEST, |bytes| {
        Ok(sync::parse::<wire::MemberRoles>(bytes)?.result.len())
    })
}

/// The id of the organization's first project, if it has one.
fn first_project(fetcher: &mut Fetcher) -> Result<Option<String>> {
    let mut body = Body::default();
    let request = wire::list_request(QUERY);
    fetcher
        .request(Endpoint::Projects, Some(0), Some(1), &request, &mut body, |_, bytes| {
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
