//! Validation errors: each names the field and says how to fix the input.

use std::fmt;

/// What is wrong with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("is required")]
    Missing,
    #[error("must be {expected}")]
    WrongType { expected: &'static str },
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters (got {got})")]
    TooLong { max: usize, got: usize },
    #[error("must have at most {max} entries (got {got})")]
    TooMany { max: usize, got: usize },
    #[error("must be one of {allowed} (got \"{got}\")")]
    NotOneOf { allowed: &'static str, got: String },
    #[error(
        "must be an RFC 3339 date-time such as 2026-03-01T09:00:00+01:00, or a local one such as 2026-03-01T09:00 read in the task's time_zone (got \"{0}\")"
    )]
    BadDateTime(String),
    #[error("{0} does not exist in {1}: the clocks skip that hour; pick another time")]
    SkippedLocalTime(String, String),
    #[error("must be an IANA time zone name such as Europe/Berlin or UTC (got \"{0}\")")]
    UnknownTimeZone(String),
    #[error("must be between {min} and {max} (got {got})")]
    OutOfRange { min: i64, max: i64, got: i64 },
    #[error("must be an RFC 5545 RRULE body such as FREQ=WEEKLY;BYDAY=MO,WE ({0})")]
    BadRecurrence(String),
    #[error("needs due_at: a reminder relative to the due date needs a due date")]
    NeedsDueDate,
    #[error("is not a known field; known fields are {known}")]
    UnknownField { known: &'static str },
    #[error("must be given exactly one of minutes_before or at")]
    BadReminder,
    #[error("may be given only once")]
    GivenTwice,
    #[error(
        "must be an RFC 3339 date-time with an offset, such as 2026-03-01T00:00:00+01:00 (got \"{0}\")"
    )]
    BadInstant(String),
    #[error(
        "is not a cursor of this listing: pass the next_cursor of the previous page with the same sort and order, or leave it out to start again"
    )]
    BadCursor,
}

/// A validation error for one field, addressed by its JSON path
/// (`title`, `tags[2]`, `reminders[0].minutes_before`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub problem: Problem,
}

impl FieldError {
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
