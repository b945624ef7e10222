//! One user's projects in SQL: a row each in `projects` (the Inbox has
//! none), and the counts of their tasks from `tasks` in one grouped query.
//! A write is a transaction. Deleting a project with its tasks deletes each
//! task as its own change (history, change feed, event), in the same
//! transaction as the project.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sql::{Database, Finish, Params, Row, SqlError, transaction};

use super::{Color, INBOX_NAME, MAX_PER_USER, Name, Project, ProjectPatch};
use crate::error::{ProjectError, TaskError};
use crate::service::{Env, Written};
use crate::task::model::ProjectId;
use crate::task::store::in_project;
use crate::{TaskStore, UserId};

/// The columns a project is read from, in [`Projects::read`]'s order.
const COLUMNS: &str = "id, name, color, archived, created_at, updated_at";

/// One user's projects in a database.
#[derive(Debug)]
pub struct Projects<'a, D: ?Sized> {
    db: &'a D,
    user: &'a UserId,
}

/// Pending and overdue tasks of each project, by `project_id` (`None` the
/// Inbox).
type Counts = HashMap<Option<String>, (u64, u64)>;

impl<'a, D: Database + ?Sized> Projects<'a, D> {
    /// The projects of `user` in `db`.
    pub fn new(db: &'a D, user: &'a UserId) -> Self {
        Self { db, user }
    }

    /// The Inbox and the projects that are not archived, in the order they
    /// were made, or (`archived`) the archived ones; each with its counts
    /// at `now`.
    pub fn list(&self, archived: bool, now: DateTime<Utc>) -> Result<Vec<Project>, ProjectError> {
        let counts = self.counts(now, None)?;
        let rows = self.db.query(
            &format!(
                "SELECT {COLUMNS} FROM projects WHERE user_id = $1 AND archived = $2 ORDER BY id"
            ),
            &[self.user.as_str().into(), archived.into()],
        )?;
        let inbox = (!archived).then(|| inbox(&counts));
        let made = rows.iter().map(|row| read(row, &counts));
        inbox.into_iter().map(Ok).chain(made).collect()
    }

    /// The names of the Inbox and of the projects that are not archived,
    /// in the order they were made (what the chat recognises in a
    /// message), without their counts.
    pub fn names(&self) -> Result<Vec<String>, TaskError> {
        let rows = self.db.query(
            "SELECT name FROM projects WHERE user_id = $1 AND archived = $2 ORDER BY id",
            &[self.user.as_str().into(), false.into()],
        )?;
        let made = rows.iter().map(|row| Ok(row.text(0)?.to_owned()));
        std::iter::once(Ok(INBOX_NAME.to_owned()))
            .chain(made)
            .collect()
    }

    /// Project `id` with its counts at `now`.
    pub fn get(&self, id: ProjectId, now: DateTime<Utc>) -> Result<Project, ProjectError> {
        let counts = self.counts(now, Some(id))?;
        let Some(made) = id.made() else {
            return Ok(inbox(&counts));
        };
        let rows = self.db.query(
            &format!("SELECT {COLUMNS} FROM projects WHERE user_id = $1 AND id = $2"),
            &[self.user.as_str().into(), made.to_string().into()],
        )?;
        read(rows.first().ok_or(ProjectError::NotFound)?, &counts)
    }

    /// Makes a project named `name`, coloured and archived as `patch`
    /// says, with an id made of `env`.
    pub fn create(
        &self,
        name: Name,
        patch: ProjectPatch,
        env: &Env,
    ) -> Result<Project, ProjectError> {
        let id = ProjectId::new(env.now, env.random);
        let project = Project {
            id,
            name,
            color: patch.color.unwrap_or(Color::DEFAULT),
            archived: patch.archived.unwrap_or(false),
            inbox: false,
            pending: 0,
            overdue: 0,
            created_at: Some(env.now),
            updated_at: Some(env.now),
        };
        not_the_inbox(&project.name)?;
        transaction(self.db, |db| {
            Projects::new(db, self.user).insert_within(&project)?;
            Ok::<_, ProjectError>(Finish::Commit(()))
        })?;
        Ok(project)
    }

