//! A diagnosis as a Slack incoming-webhook payload in Block Kit.
//!
//! A header with the verdict; fields for cluster, service, task definition, container and
//! image; the failing hop and the address with its owner; the evidence; the fix as a code
//! block; a console link to the route table or endpoint the evidence names.
//!
//! Text from the event (the error message, image names) is untrusted: `&`, `<` and `>` are
//! escaped so it cannot mention `@channel`/`<!here>` or forge a link, and backtick runs are
//! broken so it cannot close a code block. Every text is capped within Block Kit's limits.

use serde_json::{json, Value};

use crate::diagnose::{Diagnosis, Severity};
use crate::localized::Lang;

/// Block Kit's limits on what this payload uses.
pub const HEADER_MAX: usize = 150;
pub const SECTION_MAX: usize = 3000;
pub const FIELD_MAX: usize = 2000;
/// How much of the task's error message is quoted (the full text is in SNS and the logs).
const REASON_MAX: usize = 1000;

/// Escapes the three characters Slack's mrkdwn treats as control characters.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Text for inside a ``` code block: escaped, with backtick runs broken so it cannot close it.
pub(crate) fn code_block_text(text: &str) -> String {
    escape(text).replace("```", "`\u{200b}`\u{200b}`")
}

/// At most `max` characters, with an ellipsis when cut.
pub fn cap(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The AWS console page of the first route table or endpoint (else subnet, security group,
/// network ACL or NAT gateway) named in the first finding.
pub fn console_link(d: &Diagnosis) -> Option<String> {
    // The region builds the link's host and query: only a region's own shape gets there.
    let region = d
        .task
        .region
        .as_deref()
        .filter(|r| crate::trust::is_region(r))?;
    let first = d.findings.first()?;
    let text: String = first
        .evidence
        .iter()
        .map(|e| e.en.as_str())
        .chain(first.commands.iter().map(String::as_str))
        .chain(std::iter::once(first.summary.en.as_str()))
        .collect::<Vec<_>>()
        .join(" ");
    let pages = [
        ("rtb-", "RouteTableDetails:RouteTableId"),
        ("vpce-", "EndpointDetails:vpcEndpointId"),
        ("acl-", "NetworkAclDetails:networkAclId"),
        ("sg-", "SecurityGroup:groupId"),
        ("nat-", "NatGatewayDetails:natGatewayId"),
        ("subnet-", "SubnetDetails:subnetId"),
    ];
    pages.iter().find_map(|(prefix, page)| {
        let id = resource_id(&text, prefix)?;
        Some(format!(
            "https://{region}.console.aws.amazon.com/vpcconsole/home?region={region}#{page}={id}"
        ))
    })
}

/// The first `prefix` + hex ID in `text` (`rtb-0c3e5a7b9d1f24680`).
fn resource_id(text: &str, prefix: &str) -> Option<String> {
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let boundary = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        let tail = &rest[at + prefix.len()..];
        let hex: String = tail.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
        if boundary && (8..=17).contains(&hex.len()) {
            return Some(format!("{prefix}{hex}"));
        }
        rest = tail;
    }
    None
}

fn field(label: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": cap(&format!("*{label}*\n{}", escape(value)), FIELD_MAX)})
}

/// Text for an inline code span: a backtick would end it early.
fn code_span_text(text: &str) -> String {
    text.replace('`', "'")
}

/// The webhook payload for `d` in `lang`; `footer` is appended as context (e.g. how to find
/// repeats of this alert).
pub fn slack_payload(d: &Diagnosis, lang: Lang, footer: Option<&str>) -> Value {
    let ko = lang == Lang::Ko;
    let first = d.findings.first();
    let code = d.verdict().as_str();
    let mark = match first.map(|f| f.severity) {
        Some(Severity::Critical) => "🔴",
        Some(Severity::Info) => "🟢",
        _ => "🟠",
    };
    let summary = first.map(|f| f.summary.get(lang)).unwrap_or_default();
    let task = &d.task;
    let f = &d.failure;
    let label = |en: &'static str, ko_label: &'static str| if ko { ko_label } else { en };
    let taskdef = task
        .task_definition_arn
        .as_deref()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or("-");
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cap(&format!("{mark} {code}"), HEADER_MAX), "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": cap(&escape(summary), SECTION_MAX)}}),
        json!({"type": "section", "fields": [
            field(label("Cluster", "클러스터"), task.cluster_name().unwrap_or("-")),
            field(label("Service", "서비스"), task.group.as_deref().unwrap_or("-")),
            field(label("Task definition", "태스크 정의"), taskdef),
            field(label("Container", "컨테이너"), f.container.as_deref().unwrap_or("-")),
            field(label("Image", "이미지"), f.image.as_deref().unwrap_or("-")),
            field(label("Failing hop", "실패 구간"), &failing_hop(d)),
        ]}),
    ];
    if !d.paths.is_empty() {
        let paths: String = d
            .paths
            .iter()
            .map(|w| format!("`{}`", escape(&code_span_text(&w.line(lang)))))
            .collect::<Vec<_>>()
            .join("\n");
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap(&format!("*{}*\n{paths}", label("Path", "경로")), SECTION_MAX)}}));
    }
    if let Some(first) = first {
        if !first.evidence.is_empty() {
            let evidence: String = first
                .evidence
                .iter()
                .map(|e| format!("• {}", escape(e.get(lang))))
                .collect::<Vec<_>>()
                .join("\n");
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap(&format!("*{}*\n{evidence}", label("Evidence", "근거")), SECTION_MAX)}}));
        }
        let mut fix = format!(
            "*{}*\n{}",
            label("Fix", "조치"),
            escape(first.fix.get(lang))
        );
        if !first.commands.is_empty() {
            fix.push_str(&format!(
                "\n```{}```",
                code_block_text(&first.commands.join("\n"))
            ));
        }
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap_code(&fix, SECTION_MAX)}}));
    }
    // The original message, for whoever wants to search it; untrusted, so escaped and fenced.
    let reason = format!(
        "*{}*\n```{}```",
        label("Error message", "오류 메시지"),
        code_block_text(&cap(&f.reason, REASON_MAX))
    );
    blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap_code(&reason, SECTION_MAX)}}));
    let mut context: Vec<Value> = Vec::new();
    if let Some(link) = console_link(d) {
        context.push(json!({"type": "mrkdwn", "text": format!("<{link}|{}>", label("Open in the AWS console", "AWS 콘솔에서 열기"))}));
    }
    let others: Vec<&str> = d.findings.iter().skip(1).map(|f| f.code.as_str()).collect();
    if !others.is_empty() {
        context.push(json!({"type": "mrkdwn", "text": format!("{}: {}", label("Also", "추가"), others.join(", "))}));
    }
    if let Some(footer) = footer {
        context.push(json!({"type": "mrkdwn", "text": cap(&escape(footer), SECTION_MAX)}));
    }
    if !context.is_empty() {
        blocks.push(json!({"type": "context", "elements": context}));
    }
    let fallback = cap(&escape(&format!("{code}: {summary}")), SECTION_MAX);
    json!({"text": fallback, "blocks": blocks})
}

