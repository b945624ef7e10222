//! The app's own outbox (ADR 16): a change's event is recorded in the same
//! transaction as the change (its row in `changes`, [`crate::store`]), so a
//! change and its event never part; right after the commit, once the answer
//! is on its way, the event is published and its row marked published.
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
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::change::Event;
use crate::error::TaskError;
use crate::service::Written;
use crate::settings::Settings;
use crate::store::Storage;
use crate::{TaskStore, UserId};
use events::{EventId, TaskEventType, TaskId};

/// How long after its change an unpublished event is the safety net's, in
/// seconds: a normal relay (milliseconds) has published it by then.
pub const GRACE_SECONDS: i64 = 10;

/// The most events one tick of the safety net publishes.
pub const RECOVER_BATCH: i64 = 200;

/// The `source` of every task event.
pub const SOURCE: &str = "todo-chatbot/tasks";

/// An event as its change's row holds it: encoded once, for the row and
/// for every publish of it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The event.
    pub event: Event,
    json: Box<RawValue>,
}

impl Recorded {
    /// `event`, encoded.
    pub fn new(event: Event) -> Result<Self, TaskError> {
        let json = serde_json::value::to_raw_value(&event).map_err(|e| {
            TaskError::Unavailable(format!("cannot encode event {}: {e}", event.event_id))
        })?;
        Ok(Self { event, json })
    }

    /// The event as JSON, as it is published.
    pub fn json(&self) -> &str {
        self.json.get()
    }

    fn header(&self) -> Header {
        Header {
            event_id: self.event.event_id,
            event_type: self.event.event_type,
            task_id: self.event.task_id,
            user_id: self.event.user_id.clone(),
        }
    }
}

/// What the relay needs to know of an event beside its JSON.
#[derive(Debug, Deserialize)]
struct Header {
    event_id: EventId,
    event_type: TaskEventType,
    task_id: TaskId,
    user_id: UserId,
}

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
    /// The pub/sub component that delivered the event being handled, when
    /// a consumer writes.
    delivered_by: Option<&'a str>,
}

impl<'a, T: Transport> Outbox<'a, T> {
    /// The outbox whose records are in `storage`, publishing as `settings` say.
    pub fn new(dapr: &'a Dapr<T>, storage: &'a Storage, settings: &'a Settings) -> Self {
        Self {
            dapr,
            storage,
            settings,
            delivered_by: None,
        }
    }

    /// The outbox of a consumer handling an event that `pubsub` delivered:
    /// the events of its writes are not published back to that component.
    /// With `pubsub.in-memory` a publish on the topic being delivered waits
    /// for the delivery to end, which waits for the publish; with Kafka that
    /// component (the consumer's own group) is not among those published
    /// to anyway. A consumer never needs the events of its own writes.
    pub fn delivered_by(self, pubsub: &'a str) -> Self {
        Self {
            delivered_by: Some(pubsub),
            ..self
        }
    }

    /// `user`'s tasks, whose writes record their events.
    pub fn tasks(&self, user: &'a UserId) -> Result<TaskStore<'a, dyn sql::Database>, TaskError> {
        self.storage.tasks(user)
    }

    /// Relays the event of `written` at once, at `now` ([`Outbox::commit`],
    /// then [`Outbox::settle`]).
    pub async fn write<R: Relayable>(
        &self,
        written: Result<R, TaskError>,
        now: DateTime<Utc>,
    ) -> Result<R, TaskError> {
        let (written, owed) = self.commit(written);
        if let Some(owed) = owed {
            self.settle(owed, now).await;
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

    /// The outbox's second step: publishes the committed event and marks
    /// it published. The write stands whatever happens here: a failed
    /// relay is finished by the safety net.
    pub async fn settle(&self, owed: Owed, now: DateTime<Utc>) {
        let header = owed.event.header();
        let relayed = match self.publish(&header, &owed.event.json).await {
            Ok(()) => self.mark(&header.user_id, owed.seq, now),
            Err(err) => Err(err.into()),
        };
        if let Err(err) = relayed {
            eprintln!(
                "outbox: event {} of {}: left to the safety net: {err}",
                header.event_id, header.user_id
            );
        }
    }

    /// The safety net: publishes the events still unpublished
    /// [`GRACE_SECONDS`] before `now`, oldest first, at most
    /// [`RECOVER_BATCH`] of them; answers how many. A failed publish stops
    /// it (the next tick goes on).
    pub async fn recover(&self, now: DateTime<Utc>) -> Result<usize, TaskError> {
        let before = now - Duration::seconds(GRACE_SECONDS);
        let rows = self.storage.db()?.query(
            "SELECT user_id, seq, event FROM changes WHERE published_at IS NULL AND at < $1 \
             ORDER BY at LIMIT $2",
            &[before.timestamp_micros().into(), RECOVER_BATCH.into()],
        )?;
        let mut published = 0;
        for row in rows.iter() {
            let (seq, json) = (row.int(1)?, row.text(2)?);
            let raw: Box<RawValue> = serde_json::from_str(json)
                .map_err(|e| TaskError::Unavailable(format!("a recorded event is not one: {e}")))?;
            let header: Header = serde_json::from_str(json)
                .map_err(|e| TaskError::Unavailable(format!("a recorded event is not one: {e}")))?;
            self.publish(&header, &raw).await?;
            self.mark(&header.user_id, seq, now)?;
            published += 1;
        }
        Ok(published)
    }

    /// Marks change `seq` of `user` published at `now`.
    fn mark(&self, user: &UserId, seq: i64, now: DateTime<Utc>) -> Result<(), TaskError> {
        self.storage.db()?.execute(
            "UPDATE changes SET published_at = $3 WHERE user_id = $1 AND seq = $2",
            &[
                user.as_str().into(),
                seq.into(),
                now.timestamp_micros().into(),
            ],
        )?;
        Ok(())
    }

    /// Publishes the event `json` to every pub/sub component task events go
    /// to, keyed by its task so that one task's events stay in order.
    async fn publish(&self, header: &Header, json: &RawValue) -> Result<(), DaprError> {
        let id = header.event_id.to_string();
        let task = header.task_id.to_string();
        let kind = header.event_type.cloud_event_type();
        let cloud_event = CloudEvent::new(&id, SOURCE, kind, json);
        let topic = self.settings.task_events_topic();
        let metadata = [("partitionKey", task.as_str())];
        let published = join_all(
            self.settings
                .event_pubsubs
                .iter()
                .filter(|pubsub| Some(pubsub.as_str()) != self.delivered_by)
                .map(|pubsub| self.dapr.publish(pubsub, &topic, &cloud_event, &metadata)),
        )
        .await;
        published.into_iter().collect()
    }
}
