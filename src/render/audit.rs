//! An audit as text for people (summary, root causes with their fixes, what was not
//! inspected, a services × subnets matrix per VPC), as Markdown for CI, and as the JSON
//! contract docs/reference.md documents.

use serde_json::{json, Value};

use super::{fenced, matrix, sanitize, severity_mark};
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

/// The audit as docs/reference.md's JSON contract.
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
        "notes": audit.notes.iter().map(|n| n.get(lang)).collect::<Vec<_>>(),
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
    line(summary_line(audit, lang));

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

    let mut list = |title: &str, items: Vec<String>| {
        if items.is_empty() {
            return;
        }
        line(String::new());
        line(title.to_string());
        for item in items {
            line(format!("  • {item}"));
        }
    };
    for (title, items) in closing_lists(audit, lang) {
        list(title, items);
    }

    let blocks = matrix::blocks(audit, view);
    if !blocks.is_empty() {
        line(String::new());
        line(legend(lang).to_string());
        for block in &blocks {
            for row in matrix::text(block) {
                line(row);
            }
        }
    }
    out
}

/// The lists that end a report, titled: what stood in for what could not be read, then
/// what was not inspected.
fn closing_lists(audit: &Audit, lang: Lang) -> [(&'static str, Vec<String>); 2] {
    let ko = lang == Lang::Ko;
    [
        (
            if ko {
                "대신 사용한 정보"
            } else {
                "Stand-ins"
            },
            audit
                .notes
                .iter()
                .map(|n| n.get(lang).to_string())
                .collect(),
        ),
        (
            if ko {
                "점검하지 못한 항목"
            } else {
                "Not inspected"
            },
            gaps(audit, lang),
        ),
    ]
}

/// What was not inspected: the audit's own gaps, then each service's, named.
fn gaps(audit: &Audit, lang: Lang) -> Vec<String> {
    audit
        .not_inspected
        .iter()
        .map(|n| n.get(lang).to_string())
        .chain(audit.services.iter().flat_map(|s| {
            s.not_inspected
                .iter()
                .map(move |n| format!("{}: {}", s.display_name(), n.get(lang)))
        }))
        .collect()
}

/// `Audit of REGION: N services, … ; M root causes (K blocking)`, with singulars right.
fn summary_line(audit: &Audit, lang: Lang) -> String {
    let (ok, blocked, unknown) = (
        audit.count(ServiceVerdict::Ok),
        audit.count(ServiceVerdict::Blocked),
        audit.count(ServiceVerdict::Unknown),
    );
    let services = audit.services.len();
    let causes = audit.root_causes.len();
    let blocking = audit
        .root_causes
        .iter()
        .filter(|c| c.severity == crate::diagnose::Severity::Critical)
        .count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match lang {
        Lang::Ko => format!(
            "{} 점검: 서비스 {services}개, 정상 {ok}, 차단 {blocked}, 알 수 없음 {unknown}; 근본 원인 {causes}개 (차단 {blocking}개)",
            audit.region
        ),
        Lang::En => format!(
            "Audit of {}: {}, {ok} ok, {blocked} blocked, {unknown} unknown; {} ({blocking} blocking)",
            audit.region,
            plural(services, "service"),
            plural(causes, "root cause"),
        ),
    }
}

fn legend(lang: Lang) -> &'static str {
    match lang {
        Lang::Ko => "서비스 × 서브넷: 칸마다 VPC의 홉 순서대로 ✓ 열림, ✗ 차단, ? 점검 못함, - 필요 없음; · 이 서브넷에서 실행 안 함",
        Lang::En => "Services × subnets: each cell has one mark per hop, in the VPC's order: ✓ open, ✗ blocked, ? not inspected, - not needed; · not run in that subnet",
    }
}

/// The audit as Markdown, for a CI job summary or a pull-request comment: the summary, the
/// root causes with their fixes in code blocks, what was not inspected, and the matrix as
/// tables. Every name from the account is escaped; commands sit in code blocks.
pub fn audit_markdown(audit: &Audit, view: &NetworkView, lang: Lang) -> String {
    use matrix::markdown_cell as escape;
    let ko = lang == Lang::Ko;
    let mut out = String::new();
    let mut push = |text: String| {
        out.push_str(&sanitize(&text));
        out.push('\n');
    };
    push(format!(
        "### ecs-pull-doctor {} {}",
        if ko { "점검" } else { "audit" },
        escape(&audit.region)
    ));
    push(String::new());
    push(format!("**{}**", escape(&summary_line(audit, lang))));
    if !audit.root_causes.is_empty() {
        push(String::new());
        push(format!(
            "#### {}",
            if ko { "근본 원인" } else { "Root causes" }
        ));
        for (i, cause) in audit.root_causes.iter().enumerate() {
            push(String::new());
            let account = cause
                .account
                .as_ref()
                .map(|a| format!("\\[{}\\] ", escape(a)))
                .unwrap_or_default();
            push(format!(
                "{}. {} `{}` {account}{}",
                i + 1,
                severity_mark(cause.severity),
                cause.code,
                escape(cause.summary.get(lang))
            ));
            push(format!(
                "   - {} {} ({} {})",
                if ko { "영향:" } else { "Affects:" },
                escape(&cause.services.join(", ")),
                if ko { "서브넷" } else { "subnets" },
                escape(&cause.subnets.join(", "))
            ));
            push(format!(
                "   - {} {}",
                if ko { "조치:" } else { "Fix:" },
                escape(cause.fix.get(lang))
            ));
            if !cause.commands.is_empty() {
                push(String::new());
                for line in fenced("sh", &cause.commands.join("\n")).lines() {
                    push(format!("   {line}"));
                }
            }
        }
    }
    let mut list = |title: &str, items: Vec<String>| {
        if items.is_empty() {
            return;
        }
        push(String::new());
        push(format!("#### {title}"));
        push(String::new());
        for item in items {
            push(format!("- {}", escape(&item)));
        }
    };
    for (title, items) in closing_lists(audit, lang) {
        list(title, items);
    }
    let blocks = matrix::blocks(audit, view);
    if !blocks.is_empty() {
        push(String::new());
        push(format!(
            "#### {}",
            if ko {
                "서비스 × 서브넷"
            } else {
                "Services × subnets"
            }
        ));
        push(String::new());
        push(escape(legend(lang)));
        for block in &blocks {
            push(String::new());
            for row in matrix::markdown(block) {
                push(row);
            }
        }
    }
    out
}
