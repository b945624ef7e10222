//! This app's own JSON export ([`crate::export`], format
//! `todo-chatbot-export` version 1) brought back, into an empty account or
//! another one: its projects and tasks as they were, with their ids, times,
//! order, state and series, so that the listings and the next occurrences
//! are the same. Its views, settings and history are not brought back
//! (the history starts again with each task's import).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{ImportError, Plan, Planned, Unread};
use crate::export::FORMAT;
use crate::project::{Color, Name, Project};
use crate::service::Env;
use crate::task::model::ProjectId;
use crate::{Task, TaskId};

/// Reads `file`, an export, as what it would make for a user who has the
/// projects `existing` and the tasks `present`: a project of the same id,
/// or else of the same name, is theirs already; a task of the same id is
/// left as it is (counted in [`Plan::present`]).
pub fn plan(
    file: &[u8],
    existing: &[Project],
    present: &HashSet<TaskId>,
    env: &Env,
) -> Result<Plan, ImportError> {
    let export: Value = serde_json::from_slice(file).map_err(|e| {
        ImportError::malformed(format!("line {}", e.line()), format!("not JSON: {e}"))
    })?;
    if export["format"] != FORMAT || export["version"] != 1 {
        return Err(ImportError::malformed(
            "format",
            format!("not an export of this app: format must be {FORMAT:?} and version 1"),
        ));
    }
    let mut plan = Plan::default();
    let mut moved: HashMap<ProjectId, ProjectId> = HashMap::new();
    for (i, value) in list(&export, "projects").iter().enumerate() {
        let at = format!("projects[{i}]");
        if value["inbox"] == true {
            continue;
        }
        match project(value, env) {
            Ok(project) => {
                let same = (existing.iter())
                    .find(|p| p.id == project.id || p.name.key() == project.name.key());
                match same {
                    Some(theirs) => {
                        moved.insert(project.id, theirs.id);
                    }
                    None => plan.projects.push(project),
                }
            }
            Err(message) => plan.problems.push(Unread::new(at, message)),
        }
    }
    for (i, value) in list(&export, "tasks").iter().enumerate() {
        let at = format!("tasks[{i}]");
        let mut task: Task = match serde_json::from_value(value.clone()) {
            Ok(task) => task,
            Err(e) => {
                plan.problems
                    .push(Unread::new(at, format!("not a task: {e}")));
                continue;
            }
        };
        if present.contains(&task.id) {
            plan.present += 1;
            continue;
        }
        if let Some(theirs) = moved.get(&task.project_id) {
            task.project_id = *theirs;
        }
        let known = |id: &ProjectId| {
            *id == ProjectId::Inbox
                || existing.iter().any(|p| p.id == *id)
                || plan.projects.iter().any(|p| p.id == *id)
        };
        if !known(&task.project_id) {
            let message = "its project is not in the file: it goes to the Inbox";
            plan.problems.push(Unread::new(at.clone(), message));
            task.project_id = ProjectId::Inbox;
        }
        // Reminders still ahead fire again; those past stay fired.
        task.schedule_reminders(env.now);
        plan.tasks.push(Planned {
            at,
            key: format!("export\u{1f}{}", task.id),
            task,
        });
    }
    Ok(plan)
}

/// The array `name` of the export (none when it has none).
fn list<'a>(export: &'a Value, name: &str) -> &'a [Value] {
    export[name].as_array().map_or(&[], Vec::as_slice)
}

/// A project of the export, as made.
fn project(value: &Value, env: &Env) -> Result<Project, String> {
    let text = |name: &str| value[name].as_str().unwrap_or_default();
    let id = ProjectId::parse(text("id")).map_err(|e| format!("id: {e}"))?;
    let name = Name::parse(text("name")).map_err(|e| format!("name: {e}"))?;
    let color = Color::parse(text("color")).unwrap_or(Color::DEFAULT);
    let at = |name: &str| {
        serde_json::from_value(value[name].clone())
            .ok()
            .or(Some(env.now))
    };
    Ok(Project {
        id,
        name,
        color,
        archived: value["archived"] == true,
        inbox: false,
        pending: 0,
        overdue: 0,
        created_at: at("created_at"),
        updated_at: at("updated_at"),
    })
}
