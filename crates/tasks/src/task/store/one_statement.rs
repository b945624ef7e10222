//! A write on PostgreSQL as one statement instead of a transaction (ADR 16).
//!
//! A transaction holds the user's row lock across every round trip between
//! the component and the database, so one user's writes queue behind each
//! other's round trips; one statement holds it only while it runs. Its
//! data-modifying `WITH` parts run on one snapshot: each takes what it
//! writes from the part before it (`written` the task's row, `numbered`
//! the user's row with the change's number), so when one writes nothing,
//! nothing after it does.
//!
//! An edit or a delete is conditional on the task's version as read: when
//! another write changed the task in between, the statement writes nothing
//! and the edit is computed again from the task as it now is. SQLite has
//! no data-modifying `WITH` and locks the whole database for a write with
//! no server to go back and forth to: there the writes stay transactions.

use sql::{Params, SqlError};

use super::{TaskStore, event_type, row, unchanged};
use crate::error::{Exceeded, FieldError, Problem, TaskError};
use crate::service::{Env, Written};
use crate::task::change::Recorded;
use crate::task::model::ProjectId;
use crate::{Task, TaskId, UserId};

/// How often an edit is computed again when other writes changed its task
/// in between.
const RACES: usize = 8;

impl<D: sql::Database + ?Sized> TaskStore<'_, D> {
    /// [`Self::insert`]: the user's row numbers the change and counts the
    /// task (not past the task limit), then the task, its tags and its
    /// change are inserted; for a next occurrence the successor's row comes
    /// first, and when it exists already nothing else is written.
    pub(super) fn insert_at_once(
        &self,
        task: Task,
        event: Option<Recorded>,
        repeats: Option<TaskId>,
    ) -> Result<Option<Written>, TaskError> {
        self.check_project(task.project_id)?;
        let mut p = Params::default();
        let placed = Placed::new(&mut p, self.user, &task)?;
        let (user, task_id) = (&placed.user, &placed.id);
        let most = match &self.limits {
            Some(limits) => i64::try_from(limits.tasks_per_user).unwrap_or(i64::MAX),
            None => i64::MAX,
        };
        let (succeeded, gate) = match repeats {
            Some(previous) => (
                format!(
                    "succeeded AS (INSERT INTO successors (user_id, task_id, next_id) \
                     VALUES ({user}, {}, {task_id}) \
                     ON CONFLICT (user_id, task_id) DO NOTHING RETURNING 1), ",
                    p.add(previous.to_string())
                ),
                " WHERE EXISTS (SELECT 1 FROM succeeded)",
            ),
            None => (String::new(), ""),
        };
        let statement = format!(
            "WITH {succeeded}\
             numbered AS (INSERT INTO users (user_id, last_change, tasks) \
             SELECT {user}, 1, 1{gate} \
             ON CONFLICT (user_id) DO UPDATE SET last_change = users.last_change + 1, \
             tasks = users.tasks + 1 WHERE users.tasks < {most}::bigint \
             RETURNING last_change), \
             written AS (INSERT INTO tasks (user_id, id, version, {columns}) \
             SELECT {user}, {task_id}, 1, {values} FROM numbered RETURNING id)\
             {tagged}{recorded} \
             SELECT last_change FROM numbered",
            most = p.add(most),
            columns = Placed::COLUMNS.map(|(column, _)| column).join(", "),
            values = placed.values(),
            tagged = tagged(&mut p, user, task_id, &task.tags),
            recorded = recorded(&mut p, user, task_id, event.as_ref())?,
        );
        let Some(seq) = self.number(&statement, p, task.project_id)? else {
            // The successor was made already, or the user has their most.
            return match (repeats, &self.limits) {
                (None, Some(limits)) => Err(Exceeded::Tasks(limits.tasks_per_user).into()),
                _ => Ok(None),
            };
        };
        Ok(Some(Written {
            task,
            event,
            seq: Some(seq),
        }))
    }

    /// [`Self::update`]: the task as read is changed, and written with its
    /// tags and its change unless another write changed it meanwhile (then
    /// all of it again).
    pub(super) fn update_at_once(
        &self,
        id: TaskId,
        env: &Env,
        change: impl Fn(&mut Task) -> Result<(), TaskError>,
    ) -> Result<Written, TaskError> {
        for _ in 0..RACES {
            let (before, version) = self.get_versioned(id)?;
            let Some(after) = self.edited(&before, &change)? else {
                return Ok(unchanged(before));
            };
            let event = self.event(Some(&before), Some(&after), env)?;
            let mut p = Params::default();
            let placed = Placed::new(&mut p, self.user, &after)?;
            let (user, task_id) = (&placed.user, &placed.id);
            let retagged = if after.tags == before.tags {
                String::new()
            } else {
                let gone: Vec<String> = (before.tags.iter())
                    .filter(|tag| !after.tags.contains(tag))
                    .map(|tag| p.add(tag.as_str()))
                    .collect();
                let new: Vec<_> = (after.tags.iter())
                    .filter(|tag| !before.tags.contains(tag))
                    .cloned()
                    .collect();
                let untagged = if gone.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", untagged AS (DELETE FROM task_tags WHERE user_id = {user} \
                         AND task_id = {task_id} AND tag IN ({}) AND EXISTS (SELECT 1 FROM written))",
                        gone.join(", ")
                    )
                };
                untagged + &tagged(&mut p, user, task_id, &new)
            };
            let statement = format!(
                "WITH written AS (UPDATE tasks SET version = version + 1, {assignments} \
                 WHERE user_id = {user} AND id = {task_id} AND version = {version} RETURNING id), \
                 numbered AS (UPDATE users SET last_change = last_change + 1 \
                 WHERE user_id = {user} AND EXISTS (SELECT 1 FROM written) \
                 RETURNING last_change){retagged}{recorded} \
                 SELECT last_change FROM numbered",
                version = p.add(version),
                assignments = placed.assignments(),
                recorded = recorded(&mut p, user, task_id, event.as_ref())?,
            );
            if let Some(seq) = self.number(&statement, p, after.project_id)? {
                return Ok(Written {
                    task: after,
                    event,
                    seq: Some(seq),
                });
            }
        }
        Err(TaskError::Conflict)
    }

    /// [`Self::delete`]: the task as read is deleted with its tags, and its
    /// change recorded, unless another write changed it meanwhile (then all
    /// of it again).
    pub(super) fn delete_at_once(&self, id: TaskId, env: &Env) -> Result<Written, TaskError> {
        for _ in 0..RACES {
            let (task, version) = self.get_versioned(id)?;
            let event = self.event(Some(&task), None, env)?;
            let mut p = Params::default();
            let (user, task_id) = (p.add(self.user()), p.add(id.to_string()));
            let statement = format!(
                "WITH written AS (DELETE FROM tasks \
                 WHERE user_id = {user} AND id = {task_id} AND version = {version} RETURNING id), \
                 numbered AS (UPDATE users SET last_change = last_change + 1, tasks = tasks - 1 \
                 WHERE user_id = {user} AND EXISTS (SELECT 1 FROM written) \
                 RETURNING last_change), \
                 untagged AS (DELETE FROM task_tags WHERE user_id = {user} AND task_id = {task_id} \
                 AND EXISTS (SELECT 1 FROM written)){recorded} \
                 SELECT last_change FROM numbered",
                version = p.add(version),
                recorded = recorded(&mut p, &user, &task_id, event.as_ref())?,
            );
            if let Some(seq) = self.number(&statement, p, ProjectId::Inbox)? {
                return Ok(Written {
                    task,
                    event,
                    seq: Some(seq),
                });
            }
        }
        Err(TaskError::Conflict)
    }

    /// Runs a write's `statement` of a task in `project`, answering the
    /// number of its change, or `None` when it wrote nothing. The task's
    /// foreign key refuses a project deleted since it was checked.
    fn number(
        &self,
        statement: &str,
        params: Params,
        project: ProjectId,
    ) -> Result<Option<i64>, TaskError> {
        let rows = self
            .db
            .query(statement, params.values())
            .map_err(|e| match e {
                SqlError::Reference(_) => {
                    FieldError::new("project_id", Problem::UnknownProject(project.to_string()))
                        .into()
                }
                other => TaskError::from(other),
            })?;
        Ok(rows.first().map(|row| row.int(0)).transpose()?)
    }
}

