//! A diagnosis shaped for Amazon SNS: a subject AWS accepts, a readable body, and message
//! attributes subscribers can filter on with SNS filter policies.
//!
//! AWS rejects a subject over 100 characters or with anything but printable ASCII (no line
//! breaks, no control characters); moto does not check this, so it is enforced here. A
//! message, body and attributes together, is at most 256 KiB: [`SnsMessage::new`] holds every
//! message to that, whatever the event carried, by cutting long text and saying so, never by
//! dropping the finding.

use serde_json::Value;

use crate::diagnose::{Diagnosis, Severity};
use crate::localized::Lang;
use crate::untrusted;

use super::{diagnosis_json, diagnosis_text};

/// SNS's limit on `Subject`.
pub const MAX_SUBJECT: usize = 100;
/// SNS's limit on one message: the body and every attribute's name, type and value together.
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// A filterable attribute holds a code or a name (ECS names are at most 255 characters).
pub const MAX_ATTRIBUTE_BYTES: usize = 256;
/// How long each string of the JSON attribute may stay when the message is over its limit.
const JSON_STRING_CUTS: [usize; 2] = [1024, 128];
/// The data type every attribute is sent with.
pub const ATTRIBUTE_TYPE: &str = "String";
/// The attribute that carries the message as JSON.
pub const JSON_ATTRIBUTE: &str = "json";

/// One SNS message, ready to publish: built by [`SnsMessage::new`], so within SNS's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsMessage {
    pub subject: String,
    /// The text body (verdict, evidence, fix).
    pub body: String,
    /// The message as JSON, for subscribers that parse it (the `json` attribute).
    pub json: String,
    /// Filterable attributes (all `String`), such as `account`, `finding`, `severity`.
    pub attributes: Vec<(&'static str, String)>,
    /// Amazon Q Developer's custom notification (JSON text), when enabled: the message is
    /// then published with `MessageStructure=json`, the body as `default`, this as `https`.
    pub chatbot: Option<String>,
}

