//! The organisation sweep's one post per run: targets audited, causes new and fixed across
//! the organisation grouped by code with the accounts (and regions) each is in, targets not
//! inspected with why, targets that never finished, and how long the run took.

use serde_json::{json, Value};

use super::slack::{cap, escape, HEADER_MAX, SECTION_MAX};
use super::sns::SnsMessage;
use crate::localized::Lang;
use crate::sweep::{RunSummary, Target};

/// More lines than this in a list are counted, not shown.
const MAX_LISTED: usize = 20;

fn headline(s: &RunSummary, lang: Lang) -> String {
    let total = s.accounts * s.regions;
    if lang == Lang::Ko {
        format!(
            "조직 점검 {}: 대상 {total}개 중 {}개 점검, 새 근본 원인 {}개, 해결 {}개",
            s.run, s.audited, s.new_causes, s.fixed_causes
        )
    } else {
        format!(
            "Organisation sweep {}: {} of {total} targets audited, {} new root cause{}, {} fixed",
            s.run,
            s.audited,
            s.new_causes,
            if s.new_causes == 1 { "" } else { "s" },
            s.fixed_causes
        )
    }
}

fn targets_text(targets: &[Target]) -> String {
    let mut shown: Vec<String> = targets
        .iter()
        .take(MAX_LISTED)
        .map(Target::to_string)
        .collect();
    if targets.len() > MAX_LISTED {
        shown.push(format!("+{}", targets.len() - MAX_LISTED));
    }
    shown.join(", ")
}

/// The sections of the post: (title, lines).
fn sections(s: &RunSummary, lang: Lang) -> Vec<(String, Vec<String>)> {
    let ko = lang == Lang::Ko;
    let by_code = |map: &std::collections::BTreeMap<String, Vec<Target>>| -> Vec<String> {
        map.iter()
            .map(|(code, targets)| format!("{code}: {}", targets_text(targets)))
            .collect()
    };
    let listed = |items: Vec<String>| -> Vec<String> {
        let more = items.len().saturating_sub(MAX_LISTED);
        let mut shown: Vec<String> = items.into_iter().take(MAX_LISTED).collect();
        if more > 0 {
            shown.push(format!("+{more}"));
        }
        shown
    };
    let mut out = vec![];
    let mut push = |en: &str, ko_title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            out.push((if ko { ko_title } else { en }.to_string(), lines));
        }
    };
    push("New", "새 근본 원인", by_code(&s.new_by_code));
    push("Fixed", "해결됨", by_code(&s.fixed_by_code));
    push(
        "Not inspected",
        "점검하지 못한 대상",
        listed(
            s.not_inspected
                .iter()
                .map(|(target, why)| format!("{target}: {why}"))
                .collect(),
        ),
    );
    push(
        "Never finished (their messages are in the dead-letter queue)",
        "끝나지 않은 대상(메시지가 배달 못 한 편지 대기열에 있음)",
        listed(s.missing.iter().map(Target::to_string).collect()),
    );
    out
}

fn context(s: &RunSummary, lang: Lang) -> String {
    if lang == Lang::Ko {
        format!(
            "계정 {}개 × 리전 {}개, {}초",
            s.accounts, s.regions, s.seconds
        )
    } else {
        format!(
            "{} accounts × {} regions, {} s",
            s.accounts, s.regions, s.seconds
        )
    }
}

/// The summary as plain text (the SNS body).
pub fn summary_text(s: &RunSummary, lang: Lang) -> String {
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(&super::sanitize(text));
        out.push('\n');
    };
    line(&headline(s, lang));
    line(&context(s, lang));
    for (title, lines) in sections(s, lang) {
        line("");
        line(&title);
        for l in lines {
            line(&format!("  • {l}"));
        }
    }
    out
}

