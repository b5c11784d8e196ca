//! The function's preflight modes end to end: the real `bootstrap` behind the Runtime API
//! emulator, moto as EC2, ECS, SNS and DynamoDB, the local Slack receiver. The account is
//! `tests/fixtures/moto_account.py`'s; changes are made through the API between invocations,
//! and CloudTrail events are the recorded shapes in `tests/fixtures/cloudtrail/`. moto lacks
//! `ecs:DescribeServiceRevisions`, so the gate's tests put `tests/fixtures/fault_proxy.py` in
//! front of it, answering that one call in the API reference's shape.

mod common;

use std::path::{Path, PathBuf};

use common::emulator::{
    free_port, invoke, log_decisions, published, sinks, slack_posts, webhook_url,
};
use common::moto::{fixture, FaultProxy, Moto};
use serde_json::{json, Value};

fn write(name: &str, value: &Value) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ecs-pull-doctor-preflight-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

/// The daily schedule's event, as an EventBridge schedule rule delivers it.
fn schedule_event() -> PathBuf {
    write(
        "schedule",
        &json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-12-01T00:00:00Z", "region": "ap-northeast-2",
            "resources": ["arn:aws:events:ap-northeast-2:123456789012:rule/ecs-pull-doctor-sweep"],
            "detail": {}
        }),
    )
}

/// The recorded DisassociateRouteTable event, naming `association`.
fn disassociation_event(name: &str, association: &str) -> PathBuf {
    let mut event: Value = serde_json::from_str(&common::read(
        "tests/fixtures/cloudtrail/disassociate-route-table.json",
    ))
    .unwrap();
    event["detail"]["requestParameters"]["associationId"] = association.into();
    write(name, &event)
}

struct Sinks {
    vars: Vec<(&'static str, String)>,
    port: u16,
}

fn setup(moto: &Moto) -> Sinks {
    let port = free_port();
    let made = sinks(moto, Some(&webhook_url(port)));
    Sinks {
        vars: vec![
            (
                "SNS_TOPIC_ARN",
                made["topic_arn"].as_str().unwrap().to_string(),
            ),
            (
                "SLACK_WEBHOOK_SECRET_ARN",
                made["secret_arn"].as_str().unwrap().to_string(),
            ),
            ("DEDUP_TABLE", made["table"].as_str().unwrap().to_string()),
        ],
        port,
    }
}

fn run(endpoint: &str, sinks: &Sinks, extra: &[(&str, &str)], events: &[&Path]) -> Value {
    let mut vars: Vec<(&str, &str)> = sinks.vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.extend_from_slice(extra);
    let report = invoke(
        endpoint,
        &vars,
        events,
        &["--slack-receiver", "--slack-port", &sinks.port.to_string()],
    );
    log_decisions(&report);
    report
}

fn bodies(report: &Value) -> Vec<Value> {
    report["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(i["outcome"], "response", "{i:#}");
            i["body"].clone()
        })
        .collect()
}

#[test]
fn the_sweep_posts_each_root_cause_once_stays_quiet_and_posts_a_fix_once() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = fixture(&moto, "moto_account.py", &["--state", "broken"]);
    let sinks = setup(&moto);
    let schedule = schedule_event();
    let report = run(&moto.endpoint, &sinks, &[], &[&schedule, &schedule]);
    let answers = bodies(&report);
    assert_eq!(answers[0]["status"], "audited", "{:#}", answers[0]);
    assert_eq!(
        answers[0]["new"].as_array().unwrap().len(),
        3,
        "{:#}",
        answers[0]
    );
    assert_eq!(answers[0]["sent_to"], json!(["sns", "slack"]));
    assert_eq!(
        answers[1]["new"],
        json!([]),
        "the second sweep is quiet: {:#}",
        answers[1]
    );
    assert_eq!(answers[1]["persisting"], 3);
    assert_eq!(answers[1]["sent_to"], json!([]));

