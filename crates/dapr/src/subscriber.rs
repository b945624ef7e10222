//! The app's side of pub/sub: the CloudEvent that daprd delivers to a
//! subscription's route, and the answer that tells daprd what to do with it.
//!
//! daprd reads the answer's status first: any 2xx with an empty body or
//! `{"status": "SUCCESS"}` is done, `{"status": "RETRY"}` is tried again,
//! `{"status": "DROP"}` is dropped with a warning. **A 404 drops the message
//! silently** and any other error is retried, so a handler answers with a
//! [`Delivery`] rather than a bare status.

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A CloudEvent as daprd delivers it to the app.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Delivered<D> {
    /// The event's id, unique for its source: the key for de-duplication.
    pub id: String,
    /// Who emitted it.
    pub source: String,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: String,
    /// The topic it came from.
    #[serde(default)]
    pub topic: Option<String>,
    /// The pub/sub component it came through.
    #[serde(default)]
    pub pubsubname: Option<String>,
    /// The event itself.
    pub data: D,
}

impl<D: DeserializeOwned> Delivered<D> {
    /// Reads a delivered event from the request body. An event that cannot be
    /// read will never be readable: answer [`Delivery::Drop`].
    pub fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

/// What the app tells daprd about one delivered event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Handled (or seen before): do not deliver it again.
    Success,
    /// Could not be handled now: deliver it again later.
    Retry,
    /// Can never be handled (a poison message): drop it.
    Drop,
}

impl Delivery {
    /// The status word daprd reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Retry => "RETRY",
            Self::Drop => "DROP",
        }
    }

    /// The answer to daprd: 200 with `{"status": "..."}`.
    pub fn response(self) -> http::Response<Vec<u8>> {
        let mut response =
            http::Response::new(format!(r#"{{"status":"{}"}}"#, self.as_str()).into_bytes());
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_delivered_event_is_read_with_its_data_typed() {
        let body = json!({"specversion": "1.0", "id": "e-1", "source": "todo/tasks", "type": "task.created",
            "datacontenttype": "application/json", "topic": "task-events", "pubsubname": "pubsub",
            "traceparent": "00-abc-def-01", "data": {"n": 3}});
        #[derive(Debug, PartialEq, Eq, Deserialize)]
        struct Data {
            n: u32,
        }
        let event = Delivered::<Data>::parse(body.to_string().as_bytes()).expect("readable");
        assert_eq!(event.id, "e-1");
        assert_eq!(event.kind, "task.created");
        assert_eq!(event.topic.as_deref(), Some("task-events"));
        assert_eq!(event.data, Data { n: 3 });
        assert!(Delivered::<Data>::parse(br#"{"id": "x"}"#).is_err());
    }

    #[test]
    fn every_answer_is_200_with_its_status_word() {
        for (delivery, word) in [
            (Delivery::Success, "SUCCESS"),
            (Delivery::Retry, "RETRY"),
            (Delivery::Drop, "DROP"),
        ] {
            let response = delivery.response();
            assert_eq!(response.status(), 200);
            let body: serde_json::Value = serde_json::from_slice(response.body()).expect("JSON");
            assert_eq!(body, json!({ "status": word }));
        }
    }
}
