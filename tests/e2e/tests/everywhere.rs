//! Your tasks everywhere, end to end on both profiles: the calendar feed
//! read as calendar apps' libraries read it (Python's `icalendar` and
//! `recurring-ical-events`, `tests/e2e/ical/expand.py`) against the app's
//! own occurrences, and its secret address made, rotated and revoked;
//! imports of Todoist's CSV export (`tests/e2e/fixtures/todoist/`, written
//! in its documented format) and of the app's own export.

use std::io::Write as _;
use std::process::{Command, Stdio};

use e2e::{Client, Scenario, Stack, create, id};
use serde_json::{Value, json};

const SCENARIOS: &[(&str, Scenario)] = &[
    (
        "the_feed_reads_in_calendar_libraries_as_the_app_repeats",
        feed_as_read,
    ),
    (
        "the_feed_address_is_secret_rotated_and_revoked",
        feed_address,
    ),
    (
        "todoist_files_are_imported_once_with_the_unread",
        todoist_import,
    ),
    ("bad_import_files_are_refused_by_line", bad_imports),
    ("an_export_imported_anew_lists_the_same", round_trip),
];

fn main() {
    e2e::run_trials(SCENARIOS, &[])
}

/// Makes `user` a feed address, answering its path.
fn make_feed(client: &Client, user: &str) -> anyhow::Result<String> {
    let made = client.post(&format!("/api/{user}/settings/calendar-feed"), &json!({}));
    anyhow::ensure!(made.status == 201, "{made:?}");
    let url = made.body["url"].as_str().unwrap_or_default();
    let path = url.find("/ical/").map(|at| &url[at..]).unwrap_or_default();
    anyhow::ensure!(path.len() == "/ical/.ics".len() + 64, "{made:?}");
    Ok(path.to_owned())
}

