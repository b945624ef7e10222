//! The web app's files, built into the `web-ui` component from `web/` at
//! compile time, and [`answer`], which serves them.
//!
//! Every answer carries a strict Content-Security-Policy (scripts, styles
//! and fetches from this origin only; nothing inline, no frames, no
//! plugins), `nosniff` and no referrer. Files are revalidated on every
//! load with an ETag made from their bytes at compile time, so a new
//! build is seen at once and an unchanged file costs a 304.

#![warn(missing_docs)]

use http::header::{
    ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderValue, IF_NONE_MATCH,
};
use http::{Method, Request, Response, StatusCode};

/// The policy on every answer: the page's own files and API only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; manifest-src 'self'; \
     form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// One file of the web app.
#[derive(Debug)]
pub struct Asset {
    /// Where it is served.
    pub path: &'static str,
    /// Its media type.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
    /// Its ETag: a hash of its bytes, quoted.
    pub etag: &'static str,
}

// `ASSETS`: every file of the web app, with its ETag, as build.rs lists
// them (it hashes them once, where a `const fn` would take seconds over
// the language engine).
include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The file at `path`, if there is one (`/index.html` is `/`).
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = if path == "/index.html" { "/" } else { path };
    ASSETS.iter().find(|asset| asset.path == path)
}

/// Answers a request for one of the web app's files: GET and HEAD only;
/// 304 when the browser has this version; 404 otherwise, in the API's
/// error shape under `/api/`.
pub fn answer<B>(request: &Request<B>) -> Response<Vec<u8>> {
    let path = request.uri().path();
    let head = request.method() == Method::HEAD;
    let response = match find(path) {
        _ if !(request.method() == Method::GET || head) => {
            let mut response = error(
                StatusCode::METHOD_NOT_ALLOWED,
                path,
                "method_not_allowed",
                "only GET and HEAD",
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            response
        }
        None => error(StatusCode::NOT_FOUND, path, "not_found", "no such page"),
        Some(asset) if fresh(request, asset) => {
            with_type(StatusCode::NOT_MODIFIED, asset, Vec::new())
        }
        Some(asset) => {
            let body = if head {
                Vec::new()
            } else {
                asset.body.to_vec()
            };
            let mut response = with_type(StatusCode::OK, asset, body);
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(asset.body.len()));
            response
        }
    };
    secured(response)
}

fn fresh<B>(request: &Request<B>, asset: &Asset) -> bool {
    request
        .headers()
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| tag.trim() == asset.etag || tag.trim() == "*")
}

fn with_type(status: StatusCode, asset: &Asset, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(ETAG, HeaderValue::from_static(asset.etag));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn error(status: StatusCode, path: &str, code: &str, message: &str) -> Response<Vec<u8>> {
    let (body, content_type) = if path.starts_with("/api/") {
        (
            format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#),
            "application/json",
        )
    } else {
        (format!("{message}\n"), "text/plain; charset=utf-8")
    };
    let mut response = Response::new(body.into_bytes());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn secured(mut response: Response<Vec<u8>>) -> Response<Vec<u8>> {
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Request<()> {
        Request::get(path).body(()).expect("a request")
    }

    fn header<'a>(response: &'a Response<Vec<u8>>, name: &str) -> &'a str {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    #[test]
    fn the_page_and_its_files_are_served_with_their_types() {
        let page = answer(&get("/"));
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        assert!(
            String::from_utf8_lossy(page.body())
                .contains("<script type=\"module\" src=\"/app.js\">")
        );
        let script = answer(&get("/app.js"));
        assert_eq!(
            header(&script, "content-type"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            header(&script, "content-length"),
            script.body().len().to_string()
        );
        assert_eq!(answer(&get("/index.html")).body(), page.body());
    }

    #[test]
    fn every_answer_carries_the_policy() {
        for path in ["/", "/style.css", "/nothing", "/api/nothing"] {
            let response = answer(&get(path));
            assert_eq!(
                header(&response, "content-security-policy"),
                CONTENT_SECURITY_POLICY
            );
            assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        }
        // WebAssembly may be compiled (the language engine); nothing else
        // unsafe: no eval, no inline script or style.
        let unsafe_sources = CONTENT_SECURITY_POLICY.matches("unsafe").count();
        assert_eq!(
            unsafe_sources,
            CONTENT_SECURITY_POLICY
                .matches("'wasm-unsafe-eval'")
                .count()
        );
        assert_eq!(unsafe_sources, 1);
    }

    #[test]
    fn no_file_has_inline_script_or_style() {
        let page = String::from_utf8_lossy(find("/").map_or(&[][..], |a| a.body));
        assert!(
            !page.contains("<script>") && !page.contains(" style=") && !page.contains("<style")
        );
        let handlers = page.split(" on").skip(1).filter(|rest| {
            let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        });
        assert_eq!(handlers.count(), 0, "no inline event handlers");
        for asset in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let text = String::from_utf8_lossy(asset.body);
            assert!(
                !text.contains("innerHTML"),
                "{} renders text only",
                asset.path
            );
            assert!(!text.contains("eval("), "{}", asset.path);
        }
    }

    #[test]
    fn the_service_worker_keeps_every_file_for_offline_use() {
        let worker = find("/sw.js").map(|sw| String::from_utf8_lossy(sw.body));
        let worker = worker.unwrap_or_else(|| panic!("the service worker is served"));
        let files = worker
            .split_once("const FILES = [")
            .and_then(|(_, rest)| rest.split_once("];"))
            .map(|(list, _)| list)
            .unwrap_or_else(|| panic!("sw.js lists its FILES"));
        let kept: Vec<&str> = files
            .split(',')
            .map(|file| file.trim().trim_matches('"'))
            .filter(|file| !file.is_empty())
            .collect();
        let served: Vec<&str> = (ASSETS.iter())
            .map(|asset| asset.path)
            .filter(|path| *path != "/sw.js")
            .collect();
        assert_eq!(kept, served);
    }

    #[test]
    fn a_browser_with_this_version_gets_304() {
        let etag = header(&answer(&get("/app.js")), "etag").to_owned();
        assert!(etag.starts_with('"') && etag.len() == 18);
        let again = Request::get("/app.js")
            .header("if-none-match", format!("\"x\", {etag}"))
            .body(())
            .expect("a request");
        let response = answer(&again);
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert!(response.body().is_empty());
        let stale = Request::get("/app.js")
            .header("if-none-match", "\"0\"")
            .body(())
            .expect("a request");
        assert_eq!(answer(&stale).status(), StatusCode::OK);
    }

    #[test]
    fn files_have_distinct_tags() {
        let mut tags: Vec<_> = ASSETS.iter().map(|a| a.etag).collect();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), ASSETS.len());
    }

    #[test]
    fn unknown_paths_and_methods_are_refused() {
        let missing = answer(&get("/nothing"));
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let api = answer(&get("/api/x/nothing"));
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            api.body(),
            br#"{"error":{"code":"not_found","message":"no such page"}}"#
        );
        let post = answer(&Request::post("/").body(()).expect("a request"));
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(header(&post, "allow"), "GET, HEAD");
        let head = answer(&Request::head("/").body(()).expect("a request"));
        assert_eq!(head.status(), StatusCode::OK);
        assert!(head.body().is_empty() && header(&head, "content-length") != "0");
    }
}
