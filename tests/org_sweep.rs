//! The organisation's sweep end to end: the real `bootstrap` plans a run from the schedule,
//! `tests/fixtures/sqs_poller.py` plays Lambda's SQS event source mapping (batches handed to
//! the bootstrap through the Runtime API emulator, three at once, failures made visible
//! again), and moto holds the organisation's member accounts, the queue, the table and the
//! topic. A member whose role is refused is the fault proxy's `--deny-role-in`.

mod common;

use std::path::PathBuf;

use common::emulator::{invoke, log_decisions, poll, published, response_bodies, sinks};
use common::moto::{fixture, FaultProxy, Moto};
use serde_json::{json, Value};

const REGIONS: &str = "ap-northeast-2,eu-west-1";

fn write(name: &str, value: &Value) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ecs-pull-doctor-org-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

/// The schedule's event of `day` (each day's is a run of its own).
fn schedule(day: u32) -> PathBuf {
    write(
        &format!("schedule-{day}"),
        &json!({
            "version": "0", "id": format!("53dc4d37-cffa-4f76-80c9-8b7d4a4d2e{day:02}"),
            "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": format!("2026-12-{day:02}T00:00:00Z"), "region": "ap-northeast-2",
            "resources": ["arn:aws:events:ap-northeast-2:123456789012:rule/ecs-pull-doctor-sweep"],
            "detail": {}
        }),
    )
}

/// The work queue and its dead-letter queue (three receives), in the central account.
fn queues(moto: &Moto) -> (String, String) {
    let out = std::process::Command::new("python3")
        .args(["-c", &format!(
            "import sys, json; sys.path.insert(0, {dir:?}); from moto_scenario import client\n\
             sqs = client('sqs', {endpoint:?})\n\
             dlq = sqs.create_queue(QueueName='sweep-dlq')['QueueUrl']\n\
             arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=['QueueArn'])['Attributes']['QueueArn']\n\
             q = sqs.create_queue(QueueName='sweep', Attributes={{'VisibilityTimeout': '30', 'RedrivePolicy': json.dumps({{'deadLetterTargetArn': arn, 'maxReceiveCount': '3'}})}})['QueueUrl']\n\
             print(json.dumps([q, dlq]))",
            dir = common::repo("tests/fixtures").display().to_string(),
            endpoint = moto.endpoint,
        )])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let urls: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    (urls[0].clone(), urls[1].clone())
}

fn send(moto: &Moto, queue: &str, body: &str) {
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            &format!(
                "import sys; sys.path.insert(0, {dir:?}); from moto_scenario import client\n\
             client('sqs', {endpoint:?}).send_message(QueueUrl={queue:?}, MessageBody={body:?})",
                dir = common::repo("tests/fixtures").display().to_string(),
                endpoint = moto.endpoint,
            ),
        ])
        .status()
        .unwrap();
    assert!(status.success());
}

fn summaries(moto: &Moto) -> Vec<(String, String)> {
    published(moto)
        .into_iter()
        .filter(|(_, _, attributes)| attributes["kind"] == "sweep_summary")
        .map(|(subject, message, _)| (subject, message))
        .collect()
}

