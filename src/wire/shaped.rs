//! The shape-aware reader of the two hot pages, user grants and users (four in five
//! records, most of the bytes): their keys matched by length and bytes, their strings kept
//! as spans of the page. Whatever it is not sure of (an escape in a string it keeps, a
//! value of another type, a duplicate key, more rows than asked for) makes it give up on
//! the page, which serde_json then reads: it gives a page only where serde_json gives the
//! same one, and every error is serde_json's (held together by a differential test).

use std::borrow::Cow;

use serde::de::IgnoredAny;

use super::scan::Scan;
use super::{
    Credential, Email, GrantDetails, Human, ListDetails, MAX_LIST_ITEMS, MAX_TEXT_BYTES, Machine,
    Member, ObjectDetails, Page, Profile, Project, ProjectGrant, Role, Row, User, UserGrant,
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
/// as the page has it, `"key":`, for `Scan::object_in_order`.
macro_rules! order {
    ($($key:literal),*) => { &[$(concat!("\"", $key, "\":").as_bytes()),*] };
}

const PAGE: &[&[u8]] = order!("details", "result");
const LIST_DETAILS: &[&[u8]] = order!("totalResult", "processedSequence", "viewTimestamp");
const USER_GRANT: &[&[u8]] = order!(
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
const DETAILS: &[&[u8]] = order!("sequence", "creationDate", "changeDate", "resourceOwner");
const USER: &[&[u8]] = order!(
    "id",
    "details",
    "state",
    "userName",
    "loginNames",
    "preferredLoginName",
    "human",
    "machine"
);
const HUMAN: &[&[u8]] = order!("profile", "email", "phone", "passwordChanged");
const PROFILE: &[&[u8]] = order!(
    "firstName",
    "lastName",
    "nickName",
    "displayName",
    "preferredLanguage",
    "gender",
    "avatarUrl"
);
const EMAIL: &[&[u8]] = order!("email", "isEmailVerified");
const MACHINE: &[&[u8]] = order!("name", "description", "hasSecret", "accessTokenType");

/// A row of a page, read from the scanner.
type ReadRow<'a, T> = fn(&mut Scan<'a>) -> Option<T>;

/// A list response as `PageReader` reads it: `details` (or `pagination`) and `result` each
/// at most once, other keys skipped, nothing after the object.
fn page<'a, T: Row>(text: &'a str, limit: u32, row: ReadRow<'a, T>) -> Option<Page<T>> {
    let mut scan = Scan::new(text);
    let (mut details, mut result) = (None, None);
    scan.object_in_order(PAGE, |scan, key| match key {
        "details" | "pagination" if details.is_none() => {
            details = Some(list_details(scan)?);
            Some(())
        }
        "result" if result.is_none() => {
            // Room for the rows as `PageReader` makes it: for the total read before them.
            let total = details.as_ref().map_or(0, |d: &ListDetails| d.total_result);
            let expected = total.min(u64::from(limit)) as usize;
            result = Some(rows(scan, limit as usize, expected, row)?);
            Some(())
        }
        "details" | "pagination" | "result" => None,
        _ => scan.skip(),
    })?;
    scan.at_end().then_some(Page { details, result: result.unwrap_or_default() })
}

/// At most `limit` rows whose lists hold at most `MAX_LIST_ITEMS` items together; a page
/// over either is serde_json's to refuse or to cut.
fn rows<'a, T: Row>(
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
        let read = row(scan)?;
        list_items += read.list_items();
        if list_items > MAX_LIST_ITEMS {
            return None;
        }
        rows.push(read);
        Some(())
    })?;
    Some(rows)
}

/// Marks `field` of a row as read; `None` if it was read before (serde_json refuses a
/// duplicate field).
fn once(seen: &mut u32, field: u32) -> Option<()> {
    let bit = 1 << field;
    if *seen & bit != 0 {
        return None;
    }
    *seen |= bit;
    Some(())
}

fn list_details(scan: &mut Scan) -> Option<ListDetails> {
    let (mut details, mut seen) = (ListDetails::default(), 0);
    scan.object_in_order(LIST_DETAILS, |scan, key| {
        let (field, slot) = match key {
            "totalResult" => (0, &mut details.total_result),
            "processedSequence" => (1, &mut details.processed_sequence),
            _ => return scan.skip(),
        };
        once(&mut seen, field)?;
        *slot = scan.uint64()?;
        Some(())
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
    (text.is_empty() || crate::timestamp::is_valid(text)).then_some(Cow::Borrowed(text))
}

/// A list of strings as `page::strings` reads it.
fn strings<'a>(scan: &mut Scan<'a>) -> Option<Vec<Cow<'a, str>>> {
    let mut strings = Vec::new();
    scan.array(|scan| {
        if strings.len() == MAX_LIST_ITEMS {
            return None;
        }
        strings.push(text(scan)?);
        Some(())
    })?;
    Some(strings)
}

/// Reads `field` once into `slot` with `read`.
fn field<'a, T>(
    seen: &mut u32,
    field: u32,
    slot: &mut T,
    scan: &mut Scan<'a>,
    read: fn(&mut Scan<'a>) -> Option<T>,
) -> Option<()> {
    once(seen, field)?;
    *slot = read(scan)?;
    Some(())
}

