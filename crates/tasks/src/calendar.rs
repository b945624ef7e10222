//! A user's calendar feed (ADR 25): their pending tasks that have a due
//! date as an iCalendar file at a secret address, `/ical/{token}.ics`, for
//! Google Calendar, Apple Calendar or Outlook to subscribe to.
//!
//! The token is the only credential a calendar app can send, so it is a
//! credential of its own: 256 random bits, made (and shown) once, replaced
//! by the next one made, revoked at will. Only its SHA-256 is kept.
//!
//! A task is one `VEVENT`: at its due time in its zone (a `VTIMEZONE` of
//! each zone named), a repeating one with its rule (its series from its own
//! due date on, as the task carries it: occurrences done are not part of it,
//! so no `EXDATE` is needed), its reminders as `VALARM`s, its id as `UID`
//! and its version as `SEQUENCE`. The body is a function of the tasks
//! alone, so it is its own `ETag`.

use chrono::{DateTime, Datelike, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use ical::Writer;
use sha2::{Digest, Sha256};
use sql::Database;

use crate::error::TaskError;
use crate::task::model::{Priority, ReminderTime};
use crate::task::once::hex;
use crate::task::store::Storage;
use crate::{Task, UserId};

/// How many years of a zone's offset changes a `VTIMEZONE` carries after
/// the year of the last task due in it (a repeating task goes on).
const ZONE_YEARS_AHEAD: i32 = 10;

/// A feed as answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// The iCalendar file.
    pub body: String,
    /// A strong validator: the body's SHA-256, quoted.
    pub etag: String,
    /// When the user's tasks last changed (or the address was made).
    pub last_modified: DateTime<Utc>,
}

/// The address of a feed just made: shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    /// The token, the last segment of the address without `.ics`.
    pub token: String,
    /// When it was made.
    pub made_at: DateTime<Utc>,
}

/// The path a feed is read at.
pub fn path(token: &str) -> String {
    format!("/ical/{token}.ics")
}

/// Makes `user` a new feed address from 256 random bits, `random` and
/// `more`; the address they had stops working.
pub fn make(
    storage: &Storage,
    user: &UserId,
    random: u128,
    more: u128,
    now: DateTime<Utc>,
) -> Result<Made, TaskError> {
    let token = format!("{random:032x}{more:032x}");
    storage.execute(
        "INSERT INTO calendar_feeds (user_id, token_hash, made_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, \
         made_at = excluded.made_at",
        &[
            user.as_str().into(),
            fingerprint(&token).into(),
            now.timestamp_micros().into(),
        ],
    )?;
    Ok(Made {
        token,
        made_at: now,
    })
}

/// When `user`'s feed address was made, if they have one.
pub fn made_at(storage: &Storage, user: &UserId) -> Result<Option<DateTime<Utc>>, TaskError> {
    let rows = storage.query(
        "SELECT made_at FROM calendar_feeds WHERE user_id = $1",
        &[user.as_str().into()],
    )?;
    rows.first()
        .map(|row| Ok(DateTime::from_timestamp_micros(row.int(0)?).unwrap_or_default()))
        .transpose()
}

/// Revokes `user`'s feed address, if they have one.
pub fn revoke(storage: &Storage, user: &UserId) -> Result<(), TaskError> {
    storage.execute(
        "DELETE FROM calendar_feeds WHERE user_id = $1",
        &[user.as_str().into()],
    )?;
    Ok(())
}

