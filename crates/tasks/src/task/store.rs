//! One user's tasks in SQL ([`sql::Database`], ADR 16): each change is
//! atomic, holding the task's row, its tags and its change (the history
//! entry, the change-feed entry and the outbox record in one row, numbered
//! per user without gaps); a listing is one indexed query (two when sorted
//! by due date: the dated tasks, then the undated ones).
//!
//! A write updates the user's row in `users`, which numbers the change and
//! counts the tasks: its lock puts the user's writes in one line, so the
//! numbers follow the commits. On SQLite a write is a transaction that
//! takes that lock first, so what it reads after is what it changes; a
//! write that changes nothing rolls back, leaving no number drawn. On
//! PostgreSQL a write is one statement (`one_statement`): an edit is
//! conditional on the version it read, and computed again when another
//! write came between, so no write is lost there either.

use chrono::{DateTime, Utc};
use sql::{Database, Dialect, Finish, Row, SqlError, Value, transaction};

use crate::error::{FieldError, Problem, TaskError};
use crate::limits::Limits;
use crate::service::{Env, Listing, Written, retry_sync};
use crate::task::change;
use crate::task::change::Recorded;
use crate::task::model::ProjectId;
use crate::task::once::Once;
use crate::task::query::ListQuery;
use crate::task::rank;
use crate::task::repeat;
use crate::task::stored::StoredTask;
use crate::{Task, TaskId, TaskPatch, TaskSpec, UserId};
use events::ReminderDue;

mod listing;
mod one_statement;
pub mod schema;
mod storage;

pub use storage::Storage;

/// Writes a task's [`row`] over the one it had.
const REWRITE: &str = "UPDATE tasks SET version = version + 1, completed = $3, priority = $4, \
                       due_at = $5, title_key = $6, search = $7, body = $8, project_id = $9, \
                       rank = $10 WHERE user_id = $1 AND id = $2";

/// Where a move puts a task in its project's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// First.
    Top,
    /// Last.
    Bottom,
    /// Right before this task.
    Before(TaskId),
    /// Right after this task.
    After(TaskId),
}

/// What a new task is written once for.
#[derive(Debug, Clone, Copy)]
enum Guard<'a> {
    /// Nothing: every create is a task.
    None,
    /// The task after this one of its series.
    Successor(TaskId),
    /// A client's key, with the answer it gets.
    Key(&'a Once, &'a str),
    /// A deleted task brought back: written unless it stands already.
    Restore,
}

/// What a create with a key did.
#[derive(Debug)]
pub enum Created {
    /// It created the task: written, and answered this.
    New(Box<Written>, String),
    /// The key's first request created it: this was its answer.
    Again(String),
}

impl Created {
    /// The task: the one created, or the one the key's first request
    /// created, read back from its answer.
    pub fn task(self) -> Result<Task, TaskError> {
        match self {
            Created::New(written, _) => Ok(written.task),
            Created::Again(answer) => serde_json::from_str(&answer)
                .map_err(|e| TaskError::Unavailable(format!("a kept answer is not a task: {e}"))),
        }
    }
}

/// How often a write is tried when the database was busy.
pub(crate) const ATTEMPTS: usize = 3;

/// One user's tasks in a database.
#[derive(Debug)]
pub struct TaskStore<'a, D: ?Sized> {
    db: &'a D,
    user: &'a UserId,
    /// The limits its creates and edits keep to (`None`: none, as for the
    /// recurrence handler, whose next occurrence is never refused).
    limits: Option<Limits>,
}

impl<'a, D: Database + ?Sized> TaskStore<'a, D> {
    /// The tasks of `user` in `db`.
    pub fn new(db: &'a D, user: &'a UserId) -> Self {
        Self {
            db,
            user,
            limits: None,
        }
    }

    /// These tasks, their creates and edits kept within `limits`: a create
    /// beyond the user's task limit, and a write that adds tags or
    /// reminders beyond a task's, are refused and change nothing.
    pub fn limited(self, limits: Limits) -> Self {
        Self {
            limits: Some(limits),
            ..self
        }
    }

    /// Creates a task from `spec`, with an id made of `env`.
    pub fn create(&self, spec: TaskSpec, env: &Env) -> Result<Written, TaskError> {
        let task = self.new_task(spec, env)?;
        let written = self.insert(task, env, Guard::None)?;
        written.ok_or(TaskError::Conflict)
    }

