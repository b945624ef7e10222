//! Lists the web app's files for `lib.rs` (`assets.rs`: each with its
//! type and ETag, the FNV-1a hash of its bytes) and builds the page's
//! language engine (`crates/language-web`) for `wasm32-wasip1`
//! with the `page` profile, in a target folder of its own (a nested cargo
//! must not wait on this build's lock).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where each file is served, its file in `web/`, its media type.
const FILES: &[(&str, &str, &str)] = &[
    ("/", "index.html", "text/html; charset=utf-8"),
    ("/app.js", "app.js", JS),
    ("/api.js", "api.js", JS),
    ("/dom.js", "dom.js", JS),
    ("/tasks.js", "tasks.js", JS),
    ("/chat.js", "chat.js", JS),
    ("/panels.js", "panels.js", JS),
    ("/lists.js", "lists.js", JS),
    ("/push.js", "push.js", JS),
    ("/keys.js", "keys.js", JS),
    ("/language.js", "language.js", JS),
    ("/outbox.js", "outbox.js", JS),
    ("/quick.js", "quick.js", JS),
    ("/sw.js", "sw.js", JS),
    ("/style.css", "style.css", "text/css; charset=utf-8"),
    ("/icon.svg", "icon.svg", "image/svg+xml"),
    ("/icon-192.png", "icon-192.png", "image/png"),
    ("/icon-512.png", "icon-512.png", "image/png"),
    (
        "/manifest.webmanifest",
        "manifest.webmanifest",
        "application/manifest+json",
    ),
];

const JS: &str = "text/javascript; charset=utf-8";

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.join("../..");
    let mut assets: Vec<(&str, PathBuf, &str)> = (FILES.iter())
        .map(|(path, file, kind)| (*path, root.join("web").join(file), *kind))
        .collect();
    assets.push(("/language.wasm", language_engine(&root), "application/wasm"));
    let mut listed =
        String::from("/// Every file of the web app.\npub const ASSETS: &[Asset] = &[\n");
    for (path, file, kind) in &assets {
        println!("cargo:rerun-if-changed={}", file.display());
        let bytes =
            std::fs::read(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        listed.push_str(&format!(
            "    Asset {{ path: {path:?}, content_type: {kind:?}, body: include_bytes!({file:?}), \
             etag: \"\\\"{:016x}\\\"\" }},\n",
            fnv1a(&bytes),
            file = file.display().to_string(),
        ));
    }
    listed.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("assets.rs");
    std::fs::write(&out, listed).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

/// The FNV-1a hash (64 bits) of `bytes`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Builds `crates/language-web` for the page: the module's path.
fn language_engine(root: &Path) -> PathBuf {
    for watched in [
        "crates/language/src",
        "crates/language-web/src",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("language-web"),
        None => root.join("target/language-web"),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(root)
        .args(["build", "-p", "language-web", "--lib", "--profile", "page"])
        .args(["--target", "wasm32-wasip1", "--target-dir"])
        .arg(&target_dir);
    // What cargo set for this build is not the nested build's.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_") && name != "CARGO_HOME"
            || name.starts_with("RUSTC_")
            || name == "RUSTFLAGS"
        {
            build.env_remove(name.as_ref());
        }
    }
    if !build.status().is_ok_and(|status| status.success()) {
        panic!(
            "cannot build the page's language engine (crates/language-web) for \
             wasm32-wasip1: is the target installed? rustup target add wasm32-wasip1"
        );
    }
    target_dir.join("wasm32-wasip1/page/language_web.wasm")
}