/// Caps a text ending in a code block without leaving the block open.
pub(crate) fn cap_code(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut = cap(text, max - 3);
    if cut.matches("```").count() % 2 == 1 {
        format!("{cut}```")
    } else {
        cut
    }
}

pub(crate) fn failing_hop(d: &Diagnosis) -> String {
    let f = &d.failure;
    let mut s = format!("{} / {}", f.hop.as_str(), f.symptom.as_str());
    if let Some(ip) = f.ip {
        s.push_str(&format!(" → {ip}"));
        if let Some(o) = &f.ip_owner {
            s.push_str(&format!(" ({} {})", o.service, o.region));
        }
    } else if let Some(host) = &f.host {
        s.push_str(&format!(" → {host}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_and_links_are_neutralised() {
        assert_eq!(
            escape("<!channel> & <https://x|y>"),
            "&lt;!channel&gt; &amp; &lt;https://x|y&gt;"
        );
        assert!(!code_block_text("a```b").contains("```"));
    }

    #[test]
    fn caps_keep_code_blocks_closed() {
        let text = format!("*Fix*\n```{}```", "x".repeat(5000));
        let capped = cap_code(&text, SECTION_MAX);
        assert!(capped.chars().count() <= SECTION_MAX);
        assert_eq!(capped.matches("```").count() % 2, 0);
    }

    #[test]
    fn resource_ids_need_a_boundary_and_a_hex_id() {
        assert_eq!(
            resource_id("route table rtb-0c3e5a7b9d1f24680.", "rtb-").as_deref(),
            Some("rtb-0c3e5a7b9d1f24680")
        );
        assert_eq!(resource_id("xrtb-0c3e5a7b9d1f24680", "rtb-"), None);
        assert_eq!(resource_id("sg-zz", "sg-"), None);
    }
}
