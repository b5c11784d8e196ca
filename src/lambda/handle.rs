//! One event through the function: parse → skip or inspect → diagnose → dedup → notify, with
//! what was built at cold start ([`Deps`]); the preflight modes are dispatched from here to
//! [`super::preflight`]. Logs one line per event with the decision.

use std::time::Instant;

use serde_json::Value;
use tracing::{error, info, warn};

use super::answer::Call;
use super::deps::Deps;
use super::deps::Paging;
use super::preflight::{self, Invocation};
use super::sinks::SinkError;
use super::{
    join_notes, now_epoch_seconds, what_the_function_lacked, Decision, HandlerError, Outcome,
    Response,
};
use crate::alert::{
    alert_key, incident_key, incident_key_of, pending_sinks, repeats_note, Claim, Sink,
};
use crate::diagnose::{self, Diagnosis};
use crate::event::{parse_task_event_value, FailedTask, TaskEvent};
use crate::localized::Localized;
use crate::network::source::SourceError;
use crate::render::pagerduty::{resolve_event, trigger_event};
use crate::render::{slack::slack_payload, sns::sns_message};
use crate::service_event::parse_service_event;

fn milliseconds(since: Instant) -> u64 {
    since.elapsed().as_millis().try_into().unwrap_or(u64::MAX)
}

/// Handles one invocation: a task state change (the diagnosis), a schedule or a CloudTrail
/// change (an audit, see [`preflight`]), or a deployment lifecycle hook (the gate, which
/// always answers a `hookStatus`). An event that no retry can help goes to the failure queue
/// at once when there is one (answered as `rejected`), instead of failing the invocation and
/// waiting out Lambda's retries; if the queue does not take it, the invocation fails as before.
pub async fn handle(payload: Value, deps: &Deps, call: &Call) -> Result<Response, HandlerError> {
    let kind = preflight::invocation(&payload);
    if kind == Invocation::LifecycleHook {
        return Ok(Response::Hook(preflight::gate(payload, deps, call).await));
    }
    let original = deps.failure_queue.as_ref().map(|_| payload.clone());
    let result = match kind {
        Invocation::Schedule | Invocation::Change => preflight::sweep_or_alarm(payload, deps).await,
        Invocation::ServiceEvent => recover(&payload, deps).await,
        _ => handle_event(payload, deps, call).await,
    };
    forward_if_hopeless(result, original, deps)
        .await
        .map(Response::Outcome)
}

/// An event no retry can help goes to the failure queue at once, when there is one.
async fn forward_if_hopeless(
    result: Result<Outcome, HandlerError>,
    original: Option<Value>,
    deps: &Deps,
) -> Result<Outcome, HandlerError> {
    let (Err(error), Some(queue), Some(event)) = (&result, &deps.failure_queue, original) else {
        return result;
    };
    if error.retryable() {
        return result;
    }
    let error_type = error.error_type();
    let message = error.to_string();
    match queue.forward(&event, error_type, &message).await {
        Ok(()) => {
            info!(
                decision = "rejected",
                error_type, "sent to the failure queue without retries"
            );
            Ok(Outcome::Rejected {
                error_type: error_type.to_string(),
                why: message,
                forwarded_to: "failure_queue".into(),
            })
        }
        Err(forward) => {
            warn!(error = %forward, "the failure queue did not take the event: failing the invocation instead");
            result
        }
    }
}

