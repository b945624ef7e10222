//! The event-driven core end to end: every change is recorded with its
//! history and change-feed entry in one transaction and publishes its event
//! through the app's outbox, and the consumers (the recurrence and reminder
//! components, behind real daprd) react: on the embedded profile (SQLite,
//! pubsub.in-memory) and on the full one (PostgreSQL, Kafka).
//!
//! Each scenario runs once per profile against a stack shared by that
//! profile's scenarios; scenarios keep apart by using users of their own.

use std::time::{Duration, Instant};

use anyhow::Context;

use e2e::{Client, Env, Kafka, Profile, Scenario, Stack, complete, create, eventually, id};
use serde_json::{Value, json};

const SCENARIOS: &[(&str, Scenario)] = &[
    ("history_records_every_change_newest_first", history),
    (
        "a_completed_weekly_task_brings_its_next_occurrence_once",
        weekly,
    ),
    ("count_ends_a_series_after_its_last_task", count),
    (
        "schedule_and_completion_modes_and_calendar_rules",
        calendar_rules,
    ),
    ("repeating_tasks_need_a_due_date_and_a_sane_rule", bad_rules),
    ("occurrences_preview_the_series", occurrences),
    ("a_poison_event_is_dropped_and_recorded", poison),
    ("the_safety_net_publishes_what_a_crash_left", safety_net),
    (
        "the_change_feed_has_every_change_once_in_order",
        change_feed,
    ),
];

fn main() {
    e2e::run_trials(
        SCENARIOS,
        &[
            // Killing daprd loses what pubsub.in-memory holds (ADR 8): only
            // the full profile keeps every event across it.
            (
                "every_event_arrives_once_across_a_daprd_kill",
                &[Profile::Postgres],
                daprd_killed,
            ),
            // The broker killed: one of the test's own, as the shared one
            // carries the other scenarios' events.
            (
                "every_event_arrives_once_across_a_kafka_restart",
                &[Profile::Postgres],
                kafka_restarted,
            ),
            // Its fixture is PostgreSQL's; the SQLite upgrade is a unit
            // test of the task store.
            (
                "a_database_of_version_1_is_upgraded_with_what_it_holds",
                &[Profile::Postgres],
                upgraded_from_version_1,
            ),
        ],
    )
}

/// The history of `task`, newest first, once it holds `n` entries.
fn history_of(client: &Client, user: &str, task: &str, n: usize) -> anyhow::Result<Vec<Value>> {
    eventually(&format!("{n} history entries of {task}"), || {
        let reply = client.get(&format!("/api/{user}/tasks/{task}/history"));
        let entries = reply.body["history"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (reply.status == 200 && entries.len() >= n).then_some(entries)
    })
}

/// The tasks of `user` in the series of `task`, by due date.
fn series(client: &Client, user: &str, task: &Value) -> Vec<Value> {
    let reply = client.get(&format!("/api/{user}/tasks?status=all&sort=due_at"));
    let tasks = reply.body["tasks"].as_array().cloned().unwrap_or_default();
    tasks
        .into_iter()
        .filter(|t| t["series_id"] == task["series_id"])
        .collect()
}

/// The task that repeats `task`, once the recurrence consumer made it.
fn successor(client: &Client, user: &str, task: &Value) -> anyhow::Result<Value> {
    eventually(&format!("the task after {}", id(task)), || {
        series(client, user, task)
            .into_iter()
            .find(|t| t["id"].as_str() > task["id"].as_str() && t["completed"] == false)
    })
}

fn types(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or_default())
        .collect()
}

