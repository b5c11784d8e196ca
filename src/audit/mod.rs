//! Preflight: every service's pull path, checked before a task fails.
//!
//! For each selected service, [`plan`] learns where its tasks start (origins) and what they
//! must reach (hops) from its deployments and task definitions; each (origin, hop) is one
//! [`probe`](crate::diagnose::probe) checked against the view, the same check a diagnosis
//! makes; [`causes`] folds the findings of all of them into root causes. A service is
//! `blocked` when some hop from some origin is blocked, `unknown` when anything it needs was
//! not inspected, and `ok` only when every hop from every origin was seen open.
//!
//! Pure: the view holds everything (a snapshot, or the account read live by
//! [`crate::network::live::account`]).

pub mod causes;
pub mod delta;
pub mod plan;

pub use causes::RootCause;
pub use plan::{Hop, PlannedChange, ServicePlan};

use serde::Serialize;

use crate::diagnose::probe::{self, Probe};
use crate::diagnose::walk::{self, StepState};
use crate::diagnose::{Code, Severity};
use crate::localized::Localized;
use crate::network::{cluster_name, NetworkView};
use crate::t;

/// Which services to audit: all ACTIVE services of the view when both lists are empty.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Cluster names or ARNs.
    pub clusters: Vec<String>,
    /// (cluster, service) names.
    pub services: Vec<(String, String)>,
    /// The change to check instead of what is deployed (with exactly one service).
    pub planned: Option<PlannedChange>,
}

/// What a selection named that the view does not hold, and what it does hold instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct NotInView {
    /// `--cluster NAME` or `--service CLUSTER/SERVICE` as given, each not found.
    pub missing: Vec<String>,
    /// Every `cluster/service` the view holds (ACTIVE), sorted.
    pub known: Vec<String>,
}

impl NotInView {
    fn describe(&self) -> String {
        let known = if self.known.is_empty() {
            "the view holds no ACTIVE service".to_string()
        } else {
            format!("the view holds {}", self.known.join(", "))
        };
        format!("no such {}; {known}", self.missing.join(", "))
    }
}

impl Selection {
    /// The clusters and services named that the view does not hold (a cluster counts when
    /// it holds an ACTIVE service); `None` when the view's services were not read, since
    /// nothing can be said then.
    pub fn not_in(&self, view: &NetworkView) -> Option<NotInView> {
        let services = view.services.as_deref()?;
        let mut known: Vec<String> = services
            .iter()
            .filter(|s| s.status.as_deref().is_none_or(|st| st == "ACTIVE"))
            .filter_map(|s| {
                Some(format!(
                    "{}/{}",
                    cluster_name(s.cluster_arn.as_deref()?),
                    s.service_name.as_deref()?
                ))
            })
            .collect();
        known.sort();
        known.dedup();
        let has_cluster = |c: &str| {
            known.iter().any(|k| {
                k.split_once('/')
                    .is_some_and(|(kc, _)| kc == cluster_name(c))
            })
        };
        let missing: Vec<String> = self
            .clusters
            .iter()
            .filter(|c| !has_cluster(c))
            .map(|c| format!("--cluster {c}"))
            .chain(
                self.services
                    .iter()
                    .filter(|(c, s)| !known.contains(&format!("{}/{s}", cluster_name(c))))
                    .map(|(c, s)| format!("--service {c}/{s}")),
            )
            .collect();
        (!missing.is_empty()).then_some(NotInView { missing, known })
    }

