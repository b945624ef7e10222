//! The task model of contract v1 and the newtypes its fields are made of.
//!
//! A value of these types is always valid: the constructors are the only way
//! in, and they say what is wrong with anything else.

use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Problem;
use events::TaskId;

/// Serde reads these newtypes from strings through their `parse`, so a stored
/// value is checked like input (without copying the text first), and writes
/// them as the text they hold.
macro_rules! string_newtypes {
    ($($name:ident),*) => {$(
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(ParsedStr(Self::parse))
            }
        }
    )*};
}

/// A serde visitor that parses a string in place with `parse`.
struct ParsedStr<T>(fn(&str) -> Result<T, Problem>);

impl<T> serde::de::Visitor<'_> for ParsedStr<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
        (self.0)(text).map_err(E::custom)
    }
}

string_newtypes!(Title, Description, Tag, TimeZone, Recurrence, StepText);

/// `raw` without its surrounding spaces, which must leave something; the
/// limit counts the spaces too, so that the contract's `maxLength` is the rule.
fn trimmed_within(raw: &str, max: usize) -> Result<&str, Problem> {
    let chars = raw.chars().count();
    match raw.trim() {
        "" => Err(Problem::Empty),
        _ if raw.contains('\0') => Err(Problem::Nul),
        _ if chars > max => Err(Problem::TooLong { max, got: chars }),
        trimmed => Ok(trimmed),
    }
}

/// A task's title: trimmed, 1 to [`Title::MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// The longest a title may be, in characters (surrounding spaces count).
    pub const MAX_CHARS: usize = 200;

    /// Trims `raw` and checks that it is neither empty nor too long.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        trimmed_within(raw, Self::MAX_CHARS).map(|text| Self(text.to_owned()))
    }

    /// The title's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A description: free text up to [`Description::MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// The longest a description may be, in characters.
    pub const MAX_CHARS: usize = 10_000;

    /// Checks that `raw` is not too long; the text is kept as given.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        if raw.contains('\0') {
            return Err(Problem::Nul);
        }
        let chars = raw.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(Problem::TooLong {
                max: Self::MAX_CHARS,
                got: chars,
            });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The description's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How much a task matters; ordered `none < low < medium < high`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// No priority (the default).
    #[default]
    None,
    /// Low priority.
    Low,
    /// Medium priority.
    Medium,
    /// High priority.
    High,
}

impl Priority {
    /// The accepted values, as error messages list them.
    pub const ALLOWED: &'static str = "none, low, medium, high";

    /// Reads one of the exact lower-case names in [`Priority::ALLOWED`].
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        match raw {
            "none" => Ok(Self::None),
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            _ => Err(Problem::NotOneOf {
                allowed: Self::ALLOWED,
                got: raw.to_owned(),
            }),
        }
    }
}

/// A tag: trimmed and lower-cased (tags compare case-insensitively),
/// 1 to [`Tag::MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

impl Tag {
    /// The longest a tag may be, in characters (surrounding spaces count).
    pub const MAX_CHARS: usize = 40;
    /// How many tags one task may carry.
    pub const MAX_PER_TASK: usize = 20;

