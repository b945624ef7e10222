//! The `dapr` client crate against real daprd: the request shapes it sends
//! for state, publish and jobs are the ones daprd 1.18 reads, and it tells
//! daprd's answers apart (a lost race from a failure, a missing job from an
//! error) on SQLite and on PostgreSQL; on the full profile, its events travel
//! through the Kafka broker to a subscriber, and the pub/sub component speaks
//! the broker's protocol version.

use std::time::Duration;

use dapr::jobs::{FailurePolicy, Job, ScheduledJob};
use dapr::publish::CloudEvent;
use dapr::subscriber::Delivered;
use dapr::{Dapr, DaprError, StateStore, Transport, TransportError, Versioned, Write};
use e2e::{Daprd, Env, FakeApp, Profile, Stack};
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
    Dapr::with_token(
        &format!("http://127.0.0.1:{}", stack.dapr_port),
        &stack.dapr_token,
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
            "a_call_without_the_api_token_is_refused",
            token,
            &[Profile::Sqlite, Profile::Postgres],
        ),
        (
            "jobs_are_scheduled_read_back_and_deleted",
            jobs,
            &[Profile::Sqlite],
        ),
        (
            "metrics_are_labelled_by_route_not_by_job_or_key",
            metrics,
            &[Profile::Sqlite],
        ),
        (
            "events_are_published_and_unknown_components_refused",
            publish,
            &[Profile::Sqlite],
        ),
        (
            "events_travel_through_kafka_to_a_subscriber",
            kafka_delivery,
            &[Profile::Postgres],
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
    trials.push(Trial::test("postgres::kafka_version", move || {
        let env = env.map_err(|e| Failed::from(e.as_str()))?;
        kafka_version(&env).map_err(|e| format!("{e:#}").into())
    }));
    libtest_mimic::run(&args, e2e::needing_services(trials)).exit();
}

/// daprd demands the app's token (`DAPR_API_TOKEN`): a call without it or
/// with another is refused and changes nothing; the client's calls carry it.
fn token(stack: &Stack) -> anyhow::Result<()> {
    let key = "dapr-client:token";
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("http://127.0.0.1:{}/v1.0/state/statestore", stack.dapr_port);
    for wrong in [None, Some("not-the-token")] {
        let mut request =
            ureq::Agent::post(&agent, &url).header("content-type", "application/json");
        if let Some(wrong) = wrong {
            request = request.header("dapr-api-token", wrong);
        }
        let answer = request.send(json!([{"key": key, "value": 1}]).to_string())?;
        anyhow::ensure!(answer.status() == 401, "{wrong:?}: {}", answer.status());
    }
    let state = dapr(stack);
    let state = state.state("statestore");
    anyhow::ensure!(
        block_on(state.get::<Value>(key))?.is_none(),
        "a refused call wrote"
    );
    Ok(())
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
        etag: Some(current.etag),
    }]))?;
    anyhow::ensure!(block_on(state.get::<Value>(key))?.is_none(), "deleted");
    Ok(())
}

