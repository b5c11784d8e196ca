//! Diagnoses as text for people and JSON for machines, in English or Korean; [`sns`] and
//! [`slack`] shape the same diagnosis for those sinks.
//!
//! Text puts the verdict first, then the evidence, then the fix. Text from the event (the
//! error message, image names) is untrusted: control characters are replaced before it
//! reaches a terminal. Codes, resource IDs and commands are the same in both languages.

pub mod audit;
pub mod chatbot;
pub mod digest;
pub mod incident;
pub mod matrix;
pub mod pagerduty;
pub mod slack;
pub mod sns;
pub mod sweep;
pub mod teams;
pub mod tfplan;

use serde::Serialize;
use serde_json::{json, Value};

use crate::diagnose::{Diagnosis, FailureReport, Finding, Severity, Walk};
use crate::event::FailedTask;
use crate::localized::Lang;

/// Output formats of the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
    /// For a CI job summary or a pull-request comment; readable as plain text too.
    Markdown,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "markdown" | "md" => Ok(Format::Markdown),
            other => Err(format!(
                "unknown format {other:?} (expected text, json or markdown)"
            )),
        }
    }
}

/// Replaces control characters (terminal escapes, line breaks) with a visible stand-in.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

#[derive(Serialize)]
struct TaskJson<'a> {
    account: Option<&'a str>,
    region: Option<&'a str>,
    cluster_arn: Option<&'a str>,
    task_arn: Option<&'a str>,
    group: Option<&'a str>,
    task_definition_arn: Option<&'a str>,
    launch_type: Option<&'a str>,
    stop_code: Option<&'a str>,
    availability_zone: Option<&'a str>,
    subnet_id: Option<&'a str>,
    private_ipv4_address: Option<String>,
    failing_containers: Vec<Value>,
}

fn task_json(task: &FailedTask) -> Value {
    let t = TaskJson {
        account: task.account.as_deref(),
        region: task.region.as_deref(),
        cluster_arn: task.cluster_arn.as_deref(),
        task_arn: task.task_arn.as_deref(),
        group: task.group.as_deref(),
        task_definition_arn: task.task_definition_arn.as_deref(),
        launch_type: task.launch_type.as_deref(),
        stop_code: task.stop_code.as_deref(),
        availability_zone: task.availability_zone.as_deref(),
        subnet_id: task.subnet_id.as_deref(),
        private_ipv4_address: task.private_ipv4_address.map(|ip| ip.to_string()),
        failing_containers: task
            .failing_containers
            .iter()
            .map(|c| json!({"name": c.name, "image": c.image, "reason": c.reason}))
            .collect(),
    };
    serde_json::to_value(t).unwrap_or(Value::Null)
}

/// The `failure` object (also what `explain` prints).
pub fn failure_json(failure: &FailureReport) -> Value {
    serde_json::to_value(failure).unwrap_or(Value::Null)
}

pub fn finding_json(finding: &Finding, lang: Lang) -> Value {
    json!({
        "code": finding.code,
        "severity": finding.severity,
        "summary": finding.summary.get(lang),
        "evidence": finding.evidence.iter().map(|e| e.get(lang)).collect::<Vec<_>>(),
        "fix": finding.fix.get(lang),
        "commands": finding.commands,
    })
}

/// One probe's path: `{"to", "line", "steps": [{"state", "text", "code"}]}`.
pub fn walk_json(walk: &Walk, lang: Lang) -> Value {
    json!({
        "to": walk.to.get(lang),
        "line": walk.line(lang),
        "steps": walk.steps.iter().map(|s| json!({
            "state": s.state,
            "text": s.text.get(lang),
            "code": s.code,
        })).collect::<Vec<_>>(),
    })
}

