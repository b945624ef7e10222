//! The engine's own time per message, natively: every message of the
//! corpus (`tests/language/corpus.json`) read 200 times, in its section's
//! context; prints p50, p99 and max per read.
//!
//!   cargo run --release -p language --example speed

use std::time::Instant;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use language::{Context, Listed, read};
use serde_json::Value;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/language/corpus.json"
    );
    let corpus: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let mut times = Vec::new();
    for section in corpus["sections"].as_array().into_iter().flatten() {
        let now: DateTime<Utc> = section["now"].as_str().unwrap_or_default().parse()?;
        let zone: Tz = section["zone"].as_str().unwrap_or_default().parse()?;
        let listing: Vec<Listed> = section["listing"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| Listed {
                id: t["id"].as_str().unwrap_or_default().into(),
                title: t["title"].as_str().unwrap_or_default().into(),
            })
            .collect();
        let context = Context::new(now, zone, &listing);
        for case in section["cases"].as_array().into_iter().flatten() {
            let message = case["message"].as_str().unwrap_or_default();
            for _ in 0..200 {
                let start = Instant::now();
                std::hint::black_box(read(std::hint::black_box(message), &context));
                times.push(start.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    println!(
        "{} reads of the corpus' messages: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        times.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    Ok(())
}
