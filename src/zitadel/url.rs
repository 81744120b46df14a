//! The instance's address: parsed and checked once, asked whether it is this machine, and
//! joined with an endpoint's path into a request URL.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use super::Endpoint;

/// A ZITADEL instance's base URL: `scheme://host[:port]`, scheme `https` or `http` in lower
/// case, no trailing slash, no credentials, path, query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceUrl {
    text: String,
    /// The host as `http::Uri` reads it, which is what `NO_PROXY` is matched against.
    host: String,
}

/// Why a text is not an instance URL. Each message follows the name of the setting that
/// gave the text, and never quotes the text itself: a URL with credentials would print them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidUrl {
    Scheme,
    Credentials,
    Path,
    NoHost,
    HostOrPort,
    Host,
    Port(String),
}

const EXAMPLE: &str = "e.g. https://acme.zitadel.cloud";

impl fmt::Display for InvalidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidUrl::Scheme => write!(f, "must start with https:// or http://, {EXAMPLE}"),
            InvalidUrl::Credentials => f.write_str(
                "must not contain credentials: pass the PAT with BATON_PAT or --pat-file",
            ),
            InvalidUrl::Path => write!(
                f,
                "must be scheme and host only, without a path, query or fragment, {EXAMPLE}"
            ),
            InvalidUrl::NoHost => write!(f, "has no host, {EXAMPLE}"),
            InvalidUrl::HostOrPort => write!(f, "has an invalid host or port, {EXAMPLE}"),
            InvalidUrl::Host => write!(f, "has an invalid host, {EXAMPLE}"),
            InvalidUrl::Port(port) => write!(f, "has an invalid port {port:?}, {EXAMPLE}"),
        }
    }
}

impl std::error::Error for InvalidUrl {}

impl InstanceUrl {
    /// Accepts `scheme://host[:port]` with an optional trailing `/`.
    pub fn parse(text: &str) -> Result<InstanceUrl, InvalidUrl> {
        let (scheme, rest) = text.split_once("://").ok_or(InvalidUrl::Scheme)?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(InvalidUrl::Scheme);
        }
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.contains('@') {
            return Err(InvalidUrl::Credentials);
        }
        if host.contains(['/', '?', '#']) {
            return Err(InvalidUrl::Path);
        }
        if host.is_empty() {
            return Err(InvalidUrl::NoHost);
        }
        let uri: ureq::http::Uri =
            format!("{scheme}://{host}/").parse().map_err(|_| InvalidUrl::HostOrPort)?;
        let uri_host = uri.host().filter(|host| !host.is_empty()).ok_or(InvalidUrl::Host)?;
        // The text after the host's last `:` (outside an IPv6 literal's brackets) is the port.
        let port = match host.rfind(']') {
            Some(end) => host[end + 1..].strip_prefix(':'),
            None => host.rsplit_once(':').map(|(_, port)| port),
        };
        if let Some(port) = port
            && !port.parse::<u16>().is_ok_and(|port| port > 0)
        {
            return Err(InvalidUrl::Port(port.to_string()));
        }
        Ok(InstanceUrl { host: uri_host.to_string(), text: format!("{scheme}://{host}") })
    }

    /// The URL as text: `https://acme.zitadel.cloud`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The host, as `NO_PROXY` entries are matched against it.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn is_https(&self) -> bool {
        self.text.starts_with("https:")
    }

    /// The port requests go to: the one the URL names, or the scheme's.
    pub fn port(&self) -> u16 {
        let (_, rest) = self.text.split_once("://").unwrap_or(("", &self.text));
        let port = match rest.rfind(']') {
            Some(end) => rest[end + 1..].strip_prefix(':'),
            None => rest.rsplit_once(':').map(|(_, port)| port),
        };
        port.and_then(|port| port.parse().ok()).unwrap_or(if self.is_https() { 443 } else { 80 })
    }

    /// Whether the host reaches this machine: plain HTTP is allowed there, and no proxy is
    /// used, because through a proxy it would name the proxy's machine instead. That is
    /// `localhost` (also with the root's trailing dot), every loopback address, the
    /// unspecified addresses `0.0.0.0` and `::` (a connection to them reaches this machine),
    /// their IPv4-mapped IPv6 forms, and IPv4 addresses in the short forms the system
    /// resolver reads as numbers (`127.1`, `0x7f.1`, `2130706433`).
    pub fn is_loopback(&self) -> bool {
        is_localhost(&self.host)
            || host_address(&self.host).is_some_and(|ip| {
                let ip = match ip {
                    IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
                    IpAddr::V4(_) => ip,
                };
                ip.is_loopback() || ip.is_unspecified()
            })
    }

    /// The URL a request to `endpoint` goes to.
    pub fn request_url(&self, endpoint: &Endpoint) -> String {
        format!("{}{}", self.text, endpoint.path())
    }
}

