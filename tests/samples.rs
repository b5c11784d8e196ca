//! Every bundled sample in `events/` against its network snapshot: the expected verdict and
//! the exact fix. These run without ip-ranges, as `make demo` does on a machine with no
//! network; the S3 prefix list in the snapshot is what identifies S3.

mod common;

use ecs_pull_doctor::diagnose::{diagnose, Code, Diagnosis, Severity};
use ecs_pull_doctor::event::{parse_task_event, TaskEvent};
use ecs_pull_doctor::localized::Lang;
use ecs_pull_doctor::render::{diagnosis_json, diagnosis_text};

fn run(name: &str) -> Diagnosis {
    let task = common::sample_task(name);
    let view = common::sample_network(name);
    diagnose(&task, Some(&view), None)
}

fn commands(d: &Diagnosis) -> String {
    d.findings[0].commands.join("\n")
}

/// Each sample, its expected verdict, and strings the first finding's fix must contain.
const EXPECTED: &[(&str, Code, &[&str])] = &[
    (
        "s3-route-missing",
        Code::S3RouteMissing,
        &["aws ec2 modify-vpc-endpoint --region ap-northeast-2 --vpc-endpoint-id vpce-04e8c1a2b3d5f6a79 --add-route-table-ids rtb-0c3e5a7b9d1f24680"],
    ),
    ("healthy-subnet", Code::NetworkPathLooksOpen, &[]),
    (
        "no-s3-endpoint-no-nat",
        Code::S3GatewayEndpointMissing,
        &["--vpc-endpoint-type Gateway --service-name com.amazonaws.ap-northeast-2.s3 --route-table-ids rtb-0c3e5a7b9d1f24680"],
    ),
    (
        "nat-route-blackhole",
        Code::RouteBlackhole,
        &["replace-route", "--route-table-id rtb-0c3e5a7b9d1f24680", "--nat-gateway-id nat-0a7b6c5d4e3f2a1b0"],
    ),
    (
        "ecr-api-endpoint-missing",
        Code::InterfaceEndpointMissing,
        &[
            "--service-name com.amazonaws.ap-northeast-2.ecr.api",
            "--subnet-ids subnet-0a1b2c3d4e5f60718 subnet-0c9d8e7f6a5b4c3d2",
            "--security-group-ids sg-0e5f6a7b8c9d0e1f2",
            "--private-dns-enabled",
        ],
    ),
    (
        "endpoint-sg-blocks-task",
        Code::EndpointSgBlocksHttps,
        &["authorize-security-group-ingress --region ap-northeast-2 --group-id sg-0e5f6a7b8c9d0e1f2 --protocol tcp --port 443 --source-group sg-0a9b8c7d6e5f4a3b2"],
    ),
    (
        "public-subnet-no-public-ip",
        Code::PublicIpMissing,
        &["aws ecs update-service", "--cluster prod --service web", "assignPublicIp=ENABLED"],
    ),
    (
        "image-not-found",
        Code::ImageNotFound,
        &["aws ecr describe-images --region ap-northeast-2 --registry-id 111122223333 --repository-name web --image-ids imageTag=2026.11.31-deadbee"],
    ),
    ("dockerhub-rate-limit", Code::RegistryRateLimited, &["create-pull-through-cache-rule"]),
    (
        "main-route-table",
        Code::S3RouteMissing,
        &["--add-route-table-ids rtb-0d4c3b2a1f0e9d8c7"],
    ),
    (
        "nacl-blocks-https",
        Code::NaclBlocksHttps,
        &["create-network-acl-entry --region ap-northeast-2 --network-acl-id acl-0f9e8d7c6b5a49382 --egress --rule-number 80 --protocol tcp --port-range From=443,To=443 --cidr-block 52.219.204.42/32 --rule-action allow"],
    ),
    (
        "nat-gateway-failed",
        Code::NatGatewayNotAvailable,
        &["replace-route", "--nat-gateway-id nat-0a7b6c5d4e3f2a1b0"],
    ),
    (
        "s3-interface-endpoint-only",
        Code::S3GatewayEndpointMissing,
        &["--vpc-endpoint-type Gateway --service-name com.amazonaws.ap-northeast-2.s3"],
    ),
    (
        "cross-region-registry",
        Code::NoRouteToTarget,
        &[
            // A pull-through-cache rule first (it works for images already pushed); the
            // replication alternative keeps the registry's existing rules.
            "aws ecr create-pull-through-cache-rule --region ap-northeast-2 --ecr-repository-prefix ecr-us-east-1 --upstream-registry ecr --upstream-registry-url 111122223333.dkr.ecr.us-east-1.amazonaws.com --custom-role-arn arn:aws:iam::111122223333:role/ecr-pull-through-cache",
            "jq '.rules += [{\"destinations\":[{\"region\":\"ap-northeast-2\",\"registryId\":\"111122223333\"}]",
            "--destination-cidr-block 0.0.0.0/0 --nat-gateway-id",
        ],
    ),
    (
        "pull-through-cache-upstream",
        Code::NoRouteToTarget,
        &["create-route --region ap-northeast-2 --route-table-id rtb-0c3e5a7b9d1f24680 --destination-cidr-block 0.0.0.0/0"],
    ),
    ("tgw-default-route", Code::NetworkPathLooksOpen, &[]),
    (
        "ipv6-egress-ipv4-only",
        Code::TaskSgBlocksHttps,
        &["Ipv6Ranges=[{CidrIpv6=::/0}]"],
    ),
    (
        "ec2-agent-ecr-auth-timeout",
        Code::InterfaceEndpointMissing,
        &["--service-name com.amazonaws.ap-northeast-2.ecr.api"],
    ),
    (
        "layer-403-endpoint-policy",
        Code::S3EndpointPolicyDeniesLayerBucket,
        &["prod-ap-northeast-2-starport-layer-bucket/*"],
    ),
    (
        "ec2-bridge-s3-route-missing",
        Code::S3RouteMissing,
        &["--vpc-endpoint-id vpce-04e8c1a2b3d5f6a79 --add-route-table-ids rtb-0c3e5a7b9d1f24680"],
    ),
    (
        "peering-default-route",
        Code::NoRouteToTarget,
        &["replace-route --region ap-northeast-2 --route-table-id rtb-0c3e5a7b9d1f24680 --destination-cidr-block 0.0.0.0/0"],
    ),
    (
        "centralised-endpoints",
        Code::TaskSgBlocksHttps,
        &["authorize-security-group-egress --region ap-northeast-2 --group-id sg-0a9b8c7d6e5f4a3b2 --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=10.50.0.0/16}]'"],
    ),
];

