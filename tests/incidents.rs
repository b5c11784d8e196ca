//! Incidents paged to PagerDuty, end to end: the real `bootstrap` behind the Runtime API
//! emulator, moto as SNS, DynamoDB (the dedup table, where incidents are kept) and Secrets
//! Manager (the routing key), and the emulator's stand-in for PagerDuty's Events API v2
//! (`--pagerduty-receiver`), which refuses what PagerDuty refuses.

mod common;

use std::path::PathBuf;

use common::emulator::{error_message, invoke, log_decisions, outcomes, published};
use common::moto::{fixture, Moto};
use serde_json::Value;

const ROUTING_KEY: &str = "0123456789abcdef0123456789abcdef";
const INCIDENT: &str = "ecs-pull-doctor/111122223333/ap-northeast-2/prod/service:web";

/// The topic, table and routing-key secret in moto.
fn paging_sinks(moto: &Moto) -> Value {
    paging_sinks_with_key(moto, ROUTING_KEY)
}

fn paging_sinks_with_key(moto: &Moto, key: &str) -> Value {
    fixture(moto, "lambda_sinks.py", &["--pagerduty-key", key])
}

/// The seed failure as another task (a repeat of the same alert).
fn seed_task(name: &str) -> PathBuf {
    common::variant(&common::repo("events/s3-route-missing.json"), name, |e| {
        let arn = format!("arn:aws:ecs:ap-northeast-2:111122223333:task/prod/{name}");
        e["detail"]["taskArn"] = arn.clone().into();
        e["resources"] = serde_json::json!([arn]);
    })
}

fn service_event(file: &str) -> PathBuf {
    common::repo(&format!("tests/fixtures/service-events/{file}"))
}

