//! ZITADEL's endpoints: routing, request decoding, authentication, org context, permissions and the list answers.

use crate::access::{self, AccessRoute};
use crate::admin::{self, AdminRoute};
use crate::credentials::{self, CredentialRoute};
use crate::dataset::{Dataset, GrantRow, Org, ProjectRow, Token, UserRow};
use crate::generate::mix;
use crate::http::{Request, Response};
use crate::json;
use crate::query::*;
use crate::sign_in::{self, SignInRoute};
use crate::{Limits, Options, Shared, lock};
use std::collections::HashMap;

/// The `processedSequence` of every list answer before the first write through
/// `FakeZitadel::with_dataset`; each write adds one, as each event processed by a ZITADEL
/// projection moves its sequence, so answers are reproducible and changes are visible.
const PROCESSED_SEQUENCE: u64 = 5427;
/// The `viewTimestamp` of every list answer; fixed for the same reason.
pub(super) const VIEW_TIMESTAMP: &str = "2025-10-02T09:30:00.512309Z";

/// The endpoints the fake knows.
pub(super) enum Route {
    OrgsMe,
    Users,
    Projects,
    /// `GET /management/v1/projects/{id}` (GetProjectByID).
    Project {
        project_id: String,
    },
    Roles {
        project_id: String,
    },
    UserGrants,
    /// Managers, their roles and project grants (`access.rs`).
    Access(AccessRoute),
    /// The instance and its managers (`admin.rs`).
    Admin(AdminRoute),
    /// Service users' tokens and keys (`credentials.rs`).
    Credentials(CredentialRoute),
    /// The login policy and a user's authentication methods (`sign_in.rs`).
    SignIn(SignInRoute),
    /// `GET /auth/v1/users/me`, the token's own user (`me.rs`).
    Me,
}

impl Route {
    /// Finds the endpoint of a path; the method is checked separately (405, not 404).
    fn of(path: &str) -> Option<Route> {
        // First, as some of its paths also fit the pattern of `Project` below.
        if let Some(route) = AccessRoute::of(path) {
            return Some(Route::Access(route));
        }
        if let Some(route) = AdminRoute::of(path) {
            return Some(Route::Admin(route));
        }
        if let Some(route) = CredentialRoute::of(path) {
            return Some(Route::Credentials(route));
        }
        if let Some(route) = SignInRoute::of(path) {
            return Some(Route::SignIn(route));
        }
        let route = match path {
            "/management/v1/orgs/me" => Route::OrgsMe,
            "/management/v1/users/_search" => Route::Users,
            "/management/v1/projects/_search" => Route::Projects,
            "/management/v1/users/grants/_search" => Route::UserGrants,
            "/auth/v1/users/me" => Route::Me,
            _ => {
                let rest = path.strip_prefix("/management/v1/projects/")?;
                let (id, roles) = match rest.strip_suffix("/roles/_search") {
                    Some(id) => (id, true),
                    None => (rest, false),
                };
                if id.is_empty() || id.contains('/') {
                    return None;
                }
                let project_id = id.to_string();
                if roles { Route::Roles { project_id } } else { Route::Project { project_id } }
            }
        };
        Some(route)
    }

