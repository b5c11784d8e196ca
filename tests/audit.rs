//! `audit` against a real EC2/ECS API: moto's server mode, with an account of four services
//! built through the API by `tests/fixtures/moto_account.py` (one endpoint missing from two
//! of four route tables, a missing Secrets Manager endpoint, a security group without egress
//! to S3; or all of it mended), and the real CLI run with `--live` as a user would run it.

mod common;

use std::collections::BTreeSet;

use common::moto::{audit_json, doctor, fixture, FaultProxy, Moto};
use common::strings;
use serde_json::Value;

fn account(moto: &Moto, state: &str) -> Value {
    fixture(moto, "moto_account.py", &["--state", state])
}

fn service<'a>(audit: &'a Value, name: &str) -> &'a Value {
    audit["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            format!(
                "{}/{}",
                s["cluster"].as_str().unwrap(),
                s["service"].as_str().unwrap()
            ) == name
        })
        .unwrap_or_else(|| panic!("{name} not in {}", audit["services"]))
}

fn causes<'a>(audit: &'a Value, code: &str) -> Vec<&'a Value> {
    audit["root_causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["code"] == code)
        .collect()
}

/// The bundled account (`events/audit/account.json`, captured with `snapshot --cluster` from
/// the broken fixture account): three causes, every service blocked by its own.
#[test]
fn the_bundled_account_snapshot_audits_to_three_root_causes() {
    use ecs_pull_doctor::audit::{self, Selection, ServiceVerdict};
    let view = common::sample_account();
    let result = audit::audit(&view, "ap-northeast-2", &Selection::default());
    let codes: Vec<&str> = result.root_causes.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "S3_ROUTE_MISSING",
            "INTERFACE_ENDPOINT_MISSING",
            "TASK_SG_BLOCKS_HTTPS"
        ]
    );
    assert!(result
        .services
        .iter()
        .all(|s| s.verdict == ServiceVerdict::Blocked));
    assert!(result.not_inspected.is_empty());
    let korean = ecs_pull_doctor::render::audit::audit_text(
        &result,
        &view,
        ecs_pull_doctor::localized::Lang::Ko,
    );
    assert!(
        korean.starts_with("ap-northeast-2 점검: 서비스 4개, 정상 0, 차단 4"),
        "{korean}"
    );

    // The same account, one service at a time, gives that service's causes only.
    let only = Selection {
        services: vec![("prod".into(), "worker".into())],
        ..Selection::default()
    };
    let result = audit::audit(&view, "ap-northeast-2", &only);
    assert_eq!(result.services.len(), 1);
    assert_eq!(result.root_causes.len(), 1);
    assert_eq!(
        result.root_causes[0].code.as_str(),
        "INTERFACE_ENDPOINT_MISSING"
    );
}

/// ECS Managed Instances launches its instances in its capacity provider's subnets with its
/// groups: those are where the image is pulled, even before any instance is registered.
#[test]
fn a_managed_instances_service_is_checked_from_its_capacity_providers_network() {
    use ecs_pull_doctor::audit::{self, Selection, ServiceVerdict};
    use ecs_pull_doctor::network::{
        CapacityProvider, CapacityProviderItem, InstanceLaunchTemplate,
        ManagedInstancesNetworkConfiguration, ManagedInstancesProvider,
    };
    let mut view = common::sample_account();
    let services = view.services.as_mut().unwrap();
    let web = services
        .iter_mut()
        .find(|s| s.service_name.as_deref() == Some("web"))
        .unwrap();
    let broken_subnet = web.awsvpc().unwrap().subnets[2].clone();
    let groups = web.awsvpc().unwrap().security_groups.clone();
    let strategy = vec![CapacityProviderItem {
        capacity_provider: "prod-managed".into(),
    }];
    web.launch_type = None;
    web.capacity_provider_strategy = strategy.clone();
    for deployment in &mut web.deployments {
        deployment.launch_type = None;
        deployment.capacity_provider_strategy = strategy.clone();
    }
    let only_web = Selection {
        services: vec![("prod".into(), "web".into())],
        ..Selection::default()
    };
    // Without the provider's description nothing says where its instances run.
    let result = audit::audit(&view, "ap-northeast-2", &only_web);
    assert_eq!(
        result.services[0].verdict,
        ServiceVerdict::Unknown,
        "{:?}",
        result.services[0]
    );

    view.capacity_providers = Some(vec![CapacityProvider {
        name: Some("prod-managed".into()),
        managed_instances_provider: Some(ManagedInstancesProvider {
            instance_launch_template: Some(InstanceLaunchTemplate {
                network_configuration: Some(ManagedInstancesNetworkConfiguration {
                    subnets: vec![broken_subnet.clone()],
                    security_groups: groups,
                }),
            }),
        }),
    }]);
    let result = audit::audit(&view, "ap-northeast-2", &only_web);
    let web = &result.services[0];
    assert_eq!(web.launch_type, "MANAGED_INSTANCES");
    assert_eq!(web.subnets, std::slice::from_ref(&broken_subnet));
    assert_eq!(web.verdict, ServiceVerdict::Blocked);
    assert_eq!(result.root_causes[0].code.as_str(), "S3_ROUTE_MISSING");
    assert_eq!(result.root_causes[0].subnets, [broken_subnet]);
}

