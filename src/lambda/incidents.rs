//! The incident record behind paging: one item per incident (a service in a cluster, account
//! and region) in the dedup table, which says whether a cause still has to be paged and
//! whether a recovered service has an incident to resolve.
//!
//! Every decision is one conditional `UpdateItem`, so two invocations at the same moment
//! cannot both resolve one incident, and a cause is marked paged only once PagerDuty took
//! it: a failed trigger is sent again by the invocation's retry. Two invocations paging the
//! same new cause at once both send it; PagerDuty merges them under the one `dedup_key`.
//!
//! Item: `pk` (S, `incident#` + the incident key), `state` (S: `open`, `resolving`,
//! `resolved`), `opened_at`, `last_seen`, `resolved_at` (N, epoch seconds), `failed_tasks`
//! (N), `paged` (SS, the finding codes PagerDuty has), `expires_at` (N, the table's TTL: a
//! week after the last event, long after ECS stops retrying); for Slack's app mode
//! `slack_ts` (S, the parent message), `slack_parent` (S, its diagnosis blocks as JSON),
//! `slack_causes` (SS, the causes the parent and its thread told), `slack_updated_at` (N),
//! `slack_lease_until` (N: an invocation is posting the parent); while resolving,
//! `resolved_to` (SS, the channels that were told). Resolving removes all but the state.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::dedup::{DedupError, TTL_ATTRIBUTE};

/// How long an incident's item outlives its last event.
const KEEP_SECONDS: u64 = 7 * 24 * 3600;

const OPEN: &str = "open";
const RESOLVING: &str = "resolving";
const RESOLVED: &str = "resolved";

/// An incident that was open when its service recovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub opened_at: Option<u64>,
    pub failed_tasks: u64,
    pub slack: SlackParent,
    /// The channels a retried resolve already told.
    pub resolved_to: Vec<String>,
}

/// A failure as recorded in its incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// PagerDuty does not have this cause yet.
    pub page: bool,
    /// The incident now, this failure included.
    pub failed_tasks: u64,
    pub opened_at: u64,
    pub slack: SlackParent,
}

/// The incident's parent message in Slack (app mode), as the record has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlackParent {
    pub ts: Option<String>,
    /// The first diagnosis's blocks, to edit the status line without a diagnosis.
    pub blocks: Option<String>,
    pub causes: Vec<String>,
    pub updated_at: Option<u64>,
}

