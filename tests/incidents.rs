//! Incidents paged to PagerDuty, end to end: the real `bootstrap` behind the Runtime API
//! emulator, moto as SNS, DynamoDB (the dedup table, where incidents are kept) and Secrets
//! Manager (the routing key), and the emulator's stand-in for PagerDuty's Events API v2
//! (`--pagerduty-receiver`), which refuses what PagerDuty refuses.

mod common;

use std::path::PathBuf;

use common::emulator::{invoke, log_decisions, published};
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

fn outcomes(report: &Value) -> Vec<String> {
    report["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| match i["outcome"].as_str().unwrap() {
            "response" => i["body"]["status"].as_str().unwrap_or("?").to_string(),
            "error" => format!("error:{}", i["body"]["errorType"].as_str().unwrap_or("?")),
            other => other.to_string(),
        })
        .collect()
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
    let error = report["invocations"][0]["body"]["errorMessage"]
        .as_str()
        .unwrap();
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
    let error = report["invocations"][0]["body"]["errorMessage"]
        .as_str()
        .unwrap();
    assert!(
        error.contains("HTTP 400: Event object is invalid ('routing_key' is invalid)"),
        "{error}"
    );
    assert!(!error.contains(refused_key), "{error}");
}
