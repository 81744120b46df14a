//! A role of a user grant as a record (`grant`), written by hand: grants are most of a
//! sync's records, and their id is written and hashed without being built.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use crate::id;
use crate::record_json::json_string_inside;

/// One role key of one user grant: what varies from grant to grant. Its kind (`grant`),
/// resource type (`project`) and principal type (`user`) are the same in every one, and
/// written as part of the keys around them.
#[derive(Debug)]
pub struct Grant<'a> {
    pub id: GrantId<'a>,
    /// `project:<projectId>:<roleKey>`.
    pub entitlement_id: &'a str,
    pub resource_id: &'a str,
    pub slug: &'a str,
    pub principal_id: &'a str,
    /// ZITADEL's id of the user grant this role key belongs to.
    pub user_grant_id: &'a str,
    /// ZITADEL's raw user grant state, e.g. `USER_GRANT_STATE_ACTIVE`.
    pub state: &'a str,
    /// Only on a grant made through a project grant: that project grant's id.
    pub project_grant_id: Option<&'a str>,
    /// Only on a grant made through a project grant: the organization that made it.
    pub granted_by_org_id: Option<&'a str>,
    /// When ZITADEL says the user grant was made, and last changed; absent when it does not say.
    pub created_at: Option<&'a str>,
    pub updated_at: Option<&'a str>,
    /// Whether every string of the record is known to hold nothing JSON escapes (a quote, a
    /// backslash, a control character), so that `write_json` copies them without a look:
    /// true where they are the program's own, checked once per project, or borrowed by
    /// their row from its page (`wire::known_plain`), as nearly all are.
    pub plain: bool,
}

impl Grant<'_> {
    /// Appends the record's JSON, byte for byte what serde_json writes for it (a test holds
    /// the two together), several times faster: grants are most of a sync's records, and
    /// serde_json's escaping of every key and value was a fifth of the whole sync's work.
    /// Each value's closing quote, the keys and fixed values after it and the next value's
    /// opening quote are one piece of text.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let fields: [(&[u8], &str); 6] = [
            (b"\",\"entitlement_id\":\"", self.entitlement_id),
            (b"\",\"resource_type\":\"project\",\"resource_id\":\"", self.resource_id),
            (b"\",\"slug\":\"", self.slug),
            (b"\",\"principal_type\":\"user\",\"principal_id\":\"", self.principal_id),
            (b"\",\"user_grant_id\":\"", self.user_grant_id),
            (b"\",\"state\":\"", self.state),
        ];
        let optional = [
            (b"\",\"project_grant_id\":\"".as_slice(), self.project_grant_id),
            (b"\",\"granted_by_org_id\":\"".as_slice(), self.granted_by_org_id),
            (b"\",\"created_at\":\"".as_slice(), self.created_at),
            (b"\",\"updated_at\":\"".as_slice(), self.updated_at),
        ];
        let plain = self.plain;
        out.extend_from_slice(b"{\"kind\":\"grant\",\"id\":\"");
        json_string_inside(out, self.id.pieces().iter().filter(|piece| !piece.is_empty()), plain);
        for (key, value) in fields {
            out.extend_from_slice(key);
            json_string_inside(out, [value], plain);
        }
        for (key, value) in optional {
            if let Some(value) = value {
                out.extend_from_slice(key);
                json_string_inside(out, [value], plain);
            }
        }
        out.extend_from_slice(b"\"}");
    }
}

/// A grant's id, `<entitlement_id>:user:<userId>` (`project:<projectId>:<roleKey>:user:<userId>`),
/// with `:project_grant:<projectGrantId>` after it for a grant made through a project grant
/// (a user may hold the same role once from the organization and once through a project
/// grant), each part escaped (`id.rs`). Written out and hashed without building a string:
/// there is one per grant, and the sync's largest lists are grants.
#[derive(Debug)]
pub struct GrantId<'a> {
    entitlement_id: &'a str,
    /// The user's id and the project grant's, escaped once for both the id's text and its
    /// hash.
    principal: Cow<'a, str>,
    project_grant: Option<Cow<'a, str>>,
}

impl<'a> GrantId<'a> {
    pub fn new(
        entitlement_id: &'a str,
        principal_id: &'a str,
        project_grant_id: Option<&'a str>,
    ) -> GrantId<'a> {
        let principal = id::escape(principal_id);
        GrantId { entitlement_id, principal, project_grant: project_grant_id.map(id::escape) }
    }

    /// The pieces of the id, which concatenated are the id `id::extend` joins (a test holds
    /// the two together).
    pub fn pieces(&self) -> [&str; 5] {
        let user = if self.entitlement_id.is_empty() { "user:" } else { ":user:" };
        let (through, project_grant) =
            self.project_grant.as_deref().map_or(("", ""), |id| (":project_grant:", id));
        [self.entitlement_id, user, &self.principal, through, project_grant]
    }
}

