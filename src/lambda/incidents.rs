//! The incident record behind every incident channel: one item per incident (a service in a
//! cluster, account and region) in the dedup table, which says what each channel still has
//! to be told (a cause, a mitigation, the close) and where it was told.
//!
//! Every decision is one conditional `UpdateItem`, so two invocations at the same moment
//! cannot both open, mitigate or close one incident; a cause is marked told only once the
//! channel took it (a failed send is sent again by the invocation's retry), under a claim
//! that lets one invocation of those that found it untold send it.
//!
//! Item (`pk`: `incident#` + the incident key):
//! - `state` (S: `open`, `resolving`, `resolved`; an open incident with `mitigations` is
//!   mitigated), `opened_at`, `last_seen`, `resolved_at` (N, epoch seconds), `failed_tasks`
//!   (N), `announced` (N: a failure of it was not muted), `expires_at` (N, the table's TTL: a
//!   week after the last event, long after ECS stops retrying);
//! - `event_<CODE>` (S): the first failed task's event of each cause, to check its path again
//!   when the incident closes;
//! - `paged` and `teams_told` (SS): the finding codes PagerDuty and Teams have, with their
//!   claims `page_lease_<CODE>` and `teams_lease_<CODE>` (N), and `pagerduty_via` and
//!   `teams_via` (SS): the secrets they were told through (`default` for the defaults);
//! - `mitigations` (SS): the deployment events told, `mitigated_to` (SS, `EVENT:channel`);
//! - Slack's app mode: `slack_ts` and `slack_channel` (S, the parent and its channel),
//!   `slack_parent` (S, its diagnosis blocks as JSON), `slack_causes` (SS, the causes the
//!   parent and its thread told), `slack_updated_at` (N), `slack_lease_until` (N: an
//!   invocation is posting the parent);
//! - while resolving, `resolved_to` (SS, the channels that were told) and
//!   `close_lease_until` (N: an invocation is closing it).
//!
//! Closing removes all but the state. The item `incidents#open` lists the open incidents'
//! keys (`keys`, SS) for the schedule.
//!
//! An open incident with no failure for the quiet period is closed by the next event that
//! finds it, or by the schedule (a failure opens a new one after it).

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::dedup::{DedupError, TTL_ATTRIBUTE};

/// The item listing the open incidents' keys (`keys`, SS).
const OPEN_INDEX: &str = "incidents#open";

/// How long an incident's item outlives its last event.
const KEEP_SECONDS: u64 = 7 * 24 * 3600;

/// An incident's `state`. A mitigated incident is open, with `mitigations`.
const OPEN: &str = "open";
const RESOLVING: &str = "resolving";
const RESOLVED: &str = "resolved";
/// The largest failed-task event kept per cause (ECS's are a few KB).
pub const MAX_KEPT_EVENT_BYTES: usize = 32 * 1024;

/// A channel that is told each cause once (a PagerDuty trigger, a Teams card).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CauseChannel {
    PagerDuty,
    Teams,
}

impl CauseChannel {
    /// The set of causes the channel has.
    fn told(self) -> &'static str {
        match self {
            CauseChannel::PagerDuty => "paged",
            CauseChannel::Teams => "teams_told",
        }
    }

    /// The set of destinations (routing-key or URL secrets, or `default`) it was told through.
    fn via(self) -> &'static str {
        match self {
            CauseChannel::PagerDuty => "pagerduty_via",
            CauseChannel::Teams => "teams_via",
        }
    }

    /// The claim on telling `cause` (finding codes are upper-case letters and underscores).
    fn lease(self, cause: &str) -> String {
        let prefix = match self {
            CauseChannel::PagerDuty => "page_lease_",
            CauseChannel::Teams => "teams_lease_",
        };
        format!("{prefix}{cause}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    }
}

/// An incident that was open or mitigated when it was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub opened_at: Option<u64>,
    pub failed_tasks: u64,
    pub slack: SlackParent,
    /// The channels a retried resolve already told.
    pub resolved_to: Vec<String>,
    /// The first failed task's event of each cause (code, event JSON), to check again.
    pub cause_events: Vec<(String, String)>,
    /// Every cause any channel was told of.
    pub causes: Vec<String>,
    /// Where Teams and PagerDuty were told of the incident (and so are told it closed).
    pub teams_via: Vec<String>,
    pub pagerduty_via: Vec<String>,
    /// A failure of it was not muted (Amazon Q Developer heard of it).
    pub announced: bool,
    /// The attributes named by cause, removed when the incident closes.
    pub leftovers: Vec<String>,
}

