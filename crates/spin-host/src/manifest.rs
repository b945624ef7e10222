//! The parts of a Spin manifest (`spin_manifest_version = 2`) the host reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<String, VariableDef>,
    #[serde(default)]
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, ComponentDef>,
}

#[derive(Debug, Deserialize)]
pub struct Application {
    pub name: String,
}

/// An application variable: `{ default = "..." }` or `{ required = true }`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct VariableDef {
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

#[derive(Debug, Deserialize)]
pub struct HttpTrigger {
    pub route: RouteDef,
    pub component: String,
}

/// A route: a path pattern, or `{ private = true }` (reachable from no URL).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RouteDef {
    Path(String),
    Private { private: bool },
}

#[derive(Debug, Deserialize)]
pub struct ComponentDef {
    pub source: String,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

impl Manifest {
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