impl SlackParent {
    fn from_item(item: &Item) -> SlackParent {
        SlackParent {
            ts: text(item, "slack_ts"),
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
    /// incident when none is open.
    pub async fn record_failure(
        &self,
        key: &str,
        cause: &str,
        now: u64,
    ) -> Result<Recorded, DedupError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(key))
            .update_expression(
                "SET #state = :open, last_seen = :now, #ttl = :ttl, opened_at = if_not_exists(opened_at, :now) ADD failed_tasks :one",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":open", AttributeValue::S(OPEN.into()))
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":ttl", number(now + KEEP_SECONDS))
            .expression_attribute_values(":one", number(1))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| self.error(&e))?;
        let old = out.attributes.unwrap_or_default();
        let was_open = text(&old, "state").as_deref() == Some(OPEN);
        let failed_tasks = whole(&old, "failed_tasks").unwrap_or(0) + 1;
        let opened_at = whole(&old, "opened_at").unwrap_or(now);
        if !was_open {
            return Ok(Recorded {
                page: true,
                failed_tasks,
                opened_at,
                slack: SlackParent::default(),
            });
        }
        Ok(Recorded {
            page: !strings(&old, "paged").iter().any(|c| c == cause),
            failed_tasks,
            opened_at,
            slack: SlackParent::from_item(&old),
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
        ts: &str,
        blocks: &str,
        cause: &str,
        now: u64,
    ) -> Result<(), DedupError> {
        self.update_if(
            key,
            "SET slack_ts = :ts, slack_parent = :blocks, slack_updated_at = :now ADD slack_causes :cause REMOVE slack_lease_until",
            "#state = :open",
            vec![
                open(),
                (":ts", AttributeValue::S(ts.into())),
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

    /// PagerDuty took `cause` for the open incident under `key`.
    pub async fn paged(&self, key: &str, cause: &str) -> Result<(), DedupError> {
        self.page_update(
            key,
            cause,
            "ADD paged :cause REMOVE #lease",
            "#state = :open",
            vec![
                open(),
                (":cause", AttributeValue::Ss(vec![cause.to_string()])),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Claims the page of `cause` until `until` (the invocation's deadline): true for one
    /// invocation of those that found it unpaged at the same moment.
    pub async fn claim_page(
        &self,
        key: &str,
        cause: &str,
        now: u64,
        until: u64,
    ) -> Result<bool, DedupError> {
        self.page_update(
            key,
            cause,
            "SET #lease = :until",
            "#state = :open AND NOT contains(paged, :code) AND (attribute_not_exists(#lease) OR #lease < :now)",
            vec![
                open(),
                (":code", AttributeValue::S(cause.to_string())),
                (":until", number(until)),
                (":now", number(now)),
            ],
        )
        .await
    }

    /// Gives the claim on `cause`'s page back (PagerDuty did not take it).
    pub async fn release_page(&self, key: &str, cause: &str) -> Result<(), DedupError> {
        self.page_update(key, cause, "REMOVE #lease", "#state = :open", vec![open()])
            .await
            .map(|_| ())
    }

    /// A conditional update that names the cause's page lease `#lease`
    /// (`page_lease_<CODE>`; finding codes are upper-case letters and underscores).
    async fn page_update(
        &self,
        key: &str,
        cause: &str,
        update: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, DedupError> {
        let lease: String = format!("page_lease_{cause}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        self.conditional_update(key, update, condition, Some(lease), values)
            .await
    }

    /// Starts resolving the incident under `key` because its service recovered: `None` when
    /// none is open (nothing to send), else what it was. A resolve that was started but not
    /// delivered (the invocation failed) is started again by the retry.
    pub async fn begin_resolve(
        &self,
        key: &str,
        now: u64,
    ) -> Result<Option<Recovered>, DedupError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(key))
            .update_expression("SET #state = :resolving, #ttl = :ttl")
            .condition_expression("#state = :open OR #state = :resolving")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":open", AttributeValue::S(OPEN.into()))
            .expression_attribute_values(":resolving", AttributeValue::S(RESOLVING.into()))
            .expression_attribute_values(":ttl", number(now + KEEP_SECONDS))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Err(err) if is_condition_failure(&err) => Ok(None),
            Err(err) => Err(self.error(&err)),
            Ok(out) => {
                let old = out.attributes.unwrap_or_default();
                Ok(Some(Recovered {
                    opened_at: whole(&old, "opened_at"),
                    failed_tasks: whole(&old, "failed_tasks").unwrap_or(0),
                    slack: SlackParent::from_item(&old),
                    resolved_to: strings(&old, "resolved_to"),
                }))
            }
        }
    }

    /// PagerDuty took the resolve: the incident is closed, and its next failure opens a new
    /// one. A failure recorded meanwhile (the state is `open` again) keeps it open.
    pub async fn resolved(&self, key: &str, now: u64) -> Result<(), DedupError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(key))
            .update_expression(
                "SET #state = :resolved, resolved_at = :now REMOVE paged, opened_at, failed_tasks, slack_ts, slack_parent, slack_causes, slack_updated_at, slack_lease_until, resolved_to",
            )
            .condition_expression("#state = :resolving")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":resolving", AttributeValue::S(RESOLVING.into()))
            .expression_attribute_values(":resolved", AttributeValue::S(RESOLVED.into()))
            .expression_attribute_values(":now", number(now))
            .send()
            .await;
        match result {
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(self.error(&err)),
            Ok(_) => Ok(()),
        }
    }
}
