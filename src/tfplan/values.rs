//! What a planned attribute will be: the value the plan shows, or, where Terraform knows it
//! only after apply, the resource the configuration points it at (an association's
//! `route_table_id = aws_route_table.private_c.id` of a table the same plan creates). What
//! neither says is unknown, and a decision that needs it is not taken.

use std::collections::BTreeMap;

use serde_json::Value;

use super::model::{Plan, ResourceChange};

/// The ID prefix AWS gives each type the audit reads, so that a resource the plan creates
/// (and which has no ID yet) is recognised by the rules as what it is. The ID is the prefix
/// and the plan's address (`rtb-aws_route_table.private_c`); `ids::display` shows the
/// address alone.
pub fn id_prefix(resource_type: &str) -> Option<&'static str> {
    Some(match resource_type {
        "aws_vpc" => "vpc-",
        "aws_subnet" => "subnet-",
        "aws_route_table" => "rtb-",
        "aws_vpc_endpoint" => "vpce-",
        "aws_security_group" => "sg-",
        "aws_network_acl" => "acl-",
        "aws_nat_gateway" => "nat-",
        "aws_internet_gateway" => "igw-",
        "aws_egress_only_internet_gateway" => "eigw-",
        _ => return None,
    })
}

/// Every managed resource instance's ID after the plan (AWS's, when known) and its address.
#[derive(Debug, Default)]
pub struct Ids {
    by_address: BTreeMap<String, String>,
    by_id: std::collections::HashMap<String, String>,
    /// Placeholder ID → address, for what the plan creates: shown as the address.
    pub placeholders: BTreeMap<String, String>,
}

impl Ids {
    pub fn of(plan: &Plan) -> Ids {
        let mut ids = Ids::default();
        // A deposed object (an old one a replacement left behind) names no address's ID.
        for rc in plan
            .resource_changes
            .iter()
            .filter(|r| r.mode == "managed" && r.deposed.is_none())
        {
            let known = |v: &Value| {
                v.get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let id = match known(&rc.change.after).or_else(|| {
                (!rc.change.creates())
                    .then(|| known(&rc.change.before))
                    .flatten()
            }) {
                Some(id) => id,
                None => {
                    let placeholder = format!(
                        "{}{}",
                        id_prefix(&rc.resource_type).unwrap_or(""),
                        rc.address
                    );
                    ids.placeholders
                        .insert(placeholder.clone(), rc.address.clone());
                    placeholder
                }
            };
            ids.by_id.insert(id.clone(), rc.address.clone());
            ids.by_address.insert(rc.address.clone(), id);
        }
        ids
    }

    /// The plan's address of the resource with this ID (changed or not).
    pub fn address(&self, id: &str) -> Option<&str> {
        self.by_id.get(id).map(String::as_str)
    }

    pub fn id(&self, address: &str) -> Option<&str> {
        self.by_address.get(address).map(String::as_str)
    }

    /// The instances of a resource (`aws_route_table.private` with any index).
    fn instances<'a>(&'a self, base: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.by_address
            .range(base.to_string()..)
            .take_while(move |(a, _)| a.starts_with(base))
            .filter(move |(a, _)| a.len() == base.len() || a[base.len()..].starts_with('['))
            .map(|(a, id)| (a.as_str(), id.as_str()))
    }

    /// `text` with every placeholder ID replaced by the plan address it stands for.
    /// One pass over `text`, the longest placeholder at each place, so a placeholder inside
    /// another (`aws_subnet.a` in `aws_subnet.a1`, or in a `for_each` key) is left alone.
    pub fn display(&self, text: &str) -> String {
        let mut found: Vec<(usize, usize, &str)> = self
            .placeholders
            .iter()
            .filter(|(placeholder, _)| text.contains(placeholder.as_str()))
            .flat_map(|(placeholder, address)| {
                text.match_indices(placeholder.as_str())
                    .map(move |(at, _)| (at, at + placeholder.len(), address.as_str()))
            })
            .collect();
        if found.is_empty() {
            return text.to_string();
        }
        found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, address) in found {
            if start < at {
                continue;
            }
            out.push_str(&text[at..start]);
            out.push_str(address);
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// An attribute's value after the plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    Known(Value),
    /// Known only after apply, and the configuration does not say what it will be: why.
    Unknown(String),
}

/// Reads the attributes of one resource instance of `plan`.
pub struct Instance<'a> {
    pub rc: &'a ResourceChange,
    plan: &'a Plan,
    ids: &'a Ids,
}

