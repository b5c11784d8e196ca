//! The real `bootstrap` against what an attacker can plant in an event (bidirectional
//! overrides, control characters, 100 KB fields, a crafted region) and a receiver that echoes
//! the webhook's token back: nothing hidden, oversized or secret reaches SNS (read back from
//! moto), Slack (the local receiver), the Runtime API's error or the logs.

mod common;

use common::emulator::{
    error_message, free_port, invoke, log_decisions, outcomes, published, sinks, slack_posts,
    webhook_url, WEBHOOK_TOKEN,
};
use common::moto::Moto;
use ecs_pull_doctor::render::sns::MAX_MESSAGE_BYTES;
use serde_json::Value;

fn seed_variant(name: &str, change: impl FnOnce(&mut Value)) -> std::path::PathBuf {
    common::variant(&common::repo("events/s3-route-missing.json"), name, change)
}

#[test]
fn planted_text_and_100_kb_fields_reach_sns_and_slack_clean_and_within_budget() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = sinks(&moto, None);
    let hostile = seed_variant("planted", common::plant_hostile_text);
    let crafted_region = seed_variant("crafted-region", |e| {
        e["region"] = "ap-northeast-2.evil.example/#|<!channel>".into();
    });
    let port = free_port();
    let url = webhook_url(port);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let report = invoke(
        &moto.endpoint,
        &[
            ("SNS_TOPIC_ARN", sinks["topic_arn"].as_str().unwrap()),
            ("SLACK_WEBHOOK_URL", &url),
            ("NETWORK_SNAPSHOT_FILE", snapshot.to_str().unwrap()),
        ],
        &[&hostile, &crafted_region],
        &["--slack-receiver", "--slack-port", &port.to_string()],
    );
    assert_eq!(
        outcomes(&report),
        ["sent", "error:MalformedEvent"],
        "{report:#}"
    );
    let refused = error_message(&report, 1);
    assert!(refused.contains("region is not a region name"), "{refused}");

    let notifications = published(&moto);
    assert_eq!(
        notifications.len(),
        1,
        "only the planted event is published"
    );
    let (subject, body, attributes) = &notifications[0];
    let attributes = attributes.as_object().unwrap();
    let size = subject.len()
        + body.len()
        + attributes
            .iter()
            .map(|(name, value)| name.len() + "String".len() + value.as_str().unwrap().len())
            .sum::<usize>();
    assert!(size <= MAX_MESSAGE_BYTES, "{size} bytes reached SNS");
    assert!(body.starts_with("✗ S3_ROUTE_MISSING"), "{:.200}", body);
    assert!(body.contains("[cut: "), "the cut is not said");
    assert!(
        !body.contains("\nforged line"),
        "a line was forged in the body"
    );
    let json: Value = serde_json::from_str(attributes["json"].as_str().unwrap()).unwrap();
    assert_eq!(json["findings"][0]["code"], "S3_ROUTE_MISSING");
    for (name, value) in attributes {
        let value = value.as_str().unwrap();
        assert!(
            !value.chars().any(common::hidden),
            "attribute {name}: {value:.200}"
        );
    }
    assert!(!subject.chars().any(common::hidden) && !body.chars().any(common::hidden));

    let posts = slack_posts(&report);
    assert_eq!(posts.len(), 1, "{posts:#?}");
    let slack = posts[0].1.to_string();
    assert!(
        !slack.contains("<!channel>"),
        "a live mention reached Slack"
    );
    let texts: Vec<String> = serde_json::from_str::<Value>(&slack)
        .map(|v| collect_strings(&v))
        .unwrap();
    for text in &texts {
        assert!(!text.chars().any(common::hidden), "Slack text: {text:.200}");
    }
    assert!(
        texts.iter().any(|t| t.contains("S3_ROUTE_MISSING")),
        "the finding is in the post"
    );
    assert_eq!(log_decisions(&report), ["sent", "failed"]);
}

fn collect_strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(collect_strings).collect(),
        Value::Object(map) => map.values().flat_map(collect_strings).collect(),
        _ => vec![],
    }
}

#[test]
fn a_receiver_that_echoes_the_webhook_url_never_gets_it_into_an_error_or_a_log() {
    let _serial = common::one_at_a_time();
    let port = free_port();
    let url = webhook_url(port);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let seed = common::repo("events/s3-route-missing.json");
    let report = invoke(
        // Offline: no AWS call is needed.
        "http://127.0.0.1:9",
        &[
            ("SLACK_WEBHOOK_URL", &url),
            ("NETWORK_SNAPSHOT_FILE", snapshot.to_str().unwrap()),
        ],
        &[&seed],
        &[
            "--slack-receiver",
            "--slack-port",
            &port.to_string(),
            "--slack-fail",
            "1",
            "--slack-echo",
        ],
    );
    assert_eq!(outcomes(&report), ["error:SinkFailed"], "{report:#}");
    let posts = report["slack"].as_array().unwrap();
    assert_eq!(posts.len(), 1);
    assert!(
        posts[0]["path"].as_str().unwrap().contains(WEBHOOK_TOKEN),
        "the receiver was posted to at the token's path, and echoed it"
    );
    let error = error_message(&report, 0);
    assert!(
        error.contains("webhook answered HTTP 500: a body of"),
        "{error}"
    );
    assert!(!error.contains(WEBHOOK_TOKEN), "{error}");
    // log_decisions fails on any log line that carries the token.
    assert_eq!(log_decisions(&report), ["failed"]);
}