#[test]
fn the_organisation_is_swept_target_by_target_with_one_summary_per_run() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let org = fixture(&moto, "moto_organization.py", &["--accounts", "3"]);
    let members = common::strings(&org["members"]);
    let (broken, healthy, refused) = (&members[0], &members[1], &members[2]);
    let built = fixture(
        &moto,
        "moto_account.py",
        &["--state", "broken", "--account-id", broken],
    );
    fixture(
        &moto,
        "moto_account.py",
        &["--state", "healthy", "--account-id", healthy],
    );
    let made = sinks(&moto, None);
    let (queue, dead_letters) = queues(&moto);
    let proxy = FaultProxy::start(&moto.endpoint, &["--deny-role-in", refused]);
    let allowed = members.join(",");
    let vars = [
        ("SNS_TOPIC_ARN", made["topic_arn"].as_str().unwrap()),
        ("DEDUP_TABLE", made["table"].as_str().unwrap()),
        ("MEMBER_ROLE_NAME", "ecs-pull-doctor-read"),
        ("ALLOWED_ACCOUNTS", allowed.as_str()),
        ("SWEEP_QUEUE_URL", queue.as_str()),
        ("SWEEP_REGIONS", REGIONS),
    ];

    // The plan: one message per account and region, the central account's own included.
    let report = invoke(&proxy.endpoint, &vars, &[&schedule(1)], &[]);
    let planned = &response_bodies(&report)[0];
    assert_eq!(planned["status"], "planned", "{planned:#}");
    assert_eq!(planned["targets"], 8);
    let run = planned["run"].as_str().unwrap().to_string();
    assert!(run.starts_with("20261201T000000Z-"), "{run}");
    // A retried delivery of the same schedule event is the same run, its messages sent again.
    let report = invoke(&proxy.endpoint, &vars, &[&schedule(1)], &[]);
    assert_eq!(response_bodies(&report)[0]["run"], run.as_str());
    // The next day's schedule while this run is still at work does not overlap it.
    let report = invoke(&proxy.endpoint, &vars, &[&schedule(2)], &[]);
    let skipped = &response_bodies(&report)[0];
    assert_eq!(skipped["status"], "skipped", "{skipped:#}");
    assert!(skipped["why"]
        .as_str()
        .unwrap()
        .contains("still at work (8 targets left)"));

    // The work, three workers at once, until the queue is empty.
    let polled = poll(&proxy.endpoint, &vars, &queue, 3);
    // Two deliveries of one target at once: one audits it, the other is told to come back.
    assert_eq!(polled["deleted"], 16, "{:#}", polled["answers"]);
    assert_eq!(
        polled["received"].as_u64().unwrap(),
        16 + polled["retried"].as_u64().unwrap()
    );
    let decisions = log_decisions(&polled);
    assert_eq!(
        decisions.iter().filter(|d| *d == "audited").count(),
        8,
        "each target audited once: {decisions:?}"
    );

    // The broken member's causes are posted once, as its own sweep would; then one summary.
    let notifications = published(&moto);
    let digests: Vec<&(String, String, Value)> = notifications
        .iter()
        .filter(|(_, _, a)| a["kind"] == "sweep")
        .collect();
    assert_eq!(digests.len(), 1, "{notifications:#?}");
    assert_eq!(
        digests[0].0,
        "ECS pull preflight: Preflight (ap-northeast-2): 3 new root causes, 0 fixed"
    );
    let summary = summaries(&moto);
    assert_eq!(summary.len(), 1, "{notifications:#?}");
    let (subject, message) = &summary[0];
    assert_eq!(
        subject,
        "ECS pull preflight: organisation sweep, 6 of 8 audited, 3 new, 0 fixed"
    );
    assert!(
        message.starts_with(&format!(
            "Organisation sweep {run}: 6 of 8 targets audited, 3 new root causes, 0 fixed\n"
        )),
        "{message}"
    );
    assert!(message.contains("4 accounts × 2 regions"), "{message}");
    assert!(
        message.contains(&format!("S3_ROUTE_MISSING: {broken}/ap-northeast-2")),
        "{message}"
    );
    for region in REGIONS.split(',') {
        assert!(
            message.contains(&format!("{refused}/{region}: sts:AssumeRole")),
            "the refused member is named in each region: {message}"
        );
    }
    assert!(!message.contains("Never finished"), "{message}");

    // A redelivered message of a finished target posts nothing again.
    send(
        &moto,
        &queue,
        &json!({"run": run, "account": broken, "region": "ap-northeast-2"}).to_string(),
    );
    // And a malformed one is never dropped: it ends in the dead-letter queue.
    send(
        &moto,
        &queue,
        r#"{"run": "x", "account": "../etc", "region": "?"}"#,
    );
    let polled = poll(&proxy.endpoint, &vars, &queue, 3);
    assert_eq!(polled["deleted"], 1, "{:#}", polled["answers"]);
    assert_eq!(
        published(&moto).len(),
        notifications.len(),
        "nothing posted twice"
    );
    let dead = fixture(&moto, "sqs_depth.py", &["--queue-url", &dead_letters]);
    assert_eq!(dead["visible"], 1, "the malformed message is in the DLQ");

    // The next run, with the report group's egress to S3 mended: only that fix is posted,
    // then the run's summary.
    let group = built["security_groups"]["report"].as_str().unwrap();
    let prefix_list = built["s3_prefix_list"].as_str().unwrap();
    fixture(
        &moto,
        "moto_account.py",
        &[
            "--account-id",
            broken,
            "--allow-s3-egress",
            group,
            "--prefix-list",
            prefix_list,
        ],
    );
    let report = invoke(&proxy.endpoint, &vars, &[&schedule(2)], &[]);
    assert_eq!(response_bodies(&report)[0]["status"], "planned");
    poll(&proxy.endpoint, &vars, &queue, 3);
    let notifications = published(&moto);
    let digests: Vec<&String> = notifications
        .iter()
        .filter(|(_, _, a)| a["kind"] == "sweep")
        .map(|(subject, _, _)| subject)
        .collect();
    assert_eq!(
        digests,
        [
            "ECS pull preflight: Preflight (ap-northeast-2): 3 new root causes, 0 fixed",
            "ECS pull preflight: Preflight (ap-northeast-2): 0 new root causes, 1 fixed"
        ]
    );
    let summary = summaries(&moto);
    assert_eq!(summary.len(), 2);
    assert_eq!(
        summary[1].0,
        "ECS pull preflight: organisation sweep, 6 of 8 audited, 0 new, 1 fixed"
    );
    assert!(summary[1]
        .1
        .contains(&format!("TASK_SG_BLOCKS_HTTPS: {broken}/ap-northeast-2")));
}

