//! What the function builds once per cold start (the `&Deps` every event is handled with, as
//! in lambda_runtime's examples): the language, the ip-ranges table loading in the background,
//! the network source, the sinks and the dedup table.

use tracing::warn;

use super::dedup::DedupTable;
use super::incidents::IncidentTable;
use super::known::KnownCausesStore;
use super::pagerduty::PagerDutySink;
use super::ranges::BackgroundRanges;
use super::sinks::{self, FailureQueue, SlackSink, SnsSink};
use super::slack_app::SlackApp;
use super::teams::TeamsSink;
use super::StartError;
use std::collections::BTreeMap;

use crate::alert::Sink;
use crate::config::Config;
use crate::ipranges;
use crate::localized::Lang;
use crate::network::live;
use crate::network::snapshot;
use crate::network::source::{Members, NetworkSource};
use crate::routes::{Route, Routes, Subject};

/// Everything built once per cold start.
#[derive(Debug)]
pub struct Deps {
    pub(super) lang: Lang,
    pub(super) ip_ranges: BackgroundRanges,
    pub(super) network: NetworkSource,
    pub(super) sns: Option<SnsSink>,
    /// SNS messages carry Amazon Q Developer's custom notification.
    pub(super) chatbot: bool,
    pub(super) slack: Option<SlackSink>,
    pub(super) dedup: Option<DedupTable>,
    /// Where an event no retry can help goes at once.
    pub(super) failure_queue: Option<FailureQueue>,
    /// The configured sinks, in delivery order.
    pub(super) sinks: Vec<Sink>,
    /// The root causes known between audits (in the dedup table).
    pub(super) known: Option<KnownCausesStore>,
    pub(super) gate_fail_closed: bool,
    /// Which member accounts' events are inspected (central mode).
    pub(super) allowed_accounts: Option<crate::config::AllowedAccounts>,
    pub(super) account_names: std::collections::BTreeMap<String, String>,
    /// The channels that follow an incident, and its record in the dedup table; `None`
    /// when no incident channel (PagerDuty, Slack's app mode, Teams, Amazon Q Developer
    /// with the dedup table) is configured.
    pub(super) incidents: Option<IncidentChannels>,
    /// Where each incident goes, or that it is muted (`ROUTES`).
    pub(super) routes: Routes,
    /// The organisation's sweep (`SWEEP_QUEUE_URL`).
    pub(super) org_sweep: Option<super::org_sweep::OrgSweepDeps>,
}

pub use super::incidents::DEFAULT_VIA;

impl IncidentChannels {
    /// The PagerDuty integration behind `via` (a route's secret ARN, or [`DEFAULT_VIA`]).
    pub(super) fn pagerduty_via(&self, via: &str) -> Option<&PagerDutySink> {
        match via {
            DEFAULT_VIA => self.pagerduty.as_ref(),
            arn => self.routed_pagerduty.get(arn),
        }
    }

    /// The Teams workflow behind `via`.
    pub(super) fn teams_via(&self, via: &str) -> Option<&TeamsSink> {
        match via {
            DEFAULT_VIA => self.teams.as_ref(),
            arn => self.routed_teams.get(arn),
        }
    }
}

/// The incident record and the channels it drives (at least one).
#[derive(Debug)]
pub struct IncidentChannels {
    pub(super) record: IncidentTable,
    pub(super) pagerduty: Option<PagerDutySink>,
    pub(super) slack: Option<SlackApp>,
    pub(super) teams: Option<TeamsSink>,
    /// The routes' own PagerDuty routing keys and Teams URLs, by secret ARN.
    pub(super) routed_pagerduty: BTreeMap<String, PagerDutySink>,
    pub(super) routed_teams: BTreeMap<String, TeamsSink>,
    /// Amazon Q Developer reads the SNS topic: mitigations and closes are published too.
    pub(super) chatbot: Option<SnsSink>,
    /// An open incident with no failure for this many minutes is closed.
    pub(super) quiet_minutes: u64,
}

impl Deps {
    /// The first route that matches `d`'s incident (its account, cluster, service and
    /// verdict); `None`: the defaults.
    pub(super) fn route_for(&self, d: &crate::diagnose::Diagnosis) -> Option<&Route> {
        if self.routes.is_empty() {
            return None;
        }
        let task = &d.task;
        self.routes.route_for(&Subject {
            account: task.account.as_deref().unwrap_or("-"),
            cluster: task.cluster_name().unwrap_or("-"),
            service: task.service_name().or(task.group.as_deref()).unwrap_or("-"),
            finding: d.verdict().as_str(),
        })
    }

