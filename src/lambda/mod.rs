//! The Lambda function: what is built once per cold start ([`Deps::start`]), what each
//! EventBridge event goes through ([`handle`]: parse → skip or inspect → diagnose → dedup →
//! notify), and the errors and outcomes both report.
//!
//! Failure semantics, for the asynchronous invoke: a malformed event, a transient inspection
//! failure and a failed sink return an error (Lambda retries the event, then sends it to the
//! on-failure destination), each with its own `errorType`. With a dedup table, a retry only
//! delivers to the sinks that have not got the alert yet.

mod answer;
pub mod dedup;
mod deps;
mod handle;
mod incident;
pub mod incidents;
pub mod known;
pub mod org_sweep;
pub mod pagerduty;
pub mod preflight;
pub mod ranges;
pub mod runs;
pub mod sinks;
pub mod slack_app;
pub mod teams;

pub use answer::{answer, Call, Payload};
pub use deps::Deps;
pub use handle::handle;

use serde::Serialize;

use crate::alert::Sink;
use crate::change::ChangeError;
use crate::config::ConfigError;
use crate::diagnose::MissingInput;
use crate::event::EventError;
use crate::localized::Localized;
use crate::network::snapshot::SnapshotError;
use crate::network::source::SourceError;
use crate::t;

use dedup::DedupError;
use sinks::SinkError;

/// What the function answers: an outcome, or for a deployment lifecycle hook exactly the
/// `{"hookStatus": …}` ECS reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    Outcome(Box<Outcome>),
    Hook(preflight::HookAnswer),
    /// An SQS batch of the organisation's sweep: the messages to deliver again.
    Batch(org_sweep::BatchAnswer),
}

/// The IAM actions of the delivery (on the topic, the table and the secret); the inspection's
/// are [`crate::network::live::IAM_ACTIONS`]. The SAM template's policy is checked against both.
pub const SINK_IAM_ACTIONS: &[&str] = &[
    "sns:Publish",
    "sqs:SendMessage",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "secretsmanager:GetSecretValue",
];

/// What Lambda's SQS poller does with the function's role for the organisation sweep's work
/// queue (the template's `ReceiveSweepWork`): the function's code never calls these.
pub const SWEEP_POLLER_IAM_ACTIONS: &[&str] = &[
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
];

/// Why the function could not start: a configuration value that can never work, each naming
/// the variable to fix. Nothing remote is called before the first event, so nothing remote
/// can be one of these.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("IP_RANGES_FILE: {} does not exist or is not a file", .0.display())]
    IpRangesMissing(std::path::PathBuf),
    #[error("NETWORK_SNAPSHOT_FILE: {0}")]
    Snapshot(SnapshotError),
    #[error("SLACK_WEBHOOK_URL: {0}")]
    Webhook(sinks::SetupError),
}

/// Why an event was not handled; the runtime reports [`HandlerError::error_type`].
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The Runtime API handed over bytes that are not JSON (see [`Payload`]).
    #[error("malformed event: the payload is not JSON ({0})")]
    NotJson(String),
    #[error("malformed event: {0}")]
    MalformedEvent(EventError),
    #[error("cannot inspect the task's network (will be retried): {0}")]
    InspectionFailed(SourceError),
    #[error("{}", sink_failure_message(failed, delivered))]
    SinkFailed {
        failed: Vec<SinkError>,
        delivered: Vec<Sink>,
    },
    #[error("malformed CloudTrail event: {0}")]
    MalformedChange(ChangeError),
    #[error("no region to audit: the event names none and the function has none (AWS_REGION)")]
    NoRegion,
    /// The known root causes could not be read or written (will be retried): without them a
    /// sweep cannot tell new from old.
    #[error("the known root causes: {0}")]
    KnownCauses(DedupError),
    #[error("malformed ECS service event: {0}")]
    MalformedServiceEvent(crate::service_event::ServiceEventError),
    /// The incident record could not be read or written (will be retried): without it a
    /// recovered service's incident cannot be resolved exactly once.
    #[error("the incident record: {0}")]
    Incidents(DedupError),
    /// The organisation sweep's run could not be read or written (will be retried).
    #[error("the sweep's run: {0}")]
    Runs(DedupError),
    /// The accounts to sweep could not be listed (will be retried).
    #[error("the accounts to sweep: {0}")]
    Discovery(String),
    /// The work queue did not take the run's messages (will be retried).
    #[error("the sweep's work queue: {0}")]
    Queue(String),
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
            HandlerError::NotJson(_) | HandlerError::MalformedEvent(_) => "MalformedEvent",
            HandlerError::InspectionFailed(_) => "InspectionFailed",
            HandlerError::SinkFailed { .. } => "SinkFailed",
            HandlerError::MalformedChange(_) => "MalformedEvent",
            HandlerError::NoRegion => "NoRegion",
            HandlerError::KnownCauses(_) => "KnownCausesUnavailable",
            HandlerError::MalformedServiceEvent(_) => "MalformedEvent",
            HandlerError::Incidents(_) => "IncidentsUnavailable",
            HandlerError::Runs(_) => "SweepRunUnavailable",
            HandlerError::Discovery(_) => "AccountsNotListed",
            HandlerError::Queue(_) => "WorkQueueUnavailable",
        }
    }
}

