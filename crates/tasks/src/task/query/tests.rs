use std::cmp::Reverse;

use chrono::{DateTime, Duration, FixedOffset, TimeZone as _, Utc};
use proptest::prelude::*;

use super::*;
use crate::task::model::{Description, RecurrenceMode, Steps, TimeZone, Title};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn now() -> DateTime<Utc> {
    at("2026-03-10T12:00:00Z")
}

struct Spec {
    title: &'static str,
    priority: Priority,
    tags: &'static [&'static str],
    due: Option<&'static str>,
    completed: bool,
}

fn task(n: u64, spec: Spec) -> Task {
    let created = at("2026-01-01T00:00:00Z") + Duration::minutes(n as i64);
    let zone = TimeZone::parse("Europe/Berlin").unwrap_or_default();
    Task {
        id: TaskId::new(created, u128::from(n)),
        title: Title::parse(spec.title).unwrap_or_else(|_| panic!("title")),
        description: Description::parse(&format!("note {n}")).ok(),
        completed: spec.completed,
        completed_at: None,
        priority: spec.priority,
        tags: spec
            .tags
            .iter()
            .filter_map(|t| Tag::parse(t).ok())
            .collect(),
        project_id: ProjectId::Inbox,
        due_at: spec.due.map(|d| zone.local(at(d))),
        time_zone: zone,
        recurrence: None,
        recurrence_mode: RecurrenceMode::Schedule,
        reminders: vec![],
        steps: Steps::default(),
        order: None,
        series_id: None,
        created_at: created,
        updated_at: created,
    }
}

/// A known data set: ties, no due dates, and due dates around Berlin midnight.
fn data() -> Vec<Task> {
    vec![
        task(
            0,
            Spec {
                title: "Buy milk",
                priority: Priority::Low,
                tags: &["home"],
                due: Some("2026-03-09T22:59:00Z"),
                completed: false,
            },
        ),
        task(
            1,
            Spec {
                title: "buy bread",
                priority: Priority::High,
                tags: &["home", "food"],
                due: Some("2026-03-09T23:00:00Z"),
                completed: false,
            },
        ),
        task(
            2,
            Spec {
                title: "Call mum",
                priority: Priority::Medium,
                tags: &[],
                due: None,
                completed: false,
            },
        ),
        task(
            3,
            Spec {
                title: "File taxes",
                priority: Priority::High,
                tags: &["money"],
                due: Some("2026-03-01T09:00:00Z"),
                completed: true,
            },
        ),
        task(
            4,
            Spec {
                title: "Plan trip",
                priority: Priority::None,
                tags: &["fun", "home"],
                due: Some("2026-04-01T08:00:00Z"),
                completed: false,
            },
        ),
        task(
            5,
            Spec {
                title: "Zumba",
                priority: Priority::Medium,
                tags: &["fun"],
                due: None,
                completed: false,
            },
        ),
    ]
}

fn titles(query: &str) -> Vec<&'static str> {
    let tasks = data();
    let q = ListQuery::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let page = q.page(&tasks, now());
    let names: Vec<String> = page
        .tasks
        .iter()
        .map(|t| t.title.as_str().to_owned())
        .collect();
    names
        .into_iter()
        .map(|n| &*Box::leak(n.into_boxed_str()))
        .collect()
}

#[test]
fn filters() {
    assert_eq!(titles("status=completed"), ["File taxes"]);
    assert_eq!(titles("status=pending").len(), 5);
    assert_eq!(titles("priority=high"), ["buy bread", "File taxes"]);
    assert_eq!(titles("priority=high,medium&priority=low").len(), 5);
    assert_eq!(titles("tag=home"), ["Buy milk", "buy bread", "Plan trip"]);
    assert_eq!(
        titles("tag=HOME&tag=food"),
        ["buy bread"],
        "every tag must match, case-insensitively"
    );
    assert_eq!(titles("q=BUY"), ["Buy milk", "buy bread"]);
    assert_eq!(titles("q=buy+milk"), ["Buy milk"], "every word must appear");
    assert_eq!(
        titles("q=fun"),
        ["Plan trip", "Zumba"],
        "words match tags too"
    );
    assert_eq!(titles("q=note+3"), ["File taxes"], "and descriptions");
    assert!(titles("q=nothing-like-this").is_empty());
    assert_eq!(
        titles("overdue=true"),
        ["Buy milk", "buy bread"],
        "completed tasks are never overdue"
    );
    assert_eq!(titles("overdue=false").len(), 4);
}

