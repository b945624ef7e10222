//! A test-only component for the host's own tests and benchmarks.
//!
//! - `GET /probe/empty`: answers 200 with no body (the host's overhead).
//! - `GET /probe/fetch?url=...`: calls `url` and answers `fetched <status>`,
//!   or 502 `refused: <error>` when the host refuses or the call fails.
//! - `GET /probe/echo`: answers the `spin-*` headers and the `greeting` variable.
//! - `POST /probe/language` with a message: reads it with the chat's language
//!   engine 200 times inside the component and answers the nanoseconds of
//!   each read, one per line (the engine's time inside Wasm; `bench/run chat`).
//! - `POST /probe/sqlite/<label>` and `POST /probe/postgres?<connection
//!   string>` with statements, one a line: runs them through Spin's SQLite
//!   or PostgreSQL interface and answers a line for each ([`sql`]).

// `#[http_component]` exports the handler through an `unsafe extern "C"` shim.
#![allow(unsafe_code)]

mod sql;

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::{http_component, variables};

#[http_component]
async fn handle(request: Request) -> anyhow::Result<impl IntoResponse> {
    let path = request.path().to_owned();
    let response = match path.as_str() {
        "/probe/empty" => Response::new(200, ()),
        "/probe/language" => {
            let message = String::from_utf8_lossy(request.body()).into_owned();
            let now = chrono::Utc::now();
            let context = language::Context::new(now, chrono_tz::America::New_York, &[]);
            let mut times = Vec::with_capacity(200);
            for _ in 0..200 {
                let start = std::time::Instant::now();
                std::hint::black_box(language::read(std::hint::black_box(&message), &context));
                times.push(start.elapsed().as_nanos().to_string());
            }
            Response::new(200, times.join("\n"))
        }
        sqlite if sqlite.starts_with("/probe/sqlite/") => {
            let label = &sqlite["/probe/sqlite/".len()..];
            Response::new(
                200,
                sql::sqlite(label, &String::from_utf8_lossy(request.body())),
            )
        }
        "/probe/postgres" => {
            let address = request.query().replace("%20", " ");
            Response::new(
                200,
                sql::postgres(&address, &String::from_utf8_lossy(request.body())),
            )
        }
        "/probe/fetch" => {
            let url = request
                .query()
                .strip_prefix("url=")
                .map(|u| u.replace("%3A", ":").replace("%2F", "/"))
                .unwrap_or_default();
            match spin_sdk::http::send::<_, Response>(Request::get(url).build()).await {
                Ok(response) => Response::new(200, format!("fetched {}", response.status())),
                Err(err) => Response::new(502, format!("refused: {err}")),
            }
        }
        _ => {
            let mut lines: Vec<String> = request
                .headers()
                .filter(|(name, _)| name.starts_with("spin-"))
                .map(|(name, value)| format!("{name}: {}", value.as_str().unwrap_or_default()))
                .collect();
            lines.sort();
            lines.push(format!(
                "greeting: {}",
                variables::get("greeting").unwrap_or_else(|e| format!("error: {e}"))
            ));
            Response::new(200, lines.join("\n"))
        }
    };
    Ok(response)
}