async fn handle_event(payload: Value, deps: &Deps, call: &Call) -> Result<Outcome, HandlerError> {
    let started = Instant::now();
    let event_id = payload
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("-")
        .to_string();
    let task = match parse_task_event_value(payload) {
        Ok(TaskEvent::PullFailure(task)) => task,
        Ok(TaskEvent::Skipped { task_arn, why }) => {
            info!(
                decision = "skipped",
                event_id, task_arn, why, "not a pull or initialisation failure"
            );
            return Ok(Outcome::Skipped { task_arn, why });
        }
        Err(err) => {
            let error = HandlerError::MalformedEvent(err);
            error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), event_id, error = %error, "event rejected");
            return Err(error);
        }
    };
    let task_arn = task.task_arn.clone();
    if let Some(why) = deps.refuses_account(task.account.as_deref()).await {
        info!(
            decision = "skipped",
            event_id,
            task_arn,
            account = task.account.as_deref(),
            why,
            "account not allowed"
        );
        return Ok(Outcome::Skipped { task_arn, why });
    }
    let diagnosis = match diagnose(deps, &task).await {
        Ok(diagnosis) => diagnosis,
        Err(error) => {
            error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), event_id, task_arn, error = %error, "inspection failed");
            return Err(error);
        }
    };
    let inspect_ms = milliseconds(started);
    let findings: Vec<String> = diagnosis
        .findings
        .iter()
        .map(|f| f.code.as_str().to_string())
        .collect();
    let codes = findings.join(",");
    // The same task's events (and retried invocations) share an identity.
    let identity = task_arn.clone().unwrap_or_else(|| event_id.clone());

    // The incident is recorded whatever the alert's dedup decides: a repeat inside the
    // alert's window can still be the first failure since the service recovered.
    let page = page_needed(deps, &diagnosis).await;
    let key = alert_key(&diagnosis);
    let lease =
        super::dedup::Lease::until_deadline(&call.request_id, call.deadline, now_epoch_seconds());
    let (already_sent, note, dedup_error) = match decide(deps, &key, &identity, &lease).await {
        Decision::Notify {
            already_sent,
            note,
            dedup_error,
        } => (already_sent, note, dedup_error),
        Decision::Suppress {
            repeats,
            first_task,
            held_by,
        } => {
            let mut sent_to = Vec::new();
            if let Some((paging, incident)) = &page {
                match send_page(paging, &diagnosis, deps.lang, incident).await {
                    Ok(sink) => sent_to.push(sink),
                    Err(err) => {
                        let error = HandlerError::SinkFailed {
                            failed: vec![err],
                            delivered: Vec::new(),
                        };
                        error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), event_id, task_arn, codes, incident, error = %error, "paging failed");
                        return Err(error);
                    }
                }
            }
            info!(
                decision = "suppressed",
                event_id,
                task_arn,
                codes,
                dedup_key = key,
                repeats,
                first_task,
                held_by,
                inspect_ms,
                total_ms = milliseconds(started),
                "{}",
                if held_by.is_some() {
                    "another invocation of the same event is delivering this alert"
                } else {
                    "repeat of an alert inside its window"
                }
            );
            return Ok(Outcome::Suppressed {
                task_arn,
                findings,
                dedup_key: key,
                repeats,
                first_task,
                held_by,
                sent_to,
            });
        }
    };

    // What the function itself lacked, in the words of its configuration.
    let note = join_notes(
        deps.account_line(
            diagnosis.task.account.as_deref(),
            diagnosis.task.region.as_deref(),
        )
        .await,
        note.into_iter().chain(
            diagnosis
                .missing_inputs
                .iter()
                .map(|m| what_the_function_lacked(*m)),
        ),
    );
    let pending = pending_sinks(&deps.sinks, &already_sent);
    let (sent_to, failed) = deliver(deps, &diagnosis, note.as_ref(), &pending, page).await;
    if let Some(table) = deps.dedup.as_ref().filter(|_| dedup_error.is_none()) {
        if let Err(err) = table.record_delivery(&key, &sent_to, &lease.owner).await {
            warn!(event_id, task_arn, error = %err, "delivery not recorded: a retry may post again");
        }
    }
    let total_ms = milliseconds(started);
    let sent_names: Vec<&str> = sent_to.iter().map(|s| s.as_str()).collect();
    if !failed.is_empty() {
        let error = HandlerError::SinkFailed {
            failed,
            delivered: sent_to,
        };
        error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), event_id, task_arn, codes, sent_to = sent_names.join(","), inspect_ms, total_ms, error = %error, "delivery failed");
        return Err(error);
    }
    info!(
        decision = "sent",
        event_id,
        task_arn,
        codes,
        sent_to = sent_names.join(","),
        dedup_key = deps.dedup.as_ref().map(|_| key.as_str()),
        inspect_ms,
        total_ms,
        "diagnosis delivered"
    );
    Ok(Outcome::Sent {
        task_arn,
        findings,
        sent_to,
        already_sent,
        dedup_key: deps.dedup.as_ref().map(|_| key),
        dedup_error,
        not_inspected: diagnosis
            .not_inspected
            .iter()
            .map(|l| l.get(deps.lang).to_string())
            .collect(),
    })
}

