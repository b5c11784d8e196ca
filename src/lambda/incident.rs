//! A failure, a mitigation or a close through the incident's record and the channels that
//! follow it (PagerDuty, Slack's app mode, Microsoft Teams, Amazon Q Developer through SNS):
//! what each is told, decided by the record.
//!
//! - PagerDuty gets a `trigger` for each cause it does not have yet, and a `resolve`.
//! - Teams gets a card for the first cause, each new cause, each mitigation and the close.
//! - Slack gets one parent message per incident (claimed before it is posted, since
//!   `chat.postMessage` has no idempotency key), a thread reply for each new cause with the
//!   parent edited to name it, the parent's failed-task count edited at most once a minute
//!   (the edit after the interval carries the count so far), a reply for each mitigation,
//!   and on close a reply sent to the channel too and the parent edited to closed.
//! - Amazon Q Developer gets the diagnoses through the SNS topic (threaded by incident), and
//!   here the mitigations and the close.
//!
//! A close re-checks each cause's path live, with the same read a diagnosis makes, and says
//! what is true now. A channel that fails fails the invocation; its retry tells only what was
//! not told.

use std::future::Future;
use std::time::Duration;

use serde_json::Value;
use tracing::{error, info, warn};

use super::answer::Call;
use super::dedup::Lease;
use super::deps::{Deps, IncidentChannels, DEFAULT_VIA};
use super::incidents::{
    CauseChannel, ClosedIncident, IncidentTable, NotRecorded, RecordError, Recorded, SlackParent,
    MAX_KEPT_EVENT_BYTES,
};
use super::sinks::SinkError;
use super::slack_app::SlackApp;
use super::{now_epoch_seconds, HandlerError, Outcome};
use crate::alert::{incident_key, incident_key_of, Sink};
use crate::diagnose::Code;
use crate::diagnose::{self, Diagnosis};
use crate::event::{parse_task_event_value, TaskEvent};
use crate::localized::Lang;
use crate::render::incident::{
    incident_message, mitigation_lines, parent, recheck_line, thread_reply, IncidentStatus,
    Recheck, Stage,
};
use crate::render::pagerduty::{resolve_event, trigger_event};
use crate::render::slack::slack_payload;
use crate::render::teams::{cause_card, notice_card, resolved_card};
use crate::routes::{Action, Route};
use crate::service_event::{parse_service_event, ServiceChange, ServiceEvent};
use crate::t;

/// How often at most the parent's count is edited (Slack's `chat.update` is Tier 3, about
/// 50 a minute per workspace).
pub const PARENT_EDIT_INTERVAL_SECONDS: u64 = 60;

/// Where one failure's incident is told: its route's destinations, else the defaults. A
/// PagerDuty or Teams destination is a route's secret ARN or [`DEFAULT_VIA`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    pagerduty: Option<String>,
    teams: Option<String>,
    slack_channel: Option<String>,
}

/// The targets of a failure that `route` (the first that matched, if any) sends.
pub fn targets(channels: &IncidentChannels, route: Option<&Route>) -> Targets {
    match route.map(|r| &r.action) {
        Some(Action::Send(d)) => Targets {
            pagerduty: d.pagerduty_secret_arn.clone(),
            teams: d.teams_secret_arn.clone(),
            slack_channel: d.slack_channel.clone(),
        },
        Some(Action::Mute) => Targets::default(),
        None => Targets {
            pagerduty: channels.pagerduty.as_ref().map(|_| DEFAULT_VIA.to_string()),
            teams: channels.teams.as_ref().map(|_| DEFAULT_VIA.to_string()),
            slack_channel: channels.slack.as_ref().map(|s| s.channel().to_string()),
        },
    }
}

/// A failure recorded in its incident (or, when the record could not be used, not).
pub struct Noted<'a> {
    channels: &'a IncidentChannels,
    key: String,
    recorded: Option<Recorded>,
    targets: Targets,
}

impl Noted<'_> {
    /// The incident's key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// How long a failure waits for another invocation's close of its incident (a close posts
