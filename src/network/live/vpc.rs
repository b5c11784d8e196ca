//! The VPC-scoped reads: everything the rules need about a group of VPCs, concurrently, and
//! AWS's managed prefix lists (region-wide, read once however many VPCs there are).
//!
//! A diagnosis reads one VPC; an audit reads every VPC its services run in, once each, and
//! shares the result among them. The list calls take the group's VPC IDs as one filter, so an
//! account's VPCs cost one call per part, not one per part and VPC; only the two DNS
//! attributes are read VPC by VPC (the API takes one VPC). Each failure is recorded with every
//! VPC of the group as its scope, so a denied read leaves only those VPCs' services
//! uninspected.

use aws_sdk_ec2::types::{Filter, VpcAttributeName};

use super::{convert, failure, keep, Counter};
use crate::network::{InspectionError, NetworkView};

/// EC2 takes at most this many values in one filter.
pub(super) const VPCS_PER_READ: usize = 100;

fn vpcs_filter(name: &str, vpc_ids: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(vpc_ids.to_vec()))
        .build()
}

/// One VPC's DNS attributes (two calls: the API reads one attribute of one VPC).
async fn read_attributes(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    counter: &Counter,
) -> (
    Result<crate::network::VpcAttributes, InspectionError>,
    Result<crate::network::VpcAttributes, InspectionError>,
) {
    tokio::join!(
        async {
            counter.add();
            ec2.describe_vpc_attribute()
                .vpc_id(vpc_id)
                .attribute(VpcAttributeName::EnableDnsSupport)
                .send()
                .await
                .map(|o| convert::vpc_attributes(vpc_id, o.enable_dns_support(), None))
                .map_err(|e| failure("VpcAttributes", "ec2:DescribeVpcAttribute", &e))
        },
        async {
            counter.add();
            ec2.describe_vpc_attribute()
                .vpc_id(vpc_id)
                .attribute(VpcAttributeName::EnableDnsHostnames)
                .send()
                .await
                .map(|o| convert::vpc_attributes(vpc_id, None, o.enable_dns_hostnames()))
                .map_err(|e| failure("VpcAttributes", "ec2:DescribeVpcAttribute", &e))
        },
    )
}

