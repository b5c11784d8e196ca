//! Causes that are not the network: missing images, denied access, rate limits, image
//! formats, full disks. The VPC is not blamed for these.

use super::*;
use crate::diagnose::probe::Origin;
use crate::diagnose::FailureReport;
use crate::reason::{self, Hop, Symptom};

// ---- non-network causes --------------------------------------------------------------------

pub(in crate::diagnose) fn non_network_findings(
    failure: &FailureReport,
    network: Option<(&NetworkView, Origin)>,
    region: Option<&str>,
) -> Vec<Finding> {
    let image = failure
        .image
        .clone()
        .or_else(|| failure.host.clone())
        .unwrap_or_else(|| "the image".into());
    let region_flag = region.map(|r| format!("--region {r} ")).unwrap_or_default();
    let ecr = failure.image.as_deref().and_then(EcrImage::parse);
    let mut findings = Vec::new();

    if failure.symptom == Symptom::Denied && failure.hop == Hop::LayerStorage {
        // A 403 from S3 on the layer bucket is what an endpoint policy without the bucket
        // produces; look at the endpoint on the task's route before blaming IAM.
        if let (Some((view, origin)), Some(region)) = (network, region) {
            let s3_region = failure
                .ip_owner
                .as_ref()
                .filter(|o| o.is_s3())
                .map(|o| o.region.clone())
                .or_else(|| failure.host.as_deref().and_then(reason::region_in_host))
                .unwrap_or_else(|| region.to_string());
            let probe = Probe {
                from: origin,
                to: Target::S3 {
                    region: s3_region.clone(),
                },
                dialled: failure.ip,
                owner: failure.ip_owner.clone(),
                image: failure.image.clone(),
            };
            if let Some(mut rules) = Rules::new(view, region, &probe) {
                if let Some((table, _)) = rules.table {
                    let endpoint = table
                        .routes
                        .iter()
                        .filter_map(|r| r.gateway_id.as_deref())
                        .filter_map(|id| rules.view.endpoint(id))
                        .find(|e| {
                            e.service_name.as_deref()
                                == Some(format!("com.amazonaws.{s3_region}.s3").as_str())
                        });
                    if let Some(endpoint) = endpoint {
                        rules.check_s3_policy(endpoint, &s3_region);
                        findings.append(&mut rules.findings);
                    }
                }
            }
        }
        // ECR pre-signs the layer URL, so S3 did not judge the execution role: a policy that
        // explains the 403 is the whole answer.
        if findings
            .iter()
            .any(|f| f.code == Code::S3EndpointPolicyDeniesLayerBucket)
        {
            return findings;
        }
    }

    if failure.symptom == Symptom::NotFoundOrDenied {
        // Docker's registry answers the same for both, so both are said, the missing image
        // first (the commoner cause), each with its own check.
        let ambiguity = t!(
            "The registry gives this answer both when the repository or tag does not exist and when the credentials may not pull it, so both causes are listed.",
            "레지스트리는 리포지토리나 태그가 없을 때와 자격 증명으로 풀할 수 없을 때 같은 응답을 주므로 두 원인을 모두 제시합니다."
        );
        let mut not_found = image_not_found(failure, &image, ecr.as_ref());
        not_found.evidence.push(ambiguity.clone());
        let mut denied = registry_access_denied(failure, &image, ecr.as_ref(), &region_flag);
        denied.evidence.push(ambiguity);
        findings.push(not_found);
        findings.push(denied);
        return findings;
    }

    let startup_hop = matches!(
        failure.hop,
        Hop::Ssm | Hop::SecretsManager | Hop::CloudwatchLogs | Hop::EnvFiles
    );
    let finding = match failure.symptom {
        Symptom::NotFound if startup_hop => startup_resource_not_found(failure),
        Symptom::NotFound => image_not_found(failure, &image, ecr.as_ref()),
        Symptom::Denied => denied_finding(failure, &image, ecr.as_ref(), &region_flag),
        Symptom::RateLimited if startup_hop || failure.hop == Hop::EcrAuth => {
            aws_api_throttled(failure, &region_flag)
        }
        Symptom::RateLimited => Finding {
            code: Code::RegistryRateLimited,
            severity: Code::RegistryRateLimited.severity(),
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
            remedy: None,
        },
        Symptom::Platform => Finding {
            code: Code::ImagePlatformMismatch,
            severity: Code::ImagePlatformMismatch.severity(),
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
            remedy: None,
        },
        Symptom::ImageFormat => Finding {
            code: Code::ImageFormatUnsupported,
            severity: Code::ImageFormatUnsupported.severity(),
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
            remedy: None,
        },
        Symptom::DiskFull => Finding {
            code: Code::DiskFull,
            severity: Code::DiskFull.severity(),
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
            remedy: None,
        },
        _ => unreachable!("only non-network symptoms reach here"),
    };
    findings.push(finding);
    findings
}

