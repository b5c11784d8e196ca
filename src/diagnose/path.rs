//! The primitives of path evaluation: which route carries a destination, whether security
//! groups admit TCP 443, and whether a network ACL lets the packets and their replies through.
//!
//! These answer questions about one hop of the path; the rules in the parent module decide
//! what the answers mean for the diagnosis.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::network::{NaclEntry, NetworkAcl, NetworkView, Route, RouteTable, SecurityGroup};

/// Linux's default ephemeral port range (`net.ipv4.ip_local_port_range`), where the replies
/// to the task's connections arrive. A NACL must admit it inbound, since NACLs are stateless.
pub const EPHEMERAL_PORTS: (u16, u16) = (32768, 60999);
pub const HTTPS: u16 = 443;

/// Where a packet is going, as far as routing is concerned.
#[derive(Debug, Clone)]
pub enum Destination<'a> {
    /// A known address.
    Ip(IpAddr),
    /// S3 in the VPC's region: the prefix-list route of the S3 gateway endpoint applies, when
    /// the table has one. `prefix_list_ids` and `endpoint_ids` identify that route.
    S3 {
        ip: Option<IpAddr>,
        prefix_list_ids: &'a [String],
        endpoint_ids: &'a [String],
    },
    /// Somewhere on the internet, address unknown: only a default route can carry it.
    AnyPublic { ipv6: bool },
}

/// The route a destination takes, with the reason it was chosen.
#[derive(Debug, Clone, Copy)]
pub struct ChosenRoute<'a> {
    pub route: &'a Route,
    /// Length of the matching prefix (for prefix-list routes, of the matching CIDR).
    pub prefix_len: u8,
    /// True when this is the S3 gateway endpoint's prefix-list route.
    pub via_s3_endpoint: bool,
}

/// Longest-prefix match over a route table, including prefix-list routes.
pub fn route_for<'a>(
    view: &NetworkView,
    table: &'a RouteTable,
    destination: &Destination,
) -> Option<ChosenRoute<'a>> {
    let mut best: Option<ChosenRoute<'a>> = None;
    let mut consider = |candidate: ChosenRoute<'a>| {
        if best.is_none_or(|b| candidate.prefix_len > b.prefix_len) {
            best = Some(candidate);
        }
    };
    for route in &table.routes {
        if let Some(pl) = route.destination_prefix_list_id.as_deref() {
            let cidrs: Vec<IpNet> = view
                .prefix_list(pl)
                .map(|p| p.cidrs().collect())
                .unwrap_or_default();
            let longest_match = |ip: &IpAddr| {
                cidrs
                    .iter()
                    .filter(|c| c.contains(ip))
                    .map(|c| c.prefix_len())
                    .max()
            };
            let is_s3_route = match destination {
                Destination::S3 {
                    prefix_list_ids,
                    endpoint_ids,
                    ..
                } => {
                    prefix_list_ids.iter().any(|id| id == pl)
                        || route
                            .gateway_id
                            .as_deref()
                            .is_some_and(|g| endpoint_ids.iter().any(|e| e == g))
                }
                _ => false,
            };
            match destination {
                Destination::S3 { ip, .. } if is_s3_route => {
                    // With the address known, the matching CIDR's length competes; without it
                    // (or with the list's CIDRs unknown), the endpoint route is taken as the
                    // most specific, which it is for every S3 address in practice.
                    let len = ip.as_ref().and_then(longest_match).unwrap_or(32);
                    consider(ChosenRoute {
                        route,
                        prefix_len: len,
                        via_s3_endpoint: true,
                    });
                }
                Destination::S3 { ip: Some(ip), .. } | Destination::Ip(ip) => {
                    if let Some(len) = longest_match(ip) {
                        consider(ChosenRoute {
                            route,
                            prefix_len: len,
                            via_s3_endpoint: false,
                        });
                    }
                }
                Destination::S3 { ip: None, .. } | Destination::AnyPublic { .. } => {}
            }
            continue;
        }
        let Some(cidr) = route_cidr(route) else {
            continue;
        };
        let matches = match destination {
            Destination::Ip(ip) | Destination::S3 { ip: Some(ip), .. } => cidr.contains(ip),
            Destination::S3 { ip: None, .. } => {
                cidr.prefix_len() == 0 && matches!(cidr, IpNet::V4(_))
            }
            Destination::AnyPublic { ipv6 } => {
                cidr.prefix_len() == 0 && matches!(cidr, IpNet::V6(_)) == *ipv6
            }
        };
        if matches {
            consider(ChosenRoute {
                route,
                prefix_len: cidr.prefix_len(),
                via_s3_endpoint: false,
            });
        }
    }
    best
}

fn route_cidr(route: &Route) -> Option<IpNet> {
    route
        .destination_cidr_block
        .as_deref()
        .or(route.destination_ipv6_cidr_block.as_deref())?
        .parse()
        .ok()
}