/// A read that failed for the VPC leaves its merged parts incomplete: nothing there is
/// called blocked (or a root cause), everything is unknown with the failure named.
#[test]
fn a_failed_read_in_the_vpc_makes_its_hops_unknown_not_blocked() {
    use ecs_pull_doctor::audit::{self, AuditOutcome, Selection, ServiceVerdict};
    use ecs_pull_doctor::network::InspectionError;
    let mut view = common::sample_account();
    let vpc = view.subnets.as_ref().unwrap()[0].vpc_id.clone().unwrap();
    view.inspection_errors = Some(vec![InspectionError {
        part: "NatGateways".into(),
        action: "ec2:DescribeNatGateways".into(),
        message: "RequestLimitExceeded: Request limit exceeded.".into(),
        scope: Some(vpc),
    }]);
    let result = audit::audit(&view, "ap-northeast-2", &Selection::default());
    assert!(result.root_causes.is_empty(), "{:?}", result.root_causes);
    assert_eq!(result.outcome(), AuditOutcome::Unknown);
    for service in &result.services {
        assert_eq!(service.verdict, ServiceVerdict::Unknown);
        assert!(service
            .not_inspected
            .iter()
            .any(|n| n.en.contains("ec2:DescribeNatGateways")));
    }
}

/// A cause is called fixed only when every service it affected was seen whole again.
#[test]
fn a_cause_whose_service_was_not_seen_whole_is_carried_not_fixed() {
    use ecs_pull_doctor::audit::delta::{compare, KnownCauses};
    use ecs_pull_doctor::audit::{self, Selection};
    let view = common::sample_account();
    let before = audit::audit(&view, "ap-northeast-2", &Selection::default());
    let known: KnownCauses = compare(&KnownCauses::default(), &before, 1).next;
    assert_eq!(known.causes.len(), 3);
    let quiet = compare(&known, &before, 2);
    assert!(quiet.is_quiet());
    assert_eq!(quiet.persisting, 3);

    // The S3 route is mended, but the next audit could not read prod/web's task definition.
    let mut mended = view.clone();
    let (endpoint, missing) = {
        let cause = &before.root_causes[0];
        (cause.resources[0].clone(), cause.resources[1..].to_vec())
    };
    for table in mended.route_tables.as_mut().unwrap() {
        if missing.contains(&table.route_table_id) {
            table.routes.push(ecs_pull_doctor::network::Route {
                destination_prefix_list_id: Some("pl-78a54011".into()),
                gateway_id: Some(endpoint.clone()),
                ..Default::default()
            });
        }
    }
    let after = audit::audit(&mended, "ap-northeast-2", &Selection::default());
    let delta = compare(&known, &after, 3);
    assert_eq!(delta.fixed.len(), 1, "both services seen whole: fixed");
    let mut unread = mended.clone();
    let web = unread
        .services
        .as_ref()
        .unwrap()
        .iter()
        .find(|s| s.service_name.as_deref() == Some("web"))
        .unwrap()
        .task_definition
        .clone()
        .unwrap();
    unread
        .task_definitions
        .as_mut()
        .unwrap()
        .retain(|t| !t.is_named(&web));
    let partial = audit::audit(&unread, "ap-northeast-2", &Selection::default());
    let delta = compare(&known, &partial, 3);
    assert!(
        delta.fixed.is_empty(),
        "prod/web was not seen whole: {:?}",
        delta.fixed
    );
    assert_eq!(delta.next.causes.len(), 3, "the cause is carried");
}

