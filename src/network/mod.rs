//! The view of the task's VPC that the rules need, and the questions asked of it.
//!
//! The model's field names are exactly the AWS CLI's JSON output members (`RouteTables`,
//! `VpcEndpoints`, …; ECS services keep ECS's camelCase), so a snapshot can be assembled with
//! the AWS CLI and the live inspection can write the same format. Every part is optional: a
//! part that is absent was not inspected, and the rules must say so rather than assume it fine.
//!
//! [`model`] holds the types, [`snapshot`] reads a snapshot file, and this module answers the
//! questions the rules ask (which route table applies to a subnet, which NACL, which S3 prefix
//! list…) without any I/O.

mod index;
pub mod live;
pub mod model;
pub mod snapshot;
pub mod source;

use std::net::IpAddr;

use ipnet::IpNet;

pub use index::LazyIndex;
pub use model::*;

use index::Positions;

use crate::ipranges::{IpOwner, IpRanges};

/// A cluster's name from its ARN (`arn:aws:ecs:R:A:cluster/NAME`), or the name itself.
pub fn cluster_name(cluster: &str) -> &str {
    cluster.rsplit_once(":cluster/").map_or(cluster, |(_, n)| n)
}

/// How a subnet came to use its route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Association {
    /// The subnet is explicitly associated with the table.
    Explicit,
    /// The subnet has no explicit association, so the VPC's main table applies.
    Main,
}

impl NetworkView {
    /// The region the view is of: its ECS ARNs' (`arn:aws:ecs:REGION:…`), else a subnet's
    /// availability zone without its letter.
    pub fn region(&self) -> Option<String> {
        let from_arn = self.services.iter().flatten().find_map(|s| {
            let arn = s.cluster_arn.as_deref().or(s.service_arn.as_deref())?;
            let region = arn.split(':').nth(3)?;
            crate::reason::looks_like_region(region).then(|| region.to_string())
        });
        from_arn.or_else(|| {
            self.subnets.iter().flatten().find_map(|s| {
                let zone = s.availability_zone.as_deref()?;
                let region = zone.trim_end_matches(|c: char| c.is_ascii_lowercase());
                crate::reason::looks_like_region(region).then(|| region.to_string())
            })
        })
    }

    pub fn subnet(&self, subnet_id: &str) -> Option<&Subnet> {
        let index = self.index.get(self);
        find_indexed(&self.subnets, &index.subnets, subnet_id, |s| {
            s.subnet_id == subnet_id
        })
    }

    pub fn vpc(&self, vpc_id: &str) -> Option<&Vpc> {
        self.vpcs.as_deref()?.iter().find(|v| v.vpc_id == vpc_id)
    }

    pub fn vpc_attributes(&self, vpc_id: &str) -> Option<&VpcAttributes> {
        self.vpc_attributes
            .as_deref()?
            .iter()
            .find(|a| a.vpc_id.as_deref().is_none_or(|id| id == vpc_id))
    }

    /// Every IPv4 and IPv6 CIDR associated with the VPC: from `Vpcs`, else from the route
    /// tables' `local` routes (AWS adds one to every table for each of the VPC's CIDRs).
    pub fn vpc_cidrs(&self, vpc_id: &str) -> Vec<IpNet> {
        let Some(vpc) = self.vpc(vpc_id) else {
            return self.local_route_cidrs(vpc_id);
        };
        let mut cidrs: Vec<IpNet> = Vec::new();
        let v4 = vpc
            .cidr_block
            .iter()
            .chain(vpc.cidr_block_association_set.iter().filter_map(|a| {
                let disassociated = a
                    .cidr_block_state
                    .as_ref()
                    .and_then(|s| s.state.as_deref())
                    .is_some_and(|s| s.starts_with("disassociat"));
                (!disassociated).then_some(a.cidr_block.as_ref()?)
            }));
        let v6 = vpc
            .ipv6_cidr_block_association_set
            .iter()
            .filter_map(|a| a.ipv6_cidr_block.as_ref());
        for text in v4.chain(v6) {
            if let Ok(net) = text.parse::<IpNet>() {
                if !cidrs.contains(&net) {
                    cidrs.push(net);
                }
            }
        }
        cidrs
    }

