//! An incident as Microsoft Teams cards, posted through a Workflows "When a Teams webhook
//! request is received" trigger (the Office 365 connectors are retired): one card when the
//! incident opens, one for each new cause, one when it is mitigated and one when it is
//! resolved (a webhook cannot edit or thread).
//!
//! Pure. Cards are Adaptive Cards 1.4 (what Teams renders) inside a `message` with one
//! attachment. Every untrusted text is a `TextRun` of a `RichTextBlock`, which Teams shows as
//! plain text (a `TextBlock` or a `FactSet` would read it as Markdown), and the whole payload
//! is held under [`MAX_PAYLOAD_BYTES`] by cutting long strings, never the finding.

use serde_json::{json, Value};

use super::incident::IncidentStatus;
use super::slack::{console_link, failing_hop};
use crate::diagnose::{Diagnosis, Severity};
use crate::localized::Lang;
use crate::{t, untrusted};

/// Teams takes about 28 KB a message; a card this size leaves room for its envelope.
pub const MAX_PAYLOAD_BYTES: usize = 20 * 1024;
/// The Adaptive Card schema version Teams renders.
pub const CARD_VERSION: &str = "1.4";
/// The attachment's content type.
pub const CARD_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";
/// Cuts applied in turn to every string of a card over its budget.
const STRING_CUTS: [usize; 3] = [1024, 256, 64];

/// Plain text shown as it is: a `RichTextBlock` of one `TextRun`.
fn plain(text: &str) -> Value {
    json!({"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text}]})
}

/// A label of our own with its untrusted value.
fn labelled(label: &str, value: &str) -> Value {
    json!({"type": "RichTextBlock", "inlines": [
        {"type": "TextRun", "text": format!("{label}: "), "weight": "Bolder"},
        {"type": "TextRun", "text": value},
    ]})
}

fn heading(text: &str, color: &str) -> Value {
    json!({"type": "TextBlock", "text": text, "weight": "Bolder", "size": "Medium", "wrap": true, "color": color})
}

fn color(d: &Diagnosis) -> &'static str {
    match d.findings.first().map(|f| f.severity) {
        Some(Severity::Critical) => "Attention",
        Some(Severity::Info) => "Good",
        _ => "Warning",
    }
}

/// The card for a cause of an incident (its first, or a new one), with the status line.
pub fn cause_card(d: &Diagnosis, status: &IncidentStatus, lang: Lang) -> Value {
    let first = d.findings.first();
    let code = d.verdict().as_str();
    let task = &d.task;
    let new_cause = status.causes.len() > 1;
    let title = if new_cause {
        t!("New cause: {code}", "새 원인: {code}", code = code)
    } else {
        t!(
            "ECS pull failure: {code}",
            "ECS 이미지 풀 실패: {code}",
            code = code
        )
    };
    let label = |en: &'static str, ko: &'static str| if lang == Lang::Ko { ko } else { en };
    let mut body = vec![
        heading(title.get(lang), color(d)),
        plain(&super::incident::status_line(status, lang)),
        plain(first.map(|f| f.summary.get(lang)).unwrap_or_default()),
        labelled(
            label("Cluster", "클러스터"),
            task.cluster_name().unwrap_or("-"),
        ),
        labelled(
            label("Service", "서비스"),
            task.group.as_deref().unwrap_or("-"),
        ),
        labelled(
            label("Image", "이미지"),
            d.failure.image.as_deref().unwrap_or("-"),
        ),
        labelled(label("Failing hop", "실패 구간"), &failing_hop(d)),
    ];
    for walk in &d.paths {
        body.push(json!({"type": "RichTextBlock", "inlines": [
            {"type": "TextRun", "text": walk.line(lang), "fontType": "Monospace"}]}));
    }
    if let Some(first) = first {
        body.push(labelled(label("Fix", "조치"), first.fix.get(lang)));
        for command in &first.commands {
            body.push(json!({"type": "RichTextBlock", "inlines": [
                {"type": "TextRun", "text": command, "fontType": "Monospace"}]}));
        }
    }
    body.push(labelled(
        label("Error message", "오류 메시지"),
        &untrusted::cut(&d.failure.reason, 2048),
    ));
    let actions: Vec<Value> = console_link(d)
        .map(|link| {
            json!({"type": "Action.OpenUrl", "title": label("Open in the AWS console", "AWS 콘솔에서 열기"), "url": link})
        })
        .into_iter()
        .collect();
    message(body, actions)
}

/// The card for a mitigation (`headline` says what ECS did, `detail` its own words).
pub fn notice_card(
    headline: &str,
    detail: &[String],
    status: &IncidentStatus,
    lang: Lang,
) -> Value {
    let mut body = vec![
        heading(headline, "Warning"),
        plain(&super::incident::status_line(status, lang)),
    ];
    body.extend(detail.iter().map(|line| plain(line)));
    message(body, Vec::new())
}

/// The card that closes the incident: the status line and what is true now.
pub fn resolved_card(status: &IncidentStatus, verified: &[String], lang: Lang) -> Value {
    let title = t!("Resolved", "해결됨");
    let mut body = vec![
        heading(title.get(lang), "Good"),
        plain(&super::incident::status_line(status, lang)),
    ];
    body.extend(verified.iter().map(|line| plain(line)));
    message(body, Vec::new())
}

/// `body` and `actions` as a Workflows message, cleaned and held to the budget.
fn message(body: Vec<Value>, actions: Vec<Value>) -> Value {
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
    });
    if !actions.is_empty() {
        card["actions"] = Value::Array(actions);
    }
    let mut payload = json!({"type": "message", "attachments": [
        {"contentType": CARD_CONTENT_TYPE, "contentUrl": null, "content": card}]});
    untrusted::displayable_json(&mut payload);
    for max in STRING_CUTS {
        if payload.to_string().len() <= MAX_PAYLOAD_BYTES {
            break;
        }
        untrusted::cut_json_strings(&mut payload, max);
    }
    // Past every cut, only a card with hundreds of paths is left: drop its last blocks.
    let body = &mut payload["attachments"][0]["content"]["body"];
    while payload_too_big(body) {
        let Some(blocks) = body.as_array_mut() else {
            break;
        };
        if blocks.len() <= 2 {
            break;
        }
        blocks.truncate(blocks.len() - 1);
    }
    payload
}

