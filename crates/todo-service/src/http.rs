//! The route table of `/api/{user_id}/tasks/...` and the HTTP edge of the
//! service: body limits, JSON parsing, authentication, error rendering.

use serde_json::{Value, json};
use todo_core::auth;
use todo_core::{FieldError, ListQuery, Problem, TaskPatch, TaskSpec};

use crate::error::ApiError;
use crate::store::StateStore;
use crate::tasks::{Env, Tasks};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An incoming request, as much of it as the API reads.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub method: String,
    /// The path without the query string, such as `/api/alice/tasks/01J...`.
    pub path: String,
    /// The query string without its `?`.
    pub query: String,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    /// Headers besides `content-type`, such as `allow` on a 405.
    pub headers: Vec<(&'static str, String)>,
    /// JSON, or `None` for an empty body (204).
    pub body: Option<Value>,
}

impl ApiResponse {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub fn no_content() -> Self {
        Self {
            status: 204,
            headers: Vec::new(),
            body: None,
        }
    }
}

#[derive(Debug)]
pub struct TasksApi<S> {
    store: S,
    jwt_secret: Vec<u8>,
}

enum Route<'a> {
    Collection,
    Task(&'a str),
    Complete(&'a str),
}

impl<S: StateStore> TasksApi<S> {
    pub fn new(store: S, jwt_secret: impl Into<Vec<u8>>) -> Self {
        Self {
            store,
            jwt_secret: jwt_secret.into(),
        }
    }

    pub async fn handle(&self, request: ApiRequest, env: Env) -> ApiResponse {
        match self.route(&request, env).await {
            Ok(response) => response,
            Err(err) => {
                if let ApiError::Unavailable(detail) = &err {
                    eprintln!("tasks-api: {} {}: {detail}", request.method, request.path);
                }
                let mut response = ApiResponse::json(err.status(), err.body());
                if let ApiError::MethodNotAllowed(_, allowed) = err {
                    response.headers.push(("allow", allowed.to_owned()));
                }
                response
            }
        }
    }

    async fn route(&self, request: &ApiRequest, env: Env) -> Result<ApiResponse, ApiError> {
        let segments: Vec<&str> = request.path.trim_end_matches('/').split('/').collect();
        let (user, route) = match segments.as_slice() {
            ["", "api", user, "tasks"] => (*user, Route::Collection),
            ["", "api", user, "tasks", id] => (*user, Route::Task(id)),
            ["", "api", user, "tasks", id, "complete"] => (*user, Route::Complete(id)),
            _ => return Err(ApiError::NotFound("route")),
        };
        let user = auth::authorize(request.authorization.as_deref(), &self.jwt_secret, user)
            .map_err(|e| match e {
                auth::AuthError::Forbidden => ApiError::Forbidden(user.to_owned()),
                other => ApiError::Unauthorized(other),
            })?;
        if request.body.len() > MAX_BODY_BYTES {
            return Err(ApiError::TooLarge(MAX_BODY_BYTES));
        }
        let tasks = Tasks::new(&self.store, &user);
        let method = request.method.as_str();
        match (route, method) {
            (Route::Collection, "POST") => {
                let spec = TaskSpec::parse(&json_body(&request.body)?)?;
                Ok(reply(201, tasks.create(spec, env).await?))
            }
            (Route::Collection, "GET") => {
                let query = ListQuery::parse(&request.query)?;
                let page = tasks.list(&query, env.now).await?;
                let next_cursor = page.next_cursor.map(|cursor| cursor.encode());
                let body = json!({ "tasks": page.tasks, "next_cursor": next_cursor });
                Ok(ApiResponse::json(200, body))
            }
            (Route::Task(id), "GET") => Ok(reply(200, tasks.get(id).await?)),
            (Route::Task(id), "PUT") => {
                let spec = TaskSpec::parse(&json_body(&request.body)?)?;
                Ok(reply(200, tasks.replace(id, spec, env.now).await?))
            }
            (Route::Task(id), "PATCH") => {
                let patch = TaskPatch::parse(&json_body(&request.body)?)?;
                Ok(reply(200, tasks.patch(id, patch, env.now).await?))
            }
            (Route::Task(id), "DELETE") => {
                tasks.delete(id).await?;
                Ok(ApiResponse::no_content())
            }
            (Route::Complete(id), "PATCH") => {
                let completed = completed_flag(&request.body)?;
                Ok(reply(200, tasks.complete(id, completed, env.now).await?))
            }
            (Route::Collection, _) => {
                Err(ApiError::MethodNotAllowed(method.to_owned(), "GET, POST"))
            }
            (Route::Task(_), _) => Err(ApiError::MethodNotAllowed(
                method.to_owned(),
                "GET, PUT, PATCH, DELETE",
            )),
            (Route::Complete(_), _) => Err(ApiError::MethodNotAllowed(method.to_owned(), "PATCH")),
        }
    }
}

fn reply(status: u16, task: todo_core::Task) -> ApiResponse {
    ApiResponse::json(status, json!(task))
}

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadJson(e.to_string()))
}

/// The optional `{"completed": bool}` body of `.../complete`; empty means `true`.
fn completed_flag(body: &[u8]) -> Result<bool, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(true);
    }
    let patch = TaskPatch::parse(&json_body(body)?)?;
    let completed = patch.completed;
    if patch
        != (TaskPatch {
            completed,
            ..TaskPatch::default()
        })
    {
        let expected = "empty or {\"completed\": true|false}";
        return Err(FieldError::new("body", Problem::WrongType { expected }).into());
    }
    Ok(completed.unwrap_or(true))
}
