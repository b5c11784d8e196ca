//! Where a diagnosis or an audit gets its network view from: a recorded snapshot, or live
//! inspection in the task's own region and, for a central function, the task's own account
//! (through the member role). The one place that chooses, so the CLI and the Lambda do not
//! each decide about regions, accounts and retries.

use std::borrow::Cow;
use std::time::SystemTime;

use super::live::{self, AssumeError, Clients, LiveError, MemberRoles};
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
    /// EC2 and ECS with these credentials; `sdk` builds clients for another region, and
    /// `members` for another account.
    Live {
        sdk: Box<aws_config::SdkConfig>,
        clients: Box<Clients>,
        members: Option<Box<Members>>,
        /// Clients built for another (account, region), reused while their credentials last
        /// (`None`: the function's own, which do not expire here).
        others: Box<tokio::sync::Mutex<OtherClients>>,
        /// The account the credentials are in: learned from the invocation (the function's
        /// ARN) or, on first need, from `sts:GetCallerIdentity`, never at start-up.
        own_account: Box<tokio::sync::OnceCell<String>>,
    },
}

/// How long the calls about who is who (`sts:GetCallerIdentity` for the caller's own
/// account, `organizations:DescribeAccount` for a name) may take before the answer counts as
/// unknown for this use (and is asked again on the next).
pub const IDENTITY_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

type OtherClients =
    std::collections::HashMap<(Option<String>, Option<String>), (Clients, Option<SystemTime>)>;

/// Member accounts, reached through their role.
#[derive(Debug)]
pub struct Members {
    pub roles: MemberRoles,
    /// Account names looked up so far (`None`: looked up, not found or not permitted).
    pub names: tokio::sync::Mutex<std::collections::HashMap<String, Option<String>>>,
}

/// Why there is no view for a task.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Throttling, a timeout, a 5xx on the call everything depends on: trying again later
    /// may succeed.
    #[error("ec2:DescribeSubnets for {subnet} failed ({message})")]
    Transient { subnet: String, message: String },
    /// The member account's role could not be assumed.
    #[error(transparent)]
    Assume(AssumeError),
    /// Nothing to retry: the diagnosis goes on without a view, and this says why.
    #[error("{}", .0.en)]
    Unavailable(Localized),
}

impl SourceError {
    pub fn retryable(&self) -> bool {
        match self {
            SourceError::Transient { .. } => true,
            SourceError::Assume(err) => err.retryable(),
            SourceError::Unavailable(_) => false,
        }
    }
}

impl NetworkSource {
    pub fn live(sdk: aws_config::SdkConfig, members: Option<Members>) -> NetworkSource {
        NetworkSource::Live {
            clients: Box::new(Clients::new(&sdk)),
            sdk: Box::new(sdk),
            members: members.map(Box::new),
            others: Default::default(),
            own_account: Default::default(),
        }
    }

    /// Records the caller's own account when something trustworthy names it (the Runtime
    /// API's invoked function ARN); a 12-digit ID only, and only the first.
    pub fn learn_own_account(&self, account: &str) {
        if let NetworkSource::Live { own_account, .. } = self {
            if crate::trust::is_account_id(account) {
                let _ = own_account.set(account.to_string());
            }
        }
    }

    /// The account the live credentials are in, learned once; `Err` says why it is not known
    /// (STS failed or did not answer within [`IDENTITY_CALL_TIMEOUT`]). `Ok(None)` for a
    /// snapshot.
    pub async fn own_account(&self) -> Result<Option<&str>, AssumeError> {
        let NetworkSource::Live {
            sdk, own_account, ..
        } = self
        else {
            return Ok(None);
        };
        own_account
            .get_or_try_init(|| async {
                match tokio::time::timeout(IDENTITY_CALL_TIMEOUT, live::own_account(sdk)).await {
                    Ok(Some(id)) if crate::trust::is_account_id(&id) => Ok(id),
                    Ok(_) => Err(AssumeError::OwnAccountUnknown(
                        "sts:GetCallerIdentity failed".into(),
                    )),
                    Err(_) => Err(AssumeError::OwnAccountUnknown(format!(
                        "sts:GetCallerIdentity did not answer within {} s",
                        IDENTITY_CALL_TIMEOUT.as_secs()
                    ))),
                }
            })
            .await
            .map(|id| Some(id.as_str()))
    }