fn history(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let task = create(&client, user, json!({"title": "Draft", "tags": ["work"]}))?;
    let path = format!("/api/{user}/tasks/{}", id(&task));
    let renamed = client.patch(&path, &json!({"title": "Final", "priority": "high"}));
    anyhow::ensure!(renamed.status == 200, "{renamed:?}");
    complete(&client, user, &task, true)?;
    anyhow::ensure!(client.delete(&path).status == 204);

    let entries = history_of(&client, user, id(&task), 4)?;
    anyhow::ensure!(
        types(&entries) == ["deleted", "completed", "updated", "created"],
        "{entries:#?}"
    );
    let update = &entries[2]["changes"];
    anyhow::ensure!(
        update
            == &json!([
                {"field": "title", "from": "Draft", "to": "Final"},
                {"field": "priority", "from": "none", "to": "high"}
            ]),
        "{update}"
    );
    anyhow::ensure!(
        entries[3]["changes"][0] == json!({"field": "title", "from": null, "to": "Draft"})
    );

    // Pages, newest first, that never skip or repeat.
    let first = client.get(&format!("{path}/history?limit=3"));
    let cursor = first.body["next_cursor"].as_str().unwrap_or_default();
    let second = client.get(&format!("{path}/history?limit=3&cursor={cursor}"));
    let paged: Vec<Value> = [&first, &second]
        .iter()
        .flat_map(|r| r.body["history"].as_array().cloned().unwrap_or_default())
        .collect();
    anyhow::ensure!(paged == entries, "pages {paged:#?}");
    anyhow::ensure!(second.body["next_cursor"].is_null());

    // Only the owner reads it; bad queries are refused by parameter.
    let other = stack.client(&format!("{user}-other"));
    let theirs = other.get(&format!("/api/{user}-other/tasks/{}/history", id(&task)));
    anyhow::ensure!(theirs.status == 404, "{theirs:?}");
    let bad = client.get(&format!("{path}/history?limit=0"));
    anyhow::ensure!(bad.status == 400 && bad.field() == Some("limit"), "{bad:?}");
    let new = create(&client, user, json!({"title": "Fresh"}))?;
    let fresh = client.get(&format!("/api/{user}/tasks/{}/history", id(&new)));
    anyhow::ensure!(fresh.status == 200, "a new task has a history: {fresh:?}");
    Ok(())
}

fn weekly(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let task = create(
        &client,
        user,
        json!({"title": "Team sync", "description": "notes", "priority": "medium", "tags": ["work"],
               "due_at": "2030-01-07T09:00", "time_zone": "Europe/Berlin",
               "reminders": [{"minutes_before": 15}], "recurrence": "FREQ=WEEKLY;BYDAY=MO"}),
    )?;
    anyhow::ensure!(
        task["series_id"] == task["id"],
        "a repeating task starts its series"
    );
    complete(&client, user, &task, true)?;
    let next = successor(&client, user, &task)?;
    for field in [
        "title",
        "description",
        "priority",
        "tags",
        "time_zone",
        "recurrence",
        "recurrence_mode",
    ] {
        anyhow::ensure!(next[field] == task[field], "{field}: {next}");
    }
    anyhow::ensure!(next["due_at"] == "2030-01-14T09:00:00+01:00", "{next}");
    // The same reminders, each placed before the next task's own due date.
    let reminders = json!([{"minutes_before": 15, "fires_at": "2030-01-14T08:45:00+01:00"}]);
    anyhow::ensure!(next["reminders"] == reminders, "{next}");
    anyhow::ensure!(next["series_id"] == task["id"], "{next}");

    // Reopening and completing again, and the same completion delivered
    // again, still make one next task.
    complete(&client, user, &task, false)?;
    let again = complete(&client, user, &task, true)?;
    republish(stack, &again, user)?;
    history_of(&client, user, id(&task), 4)?;
    std::thread::sleep(Duration::from_millis(500));
    let tasks = series(&client, user, &task);
    anyhow::ensure!(tasks.len() == 2, "one task after the first: {tasks:#?}");
    Ok(())
}

/// Publishes a `completed` event of `task` through daprd, as if the outbox
/// had sent it a second time, on the recurrence consumer's topic.
fn republish(stack: &Stack, task: &Value, user: &str) -> anyhow::Result<()> {
    let event_id = ulid::Ulid::new().to_string();
    let event = json!({
        "specversion": "1.0", "id": event_id, "source": "e2e", "type": "task.completed",
        "datacontenttype": "application/json",
        "data": {"event_id": event_id, "event_type": "completed", "task_id": task["id"], "user_id": user,
                 "task": task, "changes": [], "timestamp": task["updated_at"]},
    });
    publish(stack, &event.to_string())
}