#[test]
fn every_sample_has_its_expected_first_finding_and_fix() {
    let mut problems = Vec::new();
    for (name, code, fix_parts) in EXPECTED {
        let d = run(name);
        if d.verdict() != *code {
            problems.push(format!(
                "{name}: expected {code}, got {:?}",
                d.findings
                    .iter()
                    .map(|f| f.code.as_str())
                    .collect::<Vec<_>>()
            ));
            continue;
        }
        let commands = commands(&d);
        for part in *fix_parts {
            if !commands.contains(part) {
                problems.push(format!("{name}: fix lacks {part:?}:\n{commands}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_sample_event_is_covered_by_the_table() {
    let mut names: Vec<String> = std::fs::read_dir(common::repo("events"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    names.sort();
    for name in names {
        let known =
            EXPECTED.iter().any(|(n, _, _)| *n == name) || name == "essential-container-exited";
        assert!(
            known,
            "events/{name}.json has no expected finding in tests/samples.rs"
        );
    }
}

#[test]
fn seed_scenario_names_its_evidence_and_is_blocking() {
    let d = run("s3-route-missing");
    let first = &d.findings[0];
    assert_eq!(first.severity, Severity::Critical);
    let evidence = first
        .evidence
        .iter()
        .map(|e| e.en.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for id in [
        "subnet-0c9d8e7f6a5b4c3d2",
        "rtb-0c3e5a7b9d1f24680",
        "vpce-04e8c1a2b3d5f6a79",
        "pl-78a54011",
        "52.219.204.42",
        "prod-ap-northeast-2-starport-layer-bucket",
    ] {
        assert!(evidence.contains(id), "evidence lacks {id}:\n{evidence}");
    }
    let owner = d
        .failure
        .ip_owner
        .as_ref()
        .expect("the prefix list identifies S3");
    assert_eq!(
        (owner.service.as_str(), owner.region.as_str()),
        ("S3", "ap-northeast-2")
    );
    assert_eq!(owner.source, "prefix-list:pl-78a54011");
    assert!(d.not_inspected.is_empty(), "{:?}", d.not_inspected);
}

#[test]
fn main_table_sample_says_the_main_table_applies() {
    let d = run("main-route-table");
    assert!(d.findings[0].evidence[0]
        .en
        .contains("main route table rtb-0d4c3b2a1f0e9d8c7"));
    assert!(d.findings[0].evidence[0]
        .ko
        .contains("기본(main) 라우팅 테이블"));
}

#[test]
fn healthy_subnet_reports_the_open_path_and_nothing_blocking() {
    let d = run("healthy-subnet");
    assert_eq!(
        d.findings.len(),
        1,
        "{:?}",
        d.findings.iter().map(|f| f.code).collect::<Vec<_>>()
    );
    assert_eq!(d.findings[0].severity, Severity::Info);
    let evidence = common::evidence_en(&d.findings[0]);
    assert!(
        evidence.contains("routes S3 (pl-78a54011) to gateway endpoint vpce-04e8c1a2b3d5f6a79"),
        "{evidence}"
    );
    assert!(evidence.contains("allows s3:GetObject"), "{evidence}");
    assert!(
        evidence.contains("Network ACL acl-0f9e8d7c6b5a49382 allows"),
        "{evidence}"
    );
}

#[test]
fn non_network_causes_do_not_blame_the_vpc() {
    for name in ["image-not-found", "dockerhub-rate-limit"] {
        let d = run(name);
        assert_eq!(d.findings.len(), 1, "{name}");
        assert!(d.findings[0].evidence[0]
            .en
            .contains("not a network path problem"));
    }
}

#[test]
fn without_a_network_view_the_verdict_is_incomplete_never_all_clear() {
    for (name, _, _) in EXPECTED {
        let task = common::sample_task(name);
        let d = diagnose(&task, None, None);
        if d.failure.symptom.is_network() {
            assert_eq!(d.verdict(), Code::InspectionIncomplete, "{name}");
            assert!(
                d.findings
                    .iter()
                    .all(|f| f.code != Code::NetworkPathLooksOpen),
                "{name}"
            );
            assert!(!d.not_inspected.is_empty(), "{name}");
        }
    }
}

#[test]
fn seed_without_network_still_points_at_s3_with_ip_ranges() {
    let task = common::sample_task("s3-route-missing");
    let d = diagnose(&task, None, Some(common::ip_ranges()));
    assert_eq!(d.verdict(), Code::InspectionIncomplete);
    assert!(
        d.findings[0].summary.en.contains("S3"),
        "{}",
        d.findings[0].summary.en
    );
    assert!(d.findings[0]
        .summary
        .en
        .contains("52.219.204.42 (S3 ap-northeast-2)"));
    assert_eq!(
        d.ip_ranges_create_date.as_deref(),
        Some(common::ip_ranges().create_date.as_str())
    );
}

#[test]
fn skipped_sample_is_an_ordinary_stop() {
    let text = common::read("events/essential-container-exited.json");
    match parse_task_event(&text).unwrap() {
        TaskEvent::Skipped { why, .. } => {
            assert!(why.contains("EssentialContainerExited"), "{why}")
        }
        other => panic!("expected skipped, got {other:?}"),
    }
}

#[test]
fn public_events_are_classified_like_the_product_would() {
    let skipped = [
        "aws-docs-2020-fargate-task-running",
        "aws-docs-2025-ec2-task-running",
        "aws-docs-2025-fargate-task-running",
        "aws-samples-stopped-tasks-cwlogs-ec2-stopped",
        "fivexl-ecs-events-to-slack-fargate-stopped",
        "github-readme-2024-fargate-service-task-stopped",
    ];
    for name in skipped {
        let text = common::read(&format!("tests/fixtures/public-events/{name}.json"));
        assert!(
            matches!(parse_task_event(&text).unwrap(), TaskEvent::Skipped { .. }),
            "{name}"
        );
    }
    let text =
        common::read("tests/fixtures/public-events/SYNTHETIC-fargate-pull-failure-s3-timeout.json");
    let TaskEvent::PullFailure(task) = parse_task_event(&text).unwrap() else {
        panic!("the synthetic pull failure must not be skipped");
    };
    assert_eq!(task.subnet_id.as_deref(), Some("subnet-00aad8cc4d100aa7d"));
    assert_eq!(
        task.private_ipv4_address,
        Some("172.31.68.200".parse().unwrap())
    );
    assert_eq!(task.primary.container.as_deref(), Some("Example"));
    let d = diagnose(&task, None, Some(common::ip_ranges()));
    assert_eq!(d.failure.hop.as_str(), "layer_storage");
    assert_eq!(d.failure.ip_owner.as_ref().unwrap().region, "us-east-1");
    assert_eq!(d.verdict(), Code::InspectionIncomplete);
}

#[test]
fn both_languages_render_every_sample() {
    for (name, code, _) in EXPECTED {
        let d = run(name);
        for lang in [Lang::En, Lang::Ko] {
            let text = diagnosis_text(&d, lang);
            assert!(
                text.starts_with(&format!("✗ {code}")) || text.starts_with(&format!("✓ {code}")),
                "{name} {lang:?}:\n{text}"
            );
            let json = diagnosis_json(&d, lang);
            assert_eq!(json["findings"][0]["code"], code.as_str());
            assert_eq!(json["failure"]["reason"], d.failure.reason.as_str());
        }
        let ko = diagnosis_text(&d, Lang::Ko);
        assert!(ko.contains("조치"), "{name}: Korean labels missing");
        assert!(ko.chars().any(|c| ('\u{ac00}'..='\u{d7a3}').contains(&c)));
    }
}

/// Where each network sample's walk ends: the blocked step's code, or open all the way.
const WALKS: &[(&str, Option<Code>)] = &[
    ("s3-route-missing", Some(Code::S3RouteMissing)),
    ("healthy-subnet", None),
    (
        "no-s3-endpoint-no-nat",
        Some(Code::S3GatewayEndpointMissing),
    ),
    ("nat-route-blackhole", Some(Code::RouteBlackhole)),
    ("nat-gateway-failed", Some(Code::NatGatewayNotAvailable)),
    (
        "ecr-api-endpoint-missing",
        Some(Code::InterfaceEndpointMissing),
    ),
    ("endpoint-sg-blocks-task", Some(Code::EndpointSgBlocksHttps)),
    ("nacl-blocks-https", Some(Code::NaclBlocksHttps)),
    ("public-subnet-no-public-ip", Some(Code::PublicIpMissing)),
    ("main-route-table", Some(Code::S3RouteMissing)),
    (
        "s3-interface-endpoint-only",
        Some(Code::S3GatewayEndpointMissing),
    ),
    ("cross-region-registry", Some(Code::NoRouteToTarget)),
    ("pull-through-cache-upstream", Some(Code::NoRouteToTarget)),
    ("tgw-default-route", None),
    ("ec2-bridge-s3-route-missing", Some(Code::S3RouteMissing)),
    ("peering-default-route", Some(Code::NoRouteToTarget)),
    ("centralised-endpoints", Some(Code::TaskSgBlocksHttps)),
];

#[test]
fn the_walk_stops_where_the_verdict_blocks() {
    use ecs_pull_doctor::diagnose::walk::StepState;
    for (name, blocked) in WALKS {
        let d = run(name);
        assert_eq!(d.paths.len(), 1, "{name}: one probe");
        let steps = &d.paths[0].steps;
        let last = steps.last().unwrap();
        match blocked {
            Some(code) => {
                assert_eq!(last.state, StepState::Blocked, "{name}: {:?}", steps);
                assert_eq!(last.code, Some(*code), "{name}");
                assert_eq!(d.verdict(), *code, "{name}");
                let before = &steps[..steps.len() - 1];
                assert!(
                    before.iter().all(|s| s.state != StepState::Blocked),
                    "{name}"
                );
            }
            None => assert!(
                steps.iter().all(|s| s.state != StepState::Blocked),
                "{name}: {steps:?}"
            ),
        }
    }
}

#[test]
fn a_walk_never_marks_open_what_it_did_not_see() {
    use ecs_pull_doctor::diagnose::walk::StepState;
    // The healthy subnet is open all the way.
    let d = run("healthy-subnet");
    assert!(d.paths[0].steps.iter().all(|s| s.state == StepState::Open));
    // Past a transit gateway the route cannot be followed.
    let d = run("tgw-default-route");
    assert_eq!(
        d.paths[0].steps[1].state,
        StepState::Unknown,
        "{:?}",
        d.paths[0].steps
    );
    // Without network ACLs in the view, the ACL step is unknown, not open.
    let task = common::sample_task("healthy-subnet");
    let mut view = common::sample_network("healthy-subnet");
    view.network_acls = None;
    view.security_groups = None;
    let d = diagnose(&task, Some(&view), None);
    let steps = &d.paths[0].steps;
    assert_eq!(steps[2].state, StepState::Unknown, "{steps:?}");
    assert_eq!(steps[3].state, StepState::Unknown, "{steps:?}");
}

#[test]
fn the_seed_walk_reads_in_both_languages_and_in_json() {
    let d = run("s3-route-missing");
    assert_eq!(
        d.paths[0].line(Lang::En),
        "✓ ENI in subnet-0c9d8e7f6a5b4c3d2 → ✗ rtb-0c3e5a7b9d1f24680: no route to pl-78a54011 (S3 ap-northeast-2) [S3_ROUTE_MISSING]"
    );
    assert_eq!(
        d.paths[0].line(Lang::Ko),
        "✓ subnet-0c9d8e7f6a5b4c3d2의 ENI → ✗ rtb-0c3e5a7b9d1f24680: pl-78a54011 (S3 ap-northeast-2)(으)로 가는 경로 없음 [S3_ROUTE_MISSING]"
    );
    assert!(
        diagnosis_text(&d, Lang::En).contains("\nPath\n  ✓ ENI in subnet-0c9d8e7f6a5b4c3d2 → ✗")
    );
    let json = diagnosis_json(&d, Lang::En);
    assert_eq!(json["paths"][0]["to"], "S3 (ap-northeast-2)");
    assert_eq!(json["paths"][0]["steps"][1]["state"], "blocked");
    assert_eq!(json["paths"][0]["steps"][1]["code"], "S3_ROUTE_MISSING");
    let slack = ecs_pull_doctor::render::slack::slack_payload(&d, Lang::Ko, None).to_string();
    assert!(
        slack.contains(
            "rtb-0c3e5a7b9d1f24680: pl-78a54011 (S3 ap-northeast-2)(으)로 가는 경로 없음"
        ),
        "{slack}"
    );
}

#[test]
fn the_layouts_engine_v1_misread_say_what_they_are() {
    let evidence = |d: &Diagnosis, i: usize| common::evidence_en(&d.findings[i]);

    // An S3 interface endpoint does not carry ECR's layer downloads.
    let d = run("s3-interface-endpoint-only");
    assert!(
        evidence(&d, 0).contains("S3 interface endpoint vpce-0b5c4d3e2f1a09876"),
        "{}",
        evidence(&d, 0)
    );

    // A default route to a transit gateway is not "no route": the path leaves the VPC, what is
    // beyond is not inspected, and the gateway endpoint is a recommendation, not the cause.
    let d = run("tgw-default-route");
    assert_eq!(d.findings[1].code, Code::S3GatewayEndpointRecommended);
    assert_eq!(d.findings[1].severity, Severity::Warning);
    assert!(d.findings[1]
        .summary
        .en
        .contains("leaves the VPC through tgw-0f4e3d2c1b0a98765"));
    assert!(d.findings[1].commands[0].contains("--add-route-table-ids rtb-0c3e5a7b9d1f24680"));
    assert!(d
        .findings
        .iter()
        .all(|f| f.code != Code::NoRouteToTarget && f.code != Code::S3GatewayEndpointMissing));
    assert!(d
        .not_inspected
        .iter()
        .any(|n| n.en.contains("the path beyond tgw-0f4e3d2c1b0a98765")));

    // A default route to a peering connection reaches nothing outside the peer's CIDRs.
    let d = run("peering-default-route");
    assert!(
        evidence(&d, 0).contains("no edge-to-edge routing"),
        "{}",
        evidence(&d, 0)
    );
    assert!(d.findings[0]
        .summary
        .en
        .contains("peering connection pcx-0a1b2c3d4e5f67890"));

    // A hub's endpoint: the spoke's own missing ECR endpoints are not the cause.
    let d = run("centralised-endpoints");
    assert!(d
        .findings
        .iter()
        .all(|f| f.code != Code::InterfaceEndpointMissing));

    // Another region's registry: the image brought into the task's region, or a way out.
    let d = run("cross-region-registry");
    let fix = &d.findings[0].fix.en;
    assert!(fix.contains("bring the image into ap-northeast-2: a pull-through-cache rule"));
    assert!(fix.contains("only for images pushed after it is set up"));
    assert!(fix.contains("a default route to a NAT gateway"));

    // A layer download sent to a registry's CDN goes over the internet, not to S3.
    let d = run("pull-through-cache-upstream");
    assert_eq!(d.failure.hop.as_str(), "registry");
    assert!(d
        .findings
        .iter()
        .all(|f| !f.code.as_str().starts_with("S3_")));
}

/// Latin words a Korean sentence may carry: product and service names, API and snapshot
/// member names, flags and values quoted as AWS spells them.
const KOREAN_MAY_QUOTE: &[&str] = &[
    "S3",
    "ECR",
    "NAT",
    "ENI",
    "VPC",
    "DNS",
    "IAM",
    "TCP",
    "HTTPS",
    "AWS",
    "ECS",
    "IPv6",
    "IPv4",
    "Fargate",
    "Docker",
    "Hub",
    "CLI",
    "API",
    "ACL",
    "IP",
    "EC2",
    "KMS",
    "SSM",
    "URI",
    "CIDR",
    "GiB",
    "local",
    "Gateway",
    "Interface",
    "Secrets",
    "Manager",
    "CloudWatch",
    "Logs",
    "Route",
    "Resolver",
    "Systems",
    "Parameter",
    "Store",
    "Service",
    "Quotas",
    "false",
    "true",
    "main",
    "available",
    "blackhole",
    "Condition",
    "Principal",
    "ip-ranges",
    "PrivateDnsEnabled",
    "awsvpcConfiguration",
    "assignPublicIp",
    "DISABLED",
    "ENABLED",
    "enableDnsSupport",
    "enableDnsHostnames",
    "runtimePlatform",
    "cpuArchitecture",
    "ephemeralStorage",
    "repositoryCredentials",
    "provenance",
    "SBOM",
    "gzip",
    "zstd",
    "arm64",
    "x86_64",
    "Services",
    "RouteTables",
    "NetworkAcls",
    "SecurityGroups",
    "VpcEndpoints",
    "NatGateways",
    "InternetGateways",
    "PrefixLists",
    "NetworkInterfaces",
    "Vpcs",
    "VpcAttributes",
    "Subnets",
    "GetAuthorizationToken",
    "Lambda",
    "failed",
    "pending",
    "deleting",
    "deleted",
];

/// Words that are identifiers, not English: resource IDs, codes, regions, hosts, ARNs,
/// actions (`s3:GetObject`), paths and prefix-list sources.
fn is_identifier(word: &str) -> bool {
    static ID: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
        r"^(?:(?:subnet|rtb|vpce|vpc|sg|acl|nat|igw|eigw|tgw|pcx|pl|eni|i)-[0-9a-f]+|[A-Z0-9_]+|[a-z]{2}(?:-[a-z]+)+-\d[a-z]?|[a-z0-9]+(?:-[a-z0-9]+){2,}|[a-z0-9-]+:[A-Za-z0-9*:_/-]+)$",
        )
        .unwrap()
    });
    ID.is_match(word) || word.contains('.') || word.contains('/') || word.starts_with("arn:")
}

#[test]
fn korean_renderings_carry_no_english_words() {
    let latin = regex::Regex::new(r"[A-Za-z][A-Za-z0-9_.:/*-]*").unwrap();
    let quoted = regex::Regex::new(r"`[^`]*`").unwrap();
    let mut leaks = Vec::new();
    for (name, _, _) in EXPECTED {
        let d = run(name);
        let mut texts: Vec<String> = d.not_inspected.iter().map(|n| n.ko.clone()).collect();
        for f in &d.findings {
            texts.push(f.summary.ko.clone());
            texts.push(f.fix.ko.clone());
            texts.extend(f.evidence.iter().map(|e| e.ko.clone()));
        }
        texts.extend(d.paths.iter().map(|w| w.line(Lang::Ko)));
        for text in texts {
            // What AWS itself wrote (a NAT gateway's failure message) is quoted as it is, and
            // commands stay commands.
            let text = match text.find("(원문)") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            let text = quoted.replace_all(&text, "");
            for word in latin.find_iter(&text) {
                let word = word.as_str().trim_end_matches(['.', ':', '-']);
                if !KOREAN_MAY_QUOTE.contains(&word) && !is_identifier(word) {
                    leaks.push(format!("{name}: {word:?} in {text}"));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

#[test]
fn on_the_ec2_launch_type_the_instance_pulls_not_the_task_eni() {
    let d = run("ec2-bridge-s3-route-missing");
    assert!(common::evidence_en(&d.findings[0])
        .contains("pulled by container instance i-0f1e2d3c4b5a69788, whose primary interface is in subnet subnet-0c9d8e7f6a5b4c3d2"));
    assert!(d.paths[0]
        .line(Lang::En)
        .starts_with("✓ i-0f1e2d3c4b5a69788's ENI in subnet-0c9d8e7f6a5b4c3d2"));

    // awsvpc on EC2: the task's ENI is in the broken subnet, but the instance, which pulls,
    // sits in the healthy one, so nothing blocks the pull.
    let mut task = common::sample_task("ec2-bridge-s3-route-missing");
    task.subnet_id = Some("subnet-0c9d8e7f6a5b4c3d2".into());
    let mut view = common::sample_network("ec2-bridge-s3-route-missing");
    let instance = &mut view.reservations.as_mut().unwrap()[0].instances[0];
    instance.subnet_id = Some("subnet-0a1b2c3d4e5f60718".into());
    instance.network_interfaces[0].subnet_id = Some("subnet-0a1b2c3d4e5f60718".into());
    let d = diagnose(&task, Some(&view), None);
    assert_eq!(
        d.verdict(),
        Code::NetworkPathLooksOpen,
        "{:?}",
        d.findings.iter().map(|f| f.code).collect::<Vec<_>>()
    );

    // Without the container instance in the view, the pulling interface is unknown: never
    // the task's ENI taken for it.
    view.container_instances = None;
    let d = diagnose(&task, Some(&view), None);
    assert_eq!(d.verdict(), Code::InspectionIncomplete);
    assert!(
        d.not_inspected
            .iter()
            .any(|n| n.en.contains("ecs:DescribeContainerInstances")),
        "{:?}",
        d.not_inspected
    );
}

/// Placeholders a fix may carry because no view holds their value: an egress-only internet
/// gateway (not read), a credential the user keeps (Docker Hub's, in Secrets Manager).
const NOT_IN_ANY_VIEW: &[&str] = &[
    "<eigw-id>",
    "<secretsmanager-arn-of-docker-hub-credentials>",
];

#[test]
fn no_fix_of_any_sample_leaves_a_placeholder_for_what_its_snapshot_holds() {
    let placeholder = regex::Regex::new(r"<[a-z0-9-]+>").unwrap();
    let mut found = Vec::new();
    for (name, _, _) in EXPECTED {
        let d = run(name);
        for finding in &d.findings {
            for command in &finding.commands {
                for m in placeholder.find_iter(command) {
                    if !NOT_IN_ANY_VIEW.contains(&m.as_str()) {
                        found.push(format!(
                            "{name} {}: {} in {command}",
                            finding.code,
                            m.as_str()
                        ));
                    }
                }
            }
        }
    }
    // And the audit of the bundled account, every root cause.
    let view = common::sample_account();
    let audit = ecs_pull_doctor::audit::audit(
        &view,
        "ap-northeast-2",
        &ecs_pull_doctor::audit::Selection::default(),
    );
    for cause in &audit.root_causes {
        for command in &cause.commands {
            for m in placeholder.find_iter(command) {
                if !NOT_IN_ANY_VIEW.contains(&m.as_str()) {
                    found.push(format!("audit {}: {} in {command}", cause.code, m.as_str()));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
