//! The host state of one instance, for one request: WASI, wasi:http and what
//! the component may see and reach.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::body::HyperOutgoingBody;
use wasmtime_wasi_http::types::{HostFutureIncomingResponse, OutgoingRequestConfig};
use wasmtime_wasi_http::{HttpResult, WasiHttpCtx, WasiHttpView};

use crate::outbound::{AllowedHosts, Pool};

/// What one component may see and reach.
#[derive(Debug)]
pub struct Limits {
    /// Its variables, resolved.
    pub variables: BTreeMap<String, String>,
    /// Where it may send requests.
    pub allowed_hosts: AllowedHosts,
}

/// The state of one instance, for one request.
pub struct HostState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(crate) limits: Arc<Limits>,
    pool: Pool,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl HostState {
    /// Fresh state for an instance of a component with `limits`, whose
    /// outbound plain-HTTP requests go through `pool`.
    pub fn new(limits: Arc<Limits>, pool: Pool) -> Self {
        Self {
            table: ResourceTable::new(),
            wasi: WasiCtxBuilder::new()
                .inherit_stdout()
                .inherit_stderr()
                .build(),
            http: WasiHttpCtx::new(),
            limits,
            pool,
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
    fn ctx(&mut self) -> &mut WasiHttpCtx {
        &mut self.http
    }

    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    fn send_request(
        &mut self,
        request: hyper::Request<HyperOutgoingBody>,
        config: OutgoingRequestConfig,
    ) -> HttpResult<HostFutureIncomingResponse> {
        crate::outbound::send(&self.limits.allowed_hosts, &self.pool, request, config)
    }
}
