//! The app's own outbox (ADR 16): a change's event is recorded in the same
//! transaction as the change (its row in `changes`, [`crate::task::store`]), so a
//! change and its event never part, and queued in `outbox`; right after the
//! commit, once the answer is on its way, the event is published and taken
//! out of the outbox.
//!
//! Every event goes on `task-events`; a consumer gets only what it acts on,
//! on a topic of its own: the completion of a repeating task also on
//! `task-repeats` (the recurrence handler), an event that changes a task's
//! reminders also on `task-reminder-changes` (the reminder scheduler). A
//! create of a plain task so wakes no consumer at all.
//!
//! The safety net is a query: the reminder sweep's cron tick publishes the
//! changes still unpublished [`GRACE_SECONDS`] after they were made (a
//! process died between its commit and its publish, or the broker was
//! down), oldest first ([`Outbox::recover`]). An event may so be published
//! twice, never lost: consumers de-duplicate on its id.

use chrono::{DateTime, Duration, Utc};
use dapr::publish::CloudEvent;
use dapr::{Dapr, DaprError, Transport};
use futures::future::join_all;
use serde_json::value::RawValue;

use crate::error::TaskError;
use crate::reminders;
use crate::service::Written;
use crate::settings::Settings;
use crate::task::change::{Event, Recorded};
use crate::task::store::{Created, Storage};
use crate::{TaskStore, UserId};
use events::TaskEventType;
use sql::{Database, Dialect};

/// How long after its change an unpublished event is the safety net's, in
/// seconds: a normal relay (milliseconds) has published it by then.
pub const GRACE_SECONDS: i64 = 10;

/// How many events the safety net reads at a time.
pub const RECOVER_BATCH: i64 = 200;

/// The most events one tick of the safety net publishes: what a minute of
/// writes leaves behind while the broker is away (relays give up after a
/// quarter of a second), so that a backlog drains in a tick or two.
pub const RECOVER_MOST: usize = 5_000;

/// The `source` of every task event.
pub const SOURCE: &str = "todo-chatbot/tasks";

/// What a write answers, which may hold an event to relay.
pub trait Relayable {
    /// The event the write recorded and its change's number, if it
    /// recorded one.
    fn owed(&self) -> Option<Owed>;
}

impl Relayable for Written {
    fn owed(&self) -> Option<Owed> {
        Some(Owed {
            event: self.event.clone()?,
            seq: self.seq?,
        })
    }
}

impl Relayable for Option<Written> {
    fn owed(&self) -> Option<Owed> {
        self.as_ref().and_then(Relayable::owed)
    }
}

impl Relayable for Created {
    fn owed(&self) -> Option<Owed> {
        match self {
            Created::New(written, _) => written.owed(),
            Created::Again(_) => None,
        }
    }
}

/// What is owed after a write: its event, to relay, and its change's number.
#[derive(Debug, Clone)]
pub struct Owed {
    event: Recorded,
    seq: i64,
}

/// The outbox of the app behind one sidecar.
#[derive(Debug)]
pub struct Outbox<'a, T> {
    dapr: &'a Dapr<T>,
    storage: &'a Storage,
    settings: &'a Settings,
}

impl<'a, T: Transport> Outbox<'a, T> {
    /// The outbox whose records are in `storage`, publishing as `settings` say.
    pub fn new(dapr: &'a Dapr<T>, storage: &'a Storage, settings: &'a Settings) -> Self {
        Self {
            dapr,
            storage,
            settings,
        }
    }

    /// `user`'s tasks, whose writes record their events.
    pub fn tasks(&self, user: &'a UserId) -> TaskStore<'a, dyn sql::Database + 'a> {
        self.storage.tasks(user)
    }

    /// Relays the event of `written` at once ([`Outbox::commit`], then
    /// [`Outbox::settle`]).
    pub async fn write<R: Relayable>(&self, written: Result<R, TaskError>) -> Result<R, TaskError> {
        let (written, owed) = self.commit(written);
        if let Some(owed) = owed {
            self.settle(owed).await;
        }
        written
    }

    /// The outbox's first step, after a write: answers what it wrote, and
    /// the event owed after it. Call [`Outbox::settle`] with it as soon as
    /// the answer to the user is on its way.
    pub fn commit<R: Relayable>(
        &self,
        written: Result<R, TaskError>,
    ) -> (Result<R, TaskError>, Option<Owed>) {
        let owed = written.as_ref().ok().and_then(Relayable::owed);
        (written, owed)
    }

