//! The Lambda's configuration: environment variables → [`Config`], validated once at cold
//! start with an error naming the bad variable.
//!
//! Reads through a lookup function, so tests pass a map instead of touching the process
//! environment. The webhook URL is a secret: `Debug` never prints it.

use std::path::PathBuf;

use crate::localized::Lang;

/// Where the diagnoses go, and how.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub sns_topic_arn: Option<String>,
    /// A Secrets Manager secret holding the Slack webhook URL (read once per cold start).
    pub slack_webhook_secret_arn: Option<String>,
    /// The webhook URL itself, for local runs only.
    pub slack_webhook_url: Option<String>,
    pub lang: Lang,
    pub dedup: Option<Dedup>,
    /// `None`: the `ip-ranges.json` packaged next to the executable.
    pub ip_ranges_file: Option<PathBuf>,
    /// A recorded network snapshot to diagnose against instead of calling EC2 (local replay).
    pub network_snapshot_file: Option<PathBuf>,
    /// The SQS queue an event goes to at once when no retry can help (a malformed event),
    /// instead of after Lambda's retries; the same queue as the on-failure destination.
    pub failure_queue_url: Option<String>,
    /// A deployment gate the doctor cannot decide fails the deployment instead of letting it
    /// through (`GATE_FAIL_CLOSED=true`; default false: a broken doctor never blocks).
    pub gate_fail_closed: bool,
    /// Central mode: events from other accounts are inspected through this role in them.
    pub members: Option<Members>,
    /// Account ID → name, for alerts (`ACCOUNT_NAMES`, a JSON object).
    pub account_names: std::collections::BTreeMap<String, String>,
    /// Paging through PagerDuty's Events API v2, with incidents kept in the dedup table.
    pub pagerduty: Option<PagerDuty>,
    /// `PAGERDUTY_EVENTS_URL`: where every PagerDuty event goes (the default's and routes').
    pub pagerduty_events_url: String,
    /// Slack's app mode: one thread per incident, its parent edited in place.
    pub slack_app: Option<SlackApp>,
    /// `TEAMS_WEBHOOK_URL_SECRET_ARN`: the secret holding a Teams Workflows webhook URL.
    pub teams_webhook_secret_arn: Option<String>,
    /// `CHATBOT_NOTIFICATIONS=true`: SNS messages carry Amazon Q Developer's custom
    /// notification for its HTTPS subscription, threaded by incident.
    pub chatbot_notifications: bool,
    /// `ROUTES`: where each incident goes instead of the defaults, or that it is muted.
    pub routes: crate::routes::Routes,
    /// `INCIDENT_QUIET_MINUTES` (default 60): an open incident with no failure for this long
    /// is closed, as "no failure for N min".
    pub incident_quiet_minutes: u64,
    /// `SWEEP_QUEUE_URL` (with a member role): the scheduled sweep covers every allowed
    /// account and `SWEEP_REGIONS`, one SQS message per target.
    pub org_sweep: Option<OrgSweep>,
}

/// The organisation's sweep: where its work goes and what it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSweep {
    pub queue_url: String,
    /// `SWEEP_REGIONS`, default the function's own.
    pub regions: Vec<String>,
    /// `SWEEP_OUS`: only the accounts under these organisational units (or roots).
    pub ous: Vec<String>,
}

/// `ou-` and 4 to 32 then 8 to 32 lowercase letters or digits, or a root `r-` and 4 to 32.
pub fn is_ou_or_root_id(text: &str) -> bool {
    let part = |p: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&p.len())
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if let Some(rest) = text.strip_prefix("ou-") {
        return rest
            .split_once('-')
            .is_some_and(|(root, ou)| part(root, 4..=32) && part(ou, 8..=32));
    }
    text.strip_prefix("r-")
        .is_some_and(|root| part(root, 4..=32))
}

/// The default quiet period: longer than ECS's start-retry backoff (up to 15 minutes).
pub const DEFAULT_INCIDENT_QUIET_MINUTES: u64 = 60;

/// `SLACK_BOT_TOKEN_SECRET_ARN`, `SLACK_CHANNEL_ID` and `SLACK_API_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackApp {
    pub bot_token_secret_arn: String,
    pub channel_id: String,
    pub api_url: String,
}

/// `PAGERDUTY_ROUTING_KEY_SECRET_ARN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagerDuty {
    pub routing_key_secret_arn: String,
}

/// How a central function reaches member accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Members {
    /// `MEMBER_ROLE_NAME`: the role assumed in each member account.
    pub role_name: String,
    /// `MEMBER_ROLE_EXTERNAL_ID`, when the member roles require one.
    pub external_id: Option<String>,
    pub allowed: AllowedAccounts,
}

