//! Pushing a notification to a user's browsers (RFC 8030), one Dapr job
//! per try and browser (`push-{reminder}-{subscription}-{try}`), as
//! webhook calls are made: a try that fails schedules the next after the
//! same doubling backoff, up to the same number of tries. The push
//! service's 404 or 410 means the browser unsubscribed: its subscription
//! is removed and no further try is made. The notification keeps each
//! browser's outcome.

use chrono::{DateTime, Utc};
use dapr::{Dapr, DaprError, Transport};
use hkdf::Hkdf;
use http::{Method, StatusCode, header};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::UserId;
use crate::error::TaskError;
use crate::reminders::inbox::{self, Notification, PushState, PushStatus};
use crate::reminders::webhooks::{MAX_TRIES, backoff, schedule_try};
use crate::service::Env;
use crate::task::store::Storage;
use events::{ReminderId, TaskId};

/// The names of the jobs of pushes begin with this.
pub const JOB_PREFIX: &str = "push-";
/// How long a push service keeps a push for a browser that is offline:
/// a reminder a day late is still worth seeing.
const TTL_SECONDS: u32 = 24 * 3600;
/// How long a VAPID token of one push is valid (RFC 8292: at most 24 h).
const TOKEN_SECONDS: i64 = 12 * 3600;

/// The app's VAPID key pair and contact, from `vapid_private_key` and
/// `vapid_subject`.
#[derive(Debug)]
pub struct Sender {
    vapid: Result<webpush::Vapid, webpush::Error>,
    subject: String,
    /// The API's token secret, which signs each push's action token.
    jwt_secret: Vec<u8>,
}

impl Sender {
    /// The sender of `private` (empty: pushes are off) naming `subject`,
    /// signing action tokens with the API's `jwt_secret`.
    pub fn new(private: &str, subject: &str, jwt_secret: &str) -> Option<Self> {
        (!private.is_empty()).then(|| Self {
            vapid: webpush::Vapid::parse(private),
            subject: subject.to_owned(),
            jwt_secret: jwt_secret.as_bytes().to_vec(),
        })
    }
}

/// How long a push's action token lets its notification's buttons act:
/// the push service keeps a push a day (`TTL`), and a person may take
/// another day to press one.
pub const ACTION_SECONDS: i64 = 2 * 86_400;

/// What a push's action token may act on: its task (completed or snoozed).
pub fn action_scope(task: TaskId) -> String {
    format!("task:{task}")
}

/// What a try's job carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Try {
    /// Whose reminder it is.
    pub user_id: UserId,
    /// The reminder.
    pub reminder_id: ReminderId,
    /// The browser's subscription.
    pub subscription_id: String,
    /// Which try this is, from 1.
    pub attempt: u32,
}

impl Try {
    /// The name of this try's job.
    pub fn job_name(&self) -> String {
        format!(
            "{JOB_PREFIX}{}-{}-{}",
            self.reminder_id, self.subscription_id, self.attempt
        )
    }
}

/// What a push says, encrypted: enough for the page's service worker to
/// show the reminder and act on it.
#[derive(Debug, Serialize)]
pub struct Message<'a> {
    /// Whose reminder it is.
    pub user_id: &'a UserId,
    /// The reminder's (and notification's) id.
    pub notification_id: ReminderId,
    /// The task it reminds of.
    pub task_id: TaskId,
    /// The task's title when the reminder fired.
    pub title: &'a str,
    /// When the task is due, if it has a due date.
    pub due_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// When the reminder was meant to fire.
    pub remind_at: DateTime<Utc>,
    /// A bearer token that completes or snoozes this task only, for the
    /// notification's buttons ([`ACTION_SECONDS`]).
    pub action_token: Option<String>,
}

/// The first tries of `notification` of `user`, one per browser whose
/// push was neither scheduled nor made before.
pub fn first_tries(user: &UserId, notification: &Notification) -> Vec<Try> {
    (notification.pushes.iter())
        .filter(|push| push.attempts == 0 && push.status == PushStatus::Pending)
        .map(|push| Try {
            user_id: user.clone(),
            reminder_id: notification.id,
            subscription_id: push.subscription_id.clone(),
            attempt: 1,
        })
        .collect()
}

/// Schedules try `push` to run at `at`.
pub async fn schedule<T: Transport>(
    dapr: &Dapr<T>,
    push: &Try,
    at: DateTime<Utc>,
) -> Result<(), DaprError> {
    schedule_try(dapr, &push.job_name(), push, at).await
}

