//! The per-user layout in the key-value state store.
//!
//! A user's tasks live in [`BUCKETS`] buckets, `tasks:{user}:{nn}`, each a JSON
//! document `{"tasks": [...]}` of the tasks whose id falls in it. A task is
//! read and written with its bucket alone; a listing reads every bucket in one
//! bulk read. See `docs/adr/0003-per-user-state-layout.md`.
//!
//! Every key begins with the user's own segment, so no key of one user can be
//! built from another user's path. Dapr reserves `||` for its own prefix, so the
//! separator is `:`, which user ids may not contain.

use serde::{Deserialize, Serialize};

use crate::stored::StoredTask;
use crate::{Task, TaskId, UserId};

/// The bucket of task `id`, by its random bits.
fn bucket_number(id: TaskId) -> u32 {
    u32::try_from(id.random_bits() % u128::from(BUCKETS)).unwrap_or(0)
}

/// How many buckets hold one user's tasks: at 5,000 tasks, about 40 tasks
/// (8 KB) a bucket, so that a write rewrites little.
pub const BUCKETS: u32 = 128;

/// The key of the bucket that holds (or will hold) task `id`.
pub fn bucket(user: &UserId, id: TaskId) -> String {
    bucket_key(user, bucket_number(id))
}

/// The keys of all of a user's buckets.
pub fn buckets(user: &UserId) -> Vec<String> {
    (0..BUCKETS).map(|n| bucket_key(user, n)).collect()
}

fn bucket_key(user: &UserId, n: u32) -> String {
    format!("tasks:{user}:{n:03}")
}

/// Some of a user's tasks, kept sorted by id; stored as `{"t": [...]}` of
/// [`StoredTask`]s.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredBucket", into = "StoredBucket")]
pub struct Bucket {
    /// The tasks, sorted by id.
    pub tasks: Vec<Task>,
}

#[derive(Serialize, Deserialize)]
struct StoredBucket {
    t: Vec<StoredTask>,
}

impl From<StoredBucket> for Bucket {
    fn from(stored: StoredBucket) -> Self {
        Self {
            tasks: stored.t.into_iter().map(Task::from).collect(),
        }
    }
}

impl From<Bucket> for StoredBucket {
    fn from(bucket: Bucket) -> Self {
        Self {
            t: bucket.tasks.iter().map(StoredTask::from).collect(),
        }
    }
}

impl Bucket {
    /// Task `id`, if it is here.
    pub fn get(&self, id: TaskId) -> Option<&Task> {
        self.position(id).ok().map(|at| &self.tasks[at])
    }

    /// Task `id` to change in place, if it is here.
    pub fn get_mut(&mut self, id: TaskId) -> Option<&mut Task> {
        self.position(id).ok().map(|at| &mut self.tasks[at])
    }

    /// Adds or replaces the task with `task.id`.
    pub fn put(&mut self, task: Task) {
        match self.position(task.id) {
            Ok(at) => self.tasks[at] = task,
            Err(at) => self.tasks.insert(at, task),
        }
    }

    /// Removes task `id`; answers whether it was there.
    pub fn remove(&mut self, id: TaskId) -> bool {
        self.position(id).map(|at| self.tasks.remove(at)).is_ok()
    }

    fn position(&self, id: TaskId) -> Result<usize, usize> {
        self.tasks.binary_search_by(|t| t.id.cmp(&id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TaskSpec, UserId};
    use chrono::DateTime;

    fn task(seconds: i64, random: u128) -> Task {
        let at = DateTime::from_timestamp(seconds, 0).unwrap_or_default();
        TaskSpec::parse(&serde_json::json!({"title": "t"}))
            .and_then(|spec| spec.create(TaskId::new(at, random), at))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn keys_are_scoped_by_user() {
        let alice = UserId::parse("alice").expect("valid");
        let id = TaskId::new(DateTime::from_timestamp(0, 0).unwrap_or_default(), 33);
        assert_eq!(bucket(&alice, id), "tasks:alice:033");
        assert_eq!(buckets(&alice).len(), 128);
        assert!(
            buckets(&alice)
                .iter()
                .all(|k| k.starts_with("tasks:alice:"))
        );
    }

    #[test]
    fn ids_spread_over_the_buckets() {
        let mut counts = [0u32; BUCKETS as usize];
        for n in 0..12_800u128 {
            let id = TaskId::new(
                DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
                n * 0x9E37_79B9_7F4A_7C15,
            );
            counts[bucket_number(id) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 50), "{counts:?}");
    }

    #[test]
    fn a_bucket_keeps_its_tasks_sorted_and_unique() {
        let mut bucket = Bucket::default();
        let (a, b, c) = (task(3, 0), task(1, 0), task(2, 0));
        bucket.put(a.clone());
        bucket.put(b.clone());
        bucket.put(c.clone());
        bucket.put(a.clone());
        assert_eq!(bucket.tasks, vec![b.clone(), c.clone(), a.clone()]);
        assert_eq!(bucket.get(c.id), Some(&c));
        assert!(bucket.remove(c.id));
        assert!(!bucket.remove(c.id));
        assert_eq!(bucket.get(c.id), None);
    }
}
