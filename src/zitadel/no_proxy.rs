//! `NO_PROXY`, the hosts reached without the proxy: read and matched as curl reads it, so
//! that one value means the same to this program, curl and Go's tools.
//!
//! The list is split at commas, and blanks around each entry are dropped. An entry `*`
//! exempts every host. A host name exempts itself and every name under it, with or without
//! a leading `.` or `*.` (`example.com`, `.example.com` and `*.example.com` all match
//! `example.com` and `acme.example.com`, never `notexample.com`); a trailing `.` is ignored
//! on both sides and case never matters. An IP address exempts itself, and an address with
//! a prefix length (`10.0.0.0/8`, `fd00::/8`) the range it names; addresses are matched
//! against a host that is an address, never against a name (no name is looked up to decide).
//! An entry may end with a port (`example.com:8443`, `[::1]:8443`), as Go allows: then it
//! matches that port only. curl ignores such an entry; matching it where it says is the
//! choice that keeps the user's intent. An entry that is none of these matches nothing.

use std::fmt;
use std::net::IpAddr;

/// The parsed entries of `NO_PROXY`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    entries: Vec<Entry>,
}

/// One entry: what it matches, and the text it came from, to name it in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    text: String,
    hosts: Hosts,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Hosts {
    Every,
    /// A lowercase name without leading or trailing dots, and every name under it.
    Domain(String),
    /// Addresses whose first `bits` bits are those of the address.
    Network(IpAddr, u8),
    Nothing,
}

impl NoProxy {
    pub fn parse(list: &str) -> NoProxy {
        let entries = list
            .split(',')
            .map(|entry| entry.trim_matches([' ', '\t']))
            .filter(|entry| !entry.is_empty())
            .map(Entry::parse)
            .collect();
        NoProxy { entries }
    }

    /// The first entry that exempts `host` (as `http::Uri` gives it: an IPv6 address in
    /// brackets) on `port`, as written in `NO_PROXY`.
    pub fn exempting(&self, host: &str, port: u16) -> Option<&str> {
        let address = host_literal(host);
        let name = host.strip_suffix('.').unwrap_or(host);
        self.entries
            .iter()
            .find(|entry| {
                entry.port.is_none_or(|only| only == port)
                    && match (&entry.hosts, address) {
                        (Hosts::Every, _) => true,
                        (Hosts::Domain(domain), None) => is_within(name, domain),
                        (Hosts::Network(network, bits), Some(address)) => {
                            in_network(address, *network, *bits)
                        }
                        _ => false,
                    }
            })
            .map(|entry| entry.text.as_str())
    }
}

impl fmt::Display for NoProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<&str> = self.entries.iter().map(|entry| entry.text.as_str()).collect();
        f.write_str(&texts.join(","))
    }
}

impl Entry {
    fn parse(text: &str) -> Entry {
        let (host, port) = split_port(text);
        let hosts = match (host, port) {
            (_, Err(())) => Hosts::Nothing,
            ("*", _) => Hosts::Every,
            _ if host.contains('/') => network(host).unwrap_or(Hosts::Nothing),
            _ => match host_literal(host) {
                Some(address) => Hosts::Network(address, full_length(address)),
                None => {
                    let name = host.strip_prefix('*').unwrap_or(host);
                    let name = name.strip_prefix('.').unwrap_or(name);
                    let name = name.strip_suffix('.').unwrap_or(name);
                    if name.is_empty() || name.contains(['*', '[', ']', ':']) {
                        Hosts::Nothing
                    } else {
                        Hosts::Domain(name.to_ascii_lowercase())
                    }
                }
            },
        };
        Entry { text: text.to_string(), hosts, port: port.unwrap_or(None) }
    }
}

/// Splits `host:port`, `[v6]:port` and `[v6]`; a bare IPv6 address has no port.
fn split_port(text: &str) -> (&str, Result<Option<u16>, ()>) {
    let (host, port) = match text.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, port)) => (host, Some(port.strip_prefix(':').unwrap_or(port))),
            None => return (text, Err(())),
        },
        None => match text.split_once(':') {
            Some((host, port)) if !port.contains(':') => (host, Some(port)),
            _ => (text, None),
        },
    };
    let port = port.map(|port| port.parse::<u16>().map_err(|_| ())).transpose();
    (host, port)
}

/// `address/bits`, as curl reads it: a prefix longer than the address matches nothing.
fn network(text: &str) -> Option<Hosts> {
    let (address, bits) = text.split_once('/')?;
    let address = address.parse::<IpAddr>().ok()?;
    let bits = bits.parse::<u8>().ok().filter(|&bits| bits <= full_length(address))?;
    Some(Hosts::Network(address, bits))
}

/// A host that is an address, as curl tells them apart: a dotted IPv4 address or an IPv6
/// address, bracketed or not. The short numeric forms are names to curl, and to `NO_PROXY`.
fn host_literal(host: &str) -> Option<IpAddr> {
    let bare = host.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).unwrap_or(host);
    bare.parse().ok()
}

