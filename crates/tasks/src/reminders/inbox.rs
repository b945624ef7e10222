//! A user's inbox (table `notifications`): the reminders that fired, one
//! notification each however often a reminder is delivered (by reminder
//! id, so newest first is latest `remind_at` first), each read or unread.
//! It keeps a user's newest [`KEPT`] notifications; the task's history is
//! the lasting record.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sql::{Database, Finish, Params, Value, transaction};

use crate::UserId;
use crate::error::{FieldError, Problem, TaskError};
use crate::service::{ATTEMPTS, retry_sync};
use crate::task::page::PageQuery;
use crate::task::store::{self, Storage};
use events::{ReminderDue, ReminderId, TaskId};

/// How many notifications an inbox keeps: the oldest go beyond it.
pub const KEPT: usize = 500;

/// A reminder that fired, as its user's inbox holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The reminder's id.
    pub id: ReminderId,
    /// The task it reminds of.
    pub task_id: TaskId,
    /// The task's title when the reminder fired.
    pub title: String,
    /// When the task is due, in its time zone, if it has a due date.
    pub due_at: Option<DateTime<FixedOffset>>,
    /// When the reminder was meant to fire.
    pub remind_at: DateTime<Utc>,
    /// When it reached the inbox.
    pub delivered_at: DateTime<Utc>,
    /// Whether its user has marked it read.
    pub read: bool,
    /// How its webhook call went, when its user has a webhook.
    #[serde(default)]
    pub webhook: Option<WebhookState>,
    /// How its push to each of its user's browsers went.
    #[serde(default)]
    pub pushes: Vec<PushState>,
}

/// How the push of a notification to one browser went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushState {
    /// The browser's subscription.
    pub subscription_id: String,
    /// Where it stands.
    pub status: PushStatus,
    /// How many tries were made.
    pub attempts: u32,
    /// Why the last try failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Where a push stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushStatus {
    /// Not yet made, or to be tried again.
    Pending,
    /// The push service took it.
    Delivered,
    /// The push service said the subscription is gone (404 or 410), or
    /// the user removed it: the subscription is removed.
    Gone,
    /// Given up after the last try.
    Failed,
}

/// How the webhook call of a notification went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookState {
    /// Where it stands.
    pub status: WebhookStatus,
    /// How many tries were made.
    pub attempts: u32,
    /// Why the last try failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Where a webhook call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookStatus {
    /// Not yet made, or to be tried again.
    Pending,
    /// The receiver took it (a 2xx answer).
    Delivered,
    /// Given up after the last try.
    Failed,
}

/// What a page of the inbox asks for: `limit`, `cursor`, `unread`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxQuery {
    /// The page's size and start.
    pub page: PageQuery<ReminderId>,
    /// Only the unread ones (`unread=true`).
    pub unread_only: bool,
}

impl InboxQuery {
    /// Parses a URL query string such as `unread=true&limit=20`.
    pub fn parse(query: &str) -> Result<Self, FieldError> {
        let mut unread_only = false;
        let page = PageQuery::parse(
            query,
            ReminderId::parse,
            "limit, cursor, unread",
            |name, value| match (name, value) {
                ("unread", "true" | "false") => {
                    unread_only = value == "true";
                    Ok(true)
                }
                ("unread", got) => Err(Problem::NotOneOf {
                    allowed: "true, false",
                    got: got.to_owned(),
                }),
                _ => Ok(false),
            },
        )?;
        Ok(Self { page, unread_only })
    }
}

/// A page of an inbox, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    /// The notifications.
    pub notifications: Vec<Notification>,
    /// Where the next (older) page starts; `None` on the last page.
    pub next_cursor: Option<ReminderId>,
}

/// Puts reminder `due` in its user's inbox, delivered at `now`, unless it
/// is there, with its webhook call pending when `webhook` (the user has a
/// webhook) and a push pending to each of `devices` (the user's push
/// subscriptions), and in the user's change feed with it (one transaction,
/// so that open pages learn of it); answers the notification as the inbox
/// holds it.
pub fn record(
    storage: &Storage,
    due: &ReminderDue,
    now: DateTime<Utc>,
    webhook: bool,
    devices: &[String],
) -> Result<Notification, TaskError> {
    let user = &due.user_id;
    let notification = Notification {
        id: due.reminder_id,
        task_id: due.task_id,
        title: due.title.clone(),
        due_at: due.due_at,
        remind_at: due.remind_at,
        delivered_at: now,
        read: false,
        webhook: webhook.then_some(WebhookState {
            status: WebhookStatus::Pending,
            attempts: 0,
            last_error: None,
        }),
        pushes: (devices.iter())
            .map(|id| PushState {
                subscription_id: id.clone(),
                status: PushStatus::Pending,
                attempts: 0,
                last_error: None,
            })
            .collect(),
    };
    let body = encode(&notification)?;
    let key = [
        Value::from(user.as_str()),
        due.reminder_id.to_string().into(),
    ];
    let put = retry_sync(store::ATTEMPTS, || {
        transaction(storage, |db| {
            let put = db.execute(
                "INSERT INTO notifications (user_id, id, version, read, body) \
                 VALUES ($1, $2, 1, FALSE, $3) ON CONFLICT (user_id, id) DO NOTHING",
                &[key[0].clone(), key[1].clone(), body.as_str().into()],
            )?;
            if put == 0 {
                return Ok(Finish::Rollback(false));
            }
            // The oldest beyond what an inbox keeps go.
            db.execute(
                "DELETE FROM notifications WHERE user_id = $1 AND id <= (SELECT id \
                 FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
                &[
                    key[0].clone(),
                    i64::try_from(KEPT).unwrap_or(i64::MAX).into(),
                ],
            )?;
            storage.tasks(user).reminded(due)?;
            Ok(Finish::Commit(true))
        })
    })?;
    if put {
        return Ok(notification);
    }
    Ok(find(storage, user, due.reminder_id)?.unwrap_or(notification))
}