/// After the calls above (a job scheduled, read and deleted; keys read and
/// written), daprd's HTTP metrics name the routes, not the job or the key:
/// each name in a path would be series daprd keeps for good, and it grew
/// by megabytes a minute under load (deploy/dapr/config.yaml).
fn metrics(stack: &Stack) -> anyhow::Result<()> {
    let metrics = stack.daprd_metrics()?;
    for route in ["/v1.0/jobs/{name}", "/v1.0/state/{store}/{key}"] {
        let label = format!("path=\"{route}\"");
        anyhow::ensure!(metrics.contains(&label), "no series for {route}");
    }
    // The job is dapr-client-job, the keys dapr-client:k and the like.
    anyhow::ensure!(
        !metrics.contains("dapr-client"),
        "a job name or a key is in daprd's metrics"
    );
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

/// An event published through the stack's daprd reaches a declarative
/// subscription of another daprd (a consumer group of its own) through the
/// Kafka broker: the full profile's pub/sub works end to end, with the
/// protocol `version` that deploy/dapr/full/pubsub.yaml gives it.
fn kafka_delivery(stack: &Stack) -> anyhow::Result<()> {
    let app = FakeApp::start()?;
    let topic = format!("{}kafka-check", stack.topic_prefix);
    let subscription = format!(
        "apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: kafka-check
spec:
  pubsubname: pubsub
  topic: {topic}
  routes:
    default: /kafka-check
"
    );
    let subscriber = Daprd::start(
        stack.env(),
        Profile::Postgres,
        app.port,
        &[("e2e-subscription.yaml", &subscription)],
    )?;
    // Over the 1024 bytes that pubsub.kafka's metadata.yaml gives as the
    // default maxMessageBytes (the code leaves sarama's 1 MB).
    let data = json!({"n": 1, "text": "x".repeat(4096)});
    let id = format!("{}1", stack.topic_prefix);
    let event = CloudEvent::new(&id, "todo/e2e", "test.published", &data);
    block_on(dapr(stack).publish("pubsub", &topic, &event, &[("partitionKey", "alice")]))?;
    let Some(delivered) = app.wait_for(Duration::from_secs(60), |r| {
        r.method == "POST" && r.path == "/kafka-check"
    }) else {
        let log = subscriber.log();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        anyhow::bail!(
            "the event did not reach the subscriber within 60 s; its daprd said, last first:\n{}",
            tail.join("\n")
        );
    };
    let delivered: Delivered<Value> = Delivered::parse(&delivered.body)?;
    anyhow::ensure!(
        delivered.id == id && delivered.data == data,
        "delivered {} with other data than published",
        delivered.id
    );
    anyhow::ensure!(
        delivered.topic.as_deref() == Some(topic.as_str())
            && delivered.pubsubname.as_deref() == Some("pubsub"),
        "delivered from {:?} of {:?}",
        delivered.topic,
        delivered.pubsubname
    );
    Ok(())
}

/// Every `pubsub.kafka` component of the full profile (deploy/dapr/full:
/// `pubsub` and the consumers' own) gives as `version` (the protocol Dapr's
/// sarama client speaks) the running broker's major.minor, at a release not
/// newer than the broker: bumping the broker in tools/kafka/pom.xml without
/// the components fails here. (Sarama lists x.y.0 of each release; patch
/// releases do not change the protocol.)
fn kafka_version(env: &Env) -> anyhow::Result<()> {
    let broker = env.kafka_version.as_deref().ok_or_else(|| {
        anyhow::anyhow!("TODO_KAFKA_VERSION is not set: run the tests with scripts/test")
    })?;
    let theirs =
        release(broker).ok_or_else(|| anyhow::anyhow!("cannot read the broker's {broker:?}"))?;
    let dir = env.root.join("deploy/dapr/full");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let yaml = std::fs::read_to_string(&path)?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        for component in kafka_versions(&yaml) {
            let ours = release(&component)
                .ok_or_else(|| anyhow::anyhow!("{name}: cannot read version {component:?}"))?;
            anyhow::ensure!(
                ours[..2] == theirs[..2] && ours <= theirs,
                "{name}: version {component} does not match the running broker's {broker}: \
                 set it to {}.{}.0 where Dapr's sarama knows that release (its SupportedVersions)",
                theirs[0],
                theirs[1]
            );
            checked += 1;
        }
    }
    anyhow::ensure!(
        checked > 0,
        "no pubsub.kafka component with a version in {}",
        dir.display()
    );
    Ok(())
}

/// The metadata `version` of each `pubsub.kafka` component in a YAML file of
/// one or more resources (`---` apart); a component without one counts as
/// "" (sarama's default, 2.0.0, which must not pass).
fn kafka_versions(yaml: &str) -> Vec<String> {
    yaml.split("\n---")
        .filter(|resource| {
            resource
                .lines()
                .any(|line| line.trim() == "type: pubsub.kafka")
        })
        .map(|resource| {
            let mut lines = resource.lines().map(str::trim);
            lines
                .find(|line| *line == "- name: version")
                .and_then(|_| lines.next())
                .and_then(|line| line.strip_prefix("value:"))
                .map(|value| value.trim().trim_matches('"').to_owned())
                .unwrap_or_default()
        })
        .collect()
}

/// `4.2.0` as [4, 2, 0].
fn release(version: &str) -> Option<[u32; 3]> {
    let mut parts = version.split('.').map(|p| p.parse().ok());
    Some([parts.next()??, parts.next()??, parts.next()??])
}