    fn method(&self) -> &'static str {
        match self {
            Route::OrgsMe | Route::Project { .. } | Route::SignIn(_) | Route::Me => "GET",
            Route::Admin(route) => route.method(),
            _ => "POST",
        }
    }

    fn permission(&self) -> &'static str {
        match self {
            Route::OrgsMe => "org.read",
            Route::Users => "user.read",
            Route::Projects | Route::Project { .. } => "project.read",
            Route::Roles { .. } => "project.role.read",
            Route::UserGrants => "user.grant.read",
            Route::Access(route) => route.permission(),
            Route::Admin(route) => route.permission(),
            Route::Credentials(route) => route.permission(),
            Route::SignIn(route) => route.permission(),
            // `authenticated`: any valid token.
            Route::Me => "",
        }
    }

    /// The project id a permission held for some projects only must name, where the call's
    /// auth option has the check field `ProjectId` (`zitadel-access-api.md` §3, §4.2).
    fn checked_project_id(&self) -> Option<&str> {
        match self {
            Route::Access(AccessRoute::ProjectMembers { project_id })
            | Route::Access(AccessRoute::ProjectGrants { project_id }) => Some(project_id),
            _ => None,
        }
    }

    /// The endpoint as ZITADEL's HTTP rules name it, e.g. for counting requests per endpoint.
    fn template(&self) -> &'static str {
        match self {
            Route::OrgsMe => "GET /management/v1/orgs/me",
            Route::Users => "POST /management/v1/users/_search",
            Route::Projects => "POST /management/v1/projects/_search",
            Route::Project { .. } => "GET /management/v1/projects/{id}",
            Route::Roles { .. } => "POST /management/v1/projects/{project_id}/roles/_search",
            Route::UserGrants => "POST /management/v1/users/grants/_search",
            Route::Access(route) => route.template(),
            Route::Admin(route) => route.template(),
            Route::Credentials(route) => route.template(),
            Route::SignIn(route) => route.template(),
            Route::Me => "GET /auth/v1/users/me",
        }
    }

    /// How the body is read: not at all for a GET or when the HTTP rule has no body (any body
    /// is then ignored), else as a list request with this kind of `queries` and message name.
    fn body(&self) -> Option<(QueryKind, &'static str)> {
        match self {
            Route::OrgsMe | Route::Project { .. } | Route::SignIn(_) | Route::Me => None,
            Route::Users => Some((QueryKind::Unchecked, "ListUsersRequest")),
            Route::Projects => Some((QueryKind::Unchecked, "ListProjectsRequest")),
            Route::Roles { .. } => Some((QueryKind::Unchecked, "ListProjectRolesRequest")),
            Route::UserGrants => Some((QueryKind::UserGrant, "ListUserGrantRequest")),
            Route::Access(route) => route.body(),
            Route::Admin(route) => route.body(),
            // The v2 lists' bodies are read by `credentials.rs`.
            Route::Credentials(route) if route.is_v2() => None,
            Route::Credentials(_) => {
                Some((QueryKind::Unchecked, "ListPersonalAccessTokensRequest"))
            }
        }
    }
}

/// Returns the endpoint of a request path as ZITADEL's HTTP rules name it (e.g.
/// `POST /management/v1/projects/{project_id}/members/_search`), or `None` for a path the
/// fake does not serve.
pub fn endpoint_of(path: &str) -> Option<&'static str> {
    Route::of(path).map(|route| route.template())
}

/// Answers one request, checking in ZITADEL's order: route, method, body decoding,
/// authentication, org context, permission, validation, limits.
pub(super) fn handle(shared: &Shared, request: &Request, number: u64) -> Response {
    match try_handle(shared, request, number) {
        Ok(response) | Err(response) => response,
    }
}

