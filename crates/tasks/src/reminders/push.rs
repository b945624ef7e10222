//! Web Push subscriptions: the browsers (devices) a user's reminders are
//! pushed to (table `push_subscriptions`). A subscription is what the
//! browser's `PushSubscription.toJSON()` gives: an endpoint on its push
//! service and its keys (`p256dh`, `auth`), checked here as the
//! [`webpush`] crate reads them. The same endpoint subscribed again
//! replaces its keys; a user keeps at most [`MAX_PER_USER`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sql::{Database, Finish, Row, SqlError, transaction};

use crate::UserId;
use crate::error::{Exceeded, FieldError, Problem, TaskError};

mod deliver;

pub use deliver::{
    ACTION_SECONDS, JOB_PREFIX, Message, Sender, Try, action_scope, attempt, first_tries, schedule,
};

/// The most devices a user may subscribe.
pub const MAX_PER_USER: usize = 20;

/// The push services of the browsers people use, by host (`*.` for any
/// subdomain): Chrome's, Firefox's, Edge's and Safari's. The notifier's
/// `allowed_outbound_hosts` lists the same.
pub const PUSH_SERVICES: &str = "fcm.googleapis.com, updates.push.services.mozilla.com, \
*.notify.windows.com, web.push.apple.com";

/// A push endpoint that passed the checks: `https` on one of
/// [`PUSH_SERVICES`] (or plain HTTP to a loopback address where that is
/// allowed, for a push service on the same machine), without credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Endpoint(String);

