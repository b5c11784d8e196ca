//! The organisation's sweep (`SWEEP_QUEUE_URL`): the schedule's invocation plans a run (every
//! allowed account × `SWEEP_REGIONS`, one SQS message per target); the queue's event source
//! mapping hands the messages back to this same function, which audits each target as the
//! single-account sweep audits its own (through the member role), posts what is new or fixed
//! there, and counts the target off the run; whoever counts the last one posts one summary.
//!
//! A failure a retry can mend (throttling, a timeout) returns the message in
//! `batchItemFailures` for SQS to deliver again; one it cannot (the role denies, the region is
//! not enabled) is the target's result, "not inspected" and why. A run whose targets never
//! all finish is summarised by the next run's plan, naming what is missing.

use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

use super::deps::Deps;
use super::runs::{Claim, Run, RunStore};
use super::{now_epoch_seconds, HandlerError, Outcome};
use crate::audit::Audit;
use crate::network::live::AccountTarget;
use crate::render::sweep::{summary_slack, summary_sns};
use crate::sweep::{run_id, summarise, CauseRef, Target, TargetResult, WorkMessage};

/// SQS takes at most ten messages a call.
const BATCH: usize = 10;
/// Batches in flight while a run's messages are sent.
const SENDS_IN_FLIGHT: usize = 8;
/// An unfinished run younger than this is still at work (its messages are delivered up to
/// five times, nine minutes apart): the next plan waits for it rather than overlapping it.
const RUN_SETTLES_SECONDS: u64 = 3600;

/// What the organisation's sweep needs, built at cold start.
#[derive(Debug)]
pub struct OrgSweepDeps {
    pub(super) queue: aws_sdk_sqs::Client,
    pub(super) queue_url: String,
    pub(super) runs: RunStore,
    pub(super) regions: Vec<String>,
    pub(super) ous: Vec<String>,
}

/// The event source mapping's answer: the messages to deliver again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchAnswer {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// Whether a payload is an SQS batch (`Records` from `aws:sqs`).
pub fn is_sqs_batch(payload: &Value) -> bool {
    payload
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|records| records.first())
        .and_then(|r| r.get("eventSource"))
        .and_then(Value::as_str)
        == Some("aws:sqs")
}

/// The schedule's invocation: summarises an unfinished previous run, then plans this one.
pub(super) async fn plan(
    payload: &Value,
    deps: &Deps,
    sweep: &OrgSweepDeps,
) -> Result<Outcome, HandlerError> {
    let account = payload.get("account").and_then(Value::as_str);
    crate::trust::check_identity(account, payload.get("region").and_then(Value::as_str), &[])
        .map_err(|e| HandlerError::MalformedEvent(crate::event::EventError::Untrusted(e)))?;
    let home_account = match account {
        Some(account) => account.to_string(),
        None => match deps.network.own_account().await {
            Ok(Some(own)) => own.to_string(),
            _ => {
                return Err(HandlerError::Discovery(
                    "the schedule names no account and the function's own is not known".into(),
                ))
            }
        },
    };
    let now = now_epoch_seconds();
    let text = |key: &str| payload.get(key).and_then(Value::as_str).unwrap_or("");
    // Every delivery of one schedule event is the same run.
    let id = crate::sweep::run_id_of_event(text("time"), text("id"))
        .unwrap_or_else(|| run_id(now, rand_nonce()));
    let mut previous = None;
    if let Some(state) = sweep.runs.newest().await.map_err(HandlerError::Runs)? {
        let age = now.saturating_sub(state.run.started_at);
        if state.run.id != id && !state.summarised {
            if state.remaining > 0 && age < RUN_SETTLES_SECONDS {
                info!(
                    decision = "skipped",
                    run = state.run.id,
                    remaining = state.remaining,
                    "the previous run is still at work"
                );
                return Ok(Outcome::Skipped {
                    task_arn: None,
                    why: format!(
                        "run {} is still at work ({} targets left)",
                        state.run.id, state.remaining
                    ),
                });
            }
            // Finished without its summary (a sink failed), or never finished: said now. A
            // sink that fails again is the next plan's to retry; this run goes ahead.
            match post_summary(deps, sweep, &state.run, now).await {
                Ok(()) => previous = Some(state.run.id.clone()),
                Err(err) => {
                    error!(decision = "failed", run = state.run.id, error = %err, "previous run's summary not posted")
                }
            }
        }
    }
    let mut accounts = deps
        .sweep_accounts(&sweep.ous)
        .await
        .map_err(HandlerError::Discovery)?;
    // The function's own account stays swept, as the single-account sweep swept it.
    accounts.push(home_account.clone());
    accounts.sort();
    accounts.dedup();
    let run = Run {
        id,
        home_account,
        accounts,
        regions: sweep.regions.clone(),
        started_at: now,
    };
    let new = sweep.runs.start(&run).await.map_err(HandlerError::Runs)?;
    let messages: Vec<String> = run
        .targets()
        .map(|t| {
            serde_json::to_string(&WorkMessage {
                run: run.id.clone(),
                account: t.account,
                region: t.region,
            })
            .expect("a work message serialises")
        })
        .collect();
    let calls = messages.len().div_ceil(BATCH);
    futures::stream::iter(messages.chunks(BATCH).enumerate())
        .map(|(index, chunk)| send_batch(sweep, index, chunk))
        .buffer_unordered(SENDS_IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<()>, HandlerError>>()?;
    info!(
        decision = "planned",
        run = run.id,
        targets = messages.len(),
        accounts = run.accounts.len(),
        regions = run.regions.len(),
        send_calls = calls,
        resent = !new,
        previous_summarised = previous.as_deref(),
        "organisation sweep planned"
    );
    Ok(Outcome::Planned {
        run: run.id,
        targets: messages.len(),
        previous_summarised: previous,
    })
}

/// Sends one batch, and once more what SQS did not take.
async fn send_batch(
    sweep: &OrgSweepDeps,
    chunk_index: usize,
    bodies: &[String],
) -> Result<(), HandlerError> {
    let mut pending: Vec<(String, &String)> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| (format!("t{chunk_index}-{i}"), body))
        .collect();
    for _ in 0..3 {
        let entries = pending
            .iter()
            .map(|(id, body)| {
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(id)
                    .message_body(*body)
                    .build()
                    .expect("id and body are set")
            })
            .collect();
        let out = sweep
            .queue
            .send_message_batch()
            .queue_url(&sweep.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| HandlerError::Queue(crate::network::live::error_text(&e)))?;
        let failed: Vec<&str> = out.failed().iter().map(|f| f.id()).collect();
        pending.retain(|(id, _)| failed.contains(&id.as_str()));
        if pending.is_empty() {
            return Ok(());
        }
    }
    Err(HandlerError::Queue(format!(
        "{} work messages were not taken by sqs:SendMessageBatch",
        pending.len()
    )))
}