/// The summary for SNS, with the attribute `kind` = `sweep_summary`.
pub fn summary_sns(s: &RunSummary, lang: Lang) -> SnsMessage {
    let targets = |list: &[Target]| list.iter().map(Target::to_string).collect::<Vec<_>>();
    let json = json!({
        "kind": "sweep_summary",
        "run": s.run,
        "accounts": s.accounts,
        "regions": s.regions,
        "audited": s.audited,
        "new": s.new_by_code.iter().map(|(code, t)| (code.clone(), targets(t))).collect::<std::collections::BTreeMap<_, _>>(),
        "fixed": s.fixed_by_code.iter().map(|(code, t)| (code.clone(), targets(t))).collect::<std::collections::BTreeMap<_, _>>(),
        "new_causes": s.new_causes,
        "fixed_causes": s.fixed_causes,
        "not_inspected": s.not_inspected.iter().map(|(t, why)| json!({"target": t.to_string(), "why": why})).collect::<Vec<_>>(),
        "missing": targets(&s.missing),
        "seconds": s.seconds,
    });
    let codes: Vec<&str> = s.new_by_code.keys().map(String::as_str).collect();
    // SNS cuts a subject at 100 characters: the run's ID is in the body.
    let subject = format!(
        "ECS pull preflight: organisation sweep, {} of {} audited, {} new, {} fixed",
        s.audited,
        s.accounts * s.regions,
        s.new_causes,
        s.fixed_causes
    );
    SnsMessage::new(
        &subject,
        &summary_text(s, lang),
        json,
        vec![
            ("kind", "sweep_summary".to_string()),
            ("codes", codes.join(",")),
        ],
    )
}

/// The summary for a Slack incoming webhook.
pub fn summary_slack(s: &RunSummary, lang: Lang) -> Value {
    let mark = if s.new_causes > 0 {
        "🔴"
    } else if !s.missing.is_empty() || !s.not_inspected.is_empty() {
        "🟠"
    } else {
        "🟢"
    };
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cap(&format!("{mark} {}", headline(s, lang)), HEADER_MAX), "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": escape(&context(s, lang))}}),
    ];
    for (title, lines) in sections(s, lang) {
        let list: Vec<String> = lines.iter().map(|l| format!("• {}", escape(l))).collect();
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap(&format!("*{}*\n{}", escape(&title), list.join("\n")), SECTION_MAX)}}));
    }
    json!({"text": cap(&escape(&headline(s, lang)), SECTION_MAX), "blocks": blocks})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_what_changed_where_and_what_was_not_seen() {
        let target = |a: &str, r: &str| Target {
            account: a.into(),
            region: r.into(),
        };
        let mut s = RunSummary {
            run: "20261206T234501Z-deadbeef".into(),
            accounts: 2,
            regions: 2,
            audited: 2,
            new_causes: 1,
            seconds: 12,
            ..RunSummary::default()
        };
        s.new_by_code.insert(
            "S3_ROUTE_MISSING".into(),
            vec![target("111111111111", "eu-west-1")],
        );
        s.not_inspected.push((
            target("222222222222", "eu-west-1"),
            "sts:AssumeRole denied".into(),
        ));
        s.missing.push(target("222222222222", "us-east-1"));
        let text = summary_text(&s, Lang::En);
        assert!(text.starts_with("Organisation sweep 20261206T234501Z-deadbeef: 2 of 4 targets audited, 1 new root cause, 0 fixed\n2 accounts × 2 regions, 12 s\n"), "{text}");
        assert!(text.contains("New\n  • S3_ROUTE_MISSING: 111111111111/eu-west-1\n"));
        assert!(text.contains("  • 222222222222/eu-west-1: sts:AssumeRole denied\n"));
        assert!(text.contains("dead-letter queue)\n  • 222222222222/us-east-1\n"));
        let sns = summary_sns(&s, Lang::En);
        assert!(sns
            .attributes
            .iter()
            .any(|(k, v)| *k == "kind" && v == "sweep_summary"));
        let slack = summary_slack(&s, Lang::Ko).to_string();
        assert!(slack.contains("S3_ROUTE_MISSING"));
    }
}
