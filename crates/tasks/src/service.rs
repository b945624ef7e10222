//! The task use cases over a [`StateStore`]: each reads, decides with the
//! domain, and writes conditionally, retrying from a fresh read when another
//! request wrote first. Nothing is written unless the whole change is valid,
//! and a change that changes nothing writes nothing.
//!
//! A task is written together with its index entry and the record of the
//! event that reports the change, in one transaction; a listing reads the
//! index and then only the page's tasks ([`crate::keys`], ADR 3). The
//! caller relays the event ([`crate::outbox`], ADR 8).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use dapr::{DaprError, StateStore, Versioned, Write};
use serde::de::DeserializeOwned;

use crate::change;
use crate::error::TaskError;
use crate::keys::{self, Entry, EntryRef, Shard, ShardView, Shelf};
use crate::limits::{Limits, Usage};
use crate::outbox::{Arming, Net, NetEvents, Recorded, Unarmed};
use crate::query::{Cursor, ListQuery, Status};
use crate::repeat;
use crate::stored::StoredTask;
use crate::{Task, TaskId, TaskPatch, TaskSpec, UserId};
use events::EventId;

/// How often a write is tried in all before it answers [`TaskError::Conflict`].
pub const ATTEMPTS: usize = 16;

/// What the caller brings from outside: the time and randomness.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    /// Now, to the millisecond.
    pub now: DateTime<Utc>,
    /// Random bits for a new task's id.
    pub random: u128,
    /// The id of the event that reports this request's change, if it makes one.
    pub event_id: EventId,
    /// Where [`Env::next`] draws new ids from.
    seed: u128,
}

impl Env {
    /// The env of a request at `now` whose ids come from `random` and
    /// `event_random` (80 bits of each are used).
    pub fn new(now: DateTime<Utc>, random: u128, event_random: u128) -> Self {
        Self {
            now,
            random,
            event_id: EventId::new(now, event_random),
            seed: random ^ event_random.rotate_left(64),
        }
    }

    /// An env for the next write of the same request (a chat message that
    /// completes three tasks): the same time, other ids, drawn from this
    /// one's randomness (splitmix64 on each half).
    pub fn next(&self) -> Self {
        let mix = |mut z: u64| {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let (high, low) = ((self.seed >> 64) as u64, self.seed as u64);
        let seed = (u128::from(mix(high)) << 64) | u128::from(mix(low ^ high));
        Self::new(self.now, seed, seed.rotate_left(37) ^ u128::from(mix(low)))
    }
}

/// What a write did: the task as stored (as it was, for a delete), and the
/// event that reports the change, recorded in the same transaction; `None`
/// when the write changed nothing.
#[derive(Debug, Clone)]
pub struct Written {
    /// The task.
    pub task: Task,
    /// The change's event as recorded, to be relayed.
    pub event: Option<Recorded>,
    /// The change's number in the user's changes (SQL storage only).
    pub seq: Option<i64>,
}

/// One user's tasks in a state store. Their writes record each change's
/// event; through an outbox ([`crate::outbox::Outbox::tasks`]) they also
/// list it in its slot's safety net, armed by `arming`.
#[derive(Debug)]
pub struct Tasks<'a, S, A = Unarmed> {
    store: &'a S,
    user: &'a UserId,
    arming: &'a A,
    /// The limits its creates and edits keep to (`None`: none, as for the
    /// recurrence handler, whose next occurrence is never refused).
    limits: Option<Limits>,
}