    fn wants(&self, cluster: &str, service: &str) -> bool {
        if self.clusters.is_empty() && self.services.is_empty() {
            return true;
        }
        self.clusters.iter().any(|c| cluster_name(c) == cluster)
            || self
                .services
                .iter()
                .any(|(c, s)| cluster_name(c) == cluster && s == service)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceVerdict {
    Ok,
    Blocked,
    Unknown,
}

/// One hop from one origin.
#[derive(Debug, Clone, PartialEq)]
pub struct HopCheck {
    pub subnet: String,
    pub hop: String,
    pub state: StepState,
    /// The codes found on this hop (blocking and advisory).
    pub codes: Vec<Code>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAudit {
    /// The account, when the audit spans several.
    pub account: Option<String>,
    pub cluster: String,
    pub service: String,
    pub launch_type: String,
    /// The subnets its tasks pull from (the container instances' on EC2).
    pub subnets: Vec<String>,
    /// The hops its tasks need, in the order they were found.
    pub hops: Vec<String>,
    pub verdict: ServiceVerdict,
    pub codes: Vec<Code>,
    pub not_inspected: Vec<Localized>,
    pub checks: Vec<HopCheck>,
}

impl ServiceAudit {
    /// `cluster/service`, as root causes name it.
    pub fn name(&self) -> String {
        format!("{}/{}", self.cluster, self.service)
    }

    /// `account/cluster/service` when the audit spans accounts, else [`Self::name`].
    pub fn display_name(&self) -> String {
        match &self.account {
            Some(account) => format!("{account}/{}", self.name()),
            None => self.name(),
        }
    }
}

/// The audit of a region's services.
#[derive(Debug, Clone, PartialEq)]
pub struct Audit {
    pub region: String,
    pub services: Vec<ServiceAudit>,
    pub root_causes: Vec<RootCause>,
    /// What the audit could not inspect beyond single services (a cluster's services not
    /// listed, services not described, the view has no services at all).
    pub not_inspected: Vec<Localized>,
    /// What stood in for what could not be read (an S3 prefix list's entries, from
    /// ip-ranges): the checks ran, on published data rather than the account's.
    pub notes: Vec<Localized>,
}

/// How an audit ends, as an exit status a pipeline can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    /// Every audited service is `ok` and nothing was left uninspected: 0.
    AllOk,
    /// Some service is blocked: 1.
    Blocked,
    /// None is blocked, but something was not inspected: 3.
    Unknown,
}

impl AuditOutcome {
    pub fn exit_status(self) -> u8 {
        match self {
            AuditOutcome::AllOk => 0,
            AuditOutcome::Blocked => 1,
            AuditOutcome::Unknown => 3,
        }
    }
}

impl Audit {
    pub fn count(&self, verdict: ServiceVerdict) -> usize {
        self.services
            .iter()
            .filter(|s| s.verdict == verdict)
            .count()
    }

    pub fn outcome(&self) -> AuditOutcome {
        if self.count(ServiceVerdict::Blocked) > 0 {
            AuditOutcome::Blocked
        } else if self.count(ServiceVerdict::Unknown) > 0
            || !self.not_inspected.is_empty()
            || self.services.is_empty()
        {
            // An audit of nothing is not a clean bill of health.
            AuditOutcome::Unknown
        } else {
            AuditOutcome::AllOk
        }
    }
}

/// One report of several accounts' audits (of one region): every service and root cause
/// names its account, identities are per account, and what was not inspected says whose.
pub fn combine(audits: Vec<(String, Audit)>, region: &str) -> Audit {
    let mut combined = Audit {
        region: region.to_string(),
        services: Vec::new(),
        root_causes: Vec::new(),
        not_inspected: Vec::new(),
        notes: Vec::new(),
    };
    for (account, audit) in audits {
        combined
            .services
            .extend(audit.services.into_iter().map(|mut s| {
                s.account = Some(account.clone());
                s
            }));
        combined
            .root_causes
            .extend(audit.root_causes.into_iter().map(|mut c| {
                c.identity = format!("{account}#{}", c.identity);
                c.account = Some(account.clone());
                c
            }));
        let of_account = |n: Localized| {
            t!(
                "account {account}: {en}",
                "계정 {account}: {ko}",
                en = n.en,
                ko = n.ko
            )
        };
        combined
            .notes
            .extend(audit.notes.into_iter().map(of_account));
        combined
            .not_inspected
            .extend(audit.not_inspected.into_iter().map(of_account));
    }
    combined.root_causes.sort_by(|a, b| {
        (a.severity, a.code, &a.account, &a.identity).cmp(&(
            b.severity,
            b.code,
            &b.account,
            &b.identity,
        ))
    });
    combined
}

/// Audits the selected services of `view` in `region`.
pub fn audit(view: &NetworkView, region: &str, selection: &Selection) -> Audit {
    let mut not_inspected = account_gaps(view);
    let mut causes = causes::Causes::default();
    let mut services = Vec::new();
    let all = view.services.as_deref().unwrap_or_default();
    for service in all.iter().filter(|s| {
        s.status.as_deref().is_none_or(|st| st == "ACTIVE")
            && selection.wants(
                s.cluster_arn.as_deref().map(cluster_name).unwrap_or("?"),
                s.service_name.as_deref().unwrap_or(""),
            )
    }) {
        let plan = plan::plan(view, region, service, selection.planned.as_ref());
        services.push(audit_service(view, region, plan, &mut causes));
    }
    for (cluster, name) in &selection.services {
        let found = services
            .iter()
            .any(|s| s.cluster == cluster_name(cluster) && &s.service == name);
        if !found {
            not_inspected.push(t!(
                "service {cluster}/{name}: not found (not ACTIVE, or not in the view)",
                "서비스 {cluster}/{name}: 찾을 수 없음(ACTIVE가 아니거나 정보에 없음)"
            ));
        }
    }
    services.sort_by(|a, b| (&a.cluster, &a.service).cmp(&(&b.cluster, &b.service)));
    let notes = view
        .prefix_lists
        .iter()
        .flatten()
        .filter_map(|list| {
            let file = list.cidrs_stand_in.as_deref()?;
            Some(t!(
                "the entries of {id} ({name}) could not be read; AWS's published ranges ({file}) stood in for them",
                "{id}({name})의 항목을 읽지 못해 AWS가 공개한 대역({file})으로 대신 점검했습니다",
                id = list.prefix_list_id,
                name = list.prefix_list_name.clone().unwrap_or_default()
            ))
        })
        .collect();
    Audit {
        region: region.to_string(),
        services,
        root_causes: causes.finish(),
        not_inspected,
        notes,
    }
}

fn audit_service(
    view: &NetworkView,
    region: &str,
    plan: ServicePlan,
    causes: &mut causes::Causes,
) -> ServiceAudit {
    let name = format!("{}/{}", plan.cluster, plan.service);
    let mut not_inspected = plan.gaps;
    let mut checks = Vec::new();
    let mut codes: Vec<Code> = Vec::new();
    for origin in &plan.origins {
        // A part that failed for this VPC is absent only for it: the merged lists hold other
        // VPCs' parts, so what the rules find missing here may be there. Nothing is called
        // blocked on such a view; the hop is unknown and the failure named.
        let partial_vpc = view
            .subnet(&origin.subnet_id)
            .and_then(|s| s.vpc_id.as_deref())
            .is_some_and(|vpc| {
                view.inspection_errors
                    .iter()
                    .flatten()
                    .any(|e| e.scope.as_deref() == Some(vpc))
            });
        for hop in &plan.hops {
            let probe = Probe {
                from: origin.clone(),
                to: hop.target.clone(),
                dialled: None,
                owner: None,
                image: hop.image.clone(),
            };
            let verdict = probe::check(view, region, &probe);
            let path = walk::walk(view, region, &probe, &verdict);
            let blocked = verdict
                .findings
                .iter()
                .any(|f| f.severity == Severity::Critical);
            let unseen = !verdict.gaps.is_empty()
                || !verdict.routing_inspected
                || path.steps.iter().any(|s| s.state == StepState::Unknown);
            let state = if partial_vpc {
                StepState::Unknown
            } else if blocked {
                StepState::Blocked
            } else if unseen {
                StepState::Unknown
            } else {
                StepState::Open
            };
            let mut hop_codes = Vec::new();
            for finding in verdict.findings.iter().filter(|_| !partial_vpc) {
                causes.add(
                    finding,
                    &name,
                    &origin.subnet_id,
                    (&hop.label, hop.image.as_deref()),
                );
                if !hop_codes.contains(&finding.code) {
                    hop_codes.push(finding.code);
                }
            }
            if state == StepState::Unknown && verdict.gaps.is_empty() {
                // The walk left the VPC (a transit gateway, a peering connection…).
                if let Some(step) = path.steps.iter().find(|s| s.state == StepState::Unknown) {
                    not_inspected.push(t!(
                        "{hop} from {subnet}: {step}",
                        "{subnet}에서 {hop}: {step}",
                        hop = hop.label,
                        subnet = origin.subnet_id,
                        step = step.text.clone()
                    ));
                }
            }
            not_inspected.extend(verdict.gaps);
            codes.extend(hop_codes.iter().copied());
            checks.push(HopCheck {
                subnet: origin.subnet_id.clone(),
                hop: hop.label.clone(),
                state,
                codes: hop_codes,
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    not_inspected.retain(|n| seen.insert(n.en.clone()));
    codes.sort();
    codes.dedup();
    let verdict = if checks.iter().any(|c| c.state == StepState::Blocked) {
        ServiceVerdict::Blocked
    } else if checks.is_empty()
        || !not_inspected.is_empty()
        || checks.iter().any(|c| c.state == StepState::Unknown)
    {
        ServiceVerdict::Unknown
    } else {
        ServiceVerdict::Ok
    };
    let mut subnets: Vec<String> = Vec::new();
    for origin in &plan.origins {
        if !subnets.contains(&origin.subnet_id) {
            subnets.push(origin.subnet_id.clone());
        }
    }
    ServiceAudit {
        account: None,
        cluster: plan.cluster,
        service: plan.service,
        launch_type: plan.launch_type,
        subnets,
        hops: plan.hops.iter().map(|h| h.label.clone()).collect(),
        verdict,
        codes,
        not_inspected,
        checks,
    }
}

/// What keeps whole clusters or the account from the audit: listing failures recorded by the
/// live read, or a view with no services at all.
fn account_gaps(view: &NetworkView) -> Vec<Localized> {
    let mut gaps = Vec::new();
    if view.services.is_none() {
        gaps.push(t!(
            "ECS services (Services) are not in the view, so no service was audited",
            "ECS 서비스(Services)가 정보에 없어 점검한 서비스가 없습니다"
        ));
    }
    for error in view
        .inspection_errors
        .iter()
        .flatten()
        .filter(|e| e.part == "Clusters" || e.part == "Services")
    {
        gaps.push(match &error.scope {
            Some(cluster) => t!(
                "cluster {cluster}: {action} failed ({message}), so its services were not all audited",
                "클러스터 {cluster}: {action} 호출 실패({message})로 일부 서비스를 점검하지 못했습니다",
                cluster = cluster_name(cluster),
                action = error.action,
                message = error.message
            ),
            None => t!(
                "{action} failed ({message}), so the services were not listed",
                "{action} 호출 실패({message})로 서비스 목록을 얻지 못했습니다",
                action = error.action,
                message = error.message
            ),
        });
    }
    gaps
}
