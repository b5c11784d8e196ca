//! Delivery: publishing to the SNS topic and posting to the Slack incoming webhook, and
//! reading the webhook URL from Secrets Manager.
//!
//! The webhook URL is a credential (anyone holding it can post to the channel): it is kept in
//! a type whose `Debug` hides it, and HTTP errors are stripped of it before they are shown.

use std::time::Duration;

use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::types::MessageAttributeValue;
use serde_json::Value;

use crate::alert::Sink;
use crate::render::sns::{SnsMessage, ATTRIBUTE_TYPE, JSON_ATTRIBUTE};

/// How long a post to any sink may take, and its connection: Slack, PagerDuty and Teams
/// answer within a second; a post that takes longer is retried with the invocation.
const SINK_TIMEOUT: Duration = Duration::from_secs(10);
const SINK_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the webhook's secret may take to read before this post fails (read again on the
/// next): Secrets Manager answers in milliseconds, and a gate must still answer.
pub const SECRET_TIMEOUT: Duration = Duration::from_secs(3);
/// The longest error body quoted; and only one shaped like Slack's error codes.
const MAX_ERROR_BODY: usize = 64;

/// Deliveries made concurrently → the sinks that took them and the failures.
pub fn split_deliveries(
    results: impl IntoIterator<Item = Option<Result<Sink, SinkError>>>,
) -> (Vec<Sink>, Vec<SinkError>) {
    let mut sent = Vec::new();
    let mut failed = Vec::new();
    for result in results.into_iter().flatten() {
        match result {
            Ok(sink) => sent.push(sink),
            Err(err) => failed.push(err),
        }
    }
    (sent, failed)
}

/// A delivery that failed, with a message safe to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{sink}: {message}")]
pub struct SinkError {
    pub sink: Sink,
    pub message: String,
}

/// The SNS topic the diagnoses are published to.
#[derive(Debug, Clone)]
pub struct SnsSink {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsSink {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: String) -> SnsSink {
        SnsSink { client, topic_arn }
    }

    /// Publishes `message` with its filterable attributes and the diagnosis JSON as the
    /// `json` attribute; returns the SNS message ID.
    pub async fn publish(&self, message: &SnsMessage) -> Result<String, SinkError> {
        let fail = |message: String| SinkError {
            sink: Sink::Sns,
            message,
        };
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&message.subject)
            .message(message.message_text());
        if message.chatbot.is_some() {
            request = request.message_structure("json");
        }
        let attributes = message
            .attributes
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .chain([(JSON_ATTRIBUTE, message.json.as_str())]);
        for (name, value) in attributes {
            let value = MessageAttributeValue::builder()
                .data_type(ATTRIBUTE_TYPE)
                .string_value(value)
                .build()
                .map_err(|e| fail(e.to_string()))?;
            request = request.message_attributes(name, value);
        }
        match request.send().await {
            Ok(out) => Ok(out.message_id().unwrap_or_default().to_string()),
            Err(err) => Err(fail(format!(
                "sns:Publish failed ({})",
                crate::network::live::error_text(&err)
            ))),
        }
    }
}

/// The function's failure queue (the asynchronous invoke's on-failure destination), for
/// events that no retry can help: they go there at once, in the destination's record shape.
#[derive(Debug, Clone)]
pub struct FailureQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl FailureQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: String) -> FailureQueue {
        FailureQueue { client, url }
    }

    /// Sends `event` with the error it was rejected for; `condition` says why no retry was
    /// waited for (Lambda's own records say `RetriesExhausted`).
    pub async fn forward(
        &self,
        event: &Value,
        error_type: &str,
        error_message: &str,
    ) -> Result<(), ForwardError> {
        let record = serde_json::json!({
            "version": "1.0",
            "requestContext": {"condition": "NotRetryable", "approximateInvokeCount": 1},
            "requestPayload": event,
            "responsePayload": {"errorType": error_type, "errorMessage": error_message},
        });
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(record.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|err| ForwardError(crate::network::live::error_text(&err)))
    }
}

/// The failure queue did not take an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sqs:SendMessage to the failure queue failed ({0})")]
pub struct ForwardError(String);

/// A credential (a routing key, a bot token) read from a secret; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential(String);

impl Credential {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credential(<redacted>)")
    }
}

/// The credential in a secret's text: the text itself, or the first of `members` found in a
/// JSON object (as the console's key/value editor stores it); `None` unless it is
/// `well_formed`.
pub fn credential_in_secret(
    text: &str,
    members: &[&str],
    well_formed: impl Fn(&str) -> bool,
) -> Option<Credential> {
    let text = text.trim();
    let value = if text.starts_with('{') {
        let json: Value = serde_json::from_str(text).ok()?;
        members
            .iter()
            .find_map(|k| json.get(*k)?.as_str())?
            .trim()
            .to_string()
    } else {
        text.to_string()
    };
    well_formed(&value).then_some(Credential(value))
}