/// Asks the dedup record (when there is one) whether this event notifies.
async fn decide(deps: &Deps, key: &str, identity: &str, lease: &super::dedup::Lease) -> Decision {
    let Some(table) = &deps.dedup else {
        return Decision::Notify {
            already_sent: Vec::new(),
            note: None,
            dedup_error: None,
        };
    };
    let note = || Some(repeats_note(table.table(), key, table.window_minutes()));
    match table.claim(key, identity, now_epoch_seconds(), lease).await {
        Ok(Claim::First) => Decision::Notify {
            already_sent: Vec::new(),
            note: note(),
            dedup_error: None,
        },
        Ok(Claim::Retry { delivered }) => Decision::Notify {
            already_sent: delivered,
            note: note(),
            dedup_error: None,
        },
        Ok(Claim::Repeat {
            repeats,
            first_task,
        }) => Decision::Suppress {
            repeats,
            first_task,
            held_by: None,
        },
        Ok(Claim::InFlight { holder }) => Decision::Suppress {
            repeats: 0,
            first_task: identity.to_string(),
            held_by: Some(holder),
        },
        Err(err) => {
            // Losing the alert would be worse than posting it twice.
            warn!(key, error = %err, "dedup table unavailable: notifying without suppression");
            Decision::Notify {
                already_sent: Vec::new(),
                note: None,
                dedup_error: Some(err.to_string()),
            }
        }
    }
}

/// Reads the network (snapshot or live) and runs the rules; an error only when trying
/// again later may succeed.
async fn diagnose(deps: &Deps, task: &FailedTask) -> Result<Diagnosis, HandlerError> {
    // The network first: ip-ranges finish parsing while the API answers.
    let inspected = deps.network.for_task(task).await;
    let ranges = deps.ip_ranges.get().await;
    match inspected {
        Ok(view) => Ok(diagnose::diagnose(task, Some(&view), ranges)),
        Err(SourceError::Unavailable(why)) => {
            Ok(diagnose::diagnose_without_network(task, why, ranges))
        }
        Err(err) => Err(HandlerError::InspectionFailed(err)),
    }
}

/// Records `d` in its incident when paging is configured: the paging and the incident's key
/// when PagerDuty does not have this cause yet. An incident record that cannot be used pages
/// anyway: PagerDuty merges a repeated trigger under its `dedup_key`, a lost page is worse.
async fn page_needed<'a>(deps: &'a Deps, d: &Diagnosis) -> Option<(&'a Paging, String)> {
    let paging = deps.paging.as_ref()?;
    let incident = incident_key_of(d)?;
    match paging
        .incidents
        .record_failure(&incident, d.verdict().as_str(), now_epoch_seconds())
        .await
    {
        Ok(true) => Some((paging, incident)),
        Ok(false) => None,
        Err(err) => {
            warn!(incident, error = %err, "incident record unavailable: paging without it");
            Some((paging, incident))
        }
    }
}

/// Triggers PagerDuty for `d` under `incident` and marks its cause paged.
async fn send_page(
    paging: &Paging,
    d: &Diagnosis,
    lang: crate::localized::Lang,
    incident: &str,
) -> Result<Sink, SinkError> {
    paging
        .pagerduty
        .send(&trigger_event(d, lang, incident))
        .await?;
    if let Err(err) = paging.incidents.paged(incident, d.verdict().as_str()).await {
        warn!(incident, error = %err, "the page was sent but not recorded: the next failure pages again");
    }
    Ok(Sink::PagerDuty)
}

