//! The stored form of a task: compact, because a listing reads every task of
//! the user. Field names are one letter, defaults are left out, and instants
//! are UTC; the due date's offset is worked out again from the time zone on
//! reading, so it follows the zone's rules as they are then. Instants are
//! whole microseconds since 1970 (numbers read much faster than date text).
//!
//! | key | field | left out when |
//! |---|---|---|
//! | `i` | id | never |
//! | `t` | title | never |
//! | `d` | description | none |
//! | `c` | completed_at (completed when present) | not completed |
//! | `p` | priority | none |
//! | `g` | tags | no tags |
//! | `j` | project_id | the Inbox |
//! | `u` | due_at, UTC | no due date |
//! | `z` | time_zone | UTC |
//! | `r` | recurrence | none |
//! | `m` | recurrence_mode | schedule |
//! | `n` | reminders | none |
//! | `k` | steps, each `{"i": id number, "t": text, "d": true when done}` | none |
//! | `o` | order, the task's key in its project's order | never moved by hand |
//! | `s` | series_id | none |
//! | `a`, `e` | created_at, updated_at | never |

use chrono::serde::{ts_microseconds, ts_microseconds_option};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::task::model::{
    Description, Priority, ProjectId, Recurrence, RecurrenceMode, Reminder, Step, StepId, StepText,
    Steps, Tag, Task, TimeZone, Title,
};
use events::TaskId;

/// A task in its compact stored form; the module docs list its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTask {
    i: TaskId,
    t: Title,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<Description>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "ts_microseconds_option"
    )]
    c: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "is_default")]
    p: Priority,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    g: Vec<Tag>,
    #[serde(default, skip_serializing_if = "is_default")]
    j: ProjectId,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "ts_microseconds_option"
    )]
    u: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "is_default")]
    z: TimeZone,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<Recurrence>,
    #[serde(default, skip_serializing_if = "is_default")]
    m: RecurrenceMode,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    n: Vec<Reminder>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    k: Vec<StoredStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    o: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    #[serde(with = "ts_microseconds")]
    a: DateTime<Utc>,
    #[serde(with = "ts_microseconds")]
    e: DateTime<Utc>,
}

/// A step in its stored form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredStep {
    i: u32,
    t: StepText,
    #[serde(default, skip_serializing_if = "is_default")]
    d: bool,
}

impl From<&Step> for StoredStep {
    fn from(step: &Step) -> Self {
        Self {
            i: step.id.0,
            t: step.text.clone(),
            d: step.done,
        }
    }
}

impl From<StoredStep> for Step {
    fn from(stored: StoredStep) -> Self {
        Self {
            id: StepId(stored.i),
            text: stored.t,
            done: stored.d,
        }
    }
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl From<&Task> for StoredTask {
    fn from(task: &Task) -> Self {
        Self {
            i: task.id,
            t: task.title.clone(),
            d: task.description.clone(),
            c: task.completed_at.filter(|_| task.completed),
            p: task.priority,
            g: task.tags.clone(),
            j: task.project_id,
            u: task.due_at.map(|at| at.with_timezone(&Utc)),
            z: task.time_zone,
            r: task.recurrence.clone(),
            m: task.recurrence_mode,
            n: task.reminders.clone(),
            k: task.steps.0.iter().map(StoredStep::from).collect(),
            o: task.order.clone(),
            s: task.series_id.clone(),
            a: task.created_at,
            e: task.updated_at,
        }
    }
}

impl From<StoredTask> for Task {
    fn from(stored: StoredTask) -> Self {
        Self {
            id: stored.i,
            title: stored.t,
            description: stored.d,
            completed: stored.c.is_some(),
            completed_at: stored.c,
            priority: stored.p,
            tags: stored.g,
            project_id: stored.j,
            due_at: stored.u.map(|at| stored.z.local(at)),
            time_zone: stored.z,
            recurrence: stored.r,
            recurrence_mode: stored.m,
            reminders: stored.n,
            steps: Steps(stored.k.into_iter().map(Step::from).collect()),
            order: stored.o,
            series_id: stored.s,
            created_at: stored.a,
            updated_at: stored.e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskSpec;
    use serde_json::json;

    fn task(body: serde_json::Value) -> Task {
        let at = DateTime::parse_from_rfc3339("2026-03-01T12:00:00.123Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        TaskSpec::parse(&body)
            .and_then(|spec| spec.create(TaskId::new(at, 42), at))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_field_survives_the_round_trip() {
        let mut full = task(json!({
            "title": "Standup", "description": "daily", "priority": "high", "tags": ["work", "team"],
            "project_id": "01KBN0000000000000000000AA", "due_at": "2026-07-01T09:30", "time_zone": "Europe/Berlin", "recurrence": "FREQ=DAILY",
            "recurrence_mode": "completion", "steps": ["shoes", "towel"], "reminders": [{"minutes_before": 5}, {"at": "2026-07-01T08:00:00+02:00"}]
        }));
        full.series_id = Some("series".into());
        full.set_completed(true, full.created_at + chrono::Duration::hours(1));
        for original in [full, task(json!({"title": "Bare"}))] {
            let text = serde_json::to_string(&StoredTask::from(&original)).unwrap_or_default();
            let back: StoredTask =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(Task::from(back), original, "{text}");
        }
    }

    #[test]
    fn defaults_are_left_out() {
        let text = serde_json::to_string(&StoredTask::from(&task(json!({"title": "Bare"}))))
            .unwrap_or_default();
        assert_eq!(
            text,
            format!(
                r#"{{"i":"{}","t":"Bare","a":1772366400123000,"e":1772366400123000}}"#,
                task(json!({"title": "Bare"})).id
            )
        );
    }
}
