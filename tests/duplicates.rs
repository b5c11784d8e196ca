//! At-least-once delivery, as EventBridge and Lambda do it: the same event handed to two
//! execution environments at the same moment. Two real `bootstrap`s, each behind its own
//! Runtime API emulator, share one dedup table and one topic in moto; a barrier makes both
//! hand out each round's event together. Exactly one of them may publish.

mod common;

use std::path::PathBuf;

use common::emulator::{emulator, log_decisions, published, report, sinks};
use common::moto::Moto;
use serde_json::Value;

const ROUNDS: usize = 24;

/// One event per round, each its own alert (another service) and its own task.
fn round_events() -> Vec<PathBuf> {
    let sample: Value =
        serde_json::from_str(&common::read("events/s3-route-missing.json")).unwrap();
    let dir = std::env::temp_dir().join(format!("ecs-pull-doctor-dups-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    (0..ROUNDS)
        .map(|round| {
            let mut event = sample.clone();
            let arn = format!("arn:aws:ecs:ap-northeast-2:111122223333:task/prod/dup{round:02}");
            event["id"] = format!("duplicate-{round}").into();
            event["resources"] = serde_json::json!([arn]);
            event["detail"]["taskArn"] = arn.into();
            event["detail"]["group"] = format!("service:web{round:02}").into();
            let path = dir.join(format!("round-{round:02}.json"));
            std::fs::write(&path, event.to_string()).unwrap();
            path
        })
        .collect()
}

/// Two bootstraps, each behind its own emulator, handed `events` with `options` (a barrier);
/// their reports once both are done.
fn in_two_environments(
    moto: &Moto,
    vars: &[(&str, &str)],
    events: &[&std::path::Path],
    options: &[&str],
) -> Vec<Value> {
    let children: Vec<_> = (0..2)
        .map(|_| {
            emulator(&moto.endpoint, vars, events, options)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|child| report(child.wait_with_output().unwrap()))
        .collect()
}

#[test]
fn a_duplicate_delivered_beside_the_first_never_alerts_twice() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let made = sinks(&moto, None);
    let events = round_events();
    let paths: Vec<&std::path::Path> = events.iter().map(|p| p.as_path()).collect();
    let barrier =
        std::env::temp_dir().join(format!("ecs-pull-doctor-barrier-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&barrier);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let vars = [
        ("SNS_TOPIC_ARN", made["topic_arn"].as_str().unwrap()),
        ("DEDUP_TABLE", made["table"].as_str().unwrap()),
        ("NETWORK_SNAPSHOT_FILE", snapshot.to_str().unwrap()),
    ];
    let options = ["--barrier", barrier.to_str().unwrap(), "--parties", "2"];
    let reports = in_two_environments(&moto, &vars, &paths, &options);

    let mut suppressed_beside_holder = 0;
    for round in 0..ROUNDS {
        let answers: Vec<&Value> = reports
            .iter()
            .map(|r| &r["invocations"][round]["body"])
            .collect();
        let published_by: Vec<&&Value> = answers
            .iter()
            .filter(|a| a["status"] == "sent" && a["sent_to"] == serde_json::json!(["sns"]))
            .collect();
        assert_eq!(
            published_by.len(),
            1,
            "round {round}: exactly one invocation publishes: {answers:#?}"
        );
        let other = answers
            .iter()
            .find(|a| !(a["status"] == "sent" && a["sent_to"] == serde_json::json!(["sns"])))
            .unwrap();
        // The other found the lease held (suppressed), or came after the delivery was
        // recorded (nothing left to send).
        match other["status"].as_str() {
            Some("suppressed") => {
                assert!(other["held_by"].is_string(), "{other:#}");
                suppressed_beside_holder += 1;
            }
            Some("sent") => assert_eq!(other["sent_to"], serde_json::json!([]), "{other:#}"),
            _ => panic!("round {round}: {other:#}"),
        }
    }
    for report in &reports {
        log_decisions(report);
    }
    assert_eq!(
        published(&moto).len(),
        ROUNDS,
        "one alert per round, whatever the timing"
    );
    // The barrier makes the deliveries overlap: most rounds are decided by the lease.
    assert!(
        suppressed_beside_holder > 0,
        "no round overlapped: the test did not race"
    );
}

#[test]
fn a_duplicate_first_failure_opens_one_slack_thread_and_pages_once() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let made = common::moto::fixture(
        &moto,
        "lambda_sinks.py",
        &[
            "--pagerduty-key",
            "0123456789abcdef0123456789abcdef",
            "--slack-bot-token",
            "xoxb-0000000000-1111111111-abcdefABCDEF",
        ],
    );
    let events = round_events();
    let paths: Vec<&std::path::Path> = events.iter().map(|p| p.as_path()).collect();
    let barrier = std::env::temp_dir().join(format!(
        "ecs-pull-doctor-incident-barrier-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&barrier);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let vars = [
        ("DEDUP_TABLE", made["table"].as_str().unwrap()),
        (
            "PAGERDUTY_ROUTING_KEY_SECRET_ARN",
            made["pagerduty_secret_arn"].as_str().unwrap(),
        ),
        (
            "SLACK_BOT_TOKEN_SECRET_ARN",
            made["slack_bot_token_secret_arn"].as_str().unwrap(),
        ),
        ("SLACK_CHANNEL_ID", "C0INCIDENTS"),
        ("NETWORK_SNAPSHOT_FILE", snapshot.to_str().unwrap()),
    ];
    let options = [
        "--barrier",
        barrier.to_str().unwrap(),
        "--parties",
        "2",
        "--pagerduty-receiver",
        "--slack-api-token",
        "xoxb-0000000000-1111111111-abcdefABCDEF",
    ];
    let reports = in_two_environments(&moto, &vars, &paths, &options);
    // Each round is another service, so another incident: one parent and one page each,
    // whichever environment sent them.
    let count = |key: &str, keep: &dyn Fn(&Value) -> bool| -> usize {
        reports
            .iter()
            .flat_map(|r| r[key].as_array().unwrap())
            .filter(|c| keep(c))
            .count()
    };
    let parents = count("slack_api", &|c| {
        c["method"] == "chat.postMessage" && c["body"]["thread_ts"].is_null()
    });
    let replies = count("slack_api", &|c| {
        c["method"] == "chat.postMessage" && !c["body"]["thread_ts"].is_null()
    });
    let pages = count("pagerduty", &|p| p["event"]["event_action"] == "trigger");
    assert_eq!(parents, ROUNDS, "one parent per incident");
    assert_eq!(replies, 0);
    assert_eq!(pages, ROUNDS, "one page per incident");
    for report in &reports {
        log_decisions(report);
    }
}
