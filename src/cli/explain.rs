//! `explain` and `classify`: one message, or one address, as the diagnosis reads it (JSON).

use std::net::IpAddr;
use std::path::Path;

use anyhow::{bail, Result};

use ecs_pull_doctor::diagnose::classify as classify_message;
use ecs_pull_doctor::reason::{decide, grammar::Family};
use ecs_pull_doctor::render;
use serde_json::{json, Value};

use super::output::{emit, load_ip_ranges, pretty, read_input, HOW_TO_LOAD_IP_RANGES};
use super::Command;

/// Parses one error message and prints what it says (symptom, hop, host, IP and owner).
pub(crate) fn explain(command: Command) -> Result<()> {
    let Command::Explain { message, ip_ranges } = command else {
        unreachable!("called for its own command only");
    };
    let message = if message == "-" {
        read_input(Path::new("-"))?
    } else {
        message
    };
    let ranges = load_ip_ranges(&ip_ranges)?;
    let failure = classify_message(&message, ranges.as_ref(), None);
    let mut out = render::failure_json(&failure);
    if ranges.is_none() && failure.ip.is_some() {
        // `null` would read as "not AWS's": say that nobody looked.
        out["ip_owner"] = json!({
            "unknown": format!("ip-ranges.json is not loaded: {HOW_TO_LOAD_IP_RANGES}")
        });
    }
    let decision = decide(&message);
    out["decided_by"] = json!({
        "symptom": decision.symptom_family.map(family_json),
        "hop": decision.hop_family.map(family_json),
    });
    emit(&pretty(&out)?)?;
    Ok(())
}

/// Which message family decided, and where its wording was read.
fn family_json(family: &Family) -> Value {
    json!({
        "family": family.id,
        "emitter": family.emitter,
        "source": match family.repo {
            "-" => family.path.to_string(),
            repo => format!("{repo}/{}@{}", family.path, &family.commit[..12.min(family.commit.len())]),
        },
    })
}

/// Prints who owns an IP address according to ip-ranges.json (null when unknown).
pub(crate) fn classify(command: Command) -> Result<()> {
    let Command::Classify { ip, ip_ranges } = command else {
        unreachable!("called for its own command only");
    };
    let Ok(address) = ip.trim().parse::<IpAddr>() else {
        bail!("{ip:?} is not an IPv4 or IPv6 address");
    };
    let ranges = load_ip_ranges(&ip_ranges)?;
    let Some(ranges) = ranges else {
        bail!("no ip-ranges.json: {HOW_TO_LOAD_IP_RANGES}");
    };
    emit(&pretty(&ranges.lookup(address))?)?;
    Ok(())
}