/// Sends `body` as a CloudEvent on the stack's `task-repeats` (the
/// recurrence handler's topic) through daprd, to the component that
/// carries it on the stack's profile.
fn publish(stack: &Stack, body: &str) -> anyhow::Result<()> {
    let pubsub = match stack.profile() {
        Profile::Sqlite => "events-recurrence",
        Profile::Postgres => "pubsub",
    };
    let url = format!(
        "http://127.0.0.1:{}/v1.0/publish/{pubsub}/{}task-repeats",
        stack.dapr_port, stack.topic_prefix
    );
    let response = ureq::post(&url)
        .header("dapr-api-token", &stack.dapr_token)
        .header("content-type", "application/cloudevents+json")
        .send(body)?;
    anyhow::ensure!(
        response.status().is_success(),
        "publish: {}",
        response.status()
    );
    Ok(())
}

fn count(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let first = create(
        &client,
        user,
        json!({"title": "Three times", "due_at": "2030-03-01T08:00:00Z", "recurrence": "FREQ=DAILY;COUNT=3"}),
    )?;
    let mut task = first.clone();
    let mut dues = vec![task["due_at"].clone()];
    for _ in 0..2 {
        complete(&client, user, &task, true)?;
        task = successor(&client, user, &task)?;
        dues.push(task["due_at"].clone());
    }
    anyhow::ensure!(
        dues == [
            "2030-03-01T08:00:00Z",
            "2030-03-02T08:00:00Z",
            "2030-03-03T08:00:00Z"
        ],
        "{dues:?}"
    );
    anyhow::ensure!(task["recurrence"] == "FREQ=DAILY;COUNT=1", "{task}");
    complete(&client, user, &task, true)?;
    history_of(&client, user, id(&task), 2)?;
    std::thread::sleep(Duration::from_millis(500));
    let tasks = series(&client, user, &first);
    anyhow::ensure!(tasks.len() == 3, "the series ends: {tasks:#?}");
    Ok(())
}

/// The next due date of a task made from `body` once completed at once.
fn next_due(client: &Client, user: &str, body: Value) -> anyhow::Result<String> {
    let task = create(client, user, body)?;
    complete(client, user, &task, true)?;
    let next = successor(client, user, &task)?;
    Ok(next["due_at"].as_str().unwrap_or_default().to_owned())
}

fn calendar_rules(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let cases = [
        // Months without a 31st are skipped, as in dateutil.
        (
            json!({"due_at": "2030-01-31T10:00:00Z", "recurrence": "FREQ=MONTHLY;BYMONTHDAY=31"}),
            "2030-03-31T10:00:00Z",
        ),
        // The last Friday of the month.
        (
            json!({"due_at": "2030-01-25T17:00:00Z", "recurrence": "FREQ=MONTHLY;BYDAY=-1FR"}),
            "2030-02-22T17:00:00Z",
        ),
        // The last working day of the month.
        (
            json!({"due_at": "2030-01-31T09:00:00Z", "recurrence": "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"}),
            "2030-02-28T09:00:00Z",
        ),
        // A DST change in the week keeps 09:00 local (Berlin, 2030-03-31).
        (
            json!({"due_at": "2030-03-25T09:00", "time_zone": "Europe/Berlin", "recurrence": "FREQ=WEEKLY"}),
            "2030-04-01T09:00:00+02:00",
        ),
        // An overdue daily task in schedule mode jumps to the next future date.
        (
            json!({"due_at": "2020-01-01T06:00:00Z", "recurrence": "FREQ=DAILY"}),
            "future",
        ),
    ];
    for (mut body, expected) in cases {
        body["title"] = json!(format!("rule {}", body["recurrence"]));
        let due = next_due(&client, user, body.clone())?;
        if expected == "future" {
            let now = chrono::Utc::now();
            let due_at = chrono::DateTime::parse_from_rfc3339(&due)?;
            anyhow::ensure!(
                due_at > now && due_at < now + chrono::Duration::days(1),
                "{body}: {due}"
            );
            anyhow::ensure!(due.ends_with("T06:00:00Z"), "{body}: {due}");
        } else {
            anyhow::ensure!(due == expected, "{body}: {due}, not {expected}");
        }
    }
    // Completion mode counts from the completion: due in 3 days from now.
    let before = chrono::Utc::now();
    let due = next_due(
        &client,
        user,
        json!({"title": "water", "due_at": "2020-01-01T06:00:00Z", "recurrence": "FREQ=DAILY;INTERVAL=3",
               "recurrence_mode": "completion"}),
    )?;
    let due_at = chrono::DateTime::parse_from_rfc3339(&due)?;
    let three_days = chrono::Duration::days(3);
    anyhow::ensure!(
        due_at >= before + three_days - chrono::Duration::seconds(1)
            && due_at <= chrono::Utc::now() + three_days,
        "{due}"
    );
    Ok(())
}

