//! The end-to-end harness: a [`Stack`] is the real host serving the real
//! components from `spin.toml`, beside a real daprd whose state store is
//! SQLite or PostgreSQL, all on free loopback ports.
//!
//! `scripts/test` builds everything and starts what a run shares (the Dapr
//! scheduler, a PostgreSQL cluster, a Kafka broker), then passes their
//! addresses in `TODO_*` variables; see [`Env`]. Each stack keeps to its own
//! database, Kafka topics and consumer group on them; a test that stops the
//! broker starts one of its own ([`Kafka`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde_json::{Value, json};

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

/// The VAPID key pair of the stacks of the tests (RFC 8291's example
/// server key, published test data): the private scalar and the public
/// point, URL-safe base64.
pub const VAPID_PRIVATE_KEY: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
/// See [`VAPID_PRIVATE_KEY`].
pub const VAPID_PUBLIC_KEY: &str =
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";

/// Which state store and pub/sub daprd uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The embedded default: `state.sqlite`, `pubsub.in-memory`.
    Sqlite,
    /// The full profile: `state.postgresql` v2, `pubsub.kafka`.
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

/// The repository's root folder. Read when the tests run (cargo sets
/// `CARGO_MANIFEST_DIR` then), not when they are built: CI builds each fresh
/// clone into one shared target folder, and a binary built in another clone
/// would otherwise look for files in that clone.
pub fn repo_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("../..")
}

/// What `scripts/test` passes in.
#[derive(Debug, Clone)]
pub struct Env {
    pub root: PathBuf,
    pub host_bin: PathBuf,
    pub daprd: PathBuf,
    pub scheduler: String,
    pub pg_port: Option<u16>,
    /// The Kafka broker's `host:port` (`TODO_KAFKA_BROKERS`).
    pub kafka: Option<String>,
    /// The version the running broker says it is (`TODO_KAFKA_VERSION`).
    pub kafka_version: Option<String>,
    pub work_dir: PathBuf,
    /// Real Spin (`TODO_SPIN_BIN`, a `spin` binary), when the app is to be
    /// served by `spin up` instead of the project's host.
    pub spin_bin: Option<PathBuf>,
}

impl Env {
    pub fn from_environment() -> anyhow::Result<Self> {
        let var = |name: &str| {
            std::env::var(name)
                .with_context(|| format!("{name} is not set: run the tests with scripts/test"))
        };
        Ok(Self {
            root: repo_root(),
            host_bin: var("TODO_HOST_BIN")?.into(),
            daprd: var("DAPRD")?.into(),
            scheduler: var("TODO_SCHEDULER_ADDRESS")?,
            pg_port: std::env::var("TODO_PG_PORT")
                .ok()
                .and_then(|p| p.parse().ok()),
            spin_bin: std::env::var_os("TODO_SPIN_BIN")
                .filter(|bin| !bin.is_empty())
                .map(PathBuf::from),
            kafka: std::env::var("TODO_KAFKA_BROKERS")
                .ok()
                .filter(|b| !b.is_empty()),
            kafka_version: std::env::var("TODO_KAFKA_VERSION")
                .ok()
                .filter(|v| !v.is_empty()),
            work_dir: var("TODO_TEST_DIR")?.into(),
        })
    }
}

/// A running app and its sidecar.
#[derive(Debug)]
pub struct Stack {
    env: Env,
    sidecar: Sidecar,
    pub app_port: u16,
    pub dapr_port: u16,
    /// The token daprd demands on every call to its API but healthz
    /// (`dapr-api-token`; daprd's `DAPR_API_TOKEN`, the app's Spin variable
    /// `dapr_api_token`): a test that calls daprd itself sends it.
    pub dapr_token: String,
    /// Put before the name of every topic this stack publishes to or
    /// subscribes to (the app's Spin variable `topic_prefix`, daprd's
    /// `TODO_TOPIC_PREFIX`), so that stacks sharing the broker keep apart.
    pub topic_prefix: String,
    host: Child,
    daprd: Child,
}

static STACKS: AtomicUsize = AtomicUsize::new(0);

impl Stack {
    /// Starts the project's app (`spin.toml`) with `profile`'s state store
    /// and pub/sub.
    pub fn start(env: &Env, profile: Profile) -> anyhow::Result<Self> {
        Self::start_with(env, profile, &[])
    }

    /// [`Stack::start`] with more Spin variables for the app
    /// (`SPIN_VARIABLE_...` names and values).
    pub fn start_with(
        env: &Env,
        profile: Profile,
        variables: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        Self::launch(env, profile, variables, None)
    }

    /// [`Stack::start`] on the full profile, on a database that the
    /// statements of `fixture` (a file of `tests/e2e/fixtures`) have filled
    /// first, as an older version of the app left it.
    pub fn start_from(env: &Env, fixture: &str) -> anyhow::Result<Self> {
        let path = repo_root().join("tests/e2e/fixtures").join(fixture);
        let statements = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Self::launch(env, Profile::Postgres, &[], Some(&statements))
    }