/// A task's row as a statement's placeholders: its key (`user`, `id`) and
/// its other columns, in [`Placed::COLUMNS`]' order.
struct Placed {
    user: String,
    id: String,
    columns: Vec<String>,
}

impl Placed {
    /// The columns after the key, each with the cast its placeholder needs
    /// where nothing else gives it a type (a `SELECT` list).
    const COLUMNS: [(&'static str, &'static str); 8] = [
        ("completed", "::boolean"),
        ("priority", "::bigint"),
        ("due_at", "::bigint"),
        ("title_key", ""),
        ("search", ""),
        ("body", ""),
        ("project_id", "::text"),
        ("rank", "::text"),
    ];

    /// `task`'s row of `user`, its values added to `p`.
    fn new(p: &mut Params, user: &UserId, task: &Task) -> Result<Self, TaskError> {
        let mut values = row(user, task)?.into_iter().map(|value| p.add(value));
        let mut next = || values.next().unwrap_or_default();
        let (user, id) = (next(), next());
        let columns = Self::COLUMNS.iter().map(|_| next()).collect();
        Ok(Self { user, id, columns })
    }

    /// The columns' values, for `INSERT ... SELECT`.
    fn values(&self) -> String {
        let values: Vec<String> = (Self::COLUMNS.iter().zip(&self.columns))
            .map(|((_, cast), value)| format!("{value}{cast}"))
            .collect();
        values.join(", ")
    }