fn bad_rules(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let path = format!("/api/{user}/tasks");
    for (body, field, words) in [
        (
            json!({"title": "t", "recurrence": "FREQ=DAILY"}),
            "recurrence",
            "needs due_at",
        ),
        (
            json!({"title": "t", "due_at": "2030-01-01T00:00:00Z", "recurrence": "FREQ=MINUTELY"}),
            "recurrence",
            "hourly",
        ),
        (
            json!({"title": "t", "due_at": "2030-01-01T00:00:00Z", "recurrence": "FREQ=DAILY;COUNT=2;UNTIL=20300110T000000Z"}),
            "recurrence",
            "COUNT",
        ),
    ] {
        let reply = client.post(&path, &body);
        anyhow::ensure!(
            reply.status == 400 && reply.field() == Some(field) && reply.message().contains(words),
            "{body}: {reply:?}"
        );
    }
    let listed = client.get(&path);
    anyhow::ensure!(
        listed.body["tasks"] == json!([]),
        "nothing was saved: {listed:?}"
    );
    // Taking the due date off a repeating task is refused too.
    let task = create(
        &client,
        user,
        json!({"title": "t", "due_at": "2030-01-01T00:00:00Z", "recurrence": "FREQ=DAILY"}),
    )?;
    let reply = client.patch(&format!("{path}/{}", id(&task)), &json!({"due_at": null}));
    anyhow::ensure!(
        reply.status == 400 && reply.field() == Some("recurrence"),
        "{reply:?}"
    );
    Ok(())
}

fn occurrences(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let task = create(
        &client,
        user,
        json!({"title": "t", "due_at": "2030-10-21T09:00", "time_zone": "Europe/Berlin",
               "recurrence": "FREQ=WEEKLY;BYDAY=MO"}),
    )?;
    let path = format!("/api/{user}/tasks/{}/occurrences", id(&task));
    let reply = client.get(&format!("{path}?count=3"));
    anyhow::ensure!(
        reply.body
            == json!({"occurrences": ["2030-10-21T09:00:00+02:00", "2030-10-28T09:00:00+01:00", "2030-11-04T09:00:00+01:00"]}),
        "{reply:?}"
    );
    let default = client.get(&path);
    anyhow::ensure!(default.body["occurrences"].as_array().map(Vec::len) == Some(10));
    for query in ["count=0", "count=101", "count=x", "from=now"] {
        let reply = client.get(&format!("{path}?{query}"));
        anyhow::ensure!(reply.status == 400, "{query}: {reply:?}");
    }
    let plain = create(&client, user, json!({"title": "once"}))?;
    let none = client.get(&format!("/api/{user}/tasks/{}/occurrences", id(&plain)));
    anyhow::ensure!(none.body == json!({"occurrences": []}), "{none:?}");
    Ok(())
}

fn poison(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let id = format!("poison-{}", ulid::Ulid::new());
    let event = json!({"specversion": "1.0", "id": id, "source": "e2e", "type": "task.completed",
                       "datacontenttype": "application/json", "data": {"not": "a task event"}});
    publish(stack, &event.to_string())?;
    let letter = eventually("the dead letter", || {
        let reason = stack
            .sql(&format!(
                "SELECT reason FROM dead_letters WHERE consumer = 'recurrence' AND id = '{id}'"
            ))
            .ok()?;
        (!reason.trim().is_empty()).then_some(reason)
    })?;
    anyhow::ensure!(
        letter.contains("not what the recurrence consumer reads"),
        "{letter}"
    );
    // The consumer goes on with the next event.
    let due = next_due(
        &client,
        user,
        json!({"title": "after", "due_at": "2030-01-01T00:00:00Z", "recurrence": "FREQ=DAILY"}),
    )?;
    anyhow::ensure!(due == "2030-01-02T00:00:00Z", "{due}");
    Ok(())
}

