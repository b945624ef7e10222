//! The chat end to end, on both profiles: conversations through the chat
//! API that add, list, complete by number, move, undo and delete, each
//! checked against the tasks API; bad input gets a clear error and changes
//! nothing.

use e2e::{Client, Env, FakeApp, Profile, Scenario, Stack};
use serde_json::{Value, json};

const SCENARIOS: &[(&str, Scenario)] = &[
    ("a_conversation_manages_tasks", conversation),
    ("ambiguity_and_refusals_change_nothing", refusals),
    ("bad_chat_input_is_refused", bad_input),
    ("overdue_tasks_are_shown_when_asked", overdue),
    ("projects_are_made_and_listed_by_chat", projects),
    ("tasks_are_organised_by_chat", organising),
    ("a_deleted_task_is_brought_back_by_chat", brought_back),
    ("the_last_changes_are_undone_latest_first", undone),
];

fn main() {
    e2e::run_trials(
        SCENARIOS,
        &[(
            "the_llm_mode_calls_tools_and_falls_back_when_the_model_fails",
            &[Profile::Sqlite, Profile::Postgres],
            llm_mode,
        )],
    )
}

/// Says `message` in conversation `id` (a new one when `None`).
fn say(client: &Client, user: &str, id: Option<&str>, message: &str) -> anyhow::Result<Value> {
    let mut body = json!({"message": message, "time_zone": "Europe/Berlin"});
    if let Some(id) = id {
        body["conversation_id"] = json!(id);
    }
    let reply = client.post(&format!("/api/{user}/chat"), &body);
    anyhow::ensure!(reply.status == 200, "{message:?}: {reply:?}");
    Ok(reply.body)
}

fn tasks(client: &Client, user: &str, query: &str) -> Vec<Value> {
    let reply = client.get(&format!("/api/{user}/tasks?{query}"));
    reply.body["tasks"].as_array().cloned().unwrap_or_default()
}

fn titles(tasks: &[Value]) -> Vec<&str> {
    tasks
        .iter()
        .map(|t| t["title"].as_str().unwrap_or_default())
        .collect()
}

