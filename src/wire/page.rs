//! Reading a list page with bounded memory: at most the rows asked for, at most
//! `MAX_LIST_ITEMS` items in its rows' lists, no string over `MAX_TEXT_BYTES`, each
//! borrowed from the page where it can be.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::{ListDetails, MAX_LIST_ITEMS, MAX_TEXT_BYTES, Strings};

/// A list response: `{"details":{...},"result":[...]}`. An empty page has no `result`;
/// every answer has `details` (`None` here when it does not, which no ZITADEL sends).
/// Read it with `Page::reader`, which knows how many rows were asked for.
#[derive(Debug)]
pub struct Page<T> {
    pub details: Option<ListDetails>,
    pub result: Vec<T>,
}

impl<T> Page<T> {
    /// Reads a page of at most `limit` rows. Row `limit + 1` fails the page as soon as it
    /// starts, so a hostile page of a million rows costs no more memory than a full one.
    pub fn reader(limit: u32) -> PageReader<T> {
        PageReader { limit: limit as usize, rows: PhantomData }
    }
}

/// Reads a `Page<T>` of at most `limit` rows (a `DeserializeSeed`).
pub struct PageReader<T> {
    limit: usize,
    rows: PhantomData<T>,
}

/// The rows a page's vector is given room for at once, with `details` read before them
/// (ZITADEL sends it first): a page holds at most as many rows as the whole list, and never
/// more than the `limit` asked for, whatever a hostile server says its total is.
pub(super) fn room_for_rows(details: Option<&ListDetails>, limit: usize) -> usize {
    let total = details.map_or(0, |details| details.total_result);
    total.min(limit as u64) as usize
}

/// A row of a list page. Its own lists count toward the page's `MAX_LIST_ITEMS`.
pub trait Row {
    /// Items in the row's lists.
    fn list_items(&self) -> usize {
        0
    }
}

impl<'de, T: Deserialize<'de> + Row> DeserializeSeed<'de> for PageReader<T> {
    type Value = Page<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Page<T>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de> + Row> Visitor<'de> for PageReader<T> {
    type Value = Page<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page<T>, A::Error> {
        #[derive(Deserialize)]
        #[serde(field_identifier, rename_all = "camelCase")]
        enum Field {
            /// The v2 lists call their `totalResult` `pagination`, with no sequence.
            #[serde(alias = "pagination")]
            Details,
            Result,
            #[serde(other)]
            Other,
        }
        let (mut details, mut result) = (None, None);
        while let Some(field) = map.next_key()? {
            match field {
                Field::Details if details.is_some() => {
                    return Err(de::Error::duplicate_field("details"));
                }
                Field::Details => details = Some(map.next_value()?),
                Field::Result if result.is_some() => {
                    return Err(de::Error::duplicate_field("result"));
                }
                Field::Result => {
                    let expected = room_for_rows(details.as_ref(), self.limit);
                    let rows = Rows { limit: self.limit, expected, rows: PhantomData };
                    result = Some(map.next_value_seed(rows)?);
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Page { details, result: result.unwrap_or_default() })
    }
}

/// The `result` array of a page: at most `limit` rows, room made for `expected` at once
/// (growing a vector of a thousand rows one doubling at a time copies them twice over).
struct Rows<T> {
    limit: usize,
    expected: usize,
    rows: PhantomData<T>,
}

impl<'de, T: Deserialize<'de> + Row> DeserializeSeed<'de> for Rows<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de> + Row> Visitor<'de> for Rows<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut rows = Vec::with_capacity(self.expected);
        let mut list_items = 0;
        loop {
            if rows.len() == self.limit {
                return skip_rows(seq, rows, 0, self.limit);
            }
            let Some(row) = seq.next_element::<T>()? else {
                return Ok(rows);
            };
            // Each list was bounded while the row was read (`strings`); together they are
            // bounded here, so that a thousand rows cannot hold a thousand such lists.
            list_items += row.list_items();
            if list_items > MAX_LIST_ITEMS {
                if rows.is_empty() {
                    return Err(too_many_list_items());
                }
                // A wide organization (a thousand user grants of eighty role keys each): the
                // page ends before this row, as a page the server cut short would, and the
                // walk asks for the rest from there. The rows after it are only counted.
                let room = self.limit - rows.len() - 1;
                return skip_rows(seq, rows, room, self.limit);
            }
            rows.push(row);
        }
    }
}

/// Ends the rows of a page at `rows`, skipping (and so costing nothing for) the rows after
/// them, of which `room` fit within the `limit` asked for: one more is one too many.
fn skip_rows<'de, A: SeqAccess<'de>, T>(
    mut seq: A,
    rows: Vec<T>,
    room: usize,
    limit: usize,
) -> Result<Vec<T>, A::Error> {
    for _ in 0..=room {
        if seq.next_element::<IgnoredAny>()?.is_none() {
            return Ok(rows);
        }
    }
    Err(de::Error::custom(format_args!("more rows than the {limit} asked for")))
}

fn too_many_list_items<E: de::Error>() -> E {
    E::custom(format_args!(
        "more than {MAX_LIST_ITEMS} login names or role keys in one page, far more than ZITADEL holds"
    ))
}

