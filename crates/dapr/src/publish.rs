//! Publishing events through the sidecar's pub/sub component
//! (`POST /v1.0/publish/{pubsub}/{topic}`).
//!
//! The app writes the CloudEvent envelope itself (`application/cloudevents+json`),
//! so the event's `id` is the app's own and a consumer that sees it twice can
//! tell. Dapr passes such an envelope through and adds its own fields
//! (`topic`, `pubsubname`, `traceparent`, ...).

use http::Method;
use serde::Serialize;

use crate::{Dapr, DaprError, Transport, encode, encode_json, succeeded};

/// A CloudEvents 1.0 envelope in JSON, borrowed from its parts.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CloudEvent<'a, D: ?Sized> {
    /// Always `1.0`.
    pub specversion: &'static str,
    /// Unique for each event from `source`; consumers de-duplicate on it.
    pub id: &'a str,
    /// Who emitted the event, such as `todo-chatbot/tasks`.
    pub source: &'a str,
    /// What happened, such as `task.completed`.
    #[serde(rename = "type")]
    pub kind: &'a str,
    /// Always `application/json`.
    pub datacontenttype: &'static str,
    /// The event itself.
    pub data: &'a D,
}

impl<'a, D: Serialize + ?Sized> CloudEvent<'a, D> {
    /// An event `kind` from `source` with `id`, carrying `data` as JSON.
    pub fn new(id: &'a str, source: &'a str, kind: &'a str, data: &'a D) -> Self {
        Self {
            specversion: "1.0",
            id,
            source,
            kind,
            datacontenttype: "application/json",
            data,
        }
    }
}

impl<T: Transport> Dapr<T> {
    /// Publishes `event` to `topic` of the pub/sub component `pubsub`, with
    /// `metadata` for the component (such as `partitionKey`). Answers once
    /// the component has taken the event.
    pub async fn publish<D: Serialize + ?Sized>(
        &self,
        pubsub: &str,
        topic: &str,
        event: &CloudEvent<'_, D>,
        metadata: &[(&str, &str)],
    ) -> Result<(), DaprError> {
        let mut path = format!("/v1.0/publish/{}/{}", encode(pubsub), encode(topic));
        if !metadata.is_empty() {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (name, value) in metadata {
                query.append_pair(&format!("metadata.{name}"), value);
            }
            path = format!("{path}?{}", query.finish());
        }
        let body = encode_json(&path, event)?;
        let response = self
            .send(
                Method::POST,
                &path,
                Some(("application/cloudevents+json", body)),
            )
            .await?;
        succeeded(&response)
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::fakes::RecordingTransport;

    #[test]
    fn an_event_is_published_in_its_own_envelope() {
        let transport = RecordingTransport::answering([(204, "")]);
        let dapr = Dapr::new("http://dapr", &transport);
        let data = json!({"task_id": "01J"});
        let event = CloudEvent::new("e-1", "todo/tasks", "task.created", &data);
        block_on(dapr.publish(
            "pubsub",
            "task-events",
            &event,
            &[("partitionKey", "alice")],
        ))
        .expect("published");
        let sent = &transport.sent()[0];
        assert_eq!(
            sent.uri,
            "http://dapr/v1.0/publish/pubsub/task-events?metadata.partitionKey=alice"
        );
        assert_eq!(sent.content_type, "application/cloudevents+json");
        assert_eq!(
            sent.json(),
            json!({"specversion": "1.0", "id": "e-1", "source": "todo/tasks", "type": "task.created",
                   "datacontenttype": "application/json", "data": {"task_id": "01J"}})
        );
    }

    #[test]
    fn a_refused_publish_is_an_error() {
        let transport =
            RecordingTransport::answering([(404, r#"{"errorCode":"ERR_PUBSUB_NOT_FOUND"}"#)]);
        let dapr = Dapr::new("http://dapr", &transport);
        let event = CloudEvent::new("e", "s", "t", &1);
        assert!(matches!(
            block_on(dapr.publish("nope", "t", &event, &[])),
            Err(DaprError::Unavailable(message)) if message.contains("ERR_PUBSUB_NOT_FOUND")
        ));
    }
}