    /// The outbox's second step: publishes the committed event and takes
    /// it out of the outbox. The write stands whatever happens here: a failed
    /// relay is finished by the safety net.
    pub async fn settle(&self, owed: Owed) {
        let event = &owed.event.event;
        let relayed = match self.publish(event, owed.event.raw()).await {
            Ok(()) => self.mark(&event.user_id, owed.seq),
            Err(err) => Err(err.into()),
        };
        if let Err(err) = relayed {
            eprintln!(
                "outbox: event {} of {}: left to the safety net: {err}",
                event.event_id, event.user_id
            );
        }
    }

    /// The safety net: publishes the events still unpublished
    /// [`GRACE_SECONDS`] before `now`, oldest first, [`RECOVER_BATCH`] at a
    /// time and at most [`RECOVER_MOST`]; answers how many. A failed
    /// publish stops it (the next tick goes on).
    pub async fn recover(&self, now: DateTime<Utc>) -> Result<usize, TaskError> {
        let before = now - Duration::seconds(GRACE_SECONDS);
        let mut published = 0;
        while published < RECOVER_MOST {
            let rows = self.storage.query(
                "SELECT c.user_id, c.seq, c.event FROM outbox o \
                 JOIN changes c ON c.user_id = o.user_id AND c.seq = o.seq \
                 WHERE o.at < $1 ORDER BY o.at LIMIT $2",
                &[before.timestamp_micros().into(), RECOVER_BATCH.into()],
            )?;
            for row in rows.iter() {
                let (seq, json) = (row.int(1)?, row.text(2)?);
                let unreadable = |e: serde_json::Error| {
                    TaskError::Unavailable(format!("a recorded event is not one: {e}"))
                };
                let raw: Box<RawValue> = serde_json::from_str(json).map_err(unreadable)?;
                let event: Event = serde_json::from_str(json).map_err(unreadable)?;
                self.publish(&event, &raw).await?;
                self.mark(&event.user_id, seq)?;
                published += 1;
            }
            if rows.len() < usize::try_from(RECOVER_BATCH).unwrap_or(usize::MAX) {
                break;
            }
        }
        Ok(published)
    }

    /// Takes change `seq` of `user` out of the outbox: its event is
    /// published.
    fn mark(&self, user: &UserId, seq: i64) -> Result<(), TaskError> {
        let delete = match self.storage.dialect() {
            // Committed without waiting for the WAL to reach the disk
            // (`synchronous_commit` off for this transaction alone): a
            // crash may lose the delete, and then the safety net publishes
            // the event again, which consumers absorb. It saves a flush a
            // write.
            Dialect::Postgres => {
                "DELETE FROM outbox WHERE user_id = $1 AND seq = $2 \
                 AND set_config('synchronous_commit', 'off', true) IS NOT NULL"
            }
            Dialect::Sqlite => "DELETE FROM outbox WHERE user_id = $1 AND seq = $2",
        };
        self.storage
            .execute(delete, &[user.as_str().into(), seq.into()])?;
        Ok(())
    }

    /// Publishes `event` (as `json`) on `task-events`, and on the topic of
    /// each consumer that acts on it, keyed by its task so that one task's
    /// events stay in order.
    async fn publish(&self, event: &Event, json: &RawValue) -> Result<(), DaprError> {
        let id = event.event_id.to_string();
        let task = event.task_id.to_string();
        let cloud_event = CloudEvent::new(&id, SOURCE, event.event_type.cloud_event_type(), json);
        let metadata = [("partitionKey", task.as_str())];
        let settings = self.settings;
        let mut targets = vec![(&settings.event_pubsub, settings.task_events_topic())];
        if event.event_type == TaskEventType::Completed && event.task.recurrence.is_some() {
            targets.push((&settings.repeat_pubsub, settings.repeats_topic()));
        }
        if reminders::plan(event).is_some() {
            targets.push((
                &settings.reminder_change_pubsub,
                settings.reminder_changes_topic(),
            ));
        }
        let published = join_all(
            targets
                .iter()
                .map(|(pubsub, topic)| self.dapr.publish(pubsub, topic, &cloud_event, &metadata)),
        )
        .await;
        published.into_iter().collect()
    }
}
