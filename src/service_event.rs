//! ECS service events (`ECS Service Action`, `ECS Deployment State Change`): what they say
//! about a service whose tasks could not pull, so an open incident can be closed when the
//! service recovers.
//!
//! Pure. The service is named by `resources[0]` (`arn:aws:ecs:R:A:service/CLUSTER/NAME`);
//! deployment events carry no `clusterArn`, so the cluster comes from that ARN (a service ARN
//! of the old format, without the cluster, needs the detail's `clusterArn`). Like every
//! event, its account, region and ARNs must agree before anything is looked up.

use serde_json::Value;

use crate::untrusted;

/// The EventBridge `detail-type`s read here.
pub const SERVICE_ACTION: &str = "ECS Service Action";
pub const DEPLOYMENT_STATE_CHANGE: &str = "ECS Deployment State Change";

/// The event names that change an incident (the recovery rule's pattern matches these).
pub const INCIDENT_EVENT_NAMES: [&str; 5] = [
    "SERVICE_TASK_START_IMPAIRED",
    "SERVICE_STEADY_STATE",
    "SERVICE_DEPLOYMENT_COMPLETED",
    "SERVICE_DEPLOYMENT_FAILED",
    "SERVICE_DEPLOYMENT_IN_PROGRESS",
];

/// What happened to the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceChange {
    /// `SERVICE_TASK_START_IMPAIRED`: the service's tasks keep failing to start (the event
    /// names no task and no cause).
    StartImpaired,
    /// `SERVICE_STEADY_STATE`: the service runs the tasks it wants.
    SteadyState,
    /// `SERVICE_DEPLOYMENT_COMPLETED`: a deployment (or a rollback) finished.
    DeploymentCompleted,
    /// `SERVICE_DEPLOYMENT_FAILED`: the circuit breaker stopped the deployment.
    DeploymentFailed,
    /// `SERVICE_DEPLOYMENT_IN_PROGRESS` of a rollback ("rolling back to deploymentId …"),
    /// with the deployment it returns to when the reason names one of ECS's shape.
    RollingBack { to: Option<String> },
    /// Any other event name: nothing to do for an incident yet.
    Other(String),
}

impl ServiceChange {
    /// Whether the service is healthy again: what closes an incident.
    pub fn recovered(&self) -> bool {
        matches!(
            self,
            ServiceChange::SteadyState | ServiceChange::DeploymentCompleted
        )
    }

    /// Whether ECS gave up on the deployment: the old revision runs, the incident is
    /// mitigated, not fixed.
    pub fn mitigates(&self) -> bool {
        matches!(
            self,
            ServiceChange::DeploymentFailed | ServiceChange::RollingBack { .. }
        )
    }
}

/// The deployment a rollback's reason names (`… rolling back to deploymentId ecs-svc/N.`).
fn rollback_target(reason: &str) -> Option<String> {
    let (_, rest) = reason.split_once("rolling back to deploymentId ")?;
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '-')
        .collect();
    let digits = id.strip_prefix("ecs-svc/")?;
    (!digits.is_empty() && digits.len() <= 32 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(id)
}

/// One service event, its identity checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEvent {
    pub event_name: String,
    pub change: ServiceChange,
    pub account: String,
    pub region: String,
    pub cluster_arn: String,
    pub service_name: String,
    /// `deploymentId`, on deployment events.
    pub deployment_id: Option<String>,
    /// ECS's own words (`reason`), on deployment events.
    pub reason: Option<String>,
}

impl ServiceEvent {
    /// The task group of the service's tasks, as task events name it.
    pub fn group(&self) -> String {
        format!("service:{}", self.service_name)
    }
}

/// Why a service event cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceEventError {
    #[error("the service event has no {0}")]
    Missing(&'static str),
    #[error("resources[0] is not an ECS service ARN")]
    NotAServiceArn,
    #[error("the event's identity cannot be trusted: {0}")]
    Untrusted(crate::trust::Untrusted),
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key)?.as_str().filter(|s| !s.is_empty())
}

