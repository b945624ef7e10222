//! What changed: a user's changes of their tasks in a span of time, newest
//! first, each with the task's title and the fields it changed from what
//! to what ("what did I change yesterday?"). Read from the `changes` table,
//! which keeps every change for good ([`crate::task::store`]).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sql::{Database, Params};

use crate::UserId;
use crate::error::{FieldError, Problem, TaskError};
use crate::task::history::Entry;
use crate::task::query::{instant, limit};
use events::TaskId;

/// The most changes one page answers.
pub const MAX_LIMIT: usize = 200;

/// What a page of activity asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityQuery {
    /// Changes made at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Changes made before this instant.
    pub until: Option<DateTime<Utc>>,
    /// At most this many.
    pub limit: usize,
    /// Older than this change (the previous page's `next_cursor`).
    pub cursor: Option<u64>,
}

impl ActivityQuery {
    /// Parses `since`, `until` (RFC 3339 instants), `limit` and `cursor`.
    pub fn parse(query: &str) -> Result<Self, FieldError> {
        let mut parsed = Self {
            since: None,
            until: None,
            limit: 50,
            cursor: None,
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let err = |problem| FieldError::new(name.as_ref(), problem);
            match name.as_ref() {
                "since" => parsed.since = Some(instant(&value).map_err(err)?),
                "until" => parsed.until = Some(instant(&value).map_err(err)?),
                "limit" => parsed.limit = limit(&value, MAX_LIMIT).map_err(err)?,
                "cursor" => {
                    let expected = "the next_cursor of the previous page";
                    parsed.cursor = Some(
                        value
                            .parse()
                            .map_err(|_| err(Problem::WrongType { expected }))?,
                    );
                }
                _ => {
                    let known = "since, until, limit, cursor";
                    return Err(err(Problem::UnknownField { known }));
                }
            }
        }
        if let (Some(since), Some(until)) = (parsed.since, parsed.until)
            && until <= since
        {
            return Err(FieldError::new(
                "until",
                Problem::BadInstant(format!("{until} is not after since")),
            ));
        }
        Ok(parsed)
    }
}

/// One change, with its task's title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// Its number among the user's changes.
    pub seq: u64,
    /// The task.
    pub task_id: TaskId,
    /// The task's title after the change (before it, for a deletion).
    pub title: String,
    /// What happened, when, and which fields changed from what to what.
    #[serde(flatten)]
    pub entry: Entry,
}

/// A page of activity, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    /// The changes.
    pub activity: Vec<Activity>,
    /// Where the next (older) page starts; `None` on the last page.
    pub next_cursor: Option<u64>,
}

/// The page of `user`'s changes that `query` asks for.
pub fn page<D: Database + ?Sized>(
    db: &D,
    user: &UserId,
    query: &ActivityQuery,
) -> Result<Page, TaskError> {
    let mut params = Params::default();
    let mut statement = format!(
        "SELECT seq, event FROM changes WHERE user_id = {} AND event_type <> 'reminded'",
        params.add(user.as_str())
    );
    let micros = |at: DateTime<Utc>| at.timestamp_micros();
    if let Some(since) = query.since {
        statement.push_str(&format!(" AND at >= {}", params.add(micros(since))));
    }
    if let Some(until) = query.until {
        statement.push_str(&format!(" AND at < {}", params.add(micros(until))));
    }
    if let Some(cursor) = query.cursor {
        let cursor = i64::try_from(cursor).unwrap_or(i64::MAX);
        statement.push_str(&format!(" AND seq < {}", params.add(cursor)));
    }
    let limit = i64::try_from(query.limit.saturating_add(1)).unwrap_or(i64::MAX);
    statement.push_str(&format!(" ORDER BY seq DESC LIMIT {}", params.add(limit)));
    let rows = db.query(&statement, params.values())?;
    let unreadable = |e: &dyn std::fmt::Display| {
        TaskError::Unavailable(format!("a recorded change is unreadable: {e}"))
    };
    let mut activity = rows
        .iter()
        .map(|row| {
            let event: serde_json::Value =
                serde_json::from_str(row.text(1)?).map_err(|e| unreadable(&e))?;
            let entry: Entry = serde_json::from_value(event.clone()).map_err(|e| unreadable(&e))?;
            Ok(Activity {
                seq: u64::try_from(row.int(0)?).map_err(|e| unreadable(&e))?,
                task_id: serde_json::from_value(event["task_id"].clone())
                    .map_err(|e| unreadable(&e))?,
                title: event["task"]["title"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                entry,
            })
        })
        .collect::<Result<Vec<_>, TaskError>>()?;
    let next_cursor = (activity.len() > query.limit)
        .then(|| {
            activity.truncate(query.limit);
            activity.last().map(|a| a.seq)
        })
        .flatten();
    Ok(Page {
        activity,
        next_cursor,
    })
}
