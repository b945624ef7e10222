//! Statements run through Spin's SQLite and PostgreSQL interfaces, for the
//! host's tests. A line of the body is one statement, run on connection 1,
//! or on connection 2 when it starts with `2:` (both opened first); its
//! parameters follow it, each after ` ;; `, as `i:42`, `f:1.5`, `s:text`,
//! `b:true` or `null`. The answer has a line per statement: `ok:` and the
//! rows, each `[value, ...]`, or `error:` and the error as the interface
//! gave it; a failed open answers only `open:` and the error.

use spin_sdk::{pg4, sqlite3};

/// The statements of `body` on two connections to SQLite database `label`.
pub fn sqlite(label: &str, body: &str) -> String {
    let open = || sqlite3::Connection::open(label);
    let connections = match (open(), open()) {
        (Ok(one), Ok(two)) => [one, two],
        (Err(error), _) | (_, Err(error)) => return format!("open: {error:?}"),
    };
    run(body, |n, statement, params| {
        let params = params
            .iter()
            .map(|p| match p {
                Param::Int(i) => sqlite3::Value::Integer(*i),
                Param::Real(r) => sqlite3::Value::Real(*r),
                Param::Text(t) => sqlite3::Value::Text(t.clone()),
                Param::Bool(b) => sqlite3::Value::Integer(i64::from(*b)),
                Param::Null => sqlite3::Value::Null,
            })
            .collect::<Vec<_>>();
        connections[n]
            .execute(statement, &params)
            .map(|result| {
                let rows: Vec<String> = result
                    .rows
                    .iter()
                    .map(|row| format!("{:?}", row.values))
                    .collect();
                rows.join(" ")
            })
            .map_err(|error| format!("{error:?}"))
    })
}

/// The statements of `body` on two connections to PostgreSQL at `address`.
pub fn postgres(address: &str, body: &str) -> String {
    let open = || pg4::Connection::open(address).map_err(|error| format!("open: {error:?}"));
    let connections = match (open(), open()) {
        (Ok(one), Ok(two)) => [one, two],
        (Err(error), _) | (_, Err(error)) => return error,
    };
    run(body, |n, statement, params| {
        let params = params
            .iter()
            .map(|p| match p {
                Param::Int(i) => pg4::ParameterValue::Int64(*i),
                Param::Real(r) => pg4::ParameterValue::Floating64(*r),
                Param::Text(t) => pg4::ParameterValue::Str(t.clone()),
                Param::Bool(b) => pg4::ParameterValue::Boolean(*b),
                Param::Null => pg4::ParameterValue::DbNull,
            })
            .collect::<Vec<_>>();
        connections[n]
            .query(statement, &params)
            .map(|set| {
                let rows: Vec<String> = set.rows.iter().map(|row| format!("{row:?}")).collect();
                rows.join(" ")
            })
            .map_err(|error| format!("{error:?}"))
    })
}

enum Param {
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
    Null,
}

fn run(
    body: &str,
    mut execute: impl FnMut(usize, &str, &[Param]) -> Result<String, String>,
) -> String {
    let mut answer = Vec::new();
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        let (n, line) = match line.strip_prefix("2:") {
            Some(rest) => (1, rest.trim()),
            None => (0, line.trim()),
        };
        let mut parts = line.split(" ;; ");
        let statement = parts.next().unwrap_or_default();
        let params: Vec<Param> = parts
            .map(|p| match p.split_once(':') {
                Some(("i", v)) => v.parse().map_or(Param::Null, Param::Int),
                Some(("f", v)) => v.parse().map_or(Param::Null, Param::Real),
                Some(("b", v)) => Param::Bool(v == "true"),
                Some(("s", v)) => Param::Text(v.to_owned()),
                _ => Param::Null,
            })
            .collect();
        answer.push(match execute(n, statement, &params) {
            Ok(rows) => format!("ok: {rows}"),
            Err(error) => format!("error: {error}"),
        });
    }
    answer.join("\n")
}
