//! Todoist's CSV export, one project per file (the format its help
//! documents for "Import from template"): a header row, then one row per
//! task, section or note, with the columns `TYPE`, `CONTENT`,
//! `DESCRIPTION`, `PRIORITY`, `INDENT`, `AUTHOR`, `RESPONSIBLE`, `DATE`,
//! `DATE_LANG`, `TIMEZONE` (and, in newer files, `DURATION`,
//! `DURATION_UNIT`, `DEADLINE`, `DEADLINE_LANG`, which are not read).
//!
//! - `task`: `CONTENT` is the title, its `@labels` the tags; `PRIORITY` 4
//!   is Todoist's p1 (high), 3 medium, 2 low, 1 none; `INDENT` 2 or more
//!   makes it a step of the task above it with `INDENT` 1; `DATE` (in
//!   `DATE_LANG`, English only) is read by the chat's language engine in
//!   `TIMEZONE` (else the user's zone) into a due date and a rule.
//! - `section`: the tasks after it, up to the next, get its name as a tag.
//! - `note`: a comment, added to the description of the task above it.
//!
//! A date that cannot be read leaves the task without one, its text kept
//! at the end of the description, and is reported.

use chrono::Duration;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{ImportError, Plan, Planned, Unread};
use crate::project::{Color, Name, Project};
use crate::service::Env;
use crate::task::model::{ProjectId, Tag};
use crate::task::once::hex;
use crate::{TaskId, TaskSpec, TimeZone};

/// A task being read, with the steps its sub-tasks make.
struct Reading {
    at: String,
    key: String,
    body: Value,
    steps: Vec<String>,
}

/// The columns read, by their place in the header.
struct Columns {
    kind: usize,
    content: usize,
    description: Option<usize>,
    priority: Option<usize>,
    indent: Option<usize>,
    date: Option<usize>,
    date_lang: Option<usize>,
    time_zone: Option<usize>,
}

impl Columns {
    fn of(header: &csv::StringRecord) -> Result<Self, ImportError> {
        let find = |name: &str| {
            (header.iter()).position(|column| column.trim().eq_ignore_ascii_case(name))
        };
        let (Some(kind), Some(content)) = (find("TYPE"), find("CONTENT")) else {
            return Err(ImportError::malformed(
                "line 1",
                "not a Todoist CSV export: its header has no TYPE and CONTENT columns",
            ));
        };
        Ok(Self {
            kind,
            content,
            description: find("DESCRIPTION"),
            priority: find("PRIORITY"),
            indent: find("INDENT"),
            date: find("DATE"),
            date_lang: find("DATE_LANG"),
            time_zone: find("TIMEZONE"),
        })
    }
}