/// to a few channels: seconds) before it is told without the record.
const WAIT_FOR_CLOSE: Duration = Duration::from_secs(10);
const WAIT_STEP: Duration = Duration::from_millis(250);

/// Records `d` in its incident, when an incident channel is configured and the task names
/// its cluster and group; `event` is the task's event as `event::kept_for_recheck` keeps
/// it (the first of each cause is stored, to check its path on close), and `route` the
/// first route that matched (a muted failure is counted, not told). An incident found quiet is closed first (held until `lease_until`,
/// the invocation's deadline); one being closed is waited for; then the failure opens the
/// next incident.
pub async fn note_failure<'a>(
    deps: &'a Deps,
    d: &Diagnosis,
    (event, route): (&Value, Option<&Route>),
    lease_until: u64,
) -> Option<Noted<'a>> {
    let channels = deps.incidents.as_ref()?;
    let key = incident_key_of(d)?;
    let cause = d.verdict().as_str();
    let service = format!(
        "{}/{}",
        d.task.cluster_name().unwrap_or("-"),
        d.task
            .service_name()
            .or(d.task.group.as_deref())
            .unwrap_or("-")
    );
    let muted = matches!(route.map(|r| &r.action), Some(Action::Mute));
    let record = || {
        channels.record.record_failure(
            (&key, &service),
            cause,
            now_epoch_seconds(),
            channels.quiet_minutes * 60,
            muted,
        )
    };
    let mut recorded = record().await;
    let started = tokio::time::Instant::now();
    while let Err(RecordError::NotNow(why)) = &recorded {
        let closing = match why {
            NotRecorded::Quiet => Closing::Quiet,
            NotRecorded::Abandoned { by } => Closing::taken_over(by.as_deref()),
            NotRecorded::Closing { .. } if started.elapsed() < WAIT_FOR_CLOSE => {
                tokio::time::sleep(WAIT_STEP).await;
                recorded = record().await;
                continue;
            }
            NotRecorded::Closing { .. } => break,
        };
        if let Err(err) = close(deps, channels, &key, (closing, lease_until), None).await {
            warn!(incident = key, error = %err, "the incident could not be closed: this failure is told without the record");
            break;
        }
        recorded = record().await;
        if started.elapsed() >= WAIT_FOR_CLOSE {
            break;
        }
    }
    let recorded = match recorded {
        Ok(recorded) => Some(recorded),
        Err(err) => {
            warn!(incident = key, error = %err, "incident record unavailable: paging without it, no Slack thread or Teams card");
            None
        }
    };
    if let Some(new) = recorded.as_ref().filter(|r| r.new_cause) {
        let kept = event.to_string();
        if kept.len() <= MAX_KEPT_EVENT_BYTES {
            let at = (new.opened_at, cause);
            let keep = channels
                .record
                .keep_cause_event(&key, at, &kept, now_epoch_seconds());
            if let Err(err) = keep.await {
                warn!(incident = key, error = %err, "the cause's task event was not kept: its close will say it was not checked again");
            }
        }
    }
    Some(Noted {
        channels,
        key,
        recorded,
        targets: targets(channels, route),
    })
}

