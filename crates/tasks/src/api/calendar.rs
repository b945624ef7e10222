//! `/api/{user_id}/settings/calendar-feed`: the user's calendar feed
//! address, made (shown once), rotated by making another, and revoked; and
//! `/ical/{token}.ics`, the feed itself, whose token is its only credential
//! (ADR 25).

use chrono::{DateTime, Utc};
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use serde::Serialize;

use super::edge::{ApiError, json, no_content};
use crate::UserId;
use crate::calendar;
use crate::service::Env;
use crate::task::store::Storage;

/// The address as answered: its URL only in the answer that made it.
#[derive(Serialize)]
struct Address {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    made_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// Answers `/api/{user_id}/settings/calendar-feed` for `user`: `GET` says
/// whether there is an address, `POST` makes a new one (the old one stops
/// working), `DELETE` revokes it.
pub(super) fn address(
    storage: &Storage,
    user: &UserId,
    request: &http::Request<Vec<u8>>,
    env: &Env,
) -> Result<http::Response<Vec<u8>>, ApiError> {
    let method = request.method();
    match *method {
        Method::GET => {
            let made_at = calendar::made_at(storage, user)?;
            let active = made_at.is_some();
            let url = None;
            Ok(json(
                StatusCode::OK,
                &Address {
                    active,
                    made_at,
                    url,
                },
            ))
        }
        Method::POST => {
            let made = calendar::make(storage, user, env.random, env.seed(), env.now)?;
            let path = calendar::path(&made.token);
            let address = Address {
                active: true,
                made_at: Some(made.made_at),
                url: Some(format!("{}{path}", origin(request))),
            };
            let mut response = json(StatusCode::CREATED, &address);
            // The answer holds a credential.
            (response.headers_mut())
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Method::DELETE => {
            calendar::revoke(storage, user)?;
            Ok(no_content())
        }
        _ => Err(ApiError::MethodNotAllowed(
            method.clone(),
            "GET, POST, DELETE",
        )),
    }
}

/// Where the app was reached, as the host says (`spin-full-url`), such as
/// `https://todo.example.com`: the scheme an ingress in front says it was
/// reached by (`X-Forwarded-Proto`) when it says; empty when the host does
/// not say.
fn origin(request: &http::Request<Vec<u8>>) -> String {
    let header = |name: &str| (request.headers().get(name)).and_then(|value| value.to_str().ok());
    let Some(mut url) = header("spin-full-url").and_then(|full| url::Url::parse(full).ok()) else {
        return String::new();
    };
    if let Some(scheme) = header("x-forwarded-proto").filter(|s| matches!(*s, "http" | "https")) {
        let _ = url.set_scheme(scheme);
    }
    let origin = url.origin().ascii_serialization();
    if origin == "null" {
        String::new()
    } else {
        origin
    }
}

/// Answers `GET /ical/{file}`: the feed when `file` is `{token}.ics` of a
/// feed, `304` when the caller's copy is current, `404` otherwise (an
/// unknown, rotated or revoked token alike).
pub(super) fn feed(
    storage: &Storage,
    file: &str,
    request: &http::Request<Vec<u8>>,
) -> Result<http::Response<Vec<u8>>, ApiError> {
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::MethodNotAllowed(method.clone(), "GET, HEAD"));
    }
    let token = (file.strip_suffix(".ics"))
        .filter(|token| token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()));
    let Some(feed) = token
        .map(|token| calendar::read(storage, token))
        .transpose()?
        .flatten()
    else {
        return Err(ApiError::NotFound("calendar feed"));
    };
    let last_modified = feed
        .last_modified
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let current = fresh(request, &feed.etag, feed.last_modified);
    let (status, body) = match (current, method == Method::HEAD) {
        (true, _) => (StatusCode::NOT_MODIFIED, Vec::new()),
        (false, true) => (StatusCode::OK, Vec::new()),
        (false, false) => (StatusCode::OK, feed.body.into_bytes()),
    };
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    for (name, value) in [
        (header::ETAG, feed.etag),
        (header::LAST_MODIFIED, last_modified),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    Ok(response)
}

/// Whether the caller's copy is current (RFC 9110, 13.2.2): its
/// `If-None-Match` names `etag`; without one, its `If-Modified-Since` is
/// not before `last_modified`.
fn fresh(request: &http::Request<Vec<u8>>, etag: &str, last_modified: DateTime<Utc>) -> bool {
    let headers = request.headers();
    let mut tags = (headers.get_all(header::IF_NONE_MATCH).iter())
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .peekable();
    if tags.peek().is_some() {
        return tags.any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag);
    }
    (headers.get(header::IF_MODIFIED_SINCE))
        .and_then(|value| value.to_str().ok())
        .and_then(|since| DateTime::parse_from_rfc2822(since).ok())
        .is_some_and(|since| last_modified.timestamp() <= since.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made_through(proto: Option<&str>) -> http::Request<Vec<u8>> {
        let full = "http://todo.example.com:8080/api/alice/settings/calendar-feed";
        let mut request =
            http::Request::post("/api/alice/settings/calendar-feed").header("spin-full-url", full);
        if let Some(proto) = proto {
            request = request.header("x-forwarded-proto", proto);
        }
        request.body(Vec::new()).unwrap_or_default()
    }

    #[test]
    fn the_address_is_where_the_app_was_reached_by_the_scheme_an_ingress_says() {
        assert_eq!(origin(&made_through(None)), "http://todo.example.com:8080");
        assert_eq!(
            origin(&made_through(Some("https"))),
            "https://todo.example.com:8080"
        );
        assert_eq!(
            origin(&made_through(Some("gopher"))),
            "http://todo.example.com:8080"
        );
        let bare = http::Request::post("/")
            .body(Vec::new())
            .unwrap_or_default();
        assert_eq!(origin(&bare), "");
    }
}
