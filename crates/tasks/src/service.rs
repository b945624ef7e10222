//! What the task use cases ([`crate::task::store::TaskStore`]) take and answer:
//! the [`Env`] a request brings from outside (time and randomness), what a
//! write did ([`Written`]), and a page of a listing ([`Listing`]).

use chrono::{DateTime, Utc};

use crate::Task;
use crate::error::TaskError;
use crate::task::change::Recorded;
use crate::task::query::Cursor;
use events::EventId;

/// How often a write is tried in all before it answers
/// [`TaskError::Conflict`].
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

    /// The env's other 128 random bits (beside [`Env::random`]).
    pub(crate) fn seed(&self) -> u128 {
        self.seed
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
    /// The change's number among the user's changes, when it made one.
    pub seq: Option<i64>,
}

/// A page of a listing.
#[derive(Debug)]
pub struct Listing {
    /// The page's tasks, in the listing's order.
    pub tasks: Vec<Task>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

/// Runs `attempt` until it commits, starting again from fresh reads each time
/// a concurrent write to the Dapr state store got there first.
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

/// Runs `attempt` up to `attempts` times in all while another write got
/// there first ([`TaskError::Conflict`]: a version that moved on, a busy
/// database).
pub(crate) fn retry_sync<T>(
    attempts: usize,
    mut attempt: impl FnMut() -> Result<T, TaskError>,
) -> Result<T, TaskError> {
    for _ in 1..attempts {
        match attempt() {
            Err(TaskError::Conflict) => continue,
            done => return done,
        }
    }
    attempt()
}