/// An AWS API the task needs before its image runs throttled the calls: ECR's
/// GetAuthorizationToken, SSM, Secrets Manager, CloudWatch Logs, S3 for environment files.
fn aws_api_throttled(failure: &FailureReport, region_flag: &str) -> Finding {
    let (api, service_code) = match failure.hop {
        Hop::EcrAuth => (Localized::same("ECR GetAuthorizationToken"), "ecr"),
        Hop::Ssm => (failure.hop.words(), "ssm"),
        Hop::SecretsManager => (failure.hop.words(), "secretsmanager"),
        Hop::CloudwatchLogs => (failure.hop.words(), "logs"),
        _ => (failure.hop.words(), "s3"),
    };
    Finding {
        code: Code::AwsApiThrottled,
        severity: Code::AwsApiThrottled.severity(),
        summary: t!(
            "AWS throttled the task's start-up calls to {api}: too many tasks or instances asked at once.",
            "AWS가 태스크 시작 시 {api} 호출을 제한했습니다. 너무 많은 태스크나 인스턴스가 한꺼번에 요청했습니다.",
            api = api
        ),
        evidence: vec![reason_evidence(failure)],
        fix: t!(
            "Spread task launches (smaller deployment batches, lower maximumPercent), keep the ECS agent current (it caches ECR tokens), and ask for a higher rate in Service Quotas if the launches are legitimate; the failed tasks start again on the next attempt.",
            "태스크 시작을 분산하고(작은 배포 배치, 낮은 maximumPercent), ECS 에이전트를 최신으로 유지하며(ECR 토큰을 캐시함), 필요한 경우 Service Quotas에서 한도 상향을 요청하세요. 실패한 태스크는 다음 시도에서 다시 시작됩니다."
        ),
        commands: vec![format!(
            "aws service-quotas list-service-quotas {region_flag}--service-code {service_code}"
        )],
        remedy: None,
    }
}

fn startup_resource_not_found(failure: &FailureReport) -> Finding {
    let what = match secret_arn_in(&failure.reason) {
        Some(arn) => Localized::same(arn),
        None => t!("the secret or parameter", "시크릿 또는 파라미터"),
    };
    Finding {
        code: Code::StartupResourceNotFound,
        severity: Code::StartupResourceNotFound.severity(),
        summary: t!(
            "Something the task needs at start-up from {hop} does not exist: {what}. The image is not the problem.",
            "태스크가 시작할 때 {hop}에서 필요한 항목이 없습니다: {what}. 이미지 문제가 아닙니다.",
            hop = failure.hop.words(),
            what = what
        ),
        evidence: vec![reason_evidence(failure)],
        fix: t!(
            "Check the name or ARN in the task definition (secrets, environmentFiles, the awslogs group), its region and account, and for a Secrets Manager JSON key the key name after the ARN.",
            "태스크 정의의 이름이나 ARN(secrets, environmentFiles, awslogs 그룹), 리전과 계정, Secrets Manager JSON 키라면 ARN 뒤의 키 이름을 확인하세요."
        ),
        commands: vec![],
        remedy: None,
    }
}

fn image_not_found(failure: &FailureReport, image: &str, ecr: Option<&EcrImage>) -> Finding {
    Finding {
        code: Code::ImageNotFound,
        severity: Code::ImageNotFound.severity(),
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
        remedy: None,
    }
}

