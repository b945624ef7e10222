//! State: versioned reads and conditional writes that commit together or
//! not at all, as a port ([`StateStore`]) and its adapter for Dapr's state
//! HTTP API ([`State`], `/v1.0/state/{store}/...`).
//!
//! Writes go through the transaction endpoint with `first-write`
//! concurrency, so every write is checked against its ETag (or, without one,
//! against the key being absent). Dapr answers a failed check with 409 on
//! single-key calls and with 500 `ERR_STATE_TRANSACTION` on transactions,
//! whose message carries the store's "etag mismatch" or, for PostgreSQL
//! inserts, "no item was updated".

use std::collections::HashMap;
use std::future::Future;

use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::{Dapr, DaprError, Transport, encode, unexpected};

/// A stored value, read straight into its type, with the ETag it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// The version it was read at; a write conditioned on it fails if the
    /// key changed since.
    pub etag: String,
}

/// One write of a transaction. A put is always conditional: on the ETag it
/// was read at, or (`etag: None`) on the key not existing yet. A delete is
/// conditional on its ETag when it has one.
#[derive(Debug, Clone)]
pub enum Write {
    /// Sets `key` to `value`, JSON already encoded (see [`Write::put`]).
    Put {
        /// The key, without Dapr's app-id prefix.
        key: String,
        /// The encoded value.
        value: Box<RawValue>,
        /// The version the write is conditioned on; `None`: the key must be new.
        etag: Option<String>,
        /// How long the store keeps it, in seconds (`None`: for good).
        ttl_seconds: Option<u32>,
    },
    /// Deletes `key` if it is still at `etag` (whatever it holds, without one).
    Delete {
        /// The key, without Dapr's app-id prefix.
        key: String,
        /// The version the delete is conditioned on, if any.
        etag: Option<String>,
    },
}

impl Write {
    /// A conditional put of `value` at `key`, encoded once here: on `etag`,
    /// or on the key being new.
    pub fn put<T: Serialize + ?Sized>(
        key: impl Into<String>,
        value: &T,
        etag: Option<String>,
    ) -> Result<Self, DaprError> {
        let key = key.into();
        let value = serde_json::value::to_raw_value(value)
            .map_err(|e| DaprError::Unavailable(format!("cannot encode {key}: {e}")))?;
        Ok(Self::Put {
            key,
            value,
            etag,
            ttl_seconds: None,
        })
    }

    /// This put, kept by the store for `seconds` only (Dapr's
    /// `ttlInSeconds`); a delete stays as it is.
    pub fn expiring(self, seconds: u32) -> Self {
        match self {
            Self::Put {
                key, value, etag, ..
            } => Self::Put {
                key,
                value,
                etag,
                ttl_seconds: Some(seconds),
            },
            delete => delete,
        }
    }

    /// The key written.
    pub fn key(&self) -> &str {
        match self {
            Self::Put { key, .. } | Self::Delete { key, .. } => key,
        }
    }
}

/// Versioned reads and all-or-nothing conditional writes.
pub trait StateStore {
    /// Reads `key`, or `None` when it does not exist.
    fn get<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Versioned<T>>, DaprError>>;

    /// Reads several keys at once, in one request; the answer is kept whole,
    /// so that its values can be read in place ([`Bulk::values`]).
    fn get_bulk(&self, keys: &[String]) -> impl Future<Output = Result<Bulk, DaprError>>;

    /// Reads several keys at once; the answer has one entry per key, in order.
    fn get_many<T: DeserializeOwned>(
        &self,
        keys: &[String],
    ) -> impl Future<Output = Result<Vec<Option<Versioned<T>>>, DaprError>> {
        async move { self.get_bulk(keys).await?.values(keys) }
    }

    /// Applies all writes in one transaction, or none of them; a failed
    /// condition is [`DaprError::Conflict`].
    fn commit(&self, writes: &[Write]) -> impl Future<Output = Result<(), DaprError>>;
}

