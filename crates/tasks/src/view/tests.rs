//! Saved views on SQLite (in memory, the embedded profile's SQL;
//! PostgreSQL runs them end to end).

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sql::native::Sqlite;

use super::*;
use crate::error::ViewError;
use crate::project::{ProjectPatch, Projects};
use crate::service::Env;
use crate::testing::{database, user};
use crate::{TaskSpec, TaskStore, TimeZone};

/// Thursday 3 December 2026, 15:00 in Berlin.
fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-03T14:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn env(n: u128) -> Env {
    Env::new(now(), n, n.rotate_left(40) ^ 0x5eed)
}

fn berlin() -> TimeZone {
    TimeZone::parse("Europe/Berlin").unwrap_or_default()
}

fn name(text: &str) -> Name {
    Name::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn filter(given: Value) -> ListQuery {
    ListQuery::parse_filter(&given, "filter").unwrap_or_else(|e| panic!("{e}"))
}

fn save(views: &Views<'_, Sqlite>, text: &str, given: Value, n: u128) -> View {
    views
        .create(name(text), filter(given), &env(n))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Tasks of every kind the weekly review below tells apart.
fn fill(tasks: &TaskStore<'_, Sqlite>) {
    let specs = [
        json!({"title": "report", "priority": "high", "tags": ["work"], "due_at": "2026-12-04T09:00", "time_zone": "Europe/Berlin"}),
        json!({"title": "slides", "priority": "high", "tags": ["work"], "due_at": "2026-12-01T09:00", "time_zone": "Europe/Berlin"}),
        json!({"title": "budget", "priority": "high", "tags": ["work"], "due_at": "2026-12-08T09:00", "time_zone": "Europe/Berlin"}),
        json!({"title": "invoice", "priority": "low", "tags": ["work"], "due_at": "2026-12-04T09:00", "time_zone": "Europe/Berlin"}),
        json!({"title": "gym", "priority": "high", "tags": ["home"], "due_at": "2026-12-05T09:00", "time_zone": "Europe/Berlin"}),
        json!({"title": "late night", "priority": "high", "tags": ["work"], "due_at": "2026-12-06T23:30", "time_zone": "Europe/Berlin"}),
        json!({"title": "someday", "priority": "high", "tags": ["work"]}),
        json!({"title": "done", "priority": "high", "tags": ["work"], "due_at": "2026-12-02T09:00", "time_zone": "Europe/Berlin", "completed": true}),
    ];
    for (n, spec) in specs.into_iter().enumerate() {
        let spec = TaskSpec::parse(&spec).unwrap_or_else(|e| panic!("{e}"));
        tasks
            .create(spec, &env(100 + n as u128))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

fn titles(listing: &crate::Listing) -> Vec<&str> {
    listing.tasks.iter().map(|t| t.title.as_str()).collect()
}

#[test]
fn a_view_selects_what_the_same_listing_given_by_hand_selects() {
    let db = database();
    let alice = user("alice");
    let tasks = TaskStore::new(&db, &alice);
    fill(&tasks);
    let views = Views::new(&db, &alice, berlin());
    let review = save(
        &views,
        "Weekly review",
        json!({"priority": "high", "tag": "work", "due": "this_week", "sort": "due_at"}),
        1,
    );
    let shown = views
        .tasks(review.id, "", now())
        .unwrap_or_else(|e| panic!("{e}"));
    // Monday 30 November 00:00 to Monday 7 December 00:00 in Berlin.
    let by_hand = ListQuery::parse(
        "priority=high&tag=work&due_after=2026-11-30T00:00:00%2B01:00\
         &due_before=2026-12-07T00:00:00%2B01:00&sort=due_at",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let listed = tasks
        .list(&by_hand, now())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(titles(&shown), ["slides", "done", "report", "late night"]);
    assert_eq!(shown.tasks, listed.tasks);
    assert_eq!(
        (review.pending, review.overdue),
        (3, 1),
        "done is not pending; slides was due on Tuesday"
    );
}

#[test]
fn a_view_pages_like_a_listing_and_takes_nothing_else_from_the_query() {
    let db = database();
    let alice = user("alice");
    fill(&TaskStore::new(&db, &alice));
    let views = Views::new(&db, &alice, berlin());
    let work = save(&views, "Work", json!({"tag": "work", "sort": "title"}), 1);
    let first = views
        .tasks(work.id, "limit=4", now())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(titles(&first), ["budget", "done", "invoice", "late night"]);
    let cursor = first.next_cursor.map(|c| c.encode()).unwrap_or_default();
    let second = views
        .tasks(work.id, &format!("cursor={cursor}"), now())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(titles(&second), ["report", "slides", "someday"]);
    let err = views.tasks(work.id, "tag=home", now()).map(|_| ());
    assert!(
        matches!(&err, Err(ViewError::Invalid(e)) if e.field == "tag"),
        "{err:?}"
    );
}

#[test]
fn the_same_view_follows_the_clock_and_the_users_zone() {
    let db = database();
    let alice = user("alice");
    fill(&TaskStore::new(&db, &alice));
    let today = |zone: &str, at: DateTime<Utc>| {
        let views = Views::new(&db, &alice, TimeZone::parse(zone).unwrap_or_default());
        let view = views.list(at).unwrap_or_else(|e| panic!("{e}"));
        let listing = views
            .tasks(view[0].id, "", at)
            .unwrap_or_else(|e| panic!("{e}"));
        titles(&listing)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    save(
        &Views::new(&db, &alice, berlin()),
        "Today",
        json!({"due": "today", "status": "pending"}),
        1,
    );
    assert!(today("Europe/Berlin", now()).is_empty());
    let friday = now() + Duration::days(1);
    assert_eq!(today("Europe/Berlin", friday), ["report", "invoice"]);
    // 23:30 on Sunday in Berlin is 22:30Z: still Sunday in London.
    let sunday = now() + Duration::days(3);
    assert_eq!(today("Europe/London", sunday), ["late night"]);
    assert_eq!(today("Asia/Tokyo", sunday), Vec::<String>::new());
}

#[test]
fn views_are_renamed_refiltered_and_deleted_and_names_stay_unique() {
    let db = database();
    let alice = user("alice");
    let views = Views::new(&db, &alice, berlin());
    let first = save(&views, "Focus", json!({"priority": "high"}), 1);
    let taken = views.create(name("FOCUS"), filter(json!({})), &env(2));
    assert!(matches!(taken, Err(ViewError::NameTaken(_))), "{taken:?}");
    let patch = ViewPatch::parse(&json!({"name": "Deep work", "filter": {"tag": ["deep"]}}))
        .unwrap_or_else(|e| panic!("{e}"));
    let changed = views
        .update(first.id, patch, now() + Duration::minutes(1))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(changed.name.as_str(), "Deep work");
    assert_eq!(
        serde_json::to_value(&changed)
            .map(|v| v["filter"].clone())
            .ok(),
        Some(json!({"tag": ["deep"]})),
        "a new filter replaces the old whole"
    );
    assert!(changed.updated_at > changed.created_at);
    save(&views, "Focus", json!({}), 3);
    let names: Vec<String> = (views.list(now()).unwrap_or_default().iter())
        .map(|v| v.name.as_str().to_owned())
        .collect();
    assert_eq!(names, ["Deep work", "Focus"]);
    views.delete(first.id).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        views.get(first.id, now()),
        Err(ViewError::NotFound)
    ));
    assert!(matches!(views.delete(first.id), Err(ViewError::NotFound)));
}

#[test]
fn another_users_view_is_not_there() {
    let db = database();
    let (alice, bob) = (user("alice"), user("bob"));
    let mine = save(&Views::new(&db, &alice, berlin()), "Mine", json!({}), 1);
    let theirs = Views::new(&db, &bob, berlin());
    assert!(matches!(
        theirs.get(mine.id, now()),
        Err(ViewError::NotFound)
    ));
    assert!(matches!(
        theirs.tasks(mine.id, "", now()),
        Err(ViewError::NotFound)
    ));
    assert!(matches!(theirs.delete(mine.id), Err(ViewError::NotFound)));
    let patch = ViewPatch::parse(&json!({"name": "Taken"})).unwrap_or_default();
    assert!(matches!(
        theirs.update(mine.id, patch, now()),
        Err(ViewError::NotFound)
    ));
    assert!(theirs.list(now()).unwrap_or_default().is_empty());
}

#[test]
fn a_view_of_a_project_needs_the_project_and_selects_nothing_once_it_is_gone() {
    let db = database();
    let (alice, bob) = (user("alice"), user("bob"));
    let garden = Projects::new(&db, &bob)
        .create(name("Garden"), ProjectPatch::default(), &env(1))
        .unwrap_or_else(|e| panic!("{e}"));
    let views = Views::new(&db, &alice, berlin());
    let theirs = views.create(
        name("G"),
        filter(json!({"project": garden.id.to_string()})),
        &env(2),
    );
    assert!(
        matches!(&theirs, Err(ViewError::Invalid(e)) if e.field == "filter.project"),
        "another user's project is no project: {theirs:?}"
    );
    let projects = Projects::new(&db, &alice);
    let mine = projects
        .create(name("Garden"), ProjectPatch::default(), &env(3))
        .unwrap_or_else(|e| panic!("{e}"));
    let view = save(&views, "G", json!({"project": mine.id.to_string()}), 4);
    let spec = TaskSpec::parse(&json!({"title": "rake", "project_id": mine.id.to_string()}))
        .unwrap_or_else(|e| panic!("{e}"));
    TaskStore::new(&db, &alice)
        .create(spec, &env(5))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(views.get(view.id, now()).map(|v| v.pending).ok(), Some(1));
    projects
        .delete(mine.id, true, &env(6))
        .unwrap_or_else(|e| panic!("{e}"));
    let after = views
        .tasks(view.id, "", now())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(after.tasks.is_empty());
}

#[test]
fn bad_views_are_refused_naming_the_field() {
    let field = |body: Value| ViewPatch::parse_new(&body).map(|_| ()).map_err(|e| e.field);
    assert_eq!(field(json!({"filter": {}})), Err("name".into()));
    assert_eq!(field(json!({"name": "x"})), Err("filter".into()));
    assert_eq!(
        field(json!({"name": "  ", "filter": {}})),
        Err("name".into())
    );
    let long = "x".repeat(Name::MAX_CHARS + 1);
    assert_eq!(
        field(json!({"name": long, "filter": {}})),
        Err("name".into())
    );
    assert_eq!(
        field(json!({"name": "x", "filter": {"priority": "urgent"}})),
        Err("filter.priority".into())
    );
    assert_eq!(
        field(json!({"name": "x", "filter": {}, "pending": 3})),
        Err("pending".into())
    );
    assert_eq!(
        field(json!({"name": "x", "filter": {}, "colour": "red"})),
        Err("colour".into())
    );
    assert_eq!(field(json!(["x"])), Err("body".into()));
}

#[test]
fn a_user_may_save_a_bounded_number_of_views() {
    let db = database();
    let alice = user("alice");
    let views = Views::new(&db, &alice, berlin());
    for n in 0..MAX_PER_USER {
        save(&views, &format!("view {n}"), json!({}), u128::from(n) + 1);
    }
    let over = views.create(name("one more"), filter(json!({})), &env(1000));
    assert!(
        matches!(over, Err(ViewError::TooMany(MAX_PER_USER))),
        "{over:?}"
    );
}