/// (HTTP status, event_action, dedup_key) of each event PagerDuty received.
fn paged(report: &Value) -> Vec<(u64, String, String)> {
    report["pagerduty"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["status"].as_u64().unwrap(),
                p["event"]["event_action"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
                p["event"]["dedup_key"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

fn paging_env<'a>(sinks: &'a Value, snapshot: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("SNS_TOPIC_ARN", sinks["topic_arn"].as_str().unwrap()),
        ("DEDUP_TABLE", sinks["table"].as_str().unwrap()),
        (
            "PAGERDUTY_ROUTING_KEY_SECRET_ARN",
            sinks["pagerduty_secret_arn"].as_str().unwrap(),
        ),
        ("NETWORK_SNAPSHOT_FILE", snapshot),
    ]
}

#[test]
fn an_incident_pages_once_resolves_when_the_service_is_steady_and_reopens_on_the_next_failure() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = paging_sinks(&moto);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let snapshot = snapshot.to_str().unwrap();
    let events = [
        seed_task("first"),
        seed_task("second"),
        service_event("deployment-failed-circuit-breaker.json"),
        service_event("service-steady-state.json"),
        service_event("service-steady-state.json"),
        seed_task("third"),
    ];
    let paths: Vec<&std::path::Path> = events.iter().map(PathBuf::as_path).collect();
    let report = invoke(
        &moto.endpoint,
        &paging_env(&sinks, snapshot),
        &paths,
        &["--pagerduty-receiver"],
    );
    assert_eq!(
        outcomes(&report),
        [
            "sent",
            "suppressed",
            "skipped",
            "resolved",
            "skipped",
            "suppressed"
        ],
        "{report:#}"
    );
    assert_eq!(
        paged(&report),
        [
            (202, "trigger".into(), INCIDENT.into()),
            (202, "resolve".into(), INCIDENT.into()),
            (202, "trigger".into(), INCIDENT.into()),
        ],
        "one trigger, the resolve, and a new trigger after the recovery"
    );
    let bodies: Vec<&Value> = report["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["body"])
        .collect();
    assert_eq!(
        bodies[0]["sent_to"],
        serde_json::json!(["sns", "pagerduty"])
    );
    assert!(bodies[1].get("sent_to").is_none(), "{:#}", bodies[1]);
    assert!(
        bodies[2]["why"]
            .as_str()
            .unwrap()
            .contains("SERVICE_DEPLOYMENT_FAILED does not close an incident"),
        "{:#}",
        bodies[2]
    );
    assert_eq!(bodies[3]["incident"], INCIDENT);
    assert_eq!(bodies[3]["failed_tasks"], 2);
    assert!(bodies[4]["why"]
        .as_str()
        .unwrap()
        .starts_with("no open incident"));
    // Inside the alert's window SNS stays quiet, but the service failed again after it
    // recovered: that pages.
    assert_eq!(bodies[5]["sent_to"], serde_json::json!(["pagerduty"]));
    assert_eq!(published(&moto).len(), 1, "SNS got the first failure only");

    let trigger = &report["pagerduty"][0]["event"];
    assert_eq!(trigger["routing_key"], ROUTING_KEY);
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["class"], "S3_ROUTE_MISSING");
    assert_eq!(trigger["payload"]["component"], "prod/web");
    assert!(trigger["payload"]["custom_details"]["commands"][0]
        .as_str()
        .unwrap()
        .starts_with("aws ec2 modify-vpc-endpoint"));
    assert_eq!(
        trigger["links"][0]["href"],
        "https://ap-northeast-2.console.aws.amazon.com/ecs/v2/clusters/prod/services/web/health?region=ap-northeast-2"
    );
    let logs = report["logs"].to_string();
    assert!(!logs.contains(ROUTING_KEY), "the routing key reached a log");
    assert_eq!(
        log_decisions(&report),
        [
            "sent",
            "suppressed",
            "skipped",
            "resolved",
            "skipped",
            "suppressed"
        ]
    );
}

#[test]
fn a_failed_page_is_retried_alone_and_sns_is_not_published_again() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = paging_sinks(&moto);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let snapshot = snapshot.to_str().unwrap();
    let first = seed_task("first");
    // PagerDuty answers 500 three times: the invocation's own tries are spent, so it fails;
    // the asynchronous retry pages, and SNS is not published again.
    let report = invoke(
        &moto.endpoint,
        &paging_env(&sinks, snapshot),
        &[&first],
        &[
            "--pagerduty-receiver",
            "--pagerduty-fail",
            "3",
            "--retries",
            "2",
        ],
    );
    assert_eq!(
        outcomes(&report),
        ["error:SinkFailed", "sent"],
        "{report:#}"
    );
    let error = error_message(&report, 0);
    assert!(
        error.contains("pagerduty: events API answered HTTP 500")
            && error.contains("(delivered: sns)"),
        "{error}"
    );
    assert!(!error.contains(ROUTING_KEY));
    let statuses: Vec<u64> = paged(&report).iter().map(|(s, _, _)| *s).collect();
    assert_eq!(statuses, [500, 500, 500, 202]);
    assert_eq!(
        report["invocations"][1]["body"]["sent_to"],
        serde_json::json!(["pagerduty"])
    );
    assert_eq!(published(&moto).len(), 1);
}

#[test]
fn a_steady_service_without_paging_configured_reads_and_sends_nothing() {
    let _serial = common::one_at_a_time();
    let steady = service_event("service-steady-state.json");
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let report = invoke(
        // Nothing answers here: any AWS call would fail the invocation.
        "http://127.0.0.1:9",
        &[
            (
                "SNS_TOPIC_ARN",
                "arn:aws:sns:ap-northeast-2:123456789012:ecs-pull-doctor",
            ),
            ("NETWORK_SNAPSHOT_FILE", snapshot.to_str().unwrap()),
        ],
        &[&steady],
        &["--pagerduty-receiver"],
    );
    assert_eq!(outcomes(&report), ["skipped"], "{report:#}");
    assert!(paged(&report).is_empty());
}

#[test]
fn an_event_pagerduty_refuses_is_sent_once_and_its_reason_is_said() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    // A key of our accepted shape that the receiver, as PagerDuty, refuses (not 32 long).
    let refused_key = "0123456789abcdef0123456789abcdef01234567";
    let sinks = paging_sinks_with_key(&moto, refused_key);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let first = seed_task("first");
    let report = invoke(
        &moto.endpoint,
        &paging_env(&sinks, snapshot.to_str().unwrap()),
        &[&first],
        &["--pagerduty-receiver"],
    );
    assert_eq!(outcomes(&report), ["error:SinkFailed"], "{report:#}");
    let statuses: Vec<u64> = paged(&report).iter().map(|(s, _, _)| *s).collect();
    assert_eq!(
        statuses,
        [400],
        "a 400 is not tried again within the invocation"
    );
    let error = error_message(&report, 0);
    assert!(
        error.contains("HTTP 400: Event object is invalid ('routing_key' is invalid)"),
        "{error}"
    );
    assert!(!error.contains(refused_key), "{error}");
}

