//! The HTTP listener: hyper over tokio, one log line per request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::runtime::{App, plain};

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        // A component streams its body after the headers: without NODELAY the
        // second write waits for the client's delayed ACK (about 40 ms).
        stream.set_nodelay(true)?;
        let app = app.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(respond(&app, request, client).await) }
            });
            let served = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
            match served {
                Err(err) if !err.is_incomplete_message() => {
                    eprintln!("connection from {client}: {err}")
                }
                _ => {}
            }
        });
    }
}

async fn respond(
    app: &App,
    request: hyper::Request<hyper::body::Incoming>,
    client: SocketAddr,
) -> hyper::Response<wasmtime_wasi_http::p2::body::HyperOutgoingBody> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let (response, component) = match app.handle(request, client).await {
        Ok(answer) => answer,
        Err(err) => {
            eprintln!("{method} {path}: {err:#}");
            (plain(500, "Internal Server Error"), None)
        }
    };
    eprintln!(
        "{method} {path} {} {} {:.2}ms",
        response.status().as_u16(),
        component.unwrap_or("-"),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}
