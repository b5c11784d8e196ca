//! Findings from many probes → root causes: one per thing to fix, with every service and
//! subnet it breaks and one fix that mends all of them.
//!
//! Two findings are one cause when their fix is one call ([`Remedy`] identity: the endpoint
//! to associate, the endpoint to create) or, for every other fix, when their code and
//! commands are the same (the same security group rule, the same route).

use std::collections::BTreeSet;

use regex::Regex;
use std::sync::OnceLock;

use crate::diagnose::{Code, Finding, Remedy, Severity};
use crate::localized::Localized;
use crate::t;

/// One thing to fix.
#[derive(Debug, Clone, PartialEq)]
pub struct RootCause {
    pub code: Code,
    pub severity: Severity,
    /// Stable across runs while the cause persists (`S3_ROUTE_MISSING#vpce-…`): what a
    /// scheduled sweep deduplicates on.
    pub identity: String,
    pub summary: Localized,
    /// The resource IDs the cause and its fix name (subnets are in `subnets`).
    pub resources: Vec<String>,
    /// `cluster/service`, each once, sorted.
    pub services: Vec<String>,
    pub subnets: Vec<String>,
    pub fix: Localized,
    pub commands: Vec<String>,
    /// The account, when the audit spans several.
    pub account: Option<String>,
    remedy: Option<Remedy>,
    /// The first finding's summary, for causes whose summary is not rebuilt from the remedy.
    first_summary: Localized,
}

impl RootCause {
    /// Rewrites what the cause shows (its texts, commands, identity and the IDs it names):
    /// a plan's placeholder IDs become the plan's addresses.
    pub fn rewrite(&mut self, rewrite: impl Fn(&str) -> String) {
        for text in [&mut self.summary, &mut self.fix, &mut self.first_summary] {
            text.en = rewrite(&text.en);
            text.ko = rewrite(&text.ko);
        }
        self.identity = rewrite(&self.identity);
        for list in [&mut self.resources, &mut self.subnets, &mut self.commands] {
            for item in list.iter_mut() {
                *item = rewrite(item);
            }
        }
    }
}

/// Collects findings into root causes.
#[derive(Debug, Default)]
pub struct Causes {
    causes: Vec<RootCause>,
}

impl Causes {
    /// Adds one finding, seen from `subnet` by `service`. Only what blocks or is advised is a
    /// cause; what could not be inspected is not.
    /// `hop` is the hop's label, with the image it pulls when it pulls one.
    pub fn add(
        &mut self,
        finding: &Finding,
        service: &str,
        subnet: &str,
        (hop, image): (&str, Option<&str>),
    ) {
        if matches!(
            finding.code,
            Code::InspectionIncomplete | Code::NetworkPathLooksOpen
        ) {
            return;
        }
        let identity = identity(finding, service, (hop, image));
        let cross_region = cross_region_image(finding, (hop, image));
        let cause = match self
            .causes
            .iter_mut()
            .find(|c| c.identity == identity && c.severity == finding.severity)
        {
            Some(cause) => {
                if let (Some(mine), Some(theirs)) = (&mut cause.remedy, &finding.remedy) {
                    mine.absorb(theirs);
                }
                // One resource, several rules (a network ACL's for S3 and for an endpoint):
                // the fix is all of them.
                let own_commands = if cause.remedy.is_some() {
                    &[][..]
                } else {
                    &finding.commands[..]
                };
                for command in own_commands {
                    if !cause.commands.contains(command) {
                        cause.commands.push(command.clone());
                    }
                }
                cause
            }
            None => {
                // Another region's image fails on the registry hop and the layer hop alike:
                // one cause, said once for every subnet.
                let (code, summary) = match cross_region {
                    Some((repository, region)) => (
                        Code::NoRouteToTarget,
                        t!(
                            "{repository} is in {region}: VPC endpoints serve only their own region, and nothing else routes the tasks' subnets there.",
                            "{repository}은(는) {region} 리전에 있습니다. VPC 엔드포인트는 자기 리전만 지원하고, 태스크 서브넷에서 그곳으로 가는 다른 경로도 없습니다."
                        ),
                    ),
                    None => (finding.code, finding.summary.clone()),
                };
                self.causes.push(RootCause {
                    code,
                    severity: finding.severity,
                    identity,
                    summary: summary.clone(),
                    resources: vec![],
                    services: vec![],
                    subnets: vec![],
                    fix: finding.fix.clone(),
                    commands: finding.commands.clone(),
                    account: None,
                    remedy: finding.remedy.clone(),
                    first_summary: summary,
                });
                self.causes.last_mut().expect("just pushed")
            }
        };
        insert_sorted(&mut cause.services, service);
        insert_sorted(&mut cause.subnets, subnet);
    }

