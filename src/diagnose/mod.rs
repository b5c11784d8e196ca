//! The rules: a failed task, its parsed failure and the network view → ordered findings.
//!
//! Pure and synchronous. The most likely root cause comes first; every finding carries the
//! resource IDs it is based on and a concrete fix. Whatever could not be inspected is listed
//! in `not_inspected`, and the diagnosis never reads as all-clear without a network view.
//!
//! [`classify`] turns a message into a [`FailureReport`] (parse + who owns the IP); [`diagnose`]
//! turns the failure into [`probe`]s (from the task's network interface to each destination the
//! failing hop needs), checks each against the network view and orders what they found. The
//! path primitives live in [`path`], endpoint policies in [`policy`], the walk for each kind of
//! destination in `rules`, and the finding codes in one table (`codes`).

mod codes;
mod from_failure;
pub mod path;
pub mod policy;
pub mod probe;
pub mod remedy;
mod rules;
pub mod walk;

pub use codes::{Code, Severity};
pub use remedy::Remedy;
pub use walk::Walk;

use std::net::IpAddr;

use serde::Serialize;

use crate::event::FailedTask;
use crate::ipranges::{IpOwner, IpRanges};
use crate::localized::Localized;
use crate::network::NetworkView;
use crate::reason::{self, Hop, Symptom};
use crate::t;

/// One conclusion, with what it rests on and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub summary: Localized,
    pub evidence: Vec<Localized>,
    /// What to do, in words.
    pub fix: Localized,
    /// The exact commands, when there are any.
    pub commands: Vec<String>,
    /// The fix as data, when it is one call that can mend several resources at once (an
    /// audit merges the findings that share it); `commands` is then exactly its command.
    pub remedy: Option<Remedy>,
}

/// The failure as parsed and classified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureReport {
    pub container: Option<String>,
    pub image: Option<String>,
    pub reason: String,
    pub symptom: Symptom,
    pub hop: Hop,
    pub host: Option<String>,
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
    pub ip_owner: Option<IpOwner>,
}

/// Everything the rules concluded about one failed task.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    pub task: FailedTask,
    pub failure: FailureReport,
    pub findings: Vec<Finding>,
    /// The path each probe walked, to where it breaks.
    pub paths: Vec<Walk>,
    pub not_inspected: Vec<Localized>,
    /// Inputs the caller did not give; each front end tells its reader how to give them.
    pub missing_inputs: Vec<MissingInput>,
    /// The `createDate` of the ip-ranges snapshot used, if one was.
    pub ip_ranges_create_date: Option<String>,
}

impl Diagnosis {
    /// The first finding's code: the verdict.
    pub fn verdict(&self) -> Code {
        self.findings
            .first()
            .map_or(Code::InspectionIncomplete, |f| f.code)
    }
}

/// An input the diagnosis lacked. The engine only names it: the CLI words it as a flag, the
/// Lambda as its configuration or permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingInput {
    /// No network view at all (neither a snapshot nor a live inspection).
    NetworkView,
    /// No ip-ranges.json, so a dialled address outside the VPC has no known owner.
    IpRanges,
}

/// Where the rules may look up an address in the VPC's own data.
#[derive(Debug, Clone, Copy)]
pub struct VpcContext<'a> {
    pub view: &'a NetworkView,
    pub vpc_id: &'a str,
    pub region: &'a str,
}

/// Parses a message and classifies the dialled IP: first from the VPC's own CIDRs and S3
/// prefix list (when a network view is given), then from ip-ranges. An S3 address overrides a
/// registry hop: in the newer wording the URL is the image reference, the IP is the truth.
pub fn classify(
    message: &str,
    ip_ranges: Option<&IpRanges>,
    vpc: Option<VpcContext<'_>>,
) -> FailureReport {
    let parsed = reason::parse_reason(message);
    let ip_owner = parsed.ip.and_then(|ip| {
        vpc.and_then(|v| v.view.classify(ip, v.vpc_id, v.region))
            .or_else(|| ip_ranges?.lookup(ip))
    });
    let hop = match (&ip_owner, parsed.hop) {
        (Some(owner), Hop::Registry | Hop::Unknown) if owner.is_s3() => Hop::LayerStorage,
        (_, hop) => hop,
    };
    FailureReport {
        container: None,
        image: None,
        reason: message.to_string(),
        symptom: parsed.symptom,
        hop,
        host: parsed.host,
        ip: parsed.ip,
        port: parsed.port,
        ip_owner,
    }
}

