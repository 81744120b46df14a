//! ZITADEL's Management API v1 wire format: the JSON we send and the JSON we read.
//!
//! The gateway omits every field that holds its proto3 default (`false`, `0`, `""`, empty
//! lists, enum value 0), so every field here has a default and a missing key is never an
//! error. 64-bit integers arrive as JSON strings. Strings borrow from the page buffer when
//! they contain no escapes, which keeps a page walk free of per-field allocations.
//!
//! Every list is counted while it is read, so that what a response costs in memory is
//! bounded before it is materialized: a page holds at most the rows asked for, and all its
//! rows' own lists (login names, role keys) at most `MAX_LIST_ITEMS` items together (a page
//! whose rows hold more ends before the row that is one too many, as if the server had cut
//! it short: the walk asks for the rest from there).
//!
//! `request.rs` builds the bodies we send, `page.rs` reads a page within those bounds, and
//! `rows.rs` holds the objects read. The pages of users and user grants are read by
//! `shaped.rs` (with `scan.rs`) without serde_json where it is sure to read them as
//! serde_json does, and by serde_json where it is not.

mod page;
mod request;
mod rows;
mod scan;
mod shaped;

pub use page::{Page, Row};
pub use request::{
    ListQuery, MEMBER_ROLES_REQUEST, credentials_request, instance_members_request, list_request,
    user_grants_request, users_request,
};
pub use rows::*;
pub use shaped::Shaped;

/// The most items that the lists inside one page's rows (login names, role keys) may hold
/// together, and so any one of them: about 1.5 MiB of strings borrowed from the page. Real
/// pages hold a few per row.
pub const MAX_LIST_ITEMS: usize = 1 << 16;

