//! The instance's address: parsed and checked once, asked whether it is this machine, and
//! joined with an endpoint's path into a request URL.

use std::fmt;
use std::net::IpAddr;

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

    /// Whether the host is `localhost` or a loopback address: plain HTTP is allowed there,
    /// and no proxy is used.
    pub fn is_loopback(&self) -> bool {
        let (_, rest) = self.text.split_once("://").unwrap_or(("", &self.text));
        let host = match rest.strip_prefix('[') {
            Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
            None => rest.split(':').next().unwrap_or(""),
        };
        host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The URL a request to `endpoint` goes to.
    pub fn request_url(&self, endpoint: &Endpoint) -> String {
        format!("{}{}", self.text, endpoint.path())
    }
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
    fn loopback_is_localhost_or_a_loopback_address() -> Result<(), InvalidUrl> {
        for (text, loopback) in [
            ("http://127.0.0.1:8080", true),
            ("http://127.1.2.3", true),
            ("http://localhost:1", true),
            ("https://LOCALHOST", true),
            ("http://[::1]:80/", true),
            ("http://localhost.example.com", false),
            ("http://127.0.0.1.example.com", false),
            ("https://[::2]", false),
            ("https://acme.zitadel.cloud", false),
        ] {
            assert_eq!(InstanceUrl::parse(text)?.is_loopback(), loopback, "{text}");
        }
        Ok(())
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
        Ok(())
    }
}
