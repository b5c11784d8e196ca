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
//!   (N), `causes` (SS), `service` (S, `cluster/service`), `announced` (N: a failure of it
//!   was not muted), `expires_at` (N, the table's TTL: a week after the last event, long
//!   after ECS stops retrying);
//! - `paged` and `teams_told` (SS): the finding codes PagerDuty and Teams have, with their
//!   claims `page_lease_<CODE>` and `teams_lease_<CODE>` (N), and `pagerduty_via` and
//!   `teams_via` (SS): the secrets they were told through (`default` for the defaults);
//! - `mitigations` (SS): the deployment events told, `mitigated_to` (SS, `EVENT:channel`),
//!   `mitigation_lease_until` (N: an invocation is telling one);
//! - Slack's app mode: `slack_ts` and `slack_channel` (S, the parent and its channel),
//!   `slack_parent` (S, its diagnosis blocks as JSON), `slack_causes` (SS, the causes the
//!   parent and its thread told), `slack_updated_at` (N), `slack_lease_until` (N: an
//!   invocation is posting the parent);
//! - while closing, `resolved_to` (SS, the channels that were told), `close_lease_until` (N:
//!   an invocation is closing it) and `closing_by` (S: the event that closes it, or `quiet`).
//!
//! Closing removes all but the state. Beside it, `incident-event#<key>#<opened_at>#<CODE>`
//! keeps the first failed task's event of each cause (written once, so the busy incident
//! item stays small), and `incidents#open` lists the open incidents' keys (`keys`, SS) for
//! the quiet check.
//!
//! A failure is recorded only in an open incident that is not quiet, or in none (it opens
//! one): while a close runs, the failure waits for it and then opens the next incident.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::dedup::{DedupError, TTL_ATTRIBUTE};
use super::now_epoch_seconds as now_seconds;

/// The item listing the open incidents' keys (`keys`, SS).
const OPEN_INDEX: &str = "incidents#open";

/// How long an incident's item outlives its last event.
const KEEP_SECONDS: u64 = 7 * 24 * 3600;

/// An incident's `state`. A mitigated incident is open, with `mitigations`.
const OPEN: &str = "open";
const RESOLVING: &str = "resolving";
const RESOLVED: &str = "resolved";
/// What a close held by an invocation that stopped says it was for, when quiet.
const QUIET: &str = "quiet";
/// The largest failed-task event kept per cause (kept events are a few KB: see
/// [`IncidentTable::keep_cause_event`]).
pub const MAX_KEPT_EVENT_BYTES: usize = 32 * 1024;
/// What the record calls a channel's default destination (a route names a secret ARN).
pub const DEFAULT_VIA: &str = "default";

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

    fn lease_prefix(self) -> &'static str {
        match self {
            CauseChannel::PagerDuty => "page_lease_",
            CauseChannel::Teams => "teams_lease_",
        }
    }

    /// The claim on telling `cause` (finding codes are upper-case letters and underscores).
    fn lease(self, cause: &str) -> String {
        format!("{}{cause}", self.lease_prefix())
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    }
}

/// An incident as it was when its close began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedIncident {
    pub opened_at: Option<u64>,
    pub failed_tasks: u64,
    /// `cluster/service`, for titles.
    pub service: Option<String>,
    pub slack: SlackParent,
    /// The channels a retried close already told.
    pub resolved_to: Vec<String>,
    /// Every cause of the incident.
    pub causes: Vec<String>,
    /// Where Teams and PagerDuty were told of the incident (and so are told it closed).
    pub teams_via: Vec<String>,
    pub pagerduty_via: Vec<String>,
    /// A failure of it was not muted (Amazon Q Developer heard of it).
    pub announced: bool,
    /// The attributes named by cause, removed when the incident closes.
    pub leftovers: Vec<String>,
}

/// Where an incident's close stands, for a failure that could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRecorded {
    /// Open, and no failure for the quiet period: close it as quiet, then record.
    Quiet,
    /// Another invocation is closing it until `until`: wait for it.
    Closing { until: u64 },
    /// A close was begun by an invocation that stopped; `by` is what it was for (an event's
    /// name, or quiet): finish it, then record.
    Abandoned { by: Option<String> },
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
    /// The incident had no failure of this cause before (its task's event is to be kept).
    pub new_cause: bool,
    /// A failed deployment or its rollback mitigated it.
    pub mitigated: bool,
}

/// Why a failure was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The incident went quiet or is being closed: see [`NotRecorded`].
    #[error("the incident is not open for failures now ({0:?})")]
    NotNow(NotRecorded),
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
    pub told_channels: Vec<String>,
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

