//! The shape-aware reader of the two hot pages, user grants and users (four in five
//! records, most of the bytes): their keys matched by length and bytes, their strings kept
//! as spans of the page. Whatever it is not sure of (an escape in a string it keeps, a
//! value of another type, a duplicate key, more rows than asked for) makes it give up on
//! the page, which serde_json then reads: it gives a page only where serde_json gives the
//! same one, and every error is serde_json's (held together by a differential test).

use std::borrow::Cow;

use serde::de::IgnoredAny;

use super::page::room_for_rows;
use super::scan::Scan;
use super::{
    Credential, Email, GrantDetails, Human, ListDetails, MAX_LIST_ITEMS, MAX_TEXT_BYTES, Machine,
    Member, ObjectDetails, Page, Profile, Project, ProjectGrant, Role, Row, Strings, User,
    UserGrant,
};

/// Rows that may be read without serde_json: `shaped_page` gives the page of at most
/// `limit` rows that serde_json would give for `text`, or `None` when it is not sure.
pub trait Shaped<'a>: Sized {
    fn shaped_page(_text: &'a str, _limit: u32) -> Option<Page<Self>> {
        None
    }
}

impl<'a> Shaped<'a> for UserGrant<'a> {
    fn shaped_page(text: &'a str, limit: u32) -> Option<Page<Self>> {
        page(text, limit, user_grant)
    }
}

impl<'a> Shaped<'a> for User<'a> {
    fn shaped_page(text: &'a str, limit: u32) -> Option<Page<Self>> {
        page(text, limit, user)
    }
}

impl Shaped<'_> for Credential<'_> {}
impl Shaped<'_> for Project<'_> {}
impl Shaped<'_> for Role<'_> {}
impl Shaped<'_> for Member<'_> {}
impl Shaped<'_> for ProjectGrant<'_> {}
impl Shaped<'_> for IgnoredAny {}

/// The keys of an object in the order ZITADEL sends them (its protos' order), each written
/// as the page has it, `"key":`, for `Scan::object`; the readers below take a member by
/// the place of its key here, and skip the others.
macro_rules! keys {
    ($($key:literal),*) => { &[$(concat!("\"", $key, "\":").as_bytes()),*] };
}

/// `pagination` is what the v2 lists call `details`.
const PAGE: &[&[u8]] = keys!("details", "result", "pagination");
const LIST_DETAILS: &[&[u8]] = keys!("totalResult", "processedSequence");
const USER_GRANT: &[&[u8]] = keys!(
    "id",
    "details",
    "roleKeys",
    "state",
    "userId",
    "userName",
    "firstName",
    "lastName",
    "email",
    "displayName",
    "orgId",
    "orgName",
    "orgDomain",
    "projectId",
    "projectName",
    "projectGrantId",
    "preferredLoginName",
    "userType",
    "grantedOrgId",
    "grantedOrgName",
    "grantedOrgDomain"
);
const DETAILS: &[&[u8]] = keys!("sequence", "creationDate", "changeDate", "resourceOwner");
const USER: &[&[u8]] = keys!(
    "id",
    "details",
    "state",
    "userName",
    "loginNames",
    "preferredLoginName",
    "human",
    "machine"
);
const HUMAN: &[&[u8]] = keys!("profile", "email");
const PROFILE: &[&[u8]] = keys!("firstName", "lastName", "nickName", "displayName");
const EMAIL: &[&[u8]] = keys!("email", "isEmailVerified");
const MACHINE: &[&[u8]] = keys!("name", "description", "hasSecret");

/// Reads a row of a page from the scanner into an empty one, where it stays (a user grant
/// is some 300 bytes, not worth moving twice).
type ReadRow<'a, T> = fn(&mut Scan<'a>, &mut T) -> Option<()>;

/// A list response as `PageReader` reads it: `details` (or `pagination`) and `result` each
/// at most once, other keys skipped, nothing after the object.
fn page<'a, T: Row + Default>(text: &'a str, limit: u32, row: ReadRow<'a, T>) -> Option<Page<T>> {
    let mut scan = Scan::new(text);
    let (mut details, mut result) = (None, None);
    scan.object(PAGE, |scan, key| match key {
        Some(0 | 2) if details.is_none() => {
            details = Some(list_details(scan)?);
            Some(())
        }
        Some(1) if result.is_none() => {
            let expected = room_for_rows(details.as_ref(), limit as usize);
            result = Some(rows(scan, limit as usize, expected, row)?);
            Some(())
        }
        Some(_) => None,
        None => scan.skip(),
    })?;
    scan.at_end().then_some(Page { details, result: result.unwrap_or_default() })
}