/// A cause that keeps its identity but covers more is news; one that covers less too.
#[test]
fn a_cause_that_widens_or_narrows_is_said_with_what_changed() {
    use ecs_pull_doctor::audit::delta::{compare, KnownCauses};
    use ecs_pull_doctor::audit::{self, Selection};
    let view = common::sample_account();
    let before = audit::audit(&view, "ap-northeast-2", &Selection::default());
    let known: KnownCauses = compare(&KnownCauses::default(), &before, 1).next;
    let s3 = before
        .root_causes
        .iter()
        .find(|c| c.code.as_str() == "S3_ROUTE_MISSING")
        .unwrap();
    let (endpoint, missing) = (s3.resources[0].clone(), s3.resources[1..].to_vec());

    // A subnet whose table has the endpoint's route loses its association: it falls back to
    // the main table, which lacks the route too. Same identity, more subnets and services.
    let mut widened_view = view.clone();
    let tables = widened_view.route_tables.as_mut().unwrap();
    let main = tables
        .iter()
        .find(|t| t.associations.iter().any(|a| a.main))
        .unwrap()
        .route_table_id
        .clone();
    let served = tables
        .iter_mut()
        .find(|t| {
            t.routes
                .iter()
                .any(|r| r.gateway_id.as_deref() == Some(endpoint.as_str()))
                && t.associations.iter().any(|a| a.subnet_id.is_some())
        })
        .unwrap();
    let moved = served
        .associations
        .iter()
        .find_map(|a| a.subnet_id.clone())
        .unwrap();
    served.associations.retain(|a| a.subnet_id.is_none());
    let after = audit::audit(&widened_view, "ap-northeast-2", &Selection::default());
    let delta = compare(&known, &after, 2);
    assert!(delta.new.is_empty(), "{:?}", delta.new);
    assert_eq!(delta.widened.len(), 1, "{:?}", delta.widened);
    let widened = &delta.widened[0];
    assert_eq!(widened.cause.identity, s3.identity);
    assert_eq!(widened.subnets, [moved]);
    assert_eq!(widened.resources, [main]);
    assert!(widened.services.contains(&"prod/worker".to_string()));
    assert!(!delta.is_quiet());
    // Remembered wider: the next audit of the same state is quiet.
    assert!(compare(&delta.next, &after, 3).is_quiet());

    // One of the tables that lacked the route gets it: the cause covers less.
    let mut narrowed_view = view.clone();
    let mended = missing[0].clone();
    let table = narrowed_view
        .route_tables
        .as_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t.route_table_id == mended)
        .unwrap();
    table.routes.push(ecs_pull_doctor::network::Route {
        destination_prefix_list_id: Some("pl-78a54011".into()),
        gateway_id: Some(endpoint.clone()),
        ..Default::default()
    });
    let fixed_subnet = table
        .associations
        .iter()
        .find_map(|a| a.subnet_id.clone())
        .unwrap();
    let after = audit::audit(&narrowed_view, "ap-northeast-2", &Selection::default());
    let delta = compare(&known, &after, 2);
    assert!(delta.widened.is_empty() && delta.fixed.is_empty());
    assert_eq!(delta.narrowed.len(), 1, "{:?}", delta.narrowed);
    assert_eq!(delta.narrowed[0].subnets, [fixed_subnet]);
    assert_eq!(delta.narrowed[0].resources, [mended]);
}

#[test]
fn a_view_without_services_is_never_all_clear() {
    use ecs_pull_doctor::audit::{self, AuditOutcome, Selection};
    let mut view = common::sample_account();
    view.services = None;
    let result = audit::audit(&view, "ap-northeast-2", &Selection::default());
    assert_eq!(result.outcome(), AuditOutcome::Unknown);
    view.services = Some(vec![]);
    let result = audit::audit(&view, "ap-northeast-2", &Selection::default());
    assert_eq!(
        result.outcome(),
        AuditOutcome::Unknown,
        "an audit of nothing"
    );
    // A task definition missing from the view makes its service unknown, never ok.
    let mut view = common::sample_account();
    view.task_definitions = Some(vec![]);
    let result = audit::audit(&view, "ap-northeast-2", &Selection::default());
    assert!(result.root_causes.is_empty());
    assert_eq!(result.outcome(), AuditOutcome::Unknown);
    assert!(result.services.iter().all(|s| s
        .not_inspected
        .iter()
        .any(|n| n.en.contains("task definition"))));
}

