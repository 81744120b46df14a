//! The network beneath the client: which proxy requests go through (chosen from the proxy
//! variables, read once by the command line), how host names are resolved, and how
//! connections are made.

use std::ffi::OsString;
use std::fmt;
use std::io;

use super::InstanceUrl;

/// The proxy variables ureq honours, in its order of preference: the first one set is used.
pub const PROXY_VARIABLES: [&str; 6] =
    ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];
/// The variables that list hosts reached without a proxy; the first one set counts.
const NO_PROXY_VARIABLES: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// What the environment says about proxies, read once when the command line is parsed.
#[derive(Clone, Default)]
pub struct ProxyEnv {
    /// The first proxy variable set, and the proxy it names.
    proxy: Option<(&'static str, ureq::Proxy)>,
    /// The entries of `NO_PROXY`, as ureq reads them.
    no_proxy: Vec<NoProxyEntry>,
}

/// A proxy variable the environment sets to something unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadProxyVariable {
    NotUtf8(&'static str),
    NotAProxyUrl(&'static str),
}

impl ProxyEnv {
    /// Reads the proxy variables through `env`, as ureq would read them from the process's
    /// environment, except that every proxy variable set must be valid: one that is not is
    /// a mistake to report, not a variable to pass over. An empty variable counts as unset.
    pub fn read(env: impl Fn(&str) -> Option<OsString>) -> Result<ProxyEnv, BadProxyVariable> {
        let mut proxy = None;
        for variable in PROXY_VARIABLES {
            let Some(value) = env(variable).filter(|value| !value.is_empty()) else {
                continue;
            };
            let value = value.into_string().map_err(|_| BadProxyVariable::NotUtf8(variable))?;
            let named =
                ureq::Proxy::new(&value).map_err(|_| BadProxyVariable::NotAProxyUrl(variable))?;
            proxy.get_or_insert((variable, named));
        }
        // As ureq does: the first variable set counts, even when empty, and one that is not
        // UTF-8 counts as unset.
        let no_proxy = NO_PROXY_VARIABLES
            .into_iter()
            .find_map(|variable| env(variable)?.into_string().ok())
            .map_or_else(Vec::new, |list| list.split(',').map(NoProxyEntry::parse).collect());
        Ok(ProxyEnv { proxy, no_proxy })
    }

    /// The proxy for requests to `url`: the one the environment names, unless `NO_PROXY`
    /// exempts the host or the host is loopback. A loopback address means this machine, and
    /// through a proxy it would mean the proxy's machine instead, with the PAT in clear text
    /// on the way for `http://`.
    pub fn proxy_for(&self, url: &InstanceUrl) -> Option<ProxyInUse> {
        if url.is_loopback() {
            return None;
        }
        let (variable, proxy) = self.proxy.clone()?;
        if self.no_proxy.iter().any(|entry| entry.matches(url.host())) {
            return None;
        }
        Some(ProxyInUse { proxy, variable })
    }
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

/// One entry of `NO_PROXY`, read and matched exactly as ureq does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NoProxyEntry {
    Everything,
    Host(String),
    Prefix(String),
    Suffix(String),
}

impl NoProxyEntry {
    fn parse(entry: &str) -> NoProxyEntry {
        match entry {
            "*" => NoProxyEntry::Everything,
            _ if entry.starts_with('*') => NoProxyEntry::Suffix(entry[1..].to_ascii_lowercase()),
            _ if entry.starts_with('.') => NoProxyEntry::Suffix(entry.to_ascii_lowercase()),
            _ if entry.ends_with('*') => {
                NoProxyEntry::Prefix(entry[..entry.len() - 1].to_ascii_lowercase())
            }
            _ if entry.ends_with('.') => NoProxyEntry::Prefix(entry.to_ascii_lowercase()),
            _ => NoProxyEntry::Host(entry.to_ascii_lowercase()),
        }
    }

    fn matches(&self, host: &str) -> bool {
        let host = host.as_bytes();
        match self {
            NoProxyEntry::Everything => true,
            NoProxyEntry::Host(name) => host.eq_ignore_ascii_case(name.as_bytes()),
            NoProxyEntry::Prefix(prefix) => {
                host.len() >= prefix.len()
                    && host[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
            }
            NoProxyEntry::Suffix(suffix) => {
                host.len() >= suffix.len()
                    && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
            }
        }
    }
}

/// How the agent connects: through an HTTP proxy's tunnel when there is one, over TCP, with
/// TLS for `https://`. This is ureq's default chain without its check for SOCKS proxies,
/// which this build cannot speak: ureq passes over a SOCKS proxy it read from the
/// environment itself, but would panic on one handed to it, as `ProxyEnv` does.
pub fn connector() -> impl ureq::unversioned::transport::Connector {
    use ureq::unversioned::transport::{
        ConnectProxyConnector, Connector, RustlsConnector, TcpConnector,
    };
    ().chain(ConnectProxyConnector::default())
        .chain(TcpConnector::default())
        .chain(RustlsConnector::default())
}

/// Resolves host names for the agent. An IP address needs no lookup; a name is looked up by
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
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<std::net::IpAddr>() {
            let https = uri.scheme_str() == Some("https");
            let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            let mut addrs = self.empty();
            addrs.push(std::net::SocketAddr::new(ip, port));
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
        env.proxy_for(&url).map_or("direct".into(), |proxy| proxy.to_string())
    }

    #[test]
    fn the_first_proxy_variable_set_is_used_and_every_one_must_be_valid() {
        let remote = "https://acme.example.com";
        let check = |vars: &[(&str, &str)], expected: Result<&str, BadProxyVariable>| {
            let got = read(vars).map(|env| chosen(&env, remote));
            assert_eq!(got.as_deref().map_err(|bad| *bad), expected, "{vars:?}");
        };
        check(&[], Ok("direct"));
        check(&[("HTTPS_PROXY", "http://proxy:3128")], Ok("proxy:3128 (HTTPS_PROXY)"));
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
        let not_utf8 = ProxyEnv::read(|name| {
            (name == "https_proxy").then(|| std::os::unix::ffi::OsStringExt::from_vec(vec![0xff]))
        });
        assert_eq!(not_utf8.err(), Some(BadProxyVariable::NotUtf8("https_proxy")));
    }

    #[test]
    fn loopback_and_no_proxy_hosts_are_reached_directly() -> Result<(), BadProxyVariable> {
        let proxy = ("HTTPS_PROXY", "http://user:secret@proxy:3128");
        let through = "proxy:3128 (HTTPS_PROXY)";
        let check = |no_proxy: Option<(&str, &str)>, url: &str, expected: &str| {
            let vars: Vec<_> = [Some(proxy), no_proxy].into_iter().flatten().collect();
            let env = read(&vars).expect("valid variables");
            assert_eq!(chosen(&env, url), expected, "{no_proxy:?} {url}");
        };
        check(None, "https://acme.example.com", through);
        check(None, "http://127.0.0.1:8080", "direct");
        check(None, "https://localhost", "direct");
        check(None, "http://[::1]:80", "direct");
        check(Some(("NO_PROXY", "*")), "https://acme.example.com", "direct");
        check(Some(("NO_PROXY", ".example.com")), "https://acme.example.com", "direct");
        check(Some(("NO_PROXY", "*example.com")), "https://acme.EXAMPLE.com", "direct");
        check(Some(("NO_PROXY", ".example.com")), "https://example.com", through);
        check(Some(("no_proxy", "other,ACME.example.com")), "https://acme.example.com", "direct");
        check(Some(("NO_PROXY", "acme.")), "https://acme.example.com", "direct");
        check(Some(("NO_PROXY", "acme*")), "https://acme.example.com", "direct");
        check(Some(("NO_PROXY", "acme")), "https://acme.example.com", through);
        check(Some(("NO_PROXY", " acme.example.com")), "https://acme.example.com", through);
        // The first variable set counts, even empty.
        let vars = [proxy, ("NO_PROXY", ""), ("no_proxy", "*")];
        assert_eq!(chosen(&read(&vars)?, "https://acme.example.com"), through);
        assert!(!format!("{:?}", read(&vars)?).contains("secret"));
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