    /// Trims and lower-cases `raw`, and checks that it is neither empty nor too long.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        trimmed_within(raw, Self::MAX_CHARS).map(|text| Self(text.to_lowercase()))
    }

    /// The tag's text, lower-cased.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone such as `Europe/Berlin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    /// Coordinated Universal Time, the default zone.
    pub const UTC: Self = Self(chrono_tz::Tz::UTC);

    /// Reads an IANA time zone name such as `Europe/Berlin`.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        raw.parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| Problem::UnknownTimeZone(raw.to_owned()))
    }

    /// The IANA name.
    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }

    /// The zone as a `chrono_tz` time zone.
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// `at` as the wall-clock time of this zone, with its offset.
    pub fn local(self, at: DateTime<Utc>) -> DateTime<FixedOffset> {
        at.with_timezone(&self.0).fixed_offset()
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self::UTC
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// An RFC 5545 RRULE body, kept as given once the recurrence engine has
/// checked it, with the rule it reads as.
#[derive(Debug, Clone)]
pub struct Recurrence {
    text: String,
    rule: recurrence::Rule,
}

impl Recurrence {
    /// Checks the rule with the recurrence engine (which says in words what
    /// is wrong with it); an `RRULE:` prefix is taken off.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let text = raw.trim();
        let text = text.strip_prefix("RRULE:").unwrap_or(text);
        let rule =
            recurrence::Rule::parse(text).map_err(|e| Problem::BadRecurrence(e.to_string()))?;
        Ok(Self {
            text: text.to_owned(),
            rule,
        })
    }

    /// The rule's text, trimmed and without an `RRULE:` prefix.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The rule the text reads as.
    pub fn rule(&self) -> &recurrence::Rule {
        &self.rule
    }

    /// The same rule with `COUNT=count`, the rest of its text as given.
    pub fn with_count(&self, count: u32) -> Self {
        let text = self
            .text
            .split(';')
            .map(|part| match part.split_once('=') {
                Some((name, _)) if name.trim().eq_ignore_ascii_case("COUNT") => {
                    format!("COUNT={count}")
                }
                _ => part.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(";");
        let rule = recurrence::Rule::parse(&text).unwrap_or_else(|_| self.rule.clone());
        Self { text, rule }
    }
}

/// Rules are the same when their texts are.
impl PartialEq for Recurrence {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Recurrence {}

/// Where the next occurrence of a repeating task is counted from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecurrenceMode {
    /// From the previous due date.
    #[default]
    Schedule,
    /// From the moment the task was completed.
    Completion,
}

impl RecurrenceMode {
    /// The accepted values, as error messages list them.
    pub const ALLOWED: &'static str = "schedule, completion";

    /// Reads one of the exact lower-case names in [`RecurrenceMode::ALLOWED`].
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        match raw {
            "schedule" => Ok(Self::Schedule),
            "completion" => Ok(Self::Completion),
            _ => Err(Problem::NotOneOf {
                allowed: Self::ALLOWED,
                got: raw.to_owned(),
            }),
        }
    }
}

/// When a reminder goes off, as its user set it: relative to the due date
/// or at a fixed instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReminderTime {
    /// So many minutes before the task's due date.
    MinutesBefore {
        /// How many minutes before, at most [`Reminder::MAX_MINUTES_BEFORE`].
        minutes_before: u32,
    },
    /// At a fixed instant.
    At {
        /// The instant, with the offset of the task's time zone.
        at: DateTime<FixedOffset>,
    },
}

/// A reminder of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    /// When it goes off, as set.
    #[serde(flatten)]
    pub time: ReminderTime,
    /// When it fires, with the offset of the task's time zone: worked out
    /// whenever the reminder or the task's due date is set, and `None` when
    /// that moment had already passed then, so that it never fires.
    #[serde(default)]
    pub fires_at: Option<DateTime<FixedOffset>>,
}

impl Reminder {
    /// Four weeks: the furthest ahead a relative reminder may be.
    pub const MAX_MINUTES_BEFORE: u32 = 4 * 7 * 24 * 60;
    /// How many reminders one task may carry.
    pub const MAX_PER_TASK: usize = 10;

    /// A reminder at `time`, not yet placed (see [`Task::schedule_reminders`]).
    pub fn new(time: ReminderTime) -> Self {
        Self {
            time,
            fires_at: None,
        }
    }

    /// The instant `time` names for a task due at `due_at`, if it names one.
    fn instant(time: ReminderTime, due_at: Option<DateTime<FixedOffset>>) -> Option<DateTime<Utc>> {
        match time {
            ReminderTime::MinutesBefore { minutes_before } => {
                Some(due_at?.to_utc() - chrono::Duration::minutes(i64::from(minutes_before)))
            }
            ReminderTime::At { at } => Some(at.to_utc()),
        }
    }
}