#[test]
fn an_endpoint_missing_from_two_route_tables_is_one_root_cause_with_one_fix() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = account(&moto, "broken");
    let (audit, code) = audit_json(&moto.endpoint, &[]);
    assert_eq!(code, 1, "blocked services exit 1: {audit}");

    let route = causes(&audit, "S3_ROUTE_MISSING");
    assert_eq!(
        route.len(),
        1,
        "one cause, not one per service or subnet: {audit}"
    );
    let cause = route[0];
    let tables = &built["route_tables"];
    let subnets = &built["subnets"];
    let missing: BTreeSet<String> = [tables["c"].as_str().unwrap(), tables["d"].as_str().unwrap()]
        .map(String::from)
        .into();
    let endpoint = built["s3_endpoint"].as_str().unwrap();
    assert_eq!(strings(&cause["services"]), ["prod/api", "prod/web"]);
    let affected: BTreeSet<String> = strings(&cause["subnets"]).into_iter().collect();
    let expected: BTreeSet<String> = [
        subnets["c"].as_str().unwrap(),
        subnets["d"].as_str().unwrap(),
    ]
    .map(String::from)
    .into();
    assert_eq!(affected, expected);
    let resources: BTreeSet<String> = strings(&cause["resources"]).into_iter().collect();
    assert!(
        resources.contains(endpoint) && missing.is_subset(&resources),
        "{cause}"
    );
    let commands = strings(&cause["commands"]);
    assert_eq!(commands.len(), 1, "{cause}");
    let command = &commands[0];
    assert!(command.starts_with(&format!(
        "aws ec2 modify-vpc-endpoint --region ap-northeast-2 --vpc-endpoint-id {endpoint} --add-route-table-ids "
    )));
    let named: BTreeSet<String> = command
        .rsplit_once("--add-route-table-ids ")
        .unwrap()
        .1
        .split(' ')
        .map(String::from)
        .collect();
    assert_eq!(named, missing, "exactly the tables that lack it: {command}");

    // The services whose subnets all have the route are blocked only by their own causes.
    let web = service(&audit, "prod/web");
    assert_eq!(web["verdict"], "blocked");
    assert_eq!(strings(&web["codes"]), ["S3_ROUTE_MISSING"]);
    let web_s3: Vec<(&str, &str)> = web["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["hop"] == "s3")
        .map(|h| (h["subnet"].as_str().unwrap(), h["state"].as_str().unwrap()))
        .collect();
    for zone in ["a", "b"] {
        assert!(
            web_s3.contains(&(subnets[zone].as_str().unwrap(), "open")),
            "{web_s3:?}"
        );
    }
    for zone in ["c", "d"] {
        assert!(
            web_s3.contains(&(subnets[zone].as_str().unwrap(), "blocked")),
            "{web_s3:?}"
        );
    }
}

#[test]
fn secrets_need_a_secrets_manager_endpoint_and_a_tight_group_needs_egress_to_s3() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = account(&moto, "broken");
    let (audit, _) = audit_json(&moto.endpoint, &[]);

    let secrets = causes(&audit, "INTERFACE_ENDPOINT_MISSING");
    assert_eq!(secrets.len(), 1, "{audit}");
    assert_eq!(strings(&secrets[0]["services"]), ["prod/worker"]);
    let command = &strings(&secrets[0]["commands"])[0];
    assert!(
        command.contains("--service-name com.amazonaws.ap-northeast-2.secretsmanager")
            && command.contains(built["subnets"]["a"].as_str().unwrap())
            && command.contains(built["subnets"]["b"].as_str().unwrap())
            && command.contains(built["security_groups"]["vpce"].as_str().unwrap()),
        "{command}"
    );
    let worker = service(&audit, "prod/worker");
    assert_eq!(strings(&worker["codes"]), ["INTERFACE_ENDPOINT_MISSING"]);

    let egress = causes(&audit, "TASK_SG_BLOCKS_HTTPS");
    assert_eq!(egress.len(), 1, "{audit}");
    assert_eq!(strings(&egress[0]["services"]), ["batch/report"]);
    let group = built["security_groups"]["report"].as_str().unwrap();
    let prefix_list = built["s3_prefix_list"].as_str().unwrap();
    assert_eq!(
        strings(&egress[0]["commands"]),
        [format!("aws ec2 authorize-security-group-egress --region ap-northeast-2 --group-id {group} --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,PrefixListIds=[{{PrefixListId={prefix_list}}}]'")]
    );
    // Three causes in all: the tight group's endpoint path is open (its egress names the
    // endpoints' group), and the default groups reach everything.
    assert_eq!(audit["root_causes"].as_array().unwrap().len(), 3, "{audit}");
}

