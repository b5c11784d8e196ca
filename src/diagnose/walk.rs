//! The path a probe walked, one step per hop with its state, so a reader sees where it breaks:
//! the origin's subnet, its route table and the route the destination takes, the endpoint or
//! gateway, the security groups, the network ACL. The walk stops at the first blocked step.
//!
//! Derived after the fact from the probe, the view and the verdict's findings, so the rules
//! stay the one place that decides; this only lays their answer along the path.

use serde::Serialize;

use super::path::{route_for, target_of, Destination, RouteTarget};
use super::probe::{Probe, Target, Verdict};
use super::{Code, Severity};
use crate::localized::{Lang, Localized};
use crate::network::NetworkView;
use crate::t;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Open,
    Blocked,
    /// Not inspected (the part is missing from the view, or was not learned).
    Unknown,
}

impl StepState {
    pub fn mark(self) -> &'static str {
        match self {
            StepState::Open => "✓",
            StepState::Blocked => "✗",
            StepState::Unknown => "?",
        }
    }
}

/// One hop of a walked path.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub state: StepState,
    pub text: Localized,
    /// The finding that blocks here, when one does.
    pub code: Option<Code>,
}

/// A probe's destination and the steps towards it.
#[derive(Debug, Clone, PartialEq)]
pub struct Walk {
    pub to: Localized,
    pub steps: Vec<Step>,
}

impl Walk {
    /// `✓ ENI in subnet-… → ✗ rtb-…: no route to pl-… (S3 ap-northeast-2) [S3_ROUTE_MISSING]`,
    /// in one language.
    pub fn line(&self, lang: Lang) -> String {
        self.steps
            .iter()
            .map(|s| match s.code {
                Some(code) => format!("{} {} [{code}]", s.state.mark(), s.text.get(lang)),
                None => format!("{} {}", s.state.mark(), s.text.get(lang)),
            })
            .collect::<Vec<_>>()
            .join(" → ")
    }
}

const ROUTING: &[Code] = &[
    Code::S3RouteMissing,
    Code::S3GatewayEndpointMissing,
    Code::CrossRegionLayerBucket,
    Code::RouteBlackhole,
    Code::NatGatewayNotAvailable,
    Code::PublicIpMissing,
    Code::NoRouteToTarget,
    Code::InterfaceEndpointMissing,
];
const AT_THE_ENDPOINT: &[Code] = &[
    Code::S3EndpointPolicyDeniesLayerBucket,
    Code::EndpointPrivateDnsDisabled,
    Code::VpcDnsDisabled,
    Code::EndpointSgBlocksHttps,
];

