//! The network beneath the client: which proxy requests go through (chosen from the proxy
//! variables, read once by the command line), how host names are resolved, and how
//! connections are made.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use super::deadline::{Bounded, Deadline};
use super::no_proxy::NoProxy;
use super::url::{InstanceUrl, host_address, is_localhost};

/// The proxy variables ureq honours, in its order of preference: the first one set is used.
pub const PROXY_VARIABLES: [&str; 6] =
    ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];
/// The variables that list hosts reached without a proxy; the first one set and not empty
/// counts, as in Go's tools.
const NO_PROXY_VARIABLES: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// The proxy schemes this build speaks, as the messages list them. A proxy URL without a
/// scheme is an HTTP proxy.
const SUPPORTED_SCHEMES: &str = "http:// and https://";

/// What the environment says about proxies, read once when the command line is parsed.
#[derive(Clone, Default)]
pub struct ProxyEnv {
    /// The first proxy variable set, and the proxy it names.
    proxy: Option<(&'static str, ureq::Proxy)>,
    /// `NO_PROXY`, and the variable it came from.
    no_proxy: Option<(&'static str, NoProxy)>,
}

/// A proxy variable the environment sets to something unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadProxyVariable {
    NotUtf8(&'static str),
    NotAProxyUrl(&'static str),
    /// A proxy of a kind this build cannot speak, such as SOCKS. Passing over it would
    /// send the traffic, and the name lookups, around the proxy the user asked for.
    Unsupported {
        variable: &'static str,
        scheme: &'static str,
    },
}

impl fmt::Display for BadProxyVariable {
    /// Names the variable, never its value: a proxy URL may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadProxyVariable::NotUtf8(variable) => write!(f, "{variable} is not valid UTF-8"),
            BadProxyVariable::NotAProxyUrl(variable) => write!(
                f,
                "{variable} is not a valid proxy URL such as http://proxy.example.com:3128"
            ),
            BadProxyVariable::Unsupported { variable, scheme } => write!(
                f,
                "{variable} names a {scheme} proxy, which baton-zitadel cannot use: the proxy schemes it supports are {SUPPORTED_SCHEMES}"
            ),
        }
    }
}

/// The scheme of a proxy this build cannot speak, as users write it.
fn unsupported_scheme(protocol: ureq::ProxyProtocol) -> Option<&'static str> {
    match protocol {
        ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https => None,
        ureq::ProxyProtocol::Socks4 => Some("socks4://"),
        ureq::ProxyProtocol::Socks4A => Some("socks4a://"),
        ureq::ProxyProtocol::Socks5 => Some("socks5://"),
        ureq::ProxyProtocol::Socks5h => Some("socks5h://"),
        _ => Some("non-HTTP"),
    }
}

impl ProxyEnv {
    /// Reads the proxy variables through `env`, as ureq would read them from the process's
    /// environment, except that every proxy variable set must be valid and name a proxy
    /// this build speaks: one that does not is a mistake to report, not a variable to pass
    /// over. An empty variable counts as unset.
    pub fn read(env: impl Fn(&str) -> Option<OsString>) -> Result<ProxyEnv, BadProxyVariable> {
        let mut proxy = None;
        for variable in PROXY_VARIABLES {
            let Some(value) = env(variable).filter(|value| !value.is_empty()) else {
                continue;
            };
            let value = value.into_string().map_err(|_| BadProxyVariable::NotUtf8(variable))?;
            let named =
                ureq::Proxy::new(&value).map_err(|_| BadProxyVariable::NotAProxyUrl(variable))?;
            if let Some(scheme) = unsupported_scheme(named.protocol()) {
                return Err(BadProxyVariable::Unsupported { variable, scheme });
            }
            proxy.get_or_insert((variable, named));
        }
        let mut no_proxy = None;
        for variable in NO_PROXY_VARIABLES {
            let Some(value) = env(variable).filter(|value| !value.is_empty()) else {
                continue;
            };
            let value = value.into_string().map_err(|_| BadProxyVariable::NotUtf8(variable))?;
            no_proxy.get_or_insert((variable, NoProxy::parse(&value)));
        }
        Ok(ProxyEnv { proxy, no_proxy })
    }