    /// The new task `spec` makes, with an id made of `env`, within the
    /// limits.
    fn new_task(&self, spec: TaskSpec, env: &Env) -> Result<Task, TaskError> {
        let task = spec.create(TaskId::new(env.now, env.random), env.now)?;
        if let Some(limits) = &self.limits {
            limits.check(None, &task)?;
        }
        Ok(task)
    }

    /// Creates a task from `spec` once for `once`'s key: the first time as
    /// [`Self::create`] does, recording the key with the task; again with
    /// the same body, nothing, answering the first answer; with another
    /// body, [`TaskError::KeyReused`].
    pub fn create_once(
        &self,
        spec: TaskSpec,
        once: &Once,
        env: &Env,
    ) -> Result<Created, TaskError> {
        let task = self.new_task(spec, env)?;
        let answer = serde_json::to_string(&task)
            .map_err(|e| TaskError::Unavailable(format!("cannot encode a task: {e}")))?;
        if let Some(written) = self.insert(task, env, Guard::Key(once, &answer))? {
            return Ok(Created::New(Box::new(written), answer));
        }
        let rows = self.db.query(
            "SELECT fingerprint, answer FROM idempotency_keys WHERE user_id = $1 AND key = $2",
            &[self.user(), once.key().into()],
        )?;
        // Gone already: forgotten by a create in between, a week later.
        let row = rows.first().ok_or(TaskError::Conflict)?;
        if row.text(0)? != once.fingerprint() {
            return Err(TaskError::KeyReused);
        }
        Ok(Created::Again(row.text(1)?.to_owned()))
    }

    /// Brings back task `id`, deleted, as it was when it was deleted: its
    /// fields, steps, series and the reminders still ahead, in its project
    /// (the Inbox if that project is gone). Recorded as a create, so its
    /// reminders are armed again and its history goes on. `NotFound` when
    /// the user never had it; [`TaskError::NotDeleted`] while it stands.
    pub fn restore(&self, id: TaskId, env: &Env) -> Result<Written, TaskError> {
        let rows = self.db.query(
            "SELECT event FROM changes WHERE user_id = $1 AND task_id = $2 \
             AND event_type = 'deleted' ORDER BY seq DESC LIMIT 1",
            &[self.user(), id.to_string().into()],
        )?;
        let Some(row) = rows.first() else {
            return Err(match self.get(id) {
                Ok(_) => TaskError::NotDeleted,
                Err(e) => e,
            });
        };
        let mut task = change::recorded_task(row.text(0)?)?;
        if self.check_project(task.project_id).is_err() {
            task.project_id = ProjectId::Inbox;
        }
        task.updated_at = env.now;
        task.schedule_reminders(env.now);
        if let Some(limits) = &self.limits {
            limits.check(None, &task)?;
        }
        self.insert(task, env, Guard::Restore)?
            .ok_or(TaskError::NotDeleted)
    }

    /// The user's deleted tasks (deleted and not brought back), as each
    /// was when deleted, the most recently deleted first; at most `limit`.
    pub fn deleted(&self, limit: usize) -> Result<Vec<Task>, TaskError> {
        let rows = self.db.query(
            "SELECT event FROM changes AS c WHERE user_id = $1 AND event_type = 'deleted' \
             AND NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.user_id = c.user_id AND t.id = c.task_id) \
             ORDER BY seq DESC LIMIT $2",
            &[self.user(), i64::try_from(limit).unwrap_or(i64::MAX).into()],
        )?;
        let mut seen = std::collections::HashSet::new();
        let mut tasks = Vec::new();
        for row in rows.iter() {
            let task = change::recorded_task(row.text(0)?)?;
            // Deleted, brought back and deleted again: the last one only.
            if seen.insert(task.id) {
                tasks.push(task);
            }
        }
        Ok(tasks)
    }

    /// Creates the task that repeats `previous`, a completed task, once
    /// however often it is asked (its successor is recorded with it).
    /// `None` when `previous` has a successor already or its series ended.
    pub fn repeat(&self, previous: &Task, env: &Env) -> Result<Option<Written>, TaskError> {
        let id = TaskId::new(env.now, env.random);
        let Some(next) = repeat::next(previous, id, env.now) else {
            return Ok(None);
        };
        self.insert(next, env, Guard::Successor(previous.id))
    }

