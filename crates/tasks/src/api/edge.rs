//! What every API of the app shares at its edge: one error enum mapped to
//! statuses and the contract's error JSON, the caller's token checked
//! against the path's user, body limits, and JSON answers.

use http::{Method, StatusCode, header};
use serde::Serialize;

use dapr::state::State;
use dapr::{Dapr, Transport};

use crate::UserId;
use crate::accounts::AccountError;
use crate::error::{FieldError, TaskError};
use crate::input::parse_json;
use crate::service::Env;
use crate::settings::Settings;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

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
    #[error("{0}")]
    Task(#[from] TaskError),
    #[error("{0}")]
    Account(#[from] crate::accounts::AccountError),
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
            Self::NotFound(_) | Self::Task(TaskError::NotFound) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(..) => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Task(TaskError::Conflict) => StatusCode::CONFLICT,
            Self::Task(TaskError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Account(err) => match err {
                AccountError::Taken(_) => StatusCode::CONFLICT,
                AccountError::WrongCredentials => StatusCode::UNAUTHORIZED,
                AccountError::Wait(_) => StatusCode::TOO_MANY_REQUESTS,
                AccountError::Store(err) => Self::Task(err.clone()).status(),
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
            Self::NotFound(_) | Self::Task(TaskError::NotFound) => "not_found",
            Self::MethodNotAllowed(..) => "method_not_allowed",
            Self::TooLarge(_) => "payload_too_large",
            Self::Task(TaskError::Conflict) => "conflict",
            Self::Task(TaskError::Unavailable(_)) => "unavailable",
            Self::Account(err) => match err {
                AccountError::Taken(_) => "taken",
                AccountError::WrongCredentials => "unauthorized",
                AccountError::Wait(_) => "too_many_attempts",
                AccountError::Store(err) => Self::Task(err.clone()).code(),
            },
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid(e) | Self::Task(TaskError::Invalid(e)) => Some(&e.field),
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
        if let Self::Account(AccountError::Wait(seconds)) = self
            && let Ok(value) = header::HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// What every API of the app stands on: its sidecar, the tasks context's
/// settings, and the key of the bearer tokens.
#[derive(Debug)]
pub(crate) struct Base<T> {
    pub(crate) dapr: Dapr<T>,
    pub(crate) settings: Settings,
    jwt_secret: Vec<u8>,
}

impl<T: Transport> Base<T> {
    pub(crate) fn new(dapr: Dapr<T>, settings: Settings, jwt_secret: Vec<u8>) -> Self {
        Self {
            dapr,
            settings,
            jwt_secret,
        }
    }

    /// As a component's variables say (`dapr_url`, `dapr_api_token`,
    /// `auth_jwt_secret` and the [`Settings`]), reaching daprd through `transport`.
    pub(crate) fn from_variables<E>(
        transport: T,
        variable: impl Fn(&str) -> Result<String, E>,
    ) -> Result<Self, E> {
        let dapr = Dapr::with_token(
            &variable("dapr_url")?,
            &variable("dapr_api_token")?,
            transport,
        );
        let secret = variable("auth_jwt_secret")?.into();
        Ok(Self::new(dapr, Settings::from_variables(variable)?, secret))
    }

    /// The key bearer tokens are signed with.
    pub(crate) fn secret(&self) -> &[u8] {
        &self.jwt_secret
    }

    /// The state store of the tasks context.
    pub(crate) fn store(&self) -> State<'_, T> {
        self.dapr.state(&self.settings.state_store)
    }

    /// The caller of `/api/{user}/...` (see [`caller`]).
    pub(crate) fn caller(
        &self,
        request: &http::Request<Vec<u8>>,
        user: &str,
        env: &Env,
    ) -> Result<UserId, ApiError> {
        caller(request, &self.jwt_secret, user, env)
    }
}

/// The user of `/api/{user}/...` if the request's bearer token is theirs
/// (signed with `jwt_secret`) and its body is within [`MAX_BODY_BYTES`].
fn caller(
    request: &http::Request<Vec<u8>>,
    jwt_secret: &[u8],
    user: &str,
    env: &Env,
) -> Result<UserId, ApiError> {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let user = auth::authorize(authorization, jwt_secret, user, env.now)?;
    if request.body().len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge(MAX_BODY_BYTES));
    }
    Ok(user)
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
    let mut response = http::Response::new(body);
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
