//! One central function for many accounts, end to end: the real `bootstrap` behind the
//! Runtime API emulator in the central account (moto's default, 123456789012), a member
//! account's broken VPC built through the real API in 210987654321 (moto keeps each account's
//! state apart, and credentials from `sts:AssumeRole` act in the role's account), and the
//! member's events sent to the central function.

mod common;

use std::path::PathBuf;

use common::emulator::{
    free_port, invoke, log_decisions, published, response_bodies, sinks, slack_posts, webhook_url,
};
use common::moto::{audit_json, doctor, event_for, fixture, FaultProxy, Moto};
use serde_json::Value;

const MEMBER: &str = "210987654321";
const STRANGER: &str = "333344445555";
const ROLE: &str = "ecs-pull-doctor-read";

/// Every AssumeRole moto answered of the member role: (role ARN, secret key, session token).
fn assumed_credentials(moto: &Moto) -> Vec<(String, String, String)> {
    let data = common::moto::data(moto);
    data["sts"]["AssumedRole"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r["role_arn"]
                .as_str()
                .is_some_and(|a| a.ends_with(&format!(":role/{ROLE}")))
        })
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (
                text("role_arn"),
                text("secret_access_key"),
                text("session_token"),
            )
        })
        .collect()
}

/// Every AssumeRole moto answered: the role ARNs.
fn assumed_roles(moto: &Moto) -> Vec<String> {
    let data = common::moto::data(moto);
    data["sts"]["AssumedRole"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["role_arn"].as_str().unwrap_or_default().to_string())
        .filter(|arn| arn.ends_with(&format!(":role/{ROLE}")))
        .collect()
}

/// The reference case built in the member account, and its task's failure event.
fn member_failure(moto: &Moto) -> (Value, PathBuf) {
    let built = fixture(
        moto,
        "moto_scenario.py",
        &["--scenario", "s3-route-missing", "--account-id", MEMBER],
    );
    let event = event_for("s3-route-missing", &built);
    (built, event)
}

/// `count` copies of the event, each from its own task (and `account` when given).
fn events(first: &PathBuf, count: usize, account: Option<&str>) -> Vec<PathBuf> {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(first).unwrap()).unwrap();
    let dir = std::env::temp_dir().join(format!("ecs-pull-doctor-members-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    (0..count)
        .map(|i| {
            let mut event = value.clone();
            if let Some(account) = account {
                common::moto::move_to_account(&mut event, account);
            }
            let arn = format!(
                "arn:aws:ecs:ap-northeast-2:{}:task/prod/task{i:02}",
                event["account"].as_str().unwrap()
            );
            event["detail"]["taskArn"] = arn.clone().into();
            event["resources"] = serde_json::json!([arn]);
            let path = dir.join(format!("{}-{i}.json", account.unwrap_or("member")));
            std::fs::write(&path, event.to_string()).unwrap();
            path
        })
        .collect()
}

fn central(moto: &Moto, endpoint: &str, events: &[PathBuf], port: u16) -> Value {
    let made = sinks(moto, Some(&webhook_url(port)));
    let paths: Vec<&std::path::Path> = events.iter().map(|p| p.as_path()).collect();
    let report = invoke(
        endpoint,
        &[
            ("SNS_TOPIC_ARN", made["topic_arn"].as_str().unwrap()),
            (
                "SLACK_WEBHOOK_SECRET_ARN",
                made["secret_arn"].as_str().unwrap(),
            ),
            ("MEMBER_ROLE_NAME", ROLE),
            ("ALLOWED_ACCOUNTS", MEMBER),
            ("ACCOUNT_NAMES", r#"{"210987654321": "payments-prod"}"#),
        ],
        &paths,
        &["--slack-receiver", "--slack-port", &port.to_string()],
    );
    log_decisions(&report);
    report
}

#[test]
fn a_member_accounts_failure_is_diagnosed_in_that_account_and_names_it() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = fixture(
        &moto,
        "moto_scenario.py",
        &["--scenario", "s3-route-missing", "--account-id", MEMBER],
    );
    assert_eq!(built["account"], MEMBER);
    let event = event_for("s3-route-missing", &built);
    let port = free_port();
    let report = central(&moto, &moto.endpoint, &[event], port);
    let answer = &response_bodies(&report)[0];
    assert_eq!(answer["status"], "sent", "{answer:#}");
    assert_eq!(answer["findings"][0], "S3_ROUTE_MISSING", "{answer:#}");
    assert_eq!(
        assumed_roles(&moto),
        [format!("arn:aws:iam::{MEMBER}:role/{ROLE}")]
    );

    let notifications = published(&moto);
    assert_eq!(notifications.len(), 1);
    let (_, message, attributes) = &notifications[0];
    assert_eq!(attributes["account"], MEMBER);
    let table = built["route_tables"]["priv-c"].as_str().unwrap();
    assert!(
        message.contains(table),
        "the member's own route table is named: {message}"
    );
    assert!(
        message.contains("Account 210987654321 (payments-prod), region ap-northeast-2."),
        "{message}"
    );
    let posts = slack_posts(&report);
    assert_eq!(posts.len(), 1);
    assert!(posts[0].1.to_string().contains("payments-prod"));
}

#[test]
fn an_account_that_is_not_allowed_assumes_nothing_and_sends_nothing() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let (_, event) = member_failure(&moto);
    let stranger = events(&event, 1, Some(STRANGER));
    let report = central(&moto, &moto.endpoint, &stranger, free_port());
    let answer = &response_bodies(&report)[0];
    assert_eq!(answer["status"], "skipped", "{answer:#}");
    assert_eq!(
        answer["why"],
        format!("account {STRANGER} is not allowed (ALLOWED_ACCOUNTS)")
    );
    assert!(assumed_roles(&moto).is_empty());
    assert!(published(&moto).is_empty());
    assert!(slack_posts(&report).is_empty());
}

