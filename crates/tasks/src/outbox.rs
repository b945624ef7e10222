//! The app's own outbox (ADR 8): every write puts its event's record
//! (`outbox:{user}:{event_id}`) in the same transaction as the change, so a
//! change and its event never part; right after the commit the event is
//! published and its record cleared. The safety net is a Dapr job armed
//! *before* the commit (`outbox-{event_id}`, due [`SAFETY_NET_AFTER`]): if
//! the process dies between the commit and the publish, the job fires and
//! publishes whatever record is left ([`Outbox::recover`]); after a normal
//! relay it is deleted. An event may so be published twice, never lost:
//! consumers de-duplicate on its id.

use dapr::jobs::{FailurePolicy, Job};
use dapr::publish::CloudEvent;
use dapr::{Dapr, DaprError, StateStore, Transport, Write};
use futures::future::{join, join_all};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::change::Event;
use crate::error::TaskError;
use crate::service::{Env, Written};
use crate::settings::Settings;
use crate::{UserId, keys};
use events::{EventId, TaskEventType, TaskId};

/// How long after a write its safety net fires if the event was not
/// relayed: long enough for a normal relay (milliseconds) to delete it first.
pub const SAFETY_NET_AFTER: &str = "5s";

/// Between tries of a safety net whose publish failed (the broker is down):
/// it tries until the event is out.
const RETRY_EVERY: &str = "5s";

/// The `source` of every task event.
pub const SOURCE: &str = "todo-chatbot/tasks";

/// What a safety-net job carries: whose event it guards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guard {
    /// The user whose change it was.
    pub user_id: UserId,
    /// The event the record holds.
    pub event_id: EventId,
}

/// The name of the safety-net job of event `id`.
pub fn job_name(id: EventId) -> String {
    format!("{}{id}", Settings::OUTBOX_JOB_PREFIX)
}

/// An event as its outbox record holds it: encoded once, for the record and
/// for every publish of it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The event.
    pub event: Event,
    json: Box<RawValue>,
}

impl Recorded {
    /// `event`, encoded.
    pub fn new(event: Event) -> Result<Self, DaprError> {
        let json = serde_json::value::to_raw_value(&event).map_err(|e| {
            DaprError::Unavailable(format!("cannot encode event {}: {e}", event.event_id))
        })?;
        Ok(Self { event, json })
    }

    /// The write of its record, for the transaction of its change.
    pub fn write(&self) -> Write {
        Write::Put {
            key: keys::outbox(&self.event.user_id, self.event.event_id),
            value: self.json.clone(),
            etag: None,
            ttl_seconds: None,
        }
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
    /// The event the write recorded, if it recorded one.
    fn event(&self) -> Option<&Recorded>;
}

impl Relayable for Written {
    fn event(&self) -> Option<&Recorded> {
        self.event.as_ref()
    }
}

impl Relayable for Option<Written> {
    fn event(&self) -> Option<&Recorded> {
        self.as_ref().and_then(Relayable::event)
    }
}

/// What is owed after a write: its event to relay, or, when it recorded
/// none, its safety net to take back.
#[derive(Debug, Clone)]
pub struct Owed {
    user: UserId,
    event_id: EventId,
    event: Option<Recorded>,
}

/// The outbox of the app behind one sidecar.
#[derive(Debug)]
pub struct Outbox<'a, T, S> {
    dapr: &'a Dapr<T>,
    store: &'a S,
    settings: &'a Settings,
    /// The pub/sub component that delivered the event being handled, when
    /// a consumer writes.
    delivered_by: Option<&'a str>,
}

