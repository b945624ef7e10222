//! Webhooks (ADR 10): where a user has set one, each reminder that reaches
//! their inbox is POSTed there as the JSON of a [`Call`], signed with
//! HMAC-SHA256 over the body with the user's secret
//! (`X-Todo-Signature: sha256=<hex>`), with the reminder's id as its
//! `Idempotency-Key` on every try, so that a receiver can take it once.
//!
//! Each try is a Dapr job (`webhook-{reminder}-{try}`), so that a slow or
//! failing receiver holds up neither the notifier nor anyone else's
//! reminders. A try that fails schedules the next after a backoff that
//! doubles ([`backoff`]); after [`MAX_TRIES`] the notification's webhook is
//! marked failed, with why. The inbox keeps the notification either way.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use dapr::jobs::{FailurePolicy, Job};
use dapr::{Dapr, DaprError, Transport};
use hmac::{Hmac, Mac};
use http::{Method, header};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::UserId;
use crate::error::TaskError;
use crate::reminders::inbox::{self, Notification, WebhookState, WebhookStatus};
use crate::reminders::user_settings;
use crate::task::store::Storage;
use events::{ReminderId, TaskId};

/// The header carrying `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub const SIGNATURE: &str = "x-todo-signature";
/// The names of the jobs of webhook calls begin with this.
pub const JOB_PREFIX: &str = "webhook-";
/// The header naming the reminder, the same on every try.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// How many tries a call gets before it is given up.
pub const MAX_TRIES: u32 = 5;

/// The longest part of a receiver's answer kept as the reason it failed.
const KEPT_ANSWER: usize = 200;

/// What a try's job carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Try {
    /// Whose reminder it is.
    pub user_id: UserId,
    /// The reminder.
    pub reminder_id: ReminderId,
    /// Which try this is, from 1.
    pub attempt: u32,
}

impl Try {
    /// The first try of notification `id` of `user`.
    pub fn first(user: &UserId, id: ReminderId) -> Self {
        Self {
            user_id: user.clone(),
            reminder_id: id,
            attempt: 1,
        }
    }

    /// The name of this try's job.
    pub fn job_name(&self) -> String {
        format!("{}{}-{}", JOB_PREFIX, self.reminder_id, self.attempt)
    }
}

/// How long after try `attempt` fails the next is made: 1 s, then twice as
/// long each time (1, 2, 4, 8 s before the fifth and last).
pub fn backoff(attempt: u32) -> chrono::Duration {
    chrono::Duration::seconds(1 << attempt.saturating_sub(1).min(16))
}

/// What a webhook call's body says.
#[derive(Debug, Serialize)]
pub struct Call<'a> {
    /// The reminder's id (also the `Idempotency-Key`).
    pub id: ReminderId,
    /// Whose reminder it is.
    pub user_id: &'a UserId,
    /// The task it reminds of.
    pub task_id: TaskId,
    /// The task's title when the reminder fired.
    pub title: &'a str,
    /// When the task is due, if it has a due date.
    pub due_at: Option<DateTime<FixedOffset>>,
    /// When the reminder was meant to fire.
    pub remind_at: DateTime<Utc>,
}

/// `sha256=` and the hex of HMAC-SHA256 of `body` keyed with `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // An HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Schedules try `call` to run at `at`.
pub async fn schedule<T: Transport>(
    dapr: &Dapr<T>,
    call: &Try,
    at: DateTime<Utc>,
) -> Result<(), DaprError> {
    schedule_try(dapr, &call.job_name(), call, at).await
}

/// Schedules the job `name` of one try of a delivery (a webhook call, a
/// push), carrying `data`, to run once at `at`.
pub(crate) async fn schedule_try<T: Transport>(
    dapr: &Dapr<T>,
    name: &str,
    data: &impl Serialize,
    at: DateTime<Utc>,
) -> Result<(), DaprError> {
    let due = at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let job = Job {
        // Only when the try itself could not finish (the store is down):
        // a receiver's failure is answered by the next try's job.
        failure_policy: Some(FailurePolicy::Constant {
            interval: "2s",
            max_retries: None,
        }),
        ..Job::once(&due, data)
    };
    dapr.schedule_job(name, &job).await
}

