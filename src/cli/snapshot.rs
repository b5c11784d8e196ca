//! `snapshot`: captures the network around a subnet, or what `audit --network` reads for
//! some clusters, in the snapshot format.

use anyhow::{bail, Result};

use ecs_pull_doctor::network::live;

use super::args::parse_service;
use super::output::{emit, pretty, runtime};
use super::Command;

/// Reads the account live and prints the view as a snapshot.
pub(crate) fn run(command: Command) -> Result<()> {
    let Command::Snapshot {
        subnet,
        clusters,
        container_instance,
        service,
        region,
        account,
        role,
    } = command
    else {
        unreachable!("called for its own command only");
    };
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
    Ok(())
}