fn denied_finding(
    failure: &FailureReport,
    image: &str,
    ecr: Option<&EcrImage>,
    region_flag: &str,
) -> Finding {
    match failure.hop {
        Hop::SecretsManager | Hop::Ssm => {
            let arn = secret_arn_in(&failure.reason).unwrap_or_else(|| "<secret-or-parameter-arn>".into());
            let action = if failure.hop == Hop::Ssm { "ssm:GetParameters" } else { "secretsmanager:GetSecretValue" };
            Finding {
                code: Code::SecretAccessDenied,
                severity: Code::SecretAccessDenied.severity(),
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
                remedy: None,
            }
        }
        Hop::CloudwatchLogs | Hop::EnvFiles => Finding {
            code: Code::ExecutionRoleAccessDenied,
            severity: Code::ExecutionRoleAccessDenied.severity(),
            summary: t!(
                "The task execution role was denied a call it needs at start-up ({hop}).",
                "태스크 실행 역할이 시작 시 필요한 호출({hop})을 거부당했습니다.",
                hop = failure.hop.words()
            ),
            evidence: vec![reason_evidence(failure)],
            fix: t!(
                "Grant the execution role the missing permission (logs:CreateLogStream and logs:PutLogEvents for logs, s3:GetObject and s3:GetBucketLocation for environment files).",
                "실행 역할에 빠진 권한을 부여하세요(로그는 logs:CreateLogStream, logs:PutLogEvents, 환경 파일은 s3:GetObject, s3:GetBucketLocation)."
            ),
            commands: vec![],
            remedy: None,
        },
        _ => registry_access_denied(failure, image, ecr, region_flag),
    }
}

fn registry_access_denied(
    failure: &FailureReport,
    image: &str,
    ecr: Option<&EcrImage>,
    region_flag: &str,
) -> Finding {
    Finding {
        code: Code::RegistryAccessDenied,
        severity: Code::RegistryAccessDenied.severity(),
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
        remedy: None,
    }
}

fn reason_evidence(failure: &FailureReport) -> Localized {
    let (symptom, hop) = (failure.symptom.words(), failure.hop.words());
    let host = failure.host.as_deref().unwrap_or("-");
    t!(
        "The error reads as {symptom} on {hop} (host {host}); this is not a network path problem, so the VPC was not blamed.",
        "오류는 {hop}({host})의 {symptom}(으)로 읽힙니다. 네트워크 경로 문제가 아니므로 VPC를 원인으로 보지 않았습니다.",
        symptom = symptom,
        hop = hop
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
pub(super) struct EcrImage {
    pub(super) account: String,
    pub(super) region: String,
    pub(super) repository: String,
    pub(super) tag: Option<String>,
    pub(super) digest: Option<String>,
}

impl EcrImage {
    pub(super) fn parse(image: &str) -> Option<EcrImage> {
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
        // The parts go into commands people paste: only ECR's own grammar gets there.
        let within = |text: &str, max: usize, allowed: fn(u8) -> bool| {
            (1..=max).contains(&text.len()) && text.bytes().all(allowed)
        };
        let well_formed = account.bytes().all(|b| b.is_ascii_digit())
            && within(&repository, 256, |b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b"._/-".contains(&b)
            })
            && tag.as_deref().is_none_or(|t| {
                within(t, 128, |b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            })
            && digest.as_deref().is_none_or(|d| {
                within(d, 200, |b| {
                    b.is_ascii_alphanumeric() || b":=_+.-".contains(&b)
                })
            });
        if !well_formed {
            return None;
        }
        Some(EcrImage {
            account,
            region,
            repository,
            tag,
            digest,
        })
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
        let e = EcrImage::parse("111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/team/web:v9")
            .unwrap();
        assert_eq!(
            (e.account.as_str(), e.region.as_str(), e.repository.as_str()),
            ("111122223333", "ap-northeast-2", "team/web")
        );
        assert_eq!(e.image_id(), "imageTag=v9");
        let d = EcrImage::parse("1.dkr.ecr.us-east-1.amazonaws.com/web@sha256:abc").unwrap();
        assert_eq!(d.image_id(), "imageDigest=sha256:abc");
        assert!(EcrImage::parse("nginx:latest").is_none());
        for forged in [
            "111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/web$(curl x|sh):1",
            "111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/web:1;id",
            "111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/web@sha256:ab'c",
            "111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/Web:1",
        ] {
            assert!(EcrImage::parse(forged).is_none(), "{forged}");
        }
    }

    #[test]
    fn arns_and_regions_in_messages() {
        let m = "failed to fetch secret arn:aws:secretsmanager:us-west-2:1:secret:Db-x from secrets manager";
        assert_eq!(
            secret_arn_in(m).as_deref(),
            Some("arn:aws:secretsmanager:us-west-2:1:secret:Db-x")
        );
    }
}
