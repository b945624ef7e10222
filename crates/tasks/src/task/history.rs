//! A task's history: what happened to it, when, and which fields changed
//! from what to what. Each entry is the task's change as its transaction
//! recorded it (the `changes` table, [`crate::task::store`]), kept after the task
//! is deleted, newest first in cursor pages by event id (the order the
//! changes were made in).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sql::{Database, Params};

use crate::error::{FieldError, TaskError};
use crate::task::page::PageQuery;
use crate::{TaskId, UserId};
use events::{Change, EventId, TaskEventType};

/// One thing that happened to a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The event that reported it.
    pub event_id: EventId,
    /// What happened.
    pub event_type: TaskEventType,
    /// When.
    pub timestamp: DateTime<Utc>,
    /// Which fields changed, from what to what.
    pub changes: Vec<Change>,
}

/// A page of a history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    /// The entries.
    pub history: Vec<Entry>,
    /// Where the next (older) page starts; `None` on the last page.
    pub next_cursor: Option<EventId>,
}

/// What a page of history asks for: `limit` and `cursor`.
pub type HistoryQuery = PageQuery<EventId>;

/// Parses the query of a history page (`limit`, `cursor`).
pub fn parse_query(query: &str) -> Result<HistoryQuery, FieldError> {
    PageQuery::parse(query, EventId::parse, "limit, cursor", |_, _| Ok(false))
}

/// A page of the history of `user`'s task `id`, newest first; `None` when
/// the user never had such a task.
pub fn page<D: Database + ?Sized>(
    db: &D,
    user: &UserId,
    id: TaskId,
    query: HistoryQuery,
) -> Result<Option<Page>, TaskError> {
    let mut params = Params::default();
    let mut statement = format!(
        "SELECT event, event_id FROM changes WHERE user_id = {} AND task_id = {} \
         AND event_type <> 'reminded'",
        params.add(user.as_str()),
        params.add(id.to_string()),
    );
    if let Some(cursor) = query.cursor {
        statement.push_str(&format!(
            " AND event_id < {}",
            params.add(cursor.to_string())
        ));
    }
    let limit = i64::try_from(query.limit.saturating_add(1)).unwrap_or(i64::MAX);
    statement.push_str(&format!(
        " ORDER BY event_id DESC LIMIT {}",
        params.add(limit)
    ));
    let rows = db.query(&statement, params.values())?;
    if rows.is_empty() && query.cursor.is_none() {
        return Ok(None);
    }
    let mut history = rows
        .iter()
        .map(|row| {
            serde_json::from_str::<Entry>(row.text(0)?).map_err(|e| {
                TaskError::Unavailable(format!("a recorded change is unreadable: {e}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = (history.len() > query.limit)
        .then(|| {
            history.truncate(query.limit);
            history.last().map(|entry| entry.event_id)
        })
        .flatten();
    Ok(Some(Page {
        history,
        next_cursor,
    }))
}

/// Task `id` of `user` as it was at `at`: as its last change at or before
/// then left it. `NotFound` when it did not exist then (not yet made, or
/// deleted by then) or never did.
pub fn as_of<D: Database + ?Sized>(
    db: &D,
    user: &UserId,
    id: TaskId,
    at: DateTime<Utc>,
) -> Result<crate::Task, TaskError> {
    let rows = db.query(
        "SELECT event_type, event FROM changes WHERE user_id = $1 AND task_id = $2 \
         AND event_type <> 'reminded' AND at <= $3 ORDER BY seq DESC LIMIT 1",
        &[
            user.as_str().into(),
            id.to_string().into(),
            at.timestamp_micros().into(),
        ],
    )?;
    let row = rows.first().ok_or(TaskError::NotFound)?;
    if row.text(0)? == "deleted" {
        return Err(TaskError::NotFound);
    }
    crate::task::change::recorded_task(row.text(1)?)
}

/// Parses the query of a task's read: `as_of` (an RFC 3339 instant), or
/// nothing.
pub fn parse_as_of(query: &str) -> Result<Option<DateTime<Utc>>, FieldError> {
    let mut as_of = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let err = |problem| FieldError::new(name.as_ref(), problem);
        match name.as_ref() {
            "as_of" => as_of = Some(crate::task::query::instant(&value).map_err(err)?),
            _ => return Err(err(crate::error::Problem::UnknownField { known: "as_of" })),
        }
    }
    Ok(as_of)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sql::native::Sqlite;

    use super::*;
    use crate::task::store::schema::MIGRATIONS;
    use crate::{Env, TaskPatch, TaskSpec, TaskStore};

    fn at(seconds: i64) -> Env {
        let now = DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default();
        Env::new(now, 1, seconds as u128)
    }

    fn database() -> Sqlite {
        let db = Sqlite::in_memory().expect("a database");
        sql::migrate(&db, MIGRATIONS).expect("migrated");
        db
    }

    /// A task created, renamed `n` times and deleted; answers its id.
    fn lived(db: &Sqlite, user: &UserId, renames: i64) -> TaskId {
        let tasks = TaskStore::new(db, user);
        let spec = TaskSpec::parse(&json!({"title": "t0"})).expect("valid");
        let id = tasks.create(spec, &at(0)).expect("created").task.id;
        for n in 1..=renames {
            let patch = TaskPatch::parse(&json!({"title": format!("t{n}")})).expect("valid");
            tasks.patch(id, patch, &at(n)).expect("patched");
        }
        tasks.delete(id, &at(renames + 1)).expect("deleted");
        id
    }

    #[test]
    fn history_is_newest_first_in_pages_and_outlives_the_task() {
        let (db, user) = (database(), UserId::parse("alice").expect("id"));
        let id = lived(&db, &user, 4);
        let query = parse_query("limit=4").expect("valid");
        let first = page(&db, &user, id, query).expect("read").expect("some");
        let types: Vec<TaskEventType> = first.history.iter().map(|e| e.event_type).collect();
        use TaskEventType::*;
        assert_eq!(types, [Deleted, Updated, Updated, Updated]);
        assert_eq!(first.history[1].changes[0].from, json!("t3"));
        assert_eq!(first.history[1].changes[0].to, json!("t4"));
        let query = HistoryQuery {
            limit: 4,
            cursor: first.next_cursor,
        };
        let second = page(&db, &user, id, query).expect("read").expect("some");
        let types: Vec<TaskEventType> = second.history.iter().map(|e| e.event_type).collect();
        assert_eq!(types, [Updated, Created]);
        assert_eq!(second.next_cursor, None);
    }

    #[test]
    fn another_users_history_is_not_there() {
        let (db, user) = (database(), UserId::parse("alice").expect("id"));
        let id = lived(&db, &user, 0);
        let bob = UserId::parse("bob").expect("id");
        let all = parse_query("").expect("valid");
        assert_eq!(page(&db, &bob, id, all), Ok(None));
    }

    #[test]
    fn bad_queries_say_what_is_wrong() {
        let cases = [
            ("limit=0", "limit must be between 1 and 200 (got 0)"),
            ("cursor=nope", "cursor is not a cursor of this listing"),
            ("sort=title", "sort is not a known field"),
            ("limit=1&limit=2", "limit may be given only once"),
        ];
        for (query, message) in cases {
            let err = parse_query(query).expect_err(query);
            assert!(err.to_string().starts_with(message), "{query}: {err}");
        }
    }
}
