//! The MCP component: `/mcp` (the Model Context Protocol over Streamable HTTP),
//! served by [`tasks::McpApi`] behind the Dapr sidecar at
//! `dapr_url`.

// `#[http_component]` exports the handler through an `unsafe extern "C"` shim.
#![allow(unsafe_code)]

use spin_glue::{Outbound, open_database, variable};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use tasks::{Env, McpApi};

#[http_component]
async fn handle(request: Request) -> anyhow::Result<Response> {
    let api = McpApi::from_variables(Outbound::default(), open_database, variable)?;
    let env = Env::new(spin_glue::now(), spin_glue::random()?, spin_glue::random()?);
    let response = api.handle(spin_glue::incoming(request)?, env).await;
    Ok(spin_glue::outgoing(response))
}
