//! SDK types → the network view's own types, so the rules never see SDK structs. Each
//! function keeps exactly the fields the model has, in the AWS CLI's spelling.

use aws_sdk_ec2::types as ec2;
use aws_sdk_ecs::types as ecs;

use crate::network::model::*;

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_string)
}

fn text(s: Option<&str>) -> String {
    s.unwrap_or_default().to_string()
}

fn strings(items: &[String]) -> Vec<String> {
    items.to_vec()
}

pub(super) fn subnet(s: &ec2::Subnet) -> Subnet {
    Subnet {
        subnet_id: text(s.subnet_id()),
        vpc_id: owned(s.vpc_id()),
        cidr_block: owned(s.cidr_block()),
        availability_zone: owned(s.availability_zone()),
        map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
        tags: s
            .tags()
            .iter()
            .map(|t| Tag {
                key: text(t.key()),
                value: text(t.value()),
            })
            .collect(),
    }
}

pub(super) fn vpc_attributes(
    vpc_id: &str,
    support: Option<&ec2::AttributeBooleanValue>,
    hostnames: Option<&ec2::AttributeBooleanValue>,
) -> VpcAttributes {
    let value = |v: Option<&ec2::AttributeBooleanValue>| {
        v.map(|v| BoolValue {
            value: v.value().unwrap_or(false),
        })
    };
    VpcAttributes {
        vpc_id: Some(vpc_id.to_string()),
        enable_dns_support: value(support),
        enable_dns_hostnames: value(hostnames),
    }
}

pub(super) fn route_table(t: &ec2::RouteTable) -> RouteTable {
    RouteTable {
        route_table_id: text(t.route_table_id()),
        vpc_id: owned(t.vpc_id()),
        routes: t.routes().iter().map(route).collect(),
        associations: t
            .associations()
            .iter()
            .map(|a| RouteTableAssociation {
                main: a.main().unwrap_or(false),
                subnet_id: owned(a.subnet_id()),
                gateway_id: owned(a.gateway_id()),
                route_table_association_id: owned(a.route_table_association_id()),
                association_state: a.association_state().map(|s| StateHolder {
                    state: s.state().map(|s| s.as_str().to_string()),
                }),
            })
            .collect(),
    }
}

fn route(r: &ec2::Route) -> Route {
    Route {
        destination_cidr_block: owned(r.destination_cidr_block()),
        destination_ipv6_cidr_block: owned(r.destination_ipv6_cidr_block()),
        destination_prefix_list_id: owned(r.destination_prefix_list_id()),
        gateway_id: owned(r.gateway_id()),
        nat_gateway_id: owned(r.nat_gateway_id()),
        network_interface_id: owned(r.network_interface_id()),
        instance_id: owned(r.instance_id()),
        transit_gateway_id: owned(r.transit_gateway_id()),
        vpc_peering_connection_id: owned(r.vpc_peering_connection_id()),
        egress_only_internet_gateway_id: owned(r.egress_only_internet_gateway_id()),
        local_gateway_id: owned(r.local_gateway_id()),
        carrier_gateway_id: owned(r.carrier_gateway_id()),
        core_network_arn: owned(r.core_network_arn()),
        state: r.state().map(|s| s.as_str().to_string()),
        origin: r.origin().map(|o| o.as_str().to_string()),
    }
}

pub(super) fn vpc_endpoint(e: &ec2::VpcEndpoint) -> VpcEndpoint {
    VpcEndpoint {
        vpc_endpoint_id: text(e.vpc_endpoint_id()),
        vpc_endpoint_type: e.vpc_endpoint_type().map(|t| t.as_str().to_string()),
        vpc_id: owned(e.vpc_id()),
        service_name: owned(e.service_name()),
        state: e.state().map(|s| s.as_str().to_string()),
        policy_document: owned(e.policy_document()),
        route_table_ids: strings(e.route_table_ids()),
        subnet_ids: strings(e.subnet_ids()),
        groups: e
            .groups()
            .iter()
            .map(|g| GroupRef {
                group_id: text(g.group_id()),
                group_name: owned(g.group_name()),
            })
            .collect(),
        private_dns_enabled: e.private_dns_enabled(),
        network_interface_ids: strings(e.network_interface_ids()),
    }
}

pub(super) fn security_group(g: &ec2::SecurityGroup) -> SecurityGroup {
    SecurityGroup {
        group_id: text(g.group_id()),
        group_name: owned(g.group_name()),
        vpc_id: owned(g.vpc_id()),
        ip_permissions: g.ip_permissions().iter().map(permission).collect(),
        ip_permissions_egress: g.ip_permissions_egress().iter().map(permission).collect(),
    }
}