#[test]
fn due_ranges_are_instants_whatever_the_offset() {
    // Berlin's 10 March starts at 2026-03-09T23:00Z: milk is due on the 9th there, bread on the 10th.
    assert_eq!(
        titles("due_after=2026-03-10T00:00:00%2B01:00&due_before=2026-03-11T00:00:00%2B01:00"),
        ["buy bread"]
    );
    assert_eq!(
        titles("due_before=2026-03-10T00:00:00%2B01:00&status=pending"),
        ["Buy milk"]
    );
    assert_eq!(
        titles("due_after=2026-03-09T23:00:00Z"),
        ["buy bread", "Plan trip"],
        "due_after is inclusive"
    );
}

/// The titles `query` selects with its due window resolved in `zone`.
fn titles_in(query: &str, zone: &str) -> Vec<String> {
    let tasks = data();
    let mut q = ListQuery::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    q.resolve(now(), TimeZone::parse(zone).unwrap_or_default());
    let page = q.page(&tasks, now());
    page.tasks
        .iter()
        .map(|t| t.title.as_str().to_owned())
        .collect()
}

#[test]
fn due_windows_are_days_of_the_users_zone() {
    // 2026-03-10T12:00Z is Tuesday 10 March in Berlin (from 09T23:00Z)
    // and in New York (from 10T04:00Z, daylight time since the 8th).
    assert_eq!(titles_in("due=today", "Europe/Berlin"), ["buy bread"]);
    assert!(
        titles_in("due=today", "America/New_York").is_empty(),
        "bread is due on the evening of the 9th in New York"
    );
    assert_eq!(
        titles_in("due=this_week", "Europe/Berlin"),
        ["Buy milk", "buy bread"],
        "the week starts on Monday the 9th"
    );
    assert!(titles_in("due=tomorrow", "Europe/Berlin").is_empty());
    assert_eq!(
        titles_in("due=next_7_days&sort=due_at", "Europe/Berlin"),
        ["buy bread"]
    );
    assert_eq!(
        titles_in("due=overdue", "UTC"),
        titles_in("overdue=true", "UTC")
    );
    assert_eq!(titles_in("due=no_date", "UTC"), ["Call mum", "Zumba"]);
    assert_eq!(
        titles_in(
            "due=this_week&due_before=2026-03-09T23:00:00Z",
            "Europe/Berlin"
        ),
        ["Buy milk"],
        "a window narrows bounds given with it"
    );
}

#[test]
fn midnight_skipped_by_a_zone_starts_its_day_at_the_first_hour_after() {
    // Santiago skipped from 00:00 to 01:00 on 6 September 2026.
    let zone = TimeZone::parse("America/Santiago").unwrap_or_default();
    let mut q = ListQuery::parse("due=today").unwrap_or_else(|e| panic!("{e}"));
    q.resolve(at("2026-09-06T12:00:00Z"), zone);
    assert_eq!(q.due_after, Some(at("2026-09-06T04:00:00Z")));
    assert_eq!(
        q.due_before,
        Some(at("2026-09-07T03:00:00Z")),
        "summer time (-3) since"
    );
}

#[test]
fn a_filter_reads_back_what_it_wrote() {
    let given = serde_json::json!({
        "status": "pending", "priority": ["high", "medium"], "tag": "work",
        "project": "inbox", "q": "Report Q3", "due": "this_week", "overdue": false,
        "sort": "due_at", "order": "desc",
    });
    let q = ListQuery::parse_filter(&given, "filter").unwrap_or_else(|e| panic!("{e}"));
    let written = q.filter();
    assert_eq!(written["tag"], serde_json::json!(["work"]));
    assert_eq!(written["q"], "report q3");
    let read = ListQuery::parse_filter(&written, "filter").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read, q);
    assert_eq!(
        ListQuery::parse_filter(&serde_json::json!({}), "filter").map(|q| q.filter()),
        Ok(serde_json::json!({})),
        "an empty filter is every task"
    );
}

