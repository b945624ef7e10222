//! Reminders that fire (ADR 10). Each placed reminder of a pending task
//! (one with a `fires_at`) is a Dapr job, `reminder-{task}-{index}`, due at
//! that instant: the reminder scheduler ([`plan`], then [`arm`]) keeps the
//! jobs in step with the task events, and the job callback ([`fire`])
//! checks that the reminder still stands before it publishes a
//! [`ReminderDue`] on `reminders`.
//!
//! A job that fires for a reminder since moved, removed, completed or
//! deleted finds it no longer stands and does nothing, so the jobs may lag
//! the task without a wrong reminder going out. A reminder's id is made
//! from the reminder and its time ([`ReminderId::of`]), so however often it
//! is published (the callback retried, the sweep) the inbox keeps it once.
//!
//! Beside the jobs: the sweep's calendar ([`sweep`]), the inbox they land
//! in ([`inbox`]), the webhook calls made for them ([`webhooks`]), the
//! browsers they are pushed to ([`push`]), and the user's own settings
//! those calls follow ([`user_settings`]).

pub mod inbox;
pub mod push;
pub mod sweep;
pub mod user_settings;
pub mod webhooks;

use chrono::{DateTime, SecondsFormat, Utc};
use dapr::jobs::{FailurePolicy, Job};
use dapr::publish::CloudEvent;
use dapr::{Dapr, DaprError, Transport};
use futures::future::{join, join_all};
use serde::{Deserialize, Serialize};

use crate::error::TaskError;
use crate::task::change::Event;
use crate::task::store::Storage;
use crate::{Task, UserId};
use events::{ReminderDue, ReminderId, TaskEventType, TaskId, topics};

/// Between tries of a reminder whose publish failed: it tries until the
/// reminder is out or no longer stands.
const RETRY_EVERY: &str = "2s";

/// The names of the jobs of reminders begin with this.
pub const JOB_PREFIX: &str = "reminder-";

/// The `source` of every reminder.
pub const SOURCE: &str = "todo-chatbot/reminders";

/// What a reminder's job carries: which reminder of whose task, and when
/// it is meant to fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Armed {
    /// Whose task it is.
    pub user_id: UserId,
    /// The task.
    pub task_id: TaskId,
    /// Which of the task's reminders.
    pub index: usize,
    /// When it fires.
    pub remind_at: DateTime<Utc>,
}

impl Armed {
    /// The reminder's id ([`ReminderId::of`]).
    pub fn id(&self) -> ReminderId {
        ReminderId::of(self.task_id, self.index, self.remind_at)
    }

    /// The name of this reminder's job.
    pub fn job_name(&self) -> String {
        job_name(self.task_id, self.index)
    }
}

/// The name of the job of reminder `index` of task `task`.
pub fn job_name(task: TaskId, index: usize) -> String {
    format!("{JOB_PREFIX}{task}-{index}")
}

/// What an event asks of its task's reminder jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The task.
    pub task_id: TaskId,
    /// The jobs to (re)schedule, one per reminder that is to fire.
    pub arm: Vec<Armed>,
    /// The indexes whose jobs are to go: reminders removed, or no longer to
    /// fire.
    pub disarm: Vec<usize>,
}

/// What `event` changes of its task's reminder jobs; `None` when it touches
/// neither the reminders nor the due date nor whether the task is pending,
/// or when the task has no reminders before or after it.
///
/// Reminders fire if they were placed (`fires_at`) at a time still ahead
/// when the change was made: a reopened task does not ring the reminders it
/// missed while done. One placed when set fires even when the event comes
/// late: the scheduler calls a job due in the past at once.
pub fn plan(event: &Event) -> Option<Plan> {
    let reminders_changed = || {
        event
            .changes
            .iter()
            .any(|c| c.field == "reminders" || c.field == "due_at")
    };
    if event.event_type == TaskEventType::Updated && !reminders_changed() {
        return None;
    }
    let task = &event.task;
    let arm: Vec<Armed> = match event.event_type {
        TaskEventType::Deleted => Vec::new(),
        _ => task
            .pending_reminders()
            .filter(|(_, at)| *at > event.timestamp)
            .map(|(index, remind_at)| Armed {
                user_id: event.user_id.clone(),
                task_id: task.id,
                index,
                remind_at,
            })
            .collect(),
    };
    let before = event
        .changes
        .iter()
        .find(|c| c.field == "reminders")
        .and_then(|c| c.from.as_array())
        .map_or(0, Vec::len);
    let disarm: Vec<usize> = (0..before.max(task.reminders.len()))
        .filter(|i| !arm.iter().any(|a| a.index == *i))
        .collect();
    if arm.is_empty() && disarm.is_empty() {
        return None; // a task without reminders, before or after
    }
    Some(Plan {
        task_id: task.id,
        arm,
        disarm,
    })
}

