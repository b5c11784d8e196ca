//! Positions of a view's resources by ID, so that the questions an audit asks for each of
//! thousands of subnets (its route table, its ACL, a group, an endpoint) cost a hash lookup
//! instead of a scan of every table.
//!
//! Built on the first question and kept in the view, which is read-only from then on: the
//! view's parts are public, so the index guards against what a caller can still do to them.
//! It remembers where each part's list was and how long it was, and a part that has since
//! been replaced, grown or shrunk is scanned as before; a position found must still hold what
//! was asked for. What it cannot see is an item edited in place after the first question (an
//! association added to a table already indexed): build views whole, then ask.

use std::collections::HashMap;
use std::sync::OnceLock;

use ipnet::IpNet;

use super::NetworkView;

/// The key of the parts (tables, ACLs) that name no VPC and so apply to every VPC; no VPC ID
/// can be this.
pub const NO_VPC: &str = "\u{0}";

/// The lazily built index a view carries; equal, cloned and shown as nothing, so a view
/// compares, copies and prints as its parts alone.
#[derive(Default)]
pub struct LazyIndex(OnceLock<Index>);

impl Clone for LazyIndex {
    fn clone(&self) -> LazyIndex {
        LazyIndex::default()
    }
}

impl PartialEq for LazyIndex {
    fn eq(&self, _: &LazyIndex) -> bool {
        true
    }
}

impl std::fmt::Debug for LazyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LazyIndex")
    }
}

/// Where a part's list lived and how long it was when the index was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Extent(usize, usize);

fn extent<T>(part: &Option<Vec<T>>) -> Extent {
    part.as_ref().map_or(Extent(0, usize::MAX), |v| {
        Extent(v.as_ptr() as usize, v.len())
    })
}

/// One part's positions by key, valid while the part is where and as long as it was.
#[derive(Debug, Default)]
pub struct Positions {
    extent: Option<Extent>,
    by_key: HashMap<String, usize>,
}

impl Positions {
    fn build<T, K: IntoIterator<Item = String>>(
        part: &Option<Vec<T>>,
        keys: impl Fn(&T) -> K,
    ) -> Positions {
        let mut by_key = HashMap::new();
        for (at, item) in part.iter().flatten().enumerate() {
            for key in keys(item) {
                // The first holder wins, as a scan in order would find it.
                by_key.entry(key).or_insert(at);
            }
        }
        Positions {
            extent: Some(extent(part)),
            by_key,
        }
    }

    /// `Some(position)` or `Some(None)` when the index can answer for `part`; `None` when
    /// the part changed since and must be scanned.
    pub fn lookup<T>(&self, part: &Option<Vec<T>>, key: &str) -> Option<Option<usize>> {
        (self.extent == Some(extent(part))).then(|| self.by_key.get(key).copied())
    }
}

/// The positions the lookups use.
#[derive(Debug, Default)]
pub struct Index {
    pub subnets: Positions,
    /// Subnet ID → the first route table explicitly associated with it.
    pub route_table_by_subnet: Positions,
    /// VPC ID → the first main route table of that VPC ([`NO_VPC`] for tables without one).
    pub main_route_table_by_vpc: Positions,
    /// Subnet ID → the first network ACL associated with it.
    pub acl_by_subnet: Positions,
    /// VPC ID → the first default ACL of that VPC ([`NO_VPC`] for ACLs without one).
    pub default_acl_by_vpc: Positions,
    pub security_groups: Positions,
    pub endpoints: Positions,
    pub nat_gateways: Positions,
    pub internet_gateways: Positions,
    /// Private IP address → the first interface holding it.
    pub interfaces_by_ip: Positions,
    /// The CIDRs of each VPC's `local` routes, as [`NetworkView::vpc_cidrs`] reads them when
    /// `Vpcs` was not read (the live inspection never reads it).
    pub local_cidrs: LocalCidrs,
}

/// VPC ID → the CIDRs of the `local` routes of its tables and of the tables that name no
/// VPC, in table order without repeats ([`NO_VPC`] holds those of the tables that name none).
#[derive(Debug, Default)]
pub struct LocalCidrs {
    extent: Option<Extent>,
    by_vpc: HashMap<String, Vec<IpNet>>,
}

