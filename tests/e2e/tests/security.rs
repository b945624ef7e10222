//! What every answer carries, whichever component made it (docs/security.md):
//! a `Content-Type` on any body, `X-Content-Type-Options: nosniff`, and no
//! `Server` or `X-Powered-By` header naming what runs; on both profiles,
//! across the web app, each API, errors, and the routes only daprd may call.

use e2e::{Env, Profile, Stack};
use serde_json::json;

fn main() {
    e2e::run_trials(
        &[],
        &[(
            "every_answer_has_a_content_type_nosniff_and_no_server_version",
            &[Profile::Sqlite, Profile::Postgres],
            headers,
        )],
    )
}

fn headers(env: &Env, profile: Profile) -> anyhow::Result<()> {
    let stack = Stack::start(env, profile)?;
    let user = "headers";
    let bearer = format!("Bearer {}", e2e::token(user, 3600, e2e::SECRET));
    let task = json!({"title": "headers"}).to_string();
    // method, path, with the user's token, body, the status expected.
    let requests: &[(&str, String, bool, Option<&str>, u16)] = &[
        ("GET", "/".into(), false, None, 200),
        ("GET", "/app.js".into(), false, None, 200),
        ("GET", "/no-such-page".into(), false, None, 404),
        ("GET", format!("/api/{user}/tasks"), false, None, 401),
        ("GET", format!("/api/{user}/tasks"), true, None, 200),
        ("POST", format!("/api/{user}/tasks"), true, Some(&task), 201),
        ("POST", format!("/api/{user}/tasks"), true, Some("{"), 400),
        ("GET", "/api/someone-else/tasks".into(), true, None, 403),
        ("DELETE", format!("/api/{user}/chat"), true, None, 405),
        ("GET", format!("/api/{user}/notifications"), true, None, 200),
        ("GET", format!("/api/{user}/changes"), true, None, 200),
        ("GET", format!("/api/{user}/settings"), true, None, 200),
        (
            "POST",
            "/api/auth/signin".into(),
            false,
            Some(r#"{"username":"nobody","password":"12345678"}"#),
            401,
        ),
        ("POST", "/mcp".into(), false, Some("{}"), 401),
        ("POST", "/job/outbox-1-x".into(), false, Some("{}"), 401),
        (
            "POST",
            "/cron/reminder-sweep".into(),
            false,
            Some("{}"),
            401,
        ),
    ];
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for (method, path, signed, body, status) in requests {
        let mut request = http::Request::builder()
            .method(*method)
            .uri(stack.url(path));
        if *signed {
            request = request.header("authorization", &bearer);
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(body.unwrap_or_default().to_owned())?;
        let mut answer = agent.run(request)?;
        let what = format!("{method} {path}");
        anyhow::ensure!(
            answer.status().as_u16() == *status,
            "{what}: {}",
            answer.status()
        );
        let headers = answer.headers().clone();
        let text = answer.body_mut().read_to_string()?;
        anyhow::ensure!(
            headers
                .get("x-content-type-options")
                .and_then(|v| v.to_str().ok())
                == Some("nosniff"),
            "{what}: no nosniff in {headers:?}"
        );
        anyhow::ensure!(
            text.is_empty() || headers.contains_key("content-type"),
            "{what}: a body without Content-Type: {headers:?}"
        );
        anyhow::ensure!(
            !headers.contains_key("server") && !headers.contains_key("x-powered-by"),
            "{what}: names what runs: {headers:?}"
        );
    }
    Ok(())
}
