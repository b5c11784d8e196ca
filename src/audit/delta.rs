//! What changed between two audits: the blocking root causes that are new, those that are
//! gone (fixed), and what to remember for the next audit. A scheduled sweep posts only the
//! new and the fixed; a change alarm posts what the change made new.
//!
//! Pure. A cause is called fixed only when every service it affected was audited again with
//! a definite verdict; one that could not be re-checked (its service unknown, its cluster not
//! listed, outside a narrower audit) is carried over, never reported as fixed.

use std::collections::BTreeMap;

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
    /// Epoch seconds of the audit that first found it.
    pub first_seen: u64,
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
    /// Every blocking cause this audit found (new and persisting), by identity.
    pub found: Vec<String>,
    /// What to remember: the causes found, and the known ones that were not re-checked.
    pub next: KnownCauses,
}

impl Delta<'_> {
    pub fn is_quiet(&self) -> bool {
        self.new.is_empty() && self.fixed.is_empty()
    }
}

/// Compares `audit` (at `now`, epoch seconds) with what was known.
pub fn compare<'a>(known: &KnownCauses, audit: &'a Audit, now: u64) -> Delta<'a> {
    let mut next = KnownCauses::default();
    let mut new = Vec::new();
    let mut persisting = 0;
    let mut found = Vec::new();
    for cause in audit
        .root_causes
        .iter()
        .filter(|c| c.severity == Severity::Critical)
    {
        found.push(cause.identity.clone());
        let first_seen = match known.causes.get(&cause.identity) {
            Some(old) => {
                persisting += 1;
                old.first_seen
            }
            None => {
                new.push(cause);
                now
            }
        };
        next.causes.insert(
            cause.identity.clone(),
            KnownCause {
                code: cause.code.as_str().to_string(),
                summary_en: cause.summary.en.clone(),
                summary_ko: cause.summary.ko.clone(),
                services: cause.services.clone(),
                first_seen,
            },
        );
    }
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
        found,
        next,
    }
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
