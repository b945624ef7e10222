//! What one user may ask of the service, so that nobody can starve the
//! others or fill the store: each limit a Spin variable with a safe
//! default, stated in the README and the contract, and answered with 413
//! (too large) or 429 (too many) without changing anything.
//!
//! | variable | default | answer |
//! |---|---|---|
//! | `max_tasks_per_user` | 10,000 | 429 `too_many_tasks` on a create |
//! | `max_tags_per_task` | 20 (at most 20) | 413 `too_many_tags`, field `tags` |
//! | `max_reminders_per_task` | 10 (at most 10) | 413 `too_many_reminders`, field `reminders` |
//! | `max_steps_per_task` | 100 (at most 1,000) | 413 `too_many_steps`, field `steps` |
//! | `chat_messages_per_minute` | 20 | 429 `too_many_messages`, `Retry-After` |
//! | `max_body_bytes` | 65,536 | 413 `payload_too_large` |
//! | `max_query_bytes` | 2,048 | 413 `query_too_long` |
//!
//! A user's tasks are counted inside each create's own transaction (their
//! row in `users`, [`crate::task::store`]), so no burst passes the limit; tasks
//! made by the recurrence handler count but are never refused (a repeating task does not stop because its user is at the
//! limit).

use crate::error::Exceeded;
use crate::task::model::{Reminder, Step, Tag, Task};

/// The limits in force, as the component's variables set them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Tasks a user may have, done or not.
    pub tasks_per_user: u64,
    /// Tags on one task.
    pub tags_per_task: usize,
    /// Reminders on one task.
    pub reminders_per_task: usize,
    /// Steps of one task's checklist.
    pub steps_per_task: usize,
    /// Chat messages a user may send in a minute.
    pub chat_messages_per_minute: u32,
    /// Bytes of a request's body.
    pub body_bytes: usize,
    /// Bytes of a request's query string.
    pub query_bytes: usize,
    /// The largest file an import takes, in bytes (`max_import_bytes`).
    pub import_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            tasks_per_user: 10_000,
            tags_per_task: Tag::MAX_PER_TASK,
            reminders_per_task: Reminder::MAX_PER_TASK,
            steps_per_task: 100,
            chat_messages_per_minute: 20,
            body_bytes: 64 * 1024,
            query_bytes: 2048,
            import_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Which limits a component is given, each kind with those before it:
/// every API checks the size of a request; those that write tasks check
/// the per-user and per-task limits too; the chat its messages a minute as
/// well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Given {
    /// `max_body_bytes`, `max_query_bytes`.
    Sizes,
    /// And `max_tasks_per_user`, `max_tags_per_task`,
    /// `max_reminders_per_task`, `max_steps_per_task`.
    Tasks,
    /// And `chat_messages_per_minute`.
    Chat,
}

/// A limit's variable that is not a whole number within its bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Spin variable {name} must be a whole number from 1 to {most}, not {value:?}")]
pub struct BadLimit {
    /// The variable.
    pub name: &'static str,
    /// What it held.
    pub value: String,
    /// The largest value it may hold.
    pub most: u64,
}

impl Limits {
    /// The limits the component's variables set, those it is `given`
    /// (`max_body_bytes`, `max_query_bytes`; then `max_tasks_per_user`,
    /// `max_tags_per_task`, `max_reminders_per_task`, `max_steps_per_task`,
    /// `max_import_bytes`; then
    /// `chat_messages_per_minute`); an empty one, or one not given, keeps
    /// its default.
    pub fn from_variables<E: From<BadLimit>>(
        variable: impl Fn(&str) -> Result<String, E>,
        given: Given,
    ) -> Result<Self, E> {
        let mut limits = Self::default();
        let read = |name, default, most| whole_number(&variable, name, default, most);
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        limits.body_bytes = size(read(
            "max_body_bytes",
            limits.body_bytes as u64,
            16 * 1024 * 1024,
        )?);
        limits.query_bytes = size(read(
            "max_query_bytes",
            limits.query_bytes as u64,
            64 * 1024,
        )?);
        if given >= Given::Tasks {
            limits.tasks_per_user = read("max_tasks_per_user", limits.tasks_per_user, 1_000_000)?;
            limits.tags_per_task = size(read(
                "max_tags_per_task",
                limits.tags_per_task as u64,
                Tag::MAX_PER_TASK as u64,
            )?);
            limits.reminders_per_task = size(read(
                "max_reminders_per_task",
                limits.reminders_per_task as u64,
                Reminder::MAX_PER_TASK as u64,
            )?);
            limits.steps_per_task = size(read(
                "max_steps_per_task",
                limits.steps_per_task as u64,
                Step::MAX_PER_TASK as u64,
            )?);
            limits.import_bytes = size(read(
                "max_import_bytes",
                limits.import_bytes as u64,
                64 * 1024 * 1024,
            )?);
        }
        if given >= Given::Chat {
            let per_minute = read(
                "chat_messages_per_minute",
                u64::from(limits.chat_messages_per_minute),
                10_000,
            )?;
            limits.chat_messages_per_minute = u32::try_from(per_minute).unwrap_or(u32::MAX);
        }
        Ok(limits)
    }

