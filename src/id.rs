//! Record ids: baton's components joined with `:`, each with its `%` and `:` percent-encoded.
//!
//! baton joins an entitlement's id from its resource type, resource id and slug, and a
//! grant's from its entitlement's id, principal type and principal id. ZITADEL allows `:` in
//! role keys and custom user ids, so a plain join is ambiguous: role `PROJECT_OWNER` of user
//! `a:user:b` and role `manager:PROJECT_OWNER:user:a` of user `b` would share an id. Encoding
//! `:` as `%3A` (and `%` as `%25`, so that an encoded component decodes to one text only)
//! makes every `:` of an id a separator: the id names its components and nothing else. Ids
//! of ordinary data (digits, keys without `%` or `:`) are baton's, byte for byte.

use std::borrow::Cow;

use crate::words;

/// One component as it appears in an id: `%` and `:` percent-encoded, the rest as it is.
pub fn escape(component: &str) -> Cow<'_, str> {
    // Bytes rather than characters: `%` and `:` are ASCII, which no other character's UTF-8
    // contains, and a byte search does not decode each character.
    if !words::holds_id_separator(component.as_bytes()) {
        return Cow::Borrowed(component);
    }
    let mut escaped = String::with_capacity(component.len() + 4);
    for c in component.chars() {
        match c {
            '%' => escaped.push_str("%25"),
            ':' => escaped.push_str("%3A"),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// The id of `components`: `org:<org_id>:<role>`.
pub fn join<'a>(components: impl IntoIterator<Item = &'a str>) -> String {
    extend("", components)
}

/// The id `id` (one made already, which stays as it is, or nothing) followed by
/// `components`, each after a `:` and escaped: `<entitlement_id>:user:<user_id>`. The one
/// place ids are joined (a grant of a user grant, the hot path, writes the same id from its
/// pieces without building it: `record::GrantId`, held to this by a test).
pub fn extend<'a>(id: &str, components: impl IntoIterator<Item = &'a str>) -> String {
    let mut joined = id.to_string();
    let mut separated = !id.is_empty();
    for component in components {
        if std::mem::replace(&mut separated, true) {
            joined.push(':');
        }
        joined.push_str(&escape(component));
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_ordinary_data_are_batons_and_the_rest_is_encoded() {
        let table: [(&[&str], &str); 9] = [
            (&["project", "284906487321587717", "admin"], "project:284906487321587717:admin"),
            (&["org", "900", "ORG_OWNER"], "org:900:ORG_OWNER"),
            (&["project", "300", "manager", "PROJECT_OWNER"], "project:300:manager:PROJECT_OWNER"),
            (&["project", "300", "billing.read-all_v2"], "project:300:billing.read-all_v2"),
            (&["project", "300", "manager:PROJECT_OWNER"], "project:300:manager%3APROJECT_OWNER"),
            (&["project", "3:0", "100%"], "project:3%3A0:100%25"),
            (&["project", "300", "%3A"], "project:300:%253A"),
            (&["project", "300", ""], "project:300:"),
            (&["project", "300", "ünï:cødé"], "project:300:ünï%3Acødé"),
        ];
        for (components, id) in table {
            assert_eq!(join(components.iter().copied()), id, "{components:?}");
        }
        assert_eq!(extend("org:900:ORG_OWNER", ["user", "a:b"]), "org:900:ORG_OWNER:user:a%3Ab");
        assert_eq!(extend("", ["user", "777"]), "user:777");
        assert!(matches!(escape("284906487321587717"), Cow::Borrowed(_)));
    }

    #[test]
    fn no_two_tuples_of_components_share_an_id() {
        // Pairs a plain join with `:` gives one id, and some that only a half-done encoding
        // (`:` without `%`) would confuse.
        let tricky: [(&[&str], &[&str]); 5] = [
            (
                &["project", "300", "manager", "PROJECT_OWNER", "user", "a:user:b"],
                &["project", "300", "manager", "PROJECT_OWNER:user:a", "user", "b"],
            ),
            (
                &["project", "300", "manager", "PROJECT_OWNER"],
                &["project", "300", "manager:PROJECT_OWNER"],
            ),
            (&["project", "300", "a%3Ab"], &["project", "300", "a:b"]),
            (&["project", "300", "a%", "3Ab"], &["project", "300", "a%:3Ab"]),
            (&["project", "", "x"], &["project:", "x"]),
        ];
        for (one, other) in tricky {
            assert_ne!(join(one.iter().copied()), join(other.iter().copied()), "{one:?} {other:?}");
        }
        // Exhaustively over short components of `a`, `%`, `:`, `3`, `A`: the id decodes to
        // its components, so no two tuples of one to three components share one.
        let alphabet = ["", "a", "%", ":", "3", "A", "%3A", "a:b", "%25"];
        let mut seen = std::collections::HashMap::new();
        for n in 1..=3u32 {
            for i in 0..alphabet.len().pow(n) {
                let tuple: Vec<&str> =
                    (0..n).map(|d| alphabet[i / alphabet.len().pow(d) % alphabet.len()]).collect();
                let id = join(tuple.iter().copied());
                if let Some(earlier) = seen.insert(id.clone(), tuple.clone()) {
                    panic!("{earlier:?} and {tuple:?} share the id {id:?}");
                }
            }
        }
    }
}
