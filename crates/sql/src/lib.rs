//! The SQL port of the contexts: a [`Database`] runs one statement at a time
//! with its parameters, as Spin's SQLite (`spin:sqlite/sqlite@3.0.0`) and
//! PostgreSQL (`spin:postgres/postgres@4.0.0`) interfaces do; the adapters
//! for those live in `spin-glue`, and one over SQLite itself ([`native`],
//! feature `native`) serves the contexts' native tests.
//!
//! - [`Value`], [`Rows`], [`Row`]: what goes in and comes out, the same for
//!   both databases;
//! - [`Dialect`]: every difference between the two, in one place;
//! - [`transaction`]: a unit of work, committed whole or not at all;
//! - [`migrate`]: the schema's versions, each applied once.
//!
//! Statements are written once, with `$1`-style parameters, in the SQL both
//! databases speak: `BIGINT`, `TEXT` and `BOOLEAN` columns, `ON CONFLICT`,
//! `RETURNING`. Times are whole micro- or milliseconds since the epoch in
//! `BIGINT` columns (Spin cannot read a PostgreSQL `timestamptz`).

#![warn(missing_docs)]

mod dialect;
pub mod migrate;
#[cfg(feature = "native")]
pub mod native;

pub use dialect::Dialect;
pub use migrate::{Migration, migrate};

/// A parameter or a column's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A boolean (an integer 0 or 1 in SQLite).
    Bool(bool),
    /// A 64-bit integer (`BIGINT`).
    Int(i64),
    /// A double (`DOUBLE PRECISION`, SQLite `REAL`).
    Real(f64),
    /// Text.
    Text(String),
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}

/// A statement's parameters, numbered as they are added: each
/// [`Params::add`] answers the placeholder (`$n`) to write where the value
/// goes, so that a statement built piece by piece never miscounts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(Vec<Value>);

impl Params {
    /// Adds `value`, answering its placeholder (`$n`).
    pub fn add(&mut self, value: impl Into<Value>) -> String {
        self.0.push(value.into());
        format!("${}", self.0.len())
    }

    /// The values, in their placeholders' order.
    pub fn values(&self) -> &[Value] {
        &self.0
    }
}

/// The rows a query answered, each a value per column of its `SELECT`, in
/// order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows(pub Vec<Vec<Value>>);

impl Rows {
    /// Each row.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.0.iter().map(|values| Row(values))
    }

    /// The first row, if there is one.
    pub fn first(&self) -> Option<Row<'_>> {
        self.0.first().map(|values| Row(values))
    }

    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One row: its columns by position.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a>(&'a [Value]);

impl<'a> Row<'a> {
    fn at(&self, column: usize) -> Result<&'a Value, SqlError> {
        self.0
            .get(column)
            .ok_or_else(|| SqlError::Decode(format!("the row has no column {column}")))
    }

    /// Column `column` as an integer.
    pub fn int(&self, column: usize) -> Result<i64, SqlError> {
        match self.at(column)? {
            Value::Int(i) => Ok(*i),
            other => Err(decode(column, "an integer", other)),
        }
    }

    /// Column `column` as an integer, or `None` for `NULL`.
    pub fn opt_int(&self, column: usize) -> Result<Option<i64>, SqlError> {
        match self.at(column)? {
            Value::Null => Ok(None),
            _ => self.int(column).map(Some),
        }
    }

    /// Column `column` as text.
    pub fn text(&self, column: usize) -> Result<&'a str, SqlError> {
        match self.at(column)? {
            Value::Text(t) => Ok(t),
            other => Err(decode(column, "text", other)),
        }
    }

    /// Column `column` as text, or `None` for `NULL`.
    pub fn opt_text(&self, column: usize) -> Result<Option<&'a str>, SqlError> {
        match self.at(column)? {
            Value::Null => Ok(None),
            _ => self.text(column).map(Some),
        }
    }

    /// Column `column` as a boolean (SQLite answers 0 or 1).
    pub fn bool(&self, column: usize) -> Result<bool, SqlError> {
        match self.at(column)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(i) => Ok(*i != 0),
            other => Err(decode(column, "a boolean", other)),
        }
    }
}

fn decode(column: usize, wanted: &str, found: &Value) -> SqlError {
    SqlError::Decode(format!("column {column} should be {wanted}, not {found:?}"))
}

