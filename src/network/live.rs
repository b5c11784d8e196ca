//! Live inspection: fills the [`NetworkView`] from AWS with `aws-sdk-ec2` and `aws-sdk-ecs`.
//! The only module that calls AWS.
//!
//! It reads only what the rules need, in two rounds: the task's subnet (which names the VPC)
//! and the ECS service; then, concurrently, every VPC-scoped part, the endpoints' network
//! interfaces among them (`interface-type=vpc_endpoint`). An endpoint interface that query
//! did not return (emulators type them otherwise) is read by ID in a third round. Filters
//! that AWS or its emulators do not support everywhere (`route.destination-prefix-list-id`…)
//! are applied on the client side. A call that fails leaves its part absent and records an
//! [`InspectionError`] naming the IAM action, so the rest of the diagnosis still runs.
//!
//! The VPC's CIDRs are read from the route tables' `local` routes (one per associated CIDR),
//! which saves a `DescribeVpcs` call.

mod convert;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata};

use super::{ContainerInstance, EcsService, InspectionError, NetworkView, Reservation};

/// Reads every page of a paginated Describe call, counting each page as a call, and maps
/// the items to the model; a failure becomes the part's [`InspectionError`].
macro_rules! read_all {
    ($counter:expr, $part:literal, $action:literal, $request:expr, $page_size:expr, $items:ident, $convert:path) => {
        async {
            let mut pages = $request.into_paginator().page_size($page_size).send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                $counter.add();
                let page = page.map_err(|e| failure($part, $action, &e))?;
                out.extend(page.$items().iter().map($convert));
            }
            Ok::<_, InspectionError>(out)
        }
    };
}

mod account;
mod members;
mod tasks;
mod vpc;

pub use account::{inspect_account, service_revision, AccountTarget, Progress};
pub use members::{
    account_name, accounts_under, organization_accounts, own_account, AssumeError, MemberRoles,
    MEMBER_IAM_ACTIONS, RENEW_BEFORE, SWEEP_DISCOVERY_IAM_ACTIONS,
};
pub use tasks::{described_task, newest_stopped_task};

/// Every call gets this long in all, retries included.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);
/// One attempt of a call.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(8);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The read-only API calls the inspection and the audit make, as IAM actions. The SAM
/// template's policy and docs/diagnosing.md are checked against this list.
pub const IAM_ACTIONS: &[&str] = &[
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeRouteTables",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeNatGateways",
    "ec2:DescribeInternetGateways",
    "ec2:DescribePrefixLists",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeInstances",
    "ecs:DescribeServices",
    "ecs:DescribeContainerInstances",
    "ecs:ListClusters",
    "ecs:ListServices",
    "ecs:DescribeTaskDefinition",
    "ecs:ListContainerInstances",
    "ecs:DescribeServiceRevisions",
    "ecs:DescribeCapacityProviders",
    "ecs:ListTasks",
    "ecs:DescribeTasks",
];

/// The AWS clients, built once and shared.
#[derive(Clone, Debug)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub ecs: aws_sdk_ecs::Client,
}

impl Clients {
    pub fn new(config: &aws_config::SdkConfig) -> Clients {
        Clients {
            ec2: aws_sdk_ec2::Client::new(config),
            ecs: aws_sdk_ecs::Client::new(config),
        }
    }
}

/// The standard AWS configuration (credentials chain, `AWS_PROFILE`, `AWS_ENDPOINT_URL`,
/// `AWS_MAX_ATTEMPTS`…), with the region given (the event's) and this tool's timeouts.
pub async fn load_config(region: Option<&str>) -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(OPERATION_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts);
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    loader.load().await
}

/// What to inspect.
#[derive(Debug, Clone)]
pub struct Target {
    /// The task's own ENI subnet (awsvpc), when it has one.
    pub subnet_id: Option<String>,
    /// The task's ECS service (cluster name or ARN, service name), when it has one.
    pub service: Option<(String, String)>,
    /// On the EC2 launch type and ECS Managed Instances: (cluster, container instance ARN),
    /// whose EC2 instance pulls the image; its subnet is the one inspected.
    pub container_instance: Option<(String, String)>,
}

impl Target {
    /// The failed task's subnet, service and container instance; `None` when the event names
    /// neither a subnet nor a container instance.
    pub fn for_task(task: &crate::event::FailedTask) -> Option<Target> {
        let service = match (task.cluster_arn.clone(), task.service_name()) {
            (Some(cluster), Some(service)) => Some((cluster, service.to_string())),
            _ => None,
        };
        let container_instance = match (&task.cluster_arn, &task.container_instance_arn) {
            (Some(cluster), Some(arn)) if task.pulled_by_instance() => {
                Some((cluster.clone(), arn.clone()))
            }
            _ => None,
        };
        if task.subnet_id.is_none() && container_instance.is_none() {
            return None;
        }
        Some(Target {
            subnet_id: task.subnet_id.clone(),
            service,
            container_instance,
        })
    }
}

