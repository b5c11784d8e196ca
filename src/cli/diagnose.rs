//! `diagnose`: one Task State Change event against a snapshot, the live account or nothing,
//! in text, JSON or Markdown.

use anyhow::{bail, Context, Result};

use ecs_pull_doctor::diagnose::{self, MissingInput};
use ecs_pull_doctor::event::{parse_task_event, FailedTask, TaskEvent};
use ecs_pull_doctor::localized::Localized;
use ecs_pull_doctor::network::{live, snapshot};
use ecs_pull_doctor::render::{self, Format};
use ecs_pull_doctor::t;

use super::args::OutputArgs;
use super::output::{emit, load_ip_ranges, pretty, read_input, runtime, say};
use super::Command;

/// Diagnoses the event and prints the verdict, context, evidence and fix.
pub(crate) fn run(command: Command) -> Result<()> {
    let Command::Diagnose {
        event,
        network,
        live,
        report_calls,
        role,
        output: OutputArgs { format, lang },
        ip_ranges,
    } = command
    else {
        unreachable!("called for its own command only");
    };
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
    Ok(())
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

/// The subnet and ECS service of a failed task, for live inspection.
fn live_target(task: &FailedTask) -> Result<live::Target> {
    match live::Target::for_task(task) {
        Some(target) => Ok(target),
        None => bail!("the event has neither an ENI attachment with a subnetId nor, on the EC2 launch type, a containerInstanceArn: there is no subnet to inspect"),
    }
}
