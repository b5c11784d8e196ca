//! Live inspection against a real EC2/ECS API: moto's server mode, started here on a free
//! loopback port and stopped when the test ends. Each scenario is built through the API by
//! `tests/fixtures/moto_scenario.py` (boto3), then the real CLI runs `diagnose --live`
//! with the SDK pointed at moto through `AWS_ENDPOINT_URL`, exactly as a user would point it
//! at another endpoint.
//!
//! Known moto gaps (routes never blackhole, failed NAT gateways cannot be made) keep those
//! scenarios in the snapshot tests.

mod common;

use common::moto::{build_scenario as build, doctor, event_for, FaultProxy, Moto};

use std::process::Output;

use serde_json::Value;

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn codes(diagnosis: &Value) -> Vec<String> {
    diagnosis["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// The samples moto can express, with the verdict their snapshots give.
const SCENARIOS: &[(&str, &str)] = &[
    ("s3-route-missing", "S3_ROUTE_MISSING"),
    ("healthy-subnet", "NETWORK_PATH_LOOKS_OPEN"),
    ("no-s3-endpoint-no-nat", "S3_GATEWAY_ENDPOINT_MISSING"),
    ("ecr-api-endpoint-missing", "INTERFACE_ENDPOINT_MISSING"),
    ("endpoint-sg-blocks-task", "ENDPOINT_SG_BLOCKS_HTTPS"),
    ("public-subnet-no-public-ip", "PUBLIC_IP_MISSING"),
    ("main-route-table", "S3_ROUTE_MISSING"),
    ("nacl-blocks-https", "NACL_BLOCKS_HTTPS"),
    ("s3-interface-endpoint-only", "S3_GATEWAY_ENDPOINT_MISSING"),
    ("cross-region-registry", "NO_ROUTE_TO_TARGET"),
    ("pull-through-cache-upstream", "NO_ROUTE_TO_TARGET"),
    ("tgw-default-route", "NETWORK_PATH_LOOKS_OPEN"),
    ("peering-default-route", "NO_ROUTE_TO_TARGET"),
    ("centralised-endpoints", "TASK_SG_BLOCKS_HTTPS"),
    ("ec2-bridge-s3-route-missing", "S3_ROUTE_MISSING"),
    ("ec2-agent-ecr-auth-timeout", "INTERFACE_ENDPOINT_MISSING"),
    ("ipv6-egress-ipv4-only", "TASK_SG_BLOCKS_HTTPS"),
    (
        "layer-403-endpoint-policy",
        "S3_ENDPOINT_POLICY_DENIES_LAYER_BUCKET",
    ),
];

#[test]
fn live_inspection_gives_each_samples_verdict_and_snapshots_round_trip() {
    let _serial = common::one_at_a_time();
    let ranges = common::ip_ranges_path();
    let ranges = ranges.to_str().unwrap();
    let moto = Moto::start();
    let mut problems = Vec::new();
    for (sample, expected) in SCENARIOS {
        moto.reset();
        let built = build(&moto, sample);
        let event = event_for(sample, &built);
        let event = event.to_str().unwrap();

        let live = doctor(
            &moto.endpoint,
            &[
                "diagnose",
                "--event",
                event,
                "--live",
                "--report-calls",
                "--format",
                "json",
                "--ip-ranges",
                ranges,
            ],
        );
        let stderr = String::from_utf8_lossy(&live.stderr).to_string();
        let live = json(&live);
        let live_codes = codes(&live);
        if live_codes.first().map(String::as_str) != Some(*expected) {
            problems.push(format!(
                "{sample}: live gave {live_codes:?}, expected {expected} first\n{live:#}"
            ));
            continue;
        }
        // Budget: on AWS 12 calls in 2 rounds (the endpoints' interfaces come with the
        // VPC-scoped round, typed vpc_endpoint); moto types them `interface`, so they are read
        // by ID in a third round: one call more.
        let counts: Vec<usize> = stderr
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert!(counts.len() >= 2, "no call report in {stderr:?}");
        // On the EC2 launch type two more, in two rounds of their own: the container
        // instance, then its EC2 instance.
        let instance = built["container_instance"].as_str();
        let extra = if instance.is_some() { 2 } else { 0 };
        assert!(counts[0] <= 13 + extra, "{sample}: {} API calls", counts[0]);
        let endpoint_interfaces = built["endpoint_interfaces"].as_u64().unwrap();
        let expected_rounds = if endpoint_interfaces == 0 { 2 } else { 3 };
        assert_eq!(counts[1], expected_rounds + extra, "{sample}: {stderr}");

        // snapshot → diagnose --network gives the same findings as --live.
        let subnet = built["task_subnet"].as_str().unwrap();
        let origin = match instance {
            Some(arn) => ["--container-instance", arn],
            None => ["--subnet", subnet],
        };
        let snapshot = doctor(
            &moto.endpoint,
            &[
                "snapshot",
                origin[0],
                origin[1],
                "--service",
                "prod/web",
                "--region",
                "ap-northeast-2",
            ],
        );
        let snapshot = json(&snapshot);
        let file = std::env::temp_dir().join(format!(
            "ecs-pull-doctor-live-{}-{sample}-network.json",
            std::process::id()
        ));
        std::fs::write(&file, snapshot.to_string()).unwrap();
        let replay = json(&doctor(
            &moto.endpoint,
            &[
                "diagnose",
                "--event",
                event,
                "--network",
                file.to_str().unwrap(),
                "--format",
                "json",
                "--ip-ranges",
                ranges,
            ],
        ));
        if replay["findings"] != live["findings"]
            || replay["not_inspected"] != live["not_inspected"]
        {
            problems.push(format!(
                "{sample}: the snapshot replay differs from --live:\nlive {:#}\nreplay {:#}",
                live["findings"], replay["findings"]
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn the_seed_scenario_live_names_the_real_route_table_and_endpoint() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = build(&moto, "s3-route-missing");
    let event = event_for("s3-route-missing", &built);
    let diagnosis = json(&doctor(
        &moto.endpoint,
        &[
            "diagnose",
            "--event",
            event.to_str().unwrap(),
            "--live",
            "--format",
            "json",
        ],
    ));
    let first = &diagnosis["findings"][0];
    assert_eq!(first["code"], "S3_ROUTE_MISSING");
    let rtb_c = built["route_tables"]["priv-c"].as_str().unwrap();
    let command = first["commands"][0].as_str().unwrap();
    assert!(
        command.starts_with(
            "aws ec2 modify-vpc-endpoint --region ap-northeast-2 --vpc-endpoint-id vpce-"
        ),
        "{command}"
    );
    assert!(
        command.ends_with(&format!("--add-route-table-ids {rtb_c}")),
        "{command}"
    );
    // Without ip-ranges the address is unclassified, and the output says so.
    assert!(diagnosis["not_inspected"].to_string().contains("ip-ranges"));
}

#[test]
fn a_missing_subnet_is_a_clear_error() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    build(&moto, "healthy-subnet");
    let out = doctor(
        &moto.endpoint,
        &[
            "snapshot",
            "--subnet",
            "subnet-0000000000000000",
            "--region",
            "ap-northeast-2",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("subnet-0000000000000000"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn denied_and_throttled_calls_are_named_and_the_diagnosis_still_runs() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = build(&moto, "s3-route-missing");
    let proxy = FaultProxy::start(
        &moto.endpoint,
        &[
            "--deny",
            "DescribeVpcEndpoints",
            "--deny",
            "DescribeNetworkAcls",
            "--throttle",
            "DescribeSecurityGroups",
        ],
    );
    let event = event_for("s3-route-missing", &built);
    let out = doctor(
        &proxy.endpoint,
        &[
            "diagnose",
            "--event",
            event.to_str().unwrap(),
            "--live",
            "--format",
            "json",
        ],
    );
    let diagnosis = json(&out);
    let not_inspected = diagnosis["not_inspected"].to_string();
    for expected in [
        "ec2:DescribeVpcEndpoints failed (UnauthorizedOperation",
        "ec2:DescribeNetworkAcls failed (UnauthorizedOperation",
        "ec2:DescribeSecurityGroups failed (RequestLimitExceeded",
    ] {
        assert!(
            not_inspected.contains(expected),
            "{expected} missing from {not_inspected}"
        );
    }
    // The route table still shows the missing S3 route, endpoints unseen or not.
    let codes = codes(&diagnosis);
    assert_eq!(
        codes.first().map(String::as_str),
        Some("NO_ROUTE_TO_TARGET"),
        "{codes:?}"
    );
    assert!(
        codes.iter().any(|c| c == "INSPECTION_INCOMPLETE"),
        "{codes:?}"
    );
}

/// A denied subnet lookup: the diagnosis from the message alone (exit 0), naming the
/// permission and AWS's answer under what was not inspected (it used to be a one-line error).
#[test]
fn a_denied_subnet_lookup_names_the_permission() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = build(&moto, "healthy-subnet");
    let proxy = FaultProxy::start(&moto.endpoint, &["--deny", "DescribeSubnets"]);
    let event = event_for("healthy-subnet", &built);
    let out = doctor(
        &proxy.endpoint,
        &["diagnose", "--event", event.to_str().unwrap(), "--live"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let not_inspected = text
        .split("Not inspected")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        not_inspected.contains("ec2:DescribeSubnets")
            && not_inspected.contains("UnauthorizedOperation"),
        "{text}"
    );
    assert!(
        text.starts_with("! INSPECTION_INCOMPLETE"),
        "never all clear: {text}"
    );
}