/// `ALLOWED_ACCOUNTS`: which accounts' events are inspected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedAccounts {
    /// `*` with `ORGANIZATION_ID`: any account of that organisation. The function does not
    /// check membership itself: the template's `aws:ResourceOrgID` condition on
    /// `sts:AssumeRole` refuses every role outside the organisation, so an event from any
    /// other account is diagnosed without a view of its network.
    AnyInOrganization(String),
    Only(Vec<String>),
}

impl AllowedAccounts {
    /// Whether `account` (a 12-digit ID; nothing else is ever allowed) may be inspected.
    pub fn allows(&self, account: &str) -> bool {
        crate::trust::is_account_id(account)
            && match self {
                AllowedAccounts::AnyInOrganization(_) => true,
                AllowedAccounts::Only(ids) => ids.iter().any(|id| id == account),
            }
    }
}

/// `o-` and 10 to 32 lowercase letters or digits, as Organizations writes an ID.
fn is_organization_id(text: &str) -> bool {
    text.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// Alert-storm suppression in DynamoDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dedup {
    pub table: String,
    pub window_minutes: u32,
}

/// The window when `DEDUP_TABLE` is set without `DEDUP_WINDOW_MINUTES`: longer than a
/// deployment's retries, short enough that tomorrow's failure alerts again.
pub const DEFAULT_DEDUP_WINDOW_MINUTES: u32 = 60;

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("sns_topic_arn", &self.sns_topic_arn)
            .field("slack_webhook_secret_arn", &self.slack_webhook_secret_arn)
            .field(
                "slack_webhook_url",
                &self.slack_webhook_url.as_ref().map(|_| "<redacted>"),
            )
            .field("lang", &self.lang)
            .field("dedup", &self.dedup)
            .field("ip_ranges_file", &self.ip_ranges_file)
            .field("network_snapshot_file", &self.network_snapshot_file)
            .field("failure_queue_url", &self.failure_queue_url)
            .field("gate_fail_closed", &self.gate_fail_closed)
            .field("members", &self.members)
            .field("account_names", &self.account_names)
            .field("pagerduty", &self.pagerduty)
            .field("pagerduty_events_url", &self.pagerduty_events_url)
            .field("slack_app", &self.slack_app)
            .field("teams_webhook_secret_arn", &self.teams_webhook_secret_arn)
            .field("chatbot_notifications", &self.chatbot_notifications)
            .field("routes", &self.routes)
            .field("incident_quiet_minutes", &self.incident_quiet_minutes)
            .field("org_sweep", &self.org_sweep)
            .finish()
    }
}

/// A configuration error, naming the variable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{variable}: {problem}")]
    Invalid {
        variable: &'static str,
        problem: String,
    },
    #[error(
        "no sink is configured: set SNS_TOPIC_ARN, SLACK_WEBHOOK_SECRET_ARN, SLACK_WEBHOOK_URL, SLACK_BOT_TOKEN_SECRET_ARN, PAGERDUTY_ROUTING_KEY_SECRET_ARN or TEAMS_WEBHOOK_URL_SECRET_ARN"
    )]
    NoSink,
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        variable,
        problem: problem.into(),
    }
}

/// `arn:<partition>:<service>:<region>:<account>:<resource>` with the expected service.
fn check_arn(variable: &'static str, value: &str, service: &str) -> Result<(), ConfigError> {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let well_formed = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == service
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && !parts[5].is_empty();
    if well_formed {
        Ok(())
    } else {
        Err(invalid(
            variable,
            format!("not an {service} ARN (arn:aws:{service}:<region>:<account>:<name>)"),
        ))
    }
}

