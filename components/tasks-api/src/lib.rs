//! The tasks API component: `/api/:user_id/tasks/...`, served by
//! [`tasks::TasksApi`] over the Dapr state store named by `state_store`.

// `#[http_component]` exports the handler through an `unsafe extern "C"` shim.
#![allow(unsafe_code)]

use dapr::Dapr;
use spin_glue::{Outbound, variable};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use tasks::{Env, TasksApi};

#[http_component]
async fn handle(request: Request) -> anyhow::Result<Response> {
    let dapr = Dapr::new(&variable("dapr_url")?, Outbound);
    let api = TasksApi::new(
        dapr.state(&variable("state_store")?),
        variable("auth_jwt_secret")?,
    );
    let env = Env {
        now: spin_glue::now(),
        random: spin_glue::random()?,
    };
    let response = api.handle(spin_glue::incoming(request)?, env).await;
    Ok(spin_glue::outgoing(response))
}
