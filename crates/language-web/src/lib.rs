//! The chat's language engine ([`language::read`]) for the page: what a
//! line of text asks, read in the browser as the chat reads it, so that the
//! web app's quick add shows what it will create as the person types,
//! without a request (ADR 23).
//!
//! [`read_json`] takes and gives JSON; the module exports it to JavaScript
//! through [`abi`]'s three functions (no bindings generator: `web/language.js`
//! copies the input into the module's memory and the answer out).

#![warn(missing_docs)]

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use language::{Context, Listed, Reading};
use serde::Deserialize;
use serde_json::json;

pub mod abi;

/// What a message is read against, as the page gives it (the golden
/// corpus's sections have the same fields).
#[derive(Debug, Deserialize)]
struct Input {
    message: String,
    now: DateTime<Utc>,
    zone: String,
    #[serde(default)]
    listing: Vec<Task>,
    #[serde(default)]
    projects: Vec<String>,
    #[serde(default)]
    steps: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Task {
    id: String,
    title: String,
}

/// Reads `input`, a JSON object `{message, now, zone, listing?, projects?,
/// steps?}`, as the chat would: the [`Reading`] as JSON, or `{"kind":
/// "error", "message"}` when the input itself is wrong.
pub fn read_json(input: &[u8]) -> String {
    let answer = match serde_json::from_slice::<Input>(input) {
        Err(e) => json!({"kind": "error", "message": format!("the input is not as expected: {e}")}),
        Ok(input) => match input.zone.parse::<Tz>() {
            Err(_) => json!({"kind": "error", "message": format!("unknown zone {}", input.zone)}),
            Ok(zone) => serde_json::to_value(read(&input, zone)).unwrap_or_default(),
        },
    };
    answer.to_string()
}

fn read(input: &Input, zone: Tz) -> Reading {
    let listing: Vec<Listed> = (input.listing.iter())
        .map(|task| Listed {
            id: task.id.clone(),
            title: task.title.clone(),
        })
        .collect();
    let context = Context::new(input.now, zone, &listing)
        .with_projects(&input.projects)
        .with_steps(&input.steps);
    language::read(&input.message, &context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn answer(input: Value) -> Value {
        serde_json::from_str(&read_json(input.to_string().as_bytes())).unwrap_or_default()
    }

    #[test]
    fn a_line_reads_as_the_chat_reads_it() {
        let got = answer(json!({
            "message": "add pay rent tomorrow at 9am #bills p1 every month",
            "now": "2026-12-04T10:00:00Z",
            "zone": "Europe/Berlin",
        }));
        let args = &got["calls"][0]["arguments"];
        assert_eq!(got["calls"][0]["tool"], "add_task", "{got}");
        assert_eq!(args["title"], "pay rent", "{got}");
        assert_eq!(args["due_at"], "2026-12-05T09:00:00+01:00", "{got}");
        assert_eq!(args["priority"], "high", "{got}");
        assert_eq!(args["tags"], json!(["bills"]), "{got}");
    }

    #[test]
    fn bad_input_is_said() {
        let bad_zone = answer(
            json!({"message": "add x", "now": "2026-12-04T10:00:00Z", "zone": "Mars/Olympus"}),
        );
        assert_eq!(bad_zone["kind"], "error");
        assert_eq!(answer(json!({"message": 3}))["kind"], "error");
        assert_eq!(
            serde_json::from_str::<Value>(&read_json(b"not json")).unwrap_or_default()["kind"],
            "error"
        );
    }
}