/// Tells each channel what this failure means for it; `lease_until` (epoch seconds) is how
/// long this invocation may hold a claim to post.
pub async fn tell(
    noted: &Noted<'_>,
    d: &Diagnosis,
    lang: Lang,
    lease_until: u64,
) -> Vec<Result<Sink, SinkError>> {
    let cause = d.verdict().as_str();
    let pagerduty = async {
        let via = noted.targets.pagerduty.as_deref()?;
        let pagerduty = noted.channels.pagerduty_via(via)?;
        let event = trigger_event(d, lang, &noted.key);
        // Without the record, page anyway: PagerDuty merges a repeated trigger under its
        // dedup_key, and a lost page is worse.
        let told = (CauseChannel::PagerDuty, cause, via);
        tell_cause(noted, told, lease_until, true, || pagerduty.send(&event))
            .await
            .map(|r| r.map(|()| Sink::PagerDuty))
    };
    let teams = async {
        let via = noted.targets.teams.as_deref()?;
        let teams = noted.channels.teams_via(via)?;
        let recorded = noted.recorded.as_ref()?;
        let mut causes = recorded.teams_causes.clone();
        causes.push(cause.to_string());
        let card = cause_card(d, &status(recorded, causes, now_epoch_seconds()), lang);
        let told = (CauseChannel::Teams, cause, via);
        tell_cause(noted, told, lease_until, false, || teams.post(&card))
            .await
            .map(|r| r.map(|()| Sink::Teams))
    };
    let slack = async {
        let recorded = noted.recorded.as_ref()?;
        noted.channels.slack.as_ref()?;
        tell_slack(noted, recorded, d, lang, lease_until).await
    };
    let (pagerduty, teams, slack) = tokio::join!(pagerduty, teams, slack);
    pagerduty.into_iter().chain(teams).chain(slack).collect()
}

/// Tells `channel` of `cause` through `send` (to the destination `via`) when it does not have
/// it yet, under a claim so that one invocation sends it; `without_record` says whether to
/// send when the record could not be read.
async fn tell_cause<F, Fut>(
    noted: &Noted<'_>,
    (channel, cause, via): (CauseChannel, &str, &str),
    lease_until: u64,
    without_record: bool,
    send: F,
) -> Option<Result<(), SinkError>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), SinkError>>,
{
    let record = &noted.channels.record;
    let key = noted.key.as_str();
    match &noted.recorded {
        None if !without_record => return None,
        None => {}
        Some(recorded) => {
            if !recorded.untold.contains(&channel) {
                return None;
            }
            match record
                .claim_cause(channel, key, cause, now_epoch_seconds(), lease_until)
                .await
            {
                Ok(true) => {}
                Ok(false) => return None,
                Err(err) if without_record => {
                    warn!(incident = key, error = %err, "cannot claim the cause: telling it without the claim");
                }
                Err(err) => {
                    warn!(incident = key, error = %err, "cannot claim the cause: not telling it");
                    return None;
                }
            }
        }
    }
    let sent = send().await;
    let recorded = match &sent {
        Ok(()) => record.told(channel, key, cause, via).await,
        Err(_) => record.release_cause(channel, key, cause).await,
    };
    if let Err(err) = recorded {
        warn!(incident = key, error = %err, "the outcome was not recorded: the next failure may tell it again");
    }
    Some(sent)
}

