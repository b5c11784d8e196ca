//! `diagnose`: a stopped task (a Task State Change event, `aws ecs describe-tasks` output or
//! one task object, or `--task` read with `DescribeTasks`) against a snapshot, the live
//! account or nothing, in text, JSON or Markdown. A live read that fails leaves the
//! diagnosis to the message, saying what was not inspected.

use anyhow::{bail, Context, Result};

use ecs_pull_doctor::diagnose::{self, MissingInput};
use ecs_pull_doctor::event::{self, EventError, FailedTask, TaskEvent};
use ecs_pull_doctor::localized::Localized;
use ecs_pull_doctor::network::{live, snapshot};
use ecs_pull_doctor::render::{self, Format};
use ecs_pull_doctor::t;

use super::args::{role_needs_live, OutputArgs, RoleArgs, UsageError};
use super::output::{
    emit, load_ip_ranges, pretty, read_input, runtime, say, HOW_TO_LOAD_IP_RANGES,
};
use super::Command;

/// Diagnoses each task given (an event, `describe-tasks` output, a task object, or
/// `--task` read live) and prints the verdict, context, evidence and fix.
pub(crate) fn run(command: Command) -> Result<()> {
    let Command::Diagnose {
        event,
        task,
        cluster,
        region,
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
    role_needs_live(&role, live)?;
    // One runtime and one credential source for every live call of this run (a role is
    // assumed once per account, the caller's account looked up once).
    let mut reader: Option<LiveReader> = None;
    let documents = match (&event, &task) {
        (Some(path), _) => {
            let text = read_input(path)?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(EventError::NotJson)
                .with_context(|| path.display().to_string())?;
            event::task_events(value).with_context(|| path.display().to_string())?
        }
        (None, Some(task)) => vec![described_task(
            task,
            cluster.as_deref(),
            region.as_deref(),
            &role,
            &mut reader,
        )?],
        (None, None) => unreachable!("clap requires --event or --task"),
    };
    let ranges = load_ip_ranges(&ip_ranges)?;
    let snapshot = network.as_deref().map(snapshot::load).transpose()?;
    let mut answers = Vec::new();
    for document in documents {
        let source = match &event {
            Some(path) => path.display().to_string(),
            None => format!("--task {}", task.as_deref().unwrap_or("")),
        };
        let task = match event::parse_task_event_value(document).with_context(|| source)? {
            TaskEvent::Skipped { task_arn, why } => {
                answers.push(Answer::Skipped { task_arn, why });
                continue;
            }
            TaskEvent::PullFailure(task) => task,
        };
        let diagnosis = if live {
            match inspect_live(&task, &role, report_calls, &mut reader) {
                Ok(view) => diagnose::diagnose(&task, Some(&view), ranges.as_ref()),
                // What the account would not show: the message still says much.
                Err(why) => diagnose::diagnose_without_network(&task, why, ranges.as_ref()),
            }
        } else {
            diagnose::diagnose(&task, snapshot.as_ref(), ranges.as_ref())
        };
        answers.push(Answer::Diagnosed(Box::new(diagnosis)));
    }
    print(&answers, format, lang)
}

/// One task's answer.
enum Answer {
    Skipped {
        task_arn: Option<String>,
        why: String,
    },
    Diagnosed(Box<diagnose::Diagnosis>),
}

fn print(answers: &[Answer], format: Format, lang: ecs_pull_doctor::localized::Lang) -> Result<()> {
    let json = |answer: &Answer| -> serde_json::Value {
        match answer {
            Answer::Skipped { task_arn, why } => render::skipped_json(task_arn.as_deref(), why),
            Answer::Diagnosed(diagnosis) => render::diagnosis_json(diagnosis, lang),
        }
    };
    if format == Format::Json {
        // One task: its object, as always; several (describe-tasks output): a list.
        return match answers {
            [skipped @ Answer::Skipped { .. }] => emit(&format!("{}\n", json(skipped))),
            [one] => emit(&pretty(&json(one))?),
            many => emit(&pretty(&many.iter().map(json).collect::<Vec<_>>())?),
        };
    }
    for (i, answer) in answers.iter().enumerate() {
        if i > 0 {
            emit("\n")?;
        }
        match answer {
            Answer::Skipped { task_arn, why } => {
                emit(&render::skipped_text(task_arn.as_deref(), why, lang))?
            }
            Answer::Diagnosed(diagnosis) if format == Format::Markdown => {
                emit(&render::diagnosis_markdown(diagnosis, lang))?
            }
            Answer::Diagnosed(diagnosis) => {
                let mut text = render::diagnosis_text(diagnosis, lang);
                for missing in &diagnosis.missing_inputs {
                    text.push_str(how_to_give(*missing).get(lang));
                    text.push('\n');
                }
                emit(&text)?;
            }
        }
    }
    Ok(())
}

/// The runtime and credential source of the live calls, made on the first one (its region
/// is the configuration's; each call names its task's region and account).
struct LiveReader {
    runtime: tokio::runtime::Runtime,
    source: ecs_pull_doctor::network::source::NetworkSource,
}

impl LiveReader {
    fn get<'a>(
        slot: &'a mut Option<LiveReader>,
        region: Option<&str>,
        role: &RoleArgs,
    ) -> Result<&'a LiveReader> {
        if slot.is_none() {
            let runtime = runtime()?;
            let source = runtime.block_on(async {
                let config = live::load_config(region).await;
                role.source(&config).await
            })?;
            *slot = Some(LiveReader { runtime, source });
        }
        Ok(slot.as_ref().expect("made above"))
    }

    /// The clients for `account` in `region`, through the member role when it is not ours.
    async fn clients(
        &self,
        account: Option<&str>,
        region: Option<&str>,
    ) -> Result<std::borrow::Cow<'_, live::Clients>> {
        match self.source.clients(account, region).await {
            Some(Ok(clients)) => Ok(clients),
            Some(Err(err)) => bail!("{err}"),
            None => unreachable!("a live source has clients"),
        }
    }
}