    /// Writes the new `task` unless its `guard` was written already (then
    /// nothing).
    fn insert(&self, task: Task, env: &Env, guard: Guard) -> Result<Option<Written>, TaskError> {
        let event = self.event(None, Some(&task), env)?;
        match guard {
            // A keyed create is rare (an offline queue's): it takes the
            // transaction, whose key is written only with its task.
            Guard::Key(..) | Guard::Restore => {}
            Guard::None if self.db.dialect() == Dialect::Postgres => {
                return self.insert_at_once(task, event, None);
            }
            Guard::Successor(previous) if self.db.dialect() == Dialect::Postgres => {
                return self.insert_at_once(task, event, Some(previous));
            }
            Guard::None | Guard::Successor(_) => {}
        }
        let (task, event) = (&task, &event);
        retry_sync(ATTEMPTS, || {
            transaction(self.db, |_| {
                let (seq, tasks) = self.next_change(1)?;
                if let Some(limits) = &self.limits {
                    limits.may_create(u64::try_from(tasks - 1).unwrap_or_default())?;
                }
                if !self.guarded(task, guard, env)? {
                    return Ok(Finish::Rollback(None));
                }
                self.insert_row(seq, task, event.clone())
                    .map(|w| Finish::Commit(Some(w)))
            })
        })
    }

    /// Writes the new `tasks`, as made (their ids, times and state kept),
    /// inside the caller's transaction, within the user's task limit, a
    /// hundred rows to a statement: an import's. Each is a change with its
    /// event, its ids drawn from `env` on.
    pub(crate) fn create_many(&self, tasks: &[Task], env: &Env) -> Result<Vec<Written>, TaskError> {
        let Ok(count @ 1..) = i64::try_from(tasks.len()) else {
            return Ok(Vec::new());
        };
        let (last, held) = self.next_changes(count, count)?;
        if let Some(limits) = &self.limits {
            limits.may_create(u64::try_from(held - 1).unwrap_or_default())?;
        }
        let mut projects = std::collections::HashSet::new();
        for task in tasks {
            if projects.insert(task.project_id) {
                self.check_project(task.project_id)?;
            }
        }
        let mut env = *env;
        let mut written = Vec::with_capacity(tasks.len());
        for (seq, task) in (last - count + 1..).zip(tasks) {
            let event = self.event(None, Some(task), &env)?;
            env = env.next();
            written.push(Written {
                task: task.clone(),
                event,
                seq: Some(seq),
            });
        }
        self.insert_tasks(tasks)?;
        let recorded: Vec<(i64, &Recorded)> = (written.iter())
            .filter_map(|w| Some((w.seq?, w.event.as_ref()?)))
            .collect();
        self.record_many(&recorded)?;
        Ok(written)
    }

    /// Writes the row of the new `task`, its tags and its change `seq`.
    fn insert_row(
        &self,
        seq: i64,
        task: &Task,
        event: Option<Recorded>,
    ) -> Result<Written, TaskError> {
        self.check_project(task.project_id)?;
        self.insert_tasks(std::slice::from_ref(task))?;
        self.record(seq, event.as_ref())?;
        Ok(Written {
            task: task.clone(),
            event,
            seq: Some(seq),
        })
    }

    /// Writes `task`'s `guard` inside the caller's transaction: `false`
    /// when it was written before.
    fn guarded(&self, task: &Task, guard: Guard, env: &Env) -> Result<bool, TaskError> {
        let made = match guard {
            Guard::None => return Ok(true),
            Guard::Restore => {
                let rows = self.db.query(
                    "SELECT 1 FROM tasks WHERE user_id = $1 AND id = $2",
                    &[self.user(), task.id.to_string().into()],
                )?;
                return Ok(rows.is_empty());
            }
            Guard::Successor(previous) => self.db.execute(
                "INSERT INTO successors (user_id, task_id, next_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, task_id) DO NOTHING",
                &[
                    self.user(),
                    previous.to_string().into(),
                    task.id.to_string().into(),
                ],
            )?,
            Guard::Key(once, answer) => {
                self.db.execute(
                    "DELETE FROM idempotency_keys WHERE user_id = $1 AND created_at < $2",
                    &[self.user(), Once::oldest_kept(env.now).into()],
                )?;
                self.db.execute(
                    "INSERT INTO idempotency_keys (user_id, key, fingerprint, answer, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, key) DO NOTHING",
                    &[
                        self.user(),
                        once.key().into(),
                        once.fingerprint().into(),
                        answer.into(),
                        env.now.timestamp_micros().into(),
                    ],
                )?
            }
        };
        Ok(made > 0)
    }

