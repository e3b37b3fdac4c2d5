//! Which upstreams a guest may call: `--allow-outbound` rules in Spin's `scheme://host:port`
//! syntax, and which addresses a rule lets a name resolve to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One `--allow-outbound` pattern: `scheme://host[:port]`.
///
/// - scheme: `http`, `https` or `*`;
/// - host: a name (`api.example.com`), an IP address (`127.0.0.1`, `[::1]`), `*` (any host)
///   or `*.example.com` (any name under `example.com`, not `example.com` itself);
/// - port: a number, `*`, or left out for the scheme's default (80, 443).
///
/// A rule that names its host (no `*`) reaches whatever that host resolves to. A wildcard
/// host only reaches public addresses: never loopback, private, link-local (cloud metadata
/// services) or other special-purpose ranges, whatever the name, so DNS cannot turn a
/// wildcard into a way to the host's own network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    text: String,
    scheme: Option<Scheme>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub(crate) fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "http" => Some(Self::Http),
            "https" => Some(Self::Https),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.example.com`, kept as `.example.com`.
    Under(String),
    /// A lower-cased name, or an IP address.
    Exact(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortPattern {
    Any,
    /// The default port of the request's scheme.
    Default,
    Exact(u16),
}

impl Rule {
    /// Parses a pattern; the error says what is wrong with it.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("'{text}' is not scheme://host[:port] ({why})");
        let (scheme, rest) = text.split_once("://").ok_or_else(|| bad("no scheme://"))?;
        let scheme = match scheme {
            "*" => None,
            other => {
                Some(Scheme::parse(other).ok_or_else(|| bad("the scheme is http, https or *"))?)
            }
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(bad("a rule has no path, query or user"));
        }
        let (host, port) = split_host_port(rest).ok_or_else(|| bad("malformed host or port"))?;
        let port = match port {
            None => PortPattern::Default,
            Some("*") => PortPattern::Any,
            Some(digits) => PortPattern::Exact(
                digits
                    .parse()
                    .ok()
                    .filter(|&port| port > 0)
                    .ok_or_else(|| bad("the port is 1-65535 or *"))?,
            ),
        };
        if scheme.is_none() && port == PortPattern::Default {
            return Err(bad("with scheme *, give a port or *"));
        }
        let host = host.to_ascii_lowercase();
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(domain) = host.strip_prefix("*.") {
            if !is_name(domain) {
                return Err(bad("malformed domain after *."));
            }
            HostPattern::Under(format!(".{domain}"))
        } else if let Ok(ip) = host.parse::<IpAddr>() {
            HostPattern::Exact(ip.to_string())
        } else if is_name(&host) {
            HostPattern::Exact(host)
        } else {
            return Err(bad("malformed host"));
        };
        Ok(Self {
            text: text.to_owned(),
            scheme,
            host,
            port,
        })
    }

    /// The pattern as written, for logs.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Whether a request to `host` (lower-cased, IPv6 without brackets) on `port` over `scheme`
    /// is allowed by this rule.
    fn matches(&self, scheme: Scheme, host: &str, port: u16) -> bool {
        let scheme_ok = self.scheme.is_none_or(|allowed| allowed == scheme);
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Default => port == scheme.default_port(),
            PortPattern::Exact(allowed) => port == allowed,
        };
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Under(suffix) => {
                host.ends_with(suffix.as_str()) && host.len() > suffix.len()
            }
            HostPattern::Exact(name) => name == host,
        };
        scheme_ok && port_ok && host_ok
    }

    fn names_host(&self) -> bool {
        matches!(self.host, HostPattern::Exact(_))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `host[:port]` with `[v6]` hosts; the host is returned without brackets.
fn split_host_port(text: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        host.parse::<Ipv6Addr>().ok()?;
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        };
    }
    match text.split_once(':') {
        Some((host, port)) if !host.is_empty() && !port.contains(':') => Some((host, Some(port))),
        Some(_) => None,
        None if text.is_empty() => None,
        None => Some((text, None)),
    }
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// What the rules say of one upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict<'a> {
    /// Allowed by `rule`; `any_address`: a matching rule names the host, so it may resolve to
    /// any address; otherwise only public ones.
    Allowed { rule: &'a Rule, any_address: bool },
    /// No rule matches.
    Refused,
}

/// Checks `host` and `port` over `scheme` against every rule.
pub(crate) fn check<'a>(rules: &'a [Rule], scheme: Scheme, host: &str, port: u16) -> Verdict<'a> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    // One spelling per address: `0:0::1` is `::1`.
    let host = match host.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => host.to_ascii_lowercase(),
    };
    let mut found = None;
    for rule in rules
        .iter()
        .filter(|rule| rule.matches(scheme, &host, port))
    {
        if rule.names_host() {
            return Verdict::Allowed {
                rule,
                any_address: true,
            };
        }
        found.get_or_insert(rule);
    }
    match found {
        Some(rule) => Verdict::Allowed {
            rule,
            any_address: false,
        },
        None => Verdict::Refused,
    }
}

/// Whether `ip` is a public unicast address: none of loopback, private, link-local,
/// shared (CGNAT), unspecified, multicast, broadcast, documentation, benchmarking or reserved
/// ranges. An IPv4-mapped IPv6 address is judged as its IPv4 address.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, documentation 2001:db8::/32.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // NAT64 (64:ff9b::/96) reaches IPv4 addresses through a gateway: judge the embedded one.
        || (ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
            && !is_public_v4(Ipv4Addr::from_bits(ip.to_bits() as u32))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(texts: &[&str]) -> Vec<Rule> {
        texts.iter().map(|t| Rule::parse(t).unwrap()).collect()
    }

    #[test]
    fn parsing() {
        for ok in [
            "https://api.example.com",
            "http://127.0.0.1:9000",
            "https://*.example.com:443",
            "*://*:*",
            "http://[::1]:8080",
            "https://api.example.com/",
            "http://localhost:*",
        ] {
            Rule::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        let bad = [
            ("api.example.com", "no scheme://"),
            ("ftp://x.test", "the scheme is http, https or *"),
            ("https://x.test/path", "a rule has no path"),
            ("https://user@x.test", "a rule has no path, query or user"),
            ("https://x.test:0", "the port is 1-65535"),
            ("https://x.test:99999", "the port is 1-65535"),
            ("*://x.test", "with scheme *, give a port"),
            ("https://*.", "malformed domain"),
            ("https://ex ample.com", "malformed host"),
            ("https://", "malformed host or port"),
            ("https://[::1", "malformed host or port"),
        ];
        for (text, why) in bad {
            let error = Rule::parse(text).unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn matching() {
        let rules = rules(&[
            "https://api.example.com",
            "http://127.0.0.1:9000",
            "https://*.internal.test:*",
        ]);
        let allowed = |scheme, host, port| match check(&rules, scheme, host, port) {
            Verdict::Allowed { rule, any_address } => Some((rule.text(), any_address)),
            Verdict::Refused => None,
        };
        use Scheme::{Http, Https};
        assert_eq!(
            allowed(Https, "API.example.com", 443),
            Some(("https://api.example.com", true))
        );
        assert_eq!(allowed(Http, "api.example.com", 80), None);
        assert_eq!(allowed(Https, "api.example.com", 8443), None);
        assert_eq!(allowed(Https, "evil-api.example.com", 443), None);
        assert_eq!(
            allowed(Http, "127.0.0.1", 9000),
            Some(("http://127.0.0.1:9000", true))
        );
        assert_eq!(allowed(Http, "127.0.0.1", 9001), None);
        assert_eq!(
            allowed(Https, "a.b.internal.test", 8443),
            Some(("https://*.internal.test:*", false))
        );
        assert_eq!(allowed(Https, "internal.test", 443), None);
        assert_eq!(check(&[], Https, "api.example.com", 443), Verdict::Refused);
        let v6 = super::tests::rules(&["http://[::1]:8080"]);
        assert!(matches!(
            check(&v6, Http, "0:0:0:0:0:0:0:1", 8080),
            Verdict::Allowed {
                any_address: true,
                ..
            }
        ));
    }

    #[test]
    fn a_rule_naming_the_host_wins_over_a_wildcard() {
        let rules = rules(&["http://*:9000", "http://localhost:9000"]);
        assert!(matches!(
            check(&rules, Scheme::Http, "localhost", 9000),
            Verdict::Allowed {
                any_address: true,
                ..
            }
        ));
        assert!(matches!(
            check(&rules, Scheme::Http, "other.test", 9000),
            Verdict::Allowed {
                any_address: false,
                ..
            }
        ));
    }

    #[test]
    fn public_addresses() {
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for special in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
        ] {
            assert!(!is_public(special.parse().unwrap()), "{special}");
        }
    }
}
