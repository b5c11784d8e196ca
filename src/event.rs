//! ECS Task State Change events: from the EventBridge document to the failed task.
//!
//! Owns the decision "is this a pull/initialisation failure we should diagnose, or a stop we
//! skip?", and the extraction of everything the later steps need from the event. In a STOPPED
//! event the ENI attachment is already `DELETED`, so its `subnetId` and `privateIPv4Address`
//! details are all there is to know where the task ran.

use std::net::IpAddr;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::untrusted;

/// The EventBridge `source` of ECS events.
pub const ECS_SOURCE: &str = "aws.ecs";
/// The EventBridge `detail-type` of task state changes.
pub const TASK_STATE_CHANGE: &str = "ECS Task State Change";

/// Markers of the failures this tool diagnoses, matched case-insensitively anywhere in a
/// message (the message can be wrapped, e.g. in a service event).
const PULL_OR_INIT_MARKERS: &[&str] = &[
    "cannotpullcontainer",
    // The EC2 launch type's agent names ECR pull failures (GetAuthorizationToken) its own way.
    "cannotpullecrcontainer",
    "cannotpullimagemanifest",
    "resourceinitializationerror",
    "the task cannot pull",
    "the task can't pull",
    "unable to pull secrets or registry auth",
    "pull image manifest has been retried",
    "ref pull has been retried",
];

/// What an event asks of us.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TaskEvent {
    /// The task stopped because an image, secret or other start-up dependency could not be fetched.
    PullFailure(Box<FailedTask>),
    /// A task event that is not a pull or initialisation failure; `why` says what it was.
    Skipped {
        task_arn: Option<String>,
        why: String,
    },
}

/// Everything the diagnosis needs from a failed task's event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedTask {
    pub event_id: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub cluster_arn: Option<String>,
    pub task_arn: Option<String>,
    /// `service:NAME` for a service's task, `family:NAME` for a standalone one.
    pub group: Option<String>,
    pub task_definition_arn: Option<String>,
    pub launch_type: Option<String>,
    /// The EC2 instance's registration, on the EC2 launch type and ECS Managed Instances.
    pub container_instance_arn: Option<String>,
    pub platform_version: Option<String>,
    pub stop_code: Option<String>,
    pub availability_zone: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ipv4_address: Option<IpAddr>,
    pub stopped_reason: Option<String>,
    /// Containers whose own `reason` is a pull or initialisation failure.
    pub failing_containers: Vec<FailingContainer>,
    /// The message to diagnose, and the container it belongs to when known.
    pub primary: PrimaryFailure,
}

/// A container whose `reason` reports a pull or initialisation failure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailingContainer {
    pub name: Option<String>,
    /// Absent for sidecars that ECS injects, such as the GuardDuty runtime agent.
    pub image: Option<String>,
    pub reason: String,
}

/// The one message the diagnosis is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrimaryFailure {
    pub container: Option<String>,
    pub image: Option<String>,
    pub reason: String,
}

impl FailedTask {
    /// The ECS service name when the task belongs to a service (`group` is `service:NAME`).
    pub fn service_name(&self) -> Option<&str> {
        self.group.as_deref()?.strip_prefix("service:")
    }

    /// True when an EC2 instance, not the task's own ENI, pulls the image: the EC2 launch type
    /// (bridge, host or awsvpc network mode alike: the agent pulls over the instance's primary
    /// interface) and ECS Managed Instances.
    pub fn pulled_by_instance(&self) -> bool {
        self.launch_type.as_deref().is_some_and(|l| {
            l.eq_ignore_ascii_case("EC2") || l.eq_ignore_ascii_case("MANAGED_INSTANCES")
        })
    }

    /// The cluster's short name, from its ARN.
    pub fn cluster_name(&self) -> Option<&str> {
        let arn = self.cluster_arn.as_deref()?;
        Some(arn.rsplit_once('/').map_or(arn, |(_, name)| name))
    }
}

