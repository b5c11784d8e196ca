//! What a service's tasks need before they can start, from its description and task
//! definitions: where they pull from (the origins: its awsvpc subnets and groups, or on the
//! EC2 launch type its cluster's container instances) and what they must reach (the hops:
//! the image's registry and layer storage, secrets, logs, environment files).
//!
//! Pure: a view in, a plan out, and for each part that is not in the view, a line saying so.

use std::collections::BTreeSet;

use crate::diagnose::probe::{Origin, Target, Workload};
use crate::localized::Localized;
use crate::network::{cluster_name, AwsVpcConfiguration, EcsService, NetworkView, TaskDefinition};
use crate::reason;
use crate::t;

/// A change not yet deployed: the task definition and network configuration a service would
/// run with (`audit --task-definition … --subnets … --security-groups …`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannedChange {
    pub task_definition: Option<String>,
    pub subnets: Option<Vec<String>>,
    pub security_groups: Option<Vec<String>>,
    /// `ENABLED` or `DISABLED`; the deployed value when not given.
    pub assign_public_ip: Option<String>,
    /// FARGATE, EC2…; the deployed one when not given.
    pub launch_type: Option<String>,
}

/// One destination a task needs, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Short and stable: `ecr.api`, `ecr.dkr`, `s3`, `logs`, `secretsmanager`, `ssm`, a
    /// registry host; another region's service carries it (`ecr.dkr@us-east-1`).
    pub label: String,
    pub target: Target,
    /// The image, for hops an image pull needs (fixes name it).
    pub image: Option<String>,
}

/// A service's tasks: where they start and what they need.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePlan {
    pub cluster: String,
    pub service: String,
    pub launch_type: String,
    pub origins: Vec<Origin>,
    pub hops: Vec<Hop>,
    /// What the plan could not learn (a task definition not read, no container instances…).
    pub gaps: Vec<Localized>,
}

/// The plan of one service. `region` is the one audited.
pub fn plan(
    view: &NetworkView,
    region: &str,
    service: &EcsService,
    planned: Option<&PlannedChange>,
) -> ServicePlan {
    let cluster = service
        .cluster_arn
        .as_deref()
        .map(cluster_name)
        .unwrap_or("?")
        .to_string();
    let name = service.service_name.clone().unwrap_or_default();
    let mut gaps = Vec::new();

    let deployments = service.starting_deployments();
    let mut task_definitions: Vec<String> = deployments
        .iter()
        .filter_map(|d| d.task_definition.clone())
        .collect();
    let mut awsvpc: Vec<AwsVpcConfiguration> = deployments
        .iter()
        .filter_map(|d| d.awsvpc().cloned())
        .collect();
    if let Some(change) = planned {
        if let Some(td) = &change.task_definition {
            task_definitions = vec![td.clone()];
        }
        if change.subnets.is_some()
            || change.security_groups.is_some()
            || change.assign_public_ip.is_some()
        {
            let base = awsvpc.first().cloned().unwrap_or_default();
            awsvpc = vec![AwsVpcConfiguration {
                subnets: change.subnets.clone().unwrap_or(base.subnets),
                security_groups: change
                    .security_groups
                    .clone()
                    .unwrap_or(base.security_groups),
                assign_public_ip: change.assign_public_ip.clone().or(base.assign_public_ip),
            }];
        }
    }
    task_definitions.dedup();

    let launch_type = planned
        .and_then(|p| p.launch_type.clone())
        .or_else(|| service.launch_type_of(deployments.first()))
        .map(|lt| refine_launch_type(view, service, lt));
    let origins = match launch_type.as_deref() {
        Some("FARGATE") => fargate_origins(&cluster, &name, &awsvpc, &mut gaps),
        Some("EC2") | Some("MANAGED_INSTANCES") => {
            instance_origins(view, service, &cluster, &mut gaps)
        }
        Some("EXTERNAL") => {
            gaps.push(t!(
                "{cluster}/{name}: the EXTERNAL launch type (ECS Anywhere) pulls from outside any VPC, which this audit does not inspect",
                "{cluster}/{name}: EXTERNAL 시작 유형(ECS Anywhere)은 VPC 밖에서 이미지를 받으므로 이 점검 대상이 아닙니다"
            ));
            vec![]
        }
        _ => {
            gaps.push(t!(
                "{cluster}/{name}: the service names neither a launch type nor a capacity provider strategy (the cluster's default strategy was not read)",
                "{cluster}/{name}: 서비스에 시작 유형도 용량 공급자 전략도 없습니다(클러스터 기본 전략은 읽지 않음)"
            ));
            vec![]
        }
    };

    let mut hops = Vec::new();
    if task_definitions.is_empty() {
        gaps.push(t!(
            "{cluster}/{name}: no deployment names a task definition",
            "{cluster}/{name}: 태스크 정의를 가진 배포가 없습니다"
        ));
    }
    for reference in &task_definitions {
        match view.task_definition(reference) {
            Some(td) => add_hops(td, region, &mut hops, &mut gaps),
            None => gaps.push(match view.read_failure(reference) {
                Some(why) => t!(
                    "task definition {reference}: {why}",
                    "태스크 정의 {reference}: {why}"
                ),
                None => t!(
                    "task definition {reference}: not in the view (TaskDefinitions)",
                    "태스크 정의 {reference}: 네트워크 정보에 없음(TaskDefinitions)"
                ),
            }),
        }
    }
    ServicePlan {
        cluster,
        service: name,
        launch_type: launch_type.unwrap_or_else(|| "?".into()),
        origins,
        hops,
        gaps,
    }
}

