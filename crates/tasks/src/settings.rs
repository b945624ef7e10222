//! What every component of the tasks context reads from its Spin variables:
//! where state lives and where task events go.

use events::topics;

/// The settings of the tasks context's components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The Dapr state store component holding accounts, settings, inboxes
    /// and conversations (`state_store`).
    pub state_store: String,
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
    /// The pub/sub component reminders that fire are published to and the
    /// notifier hears them on (`reminder_pubsub`).
    pub reminder_pubsub: String,
    /// The token daprd presents on every call it makes to the app
    /// (`app_api_token`, daprd's `APP_API_TOKEN`): the consumers' routes
    /// refuse a call without it, so that nobody but the sidecar can deliver
    /// an event or fire a job.
    pub app_api_token: String,
}

impl Settings {
    /// The names of the jobs of reminders begin with this.
    pub const REMINDER_JOB_PREFIX: &'static str = "reminder-";
    /// The names of the jobs of webhook calls begin with this.
    pub const WEBHOOK_JOB_PREFIX: &'static str = "webhook-";

    /// The settings from the component's variables, read with `variable`.
    pub fn from_variables<E>(variable: impl Fn(&str) -> Result<String, E>) -> Result<Self, E> {
        Ok(Self {
            state_store: variable("state_store")?,
            event_pubsub: variable("event_pubsub")?,
            repeat_pubsub: variable("repeat_pubsub")?,
            reminder_change_pubsub: variable("reminder_change_pubsub")?,
            topic_prefix: variable("topic_prefix")?,
            reminder_pubsub: variable("reminder_pubsub")?,
            app_api_token: variable("app_api_token")?,
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

    /// The topic reminders that fire are published on.
    pub fn reminders_topic(&self) -> String {
        format!("{}{}", self.topic_prefix, topics::REMINDERS)
    }
}