#[test]
fn a_bad_filter_names_its_parameter() {
    let field = |filter: serde_json::Value| {
        ListQuery::parse_filter(&filter, "filter")
            .map(|_| ())
            .map_err(|e| e.field)
    };
    assert_eq!(
        field(serde_json::json!({"limit": "5"})),
        Err("filter.limit".into())
    );
    assert_eq!(
        field(serde_json::json!({"due": "someday"})),
        Err("filter.due".into())
    );
    assert_eq!(
        field(serde_json::json!({"tag": [1]})),
        Err("filter.tag".into())
    );
    assert_eq!(
        field(serde_json::json!({"status": true})),
        Err("filter.status".into())
    );
    assert_eq!(field(serde_json::json!(["due"])), Err("filter".into()));
}

#[test]
fn sorting_puts_tasks_without_due_dates_last_in_both_orders() {
    assert_eq!(
        titles("sort=due_at"),
        [
            "File taxes",
            "Buy milk",
            "buy bread",
            "Plan trip",
            "Call mum",
            "Zumba"
        ]
    );
    assert_eq!(
        titles("sort=due_at&order=desc"),
        [
            "Plan trip",
            "buy bread",
            "Buy milk",
            "File taxes",
            "Zumba",
            "Call mum"
        ]
    );
}

#[test]
fn sorting_breaks_ties_by_creation() {
    assert_eq!(
        titles("sort=priority"),
        [
            "Plan trip",
            "Buy milk",
            "Call mum",
            "Zumba",
            "buy bread",
            "File taxes"
        ]
    );
    assert_eq!(
        titles("sort=priority&order=desc"),
        [
            "File taxes",
            "buy bread",
            "Zumba",
            "Call mum",
            "Buy milk",
            "Plan trip"
        ]
    );
    assert_eq!(
        titles("sort=title"),
        [
            "buy bread",
            "Buy milk",
            "Call mum",
            "File taxes",
            "Plan trip",
            "Zumba"
        ]
    );
    assert_eq!(titles("sort=created_at&order=desc")[0], "Zumba");
}

#[test]
fn pages_follow_one_another() {
    let tasks = data();
    let mut query = ListQuery::parse("sort=due_at&limit=4").unwrap_or_default();
    let first = query.page(&tasks, now());
    assert_eq!(first.tasks.len(), 4);
    query.cursor = first.next_cursor.clone();
    let second = query.page(&tasks, now());
    assert_eq!(
        second
            .tasks
            .iter()
            .map(|t| t.title.as_str())
            .collect::<Vec<_>>(),
        ["Call mum", "Zumba"]
    );
    assert_eq!(second.next_cursor, None);
    let encoded = first.next_cursor.map(|c| c.encode()).unwrap_or_default();
    assert_eq!(
        ListQuery::parse(&format!("sort=due_at&limit=4&cursor={encoded}"))
            .map(|q| q.cursor.is_some()),
        Ok(true)
    );
}

#[test]
fn bad_queries_name_the_parameter() {
    for (query, field, fragment) in [
        ("status=done", "status", "all, pending, completed"),
        ("priority=urgent", "priority", "none, low, medium, high"),
        ("sort=colour", "sort", "created_at, due_at, priority, title"),
        ("order=up", "order", "asc, desc"),
        ("limit=0", "limit", "between 1 and 200"),
        ("limit=lots", "limit", "between 1 and 200"),
        ("due_before=tomorrow", "due_before", "RFC 3339"),
        ("due_after=2026-03-01T00:00", "due_after", "with an offset"),
        ("overdue=yes", "overdue", "true, false"),
        ("cursor=garbage", "cursor", "not a cursor"),
        ("status=all&status=pending", "status", "only once"),
        ("colour=red", "colour", "not a known field"),
        ("tag=", "tag", "must not be empty"),
        ("q=a%00b", "q", "NUL character"),
        ("tag=a%00", "tag", "NUL character"),
    ] {
        let err = ListQuery::parse(query).expect_err(query);
        assert_eq!(err.field, field, "{query}");
        assert!(err.to_string().contains(fragment), "{query}: {err}");
    }
    let cursor = Cursor {
        sort: SortField::Title,
        order: Order::Asc,
        value: SortValue::Text("a".into()),
        id: data()[0].id,
    };
    let err = ListQuery::parse(&format!("sort=due_at&cursor={}", cursor.encode()))
        .expect_err("another sort");
    assert_eq!(err.field, "cursor");
}

