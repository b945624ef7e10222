//! `allowed_outbound_hosts`: which URLs a component may call.
//!
//! Patterns are `scheme://host[:port]`, where the scheme may be `*`, the host
//! `*` or `*.example.com`, and the port `*`; a pattern without a port means the
//! scheme's default port, as in Spin.

use anyhow::{Context, bail};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Port {
    Any,
    Is(u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    scheme: Option<String>,
    host: String,
    port: Port,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts(Vec<Pattern>);

impl AllowedHosts {
    pub fn parse(patterns: &[String]) -> anyhow::Result<Self> {
        patterns
            .iter()
            .map(|p| parse_one(p).with_context(|| format!("allowed_outbound_hosts entry {p:?}")))
            .collect::<anyhow::Result<_>>()
            .map(Self)
    }

    /// Whether a request to `scheme://host:port` may go out.
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let Some(port) = port.or_else(|| default_port(scheme)) else {
            return false;
        };
        self.0.iter().any(|p| {
            p.scheme
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case(scheme))
                && host_matches(&p.host, host)
                && (p.port == Port::Any || p.port == Port::Is(port))
        })
    }
}

fn parse_one(pattern: &str) -> anyhow::Result<Pattern> {
    let (scheme, rest) = pattern
        .split_once("://")
        .context("write it as scheme://host[:port]")?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, "*")) => (host, Port::Any),
        Some((host, port)) => (
            host,
            Port::Is(port.parse().context("the port must be a number or *")?),
        ),
        None => (
            rest,
            Port::Is(default_port(scheme).context("a pattern with scheme * needs a port")?),
        ),
    };
    if host.is_empty() {
        bail!("the host is missing");
    }
    let scheme = (scheme != "*").then(|| scheme.to_ascii_lowercase());
    Ok(Pattern {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
    })
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        _ if pattern == "*" => true,
        Some(domain) => host.ends_with(&format!(".{domain}")),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(patterns: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>())
            .expect("valid patterns")
    }

    #[test]
    fn hosts_ports_and_schemes_must_match() {
        let a = allowed(&["http://127.0.0.1:*", "https://api.example.com"]);
        assert!(a.allows("http", "127.0.0.1", Some(3500)));
        assert!(!a.allows("https", "127.0.0.1", Some(3500)));
        assert!(!a.allows("http", "localhost", Some(3500)));
        assert!(a.allows("https", "api.example.com", None));
        assert!(!a.allows("https", "api.example.com", Some(8443)));
        assert!(!a.allows("http", "api.example.com", None));
    }

    #[test]
    fn wildcards() {
        let a = allowed(&["*://*.example.com:8080", "http://*:*"]);
        assert!(a.allows("https", "a.example.com", Some(8080)));
        assert!(!a.allows("https", "example.com", Some(8080)));
        assert!(a.allows("http", "anything", Some(1)));
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        assert!(!AllowedHosts::default().allows("http", "127.0.0.1", Some(80)));
        assert!(AllowedHosts::parse(&["127.0.0.1:3500".into()]).is_err());
        assert!(AllowedHosts::parse(&["*://x".into()]).is_err());
    }
}
