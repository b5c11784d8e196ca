//! Amazon Q Developer in chat applications' custom notification (what its HTTPS subscription
//! to the SNS topic reads when the message is published with `MessageStructure=json`):
//! `version` "1.0", `source` "custom", `content` (`textType` "client-markdown", `title`,
//! `description`, `nextSteps`, `keywords`) and `metadata` (`threadId`, `summary`,
//! `eventType`, `relatedResources`).
//!
//! Pure. The incident key is the `threadId`, so an incident's messages share a thread when the
//! channel's preferences allow threads. Untrusted names and messages go inside code spans with
//! their backticks replaced, so no Markdown or mention in them is rendered.

use serde_json::{json, Value};

use super::incident::{status_line, IncidentStatus};
use super::slack::failing_hop;
use crate::diagnose::Diagnosis;
use crate::localized::Lang;
use crate::{t, untrusted};

/// The `eventType` of each message.
pub const EVENT_FAILURE: &str = "ImagePullFailure";
pub const EVENT_MITIGATED: &str = "IncidentMitigated";
pub const EVENT_CLOSED: &str = "IncidentClosed";
/// The longest description sent (Q Developer shows a few paragraphs).
const MAX_DESCRIPTION: usize = 3000;
/// What this tool names itself as, the first keyword.
const KEYWORD: &str = "ecs-pull-doctor";

/// Untrusted text in a code span; angle brackets become look-alikes, since a chat client may
/// read `<!channel>` as a mention even there.
fn code(text: &str) -> String {
    let text = untrusted::one_line(text, 512)
        .replace('`', "'")
        .replace('<', "‹")
        .replace('>', "›");
    format!("`{text}`")
}

/// Our own sentences, which quote names and IDs from the event: nothing in them may make a
/// link, a mention or a code span (brackets, angle brackets and backticks are escaped).
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '[' | ']' | '<' | '>' | '`' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

struct Notice<'a> {
    title: String,
    description: String,
    next_steps: Vec<String>,
    keywords: Vec<String>,
    thread_id: Option<&'a str>,
    summary: String,
    event_type: &'static str,
    related_resources: Vec<String>,
}

fn notification(notice: Notice<'_>) -> Value {
    let mut metadata = json!({
        "summary": untrusted::one_line(&notice.summary, 256),
        "eventType": notice.event_type,
        "relatedResources": notice.related_resources,
    });
    if let Some(thread) = notice.thread_id {
        metadata["threadId"] = thread.into();
    }
    let mut value = json!({
        "version": "1.0",
        "source": "custom",
        "content": {
            "textType": "client-markdown",
            "title": untrusted::one_line(&notice.title, 250),
            "description": untrusted::cut(&notice.description, MAX_DESCRIPTION),
            "nextSteps": notice.next_steps,
            "keywords": notice.keywords,
        },
        "metadata": metadata,
    });
    untrusted::displayable_json(&mut value);
    value
}

/// The notification of a diagnosis; `thread_id` is its incident's key.
pub fn diagnosis_notification(d: &Diagnosis, lang: Lang, thread_id: Option<&str>) -> Value {
    let first = d.findings.first();
    let verdict = d.verdict().as_str();
    let task = &d.task;
    let cluster = task.cluster_name().unwrap_or("-");
    let service = task.group.as_deref().unwrap_or("-");
    let mut description = vec![
        first
            .map(|f| f.summary.get(lang).to_string())
            .unwrap_or_default(),
        format!("*Service:* {} {}", code(cluster), code(service)),
        format!("*Failing hop:* {}", code(&failing_hop(d))),
    ];
    description.extend(d.paths.iter().map(|w| code(&w.line(lang))));
    if let Some(first) = first {
        description.push(format!("*Fix:* {}", prose(first.fix.get(lang))));
    }
    let next_steps = first
        .map(|f| f.commands.iter().map(|c| code(c)).collect())
        .unwrap_or_default();
    let mut keywords = vec![KEYWORD.to_string(), verdict.to_string()];
    keywords.extend(
        d.findings
            .iter()
            .skip(1)
            .map(|f| f.code.as_str().to_string()),
    );
    let related: Vec<String> = [
        task.task_arn.clone(),
        task.cluster_arn.clone(),
        task.task_definition_arn.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let title = t!(
        "ECS pull failure: {verdict} in {cluster}/{service}",
        "ECS 이미지 풀 실패: {cluster}/{service}의 {verdict}",
        verdict = verdict,
        cluster = cluster,
        service = service
    );
    notification(Notice {
        title: title.get(lang).to_string(),
        description: description.join("\n"),
        next_steps,
        keywords,
        thread_id,
        summary: format!("{verdict} ({cluster}/{service})"),
        event_type: EVENT_FAILURE,
        related_resources: related,
    })
}

/// The notification of a mitigation or a close of the incident under `thread_id`: the status
/// line, then `lines` (ECS's words, what is true now).
pub fn incident_notification(
    thread_id: &str,
    service: &str,
    status: &IncidentStatus,
    lines: &[String],
    closed: bool,
    lang: Lang,
) -> Value {
    let line = status_line(status, lang);
    let mut description = vec![prose(&line)];
    description.extend(lines.iter().map(|l| code(l)));
    notification(Notice {
        title: format!("{service}: {line}"),
        description: description.join("\n"),
        next_steps: Vec::new(),
        keywords: std::iter::once(KEYWORD.to_string())
            .chain(status.causes.iter().cloned())
            .collect(),
        thread_id: Some(thread_id),
        summary: line,
        event_type: if closed {
            EVENT_CLOSED
        } else {
            EVENT_MITIGATED
        },
        related_resources: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::incident::Stage;

    #[test]
    fn prose_cannot_make_a_link_or_a_mention() {
        assert_eq!(
            prose("see [x](https://evil.example) <!here> `a`"),
            "see \\[x\\](https://evil.example) \\<!here\\> \\`a\\`"
        );
    }

    #[test]
    fn the_notification_has_the_documented_fields_and_untrusted_text_in_code_spans() {
        let status = IncidentStatus {
            failed_tasks: 2,
            open_seconds: Some(600),
            causes: vec!["S3_ROUTE_MISSING".into()],
            stage: Stage::Quiet { minutes: 60 },
        };
        let n = incident_notification(
            "ecs-pull-doctor/111122223333/ap-northeast-2/arn/service:web",
            "prod/web",
            &status,
            &["<!channel> `rm -rf` *bold*".into()],
            true,
            Lang::En,
        );
        assert_eq!(n["version"], "1.0");
        assert_eq!(n["source"], "custom");
        assert_eq!(n["content"]["textType"], "client-markdown");
        assert_eq!(
            n["metadata"]["threadId"],
            "ecs-pull-doctor/111122223333/ap-northeast-2/arn/service:web"
        );
        assert_eq!(n["metadata"]["eventType"], EVENT_CLOSED);
        let description = n["content"]["description"].as_str().unwrap();
        assert!(
            description.starts_with("⚪ Closed: no failure for 60 min"),
            "{description}"
        );
        assert!(
            description.ends_with("`‹!channel› 'rm -rf' *bold*`"),
            "{description}"
        );
        assert_eq!(n["content"]["keywords"][1], "S3_ROUTE_MISSING");
    }
}
