//! The `ecs-pull-doctor` command line: reads files, wires the library's steps, prints.

use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use ecs_pull_doctor::audit;
use ecs_pull_doctor::diagnose::{self, classify, MissingInput};
use ecs_pull_doctor::event::{parse_task_event, FailedTask, TaskEvent};
use ecs_pull_doctor::ipranges::{self, IpRanges};
use ecs_pull_doctor::localized::{Lang, Localized};
use ecs_pull_doctor::network::source::{Members, NetworkSource};
use ecs_pull_doctor::network::{live, snapshot};
use ecs_pull_doctor::render::{self, Format};
use ecs_pull_doctor::t;

#[derive(Parser)]
#[command(
    name = "ecs-pull-doctor",
    version,
    about = "Explains why an ECS task could not pull its image"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct IpRangesArg {
    /// AWS ip-ranges.json to classify IPs with (default: ip-ranges.json next to the executable).
    #[arg(long = "ip-ranges", env = "IP_RANGES_FILE", value_name = "FILE")]
    ip_ranges: Option<PathBuf>,
}

/// Reaching another account: the role to assume in it.
#[derive(clap::Args)]
struct RoleArgs {
    /// With --live (or --account): assume this role in the event's (or each) account when it
    /// is not the caller's own, e.g. ecs-pull-doctor-read from the member stack.
    #[arg(long, value_name = "NAME")]
    role_name: Option<String>,
    /// The external ID the member role's trust requires, when it does.
    #[arg(long, value_name = "ID", requires = "role_name")]
    external_id: Option<String>,
}

impl RoleArgs {
    /// A live source that reaches other accounts through the role, when one is named.
    async fn source(&self, config: &aws_config::SdkConfig) -> Result<NetworkSource> {
        let members = self.role_name.as_ref().map(|role| Members {
            roles: live::MemberRoles::new(role, self.external_id.as_deref(), "ecs-pull-doctor-cli"),
            names: Default::default(),
        });
        let source = NetworkSource::live(config.clone(), members);
        if self.role_name.is_some() {
            if let Err(err) = source.own_account().await {
                bail!("{err}: cannot tell the caller's own account from a member's");
            }
        }
        Ok(source)
    }
}

#[derive(clap::Args)]
struct OutputArgs {
    #[arg(long, default_value = "text", value_name = "text|json|markdown")]
    format: Format,
    #[arg(
        long,
        default_value = "en",
        env = "DIAGNOSIS_LANG",
        value_name = "en|ko"
    )]
    lang: Lang,
}

#[derive(Subcommand)]
enum Command {
    /// Diagnose one ECS Task State Change event.
    Diagnose {
        /// The EventBridge event (JSON); `-` reads standard input.
        #[arg(long, value_name = "FILE")]
        event: PathBuf,
        /// A network snapshot (AWS CLI JSON members, see the README).
        #[arg(long, value_name = "FILE", conflicts_with = "live")]
        network: Option<PathBuf>,
        /// Inspect the task's VPC in the event's account and region with the default AWS
        /// credential chain (read-only Describe calls; see the README for the IAM actions).
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
        /// Read the account with the default AWS credential chain (read-only calls; see the
        /// README for the IAM actions).
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
        #[command(flatten)]
        role: RoleArgs,
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
}

/// The status a command ends with when its reader went away (`… | head`): what a shell
/// reports for a program that SIGPIPE ended (128 + 13).
const CLOSED_PIPE_STATUS: u8 = 141;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // An audit's 1 means "blocked", so its own failures exit 2, as usage errors do.
    let (result, failure) = if let Command::Audit { .. } = cli.command {
        (run_audit(cli.command), ExitCode::from(2))
    } else {
        (run(cli).map(|()| ExitCode::SUCCESS), ExitCode::FAILURE)
    };
    match result {
        Ok(code) => code,
        Err(error) if is_closed_pipe(&error) => ExitCode::from(CLOSED_PIPE_STATUS),
        Err(error) => {
            say(&format!("error: {error:#}"));
            failure
        }
    }
}

/// Standard output was closed by its reader: nothing to report, only to stop.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
struct StdoutClosed;

fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.downcast_ref::<StdoutClosed>().is_some()
}

/// Writes what the command prints to standard output, made displayable (no bidirectional or
/// control characters from names and messages reach the terminal).
fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(ecs_pull_doctor::untrusted::displayable(text).as_bytes())
        .and_then(|()| out.flush())
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::BrokenPipe => anyhow::Error::new(StdoutClosed),
            _ => anyhow::Error::new(err).context("cannot write to standard output"),
        })
}

