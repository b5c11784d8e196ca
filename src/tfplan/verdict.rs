//! What a plan does to the pull paths: the audit after it against the audit before, cause by
//! cause (introduced, fixed, left as they were), each named by the plan's resources that
//! cause or fix it, with the fix written as a Terraform change where the plan holds what it
//! changes.
//!
//! A cause that persists but covers more after the plan (another subnet routed past the S3
//! endpoint) is introduced for what it newly covers; fixed means every service it affected
//! was audited again with a definite verdict (as the sweep decides it, `audit::delta`).

use std::collections::BTreeSet;

use super::apply::Applied;
use super::model::Plan;
use crate::audit::delta::{self, KnownCauses};
use crate::audit::{Audit, RootCause};
use crate::diagnose::Code;

/// One cause as the plan changes it.
#[derive(Debug, Clone)]
pub struct PlannedCause {
    pub cause: RootCause,
    /// The plan's resource addresses that cause it (introduced) or fix it (fixed), or that
    /// its fix would change (unchanged).
    pub addresses: Vec<String>,
    /// For a cause that was there before and covers more now: what it newly covers.
    pub widened: Option<Vec<String>>,
    /// The fix as a Terraform change, when the plan holds the resource to change.
    pub terraform_fix: Option<String>,
}

/// The plan's effect.
#[derive(Debug, Clone, Default)]
pub struct PlanVerdict {
    pub introduced: Vec<PlannedCause>,
    pub fixed: Vec<PlannedCause>,
    pub unchanged: Vec<PlannedCause>,
    /// Causes found before that the audit after the plan could not check again (a value
    /// known only after apply left their services undecided): neither fixed nor left.
    pub unverified: Vec<PlannedCause>,
    /// Changed resources of types the audit does not read.
    pub ignored: Vec<String>,
}

fn known_before(before: &Audit) -> KnownCauses {
    let first = delta::compare(&KnownCauses::default(), before, 0);
    delta::merge(&KnownCauses::default(), &first)
}

/// Compares the audits before and after `plan` (applied as `applied`).
pub fn compare(plan: &Plan, applied: &Applied, before: &Audit, after: &Audit) -> PlanVerdict {
    let known = known_before(before);
    let change = delta::compare(&known, after, 0);
    let namer = Namer { plan, applied };
    let mut verdict = PlanVerdict {
        ignored: applied.ignored.clone(),
        ..PlanVerdict::default()
    };
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for cause in &change.new {
        reported.insert(&cause.identity);
        verdict.introduced.push(namer.planned(cause, None));
    }
    for widened in &change.widened {
        reported.insert(&widened.cause.identity);
        let newly: Vec<String> = widened
            .services
            .iter()
            .chain(&widened.subnets)
            .chain(&widened.resources)
            .map(|id| applied.ids.display(id))
            .collect();
        verdict
            .introduced
            .push(namer.planned(widened.cause, Some(newly)));
    }
    for (identity, _) in &change.fixed {
        if let Some(cause) = before.root_causes.iter().find(|c| &c.identity == identity) {
            verdict.fixed.push(namer.planned(cause, None));
        }
    }
    for cause in after
        .root_causes
        .iter()
        .filter(|c| c.severity == crate::diagnose::Severity::Critical)
        .filter(|c| !reported.contains(c.identity.as_str()))
    {
        let mut left = namer.planned(cause, None);
        // The plan neither causes nor fixes it: its Terraform fix names what to change.
        left.addresses.clear();
        verdict.unchanged.push(left);
    }
    let fixed: BTreeSet<&str> = change.fixed.iter().map(|(id, _)| id.as_str()).collect();
    for cause in before
        .root_causes
        .iter()
        .filter(|c| c.severity == crate::diagnose::Severity::Critical)
        .filter(|c| !fixed.contains(c.identity.as_str()))
        .filter(|c| !after.root_causes.iter().any(|a| a.identity == c.identity))
    {
        let mut carried = namer.planned(cause, None);
        carried.addresses.clear();
        verdict.unverified.push(carried);
    }
    verdict
}

struct Namer<'a> {
    plan: &'a Plan,
    applied: &'a Applied,
}

