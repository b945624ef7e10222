//! Listing: which of a user's tasks a `GET /tasks` query selects, in which
//! order, and one page of them at a time.
//!
//! The order is total: the sort field, then the task id (creation order), both
//! turned around for `order=desc`; tasks without a due date come last when
//! sorting by due date, in either order. A cursor names the last task of a page
//! by its place in that order, so the next page starts right after it whatever
//! was added meanwhile: no task is skipped or repeated.

use std::cmp::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::TimeZone;
use crate::error::{FieldError, Problem};
use crate::task::model::{Priority, ProjectId, Tag, Task};
use events::TaskId;

const KNOWN: &str = "status, priority, tag, project, q, due, due_before, due_after, overdue, \
sort, order, limit, cursor";

/// What a saved view's filter may give: the listing's parameters but the
/// page's.
const FILTER: &str =
    "status, priority, tag, project, q, due, due_before, due_after, overdue, sort, order";

/// The due windows, as `due` names them.
const WINDOWS: &str = "today, tomorrow, this_week, next_7_days, overdue, no_date";

/// A due window that moves with the clock: its bounds are days of the
/// user's time zone, worked out when the listing runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueWindow {
    /// Due today.
    Today,
    /// Due tomorrow.
    Tomorrow,
    /// Due from this Monday to Sunday.
    ThisWeek,
    /// Due today or in the six days after.
    Next7Days,
    /// Due before now and not completed (as `overdue=true`).
    Overdue,
    /// Without a due date.
    NoDate,
}

impl DueWindow {
    fn parse(raw: &str) -> Result<Self, Problem> {
        Ok(match raw {
            "today" => Self::Today,
            "tomorrow" => Self::Tomorrow,
            "this_week" => Self::ThisWeek,
            "next_7_days" => Self::Next7Days,
            "overdue" => Self::Overdue,
            "no_date" => Self::NoDate,
            _ => return Err(not_one_of(WINDOWS, raw)),
        })
    }

    /// The window's name, as `due` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Today => "today",
            Self::Tomorrow => "tomorrow",
            Self::ThisWeek => "this_week",
            Self::Next7Days => "next_7_days",
            Self::Overdue => "overdue",
            Self::NoDate => "no_date",
        }
    }

    /// The days the window spans in `zone` at `now`: its first day and the
    /// day after its last; `None` for the windows that are not days.
    fn days(self, now: DateTime<Utc>, zone: TimeZone) -> Option<(NaiveDate, NaiveDate)> {
        let today = now.with_timezone(&zone.tz()).date_naive();
        let (first, days) = match self {
            Self::Today => (today, 1),
            Self::Tomorrow => (today.checked_add_days(Days::new(1))?, 1),
            Self::ThisWeek => {
                let since_monday = today.weekday().num_days_from_monday();
                (today.checked_sub_days(Days::new(since_monday.into()))?, 7)
            }
            Self::Next7Days => (today, 7),
            Self::Overdue | Self::NoDate => return None,
        };
        Some((first, first.checked_add_days(Days::new(days))?))
    }
}

/// The first instant of `day` in `zone` (where midnight is skipped, the
/// first wall-clock time after the gap).
fn start_of(day: NaiveDate, zone: TimeZone) -> Option<DateTime<Utc>> {
    let zone = zone.tz();
    (0..=24 * 60).step_by(15).find_map(|minutes| {
        let local = day.and_hms_opt(0, 0, 0)? + chrono::Duration::minutes(minutes);
        let at = zone.from_local_datetime(&local).earliest()?;
        Some(at.with_timezone(&Utc))
    })
}

/// Which tasks a listing selects by completion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Status {
    /// Every task (the default).
    #[default]
    All,
    /// Tasks not completed.
    Pending,
    /// Completed tasks.
    Completed,
}

/// The field a listing is sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    /// Creation time (the default).
    #[default]
    CreatedAt,
    /// Due date; tasks without one come last.
    DueAt,
    /// Priority, from `none` to `high`.
    Priority,
    /// Title, case-insensitively.
    Title,
    /// The order a person gave the tasks of a project (by hand; creation
    /// order until then).
    Order,
}