    fn launch(
        env: &Env,
        profile: Profile,
        variables: &[(&str, String)],
        fixture: Option<&str>,
    ) -> anyhow::Result<Self> {
        let manifest = &env.root.join("spin.toml");
        let (app_port, dapr_port) = (free_port()?, free_port()?);
        let mut sidecar = Sidecar::prepare(env, profile, app_port, dapr_port, true)?;
        if let Some(statements) = fixture {
            anyhow::ensure!(profile == Profile::Postgres, "fixtures are PostgreSQL's");
            psql(env, &sidecar.database, statements)?;
        }
        sidecar.variables = variables
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect();
        let topic_prefix = sidecar.topic_prefix.clone();
        let dapr_token = sidecar.dapr_token.clone();
        let mut stack = Self {
            env: env.clone(),
            host: spawn_host(env, manifest, &sidecar)?,
            daprd: spawn_daprd(env, &sidecar)?,
            sidecar,
            app_port,
            dapr_port,
            dapr_token,
            topic_prefix,
        };
        stack.wait_ready()?;
        Ok(stack)
    }

    /// What the stack was started with.
    pub fn env(&self) -> &Env {
        &self.env
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.app_port)
    }

    /// Stops the app gracefully and starts it again on the same port.
    pub fn restart_app(&mut self) -> anyhow::Result<()> {
        terminate(&mut self.host);
        self.host = spawn_host(&self.env, &self.env.root.join("spin.toml"), &self.sidecar)?;
        self.wait_ready()
    }

    /// Stops daprd gracefully and starts it again on the same ports.
    pub fn restart_daprd(&mut self) -> anyhow::Result<()> {
        terminate(&mut self.daprd);
        self.daprd = spawn_daprd(&self.env, &self.sidecar)?;
        self.wait_ready()
    }

    /// Kills the app at once (SIGKILL: no time to finish anything) and
    /// starts it again on the same port.
    pub fn kill_and_restart_app(&mut self) -> anyhow::Result<()> {
        let _ = self.host.kill();
        let _ = self.host.wait();
        self.host = spawn_host(&self.env, &self.env.root.join("spin.toml"), &self.sidecar)?;
        self.wait_ready()
    }

    /// Kills daprd at once (SIGKILL: no time to finish anything) and starts
    /// it again on the same ports.
    pub fn kill_and_restart_daprd(&mut self) -> anyhow::Result<()> {
        let _ = self.daprd.kill();
        let _ = self.daprd.wait();
        self.daprd = spawn_daprd(&self.env, &self.sidecar)?;
        self.wait_ready()
    }

    /// Stops daprd where it is (SIGSTOP): it keeps its ports and takes
    /// connections, and answers nothing until [`Stack::resume_daprd`].
    pub fn pause_daprd(&self) -> anyhow::Result<()> {
        signal(self.daprd.id(), "-STOP")
    }

    /// Lets a paused daprd go on (SIGCONT).
    pub fn resume_daprd(&self) -> anyhow::Result<()> {
        signal(self.daprd.id(), "-CONT")
    }

    /// daprd's metrics, as its Prometheus endpoint has them now.
    pub fn daprd_metrics(&self) -> anyhow::Result<String> {
        metrics_of(self.daprd.id())
    }

    /// daprd's log so far.
    pub fn daprd_log(&self) -> String {
        std::fs::read_to_string(self.sidecar.dir.join("daprd.log")).unwrap_or_default()
    }

    /// The host's log so far (the app's own lines among it).
    pub fn host_log(&self) -> String {
        std::fs::read_to_string(self.sidecar.dir.join("host.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        self.sidecar.wait_ready()?;
        wait_for(&self.url("/"), &self.sidecar.dir.join("host.log"))
    }

    /// A client speaking as `user`, with a valid token.
    /// The profile the stack runs.
    pub fn profile(&self) -> Profile {
        self.sidecar.profile
    }

    /// Runs `statement` on the app's own database (the stack's SQLite file
    /// or PostgreSQL database), as an operator would; answers the rows, a
    /// line each, columns apart by `|`.
    pub fn sql(&self, statement: &str) -> anyhow::Result<String> {
        match self.sidecar.profile {
            Profile::Sqlite => {
                use sql::Database;
                let db = sql::native::Sqlite::open(&self.sidecar.dir.join("todo.db"))?;
                let rows = db.query(statement, &[])?;
                let line = |row: &Vec<sql::Value>| -> String {
                    let cells: Vec<String> = row
                        .iter()
                        .map(|v| match v {
                            sql::Value::Null => String::new(),
                            sql::Value::Bool(b) => b.to_string(),
                            sql::Value::Int(i) => i.to_string(),
                            sql::Value::Real(r) => r.to_string(),
                            sql::Value::Text(t) => t.clone(),
                        })
                        .collect();
                    cells.join("|")
                };
                Ok(rows.0.iter().map(line).collect::<Vec<_>>().join("\n"))
            }
            Profile::Postgres => psql(&self.env, &self.sidecar.database, statement),
        }
    }

    pub fn client(&self, user: &str) -> Client {
        Client::new(self.url(""), Some(token(user, 3600, SECRET)))
    }
}

/// The Prometheus metrics of Dapr's process `pid` (daprd, the scheduler),
/// from the metrics port its command line names.
pub fn metrics_of(pid: u32) -> anyhow::Result<String> {
    let port = argument_of(pid, "--metrics-port")
        .ok_or_else(|| anyhow::anyhow!("process {pid} names no --metrics-port"))?;
    let mut answer = agent()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .call()?;
    Ok(answer.body_mut().read_to_string()?)
}

/// The value process `pid` was started with for the flag `flag` (the
/// argument after it).
pub fn argument_of(pid: u32, flag: &str) -> Option<String> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    args.windows(2)
        .find(|pair| pair[0] == flag.as_bytes())
        .and_then(|pair| String::from_utf8(pair[1].to_vec()).ok())
}

