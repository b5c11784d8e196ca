//! The message parser against 144 real pull-failure messages from public reports (GitHub
//! issues, re:Post and Stack Overflow, AWS documentation, the ECS agent's own source and tests,
//! Batch and Nextflow reports; each line names its source), and against random and hostile
//! input.

mod common;

use std::sync::OnceLock;

use ecs_pull_doctor::diagnose::classify;
use ecs_pull_doctor::reason::{parse_reason, Hop, Symptom, MAX_MESSAGE_BYTES};
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct CorpusEntry {
    message: String,
    source: String,
    root_cause_category: String,
    expect: Expected,
}

#[derive(Deserialize)]
struct Expected {
    symptom: Symptom,
    hop: Hop,
    host: Option<String>,
    ip: Option<String>,
    ip_owner: Option<ExpectedOwner>,
}

#[derive(Deserialize, Debug, PartialEq)]
struct ExpectedOwner {
    service: String,
    region: String,
}

fn corpus() -> &'static [CorpusEntry] {
    static CORPUS: OnceLock<Vec<CorpusEntry>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        common::read("tests/fixtures/pull-errors.jsonl")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("corpus line parses"))
            .collect()
    })
}

#[test]
fn every_corpus_message_parses_as_expected() {
    let ranges = common::ip_ranges();
    let entries = corpus();
    assert_eq!(entries.len(), 144, "the corpus has 144 real messages");
    let mut failures = Vec::new();
    for (line, entry) in entries.iter().enumerate() {
        let got = classify(&entry.message, Some(ranges), None);
        let e = &entry.expect;
        let owner = got.ip_owner.as_ref().map(|o| ExpectedOwner {
            service: o.service.clone(),
            region: o.region.clone(),
        });
        if got.symptom != e.symptom
            || got.hop != e.hop
            || got.host != e.host
            || got.ip.map(|i| i.to_string()) != e.ip
            || owner != e.ip_owner
        {
            failures.push(format!(
                "line {} ({}, {}): got {:?}/{:?} host {:?} ip {:?} owner {:?}; expected {:?}/{:?} host {:?} ip {:?} owner {:?}",
                line + 1,
                entry.root_cause_category,
                entry.source,
                got.symptom,
                got.hop,
                got.host,
                got.ip,
                owner,
                e.symptom,
                e.hop,
                e.host,
                e.ip,
                e.ip_owner
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_corpus_covers_every_hop_every_symptom_and_the_ec2_agent() {
    let entries = corpus();
    for hop in Hop::ALL {
        assert!(
            entries.iter().any(|e| e.expect.hop == hop),
            "no line for {hop:?}"
        );
    }
    for symptom in Symptom::ALL {
        assert!(
            entries.iter().any(|e| e.expect.symptom == symptom),
            "no line for {symptom:?}"
        );
    }
    let ec2_agent = entries
        .iter()
        .filter(|e| e.message.contains("CannotPullECRContainerError"))
        .count();
    assert!(
        ec2_agent >= 5,
        "{ec2_agent} lines of the EC2 agent's own error"
    );
    assert!(entries.iter().all(|e| !e.source.trim().is_empty()));
}

/// The first finding each corpus message leads to, offline: a message about a start-up
/// dependency (secrets, parameters, logs, environment files) never blames the image or Docker
/// Hub, and a network symptom never reads as a cause outside the network.
#[test]
fn every_corpus_message_leads_to_a_first_finding_of_its_kind() {
    use ecs_pull_doctor::diagnose::{diagnose, Code};
    let template = common::sample_task("s3-route-missing");
    let mut wrong = Vec::new();
    for (line, entry) in corpus().iter().enumerate() {
        let mut task = template.clone();
        task.primary.reason = entry.message.clone();
        let d = diagnose(&task, None, Some(common::ip_ranges()));
        let first = d.verdict();
        let startup = matches!(
            entry.expect.hop,
            Hop::Ssm | Hop::SecretsManager | Hop::CloudwatchLogs | Hop::EnvFiles
        );
        let image_codes = [
            Code::ImageNotFound,
            Code::RegistryRateLimited,
            Code::ImagePlatformMismatch,
        ];
        if startup && image_codes.contains(&first) {
            wrong.push(format!(
                "line {}: {first} for a {:?} message",
                line + 1,
                entry.expect.hop
            ));
        }
        if entry.expect.symptom.is_network() && first != Code::InspectionIncomplete {
            wrong.push(format!(
                "line {}: {first} for a network symptom without a network view",
                line + 1
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn s3_address_in_new_wording_overrides_the_registry_url() {
    // The corpus message whose URL is the image reference but whose dialled IP is S3.
    let message = "CannotPullContainerError: The task cannot pull \n425687053209.dkr.ecr.us-east-1.amazonaws.com/clubapp-backend:latest\nfrom the registry...\ndial tcp 16.15.178.247:443: i/o timeout";
    assert_eq!(parse_reason(message).hop, Hop::Registry);
    let classified = classify(message, Some(common::ip_ranges()), None);
    assert_eq!(classified.hop, Hop::LayerStorage);
    assert_eq!(classified.ip_owner.unwrap().service, "S3");
}

#[test]
fn network_symptoms_of_the_corpus_are_all_network() {
    for entry in corpus() {
        let is_network = parse_reason(&entry.message).symptom.is_network();
        if entry.expect.symptom == Symptom::Timeout {
            assert!(is_network, "{}", entry.message);
        }
    }
}

#[test]
fn very_long_messages_are_cut_not_choked_on() {
    let mut message = "CannotPullContainerError: ".to_string();
    message.push_str(&"x".repeat(4 * 1024 * 1024));
    message.push_str(" dial tcp 52.219.204.42:443: i/o timeout");
    let parsed = parse_reason(&message);
    // The dialled address lies past the cut, so it is not reported as found.
    assert_eq!(parsed.ip, None);
    assert!(message.len() > MAX_MESSAGE_BYTES);

    let near_start = format!(
        "CannotPullContainerError: dial tcp 52.219.204.42:443: i/o timeout {}",
        "y".repeat(MAX_MESSAGE_BYTES)
    );
    let parsed = parse_reason(&near_start);
    assert_eq!(parsed.ip, Some("52.219.204.42".parse().unwrap()));
    assert_eq!(parsed.symptom, Symptom::Timeout);
}

#[test]
fn markdown_noise_and_newlines_do_not_hide_the_facts() {
    let message = "**CannotPullContainerError**:\n> pull image manifest has been retried 5 time(s): failed to resolve ref [1.dkr.ecr.us-west-2.amazonaws.com/app:v1](http://1.dkr.ecr.us-west-2.amazonaws.com/app:v1):\n`dial tcp 10.1.2.3:443: i/o timeout`";
    let parsed = parse_reason(message);
    assert_eq!(parsed.symptom, Symptom::Timeout);
    assert_eq!(parsed.hop, Hop::Registry);
    assert_eq!(parsed.ip, Some("10.1.2.3".parse().unwrap()));
    assert_eq!(
        parsed.host.as_deref(),
        Some("1.dkr.ecr.us-west-2.amazonaws.com")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_parses_without_panicking(message in any::<String>()) {
        let parsed = parse_reason(&message);
        prop_assert!(parsed.ip.is_none() || message.to_lowercase().contains("dial "));
    }

    #[test]
    fn mangled_corpus_messages_parse_without_panicking(
        index in 0usize..144,
        cut in 0usize..2000,
        noise in "[\\PC]{0,40}",
    ) {
        let entries = corpus();
        let message = &entries[index].message;
        let mut end = cut.min(message.len());
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let mangled = format!("{}{}{}", &message[..end], noise, &message[end..]);
        let _ = parse_reason(&mangled);
        let _ = parse_reason(&message[..end]);
    }

    #[test]
    fn a_reported_ip_is_what_followed_dial_tcp(a in 0u8..=255, b in 0u8..=255, c in 0u8..=255, d in 0u8..=255, port in 1u16..) {
        let message = format!("Get \"https://127.0.0.1:5000/v2/\": dial tcp {a}.{b}.{c}.{d}:{port}: i/o timeout");
        let parsed = parse_reason(&message);
        prop_assert_eq!(parsed.ip, Some(format!("{a}.{b}.{c}.{d}").parse().unwrap()));
        prop_assert_eq!(parsed.port, Some(port));
    }
}
