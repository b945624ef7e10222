//! The host state of one instance, for one request: WASI, wasi:http and what
//! the component may see and reach.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::WasiHttpCtx;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, OutgoingRequestConfig};
use wasmtime_wasi_http::p2::{HttpResult, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::outbound::{AllowedHosts, Pool};
use crate::postgres::Pools;
use crate::sqlite::Databases;

/// What one component may see and reach.
#[derive(Debug)]
pub struct Limits {
    /// Its variables, resolved.
    pub variables: BTreeMap<String, String>,
    /// Where it may send requests (and connect to PostgreSQL).
    pub allowed_hosts: AllowedHosts,
    /// The SQLite databases it may open (`sqlite_databases`).
    pub sqlite_databases: BTreeSet<String>,
}

/// What every instance of the app shares: the connections it keeps.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    /// Kept-alive plain-HTTP connections.
    pub http: Pool,
    /// Where the SQLite databases are.
    pub sqlite: Arc<Databases>,
    /// The PostgreSQL pools.
    pub postgres: Pools,
}

/// The state of one instance, for one request.
pub struct HostState {
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(crate) limits: Arc<Limits>,
    outbound: Outbound,
    pub(crate) sqlite: Arc<Databases>,
    pub(crate) postgres: Pools,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl HostState {
    /// Fresh state for an instance of a component with `limits`, which
    /// reaches the world through `shared`.
    pub fn new(limits: Arc<Limits>, shared: &Shared) -> Self {
        Self {
            table: ResourceTable::new(),
            wasi: WasiCtxBuilder::new()
                .inherit_stdout()
                .inherit_stderr()
                .build(),
            http: WasiHttpCtx::new(),
            outbound: Outbound {
                limits: limits.clone(),
                pool: shared.http.clone(),
            },
            limits,
            sqlite: shared.sqlite.clone(),
            postgres: shared.postgres.clone(),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// How an instance's outbound HTTP goes: only where it may, plain HTTP on
/// the shared pool of kept-alive connections.
struct Outbound {
    limits: Arc<Limits>,
    pool: Pool,
}

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: hyper::Request<HyperOutgoingBody>,
        config: OutgoingRequestConfig,
    ) -> HttpResult<HostFutureIncomingResponse> {
        crate::outbound::send(&self.limits.allowed_hosts, &self.pool, request, config)
    }
}
