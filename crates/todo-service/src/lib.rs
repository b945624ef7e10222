//! The tasks API as plain Rust: what each route does, over two ports.
//!
//! - [`store::StateStore`]: versioned reads and all-or-nothing conditional
//!   writes; [`dapr::DaprState`] is its adapter for Dapr's state HTTP API.
//! - [`transport::Transport`]: one outbound HTTP request; a Spin component
//!   implements it with `spin_sdk::http::send`.
//!
//! A component turns its request into an [`http::ApiRequest`], calls
//! [`http::TasksApi::handle`], and sends back the [`http::ApiResponse`].

pub mod dapr;
pub mod error;
pub mod http;
pub mod store;
pub mod tasks;
pub mod transport;

pub use http::{ApiRequest, ApiResponse, TasksApi};
