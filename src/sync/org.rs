//! The organization a sync (or a check) reads: found through `orgs/me` and pinned for
//! every later request, and a `--project-id` told to be one of its projects.

use anyhow::Result;

use super::UnknownProject;
use super::fetcher::Fetcher;
use super::parse::parse;
use crate::wire;
use crate::zitadel::{ApiError, Endpoint, ErrorClass};

/// Finds the organization to sync (the one `wanted` names, when given) and pins every
/// later request to it.
pub fn resolve(fetcher: &mut Fetcher, wanted: Option<&str>) -> Result<wire::Org<'static>> {
    let org = fetcher.fetch(Endpoint::OrgsMe, &[], |bytes| {
        Ok(parse::<wire::OrgResponse>(bytes)?.org.into_owned())
    })?;
    let at = Endpoint::OrgsMe;
    if org.id.is_empty() {
        anyhow::bail!("{at}: malformed response: no organization id");
    }
    if let Some(wanted) = wanted
        && wanted != org.id
    {
        anyhow::bail!("{at}: asked for organization {wanted}, ZITADEL answered with {}", org.id);
    }
    // Every later request names the organization explicitly, so the whole sync reads
    // the organization just announced, whatever the token's default.
    fetcher.pin_org(&org.id);
    Ok(org)
}

/// Fails with `UnknownProject` unless the organization `org_id` has the project.
pub fn require_project(fetcher: &mut Fetcher, org_id: &str, project_id: &str) -> Result<()> {
    let endpoint = Endpoint::Project { project_id };
    // GetProjectByID finds a project by id in the whole instance, with no filter on its
    // organization: another organization's project is found too, and told apart only
    // by its resource owner.
    let found = fetcher.fetch(endpoint, &[], |bytes| {
        let project = parse::<wire::ProjectResponse>(bytes)?.project;
        Ok(project.id == project_id && project.details.resource_owner == org_id)
    });
    match found {
        Ok(true) => Ok(()),
        Ok(false) => Err(UnknownProject(project_id.to_string()).into()),
        Err(err) => {
            let api = ApiError::in_chain(&err);
            match api {
                Some(api) if api.status == Some(404) && api.class == ErrorClass::Other => {
                    Err(UnknownProject(project_id.to_string()).into())
                }
                _ => Err(err),
            }
        }
    }
}
