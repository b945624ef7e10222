//! Compiled components and one fresh instance per request.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi_http::p2::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::bindings::fermyon::spin::variables;
use crate::bindings::spin::{postgres::postgres, sqlite::sqlite};
use crate::headers::with_spin_headers;
use crate::manifest::{Manifest, RouteDef};
use crate::outbound::AllowedHosts;
use crate::routes::{Route, Router};
use crate::sqlite::Databases;
use crate::state::{HostState, Limits, Shared};
use crate::variables::AppVariables;

/// How many instances may be alive at once (requests in flight, and the
/// work a component does after its answer): Spin 3.6's limit of 1,000
/// component instances. Past it a request fails at once with 500, as under
/// Spin ("maximum concurrent limit of 1000 for component instances
/// reached"), rather than wait.
pub const MAX_INSTANCES: u32 = 1000;

/// The most core instances one component instance is given room for.
const CORE_PER_COMPONENT: u32 = 8;

/// A loaded app: its router and its compiled, pre-linked components.
pub struct App {
    router: Router,
    components: Vec<LoadedComponent>,
    shared: Shared,
    /// One permit per instance slot (a component may work on after
    /// answering, so slots stay taken longer than requests).
    slots: Arc<tokio::sync::Semaphore>,
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

impl App {
    /// Loads `spin.toml` and the runtime config file if there is one,
    /// resolves variables from `env`, and compiles every component that a
    /// route leads to. The app's state (the `default` SQLite database) is
    /// in `.spin/` beside the manifest, as under `spin up`.
    pub fn load(
        manifest_path: &Path,
        runtime_config: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let manifest = Manifest::load(manifest_path)?;
        let app_variables = AppVariables::resolve(&manifest.variables, env)?;
        let state_dir = manifest_path
            .parent()
            .unwrap_or(Path::new("."))
            .join(".spin");
        let databases = match runtime_config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let table: toml::Table =
                    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
                Databases::new(&state_dir, &crate::sqlite::configured(&table)?)
            }
            None => Databases::new(&state_dir, &Default::default()),
        };
        let engine = engine()?;
        let mut linker = Linker::<HostState>::new(&engine);
        // All of WASI 0.2 (as Spin gives it) plus wasi:http, the way spin-sdk's own tests host components.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        variables::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        sqlite::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        postgres::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;

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
                    let component = Component::from_file(&engine, &path)
                        .map_err(anyhow::Error::from)
                        .with_context(|| {
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
                    let sqlite_databases = def.sqlite_databases.iter().cloned().collect();
                    databases.check(&trigger.component, &sqlite_databases)?;
                    let limits = Limits {
                        variables: app_variables.for_component(&def.variables)?,
                        allowed_hosts: AllowedHosts::parse(&allowed)?,
                        sqlite_databases,
                    };
                    let pre = ProxyPre::new(linker.instantiate_pre(&component)?)
                        .map_err(anyhow::Error::from)
                        .with_context(|| {
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
            shared: Shared {
                sqlite: Arc::new(databases),
                ..Shared::default()
            },
            slots: Arc::new(tokio::sync::Semaphore::new(MAX_INSTANCES as usize)),
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

        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            // Spin's answer when its pool of instances is full.
            eprintln!(
                "component {}: maximum concurrent limit of {MAX_INSTANCES} for component \
                 instances reached",
                component.id
            );
            return Ok((
                plain(500, "Internal Server Error"),
                Some(component.id.as_str()),
            ));
        };
        let mut store = Store::new(
            component.pre.engine(),
            HostState::new(component.limits.clone(), &self.shared),
        );
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)?;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let outparam = store.data_mut().http().new_response_outparam(sender)?;
        let proxy = component.pre.instantiate_async(&mut store).await?;
        let guest = tokio::spawn(async move {
            let handled = proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, outparam)
                .await;
            // The instance is gone with the store; its slot is free again.
            drop(store);
            drop(slot);
            handled
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
    // `perf record` can name the components' functions: wasmtime writes
    // /tmp/perf-<pid>.map for the code it compiles.
    if std::env::var_os("TODO_HOST_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        // A component instance holds several core instances (the module,
        // the WASI adapter, shims); two of them have a memory at most.
        .total_component_instances(MAX_INSTANCES)
        .total_core_instances(MAX_INSTANCES * CORE_PER_COMPONENT)
        .total_memories(MAX_INSTANCES * 4)
        .total_tables(MAX_INSTANCES * CORE_PER_COMPONENT)
        .max_memory_size(256 << 20)
        // Reset a slot's first MiB in place and keep it mapped, so the next
        // instance does not fault it in again; give the rest back. Every
        // page kept is copied back on each reset, touched or not: with 32 MiB
        // kept, a create spent a fifth of the host's CPU resetting memory
        // and the host kept what its largest burst had touched (`bench/run
        // writes`, 16 clients: host 1.14 ms of CPU a create with 32 MiB,
        // 1.11 with 4, 0.91 with 1, 0.88 with none, but with none a single
        // client's p50 rose from 2.5 to 3.1 ms).
        .linear_memory_keep_resident(1 << 20)
        // Zero a table with memset rather than give its pages back: each
        // page given back costs every core a TLB flush (`bench/compare 10`,
        // get one: 0.80-0.83 ms of CPU a request against 0.94).
        .table_keep_resident(1 << 20);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    if let Some(dir) = std::env::var_os("TODO_HOST_CACHE_DIR") {
        let mut cache = wasmtime::CacheConfig::new();
        cache.with_directory(dir);
        config.cache(Some(wasmtime::Cache::new(cache)?));
    }
    Ok(Engine::new(&config)?)
}

/// A plain-text answer of the host itself.
pub fn plain(status: u16, text: &'static str) -> hyper::Response<HyperOutgoingBody> {
    let body = http_body_util::Full::new(bytes::Bytes::from_static(text.as_bytes()))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
}