impl NetworkView {
    /// The task definition an ARN or `family:revision` names.
    pub fn task_definition(&self, reference: &str) -> Option<&TaskDefinition> {
        self.task_definitions
            .as_deref()?
            .iter()
            .find(|t| t.is_named(reference))
    }

    /// Why the part scoped to `scope` (a task definition, a cluster) could not be read.
    pub fn read_failure(&self, scope: &str) -> Option<String> {
        self.inspection_errors
            .iter()
            .flatten()
            .find(|e| e.scope.as_deref() == Some(scope))
            .map(|e| format!("{} failed ({})", e.action, e.message))
    }
}

fn fargate_origins(
    cluster: &str,
    service: &str,
    configurations: &[AwsVpcConfiguration],
    gaps: &mut Vec<Localized>,
) -> Vec<Origin> {
    if configurations.is_empty() {
        gaps.push(t!(
            "{cluster}/{service}: no awsvpcConfiguration, so its subnets are unknown",
            "{cluster}/{service}: awsvpcConfiguration이 없어 서브넷을 알 수 없습니다"
        ));
    }
    let mut origins: Vec<Origin> = Vec::new();
    for config in configurations {
        let workload = Workload {
            cluster: cluster.to_string(),
            service: service.to_string(),
            subnets: config.subnets.clone(),
            security_groups: config.security_groups.clone(),
        };
        for subnet in &config.subnets {
            let origin = Origin {
                subnet_id: subnet.clone(),
                security_groups: Some(config.security_groups.clone()),
                public_ip: Some(config.public_ip_enabled()),
                private_ip: None,
                instance_id: None,
                workload: Some(workload.clone()),
                account: None,
            };
            if !origins.iter().any(|o| same_interface(o, &origin)) {
                origins.push(origin);
            }
        }
    }
    origins
}

fn same_interface(a: &Origin, b: &Origin) -> bool {
    a.subnet_id == b.subnet_id
        && a.security_groups == b.security_groups
        && a.public_ip == b.public_ip
}

/// A strategy whose every provider is a Managed Instances one is MANAGED_INSTANCES, not EC2.
fn refine_launch_type(view: &NetworkView, service: &EcsService, launch_type: String) -> String {
    if launch_type != "EC2" || service.capacity_provider_strategy.is_empty() {
        return launch_type;
    }
    let managed = service
        .capacity_provider_strategy
        .iter()
        .all(|item| managed_instances_network(view, &item.capacity_provider).is_some());
    if managed {
        "MANAGED_INSTANCES".into()
    } else {
        launch_type
    }
}

fn managed_instances_network<'v>(
    view: &'v NetworkView,
    name: &str,
) -> Option<&'v crate::network::ManagedInstancesNetworkConfiguration> {
    view.capacity_providers
        .iter()
        .flatten()
        .find(|p| p.name.as_deref() == Some(name))?
        .managed_instances_network()
}

