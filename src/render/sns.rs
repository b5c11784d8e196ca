//! A diagnosis shaped for Amazon SNS: a subject AWS accepts, a readable body, and message
//! attributes subscribers can filter on with SNS filter policies.
//!
//! AWS rejects a subject over 100 characters or with anything but printable ASCII (no line
//! breaks, no control characters); moto does not check this, so it is enforced here.

use crate::diagnose::{Diagnosis, Severity};
use crate::localized::Lang;

use super::{diagnosis_json, diagnosis_text};

/// SNS's limit on `Subject`.
pub const MAX_SUBJECT: usize = 100;

/// One SNS message, ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsMessage {
    pub subject: String,
    /// The text body (verdict, evidence, fix).
    pub body: String,
    /// The diagnosis as JSON, for subscribers that parse it.
    pub json: String,
    /// `account`, `finding`, `cluster`, `service`, `severity` (all `String` attributes).
    pub attributes: Vec<(&'static str, String)>,
}

/// Printable ASCII only, single spaces for any run of whitespace, at most `max` characters.
pub fn ascii_subject(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(max);
    let mut last_space = true;
    for c in text.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        let c = if c == ' ' || c.is_ascii_graphic() {
            c
        } else {
            '?'
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
    }
    let mut out = out.trim_end().to_string();
    if out.len() > max {
        out.truncate(max.saturating_sub(3));
        out = format!("{}...", out.trim_end());
    }
    out
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// The message for `d` in `lang` (the subject is always ASCII, so it names codes and IDs only).
pub fn sns_message(d: &Diagnosis, lang: Lang) -> SnsMessage {
    let code = d.verdict().as_str();
    let cluster = d.task.cluster_name().unwrap_or("-").to_string();
    let service = d
        .task
        .service_name()
        .map(str::to_string)
        .or_else(|| d.task.group.clone())
        .unwrap_or_else(|| "-".to_string());
    let container = d.failure.container.as_deref().unwrap_or("-");
    let subject = ascii_subject(
        &format!("ECS pull failure: {code} in {cluster}/{service} ({container})"),
        MAX_SUBJECT,
    );
    let severity = d
        .findings
        .first()
        .map_or("warning", |f| severity_word(f.severity));
    // SNS refuses empty attribute values.
    let attribute = |v: &str| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.to_string()
        }
    };
    SnsMessage {
        subject,
        body: diagnosis_text(d, lang),
        json: diagnosis_json(d, lang).to_string(),
        attributes: vec![
            (
                "account",
                attribute(d.task.account.as_deref().unwrap_or("-")),
            ),
            ("finding", attribute(code)),
            ("cluster", attribute(&cluster)),
            ("service", attribute(&service)),
            ("severity", attribute(severity)),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_printable_ascii_on_one_line_within_the_limit() {
        let s = ascii_subject("로그\nS3_ROUTE_MISSING\t in  prod/web\u{7}", MAX_SUBJECT);
        assert_eq!(s, "?? S3_ROUTE_MISSING in prod/web?");
        let long = ascii_subject(&"x".repeat(300), MAX_SUBJECT);
        assert_eq!(long.len(), MAX_SUBJECT);
        assert!(long.ends_with("..."));
        assert!(long.chars().all(|c| c.is_ascii_graphic() || c == ' '));
    }
}
