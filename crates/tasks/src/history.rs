//! A task's history: what happened to it, when, and which fields changed
//! from what to what, written by the audit consumer from `task-events`
//! (`history:{user}:{id}`, one key per task, kept after the task is
//! deleted). It is append-only and de-duplicated by event id, so an event
//! delivered twice is recorded once; entries are kept in event-id order,
//! which is the order the changes were made in.

use chrono::{DateTime, Utc};
use dapr::{StateStore, Write};
use serde::{Deserialize, Serialize};

use crate::change::Event;
use crate::error::{FieldError, TaskError};
use crate::log::{self, PageQuery};
use crate::service::retry;
use crate::{TaskId, UserId, keys};
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

/// A task's history as stored, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    entries: Vec<Entry>,
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

impl log::Entry for Entry {
    type Id = EventId;

    fn id(&self) -> EventId {
        self.event_id
    }
}

/// Parses the query of a history page (`limit`, `cursor`).
pub fn parse_query(query: &str) -> Result<HistoryQuery, FieldError> {
    PageQuery::parse(query, EventId::parse, "limit, cursor", |_, _| Ok(false))
}

/// Records `event` in its task's history, once however often it comes.
pub async fn record<S: StateStore>(store: &S, event: &Event) -> Result<(), TaskError> {
    let key = &keys::history(&event.user_id, event.task_id);
    let entry = &Entry {
        event_id: event.event_id,
        event_type: event.event_type,
        timestamp: event.timestamp,
        changes: event.changes.clone(),
    };
    retry(|| async move {
        let (mut history, etag) = match store.get::<Stored>(key).await? {
            Some(read) => (read.value, Some(read.etag)),
            None => (Stored::default(), None),
        };
        if !log::insert_once(&mut history.entries, entry.clone()) {
            return Ok(());
        }
        Ok(store.commit(&[Write::put(key, &history, etag)?]).await?)
    })
    .await
}

/// A page of the history of `user`'s task `id`, newest first; `None` when
/// nothing was ever recorded of it.
pub async fn page<S: StateStore>(
    store: &S,
    user: &UserId,
    id: TaskId,
    query: HistoryQuery,
) -> Result<Option<Page>, TaskError> {
    let Some(read) = store.get::<Stored>(&keys::history(user, id)).await? else {
        return Ok(None);
    };
    let (history, next_cursor) = log::newest_first(read.value.entries, &query, |_| true);
    Ok(Some(Page {
        history,
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use dapr::fakes::FakeStateStore;
    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::{Env, TaskPatch, TaskSpec, Tasks};

    fn at(seconds: i64) -> Env {
        let now = DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default();
        Env::new(now, 1, seconds as u128)
    }

    /// The events of a task created, renamed `n` times and deleted.
    fn events(store: &FakeStateStore, user: &UserId, renames: i64) -> Vec<Event> {
        let tasks = Tasks::new(store, user);
        let spec = TaskSpec::parse(&json!({"title": "t0"})).expect("valid");
        let mut written = vec![block_on(tasks.create(spec, &at(0))).expect("created")];
        let id = written[0].task.id;
        for n in 1..=renames {
            let patch = TaskPatch::parse(&json!({"title": format!("t{n}")})).expect("valid");
            written.push(block_on(tasks.patch(id, patch, &at(n))).expect("patched"));
        }
        written.push(block_on(tasks.delete(id, &at(renames + 1))).expect("deleted"));
        written
            .into_iter()
            .filter_map(|w| w.event.map(|r| r.event))
            .collect()
    }

    #[test]
    fn history_is_newest_first_in_pages_and_outlives_the_task() {
        let (store, user) = (FakeStateStore::new(), UserId::parse("alice").expect("id"));
        let events = events(&store, &user, 4);
        for event in events.iter().rev() {
            block_on(record(&store, event)).expect("recorded");
        }
        let id = events[0].task_id;
        let query = parse_query("limit=4").expect("valid");
        let first = block_on(page(&store, &user, id, query))
            .expect("read")
            .expect("some");
        let types: Vec<TaskEventType> = first.history.iter().map(|e| e.event_type).collect();
        use TaskEventType::*;
        assert_eq!(types, [Deleted, Updated, Updated, Updated]);
        assert_eq!(first.history[1].changes[0].from, json!("t3"));
        assert_eq!(first.history[1].changes[0].to, json!("t4"));
        let query = HistoryQuery {
            limit: 4,
            cursor: first.next_cursor,
        };
        let second = block_on(page(&store, &user, id, query))
            .expect("read")
            .expect("some");
        let types: Vec<TaskEventType> = second.history.iter().map(|e| e.event_type).collect();
        assert_eq!(types, [Updated, Created]);
        assert_eq!(second.next_cursor, None);
    }

    #[test]
    fn an_event_delivered_twice_is_recorded_once() {
        let (store, user) = (FakeStateStore::new(), UserId::parse("alice").expect("id"));
        let events = events(&store, &user, 1);
        for event in events.iter().chain(&events) {
            block_on(record(&store, event)).expect("recorded");
        }
        let all = parse_query("").expect("valid");
        let read = block_on(page(&store, &user, events[0].task_id, all)).expect("read");
        assert_eq!(read.map(|p| p.history.len()), Some(3));
    }

    #[test]
    fn another_users_history_is_not_there() {
        let (store, user) = (FakeStateStore::new(), UserId::parse("alice").expect("id"));
        let events = events(&store, &user, 0);
        block_on(record(&store, &events[0])).expect("recorded");
        let bob = UserId::parse("bob").expect("id");
        let all = parse_query("").expect("valid");
        assert_eq!(
            block_on(page(&store, &bob, events[0].task_id, all)),
            Ok(None)
        );
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
