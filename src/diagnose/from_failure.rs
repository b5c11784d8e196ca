//! A failed task → the probes that explain it, and their verdicts → the diagnosis's findings.
//!
//! The origin is the network interface that pulled (the task's subnet, its service's security
//! groups and public IP); the targets come from the hop the message names and the address it
//! dialled (an address inside the VPC is checked as such). Findings are ranked explicitly
//! ([`rank`]); when nothing inspected blocks, the first finding says the path looks open, or
//! why it could not be evaluated.

use std::collections::HashSet;

use super::probe::{self, Origin, Probe, Target, Workload};
use super::rules::non_network::non_network_findings;
use super::walk::{self, Walk};
use super::{Code, FailureReport, Finding, Severity};
use crate::event::FailedTask;
use crate::localized::Localized;
use crate::network::NetworkView;
use crate::reason::{self, Hop, Symptom};
use crate::t;

/// `network` is the view, or why there is none (a line for `not_inspected`).
pub(super) fn run(
    task: &FailedTask,
    failure: &FailureReport,
    network: Result<&NetworkView, Localized>,
    region: Option<&str>,
    ip_ranges_loaded: bool,
    not_inspected: &mut Vec<Localized>,
) -> (Vec<Finding>, Vec<Walk>) {
    if !failure.symptom.is_network() && failure.symptom != Symptom::Unknown {
        let context = network.as_ref().ok().and_then(|&view| {
            if task.pulled_by_instance() {
                let nic = instance_interface(task, view).ok()?;
                return Some((view, instance_origin(task, nic)));
            }
            let subnet = task
                .subnet_id
                .as_deref()
                .filter(|s| view.subnet(s).is_some())?;
            Some((view, origin_for_task(task, view, subnet).0))
        });
        return (non_network_findings(failure, context, region), vec![]);
    }
    let hint = network_hint(failure);
    let view = match network {
        Ok(view) => view,
        Err(why) => {
            not_inspected.push(why);
            return (
                vec![incomplete(
                    t!(
                        "The network was not inspected, so the cause cannot be confirmed. {hint}",
                        "네트워크를 점검하지 않아 원인을 확정할 수 없습니다. {hint}",
                        hint = hint
                    ),
                    vec![],
                )],
                vec![],
            );
        }
    };
    let Some(region) = region else {
        return (
            vec![incomplete(
                t!(
                    "The event names no region, so the network cannot be evaluated. {hint}",
                    "이벤트에 리전이 없어 네트워크를 평가할 수 없습니다. {hint}",
                    hint = hint
                ),
                vec![],
            )],
            vec![],
        );
    };
    // On the EC2 launch type the instance pulls, over its primary interface.
    let instance = task
        .pulled_by_instance()
        .then(|| instance_interface(task, view));
    let instance_subnet = match &instance {
        Some(Ok(nic)) => Some(nic.subnet_id.clone()),
        _ => None,
    };
    let subnet_id = match &instance {
        Some(Ok(_)) => instance_subnet.as_deref(),
        Some(Err(why)) => {
            not_inspected.push(why.clone());
            None
        }
        None => task.subnet_id.as_deref(),
    };
    let Some(subnet_id) = subnet_id else {
        if instance.is_none() {
            not_inspected.push(t!(
                "the task's subnet: the event has no ENI attachment",
                "태스크 서브넷: 이벤트에 ENI 연결 정보가 없습니다"
            ));
        }
        return (vec![incomplete(
            t!(
                "It is not known which subnet the image was pulled from, so its routing was not inspected. {hint}",
                "이미지를 받은 서브넷을 알 수 없어 라우팅을 점검하지 못했습니다. {hint}",
                hint = hint
            ),
            vec![],
        )], vec![]);
    };
    let Some(subnet) = view.subnet(subnet_id) else {
        not_inspected.push(t!(
            "subnet {subnet_id}: not in the network view",
            "서브넷 {subnet_id}: 네트워크 정보에 없음"
        ));
        return (vec![incomplete(
            t!(
                "Subnet {subnet_id} is not in the network view, so its routing was not inspected. {hint}",
                "네트워크 정보에 서브넷 {subnet_id}가 없어 라우팅을 점검하지 못했습니다. {hint}",
                hint = hint
            ),
            vec![],
        )], vec![]);
    };
    let vpc_id = subnet.vpc_id.clone().unwrap_or_default();
    let (origin, origin_gaps) = match instance {
        Some(Ok(nic)) => (instance_origin(task, nic), vec![]),
        _ => origin_for_task(task, view, subnet_id),
    };

    let in_vpc = failure
        .ip
        .filter(|ip| view.vpc_cidrs(&vpc_id).iter().any(|c| c.contains(ip)));
    let wanted = targets(failure, region, ip_ranges_loaded);
    let targets = match in_vpc {
        Some(ip) => {
            let expected = wanted.iter().find_map(|t| match t {
                Target::Service { short, region } => {
                    Some(format!("com.amazonaws.{region}.{short}"))
                }
                _ => None,
            });
            vec![Target::InVpc { ip, expected }]
        }
        None => wanted,
    };
    let probes: Vec<Probe> = targets
        .into_iter()
        .map(|to| Probe {
            from: origin.clone(),
            to,
            dialled: failure.ip,
            owner: failure.ip_owner.clone(),
            image: failure.image.clone(),
        })
        .collect();
    let verdicts: Vec<probe::Verdict> = probes
        .iter()
        .map(|p| probe::check(view, region, p))
        .collect();
    let paths: Vec<Walk> = probes
        .iter()
        .zip(&verdicts)
        .map(|(p, v)| walk::walk(view, region, p, v))
        .collect();

    // What the view lacks first, then what could not be learned of the origin, then each
    // probe's own (the view's lines again among them, dropped as repeats below).
    let (view_gaps, mut routing_inspected) = probe::origin_gaps(view, &origin);
    not_inspected.extend(view_gaps);
    not_inspected.extend(origin_gaps);
    if verdicts.is_empty() && routing_inspected {
        not_inspected.push(t!(
            "which dependency failed: the message names none and the image is unknown",
            "실패한 대상: 메시지에 대상이 없고 이미지도 알 수 없음"
        ));
    }
    let mut findings = Vec::new();
    let mut open_steps = Vec::new();
    for verdict in verdicts {
        findings.extend(verdict.findings);
        open_steps.extend(verdict.open_steps);
        not_inspected.extend(verdict.gaps);
        routing_inspected &= verdict.routing_inspected;
    }
    // Several destinations (an unknown hop checks ecr.api, ecr.dkr and S3) can note the same
    // missing part; say it once.
    let mut seen = HashSet::new();
    not_inspected.retain(|n| seen.insert((n.en.clone(), n.ko.clone())));

    rank(&mut findings);
    let blocking = findings.iter().any(|f| f.severity == Severity::Critical);
    if probes.is_empty() {
        // Nothing was checked, so nothing may read as open.
        findings.insert(
            0,
            incomplete(
                t!(
                    "The message names no dependency and the image is unknown, so no path was checked. {hint}",
                    "메시지에 대상이 없고 이미지도 알 수 없어 경로를 점검하지 않았습니다. {hint}",
                    hint = hint
                ),
                vec![],
            ),
        );
    } else if !blocking {
        let finding = if routing_inspected {
            looks_open(failure, subnet_id, open_steps)
        } else {
            incomplete(
                t!(
                    "The task subnet's route table could not be read, so the path was not evaluated. {hint}",
                    "태스크 서브넷의 라우팅 테이블을 읽지 못해 경로를 평가하지 못했습니다. {hint}",
                    hint = hint
                ),
                vec![],
            )
        };
        findings.insert(0, finding);
    }
    let already_incomplete = findings
        .iter()
        .any(|f| f.code == Code::InspectionIncomplete);
    if !not_inspected.is_empty() && !already_incomplete {
        let list_en = join(not_inspected.iter().map(|l| l.en.as_str()));
        let list_ko = join(not_inspected.iter().map(|l| l.ko.as_str()));
        findings.push(Finding {
            code: Code::InspectionIncomplete,
            severity: Code::InspectionIncomplete.severity(),
            summary: t!(
                "Some of the path was not inspected: {list_en}.",
                "경로 일부를 점검하지 못했습니다: {list_ko}."
            ),
            evidence: vec![],
            fix: incomplete_fix(
                !ip_ranges_loaded && failure.ip.is_some() && failure.ip_owner.is_none(),
                not_inspected.len(),
            ),
            commands: vec![],
            remedy: None,
        });
    }
    (findings, paths)
}

