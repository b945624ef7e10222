//! `soak [MINUTES] [RATE]`: a realistic mix at RATE requests a second
//! (default 200) for MINUTES (default 30) on the full profile, while the
//! host, daprd, the scheduler, Kafka and PostgreSQL are each killed and
//! started again, one at a time, at evenly spaced moments. Then it checks
//! what a user would: every write that was answered is there exactly once
//! (a create's task, an edit's history entry, a delete's absence), every
//! completed repeating task has exactly one next occurrence and no series
//! has two tasks for one date, and every reminder that came due on a task
//! still pending was delivered exactly once. Prints the load achieved, the
//! faults, the checks and each process's memory over time. Asserts nothing
//! beyond the checks it prints; the exit status says whether they held.
//!
//! Each worker thread owns a set of users, so that what it records of a
//! user's tasks is exact; a write that got no answer (a fault) is recorded
//! as uncertain and checked only for what cannot be: no duplicates.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use e2e::{Client, Env, Kafka, Profile, Scheduler, Stack};
use serde_json::{Value, json};

const USERS: usize = 40;

/// Kills one part of the stack and starts it again.
type Fault<'a> = Box<dyn FnMut(&mut Stack) -> anyhow::Result<()> + 'a>;
const WORKERS: usize = 8;

/// What the soak knows of one task it made.
#[derive(Debug, Clone, Default)]
struct Known {
    /// Changes answered (create, edits, complete, delete), each an entry of
    /// its history.
    changes: usize,
    /// A write to it got no answer: its history may hold one more entry.
    uncertain: bool,
    deleted: bool,
    /// When it was completed (answered).
    completed_at: Option<DateTime<Utc>>,
    /// A daily task's due date, when it repeats.
    repeats_from: Option<DateTime<Utc>>,
    /// When its reminder fires.
    reminder_at: Option<DateTime<Utc>>,
    /// When it was created (answered).
    created: Option<DateTime<Utc>>,
    /// When it was deleted (answered, or tried).
    gone_at: Option<DateTime<Utc>>,
}

/// One user's tasks as the soak made them.
#[derive(Debug, Default)]
struct Ledger {
    tasks: BTreeMap<String, Known>,
}

/// Counts of what was sent and what came back.
#[derive(Debug, Default)]
struct Tally {
    sent: AtomicU64,
    answered: AtomicU64,
    failed: AtomicU64,
}