/// The direction of a listing's order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Smallest first (the default).
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// A parsed `GET /api/{user}/tasks` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Which tasks to select by completion.
    pub status: Status,
    /// Any of these; empty means any priority.
    pub priorities: Vec<Priority>,
    /// All of these.
    pub tags: Vec<Tag>,
    /// Only the tasks of this project.
    pub project: Option<ProjectId>,
    /// Lower-cased words, each of which must appear in the title, the
    /// description or a tag.
    pub words: Vec<String>,
    /// `due_at < due_before`.
    pub due_before: Option<DateTime<Utc>>,
    /// `due_at >= due_after`.
    pub due_after: Option<DateTime<Utc>>,
    /// `Some(true)`: only overdue tasks (due in the past, not completed);
    /// `Some(false)`: none of them.
    pub overdue: Option<bool>,
    /// A due window of the user's days; [`ListQuery::resolve`] turns it
    /// into the bounds above before the listing runs.
    pub due: Option<DueWindow>,
    /// `Some(false)`: only tasks without a due date; `Some(true)`: only
    /// tasks with one. Set by resolving `due=no_date`.
    pub dated: Option<bool>,
    /// The field to sort by.
    pub sort: SortField,
    /// The direction to sort in.
    pub order: Order,
    /// The most tasks a page holds, 1 to [`ListQuery::MAX_LIMIT`].
    pub limit: usize,
    /// Where the previous page ended; `None` for the first page.
    pub cursor: Option<Cursor>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            status: Status::All,
            priorities: Vec::new(),
            tags: Vec::new(),
            project: None,
            words: Vec::new(),
            due_before: None,
            due_after: None,
            overdue: None,
            due: None,
            dated: None,
            sort: SortField::CreatedAt,
            order: Order::Asc,
            limit: Self::DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

/// The value a task is sorted by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    /// A creation or due time; `None` for a task without a due date.
    Time(Option<DateTime<Utc>>),
    /// A priority.
    Priority(Priority),
    /// A lower-cased title.
    Text(String),
}

/// Where a page ended: the last task's sort value and id, and the order it
/// was made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub(crate) sort: SortField,
    #[serde(rename = "o")]
    pub(crate) order: Order,
    #[serde(rename = "v")]
    pub(crate) value: SortValue,
    pub(crate) id: TaskId,
}

impl Cursor {
    /// The cursor as URL-safe base64 text, as the `cursor` parameter takes it.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// What a listing reads of a task (a whole [`Task`]): what the in-memory
/// listing, the one the SQL listing is checked against, filters and sorts by.
pub trait Listed {
    /// The task's id (its creation order).
    fn id(&self) -> TaskId;
    /// Whether it is done.
    fn completed(&self) -> bool;
    /// Its priority.
    fn priority(&self) -> Priority;
    /// Whether it carries `tag`.
    fn has_tag(&self, tag: &Tag) -> bool;
    /// The project it is in.
    fn project(&self) -> ProjectId;
    /// Its key in its project's order.
    fn order_key(&self) -> String;
    /// Its due date, as an instant.
    fn due(&self) -> Option<DateTime<Utc>>;
    /// When it was created.
    fn created_at(&self) -> DateTime<Utc>;
    /// Its title, as given.
    fn title(&self) -> &str;
    /// Whether the lower-cased `word` appears in its title, description or tags.
    fn mentions(&self, word: &str) -> bool;
}

impl Listed for Task {
    fn id(&self) -> TaskId {
        self.id
    }

    fn completed(&self) -> bool {
        self.completed
    }

    fn priority(&self) -> Priority {
        self.priority
    }

    fn has_tag(&self, tag: &Tag) -> bool {
        self.tags.contains(tag)
    }

    fn project(&self) -> ProjectId {
        self.project_id
    }

    fn order_key(&self) -> String {
        self.order.clone().unwrap_or_else(|| self.id.to_string())
    }

    fn due(&self) -> Option<DateTime<Utc>> {
        self.due_at.map(|d| d.with_timezone(&Utc))
    }

    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    fn title(&self) -> &str {
        self.title.as_str()
    }