#[test]
fn a_member_without_the_role_gets_the_message_only_diagnosis_with_the_denial_named() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let (_, event) = member_failure(&moto);
    let proxy = FaultProxy::start(&moto.endpoint, &["--deny", "AssumeRole"]);
    let report = central(&moto, &proxy.endpoint, &[event], free_port());
    let invocations = report["invocations"].as_array().unwrap();
    assert_eq!(invocations.len(), 1, "a denial is not retried: {report:#}");
    let answer = &invocations[0]["body"];
    assert_eq!(answer["status"], "sent", "{answer:#}");
    let not_inspected = answer["not_inspected"].to_string();
    assert!(
        not_inspected.contains(&format!(
            "sts:AssumeRole on arn:aws:iam::{MEMBER}:role/{ROLE} denied"
        )),
        "{not_inspected}"
    );
    let notifications = published(&moto);
    assert_eq!(notifications.len(), 1);
}

#[test]
fn a_storm_from_one_member_assumes_its_role_once() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let (_, event) = member_failure(&moto);
    let storm = events(&event, 20, None);
    let report = central(&moto, &moto.endpoint, &storm, free_port());
    let statuses: Vec<String> = response_bodies(&report)
        .iter()
        .map(|b| b["status"].as_str().unwrap_or("?").to_string())
        .collect();
    assert_eq!(statuses.len(), 20);
    assert!(statuses.iter().all(|s| s == "sent"), "{statuses:?}");
    assert_eq!(
        assumed_roles(&moto).len(),
        1,
        "one AssumeRole for 20 events"
    );
    // The assumed credentials never reach the logs.
    let logs = report["logs"].to_string();
    for (_, secret, token) in assumed_credentials(&moto) {
        assert!(
            !secret.is_empty() && !logs.contains(&secret),
            "the secret key is logged"
        );
        assert!(
            !token.is_empty() && !logs.contains(&token),
            "the session token is logged"
        );
    }
}

const SECOND: &str = "210987654322";

