//! The organisation's sweep, without I/O: a target (account and region), the work message
//! that carries one through SQS, what auditing it found, and a run's summary folded from
//! every target's result.
//!
//! A work message is untrusted like any event: its run ID, account and region are checked
//! before they name a DynamoDB item or a role.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::reason::looks_like_region;
use crate::trust::is_account_id;

/// One account in one region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Target {
    pub account: String,
    pub region: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.account, self.region)
    }
}

/// A work message's body: `{"run": RUN_ID, "account": "123456789012", "region": "eu-west-1"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkMessage {
    pub run: String,
    pub account: String,
    pub region: String,
}

impl WorkMessage {
    /// Reads and checks a message body; the error says what is wrong without repeating it.
    pub fn parse(body: &str) -> Result<WorkMessage, String> {
        let message: WorkMessage = serde_json::from_str(body).map_err(|e| {
            format!("not a work message ({{\"run\", \"account\", \"region\"}}): {e}")
        })?;
        if !is_run_id(&message.run) {
            return Err("its run is not a run ID".into());
        }
        if !is_account_id(&message.account) {
            return Err("its account is not a 12-digit account ID".into());
        }
        if !looks_like_region(&message.region) {
            return Err("its region is not a region".into());
        }
        Ok(message)
    }

    pub fn target(&self) -> Target {
        Target {
            account: self.account.clone(),
            region: self.region.clone(),
        }
    }
}

/// `20261206T234501Z-` and 8 hex digits, as [`run_id`] makes them.
pub fn is_run_id(text: &str) -> bool {
    let Some((time, suffix)) = text.split_once('-') else {
        return false;
    };
    time.len() == 16
        && time.ends_with('Z')
        && time.as_bytes()[8] == b'T'
        && time
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 8 || i == 15 || b.is_ascii_digit())
        && suffix.len() == 8
        && suffix.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A run ID for a run started at `epoch_seconds`: sortable by time, unique by `nonce`.
pub fn run_id(epoch_seconds: u64, nonce: u32) -> String {
    let days = epoch_seconds / 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    let rest = epoch_seconds % 86_400;
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z-{nonce:08x}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The run of one schedule event, the same for every delivery of it (EventBridge retries a
/// failed invocation with the same event): its `time` (`2026-12-01T00:00:00Z`) and a hash
/// of its `id`. `None` when the time is not in that shape.
pub fn run_id_of_event(time: &str, event_id: &str) -> Option<String> {
    let compact: String = time.chars().filter(|c| !matches!(c, '-' | ':')).collect();
    // FNV-1a: a stable hash, the same in every process.
    let hash = event_id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let id = format!("{compact}-{hash:08x}");
    is_run_id(&id).then_some(id)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A root cause as a run's summary counts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CauseRef {
    pub identity: String,
    pub code: String,
}

/// What auditing one target found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetResult {
    pub target: Target,
    /// `None`: audited; else why it was not (the role denies, the region is not enabled…).
    pub not_inspected: Option<String>,
    pub services: usize,
    pub blocked: usize,
    pub new: Vec<CauseRef>,
    pub fixed: Vec<CauseRef>,
}

/// A run, folded: the counts and, per code, the targets its new and fixed causes are in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunSummary {
    pub run: String,
    pub accounts: usize,
    pub regions: usize,
    pub audited: usize,
    /// Code → the targets with a new cause of that code (each once).
    pub new_by_code: BTreeMap<String, Vec<Target>>,
    pub fixed_by_code: BTreeMap<String, Vec<Target>>,
    pub new_causes: usize,
    pub fixed_causes: usize,
    /// Targets audited but not inspected, with why.
    pub not_inspected: Vec<(Target, String)>,
    /// Targets of the run with no result: their messages never finished (the DLQ has them).
    pub missing: Vec<Target>,
    pub seconds: u64,
}