#[test]
fn a_healthy_account_is_all_ok_and_exits_0() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    account(&moto, "healthy");
    let (audit, code) = audit_json(&moto.endpoint, &[]);
    assert_eq!(code, 0, "{audit}");
    assert_eq!(audit["summary"]["services"], 4);
    assert_eq!(audit["summary"]["ok"], 4);
    assert!(audit["root_causes"].as_array().unwrap().is_empty());
    assert!(audit["not_inspected"].as_array().unwrap().is_empty());
    for s in audit["services"].as_array().unwrap() {
        assert_eq!(s["verdict"], "ok", "{s}");
        assert!(s["not_inspected"].as_array().unwrap().is_empty(), "{s}");
        assert!(s["hops"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["state"] == "open"));
    }
    // Calls grow with clusters, VPCs and task definitions: here 2 clusters, 1 VPC, 4 revisions.
    let calls = audit["calls"]["total"].as_u64().unwrap();
    assert!(calls <= 2 + 2 + 4 + 1 + 12, "{calls} calls");
}

#[test]
fn the_text_report_shows_the_fix_and_the_matrix_and_the_json_contract_holds() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = account(&moto, "broken");
    let out = doctor(&moto.endpoint, &["audit", "--live"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(
            "Audit of ap-northeast-2: 4 services, 0 ok, 4 blocked, 0 unknown; 3 root causes (3 blocking)\n"
        ),
        "{text}"
    );
    assert!(text.contains("$ aws ec2 modify-vpc-endpoint"), "{text}");
    let vpc = built["vpc"].as_str().unwrap();
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("prod/web"))
        .unwrap_or_else(|| panic!("no matrix row for prod/web: {text}"));
    // One hop order for the VPC (the worker's secretsmanager included, which web does not
    // need: `-`), said once above the columns.
    assert_eq!(row.matches("✓✓✓-✓").count(), 2, "{row}");
    assert_eq!(row.matches("✓✓✗-✓").count(), 2, "{row}");
    assert!(
        text.contains("(each cell: ecr.api ecr.dkr s3 secretsmanager logs)"),
        "{text}"
    );
    assert!(text.contains(vpc));
    // Progress goes to a terminal only; a pipe gets none.
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains('\r'), "{stderr:?}");

    let (audit, _) = audit_json(&moto.endpoint, &[]);
    for key in [
        "region",
        "services",
        "root_causes",
        "not_inspected",
        "calls",
    ] {
        assert!(audit.get(key).is_some(), "{key} missing: {audit}");
    }
    for s in audit["services"].as_array().unwrap() {
        for key in [
            "cluster",
            "service",
            "launch_type",
            "subnets",
            "verdict",
            "codes",
            "not_inspected",
        ] {
            assert!(s.get(key).is_some(), "{key} missing: {s}");
        }
        assert_eq!(s["launch_type"], "FARGATE");
    }
    for c in audit["root_causes"].as_array().unwrap() {
        for key in [
            "code",
            "severity",
            "summary",
            "resources",
            "services",
            "subnets",
            "fix",
            "commands",
        ] {
            assert!(c.get(key).is_some(), "{key} missing: {c}");
        }
    }
}

#[test]
fn only_the_named_service_is_audited() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    account(&moto, "broken");
    let (audit, code) = audit_json(&moto.endpoint, &["--service", "prod/worker"]);
    assert_eq!(code, 1);
    let names: Vec<String> = audit["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["worker"]);
    let (audit, code) = audit_json(&moto.endpoint, &["--cluster", "batch"]);
    assert_eq!(code, 1);
    assert_eq!(audit["services"].as_array().unwrap().len(), 1);
    assert_eq!(audit["services"][0]["service"], "report");
}