/// Whether a value's `after_unknown` marks say any part of it is known only after apply.
pub fn contains_unknown(marks: &Value) -> bool {
    match marks {
        Value::Bool(b) => *b,
        Value::Array(items) => items.iter().any(contains_unknown),
        Value::Object(map) => map.values().any(contains_unknown),
        _ => false,
    }
}

impl<'a> Instance<'a> {
    pub fn new(rc: &'a ResourceChange, plan: &'a Plan, ids: &'a Ids) -> Instance<'a> {
        Instance { rc, plan, ids }
    }

    /// The instance's ID after the plan (AWS's, or its placeholder).
    pub fn id(&self) -> String {
        self.ids
            .id(&self.rc.address)
            .unwrap_or(&self.rc.address)
            .to_string()
    }

    /// A known string attribute, after the plan, of the resource whose placeholder is `id`.
    pub fn attribute_of(&self, id: &str, attribute: &str) -> Option<String> {
        let address = self.ids.placeholders.get(id)?;
        self.plan
            .resource_changes
            .iter()
            .find(|rc| &rc.address == address)?
            .change
            .after
            .get(attribute)?
            .as_str()
            .map(str::to_string)
    }

    /// Whether `id` stands for a resource the plan creates (it has no ID yet).
    pub fn is_placeholder(&self, id: &str) -> bool {
        self.ids.placeholders.contains_key(id)
    }

    /// The value before the plan (for a change that removes or replaces what was).
    pub fn before(&self, attribute: &str) -> Option<&'a Value> {
        self.rc
            .change
            .before
            .get(attribute)
            .filter(|v| !v.is_null())
    }

    /// `attribute` after the plan: the plan's value, else the configuration's references
    /// resolved to the IDs they name.
    pub fn get(&self, attribute: &str) -> Planned {
        let marks = self
            .rc
            .change
            .after_unknown
            .get(attribute)
            .unwrap_or(&Value::Null);
        if !contains_unknown(marks) {
            return Planned::Known(
                self.rc
                    .change
                    .after
                    .get(attribute)
                    .cloned()
                    .unwrap_or(Value::Null),
            );
        }
        let expression = self
            .plan
            .configuration
            .as_ref()
            .and_then(|c| c.resource(&self.rc.module_path(), &self.rc.config_address()))
            .and_then(|r| r.expressions.get(attribute));
        match expression {
            Some(expression) => match self.resolve(expression, attribute) {
                Planned::Known(value) => Planned::Known(with_known_elements(
                    self.rc.change.after.get(attribute),
                    marks,
                    value,
                )),
                unknown => unknown,
            },
            None => Planned::Unknown(format!(
                "{}.{attribute} is known only after apply, and the plan does not say where it comes from",
                self.rc.address
            )),
        }
    }

    /// Whether `attribute` is known only after apply because the configuration leaves it to
    /// AWS (the resource is in the configuration, the attribute is not): AWS's default, or
    /// for a block list (`route`, `egress`) what separate resources put there.
    pub fn left_to_aws(&self, attribute: &str) -> bool {
        let unknown = contains_unknown(
            self.rc
                .change
                .after_unknown
                .get(attribute)
                .unwrap_or(&Value::Null),
        );
        unknown
            && self
                .plan
                .configuration
                .as_ref()
                .and_then(|c| c.resource(&self.rc.module_path(), &self.rc.config_address()))
                .is_some_and(|r| !r.expressions.contains_key(attribute))
    }

