//! The `ecs-pull-doctor` command line: reads files, wires the library's steps, prints.

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use ecs_pull_doctor::diagnose::{self, classify, MissingInput};
use ecs_pull_doctor::event::{parse_task_event, FailedTask, TaskEvent};
use ecs_pull_doctor::ipranges::{self, IpRanges};
use ecs_pull_doctor::localized::{Lang, Localized};
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
        #[arg(long, default_value = "text", value_name = "text|json")]
        format: Format,
        #[arg(
            long,
            default_value = "en",
            env = "DIAGNOSIS_LANG",
            value_name = "en|ko"
        )]
        lang: Lang,
        #[command(flatten)]
        ip_ranges: IpRangesArg,
    },
    /// Capture the network around a subnet in the snapshot format `--network` reads.
    Snapshot {
        /// The subnet of the task's own ENI (awsvpc); with --container-instance it may be
        /// left out.
        #[arg(
            long,
            value_name = "SUBNET_ID",
            required_unless_present = "container_instance"
        )]
        subnet: Option<String>,
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

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
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
            format,
            lang,
            ip_ranges,
        } => {
            let text = read_input(&event)?;
            let parsed = parse_task_event(&text).with_context(|| event.display().to_string())?;
            let task = match parsed {
                TaskEvent::Skipped { task_arn, why } => {
                    match format {
                        Format::Json => {
                            println!("{}", render::skipped_json(task_arn.as_deref(), &why))
                        }
                        Format::Text => {
                            print!("{}", render::skipped_text(task_arn.as_deref(), &why, lang))
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
                    live::inspect(&live::Clients::new(&config), &target).await
                })?;
                if report_calls {
                    eprintln!(
                        "inspection: {} API calls in {} sequential rounds",
                        inspection.calls, inspection.rounds
                    );
                }
                Some(inspection.view)
            } else {
                network.as_deref().map(snapshot::load).transpose()?
            };
            let ranges = load_ip_ranges(&ip_ranges)?;
            let diagnosis = diagnose::diagnose(&task, view.as_ref(), ranges.as_ref());
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&render::diagnosis_json(&diagnosis, lang))?
                ),
                Format::Text => {
                    print!("{}", render::diagnosis_text(&diagnosis, lang));
                    for missing in &diagnosis.missing_inputs {
                        println!("{}", how_to_give(*missing).get(lang));
                    }
                }
            }
        }
        Command::Snapshot {
            subnet,
            container_instance,
            service,
            region,
        } => {
            let service = match service {
                None => None,
                Some(text) => match text.split_once('/') {
                    Some((cluster, name)) if !cluster.is_empty() && !name.is_empty() => {
                        Some((cluster.to_string(), name.to_string()))
                    }
                    _ => bail!("--service {text:?}: expected CLUSTER/SERVICE"),
                },
            };
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
                live::inspect(&live::Clients::new(&config), &target).await
            })?;
            println!("{}", serde_json::to_string_pretty(&inspection.view)?);
        }
        Command::Explain { message, ip_ranges } => {
            let message = if message == "-" {
                read_input(Path::new("-"))?
            } else {
                message
            };
            let ranges = load_ip_ranges(&ip_ranges)?;
            let failure = classify(&message, ranges.as_ref(), None);
            println!(
                "{}",
                serde_json::to_string_pretty(&render::failure_json(&failure))?
            );
        }
        Command::Classify { ip, ip_ranges } => {
            let Ok(address) = ip.trim().parse::<IpAddr>() else {
                bail!("{ip:?} is not an IPv4 or IPv6 address");
            };
            let ranges = load_ip_ranges(&ip_ranges)?;
            let Some(ranges) = ranges else {
                bail!("no ip-ranges.json: pass --ip-ranges FILE or set IP_RANGES_FILE (or run `make ip-ranges`)");
            };
            println!("{}", serde_json::to_string_pretty(&ranges.lookup(address))?);
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

fn read_input(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn load_ip_ranges(arg: &IpRangesArg) -> Result<Option<IpRanges>> {
    match ipranges::default_location(arg.ip_ranges.as_deref()) {
        Some(path) => Ok(Some(ipranges::load_file(&path)?)),
        None => Ok(None),
    }
}
