//! The web app component: `/...`, the page and its files from
//! [`site::answer`]. It calls nothing: the page talks to the APIs itself.

// `#[http_component]` exports the handler through an `unsafe extern "C"` shim.
#![allow(unsafe_code)]

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(request: Request) -> anyhow::Result<Response> {
    Ok(spin_glue::outgoing(site::answer(&spin_glue::incoming(
        request,
    )?)))
}