/// A line on standard error, made displayable like standard output; a closed standard
/// error is not worth a panic.
fn say(text: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "{}",
        ecs_pull_doctor::untrusted::displayable(text)
    );
}

fn parse_service(text: &str) -> Result<(String, String)> {
    match text.split_once('/') {
        Some((cluster, name)) if !cluster.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((cluster.to_string(), name.to_string()))
        }
        _ => bail!("--service {text:?}: expected CLUSTER/SERVICE"),
    }
}

fn run_audit(command: Command) -> Result<ExitCode> {
    let Command::Audit {
        live,
        network,
        region,
        clusters,
        services,
        task_definition,
        subnets,
        security_groups,
        accounts,
        organization,
        role,
        output: OutputArgs { format, lang },
    } = command
    else {
        unreachable!("run_audit is called for the audit command");
    };
    let services = services
        .iter()
        .map(|s| parse_service(s))
        .collect::<Result<Vec<_>>>()?;
    let planned = if task_definition.is_some() || subnets.is_some() || security_groups.is_some() {
        if services.len() != 1 {
            bail!("--task-definition, --subnets and --security-groups describe a planned change of one service: give exactly one --service CLUSTER/SERVICE");
        }
        Some(audit::PlannedChange {
            task_definition: task_definition.clone(),
            subnets: subnets.clone(),
            security_groups: security_groups.clone(),
            assign_public_ip: None,
            launch_type: None,
        })
    } else {
        None
    };
    let selection = audit::Selection {
        clusters: clusters.clone(),
        services: services.clone(),
        planned,
    };
    let (view, region, calls) = if live {
        let target = live::AccountTarget {
            clusters,
            services,
            task_definitions: task_definition.into_iter().collect(),
            subnets: subnets.unwrap_or_default(),
        };
        let show_progress = format == Format::Text && std::io::stderr().is_terminal();
        let progress = |what: &str, done: usize, total: usize| {
            if show_progress {
                let _ = write!(std::io::stderr(), "\r\x1b[2K{what}: {done}/{total}");
            }
        };
        let (accounts_read, region) = runtime()?.block_on(async {
            let config = live::load_config(region.as_deref()).await;
            let region = config.region().map(|r| r.to_string());
            let accounts = if organization {
                match live::organization_accounts(&config).await {
                    Ok(found) => found.into_iter().map(|(id, _)| id).collect(),
                    Err(why) => bail!("{why}"),
                }
            } else {
                accounts.clone()
            };
            if !accounts.is_empty() && role.role_name.is_none() {
                bail!("--account and --organization need --role-name: the role to assume in each account");
            }
            let source = role.source(&config).await?;
            let read = read_accounts(&source, &accounts, &target, &progress).await;
            Ok((read, region))
        })?;
        if show_progress {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
        let Some(region) = region else {
            bail!("no region: pass --region or configure one (AWS_REGION, a profile)");
        };
        let calls = render::audit::Calls {
            total: accounts_read.iter().map(|r| r.calls).sum(),
            rounds: accounts_read.iter().map(|r| r.rounds).max().unwrap_or(0),
        };
        if accounts.is_empty() && !organization {
            let only = accounts_read.into_iter().next().expect("one account read");
            (only.view, region, Some(calls))
        } else {
            let mut shown = ecs_pull_doctor::network::NetworkView::default();
            let mut audits = Vec::new();
            for read in accounts_read {
                let mut result = audit::audit(&read.view, &region, &selection);
                if let Some(why) = &read.failure {
                    result.not_inspected.push(Localized::same(why.clone()));
                }
                audits.push((read.account.clone(), result));
                shown.absorb(read.view);
            }
            let combined = audit::combine(audits, &region);
            return report_audit(&combined, &shown, Some(calls), format, lang);
        }
    } else {
        let path = network.expect("clap requires --network without --live");
        let view = snapshot::load(&path)?;
        let region = match region.or_else(|| view.region()) {
            Some(region) => region,
            None => bail!(
                "{}: no region in the snapshot's service ARNs or subnets; pass --region",
                path.display()
            ),
        };
        (view, region, None)
    };
    if let Some(not_in) = selection.not_in(&view) {
        bail!("{not_in}");
    }
    let result = audit::audit(&view, &region, &selection);
    report_audit(&result, &view, calls, format, lang)
}

/// One account's read for a multi-account audit: its view, or why it could not be read.
struct AccountRead {
    account: String,
    view: ecs_pull_doctor::network::NetworkView,
    calls: usize,
    rounds: usize,
    failure: Option<String>,
}

/// Reads each account (the caller's own when none is named) with at most eight in flight.
async fn read_accounts(
    source: &NetworkSource,
    accounts: &[String],
    target: &live::AccountTarget,
    progress: live::Progress<'_>,
) -> Vec<AccountRead> {
    use futures::stream::{self, StreamExt};
    const ACCOUNTS_IN_FLIGHT: usize = 8;
    let quiet = |_: &str, _: usize, _: usize| {};
    let one = |account: Option<String>| async move {
        // Only a single account's read shows its own progress; several show accounts done.
        let shown: live::Progress<'_> = if account.is_none() { progress } else { &quiet };
        let read = source
            .for_audit(target, account.as_deref(), None, shown)
            .await;
        let account = account.unwrap_or_default();
        match read {
            Ok((view, cost)) => {
                let (calls, rounds) = cost.unwrap_or_default();
                AccountRead {
                    account,
                    view: view.into_owned(),
                    calls,
                    rounds,
                    failure: None,
                }
            }
            Err(err) => AccountRead {
                account,
                view: Default::default(),
                calls: 1,
                rounds: 1,
                failure: Some(err.to_string()),
            },
        }
    };
    if accounts.is_empty() {
        return vec![one(None).await];
    }
    let total = accounts.len();
    let mut done = 0;
    let mut reads = Vec::new();
    let mut stream = stream::iter(accounts.iter().cloned())
        .map(|a| one(Some(a)))
        .buffer_unordered(ACCOUNTS_IN_FLIGHT);
    while let Some(read) = stream.next().await {
        done += 1;
        progress("accounts", done, total);
        reads.push(read);
    }
    reads.sort_by(|a, b| a.account.cmp(&b.account));
    reads
}

fn report_audit(
    result: &audit::Audit,
    view: &ecs_pull_doctor::network::NetworkView,
    calls: Option<render::audit::Calls>,
    format: Format,
    lang: Lang,
) -> Result<ExitCode> {
    match format {
        Format::Json => emit(&pretty(&render::audit::audit_json(result, calls, lang))?)?,
        Format::Markdown => emit(&render::audit::audit_markdown(result, view, lang))?,
        Format::Text => {
            emit(&render::audit::audit_text(result, view, lang))?;
            if let Some(calls) = calls {
                say(&format!(
                    "inspection: {} API calls in {} sequential rounds",
                    calls.total, calls.rounds
                ));
            }
        }
    }
    Ok(ExitCode::from(result.outcome().exit_status()))
}

/// The command line's way to give what the diagnosis lacked.
fn how_to_give(missing: MissingInput) -> Localized {
    match missing {
        MissingInput::NetworkView => t!(
            "To inspect the network: pass --network FILE (a snapshot; the README lists the AWS CLI commands that build one) or --live.",
            "네트워크를 점검하려면 --network FILE(스냅샷; 만드는 AWS CLI 명령은 README 참고) 또는 --live를 지정하세요."
        ),
        MissingInput::IpRanges => t!(
            "To name the owner of an address outside the VPC: pass --ip-ranges FILE or set IP_RANGES_FILE (make ip-ranges downloads AWS's current file).",
            "VPC 밖 주소의 소유자를 알려면 --ip-ranges FILE을 지정하거나 IP_RANGES_FILE을 설정하세요(make ip-ranges가 AWS의 최신 파일을 내려받습니다)."
        ),
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Diagnose {
            event,
            network,
            live,
            report_calls,
            role,
            output: OutputArgs { format, lang },
            ip_ranges,
        } => {
            let text = read_input(&event)?;
            let parsed = parse_task_event(&text).with_context(|| event.display().to_string())?;
            let task = match parsed {
                TaskEvent::Skipped { task_arn, why } => {
                    match format {
                        Format::Json => emit(&format!(
                            "{}\n",
                            render::skipped_json(task_arn.as_deref(), &why)
                        ))?,
                        Format::Text | Format::Markdown => {
                            emit(&render::skipped_text(task_arn.as_deref(), &why, lang))?
                        }
                    }
                    return Ok(());
                }
                TaskEvent::PullFailure(task) => task,
            };
            let view = if live {
                let target = live_target(&task)?;
                let inspection = runtime()?.block_on(async {
                    let config = live::load_config(task.region.as_deref()).await;
                    let source = role.source(&config).await?;
                    let clients = match source.clients(task.account.as_deref(), None).await {
                        Some(Ok(clients)) => clients,
                        Some(Err(err)) => bail!("{err}"),
                        None => unreachable!("a live source has clients"),
                    };
                    Ok(live::inspect(&clients, &target).await?)
                })?;
                if report_calls {
                    say(&format!(
                        "inspection: {} API calls in {} sequential rounds",
                        inspection.calls, inspection.rounds
                    ));
                }
                Some(inspection.view)
            } else {
                network.as_deref().map(snapshot::load).transpose()?
            };
            let ranges = load_ip_ranges(&ip_ranges)?;
            let diagnosis = diagnose::diagnose(&task, view.as_ref(), ranges.as_ref());
            match format {
                Format::Json => emit(&pretty(&render::diagnosis_json(&diagnosis, lang))?)?,
                Format::Markdown => emit(&render::diagnosis_markdown(&diagnosis, lang))?,
                Format::Text => {
                    let mut text = render::diagnosis_text(&diagnosis, lang);
                    for missing in &diagnosis.missing_inputs {
                        text.push_str(how_to_give(*missing).get(lang));
                        text.push('\n');
                    }
                    emit(&text)?;
                }
            }
        }
        Command::Snapshot {
            subnet,
            clusters,
            container_instance,
            service,
            region,
            account,
            role,
        } => {
            let service = service.as_deref().map(parse_service).transpose()?;
            let clients_in = |config: aws_config::SdkConfig| async move {
                let source = role.source(&config).await?;
                match source.clients(account.as_deref(), None).await {
                    Some(Ok(clients)) => Ok(clients.into_owned()),
                    Some(Err(err)) => bail!("{err}"),
                    None => unreachable!("a live source has clients"),
                }
            };
            if !clusters.is_empty() {
                let target = live::AccountTarget {
                    clusters,
                    services: service.into_iter().collect(),
                    ..live::AccountTarget::default()
                };
                let inspection = runtime()?.block_on(async {
                    let config = live::load_config(region.as_deref()).await;
                    let clients = clients_in(config).await?;
                    anyhow::Ok(live::inspect_account(&clients, &target, &|_, _, _| {}).await)
                })?;
                emit(&pretty(&inspection.view)?)?;
                return Ok(());
            }
            // arn:aws:ecs:REGION:ACCOUNT:container-instance/CLUSTER/ID names its cluster.
            let container_instance = match container_instance {
                None => None,
                Some(arn) => match arn.split('/').collect::<Vec<_>>().as_slice() {
                    [_, cluster, _] if !cluster.is_empty() => Some((cluster.to_string(), arn.clone())),
                    _ => bail!("--container-instance {arn:?}: expected arn:aws:ecs:REGION:ACCOUNT:container-instance/CLUSTER/ID"),
                },
            };
            let target = live::Target {
                subnet_id: subnet,
                service,
                container_instance,
            };
            let inspection = runtime()?.block_on(async {
                let config = live::load_config(region.as_deref()).await;
                let clients = clients_in(config).await?;
                anyhow::Ok(live::inspect(&clients, &target).await?)
            })?;
            emit(&pretty(&inspection.view)?)?;
        }
        Command::Audit { .. } => unreachable!("main runs the audit itself"),
        Command::Explain { message, ip_ranges } => {
            let message = if message == "-" {
                read_input(Path::new("-"))?
            } else {
                message
            };
            let ranges = load_ip_ranges(&ip_ranges)?;
            let failure = classify(&message, ranges.as_ref(), None);
            emit(&pretty(&render::failure_json(&failure))?)?;
        }
        Command::Classify { ip, ip_ranges } => {
            let Ok(address) = ip.trim().parse::<IpAddr>() else {
                bail!("{ip:?} is not an IPv4 or IPv6 address");
            };
            let ranges = load_ip_ranges(&ip_ranges)?;
            let Some(ranges) = ranges else {
                bail!("no ip-ranges.json: pass --ip-ranges FILE or set IP_RANGES_FILE (or run `make ip-ranges`)");
            };
            emit(&pretty(&ranges.lookup(address))?)?;
        }
    }
    Ok(())
}

/// The subnet and ECS service of a failed task, for live inspection.
fn live_target(task: &FailedTask) -> Result<live::Target> {
    match live::Target::for_task(task) {
        Some(target) => Ok(target),
        None => bail!("the event has neither an ENI attachment with a subnetId nor, on the EC2 launch type, a containerInstanceArn: there is no subnet to inspect"),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// JSON for people: indented, one trailing line break.
fn pretty(value: &impl serde::Serialize) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// An event (or a message), from a file or `-` for standard input.
fn read_input(path: &Path) -> Result<String> {
    Ok(ecs_pull_doctor::files::read(
        path,
        ecs_pull_doctor::files::Kind::Event,
    )?)
}

fn load_ip_ranges(arg: &IpRangesArg) -> Result<Option<IpRanges>> {
    match ipranges::default_location(arg.ip_ranges.as_deref()) {
        Some(path) => Ok(Some(ipranges::load_file(&path)?)),
        None => Ok(None),
    }
}