    /// `attributes` after the plan, every one checked: known, or resolved through the
    /// configuration, or left to AWS (then absent); any other unknown is an error.
    pub fn resolved(&self, attributes: &[&str]) -> Result<serde_json::Map<String, Value>, String> {
        let mut out = serde_json::Map::new();
        for attribute in attributes {
            if self.left_to_aws(attribute) {
                continue;
            }
            match self.get(attribute) {
                Planned::Known(Value::Null) => {}
                Planned::Known(value) => {
                    out.insert((*attribute).to_string(), value);
                }
                Planned::Unknown(why) => return Err(why),
            }
        }
        Ok(out)
    }

    /// A string attribute (`None` when unset).
    pub fn text(&self, attribute: &str) -> Result<Option<String>, String> {
        match self.get(attribute) {
            Planned::Known(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
            Planned::Known(Value::Array(items)) if items.len() == 1 => {
                Ok(items[0].as_str().map(str::to_string))
            }
            // Several resources for one value (`coalesce(a.id, b.id)`): which is not known.
            Planned::Known(Value::Array(items)) if items.len() > 1 => Err(format!(
                "{}.{attribute} is known only after apply, and the configuration names {} resources for it",
                self.rc.address,
                items.len()
            )),
            Planned::Known(_) => Ok(None),
            Planned::Unknown(why) => Err(why),
        }
    }

    /// A list of strings (a set or list attribute).
    pub fn texts(&self, attribute: &str) -> Result<Vec<String>, String> {
        match self.get(attribute) {
            Planned::Known(Value::Array(items)) => Ok(items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()),
            Planned::Known(Value::String(s)) if !s.is_empty() => Ok(vec![s]),
            Planned::Known(_) => Ok(vec![]),
            Planned::Unknown(why) => Err(why),
        }
    }

    pub fn flag(&self, attribute: &str) -> Result<Option<bool>, String> {
        match self.get(attribute) {
            Planned::Known(v) => Ok(v.as_bool()),
            Planned::Unknown(why) => Err(why),
        }
    }

    /// A nested block list (`route`, `egress`, `network_configuration`): the plan's objects
    /// when every value in them is known.
    pub fn blocks(&self, attribute: &str) -> Result<Vec<serde_json::Map<String, Value>>, String> {
        if let Some(resolved) = self.nested_blocks(attribute) {
            return resolved;
        }
        match self.get(attribute) {
            Planned::Known(Value::Array(items)) => Ok(items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Object(map) => Some(map),
                    _ => None,
                })
                .collect()),
            Planned::Known(Value::Null) => Ok(vec![]),
            // Resolved to resource IDs: not blocks (never read as "no blocks").
            Planned::Known(_) => Err(format!(
                "{}.{attribute} is known only after apply, and its configuration does not say which value goes where",
                self.rc.address
            )),
            Planned::Unknown(why) => Err(why),
        }
    }

    /// A nested block (`network_configuration { subnets = [...] }`) with unknown values,
    /// resolved key by key: the configuration writes a nested block as a list of objects of
    /// expressions, one per block. `None` when the attribute is not such a block.
    fn nested_blocks(
        &self,
        attribute: &str,
    ) -> Option<Result<Vec<serde_json::Map<String, Value>>, String>> {
        let marks = self.rc.change.after_unknown.get(attribute)?.as_array()?;
        if !contains_unknown(&Value::Array(marks.clone())) {
            return None;
        }
        let expression = self
            .plan
            .configuration
            .as_ref()
            .and_then(|c| c.resource(&self.rc.module_path(), &self.rc.config_address()))
            .and_then(|r| r.expressions.get(attribute))?;
        let Some(expressions) = expression.as_array() else {
            // An attribute written as blocks (`route { … }`, `egress { … }`) has one
            // expression for all of them: it says which resources, not which key of which
            // block. It decides only a single unknown value.
            return Some(self.single_unknown_in_blocks(attribute, marks, expression));
        };
        let after = self
            .rc
            .change
            .after
            .get(attribute)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut blocks = Vec::new();
        for (i, mark) in marks.iter().enumerate() {
            let mut block = after
                .get(i)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (key, unknown) in mark.as_object().into_iter().flatten() {
                if !contains_unknown(unknown) {
                    continue;
                }
                let Some(expression) = expressions.get(i).and_then(|e| e.get(key)) else {
                    return Some(Err(format!(
                        "{}.{attribute}.{key} is known only after apply, and the plan does not say where it comes from",
                        self.rc.address
                    )));
                };
                match self.resolve(expression, &format!("{attribute}.{key}")) {
                    Planned::Known(value) => {
                        let value = with_known_elements(block.get(key), unknown, value);
                        // A list attribute stays a list when it names one resource.
                        let value = match (value, block.get(key)) {
                            (Value::String(s), Some(Value::Array(_)))
                            | (Value::String(s), None)
                                if key.ends_with('s') =>
                            {
                                Value::Array(vec![Value::String(s)])
                            }
                            (value, _) => value,
                        };
                        block.insert(key.clone(), value);
                    }
                    Planned::Unknown(why) => return Some(Err(why)),
                }
            }
            blocks.push(block);
        }
        Some(Ok(blocks))
    }

    fn single_unknown_in_blocks(
        &self,
        attribute: &str,
        marks: &[Value],
        expression: &Value,
    ) -> Result<Vec<serde_json::Map<String, Value>>, String> {
        let unknown: Vec<(usize, &String)> = marks
            .iter()
            .enumerate()
            .flat_map(|(i, mark)| {
                mark.as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, m)| contains_unknown(m))
                    .map(move |(key, _)| (i, key))
            })
            .collect();
        let undecided = || {
            format!(
                "{}.{attribute} is known only after apply, and its configuration does not say which value goes where",
                self.rc.address
            )
        };
        let [(index, key)] = unknown.as_slice() else {
            return Err(undecided());
        };
        let Planned::Known(Value::String(id)) = self.resolve(expression, attribute) else {
            return Err(undecided());
        };
        let mut blocks: Vec<serde_json::Map<String, Value>> = self
            .rc
            .change
            .after
            .get(attribute)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|b| b.as_object().cloned().unwrap_or_default())
            .collect();
        while blocks.len() <= *index {
            blocks.push(serde_json::Map::new());
        }
        blocks[*index].insert((*key).clone(), Value::String(id));
        Ok(blocks)
    }

    /// The IDs an expression's references name, when they are all resources of the plan.
    fn resolve(&self, expression: &Value, attribute: &str) -> Planned {
        let unknown = |what: &str| {
            Planned::Unknown(format!(
                "{}.{attribute} is known only after apply ({what})",
                self.rc.address
            ))
        };
        let references: Vec<&str> = match expression.get("references").and_then(Value::as_array) {
            Some(list) => list.iter().filter_map(Value::as_str).collect(),
            None if expression.is_array() => {
                return unknown("set by a nested block the plan does not resolve")
            }
            None => return unknown("computed by AWS"),
        };
        let per_instance = references
            .iter()
            .any(|r| *r == "count.index" || r.starts_with("each."));
        // (resource, attribute) for each reference: `aws_route_table.private_c.id` and
        // `aws_route_table.private_c` both come, the resource being the first two parts
        // (with its key when one is written).
        let mut named: Vec<(&str, Option<&str>)> = Vec::new();
        for reference in &references {
            if *reference == "count.index" || reference.starts_with("each.") {
                continue;
            }
            if [
                "var.",
                "local.",
                "module.",
                "data.",
                "path.",
                "terraform.",
                "self.",
            ]
            .iter()
            .any(|p| reference.starts_with(p))
            {
                return unknown(&format!("from {reference}"));
            }
            let base = resource_base(reference);
            let attribute = reference[base.len()..]
                .strip_prefix('.')
                .map(|rest| rest.split(['.', '[']).next().unwrap_or(rest));
            named.push((base, attribute));
        }
        // `x[0].id` comes with `x[0]` and `x`: the keyless one is the keyed one's parent.
        let keyed: Vec<&str> = named
            .iter()
            .filter_map(|(base, _)| base.split_once('[').map(|(parent, _)| parent))
            .collect();
        named.retain(|(base, _)| base.contains('[') || !keyed.contains(base));
        let mut bases: Vec<&str> = named.iter().map(|(base, _)| *base).collect();
        bases.dedup();
        bases.sort_unstable();
        bases.dedup();
        if bases.is_empty() {
            return unknown("no resource referenced");
        }
        if per_instance {
            // `private[count.index]`, `private[floor(count.index / 2)]`, `rt[each.value.x]`:
            // the reference does not say which instance, only that one is computed.
            return unknown("the instance it names depends on count.index or each");
        }
        let mut ids: Vec<String> = Vec::new();
        for base in bases {
            let attributes: Vec<&str> = named
                .iter()
                .filter(|(b, _)| *b == base)
                .filter_map(|(_, a)| *a)
                .collect();
            let resource_type = base.split('.').next().unwrap_or("");
            let is_id = |a: &&str| {
                *a == "id"
                    || (*a == "arn" && resource_type.starts_with("aws_ecs_"))
                    || (*a == "name" && resource_type == "aws_ecs_cluster")
            };
            match attributes.iter().find(|a| !is_id(a)) {
                Some(other) => return unknown(&format!("from {base}.{other}, not its ID")),
                None if attributes.is_empty() => {
                    let format = &self.plan.format_version;
                    return unknown(&if format.starts_with("0.") {
                        format!("from {base}: a plan of format {format} does not record which attribute")
                    } else {
                        format!("from {base}, no attribute of it named")
                    });
                }
                None => {}
            }
            let full = format!("{}{base}", self.rc.module_prefix());
            let id = match self.ids.id(&full) {
                Some(id) => id.to_string(),
                None => {
                    let instances: Vec<(&str, &str)> = self.ids.instances(&full).collect();
                    match instances.as_slice() {
                        [(_, id)] => id.to_string(),
                        [] => return unknown(&format!("{full} is not in the plan")),
                        more => {
                            return unknown(&format!(
                                "{full} has {} instances and the reference does not say which",
                                more.len()
                            ))
                        }
                    }
                }
            };
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.len() == 1 {
            Planned::Known(Value::String(ids.remove(0)))
        } else {
            Planned::Known(Value::Array(ids.into_iter().map(Value::String).collect()))
        }
    }
}

