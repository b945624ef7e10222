//! `api-bench [basic [REQUESTS] | scale]`: latency and throughput of the tasks
//! API through the real host and daprd. Prints tables; asserts nothing. Run it
//! with `bench/run`, which starts the services it needs.
//!
//! - `basic`: sequential requests on both profiles, and the host's own
//!   overhead with an empty component.
//! - `scale`: the full profile (PostgreSQL) with a user of 5,000 tasks: list
//!   with filters, search and sort; create, get, patch and complete at a fixed
//!   100 requests/s; then create and patch at rising rates.
//! - `history`: whether a user's history slows their listings: the pending
//!   list of 1,000 pending tasks alone and beside 4,000 completed ones, and
//!   listings over 20,000 tasks.
//! - `projects`: on both profiles, one user with 50 projects and 10,000
//!   tasks: the project listing with its counts, a project's first page
//!   beside the plain first page, moving a task between projects and
//!   reordering within one; 20 saved views listed with their counts, and a
//!   view's first page beside the same filter given by hand.
//! - `million`: on both profiles, a user's listings and creates with
//!   only their 100 tasks in the database, then beside 10,000 users of
//!   100 tasks each (a million tasks, written straight into the tables);
//!   on PostgreSQL the search once more with a trigram index.
//! - `events`: on both profiles, how long after `complete` answers the next
//!   occurrence of a repeating task is listable, and how long until a change
//!   is in its task's history; with CPU per completion by process.
//! - `reminders`: on the full profile, the delay from each reminder's time
//!   to its notification in the inbox (the notifier's `delivered_at`): 200
//!   reminders spread over a minute, then 1,000 for one instant (a burst);
//!   with CPU per reminder by process.
//! - `push`: on the full profile, the delay from each reminder's time to
//!   its push reaching a push service (the fake of `tests/e2e/push`), 200
//!   spread over a minute, beside the delay to the inbox.
//! - `feed`: on both profiles, the delay from a write's answer to its
//!   change in the user's change feed (polled every millisecond).
//! - `accounts`: on the full profile, sign-in's latency (argon2id inside
//!   the component) beside a plain authenticated read.
//! - `writes`: on the full profile, 1,000 creates of one user at 50 a
//!   second, one client: latency, and the CPU each process spends per
//!   create on everything it sets off (the relay, the consumers, the
//!   safety net); then 4,000 creates from 16 clients as fast as they go,
//!   the same figures.
//! - `web`: on the full profile, the web app in Debian's Chromium
//!   (`tests/web/bench.mjs`): the signed-in page's first render and its
//!   transferred size, sign-in through the page, and the delay from a
//!   write's answer until a second open page shows it.
//! - `soak [MINUTES] [RATE]`: a realistic mix on the full profile while
//!   each service is killed and restarted in turn, then checks that
//!   nothing answered was lost or done twice (`soak.rs`).
//! - `chat`: on the full profile, the chat API's latency for an add and for
//!   a listing, beside the tasks API's create and listing of the same
//!   tasks (the yardstick), sequential requests of one client.

mod soak;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use e2e::{Client, Env, Host, Profile, Stack};
use serde_json::{Value, json};

/// A stack for measuring: the users' limits raised past what a benchmark
/// asks (thousands of tasks and chat messages from one user).
fn start(env: &Env, profile: Profile) -> anyhow::Result<Stack> {
    let raised = [
        ("SPIN_VARIABLE_MAX_TASKS_PER_USER", "1000000".to_owned()),
        ("SPIN_VARIABLE_CHAT_MESSAGES_PER_MINUTE", "10000".to_owned()),
    ];
    Stack::start_with(env, profile, &raised)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = Env::from_environment()?;
    match args.first().map(String::as_str) {
        Some("scale") => scale(&env),
        Some("history") => history(&env),
        Some("projects") => projects(&env),
        Some("reminders") => reminders(&env),
        Some("push") => pushes(&env),
        Some("accounts") => accounts(&env),
        Some("feed") => feed(&env),
        Some("web") => web(&env),
        Some("writes") => writes(&env),
        Some("million") => million(&env),
        Some("export") => export(&env),
        Some("calendar") => calendar(&env),
        Some("import") => import(&env),
        Some("soak") => soak::soak(
            &env,
            args.get(1).map(|n| n.parse()).transpose()?.unwrap_or(30),
            args.get(2).map(|n| n.parse()).transpose()?.unwrap_or(200),
        ),
        Some("chat") => chat(
            &env,
            args.get(1).map(|n| n.parse()).transpose()?.unwrap_or(300),
        ),
        Some("events") => events(
            &env,
            args.get(1).map(|n| n.parse()).transpose()?.unwrap_or(200),
        ),
        Some("basic") | None => basic(
            &env,
            args.get(1).map(|n| n.parse()).transpose()?.unwrap_or(1000),
        ),
        Some(other) => {
            anyhow::bail!(
                "unknown benchmark {other:?}: basic, scale, history, projects, million, export, calendar, import, events, reminders, push, accounts, feed, writes, web or chat"
            )
        }
    }
}

fn basic(env: &Env, requests: usize) -> anyhow::Result<()> {
    println!("{requests} sequential requests each, one client, keep-alive; times in ms\n");
    header();
    for profile in [Profile::Sqlite, Profile::Postgres] {
        let stack = start(env, profile)?;
        let client = stack.client("bench");
        let base = "/api/bench/tasks";
        let mut ids = Vec::with_capacity(requests);
        let create = sequential(requests, |i| {
            let reply = client.post(
                base,
                &json!({"title": format!("task {i}"), "priority": "medium", "tags": ["bench"]}),
            );
            ids.push(id(&reply.body));
            reply.status == 201
        })?;
        row(profile.name(), "create", &create);
        let get = sequential(requests, |i| {
            client.get(&format!("{base}/{}", ids[i % ids.len()])).status == 200
        })?;
        row(profile.name(), "get one", &get);
        let list = sequential(requests.min(200), |_| {
            client.get(&format!("{base}?limit=200")).status == 200
        })?;
        row(
            profile.name(),
            &format!("list, first 200 of {}", ids.len()),
            &list,
        );
    }
    let manifest = e2e::repo_root().join("tests/e2e/fixtures/probe.toml");
    let host = Host::start(
        env,
        &manifest,
        &[
            ("allowed_port", "1".to_owned()),
            ("silent_port", "1".to_owned()),
        ],
    )?;
    let client = Client::new(format!("http://127.0.0.1:{}", host.port), None);
    let empty = sequential(requests, |_| client.get("/probe/empty").status == 200)?;
    row("-", "host + empty component", &empty);
    Ok(())
}

