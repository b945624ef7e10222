//! The chatbot's built-in language engine: a message, read against a clock,
//! the user's time zone and the listing last shown, becomes tool calls
//! (`add_task`, `list_tasks`, `search_tasks`, `complete_task`,
//! `delete_task`, `update_task`), or a request for help or an undo, or a
//! question back when it cannot tell what is meant. Pure: no network, no
//! state; the chat service runs the calls (ADR 11, issue 10).
//!
//! The tools' arguments are the tasks API's own fields (`due_at` in
//! RFC 3339 with the zone's offset, `time_zone`, `priority`, `tags`,
//! `recurrence`, `recurrence_mode`, `reminders`), and a task is named by
//! `{"task_id"}` (from a number in the last listing), `{"title"}` (words to
//! match) or `{"last": true}` ("it": the task of the conversation's last
//! change).

#![warn(missing_docs)]

use chrono::{DateTime, Duration, NaiveTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Map, Value, json};

mod organise;
pub mod repeat;
pub mod when;
pub mod words;

use when::{Clock, When};
use words::Word;

/// A task of the listing last shown, numbered from 1 in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
}

/// What a message is read against.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// Now.
    pub now: DateTime<Utc>,
    /// The user's zone: dates are read in it.
    pub zone: Tz,
    /// Whether `3/4` is March 4 (the American convention) or 3 April.
    pub month_first: bool,
    /// The listing last shown, for "complete 2".
    pub listing: &'a [Listed],
    /// The names of the user's projects, the Inbox's too: "add milk to
    /// groceries" puts it in a project only when there is one of that name.
    pub projects: &'a [String],
    /// The steps of the task the conversation last changed, for "check
    /// off towel".
    pub steps: &'a [String],
}

impl<'a> Context<'a> {
    /// A context at `now` in `zone`, with the date convention of the zone's
    /// region (month first in the Americas' zones but Canada's, day first
    /// elsewhere).
    pub fn new(now: DateTime<Utc>, zone: Tz, listing: &'a [Listed]) -> Self {
        let name = zone.name();
        let month_first = name.starts_with("America/") || name.starts_with("US/");
        Self {
            now,
            zone,
            month_first,
            listing,
            projects: &[],
            steps: &[],
        }
    }

    /// The context with the names of the user's `projects`.
    pub fn with_projects(self, projects: &'a [String]) -> Self {
        Self { projects, ..self }
    }

    /// The context with the `steps` of the task the conversation last
    /// changed.
    pub fn with_steps(self, steps: &'a [String]) -> Self {
        Self { steps, ..self }
    }

    fn clock(&self) -> Clock {
        Clock {
            now: self.now.with_timezone(&self.zone),
            month_first: self.month_first,
        }
    }
}

/// One call of a tool, with its arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCall {
    /// The tool's name.
    pub tool: String,
    /// Its arguments, a JSON object.
    pub arguments: Value,
}

impl ToolCall {
    fn new(tool: &str, arguments: Value) -> Self {
        Self {
            tool: tool.to_owned(),
            arguments,
        }
    }
}

/// What a message asks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reading {
    /// Tools to call, in order.
    Calls {
        /// The calls.
        calls: Vec<ToolCall>,
    },
    /// Take back the conversation's last changes, the latest first.
    Undo {
        /// How many ("undo the last three changes"); one unless said.
        #[serde(skip_serializing_if = "is_one")]
        count: usize,
    },
    /// Say what can be asked.
    Help,
    /// Ask back: what was understood and what is missing.
    Unclear {
        /// The question, in words.
        question: String,
    },
}

fn calls(calls: Vec<ToolCall>) -> Reading {
    Reading::Calls { calls }
}

fn unclear(question: impl Into<String>) -> Reading {
    Reading::Unclear {
        question: question.into(),
    }
}

/// The longest message read, in characters.
pub const MAX_MESSAGE: usize = 2000;

