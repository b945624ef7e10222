//! What the tasks context still keeps in the Dapr state store, per user
//! (tasks, their history and the change feed are in SQL, ADR 16):
//!
//! - `account:{user}`: the account, for signing in;
//! - `settings:{user}`: the user's own settings;
//! - `inbox:{user}`: the reminders that reached the user;
//! - `conversation:{user}:{id}`: a chat conversation (with a TTL);
//! - `chat-rate:{user}:{minute}`: chat messages sent in a minute.
//!
//! Every key begins with the user's own segment, so no key of one user can be
//! built from another user's path. Dapr reserves `||` for its own prefix, so the
//! separator is `:`, which user ids may not contain.

use crate::UserId;

/// The key of how many chat messages `user` sent in `minute` (since 1970).
pub fn chat_rate(user: &UserId, minute: i64) -> String {
    format!("chat-rate:{user}:{minute}")
}

/// The key of `user`'s account (for signing in).
pub fn account(user: &UserId) -> String {
    format!("account:{user}")
}

/// The key of `user`'s conversation `id`.
pub fn conversation(user: &UserId, id: &str) -> String {
    format!("conversation:{user}:{id}")
}

/// The key of `user`'s own settings.
pub fn settings(user: &UserId) -> String {
    format!("settings:{user}")
}

/// The key of `user`'s inbox.
pub fn inbox(user: &UserId) -> String {
    format!("inbox:{user}")
}
