//! The MCP endpoint end to end, on both profiles: the official MCP Python
//! SDK (`tests/e2e/mcp/client.py`, the `mcp` package from PyPI) lists the
//! tools and adds, lists and completes a task, a keyed add once; a token for another user
//! cannot touch it. Plus the protocol's errors, by hand.

use std::process::Command;

use e2e::{SECRET, Scenario, Stack, token};
use serde_json::{Value, json};

const SCENARIOS: &[(&str, Scenario)] = &[
    ("the_official_sdk_manages_tasks_and_only_its_users", sdk),
    ("bad_mcp_requests_get_clear_errors", protocol_errors),
];

fn main() {
    e2e::run_trials(SCENARIOS, &[])
}

fn sdk(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let python = std::env::var("TODO_MCP_PYTHON").map_err(|_| {
        anyhow::anyhow!("TODO_MCP_PYTHON is not set: run the tests with scripts/test")
    })?;
    let script = e2e::repo_root().join("tests/e2e/mcp/client.py");
    let other = format!("{user}-other");
    let output = Command::new(python)
        .arg(script)
        .arg(stack.url("/mcp"))
        .arg(token(user, 3600, SECRET))
        .arg(token(&other, 3600, SECRET))
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "the client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let steps: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["step"] == name)
            .map(|s| s["value"].clone())
            .unwrap_or(Value::Null)
    };
    anyhow::ensure!(step("initialized")["server"] == "todo-chatbot", "{stdout}");
    let tools = step("tools");
    let names: Vec<&str> = tools
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    anyhow::ensure!(
        names
            == [
                "add_task",
                "list_tasks",
                "search_tasks",
                "complete_task",
                "update_task",
                "delete_task",
                "restore_task",
                "list_activity",
                "list_projects",
                "add_project",
                "update_project",
                "move_task",
                "add_steps",
                "complete_step",
                "list_views",
                "add_view",
                "show_view",
                "update_view",
                "delete_view"
            ],
        "{tools}"
    );
    anyhow::ensure!(
        tools[1]["read_only"] == true && tools[5]["destructive"] == true,
        "{tools}"
    );
    let added = step("added");
    anyhow::ensure!(added["is_error"] == false, "{added}");
    anyhow::ensure!(
        added["structured"]["due_at"] == "2030-01-02T09:00:00+01:00",
        "{added}"
    );
    let id = added["structured"]["id"].clone();
    let listed = step("listed");
    anyhow::ensure!(listed["structured"]["tasks"][0]["id"] == id, "{listed}");
    let bad = step("bad");
    anyhow::ensure!(
        bad["is_error"] == true && bad["text"].as_str().is_some_and(|t| t.contains("title")),
        "{bad}"
    );
    anyhow::ensure!(
        step("completed")["structured"]["completed"] == true,
        "{stdout}"
    );
    let batch = step("batch_added");
    anyhow::ensure!(
        batch["structured"]["results"].as_array().map(Vec::len) == Some(2),
        "{batch}"
    );
    let both = step("batch_completed");
    let done: Vec<&Value> = both["structured"]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    anyhow::ensure!(
        done.len() == 2 && done.iter().all(|t| t["completed"] == true),
        "{both}"
    );
    // A keyed add sent again answers the same task; another body with the
    // key, or a bad key, is refused and makes nothing.
    let keyed = step("keyed");
    let again = step("keyed_again");
    anyhow::ensure!(
        keyed["is_error"] == false && again["structured"] == keyed["structured"],
        "{keyed}\n{again}"
    );
    for (name, says) in [
        ("keyed_other", "used for another request"),
        ("keyed_bad", "idempotency_key"),
    ] {
        let refused = step(name);
        anyhow::ensure!(
            refused["is_error"] == true
                && refused["text"].as_str().is_some_and(|t| t.contains(says)),
            "{name}: {refused}"
        );
    }
    let restored = step("restored");
    anyhow::ensure!(
        restored["is_error"] == false && restored["structured"]["id"] == keyed["structured"]["id"],
        "{restored}"
    );
    // What changed, newest first: the restore, then the deletion.
    let activity = step("activity");
    let kinds: Vec<&str> = (activity["structured"]["activity"]
        .as_array()
        .into_iter()
        .flatten())
    .take(2)
    .filter_map(|a| a["event_type"].as_str())
    .collect();
    anyhow::ensure!(kinds == ["created", "deleted"], "{activity}");
    let passports = stack
        .client(user)
        .get(&format!("/api/{user}/tasks?status=all&q=renew"));
    let titles: Vec<&str> = (passports.body["tasks"].as_array().into_iter().flatten())
        .filter_map(|t| t["title"].as_str())
        .collect();
    anyhow::ensure!(titles == ["Renew the passport"], "{}", passports.body);
    // Projects and steps, by name and by words as a person gives them.
    let project = step("project_added");
    anyhow::ensure!(project["structured"]["name"] == "Gym", "{project}");
    let moved = step("moved");
    anyhow::ensure!(
        moved["structured"]["project_id"] == project["structured"]["id"],
        "{moved}"
    );
    let in_gym = step("listed_in_project");
    anyhow::ensure!(
        in_gym["structured"]["tasks"].as_array().map(Vec::len) == Some(1)
            && in_gym["structured"]["tasks"][0]["title"] == "Pack the gym bag",
        "{in_gym}"
    );
    let stepped = step("steps_added");
    anyhow::ensure!(
        stepped["structured"]["steps"].as_array().map(Vec::len) == Some(3),
        "{stepped}"
    );
    let checked = step("step_checked");
    anyhow::ensure!(
        checked["structured"]["steps"][1]["done"] == true
            && checked["structured"]["steps_done"] == 1,
        "{checked}"
    );
    // A task added to a project by name, put first, and a view of the
    // project in that order.
    let bottle = step("added_in_project");
    anyhow::ensure!(
        bottle["structured"]["project_id"] == project["structured"]["id"],
        "{bottle}"
    );
    anyhow::ensure!(step("reordered")["is_error"] == false, "{stdout}");
    let view = step("view_added");
    anyhow::ensure!(
        view["structured"]["filter"]["project"] == project["structured"]["id"]
            && view["structured"]["pending"] == 2,
        "{view}"
    );
    let shown = step("view_shown");
    let titles: Vec<&str> = (shown["structured"]["tasks"]
        .as_array()
        .into_iter()
        .flatten())
    .filter_map(|t| t["title"].as_str())
    .collect();
    anyhow::ensure!(titles == ["Fill the bottle", "Pack the gym bag"], "{shown}");
    anyhow::ensure!(
        step("views_listed")["structured"]["views"][0]["name"] == "Gym in order",
        "{stdout}"
    );
    anyhow::ensure!(step("view_deleted")["is_error"] == false, "{stdout}");
    let gone = step("view_gone");
    anyhow::ensure!(
        gone["is_error"] == true && gone["text"].as_str().is_some_and(|t| t.contains("no view")),
        "{gone}"
    );
    let counted = step("projects_listed");
    anyhow::ensure!(
        counted["structured"]["projects"][1]["name"] == "Gym"
            && counted["structured"]["projects"][1]["pending"] == 1,
        "{counted}"
    );
    let archived = step("project_archived");
    anyhow::ensure!(archived["structured"]["archived"] == true, "{archived}");
    let unknown = step("unknown_project");
    anyhow::ensure!(unknown["is_error"] == true, "{unknown}");
    // The other user's token reaches none of it.
    for name in ["other_complete", "other_delete"] {
        let refused = step(name);
        anyhow::ensure!(refused["is_error"] == true, "{name}: {refused}");
    }
    anyhow::ensure!(
        step("other_list")["structured"]["tasks"] == json!([]),
        "{stdout}"
    );
    // The task stands, done, for its user.
    let client = stack.client(user);
    let task = client.get(&format!(
        "/api/{user}/tasks/{}",
        id.as_str().unwrap_or_default()
    ));
    anyhow::ensure!(
        task.status == 200 && task.body["completed"] == true,
        "{task:?}"
    );
    Ok(())
}

fn protocol_errors(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let call = |body: &str| client.send("POST", "/mcp", Some(body));
    let unknown = call(r#"{"jsonrpc":"2.0","id":1,"method":"tasks/explode"}"#);
    anyhow::ensure!(unknown.body["error"]["code"] == -32601, "{unknown:?}");
    let tool = call(
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"fly","arguments":{}}}"#,
    );
    anyhow::ensure!(tool.body["error"]["code"] == -32602, "{tool:?}");
    let garbage = call("{not json");
    anyhow::ensure!(
        garbage.status == 400 && garbage.body["error"]["code"] == -32700,
        "{garbage:?}"
    );
    let note = call(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    anyhow::ensure!(note.status == 202, "{note:?}");
    let anonymous = client.with_token(None).send(
        "POST",
        "/mcp",
        Some(r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#),
    );
    anyhow::ensure!(anonymous.status == 401, "{anonymous:?}");
    let get = client.get("/mcp");
    anyhow::ensure!(get.status == 405, "{get:?}");
    Ok(())
}
