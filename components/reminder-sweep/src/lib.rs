//! The reminder sweep: daprd's cron binding calls `/cron/reminder-sweep`
//! every minute, and [`tasks::Consumers::sweep`] delivers the reminders that
//! were due and never delivered, and schedules again the jobs that are
//! missing.

// `#[http_component]` exports the handler through an `unsafe extern "C"` shim.
#![allow(unsafe_code)]

use spin_glue::{Outbound, open_database, variable};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use tasks::consumers::Role;
use tasks::{Consumers, Env};

#[http_component]
async fn handle(request: Request) -> anyhow::Result<Response> {
    let consumers =
        Consumers::from_variables(Outbound::default(), open_database, variable, Role::Sweep)?;
    let env = Env::new(spin_glue::now(), spin_glue::random()?, spin_glue::random()?);
    let response = consumers.sweep(&spin_glue::incoming(request)?, &env).await;
    Ok(spin_glue::outgoing(response))
}