/// At most `limit` rows whose lists hold at most `MAX_LIST_ITEMS` items together; a page
/// over either is serde_json's to refuse or to cut.
fn rows<'a, T: Row + Default>(
    scan: &mut Scan<'a>,
    limit: usize,
    expected: usize,
    row: ReadRow<'a, T>,
) -> Option<Vec<T>> {
    let mut rows = Vec::with_capacity(expected);
    let mut list_items = 0;
    scan.array(|scan| {
        if rows.len() == limit {
            return None;
        }
        rows.push(T::default());
        let read = rows.last_mut().expect("a row was pushed");
        row(scan, read)?;
        list_items += read.list_items();
        (list_items <= MAX_LIST_ITEMS).then_some(())
    })?;
    Some(rows)
}

/// Marks the member `key` of an object as read; `None` if it was read before (serde_json
/// refuses a duplicate field).
fn once(seen: &mut u32, key: usize) -> Option<()> {
    let bit = 1 << key;
    if *seen & bit != 0 {
        return None;
    }
    *seen |= bit;
    Some(())
}

fn list_details(scan: &mut Scan) -> Option<ListDetails> {
    let (mut details, mut seen) = (ListDetails::default(), 0);
    scan.object(LIST_DETAILS, |scan, key| {
        let slot = match key {
            Some(0) => &mut details.total_result,
            Some(_) => &mut details.processed_sequence,
            None => return scan.skip(),
        };
        field(&mut seen, key, slot, scan, Scan::uint64)
    })?;
    Some(details)
}

/// A string field as `page::text` reads it, borrowed from the page.
fn text<'a>(scan: &mut Scan<'a>) -> Option<Cow<'a, str>> {
    let text = scan.string()?;
    (text.len() <= MAX_TEXT_BYTES).then_some(Cow::Borrowed(text))
}

/// A timestamp field as `page::timestamp` reads it: empty or as ZITADEL writes one.
fn timestamp<'a>(scan: &mut Scan<'a>) -> Option<Cow<'a, str>> {
    let text = scan.string()?;
    crate::timestamp::is_absent_or_valid(text).then_some(Cow::Borrowed(text))
}

/// A list of strings as `page::strings` reads it.
fn strings<'a>(scan: &mut Scan<'a>) -> Option<Strings<'a>> {
    let mut strings = Strings::default();
    scan.array(|scan| {
        if strings.len() == MAX_LIST_ITEMS {
            return None;
        }
        strings.push(text(scan)?);
        Some(())
    })?;
    Some(strings)
}

/// Reads the member `key` (known) once into `slot` with `read`.
fn field<'a, T>(
    seen: &mut u32,
    key: Option<usize>,
    slot: &mut T,
    scan: &mut Scan<'a>,
    read: fn(&mut Scan<'a>) -> Option<T>,
) -> Option<()> {
    once(seen, key?)?;
    *slot = read(scan)?;
    Some(())
}

fn user_grant<'a>(scan: &mut Scan<'a>, grant: &mut UserGrant<'a>) -> Option<()> {
    let mut seen = 0;
    scan.object(USER_GRANT, |scan, key| {
        let g = &mut *grant;
        let slot = match key {
            Some(0) => &mut g.id,
            Some(1) => return field(&mut seen, key, &mut g.details, scan, grant_details),
            Some(2) => return field(&mut seen, key, &mut g.role_keys, scan, strings),
            Some(3) => &mut g.state,
            Some(4) => &mut g.user_id,
            Some(5) => &mut g.user_name,
            Some(6) => &mut g.first_name,
            Some(7) => &mut g.last_name,
            Some(8) => &mut g.email,
            Some(9) => &mut g.display_name,
            Some(13) => &mut g.project_id,
            Some(15) => &mut g.project_grant_id,
            Some(16) => &mut g.preferred_login_name,
            Some(17) => &mut g.user_type,
            Some(18) => &mut g.granted_org_id,
            Some(19) => &mut g.granted_org_name,
            _ => return scan.skip(),
        };
        field(&mut seen, key, slot, scan, text)
    })
}