/// The record as serde_json writes it, fields in the order of the output: the reference the
/// tests hold `write_json` to (and through it the fuzz test every grant it makes).
#[cfg(test)]
#[derive(serde::Serialize)]
struct SerdeGrant<'a> {
    kind: &'a str,
    id: String,
    entitlement_id: &'a str,
    resource_type: &'a str,
    resource_id: &'a str,
    slug: &'a str,
    principal_type: &'a str,
    principal_id: &'a str,
    user_grant_id: &'a str,
    state: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_grant_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    granted_by_org_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<&'a str>,
}

#[cfg(test)]
impl serde::Serialize for Grant<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let reference = SerdeGrant {
            kind: "grant",
            id: self.id.pieces().concat(),
            entitlement_id: self.entitlement_id,
            resource_type: "project",
            resource_id: self.resource_id,
            slug: self.slug,
            principal_type: "user",
            principal_id: self.principal_id,
            user_grant_id: self.user_grant_id,
            state: self.state,
            project_grant_id: self.project_grant_id,
            granted_by_org_id: self.granted_by_org_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        };
        reference.serialize(serializer)
    }
}

/// Hashes as the id's text does (`str`'s `Hash`: its bytes, then `0xff`), so that a set of
/// printed ids holds a grant's id and the same id made as a string alike.
impl Hash for GrantId<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for piece in self.pieces().iter().filter(|piece| !piece.is_empty()) {
            state.write(piece.as_bytes());
        }
        state.write_u8(0xff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_write_the_same_json_as_serde() -> serde_json::Result<()> {
        let tricky = [
            "",
            "plain",
            "quo\"te",
            "back\\slash",
            "new\nline",
            "tab\t",
            "\u{1}",
            "Zoë 東京",
            "del\u{7f}",
            "co:lon 100%",
        ];
        let cases = tricky.into_iter().flat_map(|t| [(t, false), (t, true)]);
        // Written with the check, and without it where the text holds nothing to escape.
        let plain = |text: &str| !crate::words::holds_json_escaped(text.as_bytes());
        let cases = cases.flat_map(|(t, g)| [(t, g, false), (t, g, plain(t))]);
        for (text, through, plain) in cases {
            // Each field its own text, so that one written in the place of another shows.
            let texts: Vec<String> = (0..10).map(|n| format!("{text}{n}")).collect();
            let [
                entitlement,
                resource,
                slug,
                principal,
                user_grant,
                state,
                project_grant,
                org,
                made,
                changed,
            ] = std::array::from_fn(|n| texts[n].as_str());
            let project_grant_id = through.then_some(project_grant);
            let id = GrantId::new(entitlement, principal, project_grant_id);
            let grant = Grant {
                id,
                entitlement_id: entitlement,
                resource_id: resource,
                slug,
                principal_id: principal,
                user_grant_id: user_grant,
                state,
                project_grant_id,
                granted_by_org_id: through.then_some(org),
                created_at: through.then_some(made),
                updated_at: Some(changed),
                plain,
            };
            let mut fast = Vec::new();
            grant.write_json(&mut fast);
            assert_eq!(
                String::from_utf8_lossy(&fast),
                serde_json::to_string(&grant)?,
                "{text:?} {through} {plain}"
            );
        }
        Ok(())
    }

    /// A grant's id is the one `id::extend` joins, whatever its parts hold, an empty
    /// entitlement id included.
    #[test]
    fn a_grant_id_is_joined_as_every_other_id() {
        let texts = ["", "300", "a:b", "100%", "ünï:cødé", "project:300:viewer"];
        for entitlement_id in texts {
            for principal_id in texts {
                for project_grant_id in texts.map(Some).into_iter().chain([None]) {
                    let id = GrantId::new(entitlement_id, principal_id, project_grant_id);
                    let through = project_grant_id.map(|g| ["project_grant", g]);
                    let components =
                        ["user", principal_id].into_iter().chain(through.into_iter().flatten());
                    let joined = id::extend(entitlement_id, components);
                    assert_eq!(id.pieces().concat(), joined, "{entitlement_id:?} {principal_id:?}");
                }
            }
        }
    }

    #[test]
    fn a_grant_id_is_its_parts_escaped_and_hashes_as_its_text() {
        use std::hash::{BuildHasher, RandomState};
        let hasher = RandomState::new();
        for (project_grant_id, text) in [
            (None, "project:300:viewer:user:a%3Auser%3Ab"),
            (Some("4:0%"), "project:300:viewer:user:a%3Auser%3Ab:project_grant:4%3A0%25"),
        ] {
            let id = GrantId::new("project:300:viewer", "a:user:b", project_grant_id);
            assert_eq!(id.pieces().concat(), text);
            assert_eq!(hasher.hash_one(&id), hasher.hash_one(text));
        }
    }
}
