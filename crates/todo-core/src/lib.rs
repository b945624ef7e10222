//! The task domain of the Todo Chatbot, free of any runtime: what a task is,
//! how input from outside becomes one (or a field-level error saying how to fix
//! it), how users are authenticated, and how a user's tasks are laid out in a
//! key-value state store.
//!
//! Nothing here performs I/O; the time and the random source come in as
//! arguments, so every rule is tested natively.

pub mod auth;
pub mod error;
pub mod ids;
pub mod input;
pub mod keys;
pub mod model;
pub mod query;
pub mod stored;

pub use error::{FieldError, Problem};
pub use ids::{TaskId, UserId};
pub use input::{TaskPatch, TaskSpec};
pub use model::{Priority, RecurrenceMode, Reminder, Tag, Task, TimeZone, Title};
pub use query::ListQuery;
