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
use e2e::{
    Client, Env, FakeApp, Profile, Received, Scenario, Scheduler, Stack, complete, create,
    eventually, id,
};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const SCENARIOS: &[(&str, Scenario)] = &[
    ("a_reminder_arrives_in_the_inbox_once", arrives_once),
    (
        "a_moved_reminder_moves_and_a_cancelled_one_never_comes",
        moved_and_cancelled,
    ),
    ("a_repeating_tasks_next_occurrence_is_reminded", repeating),
    ("notifications_are_the_owners_alone", owners_alone),
    (
        "a_webhook_gets_each_reminder_signed_and_once",
        webhook_retried,
    ),
    ("a_webhook_that_always_fails_is_given_up", webhook_given_up),
    ("bad_settings_are_refused_naming_the_field", bad_settings),
    (
        "the_sweep_delivers_a_reminder_whose_job_was_lost",
        sweep_delivers,
    ),
    ("the_sweep_schedules_a_missing_job_again", sweep_rearms),
    (
        "browsers_subscribe_to_pushes_each_user_their_own",
        push_devices,
    ),
    (
        "bad_push_subscriptions_are_refused_naming_the_field",
        bad_devices,
    ),
    ("a_reminder_is_pushed_to_every_browser_once", pushed),
    ("snoozing_adds_a_reminder_minutes_from_now", snoozed),
];