    fn local_route_cidrs(&self, vpc_id: &str) -> Vec<IpNet> {
        if let Some(cidrs) = self.index.get(self).local_cidrs.lookup(self, vpc_id) {
            return cidrs;
        }
        let mut cidrs: Vec<IpNet> = Vec::new();
        let tables = self.route_tables.as_deref().unwrap_or_default();
        for table in tables
            .iter()
            .filter(|t| t.vpc_id.as_deref().is_none_or(|v| v == vpc_id))
        {
            for route in table
                .routes
                .iter()
                .filter(|r| r.gateway_id.as_deref() == Some("local"))
            {
                let text = route
                    .destination_cidr_block
                    .as_deref()
                    .or(route.destination_ipv6_cidr_block.as_deref());
                if let Some(net) = text.and_then(|t| t.parse::<IpNet>().ok()) {
                    if !cidrs.contains(&net) {
                        cidrs.push(net);
                    }
                }
            }
        }
        cidrs
    }

    /// The route table that decides where the subnet's traffic goes: its explicit
    /// association, else the VPC's main table. `None` when route tables were not inspected or
    /// the snapshot holds neither.
    pub fn route_table_for_subnet(
        &self,
        subnet_id: &str,
        vpc_id: &str,
    ) -> Option<(&RouteTable, Association)> {
        let index = self.index.get(self);
        let explicit = find_indexed(
            &self.route_tables,
            &index.route_table_by_subnet,
            subnet_id,
            |t| {
                t.associations
                    .iter()
                    .any(|a| a.subnet_id.as_deref() == Some(subnet_id) && a.is_associated())
            },
        );
        if let Some(t) = explicit {
            return Some((t, Association::Explicit));
        }
        first_of_vpc(
            &self.route_tables,
            &index.main_route_table_by_vpc,
            vpc_id,
            |t| {
                t.vpc_id.as_deref().is_none_or(|v| v == vpc_id)
                    && t.associations.iter().any(|a| a.main && a.is_associated())
            },
        )
        .map(|t| (t, Association::Main))
    }

    /// The network ACL that filters the subnet: the one associated with it, else the VPC's
    /// default ACL (every subnet is associated with exactly one ACL).
    pub fn network_acl_for_subnet(&self, subnet_id: &str, vpc_id: &str) -> Option<&NetworkAcl> {
        let index = self.index.get(self);
        find_indexed(&self.network_acls, &index.acl_by_subnet, subnet_id, |acl| {
            acl.associations
                .iter()
                .any(|a| a.subnet_id.as_deref() == Some(subnet_id))
        })
        .or_else(|| {
            first_of_vpc(
                &self.network_acls,
                &index.default_acl_by_vpc,
                vpc_id,
                |acl| acl.is_default && acl.vpc_id.as_deref().is_none_or(|v| v == vpc_id),
            )
        })
    }

    /// The EC2 instance a container instance runs on.
    pub fn instance_of_container_instance(&self, arn: &str) -> Option<&Instance> {
        let id = self
            .container_instances
            .as_deref()?
            .iter()
            .find(|c| c.container_instance_arn.as_deref() == Some(arn))?
            .ec2_instance_id
            .as_deref()?;
        self.reservations
            .as_deref()?
            .iter()
            .flat_map(|r| r.instances.iter())
            .find(|i| i.instance_id == id)
    }

    pub fn prefix_list(&self, id: &str) -> Option<&PrefixList> {
        self.prefix_lists
            .as_deref()?
            .iter()
            .find(|p| p.prefix_list_id == id)
    }

