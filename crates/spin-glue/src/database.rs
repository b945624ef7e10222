//! The [`sql::Database`] of a component: Spin's SQLite `default` database,
//! or PostgreSQL at a connection string, through Spin's own interfaces.

use spin_sdk::{pg4, sqlite3};
use sql::{Database, Dialect, Rows, SqlError, Value};

/// The app's database, as the Spin variable `database_url` names it:
/// empty for SQLite's `default`, `postgres://...` (or key=value settings)
/// for PostgreSQL.
#[derive(Debug)]
pub enum AppDatabase {
    /// Spin's SQLite database `default`.
    Sqlite(sqlite3::Connection),
    /// PostgreSQL through Spin's pooled connections.
    Postgres(pg4::Connection),
}

impl AppDatabase {
    /// Opens the database `url` names (see [`AppDatabase`]).
    pub fn open(url: &str) -> Result<Self, SqlError> {
        if url.trim().is_empty() {
            let connection = sqlite3::Connection::open("default")
                .map_err(|e| SqlError::Unavailable(format!("SQLite database default: {e:?}")))?;
            Ok(Self::Sqlite(connection))
        } else {
            let connection = pg4::Connection::open(url).map_err(|e| {
                // The connection string may hold a password: never in a log.
                let why = match e {
                    pg4::PgError::ConnectionFailed(why) if !why.contains(url) => why,
                    _ => "the connection failed".to_owned(),
                };
                SqlError::Unavailable(format!("PostgreSQL: {why}"))
            })?;
            Ok(Self::Postgres(connection))
        }
    }
}

/// Opens the database `url` names ([`sql::Open`]).
pub fn open_database(url: &str) -> Result<Box<dyn Database>, SqlError> {
    Ok(Box::new(AppDatabase::open(url)?))
}

impl Database for AppDatabase {
    fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    fn query(&self, statement: &str, params: &[Value]) -> Result<Rows, SqlError> {
        match self {
            Self::Sqlite(connection) => {
                let params: Vec<sqlite3::Value> = params.iter().map(sqlite_value).collect();
                let result = connection
                    .execute(&Dialect::Sqlite.statement(statement), &params)
                    .map_err(sqlite_error)?;
                Ok(Rows(
                    result
                        .rows
                        .into_iter()
                        .map(|row| row.values.into_iter().map(from_sqlite).collect())
                        .collect(),
                ))
            }
            Self::Postgres(connection) => {
                let params: Vec<pg4::ParameterValue> = params.iter().map(pg_value).collect();
                let set = connection.query(statement, &params).map_err(pg_error)?;
                set.rows
                    .into_iter()
                    .map(|row| row.into_iter().map(from_pg).collect())
                    .collect::<Result<_, _>>()
                    .map(Rows)
            }
        }
    }

    fn execute(&self, statement: &str, params: &[Value]) -> Result<u64, SqlError> {
        match self {
            Self::Sqlite(connection) => {
                let params: Vec<sqlite3::Value> = params.iter().map(sqlite_value).collect();
                connection
                    .execute(&Dialect::Sqlite.statement(statement), &params)
                    .map_err(sqlite_error)?;
                Ok(connection.changes())
            }
            Self::Postgres(connection) => {
                let params: Vec<pg4::ParameterValue> = params.iter().map(pg_value).collect();
                connection.execute(statement, &params).map_err(pg_error)
            }
        }
    }
}

fn sqlite_value(value: &Value) -> sqlite3::Value {
    match value {
        Value::Null => sqlite3::Value::Null,
        Value::Bool(b) => sqlite3::Value::Integer(i64::from(*b)),
        Value::Int(i) => sqlite3::Value::Integer(*i),
        Value::Real(r) => sqlite3::Value::Real(*r),
        Value::Text(t) => sqlite3::Value::Text(t.clone()),
    }
}

fn from_sqlite(value: sqlite3::Value) -> Value {
    match value {
        sqlite3::Value::Null => Value::Null,
        sqlite3::Value::Integer(i) => Value::Int(i),
        sqlite3::Value::Real(r) => Value::Real(r),
        sqlite3::Value::Text(t) => Value::Text(t),
        sqlite3::Value::Blob(b) => Value::Text(String::from_utf8_lossy(&b).into_owned()),
    }
}

fn sqlite_error(error: sqlite3::Error) -> SqlError {
    match error {
        sqlite3::Error::Io(message) => Dialect::sqlite_error(message),
        other => SqlError::Unavailable(format!("{other:?}")),
    }
}

fn pg_value(value: &Value) -> pg4::ParameterValue {
    match value {
        Value::Null => pg4::ParameterValue::DbNull,
        Value::Bool(b) => pg4::ParameterValue::Boolean(*b),
        Value::Int(i) => pg4::ParameterValue::Int64(*i),
        Value::Real(r) => pg4::ParameterValue::Floating64(*r),
        Value::Text(t) => pg4::ParameterValue::Str(t.clone()),
    }
}

fn from_pg(value: pg4::DbValue) -> Result<Value, SqlError> {
    Ok(match value {
        pg4::DbValue::DbNull => Value::Null,
        pg4::DbValue::Boolean(b) => Value::Bool(b),
        pg4::DbValue::Int16(i) => Value::Int(i.into()),
        pg4::DbValue::Int32(i) => Value::Int(i.into()),
        pg4::DbValue::Int64(i) => Value::Int(i),
        pg4::DbValue::Floating64(r) => Value::Real(r),
        pg4::DbValue::Str(t) => Value::Text(t),
        other => return Err(SqlError::Decode(format!("a column of {other:?}"))),
    })
}

fn pg_error(error: pg4::PgError) -> SqlError {
    match error {
        pg4::PgError::QueryFailed(pg4::QueryError::DbError(db)) => {
            Dialect::postgres_error(&db.code, format!("{} ({})", db.message, db.code))
        }
        pg4::PgError::ConnectionFailed(why) => SqlError::Unavailable(why),
        other => SqlError::Failed(format!("{other:?}")),
    }
}
