//! Saved views: a user's named filters ("p1 tasks tagged #work due this
//! week"), listed with the counts of what they select, and applied by id
//! to page through their tasks exactly as the same listing given by hand.
//! A view's filter is the listing's own query ([`ListQuery`]) but its
//! page; a due window in it (`today`, `this_week`, ...) is worked out in
//! the user's time zone each time the view is applied.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::ListQuery;
use crate::error::{FieldError, Problem};
use crate::project::Name;

mod store;

pub use store::Views;

/// The most views a user may save.
pub const MAX_PER_USER: u64 = 150;

/// A view's id: a ULID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewId(ulid::Ulid);

impl ViewId {
    /// Reads a view's id (a ULID, in either case).
    pub fn parse(raw: &str) -> Option<Self> {
        ulid::Ulid::from_string(raw).ok().map(Self)
    }

    /// The id of the view the user saves at `now` from `random`.
    pub fn new(now: DateTime<Utc>, random: u128) -> Self {
        let millis = u64::try_from(now.timestamp_millis()).unwrap_or_default();
        Self(ulid::Ulid::from_parts(millis, random))
    }
}

impl fmt::Display for ViewId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for ViewId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A view as answered, with the counts of what it selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    /// Its id.
    pub id: ViewId,
    /// Its name, unique among the user's views whatever its case.
    pub name: Name,
    /// What it selects and in which order.
    #[serde(serialize_with = "as_filter")]
    pub filter: ListQuery,
    /// How many of the tasks it selects are not done.
    pub pending: u64,
    /// How many of those were due before now.
    pub overdue: u64,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

fn as_filter<S: Serializer>(query: &ListQuery, serializer: S) -> Result<S::Ok, S::Error> {
    query.filter().serialize(serializer)
}

/// What a `POST` or `PATCH` of a view gives: `name` and `filter` (both
/// required to save one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewPatch {
    /// A new name.
    pub name: Option<Name>,
    /// A new filter, replacing the old whole.
    pub filter: Option<ListQuery>,
}

impl ViewPatch {
    const WRITABLE: &'static str = "name, filter";

    /// Parses a `PATCH` body: a JSON object of the fields to change.
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let Value::Object(fields) = body else {
            let expected = "a JSON object";
            return Err(FieldError::new("body", Problem::WrongType { expected }));
        };
        let mut patch = Self::default();
        for (name, value) in fields {
            let err = |problem| FieldError::new(name.as_str(), problem);
            match name.as_str() {
                "name" => {
                    let text = value.as_str().ok_or(Problem::WrongType {
                        expected: "a string",
                    });
                    patch.name = Some(text.and_then(Name::parse).map_err(err)?);
                }
                "filter" => patch.filter = Some(ListQuery::parse_filter(value, "filter")?),
                // What the server sets, sent back with a whole view.
                "id" | "pending" | "overdue" | "created_at" | "updated_at" => {
                    return Err(err(Problem::ReadOnly));
                }
                _ => {
                    return Err(err(Problem::UnknownField {
                        known: Self::WRITABLE,
                    }));
                }
            }
        }
        Ok(patch)
    }

    /// Parses a `POST` body: `name` and `filter` are required.
    pub fn parse_new(body: &Value) -> Result<(Name, ListQuery), FieldError> {
        let patch = Self::parse(body)?;
        let name = patch
            .name
            .ok_or(FieldError::new("name", Problem::Missing))?;
        let filter = (patch.filter).ok_or(FieldError::new("filter", Problem::Missing))?;
        Ok((name, filter))
    }
}

#[cfg(test)]
mod tests;
