//! What each fuzz target does with the bytes libFuzzer gives it: the
//! parsers that take outside input, called as the app calls them, and the
//! code that runs on what they accept. A target returns quietly on any
//! input; a panic, a hang or a runaway allocation is a finding.
//!
//! `fuzz/` wraps each function in a libFuzzer target (`fuzz/run` runs them
//! all); `tests/seeds.rs` replays `fuzz/seeds/{target}/` and
//! `fuzz/regressions/{target}/` (every crash found, kept under its own
//! name) through the same functions on stable Rust, in CI.

#![warn(missing_docs)]

use std::sync::LazyLock;

use base64::Engine as _;
use chrono::{DateTime, TimeZone as _, Utc};
use dapr::fakes::RecordingTransport;
use dapr::subscriber::Delivered;
use serde_json::value::RawValue;

/// What a target does with its input.
pub type Target = fn(&[u8]);

/// Every target, by name: what `fuzz/run` and the seed test go through.
pub const TARGETS: &[(&str, Target)] = &[
    ("task_body", task_body),
    ("list_query", list_query),
    ("bearer_token", bearer_token),
    ("signed_claims", signed_claims),
    ("rrule", rrule),
    ("cloud_event", cloud_event),
    ("chat_message", chat_message),
    ("mcp_request", mcp_request),
    ("import_file", import_file),
];

/// The instant every target takes as now.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0)
        .single()
        .unwrap_or_default()
}

/// A task body, as `POST`, `PUT` and `PATCH /api/{user}/tasks...` read it:
/// JSON with no key twice, then a create or replace body, then a patch
/// applied to what the create made.
pub fn task_body(data: &[u8]) {
    let Ok(body) = tasks::task::input::parse_json(data) else {
        return;
    };
    let now = now();
    if let Ok(spec) = tasks::TaskSpec::parse(&body)
        && let Ok(mut task) = spec.create(tasks::TaskId::new(now, 1), now)
    {
        if let Ok(again) = tasks::TaskSpec::parse(&body) {
            let _ = again.replace(&mut task, now);
        }
        if let Ok(patch) = tasks::TaskPatch::parse(&body) {
            let _ = patch.apply(&mut task, now);
        }
        let _ = tasks::task::repeat::preview(&task, 5);
    } else if let Ok(patch) = tasks::TaskPatch::parse(&body) {
        let _ = patch;
    }
}

/// A listing's query string (`GET /api/{user}/tasks?...`), with its due
/// window worked out in a zone far from UTC, and the same bytes as a
/// cursor, which the API reads from base64 JSON. A query that parses, kept
/// as a saved view's filter, reads back as the same filter.
pub fn list_query(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(mut query) = tasks::ListQuery::parse(text)
    {
        let kept = query.filter();
        let read = tasks::ListQuery::parse_filter(&kept, "filter").map(|q| q.filter());
        assert_eq!(
            read.as_ref(),
            Ok(&kept),
            "a saved filter reads back as written"
        );
        let zone = tasks::TimeZone::parse("Pacific/Kiritimati").unwrap_or_default();
        query.resolve(now(), zone);
        let _ = query.page::<tasks::Task>(&[], now());
    }
    let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data);
    let _ = tasks::ListQuery::parse(&format!("sort=due_at&cursor={cursor}"));
}

/// The secret the token targets sign and check with.
const SECRET: &[u8] = b"fuzzing-secret-of-32-bytes-or-so!";

/// An `Authorization` header as the API and the MCP endpoint check it.
pub fn bearer_token(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = now();
    let _ = auth::authenticate(Some(text), SECRET, now);
    let _ = auth::authorize(Some(&format!("Bearer {text}")), SECRET, "alice", now);
    let _ = auth::UserId::parse(text);
}

/// Claims of the fuzzer's choosing, validly signed: what lies past the
/// signature check (a random token never gets there).
pub fn signed_claims(data: &[u8]) {
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET);
    let Ok(token) = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key) else {
        return;
    };
    let header = format!("Bearer {token}");
    let _ = auth::authorize(Some(&header), SECRET, "alice", now());
}

