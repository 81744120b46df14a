//! The promises every complete output stream keeps, checked one record at a time, for the
//! end-to-end tests and the benchmark alike.
//!
//! The stream's contract: resource types come first and every resource follows its type;
//! each id is printed once per kind and has its documented form; every reference (a project
//! grant's project, an entitlement's resource, a grant's entitlement, principal and project
//! grant) points to a record printed before it; a grant to an organization or made through a
//! project grant agrees with the project grant it names; an external user or organization
//! is printed only for a grant that names it; a user's authentication methods follow the
//! user, once; and the summary counts exactly the records
//! the stream holds. The caller reads the JSON (this crate has no JSON of its own to offer)
//! and hands over the few fields the contract reads, as a `Record`.

use std::collections::{HashMap, HashSet};

/// The summary's counts that are records, each held to the records of its kind in the
/// stream (a grant also counts under its kind of grant, if it has one).
pub const RECORD_KINDS: [&str; 16] = [
    "user",
    "external_user",
    "pat",
    "machine_key",
    "client_secret",
    "user_auth",
    "org",
    "external_org",
    "instance",
    "project",
    "project_grant",
    "entitlement",
    "grant",
    "manager_grant",
    "org_grant",
    "delegated_grant",
];

/// The fields of one output record that the contract reads; absent text fields are empty.
#[derive(Debug, Default, Clone, Copy)]
pub struct Record<'a> {
    pub kind: &'a str,
    pub id: &'a str,
    pub resource_type: &'a str,
    /// A user's or an organization's `external`, if the record has a boolean there.
    pub external: Option<bool>,
    /// A project grant's project and the organization it delegates to, and its state.
    pub project_id: &'a str,
    pub granted_org_id: &'a str,
    pub status_details: &'a str,
    /// What an entitlement or a grant is of.
    pub resource_id: &'a str,
    pub slug: &'a str,
    /// An entitlement's purpose: `PERMISSION` for manager roles, `ASSIGNMENT` otherwise.
    pub purpose: &'a str,
    pub entitlement_id: &'a str,
    pub principal_type: &'a str,
    pub principal_id: &'a str,
    /// A grant's user grant, if it comes from one (manager roles and grants to
    /// organizations do not).
    pub user_grant_id: Option<&'a str>,
    pub state: &'a str,
    /// A grant's project grant, if it is to an organization or made through one.
    pub project_grant_id: Option<&'a str>,
    pub granted_by_org_id: &'a str,
    /// A credential's user (`secret.identity_id`).
    pub identity_id: &'a str,
    /// The user whose authentication methods a `user_auth` record lists.
    pub user_id: &'a str,
}

/// What the checks of one stream have seen so far.
#[derive(Debug)]
pub struct Contract {
    /// The resource types the sync was asked for (`None`: all of them). Grants name
    /// principals and project grants of types left out by id only.
    synced: Option<Vec<String>>,
    records: u64,
    /// Ids printed so far, by kind (a resource's kind with its type, `resource:user`).
    seen: HashMap<String, HashSet<String>>,
    /// What each entitlement is of (resource type, resource id, slug) and its purpose.
    entitlements: HashMap<String, ([String; 3], String)>,
    /// What grants naming a project grant must agree with: its project, the organization
    /// it delegates to and its state.
    project_grants: HashMap<String, [String; 3]>,
    /// External users and organizations printed and not yet named by a grant.
    unnamed: HashSet<(String, String)>,
    /// Records by the summary's name of their kind.
    counts: HashMap<&'static str, u64>,
}

impl Contract {
    /// A checker for a stream of a sync of `synced` resource types (`None`: all of them),
    /// as the summary's `filters.resource_types` says.
    pub fn new(synced: Option<Vec<String>>) -> Contract {
        Contract {
            synced,
            records: 0,
            seen: HashMap::new(),
            entitlements: HashMap::new(),
            project_grants: HashMap::new(),
            unnamed: HashSet::new(),
            counts: HashMap::new(),
        }
    }

