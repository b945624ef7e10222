//! A client of the Dapr sidecar's HTTP API that knows nothing of tasks and
//! nothing of the runtime it runs in.
//!
//! - [`transport`]: the port through which every request goes; a Spin
//!   component implements it with `spin_sdk::http::send` (crate `spin-glue`),
//!   native tests with a recording fake.
//! - [`Dapr`]: the sidecar at one address, and its building blocks:
//!   [`state`] (get, bulk get, transactions with ETags), [`publish`]
//!   (CloudEvents), [`jobs`] (schedule, get, delete).
//! - [`subscriber`]: the other direction, what daprd delivers to the app (a
//!   CloudEvent) and how the app answers (SUCCESS, RETRY or DROP).
//!
//! Requests are serialized once, straight from borrowed structs to bytes.

#![warn(missing_docs)]

pub mod jobs;
pub mod publish;
pub mod state;
pub mod subscriber;
pub mod transport;

#[cfg(any(test, feature = "fakes"))]
pub mod fakes;

use http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

pub use state::{Bulk, StateStore, Versioned, Write};
pub use transport::{Transport, TransportError};

/// How a call to the sidecar can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DaprError {
    /// A condition of a state write failed: someone else wrote first. Read
    /// again and retry.
    #[error("a concurrent write changed the data first")]
    Conflict,
    /// The sidecar could not be reached, answered something unexpected, or
    /// holds a value that is not of the type asked for. The text is for the
    /// log, never for a user.
    #[error("Dapr is unavailable: {0}")]
    Unavailable(String),
}

/// The Dapr sidecar at one address, reached through a [`Transport`].
#[derive(Debug, Clone)]
pub struct Dapr<T> {
    /// `http://127.0.0.1:3500`, without a trailing slash.
    url: String,
    /// The `dapr-api-token` header every call carries, when daprd demands
    /// one (its `DAPR_API_TOKEN`; Kubernetes: `dapr.io/api-token-secret`).
    token: Option<String>,
    transport: T,
}

impl<T: Transport> Dapr<T> {
    /// The sidecar whose HTTP API listens at `url`, such as `http://127.0.0.1:3500`.
    pub fn new(url: &str, transport: T) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            token: None,
            transport,
        }
    }

    /// The sidecar at `url`, presenting `token` on every call when it is not
    /// empty. A token that cannot be a header value fails every call.
    pub fn with_token(url: &str, token: &str, transport: T) -> Self {
        Self {
            token: (!token.is_empty()).then(|| token.to_owned()),
            ..Self::new(url, transport)
        }
    }

    /// Sends one request to `path` (which starts with `/v1.0`), with `body`
    /// serialized as JSON when there is one.
    async fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<http::Response<Vec<u8>>, DaprError> {
        let body = match body {
            Some(body) => Some(("application/json", encode_json(path, body)?)),
            None => None,
        };
        self.send(method, path, body).await
    }

    /// Sends one request to `path` with a body of the given content type.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<http::Response<Vec<u8>>, DaprError> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url));
        if let Some(token) = &self.token {
            let mut value = http::HeaderValue::from_str(token).map_err(|_| {
                DaprError::Unavailable("the Dapr API token is not a valid header value".into())
            })?;
            value.set_sensitive(true);
            request = request.header("dapr-api-token", value);
        }
        let bytes = match body {
            Some((content_type, bytes)) => {
                request = request.header(http::header::CONTENT_TYPE, content_type);
                bytes
            }
            None => Vec::new(),
        };
        let request = request
            .body(bytes)
            .map_err(|e| DaprError::Unavailable(format!("bad request to {path}: {e}")))?;
        self.transport
            .send(request)
            .await
            .map_err(|e| DaprError::Unavailable(e.to_string()))
    }
}

/// Characters left as they are in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `segment` percent-encoded for a URL path (state keys hold `:`).
fn encode(segment: &str) -> impl std::fmt::Display + '_ {
    utf8_percent_encode(segment, SEGMENT)
}

/// An answer the client did not expect, described for the log.
fn unexpected(response: &http::Response<Vec<u8>>) -> DaprError {
    let text = String::from_utf8_lossy(response.body());
    DaprError::Unavailable(format!(
        "Dapr answered {}: {}",
        response.status().as_u16(),
        text.chars().take(300).collect::<String>()
    ))
}

/// `Ok` for a 2xx answer, the answer described for the log otherwise.
fn succeeded(response: &http::Response<Vec<u8>>) -> Result<(), DaprError> {
    if response.status().is_success() {
        Ok(())
    } else {
        Err(unexpected(response))
    }
}

/// `body` as JSON bytes, for the request to `path`.
fn encode_json<B: Serialize + ?Sized>(path: &str, body: &B) -> Result<Vec<u8>, DaprError> {
    serde_json::to_vec(body)
        .map_err(|e| DaprError::Unavailable(format!("cannot encode {path}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(encode("task:alice:01J").to_string(), "task%3Aalice%3A01J");
        assert_eq!(encode("a.b-c_d~").to_string(), "a.b-c_d~");
    }

    /// Dapr's docs (operations/security/api-token): "the Dapr API token ...
    /// must be included in the request headers: dapr-api-token".
    #[test]
    fn a_token_goes_with_every_call_when_daprd_demands_one() {
        let transport = fakes::RecordingTransport::answering([(204, ""), (204, "")]);
        let with = Dapr::with_token("http://dapr", "s3cret", &transport);
        let without = Dapr::with_token("http://dapr", "", &transport);
        let event = publish::CloudEvent::new("e", "s", "t", &1);
        futures::executor::block_on(with.publish("pubsub", "t", &event, &[])).expect("sent");
        futures::executor::block_on(without.publish("pubsub", "t", &event, &[])).expect("sent");
        let sent = transport.sent();
        assert_eq!(sent[0].api_token, "s3cret");
        assert_eq!(sent[1].api_token, "");
        let bad = Dapr::with_token("http://dapr", "bad\ntoken", &transport);
        assert!(futures::executor::block_on(bad.publish("pubsub", "t", &event, &[])).is_err());
        assert_eq!(transport.sent().len(), 2, "nothing sent without the token");
    }
}
