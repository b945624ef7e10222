//! A listing as SQL: the query's filters as a `WHERE`, its order as an
//! `ORDER BY` that an index of `tasks` follows, and its cursor as a keyset
//! condition (the page starts right after the cursor's place, whatever was
//! added or deleted meanwhile: nothing is skipped or repeated).
//!
//! Sorted by due date, tasks without one come last in either order: the
//! dated tasks are read first, then, if the page is not full, the undated
//! ones in id order.

use chrono::{DateTime, Utc};
use sql::{Database, Params, Value};

use super::{decode, in_project, priority};
use crate::error::{FieldError, Problem, TaskError};
use crate::service::Listing;
use crate::task::query::{Cursor, ListQuery, Order, SortField, SortValue, Status};
use crate::{Task, UserId};

/// The page `query` asks for of `user`'s tasks at time `now`.
pub(super) fn page<D: Database + ?Sized>(
    db: &D,
    user: &UserId,
    query: &ListQuery,
    now: DateTime<Utc>,
) -> Result<Listing, TaskError> {
    let want = query.limit + 1;
    let after = query.cursor.as_ref();
    let mut tasks = Vec::with_capacity(want);
    match query.sort {
        SortField::DueAt => {
            let in_dated = after.is_none_or(|c| matches!(c.value, SortValue::Time(Some(_))));
            if in_dated {
                let mut dated = Select::new(user, query, now);
                dated.push(" AND due_at IS NOT NULL");
                if let Some(cursor) = after {
                    dated.keyset("due_at", cursor, query.order)?;
                }
                tasks.extend(dated.run(db, Some("due_at"), query.order, want)?);
            }
            if tasks.len() < want {
                let mut undated = Select::new(user, query, now);
                undated.push(" AND due_at IS NULL");
                if let Some(cursor) = after.filter(|c| c.value == SortValue::Time(None)) {
                    undated.keyset_id(cursor, query.order);
                }
                tasks.extend(undated.run(db, None, query.order, want - tasks.len())?);
            }
        }
        sort => {
            let column = match sort {
                SortField::Priority => Some("priority"),
                SortField::Title => Some("title_key"),
                SortField::Order => Some("rank"),
                // A task's id is made from its creation time: the id's order
                // is the creation order.
                _ => None,
            };
            let mut select = Select::new(user, query, now);
            if let Some(cursor) = after {
                match column {
                    Some(column) => select.keyset(column, cursor, query.order)?,
                    None => select.keyset_id(cursor, query.order),
                }
            }
            tasks.extend(select.run(db, column, query.order, want)?);
        }
    }
    let more = tasks.len() > query.limit;
    tasks.truncate(query.limit);
    let next_cursor = more.then(|| tasks.last()).flatten().map(|task| Cursor {
        sort: query.sort,
        order: query.order,
        value: query.sort_value(task),
        id: task.id,
    });
    Ok(Listing { tasks, next_cursor })
}

/// How many of the tasks `query` selects of `user`'s are pending, and how
/// many of those overdue, at `now`.
pub(super) fn counts<D: Database + ?Sized>(
    db: &D,
    user: &UserId,
    query: &ListQuery,
    now: DateTime<Utc>,
) -> Result<(u64, u64), TaskError> {
    let mut params = Params::default();
    let at = params.add(now.timestamp_micros());
    let columns = format!("count(*), count(CASE WHEN due_at < {at} THEN 1 END)");
    let mut select = Select::with(params, &columns, user, query, now);
    select.condition("completed = ", false);
    let rows = db.query(&select.sql, select.params.values())?;
    let number = |column| -> Result<u64, TaskError> {
        let count = rows.first().map(|row| row.int(column)).transpose()?;
        Ok(u64::try_from(count.unwrap_or_default()).unwrap_or_default())
    };
    Ok((number(0)?, number(1)?))
}

/// A `SELECT` of tasks being written, with its parameters.
struct Select {
    sql: String,
    params: Params,
}

impl Select {
    /// The bodies of the user's tasks that pass every filter of `query` at
    /// `now`.
    fn new(user: &UserId, query: &ListQuery, now: DateTime<Utc>) -> Self {
        Self::with(Params::default(), "body", user, query, now)
    }

