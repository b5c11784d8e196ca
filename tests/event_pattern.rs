//! The EventBridge pattern that will invoke the Lambda (`deploy/event-pattern.json`), tested
//! with EventBridge's semantics by routing real events through moto: a rule on the default
//! bus with an SQS target, `PutEvents` of each sample, then which arrived.
//!
//! moto does not flatten arrays of objects the way EventBridge does, so only the
//! `detail.stoppedReason` branch can be checked here; the `detail.containers.reason` branch
//! is for sidecar failures whose task reason is generic.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::moto::{fixture, Moto};
use serde_json::Value;

fn route(moto: &Moto, events: &[PathBuf]) -> HashMap<String, bool> {
    route_with(moto, "deploy/event-pattern.json", events)
}

fn route_with(moto: &Moto, pattern: &str, events: &[PathBuf]) -> HashMap<String, bool> {
    let mut args: Vec<std::ffi::OsString> = vec!["--pattern".into(), common::repo(pattern).into()];
    args.extend(events.iter().map(|e| e.clone().into_os_string()));
    serde_json::from_value(fixture(moto, "eventbridge_route.py", &args)).unwrap()
}

/// An ordinary stop made from the bundled one, with another reason and stop code.
fn ordinary_stop(name: &str, reason: &str, stop_code: &str) -> PathBuf {
    let mut event: Value =
        serde_json::from_str(&common::read("events/essential-container-exited.json")).unwrap();
    event["detail"]["stoppedReason"] = reason.into();
    event["detail"]["stopCode"] = stop_code.into();
    let dir = std::env::temp_dir().join(format!("ecs-pull-doctor-pattern-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, event.to_string()).unwrap();
    path
}

#[test]
fn pull_and_init_failures_match_and_ordinary_stops_do_not() {
    let moto = Moto::start();
    let mut events: Vec<PathBuf> = Vec::new();
    for dir in ["events", "tests/fixtures/public-events"] {
        for entry in std::fs::read_dir(common::repo(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                events.push(path);
            }
        }
    }
    events.push(ordinary_stop(
        "scaling",
        "Scaling activity initiated by (deployment ecs-svc/4823316720584902331)",
        "ServiceSchedulerInitiated",
    ));
    events.push(ordinary_stop(
        "user-stop",
        "Task stopped by user",
        "UserInitiated",
    ));
    events.push(ordinary_stop(
        "health-check",
        "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:ap-northeast-2:111122223333:targetgroup/web/0123456789abcdef)",
        "ServiceSchedulerInitiated",
    ));
    events.push(ordinary_stop(
        "manifest-error",
        "CannotPullImageManifestError: Error response from daemon: manifest unknown: manifest unknown",
        "TaskFailedToStart",
    ));

    events.push(ordinary_stop(
        "ec2-ecr-auth",
        "CannotPullECRContainerError: RequestError: send request failed caused by: Post https://api.ecr.ap-northeast-2.amazonaws.com/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)",
        "TaskFailedToStart",
    ));

    let delivered = route(&moto, &events);
    assert_eq!(delivered.len(), events.len());
    let mut wrong = Vec::new();
    for path in &events {
        let text = std::fs::read_to_string(path).unwrap();
        let event: Value = serde_json::from_str(&text).unwrap();
        let reason = event["detail"]["stoppedReason"].as_str().unwrap_or("");
        let stopped = event["detail"]["lastStatus"] == "STOPPED";
        let expected = stopped
            && [
                "CannotPullContainerError",
                "CannotPullECRContainerError",
                "CannotPullImageManifestError",
                "ResourceInitializationError",
            ]
            .iter()
            .any(|marker| reason.contains(marker));
        let got = delivered[path.to_str().unwrap()];
        if got != expected {
            wrong.push(format!(
                "{}: delivered {got}, expected {expected}",
                path.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Twenty-two bundled pull failures, the public synthetic one, the manifest error and the
    // EC2 agent's ECR error match.
    assert_eq!(delivered.values().filter(|d| **d).count(), 25);
}

#[test]
fn only_a_deployments_outcome_or_a_steady_service_reaches_the_recovery_rule() {
    let moto = Moto::start();
    let dir = common::repo("tests/fixtures/service-events");
    let mut events: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    events.sort();
    events.push(common::repo("events/s3-route-missing.json"));
    let delivered = route_with(&moto, "deploy/recovery-pattern.json", &events);
    let mut matched: Vec<String> = events
        .iter()
        .filter(|p| delivered[p.to_str().unwrap()])
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    matched.sort();
    assert_eq!(
        matched,
        [
            "deployment-completed.json",
            "deployment-failed-circuit-breaker.json",
            "deployment-in-progress.json",
            "deployment-rolling-back.json",
            "service-steady-state.json",
            "service-task-start-impaired.json"
        ]
    );
}
