//! The state store port: versioned reads, and conditional writes that commit
//! together or not at all.

use std::future::Future;

use serde_json::Value;

/// A stored value with the ETag it was read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    pub value: Value,
    pub etag: String,
}

/// One write of a transaction. Every write is conditional: on the ETag it
/// was read at, or (`etag: None` on a put) on the key not existing yet.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Put {
        key: String,
        value: Value,
        etag: Option<String>,
    },
    Delete {
        key: String,
        etag: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A condition failed: someone else wrote first. Read again and retry.
    #[error("a concurrent write changed the data first")]
    Conflict,
    /// The store could not be reached or answered something unexpected.
    #[error("state store unavailable: {0}")]
    Unavailable(String),
}

pub trait StateStore {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Versioned>, StoreError>>;

    /// Reads several keys at once; the answer has one entry per key, in order.
    fn get_many(
        &self,
        keys: &[String],
    ) -> impl Future<Output = Result<Vec<Option<Versioned>>, StoreError>>;

    /// Applies all writes in one transaction, or none of them.
    fn commit(&self, writes: Vec<Write>) -> impl Future<Output = Result<(), StoreError>>;
}
