//! `api-bench [REQUESTS]`: sequential latency of the tasks API through the
//! real host and daprd, on both profiles, and the host's own overhead with an
//! empty component. Prints a table; asserts nothing. Run it with `bench/run`,
//! which starts the services it needs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use e2e::{Client, Env, Host, Profile, Stack};
use serde_json::json;

fn main() -> anyhow::Result<()> {
    let requests: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1000);
    let env = Env::from_environment()?;
    println!("{requests} sequential requests each, one client, keep-alive; times in ms\n");
    println!("| profile | operation | p50 | p99 | mean | max |");
    println!("|---|---|---:|---:|---:|---:|");
    for profile in [Profile::Sqlite, Profile::Postgres] {
        let stack = Stack::start(&env, profile)?;
        let client = stack.client("bench");
        let base = "/api/bench/tasks";
        let mut ids = Vec::with_capacity(requests);
        let create = measure(requests, |i| {
            let reply = client.post(
                base,
                &json!({"title": format!("task {i}"), "priority": "medium", "tags": ["bench"]}),
            );
            ids.push(reply.body["id"].as_str().unwrap_or_default().to_owned());
            reply.status == 201
        })?;
        report(profile.name(), "create", &create);
        let get = measure(requests, |i| {
            client.get(&format!("{base}/{}", ids[i % ids.len()])).status == 200
        })?;
        report(profile.name(), "get one", &get);
        let list = measure(requests.min(200), |_| client.get(base).status == 200)?;
        report(
            profile.name(),
            &format!("list ({} tasks)", ids.len()),
            &list,
        );
        let small = stack.client("bench-small");
        for i in 0..10 {
            small.post("/api/bench-small/tasks", &json!({"title": format!("t{i}")}));
        }
        let list_small = measure(requests, |_| {
            small.get("/api/bench-small/tasks").status == 200
        })?;
        report(profile.name(), "list (10 tasks)", &list_small);
    }
    let manifest =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/fixtures/probe.toml");
    let host = Host::start(&env, &manifest, &[("allowed_port", "1".to_owned())])?;
    let client = Client::new(format!("http://127.0.0.1:{}", host.port), None);
    let empty = measure(requests, |_| client.get("/probe/empty").status == 200)?;
    report("-", "host + empty component", &empty);
    Ok(())
}

fn measure(n: usize, mut call: impl FnMut(usize) -> bool) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        anyhow::ensure!(call(i), "request {i} failed");
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times)
}

fn report(profile: &str, operation: &str, sorted: &[Duration]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(sorted[((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1)]);
    let mean = sorted.iter().map(|d| ms(*d)).sum::<f64>() / sorted.len() as f64;
    println!(
        "| {profile} | {operation} | {:.2} | {:.2} | {mean:.2} | {:.2} |",
        at(0.50),
        at(0.99),
        ms(sorted[sorted.len() - 1])
    );
}