/// A small, seeded generator: the soak needs no more.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The tasks' creates, edits, completes and deletes, listings, searches and
/// chat of the users `mine`, at `rate` requests a second, until `stop`.
fn work(
    base: &str,
    mine: &[String],
    rate: f64,
    stop: &AtomicBool,
    tally: &Tally,
    seed: u64,
) -> HashMap<String, Ledger> {
    let mut ledgers: HashMap<String, Ledger> = HashMap::new();
    let clients: Vec<Client> = mine
        .iter()
        .map(|user| {
            Client::new(
                base.to_owned(),
                Some(e2e::token(user, 24 * 3600, e2e::SECRET)),
            )
        })
        .collect();
    let mut dice = Dice(seed | 1);
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut next = Instant::now();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else if now - next > Duration::from_secs(1) {
            next = now; // behind during a fault: do not burst to catch up
        }
        next += period;
        n += 1;
        let pick = dice.below(mine.len());
        let (user, client) = (&mine[pick], &clients[pick]);
        let ledger = ledgers.entry(user.clone()).or_default();
        let live: Vec<String> = ledger
            .tasks
            .iter()
            .filter(|(_, k)| !k.deleted && k.gone_at.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        let tasks = format!("/api/{user}/tasks");
        let roll = dice.below(100);
        let at = Utc::now();
        tally.sent.fetch_add(1, Ordering::Relaxed);
        let answered = match roll {
            // Creates: plain, daily, or reminded within two minutes.
            0..30 => {
                let mut known = Known::default();
                let body = match dice.below(3) {
                    0 => {
                        json!({"title": format!("soak {n}"), "priority": "high", "tags": ["soak"]})
                    }
                    1 => {
                        let due = at + chrono::Duration::days(1);
                        known.repeats_from = Some(due);
                        json!({"title": format!("daily {n}"), "due_at": rfc3339(due), "recurrence": "FREQ=DAILY"})
                    }
                    _ => {
                        let fires = at + chrono::Duration::seconds(30 + dice.below(90) as i64);
                        // To the second, as the body says it.
                        known.reminder_at = fires.with_nanosecond(0);
                        json!({"title": format!("remind {n}"), "reminders": [{"at": rfc3339(fires)}]})
                    }
                };
                client
                    .try_send("POST", &tasks, Some(&body.to_string()))
                    .map(|reply| {
                        if reply.status == 201
                            && let Some(id) = reply.body["id"].as_str()
                        {
                            known.changes = 1;
                            known.created = Some(at);
                            ledger.tasks.insert(id.to_owned(), known);
                        }
                    })
            }
            // Edits, completes and deletes of a task the soak made.
            30..65 if !live.is_empty() => {
                let id = &live[dice.below(live.len())];
                let (method, path, body) = match roll {
                    30..45 => (
                        "PATCH",
                        format!("{tasks}/{id}"),
                        json!({"title": format!("edited {n}")}),
                    ),
                    45..60 => (
                        "PATCH",
                        format!("{tasks}/{id}/complete"),
                        json!({"completed": true}),
                    ),
                    _ => ("DELETE", format!("{tasks}/{id}"), Value::Null),
                };
                let body = (!body.is_null()).then(|| body.to_string());
                let reply = client.try_send(method, &path, body.as_deref());
                let known = ledger.tasks.entry(id.clone()).or_default();
                match &reply {
                    Ok(reply) if reply.status < 300 => {
                        if method == "DELETE" {
                            known.deleted = true;
                            known.gone_at = Some(at);
                            known.changes += 1;
                        } else if path.ends_with("/complete") {
                            if known.completed_at.is_none() {
                                known.completed_at = Some(at);
                                known.changes += 1;
                            }
                        } else {
                            known.changes += 1;
                        }
                    }
                    Ok(reply) if reply.status >= 500 => {
                        known.uncertain = true;
                        if method == "DELETE" {
                            known.gone_at = Some(at);
                        } else if path.ends_with("/complete") {
                            known.completed_at.get_or_insert(at);
                        }
                    }
                    Ok(_) => {}
                    Err(_) => {
                        known.uncertain = true;
                        if method == "DELETE" {
                            known.gone_at = Some(at);
                        } else if path.ends_with("/complete") {
                            known.completed_at.get_or_insert(at);
                        }
                    }
                }
                reply.map(|_| ())
            }
            // Chat: a question, which changes nothing.
            65..70 => client
                .try_send(
                    "POST",
                    &format!("/api/{user}/chat"),
                    Some(&json!({"message": "what's due this week?"}).to_string()),
                )
                .map(|_| ()),
            // Reads: the pending page, a search, the completed page.
            _ => {
                let query = [
                    "?limit=50",
                    "?q=soak&limit=50",
                    "?status=completed&limit=20",
                ][dice.below(3)];
                client
                    .try_send("GET", &format!("{tasks}{query}"), None)
                    .map(|_| ())
            }
        };
        match answered {
            Ok(()) => tally.answered.fetch_add(1, Ordering::Relaxed),
            Err(_) => tally.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
    ledgers
}

/// Resident memory, in MiB, of each process name of interest; for the Go
/// ones (daprd, the scheduler) also what their metrics say: MiB of heap in
/// use, goroutines, and the number of metric series they keep.
fn memory() -> BTreeMap<String, f64> {
    let mut totals = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return totals;
    };
    for entry in entries.flatten() {
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .map(str::to_owned)
        };
        let Some(name) = field("Name:") else { continue };
        if !matches!(
            name.as_str(),
            "todo-host" | "daprd" | "postgres" | "scheduler" | "java"
        ) {
            continue;
        }
        let kib: f64 = field("VmRSS:")
            .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
            .unwrap_or(0.0);
        *totals.entry(name.clone()).or_insert(0.0) += kib / 1024.0;
        let pid = entry.file_name().to_str().and_then(|p| p.parse().ok());
        if let (true, Some(pid)) = (matches!(name.as_str(), "daprd" | "scheduler"), pid) {
            for (what, value) in go_runtime(pid) {
                *totals.entry(format!("{name} {what}")).or_insert(0.0) += value;
            }
        }
    }
    totals
}