/// Makes try `push` at `env.now`: sends the notification to the browser
/// (through `web`, signed by `sender`) unless that was done or given up
/// before, records how it went and schedules the next try if one is left.
pub async fn attempt<T: Transport, W: Transport>(
    dapr: &Dapr<T>,
    web: &W,
    storage: &Storage,
    sender: Option<&Sender>,
    push: &Try,
    env: &Env,
) -> Result<(), TaskError> {
    let user = &push.user_id;
    let Some(notification) = inbox::find(storage, user, push.reminder_id)? else {
        return Ok(()); // gone beyond what the inbox keeps
    };
    let pending = |n: &Notification| {
        (n.pushes.iter()).any(|p| {
            p.subscription_id == push.subscription_id
                && p.status == PushStatus::Pending
                && p.attempts < push.attempt
        })
    };
    if !pending(&notification) {
        return Ok(()); // done, or this try was made before
    }
    let keys = super::keys(storage, user, &push.subscription_id)?;
    let outcome = match (&keys, sender) {
        (None, _) => Outcome::Gone("the browser was unsubscribed".into()),
        (Some(_), None) => Outcome::Failed("pushes are off: vapid_private_key is not set".into()),
        (Some(device), Some(sender)) => send(web, sender, user, device, &notification, env).await,
    };
    if let Outcome::Gone(_) = outcome
        && keys.is_some()
    {
        super::forget(storage, user, &push.subscription_id)?;
    }
    let last = push.attempt >= MAX_TRIES;
    let (status, last_error) = match outcome {
        Outcome::Delivered => (PushStatus::Delivered, None),
        Outcome::Gone(why) => (PushStatus::Gone, Some(why)),
        Outcome::Failed(why) if last || sender.is_none() => (PushStatus::Failed, Some(why)),
        Outcome::Failed(why) => {
            let next = Try {
                attempt: push.attempt + 1,
                ..push.clone()
            };
            schedule(dapr, &next, env.now + backoff(push.attempt)).await?;
            (PushStatus::Pending, Some(why))
        }
    };
    if let Some(why) = &last_error {
        eprintln!("push: {} try {}: {why}", push.job_name(), push.attempt);
    }
    let state = PushState {
        subscription_id: push.subscription_id.clone(),
        status,
        attempts: push.attempt,
        last_error,
    };
    inbox::update(storage, user, push.reminder_id, |n| {
        let changed = pending(n);
        if changed {
            for p in &mut n.pushes {
                if p.subscription_id == state.subscription_id {
                    *p = state.clone();
                }
            }
        }
        changed
    })
    .map(|_| ())
}

/// How one try went.
enum Outcome {
    Delivered,
    Gone(String),
    Failed(String),
}

/// Encrypts `notification` for `device` and POSTs it to its endpoint.
async fn send<W: Transport>(
    web: &W,
    sender: &Sender,
    user: &UserId,
    device: &super::Device,
    notification: &Notification,
    env: &Env,
) -> Outcome {
    let vapid = match &sender.vapid {
        Ok(vapid) => vapid,
        Err(e) => return Outcome::Failed(format!("vapid_private_key: {e}")),
    };
    let message = Message {
        user_id: user,
        notification_id: notification.id,
        task_id: notification.task_id,
        title: &notification.title,
        due_at: notification.due_at,
        remind_at: notification.remind_at,
        action_token: auth::issue_scoped(
            user,
            &sender.jwt_secret,
            env.now,
            ACTION_SECONDS,
            &action_scope(notification.task_id),
        )
        .ok(),
    };
    let Ok(plain) = serde_json::to_vec(&message) else {
        return Outcome::Failed("cannot encode the message".into());
    };
    // A new key and salt for every message, from the env's 256 random bits.
    let (ephemeral, salt) = fresh(env);
    let body = match webpush::Subscriber::parse(&device.p256dh, &device.auth)
        .and_then(|to| webpush::encrypt(&plain, &to, ephemeral, salt))
    {
        Ok(body) => body,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let Some(audience) = origin(&device.endpoint) else {
        return Outcome::Failed("the endpoint has no origin".into());
    };
    let exp = env.now.timestamp() + TOKEN_SECONDS;
    let request = http::Request::builder()
        .method(Method::POST)
        .uri(&device.endpoint)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_ENCODING, "aes128gcm")
        .header(header::CONTENT_LENGTH, body.len())
        .header("ttl", TTL_SECONDS)
        .header("urgency", "high")
        .header(
            header::AUTHORIZATION,
            vapid.authorization(&audience, exp, &sender.subject),
        )
        .body(body);
    let request = match request {
        Ok(request) => request,
        Err(e) => return Outcome::Failed(format!("cannot make the request: {e}")),
    };
    match web.send(request).await {
        Ok(answer) if answer.status().is_success() => Outcome::Delivered,
        Ok(answer) if matches!(answer.status(), StatusCode::NOT_FOUND | StatusCode::GONE) => {
            Outcome::Gone(format!("the push service answered {}", answer.status()))
        }
        Ok(answer) => Outcome::Failed(format!("the push service answered {}", answer.status())),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// `scheme://host[:port]` of `endpoint`: a VAPID token's audience.
fn origin(endpoint: &str) -> Option<String> {
    let url = url::Url::parse(endpoint).ok()?;
    Some(url.origin().ascii_serialization()).filter(|o| o != "null")
}

/// An ephemeral P-256 scalar and a salt drawn from `env`'s randomness.
fn fresh(env: &Env) -> ([u8; 32], [u8; 16]) {
    let mut seed = env.random.to_be_bytes().to_vec();
    seed.extend_from_slice(&env.seed().to_be_bytes());
    let drawn = Hkdf::<Sha256>::new(None, &seed);
    let (mut ephemeral, mut salt) = ([0; 32], [0; 16]);
    drawn
        .expand(b"web push ephemeral key", &mut ephemeral)
        .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA-256 length"));
    drawn
        .expand(b"web push salt", &mut salt)
        .unwrap_or_else(|_| unreachable!("16 bytes is a valid HKDF-SHA-256 length"));
    (ephemeral, salt)
}
