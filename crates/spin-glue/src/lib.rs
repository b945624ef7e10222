//! The one library that sees spin-sdk. A component's `lib.rs` reads its
//! variables, converts the request with [`incoming`], makes one call into its
//! context crate, and answers with [`outgoing`]:
//!
//! - [`Outbound`]: the [`dapr::Transport`] of a component, through
//!   wasi:http's outgoing handler (limited by `allowed_outbound_hosts`),
//!   each call bounded in time;
//! - [`AppDatabase`]: the [`sql::Database`] of a component, Spin's SQLite
//!   `default` database or PostgreSQL;
//! - [`now`] and [`random`]: the clock and randomness;
//! - [`variable`]: a Spin variable;
//! - [`incoming`] and [`outgoing`]: Spin's request and response to and from
//!   the `http` crate's types, which the context crates speak; [`read`] and
//!   [`respond`] the same for a component that works on after answering.

#![warn(missing_docs)]

mod database;

pub use database::{AppDatabase, open_database};

use anyhow::Context;
use chrono::{DateTime, SubsecRound, Utc};
use dapr::TransportError;
use futures::SinkExt;
use futures::TryStreamExt;
use spin_executor::{CancelOnDropToken, push_waker_and_get_token};
use spin_sdk::http::conversions::{TryFromIncomingRequest, TryIntoOutgoingRequest};
use spin_sdk::http::{
    Fields, IncomingRequest, IncomingResponse, OutgoingResponse, Request, Response,
    ResponseOutparam,
};
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::RequestOptions;
use std::task::Poll;
use std::time::Duration;

/// Outbound HTTP through the Spin host, each call bounded: it gives up when
/// the server does not take the connection within `connect`, or does not
/// start answering within `first_byte` (wasi:http's request options, which
/// Spin and the project's host both honour). A call so never keeps its
/// instance alive for longer than the bounds say, whatever the server does.
#[derive(Debug, Clone, Copy)]
pub struct Outbound {
    connect: Duration,
    first_byte: Duration,
}

impl Default for Outbound {
    /// 5 s to connect and 30 s to the first byte: room for an LLM's answer,
    /// and a user's webhook that hangs is given up on in time.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            first_byte: Duration::from_secs(30),
        }
    }
}

impl Outbound {
    /// Calls bounded by `connect` and `first_byte`.
    pub const fn within(connect: Duration, first_byte: Duration) -> Self {
        Self {
            connect,
            first_byte,
        }
    }

    /// Sends `request`, bounded as this transport is.
    async fn call(&self, request: Request) -> Result<IncomingResponse, String> {
        let (request, body) = request
            .try_into_outgoing_request()
            .map_err(|e| format!("cannot make the request: {e}"))?;
        let options = RequestOptions::new();
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        options
            .set_connect_timeout(Some(nanos(self.connect)))
            .and_then(|()| options.set_first_byte_timeout(Some(nanos(self.first_byte))))
            .map_err(|()| "the host takes no timeouts".to_owned())?;
        let sink = body.as_ref().map(|_| request.take_body());
        let answer = outgoing_handler::handle(request, Some(options)).map_err(|e| e.to_string())?;
        if let (Some(mut sink), Some(body)) = (sink, body) {
            sink.send(body)
                .await
                .map_err(|e| format!("sending the body: {e}"))?;
        }
        let mut waiting = None;
        futures::future::poll_fn(|context| match answer.get() {
            Some(Ok(Ok(response))) => Poll::Ready(Ok(response)),
            Some(Ok(Err(code))) => Poll::Ready(Err(code.to_string())),
            Some(Err(())) => Poll::Ready(Err("the answer was taken already".to_owned())),
            None => {
                let token = push_waker_and_get_token(answer.subscribe(), context.waker().clone());
                waiting = Some(CancelOnDropToken::from(token));
                Poll::Pending
            }
        })
        .await
    }
}

