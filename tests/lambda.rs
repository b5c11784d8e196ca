//! The Lambda end to end: the real `bootstrap` binary, driven by `scripts/lambda_emulator.py`
//! (a local Lambda Runtime API, with asynchronous-invoke retries), moto's server as EC2, ECS,
//! SNS, DynamoDB and Secrets Manager, and the emulator's local HTTP receiver as the Slack
//! webhook. What arrived is read back from moto (`/moto-api/data.json`) and the receiver.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::emulator::{
    free_port, invoke, log_decisions, outcomes, published, sinks, slack_posts, webhook_url,
    WEBHOOK_TOKEN,
};
use common::moto::{build_scenario, event_for, FaultProxy, Moto};
use common::variant;
use serde_json::Value;

fn another_task(event: &Path, name: &str) -> PathBuf {
    variant(event, name, |e| {
        let arn = format!(
            "arn:aws:ecs:ap-northeast-2:{}:task/prod/{name}",
            e["account"].as_str().unwrap()
        );
        e["detail"]["taskArn"] = arn.clone().into();
        e["resources"] = serde_json::json!([arn]);
    })
}

#[test]
fn a_live_diagnosis_reaches_sns_and_slack_once_and_repeats_are_counted() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = build_scenario(&moto, "s3-route-missing");
    let port = free_port();
    let sinks = sinks(&moto, Some(&webhook_url(port)));
    let first = event_for("s3-route-missing", &built);
    let second = another_task(&first, "second-task");
    let report = invoke(
        &moto.endpoint,
        &[
            ("SNS_TOPIC_ARN", sinks["topic_arn"].as_str().unwrap()),
            (
                "SLACK_WEBHOOK_SECRET_ARN",
                sinks["secret_arn"].as_str().unwrap(),
            ),
            ("DEDUP_TABLE", sinks["table"].as_str().unwrap()),
        ],
        // The first task, a second task of the same service, the first task's event again.
        &[&first, &second, &first],
        &["--slack-receiver", "--slack-port", &port.to_string()],
    );
    assert_eq!(
        outcomes(&report),
        ["sent", "suppressed", "sent"],
        "{report:#}"
    );
    let bodies: Vec<&Value> = report["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["body"])
        .collect();
    assert_eq!(
        bodies[0]["findings"][0], "S3_ROUTE_MISSING",
        "{:#}",
        bodies[0]
    );
    assert_eq!(bodies[0]["sent_to"], serde_json::json!(["sns", "slack"]));
    assert_eq!(bodies[1]["repeats"], 1, "{:#}", bodies[1]);
    assert_eq!(bodies[1]["first_task"], first_task_arn(&first));
    assert_eq!(
        bodies[2]["sent_to"],
        serde_json::json!([]),
        "{:#}",
        bodies[2]
    );
    assert_eq!(
        bodies[2]["already_sent"],
        serde_json::json!(["sns", "slack"])
    );

    let notifications = published(&moto);
    assert_eq!(notifications.len(), 1, "{notifications:#?}");
    let (subject, message, attributes) = &notifications[0];
    assert_eq!(
        subject, "ECS pull failure: S3_ROUTE_MISSING in prod/web (web)",
        "{subject}"
    );
    assert_eq!(attributes["finding"], "S3_ROUTE_MISSING");
    assert_eq!(attributes["cluster"], "prod");
    assert_eq!(attributes["service"], "web");
    assert_eq!(attributes["severity"], "critical");
    let json: Value = serde_json::from_str(attributes["json"].as_str().unwrap()).unwrap();
    assert_eq!(json["findings"][0]["code"], "S3_ROUTE_MISSING", "{json:#}");
    assert!(message.contains("modify-vpc-endpoint"), "{message}");
    assert!(
        message.contains("aws dynamodb get-item --table-name ecs-pull-doctor-dedup"),
        "the first post says how to find repeats: {message}"
    );

    let posts = slack_posts(&report);
    assert_eq!(posts.len(), 1, "{posts:#?}");
    let (status, body) = &posts[0];
    assert_eq!(*status, 200);
    assert!(
        body["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("S3_ROUTE_MISSING"),
        "{body:#}"
    );
    let text = body.to_string();
    assert!(
        text.contains(built["route_tables"]["priv-c"].as_str().unwrap()),
        "the console link names the task's route table: {text}"
    );
    assert!(text.contains("aws dynamodb get-item"), "{text}");
    assert_eq!(log_decisions(&report), ["sent", "suppressed", "sent"]);
}

fn first_task_arn(event: &Path) -> Value {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(event).unwrap()).unwrap();
    value["detail"]["taskArn"].clone()
}

