//! `/api/{user_id}/notifications/...`: a user's inbox of reminders that
//! fired, newest first in cursor pages (`unread=true` for the unread ones),
//! and `PATCH .../{id}` with `{"read": true|false}`; and
//! `/api/{user_id}/settings` (`GET`, `PUT`): where their reminders are
//! POSTed, and their default time zone; `/api/{user_id}/push-subscriptions`,
//! the browsers their reminders are pushed to; and
//! `/api/{user_id}/changes?after=N`, the change feed live pages poll.

use http::{Method, StatusCode};
use serde::Serialize;

use super::edge::{self, ApiError, Base, json, json_body};
use crate::error::TaskError;
use crate::limits::Given;
use crate::reminders::inbox::{self, InboxQuery};
use crate::reminders::push::{self, Subscribe, Subscription};
use crate::reminders::user_settings::{self, SettingsInput};
use crate::service::Env;
use crate::task::feed;
use events::ReminderId;

/// The notifications API, for tokens signed with `jwt_secret`.
#[derive(Debug)]
pub struct NotificationsApi {
    base: Base,
    /// Whether webhooks and push endpoints may point to loopback
    /// addresses (the local profiles' `webhooks_allow_loopback`).
    allow_loopback: bool,
    /// The VAPID public key the page subscribes with; `None`: no pushes.
    vapid_public_key: Option<String>,
}

/// The push subscriptions as answered, with the key to subscribe with.
#[derive(Serialize)]
struct Devices {
    public_key: Option<String>,
    subscriptions: Vec<Subscription>,
}

impl NotificationsApi {
    /// The API as a component's variables say (`database_url`,
    /// `auth_jwt_secret`, the request size [`Limits`](crate::Limits),
    /// `webhooks_allow_loopback` and `vapid_public_key`), opening the
    /// database with `open`.
    pub fn from_variables<E: From<crate::limits::BadLimit>>(
        open: sql::Open,
        variable: impl Fn(&str) -> Result<String, E>,
    ) -> Result<Self, E> {
        Ok(Self {
            allow_loopback: variable("webhooks_allow_loopback")? == "true",
            vapid_public_key: Some(variable("vapid_public_key")?).filter(|key| !key.is_empty()),
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
        edge::answer("notifications-api", &request, routed)
    }

    async fn route(
        &self,
        request: &http::Request<Vec<u8>>,
        env: &Env,
    ) -> Result<http::Response<Vec<u8>>, ApiError> {
        let segments = edge::segments(request);
        // An id that is not a reminder id names nothing: 404 once the
        // caller is known.
        let (user, route) = match segments.as_slice() {
            ["", "api", user, "notifications"] => (*user, Route::Inbox),
            ["", "api", user, "notifications", id] => {
                (*user, Route::Notification(ReminderId::parse(id)))
            }
            ["", "api", user, "settings"] => (*user, Route::Settings),
            ["", "api", user, "changes"] => (*user, Route::Changes),
            ["", "api", user, "push-subscriptions"] => (*user, Route::Devices),
            ["", "api", user, "push-subscriptions", id] => (*user, Route::Device(id.to_string())),
            _ => return Err(ApiError::NotFound("route")),
        };
        let user = self.base.caller(request, user, env)?;
        let storage = &self.base.storage;
        let method = request.method();
        match route {
            Route::Inbox if method == Method::GET => {
                let query = InboxQuery::parse(request.uri().query().unwrap_or_default())?;
                Ok(json(StatusCode::OK, &inbox::page(storage, &user, &query)?))
            }
            Route::Inbox => Err(ApiError::MethodNotAllowed(method.clone(), "GET")),
            Route::Notification(id) if method == Method::PATCH => {
                let id = id.ok_or(ApiError::NotFound("notification"))?;
                let body = json_body(request.body())?;
                Ok(json(
                    StatusCode::OK,
                    &inbox::mark(storage, &user, id, &body)?,
                ))
            }
            Route::Notification(_) => Err(ApiError::MethodNotAllowed(method.clone(), "PATCH")),
            Route::Settings if method == Method::GET => {
                let settings = user_settings::get(storage, &user)?;
                Ok(json(StatusCode::OK, &settings.view(None)))
            }
            Route::Settings if method == Method::PUT => {
                let body = json_body(request.body())?;
                let input = SettingsInput::parse(&body, self.allow_loopback)?;
                // 128 random bits, shown to the user once.
                let fresh = format!("whsec_{:032x}", env.random);
                let (settings, made) = user_settings::put(storage, &user, &input, &fresh)?;
                Ok(json(StatusCode::OK, &settings.view(made.as_deref())))
            }
            Route::Settings => Err(ApiError::MethodNotAllowed(method.clone(), "GET, PUT")),
            Route::Changes if method == Method::GET => {
                let (after, limit) = feed::parse_query(request.uri().query().unwrap_or_default())?;
                Ok(json(
                    StatusCode::OK,
                    &feed::since(&self.base.storage, &user, after, limit)?,
                ))
            }
            Route::Changes => Err(ApiError::MethodNotAllowed(method.clone(), "GET")),
            Route::Devices if method == Method::GET => {
                let devices = Devices {
                    public_key: self.vapid_public_key.clone(),
                    subscriptions: push::list(storage, &user)?,
                };
                Ok(json(StatusCode::OK, &devices))
            }
            Route::Devices if method == Method::POST => {
                let given = Subscribe::parse(&json_body(request.body())?, self.allow_loopback)?;
                let id = ulid::Ulid::from_parts(
                    u64::try_from(env.now.timestamp_millis()).unwrap_or_default(),
                    env.random,
                );
                let (device, new) =
                    push::subscribe(storage, &user, &given, &id.to_string(), env.now)?;
                let status = if new {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                Ok(json(status, &device))
            }
            Route::Devices => Err(ApiError::MethodNotAllowed(method.clone(), "GET, POST")),
            Route::Device(id) if method == Method::DELETE => {
                push::unsubscribe(storage, &user, &id).map_err(|e| match e {
                    TaskError::NotFound => ApiError::NotFound("push subscription"),
                    other => other.into(),
                })?;
                Ok(edge::no_content())
            }
            Route::Device(_) => Err(ApiError::MethodNotAllowed(method.clone(), "DELETE")),
        }
    }
}

enum Route {
    Inbox,
    Notification(Option<ReminderId>),
    Settings,
    Changes,
    Devices,
    Device(String),
}