fn conversation(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let first = say(
        &client,
        user,
        None,
        "add buy milk tomorrow at 5pm #groceries high priority",
    )?;
    let id = first["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let response = first["response"].as_str().unwrap_or_default();
    anyhow::ensure!(response.starts_with("Added “buy milk”"), "{first}");
    anyhow::ensure!(first["tool_calls"][0]["tool"] == "add_task", "{first}");
    let added = &first["tool_calls"][0]["result"];
    anyhow::ensure!(
        added["priority"] == "high" && added["tags"] == json!(["groceries"]),
        "{added}"
    );
    anyhow::ensure!(added["time_zone"] == "Europe/Berlin", "{added}");
    anyhow::ensure!(
        added["due_at"]
            .as_str()
            .is_some_and(|d| d.contains("T17:00:00+01:00") || d.contains("T17:00:00+02:00")),
        "{added}"
    );
    let id = id.as_str();
    say(&client, user, Some(id), "add call the dentist on Friday")?;
    say(
        &client,
        user,
        Some(id),
        "remind me to pay rent on the last day of every month",
    )?;
    let pending = tasks(&client, user, "status=pending");
    anyhow::ensure!(titles(&pending).len() == 3, "{pending:#?}");
    let rent = pending
        .iter()
        .find(|t| t["title"] == "pay rent")
        .cloned()
        .unwrap_or_default();
    anyhow::ensure!(rent["recurrence"] == "FREQ=MONTHLY;BYMONTHDAY=-1", "{rent}");
    anyhow::ensure!(
        rent["reminders"] == json!([{"minutes_before": 0, "fires_at": rent["due_at"]}]),
        "{rent}"
    );

    // A listing, then "complete 2" acts on its second task.
    let listed = say(&client, user, Some(id), "list my tasks")?;
    let shown = listed["tool_calls"][0]["result"]["tasks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    anyhow::ensure!(shown.len() == 3, "{listed}");
    let second = shown[1]["id"].clone();
    let done = say(&client, user, Some(id), "complete 2")?;
    anyhow::ensure!(done["tool_calls"][0]["result"]["id"] == second, "{done}");
    let completed = tasks(&client, user, "status=completed");
    anyhow::ensure!(
        completed.iter().any(|t| t["id"] == second),
        "{completed:#?}"
    );

    // Undo marks it back.
    let undone = say(&client, user, Some(id), "undo")?;
    anyhow::ensure!(
        undone["response"]
            .as_str()
            .is_some_and(|r| r.starts_with("Undone")),
        "{undone}"
    );
    anyhow::ensure!(
        tasks(&client, user, "status=completed").is_empty(),
        "reopened by undo"
    );

    // Move by title; the tasks API shows the new due date.
    let moved = say(&client, user, Some(id), "move the dentist to Friday 3pm")?;
    let due = moved["tool_calls"][0]["result"]["due_at"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    anyhow::ensure!(due.contains("T15:00:00"), "{moved}");
    let dentist = tasks(&client, user, "q=dentist");
    anyhow::ensure!(dentist[0]["due_at"] == due.as_str(), "{dentist:#?}");

    // "it" is the task of the last change.
    let urgent = say(&client, user, Some(id), "make it high priority")?;
    anyhow::ensure!(
        urgent["tool_calls"][0]["result"]["priority"] == "high",
        "{urgent}"
    );
    let undone = say(&client, user, Some(id), "undo")?;
    anyhow::ensure!(
        undone["response"]
            .as_str()
            .is_some_and(|r| r.starts_with("Undone")),
        "{undone}"
    );
    anyhow::ensure!(
        tasks(&client, user, "q=dentist")[0]["priority"] == "none",
        "undo put it back"
    );

    // Delete, and undo brings it back.
    say(&client, user, Some(id), "delete the dentist task")?;
    anyhow::ensure!(tasks(&client, user, "q=dentist").is_empty(), "deleted");
    say(&client, user, Some(id), "undo")?;
    anyhow::ensure!(
        tasks(&client, user, "q=dentist").len() == 1,
        "back after undo"
    );

    // The conversation, as stored.
    let read = client.get(&format!("/api/{user}/conversations/{id}"));
    anyhow::ensure!(read.status == 200, "{read:?}");
    let messages = read.body["messages"].as_array().map(Vec::len).unwrap_or(0);
    anyhow::ensure!(
        messages == 2 * 11,
        "every message and answer kept: {messages}"
    );
    Ok(())
}

fn brought_back(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let first = say(&client, user, None, "add dentist on friday at 10 #health")?;
    let id = first["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let id = id.as_str();
    let made = tasks(&client, user, "q=dentist");
    anyhow::ensure!(made.len() == 1, "{made:?}");
    say(&client, user, Some(id), "delete the dentist task")?;
    anyhow::ensure!(tasks(&client, user, "q=dentist").is_empty());
    // What changed lately says what happened to it.
    let changed = say(&client, user, Some(id), "show my activity")?;
    let lines = changed["response"].as_str().unwrap_or_default();
    anyhow::ensure!(
        lines.contains("deleted “dentist”") && lines.contains("added “dentist”"),
        "{changed}"
    );
    // Nothing deleted by that name: it says so and changes nothing.
    let none = say(&client, user, Some(id), "bring back the unicorn task")?;
    anyhow::ensure!(
        none["response"]
            .as_str()
            .is_some_and(|r| r.contains("no deleted task")),
        "{none}"
    );
    let back = say(&client, user, Some(id), "bring back the dentist task")?;
    anyhow::ensure!(
        back["response"]
            .as_str()
            .is_some_and(|r| r.starts_with("Brought back “dentist”")),
        "{back}"
    );
    let mut listed = tasks(&client, user, "q=dentist");
    // The same task, as it was (only its updated_at moved).
    for task in listed.iter_mut() {
        task["updated_at"] = made[0]["updated_at"].clone();
    }
    anyhow::ensure!(listed == made, "{listed:?}\n{made:?}");
    // Undo takes it away again.
    say(&client, user, Some(id), "undo")?;
    anyhow::ensure!(tasks(&client, user, "q=dentist").is_empty());
    Ok(())
}

fn undone(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let first = say(&client, user, None, "add water the plants")?;
    let id = first["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let id = id.as_str();
    say(&client, user, Some(id), "add feed the cat")?;
    say(&client, user, Some(id), "complete it")?;
    anyhow::ensure!(tasks(&client, user, "status=completed").len() == 1);
    // Two back: the completion, then the add.
    let two = say(&client, user, Some(id), "undo the last two changes")?;
    let response = two["response"].as_str().unwrap_or_default();
    anyhow::ensure!(
        response.contains("“feed the cat” is not done again")
            && response.contains("removed “feed the cat” again"),
        "{two}"
    );
    let left: Vec<Value> = tasks(&client, user, "status=all");
    anyhow::ensure!(
        left.len() == 1 && left[0]["title"] == "water the plants",
        "{left:?}"
    );
    // More than there is: what there was, and it says so.
    let all = say(&client, user, Some(id), "undo 5")?;
    let response = all["response"].as_str().unwrap_or_default();
    anyhow::ensure!(
        response.contains("removed “water the plants” again")
            && response.contains("That was all there was to undo."),
        "{all}"
    );
    anyhow::ensure!(tasks(&client, user, "status=all").is_empty());
    Ok(())
}

fn refusals(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let first = say(&client, user, None, "add call mom")?;
    let id = first["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let id = id.as_str();
    say(&client, user, Some(id), "add call the bank")?;
    // Two match "call": it asks which, listing them, and changes nothing.
    let asked = say(&client, user, Some(id), "done with call")?;
    let response = asked["response"].as_str().unwrap_or_default();
    anyhow::ensure!(
        response.contains("which one")
            && response.contains("call mom")
            && response.contains("call the bank"),
        "{asked}"
    );
    anyhow::ensure!(tasks(&client, user, "status=completed").is_empty());
    // The answer's numbers pick from that list.
    let picked = say(&client, user, Some(id), "complete 2")?;
    anyhow::ensure!(
        picked["response"]
            .as_str()
            .is_some_and(|r| r.contains("as done")),
        "{picked}"
    );
    anyhow::ensure!(tasks(&client, user, "status=completed").len() == 1);
    // None match: it says so.
    let none = say(&client, user, Some(id), "delete the unicorn task")?;
    anyhow::ensure!(
        none["response"]
            .as_str()
            .is_some_and(|r| r.contains("No task matches")),
        "{none}"
    );
    anyhow::ensure!(
        tasks(&client, user, "status=all").len() == 2,
        "nothing deleted"
    );
    // Not understood: a question back, nothing done.
    let unclear = say(&client, user, Some(id), "tell me a joke")?;
    anyhow::ensure!(unclear["tool_calls"] == json!([]), "{unclear}");
    Ok(())
}

fn bad_input(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let path = format!("/api/{user}/chat");
    for (body, field) in [
        (json!({"message": ""}), "message"),
        (json!({"message": "   "}), "message"),
        (json!({"message": "x".repeat(2001)}), "message"),
        (json!({"message": 5}), "message"),
        (json!({}), "message"),
        (
            json!({"message": "hi", "time_zone": "Mars/Base"}),
            "time_zone",
        ),
        (json!({"message": "hi", "colour": "red"}), "colour"),
    ] {
        let reply = client.post(&path, &body);
        anyhow::ensure!(
            reply.status == 400 && reply.field() == Some(field),
            "{body}: {reply:?}"
        );
    }
    let unknown = client.post(
        &path,
        &json!({"message": "list", "conversation_id": "01KB9X3D5E6F7G8H9J0KMNPQRS"}),
    );
    anyhow::ensure!(unknown.status == 404, "{unknown:?}");
    // An id the chat never gives, control characters and all: no such
    // conversation (found by schemathesis: daprd dropped the connection).
    let odd = client.post(
        &path,
        &json!({"message": "list", "conversation_id": "w\u{8}\u{10} x"}),
    );
    anyhow::ensure!(odd.status == 404, "{odd:?}");
    // Another user's conversation is not theirs to read or continue.
    let mine = say(&client, user, None, "add secret plan")?;
    let id = mine["conversation_id"].as_str().unwrap_or_default();
    let other = format!("{user}-x");
    let theirs = stack.client(&other);
    let read = theirs.get(&format!("/api/{other}/conversations/{id}"));
    anyhow::ensure!(read.status == 404, "{read:?}");
    let read = theirs.get(&format!("/api/{user}/conversations/{id}"));
    anyhow::ensure!(read.status == 403, "{read:?}");
    let continued = theirs.post(
        &format!("/api/{other}/chat"),
        &json!({"message": "list", "conversation_id": id}),
    );
    anyhow::ensure!(continued.status == 404, "{continued:?}");
    anyhow::ensure!(tasks(&theirs, &other, "status=all").is_empty());
    Ok(())
}

/// A fake OpenAI-compatible server (named as a fake: no model here) that
/// plays a script: a tool call of `add_task`, then an answer; then a tool
/// call whose arguments are not JSON, then an answer; then failures.
fn fake_model() -> anyhow::Result<FakeApp> {
    let call = |id: &str, name: &str, arguments: &str| {
        json!({"choices": [{"message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}]}}]})
        .to_string()
    };
    let text = |content: &str| {
        json!({"choices": [{"message": {"role": "assistant", "content": content}}]}).to_string()
    };
    let script = [
        (
            200,
            call(
                "call_1",
                "add_task",
                r#"{"title": "Buy oat milk", "priority": "high"}"#,
            ),
        ),
        (200, text("Added “Buy oat milk” with high priority.")),
        (200, call("call_2", "add_task", "{not json")),
        (200, text("Sorry, I could not add that.")),
    ];
    FakeApp::answering(move |n, _| {
        script
            .get(n)
            .cloned()
            .unwrap_or((503, r#"{"error": "overloaded"}"#.into()))
    })
}

fn llm_mode(env: &Env, profile: Profile) -> anyhow::Result<()> {
    let model = fake_model()?;
    let key = "sk-test-never-logged";
    e2e::never_logged(key)?;
    let variables = [
        (
            "SPIN_VARIABLE_LLM_BASE_URL",
            format!("http://127.0.0.1:{}/v1", model.port),
        ),
        ("SPIN_VARIABLE_LLM_MODEL", "fake-model".to_owned()),
        ("SPIN_VARIABLE_LLM_API_KEY", key.to_owned()),
    ];
    let stack = Stack::start_with(env, profile, &variables)?;
    let user = "llm-user";
    let client = stack.client(user);
    let first = say(&client, user, None, "I need oat milk, it's urgent")?;
    anyhow::ensure!(
        first["response"] == "Added “Buy oat milk” with high priority.",
        "{first}"
    );
    anyhow::ensure!(first["tool_calls"][0]["tool"] == "add_task", "{first}");
    let added = tasks(&client, user, "status=pending");
    anyhow::ensure!(
        titles(&added) == ["Buy oat milk"] && added[0]["priority"] == "high",
        "{added:#?}"
    );
    let requests = model.received();
    anyhow::ensure!(requests.len() == 2, "{requests:#?}");
    let first_request: Value = serde_json::from_slice(&requests[0].body)?;
    anyhow::ensure!(
        requests[0].path == "/v1/chat/completions",
        "{:?}",
        requests[0].path
    );
    anyhow::ensure!(requests[0].header("authorization") == Some(&format!("Bearer {key}")[..]));
    let offered: Vec<&str> = first_request["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    anyhow::ensure!(
        offered.contains(&"add_task") && offered.contains(&"list_tasks"),
        "{first_request}"
    );
    // The tool's result went back to the model.
    let second_request: Value = serde_json::from_slice(&requests[1].body)?;
    let last = second_request["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    anyhow::ensure!(
        last["role"] == "tool" && last["tool_call_id"] == "call_1",
        "{last}"
    );
    anyhow::ensure!(
        last["content"]
            .as_str()
            .is_some_and(|c| c.contains("Buy oat milk")),
        "{last}"
    );

    // A malformed tool call: an error goes back to the model, nothing is done.
    let id = first["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let second = say(&client, user, Some(&id), "add something odd")?;
    anyhow::ensure!(
        second["tool_calls"][0]["result"]["error"].is_string(),
        "{second}"
    );
    anyhow::ensure!(
        tasks(&client, user, "status=all").len() == 1,
        "nothing added"
    );

    // The model fails: the built-in engine answers, and says so.
    let third = say(&client, user, Some(&id), "add buy bread tomorrow")?;
    let response = third["response"].as_str().unwrap_or_default();
    anyhow::ensure!(
        response.contains("Added “buy bread”") && response.contains("built-in engine"),
        "{third}"
    );
    anyhow::ensure!(
        tasks(&client, user, "status=all").len() == 2,
        "added by the engine"
    );
    // The key was never logged.
    anyhow::ensure!(
        !stack.host_log().contains(key),
        "the key is in the host's log"
    );
    Ok(())
}

/// "show overdue tasks" lists a task due in the past and not done, and
/// neither a done one nor one due later.
fn overdue(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    for (title, due) in [
        ("Renew the insurance", "2026-01-10T09:00:00Z"),
        ("Book the flights", "2031-01-10T09:00:00Z"),
        ("Return the library books", "2026-01-12T09:00:00Z"),
    ] {
        e2e::create(&client, user, json!({"title": title, "due_at": due}))?;
    }
    let done = e2e::create(
        &client,
        user,
        json!({"title": "Old and done", "due_at": "2026-01-01T09:00:00Z"}),
    )?;
    e2e::complete(&client, user, &done, true)?;
    for message in [
        "show overdue tasks",
        "what's overdue?",
        "show my overdue tasks",
    ] {
        let answer = say(&client, user, None, message)?;
        let text = answer["response"].as_str().unwrap_or_default();
        anyhow::ensure!(
            text.contains("1. Renew the insurance")
                && text.contains("2. Return the library books")
                && !text.contains("Book the flights")
                && !text.contains("Old and done"),
            "{message:?}: {text}"
        );
    }
    Ok(())
}

/// "create a project called Garden" makes it; "show my projects" lists it
/// beside the Inbox with its counts.
fn projects(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let made = say(&client, user, None, "create a project called Garden")?;
    let text = made["response"].as_str().unwrap_or_default();
    anyhow::ensure!(text.contains("Garden"), "{made}");
    let listed = client.get(&format!("/api/{user}/projects"));
    let names: Vec<&str> = (listed.body["projects"].as_array().into_iter().flatten())
        .filter_map(|p| p["name"].as_str())
        .collect();
    anyhow::ensure!(names == ["Inbox", "Garden"], "{listed:?}");
    let again = say(&client, user, None, "create a project called garden")?;
    let text = again["response"].as_str().unwrap_or_default();
    anyhow::ensure!(text.contains("already"), "{again}");
    let shown = say(&client, user, None, "show my projects")?;
    let text = shown["response"].as_str().unwrap_or_default();
    anyhow::ensure!(
        text.contains("Inbox") && text.contains("Garden (0 to do, 0 overdue)"),
        "{shown}"
    );
    Ok(())
}

/// Adds to a project and moves between projects by name, a checklist
/// added and checked off, the order given by hand, and a saved view shown,
/// all in one conversation as a person would say them.
fn organising(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let first = say(&client, user, None, "new list Groceries")?;
    let id = first["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let say = |message: &str| -> anyhow::Result<String> {
        let reply = say(&client, user, Some(&id), message)?;
        Ok(reply["response"].as_str().unwrap_or_default().to_owned())
    };
    say("create a project called Work")?;
    say("add milk to groceries")?;
    say("add the report to work")?;
    say("add slides")?;
    let moved = say("move the slides to Work")?;
    anyhow::ensure!(moved.contains("Work"), "{moved}");
    let work: Value = client.get(&format!("/api/{user}/projects")).body;
    let work_id = work["projects"][2]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let in_work = |query: &str| tasks(&client, user, &format!("project={work_id}&{query}"));
    anyhow::ensure!(titles(&in_work("sort=order")) == ["the report", "slides"]);
    let groceries = tasks(&client, user, "q=milk");
    anyhow::ensure!(
        groceries[0]["project_id"] == work["projects"][1]["id"],
        "{groceries:?}"
    );

    let put = say("put it first")?;
    anyhow::ensure!(put.contains("top"), "{put}");
    anyhow::ensure!(titles(&in_work("sort=order")) == ["slides", "the report"]);
    say("move the slides below the report")?;
    anyhow::ensure!(titles(&in_work("sort=order")) == ["the report", "slides"]);
    let listed = say("what's in my Work list?")?;
    anyhow::ensure!(
        listed.contains("the report") && listed.contains("slides") && !listed.contains("milk"),
        "{listed}"
    );

    say("add pack the gym bag")?;
    let stepped = say("add steps to pack the gym bag: shoes, towel, lock")?;
    anyhow::ensure!(stepped.contains("3 steps"), "{stepped}");
    let checked = say("check off towel")?;
    anyhow::ensure!(checked.contains("1 of 3"), "{checked}");
    let bag = tasks(&client, user, "q=gym");
    anyhow::ensure!(
        bag[0]["steps"][1]["done"] == true && bag[0]["steps_done"] == 1,
        "{bag:?}"
    );

    let saved = client.post(
        &format!("/api/{user}/views"),
        &json!({"name": "Weekly review", "filter": {"project": work_id, "sort": "order"}}),
    );
    anyhow::ensure!(saved.status == 201, "{saved:?}");
    let shown = say("show my weekly review view")?;
    anyhow::ensure!(
        shown.starts_with("Weekly review:")
            && shown.contains("1. the report")
            && shown.contains("2. slides"),
        "{shown}"
    );
    let done = say("complete 2")?;
    anyhow::ensure!(
        done.contains("slides"),
        "numbers follow the view shown: {done}"
    );
    let views = say("show my views")?;
    anyhow::ensure!(
        views.contains("Weekly review (1 to do, 0 overdue)"),
        "{views}"
    );
    Ok(())
}
