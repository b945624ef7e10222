//! The recurrence handler: daprd delivers every task event to
//! `/events/recurrence`, and [`tasks::Consumers::recurrence`] creates the next
//! occurrence of each completed repeating task.

// `#[http_component]` exports the handler through an `unsafe extern "C"` shim.
#![allow(unsafe_code)]

use spin_glue::{Outbound, open_database, variable};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use tasks::consumers::Role;
use tasks::{Consumers, Env};

#[http_component]
async fn handle(request: Request) -> anyhow::Result<Response> {
    let consumers = Consumers::from_variables(
        Outbound::default(),
        open_database,
        variable,
        Role::Recurrence,
    )?;
    let env = Env::new(spin_glue::now(), spin_glue::random()?, spin_glue::random()?);
    let response = consumers
        .recurrence(&spin_glue::incoming(request)?, &env)
        .await;
    Ok(spin_glue::outgoing(response))
}
