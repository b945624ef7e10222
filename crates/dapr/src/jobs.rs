//! The Jobs API (`/v1.0/jobs/{name}`; `/v1.0-alpha1/` is its older name): work that the Dapr scheduler
//! calls back at its due time, as `POST /job/{name}` to the app with the
//! job's data as the body. Needs the scheduler (`--scheduler-host-address`).

use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Dapr, DaprError, Transport, encode, succeeded, unexpected};

/// A job to schedule, borrowed from its parts. At least one of `schedule`
/// and `due_time` must be set.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job<'a, D> {
    /// What the callback receives as its body.
    pub data: &'a D,
    /// When it repeats: a cron expression with seconds, `@every 1h`, `@daily`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<&'a str>,
    /// When it first fires: an RFC 3339 instant or a Go duration from now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_time: Option<&'a str>,
    /// How often it fires in all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeats: Option<u32>,
    /// When it expires: an RFC 3339 instant or a Go duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<&'a str>,
    /// Whether an existing job of the same name is replaced (otherwise the
    /// call fails).
    pub overwrite: bool,
    /// What the scheduler does when the callback fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_policy: Option<FailurePolicy<'a>>,
}

impl<'a, D> Job<'a, D> {
    /// A job that fires once at `due_time` and replaces any job of its name.
    pub fn once(due_time: &'a str, data: &'a D) -> Self {
        Self {
            data,
            schedule: None,
            due_time: Some(due_time),
            repeats: Some(1),
            ttl: None,
            overwrite: true,
            failure_policy: None,
        }
    }
}

/// What the scheduler does when a callback fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FailurePolicy<'a> {
    /// Gives up at once.
    Drop {},
    /// Tries again every `interval` (a Go duration), at most `max_retries`
    /// times (unbounded when `None`).
    #[serde(rename_all = "camelCase")]
    Constant {
        /// Between tries, such as `5s`.
        interval: &'a str,
        /// How many tries after the first.
        #[serde(skip_serializing_if = "Option::is_none")]
        max_retries: Option<u32>,
    },
}

/// A job as the scheduler holds it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "D: Deserialize<'de>"))]
pub struct ScheduledJob<D> {
    /// Its name.
    pub name: String,
    /// Its data. daprd 1.18 answers it wrapped in a protobuf `Any`
    /// (`{"@type": "type.googleapis.com/google.protobuf.Value", "value": ...}`),
    /// which is taken off here.
    #[serde(deserialize_with = "unwrap_any")]
    pub data: D,
    /// When it repeats, if it does.
    #[serde(default)]
    pub schedule: Option<String>,
    /// When it first fires, if set.
    #[serde(default)]
    pub due_time: Option<String>,
    /// How often it fires in all, if bounded.
    #[serde(default)]
    pub repeats: Option<u32>,
}

impl<T: Transport> Dapr<T> {
    /// Schedules `job` under `name`.
    pub async fn schedule_job<D: Serialize>(
        &self,
        name: &str,
        job: &Job<'_, D>,
    ) -> Result<(), DaprError> {
        let response = self.call(Method::POST, &job_path(name), Some(job)).await?;
        succeeded(&response)
    }

    /// The job named `name`, or `None` when there is none.
    pub async fn get_job<D: DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<ScheduledJob<D>>, DaprError> {
        let response = self.call::<()>(Method::GET, &job_path(name), None).await?;
        match response.status() {
            StatusCode::OK => serde_json::from_slice(response.body())
                .map(Some)
                .map_err(|e| DaprError::Unavailable(format!("job {name} not understood: {e}"))),
            StatusCode::NOT_FOUND => Ok(None),
            _ if is_not_found(response.body()) => Ok(None),
            _ => Err(unexpected(&response)),
        }
    }

    /// Deletes the job named `name`; deleting a job that is not there succeeds.
    pub async fn delete_job(&self, name: &str) -> Result<(), DaprError> {
        let response = self
            .call::<()>(Method::DELETE, &job_path(name), None)
            .await?;
        if response.status().is_success()
            || response.status() == StatusCode::NOT_FOUND
            || is_not_found(response.body())
        {
            Ok(())
        } else {
            Err(unexpected(&response))
        }
    }
}

