//! `todo-host [--manifest spin.toml] [--runtime-config-file FILE] [--listen 127.0.0.1:3000]`
//!
//! Serves the Spin app described by the manifest until interrupted.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use todo_host::runtime::App;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut manifest = PathBuf::from("spin.toml");
    let mut listen = "127.0.0.1:3000".to_owned();
    let mut runtime_config: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--manifest" => manifest = args.next().context("--manifest needs a path")?.into(),
            "--listen" => listen = args.next().context("--listen needs an address")?,
            "--runtime-config-file" => {
                runtime_config = Some(
                    args.next()
                        .context("--runtime-config-file needs a path")?
                        .into(),
                )
            }
            "-h" | "--help" => {
                println!(
                    "usage: todo-host [--manifest spin.toml] [--runtime-config-file FILE] \
                     [--listen 127.0.0.1:3000]"
                );
                return Ok(());
            }
            other => bail!("unknown argument {other:?}; see --help"),
        }
    }
    let app = Arc::new(App::load(&manifest, runtime_config.as_deref(), |name| {
        std::env::var(name).ok()
    })?);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    println!("Serving http://{}", listener.local_addr()?);
    todo_host::server::serve(app, listener, shutdown()).await
}

async fn shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
