//! Plan-time preflight: what a Terraform plan will do to the pull paths, before `apply`.
//! The plan (`terraform show -json`) is read ([`model`]), its changes are applied to today's
//! network as AWS will apply them ([`apply`], values known only after apply resolved
//! through the configuration by [`values`]), both networks are audited with the same probe
//! checks, and the causes compared ([`verdict`]): introduced, fixed, unchanged.
//!
//! Pure: a plan and a view in, a verdict out; the CLI reads the files or the account.

pub mod apply;
pub mod model;
pub mod values;
pub mod verdict;

pub use apply::Applied;
pub use model::Plan;
pub use verdict::{PlanVerdict, PlannedCause};

use crate::audit::{self, Audit, Selection};
use crate::network::NetworkView;

/// Why a plan file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}: the file is UTF-16 (PowerShell's `>` writes it so); write it with `terraform show -json plan.tfplan | Out-File -Encoding utf8 plan.json`")]
    Utf16(String),
    #[error("{0}: this is `terraform plan -json` (a stream of log lines); the plan to audit is `terraform show -json PLANFILE` after `terraform plan -out PLANFILE`")]
    Stream(String),
    #[error("{0}: not a plan in Terraform's JSON format ({1}); write one with `terraform show -json PLANFILE`")]
    NotAPlan(String, String),
    #[error("{0}: format_version {1} is not one this reads (0.x and 1.x)")]
    Version(String, String),
}

impl Plan {
    /// Parses `text` (named `source` in errors).
    pub fn parse(source: &str, text: &[u8]) -> Result<Plan, PlanError> {
        if text.starts_with(&[0xFF, 0xFE]) || text.starts_with(&[0xFE, 0xFF]) {
            return Err(PlanError::Utf16(source.into()));
        }
        let text = text.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(text);
        let value: serde_json::Value = match serde_json::from_slice(text) {
            Ok(value) => value,
            Err(e) => {
                let first_line = text.split(|b| *b == b'\n').next().unwrap_or_default();
                let streamed = serde_json::from_slice::<serde_json::Value>(first_line)
                    .ok()
                    .is_some_and(|v| v.get("@level").is_some() || v.get("@message").is_some());
                return Err(if streamed {
                    PlanError::Stream(source.into())
                } else {
                    PlanError::NotAPlan(source.into(), e.to_string())
                });
            }
        };
        if value.get("@level").is_some() {
            return Err(PlanError::Stream(source.into()));
        }
        let Some(version) = value.get("format_version").and_then(|v| v.as_str()) else {
            return Err(PlanError::NotAPlan(
                source.into(),
                "no format_version".into(),
            ));
        };
        if !(version.starts_with("0.") || version.starts_with("1.")) {
            return Err(PlanError::Version(source.into(), version.into()));
        }
        if value.get("resource_changes").is_none() && value.get("planned_values").is_none() {
            return Err(PlanError::NotAPlan(
                source.into(),
                "no resource_changes: a state file, not a plan?".into(),
            ));
        }
        Plan::from_value(value).map_err(|e| PlanError::NotAPlan(source.into(), e.to_string()))
    }
}

/// The preflight of one plan over one region's view.
#[derive(Debug)]
pub struct Preflight {
    pub before: Audit,
    pub after: Audit,
    pub applied: Applied,
    pub verdict: PlanVerdict,
}

impl Preflight {
    /// 1 when the plan introduces a blocking cause; else 3 when the plan left something
    /// undecided (a value known only after apply); else 0.
    pub fn exit_status(&self) -> u8 {
        if !self.verdict.introduced.is_empty() {
            1
        } else if self.undecided() {
            3
        } else {
            0
        }
    }

    /// Whether a value known only after apply kept a decision about today's VPCs from being
    /// taken (what is undecided in a VPC the plan creates concerns no service yet).
    pub fn undecided(&self) -> bool {
        let reasons = self
            .undecided_reasons()
            .iter()
            .any(|(scope, _)| scope.as_deref() != Some(apply::NEW_VPC_SCOPE));
        reasons || !self.newly_unknown().is_empty()
    }

    /// Services decided before the plan (or new) that are unknown after it, each with the
    /// first thing not inspected: whatever the reason, not decided.
    pub fn newly_unknown(&self) -> Vec<String> {
        let verdict_before = |s: &audit::ServiceAudit| {
            self.before
                .services
                .iter()
                .find(|b| b.cluster == s.cluster && b.service == s.service)
                .map(|b| b.verdict)
        };
        self.after
            .services
            .iter()
            .filter(|s| s.verdict == audit::ServiceVerdict::Unknown)
            .filter(|s| verdict_before(s) != Some(audit::ServiceVerdict::Unknown))
            .map(|s| {
                let why = s
                    .not_inspected
                    .first()
                    .map(|n| n.en.clone())
                    .unwrap_or_default();
                format!(
                    "{}/{} is unknown after the plan: {why}",
                    s.cluster, s.service
                )
            })
            .collect()
    }

    /// Every value known only after apply that a decision needed: (scope, why).
    pub fn undecided_reasons(&self) -> Vec<(Option<String>, String)> {
        self.applied
            .view
            .inspection_errors
            .iter()
            .flatten()
            .filter(|e| e.action == apply::PLAN_ACTION)
            .map(|e| (e.scope.clone(), e.message.clone()))
            .collect()
    }
}

/// Audits `view` (today's network of `region`) before and after `plan`.
pub fn preflight(
    plan: &Plan,
    view: &NetworkView,
    region: &str,
    selection: &Selection,
) -> Preflight {
    let applied = apply::apply(plan, view);
    let before = audit::audit(view, region, selection);
    let after = audit::audit(&applied.view, region, selection);
    let verdict = verdict::compare(plan, &applied, &before, &after);
    Preflight {
        before,
        after,
        applied,
        verdict,
    }
}
