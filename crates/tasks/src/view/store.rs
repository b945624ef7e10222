//! One user's saved views in SQL: a row each in `views`, the filter kept
//! as the JSON a view answers with, and the counts of each view's tasks
//! from `tasks`, one query a view.

use chrono::{DateTime, Utc};
use sql::{Database, Finish, Row, SqlError, transaction};

use super::{MAX_PER_USER, View, ViewId, ViewPatch};
use crate::error::{FieldError, Problem, TaskError, ViewError};
use crate::project::Name;
use crate::service::{Env, Listing};
use crate::task::model::ProjectId;
use crate::{ListQuery, TaskStore, TimeZone, UserId};

/// The columns a view is read from, in [`read`]'s order.
const COLUMNS: &str = "id, name, filter, created_at, updated_at";

/// One user's views in a database; due windows are days of `zone`.
#[derive(Debug)]
pub struct Views<'a, D: ?Sized> {
    db: &'a D,
    user: &'a UserId,
    zone: TimeZone,
}

impl<'a, D: Database + ?Sized> Views<'a, D> {
    /// The views of `user` in `db`, whose days are those of `zone`.
    pub fn new(db: &'a D, user: &'a UserId, zone: TimeZone) -> Self {
        Self { db, user, zone }
    }

    /// Every view, in the order they were saved, each with its counts at
    /// `now`.
    pub fn list(&self, now: DateTime<Utc>) -> Result<Vec<View>, ViewError> {
        let rows = self.db.query(
            &format!("SELECT {COLUMNS} FROM views WHERE user_id = $1 ORDER BY id"),
            &[self.user.as_str().into()],
        )?;
        rows.iter()
            .map(|row| self.counted(read(row)?, now))
            .collect()
    }

    /// View `id` with its counts at `now`.
    pub fn get(&self, id: ViewId, now: DateTime<Utc>) -> Result<View, ViewError> {
        self.counted(self.uncounted(id)?, now)
    }

    /// View `id` as saved, its counts left at zero.
    fn uncounted(&self, id: ViewId) -> Result<View, ViewError> {
        let rows = self.db.query(
            &format!("SELECT {COLUMNS} FROM views WHERE user_id = $1 AND id = $2"),
            &[self.user.as_str().into(), id.to_string().into()],
        )?;
        read(rows.first().ok_or(ViewError::NotFound)?)
    }

    /// The page of view `id`'s tasks at `now` that `page` (a query string
    /// of `limit` and `cursor`) asks for.
    pub fn tasks(&self, id: ViewId, page: &str, now: DateTime<Utc>) -> Result<Listing, ViewError> {
        let mut query = self.uncounted(id)?.filter;
        query.parse_page(page)?;
        query.resolve(now, self.zone);
        Ok(TaskStore::new(self.db, self.user).list(&query, now)?)
    }

    /// Saves a view named `name` of `filter`, with an id made of `env`.
    pub fn create(&self, name: Name, filter: ListQuery, env: &Env) -> Result<View, ViewError> {
        let id = ViewId::new(env.now, env.random);
        transaction(self.db, |db| {
            let rows = db.query(
                "SELECT count(*) FROM views WHERE user_id = $1",
                &[self.user.as_str().into()],
            )?;
            let saved = rows.first().map(|row| row.int(0)).transpose()?;
            if u64::try_from(saved.unwrap_or_default()).unwrap_or(u64::MAX) >= MAX_PER_USER {
                return Err(ViewError::TooMany(MAX_PER_USER));
            }
            self.check_project(&filter)?;
            let micros = env.now.timestamp_micros();
            db.execute(
                "INSERT INTO views (user_id, id, name, name_key, filter, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
                &[
                    self.user.as_str().into(),
                    id.to_string().into(),
                    name.as_str().into(),
                    name.key().into(),
                    filter.filter().to_string().into(),
                    micros.into(),
                ],
            )
            .map_err(|e| name_taken(e, &name))?;
            Ok(Finish::Commit(()))
        })?;
        self.get(id, env.now)
    }