/// Heap in use (MiB), goroutines and metric series of Dapr's process
/// `pid`, from its metrics; for the scheduler also the size of its etcd
/// database file (MiB).
fn go_runtime(pid: u32) -> Vec<(&'static str, f64)> {
    let etcd = e2e::argument_of(pid, "--etcd-data-dir")
        .and_then(|dir| etcd_db(std::path::Path::new(&dir), 4))
        .map(|bytes| ("etcd db", bytes as f64 / (1024.0 * 1024.0)));
    let Ok(text) = e2e::metrics_of(pid) else {
        return etcd.into_iter().collect();
    };
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0.0)
    };
    let series = text.lines().filter(|l| !l.starts_with('#')).count();
    vec![
        (
            "heap",
            value("go_memstats_heap_inuse_bytes") / (1024.0 * 1024.0),
        ),
        ("goroutines", value("go_goroutines")),
        ("series", series as f64),
    ]
    .into_iter()
    .chain(etcd)
    .collect()
}

/// The size of the etcd database file (`member/snap/db`) under `dir`, at
/// most `depth` folders down (the scheduler puts it under its id).
fn etcd_db(dir: &std::path::Path, depth: u32) -> Option<u64> {
    if let Ok(db) = std::fs::metadata(dir.join("member/snap/db")) {
        return Some(db.len());
    }
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .flatten()
        .filter(|e| depth > 0 && e.path().is_dir())
        .find_map(|e| etcd_db(&e.path(), depth - 1))
}

/// Every item of a paged listing (`path` with its query, `field` the
/// page's array), following `next_cursor` to the end.
fn all_pages(client: &Client, path: &str, field: &str) -> anyhow::Result<Vec<Value>> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = match &cursor {
            Some(cursor) => format!("{path}&cursor={cursor}"),
            None => path.to_owned(),
        };
        let reply = client.try_send("GET", &page, None)?;
        anyhow::ensure!(reply.status == 200, "{page}: {reply:?}");
        all.extend(reply.body[field].as_array().cloned().unwrap_or_default());
        match reply.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(all),
        }
    }
}

/// What the checks found: failures, and counts of what held.
#[derive(Debug, Default)]
struct Findings {
    /// The first failures, described.
    failures: Vec<String>,
    /// Per check: how often it held, and how often not.
    counts: BTreeMap<&'static str, (usize, usize)>,
    /// Histories that were short when first read: whether each filled up,
    /// and after how long.
    late: Vec<(bool, Duration)>,
}

impl Findings {
    fn check(&mut self, what: &'static str, ok: bool, failure: impl FnOnce() -> String) {
        let (held, failed) = self.counts.entry(what).or_default();
        if ok {
            *held += 1;
        } else {
            *failed += 1;
            if self.failures.len() < 50 {
                self.failures.push(failure());
            }
        }
    }
}

