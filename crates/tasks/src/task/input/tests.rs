use chrono::DateTime;
use serde_json::json;

use super::*;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn create(body: Value) -> Result<Task, FieldError> {
    TaskSpec::parse(&body)?.create(TaskId::new(now(), 1), now())
}

fn error_of(body: Value) -> (String, String) {
    let err = create(body).expect_err("input should be refused");
    (err.field.clone(), err.to_string())
}

#[test]
fn a_title_alone_makes_a_task_with_defaults() {
    let task = create(json!({"title": "Buy milk"})).expect("valid");
    assert_eq!(task.title.as_str(), "Buy milk");
    assert_eq!(task.priority, Priority::None);
    assert_eq!(task.time_zone, TimeZone::UTC);
    assert!(!task.completed);
    assert!(task.tags.is_empty() && task.reminders.is_empty());
    assert_eq!(task.created_at, now());
}

#[test]
fn every_field_is_read() {
    let task = create(json!({
        "title": "Standup", "description": "daily", "priority": "high",
        "tags": ["Work", " work ", "team"], "due_at": "2026-03-02T09:30",
        "time_zone": "Europe/Berlin", "recurrence": "FREQ=WEEKLY;BYDAY=MO,WE",
        "recurrence_mode": "completion",
        "reminders": [{"minutes_before": 15}, {"at": "2026-03-02T08:00:00+01:00"}]
    }))
    .expect("valid");
    assert_eq!(task.description.as_ref().map(|d| d.as_str()), Some("daily"));
    assert_eq!(task.priority, Priority::High);
    let tags: Vec<_> = task.tags.iter().map(Tag::as_str).collect();
    assert_eq!(
        tags,
        ["work", "team"],
        "tags are lower-cased and de-duplicated"
    );
    assert_eq!(
        task.due_at.map(|d| d.to_rfc3339()),
        Some("2026-03-02T09:30:00+01:00".into()),
        "a local due date is read in the task's zone"
    );
    assert_eq!(task.recurrence_mode, RecurrenceMode::Completion);
    assert_eq!(task.reminders.len(), 2);
}

#[test]
fn due_dates_carry_the_offset_of_their_zone_across_dst() {
    // Berlin moves from +01:00 to +02:00 on 2026-03-29.
    let summer =
        create(json!({"title": "t", "due_at": "2026-04-01T09:00", "time_zone": "Europe/Berlin"}))
            .expect("valid");
    assert_eq!(
        summer.due_at.map(|d| d.to_rfc3339()),
        Some("2026-04-01T09:00:00+02:00".into())
    );
    let given_in_utc = create(
        json!({"title": "t", "due_at": "2026-04-01T07:00:00Z", "time_zone": "Europe/Berlin"}),
    )
    .expect("valid");
    assert_eq!(given_in_utc.due_at, summer.due_at);
    assert_eq!(
        given_in_utc.due_at.map(|d| d.to_rfc3339()),
        Some("2026-04-01T09:00:00+02:00".into())
    );
}

#[test]
fn a_local_time_in_the_spring_gap_is_refused() {
    let (field, message) =
        error_of(json!({"title": "t", "due_at": "2026-03-29T02:30", "time_zone": "Europe/Berlin"}));
    assert_eq!(field, "due_at");
    assert!(
        message.contains("does not exist in Europe/Berlin"),
        "{message}"
    );
}

#[test]
fn errors_name_the_field_and_say_how_to_fix_it() {
    let cases = [
        (json!({}), "title", "title is required"),
        (json!({"title": ""}), "title", "title must not be empty"),
        (
            json!({"title": "x".repeat(1000)}),
            "title",
            "at most 200 characters (got 1000)",
        ),
        (json!({"title": 42}), "title", "title must be a string"),
        (
            json!({"title": "t", "priority": "urgent"}),
            "priority",
            "one of none, low, medium, high",
        ),
        (
            json!({"title": "t", "due_at": "next tuesday"}),
            "due_at",
            "RFC 3339",
        ),
        (
            json!({"title": "t", "time_zone": "Mars/Base"}),
            "time_zone",
            "IANA time zone",
        ),
        (
            json!({"title": "t", "tags": "work"}),
            "tags",
            "tags must be an array",
        ),
        (
            json!({"title": "t", "tags": ["ok", 3]}),
            "tags[1]",
            "must be a string",
        ),
        (
            json!({"title": "t", "completed": "yes"}),
            "completed",
            "true or false",
        ),
        (
            json!({"title": "t", "colour": "red"}),
            "colour",
            "not a known field",
        ),
        (
            json!({"title": "t", "recurrence": "FREQ=HOURLYISH"}),
            "recurrence",
            "RRULE",
        ),
        (
            json!({"title": "t", "reminders": [{"minutes_before": 10}]}),
            "reminders[0].minutes_before",
            "needs due_at",
        ),
        (
            json!({"title": "t", "due_at": "2026-03-02T09:00", "reminders": [{"minutes_before": -1}]}),
            "reminders[0].minutes_before",
            "between 0 and 40320",
        ),
        (
            json!({"title": "t", "reminders": [{"at": "soon"}]}),
            "reminders[0].at",
            "RFC 3339",
        ),
        (
            json!({"title": "t", "reminders": [{}]}),
            "reminders[0]",
            "exactly one of",
        ),
        (
            json!({"title": "t", "priority": null}),
            "priority",
            "not null",
        ),
        (json!(["title"]), "body", "JSON object"),
    ];
    for (body, field, fragment) in cases {
        let (got_field, message) = error_of(body.clone());
        assert_eq!(got_field, field, "for {body}");
        assert!(
            message.contains(fragment),
            "for {body}: {message:?} lacks {fragment:?}"
        );
    }
}