/// The answer of a bulk read as Dapr gives it, a JSON array of
/// `{"key", "data"?, "etag"?, "error"?}`, kept whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bulk {
    body: Vec<u8>,
}

impl Bulk {
    /// An answer from its JSON text (the fakes make theirs this way).
    pub fn from_json(body: Vec<u8>) -> Self {
        Self { body }
    }

    /// The values of `keys`, in order, `None` for a key that is not stored;
    /// a value may borrow the answer's text (a `&str` or a type of borrowed
    /// fields), so that nothing is copied out of it.
    pub fn values<'a, V: Deserialize<'a>>(
        &'a self,
        keys: &[String],
    ) -> Result<Vec<Option<Versioned<V>>>, DaprError> {
        let items: Vec<BulkItem<V>> = serde_json::from_slice(&self.body)
            .map_err(|e| DaprError::Unavailable(format!("bulk answer not understood: {e}")))?;
        let mut found = HashMap::with_capacity(items.len());
        for item in items {
            if let Some(error) = item.error {
                return Err(DaprError::Unavailable(format!(
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

    /// The value of `key` alone, for a bulk read of keys that hold values
    /// of different types; `None` when it is not stored.
    pub fn value<V: DeserializeOwned>(&self, key: &str) -> Result<Option<Versioned<V>>, DaprError> {
        let keys = [key.to_owned()];
        let mut raw = self.values::<&serde_json::value::RawValue>(&keys)?;
        raw.pop()
            .flatten()
            .map(|Versioned { value, etag }| {
                serde_json::from_str(value.get())
                    .map(|value| Versioned { value, etag })
                    .map_err(|e| DaprError::Unavailable(format!("{key} not understood: {e}")))
            })
            .transpose()
    }
}

/// One state store component of a sidecar.
#[derive(Debug)]
pub struct State<'a, T> {
    dapr: &'a Dapr<T>,
    /// `/v1.0/state/<store>`
    path: String,
}

impl<T: Transport> Dapr<T> {
    /// The state store component named `store`.
    pub fn state(&self, store: &str) -> State<'_, T> {
        State {
            dapr: self,
            path: format!("/v1.0/state/{}", encode(store)),
        }
    }
}

#[derive(Serialize)]
struct BulkRequest<'a> {
    keys: &'a [String],
    parallelism: u32,
}

#[derive(Deserialize)]
struct BulkItem<T> {
    key: String,
    data: Option<T>,
    etag: Option<String>,
    error: Option<String>,
}

#[derive(Serialize)]
struct TransactionRequest<'a> {
    operations: Vec<Operation<'a>>,
}

#[derive(Serialize)]
struct Operation<'a> {
    operation: &'static str,
    request: OperationRequest<'a>,
}

#[derive(Serialize)]
struct OperationRequest<'a> {
    key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a RawValue>,
    etag: Option<&'a str>,
    options: Options,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    /// Dapr takes metadata values as strings.
    ttl_in_seconds: String,
}

#[derive(Serialize)]
struct Options {
    concurrency: &'static str,
}

impl<'a> From<&'a Write> for Operation<'a> {
    fn from(write: &'a Write) -> Self {
        let (operation, value, etag) = match write {
            Write::Put { value, etag, .. } => ("upsert", Some(&**value), etag.as_deref()),
            Write::Delete { etag, .. } => ("delete", None, etag.as_deref()),
        };
        // first-write with no ETag means "only if new" for a put; a delete
        // without one is unconditional.
        let concurrency = match write {
            Write::Delete { etag: None, .. } => "last-write",
            _ => "first-write",
        };
        Self {
            operation,
            request: OperationRequest {
                key: write.key(),
                value,
                etag,
                options: Options { concurrency },
                metadata: match write {
                    Write::Put {
                        ttl_seconds: Some(seconds),
                        ..
                    } => Some(Metadata {
                        ttl_in_seconds: seconds.to_string(),
                    }),
                    _ => None,
                },
            },
        }
    }
}

