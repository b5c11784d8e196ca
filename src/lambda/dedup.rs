//! The DynamoDB record behind alert-storm suppression: one item per alert key.
//!
//! One conditional `PutItem` decides: it succeeds for the first event of an alert in its
//! window (or once the last item has expired; DynamoDB's TTL deletes lazily, so the condition
//! checks `expires_at` itself). When it fails, the old item says whether this is the same task
//! again (an invocation retry: deliver what is missing) or another task (count a repeat).
//! Each successful delivery is added to the item's `delivered` string set.
//!
//! Item: `pk` (S, the alert key), `expires_at` (N, epoch seconds, the table's TTL attribute),
//! `first_task`, `first_seen`, `repeats` (N), `last_task`, `last_seen`, `delivered` (SS).

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use crate::alert::{Claim, Sink};

/// The attribute DynamoDB's TTL must be configured on.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// A DynamoDB call that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} on table {table} failed ({message})")]
pub struct DedupError {
    pub action: &'static str,
    pub table: String,
    pub message: String,
}

impl DedupError {
    /// A failed call on `table`, with AWS's error code and message.
    pub fn from_sdk<E>(
        action: &'static str,
        table: &str,
        err: &aws_sdk_dynamodb::error::SdkError<E>,
    ) -> DedupError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        DedupError {
            action,
            table: table.to_string(),
            message: match err.code() {
                Some(code) => format!("{code}: {}", err.message().unwrap_or("")),
                None => DisplayErrorContext(err).to_string(),
            },
        }
    }
}

/// The dedup table and its window.
#[derive(Debug, Clone)]
pub struct DedupTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
    window_minutes: u32,
}

type Item = HashMap<String, AttributeValue>;

fn number(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name)?.as_s().ok().cloned()
}

fn whole(item: &Item, name: &str) -> Option<u64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn sinks(item: &Item, name: &str) -> Vec<Sink> {
    item.get(name)
        .and_then(|v| v.as_ss().ok())
        .map(|names| names.iter().filter_map(|n| Sink::parse(n)).collect())
        .unwrap_or_default()
}

impl DedupTable {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String, window_minutes: u32) -> Self {
        DedupTable {
            client,
            table,
            window_minutes,
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn window_minutes(&self) -> u32 {
        self.window_minutes
    }

    fn error<E>(
        &self,
        action: &'static str,
        err: &aws_sdk_dynamodb::error::SdkError<E>,
    ) -> DedupError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        DedupError::from_sdk(action, &self.table, err)
    }

    /// Decides what `task` (an ARN, or another stable identity of the event) may do under
    /// alert `key` at `now` (epoch seconds).
    pub async fn claim(&self, key: &str, task: &str, now: u64) -> Result<Claim, DedupError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(key.to_string()))
            .item(
                TTL_ATTRIBUTE,
                number(now + u64::from(self.window_minutes) * 60),
            )
            .item("first_task", AttributeValue::S(task.to_string()))
            .item("first_seen", number(now))
            .item("repeats", number(0))
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", number(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let old = match put {
            Ok(_) => return Ok(Claim::First),
            Err(err) => match err.as_service_error() {
                // AWS returns the old item with the failed condition (ALL_OLD); without it
                // the event is counted as a repeat, which at worst suppresses a retry.
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    failed.item().cloned().unwrap_or_default()
                }
                _ => return Err(self.error("dynamodb:PutItem", &err)),
            },
        };
        let first_task = text(&old, "first_task").unwrap_or_default();
        if first_task == task {
            return Ok(Claim::Retry {
                delivered: sinks(&old, "delivered"),
            });
        }
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_string()))
            .update_expression("ADD repeats :one SET last_task = :task, last_seen = :now")
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":task", AttributeValue::S(task.to_string()))
            .expression_attribute_values(":now", number(now))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|err| self.error("dynamodb:UpdateItem", &err))?;
        let repeats = counted
            .attributes()
            .and_then(|a| whole(a, "repeats"))
            .unwrap_or(1);
        Ok(Claim::Repeat {
            repeats,
            first_task,
        })
    }

    /// Records that `delivered` now hold this alert, so a retried invocation skips them.
    pub async fn record_delivery(&self, key: &str, delivered: &[Sink]) -> Result<(), DedupError> {
        if delivered.is_empty() {
            return Ok(());
        }
        let names = delivered.iter().map(|s| s.as_str().to_string()).collect();
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_string()))
            .update_expression("ADD delivered :sinks")
            .expression_attribute_values(":sinks", AttributeValue::Ss(names))
            .send()
            .await
            .map_err(|err| self.error("dynamodb:UpdateItem", &err))?;
        Ok(())
    }
}
