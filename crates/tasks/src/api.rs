//! The HTTP APIs of the tasks context: the route table of
//! `/api/{user_id}/tasks/...` ([`TasksApi`]) and of
//! `/api/{user_id}/notifications/...` ([`NotificationsApi`]) and of the chat
//! ([`ChatApi`]), over the edge
//! they share (authentication, body limits, JSON, one error enum mapped to
//! statuses and the contract's error JSON).

use dapr::{Dapr, Transport};
use http::{Method, StatusCode};
use serde::Serialize;

use crate::error::{FieldError, Problem, TaskError};
use crate::export;
use crate::import;
use crate::limits::{Given, Limits};
use crate::project::INBOX_NAME;
use crate::project::Projects;
use crate::reminders::{push, user_settings};
use crate::service::Env;
use crate::settings::Settings;
use crate::task::activity::{self, ActivityQuery};
use crate::task::history;
use crate::task::input::parse_move;
use crate::task::model::ProjectId;
use crate::task::once::{self, Once};
use crate::task::outbox::{Outbox, Owed};
use crate::task::steps::{self, StepEdit, StepRef};
use crate::task::store::{Created, Storage};
use crate::view::{ViewId, Views};
use crate::{ListQuery, Task, TaskId, TaskPatch, TaskSpec, task::repeat};

mod accounts;
mod calendar;
mod chat;
mod edge;
mod mcp;
mod notifications;
mod projects;
mod views;

pub use accounts::AccountsApi;
pub use chat::ChatApi;
pub use mcp::McpApi;
pub use notifications::NotificationsApi;

use edge::{ApiError, Base, Sidecar, encoded, json, json_body, no_content};

/// The tasks API behind a Dapr sidecar, for tokens signed with `jwt_secret`.
#[derive(Debug)]
pub struct TasksApi<T> {
    base: Base,
    sidecar: Sidecar<T>,
}

enum Route {
    Projects,
    Project(Option<ProjectId>),
    Views,
    View(Option<ViewId>),
    ViewTasks(Option<ViewId>),
    Collection,
    Task(Option<TaskId>),
    Complete(Option<TaskId>),
    History(Option<TaskId>),
    Occurrences(Option<TaskId>),
    Steps(Option<TaskId>),
    Step(Option<TaskId>, Option<StepRef>),
    Move(Option<TaskId>),
    Snooze(Option<TaskId>),
    Restore(Option<TaskId>),
    Activity,
    Export,
    CalendarFeed,
    Import,
}

/// A listing as answered: `{"tasks": [...], "next_cursor": ...}`.
#[derive(Serialize)]
struct Page<'a> {
    tasks: &'a [Task],
    next_cursor: Option<String>,
}

impl<'a> Page<'a> {
    fn of(listing: &'a crate::Listing) -> Self {
        Self {
            tasks: &listing.tasks,
            next_cursor: listing.next_cursor.as_ref().map(|cursor| cursor.encode()),
        }
    }
}

impl<T: Transport> TasksApi<T> {
    /// The API over `storage` behind `dapr`, as `settings` say, for tokens
    /// signed with `jwt_secret`.
    pub fn new(
        storage: Storage,
        dapr: Dapr<T>,
        settings: Settings,
        jwt_secret: impl Into<Vec<u8>>,
    ) -> Self {
        Self {
            base: Base::new(storage, Limits::default(), jwt_secret.into()),
            sidecar: Sidecar { dapr, settings },
        }
    }

    /// The API as a component's variables say (`database_url`,
    /// `auth_jwt_secret`, the task [`Limits`], `dapr_url`,
    /// `dapr_api_token` and the [`Settings`]), opening the database with
    /// `open` and reaching daprd through `transport`.
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

    /// Answers one request; failures become the contract's error JSON.
    /// A write's events are relayed after: settle what is owed
    /// ([`TasksApi::settle`]) once the answer is on its way.
    pub async fn handle(
        &self,
        request: http::Request<Vec<u8>>,
        env: Env,
    ) -> (http::Response<Vec<u8>>, Vec<Owed>) {
        let mut owed = Vec::new();
        let routed = self.route(&request, env, &mut owed).await;
        let response = edge::answer("tasks-api", &request, routed);
        (response, owed)
    }

