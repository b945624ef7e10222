//! The task use cases over a [`StateStore`]: each reads, decides with the
//! core, and writes conditionally, retrying from a fresh read when another
//! request wrote first. Nothing is written unless the whole change is valid.
//!
//! A task is read and written with its bucket (see `todo_core::keys`); a
//! listing reads every bucket of the user (ADR 3).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use todo_core::keys::{self, Bucket, legacy};
use todo_core::query::{Cursor, ListQuery};
use todo_core::{Task, TaskId, TaskPatch, TaskSpec, UserId};

use crate::error::ApiError;
use crate::store::{StateStore, Versioned, Write};

/// How often a write is retried after losing a race before answering 409.
const ATTEMPTS: usize = 16;

/// What the caller brings from outside: the time and 80 bits of randomness.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    pub now: DateTime<Utc>,
    pub random: u128,
}

#[derive(Debug)]
pub struct Tasks<'a, S> {
    store: &'a S,
    user: &'a UserId,
}

/// A page of a listing, ready to answer.
#[derive(Debug)]
pub struct Listing {
    pub tasks: Vec<Task>,
    pub next_cursor: Option<Cursor>,
}

impl<'a, S: StateStore> Tasks<'a, S> {
    pub fn new(store: &'a S, user: &'a UserId) -> Self {
        Self { store, user }
    }

    pub async fn create(&self, spec: TaskSpec, env: Env) -> Result<Task, ApiError> {
        let task = spec.create(TaskId::new(env.now, env.random), env.now)?;
        let (key, task) = (&keys::bucket(self.user, task.id), &task);
        retry(|| async move {
            let (mut bucket, etag) = self.read::<Bucket>(key).await?.unwrap_or_default();
            bucket.put(task.clone());
            Ok(self.store.commit(vec![put(key, &bucket, etag)?]).await?)
        })
        .await?;
        Ok(task.clone())
    }

    pub async fn get(&self, id: &str) -> Result<Task, ApiError> {
        let id = TaskId::parse(id).ok_or(ApiError::NotFound("task"))?;
        let (bucket, _) = self.bucket_of(id).await?;
        bucket.get(id).cloned().ok_or(ApiError::NotFound("task"))
    }

