//! Organising tasks end to end: projects and the Inbox, checklists, the
//! order given by hand and saved views, on
//! SQLite (the embedded default) and on PostgreSQL (the full profile).
//!
//! Each scenario runs once per profile against a stack shared by that
//! profile's scenarios; scenarios keep apart by using users of their own.

use e2e::{Client, Reply, Scenario, Stack, create, eventually, id};
use serde_json::{Value, json};

const SCENARIOS: &[(&str, Scenario)] = &[
    (
        "projects_hold_tasks_with_counts_and_the_inbox_stays",
        life_cycle,
    ),
    ("a_moved_task_keeps_its_history_and_reminders", moved_task),
    (
        "a_project_with_tasks_goes_only_when_asked_with_them",
        deleting,
    ),
    ("another_users_projects_are_out_of_reach", isolation),
    ("bad_project_input_is_refused_by_field", bad_input),
    ("checklist_steps_by_id_or_place_each_a_change", checklist),
    (
        "a_repeating_task_comes_back_with_its_steps_unchecked",
        repeated_checklist,
    ),
    ("bad_steps_are_refused_and_change_nothing", bad_steps),
    ("tasks_keep_the_order_given_by_hand", manual_order),
    (
        "concurrent_moves_leave_every_task_once_in_its_own_place",
        concurrent_moves,
    ),
    ("a_saved_view_lists_what_its_filter_does", saved_view),
    ("another_users_views_are_out_of_reach", view_isolation),
    ("bad_views_are_refused_by_field", bad_views),
];

fn main() {
    e2e::run_trials(SCENARIOS, &[])
}

/// Makes project `name` of `user`, answering it.
fn project(client: &Client, user: &str, body: Value) -> anyhow::Result<Value> {
    let reply = client.post(&format!("/api/{user}/projects"), &body);
    anyhow::ensure!(reply.status == 201, "making {body}: {reply:?}");
    Ok(reply.body)
}