/// A list of strings inside a row, each borrowed from the page unless it has escapes (serde
/// would copy every one), at most `MAX_LIST_ITEMS` long.
pub(super) fn strings<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Strings<'a>, D::Error> {
    struct StringsVisitor;
    impl<'de> Visitor<'de> for StringsVisitor {
        type Value = Strings<'de>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of strings")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut strings = Strings::default();
            while let Some(Text(text)) = seq.next_element()? {
                if strings.len() == MAX_LIST_ITEMS {
                    return Err(too_many_list_items());
                }
                strings.push(text);
            }
            Ok(strings)
        }
    }
    deserializer.deserialize_seq(StringsVisitor)
}

/// The most distinct names an enum list may hold: ZITADEL's enums of authentication methods
/// and factors have fewer than ten, and a newer server's few more.
pub const MAX_ENUM_NAMES: usize = 32;

/// The longest enum value name read; ZITADEL's longest is 39 bytes.
const MAX_ENUM_NAME_BYTES: usize = 96;

/// A list of one enum's value names as protojson writes them (`prefix` and the value:
/// `AUTHENTICATION_METHOD_TYPE_TOTP`), each once and sorted, `_UNSPECIFIED` left out. A
/// name ZITADEL does not have today is a newer server's and kept, so long as it looks like
/// one (the prefix, then capitals, digits and `_`); any other string is no such list. A
/// list of a million repeats costs no memory; more than `MAX_ENUM_NAMES` distinct names
/// are refused.
pub(super) fn enum_names<'de, D: Deserializer<'de>>(
    deserializer: D,
    prefix: &'static str,
) -> Result<Vec<String>, D::Error> {
    struct Names(&'static str);
    impl<'de> Visitor<'de> for Names {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "a list of {}* names", self.0)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut names = std::collections::BTreeSet::new();
            while let Some(Text(name)) = seq.next_element()? {
                let value = name.strip_prefix(self.0).unwrap_or_default();
                let upper = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_';
                if value.is_empty() || name.len() > MAX_ENUM_NAME_BYTES || !value.bytes().all(upper)
                {
                    return Err(de::Error::custom(match name.chars().count() {
                        ..=64 => format!("{name:?} is not a {}* name", self.0),
                        n => format!("a string of {n} characters is not a {}* name", self.0),
                    }));
                }
                if value != "UNSPECIFIED" && !names.contains(&*name) {
                    if names.len() == MAX_ENUM_NAMES {
                        return Err(de::Error::custom(format_args!(
                            "more than {MAX_ENUM_NAMES} distinct {}* names, far more than ZITADEL has",
                            self.0
                        )));
                    }
                    names.insert(name.into_owned());
                }
            }
            Ok(names.into_iter().collect())
        }
    }
    deserializer.deserialize_seq(Names(prefix))
}

fn check_length<E: de::Error>(text: &str) -> Result<(), E> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(E::custom(format_args!(
            "a string of {} bytes, longer than any ZITADEL field ({MAX_TEXT_BYTES} at most)",
            text.len()
        )));
    }
    Ok(())
}

/// A string field, borrowed from the page unless it has escapes, at most `MAX_TEXT_BYTES`.
pub(super) fn text<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Cow<'a, str>, D::Error> {
    Text::deserialize(deserializer).map(|text| text.0)
}

/// A string borrowed from the input where possible (what `#[serde(borrow)]` does for a
/// `Cow<str>` field, but not for one inside a list), at most `MAX_TEXT_BYTES` long.
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<'de>, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                check_length(text)?;
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                check_length(text)?;
                Ok(Text(Cow::Owned(text.to_string())))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// A timestamp field (`timestamp.rs`): absent or empty, or a timestamp exactly as ZITADEL
/// writes one, borrowed from the page. Any other text is refused with the page, as a
/// well-formed answer no ZITADEL sends, so that no record carries a date nobody can read.
pub(super) fn timestamp<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Cow<'a, str>, D::Error> {
    let text = text(deserializer)?;
    if crate::timestamp::is_absent_or_valid(&text) {
        return Ok(text);
    }
    // Quoted whole or not at all, as a uint64 is below.
    Err(match text.chars().count() {
        ..=64 => de::Error::custom(format_args!(
            "expected a timestamp such as 2025-01-20T10:00:01.123456Z, got {text:?}"
        )),
        n => de::Error::custom(format_args!(
            "expected a timestamp such as 2025-01-20T10:00:01.123456Z, got {n} characters"
        )),
    })
}

/// Reads a uint64 the way protojson writes it (a string), or as a plain number. Anything
/// else fails at once, without buffering it as serde's untagged enums would.
pub(super) fn u64_from_string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<u64, D::Error> {
    struct Uint64;
    impl Visitor<'_> for Uint64 {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a uint64 string or number")
        }

        fn visit_u64<E: de::Error>(self, n: u64) -> Result<u64, E> {
            Ok(n)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<u64, E> {
            // Quoted whole or not at all: a cut here, before the message is redacted, could
            // leave a piece of the PAT behind; and a short quote is all a reader needs.
            text.parse().map_err(|_| match text.chars().count() {
                ..=64 => E::custom(format_args!("expected a uint64 string, got {text:?}")),
                n => E::custom(format_args!("expected a uint64 string, got {n} characters")),
            })
        }
    }
    deserializer.deserialize_any(Uint64)
}