impl Drop for Stack {
    fn drop(&mut self) {
        terminate(&mut self.host);
        terminate(&mut self.daprd);
    }
}

/// A scenario: run as a user of its own against the stack its profile's
/// scenarios share.
pub type Scenario = fn(&Stack, &str) -> anyhow::Result<()>;

/// A test that starts the stack it needs itself (it restarts or kills
/// processes), on one profile.
pub type OwnStack = fn(&Env, Profile) -> anyhow::Result<()>;

/// Runs `scenarios` on both profiles, each profile's against one stack they
/// share, and each of `own` on the profiles it names with stacks of its own;
/// trials are named `{profile}::{name}`. Exits with the outcome.
pub fn run_trials(scenarios: &[(&str, Scenario)], own: &[(&str, &[Profile], OwnStack)]) -> ! {
    let args = libtest_mimic::Arguments::from_args();
    let env = Env::from_environment().map_err(|e| format!("{e:#}"));
    let mut trials = Vec::new();
    let mut shared = Vec::new();
    for profile in [Profile::Sqlite, Profile::Postgres] {
        let stack = Arc::new(SharedStack::new(env.clone(), profile));
        for (name, scenario) in scenarios {
            let (stack, scenario) = (stack.clone(), *scenario);
            let user = format!("{}-{}", name.replace('_', "-"), profile.name());
            trials.push(libtest_mimic::Trial::test(
                format!("{}::{name}", profile.name()),
                move || scenario(stack.get()?, &user).map_err(|e| format!("{e:#}").into()),
            ));
        }
        shared.push(stack);
    }
    for (name, profiles, test) in own {
        for profile in profiles.iter().copied() {
            let (env, test) = (env.clone(), *test);
            trials.push(libtest_mimic::Trial::test(
                format!("{}::{name}", profile.name()),
                move || {
                    let env = env.map_err(|e| libtest_mimic::Failed::from(e.as_str()))?;
                    test(&env, profile).map_err(|e| format!("{e:#}").into())
                },
            ));
        }
    }
    let conclusion = libtest_mimic::run(&args, needing_services(trials));
    drop(shared); // stops the shared stacks before the process exits
    conclusion.exit()
}

/// A stack started on first use and shared by the scenarios of one profile
/// (scenarios keep apart by using users of their own).
#[derive(Debug)]
pub struct SharedStack {
    env: Result<Env, String>,
    profile: Profile,
    stack: OnceLock<Result<Stack, String>>,
}

impl SharedStack {
    /// A stack of `profile`, not started yet.
    pub fn new(env: Result<Env, String>, profile: Profile) -> Self {
        Self {
            env,
            profile,
            stack: OnceLock::new(),
        }
    }

    /// The stack, started now if it is not yet.
    pub fn get(&self) -> Result<&Stack, libtest_mimic::Failed> {
        let env = self.env.as_ref().map_err(|e| e.as_str())?;
        self.stack
            .get_or_init(|| Stack::start(env, self.profile).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| e.as_str().into())
    }
}

/// A service process of a test's own (a Kafka broker, a Dapr scheduler),
/// for a test that kills it without disturbing the stacks on the shared one:
/// its one command line in `scripts/lib` in the foreground, on a loopback
/// port and a data folder that it keeps across kills and restarts.
#[derive(Debug)]
struct OwnService {
    name: &'static str,
    script: PathBuf,
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Whether the service on `port`, with its data in the folder, serves.
    ready: fn(&Path, u16) -> bool,
    patience: Duration,
}