/// `SWEEP_QUEUE_URL`, `SWEEP_REGIONS`, `SWEEP_OUS`: the organisation's sweep needs member
/// roles to reach the accounts and the dedup table for its runs; the regions default to the
/// function's own.
fn org_sweep(
    get: &impl Fn(&str) -> Option<String>,
    members: Option<&Members>,
    dedup: Option<&Dedup>,
) -> Result<Option<OrgSweep>, ConfigError> {
    let list = |name: &str| -> Vec<String> {
        get(name)
            .map(|v| {
                v.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (regions, ous) = (list("SWEEP_REGIONS"), list("SWEEP_OUS"));
    let Some(queue_url) = get("SWEEP_QUEUE_URL") else {
        if !regions.is_empty() || !ous.is_empty() {
            return Err(invalid(
                "SWEEP_QUEUE_URL",
                "SWEEP_REGIONS or SWEEP_OUS is set but SWEEP_QUEUE_URL is not: the organisation's sweep sends its work there",
            ));
        }
        return Ok(None);
    };
    if !(queue_url.starts_with("https://") || queue_url.starts_with("http://"))
        || queue_url.chars().any(char::is_whitespace)
    {
        return Err(invalid("SWEEP_QUEUE_URL", "not an SQS queue URL"));
    }
    let Some(members) = members else {
        return Err(invalid(
            "SWEEP_QUEUE_URL",
            "needs MEMBER_ROLE_NAME and ALLOWED_ACCOUNTS: the accounts are read through their role (without them the sweep audits the function's own account and region)",
        ));
    };
    if dedup.is_none() {
        return Err(invalid(
            "SWEEP_QUEUE_URL",
            "needs DEDUP_TABLE: each run and each target's causes are kept there",
        ));
    }
    if let Some(bad) = regions
        .iter()
        .find(|r| !crate::reason::looks_like_region(r))
    {
        return Err(invalid("SWEEP_REGIONS", format!("{bad:?} is not a region")));
    }
    if let Some(bad) = ous.iter().find(|o| !is_ou_or_root_id(o)) {
        return Err(invalid(
            "SWEEP_OUS",
            format!("{bad:?} is not an organisational unit (ou-…) or root (r-…) ID"),
        ));
    }
    if !ous.is_empty() && !matches!(members.allowed, AllowedAccounts::AnyInOrganization(_)) {
        return Err(invalid(
            "SWEEP_OUS",
            "needs ALLOWED_ACCOUNTS=* (the organisation's accounts are listed under the OUs); with a list of accounts, that list is swept",
        ));
    }
    let regions = if regions.is_empty() {
        match get("AWS_REGION") {
            Some(own) if crate::reason::looks_like_region(&own) => vec![own],
            _ => {
                return Err(invalid(
                    "SWEEP_REGIONS",
                    "not set, and the function's own region (AWS_REGION) is not known",
                ))
            }
        }
    } else {
        regions
    };
    let (mut regions, mut ous) = (regions, ous);
    for list in [&mut regions, &mut ous] {
        list.sort();
        list.dedup();
    }
    Ok(Some(OrgSweep {
        queue_url,
        regions,
        ous,
    }))
}

impl Config {
    /// The configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the process environment in the Lambda).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let sns_topic_arn = get("SNS_TOPIC_ARN");
        if let Some(arn) = &sns_topic_arn {
            check_arn("SNS_TOPIC_ARN", arn, "sns")?;
        }
        let slack_webhook_secret_arn = get("SLACK_WEBHOOK_SECRET_ARN");
        if let Some(arn) = &slack_webhook_secret_arn {
            check_arn("SLACK_WEBHOOK_SECRET_ARN", arn, "secretsmanager")?;
        }
        let slack_webhook_url = get("SLACK_WEBHOOK_URL");
        if let Some(url) = &slack_webhook_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                // The value is a secret: say what is wrong without repeating it.
                return Err(invalid("SLACK_WEBHOOK_URL", "not an http(s) URL"));
            }
        }
        let lang = match get("DIAGNOSIS_LANG") {
            None => Lang::En,
            Some(v) => v
                .parse()
                .map_err(|e: String| invalid("DIAGNOSIS_LANG", e))?,
        };
        let window = match get("DEDUP_WINDOW_MINUTES") {
            None => None,
            Some(v) => match v.parse::<u32>() {
                Ok(minutes) if (1..=7 * 24 * 60).contains(&minutes) => Some(minutes),
                _ => {
                    return Err(invalid(
                        "DEDUP_WINDOW_MINUTES",
                        format!("{v:?} is not a whole number of minutes from 1 to 10080"),
                    ))
                }
            },
        };
        let dedup = match (get("DEDUP_TABLE"), window) {
            (Some(table), window) => Some(Dedup {
                table,
                window_minutes: window.unwrap_or(DEFAULT_DEDUP_WINDOW_MINUTES),
            }),
            (None, Some(_)) => {
                return Err(invalid(
                    "DEDUP_WINDOW_MINUTES",
                    "is set but DEDUP_TABLE is not",
                ))
            }
            (None, None) => None,
        };
        let gate_fail_closed = match get("GATE_FAIL_CLOSED").map(|v| v.to_ascii_lowercase()) {
            None => false,
            Some(v) if v == "true" => true,
            Some(v) if v == "false" => false,
            Some(v) => {
                return Err(invalid(
                    "GATE_FAIL_CLOSED",
                    format!("{v:?} is neither true nor false"),
                ))
            }
        };
        let members = match get("MEMBER_ROLE_NAME") {
            None => {
                if get("ALLOWED_ACCOUNTS").is_some() || get("MEMBER_ROLE_EXTERNAL_ID").is_some() {
                    return Err(invalid(
                        "MEMBER_ROLE_NAME",
                        "ALLOWED_ACCOUNTS or MEMBER_ROLE_EXTERNAL_ID is set but MEMBER_ROLE_NAME is not",
                    ));
                }
                None
            }
            Some(role_name) => {
                let valid_name = role_name.len() <= 64
                    && role_name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
                if !valid_name {
                    return Err(invalid("MEMBER_ROLE_NAME", "not an IAM role name"));
                }
                let allowed =
                    match get("ALLOWED_ACCOUNTS").as_deref() {
                        None => return Err(invalid(
                            "ALLOWED_ACCOUNTS",
                            "required with MEMBER_ROLE_NAME: account IDs separated by commas, or *",
                        )),
                        Some("*") => match get("ORGANIZATION_ID") {
                            Some(org) if is_organization_id(&org) => {
                                AllowedAccounts::AnyInOrganization(org)
                            }
                            Some(_) => {
                                return Err(invalid(
                                    "ORGANIZATION_ID",
                                    "not an organisation ID (o- and 10 to 32 letters or digits)",
                                ))
                            }
                            None => return Err(invalid(
                                "ALLOWED_ACCOUNTS",
                                "* trusts every account that can reach the function: it needs ORGANIZATION_ID (the template then refuses roles outside it), or list the account IDs",
                            )),
                        },
                        Some(list) => {
                            let ids: Vec<String> = list
                                .split(',')
                                .map(|id| id.trim().to_string())
                                .filter(|id| !id.is_empty())
                                .collect();
                            if ids.is_empty()
                                || ids.iter().any(|id| {
                                    id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit())
                                })
                            {
                                return Err(invalid(
                                    "ALLOWED_ACCOUNTS",
                                    "expected 12-digit account IDs separated by commas, or *",
                                ));
                            }
                            AllowedAccounts::Only(ids)
                        }
                    };
                Some(Members {
                    role_name,
                    external_id: get("MEMBER_ROLE_EXTERNAL_ID"),
                    allowed,
                })
            }
        };
        let account_names = match get("ACCOUNT_NAMES") {
            None => Default::default(),
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                invalid(
                    "ACCOUNT_NAMES",
                    format!("not a JSON object of account ID to name ({e})"),
                )
            })?,
        };
        let pagerduty_events_url = get("PAGERDUTY_EVENTS_URL")
            .unwrap_or_else(|| crate::lambda::pagerduty::DEFAULT_EVENTS_URL.to_string());
        if !(pagerduty_events_url.starts_with("https://")
            || pagerduty_events_url.starts_with("http://"))
        {
            return Err(invalid("PAGERDUTY_EVENTS_URL", "not an http(s) URL"));
        }
        let pagerduty = match get("PAGERDUTY_ROUTING_KEY_SECRET_ARN") {
            None => None,
            Some(arn) => {
                check_arn("PAGERDUTY_ROUTING_KEY_SECRET_ARN", &arn, "secretsmanager")?;
                if dedup.is_none() {
                    return Err(invalid(
                        "PAGERDUTY_ROUTING_KEY_SECRET_ARN",
                        "needs DEDUP_TABLE: the incidents PagerDuty is told about are kept there",
                    ));
                }
                Some(PagerDuty {
                    routing_key_secret_arn: arn,
                })
            }
        };
        let slack_app = match (get("SLACK_BOT_TOKEN_SECRET_ARN"), get("SLACK_CHANNEL_ID")) {
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                return Err(invalid(
                    "SLACK_CHANNEL_ID",
                    "Slack's app mode needs both SLACK_BOT_TOKEN_SECRET_ARN and SLACK_CHANNEL_ID",
                ))
            }
            (Some(arn), Some(channel_id)) => {
                check_arn("SLACK_BOT_TOKEN_SECRET_ARN", &arn, "secretsmanager")?;
                if !crate::lambda::slack_app::is_channel_id(&channel_id) {
                    return Err(invalid(
                        "SLACK_CHANNEL_ID",
                        "not a channel ID (C, G or D and upper-case letters and digits; a name does not work)",
                    ));
                }
                if dedup.is_none() {
                    return Err(invalid(
                        "SLACK_BOT_TOKEN_SECRET_ARN",
                        "needs DEDUP_TABLE: the incidents and their threads are kept there",
                    ));
                }
                if slack_webhook_secret_arn.is_some() || slack_webhook_url.is_some() {
                    return Err(invalid(
                        "SLACK_BOT_TOKEN_SECRET_ARN",
                        "set either Slack's app mode or a webhook, not both",
                    ));
                }
                let api_url = get("SLACK_API_URL")
                    .unwrap_or_else(|| crate::lambda::slack_app::DEFAULT_API_URL.to_string());
                if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
                    return Err(invalid("SLACK_API_URL", "not an http(s) URL"));
                }
                Some(SlackApp {
                    bot_token_secret_arn: arn,
                    channel_id,
                    api_url,
                })
            }
        };
        let teams_webhook_secret_arn = get("TEAMS_WEBHOOK_URL_SECRET_ARN");
        if let Some(arn) = &teams_webhook_secret_arn {
            check_arn("TEAMS_WEBHOOK_URL_SECRET_ARN", arn, "secretsmanager")?;
            if dedup.is_none() {
                return Err(invalid(
                    "TEAMS_WEBHOOK_URL_SECRET_ARN",
                    "needs DEDUP_TABLE: the incidents whose cards Teams gets are kept there",
                ));
            }
        }
        let chatbot_notifications = match get("CHATBOT_NOTIFICATIONS").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(invalid("CHATBOT_NOTIFICATIONS", "expected true or false")),
        };
        if chatbot_notifications && sns_topic_arn.is_none() {
            return Err(invalid(
                "CHATBOT_NOTIFICATIONS",
                "needs SNS_TOPIC_ARN: Amazon Q Developer reads the topic",
            ));
        }
        let incident_quiet_minutes = match get("INCIDENT_QUIET_MINUTES") {
            None => DEFAULT_INCIDENT_QUIET_MINUTES,
            Some(text) => match text.parse::<u64>() {
                Ok(m) if (16..=10_080).contains(&m) => m,
                _ => {
                    return Err(invalid(
                        "INCIDENT_QUIET_MINUTES",
                        "expected whole minutes from 16 (longer than ECS's 15-minute start-retry backoff) to 10080 (a week)",
                    ))
                }
            },
        };
        let routes = match get("ROUTES") {
            None => Default::default(),
            Some(json) => crate::routes::Routes::parse(
                &json,
                crate::lambda::slack_app::is_channel_id,
                |arn| check_arn("ROUTES", arn, "secretsmanager").is_ok(),
            )
            .map_err(|e| invalid("ROUTES", e.to_string()))?,
        };
        for destinations in routes.destinations() {
            if destinations.slack_channel.is_some() && slack_app.is_none() {
                return Err(invalid(
                    "ROUTES",
                    "a route names a slack_channel, which needs Slack's app mode (SLACK_BOT_TOKEN_SECRET_ARN)",
                ));
            }
            if dedup.is_none() {
                return Err(invalid(
                    "ROUTES",
                    "a route names a destination, which needs DEDUP_TABLE: the incidents are kept there",
                ));
            }
        }
        let org_sweep = org_sweep(&get, members.as_ref(), dedup.as_ref())?;
        if sns_topic_arn.is_none()
            && slack_webhook_secret_arn.is_none()
            && slack_webhook_url.is_none()
            && pagerduty.is_none()
            && slack_app.is_none()
            && teams_webhook_secret_arn.is_none()
        {
            return Err(ConfigError::NoSink);
        }
        Ok(Config {
            sns_topic_arn,
            slack_webhook_secret_arn,
            slack_webhook_url,
            lang,
            dedup,
            ip_ranges_file: get("IP_RANGES_FILE").map(PathBuf::from),
            network_snapshot_file: get("NETWORK_SNAPSHOT_FILE").map(PathBuf::from),
            failure_queue_url: get("FAILURE_QUEUE_URL"),
            gate_fail_closed,
            members,
            account_names,
            pagerduty,
            pagerduty_events_url,
            slack_app,
            teams_webhook_secret_arn,
            chatbot_notifications,
            routes,
            incident_quiet_minutes,
            org_sweep,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    const TOPIC: &str = "arn:aws:sns:ap-northeast-2:111122223333:ecs-pull-doctor";

    #[test]
    fn slacks_app_mode_needs_a_token_a_channel_id_and_the_table_and_no_webhook() {
        let secret = "arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:bot-AbCdEf";
        let app = [
            ("SLACK_BOT_TOKEN_SECRET_ARN", secret),
            ("SLACK_CHANNEL_ID", "C0123456789"),
            ("DEDUP_TABLE", "dedup"),
        ];
        let c = config(&app).unwrap();
        let slack = c.slack_app.unwrap();
        assert_eq!(slack.api_url, "https://slack.com/api");
        assert_eq!(slack.channel_id, "C0123456789");
        let named = config(&[app[0], ("SLACK_CHANNEL_ID", "#alerts"), app[2]]).unwrap_err();
        assert!(named.to_string().contains("not a channel ID"), "{named}");
        let alone = config(&[app[0]]).unwrap_err();
        assert!(alone.to_string().contains("needs both"), "{alone}");
        let no_table = config(&app[..2]).unwrap_err();
        assert!(
            no_table.to_string().contains("needs DEDUP_TABLE"),
            "{no_table}"
        );
        let mut both = app.to_vec();
        both.push((
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T/B/x",
        ));
        let both = config(&both).unwrap_err();
        assert!(both.to_string().contains("not both"), "{both}");
    }

    #[test]
    fn the_organisation_sweep_needs_member_roles_and_the_table_and_checks_its_lists() {
        let queue = "https://sqs.ap-northeast-2.amazonaws.com/111122223333/sweep";
        let base = [
            ("SNS_TOPIC_ARN", TOPIC),
            ("DEDUP_TABLE", "d"),
            ("MEMBER_ROLE_NAME", "ecs-pull-doctor-read"),
            ("ALLOWED_ACCOUNTS", "111122223333,444455556666"),
            ("AWS_REGION", "ap-northeast-2"),
            ("SWEEP_QUEUE_URL", queue),
        ];
        let sweep = config(&base).unwrap().org_sweep.unwrap();
        assert_eq!(
            sweep.regions,
            ["ap-northeast-2"],
            "the function's own region"
        );
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            config(&vars)
        };
        let c = with(&[("SWEEP_REGIONS", "eu-west-1, us-east-1")]).unwrap();
        assert_eq!(c.org_sweep.unwrap().regions, ["eu-west-1", "us-east-1"]);
        for (extra, says) in [
            (("SWEEP_REGIONS", "eu-west-1,moon"), "is not a region"),
            (
                ("SWEEP_OUS", "ou-ab12-cdef3456"),
                "needs ALLOWED_ACCOUNTS=*",
            ),
            (("SWEEP_QUEUE_URL", "sqs queue"), "not an SQS queue URL"),
        ] {
            let err = with(&[extra]).unwrap_err().to_string();
            assert!(err.contains(says), "{extra:?}: {err}");
        }
        let err = config(&[("SNS_TOPIC_ARN", TOPIC), ("SWEEP_QUEUE_URL", queue)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs MEMBER_ROLE_NAME"), "{err}");
        let err = config(&[("SNS_TOPIC_ARN", TOPIC), ("SWEEP_REGIONS", "eu-west-1")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("SWEEP_QUEUE_URL is not"), "{err}");
        assert!(is_ou_or_root_id("ou-ab12-cdef3456") && is_ou_or_root_id("r-ab12"));
        assert!(!is_ou_or_root_id("ou-AB12-cdef3456") && !is_ou_or_root_id("o-abcdefghij"));
    }

    #[test]
    fn teams_chatbot_and_the_quiet_period_are_checked() {
        let secret = "arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:teams-AbCdEf";
        let topic = "arn:aws:sns:ap-northeast-2:111122223333:alerts";
        let c = config(&[
            ("TEAMS_WEBHOOK_URL_SECRET_ARN", secret),
            ("DEDUP_TABLE", "d"),
        ])
        .unwrap();
        assert_eq!(c.teams_webhook_secret_arn.as_deref(), Some(secret));
        assert_eq!(c.incident_quiet_minutes, DEFAULT_INCIDENT_QUIET_MINUTES);
        assert!(!c.chatbot_notifications);
        let err = config(&[("TEAMS_WEBHOOK_URL_SECRET_ARN", secret)]).unwrap_err();
        assert!(err.to_string().contains("needs DEDUP_TABLE"), "{err}");
        let err = config(&[(
            "TEAMS_WEBHOOK_URL_SECRET_ARN",
            "https://x.logic.azure.com/w",
        )])
        .unwrap_err();
        assert!(
            err.to_string().starts_with("TEAMS_WEBHOOK_URL_SECRET_ARN:"),
            "{err}"
        );
        let c = config(&[("SNS_TOPIC_ARN", topic), ("CHATBOT_NOTIFICATIONS", "true")]).unwrap();
        assert!(c.chatbot_notifications);
        for bad in [
            vec![("SNS_TOPIC_ARN", topic), ("CHATBOT_NOTIFICATIONS", "yes")],
            vec![
                ("SLACK_WEBHOOK_URL", "https://hooks.slack.com/x"),
                ("CHATBOT_NOTIFICATIONS", "true"),
            ],
            vec![("SNS_TOPIC_ARN", topic), ("INCIDENT_QUIET_MINUTES", "10")],
            vec![
                ("SNS_TOPIC_ARN", topic),
                ("INCIDENT_QUIET_MINUTES", "an hour"),
            ],
        ] {
            assert!(config(&bad).is_err(), "{bad:?}");
        }
        let c = config(&[("SNS_TOPIC_ARN", topic), ("INCIDENT_QUIET_MINUTES", "90")]).unwrap();
        assert_eq!(c.incident_quiet_minutes, 90);
        let muted = config(&[
            ("SNS_TOPIC_ARN", topic),
            (
                "ROUTES",
                r#"[{"match": {"service": "batch-*"}, "mute": true}]"#,
            ),
        ])
        .unwrap();
        assert!(!muted.routes.is_empty());
        let err = config(&[
            ("SNS_TOPIC_ARN", topic),
            ("ROUTES", r#"[{"slack_channel": "C0TEAM0001"}]"#),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("needs Slack's app mode"), "{err}");
        let err = config(&[("SNS_TOPIC_ARN", topic), ("ROUTES", "[{")]).unwrap_err();
        assert!(
            err.to_string().starts_with("ROUTES: not a JSON array"),
            "{err}"
        );
    }

    #[test]
    fn paging_needs_a_secret_arn_and_the_dedup_table_and_is_a_sink_of_its_own() {
        let secret = "arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:pd-AbCdEf";
        let c = config(&[
            ("PAGERDUTY_ROUTING_KEY_SECRET_ARN", secret),
            ("DEDUP_TABLE", "dedup"),
        ])
        .unwrap();
        let pd = c.pagerduty.unwrap();
        assert_eq!(
            c.pagerduty_events_url,
            "https://events.pagerduty.com/v2/enqueue"
        );
        assert_eq!(pd.routing_key_secret_arn, secret);
        let err = config(&[("PAGERDUTY_ROUTING_KEY_SECRET_ARN", secret)]).unwrap_err();
        assert!(err.to_string().contains("needs DEDUP_TABLE"), "{err}");
        let err = config(&[
            ("PAGERDUTY_ROUTING_KEY_SECRET_ARN", "routing-key-itself"),
            ("DEDUP_TABLE", "dedup"),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("PAGERDUTY_ROUTING_KEY_SECRET_ARN:"),
            "{err}"
        );
        let err = config(&[
            ("PAGERDUTY_ROUTING_KEY_SECRET_ARN", secret),
            ("DEDUP_TABLE", "dedup"),
            ("PAGERDUTY_EVENTS_URL", "events.pagerduty.com"),
        ])
        .unwrap_err();
        assert!(
            err.to_string().starts_with("PAGERDUTY_EVENTS_URL:"),
            "{err}"
        );
    }

    #[test]
    fn minimal_configuration_has_defaults() {
        let c = config(&[("SNS_TOPIC_ARN", TOPIC)]).unwrap();
        assert_eq!(c.lang, Lang::En);
        assert_eq!(c.dedup, None);
        assert_eq!(c.ip_ranges_file, None);
        assert!(
            !c.gate_fail_closed,
            "a broken doctor never blocks by default"
        );
        let closed = config(&[("SNS_TOPIC_ARN", TOPIC), ("GATE_FAIL_CLOSED", "TRUE")]).unwrap();
        assert!(closed.gate_fail_closed);
        let err = config(&[("SNS_TOPIC_ARN", TOPIC), ("GATE_FAIL_CLOSED", "yes")]).unwrap_err();
        assert!(err.to_string().starts_with("GATE_FAIL_CLOSED:"), "{err}");
    }

    #[test]
    fn dedup_window_defaults_and_validates() {
        let c = config(&[("SNS_TOPIC_ARN", TOPIC), ("DEDUP_TABLE", "pull-doctor")]).unwrap();
        assert_eq!(
            c.dedup.unwrap().window_minutes,
            DEFAULT_DEDUP_WINDOW_MINUTES
        );
        let err = config(&[
            ("SNS_TOPIC_ARN", TOPIC),
            ("DEDUP_TABLE", "t"),
            ("DEDUP_WINDOW_MINUTES", "0"),
        ])
        .unwrap_err();
        assert!(
            err.to_string().starts_with("DEDUP_WINDOW_MINUTES:"),
            "{err}"
        );
        let err = config(&[("SNS_TOPIC_ARN", TOPIC), ("DEDUP_WINDOW_MINUTES", "30")]).unwrap_err();
        assert!(err.to_string().contains("DEDUP_TABLE"), "{err}");
    }

    #[test]
    fn bad_values_name_their_variable() {
        let err =
            config(&[("SNS_TOPIC_ARN", "arn:aws:sqs:ap-northeast-2:111122223333:q")]).unwrap_err();
        assert!(
            err.to_string().starts_with("SNS_TOPIC_ARN: not an sns ARN"),
            "{err}"
        );
        let err = config(&[("SNS_TOPIC_ARN", TOPIC), ("DIAGNOSIS_LANG", "fr")]).unwrap_err();
        assert!(err.to_string().starts_with("DIAGNOSIS_LANG:"), "{err}");
        let err = config(&[("SLACK_WEBHOOK_SECRET_ARN", "slack")]).unwrap_err();
        assert!(
            err.to_string().starts_with("SLACK_WEBHOOK_SECRET_ARN:"),
            "{err}"
        );
        assert_eq!(config(&[]).unwrap_err(), ConfigError::NoSink);
        assert_eq!(
            config(&[("SNS_TOPIC_ARN", "  ")]).unwrap_err(),
            ConfigError::NoSink
        );
    }

    #[test]
    fn central_mode_needs_a_role_name_and_the_accounts_it_accepts() {
        let c = config(&[
            ("SNS_TOPIC_ARN", TOPIC),
            ("MEMBER_ROLE_NAME", "ecs-pull-doctor-read"),
            ("ALLOWED_ACCOUNTS", "210987654321, 111122223333"),
            ("ACCOUNT_NAMES", r#"{"210987654321": "payments-prod"}"#),
        ])
        .unwrap();
        let members = c.members.unwrap();
        assert!(members.allowed.allows("111122223333"));
        assert!(!members.allowed.allows("999999999999"));
        assert_eq!(c.account_names["210987654321"], "payments-prod");
        let any = config(&[
            ("SNS_TOPIC_ARN", TOPIC),
            ("MEMBER_ROLE_NAME", "r"),
            ("ALLOWED_ACCOUNTS", "*"),
            ("ORGANIZATION_ID", "o-a1b2c3d4e5"),
        ])
        .unwrap();
        let allowed = any.members.unwrap().allowed;
        assert!(allowed.allows("999999999999"));
        assert!(!allowed.allows("99999999999x"), "only account IDs");
        assert!(!allowed.allows("*"));
        for (vars, variable) in [
            (vec![("MEMBER_ROLE_NAME", "r")], "ALLOWED_ACCOUNTS"),
            (
                vec![("MEMBER_ROLE_NAME", "r"), ("ALLOWED_ACCOUNTS", "12345")],
                "ALLOWED_ACCOUNTS",
            ),
            (vec![("ALLOWED_ACCOUNTS", "*")], "MEMBER_ROLE_NAME"),
            (
                vec![("MEMBER_ROLE_NAME", "r"), ("ALLOWED_ACCOUNTS", "*")],
                "ALLOWED_ACCOUNTS",
            ),
            (
                vec![
                    ("MEMBER_ROLE_NAME", "r"),
                    ("ALLOWED_ACCOUNTS", "*"),
                    ("ORGANIZATION_ID", "o-x"),
                ],
                "ORGANIZATION_ID",
            ),
            (vec![("MEMBER_ROLE_NAME", "no spaces")], "MEMBER_ROLE_NAME"),
            (vec![("ACCOUNT_NAMES", "[1]")], "ACCOUNT_NAMES"),
        ] {
            let mut all = vec![("SNS_TOPIC_ARN", TOPIC)];
            all.extend(vars);
            let err = config(&all).unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("{variable}:")),
                "{err}"
            );
        }
    }

    #[test]
    fn the_webhook_url_is_never_printed() {
        let secret = "https://hooks.slack.com/services/T000/B000/very-secret";
        let c = config(&[("SLACK_WEBHOOK_URL", secret), ("DIAGNOSIS_LANG", "ko")]).unwrap();
        assert_eq!(c.lang, Lang::Ko);
        assert!(!format!("{c:?}").contains("very-secret"));
        let err = config(&[("SLACK_WEBHOOK_URL", "ftp://very-secret")]).unwrap_err();
        assert!(!err.to_string().contains("very-secret"), "{err}");
    }
}