/// Schedules and deletes the jobs `plan` asks for.
pub async fn arm<T: Transport>(dapr: &Dapr<T>, plan: &Plan) -> Result<(), DaprError> {
    let arming = plan.arm.iter().map(|armed| async move {
        let due = armed.remind_at.to_rfc3339_opts(SecondsFormat::Millis, true);
        let job = Job {
            failure_policy: Some(FailurePolicy::Constant {
                interval: RETRY_EVERY,
                max_retries: None,
            }),
            ..Job::once(&due, armed)
        };
        dapr.schedule_job(&armed.job_name(), &job).await
    });
    let disarming = plan
        .disarm
        .iter()
        .map(|index| async move { dapr.delete_job(&job_name(plan.task_id, *index)).await });
    let (armed, disarmed) = join(join_all(arming), join_all(disarming)).await;
    armed.into_iter().chain(disarmed).collect()
}

/// Whether reminder `armed` still stands on `task`: the task pending, and
/// its reminder at that index placed at that time.
pub fn stands(task: &Task, armed: &Armed) -> bool {
    task.pending_reminders()
        .any(|(index, at)| index == armed.index && at == armed.remind_at)
}

/// What [`fire`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired {
    /// The reminder went out, with this id.
    Published(ReminderId),
    /// The reminder no longer stands (the task moved on, or is gone).
    Stale,
}

/// Where reminders that fire are published: the pub/sub component
/// (`reminder_pubsub`) the notifier hears, on `{topic_prefix}reminders`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The pub/sub component.
    pub pubsub: String,
    /// The topic.
    pub topic: String,
}

impl Destination {
    /// As the component's variables `reminder_pubsub` and `topic_prefix`
    /// say.
    pub fn from_variables<E>(variable: impl Fn(&str) -> Result<String, E>) -> Result<Self, E> {
        Ok(Self {
            pubsub: variable("reminder_pubsub")?,
            topic: format!("{}{}", variable("topic_prefix")?, topics::REMINDERS),
        })
    }
}

