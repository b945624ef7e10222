//! Reminders end to end: a task's reminders become Dapr jobs (the reminder
//! scheduler, on task-events), fire through the real scheduler and daprd
//! (the job callback, which publishes on `reminders`), and land in the
//! user's inbox (the notifier), read through the notifications API. On the
//! embedded profile and on the full one (Kafka, PostgreSQL).
//!
//! Reminders are set a few seconds ahead; each scenario waits for them
//! and a little beyond, to see that nothing else comes.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use e2e::{Client, Scenario, Stack, complete, create, eventually, id};
use serde_json::{Value, json};

const SCENARIOS: &[(&str, Scenario)] = &[
    ("a_reminder_arrives_in_the_inbox_once", arrives_once),
    (
        "a_moved_reminder_moves_and_a_cancelled_one_never_comes",
        moved_and_cancelled,
    ),
    ("a_repeating_tasks_next_occurrence_is_reminded", repeating),
    ("notifications_are_the_owners_alone", owners_alone),
];

fn main() {
    e2e::run_trials(SCENARIOS, &[])
}

/// How long after its time a reminder is looked for before the scenario
/// decides that no (other) reminder comes.
const QUIET: Duration = Duration::from_secs(3);

/// `seconds` from now, as RFC 3339 (UTC, milliseconds).
fn in_seconds(seconds: i64) -> String {
    (Utc::now() + chrono::Duration::seconds(seconds)).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn instant(value: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value.as_str()?)
        .ok()
        .map(|at| at.to_utc())
}