#[test]
fn a_failed_slack_post_fails_the_invocation_and_the_retry_does_not_republish() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = build_scenario(&moto, "s3-route-missing");
    let port = free_port();
    let sinks = sinks(&moto, None);
    let event = event_for("s3-route-missing", &built);
    let url = webhook_url(port);
    let report = invoke(
        &moto.endpoint,
        &[
            ("SNS_TOPIC_ARN", sinks["topic_arn"].as_str().unwrap()),
            ("SLACK_WEBHOOK_URL", &url),
            ("DEDUP_TABLE", sinks["table"].as_str().unwrap()),
        ],
        &[&event],
        &[
            "--slack-receiver",
            "--slack-port",
            &port.to_string(),
            "--slack-fail",
            "1",
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
        error.contains("slack: webhook answered HTTP 500") && error.contains("(delivered: sns)"),
        "{error}"
    );
    assert!(!error.contains(WEBHOOK_TOKEN), "{error}");
    let retry = &report["invocations"][1]["body"];
    assert_eq!(retry["sent_to"], serde_json::json!(["slack"]), "{retry:#}");
    assert_eq!(retry["already_sent"], serde_json::json!(["sns"]));
    assert_eq!(
        published(&moto).len(),
        1,
        "the retry published to SNS again"
    );
    let statuses: Vec<u64> = slack_posts(&report).iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [500, 200]);
    assert_eq!(log_decisions(&report), ["failed", "sent"]);
}

#[test]
fn bad_and_ordinary_events_send_nothing_and_untrusted_text_arrives_escaped() {
    let _serial = common::one_at_a_time();
    // Offline: the recorded snapshot instead of EC2, only the Slack receiver as a sink.
    let seed = common::repo("events/s3-route-missing.json");
    let malformed = variant(&seed, "malformed", |e| e["detail"] = "not a task".into());
    let not_ecs = variant(&seed, "not-ecs", |e| e["source"] = "aws.ec2".into());
    let not_json = std::env::temp_dir().join(format!(
        "ecs-pull-doctor-not-json-{}.json",
        std::process::id()
    ));
    std::fs::write(&not_json, "{\"detail-type\": \"ECS Task State Change\", ").unwrap();
    let hostile = variant(&seed, "hostile", |e| {
        let image = "evil.example/<!channel>&<https://phish.example|ECR>";
        e["detail"]["containers"][0]["image"] = image.into();
        let reason = format!(
            "{} <!here> ```x``` <https://phish.example|click>",
            e["detail"]["containers"][0]["reason"].as_str().unwrap()
        );
        e["detail"]["containers"][0]["reason"] = reason.clone().into();
        e["detail"]["stoppedReason"] = reason.into();
    });
    let ordinary = common::repo("events/essential-container-exited.json");
    let port = free_port();
    let url = webhook_url(port);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let report = invoke(
        // Nothing answers here: no AWS call may be needed.
        "http://127.0.0.1:9",
        &[
            ("SLACK_WEBHOOK_URL", &url),
            ("NETWORK_SNAPSHOT_FILE", snapshot.to_str().unwrap()),
            ("DIAGNOSIS_LANG", "ko"),
        ],
        // Without a dedup table every pull failure notifies: the hostile event twice.
        &[
            &malformed, &not_ecs, &ordinary, &hostile, &hostile, &not_json,
        ],
        &["--slack-receiver", "--slack-port", &port.to_string()],
    );
    std::fs::remove_file(&not_json).unwrap();
    assert_eq!(
        outcomes(&report),
        [
            "error:MalformedEvent",
            "error:MalformedEvent",
            "skipped",
            "sent",
            "sent",
            "error:MalformedEvent"
        ],
        "{report:#}"
    );
    let not_ecs_error = report["invocations"][1]["body"]["errorMessage"]
        .as_str()
        .unwrap();
    assert!(not_ecs_error.contains("aws.ec2"), "{not_ecs_error}");
    let not_json_error = report["invocations"][5]["body"]["errorMessage"]
        .as_str()
        .unwrap();
    assert!(not_json_error.contains("not JSON"), "{not_json_error}");
    assert!(report["invocations"][2]["body"]["why"]
        .as_str()
        .unwrap()
        .contains("EssentialContainerExited"));

    let posts = slack_posts(&report);
    assert_eq!(
        posts.len(),
        2,
        "only the pull failures are posted: {posts:#?}"
    );
    let body = posts[0].1.to_string();
    for raw in ["<!channel>", "<!here>", "<https://phish"] {
        assert!(!body.contains(raw), "{raw} reached Slack unescaped: {body}");
    }
    assert!(body.contains("&lt;!channel&gt;"), "{body}");
    // The command line's advice is the command line's: a Slack reader cannot pass a flag.
    for advice in ["--network", "--live", "make ip-ranges"] {
        assert!(!body.contains(advice), "{advice} reached Slack: {body}");
    }
    assert!(body.contains("&lt;!here&gt;"), "{body}");
    assert!(body.contains("클러스터"), "DIAGNOSIS_LANG=ko: {body}");
    let decisions = log_decisions(&report);
    assert_eq!(decisions, ["failed", "failed", "skipped", "sent", "sent"]);
}