/// The explicit order of findings across probes: what blocks before what contributes, then the
/// order of the code table (routing, then the endpoint or gateway on the route, then security
/// groups and network ACLs). The sort is stable, so one code found by several probes keeps
/// the probes' order.
fn rank(findings: &mut [Finding]) {
    findings.sort_by_key(|f| (f.severity, f.code));
}

/// The VPC the pull left from: the task's ENI's, or on the EC2 launch type its instance's.
pub(super) fn pulling_vpc(task: &FailedTask, view: &NetworkView) -> Option<String> {
    let subnet = if task.pulled_by_instance() {
        instance_interface(task, view).ok()?.subnet_id
    } else {
        task.subnet_id.clone()?
    };
    view.subnet(&subnet)?.vpc_id.clone()
}

/// An EC2 instance's primary network interface, as a container instance's pull starts there.
struct InstanceInterface {
    instance_id: String,
    subnet_id: String,
    private_ip: Option<std::net::IpAddr>,
    groups: Vec<String>,
    public_ip: bool,
}

/// The instance behind the task's container instance, or why it is not known.
fn instance_interface(
    task: &FailedTask,
    view: &NetworkView,
) -> Result<InstanceInterface, Localized> {
    let Some(arn) = task.container_instance_arn.as_deref() else {
        return Err(t!(
            "the container instance's network interface: the event names no containerInstanceArn",
            "컨테이너 인스턴스 네트워크 인터페이스: 이벤트에 containerInstanceArn이 없음"
        ));
    };
    if view.container_instances.is_none() || view.reservations.is_none() {
        return Err(t!(
            "container instance {arn}: ContainerInstances and Reservations were not inspected (ecs:DescribeContainerInstances, ec2:DescribeInstances), so the interface that pulled is unknown",
            "컨테이너 인스턴스 {arn}: ContainerInstances와 Reservations를 점검하지 않아(ecs:DescribeContainerInstances, ec2:DescribeInstances) 이미지를 받은 인터페이스를 알 수 없음"
        ));
    }
    let Some(instance) = view.instance_of_container_instance(arn) else {
        return Err(t!(
            "container instance {arn}: it or its EC2 instance is not in the view",
            "컨테이너 인스턴스 {arn}: 이 인스턴스나 해당 EC2 인스턴스가 네트워크 정보에 없음"
        ));
    };
    let nic = instance.pulling_interface();
    let subnet_id = nic.subnet_id.ok_or_else(|| {
        t!(
            "EC2 instance {id}: no subnet in the view",
            "EC2 인스턴스 {id}: 네트워크 정보에 서브넷 없음",
            id = instance.instance_id
        )
    })?;
    let (groups, public_ip, private_ip) = (nic.groups, nic.public_ip, nic.private_ip);
    Ok(InstanceInterface {
        instance_id: instance.instance_id.clone(),
        subnet_id,
        private_ip,
        groups,
        public_ip,
    })
}