/// The task's network, read live; `Err` says what could not be read (a denied call, a role
/// that could not be assumed), for a diagnosis from the message alone.
fn inspect_live(
    task: &FailedTask,
    role: &RoleArgs,
    report_calls: bool,
    reader: &mut Option<LiveReader>,
) -> Result<ecs_pull_doctor::network::NetworkView, Localized> {
    let not_inspected = |why: String| {
        t!(
            "the task's network: {why}",
            "태스크의 네트워크: {why}",
            why = why.clone()
        )
    };
    let target = live_target(task).map_err(|e| not_inspected(e.to_string()))?;
    let reader = LiveReader::get(reader, task.region.as_deref(), role)
        .map_err(|e| not_inspected(format!("{e:#}")))?;
    let inspection = reader
        .runtime
        .block_on(async {
            let clients = reader
                .clients(task.account.as_deref(), task.region.as_deref())
                .await
                .map_err(|e| format!("{e:#}"))?;
            live::inspect(&clients, &target)
                .await
                .map_err(|e| e.to_string())
        })
        .map_err(not_inspected)?;
    if report_calls {
        say(&format!(
            "inspection: {} API calls in {} sequential rounds",
            inspection.calls, inspection.rounds
        ));
    }
    Ok(inspection.view)
}

/// `--task ID|ARN`: the task as `DescribeTasks` returns it, as its Task State Change event.
/// Its cluster, region and account come from the ARN when it is one.
fn described_task(
    task: &str,
    cluster: Option<&str>,
    region: Option<&str>,
    role: &RoleArgs,
    reader: &mut Option<LiveReader>,
) -> Result<serde_json::Value> {
    use ecs_pull_doctor::trust;
    // An ARN names the task's region, account and cluster; an ID names none of them.
    let (arn_region, account, arn_cluster) = match task.strip_prefix("arn:") {
        None => (None, None, None),
        Some(_) => {
            let Some((arn_region, account)) = trust::arn_region_and_account(task)
                .filter(|(r, a)| trust::is_region(r) && trust::is_account_id(a))
            else {
                return Err(UsageError(format!(
                    "--task {task}: not a task ARN (arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID)"
                ))
                .into());
            };
            let arn_cluster = task
                .split_once(":task/")
                .and_then(|(_, path)| path.split_once('/'))
                .map(|(cluster, _)| cluster);
            (Some(arn_region), Some(account), arn_cluster)
        }
    };
    let Some(cluster) = cluster.or(arn_cluster) else {
        return Err(UsageError(format!(
            "--task {task}: give its --cluster (or the task's full ARN, which names it)"
        ))
        .into());
    };
    let region = region.or(arn_region);
    let reader = LiveReader::get(reader, region, role)?;
    let found = reader.runtime.block_on(async {
        let clients = reader.clients(account, region).await?;
        live::described_task(&clients, cluster, task)
            .await
            .map_err(|e| anyhow::anyhow!("{} failed ({})", e.action, e.message))
    })?;
    match found {
        Some(detail) => Ok(event::task_events(detail)?.remove(0)),
        None => bail!(
            "task {task} is not in cluster {cluster}: ECS keeps a stopped task for about an hour. \
             What still works: the service's events (aws ecs describe-services --cluster {cluster} --services SERVICE --query 'services[0].events[:5]'), \
             which name the failure, and `ecs-pull-doctor audit --live --cluster {cluster}`, which checks every service's pull path now"
        ),
    }
}

/// The command line's way to give what the diagnosis lacked.
fn how_to_give(missing: MissingInput) -> Localized {
    match missing {
        MissingInput::NetworkView => t!(
            "To inspect the network: pass --network FILE (a snapshot; docs/reference.md lists the AWS CLI commands that build one) or --live.",
            "네트워크를 점검하려면 --network FILE(스냅샷; 만드는 AWS CLI 명령은 `docs/reference.md` 참고) 또는 --live를 지정하세요."
        ),
        MissingInput::IpRanges => t!(
            "To name the owner of an address outside the VPC: {how}.",
            "VPC 밖 주소의 소유자를 알려면 `ecs-pull-doctor ip-ranges update`를 실행하거나(클론에서는 `make ip-ranges`) --ip-ranges FILE을 지정하거나 IP_RANGES_FILE을 설정하세요.",
            how = HOW_TO_LOAD_IP_RANGES
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
