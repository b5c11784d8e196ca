//! How one probe is walked, destination by destination: S3 for image layers ([`s3`]),
//! interface-endpoint services ([`service`]: ECR API, ECR registry, Secrets Manager, SSM,
//! CloudWatch Logs), the internet for other registries ([`internet`]), and addresses inside the
//! VPC ([`in_vpc`]); what routes do ([`routes`]) and what security groups and network ACLs let
//! through ([`filters`]) are shared by all of them. Causes outside the network are in
//! [`non_network`].
//!
//! Within a destination, order encodes likelihood: routing first (nothing else matters
//! without a route), then the gateway or endpoint on the route, then security groups and
//! network ACLs.

use std::net::IpAddr;

use ipnet::IpNet;

use super::path::{
    free_rule_number, groups_admit, nacl_verdict, route_for, target_of, ChosenRoute, Destination,
    NaclVerdict, Peer, RouteTarget, EPHEMERAL_PORTS, HTTPS,
};
use super::policy::{self, PolicyDecision};
use super::probe::{Probe, Target, Verdict};
use super::{Code, Finding, Remedy, Severity};
use crate::localized::Localized;
use crate::network::{
    Association, NatGateway, NetworkAcl, NetworkView, Route, RouteTable, SecurityGroup, Subnet,
    VpcEndpoint,
};
use crate::t;
mod cross_region;
mod filters;
mod in_vpc;
mod internet;
pub(super) mod non_network;
mod routes;
mod s3;
mod service;

/// Walks one probe (see [`super::probe::check`]).
pub(super) fn check(view: &NetworkView, region: &str, probe: &Probe) -> Verdict {
    let Some(mut rules) = Rules::new(view, region, probe) else {
        return Verdict {
            findings: vec![],
            open_steps: vec![],
            gaps: vec![t!(
                "subnet {subnet}: not in the network view",
                "서브넷 {subnet}: 네트워크 정보에 없음",
                subnet = probe.from.subnet_id
            )],
            routing_inspected: false,
        };
    };
    if rules.routing_inspected {
        match &probe.to {
            Target::S3 { region } => rules.evaluate_s3(region),
            Target::Service { short, region } => rules.evaluate_service(short, region),
            Target::Internet { what } => rules.evaluate_internet(what),
            Target::Upstream { ip } => rules.evaluate_upstream(*ip),
            Target::InVpc { ip, expected } => rules.evaluate_in_vpc(*ip, expected.clone()),
        }
    }
    Verdict {
        findings: rules.findings,
        open_steps: rules.open_path,
        gaps: rules.not_inspected,
        routing_inspected: rules.routing_inspected,
    }
}

/// What the view lacks for any probe from `subnet_id`, and whether its routing can be
/// evaluated (its route table is there).
pub(super) fn origin_gaps(view: &NetworkView, subnet_id: &str) -> (Vec<Localized>, bool) {
    let mut gaps = Vec::new();
    let vpc_id = view
        .subnet(subnet_id)
        .and_then(|s| s.vpc_id.clone())
        .unwrap_or_default();
    // A failure scoped to another VPC (or to a cluster's ECS reads) is not this path's.
    let relevant = |scope: &Option<String>| scope.as_deref().is_none_or(|s| s == vpc_id);
    for error in view
        .inspection_errors
        .iter()
        .flatten()
        .filter(|e| relevant(&e.scope))
    {
        gaps.push(t!(
            "{part}: {action} failed ({message})",
            "{part}: {action} 호출 실패({message})",
            part = error.part,
            action = error.action,
            message = error.message
        ));
    }
    let mut routing_inspected = true;
    if view.route_tables.is_none() {
        routing_inspected = false;
        gaps.push(t!(
            "route tables (RouteTables)",
            "라우팅 테이블(RouteTables)"
        ));
    } else if view.route_table_for_subnet(subnet_id, &vpc_id).is_none() {
        routing_inspected = false;
        gaps.push(t!(
            "the route table of {subnet_id}: neither an explicit association nor the VPC's main table is in the view",
            "{subnet_id}의 라우팅 테이블: 명시적 연결도 VPC 기본 테이블도 네트워크 정보에 없음"
        ));
    }
    if view.network_acls.is_none() {
        gaps.push(t!(
            "network ACLs (NetworkAcls)",
            "네트워크 ACL(NetworkAcls)"
        ));
    }
    (gaps, routing_inspected)
}