/// Reads `message` in `context`.
pub fn read(message: &str, context: &Context<'_>) -> Reading {
    let message = message.trim();
    if message.is_empty() {
        return unclear(
            "Say what you'd like to do, for example \"add buy milk tomorrow\". Say \"help\" for more.",
        );
    }
    let words = words::split(message);
    let lower: Vec<&str> = words.iter().map(|w| w.lower.as_str()).collect();
    // Politeness first: "please", "can you", "could you".
    let skip = politeness(&lower);
    let rest = &words[skip..];
    let head: Vec<&str> = lower[skip..].iter().copied().take(4).collect();
    let first = head.first().copied().unwrap_or_default();
    let clock = context.clock();
    match first {
        "help" | "?" => return Reading::Help,
        "undo" | "revert" => return undo(&lower[skip + 1..]),
        _ if head.starts_with(&["what", "can", "you", "do"]) => return Reading::Help,
        _ => {}
    }
    if let Some(reading) = activity(rest, &lower[skip..], &clock) {
        return reading;
    }
    if let Some(n) = organise::steps_verb(&head) {
        return organise::add_steps(&rest[n..], context);
    }
    if head.starts_with(&["add", "tag"])
        || head.starts_with(&["add", "the", "tag"])
        || head.starts_with(&["add", "tags"])
    {
        return update(rest, context, &clock);
    }
    if let Some(n) = project_verb(&head) {
        return make_project(&rest[n..]);
    }
    if lower[skip..]
        .iter()
        .any(|w| matches!(*w, "projects" | "lists"))
        && matches!(first, "show" | "list" | "what" | "what's" | "which" | "my")
    {
        return calls(vec![ToolCall::new("list_projects", json!({}))]);
    }
    if let Some(reading) = organise::view(rest, &lower[skip..]) {
        return reading;
    }
    if let Some(n) = add_verb(&head) {
        return add(&rest[n..], &head[..n], context, &clock);
    }
    match first {
        "complete" | "finish" | "finished" | "done" | "check" | "tick" | "mark" | "did" => {
            return act(rest, context, Act::Complete);
        }
        "reopen" | "uncomplete" | "unfinish" | "uncheck" | "untick" => {
            return act(rest, context, Act::Reopen);
        }
        "delete" | "remove" | "cancel" | "drop" | "trash" | "erase" => {
            return act(rest, context, Act::Delete);
        }
        // The verb's words dropped here: "back" and "restore" may be words
        // of the title of a task completed or deleted.
        "restore" | "undelete" | "recover" => return act(&rest[1..], context, Act::Restore),
        "bring" if head.get(1) == Some(&"back") => {
            return act(&rest[2..], context, Act::Restore);
        }
        "move" | "put" => {
            if let Some(reading) = organise::arrange(rest, context) {
                return reading;
            }
            if first == "put" {
                return unclear(
                    "Put it where? For example \"put it first\" or \"put milk in Groceries\".",
                );
            }
            return update(rest, context, &clock);
        }
        "reschedule" | "postpone" | "push" | "rename" | "change" | "make" | "set" | "tag"
        | "update" => return update(rest, context, &clock),
        "find" | "search" | "look" => return search(rest),
        _ => {}
    }
    if head.starts_with(&["i", "did"])
        || head.starts_with(&["i", "finished"])
        || head.starts_with(&["i", "completed"])
    {
        return act(&rest[1..], context, Act::Complete);
    }
    // "milk is done"
    if let Some(at) = rest.iter().position(|w| w.is(&["is", "are"]))
        && rest
            .get(at + 1)
            .is_some_and(|w| w.is(&["done", "finished", "complete", "completed"]))
        && at > 0
        && at + 2 == rest.len()
    {
        return act_on(&rest[..at], context, Act::Complete);
    }
    if is_listing(&lower[skip..]) {
        return list(rest, context, &clock);
    }
    unclear(format!(
        "I'm not sure what to do with \"{message}\". You can add a task (\"add call mom Friday at 10\"), list them (\"what's due today\"), or complete one (\"done with milk\"). Say \"help\" for more."
    ))
}

fn politeness(lower: &[&str]) -> usize {
    let mut n = 0;
    loop {
        let rest = &lower[n..];
        let skip = match rest {
            ["please" | "pls" | "hey" | "hi" | "ok" | "okay", ..] => 1,
            ["can" | "could" | "would", "you", ..] => 2,
            ["i'd", "like", "to", ..] => 3,
            ["i", "want", "to", ..] => 3,
            _ => 0,
        };
        if skip == 0 {
            return n;
        }
        n += skip;
    }
}

/// How many words make the add verb at the start ("add", "remind me to",
/// "new task", "i need to"), if it is one.
fn add_verb(head: &[&str]) -> Option<usize> {
    match head {
        ["remind", "me", "to", ..] => Some(3),
        ["remind", "me", "about", ..] => Some(3),
        ["remind", "me", ..] => Some(2),
        [
            "add" | "create" | "make",
            "a" | "new",
            "task" | "todo" | "reminder",
            "to",
            ..,
        ] => Some(4),
        [
            "add" | "create" | "make",
            "a" | "new",
            "task" | "todo" | "reminder",
            ..,
        ] => Some(3),
        [
            "add" | "create" | "make",
            "a",
            "new",
            "task" | "todo" | "reminder",
            ..,
        ] => Some(4),
        ["add" | "create", "task" | "todo", "to", ..] => Some(3),
        ["new", "task", ..] => Some(2),
        ["add" | "create", "task" | "todo", ..] => Some(2),
        ["add" | "create" | "todo" | "new", ..] => Some(1),
        ["i", "need" | "have", "to", ..] => Some(3),
        ["i", "must", ..] => Some(2),
        ["don't" | "dont", "forget", "to", ..] => Some(3),
        ["schedule", ..] => Some(1),
        _ => None,
    }
}

