//! Outbound HTTP: which URLs a component may call (`allowed_outbound_hosts`),
//! and a pool of kept-alive connections to send plain-HTTP requests on.
//!
//! Patterns are `scheme://host[:port]`, where the scheme may be `*`, the host
//! `*` or `*.example.com`, and the port `*`; a pattern without a port means the
//! scheme's default port, as in Spin.

use std::time::Duration;

use anyhow::{Context, bail};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use wasmtime_wasi_http::p2::HttpResult;
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p2::default_send_request;
use wasmtime_wasi_http::p2::types::{
    HostFutureIncomingResponse, IncomingResponse, OutgoingRequestConfig,
};

/// The longest a component's request waits for a connection, for the first
/// byte of its answer, or between two bytes, whatever it asked for: a call to
/// a server that hangs (a user's webhook) ends in time, and its instance with
/// it. wasmtime-wasi-http's defaults are ten minutes.
pub const MOST_WAIT: Duration = Duration::from_secs(30);

/// Sends a component's request if `allowed` lets it out: plain HTTP through
/// `pool`, TLS through wasmtime-wasi-http's own client.
pub fn send(
    allowed: &AllowedHosts,
    pool: &Pool,
    request: hyper::Request<HyperOutgoingBody>,
    config: OutgoingRequestConfig,
) -> HttpResult<HostFutureIncomingResponse> {
    let config = OutgoingRequestConfig {
        connect_timeout: config.connect_timeout.min(MOST_WAIT),
        first_byte_timeout: config.first_byte_timeout.min(MOST_WAIT),
        between_bytes_timeout: config.between_bytes_timeout.min(MOST_WAIT),
        ..config
    };
    let uri = request.uri();
    let scheme = uri
        .scheme_str()
        .unwrap_or(if config.use_tls { "https" } else { "http" });
    let host = uri.host().unwrap_or_default();
    if !allowed.allows(scheme, host, uri.port_u16()) {
        return Err(ErrorCode::HttpRequestDenied.into());
    }
    if config.use_tls {
        return Ok(default_send_request(request, config));
    }
    Ok(pool.send(request, &config))
}

/// Plain-HTTP requests over kept-alive connections. Components call their
/// sidecar several times per request; wasmtime-wasi-http's default client
/// opens a new connection for each call.
#[derive(Debug, Clone)]
pub struct Pool(Client<HttpConnector, HyperOutgoingBody>);

impl Default for Pool {
    fn default() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Self(client)
    }
}

impl Pool {
    /// Sends a plain-HTTP request (the caller has checked it is allowed).
    pub fn send(
        &self,
        request: hyper::Request<HyperOutgoingBody>,
        config: &OutgoingRequestConfig,
    ) -> HostFutureIncomingResponse {
        let (client, first_byte, between_bytes) = (
            self.0.clone(),
            config.first_byte_timeout,
            config.between_bytes_timeout,
        );
        let handle = wasmtime_wasi::runtime::spawn(async move {
            let answer = match tokio::time::timeout(first_byte, client.request(request)).await {
                Err(_) => Err(ErrorCode::ConnectionReadTimeout),
                Ok(Err(err)) if err.is_connect() => Err(ErrorCode::ConnectionRefused),
                Ok(Err(err)) => Err(ErrorCode::InternalError(Some(err.to_string()))),
                Ok(Ok(response)) => Ok(IncomingResponse {
                    resp: response.map(|body| {
                        body.map_err(wasmtime_wasi_http::p2::hyper_response_error)
                            .boxed_unsync()
                    }),
                    worker: None,
                    between_bytes_timeout: between_bytes,
                }),
            };
            Ok(answer)
        });
        HostFutureIncomingResponse::pending(handle)
    }
}

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

/// The `allowed_outbound_hosts` patterns of a component; the default allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts(Vec<Pattern>);

impl AllowedHosts {
    /// Parses `scheme://host[:port]` patterns; an error names the entry at fault.
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
        "postgres" => Some(5432),
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
