//! The outbound HTTP port: how the service reaches the Dapr sidecar.

use std::future::Future;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundResponse {
    pub status: u16,
    pub etag: Option<String>,
    pub body: Vec<u8>,
}

/// Sends one request and reads the whole answer. Errors are connection-level
/// failures, described for the log (never shown to a user).
pub trait Transport {
    fn send(
        &self,
        request: OutboundRequest,
    ) -> impl Future<Output = Result<OutboundResponse, String>>;
}
