//! The reminders' safety net (ADR 10): a calendar of every reminder armed
//! (table `reminders`), and a sweep that a cron binding runs every minute
//! over it. The reminder scheduler files a reminder before it schedules its
//! job.
//!
//! The sweep ([`sweep`]):
//! - delivers what is due and was never delivered: each reminder whose time
//!   is [`GRACE_SECONDS`] ago or more, oldest first, that still stands and
//!   is not in its user's inbox is fired as its job would have fired it (a
//!   lost job, a crash); its row then goes;
//! - re-creates jobs that should exist but do not: each reminder of the
//!   coming [`AHEAD_SECONDS`] that stands and has no job gets it back.
//!
//! A reminder fired by both its job and the sweep has one id, and the inbox
//! keeps it once: delivery stays exactly once however they race.

use chrono::{DateTime, Utc};
use dapr::{Dapr, Transport};
use serde::Serialize;
use sql::{Database, Params, Row, Value};

use crate::error::TaskError;
use crate::reminders::inbox;
use crate::reminders::{self, Armed, Destination, Fired, Plan};
use crate::task::store::Storage;
use crate::{TaskId, UserId};

/// How long after its time a reminder is left to its job before the sweep
/// delivers it.
pub const GRACE_SECONDS: i64 = 10;
/// How far ahead the sweep checks that jobs exist: beyond the minute
/// between sweeps.
pub const AHEAD_SECONDS: i64 = 90;
/// The most reminders one sweep delivers: a sweep after a long pause
/// catches up over several runs.
const MOST_DUE: i64 = 500;