    /// The accounts the organisation's sweep covers: the allowed list, or the organisation's
    /// ACTIVE accounts (under `ous` when given).
    pub(super) async fn sweep_accounts(&self, ous: &[String]) -> Result<Vec<String>, String> {
        use crate::config::AllowedAccounts;
        match &self.allowed_accounts {
            Some(AllowedAccounts::Only(ids)) => Ok(ids.clone()),
            Some(AllowedAccounts::AnyInOrganization(_)) => {
                let sdk = self
                    .network
                    .sdk()
                    .ok_or_else(|| "a network snapshot lists no accounts".to_string())?;
                if ous.is_empty() {
                    Ok(live::organization_accounts(sdk)
                        .await?
                        .into_iter()
                        .map(|(id, _)| id)
                        .collect())
                } else {
                    live::accounts_under(sdk, ous).await
                }
            }
            None => Err("no member role is configured (MEMBER_ROLE_NAME)".into()),
        }
    }

    /// Why an event from `account` is not inspected, `None` when it is: the account must be a
    /// 12-digit ID; in central mode the function's own or an allowed one; with the function's
    /// own credentials only (no member role), the function's own, since any other account's
    /// network cannot be read with them. A snapshot (local replay) accepts any account.
    pub(super) async fn refuses_account(&self, account: Option<&str>) -> Option<String> {
        if matches!(self.network, NetworkSource::Snapshot(_)) {
            return None;
        }
        let Some(account) = account else {
            return Some("the event names no account".into());
        };
        if !crate::trust::is_account_id(account) {
            return Some("the event's account is not a 12-digit account ID".into());
        }
        // An allowed account needs no identity lookup (the role decision makes its own).
        if self
            .allowed_accounts
            .as_ref()
            .is_some_and(|a| a.allows(account))
        {
            return None;
        }
        let own = self.network.own_account().await;
        if let Ok(Some(own)) = own {
            if own == account {
                return None;
            }
        }
        match &self.allowed_accounts {
            Some(_) => Some(format!(
                "account {account} is not allowed (ALLOWED_ACCOUNTS)"
            )),
            None => match own {
                Ok(Some(own)) => Some(format!(
                    "account {account} is not the function's own ({own}); set MEMBER_ROLE_NAME and ALLOWED_ACCOUNTS to inspect other accounts"
                )),
                // Without our own account nothing can be said of this one: inspected as
                // before (with our own credentials, which see only our own network).
                _ => None,
            },
        }
    }

    /// In central mode, the line every alert carries: which account (and its name) and
    /// region the failure is in.
    pub(super) async fn account_line(
        &self,
        account: Option<&str>,
        region: Option<&str>,
    ) -> Option<crate::localized::Localized> {
        self.allowed_accounts.as_ref()?;
        let account = account?;
        let name = match self.account_names.get(account) {
            Some(name) => Some(name.clone()),
            None => self.network.account_name(account).await,
        };
        let named = match name {
            Some(name) => format!("{account} ({name})"),
            None => account.to_string(),
        };
        let region = region.unwrap_or("-");
        Some(crate::t!(
            "Account {named}, region {region}.",
            "계정 {named}, 리전 {region}."
        ))
    }