/// Reads a service event (`lambda::preflight::invocation` tells them apart by `detail-type`).
pub fn parse_service_event(payload: &Value) -> Result<ServiceEvent, ServiceEventError> {
    let detail = payload.get("detail").unwrap_or(&Value::Null);
    let event_name = text(detail, "eventName").ok_or(ServiceEventError::Missing("eventName"))?;
    let account = text(payload, "account").ok_or(ServiceEventError::Missing("account"))?;
    let region = text(payload, "region").ok_or(ServiceEventError::Missing("region"))?;
    let service_arn = payload
        .get("resources")
        .and_then(|r| r.get(0))
        .and_then(Value::as_str)
        .ok_or(ServiceEventError::Missing("resources"))?;
    let cluster_from_detail = text(detail, "clusterArn");
    crate::trust::check_identity(
        Some(account),
        Some(region),
        &[
            ("resources[0]", Some(service_arn)),
            ("clusterArn", cluster_from_detail),
        ],
    )
    .map_err(ServiceEventError::Untrusted)?;
    let (_, resource) = service_arn
        .split_once(":service/")
        .ok_or(ServiceEventError::NotAServiceArn)?;
    let (cluster_arn, service_name) = match resource.split_once('/') {
        Some((cluster, name)) if !cluster.is_empty() && !name.is_empty() => (
            format!("arn:aws:ecs:{region}:{account}:cluster/{cluster}"),
            name,
        ),
        _ if !resource.is_empty() => (
            cluster_from_detail
                .ok_or(ServiceEventError::Missing("clusterArn"))?
                .to_string(),
            resource,
        ),
        _ => return Err(ServiceEventError::NotAServiceArn),
    };
    let change = match event_name {
        "SERVICE_TASK_START_IMPAIRED" => ServiceChange::StartImpaired,
        "SERVICE_STEADY_STATE" => ServiceChange::SteadyState,
        "SERVICE_DEPLOYMENT_COMPLETED" => ServiceChange::DeploymentCompleted,
        "SERVICE_DEPLOYMENT_FAILED" => ServiceChange::DeploymentFailed,
        "SERVICE_DEPLOYMENT_IN_PROGRESS"
            if text(detail, "reason").is_some_and(|r| r.contains("rolling back to")) =>
        {
            ServiceChange::RollingBack {
                to: text(detail, "reason").and_then(rollback_target),
            }
        }
        other => ServiceChange::Other(untrusted::one_line(other, 64)),
    };
    let field = |key| text(detail, key).map(|t| untrusted::one_line(t, untrusted::MAX_NAME_BYTES));
    Ok(ServiceEvent {
        event_name: untrusted::one_line(event_name, 64),
        change,
        account: account.to_string(),
        region: region.to_string(),
        cluster_arn: untrusted::one_line(&cluster_arn, untrusted::MAX_NAME_BYTES),
        service_name: untrusted::one_line(service_name, untrusted::MAX_NAME_BYTES),
        deployment_id: field("deploymentId"),
        reason: field("reason"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(detail_type: &str, detail: Value) -> Value {
        json!({"version": "0", "id": "e1", "detail-type": detail_type, "source": "aws.ecs",
               "account": "111122223333", "time": "2026-12-06T10:00:00Z", "region": "ap-northeast-2",
               "resources": ["arn:aws:ecs:ap-northeast-2:111122223333:service/prod/web"],
               "detail": detail})
    }

    #[test]
    fn a_steady_state_names_the_service_and_its_cluster() {
        let event = envelope(
            SERVICE_ACTION,
            json!({"eventType": "INFO", "eventName": "SERVICE_STEADY_STATE",
                   "clusterArn": "arn:aws:ecs:ap-northeast-2:111122223333:cluster/prod"}),
        );
        let parsed = parse_service_event(&event).unwrap();
        assert_eq!(parsed.change, ServiceChange::SteadyState);
        assert!(parsed.change.recovered());
        assert_eq!(
            parsed.cluster_arn,
            "arn:aws:ecs:ap-northeast-2:111122223333:cluster/prod"
        );
        assert_eq!(parsed.group(), "service:web");
    }

    #[test]
    fn a_deployment_event_takes_its_cluster_from_the_service_arn() {
        let event = envelope(
            DEPLOYMENT_STATE_CHANGE,
            json!({"eventType": "INFO", "eventName": "SERVICE_DEPLOYMENT_COMPLETED",
                   "deploymentId": "ecs-svc/1234567890123456789", "reason": "ECS deployment ecs-svc/1234567890123456789 completed."}),
        );
        let parsed = parse_service_event(&event).unwrap();
        assert_eq!(parsed.change, ServiceChange::DeploymentCompleted);
        assert_eq!(
            parsed.cluster_arn,
            "arn:aws:ecs:ap-northeast-2:111122223333:cluster/prod"
        );
        assert_eq!(
            parsed.deployment_id.as_deref(),
            Some("ecs-svc/1234567890123456789")
        );
        let failed = envelope(
            DEPLOYMENT_STATE_CHANGE,
            json!({"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED"}),
        );
        let failed = parse_service_event(&failed).unwrap();
        assert!(!failed.change.recovered());
        assert!(failed.change.mitigates());
        let rolling: Value = serde_json::from_str(include_str!(
            "../tests/fixtures/service-events/deployment-rolling-back.json"
        ))
        .unwrap();
        assert_eq!(
            parse_service_event(&rolling).unwrap().change,
            ServiceChange::RollingBack {
                to: Some("ecs-svc/2958317640482917356".into())
            }
        );
        assert_eq!(
            rollback_target("rolling back to deploymentId ecs-svc/1; rm -rf"),
            Some("ecs-svc/1".into())
        );
        assert_eq!(rollback_target("rolling back to deploymentId <@U1>"), None);
        let progress: Value = serde_json::from_str(include_str!(
            "../tests/fixtures/service-events/deployment-in-progress.json"
        ))
        .unwrap();
        assert!(!parse_service_event(&progress).unwrap().change.mitigates());
    }

    #[test]
    fn another_accounts_service_or_a_missing_account_is_refused() {
        let mut event = envelope(SERVICE_ACTION, json!({"eventName": "SERVICE_STEADY_STATE"}));
        event["resources"] = json!(["arn:aws:ecs:ap-northeast-2:999988887777:service/prod/web"]);
        assert!(matches!(
            parse_service_event(&event),
            Err(ServiceEventError::Untrusted(_))
        ));
        event.as_object_mut().unwrap().remove("account");
        assert_eq!(
            parse_service_event(&event),
            Err(ServiceEventError::Missing("account"))
        );
        let mut old_format = envelope(SERVICE_ACTION, json!({"eventName": "SERVICE_STEADY_STATE"}));
        old_format["resources"] = json!(["arn:aws:ecs:ap-northeast-2:111122223333:service/web"]);
        assert_eq!(
            parse_service_event(&old_format),
            Err(ServiceEventError::Missing("clusterArn"))
        );
    }
}