/// A target throttled twice is delivered again until it is audited; a region the account has
/// not enabled is not inspected, with AWS's answer as the reason, and not retried.
#[test]
fn a_throttled_target_is_retried_and_a_region_not_enabled_is_named_not_retried() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let org = fixture(&moto, "moto_organization.py", &["--accounts", "2"]);
    let members = common::strings(&org["members"]);
    let (throttled, closed) = (&members[0], &members[1]);
    for account in &members {
        fixture(
            &moto,
            "moto_account.py",
            &["--state", "healthy", "--account-id", account],
        );
    }
    let made = sinks(&moto, None);
    let (queue, dead_letters) = queues(&moto);
    let proxy = FaultProxy::start(
        &moto.endpoint,
        &[
            "--throttle-first",
            &format!("{throttled}/ap-northeast-2/2"),
            "--not-enabled",
            &format!("{closed}/eu-west-1"),
        ],
    );
    let allowed = members.join(",");
    let vars = [
        ("SNS_TOPIC_ARN", made["topic_arn"].as_str().unwrap()),
        ("DEDUP_TABLE", made["table"].as_str().unwrap()),
        ("MEMBER_ROLE_NAME", "ecs-pull-doctor-read"),
        ("ALLOWED_ACCOUNTS", allowed.as_str()),
        ("SWEEP_QUEUE_URL", queue.as_str()),
        ("SWEEP_REGIONS", REGIONS),
    ];
    let report = invoke(&proxy.endpoint, &vars, &[&schedule(1)], &[]);
    assert_eq!(response_bodies(&report)[0]["targets"], 6);
    let polled = poll(&proxy.endpoint, &vars, &queue, 3);
    assert_eq!(polled["deleted"], 6, "{:#}", polled["answers"]);
    assert_eq!(polled["retried"], 2, "the throttled target came back twice");
    let dead = fixture(&moto, "sqs_depth.py", &["--queue-url", &dead_letters]);
    assert_eq!(dead["visible"], 0);
    let summary = summaries(&moto);
    assert_eq!(summary.len(), 1);
    let (subject, message) = &summary[0];
    assert_eq!(
        subject,
        "ECS pull preflight: organisation sweep, 5 of 6 audited, 0 new, 0 fixed"
    );
    assert!(
        message.contains(&format!(
            "{closed}/eu-west-1: ecs:ListClusters failed (UnrecognizedClientException"
        )),
        "{message}"
    );
    assert!(
        !message.contains(&format!("{throttled}/ap-northeast-2:")),
        "{message}"
    );
}