    /// Relays the events of a write that [`TasksApi::handle`] answered (the
    /// outbox's second step, ADR 16), one after the other.
    pub async fn settle(&self, owed: Vec<Owed>) {
        let outbox = Outbox::new(
            &self.sidecar.dapr,
            &self.base.storage,
            &self.sidecar.settings,
        );
        for owed in owed {
            outbox.settle(owed).await;
        }
    }

    async fn route(
        &self,
        request: &http::Request<Vec<u8>>,
        env: Env,
        owed: &mut Vec<Owed>,
    ) -> Result<http::Response<Vec<u8>>, ApiError> {
        let segments = edge::segments(request);
        // The calendar feed's token is its credential: no bearer token.
        if let ["", "ical", file] = segments.as_slice() {
            return calendar::feed(&self.base.storage, file, request);
        }
        // An id that is not a ULID names no task: it is parsed here and
        // answered 404 once the caller is known.
        let (user, route) = match segments.as_slice() {
            ["", "api", user, "projects"] => (*user, Route::Projects),
            ["", "api", user, "projects", id] => (*user, Route::Project(ProjectId::parse(id).ok())),
            ["", "api", user, "views"] => (*user, Route::Views),
            ["", "api", user, "views", id] => (*user, Route::View(ViewId::parse(id))),
            ["", "api", user, "views", id, "tasks"] => (*user, Route::ViewTasks(ViewId::parse(id))),
            ["", "api", user, "tasks"] => (*user, Route::Collection),
            ["", "api", user, "activity"] => (*user, Route::Activity),
            ["", "api", user, "export"] => (*user, Route::Export),
            ["", "api", user, "import"] => (*user, Route::Import),
            ["", "api", user, "settings", "calendar-feed"] => (*user, Route::CalendarFeed),
            ["", "api", user, "tasks", id] => (*user, Route::Task(TaskId::parse(id))),
            ["", "api", user, "tasks", id, "complete"] => {
                (*user, Route::Complete(TaskId::parse(id)))
            }
            ["", "api", user, "tasks", id, "history"] => (*user, Route::History(TaskId::parse(id))),
            ["", "api", user, "tasks", id, "occurrences"] => {
                (*user, Route::Occurrences(TaskId::parse(id)))
            }
            ["", "api", user, "tasks", id, "steps"] => (*user, Route::Steps(TaskId::parse(id))),
            ["", "api", user, "tasks", id, "move"] => (*user, Route::Move(TaskId::parse(id))),
            ["", "api", user, "tasks", id, "snooze"] => (*user, Route::Snooze(TaskId::parse(id))),
            ["", "api", user, "tasks", id, "restore"] => (*user, Route::Restore(TaskId::parse(id))),
            ["", "api", user, "tasks", id, "steps", step] => {
                (*user, Route::Step(TaskId::parse(id), StepRef::parse(step)))
            }
            _ => return Err(ApiError::NotFound("route")),
        };
        // A pushed reminder's buttons complete or snooze its task with a
        // token for that task alone.
        let scope = match route {
            Route::Complete(Some(id)) | Route::Snooze(Some(id)) => Some(push::action_scope(id)),
            _ => None,
        };
        let limits = self.base.limits;
        let body_bytes = match route {
            Route::Import => limits.import_bytes,
            _ => limits.body_bytes,
        };
        let user = (self.base).caller_within(request, user, scope.as_deref(), body_bytes, &env)?;
        let body = request.body();
        let outbox = Outbox::new(
            &self.sidecar.dapr,
            &self.base.storage,
            &self.sidecar.settings,
        );
        let tasks = outbox.tasks(&user).limited(self.base.limits);
        let method = request.method();
        let found = |id: Option<TaskId>| id.ok_or(ApiError::NotFound("task"));
        let query = request.uri().query().unwrap_or_default();
        match route {
            Route::Projects | Route::Project(_) => {
                let projects = Projects::new(&self.base.storage, &user);
                projects::route(&projects, route, request, &env, owed, &outbox)
            }
            Route::Collection if method == Method::POST => {
                let key = request.headers().get(once::HEADER).map(|v| v.as_bytes());
                let once = Once::of(key, body)?;
                let spec = TaskSpec::parse(&json_body(body)?)?;
                let Some(once) = once else {
                    let task = commit(&outbox, owed, tasks.create(spec, &env))?;
                    return Ok(json(StatusCode::CREATED, &task));
                };
                let (created, debt) = outbox.commit(tasks.create_once(spec, &once, &env));
                owed.extend(debt);
                let (answer, replayed) = match created? {
                    Created::New(_, answer) => (answer, false),
                    Created::Again(answer) => (answer, true),
                };
                let mut response = encoded(StatusCode::CREATED, answer);
                if replayed {
                    let headers = response.headers_mut();
                    headers.insert(once::REPLAYED, http::HeaderValue::from_static("true"));
                }
                Ok(response)
            }
            Route::Views | Route::View(_) | Route::ViewTasks(_) => {
                let zone = user_settings::get(&self.base.storage, &user)?.time_zone;
                let views = Views::new(&self.base.storage, &user, zone);
                views::route(&views, route, request, &env)
            }
            Route::Collection if method == Method::GET => {
                let mut query = ListQuery::parse(query)?;
                if query.due.is_some() {
                    let zone = user_settings::get(&self.base.storage, &user)?.time_zone;
                    query.resolve(env.now, zone);
                }
                let listing = tasks.list(&query, env.now)?;
                Ok(json(StatusCode::OK, &Page::of(&listing)))
            }
            Route::Collection => Err(ApiError::MethodNotAllowed(method.clone(), "GET, POST")),
            Route::Task(id) if method == Method::GET => {
                let task = match history::parse_as_of(query)? {
                    None => tasks.get(found(id)?)?,
                    Some(at) => history::as_of(&self.base.storage, &user, found(id)?, at)?,
                };
                Ok(json(StatusCode::OK, &task))
            }
            Route::Task(id) if method == Method::PUT => {
                let spec = TaskSpec::parse(&json_body(body)?)?;
                let task = commit(&outbox, owed, tasks.replace(found(id)?, spec, &env))?;
                Ok(json(StatusCode::OK, &task))
            }
            Route::Task(id) if method == Method::PATCH => {
                let patch = TaskPatch::parse(&json_body(body)?)?;
                let task = commit(&outbox, owed, tasks.patch(found(id)?, patch, &env))?;
                Ok(json(StatusCode::OK, &task))
            }
            Route::Task(id) if method == Method::DELETE => {
                commit(&outbox, owed, tasks.delete(found(id)?, &env))?;
                Ok(no_content())
            }
            Route::Task(_) => Err(ApiError::MethodNotAllowed(
                method.clone(),
                "GET, PUT, PATCH, DELETE",
            )),
            Route::Complete(id) if method == Method::PATCH => {
                let completed = completed_flag(body)?;
                let task = commit(&outbox, owed, tasks.complete(found(id)?, completed, &env))?;
                Ok(json(StatusCode::OK, &task))
            }
            Route::Complete(_) => Err(ApiError::MethodNotAllowed(method.clone(), "PATCH")),
            Route::History(id) if method == Method::GET => {
                let id = found(id)?;
                let query = history::parse_query(query)?;
                let page = history::page(&self.base.storage, &user, id, query)?
                    .ok_or(TaskError::NotFound)?;
                Ok(json(StatusCode::OK, &page))
            }
            Route::History(_) => Err(ApiError::MethodNotAllowed(method.clone(), "GET")),
            Route::Occurrences(id) if method == Method::GET => {
                let count = occurrence_count(query)?;
                let task = tasks.get(found(id)?)?;
                #[derive(Serialize)]
                struct Occurrences {
                    occurrences: Vec<chrono::DateTime<chrono::FixedOffset>>,
                }
                let occurrences = repeat::preview(&task, count);
                Ok(json(StatusCode::OK, &Occurrences { occurrences }))
            }
            Route::Occurrences(_) => Err(ApiError::MethodNotAllowed(method.clone(), "GET")),
            Route::Steps(id) if method == Method::POST => {
                let edit = StepEdit::parse(&json_body(body)?)?;
                let task = commit(
                    &outbox,
                    owed,
                    tasks.update(found(id)?, &env, |t| edit.add(t)),
                )?;
                Ok(json(StatusCode::CREATED, &task))
            }
            Route::Steps(_) => Err(ApiError::MethodNotAllowed(method.clone(), "POST")),
            Route::Move(id) if method == Method::POST => {
                let (project, place) = parse_move(&json_body(body)?)?;
                let moved = tasks.place(found(id)?, project, place, &env);
                Ok(json(StatusCode::OK, &commit(&outbox, owed, moved)?))
            }
            Route::Move(_) => Err(ApiError::MethodNotAllowed(method.clone(), "POST")),
            Route::Snooze(id) if method == Method::POST => {
                let minutes = snooze_minutes(body)?;
                let at = env.now + chrono::Duration::minutes(minutes);
                let snoozed = tasks.update(found(id)?, &env, |task| {
                    let at = task.time_zone.local(at);
                    let time = crate::ReminderTime::At { at };
                    task.reminders.push(crate::Reminder {
                        time,
                        fires_at: Some(at),
                    });
                    Ok(())
                });
                Ok(json(StatusCode::OK, &commit(&outbox, owed, snoozed)?))
            }
            Route::Snooze(_) => Err(ApiError::MethodNotAllowed(method.clone(), "POST")),
            Route::Restore(id) if method == Method::POST => {
                if !body.iter().all(u8::is_ascii_whitespace) {
                    let expected = "empty: a restore takes no fields";
                    return Err(FieldError::new("body", Problem::WrongType { expected }).into());
                }
                let restored = tasks.restore(found(id)?, &env);
                Ok(json(StatusCode::CREATED, &commit(&outbox, owed, restored)?))
            }
            Route::Restore(_) => Err(ApiError::MethodNotAllowed(method.clone(), "POST")),
            Route::Activity if method == Method::GET => {
                let query = ActivityQuery::parse(query)?;
                let page = activity::page(&self.base.storage, &user, &query)?;
                Ok(json(StatusCode::OK, &page))
            }
            Route::Activity => Err(ApiError::MethodNotAllowed(method.clone(), "GET")),
            Route::Export if method == Method::GET => {
                let storage = &self.base.storage;
                let (body, kind, file) = if export_as_csv(query)? {
                    let csv = export::tasks_csv(storage, &user, env.now)?;
                    (csv.into_bytes(), "text/csv; charset=utf-8", "tasks.csv")
                } else {
                    let everything = export::export(storage, &user, env.now)?;
                    let json = serde_json::to_vec(&everything).map_err(|e| {
                        TaskError::Unavailable(format!("cannot encode an export: {e}"))
                    })?;
                    (json, "application/json", "todo-export.json")
                };
                let mut response = encoded(StatusCode::OK, body);
                let headers = response.headers_mut();
                headers.insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static(kind),
                );
                let disposition = format!("attachment; filename=\"{file}\"");
                if let Ok(value) = http::HeaderValue::from_str(&disposition) {
                    headers.insert(http::header::CONTENT_DISPOSITION, value);
                }
                Ok(response)
            }
            Route::Export => Err(ApiError::MethodNotAllowed(method.clone(), "GET")),
            Route::CalendarFeed => calendar::address(&self.base.storage, &user, request, &env),
            Route::Import if method == Method::POST => {
                let query = ImportQuery::parse(query)?;
                let storage = &self.base.storage;
                let existing = export::projects(storage, &user, env.now)?;
                let plan = match query.from {
                    Source::Todoist => {
                        let zone = user_settings::get(storage, &user)?.time_zone;
                        let project = query.project.as_deref().unwrap_or(INBOX_NAME);
                        import::todoist::plan(body, project, &existing, zone, &env)?
                    }
                    Source::Export => {
                        let present = storage.tasks(&user).ids()?;
                        import::backup::plan(body, &existing, &present, &env)?
                    }
                };
                let (report, written) =
                    import::run(storage, &user, plan, query.dry_run, limits, &env)?;
                for written in written {
                    let (_, debt) = outbox.commit(Ok::<_, TaskError>(written));
                    owed.extend(debt);
                }
                let status = match query.dry_run {
                    true => StatusCode::OK,
                    false => StatusCode::CREATED,
                };
                Ok(json(status, &report))
            }
            Route::Import => Err(ApiError::MethodNotAllowed(method.clone(), "POST")),
            Route::Step(id, step) => {
                let id = found(id)?;
                let step = step.ok_or(ApiError::NotFound("step"))?;
                let written = if method == Method::PATCH {
                    let edit = StepEdit::parse(&json_body(body)?)?;
                    tasks.update(id, &env, |t| edit.apply(t, step))
                } else if method == Method::DELETE {
                    tasks.update(id, &env, |t| steps::remove(t, step))
                } else {
                    return Err(ApiError::MethodNotAllowed(method.clone(), "PATCH, DELETE"));
                };
                Ok(json(StatusCode::OK, &commit(&outbox, owed, written)?))
            }
        }
    }
}