#[test]
fn inspection_failures_and_an_unusable_dedup_table_lose_nothing() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = build_scenario(&moto, "s3-route-missing");
    let sinks = sinks(&moto, None);
    let event = event_for("s3-route-missing", &built);
    let topic = sinks["topic_arn"].as_str().unwrap();

    // Throttled: worth retrying, so the invocation fails and nothing is sent yet.
    let throttled = FaultProxy::start(&moto.endpoint, &["--throttle", "DescribeSubnets"]);
    let report = invoke(
        &throttled.endpoint,
        &[("SNS_TOPIC_ARN", topic)],
        &[&event],
        &[],
    );
    assert_eq!(outcomes(&report), ["error:InspectionFailed"], "{report:#}");
    assert!(report["invocations"][0]["body"]["errorMessage"]
        .as_str()
        .unwrap()
        .contains("RequestLimitExceeded"));
    assert_eq!(published(&moto).len(), 0);

    // Denied: retrying will not help, so what the message alone shows is sent, and the
    // missing permission is named.
    let denied = FaultProxy::start(&moto.endpoint, &["--deny", "DescribeSubnets"]);
    let report = invoke(
        &denied.endpoint,
        &[("SNS_TOPIC_ARN", topic)],
        &[&event],
        &[],
    );
    assert_eq!(outcomes(&report), ["sent"], "{report:#}");
    let not_inspected = report["invocations"][0]["body"]["not_inspected"].to_string();
    assert!(
        not_inspected.contains("ec2:DescribeSubnets")
            && not_inspected.contains("UnauthorizedOperation"),
        "{not_inspected}"
    );
    let notifications = published(&moto);
    assert_eq!(notifications.len(), 1);
    assert_eq!(notifications[0].2["finding"], "INSPECTION_INCOMPLETE");

    // A dedup table that does not exist: the alert still goes out, unsuppressed, twice.
    let report = invoke(
        &moto.endpoint,
        &[("SNS_TOPIC_ARN", topic), ("DEDUP_TABLE", "no-such-table")],
        &[&event, &another_task(&event, "other")],
        &[],
    );
    assert_eq!(outcomes(&report), ["sent", "sent"], "{report:#}");
    assert!(report["invocations"][0]["body"]["dedup_error"]
        .as_str()
        .unwrap()
        .contains("ResourceNotFoundException"));
    assert_eq!(published(&moto).len(), 3);

    // Bad configuration stops the cold start with the variable named.
    let report = invoke(
        &moto.endpoint,
        &[("SNS_TOPIC_ARN", topic), ("DEDUP_WINDOW_MINUTES", "30")],
        &[&event],
        &[],
    );
    assert_eq!(report["init_error"]["errorType"], "InvalidConfiguration");
    assert!(report["init_error"]["errorMessage"]
        .as_str()
        .unwrap()
        .starts_with("DEDUP_WINDOW_MINUTES"));
    let report = invoke(
        &moto.endpoint,
        &[
            ("SNS_TOPIC_ARN", topic),
            ("IP_RANGES_FILE", "/nonexistent/ip-ranges.json"),
        ],
        &[&event],
        &[],
    );
    assert_eq!(
        report["init_error"]["errorMessage"],
        "IP_RANGES_FILE: /nonexistent/ip-ranges.json does not exist or is not a file"
    );
    let missing_secret = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:absent-AbCdEf";
    let report = invoke(
        &moto.endpoint,
        &[("SLACK_WEBHOOK_SECRET_ARN", missing_secret)],
        &[&event],
        &[],
    );
    // The secret is read on the first post, not at start-up: the start succeeds, and the
    // post fails naming the variable and AWS's code (retried by Lambda like any failed sink).
    assert!(report["init_error"].is_null(), "{report:#}");
    let answer = &report["invocations"][0];
    assert_eq!(answer["outcome"], "error", "{answer:#}");
    assert_eq!(answer["body"]["errorType"], "SinkFailed");
    assert_eq!(
        answer["body"]["errorMessage"],
        "delivery failed: slack: SLACK_WEBHOOK_SECRET_ARN: secretsmanager:GetSecretValue failed (ResourceNotFoundException)"
    );
    assert_eq!(published(&moto).len(), 3);
}

