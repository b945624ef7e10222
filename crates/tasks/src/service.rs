//! The task use cases over a [`StateStore`]: each reads, decides with the
//! domain, and writes conditionally, retrying from a fresh read when another
//! request wrote first. Nothing is written unless the whole change is valid,
//! and a change that changes nothing writes nothing.
//!
//! A task is written together with its index entry in one transaction; a
//! listing reads the index and then only the page's tasks ([`crate::keys`],
//! ADR 3).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use dapr::{StateStore, Versioned, Write};

use crate::error::TaskError;
use crate::keys::{self, Entry, EntryRef, Shard, ShardView, Shelf};
use crate::query::{Cursor, ListQuery, Status};
use crate::stored::StoredTask;
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

/// A shard as read, with the ETag to write it back on (`None`: new).
type ReadShard = (Shard, Option<String>);

impl<'a, S: StateStore> Tasks<'a, S> {
    /// The tasks of `user` in `store`.
    pub fn new(store: &'a S, user: &'a UserId) -> Self {
        Self { store, user }
    }

    /// Creates a task from `spec`, with an id made of `env`.
    pub async fn create(&self, spec: TaskSpec, env: Env) -> Result<Task, TaskError> {
        let task = spec.create(TaskId::new(env.now, env.random), env.now)?;
        let task_key = &keys::task(self.user, task.id);
        let shard_key = &keys::shard(self.user, Shelf::of(task.completed), task.id);
        let task = &task;
        retry(|| async move {
            let (mut shard, etag) = self.shard(shard_key).await?;
            shard.put(Entry::of(task));
            let writes = [
                Write::put(task_key, &StoredTask::from(task), None)?,
                Write::put(shard_key, &shard, etag)?,
            ];
            Ok(self.store.commit(&writes).await?)
        })
        .await?;
        Ok(task.clone())
    }

    /// Task `id`.
    pub async fn get(&self, id: TaskId) -> Result<Task, TaskError> {
        Ok(self.read(id).await?.0)
    }

    /// The page of the user's tasks that `query` asks for, at time `now`
    /// (which decides what is overdue): the index of the shelves the query
    /// needs in one read, then the page's tasks in another.
    pub async fn list(&self, query: &ListQuery, now: DateTime<Utc>) -> Result<Listing, TaskError> {
        let shelves: &[Shelf] = match query.status {
            Status::All => &[Shelf::Pending, Shelf::Completed],
            Status::Pending => &[Shelf::Pending],
            Status::Completed => &[Shelf::Completed],
        };
        let shard_keys: Vec<String> = shelves
            .iter()
            .flat_map(|shelf| keys::shards(self.user, *shelf))
            .collect();
        // The shards are read in place from daprd's answer: no string of an
        // entry is copied.
        let bulk = self.store.get_bulk(&shard_keys).await?;
        let per_shelf = keys::SHARDS as usize;
        let mut entries: Vec<EntryRef<'_>> = Vec::new();
        for (n, shard) in bulk
            .values::<ShardView>(&shard_keys)?
            .into_iter()
            .enumerate()
        {
            if let Some(shard) = shard {
                entries.extend(shard.value.into_entries(shelves[n / per_shelf]));
            }
        }
        self.read_descriptions(query, &mut entries, now).await?;
        let page = query.page(&entries, now);
        let task_keys: Vec<String> = page
            .tasks
            .iter()
            .map(|entry| keys::task(self.user, entry.id))
            .collect();
        // A task deleted since the index was read is simply not there, and
        // one changed since is shown only if it still matches.
        let tasks = self
            .store
            .get_many::<StoredTask>(&task_keys)
            .await?
            .into_iter()
            .flatten()
            .map(|stored| Task::from(stored.value))
            .filter(|task| query.matches(task, now))
            .collect();
        Ok(Listing {
            tasks,
            next_cursor: page.next_cursor,
        })
    }