/// The longest string a field may hold. ZITADEL's own fields are at most a few hundred
/// characters (names 200, an avatar URL a little more); a longer one is a hostile server's,
/// and refusing it before it is copied keeps a page's memory at its body's size.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use serde::Deserialize;
    use serde::de::DeserializeSeed;

    use super::*;

    /// Reads `json` as a page of at most `limit` rows, as the sync does.
    fn page<'a, T: Deserialize<'a> + Row>(
        json: &'a str,
        limit: u32,
    ) -> serde_json::Result<Page<T>> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let page = Page::reader(limit).deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(page)
    }

    #[test]
    fn request_bodies_always_carry_an_explicit_limit() {
        let query = ListQuery { offset: 2000, limit: 1000, asc: true };
        assert_eq!(
            String::from_utf8(users_request(query)).unwrap(),
            r#"{"query":{"offset":"2000","limit":1000,"asc":true},"sortingColumn":"USER_FIELD_NAME_UNSPECIFIED"}"#
        );
        assert_eq!(
            String::from_utf8(list_request(query)).unwrap(),
            r#"{"query":{"offset":"2000","limit":1000,"asc":true}}"#
        );
        assert_eq!(
            String::from_utf8(credentials_request(query, "KEY_FIELD_NAME_ID", "900")).unwrap(),
            r#"{"pagination":{"offset":"2000","limit":1000,"asc":true},"sortingColumn":"KEY_FIELD_NAME_ID","filters":[{"organizationIdFilter":{"id":"900"}}]}"#
        );
        assert_eq!(
            String::from_utf8(instance_members_request(query)).unwrap(),
            r#"{"query":{"offset":"2000","limit":1000,"asc":true},"sortingColumn":"MEMBER_FIELD_NAME_USER_ID"}"#
        );
        assert_eq!(
            String::from_utf8(user_grants_request(query, "123")).unwrap(),
            r#"{"query":{"offset":"2000","limit":1000,"asc":true},"queries":[{"projectIdQuery":{"projectId":"123"}},{"withGrantedQuery":{"withGranted":true}}]}"#
        );
    }

    #[test]
    fn empty_page_has_no_result_and_no_total() -> serde_json::Result<()> {
        let page: Page<User> = page(
            r#"{"details":{"processedSequence":"9","viewTimestamp":"2025-01-01T00:00:00Z"}}"#,
            1000,
        )?;
        assert_eq!(page.details.map(|details| details.total_result), Some(0));
        assert!(page.result.is_empty());
        Ok(())
    }

    #[test]
    fn total_result_is_read_from_a_string_or_a_number() -> serde_json::Result<()> {
        let read = |json| page::<Role>(json, 10).map(|page| page.details.map(|d| d.total_result));
        assert_eq!(read(r#"{"details":{"totalResult":"42"}}"#)?, Some(42));
        assert_eq!(read(r#"{"details":{"totalResult":7}}"#)?, Some(7));
        let error = read(r#"{"details":{"totalResult":"x"}}"#).unwrap_err().to_string();
        assert!(error.starts_with(r#"expected a uint64 string, got "x""#), "{error}");
        // Long text is not quoted, and other types fail without being read whole.
        let long = format!(r#"{{"details":{{"totalResult":"{}"}}}}"#, "7".repeat(100));
        let error = read(&long).unwrap_err().to_string();
        assert!(error.starts_with("expected a uint64 string, got 100 characters"), "{error}");
        let error = read(r#"{"details":{"totalResult":[{},{}]}}"#).unwrap_err().to_string();
        assert!(error.starts_with("invalid type: sequence, expected a uint64"), "{error}");
        Ok(())
    }

    #[test]
    fn a_date_is_a_timestamp_as_zitadel_writes_one_or_the_page_is_refused() -> serde_json::Result<()>
    {
        let member = |date: &str| {
            format!(
                r#"{{"details":{{}},"result":[{{"userId":"7","details":{{"creationDate":{date}}}}}]}}"#
            )
        };
        let dated = member(r#""2025-01-20T10:00:01.123456Z""#);
        let read = page::<Member>(&dated, 10)?;
        assert_eq!(read.result[0].details.creation_date, "2025-01-20T10:00:01.123456Z");
        let error = page::<Member>(&member(r#""yesterday""#), 10).unwrap_err();
        assert!(error.to_string().contains(r#"got "yesterday""#), "{error}");
        assert!(error.is_data(), "not worth another attempt: {error}");
        // Escape sequences and long text are refused too, the latter without being quoted.
        assert!(page::<Member>(&member(r#""2025-01-20T10:00:01Z[2J""#), 10).is_err());
        let long = format!(r#""2025-01-20T10:00:01{}Z""#, "0".repeat(100));
        let error = page::<Member>(&member(&long), 10).unwrap_err().to_string();
        assert!(error.contains("got 120 characters"), "{error}");
        // Only the dates a record prints are read: a user's last change is not.
        let user: User = serde_json::from_str(
            r#"{"id":"7","details":{"creationDate":"2025-01-20T10:00:01Z","changeDate":"any"}}"#,
        )?;
        assert_eq!(user.details.creation_date, "2025-01-20T10:00:01Z");
        // A credential's expiry is checked as well; ZITADEL's "never" passes as it is.
        let key: Credential =
            serde_json::from_str(r#"{"id":"1","expirationDate":"9999-12-31T23:59:59Z"}"#)?;
        assert_eq!(key.expiration_date, "9999-12-31T23:59:59Z");
        assert!(serde_json::from_str::<Credential>(r#"{"expirationDate":"never"}"#).is_err());
        Ok(())
    }

    #[test]
    fn a_page_holds_at_most_the_rows_asked_for() -> serde_json::Result<()> {
        let two =
            r#"{"details":{"totalResult":"3"},"result":[{"key":"a"},{"key":"b"}],"extra":[1]}"#;
        let roles: Page<Role> = page(two, 2)?;
        assert_eq!(roles.result.iter().map(|r| &*r.key).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(roles.details.map(|d| d.total_result), Some(3));
        for limit in [0, 1] {
            let error = page::<Role>(two, limit).unwrap_err();
            assert!(
                error.to_string().starts_with(&format!("more rows than the {limit} asked for")),
                "{error}"
            );
            assert!(error.is_data(), "not worth another attempt: {error}");
        }
        // A million empty rows fail at the second one.
        let million = format!(r#"{{"result":[{}{{}}]}}"#, "{},".repeat(999_999));
        assert!(page::<User>(&million, 1).unwrap_err().to_string().contains("more rows"));
        Ok(())
    }

    /// Room for a page's rows is made once, for as many as the list's total says but never
    /// more than were asked for, whatever total a server claims.
    #[test]
    fn a_page_makes_room_for_its_rows_once_within_the_limit() -> serde_json::Result<()> {
        let rows = r#"{"key":"a"},{"key":"b"},{"key":"c"}"#;
        for (total, limit, room) in [("3", 1000, 3), ("18446744073709551615", 5, 5)] {
            let json = format!(r#"{{"details":{{"totalResult":"{total}"}},"result":[{rows}]}}"#);
            let roles: Page<Role> = page(&json, limit)?;
            assert_eq!(roles.result.len(), 3);
            assert_eq!(roles.result.capacity(), room, "total {total}, limit {limit}");
        }
        Ok(())
    }

    #[test]
    fn a_page_is_one_object_with_each_field_once() {
        for json in [
            r#"{"result":[],"result":[]}"#,
            r#"{"details":{},"details":{}}"#,
            r#"{"result":null}"#,
            r#"[]"#,
            r#"{"result":{}}"#,
        ] {
            assert!(page::<Role>(json, 10).is_err(), "{json}");
        }
    }

    /// Kept in the row or in a vector, a list is the list read, in its order, by serde_json
    /// and by the shape-aware reader alike.
    #[test]
    fn lists_of_any_length_are_the_lists_read() -> serde_json::Result<()> {
        for n in 0..=2 * FEW_STRINGS + 1 {
            let keys: Vec<String> = (0..n).map(|k| format!("key{k}")).collect();
            let text = format!(r#"{{"result":[{{"id":"1","roleKeys":{keys:?}}}]}}"#);
            let read = page::<UserGrant>(&text, 1)?;
            let shaped = UserGrant::shaped_page(&text, 1).expect("a clean page");
            for grant in [&read.result[0], &shaped.result[0]] {
                assert_eq!(
                    grant.role_keys.iter().collect::<Vec<_>>(),
                    keys.iter().collect::<Vec<_>>()
                );
                assert_eq!(format!("{:?}", grant.role_keys), format!("{keys:?}"));
            }
            let collected: Strings = keys.iter().map(|key| Cow::Borrowed(&**key)).collect();
            assert_eq!(&*collected, &*read.result[0].role_keys);
        }
        Ok(())
    }

    #[test]
    fn lists_inside_rows_are_borrowed_and_bounded() -> serde_json::Result<()> {
        let grant: UserGrant = serde_json::from_str(r#"{"roleKeys":["plain","esc\"aped"]}"#)?;
        assert!(matches!(grant.role_keys[0], Cow::Borrowed("plain")));
        assert_eq!(grant.role_keys[1], "esc\"aped");
        let keys = |n: usize| format!("[{}\"\"]", "\"\",".repeat(n - 1));
        let grant = |n| format!(r#"{{"id":"1","roleKeys":{}}}"#, keys(n));
        // One grant with too many role keys, and a page whose grants have too many together.
        let full = format!(r#"{{"result":[{}]}}"#, grant(MAX_LIST_ITEMS));
        assert_eq!(page::<UserGrant>(&full, 1)?.result[0].role_keys.len(), MAX_LIST_ITEMS);
        let over = format!(r#"{{"result":[{}]}}"#, grant(MAX_LIST_ITEMS + 1));
        let users = format!(r#"{{"result":[{{"loginNames":{}}}]}}"#, keys(MAX_LIST_ITEMS + 1));
        for error in
            [page::<UserGrant>(&over, 1).unwrap_err(), page::<User>(&users, 1).unwrap_err()]
        {
            assert!(error.to_string().contains("login names or role keys in one page"), "{error}");
        }
        // Rows with too many together: the page ends before the row that is one too many,
        // as a page cut short by the server, and the rows after it still count toward the
        // limit asked for.
        let half = grant(MAX_LIST_ITEMS / 2 + 1);
        let over_together = format!(r#"{{"result":[{half},{half},{{}}]}}"#);
        assert_eq!(page::<UserGrant>(&over_together, 3)?.result.len(), 1);
        let error = page::<UserGrant>(&over_together, 2).unwrap_err();
        assert!(error.to_string().contains("more rows than the 2 asked for"), "{error}");
        Ok(())
    }

    #[test]
    fn escaped_strings_are_decoded() -> serde_json::Result<()> {
        let role: Role = serde_json::from_str(r#"{"key":"a\"b","displayName":"Zo\u00eb"}"#)?;
        assert_eq!(role.key, "a\"b");
        assert_eq!(role.display_name, "Zoë");
        Ok(())
    }

    #[test]
    fn error_body_gives_zitadel_error_id() -> serde_json::Result<()> {
        let status: Status = serde_json::from_str(
            r#"{"code":16,"message":"Errors.Token.Invalid (AUTH-7fs1e)","details":[{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-7fs1e","message":"Errors.Token.Invalid"}]}"#,
        )?;
        assert_eq!(status.error_id(), Some("AUTH-7fs1e"));
        let plain: Status = serde_json::from_str(r#"{"code":16,"message":"auth header missing"}"#)?;
        assert_eq!(plain.error_id(), None);
        let later: Status =
            serde_json::from_str(r#"{"details":[{},{"id":""},{"id":"QUERY-4M0fs"},{"id":"X"}]}"#)?;
        assert_eq!(later.error_id(), Some("QUERY-4M0fs"));
        Ok(())
    }
}
