//! `/api/auth/...`: `POST signup` and `POST signin` with `{"username",
//! "password"}` answer `{"user_id", "token", "expires_at"}` (201 and 200);
//! `POST refresh` with a still valid token answers a new one. A taken name
//! is 409, a wrong name or password 401, too many failures 429 with
//! `Retry-After`.

use http::{Method, StatusCode, header};

use super::edge::{self, ApiError, Base, json, json_body};
use crate::accounts::{self, Credentials, SignInLimits};
use crate::limits::Given;
use crate::service::Env;

/// The accounts API, signing tokens with the app's `auth_jwt_secret`.
#[derive(Debug)]
pub struct AccountsApi {
    base: Base,
    sign_in: SignInLimits,
}

impl AccountsApi {
    /// The API as a component's variables say (`database_url`,
    /// `auth_jwt_secret`, the request size [`Limits`](crate::Limits) and
    /// the [`SignInLimits`]), opening the database with `open`.
    pub fn from_variables<E: From<crate::limits::BadLimit>>(
        open: sql::Open,
        variable: impl Fn(&str) -> Result<String, E>,
    ) -> Result<Self, E> {
        Ok(Self {
            sign_in: SignInLimits::from_variables(&variable)?,
            base: Base::from_variables(open, variable, Given::Sizes)?,
        })
    }

    /// Answers one request; failures become the contract's error JSON.
    pub async fn handle(
        &self,
        request: http::Request<Vec<u8>>,
        env: Env,
    ) -> http::Response<Vec<u8>> {
        let routed = self.route(&request, &env).await;
        edge::answer("accounts-api", &request, routed)
    }

    async fn route(
        &self,
        request: &http::Request<Vec<u8>>,
        env: &Env,
    ) -> Result<http::Response<Vec<u8>>, ApiError> {
        let action = match edge::segments(request).as_slice() {
            ["", "api", "auth", action] => (*action).to_owned(),
            _ => return Err(ApiError::NotFound("route")),
        };
        if request.method() != Method::POST {
            return Err(ApiError::MethodNotAllowed(request.method().clone(), "POST"));
        }
        self.base.within_limits(request)?;
        let storage = &self.base.storage;
        let secret = self.base.secret();
        match action.as_str() {
            "signup" => {
                let credentials = Credentials::parse(&json_body(request.body())?)?;
                let salt = env.random.to_le_bytes();
                let signed = accounts::sign_up(storage, &credentials, salt, secret, env.now)?;
                Ok(json(StatusCode::CREATED, &signed))
            }
            "signin" => {
                let credentials = Credentials::parse(&json_body(request.body())?)?;
                let signed =
                    accounts::sign_in(storage, &credentials, &self.sign_in, secret, env.now)?;
                Ok(json(StatusCode::OK, &signed))
            }
            "refresh" => {
                let authorization = request
                    .headers()
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                Ok(json(
                    StatusCode::OK,
                    &accounts::refresh(authorization, secret, env.now)?,
                ))
            }
            _ => Err(ApiError::NotFound("route")),
        }
    }
}
