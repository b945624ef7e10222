//! The parts of a Spin manifest (`spin_manifest_version = 2`) the host reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// A Spin manifest, as far as the host reads it.
#[derive(Debug, Deserialize)]
pub struct Manifest {
    /// The manifest format version; only 2 is supported.
    pub spin_manifest_version: u32,
    /// The `[application]` table.
    pub application: Application,
    /// The application variables (`[variables]`), by name.
    #[serde(default)]
    pub variables: BTreeMap<String, VariableDef>,
    /// The `[trigger]` tables.
    #[serde(default)]
    pub trigger: Triggers,
    /// The components (`[component.<id>]`), by id.
    #[serde(default)]
    pub component: BTreeMap<String, ComponentDef>,
}

/// The `[application]` table.
#[derive(Debug, Deserialize)]
pub struct Application {
    /// The application's name.
    pub name: String,
}

/// An application variable: `{ default = "..." }` or `{ required = true }`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct VariableDef {
    /// The value used when the environment gives none.
    pub default: Option<String>,
    /// Whether a value must be given when there is no default.
    #[serde(default)]
    pub required: bool,
    /// Whether the value is secret; the host reads the flag but does not act on it.
    #[serde(default)]
    pub secret: bool,
}

/// The `[trigger]` tables, by kind.
#[derive(Debug, Default, Deserialize)]
pub struct Triggers {
    /// The HTTP triggers (`[[trigger.http]]`).
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

/// One `[[trigger.http]]` entry: a route and the component it leads to.
#[derive(Debug, Deserialize)]
pub struct HttpTrigger {
    /// The route that leads to the component.
    pub route: RouteDef,
    /// The id of the component that handles the route.
    pub component: String,
}

/// A route: a path pattern, or `{ private = true }` (reachable from no URL).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RouteDef {
    /// A path pattern such as `/api/...`.
    Path(String),
    /// A route reachable from no URL.
    Private {
        /// The `private` flag as written; the host skips the route either way.
        private: bool,
    },
}

/// A `[component.<id>]` table.
#[derive(Debug, Deserialize)]
pub struct ComponentDef {
    /// The component's Wasm file, relative to the manifest.
    pub source: String,
    /// The hosts the component may call, as `scheme://host[:port]` patterns that may use `{{ variable }}` templates.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables: each name with its template over the application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// The SQLite databases the component may open, by label.
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
}

impl Manifest {
    /// Reads and checks the manifest at `path`: version 2, and every trigger names a known component.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let manifest: Self =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if manifest.spin_manifest_version != 2 {
            bail!("only spin_manifest_version = 2 is supported");
        }
        for trigger in &manifest.trigger.http {
            if !manifest.component.contains_key(&trigger.component) {
                bail!(
                    "trigger for route {:?} names unknown component {:?}",
                    trigger.route,
                    trigger.component
                );
            }
        }
        Ok(manifest)
    }

    /// Where a component's Wasm file is: `source` is relative to the manifest.
    pub fn source_path(manifest_path: &Path, component: &ComponentDef) -> PathBuf {
        manifest_path
            .parent()
            .unwrap_or(Path::new("."))
            .join(&component.source)
    }
}
