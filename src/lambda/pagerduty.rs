//! Delivery to PagerDuty's Events API v2: the routing key read from Secrets Manager on first
//! need, each event posted with a short retry for what PagerDuty asks to be retried (429 and
//! 5xx), none for what it refuses (400: the event itself is wrong).
//!
//! The routing key is a credential (it opens incidents on the service): it is never logged,
//! and PagerDuty's error text is quoted only with the key removed.

use std::time::Duration;

use serde_json::Value;

use super::sinks::{
    credential_in_secret, sink_http, Credential, LazySecret, SetupError, SinkError,
};
use crate::alert::Sink;
use crate::untrusted;

/// PagerDuty's Events API v2 endpoint.
pub const DEFAULT_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";
/// Tries of one event, and the wait before the second (doubled before each further one).
const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The most of PagerDuty's error text that is quoted.
const MAX_QUOTED: usize = 300;

/// The routing key in a secret's text: the key itself, or JSON with `routing_key` (or
/// `integration_key`). PagerDuty's keys are 32 letters and digits.
pub fn routing_key_in_secret(text: &str) -> Result<Credential, SetupError> {
    credential_in_secret(text, &["routing_key", "integration_key"], |key| {
        (20..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric())
    })
    .ok_or(SetupError::SecretWithoutRoutingKey)
}

/// The Events API v2 integration the incidents go to.
#[derive(Debug)]
pub struct PagerDutySink {
    events_url: String,
    routing_key: LazySecret<Credential>,
}

impl PagerDutySink {
    /// `secret` is the routing key's secret ARN and the variable that names it (in errors).
    pub fn new(
        client: aws_sdk_secretsmanager::Client,
        (secret_arn, variable): (String, &'static str),
        events_url: String,
    ) -> PagerDutySink {
        PagerDutySink {
            events_url,
            routing_key: LazySecret::new(client, secret_arn, variable, routing_key_in_secret),
        }
    }

    /// Sends one event (a `trigger` or `resolve` without its routing key); 2xx is success.
    pub async fn send(&self, event: &Value) -> Result<(), SinkError> {
        let fail = |message: String| SinkError {
            sink: Sink::PagerDuty,
            message,
        };
        let key = self.routing_key.get().await.map_err(fail)?;
        let http = sink_http().map_err(|e| fail(e.to_string()))?;
        let mut event = event.clone();
        event["routing_key"] = Value::String(key.expose().to_string());
        let body = event.to_string();
        let mut wait = FIRST_BACKOFF;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            let sent = http
                .post(&self.events_url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(err) => {
                    last = format!("events API not reached: {}", err.without_url());
                    continue;
                }
            };
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let text = response.text().await.unwrap_or_default();
            last = format!(
                "events API answered HTTP {}: {}",
                status.as_u16(),
                quotable(&text, key.expose())
            );
            let retry = status.as_u16() == 429 || status.is_server_error();
            if !retry {
                break;
            }
        }
        Err(fail(last))
    }
}

/// PagerDuty's error text (`message` and `errors` of its JSON, else the body), on one line,
/// without the routing key, and short.
fn quotable(body: &str, routing_key: &str) -> String {
    let text = match serde_json::from_str::<Value>(body) {
        Ok(value) => {
            let message = value["message"].as_str().unwrap_or_default().to_string();
            let errors: Vec<&str> = value["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if errors.is_empty() {
                message
            } else {
                format!("{message} ({})", errors.join("; "))
            }
        }
        Err(_) => body.to_string(),
    };
    untrusted::one_line(&text.replace(routing_key, "<routing key>"), MAX_QUOTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_keys_come_as_text_or_json_and_never_print() {
        let key = "0123456789abcdef0123456789ABCDEF";
        assert_eq!(routing_key_in_secret(key).unwrap().expose(), key);
        let json = format!(r#"{{"routing_key": "{key}"}}"#);
        assert_eq!(routing_key_in_secret(&json).unwrap().expose(), key);
        for bad in [
            "",
            "short",
            "has spaces in it 0123456789",
            r#"{"token": "x"}"#,
        ] {
            assert!(routing_key_in_secret(bad).is_err(), "{bad}");
        }
        let shown = format!("{:?}", routing_key_in_secret(key).unwrap());
        assert!(!shown.contains(key), "{shown}");
    }

    #[test]
    fn pagerdutys_errors_are_quoted_without_the_key() {
        let key = "0123456789abcdef0123456789ABCDEF";
        let body = r#"{"status":"invalid event","message":"Event object is invalid","errors":["'payload.summary' is missing"]}"#;
        assert_eq!(
            quotable(body, key),
            "Event object is invalid ('payload.summary' is missing)"
        );
        let echoed = format!("bad routing_key {key}\nsecond line");
        let quoted = quotable(&echoed, key);
        assert!(!quoted.contains(key) && !quoted.contains('\n'), "{quoted}");
    }
}