/// A container instance's primary interface as a probe's origin. The service's awsvpc subnets
/// are the tasks' ENIs, not where the instances pull from, so no workload is named.
fn instance_origin(task: &FailedTask, nic: InstanceInterface) -> Origin {
    Origin {
        subnet_id: nic.subnet_id,
        security_groups: Some(nic.groups),
        public_ip: Some(nic.public_ip),
        private_ip: nic.private_ip,
        instance_id: Some(nic.instance_id),
        workload: None,
        account: task.account.clone(),
    }
}

/// The task's network interface as a probe's origin, and what could not be learned of it.
pub(super) fn origin_for_task(
    task: &FailedTask,
    view: &NetworkView,
    subnet_id: &str,
) -> (Origin, Vec<Localized>) {
    let mut gaps = Vec::new();
    let service = task
        .service_name()
        .and_then(|name| view.ecs_service(name, task.cluster_arn.as_deref()));
    let awsvpc = service.and_then(|s| s.awsvpc());
    if awsvpc.is_none() {
        gaps.push(match (task.service_name(), view.services.is_some()) {
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
        });
    }
    let workload = match (task.cluster_name(), task.service_name(), awsvpc) {
        (Some(cluster), Some(service), Some(a)) => Some(Workload {
            cluster: cluster.to_string(),
            service: service.to_string(),
            subnets: a.subnets.clone(),
            security_groups: a.security_groups.clone(),
        }),
        _ => None,
    };
    let origin = Origin {
        subnet_id: subnet_id.to_string(),
        security_groups: awsvpc.map(|a| a.security_groups.clone()),
        public_ip: awsvpc.map(|a| a.public_ip_enabled()),
        private_ip: task.private_ipv4_address,
        instance_id: None,
        workload,
        account: task.account.clone(),
    };
    (origin, gaps)
}

