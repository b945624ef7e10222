//! The `spin-*` headers that Spin adds to a request for its component.

use std::net::SocketAddr;

use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};

use crate::routes::Match;

/// Adds the headers Spin gives a component, and an absolute URI.
pub fn with_spin_headers(
    request: hyper::Request<Incoming>,
    matched: &Match<'_>,
    client: SocketAddr,
) -> anyhow::Result<hyper::Request<Incoming>> {
    let (mut parts, body) = request.into_parts();
    let authority = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let full_url = format!("http://{authority}{path_and_query}");
    parts.uri = full_url.parse()?;
    let mut headers = vec![
        ("spin-full-url".to_owned(), full_url),
        ("spin-path-info".to_owned(), matched.path_info.clone()),
        (
            "spin-matched-route".to_owned(),
            matched.route.raw().to_owned(),
        ),
        (
            "spin-raw-component-route".to_owned(),
            matched.route.raw().to_owned(),
        ),
        (
            "spin-component-route".to_owned(),
            matched.route.base().to_owned(),
        ),
        ("spin-base-path".to_owned(), "/".to_owned()),
        ("spin-client-addr".to_owned(), client.to_string()),
    ];
    for (name, value) in &matched.params {
        headers.push((
            format!("spin-path-match-{}", name.replace('_', "-")),
            value.clone(),
        ));
    }
    for (name, value) in headers {
        parts
            .headers
            .insert(HeaderName::try_from(name)?, HeaderValue::try_from(value)?);
    }
    Ok(hyper::Request::from_parts(parts, body))
}
