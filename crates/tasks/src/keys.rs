//! What the tasks context keeps in the Dapr state store, per user: only
//! what expires (everything else is in SQL, ADR 16):
//!
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

/// The key of `user`'s conversation `id`.
pub fn conversation(user: &UserId, id: &str) -> String {
    format!("conversation:{user}:{id}")
}
