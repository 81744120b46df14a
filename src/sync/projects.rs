//! The projects walk: per project its resource, its roles (entitlements), its managers
//! (`managers.rs`), its project grants (`project_grants.rs`) and its user grants
//! (`user_grants.rs`).

use std::io::Write;

use anyhow::Result;

use super::fetcher::{Fetcher, List};
use super::ledger::Ledger;
use super::managers::{self, ManagerRoles};
use super::{project_grants, user_grants};
use crate::config::Config;
use crate::keyed::KeptMap;
use crate::mapping;
use crate::wire;
use crate::words;
use crate::zitadel::Endpoint;

/// A project's roles: each role key with its entitlement id.
pub type Roles = KeptMap;

/// `ListProjects`: the organization's projects.
struct Projects;

impl List for Projects {
    type Row<'b> = wire::Project<'b>;

    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint::Projects
    }

    fn key<'r>(project: &'r wire::Project<'_>) -> &'r str {
        &project.id
    }
}

/// `ListProjectRoles`: one project's roles.
struct ProjectRoles<'p> {
    project_id: &'p str,
}

impl List for ProjectRoles<'_> {
    type Row<'b> = wire::Role<'b>;

    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint::ProjectRoles { project_id: self.project_id }
    }

    fn key<'r>(role: &'r wire::Role<'_>) -> &'r str {
        &role.key
    }
}

/// A project whose roles were printed: what its managers, project grants and user grants
/// are checked against.
pub struct Project<'p> {
    pub id: &'p str,
    pub name: &'p str,
    /// Its roles: each role key with its entitlement id.
    pub roles: Roles,
    /// Whether its id and every role key hold nothing JSON escapes (a quote, a backslash, a
    /// control character), so that neither do its entitlement ids: what its grants copy of
    /// them is copied as it is (`Grant::plain`).
    pub plain: bool,
}

/// Prints every project the filters include, and all that hangs from it.
pub fn projects<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    config: &Config,
) -> Result<()> {
    // The manager roles of projects and of project grants, read when first needed.
    let mut manager_roles = ManagerRoles::default();
    let filters = &config.filters;
    let mut grants = project_grants::Source::new(config);
    fetcher
        .walk(&Projects, |fetcher, project| {
            if !filters.project(&project.id) {
                return Ok(());
            }
            ledger.print_json(&mapping::project(project, &ledger.org().id))?;
            ledger.counts.project += 1;
            ledger.forget_grants();
            let (roles, plain) = roles(fetcher, ledger, &project.id)?;
            let project = Project { id: &project.id, name: &project.name, roles, plain };
            if !filters.skip_managers {
                managers::project_managers(fetcher, ledger, config, &mut manager_roles, &project)?;
            }
            if filters.project_grants() {
                let project = (&project, &mut grants);
                project_grants::project_grants(
                    fetcher,
                    ledger,
                    config,
                    &mut manager_roles,
                    project,
                )?;
            }
            if !filters.skip_grants {
                user_grants::user_grants(fetcher, ledger, config, &project)?;
            }
            ledger.show_progress(fetcher.requests());
            Ok(())
        })
        .map(drop)
}

/// Prints the project's roles and returns them, for its grants to be checked against, and
/// whether the project is plain (`Project::plain`).
fn roles<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    project_id: &str,
) -> Result<(Roles, bool)> {
    let (mut roles, mut plain) = (Roles::default(), true);
    fetcher.walk(&ProjectRoles { project_id }, |_, role| {
        let entitlement = mapping::entitlement(project_id, role);
        ledger.print_json(&entitlement)?;
        // An entitlement id holds the project's id and the role key, escaped only where
        // they hold `%` or `:`.
        plain &= !words::holds_json_escaped(entitlement.id.as_bytes());
        let what = |count| format!("the {count} role keys of project {project_id}");
        roles.insert(&role.key, entitlement.id, what)?;
        ledger.counts.entitlement += 1;
        Ok(())
    })?;
    Ok((roles, plain))
}
