//! Benchmarks of the engine's hot paths (run with `make bench`; figures go in the README).
//!
//! - IP classification over the full ip-ranges snapshot: the interval table and, for the
//!   ratio, a straightforward linear scan over the same entries;
//! - loading (parsing) the full snapshot;
//! - `explain` (parse + classify) over every corpus message, and building the message
//!   grammar's matcher (what the first message after a cold start pays once);
//! - one probe check (the seed's broken subnet to S3) over the seed snapshot;
//! - a full `diagnose` of the seed sample, files already loaded;
//! - `audit` of the bundled account (4 services, 38 service × subnet × hop checks), and of the
//!   same VPC with its services repeated to 500 (the per-check cost as an account grows);
//! - a view of 10,000 subnets, each with its own route table: one probe from the last subnet
//!   (a scan would walk every table) and the audit of 2,500 services spread over them.
//!
//! - `audit --plan` of a 2,000-resource Terraform plan over the bundled account (400 new
//!   subnets, each with its route table, association, security group and egress rule,
//!   known only after apply and resolved through the configuration): parse, apply, both
//!   audits and the comparison.
//!
//! Needs the full snapshot: `IP_RANGES_FILE`, else `data/ip-ranges.json` (`make ip-ranges`).

use std::hint::black_box;
use std::net::IpAddr;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use ecs_pull_doctor::audit::{audit, Selection};
use ecs_pull_doctor::diagnose::probe::{check, Origin, Probe, Target};
use ecs_pull_doctor::diagnose::{classify, diagnose};
use ecs_pull_doctor::event::{parse_task_event, TaskEvent};
use ecs_pull_doctor::ipranges::IpRanges;
use ecs_pull_doctor::network::snapshot;
use ecs_pull_doctor::reason::grammar;

fn repo(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The full snapshot; without one (a plain `cargo test`, which runs each benchmark once as a
/// test), the committed excerpt, said loudly: figures from it are not the README's.
fn ip_ranges_text() -> String {
    let path = std::env::var_os("IP_RANGES_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo("data/ip-ranges.json"));
    match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!(
                "{}: {e}; using the committed excerpt, so these figures are not the full snapshot's (set IP_RANGES_FILE or run `make ip-ranges`)",
                path.display()
            );
            std::fs::read_to_string(repo("tests/fixtures/ip-ranges-excerpt.json"))
                .expect("the committed ip-ranges excerpt")
        }
    }
}

/// A fixed, varied set of addresses: AWS ones from the snapshot's own prefixes, plus others.
fn sample_addresses(text: &str) -> Vec<IpAddr> {
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    let mut out: Vec<IpAddr> = doc["prefixes"]
        .as_array()
        .unwrap()
        .iter()
        .step_by(23)
        .map(|p| {
            let net: ipnet::Ipv4Net = p["ip_prefix"].as_str().unwrap().parse().unwrap();
            IpAddr::V4(net.network())
        })
        .collect();
    let mut x: u32 = 0x9e37_79b9;
    for _ in 0..out.len() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push(IpAddr::V4(x.into()));
    }
    out.push("52.219.204.42".parse().unwrap());
    out.push("2600:1f18:2148:bc00:e947:5a7f:a49f:9126".parse().unwrap());
    out
}

