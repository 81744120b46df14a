//! Records written as JSON by hand: byte for byte what serde_json writes for their derived
//! `Serialize` (a test and the fuzz test hold the two together), without its per-byte
//! escaping and per-field calls. Users, entitlements and grants are nearly all of a sync's
//! records; the organization, the other grants and the summary, few, go through serde.

use crate::record::{
    AccountType, CredentialResource, EmailAddress, Entitlement, Grant, InstanceResource,
    ProjectGrantResource, ProjectResource, ResourceType, Status, UserResource,
};

/// A record that appends its own JSON (one object, no line break) to a line being written.
pub trait WriteJson {
    fn write_json(&self, out: &mut Vec<u8>);
}

impl WriteJson for Grant<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        Grant::write_json(self, out);
    }
}

impl WriteJson for ResourceType {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut object = Object::open(out);
        object.name("kind", self.kind);
        object.string("id", self.id);
        object.string("display_name", self.display_name);
        object.strings("traits", self.traits);
        object.close();
    }
}

impl WriteJson for UserResource<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut object = Object::open_known(out, self.plain);
        object.name("kind", self.kind);
        object.name("resource_type", self.resource_type);
        object.string("id", self.id);
        object.string("display_name", &self.display_name);
        object.name("status", status(self.status));
        object.maybe_string("status_details", self.status_details);
        object.maybe_string("org_id", self.org_id);
        object.maybe_string("org_name", self.org_name);
        object.maybe_string("created_at", self.created_at);
        object.bool("external", self.external);
        let user = &self.user;
        let mut traits = object.object("user");
        if let Some(account) = user.account_type {
            traits.name("account_type", account_type(account));
        }
        traits.maybe_string("login", user.login);
        if let Some(aliases) = &user.login_aliases {
            traits.strings("login_aliases", aliases);
        }
        traits.maybe_string("username", user.username);
        traits.key("emails");
        traits.out.push(b'[');
        for (n, email) in user.emails.iter().enumerate() {
            if n > 0 {
                traits.out.push(b',');
            }
            write_email(traits.out, email, self.plain);
        }
        traits.out.push(b']');
        if let Some(name) = &user.structured_name {
            let mut structured = traits.object("structured_name");
            structured.string("given_name", name.given_name);
            structured.string("family_name", name.family_name);
            structured.close();
        }
        traits.maybe_string("description", user.description);
        traits.close();
        object.close();
    }
}

fn write_email(out: &mut Vec<u8>, email: &EmailAddress, plain: bool) {
    let mut object = Object::open_known(out, plain);
    object.string("address", email.address);
    object.bool("is_primary", email.is_primary);
    if let Some(verified) = email.is_verified {
        object.bool("is_verified", verified);
    }
    object.close();
}

impl WriteJson for ProjectResource<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut object = Object::open(out);
        object.name("kind", self.kind);
        object.name("resource_type", self.resource_type);
        object.string("id", self.id);
        object.string("display_name", self.display_name);
        object.name("status", status(self.status));
        object.string("status_details", self.status_details);
        object.string("org_id", self.org_id);
        object.maybe_string("created_at", self.created_at);
        object.close();
    }
}

impl WriteJson for Entitlement<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut object = Object::open(out);
        object.name("kind", self.kind);
        object.string("id", &self.id);
        object.name("resource_type", self.resource_type);
        object.string("resource_id", self.resource_id);
        object.string("slug", &self.slug);
        object.string("display_name", &self.display_name);
        object.name("purpose", self.purpose);
        object.strings("grantable_to", self.grantable_to);
        object.maybe_string("group", self.group);
        object.close();
    }
}

impl WriteJson for ProjectGrantResource<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut object = Object::open(out);
        object.name("kind", self.kind);
        object.name("resource_type", self.resource_type);
        object.string("id", self.id);
        object.string("display_name", &self.display_name);
        object.name("status", status(self.status));
        object.string("status_details", self.status_details);
        object.string("project_id", self.project_id);
        object.string("granted_org_id", self.granted_org_id);
        object.maybe_string("granted_org_name", self.granted_org_name);
        object.strings("role_keys", &self.role_keys);
        object.maybe_string("created_at", self.created_at);
        object.close();
    }
}