impl LocalCidrs {
    fn build(view: &NetworkView) -> LocalCidrs {
        let tables: Vec<(String, Vec<IpNet>)> = view
            .route_tables
            .iter()
            .flatten()
            .map(|t| {
                let cidrs = t
                    .routes
                    .iter()
                    .filter(|r| r.gateway_id.as_deref() == Some("local"))
                    .filter_map(|r| {
                        r.destination_cidr_block
                            .as_deref()
                            .or(r.destination_ipv6_cidr_block.as_deref())?
                            .parse::<IpNet>()
                            .ok()
                    })
                    .collect();
                (t.vpc_id.as_deref().unwrap_or(NO_VPC).to_string(), cidrs)
            })
            .collect();
        let mut by_vpc: HashMap<String, Vec<IpNet>> = HashMap::new();
        for vpc in tables.iter().map(|(vpc, _)| vpc) {
            if by_vpc.contains_key(vpc) {
                continue;
            }
            let mut cidrs: Vec<IpNet> = Vec::new();
            for (_, found) in tables.iter().filter(|(v, _)| v == NO_VPC || v == vpc) {
                for net in found {
                    if !cidrs.contains(net) {
                        cidrs.push(*net);
                    }
                }
            }
            by_vpc.insert(vpc.clone(), cidrs);
        }
        LocalCidrs {
            extent: Some(extent(&view.route_tables)),
            by_vpc,
        }
    }

    /// The VPC's CIDRs from `local` routes, or `None` when the route tables changed since.
    pub fn lookup(&self, view: &NetworkView, vpc_id: &str) -> Option<Vec<IpNet>> {
        (self.extent == Some(extent(&view.route_tables))).then(|| {
            self.by_vpc
                .get(vpc_id)
                .or_else(|| self.by_vpc.get(NO_VPC))
                .cloned()
                .unwrap_or_default()
        })
    }
}

impl LazyIndex {
    pub fn get(&self, view: &NetworkView) -> &Index {
        self.0.get_or_init(|| Index::build(view))
    }
}

impl Index {
    fn build(view: &NetworkView) -> Index {
        let vpc_key = |vpc: &Option<String>| vpc.as_deref().unwrap_or(NO_VPC).to_string();
        Index {
            subnets: Positions::build(&view.subnets, |s| [s.subnet_id.clone()]),
            route_table_by_subnet: Positions::build(&view.route_tables, |t| {
                t.associations
                    .iter()
                    .filter(|a| a.is_associated())
                    .filter_map(|a| a.subnet_id.clone())
                    .collect::<Vec<_>>()
            }),
            main_route_table_by_vpc: Positions::build(&view.route_tables, |t| {
                t.associations
                    .iter()
                    .any(|a| a.main && a.is_associated())
                    .then(|| vpc_key(&t.vpc_id))
            }),
            acl_by_subnet: Positions::build(&view.network_acls, |acl| {
                acl.associations
                    .iter()
                    .filter_map(|a| a.subnet_id.clone())
                    .collect::<Vec<_>>()
            }),
            default_acl_by_vpc: Positions::build(&view.network_acls, |acl| {
                acl.is_default.then(|| vpc_key(&acl.vpc_id))
            }),
            security_groups: Positions::build(&view.security_groups, |g| [g.group_id.clone()]),
            endpoints: Positions::build(&view.vpc_endpoints, |e| [e.vpc_endpoint_id.clone()]),
            nat_gateways: Positions::build(&view.nat_gateways, |n| [n.nat_gateway_id.clone()]),
            internet_gateways: Positions::build(&view.internet_gateways, |g| {
                [g.internet_gateway_id.clone()]
            }),
            interfaces_by_ip: Positions::build(&view.network_interfaces, |n| {
                n.private_ip_address
                    .iter()
                    .chain(
                        n.private_ip_addresses
                            .iter()
                            .filter_map(|a| a.private_ip_address.as_ref()),
                    )
                    .cloned()
                    .collect::<Vec<_>>()
            }),
            local_cidrs: LocalCidrs::build(view),
        }
    }
}
