//! The function's preflight modes, dispatched on the event it receives: the scheduled sweep
//! (audit the account and region, post what is new or fixed), the change alarm (a CloudTrail
//! change: audit what it can affect, post what it made new), and the deployment gate (an ECS
//! lifecycle hook: audit the target revision, answer `hookStatus`).
//!
//! The gate always answers. When the doctor itself cannot decide (a payload it cannot read,
//! an AWS error, a revision or service it cannot inspect, a panic) it answers `SUCCEEDED`
//! and posts a warning, because an error or a `FAILED` would roll the deployment back; with
//! `GATE_FAIL_CLOSED=true` it answers `FAILED` instead.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

use super::answer::Call;
use super::deps::Deps;
use super::sinks::SinkError;
use super::{now_epoch_seconds, HandlerError, Outcome};
use crate::alert::Sink;
use crate::audit::delta::{self, KnownCauses};
use crate::audit::{self, Audit, AuditOutcome, PlannedChange, Selection};
use crate::change::{parse_change, ChangeEvent, ChangeScope};
use crate::localized::Localized;
use crate::network::live::{self, AccountTarget};
use crate::network::source::SourceError;
use crate::network::{cluster_name, NetworkView};
use crate::render::digest::{digest_slack, digest_sns, Digest, Trigger};
use crate::t;
use crate::untrusted;

/// What kind of invocation a payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    TaskStateChange,
    Schedule,
    Change,
    LifecycleHook,
    /// An ECS service or deployment event: may open, mitigate or close an incident.
    ServiceEvent,
    /// The incident rule's quiet check ([`QUIET_CHECK`]): closes incidents that went quiet.
    QuietCheck,
}

/// The constant input of the template's `IncidentQuietCheckRule`: `{"ecs-pull-doctor":
/// "close-quiet-incidents"}`.
pub const QUIET_CHECK: (&str, &str) = ("ecs-pull-doctor", "close-quiet-incidents");

/// Tells the invocations apart by their shape: a lifecycle hook's payload has no
/// `detail-type`, EventBridge's always has one.
pub fn invocation(payload: &Value) -> Invocation {
    if payload.get(QUIET_CHECK.0).and_then(Value::as_str) == Some(QUIET_CHECK.1) {
        return Invocation::QuietCheck;
    }
    if payload.get("detail-type").is_none()
        && [
            "executionDetails",
            "targetServiceRevisionArn",
            "lifecycleStage",
        ]
        .iter()
        .any(|k| payload.get(k).is_some())
    {
        return Invocation::LifecycleHook;
    }
    match payload.get("detail-type").and_then(Value::as_str) {
        Some("Scheduled Event") => Invocation::Schedule,
        Some("AWS API Call via CloudTrail") => Invocation::Change,
        Some(
            crate::service_event::SERVICE_ACTION | crate::service_event::DEPLOYMENT_STATE_CHANGE,
        ) => Invocation::ServiceEvent,
        _ => Invocation::TaskStateChange,
    }
}

/// The lifecycle hook's answer, exactly as ECS reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookAnswer {
    #[serde(rename = "hookStatus")]
    pub hook_status: &'static str,
}

fn text<'a>(payload: &'a Value, key: &str) -> Option<&'a str> {
    payload.get(key)?.as_str().filter(|s| !s.is_empty())
}

/// The account and region an audit is of: the event's, else the function's own.
fn account_and_region(payload: &Value, deps: &Deps) -> (String, Option<String>) {
    let account = text(payload, "account").unwrap_or("self").to_string();
    let region = text(payload, "region")
        .map(str::to_string)
        .or_else(|| deps.network.home_region());
    (account, region)
}

/// Reads `account` (a member's through its role, or the function's own) and audits it.
async fn run_audit(
    deps: &Deps,
    target: &AccountTarget,
    selection: &Selection,
    account: Option<&str>,
    region: Option<&str>,
) -> Result<(Audit, Option<usize>), HandlerError> {
    let (mut view, calls) = deps
        .network
        .for_audit(target, account, region, &|_, _, _| {})
        .await
        .map_err(|e| HandlerError::InspectionFailed(SourceError::Assume(e)))?;
    if view.has_unread_s3_prefix_list() {
        if let Some(ranges) = deps.ip_ranges.get().await {
            view.to_mut().stand_in_for_unread_s3_prefix_lists(ranges);
        }
    }
    let region = region
        .map(str::to_string)
        .or_else(|| view.region())
        .ok_or(HandlerError::NoRegion)?;
    Ok((
        audit::audit(&view, &region, selection),
        calls.map(|(total, _)| total),
    ))
}

