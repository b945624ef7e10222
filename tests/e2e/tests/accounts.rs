//! Accounts end to end, on both profiles: sign up and sign in answer a
//! token the tasks API takes; names are unique; wrong passwords are told
//! apart from nothing, slowed down and then locked; a forged token is
//! refused; the password's hash never leaves the server.

use e2e::{Client, Scenario, Stack};
use serde_json::{Value, json};

const SCENARIOS: &[(&str, Scenario)] = &[
    ("a_signed_up_user_uses_the_api_with_its_token", signed_up),
    ("names_are_unique_and_failed_sign_ins_wait", failures),
];

fn main() {
    e2e::run_trials(SCENARIOS, &[])
}

fn post(stack: &Stack, action: &str, body: &Value) -> e2e::Reply {
    Client::new(stack.url(""), None).post(&format!("/api/auth/{action}"), body)
}

fn signed_up(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let credentials = json!({"username": user.to_uppercase(), "password": "correct horse battery"});
    let signed = post(stack, "signup", &credentials);
    anyhow::ensure!(
        signed.status == 201 && signed.body["user_id"] == user,
        "{signed:?}"
    );
    let token = signed.body["token"].as_str().unwrap_or_default().to_owned();
    let text = signed.body.to_string();
    anyhow::ensure!(
        !text.contains("argon2") && !text.contains("correct horse"),
        "{text}"
    );
    let client = Client::new(stack.url(""), Some(token.clone()));
    let created = client.post(
        &format!("/api/{user}/tasks"),
        &json!({"title": "signed up"}),
    );
    anyhow::ensure!(
        created.status == 201,
        "the token works on the API: {created:?}"
    );
    let other = client.get(&format!("/api/{user}-x/tasks"));
    anyhow::ensure!(other.status == 403, "and only for its user: {other:?}");
    // Signing in again, and renewing a token.
    let again = post(
        stack,
        "signin",
        &json!({"username": user, "password": "correct horse battery"}),
    );
    anyhow::ensure!(again.status == 200, "{again:?}");
    let renewed = client.post("/api/auth/refresh", &json!({}));
    anyhow::ensure!(
        renewed.status == 200 && renewed.body["user_id"] == user,
        "{renewed:?}"
    );
    // A token signed with another key is refused.
    let forged = Client::new(
        stack.url(""),
        Some(e2e::token(user, 3600, "not-the-secret")),
    );
    let refused = forged.get(&format!("/api/{user}/tasks"));
    anyhow::ensure!(refused.status == 401, "{refused:?}");
    // Bad input names the field.
    let short = post(
        stack,
        "signup",
        &json!({"username": "x", "password": "short"}),
    );
    anyhow::ensure!(
        short.status == 400 && short.field() == Some("password"),
        "{short:?}"
    );
    Ok(())
}

fn failures(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let right = json!({"username": user, "password": "a good password"});
    anyhow::ensure!(post(stack, "signup", &right).status == 201);
    let taken = post(
        stack,
        "signup",
        &json!({"username": user, "password": "another password"}),
    );
    anyhow::ensure!(
        taken.status == 409 && taken.body["error"]["code"] == "taken",
        "{taken:?}"
    );
    let wrong = json!({"username": user, "password": "not the password"});
    for _ in 0..3 {
        let refused = post(stack, "signin", &wrong);
        anyhow::ensure!(refused.status == 401, "{refused:?}");
    }
    let unknown = post(
        stack,
        "signin",
        &json!({"username": format!("{user}-nobody"), "password": "whatever it is"}),
    );
    anyhow::ensure!(
        unknown.status == 401 && unknown.body["error"]["message"] == "wrong user name or password",
        "{unknown:?}"
    );
    // The fourth try right away must wait, even with the right password.
    let slowed = post(stack, "signin", &right);
    anyhow::ensure!(slowed.status == 429, "{slowed:?}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let heard = post(stack, "signin", &right);
    anyhow::ensure!(heard.status == 200, "after the pause: {heard:?}");
    Ok(())
}
