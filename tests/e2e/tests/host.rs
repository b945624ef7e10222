//! The host on its own: its route table read from the real `spin.toml`, and
//! what a component meets inside it (allowed_outbound_hosts, variables, the
//! `spin-*` headers), through the test-only probe component.

use std::path::PathBuf;

use e2e::{Client, Env, Host};
use libtest_mimic::{Arguments, Failed, Trial};
use todo_host::manifest::{Manifest, RouteDef};
use todo_host::routes::{Route, Router};

fn main() {
    let args = Arguments::from_args();
    let trials = vec![
        Trial::test("route_table_of_spin_toml", || {
            route_table().map_err(|e| format!("{e:#}").into())
        }),
        Trial::test("outbound_calls_are_limited_to_allowed_hosts", || {
            with_probe(outbound_limits)
        }),
        Trial::test("components_see_variables_and_spin_headers", || {
            with_probe(variables_and_headers)
        }),
        Trial::test("unrouted_paths_are_not_found", || with_probe(unrouted)),
        Trial::test("a_call_to_a_server_that_never_answers_ends", || {
            with_probe(never_answered)
        }),
    ];
    libtest_mimic::run(&args, e2e::needing_services(trials)).exit();
}

fn root() -> PathBuf {
    e2e::repo_root()
}

fn route_table() -> anyhow::Result<()> {
    let manifest = Manifest::load(&root().join("spin.toml"))?;
    let mut router = Router::default();
    let mut components = Vec::new();
    for trigger in &manifest.trigger.http {
        if let RouteDef::Path(route) = &trigger.route {
            router.add(Route::parse(route), components.len());
            components.push(trigger.component.as_str());
        }
    }
    let target = |path: &str| router.find(path).map(|(_, i)| components[i]);
    for path in [
        "/api/alice/tasks",
        "/api/alice/tasks/01J",
        "/api/alice/tasks/01J/complete",
    ] {
        assert_eq!(target(path), Some("tasks-api"), "{path}");
    }
    for path in [
        "/api/alice/notifications",
        "/api/alice/notifications/01J",
        "/api/alice/settings",
        "/api/alice/changes",
    ] {
        assert_eq!(target(path), Some("notifications-api"), "{path}");
    }
    assert_eq!(target("/cron/reminder-sweep"), Some("reminder-sweep"));
    assert_eq!(target("/mcp"), Some("mcp-api"));
    for path in ["/api/auth/signup", "/api/auth/signin", "/api/auth/refresh"] {
        assert_eq!(target(path), Some("accounts-api"), "{path}");
    }
    assert_eq!(
        target("/api/auth/tasks"),
        Some("tasks-api"),
        "a user called auth"
    );
    for path in ["/api/alice/chat", "/api/alice/conversations/01J"] {
        assert_eq!(target(path), Some("chat-api"), "{path}");
    }
    // The web app takes every path no other route is for.
    for path in ["/", "/app.js", "/nowhere", "/api/alice/nothing"] {
        assert_eq!(target(path), Some("web-ui"), "{path}");
    }
    let (matched, _) = router
        .find("/api/alice/tasks/01J")
        .ok_or_else(|| anyhow::anyhow!("no match"))?;
    assert_eq!(
        matched.params,
        vec![("user_id".to_owned(), "alice".to_owned())]
    );
    Ok(())
}

/// The host serving the probe, and the server that never answers.
struct Probe {
    host: Host,
    silent: std::net::TcpListener,
}

impl std::ops::Deref for Probe {
    type Target = Host;

    fn deref(&self) -> &Host {
        &self.host
    }
}

fn with_probe(test: fn(&Probe) -> anyhow::Result<()>) -> Result<(), Failed> {
    let run = || -> anyhow::Result<()> {
        let env = Env::from_environment()?;
        let manifest = root().join("tests/e2e/fixtures/probe.toml");
        // The probe may call 127.0.0.1 on the host's own port and on a port
        // where a server takes connections and never answers, nothing else.
        let port = e2e::free_port()?;
        let silent = std::net::TcpListener::bind("127.0.0.1:0")?;
        let variables = [
            ("allowed_port", port.to_string()),
            ("silent_port", silent.local_addr()?.port().to_string()),
        ];
        let host = Host::start_on(&env, &manifest, port, &variables)?;
        test(&Probe { host, silent })
    };
    run().map_err(|e| format!("{e:#}").into())
}

fn outbound_limits(host: &Probe) -> anyhow::Result<()> {
    let client = Client::new(format!("http://127.0.0.1:{}", host.port), None);
    let fetch = |url: String| client.get(&format!("/probe/fetch?url={url}"));

    let allowed = fetch(format!("http://127.0.0.1:{}/probe/empty", host.port));
    assert_eq!(
        (allowed.status, allowed.body.as_str()),
        (200, Some("fetched 200")),
        "{allowed:?}"
    );

    // The same server under another name, and another port: refused inside the component.
    for url in [
        format!("http://localhost:{}/probe/empty", host.port),
        format!("http://127.0.0.1:{}/", host.port + 1),
    ] {
        let refused = fetch(url.clone());
        assert_eq!(refused.status, 502, "{url}: {refused:?}");
        let text = refused.body.as_str().unwrap_or_default();
        assert!(
            text.starts_with("refused") && text.contains("HttpRequestDenied"),
            "{url}: {text}"
        );
    }
    Ok(())
}

fn variables_and_headers(host: &Probe) -> anyhow::Result<()> {
    let client = Client::new(format!("http://127.0.0.1:{}", host.port), None);
    let reply = client.get("/probe/echo/more");
    assert_eq!(reply.status, 200);
    let text = reply.body.as_str().unwrap_or_default();
    for line in [
        "greeting: hello from the manifest",
        "spin-path-info: /echo/more",
        "spin-matched-route: /probe/...",
        "spin-component-route: /probe",
        "spin-base-path: /",
        &format!(
            "spin-full-url: http://127.0.0.1:{}/probe/echo/more",
            host.port
        ),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
    Ok(())
}

fn unrouted(host: &Probe) -> anyhow::Result<()> {
    let client = Client::new(format!("http://127.0.0.1:{}", host.port), None);
    assert_eq!(client.get("/elsewhere").status, 404);
    Ok(())
}

/// A component's call to a server that takes the connection and never
/// answers ends with a timeout (the host's `MOST_WAIT`), not after
/// wasmtime-wasi-http's ten minutes: a user's webhook cannot hold an
/// instance for long.
fn never_answered(probe: &Probe) -> anyhow::Result<()> {
    let port = probe.silent.local_addr()?.port();
    let url = format!(
        "http://127.0.0.1:{}/probe/fetch?url=http://127.0.0.1:{port}/hook",
        probe.port
    );
    let patience = todo_host::outbound::MOST_WAIT * 3;
    let mut reply = ureq::get(&url)
        .config()
        .http_status_as_error(false)
        .timeout_global(Some(patience))
        .build()
        .call()?;
    let text = reply.body_mut().read_to_string()?;
    anyhow::ensure!(
        reply.status() == 502 && text.contains("Timeout"),
        "{}: {text}",
        reply.status()
    );
    Ok(())
}