// --- Properties against a plain reference implementation ---------------------

/// The Inbox and two projects, which tasks are spread over.
const PROJECTS: [&str; 3] = [
    "inbox",
    "01KBN0000000000000000000P1",
    "01KBN0000000000000000000P2",
];

fn arb_task() -> impl Strategy<Value = Task> {
    let titles = prop::sample::select(vec![
        "alpha",
        "Beta",
        "beta",
        "gamma",
        "Delta",
        "alpha beta",
    ]);
    let tags = prop::collection::vec(prop::sample::select(vec!["home", "work", "fun"]), 0..3);
    let due = prop::option::of(0i64..40);
    (
        0u64..200,
        titles,
        0usize..4,
        tags,
        due,
        any::<bool>(),
        0usize..3,
    )
        .prop_map(|(n, title, p, tags, due, completed, project)| {
            let created = at("2026-01-01T00:00:00Z") + Duration::minutes(n as i64);
            let priority = [
                Priority::None,
                Priority::Low,
                Priority::Medium,
                Priority::High,
            ][p];
            let offset = FixedOffset::east_opt(3600)
                .unwrap_or(FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
            Task {
                id: TaskId::new(created, u128::from(n) * 7919),
                title: Title::parse(title).unwrap_or_else(|_| unreachable!()),
                description: None,
                completed,
                completed_at: None,
                priority,
                tags: tags.iter().filter_map(|t| Tag::parse(t).ok()).collect(),
                project_id: ProjectId::parse(PROJECTS[project]).unwrap_or_default(),
                // Coarse due dates, so that ties are common.
                due_at: due.map(|h| {
                    offset.from_utc_datetime(&(now() + Duration::hours(h * 6 - 120)).naive_utc())
                }),
                time_zone: TimeZone::UTC,
                recurrence: None,
                recurrence_mode: RecurrenceMode::Schedule,
                reminders: vec![],
                steps: Steps::default(),
                order: None,
                series_id: None,
                created_at: created,
                updated_at: created,
            }
        })
}

fn arb_query() -> impl Strategy<Value = String> {
    let status = prop::sample::select(vec!["", "status=pending&", "status=completed&"]);
    let priority = prop::sample::select(vec!["", "priority=high,low&", "priority=medium&"]);
    let tag = prop::sample::select(vec![
        "",
        "tag=home&",
        "tag=home&tag=work&",
        "project=inbox&",
        "tag=work&project=01KBN0000000000000000000P1&",
    ]);
    let q = prop::sample::select(vec!["", "q=beta&", "q=al+ph&"]);
    let due = prop::sample::select(vec![
        "",
        "due_before=2026-03-10T12:00:00Z&",
        "due_after=2026-03-08T00:00:00Z&",
        "overdue=true&",
    ]);
    let sort = prop::sample::select(vec![
        "sort=created_at",
        "sort=due_at",
        "sort=priority",
        "sort=title",
    ]);
    let order = prop::sample::select(vec!["", "&order=asc", "&order=desc"]);
    (status, priority, tag, q, due, sort, order)
        .prop_map(|(a, b, c, d, e, f, g)| format!("{a}{b}{c}{d}{e}{f}{g}"))
}

/// The reference: each filter written out plainly, and a sort by a key tuple.
fn reference(query: &ListQuery, tasks: &[Task]) -> Vec<TaskId> {
    let now = now();
    let mut selected: Vec<&Task> = tasks
        .iter()
        .filter(|t| match query.status {
            Status::All => true,
            Status::Pending => !t.completed,
            Status::Completed => t.completed,
        })
        .filter(|t| query.priorities.is_empty() || query.priorities.contains(&t.priority))
        .filter(|t| query.tags.iter().all(|tag| t.tags.contains(tag)))
        .filter(|t| query.project.is_none_or(|p| p == t.project_id))
        .filter(|t| {
            // Each word must stand within one field: the title, the description or a tag.
            query.words.iter().all(|w| {
                t.title.as_str().to_lowercase().contains(w.as_str())
                    || t.description
                        .as_ref()
                        .is_some_and(|d| d.as_str().to_lowercase().contains(w.as_str()))
                    || t.tags.iter().any(|g| g.as_str().contains(w.as_str()))
            })
        })
        .filter(|t| {
            query
                .due_before
                .is_none_or(|b| t.due_at.is_some_and(|d| d < b))
        })
        .filter(|t| {
            query
                .due_after
                .is_none_or(|a| t.due_at.is_some_and(|d| d >= a))
        })
        .filter(|t| {
            query
                .overdue
                .is_none_or(|o| o == (!t.completed && t.due_at.is_some_and(|d| d < now)))
        })
        .filter(|t| query.dated.is_none_or(|dated| dated == t.due_at.is_some()))
        .collect();
    let desc = query.order == Order::Desc;
    match query.sort {
        SortField::CreatedAt => selected.sort_by_key(|t| (t.created_at, t.id)),
        SortField::Priority => selected.sort_by_key(|t| (t.priority, t.id)),
        SortField::Title => selected.sort_by_key(|t| (t.title.as_str().to_lowercase(), t.id)),
        SortField::Order => selected.sort_by_key(|t| (t.order_key(), t.id)),
        SortField::DueAt => {
            if desc {
                selected.sort_by_key(|t| (t.due_at.is_none(), Reverse(t.due_at), Reverse(t.id)));
            } else {
                selected.sort_by_key(|t| (t.due_at.is_none(), t.due_at, t.id));
            }
        }
    }
    if desc && query.sort != SortField::DueAt {
        selected.reverse();
    }
    selected.iter().map(|t| t.id).collect()
}

fn all_pages(mut query: ListQuery, tasks: &[Task]) -> Vec<TaskId> {
    let mut ids = Vec::new();
    loop {
        let page = query.page(tasks, now());
        ids.extend(page.tasks.iter().map(|t| t.id));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return ids,
        }
    }
}