impl dapr::Transport for Outbound {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let (parts, body) = request.into_parts();
        let request = Request::builder()
            .method(parts.method.into())
            .uri(parts.uri.to_string())
            .headers(&parts.headers)
            .body(body)
            .build();
        let response = self.call(request).await.map_err(TransportError)?;
        let mut answer = http::Response::builder().status(response.status());
        let mut length = 0;
        for (name, value) in response.headers().entries() {
            if name.eq_ignore_ascii_case("content-length") {
                length = std::str::from_utf8(&value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
            }
            answer = answer.header(name, value);
        }
        // The body in one buffer of its announced size: a listing's answer
        // runs to megabytes, and growing the buffer chunk by chunk copies it
        // over and over.
        let mut body = Vec::with_capacity(length.min(64 << 20));
        let mut chunks = response.take_body_stream();
        while let Some(chunk) = chunks
            .try_next()
            .await
            .map_err(|e| TransportError(format!("reading the answer: {e}")))?
        {
            body.extend_from_slice(&chunk);
        }
        answer
            .body(body)
            .map_err(|e| TransportError(format!("answer not understood: {e}")))
    }
}

/// Now, to the millisecond (like the ids made from it).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// 128 random bits from the host.
pub fn random() -> anyhow::Result<u128> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(u128::from_le_bytes(bytes))
}

/// The Spin variable `name` of this component.
pub fn variable(name: &str) -> anyhow::Result<String> {
    spin_sdk::variables::get(name).with_context(|| format!("Spin variable {name}"))
}

/// Spin's request as the `http` crate's, body and all.
pub fn incoming(request: Request) -> anyhow::Result<http::Request<Vec<u8>>> {
    let method = http::Method::from_bytes(request.method().to_string().as_bytes())?;
    let mut builder = http::Request::builder().method(method).uri(request.uri());
    for (name, value) in request.headers() {
        builder = builder.header(name, value.as_bytes());
    }
    Ok(builder.body(request.into_body())?)
}

/// The `http` crate's response as Spin's, with what every answer carries
/// (`harden`).
pub fn outgoing(response: http::Response<Vec<u8>>) -> Response {
    let (mut parts, body) = response.into_parts();
    harden(&mut parts.headers, !body.is_empty());
    Response::builder()
        .status(parts.status)
        .headers(&parts.headers)
        .body(body)
        .build()
}

/// Spin's incoming request, body and all, as the `http` crate's.
pub async fn read(request: IncomingRequest) -> anyhow::Result<http::Request<Vec<u8>>> {
    incoming(Request::try_from_incoming_request(request).await?)
}

/// What every answer carries, whatever component made it:
/// `X-Content-Type-Options: nosniff`, and a `Content-Type` on any body
/// (`text/plain` where the component set none), so that no browser guesses.
fn harden(headers: &mut http::HeaderMap, has_body: bool) {
    use http::header::{CONTENT_TYPE, HeaderValue, X_CONTENT_TYPE_OPTIONS};
    headers
        .entry(X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    if has_body {
        headers
            .entry(CONTENT_TYPE)
            .or_insert(HeaderValue::from_static("text/plain; charset=utf-8"));
    }
}

/// Sends `response` whole through `outparam`: once this returns, the client
/// has its answer, and the component may go on working.
pub async fn respond(outparam: ResponseOutparam, response: http::Response<Vec<u8>>) {
    let (mut parts, body) = response.into_parts();
    harden(&mut parts.headers, !body.is_empty());
    let mut headers: Vec<(String, Vec<u8>)> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
        .collect();
    headers.push(("content-length".into(), body.len().to_string().into_bytes()));
    let answer = match Fields::from_list(&headers) {
        Ok(fields) => OutgoingResponse::new(fields),
        Err(err) => {
            eprintln!("a header cannot be sent: {err:?}");
            OutgoingResponse::new(Fields::new())
        }
    };
    if answer.set_status_code(parts.status.as_u16()).is_err() {
        eprintln!("status {} cannot be sent", parts.status);
    }
    let mut sink = answer.take_body();
    outparam.set(answer);
    if let Err(err) = sink.send(body).await {
        eprintln!("the answer could not be sent whole: {err:?}");
    }
    // Dropping the sink finishes the body.
}
