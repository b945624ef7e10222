//! Where task events go, as the components that publish them (the APIs
//! that write tasks, the recurrence handler, the sweep's safety net) read
//! it from their Spin variables.

use events::topics;

/// The settings of the tasks context's components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The pub/sub component every task event is published to, on
    /// `task-events` (`event_pubsub`).
    pub event_pubsub: String,
    /// The pub/sub component the completions of repeating tasks also go to,
    /// on `task-repeats`, for the recurrence handler (`repeat_pubsub`).
    pub repeat_pubsub: String,
    /// The pub/sub component the events that change a task's reminders
    /// also go to, on `task-reminder-changes`, for the reminder scheduler
    /// (`reminder_change_pubsub`). On Kafka all three are one component;
    /// `pubsub.in-memory` is a bus of its own per component (ADR 16).
    pub reminder_change_pubsub: String,
    /// Put before every topic name (`topic_prefix`), so that several
    /// deployments can share one broker.
    pub topic_prefix: String,
}

impl Settings {
    /// The settings from the component's variables, read with `variable`.
    pub fn from_variables<E>(variable: impl Fn(&str) -> Result<String, E>) -> Result<Self, E> {
        Ok(Self {
            event_pubsub: variable("event_pubsub")?,
            repeat_pubsub: variable("repeat_pubsub")?,
            reminder_change_pubsub: variable("reminder_change_pubsub")?,
            topic_prefix: variable("topic_prefix")?,
        })
    }

    /// The topic task events are published on.
    pub fn task_events_topic(&self) -> String {
        format!("{}{}", self.topic_prefix, topics::TASK_EVENTS)
    }

    /// The topic of the completions of repeating tasks.
    pub fn repeats_topic(&self) -> String {
        format!("{}{}", self.topic_prefix, topics::TASK_REPEATS)
    }

    /// The topic of the events that change a task's reminders.
    pub fn reminder_changes_topic(&self) -> String {
        format!("{}{}", self.topic_prefix, topics::TASK_REMINDER_CHANGES)
    }
}