fn status(recorded: &Recorded, causes: Vec<String>, now: u64) -> IncidentStatus {
    IncidentStatus {
        failed_tasks: recorded.failed_tasks,
        open_seconds: Some(now.saturating_sub(recorded.opened_at)),
        causes,
        stage: if recorded.mitigated {
            Stage::Mitigated
        } else {
            Stage::Open
        },
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
        // A new parent goes where this failure's route (or the default) says.
        let channel = noted.targets.slack_channel.as_deref()?;
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
        return Some(match slack.post(channel, &message, None, false).await {
            Ok(ts) => {
                let blocks = diagnosis.to_string();
                let posted = record.slack_posted(key, (channel, &ts), &blocks, cause, now);
                if let Err(err) = posted.await {
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
    // An incident's thread hears all of it, wherever it was opened.
    let channel = thread_channel(&known.channel, slack);
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
            slack.post(channel, &reply, Some(ts), false).await?;
            let edited = parent(&stored, &status(recorded, causes, now), lang);
            slack.update(channel, ts, &edited).await
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
    Some(
        slack
            .update(channel, ts, &message)
            .await
            .map(|()| Sink::Slack),
    )
}

/// The channel of an incident's thread: the one recorded with its parent (a record from
/// before channels were recorded is in the default one).
fn thread_channel<'a>(recorded: &'a Option<String>, slack: &'a SlackApp) -> &'a str {
    recorded.as_deref().unwrap_or(slack.channel())
}

/// An event that changes no incident, said in the log and the answer.
fn skip(why: String) -> Result<Outcome, HandlerError> {
    info!(decision = "skipped", why, "service event");
    Ok(Outcome::Skipped {
        task_arn: None,
        why,
    })
}

/// The incident record could not be used: the invocation fails, for its retry.
fn record_unavailable(key: &str, err: super::dedup::DedupError) -> HandlerError {
    let error = HandlerError::Incidents(err);
    error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), incident = key, error = %error, "incident record unavailable");
    error
}

/// Why an incident is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closing {
    /// The service recovered: the event that said so.
    Recovered(String),
    /// No failure for the quiet period.
    Quiet,
}

impl Closing {
    /// What the record says a close is for (`closing_by`).
    fn label(&self) -> Option<&str> {
        match self {
            Closing::Recovered(by) => Some(by),
            Closing::Quiet => None,
        }
    }

    /// The close an invocation that stopped began, by what it recorded it was for.
    fn taken_over(by: Option<&str>) -> Closing {
        match by {
            Some(by) if by != "quiet" => Closing::Recovered(by.to_string()),
            _ => Closing::Quiet,
        }
    }
}

/// An ECS service or deployment event: a recovery closes the service's open incident, a
/// failed deployment or its rollback mitigates it; without an incident channel configured,
/// nothing is read or sent (a steady-state event repeats every few hours while healthy).
pub async fn on_service_event(
    payload: &Value,
    deps: &Deps,
    call: &Call,
) -> Result<Outcome, HandlerError> {
    let Some(channels) = &deps.incidents else {
        return skip(
            "no incident is kept without an incident channel (PagerDuty, Slack's app mode, Teams, Amazon Q Developer) and DEDUP_TABLE: nothing to update".into(),
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
    let closes = event.change.recovered();
    let impaired = event.change == ServiceChange::StartImpaired;
    if !closes && !impaired && !event.change.mitigates() {
        return skip(format!("{} does not change an incident", event.event_name));
    }
    if let Some(why) = deps.refuses_account(Some(&event.account)).await {
        return skip(why);
    }
    let incident = incident_key(
        &event.account,
        &event.region,
        &event.cluster_arn,
        &event.group(),
    );
    let service = format!(
        "{}/{}",
        crate::network::cluster_name(&event.cluster_arn),
        event.service_name
    );
    if impaired {
        start_impaired(payload, deps, channels, &event, &incident, call).await
    } else if closes {
        let closing = Closing::Recovered(event.event_name.clone());
        let until = Lease::until_deadline(&call.request_id, call.deadline, now_epoch_seconds());
        close(
            deps,
            channels,
            &incident,
            (closing, until.until),
            Some(&service),
        )
        .await
    } else {
        mitigate((deps, call), channels, &incident, &event, &service).await
    }
}

/// ECS says a service's tasks keep failing to start, and names no task or cause: when no
/// incident is open for it, its newest stopped task is read (`ListTasks`, `DescribeTasks`)
/// and handled as the Task State Change event ECS sent for it, which opens the incident.
async fn start_impaired(
    payload: &Value,
    deps: &Deps,
    channels: &IncidentChannels,
    event: &ServiceEvent,
    key: &str,
    call: &Call,
) -> Result<Outcome, HandlerError> {
    match channels.record.is_open(key).await {
        Ok(true) => return skip(format!("{key} is open: its failed tasks tell the rest")),
        Ok(false) => {}
        Err(err) => return Err(record_unavailable(key, err)),
    }
    let stopped = deps
        .network
        .newest_stopped_task(
            &event.account,
            &event.region,
            &event.cluster_arn,
            &event.service_name,
        )
        .await;
    let detail = match stopped {
        Ok(Some(detail)) => detail,
        Ok(None) => {
            return skip(format!(
                "ECS says the tasks of {} fail to start (SERVICE_TASK_START_IMPAIRED), but none of its stopped tasks is left to diagnose (ECS keeps them about an hour)",
                event.service_name
            ))
        }
        Err(err) if err.retryable() => {
            let error = HandlerError::InspectionFailed(err);
            error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), incident = key, error = %error, "the stopped tasks could not be read");
            return Err(error);
        }
        Err(err) => {
            return skip(format!(
                "ECS says the tasks of {} fail to start (SERVICE_TASK_START_IMPAIRED), and {err}",
                event.service_name
            ))
        }
    };
    let task_arn = detail["taskArn"].clone();
    let task_event = serde_json::json!({
        "version": "0",
        "id": format!("{}/newest-stopped-task", payload["id"].as_str().unwrap_or("-")),
        "detail-type": crate::event::TASK_STATE_CHANGE,
        "source": "aws.ecs",
        "account": event.account,
        "time": payload["time"],
        "region": event.region,
        "resources": [task_arn],
        "detail": detail,
    });
    info!(
        incident = key,
        task_arn = task_arn.as_str(),
        "SERVICE_TASK_START_IMPAIRED: diagnosing the newest stopped task"
    );
    super::handle::handle_event(task_event, deps, call).await
}

/// Closes the incident under `key` in every channel that followed it, with what is true now
/// of each cause's path; `Skipped` when none is open (or, closing as quiet, it is not quiet).
pub async fn close(
    deps: &Deps,
    channels: &IncidentChannels,
    key: &str,
    (closing, lease_until): (Closing, u64),
    service: Option<&str>,
) -> Result<Outcome, HandlerError> {
    let now = now_epoch_seconds();
    let quiet_since = match closing {
        Closing::Quiet => Some(now.saturating_sub(channels.quiet_minutes * 60)),
        Closing::Recovered(_) => None,
    };
    let recovered = match channels
        .record
        .begin_resolve(key, (now, lease_until), closing.label(), quiet_since)
        .await
    {
        Ok(Some(recovered)) => recovered,
        Ok(None) => return skip(format!("no open incident for {key}")),
        Err(err) => return Err(record_unavailable(key, err)),
    };
    let service = recovered
        .service
        .clone()
        .or(service.map(str::to_string))
        .unwrap_or_else(|| "-".into());
    let service = service.as_str();
    let lang = deps.lang;
    let verified = recheck(deps, channels, key, &recovered, lang).await;
    let open_seconds = recovered.opened_at.map(|at| now.saturating_sub(at));
    let status = IncidentStatus {
        failed_tasks: recovered.failed_tasks,
        open_seconds,
        causes: recovered.causes.clone(),
        stage: match &closing {
            Closing::Recovered(by) => Stage::Resolved { by: by.clone() },
            Closing::Quiet => Stage::Quiet {
                minutes: channels.quiet_minutes,
            },
        },
    };
    let done = &recovered.resolved_to;
    let pending = |label: &str| !done.iter().any(|c| c == label);
    let step = (&channels.record, key, Step::Close);
    let pagerduty = each_destination(
        step,
        (Sink::PagerDuty, &recovered.pagerduty_via),
        done,
        |via| async move {
            let pagerduty = channels.pagerduty_via(via)?;
            Some(pagerduty.send(&resolve_event(key)).await)
        },
    );
    let card = resolved_card(&status, &verified, lang);
    let teams = each_destination(step, (Sink::Teams, &recovered.teams_via), done, |via| {
        let card = &card;
        async move { Some(channels.teams_via(via)?.post(card).await) }
    });
    let slack = async {
        let slack = channels
            .slack
            .as_ref()
            .filter(|_| pending(Sink::Slack.as_str()))?;
        let sent = reply_and_edit(slack, &recovered.slack, (&status, &verified), true, lang);
        Some(told(step, Sink::Slack, sent.await?).await)
    };
    let chatbot = async {
        let sns = channels
            .chatbot
            .as_ref()
            .filter(|_| pending(Sink::Sns.as_str()) && recovered.announced)?;
        let message = incident_message((key, service), &status, &verified, true, lang);
        let sent = sns.publish(&message).await.map(|_| ());
        Some(told(step, Sink::Sns, sent).await)
    };
    let (pagerduty, teams, slack, chatbot) = tokio::join!(pagerduty, teams, slack, chatbot);
    let (sent_to, failed) = super::sinks::split_deliveries([pagerduty, teams, slack, chatbot]);
    if !failed.is_empty() {
        let error = HandlerError::SinkFailed {
            failed,
            delivered: sent_to,
        };
        if let Err(err) = channels.record.release_close(key, lease_until).await {
            warn!(incident = key, error = %err, "the close's hold was not given back: its retry waits for this invocation's deadline");
        }
        error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), incident = key, error = %error, "closing failed");
        return Err(error);
    }
    if let Err(err) = channels
        .record
        .resolved(key, now, &recovered.leftovers)
        .await
    {
        warn!(incident = key, error = %err, "closed but not recorded: the next recovery closes again");
    }
    let event_name = match closing {
        Closing::Recovered(by) => by,
        Closing::Quiet => format!("no failure for {} min", channels.quiet_minutes),
    };
    info!(
        decision = "resolved",
        incident = key,
        event_name,
        failed_tasks = recovered.failed_tasks,
        open_seconds,
        verified = verified.join(" | "),
        "incident closed"
    );
    Ok(Outcome::Resolved {
        incident: key.to_string(),
        event_name,
        failed_tasks: recovered.failed_tasks,
        open_seconds,
        verified,
        sent_to,
    })
}

