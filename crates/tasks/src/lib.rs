//! The tasks context: what a task is, how input from outside becomes one (or
//! a field-level error saying how to fix it), how tasks are listed and kept
//! in SQL, and what is built on them; each part in a module of its own:
//!
//! - [`task`]: tasks themselves: the domain (pure: time and randomness come
//!   in as arguments, so every rule is tested natively), the use cases over
//!   SQL (ADR 16), the outbox, history and the change feed;
//! - [`reminders`]: reminders as Dapr jobs, the sweep, the inbox, webhooks
//!   and the user's own settings;
//! - [`chat`]: the chat and the tools it (or an LLM, or an MCP client) calls;
//! - [`accounts`]: signing up and in;
//! - [`api`] and [`consumers`]: the doors: HTTP routes mapping requests to
//!   use cases and errors to statuses, and the routes daprd delivers events,
//!   jobs and cron ticks to;
//! - [`error`], [`limits`], [`settings`], [`service`]: what they all share:
//!   errors, limits, the components' settings, and what a request brings
//!   ([`Env`]).

#![warn(missing_docs)]

pub mod accounts;
pub mod api;
pub mod calendar;
pub mod chat;
pub mod consumers;
pub mod error;
pub mod export;
pub mod import;
pub mod limits;
pub mod project;
pub mod reminders;
pub mod service;
pub mod settings;
pub mod task;
pub mod view;

#[cfg(test)]
mod testing;

pub use api::{AccountsApi, ChatApi, McpApi, NotificationsApi, TasksApi};
pub use auth::UserId;
pub use consumers::Consumers;
pub use error::{FieldError, Problem, TaskError};
pub use events::TaskId;
pub use limits::Limits;
pub use service::{Env, Listing, Written};
pub use settings::Settings;
pub use task::input::{TaskPatch, TaskSpec};
pub use task::model::{
    Priority, ProjectId, RecurrenceMode, Reminder, ReminderTime, Tag, Task, TimeZone, Title,
};
pub use task::query::ListQuery;
pub use task::store::{Storage, TaskStore};