fn try_handle(shared: &Shared, request: &Request, number: u64) -> Result<Response, Response> {
    let route = Route::of(&request.path).ok_or_else(|| plain_error(404, 5, "Not Found"))?;
    if let Route::Credentials(route) = &route
        && route.is_v2()
        && lock(&shared.options).without_v2_credential_lists
    {
        return Err(plain_error(404, 5, "Not Found"));
    }
    if request.method != route.method() {
        return Err(plain_error(405, 12, "Method Not Allowed"));
    }
    // grpc-gateway decodes the body before the call reaches ZITADEL's interceptors, so a
    // bad body is a 400 even when the token is bad too. `orgs/me` is a GET without a body.
    let body = route.body();
    let list = match body {
        None => Ok(ListRequest::default()),
        Some((kind, _)) => decode_list_request(&request.body, kind),
    }
    .map_err(|message| plain_error(400, 3, &format!("proto: {message}")))?;

    let options = lock(&shared.options).clone();
    let mut dataset = lock(&shared.dataset);
    let token = authenticate(request, &dataset)?;
    if let Route::Me = route {
        // No membership needed: only the context organization must exist.
        let header = request.header("x-zitadel-orgid").unwrap_or_default();
        if !header.is_empty() && dataset.org(header).is_none() {
            return Err(zitadel_error(403, 7, "Organisation doesn't exist", "AUTH-Bs7Ds"));
        }
        let body = crate::me::answer(&dataset, token);
        return Ok(Response { status: 200, headers: Vec::new(), body });
    }
    let org_id = context_org(request, token, &dataset)?;
    let permission = route.permission();
    if !permission.is_empty() && !token.holds(permission) {
        return Err(zitadel_error(403, 7, "No matching permissions found", "AUTH-5mWD2"));
    }
    // A call whose auth option names a check field (`ProjectId`) passes a permission held for
    // some ids only when the request names one of them (`checkUserPermissions`).
    let scope: Option<Vec<String>> =
        token.scope(route.permission()).map(|ids| ids.into_iter().map(String::from).collect());
    if let (Some(ids), Some(project_id)) = (&scope, route.checked_project_id())
        && !ids.iter().any(|id| id == project_id)
    {
        return Err(zitadel_error(403, 7, "No matching permissions found", "AUTH-3jknH"));
    }
    let page = validated_page(&list, body, &options, number)?;
    if let Route::Credentials(route) = &route
        && route.is_v2()
    {
        let answer = credentials::answer_v2(route, &dataset, token, &request.body, &options);
        return match answer {
            Ok(body) => Ok(Response { status: 200, headers: Vec::new(), body }),
            Err((status, message)) => Err(plain_error(status, 3, &message)),
        };
    }

    if let Route::SignIn(route) = &route {
        return match sign_in::answer(route, &dataset, token, &org_id) {
            Ok(body) => Ok(Response { status: 200, headers: Vec::new(), body }),
            Err(()) => Err(zitadel_error(403, 7, "No matching permissions found", "AUTH-AWfge")),
        };
    }
    let busy = if options.busy_instance { number } else { 0 };
    let sequence = PROCESSED_SEQUENCE + dataset.writes + busy;
    // GetProjectByID looks the project up by id in the whole instance, with no filter on its
    // resource owner: a project of another organization is found as well.
    let any_project = match &route {
        Route::Project { project_id } => {
            let mut projects = dataset.orgs.iter().flat_map(|org| &org.projects);
            projects.find(|project| project.id == *project_id).map(|project| project.json.clone())
        }
        _ => None,
    };
    let Some(org_position) = dataset.orgs.iter().position(|org| org.id == org_id) else {
        return Err(zitadel_error(403, 7, "Organisation doesn't exist", "AUTH-Bs7Ds"));
    };
    let mut index = lock(&shared.index);
    let needs_index = matches!(route, Route::UserGrants | Route::Access(_) | Route::Admin(_));
    if needs_index && index.is_none() {
        *index = Some(Index::build(&mut dataset));
    }
    let index = index.as_ref();
    let org = &mut dataset.orgs[org_position];
    let body = match &route {
        Route::OrgsMe => format!("{{\"org\":{}}}", org.json),
        // Answered before the organization's membership is checked, above.
        Route::Me => return Err(plain_error(500, 13, "GetMyUser is answered above")),
        Route::Project { .. } => match any_project {
            Some(project) => format!("{{\"project\":{project}}}"),
            None => return Err(zitadel_error(404, 5, "Project not found", "QUERY-fk2fs")),
        },
        Route::Users => {
            // Users are sorted.
            let page = Page { shuffle: None, ..page };
            list_users(org, &list, page, options.users_total_inflation, sequence)
        }
        Route::Projects => {
            // Only the projects a permission held for some projects names
            // (`AppendPermissionQueries`).
            let seen = |p: &&ProjectRow| scope.as_ref().is_none_or(|ids| ids.contains(&p.id));
            let projects = org.projects.iter().filter(seen);
            let (total, rows) = page.apply(projects.map(|p| p.json.as_str()));
            list_body(total, rows, sequence)
        }
        Route::Roles { project_id } => {
            let roles = org.roles.get(project_id).map(Vec::as_slice).unwrap_or_default();
            let (total, rows) = page.apply(roles.iter().map(String::as_str));
            list_body(total, rows, sequence)
        }
        Route::UserGrants => {
            let index = index.expect("built for this route");
            user_grants(&dataset, index, org_position, &list, page, sequence)
        }
        Route::Access(route) => {
            let index = index.expect("built for this route");
            let context = access::Context {
                dataset: &dataset,
                index,
                org: org_position,
                list: &list,
                page,
                sequence,
                options: &options,
                scope: scope.as_deref(),
            };
            access::answer(route, &context)
        }
        Route::Credentials(route) => {
            credentials::answer_v1(route, &dataset, org_position, page, sequence)
        }
        Route::SignIn(_) => unreachable!("answered above"),
        Route::Admin(route) => {
            let index = index.expect("built for this route");
            let context = access::Context {
                dataset: &dataset,
                index,
                org: org_position,
                list: &list,
                page,
                sequence,
                options: &options,
                // Instance permissions are never held for some ids only.
                scope: None,
            };
            admin::answer(route, &context)
        }
    };
    Ok(Response { status: 200, headers: Vec::new(), body })
}

