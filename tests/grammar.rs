//! The message grammar as data (`src/reason/grammar.tsv`): every family names the source it
//! was read from, every family's example is decided by that family, and where messages nest
//! the most specific family wins.

use std::collections::HashSet;

use ecs_pull_doctor::reason::grammar::{grammar, Family, HopRule};
use ecs_pull_doctor::reason::{decide, parse_reason, Hop, Symptom};
use regex::RegexBuilder;

fn families() -> &'static [Family] {
    grammar().families()
}

#[test]
fn every_family_names_the_source_it_was_read_from() {
    let mut ids = HashSet::new();
    for f in families() {
        assert!(ids.insert(f.id), "{} appears twice", f.id);
        let from_repository = f.repo.split('/').count() == 2
            && !f.path.is_empty()
            && f.commit.len() == 40
            && f.commit.chars().all(|c| c.is_ascii_hexdigit());
        let from_page = f.repo == "-" && f.commit == "-" && f.path.starts_with("https://");
        assert!(
            from_repository || from_page,
            "{}: source {} {} {} is neither a repository file at a commit nor a page",
            f.id,
            f.repo,
            f.path,
            f.commit
        );
        assert!(
            !f.example_source.is_empty(),
            "{}: example has no source",
            f.id
        );
    }
}

#[test]
fn the_table_covers_every_emitter_the_issue_lists() {
    let repos: HashSet<&str> = families().iter().map(|f| f.repo).collect();
    for repo in [
        "aws/amazon-ecs-agent",
        "moby/moby",
        "containerd/containerd",
        "opencontainers/distribution-spec",
        "awsdocs/amazon-ecr-user-guide",
        "awsdocs/amazon-ecs-developer-guide",
        "golang/go",
    ] {
        assert!(repos.contains(repo), "no family read from {repo}");
    }
    assert!(
        families().iter().any(|f| f.emitter == "fargate"),
        "Fargate's documented forms are in the table"
    );
}

#[test]
fn every_family_decides_its_own_example() {
    let mut wrong = Vec::new();
    for f in families() {
        assert!(!f.example.is_empty(), "{} has no example", f.id);
        let decision = decide(f.example);
        if f.is_envelope() {
            let pattern = RegexBuilder::new(f.pattern)
                .case_insensitive(true)
                .build()
                .expect("pattern compiles");
            if !pattern.is_match(f.example) {
                wrong.push(format!("{}: envelope does not occur in its example", f.id));
            }
            continue;
        }
        if let Some(symptom) = f.symptom {
            let by = decision.symptom_family.map(|d| d.id);
            if decision.failure.symptom != symptom || by != Some(f.id) {
                wrong.push(format!(
                    "{}: symptom {:?} by {:?}, expected {:?} by itself",
                    f.id, decision.failure.symptom, by, symptom
                ));
            }
        }
        if f.hop != HopRule::Silent {
            let by = decision.hop_family.map(|d| d.id);
            let expected = match f.hop {
                HopRule::Decides(hop) => hop,
                _ => decision.failure.hop,
            };
            if decision.failure.hop != expected || by != Some(f.id) {
                wrong.push(format!(
                    "{}: hop {:?} by {:?}, expected {:?} by itself",
                    f.id, decision.failure.hop, by, expected
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Messages nest: an outer layer's generic words must not override the inner cause.
#[test]
fn the_most_specific_family_wins_where_messages_nest() {
    let cases: &[(&str, Symptom, Hop)] = &[
        // containerd re-wraps a platform mismatch with a trailing `not found`.
        (
            "Failed to pull image \"mysql:5.7\": rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/mysql:5.7\": no match for platform in manifest: not found",
            Symptom::Platform,
            Hop::Registry,
        ),
        // A DNS failure that ends in the resolver's own timeout is DNS.
        (
            "Error response from daemon: Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io on 192.168.65.1:53: read udp 192.168.65.2:45941->192.168.65.1:53: i/o timeout",
            Symptom::Dns,
            Hop::Registry,
        ),
        // ECR's explicit denial inside Docker's ambiguous `pull access denied`.
        (
            "CannotPullContainerError: Error response from daemon: pull access denied for 123123123123.dkr.ecr.us-east-1.amazonaws.com/app, repository does not exist or may require 'docker login': denied: User: arn:aws:sts::123123123123:assumed-role/exec/x is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:123123123123:repository/app",
            Symptom::Denied,
            Hop::Registry,
        ),
        // Docker Hub's stock denial is what it answers for a missing repository too.
        (
            "CannotPullContainerError: Error response from daemon: pull access denied for some/nonsense, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
            Symptom::NotFoundOrDenied,
            Hop::Registry,
        ),
        // containerd's insufficient scope under `pull access denied` is the same ambiguity.
        (
            "failed to resolve reference \"docker.io/library/busybox777:latest\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
            Symptom::NotFoundOrDenied,
            Hop::Registry,
        ),
        // A full disk while a layer is extracted is a full disk, not an image problem.
        (
            "CannotPullContainerError: ref pull has been retried 1 time(s): failed to extract layer sha256:20ba: hcsshim::ImportLayer - failed failed in Win32: There is not enough space on the disk. (0x70)",
            Symptom::DiskFull,
            Hop::Unknown,
        ),
        // The awslogs driver timing out on its credentials is a CloudWatch Logs start-up
        // failure, not a registry one, whatever URL it names.
        (
            "CannotStartContainerError: Error response from daemon: failed to initialize logging driver: CredentialsEndpointError: failed to load credentials caused by: RequestError: send request failed caused by: Get \"http://169.254.170.2/v2/credentials/abc\": dial tcp 169.254.170.2:80: i/o timeout",
            Symptom::Timeout,
            Hop::CloudwatchLogs,
        ),
        // An SSM parameter that references a secret still failed in SSM.
        (
            "Fetching secret data from SSM Parameter Store in us-west-2: invalid parameters: /aws/reference/secretsmanager/db",
            Symptom::NotFound,
            Hop::Ssm,
        ),
        // An expired token is the registry's answer, not a failed GetAuthorizationToken.
        (
            "Error response from daemon: pull access denied for public.ecr.aws/x/cli-tools, repository does not exist or may require 'docker login': denied: Your authorization token has expired. Reauthenticate and try again.",
            Symptom::Denied,
            Hop::Registry,
        ),
        // The layer bucket's URL inside the resolver's wording is still layer storage.
        (
            "CannotPullContainerError: ref pull has been retried 5 time(s): failed to copy: httpReadSeeker: failed open: failed to do request: Get \"https://prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com/abc\": dial tcp 52.218.1.1:443: i/o timeout",
            Symptom::Timeout,
            Hop::LayerStorage,
        ),
    ];
    for (message, symptom, hop) in cases {
        let f = parse_reason(message);
        assert_eq!((f.symptom, f.hop), (*symptom, *hop), "{message}");
    }
}
