//! An incident in Slack (app mode): the parent message, which is the first diagnosis with a
//! status line edited as the incident goes on, and the replies in its thread (a new cause,
//! the resolution).
//!
//! Pure. The parent's diagnosis blocks are kept (in the incident record) as they were first
//! posted, so the resolution can edit the status line without a diagnosis at hand.

use serde_json::{json, Value};

use super::slack::{cap, escape, SECTION_MAX};
use crate::localized::Lang;
use crate::t;

/// Where an incident stands, for its status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentStatus {
    pub failed_tasks: u64,
    /// How long it has been (or was) open, when known.
    pub open_seconds: Option<u64>,
    /// The first findings seen, in order.
    pub causes: Vec<String>,
    /// The event that closed it (`SERVICE_STEADY_STATE`…), once resolved.
    pub resolved_by: Option<String>,
}

fn minutes(seconds: u64) -> u64 {
    seconds.div_ceil(60)
}

/// The status line: open or resolved, for how long, how many tasks, which causes.
pub fn status_text(status: &IncidentStatus, lang: Lang) -> String {
    let tasks = status.failed_tasks;
    let causes = status.causes.join(", ");
    let line = match (&status.resolved_by, status.open_seconds.map(minutes)) {
        (Some(by), Some(m)) => t!(
            "✅ *Resolved* by {by} after {m} min · {tasks} failed tasks · {causes}",
            "✅ *해결됨* ({by}, {m}분 후) · 실패한 태스크 {tasks}개 · {causes}",
            by = by,
            m = m,
            tasks = tasks,
            causes = causes
        ),
        (Some(by), None) => t!(
            "✅ *Resolved* by {by} · {tasks} failed tasks · {causes}",
            "✅ *해결됨* ({by}) · 실패한 태스크 {tasks}개 · {causes}",
            by = by,
            tasks = tasks,
            causes = causes
        ),
        (None, Some(m)) => t!(
            "🔴 *Open* for {m} min · {tasks} failed tasks · {causes}",
            "🔴 *진행 중* ({m}분째) · 실패한 태스크 {tasks}개 · {causes}",
            m = m,
            tasks = tasks,
            causes = causes
        ),
        (None, None) => t!(
            "🔴 *Open* · {tasks} failed tasks · {causes}",
            "🔴 *진행 중* · 실패한 태스크 {tasks}개 · {causes}",
            tasks = tasks,
            causes = causes
        ),
    };
    cap(&escape(line.get(lang)), SECTION_MAX)
}

/// The parent message: `diagnosis` (a Slack payload of the first diagnosis) with the status
/// line as its first section, after the header.
pub fn parent(diagnosis: &Value, status: &IncidentStatus, lang: Lang) -> Value {
    let mut blocks: Vec<Value> = diagnosis["blocks"].as_array().cloned().unwrap_or_default();
    let at = usize::from(blocks.first().is_some_and(|b| b["type"] == "header"));
    blocks.insert(
        at,
        json!({"type": "section", "text": {"type": "mrkdwn", "text": status_text(status, lang)}}),
    );
    // Block Kit takes at most 50 blocks.
    blocks.truncate(50);
    let text = format!(
        "{} {}",
        status_text(status, lang),
        diagnosis["text"].as_str().unwrap_or_default()
    );
    json!({"text": cap(&text, SECTION_MAX), "blocks": blocks})
}

/// The reply that closes the thread (sent to the channel too).
pub fn resolution_reply(status: &IncidentStatus, lang: Lang) -> Value {
    let text = status_text(status, lang);
    json!({"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_says_the_state_the_count_and_the_causes() {
        let mut status = IncidentStatus {
            failed_tasks: 37,
            open_seconds: Some(14 * 60 - 5),
            causes: vec!["S3_ROUTE_MISSING".into(), "ECR_API_ENDPOINT_MISSING".into()],
            resolved_by: None,
        };
        assert_eq!(
            status_text(&status, Lang::En),
            "🔴 *Open* for 14 min · 37 failed tasks · S3_ROUTE_MISSING, ECR_API_ENDPOINT_MISSING"
        );
        status.resolved_by = Some("SERVICE_STEADY_STATE".into());
        assert!(status_text(&status, Lang::En)
            .starts_with("✅ *Resolved* by SERVICE_STEADY_STATE after 14 min"));
        assert!(status_text(&status, Lang::Ko).contains("해결됨"));
    }

    #[test]
    fn the_parent_puts_the_status_under_the_header() {
        let diagnosis = json!({"text": "S3_ROUTE_MISSING: …", "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "🔴 S3_ROUTE_MISSING"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "summary"}}]});
        let status = IncidentStatus {
            failed_tasks: 1,
            open_seconds: None,
            causes: vec!["S3_ROUTE_MISSING".into()],
            resolved_by: None,
        };
        let p = parent(&diagnosis, &status, Lang::En);
        assert_eq!(p["blocks"][0]["type"], "header");
        assert!(p["blocks"][1]["text"]["text"]
            .as_str()
            .unwrap()
            .starts_with("🔴 *Open*"));
        assert_eq!(p["blocks"][2]["text"]["text"], "summary");
    }
}
