//! The command line, one module per command (as mini-redis keeps one file per command):
//! the arguments here, each command's work in its own file.

pub(crate) mod args;
pub(crate) mod audit;
mod diagnose;
mod explain;
mod ip_ranges;
pub(crate) mod output;
mod snapshot;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use args::{IpRangesArg, OutputArgs, RoleArgs};

#[derive(Parser)]
#[command(
    name = "ecs-pull-doctor",
    version,
    about = "Explains why an ECS task could not pull its image"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Diagnose a stopped task: its ECS Task State Change event, `aws ecs describe-tasks`
    /// output (each stopped task), one task object, or --task read live. Exit status: 0 a
    /// diagnosis (from the message alone when the network could not be read: it says what
    /// was not inspected), 1 an error (unreadable input, a task ECS no longer has), 2 a
    /// usage error.
    Diagnose {
        /// The event, describe-tasks output or task (JSON); `-` reads standard input.
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "task",
            conflicts_with = "task"
        )]
        event: Option<PathBuf>,
        /// With --live: the task to read with ecs:DescribeTasks, by ID (with --cluster) or ARN.
        #[arg(long, value_name = "ID|ARN", requires = "live")]
        task: Option<String>,
        /// With --task: its cluster (default: the one its ARN names).
        #[arg(long, value_name = "NAME", requires = "task")]
        cluster: Option<String>,
        /// With --task: the region (default: the ARN's, else the AWS configuration's).
        #[arg(long, requires = "task")]
        region: Option<String>,
        /// A network snapshot (AWS CLI JSON members, see docs/reference.md).
        #[arg(long, value_name = "FILE", conflicts_with = "live")]
        network: Option<PathBuf>,
        /// Inspect the task's VPC in the event's account and region with the default AWS
        /// credential chain (read-only Describe calls; see docs/diagnosing.md for the IAM actions).
        #[arg(long)]
        live: bool,
        /// With --live: print how many API calls and sequential rounds the inspection made.
        #[arg(long, requires = "live")]
        report_calls: bool,
        #[command(flatten)]
        role: RoleArgs,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        ip_ranges: IpRangesArg,
    },
    /// Check every service's pull path before a task fails: each subnet, each hop its task
    /// definition needs. Exit status: 0 all ok, 1 some service blocked, 3 none blocked but
    /// something not inspected, 2 usage or input error.
    Audit {
        /// Read the account with the default AWS credential chain (read-only calls; see
        /// docs/diagnosing.md for the IAM actions).
        #[arg(long, conflicts_with = "network", required_unless_present = "network")]
        live: bool,
        /// A snapshot holding services, task definitions and their VPCs (`snapshot --cluster`).
        #[arg(long, value_name = "FILE")]
        network: Option<PathBuf>,
        /// The region (default: the AWS configuration's; with --network, the services' own).
        #[arg(long)]
        region: Option<String>,
        /// Audit only this cluster's services (repeatable; default: every cluster).
        #[arg(long = "cluster", value_name = "NAME")]
        clusters: Vec<String>,
        /// Audit only this service (repeatable).
        #[arg(long = "service", value_name = "CLUSTER/SERVICE")]
        services: Vec<String>,
        /// A planned change: check the one --service as it would run with this task
        /// definition (family:revision or ARN).
        #[arg(long, value_name = "TASK_DEFINITION")]
        task_definition: Option<String>,
        /// A planned change: these awsvpc subnets instead of the deployed ones.
        #[arg(long, value_delimiter = ',', value_name = "SUBNET_ID,...")]
        subnets: Option<Vec<String>>,
        /// A planned change: these security groups instead of the deployed ones.
        #[arg(long, value_delimiter = ',', value_name = "SG_ID,...")]
        security_groups: Option<Vec<String>>,
        /// Audit this member account (repeatable; with --role-name), each concurrently.
        #[arg(long = "account", value_name = "ACCOUNT_ID", requires = "live")]
        accounts: Vec<String>,
        /// Audit every ACTIVE account of the organisation (organizations:ListAccounts).
        #[arg(long, requires = "live", conflicts_with = "accounts")]
        organization: bool,
        /// A Terraform plan (`terraform show -json PLANFILE`): audit the network as it will be
        /// after it, and say what it introduces, fixes and leaves. Exit 1: it introduces a
        /// blocking cause; 3: a value known only after apply left a path undecided.
        #[arg(long, value_name = "PLAN_JSON", conflicts_with_all = ["accounts", "organization", "task_definition", "subnets", "security_groups"])]
        plan: Option<PathBuf>,
        #[command(flatten)]
        role: RoleArgs,
        /// AWS ip-ranges.json: its S3 ranges stand in for an S3 prefix list whose entries
        /// could not be read.
        #[command(flatten)]
        ip_ranges: IpRangesArg,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Capture the network around a subnet, or (with --cluster) what `audit --network` reads,
    /// in the snapshot format `--network` reads.
    Snapshot {
        /// The subnet of the task's own ENI (awsvpc); with --container-instance it may be
        /// left out.
        #[arg(
            long,
            value_name = "SUBNET_ID",
            required_unless_present_any = ["container_instance", "clusters"],
            conflicts_with = "clusters"
        )]
        subnet: Option<String>,
        /// Capture these clusters' services, task definitions, container instances and VPCs
        /// (repeatable), for `audit --network`.
        #[arg(
            long = "cluster",
            value_name = "NAME",
            conflicts_with = "container_instance"
        )]
        clusters: Vec<String>,
        /// On the EC2 launch type: the container instance that ran the task (its EC2
        /// instance pulls the image, so its subnet is the one captured).
        #[arg(long, value_name = "CONTAINER_INSTANCE_ARN")]
        container_instance: Option<String>,
        /// The ECS service whose tasks run there, as CLUSTER/SERVICE.
        #[arg(long, value_name = "CLUSTER/SERVICE")]
        service: Option<String>,
        /// The region (default: the AWS configuration's).
        #[arg(long)]
        region: Option<String>,
        /// Capture in this member account (with --role-name).
        #[arg(long, value_name = "ACCOUNT_ID", requires = "role_name")]
        account: Option<String>,
        #[command(flatten)]
        role: RoleArgs,
    },
    /// Parse one error message and classify the address it dialled (JSON out).
    Explain {
        /// The stoppedReason text; `-` reads standard input.
        message: String,
        #[command(flatten)]
        ip_ranges: IpRangesArg,
    },
    /// Who owns an IP address, according to ip-ranges.json (JSON out, null when unknown).
    Classify {
        ip: String,
        #[command(flatten)]
        ip_ranges: IpRangesArg,
    },
    /// AWS's published IP ranges, which name the owner of a dialled address.
    #[command(name = "ip-ranges")]
    IpRanges {
        #[command(subcommand)]
        action: IpRangesAction,
    },
}