    /// Writes the new `project`, as made (its id and times kept), inside
    /// the caller's transaction, within the user's number of projects.
    pub(crate) fn insert_within(&self, project: &Project) -> Result<(), ProjectError> {
        let made = project.id.made().ok_or(ProjectError::Inbox)?;
        let rows = self.db.query(
            "SELECT count(*) FROM projects WHERE user_id = $1",
            &[self.user.as_str().into()],
        )?;
        let count = rows.first().map(|row| row.int(0)).transpose()?;
        if u64::try_from(count.unwrap_or_default()).unwrap_or(u64::MAX) >= MAX_PER_USER {
            return Err(ProjectError::TooMany(MAX_PER_USER));
        }
        let micros = |at: Option<DateTime<Utc>>| at.unwrap_or_default().timestamp_micros();
        self.db
            .execute(
                "INSERT INTO projects (user_id, id, version, name, name_key, color, archived, \
                 created_at, updated_at) VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8)",
                &[
                    self.user.as_str().into(),
                    made.to_string().into(),
                    project.name.as_str().into(),
                    project.name.key().into(),
                    project.color.as_str().into(),
                    project.archived.into(),
                    micros(project.created_at).into(),
                    micros(project.updated_at).into(),
                ],
            )
            .map_err(|e| name_taken(e, &project.name))?;
        Ok(())
    }

    /// Renames, recolours, archives or unarchives project `id` as `patch`
    /// says, at `now`.
    pub fn update(
        &self,
        id: ProjectId,
        patch: ProjectPatch,
        now: DateTime<Utc>,
    ) -> Result<Project, ProjectError> {
        let made = id.made().ok_or(ProjectError::Inbox)?;
        if let Some(name) = &patch.name {
            not_the_inbox(name)?;
        }
        transaction(self.db, |db| {
            let mut project = self.get(id, now)?;
            if let Some(name) = patch.name.clone() {
                project.name = name;
            }
            project.color = patch.color.unwrap_or(project.color);
            project.archived = patch.archived.unwrap_or(project.archived);
            project.updated_at = Some(now);
            db.execute(
                "UPDATE projects SET version = version + 1, name = $3, name_key = $4, \
                 color = $5, archived = $6, updated_at = $7 WHERE user_id = $1 AND id = $2",
                &[
                    self.user.as_str().into(),
                    made.to_string().into(),
                    project.name.as_str().into(),
                    project.name.key().into(),
                    project.color.as_str().into(),
                    project.archived.into(),
                    now.timestamp_micros().into(),
                ],
            )
            .map_err(|e| name_taken(e, &project.name))?;
            Ok(Finish::Commit(project))
        })
    }

    /// Deletes project `id`; its tasks go with it when `with_tasks` says
    /// so (each a change of its own, with an event; answered), and
    /// otherwise a project that holds tasks stays.
    pub fn delete(
        &self,
        id: ProjectId,
        with_tasks: bool,
        env: &Env,
    ) -> Result<Vec<Written>, ProjectError> {
        let made = id.made().ok_or(ProjectError::Inbox)?;
        let key = [self.user.as_str().into(), made.to_string().into()];
        transaction(self.db, |db| {
            let found = db.query(
                "SELECT 1 FROM projects WHERE user_id = $1 AND id = $2",
                &key,
            )?;
            if found.is_empty() {
                return Err(ProjectError::NotFound);
            }
            let tasks = TaskStore::new(db, self.user);
            let held = tasks.in_project(made)?;
            if !with_tasks && !held.is_empty() {
                let count = u64::try_from(held.len()).unwrap_or(u64::MAX);
                return Err(ProjectError::NotEmpty(count));
            }
            let mut deleted = Vec::with_capacity(held.len());
            let mut env = *env;
            for task in &held {
                deleted.push(tasks.delete_within(task, &env)?);
                env = env.next();
            }
            // On PostgreSQL a task moved in since it was read holds the
            // row by its foreign key: the whole delete is tried again.
            db.execute("DELETE FROM projects WHERE user_id = $1 AND id = $2", &key)
                .map_err(|e| match e {
                    SqlError::Reference(_) => ProjectError::Task(TaskError::Conflict),
                    other => other.into(),
                })?;
            Ok(Finish::Commit(deleted))
        })
    }

