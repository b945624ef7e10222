//! Compiled components and one fresh instance per request.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::bindings::ProxyPre;
use wasmtime_wasi_http::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::body::HyperOutgoingBody;
use wasmtime_wasi_http::types::{
    HostFutureIncomingResponse, OutgoingRequestConfig, default_send_request,
};
use wasmtime_wasi_http::{HttpResult, WasiHttpCtx, WasiHttpView};

use crate::manifest::{Manifest, RouteDef};
use crate::outbound::{AllowedHosts, Pool};
use crate::routes::{Match, Route, Router};
use crate::variables::AppVariables;

mod bindings {
    wasmtime::component::bindgen!({ path: "wit", world: "host" });
}

use bindings::fermyon::spin::variables;

/// How many instances may be alive at once (requests in flight).
const MAX_INSTANCES: u32 = 256;

/// A loaded app: its router and its compiled, pre-linked components.
pub struct App {
    router: Router,
    components: Vec<LoadedComponent>,
    pool: Pool,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("router", &self.router)
            .finish_non_exhaustive()
    }
}

struct LoadedComponent {
    id: String,
    pre: ProxyPre<HostState>,
    limits: Arc<Limits>,
}

/// What one component may see and reach.
#[derive(Debug)]
struct Limits {
    variables: BTreeMap<String, String>,
    allowed_hosts: AllowedHosts,
}

/// The state of one instance, for one request.
struct HostState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    limits: Arc<Limits>,
    pool: Pool,
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
        let uri = request.uri();
        let scheme = uri
            .scheme_str()
            .unwrap_or(if config.use_tls { "https" } else { "http" });
        let host = uri.host().unwrap_or_default();
        if !self
            .limits
            .allowed_hosts
            .allows(scheme, host, uri.port_u16())
        {
            return Err(ErrorCode::HttpRequestDenied.into());
        }
        if config.use_tls {
            return Ok(default_send_request(request, config));
        }
        Ok(self.pool.send(request, &config))
    }
}

impl variables::Host for HostState {
    fn get(&mut self, name: String) -> Result<String, variables::Error> {
        if crate::variables::check_name(&name).is_err() {
            return Err(variables::Error::InvalidName(name));
        }
        self.limits
            .variables
            .get(&name)
            .cloned()
            .ok_or(variables::Error::Undefined(name))
    }
}

impl App {
    /// Loads `spin.toml`, resolves variables from `env`, and compiles every
    /// component that a route leads to.
    pub fn load(
        manifest_path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let manifest = Manifest::load(manifest_path)?;
        let app_variables = AppVariables::resolve(&manifest.variables, env)?;
        let engine = engine()?;
        let mut linker = Linker::<HostState>::new(&engine);
        // All of WASI 0.2 (as Spin gives it) plus wasi:http, the way spin-sdk's own tests host components.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::add_only_http_to_linker_async(&mut linker)?;
        variables::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;

        let mut router = Router::default();
        let mut components: Vec<LoadedComponent> = Vec::new();
        for trigger in &manifest.trigger.http {
            let RouteDef::Path(route) = &trigger.route else {
                continue;
            };
            let index = match components.iter().position(|c| c.id == trigger.component) {
                Some(index) => index,
                None => {
                    let def = &manifest.component[&trigger.component];
                    let path = Manifest::source_path(manifest_path, def);
                    let component = Component::from_file(&engine, &path).with_context(|| {
                        format!(
                            "compiling component {} from {}",
                            trigger.component,
                            path.display()
                        )
                    })?;
                    let allowed: Vec<String> = def
                        .allowed_outbound_hosts
                        .iter()
                        .map(|host| app_variables.expand(host))
                        .collect::<anyhow::Result<_>>()?;
                    let limits = Limits {
                        variables: app_variables.for_component(&def.variables)?,
                        allowed_hosts: AllowedHosts::parse(&allowed)?,
                    };
                    let pre =
                        ProxyPre::new(linker.instantiate_pre(&component)?).with_context(|| {
                            format!("component {} is not a wasi:http proxy", trigger.component)
                        })?;
                    components.push(LoadedComponent {
                        id: trigger.component.clone(),
                        pre,
                        limits: Arc::new(limits),
                    });
                    components.len() - 1
                }
            };
            router.add(Route::parse(route), index);
        }
        Ok(Self {
            router,
            components,
            pool: Pool::default(),
        })
    }