impl Namer<'_> {
    /// The plan's addresses among what `cause` names (its resources and subnets), and the
    /// changed associations and rules that link them.
    fn addresses(&self, cause: &RootCause) -> Vec<String> {
        let ids: BTreeSet<&str> = cause
            .resources
            .iter()
            .chain(&cause.subnets)
            .map(String::as_str)
            .collect();
        let mut found: Vec<String> = Vec::new();
        for rc in self.plan.resource_changes.iter().filter(|rc| {
            rc.mode == "managed"
                && rc.change.changes()
                && super::apply::READ_TYPES.contains(&rc.resource_type.as_str())
        }) {
            let id = self.applied.ids.id(&rc.address).unwrap_or("");
            let before_id = rc.change.before.get("id").and_then(|v| v.as_str());
            let links = [
                "subnet_id",
                "route_table_id",
                "security_group_id",
                "vpc_endpoint_id",
            ]
            .iter()
            .filter_map(|attribute| {
                let instance = super::values::Instance::new(rc, self.plan, &self.applied.ids);
                instance.text(attribute).ok().flatten().or_else(|| {
                    instance
                        .before(attribute)
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                })
            })
            .filter(|linked| ids.contains(linked.as_str()))
            .count();
            // An endpoint of the service a cause says is missing (`…#com.amazonaws.….secretsmanager`).
            let provides = rc
                .change
                .after
                .get("service_name")
                .and_then(|v| v.as_str())
                .is_some_and(|service| cause.identity.ends_with(&format!("#{service}")));
            // A service the plan adds or changes, among those the cause affects.
            let service = rc.resource_type == "aws_ecs_service"
                && match (
                    rc.change.after.get("cluster").and_then(|v| v.as_str()),
                    rc.change.after.get("name").and_then(|v| v.as_str()),
                ) {
                    (Some(cluster), Some(name)) => cause
                        .services
                        .contains(&format!("{}/{name}", crate::network::cluster_name(cluster))),
                    _ => false,
                };
            if ids.contains(id)
                || before_id.is_some_and(|b| ids.contains(b))
                || links > 0
                || provides
                || service
            {
                found.push(rc.address.clone());
            }
        }
        found
    }

    fn planned(&self, cause: &RootCause, widened: Option<Vec<String>>) -> PlannedCause {
        let mut shown = cause.clone();
        // A command that names what the plan has not created yet cannot be run before
        // apply: the Terraform fix (or the fix's words) stands instead.
        if shown.commands.iter().any(|c| {
            self.applied
                .ids
                .placeholders
                .keys()
                .any(|p| c.contains(p.as_str()))
        }) {
            shown.commands.clear();
        }
        shown.rewrite(|text| self.applied.ids.display(text));
        PlannedCause {
            addresses: self.addresses(cause),
            terraform_fix: self.terraform_fix(cause),
            cause: shown,
            widened,
        }
    }

    /// The plan's address of a resource ID, when the plan holds that resource (changed or
    /// not).
    fn address_of(&self, id: &str) -> Option<String> {
        self.applied.ids.address(id).map(str::to_string)
    }

    fn terraform_fix(&self, cause: &RootCause) -> Option<String> {
        match cause.code {
            Code::S3RouteMissing => {
                let endpoint = cause.resources.iter().find(|r| r.starts_with("vpce-"))?;
                let endpoint_address = self.address_of(endpoint)?;
                let tables: Vec<String> = cause
                    .resources
                    .iter()
                    .filter(|r| r.starts_with("rtb-"))
                    .map(|t| match self.address_of(t) {
                        Some(address) => format!("{address}.id"),
                        None => format!("\"{t}\""),
                    })
                    .collect();
                if tables.is_empty() {
                    return None;
                }
                let associations: Vec<String> = tables
                    .iter()
                    .map(|table| {
                        format!(
                            "resource \"aws_vpc_endpoint_route_table_association\" \"…\" {{\n  vpc_endpoint_id = {endpoint_address}.id\n  route_table_id  = {table}\n}}"
                        )
                    })
                    .collect();
                Some(format!(
                    "Add {} to {endpoint_address}'s route_table_ids, or:\n{}",
                    tables.join(", "),
                    associations.join("\n")
                ))
            }
            Code::TaskSgBlocksHttps => {
                // The command names the task's group and the destination it needs.
                let command = cause.commands.first()?;
                let group = command
                    .split_once("--group-id ")?
                    .1
                    .split_whitespace()
                    .next()?;
                let group_address = self.address_of(group)?;
                let value_after = |key: &str| {
                    command.split_once(key).map(|(_, rest)| {
                        rest.split(['}', ',', ']'])
                            .next()
                            .unwrap_or(rest)
                            .to_string()
                    })
                };
                let destination = if let Some(pl) = value_after("PrefixListId=") {
                    format!("  prefix_list_id    = \"{pl}\"")
                } else if let Some(peer) = value_after("GroupId=") {
                    let peer = self
                        .address_of(&peer)
                        .map(|a| format!("{a}.id"))
                        .unwrap_or_else(|| format!("\"{peer}\""));
                    format!("  referenced_security_group_id = {peer}")
                } else if let Some(cidr) = value_after("CidrIpv6=") {
                    format!("  cidr_ipv6         = \"{cidr}\"")
                } else {
                    format!("  cidr_ipv4         = \"{}\"", value_after("CidrIp=")?)
                };
                Some(format!(
                    "resource \"aws_vpc_security_group_egress_rule\" \"…\" {{\n  security_group_id = {group_address}.id\n  ip_protocol       = \"tcp\"\n  from_port         = 443\n  to_port           = 443\n{destination}\n}}"
                ))
            }
            _ => None,
        }
    }
}
