//! `spin:postgres/postgres@4.0.0`, as Spin 3.6 gives it: a component opens a
//! connection by its connection string, which `allowed_outbound_hosts` must
//! allow as `postgres://host:port`; connections come from a pool per
//! connection string (at most 64 each, cleaned when they come back) and stay
//! the instance's until it drops them, so a transaction begun on one is that
//! connection's alone. Each statement is prepared anew, its parameters
//! checked against the types the server expects (a `str` for a `bigint`
//! fails: the SQL casts); a `timestamptz` column cannot be read (Spin reads
//! it as a `timestamp` and fails), and an empty result has no columns.
//! TLS unless the string says `sslmode=disable`; here over rustls with the
//! web's root certificates where Spin uses the system's native TLS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use wasmtime::component::Resource;

use crate::bindings::spin::postgres::postgres::{
    self, Column, DbDataType, DbError, DbValue, Error, HostConnection, ParameterValue, QueryError,
    RowSet,
};
use crate::state::HostState;

/// The most connections a pool keeps to one connection string, as in Spin.
pub const POOL_SIZE: usize = 64;

/// The app's pools, one per connection string.
#[derive(Debug, Clone, Default)]
pub struct Pools(Arc<Mutex<HashMap<String, Pool>>>);

impl Pools {
    /// The pool for `address`, made on first use; `Err` says why the
    /// connection failed.
    fn pool(&self, address: &str) -> Result<Pool, String> {
        let mut pools = self.0.lock().map_err(|_| "the pools are poisoned")?;
        if let Some(pool) = pools.get(address) {
            return Ok(pool.clone());
        }
        let config: tokio_postgres::Config = address
            .parse()
            .map_err(|e| format!("invalid connection string: {e}"))?;
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Clean,
        };
        let manager = match config.get_ssl_mode() {
            SslMode::Disable => Manager::from_config(config, tokio_postgres::NoTls, manager_config),
            _ => Manager::from_config(config, tls(), manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| e.to_string())?;
        pools.insert(address.to_owned(), pool.clone());
        Ok(pool)
    }
}

fn tls() -> tokio_postgres_rustls::MakeRustlsConnect {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map(|builder| builder.with_root_certificates(roots).with_no_client_auth());
    match config {
        Ok(config) => tokio_postgres_rustls::MakeRustlsConnect::new(config),
        // The ring provider has every safe protocol version.
        Err(_) => unreachable_tls(),
    }
}

#[allow(clippy::panic)]
fn unreachable_tls() -> ! {
    panic!("rustls' ring provider offers no safe protocol version")
}

/// A connection an instance holds: a pooled client, back to its pool when
/// the instance drops it.
pub struct Connection(Object);

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

impl postgres::Host for HostState {}

impl HostConnection for HostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let pool = match self
            .allowed(&address)
            .and_then(|()| self.postgres.pool(&address))
        {
            Ok(pool) => pool,
            Err(why) => return Ok(Err(Error::ConnectionFailed(why))),
        };
        match pool.get().await {
            Ok(client) => Ok(Ok(self.table.push(Connection(client))?)),
            Err(error) => Ok(Err(Error::ConnectionFailed(error.to_string()))),
        }
    }

    async fn query(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let client = &self.table.get(&connection)?.0;
        let params: Vec<Param> = params.into_iter().map(Param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let rows = match client.query(&statement, &refs).await {
            Ok(rows) => rows,
            Err(error) => return Ok(Err(query_failed(&error))),
        };
        let columns = rows.first().map_or_else(Vec::new, |row| {
            row.columns()
                .iter()
                .map(|column| Column {
                    name: column.name().to_owned(),
                    data_type: data_type(column.type_()),
                })
                .collect()
        });
        let mut set = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut values = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                match value(row, i, column.type_()) {
                    Ok(value) => values.push(value),
                    Err(error) => return Ok(Err(Error::QueryFailed(QueryError::Text(error)))),
                }
            }
            set.push(values);
        }
        Ok(Ok(RowSet { columns, rows: set }))
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let client = &self.table.get(&connection)?.0;
        let params: Vec<Param> = params.into_iter().map(Param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        Ok(client
            .execute(&statement, &refs)
            .await
            .map_err(|error| query_failed(&error)))
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}

