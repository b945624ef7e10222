//! Projects on SQLite (in memory, the embedded profile's SQL; PostgreSQL
//! runs them end to end).

use chrono::{DateTime, Utc};
use serde_json::json;
use sql::native::Sqlite;

use super::*;
use crate::error::{ProjectError, TaskError};
use crate::service::Env;
use crate::testing::{database, user};
use crate::{TaskPatch, TaskSpec, TaskStore};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn env(n: u128) -> Env {
    Env::new(now(), n, n.rotate_left(40) ^ 0x5eed)
}

fn name(text: &str) -> Name {
    Name::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn make(projects: &Projects<'_, Sqlite>, text: &str, n: u128) -> Project {
    projects
        .create(name(text), ProjectPatch::default(), &env(n))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn task_in(
    tasks: &TaskStore<'_, Sqlite>,
    project: &str,
    n: u128,
) -> Result<crate::Task, TaskError> {
    let spec = TaskSpec::parse(&json!({"title": format!("task {n}"), "project_id": project}))
        .unwrap_or_else(|e| panic!("{e}"));
    tasks.create(spec, &env(n)).map(|w| w.task)
}

#[test]
fn the_inbox_comes_first_and_every_project_counts_its_pending_and_overdue_tasks() {
    let db = database();
    let alice = user("alice");
    let (projects, tasks) = (Projects::new(&db, &alice), TaskStore::new(&db, &alice));
    let work = make(&projects, "Work", 1);
    let id = work.id.to_string();
    for n in 2..5 {
        task_in(&tasks, &id, n).unwrap_or_else(|e| panic!("{e}"));
    }
    let late = TaskSpec::parse(
        &json!({"title": "late", "project_id": id, "due_at": "2026-11-30T09:00:00Z"}),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    tasks
        .create(late, &env(5))
        .unwrap_or_else(|e| panic!("{e}"));
    task_in(&tasks, "inbox", 6).unwrap_or_else(|e| panic!("{e}"));
    let listed = projects
        .list(false, now())
        .unwrap_or_else(|e| panic!("{e}"));
    let seen: Vec<(&str, bool, u64, u64)> = listed
        .iter()
        .map(|p| (p.name.as_str(), p.inbox, p.pending, p.overdue))
        .collect();
    assert_eq!(seen, [("Inbox", true, 1, 0), ("Work", false, 4, 1)]);
}

#[test]
fn names_are_unique_whatever_their_case_and_the_inbox_keeps_its_own() {
    let db = database();
    let alice = user("alice");
    let projects = Projects::new(&db, &alice);
    make(&projects, "Groceries", 1);
    for taken in ["groceries", " GROCERIES ", "inbox"] {
        let again = projects.create(name(taken), ProjectPatch::default(), &env(2));
        assert!(
            matches!(again, Err(ProjectError::NameTaken(_))),
            "{taken}: {again:?}"
        );
    }
    let garden = make(&projects, "Garden", 3);
    let rename = ProjectPatch {
        name: Some(name("GROCERIES")),
        ..ProjectPatch::default()
    };
    let renamed = projects.update(garden.id, rename, now());
    assert!(
        matches!(renamed, Err(ProjectError::NameTaken(_))),
        "{renamed:?}"
    );
    let inbox = projects.update(ProjectId::Inbox, ProjectPatch::default(), now());
    assert_eq!(inbox, Err(ProjectError::Inbox));
    assert_eq!(
        projects.delete(ProjectId::Inbox, true, &env(4)).err(),
        Some(ProjectError::Inbox)
    );
    // Someone else may use the same name.
    make(&Projects::new(&db, &user("bob")), "Groceries", 5);
}

#[test]
fn an_archived_project_leaves_the_listing_and_takes_no_new_tasks() {
    let db = database();
    let alice = user("alice");
    // A user's own writes, as the APIs make them: with limits.
    let tasks = TaskStore::new(&db, &alice).limited(crate::Limits::default());
    let projects = Projects::new(&db, &alice);
    let old = make(&projects, "Old", 1);
    let archive = ProjectPatch {
        archived: Some(true),
        ..ProjectPatch::default()
    };
    projects
        .update(old.id, archive, now())
        .unwrap_or_else(|e| panic!("{e}"));
    let active: Vec<ProjectId> = (projects.list(false, now()).unwrap_or_default())
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(active, [ProjectId::Inbox]);
    let archived = projects.list(true, now()).unwrap_or_default();
    assert_eq!(archived.len(), 1);
    let refused = task_in(&tasks, &old.id.to_string(), 2);
    assert!(
        matches!(&refused, Err(TaskError::Invalid(e)) if e.field == "project_id"),
        "{refused:?}"
    );
}

#[test]
fn a_task_names_only_projects_of_its_own_user() {
    let db = database();
    let (alice, bob) = (user("alice"), user("bob"));
    let bobs = make(&Projects::new(&db, &bob), "Bob's", 1);
    let tasks = TaskStore::new(&db, &alice);
    let refused = task_in(&tasks, &bobs.id.to_string(), 2);
    assert!(
        matches!(&refused, Err(TaskError::Invalid(e)) if e.field == "project_id"),
        "{refused:?}"
    );
    let alices = Projects::new(&db, &alice);
    assert_eq!(alices.get(bobs.id, now()), Err(ProjectError::NotFound));
    assert_eq!(
        alices.delete(bobs.id, true, &env(3)).err(),
        Some(ProjectError::NotFound)
    );
}

#[test]
fn a_project_with_tasks_goes_only_with_them_and_each_is_a_change() {
    let db = database();
    let alice = user("alice");
    let (projects, tasks) = (Projects::new(&db, &alice), TaskStore::new(&db, &alice));
    let trip = make(&projects, "Trip", 1);
    let id = trip.id.to_string();
    let held: Vec<crate::Task> = (2..5)
        .map(|n| task_in(&tasks, &id, n).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    // A task moved out stays.
    let moved = TaskPatch::parse(&json!({"project_id": "inbox"})).unwrap_or_else(|e| panic!("{e}"));
    tasks
        .patch(held[0].id, moved, &env(5))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        projects.delete(trip.id, false, &env(6)).err(),
        Some(ProjectError::NotEmpty(2))
    );
    assert!(projects.get(trip.id, now()).is_ok(), "refused, so kept");
    let deleted = projects
        .delete(trip.id, true, &env(7))
        .unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<_> = deleted.iter().map(|w| w.task.id).collect();
    assert_eq!(ids, [held[1].id, held[2].id]);
    assert!(deleted.iter().all(|w| w.event.is_some() && w.seq.is_some()));
    assert_eq!(projects.get(trip.id, now()), Err(ProjectError::NotFound));
    assert!(tasks.get(held[0].id).is_ok());
    assert_eq!(tasks.get(held[1].id), Err(TaskError::NotFound));
}

#[test]
fn bad_input_names_the_field() {
    let cases = [
        (json!({}), "name"),
        (json!({"name": "  "}), "name"),
        (json!({"name": "x".repeat(121)}), "name"),
        (json!({"name": "A", "color": "plaid"}), "color"),
        (json!({"name": "A", "archived": "yes"}), "archived"),
        (json!({"name": "A", "pending": 3}), "pending"),
        (json!({"name": "A", "owner": "me"}), "owner"),
    ];
    for (body, field) in cases {
        let err = ProjectPatch::parse_new(&body).expect_err("refused");
        assert_eq!(err.field, field, "{body}");
    }
    assert_eq!(flag("with_tasks=true", "with_tasks"), Ok(true));
    assert!(flag("with_tasks=yes", "with_tasks").is_err());
    assert!(flag("with_task=true", "with_tasks").is_err());
}

#[test]
fn a_repeating_task_goes_on_in_its_project_even_once_archived() {
    let db = database();
    let alice = user("alice");
    let projects = Projects::new(&db, &alice);
    let mine = TaskStore::new(&db, &alice).limited(crate::Limits::default());
    let gym = make(&projects, "Gym", 1);
    let spec = TaskSpec::parse(
        &json!({"title": "Pack the bag", "project_id": gym.id.to_string(),
                                      "due_at": "2026-12-02T07:00:00Z", "recurrence": "FREQ=DAILY",
                                      "steps": [{"text": "shoes", "done": true}, "towel"]}),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let first = mine.create(spec, &env(2)).unwrap_or_else(|e| panic!("{e}"));
    let done = mine
        .complete(first.task.id, true, &env(3))
        .unwrap_or_else(|e| panic!("{e}"));
    let archive = ProjectPatch {
        archived: Some(true),
        ..ProjectPatch::default()
    };
    projects
        .update(gym.id, archive, now())
        .unwrap_or_else(|e| panic!("{e}"));
    // The recurrence handler's store has no limits: its write is never refused.
    let next = TaskStore::new(&db, &alice).repeat(&done.task, &env(4));
    let next = next
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("a next occurrence");
    assert_eq!(next.task.project_id, gym.id);
    // Its checklist again, nothing done.
    let steps: Vec<(&str, bool)> = (next.task.steps.0.iter())
        .map(|s| (s.text.as_str(), s.done))
        .collect();
    assert_eq!(steps, [("shoes", false), ("towel", false)]);
    assert_eq!(projects.get(gym.id, now()).map(|p| p.pending), Ok(1));
}