/// A list the plan knows in part (`["subnet-1", (known after apply)]`, marked per element):
/// its known elements and what the references resolved to, each once.
fn with_known_elements(after: Option<&Value>, marks: &Value, resolved: Value) -> Value {
    let (Some(Value::Array(items)), Value::Array(marks)) = (after, marks) else {
        return resolved;
    };
    let mut merged: Vec<Value> = items
        .iter()
        .zip(marks)
        .filter(|(item, mark)| !contains_unknown(mark) && !item.is_null())
        .map(|(item, _)| item.clone())
        .collect();
    let resolved = match resolved {
        Value::Array(list) => list,
        one => vec![one],
    };
    for value in resolved {
        if !merged.contains(&value) {
            merged.push(value);
        }
    }
    Value::Array(merged)
}

/// `aws_route_table.private_c.id` → `aws_route_table.private_c`; `aws_subnet.a[0].id` →
/// `aws_subnet.a[0]`.
fn resource_base(reference: &str) -> &str {
    let mut dots = 0;
    let mut depth = 0;
    for (i, c) in reference.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => {
                dots += 1;
                if dots == 2 {
                    return &reference[..i];
                }
            }
            _ => {}
        }
    }
    reference
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_its_resource() {
        assert_eq!(
            resource_base("aws_route_table.private_c.id"),
            "aws_route_table.private_c"
        );
        assert_eq!(resource_base("aws_subnet.a[0].id"), "aws_subnet.a[0]");
        assert_eq!(
            resource_base("aws_subnet.a[\"x.y\"].id"),
            "aws_subnet.a[\"x.y\"]"
        );
        assert_eq!(resource_base("aws_vpc.main"), "aws_vpc.main");
    }
}
