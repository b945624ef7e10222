//! The end-to-end harness: a [`Stack`] is the real host serving the real
//! components from `spin.toml`, beside a real daprd whose state store is
//! SQLite or PostgreSQL, all on free loopback ports.
//!
//! `scripts/test` builds everything and starts what a run shares (the Dapr
//! scheduler, a PostgreSQL cluster), then passes their addresses in `TODO_*`
//! variables; see [`Env`].

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde_json::Value;

/// The trials as they should run here: when the services' addresses are not
/// set (a plain `cargo test`, outside `scripts/test`), they are marked ignored
/// with the reason printed once, unless `TODO_E2E_REQUIRED` is set (as
/// `scripts/test` sets it), where a missing service must fail the run.
pub fn needing_services(trials: Vec<libtest_mimic::Trial>) -> Vec<libtest_mimic::Trial> {
    let missing = Env::from_environment().err();
    let skip = missing.is_some() && std::env::var_os("TODO_E2E_REQUIRED").is_none();
    if let (true, Some(why)) = (skip, missing) {
        eprintln!("end-to-end tests ignored: {why:#}");
    }
    trials
        .into_iter()
        .map(|trial| trial.with_ignored_flag(skip))
        .collect()
}

/// The secret the stacks of the tests sign tokens with.
pub const SECRET: &str = "e2e-secret";

/// Which state store daprd uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The embedded default: `state.sqlite`.
    Sqlite,
    /// The full profile: `state.postgresql` v2.
    Postgres,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    fn resources(self) -> &'static str {
        match self {
            Self::Sqlite => "embedded",
            Self::Postgres => "full",
        }
    }
}

/// What `scripts/test` passes in.
#[derive(Debug, Clone)]
pub struct Env {
    pub root: PathBuf,
    pub host_bin: PathBuf,
    pub daprd: PathBuf,
    pub scheduler: String,
    pub pg_port: Option<u16>,
    pub work_dir: PathBuf,
}

impl Env {
    pub fn from_environment() -> anyhow::Result<Self> {
        let var = |name: &str| {
            std::env::var(name)
                .with_context(|| format!("{name} is not set: run the tests with scripts/test"))
        };
        Ok(Self {
            root: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."),
            host_bin: var("TODO_HOST_BIN")?.into(),
            daprd: var("DAPRD")?.into(),
            scheduler: var("TODO_SCHEDULER_ADDRESS")?,
            pg_port: std::env::var("TODO_PG_PORT")
                .ok()
                .and_then(|p| p.parse().ok()),
            work_dir: var("TODO_TEST_DIR")?.into(),
        })
    }
}

/// A running app and its sidecar.
#[derive(Debug)]
pub struct Stack {
    env: Env,
    profile: Profile,
    /// The full profile's PostgreSQL database.
    database: String,
    dir: PathBuf,
    pub app_port: u16,
    pub dapr_port: u16,
    host: Child,
    daprd: Child,
}

static STACKS: AtomicUsize = AtomicUsize::new(0);

impl Stack {
    /// Starts the project's app (`spin.toml`) with `profile`'s state store.
    pub fn start(env: &Env, profile: Profile) -> anyhow::Result<Self> {
        let manifest = &env.root.join("spin.toml");
        let n = STACKS.fetch_add(1, Ordering::SeqCst);
        let dir = env.work_dir.join(format!("{}-{n}", profile.name()));
        std::fs::create_dir_all(&dir)?;
        let database = format!("e2e_{}_{n}", std::process::id());
        if profile == Profile::Postgres {
            let port = env
                .pg_port
                .context("TODO_PG_PORT is not set: run the tests with scripts/test")?;
            let status = Command::new("psql")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-U",
                    "postgres",
                    "-q",
                    "-c",
                ])
                .arg(format!("CREATE DATABASE {database}"))
                .status()
                .context("running psql")?;
            anyhow::ensure!(
                status.success(),
                "psql could not create database {database}"
            );
        }
        let (app_port, dapr_port) = (free_port()?, free_port()?);
        let mut stack = Self {
            env: env.clone(),
            host: spawn_host(env, manifest, &dir, app_port, dapr_port)?,
            daprd: spawn_daprd(env, profile, &database, &dir, app_port, dapr_port)?,
            profile,
            database,
            dir,
            app_port,
            dapr_port,
        };
        stack.wait_ready()?;
        Ok(stack)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.app_port)
    }

    /// Stops the app gracefully and starts it again on the same port.
    pub fn restart_app(&mut self) -> anyhow::Result<()> {
        terminate(&mut self.host);
        self.host = spawn_host(
            &self.env,
            &self.env.root.join("spin.toml"),
            &self.dir,
            self.app_port,
            self.dapr_port,
        )?;
        self.wait_ready()
    }

    /// Stops daprd gracefully and starts it again on the same ports.
    pub fn restart_daprd(&mut self) -> anyhow::Result<()> {
        terminate(&mut self.daprd);
        self.daprd = spawn_daprd(
            &self.env,
            self.profile,
            &self.database,
            &self.dir,
            self.app_port,
            self.dapr_port,
        )?;
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        wait_for(
            &format!("http://127.0.0.1:{}/v1.0/healthz/outbound", self.dapr_port),
            &self.dir.join("daprd.log"),
        )?;
        wait_for(&self.url("/"), &self.dir.join("host.log"))
    }

    /// A client speaking as `user`, with a valid token.
    pub fn client(&self, user: &str) -> Client {
        Client::new(self.url(""), Some(token(user, 3600, SECRET)))
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        terminate(&mut self.host);
        terminate(&mut self.daprd);
    }
}