fn due_text(when: DateTime<Tz>) -> String {
    when.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The most changes one "undo" takes back.
pub const MOST_UNDONE: usize = 20;

/// "undo", "undo the last three changes", "undo 2".
fn undo(rest: &[&str]) -> Reading {
    let count = rest.iter().find_map(|w| when::number(w));
    match count.map(|n| usize::try_from(n).unwrap_or(usize::MAX)) {
        None => Reading::Undo { count: 1 },
        Some(count @ 1..=MOST_UNDONE) => Reading::Undo { count },
        Some(_) => unclear(format!(
            "I can undo from 1 to {MOST_UNDONE} changes at once; how many?"
        )),
    }
}

fn is_one(count: &usize) -> bool {
    *count == 1
}

/// "what did I change yesterday?", "what changed this week", "show my
/// activity": what changed in a span (a day, this week; else the last
/// seven days).
fn activity(words: &[Word], lower: &[&str], clock: &Clock) -> Option<Reading> {
    let asks = matches!(lower.first(), Some(&("what" | "show" | "list")))
        && lower
            .iter()
            .any(|w| matches!(*w, "change" | "changed" | "changes" | "activity"));
    if !asks {
        return None;
    }
    let mut used = vec![false; words.len()];
    let when = when::find(words, &mut used, clock);
    let today = clock.today();
    // The days asked about are behind: "Monday" is the last one.
    let day = if lower.contains(&"yesterday") {
        Some(today - Duration::days(1))
    } else {
        when.date.map(|date| {
            if date > today {
                date - Duration::days(7)
            } else {
                date
            }
        })
    };
    let (since, until) = if let Some(date) = day {
        (date, date + Duration::days(1))
    } else if lower.contains(&"week") && lower.contains(&"this") {
        let monday = today
            - Duration::days(i64::from(
                chrono::Datelike::weekday(&today).num_days_from_monday(),
            ));
        (monday, today + Duration::days(1))
    } else {
        (today - Duration::days(6), today + Duration::days(1))
    };
    let (since, until) = (
        clock.at(since, NaiveTime::MIN),
        clock.at(until, NaiveTime::MIN),
    );
    let args = json!({"since": due_text(since), "until": due_text(until)});
    Some(calls(vec![ToolCall::new("list_activity", args)]))
}

/// "add buy milk tomorrow at 5pm #groceries high priority".
fn add(words: &[Word], verb: &[&str], context: &Context<'_>, clock: &Clock) -> Reading {
    let mut used = vec![false; words.len()];
    let reminder_verb = verb.first() == Some(&"remind");
    let reminders = reminders(words, &mut used, clock);
    let priority = priority(words, &mut used);
    let mut tags = tags(words, &mut used);
    let (due, repeat) = match timing(words, &mut used, clock) {
        Ok(timing) => timing,
        Err(question) => return unclear(question),
    };
    // "to groceries" (a project of that name), "to my reading list" (a
    // tag when there is no such project).
    let project = match organise::project_in(words, &mut used, context, &["to", "on", "in", "into"])
    {
        Err(question) => return unclear(question),
        Ok(Some(organise::Named::Project(name))) => Some(name),
        Ok(Some(organise::Named::Tag(tag))) => {
            tags.push(tag);
            None
        }
        Ok(None) => None,
    };
    let title_words: Vec<&Word> = words
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(w, _)| w)
        .collect();
    let title = words::join(&title_words);
    if title.is_empty() {
        return unclear("What should the task be called? For example \"add buy milk tomorrow\".");
    }
    let mut args = Map::new();
    args.insert("title".into(), json!(title));
    if let Some(repeat) = &repeat {
        args.insert("recurrence".into(), json!(repeat.rule));
        if repeat.from_completion {
            args.insert("recurrence_mode".into(), json!("completion"));
        }
    }
    if let Some(due) = due {
        args.insert("due_at".into(), json!(due_text(due)));
    }
    args.insert("time_zone".into(), json!(context.zone.name()));
    if let Some(project) = project {
        args.insert("project".into(), json!(project));
    }
    if let Some(priority) = priority {
        args.insert("priority".into(), json!(priority));
    }
    if !tags.is_empty() {
        tags.dedup();
        args.insert("tags".into(), json!(tags));
    }
    let mut reminders = reminders;
    if reminder_verb && reminders.is_empty() {
        if due.is_some() {
            // "remind me to ...": at the due time.
            reminders.push(json!({"minutes_before": 0}));
        } else {
            return unclear(format!(
                "When should I remind you to {title}? For example \"remind me to {title} tomorrow at 9\"."
            ));
        }
    }
    let needs_due = reminders.iter().any(|r| r.get("minutes_before").is_some());
    if needs_due && due.is_none() {
        return unclear(format!(
            "\"{title}\" has no due date for the reminder to count back from: when is it due?"
        ));
    }
    if !reminders.is_empty() {
        args.insert("reminders".into(), Value::Array(reminders));
    }
    calls(vec![ToolCall::new("add_task", Value::Object(args))])
}

