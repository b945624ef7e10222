//! The language engine against its corpus, `tests/language/corpus.json`:
//! each message, read at the corpus' fixed clock and zone with its listing
//! (and the user's project names and the last task's steps, where given),
//! must give exactly the tool calls (or help, undo, question) written
//! there. `UPDATE_GOLDEN=1` writes what the engine gives instead, for a
//! careful review of the diff.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use language::{Context, Listed, read};
use serde_json::{Value, json};

/// The corpus, in the package's folder as cargo gives it when the test
/// runs, so that a binary built in another clone reads this clone's file.
fn corpus_path() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("../../tests/language/corpus.json")
}

#[test]
fn every_message_of_the_corpus_reads_as_written() {
    let text = std::fs::read_to_string(corpus_path()).expect("the corpus");
    let mut corpus: Value = serde_json::from_str(&text).expect("JSON");
    let mut failures = Vec::new();
    let sections = corpus["sections"].as_array_mut().expect("sections");
    for section in sections.iter_mut() {
        let now: DateTime<Utc> = section["now"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("now");
        let zone: Tz = section["zone"]
            .as_str()
            .and_then(|z| z.parse().ok())
            .expect("zone");
        let listing: Vec<Listed> = section["listing"]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|t| Listed {
                        id: t["id"].as_str().unwrap_or_default().to_owned(),
                        title: t["title"].as_str().unwrap_or_default().to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let names = |key: &str| -> Vec<String> {
            (section[key].as_array().into_iter().flatten())
                .filter_map(|name| name.as_str().map(str::to_owned))
                .collect()
        };
        let (projects, steps) = (names("projects"), names("steps"));
        let context = Context::new(now, zone, &listing)
            .with_projects(&projects)
            .with_steps(&steps);
        for case in section["cases"].as_array_mut().expect("cases") {
            let message = case["message"].as_str().unwrap_or_default().to_owned();
            let got = serde_json::to_value(read(&message, &context)).expect("JSON");
            let got = match got["kind"].as_str() {
                Some("unclear") => json!({"kind": "unclear"}),
                _ => got,
            };
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                case["expect"] = got;
            } else if case["expect"] != got {
                failures.push(format!(
                    "{message:?}\n  expected {}\n  got      {got}",
                    case["expect"]
                ));
            }
        }
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&corpus).expect("JSON") + "\n";
        std::fs::write(corpus_path(), text).expect("written");
    }
    assert!(
        failures.is_empty(),
        "{} of the corpus read otherwise:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
