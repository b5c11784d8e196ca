//! The Lambda under test: the real `bootstrap` behind `scripts/lambda_emulator.py` (a local
//! Runtime API), with what it delivers read back from moto and the local Slack receiver.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::moto::{aws_environment, fixture, Moto};

/// The path part of the receiver's URL: a webhook token that must never be logged.
pub const WEBHOOK_TOKEN: &str = "local-receiver-secret-token";

const CONFIG_VARIABLES: &[&str] = &[
    "SNS_TOPIC_ARN",
    "SLACK_WEBHOOK_SECRET_ARN",
    "SLACK_WEBHOOK_URL",
    "DIAGNOSIS_LANG",
    "DEDUP_TABLE",
    "DEDUP_WINDOW_MINUTES",
    "NETWORK_SNAPSHOT_FILE",
    "RUST_LOG",
    "AWS_LAMBDA_LOG_LEVEL",
    "GATE_FAIL_CLOSED",
    "MEMBER_ROLE_NAME",
    "ALLOWED_ACCOUNTS",
    "MEMBER_ROLE_EXTERNAL_ID",
    "ACCOUNT_NAMES",
    "ORGANIZATION_ID",
    "SWEEP_QUEUE_URL",
    "SWEEP_REGIONS",
    "SWEEP_OUS",
];

/// Runs the events through `bootstrap` with `vars` set; the emulator's JSON report.
pub fn invoke(endpoint: &str, vars: &[(&str, &str)], events: &[&Path], options: &[&str]) -> Value {
    report(emulator(endpoint, vars, events, options).output().unwrap())
}

/// The emulator's JSON report from its output.
pub fn report(out: std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the emulator's report is not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The emulator's command line for the events, `bootstrap` with `vars` set (spawn it to run
/// two side by side).
pub fn emulator(
    endpoint: &str,
    vars: &[(&str, &str)],
    events: &[&Path],
    options: &[&str],
) -> Command {
    let mut command = Command::new("python3");
    command
        .arg(super::repo("scripts/lambda_emulator.py"))
        .args(["--bootstrap", env!("CARGO_BIN_EXE_bootstrap"), "--json"])
        .args(["--timeout", "90"])
        .args(options);
    for event in events {
        command.arg("--event").arg(event);
    }
    function_environment(&mut command, endpoint, vars);
    command
}

/// The function's environment: moto's endpoint, no configuration but `vars`, the excerpt.
fn function_environment(command: &mut Command, endpoint: &str, vars: &[(&str, &str)]) {
    aws_environment(command, endpoint);
    for variable in CONFIG_VARIABLES {
        command.env_remove(variable);
    }
    command.env("IP_RANGES_FILE", super::ip_ranges_path());
    for (name, value) in vars {
        command.env(name, value);
    }
}

/// `tests/fixtures/sqs_poller.py` playing the event source mapping of `queue_url` for the
/// real `bootstrap`, with the same environment as [`emulator`]; its JSON report.
pub fn poll(endpoint: &str, vars: &[(&str, &str)], queue_url: &str, workers: usize) -> Value {
    let mut command = Command::new("python3");
    command
        .arg(super::repo("tests/fixtures/sqs_poller.py"))
        .args(["--endpoint", endpoint, "--queue-url", queue_url])
        .args(["--bootstrap", env!("CARGO_BIN_EXE_bootstrap")])
        .args(["--workers", &workers.to_string()]);
    function_environment(&mut command, endpoint, vars);
    report(command.output().unwrap())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

pub fn webhook_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/services/T00000000/B00000000/{WEBHOOK_TOKEN}")
}

/// The SNS topic, dedup table and webhook secret (`tests/fixtures/lambda_sinks.py`).
pub fn sinks(moto: &Moto, slack_url: Option<&str>) -> Value {
    let args = match slack_url {
        Some(url) => vec!["--slack-url", url, "--secret-format", "json"],
        None => vec![],
    };
    fixture(moto, "lambda_sinks.py", &args)
}

/// Each invocation's answer (the response, or the error body), in order.
pub fn response_bodies(report: &Value) -> Vec<Value> {
    report["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["body"].clone())
        .collect()
}

/// Every SNS publish moto received: (subject, message, attributes name → value).
pub fn published(moto: &Moto) -> Vec<(String, String, Value)> {
    let data = super::moto::data(moto);
    let mut notifications = Vec::new();
    for topic in data["sns"]["Topic"].as_array().into_iter().flatten() {
        for sent in topic["sent_notifications"].as_array().into_iter().flatten() {
            // [message_id, message, subject, message_attributes, group_id]
            let attributes: serde_json::Map<String, Value> = sent[3]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, value)| {
                    let text = value["StringValue"]
                        .as_str()
                        .or(value["Value"].as_str())
                        .unwrap_or_default();
                    (name.clone(), Value::String(text.to_string()))
                })
                .collect();
            notifications.push((
                sent[2].as_str().unwrap_or_default().to_string(),
                sent[1].as_str().unwrap_or_default().to_string(),
                Value::Object(attributes),
            ));
        }
    }
    notifications
}

pub fn slack_posts(report: &Value) -> Vec<(u64, Value)> {
    report["slack"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["status"].as_u64().unwrap(), p["body"].clone()))
        .collect()
}

/// Every log line is a JSON object and none carries the webhook token.
pub fn log_decisions(report: &Value) -> Vec<String> {
    let mut decisions = Vec::new();
    for line in report["logs"].as_array().unwrap() {
        let line = line.as_str().unwrap();
        assert!(
            !line.contains(WEBHOOK_TOKEN),
            "a log line carries the webhook URL: {line}"
        );
        let value: Value = serde_json::from_str(line)
            .unwrap_or_else(|_| panic!("a log line that is not JSON: {line}"));
        if let Some(decision) = value["decision"].as_str() {
            decisions.push(decision.to_string());
        }
    }
    decisions
}

/// Each invocation's result: the response's `status`, or `error:<errorType>`, or what the
/// emulator saw instead (a timeout, with why).
pub fn outcomes(report: &Value) -> Vec<String> {
    report["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| match i["outcome"].as_str().unwrap() {
            "response" => i["body"]["status"].as_str().unwrap_or("?").to_string(),
            "error" => format!("error:{}", i["body"]["errorType"].as_str().unwrap_or("?")),
            other => format!("{other}: {}", i["why"]),
        })
        .collect()
}

/// The `errorMessage` invocation `i` failed with.
pub fn error_message(report: &Value, i: usize) -> &str {
    report["invocations"][i]["body"]["errorMessage"]
        .as_str()
        .unwrap_or_else(|| panic!("invocation {i} did not fail: {report:#}"))
}
