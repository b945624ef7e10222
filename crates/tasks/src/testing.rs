//! What the contexts' unit tests share: a database with the app's schema
//! (SQLite in memory, the embedded profile's SQL) and user ids.

use sql::native::Sqlite;

use crate::UserId;
use crate::task::store::schema;

/// A new database with the app's schema.
pub(crate) fn database() -> Sqlite {
    let db = Sqlite::in_memory().unwrap_or_else(|e| panic!("{e}"));
    sql::migrate(&db, schema::MIGRATIONS).unwrap_or_else(|e| panic!("{e}"));
    db
}

/// The user `name`.
pub(crate) fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap_or_else(|| panic!("a user id"))
}
