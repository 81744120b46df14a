//! The whole access picture: the organization itself, its managers, the managers of its
//! projects, its projects' grants to other organizations with their managers, and the user
//! grants those organizations make through them; the filters and permissions that concern
//! them, and their lists changing while they are read.

mod credentials;
mod instance;
mod lists;
mod managers;
mod project_grants;
mod sign_in;

use fake_zitadel::{
    Dataset, FakeZitadel, Fault, FaultAction, GENERATED_IAM_PAT, GENERATED_PAT, GenerateSpec,
    Mutation, Options, Token, endpoint_of,
};
use serde_json::{Value, json};

use crate::harness::*;

const INITECH: &str = "284905733281462275";
const PORTAL: &str = "284906487321587717";
const TOOLS: &str = "284906512837640197";
const BILLING: &str = "284906598411882501";
/// Customer Portal granted to Initech with `viewer`, `support` and the gone `legacy-export`.
const PORTAL_GRANT: &str = "284917204655128581";
/// Internal Tools granted to Globex with `auditor`, inactive.
const TOOLS_GRANT: &str = "284917391238803461";
/// Legacy Billing granted to Initech without role keys.
const BILLING_GRANT: &str = "284917482019721221";
/// Samir's grant on Customer Portal, made by Initech through `PORTAL_GRANT`.
const SAMIRS_GRANT: &str = "284918003374563333";
const ALICE: &str = "284906014215673861";
const BOB: &str = "284906201935945733";
const CAROL: &str = "284908102417326085";
const DAVE: &str = "284909377230946309";
const ERIN: &str = "284910045582151685";
/// Globex's Henry: holds user grants of ACME and manages the Internal Tools grant.
const HENRY: &str = "284905402271985667";
/// Globex's Ivy: an org manager of ACME, and nothing else.
const IVY: &str = "284905488891224067";
/// Initech's Peter: manages the Customer Portal grant, and nothing else.
const PETER: &str = "284905802156290051";
/// Initech's Samir: holds a grant Initech made through the Customer Portal grant.
const SAMIR: &str = "284905819327361027";
/// Initech's machine user.
const TPS_BOT: &str = "284905836498432003";
/// Globex's Victor: an owner of the instance (`IAM_OWNER`), and nothing else.
const VICTOR: &str = "284905395517947907";
/// The instance the demo's organizations live in.
const INSTANCE: &str = "284904986052325380";

/// Whether a golden record is a credential of a service user, or the resource type of one.
fn of_credentials(record: &Value) -> bool {
    let kinds = ["pat", "machine_key", "client_secret"];
    let is_type = record["kind"] == "resource_type" && kinds.iter().any(|k| record["id"] == *k);
    is_type || kinds.iter().any(|k| record["resource_type"] == *k)
}

/// Whether a golden record is of the instance: its resource type, itself, its manager roles
/// and their grants, or Victor, named only as its manager.
fn of_instance(record: &Value) -> bool {
    let is_type = record["kind"] == "resource_type" && record["id"] == "instance";
    is_type || record["resource_type"] == "instance" || record["id"] == VICTOR
}

/// The records of a complete stream, the summary and the users' authentication methods
/// left out: where those go is `sign_in.rs`'s to test, and one moves with the first manager
/// grant of its user.
fn stream_records(stdout: &str) -> Vec<Value> {
    all_records(stdout).into_iter().filter(|record| record["kind"] != "user_auth").collect()
}

/// The records of a complete stream, the summary left out.
fn all_records(stdout: &str) -> Vec<Value> {
    let (records, _) = records_and_requests(stdout);
    records.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// The position of the record of this kind (`resource:org`, `entitlement`, `grant`) and id.
fn position(records: &[Value], kind: &str, id: &str) -> usize {
    let key = (kind.to_string(), id.to_string());
    records
        .iter()
        .position(|record| keyed(record.clone()).0 == key)
        .unwrap_or_else(|| panic!("no {kind} {id} in the stream"))
}

fn record<'r>(records: &'r [Value], kind: &str, id: &str) -> &'r Value {
    &records[position(records, kind, id)]
}

fn has(records: &[Value], kind: &str, id: &str) -> bool {
    let key = (kind.to_string(), id.to_string());
    records.iter().any(|record| keyed(record.clone()).0 == key)
}

/// The golden records (summary left out) that `keep` selects, in their order.
fn golden_where(keep: impl Fn(&Value) -> bool) -> Vec<Value> {
    stream_records(&demo_golden()).into_iter().filter(|record| keep(record)).collect()
}

/// A membership's own fields, as `Dataset::add_org_member` takes them; `owner` is the org of
/// the membership row (the project's org for project and project grant managers).
fn member(user: &str, owner: &str, roles: &[&str]) -> String {
    json!({"userId": user, "details": details(owner), "roles": roles}).to_string()
}

/// The `details` of a row that `owner` owns.
fn details(owner: &str) -> Value {
    json!({
        "sequence": "1",
        "creationDate": "2025-06-01T00:00:00Z",
        "changeDate": "2025-06-01T00:00:00Z",
        "resourceOwner": owner,
    })
}

/// A user grant owned by `owner` on one of ACME's projects, for a user of `user_org`, made
/// through `project_grant` unless it is empty.
fn user_grant(
    id: &str,
    owner: &str,
    user: &str,
    user_org: &str,
    project: &str,
    keys: &[&str],
    project_grant: &str,
) -> String {
    let mut grant = json!({
        "id": id,
        "details": details(owner),
        "roleKeys": keys,
        "state": "USER_GRANT_STATE_ACTIVE",
        "userId": user,
        "projectId": project,
        "orgId": owner,
        "grantedOrgId": user_org,
    });
    if !project_grant.is_empty() {
        grant["projectGrantId"] = project_grant.into();
    }
    grant.to_string()
}

/// The ids of the grant records that name this principal, in their order.
fn grant_ids(records: &[Value], principal: &str) -> Vec<String> {
    records
        .iter()
        .filter(|record| record["kind"] == "grant" && record["principal_id"] == principal)
        .map(|record| record["id"].as_str().unwrap().to_string())
        .collect()
}

fn sync_ok(fake: &FakeZitadel, args: &[&str], env: &[(&str, &str)]) -> Run {
    let run = sync(fake, args, env);
    assert_eq!(run.status, 0, "{args:?} {env:?}: {}", run.stderr);
    run
}