/// One target of the organisation's sweep: every service of `account` (a member's through
/// its role, `None` for the function's own) in `region`; the role's refusal as it came.
pub(super) async fn audit_for_sweep(
    deps: &Deps,
    target: &AccountTarget,
    account: Option<&str>,
    region: &str,
) -> Result<(Audit, Option<usize>), live::AssumeError> {
    match run_audit(deps, target, &Selection::default(), account, Some(region)).await {
        Ok(audited) => Ok(audited),
        Err(HandlerError::InspectionFailed(SourceError::Assume(err))) => Err(err),
        Err(other) => Err(live::AssumeError::Transient {
            role_arn: "-".into(),
            message: other.to_string(),
        }),
    }
}

/// Sends a digest to every sink; what went and what failed.
async fn deliver(deps: &Deps, digest: &Digest<'_>) -> (Vec<Sink>, Vec<SinkError>) {
    let lang = deps.lang;
    post_to_sinks(
        deps,
        || digest_sns(digest, lang),
        || digest_slack(digest, lang),
    )
    .await
}

/// Publishes to SNS and posts to Slack at once (each when configured, its payload built only
/// then); what went and what failed.
pub(super) async fn post_to_sinks(
    deps: &Deps,
    sns_message: impl FnOnce() -> crate::render::sns::SnsMessage,
    slack_payload: impl FnOnce() -> Value,
) -> (Vec<Sink>, Vec<SinkError>) {
    let to_sns = async {
        let sns = deps.sns.as_ref()?;
        Some(sns.publish(&sns_message()).await.map(|_| Sink::Sns))
    };
    let to_slack = async {
        let slack = deps.slack.as_ref()?;
        Some(slack.post(&slack_payload()).await.map(|_| Sink::Slack))
    };
    let (sns, slack) = tokio::join!(to_sns, to_slack);
    super::sinks::split_deliveries([sns, slack])
}

/// The scheduled sweep, and the change alarm when `change` is given: audit, compare with the
/// known causes, post (sweep: new and fixed; alarm: what the change made new), remember.
pub(super) async fn sweep_or_alarm(payload: Value, deps: &Deps) -> Result<Outcome, HandlerError> {
    let change = match invocation(&payload) {
        Invocation::Change => match parse_change(&payload) {
            Ok(ChangeEvent::Change(change)) => Some(change),
            Ok(ChangeEvent::Skipped(why)) => {
                info!(
                    decision = "skipped",
                    why, "not a change that can break a pull"
                );
                return Ok(Outcome::Skipped {
                    task_arn: None,
                    why,
                });
            }
            Err(err) => {
                let error = HandlerError::MalformedChange(err);
                error!(decision = "failed", error_type = error.error_type(), error = %error, "event rejected");
                return Err(error);
            }
        },
        _ => None,
    };
    if change.is_none() {
        // A schedule's envelope names the account and region its causes are kept under.
        if let Err(err) =
            crate::trust::check_identity(text(&payload, "account"), text(&payload, "region"), &[])
        {
            let error = HandlerError::MalformedEvent(crate::event::EventError::Untrusted(err));
            error!(decision = "failed", error_type = error.error_type(), error = %error, "event rejected");
            return Err(error);
        }
    }
    let member_account = change.as_ref().and_then(|c| c.account.clone());
    if let Some(why) = match &change {
        Some(_) => deps.refuses_account(member_account.as_deref()).await,
        None => None,
    } {
        info!(decision = "skipped", why, "account not allowed");
        return Ok(Outcome::Skipped {
            task_arn: None,
            why,
        });
    }
    let (account, event_region) = account_and_region(&payload, deps);
    let region = change
        .as_ref()
        .and_then(|c| c.region.clone())
        .or(event_region);
    let (target, selection) = match change.as_ref().map(|c| &c.scope) {
        Some(ChangeScope::Service { cluster, service }) => (
            AccountTarget {
                services: vec![(cluster.clone(), service.clone())],
                ..AccountTarget::default()
            },
            Selection {
                services: vec![(cluster.clone(), service.clone())],
                ..Selection::default()
            },
        ),
        _ => (AccountTarget::default(), Selection::default()),
    };
    let (audit, calls) = run_audit(
        deps,
        &target,
        &selection,
        member_account.as_deref(),
        region.as_deref(),
    )
    .await?;
    remember_and_post(deps, &account, &audit, calls, change.as_deref()).await
}

