//! The audit handler: daprd delivers every task event to `/events/audit`,
//! and [`tasks::Consumers::audit`] records it in its task's history.

// `#[http_component]` exports the handler through an `unsafe extern "C"` shim.
#![allow(unsafe_code)]

use dapr::Dapr;
use spin_glue::{Outbound, variable};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use tasks::{Consumers, Env, Settings};

#[http_component]
async fn handle(request: Request) -> anyhow::Result<Response> {
    let dapr = Dapr::new(&variable("dapr_url")?, Outbound);
    let consumers = Consumers::new(dapr, Settings::from_variables(variable)?);
    let now = spin_glue::now();
    let env = Env::new(now, spin_glue::random()?, spin_glue::random()?);
    let response = consumers.audit(&spin_glue::incoming(request)?, &env).await;
    Ok(spin_glue::outgoing(response))
}