/// Every cause of the incident, in one sorted list (`causes`, and for an item written
/// before it was kept, the causes its channels were told).
fn all_causes(item: &Item) -> Vec<String> {
    let mut causes: Vec<String> = [
        "causes",
        CauseChannel::PagerDuty.told(),
        CauseChannel::Teams.told(),
        "slack_causes",
    ]
    .iter()
    .flat_map(|name| strings(item, name))
    .collect();
    causes.sort();
    causes.dedup();
    causes
}

/// The destinations `channel` was told through; an item paged before destinations were
/// recorded was paged through the default.
fn vias(item: &Item, channel: CauseChannel) -> Vec<String> {
    let vias = strings(item, channel.via());
    if vias.is_empty() && !strings(item, channel.told()).is_empty() {
        return vec![DEFAULT_VIA.to_string()];
    }
    vias
}

/// The item that keeps the first failed task's event of `cause` in the incident opened at
/// `opened_at` (apart from the incident's item, which every failure rewrites).
fn cause_event_pk(key: &str, opened_at: u64, cause: &str) -> AttributeValue {
    AttributeValue::S(format!("incident-event#{key}#{opened_at}#{cause}"))
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

    /// Records a failed task of `cause` (a finding code) of `service` (`cluster/service`)
    /// under `key` at `now`, opening the incident when none is open; [`RecordError::NotNow`]
    /// when the open incident saw no failure for `quiet_seconds` or is being closed (the
    /// failure belongs to the next incident, after that close).
    pub async fn record_failure(
        &self,
        (key, service): (&str, &str),
        cause: &str,
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
                "SET #state = :open, last_seen = :now, #ttl = :ttl, opened_at = if_not_exists(opened_at, :now), service = if_not_exists(service, :service){announce} ADD failed_tasks :one, causes :cause",
            ))
            // A closed incident (its item emptied) opens again; an open one is added to
            // only while it is not quiet; one being closed, not at all.
            .condition_expression(
                "attribute_not_exists(#state) OR #state = :resolved OR (#state = :open AND last_seen >= :quiet_since)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":open", AttributeValue::S(OPEN.into()))
            .expression_attribute_values(":resolved", AttributeValue::S(RESOLVED.into()))
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(
                ":quiet_since",
                number(now.saturating_sub(quiet_seconds)),
            )
            .expression_attribute_values(":ttl", number(now + KEEP_SECONDS))
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":service", AttributeValue::S(service.into()))
            .expression_attribute_values(":cause", AttributeValue::Ss(vec![cause.into()]))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(err) if is_condition_failure(&err) => {
                return Err(RecordError::NotNow(self.why_not_recorded(key, now).await?))
            }
            Err(err) => return Err(self.error(&err).into()),
        };
        let old = out.attributes.unwrap_or_default();
        let was_open = text(&old, "state").as_deref() == Some(OPEN);
        let failed_tasks = whole(&old, "failed_tasks").unwrap_or(0) + 1;
        let opened_at = whole(&old, "opened_at").unwrap_or(now);
        if !was_open {
            if let Err(err) = self.index(key, true).await {
                tracing::warn!(incident = key, error = %err, "the open incident is not indexed: the quiet check will not close it (its next event will)");
            }
            return Ok(Recorded {
                untold: vec![CauseChannel::PagerDuty, CauseChannel::Teams],
                failed_tasks,
                opened_at,
                slack: SlackParent::default(),
                teams_causes: Vec::new(),
                new_cause: true,
                mitigated: false,
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
            new_cause: !strings(&old, "causes").iter().any(|c| c == cause),
            mitigated: !strings(&old, "mitigations").is_empty(),
        })
    }

    /// Why a failure at `now` could not be recorded, read consistently.
    async fn why_not_recorded(&self, key: &str, now: u64) -> Result<NotRecorded, DedupError> {
        let item = self.read(key).await?.unwrap_or_default();
        Ok(match text(&item, "state").as_deref() {
            Some(RESOLVING) => match whole(&item, "close_lease_until") {
                Some(until) if until >= now => NotRecorded::Closing { until },
                _ => NotRecorded::Abandoned {
                    by: text(&item, "closing_by"),
                },
            },
            // The state changed since (a close finished): the next try records it.
            _ => NotRecorded::Quiet,
        })
    }

    /// The incident's item, read consistently.
    async fn read(&self, key: &str) -> Result<Option<Item>, DedupError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", pk(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| DedupError::from_sdk("dynamodb:GetItem", &self.table, &e))?;
        Ok(out.item)
    }

    /// Keeps `event` (the failed task's event, without what the diagnosis does not read) as
    /// the first of `cause` in the incident opened at `opened_at`, for its close to check
    /// again; a cause already kept is left as it is.
    pub async fn keep_cause_event(
        &self,
        key: &str,
        (opened_at, cause): (u64, &str),
        event: &str,
        now: u64,
    ) -> Result<(), DedupError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", cause_event_pk(key, opened_at, cause))
            .item("event", AttributeValue::S(event.to_string()))
            .item(TTL_ATTRIBUTE, number(now + KEEP_SECONDS))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(DedupError::from_sdk("dynamodb:PutItem", &self.table, &err)),
        }
    }

    /// The kept first event of each of `causes` in the incident opened at `opened_at`
    /// (`None` for a cause whose event was not kept).
    pub async fn cause_events(
        &self,
        key: &str,
        opened_at: u64,
        causes: &[String],
    ) -> Result<Vec<(String, Option<String>)>, DedupError> {
        let mut events = Vec::with_capacity(causes.len());
        for cause in causes {
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("pk", cause_event_pk(key, opened_at, cause))
                .send()
                .await
                .map_err(|e| DedupError::from_sdk("dynamodb:GetItem", &self.table, &e))?;
            events.push((
                cause.clone(),
                out.item.as_ref().and_then(|i| text(i, "event")),
            ));
        }
        Ok(events)
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

    /// Claims telling the mitigation `event_name` (`SERVICE_DEPLOYMENT_FAILED`, the rollback)
    /// of the open incident under `key` until `until` (the invocation's deadline): `None` when
    /// none is open, that event was told, or another invocation is telling it.
    pub async fn claim_mitigation(
        &self,
        key: &str,
        event_name: &str,
        now: u64,
        until: u64,
    ) -> Result<Option<Mitigating>, DedupError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(key))
            .update_expression("SET mitigation_lease_until = :until")
            .condition_expression(
                "#state = :open AND NOT contains(mitigations, :name) AND (attribute_not_exists(mitigation_lease_until) OR mitigation_lease_until < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":open", AttributeValue::S(OPEN.into()))
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":until", number(until))
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
                    told_channels: strings(&item, "mitigated_to")
                        .iter()
                        .filter_map(|t| t.strip_prefix(&prefix).map(str::to_string))
                        .collect(),
                    teams_via: vias(&item, CauseChannel::Teams),
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

    /// Every channel took the mitigation `event_name`, or (`told` false) one did not: the
    /// claim is given back either way, and only a told one is marked so.
    pub async fn mitigation_done(
        &self,
        key: &str,
        event_name: &str,
        told: bool,
    ) -> Result<(), DedupError> {
        if !told {
            return self
                .update_if(
                    key,
                    "REMOVE mitigation_lease_until",
                    "#state = :open",
                    vec![open()],
                )
                .await
                .map(|_| ());
        }
        self.update_if(
            key,
            "SET mitigated_at = if_not_exists(mitigated_at, :now) ADD mitigations :event REMOVE mitigation_lease_until",
            "#state = :open",
            vec![
                open(),
                (":now", number(now_seconds())),
                (":event", AttributeValue::Ss(vec![event_name.into()])),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Whether the incident under `key` is open (read consistently).
    pub async fn is_open(&self, key: &str) -> Result<bool, DedupError> {
        let item = self.read(key).await?;
        Ok(item.and_then(|i| text(&i, "state")).as_deref() == Some(OPEN))
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
        (now, until): (u64, u64),
        closing: Option<&str>,
        quiet_since: Option<u64>,
    ) -> Result<Option<ClosedIncident>, DedupError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(key))
            .update_expression(
                "SET #state = :resolving, #ttl = :ttl, close_lease_until = :until, closing_by = :by",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":open", AttributeValue::S(OPEN.into()))
            .expression_attribute_values(":resolving", AttributeValue::S(RESOLVING.into()))
            .expression_attribute_values(":ttl", number(now + KEEP_SECONDS))
            .expression_attribute_values(":until", number(until))
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(
                ":by",
                AttributeValue::S(closing.unwrap_or(QUIET).to_string()),
            )
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
                Ok(Some(ClosedIncident {
                    opened_at: whole(&old, "opened_at"),
                    failed_tasks: whole(&old, "failed_tasks").unwrap_or(0),
                    service: text(&old, "service"),
                    slack: SlackParent::from_item(&old),
                    resolved_to: strings(&old, "resolved_to"),
                    causes: all_causes(&old),
                    teams_via: vias(&old, CauseChannel::Teams),
                    pagerduty_via: vias(&old, CauseChannel::PagerDuty),
                    announced: old.contains_key("announced"),
                    leftovers: old
                        .keys()
                        .filter(|n| {
                            [CauseChannel::PagerDuty, CauseChannel::Teams]
                                .iter()
                                .any(|c| n.starts_with(c.lease_prefix()))
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
            "paged, teams_told, pagerduty_via, teams_via, causes, service, announced, close_lease_until, closing_by, mitigations, mitigated_at, mitigated_to, mitigation_lease_until, opened_at, failed_tasks, slack_ts, slack_channel, slack_parent, slack_causes, slack_updated_at, slack_lease_until, resolved_to",
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