/// Every notification of `user`, newest first.
fn inbox(client: &Client, user: &str, query: &str) -> anyhow::Result<Vec<Value>> {
    let reply = client.get(&format!("/api/{user}/notifications?{query}"));
    anyhow::ensure!(reply.status == 200, "the inbox: {reply:?}");
    Ok(reply.body["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// The notifications of `task`, once there are `n` of them.
fn reminded(client: &Client, user: &str, task: &Value, n: usize) -> anyhow::Result<Vec<Value>> {
    eventually(&format!("{n} reminders of {}", id(task)), || {
        let of_task: Vec<Value> = inbox(client, user, "")
            .ok()?
            .into_iter()
            .filter(|n| n["task_id"] == task["id"])
            .collect();
        (of_task.len() >= n).then_some(of_task)
    })
}

/// Whether job `name` is scheduled, as daprd says (it answers one that is
/// not with a 500 saying so).
fn scheduled(stack: &Stack, name: &str) -> anyhow::Result<bool> {
    let url = format!("http://127.0.0.1:{}/v1.0/jobs/{name}", stack.dapr_port);
    let mut response = ureq::get(&url)
        .config()
        .http_status_as_error(false)
        .build()
        .call()?;
    let (status, body) = (response.status(), response.body_mut().read_to_string()?);
    match status.as_u16() {
        200 => Ok(true),
        404 => Ok(false),
        _ if body.contains("not found") => Ok(false),
        _ => anyhow::bail!("job {name}: {status} {body}"),
    }
}

/// Waits until `at` and [`QUIET`] more.
fn wait_past(at: &str) {
    let at = instant(&json!(at)).unwrap_or_else(Utc::now);
    let left = (at - Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(left + QUIET);
}

fn arrives_once(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let (remind_at, due_at) = (in_seconds(3), in_seconds(3600));
    let task = create(
        &client,
        user,
        json!({"title": "Call the bank", "due_at": due_at, "reminders": [{"at": remind_at}]}),
    )?;
    let fires_at = &task["reminders"][0]["fires_at"];
    anyhow::ensure!(instant(fires_at) == instant(&json!(remind_at)), "{task}");
    let notes = reminded(&client, user, &task, 1)?;
    let note = &notes[0];
    anyhow::ensure!(note["title"] == "Call the bank", "{note}");
    anyhow::ensure!(instant(&note["remind_at"]) == instant(fires_at), "{note}");
    anyhow::ensure!(
        instant(&note["due_at"]) == instant(&task["due_at"]),
        "{note}"
    );
    anyhow::ensure!(note["read"] == false, "{note}");
    let delivered = instant(&note["delivered_at"]).unwrap_or_default();
    let late = delivered - instant(fires_at).unwrap_or_default();
    anyhow::ensure!(late >= chrono::Duration::zero(), "delivered early: {note}");
    wait_past(&remind_at);
    let notes = reminded(&client, user, &task, 1)?;
    anyhow::ensure!(notes.len() == 1, "once: {notes:#?}");
    // Read, it leaves the unread ones.
    let path = format!(
        "/api/{user}/notifications/{}",
        note["id"].as_str().unwrap_or_default()
    );
    let marked = client.patch(&path, &json!({"read": true}));
    anyhow::ensure!(
        marked.status == 200 && marked.body["read"] == true,
        "{marked:?}"
    );
    anyhow::ensure!(inbox(&client, user, "unread=true")?.is_empty());
    anyhow::ensure!(inbox(&client, user, "unread=false")?.len() == 1);
    Ok(())
}

fn moved_and_cancelled(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    // Reminded a minute before a due date a minute and some seconds ahead:
    // the moved one in 4 s, the ones to cancel in 8 s.
    let reminder = json!([{"minutes_before": 1}]);
    let task = |title: &str, seconds: i64| {
        let body =
            json!({"title": title, "due_at": in_seconds(60 + seconds), "reminders": reminder});
        create(&client, user, body)
    };
    let moved = task("moved", 4)?;
    let cancelled = [
        task("completed", 8)?,
        task("deleted", 8)?,
        task("removed", 8)?,
    ];
    let job = |task: &Value| format!("reminder-{}-0", id(task));
    for task in &cancelled {
        eventually(&format!("the job of {}", task["title"]), || {
            scheduled(stack, &job(task)).ok()?.then_some(())
        })?;
    }
    let past = create(
        &client,
        user,
        json!({"title": "past", "reminders": [{"at": in_seconds(-5)}]}),
    )?;
    anyhow::ensure!(past["reminders"][0]["fires_at"].is_null(), "{past}");
    // Moved two seconds later: it fires then, and not at the old time.
    let new_due = in_seconds(66);
    let path = |task: &Value| format!("/api/{user}/tasks/{}", id(task));
    let reply = client.patch(&path(&moved), &json!({"due_at": new_due}));
    anyhow::ensure!(reply.status == 200, "{reply:?}");
    let fires_at = reply.body["reminders"][0]["fires_at"].clone();
    let [completed, deleted, removed] = &cancelled;
    complete(&client, user, completed, true)?;
    anyhow::ensure!(client.delete(&path(deleted)).status == 204);
    let reply = client.patch(&path(removed), &json!({"reminders": []}));
    anyhow::ensure!(reply.status == 200, "{reply:?}");
    // Their jobs are gone from the scheduler before they were due, not
    // only ignored when fired.
    for task in &cancelled {
        eventually(&format!("the job of {} deleted", task["title"]), || {
            (!scheduled(stack, &job(task)).ok()?).then_some(())
        })?;
        let due = instant(&task["reminders"][0]["fires_at"]).unwrap_or_default();
        let title = &task["title"];
        anyhow::ensure!(
            Utc::now() < due,
            "the job of {title} was still there when due"
        );
    }
    let notes = reminded(&client, user, &moved, 1)?;
    anyhow::ensure!(
        instant(&notes[0]["remind_at"]) == instant(&fires_at),
        "{notes:#?}"
    );
    let last = &cancelled[0]["reminders"][0]["fires_at"];
    wait_past(last.as_str().unwrap_or_default());
    let titles: Vec<Value> = inbox(&client, user, "")?
        .iter()
        .map(|n| n["title"].clone())
        .collect();
    anyhow::ensure!(titles == [json!("moved")], "only the moved one: {titles:?}");
    Ok(())
}

fn repeating(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    // Hourly, last due 58 minutes and 56 seconds ago: the next one is due in
    // a minute and four seconds, and reminded a minute before it.
    let first = create(
        &client,
        user,
        json!({"title": "Stretch", "due_at": in_seconds(-3536), "recurrence": "FREQ=HOURLY",
               "reminders": [{"minutes_before": 1}]}),
    )?;
    anyhow::ensure!(first["reminders"][0]["fires_at"].is_null(), "{first}");
    complete(&client, user, &first, true)?;
    let next = eventually("the next occurrence", || {
        let reply = client.get(&format!("/api/{user}/tasks?status=pending"));
        reply.body["tasks"].as_array()?.first().cloned()
    })?;
    let fires_at = next["reminders"][0]["fires_at"].clone();
    anyhow::ensure!(!fires_at.is_null(), "the next one is reminded: {next}");
    let notes = reminded(&client, user, &next, 1)?;
    anyhow::ensure!(
        instant(&notes[0]["remind_at"]) == instant(&fires_at),
        "{notes:#?}"
    );
    Ok(())
}

fn owners_alone(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let task = create(
        &client,
        user,
        json!({"title": "Mine", "reminders": [{"at": in_seconds(2)}]}),
    )?;
    let notes = reminded(&client, user, &task, 1)?;
    let note_path = format!(
        "/api/{user}/notifications/{}",
        notes[0]["id"].as_str().unwrap_or_default()
    );
    let other = format!("{user}-other");
    let theirs = stack.client(&other);
    let foreign = theirs.get(&format!("/api/{user}/notifications"));
    anyhow::ensure!(foreign.status == 403, "another user's inbox: {foreign:?}");
    let foreign = theirs.patch(&note_path, &json!({"read": true}));
    anyhow::ensure!(foreign.status == 403, "another user's mark: {foreign:?}");
    anyhow::ensure!(inbox(&theirs, &other, "")?.is_empty());
    let own = theirs.patch(
        &format!(
            "/api/{other}/notifications/{}",
            notes[0]["id"].as_str().unwrap_or_default()
        ),
        &json!({"read": true}),
    );
    anyhow::ensure!(own.status == 404, "not in their inbox: {own:?}");
    // Bad input is refused, naming the field, and changes nothing.
    let bad = client.patch(&note_path, &json!({"read": "yes"}));
    anyhow::ensure!(bad.status == 400 && bad.field() == Some("read"), "{bad:?}");
    let bad = client.get(&format!("/api/{user}/notifications?unread=maybe"));
    anyhow::ensure!(
        bad.status == 400 && bad.field() == Some("unread"),
        "{bad:?}"
    );
    let missing = client.patch(
        &format!("/api/{user}/notifications/nope"),
        &json!({"read": true}),
    );
    anyhow::ensure!(missing.status == 404, "{missing:?}");
    anyhow::ensure!(inbox(&client, user, "unread=true")?.len() == 1);
    Ok(())
}
