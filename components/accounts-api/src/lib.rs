//! The accounts component: `/api/auth/{signup,signin,refresh}`,
//! served by [`tasks::AccountsApi`].

// `#[http_component]` exports the handler through an `unsafe extern "C"` shim.
#![allow(unsafe_code)]

use spin_glue::{open_database, variable};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use tasks::{AccountsApi, Env};

#[http_component]
async fn handle(request: Request) -> anyhow::Result<Response> {
    let api = AccountsApi::from_variables(open_database, variable)?;
    let env = Env::new(spin_glue::now(), spin_glue::random()?, spin_glue::random()?);
    let response = api.handle(spin_glue::incoming(request)?, env).await;
    Ok(spin_glue::outgoing(response))
}