/// Compares `audit` of `account` with the causes known for it, posts what changed (a sweep:
/// new, widened, narrowed, fixed; an alarm about `change`: what it made new or wider) and
/// remembers the causes found.
pub(super) async fn remember_and_post(
    deps: &Deps,
    account: &str,
    audit: &Audit,
    calls: Option<usize>,
    change: Option<&crate::change::Change>,
) -> Result<Outcome, HandlerError> {
    let now = now_epoch_seconds();
    let known = match &deps.known {
        Some(store) => Some(
            store
                .load(account, &audit.region)
                .await
                .map_err(HandlerError::KnownCauses)?,
        ),
        None => None,
    };
    let empty = KnownCauses::default();
    let delta = delta::compare(known.as_ref().map_or(&empty, |k| &k.causes), audit, now);
    // An alarm speaks of what the change broke; what it fixed the next sweep reports.
    let fixed = if change.is_some() {
        vec![]
    } else {
        delta.fixed.clone()
    };
    // Likewise what it narrowed; what it widened is what it broke further.
    let narrowed = if change.is_some() {
        vec![]
    } else {
        delta.narrowed.clone()
    };
    let digest = Digest {
        trigger: change.map_or(Trigger::Sweep, Trigger::Change),
        // Central mode posts for many accounts into the same channels.
        account: deps.allowed_accounts.is_some().then_some(account),
        audit: Some(audit),
        new: delta.new.clone(),
        widened: delta.widened.clone(),
        narrowed: narrowed.clone(),
        fixed: fixed.clone(),
        warning: None,
    };
    let quiet = digest.new.is_empty()
        && digest.fixed.is_empty()
        && digest.widened.is_empty()
        && digest.narrowed.is_empty();
    let (sent_to, failed) = if quiet {
        (vec![], vec![])
    } else {
        deliver(deps, &digest).await
    };
    if !failed.is_empty() {
        // Nothing is remembered, so the retry posts again: twice is better than never.
        let error = HandlerError::SinkFailed {
            failed,
            delivered: sent_to,
        };
        error!(decision = "failed", error_type = error.error_type(), error = %error, "delivery failed");
        return Err(error);
    }
    if let (Some(store), Some(read)) = (&deps.known, known) {
        let remembered = delta::Delta {
            fixed: fixed.clone(),
            ..delta.clone()
        };
        store
            .save(
                account,
                &audit.region,
                read,
                |theirs| delta::merge(theirs, &remembered),
                now,
            )
            .await
            .map_err(HandlerError::KnownCauses)?;
    }
    let kind = if change.is_some() { "change" } else { "sweep" };
    let new: Vec<String> = delta.new.iter().map(|c| c.identity.clone()).collect();
    let fixed: Vec<String> = fixed.iter().map(|(id, _)| id.clone()).collect();
    let identities = |changes: &[delta::ScopeChange<'_>]| -> Vec<String> {
        changes.iter().map(|c| c.cause.identity.clone()).collect()
    };
    let (widened, narrowed) = (identities(&delta.widened), identities(&narrowed));
    info!(
        decision = if quiet { "quiet" } else { "sent" },
        kind,
        event_name = change.as_ref().map(|c| c.event_name.as_str()),
        new = new.join(","),
        widened = widened.join(","),
        narrowed = narrowed.join(","),
        fixed = fixed.join(","),
        services = audit.services.len(),
        calls,
        "audit done"
    );
    Ok(Outcome::Audited {
        kind: kind.into(),
        event_name: change.map(|c| c.event_name.clone()),
        new,
        widened,
        narrowed,
        fixed,
        persisting: delta.persisting,
        services: audit.services.len(),
        blocked: audit.count(audit::ServiceVerdict::Blocked),
        unknown: audit.count(audit::ServiceVerdict::Unknown),
        not_audited: audit
            .not_inspected
            .iter()
            .map(|n| n.get(deps.lang).to_string())
            .collect(),
        sent_to,
    })
}

