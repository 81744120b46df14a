//! Drives one sync: resolves the organization, walks every list page by page and streams
//! each record as soon as its page is in hand.
//!
//! Output order keeps every reference pointing backwards: resource types, then users, then
//! per project the project, its roles (entitlements) and its grants, each external user
//! just before its first grant, and the summary last.

use std::collections::HashSet;
use std::io::Write;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::config::Config;
use crate::mapping;
use crate::output::Output;
use crate::paging::Pager;
use crate::record::{Counts, RESOURCE_TYPES, Summary};
use crate::wire::{self, ListQuery, Page};
use crate::zitadel::{Client, Endpoint};

/// Syncs the configured organization to `out`, ending with the summary record.
pub fn run<W: Write>(config: &Config, client: &mut Client, out: &mut Output<W>) -> Result<()> {
    let mut body = Vec::new();
    client.call(Endpoint::OrgsMe, &[], &mut body).context("GET /management/v1/orgs/me")?;
    let org = serde_json::from_slice::<wire::OrgResponse>(&body)
        .context("GET /management/v1/orgs/me: malformed response")?
        .org;
    if org.id.is_empty() {
        anyhow::bail!("GET /management/v1/orgs/me: the response names no organization id");
    }
    if let Some(wanted) = &config.org_id
        && *wanted != org.id
    {
        anyhow::bail!(
            "GET /management/v1/orgs/me: asked for organization {wanted}, ZITADEL answered with {}",
            org.id
        );
    }
    eprintln!("baton-zitadel: syncing organization {:?} ({})", org.name, org.id);
    // Every later request names the organization explicitly, so the whole sync reads the
    // organization just announced, whatever the token's default.
    client.pin_org(&org.id);

    let mut sync = Sync {
        client,
        out,
        org_id: &org.id,
        page_size: config.page_size,
        include_inactive_grants: config.include_inactive_grants,
        counts: Counts::default(),
        external_users: HashSet::new(),
    };
    sync.resource_types()?;
    sync.users()?;
    sync.projects()?;
    let summary = Summary {
        kind: "summary",
        org_id: &org.id,
        org_name: &org.name,
        counts: sync.counts,
        requests: sync.client.requests(),
    };
    sync.out.write(&summary)?;
    sync.out.flush()?;
    Ok(())
}

struct Sync<'s, W: Write> {
    client: &'s mut Client,
    out: &'s mut Output<W>,
    org_id: &'s str,
    page_size: u32,
    include_inactive_grants: bool,
    counts: Counts,
    /// Ids of the external users printed so far, so each is printed once.
    external_users: HashSet<String>,
}

