//! Projects: the lists a user keeps tasks in. Every user has an Inbox,
//! which has no row and cannot be renamed, archived or deleted; a task
//! without a project is in it. A project the user made has a name unique
//! among theirs whatever its case, a colour from a fixed palette, and may
//! be archived (it then takes no new tasks and leaves the default listing).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::{FieldError, Problem};
use crate::task::model::ProjectId;

mod store;

pub use store::Projects;

/// The name the Inbox shows.
pub const INBOX_NAME: &str = "Inbox";

/// The most projects a user may make (the Inbox aside).
pub const MAX_PER_USER: u64 = 300;

/// A project's or a saved view's name: trimmed, 1 to [`Name::MAX_CHARS`]
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    /// The longest a name may be, in characters.
    pub const MAX_CHARS: usize = 120;

    /// Trims `raw` and checks that it is neither empty nor too long.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let chars = raw.chars().count();
        match raw.trim() {
            "" => Err(Problem::Empty),
            _ if raw.contains('\0') => Err(Problem::Nul),
            _ if chars > Self::MAX_CHARS => Err(Problem::TooLong {
                max: Self::MAX_CHARS,
                got: chars,
            }),
            trimmed => Ok(Self(trimmed.to_owned())),
        }
    }

    /// The name as given, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as it is compared for uniqueness: lower-cased.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// The colours a project may have (Todoist's palette, by name).
pub const COLORS: &str = "berry_red, red, orange, yellow, olive_green, lime_green, green, \
mint_green, teal, sky_blue, light_blue, blue, grape, violet, lavender, magenta, salmon, \
charcoal, grey, taupe";

/// A project's colour, one of [`COLORS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Color(&'static str);

impl Color {
    /// The colour of a new project, and the Inbox's.
    pub const DEFAULT: Self = Self("charcoal");

    /// Reads one of [`COLORS`].
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        COLORS
            .split(", ")
            .find(|name| *name == raw)
            .map(Self)
            .ok_or_else(|| Problem::NotOneOf {
                allowed: COLORS,
                got: raw.to_owned(),
            })
    }

    /// The colour's name.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// A project as answered, with the counts of its tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// `inbox`, or the id of a project the user made.
    pub id: ProjectId,
    /// Its name.
    pub name: Name,
    /// Its colour.
    pub color: Color,
    /// Whether it is archived.
    pub archived: bool,
    /// Whether it is the Inbox.
    pub inbox: bool,
    /// How many of its tasks are not done.
    pub pending: u64,
    /// How many of those were due before now.
    pub overdue: u64,
    /// When it was made; `None` for the Inbox.
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last changed; `None` for the Inbox.
    pub updated_at: Option<DateTime<Utc>>,
}

/// What a `POST` or `PATCH` of a project gives: `name` (required to
/// create), `color`, `archived`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectPatch {
    /// A new name.
    pub name: Option<Name>,
    /// A new colour.
    pub color: Option<Color>,
    /// Archives (`true`) or unarchives (`false`) it.
    pub archived: Option<bool>,
}

impl ProjectPatch {
    const WRITABLE: &'static str = "name, color, archived";

    /// Parses a `PATCH` body: a JSON object of the fields to change.
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let Value::Object(fields) = body else {
            let expected = "a JSON object";
            return Err(FieldError::new("body", Problem::WrongType { expected }));
        };
        let mut patch = Self::default();
        for (name, value) in fields {
            let err = |problem| FieldError::new(name.as_str(), problem);
            let text = || {
                value.as_str().ok_or(Problem::WrongType {
                    expected: "a string",
                })
            };
            match name.as_str() {
                "name" => patch.name = Some(text().and_then(Name::parse).map_err(err)?),
                "color" => patch.color = Some(text().and_then(Color::parse).map_err(err)?),
                "archived" => {
                    let flag = value.as_bool().ok_or(Problem::WrongType {
                        expected: "true or false",
                    });
                    patch.archived = Some(flag.map_err(err)?);
                }
                // What the server sets, sent back with a whole project.
                "id" | "inbox" | "pending" | "overdue" | "created_at" | "updated_at" => {
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

    /// Parses a `POST` body: `name` is required.
    pub fn parse_new(body: &Value) -> Result<(Name, Self), FieldError> {
        let patch = Self::parse(body)?;
        let name = (patch.name.clone()).ok_or(FieldError::new("name", Problem::Missing))?;
        Ok((name, patch))
    }
}

/// The one flag a query string may give, `name=true|false` (`false`
/// when left out): `?with_tasks=true` of a project's `DELETE`, which then
/// goes with its tasks, and `?archived=true` of the project listing, which
/// then shows the archived projects instead of the others.
pub fn flag(query: &str, name: &'static str) -> Result<bool, FieldError> {
    let mut given = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let err = |problem| FieldError::new(key.as_ref(), problem);
        if key != name {
            return Err(err(Problem::UnknownField { known: name }));
        }
        if given.is_some() {
            return Err(err(Problem::GivenTwice));
        }
        given = Some(match value.as_ref() {
            "true" => true,
            "false" => false,
            other => {
                return Err(err(Problem::NotOneOf {
                    allowed: "true, false",
                    got: other.to_owned(),
                }));
            }
        });
    }
    Ok(given.unwrap_or(false))
}

#[cfg(test)]
mod tests;
