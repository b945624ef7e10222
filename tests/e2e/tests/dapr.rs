//! The `dapr` client crate against real daprd: the request shapes it sends
//! for state, publish and jobs are the ones daprd 1.18 reads, and it tells
//! daprd's answers apart (a lost race from a failure, a missing job from an
//! error) on SQLite and on PostgreSQL.

use dapr::jobs::{FailurePolicy, Job, ScheduledJob};
use dapr::publish::CloudEvent;
use dapr::{Dapr, DaprError, StateStore, Transport, TransportError, Versioned, Write};
use e2e::{Env, Profile, Stack};
use futures::executor::block_on;
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{Value, json};

/// Blocking HTTP through ureq, as the port's native adapter for these tests.
struct Ureq(ureq::Agent);

impl Transport for Ureq {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let mut response = self
            .0
            .run(request)
            .map_err(|e| TransportError(e.to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .body_mut()
            .read_to_vec()
            .map_err(|e| TransportError(e.to_string()))?;
        let mut answer = http::Response::new(body);
        *answer.status_mut() = status;
        *answer.headers_mut() = headers;
        Ok(answer)
    }
}

fn dapr(stack: &Stack) -> Dapr<Ureq> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    Dapr::new(
        &format!("http://127.0.0.1:{}", stack.dapr_port),
        Ureq(agent),
    )
}

type Check = fn(&Stack) -> anyhow::Result<()>;

fn main() {
    let args = Arguments::from_args();
    let env = Env::from_environment().map_err(|e| format!("{e:#}"));
    let checks: &[(&str, Check, &[Profile])] = &[
        (
            "state_reads_writes_and_tells_lost_races_apart",
            state,
            &[Profile::Sqlite, Profile::Postgres],
        ),
        (
            "jobs_are_scheduled_read_back_and_deleted",
            jobs,
            &[Profile::Sqlite],
        ),
        (
            "events_are_published_and_unknown_components_refused",
            publish,
            &[Profile::Sqlite],
        ),
    ];
    let mut trials = Vec::new();
    for profile in [Profile::Sqlite, Profile::Postgres] {
        let mine: Vec<(&str, Check)> = checks
            .iter()
            .filter(|(_, _, profiles)| profiles.contains(&profile))
            .map(|(name, check, _)| (*name, *check))
            .collect();
        let env = env.clone();
        trials.push(Trial::test(
            format!("{}::client", profile.name()),
            move || {
                let env = env.map_err(|e| Failed::from(e.as_str()))?;
                let stack = Stack::start(&env, profile).map_err(|e| format!("{e:#}"))?;
                for (name, check) in &mine {
                    check(&stack).map_err(|e| format!("{name}: {e:#}"))?;
                }
                Ok(())
            },
        ));
    }
    libtest_mimic::run(&args, e2e::needing_services(trials)).exit();
}

fn state(stack: &Stack) -> anyhow::Result<()> {
    let dapr = dapr(stack);
    let state = dapr.state("statestore");
    let key = "dapr-client:k";
    block_on(state.commit(&[Write::put(key, &json!({"n": 1}), None)?]))?;
    let read: Versioned<Value> =
        block_on(state.get(key))?.ok_or_else(|| anyhow::anyhow!("{key} not stored"))?;
    anyhow::ensure!(read.value == json!({"n": 1}), "read {:?}", read.value);
    let again = block_on(state.commit(&[Write::put(key, &json!({"n": 2}), None)?]));
    anyhow::ensure!(
        again == Err(DaprError::Conflict),
        "a second insert of an existing key is a lost race, got {again:?}"
    );
    block_on(state.commit(&[Write::put(key, &json!({"n": 2}), Some(read.etag.clone()))?]))?;
    let stale =
        block_on(state.commit(&[Write::put(key, &json!({"n": 3}), Some(read.etag.clone()))?]));
    anyhow::ensure!(
        stale == Err(DaprError::Conflict),
        "a stale ETag is a lost race, got {stale:?}"
    );
    let keys = vec![key.to_owned(), "dapr-client:none".to_owned()];
    let many: Vec<Option<Versioned<Value>>> = block_on(state.get_many(&keys))?;
    let values: Vec<Option<Value>> = many.into_iter().map(|v| v.map(|v| v.value)).collect();
    anyhow::ensure!(
        values == vec![Some(json!({"n": 2})), None],
        "bulk read {values:?}"
    );
    let current: Versioned<Value> =
        block_on(state.get(key))?.ok_or_else(|| anyhow::anyhow!("{key} gone"))?;
    block_on(state.commit(&[Write::Delete {
        key: key.into(),
        etag: current.etag,
    }]))?;
    anyhow::ensure!(block_on(state.get::<Value>(key))?.is_none(), "deleted");
    Ok(())
}

fn jobs(stack: &Stack) -> anyhow::Result<()> {
    let dapr = dapr(stack);
    let data = json!({"task_id": "01KB9X3D5E6F7G8H9J0KMNPQRS", "reminder": 0});
    let job = Job {
        failure_policy: Some(FailurePolicy::Constant {
            interval: "5s",
            max_retries: Some(3),
        }),
        ..Job::once("2099-01-01T00:00:00Z", &data)
    };
    block_on(dapr.schedule_job("dapr-client-job", &job))?;
    let found: ScheduledJob<Value> = block_on(dapr.get_job("dapr-client-job"))?
        .ok_or_else(|| anyhow::anyhow!("the job was not found after scheduling it"))?;
    anyhow::ensure!(found.data == data, "job data {:?}", found.data);
    anyhow::ensure!(found.name == "dapr-client-job", "job name {:?}", found.name);
    block_on(dapr.schedule_job("dapr-client-job", &job))
        .map_err(|e| anyhow::anyhow!("overwrite: {e}"))?;
    block_on(dapr.delete_job("dapr-client-job"))?;
    let gone: Option<ScheduledJob<Value>> = block_on(dapr.get_job("dapr-client-job"))?;
    anyhow::ensure!(
        gone.is_none(),
        "the job is still there after deleting it: {gone:?}"
    );
    block_on(dapr.delete_job("dapr-client-job"))
        .map_err(|e| anyhow::anyhow!("second delete: {e}"))?;
    Ok(())
}

fn publish(stack: &Stack) -> anyhow::Result<()> {
    let dapr = dapr(stack);
    let data = json!({"n": 1});
    let event = CloudEvent::new("e2e-1", "todo/e2e", "test.published", &data);
    block_on(dapr.publish(
        "pubsub",
        "task-events",
        &event,
        &[("partitionKey", "alice")],
    ))?;
    let refused = block_on(dapr.publish("no-such-pubsub", "t", &event, &[]));
    anyhow::ensure!(
        matches!(refused, Err(DaprError::Unavailable(_))),
        "publishing to a missing component must fail, got {refused:?}"
    );
    Ok(())
}
