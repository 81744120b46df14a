//! Timestamps in RFC 3339, UTC: checking ZITADEL's before a record carries one, and writing
//! the clock's for the summary and the logs.
//!
//! ZITADEL writes a `google.protobuf.Timestamp` as protojson does: `2025-01-20T10:00:01.123456Z`,
//! always in UTC (`Z`), with up to nine digits of fraction, years 0001 to 9999. A record
//! carries such a text exactly as ZITADEL sent it (`9999-12-31T23:59:59Z`, its "never", too),
//! so that two runs print the same bytes; any other text in a timestamp field is no answer
//! of ZITADEL's and is refused, so that no record carries a date a program cannot read.

use std::time::{SystemTime, UNIX_EPOCH};

/// Whether `text` is a timestamp as ZITADEL writes one: `YYYY-MM-DDTHH:MM:SS`, an optional
/// fraction of 1 to 9 digits, then `Z`; a real date of the years 0001 to 9999, hours 00 to
/// 23, minutes and seconds 00 to 59 (protobuf has no leap second). There are two on every
/// user grant, so the shape of its first 19 bytes is checked eight bytes at a time.
pub fn is_valid(text: &str) -> bool {
    let Some((head, fraction)) = text.as_bytes().split_first_chunk::<19>() else {
        return false;
    };
    let fraction = match fraction {
        [b'Z'] => true,
        [b'.', digits @ .., b'Z'] => {
            (1..=9).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    if !(fraction && shaped(head)) {
        return false;
    }
    let two = |at: usize| u32::from(head[at] - b'0') * 10 + u32::from(head[at + 1] - b'0');
    let (year, month, day) = (two(0) * 100 + two(2), two(5), two(8));
    year >= 1
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && two(11) < 24
        && two(14) < 60
        && two(17) < 60
}

/// Whether `head` is `DDDD-DD-DDTDD:DD:DD`, each `D` an ASCII digit: looked at as three
/// words (bytes 0 to 7, 8 to 15 and 11 to 18), in each the separators compared as they are
/// and the digits as bytes `0x30` to `0x39` (high half 3, and still 3 after adding 6).
fn shaped(head: &[u8; 19]) -> bool {
    const SHAPE: &[u8; 19] = b"0000-00-00T00:00:00";
    let word = |bytes: &[u8; 19], at: usize| {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(word)
    };
    let digits_at = |at: usize| {
        u64::from_le_bytes(std::array::from_fn(|i| if SHAPE[at + i] == b'0' { 0xff } else { 0 }))
    };
    [0, 8, 11].iter().all(|&at| {
        let (text, shape, digits) = (word(head, at), word(SHAPE, at), digits_at(at));
        let high_halves = digits & 0xf0f0_f0f0_f0f0_f0f0;
        let sixes = digits & 0x0606_0606_0606_0606;
        (text ^ shape) & !digits == 0
            && text & high_halves == shape & high_halves
            && text.wrapping_add(sixes) & high_halves == shape & high_halves
    })
}

/// Whether a timestamp field of ZITADEL's may be taken as it is: empty (absent: the record
/// leaves the date out) or a timestamp as ZITADEL writes one. Both page readers ask this.
pub fn is_absent_or_valid(text: &str) -> bool {
    text.is_empty() || is_valid(text)
}

/// The days of a month of the proleptic Gregorian calendar.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A time as RFC 3339 in UTC with milliseconds: `2026-12-31T23:59:59.000Z`.
pub fn rfc3339_millis(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let time_of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        time_of_day / 3600,
        time_of_day / 60 % 60,
        time_of_day % 60,
        since_epoch.subsec_millis()
    )
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_as_zitadel_writes_them_pass() {
        for text in [
            "2025-01-20T10:00:01.123456Z",
            "2025-03-02T08:00:00.5Z",
            "2024-11-04T15:00:00.000001Z",
            "2025-06-02T08:00:00Z",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59.999999999Z",
            "0001-01-01T00:00:00Z",
            "2028-02-29T12:00:00.123Z",
            "2000-02-29T00:00:00Z",
        ] {
            assert!(is_valid(text), "{text}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "2025",
            "2025-01-20",
            "2025-01-20T10:00:01",
            "2025-01-20T10:00:01z",
            "2025-01-20t10:00:01Z",
            "2025-01-20 10:00:01Z",
            "2025-01-20T10:00:01+00:00",
            "2025-01-20T10:00:01.Z",
            "2025-01-20T10:00:01.1234567890Z",
            "2025-01-20T10:00:01.12a4Z",
            "0000-01-01T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-00-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2025-04-31T00:00:00Z",
            "2025-01-00T00:00:00Z",
            "2025-01-20T24:00:00Z",
            "2025-01-20T10:60:00Z",
            "2025-01-20T10:00:60Z",
            "+025-01-20T10:00:01Z",
            "2025-01-20T10:00:01Z\u{1b}[2J",
            "2025-01-20T10:00:01.１Z",
            "２025-01-20T10:00:01Z",
        ] {
            assert!(!is_valid(text), "{text:?}");
        }
    }

    /// The check written plainly, field by field, for the test below.
    fn plainly_valid(text: &str) -> bool {
        let Some((date, time)) = text.split_once('T') else { return false };
        let Some(time) = time.strip_suffix('Z') else { return false };
        let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
        let number = |field: &str, len: usize| {
            (field.len() == len && field.bytes().all(|b| b.is_ascii_digit()))
                .then(|| field.parse::<u32>().ok())
                .flatten()
        };
        let date: Vec<&str> = date.split('-').collect();
        let clock: Vec<&str> = clock.split(':').collect();
        let ([year, month, day], [hour, minute, second]) = (&date[..], &clock[..]) else {
            return false;
        };
        let fields = [(year, 4), (month, 2), (day, 2), (hour, 2), (minute, 2), (second, 2)];
        let Some(n) =
            fields.map(|(field, len)| number(field, len)).into_iter().collect::<Option<Vec<u32>>>()
        else {
            return false;
        };
        (1..=9).contains(&fraction.len())
            && fraction.bytes().all(|b| b.is_ascii_digit())
            && n[0] >= 1
            && (1..=12).contains(&n[1])
            && (1..=days_in_month(n[0], n[1])).contains(&n[2])
            && n[3] < 24
            && n[4] < 60
            && n[5] < 60
    }

    /// Every timestamp changed at any one place to any of the bytes that matter, cut short
    /// or lengthened, is judged as the plain check judges it.
    #[test]
    fn the_one_pass_check_judges_as_the_plain_one() {
        let bytes = b"0123456789-:.TZtz +/a\x00\x7f\xc3\xff";
        let mut tried = 0;
        for valid in
            ["2028-02-29T12:00:00.123Z", "9999-12-31T23:59:59Z", "2025-01-20T10:00:01.123456789Z"]
        {
            for at in 0..valid.len() {
                for &byte in bytes {
                    let mut text = valid.as_bytes().to_vec();
                    text[at] = byte;
                    let Ok(text) = String::from_utf8(text) else { continue };
                    assert_eq!(is_valid(&text), plainly_valid(&text), "{text:?}");
                    tried += 1;
                }
                let cut = &valid[..at];
                assert_eq!(is_valid(cut), plainly_valid(cut), "{cut:?}");
            }
            let longer = format!("{}0Z", valid.trim_end_matches('Z'));
            assert_eq!(is_valid(&longer), plainly_valid(&longer), "{longer:?}");
        }
        for year in [0, 1, 1900, 2000, 2024, 2025, 9999] {
            for month in 0..=13 {
                for day in 0..=32 {
                    let text = format!("{year:04}-{month:02}-{day:02}T23:59:59Z");
                    assert_eq!(is_valid(&text), plainly_valid(&text), "{text:?}");
                }
            }
        }
        assert!(tried > 1000, "{tried}");
    }

    #[test]
    fn the_clock_is_written_in_rfc3339_utc_with_milliseconds() {
        assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap_day = UNIX_EPOCH + Duration::from_millis(1_835_438_400_123);
        assert_eq!(rfc3339_millis(leap_day), "2028-02-29T12:00:00.123Z");
        let new_year_eve = UNIX_EPOCH + Duration::from_secs(1_798_761_599);
        assert_eq!(rfc3339_millis(new_year_eve), "2026-12-31T23:59:59.000Z");
        // What it writes, it would take from ZITADEL.
        assert!(is_valid(&rfc3339_millis(leap_day)));
    }
}