/// A failure as recorded in its incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The cause channels that do not have this cause yet.
    pub untold: Vec<CauseChannel>,
    /// The incident now, this failure included.
    pub failed_tasks: u64,
    pub opened_at: u64,
    pub slack: SlackParent,
    /// The causes Teams already has (a new one's card says it is new).
    pub teams_causes: Vec<String>,
}

/// An open incident that saw no failure for the quiet period: the failure that found it was
/// not recorded; close it, then record again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the incident saw no failure for its quiet period")]
pub struct WentQuiet;

/// Why a failure was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Quiet(#[from] WentQuiet),
    #[error(transparent)]
    Table(#[from] DedupError),
}

/// What the deployment events said of a mitigation, to tell once each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mitigating {
    pub opened_at: Option<u64>,
    pub failed_tasks: u64,
    pub slack: SlackParent,
    pub causes: Vec<String>,
    /// The channels a retry of this event already told.
    pub told: Vec<String>,
    pub teams_via: Vec<String>,
    pub announced: bool,
}

/// The incident's parent message in Slack (app mode), as the record has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlackParent {
    pub ts: Option<String>,
    /// The channel it is in (the default, or a route's).
    pub channel: Option<String>,
    /// The first diagnosis's blocks, to edit the status line without a diagnosis.
    pub blocks: Option<String>,
    pub causes: Vec<String>,
    pub updated_at: Option<u64>,
}

impl SlackParent {
    fn from_item(item: &Item) -> SlackParent {
        SlackParent {
            ts: text(item, "slack_ts"),
            channel: text(item, "slack_channel"),
            blocks: text(item, "slack_parent"),
            causes: strings(item, "slack_causes"),
            updated_at: whole(item, "slack_updated_at"),
        }
    }
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name)?.as_s().ok().cloned()
}

fn strings(item: &Item, name: &str) -> Vec<String> {
    let mut found: Vec<String> = item
        .get(name)
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default();
    found.sort();
    found
}

/// The incidents, kept in the dedup table.
#[derive(Debug, Clone)]
pub struct IncidentTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

fn pk(key: &str) -> AttributeValue {
    AttributeValue::S(format!("incident#{key}"))
}

/// The `:open` expression value.
fn open() -> (&'static str, AttributeValue) {
    (":open", AttributeValue::S(OPEN.into()))
}