/// The deployment gate. Never an error: every path answers a `hookStatus`, before the
/// invocation's deadline.
pub(super) async fn gate(payload: Value, deps: &Deps, call: &Call) -> HookAnswer {
    let budget = GateBudget::for_call(call);
    let decided = tokio::time::timeout(
        budget.audit,
        AssertUnwindSafe(decide_gate(&payload, deps)).catch_unwind(),
    )
    .await
    .unwrap_or_else(|_| {
        Ok(Err(t!(
            "the audit did not finish within {seconds} s (the time the invocation had left, less the time to answer)",
            "점검이 {seconds}초(호출에 남은 시간에서 응답할 시간을 뺀 시간) 안에 끝나지 않았습니다",
            seconds = format!("{:.1}", budget.audit.as_secs_f64())
        )))
    })
    .unwrap_or_else(|_| {
        Err(t!(
            "the doctor panicked while auditing the revision",
            "리비전을 점검하던 중 도구가 비정상 종료되었습니다"
        ))
    });
    let revision = execution_details(&payload)
        .and_then(|d| text(d, "targetServiceRevisionArn"))
        .filter(|arn| crate::trust::arn_region_and_account(arn).is_some())
        .map_or_else(
            || "-".into(),
            |arn| untrusted::one_line(arn, untrusted::MAX_NAME_BYTES),
        );
    let (status, digest_parts) = match &decided {
        Ok(GateVerdict::Allowed) => {
            return HookAnswer {
                hook_status: "SUCCEEDED",
            }
        }
        Ok(GateVerdict::Blocked {
            audit,
            service,
            revision,
        }) => {
            let blocking: Vec<&audit::RootCause> = audit
                .root_causes
                .iter()
                .filter(|c| c.severity == crate::diagnose::Severity::Critical)
                .collect();
            let codes: Vec<&str> = blocking.iter().map(|c| c.code.as_str()).collect();
            info!(
                decision = "blocked",
                hook_status = "FAILED",
                service,
                revision,
                codes = codes.join(","),
                "deployment gate: a hop is blocked"
            );
            let digest = Digest {
                trigger: Trigger::Gate {
                    service,
                    revision,
                    allowed: false,
                },
                account: None,
                audit: Some(audit),
                new: blocking,
                widened: vec![],
                narrowed: vec![],
                fixed: vec![],
                warning: None,
            };
            ("FAILED", Some(digest))
        }
        Err(_) => ("", None),
    };
    if let Some(digest) = digest_parts {
        deliver_before(deps, &digest, &budget, "the gate's root causes").await;
        return HookAnswer {
            hook_status: status,
        };
    }
    let Err(why) = decided else {
        unreachable!("an allowed or blocked verdict returned above")
    };
    let allowed = !deps.gate_fail_closed;
    let service = execution_details(&payload)
        .and_then(|d| text(d, "serviceArn"))
        .filter(|arn| crate::trust::arn_region_and_account(arn).is_some())
        .map(|arn| untrusted::one_line(&service_name_of(arn), untrusted::MAX_NAME_BYTES))
        .unwrap_or_else(|| "-".into());
    let warning = if allowed {
        t!(
            "The deployment gate could not decide, so it let the deployment through (GATE_FAIL_CLOSED is off): {why}",
            "배포 게이트가 판단하지 못해 배포를 허용했습니다(GATE_FAIL_CLOSED 꺼짐): {why}",
            why = why.clone()
        )
    } else {
        t!(
            "The deployment gate could not decide, and GATE_FAIL_CLOSED is on, so it stopped the deployment: {why}",
            "배포 게이트가 판단하지 못했고 GATE_FAIL_CLOSED가 켜져 있어 배포를 중단했습니다: {why}",
            why = why.clone()
        )
    };
    let digest = Digest {
        trigger: Trigger::Gate {
            service: &service,
            revision: &revision,
            allowed,
        },
        account: None,
        audit: None,
        new: vec![],
        widened: vec![],
        narrowed: vec![],
        fixed: vec![],
        warning: Some(warning),
    };
    deliver_before(deps, &digest, &budget, "the gate's warning").await;
    let status = if allowed { "SUCCEEDED" } else { "FAILED" };
    warn!(
        decision = "undecided",
        hook_status = status,
        revision,
        why = why.en,
        "deployment gate could not decide"
    );
    HookAnswer {
        hook_status: status,
    }
}

