//! What a write changed, as the event published for it on `task-events`:
//! its type, and each field that changed from what to what, in the API's
//! spelling and JSON (so that history shows what the user saw).

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::TaskError;
use crate::{Task, UserId};
use events::{Change, EventId, TaskEvent, TaskEventType};

/// The event of one change of one task.
pub type Event = TaskEvent<Task>;

/// Fields that every write sets, that never change, or that are counted
/// from another (`steps_done` from `steps`): left out of `changes`.
const UNREPORTED: [&str; 4] = ["id", "created_at", "updated_at", "steps_done"];

/// The event of a change from `before` (`None`: the task is new) to
/// `after` (`None`: the task is gone), made at `now` as event `id`; `None`
/// when neither is given.
pub fn event(
    id: EventId,
    user: &UserId,
    before: Option<&Task>,
    after: Option<&Task>,
    now: DateTime<Utc>,
) -> Option<Event> {
    let (event_type, task) = match (before, after) {
        (None, Some(task)) => (TaskEventType::Created, task),
        (Some(task), None) => (TaskEventType::Deleted, task),
        (Some(old), Some(new)) if !old.completed && new.completed => {
            (TaskEventType::Completed, new)
        }
        (Some(old), Some(new)) if old.completed && !new.completed => (TaskEventType::Reopened, new),
        (Some(_), Some(new)) => (TaskEventType::Updated, new),
        (None, None) => return None,
    };
    Some(TaskEvent {
        event_id: id,
        event_type,
        task_id: task.id,
        user_id: user.clone(),
        changes: changes(before, after),
        task: task.clone(),
        timestamp: now,
    })
}

/// The fields whose JSON differs between `before` and `after`, in the
/// task's field order; a missing task has every field empty.
fn changes(before: Option<&Task>, after: Option<&Task>) -> Vec<Change> {
    let (old, new) = (fields(before), fields(after));
    let names = new
        .keys()
        .chain(old.keys().filter(|k| !new.contains_key(*k)));
    names
        .filter(|name| !UNREPORTED.contains(&name.as_str()))
        .filter_map(|name| {
            let from = old.get(name).cloned().unwrap_or(Value::Null);
            let to = new.get(name).cloned().unwrap_or(Value::Null);
            let changed = from != to && !(is_empty(&from) && is_empty(&to));
            changed.then(|| Change {
                field: name.clone(),
                from,
                to,
            })
        })
        .collect()
}

fn fields(task: Option<&Task>) -> Map<String, Value> {
    match task.map(serde_json::to_value) {
        Some(Ok(Value::Object(map))) => map,
        _ => Map::new(),
    }
}

/// `null` and `[]`: what a field holds when it holds nothing.
fn is_empty(value: &Value) -> bool {
    value.is_null() || value.as_array().is_some_and(Vec::is_empty)
}

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

    /// The event as JSON, to embed in a message as it is.
    pub fn raw(&self) -> &RawValue {
        &self.json
    }
}

/// The task a recorded change holds (`event`, as the `changes` table
/// keeps it): the task after the change, before it for a deletion.
pub fn recorded_task(event: &str) -> Result<crate::Task, crate::error::TaskError> {
    let unreadable = |e: serde_json::Error| {
        crate::error::TaskError::Unavailable(format!("a recorded change is unreadable: {e}"))
    };
    let mut event: serde_json::Value = serde_json::from_str(event).map_err(unreadable)?;
    serde_json::from_value(event["task"].take()).map_err(unreadable)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Env, TaskPatch, TaskSpec};

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap_or_default()
    }

    fn task(body: Value) -> Task {
        let spec = TaskSpec::parse(&body).expect("valid");
        let env = Env::new(at(1_800_000_000), 7, 8);
        spec.create(crate::TaskId::new(env.now, env.random), env.now)
            .expect("valid")
    }

    fn user() -> UserId {
        UserId::parse("alice").expect("a user id")
    }

    fn summary(event: &Event) -> Vec<(String, Value, Value)> {
        event
            .changes
            .iter()
            .map(|c| (c.field.clone(), c.from.clone(), c.to.clone()))
            .collect()
    }

    #[test]
    fn a_new_task_reports_the_fields_it_sets() {
        let new = task(json!({"title": "Pay rent", "priority": "high"}));
        let event = event(EventId::new(at(1), 1), &user(), None, Some(&new), at(1)).expect("event");
        assert_eq!(event.event_type, TaskEventType::Created);
        let fields: Vec<String> = event.changes.iter().map(|c| c.field.clone()).collect();
        assert_eq!(
            fields,
            [
                "title",
                "completed",
                "priority",
                "project_id",
                "time_zone",
                "recurrence_mode"
            ]
        );
    }

    #[test]
    fn an_update_reports_each_field_from_what_to_what() {
        let before = task(json!({"title": "Pay rent", "tags": ["home"]}));
        let mut after = before.clone();
        TaskPatch::parse(&json!({"title": "Pay the rent", "tags": []}))
            .expect("valid")
            .apply(&mut after, at(1_800_000_100))
            .expect("applies");
        let event = event(
            EventId::new(at(2), 2),
            &user(),
            Some(&before),
            Some(&after),
            at(2),
        )
        .expect("event");
        assert_eq!(event.event_type, TaskEventType::Updated);
        assert_eq!(
            summary(&event),
            [
                ("title".into(), json!("Pay rent"), json!("Pay the rent")),
                ("tags".into(), json!(["home"]), json!([])),
            ]
        );
    }

    #[test]
    fn completing_and_reopening_are_their_own_types() {
        let before = task(json!({"title": "t"}));
        let mut after = before.clone();
        after.set_completed(true, at(1_800_000_100));
        let done = event(
            EventId::new(at(3), 3),
            &user(),
            Some(&before),
            Some(&after),
            at(3),
        )
        .expect("event");
        assert_eq!(done.event_type, TaskEventType::Completed);
        assert_eq!(
            summary(&done),
            [
                ("completed".into(), json!(false), json!(true)),
                (
                    "completed_at".into(),
                    Value::Null,
                    json!("2027-01-15T08:01:40Z")
                ),
            ]
        );
        let again = event(
            EventId::new(at(4), 4),
            &user(),
            Some(&after),
            Some(&before),
            at(4),
        )
        .expect("event");
        assert_eq!(again.event_type, TaskEventType::Reopened);
    }

    #[test]
    fn a_deleted_task_reports_its_last_state() {
        let gone = task(json!({"title": "t"}));
        let event =
            event(EventId::new(at(5), 5), &user(), Some(&gone), None, at(5)).expect("event");
        assert_eq!(event.event_type, TaskEventType::Deleted);
        assert_eq!(event.task, gone);
        assert!(event.changes.iter().all(|c| c.to.is_null()));
    }
}
