//! The reminders' safety net (ADR 10): a calendar of every reminder armed,
//! and a sweep that a cron binding runs every minute over it.
//!
//! The calendar (`calendar:{slot}:{shard}`) files each armed reminder under
//! the [`SLOT_SECONDS`]-long slot of its time, in one of [`SHARDS`] keys by
//! task, so that a burst of reminders for one minute does not queue on one
//! key. The reminder scheduler files a reminder before it schedules its job.
//!
//! The sweep ([`sweep`]):
//! - delivers what is due and was never delivered: each slot that ended
//!   [`GRACE_SECONDS`] ago or more, from where the last sweep stopped
//!   (`sweep:cursor`), is read, and each reminder in it that still stands
//!   and is not in its user's inbox is fired as its job would have fired it
//!   (a lost job, a crash); the slot is then cleared;
//! - re-creates jobs that should exist but do not: each reminder of the
//!   coming [`AHEAD_SECONDS`] that stands and has no job gets it back.
//!
//! A reminder fired by both its job and the sweep has one id, and the inbox
//! keeps it once: delivery stays exactly once however they race.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dapr::{Dapr, StateStore, Transport, Write};
use serde::{Deserialize, Serialize};

use crate::error::TaskError;
use crate::reminders::{self, Armed, Fired, Plan};
use crate::service::retry;
use crate::settings::Settings;
use crate::store::Storage;
use crate::{inbox, log};
use events::ReminderId;

/// The length of a calendar slot, in seconds.
pub const SLOT_SECONDS: i64 = 10;
/// How many keys a slot is spread over.
pub const SHARDS: u128 = 8;
/// How long after its time a reminder is left to its job before the sweep
/// delivers it.
pub const GRACE_SECONDS: i64 = 10;
/// How far ahead the sweep checks that jobs exist: beyond the minute
/// between sweeps.
pub const AHEAD_SECONDS: i64 = 90;
/// The most slots one sweep delivers (an hour): a sweep after a long pause
/// catches up over several runs.
const MOST_SLOTS: i64 = 360;

/// The key of the sweep's cursor: the first slot not yet swept.
const CURSOR: &str = "sweep:cursor";

/// The slot of instant `at`.
fn slot(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(SLOT_SECONDS)
}

/// The calendar key of `armed`.
fn key_of(armed: &Armed) -> String {
    calendar_key(slot(armed.remind_at), armed.task_id.random_bits() % SHARDS)
}

fn calendar_key(slot: i64, shard: u128) -> String {
    format!("calendar:{slot}:{shard}")
}

/// One calendar key's reminders.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Page {
    armed: Vec<Armed>,
}

impl log::Entry for Armed {
    type Id = ReminderId;

    fn id(&self) -> ReminderId {
        ReminderId::of(self.task_id, self.index, self.remind_at)
    }
}