/// An RRULE body and the first occurrences it gives from now, in a zone the
/// first byte picks.
pub fn rrule(data: &[u8]) {
    let Some((zone, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let _ = tasks::task::model::Recurrence::parse(text);
    let Ok(rule) = recurrence::Rule::parse(text) else {
        return;
    };
    let zones = chrono_tz::TZ_VARIANTS;
    let zone = zones[usize::from(*zone) % zones.len()];
    let start = zone.from_utc_datetime(&now().naive_utc());
    for _ in rule.occurrences(start).take(20) {}
}

/// What daprd delivers: a CloudEvent whose data is a task event or a
/// reminder, and a job callback's body; then what the handlers work out
/// from a task event before they touch the store.
pub fn cloud_event(data: &[u8]) {
    if let Ok(delivered) = Delivered::<Box<RawValue>>::parse(data) {
        if let Ok(event) = serde_json::from_str::<tasks::task::change::Event>(delivered.data.get())
        {
            let _ = tasks::reminders::plan(&event);
            if event.event_type == events::TaskEventType::Completed {
                let now = now();
                let _ = tasks::task::repeat::next(&event.task, tasks::TaskId::new(now, 2), now);
            }
        }
        let _ = serde_json::from_str::<events::ReminderDue>(delivered.data.get());
    }
    let _ = dapr::jobs::triggered::<tasks::reminders::Armed>(data);
}

/// The tasks the chat target's messages may refer to.
static LISTING: LazyLock<Vec<language::Listed>> = LazyLock::new(|| {
    ["Buy milk", "Call Bob about the report", "Pay rent"]
        .iter()
        .enumerate()
        .map(|(n, title)| language::Listed {
            id: format!("01KJ00000000000000000000{n:02}"),
            title: (*title).to_owned(),
        })
        .collect()
});

/// A chat message through the built-in language engine, within the API's
/// length limit.
pub fn chat_message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.chars().count() > 2000 {
        return;
    }
    let context = language::Context::new(now(), chrono_tz::America::New_York, &LISTING);
    let _ = language::read(text, &context);
}

/// A JSON-RPC request to `/mcp`, signed in, through the whole endpoint,
/// its tasks in SQLite in memory; its calls to daprd are answered "nothing
/// there" by a fake.
pub fn mcp_request(data: &[u8]) {
    let transport = RecordingTransport::answering(std::iter::repeat_n((204, ""), 64));
    let variable = |name: &str| -> Result<String, tasks::limits::BadLimit> {
        Ok(match name {
            "auth_jwt_secret" => String::from_utf8_lossy(SECRET).into_owned(),
            "dapr_url" => "http://dapr".into(),
            "dapr_api_token" | "database_url" => String::new(),
            "event_pubsub" | "repeat_pubsub" | "reminder_change_pubsub" | "reminder_pubsub" => {
                "pubsub".into()
            }
            "topic_prefix" => String::new(),
            name if name.starts_with("max_") || name.ends_with("_per_minute") => String::new(),
            _ => "fuzzing".into(),
        })
    };
    let open: sql::Open = |_| Ok(Box::new(sql::native::Sqlite::in_memory()?));
    let Ok(api) = tasks::McpApi::from_variables(&transport, open, variable) else {
        return;
    };
    let now = now();
    let Some(user) = auth::UserId::parse("alice") else {
        return;
    };
    let Ok(token) = auth::issue(&user, SECRET, now, 3600) else {
        return;
    };
    let Ok(request) = http::Request::post("/mcp")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(data.to_vec())
    else {
        return;
    };
    let _ = futures::executor::block_on(api.handle(request, tasks::Env::new(now, 1, 2)));
}

/// A file to import, as `POST /api/{user}/import` reads it: as Todoist's
/// CSV export, its tasks then written as a calendar feed (whose lines stay
/// within RFC 5545's 75 octets whatever the text), and as this app's own
/// JSON export.
pub fn import_file(data: &[u8]) {
    let env = tasks::Env::new(now(), 1, 2);
    let zone = tasks::TimeZone::UTC;
    if let Ok(plan) = tasks::import::todoist::plan(data, "Home", &[], zone, &env) {
        let scheduled: Vec<_> = plan.tasks.into_iter().map(|p| (p.task, 1)).collect();
        let feed = tasks::calendar::render(&scheduled);
        assert!(
            feed.split("\r\n")
                .all(|line| line.len() <= ical::LINE_OCTETS),
            "a feed line over 75 octets"
        );
    }
    let _ = tasks::import::backup::plan(data, &[], &Default::default(), &env);
}
