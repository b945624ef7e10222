//! The app's own outbox (ADR 8): every write puts its event's record
//! (`outbox:{user}:{event_id}`) in the same transaction as the change, so a
//! change and its event never part; right after the commit the event is
//! published and its record cleared.
//!
//! The safety net works by slots of time: the same transaction adds the
//! event's id to a list of its user's [`Net`] for the [`SLOT_SECONDS`] the
//! write was made in (one list per index shard of its task, so that writes
//! that do not meet in the index do not meet here either:
//! `outbox-net:{user}:{slot}:{nn}`), and the first write of the user in the
//! slot arms, before it commits, one Dapr job for the net, due
//! [`GRACE_SECONDS`] after the slot ends, and marks it armed
//! (`outbox-net:{user}:{slot}`). If a process dies between a commit and its
//! publish, that job finds the record left and publishes it
//! ([`Outbox::recover`]). A busy user's writes share one job every few
//! seconds instead of scheduling and deleting one each (about 4.5 ms of CPU
//! a write in the scheduler and daprd, ADR 8). An event may so be published
//! twice, never lost: consumers de-duplicate on its id.
//!
//! A write may commit after its slot's net has looked (it waited on the
//! scheduler or the store for longer than the grace). So a net first closes
//! every list of its slot, in one transaction checked against what it read;
//! a write that then finds its list closed lists its event in the next
//! slot's net instead, and one that read the list before the net closed it
//! loses the race on the list's ETag and reads again. No event is listed
//! where no net will look.

use chrono::{DateTime, SecondsFormat, Utc};
use dapr::jobs::{FailurePolicy, Job};
use dapr::publish::CloudEvent;
use dapr::{Dapr, DaprError, StateStore, Transport, Write};
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::Tasks;
use crate::change::Event;
use crate::error::TaskError;
use crate::service::Written;
use crate::settings::Settings;
use crate::{UserId, keys};
use events::{EventId, TaskEventType, TaskId};

/// The length of one slot of the safety net, in seconds.
pub const SLOT_SECONDS: i64 = 5;

/// How long after its slot ends a net fires, in seconds: every write made
/// in the slot has committed or failed by then, and a normal relay
/// (milliseconds) has cleared its record.
pub const GRACE_SECONDS: i64 = 10;

/// How long the store keeps a slot's list of events, in seconds: past its
/// net's firing and any retry of it.
const NET_KEPT_SECONDS: u32 = 600;

/// Between tries of a safety net whose publish failed (the broker is down):
/// it tries until the event is out.
const RETRY_EVERY: &str = "5s";

/// How often a net reads and closes its lists again when writes keep
/// changing them meanwhile; past that its job fails and is tried again.
const CLOSE_TRIES: u32 = 8;

/// The `source` of every task event.
pub const SOURCE: &str = "todo-chatbot/tasks";

/// The safety net of one slot: the events of `user_id` recorded in `slot`
/// (a number of [`SLOT_SECONDS`] since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Net {
    /// Whose events.
    pub user_id: UserId,
    /// When they were made.
    pub slot: i64,
}

impl Net {
    /// The net of a write of `user` made at `now`.
    pub fn of(user: &UserId, now: DateTime<Utc>) -> Self {
        Self {
            user_id: user.clone(),
            slot: now.timestamp().div_euclid(SLOT_SECONDS),
        }
    }

    /// The key that marks it armed.
    pub fn armed_key(&self) -> String {
        keys::net_armed(&self.user_id, self.slot)
    }

    /// The key of its list of the events of tasks in index shard `bucket`
    /// ([`keys::bucket`]).
    pub fn list_key(&self, bucket: u32) -> String {
        keys::net(&self.user_id, self.slot, bucket)
    }

    /// The write that marks it armed, for the transaction of the write
    /// that armed it (only one such write commits).
    pub fn mark_armed(&self) -> Result<Write, DaprError> {
        Ok(Write::put(self.armed_key(), &true, None)?.expiring(NET_KEPT_SECONDS))
    }

