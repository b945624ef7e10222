//! The task store on SQLite itself (in memory, through the same SQL the
//! embedded profile runs; PostgreSQL runs it end to end).

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value as Json, json};
use sql::native::Sqlite;

use super::*;
use crate::error::Exceeded;
use crate::task::query::Status;
use crate::testing::database;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T12:00:00.123Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The env of a request at `now`, its ids drawn from `n`.
fn at(now: DateTime<Utc>, n: u128) -> Env {
    Env::new(now, n, n.rotate_left(40) ^ 0x5eed)
}

fn alice() -> UserId {
    UserId::parse("alice").unwrap_or_else(|| panic!("a user id"))
}

fn spec(body: Json) -> TaskSpec {
    TaskSpec::parse(&body).unwrap_or_else(|e| panic!("{e}"))
}

fn ok<T>(result: Result<T, TaskError>) -> T {
    result.unwrap_or_else(|e| panic!("{e:?}"))
}

/// The user's changes: (seq, task id, event type).
fn changes(db: &Sqlite, user: &str) -> Vec<(i64, String, String)> {
    let rows = db
        .query(
            "SELECT seq, task_id, event_type FROM changes WHERE user_id = $1 ORDER BY seq",
            &[user.into()],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    rows.iter()
        .map(|r| {
            let seq = r.int(0).unwrap_or_default();
            let task = r.text(1).unwrap_or_default().to_owned();
            (seq, task, r.text(2).unwrap_or_default().to_owned())
        })
        .collect()
}

#[test]
fn migrations_apply_once_and_say_what_they_applied() {
    let db = Sqlite::in_memory().unwrap_or_else(|e| panic!("{e}"));
    let applied = sql::migrate(&db, schema::MIGRATIONS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applied, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    let again = sql::migrate(&db, schema::MIGRATIONS).unwrap_or_else(|e| panic!("{e}"));
    assert!(again.is_empty(), "applied again: {again:?}");
}

/// Copies every row of `table` (its `columns`) from `from` into `to`.
fn copy_rows(from: &Sqlite, to: &Sqlite, table: &str, columns: &str) {
    let rows = from
        .query(&format!("SELECT {columns} FROM {table}"), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    for values in rows.0 {
        let marks: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
        let insert = format!(
            "INSERT INTO {table} ({columns}) VALUES ({})",
            marks.join(", ")
        );
        to.execute(&insert, &values)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_database_of_version_1_is_upgraded_with_its_tasks_and_what_it_left_unpublished() {
    // Version 1's data: a task created and then edited; the edit's event
    // was not published yet (version 1 marked published events in
    // `changes.published_at`).
    let scratch = database();
    let user = alice();
    let tasks = TaskStore::new(&scratch, &user);
    let made = ok(tasks.create(
        spec(json!({"title": "Old", "tags": ["kept"]})),
        &at(now(), 1),
    ));
    let patch = TaskPatch::parse(&json!({"title": "Older"})).unwrap_or_else(|e| panic!("{e}"));
    ok(tasks.patch(made.task.id, patch, &at(now(), 2)));
    let old = Sqlite::in_memory().unwrap_or_else(|e| panic!("{e}"));
    let applied = sql::migrate(&old, &schema::MIGRATIONS[..1]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applied, [1]);
    copy_rows(&scratch, &old, "users", "user_id, last_change, tasks");
    copy_rows(
        &scratch,
        &old,
        "tasks",
        "user_id, id, version, completed, priority, due_at, title_key, search, body",
    );
    copy_rows(&scratch, &old, "task_tags", "user_id, task_id, tag");
    copy_rows(
        &scratch,
        &old,
        "changes",
        "user_id, seq, task_id, event_id, event_type, at, event",
    );
    ok(old
        .execute("UPDATE changes SET published_at = at WHERE seq = 1", &[])
        .map_err(TaskError::from));

    // The app's next request brings it to the newest version.
    let storage = ok(Storage::of(Box::new(old)));
    let queued = |storage: &Storage| -> Vec<i64> {
        let rows = ok(storage
            .query("SELECT seq FROM outbox ORDER BY seq", &[])
            .map_err(TaskError::from));
        rows.iter().map(|r| r.int(0).unwrap_or_default()).collect()
    };
    assert_eq!(queued(&storage), [2], "what version 1 left unpublished");
    let tasks = storage.tasks(&user);
    let task = ok(tasks.get(made.task.id));
    assert_eq!((task.title.as_str(), task.tags.len()), ("Older", 1));
    let next = ok(tasks.create(spec(json!({"title": "New"})), &at(now(), 3)));
    assert_eq!(next.seq, Some(3));
    assert_eq!(queued(&storage), [2, 3]);
}

#[test]
fn a_created_task_is_read_back_as_it_was_answered_with_its_change_recorded() {
    let db = database();
    let user = alice();
    let tasks = TaskStore::new(&db, &user);
    let written = ok(tasks.create(
        spec(json!({"title": "Pay rent", "tags": ["home"], "priority": "high"})),
        &at(now(), 1),
    ));
    assert_eq!(ok(tasks.get(written.task.id)), written.task);
    assert_eq!(written.seq, Some(1));
    assert_eq!(
        changes(&db, "alice"),
        [(1, written.task.id.to_string(), "created".to_owned())]
    );
    let event = written.event.unwrap_or_else(|| panic!("an event"));
    assert_eq!(event.event.task, written.task);
}

#[test]
fn many_tasks_made_at_once_are_numbered_in_order_each_with_its_change_and_tags() {
    let db = database();
    let user = alice();
    let tasks = TaskStore::new(&db, &user).limited(Limits {
        tasks_per_user: 260,
        ..Limits::default()
    });
    ok(tasks.create(spec(json!({"title": "Before"})), &at(now(), 1)));
    let made: Vec<Task> = (0..250u128)
        .map(|i| {
            let body =
                json!({"title": format!("Task {i}"), "tags": ["bulk", format!("t{}", i % 3)]});
            let id = TaskId::new(now() + Duration::milliseconds(i as i64), 1000 + i);
            spec(body)
                .create(id, now())
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let written = ok(sql::transaction(&db, |_| {
        tasks.create_many(&made, &at(now(), 2)).map(Finish::Commit)
    }));
    let seqs: Vec<i64> = written.iter().filter_map(|w| w.seq).collect();
    assert_eq!(seqs, (2..252).collect::<Vec<_>>());
    let recorded = changes(&db, "alice");
    assert_eq!(recorded.len(), 251);
    assert_eq!(
        recorded[250],
        (251, made[249].id.to_string(), "created".to_owned())
    );
    let events: std::collections::HashSet<_> = (written.iter())
        .filter_map(|w| Some(w.event.as_ref()?.event.event_id))
        .collect();
    assert_eq!(events.len(), 250, "an event id each");
    let tagged = ok(tasks.list(
        &ok(ListQuery::parse("tag=t1&limit=200").map_err(TaskError::Invalid)),
        now(),
    ));
    assert_eq!(tagged.tasks.len(), 83);
    assert_eq!(ok(tasks.get(made[7].id)), made[7]);
    // Past the user's limit: nothing.
    let more: Vec<Task> = (made.iter().take(10).zip(9_000u128..))
        .map(|(t, n)| Task {
            id: TaskId::new(now(), n),
            ..t.clone()
        })
        .collect();
    let refused = sql::transaction(&db, |_| {
        tasks.create_many(&more, &at(now(), 3)).map(Finish::Commit)
    });
    assert!(
        matches!(refused, Err(TaskError::Exceeded(_))),
        "{refused:?}"
    );
    assert_eq!(changes(&db, "alice").len(), 251);
}

#[test]
fn a_deleted_task_is_brought_back_as_it_was_once() {
    let db = database();
    let user = alice();
    let tasks = TaskStore::new(&db, &user);
    let made = ok(tasks.create(
        spec(
            json!({"title": "Dentist", "tags": ["health"], "priority": "high",
                    "due_at": "2026-12-10T09:00:00+01:00", "time_zone": "Europe/Paris",
                    "reminders": [{"minutes_before": 60}], "steps": ["call", "go"]}),
        ),
        &at(now(), 1),
    ))
    .task;
    ok(tasks.delete(made.id, &at(now(), 2)));
    assert!(matches!(tasks.get(made.id), Err(TaskError::NotFound)));
    let later = now() + Duration::hours(1);
    let back = ok(tasks.restore(made.id, &at(later, 3)));
    assert_eq!(
        back.task,
        Task {
            updated_at: later,
            ..made.clone()
        }
    );
    assert_eq!(ok(tasks.get(made.id)), back.task);
    // Its reminder is armed again, and its tag finds it.
    assert_eq!(back.task.pending_reminders().count(), 1);
    let query = ListQuery::parse("tag=health").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ok(tasks.list(&query, later)).tasks,
        std::slice::from_ref(&back.task)
    );
    let kinds: Vec<String> = changes(&db, "alice").into_iter().map(|c| c.2).collect();
    assert_eq!(kinds, ["created", "deleted", "created"]);
    // Standing, it is not brought back again; a task never had is not found.
    let again = tasks.restore(made.id, &at(later, 4));
    assert!(matches!(again, Err(TaskError::NotDeleted)), "{again:?}");
    let never = tasks.restore(TaskId::new(later, 99), &at(later, 5));
    assert!(matches!(never, Err(TaskError::NotFound)), "{never:?}");
    assert_eq!(changes(&db, "alice").len(), 3);
}

#[test]
fn changes_are_numbered_per_user_without_gaps_and_a_change_of_nothing_draws_no_number() {
    let db = database();
    let (alice, bob) = (
        alice(),
        UserId::parse("bob").unwrap_or_else(|| panic!("bob")),
    );
    let (mine, theirs) = (TaskStore::new(&db, &alice), TaskStore::new(&db, &bob));
    let first = ok(mine.create(spec(json!({"title": "a"})), &at(now(), 1))).task;
    ok(theirs.create(spec(json!({"title": "b"})), &at(now(), 2)));
    ok(mine.complete(first.id, true, &at(now(), 3)));
    let unchanged = ok(mine.complete(first.id, true, &at(now(), 4)));
    assert!(unchanged.event.is_none() && unchanged.seq.is_none());
    ok(mine.delete(first.id, &at(now(), 5)));
    let kinds: Vec<(i64, String)> = changes(&db, "alice")
        .into_iter()
        .map(|(seq, _, kind)| (seq, kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (1, "created".to_owned()),
            (2, "completed".to_owned()),
            (3, "deleted".to_owned())
        ]
    );
    assert_eq!(changes(&db, "bob").len(), 1);
    assert!(matches!(mine.get(first.id), Err(TaskError::NotFound)));
    assert!(matches!(theirs.get(first.id), Err(TaskError::NotFound)));
}

#[test]
fn a_create_past_the_task_limit_is_refused_and_changes_nothing() {
    let db = database();
    let user = alice();
    let limits = Limits {
        tasks_per_user: 2,
        ..Limits::default()
    };
    let tasks = TaskStore::new(&db, &user).limited(limits);
    let one = ok(tasks.create(spec(json!({"title": "one"})), &at(now(), 1))).task;
    ok(tasks.create(spec(json!({"title": "two"})), &at(now(), 2)));
    let refused = tasks.create(spec(json!({"title": "three"})), &at(now(), 3));
    assert!(
        matches!(refused, Err(TaskError::Exceeded(Exceeded::Tasks(2)))),
        "{refused:?}"
    );
    assert_eq!(changes(&db, "alice").len(), 2);
    // A deleted task makes room at once: the count is the transaction's.
    ok(tasks.delete(one.id, &at(now(), 4)));
    ok(tasks.create(spec(json!({"title": "three"})), &at(now(), 5)));
}

/// A create's `body` with `key`, as the API reads it.
fn keyed(key: &str, body: &Json) -> (TaskSpec, Once) {
    let bytes = body.to_string();
    let once = Once::of(Some(key.as_bytes()), bytes.as_bytes());
    let once = once
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("a key"));
    (spec(body.clone()), once)
}

#[test]
fn a_keyed_create_sent_again_answers_the_first_answer_and_creates_nothing() {
    let db = database();
    let user = alice();
    let tasks = TaskStore::new(&db, &user);
    let body = json!({"title": "pay rent", "tags": ["bills"]});
    let (spec1, once) = keyed("k-1", &body);
    let Created::New(written, first) = ok(tasks.create_once(spec1, &once, &at(now(), 1))) else {
        panic!("the first request created nothing");
    };
    let answered: Task = serde_json::from_str(&first).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answered, written.task);
    // The task changes after; the same request a minute later still gets
    // the first answer, and nothing is created.
    ok(tasks.complete(written.task.id, true, &at(now(), 2)));
    let (spec2, again) = keyed("k-1", &body);
    let later = now() + Duration::minutes(1);
    match ok(tasks.create_once(spec2, &again, &at(later, 3))) {
        Created::Again(answer) => {
            assert_eq!(answer, first);
            // As the chat's tools read it: the task as it was made.
            assert_eq!(ok(Created::Again(answer).task()), written.task);
        }
        Created::New(..) => panic!("created twice"),
    }
    assert_eq!(changes(&db, "alice").len(), 2);
    // The same key with another body is refused and changes nothing.
    let (other, reused) = keyed("k-1", &json!({"title": "pay rent twice"}));
    let refused = tasks.create_once(other, &reused, &at(later, 4));
    assert!(matches!(refused, Err(TaskError::KeyReused)), "{refused:?}");
    assert_eq!(changes(&db, "alice").len(), 2);
    // Keys are the user's own: bob's k-1 is a task of his.
    let bob = UserId::parse("bob").unwrap_or_else(|| panic!("a user id"));
    let (spec3, his) = keyed("k-1", &body);
    let made = ok(TaskStore::new(&db, &bob).create_once(spec3, &his, &at(later, 5)));
    assert!(matches!(made, Created::New(..)), "{made:?}");
}

#[test]
fn a_refused_keyed_create_keeps_no_key_and_a_key_is_forgotten_after_a_week() {
    let db = database();
    let user = alice();
    let limits = Limits {
        tasks_per_user: 1,
        ..Limits::default()
    };
    let tasks = TaskStore::new(&db, &user).limited(limits);
    let one = ok(tasks.create(spec(json!({"title": "one"})), &at(now(), 1))).task;
    let body = json!({"title": "two"});
    let (spec1, once) = keyed("k-2", &body);
    let refused = tasks.create_once(spec1, &once, &at(now(), 2));
    assert!(
        matches!(refused, Err(TaskError::Exceeded(_))),
        "{refused:?}"
    );
    // Room made, the same request creates the task: its key was not kept.
    ok(tasks.delete(one.id, &at(now(), 3)));
    let (spec2, again) = keyed("k-2", &body);
    let made = ok(tasks.create_once(spec2, &again, &at(now(), 4)));
    assert!(
        matches!(made, Created::New(..)),
        "a refused create's key was kept"
    );
    // Eight days on, another keyed create forgets it: the key is new again.
    let tasks = TaskStore::new(&db, &user);
    let later = now() + Duration::days(8);
    let (spec3, other) = keyed("k-3", &json!({"title": "three"}));
    ok(tasks.create_once(spec3, &other, &at(later, 6)));
    let (spec4, old) = keyed("k-2", &body);
    let made = ok(tasks.create_once(spec4, &old, &at(later, 7)));
    assert!(matches!(made, Created::New(..)), "{made:?}");
}

#[test]
fn a_completion_repeats_a_task_once_however_often_it_is_delivered() {
    let db = database();
    let user = alice();
    let tasks = TaskStore::new(&db, &user);
    let daily = ok(tasks.create(
        spec(
            json!({"title": "water plants", "due_at": "2026-11-28T09:00:00Z",
                    "recurrence": "FREQ=DAILY"}),
        ),
        &at(now(), 1),
    ))
    .task;
    let done = ok(tasks.complete(daily.id, true, &at(now(), 2))).task;
    let next = ok(tasks.repeat(&done, &at(now(), 3))).unwrap_or_else(|| panic!("next"));
    assert_eq!(
        next.task.due_at.map(|d| d.to_rfc3339()),
        Some("2026-11-29T09:00:00+00:00".to_owned())
    );
    // Delivered again, even after both were deleted: nothing more.
    ok(tasks.delete(done.id, &at(now(), 4)));
    ok(tasks.delete(next.task.id, &at(now(), 5)));
    assert!(ok(tasks.repeat(&done, &at(now(), 6))).is_none());
    let created = changes(&db, "alice")
        .into_iter()
        .filter(|(_, _, kind)| kind == "created")
        .count();
    assert_eq!(created, 2);
}

#[test]
fn an_edit_that_breaks_a_rule_is_refused_and_changes_nothing() {
    let db = database();
    let user = alice();
    let tasks = TaskStore::new(&db, &user);
    let task = ok(tasks.create(spec(json!({"title": "a"})), &at(now(), 1))).task;
    let patch = TaskPatch::parse(&json!({"title": ""}));
    assert!(patch.is_err(), "an empty title is refused at the edge");
    let refused = tasks.update(task.id, &at(now(), 2), |_| Err(TaskError::Conflict));
    assert!(matches!(refused, Err(TaskError::Conflict)));
    assert_eq!(ok(tasks.get(task.id)), task);
    assert_eq!(changes(&db, "alice").len(), 1);
    assert!(matches!(
        tasks.complete(TaskId::new(now(), 99), true, &at(now(), 3)),
        Err(TaskError::NotFound)
    ));
}

#[test]
fn tags_are_kept_in_step_with_their_task() {
    let db = database();
    let user = alice();
    let tasks = TaskStore::new(&db, &user);
    let task = ok(tasks.create(
        spec(json!({"title": "a", "tags": ["home", "work"]})),
        &at(now(), 1),
    ))
    .task;
    let by_tag = |tag: &str| {
        let query = ListQuery::parse(&format!("tag={tag}")).unwrap_or_else(|e| panic!("{e}"));
        ok(tasks.list(&query, now())).tasks.len()
    };
    assert_eq!((by_tag("home"), by_tag("work")), (1, 1));
    let patch = TaskPatch::parse(&json!({"tags": ["garden"]})).unwrap_or_else(|e| panic!("{e}"));
    ok(tasks.patch(task.id, patch, &at(now(), 2)));
    assert_eq!((by_tag("home"), by_tag("garden")), (0, 1));
    ok(tasks.delete(task.id, &at(now(), 3)));
    assert_eq!(by_tag("garden"), 0);
}

// --- Listings through SQL equal listings computed in memory -------------------

mod listings {
    use proptest::prelude::*;

    use super::*;
    use crate::task::query::{Order, SortField};

    #[derive(Debug, Clone)]
    enum Op {
        Create {
            title: usize,
            priority: usize,
            due: Option<i64>,
            tags: Vec<usize>,
            described: usize,
            project: usize,
        },
        Patch {
            task: usize,
            title: usize,
            priority: usize,
            due: Option<Option<i64>>,
        },
        Complete {
            task: usize,
            completed: bool,
        },
        Delete {
            task: usize,
        },
        Move {
            task: usize,
            project: usize,
        },
        Place {
            task: usize,
            anchor: usize,
            how: usize,
        },
    }

    const TITLES: [&str; 5] = ["alpha", "Beta report", "gamma", "report delta", "Ärger"];
    const PRIORITIES: [&str; 4] = ["none", "low", "medium", "high"];
    const TAGS: [&str; 3] = ["home", "work", "50%_off"];
    const DESCRIPTIONS: [Option<&str>; 3] = [None, Some("the quarterly REPORT"), Some("x_y")];

    fn arb_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (
                0..5usize,
                0..4usize,
                prop::option::of(-6i64..6),
                prop::collection::vec(0..3usize, 0..3),
                0..3usize,
                0..3usize
            )
                .prop_map(|(title, priority, due, tags, described, project)| Op::Create {
                    title,
                    priority,
                    due,
                    tags,
                    described,
                    project
                }),
            1 => (0..30usize, 0..5usize, 0..4usize, prop::option::of(prop::option::of(-6i64..6)))
                .prop_map(|(task, title, priority, due)| Op::Patch {
                    task,
                    title,
                    priority,
                    due
                }),
            1 => (0..30usize, any::<bool>())
                .prop_map(|(task, completed)| Op::Complete { task, completed }),
            1 => (0..30usize).prop_map(|task| Op::Delete { task }),
            1 => (0..30usize, 0..3usize).prop_map(|(task, project)| Op::Move { task, project }),
            2 => (0..30usize, 0..30usize, 0..4usize)
                .prop_map(|(task, anchor, how)| Op::Place { task, anchor, how }),
        ]
    }

    fn due(hours: i64) -> String {
        (now() + Duration::hours(hours)).to_rfc3339()
    }

    fn arb_query() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["", "status=pending", "status=completed", "status=all"]),
            prop::sample::select(vec!["", "priority=high", "priority=low,none"]),
            prop::sample::select(vec![
                "",
                "tag=home",
                "tag=50%25_off",
                "tag=home&tag=work",
                "project=inbox",
                "project=@1",
                "tag=home&project=@2",
            ]),
            prop::sample::select(vec!["", "q=report", "q=REP+alpha", "q=_", "q=%C3%A4rg"]),
            prop::sample::select(vec![
                "",
                "overdue=true",
                "overdue=false",
                "due_after=2026-11-28T10:00:00Z",
                "due=no_date",
                "due=this_week",
                "due=today&due_after=2026-11-28T10:00:00Z",
            ]),
            prop::sample::select(vec!["created_at", "due_at", "priority", "title", "order"]),
            prop::sample::select(vec!["asc", "desc"]),
            1..5usize,
        )
            .prop_map(|(status, priority, tag, q, due, sort, order, limit)| {
                let mut parts: Vec<String> = [status, priority, tag, q, due]
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect();
                parts.push(format!("sort={sort}&order={order}&limit={limit}"));
                parts.join("&")
            })
    }

    /// The Inbox and two projects of alice's in `db`, as the API names
    /// them.
    fn projects(db: &Sqlite) -> [String; 3] {
        let user = alice();
        let projects = crate::project::Projects::new(db, &user);
        let make = |name: &str, n| {
            let name = crate::project::Name::parse(name).unwrap_or_else(|e| panic!("{e}"));
            let made = projects.create(name, Default::default(), &at(now(), n));
            made.unwrap_or_else(|e| panic!("{e}")).id.to_string()
        };
        [
            "inbox".to_owned(),
            make("One", 1 << 70),
            make("Two", 2 << 70),
        ]
    }

    fn apply(
        tasks: &TaskStore<'_, Sqlite>,
        projects: &[String; 3],
        ids: &mut Vec<TaskId>,
        op: &Op,
        n: u128,
    ) {
        let env = at(now(), n);
        let pick = |i: usize| (!ids.is_empty()).then(|| ids[i % ids.len()]);
        let written = match op {
            Op::Create {
                title,
                priority,
                due: hours,
                tags,
                described,
                project,
            } => {
                let tags: Vec<&str> = tags.iter().map(|t| TAGS[*t]).collect();
                let mut body = json!({
                    "title": TITLES[*title], "priority": PRIORITIES[*priority], "tags": tags,
                    "description": DESCRIPTIONS[*described], "project_id": projects[*project],
                });
                if let Some(hours) = hours {
                    body["due_at"] = json!(due(*hours));
                }
                tasks.create(spec(body), &env).map(|w| ids.push(w.task.id))
            }
            Op::Patch {
                task,
                title,
                priority,
                due: change,
            } => {
                let Some(id) = pick(*task) else { return };
                let mut body = json!({"title": TITLES[*title], "priority": PRIORITIES[*priority]});
                if let Some(change) = change {
                    body["due_at"] = change.map_or(Json::Null, |h| json!(due(h)));
                }
                let patch = TaskPatch::parse(&body).unwrap_or_else(|e| panic!("{e}"));
                tasks.patch(id, patch, &env).map(|_| ())
            }
            Op::Complete { task, completed } => {
                let Some(id) = pick(*task) else { return };
                tasks.complete(id, *completed, &env).map(|_| ())
            }
            Op::Delete { task } => {
                let Some(id) = pick(*task) else { return };
                let deleted = tasks.delete(id, &env).map(|_| ());
                ids.retain(|i| *i != id);
                deleted
            }
            Op::Place { task, anchor, how } => {
                let (Some(id), Some(anchor)) = (pick(*task), pick(*anchor)) else {
                    return;
                };
                let place = [
                    Place::Top,
                    Place::Bottom,
                    Place::Before(anchor),
                    Place::After(anchor),
                ][*how];
                match tasks.place(id, None, place, &env) {
                    // An anchor in another project, or the task itself.
                    Err(TaskError::Invalid(e)) if matches!(*how, 2 | 3) => {
                        assert!(e.field == "before" || e.field == "after", "{e}");
                        Ok(())
                    }
                    placed => placed.map(|_| ()),
                }
            }
            Op::Move { task, project } => {
                let Some(id) = pick(*task) else { return };
                let patch = TaskPatch::parse(&json!({"project_id": projects[*project]}))
                    .unwrap_or_else(|e| panic!("{e}"));
                tasks.patch(id, patch, &env).map(|_| ())
            }
        };
        written.unwrap_or_else(|e| panic!("{op:?}: {e:?}"));
    }

    /// Every page of `query` through SQL, then the same computed in memory
    /// over all the user's tasks, following the cursors of each.
    fn both_ways(
        tasks: &TaskStore<'_, Sqlite>,
        all: &[Task],
        raw: &str,
    ) -> (Vec<Vec<TaskId>>, Vec<Vec<TaskId>>) {
        let mut query = ListQuery::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        let zone = crate::TimeZone::parse("America/New_York").unwrap_or_default();
        query.resolve(now(), zone);
        let (mut through_sql, mut in_memory) = (Vec::new(), Vec::new());
        let mut cursor = None;
        loop {
            let page_query = ListQuery {
                cursor: cursor.clone(),
                ..query.clone()
            };
            let page = ok(tasks.list(&page_query, now()));
            through_sql.push(page.tasks.iter().map(|t| t.id).collect());
            cursor = page.next_cursor;
            if cursor.is_none() || through_sql.len() > all.len() + 1 {
                break;
            }
        }
        let mut cursor = None;
        loop {
            let page_query = ListQuery {
                cursor: cursor.clone(),
                ..query.clone()
            };
            let page = page_query.page(all, now());
            in_memory.push(page.tasks.iter().map(|t| t.id).collect());
            cursor = page.next_cursor;
            if cursor.is_none() || in_memory.len() > all.len() + 1 {
                break;
            }
        }
        (through_sql, in_memory)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn listings_through_sql_equal_listings_computed_in_memory(
            ops in prop::collection::vec(arb_op(), 1..40),
            queries in prop::collection::vec(arb_query(), 1..6),
        ) {
            let db = database();
            let user = alice();
            let tasks = TaskStore::new(&db, &user);
            let projects = projects(&db);
            let mut ids = Vec::new();
            for (n, op) in ops.iter().enumerate() {
                apply(&tasks, &projects, &mut ids, op, n as u128 + 1);
            }
            let everything = ListQuery {
                status: Status::All,
                limit: ListQuery::MAX_LIMIT,
                ..ListQuery::default()
            };
            let all = ok(tasks.list(&everything, now())).tasks;
            prop_assert_eq!(all.len(), ids.len());
            for raw in &queries {
                let raw = raw.replace("@1", &projects[1]).replace("@2", &projects[2]);
                let (through_sql, in_memory) = both_ways(&tasks, &all, &raw);
                prop_assert_eq!(through_sql, in_memory, "query {}", raw);
            }
        }
    }

    #[test]
    fn every_sort_and_order_pages_through_every_task_once() {
        let db = database();
        let user = alice();
        let tasks = TaskStore::new(&db, &user);
        let projects = projects(&db);
        let mut ids = Vec::new();
        for n in 0..25u128 {
            let op = Op::Create {
                title: (n % 5) as usize,
                priority: (n % 4) as usize,
                due: (n % 3 != 0).then_some((n % 7) as i64 - 3),
                tags: vec![(n % 3) as usize],
                described: (n % 3) as usize,
                project: (n % 3) as usize,
            };
            apply(&tasks, &projects, &mut ids, &op, n + 1);
        }
        for sort in [
            SortField::CreatedAt,
            SortField::DueAt,
            SortField::Priority,
            SortField::Title,
            SortField::Order,
        ] {
            for order in [Order::Asc, Order::Desc] {
                let raw = format!(
                    "sort={}&order={}&limit=4",
                    serde_json::to_value(sort)
                        .unwrap_or_default()
                        .as_str()
                        .unwrap_or_default(),
                    serde_json::to_value(order)
                        .unwrap_or_default()
                        .as_str()
                        .unwrap_or_default()
                );
                let all = ok(tasks.list(
                    &ListQuery {
                        limit: 200,
                        ..ListQuery::default()
                    },
                    now(),
                ))
                .tasks;
                let (through_sql, in_memory) = both_ways(&tasks, &all, &raw);
                assert_eq!(through_sql, in_memory, "{raw}");
                let mut seen: Vec<TaskId> = through_sql.into_iter().flatten().collect();
                seen.sort();
                let mut expected = ids.clone();
                expected.sort();
                assert_eq!(seen, expected, "{raw}");
            }
        }
    }
}