fn unique(tasks: Vec<Task>) -> Vec<Task> {
    let mut seen = std::collections::HashSet::new();
    tasks.into_iter().filter(|t| seen.insert(t.id)).collect()
}

proptest! {
    #[test]
    fn one_page_equals_the_reference(tasks in prop::collection::vec(arb_task(), 0..60), query in arb_query()) {
        let tasks = unique(tasks);
        let mut q = ListQuery::parse(&query).map_err(|e| TestCaseError::fail(e.to_string()))?;
        q.limit = ListQuery::MAX_LIMIT;
        let got: Vec<TaskId> = q.page(&tasks, now()).tasks.iter().map(|t| t.id).collect();
        prop_assert_eq!(got, reference(&q, &tasks));
    }

    #[test]
    fn pages_concatenate_to_the_whole(tasks in prop::collection::vec(arb_task(), 0..60), query in arb_query(), limit in 1usize..7) {
        let tasks = unique(tasks);
        let mut q = ListQuery::parse(&query).map_err(|e| TestCaseError::fail(e.to_string()))?;
        q.limit = limit;
        prop_assert_eq!(all_pages(q.clone(), &tasks), reference(&q, &tasks));
    }

    #[test]
    fn inserts_between_pages_never_cause_skips_or_repeats(
        tasks in prop::collection::vec(arb_task(), 1..50),
        added in prop::collection::vec(arb_task(), 1..20),
        query in arb_query(),
        limit in 1usize..6,
    ) {
        let tasks = unique(tasks);
        let mut q = ListQuery::parse(&query).map_err(|e| TestCaseError::fail(e.to_string()))?;
        q.limit = limit;
        let before = reference(&q, &tasks);
        let first = q.page(&tasks, now());
        let mut seen: Vec<TaskId> = first.tasks.iter().map(|t| t.id).collect();
        if let Some(cursor) = first.next_cursor {
            let mut grown = tasks.clone();
            grown.extend(added.into_iter().filter(|a| tasks.iter().all(|t| t.id != a.id)));
            let grown = unique(grown);
            q.cursor = Some(cursor);
            seen.extend(all_pages(q, &grown));
        }
        let mut unique_seen = seen.clone();
        unique_seen.sort();
        unique_seen.dedup();
        prop_assert_eq!(unique_seen.len(), seen.len(), "a task was repeated");
        for id in before {
            prop_assert!(seen.contains(&id), "task {} was skipped", id);
        }
    }
}