    /// Validates `config` and builds the clients, ip-ranges and webhook once.
    pub async fn start(config: Config) -> Result<Deps, StartError> {
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
            None => {
                let members = config.members.as_ref().map(|m| {
                    let session = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
                        .unwrap_or_else(|_| "ecs-pull-doctor".into());
                    Members {
                        roles: live::MemberRoles::new(
                            &m.role_name,
                            m.external_id.as_deref(),
                            &session,
                        ),
                        names: Default::default(),
                    }
                });
                NetworkSource::live(sdk.clone(), members)
            }
        };
        // One client per service, shared by the parts that use it (clients are cheap to
        // clone and share their connections).
        let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let sns = config
            .sns_topic_arn
            .clone()
            .map(|arn| SnsSink::new(aws_sdk_sns::Client::new(&sdk), arn));
        // Nothing here calls AWS: the secret is read on the first post, the function's own
        // account on first need, so a start-up cannot fail remotely and the gate answers.
        let webhook = match (&config.slack_webhook_url, &config.slack_webhook_secret_arn) {
            (Some(url), _) => Some(sinks::Webhook::Given(
                sinks::WebhookUrl::new(url)
                    .ok_or(StartError::Webhook(sinks::SetupError::NotAUrl))?,
            )),
            (None, Some(arn)) => Some(sinks::Webhook::from_secret(secrets.clone(), arn.clone())),
            (None, None) => None,
        };
        let slack = webhook.map(SlackSink::new);
        let dedup = config
            .dedup
            .as_ref()
            .map(|d| DedupTable::new(dynamodb.clone(), d.table.clone(), d.window_minutes));
        let known = config
            .dedup
            .as_ref()
            .map(|d| KnownCausesStore::new(dynamodb.clone(), d.table.clone()));
        let failure_queue = config
            .failure_queue_url
            .clone()
            .map(|url| FailureQueue::new(aws_sdk_sqs::Client::new(&sdk), url));
        let pagerduty_sink = |arn: &String, variable| {
            PagerDutySink::new(
                secrets.clone(),
                (arn.clone(), variable),
                config.pagerduty_events_url.clone(),
            )
        };
        let teams_sink =
            |arn: &String, variable| TeamsSink::new(secrets.clone(), (arn.clone(), variable));
        let pagerduty = config.pagerduty.as_ref().map(|pd| {
            pagerduty_sink(
                &pd.routing_key_secret_arn,
                "PAGERDUTY_ROUTING_KEY_SECRET_ARN",
            )
        });
        let slack_app = config.slack_app.as_ref().map(|app| {
            SlackApp::new(
                secrets.clone(),
                app.bot_token_secret_arn.clone(),
                app.channel_id.clone(),
                app.api_url.clone(),
            )
        });
        let teams = config
            .teams_webhook_secret_arn
            .as_ref()
            .map(|arn| teams_sink(arn, "TEAMS_WEBHOOK_URL_SECRET_ARN"));
        let chatbot = sns.clone().filter(|_| config.chatbot_notifications);
        let mut routed_pagerduty = BTreeMap::new();
        let mut routed_teams = BTreeMap::new();
        for destinations in config.routes.destinations() {
            if let Some(arn) = &destinations.pagerduty_secret_arn {
                routed_pagerduty.insert(arn.clone(), pagerduty_sink(arn, "ROUTES"));
            }
            if let Some(arn) = &destinations.teams_secret_arn {
                routed_teams.insert(arn.clone(), teams_sink(arn, "ROUTES"));
            }
        }
        // The configuration requires the dedup table with any incident channel; Amazon Q
        // Developer follows incidents only when the table is there.
        let followed = pagerduty.is_some()
            || slack_app.is_some()
            || teams.is_some()
            || chatbot.is_some()
            || !routed_pagerduty.is_empty()
            || !routed_teams.is_empty();
        let incidents = match (&config.dedup, followed) {
            (Some(dedup), true) => Some(IncidentChannels {
                record: IncidentTable::new(dynamodb.clone(), dedup.table.clone()),
                pagerduty,
                slack: slack_app,
                teams,
                routed_pagerduty,
                routed_teams,
                chatbot,
                quiet_minutes: config.incident_quiet_minutes,
            }),
            _ => None,
        };
        let org_sweep = match (&config.org_sweep, &config.dedup) {
            (Some(sweep), Some(dedup)) => Some(super::org_sweep::OrgSweepDeps {
                queue: aws_sdk_sqs::Client::new(&sdk),
                queue_url: sweep.queue_url.clone(),
                runs: super::runs::RunStore::new(dynamodb.clone(), dedup.table.clone()),
                regions: sweep.regions.clone(),
                ous: sweep.ous.clone(),
            }),
            _ => None,
        };
        let mut configured = Vec::new();
        if sns.is_some() {
            configured.push(Sink::Sns);
        }
        if slack.is_some() {
            configured.push(Sink::Slack);
        }
        Ok(Deps {
            lang: config.lang,
            ip_ranges,
            network,
            chatbot: config.chatbot_notifications,
            sns,
            slack,
            dedup,
            failure_queue,
            sinks: configured,
            known,
            gate_fail_closed: config.gate_fail_closed,
            allowed_accounts: config.members.as_ref().map(|m| m.allowed.clone()),
            account_names: config.account_names.clone(),
            incidents,
            routes: config.routes.clone(),
            org_sweep,
        })
    }
}
