//! Member accounts: credentials from `sts:AssumeRole` of `arn:aws:iam::<account>:role/<name>`,
//! so one central function inspects the accounts whose events it receives.
//!
//! Credentials are cached per account until five minutes before they expire: a storm of
//! events from one account assumes its role once. The cache is behind an async mutex, so
//! concurrent first events from one account wait for the one call instead of each making it.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata};

/// What the central function calls to reach member accounts, as IAM actions (the template's
/// policy is checked against it).
pub const MEMBER_IAM_ACTIONS: &[&str] = &["sts:AssumeRole", "organizations:DescribeAccount"];

/// What the organisation's sweep calls to find the accounts it covers: every ACTIVE account,
/// or (with `SWEEP_OUS`) those under the units, theirs recursively.
pub const SWEEP_DISCOVERY_IAM_ACTIONS: &[&str] = &[
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListChildren",
];

/// Credentials this close to expiry are renewed first.
pub const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);

/// How the central function reaches member accounts.
#[derive(Debug)]
pub struct MemberRoles {
    role_name: String,
    external_id: Option<String>,
    session_name: String,
    cache: tokio::sync::Mutex<HashMap<String, (Credentials, SystemTime)>>,
    assumed: std::sync::atomic::AtomicUsize,
}

/// Why a member account's role could not be assumed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssumeError {
    /// Denied, or no such role: trying again will not help.
    #[error("sts:AssumeRole on {role_arn} denied ({message})")]
    Denied { role_arn: String, message: String },
    /// Throttled, timed out, a 5xx.
    #[error("sts:AssumeRole on {role_arn} failed ({message})")]
    Transient { role_arn: String, message: String },
    /// The caller's own account is not known, so a member's cannot be told from it.
    #[error("the function's own account is not known ({0}), so no member role is assumed")]
    OwnAccountUnknown(String),
    /// Not a 12-digit account ID: no role ARN is built from it.
    #[error("no role is assumed in {0:?}: not a 12-digit account ID")]
    NotAnAccount(String),
}

impl AssumeError {
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            AssumeError::Transient { .. } | AssumeError::OwnAccountUnknown(_)
        )
    }
}

/// The account the credentials of `base` are in (`sts:GetCallerIdentity`, which needs no
/// permission); `None` when STS does not answer.
pub async fn own_account(base: &aws_config::SdkConfig) -> Option<String> {
    aws_sdk_sts::Client::new(base)
        .get_caller_identity()
        .send()
        .await
        .ok()?
        .account()
        .map(str::to_string)
}