    /// The AWS-managed prefix list of S3 in `region` (`com.amazonaws.<region>.s3`).
    /// Fills S3 prefix lists whose entries could not be read (no
    /// `ec2:GetManagedPrefixListEntries`, or an API that omits them) with AWS's published S3
    /// ranges for their region, so security group and network ACL rules can still be checked;
    /// each filled list says so. Returns how many were filled.
    /// Whether an S3 prefix list came without its entries.
    pub fn has_unread_s3_prefix_list(&self) -> bool {
        self.prefix_lists.iter().flatten().any(|p| {
            p.cidrs.is_empty()
                && p.prefix_list_name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("com.amazonaws.") && n.ends_with(".s3"))
        })
    }

    pub fn stand_in_for_unread_s3_prefix_lists(&mut self, ranges: &IpRanges) -> usize {
        let mut filled = 0;
        for list in self.prefix_lists.iter_mut().flatten() {
            let region = list
                .prefix_list_name
                .as_deref()
                .and_then(|n| n.strip_prefix("com.amazonaws."))
                .and_then(|n| n.strip_suffix(".s3"))
                .filter(|r| crate::reason::looks_like_region(r));
            let Some(region) = region else { continue };
            if !list.cidrs.is_empty() {
                continue;
            }
            let published = ranges.ipv4_prefixes("S3", region);
            if published.is_empty() {
                continue;
            }
            list.cidrs = published;
            list.cidrs_stand_in = Some(format!("ip-ranges.json of {}", ranges.create_date));
            filled += 1;
        }
        filled
    }

    pub fn s3_prefix_list(&self, region: &str) -> Option<&PrefixList> {
        let name = format!("com.amazonaws.{region}.s3");
        self.prefix_lists
            .as_deref()?
            .iter()
            .find(|p| p.prefix_list_name.as_deref() == Some(name.as_str()))
    }

    /// The VPC's endpoints for one service name, in any state.
    pub fn endpoints_for(&self, vpc_id: &str, service_name: &str) -> Vec<&VpcEndpoint> {
        self.vpc_endpoints
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter(|e| {
                e.vpc_id.as_deref().is_none_or(|v| v == vpc_id)
                    && e.service_name.as_deref() == Some(service_name)
            })
            .collect()
    }

    /// The VPC's S3 gateway endpoints in `region` (the ones a prefix-list route can use).
    pub fn s3_gateway_endpoints(&self, vpc_id: &str, region: &str) -> Vec<&VpcEndpoint> {
        self.endpoints_for(vpc_id, &format!("com.amazonaws.{region}.s3"))
            .into_iter()
            .filter(|e| e.is_gateway())
            .collect()
    }

    pub fn endpoint(&self, id: &str) -> Option<&VpcEndpoint> {
        let index = self.index.get(self);
        find_indexed(&self.vpc_endpoints, &index.endpoints, id, |e| {
            e.vpc_endpoint_id == id
        })
    }

    pub fn security_group(&self, id: &str) -> Option<&SecurityGroup> {
        let index = self.index.get(self);
        find_indexed(&self.security_groups, &index.security_groups, id, |g| {
            g.group_id == id
        })
    }

    pub fn nat_gateway(&self, id: &str) -> Option<&NatGateway> {
        let index = self.index.get(self);
        find_indexed(&self.nat_gateways, &index.nat_gateways, id, |n| {
            n.nat_gateway_id == id
        })
    }

    pub fn internet_gateway(&self, id: &str) -> Option<&InternetGateway> {
        let index = self.index.get(self);
        find_indexed(&self.internet_gateways, &index.internet_gateways, id, |g| {
            g.internet_gateway_id == id
        })
    }

    /// The ECS service a task belongs to, by name (and cluster, when both sides know it).
    pub fn ecs_service(&self, name: &str, cluster_arn: Option<&str>) -> Option<&EcsService> {
        self.services.as_deref()?.iter().find(|s| {
            s.service_name.as_deref() == Some(name)
                && match (cluster_arn, s.cluster_arn.as_deref()) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        })
    }

    /// The network interface holding `ip` as one of its private addresses.
    pub fn interface_with_ip(&self, ip: IpAddr) -> Option<&NetworkInterface> {
        let text = ip.to_string();
        let index = self.index.get(self);
        find_indexed(
            &self.network_interfaces,
            &index.interfaces_by_ip,
            &text,
            |n| {
                n.private_ip_address.as_deref() == Some(text.as_str())
                    || n.private_ip_addresses
                        .iter()
                        .any(|a| a.private_ip_address.as_deref() == Some(text.as_str()))
            },
        )
    }

    /// Classifies `ip` from the VPC's own data, which beats ip-ranges when it answers: an
    /// address inside one of the VPC's CIDRs is private to it (VPCs may use non-RFC1918
    /// ranges, so this tests membership, not "is private"), and an address in the region's S3
    /// prefix list is in-region S3.
    pub fn classify(&self, ip: IpAddr, vpc_id: &str, region: &str) -> Option<IpOwner> {
        if let Some(cidr) = self.vpc_cidrs(vpc_id).into_iter().find(|c| c.contains(&ip)) {
            if let Some(eni) = self.interface_with_ip(ip) {
                let endpoint = eni.vpc_endpoint_id();
                let service = if endpoint.is_some() {
                    "VPC_ENDPOINT"
                } else {
                    "VPC"
                };
                return Some(IpOwner {
                    service: service.to_string(),
                    region: region.to_string(),
                    prefix: cidr.to_string(),
                    source: format!("network-interface:{}", eni.network_interface_id),
                });
            }
            return Some(IpOwner {
                service: "VPC".to_string(),
                region: region.to_string(),
                prefix: cidr.to_string(),
                source: "vpc-cidr".to_string(),
            });
        }
        let s3 = self.s3_prefix_list(region)?;
        let cidr = s3.cidrs().find(|c| c.contains(&ip))?;
        Some(IpOwner {
            service: "S3".to_string(),
            region: region.to_string(),
            prefix: cidr.to_string(),
            source: format!("prefix-list:{}", s3.prefix_list_id),
        })
    }

    /// The parts of the view that are absent, by their snapshot key.
    pub fn missing_parts(&self) -> Vec<&'static str> {
        let parts: [(&'static str, bool); 14] = [
            ("Vpcs", self.vpcs.is_some()),
            ("VpcAttributes", self.vpc_attributes.is_some()),
            ("Subnets", self.subnets.is_some()),
            ("RouteTables", self.route_tables.is_some()),
            ("VpcEndpoints", self.vpc_endpoints.is_some()),
            ("SecurityGroups", self.security_groups.is_some()),
            ("NetworkAcls", self.network_acls.is_some()),
            ("NatGateways", self.nat_gateways.is_some()),
            ("InternetGateways", self.internet_gateways.is_some()),
            ("PrefixLists", self.prefix_lists.is_some()),
            ("NetworkInterfaces", self.network_interfaces.is_some()),
            ("Services", self.services.is_some()),
            ("ContainerInstances", self.container_instances.is_some()),
            ("Reservations", self.reservations.is_some()),
        ];
        parts
            .into_iter()
            .filter(|(_, present)| !present)
            .map(|(name, _)| name)
            .collect()
    }
}