/// The user's projects, as listed (`archived=true`: the archived ones).
fn projects(client: &Client, user: &str, query: &str) -> anyhow::Result<Vec<Value>> {
    let reply = client.get(&format!("/api/{user}/projects{query}"));
    anyhow::ensure!(reply.status == 200, "{reply:?}");
    Ok(reply.body["projects"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// The titles of the user's tasks that `query` lists.
fn titles(client: &Client, user: &str, query: &str) -> anyhow::Result<Vec<String>> {
    page_titles(&client.get(&format!("/api/{user}/tasks?{query}")))
}

fn refused(reply: &Reply, status: u16, code: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        reply.status == status && reply.body["error"]["code"] == code,
        "expected {status} {code}: {reply:?}"
    );
    Ok(())
}

/// A project is made, listed after the Inbox with its counts, named in a
/// create and a listing filter, renamed, archived (leaving the listing and
/// taking no new tasks) and unarchived; the Inbox cannot be changed.
fn life_cycle(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let work = project(&client, user, json!({"name": "Work", "color": "blue"}))?;
    let work_id = id(&work).to_owned();
    anyhow::ensure!(
        work["inbox"] == false && work["pending"] == 0 && work["color"] == "blue",
        "{work}"
    );
    create(
        &client,
        user,
        json!({"title": "Report", "project_id": work_id, "due_at": "2020-01-01T09:00:00Z"}),
    )?;
    create(
        &client,
        user,
        json!({"title": "Slides", "project_id": work_id}),
    )?;
    let milk = create(&client, user, json!({"title": "Milk"}))?;
    anyhow::ensure!(milk["project_id"] == "inbox", "{milk}");
    let listed = projects(&client, user, "")?;
    let seen: Vec<(&str, u64, u64)> = listed
        .iter()
        .map(|p| {
            let count = |f: &str| p[f].as_u64().unwrap_or(99);
            (
                p["name"].as_str().unwrap_or("?"),
                count("pending"),
                count("overdue"),
            )
        })
        .collect();
    anyhow::ensure!(seen == [("Inbox", 1, 0), ("Work", 2, 1)], "{listed:?}");
    anyhow::ensure!(
        titles(&client, user, &format!("project={work_id}&sort=title"))? == ["Report", "Slides"]
    );
    anyhow::ensure!(titles(&client, user, "project=inbox")? == ["Milk"]);

    let path = format!("/api/{user}/projects/{work_id}");
    let renamed = client.patch(&path, &json!({"name": "Office"}));
    anyhow::ensure!(
        renamed.status == 200 && renamed.body["name"] == "Office" && renamed.body["pending"] == 2,
        "{renamed:?}"
    );
    let archived = client.patch(&path, &json!({"archived": true}));
    anyhow::ensure!(archived.status == 200, "{archived:?}");
    let active: Vec<String> = projects(&client, user, "")?
        .iter()
        .map(|p| p["id"].as_str().unwrap_or("?").to_owned())
        .collect();
    anyhow::ensure!(active == ["inbox"], "{active:?}");
    anyhow::ensure!(projects(&client, user, "?archived=true")?.len() == 1);
    let into_archived = client.post(
        &format!("/api/{user}/tasks"),
        &json!({"title": "Late", "project_id": work_id}),
    );
    refused(&into_archived, 400, "invalid_field")?;
    anyhow::ensure!(into_archived.field() == Some("project_id"));
    let unarchived = client.patch(&path, &json!({"archived": false}));
    anyhow::ensure!(unarchived.status == 200 && unarchived.body["archived"] == false);

    let inbox = format!("/api/{user}/projects/inbox");
    let got = client.get(&inbox);
    anyhow::ensure!(
        got.status == 200 && got.body["inbox"] == true && got.body["pending"] == 1,
        "{got:?}"
    );
    refused(
        &client.patch(&inbox, &json!({"name": "Mine"})),
        409,
        "inbox",
    )?;
    refused(&client.delete(&inbox), 409, "inbox")?;
    for taken in ["office", "INBOX"] {
        let again = client.post(&format!("/api/{user}/projects"), &json!({"name": taken}));
        refused(&again, 409, "name_taken")?;
        anyhow::ensure!(again.field() == Some("name"));
    }
    Ok(())
}

/// Moving a task to another project is a change like any other: in its
/// history (the field, from and to), and its reminders stay.
fn moved_task(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let home = project(&client, user, json!({"name": "Home"}))?;
    let task = create(
        &client,
        user,
        json!({"title": "Water the plants", "due_at": "2031-05-01T09:00:00Z",
               "reminders": [{"minutes_before": 30}]}),
    )?;
    let path = format!("/api/{user}/tasks/{}", id(&task));
    let moved = client.patch(&path, &json!({"project_id": id(&home)}));
    anyhow::ensure!(
        moved.status == 200
            && moved.body["project_id"] == home["id"]
            && moved.body["reminders"] == task["reminders"],
        "{moved:?}"
    );
    let history = eventually("the move in the history", || {
        let reply = client.get(&format!("{path}/history"));
        let entries = reply.body["history"].as_array()?.clone();
        (entries.len() == 2).then_some(entries)
    })?;
    anyhow::ensure!(
        history[0]["changes"]
            == json!([{"field": "project_id", "from": "inbox", "to": home["id"]}]),
        "{history:?}"
    );
    Ok(())
}

/// A project that holds tasks is refused a delete naming how many; with
/// `with_tasks=true` it goes with them, each deletion in the change feed.
fn deleting(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let trip = project(&client, user, json!({"name": "Trip"}))?;
    let trip_id = id(&trip).to_owned();
    let mut held = Vec::new();
    for title in ["Passport", "Tickets", "Adapter"] {
        held.push(create(
            &client,
            user,
            json!({"title": title, "project_id": trip_id}),
        )?);
    }
    let kept = create(&client, user, json!({"title": "Stays in the Inbox"}))?;
    let path = format!("/api/{user}/projects/{trip_id}");
    let refusal = client.delete(&path);
    refused(&refusal, 409, "not_empty")?;
    anyhow::ensure!(refusal.message().contains("3 tasks"), "{refusal:?}");
    anyhow::ensure!(titles(&client, user, &format!("project={trip_id}"))?.len() == 3);
    let after = client.get(&format!("/api/{user}/changes?after=0")).body["cursor"]
        .as_u64()
        .unwrap_or_default();
    anyhow::ensure!(client.delete(&format!("{path}?with_tasks=true")).status == 204);
    refused(&client.get(&path), 404, "not_found")?;
    for task in &held {
        let gone = client.get(&format!("/api/{user}/tasks/{}", id(task)));
        anyhow::ensure!(gone.status == 404, "{gone:?}");
    }
    anyhow::ensure!(
        client
            .get(&format!("/api/{user}/tasks/{}", id(&kept)))
            .status
            == 200
    );
    let feed = client.get(&format!("/api/{user}/changes?after={after}"));
    let deleted: Vec<&str> = feed.body["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["event_type"] == "deleted")
        .filter_map(|c| c["task_id"].as_str())
        .collect();
    let expected: Vec<&str> = held.iter().map(id).collect();
    anyhow::ensure!(deleted == expected, "{feed:?}");
    Ok(())
}

/// Another user's projects cannot be read, named in a task or deleted.
fn isolation(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let other = format!("{user}-other");
    let theirs = project(&stack.client(&other), &other, json!({"name": "Secret"}))?;
    let client = stack.client(user);
    let mine = format!("/api/{user}/projects/{}", id(&theirs));
    refused(&client.get(&mine), 404, "not_found")?;
    refused(
        &client.delete(&format!("{mine}?with_tasks=true")),
        404,
        "not_found",
    )?;
    let task = client.post(
        &format!("/api/{user}/tasks"),
        &json!({"title": "Sneak in", "project_id": id(&theirs)}),
    );
    refused(&task, 400, "invalid_field")?;
    anyhow::ensure!(task.field() == Some("project_id"));
    refused(
        &client.get(&format!("/api/{other}/projects")),
        403,
        "forbidden",
    )?;
    anyhow::ensure!(projects(&stack.client(&other), &other, "")?.len() == 2);
    Ok(())
}

/// Each bad input names its field and changes nothing.
fn bad_input(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let collection = format!("/api/{user}/projects");
    let long = "x".repeat(121);
    for (body, field) in [
        (json!({}), "name"),
        (json!({"name": " "}), "name"),
        (json!({"name": long}), "name"),
        (json!({"name": "Ok", "color": "plaid"}), "color"),
        (json!({"name": "Ok", "archived": "no"}), "archived"),
        (json!({"name": "Ok", "pending": 1}), "pending"),
        (json!({"name": "Ok", "owner": "me"}), "owner"),
    ] {
        let reply = client.post(&collection, &body);
        refused(&reply, 400, "invalid_field")?;
        anyhow::ensure!(reply.field() == Some(field), "{body}: {reply:?}");
    }
    let twice = client.send("POST", &collection, Some(r#"{"name": "A", "name": "B"}"#));
    anyhow::ensure!(twice.status == 400, "{twice:?}");
    anyhow::ensure!(projects(&client, user, "")?.len() == 1, "only the Inbox");
    for (body, problem) in [
        (
            json!({"title": "T", "project_id": "01KBN0000000000000000000ZZ"}),
            "names no project",
        ),
        (json!({"title": "T", "project_id": "groceries"}), "must be"),
    ] {
        let reply = client.post(&format!("/api/{user}/tasks"), &body);
        refused(&reply, 400, "invalid_field")?;
        anyhow::ensure!(
            reply.field() == Some("project_id") && reply.message().contains(problem),
            "{reply:?}"
        );
    }
    anyhow::ensure!(titles(&client, user, "")?.is_empty(), "nothing was made");
    refused(
        &client.get(&format!("{collection}/not-an-id")),
        404,
        "not_found",
    )?;
    refused(
        &client.get(&format!("{collection}?archived=maybe")),
        400,
        "invalid_field",
    )?;
    refused(
        &client.get(&format!("/api/{user}/tasks?project=nope")),
        400,
        "invalid_field",
    )?;
    let made = project(&client, user, json!({"name": "Keep"}))?;
    let path = format!("{collection}/{}", id(&made));
    refused(
        &client.delete(&format!("{path}?with_tasks=maybe")),
        400,
        "invalid_field",
    )?;
    refused(
        &client.patch(&path, &json!({"color": "plaid"})),
        400,
        "invalid_field",
    )?;
    refused(
        &client.put(&path, &json!({"name": "Other"})),
        405,
        "method_not_allowed",
    )?;
    let kept = client.get(&path);
    anyhow::ensure!(
        kept.body["name"] == "Keep" && kept.body["color"] == "charcoal",
        "{kept:?}"
    );
    Ok(())
}

/// The checklist of `task` as `id text [done]` lines, and its `steps_done`.
fn checklist_of(task: &Value) -> (Vec<String>, u64) {
    let steps = task["steps"].as_array().cloned().unwrap_or_default();
    let lines = steps
        .iter()
        .map(|s| {
            let done = if s["done"] == true { " done" } else { "" };
            let (id, text) = (s["id"].as_str(), s["text"].as_str());
            format!("{} {}{done}", id.unwrap_or("?"), text.unwrap_or("?"))
        })
        .collect();
    (lines, task["steps_done"].as_u64().unwrap_or(99))
}

/// `lines` as owned strings.
fn lines(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|l| (*l).to_owned()).collect()
}

/// Steps given with a task, then added, checked, moved, renamed and
/// removed one at a time by id or place; each a change in the history.
fn checklist(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let bag = create(
        &client,
        user,
        json!({"title": "Pack the gym bag", "steps": ["shoes", "towel"]}),
    )?;
    anyhow::ensure!(
        checklist_of(&bag) == (lines(&["s1 shoes", "s2 towel"]), 0),
        "{bag}"
    );
    let steps = format!("/api/{user}/tasks/{}/steps", id(&bag));
    let added = client.post(&steps, &json!({"text": "lock", "position": 1}));
    anyhow::ensure!(added.status == 201, "{added:?}");
    let checked = client.patch(&format!("{steps}/s2"), &json!({"done": true}));
    anyhow::ensure!(checked.status == 200, "{checked:?}");
    let moved = client.patch(
        &format!("{steps}/3"),
        &json!({"position": 1, "text": "big towel"}),
    );
    let expected = lines(&["s2 big towel done", "s3 lock", "s1 shoes"]);
    anyhow::ensure!(checklist_of(&moved.body) == (expected, 1), "{moved:?}");
    let removed = client.delete(&format!("{steps}/s3"));
    let expected = lines(&["s2 big towel done", "s1 shoes"]);
    anyhow::ensure!(checklist_of(&removed.body) == (expected, 1), "{removed:?}");
    let read = client.get(&format!("/api/{user}/tasks/{}", id(&bag)));
    anyhow::ensure!(read.body["steps"] == removed.body["steps"], "{read:?}");
    let history = eventually("five entries", || {
        let reply = client.get(&format!("/api/{user}/tasks/{}/history", id(&bag)));
        let entries = reply.body["history"].as_array()?.clone();
        (entries.len() == 5).then_some(entries)
    })?;
    let only_steps = |entry: &Value| {
        let changes = entry["changes"].as_array().cloned().unwrap_or_default();
        changes.len() == 1 && changes[0]["field"] == "steps"
    };
    anyhow::ensure!(history[..4].iter().all(only_steps), "{history:?}");
    Ok(())
}

/// A completed repeating task's next occurrence has the same steps, none
/// done, in the same project.
fn repeated_checklist(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let gym = project(&client, user, json!({"name": "Gym"}))?;
    let bag = create(
        &client,
        user,
        json!({"title": "Pack the gym bag", "project_id": id(&gym), "due_at": "2031-01-06T07:00:00Z",
               "recurrence": "FREQ=WEEKLY", "steps": [{"text": "shoes", "done": true}, "towel"]}),
    )?;
    e2e::complete(&client, user, &bag, true)?;
    let next = eventually("the next occurrence", || {
        let path = format!("/api/{user}/tasks?status=pending&project={}", id(&gym));
        client.get(&path).body["tasks"].as_array()?.first().cloned()
    })?;
    anyhow::ensure!(
        next["due_at"] == "2031-01-13T07:00:00Z"
            && checklist_of(&next) == (lines(&["s1 shoes", "s2 towel"]), 0),
        "{next}"
    );
    Ok(())
}

/// A step that is not there answers 404, bad step input 400 by field, too
/// many steps 413; none changes the task.
fn bad_steps(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let bag = create(&client, user, json!({"title": "Bag", "steps": ["shoes"]}))?;
    let path = format!("/api/{user}/tasks/{}", id(&bag));
    let steps = format!("{path}/steps");
    for step in ["s9", "2", "0", "towel"] {
        let step = format!("{steps}/{step}");
        refused(
            &client.patch(&step, &json!({"done": true})),
            404,
            "not_found",
        )?;
        refused(&client.delete(&step), 404, "not_found")?;
    }
    for (body, field) in [
        (json!({}), "text"),
        (json!({"text": " "}), "text"),
        (json!({"text": "x".repeat(501)}), "text"),
        (json!({"text": "x", "position": 3}), "position"),
        (json!({"text": "x", "done": "yes"}), "done"),
        (json!({"text": "x", "after": "s1"}), "after"),
    ] {
        let reply = client.post(&steps, &body);
        refused(&reply, 400, "invalid_field")?;
        anyhow::ensure!(reply.field() == Some(field), "{body}: {reply:?}");
    }
    for (list, field) in [
        (json!([{"id": "s7", "text": "x"}]), "steps[0].id"),
        (
            json!([{"id": "s1", "text": "a"}, {"id": "s1", "text": "b"}]),
            "steps[1].id",
        ),
        (json!(["ok", 3]), "steps[1]"),
    ] {
        let reply = client.patch(&path, &json!({"steps": list}));
        refused(&reply, 400, "invalid_field")?;
        anyhow::ensure!(reply.field() == Some(field), "{list}: {reply:?}");
    }
    let many: Vec<String> = (0..101).map(|n| format!("step {n}")).collect();
    let reply = client.patch(&path, &json!({"steps": many}));
    refused(&reply, 413, "too_many_steps")?;
    anyhow::ensure!(reply.field() == Some("steps"));
    let read = client.get(&path);
    anyhow::ensure!(read.body["steps"] == bag["steps"], "{read:?}");
    Ok(())
}

/// The ids of `project`'s tasks in the order a person gave them.
fn ordered(client: &Client, user: &str, project: &str) -> anyhow::Result<Vec<String>> {
    let reply = client.get(&format!(
        "/api/{user}/tasks?project={project}&sort=order&limit=200"
    ));
    anyhow::ensure!(reply.status == 200, "{reply:?}");
    Ok(reply.body["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect())
}

/// Tasks put first, last, before and after others keep that order, move
/// to another project at a place, and each move is in the history.
fn manual_order(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let chores = project(&client, user, json!({"name": "Chores"}))?;
    let chores_id = id(&chores).to_owned();
    let mut ids = Vec::new();
    for title in ["a", "b", "c", "d", "e"] {
        let task = create(
            &client,
            user,
            json!({"title": title, "project_id": chores_id}),
        )?;
        ids.push(id(&task).to_owned());
    }
    anyhow::ensure!(
        ordered(&client, user, &chores_id)? == ids,
        "creation order first"
    );
    let moving =
        |task: &str, body: Value| client.post(&format!("/api/{user}/tasks/{task}/move"), &body);
    for (task, body) in [
        (&ids[4], json!({"to": "top"})),
        (&ids[0], json!({"after": ids[2]})),
        (&ids[3], json!({"before": ids[1]})),
    ] {
        let moved = moving(task, body);
        anyhow::ensure!(
            moved.status == 200 && moved.body["order"].is_string(),
            "{moved:?}"
        );
    }
    let expected = [&ids[4], &ids[3], &ids[1], &ids[2], &ids[0]].map(|id| id.as_str());
    anyhow::ensure!(ordered(&client, user, &chores_id)? == expected, "by hand");
    let history = eventually("the move in the history", || {
        let reply = client.get(&format!("/api/{user}/tasks/{}/history", ids[4]));
        let entries = reply.body["history"].as_array()?.clone();
        (entries.len() == 2).then_some(entries)
    })?;
    anyhow::ensure!(history[0]["changes"][0]["field"] == "order", "{history:?}");
    // Into another project, right before one of its tasks.
    let other = project(&client, user, json!({"name": "Errands"}))?;
    let stamps = create(
        &client,
        user,
        json!({"title": "stamps", "project_id": id(&other)}),
    )?;
    let moved = moving(
        &ids[2],
        json!({"project_id": id(&other), "before": id(&stamps)}),
    );
    anyhow::ensure!(
        moved.status == 200 && moved.body["project_id"] == other["id"],
        "{moved:?}"
    );
    anyhow::ensure!(ordered(&client, user, id(&other))? == [ids[2].as_str(), id(&stamps)]);
    // Bad moves change nothing.
    for (body, field) in [
        (json!({"before": id(&stamps)}), "before"),
        (json!({"after": ids[0]}), "after"),
        (json!({"to": "sideways"}), "to"),
        (json!({"to": "top", "after": ids[1]}), "after"),
        (json!({}), "to"),
        (
            json!({"to": "top", "project_id": "01KBN0000000000000000000ZZ"}),
            "project_id",
        ),
    ] {
        let reply = moving(&ids[0], body.clone());
        refused(&reply, 400, "invalid_field")?;
        anyhow::ensure!(
            reply.field() == Some(field) || body.as_object().map_or(0, |o| o.len()) == 2,
            "{body}: {reply:?}"
        );
    }
    refused(
        &moving("01KBN0000000000000000000ZZ", json!({"to": "top"})),
        404,
        "not_found",
    )?;
    let expected = [&ids[4], &ids[3], &ids[1], &ids[0]].map(|id| id.as_str());
    anyhow::ensure!(ordered(&client, user, &chores_id)? == expected, "unchanged");
    Ok(())
}

/// Many clients moving tasks of one project at once: every task stays in
/// the order once, and no two share a place.
fn concurrent_moves(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let busy = project(&client, user, json!({"name": "Busy"}))?;
    let busy_id = id(&busy).to_owned();
    let mut ids = Vec::new();
    for n in 0..30 {
        let task = create(
            &client,
            user,
            json!({"title": format!("task {n}"), "project_id": busy_id}),
        )?;
        ids.push(id(&task).to_owned());
    }
    let failures = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for worker in 0..8usize {
            let (client, ids, failures) = (stack.client(user), &ids, &failures);
            s.spawn(move || {
                for n in 0..15usize {
                    let i = (worker * 7 + n * 13) % ids.len();
                    let anchor = &ids[(i + 1 + n) % ids.len()];
                    let body = match n % 4 {
                        0 => json!({"to": "top"}),
                        1 => json!({"to": "bottom"}),
                        2 => json!({"before": anchor}),
                        _ => json!({"after": anchor}),
                    };
                    let reply = client.post(&format!("/api/{user}/tasks/{}/move", ids[i]), &body);
                    // A move beside itself is refused; anything else must pass.
                    if reply.status != 200 && !(reply.status == 400 && anchor == &ids[i]) {
                        eprintln!("{body}: {reply:?}");
                        failures.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
            });
        }
    });
    anyhow::ensure!(failures.into_inner() == 0, "some moves failed");
    let listed = client.get(&format!(
        "/api/{user}/tasks?project={busy_id}&sort=order&limit=200"
    ));
    let tasks = listed.body["tasks"].as_array().cloned().unwrap_or_default();
    let keys: Vec<String> = tasks
        .iter()
        .map(|t| {
            t["order"]
                .as_str()
                .or(t["id"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let mut seen: Vec<&str> = tasks.iter().filter_map(|t| t["id"].as_str()).collect();
    seen.sort_unstable();
    let mut all: Vec<&str> = ids.iter().map(String::as_str).collect();
    all.sort_unstable();
    anyhow::ensure!(seen == all, "every task once: {seen:?}");
    anyhow::ensure!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "no two in one place: {keys:?}"
    );
    Ok(())
}

/// The titles of a page of tasks.
fn page_titles(reply: &Reply) -> anyhow::Result<Vec<String>> {
    anyhow::ensure!(reply.status == 200, "{reply:?}");
    Ok(reply.body["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["title"].as_str().map(str::to_owned))
        .collect())
}

/// A view saved with a filter lists, page by page, what the listing given
/// the same filter by hand lists, due windows in the user's zone included,
/// and counts what it selects.
fn saved_view(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let zone = client.put(
        &format!("/api/{user}/settings"),
        &json!({"time_zone": "Pacific/Kiritimati"}),
    );
    anyhow::ensure!(zone.status == 200, "{zone:?}");
    let day = chrono::Duration::days(1);
    let now = chrono::Utc::now();
    for (title, priority, tag, due) in [
        ("late report", "high", "work", Some(now - day)),
        ("slides", "high", "work", Some(now + day)),
        ("budget", "high", "work", Some(now + day * 20)),
        ("invoice", "low", "work", Some(now + day)),
        ("gym", "high", "home", Some(now + day)),
        ("someday", "high", "work", None),
    ] {
        let due = due.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let body = json!({"title": title, "priority": priority, "tags": [tag], "due_at": due});
        create(&client, user, body)?;
    }
    let filter =
        json!({"priority": ["high"], "tag": ["work"], "due": "next_7_days", "sort": "due_at"});
    let made = client.post(
        &format!("/api/{user}/views"),
        &json!({"name": "Focus", "filter": filter}),
    );
    anyhow::ensure!(made.status == 201, "{made:?}");
    anyhow::ensure!(made.body["filter"] == filter, "{made:?}");
    anyhow::ensure!((&made.body["pending"], &made.body["overdue"]) == (&json!(1), &json!(0)));
    let view = format!("/api/{user}/views/{}", id(&made.body));
    let by_hand = "priority=high&tag=work&due=next_7_days&sort=due_at";
    let shown = page_titles(&client.get(&format!("{view}/tasks")))?;
    anyhow::ensure!(shown == ["slides"], "{shown:?}");
    anyhow::ensure!(shown == titles(&client, user, by_hand)?);

    let patched = client.patch(
        &view,
        &json!({"filter": {"status": "pending", "tag": "work", "sort": "due_at"}}),
    );
    anyhow::ensure!(patched.status == 200, "{patched:?}");
    anyhow::ensure!((&patched.body["pending"], &patched.body["overdue"]) == (&json!(5), &json!(1)));
    let first = client.get(&format!("{view}/tasks?limit=3"));
    let cursor = first.body["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut paged = page_titles(&first)?;
    paged.extend(page_titles(
        &client.get(&format!("{view}/tasks?limit=3&cursor={cursor}")),
    )?);
    let by_hand = titles(&client, user, "status=pending&tag=work&sort=due_at")?;
    anyhow::ensure!(
        paged == ["late report", "slides", "invoice", "budget", "someday"] && paged == by_hand,
        "{paged:?} against {by_hand:?}"
    );
    let listed = client.get(&format!("/api/{user}/views"));
    anyhow::ensure!(listed.body["views"][0]["name"] == "Focus", "{listed:?}");
    anyhow::ensure!(client.delete(&view).status == 204);
    refused(&client.get(&view), 404, "not_found")?;
    anyhow::ensure!(titles(&client, user, "")?.len() == 6, "the tasks stay");
    Ok(())
}

/// Another user's view is not found whatever is asked of it, and their
/// views cannot be listed.
fn view_isolation(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let other = format!("{user}-other");
    let theirs = stack.client(&other).post(
        &format!("/api/{other}/views"),
        &json!({"name": "Secret", "filter": {"tag": "secret"}}),
    );
    anyhow::ensure!(theirs.status == 201, "{theirs:?}");
    let client = stack.client(user);
    let view = format!("/api/{user}/views/{}", id(&theirs.body));
    refused(&client.get(&view), 404, "not_found")?;
    refused(&client.get(&format!("{view}/tasks")), 404, "not_found")?;
    refused(
        &client.patch(&view, &json!({"name": "Mine"})),
        404,
        "not_found",
    )?;
    refused(&client.delete(&view), 404, "not_found")?;
    refused(
        &client.get(&format!("/api/{other}/views")),
        403,
        "forbidden",
    )?;
    let still = stack.client(&other).get(&format!("/api/{other}/views"));
    anyhow::ensure!(still.body["views"][0]["name"] == "Secret", "{still:?}");
    Ok(())
}

/// Each bad view names its field and saves nothing; a taken name is a
/// conflict.
fn bad_views(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let collection = format!("/api/{user}/views");
    let long = "x".repeat(121);
    for (body, field) in [
        (json!({"filter": {}}), "name"),
        (json!({"name": "V"}), "filter"),
        (json!({"name": " ", "filter": {}}), "name"),
        (json!({"name": long, "filter": {}}), "name"),
        (
            json!({"name": "V", "filter": {"due": "soon"}}),
            "filter.due",
        ),
        (
            json!({"name": "V", "filter": {"limit": "5"}}),
            "filter.limit",
        ),
        (
            json!({"name": "V", "filter": {"project": "01KBN0000000000000000000ZZ"}}),
            "filter.project",
        ),
        (
            json!({"name": "V", "filter": {"priority": ["urgent"]}}),
            "filter.priority",
        ),
        (json!({"name": "V", "filter": "tag=work"}), "filter"),
    ] {
        let reply = client.post(&collection, &body);
        refused(&reply, 400, "invalid_field")?;
        anyhow::ensure!(reply.field() == Some(field), "{body}: {reply:?}");
    }
    let twice = client.send(
        "POST",
        &collection,
        Some(r#"{"name": "A", "name": "B", "filter": {}}"#),
    );
    anyhow::ensure!(twice.status == 400, "{twice:?}");
    let saved = client.post(
        &collection,
        &json!({"name": "Work", "filter": {"tag": "work"}}),
    );
    anyhow::ensure!(saved.status == 201, "{saved:?}");
    let again = client.post(&collection, &json!({"name": "WORK", "filter": {}}));
    refused(&again, 409, "name_taken")?;
    let view = format!("{collection}/{}", id(&saved.body));
    refused(
        &client.get(&format!("{view}/tasks?tag=home")),
        400,
        "invalid_field",
    )?;
    refused(
        &client.patch(&view, &json!({"filter": {"sort": "colour"}})),
        400,
        "invalid_field",
    )?;
    let listed = client.get(&collection);
    anyhow::ensure!(
        listed.body["views"].as_array().map(Vec::len) == Some(1)
            && listed.body["views"][0]["filter"] == json!({"tag": ["work"]}),
        "{listed:?}"
    );
    refused(
        &client.get(&format!("/api/{user}/tasks?due=someday")),
        400,
        "invalid_field",
    )?;
    Ok(())
}