    /// Task `id` and its row's version.
    fn get_versioned(&self, id: TaskId) -> Result<(Task, i64), TaskError> {
        let rows = self.db.query(
            "SELECT body, version FROM tasks WHERE user_id = $1 AND id = $2",
            &[self.user(), id.to_string().into()],
        )?;
        let row = rows.first().ok_or(TaskError::NotFound)?;
        Ok((decode(row, 0)?, row.int(1)?))
    }

    /// Task `id`.
    pub fn get(&self, id: TaskId) -> Result<Task, TaskError> {
        self.get_versioned(id).map(|(task, _)| task)
    }

    /// The page of the user's tasks that `query` asks for, at time `now`
    /// (which decides what is overdue).
    pub fn list(&self, query: &ListQuery, now: DateTime<Utc>) -> Result<Listing, TaskError> {
        listing::page(self.db, self.user, query, now)
    }

    /// How many of the tasks `query` selects are pending, and how many of
    /// those overdue, at `now`.
    pub fn counts(&self, query: &ListQuery, now: DateTime<Utc>) -> Result<(u64, u64), TaskError> {
        listing::counts(self.db, self.user, query, now)
    }

    /// Changes task `id` with `change`, which may refuse. Answers the task
    /// as stored.
    pub fn update(
        &self,
        id: TaskId,
        env: &Env,
        change: impl Fn(&mut Task) -> Result<(), TaskError>,
    ) -> Result<Written, TaskError> {
        if self.db.dialect() == Dialect::Postgres {
            return self.update_at_once(id, env, change);
        }
        retry_sync(ATTEMPTS, || {
            transaction(self.db, |_| {
                let (seq, _) = self.next_change(0)?;
                let before = self.get(id)?;
                let Some(after) = self.edited(&before, &change)? else {
                    return Ok(Finish::Rollback(unchanged(before)));
                };
                self.rewrite(seq, &before, after, env).map(Finish::Commit)
            })
        })
    }

    /// Writes `after` over `before` as change `seq`, inside the caller's
    /// transaction.
    fn rewrite(
        &self,
        seq: i64,
        before: &Task,
        after: Task,
        env: &Env,
    ) -> Result<Written, TaskError> {
        let event = self.event(Some(before), Some(&after), env)?;
        self.db.execute(REWRITE, &row(self.user, &after)?)?;
        if after.tags != before.tags {
            self.delete_tags(after.id)?;
            self.put_tags(std::slice::from_ref(&after))?;
        }
        self.record(seq, event.as_ref())?;
        Ok(Written {
            task: after,
            event,
            seq: Some(seq),
        })
    }

    /// Moves task `id` to `place` in the order of `project` (its own when
    /// `None`), as one transaction on either database: the user's row
    /// lock puts concurrent moves in one line, so each reads its
    /// neighbours as they are and no two tasks share a place. When no key
    /// fits between the neighbours, the project's keys are spread evenly
    /// first (without a change of their own: their order stays).
    pub fn place(
        &self,
        id: TaskId,
        project: Option<ProjectId>,
        place: Place,
        env: &Env,
    ) -> Result<Written, TaskError> {
        retry_sync(ATTEMPTS, || {
            transaction(self.db, |_| {
                let (seq, _) = self.next_change(0)?;
                let before = self.get(id)?;
                let project = project.unwrap_or(before.project_id);
                let current = (project == before.project_id).then(|| rank(&before));
                let key = match self.key_at(project, id, current.as_deref(), place)? {
                    Some(key) => key,
                    None => {
                        self.spread(project)?;
                        let current = (project == before.project_id)
                            .then(|| self.get(id).map(|task| rank(&task)))
                            .transpose()?;
                        (self.key_at(project, id, current.as_deref(), place)?).ok_or_else(|| {
                            TaskError::Unavailable("no key fits after spreading".into())
                        })?
                    }
                };
                let moved = |task: &mut Task| {
                    task.project_id = project;
                    if key != rank(task) {
                        task.order = Some(key.clone());
                    }
                    Ok(())
                };
                match self.edited(&before, moved)? {
                    Some(after) => self.rewrite(seq, &before, after, env).map(Finish::Commit),
                    None => Ok(Finish::Rollback(unchanged(before))),
                }
            })
        })
    }

