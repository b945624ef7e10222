//! A user's change feed (the web app's live updates): every change of
//! their tasks, whoever made it (the API, the chat, the recurrence
//! handler), and every reminder that reached their inbox, numbered per user
//! in the order they committed (the `changes` table, [`crate::task::store`]), so
//! that a page that polls from its last number misses nothing and sees
//! nothing twice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sql::Database;

use crate::UserId;
use crate::error::{FieldError, Problem, TaskError};
use events::{TaskEventType, TaskId};

/// The most changes one read answers.
pub const MAX_LIMIT: usize = 200;

/// What happened to a task: a task event's type, or a reminder of it
/// that reached the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Happened {
    /// It was created.
    Created,
    /// Some of its fields changed.
    Updated,
    /// It was marked done.
    Completed,
    /// It was marked not done again.
    Reopened,
    /// It was deleted.
    Deleted,
    /// A reminder of it is in the inbox.
    Reminded,
}

impl From<TaskEventType> for Happened {
    fn from(kind: TaskEventType) -> Self {
        match kind {
            TaskEventType::Created => Self::Created,
            TaskEventType::Updated => Self::Updated,
            TaskEventType::Completed => Self::Completed,
            TaskEventType::Reopened => Self::Reopened,
            TaskEventType::Deleted => Self::Deleted,
        }
    }
}

/// One change, as the feed gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Its number in the feed, from 1.
    pub seq: u64,
    /// What reported it: the task event's id, or the reminder's.
    pub event_id: ulid::Ulid,
    /// What happened.
    pub event_type: Happened,
    /// The task (read it at `/api/{user}/tasks/{id}` for what it is now).
    pub task_id: TaskId,
    /// When the change was made.
    pub timestamp: DateTime<Utc>,
}

/// What a read of the feed answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    /// The changes after the cursor, oldest first.
    pub changes: Vec<Change>,
    /// Where to read from next (the last change's number, or the cursor).
    pub cursor: u64,
    /// Whether changes after the cursor were dropped already: reload.
    /// Changes are kept for good, so never.
    pub reload: bool,
}

/// Parses `after=N&limit=M` (both optional).
pub fn parse_query(query: &str) -> Result<(u64, usize), FieldError> {
    let (mut after, mut limit) = (0, 50);
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let err = |problem| FieldError::new(name.as_ref(), problem);
        match name.as_ref() {
            "after" => {
                after = value.parse().map_err(|_| {
                    err(Problem::WrongType {
                        expected: "the cursor of the last read, a whole number",
                    })
                })?
            }
            "limit" => limit = crate::task::query::limit(&value, MAX_LIMIT).map_err(err)?,
            _ => {
                return Err(err(Problem::UnknownField {
                    known: "after, limit",
                }));
            }
        }
    }
    Ok((after, limit))
}

impl Happened {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "created" => Self::Created,
            "updated" => Self::Updated,
            "completed" => Self::Completed,
            "reopened" => Self::Reopened,
            "deleted" => Self::Deleted,
            "reminded" => Self::Reminded,
            _ => return None,
        })
    }
}

/// The changes of `user`'s feed after `after`, at most `limit`.
pub fn since<D: Database + ?Sized>(
    db: &D,
    user: &UserId,
    after: u64,
    limit: usize,
) -> Result<Page, TaskError> {
    let rows = db.query(
        "SELECT seq, event_id, event_type, task_id, at FROM changes \
         WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        &[
            user.as_str().into(),
            i64::try_from(after).unwrap_or(i64::MAX).into(),
            i64::try_from(limit).unwrap_or(i64::MAX).into(),
        ],
    )?;
    let unreadable =
        |what: &str| TaskError::Unavailable(format!("a change has an unreadable {what}"));
    let changes = rows
        .iter()
        .map(|row| {
            Ok(Change {
                seq: u64::try_from(row.int(0)?).map_err(|_| unreadable("number"))?,
                event_id: row.text(1)?.parse().map_err(|_| unreadable("event id"))?,
                event_type: Happened::parse(row.text(2)?).ok_or_else(|| unreadable("type"))?,
                task_id: TaskId::parse(row.text(3)?).ok_or_else(|| unreadable("task id"))?,
                timestamp: DateTime::from_timestamp_micros(row.int(4)?)
                    .ok_or_else(|| unreadable("time"))?,
            })
        })
        .collect::<Result<Vec<_>, TaskError>>()?;
    let cursor = changes.last().map_or(after, |c| c.seq);
    Ok(Page {
        reload: false,
        changes,
        cursor,
    })
}