/// The name of the attribute that keeps `cause`'s first event.
fn event_attribute(cause: &str) -> String {
    format!("event_{cause}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn cause_events(item: &Item) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = item
        .iter()
        .filter_map(|(name, value)| {
            let cause = name.strip_prefix("event_")?;
            Some((cause.to_string(), value.as_s().ok()?.clone()))
        })
        .collect();
    found.sort();
    found
}

/// Every cause the incident's channels know of, in one sorted list.
fn all_causes(item: &Item) -> Vec<String> {
    let mut causes: Vec<String> = ["paged", "teams_told", "slack_causes"]
        .iter()
        .flat_map(|name| strings(item, name))
        .chain(cause_events(item).into_iter().map(|(cause, _)| cause))
        .collect();
    causes.sort();
    causes.dedup();
    causes
}

fn number(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn whole(item: &Item, name: &str) -> Option<u64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn is_condition_failure(err: &aws_sdk_dynamodb::error::SdkError<UpdateItemError>) -> bool {
    matches!(
        err.as_service_error(),
        Some(UpdateItemError::ConditionalCheckFailedException(_))
    )
}

impl IncidentTable {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> IncidentTable {
        IncidentTable { client, table }
    }

    fn error(&self, err: &aws_sdk_dynamodb::error::SdkError<UpdateItemError>) -> DedupError {
        DedupError::from_sdk("dynamodb:UpdateItem", &self.table, err)
    }

    /// Records a failed task of `cause` (a finding code) under `key` at `now`, opening the
    /// incident when none is open and keeping `event` (the task's event) as the cause's first;
    /// [`WentQuiet`] when an open incident saw no failure for `quiet_seconds`.
    pub async fn record_failure(
        &self,
        key: &str,
        cause: &str,
        event: &str,
        now: u64,
        quiet_seconds: u64,
        muted: bool,
    ) -> Result<Recorded, RecordError> {
        // A muted failure is counted, but does not make the incident heard.
        let announce = if muted { "" } else { ", announced = :now" };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(key))
            .update_expression(format!(
                "SET #state = :open, last_seen = :now, #ttl = :ttl, opened_at = if_not_exists(opened_at, :now), #event = if_not_exists(#event, :event){announce} ADD failed_tasks :one",
            ))
            // A closed incident (its item emptied) opens again; an open one is added to
            // only while it is not quiet.
            .condition_expression("attribute_not_exists(#state) OR #state <> :open OR last_seen >= :quiet_since")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_names("#event", event_attribute(cause))
            .expression_attribute_values(":open", AttributeValue::S(OPEN.into()))
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":quiet_since", number(now.saturating_sub(quiet_seconds)))
            .expression_attribute_values(":ttl", number(now + KEEP_SECONDS))
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(
                ":event",
                AttributeValue::S(crate::untrusted::cut(event, MAX_KEPT_EVENT_BYTES)),
            )
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(err) if is_condition_failure(&err) => return Err(WentQuiet.into()),
            Err(err) => return Err(self.error(&err).into()),
        };
        let old = out.attributes.unwrap_or_default();
        let was_active = text(&old, "state").as_deref() == Some(OPEN);
        let failed_tasks = whole(&old, "failed_tasks").unwrap_or(0) + 1;
        let opened_at = whole(&old, "opened_at").unwrap_or(now);
        if !was_active {
            if let Err(err) = self.index(key, true).await {
                tracing::warn!(incident = key, error = %err, "the open incident is not indexed: the schedule will not close it when it goes quiet (its next event will)");
            }
            return Ok(Recorded {
                untold: vec![CauseChannel::PagerDuty, CauseChannel::Teams],
                failed_tasks,
                opened_at,
                slack: SlackParent::default(),
                teams_causes: Vec::new(),
            });
        }
        let has = |channel: CauseChannel| strings(&old, channel.told()).iter().any(|c| c == cause);
        Ok(Recorded {
            untold: [CauseChannel::PagerDuty, CauseChannel::Teams]
                .into_iter()
                .filter(|c| !has(*c))
                .collect(),
            failed_tasks,
            opened_at,
            slack: SlackParent::from_item(&old),
            teams_causes: strings(&old, CauseChannel::Teams.told()),
        })
    }

    /// One conditional update of the incident under `key` (`#state` names its state, and
    /// `values` must hold exactly the values the expressions use: DynamoDB refuses unused
    /// ones); false when `condition` did not hold.
    async fn update_if(
        &self,
        key: &str,
        update: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, DedupError> {
        self.conditional_update(key, update, condition, None, values)
            .await
    }

    /// [`Self::update_if`], with `#lease` naming `lease` when given.
    async fn conditional_update(
        &self,
        key: &str,
        update: &str,
        condition: &str,
        lease: Option<String>,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, DedupError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(key))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_names("#state", "state");
        if let Some(lease) = lease {
            request = request.expression_attribute_names("#lease", lease);
        }
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(self.error(&err)),
        }
    }

    /// Claims the posting of the incident's parent message until `until` (the invocation's
    /// deadline): false when it has one, or another invocation holds the claim.
    pub async fn claim_slack_parent(
        &self,
        key: &str,
        now: u64,
        until: u64,
    ) -> Result<bool, DedupError> {
        self.update_if(
            key,
            "SET slack_lease_until = :until",
            "#state = :open AND attribute_not_exists(slack_ts) AND (attribute_not_exists(slack_lease_until) OR slack_lease_until < :now)",
            vec![open(), (":until", number(until)), (":now", number(now))],
        )
        .await
    }

    /// The claim taken until `until` is given back (the post failed): the retry may post.
    pub async fn release_slack_parent(&self, key: &str, until: u64) -> Result<(), DedupError> {
        self.update_if(
            key,
            "REMOVE slack_lease_until",
            "slack_lease_until = :until AND attribute_not_exists(slack_ts) AND #state <> :resolved",
            vec![
                (":until", number(until)),
                (":resolved", AttributeValue::S(RESOLVED.into())),
            ],
        )
        .await
        .map(|_| ())
    }

    /// The parent was posted as `ts`, telling `cause`; `blocks` are its diagnosis blocks.
    pub async fn slack_posted(
        &self,
        key: &str,
        (channel, ts): (&str, &str),
        blocks: &str,
        cause: &str,
        now: u64,
    ) -> Result<(), DedupError> {
        self.update_if(
            key,
            "SET slack_ts = :ts, slack_channel = :channel, slack_parent = :blocks, slack_updated_at = :now ADD slack_causes :cause REMOVE slack_lease_until",
            "#state = :open",
            vec![
                open(),
                (":ts", AttributeValue::S(ts.into())),
                (":channel", AttributeValue::S(channel.into())),
                (":blocks", AttributeValue::S(blocks.into())),
                (":now", number(now)),
                (":cause", AttributeValue::Ss(vec![cause.into()])),
            ],
        )
        .await
        .map(|_| ())
    }

    /// The thread was told of `cause`, and the parent edited, at `now`.
    pub async fn slack_told(&self, key: &str, cause: &str, now: u64) -> Result<(), DedupError> {
        self.update_if(
            key,
            "SET slack_updated_at = :now ADD slack_causes :cause",
            "#state = :open",
            vec![
                open(),
                (":now", number(now)),
                (":cause", AttributeValue::Ss(vec![cause.into()])),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Claims the parent's next edit: true for exactly one invocation among those that read
    /// the same `last` edit time.
    pub async fn claim_slack_update(
        &self,
        key: &str,
        last: u64,
        now: u64,
    ) -> Result<bool, DedupError> {
        self.update_if(
            key,
            "SET slack_updated_at = :now",
            "#state = :open AND slack_updated_at = :last",
            vec![open(), (":now", number(now)), (":last", number(last))],
        )
        .await
    }

    /// A resolve in progress has told `channel` (`pagerduty`, `slack`): its retry does not.
    pub async fn resolved_to(&self, key: &str, channel: &str) -> Result<(), DedupError> {
        self.update_if(
            key,
            "ADD resolved_to :channel",
            "#state = :resolving",
            vec![
                (":resolving", AttributeValue::S(RESOLVING.into())),
                (":channel", AttributeValue::Ss(vec![channel.into()])),
            ],
        )
        .await
        .map(|_| ())
    }

    /// `channel` took `cause` for the open incident under `key`, through `via` (a route's
    /// secret, or `default`).
    pub async fn told(
        &self,
        channel: CauseChannel,
        key: &str,
        cause: &str,
        via: &str,
    ) -> Result<(), DedupError> {
        self.conditional_update(
            key,
            &format!(
                "ADD {} :cause, {} :via REMOVE #lease",
                channel.told(),
                channel.via()
            ),
            "#state = :open",
            Some(channel.lease(cause)),
            vec![
                open(),
                (":cause", AttributeValue::Ss(vec![cause.to_string()])),
                (":via", AttributeValue::Ss(vec![via.to_string()])),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Claims telling `channel` of `cause` until `until` (the invocation's deadline): true for
    /// one invocation of those that found it untold at the same moment.
    pub async fn claim_cause(
        &self,
        channel: CauseChannel,
        key: &str,
        cause: &str,
        now: u64,
        until: u64,
    ) -> Result<bool, DedupError> {
        self.conditional_update(
            key,
            "SET #lease = :until",
            &format!(
                "#state = :open AND NOT contains({}, :code) AND (attribute_not_exists(#lease) OR #lease < :now)",
                channel.told()
            ),
            Some(channel.lease(cause)),
            vec![
                open(),
                (":code", AttributeValue::S(cause.to_string())),
                (":until", number(until)),
                (":now", number(now)),
            ],
        )
        .await
    }

    /// Gives the claim on telling `channel` of `cause` back (the channel did not take it).
    pub async fn release_cause(
        &self,
        channel: CauseChannel,
        key: &str,
        cause: &str,
    ) -> Result<(), DedupError> {
        self.conditional_update(
            key,
            "REMOVE #lease",
            "#state = :open",
            Some(channel.lease(cause)),
            vec![open()],
        )
        .await
        .map(|_| ())
    }

    /// Records that the service's deployment `event_name` (`SERVICE_DEPLOYMENT_FAILED`, the
    /// rollback) mitigated the open incident under `key`: `None` when none is open or that
    /// event was already told (each is told once).
    pub async fn mitigate(
        &self,
        key: &str,
        event_name: &str,
        now: u64,
    ) -> Result<Option<Mitigating>, DedupError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(key))
            .update_expression(
                "SET mitigated_at = if_not_exists(mitigated_at, :now) ADD mitigations :event",
            )
            .condition_expression("#state = :open AND NOT contains(mitigations, :name)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":open", AttributeValue::S(OPEN.into()))
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":event", AttributeValue::Ss(vec![event_name.into()]))
            .expression_attribute_values(":name", AttributeValue::S(event_name.into()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Err(err) if is_condition_failure(&err) => Ok(None),
            Err(err) => Err(self.error(&err)),
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                let prefix = format!("{event_name}:");
                Ok(Some(Mitigating {
                    opened_at: whole(&item, "opened_at"),
                    failed_tasks: whole(&item, "failed_tasks").unwrap_or(0),
                    slack: SlackParent::from_item(&item),
                    causes: all_causes(&item),
                    told: strings(&item, "mitigated_to")
                        .iter()
                        .filter_map(|t| t.strip_prefix(&prefix).map(str::to_string))
                        .collect(),
                    teams_via: strings(&item, CauseChannel::Teams.via()),
                    announced: item.contains_key("announced"),
                }))
            }
        }
    }

    /// `channel` was told of the mitigation `event_name`: its retry does not tell it again.
    pub async fn mitigation_told(
        &self,
        key: &str,
        event_name: &str,
        channel: &str,
    ) -> Result<(), DedupError> {
        self.update_if(
            key,
            "ADD mitigated_to :told",
            "#state = :open",
            vec![
                open(),
                (
                    ":told",
                    AttributeValue::Ss(vec![format!("{event_name}:{channel}")]),
                ),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Telling the mitigation `event_name` failed somewhere: the retry tells it again (where
    /// it was not told).
    pub async fn release_mitigation(&self, key: &str, event_name: &str) -> Result<(), DedupError> {
        self.update_if(
            key,
            "DELETE mitigations :event",
            "#state = :open",
            vec![
                open(),
                (":event", AttributeValue::Ss(vec![event_name.into()])),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Whether the incident under `key` is open (read consistently).
    pub async fn is_open(&self, key: &str) -> Result<bool, DedupError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", pk(key))
            .consistent_read(true)
            .projection_expression("#state")
            .expression_attribute_names("#state", "state")
            .send()
            .await
            .map_err(|e| DedupError::from_sdk("dynamodb:GetItem", &self.table, &e))?;
        Ok(out
            .item
            .as_ref()
            .and_then(|i| text(i, "state"))
            .is_some_and(|s| s == OPEN))
    }

    /// The keys of the incidents opened and not yet closed (for the schedule's quiet check).
    pub async fn open_incidents(&self) -> Result<Vec<String>, DedupError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(OPEN_INDEX.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| DedupError::from_sdk("dynamodb:GetItem", &self.table, &e))?;
        Ok(out
            .item
            .as_ref()
            .map(|i| strings(i, "keys"))
            .unwrap_or_default())
    }

    /// Adds `key` to, or removes it from, the index of open incidents.
    async fn index(&self, key: &str, add: bool) -> Result<(), DedupError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(OPEN_INDEX.into()))
            .update_expression(if add {
                "ADD #keys :key"
            } else {
                "DELETE #keys :key"
            })
            .expression_attribute_names("#keys", "keys")
            .expression_attribute_values(":key", AttributeValue::Ss(vec![key.into()]))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(&e))
    }

    /// Starts closing the incident under `key`, because its service recovered or (with
    /// `quiet_since`) because it saw no failure since then, holding the close until `until`
    /// (the invocation's deadline): `None` when none is open (or it is not quiet, or another
    /// invocation is closing it), else what it was. A close that failed gives its hold back
    /// ([`Self::release_close`]), and its retry starts it again.
    pub async fn begin_resolve(
        &self,
        key: &str,
        now: u64,
        quiet_since: Option<u64>,
        until: u64,
    ) -> Result<Option<Recovered>, DedupError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(key))
            .update_expression("SET #state = :resolving, #ttl = :ttl, close_lease_until = :until")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":open", AttributeValue::S(OPEN.into()))
            .expression_attribute_values(":resolving", AttributeValue::S(RESOLVING.into()))
            .expression_attribute_values(":ttl", number(now + KEEP_SECONDS))
            .expression_attribute_values(":until", number(until))
            .expression_attribute_values(":now", number(now))
            .return_values(ReturnValue::AllOld);
        // A close in progress is taken over only when its holder's time is up.
        let unheld = "(#state = :resolving AND (attribute_not_exists(close_lease_until) OR close_lease_until < :now))";
        request = match quiet_since {
            None => request.condition_expression(format!("#state = :open OR {unheld}")),
            Some(since) => request
                .condition_expression(format!(
                    "(#state = :open AND last_seen < :since) OR {unheld}"
                ))
                .expression_attribute_values(":since", number(since)),
        };
        match request.send().await {
            Err(err) if is_condition_failure(&err) => Ok(None),
            Err(err) => Err(self.error(&err)),
            Ok(out) => {
                let old = out.attributes.unwrap_or_default();
                Ok(Some(Recovered {
                    opened_at: whole(&old, "opened_at"),
                    failed_tasks: whole(&old, "failed_tasks").unwrap_or(0),
                    slack: SlackParent::from_item(&old),
                    resolved_to: strings(&old, "resolved_to"),
                    cause_events: cause_events(&old),
                    causes: all_causes(&old),
                    teams_via: strings(&old, CauseChannel::Teams.via()),
                    pagerduty_via: strings(&old, CauseChannel::PagerDuty.via()),
                    announced: old.contains_key("announced"),
                    leftovers: old
                        .keys()
                        .filter(|n| {
                            n.starts_with("event_")
                                || n.starts_with("page_lease_")
                                || n.starts_with("teams_lease_")
                        })
                        .cloned()
                        .collect(),
                }))
            }
        }
    }

    /// The close held until `until` failed somewhere: its retry may start it again at once.
    pub async fn release_close(&self, key: &str, until: u64) -> Result<(), DedupError> {
        self.update_if(
            key,
            "REMOVE close_lease_until",
            "#state = :resolving AND close_lease_until = :until",
            vec![
                (":resolving", AttributeValue::S(RESOLVING.into())),
                (":until", number(until)),
            ],
        )
        .await
        .map(|_| ())
    }

    /// The channels took the close: the incident is closed, its item emptied of it
    /// (`leftovers` are the attributes named by cause), and its next failure opens a new
    /// one. A failure recorded meanwhile (the state is `open` again) keeps it open.
    pub async fn resolved(
        &self,
        key: &str,
        now: u64,
        leftovers: &[String],
    ) -> Result<(), DedupError> {
        let mut removes = String::from(
            "paged, teams_told, pagerduty_via, teams_via, announced, close_lease_until, mitigations, mitigated_at, mitigated_to, opened_at, failed_tasks, slack_ts, slack_channel, slack_parent, slack_causes, slack_updated_at, slack_lease_until, resolved_to",
        );
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(key));
        for (i, name) in leftovers.iter().enumerate() {
            removes.push_str(&format!(", #left{i}"));
            request = request.expression_attribute_names(format!("#left{i}"), name);
        }
        let result = request
            .update_expression(format!(
                "SET #state = :resolved, resolved_at = :now REMOVE {removes}"
            ))
            .condition_expression("#state = :resolving")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":resolving", AttributeValue::S(RESOLVING.into()))
            .expression_attribute_values(":resolved", AttributeValue::S(RESOLVED.into()))
            .expression_attribute_values(":now", number(now))
            .send()
            .await;
        match result {
            Err(err) if is_condition_failure(&err) => return Ok(()),
            Err(err) => return Err(self.error(&err)),
            Ok(_) => {}
        }
        self.index(key, false).await
    }
}