    /// A key for task `moving` (whose key in `project` is `current`, if it
    /// is in it) at `place` in `project`'s order: `current` when it is
    /// there already, else one between its new neighbours, or `None` when
    /// none fits as short as [`rank::LONGEST`].
    fn key_at(
        &self,
        project: ProjectId,
        moving: TaskId,
        current: Option<&str>,
        place: Place,
    ) -> Result<Option<String>, TaskError> {
        let mut p = sql::Params::default();
        let user = p.add(self.user.as_str());
        let in_project = in_project(&mut p, project);
        let others = format!(
            "FROM tasks WHERE user_id = {user}{in_project} AND id <> {}",
            p.add(moving.to_string())
        );
        // The key of the anchor task, which must be in the project.
        let anchor = |anchor: TaskId, field: &str| -> Result<String, TaskError> {
            if anchor == moving {
                return Err(
                    FieldError::new(field, Problem::NotInProject(anchor.to_string())).into(),
                );
            }
            let mut q = p.clone();
            let rows = self.db.query(
                &format!(
                    "SELECT rank {others} AND id = {}",
                    q.add(anchor.to_string())
                ),
                q.values(),
            )?;
            let row = rows
                .first()
                .ok_or_else(|| FieldError::new(field, Problem::NotInProject(anchor.to_string())))?;
            Ok(row.text(0)?.to_owned())
        };
        // The neighbour's key past `key` (and id) in `direction`.
        let next =
            |key: Option<(&str, TaskId)>, after: bool| -> Result<Option<String>, TaskError> {
                let mut q = p.clone();
                let (compare, direction) = if after { (">", "ASC") } else { ("<", "DESC") };
                let past = match key {
                    Some((key, id)) => format!(
                        " AND (rank, id) {compare} ({}, {})",
                        q.add(key),
                        q.add(id.to_string())
                    ),
                    None => String::new(),
                };
                let rows = self.db.query(
                &format!(
                    "SELECT rank {others}{past} ORDER BY rank {direction}, id {direction} LIMIT 1"
                ),
                q.values(),
            )?;
                Ok(rows
                    .first()
                    .map(|row| row.text(0).map(str::to_owned))
                    .transpose()?)
            };
        let (low, high) = match place {
            Place::Top => (None, next(None, true)?),
            Place::Bottom => (next(None, false)?, None),
            Place::Before(x) => {
                let key = anchor(x, "before")?;
                (next(Some((&key, x)), false)?, Some(key))
            }
            Place::After(x) => {
                let key = anchor(x, "after")?;
                let high = next(Some((&key, x)), true)?;
                (Some(key), high)
            }
        };
        let (low, high) = (low.as_deref(), high.as_deref());
        if let Some(current) = current
            && low.is_none_or(|low| low < current)
            && high.is_none_or(|high| current < high)
        {
            return Ok(Some(current.to_owned()));
        }
        Ok(rank::between(low, high))
    }

    /// Gives every task of `project` a key of [`rank::spread`], in their
    /// order: the keys grew too long for another to fit.
    fn spread(&self, project: ProjectId) -> Result<(), TaskError> {
        let mut p = sql::Params::default();
        let user = p.add(self.user.as_str());
        let in_project = in_project(&mut p, project);
        let rows = self.db.query(
            &format!("SELECT body FROM tasks WHERE user_id = {user}{in_project} ORDER BY rank, id"),
            p.values(),
        )?;
        let tasks: Vec<Task> = rows
            .iter()
            .map(|row| decode(row, 0))
            .collect::<Result<_, _>>()?;
        for (mut task, key) in tasks.into_iter().zip(rank::spread(rows.len())) {
            task.order = Some(key);
            self.db.execute(REWRITE, &row(self.user, &task)?)?;
        }
        Ok(())
    }

    /// Replaces every writable field of task `id` with `spec`.
    pub fn replace(&self, id: TaskId, spec: TaskSpec, env: &Env) -> Result<Written, TaskError> {
        self.update(id, env, |task| Ok(spec.clone().replace(task, env.now)?))
    }

    /// Changes the fields of task `id` that `patch` names.
    pub fn patch(&self, id: TaskId, patch: TaskPatch, env: &Env) -> Result<Written, TaskError> {
        self.update(id, env, |task| Ok(patch.clone().apply(task, env.now)?))
    }

    /// Marks task `id` done (or not done); doing it twice changes nothing.
    pub fn complete(&self, id: TaskId, completed: bool, env: &Env) -> Result<Written, TaskError> {
        self.update(id, env, |task| {
            task.set_completed(completed, env.now);
            Ok(())
        })
    }