const BOT_TOKEN: &str = "xoxb-0000000000-1111111111-abcdefABCDEF";
const CHANNEL: &str = "C0INCIDENTS";

/// The seed failure with another cause (the image's tag is not in the registry).
fn image_not_found(name: &str) -> PathBuf {
    common::variant(&common::repo("events/s3-route-missing.json"), name, |e| {
        let reason = "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/web:2026.11.31: 111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/web:2026.11.31: not found";
        let arn = format!("arn:aws:ecs:ap-northeast-2:111122223333:task/prod/{name}");
        e["detail"]["taskArn"] = arn.clone().into();
        e["resources"] = serde_json::json!([arn]);
        e["detail"]["stoppedReason"] = reason.into();
        e["detail"]["containers"][0]["reason"] = reason.into();
    })
}

/// The topic, table, routing key and bot token in moto.
fn app_sinks(moto: &Moto) -> Value {
    fixture(
        moto,
        "lambda_sinks.py",
        &[
            "--pagerduty-key",
            ROUTING_KEY,
            "--slack-bot-token",
            BOT_TOKEN,
        ],
    )
}

fn app_env<'a>(sinks: &'a Value, snapshot: &'a str) -> Vec<(&'static str, &'a str)> {
    let mut env = paging_env(sinks, snapshot);
    env.push((
        "SLACK_BOT_TOKEN_SECRET_ARN",
        sinks["slack_bot_token_secret_arn"].as_str().unwrap(),
    ));
    env.push(("SLACK_CHANNEL_ID", CHANNEL));
    env
}

/// (method, status, thread_ts, reply_broadcast) of each Web API call.
fn slack_calls(report: &Value) -> Vec<(String, u64, Option<String>, bool)> {
    report["slack_api"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["method"].as_str().unwrap().to_string(),
                c["status"].as_u64().unwrap(),
                c["body"]["thread_ts"].as_str().map(str::to_string),
                c["body"]["reply_broadcast"] == true,
            )
        })
        .collect()
}

fn all_text(call: &Value) -> String {
    call["body"].to_string()
}

#[test]
fn a_slack_thread_follows_the_incident_from_its_parent_to_its_resolution() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = app_sinks(&moto);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let mut events = vec![seed_task("first")];
    events.extend((0..5).map(|i| seed_task(&format!("repeat-{i}"))));
    events.push(image_not_found("other-cause"));
    events.push(service_event("service-steady-state.json"));
    let paths: Vec<&std::path::Path> = events.iter().map(PathBuf::as_path).collect();
    let report = invoke(
        &moto.endpoint,
        &app_env(&sinks, snapshot.to_str().unwrap()),
        &paths,
        &["--pagerduty-receiver", "--slack-api-token", BOT_TOKEN],
    );
    assert_eq!(
        outcomes(&report),
        [
            "sent",
            "suppressed",
            "suppressed",
            "suppressed",
            "suppressed",
            "suppressed",
            "sent",
            "resolved"
        ],
        "{report:#}"
    );
    // The parent; five repeats inside a minute edit nothing; the new cause is a reply and
    // an edit; the resolution is a reply sent to the channel too and an edit. The receiver
    // answers `ok` only for a thread or an edit of a message it issued.
    let issued = slack_calls(&report);
    let methods: Vec<(&str, bool, bool)> = issued
        .iter()
        .map(|(m, _, thread, broadcast)| (m.as_str(), thread.is_some(), *broadcast))
        .collect();
    assert_eq!(
        methods,
        [
            ("chat.postMessage", false, false),
            ("chat.postMessage", true, false),
            ("chat.update", false, false),
            ("chat.postMessage", true, true),
            ("chat.update", false, false),
        ],
        "{:#}",
        report["slack_api"]
    );
    assert!(issued.iter().all(|(_, status, _, _)| *status == 200));
    assert!(report["slack_api"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["ok"] == true));
    let first = all_text(&report["slack_api"][0]);
    assert!(
        first.contains("🔴 *Open*") && first.contains("S3_ROUTE_MISSING"),
        "{first}"
    );
    let reply = all_text(&report["slack_api"][1]);
    assert!(reply.contains("IMAGE_NOT_FOUND"), "{reply}");
    let edited = all_text(&report["slack_api"][2]);
    assert!(
        edited.contains("7 failed tasks") && edited.contains("S3_ROUTE_MISSING, IMAGE_NOT_FOUND"),
        "{edited}"
    );
    let resolved = all_text(&report["slack_api"][4]);
    assert!(
        resolved.contains("✅ *Resolved* by SERVICE_STEADY_STATE")
            && resolved.contains("7 failed tasks"),
        "{resolved}"
    );
    assert!(
        resolved.contains("S3_ROUTE_MISSING"),
        "the resolved parent keeps the first diagnosis: {resolved}"
    );
    assert_eq!(
        paged(&report)
            .iter()
            .map(|(_, action, _)| action.as_str())
            .collect::<Vec<_>>(),
        ["trigger", "trigger", "resolve"]
    );
    assert_eq!(
        report["invocations"][7]["body"]["sent_to"],
        serde_json::json!(["pagerduty", "slack"])
    );
    assert!(!report["logs"].to_string().contains(BOT_TOKEN));
}