/// Reads `file`, a Todoist CSV export, as the tasks of project `project`
/// (by name: one of `existing`, or a new one; the Inbox by its name), due
/// dates read in `zone` unless a row names its own, at `env`'s time.
pub fn plan(
    file: &[u8],
    project: &str,
    existing: &[Project],
    zone: TimeZone,
    env: &Env,
) -> Result<Plan, ImportError> {
    let file = file.strip_prefix(b"\xef\xbb\xbf").unwrap_or(file);
    let mut reader = csv::ReaderBuilder::new().from_reader(file);
    let not_csv = |e: csv::Error| {
        let at = line_of(file, e.position());
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("{len} fields where the header has {expected_len}"),
            csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_owned(),
            _ => format!("not CSV: {e}"),
        };
        ImportError::malformed(at, message)
    };
    let header = reader.headers().map_err(not_csv)?.clone();
    let columns = Columns::of(&header)?;
    let mut plan = Plan::default();
    let project = target(project, existing, env, &mut plan)?;
    let mut readings: Vec<Reading> = Vec::new();
    let mut section = String::new();
    let mut seen = std::collections::HashMap::new();
    for record in reader.records() {
        let record = record.map_err(not_csv)?;
        let at = line_of(file, record.position());
        let cell = |column: Option<usize>| column.and_then(|c| record.get(c)).unwrap_or("").trim();
        let content = cell(Some(columns.content));
        match cell(Some(columns.kind)).to_ascii_lowercase().as_str() {
            // Blank rows, and the view settings Todoist writes first.
            "" | "meta" => {}
            "section" => section = content.to_owned(),
            "note" => match readings.last_mut() {
                Some(task) if !content.is_empty() => {
                    let description = task.body["description"].as_str().unwrap_or_default();
                    task.body["description"] = json!(joined(description, content));
                }
                Some(_) => {}
                None => plan
                    .problems
                    .push(Unread::new(at, "a note with no task above it")),
            },
            "task" => match task(&cell, &columns, &section, project, zone, env) {
                Err(message) => plan.problems.push(Unread::new(at, message)),
                Ok(Said::Step(text)) => match readings.last_mut() {
                    Some(parent) => parent.steps.push(text),
                    None => {
                        let message = "a sub-task with no task above it";
                        plan.problems.push(Unread::new(at, message));
                    }
                },
                Ok(Said::Task(body, unread)) => {
                    if let Some(message) = unread {
                        plan.problems.push(Unread::new(at.clone(), message));
                    }
                    // The same text on the same date in the same section
                    // twice is two tasks; the count keeps their keys apart.
                    let date = cell(columns.date);
                    let said =
                        format!("todoist\u{1f}{project}\u{1f}{section}\u{1f}{content}\u{1f}{date}");
                    let n = seen
                        .entry(said.clone())
                        .and_modify(|n| *n += 1)
                        .or_insert(0);
                    let key = hex(&Sha256::digest(format!("{said}\u{1f}{n}").as_bytes()));
                    let steps = Vec::new();
                    readings.push(Reading {
                        at,
                        key,
                        body,
                        steps,
                    });
                }
            },
            other => {
                let message = format!("TYPE must be task, section or note, not {other:?}");
                plan.problems.push(Unread::new(at, message));
            }
        }
    }
    let mut ids = *env;
    for (i, mut reading) in readings.into_iter().enumerate() {
        reading.body["steps"] = json!(reading.steps);
        ids = ids.next();
        // Ids in the file's order, so that the listing keeps it.
        let order = Duration::milliseconds(i64::try_from(i).unwrap_or_default());
        let id = TaskId::new(env.now + order, ids.random);
        let made = TaskSpec::parse(&reading.body).and_then(|spec| spec.create(id, env.now));
        match made {
            Ok(task) => plan.tasks.push(Planned {
                at: reading.at,
                key: reading.key,
                task,
            }),
            Err(e) => plan.problems.push(Unread::new(reading.at, e.to_string())),
        }
    }
    Ok(plan)
}

/// What a `task` row says.
enum Said {
    /// A task (its body as the API takes it), and what of it could not be
    /// read, if anything.
    Task(Value, Option<String>),
    /// A step of the task above it (`INDENT` 2 or more).
    Step(String),
}

/// Reads the `task` row whose cells `cell` gives: a task in `project`
/// (tagged with its `section`), its date read in `zone` unless the row
/// names one, or a step; why the row is left out when it is.
fn task<'a>(
    cell: &impl Fn(Option<usize>) -> &'a str,
    columns: &Columns,
    section: &str,
    project: ProjectId,
    zone: TimeZone,
    env: &Env,
) -> Result<Said, String> {
    let indent = match cell(columns.indent) {
        "" => 1,
        raw => match raw.parse::<u8>() {
            Ok(n @ 1..=5) => n,
            _ => return Err(format!("INDENT must be 1 to 5, not {raw:?}")),
        },
    };
    let (title, labels) = labelled(cell(Some(columns.content)));
    if title.is_empty() {
        return Err("a task with no text".into());
    }
    if indent > 1 {
        return Ok(Said::Step(title));
    }
    let priority = match cell(columns.priority) {
        "" | "1" => "none",
        "2" => "low",
        "3" => "medium",
        "4" => "high",
        other => return Err(format!("PRIORITY must be 1 to 4 (4 is p1), not {other:?}")),
    };
    let mut tags = labels;
    if !section.is_empty() {
        tags.push(section.to_owned());
    }
    let mut body = json!({
        "title": title,
        "description": cell(columns.description),
        "priority": priority,
        "tags": tags,
        "project_id": project.to_string(),
    });
    let date = cell(columns.date);
    if date.is_empty() {
        return Ok(Said::Task(body, None));
    }
    let (language, named) = (cell(columns.date_lang), cell(columns.time_zone));
    match schedule(date, language, named, zone, env) {
        Ok(fields) => {
            fields
                .into_iter()
                .for_each(|(name, value)| body[name] = value);
            Ok(Said::Task(body, None))
        }
        Err(message) => {
            let description = body["description"].as_str().unwrap_or_default();
            body["description"] = json!(joined(description, &format!("Todoist date: {date}")));
            Ok(Said::Task(body, Some(message)))
        }
    }
}