/// As if the app died between a commit and its publish: a change recorded
/// and never published (a completed daily task's, written into the
/// `changes` and `outbox` tables as its write would have); the sweep's
/// tick publishes it, the recurrence handler repeats the task, and the
/// change leaves the outbox.
fn safety_net(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let made = create(
        &client,
        user,
        json!({"title": "Lost in a crash", "due_at": "2031-03-01T08:00:00Z", "recurrence": "FREQ=DAILY"}),
    )?;
    // The task as its completion would have left it, under an id of its
    // own, so that only this event can repeat it.
    let lost = ulid::Ulid::new().to_string();
    let mut task = made.clone();
    task["id"] = json!(lost);
    task["completed"] = json!(true);
    task["completed_at"] = made["created_at"].clone();
    let event_id = ulid::Ulid::new().to_string();
    let event = json!({"event_id": event_id, "event_type": "completed", "task_id": lost, "user_id": user,
                       "task": task, "changes": [{"field": "completed", "from": false, "to": true}],
                       "timestamp": made["created_at"]});
    let at = (chrono::Utc::now() - chrono::Duration::seconds(60)).timestamp_micros();
    stack.sql(&format!(
        "INSERT INTO changes (user_id, seq, task_id, event_id, event_type, at, event) \
         VALUES ('{user}', 1000000, '{lost}', '{event_id}', 'completed', {at}, '{}')",
        event.to_string().replace('\'', "''")
    ))?;
    stack.sql(&format!(
        "INSERT INTO outbox (user_id, seq, at) VALUES ('{user}', 1000000, {at})"
    ))?;
    let next = eventually("the lost completion's next occurrence", || {
        let reply = client.get(&format!("/api/{user}/tasks?status=pending&q=lost"));
        let tasks = reply.body["tasks"].as_array()?.clone();
        tasks
            .into_iter()
            .find(|t| t["due_at"] == "2031-03-02T08:00:00Z")
    })?;
    anyhow::ensure!(next["series_id"].is_string(), "{next}");
    eventually("the change out of the outbox", || {
        let queued = stack
            .sql(&format!(
                "SELECT count(*) FROM outbox WHERE user_id = '{user}' AND seq = 1000000"
            ))
            .ok()?;
        (queued.trim() == "0").then_some(())
    })
}

/// 200 writes, then daprd killed (SIGKILL) right after the last answer and
/// started again: every write's event reaches every history exactly once.
fn daprd_killed(env: &Env, profile: Profile) -> anyhow::Result<()> {
    let mut stack = Stack::start(env, profile)?;
    let user = "daprd-killed";
    let client = stack.client(user);
    let mut tasks = Vec::new();
    for n in 0..40 {
        tasks.push(create(
            &client,
            user,
            json!({"title": format!("task {n}")}),
        )?);
    }
    let mut writes = vec![1usize; tasks.len()];
    for n in 0..160 {
        let k = (n * 7) % tasks.len();
        let path = format!("/api/{user}/tasks/{}", id(&tasks[k]));
        let reply = client.patch(&path, &json!({"title": format!("task {k} v{n}")}));
        anyhow::ensure!(reply.status == 200, "{reply:?}");
        writes[k] += 1;
    }
    stack.kill_and_restart_daprd()?;
    for (task, expected) in tasks.iter().zip(writes) {
        let entries = history_of(&client, user, id(task), expected)?;
        let mut ids: Vec<&str> = entries
            .iter()
            .filter_map(|e| e["event_id"].as_str())
            .collect();
        ids.dedup();
        anyhow::ensure!(
            entries.len() == expected && ids.len() == expected,
            "{}: {} entries for {expected} writes",
            id(task),
            entries.len()
        );
    }
    Ok(())
}

/// One write of [`kafka_restarted`]: when it was sent, how long its answer
/// took, and what it was.
#[derive(Debug)]
struct Timed {
    sent: Instant,
    took: Duration,
    outcome: Result<u16, String>,
}

impl Timed {
    fn ok(&self) -> bool {
        matches!(self.outcome, Ok(200 | 201))
    }
}