/// Takes `written` through the outbox's first step (ADR 16), leaving in
/// `owed` the event to relay once the answer is on its way.
fn commit<T: Transport>(
    outbox: &Outbox<'_, T>,
    owed: &mut Vec<Owed>,
    written: Result<crate::Written, TaskError>,
) -> Result<Task, TaskError> {
    let (written, debt) = outbox.commit(written);
    owed.extend(debt);
    Ok(written?.task)
}

/// The `count` of `.../occurrences?count=N`: 1 to [`repeat::MAX_PREVIEW`], 10
/// when not given.
fn occurrence_count(query: &str) -> Result<usize, FieldError> {
    let mut count = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let err = |problem| FieldError::new(name.as_ref(), problem);
        match name.as_ref() {
            "count" if count.is_some() => return Err(err(Problem::GivenTwice)),
            "count" => {
                count = Some(crate::task::query::limit(&value, repeat::MAX_PREVIEW).map_err(err)?)
            }
            _ => return Err(err(Problem::UnknownField { known: "count" })),
        }
    }
    Ok(count.unwrap_or(10))
}

/// Whether an export's query asks for CSV (`format=csv`) rather than
/// JSON (`format=json`, or nothing).
fn export_as_csv(query: &str) -> Result<bool, FieldError> {
    let mut csv = false;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let err = |problem| FieldError::new(name.as_ref(), problem);
        match (name.as_ref(), value.as_ref()) {
            ("format", "json") => csv = false,
            ("format", "csv") => csv = true,
            ("format", other) => {
                let got = other.to_owned();
                return Err(err(Problem::NotOneOf {
                    allowed: "json, csv",
                    got,
                }));
            }
            _ => return Err(err(Problem::UnknownField { known: "format" })),
        }
    }
    Ok(csv)
}