/// When a task is due and how it repeats, as `words` say (marking the
/// words read as `used`): a repeating task is due at its first occurrence
/// from now. A question back when the words name a day there is none of.
fn timing(
    words: &[Word],
    used: &mut [bool],
    clock: &Clock,
) -> Result<(Option<DateTime<Tz>>, Option<repeat::Repeat>), String> {
    let repeat = repeat::find(words, used, clock);
    let when = when::find(words, used, clock);
    if let Some(day) = &when.impossible {
        return Err(format!("There's no {day}: which day do you mean?"));
    }
    let due = match &repeat {
        Some(repeat) => first_occurrence(&repeat.rule, &when, clock).or(when.resolve(clock)),
        None => when.resolve(clock),
    };
    Ok((due, repeat))
}

/// A due date and a repeat read from a phrase that says only that, such
/// as an imported task's date ("every monday", "tomorrow at 5pm", "Jan 3").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// When it is due, in RFC 3339 with the zone's offset.
    pub due_at: Option<String>,
    /// Its RRULE, if it repeats.
    pub recurrence: Option<String>,
    /// Whether it repeats from its completion ("every!" in Todoist, "after
    /// it's done" here) rather than on its schedule.
    pub from_completion: bool,
}

/// Reads `phrase` as a due date and a repeat in `context`'s zone and clock;
/// says which words it could not read when there are any.
pub fn schedule(phrase: &str, context: &Context<'_>) -> Result<Schedule, String> {
    let words = words::split(phrase);
    let mut used = vec![false; words.len()];
    let (due, repeat) = timing(&words, &mut used, &context.clock())?;
    let unread: Vec<&Word> = (words.iter().zip(&used))
        .filter(|(word, used)| !**used && !matches!(word.lower.as_str(), "at" | "on" | "the"))
        .map(|(word, _)| word)
        .collect();
    if !unread.is_empty() || (due.is_none() && repeat.is_none()) {
        let unread = if unread.is_empty() {
            phrase.to_owned()
        } else {
            words::join(&unread)
        };
        return Err(format!("\"{unread}\" is not a date or repeat I can read"));
    }
    Ok(Schedule {
        due_at: due.map(due_text),
        from_completion: repeat.as_ref().is_some_and(|repeat| repeat.from_completion),
        recurrence: repeat.map(|repeat| repeat.rule),
    })
}

/// When a repeating task is first due: for a rule that picks days
/// (`BYDAY`, `BYMONTHDAY`, `BYMONTH`), its first such day from now (on or
/// after the day the message names), at the time it names or the default;
/// for one that does not, the day and time the message names, or the next
/// default time (the next full hour for an hourly rule).
fn first_occurrence(rule: &str, when: &When, clock: &Clock) -> Option<DateTime<Tz>> {
    if !rule.contains("BY") {
        if let Some(due) = when.resolve(clock) {
            return Some(due);
        }
        if rule.starts_with("FREQ=HOURLY") {
            let hour = clock.now + Duration::hours(1);
            return Some(clock.at(
                hour.date_naive(),
                NaiveTime::from_hms_opt(chrono::Timelike::hour(&hour), 0, 0)?,
            ));
        }
        let default = NaiveTime::from_hms_opt(when::DEFAULT_TIME.0, when::DEFAULT_TIME.1, 0)?;
        return When {
            time: Some(default),
            ..When::default()
        }
        .resolve(clock);
    }
    // The first matching day, whatever the interval: the interval counts
    // from it.
    let plain: Vec<&str> = rule
        .split(';')
        .filter(|part| !part.starts_with("INTERVAL="))
        .collect();
    let rule = recurrence::Rule::parse(&plain.join(";")).ok()?;
    let time = when
        .time
        .or_else(|| when.instant.map(|i| i.time()))
        .or_else(|| NaiveTime::from_hms_opt(when::DEFAULT_TIME.0, when::DEFAULT_TIME.1, 0))?;
    let day = when.date.unwrap_or(clock.today());
    let from = clock.at(day, time).max(clock.now);
    let begin = clock.at(day.pred_opt()?, time);
    rule.occurrences(begin)
        .find(|at| *at >= from && *at > clock.now)
}

