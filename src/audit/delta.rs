//! What changed between two audits: the blocking root causes that are new, those that are
//! gone (fixed), those that now cover more (widened) or less (narrowed), and what to remember
//! for the next audit. A scheduled sweep posts only what changed; a change alarm posts what
//! the change made new or wider.
//!
//! A cause keeps its identity while it grows (`S3_ROUTE_MISSING#vpce-…` whether one route
//! table lacks the endpoint or three), so identity alone would miss a service going from half
//! to fully unable to pull: what each cause covers (services, subnets, the resources its fix
//! names) is remembered and compared too.
//!
//! Pure. A cause is called fixed, or narrowed, only when every service it affected was
//! audited again with a definite verdict; one that could not be re-checked (its service
//! unknown, its cluster not listed, outside a narrower audit) is carried over, never reported
//! as fixed or narrowed.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Audit, RootCause, ServiceVerdict};
use crate::diagnose::walk::StepState;
use crate::diagnose::Severity;

/// A cause as remembered between audits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownCause {
    pub code: String,
    pub summary_en: String,
    pub summary_ko: String,
    pub services: Vec<String>,
    /// The subnets it affects (absent in what versions before this one remembered).
    #[serde(default)]
    pub subnets: Vec<String>,
    /// The resources its fix names: route tables, endpoints, groups.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Epoch seconds of the audit that first found it.
    pub first_seen: u64,
}

impl KnownCause {
    /// Remembered before scopes were: nothing to compare a scope with.
    fn has_scope(&self) -> bool {
        !self.subnets.is_empty() || !self.resources.is_empty()
    }
}

/// What a persisting cause covers now and did not before (widened), or covered before and
/// no longer does (narrowed).
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeChange<'a> {
    pub cause: &'a RootCause,
    pub services: Vec<String>,
    pub subnets: Vec<String>,
    pub resources: Vec<String>,
}

impl ScopeChange<'_> {
    fn is_empty(&self) -> bool {
        self.services.is_empty() && self.subnets.is_empty() && self.resources.is_empty()
    }
}

/// Every blocking cause known after an audit, by identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownCauses {
    pub causes: BTreeMap<String, KnownCause>,
}

/// The difference an audit makes to what was known.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta<'a> {
    /// Blocking causes not known before.
    pub new: Vec<&'a RootCause>,
    /// Known causes this audit checked again and did not find.
    pub fixed: Vec<(String, KnownCause)>,
    /// Known causes still there.
    pub persisting: usize,
    /// Known causes still there that now affect more services, subnets or resources.
    pub widened: Vec<ScopeChange<'a>>,
    /// Known causes still there that affect less, every service they affected re-checked.
    pub narrowed: Vec<ScopeChange<'a>>,
    /// Every blocking cause this audit found (new and persisting), by identity.
    pub found: Vec<String>,
    /// What to remember: the causes found, and the known ones that were not re-checked.
    pub next: KnownCauses,
}

impl Delta<'_> {
    pub fn is_quiet(&self) -> bool {
        self.new.is_empty()
            && self.fixed.is_empty()
            && self.widened.is_empty()
            && self.narrowed.is_empty()
    }
}

/// Compares `audit` (at `now`, epoch seconds) with what was known.
pub fn compare<'a>(known: &KnownCauses, audit: &'a Audit, now: u64) -> Delta<'a> {
    // Checked again: every hop of the service seen (open or blocked), nothing left out.
    let judged = |service: &str| {
        audit
            .services
            .iter()
            .find(|s| s.name() == service)
            .is_some_and(|s| {
                s.verdict != ServiceVerdict::Unknown
                    && s.not_inspected.is_empty()
                    && s.checks.iter().all(|c| c.state != StepState::Unknown)
            })
    };
    let mut next = KnownCauses::default();
    let mut new = Vec::new();
    let mut persisting = 0;
    let mut widened = Vec::new();
    let mut narrowed = Vec::new();
    let mut found = Vec::new();
    for cause in audit
        .root_causes
        .iter()
        .filter(|c| c.severity == Severity::Critical)
    {
        found.push(cause.identity.clone());
        let mut remembered = KnownCause {
            code: cause.code.as_str().to_string(),
            summary_en: cause.summary.en.clone(),
            summary_ko: cause.summary.ko.clone(),
            services: cause.services.clone(),
            subnets: cause.subnets.clone(),
            resources: cause.resources.clone(),
            first_seen: now,
        };
        match known.causes.get(&cause.identity) {
            Some(old) => {
                persisting += 1;
                remembered.first_seen = old.first_seen;
                let all_rechecked = old.services.iter().all(|s| judged(s));
                if old.has_scope() {
                    let wider = scope_difference(cause, &remembered, old);
                    let narrower = scope_difference(cause, old, &remembered);
                    if !wider.is_empty() {
                        widened.push(wider);
                    } else if !narrower.is_empty() && all_rechecked {
                        narrowed.push(narrower);
                    }
                }
                if !all_rechecked {
                    // What this audit did not look at is still as it was.
                    remembered.services = union(&remembered.services, &old.services);
                    remembered.subnets = union(&remembered.subnets, &old.subnets);
                    remembered.resources = union(&remembered.resources, &old.resources);
                }
            }
            None => new.push(cause),
        }
        next.causes.insert(cause.identity.clone(), remembered);
    }
    let mut fixed = Vec::new();
    for (identity, old) in &known.causes {
        if next.causes.contains_key(identity) {
            continue;
        }
        if !old.services.is_empty() && old.services.iter().all(|s| judged(s)) {
            fixed.push((identity.clone(), old.clone()));
        } else {
            next.causes.insert(identity.clone(), old.clone());
        }
    }
    Delta {
        new,
        fixed,
        persisting,
        widened,
        narrowed,
        found,
        next,
    }
}

/// What `now` covers that `before` did not.
fn scope_difference<'a>(
    cause: &'a RootCause,
    now: &KnownCause,
    before: &KnownCause,
) -> ScopeChange<'a> {
    let minus = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|x| !b.contains(x)).cloned().collect()
    };
    ScopeChange {
        cause,
        services: minus(&now.services, &before.services),
        subnets: minus(&now.subnets, &before.subnets),
        resources: minus(&now.resources, &before.resources),
    }
}

fn union(a: &[String], b: &[String]) -> Vec<String> {
    a.iter()
        .chain(b)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Takes in what another audit remembered meanwhile (a concurrent sweep or alarm): their
/// causes, plus this audit's new ones, minus the ones this audit found fixed.
pub fn merge(theirs: &KnownCauses, delta: &Delta<'_>) -> KnownCauses {
    let mut merged = theirs.clone();
    // What this audit found is the freshest word on those causes (new ones, and the services
    // of persisting ones); the earliest first sighting is kept.
    for identity in &delta.found {
        let Some(ours) = delta.next.causes.get(identity) else {
            continue;
        };
        let mut known = ours.clone();
        if let Some(old) = theirs.causes.get(identity) {
            known.first_seen = known.first_seen.min(old.first_seen);
        }
        merged.causes.insert(identity.clone(), known);
    }
    for (identity, _) in &delta.fixed {
        merged.causes.remove(identity);
    }
    merged
}
