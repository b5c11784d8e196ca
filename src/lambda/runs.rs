//! The organisation sweep's runs, in the dedup table: one item per run (its targets, how
//! many are left, whether it was summarised), one per target and run (claimed by the worker
//! auditing it, then its result), and a pointer to the newest run.
//!
//! Redelivery and concurrent workers are settled here: a target is audited by whoever claims
//! it first (a lease, taken over when it runs out, as when a worker died); one already done
//! is not audited again; the run's count goes down once per target, and the summary is
//! claimed once.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::dedup::DedupError;
use crate::sweep::{Target, TargetResult};

/// How long a claimed target is the claimer's before another worker may take it over: the
/// function's timeout (90 s, which bounds one audit) and a margin.
pub const CLAIM_SECONDS: u64 = 120;
/// Run and target items are kept for this long, then the table's TTL removes them.
const KEEP_SECONDS: u64 = 30 * 24 * 3600;
const POINTER: &str = "sweep-run#current";

/// A run as planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    /// The function's own account, audited without assuming a role.
    pub home_account: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub started_at: u64,
}

impl Run {
    pub fn targets(&self) -> impl Iterator<Item = Target> + '_ {
        self.accounts.iter().flat_map(move |account| {
            self.regions.iter().map(move |region| Target {
                account: account.clone(),
                region: region.clone(),
            })
        })
    }

    pub fn total(&self) -> usize {
        self.accounts.len() * self.regions.len()
    }
}

/// What a run's item says now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunState {
    pub run: Run,
    pub remaining: u64,
    pub summarised: bool,
}

/// A worker's claim on a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Audit it.
    Mine,
    /// Another delivery finished it: nothing to do.
    Done,
    /// Another worker holds it now: try again later.
    Busy,
}

#[derive(Debug, Clone)]
pub struct RunStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn s(text: impl Into<String>) -> AttributeValue {
    AttributeValue::S(text.into())
}

fn n(number: u64) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn run_key(run: &str) -> AttributeValue {
    s(format!("sweep-run#{run}"))
}

fn target_key(run: &str, target: &Target) -> AttributeValue {
    s(format!(
        "sweep-target#{run}#{}#{}",
        target.account, target.region
    ))
}