/// "remind me 30 minutes before", "with a reminder an hour before",
/// "remind me at 9am".
fn reminders(words: &[Word], used: &mut [bool], clock: &Clock) -> Vec<Value> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let lead = match () {
            _ if words[i].is(&["remind"]) && words.get(i + 1).is_some_and(|w| w.is(&["me"])) => 2,
            _ if words[i].is(&["reminder"]) => 1,
            _ => 0,
        };
        // "30 minutes before" (with or without "remind me")
        let at = i + lead;
        if let Some((n, unit)) = when::amount(words, at)
            && words
                .get(at + 2)
                .is_some_and(|w| w.is(&["before", "earlier", "ahead"]))
        {
            let minutes = match unit {
                when::Unit::Minutes => n,
                when::Unit::Hours => n * 60,
                when::Unit::Days => n * 24 * 60,
                when::Unit::Weeks => n * 7 * 24 * 60,
                _ => {
                    i += 1;
                    continue;
                }
            };
            // "with a" before "reminder"
            let back =
                usize::from(i >= 2 && words[i - 1].is(&["a"]) && words[i - 2].is(&["with"])) * 2;
            used[i - back..at + 3].iter_mut().for_each(|u| *u = true);
            found.push(json!({"minutes_before": minutes}));
            i = at + 3;
            continue;
        }
        // "remind me at 9am on Friday": an instant of its own.
        if lead == 2 && words.get(at).is_some_and(|w| w.is(&["at", "on"])) {
            let mut inner: Vec<bool> = used.to_vec();
            inner[..at].iter_mut().for_each(|u| *u = true);
            // Only up to the next phrase break.
            let end = (at..words.len())
                .find(|&k| words[k].stop)
                .map_or(words.len(), |k| k + 1);
            inner[end..].iter_mut().for_each(|u| *u = true);
            let when = when::find(words, &mut inner, clock);
            if let Some(instant) = when.resolve(clock) {
                for k in i..end {
                    if inner[k] {
                        used[k] = true;
                    }
                }
                used[i..at].iter_mut().for_each(|u| *u = true);
                found.push(json!({"at": due_text(instant)}));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// "urgent", "high priority", "p1" to "p4", "low priority".
fn priority(words: &[Word], used: &mut [bool]) -> Option<&'static str> {
    for i in 0..words.len() {
        if used[i] || words[i].quoted {
            continue;
        }
        let level = |w: &Word| match w.lower.as_str() {
            "high" | "top" => Some("high"),
            "medium" | "normal" => Some("medium"),
            "low" => Some("low"),
            _ => None,
        };
        let (n, found) = match words[i].lower.as_str() {
            "urgent" | "asap" | "important" | "p1" => (1, Some("high")),
            "p2" => (1, Some("medium")),
            "p3" => (1, Some("low")),
            "p4" => (1, Some("none")),
            _ if words
                .get(i + 1)
                .is_some_and(|w| w.is(&["priority", "prio", "pri"])) =>
            {
                (2, level(&words[i]))
            }
            "priority" => match words.get(i + 1) {
                Some(w) if w.is(&["to", "is", "as", "of"]) => (3, words.get(i + 2).and_then(level)),
                next => (2, next.and_then(level)),
            },
            _ => (0, None),
        };
        if let Some(found) = found {
            let mut from = i;
            // "with high priority", "as high priority"
            if i > 0 && words[i - 1].is(&["with", "as", "at"]) && !used[i - 1] {
                from -= 1;
            }
            used[from..i + n].iter_mut().for_each(|u| *u = true);
            return Some(found);
        }
    }
    None
}

/// `#tag` words.
fn tags(words: &[Word], used: &mut [bool]) -> Vec<String> {
    let mut tags = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if let Some(tag) = word
            .text
            .strip_prefix('#')
            .filter(|t| !t.is_empty() && !word.quoted)
        {
            if tag.chars().all(|c| c.is_ascii_digit()) {
                continue; // "#2" is a number
            }
            tags.push(tag.to_lowercase());
            used[i] = true;
        }
    }
    tags
}

/// What is done to the tasks a message names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Complete,
    Reopen,
    Delete,
    Restore,
}

/// "complete 2", "done with milk", "delete the dentist task", "mark 1 and
/// 3 as done".
fn act(words: &[Word], context: &Context<'_>, act: Act) -> Reading {
    // Drop the verb's own words.
    let skip = words
        .iter()
        .take_while(|w| {
            w.is(&[
                "complete",
                "finish",
                "finished",
                "done",
                "with",
                "check",
                "tick",
                "off",
                "mark",
                "did",
                "reopen",
                "uncomplete",
                "unfinish",
                "uncheck",
                "untick",
                "delete",
                "remove",
                "cancel",
                "drop",
                "trash",
                "erase",
                "get",
                "rid",
                "of",
            ])
        })
        .count();
    let mut rest: Vec<&Word> = words[skip..].iter().collect();
    // "... as done", "... as complete", "... done"
    while rest
        .last()
        .is_some_and(|w| w.is(&["done", "complete", "completed", "finished", "as", "off"]))
    {
        rest.pop();
    }
    let rest: Vec<Word> = rest.into_iter().cloned().collect();
    if matches!(act, Act::Complete | Act::Reopen)
        && let Some(reading) = organise::step_of_last(&rest, context, act == Act::Complete)
    {
        return reading;
    }
    act_on(&rest, context, act)
}