    let notifications = published(&moto);
    assert_eq!(notifications.len(), 1, "{notifications:#?}");
    let (subject, message, attributes) = &notifications[0];
    assert_eq!(
        subject,
        "ECS pull preflight: Preflight (ap-northeast-2): 3 new root causes, 0 fixed"
    );
    assert_eq!(attributes["kind"], "sweep");
    assert!(
        message.contains("S3_ROUTE_MISSING") && message.contains("modify-vpc-endpoint"),
        "{message}"
    );
    assert!(message.contains("prod/api, prod/web"), "{message}");
    let posts = slack_posts(&report);
    assert_eq!(posts.len(), 1);
    assert!(posts[0].1["blocks"]
        .to_string()
        .contains("INTERFACE_ENDPOINT_MISSING"));

    // The report group gets its egress to S3: the next sweep says it is fixed, once.
    let group = built["security_groups"]["report"].as_str().unwrap();
    let prefix_list = built["s3_prefix_list"].as_str().unwrap();
    let status = std::process::Command::new("python3")
        .args(["-c", &format!(
            "import sys; sys.path.insert(0, {dir:?}); from moto_account import client; client('ec2', {endpoint:?}).authorize_security_group_egress(GroupId={group:?}, IpPermissions=[{{'IpProtocol': 'tcp', 'FromPort': 443, 'ToPort': 443, 'PrefixListIds': [{{'PrefixListId': {prefix_list:?}}}]}}])",
            dir = common::repo("tests/fixtures").display().to_string(),
            endpoint = moto.endpoint,
        )])
        .status()
        .unwrap();
    assert!(status.success());
    let report = run(&moto.endpoint, &sinks, &[], &[&schedule, &schedule]);
    let answers = bodies(&report);
    assert_eq!(answers[0]["new"], json!([]), "{:#}", answers[0]);
    let fixed = answers[0]["fixed"].as_array().unwrap();
    assert_eq!(fixed.len(), 1, "{:#}", answers[0]);
    assert!(fixed[0]
        .as_str()
        .unwrap()
        .starts_with("TASK_SG_BLOCKS_HTTPS#"));
    assert_eq!(
        answers[1]["fixed"],
        json!([]),
        "fixed is said once: {:#}",
        answers[1]
    );
    let notifications = published(&moto);
    assert_eq!(notifications.len(), 2);
    assert_eq!(
        notifications[1].0,
        "ECS pull preflight: Preflight (ap-northeast-2): 0 new root causes, 1 fixed"
    );
}

#[test]
fn a_disassociation_that_breaks_services_alarms_and_one_that_breaks_nothing_stays_quiet() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    fixture(&moto, "moto_account.py", &["--state", "healthy"]);
    let sinks = setup(&moto);
    let report = run(&moto.endpoint, &sinks, &[], &[&schedule_event()]);
    assert_eq!(
        bodies(&report)[0]["new"],
        json!([]),
        "a healthy account: nothing to say"
    );

    let spare = fixture(&moto, "moto_account.py", &["--disassociate", "spare"]);
    let harmless = disassociation_event("harmless", spare["association_id"].as_str().unwrap());
    let report = run(&moto.endpoint, &sinks, &[], &[&harmless]);
    let answer = &bodies(&report)[0];
    assert_eq!(answer["status"], "audited", "{answer:#}");
    assert_eq!(answer["event_name"], "DisassociateRouteTable");
    assert_eq!(answer["new"], json!([]), "{answer:#}");
    assert_eq!(answer["sent_to"], json!([]));
    assert!(published(&moto).is_empty());

    let broken = fixture(&moto, "moto_account.py", &["--disassociate", "c"]);
    let breaking = disassociation_event("breaking", broken["association_id"].as_str().unwrap());
    let report = run(&moto.endpoint, &sinks, &[], &[&breaking]);
    let answer = &bodies(&report)[0];
    assert_eq!(answer["new"].as_array().unwrap().len(), 1, "{answer:#}");
    assert!(answer["new"][0]
        .as_str()
        .unwrap()
        .starts_with("S3_ROUTE_MISSING#"));
    let notifications = published(&moto);
    assert_eq!(notifications.len(), 1, "{notifications:#?}");
    let (subject, message, attributes) = &notifications[0];
    assert_eq!(
        subject,
        "ECS pull preflight: DisassociateRouteTable breaks image pulls for prod/api, prod/web"
    );
    assert_eq!(attributes["kind"], "change");
    let event: Value = serde_json::from_str(&std::fs::read_to_string(&breaking).unwrap()).unwrap();
    let actor = event["detail"]["userIdentity"]["arn"].as_str().unwrap();
    assert!(
        message.contains(actor),
        "the change names who made it: {message}"
    );
    assert!(
        message.contains(broken["subnet"].as_str().unwrap()),
        "{message}"
    );
    let posts = slack_posts(&report);
    assert_eq!(posts.len(), 1);

    // The next sweep knows it already: quiet.
    let report = run(&moto.endpoint, &sinks, &[], &[&schedule_event()]);
    assert_eq!(bodies(&report)[0]["new"], json!([]));
    assert_eq!(published(&moto).len(), 1);
}