/// The export of a user with 10,000 tasks (and their 10,000 changes), as
/// JSON and as CSV, on both profiles.
fn export(env: &Env) -> anyhow::Result<()> {
    const TASKS: usize = 10_000;
    println!("Export of a user with {TASKS} tasks, 20 sequential reads each; times in ms\n");
    header();
    let mut sizes = Vec::new();
    for profile in [Profile::Sqlite, Profile::Postgres] {
        let stack = start(env, profile)?;
        let user = "exporter";
        let client = stack.client(user);
        seed(&client, &format!("/api/{user}/tasks"), TASKS)?;
        for (name, query) in [("JSON, everything", ""), ("CSV, the tasks", "?format=csv")] {
            let mut size = 0;
            let times = sequential(20, |_| {
                let reply = client.get(&format!("/api/{user}/export{query}"));
                size = match &reply.body {
                    Value::String(text) => text.len(),
                    body => body.to_string().len(),
                };
                reply.status == 200
            })?;
            row(profile.name(), name, &times);
            sizes.push(format!("{} {name}: {size} bytes", profile.name()));
        }
    }
    println!("\n{}", sizes.join("; "));
    Ok(())
}

/// The calendar feed of a user with 1,000 tasks due in four zones, 200 of
/// them repeating with a reminder, read whole and asked again with its
/// ETag (a 304), on both profiles.
fn calendar(env: &Env) -> anyhow::Result<()> {
    const TASKS: usize = 1_000;
    const READS: usize = 200;
    println!(
        "Calendar feed of a user with {TASKS} tasks (200 repeating), {READS} sequential reads each; times in ms\n"
    );
    header();
    let mut sizes = Vec::new();
    for profile in [Profile::Sqlite, Profile::Postgres] {
        let stack = start(env, profile)?;
        let user = "subscriber";
        let client = stack.client(user);
        let zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"];
        let rules = [
            "FREQ=WEEKLY;BYDAY=MO,WE",
            "FREQ=DAILY;COUNT=30",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
        ];
        let made = on_workers(8, TASKS, |i| {
            let mut body = json!({
                "title": format!("task {i}, with a comma; and more"),
                "due_at": format!("2027-{:02}-{:02}T{:02}:30:00", i % 12 + 1, i % 28 + 1, i % 24),
                "time_zone": zones[i % zones.len()],
                "tags": ["bench"],
            });
            if i % 5 == 0 {
                body["recurrence"] = json!(rules[i % rules.len()]);
                body["reminders"] = json!([{"minutes_before": 30}]);
            }
            client.post(&format!("/api/{user}/tasks"), &body).status == 201
        });
        anyhow::ensure!(made.iter().all(|ok| *ok), "some tasks were not made");
        let address = client.post(&format!("/api/{user}/settings/calendar-feed"), &json!({}));
        let url = address.body["url"].as_str().unwrap_or_default();
        let path = url
            .find("/ical/")
            .map(|at| url[at..].to_owned())
            .unwrap_or_default();
        let anyone = Client::new(stack.url(""), None);
        let (mut size, mut etag) = (0, String::new());
        let whole = sequential(READS, |_| {
            let reply = anyone.get(&path);
            size = reply.body.as_str().map_or(0, str::len);
            etag = reply.header("etag").unwrap_or_default().to_owned();
            reply.status == 200
        })?;
        row(profile.name(), "feed, whole", &whole);
        let again = sequential(READS, |_| {
            let headers = [("if-none-match", etag.as_str())];
            (anyone.try_send_with("GET", &path, None, &headers)).is_ok_and(|r| r.status == 304)
        })?;
        row(profile.name(), "feed, asked again (304)", &again);
        sizes.push(format!("{}: {size} bytes", profile.name()));
    }
    println!("\n{}", sizes.join("; "));
    Ok(())
}

/// Imports of a 5,000-line Todoist CSV (tasks in sections, a fifth with a
/// repeating date, some sub-tasks and notes) into a new account, on both
/// profiles: a dry run, the real run, and the same file again.
fn import(env: &Env) -> anyhow::Result<()> {
    const LINES: usize = 5_000;
    let dates = [
        "every monday",
        "tomorrow at 5pm",
        "every day at 9am",
        "Jan 3",
        "",
    ];
    let mut file = String::from(
        "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\r\n",
    );
    let mut tasks = 0;
    for i in 0..LINES - 1 {
        let row = match i % 50 {
            0 => format!("section,Section {i},,,,,,,,"),
            7 => format!("task,Sub-task {i},,1,2,,,,,"),
            9 => format!("note,A note on line {i},,,,,,,,"),
            _ => {
                tasks += 1;
                let date = dates[i % dates.len()];
                format!(
                    "task,Task {i} @bench,Line {i},{},1,,,{date},en,Europe/Berlin",
                    i % 4 + 1
                )
            }
        };
        file.push_str(&row);
        file.push_str("\r\n");
    }
    println!(
        "Import of a {LINES}-line Todoist CSV ({} KB, {tasks} tasks) into a new account; seconds\n",
        file.len() / 1000
    );
    println!("| profile | run | seconds | tasks/s | tasks made |");
    println!("|---|---|---:|---:|---:|");
    for profile in [Profile::Sqlite, Profile::Postgres] {
        let stack = start(env, profile)?;
        let user = "importer";
        let client = stack.client(user);
        for (run, query) in [("dry run", "&dry_run=true"), ("import", ""), ("again", "")] {
            let path = format!("/api/{user}/import?from=todoist&project=Bench{query}");
            let started = Instant::now();
            let reply = client.send("POST", &path, Some(&file));
            let seconds = started.elapsed().as_secs_f64();
            anyhow::ensure!(reply.status < 300, "{run}: {:?}", reply.status);
            let made = reply.body["tasks"].as_array().map_or(0, Vec::len);
            println!(
                "| {} | {run} | {seconds:.2} | {:.0} | {made} |",
                profile.name(),
                tasks as f64 / seconds
            );
        }
    }
    Ok(())
}