fn benches(c: &mut Criterion) {
    let text = ip_ranges_text();
    let ranges = IpRanges::from_json(&text, "ip-ranges.json").expect("snapshot parses");
    let addresses = sample_addresses(&text);

    let mut i = 0usize;
    c.bench_function("classify_ip/interval_table", |b| {
        b.iter(|| {
            i = (i + 1) % addresses.len();
            black_box(ranges.find(black_box(addresses[i])))
        })
    });
    let mut j = 0usize;
    c.bench_function("classify_ip/linear_scan", |b| {
        b.iter(|| {
            j = (j + 1) % addresses.len();
            black_box(ranges.find_linear(black_box(addresses[j])))
        })
    });

    let mut group = c.benchmark_group("load_ip_ranges");
    group.sample_size(20);
    group.bench_function("parse_full_snapshot", |b| {
        b.iter(|| black_box(IpRanges::from_json(black_box(&text), "ip-ranges.json").unwrap()))
    });
    group.finish();

    let corpus: Vec<String> = std::fs::read_to_string(repo("tests/fixtures/pull-errors.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["message"].as_str().unwrap().to_string()
        })
        .collect();
    let mut k = 0usize;
    c.bench_function("explain/per_corpus_message", |b| {
        b.iter(|| {
            k = (k + 1) % corpus.len();
            black_box(classify(black_box(&corpus[k]), Some(&ranges), None))
        })
    });

    c.bench_function("explain/build_grammar", |b| {
        b.iter(|| grammar::parse(black_box(grammar::BUNDLED)).expect("the bundled grammar"))
    });

    let event = std::fs::read_to_string(repo("events/s3-route-missing.json")).unwrap();
    let TaskEvent::PullFailure(task) = parse_task_event(&event).unwrap() else {
        panic!("the seed sample is a pull failure")
    };
    let view = snapshot::load(&repo("events/network/s3-route-missing.json")).unwrap();
    let probe = Probe {
        from: Origin {
            subnet_id: "subnet-0c9d8e7f6a5b4c3d2".into(),
            security_groups: Some(vec!["sg-0a9b8c7d6e5f4a3b2".into()]),
            public_ip: Some(false),
            private_ip: Some("10.20.11.57".parse().unwrap()),
            instance_id: None,
            workload: None,
            account: None,
        },
        to: Target::S3 {
            region: "ap-northeast-2".into(),
        },
        dialled: Some("52.219.204.42".parse().unwrap()),
        owner: None,
        image: None,
    };
    c.bench_function("probe/seed_subnet_to_s3", |b| {
        b.iter(|| black_box(check(black_box(&view), "ap-northeast-2", black_box(&probe))))
    });
    let account = snapshot::load(&repo("events/audit/account.json")).unwrap();
    let everything = Selection::default();
    let checks = checks_in(&account);
    c.bench_function(&format!("audit/bundled_account_{checks}_checks"), |b| {
        b.iter(|| black_box(audit(black_box(&account), "ap-northeast-2", &everything)))
    });
    let mut large = account.clone();
    let originals = account.services.clone().unwrap_or_default();
    large.services = Some(
        (0..125)
            .flat_map(|copy| {
                originals.iter().map(move |s| {
                    let mut s = s.clone();
                    s.service_name = s.service_name.map(|n| format!("{n}-{copy}"));
                    s
                })
            })
            .collect(),
    );
    let large_checks = checks_in(&large);
    let mut group = c.benchmark_group("audit");
    group.sample_size(20);
    group.bench_function(format!("500_services_{large_checks}_checks"), |b| {
        b.iter(|| black_box(audit(black_box(&large), "ap-northeast-2", &everything)))
    });
    group.finish();
    let wide = ten_thousand_subnets(&repo("events/audit/account.json"));
    let last = wide
        .subnets
        .as_ref()
        .unwrap()
        .last()
        .unwrap()
        .subnet_id
        .clone();
    let groups = wide.services.as_ref().unwrap()[0]
        .awsvpc()
        .map(|a| a.security_groups.clone());
    let from_last = Probe {
        from: Origin {
            subnet_id: last,
            security_groups: groups,
            ..probe.from.clone()
        },
        ..probe.clone()
    };
    c.bench_function("probe/last_of_10000_subnets_to_s3", |b| {
        b.iter(|| {
            black_box(check(
                black_box(&wide),
                "ap-northeast-2",
                black_box(&from_last),
            ))
        })
    });
    let wide_checks = checks_in(&wide);
    let mut group = c.benchmark_group("audit");
    group.sample_size(10);
    group.bench_function(format!("10000_subnets_{wide_checks}_checks"), |b| {
        b.iter(|| black_box(audit(black_box(&wide), "ap-northeast-2", &everything)))
    });
    group.finish();
    let plan_text = two_thousand_resource_plan();
    let account = snapshot::load(&repo("events/audit/account.json")).unwrap();
    let mut group = c.benchmark_group("plan");
    group.sample_size(10);
    group.bench_function("preflight_2000_resources_over_the_bundled_account", |b| {
        b.iter(|| {
            let plan =
                ecs_pull_doctor::tfplan::Plan::parse("plan.json", black_box(plan_text.as_bytes()))
                    .unwrap();
            black_box(ecs_pull_doctor::tfplan::preflight(
                &plan,
                &account,
                "ap-northeast-2",
                &everything,
            ))
        })
    });
    group.finish();
    c.bench_function("diagnose/seed_sample", |b| {
        b.iter_batched(
            || (),
            |_| black_box(diagnose(black_box(&task), Some(&view), Some(&ranges))),
            BatchSize::SmallInput,
        )
    });
}