/// Notification `id` of `user`, if the inbox holds it.
pub fn find(
    storage: &Storage,
    user: &UserId,
    id: ReminderId,
) -> Result<Option<Notification>, TaskError> {
    Ok(read(storage, user, id)?.map(|(notification, _)| notification))
}

/// Changes notification `id` of `user` with `change`, which answers whether
/// it changed anything; answers the notification as it is now.
pub fn update(
    storage: &Storage,
    user: &UserId,
    id: ReminderId,
    change: impl Fn(&mut Notification) -> bool,
) -> Result<Notification, TaskError> {
    retry_sync(ATTEMPTS, || {
        let (mut notification, version) = read(storage, user, id)?.ok_or(TaskError::NotFound)?;
        if !change(&mut notification) {
            return Ok(notification);
        }
        // Only over the version read: a write in between is a race lost.
        let written = storage.execute(
            "UPDATE notifications SET version = version + 1, read = $4, body = $5 \
             WHERE user_id = $1 AND id = $2 AND version = $3",
            &[
                user.as_str().into(),
                id.to_string().into(),
                version.into(),
                notification.read.into(),
                encode(&notification)?.into(),
            ],
        )?;
        match written {
            0 => Err(TaskError::Conflict),
            _ => Ok(notification),
        }
    })
}

/// The page of `user`'s inbox that `query` asks for.
pub fn page(storage: &Storage, user: &UserId, query: &InboxQuery) -> Result<Page, TaskError> {
    let mut params = Params::default();
    let mut statement = format!(
        "SELECT body FROM notifications WHERE user_id = {}",
        params.add(user.as_str())
    );
    if query.unread_only {
        statement.push_str(" AND read = FALSE");
    }
    if let Some(cursor) = query.page.cursor {
        statement.push_str(&format!(" AND id < {}", params.add(cursor.to_string())));
    }
    let limit = query.page.limit;
    let most = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
    statement.push_str(&format!(" ORDER BY id DESC LIMIT {}", params.add(most)));
    let rows = storage.query(&statement, params.values())?;
    let mut notifications = rows
        .iter()
        .map(|row| decode(row.text(0)?))
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = (notifications.len() > limit)
        .then(|| {
            notifications.truncate(limit);
            notifications.last().map(|n| n.id)
        })
        .flatten();
    Ok(Page {
        notifications,
        next_cursor,
    })
}

/// Marks notification `id` of `user` read or unread, as `body`
/// (`{"read": true|false}`) says; answers it as it is now.
pub fn mark(
    storage: &Storage,
    user: &UserId,
    id: ReminderId,
    body: &Json,
) -> Result<Notification, TaskError> {
    let read = parse_mark(body)?;
    update(storage, user, id, |notification| {
        let changed = notification.read != read;
        notification.read = read;
        changed
    })
}

/// The `read` of a `PATCH` body, the only field it may name.
fn parse_mark(body: &Json) -> Result<bool, FieldError> {
    let Json::Object(fields) = body else {
        let expected = "a JSON object such as {\"read\": true}";
        return Err(FieldError::new("body", Problem::WrongType { expected }));
    };
    if let Some(name) = fields.keys().find(|name| *name != "read") {
        let problem = Problem::UnknownField { known: "read" };
        return Err(FieldError::new(name.clone(), problem));
    }
    match fields.get("read") {
        Some(Json::Bool(read)) => Ok(*read),
        Some(_) => Err(FieldError::new(
            "read",
            Problem::WrongType {
                expected: "true or false",
            },
        )),
        None => Err(FieldError::new("read", Problem::Missing)),
    }
}