fn scale(env: &Env) -> anyhow::Result<()> {
    const TASKS: usize = 5000;
    let stack = start(env, Profile::Postgres)?;
    let user = "scale";
    let client = stack.client(user);
    let base = format!("/api/{user}/tasks");
    let started = Instant::now();
    let ids = seed(&client, &base, TASKS)?;
    let seeded = started.elapsed().as_secs_f64();
    settled(&client, user, TASKS)?;
    println!(
        "seeded {TASKS} tasks in {seeded:.1} s (8 concurrent clients); their events handled {:.1} s later\n",
        started.elapsed().as_secs_f64() - seeded
    );

    println!("## Listing over {TASKS} tasks (200 sequential requests each; ms)\n");
    println!("CPU: milliseconds of CPU per request, by process\n");
    println!(
        "| profile | operation | p50 | p99 | mean | max | CPU host | CPU daprd | CPU postgres |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, query) in [
        ("list, default page", ""),
        (
            "filter + sort: pending, tag, by due date",
            "status=pending&tag=work&sort=due_at&limit=50",
        ),
        (
            "filter: priority high or medium, overdue",
            "priority=high,medium&overdue=true",
        ),
        ("search: two words", "q=quarterly+report"),
        (
            "sort: title desc, 200 per page",
            "sort=title&order=desc&limit=200",
        ),
    ] {
        let cpu_before = cpu_by_process();
        let times = sequential(200, |_| {
            client.get(&format!("{base}?{query}")).status == 200
        })?;
        let cpu = cpu_per_request(&cpu_before, times.len());
        println!(
            "| postgres | {name} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            quantile(&times, 0.50),
            quantile(&times, 0.99),
            times.iter().sum::<f64>() / times.len().max(1) as f64,
            times.last().copied().unwrap_or_default(),
            cpu("todo-host"),
            cpu("daprd"),
            cpu("postgres"),
        );
    }

    println!("\n## Writes at 100 requests/s for 10 s, on the user with {TASKS}+ tasks (ms)\n");
    println!("| operation | sent | ok | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|---:|");
    let n = AtomicUsize::new(0);
    let next = || n.fetch_add(1, Ordering::Relaxed);
    let create = at_rate(100.0, 10.0, |i| {
        client.post(&base, &task(TASKS + i)).status == 201
    });
    rate_row("create", &create);
    let get = at_rate(100.0, 10.0, |_| {
        client
            .get(&format!("{base}/{}", ids[next() % ids.len()]))
            .status
            == 200
    });
    rate_row("get one", &get);
    let patch = at_rate(100.0, 10.0, |i| {
        client
            .patch(
                &format!("{base}/{}", ids[next() % ids.len()]),
                &json!({"title": format!("renamed {i}")}),
            )
            .status
            == 200
    });
    rate_row("patch", &patch);
    let complete = at_rate(100.0, 10.0, |_| {
        let i = next();
        let body = json!({"completed": i % 2 == 0});
        client
            .patch(&format!("{base}/{}/complete", ids[i % ids.len()]), &body)
            .status
            == 200
    });
    rate_row("complete", &complete);

    println!("\n## Rising rates, 5 s each (ms); sustained while p99 < 100 ms and nothing fails\n");
    println!("CPU: milliseconds of CPU per request, by process (2 cores in all)\n");
    println!(
        "| operation | target/s | achieved/s | ok | p50 | p99 | CPU host | CPU daprd | CPU postgres | CPU scheduler | CPU kafka | CPU client |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, op) in [("create", 0), ("patch", 1)] {
        for rate in [100.0, 150.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0] {
            let cpu_before = cpu_by_process();
            // Every patch changes its task (a patch that changes nothing
            // writes nothing, and would flatter the figures).
            let run = at_rate(rate, 5.0, |i| match op {
                0 => client.post(&base, &task(2 * TASKS + i)).status == 201,
                _ => {
                    client
                        .patch(
                            &format!("{base}/{}", ids[next() % ids.len()]),
                            &json!({"title": format!("patched at {rate} #{i}")}),
                        )
                        .status
                        == 200
                }
            });
            let per_request = cpu_per_request(&cpu_before, run.sent);
            let achieved = run.ok as f64 / run.elapsed.as_secs_f64();
            let p99 = quantile(&run.times, 0.99);
            println!(
                "| {name} | {rate:.0} | {achieved:.0} | {}/{} | {:.1} | {p99:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                run.ok,
                run.sent,
                quantile(&run.times, 0.50),
                per_request("todo-host"),
                per_request("daprd"),
                per_request("postgres"),
                per_request("scheduler"),
                per_request("java"),
                per_request("api-bench"),
            );
            if p99 > 100.0 || run.ok < run.sent {
                break;
            }
        }
    }
    Ok(())
}

