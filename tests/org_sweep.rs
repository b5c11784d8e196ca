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
/// The work queue's visibility timeout: what the function reports failed comes back after it,
/// as on AWS (where the template's is 540 s), and an invocation takes about a second here.
const VISIBILITY_SECONDS: u32 = 4;

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
             q = sqs.create_queue(QueueName='sweep', Attributes={{'VisibilityTimeout': {visibility:?}, 'RedrivePolicy': json.dumps({{'deadLetterTargetArn': arn, 'maxReceiveCount': '3'}})}})['QueueUrl']\n\
             print(json.dumps([q, dlq]))",
            dir = common::repo("tests/fixtures").display().to_string(),
            endpoint = moto.endpoint,
            visibility = VISIBILITY_SECONDS.to_string(),
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
        format!(
            "ECS pull preflight: Preflight ({broken}/ap-northeast-2): 3 new root causes, 0 fixed"
        )
    );
    assert_eq!(digests[0].2["account"], broken.as_str());
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
            &format!("ECS pull preflight: Preflight ({broken}/ap-northeast-2): 3 new root causes, 0 fixed"),
            &format!("ECS pull preflight: Preflight ({broken}/ap-northeast-2): 0 new root causes, 1 fixed")
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

/// The worker's log lines, as JSON.
fn log_lines(polled: &Value) -> Vec<Value> {
    polled["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| serde_json::from_str(line.as_str().unwrap()).unwrap())
        .collect()
}

/// What reached the topic's subscriber queue since the last read: (subject, message,
/// attributes). moto's whole-state dump is too slow to read with 31 accounts in it.
fn arrived(moto: &Moto, inbox: &str) -> Vec<(String, String, Value)> {
    let read = fixture(moto, "sns_inbox.py", &["--queue-url", inbox]);
    read.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m[0].as_str().unwrap().to_string(),
                m[1].as_str().unwrap().to_string(),
                m[2].clone(),
            )
        })
        .collect()
}

/// The machine-readable part of a post (its `json` attribute).
fn json_of(attributes: &Value) -> Value {
    serde_json::from_str(attributes["json"].as_str().unwrap()).unwrap()
}

