//! [`StateStore`] over Dapr's state HTTP API (`/v1.0/state/{store}/...`).
//!
//! Writes go through the transaction endpoint with `first-write` concurrency,
//! so every write is checked against its ETag (or, without one, against the
//! key being absent). Dapr answers a failed check with 409 on single-key calls
//! and with 500 `ERR_STATE_TRANSACTION` on transactions, whose message carries
//! the store's "etag mismatch" or, for PostgreSQL inserts, "no item was updated".

use std::collections::HashMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::store::{StateStore, StoreError, Versioned, Write};
use crate::transport::{OutboundRequest, Transport};

#[derive(Debug, Clone)]
pub struct DaprState<C> {
    /// `http://127.0.0.1:3500/v1.0/state/<store>`
    base: String,
    transport: C,
}

impl<C: Transport> DaprState<C> {
    /// `dapr_url` is the sidecar's HTTP address, such as `http://127.0.0.1:3500`.
    pub fn new(dapr_url: &str, store_name: &str, transport: C) -> Self {
        Self {
            base: format!(
                "{}/v1.0/state/{}",
                dapr_url.trim_end_matches('/'),
                encode(store_name)
            ),
            transport,
        }
    }

    async fn send(
        &self,
        method: &'static str,
        path: &str,
        body: Option<Value>,
    ) -> Result<crate::transport::OutboundResponse, StoreError> {
        let (headers, body) = match body {
            Some(body) => (
                vec![("content-type", "application/json".to_owned())],
                body.to_string().into_bytes(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        self.transport
            .send(OutboundRequest {
                method,
                url: format!("{}{path}", self.base),
                headers,
                body,
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn bulk<T: DeserializeOwned>(
        &self,
        keys: &[String],
    ) -> Result<Vec<BulkItem<T>>, StoreError> {
        let body = json!({ "keys": keys, "parallelism": 8 });
        let response = self.send("POST", "/bulk", Some(body)).await?;
        if response.status != 200 {
            return Err(unexpected(response.status, &response.body));
        }
        serde_json::from_slice(&response.body)
            .map_err(|e| StoreError::Unavailable(format!("bulk answer not understood: {e}")))
    }
}

#[derive(Deserialize)]
struct BulkItem<T> {
    key: String,
    data: Option<T>,
    etag: Option<String>,
    error: Option<String>,
}

/// Keys per bulk request; the requests of one read go out together, so that
/// daprd works on one while the component reads another.
const BULK_CHUNK: usize = 32;

impl<C: Transport> StateStore for DaprState<C> {
    async fn get<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<Versioned<T>>, StoreError> {
        let response = self.send("GET", &format!("/{}", encode(key)), None).await?;
        match response.status {
            204 => Ok(None),
            200 => {
                let value = serde_json::from_slice(&response.body).map_err(|e| {
                    StoreError::Unavailable(format!("stored value of {key} not understood: {e}"))
                })?;
                let etag = response
                    .etag
                    .ok_or_else(|| StoreError::Unavailable(format!("no ETag for {key}")))?;
                Ok(Some(Versioned { value, etag }))
            }
            status => Err(unexpected(status, &response.body)),
        }
    }

    async fn get_many<T: DeserializeOwned>(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<Versioned<T>>>, StoreError> {
        let chunks = futures::future::try_join_all(
            keys.chunks(BULK_CHUNK).map(|chunk| self.bulk::<T>(chunk)),
        )
        .await?;
        let mut found = HashMap::with_capacity(keys.len());
        for item in chunks.into_iter().flatten() {
            if let Some(error) = item.error {
                return Err(StoreError::Unavailable(format!(
                    "bulk get of {}: {error}",
                    item.key
                )));
            }
            if let (Some(value), Some(etag)) = (item.data, item.etag) {
                found.insert(item.key, Versioned { value, etag });
            }
        }
        Ok(keys.iter().map(|k| found.remove(k)).collect())
    }

    async fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let operations: Vec<Value> = writes
            .into_iter()
            .map(|write| match write {
                Write::Put { key, value, etag } => json!({
                    "operation": "upsert",
                    "request": { "key": key, "value": value, "etag": etag, "options": { "concurrency": "first-write" } }
                }),
                Write::Delete { key, etag } => json!({
                    "operation": "delete",
                    "request": { "key": key, "etag": etag, "options": { "concurrency": "first-write" } }
                }),
            })
            .collect();
        let response = self
            .send(
                "POST",
                "/transaction",
                Some(json!({ "operations": operations })),
            )
            .await?;
        match response.status {
            200..=299 => Ok(()),
            409 => Err(StoreError::Conflict),
            500 if is_condition_failure(&response.body) => Err(StoreError::Conflict),
            status => Err(unexpected(status, &response.body)),
        }
    }
}

fn is_condition_failure(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains("ERR_STATE_TRANSACTION")
        && (text.contains("etag mismatch") || text.contains("no item was updated"))
}

fn unexpected(status: u16, body: &[u8]) -> StoreError {
    let text = String::from_utf8_lossy(body);
    StoreError::Unavailable(format!(
        "Dapr answered {status}: {}",
        text.chars().take(300).collect::<String>()
    ))
}

/// Percent-encodes a path segment (keys hold `|`, which URLs may not).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_percent_encoded() {
        assert_eq!(encode("task:alice:01J"), "task%3Aalice%3A01J");
        assert_eq!(encode("a.b-c_d~"), "a.b-c_d~");
    }

    #[test]
    fn condition_failures_are_told_from_other_errors() {
        let mismatch = br#"{"errorCode":"ERR_STATE_TRANSACTION","message":"error while executing state transaction: possible etag mismatch. error from state store: null"}"#;
        let insert = br#"{"errorCode":"ERR_STATE_TRANSACTION","message":"error while executing state transaction: no item was updated"}"#;
        let down = br#"{"errorCode":"ERR_STATE_TRANSACTION","message":"error while executing state transaction: connection refused"}"#;
        assert!(is_condition_failure(mismatch));
        assert!(is_condition_failure(insert));
        assert!(!is_condition_failure(down));
    }
}
