//! In-memory fakes of the ports, for tests (feature `fakes`). They are fakes,
//! not Dapr: they keep the contract of the ports (ETags, all-or-nothing
//! commits, answers in order) and nothing else.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::DaprError;
use crate::state::{Bulk, StateStore, Versioned, Write};
use crate::transport::{Transport, TransportError};

/// A request as the [`RecordingTransport`] saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The whole URI.
    pub uri: String,
    /// The `content-type` header, or empty.
    pub content_type: String,
    /// The `dapr-api-token` header, or empty.
    pub api_token: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Sent {
    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

/// A fake transport: records every request and answers each with the next of
/// the answers it was given (status and body), or fails like a refused
/// connection when they run out.
#[derive(Debug, Default)]
pub struct RecordingTransport {
    answers: RefCell<VecDeque<(u16, String)>>,
    etag: RefCell<Option<String>>,
    sent: RefCell<Vec<Sent>>,
}

impl RecordingTransport {
    /// A transport that gives these answers, in order.
    pub fn answering<'a>(answers: impl IntoIterator<Item = (u16, &'a str)>) -> Self {
        Self {
            answers: RefCell::new(
                answers
                    .into_iter()
                    .map(|(status, body)| (status, body.to_owned()))
                    .collect(),
            ),
            ..Self::default()
        }
    }

    /// Adds this `etag` header to every answer from now on.
    pub fn etag(&self, etag: &str) {
        *self.etag.borrow_mut() = Some(etag.to_owned());
    }

    /// Every request so far, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.borrow().clone()
    }
}

impl Transport for RecordingTransport {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let content_type = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let api_token = request
            .headers()
            .get("dapr-api-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        self.sent.borrow_mut().push(Sent {
            method: request.method().to_string(),
            uri: request.uri().to_string(),
            content_type,
            api_token,
            body: request.into_body(),
        });
        let (status, body) = self
            .answers
            .borrow_mut()
            .pop_front()
            .ok_or_else(|| TransportError("connection refused (no answer left)".into()))?;
        let mut response = http::Response::builder().status(status);
        if let Some(etag) = self.etag.borrow().as_deref() {
            response = response.header(http::header::ETAG, etag);
        }
        response
            .body(body.into_bytes())
            .map_err(|e| TransportError(e.to_string()))
    }
}

/// A fake state store: values as JSON text with a version each, conditional
/// writes checked like Dapr's `first-write`, and failures on demand.
#[derive(Debug, Default)]
pub struct FakeStateStore {
    entries: RefCell<BTreeMap<String, (String, u64)>>,
    version: Cell<u64>,
    conflicts: Cell<usize>,
    commits: RefCell<Vec<Vec<Write>>>,
}

impl FakeStateStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next `n` commits fail with [`DaprError::Conflict`], as if
    /// another writer had got there first each time; they change nothing.
    pub fn lose_next_races(&self, n: usize) {
        self.conflicts.set(n);
    }

    /// The transactions committed so far, in order (failed ones left out).
    pub fn commits(&self) -> Vec<Vec<Write>> {
        self.commits.borrow().clone()
    }

    /// The stored JSON text of `key`.
    pub fn raw(&self, key: &str) -> Option<String> {
        self.entries.borrow().get(key).map(|(text, _)| text.clone())
    }

    /// Every key stored, in order.
    pub fn keys(&self) -> Vec<String> {
        self.entries.borrow().keys().cloned().collect()
    }

    fn read<T: DeserializeOwned>(&self, key: &str) -> Result<Option<Versioned<T>>, DaprError> {
        let entries = self.entries.borrow();
        let Some((text, version)) = entries.get(key) else {
            return Ok(None);
        };
        let value = serde_json::from_str(text)
            .map_err(|e| DaprError::Unavailable(format!("stored value of {key}: {e}")))?;
        Ok(Some(Versioned {
            value,
            etag: version.to_string(),
        }))
    }
}

impl StateStore for FakeStateStore {
    async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<Versioned<T>>, DaprError> {
        self.read(key)
    }

    async fn get_bulk(&self, keys: &[String]) -> Result<Bulk, DaprError> {
        #[derive(Serialize)]
        struct Item<'a> {
            key: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a RawValue>,
            #[serde(skip_serializing_if = "Option::is_none")]
            etag: Option<String>,
        }
        let entries = self.entries.borrow();
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            let data = match entries.get(key) {
                Some((text, version)) => Some((
                    serde_json::from_str::<&RawValue>(text).map_err(|e| {
                        DaprError::Unavailable(format!("stored value of {key}: {e}"))
                    })?,
                    version.to_string(),
                )),
                None => None,
            };
            values.push((key.as_str(), data));
        }
        let items: Vec<Item> = values
            .into_iter()
            .map(|(key, data)| Item {
                key,
                data: data.as_ref().map(|(raw, _)| *raw),
                etag: data.map(|(_, etag)| etag),
            })
            .collect();
        serde_json::to_vec(&items)
            .map(Bulk::from_json)
            .map_err(|e| DaprError::Unavailable(e.to_string()))
    }

    async fn commit(&self, writes: &[Write]) -> Result<(), DaprError> {
        if self.conflicts.get() > 0 {
            self.conflicts.set(self.conflicts.get() - 1);
            return Err(DaprError::Conflict);
        }
        let mut entries = self.entries.borrow_mut();
        let holds = |key: &str, etag: Option<&str>| {
            let current = entries.get(key).map(|(_, version)| version.to_string());
            current.as_deref() == etag
        };
        let all_hold = writes.iter().all(|write| match write {
            Write::Put { key, etag, .. } => holds(key, etag.as_deref()),
            Write::Delete { key, etag } => etag.is_none() || holds(key, etag.as_deref()),
        });
        if !all_hold {
            return Err(DaprError::Conflict);
        }
        for write in writes {
            match write {
                Write::Put { key, value, .. } => {
                    self.version.set(self.version.get() + 1);
                    entries.insert(key.clone(), (value.get().to_owned(), self.version.get()));
                }
                Write::Delete { key, .. } => {
                    entries.remove(key);
                }
            }
        }
        self.commits.borrow_mut().push(writes.to_vec());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;

    #[test]
    fn the_fake_store_checks_conditions_like_first_write() {
        let store = FakeStateStore::new();
        let put = |etag: Option<&str>, value: u32| {
            Write::put("k", &value, etag.map(str::to_owned)).expect("encodes")
        };
        block_on(store.commit(&[put(None, 1)])).expect("a new key");
        assert_eq!(
            block_on(store.commit(&[put(None, 2)])),
            Err(DaprError::Conflict)
        );
        let read: Versioned<u32> = block_on(store.get("k")).expect("read").expect("there");
        assert_eq!(read.value, 1);
        block_on(store.commit(&[put(Some(&read.etag), 3)])).expect("at its etag");
        assert_eq!(
            block_on(store.commit(&[put(Some(&read.etag), 4)])),
            Err(DaprError::Conflict),
            "the etag is stale"
        );
        store.lose_next_races(1);
        assert_eq!(block_on(store.commit(&[])), Err(DaprError::Conflict));
        assert_eq!(store.raw("k").as_deref(), Some("3"));
        assert_eq!(store.commits().len(), 2);
    }
}