/// The view and what it cost.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub view: NetworkView,
    /// API requests made (each page counts).
    pub calls: usize,
    /// Sequential rounds of requests.
    pub rounds: usize,
}

/// Why inspection could not start at all (everything else is recorded in the view).
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("cannot read subnet {subnet}: {message} (needs ec2:DescribeSubnets)")]
    Subnet {
        subnet: String,
        message: String,
        /// Throttling, a timeout, a 5xx: trying again later may succeed (a denial will not).
        transient: bool,
    },
    #[error("subnet {0} does not exist in this account and region")]
    SubnetNotFound(String),
    #[error("the container instance's subnet could not be learned and the task has no ENI of its own (ecs:DescribeContainerInstances, ec2:DescribeInstances)")]
    NoSubnet,
}

struct Counter(AtomicUsize);

impl Counter {
    fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn failure<E, R>(
    part: &str,
    action: &str,
    err: &aws_sdk_ec2::error::SdkError<E, R>,
) -> InspectionError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    InspectionError {
        part: part.to_string(),
        action: action.to_string(),
        message: error_text(err),
        scope: None,
    }
}

/// What an AWS call's failure says, for logs and posts, from any service's SDK (they share
/// one error type): AWS's code and message, or what happened without one.
pub(crate) fn error_text<E, R>(err: &aws_sdk_ec2::error::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_ec2::error::SdkError;
    let message = match (err.code(), err) {
        (Some(code), _) => format!("{code}: {}", err.message().unwrap_or("")),
        // The SDK's text of an answer it could not read quotes the answer, which may hold
        // task data (environment values, overrides), or a whole error page: never shown.
        (None, SdkError::ResponseError(_)) => "the answer could not be read".to_string(),
        (None, SdkError::ServiceError(_)) => {
            "an error answer without an AWS error code (a server error)".to_string()
        }
        (None, SdkError::TimeoutError(_)) => "no answer in time".to_string(),
        // The causes' words, not their debug dumps: "tcp connect error: Connection refused".
        (None, SdkError::DispatchFailure(_)) => {
            let mut said: Vec<String> = Vec::new();
            let mut cause = std::error::Error::source(err);
            while let Some(inner) = cause {
                let text = inner.to_string();
                if !text.is_empty() && !said.iter().any(|s| s.contains(&text)) {
                    said.push(text);
                }
                cause = inner.source();
            }
            format!("cannot connect ({})", said.join(": "))
        }
        (None, _) => DisplayErrorContext(err).to_string(),
    };
    message.trim_end_matches([' ', ':']).to_string()
}

/// Whether a failed call may succeed if made again later.
fn is_transient<E>(err: &aws_sdk_ec2::error::SdkError<E>) -> bool
where
    E: ProvideErrorMetadata,
{
    use aws_sdk_ec2::error::SdkError;
    const THROTTLING: &[&str] = &[
        "RequestLimitExceeded",
        "Throttling",
        "ThrottlingException",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "Unavailable",
    ];
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            service.raw().status().is_server_error()
                || err.code().is_some_and(|code| THROTTLING.contains(&code))
        }
        _ => false,
    }
}