/// The task's region: the event's, else its availability zone's.
pub fn task_region(task: &FailedTask) -> Option<String> {
    task.region.clone().or_else(|| {
        let az = task.availability_zone.as_deref()?;
        let trimmed = az.trim_end_matches(|c: char| c.is_ascii_lowercase());
        reason::looks_like_region(trimmed).then(|| trimmed.to_string())
    })
}

/// Runs the rules for one failed task.
pub fn diagnose(
    task: &FailedTask,
    network: Option<&NetworkView>,
    ip_ranges: Option<&IpRanges>,
) -> Diagnosis {
    let network = network.ok_or_else(|| {
        t!(
            "the task's network: no network view was given",
            "태스크 네트워크: 네트워크 정보가 주어지지 않았습니다"
        )
    });
    let not_given = network.is_err();
    let filled = network
        .as_ref()
        .ok()
        .zip(ip_ranges)
        .and_then(|(view, ranges)| with_s3_ranges_standing_in(view, ranges));
    let network = match &filled {
        Some(view) => Ok(view),
        None => network,
    };
    diagnose_network(task, network, not_given, ip_ranges)
}

/// A copy of `view` whose unreadable S3 prefix lists hold AWS's published S3 ranges, when it
/// has any such list (see `NetworkView::stand_in_for_unread_s3_prefix_lists`).
fn with_s3_ranges_standing_in(view: &NetworkView, ranges: &IpRanges) -> Option<NetworkView> {
    if !view.has_unread_s3_prefix_list() {
        return None;
    }
    let mut copy = view.clone();
    (copy.stand_in_for_unread_s3_prefix_lists(ranges) > 0).then_some(copy)
}

/// Runs the rules for one failed task whose network could not be read; `why` says what
/// happened (it is reported under "not inspected").
pub fn diagnose_without_network(
    task: &FailedTask,
    why: Localized,
    ip_ranges: Option<&IpRanges>,
) -> Diagnosis {
    diagnose_network(task, Err(why), false, ip_ranges)
}

/// `network_not_given`: the caller had no network to give (not: it tried and failed).
fn diagnose_network(
    task: &FailedTask,
    network: Result<&NetworkView, Localized>,
    network_not_given: bool,
    ip_ranges: Option<&IpRanges>,
) -> Diagnosis {
    let region = task_region(task);
    let vpc_id = network
        .as_ref()
        .ok()
        .and_then(|view| from_failure::pulling_vpc(task, view));
    let vpc = match (network.as_ref().ok(), vpc_id.as_deref(), region.as_deref()) {
        (Some(&view), Some(vpc_id), Some(region)) => Some(VpcContext {
            view,
            vpc_id,
            region,
        }),
        _ => None,
    };
    let mut failure = classify(&task.primary.reason, ip_ranges, vpc);
    failure.container = task.primary.container.clone();
    failure.image = task.primary.image.clone();

    let mut missing_inputs = Vec::new();
    if network_not_given {
        missing_inputs.push(MissingInput::NetworkView);
    }
    let mut not_inspected = Vec::new();
    if failure.ip.is_some() && failure.ip_owner.is_none() && ip_ranges.is_none() {
        missing_inputs.push(MissingInput::IpRanges);
        not_inspected.push(t!(
            "the owner of {ip}: no ip-ranges.json was loaded",
            "{ip}의 소유자: ip-ranges.json을 불러오지 않았습니다",
            ip = failure.ip.map(|i| i.to_string()).unwrap_or_default()
        ));
    }

    let (findings, paths) = from_failure::run(
        task,
        &failure,
        network,
        region.as_deref(),
        ip_ranges.is_some(),
        &mut not_inspected,
    );
    Diagnosis {
        task: task.clone(),
        failure,
        findings,
        paths,
        not_inspected,
        missing_inputs,
        ip_ranges_create_date: ip_ranges.map(|r| r.create_date.clone()),
    }
}
