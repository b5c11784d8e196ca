//! A diagnosis as a PagerDuty Events API v2 event: `trigger` when an incident opens or a
//! new cause appears (the same `dedup_key` groups them into one PagerDuty incident), and
//! `resolve` when the service recovers.
//!
//! The routing key is added by the sink (it is a secret and never rendered). PagerDuty caps
//! `summary` at 1,024 characters and the whole event at 512 KB; names and messages are cut
//! long before either.

use serde_json::{json, Value};

use crate::diagnose::{Diagnosis, Severity};
use crate::localized::Lang;
use crate::untrusted;

/// PagerDuty's limit on `payload.summary`.
pub const MAX_SUMMARY: usize = 1024;
/// What this tool names itself as in PagerDuty (`client`, `payload.source` fallback).
const CLIENT: &str = "ecs-pull-doctor";

fn severity(d: &Diagnosis) -> &'static str {
    match d.findings.first().map(|f| f.severity) {
        Some(Severity::Critical) => "critical",
        Some(Severity::Info) => "info",
        _ => "warning",
    }
}

/// The `trigger` event for `d` under `dedup_key`.
pub fn trigger_event(d: &Diagnosis, lang: Lang, dedup_key: &str) -> Value {
    let task = &d.task;
    let code = d.verdict().as_str();
    let cluster = task.cluster_name().unwrap_or("-");
    let service = task.service_name().or(task.group.as_deref()).unwrap_or("-");
    let first = d.findings.first();
    let summary = first.map(|f| f.summary.get(lang)).unwrap_or_default();
    let mut custom = json!({
        "finding": code,
        "account": task.account,
        "region": task.region,
        "cluster": cluster,
        "service": service,
        "task": task.task_arn,
        "task_definition": task.task_definition_arn,
        "container": d.failure.container,
        "image": d.failure.image,
        "error_message": untrusted::cut(&d.failure.reason, 2048),
        "also": d.findings.iter().skip(1).map(|f| f.code.as_str()).collect::<Vec<_>>(),
    });
    if let Some(first) = first {
        custom["fix"] = first.fix.get(lang).into();
        custom["commands"] = json!(first.commands);
        custom["evidence"] = first.evidence.iter().map(|e| e.get(lang)).collect();
    }
    custom["path"] = d.paths.iter().map(|w| w.line(lang)).collect();
    let mut event = json!({
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "client": CLIENT,
        "payload": {
            "summary": untrusted::one_line(&format!("{code}: {summary} ({cluster}/{service})"), MAX_SUMMARY - 40),
            "source": task.region.as_deref().map_or(CLIENT.to_string(), |r| format!("ecs.{r}.amazonaws.com")),
            "severity": severity(d),
            "component": format!("{cluster}/{service}"),
            "group": cluster,
            "class": code,
            "custom_details": custom,
        },
    });
    if let Some(link) = service_console_link(d) {
        event["links"] = json!([{"href": link, "text": "The service in the ECS console"}]);
    }
    untrusted::displayable_json(&mut event);
    event
}

/// The `resolve` event for the incident under `dedup_key`.
pub fn resolve_event(dedup_key: &str) -> Value {
    json!({"event_action": "resolve", "dedup_key": dedup_key, "client": CLIENT})
}

/// The ECS console page of the task's service, built only from checked parts: a region of
/// AWS's shape and cluster and service names of ECS's grammar.
fn service_console_link(d: &Diagnosis) -> Option<String> {
    let task = &d.task;
    let region = task
        .region
        .as_deref()
        .filter(|r| crate::trust::is_region(r))?;
    let ecs_name = |n: &&str| {
        !n.is_empty()
            && n.len() <= 255
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let cluster = task.cluster_name().filter(ecs_name)?;
    let service = task.service_name().filter(ecs_name)?;
    Some(format!(
        "https://{region}.console.aws.amazon.com/ecs/v2/clusters/{cluster}/services/{service}/health?region={region}"
    ))
}