    /// Serves one request with a fresh instance of the component its route
    /// leads to; answers the response and the component's id for the log.
    pub async fn handle(
        &self,
        request: hyper::Request<Incoming>,
        client: SocketAddr,
    ) -> anyhow::Result<(hyper::Response<HyperOutgoingBody>, Option<&str>)> {
        let path = request.uri().path().to_owned();
        let Some((matched, index)) = self.router.find(&path) else {
            return Ok((plain(404, "Not Found"), None));
        };
        let component = &self.components[index];
        let request = with_spin_headers(request, &matched, client)?;

        let mut store = Store::new(
            component.pre.engine(),
            HostState {
                table: ResourceTable::new(),
                wasi: WasiCtxBuilder::new()
                    .inherit_stdout()
                    .inherit_stderr()
                    .build(),
                http: WasiHttpCtx::new(),
                limits: component.limits.clone(),
                pool: self.pool.clone(),
            },
        );
        let incoming = store
            .data_mut()
            .new_incoming_request(Scheme::Http, request)?;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let outparam = store.data_mut().new_response_outparam(sender)?;
        let proxy = component.pre.instantiate_async(&mut store).await?;
        let guest = tokio::spawn(async move {
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, outparam)
                .await
        });
        let response = match receiver.await {
            Ok(Ok(response)) => response,
            Ok(Err(code)) => {
                eprintln!("component {} failed: {code:?}", component.id);
                plain(500, "Internal Server Error")
            }
            Err(_) => {
                let why = match guest.await {
                    Ok(Ok(())) => "returned without a response".to_owned(),
                    Ok(Err(trap)) => format!("trapped: {trap:?}"),
                    Err(join) => format!("panicked: {join}"),
                };
                eprintln!("component {} {why}", component.id);
                plain(500, "Internal Server Error")
            }
        };
        Ok((response, Some(component.id.as_str())))
    }
}

fn engine() -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.async_support(true);
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(MAX_INSTANCES)
        .total_core_instances(MAX_INSTANCES)
        .total_memories(MAX_INSTANCES)
        .total_tables(MAX_INSTANCES * 2)
        .max_memory_size(256 << 20)
        // Reset a slot's first pages with memset and keep them mapped, so the
        // next instance does not fault them in again.
        .linear_memory_keep_resident(32 << 20);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    if let Some(dir) = std::env::var_os("TODO_HOST_CACHE_DIR") {
        let mut cache = wasmtime::CacheConfig::new();
        cache.with_directory(dir);
        config.cache(Some(wasmtime::Cache::new(cache)?));
    }
    Engine::new(&config)
}

/// Adds the headers Spin gives a component, and an absolute URI.
fn with_spin_headers(
    request: hyper::Request<Incoming>,
    matched: &Match<'_>,
    client: SocketAddr,
) -> anyhow::Result<hyper::Request<Incoming>> {
    let (mut parts, body) = request.into_parts();
    let authority = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let full_url = format!("http://{authority}{path_and_query}");
    parts.uri = full_url.parse()?;
    let mut headers = vec![
        ("spin-full-url".to_owned(), full_url),
        ("spin-path-info".to_owned(), matched.path_info.clone()),
        (
            "spin-matched-route".to_owned(),
            matched.route.raw().to_owned(),
        ),
        (
            "spin-raw-component-route".to_owned(),
            matched.route.raw().to_owned(),
        ),
        (
            "spin-component-route".to_owned(),
            matched.route.base().to_owned(),
        ),
        ("spin-base-path".to_owned(), "/".to_owned()),
        ("spin-client-addr".to_owned(), client.to_string()),
    ];
    for (name, value) in &matched.params {
        headers.push((
            format!("spin-path-match-{}", name.replace('_', "-")),
            value.clone(),
        ));
    }
    for (name, value) in headers {
        parts
            .headers
            .insert(HeaderName::try_from(name)?, HeaderValue::try_from(value)?);
    }
    Ok(hyper::Request::from_parts(parts, body))
}

pub fn plain(status: u16, text: &'static str) -> hyper::Response<HyperOutgoingBody> {
    let body = http_body_util::Full::new(bytes::Bytes::from_static(text.as_bytes()))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
}
