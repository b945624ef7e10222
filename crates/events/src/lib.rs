//! The published language between the contexts: the ids every context
//! shares, and the events that travel on the topics, with their JSON
//! (checked against golden files in `tests/golden/`).
//!
//! - `task-events`: a [`TaskEvent`] for every change of a task;
//! - `reminders`: a [`ReminderDue`] when a reminder fires.
//!
//! A task event carries the task as its context publishes it; this crate
//! leaves its type open (`T`), so that it knows nothing of the task model.

#![warn(missing_docs)]

use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use auth::UserId;

/// The topic names.
pub mod topics {
    /// Every change of every task, as a [`TaskEvent`](crate::TaskEvent).
    pub const TASK_EVENTS: &str = "task-events";
    /// The completions of repeating tasks (the `task-events` of those), for
    /// the recurrence handler alone.
    pub const TASK_REPEATS: &str = "task-repeats";
    /// The `task-events` that change a task's reminders, for the reminder
    /// scheduler alone.
    pub const TASK_REMINDER_CHANGES: &str = "task-reminder-changes";
    /// Reminders that fire, as a [`ReminderDue`](crate::ReminderDue).
    pub const REMINDERS: &str = "reminders";
    /// Changes for clients to sync live (derived from `task-events`).
    pub const TASK_UPDATES: &str = "task-updates";
}

/// Ids that are ULIDs: made from a time and 80 random bits, so they sort by
/// the time they were made; read from text (a path, a key, a job name), where
/// anything that is not a ULID names nothing; written as their text.
macro_rules! ulid_ids {
    ($($(#[$doc:meta])* $name:ident),*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(ulid::Ulid);

        impl $name {
            /// A new id made at `now`; `random` supplies the 80 random bits.
            pub fn new(now: DateTime<Utc>, random: u128) -> Self {
                let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
                Self(ulid::Ulid::from_parts(millis, random))
            }

            /// The ULID it is.
            pub fn ulid(self) -> ulid::Ulid {
                self.0
            }

            /// The id `raw` spells, if it spells one.
            pub fn parse(raw: &str) -> Option<Self> {
                ulid::Ulid::from_string(raw).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    )*};
}

ulid_ids!(
    /// A task id: ids sort by creation time.
    TaskId,
    /// An event id: ids sort by the time the change was made, and each is
    /// unique, so a consumer that sees an event twice can tell.
    EventId,
    /// A reminder's id: one for each time a reminder of a task fires, made
    /// from that time and the reminder (see [`ReminderId::of`]), so that
    /// every path that delivers the same reminder names it alike.
    ReminderId
);

impl ReminderId {
    /// The id of the reminder at `index` of task `task`, firing at
    /// `remind_at`: the same whenever it is worked out again.
    pub fn of(task: TaskId, index: usize, remind_at: DateTime<Utc>) -> Self {
        let index = u128::try_from(index).unwrap_or(u128::MAX);
        Self::new(remind_at, task.random_bits() ^ index)
    }
}

impl TaskId {
    /// When the id was made (to the millisecond): a task's creation time.
    pub fn created_at(self) -> DateTime<Utc> {
        let millis = i64::try_from(self.0.timestamp_ms()).unwrap_or(i64::MAX);
        DateTime::from_timestamp_millis(millis).unwrap_or_default()
    }

    /// The id's 80 random bits.
    pub fn random_bits(self) -> u128 {
        self.0.random()
    }
}

/// What happened to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskEventType {
    /// It was created.
    Created,
    /// Some of its fields changed (see `changes`).
    Updated,
    /// It was marked done.
    Completed,
    /// It was marked not done again.
    Reopened,
    /// It was deleted; the event carries its last state.
    Deleted,
}

impl TaskEventType {
    /// The CloudEvent `type` of this event, such as `task.completed`.
    pub fn cloud_event_type(self) -> &'static str {
        match self {
            Self::Created => "task.created",
            Self::Updated => "task.updated",
            Self::Completed => "task.completed",
            Self::Reopened => "task.reopened",
            Self::Deleted => "task.deleted",
        }
    }
}

/// One change of one task, on `task-events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskEvent<T> {
    /// Unique for each event; consumers de-duplicate on it.
    pub event_id: EventId,
    /// What happened.
    pub event_type: TaskEventType,
    /// The task's id.
    pub task_id: TaskId,
    /// Whose task it is.
    pub user_id: UserId,
    /// The task after the change (before it, for `deleted`).
    pub task: T,
    /// The fields that changed, from what to what: every field set for
    /// `created`, every field cleared for `deleted`.
    pub changes: Vec<Change>,
    /// When the change was made.
    pub timestamp: DateTime<Utc>,
}

/// One field of a task that changed, in the API's spelling and JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The field's name, such as `due_at`.
    pub field: String,
    /// Its value before (`null` when it had none, or the task was new).
    pub from: Value,
    /// Its value after (`null` when it has none, or the task is gone).
    pub to: Value,
}

/// A reminder that fired, on `reminders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderDue {
    /// Unique for each reminder occurrence; the inbox de-duplicates on it.
    pub reminder_id: ReminderId,
    /// The task it reminds of.
    pub task_id: TaskId,
    /// Whose task it is.
    pub user_id: UserId,
    /// The task's title when the reminder fired.
    pub title: String,
    /// When the task is due, in its time zone, if it has a due date.
    pub due_at: Option<DateTime<FixedOffset>>,
    /// When the reminder was meant to fire.
    pub remind_at: DateTime<Utc>,
}