/// The walk of `probe`, as `verdict` found it.
pub fn walk(view: &NetworkView, region: &str, probe: &Probe, verdict: &Verdict) -> Walk {
    // Only what blocks breaks the walk; a recommendation (a warning) does not.
    let blocking = |codes: &[Code]| {
        verdict
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Critical)
            .map(|f| f.code)
            .find(|c| codes.contains(c))
    };
    let subnet_id = probe.from.subnet_id.as_str();
    let subnet = view.subnet(subnet_id);
    let vpc_id = subnet.and_then(|s| s.vpc_id.clone()).unwrap_or_default();
    let mut steps = vec![Step {
        state: if subnet.is_some() {
            StepState::Open
        } else {
            StepState::Unknown
        },
        text: match &probe.from.instance_id {
            Some(instance) => t!(
                "{instance}'s ENI in {subnet_id}",
                "{subnet_id}의 {instance} ENI"
            ),
            None => t!("ENI in {subnet_id}", "{subnet_id}의 ENI"),
        },
        code: None,
    }];

    let table = view.route_table_for_subnet(subnet_id, &vpc_id);
    let route_step = match table {
        None => Step {
            state: StepState::Unknown,
            text: t!("route table not read", "라우팅 테이블 읽지 못함"),
            code: None,
        },
        Some((table, _)) => {
            let rtb = table.route_table_id.as_str();
            let what = match (&probe.to, view.s3_prefix_list(region)) {
                (Target::S3 { region: s3 }, Some(list)) if s3 == region => {
                    Localized::same(format!("{} (S3 {s3})", list.prefix_list_id))
                }
                _ => target_text(&probe.to),
            };
            // The same destination the rules routed: for S3 in the VPC's region, its prefix
            // list and gateway endpoints.
            let (lists, gateways) = match &probe.to {
                Target::S3 { region: s3 } if s3 == region => (
                    view.s3_prefix_list(s3)
                        .map(|p| p.prefix_list_id.clone())
                        .into_iter()
                        .collect(),
                    view.s3_gateway_endpoints(&vpc_id, s3)
                        .iter()
                        .map(|e| e.vpc_endpoint_id.clone())
                        .collect(),
                ),
                _ => (Vec::new(), Vec::new()),
            };
            let chosen = route_for(
                view,
                table,
                &routing_destination(probe, region, &lists, &gateways),
            );
            // Past a transit gateway, peering, VGW or appliance nothing is visible from here.
            let leaves_vpc =
                chosen.is_some_and(|c| matches!(target_of(c.route), RouteTarget::Elsewhere(_)));
            let text = match chosen {
                Some(c) => {
                    let dest = c.route.destination();
                    let via = match target_of(c.route) {
                        RouteTarget::Missing => "?".to_string(),
                        RouteTarget::Local => "local".to_string(),
                        _ => c.route.target().unwrap_or("?").to_string(),
                    };
                    t!("{rtb}: {dest} via {via}", "{rtb}: {dest} → {via}")
                }
                None => t!(
                    "{rtb}: no route to {what}",
                    "{rtb}: {what}(으)로 가는 경로 없음",
                    what = what
                ),
            };
            let code = blocking(ROUTING);
            Step {
                state: match code {
                    Some(_) => StepState::Blocked,
                    None if leaves_vpc => StepState::Unknown,
                    None => StepState::Open,
                },
                text,
                code,
            }
        }
    };
    steps.push(route_step);
    if !verdict.routing_inspected {
        // The rules walked nothing past the route table: nor does the walk.
        return Walk {
            to: target_text(&probe.to),
            steps,
        };
    }

    if let Some(code) = blocking(AT_THE_ENDPOINT) {
        steps.push(Step {
            state: StepState::Blocked,
            text: t!("the endpoint", "엔드포인트"),
            code: Some(code),
        });
    }

    let groups_text = match &probe.from.security_groups {
        Some(ids) if !ids.is_empty() => t!(
            "{ids} egress 443",
            "{ids} 아웃바운드 443",
            ids = ids.join(", ")
        ),
        _ => t!("security groups egress 443", "보안 그룹 아웃바운드 443"),
    };
    let sg_code = blocking(&[Code::TaskSgBlocksHttps]);
    let groups_known = probe.from.security_groups.as_ref().is_some_and(|ids| {
        !ids.is_empty() && ids.iter().all(|id| view.security_group(id).is_some())
    });
    steps.push(Step {
        state: match sg_code {
            Some(_) => StepState::Blocked,
            None if groups_known => StepState::Open,
            None => StepState::Unknown,
        },
        text: groups_text,
        code: sg_code,
    });

    let acl = view.network_acl_for_subnet(subnet_id, &vpc_id);
    let nacl_code = blocking(&[Code::NaclBlocksHttps]);
    steps.push(Step {
        state: match (acl, nacl_code) {
            (_, Some(_)) => StepState::Blocked,
            (Some(_), None) if view.network_acls.is_some() => StepState::Open,
            _ => StepState::Unknown,
        },
        text: match acl {
            Some(acl) => Localized::same(acl.network_acl_id.clone()),
            None => t!("network ACL", "네트워크 ACL"),
        },
        code: nacl_code,
    });

    if let Some(at) = steps.iter().position(|s| s.state == StepState::Blocked) {
        steps.truncate(at + 1);
    }
    Walk {
        to: target_text(&probe.to),
        steps,
    }
}

/// What routing sees of the probe's destination.
fn routing_destination<'a>(
    probe: &Probe,
    region: &str,
    prefix_list_ids: &'a [String],
    endpoint_ids: &'a [String],
) -> Destination<'a> {
    match (&probe.to, probe.dialled) {
        (Target::S3 { region: s3 }, ip) if s3 == region => Destination::S3 {
            ip,
            prefix_list_ids,
            endpoint_ids,
        },
        (Target::InVpc { ip, .. }, _) => Destination::Ip(*ip),
        (_, Some(ip)) => Destination::Ip(ip),
        (_, None) => Destination::AnyPublic { ipv6: false },
    }
}

/// `S3 (ap-northeast-2)`, `com.amazonaws.ap-northeast-2.ecr.api`, the host, or the address.
pub fn target_text(target: &Target) -> Localized {
    match target {
        Target::S3 { region } => Localized::same(format!("S3 ({region})")),
        Target::Service { short, region } => {
            Localized::same(format!("com.amazonaws.{region}.{short}"))
        }
        Target::Internet { what } => Localized::same(what.clone()),
        Target::Upstream { ip } => Localized::same(ip.to_string()),
        Target::InVpc { ip, .. } => Localized::same(ip.to_string()),
    }
}
