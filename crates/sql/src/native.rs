//! The port over SQLite itself (rusqlite), for the contexts' native tests:
//! the engine the embedded profile runs, with the same text of errors that
//! Spin's interface gives (rusqlite's).

use std::cell::RefCell;

use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::{Database, Dialect, Rows, SqlError, Value};

/// One connection to a SQLite database.
#[derive(Debug)]
pub struct Sqlite(RefCell<rusqlite::Connection>);

impl Sqlite {
    /// A new database in memory, its own.
    pub fn in_memory() -> Result<Self, SqlError> {
        rusqlite::Connection::open_in_memory()
            .map(|c| Self(RefCell::new(c)))
            .map_err(|e| SqlError::Unavailable(e.to_string()))
    }

    /// A connection to the database file at `path`, made if it is not there.
    pub fn open(path: &std::path::Path) -> Result<Self, SqlError> {
        rusqlite::Connection::open(path)
            .map(|c| Self(RefCell::new(c)))
            .map_err(|e| SqlError::Unavailable(e.to_string()))
    }
}

impl Database for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn query(&self, statement: &str, params: &[Value]) -> Result<Rows, SqlError> {
        let connection = self.0.borrow();
        run(&connection, statement, params).map_err(|e| Dialect::sqlite_error(e.to_string()))
    }

    fn execute(&self, statement: &str, params: &[Value]) -> Result<u64, SqlError> {
        let connection = self.0.borrow();
        run(&connection, statement, params).map_err(|e| Dialect::sqlite_error(e.to_string()))?;
        Ok(connection.changes())
    }
}

fn run(
    connection: &rusqlite::Connection,
    statement: &str,
    params: &[Value],
) -> rusqlite::Result<Rows> {
    let mut prepared = connection.prepare_cached(&Dialect::Sqlite.statement(statement))?;
    let columns = prepared.column_count();
    let mut rows = prepared.query(rusqlite::params_from_iter(params.iter().map(Param)))?;
    let mut answer = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Int(i),
                ValueRef::Real(r) => Value::Real(r),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
            });
        }
        answer.push(values);
    }
    Ok(Rows(answer))
}

struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
        }))
    }
}