    /// The write of its list for shard `bucket`, `list`, read at `etag`.
    pub fn write_list(
        &self,
        bucket: u32,
        list: &NetEvents,
        etag: Option<String>,
    ) -> Result<Write, DaprError> {
        Ok(Write::put(self.list_key(bucket), list, etag)?.expiring(NET_KEPT_SECONDS))
    }

    /// The net of the slot after this one.
    pub fn next(&self) -> Self {
        Self {
            user_id: self.user_id.clone(),
            slot: self.slot + 1,
        }
    }

    /// The name of its job.
    pub fn job_name(&self) -> String {
        format!(
            "{}{}-{}",
            Settings::OUTBOX_JOB_PREFIX,
            self.slot,
            self.user_id
        )
    }

    /// When its job fires.
    pub fn fires_at(&self) -> DateTime<Utc> {
        let end = (self.slot + 1) * SLOT_SECONDS;
        DateTime::from_timestamp(end + GRACE_SECONDS, 0).unwrap_or_default()
    }
}

/// The events of one list of a [`Net`], as its key holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetEvents {
    /// Their ids, in the order they were recorded.
    pub events: Vec<EventId>,
    /// Whether the net has looked at the list: no event may join it then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
}

/// What a safety-net job carries: a slot's net, or one event (as the jobs
/// of a single event were armed before slots).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Guard {
    /// A slot's net.
    Slot(Net),
    /// One event.
    Event {
        /// The user whose change it was.
        user_id: UserId,
        /// The event the record holds.
        event_id: EventId,
    },
}

/// Who arms a slot's net before the first write that records an event in
/// it commits.
pub trait Arming {
    /// Whether writes list their events in nets at all.
    fn lists(&self) -> bool;

    /// Arms `net`: its job is due at [`Net::fires_at`].
    fn arm(&self, net: &Net) -> impl Future<Output = Result<(), TaskError>>;
}

/// No net: the writes of the use cases' own tests, whose events nobody
/// relays.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unarmed;

impl<T: Transport, S: StateStore> Arming for Outbox<'_, T, S> {
    fn lists(&self) -> bool {
        true
    }

    async fn arm(&self, net: &Net) -> Result<(), TaskError> {
        let guard = Guard::Slot(net.clone());
        let due = net.fires_at().to_rfc3339_opts(SecondsFormat::Secs, true);
        let job = Job {
            failure_policy: Some(FailurePolicy::Constant {
                interval: RETRY_EVERY,
                max_retries: None,
            }),
            ..Job::once(&due, &guard)
        };
        Ok(self.dapr.schedule_job(&net.job_name(), &job).await?)
    }
}

impl Arming for Unarmed {
    fn lists(&self) -> bool {
        false
    }

    async fn arm(&self, _: &Net) -> Result<(), TaskError> {
        Ok(())
    }
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

    /// The event as JSON, as it is published.
    pub fn json(&self) -> &str {
        self.json.get()
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

/// What is owed after a write: its event, to relay.
#[derive(Debug, Clone)]
pub struct Owed(Recorded);

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

    /// `user`'s tasks, their writes listing their events in this outbox's
    /// nets: every write whose event is relayed goes through these.
    pub fn tasks(&'a self, user: &'a UserId) -> Tasks<'a, S, Self> {
        Tasks::armed(self.store, user, self)
    }

    /// Runs `write`, then relays its event ([`Outbox::commit`], then
    /// [`Outbox::settle`]).
    pub async fn write<R: Relayable>(
        &self,
        write: impl Future<Output = Result<R, TaskError>>,
    ) -> Result<R, TaskError> {
        let (written, owed) = self.commit(write).await;
        if let Some(owed) = owed {
            self.settle(owed).await;
        }
        written
    }

    /// The outbox's first step: runs `write` (of [`Outbox::tasks`], which
    /// records its event and arms its net). Answers what it wrote, and the
    /// event owed after it: call [`Outbox::settle`] with it, as soon as the
    /// answer to the user is on its way.
    pub async fn commit<R: Relayable>(
        &self,
        write: impl Future<Output = Result<R, TaskError>>,
    ) -> (Result<R, TaskError>, Option<Owed>) {
        let written = write.await;
        let owed = written.as_ref().ok().and_then(Relayable::event).cloned();
        (written, owed.map(Owed))
    }