/// The optional `{"minutes": N}` body of `.../snooze` (1 to 1440; empty
/// means 10): how long until the task's new reminder.
fn snooze_minutes(body: &[u8]) -> Result<i64, ApiError> {
    const DEFAULT: i64 = 10;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DEFAULT);
    }
    let serde_json::Value::Object(fields) = json_body(body)? else {
        let expected = "empty or {\"minutes\": N}";
        return Err(FieldError::new("body", Problem::WrongType { expected }).into());
    };
    let mut minutes = DEFAULT;
    for (name, value) in fields {
        let err = |problem| FieldError::new(name.as_str(), problem);
        if name != "minutes" {
            return Err(err(Problem::UnknownField { known: "minutes" }).into());
        }
        minutes = value
            .as_i64()
            .filter(|m| (1..=1440).contains(m))
            .ok_or_else(|| {
                err(Problem::OutOfRange {
                    min: 1,
                    max: 1440,
                    got: value.as_i64().unwrap_or(-1),
                })
            })?;
    }
    Ok(minutes)
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

/// Where an import's file comes from.
enum Source {
    /// Todoist's CSV export of a project.
    Todoist,
    /// This app's JSON export.
    Export,
}

/// `POST /import?from=todoist|export&project=NAME&dry_run=true`.
struct ImportQuery {
    from: Source,
    project: Option<String>,
    dry_run: bool,
}

impl ImportQuery {
    const KNOWN: &'static str = "from, project, dry_run";

    fn parse(query: &str) -> Result<Self, FieldError> {
        let mut from = None;
        let (mut project, mut dry_run) = (None, false);
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let err = |problem| FieldError::new(name.as_ref(), problem);
            let got = value.to_string();
            match name.as_ref() {
                "from" => {
                    from = Some(match value.as_ref() {
                        "todoist" => Source::Todoist,
                        "export" => Source::Export,
                        _ => {
                            let allowed = "todoist, export";
                            return Err(err(Problem::NotOneOf { allowed, got }));
                        }
                    })
                }
                "project" => project = Some(got),
                "dry_run" => {
                    dry_run = match value.as_ref() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            let allowed = "true, false";
                            return Err(err(Problem::NotOneOf { allowed, got }));
                        }
                    }
                }
                _ => return Err(err(Problem::UnknownField { known: Self::KNOWN })),
            }
        }
        let from = from.ok_or_else(|| FieldError::new("from", Problem::Missing))?;
        Ok(Self {
            from,
            project,
            dry_run,
        })
    }
}