#[test]
fn read_only_fields_sent_back_are_ignored() {
    let task = create(json!({"title": "t", "id": "x", "created_at": "whenever", "series_id": "s"}))
        .expect("read-only fields are ignored");
    assert_eq!(task.series_id, None);
}

#[test]
fn a_patch_naming_a_server_owned_field_is_refused() {
    for field in [
        "id",
        "created_at",
        "updated_at",
        "completed_at",
        "series_id",
    ] {
        let err = TaskPatch::parse(&json!({"title": "t", field: "x"})).expect_err("refused");
        assert_eq!(err.field, field);
        assert_eq!(err.problem, Problem::ReadOnly);
    }
}

#[test]
fn a_key_given_twice_is_refused_as_ambiguous() {
    let err =
        parse_json(br#"{"title": "a", "priority": "low", "title": "b"}"#).expect_err("ambiguous");
    assert!(
        err.to_string().contains("\"title\" is given twice"),
        "{err}"
    );
    let nested =
        parse_json(br#"{"reminders": [{"at": "2026-01-01T00:00", "at": "2026-01-02T00:00"}]}"#);
    assert!(nested.is_err(), "at any depth");
    assert_eq!(
        parse_json(br#"{"title": "a", "tags": ["x", "x"], "n": [1, -2, 3.5, null, true]}"#).ok(),
        Some(json!({"title": "a", "tags": ["x", "x"], "n": [1, -2, 3.5, null, true]})),
        "repeated values are fine"
    );
}

#[test]
fn a_patch_changes_only_what_it_names() {
    let mut task =
        create(json!({"title": "t", "description": "d", "priority": "low", "tags": ["a"]}))
            .expect("valid");
    let later = now() + chrono::Duration::hours(1);
    TaskPatch::parse(&json!({"priority": "high", "description": null}))
        .and_then(|patch| patch.apply(&mut task, later))
        .expect("valid patch");
    assert_eq!(task.priority, Priority::High);
    assert_eq!(task.description, None);
    assert_eq!(task.title.as_str(), "t");
    assert_eq!(task.tags.len(), 1);
    assert_eq!(task.updated_at, later);
}

#[test]
fn changing_the_zone_keeps_the_instant() {
    let mut task = create(json!({"title": "t", "due_at": "2026-06-01T09:00:00Z"})).expect("valid");
    TaskPatch::parse(&json!({"time_zone": "America/New_York"}))
        .and_then(|patch| patch.apply(&mut task, now()))
        .expect("valid patch");
    assert_eq!(
        task.due_at.map(|d| d.to_rfc3339()),
        Some("2026-06-01T05:00:00-04:00".into())
    );
}

#[test]
fn clearing_the_due_date_under_a_relative_reminder_is_refused() {
    let mut task = create(json!({"title": "t", "due_at": "2026-06-01T09:00:00Z", "reminders": [{"minutes_before": 5}]}))
        .expect("valid");
    let err = TaskPatch::parse(&json!({"due_at": null}))
        .and_then(|patch| patch.apply(&mut task.clone(), now()))
        .expect_err("a relative reminder needs a due date");
    assert_eq!(err.field, "reminders[0].minutes_before");
    task.reminders.clear();
}

#[test]
fn each_reminder_says_when_it_fires_or_that_it_never_will() {
    // now() is 2026-03-01T12:00Z; Berlin is at +01:00 until 29 March.
    let task = create(json!({
        "title": "t", "due_at": "2026-03-30T09:00", "time_zone": "Europe/Berlin",
        "reminders": [{"minutes_before": 1440}, {"at": "2026-03-01T11:00:00Z"},
            {"at": "2026-03-02T08:00"}]
    }))
    .expect("valid");
    let fires: Vec<_> = task
        .reminders
        .iter()
        .map(|r| r.fires_at.map(|at| at.to_rfc3339()))
        .collect();
    assert_eq!(
        fires,
        [
            // A day before 09:00 on the 30th, across the change to summer time.
            Some("2026-03-29T09:00:00+02:00".into()),
            // Already past when set: it never fires.
            None,
            Some("2026-03-02T08:00:00+01:00".into()),
        ]
    );
    assert_eq!(task.pending_reminders().count(), 2);
}

#[test]
fn moving_the_due_date_moves_its_reminders_and_a_read_task_can_be_sent_back() {
    let mut task = create(json!({
        "title": "t", "due_at": "2026-03-02T09:00:00Z", "reminders": [{"minutes_before": 30}]
    }))
    .expect("valid");
    let sent_back = serde_json::to_value(&task).expect("json");
    TaskSpec::parse(&sent_back)
        .and_then(|spec| spec.replace(&mut task.clone(), now()))
        .expect("a task as read is a valid replacement");
    let patch = TaskPatch::parse(&json!({"due_at": "2026-03-03T09:00:00Z"})).expect("valid");
    patch.apply(&mut task, now()).expect("applies");
    let fires = task.reminders.first().and_then(|r| r.fires_at);
    assert_eq!(
        fires.map(|at| at.to_rfc3339()),
        Some("2026-03-03T08:30:00+00:00".into())
    );
    task.set_completed(true, now());
    assert_eq!(
        task.pending_reminders().count(),
        0,
        "a done task reminds of nothing"
    );
}
