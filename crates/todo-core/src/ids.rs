//! Identifiers: users come from the path and the token, tasks are ULIDs made here.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user id as it appears in `/api/{user_id}/...` and in the token's `sub`.
///
/// Limited to characters that cannot collide with the storage key separator (`:`; Dapr reserves `||` for its own prefix).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    pub const MAX_LEN: usize = 64;

    /// Accepts 1 to 64 ASCII letters, digits, `-`, `_`, `.` or `@`.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A task id: a ULID, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskId(ulid::Ulid);

impl TaskId {
    /// A new id for a task created at `now`; `random` supplies the 80 random bits.
    pub fn new(now: DateTime<Utc>, random: u128) -> Self {
        let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        Self(ulid::Ulid::from_parts(millis, random))
    }

    /// Which of `n` buckets the id falls in, by its random bits.
    pub fn bucket(self, n: u32) -> u32 {
        u32::try_from(self.0.random() % u128::from(n.max(1))).unwrap_or(0)
    }

    /// Parses an id from a path; anything that is not a ULID is simply not a task.
    pub fn parse(raw: &str) -> Option<Self> {
        ulid::Ulid::from_string(raw).ok().map(Self)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_limited_to_safe_characters() {
        assert!(UserId::parse("alice").is_some());
        assert!(UserId::parse("a.b-c_d@example.com").is_some());
        assert!(UserId::parse("").is_none());
        assert!(UserId::parse("a:b").is_none());
        assert!(UserId::parse("a/b").is_none());
        assert!(UserId::parse(&"x".repeat(65)).is_none());
    }

    #[test]
    fn task_ids_round_trip_and_sort_by_time() {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let t1 = t0 + chrono::Duration::milliseconds(1);
        let a = TaskId::new(t0, u128::MAX);
        let b = TaskId::new(t1, 0);
        assert!(a < b);
        assert_eq!(TaskId::parse(&a.to_string()), Some(a));
        assert_eq!(TaskId::parse("not-a-ulid"), None);
    }
}
