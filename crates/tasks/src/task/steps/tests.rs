//! A checklist changed a step at a time, and given whole.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;
use crate::{TaskId, TaskPatch, TaskSpec};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn task(body: serde_json::Value) -> Task {
    TaskSpec::parse(&body)
        .and_then(|spec| spec.create(TaskId::new(now(), 7), now()))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn edit(body: serde_json::Value) -> StepEdit {
    StepEdit::parse(&body).unwrap_or_else(|e| panic!("{e}"))
}

/// The checklist as `id text [done]` lines.
fn listed(task: &Task) -> Vec<String> {
    let listed = task.steps.0.iter();
    listed
        .map(|s| {
            format!(
                "{} {}{}",
                s.id,
                s.text.as_str(),
                if s.done { " done" } else { "" }
            )
        })
        .collect()
}

#[test]
fn steps_are_added_checked_moved_and_removed_by_id_or_place() {
    let mut bag = task(json!({"title": "Pack the gym bag", "steps": ["shoes", "towel"]}));
    assert_eq!(listed(&bag), ["s1 shoes", "s2 towel"]);
    edit(json!({"text": "lock"}))
        .add(&mut bag)
        .unwrap_or_else(|e| panic!("{e}"));
    edit(json!({"text": "water", "position": 1}))
        .add(&mut bag)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        listed(&bag),
        ["s4 water", "s1 shoes", "s2 towel", "s3 lock"]
    );
    let check = edit(json!({"done": true}));
    check
        .apply(&mut bag, StepRef::Id(StepId(2)))
        .unwrap_or_else(|e| panic!("{e}"));
    let first = edit(json!({"position": 1}));
    first
        .apply(&mut bag, StepRef::Place(4))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        listed(&bag),
        ["s3 lock", "s4 water", "s1 shoes", "s2 towel done"]
    );
    assert_eq!(bag.steps.done(), 1);
    remove(&mut bag, StepRef::Place(2)).unwrap_or_else(|e| panic!("{e}"));
    remove(&mut bag, StepRef::Id(StepId(3))).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed(&bag), ["s1 shoes", "s2 towel done"]);
    // An id is never given again while its step is there.
    edit(json!({"text": "socks"}))
        .add(&mut bag)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed(&bag), ["s1 shoes", "s2 towel done", "s3 socks"]);
}

#[test]
fn a_step_that_is_not_there_or_a_place_out_of_range_is_refused() {
    let mut bag = task(json!({"title": "Bag", "steps": ["shoes"]}));
    let check = edit(json!({"done": true}));
    for missing in [StepRef::Id(StepId(9)), StepRef::Place(2)] {
        assert_eq!(check.apply(&mut bag, missing), Err(TaskError::StepNotFound));
        assert_eq!(remove(&mut bag, missing), Err(TaskError::StepNotFound));
    }
    let far = edit(json!({"text": "x", "position": 3})).add(&mut bag);
    assert!(matches!(far, Err(TaskError::Invalid(e)) if e.field == "position"));
    let textless = edit(json!({"done": true})).add(&mut bag);
    assert!(matches!(textless, Err(TaskError::Invalid(e)) if e.field == "text"));
    assert_eq!(listed(&bag), ["s1 shoes"]);
    assert_eq!(StepRef::parse("0"), None);
    assert_eq!(StepRef::parse("s0"), None);
    assert_eq!(StepRef::parse("towel"), None);
    assert_eq!(StepRef::parse("2"), Some(StepRef::Place(2)));
    assert_eq!(StepRef::parse("s12"), Some(StepRef::Id(StepId(12))));
    for (body, field) in [
        (json!({"text": ""}), "text"),
        (json!({"text": "x".repeat(501)}), "text"),
        (json!({"done": "yes"}), "done"),
        (json!({"position": 0}), "position"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let refused = StepEdit::parse(&body).map_err(|e| e.field);
        assert_eq!(refused, Err(field.to_owned()), "{body}");
    }
}

#[test]
fn a_whole_checklist_keeps_the_steps_it_names_and_numbers_the_new() {
    let mut bag =
        task(json!({"title": "Bag", "steps": ["shoes", {"text": "towel", "done": true}]}));
    let patch = TaskPatch::parse(&json!({"steps": [
        {"id": "s2", "text": "big towel", "done": true}, "lock"
    ]}))
    .unwrap_or_else(|e| panic!("{e}"));
    patch
        .apply(&mut bag, now())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed(&bag), ["s2 big towel done", "s3 lock"]);
    for (steps, field) in [
        (json!([{"id": "s9", "text": "x"}]), "steps[0].id"),
        (
            json!([{"id": "s2", "text": "x"}, {"id": "s2", "text": "y"}]),
            "steps[1].id",
        ),
        (json!(["ok", 3]), "steps[1]"),
        (json!([{"text": "x", "when": "now"}]), "steps[0]"),
        (json!([{"done": true}]), "steps[0].text"),
    ] {
        let refused = TaskPatch::parse(&json!({"steps": steps}))
            .and_then(|patch| patch.apply(&mut bag.clone(), now()));
        assert_eq!(
            refused.map_err(|e| e.field),
            Err(field.to_owned()),
            "{steps}"
        );
    }
    // A task made from another one sent back gets steps of its own.
    let copy = task(json!({"title": "Copy", "steps": [{"id": "s7", "text": "x", "done": true}]}));
    assert_eq!(listed(&copy), ["s1 x done"]);
}