impl WriteJson for InstanceResource<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut object = Object::open(out);
        object.name("kind", self.kind);
        object.name("resource_type", self.resource_type);
        object.string("id", self.id);
        object.string("display_name", self.display_name);
        object.name("status", status(self.status));
        object.string("status_details", self.status_details);
        object.maybe_string("created_at", self.created_at);
        object.close();
    }
}

impl WriteJson for CredentialResource<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut object = Object::open(out);
        object.name("kind", self.kind);
        object.name("resource_type", self.resource_type);
        object.string("id", self.id);
        object.string("display_name", &self.display_name);
        object.string("org_id", self.org_id);
        object.maybe_string("created_at", self.created_at);
        let secret = &self.secret;
        let mut traits = object.object("secret");
        traits.string("identity_id", secret.identity_id);
        traits.name("credential_type", secret.credential_type);
        traits.string("credential_detail", secret.credential_detail);
        traits.maybe_string("expires_at", secret.expires_at);
        traits.close();
        object.close();
    }
}

/// The name serde gives a status (`SCREAMING_SNAKE_CASE`).
fn status(status: Status) -> &'static str {
    match status {
        Status::Enabled => "ENABLED",
        Status::Disabled => "DISABLED",
        Status::Deleted => "DELETED",
        Status::Unspecified => "UNSPECIFIED",
    }
}

/// The name serde gives an account type (`SCREAMING_SNAKE_CASE`).
fn account_type(account_type: AccountType) -> &'static str {
    match account_type {
        AccountType::Human => "HUMAN",
        AccountType::Service => "SERVICE",
    }
}

/// A JSON object being appended, written as serde_json writes a struct: no spaces, fields
/// in the order given, keys as they are (each a plain snake_case name).
struct Object<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
    /// Whether every string written into the object, and into the objects inside it, is
    /// known to hold nothing JSON escapes, and is copied without a look at it.
    plain: bool,
}

impl<'o> Object<'o> {
    fn open(out: &'o mut Vec<u8>) -> Object<'o> {
        Object::open_known(out, false)
    }

    /// An object whose strings are known to hold nothing JSON escapes if `plain`.
    fn open_known(out: &'o mut Vec<u8>, plain: bool) -> Object<'o> {
        out.push(b'{');
        Object { out, empty: true, plain }
    }

    fn close(self) {
        self.out.push(b'}');
    }

    /// Writes `"key":`, after a comma unless it is the first field. Inlined, as are the
    /// writers of fields below that call it, so that each key, known where it is written,
    /// is copied without a call to `memcpy`.
    #[inline(always)]
    fn key(&mut self, key: &str) {
        if !std::mem::replace(&mut self.empty, false) {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// A name the program gives (a kind, a status): plain text, copied without a look.
    #[inline(always)]
    fn name(&mut self, key: &str, value: &'static str) {
        debug_assert!(is_plain(value.as_bytes()), "{value:?}");
        self.key(key);
        self.out.push(b'"');
        self.out.extend_from_slice(value.as_bytes());
        self.out.push(b'"');
    }

    #[inline(always)]
    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        json_string_known(self.out, [value], self.plain);
    }

    /// A field serde skips when it is `None`.
    #[inline(always)]
    fn maybe_string(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.string(key, value);
        }
    }

    #[inline(always)]
    fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out.extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn strings<S: AsRef<str>>(&mut self, key: &str, values: impl IntoIterator<Item = S>) {
        self.key(key);
        self.out.push(b'[');
        for (n, value) in values.into_iter().enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            json_string_known(self.out, [value], self.plain);
        }
        self.out.push(b']');
    }

    /// A field holding an object, written before this one goes on.
    #[inline(always)]
    fn object(&mut self, key: &str) -> Object<'_> {
        self.key(key);
        Object::open_known(self.out, self.plain)
    }
}