/// The issue's scale: 30 member accounts and the central one × 2 regions. Three members are
/// broken, one refuses the role, one has not enabled a region, one target is throttled twice:
/// every target is audited once or named, each broken account's causes are posted once, one
/// summary counts it all, the dead-letter queue stays empty; the next run with one cause
/// mended posts only that fix.
#[test]
fn thirty_accounts_in_two_regions_are_swept_with_every_target_audited_or_named() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let org = fixture(&moto, "moto_organization.py", &["--accounts", "30"]);
    let members = common::strings(&org["members"]);
    let broken = &members[..3];
    let (refused, closed, throttled) = (&members[3], &members[4], &members[5]);
    let built = fixture(
        &moto,
        "moto_account.py",
        &["--state", "broken", "--account-ids", &broken.join(",")],
    );
    fixture(
        &moto,
        "moto_account.py",
        &[
            "--state",
            "healthy",
            "--account-ids",
            &members[3..].join(","),
        ],
    );
    let made = sinks(&moto, None);
    let inbox = fixture(
        &moto,
        "sns_inbox.py",
        &["--subscribe", made["topic_arn"].as_str().unwrap()],
    )["queue_url"]
        .as_str()
        .unwrap()
        .to_string();
    let (queue, dead_letters) = queues(&moto);
    let proxy = FaultProxy::start(
        &moto.endpoint,
        &[
            "--deny-role-in",
            refused,
            "--not-enabled",
            &format!("{closed}/eu-west-1"),
            "--throttle-first",
            &format!("{throttled}/ap-northeast-2/2"),
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
    assert_eq!(response_bodies(&report)[0]["targets"], 62);
    let polled = poll(&proxy.endpoint, &vars, &queue, 3);
    assert_eq!(polled["deleted"], 62, "{:#}", polled["answers"]);

    // Every target done exactly once (audited, or not inspected with its reason).
    let lines = log_lines(&polled);
    let mut done: Vec<&str> = lines
        .iter()
        .filter(|l| l["decision"] == "audited")
        .map(|l| l["target"].as_str().unwrap())
        .collect();
    done.sort_unstable();
    let before = done.len();
    done.dedup();
    assert_eq!((before, done.len()), (62, 62), "{done:?}");
    // The throttled target came back twice, for the throttling; no other came back for
    // anything but a concurrent worker or transaction.
    let retried: Vec<(&str, &str)> = lines
        .iter()
        .filter(|l| l["decision"] == "retry")
        .map(|l| (l["target"].as_str().unwrap(), l["why"].as_str().unwrap()))
        .collect();
    let throttled_target = format!("{throttled}/ap-northeast-2");
    assert_eq!(
        retried
            .iter()
            .filter(|(target, why)| *target == throttled_target && why.contains("Throttl"))
            .count(),
        2,
        "{retried:#?}"
    );
    // Others may come back only for the run's own bookkeeping: moto answers some concurrent
    // DynamoDB writes with HTTP 500, which the worker gives back to the queue, never for
    // reading the account.
    assert!(
        retried
            .iter()
            .all(|(target, why)| *target == throttled_target
                || why.starts_with("dynamodb:")
                || why.contains("another worker")),
        "{retried:#?}"
    );
    let dead = fixture(&moto, "sqs_depth.py", &["--queue-url", &dead_letters]);
    assert_eq!(dead["visible"], 0);

    // Each broken account's causes, posted once, in its own name.
    let notifications = arrived(&moto, &inbox);
    let mut digests: Vec<(&str, &str)> = notifications
        .iter()
        .filter(|(_, _, a)| a["kind"] == "sweep")
        .map(|(subject, _, a)| (a["account"].as_str().unwrap(), subject.as_str()))
        .collect();
    digests.sort_unstable();
    let mut broken_sorted = broken.to_vec();
    broken_sorted.sort();
    let expected: Vec<(&str, String)> = broken_sorted
        .iter()
        .map(|account| {
            (
                account.as_str(),
                format!("ECS pull preflight: Preflight ({account}/ap-northeast-2): 3 new root causes, 0 fixed"),
            )
        })
        .collect();
    assert_eq!(
        digests,
        expected
            .iter()
            .map(|(a, s)| (*a, s.as_str()))
            .collect::<Vec<_>>()
    );

    // One summary: 59 of 62 audited, 9 new causes in three codes, each in the three broken
    // accounts, and the three targets not inspected with why.
    let summary: Vec<&(String, String, Value)> = notifications
        .iter()
        .filter(|(_, _, a)| a["kind"] == "sweep_summary")
        .collect();
    assert_eq!(summary.len(), 1, "{notifications:#?}");
    assert_eq!(notifications.len(), 4, "three digests and the summary");
    assert_eq!(
        summary[0].0,
        "ECS pull preflight: organisation sweep, 59 of 62 audited, 9 new, 0 fixed"
    );
    let json = json_of(&summary[0].2);
    assert_eq!(
        (json["accounts"].as_u64(), json["regions"].as_u64()),
        (Some(31), Some(2))
    );
    let broken_targets: Vec<String> = broken_sorted
        .iter()
        .map(|a| format!("{a}/ap-northeast-2"))
        .collect();
    let new = json["new"].as_object().unwrap();
    assert_eq!(new.len(), 3, "{new:#?}");
    for (code, targets) in new {
        let mut targets = common::strings(targets);
        targets.sort();
        assert_eq!(targets, broken_targets, "{code}");
    }
    let mut not_inspected: Vec<(String, String)> = json["not_inspected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["target"].as_str().unwrap().to_string(),
                n["why"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    not_inspected.sort();
    let named: Vec<&str> = not_inspected.iter().map(|(t, _)| t.as_str()).collect();
    let mut expected_named = vec![
        format!("{refused}/ap-northeast-2"),
        format!("{refused}/eu-west-1"),
        format!("{closed}/eu-west-1"),
    ];
    expected_named.sort();
    assert_eq!(named, expected_named);
    for (target, why) in &not_inspected {
        let expected = if target.starts_with(refused.as_str()) {
            "sts:AssumeRole"
        } else {
            "UnrecognizedClientException"
        };
        assert!(why.contains(expected), "{target}: {why}");
    }
    assert_eq!(json["missing"], json!([]));

    // The next run, with the first broken account's report group mended: only that fix.
    let group = built[&broken[0]]["security_groups"]["report"]
        .as_str()
        .unwrap();
    let prefix_list = built[&broken[0]]["s3_prefix_list"].as_str().unwrap();
    fixture(
        &moto,
        "moto_account.py",
        &[
            "--account-id",
            &broken[0],
            "--allow-s3-egress",
            group,
            "--prefix-list",
            prefix_list,
        ],
    );
    let report = invoke(&proxy.endpoint, &vars, &[&schedule(2)], &[]);
    assert_eq!(response_bodies(&report)[0]["status"], "planned");
    let polled = poll(&proxy.endpoint, &vars, &queue, 3);
    assert_eq!(polled["deleted"], 62, "{:#}", polled["answers"]);
    let after = arrived(&moto, &inbox);
    let posted: Vec<&String> = after.iter().map(|(subject, _, _)| subject).collect();
    assert_eq!(
        posted,
        [
            &format!(
                "ECS pull preflight: Preflight ({}/ap-northeast-2): 0 new root causes, 1 fixed",
                broken[0]
            ),
            "ECS pull preflight: organisation sweep, 59 of 62 audited, 0 new, 1 fixed"
        ]
    );
    let json = json_of(&after[1].2);
    assert_eq!(
        json["fixed"],
        json!({"TASK_SG_BLOCKS_HTTPS": [format!("{}/ap-northeast-2", broken[0])]})
    );
    let dead = fixture(&moto, "sqs_depth.py", &["--queue-url", &dead_letters]);
    assert_eq!(dead["visible"], 0);
}