    fn mentions(&self, word: &str) -> bool {
        contains_lowercase(self.title.as_str(), word)
            || self
                .description
                .as_ref()
                .is_some_and(|d| contains_lowercase(d.as_str(), word))
            || self.tags.iter().any(|tag| tag.as_str().contains(word))
    }
}

/// Whether `text`, lower-cased, contains the lower-cased `word`.
pub fn contains_lowercase(text: &str, word: &str) -> bool {
    if text.is_ascii() {
        // No allocation in the common case: ASCII letters lower-case alone.
        let (text, word) = (text.as_bytes(), word.as_bytes());
        word.is_empty()
            || text
                .windows(word.len())
                .any(|window| window.eq_ignore_ascii_case(word))
    } else {
        text.to_lowercase().contains(word)
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<'a, T> {
    /// The tasks of the page, in order.
    pub tasks: Vec<&'a T>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

/// A page size from a query: a whole number from 1 to `max`.
pub(crate) fn limit(value: &str, max: usize) -> Result<usize, Problem> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| Problem::OutOfRange {
            min: 1,
            max: i64::try_from(max).unwrap_or(i64::MAX),
            got: value.parse().unwrap_or(-1),
        })
}

impl ListQuery {
    /// The page size when `limit` is not given.
    pub const DEFAULT_LIMIT: usize = 50;
    /// The largest `limit` allowed.
    pub const MAX_LIMIT: usize = 200;

    /// Parses a URL query string such as `status=pending&tag=work&sort=due_at`.
    pub fn parse(query: &str) -> Result<Self, FieldError> {
        let mut q = Self::default();
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let err = |problem| FieldError::new(name.as_ref(), problem);
            if !KNOWN.split(", ").any(|k| k == name) {
                return Err(err(Problem::UnknownField { known: KNOWN }));
            }
            q.set(&name, &value, &mut seen).map_err(err)?;
        }
        q.check_cursor()?;
        Ok(q)
    }

    /// Refuses a cursor made for another order than the query's.
    fn check_cursor(&self) -> Result<(), FieldError> {
        if (self.cursor.as_ref()).is_some_and(|c| (c.sort, c.order) != (self.sort, self.order)) {
            return Err(FieldError::new("cursor", Problem::BadCursor));
        }
        Ok(())
    }