/// Appends the concatenated `parts` as one JSON string. Text without quotes, backslashes or
/// control characters (ids, keys, states, names: nearly everything) is copied as it is;
/// anything else is escaped by serde_json, so the result is always what serde_json writes.
/// Characters beyond ASCII that a terminal acts on are left for the output to escape in
/// every line alike (`output::escape_invisible`), as it does after serde_json. `parts`
/// known to hold nothing JSON escapes (`plain`) are copied without a look at them (see
/// `json_string_inside`).
#[inline(always)]
fn json_string_known<S: AsRef<str>>(
    out: &mut Vec<u8>,
    parts: impl IntoIterator<Item = S>,
    plain: bool,
) {
    out.push(b'"');
    json_string_inside(out, parts, plain);
    out.push(b'"');
}

/// Appends the concatenated `parts` as the inside of a JSON string, without its quotes (see
/// `json_string_known`): for a writer whose fixed text carries the quotes around its
/// values. Debug builds, and so the tests, look at `parts` known to be plain all the same.
#[inline(always)]
pub fn json_string_inside<S: AsRef<str>>(
    out: &mut Vec<u8>,
    parts: impl IntoIterator<Item = S>,
    plain: bool,
) {
    if !plain {
        return json_string_inside_checked(out, parts);
    }
    for part in parts {
        let part = part.as_ref().as_bytes();
        debug_assert!(is_plain(part), "{:?} is not plain", String::from_utf8_lossy(part));
        out.extend_from_slice(part);
    }
}

/// `json_string_inside` of parts not known to be plain.
fn json_string_inside_checked<S: AsRef<str>>(
    out: &mut Vec<u8>,
    parts: impl IntoIterator<Item = S>,
) {
    for part in parts {
        let part = part.as_ref();
        if is_plain(part.as_bytes()) {
            out.extend_from_slice(part.as_bytes());
        } else {
            escape(out, part);
        }
    }
}

/// Appends `text` escaped by serde_json, without its quotes: rare, so kept out of the way
/// of the copy of plain text.
#[cold]
#[inline(never)]
fn escape(out: &mut Vec<u8>, text: &str) {
    let quoted = serde_json::to_string(text).expect("a string always serializes");
    out.extend_from_slice(&quoted.as_bytes()[1..quoted.len() - 1]);
}