/// How the gate spends the time its invocation has: the audit first, then the post of what
/// it found, and always enough left to answer.
#[derive(Debug, Clone, Copy, PartialEq)]
struct GateBudget {
    audit: std::time::Duration,
    /// When the post must give up, so the answer still leaves in time.
    answer_by: tokio::time::Instant,
}

impl GateBudget {
    /// With no deadline (a direct call), the template's 90 s timeout is assumed.
    fn for_call(call: &Call) -> GateBudget {
        let left = call.time_left().unwrap_or(ASSUMED_TIMEOUT);
        let answering = left.saturating_sub(ANSWER_MARGIN);
        // The post gets its usual share, but never more than half of what is left.
        let posting = POST_RESERVE.min(answering / 2);
        GateBudget {
            audit: answering.saturating_sub(posting),
            answer_by: tokio::time::Instant::now() + answering,
        }
    }
}

/// The function timeout the template sets, for a call that names no deadline.
const ASSUMED_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);
/// What the post of a gate's findings is given (SNS and Slack in parallel, the secret read
/// first: 3 s + 10 s at most).
const POST_RESERVE: std::time::Duration = std::time::Duration::from_secs(14);
/// Kept for the answer itself to reach the Runtime API.
const ANSWER_MARGIN: std::time::Duration = std::time::Duration::from_millis(1500);

/// Posts `digest` to every sink, giving up at the budget's `answer_by`; failures are logged.
async fn deliver_before(deps: &Deps, digest: &Digest<'_>, budget: &GateBudget, what: &str) {
    match tokio::time::timeout_at(budget.answer_by, deliver(deps, digest)).await {
        Ok((_, failed)) => {
            for failure in failed {
                warn!(error = %failure, "{what} were not delivered");
            }
        }
        Err(_) => warn!("{what} were not delivered before the invocation's deadline"),
    }
}

/// What the gate found, when it could decide.
enum GateVerdict {
    Allowed,
    Blocked {
        audit: Audit,
        service: String,
        revision: String,
    },
}

/// The hook's `executionDetails`, or the payload itself in the flat shape some
/// documentation shows.
fn execution_details(payload: &Value) -> Option<&Value> {
    match payload.get("executionDetails") {
        Some(details) if details.is_object() => Some(details),
        _ => payload.is_object().then_some(payload),
    }
}

/// `cluster/service` from `arn:aws:ecs:R:A:service/CLUSTER/NAME`.
fn service_name_of(arn: &str) -> String {
    let path = arn.rsplit_once(":service/").map_or(arn, |(_, p)| p);
    path.to_string()
}

