//! Spin variables: application variables (`[variables]`, overridden by
//! `SPIN_VARIABLE_<NAME>` from the environment, as Spin's default provider
//! does) and component variables (`[component.x.variables]`), whose values are
//! templates over the application variables such as `"{{ auth_jwt_secret }}"`.

use std::collections::BTreeMap;

use anyhow::{Context, bail};

use crate::bindings::fermyon::spin::variables;
use crate::manifest::VariableDef;
use crate::state::HostState;

/// `fermyon:spin/variables@2.0.0`: a component reads its own variables.
impl variables::Host for HostState {
    fn get(&mut self, name: String) -> Result<String, variables::Error> {
        if check_name(&name).is_err() {
            return Err(variables::Error::InvalidName(name));
        }
        self.limits
            .variables
            .get(&name)
            .cloned()
            .ok_or(variables::Error::Undefined(name))
    }
}

/// The resolved application variables.
#[derive(Debug, Clone, Default)]
pub struct AppVariables(BTreeMap<String, String>);

impl AppVariables {
    /// Resolves every variable; a required one with no value is an error, as
    /// in Spin, which refuses to start.
    pub fn resolve(
        defs: &BTreeMap<String, VariableDef>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let mut values = BTreeMap::new();
        for (name, def) in defs {
            check_name(name)?;
            let value = env(&format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()))
                .or_else(|| def.default.clone());
            match value {
                Some(value) => {
                    values.insert(name.clone(), value);
                }
                None if def.required => bail!(
                    "variable {name} is required: set SPIN_VARIABLE_{}",
                    name.to_ascii_uppercase()
                ),
                None => {}
            }
        }
        Ok(Self(values))
    }

    /// Expands `{{ name }}` references to application variables.
    pub fn expand(&self, template: &str) -> anyhow::Result<String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .with_context(|| format!("unclosed {{{{ in {template:?}"))?;
            let name = after[..end].trim();
            let value = self.0.get(name).with_context(|| {
                format!("{template:?} uses variable {name}, which has no value")
            })?;
            out.push_str(value);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A component's variables, with their templates expanded.
    pub fn for_component(
        &self,
        templates: &BTreeMap<String, String>,
    ) -> anyhow::Result<BTreeMap<String, String>> {
        templates
            .iter()
            .map(|(name, template)| {
                check_name(name)?;
                Ok((name.clone(), self.expand(template)?))
            })
            .collect()
    }
}

/// Spin's rule for variable names: lower-case letters, digits and `_`,
/// starting with a letter.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        bail!(
            "variable name {name:?} must be lower-case letters, digits and _, starting with a letter"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs() -> BTreeMap<String, VariableDef> {
        BTreeMap::from([
            (
                "greeting".into(),
                VariableDef {
                    default: Some("hello".into()),
                    ..Default::default()
                },
            ),
            (
                "secret".into(),
                VariableDef {
                    required: true,
                    secret: true,
                    ..Default::default()
                },
            ),
        ])
    }

    #[test]
    fn environment_overrides_defaults() {
        let vars = AppVariables::resolve(&defs(), |name| match name {
            "SPIN_VARIABLE_SECRET" => Some("s3cret".into()),
            "SPIN_VARIABLE_GREETING" => Some("hi".into()),
            _ => None,
        })
        .expect("resolves");
        assert_eq!(
            vars.expand("{{ greeting }}, {{secret}}!").expect("expands"),
            "hi, s3cret!"
        );
    }

    #[test]
    fn a_required_variable_without_value_is_an_error() {
        let err = AppVariables::resolve(&defs(), |_| None).expect_err("secret is required");
        assert!(err.to_string().contains("SPIN_VARIABLE_SECRET"), "{err}");
    }

    #[test]
    fn component_templates_expand_over_app_variables() {
        let vars = AppVariables::resolve(&defs(), |n| {
            (n == "SPIN_VARIABLE_SECRET").then(|| "x".into())
        })
        .expect("ok");
        let templates = BTreeMap::from([(
            "dapr_url".to_owned(),
            "http://127.0.0.1:{{ greeting }}".to_owned(),
        )]);
        assert_eq!(
            vars.for_component(&templates)
                .expect("expands")
                .get("dapr_url")
                .map(String::as_str),
            Some("http://127.0.0.1:hello")
        );
        assert!(vars.expand("{{ missing }}").is_err());
        assert!(check_name("Bad-Name").is_err());
    }
}
