//! A user's data, whole: a JSON export (tasks with their steps, projects,
//! saved views, settings without secrets, and every change) and a CSV of
//! the tasks for a spreadsheet.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::TaskError;
use crate::project::{Project, Projects};
use crate::reminders::user_settings;
use crate::task::activity::{self, Activity, ActivityQuery};
use crate::task::store::Storage;
use crate::view::{View, Views};
use crate::{Task, UserId};

/// What the export's `format` says it is.
pub const FORMAT: &str = "todo-chatbot-export";

/// Everything a user has.
#[derive(Debug, Serialize)]
pub struct Export {
    /// [`FORMAT`].
    pub format: &'static str,
    /// The version of its layout.
    pub version: u32,
    /// When it was read.
    pub exported_at: DateTime<Utc>,
    /// Whose it is.
    pub user_id: String,
    /// Their settings, without the webhook's secret.
    pub settings: Value,
    /// The Inbox and their projects, archived ones too.
    pub projects: Vec<Project>,
    /// Their saved views.
    pub views: Vec<View>,
    /// Every task, done or not, oldest first.
    pub tasks: Vec<Task>,
    /// Every change of their tasks, newest first.
    pub history: Vec<Activity>,
}

/// Why an export could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The tasks, settings or history could not be read.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// The projects could not be read.
    #[error(transparent)]
    Project(#[from] crate::error::ProjectError),
    /// The views could not be read.
    #[error(transparent)]
    View(#[from] crate::error::ViewError),
}

/// Reads all of `user`'s data at `now`.
pub fn export(storage: &Storage, user: &UserId, now: DateTime<Utc>) -> Result<Export, ExportError> {
    let stored = user_settings::get(storage, user)?;
    let settings = serde_json::to_value(stored.view(None)).unwrap_or_default();
    let zone = stored.time_zone;
    let everything = ActivityQuery {
        since: None,
        until: None,
        limit: usize::MAX,
        cursor: None,
    };
    Ok(Export {
        format: FORMAT,
        version: 1,
        exported_at: now,
        user_id: user.as_str().to_owned(),
        projects: projects(storage, user, now)?,
        views: Views::new(storage, user, zone).list(now)?,
        tasks: storage.tasks(user).all()?,
        history: activity::page(storage, user, &everything)?.activity,
        settings,
    })
}

/// The Inbox and the user's projects, archived ones last.
pub(crate) fn projects(
    storage: &Storage,
    user: &UserId,
    now: DateTime<Utc>,
) -> Result<Vec<Project>, ExportError> {
    let projects = Projects::new(storage, user);
    let mut all = projects.list(false, now)?;
    all.extend(projects.list(true, now)?);
    Ok(all)
}

/// `user`'s tasks as CSV, as [`csv`] writes them.
pub fn tasks_csv(
    storage: &Storage,
    user: &UserId,
    now: DateTime<Utc>,
) -> Result<String, ExportError> {
    let projects = projects(storage, user, now)?;
    Ok(csv(&storage.tasks(user).all()?, &projects)?)
}

/// The columns of the CSV, in order.
const COLUMNS: [&str; 16] = [
    "id",
    "title",
    "description",
    "completed",
    "priority",
    "tags",
    "project",
    "due_at",
    "time_zone",
    "recurrence",
    "recurrence_mode",
    "reminders",
    "steps",
    "created_at",
    "updated_at",
    "completed_at",
];

/// `tasks` as CSV (RFC 4180, a header row first): a cell per field, tags
/// separated by commas, the project by name, reminders and steps as JSON.
fn csv(tasks: &[Task], projects: &[Project]) -> Result<String, TaskError> {
    let failed = |e: csv::Error| TaskError::Unavailable(format!("cannot write CSV: {e}"));
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(COLUMNS).map_err(failed)?;
    for task in tasks {
        let json = serde_json::to_value(task).unwrap_or_default();
        let project = (projects.iter())
            .find(|p| p.id == task.project_id)
            .map_or_else(
                || task.project_id.to_string(),
                |p| p.name.as_str().to_owned(),
            );
        let cell = |name: &str| match &json[name] {
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let tags: Vec<&str> = task.tags.iter().map(|tag| tag.as_str()).collect();
        let row = COLUMNS.map(|column| match column {
            "tags" => tags.join(","),
            "project" => project.clone(),
            column => cell(column),
        });
        out.write_record(&row).map_err(failed)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| TaskError::Unavailable(format!("cannot write CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| TaskError::Unavailable(format!("cannot write CSV: {e}")))
}