impl HostState {
    /// Whether the component may reach every host `address` names, as
    /// `postgres://host:port` (5432 when it names none); `Err` says which
    /// it may not.
    fn allowed(&self, address: &str) -> Result<(), String> {
        let config: tokio_postgres::Config = address
            .parse()
            .map_err(|e| format!("invalid connection string: {e}"))?;
        let ports = config.get_ports();
        for (i, host) in config.get_hosts().iter().enumerate() {
            let name = match host {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            };
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            if !self
                .limits
                .allowed_hosts
                .allows("postgres", &name, Some(port))
            {
                return Err(format!("address postgres://{name}:{port} is not permitted"));
            }
        }
        Ok(())
    }
}

fn query_failed(error: &tokio_postgres::Error) -> Error {
    match error.as_db_error() {
        Some(db) => Error::QueryFailed(QueryError::DbError(DbError {
            as_text: format!("{error:?}"),
            severity: db.severity().to_owned(),
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            extras: [
                ("hint", db.hint()),
                ("constraint", db.constraint()),
                ("table", db.table()),
                ("column", db.column()),
            ]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v.to_owned())))
            .collect(),
        })),
        None if error.is_closed() => Error::ConnectionFailed(error.to_string()),
        None => Error::QueryFailed(QueryError::Text(format!("{error:?}"))),
    }
}

fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::CHAR => DbDataType::Int8,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::JSON | Type::JSONB => DbDataType::Jsonb,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY => DbDataType::ArrayStr,
        _ => DbDataType::Other(ty.name().to_owned()),
    }
}

fn value(row: &tokio_postgres::Row, i: usize, ty: &Type) -> Result<DbValue, String> {
    read(row, i, ty).map_err(|error| format!("{error:?}"))
}

fn read(row: &tokio_postgres::Row, i: usize, ty: &Type) -> Result<DbValue, tokio_postgres::Error> {
    fn or_null<T>(value: Option<T>, some: impl FnOnce(T) -> DbValue) -> DbValue {
        value.map_or(DbValue::DbNull, some)
    }
    Ok(match *ty {
        Type::BOOL => or_null(row.try_get(i)?, DbValue::Boolean),
        Type::CHAR => or_null(row.try_get(i)?, DbValue::Int8),
        Type::INT2 => or_null(row.try_get(i)?, DbValue::Int16),
        Type::INT4 => or_null(row.try_get(i)?, DbValue::Int32),
        Type::INT8 => or_null(row.try_get(i)?, DbValue::Int64),
        Type::FLOAT4 => or_null(row.try_get(i)?, DbValue::Floating32),
        Type::FLOAT8 => or_null(row.try_get(i)?, DbValue::Floating64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            or_null(row.try_get(i)?, DbValue::Str)
        }
        Type::BYTEA => or_null(row.try_get(i)?, DbValue::Binary),
        Type::DATE => or_null(row.try_get::<_, Option<NaiveDate>>(i)?, |d| {
            DbValue::Date((d.year(), d.month() as u8, d.day() as u8))
        }),
        Type::TIME => or_null(row.try_get::<_, Option<NaiveTime>>(i)?, |t| {
            DbValue::Time((
                t.hour() as u8,
                t.minute() as u8,
                t.second() as u8,
                t.nanosecond(),
            ))
        }),
        // As in Spin: a timestamptz is read as a timestamp, which fails
        // unless it is null.
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            or_null(row.try_get::<_, Option<NaiveDateTime>>(i)?, datetime)
        }
        Type::JSON | Type::JSONB => {
            or_null(row.try_get::<_, Option<serde_json::Value>>(i)?, |json| {
                DbValue::Jsonb(serde_json::to_vec(&json).unwrap_or_default())
            })
        }
        Type::INT8_ARRAY => or_null(row.try_get(i)?, DbValue::ArrayInt64),
        Type::INT4_ARRAY => or_null(row.try_get(i)?, DbValue::ArrayInt32),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY => or_null(row.try_get(i)?, DbValue::ArrayStr),
        _ => or_null(row.try_get::<_, Option<Raw>>(i)?, |raw| {
            DbValue::Unsupported(raw.0)
        }),
    })
}