#[test]
fn moves_by_hand_keep_one_order_with_every_task_once() {
    let db = database();
    let user = alice();
    let tasks = TaskStore::new(&db, &user);
    let ids: Vec<TaskId> = (1..=5u128)
        .map(|n| {
            ok(tasks.create(spec(json!({"title": format!("t{n}")})), &at(now(), n)))
                .task
                .id
        })
        .collect();
    let order = |tasks: &TaskStore<'_, Sqlite>| -> Vec<TaskId> {
        let query = ListQuery::parse("sort=order&limit=200").unwrap_or_else(|e| panic!("{e}"));
        ok(tasks.list(&query, now()))
            .tasks
            .iter()
            .map(|t| t.id)
            .collect()
    };
    assert_eq!(order(&tasks), ids, "creation order until moved");
    ok(tasks.place(ids[4], None, Place::Top, &at(now(), 10)));
    ok(tasks.place(ids[0], None, Place::After(ids[2]), &at(now(), 11)));
    ok(tasks.place(ids[3], None, Place::Before(ids[1]), &at(now(), 12)));
    assert_eq!(order(&tasks), [ids[4], ids[3], ids[1], ids[2], ids[0]]);
    // Again and again at one place: the keys grow until they are spread.
    for n in 0..200u128 {
        let (moving, anchor) = if n % 2 == 0 {
            (ids[0], ids[1])
        } else {
            (ids[1], ids[0])
        };
        ok(tasks.place(moving, None, Place::After(anchor), &at(now(), 100 + n)));
    }
    let last = order(&tasks);
    assert_eq!(last.len(), 5);
    assert_eq!(&last[..2], [ids[4], ids[3]]);
    let moved = ok(tasks.get(ids[1]));
    assert!(
        moved
            .order
            .is_some_and(|k| k.len() <= crate::task::rank::LONGEST)
    );
    // The move is a change of the task's `order`; the same place again is none.
    let again = ok(tasks.place(ids[4], None, Place::Top, &at(now(), 400)));
    assert!(again.event.is_none());
    let refused = tasks.place(ids[4], None, Place::Before(ids[4]), &at(now(), 401));
    assert!(matches!(refused, Err(TaskError::Invalid(e)) if e.field == "before"));
}