/// The one HTTP client every sink posts with (one connection pool), built on the first post
/// rather than at cold start: bounded in time, and following no redirect (a redirect would
/// send the alert, and its credential, to another host).
pub fn sink_http() -> Result<&'static reqwest::Client, SetupError> {
    static CLIENT: std::sync::OnceLock<Result<reqwest::Client, SetupError>> =
        std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(SINK_TIMEOUT)
                .connect_timeout(SINK_CONNECT_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| SetupError::HttpClient(e.without_url().to_string()))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A Slack incoming-webhook URL; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Accepts an http(s) URL (https for Slack; http is for a local receiver).
    pub fn new(url: &str) -> Option<WebhookUrl> {
        let url = url.trim();
        let parsed = reqwest::Url::parse(url).ok()?;
        (matches!(parsed.scheme(), "https" | "http") && parsed.host().is_some())
            .then(|| WebhookUrl(url.to_string()))
    }

    /// The URL, to post to (never to print).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookUrl(<redacted>)")
    }
}

/// The webhook URL in a secret's text: the URL itself, or a JSON object with a
/// `webhook_url` (or `url`) member, as the console's key/value editor stores it.
pub fn webhook_in_secret(text: &str) -> Option<WebhookUrl> {
    let text = text.trim();
    if text.starts_with('{') {
        let value: Value = serde_json::from_str(text).ok()?;
        let url = ["webhook_url", "url", "slack_webhook_url"]
            .iter()
            .find_map(|k| value.get(*k)?.as_str())?;
        return WebhookUrl::new(url);
    }
    WebhookUrl::new(text)
}

/// Why a sink could not be set up at cold start (the webhook never appears in these).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("secretsmanager:GetSecretValue failed ({0})")]
    SecretUnreadable(String),
    #[error("the secret has no SecretString (store the webhook URL as text)")]
    SecretNotText,
    #[error("the secret holds neither an http(s) URL nor a JSON object with \"webhook_url\"")]
    SecretWithoutUrl,
    #[error("the secret holds neither a PagerDuty routing key (32 letters and digits) nor a JSON object with \"routing_key\"")]
    SecretWithoutRoutingKey,
    #[error(
        "the secret holds neither a Slack bot token (xoxb-…) nor a JSON object with \"bot_token\""
    )]
    SecretWithoutBotToken,
    #[error("not an http(s) URL")]
    NotAUrl,
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
}

/// The text of a Secrets Manager secret.
///
/// Only AWS's error code is quoted when the call fails: a response that does not parse (a
/// proxy's page, a truncated body) could hold the secret, and the SDK's error would quote it.
pub async fn secret_string(
    client: &aws_sdk_secretsmanager::Client,
    secret_arn: &str,
) -> Result<String, SetupError> {
    use aws_sdk_secretsmanager::error::SdkError;
    let out = client
        .get_secret_value()
        .secret_id(secret_arn)
        .send()
        .await
        .map_err(|err| {
            SetupError::SecretUnreadable(match (&err, err.code()) {
                (SdkError::ServiceError(_), Some(code)) => code.to_string(),
                (SdkError::TimeoutError(_), _) => "timed out".into(),
                (SdkError::DispatchFailure(_), _) => "could not reach Secrets Manager".into(),
                _ => "the response could not be read".into(),
            })
        })?;
    out.secret_string()
        .map(str::to_string)
        .ok_or(SetupError::SecretNotText)
}

/// A value kept in a Secrets Manager secret, read on first need (not at start-up, so a
/// hanging or failing Secrets Manager cannot stop the function from starting and the gate
/// from answering), within [`SECRET_TIMEOUT`], and kept once read; a failed read is tried
/// again on the next need.
pub struct LazySecret<T> {
    client: aws_sdk_secretsmanager::Client,
    arn: String,
    /// The variable that names the secret, for errors.
    variable: &'static str,
    parse: fn(&str) -> Result<T, SetupError>,
    value: tokio::sync::OnceCell<T>,
}

impl<T> std::fmt::Debug for LazySecret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LazySecret({})", self.variable)
    }
}

impl<T> LazySecret<T> {
    pub fn new(
        client: aws_sdk_secretsmanager::Client,
        arn: String,
        variable: &'static str,
        parse: fn(&str) -> Result<T, SetupError>,
    ) -> LazySecret<T> {
        LazySecret {
            client,
            arn,
            variable,
            parse,
            value: Default::default(),
        }
    }