fn main() {
    e2e::run_trials(
        SCENARIOS,
        &[(
            "restarts_between_scheduling_and_firing_lose_and_duplicate_nothing",
            &[Profile::Sqlite, Profile::Postgres],
            restarts,
        )],
    )
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
        .header("dapr-api-token", &stack.dapr_token)
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
    // Open pages hear of it from the change feed, once.
    let feed = client.get(&format!("/api/{user}/changes?after=0"));
    let heard: Vec<&Value> = feed.body["changes"]
        .as_array()
        .map(|changes| {
            changes
                .iter()
                .filter(|c| c["event_type"] == "reminded")
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(
        heard.len() == 1 && heard[0]["event_id"] == note["id"] && heard[0]["task_id"] == task["id"],
        "{feed:?}"
    );
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

/// Sets `user`'s webhook to the fake `receiver`, answering the secret.
fn set_webhook(client: &Client, user: &str, receiver: &FakeApp) -> anyhow::Result<String> {
    let url = format!("http://127.0.0.1:{}/hook", receiver.port);
    let reply = client.put(
        &format!("/api/{user}/settings"),
        &json!({"webhook_url": url}),
    );
    anyhow::ensure!(reply.status == 200, "{reply:?}");
    let secret = reply.body["webhook_secret"].as_str().unwrap_or_default();
    anyhow::ensure!(secret.len() >= 32, "a secret is shown when made: {reply:?}");
    e2e::never_logged(secret)?;
    let read = client.get(&format!("/api/{user}/settings"));
    anyhow::ensure!(
        read.body["webhook_secret"].is_null(),
        "and never again: {read:?}"
    );
    anyhow::ensure!(read.body["webhook_secret_set"] == true, "{read:?}");
    Ok(secret.to_owned())
}

/// Whether `call` carries a valid signature of its body with `secret`.
fn signed(call: &Received, secret: &str) -> bool {
    let Some(hex) = call
        .header("x-todo-signature")
        .and_then(|s| s.strip_prefix("sha256="))
    else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(&call.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == hex
}

/// The calls `receiver` got, once there are `n`.
fn calls(receiver: &FakeApp, n: usize, patience: Duration) -> anyhow::Result<Vec<Received>> {
    let start = std::time::Instant::now();
    loop {
        let got = receiver.received();
        if got.len() >= n {
            return Ok(got);
        }
        anyhow::ensure!(start.elapsed() < patience, "{n} calls, got {got:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The webhook state of `user`'s notification of `task`, once `done` says
/// it is there.
fn webhook_state(
    client: &Client,
    user: &str,
    task: &Value,
    done: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    eventually(&format!("the webhook state of {}", id(task)), || {
        let notes = inbox(client, user, "").ok()?;
        let note = notes.into_iter().find(|n| n["task_id"] == task["id"])?;
        done(&note["webhook"]).then(|| note["webhook"].clone())
    })
}

fn webhook_retried(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let receiver = FakeApp::failing_first(2)?;
    let secret = set_webhook(&client, user, &receiver)?;
    let task = create(
        &client,
        user,
        json!({"title": "Water the plants", "due_at": in_seconds(7200), "reminders": [{"at": in_seconds(2)}]}),
    )?;
    // Tried, failed, tried a second later, failed, tried two seconds later.
    let got = calls(&receiver, 3, Duration::from_secs(30))?;
    let statuses: Vec<u16> = got.iter().map(|c| c.status).collect();
    anyhow::ensure!(statuses == [500, 500, 200], "{statuses:?}");
    for call in &got {
        anyhow::ensure!(call.method == "POST" && call.path == "/hook", "{call:?}");
        anyhow::ensure!(signed(call, &secret), "a valid signature: {call:?}");
        anyhow::ensure!(call.header("idempotency-key") == got[0].header("idempotency-key"));
    }
    let body: Value = serde_json::from_slice(&got[2].body)?;
    anyhow::ensure!(
        body["task_id"] == task["id"] && body["title"] == "Water the plants",
        "{body}"
    );
    anyhow::ensure!(
        body["user_id"] == user
            && Some(body["id"].as_str().unwrap_or_default()) == got[2].header("idempotency-key"),
        "{body}"
    );
    let state = webhook_state(&client, user, &task, |w| w["status"] == "delivered")?;
    anyhow::ensure!(state["attempts"] == 3, "{state}");
    std::thread::sleep(QUIET);
    anyhow::ensure!(receiver.received().len() == 3, "nothing after it was taken");
    Ok(())
}

fn webhook_given_up(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let receiver = FakeApp::failing_first(usize::MAX)?;
    set_webhook(&client, user, &receiver)?;
    let task = create(
        &client,
        user,
        json!({"title": "Renew passport", "reminders": [{"at": in_seconds(2)}]}),
    )?;
    // Five tries over 1 + 2 + 4 + 8 seconds.
    calls(&receiver, 5, Duration::from_secs(40))?;
    let state = webhook_state(&client, user, &task, |w| w["status"] == "failed")?;
    anyhow::ensure!(state["attempts"] == 5, "{state}");
    let why = state["last_error"].as_str().unwrap_or_default();
    anyhow::ensure!(why.contains("500"), "{state}");
    anyhow::ensure!(
        inbox(&client, user, "unread=true")?.len() == 1,
        "the inbox keeps it"
    );
    std::thread::sleep(QUIET);
    anyhow::ensure!(receiver.received().len() == 5, "no sixth try");
    Ok(())
}

fn bad_settings(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let path = format!("/api/{user}/settings");
    let good =
        json!({"webhook_url": "https://hooks.example.com/todo", "time_zone": "Europe/Berlin"});
    let saved = client.put(&path, &good);
    anyhow::ensure!(saved.status == 200, "{saved:?}");
    for (body, field) in [
        (
            json!({"webhook_url": "http://hooks.example.com/todo"}),
            "webhook_url",
        ),
        (
            json!({"webhook_url": "https://10.0.0.7/hook"}),
            "webhook_url",
        ),
        (
            json!({"webhook_url": "https://169.254.169.254/latest"}),
            "webhook_url",
        ),
        (json!({"webhook_url": "not a url"}), "webhook_url"),
        (json!({"time_zone": "Atlantis/Capital"}), "time_zone"),
        (
            json!({"rotate_webhook_secret": "please"}),
            "rotate_webhook_secret",
        ),
        (json!({"colour": "blue"}), "colour"),
    ] {
        let reply = client.put(&path, &body);
        anyhow::ensure!(
            reply.status == 400 && reply.field() == Some(field),
            "{body}: {reply:?}"
        );
    }
    let read = client.get(&path);
    anyhow::ensure!(
        read.body["webhook_url"] == "https://hooks.example.com/todo"
            && read.body["time_zone"] == "Europe/Berlin",
        "nothing changed: {read:?}"
    );
    let other = stack.client(&format!("{user}-x"));
    anyhow::ensure!(other.get(&path).status == 403, "only the owner reads them");
    Ok(())
}

/// Deletes job `name` through daprd, behind the app's back.
fn delete_job(stack: &Stack, name: &str) -> anyhow::Result<()> {
    let url = format!("http://127.0.0.1:{}/v1.0/jobs/{name}", stack.dapr_port);
    let response = ureq::delete(&url)
        .header("dapr-api-token", &stack.dapr_token)
        .call()?;
    anyhow::ensure!(response.status().is_success(), "deleting {name}");
    Ok(())
}

/// Waits until job `name` is scheduled (or, with `false`, is not).
fn job_is(stack: &Stack, name: &str, wanted: bool) -> anyhow::Result<()> {
    eventually(&format!("job {name} scheduled: {wanted}"), || {
        (scheduled(stack, name).ok()? == wanted).then_some(())
    })
}

fn sweep_delivers(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let remind_at = in_seconds(3);
    let task = create(
        &client,
        user,
        json!({"title": "Lost job", "reminders": [{"at": remind_at}]}),
    )?;
    let job = format!("reminder-{}-0", id(&task));
    job_is(stack, &job, true)?;
    delete_job(stack, &job)?;
    // Due, plus the grace left to the job, plus a slot, plus a tick.
    let patience = Duration::from_secs(3 + 10 + 10 + 3 + 20);
    let start = std::time::Instant::now();
    let notes = loop {
        let notes = inbox(&client, user, "")?;
        if !notes.is_empty() {
            break notes;
        }
        anyhow::ensure!(start.elapsed() < patience, "the sweep never delivered it");
        std::thread::sleep(Duration::from_millis(200));
    };
    // On time when a sweep found the job missing before it was due (it
    // schedules it again); after the grace when none did (it delivers it).
    anyhow::ensure!(notes[0]["task_id"] == task["id"], "{notes:#?}");
    // A few sweeps more: still once.
    std::thread::sleep(Duration::from_secs(7));
    anyhow::ensure!(inbox(&client, user, "")?.len() == 1, "once");
    Ok(())
}

fn sweep_rearms(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let task = create(
        &client,
        user,
        json!({"title": "Later", "reminders": [{"at": in_seconds(60)}]}),
    )?;
    let job = format!("reminder-{}-0", id(&task));
    job_is(stack, &job, true)?;
    delete_job(stack, &job)?;
    job_is(stack, &job, false)?;
    job_is(stack, &job, true)?;
    // A job of a reminder that no longer stands is not brought back.
    let path = format!("/api/{user}/tasks/{}", id(&task));
    anyhow::ensure!(client.patch(&path, &json!({"reminders": []})).status == 200);
    job_is(stack, &job, false)?;
    std::thread::sleep(Duration::from_secs(7));
    anyhow::ensure!(
        !scheduled(stack, &job)?,
        "a removed reminder stays without a job"
    );
    Ok(())
}

/// Reminders scheduled, then the app, daprd and the scheduler each killed
/// (SIGKILL) and started again before they fire: every reminder arrives,
/// once. The stack has a scheduler of its own, as killing the shared one
/// would disturb the other tests.
fn restarts(env: &Env, profile: Profile) -> anyhow::Result<()> {
    let mut scheduler = Scheduler::start(env)?;
    let mut stack = Stack::start(&scheduler.env(env), profile)?;
    let user = "restarted";
    let client = stack.client(user);
    let tasks = (0..20)
        .map(|n| {
            let at = in_seconds(15 + n % 5);
            let body = json!({"title": format!("task {n}"), "reminders": [{"at": at}]});
            create(&client, user, body)
        })
        .collect::<anyhow::Result<Vec<Value>>>()?;
    for task in &tasks {
        job_is(&stack, &format!("reminder-{}-0", id(task)), true)?;
    }
    stack.kill_and_restart_app()?;
    stack.kill_and_restart_daprd()?;
    scheduler.kill();
    scheduler.restart()?;
    let last = tasks
        .iter()
        .filter_map(|t| instant(&t["reminders"][0]["fires_at"]))
        .max()
        .unwrap_or_else(Utc::now);
    anyhow::ensure!(
        Utc::now() < last,
        "the restarts took too long to come before the reminders"
    );
    let start = std::time::Instant::now();
    while inbox(&client, user, "limit=200")?.len() < tasks.len() {
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(60),
            "reminders lost: {} of {}",
            inbox(&client, user, "limit=200")?.len(),
            tasks.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(QUIET);
    let notes = inbox(&client, user, "limit=200")?;
    for task in &tasks {
        let of_task = notes.iter().filter(|n| n["task_id"] == task["id"]).count();
        anyhow::ensure!(of_task == 1, "{} reminded {of_task} times", task["title"]);
    }
    let late: Vec<i64> = notes
        .iter()
        .filter_map(|n| {
            Some((instant(&n["delivered_at"])? - instant(&n["remind_at"])?).num_milliseconds())
        })
        .collect();
    println!("lateness after the restarts (ms): {late:?}");
    Ok(())
}

/// A browser's keys (RFC 8291, Appendix A).
const P256DH: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

fn device(endpoint: &str) -> Value {
    json!({"endpoint": endpoint, "expirationTime": null, "keys": {"p256dh": P256DH, "auth": AUTH}})
}

/// Each device subscribes once (again, it refreshes its keys), is listed
/// with the key the page subscribes with, and is removed by id; another
/// user neither lists nor removes it.
fn push_devices(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let path = format!("/api/{user}/push-subscriptions");
    let phone = "https://fcm.googleapis.com/fcm/send/e2e-phone";
    let made = client.post(&path, &device(phone));
    anyhow::ensure!(
        made.status == 201 && made.body["endpoint"] == phone,
        "{made:?}"
    );
    let again = client.post(&path, &device(phone));
    anyhow::ensure!(
        again.status == 200 && again.body["id"] == made.body["id"],
        "{again:?}"
    );
    let laptop = "https://updates.push.services.mozilla.com/wpush/v2/e2e-laptop";
    anyhow::ensure!(client.post(&path, &device(laptop)).status == 201);
    let listed = client.get(&path);
    anyhow::ensure!(
        listed.body["public_key"] == e2e::VAPID_PUBLIC_KEY,
        "{listed:?}"
    );
    let endpoints: Vec<&str> = (listed.body["subscriptions"]
        .as_array()
        .into_iter()
        .flatten())
    .filter_map(|s| s["endpoint"].as_str())
    .collect();
    anyhow::ensure!(endpoints == [phone, laptop], "{listed:?}");
    anyhow::ensure!(
        listed.body["subscriptions"][0].get("keys").is_none(),
        "the keys stay with the server: {listed:?}"
    );
    let other = format!("{user}-other");
    let theirs = stack.client(&other);
    let one = format!("{path}/{}", made.body["id"].as_str().unwrap_or_default());
    anyhow::ensure!(theirs.get(&path).status == 403, "another user's path");
    let gone = theirs.delete(&format!(
        "/api/{other}/push-subscriptions/{}",
        made.body["id"].as_str().unwrap_or_default()
    ));
    anyhow::ensure!(gone.status == 404, "{gone:?}");
    let none = theirs.get(&format!("/api/{other}/push-subscriptions"));
    anyhow::ensure!(none.body["subscriptions"] == json!([]), "{none:?}");
    anyhow::ensure!(client.delete(&one).status == 204);
    anyhow::ensure!(client.delete(&one).status == 404);
    let left = client.get(&path);
    anyhow::ensure!(
        left.body["subscriptions"].as_array().map(Vec::len) == Some(1),
        "{left:?}"
    );
    Ok(())
}

/// Each bad subscription names its field and subscribes nothing.
fn bad_devices(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let path = format!("/api/{user}/push-subscriptions");
    let fcm = "https://fcm.googleapis.com/fcm/send/e2e";
    for (body, field) in [
        (device("http://fcm.googleapis.com/fcm/send/e2e"), "endpoint"),
        (device("https://push.example.com/e2e"), "endpoint"),
        (
            json!({"endpoint": fcm, "keys": {"p256dh": "BAAA", "auth": AUTH}}),
            "keys.p256dh",
        ),
        (
            json!({"endpoint": fcm, "keys": {"p256dh": P256DH, "auth": "AAAA"}}),
            "keys.auth",
        ),
        (json!({"endpoint": fcm}), "keys"),
        (
            json!({"keys": {"p256dh": P256DH, "auth": AUTH}}),
            "endpoint",
        ),
    ] {
        let reply = client.post(&path, &body);
        anyhow::ensure!(
            reply.status == 400 && reply.field() == Some(field),
            "{body}: {reply:?}"
        );
    }
    let listed = client.get(&path);
    anyhow::ensure!(listed.body["subscriptions"] == json!([]), "{listed:?}");
    Ok(())
}

/// A reminder reaches each subscribed browser once, encrypted for it and
/// signed with the app's VAPID key (the fake checks both as a browser and
/// a push service would); a push service's 500 is tried again; its 410
/// removes that browser's subscription alone. The notification records
/// each browser's outcome.
fn pushed(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let fake = e2e::FakePushService::start()?;
    let client = stack.client(user);
    let path = format!("/api/{user}/push-subscriptions");
    let mut ids = std::collections::HashMap::new();
    for name in ["phone", "flaky-tablet", "gone-laptop"] {
        let browser = fake.browser(&format!("{name}-{user}"))?;
        let made = client.post(&path, &browser);
        anyhow::ensure!(made.status == 201, "{made:?}");
        ids.insert(name, made.body["id"].clone());
    }
    let (remind_at, due_at) = (in_seconds(2), in_seconds(3600));
    let task = create(
        &client,
        user,
        json!({"title": "Water the ferns", "due_at": due_at, "reminders": [{"at": remind_at}]}),
    )?;
    let settled = eventually("every push settled", || {
        let notes = inbox(&client, user, "").ok()?;
        let note = notes.into_iter().find(|n| n["task_id"] == task["id"])?;
        let pushes = note["pushes"].as_array()?.clone();
        (pushes.len() == 3 && pushes.iter().all(|p| p["status"] != "pending")).then_some(note)
    })?;
    let outcome = |name: &str| -> Option<(String, u64)> {
        let pushes = settled["pushes"].as_array()?;
        let push = pushes.iter().find(|p| p["subscription_id"] == ids[name])?;
        Some((
            push["status"].as_str()?.to_owned(),
            push["attempts"].as_u64()?,
        ))
    };
    anyhow::ensure!(
        outcome("phone") == Some(("delivered".into(), 1)),
        "{settled}"
    );
    anyhow::ensure!(
        outcome("flaky-tablet") == Some(("delivered".into(), 2)),
        "{settled}"
    );
    anyhow::ensure!(
        outcome("gone-laptop") == Some(("gone".into(), 1)),
        "{settled}"
    );
    let received = fake.received()?;
    let mine: Vec<&Value> = (received.iter())
        .filter(|r| r["browser"].as_str().is_some_and(|b| b.ends_with(user)))
        .collect();
    anyhow::ensure!(
        mine.iter().all(|r| r["problems"] == json!([])),
        "the fake found problems: {mine:#?}"
    );
    let count = |name: &str, status: u64| {
        (mine.iter())
            .filter(|r| r["browser"].as_str().is_some_and(|b| b.starts_with(name)))
            .filter(|r| r["status"] == status)
            .count()
    };
    anyhow::ensure!(
        count("phone", 201) == 1
            && count("flaky-tablet", 500) == 1
            && count("flaky-tablet", 201) == 1
            && count("gone-laptop", 410) == 1
            && mine.len() == 4,
        "once each, the flaky one again: {mine:#?}"
    );
    let message = &mine[0]["message"];
    anyhow::ensure!(
        message["title"] == "Water the ferns"
            && message["task_id"] == task["id"]
            && message["notification_id"] == settled["id"],
        "what the browser read: {message}"
    );
    // The notification's buttons act with the push's own token, on its
    // task alone: snooze, then complete; nothing else.
    let acting = client.with_token(message["action_token"].as_str().map(str::to_owned));
    let own = format!("/api/{user}/tasks/{}", id(&task));
    let snoozed = acting.send("POST", &format!("{own}/snooze"), None);
    anyhow::ensure!(
        snoozed.status == 200 && snoozed.body["reminders"].as_array().map(Vec::len) == Some(2),
        "{snoozed:?}"
    );
    let done = acting.patch(&format!("{own}/complete"), &json!({"completed": true}));
    anyhow::ensure!(
        done.status == 200 && done.body["completed"] == true,
        "{done:?}"
    );
    let other = create(&client, user, json!({"title": "Another task"}))?;
    for refused in [
        acting.get(&own),
        acting.delete(&own),
        acting.get(&format!("/api/{user}/tasks")),
        acting.patch(
            &format!("/api/{user}/tasks/{}/complete", id(&other)),
            &json!({"completed": true}),
        ),
    ] {
        anyhow::ensure!(
            refused.status == 401 && refused.message().contains("only"),
            "{refused:?}"
        );
    }
    let left = client.get(&path);
    let endpoints: Vec<&str> = (left.body["subscriptions"].as_array().into_iter().flatten())
        .filter_map(|s| s["endpoint"].as_str())
        .collect();
    anyhow::ensure!(
        endpoints.len() == 2 && !endpoints.iter().any(|e| e.contains("gone-laptop")),
        "the gone browser's subscription alone is removed: {left:?}"
    );
    Ok(())
}

/// Snooze adds a reminder at now plus the minutes (10 unless given), armed
/// like any other; bad minutes, another user's task and a task at its
/// limit of reminders are refused and change nothing.
fn snoozed(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let task = create(
        &client,
        user,
        json!({"title": "Stretch", "time_zone": "Asia/Tokyo"}),
    )?;
    let path = format!("/api/{user}/tasks/{}/snooze", id(&task));
    let before = Utc::now();
    let ten = client.send("POST", &path, None);
    anyhow::ensure!(ten.status == 200, "{ten:?}");
    let fires = instant(&ten.body["reminders"][0]["fires_at"]).unwrap_or_default();
    let lead = fires - before;
    anyhow::ensure!(
        // The app's clock is read to the millisecond.
        lead >= chrono::Duration::minutes(10) - chrono::Duration::seconds(1)
            && lead < chrono::Duration::minutes(11),
        "in ten minutes: {ten:?}"
    );
    anyhow::ensure!(
        ten.body["reminders"][0]["at"]
            .as_str()
            .is_some_and(|at| at.ends_with("+09:00")),
        "in the task's zone: {ten:?}"
    );
    let one = client.post(&path, &json!({"minutes": 1}));
    anyhow::ensure!(
        one.body["reminders"].as_array().map(Vec::len) == Some(2),
        "{one:?}"
    );
    for (body, field) in [
        (json!({"minutes": 0}), "minutes"),
        (json!({"minutes": 1441}), "minutes"),
        (json!({"minutes": "5"}), "minutes"),
        (json!({"hours": 1}), "hours"),
    ] {
        let reply = client.post(&path, &body);
        anyhow::ensure!(
            reply.status == 400 && reply.field() == Some(field),
            "{body}: {reply:?}"
        );
    }
    let other = format!("{user}-other");
    let theirs = stack.client(&other).send(
        "POST",
        &format!("/api/{other}/tasks/{}/snooze", id(&task)),
        None,
    );
    anyhow::ensure!(theirs.status == 404, "{theirs:?}");
    let full = create(
        &client,
        user,
        json!({"title": "Full", "reminders": (1..=10).map(|m| json!({"at": in_seconds(3600 + m)})).collect::<Vec<_>>()}),
    )?;
    let over = client.send(
        "POST",
        &format!("/api/{user}/tasks/{}/snooze", id(&full)),
        None,
    );
    anyhow::ensure!(over.status == 413, "{over:?}");
    let now = client.get(&format!("/api/{user}/tasks/{}", id(&task)));
    anyhow::ensure!(
        now.body["reminders"].as_array().map(Vec::len) == Some(2),
        "{now:?}"
    );
    Ok(())
}
