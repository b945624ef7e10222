//! The events' JSON against the files in `tests/golden/`: what consumers
//! written against those files can rely on. `UPDATE_GOLDEN=1 cargo test -p
//! events` rewrites the files after a deliberate change.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use events::{Change, EventId, ReminderDue, ReminderId, TaskEvent, TaskEventType, TaskId, UserId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap_or_else(|| panic!("{id} is a user id"))
}

/// `value` serializes to the file's JSON, and the file reads back as `value`.
fn golden<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(name: &str, value: &T) {
    // The package's folder as cargo gives it when the test runs, so that a
    // binary built in another clone reads this clone's files.
    let package = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let path = package.join("tests/golden").join(name);
    let written = serde_json::to_string_pretty(value).unwrap_or_else(|e| panic!("{e}"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{written}\n")).unwrap_or_else(|e| panic!("{e}"));
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(written.trim_end(), expected.trim_end(), "{name} changed");
    let read: T = serde_json::from_str(&expected).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(&read, value);
}

fn task_id() -> TaskId {
    TaskId::parse("01KB9X3D5E6F7G8H9J0KMNPQRS").unwrap_or_else(|| panic!("a ULID"))
}

#[test]
fn a_task_event() {
    let event = TaskEvent {
        event_id: EventId::parse("01KB9X3D5EZZZZZZZZZZZZZZZZ").unwrap_or_else(|| panic!("a ULID")),
        event_type: TaskEventType::Completed,
        task_id: task_id(),
        user_id: user("alice"),
        task: json!({"id": "01KB9X3D5E6F7G8H9J0KMNPQRS", "title": "Water the plants", "completed": true}),
        changes: vec![
            Change {
                field: "completed".into(),
                from: json!(false),
                to: json!(true),
            },
            Change {
                field: "completed_at".into(),
                from: Value::Null,
                to: json!("2026-11-28T18:00:00.123Z"),
            },
        ],
        timestamp: at("2026-11-28T18:00:00.123Z"),
    };
    golden("task-event-completed.json", &event);
}

#[test]
fn a_reminder() {
    let reminder = ReminderDue {
        reminder_id: ReminderId::of(task_id(), 0, at("2026-12-01T07:30:00Z")),
        task_id: task_id(),
        user_id: user("alice"),
        title: "Pay rent".into(),
        due_at: DateTime::parse_from_rfc3339("2026-12-01T09:00:00+01:00").ok(),
        remind_at: at("2026-12-01T07:30:00Z"),
    };
    golden("reminder-due.json", &reminder);
}

#[test]
fn a_reminder_has_one_id_however_often_it_is_worked_out() {
    let remind_at = at("2026-12-01T07:30:00Z");
    let id = ReminderId::of(task_id(), 1, remind_at);
    assert_eq!(id, ReminderId::of(task_id(), 1, remind_at));
    assert_ne!(
        id,
        ReminderId::of(task_id(), 0, remind_at),
        "another reminder"
    );
    let later = at("2026-12-08T07:30:00Z");
    assert_ne!(id, ReminderId::of(task_id(), 1, later), "another time");
    assert!(id < ReminderId::of(task_id(), 0, later), "ids sort by time");
}

#[test]
fn event_types_are_lower_case_words() {
    let types: Vec<Value> = [
        TaskEventType::Created,
        TaskEventType::Updated,
        TaskEventType::Completed,
        TaskEventType::Reopened,
        TaskEventType::Deleted,
    ]
    .iter()
    .map(|t| json!(t))
    .collect();
    assert_eq!(
        types,
        vec![
            json!("created"),
            json!("updated"),
            json!("completed"),
            json!("reopened"),
            json!("deleted")
        ]
    );
}

#[test]
fn a_bad_user_id_in_an_event_is_refused() {
    let text = r#"{"reminder_id":"01KB9X3D5E6F7G8H9J0KMNPQRS","task_id":"01KB9X3D5E6F7G8H9J0KMNPQRS","user_id":"a:b","title":"t","due_at":null,"remind_at":"2026-12-01T07:30:00Z"}"#;
    assert!(serde_json::from_str::<ReminderDue>(text).is_err());
}