/// The destinations the failing hop needs, most specific first. `ip_ranges_loaded`: an address
/// with no owner is then known not to be AWS's.
fn targets(failure: &FailureReport, region: &str, ip_ranges_loaded: bool) -> Vec<Target> {
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
    let own = region.to_string();
    let service = |short: &'static str, region: Option<String>| Target::Service {
        short,
        region: region.unwrap_or_else(|| own.clone()),
    };
    match failure.hop {
        // A layer GET to an address outside AWS: the upstream registry's CDN that a
        // pull-through cache redirected to, reached over the internet, not S3.
        Hop::LayerStorage
            if ip_ranges_loaded
                && failure.ip.is_some_and(|ip| !super::rules::is_private(ip))
                && failure.ip_owner.is_none()
                && !failure
                    .host
                    .as_deref()
                    .is_some_and(|h| reason::hop_for_host(h) == Hop::LayerStorage) =>
        {
            failure
                .ip
                .map(|ip| Target::Upstream { ip })
                .into_iter()
                .collect()
        }
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

fn looks_open(failure: &FailureReport, subnet: &str, open_steps: Vec<Localized>) -> Finding {
    let mut evidence = open_steps;
    if evidence.is_empty() {
        evidence.push(t!(
            "No blocking route, gateway or filter was found.",
            "차단하는 경로, 게이트웨이, 필터를 찾지 못했습니다."
        ));
    }
    let what = network_hint(failure);
    Finding {
        code: Code::NetworkPathLooksOpen,
        severity: Code::NetworkPathLooksOpen.severity(),
        summary: t!(
            "Nothing inspected blocks the path from subnet {subnet}: {what}",
            "서브넷 {subnet}에서 점검한 범위에는 경로를 막는 것이 없습니다: {what}",
            what = what
        ),
        evidence,
        fix: t!(
            "Check what this tool does not see: custom DNS (DHCP options, Route 53 Resolver rules, DNS Firewall), a network firewall or proxy on the path, and the service's health at the time. If later tasks started, the failure may have been transient.",
            "이 도구가 보지 못하는 부분을 확인하세요: 사용자 지정 DNS(DHCP 옵션, Route 53 Resolver 규칙, DNS 방화벽), 경로상의 네트워크 방화벽이나 프록시, 당시 서비스 상태. 이후 태스크가 정상 시작되었다면 일시적 장애였을 수 있습니다."
        ),
        commands: vec![],
        remedy: None,
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

/// What to give for a path not wholly inspected: AWS's ip-ranges when that is what was
/// missing (the dialled address's owner), the snapshot's parts or read permissions for the
/// rest.
fn incomplete_fix(ip_ranges_missing: bool, parts_missing: usize) -> Localized {
    let others = parts_missing.saturating_sub(usize::from(ip_ranges_missing));
    match (ip_ranges_missing, others) {
        (true, 0) => t!(
            "Load AWS's published IP ranges (`ecs-pull-doctor ip-ranges update`, or `--ip-ranges FILE` / `IP_RANGES_FILE`) and run the diagnosis again.",
            "AWS가 공개한 IP 범위를 불러온 뒤(`ecs-pull-doctor ip-ranges update`, 또는 `--ip-ranges FILE` / `IP_RANGES_FILE`) 다시 진단하세요."
        ),
        (true, _) => t!(
            "Load AWS's published IP ranges (`ecs-pull-doctor ip-ranges update`, or `--ip-ranges FILE` / `IP_RANGES_FILE`), provide the other missing parts (snapshot keys, or the IAM read permissions listed in `docs/diagnosing.md`), and run the diagnosis again.",
            "AWS가 공개한 IP 범위를 불러오고(`ecs-pull-doctor ip-ranges update`, 또는 `--ip-ranges FILE` / `IP_RANGES_FILE`) 나머지 빠진 정보(스냅샷 키 또는 `docs/diagnosing.md`에 나열된 IAM 읽기 권한)를 제공한 뒤 다시 진단하세요."
        ),
        (false, _) => t!(
            "Provide the missing parts (snapshot keys, or the IAM read permissions listed in `docs/diagnosing.md`) and run the diagnosis again.",
            "빠진 정보(스냅샷 키 또는 `docs/diagnosing.md`에 나열된 IAM 읽기 권한)를 제공한 뒤 다시 진단하세요."
        ),
    }
}

fn join<'s>(items: impl Iterator<Item = &'s str>) -> String {
    items.collect::<Vec<_>>().join("; ")
}

fn incomplete(summary: Localized, evidence: Vec<Localized>) -> Finding {
    Finding {
        code: Code::InspectionIncomplete,
        severity: Code::InspectionIncomplete.severity(),
        summary,
        evidence,
        fix: t!(
            "Give the diagnosis the task's network (a recorded snapshot or a live inspection) and run it again.",
            "태스크 네트워크 정보(기록된 스냅샷 또는 실시간 점검)를 주고 다시 진단하세요."
        ),
        commands: vec![],
        remedy: None,
    }
}

/// What the message alone says about where to look.
fn network_hint(failure: &FailureReport) -> Localized {
    let symptom = failure.symptom.words();
    let hop = failure.hop.words();
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
            "태스크가 ECR 이미지 레이어가 있는 S3({target_ko})에 접근하다 {symptom} 오류가 났습니다. 태스크 서브넷 라우팅 테이블에 S3 게이트웨이 엔드포인트의 접두사 목록 경로(또는 정상 NAT 경로)가 있는지 확인하세요.",
            symptom = symptom
        ),
        Hop::EcrAuth | Hop::Registry | Hop::SecretsManager | Hop::Ssm | Hop::CloudwatchLogs => t!(
            "The task got a {symptom} on {hop} at {target_en}: check the subnet's default route or the VPC endpoint for it, and the security groups on both ends.",
            "태스크가 {hop}({target_ko})에 접근하다 {symptom} 오류가 났습니다. 서브넷 기본 경로나 해당 VPC 엔드포인트, 양쪽 보안 그룹을 확인하세요.",
            symptom = symptom,
            hop = hop
        ),
        Hop::Unknown => t!(
            "The task got a {symptom} error ({target_en}).",
            "태스크에서 {symptom} 오류가 발생했습니다({target_ko}).",
            symptom = symptom
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: Code) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            summary: Localized::same(code.as_str()),
            evidence: vec![],
            fix: Localized::default(),
            commands: vec![],
            remedy: None,
        }
    }

    /// The advice names what was missing: ip-ranges alone is not a snapshot key or a
    /// permission.
    #[test]
    fn an_incomplete_path_asks_for_what_it_lacked() {
        let only_ranges = incomplete_fix(true, 1).en;
        assert!(
            only_ranges
                .starts_with("Load AWS's published IP ranges (`ecs-pull-doctor ip-ranges update`"),
            "{only_ranges}"
        );
        assert!(!only_ranges.contains("snapshot keys"), "{only_ranges}");
        let both = incomplete_fix(true, 2).en;
        assert!(
            both.contains("ip-ranges update") && both.contains("snapshot keys"),
            "{both}"
        );
        let parts = incomplete_fix(false, 2).en;
        assert!(
            parts.starts_with("Provide the missing parts") && !parts.contains("ip-ranges"),
            "{parts}"
        );
    }

    #[test]
    fn findings_rank_by_severity_then_the_code_table_not_by_call_order() {
        let mut findings = vec![
            finding(Code::InspectionIncomplete),
            finding(Code::NaclBlocksHttps),
            finding(Code::TaskSgBlocksHttps),
            finding(Code::S3RouteMissing),
        ];
        rank(&mut findings);
        let codes: Vec<Code> = findings.iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            [
                Code::S3RouteMissing,
                Code::TaskSgBlocksHttps,
                Code::NaclBlocksHttps,
                Code::InspectionIncomplete
            ]
        );
    }

    #[test]
    fn regions_in_quoted_arns() {
        let m = "failed to fetch secret arn:aws:secretsmanager:us-west-2:1:secret:Db-x from secrets manager";
        assert_eq!(region_in_arn(m).as_deref(), Some("us-west-2"));
        assert_eq!(region_in_arn("no arn here"), None);
    }
}