/// The page a list request asks for, once its queries pass validation and its limit the
/// server's rules (checked after the permission, as ZITADEL does).
fn validated_page(
    list: &ListRequest,
    body: Option<(QueryKind, &str)>,
    options: &Options,
    number: u64,
) -> Result<Page, Response> {
    if let (Some(index), Some((kind, request_message))) = (list.empty_query, body) {
        let message = format!(
            "invalid {request_message}.Queries[{index}]: embedded message failed validation \
             | caused by: invalid {}.Query: value is required",
            kind.message().1
        );
        return Err(plain_error(400, 3, &message));
    }
    let limit = match options.limits {
        Limits::Unlimited => list.limit,
        Limits::Enforced { default, .. } if list.limit == 0 => default,
        Limits::Enforced { max, .. } if list.limit > max => {
            return Err(zitadel_error(400, 3, "Limit exceeded", "QUERY-4M0fs"));
        }
        Limits::Enforced { .. } => list.limit,
    };
    // Every list but users has no ORDER BY.
    let shuffle = options.shuffle_seed.map(|seed| mix(seed ^ number));
    Ok(Page { offset: list.offset, limit, shuffle })
}

/// Answers `ListUserGrants` with ZITADEL's resource-owner rule
/// (`docs/zitadel-api.md#grants-made-through-project-grants`): the context org's own grants,
/// and with any `withGrantedQuery` also the grants other orgs made on the context org's
/// projects through project grants.
fn user_grants(
    dataset: &Dataset,
    index: &Index,
    org_position: usize,
    list: &ListRequest,
    page: Page,
    sequence: u64,
) -> String {
    let owned = |org: usize, grant: &GrantRow| {
        org == org_position
            || (list.with_granted
                && index.project_owner.get(&grant.project_id) == Some(&org_position))
    };
    let matches = |&(org, grant): &(usize, &GrantRow)| {
        owned(org, grant) && grant_matches(grant, &list.filters)
    };
    let project = list.filters.iter().find_map(|filter| match filter {
        Filter::ProjectId(id) => Some(id),
        _ => None,
    });
    // The index only narrows the rows to look at, in their order; every filter is still
    // applied, so the answer is the same as from scanning every grant.
    let (total, rows) = match project {
        None if !list.with_granted => {
            let grants = dataset.orgs[org_position].user_grants.iter();
            let candidates = grants.map(|grant| (org_position, grant));
            page.apply(candidates.filter(matches).map(|(_, g)| g.json.as_str()))
        }
        None => {
            let orgs = dataset.orgs.iter().enumerate();
            let candidates =
                orgs.flat_map(|(i, org)| org.user_grants.iter().map(move |grant| (i, grant)));
            page.apply(candidates.filter(matches).map(|(_, g)| g.json.as_str()))
        }
        Some(project_id) => {
            let positions = index.grants_by_project.get(project_id).map(Vec::as_slice);
            let candidates = positions
                .unwrap_or_default()
                .iter()
                .map(|&(org, i)| (org, &dataset.orgs[org].user_grants[i]));
            page.apply(candidates.filter(matches).map(|(_, g)| g.json.as_str()))
        }
    };
    list_body(total, rows, sequence)
}

/// Lookups across the whole dataset that requests would otherwise pay for with a scan: a sync
/// asks for one project's grants at a time, and scanning every grant of a large org for each
/// of its projects would make the fake, not the client, the thing measured. Built by the
/// first request that needs it and dropped by every write (`Shared::write`).
pub(super) struct Index {
    /// Per project id, its user grants in every org as (org, grant) positions, in dataset order.
    grants_by_project: HashMap<String, Vec<(usize, usize)>>,
    /// Per project id, the position of the org that owns it.
    pub(super) project_owner: HashMap<String, usize>,
    /// Per user id, the position of its org and of its row there.
    pub(super) users: HashMap<String, (usize, usize)>,
}