impl<'a, T: Transport, S: StateStore> Outbox<'a, T, S> {
    /// The outbox whose records are in `store`, publishing as `settings` say.
    pub fn new(dapr: &'a Dapr<T>, store: &'a S, settings: &'a Settings) -> Self {
        Self {
            dapr,
            store,
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

    /// Runs `write` between the outbox's two steps: the safety net of its
    /// event (`env.event_id`) is armed before it commits, and its event
    /// relayed after ([`Outbox::commit`], then [`Outbox::settle`]).
    pub async fn write<R: Relayable>(
        &self,
        user: &UserId,
        env: &Env,
        write: impl Future<Output = Result<R, TaskError>>,
    ) -> Result<R, TaskError> {
        let (written, owed) = self.commit(user, env, write).await;
        if let Some(owed) = owed {
            self.settle(owed).await;
        }
        written
    }

    /// The outbox's first step: arms the safety net of the write's event
    /// (`env.event_id`), then runs `write`. Answers what it wrote, and what
    /// is owed after it (nothing when the net could not be armed, and then
    /// nothing was written): call [`Outbox::settle`] with it, as soon as
    /// the answer to the user is on its way.
    pub async fn commit<R: Relayable>(
        &self,
        user: &UserId,
        env: &Env,
        write: impl Future<Output = Result<R, TaskError>>,
    ) -> (Result<R, TaskError>, Option<Owed>) {
        if let Err(err) = self.arm(user, env.event_id).await {
            return (Err(err.into()), None);
        }
        let written = write.await;
        let owed = Owed {
            user: user.clone(),
            event_id: env.event_id,
            event: written.as_ref().ok().and_then(Relayable::event).cloned(),
        };
        (written, Some(owed))
    }

    /// The outbox's second step: relays the committed event, or takes back
    /// the safety net of a write that recorded none. The write stands
    /// whatever happens here: a failed relay is finished by the safety net,
    /// and a net left armed only fires and finds nothing.
    pub async fn settle(&self, owed: Owed) {
        let settled = match &owed.event {
            Some(event) => self.relay(event).await,
            None => self.disarm(owed.event_id).await,
        };
        if let Err(err) = settled {
            eprintln!(
                "outbox: event {} of {}: left to the safety net: {err}",
                owed.event_id, owed.user
            );
        }
    }

    /// Arms the safety net of event `id` of `user`; call it before the
    /// write that records the event commits.
    pub async fn arm(&self, user: &UserId, id: EventId) -> Result<(), DaprError> {
        let guard = Guard {
            user_id: user.clone(),
            event_id: id,
        };
        let job = Job {
            failure_policy: Some(FailurePolicy::Constant {
                interval: RETRY_EVERY,
                max_retries: None,
            }),
            ..Job::once(SAFETY_NET_AFTER, &guard)
        };
        self.dapr.schedule_job(&job_name(id), &job).await
    }

    /// Disarms the safety net of event `id`, when its write wrote nothing.
    pub async fn disarm(&self, id: EventId) -> Result<(), DaprError> {
        self.dapr.delete_job(&job_name(id)).await
    }

    /// Publishes a committed event, then clears its record and its safety
    /// net. A failure leaves both for the safety net to finish.
    pub async fn relay(&self, recorded: &Recorded) -> Result<(), DaprError> {
        let header = recorded.header();
        self.publish(&header, &recorded.json).await?;
        let (cleared, disarmed) = join(self.clear(&header), self.disarm(header.event_id)).await;
        cleared.and(disarmed)
    }

    /// The safety net's callback: publishes the record of `guard`'s event if
    /// a crash left it, and clears it. Nothing left means it was relayed.
    pub async fn recover(&self, guard: &Guard) -> Result<(), DaprError> {
        let key = keys::outbox(&guard.user_id, guard.event_id);
        let Some(record) = self.store.get::<Box<RawValue>>(&key).await? else {
            return Ok(());
        };
        let header: Header = serde_json::from_str(record.value.get()).map_err(|e| {
            DaprError::Unavailable(format!(
                "the record of event {} is not one: {e}",
                guard.event_id
            ))
        })?;
        self.publish(&header, &record.value).await?;
        self.clear(&header).await
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

    async fn clear(&self, header: &Header) -> Result<(), DaprError> {
        let key = keys::outbox(&header.user_id, header.event_id);
        self.store
            .commit(&[Write::Delete { key, etag: None }])
            .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use dapr::fakes::RecordingTransport;
    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::{TaskSpec, Tasks};

    /// What a create through the outbox sends daprd, in order, as
    /// `METHOD path` (queries and bodies left out), with the answers given.
    fn create(answers: &[(u16, &str)]) -> (Result<Written, TaskError>, Vec<String>) {
        let transport = RecordingTransport::answering(answers.iter().copied());
        let dapr = Dapr::new("http://dapr", &transport);
        let store = dapr.state("statestore");
        let settings = Settings {
            state_store: "statestore".into(),
            event_pubsubs: vec!["pubsub".into()],
            topic_prefix: String::new(),
            reminder_pubsub: "pubsub".into(),
            app_api_token: "t".into(),
        };
        let user = UserId::parse("alice").expect("a user id");
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let env = Env::new(now, 1, 2);
        let spec = TaskSpec::parse(&json!({"title": "t"})).expect("valid");
        let outbox = Outbox::new(&dapr, &store, &settings);
        let tasks = Tasks::new(&store, &user);
        let written = block_on(outbox.write(&user, &env, tasks.create(spec, &env)));
        let sent = transport
            .sent()
            .iter()
            .map(|s| {
                let path = s.uri.trim_start_matches("http://dapr");
                format!(
                    "{} {}",
                    s.method,
                    path.split('?').next().unwrap_or_default()
                )
            })
            .collect();
        (written, sent)
    }

    #[test]
    fn the_safety_net_is_armed_before_the_commit_and_taken_back_after_the_publish() {
        let (written, sent) = create(&[(204, ""); 6]);
        assert!(written.is_ok(), "{written:?}");
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let job = format!("/v1.0/jobs/{}", job_name(EventId::new(now, 2)));
        assert_eq!(
            sent,
            [
                format!("POST {job}"),
                "GET /v1.0/state/statestore/index%3Aalice%3Ap%3A01".into(),
                "POST /v1.0/state/statestore/transaction".into(),
                "POST /v1.0/publish/pubsub/task-events".into(),
                "POST /v1.0/state/statestore/transaction".into(),
                format!("DELETE {job}"),
            ]
        );
    }

    #[test]
    fn a_failed_publish_leaves_the_record_and_its_net_for_later() {
        let answers = [(204, ""), (204, ""), (204, ""), (500, "broker down")];
        let (written, sent) = create(&answers);
        assert!(written.is_ok(), "the write stands: {written:?}");
        assert_eq!(sent.len(), 4, "nothing cleared: {sent:?}");
    }

    #[test]
    fn nothing_is_written_when_the_net_cannot_be_armed() {
        let (written, sent) = create(&[(500, "scheduler down")]);
        assert!(matches!(written, Err(TaskError::Unavailable(_))));
        assert_eq!(sent.len(), 1, "{sent:?}");
    }
}
