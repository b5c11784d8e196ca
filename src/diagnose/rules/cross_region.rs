//! An ECR image in another region than the task. VPC endpoints serve their own region only,
//! so the registry hop and the layer hop fail alike and share one fix: bring the image into
//! the task's region, or give the subnet a way out.
//!
//! The fixes, in the order a careful engineer would take them:
//! - a pull-through-cache rule in the task's region whose upstream is the image's registry:
//!   cached on first pull, kept in sync, and it works for images already pushed;
//! - replication: only images pushed after it is set up, and `put-replication-configuration`
//!   replaces the registry's whole configuration, so the command adds a rule to the rules
//!   already there instead of replacing them;
//! - a NAT path, only with a NAT gateway the VPC has (see `nat_route_commands`).

use super::non_network::EcrImage;
use super::*;

/// The role ECR's pull-through cache assumes to read the upstream registry.
const CACHE_ROLE: &str = "ecr-pull-through-cache";
/// What that role needs, as the ECR user guide's ECR-to-ECR pull-through cache page lists it.
const CACHE_ROLE_ACTIONS: &[&str] = &[
    "ecr:GetAuthorizationToken",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchImportUpstreamImage",
    "ecr:GetImageCopyStatus",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
];

impl<'a> Rules<'a> {
    /// The fix for an image whose registry is in `image_region`, seen from route table `rtb`.
    pub(super) fn cross_region_image_fix(
        &self,
        image_region: &str,
        rtb: &str,
    ) -> (Localized, Vec<String>) {
        let region: &str = self.region;
        let image = self
            .probe
            .image
            .as_deref()
            .and_then(EcrImage::parse)
            .filter(|image| image.region == image_region);
        let mut commands = match &image {
            Some(image) => {
                let account = self.cache_account(image);
                let mut commands = pull_through_cache_commands(image, region, &account);
                commands.push(format!(
                    "# or replicate (only images pushed after this; the registry's existing rules are kept): {}",
                    replication_command(image, region, &account)
                ));
                commands
            }
            None => vec![format!(
                "# the image is not an ECR image reference this tool can read: create a pull-through-cache rule in {region} for its registry in {image_region}, or replicate the repository into {region}"
            )],
        };
        let nat = self.nat_route_commands(
            "create-route",
            rtb,
            ("--destination-cidr-block", "0.0.0.0/0"),
        );
        commands.extend(
            nat.into_iter()
                .flatten()
                .map(|command| format!("# or a NAT path: {command}")),
        );
        let cached = image
            .as_ref()
            .map(|i| i.cached_reference(region, &self.cache_account(i)))
            .unwrap_or_else(|| format!("the {region} image URI"));
        let fix = t!(
            "Endpoints serve only their own region, so bring the image into {region}: a pull-through-cache rule whose upstream is the registry in {image_region} caches it on first pull and keeps it in sync (it works for images already pushed); then point the task definition at {cached}. Replication works too, but only for images pushed after it is set up. Or give the subnet a default route to a NAT gateway.",
            "엔드포인트는 자기 리전만 지원하므로 이미지를 {region} 리전으로 가져오세요. {image_region} 리전의 레지스트리를 업스트림으로 하는 풀스루 캐시 규칙은 처음 이미지를 받을 때 캐시하고 계속 동기화합니다(이미 푸시된 이미지도 됩니다). 그다음 태스크 정의의 이미지를 {cached}(으)로 바꾸세요. 복제도 되지만 설정 이후에 푸시된 이미지만 복제됩니다. 또는 서브넷에 NAT 게이트웨이로 가는 기본 경로를 추가하세요."
        );
        (fix, commands)
    }

    /// The account that runs the task, which keeps the cache: the probe's when known, else the
    /// image's (the usual case of one account, two regions).
    fn cache_account(&self, image: &EcrImage) -> String {
        self.probe
            .from
            .account
            .clone()
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or_else(|| image.account.clone())
    }
}

/// The IAM partition of a region's ARNs.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The repository prefix the cache keeps the upstream's repositories under.
fn cache_prefix(image: &EcrImage) -> String {
    format!("ecr-{}", image.region)
}

fn pull_through_cache_commands(image: &EcrImage, region: &str, account: &str) -> Vec<String> {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pullthroughcache.ecr.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let actions = CACHE_ROLE_ACTIONS
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(",");
    let upstream = format!("{}.dkr.ecr.{}.amazonaws.com", image.account, image.region);
    let mut commands = vec![
        format!("aws iam create-role --role-name {CACHE_ROLE} --assume-role-policy-document '{trust}'"),
        format!(
            "aws iam put-role-policy --role-name {CACHE_ROLE} --policy-name pull-from-upstream-ecr --policy-document '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Action\":[{actions}],\"Resource\":\"*\"}}]}}'"
        ),
        format!(
            "aws ecr create-pull-through-cache-rule --region {region} --ecr-repository-prefix {prefix} --upstream-registry ecr --upstream-registry-url {upstream} --custom-role-arn arn:{partition}:iam::{account}:role/{CACHE_ROLE}",
            prefix = cache_prefix(image),
            partition = partition(region),
        ),
    ];
    if account != image.account {
        commands.push(format!(
            "# the registry's owner ({owner}) must also allow account {account} to pull {repository} (its registry or repository policy)",
            owner = image.account,
            repository = image.repository,
        ));
    }
    commands.push(format!(
        "# the task execution role pulls through the cache: it needs ecr:BatchImportUpstreamImage and ecr:CreateRepository as well; then use {}",
        image.cached_reference(region, account)
    ));
    commands
}

/// Adds one replication rule to the registry's rules (read first, since the call replaces
/// them all); `jq` treats a registry with no rules as an empty list.
fn replication_command(image: &EcrImage, region: &str, account: &str) -> String {
    let source = &image.region;
    let rule = format!(
        r#"{{"destinations":[{{"region":"{region}","registryId":"{account}"}}],"repositoryFilters":[{{"filter":"{repository}","filterType":"PREFIX_MATCH"}}]}}"#,
        repository = image.repository
    );
    format!(
        "aws ecr describe-registry --region {source} --query replicationConfiguration --output json | jq '.rules += [{rule}]' > replication.json && aws ecr put-replication-configuration --region {source} --replication-configuration file://replication.json"
    )
}

impl EcrImage {
    /// The reference of this image in `account`'s pull-through cache in `region`.
    fn cached_reference(&self, region: &str, account: &str) -> String {
        let suffix = match (&self.digest, &self.tag) {
            (Some(digest), _) => format!("@{digest}"),
            (None, Some(tag)) => format!(":{tag}"),
            (None, None) => String::new(),
        };
        format!(
            "{account}.dkr.ecr.{region}.amazonaws.com/{}/{}{suffix}",
            cache_prefix(self),
            self.repository
        )
    }
}
