//! `spin:sqlite/sqlite@3.0.0`, as Spin 3.6 gives it: the databases are named
//! in the runtime config (`[sqlite_database.<label>] type = "spin"`, with a
//! `path` relative to the working directory, or none for a database in
//! memory), `default` is `.spin/sqlite_db.db` beside the manifest unless the
//! runtime config moves it, and a component may open only those its
//! `sqlite_databases` lists; the app does not start if one is not defined.
//!
//! Each `open` is a connection of its own (so a transaction begun on it is
//! that connection's alone), opened by rusqlite with its busy timeout of five
//! seconds and no other PRAGMA; a statement runs on a blocking thread, and
//! every SQLite error is `io` with rusqlite's text. All as in Spin.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use rusqlite::types::{ToSqlOutput, ValueRef};
use wasmtime::component::Resource;

use crate::bindings::spin::sqlite::sqlite::{
    self, Error, HostConnection, QueryResult, RowResult, Value,
};
use crate::state::HostState;

/// The label of the database every app has without configuring it.
pub const DEFAULT: &str = "default";

/// Where each SQLite database of the app lives, by label.
#[derive(Debug, Clone, Default)]
pub struct Databases(BTreeMap<String, Location>);

/// Where one database lives.
#[derive(Debug, Clone)]
pub enum Location {
    /// A file, created when first opened.
    File(PathBuf),
    /// Memory: each connection has a database of its own, empty.
    Memory,
}

impl Databases {
    /// The databases of an app whose state directory is `state_dir`
    /// (`default` in `sqlite_db.db` there), with `configured` (label to
    /// path, `None` for memory) taking their place.
    pub fn new(state_dir: &Path, configured: &BTreeMap<String, Option<PathBuf>>) -> Self {
        let mut databases = BTreeMap::new();
        databases.insert(
            DEFAULT.to_owned(),
            Location::File(state_dir.join("sqlite_db.db")),
        );
        for (label, path) in configured {
            let location = path.clone().map_or(Location::Memory, Location::File);
            databases.insert(label.clone(), location);
        }
        Self(databases)
    }

    /// Refuses a component that names a database the app does not have, as
    /// Spin refuses to start it.
    pub fn check(&self, component: &str, wanted: &BTreeSet<String>) -> anyhow::Result<()> {
        for label in wanted {
            anyhow::ensure!(
                self.0.contains_key(label),
                "component {component} uses SQLite database {label:?}, which the runtime \
                 config does not define (add [sqlite_database.{label}])"
            );
        }
        Ok(())
    }

    fn open(&self, label: &str) -> Result<rusqlite::Connection, Error> {
        let location = self.0.get(label).ok_or(Error::NoSuchDatabase)?;
        let opened = match location {
            Location::File(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| Error::Io(e.to_string()))?;
                }
                rusqlite::Connection::open(path)
            }
            Location::Memory => rusqlite::Connection::open_in_memory(),
        };
        opened.map_err(io)
    }
}

/// An open connection of a component instance.
#[derive(Debug)]
pub struct Connection(Arc<Mutex<rusqlite::Connection>>);

impl sqlite::Host for HostState {}

impl HostConnection for HostState {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        if !self.limits.sqlite_databases.contains(&database) {
            return Ok(Err(Error::AccessDenied));
        }
        let databases = self.sqlite.clone();
        let opened = tokio::task::spawn_blocking(move || databases.open(&database)).await?;
        Ok(match opened {
            Ok(connection) => Ok(self
                .table
                .push(Connection(Arc::new(Mutex::new(connection))))?),
            Err(error) => Err(error),
        })
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let connection = self.table.get(&connection)?.0.clone();
        let executed = tokio::task::spawn_blocking(move || {
            let connection = connection.lock().map_err(|_| Error::InvalidConnection)?;
            execute(&connection, &statement, &parameters).map_err(io)
        })
        .await?;
        Ok(executed)
    }

    async fn last_insert_rowid(
        &mut self,
        connection: Resource<Connection>,
    ) -> wasmtime::Result<i64> {
        let connection = self.table.get(&connection)?.0.clone();
        let rowid = connection
            .lock()
            .map_or(0, |connection| connection.last_insert_rowid());
        Ok(rowid)
    }

    async fn changes(&mut self, connection: Resource<Connection>) -> wasmtime::Result<u64> {
        let connection = self.table.get(&connection)?.0.clone();
        let changes = connection
            .lock()
            .map_or(0, |connection| connection.changes());
        Ok(changes)
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}

/// Runs one statement with its parameters, and answers its rows (none for
/// a statement that returns none).
fn execute(
    connection: &rusqlite::Connection,
    statement: &str,
    parameters: &[Value],
) -> rusqlite::Result<QueryResult> {
    let mut prepared = connection.prepare_cached(statement)?;
    let columns: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut rows = prepared.query(rusqlite::params_from_iter(parameters.iter().map(Param)))?;
    let mut result = Vec::new();
    while let Some(row) = rows.next()? {
        let values = (0..columns.len())
            .map(|i| row.get_ref(i).map(value_of))
            .collect::<rusqlite::Result<_>>()?;
        result.push(RowResult { values });
    }
    Ok(QueryResult {
        columns,
        rows: result,
    })
}

fn value_of(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// A component's parameter, bound as itself.
struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
            Value::Null => ValueRef::Null,
        }))
    }
}

fn io(error: rusqlite::Error) -> Error {
    Error::Io(error.to_string())
}

/// The `[sqlite_database.<label>]` tables of a runtime config file: each
/// database's file (a relative path against the working directory, as in
/// Spin), or `None` for one in memory.
pub fn configured(
    runtime_config: &toml::Table,
) -> anyhow::Result<BTreeMap<String, Option<PathBuf>>> {
    let mut databases = BTreeMap::new();
    let Some(tables) = runtime_config.get("sqlite_database") else {
        return Ok(databases);
    };
    let tables = tables
        .as_table()
        .context("[sqlite_database] must be a table of databases by label")?;
    for (label, table) in tables {
        let kind = table.get("type").and_then(toml::Value::as_str);
        anyhow::ensure!(
            kind == Some("spin"),
            "[sqlite_database.{label}]: only type = \"spin\" (a local file) is supported here"
        );
        let path = match table.get("path") {
            None => None,
            Some(path) => Some(PathBuf::from(path.as_str().with_context(|| {
                format!("[sqlite_database.{label}]: path must be a string")
            })?)),
        };
        databases.insert(label.clone(), path);
    }
    Ok(databases)
}