    /// Deletes task `id` (its history stays).
    pub fn delete(&self, id: TaskId, env: &Env) -> Result<Written, TaskError> {
        if self.db.dialect() == Dialect::Postgres {
            return self.delete_at_once(id, env);
        }
        retry_sync(ATTEMPTS, || {
            transaction(self.db, |_| {
                let task = self.get(id)?;
                self.delete_within(&task, env).map(Finish::Commit)
            })
        })
    }

    /// Deletes `task`, as read, inside the caller's transaction.
    pub(crate) fn delete_within(&self, task: &Task, env: &Env) -> Result<Written, TaskError> {
        let (seq, _) = self.next_change(-1)?;
        let event = self.event(Some(task), None, env)?;
        self.db.execute(
            "DELETE FROM tasks WHERE user_id = $1 AND id = $2",
            &[self.user(), task.id.to_string().into()],
        )?;
        self.delete_tags(task.id)?;
        self.record(seq, event.as_ref())?;
        Ok(Written {
            task: task.clone(),
            event,
            seq: Some(seq),
        })
    }

    /// Every task of the user, done or not, oldest first.
    pub fn all(&self) -> Result<Vec<Task>, TaskError> {
        let rows = self.db.query(
            "SELECT body FROM tasks WHERE user_id = $1 ORDER BY id",
            &[self.user()],
        )?;
        rows.iter().map(|row| decode(row, 0)).collect()
    }

