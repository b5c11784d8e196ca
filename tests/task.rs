//! The task someone is looking at: `diagnose --live --task` (one `DescribeTasks` against
//! moto, then the live diagnosis), `--event` with `aws ecs describe-tasks` output or one task
//! object, a task ECS no longer has, and a live read the account refuses (the diagnosis falls
//! back to the message and says what it could not inspect).

mod common;

use common::moto::{doctor, fixture, FaultProxy, Moto};
use serde_json::{json, Value};

/// The seed sample's stopped reason: the S3 layer download that times out.
fn seed_reason() -> String {
    let event: Value = serde_json::from_str(&common::read("events/s3-route-missing.json")).unwrap();
    event["detail"]["stoppedReason"]
        .as_str()
        .unwrap()
        .to_string()
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn codes(diagnosis: &Value) -> Vec<&str> {
    diagnosis["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

#[test]
fn the_task_by_its_arn_or_its_id_is_read_and_diagnosed_live() {
    let moto = Moto::start();
    let built = fixture(
        &moto,
        "moto_scenario.py",
        &[
            "--scenario",
            "s3-route-missing",
            "--stopped-task",
            &seed_reason(),
        ],
    );
    let arn = built["stopped_task"].as_str().unwrap();
    // moto answers DescribeTasks with numbers where the API has strings: the proxy mends it.
    let proxy = FaultProxy::start(&moto.endpoint, &["--repair-describe-tasks"]);
    let by_arn = doctor(
        &proxy.endpoint,
        &["diagnose", "--live", "--task", arn, "--format", "json"],
    );
    assert_eq!(
        by_arn.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&by_arn.stderr)
    );
    let diagnosis = json_of(&by_arn);
    assert_eq!(codes(&diagnosis)[0], "S3_ROUTE_MISSING", "{diagnosis:#}");
    assert_eq!(diagnosis["task"]["task_arn"], arn, "{diagnosis:#}");

    let id = arn.rsplit('/').next().unwrap();
    let by_id = doctor(
        &proxy.endpoint,
        &[
            "diagnose",
            "--live",
            "--task",
            id,
            "--cluster",
            "prod",
            "--region",
            "ap-northeast-2",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        by_id.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&by_id.stderr)
    );
    assert_eq!(codes(&json_of(&by_id)), codes(&diagnosis));

    // An ID alone names no cluster: a usage error.
    let no_cluster = doctor(&proxy.endpoint, &["diagnose", "--live", "--task", id]);
    assert_eq!(no_cluster.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_cluster.stderr).contains("give its --cluster"));
}

#[test]
fn a_task_ecs_no_longer_has_says_so_and_what_still_works() {
    let moto = Moto::start();
    fixture(
        &moto,
        "moto_scenario.py",
        &["--scenario", "s3-route-missing"],
    );
    let proxy = FaultProxy::start(&moto.endpoint, &["--repair-describe-tasks"]);
    let gone = doctor(
        &proxy.endpoint,
        &[
            "diagnose",
            "--live",
            "--task",
            "0123456789abcdef0123456789abcdef",
            "--cluster",
            "prod",
            "--region",
            "ap-northeast-2",
        ],
    );
    assert_eq!(gone.status.code(), Some(1));
    let err = String::from_utf8_lossy(&gone.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("ECS keeps a stopped task for about an hour"),
        "{err}"
    );
    assert!(
        err.contains("aws ecs describe-services --cluster prod"),
        "{err}"
    );
    assert!(
        err.contains("ecs-pull-doctor audit --live --cluster prod"),
        "{err}"
    );
}

/// The network the account will not show: the diagnosis stands on the message (the dialled
/// address is S3's) and names what was not inspected, with exit 0.
#[test]
fn a_refused_network_read_leaves_the_diagnosis_to_the_message_and_says_so() {
    let moto = Moto::start();
    fixture(
        &moto,
        "moto_scenario.py",
        &["--scenario", "s3-route-missing"],
    );
    let proxy = FaultProxy::start(&moto.endpoint, &["--deny", "DescribeSubnets"]);
    let out = doctor(
        &proxy.endpoint,
        &[
            "diagnose",
            "--event",
            "events/s3-route-missing.json",
            "--live",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diagnosis = json_of(&out);
    let not_inspected: Vec<&str> = diagnosis["not_inspected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        not_inspected
            .iter()
            .any(|n| n.starts_with("the task's network:") && n.contains("ec2:DescribeSubnets")),
        "{not_inspected:?}"
    );
    assert!(!codes(&diagnosis).is_empty(), "{diagnosis:#}");
    assert!(
        !codes(&diagnosis).contains(&"NETWORK_PATH_LOOKS_OPEN"),
        "never all clear from the message alone: {diagnosis:#}"
    );
}

/// `aws ecs describe-tasks` output: each stopped task diagnosed, a running one skipped, one
/// list in JSON; one task object alone is one diagnosis; anything else names the shapes.
#[test]
fn describe_tasks_output_and_a_task_object_are_read_like_events() {
    let event: Value = serde_json::from_str(&common::read("events/s3-route-missing.json")).unwrap();
    let stopped = event["detail"].clone();
    let mut running = stopped.clone();
    running["lastStatus"] = json!("RUNNING");
    running["taskArn"] = json!(format!("{}0", stopped["taskArn"].as_str().unwrap()));
    let dir = std::env::temp_dir().join(format!("ecs-pull-doctor-task-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, value: &Value| {
        let path = dir.join(name);
        std::fs::write(&path, value.to_string()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let network = "events/network/s3-route-missing.json";
    let listed = write(
        "describe-tasks.json",
        &json!({"tasks": [stopped, running], "failures": []}),
    );
    let out = doctor(
        "http://127.0.0.1:9",
        &[
            "diagnose",
            "--event",
            &listed,
            "--network",
            network,
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers = json_of(&out);
    let answers = answers.as_array().expect("a list for several tasks");
    assert_eq!(answers.len(), 2);
    assert_eq!(codes(&answers[0])[0], "S3_ROUTE_MISSING");
    assert_eq!(answers[1]["skipped"], true, "{:#}", answers[1]);

    let one = write("task.json", &stopped);
    let out = doctor(
        "http://127.0.0.1:9",
        &[
            "diagnose",
            "--event",
            &one,
            "--network",
            network,
            "--format",
            "json",
        ],
    );
    assert_eq!(codes(&json_of(&out))[0], "S3_ROUTE_MISSING");

    let text = doctor(
        "http://127.0.0.1:9",
        &["diagnose", "--event", &listed, "--network", network],
    );
    let shown = String::from_utf8_lossy(&text.stdout);
    assert!(shown.contains("S3_ROUTE_MISSING"), "{shown}");
    assert!(shown.contains("skipped"), "{shown}");

    let gone = write(
        "gone.json",
        &json!({"tasks": [], "failures": [{"arn": "arn:aws:ecs:ap-northeast-2:111122223333:task/prod/abc", "reason": "MISSING"}]}),
    );
    let out = doctor("http://127.0.0.1:9", &["diagnose", "--event", &gone]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("MISSING") && err.contains("about an hour"),
        "{err}"
    );

    let other = write("other.json", &json!({"services": []}));
    let out = doctor("http://127.0.0.1:9", &["diagnose", "--event", &other]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ECS Task State Change") && err.contains("describe-tasks"),
        "{err}"
    );
}
