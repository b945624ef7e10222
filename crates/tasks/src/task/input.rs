//! Input from outside, parsed at the edge into checked values.
//!
//! A request body is read field by field so that every error names the field
//! it is about. `PATCH` bodies become a [`TaskPatch`] (only the fields given);
//! `POST` and `PUT` bodies become a [`TaskSpec`] (a patch of every field, with
//! defaults for those left out). Both are applied by [`TaskPatch::apply`], so
//! the rules live in one place.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone as _, Utc};
use serde_json::{Map, Value};

use crate::error::{FieldError, Problem};
use crate::task::model::{
    Description, Priority, ProjectId, Recurrence, RecurrenceMode, Reminder, ReminderTime, Step,
    StepId, StepText, Steps, Tag, Task, TimeZone, Title,
};
use crate::task::store::Place;
use events::TaskId;

/// The fields a client may write.
const WRITABLE: &str = "title, description, completed, priority, tags, project_id, due_at, time_zone, recurrence, recurrence_mode, reminders, steps";
/// Fields of an answered task that the server sets. A whole task sent back to
/// `POST` or `PUT` may carry them, and they are ignored; a `PATCH` that names
/// one is refused, since it asks for a change that cannot happen.
const READ_ONLY: [&str; 7] = [
    "id",
    "created_at",
    "updated_at",
    "completed_at",
    "series_id",
    "steps_done",
    "order",
];

/// A point in time as a client wrote it: with an offset, or wall-clock time
/// to be read in the task's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// An instant with its offset, as RFC 3339 writes it.
    Absolute(DateTime<FixedOffset>),
    /// A wall-clock time without an offset.
    Local(NaiveDateTime),
}

impl When {
    /// Reads an RFC 3339 date-time, or a local `YYYY-MM-DDTHH:MM[:SS]` time (with `T` or a space).
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let raw = raw.trim();
        if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
            return Ok(Self::Absolute(at));
        }
        [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
        .map(Self::Local)
        .ok_or_else(|| Problem::BadDateTime(raw.to_owned()))
    }

    /// The instant, shown with the offset `zone` has at that instant. A local
    /// time that falls in a DST gap is refused; one that occurs twice (when
    /// clocks go back) is read as the earlier.
    pub fn resolve(self, zone: TimeZone) -> Result<DateTime<FixedOffset>, Problem> {
        let instant = match self {
            Self::Absolute(at) => at.with_timezone(&Utc),
            Self::Local(naive) => zone
                .tz()
                .from_local_datetime(&naive)
                .earliest()
                .ok_or_else(|| Problem::SkippedLocalTime(naive.to_string(), zone.to_string()))?
                .with_timezone(&Utc),
        };
        Ok(zone.local(instant))
    }
}

/// A reminder as a client wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderInput {
    /// So many minutes before the due date.
    MinutesBefore(u32),
    /// At a point in time.
    At(When),
}

/// A step as a client wrote it: its text alone (a new step, not done), or
/// `{"id"?, "text", "done"?}` (with `id`, one of the task's steps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepInput {
    /// The step it is, if it is one the task has.
    pub id: Option<StepId>,
    /// What to do.
    pub text: StepText,
    /// Whether it is done.
    pub done: bool,
}

/// The fields a `PATCH` body gives; `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskPatch {
    /// A new title.
    pub title: Option<Title>,
    /// A new description, or `Some(None)` to clear it.
    pub description: Option<Option<Description>>,
    /// Marks the task done (`true`) or not done (`false`).
    pub completed: Option<bool>,
    /// A new priority.
    pub priority: Option<Priority>,
    /// New tags, replacing all the old ones.
    pub tags: Option<Vec<Tag>>,
    /// The project to move the task to.
    pub project_id: Option<ProjectId>,
    /// A new due date, or `Some(None)` to clear it.
    pub due_at: Option<Option<When>>,
    /// A new time zone; local times are read in it, and a kept due date keeps its instant.
    pub time_zone: Option<TimeZone>,
    /// A new recurrence rule, or `Some(None)` to stop repeating.
    pub recurrence: Option<Option<Recurrence>>,
    /// A new recurrence mode.
    pub recurrence_mode: Option<RecurrenceMode>,
    /// New reminders, replacing all the old ones.
    pub reminders: Option<Vec<ReminderInput>>,
    /// A new checklist, in its order, replacing the old one: the steps
    /// named by id are kept (changed as given), the others are new.
    pub steps: Option<Vec<StepInput>>,
}