    /// Reads the descriptions of the entries that a search can only decide
    /// by them (their title and tags lack a word), in one read.
    async fn read_descriptions(
        &self,
        query: &ListQuery,
        entries: &mut [EntryRef<'_>],
        now: DateTime<Utc>,
    ) -> Result<(), TaskError> {
        if query.words.is_empty() {
            return Ok(());
        }
        let unsure: Vec<usize> = (0..entries.len())
            .filter(|&i| {
                query.matches_but_words(&entries[i], now)
                    && entries[i].needs_description(&query.words)
            })
            .collect();
        if unsure.is_empty() {
            return Ok(());
        }
        let task_keys: Vec<String> = unsure
            .iter()
            .map(|&i| keys::task(self.user, entries[i].id))
            .collect();
        let tasks = self.store.get_many::<StoredTask>(&task_keys).await?;
        for (i, task) in unsure.into_iter().zip(tasks) {
            let description = task.and_then(|t| Task::from(t.value).description);
            let text = description
                .map(|d| d.as_str().to_owned())
                .unwrap_or_default();
            entries[i].description = Some(Cow::Owned(text));
        }
        Ok(())
    }

    /// Changes task `id` with `change`, which may refuse. Answers the task as
    /// stored.
    pub async fn update(
        &self,
        id: TaskId,
        change: impl Fn(&mut Task) -> Result<(), TaskError>,
    ) -> Result<Task, TaskError> {
        let change = &change;
        retry(|| async move {
            let (before, etag) = self.read(id).await?;
            let mut after = before.clone();
            change(&mut after)?;
            if after == before {
                return Ok(after);
            }
            let mut writes = vec![Write::put(
                keys::task(self.user, id),
                &StoredTask::from(&after),
                Some(etag),
            )?];
            let entry = Entry::of(&after);
            let (from, to) = (Shelf::of(before.completed), Shelf::of(after.completed));
            if entry != Entry::of(&before) || from != to {
                let to_key = keys::shard(self.user, to, id);
                if from == to {
                    let (mut shard, etag) = self.shard(&to_key).await?;
                    shard.put(entry);
                    writes.push(Write::put(to_key, &shard, etag)?);
                } else {
                    let from_key = keys::shard(self.user, from, id);
                    let (old, new) =
                        futures::future::join(self.shard(&from_key), self.shard(&to_key)).await;
                    let ((mut old, old_etag), (mut new, new_etag)) = (old?, new?);
                    old.remove(id);
                    new.put(entry);
                    writes.push(Write::put(from_key, &old, old_etag)?);
                    writes.push(Write::put(to_key, &new, new_etag)?);
                }
            }
            self.store.commit(&writes).await?;
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

    /// Deletes task `id` and its index entry.
    pub async fn delete(&self, id: TaskId) -> Result<(), TaskError> {
        retry(|| async move {
            let (task, etag) = self.read(id).await?;
            let shard_key = keys::shard(self.user, Shelf::of(task.completed), id);
            let (mut shard, shard_etag) = self.shard(&shard_key).await?;
            shard.remove(id);
            let writes = [
                Write::Delete {
                    key: keys::task(self.user, id),
                    etag,
                },
                Write::put(shard_key, &shard, shard_etag)?,
            ];
            Ok(self.store.commit(&writes).await?)
        })
        .await
    }

    /// Task `id` with its ETag.
    async fn read(&self, id: TaskId) -> Result<(Task, String), TaskError> {
        let key = keys::task(self.user, id);
        let Versioned { value, etag } = self
            .store
            .get::<StoredTask>(&key)
            .await?
            .ok_or(TaskError::NotFound)?;
        Ok((Task::from(value), etag))
    }

    /// The shard at `key` with its ETag, or a new empty one.
    async fn shard(&self, key: &str) -> Result<ReadShard, TaskError> {
        Ok(match self.store.get::<Shard>(key).await? {
            Some(Versioned { value, etag }) => (value, Some(etag)),
            None => (Shard::default(), None),
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
