//! The Lambda function: what is built once per cold start ([`Handler::start`]) and what each
//! EventBridge event goes through ([`Handler::handle`]): parse → skip or inspect → diagnose →
//! dedup → notify.
//!
//! Failure semantics, for the asynchronous invoke: a malformed event, a transient inspection
//! failure and a failed sink return an error (Lambda retries the event, then sends it to the
//! on-failure destination), each with its own `errorType`. With a dedup table, a retry only
//! delivers to the sinks that have not got the alert yet.

pub mod dedup;
pub mod ranges;
pub mod runtime_api;
pub mod sinks;

use std::borrow::Cow;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

use crate::alert::{alert_key, pending_sinks, repeats_note, Claim, Sink};
use crate::config::{Config, ConfigError};
use crate::diagnose::{self, task_region, Diagnosis, MissingInput};
use crate::event::{parse_task_event_value, FailedTask, TaskEvent};
use crate::ipranges;
use crate::localized::{Lang, Localized};
use crate::network::live::{self, Clients, LiveError};
use crate::network::snapshot::{self, SnapshotError};
use crate::network::NetworkView;
use crate::render::{slack::slack_payload, sns::sns_message};
use crate::t;

use dedup::DedupTable;
use ranges::BackgroundRanges;
use sinks::{SinkError, SlackSink, SnsSink};

/// The IAM actions of the delivery (on the topic, the table and the secret); the inspection's
/// are [`live::IAM_ACTIONS`]. The SAM template's policy is checked against both.
pub const SINK_IAM_ACTIONS: &[&str] = &[
    "sns:Publish",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "secretsmanager:GetSecretValue",
];

/// Why the function could not start; each names the variable to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("IP_RANGES_FILE: {} does not exist or is not a file", .0.display())]
    IpRangesMissing(std::path::PathBuf),
    #[error("NETWORK_SNAPSHOT_FILE: {0}")]
    Snapshot(#[source] SnapshotError),
    #[error("SLACK_WEBHOOK_SECRET_ARN: {0}")]
    WebhookSecret(String),
    #[error("SLACK_WEBHOOK_URL: {0}")]
    Webhook(String),
}

/// Why an event was not handled; the runtime reports [`HandlerError::error_type`].
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("malformed event: {0}")]
    MalformedEvent(String),
    #[error("cannot inspect the task's network (will be retried): {0}")]
    InspectionFailed(String),
    #[error("{}", sink_failure_message(failed, delivered))]
    SinkFailed {
        failed: Vec<SinkError>,
        delivered: Vec<Sink>,
    },
}

fn sink_failure_message(failed: &[SinkError], delivered: &[Sink]) -> String {
    let failed: Vec<String> = failed.iter().map(ToString::to_string).collect();
    let mut message = format!("delivery failed: {}", failed.join("; "));
    if !delivered.is_empty() {
        let names: Vec<&str> = delivered.iter().map(|s| s.as_str()).collect();
        message.push_str(&format!(" (delivered: {})", names.join(", ")));
    }
    message
}

impl HandlerError {
    /// The `errorType` the Lambda runtime reports (and the on-failure destination records).
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::MalformedEvent(_) => "MalformedEvent",
            HandlerError::InspectionFailed(_) => "InspectionFailed",
            HandlerError::SinkFailed { .. } => "SinkFailed",
        }
    }
}

impl From<HandlerError> for runtime_api::ErrorBody {
    fn from(error: HandlerError) -> Self {
        runtime_api::ErrorBody {
            error_type: error.error_type().to_string(),
            error_message: error.to_string(),
        }
    }
}

/// What happened to an event: the function's response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Not a pull or initialisation failure; nothing was sent.
    Skipped {
        task_arn: Option<String>,
        why: String,
    },
    /// The diagnosis went to `sent_to` (and earlier, on a retried invocation, to `already_sent`).
    Sent {
        task_arn: Option<String>,
        findings: Vec<String>,
        sent_to: Vec<Sink>,
        already_sent: Vec<Sink>,
        #[serde(skip_serializing_if = "Option::is_none")]
        dedup_key: Option<String>,
        /// Set when the dedup table could not be used, so the alert went out unsuppressed.
        #[serde(skip_serializing_if = "Option::is_none")]
        dedup_error: Option<String>,
        not_inspected: Vec<String>,
    },
    /// Another task with the same alert was reported inside the window: counted, not posted.
    Suppressed {
        task_arn: Option<String>,
        findings: Vec<String>,
        dedup_key: String,
        repeats: u64,
        first_task: String,
    },
}