    /// Renames view `id` or gives it another filter, as `patch` says, at
    /// `now`.
    pub fn update(
        &self,
        id: ViewId,
        patch: ViewPatch,
        now: DateTime<Utc>,
    ) -> Result<View, ViewError> {
        transaction(self.db, |db| {
            let view = self.uncounted(id)?;
            let name = patch.name.clone().unwrap_or(view.name);
            let filter = patch.filter.clone().unwrap_or(view.filter);
            self.check_project(&filter)?;
            db.execute(
                "UPDATE views SET name = $3, name_key = $4, filter = $5, updated_at = $6 \
                 WHERE user_id = $1 AND id = $2",
                &[
                    self.user.as_str().into(),
                    id.to_string().into(),
                    name.as_str().into(),
                    name.key().into(),
                    filter.filter().to_string().into(),
                    now.timestamp_micros().into(),
                ],
            )
            .map_err(|e| name_taken(e, &name))?;
            Ok::<_, ViewError>(Finish::Commit(()))
        })?;
        self.get(id, now)
    }

    /// Deletes view `id` (its tasks stay where they are).
    pub fn delete(&self, id: ViewId) -> Result<(), ViewError> {
        let deleted = self.db.execute(
            "DELETE FROM views WHERE user_id = $1 AND id = $2",
            &[self.user.as_str().into(), id.to_string().into()],
        )?;
        if deleted == 0 {
            return Err(ViewError::NotFound);
        }
        Ok(())
    }

    /// Refuses a filter naming a project the user does not have (a view
    /// of a project deleted later selects nothing).
    fn check_project(&self, filter: &ListQuery) -> Result<(), ViewError> {
        let Some(made) = filter.project.and_then(ProjectId::made) else {
            return Ok(());
        };
        let found = self.db.query(
            "SELECT 1 FROM projects WHERE user_id = $1 AND id = $2",
            &[self.user.as_str().into(), made.to_string().into()],
        )?;
        if found.is_empty() {
            let problem = Problem::UnknownProject(made.to_string());
            return Err(FieldError::new("filter.project", problem).into());
        }
        Ok(())
    }

    /// `view` with the counts of what it selects at `now`.
    fn counted(&self, mut view: View, now: DateTime<Utc>) -> Result<View, ViewError> {
        let mut resolved = view.filter.clone();
        resolved.resolve(now, self.zone);
        (view.pending, view.overdue) = TaskStore::new(self.db, self.user).counts(&resolved, now)?;
        Ok(view)
    }
}

/// The view in `row` (its [`COLUMNS`]), its counts left at zero.
fn read(row: Row<'_>) -> Result<View, ViewError> {
    let unreadable =
        |what: &str| TaskError::Unavailable(format!("a stored view has an unreadable {what}"));
    let instant = |column| -> Result<DateTime<Utc>, ViewError> {
        let micros = row.int(column)?;
        Ok(DateTime::from_timestamp_micros(micros).ok_or_else(|| unreadable("time"))?)
    };
    let filter = serde_json::from_str(row.text(2)?)
        .ok()
        .and_then(|json| ListQuery::parse_filter(&json, "filter").ok())
        .ok_or_else(|| unreadable("filter"))?;
    Ok(View {
        id: ViewId::parse(row.text(0)?).ok_or_else(|| unreadable("id"))?,
        name: Name::parse(row.text(1)?).map_err(|_| unreadable("name"))?,
        filter,
        pending: 0,
        overdue: 0,
        created_at: instant(3)?,
        updated_at: instant(4)?,
    })
}

/// A write's error, the name's unique index holding as the name taken.
fn name_taken(err: SqlError, name: &Name) -> ViewError {
    match err {
        SqlError::Unique(_) => ViewError::NameTaken(name.as_str().to_owned()),
        other => other.into(),
    }
}