/// A plan of 2,000 resource changes in the bundled account's VPC: 400 × (subnet, route
/// table, association, security group, egress rule), their IDs known only after apply.
fn two_thousand_resource_plan() -> String {
    use serde_json::json;
    let vpc = "vpc-46ae039ebd0b9898a";
    let mut changes = vec![];
    let mut resources = vec![];
    let create = |address: String, after: serde_json::Value, unknown: serde_json::Value| {
        let (kind, name) = address.split_once('.').unwrap();
        json!({"address": address, "mode": "managed", "type": kind, "name": name,
               "change": {"actions": ["create"], "before": null, "after": after, "after_unknown": unknown}})
    };
    let refs = |address: &str| json!({"references": [format!("{address}.id"), address]});
    for i in 0..400 {
        let cidr = format!("10.40.{}.{}/28", 100 + i / 16, (i % 16) * 16);
        let (subnet, table, association, group, rule) = (
            format!("aws_subnet.s{i}"),
            format!("aws_route_table.t{i}"),
            format!("aws_route_table_association.a{i}"),
            format!("aws_security_group.g{i}"),
            format!("aws_vpc_security_group_egress_rule.r{i}"),
        );
        changes.push(create(
            subnet.clone(),
            json!({"vpc_id": vpc, "cidr_block": cidr}),
            json!({"id": true}),
        ));
        changes.push(create(
            table.clone(),
            json!({"vpc_id": vpc}),
            json!({"id": true, "route": true}),
        ));
        changes.push(create(
            association.clone(),
            json!({}),
            json!({"id": true, "subnet_id": true, "route_table_id": true}),
        ));
        changes.push(create(
            group.clone(),
            json!({"vpc_id": vpc, "name": format!("g{i}"), "ingress": []}),
            json!({"id": true, "egress": true}),
        ));
        changes.push(create(rule.clone(), json!({"ip_protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv4": "0.0.0.0/0"}), json!({"id": true, "security_group_id": true})));
        resources.push(json!({"address": subnet, "mode": "managed", "expressions": {"vpc_id": {"constant_value": vpc}}}));
        resources.push(json!({"address": table, "mode": "managed", "expressions": {"vpc_id": {"constant_value": vpc}}}));
        resources.push(json!({"address": association, "mode": "managed", "expressions": {"subnet_id": refs(&subnet), "route_table_id": refs(&table)}}));
        resources.push(json!({"address": group, "mode": "managed", "expressions": {"vpc_id": {"constant_value": vpc}}}));
        resources.push(json!({"address": rule, "mode": "managed", "expressions": {"security_group_id": refs(&group)}}));
    }
    assert_eq!(changes.len(), 2000);
    json!({"format_version": "1.2", "terraform_version": "1.9.8", "resource_changes": changes,
           "configuration": {"root_module": {"resources": resources}}})
    .to_string()
}

/// How many (service, subnet, hop) checks an audit of everything in `view` makes.
fn checks_in(view: &ecs_pull_doctor::network::NetworkView) -> usize {
    audit(view, "ap-northeast-2", &Selection::default())
        .services
        .iter()
        .map(|s| s.checks.len())
        .sum()
}

/// The bundled account widened to 10,000 private subnets, each explicitly associated with a
/// route table of its own (a copy of the first subnet's), and 2,500 copies of its first
/// awsvpc service, each in four of those subnets.
fn ten_thousand_subnets(account: &std::path::Path) -> ecs_pull_doctor::network::NetworkView {
    use serde_json::{json, Value};
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(account).unwrap()).unwrap();
    let subnet = doc["Subnets"][0].clone();
    let subnet_id = subnet["SubnetId"].as_str().unwrap().to_string();
    let table = doc["RouteTables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["Associations"].to_string().contains(&subnet_id))
        .expect("the first subnet has a route table")
        .clone();
    let service = doc["Services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s.to_string().contains("awsvpcConfiguration"))
        .expect("an awsvpc service")
        .clone();
    let id = |i: usize| format!("subnet-{i:017x}");
    for i in 0..10_000 {
        let mut s = subnet.clone();
        s["SubnetId"] = id(i).into();
        doc["Subnets"].as_array_mut().unwrap().push(s);
        let mut t = table.clone();
        t["RouteTableId"] = format!("rtb-{i:017x}").into();
        t["Associations"] = json!([{"Main": false, "SubnetId": id(i)}]);
        doc["RouteTables"].as_array_mut().unwrap().push(t);
    }
    let four_subnets = |i: usize| json!([id(4 * i), id(4 * i + 1), id(4 * i + 2), id(4 * i + 3)]);
    let services: Vec<Value> = (0..2_500)
        .map(|i| {
            let text = service.to_string();
            let mut copy: Value = serde_json::from_str(&text).unwrap();
            copy["serviceName"] = format!("svc-{i}").into();
            set_awsvpc_subnets(&mut copy, &four_subnets(i));
            copy
        })
        .collect();
    doc["Services"] = Value::Array(services);
    serde_json::from_value(doc).unwrap()
}

/// Every `awsvpcConfiguration.subnets` under `value` (the service's and its deployments').
fn set_awsvpc_subnets(value: &mut serde_json::Value, subnets: &serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(awsvpc) = map.get_mut("awsvpcConfiguration") {
                awsvpc["subnets"] = subnets.clone();
            }
            map.values_mut()
                .for_each(|v| set_awsvpc_subnets(v, subnets));
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .for_each(|v| set_awsvpc_subnets(v, subnets)),
        _ => {}
    }
}

criterion_group!(engine, benches);
criterion_main!(engine);
