//! The SNS and Slack shapes of every sample's diagnosis: within AWS's and Slack's limits,
//! filterable, linked to the console, and safe against text planted in the event.

mod common;

use ecs_pull_doctor::diagnose::{diagnose, Diagnosis};
use ecs_pull_doctor::event::{parse_task_event, TaskEvent};
use ecs_pull_doctor::localized::Lang;
use ecs_pull_doctor::render::slack::{
    console_link, slack_payload, FIELD_MAX, HEADER_MAX, SECTION_MAX,
};
use ecs_pull_doctor::render::sns::{sns_message, MAX_MESSAGE_BYTES, MAX_SUBJECT};
use serde_json::Value;

const SAMPLES: &[&str] = &[
    "s3-route-missing",
    "healthy-subnet",
    "no-s3-endpoint-no-nat",
    "nat-route-blackhole",
    "nat-gateway-failed",
    "ecr-api-endpoint-missing",
    "endpoint-sg-blocks-task",
    "nacl-blocks-https",
    "public-subnet-no-public-ip",
    "main-route-table",
    "image-not-found",
    "dockerhub-rate-limit",
];

fn run(name: &str) -> Diagnosis {
    diagnose(
        &common::sample_task(name),
        Some(&common::sample_network(name)),
        None,
    )
}

fn texts(block: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(t) = block["text"]["text"].as_str() {
        out.push(t.to_string());
    }
    for f in block["fields"].as_array().into_iter().flatten() {
        out.push(f["text"].as_str().unwrap().to_string());
    }
    for e in block["elements"].as_array().into_iter().flatten() {
        out.push(e["text"].as_str().unwrap().to_string());
    }
    out
}

#[test]
fn sns_messages_fit_aws_rules_and_carry_filterable_attributes() {
    for name in SAMPLES {
        let d = run(name);
        for lang in [Lang::En, Lang::Ko] {
            let m = sns_message(&d, lang);
            assert!(m.subject.len() <= MAX_SUBJECT, "{name}: {}", m.subject);
            assert!(
                m.subject.chars().all(|c| c.is_ascii_graphic() || c == ' '),
                "{name}: {:?}",
                m.subject
            );
            assert!(
                m.subject.contains(d.verdict().as_str()),
                "{name}: {}",
                m.subject
            );
            let attrs: std::collections::HashMap<_, _> = m.attributes.iter().cloned().collect();
            assert_eq!(attrs["finding"], d.verdict().as_str());
            assert_eq!(attrs["cluster"], "prod");
            assert_eq!(attrs["service"], "web");
            assert!(["critical", "warning", "info"].contains(&attrs["severity"].as_str()));
            assert!(
                m.body.starts_with(&format!("✗ {}", d.verdict()))
                    || m.body.starts_with(&format!("✓ {}", d.verdict()))
            );
            let json: Value = serde_json::from_str(&m.json).unwrap();
            assert_eq!(json["findings"][0]["code"], d.verdict().as_str());
        }
    }
}

#[test]
fn slack_payloads_stay_within_block_kit_limits() {
    for name in SAMPLES {
        let d = run(name);
        for lang in [Lang::En, Lang::Ko] {
            let p = slack_payload(
                &d,
                lang,
                Some("Repeats of this alert are counted in DynamoDB"),
            );
            let blocks = p["blocks"].as_array().unwrap();
            assert!(blocks.len() <= 50);
            assert_eq!(blocks[0]["type"], "header");
            let header = blocks[0]["text"]["text"].as_str().unwrap();
            assert!(header.chars().count() <= HEADER_MAX && header.contains(d.verdict().as_str()));
            for block in blocks {
                if let Some(fields) = block["fields"].as_array() {
                    assert!(fields.len() <= 10);
                    for f in fields {
                        assert!(f["text"].as_str().unwrap().chars().count() <= FIELD_MAX);
                    }
                }
                if let Some(t) = block["text"]["text"].as_str() {
                    assert!(t.chars().count() <= SECTION_MAX, "{name}");
                    assert_eq!(
                        t.matches("```").count() % 2,
                        0,
                        "{name}: unbalanced code block"
                    );
                }
                if let Some(elements) = block["elements"].as_array() {
                    assert!(elements.len() <= 10);
                }
            }
            assert!(p["text"].as_str().unwrap().contains(d.verdict().as_str()));
        }
    }
}