/// `Err` when the doctor cannot decide, with why.
async fn decide_gate(payload: &Value, deps: &Deps) -> Result<GateVerdict, Localized> {
    let details = execution_details(payload).ok_or_else(|| {
        t!(
            "the hook payload is not a JSON object",
            "훅 페이로드가 JSON 객체가 아닙니다"
        )
    })?;
    let (Some(service_arn), Some(revision_arn)) = (
        text(details, "serviceArn"),
        text(details, "targetServiceRevisionArn"),
    ) else {
        return Err(t!(
            "the hook payload names no serviceArn and targetServiceRevisionArn",
            "훅 페이로드에 serviceArn과 targetServiceRevisionArn이 없습니다"
        ));
    };
    // The service's account is where a role is assumed: it must be an account ID, the
    // revision must be of the same account and region, and the account must be allowed.
    let Some((service_region, service_account)) = crate::trust::arn_region_and_account(service_arn)
    else {
        return Err(t!(
            "serviceArn is not an ARN",
            "serviceArn이 ARN이 아닙니다"
        ));
    };
    crate::trust::check_identity(None, None, &[("serviceArn", Some(service_arn))])
        .and_then(|()| {
            crate::trust::check_identity(
                Some(service_account),
                Some(service_region),
                &[("targetServiceRevisionArn", Some(revision_arn))],
            )
        })
        .map_err(|e| Localized::same(format!("the hook payload cannot be trusted: {e}")))?;
    if let Some(why) = deps.refuses_account(Some(service_account)).await {
        return Err(Localized::same(why));
    }
    let region = Some(service_region.to_string());
    let account = Some(service_account);
    let name = service_name_of(service_arn);
    let Some((cluster, service)) = name
        .split_once('/')
        .map(|(c, s)| (c.to_string(), s.to_string()))
    else {
        return Err(t!(
            "serviceArn {service_arn} names no cluster/service",
            "serviceArn {service_arn}에 클러스터/서비스가 없습니다"
        ));
    };
    let clients = match deps.network.clients(account, region.as_deref()).await {
        None => {
            return Err(t!(
                "the function inspects a recorded snapshot (NETWORK_SNAPSHOT_FILE), which cannot describe a service revision",
                "함수가 기록된 스냅샷(NETWORK_SNAPSHOT_FILE)을 쓰므로 서비스 리비전을 조회할 수 없습니다"
            ))
        }
        Some(Err(err)) => return Err(Localized::same(err.to_string())),
        Some(Ok(clients)) => clients,
    };
    let revision = live::service_revision(&clients, revision_arn)
        .await
        .map_err(|e| {
            t!(
                "{action} failed ({message})",
                "{action} 호출 실패({message})",
                action = e.action,
                message = e.message
            )
        })?;
    let awsvpc = revision.awsvpc().cloned();
    let planned = PlannedChange {
        launch_type: revision.launch_type.clone(),
        task_definition: revision.task_definition.clone(),
        subnets: awsvpc.as_ref().map(|a| a.subnets.clone()),
        security_groups: awsvpc.as_ref().map(|a| a.security_groups.clone()),
        assign_public_ip: awsvpc.as_ref().and_then(|a| a.assign_public_ip.clone()),
    };
    let target = AccountTarget {
        services: vec![(cluster.clone(), service.clone())],
        task_definitions: revision.task_definition.clone().into_iter().collect(),
        subnets: planned.subnets.clone().unwrap_or_default(),
        ..AccountTarget::default()
    };
    let selection = Selection {
        services: vec![(cluster.clone(), service.clone())],
        planned: Some(planned),
        ..Selection::default()
    };
    let inspection = live::inspect_account(&clients, &target, &|_, _, _| {}).await;
    let view: NetworkView = inspection.view;
    let region = region.or_else(|| view.region()).unwrap_or_default();
    let result = audit::audit(&view, &region, &selection);
    let full_name = format!("{}/{service}", cluster_name(&cluster));
    match result.outcome() {
        AuditOutcome::AllOk => {
            info!(
                decision = "allowed",
                hook_status = "SUCCEEDED",
                service = full_name,
                revision = revision_arn,
                "deployment gate: every hop open"
            );
            Ok(GateVerdict::Allowed)
        }
        AuditOutcome::Blocked => Ok(GateVerdict::Blocked {
            audit: result,
            service: full_name,
            revision: revision_arn.to_string(),
        }),
        AuditOutcome::Unknown => {
            let gaps = |lang| {
                result
                    .not_inspected
                    .iter()
                    .chain(result.services.iter().flat_map(|s| s.not_inspected.iter()))
                    .map(|n| n.get(lang).to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            Err(t!(
                "{full_name}: not everything was inspected ({en})",
                "{full_name}: 일부를 점검하지 못했습니다({ko})",
                en = gaps(crate::localized::Lang::En),
                ko = gaps(crate::localized::Lang::Ko)
            ))
        }
    }
}
