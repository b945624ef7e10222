//! The tasks context: what a task is, how input from outside becomes one (or
//! a field-level error saying how to fix it), how tasks are listed, how
//! they are kept in SQL, the use cases over them, and the HTTP API that
//! offers them.
//!
//! - [`model`], [`input`], [`query`]: the domain, pure; time and randomness
//!   come in as arguments, so every rule is tested natively;
//! - [`store`]: the use cases over a [`sql::Database`] (ADR 16), answering
//!   domain errors ([`TaskError`]); each change is one transaction that
//!   records its event ([`change`]) for the [`outbox`] to relay; the task
//!   itself in its [`stored`] form;
//! - [`keys`]: what is still in the Dapr state store;
//! - [`api`]: the routes of `/api/{user_id}/tasks/...`, mapping requests to
//!   use cases and errors to statuses.

#![warn(missing_docs)]

pub mod accounts;
pub mod api;
pub mod change;
pub mod chat;
pub mod consumers;
pub mod error;
pub mod feed;
pub mod history;
pub mod inbox;
pub mod input;
pub mod keys;
pub mod limits;
pub mod llm;
pub mod model;
pub mod outbox;
pub mod page;
pub mod query;
pub mod reminders;
pub mod repeat;
pub mod service;
pub mod settings;
pub mod store;
pub mod stored;
pub mod sweep;
pub mod tools;
pub mod user_settings;
pub mod webhooks;

pub use api::{AccountsApi, ChatApi, McpApi, NotificationsApi, TasksApi};
pub use auth::UserId;
pub use consumers::Consumers;
pub use error::{FieldError, Problem, TaskError};
pub use events::TaskId;
pub use input::{TaskPatch, TaskSpec};
pub use limits::Limits;
pub use model::{Priority, RecurrenceMode, Reminder, ReminderTime, Tag, Task, TimeZone, Title};
pub use query::ListQuery;
pub use service::{Env, Listing, Written};
pub use settings::Settings;
pub use store::{Storage, TaskStore};