/// A whole task as `POST` and `PUT` give it: every field set, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpec(TaskPatch);

impl TaskSpec {
    /// Parses a create or replace body: `title` is required, every other field
    /// takes its default when left out.
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let patch = TaskPatch::parse_fields(body, ReadOnly::Ignored)?;
        if patch.title.is_none() {
            return Err(FieldError::new("title", Problem::Missing));
        }
        Ok(Self(TaskPatch {
            description: Some(patch.description.unwrap_or_default()),
            completed: Some(patch.completed.unwrap_or_default()),
            priority: Some(patch.priority.unwrap_or_default()),
            tags: Some(patch.tags.unwrap_or_default()),
            project_id: Some(patch.project_id.unwrap_or_default()),
            due_at: Some(patch.due_at.unwrap_or_default()),
            time_zone: Some(patch.time_zone.unwrap_or_default()),
            recurrence: Some(patch.recurrence.unwrap_or_default()),
            recurrence_mode: Some(patch.recurrence_mode.unwrap_or_default()),
            reminders: Some(patch.reminders.unwrap_or_default()),
            steps: Some(patch.steps.clone().unwrap_or_default()),
            ..patch
        }))
    }

    /// A new task made from this spec.
    pub fn create(self, id: TaskId, now: DateTime<Utc>) -> Result<Task, FieldError> {
        let title = self
            .0
            .title
            .clone()
            .ok_or_else(|| FieldError::new("title", Problem::Missing))?;
        let mut task = Task {
            id,
            title,
            description: None,
            completed: false,
            completed_at: None,
            priority: Priority::None,
            tags: Vec::new(),
            project_id: ProjectId::Inbox,
            due_at: None,
            time_zone: TimeZone::UTC,
            recurrence: None,
            recurrence_mode: RecurrenceMode::Schedule,
            reminders: Vec::new(),
            steps: Steps::default(),
            order: None,
            series_id: None,
            created_at: now,
            updated_at: now,
        };
        let mut patch = self.0;
        // A new task's steps are all new, whatever ids a task sent back
        // carries.
        for step in patch.steps.iter_mut().flatten() {
            step.id = None;
        }
        patch.apply(&mut task, now)?;
        Ok(task)
    }

    /// Replaces every writable field of `task`.
    pub fn replace(self, task: &mut Task, now: DateTime<Utc>) -> Result<(), FieldError> {
        self.0.apply(task, now)
    }
}

/// What a body may do with the [`READ_ONLY`] fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadOnly {
    Ignored,
    Refused,
}

