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
    pub stage: Stage,
}

/// The incident's state as people read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Open,
    /// ECS rolled the deployment back: the old revision runs, the new one's pull path is
    /// still broken.
    Mitigated,
    /// Closed by the service's recovery (`SERVICE_STEADY_STATE`…).
    Resolved {
        by: String,
    },
    /// Closed because no task failed for this many minutes: not a proof of a fix.
    Quiet {
        minutes: u64,
    },
}

fn minutes(seconds: u64) -> u64 {
    seconds.div_ceil(60)
}

/// The status line's mark, its state words and the rest, in `lang`.
fn status_parts(status: &IncidentStatus, lang: Lang) -> (&'static str, String, String) {
    let tasks = status.failed_tasks;
    let causes = status.causes.join(", ");
    let open = status.open_seconds.map(minutes);
    let (mark, state) = match &status.stage {
        Stage::Open => ("🔴", t!("Open", "진행 중")),
        Stage::Mitigated => (
            "🟠",
            t!(
                "Mitigated: the old revision runs",
                "완화됨: 이전 리비전 실행 중"
            ),
        ),
        Stage::Resolved { by } => ("✅", t!("Resolved by {by}", "해결됨 ({by})", by = by)),
        Stage::Quiet { minutes } => (
            "⚪",
            t!(
                "Closed: no failure for {m} min",
                "종료: {m}분 동안 실패 없음",
                m = minutes
            ),
        ),
    };
    let duration = match (&status.stage, open) {
        (_, None) => None,
        (Stage::Open, Some(m)) => Some(t!("for {m} min", "{m}분째", m = m)),
        (Stage::Quiet { .. }, Some(m)) => Some(t!("· open {m} min", "· {m}분 동안 열림", m = m)),
        (_, Some(m)) => Some(t!("after {m} min", "{m}분 후", m = m)),
    };
    let tasks = t!(
        "{tasks} failed tasks",
        "실패한 태스크 {tasks}개",
        tasks = tasks
    );
    let mut rest = String::new();
    if let Some(duration) = duration {
        rest.push_str(&format!(" {}", duration.get(lang)));
    }
    rest.push_str(&format!(" · {}", tasks.get(lang)));
    if !causes.is_empty() {
        rest.push_str(&format!(" · {causes}"));
    }
    (mark, state.get(lang).to_string(), rest)
}

/// The status line as plain text: state, for how long, how many tasks, which causes.
pub fn status_line(status: &IncidentStatus, lang: Lang) -> String {
    let (mark, state, rest) = status_parts(status, lang);
    format!("{mark} {state}{rest}")
}

/// The status line in Slack's mrkdwn, the state in bold.
pub fn status_text(status: &IncidentStatus, lang: Lang) -> String {
    let (mark, state, rest) = status_parts(status, lang);
    cap(
        &format!("{mark} *{}*{}", escape(&state), escape(&rest)),
        SECTION_MAX,
    )
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

/// A reply in the incident's thread: the status line, then `lines` (what is true now, ECS's
/// own words), each escaped.
pub fn thread_reply(status: &IncidentStatus, lines: &[String], lang: Lang) -> Value {
    let head = status_text(status, lang);
    let mut blocks = vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": head}})];
    if !lines.is_empty() {
        let text: Vec<String> = lines.iter().map(|l| format!("• {}", escape(l))).collect();
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap(&text.join("\n"), SECTION_MAX)}}));
    }
    json!({"text": head, "blocks": blocks})
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
            stage: Stage::Open,
        };
        assert_eq!(
            status_text(&status, Lang::En),
            "🔴 *Open* for 14 min · 37 failed tasks · S3_ROUTE_MISSING, ECR_API_ENDPOINT_MISSING"
        );
        status.stage = Stage::Resolved {
            by: "SERVICE_STEADY_STATE".into(),
        };
        assert!(status_text(&status, Lang::En)
            .starts_with("✅ *Resolved by SERVICE_STEADY_STATE* after 14 min"));
        assert!(status_text(&status, Lang::Ko).contains("해결됨"));
        status.stage = Stage::Quiet { minutes: 60 };
        assert_eq!(
            status_line(&status, Lang::En),
            "⚪ Closed: no failure for 60 min · open 14 min · 37 failed tasks · S3_ROUTE_MISSING, ECR_API_ENDPOINT_MISSING"
        );
        status.stage = Stage::Mitigated;
        assert!(status_line(&status, Lang::En)
            .starts_with("🟠 Mitigated: the old revision runs after 14 min"));
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
            stage: Stage::Open,
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