/// How a statement can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    /// A unique constraint (or primary key) held: the row exists already.
    /// The text names the constraint as the database did.
    #[error("a row with that key exists already ({0})")]
    Unique(String),
    /// A foreign key held: the row refers to a row that is not there, or
    /// rows still refer to the one deleted. The text names the constraint.
    #[error("a row it refers to is missing, or rows refer to it ({0})")]
    Reference(String),
    /// Another transaction held what this one needed (SQLite's lock past
    /// its busy timeout, a PostgreSQL serialization failure or deadlock):
    /// the whole transaction may be tried again.
    #[error("the database was busy: {0}")]
    Busy(String),
    /// The database could not be reached or opened.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The statement names a table or column the database does not have
    /// (yet), or a unique constraint for `ON CONFLICT` that it lacks: its
    /// schema is older than the statement.
    #[error("the schema is older than the statement: {0}")]
    Schema(String),
    /// The statement failed for another reason: a defect, for the log.
    #[error("the statement failed: {0}")]
    Failed(String),
    /// A column held something other than what the reader expected.
    #[error("unexpected column value: {0}")]
    Decode(String),
}

/// How a component opens its database from a connection string (Spin's
/// SQLite `default` database when it is empty).
pub type Open = fn(&str) -> Result<Box<dyn Database>, SqlError>;

/// A database, one statement at a time. Spin's interfaces are synchronous
/// inside a component, and so is this port.
pub trait Database {
    /// Which SQL the database speaks where the two differ.
    fn dialect(&self) -> Dialect;

    /// Runs `statement` (with `$1`-style parameters) and answers its rows.
    fn query(&self, statement: &str, params: &[Value]) -> Result<Rows, SqlError>;

    /// Runs `statement` and answers how many rows it changed.
    fn execute(&self, statement: &str, params: &[Value]) -> Result<u64, SqlError>;

    /// Called by [`transaction`] before it begins: a database that brings
    /// its schema up to date when first needed does it here, so that every
    /// write runs on the newest schema.
    fn before_transaction(&self) -> Result<(), SqlError> {
        Ok(())
    }
}

impl<D: Database + ?Sized> Database for &D {
    fn dialect(&self) -> Dialect {
        (**self).dialect()
    }

    fn query(&self, statement: &str, params: &[Value]) -> Result<Rows, SqlError> {
        (**self).query(statement, params)
    }

    fn execute(&self, statement: &str, params: &[Value]) -> Result<u64, SqlError> {
        (**self).execute(statement, params)
    }

    fn before_transaction(&self) -> Result<(), SqlError> {
        (**self).before_transaction()
    }
}

/// How a unit of work ends: what it did kept, or undone (it found there
/// was nothing to do, and must leave no trace such as a number drawn).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish<T> {
    /// Commit, and answer the value.
    Commit(T),
    /// Roll back, and answer the value.
    Rollback(T),
}

/// How many rows [`insert_rows`] writes with one statement: a hundred rows
/// of a dozen columns stay far below both databases' limits on parameters.
pub const ROWS_PER_INSERT: usize = 100;

/// Inserts `rows` into `into` (`table (column, ...)`), [`ROWS_PER_INSERT`]
/// to a statement, each statement ending with `tail` (such as
/// ` ON CONFLICT (...) DO NOTHING`); answers how many rows were written.
pub fn insert_rows<D: Database + ?Sized>(
    db: &D,
    into: &str,
    rows: &[Vec<Value>],
    tail: &str,
) -> Result<u64, SqlError> {
    let mut written = 0;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut params = Params::default();
        let tuples: Vec<String> = (chunk.iter())
            .map(|row| {
                let placeholders: Vec<String> =
                    row.iter().map(|value| params.add(value.clone())).collect();
                format!("({})", placeholders.join(", "))
            })
            .collect();
        let statement = format!("INSERT INTO {into} VALUES {}{tail}", tuples.join(", "));
        written += db.execute(&statement, params.values())?;
    }
    Ok(written)
}

/// Runs `work` in one transaction: committed or rolled back as it says,
/// rolled back when it fails (or the commit does). On SQLite the
/// transaction takes the write lock at its start (`BEGIN IMMEDIATE`), so
/// that two writers never deadlock upgrading their locks.
pub fn transaction<D, T, E>(db: &D, work: impl FnOnce(&D) -> Result<Finish<T>, E>) -> Result<T, E>
where
    D: Database + ?Sized,
    E: From<SqlError>,
{
    db.before_transaction()?;
    db.execute(db.dialect().begin(), &[])?;
    let done = work(db).and_then(|finish| match finish {
        Finish::Commit(value) => {
            db.execute("COMMIT", &[])?;
            Ok(value)
        }
        Finish::Rollback(value) => {
            db.execute("ROLLBACK", &[])?;
            Ok(value)
        }
    });
    if done.is_err() {
        // Nothing to undo when the commit itself failed and ended it; a
        // failed rollback leaves the connection to be dropped anyway.
        let _ = db.execute("ROLLBACK", &[]);
    }
    done
}