impl<T: Transport> StateStore for State<'_, T> {
    async fn get<V: DeserializeOwned>(&self, key: &str) -> Result<Option<Versioned<V>>, DaprError> {
        let path = format!("{}/{}", self.path, encode(key));
        let response = self.dapr.call::<()>(Method::GET, &path, None).await?;
        match response.status() {
            StatusCode::NO_CONTENT => Ok(None),
            StatusCode::OK => {
                let value = serde_json::from_slice(response.body()).map_err(|e| {
                    DaprError::Unavailable(format!("stored value of {key} not understood: {e}"))
                })?;
                let etag = response
                    .headers()
                    .get(http::header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| DaprError::Unavailable(format!("no ETag for {key}")))?;
                Ok(Some(Versioned {
                    value,
                    etag: etag.to_owned(),
                }))
            }
            _ => Err(unexpected(&response)),
        }
    }

    async fn get_bulk(&self, keys: &[String]) -> Result<Bulk, DaprError> {
        if keys.is_empty() {
            return Ok(Bulk::from_json(b"[]".to_vec()));
        }
        // One request for all: daprd spends about as much CPU on each bulk
        // request as on the keys in it (ADR 3).
        let body = BulkRequest {
            keys,
            parallelism: 8,
        };
        let path = format!("{}/bulk", self.path);
        let response = self.dapr.call(Method::POST, &path, Some(&body)).await?;
        if response.status() != StatusCode::OK {
            return Err(unexpected(&response));
        }
        Ok(Bulk::from_json(response.into_body()))
    }

    async fn commit(&self, writes: &[Write]) -> Result<(), DaprError> {
        let body = TransactionRequest {
            operations: writes.iter().map(Operation::from).collect(),
        };
        let path = format!("{}/transaction", self.path);
        let response = self.dapr.call(Method::POST, &path, Some(&body)).await?;
        match response.status() {
            status if status.is_success() => Ok(()),
            StatusCode::CONFLICT => Err(DaprError::Conflict),
            StatusCode::INTERNAL_SERVER_ERROR if is_condition_failure(response.body()) => {
                Err(DaprError::Conflict)
            }
            _ => Err(unexpected(&response)),
        }
    }
}