#[test]
fn seed_alert_links_to_the_route_table_and_shows_the_fix_as_code() {
    let d = run("s3-route-missing");
    let p = slack_payload(&d, Lang::En, None);
    let all: Vec<String> = p["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(texts)
        .collect();
    let all = all.join("\n");
    assert!(all.contains("<https://ap-northeast-2.console.aws.amazon.com/vpcconsole/home?region=ap-northeast-2#RouteTableDetails:RouteTableId=rtb-0c3e5a7b9d1f24680|Open in the AWS console>"), "{all}");
    assert!(all.contains("```aws ec2 modify-vpc-endpoint --region ap-northeast-2 --vpc-endpoint-id vpce-04e8c1a2b3d5f6a79 --add-route-table-ids rtb-0c3e5a7b9d1f24680```"), "{all}");
    assert!(all.contains("52.219.204.42 (S3 ap-northeast-2)"), "{all}");
}

#[test]
fn text_planted_in_the_event_cannot_ping_or_forge_links() {
    let event = common::read("events/image-not-found.json").replace(
        "web:2026.11.31-deadbee",
        "web:<!channel>&<https://evil.example|click>",
    );
    let TaskEvent::PullFailure(task) = parse_task_event(&event).unwrap() else {
        panic!("still a pull failure")
    };
    let d = diagnose(
        &task,
        Some(&common::sample_network("image-not-found")),
        None,
    );
    let payload = slack_payload(&d, Lang::En, None).to_string();
    assert!(!payload.contains("<!channel>"), "{payload}");
    assert!(!payload.contains("<https://evil.example"), "{payload}");
    assert!(
        payload.contains("&lt;!channel&gt;&amp;&lt;https://evil.example|click&gt;"),
        "{payload}"
    );
}

#[test]
fn a_region_that_is_not_a_regions_shape_builds_no_link() {
    let mut d = run("s3-route-missing");
    d.task.region = Some("ap-northeast-2.evil.example/#|<!channel>".into());
    assert_eq!(console_link(&d), None);
    let payload = slack_payload(&d, Lang::En, None).to_string();
    assert!(!payload.contains("evil.example"), "{payload}");
    assert!(!payload.contains("<!channel>"), "{payload}");
}

/// The seed sample's diagnosis, of an event with hostile text planted in it.
fn hostile_diagnosis() -> Diagnosis {
    let mut event: Value =
        serde_json::from_str(&common::read("events/s3-route-missing.json")).unwrap();
    common::plant_hostile_text(&mut event);
    let TaskEvent::PullFailure(task) = parse_task_event(&event.to_string()).unwrap() else {
        panic!("still a pull failure")
    };
    diagnose(
        &task,
        Some(&common::sample_network("s3-route-missing")),
        None,
    )
}

#[test]
fn bidi_controls_escapes_and_huge_fields_reach_no_sink_and_the_finding_stays() {
    let d = hostile_diagnosis();
    assert_eq!(d.verdict().as_str(), "S3_ROUTE_MISSING");
    for lang in [Lang::En, Lang::Ko] {
        let m = sns_message(&d, lang);
        assert!(m.size() <= MAX_MESSAGE_BYTES, "{}", m.size());
        for text in [&m.subject, &m.body, &m.json]
            .into_iter()
            .chain(m.attributes.iter().map(|(_, v)| v))
        {
            assert!(
                !text.chars().any(common::hidden),
                "a hidden character in {text:.200}"
            );
        }
        assert!(
            !m.body.contains("\nforged line"),
            "a line forged in the body"
        );
        assert!(m.body.contains("[cut: "), "the cut is not said");
        let json: Value = serde_json::from_str(&m.json).unwrap();
        assert_eq!(json["findings"][0]["code"], "S3_ROUTE_MISSING");
        let p = slack_payload(&d, lang, None).to_string();
        assert!(!p.chars().any(ecs_pull_doctor::untrusted::is_bidi_control));
        let text = ecs_pull_doctor::render::diagnosis_text(&d, lang);
        assert!(
            !text.chars().any(common::hidden),
            "the terminal gets a hidden character"
        );
    }
}

#[test]
fn pagerduty_events_fit_the_events_api_for_any_input() {
    use ecs_pull_doctor::render::pagerduty::{resolve_event, trigger_event, MAX_SUMMARY};
    let d = run("s3-route-missing");
    let event = trigger_event(&d, Lang::En, "ecs-pull-doctor/k");
    assert_eq!(event["event_action"], "trigger");
    assert_eq!(event["dedup_key"], "ecs-pull-doctor/k");
    assert!(event.get("routing_key").is_none(), "the sink adds the key");
    assert_eq!(event["payload"]["severity"], "critical");
    assert!(event["payload"]["summary"]
        .as_str()
        .unwrap()
        .starts_with("S3_ROUTE_MISSING: "));
    assert_eq!(resolve_event("k")["event_action"], "resolve");

    let d = hostile_diagnosis();
    let event = trigger_event(&d, Lang::Ko, "ecs-pull-doctor/k");
    let summary = event["payload"]["summary"].as_str().unwrap();
    assert!(summary.chars().count() <= MAX_SUMMARY, "{}", summary.len());
    assert!(event.to_string().len() < 512 * 1024);
    assert!(!event.to_string().chars().any(common::hidden));
    assert!(
        event.get("links").is_none(),
        "no console link from names outside ECS's grammar"
    );
}
