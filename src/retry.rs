//! When to try a failed request again, how long to wait first, and how fast to send at all:
//! pure decisions, so the sleeping happens in one place (`zitadel/client.rs`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The first backoff wait; each further retry doubles it, up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// ZITADEL Cloud bans a bursting client for a minute; waits this long cover that ban in a
/// few retries without waiting much longer than it.
const MAX_BACKOFF: Duration = Duration::from_secs(32);

/// How persistent one request is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The most time spent waiting between the attempts of one request, in total.
    pub max_total_wait: Duration,
}

/// The retries of one request so far.
#[derive(Debug)]
pub struct Attempts {
    policy: RetryPolicy,
    retries: u32,
    waited: Duration,
}

impl Attempts {
    pub fn new(policy: RetryPolicy) -> Attempts {
        Attempts { policy, retries: 0, waited: Duration::ZERO }
    }

    /// Attempts made so far, the first included.
    pub fn made(&self) -> u32 {
        self.retries + 1
    }

    /// Decides the wait before the next attempt: `Retry-After` when the server sent one,
    /// else exponential backoff scaled by `jitter` (0.0 to 1.0, drawn per call, so that
    /// clients do not retry in lockstep). An error says why there is no next attempt: no
    /// retries left, or a wait beyond what is left of the total budget (a `Retry-After`
    /// longer than the whole budget gives up at once, whatever retries are left).
    pub fn next_wait(
        &mut self,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Result<Duration, GiveUp> {
        if self.retries >= self.policy.max_retries {
            return Err(GiveUp::NoRetriesLeft);
        }
        let wait = retry_after.unwrap_or_else(|| backoff(self.retries, jitter));
        let left = self.policy.max_total_wait.saturating_sub(self.waited);
        if wait > left {
            return Err(GiveUp::OverBudget { wait, left, asked: retry_after.is_some() });
        }
        self.retries += 1;
        self.waited += wait;
        Ok(wait)
    }
}

/// Why a failed request is not tried again, though its failure is transient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GiveUp {
    /// Every retry the policy allows was made.
    NoRetriesLeft,
    /// The next wait, `wait`, is longer than the `left` of the total budget; `asked` says
    /// whether the server asked for it with `Retry-After`.
    OverBudget { wait: Duration, left: Duration, asked: bool },
}

/// The `retry`-th backoff (0-based): between half and all of `FIRST_BACKOFF * 2^retry`,
/// capped at `MAX_BACKOFF`.
fn backoff(retry: u32, jitter: f64) -> Duration {
    let full = FIRST_BACKOFF.saturating_mul(1 << retry.min(16)).min(MAX_BACKOFF);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// Reads a `Retry-After` header: delay seconds or an HTTP date (RFC 9110), relative to `now`.
/// A date in the past means no wait; anything unreadable is ignored. Numbers too large for
/// any clock saturate, so an absurd wait is a long wait, never an overflow.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Some(seconds) = digits(value) {
        return Some(Duration::from_secs(seconds));
    }
    let at = Duration::from_secs(parse_http_date(value)?);
    let now = now.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    Some(at.saturating_sub(now))
}

/// Parses the IMF-fixdate form every current server sends, `Sun, 06 Nov 1994 08:49:37 GMT`,
/// into seconds since the Unix epoch, saturating at `u64::MAX` for years beyond any clock.
fn parse_http_date(value: &str) -> Option<u64> {
    let (_weekday, rest) = value.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day = digits(parts.next()?)?;
    let month = parts.next()?;
    let year = digits(parts.next()?)?;
    let mut clock = parts.next()?.split(':').map(digits);
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if parts.next()? != "GMT" || parts.next().is_some() || clock.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    if !(1..=31).contains(&day) || year < 1970 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // u128 holds the seconds of any u64 year, so only the result needs to saturate.
    let days = days_since_epoch(year.into(), month.into(), day.into());
    let seconds = days * 86_400 + u128::from(hour * 3600 + minute * 60 + second);
    Some(u64::try_from(seconds).unwrap_or(u64::MAX))
}

/// The value of a non-empty string of ASCII digits, saturating at `u64::MAX`.
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

/// Days from 1970-01-01 to the given civil date (Howard Hinnant's `days_from_civil`); the
/// year is at least 1970.
fn days_since_epoch(year: u128, month: u128, day: u128) -> u128 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The pace of requests: at most one per `interval`. It starts at the configured maximum
/// rate (none by default) and halves the rate each time the server says 429, so a sync that
/// was rate-limited once stays below that rate instead of bursting into a ban again.
#[derive(Debug)]
pub struct Pace {
    interval: Duration,
}

