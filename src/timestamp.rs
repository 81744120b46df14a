//! Timestamps in RFC 3339, UTC: checking ZITADEL's before a record carries one, and writing
//! the clock's for the summary and the logs.
//!
//! ZITADEL writes a `google.protobuf.Timestamp` as protojson does: `2025-01-20T10:00:01.123456Z`,
//! always in UTC (`Z`), with up to nine digits of fraction, years 0001 to 9999. A record
//! carries such a text exactly as ZITADEL sent it (`9999-12-31T23:59:59Z`, its "never", too),
//! so that two runs print the same bytes; any other text in a timestamp field is no answer
//! of ZITADEL's and is refused, so that no record carries a date a program cannot read.

use std::time::{SystemTime, UNIX_EPOCH};

/// The longest timestamp ZITADEL writes: `9999-12-31T23:59:59.999999999Z`.
const LONGEST: usize = 30;

/// Whether `text` is a timestamp as ZITADEL writes one: `YYYY-MM-DDTHH:MM:SS`, an optional
/// fraction of 1 to 9 digits, then `Z`; a real date of the years 0001 to 9999, hours 00 to
/// 23, minutes and seconds 00 to 59 (protobuf has no leap second).
pub fn is_valid(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes.len() > LONGEST {
        return false;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = &bytes[range];
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, digit| n * 10 + u32::from(digit - b'0')))
    };
    let punctuation = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if punctuation.iter().any(|&(at, byte)| bytes[at] != byte) {
        return false;
    }
    let fields = (number(0..4), number(5..7), number(8..10), number(11..13), number(14..16));
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute)) = fields else {
        return false;
    };
    let Some(second) = number(17..19) else {
        return false;
    };
    let fraction = match &bytes[19..] {
        [b'Z'] => true,
        [b'.', digits @ .., b'Z'] => {
            (1..=9).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    fraction
        && year >= 1
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60
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
