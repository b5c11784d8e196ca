//! The rules, destination by destination: S3 for image layers, interface-endpoint services
//! (ECR API, ECR registry, Secrets Manager, SSM, CloudWatch Logs), the internet for other
//! registries, and addresses inside the VPC.
//!
//! Order encodes likelihood: routing first (nothing else matters without a route), then the
//! gateway or endpoint on the route, then security groups and network ACLs.

use std::net::IpAddr;

use ipnet::IpNet;

use super::path::{
    free_rule_number, groups_admit, nacl_verdict, route_for, target_of, ChosenRoute,
    Destination, NaclVerdict, Peer, RouteTarget, EPHEMERAL_PORTS, HTTPS,
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

pub(super) fn run(
    task: &FailedTask,
    failure: &FailureReport,
    network: Option<&NetworkView>,
    region: Option<&str>,
    not_inspected: &mut Vec<Localized>,
) -> Vec<Finding> {
    if !failure.symptom.is_network() && failure.symptom != Symptom::Unknown {
        return non_network_findings(task, failure, network, region);
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
        network: Option<&'a NetworkView>,
        region: Option<&'a str>,
        not_inspected: &'a mut Vec<Localized>,
    ) -> Result<Self, Box<Finding>> {
        let hint = network_hint(failure);
        let Some(view) = network else {
            not_inspected.push(t!(
                "the task's network: no network view was given (use --network FILE or --live)",
                "태스크 네트워크: 네트워크 정보가 없습니다(--network FILE 또는 --live 사용)"
            ));
            return Err(Box::new(incomplete(
                t!(
                    "The network was not inspected, so the cause cannot be confirmed. {hint_en}",
                    "네트워크를 점검하지 않아 원인을 확정할 수 없습니다. {hint_ko}",
                    hint_en = hint.en,
                    hint_ko = hint.ko
                ),
                vec![],
            )));
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
            not_inspected.push(t!("route tables (RouteTables)", "라우팅 테이블(RouteTables)"));
        } else if table.is_none() {
            routing_inspected = false;
            not_inspected.push(t!(
                "the route table of {subnet_id}: neither an explicit association nor the VPC's main table is in the view",
                "{subnet_id}의 라우팅 테이블: 명시적 연결도 VPC 기본 테이블도 네트워크 정보에 없음"
            ));
        }
        if view.network_acls.is_none() {
            not_inspected.push(t!("network ACLs (NetworkAcls)", "네트워크 ACL(NetworkAcls)"));
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
        let in_vpc = ip.filter(|ip| self.view.vpc_cidrs(&self.vpc_id).iter().any(|c| c.contains(ip)));
        let targets = self.targets();
        if self.routing_inspected {
            if let Some(ip) = in_vpc {
                let expected = targets.iter().find_map(|t| match t {
                    Target::Service { short, region } => Some(format!("com.amazonaws.{region}.{short}")),
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
        let blocking = self.findings.iter().any(|f| f.severity == Severity::Critical);
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
        let already_incomplete = self.findings.iter().any(|f| f.code == Code::InspectionIncomplete);
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
                        what: if host.is_empty() { "the registry".into() } else { host },
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

    // ---- S3 ----------------------------------------------------------------------------

    fn evaluate_s3(&mut self, s3_region: &str) {
        let Some((table, _)) = self.table else { return };
        let ip = self.failure.ip;
        let layer_bucket = format!("prod-{s3_region}-starport-layer-bucket");
        if s3_region != self.region {
            let destination = match ip {
                Some(ip) => Destination::Ip(ip),
                None => Destination::AnyPublic { ipv6: false },
            };
            let chosen = route_for(self.view, table, &destination);
            let verdict = self.route_verdict(chosen);
            if verdict.is_usable() {
                self.open_path.push(t!(
                    "S3 in {s3_region} is reached through {via} (a gateway endpoint only serves its own region, {region}).",
                    "{s3_region} 리전의 S3는 {via}를 통해 접근합니다(게이트웨이 엔드포인트는 자기 리전 {region}만 지원).",
                    via = verdict.via(),
                    region = self.region
                ));
                self.check_filters(&peer_for(ip, None), "S3");
            } else if !self.push_route_problem(&verdict, &format!("S3 ({s3_region})")) {
                self.push_cross_region(s3_region, &layer_bucket, table);
            }
            return;
        }

        let service_name = format!("com.amazonaws.{s3_region}.s3");
        let gateways: Vec<&VpcEndpoint> = self
            .view
            .endpoints_for(&self.vpc_id, &service_name)
            .into_iter()
            .filter(|e| e.is_gateway())
            .collect();
        let pl = self.view.s3_prefix_list(s3_region);
        let pl_ids: Vec<String> = pl.map(|p| p.prefix_list_id.clone()).into_iter().collect();
        let endpoint_ids: Vec<String> = gateways.iter().map(|e| e.vpc_endpoint_id.clone()).collect();
        if self.view.vpc_endpoints.is_none() {
            self.not_inspected.push(t!("VPC endpoints (VpcEndpoints)", "VPC 엔드포인트(VpcEndpoints)"));
        }
        let destination = Destination::S3 {
            ip,
            prefix_list_ids: &pl_ids,
            endpoint_ids: &endpoint_ids,
        };
        let chosen = route_for(self.view, table, &destination);
        if let Some(c) = chosen.filter(|c| c.via_s3_endpoint) {
            if c.route.is_blackhole() {
                self.push_blackhole(c.route, table, "S3");
                return;
            }
            let endpoint = c
                .route
                .gateway_id
                .as_deref()
                .and_then(|id| self.view.endpoint(id))
                .or(gateways.first().copied());
            self.open_path.push(t!(
                "{rtb} routes S3 ({dest}) to gateway endpoint {vpce}.",
                "{rtb}은(는) S3({dest}) 트래픽을 게이트웨이 엔드포인트 {vpce}로 보냅니다.",
                rtb = table.route_table_id,
                dest = c.route.destination(),
                vpce = c.route.gateway_id.as_deref().unwrap_or("?")
            ));
            if let Some(endpoint) = endpoint {
                self.check_s3_policy(endpoint, s3_region);
            }
            let peer = Peer {
                nets: match ip {
                    Some(ip) => vec![IpNet::from(ip)],
                    None => pl.map(|p| p.cidrs().collect()).unwrap_or_default(),
                },
                prefix_list_ids: pl_ids.clone(),
                group_ids: vec![],
            };
            self.check_filters(&peer, "S3");
            return;
        }

        let verdict = self.route_verdict(chosen);
        let usable = verdict.is_usable();
        if usable {
            let via = verdict.via();
            self.open_path.push(t!(
                "S3 traffic leaves through {via}.",
                "S3 트래픽은 {via}를 통해 나갑니다.",
            ));
            if let Some(endpoint) = gateways.first() {
                self.open_path.push(t!(
                    "S3 gateway endpoint {vpce} exists but is not associated with {rtb}: associating it would keep S3 traffic off the NAT gateway (and its data charges).",
                    "S3 게이트웨이 엔드포인트 {vpce}가 있지만 {rtb}에 연결되어 있지 않습니다. 연결하면 S3 트래픽이 NAT 게이트웨이를 거치지 않습니다(데이터 처리 요금 절감).",
                    vpce = endpoint.vpc_endpoint_id,
                    rtb = table.route_table_id
                ));
            }
            self.check_filters(&peer_for(ip, None), "S3");
            return;
        }
        if let Some(endpoint) = gateways.first() {
            self.push_s3_route_missing(endpoint, table, pl.map(|p| p.prefix_list_id.as_str()), s3_region);
            self.push_route_problem(&verdict, "S3");
        } else if self.view.vpc_endpoints.is_some() {
            self.push_route_problem(&verdict, "S3");
            self.push_s3_gateway_missing(table, s3_region, &verdict);
        } else {
            self.push_route_problem(&verdict, "S3");
        }
    }

    fn push_s3_route_missing(
        &mut self,
        endpoint: &VpcEndpoint,
        table: &RouteTable,
        pl_id: Option<&str>,
        s3_region: &str,
    ) {
        let vpce = endpoint.vpc_endpoint_id.as_str();
        let rtb = table.route_table_id.as_str();
        let subnet = self.subnet.subnet_id.as_str();
        let pl = pl_id.unwrap_or("the S3 prefix list");
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.extend(self.owner_evidence());
        let associated = if endpoint.route_table_ids.is_empty() {
            t!("no route table", "어떤 라우팅 테이블에도")
        } else {
            Localized::same(endpoint.route_table_ids.join(", "))
        };
        evidence.push(t!(
            "S3 gateway endpoint {vpce} (com.amazonaws.{s3_region}.s3) is associated with {a_en} but not with {rtb}.",
            "S3 게이트웨이 엔드포인트 {vpce}(com.amazonaws.{s3_region}.s3)는 {a_ko} 연결되어 있지만 {rtb}에는 연결되어 있지 않습니다.",
            a_en = associated.en,
            a_ko = if endpoint.route_table_ids.is_empty() { associated.ko.clone() } else { format!("{}에", associated.ko) }
        ));
        evidence.push(t!(
            "{rtb} has no route to {pl} and no usable default route (0.0.0.0/0).",
            "{rtb}에는 {pl}로 가는 경로도, 사용 가능한 기본 경로(0.0.0.0/0)도 없습니다."
        ));
        let mut tables = vec![rtb.to_string()];
        let siblings = self.sibling_tables_without(endpoint, table);
        if !siblings.is_empty() {
            let list = siblings
                .iter()
                .map(|(t, s)| format!("{t} ({s})"))
                .collect::<Vec<_>>()
                .join(", ");
            evidence.push(t!(
                "Route tables of the service's other subnets lack it too: {list}.",
                "서비스의 다른 서브넷 라우팅 테이블에도 이 경로가 없습니다: {list}."
            ));
            tables.extend(siblings.into_iter().map(|(t, _)| t));
        }
        let ip_text = self.dialled_text();
        self.findings.push(Finding {
            code: Code::S3RouteMissing,
            severity: Severity::Critical,
            summary: t!(
                "Route table {rtb} of subnet {subnet} has no route to S3 gateway endpoint {vpce}, so image layers from S3{ip_text} cannot be downloaded.",
                "서브넷 {subnet}의 라우팅 테이블 {rtb}에 S3 게이트웨이 엔드포인트 {vpce}로 가는 경로가 없어 S3{ip_text}에서 이미지 레이어를 내려받지 못했습니다."
            ),
            evidence,
            fix: t!(
                "Associate the S3 gateway endpoint with the route table(s); that adds the prefix-list route. Nothing needs restarting: the next task pulls through the endpoint.",
                "S3 게이트웨이 엔드포인트를 라우팅 테이블에 연결하세요. 연결하면 접두사 목록 경로가 추가됩니다. 재시작은 필요 없으며 다음 태스크부터 엔드포인트를 통해 이미지를 받습니다."
            ),
            commands: vec![format!(
                "aws ec2 modify-vpc-endpoint --region {region} --vpc-endpoint-id {vpce} --add-route-table-ids {tables}",
                region = self.region,
                tables = tables.join(" ")
            )],
        });
    }

    /// Route tables of the service's other subnets that lack the endpoint too: in the
    /// reference case only some private tables were associated, and the next task may land in
    /// any of the service's subnets.
    fn sibling_tables_without(&self, endpoint: &VpcEndpoint, current: &RouteTable) -> Vec<(String, String)> {
        let Some(awsvpc) = self
            .task
            .service_name()
            .and_then(|n| self.view.ecs_service(n, self.task.cluster_arn.as_deref()))
            .and_then(|s| s.awsvpc())
        else {
            return vec![];
        };
        let mut out: Vec<(String, String)> = Vec::new();
        for subnet in &awsvpc.subnets {
            if let Some((t, _)) = self.view.route_table_for_subnet(subnet, &self.vpc_id) {
                let has_route = t.routes.iter().any(|r| {
                    r.gateway_id.as_deref() == Some(endpoint.vpc_endpoint_id.as_str())
                }) || endpoint.route_table_ids.contains(&t.route_table_id);
                if t.route_table_id != current.route_table_id
                    && !has_route
                    && !out.iter().any(|(id, _)| *id == t.route_table_id)
                {
                    out.push((t.route_table_id.clone(), subnet.clone()));
                }
            }
        }
        out
    }

    fn push_s3_gateway_missing(&mut self, table: &RouteTable, s3_region: &str, verdict: &RouteVerdict) {
        let rtb = table.route_table_id.as_str();
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.extend(self.owner_evidence());
        evidence.push(t!(
            "The VPC {vpc} has no S3 gateway endpoint (com.amazonaws.{s3_region}.s3).",
            "VPC {vpc}에 S3 게이트웨이 엔드포인트(com.amazonaws.{s3_region}.s3)가 없습니다.",
            vpc = self.vpc_id
        ));
        if matches!(verdict, RouteVerdict::NoRoute) {
            evidence.push(t!(
                "{rtb} has no default route (0.0.0.0/0) either.",
                "{rtb}에는 기본 경로(0.0.0.0/0)도 없습니다."
            ));
        }
        let severity = if self.findings.iter().any(|f| f.severity == Severity::Critical) {
            Severity::Warning
        } else {
            Severity::Critical
        };
        self.findings.push(Finding {
            code: Code::S3GatewayEndpointMissing,
            severity,
            summary: t!(
                "ECR image layers are stored in S3, but the VPC has no S3 gateway endpoint and subnet {subnet} has no working way out, so the layers cannot be downloaded.",
                "ECR 이미지 레이어는 S3에 저장되지만 VPC에 S3 게이트웨이 엔드포인트가 없고 서브넷 {subnet}에서 나갈 경로도 없어 레이어를 내려받지 못했습니다.",
                subnet = self.subnet.subnet_id
            ),
            evidence,
            fix: t!(
                "Create an S3 gateway endpoint (free of charge) and associate it with the task subnets' route tables.",
                "S3 게이트웨이 엔드포인트(무료)를 만들고 태스크 서브넷의 라우팅 테이블에 연결하세요."
            ),
            commands: vec![format!(
                "aws ec2 create-vpc-endpoint --region {region} --vpc-id {vpc} --vpc-endpoint-type Gateway --service-name com.amazonaws.{s3_region}.s3 --route-table-ids {rtb}",
                region = self.region,
                vpc = self.vpc_id
            )],
        });
    }

    fn push_cross_region(&mut self, s3_region: &str, layer_bucket: &str, table: &RouteTable) {
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.extend(self.owner_evidence());
        evidence.push(t!(
            "The layers are in {layer_bucket} in {s3_region}; the task runs in {region}, and a gateway endpoint only serves its own region.",
            "레이어는 {s3_region} 리전의 {layer_bucket}에 있고 태스크는 {region} 리전에서 실행되며, 게이트웨이 엔드포인트는 자기 리전만 지원합니다.",
            region = self.region
        ));
        evidence.push(t!(
            "{rtb} has no default route (0.0.0.0/0).",
            "{rtb}에는 기본 경로(0.0.0.0/0)가 없습니다.",
            rtb = table.route_table_id
        ));
        let image = self.failure.image.clone().unwrap_or_else(|| "the image".into());
        self.findings.push(Finding {
            code: Code::CrossRegionLayerBucket,
            severity: Severity::Critical,
            summary: t!(
                "The image's layers are in S3 in {s3_region}, another region, which the VPC's S3 gateway endpoint cannot reach, and the subnet has no route to the internet.",
                "이미지 레이어가 다른 리전({s3_region})의 S3에 있어 VPC의 S3 게이트웨이 엔드포인트로는 접근할 수 없고, 서브넷에는 인터넷으로 가는 경로도 없습니다."
            ),
            evidence,
            fix: t!(
                "Replicate the repository into {region} with ECR replication and use the regional image URI, or give the subnet a NAT gateway route.",
                "ECR 복제로 리포지토리를 {region} 리전에 복제한 뒤 해당 리전의 이미지 URI를 사용하거나, 서브넷에 NAT 게이트웨이 경로를 추가하세요.",
                region = self.region
            ),
            commands: vec![format!(
                "aws ecr put-replication-configuration --region {s3_region} --replication-configuration 'rules=[{{destinations=[{{region={region},registryId={account}}}]}}]'  # then use the {region} URI of {image}",
                region = self.region,
                account = self.task.account.as_deref().unwrap_or("<account-id>")
            )],
        });
    }

    fn check_s3_policy(&mut self, endpoint: &VpcEndpoint, s3_region: &str) {
        let bucket = format!("prod-{s3_region}-starport-layer-bucket");
        let resource = format!("arn:aws:s3:::{bucket}/layer");
        let vpce = endpoint.vpc_endpoint_id.as_str();
        match policy::evaluate(endpoint.policy_document.as_deref(), "s3:GetObject", &resource) {
            PolicyDecision::Allowed => self.open_path.push(t!(
                "The policy of {vpce} allows s3:GetObject on {bucket}.",
                "{vpce}의 정책은 {bucket}에 대한 s3:GetObject를 허용합니다."
            )),
            PolicyDecision::Uncertain { why } => self.not_inspected.push(t!(
                "whether the policy of {vpce} allows s3:GetObject on {bucket}: {why}",
                "{vpce} 정책이 {bucket}에 대한 s3:GetObject를 허용하는지: {why}"
            )),
            PolicyDecision::Denied { explicit_statement } => {
                let why = match explicit_statement {
                    Some(sid) => t!("statement {sid} denies it", "{sid} 문이 거부합니다"),
                    None => t!("no statement allows it", "허용하는 문이 없습니다"),
                };
                let policy_json = format!(
                    "{{\"Statement\":[{{\"Sid\":\"AllowEcrLayers\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::{bucket}/*\"}}]}}"
                );
                self.findings.push(Finding {
                    code: Code::S3EndpointPolicyDeniesLayerBucket,
                    severity: Severity::Critical,
                    summary: t!(
                        "The policy of S3 gateway endpoint {vpce} does not allow s3:GetObject on {bucket}, where ECR keeps image layers.",
                        "S3 게이트웨이 엔드포인트 {vpce}의 정책이 ECR 이미지 레이어가 있는 {bucket}에 대한 s3:GetObject를 허용하지 않습니다."
                    ),
                    evidence: vec![t!(
                        "Evaluating the endpoint policy for s3:GetObject on arn:aws:s3:::{bucket}/*: {why_en}.",
                        "엔드포인트 정책을 arn:aws:s3:::{bucket}/*에 대한 s3:GetObject로 평가한 결과: {why_ko}.",
                        why_en = why.en,
                        why_ko = why.ko
                    )],
                    fix: t!(
                        "Add a statement allowing s3:GetObject on arn:aws:s3:::{bucket}/* to the endpoint policy (merge it into the existing statements rather than replacing them).",
                        "엔드포인트 정책에 arn:aws:s3:::{bucket}/*에 대한 s3:GetObject 허용 문을 추가하세요(기존 문을 대체하지 말고 병합)."
                    ),
                    commands: vec![format!(
                        "aws ec2 modify-vpc-endpoint --region {region} --vpc-endpoint-id {vpce} --policy-document '{policy_json}'  # merge with the existing statements",
                        region = self.region
                    )],
                });
            }
        }
    }

    // ---- interface-endpoint services -----------------------------------------------------

    fn evaluate_service(&mut self, short: &str, service_region: &str) {
        let Some((table, _)) = self.table else { return };
        let service_name = format!("com.amazonaws.{service_region}.{short}");
        if self.view.vpc_endpoints.is_none() {
            self.not_inspected.push(t!("VPC endpoints (VpcEndpoints)", "VPC 엔드포인트(VpcEndpoints)"));
        }
        let endpoints: Vec<&VpcEndpoint> = self
            .view
            .endpoints_for(&self.vpc_id, &service_name)
            .into_iter()
            .filter(|e| e.is_interface())
            .collect();
        let ip = self.failure.ip;
        let public_ip_dialled = ip.is_some();

        if let Some(endpoint) = endpoints.iter().find(|e| e.is_available()).copied() {
            let private_dns = endpoint.private_dns_enabled.unwrap_or(false);
            let dns_problem = self.endpoint_dns_problem(endpoint, private_dns);
            let destination = match ip {
                Some(ip) => Destination::Ip(ip),
                None => Destination::AnyPublic { ipv6: false },
            };
            let verdict = self.route_verdict(route_for(self.view, table, &destination));
            if public_ip_dialled || dns_problem.is_some() {
                // The name resolved to a public address, so the endpoint was bypassed.
                match dns_problem {
                    Some(finding) if !verdict.is_usable() => self.findings.push(finding),
                    Some(_) => {
                        self.open_path.push(t!(
                            "{service_name} resolves publicly, and the traffic leaves through {via}.",
                            "{service_name}은(는) 퍼블릭 주소로 해석되며 트래픽은 {via}를 통해 나갑니다.",
                            via = verdict.via()
                        ));
                        self.check_filters(&peer_for(ip, None), &service_name);
                    }
                    None if verdict.is_usable() => {
                        self.open_path.push(t!(
                            "The task dialled a public address of {service_name} and the traffic leaves through {via}.",
                            "태스크가 {service_name}의 퍼블릭 주소로 연결했고 트래픽은 {via}를 통해 나갑니다.",
                            via = verdict.via()
                        ));
                        self.check_filters(&peer_for(ip, None), &service_name);
                    }
                    None => {
                        self.not_inspected.push(t!(
                            "why {service_name} resolved to a public address although {vpce} has private DNS: the VPC's DHCP options and Route 53 Resolver rules were not inspected",
                            "{vpce}에 프라이빗 DNS가 켜져 있는데도 {service_name}이(가) 퍼블릭 주소로 해석된 이유: VPC DHCP 옵션과 Route 53 Resolver 규칙은 점검하지 않음",
                            vpce = endpoint.vpc_endpoint_id
                        ));
                        self.push_route_problem(&verdict, &service_name);
                    }
                }
                return;
            }
            self.check_endpoint_path(endpoint, None);
            return;
        }

        if let Some(endpoint) = endpoints.first() {
            self.not_inspected.push(t!(
                "interface endpoint {vpce} for {service_name} is in state {state}, not available",
                "{service_name}용 인터페이스 엔드포인트 {vpce}의 상태가 available이 아니라 {state}입니다",
                vpce = endpoint.vpc_endpoint_id,
                state = endpoint.state.as_deref().unwrap_or("unknown")
            ));
        }
        let destination = match ip {
            Some(ip) => Destination::Ip(ip),
            None => Destination::AnyPublic { ipv6: false },
        };
        let verdict = self.route_verdict(route_for(self.view, table, &destination));
        if verdict.is_usable() {
            self.open_path.push(t!(
                "{service_name} is reached through {via}.",
                "{service_name}에는 {via}를 통해 접근합니다.",
                via = verdict.via()
            ));
            self.check_filters(&peer_for(ip, None), &service_name);
            return;
        }
        if self.push_route_problem(&verdict, &service_name) {
            return;
        }
        if self.view.vpc_endpoints.is_none() {
            return;
        }
        if service_region != self.region {
            self.push_no_route(table, &service_name, true);
            return;
        }
        self.push_interface_endpoint_missing(table, short, &service_name);
    }

    fn endpoint_dns_problem(&self, endpoint: &VpcEndpoint, private_dns: bool) -> Option<Finding> {
        let vpce = endpoint.vpc_endpoint_id.as_str();
        let service = endpoint.service_name.as_deref().unwrap_or("?");
        if !private_dns {
            return Some(Finding {
                code: Code::EndpointPrivateDnsDisabled,
                severity: Severity::Critical,
                summary: t!(
                    "Interface endpoint {vpce} ({service}) has private DNS turned off, so the service's usual name resolves to public addresses the subnet cannot reach.",
                    "인터페이스 엔드포인트 {vpce}({service})의 프라이빗 DNS가 꺼져 있어 서비스 기본 이름이 서브넷에서 접근할 수 없는 퍼블릭 주소로 해석됩니다."
                ),
                evidence: vec![t!(
                    "{vpce}: PrivateDnsEnabled is false.",
                    "{vpce}: PrivateDnsEnabled가 false입니다."
                )],
                fix: t!(
                    "Turn on private DNS for the endpoint.",
                    "엔드포인트의 프라이빗 DNS를 켜세요."
                ),
                commands: vec![format!(
                    "aws ec2 modify-vpc-endpoint --region {region} --vpc-endpoint-id {vpce} --private-dns-enabled",
                    region = self.region
                )],
            });
        }
        let attributes = self.view.vpc_attributes(&self.vpc_id)?;
        let support = attributes.enable_dns_support.map(|v| v.value);
        let hostnames = attributes.enable_dns_hostnames.map(|v| v.value);
        let mut off = Vec::new();
        if support == Some(false) {
            off.push("enableDnsSupport");
        }
        if hostnames == Some(false) {
            off.push("enableDnsHostnames");
        }
        if off.is_empty() {
            return None;
        }
        let vpc = self.vpc_id.as_str();
        let list = off.join(", ");
        Some(Finding {
            code: Code::VpcDnsDisabled,
            severity: Severity::Critical,
            summary: t!(
                "VPC {vpc} has {list} turned off, so the private DNS name of endpoint {vpce} ({service}) does not resolve to it.",
                "VPC {vpc}의 {list}이(가) 꺼져 있어 엔드포인트 {vpce}({service})의 프라이빗 DNS 이름이 엔드포인트로 해석되지 않습니다."
            ),
            evidence: vec![t!(
                "{vpc}: {list} = false; interface endpoints' private DNS needs both attributes on.",
                "{vpc}: {list} = false. 인터페이스 엔드포인트의 프라이빗 DNS에는 두 속성이 모두 켜져 있어야 합니다."
            )],
            fix: t!(
                "Turn on both DNS attributes of the VPC (one attribute per call).",
                "VPC의 DNS 속성 두 가지를 모두 켜세요(호출당 속성 하나)."
            ),
            commands: off
                .iter()
                .map(|attr| {
                    let flag = if *attr == "enableDnsSupport" { "--enable-dns-support" } else { "--enable-dns-hostnames" };
                    format!(
                        "aws ec2 modify-vpc-attribute --region {region} --vpc-id {vpc} {flag} '{{\"Value\":true}}'",
                        region = self.region
                    )
                })
                .collect(),
        })
    }

    fn push_interface_endpoint_missing(&mut self, table: &RouteTable, short: &str, service_name: &str) {
        let vpc = self.vpc_id.clone();
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.extend(self.owner_evidence());
        evidence.push(t!(
            "VPC {vpc} has no interface endpoint for {service_name}, and {rtb} has no default route (0.0.0.0/0) to reach its public address.",
            "VPC {vpc}에 {service_name} 인터페이스 엔드포인트가 없고, {rtb}에는 퍼블릭 주소로 갈 기본 경로(0.0.0.0/0)도 없습니다.",
            rtb = table.route_table_id
        ));
        let sg_hint = if self.task_group_ids.is_empty() {
            t!(
                "a security group that admits TCP 443 from the task subnet ({cidr})",
                "태스크 서브넷({cidr})에서 오는 TCP 443을 허용하는 보안 그룹",
                cidr = self.subnet.cidr_block.as_deref().unwrap_or("?")
            )
        } else {
            t!(
                "a security group that admits TCP 443 from the task's groups ({groups})",
                "태스크 보안 그룹({groups})에서 오는 TCP 443을 허용하는 보안 그룹",
                groups = self.task_group_ids.join(", ")
            )
        };
        let also = match short {
            "ecr.api" | "ecr.dkr" => t!(
                " An ECR pull needs ecr.api, ecr.dkr and the S3 gateway endpoint together.",
                " ECR 이미지를 받으려면 ecr.api, ecr.dkr 엔드포인트와 S3 게이트웨이 엔드포인트가 모두 필요합니다."
            ),
            _ => Localized::default(),
        };
        self.findings.push(Finding {
            code: Code::InterfaceEndpointMissing,
            severity: Severity::Critical,
            summary: t!(
                "Subnet {subnet} has no way to reach {service_name}: the VPC has no interface endpoint for it and no default route.",
                "서브넷 {subnet}에서 {service_name}에 접근할 방법이 없습니다. VPC에 해당 인터페이스 엔드포인트도, 기본 경로도 없습니다.",
                subnet = self.subnet.subnet_id
            ),
            evidence,
            fix: t!(
                "Create the interface endpoint in the task subnets with private DNS on, attached to {sg_en}.{also_en}",
                "태스크 서브넷에 프라이빗 DNS를 켠 인터페이스 엔드포인트를 만들고 {sg_ko}을(를) 연결하세요.{also_ko}",
                sg_en = sg_hint.en,
                sg_ko = sg_hint.ko,
                also_en = also.en,
                also_ko = also.ko
            ),
            commands: vec![format!(
                "aws ec2 create-vpc-endpoint --region {region} --vpc-id {vpc} --vpc-endpoint-type Interface --service-name {service_name} --subnet-ids {subnet} --security-group-ids <endpoint-sg-id> --private-dns-enabled",
                region = self.region,
                subnet = self.subnet.subnet_id
            )],
        });
    }

    /// An interface endpoint is on the path: its security groups must admit the task, the
    /// task's must let 443 out to it, and the subnet's NACL must pass both directions.
    fn check_endpoint_path(&mut self, endpoint: &VpcEndpoint, dialled: Option<IpAddr>) {
        let vpce = endpoint.vpc_endpoint_id.as_str();
        let service = endpoint.service_name.as_deref().unwrap_or("?");
        self.open_path.push(t!(
            "{service} is served inside the VPC by interface endpoint {vpce} (private DNS {dns}).",
            "{service}은(는) VPC 안의 인터페이스 엔드포인트 {vpce}가 처리합니다(프라이빗 DNS {dns}).",
            dns = if endpoint.private_dns_enabled.unwrap_or(false) { "on" } else { "off" }
        ));
        let endpoint_group_ids: Vec<String> = endpoint.groups.iter().map(|g| g.group_id.clone()).collect();
        let endpoint_nets: Vec<IpNet> = match dialled {
            Some(ip) => vec![IpNet::from(ip)],
            None => self.endpoint_addresses(endpoint),
        };

        // The endpoint's own security groups must admit the task.
        if self.view.security_groups.is_some() {
            let groups: Vec<&SecurityGroup> = endpoint_group_ids
                .iter()
                .filter_map(|id| self.view.security_group(id))
                .collect();
            if groups.len() < endpoint_group_ids.len() || groups.is_empty() {
                self.not_inspected.push(t!(
                    "the security groups of {vpce} ({ids}): not in the view",
                    "{vpce}의 보안 그룹({ids}): 네트워크 정보에 없음",
                    ids = endpoint_group_ids.join(", ")
                ));
            } else {
                let task_peer = Peer {
                    nets: match self.task.private_ipv4_address {
                        Some(ip) => vec![IpNet::from(ip)],
                        None => self.subnet.cidr_block.as_deref().and_then(|c| c.parse().ok()).into_iter().collect(),
                    },
                    prefix_list_ids: vec![],
                    group_ids: self.task_group_ids.clone(),
                };
                if groups_admit(self.view, &groups, false, &task_peer, HTTPS) {
                    self.open_path.push(t!(
                        "The security groups of {vpce} admit TCP 443 from the task.",
                        "{vpce}의 보안 그룹은 태스크에서 오는 TCP 443을 허용합니다."
                    ));
                } else {
                    self.push_endpoint_sg_blocks(endpoint, &groups);
                }
            }
        }
        let peer = Peer {
            nets: endpoint_nets,
            prefix_list_ids: vec![],
            group_ids: endpoint_group_ids,
        };
        self.check_filters(&peer, service);
    }

    /// The endpoint's network interface addresses, else its subnets' CIDRs.
    fn endpoint_addresses(&self, endpoint: &VpcEndpoint) -> Vec<IpNet> {
        let from_enis: Vec<IpNet> = endpoint
            .network_interface_ids
            .iter()
            .filter_map(|id| {
                self.view
                    .network_interfaces
                    .as_deref()?
                    .iter()
                    .find(|n| &n.network_interface_id == id)?
                    .private_ip_address
                    .as_deref()?
                    .parse::<IpAddr>()
                    .ok()
                    .map(IpNet::from)
            })
            .collect();
        if !from_enis.is_empty() {
            return from_enis;
        }
        endpoint
            .subnet_ids
            .iter()
            .filter_map(|id| self.view.subnet(id)?.cidr_block.as_deref()?.parse().ok())
            .collect()
    }

    fn push_endpoint_sg_blocks(&mut self, endpoint: &VpcEndpoint, groups: &[&SecurityGroup]) {
        let vpce = endpoint.vpc_endpoint_id.as_str();
        let service = endpoint.service_name.as_deref().unwrap_or("?");
        let group = groups[0].group_id.as_str();
        let ids = groups.iter().map(|g| g.group_id.as_str()).collect::<Vec<_>>().join(", ");
        let source = match self.task_group_ids.first() {
            Some(task_group) => format!("--source-group {task_group}"),
            None => format!("--cidr {}", self.subnet.cidr_block.as_deref().unwrap_or("<task-subnet-cidr>")),
        };
        let from = if self.task_group_ids.is_empty() {
            Localized::same(self.task.private_ipv4_address.map_or_else(
                || self.subnet.cidr_block.clone().unwrap_or_default(),
                |ip| format!("{ip} / {}", self.subnet.cidr_block.as_deref().unwrap_or("?")),
            ))
        } else {
            Localized::same(self.task_group_ids.join(", "))
        };
        self.findings.push(Finding {
            code: Code::EndpointSgBlocksHttps,
            severity: Severity::Critical,
            summary: t!(
                "The security groups of interface endpoint {vpce} ({service}) do not admit TCP 443 from the task, so its connections time out.",
                "인터페이스 엔드포인트 {vpce}({service})의 보안 그룹이 태스크에서 오는 TCP 443을 허용하지 않아 연결 시간이 초과됩니다."
            ),
            evidence: vec![
                t!(
                    "{vpce} uses {ids}; no inbound rule admits TCP 443 from {from_en}.",
                    "{vpce}는 {ids}를 사용하며, {from_ko}에서 오는 TCP 443을 허용하는 인바운드 규칙이 없습니다.",
                    from_en = from.en,
                    from_ko = from.ko
                ),
            ],
            fix: t!(
                "Allow TCP 443 into the endpoint's security group from the task's security group (or subnet).",
                "엔드포인트 보안 그룹에 태스크 보안 그룹(또는 서브넷)에서 오는 TCP 443 인바운드를 허용하세요."
            ),
            commands: vec![format!(
                "aws ec2 authorize-security-group-ingress --region {region} --group-id {group} --protocol tcp --port 443 {source}",
                region = self.region
            )],
        });
    }

    // ---- internet ----------------------------------------------------------------------

    fn evaluate_internet(&mut self, what: &str) {
        let Some((table, _)) = self.table else { return };
        let ip = self.failure.ip;
        let ipv6 = ip.is_some_and(|i| i.is_ipv6());
        let destination = match ip {
            Some(ip) => Destination::Ip(ip),
            None => Destination::AnyPublic { ipv6 },
        };
        let verdict = self.route_verdict(route_for(self.view, table, &destination));
        if verdict.is_usable() {
            self.open_path.push(t!(
                "{what} is reached through {via}.",
                "{what}에는 {via}를 통해 접근합니다.",
                via = verdict.via()
            ));
            self.check_filters(&peer_for(ip, None), what);
            return;
        }
        if !self.push_route_problem(&verdict, what) {
            self.push_no_route(table, what, false);
        }
    }

    fn push_no_route(&mut self, table: &RouteTable, what: &str, cross_region_service: bool) {
        let rtb = table.route_table_id.as_str();
        let ipv6 = self.failure.ip.is_some_and(|i| i.is_ipv6());
        let default = if ipv6 { "::/0" } else { "0.0.0.0/0" };
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.extend(self.owner_evidence());
        evidence.push(t!(
            "{rtb} has no route for {default}, and no VPC endpoint serves {what}.",
            "{rtb}에는 {default} 경로가 없고, {what}을(를) 처리하는 VPC 엔드포인트도 없습니다."
        ));
        if cross_region_service {
            evidence.push(t!(
                "{what} is in another region than the task ({region}); interface endpoints in this VPC serve {region}.",
                "{what}은(는) 태스크 리전({region})과 다른 리전에 있으며, 이 VPC의 인터페이스 엔드포인트는 {region}만 지원합니다.",
                region = self.region
            ));
        }
        let (fix, command) = if ipv6 {
            (
                t!(
                    "The task dialled an IPv6 address but the subnet has no IPv6 route out: add an egress-only internet gateway route for ::/0, or make the registry resolve over IPv4.",
                    "태스크가 IPv6 주소로 연결했지만 서브넷에 IPv6 외부 경로가 없습니다. ::/0에 대한 송신 전용 인터넷 게이트웨이 경로를 추가하거나 레지스트리를 IPv4로 접근하게 하세요."
                ),
                format!(
                    "aws ec2 create-route --region {region} --route-table-id {rtb} --destination-ipv6-cidr-block ::/0 --egress-only-internet-gateway-id <eigw-id>",
                    region = self.region
                ),
            )
        } else {
            let nat = self.available_nat_in_vpc();
            (
                t!(
                    "Give the subnet a way out: a default route to a NAT gateway in a public subnet.",
                    "서브넷에 외부로 나갈 경로를 추가하세요: 퍼블릭 서브넷의 NAT 게이트웨이로 가는 기본 경로."
                ),
                format!(
                    "aws ec2 create-route --region {region} --route-table-id {rtb} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id {nat}",
                    region = self.region,
                    nat = nat.unwrap_or_else(|| "<nat-gateway-id>".into())
                ),
            )
        };
        self.findings.push(Finding {
            code: Code::NoRouteToTarget,
            severity: Severity::Critical,
            summary: t!(
                "Nothing routes subnet {subnet}'s traffic to {what}{ip_text}: no default route and no VPC endpoint for it.",
                "서브넷 {subnet}에서 {what}{ip_text}(으)로 가는 경로가 없습니다. 기본 경로도 해당 VPC 엔드포인트도 없습니다.",
                subnet = self.subnet.subnet_id,
                ip_text = self.dialled_text()
            ),
            evidence,
            fix,
            commands: vec![command],
        });
    }

    // ---- addresses inside the VPC --------------------------------------------------------

    fn evaluate_in_vpc(&mut self, ip: IpAddr, expected_service: Option<String>) {
        let eni = self.view.interface_with_ip(ip);
        let endpoint = eni
            .and_then(|n| n.vpc_endpoint_id())
            .and_then(|id| self.view.endpoint(id))
            .or_else(|| {
                // Without the interface list, an endpoint of the expected service is the
                // likely owner of a VPC-internal address.
                let name = expected_service.as_deref()?;
                self.view.endpoints_for(&self.vpc_id, name).into_iter().find(|e| e.is_interface())
            });
        self.open_path.push(t!(
            "{ip} is inside the VPC's CIDR, so the local route carries it.",
            "{ip}는 VPC CIDR 안의 주소이므로 local 경로로 전달됩니다."
        ));
        match endpoint {
            Some(endpoint) => {
                if eni.is_none() {
                    self.not_inspected.push(t!(
                        "which network interface holds {ip}: assumed to be endpoint {vpce}",
                        "{ip}를 가진 네트워크 인터페이스: 엔드포인트 {vpce}로 가정함",
                        vpce = endpoint.vpc_endpoint_id
                    ));
                }
                self.check_endpoint_path(endpoint, Some(ip));
            }
            None => {
                self.not_inspected.push(t!(
                    "what listens on {ip} inside the VPC (not an endpoint in the view)",
                    "VPC 내부 주소 {ip}의 대상(네트워크 정보의 엔드포인트가 아님)"
                ));
                self.check_filters(&Peer::ip(ip), &ip.to_string());
            }
        }
    }

    // ---- routes ------------------------------------------------------------------------

    fn route_verdict(&mut self, chosen: Option<ChosenRoute<'a>>) -> RouteVerdict<'a> {
        let Some(chosen) = chosen else {
            return RouteVerdict::NoRoute;
        };
        let route = chosen.route;
        if route.is_blackhole() {
            return RouteVerdict::Blackhole(route);
        }
        match target_of(route) {
            RouteTarget::Missing => RouteVerdict::Blackhole(route),
            RouteTarget::Local => RouteVerdict::Usable { via: t!("the local route", "local 경로") },
            RouteTarget::GatewayEndpoint(id) => RouteVerdict::Usable {
                via: t!("gateway endpoint {id}", "게이트웨이 엔드포인트 {id}"),
            },
            RouteTarget::EgressOnlyInternetGateway(id) => RouteVerdict::Usable {
                via: t!("egress-only internet gateway {id}", "송신 전용 인터넷 게이트웨이 {id}"),
            },
            RouteTarget::Elsewhere(id) => {
                self.not_inspected.push(t!(
                    "the path beyond {id} (route {dest}): transit gateways, peering, firewalls and appliances are not inspected",
                    "{id} 이후 경로(라우트 {dest}): 트랜짓 게이트웨이, 피어링, 방화벽, 어플라이언스는 점검하지 않음",
                    dest = route.destination()
                ));
                RouteVerdict::Usable { via: Localized::same(id) }
            }
            RouteTarget::NatGateway(id) => {
                if self.view.nat_gateways.is_none() {
                    self.not_inspected.push(t!(
                        "the state of NAT gateway {id} (NatGateways)",
                        "NAT 게이트웨이 {id}의 상태(NatGateways)"
                    ));
                    return RouteVerdict::Usable { via: t!("NAT gateway {id}", "NAT 게이트웨이 {id}") };
                }
                let Some(nat) = self.view.nat_gateway(&id) else {
                    return RouteVerdict::NatGone { route, nat_id: id };
                };
                if !nat.is_available() {
                    return RouteVerdict::NatUnavailable { route, nat };
                }
                if let Some(why) = self.nat_cannot_reach_internet(nat) {
                    return RouteVerdict::NatNoInternet { route, nat, why };
                }
                RouteVerdict::Usable { via: t!("NAT gateway {id}", "NAT 게이트웨이 {id}") }
            }
            RouteTarget::InternetGateway(id) => {
                if let Some(igws) = self.view.internet_gateways.as_deref() {
                    let attached = igws.iter().any(|g| {
                        g.internet_gateway_id == id
                            && g.attachments.iter().any(|a| {
                                a.vpc_id.as_deref() == Some(self.vpc_id.as_str())
                                    && a.state.as_deref().is_none_or(|s| s == "available" || s == "attached")
                            })
                    });
                    if !attached {
                        return RouteVerdict::Blackhole(route);
                    }
                }
                match self.public_ip {
                    Some(false) => RouteVerdict::IgwWithoutPublicIp { route, igw: id },
                    Some(true) => RouteVerdict::Usable {
                        via: t!("internet gateway {id} (the task has a public IP)", "인터넷 게이트웨이 {id}(태스크에 퍼블릭 IP 있음)"),
                    },
                    None => {
                        self.not_inspected.push(t!(
                            "whether the task had a public IP, which the route to internet gateway {id} requires",
                            "인터넷 게이트웨이 {id} 경로에 필요한 태스크 퍼블릭 IP 여부"
                        ));
                        RouteVerdict::Usable { via: t!("internet gateway {id}", "인터넷 게이트웨이 {id}") }
                    }
                }
            }
        }
    }

    /// A public NAT gateway needs its own subnet to route to an internet gateway; a private
    /// NAT gateway's traffic to an internet gateway is dropped.
    fn nat_cannot_reach_internet(&mut self, nat: &NatGateway) -> Option<Localized> {
        let subnet = nat.subnet_id.as_deref()?;
        let Some((table, _)) = self.view.route_table_for_subnet(subnet, &self.vpc_id) else {
            self.not_inspected.push(t!(
                "the route table of NAT gateway {nat}'s subnet {subnet}",
                "NAT 게이트웨이 {nat}의 서브넷 {subnet} 라우팅 테이블",
                nat = nat.nat_gateway_id
            ));
            return None;
        };
        let default = route_for(self.view, table, &Destination::AnyPublic { ipv6: false });
        let to_igw = default.is_some_and(|c| {
            !c.route.is_blackhole() && matches!(target_of(c.route), RouteTarget::InternetGateway(_))
        });
        let nat_id = nat.nat_gateway_id.as_str();
        let rtb = table.route_table_id.as_str();
        if nat.is_private() {
            return to_igw.then(|| t!(
                "{nat_id} is a private NAT gateway; its subnet's route table {rtb} sends it to an internet gateway, which drops private NAT traffic.",
                "{nat_id}는 프라이빗 NAT 게이트웨이입니다. 서브넷 라우팅 테이블 {rtb}가 인터넷 게이트웨이로 보내지만, 인터넷 게이트웨이는 프라이빗 NAT 트래픽을 버립니다."
            ));
        }
        match default {
            None => Some(t!(
                "NAT gateway {nat_id} is in subnet {subnet}, whose route table {rtb} has no default route to an internet gateway.",
                "NAT 게이트웨이 {nat_id}가 있는 서브넷 {subnet}의 라우팅 테이블 {rtb}에 인터넷 게이트웨이로 가는 기본 경로가 없습니다."
            )),
            Some(c) if c.route.is_blackhole() => Some(t!(
                "NAT gateway {nat_id}'s subnet {subnet} routes 0.0.0.0/0 to a blackhole in {rtb}.",
                "NAT 게이트웨이 {nat_id}의 서브넷 {subnet}은(는) {rtb}에서 0.0.0.0/0을 블랙홀로 보냅니다."
            )),
            Some(_) => None,
        }
    }

    /// Turns a broken route into its finding; returns false when the verdict is not broken.
    fn push_route_problem(&mut self, verdict: &RouteVerdict<'a>, what: &str) -> bool {
        let Some((table, _)) = self.table else { return false };
        match verdict {
            RouteVerdict::Blackhole(route) => {
                self.push_blackhole(route, table, what);
                true
            }
            RouteVerdict::NatGone { route, nat_id } => {
                let mut evidence = vec![self.subnet_evidence(table)];
                evidence.push(t!(
                    "NAT gateway {nat_id} is not among the VPC's NAT gateways: it was deleted.",
                    "NAT 게이트웨이 {nat_id}가 VPC의 NAT 게이트웨이 목록에 없습니다. 삭제되었습니다."
                ));
                self.push_blackhole_with(route, table, what, evidence);
                true
            }
            RouteVerdict::NatUnavailable { route, nat } => {
                self.push_nat_unavailable(route, nat, table, what);
                true
            }
            RouteVerdict::NatNoInternet { route, nat, why } => {
                let nat_id = nat.nat_gateway_id.as_str();
                let mut evidence = vec![self.subnet_evidence(table)];
                evidence.push(t!(
                    "{rtb} sends {dest} to NAT gateway {nat_id}.",
                    "{rtb}은(는) {dest} 트래픽을 NAT 게이트웨이 {nat_id}로 보냅니다.",
                    rtb = table.route_table_id,
                    dest = route.destination()
                ));
                evidence.push(why.clone());
                let nat_subnet = nat.subnet_id.clone().unwrap_or_default();
                let nat_table = self
                    .view
                    .route_table_for_subnet(&nat_subnet, &self.vpc_id)
                    .map(|(t, _)| t.route_table_id.clone())
                    .unwrap_or_else(|| "<nat-subnet-route-table>".into());
                let igw = self.attached_igw().unwrap_or_else(|| "<igw-id>".into());
                self.findings.push(Finding {
                    code: Code::NoRouteToTarget,
                    severity: Severity::Critical,
                    summary: t!(
                        "Traffic to {what} goes to NAT gateway {nat_id}, but the NAT gateway has no way to the internet.",
                        "{what}(으)로 가는 트래픽은 NAT 게이트웨이 {nat_id}로 가지만, NAT 게이트웨이에서 인터넷으로 나갈 경로가 없습니다."
                    ),
                    evidence,
                    fix: t!(
                        "Give the NAT gateway's subnet a default route to the VPC's internet gateway (a public NAT gateway must sit in a public subnet).",
                        "NAT 게이트웨이 서브넷에 VPC 인터넷 게이트웨이로 가는 기본 경로를 추가하세요(퍼블릭 NAT 게이트웨이는 퍼블릭 서브넷에 있어야 합니다)."
                    ),
                    commands: vec![format!(
                        "aws ec2 create-route --region {region} --route-table-id {nat_table} --destination-cidr-block 0.0.0.0/0 --gateway-id {igw}",
                        region = self.region
                    )],
                });
                true
            }
            RouteVerdict::IgwWithoutPublicIp { route, igw } => {
                self.push_public_ip_missing(route, igw, table, what);
                true
            }
            RouteVerdict::NoRoute | RouteVerdict::Usable { .. } => false,
        }
    }

    fn push_blackhole(&mut self, route: &Route, table: &RouteTable, what: &str) {
        let evidence = vec![self.subnet_evidence(table)];
        self.push_blackhole_with(route, table, what, evidence);
    }

    fn push_blackhole_with(&mut self, route: &Route, table: &RouteTable, what: &str, mut evidence: Vec<Localized>) {
        let rtb = table.route_table_id.as_str();
        let dest = route.destination();
        let target = route.target().unwrap_or("(no target)");
        evidence.push(t!(
            "Route {dest} → {target} in {rtb} is a blackhole: its target no longer exists or is not attached.",
            "{rtb}의 {dest} → {target} 경로는 블랙홀입니다. 대상이 더 이상 없거나 연결되어 있지 않습니다."
        ));
        let command = if route.destination_prefix_list_id.is_some() {
            format!(
                "aws ec2 create-vpc-endpoint --region {region} --vpc-id {vpc} --vpc-endpoint-type Gateway --service-name com.amazonaws.{region}.s3 --route-table-ids {rtb}  # then delete the blackhole route",
                region = self.region,
                vpc = self.vpc_id
            )
        } else {
            let nat = self.available_nat_in_vpc().unwrap_or_else(|| "<available-nat-gateway-id>".into());
            let flag = if route.destination_ipv6_cidr_block.is_some() { "--destination-ipv6-cidr-block" } else { "--destination-cidr-block" };
            format!(
                "aws ec2 replace-route --region {region} --route-table-id {rtb} {flag} {dest} --nat-gateway-id {nat}",
                region = self.region
            )
        };
        self.findings.push(Finding {
            code: Code::RouteBlackhole,
            severity: Severity::Critical,
            summary: t!(
                "The route that carries traffic to {what} ({dest} in {rtb}) is a blackhole, so the packets are dropped.",
                "{what}(으)로 가는 트래픽을 전달하는 경로({rtb}의 {dest})가 블랙홀이라 패킷이 버려집니다."
            ),
            evidence,
            fix: t!(
                "Point the route at a working target (an available NAT gateway in a public subnet), or remove it and add a VPC endpoint.",
                "경로를 정상 대상(퍼블릭 서브넷의 available 상태 NAT 게이트웨이)으로 바꾸거나, 경로를 지우고 VPC 엔드포인트를 추가하세요."
            ),
            commands: vec![command],
        });
    }

    fn push_nat_unavailable(&mut self, route: &Route, nat: &NatGateway, table: &RouteTable, what: &str) {
        let rtb = table.route_table_id.as_str();
        let nat_id = nat.nat_gateway_id.as_str();
        let state = nat.state.as_deref().unwrap_or("unknown");
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.push(t!(
            "{rtb} sends {dest} to NAT gateway {nat_id}, whose state is {state}.",
            "{rtb}은(는) {dest} 트래픽을 NAT 게이트웨이 {nat_id}로 보내지만, 그 상태는 {state}입니다.",
            dest = route.destination()
        ));
        if let Some(code) = &nat.failure_code {
            let message = nat.failure_message.as_deref().unwrap_or("");
            evidence.push(Localized::same(format!("{nat_id}: {code} {message}")));
        }
        let replacement = self.available_nat_in_vpc();
        let command = match &replacement {
            Some(other) => format!(
                "aws ec2 replace-route --region {region} --route-table-id {rtb} --destination-cidr-block {dest} --nat-gateway-id {other}",
                region = self.region,
                dest = route.destination()
            ),
            None => format!(
                "aws ec2 create-nat-gateway --region {region} --subnet-id <public-subnet-id> --allocation-id <eip-allocation-id>  # then: aws ec2 replace-route --route-table-id {rtb} --destination-cidr-block {dest} --nat-gateway-id <new-nat-id>",
                region = self.region,
                dest = route.destination()
            ),
        };
        self.findings.push(Finding {
            code: Code::NatGatewayNotAvailable,
            severity: Severity::Critical,
            summary: t!(
                "Traffic to {what} goes to NAT gateway {nat_id}, which is {state}, not available.",
                "{what}(으)로 가는 트래픽이 NAT 게이트웨이 {nat_id}로 가지만, 그 상태가 available이 아니라 {state}입니다."
            ),
            evidence,
            fix: match &replacement {
                Some(other) => t!(
                    "Route through NAT gateway {other}, which is available, or replace {nat_id}.",
                    "available 상태인 NAT 게이트웨이 {other}로 경로를 바꾸거나 {nat_id}를 교체하세요."
                ),
                None => t!(
                    "Create a NAT gateway in a public subnet and point the route at it.",
                    "퍼블릭 서브넷에 NAT 게이트웨이를 만들고 경로가 그것을 가리키게 하세요."
                ),
            },
            commands: vec![command],
        });
    }

    fn push_public_ip_missing(&mut self, route: &Route, igw: &str, table: &RouteTable, what: &str) {
        let rtb = table.route_table_id.as_str();
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.push(t!(
            "{rtb} sends {dest} to internet gateway {igw}: a public subnet.",
            "{rtb}은(는) {dest} 트래픽을 인터넷 게이트웨이 {igw}로 보냅니다(퍼블릭 서브넷).",
            dest = route.destination()
        ));
        let on_ec2 = self.task.launch_type.as_deref().is_some_and(|l| l.eq_ignore_ascii_case("EC2"));
        evidence.push(if on_ec2 {
            t!(
                "The task runs on EC2 with awsvpc networking, and such tasks never receive a public IP.",
                "태스크가 awsvpc 네트워크 모드로 EC2에서 실행되며, 이런 태스크는 퍼블릭 IP를 받지 못합니다."
            )
        } else {
            t!(
                "The service's awsvpcConfiguration has assignPublicIp DISABLED, so the task has only a private IP, which an internet gateway does not translate.",
                "서비스 awsvpcConfiguration의 assignPublicIp가 DISABLED라 태스크에는 프라이빗 IP만 있고, 인터넷 게이트웨이는 이를 변환하지 않습니다."
            )
        });
        let command = match (self.task.cluster_name(), self.task.service_name()) {
            (Some(cluster), Some(service)) if !on_ec2 => {
                let awsvpc = self
                    .view
                    .ecs_service(service, self.task.cluster_arn.as_deref())
                    .and_then(|s| s.awsvpc());
                let subnets = awsvpc.map(|a| a.subnets.join(",")).unwrap_or_default();
                let groups = awsvpc.map(|a| a.security_groups.join(",")).unwrap_or_default();
                format!(
                    "aws ecs update-service --region {region} --cluster {cluster} --service {service} --network-configuration 'awsvpcConfiguration={{subnets=[{subnets}],securityGroups=[{groups}],assignPublicIp=ENABLED}}'",
                    region = self.region
                )
            }
            _ => "# move the task to private subnets whose default route goes to a NAT gateway".to_string(),
        };
        self.findings.push(Finding {
            code: Code::PublicIpMissing,
            severity: Severity::Critical,
            summary: t!(
                "Subnet {subnet} reaches the internet through internet gateway {igw}, but the task had no public IP, so it could not reach {what}.",
                "서브넷 {subnet}은(는) 인터넷 게이트웨이 {igw}로 인터넷에 나가지만 태스크에 퍼블릭 IP가 없어 {what}에 접근하지 못했습니다.",
                subnet = self.subnet.subnet_id
            ),
            evidence,
            fix: t!(
                "Turn on assignPublicIp for the service, or run the tasks in private subnets with a NAT gateway route (or VPC endpoints).",
                "서비스의 assignPublicIp를 켜거나, NAT 게이트웨이 경로(또는 VPC 엔드포인트)가 있는 프라이빗 서브넷에서 태스크를 실행하세요."
            ),
            commands: vec![command],
        });
    }

    fn available_nat_in_vpc(&self) -> Option<String> {
        let az = self.subnet.availability_zone.as_deref();
        let nats: Vec<&NatGateway> = self
            .view
            .nat_gateways
            .as_deref()?
            .iter()
            .filter(|n| n.is_available() && !n.is_private() && n.vpc_id.as_deref().is_none_or(|v| v == self.vpc_id))
            .collect();
        // Prefer a NAT gateway in the task's availability zone (no cross-AZ charges or
        // dependency on another zone).
        let same_az = nats.iter().find(|n| {
            n.subnet_id
                .as_deref()
                .and_then(|s| self.view.subnet(s))
                .and_then(|s| s.availability_zone.as_deref())
                == az
        });
        same_az.or(nats.first()).map(|n| n.nat_gateway_id.clone())
    }

    fn attached_igw(&self) -> Option<String> {
        self.view
            .internet_gateways
            .as_deref()?
            .iter()
            .find(|g| g.attachments.iter().any(|a| a.vpc_id.as_deref() == Some(self.vpc_id.as_str())))
            .map(|g| g.internet_gateway_id.clone())
    }

    // ---- security groups and NACLs -----------------------------------------------------

    /// The task's egress rules and the subnet's NACL, for TCP 443 to `peer`.
    fn check_filters(&mut self, peer: &Peer, what: &str) {
        self.check_task_egress(peer, what);
        self.check_nacl(peer, what);
    }

    fn check_task_egress(&mut self, peer: &Peer, what: &str) {
        let Some(groups) = self.task_groups.clone() else { return };
        if peer.is_unknown() {
            return;
        }
        if groups_admit(self.view, &groups, true, peer, HTTPS) {
            self.open_path.push(t!(
                "The task's security groups ({ids}) allow TCP 443 out to {what}.",
                "태스크 보안 그룹({ids})은 {what}(으)로 나가는 TCP 443을 허용합니다.",
                ids = self.task_group_ids.join(", ")
            ));
            return;
        }
        let group = groups[0].group_id.clone();
        let (target_en, target_ko, permission) = if let Some(pl) = peer.prefix_list_ids.first() {
            (
                format!("prefix list {pl}"),
                format!("접두사 목록 {pl}"),
                format!("IpProtocol=tcp,FromPort=443,ToPort=443,PrefixListIds=[{{PrefixListId={pl}}}]"),
            )
        } else if let Some(sg) = peer.group_ids.first() {
            (
                format!("security group {sg}"),
                format!("보안 그룹 {sg}"),
                format!("IpProtocol=tcp,FromPort=443,ToPort=443,UserIdGroupPairs=[{{GroupId={sg}}}]"),
            )
        } else {
            let cidr = match peer.nets.as_slice() {
                [single] if single.prefix_len() == 0 || single.addr().is_ipv4() => {
                    if single.addr().is_ipv4() { "0.0.0.0/0".to_string() } else { "::/0".to_string() }
                }
                _ => "0.0.0.0/0".to_string(),
            };
            let key = if cidr.contains(':') { "Ipv6Ranges=[{CidrIpv6=::/0}]".to_string() } else { format!("IpRanges=[{{CidrIp={cidr}}}]") };
            (cidr.clone(), cidr, format!("IpProtocol=tcp,FromPort=443,ToPort=443,{key}"))
        };
        let targets: Vec<String> = peer.nets.iter().map(|n| n.to_string()).take(4).collect();
        self.findings.push(Finding {
            code: Code::TaskSgBlocksHttps,
            severity: Severity::Critical,
            summary: t!(
                "The task's security groups ({ids}) do not allow TCP 443 out to {what}, so its connections never leave the task.",
                "태스크 보안 그룹({ids})이 {what}(으)로 나가는 TCP 443을 허용하지 않아 연결이 태스크를 벗어나지 못합니다.",
                ids = self.task_group_ids.join(", ")
            ),
            evidence: vec![t!(
                "No egress rule of {ids} covers TCP 443 to {list}{pl_en}.",
                "{ids}의 아웃바운드 규칙 중 {list}{pl_ko}(으)로 가는 TCP 443을 허용하는 것이 없습니다.",
                ids = self.task_group_ids.join(", "),
                list = targets.join(", "),
                pl_en = if peer.prefix_list_ids.is_empty() && peer.group_ids.is_empty() { String::new() } else { format!(" ({target_en})") },
                pl_ko = if peer.prefix_list_ids.is_empty() && peer.group_ids.is_empty() { String::new() } else { format!(" ({target_ko})") }
            )],
            fix: t!(
                "Allow TCP 443 out to {target_en} in the task's security group.",
                "태스크 보안 그룹에 {target_ko}(으)로 나가는 TCP 443을 허용하세요."
            ),
            commands: vec![format!(
                "aws ec2 authorize-security-group-egress --region {region} --group-id {group} --ip-permissions '{permission}'",
                region = self.region
            )],
        });
    }

    fn check_nacl(&mut self, peer: &Peer, what: &str) {
        let Some(acl) = self.acl else { return };
        if peer.nets.is_empty() {
            return;
        }
        let out = nacl_verdict(acl, true, &peer.nets, (HTTPS, HTTPS));
        let back = nacl_verdict(acl, false, &peer.nets, EPHEMERAL_PORTS);
        let acl_id = acl.network_acl_id.as_str();
        let mut problems: Vec<(bool, NaclVerdict)> = Vec::new();
        if out != NaclVerdict::Allowed {
            problems.push((true, out));
        }
        if back != NaclVerdict::Allowed {
            problems.push((false, back));
        }
        if problems.is_empty() {
            self.open_path.push(t!(
                "Network ACL {acl_id} allows TCP 443 out to {what} and the replies back on ephemeral ports.",
                "네트워크 ACL {acl_id}는 {what}(으)로 나가는 TCP 443과 임시 포트로 돌아오는 응답을 허용합니다."
            ));
            return;
        }
        let mut evidence = Vec::new();
        let mut commands = Vec::new();
        for (egress, verdict) in &problems {
            let NaclVerdict::Denied { rule_number, net, ports } = verdict else { continue };
            let rule = rule_number.map_or_else(|| "*".to_string(), |n| n.to_string());
            let (lo, hi) = ports;
            evidence.push(if *egress {
                t!(
                    "Outbound rule {rule} of {acl_id} denies TCP {lo}-{hi} to {net}.",
                    "{acl_id}의 아웃바운드 규칙 {rule}이(가) {net}(으)로 가는 TCP {lo}-{hi}를 거부합니다."
                )
            } else {
                t!(
                    "Inbound rule {rule} of {acl_id} denies the replies from {net} on TCP {lo}-{hi} (NACLs are stateless: replies need their own rule).",
                    "{acl_id}의 인바운드 규칙 {rule}이(가) {net}에서 TCP {lo}-{hi}로 돌아오는 응답을 거부합니다(NACL은 상태 비저장이라 응답용 규칙이 따로 필요)."
                )
            });
            let number = free_rule_number(acl, *egress, *rule_number);
            let (direction, from, to) = if *egress { ("--egress", 443, 443) } else { ("--ingress", 1024, 65535) };
            let cidr_flag = if net.addr().is_ipv6() { "--ipv6-cidr-block" } else { "--cidr-block" };
            commands.push(format!(
                "aws ec2 create-network-acl-entry --region {region} --network-acl-id {acl_id} {direction} --rule-number {number} --protocol tcp --port-range From={from},To={to} {cidr_flag} {net} --rule-action allow",
                region = self.region
            ));
        }
        self.findings.push(Finding {
            code: Code::NaclBlocksHttps,
            severity: Severity::Critical,
            summary: t!(
                "Network ACL {acl_id} of subnet {subnet} blocks the HTTPS traffic to {what} or its replies.",
                "서브넷 {subnet}의 네트워크 ACL {acl_id}가 {what}(으)로 가는 HTTPS 트래픽이나 그 응답을 차단합니다.",
                subnet = self.subnet.subnet_id
            ),
            evidence,
            fix: t!(
                "Add allow entries numbered below the denying rule: TCP 443 outbound and TCP 1024-65535 inbound for the destination.",
                "거부 규칙보다 작은 번호로 허용 규칙을 추가하세요: 대상에 대해 아웃바운드 TCP 443, 인바운드 TCP 1024-65535."
            ),
            commands,
        });
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
        let (service, region, prefix, source) = (&owner.service, &owner.region, &owner.prefix, &owner.source);
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
    fn dialled_text(&self) -> String {
        self.failure.ip.map_or_else(String::new, |ip| format!(" ({ip})"))
    }

    fn looks_open(&mut self) -> Finding {
        let mut evidence = std::mem::take(&mut self.open_path);
        if evidence.is_empty() {
            evidence.push(t!("No blocking route, gateway or filter was found.", "차단하는 경로, 게이트웨이, 필터를 찾지 못했습니다."));
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
    NatGone { route: &'a Route, nat_id: String },
    NatUnavailable { route: &'a Route, nat: &'a NatGateway },
    NatNoInternet { route: &'a Route, nat: &'a NatGateway, why: Localized },
    IgwWithoutPublicIp { route: &'a Route, igw: String },
    Usable { via: Localized },
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

fn peer_for(ip: Option<IpAddr>, fallback: Option<IpNet>) -> Peer {
    match (ip, fallback) {
        (Some(ip), _) => Peer::ip(ip),
        (None, Some(net)) => Peer { nets: vec![net], ..Peer::default() },
        (None, None) => Peer {
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
        (None, _) => failure.host.clone().unwrap_or_else(|| "its dependency".into()),
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

// ---- non-network causes --------------------------------------------------------------------

fn non_network_findings(
    task: &FailedTask,
    failure: &FailureReport,
    network: Option<&NetworkView>,
    region: Option<&str>,
) -> Vec<Finding> {
    let image = failure.image.clone().or_else(|| failure.host.clone()).unwrap_or_else(|| "the image".into());
    let region_flag = region.map(|r| format!("--region {r} ")).unwrap_or_default();
    let ecr = failure.image.as_deref().and_then(EcrImage::parse);
    let mut findings = Vec::new();

    if failure.symptom == Symptom::Denied && failure.hop == Hop::LayerStorage {
        // A 403 from S3 on the layer bucket is what an endpoint policy without the bucket
        // produces; look at the endpoint on the task's route before blaming IAM.
        let mut scratch = Vec::new();
        if let Ok(mut rules) = Rules::new(task, failure, network, region, &mut scratch) {
            if let Some((table, _)) = rules.table {
                let s3_region = failure
                    .ip_owner
                    .as_ref()
                    .filter(|o| o.is_s3())
                    .map(|o| o.region.clone())
                    .or_else(|| failure.host.as_deref().and_then(reason::region_in_host))
                    .unwrap_or_else(|| rules.region.to_string());
                let endpoint = table
                    .routes
                    .iter()
                    .filter_map(|r| r.gateway_id.as_deref())
                    .filter_map(|id| rules.view.endpoint(id))
                    .find(|e| e.service_name.as_deref() == Some(format!("com.amazonaws.{s3_region}.s3").as_str()));
                if let Some(endpoint) = endpoint {
                    rules.check_s3_policy(endpoint, &s3_region);
                    findings.append(&mut rules.findings);
                }
            }
        }
    }

    let finding = match failure.symptom {
        Symptom::NotFound => Finding {
            code: Code::ImageNotFound,
            severity: Severity::Critical,
            summary: t!(
                "The image {image} does not exist in its registry: the repository, tag or digest was not found.",
                "레지스트리에 이미지 {image}가 없습니다. 리포지토리, 태그 또는 다이제스트를 찾을 수 없습니다."
            ),
            evidence: vec![reason_evidence(failure)],
            fix: t!(
                "Check the image URI in the task definition and that this tag was pushed to this registry and region (a build that failed to push, or a tag that a lifecycle policy expired).",
                "태스크 정의의 이미지 URI와 해당 태그가 이 레지스트리와 리전에 푸시되었는지 확인하세요(푸시에 실패한 빌드나 수명 주기 정책으로 만료된 태그)."
            ),
            commands: ecr
                .as_ref()
                .map(|e| vec![format!(
                    "aws ecr describe-images --region {region} --registry-id {account} --repository-name {repo} --image-ids {id}",
                    region = e.region, account = e.account, repo = e.repository, id = e.image_id()
                )])
                .unwrap_or_default(),
        },
        Symptom::Denied => denied_finding(failure, &image, ecr.as_ref(), &region_flag),
        Symptom::RateLimited => Finding {
            code: Code::RegistryRateLimited,
            severity: Severity::Critical,
            summary: t!(
                "The registry is rate-limiting pulls of {image}; Docker Hub limits anonymous pulls per source IP, and tasks behind one NAT gateway share that limit.",
                "레지스트리가 {image} 풀 요청을 제한하고 있습니다. Docker Hub는 익명 풀을 출발지 IP별로 제한하며, 같은 NAT 게이트웨이 뒤의 태스크는 그 한도를 공유합니다."
            ),
            evidence: vec![reason_evidence(failure)],
            fix: t!(
                "Pull through an ECR pull-through cache rule (or copy the image into ECR), or authenticate to Docker Hub with repositoryCredentials.",
                "ECR 풀스루 캐시 규칙을 통해 받거나(또는 이미지를 ECR로 복사), repositoryCredentials로 Docker Hub에 인증하세요."
            ),
            commands: vec![format!(
                "aws ecr create-pull-through-cache-rule {region_flag}--ecr-repository-prefix docker-hub --upstream-registry-url registry-1.docker.io --credential-arn <secretsmanager-arn-of-docker-hub-credentials>"
            )],
        },
        Symptom::Platform => Finding {
            code: Code::ImagePlatformMismatch,
            severity: Severity::Critical,
            summary: t!(
                "The image {image} has no variant for the task's platform (for example an arm64-only image on x86_64).",
                "이미지 {image}에 태스크 플랫폼용 변형이 없습니다(예: x86_64에서 arm64 전용 이미지)."
            ),
            evidence: vec![reason_evidence(failure)],
            fix: t!(
                "Build and push a multi-architecture image, or set runtimePlatform.cpuArchitecture in the task definition to the image's architecture.",
                "멀티 아키텍처 이미지를 빌드해 푸시하거나, 태스크 정의의 runtimePlatform.cpuArchitecture를 이미지 아키텍처로 설정하세요."
            ),
            commands: vec!["docker buildx build --platform linux/amd64,linux/arm64 --push -t <image-uri> .".into()],
        },
        Symptom::ImageFormat => Finding {
            code: Code::ImageFormatUnsupported,
            severity: Severity::Critical,
            summary: t!(
                "The container runtime cannot unpack {image}: it uses a media type or layer layout the runtime does not support (attestation manifests, zstd or mixed layer compression).",
                "컨테이너 런타임이 {image}를 풀 수 없습니다. 런타임이 지원하지 않는 미디어 타입이나 레이어 형식(증명 매니페스트, zstd 또는 혼합 압축)을 사용합니다."
            ),
            evidence: vec![reason_evidence(failure)],
            fix: t!(
                "Rebuild without provenance/SBOM attestations and with one gzip compression for every layer, then push again.",
                "provenance/SBOM 증명 없이, 모든 레이어를 gzip 한 가지로 압축해 다시 빌드하고 푸시하세요."
            ),
            commands: vec!["docker buildx build --provenance=false --sbom=false --output type=image,compression=gzip,force-compression=true,push=true -t <image-uri> .".into()],
        },
        Symptom::DiskFull => Finding {
            code: Code::DiskFull,
            severity: Severity::Critical,
            summary: t!(
                "The host ran out of disk space while unpacking {image}.",
                "{image}를 푸는 중 호스트 디스크 공간이 부족해졌습니다."
            ),
            evidence: vec![reason_evidence(failure)],
            fix: t!(
                "On Fargate raise ephemeralStorage (up to 200 GiB); on EC2 grow the data volume or tighten image cleanup (ECS_IMAGE_CLEANUP_INTERVAL); or slim the image.",
                "Fargate에서는 ephemeralStorage를 늘리고(최대 200GiB), EC2에서는 데이터 볼륨을 키우거나 이미지 정리(ECS_IMAGE_CLEANUP_INTERVAL)를 강화하세요. 이미지를 줄이는 것도 방법입니다."
            ),
            commands: vec![],
        },
        _ => unreachable!("only non-network symptoms reach here"),
    };
    findings.push(finding);
    findings
}

fn denied_finding(failure: &FailureReport, image: &str, ecr: Option<&EcrImage>, region_flag: &str) -> Finding {
    match failure.hop {
        Hop::SecretsManager | Hop::Ssm => {
            let arn = secret_arn_in(&failure.reason).unwrap_or_else(|| "<secret-or-parameter-arn>".into());
            let action = if failure.hop == Hop::Ssm { "ssm:GetParameters" } else { "secretsmanager:GetSecretValue" };
            Finding {
                code: Code::SecretAccessDenied,
                severity: Severity::Critical,
                summary: t!(
                    "The task execution role may not read {arn} ({action} was denied).",
                    "태스크 실행 역할이 {arn}을(를) 읽을 권한이 없습니다({action} 거부)."
                ),
                evidence: vec![reason_evidence(failure)],
                fix: t!(
                    "Allow {action} on the secret in the task execution role (and kms:Decrypt if a customer-managed key encrypts it); check resource policies and the secret's account.",
                    "태스크 실행 역할에 해당 시크릿에 대한 {action}를 허용하세요(고객 관리형 키로 암호화했다면 kms:Decrypt도). 리소스 정책과 시크릿의 계정도 확인하세요."
                ),
                commands: vec![format!(
                    "aws iam put-role-policy --role-name <task-execution-role> --policy-name read-task-secrets --policy-document '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Action\":[\"{action}\"],\"Resource\":\"{arn}\"}}]}}'"
                )],
            }
        }
        Hop::CloudwatchLogs | Hop::EnvFiles => Finding {
            code: Code::ExecutionRoleAccessDenied,
            severity: Severity::Critical,
            summary: t!(
                "The task execution role was denied a call it needs at start-up ({hop}).",
                "태스크 실행 역할이 시작 시 필요한 호출({hop})을 거부당했습니다.",
                hop = failure.hop.as_str()
            ),
            evidence: vec![reason_evidence(failure)],
            fix: t!(
                "Grant the execution role the missing permission (logs:CreateLogStream and logs:PutLogEvents for logs, s3:GetObject and s3:GetBucketLocation for environment files).",
                "실행 역할에 빠진 권한을 부여하세요(로그는 logs:CreateLogStream, logs:PutLogEvents, 환경 파일은 s3:GetObject, s3:GetBucketLocation)."
            ),
            commands: vec![],
        },
        _ => Finding {
            code: Code::RegistryAccessDenied,
            severity: Severity::Critical,
            summary: t!(
                "The registry refused to serve {image}: the task execution role, the repository policy or the registry credentials do not allow the pull.",
                "레지스트리가 {image} 제공을 거부했습니다. 태스크 실행 역할, 리포지토리 정책 또는 레지스트리 자격 증명이 풀을 허용하지 않습니다."
            ),
            evidence: vec![reason_evidence(failure)],
            fix: t!(
                "Give the task execution role ecr:GetAuthorizationToken, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer (AmazonECSTaskExecutionRolePolicy has them); for another account's repository allow this account in the repository policy; for a private non-ECR registry set repositoryCredentials.",
                "태스크 실행 역할에 ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer 권한을 주세요(AmazonECSTaskExecutionRolePolicy에 포함). 다른 계정의 리포지토리라면 리포지토리 정책에서 이 계정을 허용하고, ECR이 아닌 프라이빗 레지스트리는 repositoryCredentials를 설정하세요."
            ),
            commands: {
                let mut commands = vec!["aws iam attach-role-policy --role-name <task-execution-role> --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy".to_string()];
                if let Some(e) = ecr {
                    commands.push(format!(
                        "aws ecr get-repository-policy {region_flag}--registry-id {account} --repository-name {repo}",
                        account = e.account,
                        repo = e.repository
                    ));
                }
                commands
            },
        },
    }
}

fn reason_evidence(failure: &FailureReport) -> Localized {
    let symptom = failure.symptom.as_str();
    let hop = failure.hop.as_str();
    let host = failure.host.as_deref().unwrap_or("-");
    t!(
        "The error reads as {symptom} on {hop} (host {host}); this is not a network path problem, so the VPC was not blamed.",
        "오류는 {hop}({host})의 {symptom}(으)로 읽힙니다. 네트워크 경로 문제가 아니므로 VPC를 원인으로 보지 않았습니다."
    )
}

fn secret_arn_in(message: &str) -> Option<String> {
    let start = message.find("arn:aws")?;
    let arn: String = message[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | ',' | ')'))
        .collect();
    let arn = arn.trim_end_matches(['.', ':']).to_string();
    (arn.contains(":secretsmanager:") || arn.contains(":ssm:")).then_some(arn)
}

/// `<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]`
struct EcrImage {
    account: String,
    region: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl EcrImage {
    fn parse(image: &str) -> Option<EcrImage> {
        let (host, rest) = image.split_once('/')?;
        if !reason::is_ecr_private_registry(host) {
            return None;
        }
        let account = host.split('.').next()?.to_string();
        let region = reason::region_in_host(host)?;
        let (name, digest) = match rest.split_once('@') {
            Some((n, d)) => (n, Some(d.to_string())),
            None => (rest, None),
        };
        let (repository, tag) = match name.rsplit_once(':') {
            Some((r, t)) => (r.to_string(), Some(t.to_string())),
            None => (name.to_string(), None),
        };
        Some(EcrImage { account, region, repository, tag, digest })
    }

    fn image_id(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => format!("imageDigest={d}"),
            (None, Some(t)) => format!("imageTag={t}"),
            (None, None) => "imageTag=latest".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_image_references() {
        let e = EcrImage::parse("111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/team/web:v9").unwrap();
        assert_eq!((e.account.as_str(), e.region.as_str(), e.repository.as_str()), ("111122223333", "ap-northeast-2", "team/web"));
        assert_eq!(e.image_id(), "imageTag=v9");
        let d = EcrImage::parse("1.dkr.ecr.us-east-1.amazonaws.com/web@sha256:abc").unwrap();
        assert_eq!(d.image_id(), "imageDigest=sha256:abc");
        assert!(EcrImage::parse("nginx:latest").is_none());
    }

    #[test]
    fn arns_and_regions_in_messages() {
        let m = "failed to fetch secret arn:aws:secretsmanager:us-west-2:1:secret:Db-x from secrets manager";
        assert_eq!(secret_arn_in(m).as_deref(), Some("arn:aws:secretsmanager:us-west-2:1:secret:Db-x"));
        assert_eq!(region_in_arn(m).as_deref(), Some("us-west-2"));
        assert_eq!(region_in_arn("no arn here"), None);
    }
}