/// Reads the network of `target` from AWS.
pub async fn inspect(clients: &Clients, target: &Target) -> Result<Inspection, LiveError> {
    let counter = Counter(AtomicUsize::new(0));
    let mut errors: Vec<InspectionError> = Vec::new();
    let mut rounds = 0;

    // On the EC2 launch type the instance pulls: two rounds find it and its subnet first.
    let mut instance_parts = None;
    let mut subnet_id = target.subnet_id.clone();
    if let Some((cluster, arn)) = &target.container_instance {
        rounds += 2;
        match container_instance(clients, cluster, arn, &counter).await {
            Ok((instances, reservations)) => {
                let subnet = reservations
                    .iter()
                    .flat_map(|r| r.instances.iter())
                    .find_map(|i| i.pulling_interface().subnet_id);
                subnet_id = subnet.or(subnet_id);
                instance_parts = Some((instances, reservations));
            }
            Err(error) => errors.push(error),
        }
    }
    let Some(subnet_id) = subnet_id else {
        return Err(LiveError::NoSubnet);
    };

    // Round 1: the subnet names the VPC; the service is independent of it.
    let (subnet, services) = tokio::join!(
        async {
            counter.add();
            clients
                .ec2
                .describe_subnets()
                .subnet_ids(&subnet_id)
                .send()
                .await
        },
        describe_service(clients, target, &counter)
    );
    let subnet = match subnet {
        Ok(out) => out.subnets().first().cloned(),
        Err(err) if err.code() == Some("InvalidSubnetID.NotFound") => None,
        Err(err) => {
            return Err(LiveError::Subnet {
                subnet: subnet_id.clone(),
                message: failure("Subnets", "ec2:DescribeSubnets", &err).message,
                transient: is_transient(&err),
            })
        }
    };
    let Some(subnet) = subnet else {
        return Err(LiveError::SubnetNotFound(subnet_id.clone()));
    };
    let subnet = convert::subnet(&subnet);
    let vpc_id = subnet.vpc_id.clone().unwrap_or_default();
    let services = match services {
        Ok(services) => services,
        Err(error) => {
            errors.push(error);
            None
        }
    };

    // Round 2: everything the rules read about the VPC, concurrently (a third round only
    // for endpoint interfaces the typed query missed).
    let (vpc, prefix_lists) = tokio::join!(
        vpc::read_vpcs(&clients.ec2, std::slice::from_ref(&vpc_id), &counter),
        vpc::read_prefix_lists(&clients.ec2, &counter)
    );
    let (vpc, vpc_rounds) = vpc;
    rounds += 1 + vpc_rounds;
    let prefix_lists = keep(prefix_lists, &mut errors);
    errors.extend(vpc.inspection_errors.clone().into_iter().flatten());

    let view = NetworkView {
        subnets: Some(vec![subnet]),
        prefix_lists,
        services,
        container_instances: instance_parts.as_ref().map(|(c, _)| c.clone()),
        reservations: instance_parts.map(|(_, r)| r),
        inspection_errors: (!errors.is_empty()).then_some(errors),
        ..vpc
    };
    Ok(Inspection {
        view,
        calls: counter.0.load(Ordering::Relaxed),
        rounds,
    })
}

/// A part that was read, or `None` with its error recorded.
fn keep<T>(
    result: Result<Vec<T>, InspectionError>,
    errors: &mut Vec<InspectionError>,
) -> Option<Vec<T>> {
    match result {
        Ok(items) => Some(items),
        Err(error) => {
            errors.push(error);
            None
        }
    }
}

/// The container instance and its EC2 instance: `DescribeContainerInstances`, then
/// `DescribeInstances` of the instance it names.
async fn container_instance(
    clients: &Clients,
    cluster: &str,
    arn: &str,
    counter: &Counter,
) -> Result<(Vec<ContainerInstance>, Vec<Reservation>), InspectionError> {
    counter.add();
    let out = clients
        .ecs
        .describe_container_instances()
        .cluster(cluster)
        .container_instances(arn)
        .send()
        .await
        .map_err(|e| failure("ContainerInstances", "ecs:DescribeContainerInstances", &e))?;
    let instances: Vec<ContainerInstance> = out
        .container_instances()
        .iter()
        .map(convert::container_instance)
        .collect();
    let ids: Vec<String> = instances
        .iter()
        .filter_map(|c| c.ec2_instance_id.clone())
        .collect();
    if ids.is_empty() {
        return Ok((instances, Vec::new()));
    }
    counter.add();
    let reservations = clients
        .ec2
        .describe_instances()
        .set_instance_ids(Some(ids))
        .send()
        .await
        .map_err(|e| failure("Reservations", "ec2:DescribeInstances", &e))?
        .reservations()
        .iter()
        .map(convert::reservation)
        .collect();
    Ok((instances, reservations))
}

/// `DescribeServices` for the task's service; `Ok(None)` for a standalone task.
async fn describe_service(
    clients: &Clients,
    target: &Target,
    counter: &Counter,
) -> Result<Option<Vec<EcsService>>, InspectionError> {
    let Some((cluster, service)) = &target.service else {
        return Ok(None);
    };
    counter.add();
    let out = clients
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| failure("Services", "ecs:DescribeServices", &e))?;
    Ok(Some(
        out.services().iter().map(convert::ecs_service).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::error::SdkError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::error_text;

    fn answer(status: u16, body: &str) -> Response {
        Response::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(body.to_string()),
        )
    }

    #[test]
    fn an_aws_error_is_its_code_and_message_and_an_error_page_is_never_quoted() {
        let throttled = SdkError::service_error(
            ErrorMetadata::builder()
                .code("ThrottlingException")
                .message("Rate exceeded")
                .build(),
            answer(400, "{}"),
        );
        assert_eq!(error_text(&throttled), "ThrottlingException: Rate exceeded");
        let page = "<!doctype html><title>500 Internal Server Error</title>";
        let server_error =
            SdkError::service_error(ErrorMetadata::builder().build(), answer(500, page));
        let text = error_text(&server_error);
        assert!(!text.contains("doctype"), "{text}");
        assert!(text.contains("without an AWS error code"), "{text}");
    }
}