/// The data of a job that fired, from the body of daprd's `POST /job/{name}`
/// (bare, or in a protobuf `Any` envelope as daprd answers it elsewhere).
pub fn triggered<D: DeserializeOwned>(body: &[u8]) -> Result<D, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let data = unwrap_any(&mut deserializer)?;
    deserializer.end()?;
    Ok(data)
}

/// Job data as daprd answers it: in a protobuf `Any` envelope, or bare.
#[derive(Deserialize)]
#[serde(untagged)]
enum AnyValue<D> {
    Wrapped {
        #[serde(rename = "@type")]
        _type: String,
        value: D,
    },
    Bare(D),
}

fn unwrap_any<'de, D: Deserialize<'de>, De: serde::Deserializer<'de>>(
    deserializer: De,
) -> Result<D, De::Error> {
    Ok(match AnyValue::deserialize(deserializer)? {
        AnyValue::Wrapped { value, .. } | AnyValue::Bare(value) => value,
    })
}

fn job_path(name: &str) -> String {
    format!("/v1.0/jobs/{}", encode(name))
}

/// Dapr answers a job that is not there with a 500 whose message says so.
fn is_not_found(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains("not found")
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use serde_json::{Value, json};

    use super::*;
    use crate::fakes::RecordingTransport;

    #[test]
    fn a_job_is_sent_with_only_the_fields_set() {
        let transport = RecordingTransport::answering([(204, "")]);
        let dapr = Dapr::new("http://dapr", &transport);
        let data = json!({"task_id": "01J"});
        let job = Job {
            failure_policy: Some(FailurePolicy::Constant {
                interval: "5s",
                max_retries: Some(3),
            }),
            ..Job::once("2026-12-01T09:00:00Z", &data)
        };
        block_on(dapr.schedule_job("reminder:alice:01J:0", &job)).expect("scheduled");
        let sent = &transport.sent()[0];
        assert_eq!(sent.uri, "http://dapr/v1.0/jobs/reminder%3Aalice%3A01J%3A0");
        assert_eq!(
            sent.json(),
            json!({"data": {"task_id": "01J"}, "dueTime": "2026-12-01T09:00:00Z", "repeats": 1,
                   "overwrite": true, "failurePolicy": {"constant": {"interval": "5s", "maxRetries": 3}}})
        );
    }

    #[test]
    fn a_job_read_back_has_its_data_unwrapped() {
        let answer = r#"{"name": "j", "dueTime": "2099-01-01T00:00:00Z", "repeats": 1,
            "data": {"@type": "type.googleapis.com/google.protobuf.Value", "value": {"n": 1}}}"#;
        let transport = RecordingTransport::answering([(200, answer)]);
        let dapr = Dapr::new("http://dapr", &transport);
        let job: ScheduledJob<serde_json::Value> =
            block_on(dapr.get_job("j")).expect("asked").expect("there");
        assert_eq!(job.data, json!({"n": 1}));
        assert_eq!(job.repeats, Some(1));
    }

    #[test]
    fn a_missing_job_is_none_and_deleting_it_succeeds() {
        let transport = RecordingTransport::answering([(404, ""), (404, "")]);
        let dapr = Dapr::new("http://dapr", &transport);
        let job: Option<ScheduledJob<serde_json::Value>> =
            block_on(dapr.get_job("gone")).expect("asked");
        assert_eq!(job, None);
        block_on(dapr.delete_job("gone")).expect("deleted");
        assert_eq!(transport.sent()[1].method, "DELETE");
    }

    #[test]
    fn the_data_of_a_job_that_fired_is_read_bare_or_wrapped() {
        let bare: Value = triggered(br#"{"user_id": "alice"}"#).expect("bare");
        let wrapped: Value = triggered(
            br#"{"@type": "type.googleapis.com/google.protobuf.Value", "value": {"user_id": "alice"}}"#,
        )
        .expect("wrapped");
        assert_eq!(bare, json!({"user_id": "alice"}));
        assert_eq!(wrapped, bare);
        assert!(triggered::<Value>(b"{} trailing").is_err());
    }
}