/// The case: the S3 endpoint already lacked two private route tables (known from the
/// sweep); removing another subnet's association sends it to the main table, which lacks the
/// route too. The cause keeps its identity, but half the services that could pull no longer
/// can: the alarm says so, naming the change and what it newly affects.
#[test]
fn a_disassociation_that_widens_a_known_cause_alarms_with_what_it_widened() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    fixture(&moto, "moto_account.py", &["--state", "broken"]);
    let sinks = setup(&moto);
    let report = run(&moto.endpoint, &sinks, &[], &[&schedule_event()]);
    let answer = &bodies(&report)[0];
    assert_eq!(answer["new"].as_array().unwrap().len(), 3, "{answer:#}");
    assert_eq!(answer["widened"], json!([]));

    let moved = fixture(&moto, "moto_account.py", &["--disassociate", "a"]);
    let widening = disassociation_event("widening", moved["association_id"].as_str().unwrap());
    let report = run(&moto.endpoint, &sinks, &[], &[&widening]);
    let answer = &bodies(&report)[0];
    assert_eq!(answer["new"], json!([]), "{answer:#}");
    let widened = common::strings(&answer["widened"]);
    assert_eq!(widened.len(), 1, "{answer:#}");
    assert!(
        widened[0].starts_with("S3_ROUTE_MISSING#vpce-"),
        "{widened:?}"
    );
    assert_eq!(answer["sent_to"], json!(["sns", "slack"]));

    let notifications = published(&moto);
    assert_eq!(notifications.len(), 2, "{notifications:#?}");
    let (subject, message, attributes) = &notifications[1];
    assert_eq!(
        subject,
        "ECS pull preflight: DisassociateRouteTable breaks image pulls for batch/report, prod/worker"
    );
    assert_eq!(attributes["kind"], "change");
    assert_eq!(attributes["codes"], "S3_ROUTE_MISSING");
    assert!(message.contains("Widened"), "{message}");
    let subnet = moved["subnet"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "now also: batch/report, prod/worker; subnets {subnet}"
        )),
        "{message}"
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(&widening).unwrap()).unwrap();
    let actor = event["detail"]["userIdentity"]["arn"].as_str().unwrap();
    assert!(message.contains(actor), "the change is named: {message}");
    let posts = slack_posts(&report);
    assert_eq!(posts.len(), 1);
    assert!(posts[0].1["blocks"]
        .to_string()
        .contains("Widened: S3_ROUTE_MISSING"));

    // Remembered as wide as it is now: the next sweep is quiet.
    let report = run(&moto.endpoint, &sinks, &[], &[&schedule_event()]);
    let answer = &bodies(&report)[0];
    assert_eq!(answer["widened"], json!([]), "{answer:#}");
    assert_eq!(answer["new"], json!([]));
    assert_eq!(published(&moto).len(), 2);
}

