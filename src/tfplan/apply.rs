//! The network as it will be after a plan: the view of today (live or a snapshot) with
//! every change of the resource types that decide a pull path applied, as AWS will apply
//! it (a new route table holds the local route; a gateway endpoint's tables get its
//! prefix-list route; a new security group has no egress until rules give it some).
//!
//! A value the plan knows only after apply, and whose source the configuration does not
//! name, is never guessed: the VPC it is in is marked not inspected, so its hops are
//! `unknown`, never `ok`.

use serde_json::{Map, Value};

use super::model::{Plan, ResourceChange};
use super::values::{Ids, Instance};
use crate::network::{
    AwsVpcConfiguration, BoolValue, CapacityProviderItem, CidrBlockAssociation, CidrIpRef,
    CidrIpv6Ref, ContainerDefinition, EcsNetworkConfiguration, EcsService, GroupPair, GroupRef,
    IgwAttachment, InspectionError, InternetGateway, IpPermission, NaclAssociation, NaclEntry,
    NatGateway, NetworkAcl, NetworkView, PortRange, PrefixListRef, Route, RouteTable,
    RouteTableAssociation, SecurityGroup, Subnet, Tag, TaskDefinition, Vpc, VpcAttributes,
    VpcEndpoint,
};

/// The resource types read, in the order their changes are applied: containers before what
/// they contain, so a rule is added to a group the plan has just created.
pub const READ_TYPES: &[&str] = &[
    "aws_vpc",
    "aws_subnet",
    "aws_internet_gateway",
    "aws_egress_only_internet_gateway",
    "aws_nat_gateway",
    "aws_route_table",
    "aws_route",
    "aws_route_table_association",
    "aws_main_route_table_association",
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_egress_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_endpoint",
    "aws_vpc_endpoint_route_table_association",
    "aws_vpc_endpoint_subnet_association",
    "aws_vpc_endpoint_security_group_association",
    "aws_network_acl",
    "aws_network_acl_rule",
    "aws_network_acl_association",
    "aws_ecs_task_definition",
    "aws_ecs_service",
];

/// The scope of what is undecided in a VPC the plan creates (no existing VPC has this ID).
pub const NEW_VPC_SCOPE: &str = "a VPC known only after apply";

/// The inspection error's action for a value the plan knows only after apply.
pub const PLAN_ACTION: &str = "terraform plan";

/// Types that change a pull path but are not modelled: a change to one leaves its VPC's
/// paths undecided (never "not read"). The default ACL, table and group (which Terraform
/// adopts rather than creates), an endpoint's separate policy, a managed prefix list a rule
/// may name, DHCP options (DNS), and a VPC's added CIDR blocks (local routes).
pub const UNMODELLED_TYPES: &[&str] = &[
    "aws_default_network_acl",
    "aws_default_route_table",
    "aws_default_security_group",
    "aws_vpc_endpoint_policy",
    "aws_ec2_managed_prefix_list",
    "aws_ec2_managed_prefix_list_entry",
    "aws_vpc_dhcp_options_association",
    "aws_vpc_ipv4_cidr_block_association",
    "aws_vpc_ipv6_cidr_block_association",
];

/// The network after the plan, and what the plan did not let it decide.
#[derive(Debug, Default)]
pub struct Applied {
    pub view: NetworkView,
    pub ids: Ids,
    /// Addresses of changed resources of types the audit does not read.
    pub ignored: Vec<String>,
    /// Addresses of the ECS services and task definitions the plan adds or changes.
    pub services_changed: Vec<(String, String)>,
}

/// Applies `plan` to `before` (the account as it is, or a snapshot of it).
pub fn apply(plan: &Plan, before: &NetworkView) -> Applied {
    let ids = Ids::of(plan);
    let ruled = ruled(plan, &ids);
    let mut view = before.clone();
    view.index = Default::default();
    let mut ignored = Vec::new();
    let mut services_changed = Vec::new();
    let managed: Vec<&ResourceChange> = plan
        .resource_changes
        .iter()
        .filter(|rc| rc.mode == "managed" && rc.change.changes())
        .collect();
    for rc in &managed {
        let kind = rc.resource_type.as_str();
        if UNMODELLED_TYPES.contains(&kind) {
            let instance = Instance::new(rc, plan, &ids);
            let editor = Editor {
                view: &mut view,
                instance: &instance,
                ruled: &ruled,
            };
            let scope = editor.scope();
            let why = format!(
                "{} changes a {kind}, which the audit does not model: its VPC's paths are not decided",
                rc.address
            );
            mark_unknown(&mut view, rc, why, scope);
        } else if !READ_TYPES.contains(&kind) {
            ignored.push(rc.address.clone());
        }
    }
    for resource_type in READ_TYPES {
        for rc in managed
            .iter()
            .filter(|rc| rc.resource_type == *resource_type)
        {
            let instance = Instance::new(rc, plan, &ids);
            let mut editor = Editor {
                view: &mut view,
                instance: &instance,
                ruled: &ruled,
            };
            if let Err(why) = editor.apply() {
                let scope = editor.scope();
                mark_unknown(&mut view, rc, why, scope);
            }
            if matches!(
                rc.resource_type.as_str(),
                "aws_ecs_service" | "aws_ecs_task_definition"
            ) {
                services_changed.push((rc.resource_type.clone(), rc.address.clone()));
            }
        }
    }
    view.index = Default::default();
    Applied {
        view,
        ids,
        ignored,
        services_changed,
    }
}

/// The VPC of the resource with `id` in one part of the view, as it stands mid-apply (the
/// view's index would be stale: every change edits the view).
fn vpc_of<T>(
    part: &Option<Vec<T>>,
    id: &str,
    id_and_vpc: impl Fn(&T) -> (&String, &Option<String>),
) -> Option<String> {
    part.iter()
        .flatten()
        .map(&id_and_vpc)
        .find(|(found, _)| found.as_str() == id)
        .and_then(|(_, vpc)| vpc.clone())
}

/// The resource with `id` in one part of the view, to edit; an error names it when neither
/// the account nor the plan holds it.
fn found_mut<'v, T>(
    part: &'v mut Option<Vec<T>>,
    id: &str,
    id_of: impl Fn(&T) -> &String,
    what: &str,
) -> Result<&'v mut T, String> {
    part.get_or_insert_with(Vec::new)
        .iter_mut()
        .find(|x| id_of(x) == id)
        .ok_or_else(|| format!("{what} {id} is neither in the account nor in the plan"))
}

fn mark_unknown(view: &mut NetworkView, rc: &ResourceChange, why: String, scope: Option<String>) {
    view.inspection_errors
        .get_or_insert_with(Vec::new)
        .push(InspectionError {
            part: format!("Plan ({})", rc.address),
            action: PLAN_ACTION.into(),
            message: why,
            scope,
        });
}

struct Editor<'v, 'p> {
    view: &'v mut NetworkView,
    instance: &'p Instance<'p>,
    /// The groups and ACLs that separate rule resources of the plan name.
    ruled: &'p std::collections::HashSet<String>,
}

/// The rule resources that keep a group's or an ACL's rules apart from it.
const RULE_LINKS: &[(&str, &str)] = &[
    ("aws_security_group_rule", "security_group_id"),
    ("aws_vpc_security_group_egress_rule", "security_group_id"),
    ("aws_vpc_security_group_ingress_rule", "security_group_id"),
    ("aws_network_acl_rule", "network_acl_id"),
];

/// The groups and ACLs that rule resources of the plan name, found once.
fn ruled(plan: &Plan, ids: &Ids) -> std::collections::HashSet<String> {
    plan.resource_changes
        .iter()
        .filter(|rc| rc.mode == "managed")
        .filter_map(|rc| {
            let (_, link) = RULE_LINKS
                .iter()
                .find(|(kind, _)| *kind == rc.resource_type)?;
            Instance::new(rc, plan, ids).text(link).ok().flatten()
        })
        .collect()
}

type Applies = Result<(), String>;