#[test]
fn a_storm_of_one_service_makes_one_parent_at_most_two_edits_and_one_page() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = app_sinks(&moto);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    const STORM: usize = 1000;
    let events: Vec<PathBuf> = (0..STORM)
        .map(|i| seed_task(&format!("storm-{i}")))
        .collect();
    let paths: Vec<&std::path::Path> = events.iter().map(PathBuf::as_path).collect();
    let report = invoke(
        &moto.endpoint,
        &app_env(&sinks, snapshot.to_str().unwrap()),
        &paths,
        &["--pagerduty-receiver", "--slack-api-token", BOT_TOKEN],
    );
    let outcomes = outcomes(&report);
    assert_eq!(outcomes.len(), STORM);
    assert_eq!(outcomes[0], "sent");
    assert!(
        outcomes[1..].iter().all(|o| o == "suppressed"),
        "{outcomes:?}"
    );
    let calls = slack_calls(&report);
    let posts = calls.iter().filter(|c| c.0 == "chat.postMessage").count();
    let edits = calls.iter().filter(|c| c.0 == "chat.update").count();
    eprintln!(
        "storm of {STORM}: {posts} chat.postMessage, {edits} chat.update, {} PagerDuty events",
        paged(&report).len()
    );
    assert_eq!(posts, 1, "one parent, no replies");
    assert!(edits <= 2, "{edits} edits");
    assert_eq!(paged(&report).len(), 1, "one page");
}

#[test]
fn slack_rate_limits_are_waited_out_and_a_failed_parent_is_posted_by_the_retry() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = app_sinks(&moto);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let first = seed_task("first");
    let report = invoke(
        &moto.endpoint,
        &app_env(&sinks, snapshot.to_str().unwrap()),
        &[&first],
        &[
            "--slack-api-token",
            BOT_TOKEN,
            "--slack-api-limit",
            "1",
            "--pagerduty-receiver",
        ],
    );
    assert_eq!(outcomes(&report), ["sent"], "{report:#}");
    let statuses: Vec<u64> = slack_calls(&report).iter().map(|c| c.1).collect();
    assert_eq!(statuses, [429, 200], "Retry-After: 1 was waited out once");

    let moto = Moto::start();
    let sinks = app_sinks(&moto);
    let report = invoke(
        &moto.endpoint,
        &app_env(&sinks, snapshot.to_str().unwrap()),
        &[&first],
        &[
            "--slack-api-token",
            BOT_TOKEN,
            "--slack-api-fail",
            "1",
            "--pagerduty-receiver",
            "--retries",
            "2",
        ],
    );
    assert_eq!(
        outcomes(&report),
        ["error:SinkFailed", "sent"],
        "{report:#}"
    );
    let error = error_message(&report, 0);
    assert!(
        error.contains("slack: chat.postMessage answered HTTP 500")
            && error.contains("delivered: sns, pagerduty"),
        "{error}"
    );
    let posts: Vec<u64> = slack_calls(&report).iter().map(|c| c.1).collect();
    assert_eq!(posts, [500, 200], "the retry posts the parent once");
    assert_eq!(paged(&report).len(), 1, "PagerDuty is not paged again");
    assert_eq!(published(&moto).len(), 1, "nor is SNS published again");
}