impl Index {
    /// Indexes the dataset. It sorts each org's users by id first, as serving them does, so
    /// that the positions hold until the next write.
    fn build(dataset: &mut Dataset) -> Index {
        let mut index = Index {
            grants_by_project: HashMap::new(),
            project_owner: HashMap::new(),
            users: HashMap::new(),
        };
        for (org_position, org) in dataset.orgs.iter_mut().enumerate() {
            if !org.users.is_sorted_by(|a, b| a.id <= b.id) {
                org.users.sort_by(|a, b| a.id.cmp(&b.id));
            }
            for (i, user) in org.users.iter().enumerate() {
                index.users.insert(user.id.clone(), (org_position, i));
            }
            for project in &org.projects {
                index.project_owner.insert(project.id.clone(), org_position);
            }
            for (i, grant) in org.user_grants.iter().enumerate() {
                let positions =
                    index.grants_by_project.entry(grant.project_id.clone()).or_default();
                positions.push((org_position, i));
            }
        }
        index
    }
}

/// Checks the `Authorization` header and returns the token it names.
fn authenticate<'a>(request: &Request, dataset: &'a Dataset) -> Result<&'a Token, Response> {
    let Some(header) = request.header("authorization") else {
        return Err(plain_error(401, 16, "auth header missing"));
    };
    // ZITADEL splits on "Bearer " and wants exactly two parts (`Z:internal/api/authz/context.go`).
    let parts: Vec<&str> = header.split("Bearer ").collect();
    let [_, token] = parts.as_slice() else {
        return Err(zitadel_error(401, 16, "invalid auth header", "AUTH-toLo1"));
    };
    dataset
        .tokens
        .iter()
        .find(|t| t.token == *token)
        .ok_or_else(|| zitadel_error(401, 16, "Errors.Token.Invalid", "AUTH-7fs1e"))
}

/// Returns the org the request acts on: the `x-zitadel-orgid` header, else the token's org.
fn context_org(request: &Request, token: &Token, dataset: &Dataset) -> Result<String, Response> {
    let header = request.header("x-zitadel-orgid").unwrap_or_default();
    if header.is_empty() {
        return Ok(token.user_org.clone());
    }
    if dataset.org(header).is_none() {
        return Err(zitadel_error(403, 7, "Organisation doesn't exist", "AUTH-Bs7Ds"));
    }
    if !token.instance_level && token.user_org != header {
        return Err(zitadel_error(404, 5, "membership not found", "AUTHZ-cdgFk"));
    }
    Ok(header.to_string())
}

fn grant_matches(grant: &GrantRow, filters: &[Filter]) -> bool {
    filters.iter().all(|filter| match filter {
        // An empty project id matches nothing, as in ZITADEL.
        Filter::ProjectId(id) => !id.is_empty() && grant.project_id == *id,
        Filter::UserId(id) => grant.user_id == *id,
        // An empty id matches the grants not made through a project grant (ZITADEL stores '').
        Filter::ProjectGrantId(id) => grant.project_grant_id == *id,
        Filter::GrantedOrgId(_) | Filter::RoleKey(_) | Filter::Ignored => true,
    })
}

fn list_users(
    org: &mut Org,
    list: &ListRequest,
    page: Page,
    inflation: u64,
    sequence: u64,
) -> String {
    // Rows may be added in any order (or changed through `with_dataset`); sorting only when
    // needed keeps repeated pages over 100,000 users cheap.
    if !org.users.is_sorted_by(|a, b| a.id <= b.id) {
        org.users.sort_by(|a, b| a.id.cmp(&b.id));
    }
    let users = &org.users;
    let (total, rows) = match (list.sort, list.asc) {
        (UserSort::Id, true) => page.apply(users.iter().map(|u| u.json.as_str())),
        (UserSort::Id, false) => page.apply(users.iter().rev().map(|u| u.json.as_str())),
        (sort, asc) => {
            let mut ordered: Vec<&UserRow> = users.iter().collect();
            // Stable sorts over id order, so ties stay in id order (ZITADEL's are unstable).
            match sort {
                UserSort::CreationDate => {
                    ordered.sort_by_cached_key(|u| timestamp_key(&u.creation_date));
                }
                _ => ordered.sort_by_cached_key(|u| u.user_name.to_lowercase()),
            }
            if !asc {
                ordered.reverse();
            }
            page.apply(ordered.into_iter().map(|u| u.json.as_str()))
        }
    };
    let inflated = if rows.is_empty() { total } else { total + inflation as usize };
    list_body(inflated, rows, sequence)
}