    /// The name of a member account, looked up once (`organizations:DescribeAccount`) and
    /// remembered, found or not; `None` outside central mode.
    pub async fn account_name(&self, account: &str) -> Option<String> {
        let NetworkSource::Live {
            sdk,
            members: Some(members),
            ..
        } = self
        else {
            return None;
        };
        let mut names = members.names.lock().await;
        if let Some(known) = names.get(account) {
            return known.clone();
        }
        // A name is a nicety: an Organizations call that hangs is not waited for (and is
        // asked again next time), so the alert still goes out.
        let name =
            tokio::time::timeout(IDENTITY_CALL_TIMEOUT, live::account_name(sdk, account)).await;
        let name = name.ok()?;
        names.insert(account.to_string(), name.clone());
        name
    }

    /// The member roles, when the source reaches other accounts.
    pub fn members(&self) -> Option<&Members> {
        match self {
            NetworkSource::Live { members, .. } => members.as_deref(),
            NetworkSource::Snapshot(_) => None,
        }
    }

    /// The clients for `account` in `region`: the home clients when both are theirs (or not
    /// given), else clients with the member role's credentials and/or for that region.
    /// `None` for a snapshot.
    pub async fn clients(
        &self,
        account: Option<&str>,
        region: Option<&str>,
    ) -> Option<Result<Cow<'_, Clients>, AssumeError>> {
        let NetworkSource::Live {
            sdk,
            clients,
            members,
            others,
            ..
        } = self
        else {
            return None;
        };
        let other_region = region.filter(|r| sdk.region().map(|h| h.as_ref()) != Some(*r));
        let member = match (members, account) {
            (Some(m), Some(a)) => match self.own_account().await {
                Ok(own) if own == Some(a) => None,
                Ok(_) => Some((m, a)),
                Err(err) => return Some(Err(err)),
            },
            _ => None,
        };
        if other_region.is_none() && member.is_none() {
            return Some(Ok(Cow::Borrowed(clients.as_ref())));
        }
        let key = (
            member.map(|(_, a)| a.to_string()),
            other_region.map(str::to_string),
        );
        let mut others = others.lock().await;
        let usable = |expires: &Option<SystemTime>| {
            expires.is_none_or(|at| {
                at.duration_since(SystemTime::now())
                    .is_ok_and(|left| left > live::RENEW_BEFORE)
            })
        };
        if let Some((cached, _)) = others.get(&key).filter(|(_, e)| usable(e)) {
            return Some(Ok(Cow::Owned(cached.clone())));
        }
        let (mut config, expires) = match member {
            Some((m, account)) => match m.roles.config_for(sdk, account).await {
                Ok((config, expires)) => (config, Some(expires)),
                Err(err) => return Some(Err(err)),
            },
            None => (sdk.as_ref().clone(), None),
        };
        if let Some(region) = other_region {
            config = config
                .to_builder()
                .region(aws_config::Region::new(region.to_string()))
                .build();
        }
        let built = Clients::new(&config);
        others.insert(key, (built.clone(), expires));
        Some(Ok(Cow::Owned(built)))
    }

    /// The SDK configuration of the live source (the function's own credentials).
    pub fn sdk(&self) -> Option<&aws_config::SdkConfig> {
        match self {
            NetworkSource::Live { sdk, .. } => Some(sdk),
            NetworkSource::Snapshot(_) => None,
        }
    }

    /// The region the live clients call, when they are live.
    pub fn home_region(&self) -> Option<String> {
        match self {
            NetworkSource::Live { sdk, .. } => sdk.region().map(|r| r.to_string()),
            NetworkSource::Snapshot(view) => view.region(),
        }
    }

    /// What an audit of `target` in `account` and `region` reads: the snapshot itself, or the
    /// account read live, with what the read cost (calls, sequential rounds).
    pub async fn for_audit(
        &self,
        target: &live::AccountTarget,
        account: Option<&str>,
        region: Option<&str>,
        progress: live::Progress<'_>,
    ) -> Result<(Cow<'_, NetworkView>, Option<(usize, usize)>), AssumeError> {
        match self.clients(account, region).await {
            None => {
                let NetworkSource::Snapshot(view) = self else {
                    unreachable!("only a snapshot has no clients")
                };
                Ok((Cow::Borrowed(view.as_ref()), None))
            }
            Some(clients) => {
                let clients = clients?;
                let inspection = live::inspect_account(&clients, target, progress).await;
                Ok((
                    Cow::Owned(inspection.view),
                    Some((inspection.calls, inspection.rounds)),
                ))
            }
        }
    }

    /// The newest stopped task of `service` in `cluster_arn` (as a Task State Change event's
    /// `detail`), read in `account` and `region`; `Ok(None)` when none is left.
    pub async fn newest_stopped_task(
        &self,
        account: &str,
        region: &str,
        cluster_arn: &str,
        service: &str,
    ) -> Result<Option<serde_json::Value>, SourceError> {
        let clients = match self.clients(Some(account), Some(region)).await {
            None => {
                return Err(SourceError::Unavailable(t!(
                    "the service's stopped tasks: a network snapshot holds no tasks",
                    "서비스의 중지된 태스크: 네트워크 스냅샷에는 태스크가 없습니다"
                )))
            }
            Some(Ok(clients)) => clients,
            Some(Err(err)) if err.retryable() => return Err(SourceError::Assume(err)),
            Some(Err(err)) => {
                return Err(SourceError::Unavailable(t!(
                    "the service's stopped tasks: {err}",
                    "서비스의 중지된 태스크: {err}",
                    err = err.to_string()
                )))
            }
        };
        live::newest_stopped_task(&clients, cluster_arn, service)
            .await
            .map_err(|err| {
                SourceError::Unavailable(t!(
                    "the service's stopped tasks could not be read ({action}: {message})",
                    "서비스의 중지된 태스크를 읽지 못했습니다 ({action}: {message})",
                    action = err.action,
                    message = err.message
                ))
            })
    }

    /// The view of `task`'s network. Events are inspected in their own region and account:
    /// EventBridge delivers a region's events in that region and account, but a forwarded
    /// one may come from another.
    pub async fn for_task(&self, task: &FailedTask) -> Result<Cow<'_, NetworkView>, SourceError> {
        if let NetworkSource::Snapshot(view) = self {
            return Ok(Cow::Borrowed(view.as_ref()));
        }
        let Some(target) = live::Target::for_task(task) else {
            return Err(SourceError::Unavailable(t!(
                "the task's network: the event names neither an ENI subnet nor a container instance",
                "태스크 네트워크: 이벤트에 ENI 서브넷도 컨테이너 인스턴스도 없습니다"
            )));
        };
        let region = task_region(task);
        let clients = match self
            .clients(task.account.as_deref(), region.as_deref())
            .await
        {
            Some(Ok(clients)) => clients,
            Some(Err(err)) if err.retryable() => return Err(SourceError::Assume(err)),
            Some(Err(err)) => {
                return Err(SourceError::Unavailable(t!(
                    "the task's network: {err}",
                    "태스크 네트워크: {err}",
                    err = err.to_string()
                )))
            }
            None => unreachable!("a snapshot returned above"),
        };
        match live::inspect(&clients, &target).await {
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