/// Notification `id` of `user` and its version, if the inbox holds it.
fn read(
    storage: &Storage,
    user: &UserId,
    id: ReminderId,
) -> Result<Option<(Notification, i64)>, TaskError> {
    let rows = storage.query(
        "SELECT body, version FROM notifications WHERE user_id = $1 AND id = $2",
        &[user.as_str().into(), id.to_string().into()],
    )?;
    rows.first()
        .map(|row| Ok((decode(row.text(0)?)?, row.int(1)?)))
        .transpose()
}

fn encode(notification: &Notification) -> Result<String, TaskError> {
    serde_json::to_string(notification)
        .map_err(|e| TaskError::Unavailable(format!("cannot encode a notification: {e}")))
}

fn decode(body: &str) -> Result<Notification, TaskError> {
    serde_json::from_str(body)
        .map_err(|e| TaskError::Unavailable(format!("a stored notification is unreadable: {e}")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A database with the app's schema (SQLite in memory).
    fn storage() -> Storage {
        let db = sql::native::Sqlite::in_memory().expect("a database");
        Storage::of(Box::new(db)).expect("migrated")
    }

    fn alice() -> UserId {
        UserId::parse("alice").expect("a user id")
    }

    fn due(task: u128, minute: i64) -> ReminderDue {
        let created = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let task_id = TaskId::new(created, task);
        let remind_at = created + chrono::Duration::minutes(minute);
        ReminderDue {
            reminder_id: ReminderId::of(task_id, 0, remind_at),
            task_id,
            user_id: alice(),
            title: format!("task {task}"),
            due_at: None,
            remind_at,
        }
    }

    fn ids(page: &Page) -> Vec<String> {
        page.notifications.iter().map(|n| n.title.clone()).collect()
    }

    #[test]
    fn a_reminder_delivered_twice_is_in_the_inbox_once() {
        let store = storage();
        let now = DateTime::from_timestamp(1_800_000_600, 0).unwrap_or_default();
        let first = record(&store, &due(1, 5), now, true, &[]).expect("recorded");
        let later = now + chrono::Duration::seconds(1);
        let again = record(&store, &due(1, 5), later, true, &[]).expect("recorded");
        assert_eq!(again, first, "the first delivery stands");
        assert_eq!(
            first.webhook.map(|w| w.status),
            Some(WebhookStatus::Pending)
        );
        record(&store, &due(1, 6), now, false, &[]).expect("a later one");
        let all = InboxQuery::parse("").expect("valid");
        let page = page(&store, &alice(), &all).expect("a page");
        assert_eq!(ids(&page), ["task 1", "task 1"]);
    }

    #[test]
    fn read_ones_can_be_left_out_and_a_mark_is_kept() {
        let store = storage();
        let now = DateTime::from_timestamp(1_800_000_600, 0).unwrap_or_default();
        for task in 1..=3 {
            record(&store, &due(task, task as i64), now, false, &[]).expect("recorded");
        }
        let second = due(2, 2).reminder_id;
        let marked = mark(&store, &alice(), second, &json!({"read": true}));
        assert_eq!(marked.map(|n| n.read), Ok(true));
        // Delivered again after it was read: it stays read.
        record(&store, &due(2, 2), now, false, &[]).expect("recorded");
        let unread = InboxQuery::parse("unread=true").expect("valid");
        let page = page(&store, &alice(), &unread).expect("a page");
        assert_eq!(ids(&page), ["task 3", "task 1"]);
        let nobody = UserId::parse("bob").expect("a user id");
        let theirs = mark(&store, &nobody, second, &json!({"read": true}));
        assert_eq!(
            theirs,
            Err(TaskError::NotFound),
            "another user's inbox is theirs"
        );
    }

    #[test]
    fn bad_marks_and_queries_name_the_field() {
        let field = |body: Json| parse_mark(&body).map_err(|e| e.field);
        assert_eq!(field(json!({"read": "yes"})), Err("read".into()));
        assert_eq!(field(json!({})), Err("read".into()));
        assert_eq!(
            field(json!({"read": true, "title": "x"})),
            Err("title".into())
        );
        assert_eq!(field(json!([true])), Err("body".into()));
        let query = |q: &str| InboxQuery::parse(q).map_err(|e| e.field);
        assert_eq!(query("unread=yes"), Err("unread".into()));
        assert_eq!(query("cursor=x"), Err("cursor".into()));
    }

    #[test]
    fn the_oldest_go_beyond_what_is_kept() {
        let store = storage();
        let now = DateTime::from_timestamp(1_800_000_600, 0).unwrap_or_default();
        for minute in 0..=KEPT as i64 {
            record(&store, &due(1, minute), now, false, &[]).expect("recorded");
        }
        let all = InboxQuery::parse("limit=200").expect("valid");
        let mut seen = 0;
        let mut query = all;
        loop {
            let page = page(&store, &alice(), &query).expect("a page");
            seen += page.notifications.len();
            match page.next_cursor {
                Some(cursor) => query.page.cursor = Some(cursor),
                None => break,
            }
        }
        assert_eq!(seen, KEPT);
    }
}