/// The diagnosis as one JSON document.
pub fn diagnosis_json(d: &Diagnosis, lang: Lang) -> Value {
    json!({
        "task": task_json(&d.task),
        "failure": failure_json(&d.failure),
        "findings": d.findings.iter().map(|f| finding_json(f, lang)).collect::<Vec<_>>(),
        "paths": d.paths.iter().map(|w| walk_json(w, lang)).collect::<Vec<_>>(),
        "not_inspected": d.not_inspected.iter().map(|n| n.get(lang)).collect::<Vec<_>>(),
        "missing_inputs": d.missing_inputs,
        "ip_ranges": d.ip_ranges_create_date.as_ref().map(|c| json!({"create_date": c})),
        "lang": lang,
    })
}

/// The answer for an event that is not a pull failure.
pub fn skipped_json(task_arn: Option<&str>, why: &str) -> Value {
    json!({"skipped": true, "task_arn": task_arn, "why": why})
}

pub fn skipped_text(task_arn: Option<&str>, why: &str, lang: Lang) -> String {
    let arn = task_arn.unwrap_or("-");
    match lang {
        Lang::En => format!("skipped {arn}: {}\n", sanitize(why)),
        Lang::Ko => format!("건너뜀 {arn}: {}\n", sanitize(why)),
    }
}

struct Labels {
    task: &'static str,
    service: &'static str,
    container: &'static str,
    failure: &'static str,
    message: &'static str,
    evidence: &'static str,
    path: &'static str,
    fix: &'static str,
    also: &'static str,
    not_inspected: &'static str,
    ip_ranges: &'static str,
    no_ip_ranges: &'static str,
}

const EN: Labels = Labels {
    task: "Task",
    service: "Service",
    container: "Container",
    failure: "Failure",
    message: "Message",
    evidence: "Evidence",
    path: "Path",
    fix: "Fix",
    also: "Also found",
    not_inspected: "Not inspected",
    ip_ranges: "ip-ranges snapshot",
    no_ip_ranges: "ip-ranges: not loaded",
};

const KO: Labels = Labels {
    task: "태스크",
    service: "서비스",
    container: "컨테이너",
    failure: "실패",
    message: "메시지",
    evidence: "근거",
    path: "경로",
    fix: "조치",
    also: "추가 발견",
    not_inspected: "점검하지 못한 항목",
    ip_ranges: "ip-ranges 스냅샷",
    no_ip_ranges: "ip-ranges: 불러오지 않음",
};