/// A page of a listing.
#[derive(Debug)]
pub struct Listing {
    /// The page's tasks, in the listing's order.
    pub tasks: Vec<Task>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

/// Whether `net` is armed, and its list for index shard `bucket`, as
/// `bulk` (a read that asked for both keys) has them.
fn net_in(
    bulk: &dapr::Bulk,
    net: &Net,
    bucket: u32,
) -> Result<(bool, Option<Versioned<NetEvents>>), DaprError> {
    let armed = bulk.value::<serde::de::IgnoredAny>(&net.armed_key())?;
    Ok((armed.is_some(), bulk.value(&net.list_key(bucket))?))
}

/// A shard as read, with the ETag to write it back on (`None`: new).
type ReadShard = (Shard, Option<String>);

/// A key's value as read, with what the write's net was then.
type WithNet<V> = (Option<Versioned<V>>, NetRead);

/// Where a write lists its event: its user's net of the slot, and the list
/// of its task's index shard in it.
#[derive(Debug)]
struct NetSlot {
    net: Net,
    bucket: u32,
}

/// What a write read beside its key: whether its net was armed, the net's
/// list, and how many tasks its user has (when a create asked).
#[derive(Debug, Default)]
struct NetRead {
    armed: bool,
    list: Option<Versioned<NetEvents>>,
    usage: Usage,
}

impl<'a, S: StateStore> Tasks<'a, S> {
    /// The tasks of `user` in `store`. Their writes record their events
    /// but list them in no safety net: a write whose event is relayed goes
    /// through [`crate::outbox::Outbox::tasks`] instead.
    pub fn new(store: &'a S, user: &'a UserId) -> Self {
        Self {
            store,
            user,
            arming: &Unarmed,
            limits: None,
        }
    }
}

impl<'a, S: StateStore, A: Arming> Tasks<'a, S, A> {
    /// The tasks of `user` in `store`, their writes' events listed in nets
    /// that `arming` arms.
    pub fn armed(store: &'a S, user: &'a UserId, arming: &'a A) -> Self {
        Self {
            store,
            user,
            arming,
            limits: None,
        }
    }

    /// These tasks, their creates and edits kept within `limits`: a create
    /// beyond the user's task limit, and a write that adds tags or
    /// reminders beyond a task's, are refused and change nothing.
    pub fn limited(self, limits: Limits) -> Self {
        Self {
            limits: Some(limits),
            ..self
        }
    }

    /// Creates a task from `spec`, with an id made of `env`.
    pub async fn create(&self, spec: TaskSpec, env: &Env) -> Result<Written, TaskError> {
        let task = spec.create(TaskId::new(env.now, env.random), env.now)?;
        if let Some(limits) = &self.limits {
            limits.check(None, &task)?;
        }
        self.insert(task, env, None, self.limits.as_ref()).await
    }

    /// Creates the task that repeats `previous`, a completed task, once
    /// however often it is asked: the new task is written together with a
    /// key naming it `previous`'s successor, which can be written only once.
    /// `None` when `previous` has a successor already or its series ended.
    pub async fn repeat(&self, previous: &Task, env: &Env) -> Result<Option<Written>, TaskError> {
        let marker = &keys::next(self.user, previous.id);
        let has_successor =
            async || Ok::<_, TaskError>(self.store.get::<TaskId>(marker).await?.is_some());
        if has_successor().await? {
            return Ok(None);
        }
        let id = TaskId::new(env.now, env.random);
        let Some(next) = repeat::next(previous, id, env.now) else {
            return Ok(None);
        };
        match self.insert(next, env, Some((marker, &id)), None).await {
            // The same completion, handled at the same time elsewhere.
            Err(TaskError::Conflict) if has_successor().await? => Ok(None),
            written => written.map(Some),
        }
    }

