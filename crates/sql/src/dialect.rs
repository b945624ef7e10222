//! Where SQLite and PostgreSQL differ, for the statements of this project:
//! how parameters are numbered, how a writing transaction begins, how the
//! migrations keep two starters apart, and how errors are told apart.

use std::borrow::Cow;

use crate::SqlError;

/// The SQL a database speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (the embedded profile, Spin's `default` database).
    Sqlite,
    /// PostgreSQL (the full profile; Neon in production).
    Postgres,
}

impl Dialect {
    /// The statement that begins a writing transaction.
    pub fn begin(self) -> &'static str {
        match self {
            // Takes the write lock at once: two transactions that both read
            // and then write would otherwise deadlock on the upgrade.
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
        }
    }

    /// An expression for the database's clock, in milliseconds since the
    /// epoch.
    pub fn now_millis(self) -> &'static str {
        match self {
            Self::Sqlite => "CAST(unixepoch('subsec') * 1000 AS BIGINT)",
            Self::Postgres => "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    /// `statement` with its parameters as the database numbers them:
    /// PostgreSQL's `$1`, SQLite's `?1` (in SQLite `$1` is a *named*
    /// parameter, numbered by where it first appears).
    pub fn statement(self, statement: &str) -> Cow<'_, str> {
        match self {
            Self::Postgres => Cow::Borrowed(statement),
            Self::Sqlite if !statement.contains('$') => Cow::Borrowed(statement),
            Self::Sqlite => {
                let mut out = String::with_capacity(statement.len());
                let mut chars = statement.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                        out.push('?');
                    } else {
                        out.push(c);
                    }
                }
                Cow::Owned(out)
            }
        }
    }

    /// The error a SQLite message (as Spin's interface gives it, rusqlite's
    /// text) stands for.
    pub fn sqlite_error(message: String) -> SqlError {
        if message.contains("UNIQUE constraint failed") {
            SqlError::Unique(message)
        } else if message.contains("FOREIGN KEY constraint failed") {
            SqlError::Reference(message)
        } else if message.contains("database is locked") || message.contains("database is busy") {
            SqlError::Busy(message)
        } else if message.contains("no such table")
            || message.contains("no such column")
            || message.contains("does not match any PRIMARY KEY or UNIQUE constraint")
        {
            SqlError::Schema(message)
        } else if message.contains("unable to open database") {
            SqlError::Unavailable(message)
        } else {
            SqlError::Failed(message)
        }
    }

    /// The error a PostgreSQL SQLSTATE `code` stands for, with `message`.
    pub fn postgres_error(code: &str, message: String) -> SqlError {
        match code {
            "23505" => SqlError::Unique(message),
            "23503" => SqlError::Reference(message),
            // serialization_failure, deadlock_detected, lock_not_available
            "40001" | "40P01" | "55P03" => SqlError::Busy(message),
            // undefined_table, undefined_column, and an ON CONFLICT that no
            // unique constraint matches (yet)
            "42P01" | "42703" | "42P10" => SqlError::Schema(message),
            // connection exceptions, the server shutting down or starting
            _ if code.starts_with("08") || code.starts_with("57P") => {
                SqlError::Unavailable(message)
            }
            _ => SqlError::Failed(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_numbers_parameters_explicitly() {
        let statement = "SELECT $2, $1 FROM t WHERE a = $10 AND b = '$x'";
        assert_eq!(
            Dialect::Sqlite.statement(statement),
            "SELECT ?2, ?1 FROM t WHERE a = ?10 AND b = '$x'"
        );
        assert_eq!(Dialect::Postgres.statement(statement), statement);
    }

    #[test]
    fn errors_are_told_apart_by_what_can_be_done_about_them() {
        assert!(matches!(
            Dialect::sqlite_error("UNIQUE constraint failed: tasks.id".into()),
            SqlError::Unique(_)
        ));
        assert!(matches!(
            Dialect::sqlite_error("database is locked".into()),
            SqlError::Busy(_)
        ));
        assert!(matches!(
            Dialect::postgres_error("40001", "could not serialize".into()),
            SqlError::Busy(_)
        ));
        assert!(matches!(
            Dialect::postgres_error("57P01", "terminating connection".into()),
            SqlError::Unavailable(_)
        ));
        assert!(matches!(
            Dialect::postgres_error("42P01", "relation does not exist".into()),
            SqlError::Schema(_)
        ));
        assert!(matches!(
            Dialect::sqlite_error("no such column: tasks.colour".into()),
            SqlError::Schema(_)
        ));
        assert!(matches!(
            Dialect::postgres_error("42P10", "no unique constraint matching".into()),
            SqlError::Schema(_)
        ));
        assert!(matches!(
            Dialect::sqlite_error(
                "ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint".into()
            ),
            SqlError::Schema(_)
        ));
        assert!(matches!(
            Dialect::postgres_error("42601", "syntax error".into()),
            SqlError::Failed(_)
        ));
    }
}