fn is_condition_failure(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains("ERR_STATE_TRANSACTION")
        && (text.contains("etag mismatch") || text.contains("no item was updated"))
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::fakes::RecordingTransport;

    #[test]
    fn condition_failures_are_told_from_other_errors() {
        let mismatch = br#"{"errorCode":"ERR_STATE_TRANSACTION","message":"error while executing state transaction: possible etag mismatch. error from state store: null"}"#;
        let insert = br#"{"errorCode":"ERR_STATE_TRANSACTION","message":"error while executing state transaction: no item was updated"}"#;
        let down = br#"{"errorCode":"ERR_STATE_TRANSACTION","message":"error while executing state transaction: connection refused"}"#;
        assert!(is_condition_failure(mismatch));
        assert!(is_condition_failure(insert));
        assert!(!is_condition_failure(down));
    }

    #[test]
    fn a_transaction_is_sent_as_dapr_reads_it() {
        let transport = RecordingTransport::answering([(204, "")]);
        let dapr = Dapr::new("http://127.0.0.1:3500/", &transport);
        let writes = [
            Write::put("tasks:alice:007", &json!({"t": [{"i": "x"}]}), None).expect("encodes"),
            Write::Delete {
                key: "old".into(),
                etag: Some("3".into()),
            },
            Write::Delete {
                key: "any".into(),
                etag: None,
            },
            Write::put("chat", &json!(1), Some("9".into()))
                .expect("encodes")
                .expiring(3600),
        ];
        block_on(dapr.state("statestore").commit(&writes)).expect("committed");
        let sent = transport.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].method, "POST");
        assert_eq!(
            sent[0].uri,
            "http://127.0.0.1:3500/v1.0/state/statestore/transaction"
        );
        assert_eq!(
            sent[0].json(),
            json!({"operations": [
                {"operation": "upsert", "request": {"key": "tasks:alice:007", "value": {"t": [{"i": "x"}]}, "etag": null, "options": {"concurrency": "first-write"}}},
                {"operation": "delete", "request": {"key": "old", "etag": "3", "options": {"concurrency": "first-write"}}},
                {"operation": "delete", "request": {"key": "any", "etag": null, "options": {"concurrency": "last-write"}}},
                {"operation": "upsert", "request": {"key": "chat", "value": 1, "etag": "9", "options": {"concurrency": "first-write"},
                    "metadata": {"ttlInSeconds": "3600"}}}
            ]})
        );
    }

    #[test]
    fn failed_conditions_are_conflicts_and_other_failures_are_not() {
        let mismatch =
            r#"{"errorCode":"ERR_STATE_TRANSACTION","message":"possible etag mismatch"}"#;
        let transport = RecordingTransport::answering([
            (409, ""),
            (500, mismatch),
            (
                500,
                r#"{"errorCode":"ERR_STATE_TRANSACTION","message":"dial tcp: refused"}"#,
            ),
        ]);
        let dapr = Dapr::new("http://dapr", &transport);
        let state = dapr.state("s");
        assert_eq!(block_on(state.commit(&[])), Err(DaprError::Conflict));
        assert_eq!(block_on(state.commit(&[])), Err(DaprError::Conflict));
        assert!(matches!(
            block_on(state.commit(&[])),
            Err(DaprError::Unavailable(_))
        ));
    }

    #[test]
    fn a_read_answers_the_value_and_its_etag_or_nothing() {
        let transport = RecordingTransport::answering([(200, r#"{"n": 1}"#), (204, "")]);
        transport.etag("7");
        let dapr = Dapr::new("http://dapr", &transport);
        let state = dapr.state("s");
        let found: Option<Versioned<serde_json::Value>> =
            block_on(state.get("tasks:a:001")).expect("read");
        assert_eq!(
            found,
            Some(Versioned {
                value: json!({"n": 1}),
                etag: "7".into()
            })
        );
        assert_eq!(
            transport.sent()[0].uri,
            "http://dapr/v1.0/state/s/tasks%3Aa%3A001"
        );
        let missing: Option<Versioned<serde_json::Value>> = block_on(state.get("k")).expect("read");
        assert_eq!(missing, None);
    }

    #[test]
    fn a_bulk_read_answers_in_the_order_asked() {
        let answer =
            r#"[{"key":"b","data":2,"etag":"1"},{"key":"a","data":1,"etag":"5"},{"key":"c"}]"#;
        let transport = RecordingTransport::answering([(200, answer)]);
        let dapr = Dapr::new("http://dapr", &transport);
        let keys = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let values: Vec<Option<Versioned<u32>>> =
            block_on(dapr.state("s").get_many(&keys)).expect("read");
        let values: Vec<Option<u32>> = values.into_iter().map(|v| v.map(|v| v.value)).collect();
        assert_eq!(values, vec![Some(1), Some(2), None]);
        assert_eq!(
            transport.sent()[0].json(),
            json!({"keys": ["a", "b", "c"], "parallelism": 8})
        );
    }

    #[test]
    fn one_value_of_a_mixed_bulk_read_is_read_as_its_own_type() {
        let bulk = Bulk::from_json(
            br#"[{"key":"n","data":2,"etag":"1"},{"key":"s","data":"two","etag":"7"},{"key":"x"}]"#
                .to_vec(),
        );
        let n = bulk
            .value::<u32>("n")
            .expect("read")
            .map(|v| (v.value, v.etag));
        assert_eq!(n, Some((2, "1".to_owned())));
        let s = bulk.value::<String>("s").expect("read").map(|v| v.value);
        assert_eq!(s.as_deref(), Some("two"));
        assert!(
            bulk.value::<u32>("x").expect("read").is_none(),
            "not stored"
        );
        assert!(bulk.value::<u32>("s").is_err(), "not a number");
    }
}