/// Folds every result of a run planned over `targets`.
pub fn summarise(
    run: &str,
    (accounts, regions): (usize, usize),
    targets: impl IntoIterator<Item = Target>,
    results: &[TargetResult],
    seconds: u64,
) -> RunSummary {
    let mut summary = RunSummary {
        run: run.to_string(),
        accounts,
        regions,
        seconds,
        ..RunSummary::default()
    };
    let mut by_target: BTreeMap<&Target, &TargetResult> = BTreeMap::new();
    for result in results {
        by_target.insert(&result.target, result);
    }
    for target in targets {
        let Some(result) = by_target.get(&target) else {
            summary.missing.push(target);
            continue;
        };
        if let Some(why) = &result.not_inspected {
            summary.not_inspected.push((target, why.clone()));
            continue;
        }
        summary.audited += 1;
        for (causes, by_code, count) in [
            (
                &result.new,
                &mut summary.new_by_code,
                &mut summary.new_causes,
            ),
            (
                &result.fixed,
                &mut summary.fixed_by_code,
                &mut summary.fixed_causes,
            ),
        ] {
            *count += causes.len();
            for cause in causes {
                let list = by_code.entry(cause.code.clone()).or_default();
                if !list.contains(&target) {
                    list.push(target.clone());
                }
            }
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(account: &str, region: &str) -> Target {
        Target {
            account: account.into(),
            region: region.into(),
        }
    }

    #[test]
    fn run_ids_are_dated_and_checked() {
        let id = run_id(1_796_600_701, 0xdead_beef);
        assert_eq!(id, "20261206T234501Z-deadbeef");
        assert!(is_run_id(&id));
        for bad in [
            "",
            "x",
            "20261206T234501Z-xyz",
            "2026-12-06-deadbeef",
            "20261206T234501Z-deadbeef#x",
        ] {
            assert!(!is_run_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_schedule_event_names_its_run_whichever_delivery_of_it() {
        let id = run_id_of_event("2026-12-01T00:00:00Z", "53dc4d37-cffa").unwrap();
        assert!(id.starts_with("20261201T000000Z-"), "{id}");
        assert_eq!(
            run_id_of_event("2026-12-01T00:00:00Z", "53dc4d37-cffa"),
            Some(id.clone())
        );
        assert_ne!(
            run_id_of_event("2026-12-01T00:00:00Z", "another").unwrap(),
            id
        );
        assert_eq!(run_id_of_event("yesterday", "x"), None);
        assert_eq!(run_id_of_event("2026-12-01T00:00:00.123Z", "x"), None);
    }

    #[test]
    fn a_work_message_is_checked_before_it_names_anything() {
        let ok =
            r#"{"run":"20261206T234501Z-deadbeef","account":"123456789012","region":"eu-west-1"}"#;
        assert_eq!(
            WorkMessage::parse(ok).unwrap().target(),
            target("123456789012", "eu-west-1")
        );
        for (body, why) in [
            ("{", "not a work message"),
            (
                r#"{"run":"r#1","account":"123456789012","region":"eu-west-1"}"#,
                "run",
            ),
            (
                r#"{"run":"20261206T234501Z-deadbeef","account":"1234/../x","region":"eu-west-1"}"#,
                "account",
            ),
            (
                r#"{"run":"20261206T234501Z-deadbeef","account":"123456789012","region":"eu west 1"}"#,
                "region",
            ),
        ] {
            let err = WorkMessage::parse(body).unwrap_err();
            assert!(err.contains(why), "{body}: {err}");
        }
    }

    #[test]
    fn a_summary_counts_every_target_once_and_names_the_missing() {
        let targets = vec![
            target("111111111111", "eu-west-1"),
            target("111111111111", "us-east-1"),
            target("222222222222", "eu-west-1"),
            target("222222222222", "us-east-1"),
        ];
        let cause = |code: &str| CauseRef {
            identity: format!("{code}#x"),
            code: code.into(),
        };
        let results = vec![
            TargetResult {
                target: targets[0].clone(),
                not_inspected: None,
                services: 3,
                blocked: 1,
                new: vec![cause("S3_ROUTE_MISSING"), cause("S3_ROUTE_MISSING")],
                fixed: vec![],
            },
            TargetResult {
                target: targets[2].clone(),
                not_inspected: None,
                services: 2,
                blocked: 0,
                new: vec![],
                fixed: vec![cause("TASK_SG_BLOCKS_HTTPS")],
            },
            TargetResult {
                target: targets[3].clone(),
                not_inspected: Some("the region is not enabled".into()),
                services: 0,
                blocked: 0,
                new: vec![],
                fixed: vec![],
            },
        ];
        let summary = summarise("r", (2, 2), targets.clone(), &results, 42);
        assert_eq!(summary.audited, 2);
        assert_eq!(summary.new_causes, 2);
        assert_eq!(
            summary.new_by_code["S3_ROUTE_MISSING"],
            [targets[0].clone()]
        );
        assert_eq!(
            summary.fixed_by_code["TASK_SG_BLOCKS_HTTPS"],
            [targets[2].clone()]
        );
        assert_eq!(
            summary.not_inspected,
            [(targets[3].clone(), "the region is not enabled".to_string())]
        );
        assert_eq!(summary.missing, [targets[1].clone()]);
    }
}