    /// The causes, most severe first, with merged fixes and their summaries.
    pub fn finish(mut self) -> Vec<RootCause> {
        for cause in &mut self.causes {
            if let Some(remedy) = &cause.remedy {
                // A remedy's finding has the remedy's call as its command: merged, it is one.
                cause.commands = vec![remedy.command()];
                cause.summary = summary(remedy, &cause.subnets);
                cause.resources = remedy.resources();
            } else {
                let mut ids: BTreeSet<String> = BTreeSet::new();
                for text in cause.commands.iter().chain([&cause.first_summary.en]) {
                    ids.extend(resource_ids(text));
                }
                cause.resources = ids.into_iter().collect();
            }
            cause.resources.retain(|id| !id.starts_with("subnet-"));
        }
        self.causes.sort_by(|a, b| {
            (a.severity, a.code, &a.identity).cmp(&(b.severity, b.code, &b.identity))
        });
        self.causes
    }
}

/// What the finding's fix changes, stable while the cause persists: the remedy's identity;
/// else the resources its commands name (never the commands' text, which quotes image tags
/// and free rule numbers); else the resources its summary names; else, for a fix of one
/// service (its network configuration), the service and hop. Nothing routing to a target is
/// one cause per route tables and kind of destination (another region's image, an internet
/// registry), so two unrelated gaps in the same subnets stay two; another region's image is
/// one cause per repository and region, whatever the route tables.
fn identity(finding: &Finding, service: &str, (hop, image): (&str, Option<&str>)) -> String {
    if let Some(remedy) = &finding.remedy {
        return format!("{}#{}", finding.code, remedy.identity());
    }
    let class = destination_class(hop);
    if let Some((repository, region)) = cross_region_image(finding, (hop, image)) {
        return format!("{}#{repository}#{region}", Code::NoRouteToTarget);
    }
    let ids = |texts: &mut dyn Iterator<Item = &str>| {
        let mut ids: Vec<String> = texts
            .flat_map(resource_ids)
            .filter(|id| !id.starts_with("subnet-"))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let from_commands = ids(&mut finding.commands.iter().map(String::as_str));
    let named = if from_commands.is_empty() {
        ids(&mut std::iter::once(finding.summary.en.as_str()))
    } else {
        from_commands
    };
    if named.is_empty() {
        return format!("{}#{service}#{hop}", finding.code);
    }
    if finding.code == Code::NoRouteToTarget {
        return format!("{}#{}#{class}", finding.code, named.join("#"));
    }
    format!("{}#{}", finding.code, named.join("#"))
}

/// The repository and region of an image in another region than the task, when the finding
/// is that nothing reaches it (on its registry hop, `ecr.dkr@us-east-1`, or its layer hop).
fn cross_region_image<'i>(
    finding: &Finding,
    (hop, image): (&str, Option<&'i str>),
) -> Option<(&'i str, String)> {
    if !matches!(
        finding.code,
        Code::NoRouteToTarget | Code::CrossRegionLayerBucket
    ) {
        return None;
    }
    let (_, region) = hop.split_once('@')?;
    Some((repository(image?), region.to_string()))
}

/// What kind of destination a hop is: another region's (`region-us-east-1`), an AWS
/// service in the task's region (`aws`), or a registry on the internet (`internet`).
fn destination_class(hop: &str) -> String {
    match hop.split_once('@') {
        Some((_, region)) => format!("region-{region}"),
        None if ["ecr.api", "ecr.dkr", "s3", "logs", "secretsmanager", "ssm"].contains(&hop) => {
            "aws".into()
        }
        None => "internet".into(),
    }
}

/// An image reference without its tag or digest.
fn repository(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    match without_digest.rsplit_once(':') {
        // A colon after the last slash is a tag; before it, a registry's port.
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => without_digest,
    }
}

fn summary(remedy: &Remedy, subnets: &[String]) -> Localized {
    let subnets = subnets.join(", ");
    match remedy {
        Remedy::AssociateRouteTables {
            endpoint_id,
            route_tables,
            ..
        } => t!(
            "S3 gateway endpoint {endpoint_id} is not associated with {tables}, so tasks in {subnets} cannot download image layers from S3.",
            "S3 게이트웨이 엔드포인트 {endpoint_id}가 {tables}에 연결되어 있지 않아 {subnets}의 태스크가 S3에서 이미지 레이어를 내려받지 못합니다.",
            tables = route_tables.join(", ")
        ),
        Remedy::CreateGatewayEndpoint {
            vpc_id,
            service_name,
            route_tables,
            ..
        } => t!(
            "VPC {vpc_id} has no {service_name} gateway endpoint and {tables} have no other way out, so tasks in {subnets} cannot download image layers.",
            "VPC {vpc_id}에 {service_name} 게이트웨이 엔드포인트가 없고 {tables}에 다른 경로도 없어 {subnets}의 태스크가 이미지 레이어를 내려받지 못합니다.",
            tables = route_tables.join(", ")
        ),
        Remedy::CreateInterfaceEndpoint {
            vpc_id,
            service_name,
            ..
        } => t!(
            "VPC {vpc_id} has no interface endpoint for {service_name} and {subnets} have no default route, so tasks there cannot reach it.",
            "VPC {vpc_id}에 {service_name} 인터페이스 엔드포인트가 없고 {subnets}에 기본 경로도 없어 태스크가 접근하지 못합니다."
        ),
    }
}

/// The AWS resource IDs named in a text (`vpce-…`, `rtb-…`, `sg-…`…).
fn resource_ids(text: &str) -> Vec<String> {
    static IDS: OnceLock<Regex> = OnceLock::new();
    let pattern = IDS.get_or_init(|| {
        Regex::new(
            r"\b(?:vpce|rtb|sg|acl|nat|igw|eigw|subnet|vpc|pl|tgw|pcx|eni|vgw)-[0-9a-f]{8,17}\b",
        )
        .expect("static pattern")
    });
    pattern
        .find_iter(text)
        .map(|m| m.as_str().to_string())
        .collect()
}

fn insert_sorted(items: &mut Vec<String>, item: &str) {
    if let Err(at) = items.binary_search_by(|i| i.as_str().cmp(item)) {
        items.insert(at, item.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_are_found_in_commands() {
        let ids = resource_ids(
            "aws ec2 authorize-security-group-egress --region r --group-id sg-0a1b2c3d4e5f60718 --ip-permissions 'IpProtocol=tcp,PrefixListIds=[{PrefixListId=pl-78a54011}]'",
        );
        assert_eq!(ids, ["sg-0a1b2c3d4e5f60718", "pl-78a54011"]);
    }

    fn no_route(commands: &[&str]) -> Finding {
        Finding {
            code: Code::NoRouteToTarget,
            severity: Severity::Critical,
            summary: Localized::same("nothing routes it"),
            evidence: vec![],
            fix: Localized::same("route it"),
            commands: commands.iter().map(|c| c.to_string()).collect(),
            remedy: None,
        }
    }

    #[test]
    fn an_internet_registry_and_another_regions_image_in_the_same_subnets_are_two_causes() {
        let route = "aws ec2 create-route --route-table-id rtb-0a1b2c3d4e5f60718 --destination-cidr-block 0.0.0.0/0 --nat-gateway-id nat-0a1b2c3d4e5f60718";
        let mut causes = Causes::default();
        causes.add(
            &no_route(&[route]),
            "prod/web",
            "subnet-1",
            ("registry-1.docker.io", Some("nginx:1.27")),
        );
        let image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/api:v2";
        for hop in ["ecr.api@us-east-1", "ecr.dkr@us-east-1", "s3@us-east-1"] {
            for (subnet, table) in [
                ("subnet-1", "rtb-0a1b2c3d4e5f60718"),
                ("subnet-2", "rtb-0b2c3d4e5f6071829"),
            ] {
                let command = route.replace("rtb-0a1b2c3d4e5f60718", table);
                let mut finding = no_route(&[&command]);
                if hop.starts_with("s3@") {
                    // The layer hop says it as the layer bucket's region: the same cause.
                    finding.code = Code::CrossRegionLayerBucket;
                }
                causes.add(&finding, "prod/api", subnet, (hop, Some(image)));
            }
        }
        let found = causes.finish();
        let identities: Vec<&str> = found.iter().map(|c| c.identity.as_str()).collect();
        assert_eq!(
            identities,
            [
                "NO_ROUTE_TO_TARGET#111122223333.dkr.ecr.us-east-1.amazonaws.com/api#us-east-1",
                "NO_ROUTE_TO_TARGET#nat-0a1b2c3d4e5f60718#rtb-0a1b2c3d4e5f60718#internet",
            ]
        );
        assert_eq!(
            found[0].subnets,
            ["subnet-1", "subnet-2"],
            "one cause across route tables"
        );
        assert_eq!(found[0].code, Code::NoRouteToTarget);
        assert_eq!(
            found[0].summary.en,
            "111122223333.dkr.ecr.us-east-1.amazonaws.com/api is in us-east-1: VPC endpoints serve only their own region, and nothing else routes the tasks' subnets there."
        );
        assert_eq!(found[1].services, ["prod/web"]);
    }

    #[test]
    fn repositories_drop_tags_and_digests_but_not_ports() {
        assert_eq!(
            repository("registry.local:5000/team/app:1.2"),
            "registry.local:5000/team/app"
        );
        assert_eq!(repository("app@sha256:abc"), "app");
        assert_eq!(
            repository("registry.local:5000/app"),
            "registry.local:5000/app"
        );
    }
}
