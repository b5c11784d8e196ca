//! An audit as text for people (summary, root causes with their fixes, what was not
//! inspected, a services × subnets matrix per VPC) and as the JSON contract the README
//! documents.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{pad, sanitize, severity_mark};
use crate::audit::{Audit, RootCause, ServiceAudit, ServiceVerdict};
use crate::localized::Lang;
use crate::network::NetworkView;

/// What the live read cost, when there was one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calls {
    pub total: usize,
    pub rounds: usize,
}

pub fn root_cause_json(cause: &RootCause, lang: Lang) -> Value {
    json!({
        "account": cause.account,
        "code": cause.code,
        "severity": cause.severity,
        "identity": cause.identity,
        "summary": cause.summary.get(lang),
        "resources": cause.resources,
        "services": cause.services,
        "subnets": cause.subnets,
        "fix": cause.fix.get(lang),
        "commands": cause.commands,
    })
}

fn service_json(s: &ServiceAudit, lang: Lang) -> Value {
    json!({
        "account": s.account,
        "cluster": s.cluster,
        "service": s.service,
        "launch_type": s.launch_type,
        "subnets": s.subnets,
        "verdict": s.verdict,
        "codes": s.codes,
        "not_inspected": s.not_inspected.iter().map(|n| n.get(lang)).collect::<Vec<_>>(),
        "hops": s.checks.iter().map(|c| json!({
            "subnet": c.subnet,
            "hop": c.hop,
            "state": c.state,
            "codes": c.codes,
        })).collect::<Vec<_>>(),
    })
}

/// The audit as the README's JSON contract.
pub fn audit_json(audit: &Audit, calls: Option<Calls>, lang: Lang) -> Value {
    json!({
        "region": audit.region,
        "summary": {
            "services": audit.services.len(),
            "ok": audit.count(ServiceVerdict::Ok),
            "blocked": audit.count(ServiceVerdict::Blocked),
            "unknown": audit.count(ServiceVerdict::Unknown),
            "root_causes": audit.root_causes.len(),
        },
        "services": audit.services.iter().map(|s| service_json(s, lang)).collect::<Vec<_>>(),
        "root_causes": audit.root_causes.iter().map(|c| root_cause_json(c, lang)).collect::<Vec<_>>(),
        "not_inspected": audit.not_inspected.iter().map(|n| n.get(lang)).collect::<Vec<_>>(),
        "calls": calls.map(|c| json!({"total": c.total, "rounds": c.rounds})),
        "lang": lang,
    })
}

/// The audit for a person. `view` gives the subnets' VPCs and zones for the matrix.
pub fn audit_text(audit: &Audit, view: &NetworkView, lang: Lang) -> String {
    let ko = lang == Lang::Ko;
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&sanitize(&s));
        out.push('\n');
    };
    let (ok, blocked, unknown) = (
        audit.count(ServiceVerdict::Ok),
        audit.count(ServiceVerdict::Blocked),
        audit.count(ServiceVerdict::Unknown),
    );
    let blocking = audit
        .root_causes
        .iter()
        .filter(|c| c.severity == crate::diagnose::Severity::Critical)
        .count();
    line(if ko {
        format!(
            "{} 점검: 서비스 {}개, 정상 {ok}, 차단 {blocked}, 알 수 없음 {unknown}; 근본 원인 {blocking}개",
            audit.region,
            audit.services.len()
        )
    } else {
        format!(
            "Audit of {}: {} services, {ok} ok, {blocked} blocked, {unknown} unknown; {blocking} root cause{}",
            audit.region,
            audit.services.len(),
            if blocking == 1 { "" } else { "s" }
        )
    });

    if !audit.root_causes.is_empty() {
        line(String::new());
        line(if ko { "근본 원인" } else { "Root causes" }.to_string());
        for (i, cause) in audit.root_causes.iter().enumerate() {
            let account = cause
                .account
                .as_ref()
                .map(|a| format!("[{a}] "))
                .unwrap_or_default();
            line(format!(
                "{}. {} {}  {account}{}",
                i + 1,
                severity_mark(cause.severity),
                cause.code,
                cause.summary.get(lang)
            ));
            let services = cause.services.join(", ");
            line(if ko {
                format!("   영향: {services} (서브넷 {})", cause.subnets.join(", "))
            } else {
                format!(
                    "   Affects: {services} (subnets {})",
                    cause.subnets.join(", ")
                )
            });
            line(format!(
                "   {} {}",
                if ko { "조치:" } else { "Fix:" },
                cause.fix.get(lang)
            ));
            for command in &cause.commands {
                line(format!("     $ {command}"));
            }
        }
    }

    let gaps: Vec<String> = audit
        .not_inspected
        .iter()
        .map(|n| n.get(lang).to_string())
        .chain(audit.services.iter().flat_map(|s| {
            s.not_inspected
                .iter()
                .map(move |n| format!("{}: {}", s.display_name(), n.get(lang)))
        }))
        .collect();
    if !gaps.is_empty() {
        line(String::new());
        line(
            if ko {
                "점검하지 못한 항목"
            } else {
                "Not inspected"
            }
            .to_string(),
        );
        for gap in gaps {
            line(format!("  • {gap}"));
        }
    }

    if audit.services.iter().any(|s| !s.checks.is_empty()) {
        line(String::new());
        line(if ko {
            "서비스 × 서브넷 (홉마다 ✓ 열림, ✗ 차단, ? 점검 못함; 홉 순서는 줄 끝)"
        } else {
            "Services × subnets (per hop: ✓ open, ✗ blocked, ? not inspected; hop order at the end of each row)"
        }
        .to_string());
        for row in matrix(audit, view) {
            line(row);
        }
    }
    out
}