    /// Checks the next record (the summary is not one) and returns the summary's name of
    /// its count: `grant` for a grant of a user grant this organization made, its kind of
    /// grant for any other grant, and `None` for a resource type.
    pub fn record(&mut self, r: &Record) -> Result<Option<&'static str>, String> {
        self.records += 1;
        if self.records == 1 && r.kind != "resource_type" {
            return Err("resource types come first".into());
        }
        if r.kind == "user_auth" {
            return self.user_auth(r).map(Some);
        }
        if r.id.is_empty() {
            return Err("a record without an id".into());
        }
        let (kind, counted) = match r.kind {
            "resource_type" => ("resource_type".to_string(), None),
            "resource" => (format!("resource:{}", r.resource_type), Some(self.resource(r)?)),
            "entitlement" => ("entitlement".to_string(), Some(self.entitlement(r)?)),
            "grant" => ("grant".to_string(), Some(self.grant(r)?)),
            other => return Err(format!("unknown record kind {other:?}")),
        };
        if !self.seen.entry(kind).or_default().insert(r.id.to_string()) {
            return Err(format!("id {} repeats", r.id));
        }
        if let Some(name) = counted {
            *self.counts.entry(name).or_default() += 1;
            if name.ends_with("_grant") && r.kind == "grant" {
                *self.counts.entry("grant").or_default() += 1;
            }
        }
        Ok(counted)
    }

    /// Checks the summary's counts (`count(name)`, `None` if it has none of that name)
    /// against the records, and that every external record was named by a grant.
    pub fn finish(self, count: impl Fn(&str) -> Option<u64>) -> Result<(), String> {
        if !self.unnamed.is_empty() {
            let mut unnamed: Vec<_> = self.unnamed.into_iter().collect();
            unnamed.sort();
            return Err(format!("external records no grant names: {unnamed:?}"));
        }
        // Every count the stream can prove, those of kinds it does not hold (zero) included.
        for name in RECORD_KINDS {
            let printed = self.counts.get(name).copied().unwrap_or_default();
            if count(name) != Some(printed) {
                return Err(format!(
                    "summary count of {name} is {:?}, the stream holds {printed}",
                    count(name)
                ));
            }
        }
        Ok(())
    }

    /// Whether the sync printed resources of this type.
    fn synced(&self, resource_type: &str) -> bool {
        self.synced.as_ref().is_none_or(|types| types.iter().any(|t| t == resource_type))
    }

    /// A user's authentication methods: after the user, once (keyed by the user's id).
    fn user_auth(&mut self, r: &Record) -> Result<&'static str, String> {
        if !self.known("resource:user", r.user_id) {
            return Err("authentication methods before their user".into());
        }
        if !self.seen.entry("user_auth".into()).or_default().insert(r.user_id.to_string()) {
            return Err(format!("the authentication methods of user {} repeat", r.user_id));
        }
        *self.counts.entry("user_auth").or_default() += 1;
        Ok("user_auth")
    }

    fn known(&self, kind: &str, id: &str) -> bool {
        self.seen.get(kind).is_some_and(|ids| ids.contains(id))
    }

    fn resource(&mut self, r: &Record) -> Result<&'static str, String> {
        if !self.known("resource_type", r.resource_type) {
            return Err("a resource before its resource type".into());
        }
        let external = || r.external.ok_or("external is not a bool");
        match r.resource_type {
            "user" | "org" if external()? => {
                self.unnamed.insert((r.resource_type.to_string(), r.id.to_string()));
                Ok(if r.resource_type == "user" { "external_user" } else { "external_org" })
            }
            "user" => Ok("user"),
            "org" => Ok("org"),
            "instance" => Ok("instance"),
            kind @ ("pat" | "machine_key" | "client_secret") => {
                if !self.known("resource:user", r.identity_id) {
                    return Err("a credential before its user".into());
                }
                Ok(match kind {
                    "pat" => "pat",
                    "machine_key" => "machine_key",
                    _ => "client_secret",
                })
            }
            "project" => Ok("project"),
            "project_grant" => {
                if !self.known("resource:project", r.project_id) {
                    return Err("a project grant before its project".into());
                }
                let agreed = [r.project_id, r.granted_org_id, r.status_details];
                self.project_grants.insert(r.id.to_string(), agreed.map(String::from));
                Ok("project_grant")
            }
            other => Err(format!("a resource of unknown type {other:?}")),
        }
    }

    fn entitlement(&mut self, r: &Record) -> Result<&'static str, String> {
        if !self.known(&format!("resource:{}", r.resource_type), r.resource_id) {
            return Err("an entitlement before its resource".into());
        }
        // A project's manager role `manager:<ROLE>` is two components of its id.
        let slug = match (r.resource_type, r.purpose, r.slug.strip_prefix("manager:")) {
            ("project", "PERMISSION", Some(role)) => vec!["manager", role],
            _ => vec![r.slug],
        };
        if r.id != joined("", [r.resource_type, r.resource_id].into_iter().chain(slug)) {
            return Err("an entitlement id other than <resource_type>:<resource_id>:<slug>".into());
        }
        let of = [r.resource_type, r.resource_id, r.slug].map(String::from);
        self.entitlements.insert(r.id.to_string(), (of, r.purpose.to_string()));
        Ok("entitlement")
    }

    fn grant(&mut self, r: &Record) -> Result<&'static str, String> {
        let Some((of, purpose)) = self.entitlements.get(r.entitlement_id) else {
            return Err("a grant before its entitlement".into());
        };
        if *of != [r.resource_type, r.resource_id, r.slug] {
            return Err("a grant of another resource or slug than its entitlement's".into());
        }
        let manager_role = purpose == "PERMISSION";
        if !self.known(&format!("resource:{}", r.principal_type), r.principal_id)
            && self.synced(r.principal_type)
        {
            return Err("a grant before its principal".into());
        }
        self.unnamed.remove(&(r.principal_type.to_string(), r.principal_id.to_string()));
        let mut id = joined(r.entitlement_id, [r.principal_type, r.principal_id]);
        if let (Some(project_grant), "user") = (r.project_grant_id, r.principal_type) {
            id = joined(&id, ["project_grant", project_grant]);
        }
        if r.id != id {
            return Err(format!("a grant id other than {id:?}"));
        }
        let agreed = match r.project_grant_id {
            Some(project_grant) => self.project_grants.get(project_grant),
            None => None,
        };
        if let Some([project_id, ..]) = agreed
            && *project_id != r.resource_id
        {
            return Err("a grant naming a project grant of another project".into());
        }
        if r.project_grant_id.is_some() && agreed.is_none() && self.synced("project_grant") {
            return Err("a grant before its project grant".into());
        }
        match (r.principal_type, r.project_grant_id, r.user_grant_id) {
            ("org", Some(_), None) => {
                if let Some([_, granted_org, state]) = agreed
                    && (*granted_org != r.principal_id || *state != r.state)
                {
                    return Err("a grant to an organization other than its project grant's, or in another state".into());
                }
                Ok("org_grant")
            }
            ("user", Some(_), Some(_)) => {
                if let Some([_, granted_org, _]) = agreed
                    && *granted_org != r.granted_by_org_id
                {
                    return Err("granted_by_org_id is not the project grant's organization".into());
                }
                Ok("delegated_grant")
            }
            ("user", None, Some(_)) if !manager_role => Ok("grant"),
            ("user", None, None) if manager_role => Ok("manager_grant"),
            _ => Err("a grant of no kind the stream has".into()),
        }
    }
}

