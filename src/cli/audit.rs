//! `audit`: every selected service's pull path, from a snapshot or the live account (or
//! several accounts), as text, JSON or Markdown; its exit status says blocked or unknown.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Result};

use ecs_pull_doctor::audit;
use ecs_pull_doctor::localized::{Lang, Localized};
use ecs_pull_doctor::network::source::NetworkSource;
use ecs_pull_doctor::network::{live, snapshot};
use ecs_pull_doctor::render::{self, Format};
use ecs_pull_doctor::tfplan;

use super::args::{parse_service, role_needs_live, OutputArgs};
use super::output::{emit, load_ip_ranges, pretty, runtime, say};
use super::Command;

/// Runs the audit and returns its exit status (0 all ok, 1 blocked, 3 unknown).
pub(crate) fn run(command: Command) -> Result<ExitCode> {
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
        plan,
        role,
        ip_ranges,
        output: OutputArgs { format, lang },
    } = command
    else {
        unreachable!("run_audit is called for the audit command");
    };
    role_needs_live(&role, live)?;
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
    // Read before the account, so a wrong file fails at once.
    let plan = match &plan {
        Some(path) => {
            let bytes =
                ecs_pull_doctor::files::read_bytes(path, ecs_pull_doctor::files::Kind::Plan)?;
            Some(tfplan::Plan::parse(&path.display().to_string(), &bytes)?)
        }
        None => None,
    };
    let ranges = load_ip_ranges(&ip_ranges)?;
    let stand_in = |view: &mut ecs_pull_doctor::network::NetworkView| {
        if let Some(ranges) = &ranges {
            view.stand_in_for_unread_s3_prefix_lists(ranges);
        }
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
            for mut read in accounts_read {
                stand_in(&mut read.view);
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
        let region = match (region, view.region()) {
            (Some(given), Some(own)) if given != own => bail!(
                "{}: the snapshot is of {own}; --region {given} would put the wrong region in every cause and command (leave --region out)",
                path.display()
            ),
            (_, Some(own)) => own,
            (Some(given), None) => given,
            (None, None) => bail!(
                "{}: no region in the snapshot's service ARNs or subnets; pass --region",
                path.display()
            ),
        };
        (view, region, None)
    };
    if let Some(not_in) = selection.not_in(&view) {
        bail!("{not_in}");
    }
    let mut view = view;
    stand_in(&mut view);
    if let Some(plan) = plan {
        let preflight = tfplan::preflight(&plan, &view, &region, &selection);
        match format {
            Format::Json => emit(&pretty(&render::tfplan::preflight_json(&preflight, lang))?)?,
            Format::Markdown => emit(&render::tfplan::preflight_markdown(&preflight, lang))?,
            Format::Text => emit(&render::tfplan::preflight_text(&preflight, lang))?,
        }
        return Ok(ExitCode::from(preflight.exit_status()));
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