/// What a route hands traffic to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteTarget {
    Local,
    InternetGateway(String),
    NatGateway(String),
    GatewayEndpoint(String),
    EgressOnlyInternetGateway(String),
    /// Transit gateway, peering, network interface, instance…: the path continues beyond
    /// what this tool inspects.
    Elsewhere(String),
    /// A route with no target at all (what a deleted target can leave behind).
    Missing,
}

pub fn target_of(route: &Route) -> RouteTarget {
    if let Some(nat) = &route.nat_gateway_id {
        return RouteTarget::NatGateway(nat.clone());
    }
    if let Some(eigw) = &route.egress_only_internet_gateway_id {
        return RouteTarget::EgressOnlyInternetGateway(eigw.clone());
    }
    match route.target() {
        None => RouteTarget::Missing,
        Some("local") => RouteTarget::Local,
        Some(id) if id.starts_with("igw-") => RouteTarget::InternetGateway(id.to_string()),
        // A gateway endpoint (S3, DynamoDB) is only ever a prefix-list route's target; a CIDR
        // route to a vpce- is a Gateway Load Balancer endpoint: an appliance, out of sight.
        Some(id) if id.starts_with("vpce-") && route.destination_prefix_list_id.is_some() => {
            RouteTarget::GatewayEndpoint(id.to_string())
        }
        Some(id) => RouteTarget::Elsewhere(id.to_string()),
    }
}

/// The far side of a connection, as security groups and NACLs see it.
#[derive(Debug, Clone, Default)]
pub struct Peer {
    /// Addresses or ranges that must all be admitted (empty when unknown).
    pub nets: Vec<IpNet>,
    /// A rule naming one of these prefix lists admits the peer.
    pub prefix_list_ids: Vec<String>,
    /// A rule naming one of these security groups admits the peer.
    pub group_ids: Vec<String>,
}

impl Peer {
    pub fn ip(ip: IpAddr) -> Peer {
        Peer {
            nets: vec![IpNet::from(ip)],
            ..Peer::default()
        }
    }

    pub fn is_unknown(&self) -> bool {
        self.nets.is_empty() && self.prefix_list_ids.is_empty() && self.group_ids.is_empty()
    }
}

/// Do the groups, taken together, admit TCP `port` to (egress) or from (ingress) `peer`?
/// Security groups are stateful, so replies need no rule.
pub fn groups_admit(
    view: &NetworkView,
    groups: &[&SecurityGroup],
    egress: bool,
    peer: &Peer,
    port: u16,
) -> bool {
    let rules = groups.iter().flat_map(|g| {
        if egress {
            g.ip_permissions_egress.iter()
        } else {
            g.ip_permissions.iter()
        }
    });
    let mut uncovered: Vec<IpNet> = peer.nets.clone();
    for rule in rules.filter(|r| r.admits_tcp_port(port)) {
        let by_reference = rule
            .prefix_list_ids
            .iter()
            .any(|p| peer.prefix_list_ids.contains(&p.prefix_list_id))
            || rule
                .user_id_group_pairs
                .iter()
                .any(|g| peer.group_ids.contains(&g.group_id));
        if by_reference {
            return true;
        }
        let mut allowed: Vec<IpNet> = rule.cidrs().collect();
        for pl in &rule.prefix_list_ids {
            if let Some(list) = view.prefix_list(&pl.prefix_list_id) {
                allowed.extend(list.cidrs());
            }
        }
        // A peer known only by reference (a prefix list whose CIDRs were not read) is still
        // inside a rule open to every IPv4 address.
        if peer.nets.is_empty()
            && allowed
                .iter()
                .any(|a| a.prefix_len() == 0 && a.addr().is_ipv4())
        {
            return true;
        }
        uncovered.retain(|net| !allowed.iter().any(|a| a.contains(net)));
        if !peer.nets.is_empty() && uncovered.is_empty() {
            return true;
        }
    }
    false
}

/// A NACL's verdict on one direction of traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NaclVerdict {
    Allowed,
    /// Denied by this rule number (`None`: no rule matched, so the final `*` rule denies).
    Denied {
        rule_number: Option<i32>,
        net: IpNet,
        ports: (u16, u16),
    },
}

