//! The task use cases over a [`StateStore`]: each reads, decides with the
//! core, and writes conditionally, retrying from a fresh read when another
//! request wrote first. Nothing is written unless the whole change is valid.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use todo_core::keys::{self, TaskIndex};
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

impl<'a, S: StateStore> Tasks<'a, S> {
    pub fn new(store: &'a S, user: &'a UserId) -> Self {
        Self { store, user }
    }

    pub async fn create(&self, spec: TaskSpec, env: Env) -> Result<Task, ApiError> {
        let task = spec.create(TaskId::new(env.now, env.random), env.now)?;
        let (task_key, index_key) = (keys::task(self.user, task.id), keys::index(self.user));
        let (task_key, index_key, value) = (&task_key, &index_key, &encode(&task)?);
        retry(|| async move {
            let (mut index, etag) = self.read::<TaskIndex>(index_key).await?.unwrap_or_default();
            index.insert(task.id);
            let writes = vec![
                Write::Put {
                    key: task_key.clone(),
                    value: value.clone(),
                    etag: None,
                },
                Write::Put {
                    key: index_key.clone(),
                    value: encode(&index)?,
                    etag,
                },
            ];
            Ok(self.store.commit(writes).await?)
        })
        .await?;
        Ok(task)
    }

    pub async fn get(&self, id: &str) -> Result<Task, ApiError> {
        let id = TaskId::parse(id).ok_or(ApiError::NotFound("task"))?;
        let (task, _) = self
            .read(&keys::task(self.user, id))
            .await?
            .ok_or(ApiError::NotFound("task"))?;
        Ok(task)
    }

    /// The user's tasks, oldest first.
    pub async fn list(&self) -> Result<Vec<Task>, ApiError> {
        let Some((index, _)) = self.read::<TaskIndex>(&keys::index(self.user)).await? else {
            return Ok(Vec::new());
        };
        let task_keys: Vec<String> = index
            .ids
            .iter()
            .map(|id| keys::task(self.user, *id))
            .collect();
        // A task deleted between the two reads is simply left out.
        self.store
            .get_many(&task_keys)
            .await?
            .into_iter()
            .flatten()
            .map(|entry| decode(entry.value))
            .collect()
    }

    /// Changes a task with `change`, which may refuse. Answers the task as
    /// stored; a change that changes nothing writes nothing.
    pub async fn update(
        &self,
        id: &str,
        change: impl Fn(&mut Task) -> Result<(), ApiError>,
    ) -> Result<Task, ApiError> {
        let id = TaskId::parse(id).ok_or(ApiError::NotFound("task"))?;
        let (key, change) = (&keys::task(self.user, id), &change);
        retry(|| async move {
            let (current, etag) = self
                .read::<Task>(key)
                .await?
                .ok_or(ApiError::NotFound("task"))?;
            let mut next = current.clone();
            change(&mut next)?;
            if next != current {
                let write = Write::Put {
                    key: key.clone(),
                    value: encode(&next)?,
                    etag,
                };
                self.store.commit(vec![write]).await?;
            }
            Ok(next)
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
        let (task_key, index_key) = (&keys::task(self.user, id), &keys::index(self.user));
        retry(|| async move {
            let task = self
                .store
                .get(task_key)
                .await?
                .ok_or(ApiError::NotFound("task"))?;
            let mut writes = vec![Write::Delete {
                key: task_key.clone(),
                etag: task.etag,
            }];
            if let Some((mut index, etag)) = self.read::<TaskIndex>(index_key).await? {
                index.remove(id);
                writes.push(Write::Put {
                    key: index_key.clone(),
                    value: encode(&index)?,
                    etag,
                });
            }
            Ok(self.store.commit(writes).await?)
        })
        .await
    }

    async fn read<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<(T, Option<String>)>, ApiError> {
        match self.store.get(key).await? {
            None => Ok(None),
            Some(Versioned { value, etag }) => Ok(Some((decode(value)?, Some(etag)))),
        }
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

fn encode<T: Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Unavailable(format!("cannot encode: {e}")))
}

fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value)
        .map_err(|e| ApiError::Unavailable(format!("stored value not understood: {e}")))
}
