//! The `ecs-pull-doctor` command line: reads files, wires the library's steps, prints.

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use ecs_pull_doctor::diagnose::{self, classify};
use ecs_pull_doctor::event::{parse_task_event, TaskEvent};
use ecs_pull_doctor::ipranges::{self, IpRanges};
use ecs_pull_doctor::localized::Lang;
use ecs_pull_doctor::network::snapshot;
use ecs_pull_doctor::render::{self, Format};

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
        #[arg(long, value_name = "FILE")]
        network: Option<PathBuf>,
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

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Diagnose {
            event,
            network,
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
            let view = network.as_deref().map(snapshot::load).transpose()?;
            let ranges = load_ip_ranges(&ip_ranges)?;
            let diagnosis = diagnose::diagnose(&task, view.as_ref(), ranges.as_ref());
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&render::diagnosis_json(&diagnosis, lang))?
                ),
                Format::Text => print!("{}", render::diagnosis_text(&diagnosis, lang)),
            }
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
