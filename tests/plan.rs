//! `audit --plan`: a Terraform plan's effect on the pull paths of the bundled account
//! (`events/audit/account.json`), through the real CLI; and the same plan over moto's live
//! account and over a snapshot of it, which must agree. The plans in `tests/fixtures/plans/`
//! are written for these cases in `terraform show -json`'s format; those in `real/` are real
//! plans from public repositories (sources in `research/terraform-plans/SOURCES.md`). Every
//! one is checked against the documented schema first.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn plans(dir: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(common::repo(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    found.sort();
    found
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-pull-doctor"))
        .args(args)
        .env_remove("DIAGNOSIS_LANG")
        .env_remove("IP_RANGES_FILE")
        // Nor the user's copy (`ip-ranges update`): these runs have no ip-ranges.
        .env("XDG_DATA_HOME", common::no_user_data())
        .current_dir(common::repo("."))
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `audit --network <bundled account> --plan <plan> --format json`: the plan member and the
/// exit status.
fn preflight(plan: &Path) -> (Value, i32) {
    let plan = plan.display().to_string();
    let (code, out, err) = run(&[
        "audit",
        "--network",
        "events/audit/account.json",
        "--plan",
        &plan,
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{plan}: exit {code}, not JSON ({e}): {out}\n{err}"));
    (json["plan"].clone(), code)
}

fn fixture(name: &str) -> PathBuf {
    common::repo(&format!("tests/fixtures/plans/{name}.json"))
}

fn codes(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect()
}

/// The JSON output format's documented members (developer.hashicorp.com/terraform/internals/
/// json-format): the kinds of action, and what each resource change must carry.
#[test]
fn every_plan_has_the_documented_shape() {
    const ACTIONS: &[&[&str]] = &[
        &["no-op"],
        &["create"],
        &["read"],
        &["update"],
        &["delete"],
        &["delete", "create"],
        &["create", "delete"],
    ];
    let all: Vec<PathBuf> = plans("tests/fixtures/plans")
        .into_iter()
        .chain(plans("tests/fixtures/plans/real"))
        .collect();
    assert!(all.len() >= 9, "{all:?}");
    for path in all {
        let plan: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let name = path.display();
        assert!(plan["format_version"].is_string(), "{name}");
        assert!(plan["terraform_version"].is_string(), "{name}");
        for rc in plan["resource_changes"].as_array().unwrap() {
            let address = rc["address"].as_str().unwrap();
            assert!(
                ["managed", "data"].contains(&rc["mode"].as_str().unwrap()),
                "{name} {address}"
            );
            let type_name = format!(
                "{}.{}",
                rc["type"].as_str().unwrap(),
                rc["name"].as_str().unwrap()
            );
            assert!(
                address.contains(&type_name),
                "{name}: {address} is not {type_name}"
            );
            if let Some(module) = rc["module_address"].as_str() {
                assert!(
                    address.starts_with(&format!("{module}.")),
                    "{name} {address}"
                );
            }
            let actions: Vec<&str> = rc["change"]["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            assert!(
                ACTIONS.contains(&actions.as_slice()),
                "{name} {address}: {actions:?}"
            );
            let change = &rc["change"];
            assert!(
                change.get("before").is_some() && change.get("after").is_some(),
                "{name} {address}"
            );
            if actions == ["create"] {
                assert!(change["before"].is_null(), "{name} {address}");
            }
            if actions == ["delete"] {
                assert!(change["after"].is_null(), "{name} {address}");
            }
        }
        if let Some(configuration) = plan.get("configuration") {
            assert!(configuration["root_module"].is_object(), "{name}");
        }
    }
}

/// The reference case before apply: subnet b moves to a new route table the S3 gateway
/// endpoint is not associated with. One cause, named by both of the plan's resources, fixed
/// in Terraform where the plan holds the endpoint; the CLI command, which would name a table
/// that does not exist yet, is not offered.
#[test]
fn a_new_route_table_without_the_s3_endpoint_is_introduced_with_its_terraform_fix() {
    let (plan, code) = preflight(&fixture("new-table-without-endpoint"));
    assert_eq!(code, 1, "{plan:#}");
    assert_eq!(codes(&plan["introduced"]), ["S3_ROUTE_MISSING"]);
    let cause = &plan["introduced"][0];
    assert_eq!(
        cause["addresses"],
        serde_json::json!(["aws_route_table.private_e", "aws_route_table_association.b"])
    );
    // Known before for two other tables; the plan widens it to subnet b and the new table.
    let widened = common::strings(&cause["widened_to"]);
    assert!(
        widened.contains(&"subnet-71de7b30fb7a1acfe".to_string()),
        "{widened:?}"
    );
    assert!(
        widened.contains(&"aws_route_table.private_e".to_string()),
        "{widened:?}"
    );
    assert!(widened.contains(&"prod/worker".to_string()), "{widened:?}");
    let fix = cause["terraform_fix"].as_str().unwrap();
    assert!(
        fix.starts_with("Add aws_route_table.private_e.id, aws_route_table.private_c.id, aws_route_table.private_d.id to aws_vpc_endpoint.s3's route_table_ids"),
        "{fix}"
    );
    assert!(
        fix.contains("resource \"aws_vpc_endpoint_route_table_association\""),
        "{fix}"
    );
    assert_eq!(cause["commands"], serde_json::json!([]));
    assert!(
        cause["summary"]
            .as_str()
            .unwrap()
            .contains("aws_route_table.private_e"),
        "placeholders are shown as the plan's addresses: {}",
        cause["summary"]
    );
    assert!(!cause.to_string().contains("rtb-aws_"), "{cause}");
    assert_eq!(
        codes(&plan["unchanged"]),
        ["INTERFACE_ENDPOINT_MISSING", "TASK_SG_BLOCKS_HTTPS"]
    );
    assert_eq!(plan["fixed"], serde_json::json!([]));
}

/// The same plan with the new table in the endpoint's `route_table_ids`, which Terraform
/// knows only after apply and the configuration resolves: nothing introduced.
#[test]
fn the_same_plan_with_the_endpoint_association_introduces_nothing() {
    let (plan, code) = preflight(&fixture("new-table-with-endpoint"));
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(plan["introduced"], serde_json::json!([]));
    assert_eq!(plan["undecided"], false);
    assert_eq!(
        codes(&plan["unchanged"]),
        [
            "S3_ROUTE_MISSING",
            "INTERFACE_ENDPOINT_MISSING",
            "TASK_SG_BLOCKS_HTTPS"
        ]
    );
    // What is left keeps its fix, in Terraform where the plan holds the endpoint.
    let fix = plan["unchanged"][0]["terraform_fix"].as_str().unwrap();
    assert!(fix.starts_with("Add aws_route_table.private_c.id, aws_route_table.private_d.id to aws_vpc_endpoint.s3's"), "{fix}");
}

#[test]
fn removing_the_egress_the_services_need_is_introduced() {
    let (plan, code) = preflight(&fixture("tasks-egress-to-endpoints-only"));
    assert_eq!(code, 1);
    assert_eq!(codes(&plan["introduced"]), ["TASK_SG_BLOCKS_HTTPS"]);
    let cause = &plan["introduced"][0];
    assert_eq!(
        cause["identity"],
        "TASK_SG_BLOCKS_HTTPS#pl-78a54011#sg-9bd6ea0b5622758bd"
    );
    assert_eq!(
        cause["addresses"],
        serde_json::json!(["aws_security_group.tasks"])
    );
    assert_eq!(
        cause["services"],
        serde_json::json!(["prod/api", "prod/web", "prod/worker"])
    );
    let fix = cause["terraform_fix"].as_str().unwrap();
    assert!(
        fix.contains("security_group_id = aws_security_group.tasks.id"),
        "{fix}"
    );
    assert!(fix.contains("prefix_list_id    = \"pl-78a54011\""), "{fix}");
}

#[test]
fn adding_the_missing_secrets_manager_endpoint_fixes_its_cause() {
    let (plan, code) = preflight(&fixture("add-secretsmanager-endpoint"));
    assert_eq!(code, 0);
    assert_eq!(codes(&plan["fixed"]), ["INTERFACE_ENDPOINT_MISSING"]);
    assert_eq!(
        plan["fixed"][0]["addresses"],
        serde_json::json!(["aws_vpc_endpoint.secretsmanager"])
    );
    assert_eq!(plan["introduced"], serde_json::json!([]));
    assert_eq!(
        codes(&plan["unchanged"]),
        ["S3_ROUTE_MISSING", "TASK_SG_BLOCKS_HTTPS"]
    );
}

/// A route table known only after apply, from a module's output the plan does not resolve:
/// the VPC's paths are undecided (exit 3), and nothing is called fixed.
#[test]
fn a_value_known_only_after_apply_without_a_reference_is_undecided_never_ok() {
    let (plan, code) = preflight(&fixture("table-from-module-output"));
    assert_eq!(code, 3, "{plan:#}");
    assert_eq!(plan["undecided"], true);
    assert_eq!(plan["fixed"], serde_json::json!([]));
    assert_eq!(plan["introduced"], serde_json::json!([]));
    assert_eq!(
        codes(&plan["unverified"]),
        [
            "S3_ROUTE_MISSING",
            "INTERFACE_ENDPOINT_MISSING",
            "TASK_SG_BLOCKS_HTTPS"
        ]
    );
    let (_, text, _) = run(&[
        "audit",
        "--network",
        "events/audit/account.json",
        "--plan",
        "tests/fixtures/plans/table-from-module-output.json",
    ]);
    assert!(
        text.contains("aws_route_table_association.b.route_table_id is known only after apply (from module.network.private_route_table_id)"),
        "{text}"
    );
}

/// Real plans of other accounts: read whole, nothing introduced over an account they do not
/// describe, what they leave undecided said (and why), and every changed resource of a type
/// the audit does not read listed as such.
#[test]
fn real_plans_are_read_and_what_is_not_read_is_listed() {
    // (file, exit status, what the text says is undecided)
    let expected = [
        // New groups in a module called with for_each, no egress written, no separate rules.
        ("checkov-for-each-module-sg.json", 3, Some("module.sg[\"awful_example\"].aws_security_group.bad.egress is known only after apply: the configuration does not write it, or writes it as a dynamic block")),
        // Every change a no-op: nothing to decide.
        ("jondon09-ssm-interface-endpoints.json", 0, None),
        // terraform-aws-modules/vpc: the VPC's ID through a local.
        ("tfcompliance-issue158-vpc-module-v012.json", 3, Some("module.vpc.aws_subnet.private[0].vpc_id is known only after apply (from local.vpc_id)")),
        // Terraform 0.12's format records the resource a reference names, not its attribute.
        ("tfcompliance-issue171-igw-routes-v012.json", 3, Some("aws_subnet.test-subnet-privA.vpc_id is known only after apply (from aws_vpc.test-vpc: a plan of format 0.1 does not record which attribute)")),
    ];
    let found: Vec<String> = plans("tests/fixtures/plans/real")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        found,
        expected
            .iter()
            .map(|(f, _, _)| f.to_string())
            .collect::<Vec<_>>()
    );
    for (file, status, undecided) in expected {
        let path = common::repo(&format!("tests/fixtures/plans/real/{file}"));
        let (_, text, _) = run(&[
            "audit",
            "--network",
            "events/audit/account.json",
            "--plan",
            path.to_str().unwrap(),
        ]);
        match undecided {
            Some(says) => assert!(text.contains(says), "{file}: {text}"),
            None => assert!(!text.contains("Undecided"), "{file}: {text}"),
        }
        let (plan, code) = preflight(&path);
        assert_eq!(code, status, "{file}: {plan:#}");
        assert_eq!(
            plan["introduced"],
            serde_json::json!([]),
            "{}",
            path.display()
        );
        let raw: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let expected_ignored: Vec<&str> = raw["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|rc| rc["mode"] == "managed")
            .filter(|rc| {
                let actions = &rc["change"]["actions"];
                !(actions == &serde_json::json!(["no-op"])
                    || actions == &serde_json::json!(["read"]))
            })
            .filter(|rc| {
                let kind = rc["type"].as_str().unwrap();
                !ecs_pull_doctor::tfplan::apply::READ_TYPES.contains(&kind)
                    && !ecs_pull_doctor::tfplan::apply::UNMODELLED_TYPES.contains(&kind)
            })
            .map(|rc| rc["address"].as_str().unwrap())
            .collect();
        assert_eq!(
            common::strings(&plan["ignored"]),
            expected_ignored,
            "{}",
            path.display()
        );
    }
}

/// The Markdown for a pull request: the headline, the plan's resources in code spans, the
/// Terraform fix in an `hcl` block.
#[test]
fn the_markdown_comment_leads_with_what_the_plan_breaks() {
    let (code, out, _) = run(&[
        "audit",
        "--network",
        "events/audit/account.json",
        "--plan",
        "tests/fixtures/plans/new-table-without-endpoint.json",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "### ecs-pull-doctor plan preflight ap-northeast-2"
    );
    assert_eq!(
        lines[2],
        "**Plan: introduces 1 root cause, fixes 0, leaves 2**"
    );
    assert!(out.contains("#### Introduced by this plan"), "{out}");
    assert!(
        out.contains("`aws_route_table.private_e`, `aws_route_table_association.b`"),
        "{out}"
    );
    assert!(out.contains("```hcl"), "{out}");
}

/// What is not a plan is refused with what to run instead, before the account is read.
#[test]
fn what_is_not_a_plan_is_refused_saying_how_to_make_one() {
    let dir = std::env::temp_dir().join(format!("ecs-pull-doctor-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "{\"format_version\":\"1.2\"}"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        )
        .collect();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("utf16", utf16, "UTF-16"),
        (
            "stream",
            b"{\"@level\":\"info\",\"@message\":\"Terraform 1.9.8\",\"type\":\"version\"}\n{\"@level\":\"info\"}\n".to_vec(),
            "terraform plan -json",
        ),
        (
            "state",
            br#"{"format_version":"1.0","terraform_version":"1.9.8","values":{}}"#.to_vec(),
            "a state file, not a plan?",
        ),
        ("garbage", b"not json".to_vec(), "terraform show -json PLANFILE"),
    ];
    for (name, bytes, says) in cases {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, bytes).unwrap();
        let (code, _, err) = run(&[
            "audit",
            "--network",
            "events/audit/account.json",
            "--plan",
            path.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
    }
    // A file larger than any plan (sparse: its size, not its bytes) is refused unread.
    let huge = dir.join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(600 << 20)
        .unwrap();
    let (code, _, err) = run(&[
        "audit",
        "--network",
        "events/audit/account.json",
        "--plan",
        huge.to_str().unwrap(),
    ]);
    std::fs::remove_file(&huge).unwrap();
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("is larger than the 512 MiB a Terraform plan may be"),
        "{err}"
    );
    // A plan and a multi-account audit do not go together.
    let (code, _, err) = run(&[
        "audit",
        "--live",
        "--account",
        "111122223333",
        "--plan",
        "tests/fixtures/plans/new-table-without-endpoint.json",
    ]);
    assert_eq!(code, 2, "{err}");
}

/// A service the plan adds, with a task definition and a security group the same plan
/// creates (known only after apply, resolved through the configuration), in a subnet the S3
/// endpoint does not cover: the known cause now also blocks it.
#[test]
fn a_service_the_plan_adds_is_audited_from_what_the_plan_gives_it() {
    let (plan, code) = preflight(&fixture("new-service-in-subnet-c"));
    assert_eq!(code, 1, "{plan:#}");
    assert_eq!(codes(&plan["introduced"]), ["S3_ROUTE_MISSING"]);
    let cause = &plan["introduced"][0];
    assert_eq!(cause["widened_to"], serde_json::json!(["prod/app"]));
    assert_eq!(
        cause["addresses"],
        serde_json::json!(["aws_ecs_service.app"])
    );
    assert_eq!(plan["undecided"], false);
    assert_eq!(
        codes(&plan["unchanged"]),
        ["INTERFACE_ENDPOINT_MISSING", "TASK_SG_BLOCKS_HTTPS"]
    );
}

/// The reference plan, its IDs swapped for those of the broken account moto builds (the
/// bundled snapshot was captured from that account, zone by zone): `audit --live --plan`
/// and `audit --network <its snapshot> --plan` give the same verdict.
#[test]
fn the_live_account_and_its_snapshot_give_the_same_verdict() {
    use common::moto::{audit_json, doctor, fixture as moto_fixture, Moto};
    let moto = Moto::start();
    let built = moto_fixture(&moto, "moto_account.py", &["--state", "broken"]);
    let bundled = common::sample_account();
    let mut swap: Vec<(String, String)> = vec![];
    for (zone, subnet) in ["a", "b", "c", "d"].iter().zip([
        "subnet-df6a6dd76653547f6",
        "subnet-71de7b30fb7a1acfe",
        "subnet-6c09c3279ffae8906",
        "subnet-e31349cc350c2923e",
    ]) {
        let (table, _) = bundled
            .route_table_for_subnet(subnet, "vpc-46ae039ebd0b9898a")
            .unwrap();
        swap.push((
            subnet.into(),
            built["subnets"][zone].as_str().unwrap().into(),
        ));
        swap.push((
            table.route_table_id.clone(),
            built["route_tables"][zone].as_str().unwrap().into(),
        ));
    }
    swap.push((
        "vpc-46ae039ebd0b9898a".into(),
        built["vpc"].as_str().unwrap().into(),
    ));
    swap.push((
        "vpce-ff5729b239ee10202".into(),
        built["s3_endpoint"].as_str().unwrap().into(),
    ));
    swap.push((
        "pl-78a54011".into(),
        built["s3_prefix_list"].as_str().unwrap().into(),
    ));
    let mut text = std::fs::read_to_string(fixture("new-table-without-endpoint")).unwrap();
    for (from, to) in &swap {
        text = text.replace(from.as_str(), to);
    }
    let dir =
        std::env::temp_dir().join(format!("ecs-pull-doctor-plan-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan_path = dir.join("plan.json");
    std::fs::write(&plan_path, text).unwrap();
    let plan_arg = plan_path.to_str().unwrap();

    let (live, live_code) = audit_json(&moto.endpoint, &["--plan", plan_arg]);
    let out = doctor(
        &moto.endpoint,
        &["snapshot", "--cluster", "prod", "--cluster", "batch"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snapshot = dir.join("account.json");
    std::fs::write(&snapshot, &out.stdout).unwrap();
    let (code, stdout, stderr) = run(&[
        "audit",
        "--network",
        snapshot.to_str().unwrap(),
        "--plan",
        plan_arg,
        "--format",
        "json",
    ]);
    let from_snapshot: Value = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stderr}"));
    assert_eq!(live_code, 1, "{:#}", live["plan"]);
    assert_eq!(code, live_code);
    assert_eq!(from_snapshot["plan"], live["plan"]);
    assert_eq!(codes(&live["plan"]["introduced"]), ["S3_ROUTE_MISSING"]);
    assert_eq!(
        live["plan"]["introduced"][0]["addresses"],
        serde_json::json!(["aws_route_table.private_e", "aws_route_table_association.b"])
    );
}

/// `plan` (a `terraform show -json` document) over the bundled account: its `plan` member,
/// the exit status and the Markdown comment.
fn preflight_of(name: &str, plan: &Value) -> (Value, i32, String) {
    let dir = std::env::temp_dir().join(format!("ecs-pull-doctor-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, plan.to_string()).unwrap();
    let (json, code) = preflight(&path);
    let (_, markdown, _) = run(&[
        "audit",
        "--network",
        "events/audit/account.json",
        "--plan",
        path.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    (json, code, markdown)
}

fn change(address: &str, actions: &[&str], before: Value, after: Value, unknown: Value) -> Value {
    let (kind, name) = address.split_once('.').unwrap();
    serde_json::json!({"address": address, "mode": "managed", "type": kind, "name": name.split('[').next().unwrap(),
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown}})
}

fn plan_of(changes: Value, resources: Value) -> Value {
    serde_json::json!({"format_version": "1.2", "terraform_version": "1.9.8", "resource_changes": changes,
        "configuration": {"root_module": {"resources": resources}}})
}

/// What must never be guessed: a reference to an attribute that is not an ID (the AWS
/// provider's own `prefix_list_ids = [aws_vpc_endpoint.s3.prefix_list_id]`), a NACL rule's
/// CIDR known after apply, a change to the default ACL (not modelled): each leaves the path
/// undecided (exit 3), never a cause introduced or a path called open.
#[test]
fn what_the_plan_cannot_say_is_undecided_never_guessed() {
    use serde_json::json;
    let tasks = "sg-9bd6ea0b5622758bd";
    let cases = [
        (
            "non-id-reference",
            plan_of(
                json!([change("aws_security_group_rule.s3", &["create"], json!(null),
                    json!({"type": "egress", "security_group_id": tasks, "protocol": "tcp", "from_port": 443, "to_port": 443}),
                    json!({"id": true, "prefix_list_ids": true}))]),
                json!([{"address": "aws_security_group_rule.s3", "mode": "managed",
                    "expressions": {"prefix_list_ids": {"references": ["aws_vpc_endpoint.s3.prefix_list_id", "aws_vpc_endpoint.s3"]}}}]),
            ),
            "aws_vpc_endpoint.s3.prefix_list_id, not its ID",
        ),
        (
            "nacl-rule-unknown-cidr",
            plan_of(
                json!([change("aws_network_acl_rule.deny", &["create"], json!(null),
                    json!({"network_acl_id": "acl-a1f538d9ccfe05e93", "rule_number": 50, "egress": true, "protocol": "-1", "rule_action": "deny"}),
                    json!({"id": true, "cidr_block": true}))]),
                json!([{"address": "aws_network_acl_rule.deny", "mode": "managed",
                    "expressions": {"cidr_block": {"references": ["var.blocked"]}}}]),
            ),
            "aws_network_acl_rule.deny.cidr_block is known only after apply (from var.blocked)",
        ),
        (
            "default-acl",
            plan_of(
                json!([change("aws_default_network_acl.main", &["update"],
                    json!({"id": "acl-a1f538d9ccfe05e93", "default_network_acl_id": "acl-a1f538d9ccfe05e93"}),
                    json!({"id": "acl-a1f538d9ccfe05e93", "default_network_acl_id": "acl-a1f538d9ccfe05e93", "ingress": [], "egress": []}),
                    json!({}))]),
                json!([]),
            ),
            "aws_default_network_acl.main changes a aws_default_network_acl, which the audit does not model",
        ),
    ];
    for (name, plan, says) in cases {
        let (result, code, markdown) = preflight_of(name, &plan);
        assert_eq!(code, 3, "{name}: {result:#}");
        assert_eq!(result["introduced"], json!([]), "{name}");
        assert_eq!(result["undecided"], true, "{name}");
        assert!(
            markdown.contains(&says.replace('_', "\\_")) || markdown.contains(says),
            "{name}: {markdown}"
        );
    }
}

/// An address is the plan's text, and a plan comes from a pull request: in the comment it
/// is a code span, never markup or HTML.
#[test]
fn a_hostile_address_cannot_write_html_or_markup_in_the_comment() {
    use serde_json::json;
    let address =
        "null_resource.x[\"</details><img src=https://evil.example/p.png> **bold** `tick`\"]";
    let plan = plan_of(
        json!([change(
            address,
            &["create"],
            json!(null),
            json!({}),
            json!({"id": true})
        )]),
        json!([]),
    );
    let (result, code, markdown) = preflight_of("hostile", &plan);
    assert_eq!(code, 0, "{result:#}");
    assert_eq!(result["ignored"], json!([address]));
    let line = markdown
        .lines()
        .find(|l| l.contains("evil.example"))
        .unwrap_or_else(|| panic!("{markdown}"));
    assert!(line.starts_with("- `") && line.ends_with('`'), "{line}");
    assert_eq!(line.matches('`').count(), 2, "one code span: {line}");
    assert!(!markdown.contains("<details"), "{markdown}");
}
