//! The state store port: versioned reads, and conditional writes that commit
//! together or not at all.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// A stored value, read straight into its type, with the ETag it was read at.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub etag: String,
}

/// One write of a transaction; the value is JSON already encoded. Every write is conditional: on the ETag it
/// was read at, or (`etag: None` on a put) on the key not existing yet.
#[derive(Debug, Clone)]
pub enum Write {
    Put {
        key: String,
        value: Box<RawValue>,
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
    /// The store could not be reached, answered something unexpected, or
    /// holds a value that is not of the type asked for.
    #[error("state store unavailable: {0}")]
    Unavailable(String),
}

pub trait StateStore {
    fn get<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Versioned<T>>, StoreError>>;

    /// Reads several keys at once; the answer has one entry per key, in order.
    fn get_many<T: DeserializeOwned>(
        &self,
        keys: &[String],
    ) -> impl Future<Output = Result<Vec<Option<Versioned<T>>>, StoreError>>;

    /// Applies all writes in one transaction, or none of them.
    fn commit(&self, writes: Vec<Write>) -> impl Future<Output = Result<(), StoreError>>;
}
