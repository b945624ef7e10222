//! A small runner for a Spin app's HTTP components on wasmtime and
//! wasmtime-wasi-http (the WASI 0.2 proxy world).
//!
//! It is the project's test harness and a fallback where `spin up` is not
//! installed, not a Spin replacement: it implements only what the components
//! use, the way Spin does it.
//!
//! - [`manifest`]: the parts of `spin.toml` (version 2) that matter here;
//! - [`routes`]: Spin's HTTP route matching and `spin-*` request headers;
//! - [`variables`]: application and component variables, `SPIN_VARIABLE_*`;
//! - [`outbound`]: which hosts a component may call (`allowed_outbound_hosts`);
//! - [`sqlite`] and [`postgres`]: Spin's SQLite and PostgreSQL interfaces,
//!   with the databases a runtime config file names;
//! - [`headers`]: the `spin-*` headers a component is given;
//! - [`state`]: the host state of one instance (WASI, wasi:http, limits);
//! - [`runtime`]: compiled components, one fresh instance per request, and
//!   the runtime config file;
//! - [`server`]: the HTTP listener.
//!
//! The generated bindings of `wit/` are in their own module, `bindings`.

#![warn(missing_docs)]

mod bindings;
pub mod headers;
pub mod manifest;
pub mod outbound;
pub mod postgres;
pub mod routes;
pub mod runtime;
pub mod server;
pub mod sqlite;
pub mod state;
pub mod variables;