    /// The ids of every task of the user.
    pub fn ids(&self) -> Result<std::collections::HashSet<TaskId>, TaskError> {
        let rows = self
            .db
            .query("SELECT id FROM tasks WHERE user_id = $1", &[self.user()])?;
        let id = |row: Row<'_>| {
            let text = row.text(0)?;
            TaskId::parse(text)
                .ok_or_else(|| TaskError::Unavailable(format!("not a task id: {text}")))
        };
        rows.iter().map(id).collect()
    }

    /// The user's pending tasks that have a due date, soonest first, each
    /// with its version (1 when made, one more with every write).
    pub fn scheduled(&self) -> Result<Vec<(Task, i64)>, TaskError> {
        let rows = self.db.query(
            "SELECT body, version FROM tasks WHERE user_id = $1 AND completed = $2 \
             AND due_at IS NOT NULL ORDER BY due_at, id",
            &[self.user(), false.into()],
        )?;
        rows.iter()
            .map(|row| Ok((decode(row, 0)?, row.int(1)?)))
            .collect()
    }

    /// Every task in project `project`, oldest first.
    pub(crate) fn in_project(&self, project: ulid::Ulid) -> Result<Vec<Task>, TaskError> {
        let rows = self.db.query(
            "SELECT body FROM tasks WHERE user_id = $1 AND project_id = $2 ORDER BY id",
            &[self.user(), project.to_string().into()],
        )?;
        rows.iter().map(|row| decode(row, 0)).collect()
    }

    /// Records that reminder `due` reached its user, as a change of its
    /// task (the feed's `reminded`), unless it is recorded already. Runs
    /// inside the caller's transaction, the one that puts it in the inbox.
    pub(crate) fn reminded(&self, due: &ReminderDue) -> Result<(), TaskError> {
        let event = serde_json::to_string(due)
            .map_err(|e| TaskError::Unavailable(format!("cannot encode a reminder: {e}")))?;
        let known = self.db.query(
            "SELECT 1 FROM changes WHERE user_id = $1 AND task_id = $2 AND event_id = $3",
            &[
                self.user(),
                due.task_id.to_string().into(),
                due.reminder_id.to_string().into(),
            ],
        )?;
        if !known.is_empty() {
            return Ok(());
        }
        let (seq, _) = self.next_change(0)?;
        let at = due.remind_at.timestamp_micros();
        // Nothing to publish: the reminder went out already.
        self.db.execute(
            "INSERT INTO changes (user_id, seq, task_id, event_id, event_type, at, \
             event, published_at) VALUES ($1, $2, $3, $4, 'reminded', $5, $6, $5)",
            &[
                self.user(),
                seq.into(),
                due.task_id.to_string().into(),
                due.reminder_id.to_string().into(),
                at.into(),
                event.as_str().into(),
            ],
        )?;
        Ok(())
    }

    /// What `change` makes of `before`, checked against the limits and
    /// the project it moves the task to; `None` when it changes nothing.
    fn edited(
        &self,
        before: &Task,
        change: impl Fn(&mut Task) -> Result<(), TaskError>,
    ) -> Result<Option<Task>, TaskError> {
        let mut after = before.clone();
        change(&mut after)?;
        if let Some(limits) = &self.limits {
            limits.check(Some(before), &after)?;
        }
        if after == *before {
            return Ok(None);
        }
        if after.project_id != before.project_id {
            self.check_project(after.project_id)?;
        }
        Ok(Some(after))
    }

    /// Refuses a task in `project` unless it is the Inbox or a project of
    /// the user; a user's own write (a store with limits) is refused an
    /// archived project too, while the next occurrence of a repeating task
    /// follows its series there. On PostgreSQL a project deleted after this
    /// check is caught by the `tasks` foreign key.
    fn check_project(&self, project: ProjectId) -> Result<(), TaskError> {
        let Some(id) = project.made() else {
            return Ok(());
        };
        let rows = self.db.query(
            "SELECT archived FROM projects WHERE user_id = $1 AND id = $2",
            &[self.user(), id.to_string().into()],
        )?;
        let problem = match rows.first() {
            None => Problem::UnknownProject(id.to_string()),
            Some(row) if row.bool(0)? && self.limits.is_some() => {
                Problem::ArchivedProject(id.to_string())
            }
            Some(_) => return Ok(()),
        };
        Err(FieldError::new("project_id", problem).into())
    }

    /// Numbers the user's next change and adds `tasks` to their count,
    /// locking their row until the transaction ends; answers the number
    /// and the count.
    fn next_change(&self, tasks: i64) -> Result<(i64, i64), TaskError> {
        self.next_changes(1, tasks)
    }

    /// Numbers `changes` changes of the user, the last answered, and counts
    /// `tasks` more (or fewer) tasks, answering how many they have.
    fn next_changes(&self, changes: i64, tasks: i64) -> Result<(i64, i64), TaskError> {
        let rows = self.db.query(
            "INSERT INTO users (user_id, last_change, tasks) VALUES ($1, $3, $2) \
             ON CONFLICT (user_id) DO UPDATE SET last_change = users.last_change + $3, \
             tasks = users.tasks + $2 RETURNING last_change, tasks",
            &[self.user(), tasks.into(), changes.into()],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| TaskError::Unavailable("the user's row was not returned".into()))?;
        Ok((row.int(0)?, row.int(1)?))
    }

    /// Writes the rows of the new `tasks` (version 1) and their tags, a
    /// hundred rows to a statement.
    fn insert_tasks(&self, tasks: &[Task]) -> Result<(), TaskError> {
        let mut rows = Vec::with_capacity(tasks.len());
        for task in tasks {
            let mut values = row(self.user, task)?.to_vec();
            values.insert(2, 1i64.into());
            rows.push(values);
        }
        let into = "tasks (user_id, id, version, completed, priority, due_at, title_key, \
                    search, body, project_id, rank)";
        sql::insert_rows(self.db, into, &rows, "")?;
        self.put_tags(tasks)?;
        Ok(())
    }

    fn put_tags(&self, tasks: &[Task]) -> Result<(), SqlError> {
        let rows: Vec<Vec<Value>> = (tasks.iter())
            .flat_map(|task| task.tags.iter().map(move |tag| (task.id, tag)))
            .map(|(id, tag)| vec![self.user(), id.to_string().into(), tag.as_str().into()])
            .collect();
        sql::insert_rows(self.db, "task_tags (user_id, task_id, tag)", &rows, "")?;
        Ok(())
    }

    fn delete_tags(&self, id: TaskId) -> Result<(), SqlError> {
        self.db.execute(
            "DELETE FROM task_tags WHERE user_id = $1 AND task_id = $2",
            &[self.user(), id.to_string().into()],
        )?;
        Ok(())
    }

    /// Records change `seq`: its event, for the history and the feed, and
    /// its place in the outbox.
    fn record(&self, seq: i64, event: Option<&Recorded>) -> Result<(), SqlError> {
        match event {
            Some(recorded) => self.record_many(&[(seq, recorded)]),
            None => Ok(()),
        }
    }

    /// Records changes `(seq, event)`, as [`Self::record`] does, a
    /// hundred rows to a statement.
    fn record_many(&self, recorded: &[(i64, &Recorded)]) -> Result<(), SqlError> {
        let outbox: Vec<Vec<Value>> = (recorded.iter())
            .map(|(seq, r)| {
                let at = r.event.timestamp.timestamp_micros();
                vec![self.user(), (*seq).into(), at.into()]
            })
            .collect();
        sql::insert_rows(self.db, "outbox (user_id, seq, at)", &outbox, "")?;
        let changes: Vec<Vec<Value>> = (recorded.iter())
            .map(|(seq, r)| {
                let event = &r.event;
                vec![
                    self.user(),
                    (*seq).into(),
                    event.task_id.to_string().into(),
                    event.event_id.to_string().into(),
                    event_type(event.event_type).into(),
                    event.timestamp.timestamp_micros().into(),
                    r.json().into(),
                ]
            })
            .collect();
        let into = "changes (user_id, seq, task_id, event_id, event_type, at, event)";
        sql::insert_rows(self.db, into, &changes, "")?;
        Ok(())
    }

    fn event(
        &self,
        before: Option<&Task>,
        after: Option<&Task>,
        env: &Env,
    ) -> Result<Option<Recorded>, TaskError> {
        let event = change::event(env.event_id, self.user, before, after, env.now);
        event.map(Recorded::new).transpose()
    }

    fn user(&self) -> Value {
        self.user.as_str().into()
    }
}

