//! The database of a request, as a [`Database`] itself: opened when first
//! needed (a request that fails its checks never opens it) and kept for
//! the rest of the request. Its schema is brought up to date when first
//! needed too: before a request's first transaction (every write is one),
//! and when a read names a table or column the database does not have yet
//! (then the read is run again). A read on a current schema so costs one
//! statement, not two (ADR 16).

use std::cell::{Cell, OnceCell};

use sql::{Database, Dialect, Open, Rows, SqlError, Value};

use super::TaskStore;
use super::schema::MIGRATIONS;
use crate::UserId;
use crate::error::TaskError;

/// The app's database, as a component reaches it.
pub struct Storage {
    url: String,
    open: Open,
    db: OnceCell<Box<dyn Database>>,
    migrated: Cell<bool>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may hold a password.
        f.debug_struct("Storage").finish_non_exhaustive()
    }
}

impl Storage {
    /// The database at `url` (the Spin variable `database_url`: empty for
    /// SQLite, a PostgreSQL connection string otherwise), opened by `open`
    /// when first needed.
    pub fn new(url: String, open: Open) -> Self {
        Self {
            url,
            open,
            db: OnceCell::new(),
            migrated: Cell::new(false),
        }
    }

    /// A SQLite database already open, such as a test's, brought to the
    /// newest schema.
    pub fn of(db: Box<dyn Database>) -> Result<Self, TaskError> {
        sql::migrate(&*db, MIGRATIONS)?;
        let storage = Self::new(String::new(), |_| {
            Err(SqlError::Unavailable("opened already".into()))
        });
        let _ = storage.db.set(db);
        storage.migrated.set(true);
        Ok(storage)
    }

    /// `user`'s tasks.
    pub fn tasks<'a>(&'a self, user: &'a UserId) -> TaskStore<'a, dyn Database + 'a> {
        TaskStore::new(self, user)
    }

    /// The open database.
    fn open(&self) -> Result<&dyn Database, SqlError> {
        if let Some(db) = self.db.get() {
            return Ok(&**db);
        }
        let db = (self.open)(&self.url)?;
        Ok(&**self.db.get_or_init(|| db))
    }

    /// Brings the schema up to date, once a request.
    fn migrate(&self) -> Result<(), SqlError> {
        if !self.migrated.get() {
            sql::migrate(self.open()?, MIGRATIONS)?;
            self.migrated.set(true);
        }
        Ok(())
    }

    /// Runs one statement (a read, or a write that is one statement), and
    /// once more after migrating when the schema was older than it: a
    /// statement that failed did nothing.
    fn run<T>(
        &self,
        statement: impl Fn(&dyn Database) -> Result<T, SqlError>,
    ) -> Result<T, SqlError> {
        match statement(self.open()?) {
            Err(SqlError::Schema(_)) if !self.migrated.get() => {
                self.migrate()?;
                statement(self.open()?)
            }
            done => done,
        }
    }
}

impl Database for Storage {
    fn dialect(&self) -> Dialect {
        match self.db.get() {
            Some(db) => db.dialect(),
            None if self.url.trim().is_empty() => Dialect::Sqlite,
            None => Dialect::Postgres,
        }
    }

    fn query(&self, statement: &str, params: &[Value]) -> Result<Rows, SqlError> {
        self.run(|db| db.query(statement, params))
    }

    fn execute(&self, statement: &str, params: &[Value]) -> Result<u64, SqlError> {
        self.run(|db| db.execute(statement, params))
    }

    fn before_transaction(&self) -> Result<(), SqlError> {
        self.migrate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::query::ListQuery;

    fn fresh() -> Storage {
        Storage::new(String::new(), |_| {
            Ok(Box::new(sql::native::Sqlite::in_memory()?))
        })
    }

    fn versions(storage: &Storage) -> Result<Rows, SqlError> {
        storage.query("SELECT version FROM schema_migrations", &[])
    }

    #[test]
    fn a_read_on_an_empty_database_brings_the_schema_and_reads_again() {
        let storage = fresh();
        let user = UserId::parse("alice").expect("a user id");
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let listing = storage.tasks(&user).list(&ListQuery::default(), now);
        assert!(listing.is_ok_and(|l| l.tasks.is_empty()));
        assert_eq!(
            versions(&storage).map(|rows| rows.len()),
            Ok(MIGRATIONS.len())
        );
    }

    #[test]
    fn a_write_brings_the_schema_up_to_date_before_its_transaction() {
        let storage = fresh();
        // Nothing asked yet: the database is not even open.
        assert!(storage.db.get().is_none());
        let begun = sql::transaction(&storage, |db| {
            db.execute("SELECT 1", &[])?;
            Ok::<_, SqlError>(sql::Finish::Rollback(()))
        });
        assert_eq!(begun, Ok(()));
        assert!(storage.migrated.get());
        assert_eq!(
            versions(&storage).map(|rows| rows.len()),
            Ok(MIGRATIONS.len())
        );
    }
}