    /// Whether a write that turns `before` (`None`: a new task) into
    /// `after` stays within the per-task limits. A task that has more than
    /// a limit lowered since allows is still written, as long as the write
    /// adds none.
    pub fn check(&self, before: Option<&Task>, after: &Task) -> Result<(), Exceeded> {
        let had = |count: fn(&Task) -> usize| before.map_or(0, count);
        if after.tags.len() > self.tags_per_task.max(had(|t| t.tags.len())) {
            return Err(Exceeded::Tags(self.tags_per_task));
        }
        if after.reminders.len() > self.reminders_per_task.max(had(|t| t.reminders.len())) {
            return Err(Exceeded::Reminders(self.reminders_per_task));
        }
        if after.steps.0.len() > self.steps_per_task.max(had(|t| t.steps.0.len())) {
            return Err(Exceeded::Steps(self.steps_per_task));
        }
        Ok(())
    }

    /// Whether a user who has `tasks` tasks (as the create's own
    /// transaction counted them) may create one more.
    pub fn may_create(&self, tasks: u64) -> Result<(), Exceeded> {
        if tasks >= self.tasks_per_user {
            return Err(Exceeded::Tasks(self.tasks_per_user));
        }
        Ok(())
    }
}

/// The Spin variable `name` as a whole number from 1 to `most`; empty, it
/// is `default`. Every limit is read through this.
pub(crate) fn whole_number<E: From<BadLimit>>(
    variable: &impl Fn(&str) -> Result<String, E>,
    name: &'static str,
    default: u64,
    most: u64,
) -> Result<u64, E> {
    let value = variable(name)?;
    if value.trim().is_empty() {
        return Ok(default);
    }
    match value.trim().parse::<u64>() {
        Ok(n) if (1..=most).contains(&n) => Ok(n),
        _ => Err(BadLimit { name, value, most }.into()),
    }
}

/// Variables as a component would read them: `pairs`, the others empty.
#[cfg(test)]
pub(crate) fn variables(
    pairs: &[(&str, &str)],
) -> impl Fn(&str) -> Result<String, BadLimit> + use<> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    move |name| {
        Ok(pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::variables as vars;
    use super::*;

    #[test]
    fn empty_variables_keep_the_defaults() {
        assert_eq!(
            Limits::from_variables(vars(&[]), Given::Chat),
            Ok(Limits::default())
        );
    }

    #[test]
    fn variables_set_the_limits_within_their_bounds() {
        let limits = Limits::from_variables(
            vars(&[
                ("max_tasks_per_user", "3"),
                ("max_tags_per_task", " 2 "),
                ("chat_messages_per_minute", "5"),
                ("max_query_bytes", "100"),
            ]),
            Given::Chat,
        )
        .expect("valid");
        assert_eq!(limits.tasks_per_user, 3);
        assert_eq!(limits.tags_per_task, 2);
        assert_eq!(limits.reminders_per_task, Reminder::MAX_PER_TASK);
        assert_eq!(limits.chat_messages_per_minute, 5);
        assert_eq!(limits.query_bytes, 100);
    }

    #[test]
    fn a_limit_that_is_no_number_or_out_of_bounds_is_refused() {
        for (name, value) in [
            ("max_tasks_per_user", "many"),
            ("max_tasks_per_user", "0"),
            ("max_tags_per_task", "21"),
            ("max_reminders_per_task", "-1"),
            ("max_body_bytes", "1e6"),
        ] {
            let err = Limits::from_variables(vars(&[(name, value)]), Given::Chat).expect_err(value);
            assert_eq!((err.name, err.value.as_str()), (name, value));
        }
    }
}
