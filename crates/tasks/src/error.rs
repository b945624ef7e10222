//! What can go wrong: a field of the input ([`FieldError`], saying how to fix
//! it), or a use case as a whole ([`TaskError`]). Neither knows of HTTP: the
//! API maps them to statuses, an event handler to SUCCESS, RETRY or DROP.

use std::fmt;

use dapr::DaprError;
use dapr::subscriber::Delivery;

/// What is wrong with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A required field is missing.
    #[error("is required")]
    Missing,
    /// The value is of the wrong JSON type or shape.
    #[error("must be {expected}")]
    WrongType {
        /// What it must be, in words.
        expected: &'static str,
    },
    /// Text is empty (or only spaces).
    #[error("must not be empty")]
    Empty,
    /// Text holds the NUL character, which no text of a task may hold
    /// (PostgreSQL cannot store it).
    #[error("must not contain the NUL character (U+0000)")]
    Nul,
    /// Text is too short.
    #[error("must be at least {min} characters (got {got})")]
    TooShort {
        /// The fewest allowed.
        min: usize,
        /// How many were given.
        got: usize,
    },
    /// Text is too long.
    #[error("must be at most {max} characters (got {got})")]
    TooLong {
        /// The most allowed.
        max: usize,
        /// How many were given.
        got: usize,
    },
    /// A list is too long.
    #[error("must have at most {max} entries (got {got})")]
    TooMany {
        /// The most allowed.
        max: usize,
        /// How many were given.
        got: usize,
    },
    /// Not one of the allowed words.
    #[error("must be one of {allowed} (got \"{got}\")")]
    NotOneOf {
        /// The allowed words.
        allowed: &'static str,
        /// What was given.
        got: String,
    },
    /// Not a date-time this API reads.
    #[error(
        "must be an RFC 3339 date-time such as 2026-03-01T09:00:00+01:00, or a local one such as 2026-03-01T09:00 read in the task's time_zone (got \"{0}\")"
    )]
    BadDateTime(String),
    /// A local time that the time zone skips (DST).
    #[error("{0} does not exist in {1}: the clocks skip that hour; pick another time")]
    SkippedLocalTime(String, String),
    /// Not an IANA time zone name.
    #[error("must be an IANA time zone name such as Europe/Berlin or UTC (got \"{0}\")")]
    UnknownTimeZone(String),
    /// A number out of its range.
    #[error("must be between {min} and {max} (got {got})")]
    OutOfRange {
        /// The least allowed.
        min: i64,
        /// The most allowed.
        max: i64,
        /// What was given.
        got: i64,
    },
    /// Not an RRULE body; the text says why.
    #[error("must be an RFC 5545 RRULE body such as FREQ=WEEKLY;BYDAY=MO,WE ({0})")]
    BadRecurrence(String),
    /// A relative reminder on a task without a due date.
    #[error("needs due_at: a reminder relative to the due date needs a due date")]
    NeedsDueDate,
    /// A repeating task without a due date.
    #[error("needs due_at: a repeating task repeats from its due date")]
    RepeatsWithoutDueDate,
    /// A field this API does not know.
    #[error("is not a known field; known fields are {known}")]
    UnknownField {
        /// The fields it knows.
        known: &'static str,
    },
    /// A field the server sets, named in a change.
    #[error("is set by the server and cannot be changed; leave it out")]
    ReadOnly,
    /// A file that cannot be read; the text says where and why.
    #[error("{0}")]
    Unreadable(String),
    /// A reminder with neither or both of its forms.
    #[error("must be given exactly one of minutes_before or at")]
    BadReminder,
    /// A query parameter given twice where once is allowed.
    #[error("may be given only once")]
    GivenTwice,
    /// An instant without an offset where one is needed.
    #[error(
        "must be an RFC 3339 date-time with an offset, such as 2026-03-01T00:00:00+01:00 (got \"{0}\")"
    )]
    BadInstant(String),
    /// A cursor that is not one of this listing's.
    #[error(
        "is not a cursor of this listing: pass the next_cursor of the previous page with the same sort and order, or leave it out to start again"
    )]
    BadCursor,
    /// Not an absolute URL; the text says why.
    #[error("must be an absolute URL such as https://example.com/hooks/todo ({0})")]
    BadUrl(String),
    /// A webhook URL that is not `https`.
    #[error("must be an https URL (got {0}:)")]
    NotHttps(String),
    /// Not a step's id.
    #[error("must be a step's id such as s3, or its place from 1 (got \"{0}\")")]
    NotAStepId(String),
    /// A step id or place the task has no step at.
    #[error("names no step of this task (got \"{0}\")")]
    UnknownStep(String),
    /// A step id given twice in one checklist.
    #[error("gives step {0} twice")]
    StepTwice(String),
    /// A task that is not in the project a move puts another beside.
    #[error("names no task of that project (got \"{0}\")")]
    NotInProject(String),
    /// Not a project's id.
    #[error("must be \"inbox\" or a project's id (got \"{0}\")")]
    NotAProjectId(String),
    /// A project id the user has no project of.
    #[error("names no project of yours (got \"{0}\"); list them at /api/{{user_id}}/projects")]
    UnknownProject(String),
    /// A project that takes no new tasks while archived.
    #[error("names an archived project (\"{0}\"); unarchive it first")]
    ArchivedProject(String),
    /// A webhook URL naming an address inside a private network.
    #[error(
        "must not point to a loopback, private, link-local or otherwise internal address (got {0})"
    )]
    InternalAddress(String),
    /// A push endpoint on a host that is no browser's push service.
    #[error("must be the endpoint of a browser's push service ({0}); got host {1}")]
    NotAPushService(&'static str, String),
    /// An `Idempotency-Key` with a character that is not visible ASCII.
    #[error("must be visible ASCII characters only, such as a UUID")]
    NotAKey,
    /// A push subscription key that is not one (the text says why).
    #[error("is not a browser's push key: {0}")]
    BadPushKey(String),
}