/// Why a document could not be read as an ECS task event.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not valid JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("not an EventBridge event: {0}")]
    NotEventBridge(serde_json::Error),
    #[error("not an ECS task state change: source is {event_source:?} and detail-type is {detail_type:?} (expected {ECS_SOURCE:?} and {TASK_STATE_CHANGE:?})")]
    NotEcsTaskEvent {
        event_source: String,
        detail_type: String,
    },
    #[error("the event's detail is not an ECS task: {0}")]
    BadDetail(serde_json::Error),
    /// A document that is none of the shapes a task comes in.
    #[error("not an ECS task: expected an EventBridge \"ECS Task State Change\" event, the output of `aws ecs describe-tasks` ({{\"tasks\": [...]}}) or one task object from it ({what})")]
    NotATask { what: String },
    /// An account, region or ARN that is malformed or names another account or region than
    /// the envelope: never inspected, with any credentials.
    #[error("the event's identity cannot be trusted: {0}")]
    Untrusted(crate::trust::Untrusted),
}

// Not `#[from]`: that would make the cause the error's source too, and a chain printed
// whole would say it twice.
impl From<crate::trust::Untrusted> for EventError {
    fn from(why: crate::trust::Untrusted) -> EventError {
        EventError::Untrusted(why)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct TaskDetail {
    attachments: Vec<Attachment>,
    availability_zone: Option<String>,
    cluster_arn: Option<String>,
    container_instance_arn: Option<String>,
    containers: Vec<Container>,
    group: Option<String>,
    launch_type: Option<String>,
    last_status: Option<String>,
    platform_version: Option<String>,
    stop_code: Option<String>,
    stopped_reason: Option<String>,
    task_arn: Option<String>,
    task_definition_arn: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Attachment {
    #[serde(rename = "type")]
    kind: Option<String>,
    details: Vec<NameValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NameValue {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Container {
    name: Option<String>,
    image: Option<String>,
    reason: Option<String>,
}

impl TaskDetail {
    /// Every text field on one line, without bidirectional or control characters, and names
    /// cut to [`untrusted::MAX_NAME_BYTES`] (reasons to what the parser reads), saying so:
    /// what ECS writes always fits, so whatever is cut was not written by ECS.
    fn keep_displayable(&mut self) {
        let name = |field: &mut Option<String>| {
            if let Some(text) = field {
                *text = untrusted::one_line(text, untrusted::MAX_NAME_BYTES);
            }
        };
        let reason = |field: &mut Option<String>| {
            if let Some(text) = field {
                *text = untrusted::one_line(text, crate::reason::MAX_MESSAGE_BYTES);
            }
        };
        for field in [
            &mut self.availability_zone,
            &mut self.cluster_arn,
            &mut self.container_instance_arn,
            &mut self.group,
            &mut self.launch_type,
            &mut self.last_status,
            &mut self.platform_version,
            &mut self.stop_code,
            &mut self.task_arn,
            &mut self.task_definition_arn,
        ] {
            name(field);
        }
        reason(&mut self.stopped_reason);
        for container in &mut self.containers {
            name(&mut container.name);
            name(&mut container.image);
            reason(&mut container.reason);
        }
        for attachment in &mut self.attachments {
            name(&mut attachment.kind);
            for detail in &mut attachment.details {
                name(&mut detail.name);
                name(&mut detail.value);
            }
        }
    }
}

/// True when a message reports an image pull or task initialisation failure.
pub fn is_pull_or_init_failure(message: &str) -> bool {
    let lower = message.to_lowercase().replace('\u{2019}', "'");
    PULL_OR_INIT_MARKERS.iter().any(|m| lower.contains(m))
}

/// Reads one EventBridge document (JSON text) and decides what it asks of us.
pub fn parse_task_event(json: &str) -> Result<TaskEvent, EventError> {
    let value: Value = serde_json::from_str(json).map_err(EventError::NotJson)?;
    parse_task_event_value(value)
}

/// The task documents in `value`, each as the EventBridge event ECS sent when the task
/// stopped: an event is itself; `aws ecs describe-tasks` output gives one per task; one task
/// object (as describe-tasks prints it, or an event's `detail`) gives one. A task's account
/// and region come from its ARN, checked like an event's.
pub fn task_events(value: Value) -> Result<Vec<Value>, EventError> {
    let Value::Object(object) = value else {
        return Err(EventError::NotATask {
            what: "not a JSON object".into(),
        });
    };
    if object.contains_key("detail-type") {
        return Ok(vec![Value::Object(object)]);
    }
    if let Some(tasks) = object.get("tasks") {
        let Some(tasks) = tasks.as_array() else {
            return Err(EventError::NotATask {
                what: "\"tasks\" is not a list".into(),
            });
        };
        if tasks.is_empty() {
            let failures = object
                .get("failures")
                .and_then(Value::as_array)
                .map(|f| {
                    f.iter()
                        .map(|x| {
                            format!(
                                "{}: {}",
                                x.get("arn").and_then(Value::as_str).unwrap_or("?"),
                                x.get("reason").and_then(Value::as_str).unwrap_or("?")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            return Err(EventError::NotATask {
                what: format!(
                    "describe-tasks returned no task{}",
                    if failures.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({}); ECS keeps a stopped task for about an hour",
                            untrusted::one_line(&failures, untrusted::MAX_NAME_BYTES)
                        )
                    }
                ),
            });
        }
        return tasks
            .iter()
            .map(|task| event_for_task(task.clone()))
            .collect();
    }
    if object.contains_key("taskArn") {
        return Ok(vec![event_for_task(Value::Object(object))?]);
    }
    Err(EventError::NotATask {
        what: "it has neither detail-type, tasks nor taskArn".into(),
    })
}

/// One task object as the Task State Change event that carries it.
fn event_for_task(task: Value) -> Result<Value, EventError> {
    let arn = task
        .get("taskArn")
        .and_then(Value::as_str)
        .ok_or_else(|| EventError::NotATask {
            what: "a task without taskArn".into(),
        })?;
    let Some((region, account)) = crate::trust::arn_region_and_account(arn) else {
        return Err(EventError::NotATask {
            what: format!(
                "taskArn {} is not a task ARN",
                untrusted::one_line(arn, untrusted::MAX_NAME_BYTES)
            ),
        });
    };
    Ok(serde_json::json!({
        "version": "0",
        "id": "describe-tasks",
        "detail-type": TASK_STATE_CHANGE,
        "source": ECS_SOURCE,
        "account": account,
        "region": region,
        "resources": [arn],
        "detail": task,
    }))
}

/// Like [`parse_task_event`], for a document already parsed as JSON.
pub fn parse_task_event_value(value: Value) -> Result<TaskEvent, EventError> {
    let envelope: EventBridgeEvent<Value> =
        serde_json::from_value(value).map_err(EventError::NotEventBridge)?;
    if envelope.source != ECS_SOURCE || envelope.detail_type != TASK_STATE_CHANGE {
        return Err(EventError::NotEcsTaskEvent {
            event_source: envelope.source,
            detail_type: envelope.detail_type,
        });
    }
    let mut detail: TaskDetail =
        serde_json::from_value(envelope.detail).map_err(EventError::BadDetail)?;
    detail.keep_displayable();

    let task_arn = detail.task_arn.clone().or_else(|| {
        let first = envelope.resources.as_ref()?.first()?;
        Some(untrusted::one_line(first, untrusted::MAX_NAME_BYTES))
    });
    let status = detail.last_status.as_deref().unwrap_or("");
    if !status.eq_ignore_ascii_case("STOPPED") {
        let shown = if status.is_empty() { "unknown" } else { status };
        return Ok(TaskEvent::Skipped {
            task_arn,
            why: format!("the task's lastStatus is {shown}, not STOPPED"),
        });
    }

    let failing_containers: Vec<FailingContainer> = detail
        .containers
        .iter()
        .filter_map(|c| {
            let reason = c.reason.as_deref()?;
            is_pull_or_init_failure(reason).then(|| FailingContainer {
                name: c.name.clone(),
                image: c.image.clone(),
                reason: reason.to_string(),
            })
        })
        .collect();
    let stopped_reason = detail.stopped_reason.clone();
    let task_reason_is_failure = stopped_reason
        .as_deref()
        .is_some_and(is_pull_or_init_failure);

    let primary = match choose_primary(&detail, stopped_reason.as_deref(), &failing_containers) {
        Some(primary) if task_reason_is_failure || !failing_containers.is_empty() => primary,
        _ => {
            return Ok(TaskEvent::Skipped {
                task_arn,
                why: describe_ordinary_stop(&detail),
            })
        }
    };

    crate::trust::check_identity(
        envelope.account.as_deref(),
        envelope.region.as_deref(),
        &[
            ("taskArn", task_arn.as_deref()),
            ("clusterArn", detail.cluster_arn.as_deref()),
            ("taskDefinitionArn", detail.task_definition_arn.as_deref()),
            (
                "containerInstanceArn",
                detail.container_instance_arn.as_deref(),
            ),
        ],
    )?;
    let (subnet_id, private_ipv4_address) = eni_details(&detail.attachments);
    if subnet_id
        .as_deref()
        .is_some_and(|s| !crate::trust::is_resource_id(s, "subnet-"))
    {
        return Err(crate::trust::Untrusted::ResourceId { field: "subnetId" }.into());
    }
    Ok(TaskEvent::PullFailure(Box::new(FailedTask {
        event_id: envelope
            .id
            .map(|id| untrusted::one_line(&id, untrusted::MAX_NAME_BYTES)),
        account: envelope.account,
        region: envelope.region,
        cluster_arn: detail.cluster_arn,
        task_arn,
        group: detail.group,
        task_definition_arn: detail.task_definition_arn,
        launch_type: detail.launch_type,
        container_instance_arn: detail.container_instance_arn,
        platform_version: detail.platform_version,
        stop_code: detail.stop_code,
        availability_zone: detail.availability_zone,
        subnet_id,
        private_ipv4_address,
        stopped_reason,
        failing_containers,
        primary,
    })))
}

/// The task's own `stoppedReason` names the failure ECS stopped it for; a container's reason
/// tells which container it was. Prefer the container whose reason is the task's reason,
/// then the first failing container, then the task's reason alone.
fn choose_primary(
    detail: &TaskDetail,
    stopped_reason: Option<&str>,
    failing: &[FailingContainer],
) -> Option<PrimaryFailure> {
    let from_container = |c: &FailingContainer| PrimaryFailure {
        container: c.name.clone(),
        image: c.image.clone(),
        reason: c.reason.clone(),
    };
    if let Some(task_reason) = stopped_reason.filter(|r| is_pull_or_init_failure(r)) {
        if let Some(c) = failing.iter().find(|c| c.reason == task_reason) {
            return Some(from_container(c));
        }
        if let Some(c) = failing.first() {
            return Some(from_container(c));
        }
        // A single-container task: the task's reason is that container's.
        let only = (detail.containers.len() == 1).then(|| &detail.containers[0]);
        return Some(PrimaryFailure {
            container: only.and_then(|c| c.name.clone()),
            image: only.and_then(|c| c.image.clone()),
            reason: task_reason.to_string(),
        });
    }
    failing.first().map(from_container)
}

fn describe_ordinary_stop(detail: &TaskDetail) -> String {
    let reason = detail
        .stopped_reason
        .as_deref()
        .unwrap_or("no stoppedReason");
    let code = detail.stop_code.as_deref().unwrap_or("no stopCode");
    format!("not an image pull or initialisation failure: {reason:?} ({code})")
}

/// What of a Task State Change event a diagnosis reads, to keep and diagnose again later:
/// the envelope, and the detail's task, cluster, group, stop, attachments and containers
/// (name, image, status, reason). Overrides, environment and the rest are left out.
pub fn kept_for_recheck(event: &Value) -> Value {
    let pick = |from: &Value, keys: &[&str]| -> Value {
        Value::Object(
            keys.iter()
                .filter_map(|k| Some((k.to_string(), from.get(*k)?.clone())))
                .collect(),
        )
    };
    let mut kept = pick(
        event,
        &[
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
        ],
    );
    let detail = event.get("detail").unwrap_or(&Value::Null);
    let mut kept_detail = pick(
        detail,
        &[
            "taskArn",
            "clusterArn",
            "taskDefinitionArn",
            "containerInstanceArn",
            "group",
            "lastStatus",
            "desiredStatus",
            "stopCode",
            "stoppedReason",
            "launchType",
            "availabilityZone",
            "attachments",
        ],
    );
    let containers: Vec<Value> = detail
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| pick(c, &["name", "image", "lastStatus", "reason", "exitCode"]))
        .collect();
    kept_detail["containers"] = Value::Array(containers);
    kept["detail"] = kept_detail;
    kept
}

fn eni_details(attachments: &[Attachment]) -> (Option<String>, Option<IpAddr>) {
    // Events name the task's ENI attachment `eni`; DescribeTasks, `ElasticNetworkInterface`.
    let Some(eni) = attachments.iter().find(|a| {
        a.kind.as_deref().is_some_and(|k| {
            k.eq_ignore_ascii_case("eni") || k.eq_ignore_ascii_case("ElasticNetworkInterface")
        })
    }) else {
        return (None, None);
    };
    let detail = |wanted: &str| {
        eni.details
            .iter()
            .find(|d| d.name.as_deref() == Some(wanted))
            .and_then(|d| d.value.clone())
    };
    let ip = detail("privateIPv4Address").and_then(|v| v.trim().parse().ok());
    (detail("subnetId"), ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(detail: Value) -> String {
        json!({
            "version": "0", "id": "e1", "detail-type": "ECS Task State Change",
            "source": "aws.ecs", "account": "111122223333", "time": "2026-11-27T10:00:00Z",
            "region": "ap-northeast-2", "resources": ["arn:aws:ecs:ap-northeast-2:111122223333:task/prod/abc"],
            "detail": detail
        })
        .to_string()
    }

    #[test]
    fn a_failure_whose_identity_does_not_hold_together_is_refused() {
        let failed = |arn: &str| {
            json!({"lastStatus": "STOPPED", "taskArn": arn,
                   "clusterArn": "arn:aws:ecs:ap-northeast-2:111122223333:cluster/prod",
                   "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref x"})
        };
        let ours = "arn:aws:ecs:ap-northeast-2:111122223333:task/prod/abc";
        assert!(matches!(
            parse_task_event(&envelope(failed(ours))),
            Ok(TaskEvent::PullFailure(_))
        ));
        let theirs = "arn:aws:ecs:ap-northeast-2:999988887777:task/prod/abc";
        let err = parse_task_event(&envelope(failed(theirs))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the event's identity cannot be trusted: taskArn names account 999988887777, not the event's account 111122223333"
        );
        let mut crafted: Value = serde_json::from_str(&envelope(failed(ours))).unwrap();
        crafted["region"] = "ap-northeast-2|<!channel>".into();
        let err = parse_task_event(&crafted.to_string()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the event's identity cannot be trusted: region is not a region name (such as ap-northeast-2)"
        );
        crafted["region"] = "ap-northeast-2".into();
        crafted["account"] = "1111-2222-3333".into();
        assert!(matches!(
            parse_task_event(&crafted.to_string()),
            Err(EventError::Untrusted(_))
        ));
    }

    fn failure(event: TaskEvent) -> FailedTask {
        match event {
            TaskEvent::PullFailure(task) => *task,
            other => panic!("expected a pull failure, got {other:?}"),
        }
    }

    #[test]
    fn sidecar_without_image_can_be_the_failing_container() {
        let doc = envelope(json!({
            "lastStatus": "STOPPED",
            "stoppedReason": "Task failed to start",
            "containers": [
                {"name": "app", "image": "nginx", "reason": null},
                {"name": "aws-guardduty-agent-x1", "reason": "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 593207742271.dkr.ecr.ap-northeast-2.amazonaws.com/aws-guardduty-agent-fargate:v1.5.0: dial tcp 3.36.1.2:443: i/o timeout"}
            ]
        }));
        let task = failure(parse_task_event(&doc).unwrap());
        assert_eq!(
            task.primary.container.as_deref(),
            Some("aws-guardduty-agent-x1")
        );
        assert_eq!(task.primary.image, None);
        assert_eq!(task.failing_containers.len(), 1);
    }

    #[test]
    fn task_reason_alone_is_attributed_to_the_only_container() {
        let doc = envelope(json!({
            "lastStatus": "STOPPED",
            "stoppedReason": "CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy",
            "containers": [{"name": "web", "image": "repo/web:1"}]
        }));
        let task = failure(parse_task_event(&doc).unwrap());
        assert_eq!(task.primary.container.as_deref(), Some("web"));
        assert_eq!(task.primary.image.as_deref(), Some("repo/web:1"));
    }

    #[test]
    fn ordinary_stop_is_skipped_with_its_reason() {
        let doc = envelope(json!({
            "lastStatus": "STOPPED",
            "stoppedReason": "Scaling activity initiated by (deployment ecs-svc/123)",
            "stopCode": "ServiceSchedulerInitiated"
        }));
        match parse_task_event(&doc).unwrap() {
            TaskEvent::Skipped { why, task_arn } => {
                assert!(why.contains("Scaling activity"), "{why}");
                assert!(why.contains("ServiceSchedulerInitiated"), "{why}");
                assert_eq!(
                    task_arn.as_deref(),
                    Some("arn:aws:ecs:ap-northeast-2:111122223333:task/prod/abc")
                );
            }
            other => panic!("expected skipped, got {other:?}"),
        }
    }

    #[test]
    fn running_task_is_skipped() {
        let doc = envelope(json!({"lastStatus": "RUNNING"}));
        assert!(matches!(
            parse_task_event(&doc).unwrap(),
            TaskEvent::Skipped { why, .. } if why.contains("RUNNING")
        ));
    }

    #[test]
    fn other_event_types_are_named_in_the_error() {
        let doc = json!({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {}}).to_string();
        let err = parse_task_event(&doc).unwrap_err().to_string();
        assert!(
            err.contains("aws.ec2") && err.contains("EC2 Instance State-change"),
            "{err}"
        );
    }

    #[test]
    fn non_object_detail_is_a_clear_error() {
        let doc = envelope(json!("a string"));
        let err = parse_task_event(&doc).unwrap_err();
        assert!(matches!(err, EventError::BadDetail(_)), "{err}");
    }

    #[test]
    fn non_json_and_non_eventbridge_documents_are_errors() {
        assert!(matches!(parse_task_event("{"), Err(EventError::NotJson(_))));
        assert!(matches!(
            parse_task_event("[1,2]"),
            Err(EventError::NotEventBridge(_))
        ));
        assert!(matches!(
            parse_task_event("{\"detail\": {}}"),
            Err(EventError::NotEventBridge(_))
        ));
    }

    #[test]
    fn eni_details_survive_a_malformed_ip() {
        let doc = envelope(json!({
            "lastStatus": "STOPPED",
            "stoppedReason": "CannotPullContainerError: context canceled",
            "attachments": [{"type": "eni", "status": "DELETED", "details": [
                {"name": "subnetId", "value": "subnet-1"},
                {"name": "privateIPv4Address", "value": "not-an-ip"}
            ]}]
        }));
        let task = failure(parse_task_event(&doc).unwrap());
        assert_eq!(task.subnet_id.as_deref(), Some("subnet-1"));
        assert_eq!(task.private_ipv4_address, None);
    }

    #[test]
    fn a_kept_event_diagnoses_as_the_whole_one_without_its_overrides() {
        let mut event: Value =
            serde_json::from_str(include_str!("../events/s3-route-missing.json")).unwrap();
        event["detail"]["overrides"] = json!({"containerOverrides": [{"environment": [{"name": "TOKEN", "value": "hunter2"}]}]});
        let kept = kept_for_recheck(&event);
        assert!(!kept.to_string().contains("hunter2"));
        let whole = failure(parse_task_event_value(event).unwrap());
        let again = failure(parse_task_event_value(kept).unwrap());
        assert_eq!(again.task_arn, whole.task_arn);
        assert_eq!(again.subnet_id, whole.subnet_id);
        assert_eq!(again.group, whole.group);
    }

    #[test]
    fn a_described_tasks_eni_attachment_is_read_as_an_events() {
        let doc = envelope(json!({
            "lastStatus": "STOPPED",
            "stoppedReason": "CannotPullContainerError: context canceled",
            "attachments": [{"type": "ElasticNetworkInterface", "status": "DELETED", "details": [
                {"name": "subnetId", "value": "subnet-2"},
                {"name": "privateIPv4Address", "value": "10.0.1.9"}
            ]}]
        }));
        let task = failure(parse_task_event(&doc).unwrap());
        assert_eq!(task.subnet_id.as_deref(), Some("subnet-2"));
        assert_eq!(task.private_ipv4_address, Some("10.0.1.9".parse().unwrap()));
    }
}