/// The project the file's tasks go to: the Inbox, one of `existing` by
/// name, or a new one (added to `plan`).
fn target(
    name: &str,
    existing: &[Project],
    env: &Env,
    plan: &mut Plan,
) -> Result<ProjectId, ImportError> {
    let name = Name::parse(name).map_err(|e| ImportError::malformed("project", e.to_string()))?;
    if let Some(found) = existing.iter().find(|p| p.name.key() == name.key()) {
        return Ok(found.id);
    }
    let id = ProjectId::new(env.now, env.seed());
    plan.projects.push(Project {
        id,
        name,
        color: Color::DEFAULT,
        archived: false,
        inbox: false,
        pending: 0,
        overdue: 0,
        created_at: Some(env.now),
        updated_at: Some(env.now),
    });
    Ok(id)
}

/// `line N` of `file` where `position` is, counted from its bytes. (After
/// a CRLF the csv crate puts a record's start on the LF before it, and its
/// own line count runs one behind: that LF is counted here.)
fn line_of(file: &[u8], position: Option<&csv::Position>) -> String {
    let Some(position) = position else {
        return "body".to_owned();
    };
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let before = start.saturating_add(1).min(file.len());
    let breaks = file[..before].iter().filter(|b| **b == b'\n').count();
    format!("line {}", breaks + 1)
}

/// `text` without its `@labels`, and the labels, as tags.
fn labelled(text: &str) -> (String, Vec<String>) {
    let mut labels = Vec::new();
    let mut words = Vec::new();
    for word in text.split_whitespace() {
        match word.strip_prefix('@') {
            Some(label) if Tag::parse(label).is_ok() => labels.push(label.to_lowercase()),
            _ => words.push(word),
        }
    }
    (words.join(" "), labels)
}

/// `first` and `more` as paragraphs of one text.
fn joined(first: &str, more: &str) -> String {
    if first.is_empty() {
        more.to_owned()
    } else {
        format!("{first}\n\n{more}")
    }
}

