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
        Trial::test("sqlite_databases_as_the_runtime_config_names_them", || {
            with_probe(sqlite_databases)
        }),
        Trial::test(
            "a_component_naming_an_undefined_database_is_refused",
            || undefined_database().map_err(|e| format!("{e:#}").into()),
        ),
        Trial::test("postgres_through_allowed_hosts_and_pooled_sessions", || {
            with_probe(postgres)
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

/// The host serving the probe, the server that never answers, and where
/// the runtime config puts the `default` SQLite database.
struct Probe {
    host: Host,
    silent: std::net::TcpListener,
    database: PathBuf,
    pg_port: u16,
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
        let pg_port = env.pg_port.unwrap_or(5432);
        let variables = [
            ("allowed_port", port.to_string()),
            ("silent_port", silent.local_addr()?.port().to_string()),
            ("pg_port", pg_port.to_string()),
        ];
        let dir = env.work_dir.join(format!("probe-{port}"));
        std::fs::create_dir_all(&dir)?;
        let database = dir.join("default.db");
        let runtime_config = dir.join("runtime-config.toml");
        std::fs::write(
            &runtime_config,
            format!(
                "[sqlite_database.default]\ntype = \"spin\"\npath = {:?}\n\n\
                 [sqlite_database.scratch]\ntype = \"spin\"\n",
                database.display().to_string()
            ),
        )?;
        let host = Host::start_on(&env, &manifest, port, &variables, Some(&runtime_config))?;
        test(&Probe {
            host,
            silent,
            database,
            pg_port,
        })
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

/// Statements through the probe: each line one, answered a line each.
fn sql(probe: &Probe, path: &str, statements: &[&str]) -> Vec<String> {
    let client = Client::new(format!("http://127.0.0.1:{}", probe.port), None);
    let reply = client.send("POST", path, Some(&statements.join("\n")));
    assert_eq!(reply.status, 200, "{reply:?}");
    let text = reply.body.as_str().unwrap_or_default().to_owned();
    text.lines().map(str::to_owned).collect()
}

/// Spin's SQLite interface: the runtime config's file for `default`, a
/// database in memory for a label without a path (each connection its own,
/// as in Spin), values both ways, errors as Spin words them, and a
/// transaction seen only by its own connection until it commits.
fn sqlite_databases(probe: &Probe) -> anyhow::Result<()> {
    let answers = sql(
        probe,
        "/probe/sqlite/default",
        &[
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, weight REAL, data BLOB)",
            "INSERT INTO notes (body, weight, data) VALUES (?, ?, ?) ;; s:milk ;; f:1.5 ;; null",
            "BEGIN IMMEDIATE",
            "INSERT INTO notes (body) VALUES ('bread') RETURNING id",
            "2: SELECT count(*) FROM notes",
            "COMMIT",
            "2: SELECT count(*) FROM notes",
            "SELECT body, weight, data, x'00ff', id FROM notes ORDER BY id LIMIT 1",
            "SELECT * FROM nowhere",
        ],
    );
    assert_eq!(
        answers,
        [
            "ok: ",
            "ok: ",
            "ok: ",
            "ok: [Value::Integer(2)]",
            "ok: [Value::Integer(1)]",
            "ok: ",
            "ok: [Value::Integer(2)]",
            "ok: [Value::Text(\"milk\"), Value::Real(1.5), Value::Null, Value::Blob([0, 255]), Value::Integer(1)]",
            "error: Error::Io(\"no such table: nowhere\")",
        ]
    );
    anyhow::ensure!(
        probe.database.exists(),
        "the runtime config's file {} was not made",
        probe.database.display()
    );
    let memory = sql(
        probe,
        "/probe/sqlite/scratch",
        &[
            "CREATE TABLE t (x)",
            "INSERT INTO t VALUES (1)",
            "2: SELECT x FROM t",
        ],
    );
    assert_eq!(
        memory,
        ["ok: ", "ok: ", "error: Error::Io(\"no such table: t\")"]
    );
    let denied = sql(probe, "/probe/sqlite/elsewhere", &["SELECT 1"]);
    assert_eq!(denied, ["open: Error::AccessDenied"]);
    Ok(())
}

/// Spin refuses to start an app whose component names a database the
/// runtime config does not define; so does the host.
fn undefined_database() -> anyhow::Result<()> {
    let env = Env::from_environment()?;
    let dir = env.work_dir.join("undefined-database");
    std::fs::create_dir_all(&dir)?;
    let manifest = root().join("tests/e2e/fixtures/probe.toml");
    let text = std::fs::read_to_string(&manifest)?
        .replace("\"scratch\"", "\"nowhere\"")
        .replace(
            "../../../target",
            &root().join("target").display().to_string(),
        );
    let changed = dir.join("probe.toml");
    std::fs::write(&changed, text)?;
    let output = std::process::Command::new(&env.host_bin)
        .arg("--manifest")
        .arg(&changed)
        .args(["--listen", "127.0.0.1:0"])
        .env("SPIN_VARIABLE_ALLOWED_PORT", "1")
        .env("SPIN_VARIABLE_SILENT_PORT", "2")
        .env("SPIN_VARIABLE_PG_PORT", "3")
        .output()?;
    let said = String::from_utf8_lossy(&output.stderr);
    anyhow::ensure!(
        !output.status.success()
            && said.contains("\"nowhere\"")
            && said.contains("[sqlite_database.nowhere]"),
        "{}: {said}",
        output.status
    );
    Ok(())
}

/// Spin's PostgreSQL interface: only the allowed address, two connections
/// that are two sessions, parameters checked against the types the server
/// expects, and the server's errors with their SQLSTATE.
fn postgres(probe: &Probe) -> anyhow::Result<()> {
    let address = |port: u16| {
        format!("/probe/postgres?postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable")
    };
    let table = format!("probe_{}", probe.port);
    let answers = sql(
        probe,
        &address(probe.pg_port),
        &[
            &format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY, done BOOLEAN)"),
            "BEGIN",
            &format!("INSERT INTO {table} VALUES ($1, $2) ;; i:1 ;; b:true"),
            &format!("2: SELECT count(*) FROM {table}"),
            "COMMIT",
            &format!("2: SELECT id, done FROM {table}"),
            "SELECT $1::bigint + 1, $2::text, $3::bigint IS NULL ;; i:41 ;; s:x ;; null",
            &format!("SELECT id FROM {table} WHERE id = $1 ;; s:1"),
            &format!("INSERT INTO {table} VALUES (1, false)"),
            &format!("DROP TABLE {table}"),
        ],
    );
    let expected_start = [
        "ok: ",
        "ok: ",
        "ok: ",
        "ok: [DbValue::Int64(0)]",
        "ok: ",
        "ok: [DbValue::Int64(1), DbValue::Boolean(true)]",
        "ok: [DbValue::Int64(42), DbValue::Str(\"x\"), DbValue::Boolean(true)]",
    ];
    assert_eq!(answers[..7], expected_start, "{answers:#?}");
    assert!(
        answers[7].starts_with("error: Error::QueryFailed(QueryError::Text(")
            && answers[7].contains("WrongType"),
        "a text for a bigint: {}",
        answers[7]
    );
    assert!(
        answers[8].starts_with("error: Error::QueryFailed(QueryError::DbError(")
            && answers[8].contains("code: \"23505\""),
        "a duplicate key: {}",
        answers[8]
    );
    assert_eq!(answers[9], "ok: ");
    let refused = sql(probe, &address(probe.pg_port + 1), &["SELECT 1"]);
    assert_eq!(
        refused,
        [format!(
            "open: Error::ConnectionFailed(\"address postgres://127.0.0.1:{} is not permitted\")",
            probe.pg_port + 1
        )]
    );
    Ok(())
}
