//! An incident's words, for every channel: its status line, Slack's parent message (the
//! first diagnosis with that line, edited as the incident goes on) and thread replies, what
//! a mitigation says, what a close found when it checked each cause again, and the SNS
//! message of a mitigation or close.
//!
//! Pure. The parent's diagnosis blocks are kept (in the incident record) as they were first
//! posted, so the resolution can edit the status line without a diagnosis at hand.

use serde_json::{json, Value};

use super::chatbot::incident_notification;
use super::slack::{cap, escape, SECTION_MAX};
use super::sns::SnsMessage;
use crate::diagnose::{Code, Diagnosis};
use crate::localized::{Lang, Localized};
use crate::service_event::ServiceChange;
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

/// What a close found when it checked a cause again.
#[derive(Debug)]
pub enum Recheck {
    /// The cause is not about the network path (the message alone decided it).
    NotAPath,
    /// Its first failed task's event was not kept.
    NoEvent,
    /// The network could not be read now.
    Unread { subnet: String, why: String },
    /// The same failure, diagnosed against the network as it is now.
    Diagnosed {
        subnet: String,
        cause: Code,
        now: Box<Diagnosis>,
    },
}

/// One line of what is true now of `cause`: fixed (only when the path looks open and
/// nothing was left uninspected), still blocked, something else now, or not checked.
pub fn recheck_line(cause: &str, recheck: &Recheck) -> Localized {
    match recheck {
        Recheck::NotAPath => t!(
            "{cause}: not checked again (the close re-checks network paths only)",
            "{cause}: 다시 확인하지 않음 (종료 시에는 네트워크 경로만 다시 확인합니다)",
            cause = cause
        ),
        Recheck::NoEvent => t!(
            "{cause}: not checked again (its task's event was not kept)",
            "{cause}: 다시 확인하지 못함 (태스크 이벤트가 보관되지 않음)",
            cause = cause
        ),
        Recheck::Unread { subnet, why } => t!(
            "{cause}: the path from {subnet} was not checked again ({why})",
            "{cause}: {subnet}에서의 경로를 다시 확인하지 못함 ({why})",
            cause = cause,
            subnet = subnet,
            why = why
        ),
        Recheck::Diagnosed {
            subnet,
            cause: code,
            now,
        } => {
            let verdict = now.verdict();
            let path = now
                .paths
                .first()
                .map(|w| Localized::new(w.line(Lang::En), w.line(Lang::Ko)))
                .unwrap_or_default();
            let summary = now
                .findings
                .first()
                .map(|f| f.summary.clone())
                .unwrap_or_default();
            if verdict == *code {
                t!(
                    "{cause}: the service is steady, but a task in {subnet} would still fail: {summary} (its tasks run elsewhere, or on the old revision)",
                    "{cause}: 서비스는 안정적이지만 {subnet}의 태스크는 여전히 실패함: {summary} (태스크가 다른 곳이나 이전 리비전으로 실행 중)",
                    cause = cause,
                    subnet = subnet,
                    summary = summary
                )
            } else if verdict == Code::NetworkPathLooksOpen && now.not_inspected.is_empty() {
                t!(
                    "{cause}: fixed, the path from {subnet} is open now: {path}",
                    "{cause}: 해결됨, {subnet}에서의 경로가 이제 열려 있음: {path}",
                    cause = cause,
                    subnet = subnet,
                    path = path
                )
            } else if verdict == Code::NetworkPathLooksOpen {
                let unseen = Localized::new(
                    join(now.not_inspected.iter().map(|l| l.en.as_str())),
                    join(now.not_inspected.iter().map(|l| l.ko.as_str())),
                );
                t!(
                    "{cause}: no longer found from {subnet}, but not everything was inspected ({unseen})",
                    "{cause}: {subnet}에서 더 이상 발견되지 않지만 모두 확인하지는 못함 ({unseen})",
                    cause = cause,
                    subnet = subnet,
                    unseen = unseen
                )
            } else {
                t!(
                    "{cause}: no longer found from {subnet}, but {now} is: {summary}",
                    "{cause}: {subnet}에서 더 이상 발견되지 않지만 {now} 문제가 있음: {summary}",
                    cause = cause,
                    subnet = subnet,
                    now = verdict.as_str(),
                    summary = summary
                )
            }
        }
    }
}

fn join<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    parts.collect::<Vec<_>>().join("; ")
}

/// What a failed deployment or its rollback means for the incident: ECS's own words, then
/// that the old revision runs and the new one's pull path is still broken.
pub fn mitigation_lines(
    reason: Option<&str>,
    change: &ServiceChange,
    causes: &[String],
) -> Vec<Localized> {
    let causes = causes.join(", ");
    let mut lines: Vec<Localized> = reason
        .map(|r| Localized::same(format!("ECS: {r}")))
        .into_iter()
        .collect();
    lines.push(match change {
        ServiceChange::RollingBack { to: Some(to) } => t!(
            "ECS is rolling back to {to}: the old revision runs; the new revision's pull path is still broken ({causes}), fix it before deploying again.",
            "ECS가 {to}(으)로 롤백하는 중: 이전 리비전이 실행되며, 새 리비전의 이미지 풀 경로는 여전히 막혀 있음 ({causes}). 다시 배포하기 전에 고치세요.",
            to = to,
            causes = causes
        ),
        _ => t!(
            "The deployment failed; the old revision keeps running. The new revision's pull path is still broken ({causes}): fix it before deploying again.",
            "배포가 실패했고 이전 리비전이 계속 실행됨. 새 리비전의 이미지 풀 경로는 여전히 막혀 있음 ({causes}). 다시 배포하기 전에 고치세요.",
            causes = causes
        ),
    });
    lines
}

/// The SNS message of a mitigation or a close (`closed`) of the incident under `key`, with
/// Amazon Q Developer's notification in its thread; `default` subscribers read the text.
pub fn incident_message(
    (key, service): (&str, &str),
    status: &IncidentStatus,
    lines: &[String],
    closed: bool,
    lang: Lang,
) -> SnsMessage {
    let line = status_line(status, lang);
    let mut body = format!("{service}: {line}\n");
    for l in lines {
        body.push_str(&format!("- {l}\n"));
    }
    let what = if closed { "closed" } else { "mitigated" };
    SnsMessage::new(
        &format!("ECS pull failure {what}: {service}"),
        &body,
        json!({"incident": key, "service": service, "status": line, "lines": lines}),
        vec![
            ("incident", what.to_string()),
            ("service", service.to_string()),
        ],
    )
    .with_chatbot(incident_notification(
        key, service, status, lines, closed, lang,
    ))
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