/// Publishes reminder `armed` to `destination` if it still stands.
pub async fn fire<T: Transport>(
    dapr: &Dapr<T>,
    storage: &Storage,
    destination: &Destination,
    armed: &Armed,
) -> Result<Fired, TaskError> {
    let task = match storage.tasks(&armed.user_id).get(armed.task_id) {
        Ok(task) => task,
        Err(TaskError::NotFound) => return Ok(Fired::Stale),
        Err(err) => return Err(err),
    };
    if !stands(&task, armed) {
        return Ok(Fired::Stale);
    }
    let due = ReminderDue {
        reminder_id: armed.id(),
        task_id: task.id,
        user_id: armed.user_id.clone(),
        title: task.title.as_str().to_owned(),
        due_at: task.due_at,
        remind_at: armed.remind_at,
    };
    let id = due.reminder_id.to_string();
    let cloud_event = CloudEvent::new(&id, SOURCE, "reminder.due", &due);
    // One user's reminders on one partition: their inbox is one key.
    let metadata = [("partitionKey", armed.user_id.as_str())];
    let (pubsub, topic) = (&destination.pubsub, &destination.topic);
    dapr.publish(pubsub, topic, &cloud_event, &metadata).await?;
    Ok(Fired::Published(due.reminder_id))
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use serde_json::json;

    use super::*;
    use crate::task::change;
    use crate::{TaskPatch, TaskSpec};
    use events::EventId;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.to_utc())
            .unwrap_or_default()
    }

    fn user() -> UserId {
        UserId::parse("alice").expect("a user id")
    }

    fn created(body: serde_json::Value, now: DateTime<Utc>) -> Task {
        TaskSpec::parse(&body)
            .and_then(|spec| spec.create(TaskId::new(now, 7), now))
            .expect("a valid task")
    }

    fn event(before: Option<&Task>, after: Option<&Task>, now: DateTime<Utc>) -> Event {
        change::event(EventId::new(now, 1), &user(), before, after, now).expect("a change")
    }

    fn arms(plan: &Plan) -> Vec<(usize, String)> {
        plan.arm
            .iter()
            .map(|a| (a.index, a.remind_at.to_rfc3339()))
            .collect()
    }

    #[test]
    fn a_new_task_arms_each_reminder_still_ahead() {
        let now = at("2026-03-01T12:00:00Z");
        let task = created(
            json!({"title": "t", "due_at": "2026-03-02T09:00:00Z",
                "reminders": [{"minutes_before": 30}, {"at": "2026-03-01T11:00:00Z"}]}),
            now,
        );
        let plan = plan(&event(None, Some(&task), now)).expect("a plan");
        assert_eq!(arms(&plan), [(0, "2026-03-02T08:30:00+00:00".into())]);
        assert_eq!(plan.disarm, [1], "the past one has no job");
        assert_eq!(
            plan.arm.first().map(Armed::job_name),
            Some(format!("reminder-{}-0", task.id))
        );
    }

    #[test]
    fn moving_the_due_date_moves_the_jobs_and_removing_a_reminder_deletes_its_job() {
        let now = at("2026-03-01T12:00:00Z");
        let before = created(
            json!({"title": "t", "due_at": "2026-03-02T09:00:00Z",
                "reminders": [{"minutes_before": 30}, {"minutes_before": 10}]}),
            now,
        );
        let mut after = before.clone();
        TaskPatch::parse(
            &json!({"due_at": "2026-03-03T09:00:00Z", "reminders": [{"minutes_before": 5}]}),
        )
        .and_then(|p| p.apply(&mut after, now))
        .expect("applies");
        let plan = plan(&event(Some(&before), Some(&after), now)).expect("a plan");
        assert_eq!(arms(&plan), [(0, "2026-03-03T08:55:00+00:00".into())]);
        assert_eq!(plan.disarm, [1]);
    }

    #[test]
    fn completing_or_deleting_disarms_every_reminder_and_a_rename_touches_none() {
        let now = at("2026-03-01T12:00:00Z");
        let task = created(
            json!({"title": "t", "due_at": "2026-03-02T09:00:00Z",
                "reminders": [{"minutes_before": 30}, {"minutes_before": 10}]}),
            now,
        );
        let mut done = task.clone();
        done.set_completed(true, now);
        let completed = plan(&event(Some(&task), Some(&done), now)).expect("a plan");
        assert_eq!((completed.arm.len(), completed.disarm), (0, vec![0, 1]));
        let deleted = plan(&event(Some(&task), None, now)).expect("a plan");
        assert_eq!((deleted.arm.len(), deleted.disarm), (0, vec![0, 1]));
        let mut renamed = task.clone();
        TaskPatch::parse(&json!({"title": "u"}))
            .and_then(|p| p.apply(&mut renamed, now))
            .expect("applies");
        assert_eq!(plan(&event(Some(&task), Some(&renamed), now)), None);
    }

    #[test]
    fn a_reopened_task_does_not_ring_what_it_missed() {
        let now = at("2026-03-01T12:00:00Z");
        let task = created(
            json!({"title": "t", "due_at": "2026-03-02T09:00:00Z",
                "reminders": [{"minutes_before": 1440}, {"minutes_before": 10}]}),
            now,
        );
        let mut done = task.clone();
        done.set_completed(true, now);
        let later = at("2026-03-01T18:00:00Z");
        let mut reopened = done.clone();
        reopened.set_completed(false, later);
        let plan = plan(&event(Some(&done), Some(&reopened), later)).expect("a plan");
        assert_eq!(arms(&plan), [(1, "2026-03-02T08:50:00+00:00".into())]);
        assert_eq!(plan.disarm, [0]);
    }

    #[test]
    fn a_reminder_stands_only_as_it_was_armed() {
        let now = at("2026-03-01T12:00:00Z");
        let task = created(
            json!({"title": "t", "due_at": "2026-03-02T09:00:00Z",
                "reminders": [{"minutes_before": 30}]}),
            now,
        );
        let armed = Armed {
            user_id: user(),
            task_id: task.id,
            index: 0,
            remind_at: at("2026-03-02T08:30:00Z"),
        };
        assert!(stands(&task, &armed));
        let moved = Armed {
            remind_at: at("2026-03-02T08:00:00Z"),
            ..armed.clone()
        };
        assert!(!stands(&task, &moved), "the due date moved since");
        let other = Armed {
            index: 1,
            ..armed.clone()
        };
        assert!(!stands(&task, &other), "no such reminder");
        let mut done = task.clone();
        done.set_completed(true, now);
        assert!(!stands(&done, &armed), "the task is done");
    }
}
