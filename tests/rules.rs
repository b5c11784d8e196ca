//! The rules one at a time: each test takes a bundled scenario, changes one fact of the VPC
//! or the event, and checks the verdict follows that fact (and only it).

mod common;

use ecs_pull_doctor::diagnose::{diagnose, Code, Diagnosis, Severity};
use ecs_pull_doctor::event::FailedTask;
use ecs_pull_doctor::network::{snapshot, NetworkView};
use serde_json::{json, Value};

fn raw_network(name: &str) -> Value {
    serde_json::from_str(&common::read(&format!("events/network/{name}.json"))).unwrap()
}

fn view(value: &Value) -> NetworkView {
    snapshot::parse(&value.to_string(), "test").unwrap()
}

/// A sample's task against a changed copy of its network.
fn run_with(sample: &str, net: &Value) -> Diagnosis {
    diagnose(&common::sample_task(sample), Some(&view(net)), None)
}

fn run_task_with(task: &FailedTask, net: &Value) -> Diagnosis {
    diagnose(task, Some(&view(net)), None)
}

fn with_reason(mut task: FailedTask, reason: &str) -> FailedTask {
    task.primary.reason = reason.to_string();
    task
}

fn codes(d: &Diagnosis) -> Vec<&'static str> {
    d.findings.iter().map(|f| f.code.as_str()).collect()
}

fn find<'a>(v: &'a mut Value, key: &str, id_key: &str, id: &str) -> &'a mut Value {
    v[key]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|x| x[id_key] == id)
        .unwrap_or_else(|| panic!("{key} has no {id}"))
}

const RTB_C: &str = "rtb-0c3e5a7b9d1f24680";
const VPCE_S3: &str = "vpce-04e8c1a2b3d5f6a79";
const SG_TASKS: &str = "sg-0a9b8c7d6e5f4a3b2";
const ECR_API_TIMEOUT: &str = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post \"https://api.ecr.ap-northeast-2.amazonaws.com/\": dial tcp 52.95.195.109:443: i/o timeout";
const TIMEOUT_NO_IP: &str = "CannotPullContainerError: context canceled";

#[test]
fn reference_case_lists_every_route_table_of_the_service_that_lacks_the_endpoint() {
    // The service also runs in priv-a; take priv-a's table off the endpoint too.
    let mut net = raw_network("s3-route-missing");
    find(
        &mut net,
        "RouteTables",
        "RouteTableId",
        "rtb-0a2b4c6d8e0f13579",
    )["Routes"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["GatewayId"] != VPCE_S3);
    find(&mut net, "VpcEndpoints", "VpcEndpointId", VPCE_S3)["RouteTableIds"] = json!([]);
    let d = run_with("s3-route-missing", &net);
    assert_eq!(d.verdict(), Code::S3RouteMissing);
    assert!(
        d.findings[0].commands[0].ends_with(&format!(
            "--add-route-table-ids {RTB_C} rtb-0a2b4c6d8e0f13579"
        )),
        "{}",
        d.findings[0].commands[0]
    );
}