/// Makes try `call` at `now`: POSTs the notification to its user's webhook
/// (sent through `web`) unless it was delivered or given up before, then
/// records how it went and schedules the next try if one is left.
pub async fn attempt<T: Transport, W: Transport>(
    dapr: &Dapr<T>,
    web: &W,
    storage: &Storage,
    call: &Try,
    now: DateTime<Utc>,
) -> Result<(), TaskError> {
    let user = &call.user_id;
    let Some(notification) = inbox::find(storage, user, call.reminder_id)? else {
        return Ok(()); // gone beyond what the inbox keeps
    };
    let pending = |n: &Notification| {
        n.webhook
            .as_ref()
            .is_some_and(|w| w.status == WebhookStatus::Pending && w.attempts < call.attempt)
    };
    if !pending(&notification) {
        return Ok(()); // done, or this try was made before
    }
    let settings = user_settings::get(storage, user)?;
    let outcome = match (&settings.webhook_url, &settings.webhook_secret) {
        (Some(url), Some(secret)) => post(web, url.as_str(), secret, &notification, user).await,
        _ => Err("the webhook was removed".to_owned()),
    };
    let last = call.attempt >= MAX_TRIES || settings.webhook_url.is_none();
    let (status, last_error) = match outcome {
        Ok(()) => (WebhookStatus::Delivered, None),
        Err(why) if last => (WebhookStatus::Failed, Some(why)),
        Err(why) => {
            let next = Try {
                attempt: call.attempt + 1,
                ..call.clone()
            };
            schedule(dapr, &next, now + backoff(call.attempt)).await?;
            (WebhookStatus::Pending, Some(why))
        }
    };
    if let Some(why) = &last_error {
        eprintln!("webhooks: {} try {}: {why}", call.reminder_id, call.attempt);
    }
    let state = WebhookState {
        status,
        attempts: call.attempt,
        last_error,
    };
    inbox::update(storage, user, call.reminder_id, |n| {
        let changed = pending(n);
        if changed {
            n.webhook = Some(state.clone());
        }
        changed
    })
    .map(|_| ())
}

/// POSTs `notification` to `url`, signed with `secret`; a 2xx answer is
/// success, anything else says why it failed.
async fn post<W: Transport>(
    web: &W,
    url: &str,
    secret: &str,
    notification: &Notification,
    user: &UserId,
) -> Result<(), String> {
    let call = Call {
        id: notification.id,
        user_id: user,
        task_id: notification.task_id,
        title: &notification.title,
        due_at: notification.due_at,
        remind_at: notification.remind_at,
    };
    let body = serde_json::to_vec(&call).map_err(|e| format!("cannot encode the call: {e}"))?;
    let request = http::Request::builder()
        .method(Method::POST)
        .uri(url)
        .header(header::CONTENT_TYPE, "application/json")
        // A length, not chunks: some receivers take nothing else.
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::USER_AGENT, "todo-chatbot-webhooks/1")
        .header(SIGNATURE, sign(secret.as_bytes(), &body))
        .header(IDEMPOTENCY_KEY, notification.id.to_string())
        .body(body)
        .map_err(|e| format!("cannot make the request: {e}"))?;
    let answer = web.send(request).await.map_err(|e| e.to_string())?;
    if answer.status().is_success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(answer.body());
    let kept: String = text.chars().take(KEPT_ANSWER).collect();
    Err(format!("the receiver answered {}: {kept}", answer.status()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc_4231s_hmac_sha256() {
        // RFC 4231, 4.3 (test case 2): Key = "Jefe",
        // Data = "what do ya want for nothing?".
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn tries_back_off_twice_as_long_each_time() {
        let waits: Vec<i64> = (1..MAX_TRIES).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(waits, [1, 2, 4, 8]);
    }
}
