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
//! week after the last event, long after ECS stops retrying).

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
    /// incident when none is open; true when PagerDuty does not have this cause yet.
    pub async fn record_failure(
        &self,
        key: &str,
        cause: &str,
        now: u64,
    ) -> Result<bool, DedupError> {
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
        let was_open = old
            .get("state")
            .and_then(|s| s.as_s().ok())
            .map(String::as_str)
            == Some(OPEN);
        let paged = was_open
            && old
                .get("paged")
                .and_then(|p| p.as_ss().ok())
                .is_some_and(|codes| codes.iter().any(|c| c == cause));
        Ok(!paged)
    }

    /// PagerDuty took `cause` for the open incident under `key`.
    pub async fn paged(&self, key: &str, cause: &str) -> Result<(), DedupError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(key))
            .update_expression("ADD paged :cause")
            .condition_expression("#state = :open")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":open", AttributeValue::S(OPEN.into()))
            .expression_attribute_values(":cause", AttributeValue::Ss(vec![cause.to_string()]))
            .send()
            .await;
        match result {
            // Resolved meanwhile: nothing is paged any more.
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(self.error(&err)),
            Ok(_) => Ok(()),
        }
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
            .update_expression("SET #state = :resolved, resolved_at = :now REMOVE paged, opened_at")
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