fn full_length(address: IpAddr) -> u8 {
    if address.is_ipv4() { 32 } else { 128 }
}

fn in_network(address: IpAddr, network: IpAddr, bits: u8) -> bool {
    let prefix = |value: u128, width: u8| match width - bits {
        shift if shift >= 128 => 0,
        shift => value >> shift,
    };
    match (address, network) {
        (IpAddr::V4(address), IpAddr::V4(network)) => {
            prefix(u32::from(address).into(), 32) == prefix(u32::from(network).into(), 32)
        }
        (IpAddr::V6(address), IpAddr::V6(network)) => {
            prefix(address.into(), 128) == prefix(network.into(), 128)
        }
        _ => false,
    }
}

/// Whether `name` is `domain` or a name under it, whatever the case.
fn is_within(name: &str, domain: &str) -> bool {
    let (name, domain) = (name.as_bytes(), domain.as_bytes());
    match name.len().checked_sub(domain.len()) {
        Some(0) => name.eq_ignore_ascii_case(domain),
        Some(cut) => name[cut - 1] == b'.' && name[cut..].eq_ignore_ascii_case(domain),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_match_as_curl_matches_them() {
        let check = |list: &str, host: &str, port: u16, expected: Option<&str>| {
            let no_proxy = NoProxy::parse(list);
            assert_eq!(no_proxy.exempting(host, port), expected, "{list:?} {host}:{port}");
        };
        let host = "acme.example.com";
        check("", host, 443, None);
        check("*", host, 443, Some("*"));
        check("other, *", "[2001:db8::1]", 443, Some("*"));
        check("example.com", host, 443, Some("example.com"));
        check("example.com", "example.com", 443, Some("example.com"));
        check(".example.com", "example.com", 443, Some(".example.com"));
        check("*.example.com", host, 443, Some("*.example.com"));
        check("*example.com", host, 443, Some("*example.com"));
        check("EXAMPLE.com.", "acme.Example.COM.", 443, Some("EXAMPLE.com."));
        check("example.com", "notexample.com", 443, None);
        check("acme.example.com", "example.com", 443, None);
        check("acme.", host, 443, None);
        check("acme*", host, 443, None);
        check("acme", host, 443, None);
        // Blanks around entries, empty entries.
        check("other ,\t acme.example.com ,", host, 443, Some("acme.example.com"));
        check(",,example.com", host, 443, Some("example.com"));
        check("other example.com", host, 443, None);
        // Ports.
        check("example.com:443", host, 443, Some("example.com:443"));
        check("example.com:8443", host, 443, None);
        check("example.com:port", host, 443, None);
        check("[::1]:8080", "[::1]", 8080, Some("[::1]:8080"));
        check("[::1]:8080", "[::1]", 80, None);
        check("127.0.0.1:8080", "127.0.0.1", 8080, Some("127.0.0.1:8080"));
        // Addresses and ranges match addresses, never names.
        check("192.0.2.10", "192.0.2.10", 80, Some("192.0.2.10"));
        check("192.0.2.10", "192.0.2.11", 80, None);
        check("192.0.2.0/24", "192.0.2.200", 80, Some("192.0.2.0/24"));
        check("192.0.2.0/24", "192.0.3.1", 80, None);
        check("10.0.0.0/8", "10.255.255.255", 80, Some("10.0.0.0/8"));
        check("0.0.0.0/0", "203.0.113.1", 80, Some("0.0.0.0/0"));
        check("10.0.0.0/33", "10.0.0.1", 80, None);
        check("10.0.0.0/x", "10.0.0.1", 80, None);
        check("2001:db8::/32", "[2001:db8:1::5]", 80, Some("2001:db8::/32"));
        check("2001:db8::/32", "[2001:db9::5]", 80, None);
        check("2001:db8::1", "[2001:db8::1]", 80, Some("2001:db8::1"));
        check("[2001:db8::1]", "[2001:db8::1]", 80, Some("[2001:db8::1]"));
        check("::/0", "[2001:db8::1]", 80, Some("::/0"));
        check("::/0", "192.0.2.1", 80, None);
        check("192.0.2.0/24", "example.com", 80, None);
        check("example.com", "192.0.2.1", 80, None);
        check("192.0.2.1", "x.192.0.2.1", 80, None);
        // The short forms of an address are names to curl: matched as names.
        check("10.1", "10.1", 80, Some("10.1"));
        check("10.0.0.0/8", "10.1", 80, None);
        // Entries that are none of these match nothing.
        check("[::1", "[::1]", 80, None);
        check("a*b.com", "a.b.com", 80, None);
        check(".", host, 80, None);
    }

    #[test]
    fn entries_are_shown_as_written() {
        assert_eq!(
            NoProxy::parse(" a.com ,, .b.com,10.0.0.0/8 ").to_string(),
            "a.com,.b.com,10.0.0.0/8"
        );
    }
}