/// One probe's walk: the origin's subnet, its route table and filters, what was found.
struct Rules<'a> {
    probe: &'a Probe,
    view: &'a NetworkView,
    region: &'a str,
    vpc_id: String,
    subnet: &'a Subnet,
    table: Option<(&'a RouteTable, Association)>,
    acl: Option<&'a NetworkAcl>,
    /// The origin's security groups; `None` when they could not be learned.
    task_groups: Option<Vec<&'a SecurityGroup>>,
    task_group_ids: Vec<String>,
    /// Whether the origin has a public IP; `None` when unknown.
    public_ip: Option<bool>,
    findings: Vec<Finding>,
    not_inspected: Vec<Localized>,
    /// The steps of the path that were found open, for NETWORK_PATH_LOOKS_OPEN.
    open_path: Vec<Localized>,
    /// False when the route tables could not be read, so nothing can be said about the path.
    routing_inspected: bool,
}

impl<'a> Rules<'a> {
    /// `None` when the origin's subnet is not in the view.
    fn new(view: &'a NetworkView, region: &'a str, probe: &'a Probe) -> Option<Self> {
        let subnet_id = probe.from.subnet_id.as_str();
        let subnet = view.subnet(subnet_id)?;
        let vpc_id = subnet.vpc_id.clone().unwrap_or_default();
        let table = view.route_table_for_subnet(subnet_id, &vpc_id);
        let acl = view.network_acl_for_subnet(subnet_id, &vpc_id);
        let (mut not_inspected, routing_inspected) = origin_gaps(view, subnet_id);

        let task_group_ids = probe.from.security_groups.clone().unwrap_or_default();
        let task_groups = match &probe.from.security_groups {
            None => None,
            Some(_) if view.security_groups.is_none() => {
                not_inspected.push(t!(
                    "security groups (SecurityGroups)",
                    "보안 그룹(SecurityGroups)"
                ));
                None
            }
            Some(ids) => {
                let found: Vec<&SecurityGroup> = ids
                    .iter()
                    .filter_map(|id| view.security_group(id))
                    .collect();
                if found.len() < ids.len() {
                    not_inspected.push(t!(
                        "some of the task's security groups ({ids}) are not in the view",
                        "태스크 보안 그룹 일부({ids})가 네트워크 정보에 없음",
                        ids = ids.join(", ")
                    ));
                    None
                } else {
                    Some(found)
                }
            }
        };
        let public_ip = probe.from.public_ip;

        Some(Rules {
            probe,
            view,
            region,
            vpc_id,
            subnet,
            table,
            acl,
            task_groups,
            task_group_ids,
            public_ip,
            findings: Vec::new(),
            not_inspected,
            open_path: Vec::new(),
            routing_inspected,
        })
    }

    // ---- shared text ---------------------------------------------------------------------

    fn subnet_evidence(&self, table: &RouteTable) -> Localized {
        let subnet = self.subnet.subnet_id.as_str();
        let az = self.subnet.availability_zone.as_deref().unwrap_or("?");
        let rtb = table.route_table_id.as_str();
        if let Some(instance) = &self.probe.from.instance_id {
            // On the EC2 launch type the agent pulls over the instance's own interface.
            return match self.table.map(|(_, a)| a) {
                Some(Association::Main) => t!(
                    "The image was pulled by container instance {instance}, whose primary interface is in subnet {subnet} ({az}); the subnet has no explicit route-table association, so the VPC's main route table {rtb} applies.",
                    "이미지는 컨테이너 인스턴스 {instance}가 받았고, 이 인스턴스의 기본 인터페이스는 서브넷 {subnet}({az})에 있습니다. 이 서브넷에는 명시적 라우팅 테이블 연결이 없어 VPC의 기본(main) 라우팅 테이블 {rtb}가 적용됩니다."
                ),
                _ => t!(
                    "The image was pulled by container instance {instance}, whose primary interface is in subnet {subnet} ({az}), whose route table is {rtb}.",
                    "이미지는 컨테이너 인스턴스 {instance}가 받았고, 이 인스턴스의 기본 인터페이스는 서브넷 {subnet}({az})에 있으며 라우팅 테이블은 {rtb}입니다."
                ),
            };
        }
        match self.table.map(|(_, a)| a) {
            Some(Association::Main) => t!(
                "The task ran in subnet {subnet} ({az}), which has no explicit route-table association, so the VPC's main route table {rtb} applies.",
                "태스크는 서브넷 {subnet}({az})에서 실행되었습니다. 이 서브넷에는 명시적 라우팅 테이블 연결이 없어 VPC의 기본(main) 라우팅 테이블 {rtb}가 적용됩니다."
            ),
            _ => t!(
                "The task ran in subnet {subnet} ({az}), whose route table is {rtb}.",
                "태스크는 서브넷 {subnet}({az})에서 실행되었고, 이 서브넷의 라우팅 테이블은 {rtb}입니다."
            ),
        }
    }