    /// The outbox's second step: relays the committed event. The write
    /// stands whatever happens here: a failed relay is finished by the
    /// safety net.
    pub async fn settle(&self, owed: Owed) {
        if let Err(err) = self.relay(&owed.0).await {
            eprintln!(
                "outbox: event {} of {}: left to the safety net: {err}",
                owed.0.event.event_id, owed.0.event.user_id
            );
        }
    }

    /// Publishes a committed event, then clears its record. A failure
    /// leaves the record for the safety net.
    pub async fn relay(&self, recorded: &Recorded) -> Result<(), DaprError> {
        let header = recorded.header();
        self.publish(&header, &recorded.json).await?;
        self.clear(&header).await
    }

    /// The safety net's callback: publishes each record of `guard`'s events
    /// that a crash left, in the order they were made, and clears it.
    /// Nothing left means each was relayed.
    pub async fn recover(&self, guard: &Guard) -> Result<(), DaprError> {
        let keys = match guard {
            Guard::Slot(net) => (self.close(net).await?)
                .iter()
                .map(|id| keys::outbox(&net.user_id, *id))
                .collect(),
            Guard::Event { user_id, event_id } => vec![keys::outbox(user_id, *event_id)],
        };
        let records = self.store.get_many::<Box<RawValue>>(&keys).await?;
        for record in records.into_iter().flatten() {
            let header: Header = serde_json::from_str(record.value.get())
                .map_err(|e| DaprError::Unavailable(format!("an outbox record is not one: {e}")))?;
            self.publish(&header, &record.value).await?;
            self.clear(&header).await?;
        }
        Ok(())
    }