/// Makes RFC 3339 timestamps with 0, 3, 6 or 9 fractional digits comparable as text by
/// padding the fraction to 9 digits (`12Z` would otherwise sort after `12.5Z`).
fn timestamp_key(timestamp: &str) -> String {
    let without_zone = timestamp.strip_suffix('Z').unwrap_or(timestamp);
    let (seconds, fraction) = without_zone.split_once('.').unwrap_or((without_zone, ""));
    format!("{seconds}.{fraction:0<9}")
}

/// The requested window of rows.
#[derive(Clone, Copy)]
pub(super) struct Page {
    offset: u64,
    /// 0 means every row.
    limit: u64,
    /// Shuffle the rows with this seed before taking the window.
    shuffle: Option<u64>,
}

impl Page {
    /// The same window, without the shuffle: for rows the caller has put in their order.
    pub(super) fn in_order(self) -> Page {
        Page { shuffle: None, ..self }
    }

    /// Returns the number of rows and the rows inside the window.
    pub(super) fn apply<'a>(
        self,
        rows: impl Iterator<Item = &'a str> + Clone,
    ) -> (usize, Vec<&'a str>) {
        if let Some(seed) = self.shuffle {
            let mut rows: Vec<&str> = rows.collect();
            shuffle(&mut rows, seed);
            return Page { shuffle: None, ..self }.apply(rows.into_iter());
        }
        let total = rows.clone().count();
        let skip = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let take = if self.limit == 0 {
            usize::MAX
        } else {
            usize::try_from(self.limit).unwrap_or(usize::MAX)
        };
        (total, rows.skip(skip).take(take).collect())
    }
}

/// Puts `rows` in an order chosen by `seed` (Fisher-Yates).
pub(super) fn shuffle<T>(rows: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..rows.len()).rev() {
        state = mix(state);
        let j = usize::try_from(state % (i as u64 + 1)).unwrap_or_default();
        rows.swap(i, j);
    }
}

/// Builds a list answer; an empty page has no `totalResult` and no `result`, like ZITADEL.
pub(super) fn list_body(total: usize, rows: Vec<&str>, sequence: u64) -> String {
    let details =
        format!("\"processedSequence\":\"{sequence}\",\"viewTimestamp\":\"{VIEW_TIMESTAMP}\"");
    if rows.is_empty() {
        return format!("{{\"details\":{{{details}}}}}");
    }
    let size: usize = rows.iter().map(|row| row.len() + 1).sum();
    let mut body = String::with_capacity(size + 128);
    body.push_str(&format!("{{\"details\":{{\"totalResult\":\"{total}\",{details}}},\"result\":["));
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(row);
    }
    body.push_str("]}");
    body
}

/// A `google.rpc.Status` body without details (plain gRPC or gateway errors).
fn plain_error(status: u16, code: u32, message: &str) -> Response {
    let body = format!("{{\"code\":{code},\"message\":{}}}", json::quote(message));
    error_response(status, code, message, body)
}

/// A ZITADEL error: `<message> (<id>)` plus one `zitadel.v1.ErrorDetail`.
fn zitadel_error(status: u16, code: u32, message: &str, id: &str) -> Response {
    let full = format!("{message} ({id})");
    let body = format!(
        "{{\"code\":{code},\"message\":{},\"details\":[{{\"@type\":\"type.googleapis.com/zitadel.v1.ErrorDetail\",\
         \"id\":{},\"message\":{}}}]}}",
        json::quote(&full),
        json::quote(id),
        json::quote(message)
    );
    error_response(status, code, &full, body)
}

/// Unauthenticated answers also name the message in `WWW-Authenticate`, like grpc-gateway.
fn error_response(status: u16, code: u32, message: &str, body: String) -> Response {
    let mut headers = Vec::new();
    if code == 16 {
        headers.push(("WWW-Authenticate".to_string(), message.to_string()));
    }
    Response { status, headers, body }
}