fn permission(p: &ec2::IpPermission) -> IpPermission {
    IpPermission {
        ip_protocol: text(p.ip_protocol()),
        from_port: p.from_port(),
        to_port: p.to_port(),
        ip_ranges: p
            .ip_ranges()
            .iter()
            .map(|r| CidrIpRef {
                cidr_ip: text(r.cidr_ip()),
            })
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .map(|r| CidrIpv6Ref {
                cidr_ipv6: text(r.cidr_ipv6()),
            })
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids()
            .iter()
            .map(|r| PrefixListRef {
                prefix_list_id: text(r.prefix_list_id()),
            })
            .collect(),
        user_id_group_pairs: p
            .user_id_group_pairs()
            .iter()
            .map(|r| GroupPair {
                group_id: text(r.group_id()),
            })
            .collect(),
    }
}

pub(super) fn network_acl(a: &ec2::NetworkAcl) -> NetworkAcl {
    NetworkAcl {
        network_acl_id: text(a.network_acl_id()),
        vpc_id: owned(a.vpc_id()),
        is_default: a.is_default().unwrap_or(false),
        entries: a
            .entries()
            .iter()
            .map(|e| NaclEntry {
                rule_number: e.rule_number().unwrap_or(32767),
                protocol: text(e.protocol()),
                rule_action: e
                    .rule_action()
                    .map_or_else(String::new, |r| r.as_str().to_string()),
                egress: e.egress().unwrap_or(false),
                cidr_block: owned(e.cidr_block()),
                ipv6_cidr_block: owned(e.ipv6_cidr_block()),
                port_range: e.port_range().map(|r| PortRange {
                    from: r.from().unwrap_or(0),
                    to: r.to().unwrap_or(65535),
                }),
            })
            .collect(),
        associations: a
            .associations()
            .iter()
            .map(|s| NaclAssociation {
                network_acl_association_id: owned(s.network_acl_association_id()),
                network_acl_id: owned(s.network_acl_id()),
                subnet_id: owned(s.subnet_id()),
            })
            .collect(),
    }
}

pub(super) fn nat_gateway(n: &ec2::NatGateway) -> NatGateway {
    NatGateway {
        nat_gateway_id: text(n.nat_gateway_id()),
        state: n.state().map(|s| s.as_str().to_string()),
        subnet_id: owned(n.subnet_id()),
        vpc_id: owned(n.vpc_id()),
        connectivity_type: n.connectivity_type().map(|c| c.as_str().to_string()),
        failure_code: owned(n.failure_code()),
        failure_message: owned(n.failure_message()),
    }
}

pub(super) fn internet_gateway(g: &ec2::InternetGateway) -> InternetGateway {
    InternetGateway {
        internet_gateway_id: text(g.internet_gateway_id()),
        attachments: g
            .attachments()
            .iter()
            .map(|a| IgwAttachment {
                vpc_id: owned(a.vpc_id()),
                state: a.state().map(|s| s.as_str().to_string()),
            })
            .collect(),
    }
}

pub(super) fn prefix_list(p: &ec2::PrefixList) -> PrefixList {
    PrefixList {
        prefix_list_id: text(p.prefix_list_id()),
        prefix_list_name: owned(p.prefix_list_name()),
        cidrs: strings(p.cidrs()),
        cidrs_stand_in: None,
    }
}

pub(super) fn network_interface(n: &ec2::NetworkInterface) -> NetworkInterface {
    NetworkInterface {
        network_interface_id: text(n.network_interface_id()),
        subnet_id: owned(n.subnet_id()),
        vpc_id: owned(n.vpc_id()),
        private_ip_address: owned(n.private_ip_address()),
        private_ip_addresses: n
            .private_ip_addresses()
            .iter()
            .map(|a| PrivateIpAddressRef {
                private_ip_address: owned(a.private_ip_address()),
            })
            .collect(),
        groups: n
            .groups()
            .iter()
            .map(|g| GroupRef {
                group_id: text(g.group_id()),
                group_name: owned(g.group_name()),
            })
            .collect(),
        interface_type: n.interface_type().map(|t| t.as_str().to_string()),
        description: owned(n.description()),
    }
}

fn network_configuration(n: &ecs::NetworkConfiguration) -> EcsNetworkConfiguration {
    EcsNetworkConfiguration {
        awsvpc_configuration: n.awsvpc_configuration().map(|a| AwsVpcConfiguration {
            subnets: strings(a.subnets()),
            security_groups: strings(a.security_groups()),
            assign_public_ip: a.assign_public_ip().map(|p| p.as_str().to_string()),
        }),
    }
}

fn capacity_providers(items: &[ecs::CapacityProviderStrategyItem]) -> Vec<CapacityProviderItem> {
    items
        .iter()
        .map(|i| CapacityProviderItem {
            capacity_provider: i.capacity_provider().to_string(),
        })
        .collect()
}

