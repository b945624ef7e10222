//! The per-user layout in the key-value state store.
//!
//! - `task:{user}:{id}`: one task, as its JSON document;
//! - `tasks:{user}`: the user's index, the ids of all their tasks in creation
//!   order ([`TaskIndex`]), written in the same transaction as the task.
//!
//! Every key begins with the user id's own segment, so no key of one user can
//! be built from another user's path. See `docs/adr/0003-state-layout.md`.

use serde::{Deserialize, Serialize};

use crate::{TaskId, UserId};

pub fn task(user: &UserId, id: TaskId) -> String {
    format!("task:{user}:{id}")
}

pub fn index(user: &UserId) -> String {
    format!("tasks:{user}")
}

/// The ids of a user's tasks, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskIndex {
    pub ids: Vec<TaskId>,
}

impl TaskIndex {
    pub fn insert(&mut self, id: TaskId) {
        if let Err(at) = self.ids.binary_search(&id) {
            self.ids.insert(at, id);
        }
    }

    /// Removes `id`; answers whether it was there.
    pub fn remove(&mut self, id: TaskId) -> bool {
        match self.ids.binary_search(&id) {
            Ok(at) => {
                self.ids.remove(at);
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    #[test]
    fn keys_are_scoped_by_user() {
        let alice = UserId::parse("alice").expect("valid");
        let id = TaskId::new(DateTime::from_timestamp(0, 0).unwrap_or_default(), 7);
        assert_eq!(task(&alice, id), format!("task:alice:{id}"));
        assert_eq!(index(&alice), "tasks:alice");
    }

    #[test]
    fn the_index_stays_sorted_and_free_of_duplicates() {
        let at = |s| TaskId::new(DateTime::from_timestamp(s, 0).unwrap_or_default(), 0);
        let mut index = TaskIndex::default();
        index.insert(at(3));
        index.insert(at(1));
        index.insert(at(3));
        index.insert(at(2));
        assert_eq!(index.ids, vec![at(1), at(2), at(3)]);
        assert!(index.remove(at(2)));
        assert!(!index.remove(at(2)));
        assert_eq!(index.ids, vec![at(1), at(3)]);
    }
}
