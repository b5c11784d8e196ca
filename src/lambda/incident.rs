//! A failure or a recovery through the incident's record and the channels that follow it
//! (PagerDuty, Slack's app mode): what each is told, decided by the record.
//!
//! - PagerDuty gets a `trigger` for each cause it does not have yet, and a `resolve`.
//! - Slack gets one parent message per incident (claimed before it is posted, since
//!   `chat.postMessage` has no idempotency key), a thread reply for each new cause with the
//!   parent edited to name it, the parent's failed-task count edited at most once a minute
//!   (the edit after the interval carries the count so far), and on recovery a reply sent to
//!   the channel too and the parent edited to resolved.
//!
//! A channel that fails fails the invocation; its retry tells only what was not told.

use serde_json::Value;
use tracing::{error, info, warn};

use super::deps::{Deps, IncidentChannels};
use super::incidents::Recorded;
use super::sinks::SinkError;
use super::{now_epoch_seconds, HandlerError, Outcome};
use crate::alert::{incident_key, incident_key_of, Sink};
use crate::diagnose::Diagnosis;
use crate::localized::Lang;
use crate::render::incident::{parent, resolution_reply, IncidentStatus};
use crate::render::pagerduty::{resolve_event, trigger_event};
use crate::render::slack::slack_payload;
use crate::service_event::parse_service_event;

/// How often at most the parent's count is edited (Slack's `chat.update` is Tier 3, about
/// 50 a minute per workspace).
pub const PARENT_EDIT_INTERVAL_SECONDS: u64 = 60;

/// A failure recorded in its incident (or, when the record could not be used, not).
pub struct Noted<'a> {
    channels: &'a IncidentChannels,
    key: String,
    recorded: Option<Recorded>,
}

/// Records `d` in its incident, when an incident channel is configured and the task names
/// its cluster and group.
pub async fn note_failure<'a>(deps: &'a Deps, d: &Diagnosis) -> Option<Noted<'a>> {
    let channels = deps.incidents.as_ref()?;
    let key = incident_key_of(d)?;
    let recorded = match channels
        .record
        .record_failure(&key, d.verdict().as_str(), now_epoch_seconds())
        .await
    {
        Ok(recorded) => Some(recorded),
        Err(err) => {
            warn!(incident = key, error = %err, "incident record unavailable: paging without it, no Slack thread");
            None
        }
    };
    Some(Noted {
        channels,
        key,
        recorded,
    })
}

/// Tells each channel what this failure means for it; `lease_until` (epoch seconds) is how
/// long this invocation may hold the claim to post the parent.
pub async fn tell(
    noted: &Noted<'_>,
    d: &Diagnosis,
    lang: Lang,
    lease_until: u64,
) -> Vec<Result<Sink, SinkError>> {
    let pagerduty = async {
        let pagerduty = noted.channels.pagerduty.as_ref()?;
        let record = &noted.channels.record;
        let cause = d.verdict().as_str();
        // Without the record, page anyway: PagerDuty merges a repeated trigger under its
        // dedup_key, and a lost page is worse.
        if let Some(recorded) = &noted.recorded {
            if !recorded.page {
                return None;
            }
            match record
                .claim_page(&noted.key, cause, now_epoch_seconds(), lease_until)
                .await
            {
                Ok(true) => {}
                Ok(false) => return None,
                Err(err) => {
                    warn!(incident = noted.key, error = %err, "cannot claim the page: paging without the claim");
                }
            }
        }
        let sent = pagerduty
            .send(&trigger_event(d, lang, &noted.key))
            .await
            .map(|()| Sink::PagerDuty);
        let recorded = match &sent {
            Ok(_) => record.paged(&noted.key, cause).await,
            Err(_) => record.release_page(&noted.key, cause).await,
        };
        if let Err(err) = recorded {
            warn!(incident = noted.key, error = %err, "the page's outcome was not recorded: the next failure may page again");
        }
        Some(sent)
    };
    let slack = async {
        let recorded = noted.recorded.as_ref()?;
        noted.channels.slack.as_ref()?;
        tell_slack(noted, recorded, d, lang, lease_until).await
    };
    let (pagerduty, slack) = tokio::join!(pagerduty, slack);
    pagerduty.into_iter().chain(slack).collect()
}

fn status(recorded: &Recorded, causes: Vec<String>, now: u64) -> IncidentStatus {
    IncidentStatus {
        failed_tasks: recorded.failed_tasks,
        open_seconds: Some(now.saturating_sub(recorded.opened_at)),
        causes,
        resolved_by: None,
    }
}