/// The function's own wording of an input the diagnosis lacked.
fn what_the_function_lacked(missing: MissingInput) -> Localized {
    match missing {
        MissingInput::NetworkView => t!(
            "The function had no network view for this task (NETWORK_SNAPSHOT_FILE, or the ec2:Describe* calls listed under not inspected).",
            "함수가 이 태스크의 네트워크 정보를 얻지 못했습니다(NETWORK_SNAPSHOT_FILE, 또는 점검하지 못한 항목에 나온 ec2:Describe* 호출)."
        ),
        MissingInput::IpRanges => t!(
            "The function has no usable ip-ranges.json (IP_RANGES_FILE, or the copy packaged next to bootstrap), so addresses outside the VPC have no known owner.",
            "함수에 사용할 수 있는 ip-ranges.json이 없어(IP_RANGES_FILE 또는 bootstrap 옆에 포함된 파일) VPC 밖 주소의 소유자를 알 수 없습니다."
        ),
    }
}

/// One note of several lines, or none.
fn join_notes(
    first: Option<Localized>,
    more: impl Iterator<Item = Localized>,
) -> Option<Localized> {
    first
        .into_iter()
        .chain(more)
        .reduce(|a, b| Localized::new(format!("{}\n{}", a.en, b.en), format!("{}\n{}", a.ko, b.ko)))
}

/// What the dedup record decided for one event.
enum Decision {
    /// Deliver to the configured sinks not in `already_sent`; `note` tells how repeats are
    /// counted; `dedup_error` says why the table could not be used.
    Notify {
        already_sent: Vec<Sink>,
        note: Option<Localized>,
        dedup_error: Option<String>,
    },
    /// Another task already raised this alert inside the window.
    Suppress { repeats: u64, first_task: String },
}

/// Where the network view comes from.
#[derive(Debug)]
enum NetworkSource {
    /// A recorded snapshot (local replay, no EC2 calls).
    Snapshot(Box<NetworkView>),
    /// EC2 and ECS in the function's account.
    Live(Box<LiveSource>),
}

#[derive(Debug)]
struct LiveSource {
    /// Builds clients for a region other than the function's.
    sdk: aws_config::SdkConfig,
    clients: Clients,
}

/// Everything built once per cold start.
#[derive(Debug)]
pub struct Handler {
    lang: Lang,
    ip_ranges: BackgroundRanges,
    network: NetworkSource,
    sns: Option<SnsSink>,
    slack: Option<SlackSink>,
    dedup: Option<DedupTable>,
    /// The configured sinks, in delivery order.
    sinks: Vec<Sink>,
}

fn milliseconds(since: Instant) -> u64 {
    since.elapsed().as_millis().try_into().unwrap_or(u64::MAX)
}

