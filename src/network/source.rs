//! Where a diagnosis gets its network view from: a recorded snapshot, or live inspection in
//! the task's own region. The one place that chooses, so the CLI and the Lambda do not each
//! decide about regions and retries.

use std::borrow::Cow;

use super::live::{self, Clients, LiveError};
use super::NetworkView;
use crate::diagnose::task_region;
use crate::event::FailedTask;
use crate::localized::Localized;
use crate::t;

/// The network view's source, built once.
#[derive(Debug)]
pub enum NetworkSource {
    /// A recorded snapshot (local replay, no EC2 calls).
    Snapshot(Box<NetworkView>),
    /// EC2 and ECS with these credentials; `sdk` builds clients for another region.
    Live {
        sdk: Box<aws_config::SdkConfig>,
        clients: Box<Clients>,
    },
}

/// Why there is no view for a task.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Throttling, a timeout, a 5xx on the call everything depends on: trying again later
    /// may succeed.
    #[error("ec2:DescribeSubnets for {subnet} failed ({message})")]
    Transient { subnet: String, message: String },
    /// Nothing to retry: the diagnosis goes on without a view, and this says why.
    #[error("{}", .0.en)]
    Unavailable(Localized),
}

impl SourceError {
    pub fn retryable(&self) -> bool {
        matches!(self, SourceError::Transient { .. })
    }
}

impl NetworkSource {
    pub fn live(sdk: aws_config::SdkConfig) -> NetworkSource {
        NetworkSource::Live {
            clients: Box::new(Clients::new(&sdk)),
            sdk: Box::new(sdk),
        }
    }

    /// The clients for `region` (the home clients when it is theirs, or none is given).
    pub fn clients_for(&self, region: Option<&str>) -> Option<Cow<'_, Clients>> {
        let NetworkSource::Live { sdk, clients } = self else {
            return None;
        };
        match region.filter(|r| sdk.region().map(|h| h.as_ref()) != Some(*r)) {
            None => Some(Cow::Borrowed(clients.as_ref())),
            Some(region) => {
                let config = sdk
                    .to_builder()
                    .region(aws_config::Region::new(region.to_string()))
                    .build();
                Some(Cow::Owned(Clients::new(&config)))
            }
        }
    }

    /// The region the live clients call, when they are live.
    pub fn home_region(&self) -> Option<String> {
        match self {
            NetworkSource::Live { sdk, .. } => sdk.region().map(|r| r.to_string()),
            NetworkSource::Snapshot(view) => view.region(),
        }
    }

    /// What an audit of `target` in `region` reads: the snapshot itself, or the account read
    /// live (with its call count).
    pub async fn for_audit(
        &self,
        target: &live::AccountTarget,
        region: Option<&str>,
    ) -> (Cow<'_, NetworkView>, Option<usize>) {
        match self {
            NetworkSource::Snapshot(view) => (Cow::Borrowed(view.as_ref()), None),
            NetworkSource::Live { .. } => {
                let clients = self.clients_for(region).expect("live");
                let inspection = live::inspect_account(&clients, target, &|_, _, _| {}).await;
                (Cow::Owned(inspection.view), Some(inspection.calls))
            }
        }
    }

    /// The view of `task`'s network. Events are inspected in their own region: EventBridge
    /// delivers a region's events in that region, but a forwarded one may come from another.
    pub async fn for_task(&self, task: &FailedTask) -> Result<Cow<'_, NetworkView>, SourceError> {
        let (sdk, home_clients) = match self {
            NetworkSource::Snapshot(view) => return Ok(Cow::Borrowed(view.as_ref())),
            NetworkSource::Live { sdk, clients } => (sdk, clients),
        };
        let Some(target) = live::Target::for_task(task) else {
            return Err(SourceError::Unavailable(t!(
                "the task's network: the event names neither an ENI subnet nor a container instance",
                "태스크 네트워크: 이벤트에 ENI 서브넷도 컨테이너 인스턴스도 없습니다"
            )));
        };
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
            Ok(inspection) => Ok(Cow::Owned(inspection.view)),
            Err(LiveError::Subnet {
                transient: true,
                message,
                subnet,
            }) => Err(SourceError::Transient { subnet, message }),
            Err(err) => Err(SourceError::Unavailable(t!(
                "the task's network: {err}",
                "태스크 네트워크: {err}",
                err = err.to_string()
            ))),
        }
    }
}