fn act_on(words: &[Word], context: &Context<'_>, act: Act) -> Reading {
    let tool = match act {
        Act::Complete | Act::Reopen => "complete_task",
        Act::Delete => "delete_task",
        Act::Restore => "restore_task",
    };
    let selectors = match selectors(words, context) {
        Ok(selectors) => selectors,
        Err(question) => return unclear(question),
    };
    let calls_made = selectors
        .into_iter()
        .map(|task| {
            let mut args = Map::new();
            args.insert("task".into(), task);
            if act == Act::Reopen {
                args.insert("completed".into(), json!(false));
            }
            ToolCall::new(tool, Value::Object(args))
        })
        .collect();
    calls(calls_made)
}

/// The tasks `words` name: numbers of the last listing ("2", "#2", "1 and
/// 3", "the first one"), "it", or a title to match.
fn selectors(words: &[Word], context: &Context<'_>) -> Result<Vec<Value>, String> {
    let meaningful: Vec<&Word> = words
        .iter()
        .filter(|w| {
            !w.is(&[
                "the", "task", "tasks", "one", "number", "no", "item", "my", "and", "&", "todo",
            ])
        })
        .collect();
    if meaningful.is_empty() {
        return Err(
            "Which task? Give its number from the last list or a few words of its title.".into(),
        );
    }
    if meaningful.len() == 1 && meaningful[0].is(&["it", "that", "this"]) {
        return Ok(vec![json!({"last": true})]);
    }
    let numbers: Vec<Option<usize>> = meaningful
        .iter()
        .map(|w| {
            let text = w.lower.trim_start_matches('#');
            text.parse::<usize>()
                .ok()
                .or_else(|| when::ordinal(text).and_then(|o| usize::try_from(o).ok()))
                .filter(|_| !w.quoted)
        })
        .collect();
    if numbers.iter().all(Option::is_some) {
        let mut found = Vec::new();
        for n in numbers.into_iter().flatten() {
            let Some(listed) = n.checked_sub(1).and_then(|i| context.listing.get(i)) else {
                return Err(if context.listing.is_empty() {
                    format!(
                        "There's no list to pick number {n} from yet: say \"list my tasks\" first."
                    )
                } else {
                    format!(
                        "The last list has {} task(s); there's no number {n}.",
                        context.listing.len()
                    )
                });
            };
            found.push(json!({"task_id": listed.id}));
        }
        return Ok(found);
    }
    let title: Vec<&Word> = words
        .iter()
        .filter(|w| !w.is(&["the", "task", "my", "todo"]) || w.quoted)
        .collect();
    Ok(vec![json!({"title": words::join(&title)})])
}