fn events(env: &Env, completions: usize) -> anyhow::Result<()> {
    println!(
        "{completions} completions of daily repeating tasks, one at a time; ms from the answer \
         of `complete` until the consumers' work is visible (polled every 1 ms)\n"
    );
    println!(
        "| profile | what | p50 | p99 | max | CPU host | CPU daprd | CPU postgres | CPU scheduler | CPU kafka |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for profile in [Profile::Sqlite, Profile::Postgres] {
        let stack = start(env, profile)?;
        let user = "events";
        let client = stack.client(user);
        let base = format!("/api/{user}/tasks");
        let (mut next_task, mut history) = (Vec::new(), Vec::new());
        let cpu_before = cpu_by_process();
        for i in 0..completions {
            let tag = format!("s{i}");
            let body = json!({"title": format!("daily {i}"), "tags": [tag], "due_at": "2030-01-01T09:00:00Z",
                              "recurrence": "FREQ=DAILY"});
            let task = id(&client.post(&base, &body).body);
            let done = client.patch(&format!("{base}/{task}/complete"), &json!({}));
            anyhow::ensure!(done.status == 200, "complete: {done:?}");
            let answered = Instant::now();
            let (mut listed, mut recorded) = (None, None);
            while listed.is_none() || recorded.is_none() {
                anyhow::ensure!(answered.elapsed() < Duration::from_secs(30), "no next task");
                if listed.is_none() {
                    let page = client.get(&format!("{base}?status=pending&tag={tag}"));
                    if page.body["tasks"].as_array().is_some_and(|t| !t.is_empty()) {
                        listed = Some(answered.elapsed());
                    }
                }
                if recorded.is_none() {
                    let entries = client.get(&format!("{base}/{task}/history"));
                    if entries.body["history"]
                        .as_array()
                        .is_some_and(|h| h.len() >= 2)
                    {
                        recorded = Some(answered.elapsed());
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
            next_task.push(ms(listed));
            history.push(ms(recorded));
        }
        // CPU of everything the completions set off (create, complete, both
        // consumers, the next task's own events), and of the polling.
        let per = cpu_per_request(&cpu_before, completions);
        for (what, times) in [
            ("next task listable", &mut next_task),
            ("completion in history", &mut history),
        ] {
            times.sort_by(f64::total_cmp);
            println!(
                "| {} | {what} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                profile.name(),
                quantile(times, 0.50),
                quantile(times, 0.99),
                times.last().copied().unwrap_or(f64::NAN),
                per("todo-host"),
                per("daprd"),
                per("postgres"),
                per("scheduler"),
                per("java"),
            );
        }
    }
    println!(
        "\nCPU: ms per completion (the create before it, the polling and both consumers included)"
    );
    Ok(())
}

fn history(env: &Env) -> anyhow::Result<()> {
    let stack = start(env, Profile::Postgres)?;
    let seed_user = |user: &str, count: usize, completed: bool| -> anyhow::Result<Client> {
        let client = stack.client(user);
        let base = format!("/api/{user}/tasks");
        let done = on_workers(8, count, |i| {
            let mut body = task(i);
            body["completed"] = json!(completed);
            client.post(&base, &body).status == 201
        });
        anyhow::ensure!(done.iter().all(|ok| *ok), "some seeding requests failed");
        Ok(client)
    };
    let started = Instant::now();
    let fresh = seed_user("fresh", 1000, false)?;
    let veteran = seed_user("veteran", 1000, false)?;
    seed_user("veteran", 4000, true)?;
    let big = seed_user("big", 20_000, false)?;
    println!(
        "seeded 1,000 + 5,000 + 20,000 tasks in {:.1} s (8 concurrent clients)\n",
        started.elapsed().as_secs_f64()
    );
    println!("## A user's history and their listings (200 sequential requests each; ms)\n");
    header();
    for (name, client, user, query) in [
        (
            "pending list, 1,000 pending",
            &fresh,
            "fresh",
            "status=pending",
        ),
        (
            "pending list, 1,000 pending + 4,000 completed",
            &veteran,
            "veteran",
            "status=pending",
        ),
        ("default page, 20,000 tasks", &big, "big", ""),
        (
            "filter + sort, 20,000 tasks",
            &big,
            "big",
            "priority=high&tag=work&sort=due_at",
        ),
        ("search, 20,000 tasks", &big, "big", "q=quarterly+report"),
    ] {
        let times = sequential(200, |_| {
            client.get(&format!("/api/{user}/tasks?{query}")).status == 200
        })?;
        row("postgres", name, &times);
    }
    Ok(())
}

/// One user with 50 projects and 10,000 tasks spread over them and the
/// Inbox, on both profiles: the project listing with its counts, a
/// project's own first page beside the plain first page, and moving a task
/// from one project to another.
fn projects(env: &Env) -> anyhow::Result<()> {
    const PROJECTS: usize = 50;
    const TASKS: usize = 10_000;
    const REQUESTS: usize = 200;
    const VIEWS: usize = 20;
    println!(
        "## One user, {PROJECTS} projects and {TASKS} tasks over them and the Inbox ({REQUESTS} sequential requests each; ms)\n"
    );
    header();
    for profile in [Profile::Postgres, Profile::Sqlite] {
        let stack = start(env, profile)?;
        let name = profile.name();
        let client = stack.client("organiser");
        let mut ids = Vec::with_capacity(PROJECTS);
        for p in 0..PROJECTS {
            let reply = client.post(
                "/api/organiser/projects",
                &json!({"name": format!("Project {p}")}),
            );
            anyhow::ensure!(reply.status == 201, "{reply:?}");
            ids.push(reply.body["id"].as_str().unwrap_or_default().to_owned());
        }
        // Every 51st task in the Inbox, the rest spread over the projects.
        let project_of = |i: usize| match i % (PROJECTS + 1) {
            0 => "inbox".to_owned(),
            p => ids[p - 1].clone(),
        };
        let done = on_workers(8, TASKS, |i| {
            let mut body = task(i);
            body["project_id"] = json!(project_of(i));
            client.post("/api/organiser/tasks", &body).status == 201
        });
        anyhow::ensure!(done.iter().all(|ok| *ok), "some seeding requests failed");
        // Autovacuum analyses the tables within a minute or so of a bulk
        // write; the figures are of that steady state, not of the minute
        // after (when a view's tag count took 80 ms on statistics of an
        // emptier table, ten times the rest).
        if profile == Profile::Postgres {
            stack.sql("ANALYZE")?;
        }
        let first = &ids[0];
        for (what, path) in [
            (
                "project listing with counts",
                "/api/organiser/projects".to_owned(),
            ),
            (
                "one project with its counts",
                format!("/api/organiser/projects/{first}"),
            ),
            (
                "first page, all tasks",
                "/api/organiser/tasks?limit=50".to_owned(),
            ),
            (
                "first page, one project",
                format!("/api/organiser/tasks?project={first}&limit=50"),
            ),
            (
                "first page, one project, pending by due date",
                format!("/api/organiser/tasks?project={first}&status=pending&sort=due_at&limit=50"),
            ),
        ] {
            let times = sequential(REQUESTS, |_| client.get(&path).status == 200)?;
            row(name, what, &times);
        }
        let listed = client.get(&format!("/api/organiser/tasks?project={first}&limit=200"));
        let moving: Vec<String> = (listed.body["tasks"].as_array().into_iter().flatten())
            .filter_map(|t| t["id"].as_str().map(str::to_owned))
            .collect();
        anyhow::ensure!(
            moving.len() >= REQUESTS / 2,
            "{} tasks to move",
            moving.len()
        );
        let times = sequential(REQUESTS, |i| {
            let to = &ids[1 + i % (PROJECTS - 1)];
            let path = format!("/api/organiser/tasks/{}", moving[i % moving.len()]);
            client.patch(&path, &json!({"project_id": to})).status == 200
        })?;
        row(name, "move a task to another project", &times);
        let second = &ids[1];
        let listed = client.get(&format!("/api/organiser/tasks?project={second}&limit=200"));
        let placed: Vec<String> = (listed.body["tasks"].as_array().into_iter().flatten())
            .filter_map(|t| t["id"].as_str().map(str::to_owned))
            .collect();
        anyhow::ensure!(placed.len() > 10, "{} tasks to reorder", placed.len());
        let times = sequential(REQUESTS, |i| {
            let (task, anchor) = (
                &placed[(i * 7) % placed.len()],
                &placed[(i * 7 + 3) % placed.len()],
            );
            let body = match i % 3 {
                0 => json!({"to": "top"}),
                1 => json!({"before": anchor}),
                _ => json!({"after": anchor}),
            };
            client
                .post(&format!("/api/organiser/tasks/{task}/move"), &body)
                .status
                == 200
        })?;
        row(
            name,
            "reorder within a project (top, before, after)",
            &times,
        );
        // Saved views of four kinds, each counted at every listing.
        let review =
            json!({"priority": ["high"], "tag": ["work"], "due": "this_week", "sort": "due_at"});
        let mut views = Vec::with_capacity(VIEWS);
        for (v, project) in ids.iter().take(VIEWS).enumerate() {
            let filter = match v % 4 {
                0 => json!({"project": project, "sort": "order"}),
                1 => review.clone(),
                2 => json!({"status": "pending", "due": "next_7_days"}),
                _ => json!({"q": "report", "due": "no_date"}),
            };
            let body = json!({"name": format!("View {v}"), "filter": filter});
            let reply = client.post("/api/organiser/views", &body);
            anyhow::ensure!(reply.status == 201, "{reply:?}");
            views.push(reply.body["id"].as_str().unwrap_or_default().to_owned());
        }
        for (what, path) in [
            (
                "view listing with counts (20 views)",
                "/api/organiser/views".to_owned(),
            ),
            (
                "a view's first page (high, work, this week)",
                format!("/api/organiser/views/{}/tasks?limit=50", views[1]),
            ),
            (
                "the same filter given by hand",
                "/api/organiser/tasks?priority=high&tag=work&due=this_week&sort=due_at&limit=50"
                    .to_owned(),
            ),
        ] {
            let times = sequential(REQUESTS, |_| client.get(&path).status == 200)?;
            row(name, what, &times);
        }
    }
    Ok(())
}

/// The seed's scale: a user's listings and creates on a database of their
/// own 100 tasks, then the same beside 10,000 other users of 100 tasks each
/// (a million tasks, written straight into the tables), on both profiles.
/// On PostgreSQL, the search once more with a trigram index on `search`.
fn million(env: &Env) -> anyhow::Result<()> {
    const USERS: usize = 10_000;
    const EACH: usize = 100;
    const REQUESTS: usize = 300;
    println!(
        "## One user of 100 tasks, alone and beside {USERS} users of {EACH} tasks ({REQUESTS} sequential requests each; ms)\n"
    );
    header();
    for profile in [Profile::Postgres, Profile::Sqlite] {
        let stack = start(env, profile)?;
        let name = profile.name();
        let reader = stack.client("reader");
        let ids = seed(&reader, "/api/reader/tasks", EACH)?;
        let writer = stack.client("writer");
        let measure = |when: &str| -> anyhow::Result<()> {
            for (what, query) in [
                ("pending page", "?limit=50".to_owned()),
                (
                    "filter + sort",
                    "?status=all&priority=high&tag=work&sort=due_at&limit=50".to_owned(),
                ),
                ("search", "?q=report&limit=50".to_owned()),
                ("get one", format!("/{}", ids[0])),
            ] {
                let times = sequential(REQUESTS, |_| {
                    reader.get(&format!("/api/reader/tasks{query}")).status == 200
                })?;
                row(name, &format!("{what}, {when}"), &times);
            }
            let times = sequential(REQUESTS, |i| {
                writer.post("/api/writer/tasks", &task(i)).status == 201
            })?;
            row(name, &format!("create, {when}"), &times);
            Ok(())
        };
        measure("alone")?;
        let started = Instant::now();
        fill(&stack, USERS * EACH, EACH)?;
        println!(
            "| {name} | wrote {} tasks of {USERS} users in {:.0} s | | | | |",
            USERS * EACH,
            started.elapsed().as_secs_f64()
        );
        measure("beside a million")?;
        if profile == Profile::Postgres {
            stack.sql(
                "CREATE EXTENSION IF NOT EXISTS pg_trgm; \
                 CREATE INDEX tasks_search_trigrams ON tasks USING gin (search gin_trgm_ops); \
                 ANALYZE tasks",
            )?;
            let times = sequential(REQUESTS, |_| {
                reader.get("/api/reader/tasks?q=report&limit=50").status == 200
            })?;
            row(name, "search, with a trigram index", &times);
        }
    }
    Ok(())
}

/// Writes `tasks` tasks of `tasks / each` users (`filler-N`) straight into
/// the tables, each with a tag and its change, as the app would have: the
/// bodies and events are copies of the user `reader`'s first.
fn fill(stack: &Stack, tasks: usize, each: usize) -> anyhow::Result<()> {
    let numbers = format!(
        "WITH RECURSIVE n (i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < {})",
        tasks - 1
    );
    let user = format!("'filler-' || CAST(i / {each} AS TEXT)");
    let id = "'T' || CAST(i AS TEXT)";
    let words = "CASE i % 5 WHEN 0 THEN 'quarterly report' WHEN 1 THEN 'groceries' \
                 WHEN 2 THEN 'call the bank' WHEN 3 THEN 'plan the trip' ELSE 'fix the bike' END";
    stack.sql(&format!(
        "INSERT INTO tasks (user_id, id, version, completed, priority, due_at, title_key, search, body) \
         {numbers} SELECT {user}, {id}, 1, i % 7 = 0, i % 4, \
         CASE WHEN i % 5 = 0 THEN NULL ELSE 1800000000000000 + i * 1000000 END, \
         {words} || ' #' || CAST(i AS TEXT), {words} || ' #' || CAST(i AS TEXT) || '\nwork', \
         (SELECT body FROM tasks WHERE user_id = 'reader' LIMIT 1) FROM n"
    ))?;
    stack.sql(&format!(
        "INSERT INTO task_tags (user_id, task_id, tag) {numbers} SELECT {user}, {id}, 'work' FROM n"
    ))?;
    stack.sql(&format!(
        "INSERT INTO changes (user_id, seq, task_id, event_id, event_type, at, event, published_at) \
         {numbers} SELECT {user}, i % {each} + 1, {id}, 'E' || CAST(i AS TEXT), 'created', \
         1700000000000000, (SELECT event FROM changes WHERE user_id = 'reader' LIMIT 1), \
         1700000000000 FROM n"
    ))?;
    stack.sql(&format!(
        "INSERT INTO users (user_id, last_change, tasks) {numbers} \
         SELECT {user}, {each}, {each} FROM n WHERE i % {each} = 0"
    ))?;
    stack.sql("ANALYZE")?;
    Ok(())
}

/// A varied task: priorities, tags, due dates across zones, some words to find.
/// Waits until `user`'s change feed holds `events` changes. Each change's
/// own transaction records it, so this waits only for writes still on
/// their way (before tasks moved to SQL it waited for a consumer).
fn settled(client: &Client, user: &str, events: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let page = client.get(&format!(
            "/api/{user}/changes?after={}",
            events.saturating_sub(1)
        ));
        if page.body["cursor"].as_u64().unwrap_or(0) >= events as u64 {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(300),
            "the consumers did not catch up with {events} events of {user}: {page:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn task(i: usize) -> Value {
    let zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"];
    let words = [
        "quarterly report",
        "groceries",
        "call the bank",
        "plan the trip",
        "fix the bike",
    ];
    let tags: Vec<&str> = ["work", "home", "errand", "health"]
        .into_iter()
        .cycle()
        .skip(i % 4)
        .take(1 + i % 3)
        .collect();
    let priority = ["none", "low", "medium", "high"][i % 4];
    json!({
        "title": format!("{} #{i}", words[i % words.len()]),
        "description": if i.is_multiple_of(3) { Value::from(format!("notes for item {i}")) } else { Value::Null },
        "priority": priority,
        "tags": tags,
        "due_at": if i.is_multiple_of(5) { Value::Null } else { Value::from(format!("2026-{:02}-{:02}T{:02}:30", 1 + i % 12, 1 + i % 28, i % 24)) },
        "time_zone": zones[i % zones.len()],
        "completed": i.is_multiple_of(7),
    })
}

fn seed(client: &Client, base: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let ids = on_workers(8, count, |i| id(&client.post(base, &task(i)).body));
    anyhow::ensure!(
        ids.iter().all(|i| !i.is_empty()),
        "some seeding requests failed"
    );
    Ok(ids)
}

/// Runs `call(0)` .. `call(total - 1)` on `workers` threads, each taking the
/// next index when it is free; answers the results in no particular order.
fn on_workers<T: Send>(workers: usize, total: usize, call: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            return done;
                        }
                        done.push(call(i));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn id(task: &Value) -> String {
    task["id"].as_str().unwrap_or_default().to_owned()
}

fn sequential(n: usize, mut call: impl FnMut(usize) -> bool) -> anyhow::Result<Vec<f64>> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        anyhow::ensure!(call(i), "request {i} failed");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

struct Run {
    sent: usize,
    ok: usize,
    elapsed: Duration,
    /// Sorted latencies in ms, counted from when each request was due to be
    /// sent (so a backlog shows up as latency: no coordinated omission).
    times: Vec<f64>,
}

/// Sends `rate` requests a second for `seconds`, open loop, from 64 workers.
fn at_rate(rate: f64, seconds: f64, call: impl Fn(usize) -> bool + Sync) -> Run {
    let total = (rate * seconds) as usize;
    let start = Instant::now();
    let results: Vec<(bool, f64)> = on_workers(64, total, |i| {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let ok = call(i);
        (ok, due.elapsed().as_secs_f64() * 1000.0)
    });
    let elapsed = start.elapsed();
    let mut times: Vec<f64> = results.iter().map(|(_, t)| *t).collect();
    times.sort_by(f64::total_cmp);
    Run {
        sent: total,
        ok: results.iter().filter(|(ok, _)| *ok).count(),
        elapsed,
        times,
    }
}

/// Milliseconds of CPU per request that each process spent since `before`,
/// over `requests` requests.
fn feed(env: &Env) -> anyhow::Result<()> {
    println!(
        "100 creates, one at a time; ms from the create's answer until the change feed has it\n"
    );
    header();
    for profile in [Profile::Sqlite, Profile::Postgres] {
        let stack = start(env, profile)?;
        let user = "feed-bench";
        let client = stack.client(user);
        let mut cursor = 0;
        let mut delays = Vec::new();
        for i in 0..100 {
            let created = client.post(
                &format!("/api/{user}/tasks"),
                &json!({"title": format!("feed {i}")}),
            );
            anyhow::ensure!(created.status == 201, "create: {created:?}");
            let answered = Instant::now();
            loop {
                anyhow::ensure!(
                    answered.elapsed() < Duration::from_secs(30),
                    "the change never came"
                );
                let page = client.get(&format!("/api/{user}/changes?after={cursor}"));
                if let Some(next) = page.body["cursor"].as_u64().filter(|c| *c > cursor) {
                    cursor = next;
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            delays.push(answered.elapsed().as_secs_f64() * 1000.0);
        }
        delays.sort_by(f64::total_cmp);
        row(
            profile.name(),
            "write answered -> in the change feed",
            &delays,
        );
    }
    Ok(())
}

fn writes(env: &Env) -> anyhow::Result<()> {
    const CREATES: usize = 1000;
    let stack = start(env, Profile::Postgres)?;
    let user = "writes-bench";
    let client = stack.client(user);
    println!("{CREATES} creates of one user, 50 a second, one client, full profile\n");
    let cpu_before = cpu_by_process();
    let mut times = Vec::with_capacity(CREATES);
    for i in 0..CREATES {
        let started = Instant::now();
        let created = client.post(
            &format!("/api/{user}/tasks"),
            &json!({"title": format!("write {i}")}),
        );
        anyhow::ensure!(created.status == 201, "create: {created:?}");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(20).saturating_sub(started.elapsed()));
    }
    // What the last creates set off (relays, consumers) settles.
    std::thread::sleep(Duration::from_secs(3));
    let per = cpu_per_request(&cpu_before, CREATES);
    times.sort_by(f64::total_cmp);
    println!(
        "| create p50 | p99 | host | daprd | PostgreSQL | scheduler | Kafka | all (CPU ms a create) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    let names = ["todo-host", "daprd", "postgres", "scheduler", "java"];
    println!(
        "| {:.2} | {:.2} | {} |",
        quantile(&times, 0.50),
        quantile(&times, 0.99),
        cpu_cells(&names, &per),
    );

    // As fast as 16 clients go, then until what they set off has settled.
    const BURST: usize = 4000;
    println!("\n{BURST} creates of one user from 16 clients, as fast as they go\n");
    let resident_before = resident_mib("todo-host");
    let cpu_before = cpu_by_process();
    let started = Instant::now();
    let created = on_workers(16, BURST, |i| {
        let created = client.post(
            &format!("/api/{user}/tasks"),
            &json!({"title": format!("burst {i}"), "tags": ["work"]}),
        );
        created.status == 201
    });
    let rate = BURST as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(created.iter().all(|ok| *ok), "some creates failed");
    std::thread::sleep(Duration::from_secs(3));
    let per = cpu_per_request(&cpu_before, BURST);
    println!(
        "| creates/s | host | daprd | PostgreSQL | scheduler | Kafka | all (CPU ms a create) | host MiB before / after |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {rate:.0} | {} | {resident_before:.0} / {:.0} |",
        cpu_cells(&names, &per),
        resident_mib("todo-host"),
    );
    Ok(())
}

/// Table cells: the CPU of each process of `names` per request, then
/// their sum.
fn cpu_cells(names: &[&str], per: &impl Fn(&str) -> f64) -> String {
    let mut cells: Vec<String> = names.iter().map(|n| format!("{:.2}", per(n))).collect();
    cells.push(format!("{:.2}", names.iter().map(|n| per(n)).sum::<f64>()));
    cells.join(" | ")
}

/// The resident memory of the processes named `name`, in MiB (Linux /proc).
fn resident_mib(name: &str) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut kib = 0.0;
    for entry in entries.flatten() {
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        if status.lines().next() != Some(&format!("Name:\t{name}")) {
            continue;
        }
        kib += status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0);
    }
    kib / 1024.0
}

fn web(env: &Env) -> anyhow::Result<()> {
    let stack = start(env, Profile::Postgres)?;
    let node = std::env::var("TODO_NODE").unwrap_or_else(|_| "node".into());
    let output = std::process::Command::new(node)
        .current_dir(e2e::repo_root().join("tests/web"))
        .arg("bench.mjs")
        .env("TODO_URL", stack.url(""))
        .env(
            "CHROMIUM",
            std::env::var("TODO_CHROMIUM").unwrap_or_default(),
        )
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "bench.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let figures: Value = serde_json::from_slice(&output.stdout)?;
    let sorted = |name: &str| {
        let mut values: Vec<f64> = figures[name]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        values.sort_by(f64::total_cmp);
        values
    };
    println!("The web app in Chromium, full profile; times in ms\n");
    header();
    for (name, operation) in [
        ("first_paint_ms", "first paint, nothing cached"),
        (
            "first_render_ms",
            "first render of the signed-in list (20 tasks), nothing cached",
        ),
        (
            "warm_render_ms",
            "the same page reloaded (files revalidated)",
        ),
        ("signin_ms", "sign-in: click -> list shown"),
        ("live_ms", "a write's answer -> shown on another open page"),
        (
            "offline_render_ms",
            "reloaded offline, from the service worker's copies",
        ),
        (
            "keystroke_ms",
            "quick add: the engine reads a keystroke's line in the page",
        ),
    ] {
        row("full", operation, &sorted(name));
    }
    println!(
        "\nfirst load: {} requests, {} bytes of page files and {} bytes of API answers \
         transferred (uncompressed); reloaded: {} bytes of page files",
        figures["requests"],
        figures["files_bytes"],
        figures["api_bytes"],
        figures["warm_files_bytes"]
    );
    println!(
        "offline reload: {} bytes read from the worker's copies; quick add's engine: \
         {} bytes, instantiated {:.0} ms after navigation (after the list is shown)",
        figures["offline_bytes"],
        figures["engine_bytes"],
        figures["engine_ms"].as_f64().unwrap_or_default()
    );
    Ok(())
}

fn accounts(env: &Env) -> anyhow::Result<()> {
    println!("50 sequential sign-ins of one account, one client, full profile; times in ms\n");
    header();
    let stack = start(env, Profile::Postgres)?;
    let anonymous = Client::new(stack.url(""), None);
    let credentials = json!({"username": "bench-account", "password": "a long enough password"});
    anyhow::ensure!(
        anonymous.post("/api/auth/signup", &credentials).status == 201,
        "sign-up failed"
    );
    let signins = sequential(50, |_| {
        anonymous.post("/api/auth/signin", &credentials).status == 200
    })?;
    row(
        "full",
        "sign in (argon2id, 19 MiB, 2 passes, in the component)",
        &signins,
    );
    let client = stack.client("bench-account");
    let reads = sequential(50, |_| {
        client.get("/api/bench-account/settings").status == 200
    })?;
    row(
        "full",
        "GET settings (a token check and one state read; yardstick)",
        &reads,
    );
    Ok(())
}

fn chat(env: &Env, requests: usize) -> anyhow::Result<()> {
    println!("{requests} sequential requests each, one client, full profile; times in ms\n");
    header();
    let stack = start(env, Profile::Postgres)?;
    let (chat_user, api_user) = ("chat-bench", "api-bench");
    let chat = stack.client(chat_user);
    let api = stack.client(api_user);
    let mut conversation = String::new();
    let chat_path = format!("/api/{chat_user}/chat");
    let say = |message: &str, conversation: &mut String| {
        let mut body = json!({"message": message, "time_zone": "Europe/Berlin"});
        if !conversation.is_empty() {
            body["conversation_id"] = json!(conversation.clone());
        }
        let reply = chat.post(&chat_path, &body);
        if let Some(id) = reply.body["conversation_id"].as_str() {
            *conversation = id.to_owned();
        }
        reply.status == 200
            && reply.body["tool_calls"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
    };
    let adds = sequential(requests, |i| {
        say(
            &format!("add bench task {i} tomorrow at 5pm #bench high priority"),
            &mut conversation,
        )
    })?;
    row(
        "full",
        "chat: add (\"add ... tomorrow at 5pm #bench high priority\")",
        &adds,
    );
    let creates = sequential(requests, |i| {
        let body = json!({"title": format!("bench task {i}"), "due_at": "2030-01-01T17:00",
                          "time_zone": "Europe/Berlin", "tags": ["bench"], "priority": "high"});
        api.post(&format!("/api/{api_user}/tasks"), &body).status == 201
    })?;
    row("full", "tasks API: create (yardstick)", &creates);
    let lists = sequential(requests, |_| {
        say("show my high priority bench tasks", &mut conversation)
    })?;
    row(
        "full",
        "chat: list (\"show my high priority bench tasks\", 20 shown)",
        &lists,
    );
    let api_lists = sequential(requests, |_| {
        let query = "status=pending&priority=high&tag=bench&sort=due_at&limit=20";
        api.get(&format!("/api/{api_user}/tasks?{query}")).status == 200
    })?;
    row("full", "tasks API: same listing (yardstick)", &api_lists);
    println!(
        "\nThe chat's conversation grows with each message (the last 100 kept), and is read and written back each turn."
    );
    engine_in_wasm(env)
}

/// The language engine's time per message inside a component (the probe,
/// `POST /probe/language`, on the project's host): every message of the
/// corpus read 200 times there.
fn engine_in_wasm(env: &Env) -> anyhow::Result<()> {
    let manifest = e2e::repo_root().join("tests/e2e/fixtures/probe.toml");
    let host = Host::start(
        env,
        &manifest,
        &[
            ("allowed_port", "1".to_owned()),
            ("silent_port", "1".to_owned()),
        ],
    )?;
    let client = Client::new(format!("http://127.0.0.1:{}", host.port), None);
    let corpus: Value = serde_json::from_str(&std::fs::read_to_string(
        e2e::repo_root().join("tests/language/corpus.json"),
    )?)?;
    let sections = corpus["sections"].as_array().cloned().unwrap_or_default();
    let mut micros: Vec<f64> = Vec::new();
    for case in sections
        .iter()
        .flat_map(|s| s["cases"].as_array().cloned().unwrap_or_default())
    {
        let message = case["message"].as_str().unwrap_or_default();
        let reply = client.send("POST", "/probe/language", Some(message));
        let text = match &reply.body {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        micros.extend(
            text.lines()
                .filter_map(|l| l.trim().parse::<f64>().ok())
                .map(|ns| ns / 1000.0),
        );
    }
    micros.sort_by(f64::total_cmp);
    println!(
        "\nThe language engine inside a component (the probe, on todo-host): {} reads of the corpus' messages, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        micros.len(),
        quantile(&micros, 0.5),
        quantile(&micros, 0.99),
        quantile(&micros, 1.0)
    );
    Ok(())
}

fn reminders(env: &Env) -> anyhow::Result<()> {
    println!(
        "ms from each reminder's time to its notification in the inbox (delivered_at), \
         full profile (PostgreSQL, Kafka), the sweep every minute\n"
    );
    println!(
        "| run | reminders | p50 | p99 | max | CPU host | CPU daprd | CPU postgres | CPU scheduler | CPU kafka |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let stack = start(env, Profile::Postgres)?;
    // Spread: one every 300 ms over a minute, across 20 users.
    let spread = |i: usize| Duration::from_millis(300 * i as u64);
    reminder_run(&stack, "spread over a minute", 200, 20, spread)?;
    // A burst: all at one instant, across 100 users.
    reminder_run(&stack, "burst, one instant", 1000, 100, |_| Duration::ZERO)?;
    println!(
        "\nCPU: ms per reminder, from after the tasks were created and their jobs armed until \
         every notification was read back (firing, publishing, the notifier, the reads)"
    );
    Ok(())
}

/// The delay from each reminder's time to its push reaching the push
/// service (the fake of `tests/e2e/push`, one browser per user), 200
/// reminders of 20 users spread over a minute, beside the delay to the
/// inbox of the same reminders.
fn pushes(env: &Env) -> anyhow::Result<()> {
    const USERS: usize = 20;
    const COUNT: usize = 200;
    let stack = start(env, Profile::Postgres)?;
    let fake = e2e::FakePushService::start()?;
    let user = |i: usize| format!("pushed-{}", i % USERS);
    for u in 0..USERS {
        let browser = fake.browser(&format!("bench-{u}"))?;
        let path = format!("/api/{}/push-subscriptions", user(u));
        let reply = stack.client(&user(u)).post(&path, &browser);
        anyhow::ensure!(reply.status == 201, "{reply:?}");
    }
    let first = chrono::Utc::now() + chrono::Duration::seconds(30);
    let at = |i: usize| first + chrono::Duration::milliseconds(300 * i as i64);
    let created = on_workers(4, COUNT, |i| {
        let remind = at(i).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let body = json!({"title": format!("pushed {i}"), "reminders": [{"at": remind}]});
        let reply = stack
            .client(&user(i))
            .post(&format!("/api/{}/tasks", user(i)), &body);
        reply.status == 201
    });
    anyhow::ensure!(created.iter().all(|ok| *ok), "some tasks were not created");
    if let Ok(wait) = (at(COUNT - 1) - chrono::Utc::now()).to_std() {
        std::thread::sleep(wait);
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    let received = loop {
        let received = fake.received()?;
        let delivered = received.iter().filter(|r| r["status"] == 201).count();
        if delivered >= COUNT {
            break received;
        }
        anyhow::ensure!(Instant::now() < deadline, "{delivered} of {COUNT} pushes");
        std::thread::sleep(Duration::from_millis(500));
    };
    anyhow::ensure!(
        received.iter().all(|r| r["problems"] == json!([])),
        "the fake found problems"
    );
    let ms = |later: f64, earlier: &str| -> Option<f64> {
        let due = chrono::DateTime::parse_from_rfc3339(earlier).ok()?;
        Some(later * 1000.0 - due.timestamp_micros() as f64 / 1000.0)
    };
    let mut pushed: Vec<f64> = (received.iter())
        .filter_map(|r| ms(r["at"].as_f64()?, r["message"]["remind_at"].as_str()?))
        .collect();
    let mut inbox = Vec::new();
    for u in 0..USERS {
        let page = stack
            .client(&user(u))
            .get(&format!("/api/{}/notifications?limit=200", user(u)));
        for note in page.body["notifications"].as_array().into_iter().flatten() {
            let delivered = chrono::DateTime::parse_from_rfc3339(
                note["delivered_at"].as_str().unwrap_or_default(),
            );
            if let Ok(delivered) = delivered {
                let seconds = delivered.timestamp_micros() as f64 / 1e6;
                inbox.extend(ms(seconds, note["remind_at"].as_str().unwrap_or_default()));
            }
        }
    }
    pushed.sort_by(f64::total_cmp);
    inbox.sort_by(f64::total_cmp);
    println!(
        "ms from each reminder's time, 200 spread over a minute, 20 users with a browser each\n"
    );
    header();
    row("postgres", "to the inbox (delivered_at)", &inbox);
    row(
        "postgres",
        "to the push service receiving its push",
        &pushed,
    );
    Ok(())
}

/// Creates `count` tasks of `users` users, task `i` reminded `offset(i)`
/// after an instant far enough ahead for all of them to be scheduled; waits
/// for every notification and prints a row.
fn reminder_run(
    stack: &Stack,
    run: &str,
    count: usize,
    users: usize,
    offset: impl Fn(usize) -> Duration + Sync,
) -> anyhow::Result<()> {
    let start = chrono::Utc::now() + chrono::Duration::seconds(30);
    let user = |i: usize| {
        format!(
            "{}-{}",
            run.split(',').next().unwrap_or(run).replace(' ', "-"),
            i % users
        )
    };
    let created = on_workers(4, count, |i| {
        let at = start + chrono::Duration::from_std(offset(i)).unwrap_or_default();
        let body = json!({"title": format!("reminded {i}"),
                          "reminders": [{"at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)}]});
        let reply = stack
            .client(&user(i))
            .post(&format!("/api/{}/tasks", user(i)), &body);
        reply.status == 201
    });
    anyhow::ensure!(created.iter().all(|ok| *ok), "some tasks were not created");
    anyhow::ensure!(
        chrono::Utc::now() < start,
        "creating took longer than the lead"
    );
    // What the chain costs from here on (the reminder scheduler has long
    // armed the jobs): firing, publishing, the notifier, the reads back.
    std::thread::sleep(Duration::from_secs(3));
    let cpu_before = cpu_by_process();
    let last = start + chrono::Duration::from_std(offset(count - 1)).unwrap_or_default();
    // No polling before the last reminder's time: it would take CPU from
    // the chain being measured.
    if let Ok(wait) = (last - chrono::Utc::now()).to_std() {
        std::thread::sleep(wait);
    }
    let mut delays = Vec::new();
    for u in 0..users {
        let client = stack.client(&user(u));
        let expected = (0..count).filter(|i| i % users == u).count();
        let deadline = last + chrono::Duration::seconds(180);
        let notes = loop {
            let page = client.get(&format!("/api/{}/notifications?limit=200", user(u)));
            let notes = page.body["notifications"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if notes.len() >= expected {
                break notes;
            }
            anyhow::ensure!(
                chrono::Utc::now() < deadline,
                "{}: {} of {expected}",
                user(u),
                notes.len()
            );
            std::thread::sleep(Duration::from_millis(500));
        };
        for note in notes {
            let at = |field: &str| {
                chrono::DateTime::parse_from_rfc3339(note[field].as_str().unwrap_or_default()).ok()
            };
            if let (Some(delivered), Some(due)) = (at("delivered_at"), at("remind_at")) {
                delays.push((delivered - due).num_microseconds().unwrap_or(0) as f64 / 1000.0);
            }
        }
    }
    anyhow::ensure!(
        delays.len() == count,
        "{} notifications for {count} reminders",
        delays.len()
    );
    let per = cpu_per_request(&cpu_before, count);
    delays.sort_by(f64::total_cmp);
    println!(
        "| {run} | {count} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
        quantile(&delays, 0.50),
        quantile(&delays, 0.99),
        delays.last().copied().unwrap_or(f64::NAN),
        per("todo-host"),
        per("daprd"),
        per("postgres"),
        per("scheduler"),
        per("java"),
    );
    Ok(())
}

fn cpu_per_request(
    before: &std::collections::BTreeMap<String, f64>,
    requests: usize,
) -> impl Fn(&str) -> f64 {
    let after = cpu_by_process();
    let before = before.clone();
    move |name: &str| {
        let spent = after.get(name).unwrap_or(&0.0) - before.get(name).unwrap_or(&0.0);
        spent * 1000.0 / requests.max(1) as f64
    }
}

/// CPU seconds used so far by each process name of interest (Linux /proc).
fn cpu_by_process() -> std::collections::BTreeMap<String, f64> {
    let mut totals = std::collections::BTreeMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return totals;
    };
    for entry in entries.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ... utime stime: fields 14 and 15, counted after the comm.
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let name = head.split_once(" (").map(|(_, n)| n).unwrap_or_default();
        if !matches!(
            name,
            "todo-host" | "daprd" | "postgres" | "api-bench" | "scheduler" | "java"
        ) {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = fields
            .get(11..13)
            .map(|f| f.iter().filter_map(|t| t.parse::<f64>().ok()).sum())
            .unwrap_or(0.0);
        *totals.entry(name.to_owned()).or_insert(0.0) += ticks / 100.0;
    }
    totals
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn header() {
    println!("| profile | operation | p50 | p99 | mean | max |");
    println!("|---|---|---:|---:|---:|---:|");
}

fn row(profile: &str, operation: &str, sorted: &[f64]) {
    let mean = sorted.iter().sum::<f64>() / sorted.len().max(1) as f64;
    println!(
        "| {profile} | {operation} | {:.2} | {:.2} | {mean:.2} | {:.2} |",
        quantile(sorted, 0.50),
        quantile(sorted, 0.99),
        quantile(sorted, 1.0)
    );
}

fn rate_row(operation: &str, run: &Run) {
    println!(
        "| {operation} | {} | {} | {:.2} | {:.2} | {:.2} |",
        run.sent,
        run.ok,
        quantile(&run.times, 0.50),
        quantile(&run.times, 0.99),
        quantile(&run.times, 1.0)
    );
}