fn datetime(t: NaiveDateTime) -> DbValue {
    DbValue::Datetime((
        t.year(),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond(),
    ))
}

/// A column of a type the interface has no value for, as its bytes.
struct Raw(Vec<u8>);

impl<'a> tokio_postgres::types::FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A component's parameter, bound as the type the statement expects of it.
#[derive(Debug)]
struct Param(ParameterValue);

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let wrong =
            || -> BoxError { format!("a parameter of type {ty} cannot take {:?}", self.0).into() };
        match &self.0 {
            ParameterValue::Boolean(v) => v.to_sql_checked(ty, out),
            ParameterValue::Int8(v) => v.to_sql_checked(ty, out),
            ParameterValue::Int16(v) => v.to_sql_checked(ty, out),
            ParameterValue::Int32(v) => v.to_sql_checked(ty, out),
            ParameterValue::Int64(v) => v.to_sql_checked(ty, out),
            ParameterValue::Floating32(v) => v.to_sql_checked(ty, out),
            ParameterValue::Floating64(v) => v.to_sql_checked(ty, out),
            ParameterValue::Str(v) => v.to_sql_checked(ty, out),
            ParameterValue::Binary(v) => v.to_sql_checked(ty, out),
            ParameterValue::Jsonb(v) => {
                let json: serde_json::Value = serde_json::from_slice(v)?;
                json.to_sql_checked(ty, out)
            }
            ParameterValue::Date((y, m, d)) => {
                NaiveDate::from_ymd_opt(*y, (*m).into(), (*d).into())
                    .ok_or_else(wrong)?
                    .to_sql_checked(ty, out)
            }
            ParameterValue::Time((h, m, s, ns)) => {
                NaiveTime::from_hms_nano_opt((*h).into(), (*m).into(), (*s).into(), *ns)
                    .ok_or_else(wrong)?
                    .to_sql_checked(ty, out)
            }
            ParameterValue::Datetime((y, mo, d, h, mi, s, ns)) => {
                let date =
                    NaiveDate::from_ymd_opt(*y, (*mo).into(), (*d).into()).ok_or_else(wrong)?;
                let time =
                    NaiveTime::from_hms_nano_opt((*h).into(), (*mi).into(), (*s).into(), *ns)
                        .ok_or_else(wrong)?;
                let at = NaiveDateTime::new(date, time);
                if *ty == Type::TIMESTAMPTZ {
                    at.and_utc().to_sql_checked(ty, out)
                } else {
                    at.to_sql_checked(ty, out)
                }
            }
            ParameterValue::Timestamp(seconds) => {
                let at = chrono::DateTime::from_timestamp(*seconds, 0).ok_or_else(wrong)?;
                if *ty == Type::TIMESTAMPTZ {
                    at.to_sql_checked(ty, out)
                } else {
                    at.naive_utc().to_sql_checked(ty, out)
                }
            }
            ParameterValue::ArrayInt32(v) => v.to_sql_checked(ty, out),
            ParameterValue::ArrayInt64(v) => v.to_sql_checked(ty, out),
            ParameterValue::ArrayStr(v) => v.to_sql_checked(ty, out),
            ParameterValue::DbNull => Ok(IsNull::Yes),
            _ => Err(format!(
                "parameters of this kind are not supported here: {:?}",
                self.0
            )
            .into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}