/// "move the dentist to Friday 3pm", "rename X to Y", "make it high
/// priority", "add tag home", "change X's priority to low".
fn update(words: &[Word], context: &Context<'_>, clock: &Clock) -> Reading {
    let verb = words.first().map(|w| w.lower.as_str()).unwrap_or_default();
    let rest = &words[1..];
    let mut changes = Map::new();
    let target: Vec<Word>;
    match verb {
        "rename" => {
            let Some(to) = rest.iter().rposition(|w| w.is(&["to", "as"])) else {
                return unclear(
                    "Rename which task to what? For example \"rename milk to oat milk\".",
                );
            };
            let new_title: Vec<&Word> = rest[to + 1..].iter().collect();
            changes.insert("title".into(), json!(words::join(&new_title)));
            target = rest[..to].to_vec();
        }
        "move" | "reschedule" | "postpone" | "push" => {
            // The date is at the end: after the last "to"/"for"/"until".
            let Some(to) = rest
                .iter()
                .rposition(|w| w.is(&["to", "for", "until", "till"]))
            else {
                return unclear("Move it to when? For example \"move the dentist to Friday 3pm\".");
            };
            let mut used = vec![false; rest.len()];
            used[..=to].iter_mut().for_each(|u| *u = true);
            let when = when::find(rest, &mut used, clock);
            let Some(due) = when.resolve(clock) else {
                return unclear(
                    "I couldn't read that date. Try \"tomorrow at 5pm\", \"Friday\" or \"March 3\".",
                );
            };
            changes.insert("due_at".into(), json!(due_text(due)));
            target = rest[..to].to_vec();
        }
        "add" | "tag" => {
            // "add tag home [to X]", "tag X with home"
            let (tags_at, target_words) = if verb == "tag" {
                match rest.iter().position(|w| w.is(&["with", "as"])) {
                    Some(at) => (&rest[at + 1..], rest[..at].to_vec()),
                    None => {
                        return unclear(
                            "Tag which task with what? For example \"tag milk with groceries\".",
                        );
                    }
                }
            } else {
                let start = rest
                    .iter()
                    .take_while(|w| w.is(&["tag", "tags", "the"]))
                    .count();
                match rest.iter().skip(start).position(|w| w.is(&["to", "on"])) {
                    Some(at) => (&rest[start..start + at], rest[start + at + 1..].to_vec()),
                    None => (
                        &rest[start..],
                        vec![Word {
                            text: "it".into(),
                            lower: "it".into(),
                            quoted: false,
                            stop: false,
                        }],
                    ),
                }
            };
            let tags: Vec<String> = tags_at
                .iter()
                .filter(|w| !w.is(&["and", "&"]))
                .map(|w| w.lower.trim_start_matches('#').to_owned())
                .filter(|t| !t.is_empty())
                .collect();
            if tags.is_empty() {
                return unclear("Which tag? For example \"add tag home\".");
            }
            changes.insert("add_tags".into(), json!(tags));
            target = target_words;
        }
        _ => {
            // "make it high priority", "change X priority to low", "set X to p1"
            let mut used = vec![false; rest.len()];
            if let Some(p) = priority(rest, &mut used) {
                changes.insert("priority".into(), json!(p));
            }
            let cut = (0..rest.len()).find(|&i| used[i]).unwrap_or(rest.len());
            let mut words_before: Vec<Word> = rest[..cut].to_vec();
            while words_before
                .last()
                .is_some_and(|w| w.is(&["to", "a", "'s", "priority", "as"]))
            {
                words_before.pop();
            }
            if changes.is_empty() {
                let mut used = vec![false; rest.len()];
                if let Some(to) = rest.iter().rposition(|w| w.is(&["to"])) {
                    used[..=to].iter_mut().for_each(|u| *u = true);
                    let when = when::find(rest, &mut used, clock);
                    if let Some(due) = when.resolve(clock) {
                        changes.insert("due_at".into(), json!(due_text(due)));
                        words_before = rest[..to]
                            .iter()
                            .filter(|w| !w.is(&["due", "date", "'s"]))
                            .cloned()
                            .collect();
                    }
                }
            }
            if changes.is_empty() {
                return unclear(
                    "What should I change? For example \"make it high priority\" or \"move the dentist to Friday\".",
                );
            }
            target = words_before;
        }
    }
    let target: Vec<Word> = target.into_iter().filter(|w| !w.is(&["'s"])).collect();
    let selectors = match selectors(&target, context) {
        Ok(selectors) => selectors,
        Err(question) => return unclear(question),
    };
    calls(
        selectors
            .into_iter()
            .map(|task| ToolCall::new("update_task", json!({"task": task, "changes": changes})))
            .collect(),
    )
}

/// Whether the words ask for a listing.
fn is_listing(lower: &[&str]) -> bool {
    let first = lower.first().copied().unwrap_or_default();
    matches!(
        first,
        "list"
            | "show"
            | "what"
            | "what's"
            | "whats"
            | "which"
            | "anything"
            | "do"
            | "overdue"
            | "tasks"
            | "my"
            | "todo"
            | "todos"
            | "agenda"
    ) || lower
        .iter()
        .any(|w| matches!(*w, "tasks" | "overdue" | "due" | "todos"))
}