    /// Writes the new `task`, with `also` (a key that must be new, and its
    /// value) in the same transaction; when `limits` are given, only if the
    /// user has fewer tasks than they allow.
    async fn insert(
        &self,
        task: Task,
        env: &Env,
        also: Option<(&str, &TaskId)>,
        limits: Option<&Limits>,
    ) -> Result<Written, TaskError> {
        let event = self.event(None, Some(&task), env)?;
        let task_key = &keys::task(self.user, task.id);
        let shard_key = &keys::shard(self.user, Shelf::of(task.completed), task.id);
        let net = &self.net(task.id, env);
        let (task_ref, event_ref) = (&task, &event);
        retry(|| async move {
            let usage_key = limits.map(|_| keys::usage(self.user));
            let (shard, listed) = self
                .read_with_net::<Shard>(shard_key, net, usage_key.as_deref())
                .await?;
            if let Some(limits) = limits {
                limits.may_create(listed.usage)?;
            }
            let (mut shard, etag) = or_new(shard);
            shard.put(Entry::of(task_ref));
            let mut writes = vec![
                Write::put(task_key, &StoredTask::from(task_ref), None)?,
                Write::put(shard_key, &shard, etag)?,
            ];
            self.record(event_ref.as_ref(), net, listed, &mut writes)
                .await?;
            if let Some((key, value)) = also {
                writes.push(Write::put(key, value, None)?);
            }
            Ok(self.store.commit(&writes).await?)
        })
        .await?;
        Ok(Written {
            task,
            event,
            seq: None,
        })
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
        env: &Env,
        change: impl Fn(&mut Task) -> Result<(), TaskError>,
    ) -> Result<Written, TaskError> {
        let change = &change;
        let net = &self.net(id, env);
        retry(|| async move {
            let (task, listed) = self
                .read_with_net::<StoredTask>(&keys::task(self.user, id), net, None)
                .await?;
            let Versioned { value, etag } = task.ok_or(TaskError::NotFound)?;
            let before = Task::from(value);
            let mut after = before.clone();
            change(&mut after)?;
            if let Some(limits) = &self.limits {
                limits.check(Some(&before), &after)?;
            }
            if after == before {
                return Ok(Written {
                    task: after,
                    event: None,
                    seq: None,
                });
            }
            let event = self.event(Some(&before), Some(&after), env)?;
            let mut writes = vec![Write::put(
                keys::task(self.user, id),
                &StoredTask::from(&after),
                Some(etag),
            )?];
            self.record(event.as_ref(), net, listed, &mut writes)
                .await?;
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
            Ok(Written {
                task: after,
                event,
                seq: None,
            })
        })
        .await
    }

    /// Replaces every writable field of task `id` with `spec`.
    pub async fn replace(
        &self,
        id: TaskId,
        spec: TaskSpec,
        env: &Env,
    ) -> Result<Written, TaskError> {
        self.update(id, env, |task| Ok(spec.clone().replace(task, env.now)?))
            .await
    }

    /// Changes the fields of task `id` that `patch` names.
    pub async fn patch(
        &self,
        id: TaskId,
        patch: TaskPatch,
        env: &Env,
    ) -> Result<Written, TaskError> {
        self.update(id, env, |task| Ok(patch.clone().apply(task, env.now)?))
            .await
    }

    /// Marks task `id` done (or not done); doing it twice changes nothing.
    pub async fn complete(
        &self,
        id: TaskId,
        completed: bool,
        env: &Env,
    ) -> Result<Written, TaskError> {
        self.update(id, env, |task| {
            task.set_completed(completed, env.now);
            Ok(())
        })
        .await
    }

    /// Deletes task `id` and its index entry (its history stays).
    pub async fn delete(&self, id: TaskId, env: &Env) -> Result<Written, TaskError> {
        let net = &self.net(id, env);
        retry(|| async move {
            let (task, listed) = self
                .read_with_net::<StoredTask>(&keys::task(self.user, id), net, None)
                .await?;
            let Versioned { value, etag } = task.ok_or(TaskError::NotFound)?;
            let task = Task::from(value);
            let shard_key = keys::shard(self.user, Shelf::of(task.completed), id);
            let (mut shard, shard_etag) = self.shard(&shard_key).await?;
            shard.remove(id);
            let event = self.event(Some(&task), None, env)?;
            let mut writes = vec![
                Write::Delete {
                    key: keys::task(self.user, id),
                    etag: Some(etag),
                },
                Write::put(shard_key, &shard, shard_etag)?,
                // `next:{user}:{id}` stays: its completion may be delivered
                // again (at least once), and must not repeat it twice.
            ];
            self.record(event.as_ref(), net, listed, &mut writes)
                .await?;
            self.store.commit(&writes).await?;
            Ok(Written {
                task,
                event,
                seq: None,
            })
        })
        .await
    }

