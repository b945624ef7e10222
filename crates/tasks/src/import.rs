//! Bringing a user's tasks in (ADR 26): from Todoist's CSV export
//! ([`todoist`]) and from this app's own JSON export ([`backup`]).
//!
//! A file is read whole into a [`Plan`] before anything is written: a file
//! that is not what it says gets a 400 naming its line, and changes
//! nothing; a line that is readable but wrong (an unknown type, a priority
//! of 7) is left out and reported. A dry run answers the plan; the real run
//! writes it in one transaction, within the user's task limit. Each task
//! carries a key of what its line says (its source, project, section, text
//! and date); the keys are kept (`imports`), so a file imported again makes
//! nothing twice.

pub mod backup;
pub mod todoist;

use std::collections::HashSet;

use serde::Serialize;
use sql::{Database, Finish, transaction};

use crate::error::{ProjectError, TaskError};
use crate::limits::Limits;
use crate::project::{Project, Projects};
use crate::service::{Env, Written};
use crate::task::store::Storage;
use crate::{Task, UserId};

/// What an import would make, read from a file.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Projects to make, the user's not yet.
    pub projects: Vec<Project>,
    /// Tasks to make, in the file's order.
    pub tasks: Vec<Planned>,
    /// What was left out, and why.
    pub problems: Vec<Unread>,
    /// How many of the file's tasks the user has already (by id).
    pub present: usize,
}

/// A task an import would make.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Where in the file it is: `line 7`, `tasks[3]`.
    pub at: String,
    /// What makes it once (see the module's documentation).
    pub key: String,
    /// The task, with its id.
    pub task: Task,
}

/// A part of a file that was left out (or read in part), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unread {
    /// Where in the file: `line 7`, `tasks[3]`.
    pub at: String,
    /// What is wrong with it, in words.
    pub message: String,
}

impl Unread {
    /// `message` about the part `at`.
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            at: at.into(),
            message: message.into(),
        }
    }
}

/// What an import did, or would do.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The names of the projects made.
    pub projects: Vec<String>,
    /// The tasks made, in the file's order.
    pub tasks: Vec<Made>,
    /// How many of the file's tasks an earlier import made already.
    pub already_imported: usize,
    /// What was left out, and why.
    pub problems: Vec<Unread>,
}

/// A task an import made.
#[derive(Debug, Serialize)]
pub struct Made {
    /// Where in the file it is.
    pub at: String,
    /// The task as made.
    pub task: Task,
}

/// Why a file cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not what it says (not CSV, not a Todoist export, not
    /// this app's export): nothing is imported.
    #[error("{at}: {message}")]
    Malformed {
        /// Where: `line 3`, `body`.
        at: String,
        /// What is wrong.
        message: String,
    },
    /// The tasks could not be read or written, or are too many.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// The projects could not be read or written.
    #[error(transparent)]
    Project(#[from] ProjectError),
}

impl From<sql::SqlError> for ImportError {
    fn from(e: sql::SqlError) -> Self {
        Self::Task(e.into())
    }
}

impl ImportError {
    /// The file is malformed at `at`.
    pub fn malformed(at: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Malformed {
            at: at.into(),
            message: message.into(),
        }
    }
}

/// Runs `plan` for `user`: only reports it when `dry_run`, writes it
/// otherwise. Answers the report and what was written (each task's event
/// owed to the outbox).
pub fn run(
    storage: &Storage,
    user: &UserId,
    plan: Plan,
    dry_run: bool,
    limits: Limits,
    env: &Env,
) -> Result<(Report, Vec<Written>), ImportError> {
    let known = imported(storage, user)?;
    let (fresh, again): (Vec<Planned>, Vec<Planned>) =
        (plan.tasks.into_iter()).partition(|planned| !known.contains(&planned.key));
    let projects = plan.projects;
    let held = held(storage, user)?;
    if !fresh.is_empty() {
        let count = u64::try_from(fresh.len()).unwrap_or(u64::MAX);
        (limits.may_create(held.saturating_add(count) - 1)).map_err(TaskError::from)?;
    }
    let written = if dry_run || (fresh.is_empty() && projects.is_empty()) {
        Vec::new()
    } else {
        write(storage, user, &projects, &fresh, limits, env)?
    };
    let report = Report {
        dry_run,
        projects: projects
            .iter()
            .map(|p| p.name.as_str().to_owned())
            .collect(),
        tasks: (fresh.into_iter())
            .map(|planned| Made {
                at: planned.at,
                task: planned.task,
            })
            .collect(),
        already_imported: again.len() + plan.present,
        problems: plan.problems,
    };
    Ok((report, written))
}

/// Writes `projects` and `tasks` in one transaction.
fn write(
    storage: &Storage,
    user: &UserId,
    projects: &[Project],
    tasks: &[Planned],
    limits: Limits,
    env: &Env,
) -> Result<Vec<Written>, ImportError> {
    transaction(storage, |db| {
        for project in projects {
            Projects::new(db, user).insert_within(project)?;
        }
        // An import of the same file at the same time made some of them:
        // this one fails (409), and run again finds them made.
        let keys: Vec<Vec<sql::Value>> = (tasks.iter())
            .map(|p| {
                let id = p.task.id.to_string();
                vec![user.as_str().into(), p.key.as_str().into(), id.into()]
            })
            .collect();
        let into = "imports (user_id, key, task_id)";
        let keyed = sql::insert_rows(db, into, &keys, " ON CONFLICT (user_id, key) DO NOTHING")?;
        if keyed < u64::try_from(keys.len()).unwrap_or(u64::MAX) {
            return Err(TaskError::Conflict.into());
        }
        let made: Vec<Task> = tasks.iter().map(|p| p.task.clone()).collect();
        let store = crate::TaskStore::new(db, user).limited(limits);
        let written = store.create_many(&made, env)?;
        Ok(Finish::Commit(written))
    })
}

/// The keys of what `user` imported before.
fn imported(storage: &Storage, user: &UserId) -> Result<HashSet<String>, TaskError> {
    let rows = storage.query(
        "SELECT key FROM imports WHERE user_id = $1",
        &[user.as_str().into()],
    )?;
    Ok(rows
        .iter()
        .filter_map(|row| row.text(0).ok().map(str::to_owned))
        .collect())
}

/// How many tasks `user` has.
fn held(storage: &Storage, user: &UserId) -> Result<u64, TaskError> {
    let rows = storage.query(
        "SELECT tasks FROM users WHERE user_id = $1",
        &[user.as_str().into()],
    )?;
    let count = rows.first().map(|row| row.int(0)).transpose()?;
    Ok(u64::try_from(count.unwrap_or_default()).unwrap_or_default())
}