/// The host alone, serving some manifest, for the host's own tests.
#[derive(Debug)]
pub struct Host {
    pub port: u16,
    child: Child,
}

impl Host {
    /// Starts the host on `manifest` with `SPIN_VARIABLE_*` settings `variables`.
    pub fn start(env: &Env, manifest: &Path, variables: &[(&str, String)]) -> anyhow::Result<Self> {
        Self::start_on(env, manifest, free_port()?, variables)
    }

    /// The same, on a given port.
    pub fn start_on(
        env: &Env,
        manifest: &Path,
        port: u16,
        variables: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        let n = STACKS.fetch_add(1, Ordering::SeqCst);
        let dir = env.work_dir.join(format!("host-{n}"));
        std::fs::create_dir_all(&dir)?;
        let mut command = host_command(env, manifest, &dir, port)?;
        command.envs(
            variables
                .iter()
                .map(|(name, value)| (format!("SPIN_VARIABLE_{}", name.to_uppercase()), value)),
        );
        let host = Self {
            port,
            child: command.spawn().context("starting the host")?,
        };
        wait_for(&format!("http://127.0.0.1:{port}/"), &dir.join("host.log"))?;
        Ok(host)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

fn spawn_host(
    env: &Env,
    manifest: &Path,
    dir: &Path,
    app_port: u16,
    dapr_port: u16,
) -> anyhow::Result<Child> {
    host_command(env, manifest, dir, app_port)?
        .env("SPIN_VARIABLE_AUTH_JWT_SECRET", SECRET)
        .env(
            "SPIN_VARIABLE_DAPR_URL",
            format!("http://127.0.0.1:{dapr_port}"),
        )
        .spawn()
        .context("starting the host")
}

fn host_command(env: &Env, manifest: &Path, dir: &Path, port: u16) -> anyhow::Result<Command> {
    let log = append(&dir.join("host.log"))?;
    let mut command = Command::new(&env.host_bin);
    command
        .args(["--manifest"])
        .arg(manifest)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("TODO_HOST_CACHE_DIR", env.work_dir.join("wasmtime-cache"))
        .stdout(log.try_clone()?)
        .stderr(log);
    Ok(command)
}

/// daprd through `scripts/lib/run-daprd`, the command line the scripts use too.
fn spawn_daprd(
    env: &Env,
    profile: Profile,
    database: &str,
    dir: &Path,
    app_port: u16,
    dapr_port: u16,
) -> anyhow::Result<Child> {
    let log = append(&dir.join("daprd.log"))?;
    Command::new(env.root.join("scripts/lib/run-daprd"))
        .arg(profile.resources())
        .arg(dir)
        .args([app_port.to_string(), dapr_port.to_string()])
        .env("DAPRD", &env.daprd)
        .env("TODO_SCHEDULER_ADDRESS", &env.scheduler)
        .env("TODO_PG_PORT", env.pg_port.unwrap_or_default().to_string())
        .env("TODO_PG_DB", database)
        .stdout(log.try_clone()?)
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .context("starting daprd")
}

fn append(path: &Path) -> anyhow::Result<std::fs::File> {
    Ok(std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?)
}

/// SIGTERM, then SIGKILL if the process has not ended within ten seconds.
fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn wait_for(url: &str, log: &Path) -> anyhow::Result<()> {
    let agent = agent();
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let status = agent.get(url).call().map(|r| r.status().as_u16());
        if status.is_ok_and(|s| s < 500) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let tail = std::fs::read_to_string(log).unwrap_or_default();
    let tail: String = tail
        .lines()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    bail!(
        "{url} did not answer within 120 s; {}:\n{tail}",
        log.display()
    )
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// An HS256 token for `sub` that expires `valid_for` seconds from now
/// (negative: already expired).
pub fn token(sub: &str, valid_for: i64, secret: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let claims = serde_json::json!({ "sub": sub, "exp": now + valid_for });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

/// An answer: the status and the body, as JSON when it is JSON.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The `field` of an error answer.
    pub fn field(&self) -> Option<&str> {
        self.body["error"]["field"].as_str()
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
}

/// Calls the API with a bearer token (or none).
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: String, token: Option<String>) -> Self {
        Self {
            base,
            token,
            agent: agent(),
        }
    }

    pub fn with_token(&self, token: Option<String>) -> Self {
        Self {
            token,
            ..self.clone()
        }
    }

    /// Sends `body` as is (so that tests can send broken JSON).
    pub fn send(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(body.unwrap_or_default().as_bytes().to_vec());
        let mut response = match request
            .map_err(anyhow::Error::from)
            .and_then(|r| Ok(self.agent.run(r)?))
        {
            Ok(response) => response,
            Err(err) => panic!("{method} {path} failed: {err:#}"),
        };
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, Some(&body.to_string()))
    }

    pub fn put(&self, path: &str, body: &Value) -> Reply {
        self.send("PUT", path, Some(&body.to_string()))
    }

    pub fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send("PATCH", path, Some(&body.to_string()))
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None)
    }
}