/// On the EC2 launch type (and ECS Managed Instances) the container instances pull: every
/// ACTIVE one registered to the cluster (of the strategy's capacity providers, when named)
/// is where a task may land; a Managed Instances provider may also launch new instances in
/// its own subnets with its groups, so those are origins too (with no public IP known).
fn instance_origins(
    view: &NetworkView,
    service: &EcsService,
    cluster: &str,
    gaps: &mut Vec<Localized>,
) -> Vec<Origin> {
    let name = service.service_name.as_deref().unwrap_or("?");
    let mut origins: Vec<Origin> = Vec::new();
    // Any failed read of the cluster's instances or providers leaves some of where its tasks
    // land unseen, even when other instances were found.
    if let Some(why) = view.read_failure(cluster) {
        gaps.push(t!(
            "{cluster}/{name}: the cluster's container instances or capacity providers: {why}",
            "{cluster}/{name}: 클러스터의 컨테이너 인스턴스 또는 용량 공급자: {why}"
        ));
    }
    for item in &service.capacity_provider_strategy {
        let provider = item.capacity_provider.as_str();
        let described = view
            .capacity_providers
            .iter()
            .flatten()
            .any(|p| p.name.as_deref() == Some(provider));
        if !described {
            gaps.push(t!(
                "{cluster}/{name}: capacity provider {provider} was not described (ecs:DescribeCapacityProviders), so whether it launches Managed Instances, and where, is unknown",
                "{cluster}/{name}: 용량 공급자 {provider}를 조회하지 않아(ecs:DescribeCapacityProviders) Managed Instances인지, 어디서 실행되는지 알 수 없습니다"
            ));
        }
        let Some(network) = managed_instances_network(view, provider) else {
            continue;
        };
        for subnet in &network.subnets {
            let origin = Origin {
                subnet_id: subnet.clone(),
                security_groups: Some(network.security_groups.clone()),
                public_ip: None,
                private_ip: None,
                instance_id: None,
                workload: None,
                account: None,
            };
            if !origins.iter().any(|o| same_interface(o, &origin)) {
                origins.push(origin);
            }
        }
    }
    let (Some(instances), Some(_)) = (&view.container_instances, &view.reservations) else {
        if origins.is_empty() && view.read_failure(cluster).is_none() {
            gaps.push(t!(
                "{cluster}/{name}: the cluster's container instances were not inspected (ContainerInstances, Reservations)",
                "{cluster}/{name}: 클러스터의 컨테이너 인스턴스를 점검하지 않았습니다(ContainerInstances, Reservations)"
            ));
        }
        return origins;
    };
    let providers: BTreeSet<&str> = service
        .capacity_provider_strategy
        .iter()
        .map(|p| p.capacity_provider.as_str())
        .collect();
    for ci in instances.iter().filter(|c| {
        c.cluster_name() == Some(cluster)
            && c.status.as_deref().is_none_or(|s| s == "ACTIVE")
            && (providers.is_empty()
                || c.capacity_provider_name
                    .as_deref()
                    .is_none_or(|p| providers.contains(p)))
    }) {
        let arn = ci.container_instance_arn.as_deref().unwrap_or("?");
        let Some(instance) = view.instance_of_container_instance(arn) else {
            gaps.push(t!(
                "container instance {arn}: its EC2 instance is not in the view",
                "컨테이너 인스턴스 {arn}: 해당 EC2 인스턴스가 네트워크 정보에 없음"
            ));
            continue;
        };
        let nic = instance.pulling_interface();
        let Some(subnet) = nic.subnet_id else {
            gaps.push(t!(
                "EC2 instance {id}: no subnet in the view",
                "EC2 인스턴스 {id}: 네트워크 정보에 서브넷 없음",
                id = instance.instance_id
            ));
            continue;
        };
        let (groups, public_ip) = (nic.groups, nic.public_ip);
        let origin = Origin {
            subnet_id: subnet,
            security_groups: Some(groups),
            public_ip: Some(public_ip),
            private_ip: None,
            instance_id: Some(instance.instance_id.clone()),
            workload: None,
            account: None,
        };
        if !origins.iter().any(|o| same_interface(o, &origin)) {
            origins.push(origin);
        }
    }
    if origins.is_empty() {
        gaps.push(t!(
            "{cluster}/{name}: no ACTIVE container instance is registered to the cluster, so where its tasks would pull from is unknown",
            "{cluster}/{name}: 클러스터에 ACTIVE 컨테이너 인스턴스가 없어 태스크가 이미지를 받을 위치를 알 수 없습니다"
        ));
    }
    origins
}

