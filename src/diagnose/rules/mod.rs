//! The rules, destination by destination: S3 for image layers, interface-endpoint services
//! (ECR API, ECR registry, Secrets Manager, SSM, CloudWatch Logs), the internet for other
//! registries, and addresses inside the VPC.
//!
//! Order encodes likelihood: routing first (nothing else matters without a route), then the
//! gateway or endpoint on the route, then security groups and network ACLs.
//!
//! This module holds the shared state ([`Rules`]) and the flow; each kind of destination has
//! its own submodule, and causes outside the network are in [`non_network`].

use std::net::IpAddr;

use ipnet::IpNet;

use super::path::{
    free_rule_number, groups_admit, nacl_verdict, route_for, target_of, ChosenRoute, Destination,
    NaclVerdict, Peer, RouteTarget, EPHEMERAL_PORTS, HTTPS,
};
use super::policy::{self, PolicyDecision};
use super::{Code, FailureReport, Finding, Severity};
use crate::event::FailedTask;
use crate::localized::Localized;
use crate::network::{
    Association, NatGateway, NetworkAcl, NetworkView, Route, RouteTable, SecurityGroup, Subnet,
    VpcEndpoint,
};
use crate::reason::{self, Hop, Symptom};
use crate::t;
mod filters;
mod non_network;
mod routes;
mod s3;
mod service;

use non_network::non_network_findings;

/// `network` is the view, or why there is none (a line for `not_inspected`).
pub(super) fn run(
    task: &FailedTask,
    failure: &FailureReport,
    network: Result<&NetworkView, Localized>,
    region: Option<&str>,
    not_inspected: &mut Vec<Localized>,
) -> Vec<Finding> {
    if !failure.symptom.is_network() && failure.symptom != Symptom::Unknown {
        return non_network_findings(task, failure, network.ok(), region);
    }
    let rules = match Rules::new(task, failure, network, region, not_inspected) {
        Ok(rules) => rules,
        Err(finding) => return vec![*finding],
    };
    rules.evaluate()
}

/// What a failing hop needs to reach.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// S3 in a region (image layers, env files).
    S3 { region: String },
    /// An AWS service with an interface endpoint: `short` is `ecr.api`, `ecr.dkr`…
    Service { short: &'static str, region: String },
    /// A host on the internet that no VPC endpoint serves.
    Internet { what: String },
}

struct Rules<'a> {
    task: &'a FailedTask,
    failure: &'a FailureReport,
    view: &'a NetworkView,
    region: &'a str,
    vpc_id: String,
    subnet: &'a Subnet,
    table: Option<(&'a RouteTable, Association)>,
    acl: Option<&'a NetworkAcl>,
    /// The task's security groups; `None` when they could not be learned.
    task_groups: Option<Vec<&'a SecurityGroup>>,
    task_group_ids: Vec<String>,
    /// Whether the task had a public IP; `None` when unknown.
    public_ip: Option<bool>,
    findings: Vec<Finding>,
    not_inspected: &'a mut Vec<Localized>,
    /// The steps of the path that were found open, for NETWORK_PATH_LOOKS_OPEN.
    open_path: Vec<Localized>,
    /// False when the route tables could not be read, so nothing can be said about the path.
    routing_inspected: bool,
}