fn verify(
    client_of: &dyn Fn(&str) -> Client,
    ledgers: &HashMap<String, Ledger>,
    checked: DateTime<Utc>,
) -> anyhow::Result<Findings> {
    let mut findings = Findings::default();
    let patience = Instant::now() + Duration::from_secs(180);
    for (user, ledger) in ledgers {
        let client = client_of(user);
        let stored = all_pages(
            &client,
            &format!("/api/{user}/tasks?status=all&limit=200"),
            "tasks",
        )?;
        let mut ids = HashSet::new();
        let mut series: HashMap<(String, String), usize> = HashMap::new();
        for task in &stored {
            let id = task["id"].as_str().unwrap_or_default().to_owned();
            findings.check("no task listed twice", ids.insert(id.clone()), || {
                format!("{user}: {id} listed twice")
            });
            if let (Some(series_id), Some(due)) =
                (task["series_id"].as_str(), task["due_at"].as_str())
            {
                *series
                    .entry((series_id.to_owned(), due.to_owned()))
                    .or_default() += 1;
            }
        }
        for ((series_id, due), count) in &series {
            findings.check("no series has two tasks for one date", *count == 1, || {
                format!("{user}: series {series_id} has {count} tasks due {due}")
            });
        }
        let by_id: HashMap<&str, &Value> = stored
            .iter()
            .map(|t| (t["id"].as_str().unwrap_or_default(), t))
            .collect();
        let notes = all_pages(
            &client,
            &format!("/api/{user}/notifications?limit=200"),
            "notifications",
        )?;
        // The inbox keeps a user's newest 500 (tasks::reminders::inbox::KEPT): when it is
        // full, reminders older than its oldest were dropped by design, and
        // so may some due in the same second as its oldest.
        let kept_from = (notes.len() >= 500)
            .then(|| notes.iter().filter_map(|n| n["remind_at"].as_str()).min())
            .flatten()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .map(|at| at.to_utc());
        let mut reminded: HashMap<&str, usize> = HashMap::new();
        for note in &notes {
            *reminded
                .entry(note["task_id"].as_str().unwrap_or_default())
                .or_default() += 1;
        }
        for (id, known) in &ledger.tasks {
            let found = by_id.get(id.as_str());
            if known.deleted && !known.uncertain {
                findings.check("a deleted task is gone", found.is_none(), || {
                    format!("{user}: deleted {id} still there")
                });
                continue;
            }
            if known.gone_at.is_some() {
                continue; // a delete without an answer: either is right
            }
            findings.check("an answered create is there", found.is_some(), || {
                format!("{user}: {id} lost")
            });
            let Some(task) = found else { continue };
            if known.completed_at.is_some() && !known.uncertain {
                findings.check(
                    "an answered complete stuck",
                    task["completed"] == true,
                    || format!("{user}: {id} not completed"),
                );
            }
            if !known.uncertain {
                let path = format!("/api/{user}/tasks/{id}/history?limit=200");
                let read = || -> anyhow::Result<usize> {
                    let history = client.try_send("GET", &path, None)?;
                    Ok(history.body["history"].as_array().map_or(0, Vec::len))
                };
                let mut entries = read()?;
                // A history still short may be a write not yet committed when read:
                // it is read again until the patience of the whole check ends.
                if entries < known.changes {
                    let since = Instant::now();
                    while entries < known.changes && Instant::now() < patience {
                        std::thread::sleep(Duration::from_secs(2));
                        entries = read()?;
                    }
                    findings
                        .late
                        .push((entries == known.changes, since.elapsed()));
                }
                findings.check(
                    "each answered change is in the history once",
                    entries == known.changes,
                    || {
                        format!(
                            "{user}: {id} has {entries} history entries for {} changes",
                            known.changes
                        )
                    },
                );
            }
            // A daily task that is done (whether its complete was answered
            // or not) has exactly one next occurrence; one still pending has
            // none.
            if let Some(due) = known.repeats_from {
                let done = task["completed"] == true;
                let next = rfc3339(due + chrono::Duration::days(1));
                let successors = stored
                    .iter()
                    .filter(|t| {
                        t["series_id"].as_str() == Some(id.as_str())
                            && t["due_at"]
                                .as_str()
                                .is_some_and(|d| d.starts_with(&next[..19]))
                    })
                    .count();
                findings.check(
                    "a daily task has one next occurrence once done, none before",
                    successors == usize::from(done),
                    || format!("{user}: {id} (done: {done}) has {successors} next occurrences due {next}"),
                );
            }
            if let Some(fires) = known.reminder_at {
                // A reminder whose delivery failed (a fault) is delivered by
                // the sweep within a minute and a half, if its task is still
                // pending then; one completed meanwhile is not reminded late.
                let late = fires + chrono::Duration::seconds(90);
                let pending_then = known.completed_at.is_none_or(|c| c > late);
                let kept = kept_from.is_none_or(|oldest| fires > oldest);
                if late < checked && pending_then && kept && !known.uncertain {
                    let count = reminded.get(id.as_str()).copied().unwrap_or(0);
                    findings.check("a reminder that came due arrived once", count == 1, || {
                        format!(
                            "{user}: {id} reminded {count} times (created {}, due {})",
                            known.created.map(rfc3339).unwrap_or_default(),
                            rfc3339(fires)
                        )
                    });
                }
            }
        }
        for (task_id, count) in &reminded {
            findings.check("no reminder arrived twice", *count == 1, || {
                format!("{user}: {task_id} reminded {count} times")
            });
        }
    }
    Ok(findings)
}

