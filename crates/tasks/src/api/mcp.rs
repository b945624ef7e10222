//! `/mcp`: the Model Context Protocol over Streamable HTTP (JSON-RPC 2.0,
//! each request answered with one JSON response, no session), offering the
//! chat's tools to any MCP client with JSON schemas and hints, acting only
//! for the user of the bearer token. A tool that cannot act answers a result
//! with `isError` and why, which an agent can act on; a malformed request
//! gets a JSON-RPC error.

use dapr::Transport;
use http::{Method, StatusCode, header};
use serde_json::{Value, json};

use super::edge::{ApiError, Base, Sidecar, json as json_response};
use crate::chat::Chat;
use crate::chat::tools;
use crate::limits::Given;
use crate::service::Env;

/// The protocol versions this endpoint speaks (the handshake's), newest last.
const VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// The MCP endpoint behind a Dapr sidecar, for tokens signed with
/// `jwt_secret`.
#[derive(Debug)]
pub struct McpApi<T> {
    base: Base,
    sidecar: Sidecar<T>,
}

impl<T: Transport> McpApi<T> {
    /// The endpoint as a component's variables say (`database_url`,
    /// `auth_jwt_secret`, the task [`Limits`](crate::Limits), `dapr_url`,
    /// `dapr_api_token` and the [`Settings`](crate::Settings)), reaching
    /// daprd through `transport`.
    pub fn from_variables<E: From<crate::limits::BadLimit>>(
        transport: T,
        open: sql::Open,
        variable: impl Fn(&str) -> Result<String, E>,
    ) -> Result<Self, E> {
        Ok(Self {
            base: Base::from_variables(open, &variable, Given::Tasks)?,
            sidecar: Sidecar::from_variables(transport, variable)?,
        })
    }

    /// Answers one request.
    pub async fn handle(
        &self,
        request: http::Request<Vec<u8>>,
        env: Env,
    ) -> http::Response<Vec<u8>> {
        if request.method() != Method::POST {
            // No server-to-client stream is offered.
            return ApiError::MethodNotAllowed(request.method().clone(), "POST").response();
        }
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let user = match auth::authenticate(authorization, self.base.secret(), env.now) {
            Ok(user) => user,
            Err(err) => return ApiError::Auth(err).response(),
        };
        if let Err(err) = self.base.within_limits(&request) {
            return err.response();
        }
        let message: Value = match serde_json::from_slice(request.body()) {
            Ok(message) => message,
            Err(err) => {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    Value::Null,
                    -32700,
                    &format!("not JSON: {err}"),
                );
            }
        };
        let id = message.get("id").cloned();
        let method = message
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(id) = id.filter(|_| message.is_object()) else {
            // A notification (or a response to us): nothing to answer.
            return if message.is_object() && !method.is_empty() {
                accepted()
            } else {
                rpc_error(
                    StatusCode::BAD_REQUEST,
                    Value::Null,
                    -32600,
                    "send one JSON-RPC 2.0 request object",
                )
            };
        };
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let result = match method {
            "initialize" => Ok(initialize(&params)),
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({"tools": tools::definitions()})),
            "tools/call" => self.call(&user, &params, &env).await,
            other => Err((-32601, format!("no method {other}"))),
        };
        match result {
            Ok(result) => json_response(
                StatusCode::OK,
                &json!({"jsonrpc": "2.0", "id": id, "result": result}),
            ),
            Err((code, why)) => rpc_error(StatusCode::OK, id, code, &why),
        }
    }

    async fn call(
        &self,
        user: &crate::UserId,
        params: &Value,
        env: &Env,
    ) -> Result<Value, (i64, String)> {
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !tools::definitions().iter().any(|t| t["name"] == name) {
            return Err((-32602, format!("no tool {name:?}; tools/list names them")));
        }
        let arguments = params
            .get("arguments")
            .cloned()
            .unwrap_or_else(|| json!({}));
        if !arguments.is_object() {
            return Err((-32602, "arguments must be an object".into()));
        }
        let chat = Chat::<_, dapr::state::State<'_, T>>::new(
            &self.sidecar.dapr,
            &self.base.storage,
            &self.sidecar.settings,
            user,
        )
        .with_limits(self.base.limits);
        let (text, result) = chat
            .call_tool(name, arguments, env)
            .await
            .map_err(|err| (-32603, err.to_string()))?;
        let is_error = result.get("error").is_some();
        let structured = if result.is_object() {
            result
        } else {
            json!({"result": result})
        };
        Ok(json!({
            "content": [{"type": "text", "text": text}],
            "structuredContent": structured,
            "isError": is_error,
        }))
    }
}

fn initialize(params: &Value) -> Value {
    let asked = params
        .get("protocolVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let version = VERSIONS
        .iter()
        .find(|v| **v == asked)
        .copied()
        .unwrap_or(VERSIONS[3]);
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "todo-chatbot", "version": env!("CARGO_PKG_VERSION")},
        "instructions": "Manage the user's tasks: add, list (by status, priority, tags, due dates), search, complete, update and delete them. Dates are RFC 3339, or local times read in the task's time_zone.",
    })
}

fn accepted() -> http::Response<Vec<u8>> {
    let mut response = http::Response::new(Vec::new());
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}

fn rpc_error(status: StatusCode, id: Value, code: i64, message: &str) -> http::Response<Vec<u8>> {
    json_response(
        status,
        &json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}),
    )
}