impl SnsMessage {
    /// A message AWS accepts for any input: an ASCII subject; body, JSON and attributes
    /// without bidirectional or control characters; attributes one line of at most
    /// [`MAX_ATTRIBUTE_BYTES`] (never empty, which SNS refuses); and, when the whole is over
    /// [`MAX_MESSAGE_BYTES`], the JSON's long strings cut, then the body cut at a line, each
    /// saying so.
    pub fn new(
        subject: &str,
        body: &str,
        mut json: Value,
        attributes: Vec<(&'static str, String)>,
    ) -> SnsMessage {
        let attributes: Vec<(&'static str, String)> = attributes
            .into_iter()
            .map(|(name, value)| {
                let value = untrusted::one_line(&value, MAX_ATTRIBUTE_BYTES);
                (name, if value.is_empty() { "-".into() } else { value })
            })
            .collect();
        let subject = ascii_subject(subject, MAX_SUBJECT);
        let body = untrusted::displayable(body).into_owned();
        untrusted::displayable_json(&mut json);
        let fixed: usize = subject.len()
            + attributes
                .iter()
                .map(|(name, value)| attribute_bytes(name, value))
                .sum::<usize>()
            + attribute_bytes(JSON_ATTRIBUTE, "");
        // The body keeps at least half of the budget; the JSON repeats it for machines.
        let json_budget = MAX_MESSAGE_BYTES
            .saturating_sub(fixed)
            .saturating_sub(body.len().min(MAX_MESSAGE_BYTES / 2));
        let mut json_text = json.to_string();
        for max in JSON_STRING_CUTS {
            if json_text.len() <= json_budget {
                break;
            }
            untrusted::cut_json_strings(&mut json, max);
            json_text = json.to_string();
        }
        if json_text.len() > json_budget {
            json_text = serde_json::json!({
                "truncated": true,
                "why": format!("{} bytes of JSON did not fit in SNS's 256 KiB; the body has the rest", json_text.len()),
            })
            .to_string();
        }
        let body = within(
            body,
            MAX_MESSAGE_BYTES.saturating_sub(fixed + json_text.len()),
        );
        SnsMessage {
            subject,
            body,
            json: json_text,
            attributes,
            chatbot: None,
        }
    }

    /// The same message carrying `notification` for Amazon Q Developer, held to the same
    /// budget: the notification's long strings are cut first, then the body.
    pub fn with_chatbot(mut self, mut notification: Value) -> SnsMessage {
        untrusted::displayable_json(&mut notification);
        let mut text = notification.to_string();
        for max in JSON_STRING_CUTS {
            if self.size_with(Some(&text)) <= MAX_MESSAGE_BYTES {
                break;
            }
            untrusted::cut_json_strings(&mut notification, max);
            text = notification.to_string();
        }
        // The body, escaped in the structure, gives way for the rest (escaping at most
        // doubles it: it holds no control characters but line breaks and tabs).
        while self.size_with(Some(&text)) > MAX_MESSAGE_BYTES && !self.body.is_empty() {
            let over = self.size_with(Some(&text)) - MAX_MESSAGE_BYTES;
            let keep = self.body.len().saturating_sub(over.div_ceil(2) + 256);
            self.body = within(std::mem::take(&mut self.body), keep);
        }
        self.chatbot = Some(text);
        self
    }

    /// What is published as the message: the body, or with the chatbot part the structure
    /// SNS reads for `MessageStructure=json`.
    pub fn message_text(&self) -> String {
        structured(&self.body, self.chatbot.as_deref())
    }

    /// The same message with `footer` as the body's last lines, held to the same rules.
    pub fn with_footer(self, footer: &str) -> SnsMessage {
        let json = serde_json::from_str(&self.json).unwrap_or(Value::Null);
        let message = SnsMessage::new(
            &self.subject,
            &format!("{}\n{footer}\n", self.body),
            json,
            self.attributes,
        );
        match self.chatbot.as_deref().map(serde_json::from_str) {
            Some(Ok(notification)) => message.with_chatbot(notification),
            _ => message,
        }
    }

    /// What SNS counts against [`MAX_MESSAGE_BYTES`] (the subject included, to be safe).
    pub fn size(&self) -> usize {
        self.size_with(self.chatbot.as_deref())
    }

    fn size_with(&self, chatbot: Option<&str>) -> usize {
        self.subject.len()
            + structured(&self.body, chatbot).len()
            + self
                .attributes
                .iter()
                .map(|(name, value)| attribute_bytes(name, value))
                .sum::<usize>()
            + attribute_bytes(JSON_ATTRIBUTE, &self.json)
    }
}

/// The message SNS gets: `body`, or with `chatbot` the `MessageStructure=json` object whose
/// `default` every other protocol (email, SQS, Lambda) receives as today.
fn structured(body: &str, chatbot: Option<&str>) -> String {
    match chatbot {
        None => body.to_string(),
        Some(https) => serde_json::json!({"default": body, "https": https}).to_string(),
    }
}

fn attribute_bytes(name: &str, value: &str) -> usize {
    name.len() + ATTRIBUTE_TYPE.len() + value.len()
}

/// `text` cut at a line boundary to at most `max` bytes, the last line saying how much was
/// left out.
fn within(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let note = |dropped: usize| {
        format!("\n… ({dropped} bytes cut: SNS takes at most 256 KiB a message)\n")
    };
    let mut end = max.saturating_sub(note(text.len()).len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').unwrap_or(end);
    format!("{}{}", &text[..end], note(text.len() - end))
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
    let severity = d
        .findings
        .first()
        .map_or("warning", |f| severity_word(f.severity));
    SnsMessage::new(
        &format!("ECS pull failure: {code} in {cluster}/{service} ({container})"),
        &diagnosis_text(d, lang),
        diagnosis_json(d, lang),
        vec![
            ("account", d.task.account.clone().unwrap_or_default()),
            ("finding", code.to_string()),
            ("cluster", cluster),
            ("service", service),
            ("severity", severity.to_string()),
        ],
    )
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

    #[test]
    fn any_message_fits_sns_and_says_what_was_cut() {
        let huge = "x".repeat(100_000);
        let body = format!(
            "✗ S3_ROUTE_MISSING\n{}\n{huge}\n{huge}\n{huge}\n",
            "\u{202E}evidence"
        );
        let json = serde_json::json!({"findings": [{"code": "S3_ROUTE_MISSING"}], "image": huge, "reason": [huge.clone(), huge.clone()]});
        let m = SnsMessage::new(
            "ECS pull failure",
            &body,
            json,
            vec![
                ("cluster", huge.clone()),
                ("service", String::new()),
                ("finding", "S3_ROUTE_MISSING".into()),
            ],
        );
        assert!(m.size() <= MAX_MESSAGE_BYTES, "{}", m.size());
        assert!(
            m.body.starts_with("✗ S3_ROUTE_MISSING\nevidence\n"),
            "{}",
            &m.body[..40]
        );
        assert!(m
            .body
            .trim_end()
            .ends_with("bytes cut: SNS takes at most 256 KiB a message)"));
        let parsed: Value = serde_json::from_str(&m.json).unwrap();
        assert_eq!(parsed["findings"][0]["code"], "S3_ROUTE_MISSING");
        assert!(parsed["image"].as_str().unwrap().contains("[cut: "));
        let attrs: std::collections::HashMap<_, _> = m.attributes.iter().cloned().collect();
        assert!(attrs["cluster"].len() < MAX_ATTRIBUTE_BYTES + 40);
        assert_eq!(attrs["service"], "-");
        assert_eq!(attrs["finding"], "S3_ROUTE_MISSING");
        let noted = m.clone().with_footer(&"n".repeat(2000));
        assert!(noted.size() <= MAX_MESSAGE_BYTES, "{}", noted.size());

        let told = m
            .clone()
            .with_chatbot(serde_json::json!({"version": "1.0", "content": {"description": huge}}));
        assert!(told.size() <= MAX_MESSAGE_BYTES, "{}", told.size());
        let structure: Value = serde_json::from_str(&told.message_text()).unwrap();
        assert!(structure["default"]
            .as_str()
            .unwrap()
            .starts_with("✗ S3_ROUTE_MISSING"));
        let https: Value = serde_json::from_str(structure["https"].as_str().unwrap()).unwrap();
        assert_eq!(https["version"], "1.0");

        let small = SnsMessage::new("s", "body\n", serde_json::json!({"a": "b"}), vec![]);
        assert_eq!(
            (small.body.as_str(), small.json.as_str()),
            ("body\n", r#"{"a":"b"}"#)
        );
    }
}
