//! The use cases against fakes of the ports (named as fakes: they are not
//! Dapr): a state store with ETags and injectable lost races, and a transport
//! that records what would be sent to daprd.

use chrono::DateTime;
use dapr::fakes::{FakeStateStore, RecordingTransport};
use dapr::{Dapr, DaprError, StateStore, Write};
use futures::executor::block_on;
use serde_json::{Value, json};

use super::*;
use crate::{FieldError, Problem};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T12:00:00.123Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn env() -> Env {
    Env {
        now: now(),
        random: 0x2a,
    }
}

fn alice() -> UserId {
    UserId::parse("alice").unwrap_or_else(|| panic!("a user id"))
}

fn spec(body: Value) -> TaskSpec {
    TaskSpec::parse(&body).unwrap_or_else(|e| panic!("{e}"))
}

fn patch(body: Value) -> TaskPatch {
    TaskPatch::parse(&body).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_created_task_is_read_back_as_it_was_answered() {
    let (store, user) = (FakeStateStore::new(), alice());
    let tasks = Tasks::new(&store, &user);
    let created =
        block_on(tasks.create(spec(json!({"title": "Pay rent"})), env())).expect("created");
    assert_eq!(block_on(tasks.get(created.id)), Ok(created.clone()));
    assert_eq!(store.keys(), vec![keys::bucket(&user, created.id)]);
}

#[test]
fn a_create_sends_daprd_one_read_and_one_conditional_transaction() {
    let transport = RecordingTransport::answering([(204, ""), (204, "")]);
    let dapr = Dapr::new("http://127.0.0.1:3500", &transport);
    let (state, user) = (dapr.state("statestore"), alice());
    let task =
        block_on(Tasks::new(&state, &user).create(spec(json!({"title": "Pay rent"})), env()))
            .expect("created");
    let key = keys::bucket(&user, task.id);
    let sent = transport.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].method, "GET");
    assert_eq!(
        sent[0].uri,
        format!(
            "http://127.0.0.1:3500/v1.0/state/statestore/{}",
            key.replace(':', "%3A")
        )
    );
    assert_eq!(sent[1].method, "POST");
    assert_eq!(
        sent[1].uri,
        "http://127.0.0.1:3500/v1.0/state/statestore/transaction"
    );
    assert_eq!(sent[1].content_type, "application/json");
    let stored = json!({"t": [{"i": task.id.to_string(), "t": "Pay rent", "a": 1_795_867_200_123_000_i64, "e": 1_795_867_200_123_000_i64}]});
    assert_eq!(
        sent[1].json(),
        json!({"operations": [{"operation": "upsert", "request": {
            "key": key, "value": stored, "etag": null, "options": {"concurrency": "first-write"}}}]})
    );
}

#[test]
fn a_write_that_keeps_losing_races_answers_conflict_and_changes_nothing() {
    let (store, user) = (FakeStateStore::new(), alice());
    let tasks = Tasks::new(&store, &user);
    let task = block_on(tasks.create(spec(json!({"title": "t"})), env())).expect("created");
    store.lose_next_races(ATTEMPTS);
    assert_eq!(
        block_on(tasks.patch(task.id, patch(json!({"title": "u"})), now())),
        Err(TaskError::Conflict)
    );
    assert_eq!(
        block_on(tasks.get(task.id)).map(|t| t.title),
        Ok(task.title.clone())
    );
    store.lose_next_races(ATTEMPTS - 1);
    let changed = block_on(tasks.patch(task.id, patch(json!({"title": "u"})), now()));
    assert_eq!(
        changed.map(|t| t.title.as_str().to_owned()),
        Ok("u".into()),
        "the last try wins"
    );
}

#[test]
fn a_change_that_changes_nothing_writes_nothing() {
    let (store, user) = (FakeStateStore::new(), alice());
    let tasks = Tasks::new(&store, &user);
    let task = block_on(tasks.create(spec(json!({"title": "t"})), env())).expect("created");
    let later = now() + chrono::Duration::minutes(1);
    block_on(tasks.complete(task.id, true, later)).expect("completed");
    let commits = store.commits().len();
    let again = block_on(tasks.complete(task.id, true, later + chrono::Duration::minutes(1)))
        .expect("idempotent");
    assert_eq!(
        again.completed_at,
        Some(later),
        "the first completion stands"
    );
    assert_eq!(store.commits().len(), commits, "nothing written");
}