impl<W: Write> Sync<'_, W> {
    fn resource_types(&mut self) -> Result<()> {
        for resource_type in &RESOURCE_TYPES {
            self.out.write(resource_type)?;
        }
        Ok(())
    }

    fn users(&mut self) -> Result<()> {
        let mut pager = Pager::new(self.page_size);
        let mut body = Vec::new();
        while let Some(query) = pager.next_query() {
            let page: Page<wire::User> = fetch(
                self.client,
                Endpoint::Users,
                &wire::users_request(query),
                query,
                &mut pager,
                &mut body,
            )?;
            for user in &page.result {
                require_id(&user.id, Endpoint::Users, query, "user")?;
                self.out.write(&mapping::user(user, self.org_id))?;
                self.counts.user += 1;
            }
        }
        Ok(())
    }

    fn projects(&mut self) -> Result<()> {
        let mut pager = Pager::new(self.page_size);
        let mut body = Vec::new();
        while let Some(query) = pager.next_query() {
            let page: Page<wire::Project> = fetch(
                self.client,
                Endpoint::Projects,
                &wire::list_request(query),
                query,
                &mut pager,
                &mut body,
            )?;
            for project in &page.result {
                require_id(&project.id, Endpoint::Projects, query, "project")?;
                self.out.write(&mapping::project(project, self.org_id))?;
                self.counts.project += 1;
                let role_keys = self.roles(&project.id)?;
                self.user_grants(&project.id, &role_keys)?;
            }
        }
        Ok(())
    }

    /// Prints the project's roles and returns their keys, which its grants are checked against.
    fn roles(&mut self, project_id: &str) -> Result<HashSet<String>> {
        let endpoint = Endpoint::ProjectRoles { project_id };
        let mut keys = HashSet::new();
        let mut pager = Pager::new(self.page_size);
        let mut body = Vec::new();
        while let Some(query) = pager.next_query() {
            let page: Page<wire::Role> = fetch(
                self.client,
                endpoint,
                &wire::list_request(query),
                query,
                &mut pager,
                &mut body,
            )?;
            for role in &page.result {
                require_id(&role.key, endpoint, query, "role key")?;
                if !keys.insert(role.key.to_string()) {
                    continue;
                }
                self.out.write(&mapping::entitlement(project_id, role))?;
                self.counts.entitlement += 1;
            }
        }
        Ok(keys)
    }

    fn user_grants(&mut self, project_id: &str, role_keys: &HashSet<String>) -> Result<()> {
        let endpoint = Endpoint::UserGrants;
        let mut pager = Pager::new(self.page_size);
        let mut body = Vec::new();
        while let Some(query) = pager.next_query() {
            let request = wire::user_grants_request(query, project_id);
            let page: Page<wire::UserGrant> =
                fetch(self.client, endpoint, &request, query, &mut pager, &mut body)?;
            for user_grant in &page.result {
                require_id(&user_grant.id, endpoint, query, "user grant")?;
                require_id(&user_grant.user_id, endpoint, query, "user id")?;
                if !user_grant.project_id.is_empty() && user_grant.project_id != project_id {
                    anyhow::bail!(
                        "{endpoint} at offset {}: user grant {} belongs to project {}, not to the project {project_id} asked for",
                        query.offset,
                        user_grant.id,
                        user_grant.project_id
                    );
                }
                self.user_grant(project_id, role_keys, user_grant)?;
            }
        }
        Ok(())
    }

    /// Prints one grant record per known role key of an active (or included) user grant.
    fn user_grant(
        &mut self,
        project_id: &str,
        role_keys: &HashSet<String>,
        user_grant: &wire::UserGrant,
    ) -> Result<()> {
        if mapping::is_inactive(user_grant) && !self.include_inactive_grants {
            self.counts.inactive_user_grant += 1;
            return Ok(());
        }
        if user_grant.role_keys.is_empty() {
            self.counts.user_grant_without_roles += 1;
            eprintln!(
                "baton-zitadel: warning: user grant {} of user {} on project {project_id} has no role keys; no grant record",
                user_grant.id, user_grant.user_id
            );
            return Ok(());
        }
        for role_key in &user_grant.role_keys {
            if !role_keys.contains(&**role_key) {
                self.counts.unknown_role_key += 1;
                eprintln!(
                    "baton-zitadel: warning: user grant {} of user {} names role {role_key:?}, which project {project_id} does not have; no grant record for it",
                    user_grant.id, user_grant.user_id
                );
                continue;
            }
            self.external_user(user_grant)?;
            self.out.write(&mapping::grant(project_id, role_key, user_grant))?;
            self.counts.grant += 1;
        }
        Ok(())
    }

    /// Prints the grant's user before its first grant if it belongs to another organization.
    fn external_user(&mut self, user_grant: &wire::UserGrant) -> Result<()> {
        let user_org = &user_grant.granted_org_id;
        if user_org.is_empty() || user_org == self.org_id {
            return Ok(());
        }
        if self.external_users.contains(&*user_grant.user_id) {
            return Ok(());
        }
        self.out.write(&mapping::external_user(user_grant))?;
        self.external_users.insert(user_grant.user_id.to_string());
        self.counts.external_user += 1;
        Ok(())
    }
}

/// Fetches one page into `body`, parses it and advances `pager`.
fn fetch<'b, T: Deserialize<'b>>(
    client: &mut Client,
    endpoint: Endpoint,
    request: &[u8],
    query: ListQuery,
    pager: &mut Pager,
    body: &'b mut Vec<u8>,
) -> Result<Page<T>> {
    let at = || format!("{endpoint} at offset {}", query.offset);
    client.call(endpoint, request, body).with_context(at)?;
    let page: Page<T> =
        serde_json::from_slice(body).with_context(|| format!("{}: malformed response", at()))?;
    pager.record_page(page.result.len(), page.details.total_result).with_context(at)?;
    Ok(page)
}

fn require_id(id: &str, endpoint: Endpoint, query: ListQuery, what: &str) -> Result<()> {
    if id.is_empty() {
        anyhow::bail!(
            "{endpoint} at offset {}: malformed response: a row has no {what}",
            query.offset
        );
    }
    Ok(())
}