#[test]
fn the_cli_audits_several_accounts_in_one_report_with_the_account_on_everything() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    fixture(
        &moto,
        "moto_account.py",
        &["--state", "broken", "--account-id", MEMBER],
    );
    fixture(
        &moto,
        "moto_account.py",
        &["--state", "healthy", "--account-id", SECOND],
    );
    let (audit, code) = audit_json(
        &moto.endpoint,
        &[
            "--account",
            MEMBER,
            "--account",
            SECOND,
            "--role-name",
            ROLE,
        ],
    );
    assert_eq!(code, 1, "{audit}");
    let services = audit["services"].as_array().unwrap();
    assert_eq!(services.len(), 8, "four services in each account");
    for account in [MEMBER, SECOND] {
        let theirs: Vec<&Value> = services
            .iter()
            .filter(|s| s["account"] == account)
            .collect();
        assert_eq!(theirs.len(), 4, "{account}");
        let expected = if account == MEMBER { "blocked" } else { "ok" };
        assert!(
            theirs.iter().all(|s| s["verdict"] == expected),
            "{account}: {theirs:?}"
        );
    }
    let causes = audit["root_causes"].as_array().unwrap();
    assert_eq!(causes.len(), 3, "{causes:#?}");
    for cause in causes {
        assert_eq!(cause["account"], MEMBER);
        assert!(cause["identity"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{MEMBER}#")));
    }
    assert_eq!(assumed_roles(&moto).len(), 2, "one AssumeRole per account");

    // Another account without a role to assume is a usage error.
    let out = doctor(&moto.endpoint, &["audit", "--live", "--account", MEMBER]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role-name"));
}

#[test]
fn an_account_whose_role_is_denied_is_unknown_in_the_report_not_ok() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    fixture(
        &moto,
        "moto_account.py",
        &["--state", "healthy", "--account-id", MEMBER],
    );
    let proxy = FaultProxy::start(&moto.endpoint, &["--deny", "AssumeRole"]);
    let (audit, code) = audit_json(&proxy.endpoint, &["--account", MEMBER, "--role-name", ROLE]);
    assert_eq!(code, 3, "{audit}");
    let gaps = audit["not_inspected"].to_string();
    assert!(
        gaps.contains(&format!(
            "account {MEMBER}: sts:AssumeRole on arn:aws:iam::{MEMBER}:role/{ROLE} denied"
        )),
        "{gaps}"
    );
}

#[test]
fn diagnose_live_assumes_the_role_in_the_events_account() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let (built, event) = member_failure(&moto);
    let args = [
        "diagnose",
        "--event",
        event.to_str().unwrap(),
        "--live",
        "--format",
        "json",
    ];
    // Without the role, the caller's own account has no such subnet: the diagnosis stands on
    // the message and says why the network was not inspected.
    let without = doctor(&moto.endpoint, &args);
    assert_eq!(
        without.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&without.stderr)
    );
    let partial: Value = serde_json::from_slice(&without.stdout).unwrap();
    assert!(
        partial["not_inspected"]
            .to_string()
            .contains("does not exist in this account"),
        "{partial:#}"
    );
    assert_ne!(
        partial["findings"][0]["code"], "S3_ROUTE_MISSING",
        "{partial:#}"
    );
    let mut with_role = args.to_vec();
    with_role.extend(["--role-name", ROLE]);
    let out = doctor(&moto.endpoint, &with_role);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diagnosis: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        diagnosis["findings"][0]["code"], "S3_ROUTE_MISSING",
        "{diagnosis:#}"
    );
    let commands = diagnosis["findings"][0]["commands"].to_string();
    assert!(
        commands.contains(built["route_tables"]["priv-c"].as_str().unwrap()),
        "{commands}"
    );
}

#[test]
fn the_organization_is_audited_account_by_account() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let organization = fixture(&moto, "moto_organization.py", &["--accounts", "2"]);
    let members: Vec<String> = organization["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    fixture(
        &moto,
        "moto_account.py",
        &["--state", "broken", "--account-id", &members[0]],
    );
    fixture(
        &moto,
        "moto_account.py",
        &["--state", "healthy", "--account-id", &members[1]],
    );
    let (audit, code) = audit_json(&moto.endpoint, &["--organization", "--role-name", ROLE]);
    assert_eq!(code, 1, "{audit}");
    let accounts: std::collections::BTreeSet<String> = audit["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["account"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        accounts,
        members.iter().cloned().collect(),
        "the management account has no services here"
    );
    assert!(audit["root_causes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["account"] == members[0].as_str()));
}

#[test]
fn a_member_without_a_configured_name_is_named_from_the_organization() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let organization = fixture(&moto, "moto_organization.py", &["--accounts", "1"]);
    let member = organization["members"][0].as_str().unwrap().to_string();
    let built = fixture(
        &moto,
        "moto_scenario.py",
        &["--scenario", "s3-route-missing", "--account-id", &member],
    );
    let event = event_for("s3-route-missing", &built);
    let made = sinks(&moto, None);
    let report = invoke(
        &moto.endpoint,
        &[
            ("SNS_TOPIC_ARN", made["topic_arn"].as_str().unwrap()),
            ("MEMBER_ROLE_NAME", ROLE),
            ("ALLOWED_ACCOUNTS", &member),
        ],
        &[event.as_path(), event.as_path()],
        &[],
    );
    log_decisions(&report);
    let notifications = published(&moto);
    assert_eq!(notifications.len(), 2);
    for (_, message, _) in &notifications {
        assert!(
            message.contains(&format!(
                "Account {member} (member-0), region ap-northeast-2."
            )),
            "{message}"
        );
    }
}
