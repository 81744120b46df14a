//! The most powerful identities of a generated organization: the Personal Access Tokens and
//! machine keys of its service users, and the instance's managers, with what a sync prints
//! and requests for them.

use super::access::AccessTally;
use super::*;
use crate::dataset::CredentialRow;

/// The instance every generated organization lives in.
pub(super) const INSTANCE_ID: &str = "284904986052325380";
const INSTANCE_NAME: &str = "ZITADEL";
const PAT_BASE: u64 = 284_919_000_000_000_000;
const KEY_BASE: u64 = 284_920_000_000_000_000;
/// ZITADEL's "never" for a token or key without an expiry.
const NEVER: &str = "9999-12-31T23:59:59Z";

/// The instance's managers, by the org of the user and the user's position in it, with
/// their roles: users of the organization (a machine among them), of the second one and of a
/// granted one, as an instance has.
const INSTANCE_MANAGERS: [(Who, usize, &[&str]); 6] = [
    (Who::Own, 3, &["IAM_OWNER"]),
    (Who::Own, 4_111, &["IAM_OWNER_VIEWER"]),
    (Who::Own, 27, &["IAM_ORG_MANAGER", "IAM_USER_MANAGER"]),
    (Who::Other, 5, &["IAM_OWNER"]),
    (Who::Other, 11, &["IAM_LOGIN_CLIENT"]),
    (Who::Granted, 2, &["IAM_END_USER_IMPERSONATOR"]),
];

#[derive(Clone, Copy)]
enum Who {
    Own,
    Other,
    Granted,
}

impl Generator {
    /// Tokens and keys of the organization's service users (about a third of them have a
    /// token, half of those never expiring, and a fifth a key), counted as a sync prints
    /// them, after the users, from one list of each.
    pub(super) fn credentials(&mut self, tally: &mut AccessTally) {
        let (mut pats, mut keys) = (Vec::new(), Vec::new());
        for i in 0..self.spec.users {
            let person = self.person(OWN, i);
            if !person.machine {
                continue;
            }
            let hash = mix(person.hash ^ 0x7a75);
            let created = timestamp(hash >> 3);
            if hash.is_multiple_of(3) {
                let id = (PAT_BASE + pats.len() as u64 * ID_STRIDE).to_string();
                let expires = match (hash >> 9) % 2 {
                    0 => NEVER.to_string(),
                    _ => in_2027(hash >> 13),
                };
                tally.record(&["pat", &id, &person.id]);
                pats.push(credential(id, &person.id, created.clone(), expires));
            }
            if hash % 5 == 1 {
                let id = (KEY_BASE + keys.len() as u64 * ID_STRIDE).to_string();
                tally.record(&["machine_key", &id, &person.id]);
                keys.push(credential(id, &person.id, created, in_2027(hash >> 17)));
            }
        }
        tally.counts.pat = pats.len() as u64;
        tally.counts.machine_key = keys.len() as u64;
        tally.request("/v2/users/pats/search", pages(pats.len()));
        tally.request("/v2/users/keys/search", pages(keys.len()));
        let org = self.dataset.org_mut(OWN.id).expect("the org exists");
        org.pats = pats;
        org.machine_keys = keys;
    }

    /// The instance and its managers, in the dataset for every sync; counted in `tally`
    /// only for a sync with a token that reads them (`GENERATED_IAM_PAT`).
    pub(super) fn instance(&mut self, tally: &mut AccessTally, granted: &[OrgNames]) {
        let mut managers: Vec<Manager> = Vec::new();
        let mut members = Vec::new();
        for (n, &(who, index, roles)) in INSTANCE_MANAGERS.iter().enumerate() {
            let (org, users) = match who {
                Who::Own => (OWN, self.spec.users),
                Who::Other => (OTHER, self.spec.other_org_users),
                Who::Granted if !granted.is_empty() => (granted[0], self.spec.granted_org_users),
                Who::Granted => continue,
            };
            if users == 0 {
                continue;
            }
            let person = self.person(org, index % users);
            if managers.iter().any(|manager| manager.id == person.id) {
                continue;
            }
            let details =
                object_details(mix(self.spec.seed ^ 0x1a3 ^ ((n as u64) << 20)), INSTANCE_ID);
            let mut json =
                format!("{{\"userId\":\"{}\",\"details\":{details},\"roles\":[", person.id);
            let quoted: Vec<String> = roles.iter().map(|role| format!("\"{role}\"")).collect();
            json.push_str(&quoted.join(","));
            json.push_str("]}");
            members.push(json);
            managers.push(Manager { id: person.id, org: org.id, roles, machine: person.machine });
        }
        let instance = format!(
            "{{\"id\":\"{INSTANCE_ID}\",\"details\":{},\"state\":\"STATE_RUNNING\",\"name\":\"{INSTANCE_NAME}\",\"version\":\"v4.2.0\"}}",
            object_details(self.spec.seed ^ 0x1a5, INSTANCE_ID)
        );
        let members: Vec<&str> = members.iter().map(String::as_str).collect();
        self.dataset.set_instance(&instance, &members).expect("the generated instance is valid");
        tally.counts.instance = 1;
        tally.record(&["instance", INSTANCE_ID, INSTANCE_NAME, "ENABLED"]);
        tally.managers(MemberLevel::Instance, INSTANCE_ID, &managers);
        tally.request("/admin/v1/instances/me", 1);
        tally.request("/admin/v1/members/_search", pages(managers.len()));
    }
}

/// An expiry after every generated creation date: a `timestamp` moved to 2027.
fn in_2027(hash: u64) -> String {
    format!("2027{}", &timestamp(hash)[4..])
}

/// A token or key row as the v2 lists serve it.
fn credential(id: String, user_id: &str, created: String, expires: String) -> CredentialRow {
    CredentialRow {
        id,
        user_id: user_id.to_string(),
        change_date: created.clone(),
        creation_date: created,
        expiration_date: expires,
        extra: String::new(),
    }
}
