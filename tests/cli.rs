//! The `ecs-pull-doctor` binary as a user runs it: output formats, languages, exit codes, and
//! one-line errors for bad input.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn doctor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecs-pull-doctor"))
        .args(args)
        .current_dir(common::repo("."))
        .env_remove("IP_RANGES_FILE")
        // Nor the user's copy (`ip-ranges update`): these runs have no ip-ranges.
        .env("XDG_DATA_HOME", common::no_user_data())
        .env_remove("DIAGNOSIS_LANG")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_file(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ecs-pull-doctor-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// A bad input must end in exactly one line on stderr, a non-zero exit, and no panic.
fn assert_one_line_error(o: &Output, must_mention: &[&str]) {
    assert!(
        !o.status.success(),
        "expected failure, stdout: {}",
        stdout(o)
    );
    let err = stderr(o);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected:\n{err}"
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for m in must_mention {
        assert!(err.contains(m), "error should mention {m:?}: {err}");
    }
}

#[test]
fn demo_command_prints_the_seed_verdict_without_ip_ranges() {
    let o = doctor(&[
        "diagnose",
        "--event",
        "events/s3-route-missing.json",
        "--network",
        "events/network/s3-route-missing.json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("✗ S3_ROUTE_MISSING"), "{out}");
    assert!(out.contains("$ aws ec2 modify-vpc-endpoint --region ap-northeast-2 --vpc-endpoint-id vpce-04e8c1a2b3d5f6a79 --add-route-table-ids rtb-0c3e5a7b9d1f24680"));
}

#[test]
fn json_and_korean_output() {
    let o = doctor(&[
        "diagnose",
        "--event",
        "events/s3-route-missing.json",
        "--network",
        "events/network/s3-route-missing.json",
        "--format",
        "json",
        "--lang",
        "ko",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["findings"][0]["code"], "S3_ROUTE_MISSING");
    assert_eq!(doc["failure"]["symptom"], "timeout");
    assert_eq!(doc["failure"]["hop"], "layer_storage");
    assert_eq!(doc["failure"]["ip"], "52.219.204.42");
    assert_eq!(doc["failure"]["port"], 443);
    assert_eq!(doc["failure"]["ip_owner"]["service"], "S3");
    assert_eq!(doc["task"]["subnet_id"], "subnet-0c9d8e7f6a5b4c3d2");
    assert_eq!(doc["ip_ranges"], serde_json::Value::Null);
    assert!(doc["findings"][0]["summary"]
        .as_str()
        .unwrap()
        .contains("라우팅 테이블"));
}

#[test]
fn skipped_event_says_why_and_succeeds() {
    let o = doctor(&[
        "diagnose",
        "--event",
        "events/essential-container-exited.json",
        "--format",
        "json",
    ]);
    assert!(o.status.success());
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["skipped"], true);
    assert!(doc["why"]
        .as_str()
        .unwrap()
        .contains("Essential container in task exited"));
}

#[test]
fn explain_and_classify_print_json() {
    let ranges = common::ip_ranges_path();
    let ranges = ranges.to_str().unwrap();
    let o = doctor(&[
        "explain",
        "CannotPullContainerError: ref pull has been retried 5 time(s): failed to copy: httpReadSeeker: failed open: failed to do request: Get https://prod-ap-northeast-2-starport-layer-bucket.s3.ap-northeast-2.amazonaws.com/x: dial tcp 52.219.204.42:443: i/o timeout",
        "--ip-ranges",
        ranges,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["hop"], "layer_storage");
    assert_eq!(doc["ip_owner"]["region"], "ap-northeast-2");
    // Which families of the grammar decided, and where their wording was read.
    assert_eq!(doc["decided_by"]["symptom"]["family"], "io-timeout");
    assert_eq!(
        doc["decided_by"]["symptom"]["source"],
        "golang/go/src/net/net.go@8e98e3112bc8"
    );
    assert_eq!(doc["decided_by"]["hop"]["family"], "failing-host");

    let o = doctor(&["classify", "52.219.204.42", "--ip-ranges", ranges]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["service"], "S3");
    assert_eq!(doc["prefix"], "52.219.204.0/22");

    let o = doctor(&["classify", "192.0.2.1", "--ip-ranges", ranges]);
    assert_eq!(stdout(&o).trim(), "null");
}

#[test]
fn explain_reads_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-pull-doctor"))
        .args(["explain", "-"])
        .env_remove("IP_RANGES_FILE")
        // Nor the user's copy (`ip-ranges update`): these runs have no ip-ranges.
        .env("XDG_DATA_HOME", common::no_user_data())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"CannotPullContainerError: dial tcp 10.0.0.5:443: connect: connection refused")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["symptom"], "refused");
    // Nobody looked: not `null`, which would read as "not AWS's".
    assert!(
        doc["ip_owner"]["unknown"]
            .as_str()
            .unwrap()
            .starts_with("ip-ranges.json is not loaded"),
        "{doc}"
    );
}

#[test]
fn classify_without_ip_ranges_explains_what_to_do() {
    let o = doctor(&["classify", "52.219.204.42"]);
    assert_one_line_error(&o, &["--ip-ranges", "make ip-ranges"]);
    let o = doctor(&["classify", "not-an-ip", "--ip-ranges", "x.json"]);
    assert_one_line_error(&o, &["not-an-ip"]);
}

#[test]
fn bad_files_give_one_line_errors_naming_the_file() {
    let o = doctor(&["diagnose", "--event", "events/does-not-exist.json"]);
    assert_one_line_error(&o, &["events/does-not-exist.json"]);

    let broken = temp_file("broken-event.json", "{\"source\": \"aws.ecs\", ");
    let o = doctor(&["diagnose", "--event", broken.to_str().unwrap()]);
    assert_one_line_error(&o, &["broken-event.json", "not valid JSON"]);

    let other = temp_file(
        "other-event.json",
        r#"{"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{}}"#,
    );
    let o = doctor(&["diagnose", "--event", other.to_str().unwrap()]);
    assert_one_line_error(&o, &["other-event.json", "aws.ec2"]);

    let snapshot = temp_file("bad-network.json", r#"{"RouteTables": "nope"}"#);
    let o = doctor(&[
        "diagnose",
        "--event",
        "events/s3-route-missing.json",
        "--network",
        snapshot.to_str().unwrap(),
    ]);
    assert_one_line_error(&o, &["bad-network.json", "not a network snapshot"]);

    let ranges = temp_file("bad-ranges.json", r#"{"createDate": 1}"#);
    let o = doctor(&[
        "classify",
        "1.2.3.4",
        "--ip-ranges",
        ranges.to_str().unwrap(),
    ]);
    assert_one_line_error(&o, &["bad-ranges.json", "not an ip-ranges.json document"]);
}

#[test]
fn terminal_escapes_in_the_message_are_neutralised() {
    let event = common::read("events/s3-route-missing.json").replace(
        "i/o timeout",
        "i/o timeout \\u001b[2J\\u001b]0;pwned\\u0007",
    );
    let path = temp_file("escape-event.json", &event);
    let o = doctor(&[
        "diagnose",
        "--event",
        path.to_str().unwrap(),
        "--network",
        "events/network/s3-route-missing.json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stdout(&o).contains('\u{1b}'),
        "raw escape reached the terminal"
    );
}

#[test]
fn what_the_diagnosis_lacked_is_named_by_the_engine_and_worded_by_the_cli() {
    let o = doctor(&["diagnose", "--event", "events/s3-route-missing.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("To inspect the network: pass --network FILE"),
        "{text}"
    );
    // The findings themselves give no command-line advice: that is the CLI's to word.
    let before_hints = text.split("To inspect the network").next().unwrap();
    assert!(!before_hints.contains("--network"), "{before_hints}");

    let o = doctor(&[
        "diagnose",
        "--event",
        "events/ecr-api-endpoint-missing.json",
        "--network",
        "events/network/ecr-api-endpoint-missing.json",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["missing_inputs"], serde_json::json!(["ip_ranges"]));
    let o = doctor(&[
        "diagnose",
        "--event",
        "events/ecr-api-endpoint-missing.json",
        "--network",
        "events/network/ecr-api-endpoint-missing.json",
        "--lang",
        "ko",
    ]);
    assert!(
        stdout(&o).contains("--ip-ranges FILE을 지정하거나"),
        "{}",
        stdout(&o)
    );
}

/// Each cause of an error is said once: `a: b: b` reads as two problems.
fn assert_no_repeated_cause(o: &Output) {
    let err = stderr(o);
    let parts: Vec<&str> = err.trim_end().split(": ").collect();
    for (i, part) in parts.iter().enumerate().filter(|(_, p)| p.len() > 12) {
        assert!(
            !parts[i + 1..].contains(part),
            "{part:?} is said twice: {err}"
        );
    }
}

#[test]
fn an_errors_cause_is_printed_once() {
    let broken = temp_file("once-event.json", "{\"source\": \"aws.ecs\", ");
    let o = doctor(&["diagnose", "--event", broken.to_str().unwrap()]);
    assert_one_line_error(
        &o,
        &["once-event.json", "not valid JSON", "EOF while parsing"],
    );
    assert_no_repeated_cause(&o);

    let snapshot = temp_file("once-network.json", r#"{"RouteTables": "nope"}"#);
    let o = doctor(&[
        "audit",
        "--network",
        snapshot.to_str().unwrap(),
        "--region",
        "ap-northeast-2",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_one_line_error(&o, &["once-network.json", "invalid type"]);
    assert_no_repeated_cause(&o);

    let missing = doctor(&["diagnose", "--event", "events/none.json"]);
    assert_one_line_error(&missing, &["cannot read events/none.json", "No such file"]);
    assert_no_repeated_cause(&missing);
}

#[test]
fn an_endless_file_is_refused_at_its_cap_with_one_line() {
    for (args, cap) in [
        (vec!["diagnose", "--event", "/dev/zero"], "1 MiB an event"),
        (
            vec![
                "diagnose",
                "--event",
                "events/s3-route-missing.json",
                "--network",
                "/dev/zero",
            ],
            "512 MiB a network snapshot",
        ),
        (
            vec!["classify", "1.2.3.4", "--ip-ranges", "/dev/zero"],
            "64 MiB ip-ranges.json",
        ),
    ] {
        let o = doctor(&args);
        assert_one_line_error(&o, &["/dev/zero is larger than the", cap]);
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    // The audit's text is long enough that the pipe closes while it is still written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-pull-doctor"))
        .args([
            "audit",
            "--network",
            "events/audit/account.json",
            "--format",
            "json",
        ])
        .current_dir(common::repo("."))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before a byte is read, as `| head -c0` would.
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(141), "stderr: {}", stderr(&o));
    assert_eq!(stderr(&o), "", "a closed pipe is not an error to report");
}

#[test]
fn bidirectional_overrides_never_reach_the_terminal() {
    // Names in a snapshot come from the account: whoever can name a service writes them.
    let snapshot = common::read("events/audit/account.json").replace(
        r#""serviceName": "report""#,
        r#""serviceName": "report\u202egnp.exe\u2066\u200f""#,
    );
    let path = temp_file("bidi-account.json", &snapshot);
    for format in ["text", "json", "markdown"] {
        let o = doctor(&[
            "audit",
            "--network",
            path.to_str().unwrap(),
            "--format",
            format,
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("reportgnp.exe"), "{out}");
        assert!(
            !out.chars().any(ecs_pull_doctor::untrusted::is_bidi_control),
            "a bidirectional control reached the terminal ({format})"
        );
    }
}

#[test]
fn the_audit_reads_at_a_glance_its_matrix_fits_120_columns_and_names_subnets() {
    let o = doctor(&["audit", "--network", "events/audit/account.json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "Audit of ap-northeast-2: 4 services, 0 ok, 4 blocked, 0 unknown; 3 root causes (3 blocking)"
        ),
        "{out}"
    );
    let listed = out
        .lines()
        .filter(|l| l.starts_with(['1', '2', '3', '4']))
        .count();
    assert_eq!(listed, 3, "the count says what is listed: {out}");
    let matrix = out
        .split("Services × subnets:")
        .nth(1)
        .expect("the matrix follows its legend");
    assert!(
        matrix.lines().skip(1).all(|l| l.chars().count() <= 120),
        "{matrix}"
    );
    assert!(matrix.contains("private-a (2a …47f6)"), "{matrix}");
    // One hop order for the VPC: every row's cells have as many marks.
    let header = out
        .lines()
        .find(|l| l.contains("(each cell: "))
        .expect("the VPC's hop order");
    assert!(
        header.ends_with("(each cell: ecr.api ecr.dkr s3 secretsmanager logs)"),
        "{header}"
    );
    let worker = out
        .lines()
        .find(|l| l.trim_start().starts_with("prod/worker"))
        .unwrap();
    assert!(worker.contains("✓✓✓✗-"), "{worker}");
    let report = out
        .lines()
        .find(|l| l.trim_start().starts_with("batch/report"))
        .unwrap();
    assert!(report.contains("✓✓✗--"), "{report}");
}

#[test]
fn the_audit_as_markdown_is_a_ci_summary_with_fixes_in_code_blocks() {
    let o = doctor(&[
        "audit",
        "--network",
        "events/audit/account.json",
        "--format",
        "markdown",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("### ecs-pull-doctor audit ap-northeast-2\n"),
        "{out}"
    );
    assert!(out.contains("1. ✗ `S3_ROUTE_MISSING` "), "{out}");
    assert!(
        out.contains("   ```sh\n   aws ec2 modify-vpc-endpoint --region ap-northeast-2"),
        "{out}"
    );
    assert!(out.contains("| service | private-a (2a …47f6) |"), "{out}");
    assert!(out.contains("| prod/worker | `✓✓✓✗-` |"), "{out}");
}

#[test]
fn names_from_the_account_cannot_mention_or_link_in_a_markdown_comment() {
    // A subnet's Name tag is whatever someone typed into the console (the matrix's column
    // labels are short, so one thing each).
    let snapshot = common::read("events/audit/account.json")
        .replace("\"private-a\"", "\"@acme/oncall\"")
        .replace("\"private-b\"", "\"https://e.io\"")
        .replace("\"private-c\"", "\"#1\"");
    let path = temp_file("hostile-account.json", &snapshot);
    let o = doctor(&[
        "audit",
        "--network",
        path.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    for shown in ["acme/oncall", "https", "e.io"] {
        assert!(out.contains(shown), "the tag is still shown: {out}");
    }
    for live in ["@acme", "https://", "#1"] {
        assert!(!out.contains(live), "{live} would act in a comment: {out}");
    }
}

#[test]
fn a_service_or_cluster_that_does_not_exist_is_a_usage_error_naming_what_does() {
    for (flag, value) in [("--service", "prod/nope"), ("--cluster", "staging")] {
        let o = doctor(&[
            "audit",
            "--network",
            "events/audit/account.json",
            flag,
            value,
        ]);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("no such {flag} {value}"))
                && err.contains("batch/report, prod/api, prod/web, prod/worker"),
            "{err}"
        );
    }
    let o = doctor(&[
        "audit",
        "--network",
        "events/audit/account.json",
        "--service",
        "prod/web",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn another_regions_image_is_one_cause_with_a_pull_through_cache_fix() {
    // The bundled account with one service's image moved to us-east-1: its registry hop and
    // its layer hop fail in both subnets, and all of it is one thing to fix.
    let snapshot = common::read("events/audit/account.json").replace(
        "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/report:",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/report:",
    );
    let path = temp_file("cross-region-account.json", &snapshot);
    let o = doctor(&[
        "audit",
        "--network",
        path.to_str().unwrap(),
        "--service",
        "batch/report",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let causes = doc["root_causes"].as_array().unwrap();
    assert_eq!(causes.len(), 1, "{causes:#?}");
    let cause = &causes[0];
    assert_eq!(
        cause["identity"],
        "NO_ROUTE_TO_TARGET#123456789012.dkr.ecr.us-east-1.amazonaws.com/report#us-east-1"
    );
    assert_eq!(cause["subnets"].as_array().unwrap().len(), 2);
    let commands: Vec<&str> = cause["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(commands.contains(&"aws ecr create-pull-through-cache-rule --region ap-northeast-2 --ecr-repository-prefix ecr-us-east-1 --upstream-registry ecr --upstream-registry-url 123456789012.dkr.ecr.us-east-1.amazonaws.com --custom-role-arn arn:aws:iam::123456789012:role/ecr-pull-through-cache"), "{commands:#?}");
    assert!(commands.iter().all(|c| !c.contains('<')), "{commands:#?}");
    assert!(commands
        .iter()
        .all(|c| !c.contains("--replication-configuration 'rules=")));
}

#[test]
fn an_unreadable_s3_prefix_list_is_stood_in_for_by_ip_ranges_and_said() {
    // The bundled account as an API that omits the prefix list's entries would give it, with
    // the tasks' group open to 443 by CIDR rules only: without the addresses the S3 hop
    // cannot be checked; with ip-ranges loaded, AWS's published S3 ranges stand in.
    let mut snapshot: serde_json::Value =
        serde_json::from_str(&common::read("events/audit/account.json")).unwrap();
    for list in snapshot["PrefixLists"].as_array_mut().unwrap() {
        list["Cidrs"] = serde_json::json!([]);
    }
    for group in snapshot["SecurityGroups"].as_array_mut().unwrap() {
        if group["GroupName"] == "tasks" {
            group["IpPermissionsEgress"] = serde_json::json!([{
                "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/1"}, {"CidrIp": "128.0.0.0/1"}]
            }]);
        }
    }
    let path = temp_file("unread-prefix-list.json", &snapshot.to_string());
    let audit = |extra: &[&str]| {
        let mut args = vec![
            "audit",
            "--network",
            path.to_str().unwrap(),
            "--service",
            "prod/web",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let o = doctor(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        serde_json::from_str::<serde_json::Value>(&stdout(&o)).unwrap()
    };
    let s3_states = |doc: &serde_json::Value| -> Vec<String> {
        doc["services"][0]["hops"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["hop"] == "s3")
            .map(|h| h["state"].as_str().unwrap().to_string())
            .collect()
    };
    let without = audit(&[]);
    assert!(
        s3_states(&without).contains(&"unknown".to_string()),
        "{:#}",
        without["services"][0]["hops"]
    );
    assert_eq!(without["notes"], serde_json::json!([]));

    let ranges = common::ip_ranges_path();
    let with = audit(&["--ip-ranges", ranges.to_str().unwrap()]);
    let states = s3_states(&with);
    assert!(!states.contains(&"unknown".to_string()), "{states:?}");
    assert!(states.contains(&"open".to_string()), "{states:?}");
    let notes = with["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0]
        .as_str()
        .unwrap()
        .contains("(com.amazonaws.ap-northeast-2.s3) could not be read; AWS's published ranges (ip-ranges.json of"));
}

/// Set but empty means unset, as in the Lambda: English, and no ip-ranges (not a file
/// named "").
#[test]
fn empty_language_and_ip_ranges_variables_mean_unset() {
    let o = Command::new(env!("CARGO_BIN_EXE_ecs-pull-doctor"))
        .args([
            "diagnose",
            "--event",
            "events/s3-route-missing.json",
            "--network",
            "events/network/s3-route-missing.json",
        ])
        .current_dir(common::repo("."))
        .env("DIAGNOSIS_LANG", "")
        .env("IP_RANGES_FILE", "")
        .env("XDG_DATA_HOME", common::no_user_data())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("S3_ROUTE_MISSING"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("ip-ranges: not loaded"),
        "{}",
        stdout(&o)
    );
}

/// Flags that would mislead are refused: a region other than the snapshot's would put the
/// wrong region in every command; a role is only ever assumed live.
#[test]
fn flags_that_would_mislead_are_refused() {
    let o = doctor(&[
        "audit",
        "--network",
        "events/audit/account.json",
        "--region",
        "us-east-1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_one_line_error(
        &o,
        &["the snapshot is of ap-northeast-2", "--region us-east-1"],
    );
    let same = doctor(&[
        "audit",
        "--network",
        "events/audit/account.json",
        "--region",
        "ap-northeast-2",
    ]);
    assert_eq!(same.status.code(), Some(1), "{}", stderr(&same));
    let o = doctor(&[
        "audit",
        "--network",
        "events/audit/account.json",
        "--role-name",
        "reader",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_one_line_error(&o, &["--role-name", "needs --live"]);
    let o = doctor(&[
        "diagnose",
        "--event",
        "events/s3-route-missing.json",
        "--role-name",
        "reader",
    ]);
    assert_eq!(o.status.code(), Some(2), "a usage error, as clap's own");
    assert_one_line_error(&o, &["--role-name", "needs --live"]);
    let o = doctor(&["diagnose", "--task", "abc"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "clap refuses --task without --live: {}",
        stderr(&o)
    );
}

/// A child process stopped however the test ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `ip-ranges update` from a local server (the published file's stand-in): written whole,
/// then found by every command without a flag; a failed download leaves nothing behind.
#[test]
fn ip_ranges_update_writes_the_users_copy_that_every_command_then_finds() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Server(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
                "--directory",
            ])
            .arg(common::repo("tests/fixtures"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}/ip-ranges-excerpt.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the local server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let data = std::env::temp_dir().join(format!("ecs-pull-doctor-xdg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ecs-pull-doctor"))
            .args(args)
            .current_dir(common::repo("."))
            .env_remove("IP_RANGES_FILE")
            .env("XDG_DATA_HOME", &data)
            .output()
            .unwrap()
    };
    let none = run(&["ip-ranges", "path"]);
    assert_one_line_error(&none, &["ecs-pull-doctor ip-ranges update"]);
    let failed = run(&[
        "ip-ranges",
        "update",
        "--url",
        &format!("http://127.0.0.1:{port}/missing.json"),
    ]);
    assert_one_line_error(&failed, &["cannot download"]);
    let copy = data.join("ecs-pull-doctor/ip-ranges.json");
    assert!(!copy.exists() && !copy.with_extension("json.part").exists());

    let updated = run(&["ip-ranges", "update", "--url", &url]);
    assert_eq!(updated.status.code(), Some(0), "{}", stderr(&updated));
    assert!(
        stderr(&updated).contains("createDate"),
        "{}",
        stderr(&updated)
    );
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(common::repo("tests/fixtures/ip-ranges-excerpt.json")).unwrap()
    );
    let found = run(&["ip-ranges", "path"]);
    assert!(
        stdout(&found).starts_with(&copy.display().to_string()),
        "{}",
        stdout(&found)
    );
    let classified = run(&["classify", "52.219.204.42"]);
    let owner: serde_json::Value = serde_json::from_str(&stdout(&classified)).unwrap();
    assert_eq!(owner["service"], "S3", "{owner}");
}
