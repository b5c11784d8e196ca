//! The newest stopped task of a service, for an `ECS Service Action`
//! `SERVICE_TASK_START_IMPAIRED` event (which names no task and no cause): `ListTasks` with
//! `desiredStatus=STOPPED`, then `DescribeTasks`, shaped as the `detail` of the `ECS Task
//! State Change` event ECS sent when it stopped, so the diagnosis reads it like any other.
//!
//! One named task is read the same way for `diagnose --task`.
//!
//! ECS keeps a stopped task visible for about an hour; `Ok(None)` says none is left.

use aws_sdk_ecs::types::Task;
use serde_json::{json, Map, Value};

use super::{failure, Clients};
use crate::network::InspectionError;

/// `ListTasks` returns at most this many a page; one page of the newest is enough.
const PAGE: i32 = 100;

/// The newest stopped task of `service` in `cluster` (its event `detail`), if any is left.
pub async fn newest_stopped_task(
    clients: &Clients,
    cluster: &str,
    service: &str,
) -> Result<Option<Value>, InspectionError> {
    let listed = clients
        .ecs
        .list_tasks()
        .cluster(cluster)
        .service_name(service)
        .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
        .max_results(PAGE)
        .send()
        .await
        .map_err(|e| failure("StoppedTasks", "ecs:ListTasks", &e))?;
    let arns = listed.task_arns();
    if arns.is_empty() {
        return Ok(None);
    }
    let described = clients
        .ecs
        .describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(arns.to_vec()))
        .send()
        .await
        .map_err(|e| failure("StoppedTasks", "ecs:DescribeTasks", &e))?;
    // Some emulators ignore `serviceName`: the group says whose task it is.
    let group = format!("service:{service}");
    let newest = described
        .tasks()
        .iter()
        .filter(|t| t.group() == Some(group.as_str()))
        .max_by_key(|t| {
            t.stopped_at()
                .or(t.stopping_at())
                .or(t.created_at())
                .map(|at| (at.secs(), at.subsec_nanos()))
        });
    Ok(newest.map(detail))
}

/// One task of `cluster` by its ID or ARN (its event `detail`); `Ok(None)` when ECS no longer
/// has it (it keeps a stopped task for about an hour).
pub async fn described_task(
    clients: &Clients,
    cluster: &str,
    task: &str,
) -> Result<Option<Value>, InspectionError> {
    let described = clients
        .ecs
        .describe_tasks()
        .cluster(cluster)
        .tasks(task)
        .send()
        .await
        .map_err(|e| failure("Task", "ecs:DescribeTasks", &e))?;
    Ok(described.tasks().first().map(detail))
}

fn time(at: Option<&aws_sdk_ecs::primitives::DateTime>) -> Option<String> {
    at.and_then(|at| {
        at.fmt(aws_sdk_ecs::primitives::DateTimeFormat::DateTime)
            .ok()
    })
}

/// `task` in the shape of a Task State Change event's `detail` (the fields the diagnosis
/// reads; absent ones left out).
fn detail(task: &Task) -> Value {
    let mut out = Map::new();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            out.insert(name.to_string(), value);
        }
    };
    let text = |s: Option<&str>| s.map(|s| Value::String(s.to_string()));
    put("taskArn", text(task.task_arn()));
    put("clusterArn", text(task.cluster_arn()));
    put("taskDefinitionArn", text(task.task_definition_arn()));
    put("containerInstanceArn", text(task.container_instance_arn()));
    put("group", text(task.group()));
    put("lastStatus", text(task.last_status()));
    put("desiredStatus", text(task.desired_status()));
    put("stoppedReason", text(task.stopped_reason()));
    put("stopCode", text(task.stop_code().map(|c| c.as_str())));
    put("launchType", text(task.launch_type().map(|l| l.as_str())));
    put("availabilityZone", text(task.availability_zone()));
    put("startedBy", text(task.started_by()));
    put("stoppedAt", time(task.stopped_at()).map(Value::String));
    let attachments: Vec<Value> = task
        .attachments()
        .iter()
        .map(|a| {
            let details: Vec<Value> = a
                .details()
                .iter()
                .map(|d| json!({"name": d.name(), "value": d.value()}))
                .collect();
            json!({"id": a.id(), "type": a.r#type(), "status": a.status(), "details": details})
        })
        .collect();
    put("attachments", Some(Value::Array(attachments)));
    let containers: Vec<Value> = task
        .containers()
        .iter()
        .map(|c| {
            json!({
                "containerArn": c.container_arn(),
                "name": c.name(),
                "image": c.image(),
                "lastStatus": c.last_status(),
                "reason": c.reason(),
                "exitCode": c.exit_code(),
            })
        })
        .collect();
    put("containers", Some(Value::Array(containers)));
    Value::Object(out)
}