/// After the first 429 the pace is at most this many requests per second.
const RATE_AFTER_FIRST_429: f64 = 20.0;
/// The slowest pace that repeated 429s lead to.
const SLOWEST_INTERVAL: Duration = Duration::from_secs(2);

impl Pace {
    /// `max_rps` of `None` means no limit.
    pub fn new(max_rps: Option<f64>) -> Pace {
        let interval = max_rps.map_or(Duration::ZERO, |rps| Duration::from_secs_f64(1.0 / rps));
        Pace { interval }
    }

    /// The least time between the starts of two requests.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Halves the rate after a 429, and returns the new maximum requests per second.
    pub fn slow_down(&mut self) -> f64 {
        let first = Duration::from_secs_f64(1.0 / RATE_AFTER_FIRST_429);
        self.interval = self.interval.saturating_mul(2).max(first).min(SLOWEST_INTERVAL);
        1.0 / self.interval.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy =
        RetryPolicy { max_retries: 8, max_total_wait: Duration::from_secs(300) };

    #[test]
    fn backoff_doubles_up_to_a_cap_and_rides_out_a_one_minute_ban() {
        let mut attempts = Attempts::new(POLICY);
        let waits: Vec<u64> = std::iter::from_fn(|| attempts.next_wait(None, 1.0).ok())
            .map(|w| w.as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 32, 32]);
        // Even with the least jitter, the default retries wait out a one-minute ban.
        let mut attempts = Attempts::new(POLICY);
        let least: Duration = std::iter::from_fn(|| attempts.next_wait(None, 0.0).ok()).sum();
        assert!(least > Duration::from_secs(60), "{least:?}");
        assert_eq!(attempts.made(), 9);
    }

    #[test]
    fn retry_after_is_honoured_within_the_budget() {
        let mut attempts =
            Attempts::new(RetryPolicy { max_retries: 5, max_total_wait: Duration::from_secs(10) });
        let seconds = Duration::from_secs;
        assert_eq!(attempts.next_wait(Some(seconds(7)), 0.5), Ok(seconds(7)));
        assert_eq!(
            attempts.next_wait(Some(seconds(4)), 0.5),
            Err(GiveUp::OverBudget { wait: seconds(4), left: seconds(3), asked: true }),
            "7 + 4 > 10"
        );
        assert_eq!(attempts.next_wait(Some(Duration::ZERO), 0.5), Ok(Duration::ZERO));
    }

    #[test]
    fn a_retry_after_beyond_the_budget_gives_up_at_once() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
        for value in [
            "Sun, 06 Nov 300000000000 08:49:37 GMT",
            "Fri, 31 Dec 99999999999999999999999 23:59:59 GMT",
            "99999999999999999999999",
            "301",
        ] {
            let wait = parse_retry_after(value, now).expect("a wait, saturated if need be");
            let mut attempts = Attempts::new(POLICY);
            let result = attempts.next_wait(Some(wait), 0.5);
            assert_eq!(
                result,
                Err(GiveUp::OverBudget { wait, left: POLICY.max_total_wait, asked: true }),
                "{value:?}"
            );
        }
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_http_date("Sun, 06 Nov 300000000000 08:49:37 GMT"),
            Some(9_467_085_537_859_596_577)
        );
        assert_eq!(
            parse_http_date("Fri, 31 Dec 99999999999999999999999 23:59:59 GMT"),
            Some(u64::MAX)
        );
    }

    #[test]
    fn no_retries_means_one_attempt() {
        let mut attempts = Attempts::new(RetryPolicy { max_retries: 0, ..POLICY });
        assert_eq!(attempts.next_wait(None, 0.5), Err(GiveUp::NoRetriesLeft));
        assert_eq!(attempts.made(), 1);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT"), Some(1_835_438_400));
        for bad in
            ["", "-1", "soon", "Sun, 06 Nov 1994 08:49:37 CET", "Sun, 32 Nov 1994 08:49:37 GMT"]
        {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn each_429_halves_the_rate() {
        let mut pace = Pace::new(None);
        assert_eq!(pace.interval(), Duration::ZERO);
        assert_eq!(pace.slow_down(), 20.0);
        assert_eq!(pace.slow_down(), 10.0);
        let mut pace = Pace::new(Some(4.0));
        assert_eq!(pace.interval(), Duration::from_millis(250));
        assert_eq!(pace.slow_down(), 2.0);
        for _ in 0..10 {
            pace.slow_down();
        }
        assert_eq!(pace.interval(), SLOWEST_INTERVAL);
    }
}