/// The first item of `part` that `holds`: found through `positions` while they still
/// describe the part and their answer holds, else by a scan in order.
fn find_indexed<'a, T>(
    part: &'a Option<Vec<T>>,
    positions: &Positions,
    key: &str,
    holds: impl Fn(&T) -> bool,
) -> Option<&'a T> {
    let items = part.as_deref()?;
    match positions.lookup(part, key) {
        Some(None) => None,
        Some(Some(at)) if items.get(at).is_some_and(&holds) => items.get(at),
        _ => items.iter().find(|item| holds(item)),
    }
}

/// The first item of `part` that `holds` for a VPC: the earlier of the VPC's own first and
/// the first that names no VPC (which applies to any), through `positions` as
/// [`find_indexed`] does.
fn first_of_vpc<'a, T>(
    part: &'a Option<Vec<T>>,
    positions: &Positions,
    vpc_id: &str,
    holds: impl Fn(&T) -> bool,
) -> Option<&'a T> {
    let items = part.as_deref()?;
    let (Some(own), Some(any)) = (
        positions.lookup(part, vpc_id),
        positions.lookup(part, index::NO_VPC),
    ) else {
        return items.iter().find(|item| holds(item));
    };
    match own.into_iter().chain(any).min() {
        Some(at) if items.get(at).is_some_and(&holds) => items.get(at),
        None => None,
        Some(_) => items.iter().find(|item| holds(item)),
    }
}

#[cfg(test)]
mod tests {
    use super::snapshot::parse;

    #[test]
    fn cluster_names_come_from_arns() {
        assert_eq!(
            super::cluster_name("arn:aws:ecs:ap-northeast-2:1:cluster/prod"),
            "prod"
        );
        assert_eq!(super::cluster_name("prod"), "prod");
    }