/// The id `head` (an id, or nothing) followed by `components`, each after a `:` with its
/// `%` and `:` percent-encoded (`%25`, `%3A`): ids name their components and nothing else.
fn joined<'c>(head: &str, components: impl IntoIterator<Item = &'c str>) -> String {
    let mut id = head.to_string();
    for component in components {
        if !id.is_empty() {
            id.push(':');
        }
        id.push_str(&component.replace('%', "%25").replace(':', "%3A"));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER_TYPE: Record = Record { kind: "resource_type", id: "user", ..NONE };
    const PROJECT_TYPE: Record = Record { kind: "resource_type", id: "project", ..NONE };
    const ALICE: Record =
        Record { kind: "resource", resource_type: "user", id: "1", external: Some(false), ..NONE };
    const PORTAL: Record = Record { kind: "resource", resource_type: "project", id: "2", ..NONE };
    const VIEWER: Record = Record {
        kind: "entitlement",
        id: "project:2:viewer",
        resource_type: "project",
        resource_id: "2",
        slug: "viewer",
        purpose: "ASSIGNMENT",
        ..NONE
    };
    const ALICE_VIEWS: Record = Record {
        kind: "grant",
        id: "project:2:viewer:user:1",
        entitlement_id: "project:2:viewer",
        resource_type: "project",
        resource_id: "2",
        slug: "viewer",
        principal_type: "user",
        principal_id: "1",
        user_grant_id: Some("3"),
        ..NONE
    };
    const NONE: Record = Record {
        kind: "",
        id: "",
        resource_type: "",
        external: None,
        project_id: "",
        granted_org_id: "",
        status_details: "",
        resource_id: "",
        slug: "",
        purpose: "",
        entitlement_id: "",
        principal_type: "",
        principal_id: "",
        user_grant_id: None,
        state: "",
        project_grant_id: None,
        granted_by_org_id: "",
        identity_id: "",
        user_id: "",
    };

    /// Checks `records` in order and then the summary `counts`, returning the first broken
    /// promise.
    fn check(records: &[Record], counts: &[(&str, u64)]) -> Result<(), String> {
        let mut contract = Contract::new(None);
        for record in records {
            contract.record(record)?;
        }
        contract.finish(|name| {
            let count = counts.iter().find(|(counted, _)| *counted == name);
            Some(count.map_or(0, |(_, n)| *n))
        })
    }

    const COUNTS: [(&str, u64); 4] =
        [("user", 1), ("project", 1), ("entitlement", 1), ("grant", 1)];

    #[test]
    fn a_stream_that_keeps_its_promises_passes() -> Result<(), String> {
        check(&[USER_TYPE, PROJECT_TYPE, ALICE, PORTAL, VIEWER, ALICE_VIEWS], &COUNTS)
    }

    #[test]
    fn each_broken_promise_is_named() {
        let cases: [(&[Record], &str); 5] = [
            (&[ALICE], "resource types come first"),
            (&[USER_TYPE, PORTAL], "a resource before its resource type"),
            (&[USER_TYPE, ALICE, ALICE], "id 1 repeats"),
            (
                &[USER_TYPE, PROJECT_TYPE, ALICE, PORTAL, ALICE_VIEWS],
                "a grant before its entitlement",
            ),
            (
                &[USER_TYPE, PROJECT_TYPE, PORTAL, VIEWER, ALICE_VIEWS],
                "a grant before its principal",
            ),
        ];
        for (records, broken) in cases {
            assert_eq!(check(records, &COUNTS), Err(broken.to_string()));
        }
        // A `:` inside a component is escaped, so an id cannot be mistaken for another's.
        let colon = Record { id: "project:2:a:b", slug: "a:b", ..VIEWER };
        let broken = check(&[USER_TYPE, PROJECT_TYPE, PORTAL, colon], &COUNTS);
        assert_eq!(
            broken,
            Err("an entitlement id other than <resource_type>:<resource_id>:<slug>".into())
        );
        let escaped = Record { id: "project:2:a%3Ab%25", slug: "a:b%", ..VIEWER };
        let manager = Record {
            id: "project:2:manager:OWNER",
            slug: "manager:OWNER",
            purpose: "PERMISSION",
            ..VIEWER
        };
        let methods = Record { kind: "user_auth", user_id: "1", ..NONE };
        for (records, broken) in [
            (&[USER_TYPE, methods][..], "authentication methods before their user"),
            (&[USER_TYPE, ALICE, methods, methods], "the authentication methods of user 1 repeat"),
        ] {
            assert_eq!(check(records, &[("user", 1), ("user_auth", 1)]), Err(broken.to_string()));
        }
        assert_eq!(check(&[USER_TYPE, ALICE, methods], &[("user", 1), ("user_auth", 1)]), Ok(()));
        let counts = [("project", 1), ("entitlement", 2)];
        assert_eq!(check(&[USER_TYPE, PROJECT_TYPE, PORTAL, escaped, manager], &counts), Ok(()));
        let stream = [USER_TYPE, PROJECT_TYPE, ALICE, PORTAL, VIEWER, ALICE_VIEWS];
        let counted = check(&stream, &[("user", 1), ("project", 1), ("entitlement", 1)]);
        assert_eq!(counted, Err("summary count of grant is Some(0), the stream holds 1".into()));
    }
}