impl<'a> Rules<'a> {
    fn new(
        task: &'a FailedTask,
        failure: &'a FailureReport,
        network: Result<&'a NetworkView, Localized>,
        region: Option<&'a str>,
        not_inspected: &'a mut Vec<Localized>,
    ) -> Result<Self, Box<Finding>> {
        let hint = network_hint(failure);
        let view = match network {
            Ok(view) => view,
            Err(why) => {
                not_inspected.push(why);
                return Err(Box::new(incomplete(
                    t!(
                    "The network was not inspected, so the cause cannot be confirmed. {hint_en}",
                    "네트워크를 점검하지 않아 원인을 확정할 수 없습니다. {hint_ko}",
                    hint_en = hint.en,
                    hint_ko = hint.ko
                ),
                    vec![],
                )));
            }
        };
        let Some(region) = region else {
            return Err(Box::new(incomplete(
                t!(
                    "The event names no region, so the network cannot be evaluated. {hint_en}",
                    "이벤트에 리전이 없어 네트워크를 평가할 수 없습니다. {hint_ko}",
                    hint_en = hint.en,
                    hint_ko = hint.ko
                ),
                vec![],
            )));
        };
        let Some(subnet_id) = task.subnet_id.as_deref() else {
            not_inspected.push(t!(
                "the task's subnet: the event has no ENI attachment (bridge or host network mode uses the container instance's subnet)",
                "태스크 서브넷: 이벤트에 ENI 연결 정보가 없습니다(bridge/host 네트워크 모드는 컨테이너 인스턴스의 서브넷을 사용)"
            ));
            return Err(Box::new(incomplete(
                t!(
                    "The event does not say which subnet the task ran in, so its routing was not inspected. {hint_en}",
                    "이벤트에 태스크가 실행된 서브넷 정보가 없어 라우팅을 점검하지 못했습니다. {hint_ko}",
                    hint_en = hint.en,
                    hint_ko = hint.ko
                ),
                vec![],
            )));
        };
        let Some(subnet) = view.subnet(subnet_id) else {
            not_inspected.push(t!(
                "subnet {subnet_id}: not in the network view",
                "서브넷 {subnet_id}: 네트워크 정보에 없음"
            ));
            return Err(Box::new(incomplete(
                t!(
                    "Subnet {subnet_id} is not in the network view, so its routing was not inspected. {hint_en}",
                    "네트워크 정보에 서브넷 {subnet_id}가 없어 라우팅을 점검하지 못했습니다. {hint_ko}",
                    hint_en = hint.en,
                    hint_ko = hint.ko
                ),
                vec![],
            )));
        };
        let vpc_id = subnet.vpc_id.clone().unwrap_or_default();
        let table = view.route_table_for_subnet(subnet_id, &vpc_id);
        let acl = view.network_acl_for_subnet(subnet_id, &vpc_id);

        for error in view.inspection_errors.iter().flatten() {
            not_inspected.push(t!(
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
            not_inspected.push(t!(
                "route tables (RouteTables)",
                "라우팅 테이블(RouteTables)"
            ));
        } else if table.is_none() {
            routing_inspected = false;
            not_inspected.push(t!(
                "the route table of {subnet_id}: neither an explicit association nor the VPC's main table is in the view",
                "{subnet_id}의 라우팅 테이블: 명시적 연결도 VPC 기본 테이블도 네트워크 정보에 없음"
            ));
        }
        if view.network_acls.is_none() {
            not_inspected.push(t!(
                "network ACLs (NetworkAcls)",
                "네트워크 ACL(NetworkAcls)"
            ));
        }

        let service = task
            .service_name()
            .and_then(|name| view.ecs_service(name, task.cluster_arn.as_deref()));
        let awsvpc = service.and_then(|s| s.awsvpc());
        if awsvpc.is_none() {
            let why = match (task.service_name(), view.services.is_some()) {
                (None, _) => t!(
                    "the task's security groups and public IP: a standalone task ({group}) has no service to read them from",
                    "태스크 보안 그룹과 퍼블릭 IP: 독립 실행 태스크({group})는 서비스 정보가 없어 확인할 수 없음",
                    group = task.group.as_deref().unwrap_or("no group")
                ),
                (Some(name), true) => t!(
                    "the task's security groups and public IP: service {name} is not in the view",
                    "태스크 보안 그룹과 퍼블릭 IP: 서비스 {name}이(가) 네트워크 정보에 없음"
                ),
                (Some(name), false) => t!(
                    "the task's security groups and public IP: ECS services (Services) were not inspected, so service {name}'s awsvpcConfiguration is unknown",
                    "태스크 보안 그룹과 퍼블릭 IP: ECS 서비스(Services)를 점검하지 않아 서비스 {name}의 awsvpcConfiguration을 알 수 없음"
                ),
            };
            not_inspected.push(why);
        }
        let task_group_ids: Vec<String> = awsvpc
            .map(|a| a.security_groups.clone())
            .unwrap_or_default();
        let task_groups = match awsvpc {
            None => None,
            Some(_) if view.security_groups.is_none() => {
                not_inspected.push(t!(
                    "security groups (SecurityGroups)",
                    "보안 그룹(SecurityGroups)"
                ));
                None
            }
            Some(_) => {
                let found: Vec<&SecurityGroup> = task_group_ids
                    .iter()
                    .filter_map(|id| view.security_group(id))
                    .collect();
                if found.len() < task_group_ids.len() {
                    not_inspected.push(t!(
                        "some of the task's security groups ({ids}) are not in the view",
                        "태스크 보안 그룹 일부({ids})가 네트워크 정보에 없음",
                        ids = task_group_ids.join(", ")
                    ));
                    None
                } else {
                    Some(found)
                }
            }
        };
        // awsvpc tasks on EC2 container instances never get a public IP.
        let on_ec2 = task
            .launch_type
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case("EC2"));
        let public_ip = if on_ec2 {
            Some(false)
        } else {
            awsvpc.map(|a| a.public_ip_enabled())
        };

        Ok(Rules {
            task,
            failure,
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

    fn evaluate(mut self) -> Vec<Finding> {
        let ip = self.failure.ip;
        let in_vpc = ip.filter(|ip| {
            self.view
                .vpc_cidrs(&self.vpc_id)
                .iter()
                .any(|c| c.contains(ip))
        });
        let targets = self.targets();
        if self.routing_inspected {
            if let Some(ip) = in_vpc {
                let expected = targets.iter().find_map(|t| match t {
                    Target::Service { short, region } => {
                        Some(format!("com.amazonaws.{region}.{short}"))
                    }
                    _ => None,
                });
                self.evaluate_in_vpc(ip, expected);
            } else if targets.is_empty() {
                self.not_inspected.push(t!(
                    "which dependency failed: the message names none and the image is unknown",
                    "실패한 대상: 메시지에 대상이 없고 이미지도 알 수 없음"
                ));
            } else {
                for target in &targets {
                    match target {
                        Target::S3 { region } => self.evaluate_s3(region),
                        Target::Service { short, region } => self.evaluate_service(short, region),
                        Target::Internet { what } => self.evaluate_internet(what),
                    }
                }
            }
        }
        self.finish()
    }

    fn finish(mut self) -> Vec<Finding> {
        // Several destinations (an unknown hop checks ecr.api, ecr.dkr and S3) can note the
        // same missing part; say it once.
        let mut seen = std::collections::HashSet::new();
        self.not_inspected.retain(|n| seen.insert(n.en.clone()));
        let blocking = self
            .findings
            .iter()
            .any(|f| f.severity == Severity::Critical);
        if !blocking {
            let finding = if self.routing_inspected {
                self.looks_open()
            } else {
                let hint = network_hint(self.failure);
                incomplete(
                    t!(
                        "The task subnet's route table could not be read, so the path was not evaluated. {hint_en}",
                        "태스크 서브넷의 라우팅 테이블을 읽지 못해 경로를 평가하지 못했습니다. {hint_ko}",
                        hint_en = hint.en,
                        hint_ko = hint.ko
                    ),
                    vec![],
                )
            };
            self.findings.insert(0, finding);
        }
        let already_incomplete = self
            .findings
            .iter()
            .any(|f| f.code == Code::InspectionIncomplete);
        if !self.not_inspected.is_empty() && !already_incomplete {
            let list_en = join(self.not_inspected.iter().map(|l| l.en.as_str()));
            let list_ko = join(self.not_inspected.iter().map(|l| l.ko.as_str()));
            self.findings.push(Finding {
                code: Code::InspectionIncomplete,
                severity: Severity::Warning,
                summary: t!(
                    "Some of the path was not inspected: {list_en}.",
                    "경로 일부를 점검하지 못했습니다: {list_ko}."
                ),
                evidence: vec![],
                fix: t!(
                    "Provide the missing parts (snapshot keys, or the IAM read permissions listed in the README) and run the diagnosis again.",
                    "빠진 정보(스냅샷 키 또는 README에 나열된 IAM 읽기 권한)를 제공한 뒤 다시 진단하세요."
                ),
                commands: vec![],
            });
        }
        self.findings
    }

    /// The destinations the failing hop needs, most specific first.
    fn targets(&self) -> Vec<Target> {
        let failure = self.failure;
        let image_registry = failure.image.as_deref().map(reason::registry_of_image);
        let image_is_ecr = image_registry
            .as_deref()
            .is_some_and(reason::is_ecr_private_registry);
        let host_region = failure.host.as_deref().and_then(reason::region_in_host);
        let registry_region = image_registry
            .as_deref()
            .filter(|h| reason::is_ecr_private_registry(h))
            .and_then(reason::region_in_host);
        let arn_region = region_in_arn(&failure.reason);
        let own = self.region.to_string();
        let service = |short: &'static str, region: Option<String>| Target::Service {
            short,
            region: region.unwrap_or_else(|| own.clone()),
        };
        match failure.hop {
            Hop::LayerStorage | Hop::EnvFiles => {
                let owner_region = failure
                    .ip_owner
                    .as_ref()
                    .filter(|o| o.is_s3())
                    .map(|o| o.region.clone());
                let region = owner_region
                    .or(host_region)
                    .or(registry_region)
                    .unwrap_or(own);
                vec![Target::S3 { region }]
            }
            Hop::EcrAuth => vec![service("ecr.api", host_region.or(registry_region))],
            Hop::Registry => {
                let host = failure.host.clone().or(image_registry).unwrap_or_default();
                if reason::is_ecr_private_registry(&host) {
                    vec![service("ecr.dkr", reason::region_in_host(&host))]
                } else {
                    vec![Target::Internet {
                        what: if host.is_empty() {
                            "the registry".into()
                        } else {
                            host
                        },
                    }]
                }
            }
            Hop::SecretsManager => vec![service("secretsmanager", host_region.or(arn_region))],
            Hop::Ssm => vec![service("ssm", host_region.or(arn_region))],
            Hop::CloudwatchLogs => vec![service("logs", host_region)],
            Hop::Unknown => {
                if image_is_ecr {
                    let region = registry_region.unwrap_or_else(|| own.clone());
                    vec![
                        service("ecr.api", Some(region.clone())),
                        service("ecr.dkr", Some(region.clone())),
                        Target::S3 { region },
                    ]
                } else if let Some(registry) = image_registry {
                    vec![Target::Internet { what: registry }]
                } else {
                    vec![]
                }
            }
        }
    }

    // ---- shared text ---------------------------------------------------------------------

    fn subnet_evidence(&self, table: &RouteTable) -> Localized {
        let subnet = self.subnet.subnet_id.as_str();
        let az = self.subnet.availability_zone.as_deref().unwrap_or("?");
        let rtb = table.route_table_id.as_str();
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
        let ip = self.failure.ip?;
        let owner = self.failure.ip_owner.as_ref()?;
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

    /// ` (52.219.204.42)` when the message named the dialled address.
    /// `(52.219.204.42)` when the message named the dialled address; English puts a space
    /// before it.
    fn dialled_text(&self) -> Localized {
        self.failure.ip.map_or_else(Localized::default, |ip| {
            Localized::new(format!(" ({ip})"), format!("({ip})"))
        })
    }

    fn looks_open(&mut self) -> Finding {
        let mut evidence = std::mem::take(&mut self.open_path);
        if evidence.is_empty() {
            evidence.push(t!(
                "No blocking route, gateway or filter was found.",
                "차단하는 경로, 게이트웨이, 필터를 찾지 못했습니다."
            ));
        }
        let what = network_hint(self.failure);
        Finding {
            code: Code::NetworkPathLooksOpen,
            severity: Severity::Info,
            summary: t!(
                "Nothing inspected blocks the path from subnet {subnet}: {what_en}",
                "서브넷 {subnet}에서 점검한 범위에는 경로를 막는 것이 없습니다: {what_ko}",
                subnet = self.subnet.subnet_id,
                what_en = what.en,
                what_ko = what.ko
            ),
            evidence,
            fix: t!(
                "Check what this tool does not see: custom DNS (DHCP options, Route 53 Resolver rules, DNS Firewall), a network firewall or proxy on the path, and the service's health at the time. If later tasks started, the failure may have been transient.",
                "이 도구가 보지 못하는 부분을 확인하세요: 사용자 지정 DNS(DHCP 옵션, Route 53 Resolver 규칙, DNS 방화벽), 경로상의 네트워크 방화벽이나 프록시, 당시 서비스 상태. 이후 태스크가 정상 시작되었다면 일시적 장애였을 수 있습니다."
            ),
            commands: vec![],
        }
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
    Usable {
        via: Localized,
    },
}

impl RouteVerdict<'_> {
    fn is_usable(&self) -> bool {
        matches!(self, RouteVerdict::Usable { .. })
    }

    fn via(&self) -> String {
        match self {
            RouteVerdict::Usable { via } => via.en.clone(),
            _ => String::new(),
        }
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

/// The region in a Secrets Manager or SSM ARN quoted in the message.
fn region_in_arn(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    for marker in [":secretsmanager:", ":ssm:"] {
        if let Some(at) = lower.find(marker) {
            let rest = &lower[at + marker.len()..];
            let region = rest.split(':').next()?;
            if reason::looks_like_region(region) {
                return Some(region.to_string());
            }
        }
    }
    None
}

fn join<'s>(items: impl Iterator<Item = &'s str>) -> String {
    items.collect::<Vec<_>>().join("; ")
}

fn incomplete(summary: Localized, evidence: Vec<Localized>) -> Finding {
    Finding {
        code: Code::InspectionIncomplete,
        severity: Severity::Warning,
        summary,
        evidence,
        fix: t!(
            "Run again with the network: `--network snapshot.json` (see the README for the AWS CLI commands that build one) or `--live`.",
            "네트워크 정보와 함께 다시 실행하세요: `--network snapshot.json`(만드는 AWS CLI 명령은 README 참고) 또는 `--live`."
        ),
        commands: vec![],
    }
}

/// What the message alone says about where to look.
fn network_hint(failure: &FailureReport) -> Localized {
    let symptom = failure.symptom.as_str();
    let target_en = match (&failure.ip, &failure.ip_owner) {
        (Some(ip), Some(o)) => format!("{ip} ({} {})", o.service, o.region),
        (Some(ip), None) => ip.to_string(),
        (None, _) => failure
            .host
            .clone()
            .unwrap_or_else(|| "its dependency".into()),
    };
    let target_ko = match (&failure.ip, &failure.host) {
        (None, None) => "대상".to_string(),
        _ => target_en.clone(),
    };
    match failure.hop {
        Hop::LayerStorage | Hop::EnvFiles => t!(
            "The task got a {symptom} reaching S3 at {target_en}, where ECR keeps image layers: check that the task subnet's route table has the S3 gateway endpoint's prefix-list route (or a working NAT route).",
            "태스크가 ECR 이미지 레이어가 있는 S3({target_ko})에 접근하다 {symptom} 오류가 났습니다. 태스크 서브넷 라우팅 테이블에 S3 게이트웨이 엔드포인트의 접두사 목록 경로(또는 정상 NAT 경로)가 있는지 확인하세요."
        ),
        Hop::EcrAuth | Hop::Registry | Hop::SecretsManager | Hop::Ssm | Hop::CloudwatchLogs => t!(
            "The task got a {symptom} on {hop} at {target_en}: check the subnet's default route or the VPC endpoint for it, and the security groups on both ends.",
            "태스크가 {hop}({target_ko})에 접근하다 {symptom} 오류가 났습니다. 서브넷 기본 경로나 해당 VPC 엔드포인트, 양쪽 보안 그룹을 확인하세요.",
            hop = failure.hop.as_str()
        ),
        Hop::Unknown => t!(
            "The task got a {symptom} error ({target_en}).",
            "태스크에서 {symptom} 오류가 발생했습니다({target_ko})."
        ),
    }
}