/// The feed as `icalendar` and `recurring-ical-events` read it.
fn expanded(feed: &str) -> anyhow::Result<Value> {
    let python = std::env::var("TODO_ICAL_PYTHON").map_err(|_| {
        anyhow::anyhow!("TODO_ICAL_PYTHON is not set: run the tests with scripts/test")
    })?;
    let script = e2e::repo_root().join("tests/e2e/ical/expand.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(feed.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    anyhow::ensure!(
        output.status.success(),
        "expand.py failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// An instant as the script writes it: UTC, to the second.
fn utc(raw: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|at| at.to_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn feed_as_read(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let path = make_feed(&client, user)?;
    // Series across daylight saving changes in both directions, ended by
    // COUNT and by UNTIL (a date and an instant), and one whose due date
    // the rule does not match.
    let series = [
        json!({"title": "Weekly review", "due_at": "2027-03-01T09:00:00", "time_zone": "Europe/Berlin",
               "recurrence": "FREQ=WEEKLY;BYDAY=MO", "reminders": [{"minutes_before": 15}],
               "tags": ["work", "weekly"], "priority": "high"}),
        json!({"title": "Stretch", "due_at": "2027-03-01T08:30:00", "time_zone": "America/New_York",
               "recurrence": "FREQ=DAILY;COUNT=40"}),
        json!({"title": "Water the plants", "due_at": "2027-03-20T07:00:00", "time_zone": "Europe/Berlin",
               "recurrence": "FREQ=DAILY;INTERVAL=3;UNTIL=20270410"}),
        json!({"title": "Pay rent", "due_at": "2027-01-31T10:00:00", "time_zone": "Australia/Sydney",
               "recurrence": "FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20271001T000000Z"}),
        json!({"title": "Bins out", "due_at": "2027-10-25T19:00:00", "time_zone": "America/New_York",
               "recurrence": "FREQ=WEEKLY;INTERVAL=2"}),
        json!({"title": "Tuesday, then Mondays", "due_at": "2027-01-05T10:00:00", "time_zone": "Asia/Tokyo",
               "recurrence": "FREQ=WEEKLY;BYDAY=MO;COUNT=3"}),
        json!({"title": "Dentist, 3rd floor; bring card", "due_at": "2027-02-10T14:15:00",
               "time_zone": "Europe/London"}),
    ];
    let mut made = Vec::new();
    for body in series {
        made.push(create(&client, user, body)?);
    }
    create(&client, user, json!({"title": "Someday"}))?;
    let done = create(
        &client,
        user,
        json!({"title": "Done", "due_at": "2027-01-01T10:00:00Z"}),
    )?;
    let complete = format!("/api/{user}/tasks/{}/complete", id(&done));
    anyhow::ensure!(client.send("PATCH", &complete, None).status == 200);

    // The calendar app has the address and nothing else.
    let feed = Client::new(stack.url(""), None).get(&path);
    anyhow::ensure!(feed.status == 200, "{feed:?}");
    anyhow::ensure!(
        feed.header("content-type") == Some("text/calendar; charset=utf-8"),
        "{:?}",
        feed.headers
    );
    let body = feed.body.as_str().unwrap_or_default();
    anyhow::ensure!(body.contains("\r\n") && !body.replace("\r\n", "").contains('\n'));
    let read = expanded(body)?;
    let events = read["events"].as_object().cloned().unwrap_or_default();
    anyhow::ensure!(
        events.len() == made.len(),
        "pending with a due date only: {read}"
    );
    for task in &made {
        let uid = format!("{}@todo-chatbot", id(task));
        let event = (events.get(&uid)).ok_or_else(|| anyhow::anyhow!("no {uid} in {read}"))?;
        anyhow::ensure!(event["summary"] == task["title"], "{event} {task}");
        // The app's own occurrences, and the task itself where its rule
        // does not match its due date.
        let due = utc(task["due_at"].as_str().unwrap_or_default());
        let mut expected = vec![due.clone()];
        if !task["recurrence"].is_null() {
            let path = format!("/api/{user}/tasks/{}/occurrences?count=100", id(task));
            let occurrences = client.get(&path);
            anyhow::ensure!(occurrences.status == 200, "{occurrences:?}");
            let listed: Vec<String> = (occurrences.body["occurrences"].as_array().into_iter())
                .flatten()
                .filter_map(|at| at.as_str().map(utc))
                .collect();
            expected = listed;
            if expected.first() != Some(&due) {
                expected.insert(0, due);
            }
        }
        // The script expands a year from the start.
        let start =
            chrono::DateTime::parse_from_rfc3339(task["due_at"].as_str().unwrap_or_default())?;
        let year_on = utc(&(start + chrono::Duration::days(365)).to_rfc3339());
        let whole = expected.len() < 100 || expected.last().is_some_and(|at| *at >= year_on);
        anyhow::ensure!(whole, "the year is longer than the endpoint's list");
        expected.retain(|at| *at < year_on);
        let instants: Vec<String> = (event["instants"].as_array().into_iter())
            .flatten()
            .filter_map(|at| at.as_str().map(str::to_owned))
            .collect();
        anyhow::ensure!(
            instants == expected,
            "{}: the feed read as\n{instants:?}\nthe app says\n{expected:?}",
            task["title"]
        );
    }
    let review = &read["events"][&format!("{}@todo-chatbot", id(&made[0]))];
    anyhow::ensure!(
        review["alarms"] == json!(["-PT15M"]) && review["categories"] == json!(["work", "weekly"]),
        "{review}"
    );
    // Each zone's VTIMEZONE says what the tz database says, hour by hour.
    let zones = read["zones"].as_object().cloned().unwrap_or_default();
    let mut names: Vec<&String> = zones.keys().collect();
    names.sort();
    anyhow::ensure!(
        names
            == [
                "America/New_York",
                "Asia/Tokyo",
                "Australia/Sydney",
                "Europe/Berlin",
                "Europe/London"
            ],
        "{names:?}"
    );
    for (name, wrong) in &zones {
        anyhow::ensure!(wrong == &json!([]), "{name} differs at {wrong}");
    }
    // A change is a new SEQUENCE of the same UID.
    let stretch = id(&made[1]);
    let renamed = client.patch(
        &format!("/api/{user}/tasks/{stretch}"),
        &json!({"title": "Stretch well"}),
    );
    anyhow::ensure!(renamed.status == 200, "{renamed:?}");
    let again = expanded(
        Client::new(stack.url(""), None)
            .get(&path)
            .body
            .as_str()
            .unwrap_or_default(),
    )?;
    let event = &again["events"][&format!("{stretch}@todo-chatbot")];
    anyhow::ensure!(
        event["summary"] == "Stretch well" && event["sequence"] == 1,
        "{event}"
    );
    Ok(())
}

fn feed_address(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let anyone = Client::new(stack.url(""), None);
    let settings = format!("/api/{user}/settings/calendar-feed");
    anyhow::ensure!(client.get(&settings).body == json!({"active": false}));
    create(
        &client,
        user,
        json!({"title": "Mine", "due_at": "2027-05-01T10:00:00Z"}),
    )?;
    let first = make_feed(&client, user)?;
    let status = client.get(&settings);
    anyhow::ensure!(
        status.body["active"] == true && status.body.get("url").is_none(),
        "the address is shown once: {status:?}"
    );
    let feed = anyone.get(&first);
    anyhow::ensure!(feed.status == 200, "{feed:?}");
    let etag = feed.header("etag").unwrap_or_default().to_owned();
    let modified = feed.header("last-modified").unwrap_or_default().to_owned();
    anyhow::ensure!(
        etag.starts_with('"') && modified.ends_with(" GMT"),
        "{:?}",
        feed.headers
    );
    // A calendar app asking again gets 304 while nothing changed.
    let ask = |headers: &[(&str, &str)]| anyone.try_send_with("GET", &first, None, headers);
    let same = ask(&[("if-none-match", &etag)])?;
    anyhow::ensure!(same.status == 304 && same.body == "", "{same:?}");
    anyhow::ensure!(ask(&[("if-modified-since", &modified)])?.status == 304);
    create(
        &client,
        user,
        json!({"title": "Another", "due_at": "2027-05-02T10:00:00Z"}),
    )?;
    let changed = ask(&[("if-none-match", &etag)])?;
    anyhow::ensure!(
        changed.status == 200 && changed.header("etag") != Some(&etag),
        "{changed:?}"
    );
    // Another user's address reads their tasks only; their token cannot
    // touch this user's address.
    let other = format!("{user}-other");
    let theirs = make_feed(&stack.client(&other), &other)?;
    let their_feed = anyone.get(&theirs);
    anyhow::ensure!(their_feed.status == 200, "{their_feed:?}");
    anyhow::ensure!(
        !their_feed
            .body
            .as_str()
            .unwrap_or_default()
            .contains("Mine")
    );
    let refused = stack.client(&other).post(&settings, &json!({}));
    anyhow::ensure!(refused.status == 403, "{refused:?}");
    // A rotation: the old address is gone, the new one reads.
    let second = make_feed(&client, user)?;
    anyhow::ensure!(anyone.get(&first).status == 404);
    anyhow::ensure!(anyone.get(&second).status == 200);
    // Revoked: nothing reads; neither does anything made up or an API token.
    let revoked = client.delete(&settings);
    anyhow::ensure!(revoked.status == 204, "{revoked:?}");
    let bearer = e2e::token(user, 3600, e2e::SECRET);
    for path in [
        second.clone(),
        format!("/ical/{}.ics", "0".repeat(64)),
        format!("/ical/{bearer}.ics"),
        second.trim_end_matches(".ics").to_owned(),
    ] {
        let gone = anyone.get(&path);
        anyhow::ensure!(gone.status == 404, "{path}: {gone:?}");
    }
    anyhow::ensure!(client.get(&settings).body == json!({"active": false}));
    anyhow::ensure!(anyone.get(&theirs).status == 200, "their address is theirs");
    Ok(())
}

/// A file of `tests/e2e/fixtures/todoist/`.
fn todoist_file(name: &str) -> anyhow::Result<String> {
    let path = e2e::repo_root()
        .join("tests/e2e/fixtures/todoist")
        .join(name);
    Ok(std::fs::read_to_string(path)?)
}

/// The titles of a listing.
fn titles(reply: &e2e::Reply) -> Vec<String> {
    (reply.body["tasks"].as_array().into_iter().flatten())
        .filter_map(|t| t["title"].as_str().map(str::to_owned))
        .collect()
}

fn todoist_import(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let file = todoist_file("Home.csv")?;
    let import = |query: &str| {
        let path = format!("/api/{user}/import?from=todoist&project=Home{query}");
        client.send("POST", &path, Some(&file))
    };
    let all = format!("/api/{user}/tasks?status=all&limit=100");
    // The dry run says what would be made and what was not read, and makes
    // nothing.
    let dry = import("&dry_run=true");
    anyhow::ensure!(dry.status == 200 && dry.body["dry_run"] == true, "{dry:?}");
    let planned: Vec<&str> = (dry.body["tasks"].as_array().into_iter().flatten())
        .filter_map(|t| t["task"]["title"].as_str())
        .collect();
    let expected = [
        "Pay rent",
        "Water the plants",
        "Mow the lawn",
        "Post office, then bank",
        "Renew passport",
        "Call mom",
        "Kündigung schreiben",
    ];
    anyhow::ensure!(planned == expected, "{planned:?}");
    let problems: Vec<&str> = (dry.body["problems"].as_array().into_iter().flatten())
        .filter_map(|p| p["at"].as_str())
        .collect();
    anyhow::ensure!(
        problems == ["line 12", "line 15", "line 17", "line 18", "line 19"],
        "{}",
        dry.body["problems"]
    );
    anyhow::ensure!(dry.body["projects"] == json!(["Home"]), "{dry:?}");
    anyhow::ensure!(titles(&client.get(&all)).is_empty(), "a dry run made tasks");
    let projects = client.get(&format!("/api/{user}/projects"));
    anyhow::ensure!(projects.body["projects"].as_array().map(Vec::len) == Some(1));

    // The real run makes them, in the file's order, in the project Home.
    let made = import("");
    anyhow::ensure!(
        made.status == 201 && made.body["dry_run"] == false,
        "{made:?}"
    );
    let projects = client.get(&format!("/api/{user}/projects"));
    let home = (projects.body["projects"].as_array().into_iter().flatten())
        .find(|p| p["name"] == "Home")
        .map(|p| p["id"].as_str().unwrap_or_default().to_owned())
        .ok_or_else(|| anyhow::anyhow!("no project Home: {projects:?}"))?;
    let listed = client.get(&format!(
        "/api/{user}/tasks?project={home}&status=all&limit=100"
    ));
    anyhow::ensure!(titles(&listed) == expected, "{listed:?}");
    let task = |title: &str| {
        (listed.body["tasks"].as_array().into_iter().flatten())
            .find(|t| t["title"] == title)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let rent = task("Pay rent");
    anyhow::ensure!(
        rent["priority"] == "high"
            && rent["tags"] == json!(["bills"])
            && rent["recurrence"] == "FREQ=MONTHLY;BYMONTHDAY=1"
            && rent["time_zone"] == "Europe/Berlin"
            && rent["description"] == "Transfer to the landlord"
            && rent["due_at"]
                .as_str()
                .is_some_and(|d| d.contains("-01T09:00:00+0")),
        "{rent}"
    );
    let lawn = task("Mow the lawn");
    let steps: Vec<&str> = (lawn["steps"].as_array().into_iter().flatten())
        .filter_map(|s| s["text"].as_str())
        .collect();
    anyhow::ensure!(
        steps == ["Buy seeds", "Rake leaves"]
            && lawn["tags"] == json!(["garden"])
            && lawn["priority"] == "medium"
            && lawn["due_at"]
                .as_str()
                .is_some_and(|d| d.contains("T17:00:00+0")),
        "{lawn}"
    );
    let post = task("Post office, then bank");
    anyhow::ensure!(
        post["tags"] == json!(["errands", "town"])
            && post["description"] == "Bring the \"yellow\" slip"
            && post["time_zone"] == "America/New_York",
        "{post}"
    );
    anyhow::ensure!(task("Water the plants")["description"] == "Use the blue can");
    anyhow::ensure!(task("Call mom")["recurrence_mode"] == "completion");
    anyhow::ensure!(
        task("Renew passport")["description"] == "Todoist date: whenever convenient",
        "what was not read is kept"
    );

    // Again: nothing twice.
    let again = import("");
    anyhow::ensure!(
        again.body["tasks"] == json!([]) && again.body["already_imported"] == 7,
        "{again:?}"
    );
    anyhow::ensure!(titles(&client.get(&all)).len() == 7);
    Ok(())
}

fn bad_imports(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let import = |query: &str, body: &str| {
        client.send("POST", &format!("/api/{user}/import?{query}"), Some(body))
    };
    let todoist = "from=todoist&project=Home";
    for (query, body, field) in [
        (todoist, todoist_file("unequal.csv")?, "line 3"),
        (todoist, todoist_file("not-todoist.csv")?, "line 1"),
        ("project=Home", todoist_file("Home.csv")?, "from"),
        ("from=evernote", todoist_file("Home.csv")?, "from"),
        (
            "from=todoist&dry_run=maybe",
            todoist_file("Home.csv")?,
            "dry_run",
        ),
        (
            "from=todoist&project=",
            todoist_file("Home.csv")?,
            "project",
        ),
        ("from=export", "{\"tasks\": [".to_owned(), "line 1"),
        (
            "from=export",
            json!({"format": "other", "version": 1}).to_string(),
            "format",
        ),
    ] {
        let refused = import(query, &body);
        anyhow::ensure!(
            refused.status == 400 && refused.field() == Some(field),
            "{query}: {refused:?}"
        );
    }
    // Over the size an import takes (8 MiB): 413, nothing read.
    let mut big = todoist_file("Home.csv")?;
    let row = "task,Filler,,1,1,,,,,,,\r\n";
    big.push_str(&row.repeat(8 * 1024 * 1024 / row.len() + 1));
    let refused = import(todoist, &big);
    anyhow::ensure!(refused.status == 413, "{:?}", refused.status);
    let all = client.get(&format!("/api/{user}/tasks?status=all"));
    anyhow::ensure!(titles(&all).is_empty(), "{all:?}");
    let projects = client.get(&format!("/api/{user}/projects"));
    anyhow::ensure!(projects.body["projects"].as_array().map(Vec::len) == Some(1));
    let other = stack.client(&format!("{user}-other"));
    let path = format!("/api/{user}/import?{todoist}");
    let forbidden = other.send("POST", &path, Some(&todoist_file("Home.csv")?));
    anyhow::ensure!(forbidden.status == 403, "{forbidden:?}");
    Ok(())
}

fn round_trip(stack: &Stack, user: &str) -> anyhow::Result<()> {
    let client = stack.client(user);
    let work = client.post(
        &format!("/api/{user}/projects"),
        &json!({"name": "Work", "color": "blue"}),
    );
    anyhow::ensure!(work.status == 201, "{work:?}");
    let work = work.body["id"].as_str().unwrap_or_default().to_owned();
    let old = client.post(
        &format!("/api/{user}/projects"),
        &json!({"name": "Old", "archived": true}),
    );
    anyhow::ensure!(old.status == 201, "{old:?}");
    let weekly = create(
        &client,
        user,
        json!({"title": "Weekly review", "project_id": work, "due_at": "2027-03-01T09:00",
        "time_zone": "Europe/Berlin", "recurrence": "FREQ=WEEKLY;BYDAY=MO;COUNT=10", "reminders": [{"minutes_before": 30}]}),
    )?;
    let report = create(
        &client,
        user,
        json!({"title": "Report", "project_id": work, "steps": ["draft", "send"],
        "priority": "high", "tags": ["q1"], "due_at": "2027-02-01T17:00:00Z"}),
    )?;
    let first = create(&client, user, json!({"title": "First", "project_id": work}))?;
    let moved = client.post(
        &format!("/api/{user}/tasks/{}/move", id(&first)),
        &json!({"to": "top"}),
    );
    anyhow::ensure!(moved.status == 200, "{moved:?}");
    let done = create(&client, user, json!({"title": "Done already"}))?;
    let complete = format!("/api/{user}/tasks/{}/complete", id(&done));
    anyhow::ensure!(client.send("PATCH", &complete, None).status == 200);
    let step = format!("/api/{user}/tasks/{}/steps/1", id(&report));
    anyhow::ensure!(client.patch(&step, &json!({"done": true})).status == 200);
    let export = client.get(&format!("/api/{user}/export"));
    anyhow::ensure!(export.status == 200, "{export:?}");

    let copy = format!("{user}-copy");
    let theirs = stack.client(&copy);
    let path = format!("/api/{copy}/import?from=export");
    let imported = theirs.send("POST", &path, Some(&export.body.to_string()));
    anyhow::ensure!(imported.status == 201, "{imported:?}");
    anyhow::ensure!(
        imported.body["projects"] == json!(["Work", "Old"]),
        "{imported:?}"
    );
    for query in [
        "",
        "?status=all&limit=100",
        "?status=completed",
        "?sort=due_at",
        &format!("?project={work}&sort=order"),
    ] {
        let mine = client.get(&format!("/api/{user}/tasks{query}"));
        let copied = theirs.get(&format!("/api/{copy}/tasks{query}"));
        anyhow::ensure!(
            mine.status == 200 && mine.body == copied.body,
            "{query}:\n{}\n{}",
            mine.body,
            copied.body
        );
    }
    let mine = client.get(&format!("/api/{user}/projects?archived=true"));
    let copied = theirs.get(&format!("/api/{copy}/projects?archived=true"));
    anyhow::ensure!(mine.body == copied.body, "{}\n{}", mine.body, copied.body);
    let occurrences = format!("tasks/{}/occurrences?count=20", id(&weekly));
    let mine = client.get(&format!("/api/{user}/{occurrences}"));
    let copied = theirs.get(&format!("/api/{copy}/{occurrences}"));
    anyhow::ensure!(
        mine.body["occurrences"].as_array().map(Vec::len) == Some(10) && mine.body == copied.body,
        "{}\n{}",
        mine.body,
        copied.body
    );
    // Once: a second import makes nothing.
    let again = theirs.send("POST", &path, Some(&export.body.to_string()));
    anyhow::ensure!(
        again.body["tasks"] == json!([]) && again.body["already_imported"] == 4,
        "{again:?}"
    );
    Ok(())
}
