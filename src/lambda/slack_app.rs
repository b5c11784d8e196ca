//! Slack's Web API as the incident's channel (app mode): `chat.postMessage` opens the parent
//! and posts thread replies, `chat.update` edits the parent in place. Needs a bot token with
//! `chat:write` (and `chat:write.public` for a public channel the app has not joined).
//!
//! Slack answers errors with HTTP 200 and `{"ok": false, "error": "…"}`; a 429 carries
//! `Retry-After`, which is waited out once when it is short, else the invocation fails and
//! its retry sends again. The bot token is a credential: never logged, and only Slack's error
//! codes are quoted.

use std::time::Duration;

use serde_json::{json, Value};

use super::sinks::{
    credential_in_secret, sink_http, Credential, LazySecret, SetupError, SinkError,
};
use crate::alert::Sink;

/// Slack's Web API.
pub const DEFAULT_API_URL: &str = "https://slack.com/api";
/// The longest `Retry-After` waited out within an invocation.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The bot token in a secret's text: the token itself, or JSON with `bot_token` (or `token`).
pub fn bot_token_in_secret(text: &str) -> Result<Credential, SetupError> {
    credential_in_secret(text, &["bot_token", "token"], |token| {
        token.starts_with("xox")
            && token.len() <= 255
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
    .ok_or(SetupError::SecretWithoutBotToken)
}

/// A Slack channel ID (`C…`, `G…`, `D…`): what the API takes, unlike a name.
pub fn is_channel_id(text: &str) -> bool {
    (9..=20).contains(&text.len())
        && text.starts_with(['C', 'G', 'D'])
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The app's channel.
#[derive(Debug)]
pub struct SlackApp {
    api_url: String,
    channel: String,
    token: LazySecret<Credential>,
}

impl SlackApp {
    pub fn new(
        client: aws_sdk_secretsmanager::Client,
        token_secret_arn: String,
        channel: String,
        api_url: String,
    ) -> SlackApp {
        SlackApp {
            api_url: api_url.trim_end_matches('/').to_string(),
            channel,
            token: LazySecret::new(
                client,
                token_secret_arn,
                "SLACK_BOT_TOKEN_SECRET_ARN",
                bot_token_in_secret,
            ),
        }
    }

    /// The default channel (`SLACK_CHANNEL_ID`); a route may name another.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Posts `message` (`text` and `blocks`) to `channel`, in the thread of `thread_ts`
    /// when given (and to the channel as well with `broadcast`); returns the message's `ts`.
    pub async fn post(
        &self,
        channel: &str,
        message: &Value,
        thread_ts: Option<&str>,
        broadcast: bool,
    ) -> Result<String, SinkError> {
        let mut body =
            json!({"channel": channel, "text": message["text"], "blocks": message["blocks"]});
        if let Some(ts) = thread_ts {
            body["thread_ts"] = ts.into();
            if broadcast {
                body["reply_broadcast"] = true.into();
            }
        }
        let answer = self.call("chat.postMessage", &body).await?;
        answer["ts"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| fail("chat.postMessage answered without a ts".into()))
    }

    /// Replaces the parent `ts` in `channel` with `message`, whole.
    pub async fn update(&self, channel: &str, ts: &str, message: &Value) -> Result<(), SinkError> {
        let body = json!({"channel": channel, "ts": ts, "text": message["text"], "blocks": message["blocks"]});
        self.call("chat.update", &body).await.map(|_| ())
    }

    async fn call(&self, method: &str, body: &Value) -> Result<Value, SinkError> {
        let token = self.token.get().await.map_err(fail)?;
        let http = sink_http().map_err(|e| fail(e.to_string()))?;
        let mut body = body.clone();
        crate::untrusted::displayable_json(&mut body);
        let url = format!("{}/{method}", self.api_url);
        let mut waited = false;
        loop {
            let response = http
                .post(&url)
                .bearer_auth(token.expose())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/json; charset=utf-8",
                )
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| fail(format!("{method} not reached: {}", e.without_url())))?;
            let status = response.status();
            if status.as_u16() == 429 {
                let after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map_or(MAX_RETRY_AFTER, Duration::from_secs);
                if waited || after > MAX_RETRY_AFTER {
                    return Err(fail(format!(
                        "{method} rate-limited (Retry-After {} s)",
                        after.as_secs()
                    )));
                }
                waited = true;
                tokio::time::sleep(after).await;
                continue;
            }
            if !status.is_success() {
                return Err(fail(format!("{method} answered HTTP {}", status.as_u16())));
            }
            let text = response.text().await.unwrap_or_default();
            let answer: Value = serde_json::from_str(&text)
                .map_err(|_| fail(format!("{method} answered with a body that is not JSON")))?;
            if answer["ok"] == true {
                return Ok(answer);
            }
            let code = answer["error"].as_str().unwrap_or("");
            let quotable = !code.is_empty()
                && code.len() <= 64
                && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            return Err(fail(format!(
                "{method} failed ({})",
                if quotable {
                    code
                } else {
                    "an error that is not one of Slack's codes"
                }
            )));
        }
    }
}

fn fail(message: String) -> SinkError {
    SinkError {
        sink: Sink::Slack,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_tokens_come_as_text_or_json_and_never_print() {
        let token = "xoxb-1234-5678-AbCdEf";
        assert_eq!(bot_token_in_secret(token).unwrap().expose(), token);
        let json = format!(r#"{{"bot_token": "{token}"}}"#);
        assert_eq!(bot_token_in_secret(&json).unwrap().expose(), token);
        for bad in ["", "https://hooks.slack.com/x", "xoxb-a b", r#"{"x": 1}"#] {
            assert!(bot_token_in_secret(bad).is_err(), "{bad}");
        }
        assert!(!format!("{:?}", bot_token_in_secret(token).unwrap()).contains("xoxb"));
    }

    #[test]
    fn channels_are_ids_not_names() {
        assert!(is_channel_id("C0123456789"));
        for bad in ["#alerts", "alerts", "C01", "c0123456789", "C0123456789<"] {
            assert!(!is_channel_id(bad), "{bad}");
        }
    }
}