#[derive(Subcommand)]
pub(crate) enum IpRangesAction {
    /// Download AWS's current ip-ranges.json to where every command looks for it (after
    /// --ip-ranges, IP_RANGES_FILE and a copy next to the executable):
    /// $XDG_DATA_HOME/ecs-pull-doctor/ip-ranges.json, else ~/.local/share/ecs-pull-doctor/.
    Update {
        /// Where to download from (default: AWS's published URL).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Where to write it (default: the user's copy).
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
    /// Print the file the commands would use, or say that none is found.
    Path {
        #[command(flatten)]
        ip_ranges: IpRangesArg,
    },
}

/// Runs every command but `audit` (whose exit status says more than success or failure).
pub(crate) fn run(command: Command) -> Result<()> {
    match command {
        Command::Diagnose { .. } => diagnose::run(command),
        Command::Snapshot { .. } => snapshot::run(command),
        Command::Explain { .. } => explain::explain(command),
        Command::Classify { .. } => explain::classify(command),
        Command::IpRanges {
            action: IpRangesAction::Update { url, to },
        } => ip_ranges::update(url, to),
        Command::IpRanges {
            action: IpRangesAction::Path { ip_ranges },
        } => ip_ranges::path(&ip_ranges),
        Command::Audit { .. } => unreachable!("main runs the audit itself"),
    }
}