pub(crate) fn severity_mark(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "✗",
        Severity::Warning => "!",
        Severity::Info => "✓",
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// `label` padded to `width` terminal columns (Hangul takes two columns each).
pub(crate) fn pad(label: &str, width: usize) -> String {
    let columns: usize = label
        .chars()
        .map(|c| {
            // Hangul jamo, CJK and Hangul syllables, fullwidth forms: two columns each;
            // the marks (✓ ✗ ·) and everything else one.
            let wide = ('\u{1100}'..='\u{115f}').contains(&c)
                || ('\u{2e80}'..='\u{a4cf}').contains(&c)
                || ('\u{ac00}'..='\u{d7a3}').contains(&c)
                || ('\u{ff00}'..='\u{ff60}').contains(&c);
            if wide {
                2
            } else {
                1
            }
        })
        .sum();
    format!("{label}{}", " ".repeat(width.saturating_sub(columns)))
}

/// `text` as a Markdown code block whose fence no run of backticks in it can close.
pub fn fenced(info: &str, text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{info}\n{}\n{fence}\n", text.trim_end_matches('\n'))
}

/// The diagnosis as Markdown: the verdict as a heading, the text diagnosis in a code block
/// (so nothing from the event is rendered).
pub fn diagnosis_markdown(d: &Diagnosis, lang: Lang) -> String {
    let heading = d
        .findings
        .first()
        .map(|f| format!("{} {}", severity_mark(f.severity), f.code))
        .unwrap_or_else(|| "ecs-pull-doctor".into());
    format!(
        "## {heading}\n\n{}",
        fenced("text", &diagnosis_text(d, lang))
    )
}

/// The diagnosis for a person: verdict, then context, evidence and fix.
pub fn diagnosis_text(d: &Diagnosis, lang: Lang) -> String {
    let l = if lang == Lang::Ko { &KO } else { &EN };
    let mut out = String::new();
    // Every line passes through `sanitize`: summaries quote image names and hosts from the event.
    let mut line = |s: String| {
        out.push_str(&sanitize(&s));
        out.push('\n');
    };
    if let Some(first) = d.findings.first() {
        line(format!(
            "{} {}  ({})",
            severity_mark(first.severity),
            first.code,
            severity_word(first.severity)
        ));
        line(first.summary.get(lang).to_string());
        line(String::new());
    }
    let task = &d.task;
    line(format!(
        "{} {}",
        pad(l.task, 10),
        task.task_arn.as_deref().unwrap_or("-")
    ));
    let service = match (task.cluster_name(), task.group.as_deref()) {
        (Some(c), Some(g)) => format!("{c} / {g}"),
        (Some(c), None) => c.to_string(),
        (None, Some(g)) => g.to_string(),
        (None, None) => "-".into(),
    };
    let taskdef = task
        .task_definition_arn
        .as_deref()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or("-");
    line(format!(
        "{} {service}  ({taskdef}, {})",
        pad(l.service, 10),
        task.launch_type.as_deref().unwrap_or("-")
    ));
    let f = &d.failure;
    line(format!(
        "{} {}  {}",
        pad(l.container, 10),
        sanitize(f.container.as_deref().unwrap_or("-")),
        sanitize(f.image.as_deref().unwrap_or("-"))
    ));
    line(format!("{} {}", pad(l.failure, 10), failure_line(f)));
    line(format!(
        "{} {}",
        pad(l.message, 10),
        shorten(&f.reason, 400)
    ));
    if !d.paths.is_empty() {
        line(String::new());
        line(l.path.to_string());
        for walk in &d.paths {
            line(format!("  {}", walk.line(lang)));
        }
    }
    if let Some(first) = d.findings.first() {
        if !first.evidence.is_empty() {
            line(String::new());
            line(l.evidence.to_string());
            for e in &first.evidence {
                line(format!("  • {}", e.get(lang)));
            }
        }
        line(String::new());
        line(l.fix.to_string());
        line(format!("  {}", first.fix.get(lang)));
        for c in &first.commands {
            line(format!("    $ {c}"));
        }
    }
    if d.findings.len() > 1 {
        line(String::new());
        line(l.also.to_string());
        for (i, finding) in d.findings.iter().enumerate().skip(1) {
            line(format!(
                "  {}. {} {} ({})",
                i + 1,
                severity_mark(finding.severity),
                finding.code,
                severity_word(finding.severity)
            ));
            line(format!("     {}", finding.summary.get(lang)));
            for e in &finding.evidence {
                line(format!("     • {}", e.get(lang)));
            }
            line(format!("     → {}", finding.fix.get(lang)));
            for c in &finding.commands {
                line(format!("       $ {c}"));
            }
        }
    }
    if !d.not_inspected.is_empty() {
        line(String::new());
        line(l.not_inspected.to_string());
        for n in &d.not_inspected {
            line(format!("  • {}", n.get(lang)));
        }
    }
    line(String::new());
    line(match &d.ip_ranges_create_date {
        Some(date) => format!("{}: {date}", l.ip_ranges),
        None => l.no_ip_ranges.to_string(),
    });
    out
}

/// At most `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

fn failure_line(f: &FailureReport) -> String {
    let mut s = format!("{} / {}", f.symptom.as_str(), f.hop.as_str());
    if let Some(host) = &f.host {
        s.push_str(&format!("  host {}", sanitize(host)));
    }
    if let Some(ip) = f.ip {
        match f.port {
            Some(port) if ip.is_ipv6() => s.push_str(&format!("  → [{ip}]:{port}")),
            Some(port) => s.push_str(&format!("  → {ip}:{port}")),
            None => s.push_str(&format!("  → {ip}")),
        }
        if let Some(o) = &f.ip_owner {
            s.push_str(&format!(
                " ({} {}, {}, {})",
                o.service, o.region, o.prefix, o.source
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(sanitize("a\u{1b}[31mb\nc"), "a\u{fffd}[31mb c");
    }
}