fn is_conditional<E>(err: &aws_sdk_dynamodb::error::SdkError<E>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

impl RunStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        RunStore { client, table }
    }

    fn error(&self, action: &'static str, message: impl Into<String>) -> DedupError {
        DedupError {
            action,
            table: self.table.clone(),
            message: message.into(),
        }
    }

    /// The newest run, as its item says now; `None` before the first.
    pub async fn newest(&self) -> Result<Option<RunState>, DedupError> {
        let pointer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(POINTER))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| DedupError::from_sdk("dynamodb:GetItem", &self.table, &e))?;
        let Some(run) = pointer
            .item()
            .and_then(|i| i.get("run"))
            .and_then(|v| v.as_s().ok())
        else {
            return Ok(None);
        };
        self.state(run).await
    }

    /// A run's item; `None` when there is none.
    pub async fn state(&self, run: &str) -> Result<Option<RunState>, DedupError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", run_key(run))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| DedupError::from_sdk("dynamodb:GetItem", &self.table, &e))?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let planned = item
            .get("run")
            .and_then(|v| v.as_s().ok())
            .and_then(|json| serde_json::from_str::<Run>(json).ok())
            .ok_or_else(|| self.error("dynamodb:GetItem", format!("run {run}: not readable")))?;
        let remaining = item
            .get("remaining")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
            .max(0) as u64;
        Ok(Some(RunState {
            run: planned,
            remaining,
            summarised: item.contains_key("summarised"),
        }))
    }

    /// Writes a new run and makes it the newest; `false` when the run was written before (a
    /// retried schedule event), whose targets are then sent again.
    pub async fn start(&self, run: &Run) -> Result<bool, DedupError> {
        let json = serde_json::to_string(run).expect("a run serialises");
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", run_key(&run.id))
            .item("run", s(json))
            .item("remaining", n(run.total() as u64))
            .item("expires_at", n(run.started_at + KEEP_SECONDS))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        let new = match written {
            Ok(_) => true,
            Err(err) if is_conditional(&err) => false,
            Err(err) => return Err(DedupError::from_sdk("dynamodb:PutItem", &self.table, &err)),
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(POINTER))
            .item("run", s(run.id.clone()))
            .send()
            .await
            .map_err(|e| DedupError::from_sdk("dynamodb:PutItem", &self.table, &e))?;
        Ok(new)
    }

    /// Claims `target` of `run` at `now`.
    pub async fn claim(&self, run: &str, target: &Target, now: u64) -> Result<Claim, DedupError> {
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", target_key(run, target))
            .update_expression("SET #state = :working, lease_until = :until, expires_at = :expires")
            .condition_expression(
                "attribute_not_exists(pk) OR (#state = :working AND lease_until < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":working", s("working"))
            .expression_attribute_values(":until", n(now + CLAIM_SECONDS))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":expires", n(now + KEEP_SECONDS))
            .send()
            .await;
        match claimed {
            Ok(_) => Ok(Claim::Mine),
            Err(err) if is_conditional(&err) => {
                let out = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key("pk", target_key(run, target))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| DedupError::from_sdk("dynamodb:GetItem", &self.table, &e))?;
                let done = out
                    .item()
                    .and_then(|i| i.get("state"))
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|state| state == "done");
                Ok(if done { Claim::Done } else { Claim::Busy })
            }
            Err(err) => Err(DedupError::from_sdk(
                "dynamodb:UpdateItem",
                &self.table,
                &err,
            )),
        }
    }

    /// Gives a claim back (the audit failed in a way a retry may mend): its lease ends now.
    pub async fn release(&self, run: &str, target: &Target) -> Result<(), DedupError> {
        let released = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", target_key(run, target))
            .update_expression("SET lease_until = :zero")
            .condition_expression("#state = :working")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":working", s("working"))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match released {
            Ok(_) => Ok(()),
            Err(err) if is_conditional(&err) => Ok(()),
            Err(err) => Err(DedupError::from_sdk(
                "dynamodb:UpdateItem",
                &self.table,
                &err,
            )),
        }
    }

    /// Records the target's result and counts it off the run, in one transaction: the targets
    /// still left, or `None` when another delivery recorded it first (and counted it).
    pub async fn finish(
        &self,
        run: &str,
        result: &TargetResult,
        now: u64,
    ) -> Result<Option<u64>, DedupError> {
        let json = serde_json::to_string(result).expect("a result serialises");
        let record = Update::builder()
            .table_name(&self.table)
            .key("pk", target_key(run, &result.target))
            .update_expression("SET #state = :done, #result = :result, expires_at = :expires")
            .condition_expression("#state = :working")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#result", "result")
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":working", s("working"))
            .expression_attribute_values(":result", s(json))
            .expression_attribute_values(":expires", n(now + KEEP_SECONDS))
            .build()
            .map_err(|e| self.error("dynamodb:UpdateItem", e.to_string()))?;
        let count = Update::builder()
            .table_name(&self.table)
            .key("pk", run_key(run))
            .update_expression("SET remaining = remaining - :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(|e| self.error("dynamodb:UpdateItem", e.to_string()))?;
        // Every worker's transaction counts down the one run item, so concurrent ones can be
        // cancelled for a conflict: those are tried again; a cancellation because the target
        // was no longer being worked on means another delivery finished it.
        let mut attempt = 0u32;
        loop {
            let written = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(record.clone()).build())
                .transact_items(TransactWriteItem::builder().update(count.clone()).build())
                .send()
                .await;
            let err = match written {
                Ok(_) => break,
                Err(err) => err,
            };
            let reasons: Vec<String> = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("None").to_string())
                    .collect(),
                _ => vec![],
            };
            if reasons
                .first()
                .is_some_and(|c| c == "ConditionalCheckFailed")
            {
                return Ok(None);
            }
            let conflict = reasons.iter().any(|c| c == "TransactionConflict")
                || err.as_service_error().is_some_and(|e| {
                    matches!(
                        e,
                        TransactWriteItemsError::TransactionInProgressException(_)
                    )
                });
            attempt += 1;
            if !conflict || attempt >= 6 {
                return Err(DedupError::from_sdk(
                    "dynamodb:UpdateItem",
                    &self.table,
                    &err,
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(
                25 * (1 << attempt) + u64::from(std::process::id() % 25),
            ))
            .await;
        }
        Ok(self.state(run).await?.map(|state| state.remaining))
    }

    /// Claims the run's summary: true for the one invocation that posts it.
    pub async fn claim_summary(&self, run: &str, now: u64) -> Result<bool, DedupError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", run_key(run))
            .update_expression("SET summarised = :now")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(summarised)")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(err) if is_conditional(&err) => Ok(false),
            Err(err) => Err(DedupError::from_sdk::<UpdateItemError>(
                "dynamodb:UpdateItem",
                &self.table,
                &err,
            )),
        }
    }

    /// Gives the summary back when it could not be posted.
    pub async fn unclaim_summary(&self, run: &str) -> Result<(), DedupError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", run_key(run))
            .update_expression("REMOVE summarised")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DedupError::from_sdk("dynamodb:UpdateItem", &self.table, &e))
    }

    /// Every target's result; a target with none (not finished) is left out.
    pub async fn results(&self, run: &Run) -> Result<Vec<TargetResult>, DedupError> {
        let keys: Vec<AttributeValue> = run.targets().map(|t| target_key(&run.id, &t)).collect();
        let mut results = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending: Vec<std::collections::HashMap<String, AttributeValue>> = chunk
                .iter()
                .map(|k| std::collections::HashMap::from([("pk".to_string(), k.clone())]))
                .collect();
            // BatchGetItem may hand back part of the keys unprocessed: ask again for those,
            // waiting longer each time (the table was throttled).
            for attempt in 0..8u32 {
                if pending.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt.min(6)))
                        .await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(pending.clone()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| self.error("dynamodb:BatchGetItem", e.to_string()))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| DedupError::from_sdk("dynamodb:BatchGetItem", &self.table, &e))?;
                for item in out
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    let done = item
                        .get("state")
                        .and_then(|v| v.as_s().ok())
                        .is_some_and(|state| state == "done");
                    let result = item
                        .get("result")
                        .and_then(|v| v.as_s().ok())
                        .and_then(|json| serde_json::from_str::<TargetResult>(json).ok());
                    if let (true, Some(result)) = (done, result) {
                        results.push(result);
                    }
                }
                pending = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .map(|k| k.keys().to_vec())
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(self.error(
                    "dynamodb:BatchGetItem",
                    "keys stayed unprocessed after 8 tries",
                ));
            }
        }
        Ok(results)
    }
}