    /// Closes every list of `net`, in one transaction checked against what
    /// it read (a list not there is written closed and empty, only if still
    /// new), and answers the events they hold, oldest first. A write that
    /// lists an event in one of them later lists it in the next net instead.
    async fn close(&self, net: &Net) -> Result<Vec<EventId>, DaprError> {
        let lists: Vec<String> = (0..keys::SHARDS).map(|n| net.list_key(n)).collect();
        let mut tries = 0;
        loop {
            let mut events = Vec::new();
            let mut writes = Vec::new();
            let read = self.store.get_many::<NetEvents>(&lists).await?;
            for (bucket, list) in (0..).zip(read) {
                let (mut list, etag) = match list {
                    Some(read) => (read.value, Some(read.etag)),
                    None => (NetEvents::default(), None),
                };
                events.extend_from_slice(&list.events);
                if !list.closed {
                    list.closed = true;
                    writes.push(net.write_list(bucket, &list, etag)?);
                }
            }
            let closed = match writes.is_empty() {
                true => Ok(()), // closed already: the job tried again
                false => self.store.commit(&writes).await,
            };
            match closed {
                Err(DaprError::Conflict) if tries < CLOSE_TRIES => tries += 1,
                Err(err) => return Err(err),
                Ok(()) => {
                    events.sort_unstable();
                    return Ok(events);
                }
            }
        }
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
    use dapr::fakes::{FakeStateStore, RecordingTransport};
    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::TaskSpec;
    use crate::service::Env;
    use dapr::Versioned;

    const NOW: i64 = 1_800_000_002;

    fn settings() -> Settings {
        Settings {
            state_store: "statestore".into(),
            event_pubsubs: vec!["pubsub".into()],
            topic_prefix: String::new(),
            reminder_pubsub: "pubsub".into(),
            app_api_token: "t".into(),
        }
    }

    fn alice() -> UserId {
        UserId::parse("alice").expect("a user id")
    }

    /// Creates a task through `outbox`, its id's random bits `random` (so
    /// its index shard is `random % 64`).
    fn create<T: Transport>(
        outbox: &Outbox<'_, T, FakeStateStore>,
        random: u128,
        event: u128,
    ) -> Result<Written, TaskError> {
        let now = DateTime::from_timestamp(NOW, 0).unwrap_or_default();
        let env = Env::new(now, random, event);
        let spec = TaskSpec::parse(&json!({"title": "t"})).expect("valid");
        let user = alice();
        block_on(outbox.write(outbox.tasks(&user).create(spec, &env)))
    }

    /// What was sent to daprd, as `METHOD path`.
    fn sent(transport: &RecordingTransport) -> Vec<String> {
        transport
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
            .collect()
    }

    fn net() -> Net {
        Net {
            user_id: alice(),
            slot: NOW / SLOT_SECONDS,
        }
    }

    #[test]
    fn the_first_write_of_a_slot_arms_its_net_and_the_next_ones_share_it() {
        let transport = RecordingTransport::answering([(204, ""); 8]);
        let dapr = Dapr::new("http://dapr", &transport);
        let (store, settings) = (FakeStateStore::default(), settings());
        let outbox = Outbox::new(&dapr, &store, &settings);
        let first = create(&outbox, 1, 11).expect("created");
        let second = create(&outbox, 65, 12).expect("created");
        let other = create(&outbox, 2, 13).expect("created");
        let job = format!("POST /v1.0/jobs/{}", net().job_name());
        let publish = "POST /v1.0/publish/pubsub/task-events".to_owned();
        assert_eq!(
            sent(&transport),
            [job, publish.clone(), publish.clone(), publish],
            "one job for the slot"
        );
        assert_eq!(net().job_name(), "outbox-360000000-alice");
        let armed = &transport.sent()[0].json();
        assert_eq!(
            armed["dueTime"], "2027-01-15T08:00:15Z",
            "10 s after the slot"
        );
        assert_eq!(
            armed["data"],
            json!({"user_id": "alice", "slot": 360000000})
        );
        let listed = |bucket| {
            let raw = store.raw(&net().list_key(bucket)).unwrap_or_default();
            serde_json::from_str::<NetEvents>(&raw).map(|l| l.events)
        };
        let id = |w: &Written| w.event.as_ref().map(|r| r.event.event_id);
        let ids = |ws: &[&Written]| ws.iter().filter_map(|w| id(w)).collect::<Vec<_>>();
        assert_eq!(listed(1).ok(), Some(ids(&[&first, &second])));
        assert_eq!(listed(2).ok(), Some(ids(&[&other])));
        let records = store
            .keys()
            .into_iter()
            .filter(|k| k.starts_with("outbox:"));
        assert_eq!(records.count(), 0, "relayed records are cleared");
    }

    #[test]
    fn a_write_that_loses_a_race_arms_again_and_lists_its_event_once() {
        let transport = RecordingTransport::answering([(204, ""); 4]);
        let dapr = Dapr::new("http://dapr", &transport);
        let (store, settings) = (FakeStateStore::default(), settings());
        store.lose_next_races(1);
        let written = create(&Outbox::new(&dapr, &store, &settings), 1, 11).expect("created");
        let job = format!("POST /v1.0/jobs/{}", net().job_name());
        let publish = "POST /v1.0/publish/pubsub/task-events".to_owned();
        assert_eq!(sent(&transport), [job.clone(), job, publish]);
        let raw = store.raw(&net().list_key(1)).unwrap_or_default();
        let listed: NetEvents = serde_json::from_str(&raw).expect("a list");
        assert_eq!(
            listed.events,
            written
                .event
                .map(|r| r.event.event_id)
                .into_iter()
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn nothing_is_written_when_the_net_cannot_be_armed() {
        let transport = RecordingTransport::answering([(500, "scheduler down")]);
        let dapr = Dapr::new("http://dapr", &transport);
        let (store, settings) = (FakeStateStore::default(), settings());
        let written = create(&Outbox::new(&dapr, &store, &settings), 1, 11);
        assert!(
            matches!(written, Err(TaskError::Unavailable(_))),
            "{written:?}"
        );
        assert!(store.commits().is_empty());
    }

    #[test]
    fn a_record_a_failed_publish_left_is_published_by_the_net() {
        let answers = [(204, ""), (500, "broker down"), (204, "")];
        let transport = RecordingTransport::answering(answers);
        let dapr = Dapr::new("http://dapr", &transport);
        let (store, settings) = (FakeStateStore::default(), settings());
        let outbox = Outbox::new(&dapr, &store, &settings);
        let written = create(&outbox, 1, 11).expect("the write stands");
        let event_id = written.event.map(|r| r.event.event_id).expect("an event");
        let record = keys::outbox(&alice(), event_id);
        assert!(store.raw(&record).is_some(), "left for the net");
        let guard: Guard =
            serde_json::from_value(json!({"user_id": "alice", "slot": NOW / SLOT_SECONDS}))
                .expect("a slot's guard");
        block_on(outbox.recover(&guard)).expect("recovered");
        let published = transport.sent();
        assert_eq!(published.len(), 3);
        assert_eq!(published[2].json()["id"], event_id.to_string());
        assert!(store.raw(&record).is_none(), "cleared");
        block_on(outbox.recover(&guard)).expect("nothing left");
        assert_eq!(transport.sent().len(), 3, "published once");
    }

    /// What the list of `net` for index shard `bucket` holds.
    fn list(store: &FakeStateStore, net: &Net, bucket: u32) -> Option<NetEvents> {
        let raw = store.raw(&net.list_key(bucket))?;
        serde_json::from_str(&raw).ok()
    }

    #[test]
    fn a_write_made_after_its_net_looked_lists_its_event_in_the_next_net() {
        // The scheduler kept a create waiting for 20 s, past the grace: its
        // slot's net had looked before it committed (found by the soak).
        let answers = [(204, ""), (500, "broker down"), (204, "")];
        let transport = RecordingTransport::answering(answers);
        let dapr = Dapr::new("http://dapr", &transport);
        let (store, settings) = (FakeStateStore::default(), settings());
        let outbox = Outbox::new(&dapr, &store, &settings);
        block_on(outbox.recover(&Guard::Slot(net()))).expect("looked");
        assert_eq!(list(&store, &net(), 1).map(|l| l.closed), Some(true));
        let written = create(&outbox, 1, 11).expect("the write stands");
        let event_id = written.event.map(|r| r.event.event_id).expect("an event");
        let next = net().next();
        let job = format!("POST /v1.0/jobs/{}", next.job_name());
        let publish = "POST /v1.0/publish/pubsub/task-events".to_owned();
        assert_eq!(sent(&transport)[..2], [job, publish.clone()]);
        assert_eq!(
            list(&store, &next, 1).map(|l| l.events),
            Some(vec![event_id])
        );
        assert_eq!(list(&store, &net(), 1).map(|l| l.events), Some(vec![]));
        block_on(outbox.recover(&Guard::Slot(next))).expect("recovered");
        assert_eq!(sent(&transport)[2], publish);
        assert_eq!(transport.sent()[2].json()["id"], event_id.to_string());
        assert!(store.raw(&keys::outbox(&alice(), event_id)).is_none());
    }

    /// Arms like the outbox, but the net of the first slot it arms looks at
    /// once: as if the write had waited on the scheduler past the grace.
    struct LooksWhileArming<'a> {
        outbox: &'a Outbox<'a, &'a RecordingTransport, FakeStateStore>,
        looked: std::cell::Cell<bool>,
    }

    impl Arming for LooksWhileArming<'_> {
        fn lists(&self) -> bool {
            true
        }

        async fn arm(&self, net: &Net) -> Result<(), TaskError> {
            if !self.looked.replace(true) {
                self.outbox.recover(&Guard::Slot(net.clone())).await?;
            }
            Ok(())
        }
    }

    #[test]
    fn a_write_whose_net_looked_between_its_read_and_its_commit_moves_on() {
        let transport = RecordingTransport::answering([]);
        let dapr = Dapr::new("http://dapr", &transport);
        let (store, settings) = (FakeStateStore::default(), settings());
        let outbox = Outbox::new(&dapr, &store, &settings);
        let arming = LooksWhileArming {
            outbox: &outbox,
            looked: false.into(),
        };
        let user = alice();
        let now = DateTime::from_timestamp(NOW, 0).unwrap_or_default();
        let spec = TaskSpec::parse(&json!({"title": "t"})).expect("valid");
        let tasks = Tasks::armed(&store, &user, &arming);
        let written = block_on(tasks.create(spec, &Env::new(now, 1, 11))).expect("created");
        let event_id = written.event.map(|r| r.event.event_id).expect("an event");
        let (looked, next) = (list(&store, &net(), 1), list(&store, &net().next(), 1));
        assert_eq!(looked.map(|l| (l.closed, l.events)), Some((true, vec![])));
        assert_eq!(
            next.map(|l| (l.closed, l.events)),
            Some((false, vec![event_id]))
        );
    }

    /// The event of a task created through `outbox` at `at`, its id's
    /// random bits `random`.
    fn created_at<S: StateStore>(
        outbox: &Outbox<'_, &RecordingTransport, S>,
        at: DateTime<chrono::Utc>,
        random: u128,
        event: u128,
    ) -> Option<EventId> {
        let spec = TaskSpec::parse(&json!({"title": "t"})).expect("valid");
        let env = Env::new(at, random, event);
        let written = block_on(outbox.write(outbox.tasks(&alice()).create(spec, &env)));
        written.ok()?.event.map(|r| r.event.event_id)
    }

    /// A store whose net `net` looks (closes) right before the first
    /// commit made through it: as if that write had waited past the grace
    /// between its read and its commit.
    struct ClosesBeforeCommit<'a> {
        store: &'a FakeStateStore,
        outbox: &'a Outbox<'a, &'a RecordingTransport, FakeStateStore>,
        net: Net,
        looked: std::cell::Cell<bool>,
    }

