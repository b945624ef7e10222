//! `/api/{user_id}/projects` and `/api/{user_id}/projects/{project_id}`:
//! the user's projects with their counts, made, changed and deleted (a
//! project's tasks go with it only when asked, each with its event).

use dapr::Transport;
use http::{Method, StatusCode};
use serde::Serialize;

use super::Route;
use super::edge::{ApiError, json, json_body, no_content};
use crate::error::TaskError;
use crate::project::{Project, ProjectPatch, Projects, flag};
use crate::service::Env;
use crate::task::outbox::{Outbox, Owed};
use crate::task::store::Storage;

/// The project listing as answered: `{"projects": [...]}`.
#[derive(Serialize)]
struct Listed {
    projects: Vec<Project>,
}

/// Answers a request for `route` (a project route) of `projects`' user,
/// leaving in `owed` the events of the tasks a delete took with it.
pub(super) fn route<T: Transport>(
    projects: &Projects<'_, Storage>,
    route: Route,
    request: &http::Request<Vec<u8>>,
    env: &Env,
    owed: &mut Vec<Owed>,
    outbox: &Outbox<'_, T>,
) -> Result<http::Response<Vec<u8>>, ApiError> {
    let (method, body) = (request.method(), request.body());
    let query = request.uri().query().unwrap_or_default();
    match route {
        Route::Projects if method == Method::GET => {
            let projects = projects.list(flag(query, "archived")?, env.now)?;
            Ok(json(StatusCode::OK, &Listed { projects }))
        }
        Route::Projects if method == Method::POST => {
            let (name, patch) = ProjectPatch::parse_new(&json_body(body)?)?;
            Ok(json(
                StatusCode::CREATED,
                &projects.create(name, patch, env)?,
            ))
        }
        Route::Projects => Err(ApiError::MethodNotAllowed(method.clone(), "GET, POST")),
        Route::Project(None) => Err(ApiError::NotFound("project")),
        Route::Project(Some(id)) if method == Method::GET => {
            Ok(json(StatusCode::OK, &projects.get(id, env.now)?))
        }
        Route::Project(Some(id)) if method == Method::PATCH => {
            let patch = ProjectPatch::parse(&json_body(body)?)?;
            Ok(json(StatusCode::OK, &projects.update(id, patch, env.now)?))
        }
        Route::Project(Some(id)) if method == Method::DELETE => {
            for written in projects.delete(id, flag(query, "with_tasks")?, env)? {
                let (_, debt) = outbox.commit(Ok::<_, TaskError>(written));
                owed.extend(debt);
            }
            Ok(no_content())
        }
        Route::Project(_) => Err(ApiError::MethodNotAllowed(
            method.clone(),
            "GET, PATCH, DELETE",
        )),
        _ => Err(ApiError::NotFound("route")),
    }
}
