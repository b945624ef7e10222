//! The tasks API component: `/api/:user_id/tasks/...`, served by
//! [`tasks::TasksApi`] behind the Dapr sidecar at `dapr_url`.

// `#[http_component]` exports the handler through an `unsafe extern "C"` shim.
#![allow(unsafe_code)]

use dapr::Dapr;
use spin_glue::{Outbound, variable};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use tasks::{Env, Settings, TasksApi};

#[http_component]
async fn handle(request: Request) -> anyhow::Result<Response> {
    let dapr = Dapr::new(&variable("dapr_url")?, Outbound);
    let api = TasksApi::new(
        dapr,
        Settings::from_variables(variable)?,
        variable("auth_jwt_secret")?,
    );
    let now = spin_glue::now();
    let env = Env::new(now, spin_glue::random()?, spin_glue::random()?);
    let response = api.handle(spin_glue::incoming(request)?, env).await;
    Ok(spin_glue::outgoing(response))
}
