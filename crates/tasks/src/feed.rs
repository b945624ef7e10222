//! A user's change feed (issue 11's live updates): every change of their
//! tasks, whoever made it (the API, the chat, the recurrence handler), and
//! every reminder that reached their inbox, numbered in the order the feed
//! heard of it (`feed:{user}`, a few dozen bytes a change: what happened to
//! which task, not the task), so
//! that a page that polls from its last number misses nothing and sees
//! nothing twice, even when events of different tasks arrive out of order.
//! It keeps a user's last [`KEPT`] changes; a page further behind is told to
//! reload.

use chrono::{DateTime, Utc};
use dapr::{StateStore, Write};
use serde::{Deserialize, Serialize};

use crate::change::Event;
use crate::error::{FieldError, Problem, TaskError};
use crate::limits::Usage;
use crate::service::retry;
use crate::{UserId, keys};
use events::{ReminderDue, TaskEventType, TaskId};

/// How many changes a feed keeps.
pub const KEPT: usize = 200;
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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Stored {
    /// The number the next change gets.
    next: u64,
    /// The user's tasks: created and not deleted, counted from the feed's
    /// changes (from when the feed began counting), written beside it as
    /// `usage:{user}` for the task limit to read.
    #[serde(default)]
    tasks: u64,
    changes: Vec<Change>,
}

/// Adds `event` to its user's feed, once however often it comes.
pub async fn record<S: StateStore>(store: &S, event: &Event) -> Result<(), TaskError> {
    let heard = Heard {
        id: event.event_id.ulid(),
        happened: event.event_type.into(),
        task_id: event.task_id,
        timestamp: event.timestamp,
    };
    append(store, &event.user_id, &heard).await
}

/// Adds a reminder that reached the inbox to its user's feed, once.
pub async fn reminded<S: StateStore>(store: &S, due: &ReminderDue) -> Result<(), TaskError> {
    let heard = Heard {
        id: due.reminder_id.ulid(),
        happened: Happened::Reminded,
        task_id: due.task_id,
        timestamp: due.remind_at,
    };
    append(store, &due.user_id, &heard).await
}

/// A change before the feed numbers it.
struct Heard {
    id: ulid::Ulid,
    happened: Happened,
    task_id: TaskId,
    timestamp: DateTime<Utc>,
}

async fn append<S: StateStore>(store: &S, user: &UserId, heard: &Heard) -> Result<(), TaskError> {
    let key = &keys::feed(user);
    // A create or a delete changes the count of the user's tasks too.
    let counted =
        matches!(heard.happened, Happened::Created | Happened::Deleted).then(|| keys::usage(user));
    let counted = &counted;
    retry(|| async move {
        let (read, usage) = match counted {
            Some(usage_key) => {
                let bulk = store.get_bulk(&[key.clone(), usage_key.clone()]).await?;
                (bulk.value::<Stored>(key)?, bulk.value::<Usage>(usage_key)?)
            }
            None => (store.get::<Stored>(key).await?, None),
        };
        let (mut feed, etag) = match read {
            Some(read) => (read.value, Some(read.etag)),
            None => (
                Stored {
                    next: 1,
                    tasks: 0,
                    changes: Vec::new(),
                },
                None,
            ),
        };
        if feed
            .changes
            .iter()
            .any(|c| c.event_id == heard.id && c.event_type == heard.happened)
        {
            return Ok(());
        }
        feed.changes.push(Change {
            seq: feed.next,
            event_id: heard.id,
            event_type: heard.happened,
            task_id: heard.task_id,
            timestamp: heard.timestamp,
        });
        feed.next += 1;
        let over = feed.changes.len().saturating_sub(KEPT);
        feed.changes.drain(..over);
        let mut writes = Vec::with_capacity(2);
        if let Some(usage_key) = counted {
            feed.tasks = match heard.happened {
                Happened::Created => feed.tasks + 1,
                _ => feed.tasks.saturating_sub(1),
            };
            let usage_etag = usage.map(|read| read.etag);
            writes.push(Write::put(
                usage_key,
                &Usage { tasks: feed.tasks },
                usage_etag,
            )?);
        }
        writes.push(Write::put(key, &feed, etag)?);
        Ok(store.commit(&writes).await?)
    })
    .await
}

/// What a read of the feed answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    /// The changes after the cursor, oldest first.
    pub changes: Vec<Change>,
    /// Where to read from next (the last change's number, or the cursor).
    pub cursor: u64,
    /// Whether changes after the cursor were dropped already: reload.
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
            "limit" => limit = crate::query::limit(&value, MAX_LIMIT).map_err(err)?,
            _ => {
                return Err(err(Problem::UnknownField {
                    known: "after, limit",
                }));
            }
        }
    }
    Ok((after, limit))
}