    /// How requests to `url` go: through the proxy the environment names, unless the host
    /// is this machine or `NO_PROXY` exempts it; with the rule that decided, for the debug
    /// log. A loopback address through a proxy would name the proxy's machine instead,
    /// with the PAT in clear text on the way for `http://`.
    pub fn route(&self, url: &InstanceUrl) -> Route {
        let direct = |why: String| Route { proxy: None, why: format!("directly: {why}") };
        if url.is_loopback() {
            return direct(format!("{} is this machine", url.host()));
        }
        let Some((variable, proxy)) = self.proxy.clone() else {
            return direct(format!("no proxy variable is set ({})", PROXY_VARIABLES.join(", ")));
        };
        let in_use = ProxyInUse { proxy, variable };
        let why = match &self.no_proxy {
            Some((list, no_proxy)) => match no_proxy.exempting(url.host(), url.port()) {
                Some(entry) => {
                    return direct(format!(
                        "{list} entry {entry:?} matches {}:{}",
                        url.host(),
                        url.port()
                    ));
                }
                None => {
                    format!("no entry of {list} ({no_proxy}) matches {}:{}", url.host(), url.port())
                }
            },
            None => "NO_PROXY is not set".to_string(),
        };
        Route { why: format!("through the proxy {in_use}: {why}"), proxy: Some(in_use) }
    }
}

/// How requests go: the proxy, if any, and why.
#[derive(Debug)]
pub struct Route {
    pub proxy: Option<ProxyInUse>,
    /// The rule that chose the proxy or no proxy, as a sentence after "connecting".
    pub why: String,
}

impl fmt::Debug for ProxyEnv {
    /// The variable only: a proxy URL may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyEnv")
            .field("proxy", &self.proxy.as_ref().map(|(variable, _)| variable))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// The proxy requests go through, and the variable that named it.
#[derive(Debug, Clone)]
pub struct ProxyInUse {
    pub proxy: ureq::Proxy,
    pub variable: &'static str,
}

impl fmt::Display for ProxyInUse {
    /// Host and port only: a proxy URL may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} ({})", self.proxy.host(), self.proxy.port(), self.variable)
    }
}

/// How the agent connects: through an HTTP proxy's tunnel when there is one, over TCP,
/// beneath the attempt's `deadline`, with TLS for `https://`. This is ureq's default chain
/// without its check for SOCKS proxies, which this build cannot speak and `ProxyEnv`
/// refuses, and with the deadline beneath everything that reads, the CONNECT exchange and
/// the TLS handshake included.
pub fn connector(deadline: Deadline) -> impl ureq::unversioned::transport::Connector {
    use ureq::unversioned::transport::{
        ConnectProxyConnector, Connector, RustlsConnector, TcpConnector,
    };
    ().chain(ConnectProxyConnector::default())
        .chain(TcpConnector::default())
        .chain(Bounded(deadline))
        .chain(RustlsConnector::default())
}

/// Resolves host names for the agent. An IP address, in any form the system resolver
/// reads as one, needs no lookup; a name is looked up by
/// ureq's resolver, which bounds it by what is left of `--timeout` with a thread per lookup
/// (0.7 % more instructions than an IP address on the small benchmark organization). ureq's
/// resolver alone starts that thread for an IP address too, which cost a sixth of the CPU
/// of a large sync, and reports a failed lookup as any I/O error, so that a name that does
/// not exist would be retried like a dropped connection. The resolver interface is outside
/// ureq's semver promise; `Cargo.lock` pins the version it was written against.
#[derive(Debug)]
pub struct Lookup;

impl ureq::unversioned::resolver::Resolver for Lookup {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let mut addrs = self.empty();
        // The address the host names by itself, read as the system resolver would read it,
        // so that the address connected to is the one `InstanceUrl::is_loopback` judged.
        if let Some(ip) = host_address(host) {
            addrs.push(SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        // `localhost` is this machine whatever DNS says (RFC 6761): plain HTTP is allowed
        // to it, so a resolver that sent `localhost.` elsewhere would receive the PAT.
        if is_localhost(host) {
            addrs.push(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port));
            addrs.push(SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port));
            return Ok(addrs);
        }
        let resolver = ureq::unversioned::resolver::DefaultResolver::default();
        resolver.resolve(uri, config, timeout).map_err(|err| match err {
            ureq::Error::Io(io) => ureq::Error::Io(io::Error::other(LookupFailed {
                host: host.to_string(),
                temporary: is_temporary_lookup_failure(&io),
                detail: io.to_string(),
            })),
            other => other,
        })
    }
}

/// A host name the system resolver could not turn into an address.
#[derive(Debug)]
pub struct LookupFailed {
    pub host: String,
    /// Whether another attempt may succeed.
    pub temporary: bool,
    pub detail: String,
}

