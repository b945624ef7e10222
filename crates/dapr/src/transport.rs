//! The outbound HTTP port: how the client reaches the sidecar.
//!
//! Requests and answers are the `http` crate's types with whole bodies, so
//! that the port is the same in a Spin component, in a native test and in any
//! other runtime.

use std::future::Future;

/// A connection-level failure (refused, reset, timed out), described for
/// the log, never shown to a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

/// Sends one request and reads the whole answer.
pub trait Transport {
    /// Sends `request`; any HTTP status is an answer, not an error.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>>;
}

impl<T: Transport> Transport for &T {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> {
        (**self).send(request)
    }
}