/// The feed at address `token`, if it is one.
pub fn read(storage: &Storage, token: &str) -> Result<Option<Feed>, TaskError> {
    let rows = storage.query(
        "SELECT f.user_id, f.made_at, (SELECT at FROM changes AS c WHERE c.user_id = f.user_id \
         ORDER BY seq DESC LIMIT 1) FROM calendar_feeds AS f WHERE f.token_hash = $1",
        &[fingerprint(token).into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let user = UserId::parse(row.text(0)?)
        .ok_or_else(|| TaskError::Unavailable("a feed's user is unreadable".into()))?;
    let changed = row.opt_int(2)?.unwrap_or_default().max(row.int(1)?);
    let body = render(&storage.tasks(&user).scheduled()?);
    Ok(Some(Feed {
        etag: format!("\"{}\"", hex(&Sha256::digest(&body))),
        last_modified: DateTime::from_timestamp_micros(changed).unwrap_or_default(),
        body,
    }))
}

/// What is kept of a token.
fn fingerprint(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The iCalendar file of `tasks` (pending, with due dates, each with its
/// version).
pub fn render(tasks: &[(Task, i64)]) -> String {
    let mut w = Writer::new();
    w.begin("VCALENDAR")
        .property("VERSION", &[], "2.0")
        .property("PRODID", &[], "-//todo-chatbot//calendar feed//EN")
        .property("CALSCALE", &[], "GREGORIAN")
        .property("METHOD", &[], "PUBLISH")
        .text("X-WR-CALNAME", "Tasks")
        .property("X-PUBLISHED-TTL", &[], "PT1H")
        .property("REFRESH-INTERVAL", &[("VALUE", "DURATION")], "PT1H");
    for (zone, first, last) in zones(tasks) {
        w.vtimezone(zone, first, last + ZONE_YEARS_AHEAD);
    }
    for (task, version) in tasks {
        event(&mut w, task, *version);
    }
    w.end("VCALENDAR");
    w.finish()
}

/// The zones tasks are due in (UTC needs no `VTIMEZONE`), each with the
/// first and last year a task is due in it, in the order first met.
fn zones(tasks: &[(Task, i64)]) -> Vec<(Tz, i32, i32)> {
    let mut zones: Vec<(Tz, i32, i32)> = Vec::new();
    for (task, _) in tasks {
        let (Some(due), zone) = (task.due_at, task.time_zone.tz()) else {
            continue;
        };
        let year = due.with_timezone(&zone).year();
        match zones.iter_mut().find(|(z, ..)| *z == zone) {
            Some((_, first, last)) => {
                *first = (*first).min(year);
                *last = (*last).max(year);
            }
            None if zone != Tz::UTC => zones.push((zone, year, year)),
            None => {}
        }
    }
    zones
}

/// `task` as a `VEVENT`.
fn event(w: &mut Writer, task: &Task, version: i64) {
    let Some(due) = task.due_at else {
        return;
    };
    let zone = task.time_zone.tz();
    w.begin("VEVENT")
        .property("UID", &[], &format!("{}@todo-chatbot", task.id))
        .utc("DTSTAMP", task.updated_at)
        .utc("CREATED", task.created_at)
        .utc("LAST-MODIFIED", task.updated_at)
        .property("SEQUENCE", &[], &(version - 1).max(0).to_string())
        .zoned("DTSTART", due, zone)
        .text("SUMMARY", task.title.as_str());
    if let Some(description) = &task.description {
        w.text("DESCRIPTION", description.as_str());
    }
    if !task.tags.is_empty() {
        w.texts("CATEGORIES", task.tags.iter().map(|tag| tag.as_str()));
    }
    // RFC 5545, 3.8.1.9: 1 is the highest, 5 medium, 9 the lowest.
    let priority = match task.priority {
        Priority::High => Some("1"),
        Priority::Medium => Some("5"),
        Priority::Low => Some("9"),
        Priority::None => None,
    };
    if let Some(priority) = priority {
        w.property("PRIORITY", &[], priority);
    }
    // A due time takes no time of anyone's day.
    w.property("TRANSP", &[], "TRANSPARENT");
    if let Some(rule) = rule(task) {
        w.property("RRULE", &[], &rule);
    }
    for reminder in &task.reminders {
        w.begin("VALARM").property("ACTION", &[], "DISPLAY");
        w.text("DESCRIPTION", task.title.as_str());
        match reminder.time {
            ReminderTime::MinutesBefore { minutes_before: 0 } => {
                w.property("TRIGGER", &[], "PT0S");
            }
            ReminderTime::MinutesBefore { minutes_before } => {
                w.property("TRIGGER", &[], &format!("-PT{minutes_before}M"));
            }
            ReminderTime::At { at } => {
                w.property(
                    "TRIGGER",
                    &[("VALUE", "DATE-TIME")],
                    &ical::utc(at.to_utc()),
                );
            }
        }
        w.end("VALARM");
    }
    w.end("VEVENT");
}

/// `task`'s rule as an `RRULE` whose expansion from the task's due date
/// is the task and the occurrences the app makes after it:
///
/// - `UNTIL` in UTC, as RFC 5545 asks with a zoned `DTSTART` (a date
///   `UNTIL` is the end of that day in the task's zone, as the app reads it);
/// - a due date the rule does not match is an occurrence in RFC 5545, but
///   the app's engine, as dateutil, leaves it out of the series (though the
///   task is due then), and readers differ on whether it counts towards
///   `COUNT` (RFC 5545: "always counts as the first occurrence";
///   `recurring-ical-events`, on dateutil: not). Such a `COUNT` becomes the
///   `UNTIL` of the series' last occurrence, which both read alike.
fn rule(task: &Task) -> Option<String> {
    let (recurrence, due) = (task.recurrence.as_ref()?, task.due_at?);
    let rule = recurrence.rule();
    let start = due.with_timezone(&task.time_zone.tz());
    let matched =
        (rule.occurrences(start).next()).is_some_and(|first| first.timestamp() == due.timestamp());
    let until = match (rule.count(), rule.until()) {
        (Some(_), _) if !matched => rule.occurrences(start).last().map(|at| at.to_utc()),
        (_, Some(recurrence::Until::Instant(at))) => Some(at),
        (_, Some(recurrence::Until::Date(day))) => {
            let end = (day.and_hms_opt(23, 59, 59)).unwrap_or_else(|| day.and_time(NaiveTime::MIN));
            let zone = start.timezone();
            Some((zone.from_local_datetime(&end).latest()).map_or(end.and_utc(), |at| at.to_utc()))
        }
        _ => None,
    };
    let mut parts: Vec<String> = (recurrence.as_str().split(';'))
        .map(|part| part.trim().to_ascii_uppercase())
        .filter(|part| !part.is_empty() && !part.starts_with("UNTIL="))
        .filter(|part| matched || !part.starts_with("COUNT="))
        .collect();
    parts.extend(until.map(|at| format!("UNTIL={}", ical::utc(at))));
    Some(parts.join(";"))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::TaskSpec;
    use crate::service::Env;
    use crate::testing::{database, user};

    fn at(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.to_utc())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn storage() -> Storage {
        Storage::of(Box::new(database())).unwrap_or_else(|e| panic!("{e}"))
    }

    fn create(storage: &Storage, who: &UserId, n: u128, body: Value) {
        let spec = TaskSpec::parse(&body).unwrap_or_else(|e| panic!("{e}"));
        let env = Env::new(at("2026-12-01T08:00:00Z"), n, n ^ 0x5eed);
        (storage.tasks(who).create(spec, &env)).unwrap_or_else(|e| panic!("{e}"));
    }

    /// The feed's unfolded lines.
    fn lines(body: &str) -> Vec<String> {
        body.replace("\r\n ", "")
            .split("\r\n")
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn event_lines(storage: &Storage, who: &UserId) -> Vec<String> {
        let body = render(
            &storage
                .tasks(who)
                .scheduled()
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let all = lines(&body);
        let start = all.iter().position(|l| l == "BEGIN:VEVENT").unwrap_or(0);
        all[start..].to_vec()
    }

    #[test]
    fn a_repeating_task_is_one_event_in_its_zone_with_its_rule_and_reminders() {
        let (storage, alice) = (storage(), user("alice"));
        create(
            &storage,
            &alice,
            1,
            json!({
                "title": "Water the plants, then rest; really",
                "description": "Both balconies\nand the kitchen",
                "priority": "high",
                "tags": ["home", "garden"],
                "due_at": "2027-03-22T09:00:00+01:00",
                "time_zone": "Europe/Berlin",
                "recurrence": "freq=weekly;byday=mo;until=20270501",
                "reminders": [{"minutes_before": 15}, {"at": "2027-03-22T07:00:00+01:00"}]
            }),
        );
        create(&storage, &alice, 2, json!({"title": "No date"}));
        let task = &storage
            .tasks(&alice)
            .scheduled()
            .unwrap_or_else(|e| panic!("{e}"))[0]
            .0;
        let uid = format!("UID:{}@todo-chatbot", task.id);
        assert_eq!(
            event_lines(&storage, &alice),
            [
                "BEGIN:VEVENT",
                &uid,
                "DTSTAMP:20261201T080000Z",
                "CREATED:20261201T080000Z",
                "LAST-MODIFIED:20261201T080000Z",
                "SEQUENCE:0",
                "DTSTART;TZID=Europe/Berlin:20270322T090000",
                "SUMMARY:Water the plants\\, then rest\\; really",
                "DESCRIPTION:Both balconies\\nand the kitchen",
                "CATEGORIES:home,garden",
                "PRIORITY:1",
                "TRANSP:TRANSPARENT",
                // The end of 1 May in Berlin, in UTC.
                "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270501T215959Z",
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "DESCRIPTION:Water the plants\\, then rest\\; really",
                "TRIGGER:-PT15M",
                "END:VALARM",
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "DESCRIPTION:Water the plants\\, then rest\\; really",
                "TRIGGER;VALUE=DATE-TIME:20270322T060000Z",
                "END:VALARM",
                "END:VEVENT",
                "END:VCALENDAR",
            ]
        );
    }

    #[test]
    fn a_due_date_the_rule_does_not_match_ends_its_series_by_until() {
        // RFC 5545, 3.8.5.3: "The "DTSTART" property value always counts as
        // the first occurrence." The app's engine leaves a due date the rule
        // does not match out of the series (the task is due then all the
        // same), and dateutil's readers don't count it: the series ends at
        // its last occurrence instead.
        let (storage, bob) = (storage(), user("bob"));
        create(
            &storage,
            &bob,
            3,
            json!({
                "title": "Tuesday, then Mondays",
                "due_at": "2027-01-05T10:00:00Z",
                "recurrence": "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
            }),
        );
        create(
            &storage,
            &bob,
            4,
            json!({
                "title": "Mondays",
                "due_at": "2027-01-04T10:00:00Z",
                "recurrence": "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
            }),
        );
        let events = event_lines(&storage, &bob);
        let rules: Vec<&String> = events.iter().filter(|l| l.starts_with("RRULE")).collect();
        assert_eq!(
            rules,
            [
                "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3",
                "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270125T100000Z"
            ]
        );
        assert!(
            events.contains(&"DTSTART:20270105T100000Z".to_owned()),
            "UTC needs no zone"
        );
        let body = render(
            &storage
                .tasks(&bob)
                .scheduled()
                .unwrap_or_else(|e| panic!("{e}")),
        );
        assert!(!body.contains("VTIMEZONE"), "no zone but UTC");
    }

    #[test]
    fn only_the_latest_address_reads_and_only_its_users_tasks() {
        let (storage, alice, bob) = (storage(), user("alice"), user("bob"));
        create(
            &storage,
            &alice,
            5,
            json!({"title": "Alice's", "due_at": "2027-01-04T10:00:00Z"}),
        );
        create(
            &storage,
            &bob,
            6,
            json!({"title": "Bob's", "due_at": "2027-01-04T10:00:00Z"}),
        );
        let now = at("2026-12-02T08:00:00Z");
        let first = make(&storage, &alice, 7, 8, now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.token.len(), 64);
        let read = |token: &str| read(&storage, token).unwrap_or_else(|e| panic!("{e}"));
        let feed = read(&first.token).unwrap_or_else(|| panic!("a feed"));
        assert!(feed.body.contains("SUMMARY:Alice's") && !feed.body.contains("Bob's"));
        assert_eq!(feed.last_modified, now, "made after the last change");
        assert_eq!(
            read(&first.token),
            Some(feed.clone()),
            "the same body, the same ETag"
        );
        let second = make(&storage, &alice, 9, 10, now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read(&first.token), None, "rotated");
        assert!(read(&second.token).is_some());
        assert_eq!(made_at(&storage, &alice).ok().flatten(), Some(now));
        revoke(&storage, &alice).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read(&second.token), None, "revoked");
        assert_eq!(made_at(&storage, &alice).ok().flatten(), None);
    }
}
