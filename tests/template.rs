//! The SAM template against the code: its IAM policy grants exactly the API calls the code
//! makes (found by reading the source, so a new call without a permission fails here), its
//! EventBridge pattern is `deploy/event-pattern.json` (the one tests/event_pattern.rs routes
//! through EventBridge), cfn-lint passes (and fails on a bad runtime, so it really runs the
//! SAM transform), `sam validate --lint` passes where the SAM CLI is installed, and the
//! `bootstrap` binary needs no newer glibc than provided.al2023's 2.34.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use ecs_pull_doctor::lambda::{SINK_IAM_ACTIONS, SWEEP_POLLER_IAM_ACTIONS};
use ecs_pull_doctor::network::live::{
    IAM_ACTIONS, MEMBER_IAM_ACTIONS, SWEEP_DISCOVERY_IAM_ACTIONS,
};
use regex::Regex;
use serde_json::Value;

/// The template as JSON, read with cfn-lint's own YAML decoder (it knows `!Ref` and friends).
fn template() -> Value {
    read_template("template.yaml")
}

fn read_template(relative: &str) -> Value {
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys\nfrom cfnlint.decode import decode\ntemplate, errors = decode(sys.argv[1])\nif errors: sys.exit(str(errors))\nprint(json.dumps(template))",
        ])
        .arg(common::repo(relative))
        .output()
        .expect("python3 with cfn-lint (pip install -r tests/requirements.txt)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every action the function's policies allow, statement by statement (an `Fn::If` branch
/// counts: it is granted when its condition holds).
fn granted_actions(template: &Value) -> Vec<String> {
    let mut actions = Vec::new();
    let policies = template["Resources"]["Function"]["Properties"]["Policies"]
        .as_array()
        .expect("the function has inline policies");
    for policy in policies {
        for statement in policy["Statement"].as_array().unwrap() {
            let statement = match statement.get("Fn::If") {
                Some(branches) => &branches[1],
                None => statement,
            };
            assert_eq!(statement["Effect"], "Allow", "{statement}");
            match &statement["Action"] {
                Value::String(action) => actions.push(action.clone()),
                Value::Array(list) => {
                    actions.extend(list.iter().map(|a| a.as_str().unwrap().to_string()))
                }
                other => panic!("unexpected Action {other}"),
            }
        }
    }
    actions
}

/// The SDK operations the code calls, as IAM actions, read from the source: each client's
/// fluent calls (`.describe_subnets()`, `.publish()`…) in the files that make AWS calls.
fn actions_called_in_source() -> BTreeSet<String> {
    let call = Regex::new(r"\.\s*([a-z][a-z_]+)\(\)").unwrap();
    let files: &[(&str, &[(&str, &str)])] = &[
        (
            "src/network/live.rs",
            &[
                ("describe_services", "ecs"),
                ("describe_container_instances", "ecs"),
                ("describe_", "ec2"),
            ],
        ),
        ("src/network/live/vpc.rs", &[("describe_", "ec2")]),
        (
            "src/network/live/tasks.rs",
            &[("list_tasks", "ecs"), ("describe_tasks", "ecs")],
        ),
        (
            "src/network/live/account.rs",
            &[
                ("describe_services", "ecs"),
                ("describe_task_definition", "ecs"),
                ("describe_container_instances", "ecs"),
                ("describe_service_revisions", "ecs"),
                ("describe_capacity_providers", "ecs"),
                ("list_", "ecs"),
                ("describe_", "ec2"),
            ],
        ),
        (
            "src/network/live/members.rs",
            &[
                ("assume_role", "sts"),
                ("describe_account", "organizations"),
                ("list_", "organizations"),
            ],
        ),
        (
            "src/lambda/runs.rs",
            &[
                ("get_item", "dynamodb"),
                ("put_item", "dynamodb"),
                ("update_item", "dynamodb"),
                ("batch_get_item", "dynamodb"),
            ],
        ),
        ("src/lambda/org_sweep.rs", &[("send_message", "sqs")]),
        (
            "src/lambda/known.rs",
            &[("get_item", "dynamodb"), ("put_item", "dynamodb")],
        ),
        (
            "src/lambda/sinks.rs",
            &[
                ("publish", "sns"),
                ("get_secret_value", "secretsmanager"),
                ("send_message", "sqs"),
            ],
        ),
        (
            "src/lambda/incidents.rs",
            &[("update_item", "dynamodb"), ("get_item", "dynamodb")],
        ),
        (
            "src/lambda/dedup.rs",
            &[
                ("put_item", "dynamodb"),
                ("update_item", "dynamodb"),
                ("get_item", "dynamodb"),
                ("delete_item", "dynamodb"),
            ],
        ),
    ];
    let mut actions = BTreeSet::new();
    for (file, services) in files {
        let source = std::fs::read_to_string(common::repo(file)).unwrap();
        for captures in call.captures_iter(&source) {
            let operation = &captures[1];
            let Some((_, service)) = services
                .iter()
                .find(|(prefix, _)| operation.starts_with(prefix))
            else {
                continue;
            };
            let pascal: String = operation
                .split('_')
                .map(|word| {
                    let mut chars = word.chars();
                    chars.next().map_or(String::new(), |first| {
                        first.to_ascii_uppercase().to_string() + chars.as_str()
                    })
                })
                .collect();
            // SendMessageBatch is authorised as sqs:SendMessage.
            let pascal = match pascal.as_str() {
                "SendMessageBatch" => "SendMessage".to_string(),
                _ => pascal,
            };
            actions.insert(format!("{service}:{pascal}"));
        }
    }
    actions
}

#[test]
fn the_policy_grants_exactly_the_calls_the_code_makes() {
    let template = template();
    let granted = granted_actions(&template);
    let granted_set: BTreeSet<String> = granted.iter().cloned().collect();
    assert_eq!(
        granted.len(),
        granted_set.len(),
        "an action is granted twice: {granted:?}"
    );
    assert!(
        granted.iter().all(|a| !a.contains('*')),
        "no wildcard actions: {granted:?}"
    );

    let declared: BTreeSet<String> = IAM_ACTIONS
        .iter()
        .chain(SINK_IAM_ACTIONS)
        .chain(MEMBER_IAM_ACTIONS)
        .chain(SWEEP_DISCOVERY_IAM_ACTIONS)
        .chain(SWEEP_POLLER_IAM_ACTIONS)
        .map(|a| a.to_string())
        .collect();
    assert_eq!(
        granted_set, declared,
        "template policy vs the code's IAM action lists"
    );

    let called = actions_called_in_source();
    assert!(
        called.len() >= 14,
        "the source scan found too few calls to be trusted: {called:?}"
    );
    let missing: Vec<&String> = called.difference(&declared).collect();
    assert!(
        missing.is_empty(),
        "the code calls {missing:?} without a permission in the template"
    );
    let unused: Vec<&String> = declared
        .difference(&called)
        .filter(|a| !SWEEP_POLLER_IAM_ACTIONS.contains(&a.as_str()))
        .collect();
    assert!(
        unused.is_empty(),
        "the template grants {unused:?}, which the code never calls"
    );

    // Only the inspection's Describe calls are unscoped (IAM cannot scope them).
    for policy in template["Resources"]["Function"]["Properties"]["Policies"]
        .as_array()
        .unwrap()
    {
        for statement in policy["Statement"].as_array().unwrap() {
            let statement = statement
                .get("Fn::If")
                .map_or(statement, |branches| &branches[1]);
            if statement["Resource"] == "*" {
                // Describe calls, and ListAccounts, which names no resource.
                assert!(
                    ["InspectNetwork", "DiscoverSweepAccounts"]
                        .contains(&statement["Sid"].as_str().unwrap_or("")),
                    "{statement}"
                );
            }
        }
    }
}

#[test]
fn the_rule_uses_the_tested_event_pattern() {
    let template = template();
    let event = &template["Resources"]["Function"]["Properties"]["Events"]["PullFailures"];
    assert_eq!(event["Type"], "EventBridgeRule");
    let pattern: Value = serde_json::from_str(&common::read("deploy/event-pattern.json")).unwrap();
    assert_eq!(event["Properties"]["Pattern"], pattern);
}

#[test]
fn the_recovery_rule_is_there_only_with_an_incident_channel_and_matches_what_closes_one() {
    let template = template();
    let rule = &template["Resources"]["RecoveryRule"];
    assert_eq!(rule["Condition"], "HasIncidents");
    let pattern: Value =
        serde_json::from_str(&common::read("deploy/recovery-pattern.json")).unwrap();
    assert_eq!(rule["Properties"]["EventPattern"], pattern);
    assert_eq!(
        pattern["detail-type"],
        serde_json::json!([
            ecs_pull_doctor::service_event::SERVICE_ACTION,
            ecs_pull_doctor::service_event::DEPLOYMENT_STATE_CHANGE
        ])
    );
    assert_eq!(
        pattern["detail"]["eventName"],
        serde_json::json!(ecs_pull_doctor::service_event::INCIDENT_EVENT_NAMES)
    );
    assert_eq!(
        template["Resources"]["RecoveryPermission"]["Properties"]["SourceArn"]["Fn::GetAtt"][0],
        "RecoveryRule"
    );
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(
        env["PAGERDUTY_ROUTING_KEY_SECRET_ARN"]["Ref"],
        "PagerDutyRoutingKeySecretArn"
    );
    assert_eq!(
        env["SLACK_BOT_TOKEN_SECRET_ARN"]["Ref"],
        "SlackBotTokenSecretArn"
    );
    assert_eq!(env["SLACK_CHANNEL_ID"]["Ref"], "SlackChannelId");
    assert_eq!(
        env["TEAMS_WEBHOOK_URL_SECRET_ARN"]["Ref"],
        "TeamsWebhookUrlSecretArn"
    );
    assert_eq!(env["CHATBOT_NOTIFICATIONS"]["Ref"], "ChatbotNotifications");
    assert_eq!(env["INCIDENT_QUIET_MINUTES"]["Ref"], "IncidentQuietMinutes");
    assert_eq!(env["ROUTES"]["Ref"], "Routes");
    let quiet_check = &template["Resources"]["IncidentQuietCheckRule"];
    assert_eq!(quiet_check["Condition"], "HasIncidents");
    let (name, value) = ecs_pull_doctor::lambda::preflight::QUIET_CHECK;
    let input: Value = serde_json::from_str(
        quiet_check["Properties"]["Targets"][0]["Input"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(input, serde_json::json!({ name: value }));
    let quiet = &template["Parameters"]["IncidentQuietMinutes"];
    assert_eq!(
        quiet["Default"],
        ecs_pull_doctor::config::DEFAULT_INCIDENT_QUIET_MINUTES
    );
}

#[test]
fn the_change_rule_watches_exactly_the_calls_the_code_reads() {
    let template = template();
    let rule = &template["Resources"]["ChangeRule"];
    assert_eq!(rule["Condition"], "HasChangeAlarm");
    let pattern: Value = serde_json::from_str(&common::read("deploy/change-pattern.json")).unwrap();
    assert_eq!(rule["Properties"]["EventPattern"], pattern);
    let sources: Vec<&str> = ecs_pull_doctor::change::WATCHED
        .iter()
        .map(|(s, _)| *s)
        .collect();
    let names: Vec<&str> = ecs_pull_doctor::change::WATCHED
        .iter()
        .flat_map(|(_, names)| names.iter().copied())
        .collect();
    assert_eq!(pattern["detail"]["eventSource"], serde_json::json!(sources));
    assert_eq!(pattern["detail"]["eventName"], serde_json::json!(names));
    assert_eq!(
        template["Resources"]["ChangePermission"]["Properties"]["SourceArn"]["Fn::GetAtt"][0],
        "ChangeRule"
    );
}

/// The sweep's workers run apart from the event function, so a run neither takes the
/// concurrency reserved for ECS's events nor is throttled by it, with the same binary, role
/// and configuration (Globals, never set on one function alone).
#[test]
fn the_organisation_sweep_has_its_own_workers_on_the_function_role() {
    let template = template();
    let worker = &template["Resources"]["SweepWorker"];
    assert_eq!(worker["Condition"], "HasOrgSweep");
    assert_eq!(worker["Metadata"]["BuildMethod"], "makefile");
    assert_eq!(
        worker["Properties"]["Role"]["Fn::GetAtt"][0],
        "FunctionRole"
    );
    assert!(
        worker["Properties"]
            .get("ReservedConcurrentExecutions")
            .is_none(),
        "the mapping's MaximumConcurrency bounds the workers"
    );
    let function = &template["Resources"]["Function"]["Properties"];
    assert_eq!(
        function["ReservedConcurrentExecutions"]["Fn::If"][1]["Ref"],
        "ReservedConcurrency"
    );
    for properties in [function, &worker["Properties"]] {
        for shared in [
            "CodeUri",
            "Runtime",
            "Architectures",
            "MemorySize",
            "Timeout",
            "Environment",
            "LoggingConfig",
        ] {
            assert!(properties.get(shared).is_none(), "{shared} is in Globals");
        }
    }
    let mapping = &template["Resources"]["SweepWorkMapping"]["Properties"];
    assert_eq!(mapping["FunctionName"]["Ref"], "SweepWorker");
    assert_eq!(mapping["BatchSize"], 1);
    assert_eq!(
        mapping["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );
    assert_eq!(
        mapping["ScalingConfig"]["MaximumConcurrency"]["Ref"],
        "SweepConcurrency"
    );
    // Lambda's advice for an SQS source: a visibility timeout of six times the function's.
    let timeout = template["Globals"]["Function"]["Timeout"].as_u64().unwrap();
    let queue = &template["Resources"]["SweepQueue"]["Properties"];
    assert!(queue["VisibilityTimeout"].as_u64().unwrap() >= 6 * timeout);
    assert!(
        std::fs::read_to_string(common::repo("Makefile"))
            .unwrap()
            .contains("build-Function build-SweepWorker:"),
        "sam build finds a make target for each function"
    );
}

#[test]
fn the_sweep_runs_daily_by_default_and_the_gate_role_invokes_only_this_function() {
    let template = template();
    let parameters = &template["Parameters"];
    assert_eq!(parameters["SweepSchedule"]["Default"], "rate(1 day)");
    assert_eq!(parameters["DeploymentGate"]["Default"], "off");
    assert_eq!(parameters["GateFailClosed"]["Default"], "false");
    let rule = &template["Resources"]["SweepRule"];
    assert_eq!(rule["Condition"], "HasSweep");
    assert_eq!(
        rule["Properties"]["ScheduleExpression"]["Ref"],
        "SweepSchedule"
    );

    let role = &template["Resources"]["GateInvokeRole"];
    assert_eq!(role["Condition"], "HasGate");
    let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Principal"]["Service"], "ecs.amazonaws.com");
    let statement = &role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
    assert_eq!(statement.as_array().unwrap().len(), 1);
    assert_eq!(statement[0]["Action"], "lambda:InvokeFunction");
    assert_eq!(statement[0]["Resource"]["Fn::GetAtt"][0], "Function");
    assert_eq!(
        template["Outputs"]["GateInvokeRoleArn"]["Value"]["Fn::GetAtt"][0],
        "GateInvokeRole"
    );
    let variables = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(variables["GATE_FAIL_CLOSED"]["Ref"], "GateFailClosed");
}

#[test]
fn the_function_is_set_up_for_asynchronous_failures() {
    let template = template();
    let shared = &template["Globals"]["Function"];
    assert_eq!(shared["Runtime"], "provided.al2023");
    assert_eq!(shared["Handler"], "bootstrap");
    assert_eq!(shared["MemorySize"], 128);
    // Three rounds of calls at up to 20 s each, then the sinks.
    assert!(
        shared["Timeout"].as_u64().unwrap() >= 70,
        "{}",
        shared["Timeout"]
    );
    let function = &template["Resources"]["Function"]["Properties"];
    let invoke = &function["EventInvokeConfig"];
    assert_eq!(invoke["MaximumRetryAttempts"], 2);
    assert_eq!(
        invoke["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0],
        "FailureQueue"
    );
    let table = &template["Resources"]["DedupTable"]["Properties"];
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        ecs_pull_doctor::lambda::dedup::TTL_ATTRIBUTE
    );
    assert_eq!(table["KeySchema"][0]["AttributeName"], "pk");
    for output in ["FunctionArn", "TopicArn", "FailureQueueUrl"] {
        assert!(template["Outputs"].get(output).is_some(), "output {output}");
    }
}

fn cfn_lint(path: &Path) -> std::process::Output {
    // The console script's entry point, through python3, so the pinned cfn-lint is the one
    // that runs whatever is first on the PATH.
    Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom cfnlint.runner import main\nsys.argv[0] = 'cfn-lint'\nsys.exit(main())",
            "--",
        ])
        .arg(path)
        .output()
        .expect("python3 with cfn-lint (pip install -r tests/requirements.txt)")
}

#[test]
fn the_member_stack_names_no_account_and_grants_exactly_the_reads() {
    let text = common::read("deploy/member.yaml");
    let literal = Regex::new(r"\b[0-9]{12}\b").unwrap();
    assert!(
        literal.find(&text).is_none(),
        "the member stack must deploy anywhere (StackSets): {:?}",
        literal.find(&text).map(|m| m.as_str())
    );
    let member = read_template("deploy/member.yaml");
    let role = &member["Resources"]["ReadRole"]["Properties"];
    let statements = role["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    assert_eq!(statements.len(), 1);
    let granted: BTreeSet<String> = statements[0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let reads: BTreeSet<String> = IAM_ACTIONS.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        granted, reads,
        "the read role grants exactly the inspection's and the audit's calls"
    );
    assert!(granted
        .iter()
        .all(|a| a.contains(":Describe") || a.contains(":List")));

    // Trusted by the central function's role only, with the external ID when one is set.
    let trust = &role["AssumeRolePolicyDocument"]["Statement"];
    assert_eq!(trust.as_array().unwrap().len(), 1);
    assert_eq!(
        trust[0]["Principal"]["AWS"]["Ref"],
        "CentralFunctionRoleArn"
    );
    let with_id = &trust[0]["Condition"]["Fn::If"][1]["StringEquals"];
    assert_eq!(with_id["sts:ExternalId"]["Ref"], "ExternalId");
    assert_eq!(with_id["aws:PrincipalAccount"]["Ref"], "CentralAccountId");

    // It forwards exactly what the central rules match.
    let pull: Value = serde_json::from_str(&common::read("deploy/event-pattern.json")).unwrap();
    let change: Value = serde_json::from_str(&common::read("deploy/change-pattern.json")).unwrap();
    let recovery: Value =
        serde_json::from_str(&common::read("deploy/recovery-pattern.json")).unwrap();
    assert_eq!(
        member["Resources"]["PullFailureRule"]["Properties"]["EventPattern"],
        pull
    );
    assert_eq!(
        member["Resources"]["RecoveryRule"]["Properties"]["EventPattern"],
        recovery
    );
    assert_eq!(
        member["Resources"]["ChangeRule"]["Properties"]["EventPattern"],
        change
    );
    let central = template();
    assert_eq!(
        central["Resources"]["MemberPullFailureRule"]["Properties"]["EventPattern"],
        pull
    );
    assert_eq!(
        central["Resources"]["MemberChangeRule"]["Properties"]["EventPattern"],
        change
    );
    assert_eq!(
        central["Resources"]["MemberRecoveryRule"]["Properties"]["EventPattern"],
        recovery
    );
    assert_eq!(
        central["Resources"]["MemberRecoveryRule"]["Condition"],
        "HasMemberIncidents"
    );
}

#[test]
fn the_central_function_may_assume_only_the_member_role_of_the_organisation() {
    let template = template();
    let policies = template["Resources"]["Function"]["Properties"]["Policies"][0]["Statement"]
        .as_array()
        .unwrap();
    let assume = policies
        .iter()
        .filter_map(|s| s.get("Fn::If"))
        .find(|branches| branches[0] == "HasMembers")
        .map(|branches| &branches[1])
        .expect("an AssumeMemberRoles statement under HasMembers");
    assert_eq!(assume["Action"], "sts:AssumeRole");
    assert_eq!(
        assume["Resource"]["Fn::Sub"],
        "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"
    );
    assert_eq!(
        assume["Condition"]["Fn::If"][1]["StringEquals"]["aws:ResourceOrgID"]["Ref"],
        "OrganizationId"
    );
    let bus = &template["Resources"]["OrganizationBusPolicy"]["Properties"]["Statement"];
    assert_eq!(
        bus["Condition"]["StringEquals"]["aws:PrincipalOrgID"]["Ref"],
        "OrganizationId"
    );
    let variables = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(variables["MEMBER_ROLE_NAME"]["Ref"], "MemberRoleName");
    assert_eq!(
        variables["ORGANIZATION_ID"]["Fn::If"][1]["Ref"],
        "OrganizationId"
    );
    // Trusting any account is a decision, never the default, and only inside an organisation.
    let allowed = &template["Parameters"]["AllowedAccounts"];
    assert_eq!(allowed["Default"], "");
    let any = &template["Rules"]["AnyAccountOnlyInsideTheOrganization"];
    assert_eq!(
        any["RuleCondition"]["Fn::Equals"],
        serde_json::json!([{"Ref": "AllowedAccounts"}, "*"])
    );
    assert_eq!(
        any["Assertions"][0]["Assert"]["Fn::Not"][0]["Fn::Equals"],
        serde_json::json!([{"Ref": "OrganizationId"}, ""])
    );
    assert!(template["Rules"]["MembersNameTheirAccounts"].is_object());
}

#[test]
fn cfn_lint_passes_and_catches_a_bad_runtime() {
    let member = cfn_lint(&common::repo("deploy/member.yaml"));
    assert!(
        member.status.success(),
        "cfn-lint deploy/member.yaml: {}{}",
        String::from_utf8_lossy(&member.stdout),
        String::from_utf8_lossy(&member.stderr)
    );
    let out = cfn_lint(&common::repo("template.yaml"));
    assert!(
        out.status.success(),
        "cfn-lint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = std::env::temp_dir().join(format!("ecs-pull-doctor-bad-{}.yaml", std::process::id()));
    std::fs::write(
        &bad,
        common::read("template.yaml").replace("provided.al2023", "provided.al2099"),
    )
    .unwrap();
    let out = cfn_lint(&bad);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && report.contains("provided.al2099"),
        "{report}"
    );
}

/// `sam validate --lint`: the SAM CLI from `SAM_CLI` or the PATH. The SAM CLI is not a build
/// dependency, so a plain `cargo test` reports this as ignored; `make test` installs the pinned
/// one (`make sam-cli`) and runs it.
#[test]
#[ignore = "needs the SAM CLI (SAM_CLI or sam on the PATH); make test installs one and runs this"]
fn sam_validate_lint_passes() {
    let sam = std::env::var("SAM_CLI").unwrap_or_else(|_| "sam".to_string());
    for template in ["template.yaml", "deploy/member.yaml"] {
        let out = Command::new(&sam)
            .args([
                "validate",
                "--lint",
                "--region",
                "ap-northeast-2",
                "--template-file",
            ])
            .arg(common::repo(template))
            .env("SAM_CLI_TELEMETRY", "0")
            .output()
            .unwrap_or_else(|e| {
                panic!("{sam} does not run ({e}): make sam-cli installs the pinned SAM CLI")
            });
        assert!(
            out.status.success(),
            "sam validate --lint {template}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn bootstrap_runs_on_provided_al2023_glibc() {
    let out = Command::new("objdump")
        .args(["-T", env!("CARGO_BIN_EXE_bootstrap")])
        .output()
        .expect("objdump (binutils)");
    let symbols = String::from_utf8_lossy(&out.stdout);
    let version = Regex::new(r"GLIBC_(\d+)\.(\d+)").unwrap();
    let newest = version
        .captures_iter(&symbols)
        .map(|c| (c[1].parse::<u32>().unwrap(), c[2].parse::<u32>().unwrap()))
        .max()
        .expect("bootstrap links glibc dynamically");
    assert!(
        newest <= (2, 34),
        "bootstrap needs GLIBC_{}.{}; provided.al2023 has 2.34",
        newest.0,
        newest.1
    );
}