/// A step's text: trimmed, 1 to [`StepText::MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepText(String);

impl StepText {
    /// The longest a step may be, in characters (surrounding spaces count).
    pub const MAX_CHARS: usize = 500;

    /// Trims `raw` and checks that it is neither empty nor too long.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        trimmed_within(raw, Self::MAX_CHARS).map(|text| Self(text.to_owned()))
    }

    /// The step's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A step's id within its task, `s1`, `s2`, ...: given in the order the
/// steps were added, never reused while the task has the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StepId(pub u32);

impl StepId {
    /// Reads `s` and a number from 1.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        raw.strip_prefix('s')
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| *n > 0 && !raw.starts_with("s0"))
            .map(Self)
            .ok_or_else(|| Problem::NotAStepId(raw.to_owned()))
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

impl Serialize for StepId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StepId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParsedStr(Self::parse))
    }
}

/// One step of a task's checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Its id within the task.
    pub id: StepId,
    /// What to do.
    pub text: StepText,
    /// Whether it is done.
    pub done: bool,
}

impl Step {
    /// The most steps any limit lets one task hold (`max_steps_per_task`
    /// is 100 unless set lower or up to this).
    pub const MAX_PER_TASK: usize = 1_000;
}

/// A task's checklist, in its order. A task answers it as `steps`, and
/// beside it `steps_done`, how many are done (counted, never stored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Steps(pub Vec<Step>);

impl Steps {
    /// How many steps are done.
    pub fn done(&self) -> usize {
        self.0.iter().filter(|step| step.done).count()
    }

    /// The id the next step added gets: one past the highest.
    pub fn next_id(&self) -> StepId {
        StepId(self.0.iter().map(|step| step.id.0).max().unwrap_or(0) + 1)
    }
}

impl Serialize for Steps {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut fields = serializer.serialize_struct("Steps", 2)?;
        fields.serialize_field("steps", &self.0)?;
        fields.serialize_field("steps_done", &self.done())?;
        fields.end()
    }
}

impl<'de> Deserialize<'de> for Steps {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// `steps` of a task; `steps_done` is counted again.
        #[derive(Deserialize)]
        struct Listed {
            #[serde(default)]
            steps: Vec<Step>,
        }
        Listed::deserialize(deserializer).map(|listed| Self(listed.steps))
    }
}

/// The project a task belongs to: the user's Inbox, which every user has
/// and which cannot be deleted, or one the user made (its id, a ULID).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProjectId {
    /// The Inbox, where a task without a project lands; `"inbox"`.
    #[default]
    Inbox,
    /// A project the user made.
    Made(ulid::Ulid),
}

impl ProjectId {
    /// The Inbox's id.
    pub const INBOX: &'static str = "inbox";

    /// Reads `inbox` or a project's id (a ULID, in either case).
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        match raw {
            Self::INBOX => Ok(Self::Inbox),
            _ => ulid::Ulid::from_string(raw)
                .map(Self::Made)
                .map_err(|_| Problem::NotAProjectId(raw.to_owned())),
        }
    }

    /// The id of the project the user makes at `now` from `random`.
    pub fn new(now: DateTime<Utc>, random: u128) -> Self {
        let millis = u64::try_from(now.timestamp_millis()).unwrap_or_default();
        Self::Made(ulid::Ulid::from_parts(millis, random))
    }

    /// The id as the API writes it and a `project_id` column holds it.
    pub fn as_string(self) -> String {
        match self {
            Self::Inbox => Self::INBOX.to_owned(),
            Self::Made(id) => id.to_string(),
        }
    }

    /// The id of a project the user made; `None` for the Inbox.
    pub fn made(self) -> Option<ulid::Ulid> {
        match self {
            Self::Inbox => None,
            Self::Made(id) => Some(id),
        }
    }
}

impl fmt::Display for ProjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