#[test]
fn a_planned_task_definition_is_checked_before_it_is_deployed() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    account(&moto, "broken");
    // prod/api's subnet c lacks the S3 route; moved to subnets a and b, and running the
    // worker's task definition (which reads a secret), it would be blocked by the secret alone.
    let built = account_ids(&moto);
    let subnets = format!(
        "{},{}",
        built["subnets"]["a"].as_str().unwrap(),
        built["subnets"]["b"].as_str().unwrap()
    );
    let (audit, code) = audit_json(
        &moto.endpoint,
        &[
            "--service",
            "prod/api",
            "--task-definition",
            "worker:1",
            "--subnets",
            &subnets,
        ],
    );
    assert_eq!(code, 1, "{audit}");
    let api = service(&audit, "prod/api");
    assert_eq!(strings(&api["codes"]), ["INTERFACE_ENDPOINT_MISSING"]);
    assert_eq!(strings(&api["subnets"]).len(), 2);
    // The same subnets with its own task definition: nothing blocks.
    let (audit, code) = audit_json(
        &moto.endpoint,
        &[
            "--service",
            "prod/api",
            "--task-definition",
            "api:1",
            "--subnets",
            &subnets,
        ],
    );
    assert_eq!(code, 0, "{audit}");
    // A planned change names one service.
    let out = doctor(
        &moto.endpoint,
        &["audit", "--live", "--task-definition", "api:1"],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// The IDs of the account already built (the fixture is not idempotent, so read them back).
fn account_ids(moto: &Moto) -> Value {
    fixture(
        moto,
        "moto_account.py",
        &["--state", "broken", "--ids-only"],
    )
}

#[test]
fn denied_reads_make_services_unknown_never_ok() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    account(&moto, "healthy");
    let proxy = FaultProxy::start(&moto.endpoint, &["--deny", "DescribeRouteTables"]);
    let (audit, code) = audit_json(&proxy.endpoint, &[]);
    assert_eq!(code, 3, "nothing blocked, something unknown: {audit}");
    for s in audit["services"].as_array().unwrap() {
        assert_eq!(s["verdict"], "unknown", "{s}");
        let gaps = s["not_inspected"].to_string();
        assert!(gaps.contains("ec2:DescribeRouteTables"), "{gaps}");
    }

    let proxy = FaultProxy::start(&moto.endpoint, &["--deny", "ListServices"]);
    let (audit, code) = audit_json(&proxy.endpoint, &[]);
    assert_eq!(code, 3, "{audit}");
    assert!(audit["services"].as_array().unwrap().is_empty());
    let gaps = audit["not_inspected"].to_string();
    assert!(
        gaps.contains("ecs:ListServices") && gaps.contains("prod") && gaps.contains("batch"),
        "{gaps}"
    );

    let proxy = FaultProxy::start(&moto.endpoint, &["--throttle", "DescribeTaskDefinition"]);
    let (audit, code) = audit_json(&proxy.endpoint, &[]);
    assert_eq!(code, 3, "{audit}");
    for s in audit["services"].as_array().unwrap() {
        assert_eq!(s["verdict"], "unknown", "{s}");
        assert!(
            s["not_inspected"]
                .to_string()
                .contains("ecs:DescribeTaskDefinition"),
            "{s}"
        );
    }
}

#[test]
fn a_snapshot_of_the_clusters_audits_as_the_live_account_does() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    account(&moto, "broken");
    let out = doctor(
        &moto.endpoint,
        &["snapshot", "--cluster", "prod", "--cluster", "batch"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = std::env::temp_dir().join(format!("ecs-pull-doctor-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("account.json");
    std::fs::write(&path, &out.stdout).unwrap();

    let (mut live, live_code) = audit_json(&moto.endpoint, &[]);
    let offline = doctor(
        "http://127.0.0.1:9",
        &[
            "audit",
            "--network",
            path.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let mut offline_json: Value = serde_json::from_slice(&offline.stdout).unwrap();
    assert_eq!(offline.status.code(), Some(live_code));
    live["calls"] = Value::Null;
    offline_json["calls"] = Value::Null;
    assert_eq!(live, offline_json);
}