    /// The counts at `now` of project `only`'s tasks, or of every
    /// project's.
    fn counts(&self, now: DateTime<Utc>, only: Option<ProjectId>) -> Result<Counts, SqlError> {
        let mut p = Params::default();
        let (user, open, now) = (
            p.add(self.user.as_str()),
            p.add(false),
            p.add(now.timestamp_micros()),
        );
        let project = only
            .map(|project| in_project(&mut p, project))
            .unwrap_or_default();
        let rows = self.db.query(
            &format!(
                "SELECT project_id, count(*), count(CASE WHEN due_at < {now} THEN 1 END) \
                 FROM tasks WHERE user_id = {user} AND completed = {open}{project} \
                 GROUP BY project_id"
            ),
            p.values(),
        )?;
        let number = |row: &Row<'_>, column| -> Result<u64, SqlError> {
            Ok(u64::try_from(row.int(column)?).unwrap_or_default())
        };
        rows.iter()
            .map(|row| {
                let project = row.opt_text(0)?.map(str::to_owned);
                Ok((project, (number(&row, 1)?, number(&row, 2)?)))
            })
            .collect()
    }
}

/// The Inbox, with its counts.
fn inbox(counts: &Counts) -> Project {
    let (pending, overdue) = counts.get(&None).copied().unwrap_or_default();
    Project {
        id: ProjectId::Inbox,
        name: Name(INBOX_NAME.to_owned()),
        color: Color::DEFAULT,
        archived: false,
        inbox: true,
        pending,
        overdue,
        created_at: None,
        updated_at: None,
    }
}

/// The project in `row` (its [`COLUMNS`]), with its counts.
fn read(row: Row<'_>, counts: &Counts) -> Result<Project, ProjectError> {
    let unreadable =
        |what: &str| TaskError::Unavailable(format!("a stored project has an unreadable {what}"));
    let id = row.text(0)?;
    let (pending, overdue) = counts
        .get(&Some(id.to_owned()))
        .copied()
        .unwrap_or_default();
    let instant = |column| -> Result<Option<DateTime<Utc>>, ProjectError> {
        let micros = row.int(column)?;
        Ok(Some(
            DateTime::from_timestamp_micros(micros).ok_or_else(|| unreadable("time"))?,
        ))
    };
    Ok(Project {
        id: ProjectId::parse(id).map_err(|_| unreadable("id"))?,
        name: Name::parse(row.text(1)?).map_err(|_| unreadable("name"))?,
        color: Color::parse(row.text(2)?).map_err(|_| unreadable("colour"))?,
        archived: row.bool(3)?,
        inbox: false,
        pending,
        overdue,
        created_at: instant(4)?,
        updated_at: instant(5)?,
    })
}

/// Refuses the Inbox's name for a project the user makes or renames.
fn not_the_inbox(name: &Name) -> Result<(), ProjectError> {
    if name.key() == INBOX_NAME.to_lowercase() {
        return Err(ProjectError::NameTaken(INBOX_NAME.to_owned()));
    }
    Ok(())
}

/// A write's error, the name's unique index holding as the name taken.
fn name_taken(err: SqlError, name: &Name) -> ProjectError {
    match err {
        SqlError::Unique(_) => ProjectError::NameTaken(name.as_str().to_owned()),
        other => other.into(),
    }
}
