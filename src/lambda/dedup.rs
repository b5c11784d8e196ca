//! The DynamoDB record behind alert-storm suppression: one item per alert key.
//!
//! One conditional `PutItem` decides: it succeeds for the first event of an alert in its
//! window (or once the last item has expired; DynamoDB's TTL deletes lazily, so the condition
//! checks `expires_at` itself). When it fails, the old item says whether this is the same task
//! again (an invocation retry: deliver what is missing) or another task (count a repeat).
//! Each successful delivery is added to the item's `delivered` string set.
//!
//! Delivery is a lease: the invocation that claims an alert (or takes over a retry) holds it
//! until its own deadline (`lease_owner`, its request ID; `lease_until`). A duplicate of the
//! same event running beside it finds the lease held and posts nothing; the holder releases
//! it when it has delivered (or failed to), and a lease whose holder died lapses at that
//! holder's deadline, so the next retry delivers. Taking a lease is one conditional write, so
//! of two invocations at the same moment exactly one gets it.
//!
//! Item: `pk` (S, the alert key), `expires_at` (N, epoch seconds, the table's TTL attribute),
//! `first_task`, `first_seen`, `repeats` (N), `last_task`, `last_seen`, `delivered` (SS),
//! `lease_owner` (S), `lease_until` (N, epoch seconds; 0 once released).

use std::collections::HashMap;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
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
            message: crate::network::live::error_text(err),
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
    /// alert `key` at `now` (epoch seconds); `lease` is who asks (the invocation's request ID)
    /// and until when it may hold the delivery.
    pub async fn claim(
        &self,
        key: &str,
        task: &str,
        now: u64,
        lease: &Lease,
    ) -> Result<Claim, DedupError> {
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
            .item("lease_owner", AttributeValue::S(lease.owner.clone()))
            .item("lease_until", number(lease.until))
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
            return self.take_over(key, task, now, lease, &old).await;
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

    /// The same task's alert again: a retry takes the lease over when no one holds it (and
    /// learns what was delivered); a duplicate running beside the holder does not.
    async fn take_over(
        &self,
        key: &str,
        task: &str,
        now: u64,
        lease: &Lease,
        old: &Item,
    ) -> Result<Claim, DedupError> {
        let held_by = |item: &Item| text(item, "lease_owner").unwrap_or_default();
        if whole(old, "lease_until").unwrap_or(0) >= now && held_by(old) != lease.owner {
            return Ok(Claim::InFlight {
                holder: held_by(old),
            });
        }
        let taken = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_string()))
            .update_expression("SET lease_owner = :me, lease_until = :until")
            .condition_expression(
                "first_task = :task AND (attribute_not_exists(lease_until) OR lease_until < :now OR lease_owner = :me)",
            )
            .expression_attribute_values(":me", AttributeValue::S(lease.owner.clone()))
            .expression_attribute_values(":until", number(lease.until))
            .expression_attribute_values(":task", AttributeValue::S(task.to_string()))
            .expression_attribute_values(":now", number(now))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match taken {
            Ok(out) => Ok(Claim::Retry {
                delivered: out
                    .attributes()
                    .map(|item| sinks(item, "delivered"))
                    .unwrap_or_default(),
            }),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    Ok(Claim::InFlight {
                        holder: failed.item().map(held_by).unwrap_or_default(),
                    })
                }
                _ => Err(self.error("dynamodb:UpdateItem", &err)),
            },
        }
    }

    /// Records that `delivered` now hold this alert, so a retried invocation skips them, and
    /// releases the lease `owner` holds (so a retry after a failed sink need not wait for it
    /// to lapse).
    pub async fn record_delivery(
        &self,
        key: &str,
        delivered: &[Sink],
        owner: &str,
    ) -> Result<(), DedupError> {
        let names: Vec<String> = delivered.iter().map(|s| s.as_str().to_string()).collect();
        let update = || {
            let request = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(key.to_string()));
            if names.is_empty() {
                request
            } else {
                request.expression_attribute_values(":sinks", AttributeValue::Ss(names.clone()))
            }
        };
        let add = if names.is_empty() {
            ""
        } else {
            " ADD delivered :sinks"
        };
        let released = update()
            .update_expression(format!("SET lease_until = :released{add}"))
            .condition_expression("lease_owner = :me")
            .expression_attribute_values(":released", number(0))
            .expression_attribute_values(":me", AttributeValue::S(owner.to_string()))
            .send()
            .await;
        match released {
            Ok(_) => Ok(()),
            // The lease lapsed and another invocation holds it: what this one delivered is
            // still recorded, its lease left alone.
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                if names.is_empty() {
                    return Ok(());
                }
                update()
                    .update_expression("ADD delivered :sinks")
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|err| self.error("dynamodb:UpdateItem", &err))
            }
            Err(err) => Err(self.error("dynamodb:UpdateItem", &err)),
        }
    }
}

/// Who claims an alert's delivery, and until when (epoch seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub owner: String,
    pub until: u64,
}

impl Lease {
    /// Held by `owner` until `deadline` (the invocation's, after which Lambda has stopped
    /// it), or [`UNBOUNDED_LEASE_SECONDS`] from `now` when there is none.
    pub fn until_deadline(owner: &str, deadline: Option<std::time::SystemTime>, now: u64) -> Lease {
        let until = deadline
            .and_then(|d| d.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(now + UNBOUNDED_LEASE_SECONDS, |d| d.as_secs() + 1);
        Lease {
            owner: owner.to_string(),
            until,
        }
    }
}

/// A lease's length when the invocation names no deadline: the template's 90 s timeout.
pub const UNBOUNDED_LEASE_SECONDS: u64 = 90;