/// The parts of a group of VPCs (no subnets and no prefix lists; at most [`VPCS_PER_READ`]),
/// and the sequential rounds it took.
pub(super) async fn read_vpcs(
    ec2: &aws_sdk_ec2::Client,
    vpc_ids: &[String],
    counter: &Counter,
) -> (NetworkView, usize) {
    let mut errors: Vec<InspectionError> = Vec::new();
    let mut rounds = 1;
    let vpc_filter = |name: &str| vpcs_filter(name, vpc_ids);
    let (attributes, route_tables, endpoints, groups, acls, nats, igws, endpoint_interfaces) = tokio::join!(
        futures::future::join_all(vpc_ids.iter().map(|id| read_attributes(ec2, id, counter))),
        read_all!(
            counter,
            "RouteTables",
            "ec2:DescribeRouteTables",
            ec2.describe_route_tables().filters(vpc_filter("vpc-id")),
            100,
            route_tables,
            convert::route_table
        ),
        read_all!(
            counter,
            "VpcEndpoints",
            "ec2:DescribeVpcEndpoints",
            ec2.describe_vpc_endpoints().filters(vpc_filter("vpc-id")),
            1000,
            vpc_endpoints,
            convert::vpc_endpoint
        ),
        read_all!(
            counter,
            "SecurityGroups",
            "ec2:DescribeSecurityGroups",
            ec2.describe_security_groups().filters(vpc_filter("vpc-id")),
            1000,
            security_groups,
            convert::security_group
        ),
        read_all!(
            counter,
            "NetworkAcls",
            "ec2:DescribeNetworkAcls",
            ec2.describe_network_acls().filters(vpc_filter("vpc-id")),
            1000,
            network_acls,
            convert::network_acl
        ),
        read_all!(
            counter,
            "NatGateways",
            "ec2:DescribeNatGateways",
            ec2.describe_nat_gateways().filter(vpc_filter("vpc-id")),
            1000,
            nat_gateways,
            convert::nat_gateway
        ),
        read_all!(
            counter,
            "InternetGateways",
            "ec2:DescribeInternetGateways",
            ec2.describe_internet_gateways()
                .filters(vpc_filter("attachment.vpc-id")),
            1000,
            internet_gateways,
            convert::internet_gateway
        ),
        read_all!(
            counter,
            "NetworkInterfaces",
            "ec2:DescribeNetworkInterfaces",
            ec2.describe_network_interfaces()
                .filters(vpc_filter("vpc-id"))
                .filters(
                    // Interface endpoints and Gateway Load Balancer endpoints (appliances).
                    Filter::builder()
                        .name("interface-type")
                        .values("vpc_endpoint")
                        .values("gateway_load_balancer_endpoint")
                        .build()
                ),
            1000,
            network_interfaces,
            convert::network_interface
        ),
    );

    let mut attributes_read = Vec::new();
    let mut attribute_errors = Vec::new();
    for (vpc_id, (dns_support, dns_hostnames)) in vpc_ids.iter().zip(attributes) {
        for attribute in [dns_support, dns_hostnames] {
            match attribute {
                Ok(a) => attributes_read.push(a),
                Err(mut e) => {
                    // An attribute's failure is its own VPC's, whatever the group.
                    e.scope = Some(vpc_id.clone());
                    attribute_errors.push(e);
                }
            }
        }
    }
    let vpc_attributes = if attributes_read.is_empty() && !attribute_errors.is_empty() {
        None
    } else {
        Some(attributes_read)
    };
    let route_tables = keep(route_tables, &mut errors);
    let vpc_endpoints = keep(endpoints, &mut errors);
    let security_groups = keep(groups, &mut errors);
    let network_acls = keep(acls, &mut errors);
    let nat_gateways = keep(nats, &mut errors);
    let internet_gateways = keep(igws, &mut errors);

    // The endpoints' interfaces came with the first round on AWS; any the typed query missed
    // (emulators type them otherwise) are read by ID, in a second round only then.
    let mut network_interfaces = keep(endpoint_interfaces, &mut errors);
    let missing: Vec<String> = vpc_endpoints
        .iter()
        .flatten()
        .flat_map(|e| e.network_interface_ids.iter().cloned())
        .filter(|id| {
            !network_interfaces
                .iter()
                .flatten()
                .any(|n| &n.network_interface_id == id)
        })
        .collect();
    if !missing.is_empty() {
        rounds += 1;
        // No page size here: EC2 refuses MaxResults together with NetworkInterfaceIds.
        let mut pages = ec2
            .describe_network_interfaces()
            .set_network_interface_ids(Some(missing))
            .into_paginator()
            .send();
        let mut out = Vec::new();
        let mut result = Ok(());
        while let Some(page) = pages.next().await {
            counter.add();
            match page {
                Ok(page) => out.extend(
                    page.network_interfaces()
                        .iter()
                        .map(convert::network_interface),
                ),
                Err(e) => {
                    result = Err(failure(
                        "NetworkInterfaces",
                        "ec2:DescribeNetworkInterfaces",
                        &e,
                    ));
                    break;
                }
            }
        }
        let found = result.map(|_| out);
        if let Some(found) = keep(found, &mut errors) {
            network_interfaces
                .get_or_insert_with(Vec::new)
                .extend(found);
        }
    }
    // A list call's failure is every VPC's of the group.
    let errors: Vec<InspectionError> = errors
        .into_iter()
        .flat_map(|error| {
            vpc_ids.iter().map(move |vpc_id| InspectionError {
                scope: Some(vpc_id.clone()),
                ..error.clone()
            })
        })
        .chain(attribute_errors)
        .collect();
    let view = NetworkView {
        vpc_attributes,
        route_tables,
        vpc_endpoints,
        security_groups,
        network_acls,
        nat_gateways,
        internet_gateways,
        network_interfaces,
        inspection_errors: (!errors.is_empty()).then_some(errors),
        ..NetworkView::default()
    };
    (view, rounds)
}

/// AWS's managed prefix lists of the region (S3's among them).
pub(super) async fn read_prefix_lists(
    ec2: &aws_sdk_ec2::Client,
    counter: &Counter,
) -> Result<Vec<crate::network::PrefixList>, InspectionError> {
    read_all!(
        counter,
        "PrefixLists",
        "ec2:DescribePrefixLists",
        ec2.describe_prefix_lists(),
        1000,
        prefix_lists,
        convert::prefix_list
    )
    .await
}