    impl StateStore for ClosesBeforeCommit<'_> {
        async fn get<T: serde::de::DeserializeOwned>(
            &self,
            key: &str,
        ) -> Result<Option<Versioned<T>>, DaprError> {
            self.store.get(key).await
        }

        async fn get_bulk(&self, keys: &[String]) -> Result<dapr::Bulk, DaprError> {
            self.store.get_bulk(keys).await
        }

        async fn commit(&self, writes: &[Write]) -> Result<(), DaprError> {
            if !self.looked.replace(true) {
                self.outbox.recover(&Guard::Slot(self.net.clone())).await?;
            }
            self.store.commit(writes).await
        }
    }

    #[test]
    fn a_write_that_adds_to_or_starts_a_list_of_a_net_that_closed_meanwhile_moves_on() {
        let transport = RecordingTransport::answering([(204, ""); 12]);
        let dapr = Dapr::new("http://dapr", &transport);
        let (store, settings) = (FakeStateStore::default(), settings());
        let outbox = Outbox::new(&dapr, &store, &settings);
        let user = alice();
        // Two slots, each armed by a task in shard 1; then, in each, a late
        // write whose net closes between its read and its commit: in the
        // first it adds to shard 1's list (its ETag tells the close), in
        // the second it starts shard 3's (the empty list the close wrote
        // does).
        for (seconds, random, bucket) in [(0, 65, 1), (10, 3, 3)] {
            let at = DateTime::from_timestamp(NOW + seconds, 0).unwrap_or_default();
            let net = Net::of(&user, at);
            let first = created_at(&outbox, at, 1, 11).expect("an event");
            let closing = ClosesBeforeCommit {
                store: &store,
                outbox: &outbox,
                net: net.clone(),
                looked: false.into(),
            };
            let late = created_at(&Outbox::new(&dapr, &closing, &settings), at, random, 12);
            let moved = list(&store, &net.next(), bucket).map(|l| l.events);
            assert_eq!(moved, late.map(|id| vec![id]), "shard {bucket}");
            let looked = list(&store, &net, 1).map(|l| (l.closed, l.events));
            assert_eq!(looked, Some((true, vec![first])));
            let empty = list(&store, &net, 3).map(|l| (l.closed, l.events));
            assert_eq!(empty, Some((true, vec![])));
        }
    }

    #[test]
    fn a_job_of_one_event_is_still_understood() {
        let guard: Guard = serde_json::from_value(
            json!({"user_id": "alice", "event_id": "01KAAAAAAAAAAAAAAAAAAAAAAA"}),
        )
        .expect("a guard");
        assert!(matches!(guard, Guard::Event { .. }), "{guard:?}");
    }
}
