//! Every way a call can fail, and the status and JSON each maps to.

use serde_json::json;
use todo_core::FieldError;
use todo_core::auth::AuthError;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the body is not valid JSON: {0}")]
    BadJson(String),
    #[error("{0}")]
    Invalid(#[from] FieldError),
    #[error("{0}")]
    Unauthorized(AuthError),
    #[error("this token may not act for user {0}")]
    Forbidden(String),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0} is not allowed here; allowed: {1}")]
    MethodNotAllowed(String, &'static str),
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the task is being changed by another request; try again")]
    Busy,
    /// Details go to the log, never to the client.
    #[error("the service is unavailable; try again later")]
    Unavailable(String),
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        Self::Unauthorized(err)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict => Self::Busy,
            StoreError::Unavailable(detail) => Self::Unavailable(detail),
        }
    }
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            Self::BadJson(_) | Self::Invalid(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed(..) => 405,
            Self::TooLarge(_) => 413,
            Self::Busy => 409,
            Self::Unavailable(_) => 503,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadJson(_) => "invalid_json",
            Self::Invalid(_) => "invalid_field",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(..) => "method_not_allowed",
            Self::TooLarge(_) => "payload_too_large",
            Self::Busy => "conflict",
            Self::Unavailable(_) => "unavailable",
        }
    }

    /// `{"error": {"code", "message", "field"?}}`
    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({ "code": self.code(), "message": self.to_string() });
        if let Self::Invalid(e) = self {
            error["field"] = json!(e.field);
        }
        json!({ "error": error })
    }
}