/// "what's due today", "show my overdue tasks", "high priority work tasks",
/// "what's in my Work list?".
fn list(words: &[Word], context: &Context<'_>, clock: &Clock) -> Reading {
    let mut used = vec![false; words.len()];
    let mut args = Map::new();

    if let Some(p) = priority(words, &mut used) {
        args.insert("priority".into(), json!(p));
    }
    let mut tags = tags(words, &mut used);
    let mut status = "pending";
    for (i, w) in words.iter().enumerate() {
        match w.lower.as_str() {
            "overdue" | "late" => {
                args.insert("overdue".into(), json!(true));
                used[i] = true;
            }
            "completed" | "done" | "finished" => {
                status = "completed";
                used[i] = true;
            }
            "all" | "everything" => {
                status = "all";
                used[i] = true;
            }
            _ => {}
        }
    }
    let when = when::find(words, &mut used, clock);
    // "in my Work list", once the dates are read.
    match organise::project_in(words, &mut used, context, &["in", "from", "on", "for"]) {
        Err(question) => return unclear(question),
        Ok(Some(organise::Named::Project(name))) => {
            args.insert("project".into(), json!(name));
        }
        Ok(Some(organise::Named::Tag(tag))) => {
            args.insert("tags".into(), json!([tag]));
        }
        Ok(None) => {}
    }
    if let Some(date) = when.date {
        let start = clock.at(date, NaiveTime::MIN);
        let end = clock.at(date + Duration::days(1), NaiveTime::MIN);
        args.insert("due_after".into(), json!(due_text(start)));
        args.insert("due_before".into(), json!(due_text(end)));
    } else if words.iter().any(|w| w.is(&["week"])) && words.iter().any(|w| w.is(&["this"])) {
        let start = clock.at(clock.today(), NaiveTime::MIN);
        let days_left =
            7 - i64::from(chrono::Datelike::weekday(&clock.today()).num_days_from_monday());
        let end = clock.at(clock.today() + Duration::days(days_left), NaiveTime::MIN);
        args.insert("due_after".into(), json!(due_text(start)));
        args.insert("due_before".into(), json!(due_text(end)));
    }
    // Other words before "tasks" are tags: "work tasks".
    const FILLER: [&str; 34] = [
        "list", "show", "me", "my", "what", "what's", "whats", "is", "are", "do", "i", "have",
        "due", "tasks", "task", "todos", "todo", "which", "the", "all", "of", "anything", "for",
        "any", "things", "to", "there", "please", "that", "agenda", "with", "priority", "left",
        "got",
    ];
    for (i, w) in words.iter().enumerate() {
        if !used[i]
            && !w.is(&FILLER)
            && words
                .get(i + 1)
                .is_some_and(|n| n.is(&["tasks", "task", "todos", "stuff", "items"]))
        {
            tags.push(w.lower.clone());
        }
    }
    if status != "pending" {
        args.insert("status".into(), json!(status));
    }
    if let Some(Value::Array(named)) = args.get("tags") {
        tags.extend(named.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    if !tags.is_empty() {
        args.insert("tags".into(), json!(tags));
    }
    calls(vec![ToolCall::new("list_tasks", Value::Object(args))])
}

/// "find dentist", "search for milk".
/// How many words make "create a project" at the start ("new list",
/// "make a project"), if they do.
fn project_verb(head: &[&str]) -> Option<usize> {
    match head {
        [
            "create" | "add" | "make",
            "a",
            "new",
            "project" | "list",
            ..,
        ] => Some(4),
        [
            "create" | "add" | "make" | "new",
            "a" | "new",
            "project" | "list",
            ..,
        ] => Some(3),
        ["create" | "add" | "make" | "start", "project" | "list", ..] => Some(2),
        ["new", "project" | "list", ..] => Some(2),
        _ => None,
    }
}

/// A project named by `words` ("called Garden", "named Work", "Garden"),
/// as typed.
fn make_project(words: &[Word]) -> Reading {
    let named: Vec<&Word> = words
        .iter()
        .skip_while(|w| w.is(&["called", "named", "for"]))
        .collect();
    let name = words::join(&named);
    if name.is_empty() {
        return unclear(
            "What should the project be called? For example \"create a project called Garden\".",
        );
    }
    calls(vec![ToolCall::new("add_project", json!({"name": name}))])
}

fn search(words: &[Word]) -> Reading {
    let query: Vec<&Word> = words
        .iter()
        .skip(1)
        .skip_while(|w| w.is(&["for", "up", "me", "my"]))
        .filter(|w| !w.is(&["task", "tasks"]))
        .collect();
    let query = words::join(&query);
    if query.is_empty() {
        return unclear("Search for what? For example \"find dentist\".");
    }
    calls(vec![ToolCall::new("search_tasks", json!({"query": query}))])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(phrase: &str) -> Result<Schedule, String> {
        let now = DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .map(|at| at.to_utc())
            .unwrap_or_default();
        schedule(phrase, &Context::new(now, chrono_tz::Europe::Berlin, &[]))
    }

    fn said(phrase: &str) -> (Option<String>, Option<String>, bool) {
        let read = read(phrase).unwrap_or_else(|e| panic!("{phrase}: {e}"));
        (read.due_at, read.recurrence, read.from_completion)
    }

    #[test]
    fn a_date_alone_reads_as_a_due_date_and_a_repeat() {
        let some = |s: &str| Some(s.to_owned());
        // Friday 4 December 2026 in Berlin.
        assert_eq!(
            said("every monday"),
            (
                some("2026-12-07T09:00:00+01:00"),
                some("FREQ=WEEKLY;BYDAY=MO"),
                false
            )
        );
        assert_eq!(
            said("tomorrow at 5pm"),
            (some("2026-12-05T17:00:00+01:00"), None, false)
        );
        assert!(said("every! 3 days").2, "every! repeats from completion");
        assert_eq!(said("Jan 3").0, some("2027-01-03T09:00:00+01:00"));
        assert_eq!(said("Jan 3 2028").0, some("2028-01-03T09:00:00+01:00"));
        assert_eq!(said("3 January 2028").0, some("2028-01-03T09:00:00+01:00"));
        assert_eq!(
            said("every weekday").1,
            some("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
        );
        assert!(read("whenever the moon is full").is_err_and(|e| e.contains("moon")));
        assert!(read("").is_err());
    }
}