#[test]
fn outside_lambda_bootstrap_says_so_and_exits() {
    let out = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/T/B/x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let logs = String::from_utf8_lossy(&out.stdout);
    assert!(logs.contains("AWS_LAMBDA_RUNTIME_API is not set"), "{logs}");
}

/// Every message waiting in an SQS queue, read through the API.
fn queued(moto: &Moto, queue_url: &str) -> Vec<Value> {
    let out = Command::new("python3")
        .arg(common::repo("tests/fixtures/lambda_sinks.py"))
        .args(["--endpoint", &moto.endpoint, "--receive", queue_url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_malformed_event_goes_to_the_failure_queue_at_once_and_a_bad_queue_falls_back_to_retries() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = sinks(&moto, None);
    let queue = sinks["failure_queue_url"].as_str().unwrap();
    let seed = common::repo("events/s3-route-missing.json");
    let malformed = variant(&seed, "malformed-to-queue", |e| {
        e["detail"] = "not a task".into()
    });
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let vars = [
        ("SNS_TOPIC_ARN", sinks["topic_arn"].as_str().unwrap()),
        ("NETWORK_SNAPSHOT_FILE", snapshot.to_str().unwrap()),
        ("FAILURE_QUEUE_URL", queue),
    ];
    // Asynchronous invokes retry twice; a malformed event must not wait for them.
    let report = invoke(&moto.endpoint, &vars, &[&malformed], &["--retries", "2"]);
    assert_eq!(outcomes(&report), ["rejected"], "{report:#}");
    assert_eq!(
        report["invocations"][0]["body"]["error_type"],
        "MalformedEvent"
    );
    let messages = queued(&moto, queue);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["requestPayload"]["detail"], "not a task");
    assert_eq!(
        messages[0]["responsePayload"]["errorType"],
        "MalformedEvent"
    );
    assert_eq!(messages[0]["requestContext"]["condition"], "NotRetryable");
    assert!(
        published(&moto).is_empty(),
        "nothing is published for a malformed event"
    );

    // A queue that does not take it: the invocation fails as before, and is retried.
    let missing = format!("{}/123456789012/no-such-queue", moto.endpoint);
    let vars = [
        ("SNS_TOPIC_ARN", sinks["topic_arn"].as_str().unwrap()),
        ("NETWORK_SNAPSHOT_FILE", snapshot.to_str().unwrap()),
        ("FAILURE_QUEUE_URL", missing.as_str()),
    ];
    let report = invoke(&moto.endpoint, &vars, &[&malformed], &["--retries", "2"]);
    assert_eq!(
        outcomes(&report),
        [
            "error:MalformedEvent",
            "error:MalformedEvent",
            "error:MalformedEvent"
        ],
        "{report:#}"
    );
}