fn rand_nonce() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    nanos ^ std::process::id().rotate_left(16)
}

/// The work: each message of the batch, in turn; the ones to deliver again.
pub(super) async fn work(payload: &Value, deps: &Deps) -> BatchAnswer {
    let mut failures = Vec::new();
    let records = payload
        .get("Records")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for record in records {
        let id = record
            .get("messageId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let body = record.get("body").and_then(Value::as_str).unwrap_or("");
        let retry = match (&deps.org_sweep, WorkMessage::parse(body)) {
            (None, _) => {
                error!(
                    decision = "failed",
                    "a work message, but SWEEP_QUEUE_URL is not set"
                );
                true
            }
            (Some(_), Err(why)) => {
                // Delivered again until the queue's dead-letter queue takes it, where it is
                // seen: a malformed message is never silently dropped.
                error!(decision = "failed", why, "work message rejected");
                true
            }
            (Some(sweep), Ok(message)) => match audit_target(deps, sweep, &message).await {
                Ok(()) => false,
                Err(why) => {
                    warn!(decision = "retry", target = %message.target(), why, "target to be delivered again");
                    true
                }
            },
        };
        if retry {
            // A record without its ID cannot be named: an empty identifier makes Lambda deliver
            // the whole batch again, which is what an unnamed failure needs.
            failures.push(ItemFailure {
                item_identifier: id,
            });
        }
    }
    BatchAnswer {
        batch_item_failures: failures,
    }
}

/// Audits one target of its run; `Err` (why) when the message should come again.
async fn audit_target(
    deps: &Deps,
    sweep: &OrgSweepDeps,
    message: &WorkMessage,
) -> Result<(), String> {
    let target = message.target();
    let Some(state) = sweep
        .runs
        .state(&message.run)
        .await
        .map_err(|e| e.to_string())?
    else {
        info!(
            decision = "skipped",
            run = message.run,
            "no such run (expired, or not ours)"
        );
        return Ok(());
    };
    if !state.run.targets().any(|t| t == target) {
        return Err(format!("{target} is not a target of run {}", message.run));
    }
    let now = now_epoch_seconds();
    match sweep
        .runs
        .claim(&message.run, &target, now)
        .await
        .map_err(|e| e.to_string())?
    {
        Claim::Done => {
            info!(decision = "skipped", %target, "already audited in this run");
            // The delivery that finished it may have died before the run's summary.
            return summarise_if_finished(deps, sweep, &message.run).await;
        }
        Claim::Busy => return Err("another worker is auditing it".into()),
        Claim::Mine => {}
    }
    let member = (target.account != state.run.home_account).then_some(target.account.as_str());
    let result = match super::preflight::audit_for_sweep(
        deps,
        &AccountTarget::default(),
        member,
        &target.region,
    )
    .await
    {
        Ok((audit, calls)) => match retryable_gap(&audit) {
            Some(why) => {
                let _ = sweep.runs.release(&message.run, &target).await;
                return Err(why);
            }
            None => {
                let outcome =
                    super::preflight::remember_and_post(deps, &target.account, &audit, calls, None)
                        .await;
                match outcome {
                    Ok(outcome) => result_of(&target, &audit, &outcome),
                    Err(err) => {
                        let _ = sweep.runs.release(&message.run, &target).await;
                        return Err(err.to_string());
                    }
                }
            }
        },
        Err(err) if err.retryable() => {
            let _ = sweep.runs.release(&message.run, &target).await;
            return Err(err.to_string());
        }
        Err(err) => TargetResult {
            target: target.clone(),
            not_inspected: Some(err.to_string()),
            services: 0,
            blocked: 0,
            new: vec![],
            fixed: vec![],
        },
    };
    let remaining = match sweep
        .runs
        .finish(&message.run, &result, now_epoch_seconds())
        .await
    {
        Ok(remaining) => remaining,
        Err(err) => {
            // The next delivery audits it again rather than waiting out the lease.
            let _ = sweep.runs.release(&message.run, &target).await;
            return Err(err.to_string());
        }
    };
    info!(decision = "audited", %target, remaining, not_inspected = result.not_inspected.as_deref(), "target done");
    if remaining == Some(0) {
        // A failed post returns the message: its next delivery finds the target done and
        // the run finished, and posts the summary then.
        post_summary(deps, sweep, &state.run, now_epoch_seconds())
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Posts the summary of a finished run that has none yet.
async fn summarise_if_finished(deps: &Deps, sweep: &OrgSweepDeps, run: &str) -> Result<(), String> {
    let Some(state) = sweep.runs.state(run).await.map_err(|e| e.to_string())? else {
        return Ok(());
    };
    if state.remaining > 0 || state.summarised {
        return Ok(());
    }
    post_summary(deps, sweep, &state.run, now_epoch_seconds())
        .await
        .map_err(|e| e.to_string())
}

/// A target whose whole audit failed for a reason a retry may mend: every read throttled or
/// timed out, nothing of the account seen.
fn retryable_gap(audit: &Audit) -> Option<String> {
    let transient = |text: &str| {
        [
            "throttl",
            "rate exceeded",
            "requestlimitexceeded",
            "timed out",
            "timeout",
        ]
        .iter()
        .any(|w| text.to_ascii_lowercase().contains(w))
    };
    let first = audit.not_inspected.first()?;
    (audit.services.is_empty() && transient(&first.en)).then(|| first.en.clone())
}

fn result_of(target: &Target, audit: &Audit, outcome: &Outcome) -> TargetResult {
    let refs = |ids: &[String]| -> Vec<CauseRef> {
        ids.iter()
            .map(|identity| CauseRef {
                identity: identity.clone(),
                code: identity.split('#').next().unwrap_or("").to_string(),
            })
            .collect()
    };
    let (new, fixed) = match outcome {
        Outcome::Audited { new, fixed, .. } => (refs(new), refs(fixed)),
        _ => (vec![], vec![]),
    };
    // An account read but holding nothing to audit, because the region could not be read at
    // all (not enabled, the account suspended), is not inspected, not all clear.
    let not_inspected = (audit.services.is_empty() && !audit.not_inspected.is_empty())
        .then(|| audit.not_inspected[0].en.clone());
    TargetResult {
        target: target.clone(),
        not_inspected,
        services: audit.services.len(),
        blocked: audit.count(crate::audit::ServiceVerdict::Blocked),
        new,
        fixed,
    }
}

/// Posts the run's summary once (whoever claims it), from every target's result.
async fn post_summary(
    deps: &Deps,
    sweep: &OrgSweepDeps,
    run: &Run,
    now: u64,
) -> Result<(), HandlerError> {
    if !sweep
        .runs
        .claim_summary(&run.id, now)
        .await
        .map_err(HandlerError::Runs)?
    {
        return Ok(());
    }
    let results = sweep.runs.results(run).await.map_err(HandlerError::Runs)?;
    let summary = summarise(
        &run.id,
        (run.accounts.len(), run.regions.len()),
        run.targets(),
        &results,
        now.saturating_sub(run.started_at),
    );
    let lang = deps.lang;
    let (sent_to, failed) = super::preflight::post_to_sinks(
        deps,
        || summary_sns(&summary, lang),
        || summary_slack(&summary, lang),
    )
    .await;
    if !failed.is_empty() {
        // Whoever comes next (a redelivered last target, the next plan) posts it again.
        let _ = sweep.runs.unclaim_summary(&run.id).await;
    }
    info!(
        decision = if failed.is_empty() { "sent" } else { "failed" },
        run = run.id,
        audited = summary.audited,
        new = summary.new_causes,
        fixed = summary.fixed_causes,
        not_inspected = summary.not_inspected.len(),
        missing = summary.missing.len(),
        sent_to = ?sent_to,
        "run summary"
    );
    if !failed.is_empty() {
        return Err(HandlerError::SinkFailed {
            failed,
            delivered: sent_to,
        });
    }
    Ok(())
}