    /// Reads the page a saved view's listing asks for: a query string of
    /// `limit` and `cursor` alone.
    pub fn parse_page(&mut self, query: &str) -> Result<(), FieldError> {
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let err = |problem| FieldError::new(name.as_ref(), problem);
            if !matches!(name.as_ref(), "limit" | "cursor") {
                return Err(err(Problem::UnknownField {
                    known: "limit, cursor",
                }));
            }
            self.set(&name, &value, &mut seen).map_err(err)?;
        }
        self.check_cursor()
    }

    /// Parses a saved view's filter: a JSON object of the listing's
    /// parameters but `limit` and `cursor`, each a string (`priority` and
    /// `tag` a list of them too; `overdue` true or false). Errors name the
    /// field as `{field}.{parameter}`.
    pub fn parse_filter(filter: &Value, field: &str) -> Result<Self, FieldError> {
        let Value::Object(given) = filter else {
            let expected = "a JSON object";
            return Err(FieldError::new(field, Problem::WrongType { expected }));
        };
        let mut q = Self::default();
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in given {
            let err = |problem| FieldError::new(format!("{field}.{name}"), problem);
            if !FILTER.split(", ").any(|k| k == name) {
                return Err(err(Problem::UnknownField { known: FILTER }));
            }
            let listed = matches!(name.as_str(), "priority" | "tag");
            let values = match value {
                Value::String(text) => vec![text.clone()],
                Value::Bool(flag) if name == "overdue" => vec![flag.to_string()],
                Value::Array(items) if listed => (items.iter())
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        err(Problem::WrongType {
                            expected: "a list of strings",
                        })
                    })?,
                _ => {
                    let expected = match name.as_str() {
                        "overdue" => "true or false",
                        _ if listed => "a string or a list of strings",
                        _ => "a string",
                    };
                    return Err(err(Problem::WrongType { expected }));
                }
            };
            for value in values {
                q.set(name, &value, &mut seen).map_err(err)?;
            }
        }
        Ok(q)
    }

    /// The filter and order of the query as a saved view gives it, every
    /// parameter that is not the default's ([`ListQuery::parse_filter`]
    /// reads it back).
    pub fn filter(&self) -> Value {
        let mut filter = Map::new();
        let mut put = |name: &str, value: Value| {
            filter.insert(name.to_owned(), value);
        };
        match self.status {
            Status::All => {}
            Status::Pending => put("status", "pending".into()),
            Status::Completed => put("status", "completed".into()),
        }
        if !self.priorities.is_empty() {
            put("priority", json_of(&self.priorities));
        }
        if !self.tags.is_empty() {
            put("tag", json_of(&self.tags));
        }
        if let Some(project) = self.project {
            put("project", project.to_string().into());
        }
        if !self.words.is_empty() {
            put("q", self.words.join(" ").into());
        }
        if let Some(window) = self.due {
            put("due", window.as_str().into());
        }
        for (name, at) in [
            ("due_before", self.due_before),
            ("due_after", self.due_after),
        ] {
            if let Some(at) = at {
                put(name, json_of(&at));
            }
        }
        if let Some(overdue) = self.overdue {
            put("overdue", overdue.into());
        }
        if self.sort != SortField::default() {
            put("sort", json_of(&self.sort));
        }
        if self.order != Order::default() {
            put("order", json_of(&self.order));
        }
        Value::Object(filter)
    }

    /// Sets parameter `name` (a known one) to `value`; `seen` holds the
    /// parameters set before, of which only `priority` and `tag` may come
    /// again.
    fn set(&mut self, name: &str, value: &str, seen: &mut Vec<String>) -> Result<(), Problem> {
        if !matches!(name, "priority" | "tag") && seen.iter().any(|s| s == name) {
            return Err(Problem::GivenTwice);
        }
        seen.push(name.to_owned());
        match name {
            "status" => {
                self.status = match value {
                    "all" => Status::All,
                    "pending" => Status::Pending,
                    "completed" => Status::Completed,
                    _ => return Err(not_one_of("all, pending, completed", value)),
                }
            }
            "priority" => {
                for part in value.split(',') {
                    let priority = Priority::parse(part)?;
                    if !self.priorities.contains(&priority) {
                        self.priorities.push(priority);
                    }
                }
            }
            "tag" => {
                let tag = Tag::parse(value)?;
                if !self.tags.contains(&tag) {
                    self.tags.push(tag);
                }
            }
            "project" => self.project = Some(ProjectId::parse(value)?),
            "q" if value.contains('\0') => return Err(Problem::Nul),
            "q" => self.words = value.split_whitespace().map(str::to_lowercase).collect(),
            "due" => self.due = Some(DueWindow::parse(value)?),
            "due_before" => self.due_before = Some(instant(value)?),
            "due_after" => self.due_after = Some(instant(value)?),
            "overdue" => {
                self.overdue = Some(match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(not_one_of("true, false", value)),
                })
            }
            "sort" => {
                self.sort = match value {
                    "created_at" => SortField::CreatedAt,
                    "due_at" => SortField::DueAt,
                    "priority" => SortField::Priority,
                    "title" => SortField::Title,
                    "order" => SortField::Order,
                    _ => {
                        return Err(not_one_of(
                            "created_at, due_at, priority, title, order",
                            value,
                        ));
                    }
                }
            }
            "order" => {
                self.order = match value {
                    "asc" => Order::Asc,
                    "desc" => Order::Desc,
                    _ => return Err(not_one_of("asc, desc", value)),
                }
            }
            "limit" => self.limit = limit(value, Self::MAX_LIMIT)?,
            _ => self.cursor = Some(Cursor::decode(value).ok_or(Problem::BadCursor)?),
        }
        Ok(())
    }

    /// Turns the due window, if any, into bounds of `zone`'s days at
    /// `now`, narrowing `due_before` and `due_after` where they were given
    /// too.
    pub fn resolve(&mut self, now: DateTime<Utc>, zone: TimeZone) {
        match self.due {
            None => {}
            Some(DueWindow::Overdue) => self.overdue = Some(true),
            Some(DueWindow::NoDate) => self.dated = Some(false),
            Some(window) => {
                let bounds = window.days(now, zone).and_then(|(first, after_last)| {
                    Some((start_of(first, zone)?, start_of(after_last, zone)?))
                });
                // Days beyond chrono's calendar: nothing is due then.
                let (after, before) = bounds.unwrap_or((DateTime::<Utc>::MAX_UTC, now));
                self.due_after = Some(self.due_after.map_or(after, |given| given.max(after)));
                self.due_before = Some(self.due_before.map_or(before, |given| given.min(before)));
            }
        }
    }

    /// Whether `task` passes every filter of the query at time `now`.
    pub fn matches(&self, task: &impl Listed, now: DateTime<Utc>) -> bool {
        self.matches_but_words(task, now) && self.words.iter().all(|word| task.mentions(word))
    }

    /// Whether `task` passes every filter but the search words.
    pub fn matches_but_words(&self, task: &impl Listed, now: DateTime<Utc>) -> bool {
        let due = task.due();
        let completed = task.completed();
        let status = match self.status {
            Status::All => true,
            Status::Pending => !completed,
            Status::Completed => completed,
        };
        let overdue = !completed && due.is_some_and(|d| d < now);
        status
            && (self.priorities.is_empty() || self.priorities.contains(&task.priority()))
            && self.tags.iter().all(|tag| task.has_tag(tag))
            && self.project.is_none_or(|project| project == task.project())
            && self
                .due_before
                .is_none_or(|before| due.is_some_and(|d| d < before))
            && self
                .due_after
                .is_none_or(|after| due.is_some_and(|d| d >= after))
            && self.overdue.is_none_or(|wanted| wanted == overdue)
            && self.dated.is_none_or(|wanted| wanted == due.is_some())
    }

    /// The value `task` is sorted by under this query.
    pub fn sort_value(&self, task: &impl Listed) -> SortValue {
        match self.sort {
            SortField::CreatedAt => SortValue::Time(Some(task.created_at())),
            SortField::DueAt => SortValue::Time(task.due()),
            SortField::Priority => SortValue::Priority(task.priority()),
            SortField::Title => SortValue::Text(task.title().to_lowercase()),
            SortField::Order => SortValue::Text(task.order_key()),
        }
    }

    /// The query's order between two (value, id) places.
    pub fn compare(&self, a: (&SortValue, TaskId), b: (&SortValue, TaskId)) -> Ordering {
        let directed = |ordering: Ordering| match self.order {
            Order::Asc => ordering,
            Order::Desc => ordering.reverse(),
        };
        match (a.0, b.0) {
            // Tasks without a due date come last in either order.
            (SortValue::Time(None), SortValue::Time(Some(_))) => Ordering::Greater,
            (SortValue::Time(Some(_)), SortValue::Time(None)) => Ordering::Less,
            (x, y) => directed(cmp_values(x, y).then(a.1.cmp(&b.1))),
        }
    }

    /// The page of `tasks` this query asks for.
    pub fn page<'a, T: Listed>(&self, tasks: &'a [T], now: DateTime<Utc>) -> Page<'a, T> {
        let after = self.cursor.as_ref().map(|c| (&c.value, c.id));
        let mut selected: Vec<(SortValue, &T)> = tasks
            .iter()
            .filter(|task| self.matches(*task, now))
            .map(|task| (self.sort_value(task), task))
            .filter(|(value, task)| {
                after.is_none_or(|after| self.compare((value, task.id()), after).is_gt())
            })
            .collect();
        let by_order = |a: &(SortValue, &T), b: &(SortValue, &T)| {
            self.compare((&a.0, a.1.id()), (&b.0, b.1.id()))
        };
        if selected.len() > self.limit {
            selected.select_nth_unstable_by(self.limit, by_order);
            selected.truncate(self.limit + 1);
        }
        selected.sort_unstable_by(by_order);
        let more = selected.len() > self.limit;
        selected.truncate(self.limit);
        let next_cursor = more
            .then(|| selected.last())
            .flatten()
            .map(|(value, task)| Cursor {
                sort: self.sort,
                order: self.order,
                value: value.clone(),
                id: task.id(),
            });
        Page {
            tasks: selected.into_iter().map(|(_, task)| task).collect(),
            next_cursor,
        }
    }
}

fn cmp_values(a: &SortValue, b: &SortValue) -> Ordering {
    match (a, b) {
        (SortValue::Time(x), SortValue::Time(y)) => x.cmp(y),
        (SortValue::Priority(x), SortValue::Priority(y)) => x.cmp(y),
        (SortValue::Text(x), SortValue::Text(y)) => x.cmp(y),
        // Values of one query are all of one kind.
        _ => Ordering::Equal,
    }
}

pub(crate) fn instant(raw: &str) -> Result<DateTime<Utc>, Problem> {
    DateTime::parse_from_rfc3339(raw)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| Problem::BadInstant(raw.to_owned()))
}

/// `value` as JSON.
fn json_of(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}

fn not_one_of(allowed: &'static str, got: &str) -> Problem {
    Problem::NotOneOf {
        allowed,
        got: got.to_owned(),
    }
}

#[cfg(test)]
mod tests;
