//! The tasks API component: `/api/:user_id/tasks/...`, served by
//! [`tasks::TasksApi`] behind the Dapr sidecar at `dapr_url`. A write's event
//! is relayed once the answer is on its way (ADR 8), within [`RELAY`]: a
//! relay daprd does not take in time is left to the outbox's safety net,
//! so that an instance never outlives its answer by more than that, however
//! long daprd hangs (Spin keeps at most 1,000 instances, ADR 16).

// `#[http_component]` exports the handler through an `unsafe extern "C"` shim.
#![allow(unsafe_code)]

use std::time::Duration;

use spin_glue::{Outbound, open_database, variable};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;
use tasks::{Env, TasksApi};

/// How long a relay may take to reach daprd and to be answered: a publish
/// takes a few milliseconds when daprd is well. The instance holds its
/// database connection until it marks the event published, so the bound is
/// also how long a hung daprd can keep a connection from the pool (Spin's
/// keeps 64).
const RELAY: Outbound = Outbound::within(Duration::from_millis(100), Duration::from_millis(250));

#[http_component]
async fn handle(request: IncomingRequest, outparam: ResponseOutparam) {
    let answered = async {
        let api = TasksApi::from_variables(RELAY, open_database, variable)?;
        let env = Env::new(spin_glue::now(), spin_glue::random()?, spin_glue::random()?);
        let (response, owed) = api.handle(spin_glue::read(request).await?, env).await;
        anyhow::Ok((api, response, owed))
    };
    match answered.await {
        Ok((api, response, owed)) => {
            spin_glue::respond(outparam, response).await;
            api.settle(owed).await;
        }
        Err(err) => {
            eprintln!("tasks-api: {err:#}");
            let mut response = http::Response::new(b"Internal Server Error".to_vec());
            *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            spin_glue::respond(outparam, response).await;
        }
    }
}
