//! The schema's versions, each applied exactly once, in order, recorded in
//! `schema_migrations`. Two instances that start together do not both
//! apply one: on PostgreSQL the second waits on an advisory lock held for
//! the transaction, on SQLite on the write lock; either then finds the
//! version recorded. Each version is applied in one transaction with its
//! record (both databases have transactional DDL): all of it or none.
//!
//! A migration is text: statements, each ending with `;` at the end of a
//! line (Spin runs one statement per call), `--` comments on lines of their
//! own. What the two databases share is written once; each may add its own.

use crate::{Database, Dialect, Finish, SqlError, transaction};

/// One version of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number: versions are applied in ascending order.
    pub version: i64,
    /// What it does, in a few words (recorded with it).
    pub name: &'static str,
    /// The statements both databases run.
    pub both: &'static str,
    /// The statements SQLite runs after those.
    pub sqlite: &'static str,
    /// The statements PostgreSQL runs after those.
    pub postgres: &'static str,
}

impl Migration {
    /// Its statements for `dialect`, in order.
    pub fn statements(&self, dialect: Dialect) -> impl Iterator<Item = String> + '_ {
        let own = match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        };
        split(self.both).chain(split(own))
    }
}

/// The key of the advisory lock migrations hold on PostgreSQL.
const LOCK: i64 = 0x0074_6f64_6f6d_6967; // "todomig"

/// Brings `db` to the newest of `migrations` (sorted by version); answers
/// the versions this call applied. When the schema is current, this is one
/// read.
pub fn migrate<D: Database + ?Sized>(
    db: &D,
    migrations: &[Migration],
) -> Result<Vec<i64>, SqlError> {
    let Some(newest) = migrations.iter().map(|m| m.version).max() else {
        return Ok(Vec::new());
    };
    if let Ok(rows) = db.query("SELECT max(version) FROM schema_migrations", &[])
        && rows.first().and_then(|row| row.opt_int(0).ok().flatten()) == Some(newest)
    {
        return Ok(Vec::new());
    }
    let dialect = db.dialect();
    transaction(db, |db| {
        if dialect == Dialect::Postgres {
            db.execute("SELECT pg_advisory_xact_lock($1)", &[LOCK.into()])?;
        }
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (\
             version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            &[],
        )?;
        let applied = db.query("SELECT version FROM schema_migrations", &[])?;
        let applied: Vec<i64> = applied
            .iter()
            .map(|row| row.int(0))
            .collect::<Result<_, _>>()?;
        let mut now_applied = Vec::new();
        for migration in migrations {
            if applied.contains(&migration.version) {
                continue;
            }
            for statement in migration.statements(dialect) {
                db.execute(&statement, &[]).map_err(|error| {
                    SqlError::Failed(format!(
                        "migration {} ({}): {error}",
                        migration.version, migration.name
                    ))
                })?;
            }
            let record = format!(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, {})",
                dialect.now_millis()
            );
            db.execute(&record, &[migration.version.into(), migration.name.into()])?;
            now_applied.push(migration.version);
        }
        Ok(Finish::Commit(now_applied))
    })
}

/// The statements of `text`: each ends with `;` at the end of a line.
fn split(text: &str) -> impl Iterator<Item = String> + '_ {
    let mut lines = text
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.trim_start().starts_with("--") && !line.trim().is_empty());
    std::iter::from_fn(move || {
        let mut statement = String::new();
        for line in lines.by_ref() {
            if !statement.is_empty() {
                statement.push('\n');
            }
            match line.strip_suffix(';') {
                Some(last) => {
                    statement.push_str(last);
                    return Some(statement);
                }
                None => statement.push_str(line),
            }
        }
        (!statement.trim().is_empty()).then_some(statement)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_with_a_semicolon_at_the_end_of_a_line() {
        let text = "-- a table\nCREATE TABLE a (\n  x BIGINT -- the x; really\n);\n\nCREATE INDEX i ON a (x);\n";
        let statements: Vec<String> = split(text).collect();
        assert_eq!(
            statements,
            [
                "CREATE TABLE a (\n  x BIGINT -- the x; really\n)",
                "CREATE INDEX i ON a (x)"
            ]
        );
    }
}
