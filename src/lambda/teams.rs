//! Delivery to Microsoft Teams through a Workflows webhook ("When a Teams webhook request is
//! received"): the URL read from Secrets Manager on first need, each card posted once (a
//! failure fails the invocation, and its retry posts only what was not told).
//!
//! The URL is a credential (its `sig` lets anyone post to the channel): it is never logged,
//! and of an error body only a Workflows error code is quoted.

use serde_json::Value;

use super::sinks::{sink_http, webhook_in_secret, LazySecret, SetupError, SinkError, WebhookUrl};
use crate::alert::Sink;

/// The longest error code quoted.
const MAX_CODE: usize = 64;

/// The Workflows webhook the cards go to.
#[derive(Debug)]
pub struct TeamsSink {
    url: LazySecret<WebhookUrl>,
}

impl TeamsSink {
    /// `secret` is the URL's secret ARN and the variable that names it (in errors).
    pub fn new(
        client: aws_sdk_secretsmanager::Client,
        (secret_arn, variable): (String, &'static str),
    ) -> TeamsSink {
        TeamsSink {
            url: LazySecret::new(client, secret_arn, variable, |text| {
                webhook_in_secret(text).ok_or(SetupError::SecretWithoutUrl)
            }),
        }
    }

    /// Posts one card message (from `render::teams`); 2xx (Workflows answers 202) is success.
    pub async fn post(&self, message: &Value) -> Result<(), SinkError> {
        let fail = |message: String| SinkError {
            sink: Sink::Teams,
            message,
        };
        let url = self.url.get().await.map_err(fail)?;
        let http = sink_http().map_err(|e| fail(e.to_string()))?;
        let response = http
            .post(url.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(message.to_string())
            .send()
            .await
            .map_err(|e| fail(format!("workflow not reached: {}", e.without_url())))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(fail(format!(
            "workflow answered HTTP {}: {}",
            status.as_u16(),
            error_code(&body)
        )))
    }
}

/// Of a Workflows error body, `error.code` when it is a plain code; else only its length (the
/// body may echo the request, and the URL's signature with it).
fn error_code(body: &str) -> String {
    let code = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_string))
        .filter(|c| {
            !c.is_empty() && c.len() <= MAX_CODE && c.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    code.unwrap_or_else(|| format!("a body of {} bytes, not shown", body.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_workflows_error_code_is_quoted() {
        assert_eq!(
            error_code(r#"{"error":{"code":"TriggerInputSchemaMismatch","message":"sig=abc"}}"#),
            "TriggerInputSchemaMismatch"
        );
        for echoed in [
            "https://prod.westus.logic.azure.com/workflows/x?sig=secret",
            r#"{"error":{"code":"sig=secret"}}"#,
        ] {
            let quoted = error_code(echoed);
            assert!(!quoted.contains("secret"), "{quoted}");
        }
    }
}