/// Whether `host` is `localhost`, with or without the root's trailing dot. Names under
/// it are not: the system resolver may ask DNS about them.
pub fn is_localhost(host: &str) -> bool {
    host.strip_suffix('.').unwrap_or(host).eq_ignore_ascii_case("localhost")
}

/// The address a host names by itself, without a lookup: an IPv6 literal in brackets, or
/// an IPv4 address in any form `inet_aton` reads, as the system resolver does before it
/// asks DNS: one to four parts, each decimal, octal (a leading `0`) or hexadecimal
/// (`0x`), the last one filling the bytes that are left.
pub fn host_address(host: &str) -> Option<IpAddr> {
    if let Some(literal) = host.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
        return literal.parse().ok();
    }
    if let Ok(ip) = host.parse() {
        return Some(ip);
    }
    let parts = host.split('.').map(inet_aton_part).collect::<Option<Vec<u32>>>()?;
    let (last, leading) = parts.split_last()?;
    if leading.len() > 3 || leading.iter().any(|&part| part > 0xff) {
        return None;
    }
    let last_bits = 32 - 8 * leading.len() as u32;
    if last_bits < 32 && *last >> last_bits != 0 {
        return None;
    }
    let address = leading
        .iter()
        .enumerate()
        .fold(*last, |address, (at, &part)| address | part << (24 - 8 * at as u32));
    Some(IpAddr::V4(Ipv4Addr::from(address)))
}

/// One part of an IPv4 address as `inet_aton` reads it.
fn inet_aton_part(part: &str) -> Option<u32> {
    let (digits, radix) = match part.as_bytes() {
        [b'0', b'x' | b'X', ..] => (&part[2..], 16),
        [b'0', _, ..] => (&part[1..], 8),
        _ => (part, 10),
    };
    // `from_str_radix` would also take a sign; `inet_aton` does not.
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) || (digits.is_empty() && radix != 16) {
        return None;
    }
    if digits.is_empty() {
        return Some(0);
    }
    u32::from_str_radix(digits, radix).ok()
}

impl fmt::Display for InstanceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for InstanceUrl {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_scheme_and_host_only() {
        let check = |text: &str, expected: Result<&str, InvalidUrl>| {
            let parsed = InstanceUrl::parse(text);
            assert_eq!(parsed.as_ref().map(InstanceUrl::as_str), expected.as_deref(), "{text}");
        };
        check("https://acme.example.com/", Ok("https://acme.example.com"));
        check("HTTPS://acme.example.com", Ok("https://acme.example.com"));
        check("http://127.0.0.1:8080", Ok("http://127.0.0.1:8080"));
        check("http://[::1]:8080/", Ok("http://[::1]:8080"));
        check("acme.example.com", Err(InvalidUrl::Scheme));
        check("ftp://acme.example.com", Err(InvalidUrl::Scheme));
        check("https://acme.example.com/ui/console", Err(InvalidUrl::Path));
        check("https://acme.example.com?x=1", Err(InvalidUrl::Path));
        check("https://", Err(InvalidUrl::NoHost));
        check("https://acme.example.com:port", Err(InvalidUrl::Port("port".into())));
        check("https://acme.example.com:70000", Err(InvalidUrl::Port("70000".into())));
        check("https://acme.example.com:0", Err(InvalidUrl::Port("0".into())));
        check("https://exa mple.com", Err(InvalidUrl::HostOrPort));
        check("https://admin:hunter2@acme.example.com", Err(InvalidUrl::Credentials));
        assert!(!InvalidUrl::Credentials.to_string().contains("hunter2"));
    }