/// The thread: opened by the claim's holder, a reply for a new cause, the count edited once
/// a minute; `None` when there is nothing to tell.
async fn tell_slack(
    noted: &Noted<'_>,
    recorded: &Recorded,
    d: &Diagnosis,
    lang: Lang,
    lease_until: u64,
) -> Option<Result<Sink, SinkError>> {
    let slack = noted.channels.slack.as_ref()?;
    let record = &noted.channels.record;
    let key = noted.key.as_str();
    let cause = d.verdict().as_str();
    let now = now_epoch_seconds();
    let known = &recorded.slack;
    let unrecorded = |err: super::dedup::DedupError| {
        warn!(incident = key, error = %err, "told Slack but not recorded: the thread may hear it again");
    };
    let Some(ts) = known.ts.as_deref() else {
        match record.claim_slack_parent(key, now, lease_until).await {
            Ok(true) => {}
            Ok(false) => return None,
            Err(err) => {
                warn!(incident = key, error = %err, "cannot claim the incident's Slack parent: not posting one");
                return None;
            }
        }
        let diagnosis = slack_payload(d, lang, None);
        let message = parent(&diagnosis, &status(recorded, vec![cause.into()], now), lang);
        return Some(match slack.post(&message, None, false).await {
            Ok(ts) => {
                let blocks = diagnosis.to_string();
                if let Err(err) = record.slack_posted(key, &ts, &blocks, cause, now).await {
                    unrecorded(err);
                }
                Ok(Sink::Slack)
            }
            Err(err) => {
                if let Err(release) = record.release_slack_parent(key, lease_until).await {
                    warn!(incident = key, error = %release, "the claim to post the parent was not given back: it lapses at this invocation's deadline");
                }
                Err(err)
            }
        });
    };
    let stored: Value = known
        .blocks
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or_else(|| slack_payload(d, lang, None));
    if !known.causes.iter().any(|c| c == cause) {
        let mut causes = known.causes.clone();
        causes.push(cause.to_string());
        let reply = slack_payload(d, lang, None);
        let told = async {
            slack.post(&reply, Some(ts), false).await?;
            slack
                .update(ts, &parent(&stored, &status(recorded, causes, now), lang))
                .await
        };
        return Some(match told.await {
            Ok(()) => {
                if let Err(err) = record.slack_told(key, cause, now).await {
                    unrecorded(err);
                }
                Ok(Sink::Slack)
            }
            Err(err) => Err(err),
        });
    }
    let last = known.updated_at.unwrap_or(0);
    if now < last + PARENT_EDIT_INTERVAL_SECONDS {
        return None;
    }
    match record.claim_slack_update(key, last, now).await {
        Ok(true) => {}
        Ok(false) => return None,
        Err(err) => {
            warn!(incident = key, error = %err, "cannot claim the parent's edit: the next failure edits it");
            return None;
        }
    }
    let message = parent(&stored, &status(recorded, known.causes.clone(), now), lang);
    Some(slack.update(ts, &message).await.map(|()| Sink::Slack))
}

/// An ECS service or deployment event: when the service recovered and an incident of it is
/// open, resolves it in every channel that followed it. Without an incident channel
/// configured, nothing is read or sent.
pub async fn recover(payload: &Value, deps: &Deps) -> Result<Outcome, HandlerError> {
    let skipped = |why: String| {
        info!(decision = "skipped", why, "service event");
        Ok(Outcome::Skipped {
            task_arn: None,
            why,
        })
    };
    let Some(channels) = &deps.incidents else {
        return skipped(
            "no incident is kept without PAGERDUTY_ROUTING_KEY_SECRET_ARN or SLACK_BOT_TOKEN_SECRET_ARN: nothing to close".into(),
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
    let recovered = match channels.record.begin_resolve(&incident, now).await {
        Ok(Some(recovered)) => recovered,
        Ok(None) => return skipped(format!("no open incident for {incident}")),
        Err(err) => {
            let error = HandlerError::Incidents(err);
            error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), incident, error = %error, "incident record unavailable");
            return Err(error);
        }
    };
    let open_seconds = recovered.opened_at.map(|at| now.saturating_sub(at));
    let status = IncidentStatus {
        failed_tasks: recovered.failed_tasks,
        open_seconds,
        causes: recovered.slack.causes.clone(),
        resolved_by: Some(event.event_name.clone()),
    };
    let told = |sink: Sink| recovered.resolved_to.iter().any(|c| c == sink.as_str());
    let pagerduty = async {
        let pagerduty = channels
            .pagerduty
            .as_ref()
            .filter(|_| !told(Sink::PagerDuty))?;
        Some(
            pagerduty
                .send(&resolve_event(&incident))
                .await
                .map(|()| Sink::PagerDuty),
        )
    };
    let slack = async {
        let slack = channels.slack.as_ref().filter(|_| !told(Sink::Slack))?;
        let ts = recovered.slack.ts.as_deref()?;
        let stored: Value = recovered
            .slack
            .blocks
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or_default();
        let result = async {
            slack
                .post(&resolution_reply(&status, deps.lang), Some(ts), true)
                .await?;
            slack.update(ts, &parent(&stored, &status, deps.lang)).await
        };
        Some(result.await.map(|()| Sink::Slack))
    };
    let (pagerduty, slack) = tokio::join!(pagerduty, slack);
    let (sent_to, failed) = super::sinks::split_deliveries([pagerduty, slack]);
    for sink in &sent_to {
        if let Err(err) = channels.record.resolved_to(&incident, sink.as_str()).await {
            warn!(incident, error = %err, "told but not recorded: a retry tells again");
        }
    }
    if !failed.is_empty() {
        let error = HandlerError::SinkFailed {
            failed,
            delivered: sent_to,
        };
        error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), incident, error = %error, "resolving failed");
        return Err(error);
    }
    if let Err(err) = channels.record.resolved(&incident, now).await {
        warn!(incident, error = %err, "resolved but not recorded: the next recovery resolves again");
    }
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
        sent_to,
    })
}