impl HandlerError {
    /// Whether the same event could succeed later: a document that does not parse never will;
    /// a throttled inspection or a failed sink may.
    pub fn retryable(&self) -> bool {
        match self {
            HandlerError::NotJson(_) | HandlerError::MalformedEvent(_) => false,
            HandlerError::InspectionFailed(err) => err.retryable(),
            HandlerError::SinkFailed { .. } => true,
            HandlerError::MalformedChange(_) | HandlerError::NoRegion => false,
            HandlerError::KnownCauses(_) => true,
            HandlerError::MalformedServiceEvent(_) => false,
            HandlerError::Incidents(_) => true,
            HandlerError::Runs(_) | HandlerError::Discovery(_) | HandlerError::Queue(_) => true,
        }
    }
}

/// The invocation's error as `lambda_runtime` posts it: our `errorType`, not the Rust type's
/// name it would use for an error of its own.
impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
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
    /// No retry could help (a malformed event): sent to the failure queue at once instead of
    /// after Lambda's retries.
    Rejected {
        error_type: String,
        why: String,
        forwarded_to: String,
    },
    /// A sweep or change alarm audited the account: what was new and fixed, and where it
    /// was posted (nowhere when nothing changed).
    Audited {
        kind: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        event_name: Option<String>,
        new: Vec<String>,
        /// Known causes that now affect more services, subnets or resources.
        widened: Vec<String>,
        narrowed: Vec<String>,
        fixed: Vec<String>,
        persisting: usize,
        services: usize,
        blocked: usize,
        unknown: usize,
        not_audited: Vec<String>,
        sent_to: Vec<Sink>,
    },
    /// Another task with the same alert was reported inside the window: counted, not posted;
    /// or (`held_by`, that invocation's request ID) a duplicate of this event is delivering
    /// the alert right now.
    Suppressed {
        task_arn: Option<String>,
        findings: Vec<String>,
        dedup_key: String,
        repeats: u64,
        first_task: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        held_by: Option<String>,
        /// PagerDuty, when the repeat is the first of its cause since the incident opened.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        sent_to: Vec<Sink>,
    },
    /// The service recovered (or its incident went quiet) and the incident was closed in
    /// every channel that followed it; `verified` says what is true now of each cause's path.
    Resolved {
        incident: String,
        event_name: String,
        failed_tasks: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        open_seconds: Option<u64>,
        verified: Vec<String>,
        sent_to: Vec<Sink>,
    },
    /// A route (`ROUTES`, by its number) mutes this failure: diagnosed, logged and counted in
    /// its incident, sent nowhere.
    Muted {
        task_arn: Option<String>,
        findings: Vec<String>,
        route: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        incident: Option<String>,
    },
    /// The quiet check closed these incidents (none went quiet: empty).
    QuietChecked { closed: Vec<String> },
    /// The organisation's sweep planned a run: one work message per target sent; the
    /// previous run, when it had not finished, summarised with what is missing.
    Planned {
        run: String,
        targets: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        previous_summarised: Option<String>,
    },
    /// ECS failed the deployment or rolled it back: the incident was told it is mitigated.
    Mitigated {
        incident: String,
        event_name: String,
        sent_to: Vec<Sink>,
    },
}

/// The function's own wording of an input the diagnosis lacked.
pub(super) fn what_the_function_lacked(missing: MissingInput) -> Localized {
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

/// The time, as the dedup table stores it.
pub(super) fn now_epoch_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One note of several lines, or none.
pub(super) fn join_notes(
    first: Option<Localized>,
    more: impl Iterator<Item = Localized>,
) -> Option<Localized> {
    first
        .into_iter()
        .chain(more)
        .reduce(|a, b| Localized::new(format!("{}\n{}", a.en, b.en), format!("{}\n{}", a.ko, b.ko)))
}

/// What the dedup record decided for one event.
pub(super) enum Decision {
    /// Deliver to the configured sinks not in `already_sent`; `note` tells how repeats are
    /// counted; `dedup_error` says why the table could not be used.
    Notify {
        already_sent: Vec<Sink>,
        note: Option<Localized>,
        dedup_error: Option<String>,
    },
    /// Another task already raised this alert inside the window, or another invocation
    /// (`held_by`) is delivering it.
    Suppress {
        repeats: u64,
        first_task: String,
        held_by: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_reports_its_own_error_type() {
        let cases = [
            (
                HandlerError::MalformedEvent(EventError::NotEcsTaskEvent {
                    event_source: "aws.ec2".into(),
                    detail_type: "x".into(),
                }),
                "MalformedEvent",
            ),
            (
                HandlerError::InspectionFailed(SourceError::Transient {
                    subnet: "subnet-1".into(),
                    message: "RequestLimitExceeded".into(),
                }),
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
            let body = lambda_runtime::Diagnostic::from(error);
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
