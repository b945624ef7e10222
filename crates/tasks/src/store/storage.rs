//! The database of a request: opened when first needed (a request that
//! fails its checks never opens it), brought to the newest schema then, and
//! kept for the rest of the request.

use std::cell::OnceCell;

use sql::{Database, Open};

use super::TaskStore;
use super::schema::MIGRATIONS;
use crate::UserId;
use crate::error::TaskError;

/// The app's database, as a component reaches it.
pub struct Storage {
    url: String,
    open: Open,
    db: OnceCell<Box<dyn Database>>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may hold a password.
        f.debug_struct("Storage").finish_non_exhaustive()
    }
}

impl Storage {
    /// The database at `url` (the Spin variable `database_url`), opened by
    /// `open` when first needed.
    pub fn new(url: String, open: Open) -> Self {
        Self {
            url,
            open,
            db: OnceCell::new(),
        }
    }

    /// A database already open, such as a test's, brought to the newest
    /// schema.
    pub fn of(db: Box<dyn Database>) -> Result<Self, TaskError> {
        sql::migrate(&*db, MIGRATIONS)?;
        let storage = Self::new(String::new(), |_| {
            Err(sql::SqlError::Unavailable("opened already".into()))
        });
        let _ = storage.db.set(db);
        Ok(storage)
    }

    /// The database, open and migrated.
    pub fn db(&self) -> Result<&(dyn Database + 'static), TaskError> {
        if let Some(db) = self.db.get() {
            return Ok(&**db);
        }
        let db = (self.open)(&self.url)?;
        sql::migrate(&*db, MIGRATIONS)?;
        Ok(&**self.db.get_or_init(|| db))
    }

    /// `user`'s tasks.
    pub fn tasks<'a>(&'a self, user: &'a UserId) -> Result<TaskStore<'a, dyn Database>, TaskError> {
        Ok(TaskStore::new(self.db()?, user))
    }
}