pub fn soak(env: &Env, minutes: u64, rate: u64) -> anyhow::Result<()> {
    let mut scheduler = Scheduler::start(env)?;
    let mut kafka = Kafka::start(env)?;
    let env = kafka.env(&scheduler.env(env));
    let mut stack = super::start(&env, Profile::Postgres)?;
    let base = stack.url("");
    let users: Vec<String> = (0..USERS).map(|n| format!("soak-{n}")).collect();
    let (stop, tally) = (Arc::new(AtomicBool::new(false)), Arc::new(Tally::default()));
    let length = Duration::from_secs(minutes * 60);
    println!("soak: {minutes} min at {rate} requests/s, {USERS} users, {WORKERS} workers");
    let started = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let mine: Vec<String> = users.iter().skip(w).step_by(WORKERS).cloned().collect();
            let (base, stop, tally) = (base.clone(), stop.clone(), tally.clone());
            let share = rate as f64 / WORKERS as f64;
            std::thread::spawn(move || {
                work(&base, &mine, share, &stop, &tally, 0x9e37_79b9 + w as u64)
            })
        })
        .collect();
    let samples = Arc::new(Mutex::new(Vec::<(u64, BTreeMap<String, f64>)>::new()));
    let sampler = {
        let (stop, samples) = (stop.clone(), samples.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let at = started.elapsed().as_secs();
                if let Ok(mut samples) = samples.lock() {
                    samples.push((at, memory()));
                }
                std::thread::sleep(Duration::from_secs(30));
            }
        })
    };
    let pg_restart = std::env::var("TODO_PG_RESTART").unwrap_or_default();
    let faults: [(&str, Fault); 5] = [
        (
            "the host (SIGKILL)",
            Box::new(|stack: &mut Stack| stack.kill_and_restart_app()),
        ),
        (
            "daprd (SIGKILL)",
            Box::new(|stack: &mut Stack| stack.kill_and_restart_daprd()),
        ),
        (
            "the scheduler (SIGKILL)",
            Box::new(|_: &mut Stack| {
                scheduler.kill();
                scheduler.restart()
            }),
        ),
        (
            "Kafka (SIGKILL)",
            Box::new(|_: &mut Stack| {
                kafka.kill();
                kafka.restart()
            }),
        ),
        (
            "PostgreSQL (immediate shutdown)",
            Box::new(|_: &mut Stack| {
                anyhow::ensure!(
                    !pg_restart.is_empty(),
                    "TODO_PG_RESTART is not set: run with bench/run soak"
                );
                let status = std::process::Command::new("sh")
                    .args(["-c", &pg_restart])
                    .status()?;
                anyhow::ensure!(status.success(), "restarting PostgreSQL failed");
                Ok(())
            }),
        ),
    ];
    println!(
        "\nstarted {}\n\n| at | fault | back after |\n|---:|---|---:|",
        rfc3339(Utc::now())
    );
    for (n, (what, mut fault)) in faults.into_iter().enumerate() {
        let due = length * (n as u32 + 1) / 6;
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let at = started.elapsed();
        fault(&mut stack)?;
        println!(
            "| {:.0} s | {what} | {:.1} s |",
            at.as_secs_f64(),
            (started.elapsed() - at).as_secs_f64()
        );
    }
    if let Some(wait) = length.checked_sub(started.elapsed()) {
        std::thread::sleep(wait);
    }
    stop.store(true, Ordering::Relaxed);
    let mut ledgers = HashMap::new();
    for worker in workers {
        let mine = worker
            .join()
            .map_err(|_| anyhow::anyhow!("a worker panicked"))?;
        ledgers.extend(mine);
    }
    let _ = sampler.join();
    let seconds = started.elapsed().as_secs_f64();
    let (sent, answered, failed) = (
        tally.sent.load(Ordering::Relaxed),
        tally.answered.load(Ordering::Relaxed),
        tally.failed.load(Ordering::Relaxed),
    );
    println!(
        "\nload: {sent} requests in {seconds:.0} s ({:.1}/s), {answered} answered, {failed} without an answer (faults)",
        sent as f64 / seconds
    );
    // Reminders due in the last seconds, and the consumers' backlog.
    println!("settling 150 s (reminders due up to the end, the consumers' backlog) ...");
    std::thread::sleep(Duration::from_secs(150));
    let client_of =
        |user: &str| Client::new(base.clone(), Some(e2e::token(user, 3600, e2e::SECRET)));
    let findings = verify(&client_of, &ledgers, Utc::now())?;
    let made: usize = ledgers.values().map(|l| l.tasks.len()).sum();
    println!(
        "\n{made} tasks made by answered creates\n\n| check | held | failed |\n|---|---:|---:|"
    );
    for (what, (held, failed)) in &findings.counts {
        println!("| {what} | {held} | {failed} |");
    }
    if !findings.late.is_empty() {
        let filled = findings.late.iter().filter(|(full, _)| *full).count();
        let longest = findings.late.iter().map(|(_, waited)| *waited).max();
        println!(
            "\n{} histories were short when first read (writes not yet committed); {filled} filled up, the longest after {:.1} s",
            findings.late.len(),
            longest.unwrap_or_default().as_secs_f64()
        );
    }
    let samples = samples
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    println!(
        "\nmemory (MiB of resident memory by process name, every 30 s; each was restarted once; for daprd and the scheduler also MiB of Go heap in use, goroutines and metric series, and the MiB of the scheduler's etcd database file):\n"
    );
    let names: Vec<String> = samples
        .iter()
        .flat_map(|(_, m)| m.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    println!(
        "| s | {} |\n|---:|{}",
        names.join(" | "),
        "---:|".repeat(names.len())
    );
    for (at, sample) in samples.iter().step_by(2) {
        let cells: Vec<String> = names
            .iter()
            .map(|n| format!("{:.0}", sample.get(n).unwrap_or(&0.0)))
            .collect();
        println!("| {at} | {} |", cells.join(" | "));
    }
    if findings.counts.values().all(|(_, failed)| *failed == 0) {
        println!("\nevery check held");
        Ok(())
    } else {
        for failure in &findings.failures {
            println!("FAILED: {failure}");
        }
        let failed: usize = findings.counts.values().map(|(_, failed)| failed).sum();
        anyhow::bail!("{failed} checks failed (the first 50 listed)")
    }
}
