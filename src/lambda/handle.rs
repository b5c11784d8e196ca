//! One event through the function: parse → skip or inspect → diagnose → dedup → notify, with
//! what was built at cold start ([`Deps`]); the preflight modes are dispatched from here to
//! [`super::preflight`]. Logs one line per event with the decision.

use std::time::Instant;

use serde_json::Value;
use tracing::{error, info, warn};

use super::answer::Call;
use super::deps::Deps;
use super::preflight::{self, Invocation};
use super::sinks::SinkError;
use super::{
    join_notes, now_epoch_seconds, what_the_function_lacked, Decision, HandlerError, Outcome,
    Response,
};
use crate::alert::{alert_key, pending_sinks, repeats_note, Claim, Sink};
use crate::diagnose::{self, Diagnosis};
use crate::event::{parse_task_event_value, FailedTask, TaskEvent};
use crate::localized::Localized;
use crate::network::source::SourceError;
use crate::render::{slack::slack_payload, sns::sns_message};
use crate::routes::Action;

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
    if super::org_sweep::is_sqs_batch(&payload) {
        return Ok(Response::Batch(
            super::org_sweep::work(&payload, deps).await,
        ));
    }
    let original = deps.failure_queue.as_ref().map(|_| payload.clone());
    let result = match kind {
        Invocation::Schedule => {
            super::incident::close_quiet(deps, call).await;
            match &deps.org_sweep {
                Some(sweep) => super::org_sweep::plan(&payload, deps, sweep).await,
                None => preflight::sweep_or_alarm(payload, deps).await,
            }
        }
        Invocation::QuietCheck => Ok(Outcome::QuietChecked {
            closed: super::incident::close_quiet(deps, call).await,
        }),
        Invocation::Change => preflight::sweep_or_alarm(payload, deps).await,
        Invocation::ServiceEvent => super::incident::on_service_event(&payload, deps, call).await,
        _ => handle_event(payload, deps, call).await,
    };
    forward_if_hopeless(result, original, deps)
        .await
        .map(|outcome| Response::Outcome(Box::new(outcome)))
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

/// One ECS Task State Change event: diagnosed, deduplicated and delivered.
pub(super) async fn handle_event(
    payload: Value,
    deps: &Deps,
    call: &Call,
) -> Result<Outcome, HandlerError> {
    let started = Instant::now();
    let event_id = payload
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("-")
        .to_string();
    // Kept with its incident, to check the task's path again when the incident closes.
    let event = deps
        .incidents
        .as_ref()
        .map_or(Value::Null, |_| crate::event::kept_for_recheck(&payload));
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

    let lease =
        super::dedup::Lease::until_deadline(&call.request_id, call.deadline, now_epoch_seconds());
    let route = deps.route_for(&diagnosis);
    if let Some(route) = route.filter(|r| r.action == Action::Mute) {
        // Still counted in its incident, and logged; never sent.
        let noted =
            super::incident::note_failure(deps, &diagnosis, (&event, Some(route)), lease.until)
                .await;
        let incident = noted.as_ref().map(|n| n.key().to_string());
        info!(
            decision = "muted",
            event_id,
            task_arn,
            codes,
            route = route.number,
            incident,
            inspect_ms,
            "muted by a route (ROUTES)"
        );
        return Ok(Outcome::Muted {
            task_arn,
            findings,
            route: route.number,
            incident,
        });
    }
    let key = alert_key(&diagnosis);
    // The incident is recorded whatever the alert's dedup decides (a repeat inside the
    // alert's window can still be the first failure since the service recovered), so the
    // two records are written at once.
    let (noted, decision) = tokio::join!(
        super::incident::note_failure(deps, &diagnosis, (&event, route), lease.until),
        decide(deps, &key, &identity, &lease)
    );
    let (already_sent, note, dedup_error) = match decision {
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
            if let Some(noted) = &noted {
                let told = super::incident::tell(noted, &diagnosis, deps.lang, lease.until).await;
                let (told, failed) = super::sinks::split_deliveries(told.into_iter().map(Some));
                if !failed.is_empty() {
                    let error = HandlerError::SinkFailed {
                        failed,
                        delivered: told,
                    };
                    error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), event_id, task_arn, codes, error = %error, "telling the incident failed");
                    return Err(error);
                }
                sent_to = told;
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
    let (sent_to, failed) = deliver(
        deps,
        &diagnosis,
        note.as_ref(),
        &pending,
        noted.as_ref().map(|n| (n, lease.until)),
    )
    .await;
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

/// Sends to each pending sink, and tells the incident's channels (with the lease's end), all
/// concurrently; returns what went and what failed.
async fn deliver(
    deps: &Deps,
    d: &Diagnosis,
    note: Option<&Localized>,
    pending: &[Sink],
    incident: Option<(&super::incident::Noted<'_>, u64)>,
) -> (Vec<Sink>, Vec<SinkError>) {
    let lang = deps.lang;
    let to_sns = async {
        let sns = deps.sns.as_ref().filter(|_| pending.contains(&Sink::Sns))?;
        let mut message = sns_message(d, lang);
        if let Some(note) = note {
            message = message.with_footer(note.get(lang));
        }
        if deps.chatbot {
            let thread = crate::alert::incident_key_of(d);
            message = message.with_chatbot(crate::render::chatbot::diagnosis_notification(
                d,
                lang,
                thread.as_deref(),
            ));
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
    let to_incident = async {
        match incident {
            Some((noted, until)) => super::incident::tell(noted, d, lang, until).await,
            None => Vec::new(),
        }
    };
    let (sns, slack, told) = tokio::join!(to_sns, to_slack, to_incident);
    super::sinks::split_deliveries([sns, slack].into_iter().chain(told.into_iter().map(Some)))
}