impl Serialize for ProjectId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ProjectId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParsedStr(Self::parse))
    }
}

/// A task as stored and as answered (contract v1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// The task's id, which also orders tasks by creation.
    pub id: TaskId,
    /// The task's title.
    pub title: Title,
    /// Free text about the task, if any.
    pub description: Option<Description>,
    /// Whether the task is done.
    pub completed: bool,
    /// When the task was completed; `None` while it is not done.
    pub completed_at: Option<DateTime<Utc>>,
    /// How much the task matters.
    pub priority: Priority,
    /// The task's tags, at most [`Tag::MAX_PER_TASK`], without duplicates.
    pub tags: Vec<Tag>,
    /// The project the task belongs to. Events recorded before projects
    /// existed have none: their tasks are in the Inbox.
    #[serde(default)]
    pub project_id: ProjectId,
    /// Stored and answered with the offset of `time_zone` at that instant.
    pub due_at: Option<DateTime<FixedOffset>>,
    /// The zone the task's wall-clock times are read and shown in.
    pub time_zone: TimeZone,
    /// The rule the task repeats by, if it repeats.
    pub recurrence: Option<Recurrence>,
    /// Where the next occurrence of a repeating task is counted from.
    pub recurrence_mode: RecurrenceMode,
    /// The task's reminders, at most [`Reminder::MAX_PER_TASK`].
    pub reminders: Vec<Reminder>,
    /// The task's checklist (`steps` and `steps_done` in its JSON).
    #[serde(flatten)]
    pub steps: Steps,
    /// Its place in its project's order once a person moved it there
    /// ([`crate::task::rank`]); until then its id places it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// The series the task belongs to, if any; only the server sets it.
    pub series_id: Option<String>,
    /// When the task was created.
    pub created_at: DateTime<Utc>,
    /// When the task was last changed.
    pub updated_at: DateTime<Utc>,
}

impl Task {
    /// Works out when each reminder fires, from now on: at its instant when
    /// that is still ahead of `now`, never when it has passed. Called when the
    /// reminders or the due date are set.
    pub fn schedule_reminders(&mut self, now: DateTime<Utc>) {
        let (due_at, zone) = (self.due_at, self.time_zone);
        for reminder in &mut self.reminders {
            reminder.fires_at = Reminder::instant(reminder.time, due_at)
                .filter(|at| *at > now)
                .map(|at| zone.local(at));
        }
    }

