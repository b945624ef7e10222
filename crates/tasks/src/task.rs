//! Tasks: what a task is ([`model`]), how input from outside becomes one
//! or a field-level error ([`input`]), how tasks are listed ([`query`]) and
//! repeat ([`repeat`]), and how they are kept: the use cases over SQL
//! ([`store`], ADR 16), each change recorded ([`change`]) with its event
//! for the [`outbox`] to relay, read back as a task's [`history`] and a
//! user's change [`feed`] in pages ([`page`]); the task as stored
//! ([`stored`]).

pub mod activity;
pub mod change;
pub mod feed;
pub mod history;
pub mod input;
pub mod model;
pub mod once;
pub mod outbox;
pub mod page;
pub mod query;
pub mod rank;
pub mod repeat;
pub mod steps;
pub mod store;
pub mod stored;