/// One block per VPC: its subnets (by zone) as columns, its services as rows.
fn matrix(audit: &Audit, view: &NetworkView) -> Vec<String> {
    let vpc_of = |subnet: &str| {
        view.subnet(subnet)
            .and_then(|s| s.vpc_id.clone())
            .unwrap_or_else(|| "?".into())
    };
    let zone_of = |subnet: &str| {
        view.subnet(subnet)
            .and_then(|s| s.availability_zone.clone())
            .unwrap_or_default()
    };
    // vpc → (zone, subnet) columns; vpc → services with checks there.
    let mut columns: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for service in &audit.services {
        for subnet in &service.subnets {
            let entry = columns.entry(vpc_of(subnet)).or_default();
            let column = (zone_of(subnet), subnet.clone());
            if !entry.contains(&column) {
                entry.push(column);
            }
        }
    }
    let name_width = audit
        .services
        .iter()
        .map(|s| s.display_name().chars().count())
        .max()
        .unwrap_or(0)
        .max(12);
    let mut rows = Vec::new();
    for (vpc, mut cols) in columns {
        cols.sort();
        let cell_width = |(zone, subnet): &(String, String)| {
            let short_zone = zone.chars().rev().take(2).collect::<Vec<_>>();
            let label = format!("{subnet} ({})", short_zone.iter().rev().collect::<String>());
            label
        };
        let labels: Vec<String> = cols.iter().map(cell_width).collect();
        let first = (name_width + 2).max(vpc.chars().count() + 1);
        let mut header = format!("  {}", pad(&vpc, first));
        for label in &labels {
            header.push_str(&pad(label, label.chars().count() + 2));
        }
        rows.push(header.trim_end().to_string());
        for service in audit
            .services
            .iter()
            .filter(|s| s.subnets.iter().any(|sub| vpc_of(sub) == vpc))
        {
            let mut row = format!("    {}", pad(&service.display_name(), first - 2));
            for ((_, subnet), label) in cols.iter().zip(&labels) {
                let marks: String = service
                    .hops
                    .iter()
                    .map(|hop| {
                        service
                            .checks
                            .iter()
                            .find(|c| &c.subnet == subnet && &c.hop == hop)
                            .map_or(" ", |c| c.state.mark())
                    })
                    .collect();
                let cell = if marks.trim().is_empty() {
                    "·".to_string()
                } else {
                    marks
                };
                row.push_str(&pad(&cell, label.chars().count() + 2));
            }
            row.push_str(&service.hops.join(" "));
            rows.push(row);
        }
    }
    rows
}