/// What is being told, to record where it was told so that its retry does not tell it again.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Close,
    /// A mitigation, by its event's name.
    Mitigation(&'a str),
}

impl Step<'_> {
    async fn told(self, record: &IncidentTable, key: &str, label: &str) {
        let recorded = match self {
            Step::Close => record.resolved_to(key, label).await,
            Step::Mitigation(name) => record.mitigation_told(key, name, label).await,
        };
        if let Err(err) = recorded {
            warn!(incident = key, error = %err, "told but not recorded: a retry tells again");
        }
    }
}

/// `sent` to `sink` is recorded for `step`.
async fn told(
    (record, key, step): (&IncidentTable, &str, Step<'_>),
    sink: Sink,
    sent: Result<(), SinkError>,
) -> Result<Sink, SinkError> {
    sent?;
    step.told(record, key, sink.as_str()).await;
    Ok(sink)
}

/// Tells each destination in `vias` (of `sink`) that `done` does not list, one after the
/// other, recording each as `sink:via`; stops at the first failure. `None` when none was
/// told; a destination no longer configured (a route removed) is skipped, and said.
async fn each_destination<'a, F, Fut>(
    (record, key, step): (&IncidentTable, &str, Step<'_>),
    (sink, vias): (Sink, &'a [String]),
    done: &[String],
    send: F,
) -> Option<Result<Sink, SinkError>>
where
    F: Fn(&'a str) -> Fut,
    Fut: Future<Output = Option<Result<(), SinkError>>>,
{
    let mut told = None;
    for via in vias {
        let label = format!("{sink}:{via}");
        if done.contains(&label) {
            continue;
        }
        match send(via).await {
            None => warn!(
                incident = key,
                sink = sink.as_str(),
                via,
                "the incident was told through a destination no longer configured: not told this"
            ),
            Some(Err(err)) => return Some(Err(err)),
            Some(Ok(())) => {
                step.told(record, key, &label).await;
                told = Some(Ok(sink));
            }
        }
    }
    told
}

/// Replies in the incident's thread with `status` and `lines` (to the channel too with
/// `broadcast`) and edits its parent to `status`; `None` when the incident has no thread.
async fn reply_and_edit(
    slack: &SlackApp,
    thread: &SlackParent,
    (status, lines): (&IncidentStatus, &[String]),
    broadcast: bool,
    lang: Lang,
) -> Option<Result<(), SinkError>> {
    let ts = thread.ts.as_deref()?;
    let channel = thread_channel(&thread.channel, slack);
    let reply = thread_reply(status, lines, lang);
    if let Err(err) = slack.post(channel, &reply, Some(ts), broadcast).await {
        return Some(Err(err));
    }
    let edited = parent(&stored_parent(&thread.blocks), status, lang);
    Some(slack.update(channel, ts, &edited).await)
}

/// The parent's diagnosis blocks as first posted (the record keeps them as JSON text).
fn stored_parent(blocks: &Option<String>) -> Value {
    blocks
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or_default()
}

/// What is true now of each cause: the first failed task of each network-path cause
/// diagnosed again against the network as it is now (the read a diagnosis makes, once per
/// subnet whatever the number of causes there), in one line each; a cause that is not
/// about the path is said not to be checked again (and its event is not read).
async fn recheck(
    deps: &Deps,
    channels: &IncidentChannels,
    key: &str,
    closed: &ClosedIncident,
    lang: Lang,
) -> Vec<String> {
    let path_code = |cause: &str| Code::parse(cause).filter(|c| Code::PATH.contains(c));
    let path_causes: Vec<String> = closed
        .causes
        .iter()
        .filter(|c| path_code(c).is_some())
        .cloned()
        .collect();
    let events = match closed.opened_at {
        Some(opened_at) if !path_causes.is_empty() => channels
            .record
            .cause_events(key, opened_at, &path_causes)
            .await
            .unwrap_or_else(|err| {
                warn!(incident = key, error = %err, "the causes' task events could not be read: not checked again");
                Vec::new()
            }),
        _ => Vec::new(),
    };
    let mut views = Views::default();
    let mut lines = Vec::with_capacity(closed.causes.len());
    for cause in &closed.causes {
        let recheck = match path_code(cause) {
            Some(code) => {
                let event = events
                    .iter()
                    .find(|(c, _)| c == cause)
                    .and_then(|(_, e)| e.as_deref());
                recheck_path(deps, code, event, &mut views).await
            }
            None => Recheck::NotAPath,
        };
        lines.push(recheck_line(cause, &recheck).get(lang).to_string());
    }
    lines
}

/// The views read during one close, by the interface that pulls (subnet, container
/// instance), so causes seen from the same place are checked against one read.
type Views<'a> = Vec<(
    (Option<String>, Option<String>),
    std::borrow::Cow<'a, crate::network::NetworkView>,
)>;

/// The first failed task of a path cause, diagnosed again now.
async fn recheck_path<'a>(
    deps: &'a Deps,
    cause: Code,
    event: Option<&str>,
    views: &mut Views<'a>,
) -> Recheck {
    let task = match event
        .and_then(|e| serde_json::from_str(e).ok())
        .map(parse_task_event_value)
    {
        Some(Ok(TaskEvent::PullFailure(task))) => task,
        _ => return Recheck::NoEvent,
    };
    let subnet = task.subnet_id.clone().unwrap_or_else(|| "-".into());
    let place = (task.subnet_id.clone(), task.container_instance_arn.clone());
    let at = match views.iter().position(|(p, _)| *p == place) {
        Some(at) => at,
        None => match deps.network.for_task(&task).await {
            Ok(view) => {
                views.push((place, view));
                views.len() - 1
            }
            Err(err) => {
                return Recheck::Unread {
                    subnet,
                    why: err.to_string(),
                }
            }
        },
    };
    let ranges = deps.ip_ranges.get().await;
    let now = diagnose::diagnose(&task, Some(&views[at].1), ranges);
    Recheck::Diagnosed {
        subnet,
        cause,
        now: Box::new(now),
    }
}

/// A failed deployment, or its rollback, mitigates the service's open incident: the old
/// revision runs, the new one's pull path is still broken. Each such event is told once.
async fn mitigate(
    (deps, call): (&Deps, &Call),
    channels: &IncidentChannels,
    key: &str,
    event: &ServiceEvent,
    service: &str,
) -> Result<Outcome, HandlerError> {
    let now = now_epoch_seconds();
    let lang = deps.lang;
    let name = event.event_name.as_str();
    let until = Lease::until_deadline(&call.request_id, call.deadline, now).until;
    let mitigating = match channels
        .record
        .claim_mitigation(key, name, now, until)
        .await
    {
        Ok(Some(m)) => m,
        Ok(None) => {
            return skip(format!(
                "no open incident for {key} that {name} has not told"
            ))
        }
        Err(err) => return Err(record_unavailable(key, err)),
    };
    let lines = mitigation_lines(event.reason.as_deref(), &event.change, &mitigating.causes)
        .iter()
        .map(|l| l.get(lang).to_string())
        .collect::<Vec<_>>();
    let status = IncidentStatus {
        failed_tasks: mitigating.failed_tasks,
        open_seconds: mitigating.opened_at.map(|at| now.saturating_sub(at)),
        causes: mitigating.causes.clone(),
        stage: Stage::Mitigated,
    };
    let done = &mitigating.told_channels;
    let pending = |sink: Sink| !done.iter().any(|c| c == sink.as_str());
    let step = (&channels.record, key, Step::Mitigation(name));
    let headline = t!("Mitigated: {name}", "완화됨: {name}", name = name);
    let card = notice_card(headline.get(lang), &lines, &status, lang);
    let teams = each_destination(step, (Sink::Teams, &mitigating.teams_via), done, |via| {
        let card = &card;
        async move { Some(channels.teams_via(via)?.post(card).await) }
    });
    let slack = async {
        let slack = channels.slack.as_ref().filter(|_| pending(Sink::Slack))?;
        let sent = reply_and_edit(slack, &mitigating.slack, (&status, &lines), false, lang);
        Some(told(step, Sink::Slack, sent.await?).await)
    };
    let chatbot = async {
        let sns = channels
            .chatbot
            .as_ref()
            .filter(|_| pending(Sink::Sns) && mitigating.announced)?;
        let message = incident_message((key, service), &status, &lines, false, lang);
        let sent = sns.publish(&message).await.map(|_| ());
        Some(told(step, Sink::Sns, sent).await)
    };
    let (teams, slack, chatbot) = tokio::join!(teams, slack, chatbot);
    let (sent_to, failed) = super::sinks::split_deliveries([teams, slack, chatbot]);
    if let Err(err) = channels
        .record
        .mitigation_done(key, name, failed.is_empty())
        .await
    {
        warn!(incident = key, error = %err, "the mitigation's outcome was not recorded: it may be told again");
    }
    if !failed.is_empty() {
        let error = HandlerError::SinkFailed {
            failed,
            delivered: sent_to,
        };
        error!(decision = "failed", error_type = error.error_type(), retryable = error.retryable(), incident = key, error = %error, "telling the mitigation failed");
        return Err(error);
    }
    info!(
        decision = "mitigated",
        incident = key,
        event_name = name,
        "incident mitigated"
    );
    Ok(Outcome::Mitigated {
        incident: key.to_string(),
        event_name: name.to_string(),
        sent_to,
    })
}

/// The quiet check (and the sweep) closes every open incident that went quiet; what could
/// not be closed is logged and tried again by the next check. Returns the keys closed.
pub async fn close_quiet(deps: &Deps, call: &Call) -> Vec<String> {
    let mut closed = Vec::new();
    let Some(channels) = &deps.incidents else {
        return closed;
    };
    let keys = match channels.record.open_incidents().await {
        Ok(keys) => keys,
        Err(err) => {
            warn!(error = %err, "the open incidents could not be listed: quiet ones stay open until their next event");
            return closed;
        }
    };
    let until = Lease::until_deadline(&call.request_id, call.deadline, now_epoch_seconds()).until;
    for key in keys {
        let closing = (Closing::Quiet, until);
        match close(deps, channels, &key, closing, None).await {
            Ok(Outcome::Resolved { .. }) => closed.push(key),
            Ok(_) => {}
            Err(err) => {
                warn!(incident = key, error = %err, "the quiet incident was not closed: the next check tries again")
            }
        }
    }
    closed
}