impl TaskPatch {
    /// Parses a `PATCH` body: a JSON object of the fields to change.
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        Self::parse_fields(body, ReadOnly::Refused)
    }

    fn parse_fields(body: &Value, read_only: ReadOnly) -> Result<Self, FieldError> {
        let Value::Object(fields) = body else {
            return Err(FieldError::new(
                "body",
                Problem::WrongType {
                    expected: "a JSON object",
                },
            ));
        };
        for name in fields.keys() {
            if WRITABLE.split(", ").any(|w| w == name) {
                continue;
            }
            let problem = match READ_ONLY.contains(&name.as_str()) {
                true if read_only == ReadOnly::Ignored => continue,
                true => Problem::ReadOnly,
                false => Problem::UnknownField { known: WRITABLE },
            };
            return Err(FieldError::new(name.clone(), problem));
        }
        let read = Reader(fields);
        Ok(Self {
            title: read.required("title", |v| Title::parse(string(v)?))?,
            description: read.nullable("description", |v| Description::parse(string(v)?))?,
            completed: read.required("completed", |v| {
                v.as_bool().ok_or(Problem::WrongType {
                    expected: "true or false",
                })
            })?,
            priority: read.required("priority", |v| Priority::parse(string(v)?))?,
            tags: read
                .required("tags", |_| Ok(()))?
                .map(|()| read.tags())
                .transpose()?,
            project_id: read.required("project_id", |v| ProjectId::parse(string(v)?))?,
            due_at: read.nullable("due_at", |v| When::parse(string(v)?))?,
            time_zone: read.required("time_zone", |v| TimeZone::parse(string(v)?))?,
            recurrence: read.nullable("recurrence", |v| Recurrence::parse(string(v)?))?,
            recurrence_mode: read
                .required("recurrence_mode", |v| RecurrenceMode::parse(string(v)?))?,
            reminders: read
                .required("reminders", |_| Ok(()))?
                .map(|()| read.reminders())
                .transpose()?,
            steps: read
                .required("steps", |_| Ok(()))?
                .map(|()| read.steps())
                .transpose()?,
        })
    }

    /// Applies the change to `task`. On error `task` may be half-changed:
    /// callers apply to a copy and keep it only on success.
    pub fn apply(self, task: &mut Task, now: DateTime<Utc>) -> Result<(), FieldError> {
        let zone = self.time_zone.unwrap_or(task.time_zone);
        let due_at = match self.due_at {
            Some(Some(when)) => Some(
                when.resolve(zone)
                    .map_err(|p| FieldError::new("due_at", p))?,
            ),
            Some(None) => None,
            None => task.due_at.map(|at| zone.local(at.with_timezone(&Utc))),
        };
        let replanned = self.reminders.is_some();
        if let Some(reminders) = self.reminders {
            task.reminders = reminders
                .into_iter()
                .enumerate()
                .map(|(i, reminder)| match reminder {
                    ReminderInput::MinutesBefore(minutes_before) => {
                        Ok(Reminder::new(ReminderTime::MinutesBefore {
                            minutes_before,
                        }))
                    }
                    ReminderInput::At(when) => when
                        .resolve(zone)
                        .map(|at| Reminder::new(ReminderTime::At { at }))
                        .map_err(|p| FieldError::new(format!("reminders[{i}].at"), p)),
                })
                .collect::<Result<_, _>>()?;
        }
        let relative = task
            .reminders
            .iter()
            .position(|r| matches!(r.time, ReminderTime::MinutesBefore { .. }));
        if let (None, Some(i)) = (due_at, relative) {
            let field = format!("reminders[{i}].minutes_before");
            return Err(FieldError::new(field, Problem::NeedsDueDate));
        }
        let due_moved = due_at != task.due_at;
        task.time_zone = zone;
        task.due_at = due_at;
        if replanned || due_moved {
            task.schedule_reminders(now);
        }
        if let Some(title) = self.title {
            task.title = title;
        }
        if let Some(description) = self.description {
            task.description = description;
        }
        if let Some(priority) = self.priority {
            task.priority = priority;
        }
        if let Some(tags) = self.tags {
            task.tags = tags;
        }
        if let Some(project) = self.project_id {
            task.project_id = project;
        }
        if let Some(steps) = self.steps {
            task.steps = checklist(&task.steps, steps)?;
        }
        if let Some(recurrence) = self.recurrence {
            task.recurrence = recurrence;
        }
        if task.recurrence.is_some() && task.due_at.is_none() {
            return Err(FieldError::new(
                "recurrence",
                Problem::RepeatsWithoutDueDate,
            ));
        }
        if task.recurrence.is_some() && task.series_id.is_none() {
            // A repeating task begins its series; the tasks that repeat it
            // join it.
            task.series_id = Some(task.id.to_string());
        }
        if let Some(mode) = self.recurrence_mode {
            task.recurrence_mode = mode;
        }
        if let Some(completed) = self.completed {
            task.set_completed(completed, now);
        }
        task.updated_at = now;
        Ok(())
    }
}