/// The changes of `user`'s feed after `after`, at most `limit`.
pub async fn since<S: StateStore>(
    store: &S,
    user: &UserId,
    after: u64,
    limit: usize,
) -> Result<Page, TaskError> {
    let feed = store
        .get::<Stored>(&keys::feed(user))
        .await?
        .map(|r| r.value)
        .unwrap_or_default();
    let first = feed.changes.first().map_or(feed.next, |c| c.seq);
    let changes: Vec<Change> = feed
        .changes
        .into_iter()
        .filter(|c| c.seq > after)
        .take(limit)
        .collect();
    let cursor = changes.last().map_or(after, |c| c.seq);
    Ok(Page {
        reload: after + 1 < first,
        changes,
        cursor,
    })
}

#[cfg(test)]
mod tests {
    use dapr::fakes::FakeStateStore;
    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::{Env, TaskSpec, Tasks};

    fn events(store: &FakeStateStore, n: i64) -> Vec<Event> {
        let user = UserId::parse("alice").expect("a user id");
        (0..n)
            .map(|i| {
                let env = Env::new(
                    DateTime::from_timestamp(1_800_000_000 + i, 0).unwrap_or_default(),
                    i as u128,
                    i as u128 + 1,
                );
                let spec = TaskSpec::parse(&json!({"title": format!("t{i}")})).expect("valid");
                block_on(Tasks::new(store, &user).create(spec, &env))
                    .expect("created")
                    .event
                    .expect("an event")
                    .event
            })
            .collect()
    }

    #[test]
    fn changes_are_numbered_as_heard_once_each_and_read_from_a_cursor() {
        let store = FakeStateStore::default();
        let mut heard = events(&store, 3);
        heard.reverse(); // out of order, as two partitions may deliver them
        for event in heard.iter().chain(&heard) {
            block_on(record(&store, event)).expect("recorded");
        }
        let alice = UserId::parse("alice").expect("a user id");
        let page = block_on(since(&store, &alice, 0, 50)).expect("read");
        let seqs: Vec<u64> = page.changes.iter().map(|c| c.seq).collect();
        assert_eq!((seqs, page.cursor, page.reload), (vec![1, 2, 3], 3, false));
        assert_eq!(
            page.changes[0].event_id,
            heard[0].event_id.ulid(),
            "numbered as heard"
        );
        let rest = block_on(since(&store, &alice, 2, 50)).expect("read");
        assert_eq!(rest.changes.len(), 1);
        let none = block_on(since(&store, &alice, 3, 50)).expect("read");
        assert_eq!((none.changes.len(), none.cursor), (0, 3));
    }

    #[test]
    fn the_feed_counts_the_users_tasks_once_per_create_and_delete() {
        let store = FakeStateStore::default();
        let alice = UserId::parse("alice").expect("a user id");
        let created = events(&store, 3);
        for event in created.iter().chain(&created) {
            block_on(record(&store, event)).expect("recorded");
        }
        let usage = |store: &FakeStateStore| {
            block_on(store.get::<Usage>(&keys::usage(&alice)))
                .expect("read")
                .map(|read| read.value.tasks)
        };
        assert_eq!(usage(&store), Some(3), "each create counted once");
        let env = Env::new(
            DateTime::from_timestamp(1_800_000_100, 0).unwrap_or_default(),
            7,
            8,
        );
        let deleted = block_on(Tasks::new(&store, &alice).delete(created[0].task_id, &env))
            .expect("deleted")
            .event
            .expect("an event")
            .event;
        block_on(record(&store, &deleted)).expect("recorded");
        block_on(record(&store, &deleted)).expect("recorded");
        assert_eq!(usage(&store), Some(2), "the delete counted once");
    }

    #[test]
    fn a_reminder_in_the_inbox_is_a_change_once() {
        let store = FakeStateStore::default();
        let event = events(&store, 1).remove(0);
        let remind_at = event.timestamp + chrono::Duration::minutes(5);
        let due = ReminderDue {
            reminder_id: events::ReminderId::of(event.task_id, 0, remind_at),
            user_id: event.user_id.clone(),
            task_id: event.task_id,
            title: "t0".into(),
            due_at: None,
            remind_at,
        };
        for _ in 0..2 {
            block_on(reminded(&store, &due)).expect("recorded");
        }
        block_on(record(&store, &event)).expect("recorded");
        let page = block_on(since(&store, &event.user_id, 0, 50)).expect("read");
        let kinds: Vec<_> = page.changes.iter().map(|c| c.event_type).collect();
        assert_eq!(kinds, [Happened::Reminded, Happened::Created]);
        assert_eq!(page.changes[0].event_id, due.reminder_id.ulid());
        let json = serde_json::to_value(&page.changes[0]).expect("json");
        assert_eq!(json["event_type"], "reminded");
    }

    #[test]
    fn a_reader_too_far_behind_is_told_to_reload() {
        let store = FakeStateStore::default();
        for event in events(&store, KEPT as i64 + 5) {
            block_on(record(&store, &event)).expect("recorded");
        }
        let alice = UserId::parse("alice").expect("a user id");
        assert!(block_on(since(&store, &alice, 0, 10)).expect("read").reload);
        assert!(!block_on(since(&store, &alice, 5, 10)).expect("read").reload);
        assert_eq!(
            parse_query("after=x").map_err(|e| e.field),
            Err("after".into())
        );
    }
}
