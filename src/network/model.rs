//! The network view's types, named after the AWS CLI's JSON output members.
//!
//! Only the fields the rules read are modelled; unknown fields are ignored and every field
//! has a default, so the output of `aws ec2 describe-*` can be pasted in as it is.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Everything known about the task's network. `None` for a part means "not inspected".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpcs: Option<Vec<Vpc>>,
    /// `describe-vpc-attribute` outputs, one per attribute call or merged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_attributes: Option<Vec<VpcAttributes>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnets: Option<Vec<Subnet>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_tables: Option<Vec<RouteTable>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_endpoints: Option<Vec<VpcEndpoint>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<Vec<SecurityGroup>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_acls: Option<Vec<NetworkAcl>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_gateways: Option<Vec<NatGateway>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internet_gateways: Option<Vec<InternetGateway>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_lists: Option<Vec<PrefixList>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_interfaces: Option<Vec<NetworkInterface>>,
    /// ECS `describe-services` output (`services`), for the task's security groups and
    /// `assignPublicIp`.
    #[serde(alias = "services", skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<EcsService>>,
    /// ECS `describe-container-instances` output (`containerInstances`): which EC2 instance a
    /// task on the EC2 launch type ran on.
    #[serde(alias = "containerInstances", skip_serializing_if = "Option::is_none")]
    pub container_instances: Option<Vec<ContainerInstance>>,
    /// EC2 `describe-instances` output (`Reservations`): the instances' network interfaces,
    /// which pull the image on the EC2 launch type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<Vec<Reservation>>,
    /// ECS task definitions, each as `aws ecs describe-task-definition` prints its
    /// `taskDefinition`: what a service's tasks need to reach (an audit reads them).
    #[serde(alias = "taskDefinitions", skip_serializing_if = "Option::is_none")]
    pub task_definitions: Option<Vec<TaskDefinition>>,
    /// ECS `describe-capacity-providers` output (`capacityProviders`): where ECS Managed
    /// Instances launches the instances that pull (their subnets and security groups).
    #[serde(alias = "capacityProviders", skip_serializing_if = "Option::is_none")]
    pub capacity_providers: Option<Vec<CapacityProvider>>,
    /// Parts that could not be read, and why (written by the live inspection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection_errors: Option<Vec<InspectionError>>,
    /// Where each resource is, by ID: built on the first lookup (see `network::index`).
    #[serde(skip)]
    pub index: super::LazyIndex,
}