/// A move's body: where in the order (`{"before": id}`, `{"after": id}`,
/// `{"to": "top" | "bottom"}`, exactly one) and, optionally, into which
/// project (`project_id`; the task's own when left out).
pub fn parse_move(body: &Value) -> Result<(Option<ProjectId>, Place), FieldError> {
    let Value::Object(fields) = body else {
        let expected = "a JSON object";
        return Err(FieldError::new("body", Problem::WrongType { expected }));
    };
    let known = "before, after, to, project_id";
    let mut place = None;
    let mut project = None;
    for (name, value) in fields {
        let err = |problem| FieldError::new(name.as_str(), problem);
        let task = || {
            string(value).and_then(|raw| {
                TaskId::parse(raw).ok_or(Problem::WrongType {
                    expected: "a task's id",
                })
            })
        };
        let given = match name.as_str() {
            "project_id" => {
                project = Some(string(value).and_then(ProjectId::parse).map_err(err)?);
                continue;
            }
            "before" => Place::Before(task().map_err(err)?),
            "after" => Place::After(task().map_err(err)?),
            "to" => match string(value).map_err(err)? {
                "top" => Place::Top,
                "bottom" => Place::Bottom,
                other => {
                    return Err(err(Problem::NotOneOf {
                        allowed: "top, bottom",
                        got: other.to_owned(),
                    }));
                }
            },
            _ => return Err(err(Problem::UnknownField { known })),
        };
        if place.replace(given).is_some() {
            let expected = "exactly one of before, after and to";
            return Err(err(Problem::WrongType { expected }));
        }
    }
    let place = place.ok_or(FieldError::new("to", Problem::Missing))?;
    Ok((project, place))
}

/// Parses a request body as JSON, refusing an object that gives the same
/// key twice (at any depth): which of the two was meant is anybody's guess.
pub fn parse_json(body: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<Unambiguous>(body).map(|parsed| parsed.0)
}

/// A JSON value read by a visitor that refuses duplicate keys.
struct Unambiguous(Value);

impl<'de> serde::Deserialize<'de> for Unambiguous {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UnambiguousVisitor)
            .map(Unambiguous)
    }
}

struct UnambiguousVisitor;

impl<'de> serde::de::Visitor<'de> for UnambiguousVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Unambiguous(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Unambiguous(value) = map.next_value()?;
            if fields.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "\"{key}\" is given twice, which is ambiguous; give each key once"
                )));
            }
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}

fn string(value: &Value) -> Result<&str, Problem> {
    value.as_str().ok_or(Problem::WrongType {
        expected: "a string",
    })
}

/// Reads the fields of one JSON object, naming the field in every error.
struct Reader<'a>(&'a Map<String, Value>);

impl Reader<'_> {
    /// A field that may be left out but not set to `null`.
    fn required<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, Problem>,
    ) -> Result<Option<T>, FieldError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Null) => Err(FieldError::new(
                name,
                Problem::WrongType {
                    expected: "given a value, not null",
                },
            )),
            Some(value) => parse(value).map(Some).map_err(|p| FieldError::new(name, p)),
        }
    }

    /// A field that may be left out, or set to `null` to clear it.
    fn nullable<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, Problem>,
    ) -> Result<Option<Option<T>>, FieldError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(value) => parse(value)
                .map(|v| Some(Some(v)))
                .map_err(|p| FieldError::new(name, p)),
        }
    }

    fn array(&self, name: &str, max: usize) -> Result<&[Value], FieldError> {
        let items = self.0.get(name).and_then(Value::as_array).ok_or_else(|| {
            FieldError::new(
                name,
                Problem::WrongType {
                    expected: "an array",
                },
            )
        })?;
        if items.len() > max {
            return Err(FieldError::new(
                name,
                Problem::TooMany {
                    max,
                    got: items.len(),
                },
            ));
        }
        Ok(items)
    }

    /// Tags, trimmed, lower-cased and de-duplicated in the order given.
    fn tags(&self) -> Result<Vec<Tag>, FieldError> {
        let mut tags: Vec<Tag> = Vec::new();
        for (i, item) in self.array("tags", Tag::MAX_PER_TASK)?.iter().enumerate() {
            let tag = string(item)
                .and_then(Tag::parse)
                .map_err(|p| FieldError::new(format!("tags[{i}]"), p))?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        Ok(tags)
    }

    fn steps(&self) -> Result<Vec<StepInput>, FieldError> {
        (self.array("steps", Step::MAX_PER_TASK)?.iter().enumerate())
            .map(|(i, item)| {
                step(item).map_err(|(field, p)| FieldError::new(format!("steps[{i}]{field}"), p))
            })
            .collect()
    }

    fn reminders(&self) -> Result<Vec<ReminderInput>, FieldError> {
        self.array("reminders", Reminder::MAX_PER_TASK)?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                reminder(item)
                    .map_err(|(field, p)| FieldError::new(format!("reminders[{i}]{field}"), p))
            })
            .collect()
    }
}