    /// `column = value` for each column, for `UPDATE ... SET`.
    fn assignments(&self) -> String {
        let assignments: Vec<String> = (Self::COLUMNS.iter().zip(&self.columns))
            .map(|((column, _), value)| format!("{column} = {value}"))
            .collect();
        assignments.join(", ")
    }
}

/// The part inserting `tags` of the task the part `written` wrote (none
/// without tags).
fn tagged(p: &mut Params, user: &str, id: &str, tags: &[crate::Tag]) -> String {
    if tags.is_empty() {
        return String::new();
    }
    let values: Vec<String> = tags
        .iter()
        .map(|tag| format!("({})", p.add(tag.as_str())))
        .collect();
    format!(
        ", tagged AS (INSERT INTO task_tags (user_id, task_id, tag) \
         SELECT {user}, {id}, tag FROM written, (VALUES {}) AS tags (tag))",
        values.join(", ")
    )
}

/// The parts recording the change `event` under the number the part
/// `numbered` drew, and queueing it in the outbox.
fn recorded(
    p: &mut Params,
    user: &str,
    id: &str,
    event: Option<&Recorded>,
) -> Result<String, TaskError> {
    let recorded =
        event.ok_or_else(|| TaskError::Unavailable("a change without its event".into()))?;
    let at = p.add(recorded.event.timestamp.timestamp_micros());
    Ok(format!(
        ", recorded AS (INSERT INTO changes (user_id, seq, task_id, event_id, event_type, at, \
         event) SELECT {user}, last_change, {id}, {}, {}, {at}::bigint, {} FROM numbered), \
         queued AS (INSERT INTO outbox (user_id, seq, at) \
         SELECT {user}, last_change, {at}::bigint FROM numbered)",
        p.add(recorded.event.event_id.to_string()),
        p.add(event_type(recorded.event.event_type)),
        p.add(recorded.json()),
    ))
}