    /// `columns` of the user's tasks that pass every filter of `query` at
    /// `now`, after the parameters `params` holds (which `columns` uses).
    fn with(
        mut params: Params,
        columns: &str,
        user: &UserId,
        query: &ListQuery,
        now: DateTime<Utc>,
    ) -> Self {
        let user = params.add(user.as_str());
        let mut select = Self {
            sql: format!("SELECT {columns} FROM tasks WHERE user_id = {user}"),
            params,
        };
        match query.status {
            Status::All => {}
            Status::Pending => select.condition("completed = ", false),
            Status::Completed => select.condition("completed = ", true),
        }
        if !query.priorities.is_empty() {
            let list: Vec<String> = query
                .priorities
                .iter()
                .map(|p| select.param(priority(*p)))
                .collect();
            select.push(&format!(" AND priority IN ({})", list.join(", ")));
        }
        for tag in &query.tags {
            let tag = select.param(tag.as_str());
            select.push(&format!(
                " AND EXISTS (SELECT 1 FROM task_tags g WHERE g.user_id = tasks.user_id \
                 AND g.task_id = tasks.id AND g.tag = {tag})"
            ));
        }
        if let Some(project) = query.project {
            let in_project = in_project(&mut select.params, project);
            select.push(&in_project);
        }
        for word in &query.words {
            let pattern = select.param(format!("%{}%", escape_like(word)));
            select.push(&format!(" AND search LIKE {pattern} ESCAPE '\\'"));
        }
        if let Some(before) = query.due_before {
            select.condition("due_at < ", before.timestamp_micros());
        }
        if let Some(after) = query.due_after {
            select.condition("due_at >= ", after.timestamp_micros());
        }
        match query.dated {
            Some(true) => select.push(" AND due_at IS NOT NULL"),
            Some(false) => select.push(" AND due_at IS NULL"),
            None => {}
        }
        if let Some(wanted) = query.overdue {
            let (open, now) = (select.param(false), select.param(now.timestamp_micros()));
            let overdue = format!("(completed = {open} AND due_at IS NOT NULL AND due_at < {now})");
            select.push(&if wanted {
                format!(" AND {overdue}")
            } else {
                format!(" AND NOT {overdue}")
            });
        }
        select
    }

    fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// `$n` for a new parameter `value`.
    fn param(&mut self, value: impl Into<Value>) -> String {
        self.params.add(value)
    }

    /// ` AND {left}$n`.
    fn condition(&mut self, left: &str, value: impl Into<Value>) {
        let param = self.param(value);
        self.push(&format!(" AND {left}{param}"));
    }

    /// Only what comes after `cursor` in `order` of `column`, then id.
    fn keyset(&mut self, column: &str, cursor: &Cursor, order: Order) -> Result<(), TaskError> {
        let value: Value = match &cursor.value {
            SortValue::Time(Some(at)) => at.timestamp_micros().into(),
            SortValue::Priority(p) => priority(*p).into(),
            SortValue::Text(text) => text.as_str().into(),
            SortValue::Time(None) => {
                return Err(FieldError::new("cursor", Problem::BadCursor).into());
            }
        };
        let (value, id) = (self.param(value), self.param(cursor.id.to_string()));
        let after = beyond(order);
        self.push(&format!(" AND ({column}, id) {after} ({value}, {id})"));
        Ok(())
    }

    /// Only what comes after `cursor` in `order` of id.
    fn keyset_id(&mut self, cursor: &Cursor, order: Order) {
        let id = self.param(cursor.id.to_string());
        self.push(&format!(" AND id {} {id}", beyond(order)));
    }

    /// Runs the select in `order` of `column` (if any) then id, `limit`
    /// rows at most.
    fn run<D: Database + ?Sized>(
        mut self,
        db: &D,
        column: Option<&str>,
        order: Order,
        limit: usize,
    ) -> Result<Vec<Task>, TaskError> {
        let direction = match order {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        };
        let limit = self.param(i64::try_from(limit).unwrap_or(i64::MAX));
        match column {
            Some(column) => self.push(&format!(
                " ORDER BY {column} {direction}, id {direction} LIMIT {limit}"
            )),
            None => self.push(&format!(" ORDER BY id {direction} LIMIT {limit}")),
        }
        let rows = db.query(&self.sql, self.params.values())?;
        rows.iter().map(|row| decode(row, 0)).collect()
    }
}

fn beyond(order: Order) -> &'static str {
    match order {
        Order::Asc => ">",
        Order::Desc => "<",
    }
}

/// `text` matched literally by `LIKE ... ESCAPE '\'`.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