/// A row's `DATE` read in its language and zone: the fields of a task it
/// sets, or why it cannot be read.
fn schedule(
    date: &str,
    language: &str,
    zone: &str,
    default: TimeZone,
    env: &Env,
) -> Result<Vec<(&'static str, Value)>, String> {
    if !matches!(language.to_ascii_lowercase().as_str(), "" | "en") {
        return Err(format!(
            "dates in {language:?} are not read (only English): {date:?} kept in the description"
        ));
    }
    let zone = match zone {
        "" => default,
        name => TimeZone::parse(name).map_err(|e| format!("TIMEZONE: {e}"))?,
    };
    let context = language::Context::new(env.now, zone.tz(), &[]);
    let read = language::schedule(date, &context)
        .map_err(|e| format!("DATE: {e}; kept in the description"))?;
    let mut fields = vec![("time_zone", json!(zone.as_str()))];
    if let Some(due) = read.due_at {
        fields.push(("due_at", json!(due)));
    }
    if let Some(rule) = read.recurrence {
        fields.push(("recurrence", json!(rule)));
    }
    if read.from_completion {
        fields.push(("recurrence_mode", json!("completion")));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The end-to-end tests' file, written in Todoist's documented format.
    const HOME: &[u8] = include_bytes!("../../../../tests/e2e/fixtures/todoist/Home.csv");

    fn env() -> Env {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .map(|at| at.to_utc())
            .unwrap_or_default();
        Env::new(now, 7, 8)
    }

    fn read(file: &[u8]) -> Result<Plan, ImportError> {
        plan(file, "Home", &[], TimeZone::UTC, &env())
    }

    #[test]
    fn tasks_sections_sub_tasks_notes_labels_and_dates_are_read() {
        let plan = read(HOME).unwrap_or_else(|e| panic!("{e}"));
        let summary: Vec<_> = (plan.tasks.iter())
            .map(|p| {
                let t = &p.task;
                let tags: Vec<&str> = t.tags.iter().map(|tag| tag.as_str()).collect();
                let steps: Vec<&str> = t.steps.0.iter().map(|s| s.text.as_str()).collect();
                (
                    p.at.as_str(),
                    t.title.as_str(),
                    t.priority,
                    tags.join(" "),
                    steps.join(" "),
                )
            })
            .collect();
        use crate::Priority::{High, Medium, None as No};
        assert_eq!(
            summary,
            [
                (
                    "line 4",
                    "Pay rent",
                    High,
                    "bills".to_owned(),
                    String::new()
                ),
                (
                    "line 5",
                    "Water the plants",
                    No,
                    "home".to_owned(),
                    String::new()
                ),
                (
                    "line 9",
                    "Mow the lawn",
                    Medium,
                    "garden".to_owned(),
                    "Buy seeds Rake leaves".to_owned()
                ),
                (
                    "line 14",
                    "Post office, then bank",
                    No,
                    "errands town".to_owned(),
                    String::new()
                ),
                (
                    "line 15",
                    "Renew passport",
                    High,
                    "errands".to_owned(),
                    String::new()
                ),
                (
                    "line 16",
                    "Call mom",
                    No,
                    "errands".to_owned(),
                    String::new()
                ),
                (
                    "line 19",
                    "Kündigung schreiben",
                    No,
                    "errands".to_owned(),
                    String::new()
                ),
            ]
        );
        let task = |i: usize| &plan.tasks[i].task;
        assert_eq!(
            task(0).recurrence.as_ref().map(|r| r.as_str()),
            Some("FREQ=MONTHLY;BYMONTHDAY=1")
        );
        assert_eq!(task(0).time_zone.as_str(), "Europe/Berlin");
        assert_eq!(
            task(1).description.as_ref().map(|d| d.as_str()),
            Some("Use the blue can")
        );
        let due = task(3).due_at.map(|at| at.to_rfc3339());
        assert_eq!(due.as_deref(), Some("2027-01-03T09:00:00-05:00"));
        assert_eq!(
            task(5).recurrence_mode,
            crate::task::model::RecurrenceMode::Completion
        );
        assert!(task(4).due_at.is_none());
        let kept = task(4).description.as_ref().map(|d| d.as_str().to_owned());
        assert_eq!(kept.as_deref(), Some("Todoist date: whenever convenient"));
        let problems: Vec<&str> = plan.problems.iter().map(|p| p.at.as_str()).collect();
        assert_eq!(
            problems,
            ["line 12", "line 15", "line 17", "line 18", "line 19"]
        );
        assert_eq!(plan.projects.len(), 1, "Home is made");
        let ids: Vec<_> = plan.tasks.iter().map(|p| p.task.id).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids in the file's order"
        );
    }

    #[test]
    fn a_file_that_is_not_a_todoist_csv_names_its_line() {
        let at = |file: &[u8]| match read(file) {
            Err(ImportError::Malformed { at, message }) => format!("{at}: {message}"),
            other => format!("read: {:?}", other.map(|p| p.tasks.len())),
        };
        let unequal = at(include_bytes!(
            "../../../../tests/e2e/fixtures/todoist/unequal.csv"
        ));
        assert_eq!(unequal, "line 3: 4 fields where the header has 5");
        let other = at(include_bytes!(
            "../../../../tests/e2e/fixtures/todoist/not-todoist.csv"
        ));
        assert!(other.starts_with("line 1: not a Todoist CSV"), "{other}");
        assert!(at(b"TYPE,CONTENT\ntask,caf\xe9\n").starts_with("line 2: not UTF-8"));
    }

    #[test]
    fn the_same_line_twice_is_two_tasks_with_two_keys_and_the_key_is_stable() {
        let file = b"TYPE,CONTENT\ntask,Buy milk\ntask,Buy milk\n";
        let (first, again) = (read(file), read(file));
        let keys = |plan: Result<Plan, ImportError>| -> Vec<String> {
            plan.map(|p| p.tasks.into_iter().map(|t| t.key).collect())
                .unwrap_or_default()
        };
        let keys_first = keys(first);
        assert_eq!(keys_first.len(), 2);
        assert_ne!(keys_first[0], keys_first[1]);
        assert_eq!(keys_first, keys(again));
    }
}