fn now_epoch_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Handler {
    /// Validates `config` and builds the clients, ip-ranges and webhook once.
    pub async fn start(config: Config) -> Result<Handler, StartError> {
        // First: the parse runs while everything else is set up.
        let ranges_path = ipranges::default_location(config.ip_ranges_file.as_deref());
        match &ranges_path {
            Some(path) if !path.is_file() => return Err(StartError::IpRangesMissing(path.clone())),
            Some(_) => {}
            None => warn!("no ip-ranges.json next to bootstrap and IP_RANGES_FILE is not set: IP owners outside the VPC will be unknown"),
        }
        let ip_ranges = BackgroundRanges::start(ranges_path);
        let sdk = live::load_config(None).await;
        let network = match &config.network_snapshot_file {
            Some(path) => NetworkSource::Snapshot(Box::new(
                snapshot::load(path).map_err(StartError::Snapshot)?,
            )),
            None => NetworkSource::Live(Box::new(LiveSource {
                clients: Clients::new(&sdk),
                sdk: sdk.clone(),
            })),
        };
        let sns = config
            .sns_topic_arn
            .clone()
            .map(|arn| SnsSink::new(aws_sdk_sns::Client::new(&sdk), arn));
        let webhook = match (&config.slack_webhook_url, &config.slack_webhook_secret_arn) {
            (Some(url), _) => Some(
                sinks::WebhookUrl::new(url)
                    .ok_or_else(|| StartError::Webhook("not an http(s) URL".into()))?,
            ),
            (None, Some(arn)) => {
                let client = aws_sdk_secretsmanager::Client::new(&sdk);
                Some(
                    sinks::webhook_from_secret(&client, arn)
                        .await
                        .map_err(StartError::WebhookSecret)?,
                )
            }
            (None, None) => None,
        };
        let slack = webhook
            .map(SlackSink::new)
            .transpose()
            .map_err(StartError::Webhook)?;
        let dedup = config.dedup.as_ref().map(|d| {
            DedupTable::new(
                aws_sdk_dynamodb::Client::new(&sdk),
                d.table.clone(),
                d.window_minutes,
            )
        });
        let mut configured = Vec::new();
        if sns.is_some() {
            configured.push(Sink::Sns);
        }
        if slack.is_some() {
            configured.push(Sink::Slack);
        }
        Ok(Handler {
            lang: config.lang,
            ip_ranges,
            network,
            sns,
            slack,
            dedup,
            sinks: configured,
        })
    }

    /// Handles one EventBridge event; logs one line with the decision.
    pub async fn handle(&self, payload: Value) -> Result<Outcome, HandlerError> {
        let started = Instant::now();
        let event_id = payload
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string();
        let task = match parse_task_event_value(payload) {
            Ok(TaskEvent::PullFailure(task)) => task,
            Ok(TaskEvent::Skipped { task_arn, why }) => {
                info!(
                    decision = "skipped",
                    event_id, task_arn, why, "not a pull or initialisation failure"
                );
                return Ok(Outcome::Skipped { task_arn, why });
            }
            Err(err) => {
                let error = HandlerError::MalformedEvent(err.to_string());
                error!(decision = "failed", error_type = error.error_type(), event_id, error = %error, "event rejected");
                return Err(error);
            }
        };
        let task_arn = task.task_arn.clone();
        let diagnosis = match self.diagnose(&task).await {
            Ok(diagnosis) => diagnosis,
            Err(error) => {
                error!(decision = "failed", error_type = error.error_type(), event_id, task_arn, error = %error, "inspection failed");
                return Err(error);
            }
        };
        let inspect_ms = milliseconds(started);
        let findings: Vec<String> = diagnosis
            .findings
            .iter()
            .map(|f| f.code.as_str().to_string())
            .collect();
        let codes = findings.join(",");
        // The same task's events (and retried invocations) share an identity.
        let identity = task_arn.clone().unwrap_or_else(|| event_id.clone());

        let key = alert_key(&diagnosis);
        let (already_sent, note, dedup_error) = match self.decide(&key, &identity).await {
            Decision::Notify {
                already_sent,
                note,
                dedup_error,
            } => (already_sent, note, dedup_error),
            Decision::Suppress {
                repeats,
                first_task,
            } => {
                info!(
                    decision = "suppressed",
                    event_id,
                    task_arn,
                    codes,
                    dedup_key = key,
                    repeats,
                    first_task,
                    inspect_ms,
                    total_ms = milliseconds(started),
                    "repeat of an alert inside its window"
                );
                return Ok(Outcome::Suppressed {
                    task_arn,
                    findings,
                    dedup_key: key,
                    repeats,
                    first_task,
                });
            }
        };

        // What the function itself lacked, in the words of its configuration.
        let note = join_notes(
            note,
            diagnosis
                .missing_inputs
                .iter()
                .map(|m| what_the_function_lacked(*m)),
        );
        let pending = pending_sinks(&self.sinks, &already_sent);
        let (sent_to, failed) = self.deliver(&diagnosis, note.as_ref(), &pending).await;
        if let Some(table) = self.dedup.as_ref().filter(|_| dedup_error.is_none()) {
            if let Err(err) = table.record_delivery(&key, &sent_to).await {
                warn!(event_id, task_arn, error = %err, "delivery not recorded: a retry may post again");
            }
        }
        let total_ms = milliseconds(started);
        let sent_names: Vec<&str> = sent_to.iter().map(|s| s.as_str()).collect();
        if !failed.is_empty() {
            let error = HandlerError::SinkFailed {
                failed,
                delivered: sent_to,
            };
            error!(decision = "failed", error_type = error.error_type(), event_id, task_arn, codes, sent_to = sent_names.join(","), inspect_ms, total_ms, error = %error, "delivery failed");
            return Err(error);
        }
        info!(
            decision = "sent",
            event_id,
            task_arn,
            codes,
            sent_to = sent_names.join(","),
            dedup_key = self.dedup.as_ref().map(|_| key.as_str()),
            inspect_ms,
            total_ms,
            "diagnosis delivered"
        );
        Ok(Outcome::Sent {
            task_arn,
            findings,
            sent_to,
            already_sent,
            dedup_key: self.dedup.as_ref().map(|_| key),
            dedup_error,
            not_inspected: diagnosis
                .not_inspected
                .iter()
                .map(|l| l.get(self.lang).to_string())
                .collect(),
        })
    }

    /// Asks the dedup record (when there is one) whether this event notifies.
    async fn decide(&self, key: &str, identity: &str) -> Decision {
        let Some(table) = &self.dedup else {
            return Decision::Notify {
                already_sent: Vec::new(),
                note: None,
                dedup_error: None,
            };
        };
        let note = || Some(repeats_note(table.table(), key, table.window_minutes()));
        match table.claim(key, identity, now_epoch_seconds()).await {
            Ok(Claim::First) => Decision::Notify {
                already_sent: Vec::new(),
                note: note(),
                dedup_error: None,
            },
            Ok(Claim::Retry { delivered }) => Decision::Notify {
                already_sent: delivered,
                note: note(),
                dedup_error: None,
            },
            Ok(Claim::Repeat {
                repeats,
                first_task,
            }) => Decision::Suppress {
                repeats,
                first_task,
            },
            Err(err) => {
                // Losing the alert would be worse than posting it twice.
                warn!(key, error = %err, "dedup table unavailable: notifying without suppression");
                Decision::Notify {
                    already_sent: Vec::new(),
                    note: None,
                    dedup_error: Some(err.to_string()),
                }
            }
        }
    }

    /// Reads the network (snapshot or live) and runs the rules.
    async fn diagnose(&self, task: &FailedTask) -> Result<Diagnosis, HandlerError> {
        // The network first: ip-ranges finish parsing while the API answers.
        let inspected = self.read_network(task).await?;
        let ranges = self.ip_ranges.get().await;
        Ok(match &inspected {
            Ok(view) => diagnose::diagnose(task, Some(view), ranges),
            Err(why) => diagnose::diagnose_without_network(task, why.clone(), ranges),
        })
    }

    /// The task's network view, or why there is none; an error only when trying again later
    /// may succeed.
    async fn read_network(
        &self,
        task: &FailedTask,
    ) -> Result<Result<Cow<'_, NetworkView>, Localized>, HandlerError> {
        let (sdk, home_clients) = match &self.network {
            NetworkSource::Snapshot(view) => return Ok(Ok(Cow::Borrowed(view.as_ref()))),
            NetworkSource::Live(live) => (&live.sdk, &live.clients),
        };
        let Some(target) = live::Target::for_task(task) else {
            return Ok(Err(t!(
                "the task's network: the event names neither an ENI subnet nor a container instance",
                "태스크 네트워크: 이벤트에 ENI 서브넷도 컨테이너 인스턴스도 없습니다"
            )));
        };
        // EventBridge delivers a region's events in that region; a forwarded event may not be.
        let other_region =
            task_region(task).filter(|r| sdk.region().map(|h| h.as_ref()) != Some(r));
        let other_clients = other_region.map(|region| {
            let config = sdk
                .to_builder()
                .region(aws_config::Region::new(region))
                .build();
            Clients::new(&config)
        });
        let clients = other_clients.as_ref().unwrap_or(home_clients);
        match live::inspect(clients, &target).await {
            Ok(inspection) => Ok(Ok(Cow::Owned(inspection.view))),
            Err(LiveError::Subnet {
                transient: true,
                message,
                subnet,
            }) => Err(HandlerError::InspectionFailed(format!(
                "ec2:DescribeSubnets for {subnet} failed ({message})"
            ))),
            Err(err) => Ok(Err(t!(
                "the task's network: {err}",
                "태스크 네트워크: {err}",
                err = err.to_string()
            ))),
        }
    }

    /// Sends to each pending sink concurrently; returns what went and what failed.
    async fn deliver(
        &self,
        d: &Diagnosis,
        note: Option<&Localized>,
        pending: &[Sink],
    ) -> (Vec<Sink>, Vec<SinkError>) {
        let lang = self.lang;
        let to_sns = async {
            let sns = self.sns.as_ref().filter(|_| pending.contains(&Sink::Sns))?;
            let mut message = sns_message(d, lang);
            if let Some(note) = note {
                message.body.push_str(&format!("\n{}\n", note.get(lang)));
            }
            Some(sns.publish(&message).await.map(|_| Sink::Sns))
        };
        let to_slack = async {
            let slack = self
                .slack
                .as_ref()
                .filter(|_| pending.contains(&Sink::Slack))?;
            let payload = slack_payload(d, lang, note.map(|n| n.get(lang)));
            Some(slack.post(&payload).await.map(|_| Sink::Slack))
        };
        let (sns, slack) = tokio::join!(to_sns, to_slack);
        let mut sent = Vec::new();
        let mut failed = Vec::new();
        for result in [sns, slack].into_iter().flatten() {
            match result {
                Ok(sink) => sent.push(sink),
                Err(err) => failed.push(err),
            }
        }
        (sent, failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_reports_its_own_error_type() {
        let cases = [
            (HandlerError::MalformedEvent("x".into()), "MalformedEvent"),
            (
                HandlerError::InspectionFailed("x".into()),
                "InspectionFailed",
            ),
            (
                HandlerError::SinkFailed {
                    failed: vec![SinkError {
                        sink: Sink::Slack,
                        message: "webhook answered HTTP 500: internal_error".into(),
                    }],
                    delivered: vec![Sink::Sns],
                },
                "SinkFailed",
            ),
        ];
        for (error, expected) in cases {
            let message = error.to_string();
            let body = runtime_api::ErrorBody::from(error);
            assert_eq!(body.error_type, expected);
            assert_eq!(body.error_message, message);
        }
    }

    #[test]
    fn a_sink_failure_names_what_failed_and_what_was_delivered() {
        let error = HandlerError::SinkFailed {
            failed: vec![SinkError {
                sink: Sink::Slack,
                message: "webhook answered HTTP 500: internal_error".into(),
            }],
            delivered: vec![Sink::Sns],
        };
        assert_eq!(
            error.to_string(),
            "delivery failed: slack: webhook answered HTTP 500: internal_error (delivered: sns)"
        );
    }

    #[test]
    fn outcomes_serialise_with_a_status() {
        let skipped = Outcome::Skipped {
            task_arn: None,
            why: "scaling".into(),
        };
        assert_eq!(
            serde_json::to_value(&skipped).unwrap(),
            serde_json::json!({"status": "skipped", "task_arn": null, "why": "scaling"})
        );
        let sent = Outcome::Sent {
            task_arn: Some("t".into()),
            findings: vec!["S3_ROUTE_MISSING".into()],
            sent_to: vec![Sink::Slack],
            already_sent: vec![Sink::Sns],
            dedup_key: None,
            dedup_error: None,
            not_inspected: vec![],
        };
        let value = serde_json::to_value(&sent).unwrap();
        assert_eq!(value["status"], "sent");
        assert_eq!(value["sent_to"], serde_json::json!(["slack"]));
        assert!(value.get("dedup_key").is_none());
    }
}
