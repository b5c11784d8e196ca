//! A probe: one connection an image pull needs, from the network interface that pulls to one
//! destination on TCP 443, checked against a network view.
//!
//! [`check`] is pure and knows nothing of failed tasks: `diagnose` builds probes from a parsed
//! failure (the dialled address pins the destination), and a preflight audit can build them
//! from a task definition. A [`Verdict`] is what one probe found: its findings, the steps of
//! the path seen open, and what could not be inspected.

use std::net::IpAddr;

use serde::Serialize;

use super::rules;
use super::Finding;
use crate::ipranges::IpOwner;
use crate::localized::Localized;
use crate::network::NetworkView;

/// Where a connection starts: the network interface that pulls the image (a Fargate or awsvpc
/// task's ENI, or on the EC2 launch type the container instance's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub subnet_id: String,
    /// The interface's security groups; `None` when they could not be learned.
    pub security_groups: Option<Vec<String>>,
    /// Whether the interface has a public IP; `None` when unknown.
    pub public_ip: Option<bool>,
    /// Its private address, when known (endpoint security groups are checked against it).
    pub private_ip: Option<IpAddr>,
    /// The EC2 instance whose primary interface this is, when an instance pulls (the EC2
    /// launch type, ECS Managed Instances).
    pub instance_id: Option<String>,
    /// The service whose tasks start here, when there is one: its other subnets need the same
    /// routes, and its network configuration is what a fix changes.
    pub workload: Option<Workload>,
    pub account: Option<String>,
}

/// An ECS service as a source of connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workload {
    pub cluster: String,
    pub service: String,
    /// Every subnet of the service's awsvpc configuration.
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
}

/// Where a connection goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// S3 in a region (image layers, environment files).
    S3 { region: String },
    /// An AWS service with an interface endpoint: `short` is `ecr.api`, `ecr.dkr`, `logs`…
    Service { short: &'static str, region: String },
    /// A host on the internet that no VPC endpoint serves.
    Internet { what: String },
    /// A layer download that went to an address outside AWS: a pull-through cache's upstream
    /// registry (or its CDN), reached over the internet, not S3.
    Upstream { ip: IpAddr },
    /// An address inside the VPC (an endpoint's interface, usually); `expected` names the
    /// endpoint service the hop needed, when known.
    InVpc {
        ip: IpAddr,
        expected: Option<String>,
    },
}

/// One connection to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub from: Origin,
    pub to: Target,
    /// The address actually dialled, when known: it decides the route taken.
    pub dialled: Option<IpAddr>,
    /// Who owns `dialled` (the VPC, S3's prefix list, ip-ranges), when known.
    pub owner: Option<IpOwner>,
    /// The image being pulled, when known (fixes name it).
    pub image: Option<String>,
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub findings: Vec<Finding>,
    /// Steps of the path found open, in the order they were walked.
    pub open_steps: Vec<Localized>,
    /// What could not be inspected, and why.
    pub gaps: Vec<Localized>,
    /// False when the route table of the origin's subnet could not be read, so nothing can be
    /// said about the path.
    pub routing_inspected: bool,
}

/// Checks one probe against the view; `region` is the VPC's.
pub fn check(view: &NetworkView, region: &str, probe: &Probe) -> Verdict {
    rules::check(view, region, probe)
}

/// What the view lacks for any probe from `origin` (failed calls, absent route tables or
/// network ACLs), and whether its subnet's routing can be evaluated at all. Every verdict
/// carries these too; this is for a caller with no probe to run.
pub fn origin_gaps(view: &NetworkView, origin: &Origin) -> (Vec<Localized>, bool) {
    rules::origin_gaps(view, &origin.subnet_id)
}
