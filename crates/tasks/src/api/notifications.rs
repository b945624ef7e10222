//! `/api/{user_id}/notifications/...`: a user's inbox of reminders that
//! fired, newest first in cursor pages (`unread=true` for the unread ones),
//! and `PATCH .../{id}` with `{"read": true|false}`.

use dapr::{Dapr, Transport};
use http::{Method, StatusCode};

use super::edge::{self, ApiError, json, json_body};
use crate::inbox::{self, InboxQuery};
use crate::service::Env;
use crate::settings::Settings;
use events::ReminderId;

/// The notifications API behind a Dapr sidecar, for tokens signed with
/// `jwt_secret`.
#[derive(Debug)]
pub struct NotificationsApi<T> {
    dapr: Dapr<T>,
    settings: Settings,
    jwt_secret: Vec<u8>,
}

impl<T: Transport> NotificationsApi<T> {
    /// The API as a component's variables say (`dapr_url`,
    /// `auth_jwt_secret` and the [`Settings`]), reaching daprd through
    /// `transport`.
    pub fn from_variables<E>(
        transport: T,
        variable: impl Fn(&str) -> Result<String, E>,
    ) -> Result<Self, E> {
        Ok(Self {
            dapr: Dapr::new(&variable("dapr_url")?, transport),
            jwt_secret: variable("auth_jwt_secret")?.into(),
            settings: Settings::from_variables(variable)?,
        })
    }

    /// Answers one request; failures become the contract's error JSON.
    pub async fn handle(
        &self,
        request: http::Request<Vec<u8>>,
        env: Env,
    ) -> http::Response<Vec<u8>> {
        let routed = self.route(&request, &env).await;
        edge::answer("notifications-api", &request, routed)
    }

    async fn route(
        &self,
        request: &http::Request<Vec<u8>>,
        env: &Env,
    ) -> Result<http::Response<Vec<u8>>, ApiError> {
        let segments: Vec<&str> = request
            .uri()
            .path()
            .trim_end_matches('/')
            .split('/')
            .collect();
        // An id that is not a reminder id names nothing: 404 once the
        // caller is known.
        let (user, id) = match segments.as_slice() {
            ["", "api", user, "notifications"] => (*user, None),
            ["", "api", user, "notifications", id] => (*user, Some(ReminderId::parse(id))),
            _ => return Err(ApiError::NotFound("route")),
        };
        let user = edge::caller(request, &self.jwt_secret, user, env)?;
        let store = self.dapr.state(&self.settings.state_store);
        let method = request.method();
        match id {
            None if method == Method::GET => {
                let query = InboxQuery::parse(request.uri().query().unwrap_or_default())?;
                Ok(json(
                    StatusCode::OK,
                    &inbox::page(&store, &user, &query).await?,
                ))
            }
            None => Err(ApiError::MethodNotAllowed(method.clone(), "GET")),
            Some(id) if method == Method::PATCH => {
                let id = id.ok_or(ApiError::NotFound("notification"))?;
                let body = json_body(request.body())?;
                Ok(json(
                    StatusCode::OK,
                    &inbox::mark(&store, &user, id, &body).await?,
                ))
            }
            Some(_) => Err(ApiError::MethodNotAllowed(method.clone(), "PATCH")),
        }
    }
}