/// A part of the view that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InspectionError {
    /// The snapshot key that is missing because of this error (`VpcEndpoints`…).
    pub part: String,
    /// The API call that failed (`ec2:DescribeVpcEndpoints`).
    pub action: String,
    pub message: String,
    /// What the failed call was about, when it was one VPC (`vpc-…`) or one cluster's (its
    /// name or ARN) among several: only that VPC's or cluster's services lack the part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Vpc {
    pub vpc_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cidr_block_association_set: Vec<CidrBlockAssociation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrBlockAssociation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CidrBlockAssociation {
    pub cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_block_state: Option<StateHolder>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipv6CidrBlockAssociation {
    pub ipv6_cidr_block: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StateHolder {
    pub state: Option<String>,
}

/// `aws ec2 describe-vpc-attribute` output: one or both DNS attributes of a VPC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VpcAttributes {
    pub vpc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_dns_support: Option<BoolValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_dns_hostnames: Option<BoolValue>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BoolValue {
    pub value: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Subnet {
    pub subnet_id: String,
    pub vpc_id: Option<String>,
    pub cidr_block: Option<String>,
    pub availability_zone: Option<String>,
    pub map_public_ip_on_launch: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl Subnet {
    /// Its `Name` tag, when it has a non-empty one.
    pub fn name(&self) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == "Name")
            .map(|t| t.value.as_str())
            .filter(|v| !v.trim().is_empty())
    }
}

/// An EC2 tag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RouteTable {
    pub route_table_id: String,
    pub vpc_id: Option<String>,
    pub routes: Vec<Route>,
    pub associations: Vec<RouteTableAssociation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Route {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_ipv6_cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_prefix_list_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_gateway_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_interface_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transit_gateway_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_peering_connection_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress_only_internet_gateway_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_gateway_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_gateway_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub core_network_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl Route {
    pub fn is_blackhole(&self) -> bool {
        self.state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("blackhole"))
    }

    /// The route's destination as the console shows it.
    pub fn destination(&self) -> String {
        self.destination_cidr_block
            .clone()
            .or_else(|| self.destination_ipv6_cidr_block.clone())
            .or_else(|| self.destination_prefix_list_id.clone())
            .unwrap_or_else(|| "?".to_string())
    }

    /// The route's target ID (`local`, `igw-…`, `nat-…`, `vpce-…`, `tgw-…`…).
    pub fn target(&self) -> Option<&str> {
        [
            &self.nat_gateway_id,
            &self.transit_gateway_id,
            &self.vpc_peering_connection_id,
            &self.egress_only_internet_gateway_id,
            &self.network_interface_id,
            &self.instance_id,
            &self.local_gateway_id,
            &self.carrier_gateway_id,
            &self.core_network_arn,
            &self.gateway_id,
        ]
        .into_iter()
        .find_map(|t| t.as_deref())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RouteTableAssociation {
    pub main: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_table_association_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association_state: Option<StateHolder>,
}

impl RouteTableAssociation {
    /// Associations being removed (or failed) no longer route the subnet.
    pub fn is_associated(&self) -> bool {
        self.association_state
            .as_ref()
            .and_then(|s| s.state.as_deref())
            .is_none_or(|s| s == "associated" || s == "associating")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VpcEndpoint {
    pub vpc_endpoint_id: String,
    /// `Gateway`, `Interface`, `GatewayLoadBalancer`…
    pub vpc_endpoint_type: Option<String>,
    pub vpc_id: Option<String>,
    pub service_name: Option<String>,
    /// `available`, `pending`, `rejected`… (the API's spelling varies in case).
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_document: Option<String>,
    pub route_table_ids: Vec<String>,
    pub subnet_ids: Vec<String>,
    pub groups: Vec<GroupRef>,
    pub private_dns_enabled: Option<bool>,
    pub network_interface_ids: Vec<String>,
}

impl VpcEndpoint {
    pub fn is_gateway(&self) -> bool {
        self.vpc_endpoint_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("gateway"))
    }

    pub fn is_interface(&self) -> bool {
        self.vpc_endpoint_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("interface"))
    }

    pub fn is_available(&self) -> bool {
        self.state
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("available"))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GroupRef {
    pub group_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SecurityGroup {
    pub group_id: String,
    pub group_name: Option<String>,
    pub vpc_id: Option<String>,
    pub ip_permissions: Vec<IpPermission>,
    pub ip_permissions_egress: Vec<IpPermission>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpPermission {
    /// `-1` (all), `tcp`, `udp`, `icmp` or a protocol number.
    pub ip_protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_port: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_port: Option<i32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ip_ranges: Vec<CidrIpRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ipv6_ranges: Vec<CidrIpv6Ref>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prefix_list_ids: Vec<PrefixListRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_id_group_pairs: Vec<GroupPair>,
}

impl IpPermission {
    /// True when the permission covers TCP port `port`.
    pub fn admits_tcp_port(&self, port: u16) -> bool {
        match self.ip_protocol.to_ascii_lowercase().as_str() {
            "-1" | "all" => true,
            "tcp" | "6" => {
                let from = self.from_port.unwrap_or(0);
                let to = self.to_port.unwrap_or(65535);
                // A range of -1 means every port for TCP in some API outputs.
                (from == -1 && to == -1) || (from <= port as i32 && port as i32 <= to)
            }
            _ => false,
        }
    }

    pub fn cidrs(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.ip_ranges
            .iter()
            .filter_map(|r| r.cidr_ip.parse().ok())
            .chain(
                self.ipv6_ranges
                    .iter()
                    .filter_map(|r| r.cidr_ipv6.parse().ok()),
            )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CidrIpRef {
    pub cidr_ip: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CidrIpv6Ref {
    pub cidr_ipv6: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrefixListRef {
    pub prefix_list_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GroupPair {
    pub group_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAcl {
    pub network_acl_id: String,
    pub vpc_id: Option<String>,
    pub is_default: bool,
    pub entries: Vec<NaclEntry>,
    pub associations: Vec<NaclAssociation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NaclEntry {
    pub rule_number: i32,
    /// `-1` (all) or a protocol number (`6` is TCP).
    pub protocol: String,
    /// `allow` or `deny`.
    pub rule_action: String,
    pub egress: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_range: Option<PortRange>,
}

impl NaclEntry {
    pub fn is_allow(&self) -> bool {
        self.rule_action.eq_ignore_ascii_case("allow")
    }

    pub fn cidr(&self) -> Option<IpNet> {
        self.cidr_block
            .as_deref()
            .or(self.ipv6_cidr_block.as_deref())?
            .parse()
            .ok()
    }

    /// True when the entry applies to TCP traffic.
    pub fn covers_tcp(&self) -> bool {
        matches!(
            self.protocol.to_ascii_lowercase().as_str(),
            "-1" | "6" | "tcp" | "all"
        )
    }

    /// The TCP ports the entry covers (all of them for protocol `-1`).
    pub fn port_span(&self) -> (u16, u16) {
        let all = matches!(self.protocol.as_str(), "-1" | "all");
        match (&self.port_range, all) {
            (Some(r), false) => (r.from.clamp(0, 65535) as u16, r.to.clamp(0, 65535) as u16),
            _ => (0, 65535),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortRange {
    pub from: i32,
    pub to: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NaclAssociation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_acl_association_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_acl_id: Option<String>,
    pub subnet_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NatGateway {
    pub nat_gateway_id: String,
    /// `pending`, `failed`, `available`, `deleting`, `deleted`.
    pub state: Option<String>,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    /// `public` or `private`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connectivity_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
}

impl NatGateway {
    pub fn is_available(&self) -> bool {
        self.state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("available"))
    }

    pub fn is_private(&self) -> bool {
        self.connectivity_type
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("private"))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InternetGateway {
    pub internet_gateway_id: String,
    pub attachments: Vec<IgwAttachment>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IgwAttachment {
    pub vpc_id: Option<String>,
    /// `available` (the CLI's word for attached), `attaching`, `detaching`, `detached`.
    pub state: Option<String>,
}

/// `aws ec2 describe-prefix-lists` output: AWS-managed prefix lists with their CIDRs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrefixList {
    pub prefix_list_id: String,
    pub prefix_list_name: Option<String>,
    pub cidrs: Vec<String>,
    /// Set when the entries could not be read and AWS's published ranges stand in for them
    /// (see `NetworkView::stand_in_for_unread_s3_prefix_lists`): which ip-ranges file. Never
    /// written to a snapshot, which keeps what was read.
    #[serde(skip)]
    pub cidrs_stand_in: Option<String>,
}

impl PrefixList {
    pub fn cidrs(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.cidrs.iter().filter_map(|c| c.parse().ok())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkInterface {
    pub network_interface_id: String,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub private_ip_address: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub private_ip_addresses: Vec<PrivateIpAddressRef>,
    pub groups: Vec<GroupRef>,
    pub interface_type: Option<String>,
    pub description: Option<String>,
}

impl NetworkInterface {
    /// Interface endpoints' network interfaces are described as `VPC Endpoint Interface vpce-…`.
    pub fn vpc_endpoint_id(&self) -> Option<&str> {
        let description = self.description.as_deref()?;
        description
            .split_whitespace()
            .find(|w| w.starts_with("vpce-"))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrivateIpAddressRef {
    pub private_ip_address: Option<String>,
}

/// One ECS service, as `aws ecs describe-services` prints it (camelCase).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EcsService {
    pub service_name: Option<String>,
    pub cluster_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_arn: Option<String>,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capacity_provider_strategy: Vec<CapacityProviderItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<EcsNetworkConfiguration>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<EcsDeployment>,
}

impl EcsService {
    pub fn awsvpc(&self) -> Option<&AwsVpcConfiguration> {
        EcsNetworkConfiguration::awsvpc_of(&self.network_configuration)
    }

    /// The deployments whose tasks start now or may start again: the PRIMARY one and any in
    /// progress (a blue/green or rolling deployment's other side); for a service described
    /// without deployments (a snapshot written by hand), the service's own fields.
    pub fn starting_deployments(&self) -> Vec<EcsDeployment> {
        let chosen: Vec<EcsDeployment> = self
            .deployments
            .iter()
            .filter(|d| {
                d.status.as_deref() == Some("PRIMARY")
                    || d.rollout_state.as_deref() == Some("IN_PROGRESS")
            })
            .cloned()
            .collect();
        if !chosen.is_empty() {
            return chosen;
        }
        vec![EcsDeployment {
            task_definition: self.task_definition.clone(),
            launch_type: self.launch_type.clone(),
            capacity_provider_strategy: self.capacity_provider_strategy.clone(),
            network_configuration: self.network_configuration.clone(),
            ..EcsDeployment::default()
        }]
    }

    /// FARGATE, EC2, EXTERNAL or MANAGED_INSTANCES, as `deployment` (else the service) says;
    /// a capacity provider strategy of Fargate providers only is FARGATE, and any other
    /// provider runs tasks on container instances (EC2). `None` when neither is named.
    pub fn launch_type_of(&self, deployment: Option<&EcsDeployment>) -> Option<String> {
        if let Some(lt) = deployment
            .and_then(|d| d.launch_type.clone())
            .or_else(|| self.launch_type.clone())
        {
            return Some(lt);
        }
        let strategy = deployment
            .map(|d| &d.capacity_provider_strategy)
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.capacity_provider_strategy);
        if strategy.is_empty() {
            return None;
        }
        let fargate = strategy
            .iter()
            .all(|p| p.capacity_provider == "FARGATE" || p.capacity_provider == "FARGATE_SPOT");
        Some(if fargate { "FARGATE" } else { "EC2" }.into())
    }
}

/// One entry of a service's or deployment's `capacityProviderStrategy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CapacityProviderItem {
    pub capacity_provider: String,
}

/// One of a service's `deployments`: the task definition and network configuration its
/// tasks start with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EcsDeployment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `PRIMARY`, `ACTIVE` (an older one being drained) or `INACTIVE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `IN_PROGRESS`, `COMPLETED` or `FAILED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capacity_provider_strategy: Vec<CapacityProviderItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<EcsNetworkConfiguration>,
}

impl EcsDeployment {
    pub fn awsvpc(&self) -> Option<&AwsVpcConfiguration> {
        EcsNetworkConfiguration::awsvpc_of(&self.network_configuration)
    }
}

/// An ECS capacity provider; only a Managed Instances provider's network configuration is
/// read (an Auto Scaling group provider's instances register as container instances).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CapacityProvider {
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_instances_provider: Option<ManagedInstancesProvider>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ManagedInstancesProvider {
    pub instance_launch_template: Option<InstanceLaunchTemplate>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InstanceLaunchTemplate {
    pub network_configuration: Option<ManagedInstancesNetworkConfiguration>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ManagedInstancesNetworkConfiguration {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
}

impl CapacityProvider {
    /// A Managed Instances provider's launch network: (subnets, security groups).
    pub fn managed_instances_network(&self) -> Option<&ManagedInstancesNetworkConfiguration> {
        self.managed_instances_provider
            .as_ref()?
            .instance_launch_template
            .as_ref()?
            .network_configuration
            .as_ref()
    }
}

/// One ECS service revision (`describe-service-revisions`): what a deployment's tasks start
/// with, named in a deployment lifecycle hook's payload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceRevision {
    pub service_revision_arn: Option<String>,
    pub service_arn: Option<String>,
    pub cluster_arn: Option<String>,
    pub task_definition: Option<String>,
    pub launch_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capacity_provider_strategy: Vec<CapacityProviderItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<EcsNetworkConfiguration>,
}

impl ServiceRevision {
    pub fn awsvpc(&self) -> Option<&AwsVpcConfiguration> {
        EcsNetworkConfiguration::awsvpc_of(&self.network_configuration)
    }
}

/// An ECS task definition, as far as reaching its dependencies is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskDefinition {
    pub task_definition_arn: Option<String>,
    pub family: Option<String>,
    pub revision: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    pub container_definitions: Vec<ContainerDefinition>,
}

impl TaskDefinition {
    /// `family:revision`, the short name ECS accepts wherever it takes a task definition.
    pub fn family_revision(&self) -> Option<String> {
        Some(format!("{}:{}", self.family.as_deref()?, self.revision?))
    }

    /// Whether `reference` (an ARN, or `family:revision`) names this task definition.
    pub fn is_named(&self, reference: &str) -> bool {
        self.task_definition_arn.as_deref() == Some(reference)
            || self.family_revision().as_deref() == Some(reference)
            || reference
                .rsplit_once("task-definition/")
                .is_some_and(|(_, short)| self.family_revision().as_deref() == Some(short))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerDefinition {
    pub name: Option<String>,
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<ContainerSecret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_configuration: Option<LogConfiguration>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub environment_files: Vec<EnvironmentFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_credentials: Option<RepositoryCredentials>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerSecret {
    pub name: Option<String>,
    /// A Secrets Manager secret ARN, or an SSM parameter's ARN or name.
    pub value_from: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LogConfiguration {
    pub log_driver: String,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub options: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvironmentFile {
    /// `arn:aws:s3:::bucket/key`.
    pub value: String,
    #[serde(rename = "type")]
    pub file_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RepositoryCredentials {
    /// The Secrets Manager secret holding the registry's credentials.
    pub credentials_parameter: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EcsNetworkConfiguration {
    pub awsvpc_configuration: Option<AwsVpcConfiguration>,
}

impl EcsNetworkConfiguration {
    /// The awsvpc configuration of a service's, deployment's or revision's
    /// `networkConfiguration`.
    pub fn awsvpc_of(
        configuration: &Option<EcsNetworkConfiguration>,
    ) -> Option<&AwsVpcConfiguration> {
        configuration.as_ref()?.awsvpc_configuration.as_ref()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AwsVpcConfiguration {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    /// `ENABLED` or `DISABLED`.
    pub assign_public_ip: Option<String>,
}

impl AwsVpcConfiguration {
    pub fn public_ip_enabled(&self) -> bool {
        self.assign_public_ip
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("ENABLED"))
    }
}

/// One ECS container instance, as `aws ecs describe-container-instances` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerInstance {
    pub container_instance_arn: Option<String>,
    pub ec2_instance_id: Option<String>,
    /// `ACTIVE`, `DRAINING`, `REGISTERING`…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_provider_name: Option<String>,
}

impl ContainerInstance {
    /// The cluster's name, from the ARN (`…:container-instance/CLUSTER/ID`; the long ARN
    /// format every account has used since 2021).
    pub fn cluster_name(&self) -> Option<&str> {
        let arn = self.container_instance_arn.as_deref()?;
        let (_, path) = arn.split_once(":container-instance/")?;
        let (cluster, _) = path.split_once('/')?;
        Some(cluster)
    }
}

/// One reservation of `aws ec2 describe-instances`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Reservation {
    pub instances: Vec<Instance>,
}

/// An EC2 instance, as far as the pull is concerned: its primary network interface.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Instance {
    pub instance_id: String,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub private_ip_address: Option<String>,
    pub public_ip_address: Option<String>,
    pub security_groups: Vec<GroupRef>,
    pub network_interfaces: Vec<InstanceNetworkInterface>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceNetworkInterface {
    pub network_interface_id: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip_address: Option<String>,
    pub groups: Vec<GroupRef>,
    pub attachment: Option<InstanceAttachment>,
    pub association: Option<InstanceAssociation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceAttachment {
    pub device_index: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceAssociation {
    pub public_ip: Option<String>,
}

/// What an EC2 instance pulls over: its primary interface's subnet, groups and addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullingInterface {
    pub subnet_id: Option<String>,
    pub groups: Vec<String>,
    pub public_ip: bool,
    pub private_ip: Option<std::net::IpAddr>,
}

impl Instance {
    /// The primary interface as the agent's pulls see it: its subnet (else the instance's),
    /// its groups (else the instance's), whether it has a public IP, its private address.
    pub fn pulling_interface(&self) -> PullingInterface {
        let nic = self.primary_interface();
        let groups = match nic {
            Some(n) if !n.groups.is_empty() => {
                n.groups.iter().map(|g| g.group_id.clone()).collect()
            }
            _ => self
                .security_groups
                .iter()
                .map(|g| g.group_id.clone())
                .collect(),
        };
        PullingInterface {
            subnet_id: nic
                .and_then(|n| n.subnet_id.clone())
                .or_else(|| self.subnet_id.clone()),
            groups,
            public_ip: nic
                .and_then(|n| n.association.as_ref())
                .and_then(|a| a.public_ip.as_deref())
                .or(self.public_ip_address.as_deref())
                .is_some(),
            private_ip: nic
                .and_then(|n| n.private_ip_address.as_deref())
                .or(self.private_ip_address.as_deref())
                .and_then(|ip| ip.parse().ok()),
        }
    }

    /// The primary interface (device index 0), which carries the agent's pulls.
    pub fn primary_interface(&self) -> Option<&InstanceNetworkInterface> {
        self.network_interfaces
            .iter()
            .find(|n| n.attachment.as_ref().and_then(|a| a.device_index) == Some(0))
            .or(self.network_interfaces.first())
    }
}