pub(super) fn ecs_service(s: &ecs::Service) -> EcsService {
    EcsService {
        service_name: owned(s.service_name()),
        cluster_arn: owned(s.cluster_arn()),
        service_arn: owned(s.service_arn()),
        status: owned(s.status()),
        launch_type: s.launch_type().map(|l| l.as_str().to_string()),
        capacity_provider_strategy: capacity_providers(s.capacity_provider_strategy()),
        task_definition: owned(s.task_definition()),
        network_configuration: s.network_configuration().map(network_configuration),
        deployments: s
            .deployments()
            .iter()
            .map(|d| EcsDeployment {
                id: owned(d.id()),
                status: owned(d.status()),
                rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
                task_definition: owned(d.task_definition()),
                launch_type: d.launch_type().map(|l| l.as_str().to_string()),
                capacity_provider_strategy: capacity_providers(d.capacity_provider_strategy()),
                network_configuration: d.network_configuration().map(network_configuration),
            })
            .collect(),
    }
}

pub(super) fn capacity_provider(p: &ecs::CapacityProvider) -> CapacityProvider {
    CapacityProvider {
        name: owned(p.name()),
        managed_instances_provider: p.managed_instances_provider().map(|m| {
            ManagedInstancesProvider {
                instance_launch_template: m.instance_launch_template().map(|t| {
                    InstanceLaunchTemplate {
                        network_configuration: t.network_configuration().map(|n| {
                            ManagedInstancesNetworkConfiguration {
                                subnets: strings(n.subnets()),
                                security_groups: strings(n.security_groups()),
                            }
                        }),
                    }
                }),
            }
        }),
    }
}

pub(super) fn service_revision(r: &ecs::ServiceRevision) -> ServiceRevision {
    ServiceRevision {
        service_revision_arn: owned(r.service_revision_arn()),
        service_arn: owned(r.service_arn()),
        cluster_arn: owned(r.cluster_arn()),
        task_definition: owned(r.task_definition()),
        launch_type: r.launch_type().map(|l| l.as_str().to_string()),
        capacity_provider_strategy: capacity_providers(r.capacity_provider_strategy()),
        network_configuration: r.network_configuration().map(network_configuration),
    }
}

pub(super) fn task_definition(t: &ecs::TaskDefinition) -> TaskDefinition {
    TaskDefinition {
        task_definition_arn: owned(t.task_definition_arn()),
        family: owned(t.family()),
        revision: Some(t.revision()),
        network_mode: t.network_mode().map(|m| m.as_str().to_string()),
        container_definitions: t
            .container_definitions()
            .iter()
            .map(|c| ContainerDefinition {
                name: owned(c.name()),
                image: owned(c.image()),
                secrets: c
                    .secrets()
                    .iter()
                    .map(|s| ContainerSecret {
                        name: Some(s.name().to_string()),
                        value_from: s.value_from().to_string(),
                    })
                    .collect(),
                log_configuration: c.log_configuration().map(|l| LogConfiguration {
                    log_driver: l.log_driver().as_str().to_string(),
                    options: l
                        .options()
                        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .unwrap_or_default(),
                }),
                environment_files: c
                    .environment_files()
                    .iter()
                    .map(|f| EnvironmentFile {
                        value: f.value().to_string(),
                        file_type: Some(f.r#type().as_str().to_string()),
                    })
                    .collect(),
                repository_credentials: c.repository_credentials().map(|r| RepositoryCredentials {
                    credentials_parameter: r.credentials_parameter().to_string(),
                }),
            })
            .collect(),
    }
}

pub(super) fn container_instance(c: &ecs::ContainerInstance) -> ContainerInstance {
    ContainerInstance {
        container_instance_arn: owned(c.container_instance_arn()),
        ec2_instance_id: owned(c.ec2_instance_id()),
        status: owned(c.status()),
        capacity_provider_name: owned(c.capacity_provider_name()),
    }
}

fn group_refs(groups: &[ec2::GroupIdentifier]) -> Vec<GroupRef> {
    groups
        .iter()
        .map(|g| GroupRef {
            group_id: text(g.group_id()),
            group_name: owned(g.group_name()),
        })
        .collect()
}

pub(super) fn reservation(r: &ec2::Reservation) -> Reservation {
    Reservation {
        instances: r
            .instances()
            .iter()
            .map(|i| Instance {
                instance_id: text(i.instance_id()),
                subnet_id: owned(i.subnet_id()),
                vpc_id: owned(i.vpc_id()),
                private_ip_address: owned(i.private_ip_address()),
                public_ip_address: owned(i.public_ip_address()),
                security_groups: group_refs(i.security_groups()),
                network_interfaces: i
                    .network_interfaces()
                    .iter()
                    .map(|n| InstanceNetworkInterface {
                        network_interface_id: owned(n.network_interface_id()),
                        subnet_id: owned(n.subnet_id()),
                        private_ip_address: owned(n.private_ip_address()),
                        groups: group_refs(n.groups()),
                        attachment: n.attachment().map(|a| InstanceAttachment {
                            device_index: a.device_index(),
                        }),
                        association: n.association().map(|a| InstanceAssociation {
                            public_ip: owned(a.public_ip()),
                        }),
                    })
                    .collect(),
            })
            .collect(),
    }
}
