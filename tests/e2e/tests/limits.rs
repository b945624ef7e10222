//! The users' limits end to end, on both profiles, with small limits set
//! through the Spin variables: over each, the API answers 413 or 429 with
//! the contract's error JSON and changes nothing.

use e2e::{Client, Env, Profile, Stack};
use serde_json::{Value, json};

fn main() {
    e2e::run_trials(
        &[],
        &[(
            "each_limit_is_answered_clearly_and_changes_nothing",
            &[Profile::Sqlite, Profile::Postgres],
            limits,
        )],
    )
}

fn titles(client: &Client, user: &str) -> Vec<String> {
    let reply = client.get(&format!("/api/{user}/tasks?status=all&sort=title"));
    reply.body["tasks"]
        .as_array()
        .map(|tasks| {
            tasks
                .iter()
                .map(|t| t["title"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn error_code(reply: &e2e::Reply) -> &str {
    reply.body["error"]["code"].as_str().unwrap_or_default()
}

fn limits(env: &Env, profile: Profile) -> anyhow::Result<()> {
    let variables = [
        ("SPIN_VARIABLE_MAX_TASKS_PER_USER", "3".to_owned()),
        ("SPIN_VARIABLE_MAX_TAGS_PER_TASK", "2".to_owned()),
        ("SPIN_VARIABLE_CHAT_MESSAGES_PER_MINUTE", "2".to_owned()),
        ("SPIN_VARIABLE_MAX_BODY_BYTES", "2000".to_owned()),
        ("SPIN_VARIABLE_MAX_QUERY_BYTES", "200".to_owned()),
        ("SPIN_VARIABLE_SIGN_IN_FREE_FAILURES", "1".to_owned()),
        ("SPIN_VARIABLE_SIGN_IN_LOCK_AFTER", "2".to_owned()),
        ("SPIN_VARIABLE_SIGN_IN_LOCKED_SECONDS", "120".to_owned()),
    ];
    let stack = Stack::start_with(env, profile, &variables)?;
    let user = "limited";
    let client = stack.client(user);
    let tasks = format!("/api/{user}/tasks");

    // Tags per task: 413, naming the field; nothing added.
    let tagged = client.post(&tasks, &json!({"title": "tagged", "tags": ["a", "b", "c"]}));
    anyhow::ensure!(
        (tagged.status, error_code(&tagged), tagged.field())
            == (413, "too_many_tags", Some("tags")),
        "{tagged:?}"
    );
    anyhow::ensure!(titles(&client, user).is_empty());

    // Tasks per user, counted in each create's own transaction: 429 past
    // three, at once.
    for title in ["a", "b", "c"] {
        let created = client.post(&tasks, &json!({"title": title, "tags": ["x", "y"]}));
        anyhow::ensure!(created.status == 201, "{created:?}");
    }
    let fourth = client.post(&tasks, &json!({"title": "d"}));
    anyhow::ensure!(
        (fourth.status, error_code(&fourth)) == (429, "too_many_tasks"),
        "{fourth:?}"
    );
    anyhow::ensure!(
        titles(&client, user) == ["a", "b", "c"],
        "{:?}",
        titles(&client, user)
    );
    // A patch that adds a tag past the limit: 413, the task as it was.
    let id = client.get(&format!("{tasks}?sort=title&limit=1")).body["tasks"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let more = client.patch(&format!("{tasks}/{id}"), &json!({"tags": ["x", "y", "z"]}));
    anyhow::ensure!(
        (more.status, more.field()) == (413, Some("tags")),
        "{more:?}"
    );
    let task = client.get(&format!("{tasks}/{id}")).body;
    anyhow::ensure!(task["tags"] == json!(["x", "y"]), "{task}");
    // Deleting one makes room again, at once.
    anyhow::ensure!(client.delete(&format!("{tasks}/{id}")).status == 204);
    let again = client.post(&tasks, &json!({"title": "d"}));
    anyhow::ensure!(again.status == 201, "{again:?}");

    // Body and query sizes: 413; nothing added.
    let long = "x".repeat(2100);
    let large = client.post(&tasks, &json!({"title": "big", "description": long}));
    anyhow::ensure!(
        (large.status, error_code(&large)) == (413, "payload_too_large"),
        "{large:?}"
    );
    let query = format!("{tasks}?q={}", "y".repeat(250));
    let listed = client.get(&query);
    anyhow::ensure!(
        (listed.status, error_code(&listed)) == (413, "query_too_long"),
        "{listed:?}"
    );
    anyhow::ensure!(
        titles(&client, user) == ["b", "c", "d"],
        "{:?}",
        titles(&client, user)
    );

    // Chat messages a minute: the third in a minute gets 429 and
    // Retry-After, and its "add" is not done.
    let chat = stack.url(&format!("/api/{user}/chat"));
    let say = |message: &str| -> anyhow::Result<(u16, Option<String>, Value)> {
        let mut answer = ureq::post(&chat)
            .header(
                "authorization",
                &format!("Bearer {}", e2e::token(user, 3600, e2e::SECRET)),
            )
            .header("content-type", "application/json")
            .config()
            .http_status_as_error(false)
            .build()
            .send(json!({"message": message}).to_string())?;
        let retry = answer
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = serde_json::from_str(&answer.body_mut().read_to_string()?)?;
        Ok((answer.status().as_u16(), retry, body))
    };
    // The three messages must fall in one minute: not too near its end.
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second > 45 {
        std::thread::sleep(std::time::Duration::from_secs((61 - second) as u64));
    }
    // Messages that change nothing, so that the minute's count is all that differs.
    for message in ["what's due today?", "help"] {
        let (status, _, body) = say(message)?;
        anyhow::ensure!(status == 200, "{message}: {status} {body}");
    }
    let (status, retry, body) = say("add chatted task")?;
    anyhow::ensure!(
        status == 429 && body["error"]["code"] == "too_many_messages",
        "{status} {body}"
    );
    let seconds: u32 = retry.as_deref().unwrap_or_default().parse()?;
    anyhow::ensure!((1..=60).contains(&seconds), "Retry-After {retry:?}");
    anyhow::ensure!(!titles(&client, user).iter().any(|t| t == "chatted task"));
    sign_in_limits(&stack)
}

/// Sign-ins with one free failure, a lock after two for two minutes (the
/// defaults would answer 401 and 200 where these answer 429).
fn sign_in_limits(stack: &Stack) -> anyhow::Result<()> {
    let anonymous = Client::new(stack.url(""), None);
    let post = |action: &str, password: &str| {
        let body = json!({"username": "locksmith", "password": password});
        anonymous.post(&format!("/api/auth/{action}"), &body)
    };
    anyhow::ensure!(post("signup", "right password").status == 201);
    let wrong = post("signin", "wrong password");
    anyhow::ensure!(wrong.status == 401, "{wrong:?}");
    // After one failure the next try must wait a second, right or not.
    let slowed = post("signin", "right password");
    anyhow::ensure!(
        (slowed.status, error_code(&slowed), slowed.retry_after)
            == (429, "too_many_attempts", Some(1)),
        "{slowed:?}"
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // The second failure in a row locks the account for two minutes.
    let wrong = post("signin", "wrong password");
    anyhow::ensure!(wrong.status == 401, "{wrong:?}");
    let locked = post("signin", "right password");
    anyhow::ensure!(
        locked.status == 429 && locked.retry_after.is_some_and(|s| (60..=120).contains(&s)),
        "{locked:?}"
    );
    Ok(())
}
