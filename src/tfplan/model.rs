//! A Terraform plan as `terraform show -json PLANFILE` writes it (format 1.x): the resource
//! changes with their values before and after, which of those are known only after apply,
//! and the configuration's expressions that say what an unknown value will be.
//!
//! Only the members the preflight reads are modelled; everything else is ignored, so plans
//! of any 1.x format version and any provider parse.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// The plan's top level.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Plan {
    pub format_version: String,
    pub terraform_version: Option<String>,
    pub resource_changes: Vec<ResourceChange>,
    pub configuration: Option<Configuration>,
}

/// One resource instance's planned change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResourceChange {
    /// `module.vpc.aws_route_table.private[0]`.
    pub address: String,
    /// `module.vpc`, absent at the root.
    pub module_address: Option<String>,
    /// `managed` or `data`.
    pub mode: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
    /// The `count` index or `for_each` key, when there is one.
    pub index: Option<Value>,
    /// Set on an old object a replacement left behind (`create_before_destroy`).
    pub deposed: Option<String>,
    pub change: Change,
}

/// What Terraform will do with one resource instance.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Change {
    /// `["no-op"]`, `["create"]`, `["read"]`, `["update"]`, `["delete"]`,
    /// `["delete", "create"]` or `["create", "delete"]` (a replacement).
    pub actions: Vec<String>,
    pub before: Value,
    pub after: Value,
    /// The shape of `after`, with `true` where a value is known only after apply.
    pub after_unknown: Value,
}

impl Change {
    pub fn deletes(&self) -> bool {
        self.actions.iter().any(|a| a == "delete")
    }

    pub fn creates(&self) -> bool {
        self.actions.iter().any(|a| a == "create")
    }

    pub fn updates(&self) -> bool {
        self.actions.iter().any(|a| a == "update")
    }

    /// Whether the plan changes anything of this instance.
    pub fn changes(&self) -> bool {
        self.creates() || self.deletes() || self.updates()
    }
}

/// The configuration as Terraform read it: each module's resources with their expressions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Configuration {
    pub root_module: ConfigModule,
    /// Every module's resources by module path and address (`vpc.inner|aws_subnet.a`),
    /// built once by [`Plan::from_value`]: each attribute of each change looks one up.
    #[serde(skip)]
    by_address: std::collections::HashMap<String, ConfigResource>,
}

fn config_key(path: &[String], address: &str) -> String {
    format!("{}|{address}", path.join("."))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConfigModule {
    pub resources: Vec<ConfigResource>,
    pub module_calls: BTreeMap<String, ModuleCall>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ModuleCall {
    pub module: ConfigModule,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConfigResource {
    /// Relative to its module: `aws_route_table.private`.
    pub address: String,
    pub mode: String,
    /// Attribute → `{"constant_value": …}` or `{"references": [...]}`; a nested block is a
    /// list of such objects.
    pub expressions: serde_json::Map<String, Value>,
}

impl ResourceChange {
    /// The resource's address inside its module, without an index: how the configuration
    /// names it (`aws_route_table.private`).
    pub fn config_address(&self) -> String {
        format!("{}.{}", self.resource_type, self.name)
    }

    /// The module path as configuration keys: `module.a.module.b[0]` → `["a", "b"]`.
    pub fn module_path(&self) -> Vec<String> {
        module_path(self.module_address.as_deref().unwrap_or(""))
    }

    /// The module's address prefix for addresses relative to it (`module.vpc.` or empty).
    pub fn module_prefix(&self) -> String {
        match &self.module_address {
            Some(m) if !m.is_empty() => format!("{m}."),
            _ => String::new(),
        }
    }
}

/// `module.a.module.b["x"]` → `["a", "b"]` (instance keys dropped: every instance of a module
/// call shares its configuration).
pub fn module_path(module_address: &str) -> Vec<String> {
    let mut path = Vec::new();
    let mut rest = module_address;
    while let Some(after) = rest.strip_prefix("module.") {
        let end = after.find(['.', '[']).unwrap_or(after.len());
        path.push(after[..end].to_string());
        rest = &after[end..];
        if rest.starts_with('[') {
            rest = rest.find("].").map_or("", |i| &rest[i + 1..]);
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    path
}

impl Configuration {
    /// The configuration of the resource at `path`/`address`, when the plan carries it.
    pub fn resource(&self, path: &[String], address: &str) -> Option<&ConfigResource> {
        self.by_address.get(&config_key(path, address))
    }

    fn index(&mut self) {
        fn walk(
            module: &ConfigModule,
            path: &mut Vec<String>,
            into: &mut std::collections::HashMap<String, ConfigResource>,
        ) {
            for resource in module.resources.iter().filter(|r| r.mode != "data") {
                into.entry(config_key(path, &resource.address))
                    .or_insert_with(|| resource.clone());
            }
            for (name, call) in &module.module_calls {
                path.push(name.clone());
                walk(&call.module, path, into);
                path.pop();
            }
        }
        let mut by_address = std::collections::HashMap::new();
        walk(&self.root_module, &mut Vec::new(), &mut by_address);
        self.by_address = by_address;
    }
}

impl Plan {
    /// The plan in `value` (the JSON of `terraform show -json`), its configuration indexed.
    pub fn from_value(value: Value) -> Result<Plan, serde_json::Error> {
        let mut plan: Plan = serde_json::from_value(value)?;
        if let Some(configuration) = &mut plan.configuration {
            configuration.index();
            configuration.root_module = ConfigModule::default();
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths_drop_instance_keys() {
        assert_eq!(module_path(""), Vec::<String>::new());
        assert_eq!(module_path("module.vpc"), ["vpc"]);
        assert_eq!(
            module_path("module.net[\"eu.west\"].module.vpc[0]"),
            ["net", "vpc"]
        );
    }
}