    /// Where a write of task `id` lists its event, when writes list them.
    fn net(&self, id: TaskId, env: &Env) -> Option<NetSlot> {
        self.arming.lists().then(|| NetSlot {
            net: Net::of(self.user, env.now),
            bucket: keys::bucket(id),
        })
    }

    /// The value at `key` and, in the same read, what `net` is.
    async fn read_with_net<V: DeserializeOwned>(
        &self,
        key: &str,
        net: &Option<NetSlot>,
        usage: Option<&str>,
    ) -> Result<WithNet<V>, TaskError> {
        let mut keys = vec![key.to_owned()];
        if let Some(NetSlot { net, bucket }) = net {
            keys.extend([net.armed_key(), net.list_key(*bucket)]);
        }
        keys.extend(usage.map(str::to_owned));
        if keys.len() == 1 {
            return Ok((self.store.get::<V>(key).await?, NetRead::default()));
        }
        let bulk = self.store.get_bulk(&keys).await?;
        let mut read = NetRead {
            usage: match usage {
                Some(usage) => bulk
                    .value::<Usage>(usage)?
                    .map(|u| u.value)
                    .unwrap_or_default(),
                None => Usage::default(),
            },
            ..NetRead::default()
        };
        if let Some(NetSlot { net, bucket }) = net {
            (read.armed, read.list) = net_in(&bulk, net, *bucket)?;
        }
        Ok((bulk.value(key)?, read))
    }

    /// Adds the write of `event`'s record to `writes` and, through an
    /// outbox, its id to its list in `net` (as `read` found it), arming the
    /// net first when it was not.
    async fn record(
        &self,
        event: Option<&Recorded>,
        net: &Option<NetSlot>,
        read: NetRead,
        writes: &mut Vec<Write>,
    ) -> Result<(), TaskError> {
        let Some(event) = event else {
            return Ok(());
        };
        writes.push(event.write());
        let Some(NetSlot { net, bucket }) = net else {
            return Ok(());
        };
        let (mut net, mut armed, mut list) = (net.clone(), read.armed, read.list);
        // The net has looked at this slot already (the write waited longer
        // than the grace): the event goes to a later slot's net.
        while list.as_ref().is_some_and(|l| l.value.closed) {
            net = net.next();
            (armed, list) = self.read_net(&net, *bucket).await?;
        }
        if !armed {
            self.arming.arm(&net).await?;
            writes.push(net.mark_armed()?);
        }
        let (mut list, etag) = or_new(list);
        list.events.push(event.event.event_id);
        writes.push(net.write_list(*bucket, &list, etag)?);
        Ok(())
    }

    /// Whether `net` is armed, and its list for index shard `bucket`.
    async fn read_net(
        &self,
        net: &Net,
        bucket: u32,
    ) -> Result<(bool, Option<Versioned<NetEvents>>), TaskError> {
        let keys = [net.armed_key(), net.list_key(bucket)];
        Ok(net_in(&self.store.get_bulk(&keys).await?, net, bucket)?)
    }

    /// The event of a change from `before` to `after`, as its outbox record
    /// holds it ([`Recorded::write`] joins the change's transaction).
    fn event(
        &self,
        before: Option<&Task>,
        after: Option<&Task>,
        env: &Env,
    ) -> Result<Option<Recorded>, TaskError> {
        let event = change::event(env.event_id, self.user, before, after, env.now);
        Ok(event.map(Recorded::new).transpose()?)
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
        Ok(or_new(self.store.get::<Shard>(key).await?))
    }
}

/// A value as read with the ETag to write it back on, or a new one to be
/// written only if the key is still new.
fn or_new<T: Default>(read: Option<Versioned<T>>) -> (T, Option<String>) {
    read.map_or((T::default(), None), |Versioned { value, etag }| {
        (value, Some(etag))
    })
}

/// Runs `attempt` until it commits, starting again from fresh reads each time
/// a concurrent write got there first.
pub(crate) async fn retry<T, F, Fut>(mut attempt: F) -> Result<T, TaskError>
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