/// Files the reminders `plan` arms in the calendar.
pub fn file(storage: &Storage, plan: &Plan) -> Result<(), TaskError> {
    if plan.arm.is_empty() {
        return Ok(());
    }
    let mut params = Params::default();
    let rows: Vec<String> = plan
        .arm
        .iter()
        .map(|armed| {
            let index = i64::try_from(armed.index).unwrap_or(i64::MAX);
            format!(
                "({}, {}, {}, {}, {})",
                params.add(armed.user_id.as_str()),
                params.add(armed.id().to_string()),
                params.add(armed.task_id.to_string()),
                params.add(index),
                params.add(armed.remind_at.timestamp_micros()),
            )
        })
        .collect();
    let statement = format!(
        "INSERT INTO reminders (user_id, id, task_id, reminder_index, remind_at) VALUES {} \
         ON CONFLICT (user_id, id) DO NOTHING",
        rows.join(", ")
    );
    storage.execute(&statement, params.values())?;
    Ok(())
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Swept {
    /// Reminders seen due (and taken out of the calendar).
    pub due: usize,
    /// Reminders due that were never delivered, delivered now.
    pub delivered: usize,
    /// Jobs of coming reminders that were missing, scheduled again.
    pub rearmed: usize,
}

/// Sweeps at `now` (see the module's text).
pub async fn sweep<T: Transport>(
    dapr: &Dapr<T>,
    storage: &Storage,
    destination: &Destination,
    now: DateTime<Utc>,
) -> Result<Swept, TaskError> {
    let mut swept = Swept::default();
    let micros = |at: DateTime<Utc>| Value::from(at.timestamp_micros());
    let grace_end = now - chrono::Duration::seconds(GRACE_SECONDS);
    let due = read(
        storage,
        "remind_at <= $1 ORDER BY remind_at LIMIT $2",
        &[micros(grace_end), MOST_DUE.into()],
    )?;
    for armed in &due {
        if fire_if_lost(dapr, storage, destination, armed).await? {
            swept.delivered += 1;
        }
    }
    if !due.is_empty() {
        let mut keys = Params::default();
        let rows: Vec<String> = due
            .iter()
            .map(|a| {
                let user = keys.add(a.user_id.as_str());
                format!("({user}, {})", keys.add(a.id().to_string()))
            })
            .collect();
        let statement = format!(
            "DELETE FROM reminders WHERE (user_id, id) IN (VALUES {})",
            rows.join(", ")
        );
        storage.execute(&statement, keys.values())?;
        swept.due = due.len();
    }
    // Coming: every reminder that stands has its job.
    let ahead = now + chrono::Duration::seconds(AHEAD_SECONDS);
    let coming = read(
        storage,
        "remind_at > $1 AND remind_at <= $2",
        &[micros(now), micros(ahead)],
    )?;
    for armed in &coming {
        if rearm_if_lost(dapr, storage, armed).await? {
            swept.rearmed += 1;
        }
    }
    Ok(swept)
}

/// The reminders of the calendar that `condition` picks.
fn read(storage: &Storage, condition: &str, params: &[Value]) -> Result<Vec<Armed>, TaskError> {
    let statement = format!(
        "SELECT user_id, task_id, reminder_index, remind_at FROM reminders WHERE {condition}"
    );
    let rows = storage.query(&statement, params)?;
    rows.iter().map(armed).collect()
}

fn armed(row: Row<'_>) -> Result<Armed, TaskError> {
    let unreadable = |what: &str| TaskError::Unavailable(format!("the calendar holds {what}"));
    Ok(Armed {
        user_id: UserId::parse(row.text(0)?).ok_or_else(|| unreadable("a bad user id"))?,
        task_id: TaskId::parse(row.text(1)?).ok_or_else(|| unreadable("a bad task id"))?,
        index: usize::try_from(row.int(2)?).map_err(|_| unreadable("a bad index"))?,
        remind_at: DateTime::from_timestamp_micros(row.int(3)?)
            .ok_or_else(|| unreadable("a bad time"))?,
    })
}

/// Fires `armed` if it stands and its user's inbox does not have it.
async fn fire_if_lost<T: Transport>(
    dapr: &Dapr<T>,
    storage: &Storage,
    destination: &Destination,
    armed: &Armed,
) -> Result<bool, TaskError> {
    let id = armed.id();
    if inbox::find(storage, &armed.user_id, id)?.is_some() {
        return Ok(false);
    }
    let fired = reminders::fire(dapr, storage, destination, armed).await?;
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
    use dapr::fakes::RecordingTransport;
    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::{Env, TaskSpec};

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
    }

    fn destination() -> Destination {
        Destination {
            pubsub: "pubsub".into(),
            topic: "reminders".into(),
        }
    }

    /// A database with the app's schema (SQLite in memory).
    fn storage() -> Storage {
        let db = sql::native::Sqlite::in_memory().expect("a database");
        Storage::of(Box::new(db)).expect("migrated")
    }

    /// A task in `storage` reminded a minute after `at(0)`, filed in the
    /// calendar.
    fn reminded(storage: &Storage) -> Plan {
        let user = crate::UserId::parse("alice").expect("a user id");
        let spec =
            TaskSpec::parse(&json!({"title": "t", "reminders": [{"at": "2027-01-15T08:01:00Z"}]}))
                .expect("valid");
        let env = Env::new(at(0), 1, 2);
        let written = storage.tasks(&user).create(spec, &env).expect("created");
        let event = written.event.expect("an event").event;
        let plan = reminders::plan(&event).expect("a plan");
        file(storage, &plan).expect("filed");
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
        let storage = storage();
        let plan = reminded(&storage);
        let remind_at = plan.arm[0].remind_at;
        assert_eq!(remind_at, at(60));
        let transport = RecordingTransport::answering([(204, "")]);
        let dapr = Dapr::new("http://dapr", &transport);
        let after_grace = remind_at + chrono::Duration::seconds(GRACE_SECONDS);
        let swept = block_on(sweep(&dapr, &storage, &destination(), after_grace)).expect("swept");
        assert_eq!((swept.due, swept.delivered, swept.rearmed), (1, 1, 0));
        assert_eq!(calls(&transport), ["POST /v1.0/publish/pubsub/reminders"]);
        // Out of the calendar once seen due: the next sweep does not
        // deliver it again.
        let later = after_grace + chrono::Duration::seconds(60);
        let swept = block_on(sweep(&dapr, &storage, &destination(), later)).expect("swept");
        assert_eq!(swept.delivered, 0);
        assert_eq!(calls(&transport).len(), 1);
    }

    #[test]
    fn a_reminder_already_in_the_inbox_is_left_alone() {
        let storage = storage();
        let plan = reminded(&storage);
        let armed = &plan.arm[0];
        let due = events::ReminderDue {
            reminder_id: armed.id(),
            task_id: armed.task_id,
            user_id: armed.user_id.clone(),
            title: "t".into(),
            due_at: None,
            remind_at: armed.remind_at,
        };
        inbox::record(&storage, &due, armed.remind_at, false, &[]).expect("recorded");
        let transport = RecordingTransport::answering([]);
        let dapr = Dapr::new("http://dapr", &transport);
        let after_grace = armed.remind_at + chrono::Duration::seconds(GRACE_SECONDS);
        let swept = block_on(sweep(&dapr, &storage, &destination(), after_grace)).expect("swept");
        assert_eq!(swept.delivered, 0);
        assert!(calls(&transport).is_empty(), "{:?}", calls(&transport));
    }

    #[test]
    fn a_coming_reminder_whose_job_is_missing_gets_it_back() {
        let storage = storage();
        let plan = reminded(&storage);
        let answers = [(500, "job not found"), (204, "")];
        let transport = RecordingTransport::answering(answers);
        let dapr = Dapr::new("http://dapr", &transport);
        let swept = block_on(sweep(&dapr, &storage, &destination(), at(30))).expect("swept");
        assert_eq!((swept.delivered, swept.rearmed), (0, 1));
        let job = format!("/v1.0/jobs/{}", plan.arm[0].job_name());
        assert_eq!(
            calls(&transport),
            [format!("GET {job}"), format!("POST {job}")]
        );
    }
}