fn grant_details<'a>(scan: &mut Scan<'a>) -> Option<GrantDetails<'a>> {
    let (mut details, mut seen) = (GrantDetails::default(), 0);
    scan.object(DETAILS, |scan, key| {
        let d = &mut details;
        match key {
            Some(1) => field(&mut seen, key, &mut d.creation_date, scan, timestamp),
            Some(2) => field(&mut seen, key, &mut d.change_date, scan, timestamp),
            Some(3) => field(&mut seen, key, &mut d.resource_owner, scan, text),
            _ => scan.skip(),
        }
    })?;
    Some(details)
}

fn user<'a>(scan: &mut Scan<'a>, user: &mut User<'a>) -> Option<()> {
    let mut seen = 0;
    scan.object(USER, |scan, key| {
        let (u, seen) = (&mut *user, &mut seen);
        match key {
            Some(0) => field(seen, key, &mut u.id, scan, text),
            Some(1) => field(seen, key, &mut u.details, scan, object_details),
            Some(2) => field(seen, key, &mut u.state, scan, text),
            Some(3) => field(seen, key, &mut u.user_name, scan, text),
            Some(4) => field(seen, key, &mut u.login_names, scan, strings),
            Some(5) => field(seen, key, &mut u.preferred_login_name, scan, text),
            Some(6) => field(seen, key, &mut u.human, scan, |scan| human(scan).map(Some)),
            Some(_) => field(seen, key, &mut u.machine, scan, |scan| machine(scan).map(Some)),
            None => scan.skip(),
        }
    })
}

fn object_details<'a>(scan: &mut Scan<'a>) -> Option<ObjectDetails<'a>> {
    let (mut details, mut seen) = (ObjectDetails::default(), 0);
    scan.object(DETAILS, |scan, key| {
        let d = &mut details;
        match key {
            Some(1) => field(&mut seen, key, &mut d.creation_date, scan, timestamp),
            Some(3) => field(&mut seen, key, &mut d.resource_owner, scan, text),
            _ => scan.skip(),
        }
    })?;
    Some(details)
}

fn human<'a>(scan: &mut Scan<'a>) -> Option<Human<'a>> {
    let (mut human, mut seen) = (Human::default(), 0);
    scan.object(HUMAN, |scan, key| match key {
        Some(0) => field(&mut seen, key, &mut human.profile, scan, profile),
        Some(_) => field(&mut seen, key, &mut human.email, scan, email),
        None => scan.skip(),
    })?;
    Some(human)
}

fn profile<'a>(scan: &mut Scan<'a>) -> Option<Profile<'a>> {
    let (mut profile, mut seen) = (Profile::default(), 0);
    scan.object(PROFILE, |scan, key| {
        let p = &mut profile;
        match key {
            Some(0) => field(&mut seen, key, &mut p.first_name, scan, text),
            Some(1) => field(&mut seen, key, &mut p.last_name, scan, text),
            Some(3) => field(&mut seen, key, &mut p.display_name, scan, text),
            _ => scan.skip(),
        }
    })?;
    Some(profile)
}

fn email<'a>(scan: &mut Scan<'a>) -> Option<Email<'a>> {
    let (mut email, mut seen) = (Email::default(), 0);
    scan.object(EMAIL, |scan, key| match key {
        Some(0) => field(&mut seen, key, &mut email.email, scan, text),
        Some(_) => field(&mut seen, key, &mut email.is_email_verified, scan, Scan::bool),
        None => scan.skip(),
    })?;
    Some(email)
}

fn machine<'a>(scan: &mut Scan<'a>) -> Option<Machine<'a>> {
    let (mut machine, mut seen) = (Machine::default(), 0);
    scan.object(MACHINE, |scan, key| {
        let m = &mut machine;
        match key {
            Some(0) => field(&mut seen, key, &mut m.name, scan, text),
            Some(1) => field(&mut seen, key, &mut m.description, scan, text),
            Some(_) => field(&mut seen, key, &mut m.has_secret, scan, Scan::bool),
            None => scan.skip(),
        }
    })?;
    Some(machine)
}
