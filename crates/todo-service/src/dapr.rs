//! [`StateStore`] over Dapr's state HTTP API (`/v1.0/state/{store}/...`).
//!
//! Writes go through the transaction endpoint with `first-write` concurrency,
//! so every write is checked against its ETag (or, without one, against the
//! key being absent). Dapr answers a failed check with 409 on single-key calls
//! and with 500 `ERR_STATE_TRANSACTION` on transactions, whose message carries
//! the store's "etag mismatch" or, for PostgreSQL inserts, "no item was updated".

use serde::Deserialize;
use serde_json::{Value, json};

use crate::store::{StateStore, StoreError, Versioned, Write};
use crate::transport::{OutboundRequest, Transport};

#[derive(Debug, Clone)]
pub struct DaprState<T> {
    /// `http://127.0.0.1:3500/v1.0/state/<store>`
    base: String,
    transport: T,
}

impl<T: Transport> DaprState<T> {
    /// `dapr_url` is the sidecar's HTTP address, such as `http://127.0.0.1:3500`.
    pub fn new(dapr_url: &str, store_name: &str, transport: T) -> Self {
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
}

#[derive(Deserialize)]
struct BulkItem {
    key: String,
    data: Option<Value>,
    etag: Option<String>,
    error: Option<String>,
}

impl<T: Transport> StateStore for DaprState<T> {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        let response = self.send("GET", &format!("/{}", encode(key)), None).await?;
        match response.status {
            204 => Ok(None),
            200 => {
                let value = serde_json::from_slice(&response.body).map_err(|e| {
                    StoreError::Unavailable(format!("stored value of {key} is not JSON: {e}"))
                })?;
                let etag = response
                    .etag
                    .ok_or_else(|| StoreError::Unavailable(format!("no ETag for {key}")))?;
                Ok(Some(Versioned { value, etag }))
            }
            status => Err(unexpected(status, &response.body)),
        }
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Versioned>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let response = self
            .send(
                "POST",
                "/bulk",
                Some(json!({ "keys": keys, "parallelism": 16 })),
            )
            .await?;
        if response.status != 200 {
            return Err(unexpected(response.status, &response.body));
        }
        let items: Vec<BulkItem> = serde_json::from_slice(&response.body)
            .map_err(|e| StoreError::Unavailable(format!("bulk answer is not understood: {e}")))?;
        let mut found = std::collections::HashMap::with_capacity(items.len());
        for item in items {
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