/// Evaluates NACL rules in rule-number order for TCP `ports` to (egress) or from (ingress)
/// every net of `nets`. A rule matches when its CIDR contains the net; a deny whose CIDR only
/// overlaps a known range (not the whole address space) denies part of it and counts.
pub fn nacl_verdict(
    acl: &NetworkAcl,
    egress: bool,
    nets: &[IpNet],
    ports: (u16, u16),
) -> NaclVerdict {
    let mut entries: Vec<&NaclEntry> = acl
        .entries
        .iter()
        .filter(|e| e.egress == egress && e.covers_tcp())
        .collect();
    entries.sort_by_key(|e| e.rule_number);
    for net in nets {
        let mut open: Vec<(u16, u16)> = vec![ports];
        for entry in &entries {
            let Some(rule_net) = entry.cidr() else {
                continue;
            };
            let contains = rule_net.contains(net);
            let overlaps = contains || (net.prefix_len() > 0 && net.contains(&rule_net));
            if !(contains || (!entry.is_allow() && overlaps)) {
                continue;
            }
            let span = entry.port_span();
            let hit: Vec<(u16, u16)> = open.iter().filter_map(|&r| intersect(r, span)).collect();
            if hit.is_empty() {
                continue;
            }
            if !entry.is_allow() {
                return NaclVerdict::Denied {
                    rule_number: Some(entry.rule_number),
                    net: *net,
                    ports: hit[0],
                };
            }
            if contains {
                open = open.into_iter().flat_map(|r| subtract(r, span)).collect();
            }
            if open.is_empty() {
                break;
            }
        }
        if let Some(&first) = open.first() {
            return NaclVerdict::Denied {
                rule_number: None,
                net: *net,
                ports: first,
            };
        }
    }
    NaclVerdict::Allowed
}

fn intersect(a: (u16, u16), b: (u16, u16)) -> Option<(u16, u16)> {
    let lo = a.0.max(b.0);
    let hi = a.1.min(b.1);
    (lo <= hi).then_some((lo, hi))
}

fn subtract(a: (u16, u16), b: (u16, u16)) -> Vec<(u16, u16)> {
    let Some((lo, hi)) = intersect(a, b) else {
        return vec![a];
    };
    let mut out = Vec::new();
    if a.0 < lo {
        out.push((a.0, lo - 1));
    }
    if hi < a.1 {
        out.push((hi + 1, a.1));
    }
    out
}

/// A rule number for a new allow entry that takes effect before `blocking` (or before the
/// final rule): the highest free number below it.
pub fn free_rule_number(acl: &NetworkAcl, egress: bool, blocking: Option<i32>) -> i32 {
    let used: Vec<i32> = acl
        .entries
        .iter()
        .filter(|e| e.egress == egress)
        .map(|e| e.rule_number)
        .collect();
    let below = blocking.unwrap_or(32767).min(32767);
    let preferred = (1..below).rev().find(|n| n % 10 == 0 && !used.contains(n));
    preferred
        .or_else(|| (1..below).rev().find(|n| !used.contains(n)))
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::PortRange;

    fn entry(
        n: i32,
        allow: bool,
        egress: bool,
        cidr: &str,
        ports: Option<(i32, i32)>,
    ) -> NaclEntry {
        NaclEntry {
            rule_number: n,
            protocol: if ports.is_some() {
                "6".into()
            } else {
                "-1".into()
            },
            rule_action: if allow { "allow".into() } else { "deny".into() },
            egress,
            cidr_block: Some(cidr.into()),
            ipv6_cidr_block: None,
            port_range: ports.map(|(from, to)| PortRange { from, to }),
        }
    }

    fn acl(entries: Vec<NaclEntry>) -> NetworkAcl {
        NetworkAcl {
            network_acl_id: "acl-1".into(),
            entries,
            ..NetworkAcl::default()
        }
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn first_matching_rule_by_number_decides() {
        let a = acl(vec![
            entry(200, true, true, "0.0.0.0/0", None),
            entry(100, false, true, "52.219.0.0/16", Some((443, 443))),
            entry(32767, false, true, "0.0.0.0/0", None),
        ]);
        assert_eq!(
            nacl_verdict(&a, true, &[net("52.219.204.42/32")], (443, 443)),
            NaclVerdict::Denied {
                rule_number: Some(100),
                net: net("52.219.204.42/32"),
                ports: (443, 443)
            }
        );
        assert_eq!(
            nacl_verdict(&a, true, &[net("3.3.3.3/32")], (443, 443)),
            NaclVerdict::Allowed
        );
    }

    #[test]
    fn partial_ephemeral_range_is_denied_by_the_final_rule() {
        let a = acl(vec![
            entry(100, true, false, "0.0.0.0/0", Some((49152, 65535))),
            entry(32767, false, false, "0.0.0.0/0", None),
        ]);
        match nacl_verdict(&a, false, &[net("3.3.3.3/32")], EPHEMERAL_PORTS) {
            NaclVerdict::Denied {
                rule_number, ports, ..
            } => {
                assert_eq!(rule_number, Some(32767));
                assert_eq!(ports, (32768, 49151));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_matching_rule_is_a_deny() {
        let a = acl(vec![entry(100, true, true, "10.0.0.0/16", None)]);
        assert!(matches!(
            nacl_verdict(&a, true, &[net("3.3.3.3/32")], (443, 443)),
            NaclVerdict::Denied {
                rule_number: None,
                ..
            }
        ));
    }

    #[test]
    fn free_rule_number_stays_below_the_blocking_rule() {
        let a = acl(vec![
            entry(100, false, true, "0.0.0.0/0", None),
            entry(90, true, true, "1.0.0.0/8", None),
        ]);
        assert_eq!(free_rule_number(&a, true, Some(100)), 80);
        assert_eq!(free_rule_number(&a, true, None), 32760);
    }
}
