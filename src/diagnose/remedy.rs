//! Fixes that one AWS call applies to several resources at once, kept as data next to the
//! finding's command: an audit that finds the same endpoint missing from three route tables
//! merges the three into one call instead of printing three.
//!
//! Only fixes whose call takes a list are here; every other fix is a command that is the
//! same for everything it mends (one security group, one route table).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Associate a gateway endpoint with route tables (`modify-vpc-endpoint
    /// --add-route-table-ids`), which adds its prefix-list route to each.
    AssociateRouteTables {
        region: String,
        endpoint_id: String,
        route_tables: Vec<String>,
    },
    /// Create a gateway endpoint for these route tables.
    CreateGatewayEndpoint {
        region: String,
        vpc_id: String,
        service_name: String,
        route_tables: Vec<String>,
    },
    /// Create an interface endpoint; it takes at most one subnet per availability zone.
    CreateInterfaceEndpoint {
        region: String,
        vpc_id: String,
        service_name: String,
        /// Availability zone (or the subnet itself, when its zone is unknown) → subnet.
        subnets_by_zone: BTreeMap<String, String>,
        security_group: Option<String>,
    },
}

impl Remedy {
    /// What the fix changes or creates: two remedies with one identity are one fix.
    pub fn identity(&self) -> String {
        match self {
            Remedy::AssociateRouteTables { endpoint_id, .. } => endpoint_id.clone(),
            Remedy::CreateGatewayEndpoint {
                vpc_id,
                service_name,
                ..
            }
            | Remedy::CreateInterfaceEndpoint {
                vpc_id,
                service_name,
                ..
            } => format!("{vpc_id}#{service_name}"),
        }
    }

    /// The resource IDs the fix names.
    pub fn resources(&self) -> Vec<String> {
        match self {
            Remedy::AssociateRouteTables {
                endpoint_id,
                route_tables,
                ..
            } => std::iter::once(endpoint_id.clone())
                .chain(route_tables.iter().cloned())
                .collect(),
            Remedy::CreateGatewayEndpoint {
                vpc_id,
                route_tables,
                ..
            } => std::iter::once(vpc_id.clone())
                .chain(route_tables.iter().cloned())
                .collect(),
            Remedy::CreateInterfaceEndpoint {
                vpc_id,
                subnets_by_zone,
                ..
            } => std::iter::once(vpc_id.clone())
                .chain(subnets_by_zone.values().cloned())
                .collect(),
        }
    }

    /// Takes in `other`'s route tables or subnets when it is the same fix; false otherwise.
    pub fn absorb(&mut self, other: &Remedy) -> bool {
        if self.identity() != other.identity() {
            return false;
        }
        match (self, other) {
            (
                Remedy::AssociateRouteTables { route_tables, .. },
                Remedy::AssociateRouteTables {
                    route_tables: more, ..
                },
            )
            | (
                Remedy::CreateGatewayEndpoint { route_tables, .. },
                Remedy::CreateGatewayEndpoint {
                    route_tables: more, ..
                },
            ) => {
                for table in more {
                    if !route_tables.contains(table) {
                        route_tables.push(table.clone());
                    }
                }
                // The same whatever order the account lists its tables in.
                route_tables.sort();
                true
            }
            (
                Remedy::CreateInterfaceEndpoint {
                    subnets_by_zone,
                    security_group,
                    ..
                },
                Remedy::CreateInterfaceEndpoint {
                    subnets_by_zone: more,
                    security_group: other_group,
                    ..
                },
            ) => {
                // The lowest ID of each zone, and of the groups: the same fix whatever order
                // the account lists them in.
                for (zone, subnet) in more {
                    subnets_by_zone
                        .entry(zone.clone())
                        .and_modify(|chosen| {
                            if subnet < chosen {
                                chosen.clone_from(subnet);
                            }
                        })
                        .or_insert_with(|| subnet.clone());
                }
                if let Some(theirs) = other_group {
                    if security_group.as_ref().is_none_or(|mine| theirs < mine) {
                        *security_group = Some(theirs.clone());
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// The one AWS CLI call.
    pub fn command(&self) -> String {
        match self {
            Remedy::AssociateRouteTables {
                region,
                endpoint_id,
                route_tables,
            } => format!(
                "aws ec2 modify-vpc-endpoint --region {region} --vpc-endpoint-id {endpoint_id} --add-route-table-ids {}",
                route_tables.join(" ")
            ),
            Remedy::CreateGatewayEndpoint {
                region,
                vpc_id,
                service_name,
                route_tables,
            } => format!(
                "aws ec2 create-vpc-endpoint --region {region} --vpc-id {vpc_id} --vpc-endpoint-type Gateway --service-name {service_name} --route-table-ids {}",
                route_tables.join(" ")
            ),
            Remedy::CreateInterfaceEndpoint {
                region,
                vpc_id,
                service_name,
                subnets_by_zone,
                security_group,
            } => format!(
                "aws ec2 create-vpc-endpoint --region {region} --vpc-id {vpc_id} --vpc-endpoint-type Interface --service-name {service_name} --subnet-ids {} --security-group-ids {} --private-dns-enabled",
                subnets_by_zone.values().cloned().collect::<Vec<_>>().join(" "),
                security_group.as_deref().unwrap_or("<endpoint-sg-id>")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_endpoint_missing_from_several_tables_is_one_call() {
        let mut fix = Remedy::AssociateRouteTables {
            region: "ap-northeast-2".into(),
            endpoint_id: "vpce-1".into(),
            route_tables: vec!["rtb-a".into()],
        };
        let other = Remedy::AssociateRouteTables {
            region: "ap-northeast-2".into(),
            endpoint_id: "vpce-1".into(),
            route_tables: vec!["rtb-b".into(), "rtb-a".into()],
        };
        let elsewhere = Remedy::AssociateRouteTables {
            region: "ap-northeast-2".into(),
            endpoint_id: "vpce-2".into(),
            route_tables: vec!["rtb-z".into()],
        };
        assert!(fix.absorb(&other));
        assert!(!fix.absorb(&elsewhere));
        assert_eq!(
            fix.command(),
            "aws ec2 modify-vpc-endpoint --region ap-northeast-2 --vpc-endpoint-id vpce-1 --add-route-table-ids rtb-a rtb-b"
        );
    }

    #[test]
    fn an_interface_endpoint_takes_one_subnet_per_zone() {
        let endpoint = |zone: &str, subnet: &str| Remedy::CreateInterfaceEndpoint {
            region: "ap-northeast-2".into(),
            vpc_id: "vpc-1".into(),
            service_name: "com.amazonaws.ap-northeast-2.secretsmanager".into(),
            subnets_by_zone: BTreeMap::from([(zone.to_string(), subnet.to_string())]),
            security_group: None,
        };
        let mut fix = endpoint("ap-northeast-2a", "subnet-a1");
        assert!(fix.absorb(&endpoint("ap-northeast-2a", "subnet-a2")));
        assert!(fix.absorb(&endpoint("ap-northeast-2c", "subnet-c1")));
        assert!(fix
            .command()
            .contains("--subnet-ids subnet-a1 subnet-c1 --security-group-ids <endpoint-sg-id>"));
    }
}