/// The organisation's ACTIVE accounts, `(id, name)`, from `organizations:ListAccounts` (the
/// management account or a delegated administrator may call it).
pub async fn organization_accounts(
    base: &aws_config::SdkConfig,
) -> Result<Vec<(String, String)>, String> {
    let client = aws_sdk_organizations::Client::new(base);
    let mut pages = client.list_accounts().into_paginator().send();
    let mut accounts = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| match e.code() {
            Some(code) => format!(
                "organizations:ListAccounts failed ({code}: {})",
                e.message().unwrap_or("")
            ),
            None => format!(
                "organizations:ListAccounts failed ({})",
                DisplayErrorContext(&e)
            ),
        })?;
        for account in page.accounts() {
            #[allow(deprecated)]
            let active = account.status().is_none_or(|s| s.as_str() == "ACTIVE");
            if let (Some(id), true) = (account.id(), active) {
                accounts.push((
                    id.to_string(),
                    account.name().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    Ok(accounts)
}

/// An account's name from `organizations:DescribeAccount` (which the management account or a
/// delegated administrator may call); `None` when it may not, or the account is unknown.
pub async fn account_name(base: &aws_config::SdkConfig, account: &str) -> Option<String> {
    if !crate::trust::is_account_id(account) {
        return None;
    }
    aws_sdk_organizations::Client::new(base)
        .describe_account()
        .account_id(account)
        .send()
        .await
        .ok()?
        .account()?
        .name()
        .map(str::to_string)
}

/// STS error codes that the same request will get again: a refused trust or permission, a
/// role that does not exist, a request STS rejects as malformed (`ValidationError`, e.g. an
/// external ID of the wrong shape), a region where STS is not enabled.
fn never_granted_on_retry(code: &str) -> bool {
    code.contains("AccessDenied")
        || matches!(
            code,
            "NoSuchEntity"
                | "InvalidClientTokenId"
                | "ValidationError"
                | "MalformedPolicyDocument"
                | "PackedPolicyTooLarge"
                | "RegionDisabledException"
        )
}

impl MemberRoles {
    /// `session_name` names the caller in the member's CloudTrail (the function's name).
    pub fn new(role_name: &str, external_id: Option<&str>, session_name: &str) -> MemberRoles {
        MemberRoles {
            role_name: role_name.to_string(),
            external_id: external_id.map(str::to_string),
            session_name: session_name.to_string(),
            cache: Default::default(),
            assumed: Default::default(),
        }
    }

    pub fn role_arn(&self, account: &str) -> String {
        format!("arn:aws:iam::{account}:role/{}", self.role_name)
    }

    /// How many `AssumeRole` calls were made (for the logs and benchmarks).
    pub fn assume_calls(&self) -> usize {
        self.assumed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `base` with the member account's credentials (cached), for clients in any region, and
    /// when those credentials expire.
    pub async fn config_for(
        &self,
        base: &aws_config::SdkConfig,
        account: &str,
    ) -> Result<(aws_config::SdkConfig, SystemTime), AssumeError> {
        if !crate::trust::is_account_id(account) {
            let shown: String = account.chars().take(40).collect();
            return Err(AssumeError::NotAnAccount(shown));
        }
        let mut cache = self.cache.lock().await;
        let fresh = cache.get(account).filter(|(_, expires)| {
            expires
                .duration_since(SystemTime::now())
                .is_ok_and(|left| left > RENEW_BEFORE)
        });
        let (credentials, expires) = match fresh {
            Some(cached) => cached.clone(),
            None => {
                let assumed = self.assume(base, account).await?;
                cache.insert(account.to_string(), assumed.clone());
                assumed
            }
        };
        let config = base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build();
        Ok((config, expires))
    }

    async fn assume(
        &self,
        base: &aws_config::SdkConfig,
        account: &str,
    ) -> Result<(Credentials, SystemTime), AssumeError> {
        let role_arn = self.role_arn(account);
        self.assumed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let sts = aws_sdk_sts::Client::new(base);
        let mut request = sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(&self.session_name);
        if let Some(id) = &self.external_id {
            request = request.external_id(id);
        }
        let out = request.send().await.map_err(|err| {
            let message = match err.code() {
                Some(code) => format!("{code}: {}", err.message().unwrap_or("")),
                None => DisplayErrorContext(&err).to_string(),
            };
            let denied = err.code().is_some_and(never_granted_on_retry)
                || err
                    .raw_response()
                    .is_some_and(|r| r.status().as_u16() == 403);
            if denied {
                AssumeError::Denied {
                    role_arn: role_arn.clone(),
                    message,
                }
            } else {
                AssumeError::Transient {
                    role_arn: role_arn.clone(),
                    message,
                }
            }
        })?;
        let Some(c) = out.credentials() else {
            return Err(AssumeError::Transient {
                role_arn,
                message: "the answer holds no credentials".into(),
            });
        };
        let expires = SystemTime::try_from(*c.expiration())
            .unwrap_or_else(|_| SystemTime::now() + Duration::from_secs(15 * 60));
        let credentials = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            Some(expires),
            "ecs-pull-doctor-member-role",
        );
        Ok((credentials, expires))
    }
}

/// The ACTIVE accounts under `parents` (organisational units or roots) and the units below
/// them, each once, sorted.
pub async fn accounts_under(
    base: &aws_config::SdkConfig,
    parents: &[String],
) -> Result<Vec<String>, String> {
    let client = aws_sdk_organizations::Client::new(base);
    let failed = |action: &str, e: &dyn ProvideErrorMetadata, context: String| match e.code() {
        Some(code) => format!(
            "organizations:{action} failed ({code}: {})",
            e.message().unwrap_or("")
        ),
        None => format!("organizations:{action} failed ({context})"),
    };
    let mut accounts = std::collections::BTreeSet::new();
    let mut pending: Vec<String> = parents.to_vec();
    let mut seen = std::collections::HashSet::new();
    while let Some(parent) = pending.pop() {
        if !seen.insert(parent.clone()) {
            continue;
        }
        let mut pages = client
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                failed(
                    "ListAccountsForParent",
                    &e,
                    DisplayErrorContext(&e).to_string(),
                )
            })?;
            for account in page.accounts() {
                #[allow(deprecated)]
                let active = account.status().is_none_or(|s| s.as_str() == "ACTIVE");
                if let (Some(id), true) = (account.id(), active) {
                    accounts.insert(id.to_string());
                }
            }
        }
        let mut pages = client
            .list_children()
            .parent_id(&parent)
            .child_type(aws_sdk_organizations::types::ChildType::OrganizationalUnit)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| failed("ListChildren", &e, DisplayErrorContext(&e).to_string()))?;
            pending.extend(
                page.children()
                    .iter()
                    .filter_map(|c| c.id().map(str::to_string)),
            );
        }
    }
    Ok(accounts.into_iter().collect())
}
