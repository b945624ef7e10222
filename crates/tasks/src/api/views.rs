//! `/api/{user_id}/views`, `/api/{user_id}/views/{view_id}` and
//! `/api/{user_id}/views/{view_id}/tasks`: the user's saved views with
//! their counts, saved, changed and deleted, and each view's tasks a page
//! at a time, as the same listing given by hand answers them.

use http::{Method, StatusCode};
use serde::Serialize;

use super::edge::{ApiError, json, json_body, no_content};
use super::{Page, Route};
use crate::service::Env;
use crate::task::store::Storage;
use crate::view::{View, ViewId, ViewPatch, Views};

/// The view listing as answered: `{"views": [...]}`.
#[derive(Serialize)]
struct Listed {
    views: Vec<View>,
}

/// Answers a request for `route` (a view route) of `views`' user.
pub(super) fn route(
    views: &Views<'_, Storage>,
    route: Route,
    request: &http::Request<Vec<u8>>,
    env: &Env,
) -> Result<http::Response<Vec<u8>>, ApiError> {
    let (method, body) = (request.method(), request.body());
    let query = request.uri().query().unwrap_or_default();
    let found = |id: Option<ViewId>| id.ok_or(ApiError::NotFound("view"));
    match route {
        Route::Views if method == Method::GET => {
            let views = views.list(env.now)?;
            Ok(json(StatusCode::OK, &Listed { views }))
        }
        Route::Views if method == Method::POST => {
            let (name, filter) = ViewPatch::parse_new(&json_body(body)?)?;
            Ok(json(StatusCode::CREATED, &views.create(name, filter, env)?))
        }
        Route::Views => Err(ApiError::MethodNotAllowed(method.clone(), "GET, POST")),
        Route::View(id) if method == Method::GET => {
            Ok(json(StatusCode::OK, &views.get(found(id)?, env.now)?))
        }
        Route::View(id) if method == Method::PATCH => {
            let patch = ViewPatch::parse(&json_body(body)?)?;
            Ok(json(
                StatusCode::OK,
                &views.update(found(id)?, patch, env.now)?,
            ))
        }
        Route::View(id) if method == Method::DELETE => {
            views.delete(found(id)?)?;
            Ok(no_content())
        }
        Route::View(_) => Err(ApiError::MethodNotAllowed(
            method.clone(),
            "GET, PATCH, DELETE",
        )),
        Route::ViewTasks(id) if method == Method::GET => {
            let listing = views.tasks(found(id)?, query, env.now)?;
            Ok(json(StatusCode::OK, &Page::of(&listing)))
        }
        Route::ViewTasks(_) => Err(ApiError::MethodNotAllowed(method.clone(), "GET")),
        _ => Err(ApiError::NotFound("route")),
    }
}
