//! The tasks API component: `/api/:user_id/tasks/...`.
//!
//! A thin adapter: it reads its Spin variables, hands the request to
//! [`TasksApi`], and reaches the Dapr sidecar through `spin_sdk::http::send`.

// `#[http_component]` exports the handler through an `unsafe extern "C"` shim.
#![allow(unsafe_code)]

use chrono::SubsecRound;
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::{http_component, variables};
use todo_service::dapr::DaprState;
use todo_service::tasks::Env;
use todo_service::transport::{OutboundRequest, OutboundResponse, Transport};
use todo_service::{ApiRequest, TasksApi};

#[http_component]
async fn handle(request: Request) -> anyhow::Result<impl IntoResponse> {
    let store = DaprState::new(
        &variables::get("dapr_url")?,
        &variables::get("state_store")?,
        SpinHttp,
    );
    let api = TasksApi::new(store, variables::get("auth_jwt_secret")?);
    let request = ApiRequest {
        method: request.method().to_string(),
        path: request.path().to_owned(),
        query: request.query().to_owned(),
        authorization: request
            .header("authorization")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        body: request.into_body(),
    };
    // Millisecond precision, like the task ids.
    let env = Env {
        now: chrono::Utc::now().trunc_subsecs(3),
        random: random_bits()?,
    };
    let response = api.handle(request, env).await;
    let mut builder = Response::builder();
    builder.status(response.status);
    for (name, value) in response.headers {
        builder.header(name, value);
    }
    if let Some(body) = response.body {
        builder
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    Ok(builder.build())
}

fn random_bits() -> anyhow::Result<u128> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(u128::from_le_bytes(bytes))
}

/// Outbound HTTP through the Spin host (limited by `allowed_outbound_hosts`).
struct SpinHttp;

impl Transport for SpinHttp {
    async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse, String> {
        let method = match request.method {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "DELETE" => Method::Delete,
            other => Method::Other(other.to_owned()),
        };
        let mut builder = Request::builder();
        builder.method(method).uri(request.url).body(request.body);
        for (name, value) in request.headers {
            builder.header(name, value);
        }
        let response: Response = spin_sdk::http::send(builder.build())
            .await
            .map_err(|e| e.to_string())?;
        Ok(OutboundResponse {
            status: *response.status(),
            etag: response
                .header("etag")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            body: response.into_body(),
        })
    }
}