    /// The value, or why it cannot be had now (naming the variable, never the value).
    pub async fn get(&self) -> Result<&T, String> {
        self.value
            .get_or_try_init(|| async {
                let read =
                    tokio::time::timeout(SECRET_TIMEOUT, secret_string(&self.client, &self.arn));
                match read.await {
                    Ok(Ok(text)) => (self.parse)(&text),
                    Ok(Err(err)) => Err(err),
                    Err(_) => Err(SetupError::SecretUnreadable(format!(
                        "no answer within {} s",
                        SECRET_TIMEOUT.as_secs()
                    ))),
                }
                .map_err(|e| format!("{}: {e}", self.variable))
            })
            .await
    }
}

/// Where the webhook URL comes from.
#[derive(Debug)]
pub enum Webhook {
    /// `SLACK_WEBHOOK_URL` (local runs).
    Given(WebhookUrl),
    /// `SLACK_WEBHOOK_SECRET_ARN`.
    Secret(LazySecret<WebhookUrl>),
}

impl Webhook {
    pub fn from_secret(client: aws_sdk_secretsmanager::Client, arn: String) -> Webhook {
        Webhook::Secret(LazySecret::new(
            client,
            arn,
            "SLACK_WEBHOOK_SECRET_ARN",
            |text| webhook_in_secret(text).ok_or(SetupError::SecretWithoutUrl),
        ))
    }

    async fn url(&self) -> Result<&WebhookUrl, String> {
        match self {
            Webhook::Given(url) => Ok(url),
            Webhook::Secret(secret) => secret.get().await,
        }
    }
}

/// The Slack incoming webhook.
#[derive(Debug)]
pub struct SlackSink {
    webhook: Webhook,
}

impl SlackSink {
    /// No redirect is followed: a webhook that answers with one is misconfigured or
    /// intercepted, and following it would send the alert to another host.
    pub fn new(webhook: Webhook) -> SlackSink {
        SlackSink { webhook }
    }

    /// Posts a Block Kit payload, every text in it made displayable (no bidirectional or
    /// control characters, whoever built it); anything but 2xx is a failure.
    pub async fn post(&self, payload: &Value) -> Result<(), SinkError> {
        let fail = |message: String| SinkError {
            sink: Sink::Slack,
            message,
        };
        let url = self.webhook.url().await.map_err(fail)?;
        let http = sink_http().map_err(|e| fail(e.to_string()))?;
        let mut payload = payload.clone();
        crate::untrusted::displayable_json(&mut payload);
        let response = http
            .post(&url.0)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(payload.to_string())
            .send()
            .await
            // reqwest puts the URL in its errors; here the URL is the secret.
            .map_err(|e| fail(format!("webhook post failed: {}", e.without_url())))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(fail(format!(
            "webhook answered HTTP {}: {}",
            status.as_u16(),
            quotable_error_body(&body, &url.0)
        )))
    }
}

/// What of a webhook's error body may be logged: Slack answers errors with a code such as
/// `invalid_token` or `channel_is_archived`; anything else (a proxy that echoes the request
/// line, an HTML page) may hold the URL's token, so only its length is said. A body that
/// is part of the URL itself is never a code.
fn quotable_error_body(body: &str, url: &str) -> String {
    let body = body.trim();
    let slack_code = !body.is_empty()
        && body.len() <= MAX_ERROR_BODY
        && body.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        && !url.contains(body);
    if slack_code {
        body.to_string()
    } else {
        format!("a body of {} bytes, not shown", body.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_come_as_text_or_json_and_never_print() {
        let url = "https://hooks.slack.com/services/T0/B0/secret-token";
        assert_eq!(webhook_in_secret(url), WebhookUrl::new(url));
        assert!(webhook_in_secret(url).is_some());
        let json = format!(r#"{{"webhook_url": "{url}"}}"#);
        assert_eq!(webhook_in_secret(&json), WebhookUrl::new(url));
        assert_eq!(webhook_in_secret(r#"{"token": "x"}"#), None);
        assert_eq!(webhook_in_secret("hooks.slack.com/services"), None);
        assert_eq!(webhook_in_secret("ftp://example.com/x"), None);
        let shown = format!("{:?}", WebhookUrl::new(url).unwrap());
        assert!(!shown.contains("secret-token"), "{shown}");
    }

    #[test]
    fn only_slacks_error_codes_are_quoted() {
        let url = "https://hooks.slack.com/services/T0/B0/lowercasesecret";
        assert_eq!(quotable_error_body("invalid_token\n", url), "invalid_token");
        for echoed in [
            "POST /services/T0/B0/secret-token HTTP/1.1",
            "<html>https://hooks.slack.com/services/T0/B0/secret-token</html>",
            "secret-token",
            "lowercasesecret",
        ] {
            let quoted = quotable_error_body(echoed, url);
            assert!(!quoted.contains("secret"), "{quoted}");
            assert!(quoted.ends_with("bytes, not shown"), "{quoted}");
        }
    }
}
