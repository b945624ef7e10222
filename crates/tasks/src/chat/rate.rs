//! How many chat messages a user sent in a minute, in the Dapr state store
//! (`chat-rate:{user}:{minute}`, kept two minutes by Dapr's TTL): the chat
//! refuses a message past `chat_messages_per_minute`.

use chrono::{DateTime, Utc};
use dapr::{StateStore, Write};

use crate::UserId;
use crate::error::{Exceeded, TaskError};
use crate::service::retry;

/// Counts a chat message of `user` against the minute of `now`, or
/// refuses it when that minute has had `limit` already (the count is kept
/// two minutes: `chat-rate:{user}:{minute}`).
pub async fn count_chat_message<S: StateStore>(
    store: &S,
    user: &UserId,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<(), TaskError> {
    let key = &format!("chat-rate:{user}:{}", now.timestamp().div_euclid(60));
    retry(|| async move {
        let (sent, etag) = match store.get::<u32>(key).await? {
            Some(read) => (read.value, Some(read.etag)),
            None => (0, None),
        };
        if sent >= limit {
            let retry_after = u32::try_from(60 - now.timestamp().rem_euclid(60)).unwrap_or(60);
            return Err(Exceeded::ChatMessages { limit, retry_after }.into());
        }
        let write = Write::put(key, &(sent + 1), etag)?.expiring(120);
        Ok(store.commit(&[write]).await?)
    })
    .await
}

#[cfg(test)]
mod tests {
    use dapr::fakes::FakeStateStore;
    use futures::executor::block_on;

    use super::*;

    #[test]
    fn a_users_chat_messages_are_counted_by_the_minute() {
        let (store, user) = (
            FakeStateStore::new(),
            UserId::parse("alice").expect("a user id"),
        );
        let at =
            |seconds: i64| DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default();
        // 1_800_000_000 begins a minute.
        for second in [0, 10] {
            block_on(count_chat_message(&store, &user, at(second), 2)).expect("within the limit");
        }
        assert_eq!(
            block_on(count_chat_message(&store, &user, at(30), 2)),
            Err(TaskError::Exceeded(Exceeded::ChatMessages {
                limit: 2,
                retry_after: 30
            }))
        );
        block_on(count_chat_message(&store, &user, at(60), 2)).expect("a new minute");
        let other = UserId::parse("bob").expect("a user id");
        block_on(count_chat_message(&store, &other, at(30), 2)).expect("each user their own");
    }
}