fn user_grant<'a>(scan: &mut Scan<'a>) -> Option<UserGrant<'a>> {
    let (mut grant, mut seen) = (UserGrant::default(), 0);
    scan.object_in_order(USER_GRANT, |scan, key| {
        let g = &mut grant;
        let (number, slot) = match key {
            "id" => (0, &mut g.id),
            "details" => return field(&mut seen, 1, &mut g.details, scan, grant_details),
            "roleKeys" => return field(&mut seen, 2, &mut g.role_keys, scan, strings),
            "state" => (3, &mut g.state),
            "userId" => (4, &mut g.user_id),
            "userName" => (5, &mut g.user_name),
            "firstName" => (6, &mut g.first_name),
            "lastName" => (7, &mut g.last_name),
            "email" => (8, &mut g.email),
            "displayName" => (9, &mut g.display_name),
            "projectId" => (10, &mut g.project_id),
            "projectGrantId" => (11, &mut g.project_grant_id),
            "preferredLoginName" => (12, &mut g.preferred_login_name),
            "userType" => (13, &mut g.user_type),
            "grantedOrgId" => (14, &mut g.granted_org_id),
            "grantedOrgName" => (15, &mut g.granted_org_name),
            _ => return scan.skip(),
        };
        field(&mut seen, number, slot, scan, text)
    })?;
    Some(grant)
}

fn grant_details<'a>(scan: &mut Scan<'a>) -> Option<GrantDetails<'a>> {
    let (mut details, mut seen) = (GrantDetails::default(), 0);
    scan.object_in_order(DETAILS, |scan, key| {
        let d = &mut details;
        match key {
            "creationDate" => field(&mut seen, 0, &mut d.creation_date, scan, timestamp),
            "changeDate" => field(&mut seen, 1, &mut d.change_date, scan, timestamp),
            "resourceOwner" => field(&mut seen, 2, &mut d.resource_owner, scan, text),
            _ => scan.skip(),
        }
    })?;
    Some(details)
}

fn user<'a>(scan: &mut Scan<'a>) -> Option<User<'a>> {
    let (mut user, mut seen) = (User::default(), 0);
    scan.object_in_order(USER, |scan, key| {
        let u = &mut user;
        match key {
            "id" => field(&mut seen, 0, &mut u.id, scan, text),
            "details" => field(&mut seen, 1, &mut u.details, scan, object_details),
            "state" => field(&mut seen, 2, &mut u.state, scan, text),
            "userName" => field(&mut seen, 3, &mut u.user_name, scan, text),
            "loginNames" => field(&mut seen, 4, &mut u.login_names, scan, strings),
            "preferredLoginName" => field(&mut seen, 5, &mut u.preferred_login_name, scan, text),
            "human" => field(&mut seen, 6, &mut u.human, scan, |scan| human(scan).map(Some)),
            "machine" => field(&mut seen, 7, &mut u.machine, scan, |scan| machine(scan).map(Some)),
            _ => scan.skip(),
        }
    })?;
    Some(user)
}

fn object_details<'a>(scan: &mut Scan<'a>) -> Option<ObjectDetails<'a>> {
    let (mut details, mut seen) = (ObjectDetails::default(), 0);
    scan.object_in_order(DETAILS, |scan, key| {
        let d = &mut details;
        match key {
            "creationDate" => field(&mut seen, 0, &mut d.creation_date, scan, timestamp),
            "resourceOwner" => field(&mut seen, 1, &mut d.resource_owner, scan, text),
            _ => scan.skip(),
        }
    })?;
    Some(details)
}

fn human<'a>(scan: &mut Scan<'a>) -> Option<Human<'a>> {
    let (mut human, mut seen) = (Human::default(), 0);
    scan.object_in_order(HUMAN, |scan, key| match key {
        "profile" => field(&mut seen, 0, &mut human.profile, scan, profile),
        "email" => field(&mut seen, 1, &mut human.email, scan, email),
        _ => scan.skip(),
    })?;
    Some(human)
}

fn profile<'a>(scan: &mut Scan<'a>) -> Option<Profile<'a>> {
    let (mut profile, mut seen) = (Profile::default(), 0);
    scan.object_in_order(PROFILE, |scan, key| {
        let p = &mut profile;
        match key {
            "firstName" => field(&mut seen, 0, &mut p.first_name, scan, text),
            "lastName" => field(&mut seen, 1, &mut p.last_name, scan, text),
            "displayName" => field(&mut seen, 2, &mut p.display_name, scan, text),
            _ => scan.skip(),
        }
    })?;
    Some(profile)
}

fn email<'a>(scan: &mut Scan<'a>) -> Option<Email<'a>> {
    let (mut email, mut seen) = (Email::default(), 0);
    scan.object_in_order(EMAIL, |scan, key| match key {
        "email" => field(&mut seen, 0, &mut email.email, scan, text),
        "isEmailVerified" => field(&mut seen, 1, &mut email.is_email_verified, scan, Scan::bool),
        _ => scan.skip(),
    })?;
    Some(email)
}

fn machine<'a>(scan: &mut Scan<'a>) -> Option<Machine<'a>> {
    let (mut machine, mut seen) = (Machine::default(), 0);
    scan.object_in_order(MACHINE, |scan, key| {
        let m = &mut machine;
        match key {
            "name" => field(&mut seen, 0, &mut m.name, scan, text),
            "description" => field(&mut seen, 1, &mut m.description, scan, text),
            "hasSecret" => field(&mut seen, 2, &mut m.has_secret, scan, Scan::bool),
            _ => scan.skip(),
        }
    })?;
    Some(machine)
}