/// Files the reminders `plan` arms in the calendar.
pub async fn file<S: StateStore>(store: &S, plan: &Plan) -> Result<(), TaskError> {
    let mut by_key: BTreeMap<String, Vec<&Armed>> = BTreeMap::new();
    for armed in &plan.arm {
        by_key.entry(key_of(armed)).or_default().push(armed);
    }
    for (key, armed) in &by_key {
        retry(|| async move {
            let (mut page, etag) = match store.get::<Page>(key).await? {
                Some(read) => (read.value, Some(read.etag)),
                None => (Page::default(), None),
            };
            let mut added = false;
            for a in armed {
                added |= log::insert_once(&mut page.armed, (*a).clone());
            }
            if added {
                store.commit(&[Write::put(key, &page, etag)?]).await?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Swept {
    /// Slots read for reminders due.
    pub slots: i64,
    /// Reminders due that were never delivered, delivered now.
    pub delivered: usize,
    /// Jobs of coming reminders that were missing, scheduled again.
    pub rearmed: usize,
}

/// Sweeps at `now` (see the module's text).
pub async fn sweep<T: Transport, S: StateStore>(
    dapr: &Dapr<T>,
    store: &S,
    storage: &Storage,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Swept, TaskError> {
    let mut swept = Swept::default();
    // Due: the slots that ended GRACE_SECONDS ago or more.
    let end = slot(now - chrono::Duration::seconds(GRACE_SECONDS));
    let cursor = store.get::<i64>(CURSOR).await?;
    let (from, etag) = match cursor {
        Some(read) => (read.value, Some(read.etag)),
        None => (end - MOST_SLOTS, None),
    };
    let from = from.max(end - MOST_SLOTS);
    let to = end.min(from + MOST_SLOTS);
    if from < to {
        let keys = keys(from..to);
        for armed in read(store, &keys).await? {
            if fire_if_lost(dapr, store, storage, settings, &armed).await? {
                swept.delivered += 1;
            }
        }
        let mut writes = vec![Write::put(CURSOR, &to, etag)?];
        writes.extend(
            keys.into_iter()
                .map(|key| Write::Delete { key, etag: None }),
        );
        match store.commit(&writes).await {
            // Another sweep got there first: it did the same.
            Ok(()) | Err(dapr::DaprError::Conflict) => {}
            Err(err) => return Err(err.into()),
        }
        swept.slots = to - from;
    }
    // Coming: every reminder that stands has its job.
    let ahead = slot(now + chrono::Duration::seconds(AHEAD_SECONDS)) + 1;
    for armed in read(store, &keys(end..ahead)).await? {
        if armed.remind_at > now && rearm_if_lost(dapr, storage, &armed).await? {
            swept.rearmed += 1;
        }
    }
    Ok(swept)
}

fn keys(slots: std::ops::Range<i64>) -> Vec<String> {
    slots
        .flat_map(|slot| (0..SHARDS).map(move |shard| calendar_key(slot, shard)))
        .collect()
}

/// The reminders filed under `keys`, each once.
async fn read<S: StateStore>(store: &S, keys: &[String]) -> Result<Vec<Armed>, TaskError> {
    let mut all = Vec::new();
    // Bounded requests: a slot is SHARDS keys.
    for chunk in keys.chunks(256) {
        for page in store.get_many::<Page>(chunk).await?.into_iter().flatten() {
            for armed in page.value.armed {
                log::insert_once(&mut all, armed);
            }
        }
    }
    Ok(all)
}

/// Fires `armed` if it stands and its user's inbox does not have it.
async fn fire_if_lost<T: Transport, S: StateStore>(
    dapr: &Dapr<T>,
    store: &S,
    storage: &Storage,
    settings: &Settings,
    armed: &Armed,
) -> Result<bool, TaskError> {
    let id = log::Entry::id(armed);
    if inbox::find(store, &armed.user_id, id).await?.is_some() {
        return Ok(false);
    }
    let fired = reminders::fire(dapr, storage, settings, armed).await?;
    if fired != Fired::Stale {
        eprintln!(
            "sweep: reminder {id} of task {} was never delivered; delivered now",
            armed.task_id
        );
    }
    Ok(fired != Fired::Stale)
}

/// Schedules the job of `armed` again if it stands and has none.
async fn rearm_if_lost<T: Transport>(
    dapr: &Dapr<T>,
    storage: &Storage,
    armed: &Armed,
) -> Result<bool, TaskError> {
    if dapr.get_job::<Armed>(&armed.job_name()).await?.is_some() {
        return Ok(false);
    }
    let task = match storage.tasks(&armed.user_id).get(armed.task_id) {
        Ok(task) => task,
        Err(TaskError::NotFound) => return Ok(false),
        Err(err) => return Err(err),
    };
    if !reminders::stands(&task, armed) {
        return Ok(false);
    }
    eprintln!(
        "sweep: the job of {} was missing; scheduled again",
        armed.job_name()
    );
    let plan = Plan {
        task_id: armed.task_id,
        arm: vec![armed.clone()],
        disarm: Vec::new(),
    };
    reminders::arm(dapr, &plan).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use dapr::fakes::{FakeStateStore, RecordingTransport};
    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::{Env, TaskSpec};
    use events::TaskId;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
    }

    fn settings() -> Settings {
        Settings {
            state_store: "statestore".into(),
            event_pubsub: "pubsub".into(),
            repeat_pubsub: "pubsub".into(),
            reminder_change_pubsub: "pubsub".into(),
            topic_prefix: String::new(),
            reminder_pubsub: "pubsub".into(),
            app_api_token: "t".into(),
        }
    }

    /// A database with the app's schema (SQLite in memory).
    fn storage() -> Storage {
        let db = sql::native::Sqlite::in_memory().expect("a database");
        Storage::of(Box::new(db)).expect("migrated")
    }

    /// A task in `storage` reminded a minute after `at(0)`, filed in the
    /// calendar in `store`.
    fn reminded(store: &FakeStateStore, storage: &Storage) -> Plan {
        let user = crate::UserId::parse("alice").expect("a user id");
        let spec =
            TaskSpec::parse(&json!({"title": "t", "reminders": [{"at": "2027-01-15T08:01:00Z"}]}))
                .expect("valid");
        let env = Env::new(at(0), 1, 2);
        let written = storage.tasks(&user).create(spec, &env).expect("created");
        let event = written.event.expect("an event").event;
        let plan = reminders::plan(&event).expect("a plan");
        block_on(file(store, &plan)).expect("filed");
        plan
    }

    /// The `METHOD path` of each call sent to daprd.
    fn calls(transport: &RecordingTransport) -> Vec<String> {
        let path = |uri: &str| {
            uri.trim_start_matches("http://dapr")
                .split('?')
                .next()
                .map(str::to_owned)
        };
        transport
            .sent()
            .iter()
            .map(|s| format!("{} {}", s.method, path(&s.uri).unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_reminder_due_and_never_delivered_is_delivered_once() {
        let (store, storage) = (FakeStateStore::default(), storage());
        let plan = reminded(&store, &storage);
        let remind_at = plan.arm[0].remind_at;
        assert_eq!(remind_at, at(60));
        let transport = RecordingTransport::answering([(204, "")]);
        let dapr = Dapr::new("http://dapr", &transport);
        let after_grace = remind_at + chrono::Duration::seconds(GRACE_SECONDS + SLOT_SECONDS);
        let swept =
            block_on(sweep(&dapr, &store, &storage, &settings(), after_grace)).expect("swept");
        assert_eq!((swept.delivered, swept.rearmed), (1, 0));
        assert_eq!(calls(&transport), ["POST /v1.0/publish/pubsub/reminders"]);
        // The slot is cleared and the cursor moved on: the next sweep does
        // not deliver it again.
        let later = after_grace + chrono::Duration::seconds(60);
        let swept = block_on(sweep(&dapr, &store, &storage, &settings(), later)).expect("swept");
        assert_eq!(swept.delivered, 0);
        assert_eq!(calls(&transport).len(), 1);
    }

    #[test]
    fn a_reminder_already_in_the_inbox_is_left_alone() {
        let (store, storage) = (FakeStateStore::default(), storage());
        let plan = reminded(&store, &storage);
        let armed = &plan.arm[0];
        let due = events::ReminderDue {
            reminder_id: log::Entry::id(armed),
            task_id: armed.task_id,
            user_id: armed.user_id.clone(),
            title: "t".into(),
            due_at: None,
            remind_at: armed.remind_at,
        };
        block_on(inbox::record(&store, &due, armed.remind_at, false)).expect("recorded");
        let transport = RecordingTransport::answering([]);
        let dapr = Dapr::new("http://dapr", &transport);
        let after_grace = armed.remind_at + chrono::Duration::seconds(GRACE_SECONDS + SLOT_SECONDS);
        let swept =
            block_on(sweep(&dapr, &store, &storage, &settings(), after_grace)).expect("swept");
        assert_eq!(swept.delivered, 0);
        assert!(calls(&transport).is_empty(), "{:?}", calls(&transport));
    }

    #[test]
    fn a_coming_reminder_whose_job_is_missing_gets_it_back() {
        let (store, storage) = (FakeStateStore::default(), storage());
        let plan = reminded(&store, &storage);
        let answers = [(500, "job not found"), (204, "")];
        let transport = RecordingTransport::answering(answers);
        let dapr = Dapr::new("http://dapr", &transport);
        let swept = block_on(sweep(&dapr, &store, &storage, &settings(), at(30))).expect("swept");
        assert_eq!((swept.delivered, swept.rearmed), (0, 1));
        let job = format!("/v1.0/jobs/{}", plan.arm[0].job_name());
        assert_eq!(
            calls(&transport),
            [format!("GET {job}"), format!("POST {job}")]
        );
    }

    #[test]
    fn a_burst_for_one_minute_spreads_over_keys_and_slots() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let user = crate::UserId::parse("alice").expect("a user id");
        let keys: std::collections::HashSet<String> = (0..1000u128)
            .map(|n| Armed {
                user_id: user.clone(),
                task_id: TaskId::new(at, n * 7919),
                index: 0,
                remind_at: at + chrono::Duration::seconds((n % 60) as i64),
            })
            .map(|armed| key_of(&armed))
            .collect();
        assert_eq!(keys.len(), 6 * SHARDS as usize, "six slots, every shard");
    }

    #[test]
    fn slots_are_whole_multiples_of_their_length() {
        let at = |s| DateTime::from_timestamp(s, 0).unwrap_or_default();
        assert_eq!(slot(at(1_800_000_009)), slot(at(1_800_000_000)));
        assert_eq!(slot(at(1_800_000_010)), slot(at(1_800_000_000)) + 1);
        assert_eq!(keys(3..5).len(), 2 * SHARDS as usize);
    }
}