#[test]
fn endpoint_policy_without_the_layer_bucket_is_reported() {
    let mut net = raw_network("healthy-subnet");
    find(&mut net, "VpcEndpoints", "VpcEndpointId", VPCE_S3)["PolicyDocument"] = json!(
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::my-app-assets","arn:aws:s3:::my-app-assets/*"]}]}"#
    );
    let d = run_with("healthy-subnet", &net);
    assert_eq!(codes(&d), ["S3_ENDPOINT_POLICY_DENIES_LAYER_BUCKET"]);
    assert!(d.findings[0].commands[0].contains("prod-ap-northeast-2-starport-layer-bucket/*"));

    // A 403 from S3 is what that policy produces. ECR pre-signs the layer URL, so S3 did not
    // judge the execution role: the policy is the whole answer, without an IAM finding beside it.
    let task = with_reason(
        common::sample_task("healthy-subnet"),
        "CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: httpReadSeeker: failed open: unexpected status code https://prod-ap-northeast-2-starport-layer-bucket.s3.ap-northeast-2.amazonaws.com/sha256/ab: 403 Forbidden",
    );
    let d = diagnose(&task, Some(&view(&net)), None);
    assert_eq!(codes(&d), ["S3_ENDPOINT_POLICY_DENIES_LAYER_BUCKET"]);

    // With a policy that allows the bucket, the same 403 is the registry's refusal.
    let d = diagnose(&task, Some(&view(&raw_network("healthy-subnet"))), None);
    assert_eq!(codes(&d), ["REGISTRY_ACCESS_DENIED"]);
}

#[test]
fn conditional_endpoint_policy_is_not_inspected_rather_than_guessed() {
    let mut net = raw_network("healthy-subnet");
    find(&mut net, "VpcEndpoints", "VpcEndpointId", VPCE_S3)["PolicyDocument"] = json!(
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}]}"#
    );
    let d = run_with("healthy-subnet", &net);
    assert_eq!(
        codes(&d),
        ["NETWORK_PATH_LOOKS_OPEN", "INSPECTION_INCOMPLETE"]
    );
    assert!(
        d.not_inspected[0].en.contains("Condition"),
        "{:?}",
        d.not_inspected
    );
}

#[test]
fn task_security_group_without_https_egress_is_reported() {
    let mut net = raw_network("healthy-subnet");
    find(&mut net, "SecurityGroups", "GroupId", SG_TASKS)["IpPermissionsEgress"] = json!([
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.20.0.0/16"}]}
    ]);
    let d = run_with("healthy-subnet", &net);
    assert_eq!(d.verdict(), Code::TaskSgBlocksHttps);
    assert!(
        d.findings[0].commands[0].contains("PrefixListIds=[{PrefixListId=pl-78a54011}]"),
        "{}",
        d.findings[0].commands[0]
    );

    // Egress to the S3 prefix list is enough.
    find(&mut net, "SecurityGroups", "GroupId", SG_TASKS)["IpPermissionsEgress"] = json!([
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": "pl-78a54011"}]}
    ]);
    let d = run_with("healthy-subnet", &net);
    assert_eq!(d.verdict(), Code::NetworkPathLooksOpen, "{:?}", codes(&d));
}

#[test]
fn nacl_denying_the_replies_is_reported_with_an_inbound_fix() {
    let mut net = raw_network("healthy-subnet");
    net["NetworkAcls"][0]["Entries"] = json!([
        {"CidrBlock": "0.0.0.0/0", "Egress": true, "Protocol": "-1", "RuleAction": "allow", "RuleNumber": 100},
        {"CidrBlock": "10.20.0.0/16", "Egress": false, "Protocol": "-1", "RuleAction": "allow", "RuleNumber": 100},
        {"CidrBlock": "0.0.0.0/0", "Egress": false, "Protocol": "-1", "RuleAction": "deny", "RuleNumber": 32767},
        {"CidrBlock": "0.0.0.0/0", "Egress": true, "Protocol": "-1", "RuleAction": "deny", "RuleNumber": 32767}
    ]);
    let d = run_with("healthy-subnet", &net);
    assert_eq!(d.verdict(), Code::NaclBlocksHttps);
    let command = &d.findings[0].commands[0];
    assert!(command.contains("--ingress --rule-number 32760 --protocol tcp --port-range From=1024,To=65535 --cidr-block 52.219.204.42/32"), "{command}");
    assert!(d.findings[0].evidence[0].en.contains("Inbound rule 32767"));
}

#[test]
fn private_dns_off_on_the_endpoint_is_reported() {
    let mut net = raw_network("healthy-subnet");
    find(
        &mut net,
        "VpcEndpoints",
        "VpcEndpointId",
        "vpce-0a6f1e2d3c4b5a697",
    )["PrivateDnsEnabled"] = json!(false);
    let task = with_reason(common::sample_task("healthy-subnet"), ECR_API_TIMEOUT);
    let d = diagnose(&task, Some(&view(&net)), None);
    assert_eq!(
        d.verdict(),
        Code::EndpointPrivateDnsDisabled,
        "{:?}",
        codes(&d)
    );
    assert!(d.findings[0].commands[0]
        .contains("--vpc-endpoint-id vpce-0a6f1e2d3c4b5a697 --private-dns-enabled"));
}

#[test]
fn vpc_dns_attributes_off_are_reported() {
    let mut net = raw_network("healthy-subnet");
    net["VpcAttributes"][0]["EnableDnsSupport"]["Value"] = json!(false);
    let task = with_reason(common::sample_task("healthy-subnet"), ECR_API_TIMEOUT);
    let d = diagnose(&task, Some(&view(&net)), None);
    assert_eq!(d.verdict(), Code::VpcDnsDisabled, "{:?}", codes(&d));
    assert!(d.findings[0].commands[0].contains("--enable-dns-support '{\"Value\":true}'"));
}

#[test]
fn layers_in_another_region_need_a_way_out() {
    let mut task = with_reason(
        common::sample_task("healthy-subnet"),
        "CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: httpReadSeeker: failed open: failed to do request: Get \"https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/x\": dial tcp 16.15.180.104:443: i/o timeout",
    );
    task.primary.image = Some("111122223333.dkr.ecr.us-east-1.amazonaws.com/web:7".into());
    let net = view(&raw_network("healthy-subnet"));
    let d = diagnose(&task, Some(&net), Some(common::ip_ranges()));
    assert_eq!(d.verdict(), Code::CrossRegionLayerBucket, "{:?}", codes(&d));
    let commands = &d.findings[0].commands;
    // A pull-through-cache rule in the task's region, upstream the image's registry, with
    // the account read from the image URI.
    assert!(commands.iter().any(|c| c == "aws ecr create-pull-through-cache-rule --region ap-northeast-2 --ecr-repository-prefix ecr-us-east-1 --upstream-registry ecr --upstream-registry-url 111122223333.dkr.ecr.us-east-1.amazonaws.com --custom-role-arn arn:aws:iam::111122223333:role/ecr-pull-through-cache"), "{commands:#?}");
    assert!(commands.iter().any(|c| c.contains(
        "then use 111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/ecr-us-east-1/web:7"
    )));
    // Replication adds a rule to the registry's rules instead of replacing them.
    let replication = commands
        .iter()
        .find(|c| c.contains("put-replication-configuration"))
        .expect("replication is offered");
    assert!(replication
        .contains("aws ecr describe-registry --region us-east-1 --query replicationConfiguration"));
    assert!(replication.contains("jq '.rules += [{\"destinations\":[{\"region\":\"ap-northeast-2\",\"registryId\":\"111122223333\"}]"));
    assert!(!commands.iter().any(|c| c.contains('<')), "{commands:#?}");

    // A message about another region's layers while the task's image is in its own region:
    // no command is built from an image that is not the one that failed.
    task.primary.image = Some("111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/web:7".into());
    let d = diagnose(&task, Some(&net), Some(common::ip_ranges()));
    assert_eq!(d.verdict(), Code::CrossRegionLayerBucket);
    assert!(!d.findings[0]
        .commands
        .iter()
        .any(|c| c.contains("create-pull-through-cache-rule")));
}

#[test]
fn s3_through_a_working_nat_is_open_and_mentions_the_unassociated_endpoint() {
    let mut net = raw_network("s3-route-missing");
    find(&mut net, "RouteTables", "RouteTableId", RTB_C)["Routes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0a7b6c5d4e3f2a1b0", "State": "active"}));
    net["NatGateways"] = json!([{"NatGatewayId": "nat-0a7b6c5d4e3f2a1b0", "SubnetId": "subnet-01f2e3d4c5b6a7980", "VpcId": "vpc-0c4d7e8f9a1b2c3d4", "State": "available", "ConnectivityType": "public"}]);
    let d = run_with("s3-route-missing", &net);
    assert_eq!(codes(&d), ["NETWORK_PATH_LOOKS_OPEN"]);
    let evidence = common::evidence_en(&d.findings[0]);
    assert!(
        evidence.contains("not associated with rtb-0c3e5a7b9d1f24680"),
        "{evidence}"
    );
}

#[test]
fn nat_gateway_in_a_subnet_without_internet_route_is_a_dead_end() {
    let mut net = raw_network("dockerhub-rate-limit");
    // The NAT gateway sits in a subnet whose table has no internet gateway route.
    for nat in net["NatGateways"].as_array_mut().unwrap() {
        nat["SubnetId"] = json!("subnet-0a1b2c3d4e5f60718");
    }
    let task = with_reason(
        common::sample_task("dockerhub-rate-limit"),
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref docker.io/library/nginx:1.27: failed to do request: Head \"https://registry-1.docker.io/v2/library/nginx/manifests/1.27\": dial tcp 44.205.64.79:443: i/o timeout",
    );
    let d = diagnose(&task, Some(&view(&net)), None);
    assert_eq!(d.verdict(), Code::NoRouteToTarget, "{:?}", codes(&d));
    assert!(d.findings[0].commands[0].contains("--gateway-id igw-0b1c2d3e4f5a6b7c8"));
}

#[test]
fn ipv6_registry_address_without_an_ipv6_route() {
    let task = with_reason(
        common::sample_task("dockerhub-rate-limit"),
        "CannotPullContainerError: failed to authorize: failed to fetch anonymous token: Get \"https://auth.ipv6.docker.com/token\": dial tcp [2600:1f18:2148:bc00:e947:5a7f:a49f:9126]:443: connect: network is unreachable",
    );
    let d = diagnose(
        &task,
        Some(&common::sample_network("dockerhub-rate-limit")),
        None,
    );
    assert_eq!(d.verdict(), Code::NoRouteToTarget, "{:?}", codes(&d));
    assert!(d.findings[0].commands[0].contains("--destination-ipv6-cidr-block ::/0"));
}

#[test]
fn ipv6_peer_blocked_by_the_task_security_group_gets_an_ipv6_rule() {
    let task = with_reason(
        common::sample_task("dockerhub-rate-limit"),
        "CannotPullContainerError: failed to authorize: failed to fetch anonymous token: Get \"https://auth.ipv6.docker.com/token\": dial tcp [2600:1f18:2148:bc00:e947:5a7f:a49f:9126]:443: i/o timeout",
    );
    let mut net = raw_network("dockerhub-rate-limit");
    find(&mut net, "RouteTables", "RouteTableId", RTB_C)["Routes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"DestinationIpv6CidrBlock": "::/0", "EgressOnlyInternetGatewayId": "eigw-0123456789abcdef0", "State": "active", "Origin": "CreateRoute"}));
    // IPv4 egress only, as the default group has.
    find(&mut net, "SecurityGroups", "GroupId", SG_TASKS)["IpPermissionsEgress"] = json!([
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": []}
    ]);
    let d = run_task_with(&task, &net);
    assert_eq!(d.verdict(), Code::TaskSgBlocksHttps, "{:?}", codes(&d));
    let command = &d.findings[0].commands[0];
    assert!(
        command.contains("Ipv6Ranges=[{CidrIpv6=::/0}]"),
        "{command}"
    );
    assert!(!command.contains("0.0.0.0/0"), "{command}");
}

#[test]
fn standalone_task_says_its_security_groups_were_not_inspected() {
    let mut task = common::sample_task("healthy-subnet");
    task.group = Some("family:web".into());
    let d = diagnose(&task, Some(&common::sample_network("healthy-subnet")), None);
    assert_eq!(
        codes(&d),
        ["NETWORK_PATH_LOOKS_OPEN", "INSPECTION_INCOMPLETE"]
    );
    assert!(d
        .not_inspected
        .iter()
        .any(|n| n.en.contains("standalone task (family:web)")));
}

#[test]
fn missing_snapshot_parts_are_named_and_never_read_as_fine() {
    let mut net = raw_network("healthy-subnet");
    let object = net.as_object_mut().unwrap();
    object.remove("SecurityGroups");
    object.remove("NetworkAcls");
    let d = run_with("healthy-subnet", &net);
    assert_eq!(
        codes(&d),
        ["NETWORK_PATH_LOOKS_OPEN", "INSPECTION_INCOMPLETE"]
    );
    let listed = d.findings[1].summary.en.clone();
    assert!(
        listed.contains("SecurityGroups") && listed.contains("NetworkAcls"),
        "{listed}"
    );

    object_without_route_tables();
}

#[test]
fn unknown_endpoints_with_no_route_is_still_no_route() {
    for name in ["s3-route-missing", "ecr-api-endpoint-missing"] {
        let mut net = raw_network(name);
        net.as_object_mut().unwrap().remove("VpcEndpoints");
        let d = diagnose(&common::sample_task(name), Some(&view(&net)), None);
        assert_eq!(
            d.verdict(),
            Code::NoRouteToTarget,
            "{name}: {:?}",
            codes(&d)
        );
        assert!(
            d.not_inspected
                .iter()
                .any(|n| n.en.contains("VpcEndpoints")),
            "{name}"
        );
    }
}

#[test]
fn a_missing_part_is_listed_once_even_when_several_destinations_need_it() {
    let mut net = raw_network("ecr-api-endpoint-missing");
    net.as_object_mut().unwrap().remove("VpcEndpoints");
    let task = with_reason(
        common::sample_task("ecr-api-endpoint-missing"),
        TIMEOUT_NO_IP,
    );
    let d = run_task_with(&task, &net);
    let mentions = d
        .not_inspected
        .iter()
        .filter(|n| n.en.contains("VpcEndpoints"))
        .count();
    assert_eq!(mentions, 1, "{:?}", d.not_inspected);
}

fn object_without_route_tables() {
    let mut net = raw_network("s3-route-missing");
    net.as_object_mut().unwrap().remove("RouteTables");
    let d = run_with("s3-route-missing", &net);
    assert_eq!(d.verdict(), Code::InspectionIncomplete, "{:?}", codes(&d));
    assert!(d
        .findings
        .iter()
        .all(|f| f.code != Code::NetworkPathLooksOpen));
}

#[test]
fn failed_inspection_calls_are_carried_into_not_inspected() {
    let mut net = raw_network("healthy-subnet");
    net["InspectionErrors"] = json!([{"Part": "NetworkAcls", "Action": "ec2:DescribeNetworkAcls", "Message": "UnauthorizedOperation"}]);
    net.as_object_mut().unwrap().remove("NetworkAcls");
    let d = run_with("healthy-subnet", &net);
    assert!(d
        .not_inspected
        .iter()
        .any(|n| n.en.contains("ec2:DescribeNetworkAcls failed")));
}

#[test]
fn unknown_hop_for_an_ecr_image_checks_every_ecr_dependency() {
    let d = diagnose(
        &with_reason(common::sample_task("no-s3-endpoint-no-nat"), TIMEOUT_NO_IP),
        Some(&common::sample_network("no-s3-endpoint-no-nat")),
        None,
    );
    assert_eq!(codes(&d), ["S3_GATEWAY_ENDPOINT_MISSING"]);
    let d = diagnose(
        &with_reason(
            common::sample_task("ecr-api-endpoint-missing"),
            TIMEOUT_NO_IP,
        ),
        Some(&common::sample_network("ecr-api-endpoint-missing")),
        None,
    );
    assert_eq!(codes(&d), ["INTERFACE_ENDPOINT_MISSING"]);
}

#[test]
fn on_ec2_the_instance_without_a_public_ip_is_what_an_internet_gateway_drops() {
    // The task's own ENI would get a public IP on Fargate; on EC2 the instance pulls.
    let mut task = common::sample_task("public-subnet-no-public-ip");
    task.launch_type = Some("EC2".into());
    task.container_instance_arn =
        Some("arn:aws:ecs:ap-northeast-2:111122223333:container-instance/prod/c1".into());
    let mut net = raw_network("public-subnet-no-public-ip");
    net["Services"][0]["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] =
        json!("ENABLED");
    let subnet = task.subnet_id.clone().unwrap();
    net["ContainerInstances"] =
        json!([{"containerInstanceArn": task.container_instance_arn, "ec2InstanceId": "i-0c1"}]);
    net["Reservations"] = json!([{"Instances": [{"InstanceId": "i-0c1", "SubnetId": subnet, "VpcId": net["Subnets"][0]["VpcId"],
        "SecurityGroups": [{"GroupId": SG_TASKS}],
        "NetworkInterfaces": [{"SubnetId": subnet, "Groups": [{"GroupId": SG_TASKS}], "Attachment": {"DeviceIndex": 0}}]}]}]);
    let d = diagnose(&task, Some(&view(&net)), None);
    assert_eq!(d.verdict(), Code::PublicIpMissing, "{:?}", codes(&d));
    assert!(d.findings[0].evidence.iter().any(|e| e.en.contains(
        "pulled by container instance i-0c1, whose primary network interface has no public IP"
    )));
    // With a public IP on Fargate the same subnet works.
    let d = run_with("public-subnet-no-public-ip", &net);
    assert_eq!(d.verdict(), Code::NetworkPathLooksOpen, "{:?}", codes(&d));
}

#[test]
fn denied_secret_is_not_blamed_on_the_network() {
    let task = with_reason(
        common::sample_task("nat-gateway-failed"),
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:prod/web/db-AbCdEf from secrets manager: operation error Secrets Manager: GetSecretValue, https response error StatusCode: 400, api error AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/ecsTaskExecutionRole/x is not authorized to perform: secretsmanager:GetSecretValue",
    );
    let d = diagnose(
        &task,
        Some(&common::sample_network("nat-gateway-failed")),
        None,
    );
    assert_eq!(codes(&d), ["SECRET_ACCESS_DENIED"]);
    assert!(d.findings[0].commands[0]
        .contains("arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:prod/web/db-AbCdEf"));
    assert_eq!(d.findings[0].severity, Severity::Critical);
}

#[test]
fn every_iam_action_of_the_live_inspection_is_documented() {
    let page = common::read("docs/diagnosing.md");
    for action in ecs_pull_doctor::network::live::IAM_ACTIONS {
        assert!(
            page.contains(&format!("\n{action}\n")),
            "docs/diagnosing.md does not list {action}"
        );
    }
}

#[test]
fn every_member_a_snapshot_holds_is_in_the_snapshot_table() {
    let reference = common::read("docs/reference.md");
    let table = reference
        .split("## Network snapshots")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the reference's snapshot section");
    let full = ecs_pull_doctor::network::NetworkView {
        vpcs: Some(vec![]),
        vpc_attributes: Some(vec![]),
        subnets: Some(vec![]),
        route_tables: Some(vec![]),
        vpc_endpoints: Some(vec![]),
        security_groups: Some(vec![]),
        network_acls: Some(vec![]),
        nat_gateways: Some(vec![]),
        internet_gateways: Some(vec![]),
        prefix_lists: Some(vec![]),
        network_interfaces: Some(vec![]),
        services: Some(vec![]),
        container_instances: Some(vec![]),
        reservations: Some(vec![]),
        task_definitions: Some(vec![]),
        capacity_providers: Some(vec![]),
        inspection_errors: Some(vec![]),
        ..Default::default()
    };
    let written = serde_json::to_value(&full).unwrap();
    let members: Vec<&String> = written.as_object().unwrap().keys().collect();
    assert!(members.len() >= 17, "{members:?}");
    for member in members {
        assert!(
            table.contains(&format!("| `{member}` |")),
            "the reference's snapshot table lacks {member}"
        );
    }
}

#[test]
fn every_code_is_in_the_readme_and_its_meaning_in_the_finding_code_table() {
    let readme = common::read("README.md");
    let table = common::read("docs/diagnosing.md");
    for code in Code::ALL {
        assert!(
            readme.contains(&format!("`{code}`")),
            "the README's list of codes lacks {code}"
        );
        let row = format!("| `{code}` | {} |", code.meaning());
        assert!(
            table.lines().any(|line| line == row),
            "docs/diagnosing.md's finding-code table does not say: {row}"
        );
    }
}

#[test]
fn a_probe_is_checked_without_any_failed_task() {
    use ecs_pull_doctor::diagnose::probe::{check, Origin, Probe, Target};
    let net = common::sample_network("s3-route-missing");
    let origin = |subnet: &str| Origin {
        subnet_id: subnet.to_string(),
        security_groups: Some(vec![SG_TASKS.to_string()]),
        public_ip: Some(false),
        private_ip: None,
        instance_id: None,
        workload: None,
        account: None,
    };
    let to_s3 = |subnet: &str| Probe {
        from: origin(subnet),
        to: Target::S3 {
            region: "ap-northeast-2".into(),
        },
        dialled: None,
        owner: None,
        image: None,
    };
    // The broken subnet of the reference case, and its healthy sibling.
    let broken = check(&net, "ap-northeast-2", &to_s3("subnet-0c9d8e7f6a5b4c3d2"));
    assert_eq!(
        broken.findings.iter().map(|f| f.code).collect::<Vec<_>>(),
        [Code::S3RouteMissing]
    );
    let healthy = check(&net, "ap-northeast-2", &to_s3("subnet-0a1b2c3d4e5f60718"));
    assert!(healthy.findings.is_empty(), "{:?}", healthy.findings);
    assert!(healthy
        .open_steps
        .iter()
        .any(|s| s.en.contains("gateway endpoint vpce-04e8c1a2b3d5f6a79")));
    assert!(healthy.routing_inspected);
}

#[test]
fn a_layer_download_to_an_address_outside_aws_is_not_called_s3() {
    // The 2024+ wording names the image, not the URL; the dialled address is Cloudflare's.
    let task = with_reason(
        common::sample_task("s3-route-missing"),
        "CannotPullContainerError: The task cannot pull 111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/docker-hub/library/nginx:1.27 from the registry 111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/docker-hub/library/nginx:1.27. There is a connection issue between the task and the registry. Check your task network configuration. : failed to copy: httpReadSeeker: failed open: failed to do request: Get 111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/docker-hub/library/nginx:1.27: dial tcp 104.16.98.215:443: i/o timeout",
    );
    let net = common::sample_network("s3-route-missing");
    let d = diagnose(&task, Some(&net), Some(common::ip_ranges()));
    assert_eq!(d.verdict(), Code::NoRouteToTarget, "{:?}", codes(&d));
    assert!(common::evidence_en(&d.findings[0])
        .contains("104.16.98.215, which is not in AWS's published ranges"));
    assert!(
        codes(&d).iter().all(|c| !c.starts_with("S3_")),
        "{:?}",
        codes(&d)
    );
    // Without ip-ranges the owner is unknown, so the S3 reading stands (and says it is unsure).
    let d = diagnose(&task, Some(&net), None);
    assert_eq!(d.verdict(), Code::S3RouteMissing, "{:?}", codes(&d));
}

#[test]
fn missing_secrets_and_throttled_start_up_calls_are_not_blamed_on_the_image() {
    let cases = [
        (
            "Fetching secret data from SSM Parameter Store in ap-northeast-2: invalid parameters: /prod/web/db-password",
            "STARTUP_RESOURCE_NOT_FOUND",
        ),
        (
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:db-AbCdEf from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret.",
            "STARTUP_RESOURCE_NOT_FOUND",
        ),
        (
            "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ThrottlingException: Rate exceeded",
            "AWS_API_THROTTLED",
        ),
        (
            "CannotPullECRContainerError: ThrottlingException: Rate exceeded status code: 400",
            "AWS_API_THROTTLED",
        ),
    ];
    for (message, expected) in cases {
        let task = with_reason(common::sample_task("healthy-subnet"), message);
        let d = diagnose(&task, Some(&view(&raw_network("healthy-subnet"))), None);
        assert_eq!(codes(&d)[0], expected, "{message}: {:?}", codes(&d));
        assert!(codes(&d)
            .iter()
            .all(|c| *c != "IMAGE_NOT_FOUND" && *c != "REGISTRY_RATE_LIMITED"));
    }
}

#[test]
fn a_default_route_to_a_gateway_load_balancer_endpoint_is_not_an_open_gateway_endpoint() {
    let mut net = raw_network("s3-route-missing");
    find(&mut net, "RouteTables", "RouteTableId", RTB_C)["Routes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "vpce-0f0e0d0c0b0a09080", "State": "active"}));
    let d = run_with("s3-route-missing", &net);
    assert!(
        d.not_inspected
            .iter()
            .any(|n| n.en.contains("the path beyond vpce-0f0e0d0c0b0a09080")),
        "{:?}",
        d.not_inspected
    );
    assert_eq!(
        d.findings[1].code,
        Code::S3GatewayEndpointRecommended,
        "{:?}",
        codes(&d)
    );
}

#[test]
fn a_message_that_names_no_dependency_is_never_read_as_an_open_path() {
    let mut task = with_reason(common::sample_task("healthy-subnet"), TIMEOUT_NO_IP);
    task.primary.image = None;
    let d = diagnose(&task, Some(&view(&raw_network("healthy-subnet"))), None);
    assert_eq!(d.verdict(), Code::InspectionIncomplete, "{:?}", codes(&d));
    assert!(d.paths.is_empty());
}

#[test]
fn unreadable_s3_prefix_list_entries_are_stood_in_for_by_ip_ranges() {
    // No dialled address (the agent redacted the layer URL), the prefix list's entries not
    // read, and the task's groups open to 443 by CIDR rules only.
    let task = with_reason(
        common::sample_task("healthy-subnet"),
        "CannotPullContainerError: ref pull has been retried 5 time(s): failed to copy: httpReadSeeker: failed open: failed to do request: Get REDACTED ECR URL related to 111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/web: i/o timeout",
    );
    let mut net = raw_network("healthy-subnet");
    for list in net["PrefixLists"].as_array_mut().unwrap() {
        list["Cidrs"] = json!([]);
    }
    for group in net["SecurityGroups"].as_array_mut().unwrap() {
        group["IpPermissionsEgress"] = json!([{
            "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "IpRanges": [{"CidrIp": "0.0.0.0/1"}, {"CidrIp": "128.0.0.0/1"}]
        }]);
    }
    let net = view(&net);
    let without = diagnose(&task, Some(&net), None);
    assert!(
        without
            .not_inspected
            .iter()
            .any(|n| n.en.contains("their CIDR rules were not evaluated")),
        "{:?}",
        without.not_inspected
    );
    let with = diagnose(&task, Some(&net), Some(common::ip_ranges()));
    assert!(with.not_inspected.is_empty(), "{:?}", with.not_inspected);
    assert_eq!(
        with.verdict(),
        Code::NetworkPathLooksOpen,
        "{:?}",
        codes(&with)
    );
    let evidence: Vec<&str> = with.findings[0]
        .evidence
        .iter()
        .map(|e| e.en.as_str())
        .collect();
    assert!(
        evidence.iter().any(|d| d.contains(
            "could not be read; AWS's published S3 ranges for ap-northeast-2 (ip-ranges.json of"
        )),
        "{evidence:#?}"
    );
}