fn payload_too_big(body: &Value) -> bool {
    // The body is most of the payload; the envelope adds a few hundred bytes.
    body.to_string().len() > MAX_PAYLOAD_BYTES - 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(causes: &[&str]) -> IncidentStatus {
        IncidentStatus {
            failed_tasks: 3,
            open_seconds: Some(120),
            causes: causes.iter().map(|c| c.to_string()).collect(),
            stage: crate::render::incident::Stage::Open,
        }
    }

    #[test]
    fn a_card_is_an_adaptive_card_in_a_message_and_its_text_is_plain() {
        let card = notice_card(
            "Rolled back",
            &["**bold** [link](https://evil.example) <at>everyone</at>".into()],
            &status(&["S3_ROUTE_MISSING"]),
            Lang::En,
        );
        assert_eq!(card["type"], "message");
        let attachment = &card["attachments"][0];
        assert_eq!(attachment["contentType"], CARD_CONTENT_TYPE);
        assert_eq!(attachment["content"]["version"], "1.4");
        let untrusted = &attachment["content"]["body"][2];
        assert_eq!(untrusted["type"], "RichTextBlock");
        assert_eq!(
            untrusted["inlines"][0]["text"],
            "**bold** [link](https://evil.example) <at>everyone</at>"
        );
    }

    #[test]
    fn any_card_fits_the_budget() {
        let lines: Vec<String> = (0..400)
            .map(|i| format!("{i} {}", "x".repeat(2000)))
            .collect();
        let card = notice_card(
            "Rolled back",
            &lines,
            &status(&["S3_ROUTE_MISSING"]),
            Lang::En,
        );
        assert!(
            card.to_string().len() <= MAX_PAYLOAD_BYTES,
            "{}",
            card.to_string().len()
        );
        assert_eq!(
            card["attachments"][0]["content"]["body"][0]["text"],
            "Rolled back"
        );
    }
}