/// What a write that changed nothing answers: the task as it is.
fn unchanged(task: Task) -> Written {
    Written {
        task,
        event: None,
        seq: None,
    }
}

/// The name of an event type, as the `changes` table keeps it.
fn event_type(event_type: events::TaskEventType) -> &'static str {
    event_type.cloud_event_type().trim_start_matches("task.")
}

/// A task's row as the statements that write it number its values: the
/// key (`$1` user, `$2` id), then `completed`, `priority`, `due_at`,
/// `title_key`, `search` (what listings filter and sort by), `body`, the
/// task in its stored form, `project_id` (`NULL` for the Inbox) and `rank`
/// (its place in the project's order).
fn row(user: &UserId, task: &Task) -> Result<[Value; 10], TaskError> {
    let body = serde_json::to_string(&StoredTask::from(task))
        .map_err(|e| TaskError::Unavailable(format!("cannot encode task {}: {e}", task.id)))?;
    Ok([
        user.as_str().into(),
        task.id.to_string().into(),
        task.completed.into(),
        priority(task.priority).into(),
        task.due_at.map(|due| due.timestamp_micros()).into(),
        task.title.as_str().to_lowercase().into(),
        search_text(task).into(),
        body.into(),
        task.project_id.made().map(|id| id.to_string()).into(),
        rank(task).into(),
    ])
}

/// ` AND` the condition that a task is in `project` (the Inbox: no
/// `project_id`), its id added to `p`.
pub(crate) fn in_project(p: &mut sql::Params, project: ProjectId) -> String {
    match project.made() {
        None => " AND project_id IS NULL".to_owned(),
        Some(id) => format!(" AND project_id = {}", p.add(id.to_string())),
    }
}

/// A task's key in its project's order: its own once moved by hand, its
/// id until then.
pub(crate) fn rank(task: &Task) -> String {
    task.order.clone().unwrap_or_else(|| task.id.to_string())
}

/// A priority as the `priority` column orders it.
pub(crate) fn priority(priority: crate::Priority) -> i64 {
    match priority {
        crate::Priority::None => 0,
        crate::Priority::Low => 1,
        crate::Priority::Medium => 2,
        crate::Priority::High => 3,
    }
}

/// What a search looks in, lower-cased: the title, the description and the
/// tags, a line each (a search word has no white space, so it never
/// matches across two).
fn search_text(task: &Task) -> String {
    let mut text = task.title.as_str().to_lowercase();
    text.push('\n');
    if let Some(description) = &task.description {
        text.push_str(&description.as_str().to_lowercase());
    }
    for tag in &task.tags {
        text.push('\n');
        text.push_str(tag.as_str());
    }
    text
}

/// The task in column `column` (its stored form).
fn decode(row: Row<'_>, column: usize) -> Result<Task, TaskError> {
    let body = row.text(column)?;
    let stored: StoredTask = serde_json::from_str(body)
        .map_err(|e| TaskError::Unavailable(format!("a stored task is unreadable: {e}")))?;
    Ok(Task::from(stored))
}

#[cfg(test)]
mod tests;
