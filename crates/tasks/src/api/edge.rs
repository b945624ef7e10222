//! What every API of the app shares at its edge: one error enum mapped to
//! statuses and the contract's error JSON, the caller's token checked
//! against the path's user, body limits, and JSON answers.

use http::{Method, StatusCode, header};
use serde::Serialize;

use dapr::{Dapr, Transport};

use crate::UserId;
use crate::accounts::AccountError;
use crate::error::Exceeded;
use crate::error::{FieldError, ProjectError, TaskError, ViewError};
use crate::limits::{BadLimit, Given, Limits};
use crate::service::Env;
use crate::settings::Settings;
use crate::task::input::parse_json;
use crate::task::store::Storage;

/// Every way a call can fail.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("the body is not valid JSON: {0}")]
    BadJson(String),
    #[error("{0}")]
    Invalid(#[from] FieldError),
    #[error("{0}")]
    Auth(#[from] auth::AuthError),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0} is not allowed here; allowed: {1}")]
    MethodNotAllowed(Method, &'static str),
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the query string is longer than {0} bytes")]
    QueryTooLong(usize),
    #[error("{0}")]
    Task(#[from] TaskError),
    #[error("{0}")]
    Account(#[from] crate::accounts::AccountError),
    #[error("{0}")]
    Project(#[from] ProjectError),
    #[error("{0}")]
    View(#[from] ViewError),
}

impl From<crate::export::ExportError> for ApiError {
    fn from(err: crate::export::ExportError) -> Self {
        use crate::export::ExportError;
        match err {
            ExportError::Task(e) => Self::Task(e),
            ExportError::Project(e) => Self::Project(e),
            ExportError::View(e) => Self::View(e),
        }
    }
}

impl From<crate::import::ImportError> for ApiError {
    fn from(err: crate::import::ImportError) -> Self {
        use crate::import::ImportError;
        match err {
            ImportError::Malformed { at, message } => {
                Self::Invalid(FieldError::new(at, crate::Problem::Unreadable(message)))
            }
            ImportError::Task(e) => Self::Task(e),
            ImportError::Project(e) => Self::Project(e),
        }
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        use auth::AuthError;
        match self {
            Self::BadJson(_) | Self::Invalid(_) | Self::Task(TaskError::Invalid(_)) => {
                StatusCode::BAD_REQUEST
            }
            Self::Auth(AuthError::Missing | AuthError::Invalid(_)) => StatusCode::UNAUTHORIZED,
            Self::Auth(AuthError::Forbidden(_)) => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::Task(TaskError::NotFound | TaskError::StepNotFound) => {
                StatusCode::NOT_FOUND
            }
            Self::MethodNotAllowed(..) => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooLarge(_) | Self::QueryTooLong(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Task(TaskError::Exceeded(
                Exceeded::Tags(_) | Exceeded::Reminders(_) | Exceeded::Steps(_),
            )) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Task(TaskError::Exceeded(
                Exceeded::Tasks(_) | Exceeded::Devices(_) | Exceeded::ChatMessages { .. },
            )) => StatusCode::TOO_MANY_REQUESTS,
            Self::Task(TaskError::Conflict | TaskError::NotDeleted) => StatusCode::CONFLICT,
            Self::Task(TaskError::KeyReused) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Task(TaskError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Account(err) => match err {
                AccountError::Taken(_) => StatusCode::CONFLICT,
                AccountError::WrongCredentials => StatusCode::UNAUTHORIZED,
                AccountError::Wait(_) => StatusCode::TOO_MANY_REQUESTS,
                AccountError::Store(err) => Self::Task(err.clone()).status(),
            },
            Self::Project(err) => match err {
                ProjectError::NotFound => StatusCode::NOT_FOUND,
                ProjectError::NameTaken(_) | ProjectError::NotEmpty(_) | ProjectError::Inbox => {
                    StatusCode::CONFLICT
                }
                ProjectError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
                ProjectError::Invalid(_) => StatusCode::BAD_REQUEST,
                ProjectError::Task(err) => Self::Task(err.clone()).status(),
            },
            Self::View(err) => match err {
                ViewError::NotFound => StatusCode::NOT_FOUND,
                ViewError::NameTaken(_) => StatusCode::CONFLICT,
                ViewError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
                ViewError::Invalid(_) => StatusCode::BAD_REQUEST,
                ViewError::Task(err) => Self::Task(err.clone()).status(),
            },
        }
    }

    fn code(&self) -> &'static str {
        use auth::AuthError;
        match self {
            Self::BadJson(_) => "invalid_json",
            Self::Invalid(_) | Self::Task(TaskError::Invalid(_)) => "invalid_field",
            Self::Auth(AuthError::Missing | AuthError::Invalid(_)) => "unauthorized",
            Self::Auth(AuthError::Forbidden(_)) => "forbidden",
            Self::NotFound(_) | Self::Task(TaskError::NotFound | TaskError::StepNotFound) => {
                "not_found"
            }
            Self::MethodNotAllowed(..) => "method_not_allowed",
            Self::TooLarge(_) => "payload_too_large",
            Self::QueryTooLong(_) => "query_too_long",
            Self::Task(TaskError::Exceeded(exceeded)) => match exceeded {
                Exceeded::Tasks(_) => "too_many_tasks",
                Exceeded::Tags(_) => "too_many_tags",
                Exceeded::Reminders(_) => "too_many_reminders",
                Exceeded::Steps(_) => "too_many_steps",
                Exceeded::Devices(_) => "too_many_devices",
                Exceeded::ChatMessages { .. } => "too_many_messages",
            },
            Self::Task(TaskError::Conflict) => "conflict",
            Self::Task(TaskError::NotDeleted) => "not_deleted",
            Self::Task(TaskError::KeyReused) => "idempotency_key_reused",
            Self::Task(TaskError::Unavailable(_)) => "unavailable",
            Self::Account(err) => match err {
                AccountError::Taken(_) => "taken",
                AccountError::WrongCredentials => "unauthorized",
                AccountError::Wait(_) => "too_many_attempts",
                AccountError::Store(err) => Self::Task(err.clone()).code(),
            },
            Self::Project(err) => match err {
                ProjectError::NotFound => "not_found",
                ProjectError::NameTaken(_) => "name_taken",
                ProjectError::NotEmpty(_) => "not_empty",
                ProjectError::Inbox => "inbox",
                ProjectError::TooMany(_) => "too_many_projects",
                ProjectError::Invalid(_) => "invalid_field",
                ProjectError::Task(err) => Self::Task(err.clone()).code(),
            },
            Self::View(err) => match err {
                ViewError::NotFound => "not_found",
                ViewError::NameTaken(_) => "name_taken",
                ViewError::TooMany(_) => "too_many_views",
                ViewError::Invalid(_) => "invalid_field",
                ViewError::Task(err) => Self::Task(err.clone()).code(),
            },
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid(e)
            | Self::Task(TaskError::Invalid(e))
            | Self::Project(ProjectError::Invalid(e) | ProjectError::Task(TaskError::Invalid(e)))
            | Self::View(ViewError::Invalid(e) | ViewError::Task(TaskError::Invalid(e))) => {
                Some(&e.field)
            }
            Self::Project(ProjectError::NameTaken(_)) | Self::View(ViewError::NameTaken(_)) => {
                Some("name")
            }
            Self::Task(TaskError::Exceeded(exceeded)) => exceeded.field(),
            _ => None,
        }
    }

    /// `{"error": {"code", "message", "field"?}}`, with `allow` on a 405.
    pub(crate) fn response(&self) -> http::Response<Vec<u8>> {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Detail<'a>,
        }
        #[derive(Serialize)]
        struct Detail<'a> {
            code: &'a str,
            message: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            field: Option<&'a str>,
        }
        let body = Body {
            error: Detail {
                code: self.code(),
                message: self.to_string(),
                field: self.field(),
            },
        };
        let mut response = json(self.status(), &body);
        if let Self::MethodNotAllowed(_, allowed) = self {
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static(allowed));
        }
        let wait = match self {
            Self::Account(AccountError::Wait(seconds)) => Some(*seconds),
            Self::Task(TaskError::Exceeded(Exceeded::ChatMessages { retry_after, .. })) => {
                Some(i64::from(*retry_after))
            }
            _ => None,
        };
        if let Some(seconds) = wait
            && let Ok(value) = header::HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// What every API of the app stands on: its database, the users' limits,
/// and the key of the bearer tokens.
#[derive(Debug)]
pub(crate) struct Base {
    pub(crate) storage: Storage,
    pub(crate) limits: Limits,
    jwt_secret: Vec<u8>,
}

impl Base {
    pub(crate) fn new(storage: Storage, limits: Limits, jwt_secret: Vec<u8>) -> Self {
        Self {
            storage,
            limits,
            jwt_secret,
        }
    }

    /// As a component's variables say (`database_url`, `auth_jwt_secret`
    /// and the [`Limits`] it is `given`), opening the database with `open`
    /// when first needed.
    pub(crate) fn from_variables<E: From<BadLimit>>(
        open: sql::Open,
        variable: impl Fn(&str) -> Result<String, E>,
        given: Given,
    ) -> Result<Self, E> {
        Ok(Self::new(
            Storage::new(variable("database_url")?, open),
            Limits::from_variables(&variable, given)?,
            variable("auth_jwt_secret")?.into(),
        ))
    }

    /// Whether `request`'s body and query string are within the limits.
    pub(crate) fn within_limits(&self, request: &http::Request<Vec<u8>>) -> Result<(), ApiError> {
        self.within(request, self.limits.body_bytes)
    }

    /// Whether `request`'s body is at most `body_bytes` and its query
    /// string within the limit.
    fn within(&self, request: &http::Request<Vec<u8>>, body_bytes: usize) -> Result<(), ApiError> {
        if request.body().len() > body_bytes {
            return Err(ApiError::TooLarge(body_bytes));
        }
        if request.uri().query().map_or(0, str::len) > self.limits.query_bytes {
            return Err(ApiError::QueryTooLong(self.limits.query_bytes));
        }
        Ok(())
    }

    /// The key bearer tokens are signed with.
    pub(crate) fn secret(&self) -> &[u8] {
        &self.jwt_secret
    }

    /// The user of `/api/{user}/...` if the request's bearer token is
    /// theirs and its body and query are within the limits.
    pub(crate) fn caller(
        &self,
        request: &http::Request<Vec<u8>>,
        user: &str,
        env: &Env,
    ) -> Result<UserId, ApiError> {
        self.caller_within(request, user, None, self.limits.body_bytes, env)
    }

    /// [`Self::caller`], also taking a token that may act on `scope` only
    /// (a pushed reminder's, for its task), and a body of up to
    /// `body_bytes` (an import's file may be larger than other bodies).
    pub(crate) fn caller_within(
        &self,
        request: &http::Request<Vec<u8>>,
        user: &str,
        scope: Option<&str>,
        body_bytes: usize,
        env: &Env,
    ) -> Result<UserId, ApiError> {
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let user = auth::authorize_scoped(authorization, &self.jwt_secret, user, scope, env.now)?;
        self.within(request, body_bytes)?;
        Ok(user)
    }
}

/// What the APIs that write tasks stand on beside their [`Base`]: the
/// sidecar they publish task events through, and where those go.
#[derive(Debug)]
pub(crate) struct Sidecar<T> {
    pub(crate) dapr: Dapr<T>,
    pub(crate) settings: Settings,
}

impl<T: Transport> Sidecar<T> {
    /// As a component's variables say (`dapr_url`, `dapr_api_token` and
    /// the [`Settings`]), reaching daprd through `transport`.
    pub(crate) fn from_variables<E>(
        transport: T,
        variable: impl Fn(&str) -> Result<String, E>,
    ) -> Result<Self, E> {
        let dapr = Dapr::with_token(
            &variable("dapr_url")?,
            &variable("dapr_api_token")?,
            transport,
        );
        Ok(Self {
            dapr,
            settings: Settings::from_variables(variable)?,
        })
    }
}

/// The segments of `request`'s path (`["", "api", user, ...]`).
pub(crate) fn segments(request: &http::Request<Vec<u8>>) -> Vec<&str> {
    request
        .uri()
        .path()
        .trim_end_matches('/')
        .split('/')
        .collect()
}

/// The answer to `request`: `routed`'s, or its error's as the contract's
/// error JSON (logged by `api` when the store is unavailable).
pub(crate) fn answer(
    api: &str,
    request: &http::Request<Vec<u8>>,
    routed: Result<http::Response<Vec<u8>>, ApiError>,
) -> http::Response<Vec<u8>> {
    routed.unwrap_or_else(|err| {
        if let ApiError::Task(TaskError::Unavailable(detail)) = &err {
            eprintln!(
                "{api}: {} {}: {detail}",
                request.method(),
                request.uri().path()
            );
        }
        err.response()
    })
}

/// `value` as a JSON answer with `status`, encoded once.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> http::Response<Vec<u8>> {
    let body = serde_json::to_vec(value).unwrap_or_else(|e| {
        eprintln!("api: cannot encode an answer: {e}");
        b"{}".to_vec()
    });
    encoded(status, body)
}

/// A JSON answer encoded already.
pub(crate) fn encoded(status: StatusCode, body: impl Into<Vec<u8>>) -> http::Response<Vec<u8>> {
    let mut response = http::Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

pub(crate) fn no_content() -> http::Response<Vec<u8>> {
    let mut response = http::Response::new(Vec::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

pub(crate) fn json_body(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    parse_json(body).map_err(|e| ApiError::BadJson(e.to_string()))
}