/// 40 tasks created and 160 updates (200 writes), with the Kafka broker
/// killed (SIGKILL) after the 100th write and started again 1.5 s later on
/// its port and data while the writes go on: every write still succeeds (a
/// publish that fails leaves the event to its safety net), and every
/// write's event reaches its task's history exactly once. The broker takes
/// seconds to answer again (a JVM), longer than the writes take: the last
/// 40 wait for it, so that some writes come after it too. The stack has a
/// broker of its own, as the shared one carries the other scenarios' events.
fn kafka_restarted(env: &Env, profile: Profile) -> anyhow::Result<()> {
    const TASKS: usize = 40;
    const UPDATES: usize = 160;
    const KILL_AFTER: usize = 100;
    const AFTER_RESTART: usize = 40;
    let mut kafka = Some(Kafka::start(env)?);
    let brokers = kafka
        .as_ref()
        .map(|k| k.env(env))
        .unwrap_or_else(|| env.clone());
    let stack = Stack::start(&brokers, profile)?;
    let user = "kafka-restarted";
    let client = stack.client(user);
    let mut tasks: Vec<Value> = Vec::new();
    // The title each write gave its task, by task: what the history must
    // hold, once each; and those of writes without a good answer, which
    // may or may not have happened.
    let mut titles: Vec<Vec<String>> = vec![Vec::new(); TASKS];
    let mut unsure: Vec<Vec<String>> = vec![Vec::new(); TASKS];
    let mut timed: Vec<Timed> = Vec::new();
    let start = Instant::now();
    let mut killed = start;
    type Restart = std::thread::JoinHandle<anyhow::Result<(Kafka, Instant, Instant)>>;
    let mut restart: Option<Restart> = None;
    let (mut held, mut left_while_down) = (Duration::ZERO, 0);
    for n in 0..TASKS + UPDATES {
        if n == TASKS + UPDATES - AFTER_RESTART
            && let Some(restart) = &restart
        {
            let waited = Instant::now();
            while !restart.is_finished() {
                std::thread::sleep(Duration::from_millis(20));
            }
            held = waited.elapsed();
            left_while_down = stack.host_log().matches("left to the safety net").count();
        }
        if n == KILL_AFTER
            && let Some(mut broker) = kafka.take()
        {
            broker.kill();
            killed = Instant::now();
            restart = Some(std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(1500));
                let spawned = Instant::now();
                broker.restart().map(|()| (broker, spawned, Instant::now()))
            }));
        }
        let (k, title, method, path) = if n < TASKS {
            (n, format!("task {n}"), "POST", format!("/api/{user}/tasks"))
        } else {
            let m = n - TASKS;
            let k = (m * 7) % TASKS;
            let path = format!("/api/{user}/tasks/{}", id(&tasks[k]));
            (k, format!("task {k} v{m}"), "PATCH", path)
        };
        let sent = Instant::now();
        let reply = client.try_send(method, &path, Some(&json!({"title": title}).to_string()));
        let write = Timed {
            sent,
            took: sent.elapsed(),
            outcome: reply
                .as_ref()
                .map(|r| r.status)
                .map_err(|e| format!("{e:#}")),
        };
        if n < TASKS {
            anyhow::ensure!(write.ok(), "creating task {n}: {reply:?}");
            tasks.push(reply?.body);
        }
        let list = if write.ok() { &mut titles } else { &mut unsure };
        list[k].push(title);
        timed.push(write);
    }
    let writes_done = Instant::now();
    let (broker, spawned, answering) = restart
        .context("the broker was never killed")?
        .join()
        .map_err(|_| anyhow::anyhow!("starting Kafka again panicked"))?
        .context("starting Kafka again")?;
    // Stopped after the stack, as the stack was started after it.
    kafka.replace(broker);
    let secs = |at: Instant| at.duration_since(killed).as_secs_f64();
    let (before, rest) = timed.split_at(KILL_AFTER);
    let (during, after): (Vec<&Timed>, Vec<&Timed>) = rest.iter().partition(|t| t.sent < answering);
    let log = stack.host_log();
    let left_to_net = log.matches("left to the safety net").count();
    let net_retries = log.matches("will try again").count();
    eprintln!(
        "kafka_restart: broker killed after write {KILL_AFTER}, run again {:.1} s later, \
         answering {:.1} s after the kill; the 200 writes took {:.1} s, {:.1} s of it \
         waiting for the broker before the last {AFTER_RESTART}; relays left to the \
         safety net: {left_while_down} while the broker was down, {} after; failed \
         publishes of safety nets so far: {net_retries}\n  before the kill: {}\n  \
         broker down: {}\n  after: {}",
        secs(spawned),
        secs(answering),
        (writes_done - start).as_secs_f64(),
        held.as_secs_f64(),
        left_to_net - left_while_down,
        summary(&before.iter().collect::<Vec<_>>()),
        summary(&during),
        summary(&after),
    );
    for t in rest {
        if t.took > Duration::from_millis(500) || !t.ok() {
            eprintln!(
                "  write sent {:.2} s after the kill: {:.2} s, {:?}",
                secs(t.sent),
                t.took.as_secs_f64(),
                t.outcome
            );
        }
    }

    // Every history, until each holds as many entries as its task had
    // writes, for a minute and a half at most.
    let patience = Duration::from_secs(90);
    let mut pending: Vec<usize> = (0..TASKS).collect();
    loop {
        pending.retain(|&k| {
            whole_history(&client, user, id(&tasks[k])).is_none_or(|h| h.len() < titles[k].len())
        });
        if pending.is_empty() || writes_done.elapsed() > patience {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let complete = Instant::now();
    eprintln!(
        "kafka_restart: {} of {TASKS} histories complete {:.1} s after the last write, \
         {:.1} s after the broker answered again",
        TASKS - pending.len(),
        (complete - writes_done).as_secs_f64(),
        (complete - answering).as_secs_f64(),
    );
    // Long enough for a safety net armed by the last writes to fire (5 s)
    // and be tried again (5 s more): nothing arrives twice even then.
    std::thread::sleep(Duration::from_secs(12));
    let mut wrong = Vec::new();
    for (k, task) in tasks.iter().enumerate() {
        let entries = whole_history(&client, user, id(task)).unwrap_or_default();
        let mut ids: Vec<&str> = entries
            .iter()
            .filter_map(|e| e["event_id"].as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let got: Vec<&str> = entries
            .iter()
            .filter_map(|e| {
                let changes = e["changes"].as_array()?;
                let title = changes.iter().find(|c| c["field"] == "title")?;
                title["to"].as_str()
            })
            .collect();
        let once = |t: &str| got.iter().filter(|g| **g == t).count() == 1;
        let ok = ids.len() == entries.len()
            && got.len() == entries.len()
            && titles[k].iter().all(|t| once(t))
            && got
                .iter()
                .all(|g| titles[k].iter().chain(&unsure[k]).any(|t| t == g) && once(g));
        if !ok {
            wrong.push(format!(
                "{} (task {k}): {} entries, {} event ids, titles {got:?}, wanted {:?}",
                id(task),
                entries.len(),
                ids.len(),
                titles[k]
            ));
        }
    }
    anyhow::ensure!(
        wrong.is_empty(),
        "{} of {TASKS} histories are wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    let failed: Vec<&Timed> = timed.iter().filter(|t| !t.ok()).collect();
    anyhow::ensure!(
        failed.is_empty(),
        "{} writes failed: {failed:?}",
        failed.len()
    );
    Ok(())
}

/// The whole history of `task` (newest first), if it answers.
fn whole_history(client: &Client, user: &str, task: &str) -> Option<Vec<Value>> {
    let path = format!("/api/{user}/tasks/{task}/history?limit=200");
    let reply = client.try_send("GET", &path, None).ok()?;
    (reply.status == 200).then(|| {
        reply.body["history"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    })
}

/// How many writes, how many failed, and how long they took.
fn summary(writes: &[&Timed]) -> String {
    let mut took: Vec<f64> = writes
        .iter()
        .map(|t| t.took.as_secs_f64() * 1000.0)
        .collect();
    took.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((took.len().saturating_sub(1)) as f64 * q).round() as usize;
        took.get(i).copied().unwrap_or_default()
    };
    let failed = writes.iter().filter(|t| !t.ok()).count();
    format!(
        "{} writes, {failed} failed, {:.1} s in all; ms median {:.0}, p90 {:.0}, max {:.0}",
        writes.len(),
        writes
            .iter()
            .map(|t| t.took)
            .sum::<Duration>()
            .as_secs_f64(),
        at(0.5),
        at(0.9),
        at(1.0),
    )
}

/// The changes of `user`'s feed after `after`, once there are `n`.
fn changes(client: &Client, user: &str, after: u64, n: usize) -> anyhow::Result<Value> {
    eventually(&format!("{n} changes after {after}"), || {
        let reply = client.get(&format!("/api/{user}/changes?after={after}"));
        let count = reply.body["changes"].as_array().map_or(0, Vec::len);
        (reply.status == 200 && count >= n).then_some(reply.body)
    })
}

/// Changes made through the API, the chat and the recurrence handler all
/// reach the user's feed, numbered without gaps; a reader resumes from its
/// cursor and sees only what came after.
fn change_feed(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let task = create(
        &client,
        user,
        json!({"title": "Feed me", "due_at": "2030-01-01T09:00:00Z", "recurrence": "FREQ=DAILY"}),
    )?;
    let first = changes(&client, user, 0, 1)?;
    let cursor = first["cursor"].as_u64().unwrap_or_default();
    anyhow::ensure!(
        first["changes"][0]["event_type"] == "created"
            && first["changes"][0]["task_id"] == task["id"],
        "{first}"
    );
    // Completed through the API; the recurrence handler creates the next.
    complete(&client, user, &task, true)?;
    let chat = client.post(
        &format!("/api/{user}/chat"),
        &json!({"message": "add chat-made task"}),
    );
    anyhow::ensure!(chat.status == 200, "{chat:?}");
    let later = changes(&client, user, cursor, 3)?;
    let kinds: Vec<&str> = later["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["event_type"].as_str())
        .collect();
    anyhow::ensure!(
        kinds.iter().filter(|k| **k == "created").count() == 2 && kinds.contains(&"completed"),
        "{later}"
    );
    let seqs: Vec<u64> = later["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["seq"].as_u64())
        .collect();
    let expected: Vec<u64> = (cursor + 1..=cursor + seqs.len() as u64).collect();
    anyhow::ensure!(seqs == expected, "numbered without gaps: {seqs:?}");
    let end = later["cursor"].as_u64().unwrap_or_default();
    let nothing = client.get(&format!("/api/{user}/changes?after={end}"));
    anyhow::ensure!(
        nothing.body["changes"] == json!([]) && nothing.body["reload"] == false,
        "{nothing:?}"
    );
    let other = stack
        .client(&format!("{user}-x"))
        .get(&format!("/api/{user}/changes"));
    anyhow::ensure!(other.status == 403, "{other:?}");
    Ok(())
}

/// A database as version 1 of the schema left it
/// (`fixtures/schema-v1-postgres.sql`): the app brings it to the newest
/// version itself, answers its tasks and their history as they were,
/// publishes the completion that version 1 left unpublished (the daily
/// task's next occurrence appears), and numbers new changes after the old.
fn upgraded_from_version_1(env: &Env, _: Profile) -> anyhow::Result<()> {
    let stack = Stack::start_from(env, "schema-v1-postgres.sql")?;
    let user = "upgrader";
    let client = stack.client(user);
    let renamed = "01M91MDKRMP8PWEMK7NPSS6R7T";
    let reply = client.get(&format!("/api/{user}/tasks/{renamed}"));
    anyhow::ensure!(
        reply.status == 200
            && reply.body["title"] == "Water the plants and the herbs"
            && reply.body["tags"] == json!(["garden"])
            && reply.body["priority"] == "medium",
        "{reply:?}"
    );
    let history = history_of(&client, user, renamed, 2)?;
    anyhow::ensure!(types(&history) == ["updated", "created"], "{history:#?}");
    let next = eventually("the unpublished completion's next occurrence", || {
        let reply = client.get(&format!("/api/{user}/tasks?status=pending&q=vitamins"));
        let tasks = reply.body["tasks"].as_array()?.clone();
        tasks
            .into_iter()
            .find(|t| t["due_at"] == "2027-01-05T09:00:00+01:00")
    })?;
    anyhow::ensure!(next["series_id"] == "01M91MDKWQMACFXGPKB149VXDG", "{next}");
    let made = create(&client, user, json!({"title": "After the upgrade"}))?;
    let feed = changes(&client, user, 4, 2)?;
    let after: Vec<(u64, &str)> = feed["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["seq"].as_u64()?, c["task_id"].as_str()?)))
        .collect();
    anyhow::ensure!(
        after == [(5, next["id"].as_str().unwrap_or("?")), (6, id(&made))],
        "{feed}"
    );
    let versions = stack.sql("SELECT version FROM schema_migrations ORDER BY version")?;
    anyhow::ensure!(
        versions
            .split_whitespace()
            .eq(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]),
        "{versions}"
    );
    eventually("the outbox empty", || {
        let queued = stack.sql("SELECT count(*) FROM outbox").ok()?;
        (queued.trim() == "0").then_some(())
    })
}