/// Whether `text` holds no byte that JSON escapes: a quote, a backslash or a control
/// character below 0x20.
fn is_plain(text: &[u8]) -> bool {
    !crate::words::holds_json_escaped(text)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::record::{RESOURCE_TYPES, SecretTrait, StructuredName, UserTrait};

    /// Text a hostile server may send: what JSON escapes (quotes, backslashes, every kind
    /// of control character, also past the first eight bytes), what the output escapes
    /// later (C1, separators, bidi and format characters) and what it does not.
    const HOSTILE: [&str; 16] = [
        "",
        "plain",
        "quo\"te",
        "back\\slash",
        "new\nline\r\t\u{0}\u{1}\u{1f}",
        "eight by\"tes later\\",
        "0123456789abcdef\u{1b}[2J",
        "del\u{7f}",
        "Zoë 東京 😀",
        "\u{85}\u{9b}2J",
        "\u{2028}x\u{2029}",
        "\u{202e}gnp.exe\u{2066}\u{200f}",
        "\u{200b}\u{feff}\u{e0001}",
        "\u{ad}\u{61c}",
        "ends with a quote\"",
        "\\u0022",
    ];

    fn same(record: &(impl WriteJson + serde::Serialize)) {
        let mut fast = Vec::new();
        record.write_json(&mut fast);
        let derived = serde_json::to_string(record).expect("records always serialize");
        assert_eq!(String::from_utf8_lossy(&fast), derived);
    }

    fn statuses() -> [Status; 4] {
        [Status::Enabled, Status::Disabled, Status::Deleted, Status::Unspecified]
    }

    #[test]
    fn resource_types_write_the_same_json_as_serde() {
        RESOURCE_TYPES.iter().for_each(same);
    }

    #[test]
    fn users_write_the_same_json_as_serde() {
        for (n, text) in HOSTILE.into_iter().enumerate() {
            let some = (n % 2 == 0).then_some(text);
            let email =
                |is_verified| EmailAddress { address: text, is_primary: n % 3 == 0, is_verified };
            let emails = [vec![], vec![email(Some(true))], vec![email(None), email(Some(false))]];
            let aliases = [None, Some(vec![]), Some(vec![text, text])];
            for (m, (emails, login_aliases)) in emails.into_iter().zip(aliases).enumerate() {
                let mut user = UserResource {
                    plain: false,
                    kind: "resource",
                    resource_type: "user",
                    id: text,
                    display_name: if m == 1 {
                        Cow::Owned(format!("{text} {text}"))
                    } else {
                        Cow::Borrowed(text)
                    },
                    status: statuses()[(n + m) % 4],
                    status_details: some,
                    org_id: Some(text),
                    org_name: some,
                    created_at: some,
                    external: m == 2,
                    user: UserTrait {
                        account_type: [None, Some(AccountType::Human), Some(AccountType::Service)]
                            [m],
                        login: some,
                        login_aliases,
                        username: Some(text),
                        emails,
                        structured_name: (m > 0)
                            .then_some(StructuredName { given_name: text, family_name: text }),
                        description: some,
                    },
                };
                same(&user);
                // Written without the check where the text holds nothing to escape.
                user.plain = is_plain(text.as_bytes());
                same(&user);
            }
        }
    }

    #[test]
    fn groups_and_entitlements_write_the_same_json_as_serde() {
        for (n, text) in HOSTILE.into_iter().enumerate() {
            let some = (n % 2 == 0).then_some(text);
            let status = statuses()[n % 4];
            same(&ProjectResource {
                kind: "resource",
                resource_type: "project",
                id: text,
                display_name: text,
                status,
                status_details: text,
                org_id: text,
                created_at: some,
            });
            same(&Entitlement {
                kind: "entitlement",
                id: format!("project:{text}"),
                resource_type: "project",
                resource_id: text,
                slug: Cow::Borrowed(text),
                display_name: Cow::Owned(text.repeat(2)),
                purpose: "ASSIGNMENT",
                grantable_to: ["user"],
                group: some,
            });
            same(&ProjectGrantResource {
                kind: "resource",
                resource_type: "project_grant",
                id: text,
                display_name: format!("{text} for {text}"),
                status,
                status_details: text,
                project_id: text,
                granted_org_id: text,
                granted_org_name: some,
                role_keys: HOSTILE[..n].to_vec(),
                created_at: some,
            });
            same(&InstanceResource {
                kind: "resource",
                resource_type: "instance",
                id: text,
                display_name: text,
                status,
                status_details: text,
                created_at: some,
            });
            same(&CredentialResource {
                kind: "resource",
                resource_type: "pat",
                id: text,
                display_name: format!("Personal Access Token {text}"),
                org_id: text,
                created_at: some,
                secret: SecretTrait {
                    identity_id: text,
                    credential_type: "CREDENTIAL_TYPE_PAT",
                    credential_detail: text,
                    expires_at: some,
                },
            });
        }
    }

    #[test]
    fn a_plain_string_is_one_without_any_byte_json_escapes() {
        for byte in 0..=255u8 {
            let escaped = byte < 0x20 || byte == b'"' || byte == b'\\';
            for at in 0..10 {
                let mut text = [b'x'; 10];
                text[at] = byte;
                assert_eq!(is_plain(&text[..at + 1]), !escaped, "{byte:#x}");
                assert_eq!(is_plain(&text), !escaped, "{byte:#x}");
            }
        }
    }
}