/// A validation error for one field, addressed by its JSON path
/// (`title`, `tags[2]`, `reminders[0].minutes_before`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path.
    pub field: String,
    /// What is wrong with it.
    pub problem: Problem,
}

impl FieldError {
    /// `problem` with `field`.
    pub fn new(field: impl Into<String>, problem: Problem) -> Self {
        Self {
            field: field.into(),
            problem,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

impl std::error::Error for FieldError {}

/// Why a use case did not happen. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The user has no task with that id.
    #[error("no such task")]
    NotFound,
    /// The task has no step with that id or at that place.
    #[error("no such step of this task")]
    StepNotFound,
    /// The input is not valid; the field says why.
    #[error("{0}")]
    Invalid(#[from] FieldError),
    /// Other writes to the same data kept winning the race.
    #[error("the task is being changed by another request; try again")]
    Conflict,
    /// The state store could not be used. The text is for the log only.
    #[error("the service is unavailable; try again later")]
    Unavailable(String),
    /// The write would pass one of the user's limits.
    #[error("{0}")]
    Exceeded(#[from] Exceeded),
    /// The task to bring back stands: it is not deleted.
    #[error("the task is not deleted")]
    NotDeleted,
    /// The request's idempotency key (the `Idempotency-Key` header, or a
    /// tool's `idempotency_key`) was given before with another body.
    #[error("this idempotency key was used for another request; use a new key for a new request")]
    KeyReused,
}

/// Why a project's use case did not happen. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectError {
    /// The user has no project with that id.
    #[error("no such project")]
    NotFound,
    /// Another of the user's projects has that name (whatever its case).
    #[error("you have a project named \"{0}\" already; pick another name")]
    NameTaken(String),
    /// The project holds tasks, and the delete did not say they go too.
    #[error(
        "the project holds {0} tasks: delete it with ?with_tasks=true to delete them too, or move them to another project first"
    )]
    NotEmpty(u64),
    /// The Inbox cannot be renamed, recoloured, archived or deleted.
    #[error("the Inbox cannot be renamed, recoloured, archived or deleted")]
    Inbox,
    /// The user has as many projects as they may.
    #[error("you have {0} projects, as many as one may; delete or archive some first")]
    TooMany(u64),
    /// The input is not valid; the field says why.
    #[error("{0}")]
    Invalid(#[from] FieldError),
    /// What a task's use case may answer (the store, a race).
    #[error("{0}")]
    Task(#[from] TaskError),
}

/// Why a saved view's use case failed.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The user has no view with that id.
    #[error("no such view")]
    NotFound,
    /// Another of the user's views has that name (whatever its case).
    #[error("you have a view named \"{0}\" already; pick another name")]
    NameTaken(String),
    /// The user has as many views as they may.
    #[error("you have {0} views, as many as one may; delete some first")]
    TooMany(u64),
    /// The input is not valid; the field says why.
    #[error("{0}")]
    Invalid(#[from] FieldError),
    /// What a task's use case may answer (the store, a race).
    #[error("{0}")]
    Task(#[from] TaskError),
}

impl From<sql::SqlError> for ViewError {
    fn from(err: sql::SqlError) -> Self {
        Self::Task(err.into())
    }
}

impl From<sql::SqlError> for ProjectError {
    fn from(err: sql::SqlError) -> Self {
        Self::Task(err.into())
    }
}

impl From<DaprError> for TaskError {
    fn from(err: DaprError) -> Self {
        match err {
            DaprError::Conflict => Self::Conflict,
            DaprError::Unavailable(detail) => Self::Unavailable(detail),
        }
    }
}

impl From<sql::SqlError> for TaskError {
    fn from(err: sql::SqlError) -> Self {
        match err {
            // Another transaction held the data: try again.
            sql::SqlError::Busy(_) => Self::Conflict,
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl TaskError {
    /// What an event handler that failed with this error tells daprd: what
    /// can never succeed is dropped, what may succeed later is retried.
    pub fn delivery(&self) -> Delivery {
        match self {
            Self::NotFound
            | Self::StepNotFound
            | Self::Invalid(_)
            | Self::Exceeded(_)
            | Self::KeyReused
            | Self::NotDeleted => Delivery::Drop,
            Self::Conflict | Self::Unavailable(_) => Delivery::Retry,
        }
    }
}

/// A limit that a request would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    /// The user has as many tasks as they may.
    #[error("you have {0} tasks, as many as one may; delete some first")]
    Tasks(u64),
    /// The task would have more tags than it may.
    #[error("a task may have at most {0} tags")]
    Tags(usize),
    /// The task would have more reminders than it may.
    #[error("a task may have at most {0} reminders")]
    Reminders(usize),
    /// The task would have more steps than it may.
    #[error("a task may have at most {0} steps")]
    Steps(usize),
    /// The user has as many push subscriptions (devices) as they may.
    #[error("you have {0} devices subscribed, as many as one may; remove one first")]
    Devices(usize),
    /// The user has sent as many chat messages this minute as they may;
    /// the next minute begins in the given seconds.
    #[error("at most {limit} chat messages a minute; try again in {retry_after} s")]
    ChatMessages {
        /// Messages a minute.
        limit: u32,
        /// Seconds until the next minute.
        retry_after: u32,
    },
}

impl Exceeded {
    /// The field of the request that passed the limit, if one did.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Tags(_) => Some("tags"),
            Self::Reminders(_) => Some("reminders"),
            Self::Steps(_) => Some("steps"),
            Self::Tasks(_) | Self::Devices(_) | Self::ChatMessages { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_that_can_never_succeed_are_dropped_and_the_rest_retried() {
        let invalid = TaskError::Invalid(FieldError::new("title", Problem::Empty));
        assert_eq!(TaskError::NotFound.delivery(), Delivery::Drop);
        assert_eq!(invalid.delivery(), Delivery::Drop);
        assert_eq!(TaskError::Conflict.delivery(), Delivery::Retry);
        assert_eq!(
            TaskError::Unavailable("down".into()).delivery(),
            Delivery::Retry
        );
    }
}