impl fmt::Display for LookupFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot resolve {}: {}", self.host, self.detail)
    }
}

impl std::error::Error for LookupFailed {}

/// Whether a failed lookup may succeed later: the resolver could not be reached or said
/// "try again" (`EAI_AGAIN`), or a system call failed (`EAI_SYSTEM`, which std reports as an
/// OS error). Any other answer, such as "Name or service not known", is final. std keeps
/// only the C library's text for the code, so that text is what is compared.
fn is_temporary_lookup_failure(err: &io::Error) -> bool {
    if err.raw_os_error().is_some() {
        return true;
    }
    unsafe extern "C" {
        fn gai_strerror(code: std::ffi::c_int) -> *const std::ffi::c_char;
    }
    /// `EAI_AGAIN` in glibc and musl.
    const EAI_AGAIN: std::ffi::c_int = -3;
    // SAFETY: gai_strerror returns a pointer to a static C string for any code.
    let again = unsafe { std::ffi::CStr::from_ptr(gai_strerror(EAI_AGAIN)) };
    err.to_string().ends_with(&*again.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `vars` as the whole environment.
    fn read(vars: &[(&str, &str)]) -> Result<ProxyEnv, BadProxyVariable> {
        ProxyEnv::read(|name| {
            vars.iter().find(|(var, _)| *var == name).map(|(_, value)| OsString::from(value))
        })
    }

    /// The proxy for `url` as messages show it, or "direct".
    fn chosen(env: &ProxyEnv, url: &str) -> String {
        let url = InstanceUrl::parse(url).expect("a valid URL");
        env.route(&url).proxy.map_or("direct".into(), |proxy| proxy.to_string())
    }

    #[test]
    fn the_first_proxy_variable_set_is_used_and_every_one_must_be_usable() {
        let remote = "https://acme.example.com";
        let check = |vars: &[(&str, &str)], expected: Result<&str, BadProxyVariable>| {
            let got = read(vars).map(|env| chosen(&env, remote));
            assert_eq!(got.as_deref().map_err(|bad| *bad), expected, "{vars:?}");
        };
        check(&[], Ok("direct"));
        check(&[("HTTPS_PROXY", "http://proxy:3128")], Ok("proxy:3128 (HTTPS_PROXY)"));
        check(&[("HTTPS_PROXY", "https://proxy")], Ok("proxy:443 (HTTPS_PROXY)"));
        check(&[("http_proxy", "proxy")], Ok("proxy:80 (http_proxy)"));
        check(
            &[("HTTP_PROXY", "http://b:1"), ("ALL_PROXY", "http://a:1"), ("https_proxy", "c")],
            Ok("a:1 (ALL_PROXY)"),
        );
        check(&[("ALL_PROXY", ""), ("HTTPS_PROXY", "http://p:1")], Ok("p:1 (HTTPS_PROXY)"));
        check(
            &[("ALL_PROXY", "http://p:1"), ("HTTPS_PROXY", "http://user:pw@bad host")],
            Err(BadProxyVariable::NotAProxyUrl("HTTPS_PROXY")),
        );
        check(&[("all_proxy", "ftp://p")], Err(BadProxyVariable::NotAProxyUrl("all_proxy")));
        // A proxy this build cannot speak, even beside one it can.
        let unsupported = |variable, scheme| BadProxyVariable::Unsupported { variable, scheme };
        for (value, scheme) in [
            ("socks5://127.0.0.1:1080", "socks5://"),
            ("socks://p", "socks5://"),
            ("SOCKS5H://user:pw@p", "socks5h://"),
            ("socks4://p", "socks4://"),
            ("socks4a://p", "socks4a://"),
        ] {
            check(&[("ALL_PROXY", value)], Err(unsupported("ALL_PROXY", scheme)));
            check(
                &[("HTTPS_PROXY", "http://p:1"), ("http_proxy", value)],
                Err(unsupported("http_proxy", scheme)),
            );
        }
        let message = unsupported("ALL_PROXY", "socks5://").to_string();
        assert_eq!(
            message,
            "ALL_PROXY names a socks5:// proxy, which baton-zitadel cannot use: the proxy schemes it supports are http:// and https://"
        );
        let not_utf8 = |variable: &'static str| {
            ProxyEnv::read(|name| {
                (name == variable).then(|| std::os::unix::ffi::OsStringExt::from_vec(vec![0xff]))
            })
            .err()
        };
        assert_eq!(not_utf8("https_proxy"), Some(BadProxyVariable::NotUtf8("https_proxy")));
        assert_eq!(not_utf8("no_proxy"), Some(BadProxyVariable::NotUtf8("no_proxy")));
    }

    #[test]
    fn loopback_and_no_proxy_hosts_are_reached_directly() -> Result<(), BadProxyVariable> {
        let proxy = ("HTTPS_PROXY", "http://user:secret@proxy:3128");
        let through = "proxy:3128 (HTTPS_PROXY)";
        let check = |no_proxy: &[(&str, &str)], url: &str, expected: &str| {
            let vars: Vec<_> = [proxy].iter().chain(no_proxy).copied().collect();
            let env = read(&vars).expect("valid variables");
            assert_eq!(chosen(&env, url), expected, "{no_proxy:?} {url}");
        };
        check(&[], "https://acme.example.com", through);
        for url in [
            "http://127.0.0.1:8080",
            "https://localhost",
            "https://localhost.",
            "http://[::1]:80",
            "http://[::ffff:127.0.0.1]:80",
            "http://0.0.0.0:80",
            "http://[::]:80",
            "http://127.1:80",
        ] {
            check(&[], url, "direct");
        }
        check(&[("NO_PROXY", "*")], "https://acme.example.com", "direct");
        check(&[("NO_PROXY", ".example.com")], "https://acme.example.com", "direct");
        check(&[("NO_PROXY", "*example.com")], "https://acme.EXAMPLE.com", "direct");
        check(&[("NO_PROXY", ".example.com")], "https://example.com", "direct");
        check(&[("no_proxy", "other,ACME.example.com")], "https://acme.example.com", "direct");
        check(&[("NO_PROXY", "other, acme.example.com")], "https://acme.example.com", "direct");
        check(&[("NO_PROXY", "acme.example.com:8443")], "https://acme.example.com", through);
        check(&[("NO_PROXY", "acme.example.com:8443")], "https://acme.example.com:8443", "direct");
        check(&[("NO_PROXY", "192.0.2.0/24")], "https://192.0.2.7", "direct");
        check(&[("NO_PROXY", "acme")], "https://acme.example.com", through);
        // The first variable set and not empty counts.
        check(&[("NO_PROXY", ""), ("no_proxy", "*")], "https://acme.example.com", "direct");
        check(&[("NO_PROXY", "other"), ("no_proxy", "*")], "https://acme.example.com", through);
        let vars = [proxy, ("NO_PROXY", "*")];
        assert!(!format!("{:?}", read(&vars)?).contains("secret"));
        Ok(())
    }

    #[test]
    fn the_route_says_which_rule_chose_it() -> Result<(), BadProxyVariable> {
        let check = |vars: &[(&str, &str)], url: &str, expected: &str| {
            let env = read(vars).expect("valid variables");
            let url = InstanceUrl::parse(url).expect("a valid URL");
            assert_eq!(env.route(&url).why, expected, "{vars:?}");
        };
        let proxy = ("HTTPS_PROXY", "http://user:secret@proxy:3128");
        let remote = "https://acme.example.com";
        check(
            &[],
            remote,
            "directly: no proxy variable is set (ALL_PROXY, all_proxy, HTTPS_PROXY, https_proxy, HTTP_PROXY, http_proxy)",
        );
        check(&[proxy], "http://127.1:8080", "directly: 127.1 is this machine");
        check(
            &[proxy, ("no_proxy", "a.com, .example.com")],
            remote,
            "directly: no_proxy entry \".example.com\" matches acme.example.com:443",
        );
        check(
            &[proxy, ("NO_PROXY", " a.com, ,b.com")],
            remote,
            "through the proxy proxy:3128 (HTTPS_PROXY): no entry of NO_PROXY (a.com,b.com) matches acme.example.com:443",
        );
        check(&[proxy], remote, "through the proxy proxy:3128 (HTTPS_PROXY): NO_PROXY is not set");
        Ok(())
    }

    #[test]
    fn only_lookups_that_may_pass_later_are_temporary() {
        let said =
            |text: &str| io::Error::other(format!("failed to lookup address information: {text}"));
        assert!(is_temporary_lookup_failure(&said("Temporary failure in name resolution")));
        assert!(is_temporary_lookup_failure(&io::Error::from_raw_os_error(24)), "EMFILE");
        assert!(!is_temporary_lookup_failure(&said("Name or service not known")));
        assert!(!is_temporary_lookup_failure(&said("No address associated with hostname")));
    }
}