impl OwnService {
    fn start(
        env: &Env,
        name: &'static str,
        ready: fn(&Path, u16) -> bool,
        patience: Duration,
    ) -> anyhow::Result<Self> {
        let n = STACKS.fetch_add(1, Ordering::SeqCst);
        let dir = env.work_dir.join(format!("{name}-{n}"));
        std::fs::create_dir_all(&dir)?;
        let mut service = Self {
            name,
            script: env.root.join(format!("scripts/lib/run-{name}")),
            port: free_port()?,
            dir,
            child: None,
            ready,
            patience,
        };
        // A port taken between choosing it and binding it (the other tests
        // start services too) stops the first start: try again afresh.
        let mut tries = 0;
        loop {
            tries += 1;
            match service.restart() {
                Ok(()) => return Ok(service),
                Err(err) if tries < 3 && service.stopped() => {
                    eprintln!("{name} did not start ({err:#}); trying again on other ports");
                    service.kill();
                    std::fs::remove_dir_all(&service.dir)?;
                    std::fs::create_dir_all(&service.dir)?;
                    service.port = free_port()?;
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Whether the process has ended.
    fn stopped(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        let log = append(&self.dir.join(format!("{}.out", self.name)))?;
        let child = Command::new(&self.script)
            .arg(&self.dir)
            .arg(self.port.to_string())
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", self.name))?;
        let child = self.child.insert(child);
        let deadline = Instant::now() + self.patience;
        while !(self.ready)(&self.dir, self.port) {
            let see = self.dir.display();
            if let Ok(Some(status)) = child.try_wait() {
                bail!("{} stopped at start ({status}); see {see}", self.name);
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} was not ready within {:?}; see {see}",
                    self.name,
                    self.patience
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

impl Drop for OwnService {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            terminate(child);
        }
    }
}

/// A Kafka broker of a test's own (`scripts/lib/run-kafka`), kept across
/// [`Kafka::kill`] and [`Kafka::restart`].
#[derive(Debug)]
pub struct Kafka {
    pub port: u16,
    service: OwnService,
}

impl Kafka {
    /// Starts a broker in a folder of its own and waits until it answers
    /// requests.
    pub fn start(env: &Env) -> anyhow::Result<Self> {
        let ready = |_: &Path, port| kafka_answers(port);
        let service = OwnService::start(env, "kafka", ready, Duration::from_secs(120))?;
        Ok(Self {
            port: service.port,
            service,
        })
    }

    /// Its address, as `TODO_KAFKA_BROKERS` gives the shared one's.
    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `env` with this broker in place of the shared one.
    pub fn env(&self, env: &Env) -> Env {
        Env {
            kafka: Some(self.brokers()),
            ..env.clone()
        }
    }

    /// Kills the broker at once (SIGKILL: no time to close anything).
    pub fn kill(&mut self) {
        self.service.kill();
    }

    /// Starts the broker again on its port and data, and waits until it
    /// answers requests.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.service.restart()
    }
}

/// A Dapr scheduler of a test's own (`scripts/lib/run-scheduler`), its
/// jobs kept across [`Scheduler::kill`] and [`Scheduler::restart`].
#[derive(Debug)]
pub struct Scheduler {
    pub port: u16,
    service: OwnService,
}

impl Scheduler {
    /// Starts a scheduler in a folder of its own and waits until it is
    /// healthy.
    pub fn start(env: &Env) -> anyhow::Result<Self> {
        let service =
            OwnService::start(env, "scheduler", scheduler_healthy, Duration::from_secs(60))?;
        Ok(Self {
            port: service.port,
            service,
        })
    }

    /// `env` with this scheduler in place of the shared one.
    pub fn env(&self, env: &Env) -> Env {
        Env {
            scheduler: format!("127.0.0.1:{}", self.port),
            ..env.clone()
        }
    }

    /// Kills the scheduler at once (SIGKILL).
    pub fn kill(&mut self) {
        self.service.kill();
    }

    /// Starts the scheduler again on its port and data, and waits until it
    /// is healthy.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.service.restart()
    }
}

/// Whether the scheduler whose folder is `dir` answers its health check
/// (on the port `run-scheduler` wrote to `dir/ports`).
fn scheduler_healthy(dir: &Path, _port: u16) -> bool {
    let healthy = || -> Option<bool> {
        let ports = std::fs::read_to_string(dir.join("ports")).ok()?;
        let health = ports.split_whitespace().nth(2)?;
        let url = format!("http://127.0.0.1:{health}/healthz");
        Some(agent().get(&url).call().ok()?.status() == 200)
    };
    healthy().unwrap_or(false)
}

/// Whether a broker on 127.0.0.1:`port` answers an ApiVersions request
/// without error, as `kafka_answers` in `scripts/lib/kafka.sh` asks it: the
/// socket accepting is not enough, the broker opens it before it has caught
/// up with its metadata.
fn kafka_answers(port: u16) -> bool {
    let ask = || -> std::io::Result<bool> {
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        // Request header v1 (api_key 18 = ApiVersions, version 0, correlation
        // id 7, client id) with an empty v0 body, size-prefixed.
        let client = b"todo-probe";
        let mut request = Vec::new();
        request.extend(18i16.to_be_bytes());
        request.extend(0i16.to_be_bytes());
        request.extend(7i32.to_be_bytes());
        request.extend((client.len() as i16).to_be_bytes());
        request.extend(client);
        let mut framed = (request.len() as i32).to_be_bytes().to_vec();
        framed.extend(request);
        stream.write_all(&framed)?;
        let mut answer = [0u8; 10];
        stream.read_exact(&mut answer)?;
        let correlation = i32::from_be_bytes([answer[4], answer[5], answer[6], answer[7]]);
        let error = i16::from_be_bytes([answer[8], answer[9]]);
        Ok(correlation == 7 && error == 0)
    };
    ask().unwrap_or(false)
}

/// A daprd without the project's app, for a test that plays the app itself
/// (see [`FakeApp`]): the profile's resources plus the test's own, and a
/// database, topic prefix and consumer group of its own. It is not connected
/// to the scheduler, which would hand it jobs of the other stacks (they all
/// are app id `todo`).
#[derive(Debug)]
pub struct Daprd {
    pub port: u16,
    pub topic_prefix: String,
    sidecar: Sidecar,
    child: Child,
}

impl Daprd {
    /// Starts daprd for the app on `app_port`, with `resources` (file name,
    /// YAML) beside the profile's, and waits until it is ready.
    pub fn start(
        env: &Env,
        profile: Profile,
        app_port: u16,
        resources: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let sidecar = Sidecar::prepare(env, profile, app_port, port, false)?;
        let dir = sidecar.dir.join("resources");
        std::fs::create_dir_all(&dir)?;
        for (name, yaml) in resources {
            std::fs::write(dir.join(name), yaml)?;
        }
        let mut daprd = Self {
            port,
            topic_prefix: sidecar.topic_prefix.clone(),
            child: spawn_daprd(env, &sidecar)?,
            sidecar,
        };
        if let Err(e) = daprd.sidecar.wait_ready() {
            terminate(&mut daprd.child);
            return Err(e);
        }
        Ok(daprd)
    }

    /// daprd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.sidecar.dir.join("daprd.log")).unwrap_or_default()
    }
}

impl Drop for Daprd {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// An app played by a test (or a fake webhook receiver): an HTTP server on a
/// free loopback port that answers requests 200 (`{"status":"SUCCESS"}` for
/// a delivered event, no subscriptions of its own at `/dapr/subscribe`), or
/// 500 for as many of the first ones as it is told to fail, and records what
/// it got.
#[derive(Debug)]
pub struct FakeApp {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

/// One request that a [`FakeApp`] got, and the status it answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub status: u16,
}

impl Received {
    /// The value of header `name` (lower case), if it came.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FakeApp {
    /// Starts serving, on threads that end with the test binary.
    pub fn start() -> anyhow::Result<Self> {
        Self::answering(|_, path| (200, ok_reply(path).to_owned()))
    }

    /// Starts serving, answering the first `failures` requests 500.
    pub fn failing_first(failures: usize) -> anyhow::Result<Self> {
        Self::answering(move |n, path| match n < failures {
            true => (500, r#"{"error":"failing as told"}"#.to_owned()),
            false => (200, ok_reply(path).to_owned()),
        })
    }

    /// Starts serving, answering request `n` (from 0) to `path` with the
    /// status and JSON body that `reply` gives.
    pub fn answering(
        reply: impl Fn(usize, &str) -> (u16, String) + Send + Sync + 'static,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&received);
        let count = Arc::new(AtomicUsize::new(0));
        let reply = Arc::new(reply);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (record, count, reply) =
                    (Arc::clone(&record), Arc::clone(&count), Arc::clone(&reply));
                std::thread::spawn(move || {
                    let answered = answer(stream, |path| {
                        reply(count.fetch_add(1, Ordering::SeqCst), path)
                    });
                    if let Ok(request) = answered {
                        record
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(request);
                    }
                });
            }
        });
        Ok(Self { port, received })
    }

    /// Waits up to `timeout` for a request that `wanted` accepts.
    pub fn wait_for(
        &self,
        timeout: Duration,
        wanted: impl Fn(&Received) -> bool,
    ) -> Option<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.received().into_iter().find(|request| wanted(request));
            if found.is_some() || Instant::now() >= deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// What a [`FakeApp`] answers by default: `{"status":"SUCCESS"}` for a
/// delivered event, no subscriptions of its own.
fn ok_reply(path: &str) -> &'static str {
    match path {
        "/dapr/subscribe" => "[]",
        "/dapr/config" => "{}",
        _ => r#"{"status":"SUCCESS"}"#,
    }
}

/// Reads one HTTP/1.1 request (with a `Content-Length` body, as daprd sends
/// them) and answers it as `reply` says for its path, closing the connection.
fn answer(
    stream: TcpStream,
    reply: impl FnOnce(&str) -> (u16, String),
) -> std::io::Result<Received> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let (mut length, mut headers) = (0, Vec::new());
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
            if name == "content-length" {
                length = value.parse().unwrap_or(0);
            }
            headers.push((name, value));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (status, reply) = reply(&path);
    let reason = if status < 400 { "OK" } else { "Error" };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    )?;
    stream.flush()?;
    Ok(Received {
        method,
        path,
        headers,
        body,
        status,
    })
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
        Self::start_on(env, manifest, free_port()?, variables, None)
    }

    /// The same, on a given port, with a runtime config file if given.
    pub fn start_on(
        env: &Env,
        manifest: &Path,
        port: u16,
        variables: &[(&str, String)],
        runtime_config: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let n = STACKS.fetch_add(1, Ordering::SeqCst);
        let dir = env.work_dir.join(format!("host-{n}"));
        std::fs::create_dir_all(&dir)?;
        let mut command = host_command(env, manifest, &dir, port)?;
        if let Some(path) = runtime_config {
            command.arg("--runtime-config-file").arg(path);
        }
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

/// The host of a stack, with the variables its sidecar and profile need
/// (the profile's `app.env` among them).
fn spawn_host(env: &Env, manifest: &Path, sidecar: &Sidecar) -> anyhow::Result<Child> {
    let mut command = host_command(env, manifest, &sidecar.dir, sidecar.app_port)?;
    // The app's database: SQLite in the stack's folder (the runtime config
    // names it Spin's `default`), or the stack's own PostgreSQL database.
    let runtime_config = sidecar.dir.join("runtime-config.toml");
    std::fs::write(
        &runtime_config,
        format!(
            "[sqlite_database.default]\ntype = \"spin\"\npath = {:?}\n",
            sidecar.dir.join("todo.db").display().to_string()
        ),
    )?;
    command.arg("--runtime-config-file").arg(&runtime_config);
    if sidecar.profile == Profile::Postgres {
        let port = env.pg_port.context("TODO_PG_PORT is not set")?;
        command
            .env(
                "SPIN_VARIABLE_DATABASE_URL",
                format!(
                    "postgres://postgres@127.0.0.1:{port}/{}?sslmode=disable",
                    sidecar.database
                ),
            )
            .env("SPIN_VARIABLE_DATABASE_HOST", format!("127.0.0.1:{port}"));
    }
    let app_env = env
        .root
        .join("deploy/dapr")
        .join(sidecar.profile.resources())
        .join("app.env");
    for line in std::fs::read_to_string(app_env).unwrap_or_default().lines() {
        if let Some((name, value)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
            command.env(name.trim(), value.trim());
        }
    }
    command
        .env("SPIN_VARIABLE_AUTH_JWT_SECRET", SECRET)
        .env(
            "SPIN_VARIABLE_DAPR_URL",
            format!("http://127.0.0.1:{}", sidecar.dapr_port),
        )
        .env("SPIN_VARIABLE_TOPIC_PREFIX", &sidecar.topic_prefix)
        .env("SPIN_VARIABLE_APP_API_TOKEN", &sidecar.app_token)
        .env("SPIN_VARIABLE_DAPR_API_TOKEN", &sidecar.dapr_token)
        .env("SPIN_VARIABLE_VAPID_PUBLIC_KEY", VAPID_PUBLIC_KEY)
        .env("SPIN_VARIABLE_VAPID_PRIVATE_KEY", VAPID_PRIVATE_KEY)
        .envs(sidecar.variables.iter().map(|(n, v)| (n, v)))
        .spawn()
        .context("starting the host")
}

/// The project's host serving `manifest` on `port`, or real Spin's
/// `spin up` where `TODO_SPIN_BIN` names it: both take the same manifest,
/// `--listen`, `--runtime-config-file` and `SPIN_VARIABLE_*` settings.
fn host_command(env: &Env, manifest: &Path, dir: &Path, port: u16) -> anyhow::Result<Command> {
    let log = append(&dir.join("host.log"))?;
    let mut command = match &env.spin_bin {
        Some(spin) => {
            let mut spin = Command::new(spin);
            spin.args(["up", "--from"]).arg(manifest);
            spin
        }
        None => {
            let mut host = Command::new(&env.host_bin);
            host.arg("--manifest")
                .arg(manifest)
                .env("TODO_HOST_CACHE_DIR", env.work_dir.join("wasmtime-cache"));
            host
        }
    };
    command
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(log.try_clone()?)
        .stderr(log);
    Ok(command)
}

/// One daprd's settings: its folder and ports, and the names that keep its
/// data apart from the other stacks' on the shared services.
#[derive(Debug, Clone)]
struct Sidecar {
    profile: Profile,
    dir: PathBuf,
    app_port: u16,
    dapr_port: u16,
    /// The full profile's PostgreSQL database.
    database: String,
    topic_prefix: String,
    consumer_group: String,
    /// Its own app id: stacks that share the scheduler would otherwise be
    /// replicas of one app, and get each other's jobs.
    app_id: String,
    /// The token daprd presents to the app.
    app_token: String,
    /// The token the app presents to daprd.
    dapr_token: String,
    scheduler: bool,
    /// More Spin variables for the app.
    variables: Vec<(String, String)>,
}

impl Sidecar {
    /// Names a new sidecar, makes its folder and, on the full profile, its
    /// database.
    fn prepare(
        env: &Env,
        profile: Profile,
        app_port: u16,
        dapr_port: u16,
        scheduler: bool,
    ) -> anyhow::Result<Self> {
        let n = STACKS.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let dir = env.work_dir.join(format!("{}-{n}", profile.name()));
        std::fs::create_dir_all(&dir)?;
        let sidecar = Self {
            profile,
            dir,
            app_port,
            dapr_port,
            database: format!("e2e_{pid}_{n}"),
            topic_prefix: format!("e2e-{pid}-{n}."),
            consumer_group: format!("e2e-{pid}-{n}"),
            app_id: format!("todo-e2e-{pid}-{n}"),
            app_token: format!("e2e-{pid}-{n}-{}", ulid::Ulid::new()),
            dapr_token: format!("e2e-dapr-{pid}-{n}-{}", ulid::Ulid::new()),
            scheduler,
            variables: Vec::new(),
        };
        if profile == Profile::Postgres {
            env.kafka
                .as_ref()
                .context("TODO_KAFKA_BROKERS is not set: run the tests with scripts/test")?;
            create_database(env, &sidecar.database)?;
        }
        for secret in [SECRET, &sidecar.app_token, &sidecar.dapr_token] {
            never_logged(secret)?;
        }
        Ok(sidecar)
    }

    fn wait_ready(&self) -> anyhow::Result<()> {
        wait_for(
            &format!("http://127.0.0.1:{}/v1.0/healthz", self.dapr_port),
            &self.dir.join("daprd.log"),
        )
    }
}

fn create_database(env: &Env, database: &str) -> anyhow::Result<()> {
    psql(env, "postgres", &format!("CREATE DATABASE {database}"))?;
    Ok(())
}

/// Runs `statement` on `database` of the shared PostgreSQL with `psql`;
/// answers its rows, a line each, columns apart by `|`.
fn psql(env: &Env, database: &str, statement: &str) -> anyhow::Result<String> {
    let port = env
        .pg_port
        .context("TODO_PG_PORT is not set: run the tests with scripts/test")?;
    let output = Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        .args(["-d", database, "-tA", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(statement)
        .output()
        .context("running psql")?;
    anyhow::ensure!(
        output.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Notes `secret` as one that must never appear in a log: `scripts/test`
/// greps every log of the run for each after the tests
/// (`scripts/lib/check-logs`, reading `$TODO_TEST_DIR/never-logged`).
pub fn never_logged(secret: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let dir = std::env::var("TODO_TEST_DIR").context("TODO_TEST_DIR is not set")?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(Path::new(&dir).join("never-logged"))?;
    writeln!(file, "{secret}")?;
    Ok(())
}

/// Sends `signal` (`-STOP`, `-CONT`) to process `pid`.
fn signal(pid: u32, signal: &str) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .context("running kill")?;
    anyhow::ensure!(status.success(), "kill {signal} {pid}: {status}");
    Ok(())
}

/// How often the reminder sweep of a test stack runs (a Go duration),
/// unless `TODO_SWEEP_EVERY` says otherwise.
pub const SWEEP_EVERY: &str = "3s";

/// daprd through `scripts/lib/run-daprd`, the command line the scripts use too.
fn spawn_daprd(env: &Env, sidecar: &Sidecar) -> anyhow::Result<Child> {
    let log = append(&sidecar.dir.join("daprd.log"))?;
    let mut command = Command::new(env.root.join("scripts/lib/run-daprd"));
    command
        .arg(sidecar.profile.resources())
        .arg(&sidecar.dir)
        .args([sidecar.app_port.to_string(), sidecar.dapr_port.to_string()])
        .env("DAPRD", &env.daprd)
        .env("TODO_PG_PORT", env.pg_port.unwrap_or_default().to_string())
        .env("TODO_PG_DB", &sidecar.database)
        .env(
            "TODO_KAFKA_BROKERS",
            env.kafka.as_deref().unwrap_or_default(),
        )
        .env("TODO_TOPIC_PREFIX", &sidecar.topic_prefix)
        .env("TODO_CONSUMER_GROUP", &sidecar.consumer_group)
        .env("TODO_APP_ID", &sidecar.app_id)
        .env("APP_API_TOKEN", &sidecar.app_token)
        .env("DAPR_API_TOKEN", &sidecar.dapr_token)
        // The reminder sweep every few seconds, not every minute, so that a
        // test sees it work without waiting minutes (the benchmarks set the
        // production minute).
        .env(
            "TODO_SWEEP_EVERY",
            std::env::var("TODO_SWEEP_EVERY").unwrap_or_else(|_| SWEEP_EVERY.into()),
        )
        .stdout(log.try_clone()?)
        .stderr(log)
        .stdin(Stdio::null());
    if sidecar.scheduler {
        command.env("TODO_SCHEDULER_ADDRESS", &env.scheduler);
    } else {
        command.env_remove("TODO_SCHEDULER_ADDRESS");
    }
    command.spawn().context("starting daprd")
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

/// A loopback port free right now, below the range the kernel gives
/// outgoing connections (32768 and up on Linux): a port from that range
/// may be taken by any client socket between this check and the bind of
/// the server it is for (daprd once failed so).
pub fn free_port() -> anyhow::Result<u16> {
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000;
    static NEXT: OnceLock<AtomicUsize> = OnceLock::new();
    let next = NEXT.get_or_init(|| {
        // Each process starts somewhere else, and goes on from there.
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |t| t.subsec_nanos())
            ^ std::process::id().wrapping_mul(7919);
        AtomicUsize::new(seed as usize)
    });
    for _ in 0..COUNT {
        let port = (FIRST + next.fetch_add(1, Ordering::Relaxed) as u32 % COUNT) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free port between {FIRST} and {}", FIRST + COUNT)
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
    /// The `Retry-After` header, in seconds, when one came.
    pub retry_after: Option<u32>,
    /// The `Idempotent-Replayed` header: the answer is a first answer again.
    pub replayed: bool,
    /// Every header, names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// The `field` of an error answer.
    pub fn field(&self) -> Option<&str> {
        self.body["error"]["field"].as_str()
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }

    /// The header `name` (lower case), if it came.
    pub fn header(&self, name: &str) -> Option<&str> {
        (self.headers.iter())
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
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
        match self.try_send(method, path, body) {
            Ok(reply) => reply,
            Err(err) => panic!("{method} {path} failed: {err:#}"),
        }
    }

    /// The same, with a request that got no answer (refused, or none within
    /// 30 s) as an error rather than a panic.
    pub fn try_send(&self, method: &str, path: &str, body: Option<&str>) -> anyhow::Result<Reply> {
        self.try_send_with(method, path, body, &[])
    }

    /// POSTs `body` with an `Idempotency-Key` header of `key`.
    pub fn post_once(&self, path: &str, key: &str, body: &Value) -> Reply {
        let body = body.to_string();
        let headers = [("idempotency-key", key)];
        match self.try_send_with("POST", path, Some(&body), &headers) {
            Ok(reply) => reply,
            Err(err) => panic!("POST {path} failed: {err:#}"),
        }
    }

    /// [`Self::try_send`] with more `headers`.
    pub fn try_send_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Reply> {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(body.unwrap_or_default().as_bytes().to_vec());
        let mut response = self.agent.run(request?)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let replayed = response.headers().get("idempotent-replayed").is_some();
        let headers = (response.headers().iter())
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
            .collect();
        // Past ureq's 10 MB default: a whole user's export is bigger.
        let text = (response.body_mut().with_config().limit(1 << 30))
            .read_to_string()
            .unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Reply {
            status,
            body,
            retry_after,
            replayed,
            headers,
        })
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

// What scenarios share: waiting for the consumers, and the calls they make.

/// How long a consumer may take before a scenario gives up on it: far
/// beyond the milliseconds it takes, so that a slow machine does not fail.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Polls `probe` until it answers `Some`, or fails after [`PATIENCE`].
pub fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> anyhow::Result<T> {
    let start = Instant::now();
    loop {
        if let Some(found) = probe() {
            return Ok(found);
        }
        anyhow::ensure!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Creates a task of `user` from `body`, answering it.
pub fn create(client: &Client, user: &str, body: Value) -> anyhow::Result<Value> {
    let reply = client.post(&format!("/api/{user}/tasks"), &body);
    anyhow::ensure!(reply.status == 201, "creating {body}: {reply:?}");
    Ok(reply.body)
}

/// A task's id.
pub fn id(task: &Value) -> &str {
    task["id"].as_str().unwrap_or_default()
}

/// Marks `task` done (or not done again), answering it.
pub fn complete(client: &Client, user: &str, task: &Value, done: bool) -> anyhow::Result<Value> {
    let path = format!("/api/{user}/tasks/{}/complete", id(task));
    let reply = client.patch(&path, &json!({"completed": done}));
    anyhow::ensure!(reply.status == 200, "completing {}: {reply:?}", id(task));
    Ok(reply.body)
}

/// The fake push service of `tests/e2e/push` (a browser too), on a port of
/// its own; stopped when dropped.
#[derive(Debug)]
pub struct FakePushService {
    child: Child,
    url: String,
}

impl FakePushService {
    /// Starts it on a free port, checking tokens against the stacks' VAPID
    /// key ([`VAPID_PUBLIC_KEY`]); `TODO_PUSH_PYTHON` (set by
    /// `scripts/test`) runs it.
    pub fn start() -> anyhow::Result<Self> {
        let python = std::env::var("TODO_PUSH_PYTHON").map_err(|_| {
            anyhow::anyhow!("TODO_PUSH_PYTHON is not set: run the tests with scripts/test")
        })?;
        let port = free_port()?;
        let script = repo_root().join("tests/e2e/push/fake_push_service.py");
        let child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .arg(VAPID_PUBLIC_KEY)
            .spawn()?;
        let url = format!("http://127.0.0.1:{port}");
        let fake = Self { child, url };
        eventually("the fake push service", || {
            ureq::get(&format!("{}/received", fake.url)).call().ok()
        })?;
        Ok(fake)
    }

    /// A new browser's subscription, as `PushSubscription.toJSON()`.
    pub fn browser(&self, name: &str) -> anyhow::Result<Value> {
        let mut answer = ureq::get(&format!("{}/subscribe/{name}", self.url)).call()?;
        Ok(serde_json::from_str(&answer.body_mut().read_to_string()?)?)
    }

    /// Every push it took: browser, status answered, message, problems.
    pub fn received(&self) -> anyhow::Result<Vec<Value>> {
        let mut answer = ureq::get(&format!("{}/received", self.url)).call()?;
        Ok(serde_json::from_str(&answer.body_mut().read_to_string()?)?)
    }
}

impl Drop for FakePushService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