impl Endpoint {
    /// Checks `raw`; `allow_loopback` as for webhooks
    /// (`webhooks_allow_loopback`).
    pub fn parse(raw: &str, allow_loopback: bool) -> Result<Self, Problem> {
        let url = url::Url::parse(raw).map_err(|e| Problem::BadUrl(e.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Problem::BadUrl(
                "it must not carry a user name or password".into(),
            ));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let loopback = super::user_settings::is_loopback(&url);
        let known = PUSH_SERVICES
            .split(", ")
            .any(|service| match service.strip_prefix("*.") {
                Some(domain) => host.ends_with(&format!(".{domain}")),
                None => host == service,
            });
        let here = loopback && allow_loopback;
        match url.scheme() {
            "https" if known || here => Ok(Self(url.into())),
            "http" if here => Ok(Self(url.into())),
            "http" if known => Err(Problem::NotHttps("http".into())),
            "https" | "http" => Err(Problem::NotAPushService(PUSH_SERVICES, host)),
            other => Err(Problem::NotHttps(other.to_owned())),
        }
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A subscription as given: `{"endpoint", "keys": {"p256dh", "auth"},
/// "expirationTime"?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Where the pushes go.
    pub endpoint: Endpoint,
    /// The browser's public key, URL-safe base64.
    pub p256dh: String,
    /// The browser's authentication secret, URL-safe base64.
    pub auth: String,
}

impl Subscribe {
    /// Parses a subscription's JSON, checking its keys.
    pub fn parse(body: &Value, allow_loopback: bool) -> Result<Self, FieldError> {
        let Value::Object(fields) = body else {
            let expected = "a JSON object";
            return Err(FieldError::new("body", Problem::WrongType { expected }));
        };
        let (mut endpoint, mut keys) = (None, None);
        for (name, value) in fields {
            let err = |problem| FieldError::new(name.as_str(), problem);
            match name.as_str() {
                "endpoint" => {
                    let text = value.as_str().ok_or(Problem::WrongType {
                        expected: "a string",
                    });
                    endpoint = Some(
                        text.and_then(|t| Endpoint::parse(t, allow_loopback))
                            .map_err(err)?,
                    );
                }
                "keys" => keys = Some(value),
                // The browser's own; a push service says when it ends.
                "expirationTime" => {}
                _ => {
                    let known = "endpoint, keys, expirationTime";
                    return Err(err(Problem::UnknownField { known }));
                }
            }
        }
        let endpoint = endpoint.ok_or(FieldError::new("endpoint", Problem::Missing))?;
        let keys = keys.ok_or(FieldError::new("keys", Problem::Missing))?;
        let key = |name: &'static str| -> Result<String, FieldError> {
            let field = format!("keys.{name}");
            match keys.get(name) {
                Some(Value::String(text)) => Ok(text.clone()),
                Some(_) => Err(FieldError::new(
                    field,
                    Problem::WrongType {
                        expected: "a string",
                    },
                )),
                None => Err(FieldError::new(field, Problem::Missing)),
            }
        };
        let (p256dh, auth) = (key("p256dh")?, key("auth")?);
        if let Err(err) = webpush::Subscriber::parse(&p256dh, &auth) {
            let field = match err {
                webpush::Error::AuthLength(_) => "keys.auth",
                webpush::Error::Base64(what) | webpush::Error::Key(what) => {
                    if what == "auth" {
                        "keys.auth"
                    } else {
                        "keys.p256dh"
                    }
                }
                _ => "keys",
            };
            return Err(FieldError::new(field, Problem::BadPushKey(err.to_string())));
        }
        Ok(Self {
            endpoint,
            p256dh,
            auth,
        })
    }
}

/// A subscription as answered (its keys stay with the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription {
    /// Its id: a ULID.
    pub id: String,
    /// Where the pushes go.
    pub endpoint: Endpoint,
    /// When it was first made.
    pub created_at: DateTime<Utc>,
    /// When its keys were last given.
    pub updated_at: DateTime<Utc>,
}

/// `user`'s subscriptions, the oldest first.
pub fn list<D: Database + ?Sized>(db: &D, user: &UserId) -> Result<Vec<Subscription>, TaskError> {
    let rows = db.query(
        "SELECT id, endpoint, created_at, updated_at FROM push_subscriptions \
         WHERE user_id = $1 ORDER BY id",
        &[user.as_str().into()],
    )?;
    rows.iter().map(read).collect()
}

/// Subscribes `given` for `user` at `now` with the id `id` (a new ULID),
/// or gives an endpoint subscribed before its new keys. Answers the
/// subscription and whether it is new.
pub fn subscribe<D: Database + ?Sized>(
    db: &D,
    user: &UserId,
    given: &Subscribe,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(Subscription, bool), TaskError> {
    let micros = now.timestamp_micros();
    let key: [sql::Value; 2] = [user.as_str().into(), given.endpoint.as_str().into()];
    transaction(db, |db| {
        let changed = db.execute(
            "UPDATE push_subscriptions SET p256dh = $3, auth = $4, updated_at = $5 \
             WHERE user_id = $1 AND endpoint = $2",
            &[
                key[0].clone(),
                key[1].clone(),
                given.p256dh.as_str().into(),
                given.auth.as_str().into(),
                micros.into(),
            ],
        )?;
        let new = changed == 0;
        if new {
            let rows = db.query(
                "SELECT count(*) FROM push_subscriptions WHERE user_id = $1",
                &key[..1],
            )?;
            let held = rows
                .first()
                .map(|row| row.int(0))
                .transpose()?
                .unwrap_or_default();
            if usize::try_from(held).unwrap_or(usize::MAX) >= MAX_PER_USER {
                return Err(TaskError::Exceeded(Exceeded::Devices(MAX_PER_USER)));
            }
            db.execute(
                "INSERT INTO push_subscriptions \
                 (user_id, id, endpoint, p256dh, auth, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
                &[
                    key[0].clone(),
                    id.into(),
                    key[1].clone(),
                    given.p256dh.as_str().into(),
                    given.auth.as_str().into(),
                    micros.into(),
                ],
            )
            .map_err(|e| match e {
                // Subscribed at the same moment by another request.
                SqlError::Unique(_) => TaskError::Conflict,
                other => other.into(),
            })?;
        }
        let rows = db.query(
            "SELECT id, endpoint, created_at, updated_at FROM push_subscriptions \
             WHERE user_id = $1 AND endpoint = $2",
            &key,
        )?;
        let subscription = read(rows.first().ok_or(TaskError::Conflict)?)?;
        Ok(Finish::Commit((subscription, new)))
    })
}

/// Removes `user`'s subscription `id`; `NotFound` when they have none such.
pub fn unsubscribe<D: Database + ?Sized>(db: &D, user: &UserId, id: &str) -> Result<(), TaskError> {
    let removed = db.execute(
        "DELETE FROM push_subscriptions WHERE user_id = $1 AND id = $2",
        &[user.as_str().into(), id.into()],
    )?;
    match removed {
        0 => Err(TaskError::NotFound),
        _ => Ok(()),
    }
}

/// A subscription with what a push to it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Where the pushes go.
    pub endpoint: String,
    /// The browser's public key.
    pub p256dh: String,
    /// The browser's authentication secret.
    pub auth: String,
}

/// The ids of `user`'s subscriptions, the oldest first.
pub fn ids<D: Database + ?Sized>(db: &D, user: &UserId) -> Result<Vec<String>, TaskError> {
    Ok(list(db, user)?.into_iter().map(|s| s.id).collect())
}

/// `user`'s subscription `id` with its keys, if they have it.
pub fn keys<D: Database + ?Sized>(
    db: &D,
    user: &UserId,
    id: &str,
) -> Result<Option<Device>, TaskError> {
    let rows = db.query(
        "SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE user_id = $1 AND id = $2",
        &[user.as_str().into(), id.into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(Device {
        endpoint: row.text(0)?.to_owned(),
        p256dh: row.text(1)?.to_owned(),
        auth: row.text(2)?.to_owned(),
    }))
}

/// Removes `user`'s subscription `id` if it is there (its push service
/// said it is gone).
pub fn forget<D: Database + ?Sized>(db: &D, user: &UserId, id: &str) -> Result<(), TaskError> {
    match unsubscribe(db, user, id) {
        Err(TaskError::NotFound) => Ok(()),
        other => other,
    }
}

/// The subscription in `row` (id, endpoint, created_at, updated_at).
fn read(row: Row<'_>) -> Result<Subscription, TaskError> {
    let unreadable = |what: &str| {
        TaskError::Unavailable(format!(
            "a stored push subscription has an unreadable {what}"
        ))
    };
    let instant = |column| -> Result<DateTime<Utc>, TaskError> {
        DateTime::from_timestamp_micros(row.int(column)?).ok_or_else(|| unreadable("time"))
    };
    Ok(Subscription {
        id: row.text(0)?.to_owned(),
        // Checked when it was stored; loopback endpoints too.
        endpoint: Endpoint(row.text(1)?.to_owned()),
        created_at: instant(2)?,
        updated_at: instant(3)?,
    })
}

#[cfg(test)]
mod tests;