    #[test]
    fn vpc_cidrs_come_from_local_routes_when_vpcs_were_not_read() {
        let view = parse(
            r#"{"RouteTables": [{"RouteTableId": "rtb-1", "VpcId": "vpc-1", "Routes": [
                {"DestinationCidrBlock": "10.20.0.0/16", "GatewayId": "local"},
                {"DestinationCidrBlock": "100.64.0.0/16", "GatewayId": "local"},
                {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"}]}]}"#,
            "s.json",
        )
        .unwrap();
        let cidrs: Vec<String> = view
            .vpc_cidrs("vpc-1")
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(cidrs, ["10.20.0.0/16", "100.64.0.0/16"]);
        let owner = view
            .classify("100.64.3.4".parse().unwrap(), "vpc-1", "ap-northeast-2")
            .unwrap();
        assert_eq!(
            (owner.service.as_str(), owner.source.as_str()),
            ("VPC", "vpc-cidr")
        );
    }

    #[test]
    fn subnet_without_association_uses_the_main_table() {
        let view = parse(
            r#"{"RouteTables": [
                {"RouteTableId": "rtb-main", "VpcId": "vpc-1", "Associations": [{"Main": true}]},
                {"RouteTableId": "rtb-a", "VpcId": "vpc-1", "Associations": [{"Main": false, "SubnetId": "subnet-a"}]},
                {"RouteTableId": "rtb-gone", "VpcId": "vpc-1", "Associations": [{"Main": false, "SubnetId": "subnet-b", "AssociationState": {"State": "disassociated"}}]}]}"#,
            "s.json",
        )
        .unwrap();
        let table = |s: &str| {
            view.route_table_for_subnet(s, "vpc-1")
                .map(|(t, a)| (t.route_table_id.clone(), a))
        };
        assert_eq!(
            table("subnet-a"),
            Some(("rtb-a".into(), super::Association::Explicit))
        );
        assert_eq!(
            table("subnet-b"),
            Some(("rtb-main".into(), super::Association::Main))
        );
        assert_eq!(
            table("subnet-c"),
            Some(("rtb-main".into(), super::Association::Main))
        );
    }

    #[test]
    fn indexed_lookups_answer_as_a_scan_would_even_after_the_view_changes() {
        let mut view = parse(
            r#"{"RouteTables": [
                {"RouteTableId": "rtb-any", "Associations": [{"Main": true}]},
                {"RouteTableId": "rtb-main2", "VpcId": "vpc-2", "Associations": [{"Main": true}]},
                {"RouteTableId": "rtb-a", "VpcId": "vpc-1", "Associations": [{"SubnetId": "subnet-a"}]},
                {"RouteTableId": "rtb-a2", "VpcId": "vpc-1", "Associations": [{"SubnetId": "subnet-a"}]}],
               "SecurityGroups": [{"GroupId": "sg-1"}, {"GroupId": "sg-1"}]}"#,
            "s.json",
        )
        .unwrap();
        let table = |view: &super::NetworkView, s: &str, vpc: &str| {
            view.route_table_for_subnet(s, vpc)
                .map(|(t, _)| t.route_table_id.clone())
        };
        assert_eq!(table(&view, "subnet-a", "vpc-1").as_deref(), Some("rtb-a"));
        // A table without a VPC ID comes first, so it applies to vpc-2 as a scan finds it.
        assert_eq!(
            table(&view, "subnet-x", "vpc-2").as_deref(),
            Some("rtb-any")
        );
        assert_eq!(view.security_group("sg-2"), None);
        // Changed after the index was built: the lookups still see the change.
        let tables = view.route_tables.as_mut().unwrap();
        tables[0].associations.clear();
        tables.push(
            serde_json::from_str(
                r#"{"RouteTableId": "rtb-x", "VpcId": "vpc-2", "Associations": [{"SubnetId": "subnet-x"}]}"#,
            )
            .unwrap(),
        );
        assert_eq!(table(&view, "subnet-x", "vpc-2").as_deref(), Some("rtb-x"));
        assert_eq!(
            table(&view, "subnet-y", "vpc-2").as_deref(),
            Some("rtb-main2")
        );
        view.security_groups = Some(serde_json::from_str(r#"[{"GroupId": "sg-2"}]"#).unwrap());
        assert!(view.security_group("sg-2").is_some());
    }
}
