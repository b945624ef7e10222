//! The task use cases over a [`StateStore`]: each reads, decides with the
//! domain, and writes conditionally, retrying from a fresh read when another
//! request wrote first. Nothing is written unless the whole change is valid,
//! and a change that changes nothing writes nothing.
//!
//! A task is read and written with its bucket (see [`crate::keys`]); a
//! listing reads every bucket of the user (ADR 3).

use chrono::{DateTime, Utc};
use dapr::{StateStore, Versioned, Write};

use crate::error::TaskError;
use crate::keys::{self, Bucket};
use crate::query::{Cursor, ListQuery};
use crate::{Task, TaskId, TaskPatch, TaskSpec, UserId};

/// How often a write is tried in all before it answers [`TaskError::Conflict`].
pub const ATTEMPTS: usize = 16;

/// What the caller brings from outside: the time and 80 bits of randomness.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    /// Now, to the millisecond.
    pub now: DateTime<Utc>,
    /// Random bits for new ids.
    pub random: u128,
}

/// One user's tasks in a state store.
#[derive(Debug)]
pub struct Tasks<'a, S> {
    store: &'a S,
    user: &'a UserId,
}

/// A page of a listing.
#[derive(Debug)]
pub struct Listing {
    /// The page's tasks, in the listing's order.
    pub tasks: Vec<Task>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

impl<'a, S: StateStore> Tasks<'a, S> {
    /// The tasks of `user` in `store`.
    pub fn new(store: &'a S, user: &'a UserId) -> Self {
        Self { store, user }
    }

    /// Creates a task from `spec`, with an id made of `env`.
    pub async fn create(&self, spec: TaskSpec, env: Env) -> Result<Task, TaskError> {
        let task = spec.create(TaskId::new(env.now, env.random), env.now)?;
        let (key, task) = (&keys::bucket(self.user, task.id), &task);
        retry(|| async move {
            let (mut bucket, etag) = self.bucket(key).await?;
            bucket.put(task.clone());
            Ok(self
                .store
                .commit(&[Write::put(key, &bucket, etag)?])
                .await?)
        })
        .await?;
        Ok(task.clone())
    }

    /// Task `id`.
    pub async fn get(&self, id: TaskId) -> Result<Task, TaskError> {
        let (bucket, _) = self.bucket(&keys::bucket(self.user, id)).await?;
        bucket.get(id).cloned().ok_or(TaskError::NotFound)
    }

    /// The page of the user's tasks that `query` asks for, at time `now`
    /// (which decides what is overdue).
    pub async fn list(&self, query: &ListQuery, now: DateTime<Utc>) -> Result<Listing, TaskError> {
        let buckets = self
            .store
            .get_many::<Bucket>(&keys::buckets(self.user))
            .await?;
        let tasks: Vec<Task> = buckets
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

    /// Changes task `id` with `change`, which may refuse. Answers the task as
    /// stored.
    pub async fn update(
        &self,
        id: TaskId,
        change: impl Fn(&mut Task) -> Result<(), TaskError>,
    ) -> Result<Task, TaskError> {
        let (key, change) = (&keys::bucket(self.user, id), &change);
        retry(|| async move {
            let (mut bucket, etag) = self.bucket(key).await?;
            let task = bucket.get_mut(id).ok_or(TaskError::NotFound)?;
            let before = task.clone();
            change(task)?;
            let after = task.clone();
            if after != before {
                self.store
                    .commit(&[Write::put(key, &bucket, etag)?])
                    .await?;
            }
            Ok(after)
        })
        .await
    }

    /// Replaces every writable field of task `id` with `spec`.
    pub async fn replace(
        &self,
        id: TaskId,
        spec: TaskSpec,
        now: DateTime<Utc>,
    ) -> Result<Task, TaskError> {
        self.update(id, |task| Ok(spec.clone().replace(task, now)?))
            .await
    }

    /// Changes the fields of task `id` that `patch` names.
    pub async fn patch(
        &self,
        id: TaskId,
        patch: TaskPatch,
        now: DateTime<Utc>,
    ) -> Result<Task, TaskError> {
        self.update(id, |task| Ok(patch.clone().apply(task, now)?))
            .await
    }

    /// Marks task `id` done (or not done); doing it twice changes nothing.
    pub async fn complete(
        &self,
        id: TaskId,
        completed: bool,
        now: DateTime<Utc>,
    ) -> Result<Task, TaskError> {
        self.update(id, |task| {
            task.set_completed(completed, now);
            Ok(())
        })
        .await
    }

    /// Deletes task `id`.
    pub async fn delete(&self, id: TaskId) -> Result<(), TaskError> {
        let key = &keys::bucket(self.user, id);
        retry(|| async move {
            let (mut bucket, etag) = self.bucket(key).await?;
            if !bucket.remove(id) {
                return Err(TaskError::NotFound);
            }
            Ok(self
                .store
                .commit(&[Write::put(key, &bucket, etag)?])
                .await?)
        })
        .await
    }

    /// The bucket at `key` with its ETag, or a new empty one.
    async fn bucket(&self, key: &str) -> Result<(Bucket, Option<String>), TaskError> {
        Ok(match self.store.get::<Bucket>(key).await? {
            Some(Versioned { value, etag }) => (value, Some(etag)),
            None => (Bucket::default(), None),
        })
    }
}

/// Runs `attempt` until it commits, starting again from fresh reads each time
/// a concurrent write got there first.
async fn retry<T, F, Fut>(mut attempt: F) -> Result<T, TaskError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, TaskError>>,
{
    for _ in 1..ATTEMPTS {
        match attempt().await {
            Err(TaskError::Conflict) => continue,
            done => return done,
        }
    }
    attempt().await
}

#[cfg(test)]
mod tests;