#[test]
fn an_invalid_change_writes_nothing() {
    let (store, user) = (FakeStateStore::new(), alice());
    let tasks = Tasks::new(&store, &user);
    let body = json!({"title": "t", "due_at": "2026-12-01T09:00:00Z", "reminders": [{"minutes_before": 5}]});
    let task = block_on(tasks.create(spec(body), env())).expect("created");
    let commits = store.commits().len();
    let refused = block_on(tasks.patch(task.id, patch(json!({"due_at": null})), now()));
    assert_eq!(
        refused,
        Err(TaskError::Invalid(FieldError::new(
            "reminders[0].minutes_before",
            Problem::NeedsDueDate
        )))
    );
    assert_eq!(store.commits().len(), commits);
    assert_eq!(block_on(tasks.get(task.id)), Ok(task));
}

#[test]
fn another_users_task_is_not_found() {
    let store = FakeStateStore::new();
    let (alice, bob) = (
        alice(),
        UserId::parse("bob").unwrap_or_else(|| panic!("a user id")),
    );
    let task = block_on(Tasks::new(&store, &alice).create(spec(json!({"title": "mine"})), env()))
        .expect("created");
    let as_bob = Tasks::new(&store, &bob);
    assert_eq!(block_on(as_bob.get(task.id)), Err(TaskError::NotFound));
    assert_eq!(block_on(as_bob.delete(task.id)), Err(TaskError::NotFound));
    assert_eq!(
        block_on(as_bob.complete(task.id, true, now())),
        Err(TaskError::NotFound)
    );
    assert!(block_on(Tasks::new(&store, &alice).get(task.id)).is_ok());
}

#[test]
fn a_deleted_task_is_gone_and_deleting_it_again_is_not_found() {
    let (store, user) = (FakeStateStore::new(), alice());
    let tasks = Tasks::new(&store, &user);
    let task = block_on(tasks.create(spec(json!({"title": "t"})), env())).expect("created");
    assert_eq!(block_on(tasks.delete(task.id)), Ok(()));
    assert_eq!(block_on(tasks.get(task.id)), Err(TaskError::NotFound));
    assert_eq!(block_on(tasks.delete(task.id)), Err(TaskError::NotFound));
}

#[test]
fn a_listing_reads_every_bucket_and_pages() {
    let (store, user) = (FakeStateStore::new(), alice());
    let tasks = Tasks::new(&store, &user);
    for n in 0..5u128 {
        let at = Env {
            now: now() + chrono::Duration::milliseconds(n as i64),
            random: n * 7919,
        };
        block_on(tasks.create(spec(json!({"title": format!("task {n}")})), at)).expect("created");
    }
    let query = ListQuery::parse("limit=3").expect("valid");
    let first = block_on(tasks.list(&query, now())).expect("listed");
    let titles: Vec<&str> = first.tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["task 0", "task 1", "task 2"]);
    let cursor = first.next_cursor.expect("more").encode();
    let next = ListQuery::parse(&format!("limit=3&cursor={cursor}")).expect("valid");
    let second = block_on(tasks.list(&next, now())).expect("listed");
    let titles: Vec<&str> = second.tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["task 3", "task 4"]);
    assert!(second.next_cursor.is_none());
}

/// A store whose every call fails, as when daprd is down.
struct Down;

impl StateStore for Down {
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        _: &str,
    ) -> Result<Option<dapr::Versioned<T>>, DaprError> {
        Err(DaprError::Unavailable("connection refused".into()))
    }

    async fn get_many<T: serde::de::DeserializeOwned>(
        &self,
        _: &[String],
    ) -> Result<Vec<Option<dapr::Versioned<T>>>, DaprError> {
        Err(DaprError::Unavailable("connection refused".into()))
    }

    async fn commit(&self, _: &[Write]) -> Result<(), DaprError> {
        Err(DaprError::Unavailable("connection refused".into()))
    }
}

#[test]
fn a_store_that_is_down_makes_every_use_case_unavailable() {
    let user = alice();
    let tasks = Tasks::new(&Down, &user);
    let unavailable = Err(TaskError::Unavailable("connection refused".into()));
    assert_eq!(
        block_on(tasks.create(spec(json!({"title": "t"})), env())).map(|_| ()),
        unavailable
    );
    assert_eq!(
        block_on(tasks.get(TaskId::new(now(), 1))).map(|_| ()),
        unavailable
    );
    assert_eq!(
        block_on(tasks.list(&ListQuery::default(), now())).map(|_| ()),
        unavailable
    );
}