fn parse_port(value: Option<&Value>) -> Option<i32> {
    match value? {
        Value::Number(n) => n.as_i64().map(|n| n as i32),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn string(block: &Map<String, Value>, key: &str) -> Option<String> {
    block
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Terraform's protocol words as the EC2 API spells them.
fn sg_protocol(protocol: &str) -> String {
    match protocol.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        other => other.to_string(),
    }
}

fn nacl_protocol(protocol: &str) -> String {
    match protocol.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".into(),
        "tcp" => "6".into(),
        "udp" => "17".into(),
        "icmp" => "1".into(),
        other => other.to_string(),
    }
}

/// One inline `ingress`/`egress` block of `aws_security_group` as the API's permission.
fn sg_block(block: &Map<String, Value>, own_id: &str) -> IpPermission {
    let mut groups: Vec<GroupPair> = strings(block.get("security_groups"))
        .into_iter()
        .map(|group_id| GroupPair { group_id })
        .collect();
    if block.get("self").and_then(Value::as_bool) == Some(true) {
        groups.push(GroupPair {
            group_id: own_id.to_string(),
        });
    }
    let protocol = sg_protocol(
        block
            .get("protocol")
            .and_then(Value::as_str)
            .unwrap_or("-1"),
    );
    // Every protocol has no ports: the API leaves them out where Terraform writes 0.
    let all = protocol == "-1";
    IpPermission {
        from_port: parse_port(block.get("from_port")).filter(|_| !all),
        to_port: parse_port(block.get("to_port")).filter(|_| !all),
        ip_protocol: protocol,
        ip_ranges: strings(block.get("cidr_blocks"))
            .into_iter()
            .map(|cidr_ip| CidrIpRef { cidr_ip })
            .collect(),
        ipv6_ranges: strings(block.get("ipv6_cidr_blocks"))
            .into_iter()
            .map(|cidr_ipv6| CidrIpv6Ref { cidr_ipv6 })
            .collect(),
        prefix_list_ids: strings(block.get("prefix_list_ids"))
            .into_iter()
            .map(|prefix_list_id| PrefixListRef { prefix_list_id })
            .collect(),
        user_id_group_pairs: groups,
    }
}

fn nacl_block(block: &Map<String, Value>, egress: bool) -> NaclEntry {
    let from = parse_port(block.get("from_port")).unwrap_or(0);
    let to = parse_port(block.get("to_port")).unwrap_or(0);
    NaclEntry {
        rule_number: parse_port(block.get("rule_no").or(block.get("rule_number"))).unwrap_or(0),
        protocol: nacl_protocol(
            block
                .get("protocol")
                .and_then(Value::as_str)
                .unwrap_or("-1"),
        ),
        rule_action: string(block, "action")
            .or_else(|| string(block, "rule_action"))
            .unwrap_or_else(|| "deny".into())
            .to_ascii_lowercase(),
        egress,
        cidr_block: string(block, "cidr_block"),
        ipv6_cidr_block: string(block, "ipv6_cidr_block"),
        port_range: (from != 0 || to != 0).then_some(PortRange { from, to }),
    }
}

/// The entry AWS ends every network ACL with: what no rule allows is denied.
fn final_denies() -> Vec<NaclEntry> {
    [false, true]
        .into_iter()
        .map(|egress| NaclEntry {
            rule_number: 32767,
            protocol: "-1".into(),
            rule_action: "deny".into(),
            egress,
            cidr_block: Some("0.0.0.0/0".into()),
            ..NaclEntry::default()
        })
        .collect()
}

fn route_of(block: &Map<String, Value>) -> Route {
    Route {
        destination_cidr_block: string(block, "cidr_block")
            .or_else(|| string(block, "destination_cidr_block")),
        destination_ipv6_cidr_block: string(block, "ipv6_cidr_block")
            .or_else(|| string(block, "destination_ipv6_cidr_block")),
        destination_prefix_list_id: string(block, "destination_prefix_list_id"),
        gateway_id: string(block, "gateway_id").or_else(|| string(block, "vpc_endpoint_id")),
        nat_gateway_id: string(block, "nat_gateway_id"),
        network_interface_id: string(block, "network_interface_id"),
        instance_id: string(block, "instance_id"),
        transit_gateway_id: string(block, "transit_gateway_id"),
        vpc_peering_connection_id: string(block, "vpc_peering_connection_id"),
        egress_only_internet_gateway_id: string(block, "egress_only_gateway_id"),
        local_gateway_id: string(block, "local_gateway_id"),
        carrier_gateway_id: string(block, "carrier_gateway_id"),
        core_network_arn: string(block, "core_network_arn"),
        state: Some("active".into()),
        origin: Some("CreateRoute".into()),
    }
}

fn same_destination(a: &Route, b: &Route) -> bool {
    a.destination() == b.destination()
}

fn name_tag(instance: &Instance) -> Vec<Tag> {
    match instance.get("tags") {
        super::values::Planned::Known(Value::Object(tags)) => tags
            .get("Name")
            .and_then(Value::as_str)
            .map(|name| {
                vec![Tag {
                    key: "Name".into(),
                    value: name.to_string(),
                }]
            })
            .unwrap_or_default(),
        _ => vec![],
    }
}

impl Editor<'_, '_> {
    /// The VPC a failure to decide is scoped to: the resource's own, its subnet's or its
    /// table's; `None` (the whole view) when even that is unknown.
    fn scope(&self) -> Option<String> {
        let i = self.instance;
        if let Ok(Some(vpc)) = i.text("vpc_id") {
            return Some(vpc);
        }
        let mut new_only = false;
        for (attribute, find) in [
            (
                "subnet_id",
                Self::vpc_of_subnet as fn(&Self, &str) -> Option<String>,
            ),
            ("route_table_id", Self::vpc_of_table),
            ("security_group_id", Self::vpc_of_group),
            ("network_acl_id", Self::vpc_of_acl),
            ("default_network_acl_id", Self::vpc_of_acl),
            ("default_route_table_id", Self::vpc_of_table),
            ("vpc_endpoint_id", Self::vpc_of_endpoint),
        ] {
            if let Ok(Some(id)) = i.text(attribute) {
                if let Some(vpc) = find(self, &id) {
                    return Some(vpc);
                }
                // A resource the plan creates and could not place: in a new VPC.
                new_only |= i.is_placeholder(&id);
            }
        }
        new_only.then(|| NEW_VPC_SCOPE.to_string())
    }

    fn vpc_of_subnet(&self, id: &str) -> Option<String> {
        vpc_of(&self.view.subnets, id, |s| (&s.subnet_id, &s.vpc_id))
    }

    fn vpc_of_endpoint(&self, id: &str) -> Option<String> {
        vpc_of(&self.view.vpc_endpoints, id, |e| {
            (&e.vpc_endpoint_id, &e.vpc_id)
        })
    }

    fn vpc_of_table(&self, id: &str) -> Option<String> {
        vpc_of(&self.view.route_tables, id, |t| {
            (&t.route_table_id, &t.vpc_id)
        })
    }

    fn vpc_of_group(&self, id: &str) -> Option<String> {
        vpc_of(&self.view.security_groups, id, |g| (&g.group_id, &g.vpc_id))
    }

    fn vpc_of_acl(&self, id: &str) -> Option<String> {
        vpc_of(&self.view.network_acls, id, |a| {
            (&a.network_acl_id, &a.vpc_id)
        })
    }

    fn apply(&mut self) -> Applies {
        match self.instance.rc.resource_type.as_str() {
            "aws_vpc" => self.vpc(),
            "aws_subnet" => self.subnet(),
            "aws_internet_gateway" => self.internet_gateway(),
            // Only ever a route's target: the route says all the audit needs.
            "aws_egress_only_internet_gateway" => Ok(()),
            "aws_nat_gateway" => self.nat_gateway(),
            "aws_route_table" => self.route_table(),
            "aws_route" => self.route(),
            "aws_route_table_association" => self.route_table_association(),
            "aws_main_route_table_association" => self.main_route_table_association(),
            "aws_security_group" => self.security_group(),
            "aws_security_group_rule" => self.security_group_rule(),
            "aws_vpc_security_group_egress_rule" => self.vpc_security_group_rule(true),
            "aws_vpc_security_group_ingress_rule" => self.vpc_security_group_rule(false),
            "aws_vpc_endpoint" => self.vpc_endpoint(),
            "aws_vpc_endpoint_route_table_association" => self.endpoint_route_table(),
            "aws_vpc_endpoint_subnet_association" => self.endpoint_subnet(),
            "aws_vpc_endpoint_security_group_association" => self.endpoint_group(),
            "aws_network_acl" => self.network_acl(),
            "aws_network_acl_rule" => self.network_acl_rule(),
            "aws_network_acl_association" => self.network_acl_association(),
            "aws_ecs_task_definition" => self.task_definition(),
            "aws_ecs_service" => self.service(),
            _ => Ok(()),
        }
    }

    fn creates(&self) -> bool {
        self.instance.rc.change.creates()
    }

    /// The ID the resource had before the plan, when it existed.
    fn old_id(&self) -> Option<String> {
        self.instance
            .before("id")
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    fn vpc(&mut self) -> Applies {
        let (old, id) = (self.old_id(), self.instance.id());
        let vpcs = self.view.vpcs.get_or_insert_with(Vec::new);
        vpcs.retain(|v| Some(&v.vpc_id) != old.as_ref() && v.vpc_id != id);
        let attributes = self.view.vpc_attributes.get_or_insert_with(Vec::new);
        attributes
            .retain(|a| a.vpc_id.as_ref() != old.as_ref() && a.vpc_id.as_deref() != Some(&id));
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let cidr = self.instance.text("cidr_block")?;
        let dns_support = self.flag_or("enable_dns_support", true)?;
        let dns_hostnames = self.flag_or("enable_dns_hostnames", false)?;
        let vpcs = self.view.vpcs.get_or_insert_with(Vec::new);
        vpcs.push(Vpc {
            vpc_id: id.clone(),
            cidr_block: cidr.clone(),
            cidr_block_association_set: cidr
                .into_iter()
                .map(|c| CidrBlockAssociation {
                    cidr_block: Some(c),
                    cidr_block_state: None,
                })
                .collect(),
            ..Vpc::default()
        });
        self.view
            .vpc_attributes
            .get_or_insert_with(Vec::new)
            .push(VpcAttributes {
                vpc_id: Some(id),
                enable_dns_support: Some(BoolValue { value: dns_support }),
                enable_dns_hostnames: Some(BoolValue {
                    value: dns_hostnames,
                }),
            });
        Ok(())
    }

    fn subnet(&mut self) -> Applies {
        let (old, id) = (self.old_id(), self.instance.id());
        let subnets = self.view.subnets.get_or_insert_with(Vec::new);
        subnets.retain(|s| Some(&s.subnet_id) != old.as_ref() && s.subnet_id != id);
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let subnet = Subnet {
            subnet_id: id,
            vpc_id: self.instance.text("vpc_id")?,
            cidr_block: self.instance.text("cidr_block")?,
            availability_zone: self.optional_text("availability_zone")?,
            map_public_ip_on_launch: self.flag_or("map_public_ip_on_launch", false)?,
            tags: name_tag(self.instance),
        };
        self.view.subnets.get_or_insert_with(Vec::new).push(subnet);
        Ok(())
    }

    fn internet_gateway(&mut self) -> Applies {
        let (old, id) = (self.old_id(), self.instance.id());
        let gateways = self.view.internet_gateways.get_or_insert_with(Vec::new);
        gateways.retain(|g| {
            Some(&g.internet_gateway_id) != old.as_ref() && g.internet_gateway_id != id
        });
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let vpc = self.instance.text("vpc_id")?;
        self.view
            .internet_gateways
            .get_or_insert_with(Vec::new)
            .push(InternetGateway {
                internet_gateway_id: id,
                attachments: vpc
                    .into_iter()
                    .map(|vpc_id| IgwAttachment {
                        vpc_id: Some(vpc_id),
                        state: Some("available".into()),
                    })
                    .collect(),
            });
        Ok(())
    }

    fn nat_gateway(&mut self) -> Applies {
        let (old, id) = (self.old_id(), self.instance.id());
        let gateways = self.view.nat_gateways.get_or_insert_with(Vec::new);
        gateways.retain(|g| Some(&g.nat_gateway_id) != old.as_ref() && g.nat_gateway_id != id);
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let subnet = self.instance.text("subnet_id")?;
        let vpc_id = subnet.as_deref().and_then(|s| self.vpc_of_subnet(s));
        let connectivity_type = self
            .optional_text("connectivity_type")?
            .unwrap_or_else(|| "public".into());
        self.view
            .nat_gateways
            .get_or_insert_with(Vec::new)
            .push(NatGateway {
                nat_gateway_id: id,
                state: Some("available".into()),
                subnet_id: subnet,
                vpc_id,
                connectivity_type: Some(connectivity_type),
                ..NatGateway::default()
            });
        Ok(())
    }

    fn table_mut(&mut self, id: &str) -> Result<&mut RouteTable, String> {
        found_mut(
            &mut self.view.route_tables,
            id,
            |x| &x.route_table_id,
            "route table",
        )
    }

    fn route_table(&mut self) -> Applies {
        let (old, id) = (self.old_id(), self.instance.id());
        let kept = self
            .view
            .route_tables
            .iter()
            .flatten()
            .find(|t| Some(&t.route_table_id) == old.as_ref() || t.route_table_id == id)
            .cloned();
        let tables = self.view.route_tables.get_or_insert_with(Vec::new);
        tables.retain(|t| Some(&t.route_table_id) != old.as_ref() && t.route_table_id != id);
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let vpc_id = self.instance.text("vpc_id")?;
        let before_routes: Vec<Route> = self
            .instance
            .before("route")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|b| b.as_object().map(route_of))
            .collect();
        // A new table: the local route, then its inline routes (the plan's own `aws_route`s,
        // associations and endpoints come after). Terraform shows an unconfigured `route`
        // as known after apply; what AWS puts there is the local route alone.
        let inline: Vec<Route> = self.blocks_or_none("route")?.iter().map(route_of).collect();
        let table = match (kept, self.creates() && !self.instance.rc.change.updates()) {
            (Some(mut table), false) => {
                // An update: the routes the plan removes from or adds to the inline set.
                table.routes.retain(|r| {
                    !before_routes.iter().any(|b| same_destination(b, r))
                        || inline.iter().any(|n| same_destination(n, r))
                });
                for route in inline {
                    table.routes.retain(|r| !same_destination(r, &route));
                    table.routes.push(route);
                }
                table.route_table_id = id;
                table
            }
            _ => {
                // The VPC's local routes (every CIDR of it), as its other tables hold them;
                // else from the VPC's primary CIDR.
                let sibling: Vec<Route> = self
                    .view
                    .route_tables
                    .iter()
                    .flatten()
                    .filter(|t| vpc_id.is_some() && t.vpc_id == vpc_id)
                    .flat_map(|t| t.routes.iter())
                    .filter(|r| r.gateway_id.as_deref() == Some("local"))
                    .fold(Vec::new(), |mut seen: Vec<Route>, r| {
                        if !seen.iter().any(|s| same_destination(s, r)) {
                            seen.push(r.clone());
                        }
                        seen
                    });
                let local: Vec<Route> = if sibling.is_empty() {
                    vpc_id
                        .as_deref()
                        .and_then(|v| self.view.vpcs.iter().flatten().find(|x| x.vpc_id == v))
                        .and_then(|v| v.cidr_block.clone())
                        .map(|cidr| Route {
                            destination_cidr_block: Some(cidr),
                            gateway_id: Some("local".into()),
                            state: Some("active".into()),
                            origin: Some("CreateRouteTable".into()),
                            ..Route::default()
                        })
                        .into_iter()
                        .collect()
                } else {
                    sibling
                };
                RouteTable {
                    route_table_id: id,
                    vpc_id,
                    routes: local.into_iter().chain(inline).collect(),
                    associations: vec![],
                }
            }
        };
        self.view
            .route_tables
            .get_or_insert_with(Vec::new)
            .push(table);
        Ok(())
    }

    /// An optional value the configuration may leave out (AWS computes it, or separate
    /// resources of the plan fill it): `None` then.
    fn optional_text(&self, attribute: &str) -> Result<Option<String>, String> {
        if self.instance.left_to_aws(attribute) {
            return Ok(None);
        }
        self.instance.text(attribute)
    }

    /// A list the configuration may leave out (filled by association resources): empty then.
    fn optional_texts(&self, attribute: &str) -> Result<Vec<String>, String> {
        if self.instance.left_to_aws(attribute) {
            return Ok(vec![]);
        }
        self.instance.texts(attribute)
    }

    /// A flag the configuration may leave to AWS's `default`.
    fn flag_or(&self, attribute: &str, default: bool) -> Result<bool, String> {
        if self.instance.left_to_aws(attribute) {
            return Ok(default);
        }
        Ok(self.instance.flag(attribute)?.unwrap_or(default))
    }

    /// A block list the configuration may leave out (`route`, `ingress`, `egress`): then
    /// only separate resources of the plan fill it, and a new resource starts with none.
    fn blocks_or_none(&self, attribute: &str) -> Result<Vec<Map<String, Value>>, String> {
        if self.instance.left_to_aws(attribute) && self.creates() {
            return Ok(vec![]);
        }
        self.instance.blocks(attribute)
    }

    /// A new group's or ACL's inline rules when the configuration does not write them. The
    /// plan's configuration leaves out `dynamic` blocks, so "none" and "dynamic rules known
    /// after apply" look the same: none is taken only when separate rule resources of the
    /// plan name it (rules kept apart from it); else its rules are undecided.
    fn rules_or_none(&self, attribute: &str) -> Result<Vec<Map<String, Value>>, String> {
        if self.instance.left_to_aws(attribute) && self.creates() {
            if self.ruled.contains(&self.instance.id()) {
                return Ok(vec![]);
            }
            return Err(format!(
                "{}.{attribute} is known only after apply: the configuration does not write it, or writes it as a dynamic block, which a plan does not record",
                self.instance.rc.address
            ));
        }
        self.instance.blocks(attribute)
    }

    fn route(&mut self) -> Applies {
        if let Some(before) = self.instance.rc.change.before.as_object() {
            let route = route_of(before);
            if let Some(table) = string(before, "route_table_id") {
                if let Ok(table) = self.table_mut(&table) {
                    table.routes.retain(|r| !same_destination(r, &route));
                }
            }
        }
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let table = self
            .instance
            .text("route_table_id")?
            .ok_or("a route without a route table")?;
        let mut block = Map::new();
        for attribute in [
            "destination_cidr_block",
            "destination_ipv6_cidr_block",
            "destination_prefix_list_id",
            "gateway_id",
            "nat_gateway_id",
            "network_interface_id",
            "transit_gateway_id",
            "vpc_peering_connection_id",
            "egress_only_gateway_id",
            "vpc_endpoint_id",
            "local_gateway_id",
            "carrier_gateway_id",
            "core_network_arn",
        ] {
            if self.instance.left_to_aws(attribute) {
                continue;
            }
            if let Some(value) = self.instance.text(attribute)? {
                block.insert(attribute.into(), Value::String(value));
            }
        }
        let route = route_of(&block);
        let table = self.table_mut(&table)?;
        table.routes.retain(|r| !same_destination(r, &route));
        table.routes.push(route);
        Ok(())
    }

    fn route_table_association(&mut self) -> Applies {
        // Removed (or replaced): only this association; another of the plan may already
        // hold the subnet (a rename deletes one and creates another).
        if let Some(before) = self.instance.rc.change.before.as_object() {
            let id = string(before, "id");
            let table_id = string(before, "route_table_id");
            let subnet = string(before, "subnet_id");
            let gateway = string(before, "gateway_id");
            for table in self.view.route_tables.iter_mut().flatten() {
                let in_table = table_id.as_deref() == Some(table.route_table_id.as_str());
                table.associations.retain(|a| {
                    let same = match (&a.route_table_association_id, &id) {
                        (Some(mine), Some(theirs)) => mine == theirs,
                        _ => {
                            in_table
                                && ((subnet.is_some() && a.subnet_id == subnet)
                                    || (gateway.is_some() && a.gateway_id == gateway))
                        }
                    };
                    a.main || !same
                });
            }
        }
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let table = self
            .instance
            .text("route_table_id")?
            .ok_or("an association without a route table")?;
        let subnet = self.instance.text("subnet_id")?;
        let gateway = self.instance.text("gateway_id")?;
        for other in self.view.route_tables.iter_mut().flatten() {
            other.associations.retain(|a| {
                a.main
                    || (subnet.is_none() || a.subnet_id != subnet)
                        && (gateway.is_none() || a.gateway_id != gateway)
            });
        }
        let id = self.instance.id();
        self.table_mut(&table)?
            .associations
            .push(RouteTableAssociation {
                main: false,
                subnet_id: subnet,
                gateway_id: gateway,
                route_table_association_id: Some(id),
                association_state: None,
            });
        Ok(())
    }

    fn main_route_table_association(&mut self) -> Applies {
        let (vpc, table) = match self.instance.rc.change.after.as_object() {
            Some(_) => (
                self.instance.text("vpc_id")?,
                self.instance.text("route_table_id")?,
            ),
            // Removing it makes the VPC's original main table main again.
            None => (
                self.instance
                    .before("vpc_id")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                self.instance
                    .before("original_route_table_id")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            ),
        };
        let (Some(vpc), Some(table)) = (vpc, table) else {
            return Err(format!(
                "{}: the VPC or the route table is not known",
                self.instance.rc.address
            ));
        };
        for other in self.view.route_tables.iter_mut().flatten() {
            if other.vpc_id.as_deref() == Some(vpc.as_str()) {
                other.associations.retain(|a| !a.main);
            }
        }
        self.table_mut(&table)?
            .associations
            .push(RouteTableAssociation {
                main: true,
                ..RouteTableAssociation::default()
            });
        Ok(())
    }

    fn group_mut(&mut self, id: &str) -> Result<&mut SecurityGroup, String> {
        found_mut(
            &mut self.view.security_groups,
            id,
            |x| &x.group_id,
            "security group",
        )
    }

    fn security_group(&mut self) -> Applies {
        let (old, id) = (self.old_id(), self.instance.id());
        let groups = self.view.security_groups.get_or_insert_with(Vec::new);
        groups.retain(|g| Some(&g.group_id) != old.as_ref() && g.group_id != id);
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        // Terraform removes the egress rule AWS adds to a new group: `egress` is all it has.
        let ingress = self.rules_or_none("ingress")?;
        let egress = self.rules_or_none("egress")?;
        let group = SecurityGroup {
            group_id: id.clone(),
            group_name: self.instance.text("name").unwrap_or(None),
            vpc_id: self.instance.text("vpc_id")?,
            ip_permissions: ingress.iter().map(|b| sg_block(b, &id)).collect(),
            ip_permissions_egress: egress.iter().map(|b| sg_block(b, &id)).collect(),
        };
        self.view
            .security_groups
            .get_or_insert_with(Vec::new)
            .push(group);
        Ok(())
    }

    /// Adds (or with `remove`, takes away) one rule's permission on its group.
    fn edit_rule(
        &mut self,
        group: &str,
        egress: bool,
        permission: IpPermission,
        remove: bool,
    ) -> Applies {
        let group = self.group_mut(group)?;
        let rules = if egress {
            &mut group.ip_permissions_egress
        } else {
            &mut group.ip_permissions
        };
        if remove {
            let all = permission.ip_protocol == "-1";
            for rule in rules.iter_mut().filter(|r| {
                r.ip_protocol == permission.ip_protocol
                    && (all
                        || (r.from_port == permission.from_port && r.to_port == permission.to_port))
            }) {
                rule.ip_ranges.retain(|x| !permission.ip_ranges.contains(x));
                rule.ipv6_ranges
                    .retain(|x| !permission.ipv6_ranges.contains(x));
                rule.prefix_list_ids
                    .retain(|x| !permission.prefix_list_ids.contains(x));
                rule.user_id_group_pairs
                    .retain(|x| !permission.user_id_group_pairs.contains(x));
            }
            rules.retain(|r| {
                !(r.ip_ranges.is_empty()
                    && r.ipv6_ranges.is_empty()
                    && r.prefix_list_ids.is_empty()
                    && r.user_id_group_pairs.is_empty())
            });
        } else {
            rules.push(permission);
        }
        Ok(())
    }

    fn security_group_rule(&mut self) -> Applies {
        let rule_of = |object: &Map<String, Value>, own: &str| {
            let mut block = object.clone();
            if let Some(source) = string(object, "source_security_group_id") {
                block.insert(
                    "security_groups".into(),
                    Value::Array(vec![Value::String(source)]),
                );
            }
            (
                string(object, "type").as_deref() == Some("egress"),
                sg_block(&block, own),
            )
        };
        if let Some(before) = self.instance.rc.change.before.as_object() {
            if let Some(group) = string(before, "security_group_id") {
                let (egress, permission) = rule_of(before, &group);
                // The group may be gone with it.
                let _ = self.edit_rule(&group, egress, permission, true);
            }
        }
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let group = self
            .instance
            .text("security_group_id")?
            .ok_or("a rule without a security group")?;
        let mut after = self.instance.resolved(&[
            "type",
            "protocol",
            "from_port",
            "to_port",
            "cidr_blocks",
            "ipv6_cidr_blocks",
            "prefix_list_ids",
            "source_security_group_id",
            "self",
        ])?;
        if let Some(Value::String(list)) = after.get("prefix_list_ids").cloned() {
            after.insert(
                "prefix_list_ids".into(),
                Value::Array(vec![Value::String(list)]),
            );
        }
        let (egress, permission) = rule_of(&after, &group);
        self.edit_rule(&group, egress, permission, false)
    }

    fn vpc_security_group_rule(&mut self, egress: bool) -> Applies {
        let permission_of = |object: &Map<String, Value>| {
            let mut block = Map::new();
            block.insert(
                "protocol".into(),
                object.get("ip_protocol").cloned().unwrap_or(Value::Null),
            );
            for port in ["from_port", "to_port"] {
                if let Some(v) = object.get(port) {
                    block.insert(port.into(), v.clone());
                }
            }
            let list = |key: &str| match string(object, key) {
                Some(v) => Value::Array(vec![Value::String(v)]),
                None => Value::Array(vec![]),
            };
            block.insert("cidr_blocks".into(), list("cidr_ipv4"));
            block.insert("ipv6_cidr_blocks".into(), list("cidr_ipv6"));
            block.insert("prefix_list_ids".into(), list("prefix_list_id"));
            block.insert(
                "security_groups".into(),
                list("referenced_security_group_id"),
            );
            sg_block(&block, "")
        };
        if let Some(before) = self.instance.rc.change.before.as_object() {
            if let Some(group) = string(before, "security_group_id") {
                let _ = self.edit_rule(&group, egress, permission_of(before), true);
            }
        }
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let group = self
            .instance
            .text("security_group_id")?
            .ok_or("a rule without a security group")?;
        let after = self.instance.resolved(&[
            "ip_protocol",
            "from_port",
            "to_port",
            "cidr_ipv4",
            "cidr_ipv6",
            "prefix_list_id",
            "referenced_security_group_id",
        ])?;
        self.edit_rule(&group, egress, permission_of(&after), false)
    }

    fn endpoint_mut(&mut self, id: &str) -> Result<&mut VpcEndpoint, String> {
        found_mut(
            &mut self.view.vpc_endpoints,
            id,
            |x| &x.vpc_endpoint_id,
            "VPC endpoint",
        )
    }

    /// The prefix list AWS routes a gateway endpoint's service through.
    fn prefix_list_of(&self, service_name: &str) -> String {
        self.view
            .prefix_lists
            .iter()
            .flatten()
            .find(|p| p.prefix_list_name.as_deref() == Some(service_name))
            .map(|p| p.prefix_list_id.clone())
            .or_else(|| {
                self.instance
                    .rc
                    .change
                    .after
                    .get("prefix_list_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| format!("pl-{service_name}"))
    }

    /// Sets the gateway endpoint's prefix-list route in exactly its tables.
    fn sync_gateway_routes(&mut self, endpoint: &str) -> Applies {
        let Some(found) = self
            .view
            .vpc_endpoints
            .iter()
            .flatten()
            .find(|e| e.vpc_endpoint_id == endpoint)
            .cloned()
        else {
            return Ok(());
        };
        if !found.is_gateway() {
            return Ok(());
        }
        let prefix_list = self.prefix_list_of(found.service_name.as_deref().unwrap_or(""));
        for table in self.view.route_tables.iter_mut().flatten() {
            table
                .routes
                .retain(|r| r.gateway_id.as_deref() != Some(endpoint));
            if found.route_table_ids.contains(&table.route_table_id) {
                table.routes.push(Route {
                    destination_prefix_list_id: Some(prefix_list.clone()),
                    gateway_id: Some(endpoint.to_string()),
                    state: Some("active".into()),
                    origin: Some("CreateRoute".into()),
                    ..Route::default()
                });
            }
        }
        Ok(())
    }

    fn vpc_endpoint(&mut self) -> Applies {
        let (old, id) = (self.old_id(), self.instance.id());
        let endpoints = self.view.vpc_endpoints.get_or_insert_with(Vec::new);
        endpoints.retain(|e| Some(&e.vpc_endpoint_id) != old.as_ref() && e.vpc_endpoint_id != id);
        for gone in [old.clone(), Some(id.clone())].into_iter().flatten() {
            for table in self.view.route_tables.iter_mut().flatten() {
                table
                    .routes
                    .retain(|r| r.gateway_id.as_deref() != Some(gone.as_str()));
            }
        }
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let endpoint_type = self
            .instance
            .text("vpc_endpoint_type")?
            .unwrap_or_else(|| "Gateway".into());
        let gateway = endpoint_type.eq_ignore_ascii_case("gateway");
        // A gateway endpoint's tables, or an interface endpoint's subnets and groups, may
        // come from separate association resources: those are applied after this one.
        let endpoint = VpcEndpoint {
            vpc_endpoint_id: id.clone(),
            vpc_endpoint_type: Some(endpoint_type),
            vpc_id: self.instance.text("vpc_id")?,
            service_name: self.instance.text("service_name")?,
            state: Some("available".into()),
            policy_document: match self.instance.left_to_aws("policy") {
                true => None,
                false => self.instance.text("policy")?,
            },
            route_table_ids: if gateway {
                self.optional_texts("route_table_ids")?
            } else {
                vec![]
            },
            subnet_ids: if gateway {
                vec![]
            } else {
                self.optional_texts("subnet_ids")?
            },
            groups: if gateway {
                vec![]
            } else {
                self.optional_texts("security_group_ids")?
                    .into_iter()
                    .map(|group_id| GroupRef {
                        group_id,
                        group_name: None,
                    })
                    .collect()
            },
            private_dns_enabled: if gateway {
                None
            } else {
                Some(self.flag_or("private_dns_enabled", false)?)
            },
            network_interface_ids: vec![],
        };
        self.view
            .vpc_endpoints
            .get_or_insert_with(Vec::new)
            .push(endpoint);
        self.sync_gateway_routes(&id)
    }

    fn endpoint_route_table(&mut self) -> Applies {
        if let Some(before) = self.instance.rc.change.before.as_object() {
            if let (Some(endpoint), Some(table)) = (
                string(before, "vpc_endpoint_id"),
                string(before, "route_table_id"),
            ) {
                if let Ok(found) = self.endpoint_mut(&endpoint) {
                    found.route_table_ids.retain(|t| *t != table);
                }
                self.sync_gateway_routes(&endpoint)?;
            }
        }
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let endpoint = self
            .instance
            .text("vpc_endpoint_id")?
            .ok_or("an association without an endpoint")?;
        let table = self
            .instance
            .text("route_table_id")?
            .ok_or("an association without a route table")?;
        let found = self.endpoint_mut(&endpoint)?;
        if !found.route_table_ids.contains(&table) {
            found.route_table_ids.push(table);
        }
        self.sync_gateway_routes(&endpoint)
    }

    fn endpoint_subnet(&mut self) -> Applies {
        self.endpoint_member("subnet_id", |e| &mut e.subnet_ids)
    }

    fn endpoint_group(&mut self) -> Applies {
        if let Some(before) = self.instance.rc.change.before.as_object() {
            if let (Some(endpoint), Some(group)) = (
                string(before, "vpc_endpoint_id"),
                string(before, "security_group_id"),
            ) {
                if let Ok(found) = self.endpoint_mut(&endpoint) {
                    found.groups.retain(|g| g.group_id != group);
                }
            }
        }
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let endpoint = self
            .instance
            .text("vpc_endpoint_id")?
            .ok_or("an association without an endpoint")?;
        let group = self
            .instance
            .text("security_group_id")?
            .ok_or("an association without a security group")?;
        let found = self.endpoint_mut(&endpoint)?;
        if !found.groups.iter().any(|g| g.group_id == group) {
            found.groups.push(GroupRef {
                group_id: group,
                group_name: None,
            });
        }
        Ok(())
    }

    fn endpoint_member(
        &mut self,
        attribute: &str,
        list: fn(&mut VpcEndpoint) -> &mut Vec<String>,
    ) -> Applies {
        if let Some(before) = self.instance.rc.change.before.as_object() {
            if let (Some(endpoint), Some(member)) =
                (string(before, "vpc_endpoint_id"), string(before, attribute))
            {
                if let Ok(found) = self.endpoint_mut(&endpoint) {
                    list(found).retain(|m| *m != member);
                }
            }
        }
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let endpoint = self
            .instance
            .text("vpc_endpoint_id")?
            .ok_or("an association without an endpoint")?;
        let member = self
            .instance
            .text(attribute)?
            .ok_or_else(|| format!("an association without its {attribute}"))?;
        let found = list(self.endpoint_mut(&endpoint)?);
        if !found.contains(&member) {
            found.push(member);
        }
        Ok(())
    }

    fn acl_mut(&mut self, id: &str) -> Result<&mut NetworkAcl, String> {
        found_mut(
            &mut self.view.network_acls,
            id,
            |x| &x.network_acl_id,
            "network ACL",
        )
    }

    /// Moves `subnet` to `acl`, or back to its VPC's default ACL when `acl` is `None`.
    fn associate_acl(&mut self, subnet: &str, acl: Option<&str>) {
        let vpc = self.vpc_of_subnet(subnet);
        let acls = self.view.network_acls.get_or_insert_with(Vec::new);
        for other in acls.iter_mut() {
            other
                .associations
                .retain(|a| a.subnet_id.as_deref() != Some(subnet));
        }
        let target = acls.iter_mut().find(|a| match acl {
            Some(id) => a.network_acl_id == id,
            None => a.is_default && a.vpc_id == vpc,
        });
        if let Some(target) = target {
            target.associations.push(NaclAssociation {
                network_acl_association_id: None,
                network_acl_id: Some(target.network_acl_id.clone()),
                subnet_id: Some(subnet.to_string()),
            });
        }
    }

    fn network_acl(&mut self) -> Applies {
        let (old, id) = (self.old_id(), self.instance.id());
        let before_subnets = strings(self.instance.before("subnet_ids"));
        let kept = self
            .view
            .network_acls
            .iter()
            .flatten()
            .find(|a| Some(&a.network_acl_id) == old.as_ref() || a.network_acl_id == id)
            .cloned();
        let acls = self.view.network_acls.get_or_insert_with(Vec::new);
        acls.retain(|a| Some(&a.network_acl_id) != old.as_ref() && a.network_acl_id != id);
        if self.instance.rc.change.after.is_null() {
            for subnet in before_subnets {
                self.associate_acl(&subnet, None);
            }
            return Ok(());
        }
        let ingress = self.rules_or_none("ingress")?;
        let egress = self.rules_or_none("egress")?;
        let subnets = self.optional_texts("subnet_ids")?;
        let mut entries: Vec<NaclEntry> = ingress
            .iter()
            .map(|b| nacl_block(b, false))
            .chain(egress.iter().map(|b| nacl_block(b, true)))
            .collect();
        entries.extend(final_denies());
        let acl = NetworkAcl {
            network_acl_id: id.clone(),
            vpc_id: self.instance.text("vpc_id")?,
            is_default: kept.as_ref().is_some_and(|k| k.is_default),
            entries,
            associations: vec![],
        };
        self.view
            .network_acls
            .get_or_insert_with(Vec::new)
            .push(acl);
        for subnet in before_subnets.iter().filter(|s| !subnets.contains(s)) {
            self.associate_acl(subnet, None);
        }
        for subnet in &subnets {
            self.associate_acl(subnet, Some(&id));
        }
        Ok(())
    }

    fn network_acl_rule(&mut self) -> Applies {
        if let Some(before) = self.instance.rc.change.before.as_object() {
            if let Some(acl) = string(before, "network_acl_id") {
                let egress = before
                    .get("egress")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let number = parse_port(before.get("rule_number")).unwrap_or(-1);
                if let Ok(acl) = self.acl_mut(&acl) {
                    acl.entries
                        .retain(|e| !(e.egress == egress && e.rule_number == number));
                }
            }
        }
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let acl = self
            .instance
            .text("network_acl_id")?
            .ok_or("a rule without a network ACL")?;
        let after = self.instance.resolved(&[
            "rule_number",
            "egress",
            "protocol",
            "rule_action",
            "cidr_block",
            "ipv6_cidr_block",
            "from_port",
            "to_port",
        ])?;
        let egress = after
            .get("egress")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let entry = nacl_block(&after, egress);
        let acl = self.acl_mut(&acl)?;
        acl.entries
            .retain(|e| !(e.egress == egress && e.rule_number == entry.rule_number));
        acl.entries.push(entry);
        Ok(())
    }

    fn network_acl_association(&mut self) -> Applies {
        // Removed: the subnet goes back to the default ACL, unless another association of
        // the plan has already moved it (a rename: delete one, create another).
        if let (Some(subnet), Some(acl)) = (
            self.instance.before("subnet_id").and_then(Value::as_str),
            self.instance
                .before("network_acl_id")
                .and_then(Value::as_str),
        ) {
            let (subnet, acl) = (subnet.to_string(), acl.to_string());
            let still_there = self.view.network_acls.iter().flatten().any(|a| {
                a.network_acl_id == acl
                    && a.associations
                        .iter()
                        .any(|x| x.subnet_id.as_deref() == Some(subnet.as_str()))
            });
            if still_there {
                self.associate_acl(&subnet, None);
            }
        }
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let acl = self
            .instance
            .text("network_acl_id")?
            .ok_or("an association without a network ACL")?;
        let subnet = self
            .instance
            .text("subnet_id")?
            .ok_or("an association without a subnet")?;
        self.acl_mut(&acl)?;
        self.associate_acl(&subnet, Some(&acl));
        Ok(())
    }

    /// The task definition's ID after the plan: its ARN when known, else `family:planned`.
    fn task_definition(&mut self) -> Applies {
        let old = self.old_id();
        let definitions = self.view.task_definitions.get_or_insert_with(Vec::new);
        if let Some(old) = &old {
            // A replaced revision stays registered (ECS keeps it) unless the plan deletes it
            // for good; either way services name what they run.
            if self.instance.rc.change.after.is_null() {
                definitions.retain(|d| !d.is_named(old));
            }
        }
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let family = self
            .instance
            .text("family")?
            .ok_or("a task definition without a family")?;
        let containers = self
            .instance
            .text("container_definitions")?
            .ok_or("a task definition without containers")?;
        let containers: Vec<ContainerDefinition> =
            serde_json::from_str(&containers).map_err(|e| {
                format!(
                    "{}: container_definitions is not JSON ({e})",
                    self.instance.rc.address
                )
            })?;
        let arn = self.instance.id();
        definitions.retain(|d| d.task_definition_arn.as_deref() != Some(arn.as_str()));
        definitions.push(TaskDefinition {
            task_definition_arn: Some(arn),
            family: Some(family),
            revision: None,
            network_mode: self.instance.text("network_mode").unwrap_or(None),
            container_definitions: containers,
        });
        Ok(())
    }

    fn service(&mut self) -> Applies {
        let old_name = self
            .instance
            .before("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        let old_cluster = self
            .instance
            .before("cluster")
            .and_then(Value::as_str)
            .map(str::to_string);
        let services = self.view.services.get_or_insert_with(Vec::new);
        if let (Some(name), Some(cluster)) = (&old_name, &old_cluster) {
            services.retain(|s| {
                !(s.service_name.as_deref() == Some(name.as_str())
                    && s.cluster_arn.as_deref().map(crate::network::cluster_name)
                        == Some(crate::network::cluster_name(cluster)))
            });
        }
        if self.instance.rc.change.after.is_null() {
            return Ok(());
        }
        let name = self
            .instance
            .text("name")?
            .ok_or("a service without a name")?;
        let cluster = self
            .instance
            .text("cluster")?
            .ok_or("a service without a cluster")?;
        // A cluster the plan creates is named by its `name` (its ARN is known after apply).
        let cluster = match self.instance.is_placeholder(&cluster) {
            true => self
                .instance
                .attribute_of(&cluster, "name")
                .unwrap_or(cluster),
            false => cluster,
        };
        let task_definition = self.instance.text("task_definition")?;
        let network = self.instance.blocks("network_configuration")?;
        let awsvpc = network.first().map(|block| AwsVpcConfiguration {
            subnets: strings(block.get("subnets")),
            security_groups: strings(block.get("security_groups")),
            assign_public_ip: Some(
                if block.get("assign_public_ip").and_then(Value::as_bool) == Some(true) {
                    "ENABLED"
                } else {
                    "DISABLED"
                }
                .into(),
            ),
        });
        let strategy: Vec<CapacityProviderItem> = self
            .blocks_or_none("capacity_provider_strategy")?
            .iter()
            .filter_map(|b| string(b, "capacity_provider"))
            .map(|capacity_provider| CapacityProviderItem { capacity_provider })
            .collect();
        let launch_type = self.optional_text("launch_type")?;
        self.view
            .services
            .get_or_insert_with(Vec::new)
            .push(EcsService {
                service_name: Some(name),
                cluster_arn: Some(cluster),
                status: Some("ACTIVE".into()),
                launch_type,
                capacity_provider_strategy: strategy,
                task_definition,
                network_configuration: awsvpc.map(|a| EcsNetworkConfiguration {
                    awsvpc_configuration: Some(a),
                }),
                ..EcsService::default()
            });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn view() -> NetworkView {
        serde_json::from_value(json!({
            "Subnets": [{"SubnetId": "subnet-a", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"}],
            "RouteTables": [{"RouteTableId": "rtb-a", "VpcId": "vpc-1",
                "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"},
                           {"DestinationPrefixListId": "pl-s3", "GatewayId": "vpce-s3"}],
                "Associations": [{"Main": false, "SubnetId": "subnet-a"}]}],
            "VpcEndpoints": [{"VpcEndpointId": "vpce-s3", "VpcEndpointType": "Gateway", "VpcId": "vpc-1",
                "ServiceName": "com.amazonaws.eu-west-1.s3", "RouteTableIds": ["rtb-a"]}],
            "PrefixLists": [{"PrefixListId": "pl-s3", "PrefixListName": "com.amazonaws.eu-west-1.s3", "Cidrs": ["52.218.0.0/17"]}],
            "SecurityGroups": []
        }))
        .unwrap()
    }

    fn plan(changes: serde_json::Value, resources: serde_json::Value) -> Plan {
        Plan::from_value(json!({
            "format_version": "1.2",
            "resource_changes": changes,
            "configuration": {"root_module": {"resources": resources}}
        }))
        .unwrap()
    }

    fn change(
        address: &str,
        actions: &[&str],
        before: serde_json::Value,
        after: serde_json::Value,
        unknown: serde_json::Value,
    ) -> serde_json::Value {
        let (resource_type, name) = address.split_once('.').unwrap();
        let name = name.split('[').next().unwrap();
        json!({"address": address, "mode": "managed", "type": resource_type, "name": name,
               "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown}})
    }

    fn configured(address: &str, expressions: serde_json::Value) -> serde_json::Value {
        json!({"address": address, "mode": "managed", "expressions": expressions})
    }

    /// What AWS does with a new table (the local route only, whatever `route` shows) and
    /// with a gateway endpoint's new association (the prefix-list route), resolved through
    /// the configuration's references.
    #[test]
    fn a_new_table_has_the_local_route_until_the_endpoint_is_associated_with_it() {
        let changes = json!([
            change(
                "aws_route_table.b",
                &["create"],
                json!(null),
                json!({"vpc_id": "vpc-1"}),
                json!({"id": true, "route": true})
            ),
            change(
                "aws_route_table_association.b",
                &["create"],
                json!(null),
                json!({"subnet_id": "subnet-a"}),
                json!({"id": true, "route_table_id": true})
            ),
        ]);
        let config = json!([
            configured(
                "aws_route_table.b",
                json!({"vpc_id": {"constant_value": "vpc-1"}})
            ),
            configured(
                "aws_route_table_association.b",
                json!({"route_table_id": {"references": ["aws_route_table.b.id", "aws_route_table.b"]}})
            ),
        ]);
        let applied = apply(&plan(changes.clone(), config.clone()), &view());
        assert!(
            applied.view.inspection_errors.is_none(),
            "{:?}",
            applied.view.inspection_errors
        );
        let (table, _) = applied
            .view
            .route_table_for_subnet("subnet-a", "vpc-1")
            .unwrap();
        assert_eq!(table.route_table_id, "rtb-aws_route_table.b");
        let destinations: Vec<String> = table.routes.iter().map(|r| r.destination()).collect();
        assert_eq!(destinations, ["10.0.0.0/16"]);
        assert_eq!(
            applied.ids.display(&table.route_table_id),
            "aws_route_table.b"
        );

        let mut with_endpoint = changes.as_array().unwrap().clone();
        with_endpoint.push(change(
            "aws_vpc_endpoint_route_table_association.b",
            &["create"],
            json!(null),
            json!({"vpc_endpoint_id": "vpce-s3"}),
            json!({"id": true, "route_table_id": true}),
        ));
        let mut config = config.as_array().unwrap().clone();
        config.push(configured(
            "aws_vpc_endpoint_route_table_association.b",
            json!({"route_table_id": {"references": ["aws_route_table.b.id", "aws_route_table.b"]}}),
        ));
        let applied = apply(&plan(json!(with_endpoint), json!(config)), &view());
        let (table, _) = applied
            .view
            .route_table_for_subnet("subnet-a", "vpc-1")
            .unwrap();
        let routes: Vec<(String, Option<&str>)> = table
            .routes
            .iter()
            .map(|r| (r.destination(), r.gateway_id.as_deref()))
            .collect();
        assert_eq!(
            routes,
            [
                ("10.0.0.0/16".to_string(), Some("local")),
                ("pl-s3".to_string(), Some("vpce-s3"))
            ]
        );
    }

    /// A new group whose egress the configuration does not write: with separate rules of
    /// the plan naming it, those are its egress (Terraform removes the rule AWS adds);
    /// without, it may be a `dynamic` block the plan does not record, so it is undecided. A
    /// value from a variable is never guessed.
    #[test]
    fn a_new_groups_egress_is_its_separate_rules_or_undecided_and_a_variable_is_undecided() {
        let group = change(
            "aws_security_group.tasks",
            &["create"],
            json!(null),
            json!({"vpc_id": "vpc-1", "name": "tasks", "ingress": []}),
            json!({"id": true, "egress": true}),
        );
        let rule = change(
            "aws_vpc_security_group_egress_rule.https",
            &["create"],
            json!(null),
            json!({"ip_protocol": "tcp", "from_port": 443, "to_port": 443, "prefix_list_id": "pl-s3"}),
            json!({"id": true, "security_group_id": true}),
        );
        let moved = change(
            "aws_route_table_association.a",
            &["update"],
            json!({"id": "rtbassoc-1", "subnet_id": "subnet-a", "route_table_id": "rtb-a"}),
            json!({"id": "rtbassoc-1", "subnet_id": "subnet-a"}),
            json!({"route_table_id": true}),
        );
        let config = json!([
            configured(
                "aws_security_group.tasks",
                json!({"vpc_id": {"constant_value": "vpc-1"}, "name": {"constant_value": "tasks"}, "ingress": {"constant_value": []}})
            ),
            configured(
                "aws_vpc_security_group_egress_rule.https",
                json!({"security_group_id": {"references": ["aws_security_group.tasks.id", "aws_security_group.tasks"]}})
            ),
            configured(
                "aws_route_table_association.a",
                json!({"route_table_id": {"references": ["var.table"]}})
            ),
        ]);
        let applied = apply(
            &plan(json!([group.clone(), rule, moved.clone()]), config.clone()),
            &view(),
        );
        let found = applied
            .view
            .security_groups
            .as_ref()
            .unwrap()
            .iter()
            .find(|g| g.group_id == "sg-aws_security_group.tasks")
            .unwrap();
        assert_eq!(found.ip_permissions_egress.len(), 1);
        assert_eq!(
            found.ip_permissions_egress[0].prefix_list_ids[0].prefix_list_id,
            "pl-s3"
        );
        let errors = applied.view.inspection_errors.unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].scope.as_deref(), Some("vpc-1"));
        assert_eq!(
            errors[0].message,
            "aws_route_table_association.a.route_table_id is known only after apply (from var.table)"
        );

        let applied = apply(&plan(json!([group, moved]), config), &view());
        let errors = applied.view.inspection_errors.unwrap();
        assert!(
            errors.iter().any(|e| e.message.starts_with("aws_security_group.tasks.egress is known only after apply: the configuration does not write it, or writes it as a dynamic block")),
            "{errors:?}"
        );
    }

    /// Deleting an all-traffic rule removes it, though Terraform writes ports 0 where the
    /// API writes none; deleting one association leaves the one a rename creates.
    #[test]
    fn deletions_remove_what_they_name_and_only_that() {
        let mut account = view();
        account.security_groups = Some(vec![SecurityGroup {
            group_id: "sg-1".into(),
            vpc_id: Some("vpc-1".into()),
            ip_permissions_egress: vec![IpPermission {
                ip_protocol: "-1".into(),
                ip_ranges: vec![CidrIpRef {
                    cidr_ip: "0.0.0.0/0".into(),
                }],
                ..IpPermission::default()
            }],
            ..SecurityGroup::default()
        }]);
        account.route_tables.as_mut().unwrap()[0].associations[0].route_table_association_id =
            Some("rtbassoc-old".into());
        let changes = json!([
            change(
                "aws_security_group_rule.all",
                &["delete"],
                json!({"id": "sgrule-1", "type": "egress", "security_group_id": "sg-1", "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}),
                json!(null),
                json!({})
            ),
            change(
                "aws_route_table_association.renamed",
                &["create"],
                json!(null),
                json!({"subnet_id": "subnet-a", "route_table_id": "rtb-a"}),
                json!({"id": true})
            ),
            change(
                "aws_route_table_association.old",
                &["delete"],
                json!({"id": "rtbassoc-old", "subnet_id": "subnet-a", "route_table_id": "rtb-a"}),
                json!(null),
                json!({})
            ),
        ]);
        let applied = apply(&plan(changes, json!([])), &account);
        assert!(
            applied.view.inspection_errors.is_none(),
            "{:?}",
            applied.view.inspection_errors
        );
        assert!(applied.view.security_groups.as_ref().unwrap()[0]
            .ip_permissions_egress
            .is_empty());
        let (table, _) = applied
            .view
            .route_table_for_subnet("subnet-a", "vpc-1")
            .unwrap();
        assert_eq!(table.route_table_id, "rtb-a");
    }

    /// An inline route to a NAT gateway of the same plan: the configuration's one
    /// expression for all `route` blocks decides a single unknown target, never two.
    #[test]
    fn an_inline_route_to_a_new_nat_gateway_is_resolved_and_two_unknowns_are_not() {
        let route = |unknown: serde_json::Value| {
            change(
                "aws_route_table.b",
                &["create"],
                json!(null),
                json!({"vpc_id": "vpc-1", "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": ""}]}),
                json!({"id": true, "route": [unknown]}),
            )
        };
        let nat = change(
            "aws_nat_gateway.x",
            &["create"],
            json!(null),
            json!({"subnet_id": "subnet-a", "connectivity_type": "public"}),
            json!({"id": true}),
        );
        let config = json!([
            configured(
                "aws_route_table.b",
                json!({"vpc_id": {"constant_value": "vpc-1"}, "route": {"references": ["aws_nat_gateway.x.id", "aws_nat_gateway.x"]}})
            ),
            configured(
                "aws_nat_gateway.x",
                json!({"subnet_id": {"constant_value": "subnet-a"}})
            ),
        ]);
        let applied = apply(
            &plan(
                json!([nat.clone(), route(json!({"nat_gateway_id": true}))]),
                config.clone(),
            ),
            &view(),
        );
        assert!(
            applied.view.inspection_errors.is_none(),
            "{:?}",
            applied.view.inspection_errors
        );
        let table = applied
            .view
            .route_tables
            .as_ref()
            .unwrap()
            .iter()
            .find(|t| t.route_table_id == "rtb-aws_route_table.b")
            .unwrap();
        let default = table
            .routes
            .iter()
            .find(|r| r.destination() == "0.0.0.0/0")
            .unwrap();
        assert_eq!(
            default.nat_gateway_id.as_deref(),
            Some("nat-aws_nat_gateway.x")
        );

        let applied = apply(
            &plan(
                json!([
                    nat,
                    route(json!({"nat_gateway_id": true, "transit_gateway_id": true}))
                ]),
                config,
            ),
            &view(),
        );
        let errors = applied.view.inspection_errors.unwrap();
        assert!(
            errors[0]
                .message
                .contains("does not say which value goes where"),
            "{errors:?}"
        );
        assert!(!applied
            .view
            .route_tables
            .unwrap()
            .iter()
            .any(|t| t.route_table_id == "rtb-aws_route_table.b"));
    }

    /// `private[count.index]` and `private[floor(count.index / 2)]` are recorded alike (the
    /// resource and `count.index`): which instance is not guessed. A literal index is read.
    #[test]
    fn a_computed_instance_is_undecided_and_a_literal_index_is_read() {
        let mut changes = vec![];
        for i in 0..2 {
            changes.push(json!({"address": format!("aws_route_table.private[{i}]"), "mode": "managed", "type": "aws_route_table", "name": "private", "index": i,
                "change": {"actions": ["create"], "before": null, "after": {"vpc_id": "vpc-1"}, "after_unknown": {"id": true, "route": true}}}));
        }
        changes.push(json!({"address": "aws_route_table_association.private[1]", "mode": "managed", "type": "aws_route_table_association", "name": "private", "index": 1,
            "change": {"actions": ["create"], "before": null, "after": {"subnet_id": "subnet-a"}, "after_unknown": {"id": true, "route_table_id": true}}}));
        let config = json!([
            configured(
                "aws_route_table.private",
                json!({"vpc_id": {"constant_value": "vpc-1"}})
            ),
            configured(
                "aws_route_table_association.private",
                json!({"route_table_id": {"references": ["aws_route_table.private", "count.index"]}})
            ),
        ]);
        let applied = apply(&plan(json!(changes.clone()), config), &view());
        let errors = applied.view.inspection_errors.unwrap();
        assert_eq!(
            errors[0].message,
            "aws_route_table_association.private[1].route_table_id is known only after apply (the instance it names depends on count.index or each)"
        );
        let config = json!([
            configured(
                "aws_route_table.private",
                json!({"vpc_id": {"constant_value": "vpc-1"}})
            ),
            configured(
                "aws_route_table_association.private",
                json!({"route_table_id": {"references": ["aws_route_table.private[1].id", "aws_route_table.private[1]", "aws_route_table.private"]}})
            ),
        ]);
        let applied = apply(&plan(json!(changes), config), &view());
        assert!(
            applied.view.inspection_errors.is_none(),
            "{:?}",
            applied.view.inspection_errors
        );
        let (table, _) = applied
            .view
            .route_table_for_subnet("subnet-a", "vpc-1")
            .unwrap();
        assert_eq!(table.route_table_id, "rtb-aws_route_table.private[1]");
    }
}