/// The hops of every container in the task definition, each once.
fn add_hops(td: &TaskDefinition, region: &str, hops: &mut Vec<Hop>, gaps: &mut Vec<Localized>) {
    let mut add = |hop: Hop| {
        if !hops.iter().any(|h| h.label == hop.label) {
            hops.push(hop);
        }
    };
    let service = |short: &'static str, in_region: &str| Hop {
        label: if in_region == region {
            short.to_string()
        } else {
            format!("{short}@{in_region}")
        },
        target: Target::Service {
            short,
            region: in_region.to_string(),
        },
        image: None,
    };
    for container in &td.container_definitions {
        if let Some(image) = container.image.as_deref().filter(|i| !i.trim().is_empty()) {
            let registry = reason::registry_of_image(image);
            if reason::is_ecr_private_registry(&registry) {
                let image_region =
                    reason::region_in_host(&registry).unwrap_or_else(|| region.to_string());
                for short in ["ecr.api", "ecr.dkr"] {
                    add(Hop {
                        image: Some(image.to_string()),
                        ..service(short, &image_region)
                    });
                }
                add(Hop {
                    label: if image_region == region {
                        "s3".into()
                    } else {
                        format!("s3@{image_region}")
                    },
                    target: Target::S3 {
                        region: image_region,
                    },
                    image: Some(image.to_string()),
                });
            } else {
                add(Hop {
                    label: registry.clone(),
                    target: Target::Internet { what: registry },
                    image: Some(image.to_string()),
                });
            }
        }
        for secret in &container.secrets {
            let (short, arn_region) = secret_service(&secret.value_from, region);
            add(service(short, &arn_region));
        }
        if let Some(credentials) = &container.repository_credentials {
            let (_, arn_region) = secret_service(&credentials.credentials_parameter, region);
            add(service("secretsmanager", &arn_region));
        }
        if let Some(log) = &container.log_configuration {
            if log.log_driver == "awslogs" {
                let log_region = log
                    .options
                    .get("awslogs-region")
                    .cloned()
                    .unwrap_or_else(|| region.to_string());
                add(service("logs", &log_region));
            }
        }
        for file in &container.environment_files {
            // An S3 ARN names no region, and this audit does not call s3:GetBucketLocation.
            gaps.push(t!(
                "environment file {file}: its bucket's region is not read; the path to S3 in {region} was checked",
                "환경 파일 {file}: 버킷의 리전을 읽지 않았고 {region} 리전 S3로 가는 경로만 점검했습니다",
                file = file.value
            ));
            add(Hop {
                label: "s3".into(),
                target: Target::S3 {
                    region: region.to_string(),
                },
                image: None,
            });
        }
    }
    if td.container_definitions.is_empty() {
        gaps.push(t!(
            "task definition {td}: it has no container definitions",
            "태스크 정의 {td}: 컨테이너 정의가 없습니다",
            td = td.family_revision().unwrap_or_default()
        ));
    }
}

/// Where a secret's `valueFrom` is read: Secrets Manager for its ARNs, else SSM Parameter
/// Store (an ARN, or a parameter name in the task's own region).
fn secret_service(value_from: &str, region: &str) -> (&'static str, String) {
    let parts: Vec<&str> = value_from.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "secretsmanager", r, ..] => ("secretsmanager", non_empty(r, region)),
        ["arn", _, "ssm", r, ..] => ("ssm", non_empty(r, region)),
        _ => ("ssm", region.to_string()),
    }
}

fn non_empty(value: &str, default: &str) -> String {
    if value.is_empty() { default } else { value }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_read_where_their_arn_says() {
        assert_eq!(
            secret_service(
                "arn:aws:secretsmanager:us-west-2:1:secret:db-AbCd:password::",
                "ap-northeast-2"
            ),
            ("secretsmanager", "us-west-2".into())
        );
        assert_eq!(
            secret_service(
                "arn:aws:ssm:eu-west-1:1:parameter/app/key",
                "ap-northeast-2"
            ),
            ("ssm", "eu-west-1".into())
        );
        assert_eq!(
            secret_service("/app/key", "ap-northeast-2"),
            ("ssm", "ap-northeast-2".into())
        );
    }
}