/// A PRE_SCALE_UP payload for the revision in `revision` (a DescribeServiceRevisions answer).
fn hook_event(name: &str, revision: &Value) -> PathBuf {
    let first = &revision["serviceRevisions"][0];
    write(
        name,
        &json!({
            "executionId": "a6a3d9c0-8c1f-4f5e-9d1e-2b8f3c4d5e6f",
            "lifecycleStage": "PRE_SCALE_UP",
            "resourceArn": first["serviceArn"].as_str().unwrap().replace(":service/", ":service-deployment/") + "/r9oGMZhAUeVxqB9Bvp3Lm",
            "executionDetails": {
                "serviceArn": first["serviceArn"],
                "targetServiceRevisionArn": first["serviceRevisionArn"],
                "testTrafficWeights": {},
                "productionTrafficWeights": {}
            }
        }),
    )
}

/// moto in front of the loopback stand-in that answers DescribeServiceRevisions with `revision`.
fn stand_in(moto: &Moto, name: &str, revision: &Value) -> FaultProxy {
    let answer = write(name, revision);
    FaultProxy::start(
        &moto.endpoint,
        &[
            "--answer",
            &format!("DescribeServiceRevisions={}", answer.display()),
        ],
    )
}

fn hook_status(report: &Value) -> Vec<String> {
    bodies(report)
        .iter()
        .map(|b| {
            assert_eq!(b.as_object().unwrap().len(), 1, "only hookStatus: {b}");
            b["hookStatus"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn the_gate_fails_a_revision_with_a_blocked_hop_and_passes_a_healthy_one() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = fixture(&moto, "moto_account.py", &["--state", "broken"]);
    let sinks = setup(&moto);

    // prod/worker reads a secret the VPC has no endpoint for: blocked.
    let worker = fixture(&moto, "moto_account.py", &["--revision", "prod/worker"]);
    let proxy = stand_in(&moto, "worker-revision", &worker);
    let report = run(
        &proxy.endpoint,
        &sinks,
        &[],
        &[&hook_event("worker-hook", &worker)],
    );
    assert_eq!(hook_status(&report), ["FAILED"]);
    let notifications = published(&moto);
    assert_eq!(notifications.len(), 1, "{notifications:#?}");
    assert_eq!(
        notifications[0].0,
        "ECS pull preflight: Deployment of prod/worker stopped: its tasks could not pull"
    );
    assert!(
        notifications[0].1.contains("INTERFACE_ENDPOINT_MISSING"),
        "{}",
        notifications[0].1
    );
    drop(proxy);

    // prod/api's new revision runs in subnets a and b, which have every route: it passes.
    let mut api = fixture(&moto, "moto_account.py", &["--revision", "prod/api"]);
    api["serviceRevisions"][0]["networkConfiguration"]["awsvpcConfiguration"]["subnets"] =
        json!([built["subnets"]["a"], built["subnets"]["b"]]);
    let proxy = stand_in(&moto, "api-revision", &api);
    let report = run(
        &proxy.endpoint,
        &sinks,
        &[],
        &[&hook_event("api-hook", &api)],
    );
    assert_eq!(hook_status(&report), ["SUCCEEDED"]);
    assert_eq!(published(&moto).len(), 1, "a passing gate posts nothing");
    // The same revision as deployed (subnet c lacks the S3 route) is stopped.
    let as_deployed = fixture(&moto, "moto_account.py", &["--revision", "prod/api"]);
    let proxy = stand_in(&moto, "api-deployed-revision", &as_deployed);
    let report = run(
        &proxy.endpoint,
        &sinks,
        &[],
        &[&hook_event("api-deployed-hook", &as_deployed)],
    );
    assert_eq!(hook_status(&report), ["FAILED"]);
}

#[test]
fn a_gate_that_cannot_decide_lets_the_deployment_through_and_warns_unless_fail_closed() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    fixture(&moto, "moto_account.py", &["--state", "healthy"]);
    let sinks = setup(&moto);
    let revision = fixture(&moto, "moto_account.py", &["--revision", "prod/web"]);
    // Straight to moto, which does not implement DescribeServiceRevisions.
    let hook = hook_event("undecided-hook", &revision);
    let unreadable = write(
        "unreadable-hook",
        &json!({"lifecycleStage": "PRE_SCALE_UP"}),
    );
    let report = run(&moto.endpoint, &sinks, &[], &[&hook, &unreadable]);
    assert_eq!(hook_status(&report), ["SUCCEEDED", "SUCCEEDED"]);
    let notifications = published(&moto);
    assert_eq!(
        notifications.len(),
        2,
        "each undecided gate warns: {notifications:#?}"
    );
    assert!(
        notifications[0].1.contains("could not decide"),
        "{}",
        notifications[0].1
    );
    assert!(
        notifications[0].1.contains("ecs:DescribeServiceRevisions"),
        "{}",
        notifications[0].1
    );

    let report = run(
        &moto.endpoint,
        &sinks,
        &[("GATE_FAIL_CLOSED", "true")],
        &[&hook],
    );
    assert_eq!(hook_status(&report), ["FAILED"]);

    // With the stand-in, the healthy revision passes.
    let proxy = stand_in(&moto, "web-revision", &revision);
    let report = run(
        &proxy.endpoint,
        &sinks,
        &[("GATE_FAIL_CLOSED", "true")],
        &[&hook],
    );
    assert_eq!(hook_status(&report), ["SUCCEEDED"]);
}

/// The emulator's options for a run whose invocations have `deadline` seconds, with no
/// invoked function ARN (so the function's own account is known only through STS).
fn with_deadline(sinks: &Sinks, deadline: &str) -> Vec<String> {
    [
        "--slack-receiver",
        "--slack-port",
        &sinks.port.to_string(),
        "--timeout",
        deadline,
        "--deadline-seconds",
        deadline,
        "--function-arn",
        "",
    ]
    .map(str::to_string)
    .to_vec()
}

#[test]
fn the_gate_answers_before_its_deadline_when_secrets_manager_and_sts_hang() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    fixture(&moto, "moto_account.py", &["--state", "healthy"]);
    let sinks = setup(&moto);
    let revision = fixture(&moto, "moto_account.py", &["--revision", "prod/web"]);
    let answer = write("hanging-web-revision", &revision);
    let proxy = FaultProxy::start(
        &moto.endpoint,
        &[
            "--answer",
            &format!("DescribeServiceRevisions={}", answer.display()),
            "--hang",
            "GetSecretValue",
            "--hang",
            "GetCallerIdentity",
        ],
    );
    let hook = hook_event("hanging-hook", &revision);
    let account = revision["serviceRevisions"][0]["serviceArn"]
        .as_str()
        .unwrap()
        .split(':')
        .nth(4)
        .unwrap()
        .to_string();
    let central = [
        ("MEMBER_ROLE_NAME", "ecs-pull-doctor-read"),
        ("ALLOWED_ACCOUNTS", account.as_str()),
    ];
    for (fail_closed, expected) in [("false", "SUCCEEDED"), ("true", "FAILED")] {
        let mut vars: Vec<(&str, &str)> =
            sinks.vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vars.extend_from_slice(&central);
        vars.push(("GATE_FAIL_CLOSED", fail_closed));
        let options = with_deadline(&sinks, "20");
        let options: Vec<&str> = options.iter().map(String::as_str).collect();
        let report = invoke(&proxy.endpoint, &vars, &[&hook], &options);
        log_decisions(&report);
        // Nothing remote is read at start-up, so a hanging secret or STS cannot stop it.
        assert!(report["init_error"].is_null(), "{report:#}");
        assert_eq!(hook_status(&report), [expected], "{report:#}");
    }
    // Each answer carried a warning through the sink that works (SNS); Slack's secret never
    // came, so Slack got nothing, and the warning says why the gate could not decide.
    let warnings = published(&moto);
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    for (_, body, _) in &warnings {
        assert!(body.contains("could not decide"), "{body}");
        assert!(
            body.contains("own account is not known"),
            "the warning names the cause: {body}"
        );
    }

    // Without central mode the gate needs no identity: the healthy revision passes, with
    // the secret still hanging.
    let options = with_deadline(&sinks, "20");
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let vars: Vec<(&str, &str)> = sinks.vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let report = invoke(&proxy.endpoint, &vars, &[&hook], &options);
    assert_eq!(hook_status(&report), ["SUCCEEDED"], "{report:#}");
}

/// A hook for `service_arn` and `revision_arn` as given (the rest as ECS sends it).
fn crafted_hook(name: &str, service_arn: &str, revision_arn: &str) -> PathBuf {
    write(
        name,
        &json!({
            "executionId": "a6a3d9c0-8c1f-4f5e-9d1e-2b8f3c4d5e6f",
            "lifecycleStage": "PRE_SCALE_UP",
            "executionDetails": {
                "serviceArn": service_arn,
                "targetServiceRevisionArn": revision_arn,
            }
        }),
    )
}

#[test]
fn the_gate_assumes_no_role_for_an_account_outside_the_allow_list_or_a_malformed_one() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = setup(&moto);
    let stranger = "333344445555";
    let hooks = [
        crafted_hook(
            "stranger-hook",
            &format!("arn:aws:ecs:ap-northeast-2:{stranger}:service/prod/web"),
            &format!("arn:aws:ecs:ap-northeast-2:{stranger}:service-revision/prod/web/1"),
        ),
        // A path in the account field would have built arn:aws:iam::../x:role/….
        crafted_hook(
            "path-hook",
            "arn:aws:ecs:ap-northeast-2:../x:service/prod/web",
            "arn:aws:ecs:ap-northeast-2:../x:service-revision/prod/web/1",
        ),
        // The revision in an allowed account, the service in another.
        crafted_hook(
            "mixed-hook",
            &format!("arn:aws:ecs:ap-northeast-2:{stranger}:service/prod/web"),
            "arn:aws:ecs:ap-northeast-2:210987654321:service-revision/prod/web/1",
        ),
    ];
    let paths: Vec<&Path> = hooks.iter().map(|p| p.as_path()).collect();
    let report = run(
        &moto.endpoint,
        &sinks,
        &[
            ("MEMBER_ROLE_NAME", "ecs-pull-doctor-read"),
            ("ALLOWED_ACCOUNTS", "210987654321"),
        ],
        &paths,
    );
    assert_eq!(
        hook_status(&report),
        ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"],
        "undecided, fail-open"
    );
    let data = common::moto::data(&moto);
    let assumed: Vec<&Value> = data["sts"]["AssumedRole"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    assert!(assumed.is_empty(), "no role assumed: {assumed:#?}");
    let warnings = published(&moto);
    assert_eq!(warnings.len(), 3, "{warnings:#?}");
    assert!(
        warnings[0]
            .1
            .contains("account 333344445555 is not allowed (ALLOWED_ACCOUNTS)"),
        "{}",
        warnings[0].1
    );
    assert!(
        warnings[1]
            .1
            .contains("serviceArn is not a 12-digit account ID"),
        "{}",
        warnings[1].1
    );
    assert!(
        warnings[2].1.contains(
            "targetServiceRevisionArn names account 210987654321, not the event's account 333344445555"
        ),
        "{}",
        warnings[2].1
    );
}

#[test]
fn a_malformed_cloudtrail_event_is_a_clear_error_and_an_unwatched_call_is_skipped() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = setup(&moto);
    let malformed = write(
        "malformed-change",
        &json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "detail": "oops"}),
    );
    let unwatched = write(
        "unwatched-change",
        &json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
        "detail": {"eventSource": "ec2.amazonaws.com", "eventName": "CreateTags", "requestParameters": {}}}),
    );
    let report = run(&moto.endpoint, &sinks, &[], &[&malformed, &unwatched]);
    let invocations = report["invocations"].as_array().unwrap();
    let first = &invocations[0];
    assert_eq!(first["outcome"], "error", "{first:#}");
    assert_eq!(first["body"]["errorType"], "MalformedEvent");
    assert!(
        first["body"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("detail"),
        "{first:#}"
    );
    let last = invocations.last().unwrap();
    assert_eq!(last["body"]["status"], "skipped", "{last:#}");
    assert!(published(&moto).is_empty());
}