fn step(item: &Value) -> Result<StepInput, (&'static str, Problem)> {
    let text = |value: &Value| string(value).and_then(StepText::parse);
    let fields = match item {
        Value::String(_) => {
            let text = text(item).map_err(|p| ("", p))?;
            return Ok(StepInput {
                id: None,
                text,
                done: false,
            });
        }
        Value::Object(fields) => fields,
        _ => {
            let expected = "a string, or an object such as {\"text\": \"towel\", \"done\": true}";
            return Err(("", Problem::WrongType { expected }));
        }
    };
    if fields
        .keys()
        .any(|k| !matches!(k.as_str(), "id" | "text" | "done"))
    {
        return Err((
            "",
            Problem::UnknownField {
                known: "id, text, done",
            },
        ));
    }
    let id = match fields.get("id") {
        None => None,
        Some(id) => Some(string(id).and_then(StepId::parse).map_err(|p| (".id", p))?),
    };
    let text =
        text(fields.get("text").ok_or((".text", Problem::Missing))?).map_err(|p| (".text", p))?;
    let done = match fields.get("done") {
        None => false,
        Some(done) => done.as_bool().ok_or((
            ".done",
            Problem::WrongType {
                expected: "true or false",
            },
        ))?,
    };
    Ok(StepInput { id, text, done })
}

/// The checklist `steps` make of the task's `old` one: a step named by id
/// must be one of the old (once), the others get new ids.
fn checklist(old: &Steps, steps: Vec<StepInput>) -> Result<Steps, FieldError> {
    let mut next = old.next_id();
    let mut new: Vec<Step> = Vec::with_capacity(steps.len());
    for (i, input) in steps.into_iter().enumerate() {
        let problem = match input.id {
            Some(id) if new.iter().any(|s| s.id == id) => Some(Problem::StepTwice(id.to_string())),
            Some(id) if !old.0.iter().any(|s| s.id == id) => {
                Some(Problem::UnknownStep(id.to_string()))
            }
            _ => None,
        };
        if let Some(problem) = problem {
            return Err(FieldError::new(format!("steps[{i}].id"), problem));
        }
        let id = input.id.unwrap_or_else(|| {
            let id = next;
            next = StepId(next.0 + 1);
            id
        });
        new.push(Step {
            id,
            text: input.text,
            done: input.done,
        });
    }
    Ok(Steps(new))
}

fn reminder(item: &Value) -> Result<ReminderInput, (&'static str, Problem)> {
    let Value::Object(fields) = item else {
        return Err((
            "",
            Problem::WrongType {
                expected: "an object such as {\"minutes_before\": 30}",
            },
        ));
    };
    if fields
        .keys()
        // `fires_at` is the server's, and may come back from a task read.
        .any(|k| !matches!(k.as_str(), "minutes_before" | "at" | "fires_at"))
    {
        return Err(("", Problem::BadReminder));
    }
    match (fields.get("minutes_before"), fields.get("at")) {
        (Some(minutes), None) => {
            let max = Reminder::MAX_MINUTES_BEFORE;
            let got = minutes.as_i64().ok_or((
                ".minutes_before",
                Problem::WrongType {
                    expected: "a whole number of minutes",
                },
            ))?;
            u32::try_from(got)
                .ok()
                .filter(|m| *m <= max)
                .map(ReminderInput::MinutesBefore)
                .ok_or((
                    ".minutes_before",
                    Problem::OutOfRange {
                        min: 0,
                        max: i64::from(max),
                        got,
                    },
                ))
        }
        (None, Some(at)) => string(at)
            .and_then(When::parse)
            .map(ReminderInput::At)
            .map_err(|p| (".at", p)),
        _ => Err(("", Problem::BadReminder)),
    }
}

#[cfg(test)]
mod tests;