/// An ECS service or deployment event: when the service recovered and an incident of it is
/// open, resolves it in PagerDuty. Without paging configured, nothing is read or sent.
async fn recover(payload: &Value, deps: &Deps) -> Result<Outcome, HandlerError> {
    let skipped = |why: String| {
        info!(decision = "skipped", why, "service event");
        Ok(Outcome::Skipped {
            task_arn: None,
            why,
        })
    };
    let Some(paging) = &deps.paging else {
        return skipped(
            "no incident is kept without PAGERDUTY_ROUTING_KEY_SECRET_ARN: nothing to close".into(),
        );
    };
    let event = match parse_service_event(payload) {
        Ok(event) => event,
        Err(err) => {
            let error = HandlerError::MalformedServiceEvent(err);
            error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), error = %error, "event rejected");
            return Err(error);
        }
    };
    if !event.change.recovered() {
        return skipped(format!("{} does not close an incident", event.event_name));
    }
    if let Some(why) = deps.refuses_account(Some(&event.account)).await {
        return skipped(why);
    }
    let incident = incident_key(
        &event.account,
        &event.region,
        &event.cluster_arn,
        &event.group(),
    );
    let now = now_epoch_seconds();
    let recovered = match paging.incidents.begin_resolve(&incident, now).await {
        Ok(Some(recovered)) => recovered,
        Ok(None) => return skipped(format!("no open incident for {incident}")),
        Err(err) => {
            let error = HandlerError::Incidents(err);
            error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), incident, error = %error, "incident record unavailable");
            return Err(error);
        }
    };
    if let Err(err) = paging.pagerduty.send(&resolve_event(&incident)).await {
        let error = HandlerError::SinkFailed {
            failed: vec![err],
            delivered: Vec::new(),
        };
        error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), incident, error = %error, "resolving failed");
        return Err(error);
    }
    if let Err(err) = paging.incidents.resolved(&incident, now).await {
        warn!(incident, error = %err, "resolved in PagerDuty but not recorded: the next recovery resolves again");
    }
    let open_seconds = recovered.opened_at.map(|at| now.saturating_sub(at));
    info!(
        decision = "resolved",
        incident,
        event_name = event.event_name,
        failed_tasks = recovered.failed_tasks,
        open_seconds,
        "incident resolved"
    );
    Ok(Outcome::Resolved {
        incident,
        event_name: event.event_name,
        failed_tasks: recovered.failed_tasks,
        open_seconds,
        sent_to: vec![Sink::PagerDuty],
    })
}

/// Sends to each pending sink, and to PagerDuty when `page` says so, concurrently; returns
/// what went and what failed.
async fn deliver(
    deps: &Deps,
    d: &Diagnosis,
    note: Option<&Localized>,
    pending: &[Sink],
    page: Option<(&Paging, String)>,
) -> (Vec<Sink>, Vec<SinkError>) {
    let lang = deps.lang;
    let to_sns = async {
        let sns = deps.sns.as_ref().filter(|_| pending.contains(&Sink::Sns))?;
        let mut message = sns_message(d, lang);
        if let Some(note) = note {
            message = message.with_footer(note.get(lang));
        }
        Some(sns.publish(&message).await.map(|_| Sink::Sns))
    };
    let to_slack = async {
        let slack = deps
            .slack
            .as_ref()
            .filter(|_| pending.contains(&Sink::Slack))?;
        let payload = slack_payload(d, lang, note.map(|n| n.get(lang)));
        Some(slack.post(&payload).await.map(|_| Sink::Slack))
    };
    let to_pagerduty = async {
        let (paging, incident) = page.as_ref()?;
        Some(send_page(paging, d, lang, incident).await)
    };
    let (sns, slack, pagerduty) = tokio::join!(to_sns, to_slack, to_pagerduty);
    super::sinks::split_deliveries([sns, slack, pagerduty])
}
