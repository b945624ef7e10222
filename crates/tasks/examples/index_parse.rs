//! How long the component's share of a listing takes natively: reading the
//! index of 20,000 tasks (64 shards, 2 MB) in place, as a listing does
//! (`ShardView`), against parsing it into owned entries (`Shard`, as a write
//! does for one shard) and against only scanning it.
//! Prints figures; run by hand:
//!
//!   cargo run --release -p tasks --example index_parse

use std::error::Error;
use std::time::Instant;

use serde::de::IgnoredAny;
use tasks::keys::{Entry, Shard, ShardView, Shelf};
use tasks::{TaskId, TaskSpec};

fn main() -> Result<(), Box<dyn Error>> {
    let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    let mut shards = vec![Shard::default(); 64];
    for i in 0..20_000u128 {
        let description = (i % 3 == 0).then(|| format!("notes for item {i}"));
        let body = serde_json::json!({"title": format!("quarterly report #{i}"), "priority": "high",
            "tags": ["work", "home"], "due_at": "2026-12-01T09:30:00Z", "description": description});
        let task = TaskSpec::parse(&body)?.create(TaskId::new(at, i * 7919), at)?;
        shards[(i % 64) as usize].put(Entry::of(&task));
    }
    let texts: Vec<String> = shards
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<_, _>>()?;
    let text = serde_json::to_vec(&shards)?;
    println!("index of 20,000 tasks: {} bytes; ms, best of 5", text.len());
    let best =
        |f: &dyn Fn() -> Result<usize, serde_json::Error>| -> Result<f64, serde_json::Error> {
            let mut best = f64::MAX;
            for _ in 0..5 {
                let started = Instant::now();
                f()?;
                best = best.min(started.elapsed().as_secs_f64() * 1000.0);
            }
            Ok(best)
        };
    let owned = best(&|| serde_json::from_slice::<Vec<Shard>>(&text).map(|s| s.len()))?;
    let in_place = best(&|| {
        let mut entries = Vec::new();
        for text in &texts {
            entries.extend(ShardView::parse(text)?.into_entries(Shelf::Pending));
        }
        Ok(entries.len())
    })?;
    let skipped = best(&|| serde_json::from_slice::<Vec<IgnoredAny>>(&text).map(|s| s.len()))?;
    println!("| parse | ms |\n|---|---:|");
    println!("| in place, as a listing reads it | {in_place:.2} |");
    println!("| into owned entries | {owned:.2} |");
    println!("| scan only | {skipped:.2} |");
    Ok(())
}