    /// The page of the user's tasks that `query` asks for.
    pub async fn list(&self, query: &ListQuery, now: DateTime<Utc>) -> Result<Listing, ApiError> {
        let keys = keys::buckets(self.user);
        // The issue-2 index is asked for alongside, so that the check costs no time.
        let (mut buckets, legacy) = futures::future::join(
            self.store.get_many::<Bucket>(&keys),
            self.store.get::<IgnoredAny>(&legacy::index(self.user)),
        )
        .await;
        if legacy?.is_some() && self.migrate_legacy().await? {
            buckets = self.store.get_many::<Bucket>(&keys).await;
        }
        let tasks: Vec<Task> = buckets?
            .into_iter()
            .flatten()
            .flat_map(|b| b.value.tasks)
            .collect();
        let page = query.page(&tasks, now);
        Ok(Listing {
            tasks: page.tasks.into_iter().cloned().collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Changes a task with `change`, which may refuse. Answers the task as
    /// stored; a change that changes nothing writes nothing.
    pub async fn update(
        &self,
        id: &str,
        change: impl Fn(&mut Task) -> Result<(), ApiError>,
    ) -> Result<Task, ApiError> {
        let id = TaskId::parse(id).ok_or(ApiError::NotFound("task"))?;
        let change = &change;
        retry(|| async move {
            let (mut bucket, etag) = self.bucket_of(id).await?;
            let task = bucket.get_mut(id).ok_or(ApiError::NotFound("task"))?;
            let before = task.clone();
            change(task)?;
            let after = task.clone();
            if after != before {
                let write = put(&keys::bucket(self.user, id), &bucket, etag)?;
                self.store.commit(vec![write]).await?;
            }
            Ok(after)
        })
        .await
    }

    pub async fn replace(
        &self,
        id: &str,
        spec: TaskSpec,
        now: DateTime<Utc>,
    ) -> Result<Task, ApiError> {
        self.update(id, |task| Ok(spec.clone().replace(task, now)?))
            .await
    }

    pub async fn patch(
        &self,
        id: &str,
        patch: TaskPatch,
        now: DateTime<Utc>,
    ) -> Result<Task, ApiError> {
        self.update(id, |task| Ok(patch.clone().apply(task, now)?))
            .await
    }

    pub async fn complete(
        &self,
        id: &str,
        completed: bool,
        now: DateTime<Utc>,
    ) -> Result<Task, ApiError> {
        self.update(id, |task| {
            task.set_completed(completed, now);
            Ok(())
        })
        .await
    }

    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        let id = TaskId::parse(id).ok_or(ApiError::NotFound("task"))?;
        retry(|| async move {
            let (mut bucket, etag) = self.bucket_of(id).await?;
            if !bucket.remove(id) {
                return Err(ApiError::NotFound("task"));
            }
            let write = put(&keys::bucket(self.user, id), &bucket, etag)?;
            Ok(self.store.commit(vec![write]).await?)
        })
        .await
    }

    /// The bucket task `id` belongs in, with its ETag. When the task is not
    /// there, the user's tasks may still be in the issue-2 layout: they are
    /// moved first, and the bucket read again.
    async fn bucket_of(&self, id: TaskId) -> Result<(Bucket, Option<String>), ApiError> {
        let key = keys::bucket(self.user, id);
        let found = self.read::<Bucket>(&key).await?.unwrap_or_default();
        if found.0.get(id).is_none() && self.migrate_legacy().await? {
            return Ok(self.read::<Bucket>(&key).await?.unwrap_or_default());
        }
        Ok(found)
    }

    /// Moves the user's tasks from the issue-2 layout into buckets, in one
    /// transaction. Answers whether there was anything to move.
    async fn migrate_legacy(&self) -> Result<bool, ApiError> {
        let index_key = &legacy::index(self.user);
        retry(|| async move {
            let Some(index) = self.store.get::<legacy::Index>(index_key).await? else {
                return Ok(false);
            };
            let ids = index.value.ids;
            let task_keys: Vec<String> =
                ids.iter().map(|id| legacy::task(self.user, *id)).collect();
            let bucket_keys = keys::buckets(self.user);
            let mut buckets: Vec<(Bucket, Option<String>)> = Vec::new();
            for entry in self.store.get_many::<Bucket>(&bucket_keys).await? {
                buckets.push(match entry {
                    Some(Versioned { value, etag }) => (value, Some(etag)),
                    None => (Bucket::default(), None),
                });
            }
            let mut writes = Vec::new();
            let entries = self.store.get_many::<Task>(&task_keys).await?;
            for (key, entry) in task_keys.into_iter().zip(entries) {
                let Some(Versioned { value: task, etag }) = entry else {
                    continue;
                };
                buckets[task.id.bucket(keys::BUCKETS) as usize].0.put(task);
                writes.push(Write::Delete { key, etag });
            }
            for (key, (bucket, etag)) in bucket_keys.iter().zip(&buckets) {
                if !bucket.tasks.is_empty() {
                    writes.push(put(key, bucket, etag.clone())?);
                }
            }
            writes.push(Write::Delete {
                key: index_key.clone(),
                etag: index.etag,
            });
            self.store.commit(writes).await?;
            Ok(true)
        })
        .await
    }

    async fn read<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<(T, Option<String>)>, ApiError> {
        let entry = self.store.get::<T>(key).await?;
        Ok(entry.map(|Versioned { value, etag }| (value, Some(etag))))
    }
}

/// Runs `attempt` until it commits, starting again from fresh reads each time
/// a concurrent write got there first (the store's conflict, seen as `Busy`).
async fn retry<T, F, Fut>(mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    for _ in 0..ATTEMPTS {
        match attempt().await {
            Err(ApiError::Busy) => continue,
            done => return done,
        }
    }
    Err(ApiError::Busy)
}

/// A conditional write of `value` at `key`: on `etag`, or on the key being new.
fn put<T: Serialize>(key: &str, value: &T, etag: Option<String>) -> Result<Write, ApiError> {
    let value = serde_json::value::to_raw_value(value)
        .map_err(|e| ApiError::Unavailable(format!("cannot encode {key}: {e}")))?;
    let key = key.to_owned();
    Ok(Write::Put { key, value, etag })
}