    #[test]
    fn loopback_is_every_name_and_address_of_this_machine() -> Result<(), InvalidUrl> {
        for (text, loopback) in [
            ("http://127.0.0.1:8080", true),
            ("http://127.1.2.3", true),
            ("http://localhost:1", true),
            ("https://LOCALHOST", true),
            ("http://localhost.:1", true),
            ("http://[::1]:80/", true),
            ("http://[0:0:0:0:0:0:0:1]", true),
            ("http://[::ffff:127.0.0.1]:80", true),
            ("http://[::ffff:7f00:1]", true),
            ("http://0.0.0.0:8080", true),
            ("http://[::]:8080", true),
            ("http://[::ffff:0.0.0.0]", true),
            ("http://127.1", true),
            ("http://127.0.1", true),
            ("http://0x7f.1", true),
            ("http://0177.0.0.1", true),
            ("http://2130706433", true),
            ("http://0", true),
            ("http://localhost.example.com", false),
            ("http://localhost..", false),
            ("http://127.0.0.1.example.com", false),
            ("http://127.0.0.1.", false),
            ("https://[::2]", false),
            ("https://[::127.0.0.1]", false),
            ("https://[fe80::1]", false),
            ("http://128.0.0.1", false),
            ("http://0.0.0.1", false),
            ("http://1.1", false),
            ("http://0x80.1", false),
            ("http://-127.1", false),
            ("http://127.256.0.1", false),
            ("http://4294967296", false),
            ("https://acme.zitadel.cloud", false),
        ] {
            assert_eq!(InstanceUrl::parse(text)?.is_loopback(), loopback, "{text}");
        }
        Ok(())
    }

    #[test]
    fn host_addresses_are_read_as_the_system_resolver_reads_numbers() {
        let check = |host: &str, expected: Option<&str>| {
            let expected = expected.map(|ip| ip.parse::<IpAddr>().expect("an address"));
            assert_eq!(host_address(host), expected, "{host}");
        };
        check("10.1.2.3", Some("10.1.2.3"));
        check("10.258", Some("10.0.1.2"));
        check("10.1.258", Some("10.1.1.2"));
        check("0xa.0x1.0.010", Some("10.1.0.8"));
        check("0x", Some("0.0.0.0"));
        check("167772161", Some("10.0.0.1"));
        check("[2001:db8::1]", Some("2001:db8::1"));
        check("10.256.0.1", None);
        check("10.1.65536", None);
        check("1.2.3.4.5", None);
        check("08.1", None);
        check("+1.2", None);
        check("1..2", None);
        check("", None);
        check("example.com", None);
        check("2001:db8::1", Some("2001:db8::1"));
    }

    #[test]
    fn request_urls_join_the_base_and_the_path() -> Result<(), InvalidUrl> {
        let url = InstanceUrl::parse("https://acme.example.com:8443/")?;
        assert_eq!(
            url.request_url(&Endpoint::OrgsMe),
            "https://acme.example.com:8443/management/v1/orgs/me"
        );
        assert_eq!(url.host(), "acme.example.com");
        assert!(url.is_https());
        assert_eq!(url.port(), 8443);
        assert_eq!(InstanceUrl::parse("https://[::1]")?.port(), 443);
        assert_eq!(InstanceUrl::parse("http://[::1]:8080")?.port(), 8080);
        assert_eq!(InstanceUrl::parse("http://acme.example.com")?.port(), 80);
        Ok(())
    }
}