    fn owner_evidence(&self) -> Option<Localized> {
        let ip = self.probe.dialled?;
        let owner = self.probe.owner.as_ref()?;
        let (service, region, prefix, source) =
            (&owner.service, &owner.region, &owner.prefix, &owner.source);
        if owner.is_s3() {
            Some(t!(
                "The task dialled {ip}, which is S3 in {region} ({prefix}, from {source}); ECR stores image layers in S3 (prod-{region}-starport-layer-bucket).",
                "태스크가 연결한 {ip}는 {region} 리전의 S3 주소입니다({prefix}, 출처: {source}). ECR은 이미지 레이어를 S3(prod-{region}-starport-layer-bucket)에 저장합니다."
            ))
        } else {
            Some(t!(
                "The task dialled {ip}, owned by {service} in {region} ({prefix}, from {source}).",
                "태스크가 연결한 {ip}의 소유자는 {region} 리전의 {service}입니다({prefix}, 출처: {source})."
            ))
        }
    }

    /// `(52.219.204.42)` when the message named the dialled address; English puts a space
    /// before it.
    fn dialled_text(&self) -> Localized {
        self.probe.dialled.map_or_else(Localized::default, |ip| {
            Localized::new(format!(" ({ip})"), format!("({ip})"))
        })
    }
}

/// A route's effect on the packets.
#[derive(Debug)]
enum RouteVerdict<'a> {
    NoRoute,
    Blackhole(&'a Route),
    NatGone {
        route: &'a Route,
        nat_id: String,
    },
    NatUnavailable {
        route: &'a Route,
        nat: &'a NatGateway,
    },
    NatNoInternet {
        route: &'a Route,
        nat: &'a NatGateway,
        why: Localized,
    },
    IgwWithoutPublicIp {
        route: &'a Route,
        igw: String,
    },
    /// A default route to a peering connection: AWS forwards nothing through a peering
    /// connection beyond the peer VPC's own CIDRs (no edge-to-edge routing), so neither the
    /// internet nor the peer's NAT gateway, internet gateway or endpoints are reached.
    PeeringNoTransit {
        route: &'a Route,
        pcx: String,
    },
    Usable {
        via: Localized,
        /// The traffic leaves the VPC through a transit gateway, virtual private gateway or
        /// appliance endpoint, so the rest of the path is not visible from here.
        leaves_vpc: Option<String>,
    },
}

impl RouteVerdict<'_> {
    fn is_usable(&self) -> bool {
        matches!(self, RouteVerdict::Usable { .. })
    }

    fn via(&self) -> Localized {
        match self {
            RouteVerdict::Usable { via, .. } => via.clone(),
            _ => Localized::default(),
        }
    }
}

/// RFC 1918, RFC 6598 (shared) and IPv6 unique-local addresses: where a hub VPC's endpoint
/// interfaces live.
pub(in crate::diagnose) fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// The far side of a path through a gateway: the dialled address, else anywhere.
fn peer_for(ip: Option<IpAddr>) -> Peer {
    match ip {
        Some(ip) => Peer::ip(ip),
        None => Peer {
            nets: vec!["0.0.0.0/0".parse().expect("static CIDR")],
            ..Peer::default()
        },
    }
}