    /// The reminders that are to fire: a pending task's placed reminders,
    /// with their index among the task's reminders and their instant.
    pub fn pending_reminders(&self) -> impl Iterator<Item = (usize, DateTime<Utc>)> + '_ {
        self.reminders
            .iter()
            .enumerate()
            .filter(|_| !self.completed)
            .filter_map(|(i, r)| Some((i, r.fires_at?.to_utc())))
    }

    /// Marks the task done or not done. Completing a completed task changes
    /// nothing (its `completed_at` stays), so the call is idempotent.
    /// Answers whether anything changed.
    pub fn set_completed(&mut self, completed: bool, now: DateTime<Utc>) -> bool {
        if self.completed == completed {
            return false;
        }
        self.completed = completed;
        self.completed_at = completed.then_some(now);
        self.updated_at = now;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(
            Title::parse("  Buy milk ").map(|t| t.0),
            Ok("Buy milk".into())
        );
        assert_eq!(Title::parse("   "), Err(Problem::Empty));
        assert_eq!(
            Title::parse(&"é".repeat(201)),
            Err(Problem::TooLong { max: 200, got: 201 })
        );
        assert!(Title::parse(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn priorities_order_from_none_to_high() {
        assert!(Priority::None < Priority::Low);
        assert!(Priority::Low < Priority::Medium);
        assert!(Priority::Medium < Priority::High);
        assert_eq!(Priority::parse("high"), Ok(Priority::High));
        assert!(
            Priority::parse("HIGH").is_err(),
            "values are exact, as the contract's enum"
        );
        let err = Priority::parse("urgent").expect_err("unknown priority");
        assert_eq!(
            err.to_string(),
            "must be one of none, low, medium, high (got \"urgent\")"
        );
    }

    #[test]
    fn no_text_of_a_task_holds_the_nul_character() {
        assert_eq!(Tag::parse("a\0b"), Err(Problem::Nul));
        assert_eq!(Title::parse("pay\0rent"), Err(Problem::Nul));
        assert_eq!(Description::parse("\0").map(|_| ()), Err(Problem::Nul));
    }

    #[test]
    fn tags_are_case_insensitive() {
        assert_eq!(Tag::parse(" Work "), Tag::parse("work"));
        assert_eq!(Tag::parse(""), Err(Problem::Empty));
        assert!(matches!(
            Tag::parse(&"x".repeat(41)),
            Err(Problem::TooLong { .. })
        ));
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            TimeZone::parse("Europe/Berlin").map(|z| z.to_string()),
            Ok("Europe/Berlin".into())
        );
        assert_eq!(
            TimeZone::parse("Mars/Olympus"),
            Err(Problem::UnknownTimeZone("Mars/Olympus".into()))
        );
    }

    #[test]
    fn the_contract_lists_exactly_the_time_zones_accepted() {
        let contract = include_str!("../../../../contracts/openapi.yaml");
        let listed: Vec<&str> = contract
            .lines()
            .find(|line| line.trim_start().starts_with("TimeZone:"))
            .and_then(|line| line.split_once("enum: [")?.1.split_once(']'))
            .map(|(names, _)| names.split(", ").collect())
            .unwrap_or_default();
        let accepted: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
        assert!(
            listed == accepted,
            "contracts/openapi.yaml's TimeZone enum should read: enum: [{}]",
            accepted.join(", ")
        );
    }

    #[test]
    fn recurrence_rules_are_checked_by_the_engine() {
        assert!(Recurrence::parse("FREQ=WEEKLY;BYDAY=MO,WE").is_ok());
        let prefixed = Recurrence::parse("RRULE:FREQ=DAILY;INTERVAL=2").map(|r| r.text);
        assert_eq!(prefixed, Ok("FREQ=DAILY;INTERVAL=2".into()));
        for bad in [
            "",
            "BYDAY=MO",
            "FREQ=SOMETIMES",
            "FREQ=DAILY;FREQ=WEEKLY",
            "FREQ",
            "FREQ=DAILY;COLOR=RED",
            "FREQ=MINUTELY",
        ] {
            assert!(
                matches!(Recurrence::parse(bad), Err(Problem::BadRecurrence(_))),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn a_rule_with_another_count_keeps_the_rest_of_its_text() {
        let rule = Recurrence::parse("FREQ=WEEKLY;count=3;BYDAY=MO").expect("valid");
        assert_eq!(rule.with_count(2).as_str(), "FREQ=WEEKLY;COUNT=2;BYDAY=MO");
        assert_eq!(rule.with_count(2).rule().count(), Some(2));
    }

    #[test]
    fn completing_is_idempotent() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let later = now + chrono::Duration::minutes(5);
        let mut task = Task {
            id: TaskId::new(now, 1),
            title: Title::parse("t").expect("valid"),
            description: None,
            completed: false,
            completed_at: None,
            priority: Priority::None,
            tags: vec![],
            project_id: ProjectId::Inbox,
            due_at: None,
            time_zone: TimeZone::UTC,
            recurrence: None,
            recurrence_mode: RecurrenceMode::Schedule,
            reminders: vec![],
            steps: Steps::default(),
            order: None,
            series_id: None,
            created_at: now,
            updated_at: now,
        };
        assert!(task.set_completed(true, now));
        assert!(!task.set_completed(true, later));
        assert_eq!(task.completed_at, Some(now));
        assert!(task.set_completed(false, later));
        assert_eq!(task.completed_at, None);
    }
}
