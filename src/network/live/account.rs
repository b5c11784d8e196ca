//! The account-wide read an audit needs: clusters, services, their task definitions and
//! container instances, and every VPC their tasks pull from, in a few concurrent rounds.
//!
//! The calls grow with clusters, VPCs and distinct task definitions, not with services:
//! `ListServices` per cluster (paginated), `DescribeServices` ten at a time,
//! `DescribeTaskDefinition` once per distinct revision, one `DescribeSubnets` per 200
//! subnets, and the VPC-scoped reads once per VPC, shared by every service in it. Requests in
//! a round run with bounded concurrency; throttling is retried by the SDK's standard retry
//! policy, and what still fails is recorded with its scope (a cluster, a task definition, a
//! VPC), so only what depended on it is left uninspected.

use std::collections::BTreeSet;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::ContainerInstanceStatus;
use futures::stream::{self, StreamExt};

use super::{convert, failure, keep, vpc, Clients, Counter, Inspection};
use crate::network::{
    CapacityProvider, ContainerInstance, EcsDeployment, EcsService, InspectionError, NetworkView,
    Reservation, ServiceRevision, Subnet, TaskDefinition,
};

/// Requests in flight at once within a round.
const CONCURRENCY: usize = 8;
/// Groups of VPCs read at once (each group is seven list requests and two a VPC).
const VPC_CONCURRENCY: usize = 4;

/// What to read; everything in the region when both lists are empty.
#[derive(Debug, Clone, Default)]
pub struct AccountTarget {
    /// Cluster names or ARNs.
    pub clusters: Vec<String>,
    /// (cluster, service) names.
    pub services: Vec<(String, String)>,
    /// Task definitions to read besides the deployed ones (a planned change's).
    pub task_definitions: Vec<String>,
    /// Subnets to read besides the services' own (a planned change's).
    pub subnets: Vec<String>,
}

/// Progress of a long read, for a person watching: `(what, done, total)`.
pub type Progress<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

/// Reads what `audit` needs for `target`.
pub async fn inspect_account(
    clients: &Clients,
    target: &AccountTarget,
    progress: Progress<'_>,
) -> Inspection {
    let counter = &Counter(Default::default());
    let mut errors: Vec<InspectionError> = Vec::new();
    let mut rounds = 0;

    // Round 1: the clusters (named, or listed), and each cluster's service names.
    let named: BTreeSet<String> = target
        .clusters
        .iter()
        .cloned()
        .chain(target.services.iter().map(|(c, _)| c.clone()))
        .collect();
    let clusters: Vec<String> = if named.is_empty() {
        rounds += 1;
        match list_clusters(clients, counter).await {
            Ok(arns) => arns,
            Err(e) => {
                errors.push(e);
                vec![]
            }
        }
    } else {
        named.into_iter().collect()
    };
    progress("clusters", clusters.len(), clusters.len());

    // Round 2: the services of each cluster not narrowed to named services.
    let listing: Vec<&String> = clusters
        .iter()
        .filter(|c| {
            target.clusters.contains(c)
                || target.services.is_empty()
                || !target.services.iter().any(|(sc, _)| sc == *c)
        })
        .collect();
    let mut wanted: Vec<(String, Vec<String>)> = clusters
        .iter()
        .filter(|c| !listing.contains(c))
        .map(|c| {
            let names = target
                .services
                .iter()
                .filter(|(sc, _)| sc == c)
                .map(|(_, s)| s.clone())
                .collect();
            (c.clone(), names)
        })
        .collect();
    if !listing.is_empty() {
        rounds += 1;
        let listed: Vec<(String, Result<Vec<String>, InspectionError>)> = stream::iter(listing)
            .map(|cluster| async {
                (
                    cluster.clone(),
                    list_services(clients, cluster, counter).await,
                )
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (cluster, result) in listed {
            match result {
                Ok(arns) => wanted.push((cluster, arns)),
                Err(e) => errors.push(e),
            }
        }
    }
    wanted.sort();

    // Round 3: DescribeServices, ten at a time.
    let batches: Vec<(String, Vec<String>)> = wanted
        .iter()
        .flat_map(|(cluster, names)| {
            names
                .chunks(10)
                .map(move |chunk| (cluster.clone(), chunk.to_vec()))
        })
        .collect();
    let total_batches = batches.len();
    rounds += 1;
    let described: Vec<(Vec<EcsService>, Option<InspectionError>)> = stream::iter(batches)
        .map(|(cluster, names)| async move {
            describe_services(clients, &cluster, &names, counter).await
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut services = Vec::new();
    for (done, (found, error)) in described.into_iter().enumerate() {
        services.extend(found);
        errors.extend(error);
        progress("service batches", done + 1, total_batches);
    }
    // MISSING services are reported as errors by describe_services; INACTIVE ones stay (the
    // audit skips them) so a named one is known to exist.
    // Each ACTIVE service with the deployments whose tasks start, worked out once.
    let starting: Vec<(&EcsService, Vec<EcsDeployment>)> = services
        .iter()
        .filter(|s| s.status.as_deref().is_none_or(|st| st == "ACTIVE"))
        .map(|s| (s, s.starting_deployments()))
        .collect();

    // Round 4: distinct task definitions, and the container instances of clusters whose
    // services run on instances (three sequential calls), concurrently.
    let mut task_definitions: BTreeSet<String> = target.task_definitions.iter().cloned().collect();
    for (_, deployments) in &starting {
        task_definitions.extend(deployments.iter().filter_map(|d| d.task_definition.clone()));
    }
    // The non-Fargate capacity providers named, by cluster (a Managed Instances provider's
    // network configuration is where its instances launch).
    let mut providers: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for (service, deployments) in &starting {
        let cluster = service.cluster_arn.clone().unwrap_or_default();
        let strategies = deployments
            .iter()
            .flat_map(|d| &d.capacity_provider_strategy)
            .chain(&service.capacity_provider_strategy);
        for item in strategies {
            if item.capacity_provider != "FARGATE" && item.capacity_provider != "FARGATE_SPOT" {
                providers
                    .entry(cluster.clone())
                    .or_default()
                    .insert(item.capacity_provider.clone());
            }
        }
    }
    let instance_clusters: BTreeSet<String> = starting
        .iter()
        .filter(|(service, deployments)| {
            matches!(
                service.launch_type_of(deployments.first()).as_deref(),
                Some("EC2") | Some("MANAGED_INSTANCES")
            )
        })
        .filter_map(|(service, _)| service.cluster_arn.clone())
        .collect();
    let total_definitions = task_definitions.len();
    let (definitions, instances, described_providers) = tokio::join!(
        stream::iter(task_definitions)
            .map(|td| async move { describe_task_definition(clients, &td, counter).await })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>(),
        stream::iter(instance_clusters.clone())
            .map(|cluster| async move { container_instances(clients, &cluster, counter).await })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>(),
        stream::iter(providers.clone())
            .map(|(cluster, names)| async move {
                capacity_providers(clients, &cluster, names, counter).await
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>(),
    );
    let mut capacity_providers_read = None;
    for result in described_providers {
        match result {
            Ok(found) => capacity_providers_read
                .get_or_insert_with(Vec::new)
                .extend(found),
            Err(e) => errors.push(e),
        }
    }
    rounds += if instance_clusters.is_empty() { 1 } else { 3 };
    let mut definitions_read: Vec<TaskDefinition> = Vec::new();
    for result in definitions {
        match result {
            Ok(td) => definitions_read.push(td),
            Err(e) => errors.push(e),
        }
    }
    progress(
        "task definitions",
        definitions_read.len(),
        total_definitions,
    );
    let mut container_instances: Option<Vec<ContainerInstance>> = None;
    let mut reservations: Option<Vec<Reservation>> = None;
    if !instance_clusters.is_empty() {
        container_instances = Some(Vec::new());
        reservations = Some(Vec::new());
    }
    for result in instances {
        match result {
            Ok((found, instances)) => {
                container_instances
                    .get_or_insert_with(Vec::new)
                    .extend(found);
                reservations.get_or_insert_with(Vec::new).extend(instances);
            }
            Err(e) => errors.push(e),
        }
    }

    // Round 5: every subnet the tasks pull from.
    let mut subnet_ids: BTreeSet<String> = target.subnets.iter().cloned().collect();
    for deployment in starting.iter().flat_map(|(_, deployments)| deployments) {
        if let Some(a) = deployment.awsvpc() {
            subnet_ids.extend(a.subnets.iter().cloned());
        }
    }
    for instance in reservations
        .iter()
        .flatten()
        .flat_map(|r| r.instances.iter())
    {
        subnet_ids.extend(instance.pulling_interface().subnet_id);
    }
    // Where a Managed Instances provider launches its instances.
    for provider in capacity_providers_read.iter().flatten() {
        if let Some(network) = provider.managed_instances_network() {
            subnet_ids.extend(network.subnets.iter().cloned());
        }
    }
    let subnet_ids: Vec<String> = subnet_ids.into_iter().collect();
    let mut subnets: Option<Vec<Subnet>> = None;
    if !subnet_ids.is_empty() {
        rounds += 1;
        let read: Vec<Result<Vec<Subnet>, InspectionError>> = stream::iter(subnet_ids.chunks(200))
            .map(|chunk| async { describe_subnets(clients, chunk, counter).await })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for result in read {
            if let Some(found) = keep(result, &mut errors) {
                subnets.get_or_insert_with(Vec::new).extend(found);
            }
        }
    }

    // Round 6 (and 7 for endpoint interfaces an emulator types otherwise): each VPC once,
    // and the region's prefix lists once.
    let vpcs: BTreeSet<String> = subnets
        .iter()
        .flatten()
        .filter_map(|s| s.vpc_id.clone())
        .collect();
    let total_vpcs = vpcs.len();
    let mut view = NetworkView {
        subnets,
        services: Some(services),
        task_definitions: Some(definitions_read),
        container_instances,
        reservations,
        capacity_providers: capacity_providers_read,
        ..NetworkView::default()
    };
    if !vpcs.is_empty() {
        let (parts, prefix_lists) = tokio::join!(
            stream::iter(
                vpcs.into_iter()
                    .collect::<Vec<_>>()
                    .chunks(vpc::VPCS_PER_READ)
                    .map(<[String]>::to_vec)
                    .collect::<Vec<_>>()
            )
            .map(|group| async move {
                (
                    group.len(),
                    vpc::read_vpcs(&clients.ec2, &group, counter).await,
                )
            })
            .buffer_unordered(VPC_CONCURRENCY)
            .collect::<Vec<_>>(),
            vpc::read_prefix_lists(&clients.ec2, counter)
        );
        view.prefix_lists = keep(prefix_lists, &mut errors);
        let mut deepest = 1;
        let mut done = 0;
        for (group, (part, part_rounds)) in parts {
            deepest = deepest.max(part_rounds);
            view.absorb(part);
            done += group;
            progress("VPCs", done, total_vpcs);
        }
        rounds += deepest;
    }
    view.inspection_errors
        .get_or_insert_with(Vec::new)
        .extend(errors);
    if view.inspection_errors.as_ref().is_some_and(Vec::is_empty) {
        view.inspection_errors = None;
    }
    Inspection {
        view,
        calls: counter.0.load(std::sync::atomic::Ordering::Relaxed),
        rounds,
    }
}

impl NetworkView {
    /// Takes in another VPC's parts (each list appended; a part read nowhere stays absent).
    pub fn absorb(&mut self, other: NetworkView) {
        fn join<T>(mine: &mut Option<Vec<T>>, theirs: Option<Vec<T>>) {
            if let Some(items) = theirs {
                mine.get_or_insert_with(Vec::new).extend(items);
            }
        }
        join(&mut self.vpcs, other.vpcs);
        join(&mut self.vpc_attributes, other.vpc_attributes);
        join(&mut self.subnets, other.subnets);
        join(&mut self.route_tables, other.route_tables);
        join(&mut self.vpc_endpoints, other.vpc_endpoints);
        join(&mut self.security_groups, other.security_groups);
        join(&mut self.network_acls, other.network_acls);
        join(&mut self.nat_gateways, other.nat_gateways);
        join(&mut self.internet_gateways, other.internet_gateways);
        join(&mut self.prefix_lists, other.prefix_lists);
        join(&mut self.network_interfaces, other.network_interfaces);
        join(&mut self.services, other.services);
        join(&mut self.container_instances, other.container_instances);
        join(&mut self.reservations, other.reservations);
        join(&mut self.task_definitions, other.task_definitions);
        join(&mut self.capacity_providers, other.capacity_providers);
        join(&mut self.inspection_errors, other.inspection_errors);
    }
}

fn scoped(mut error: InspectionError, scope: &str) -> InspectionError {
    error.scope = Some(scope.to_string());
    error
}

async fn list_clusters(
    clients: &Clients,
    counter: &Counter,
) -> Result<Vec<String>, InspectionError> {
    let mut pages = clients
        .ecs
        .list_clusters()
        .into_paginator()
        .page_size(100)
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        counter.add();
        let page = page.map_err(|e| failure("Clusters", "ecs:ListClusters", &e))?;
        out.extend(page.cluster_arns().iter().cloned());
    }
    Ok(out)
}

async fn list_services(
    clients: &Clients,
    cluster: &str,
    counter: &Counter,
) -> Result<Vec<String>, InspectionError> {
    let mut pages = clients
        .ecs
        .list_services()
        .cluster(cluster)
        .into_paginator()
        .page_size(100)
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        counter.add();
        let page =
            page.map_err(|e| scoped(failure("Services", "ecs:ListServices", &e), cluster))?;
        out.extend(page.service_arns().iter().cloned());
    }
    Ok(out)
}

/// The services found, and an error naming any that could not be described.
async fn describe_services(
    clients: &Clients,
    cluster: &str,
    names: &[String],
    counter: &Counter,
) -> (Vec<EcsService>, Option<InspectionError>) {
    counter.add();
    let out = match clients
        .ecs
        .describe_services()
        .cluster(cluster)
        .set_services(Some(names.to_vec()))
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let mut error = scoped(failure("Services", "ecs:DescribeServices", &e), cluster);
            error.message = format!("{} (services: {})", error.message, names.join(", "));
            return (vec![], Some(error));
        }
    };
    // A named service that does not exist is said, not silently dropped.
    let missing = out.failures().first().map(|first| InspectionError {
        part: "Services".into(),
        action: "ecs:DescribeServices".into(),
        message: format!(
            "{}: {}",
            first.reason().unwrap_or("MISSING"),
            out.failures()
                .iter()
                .filter_map(|f| f.arn())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        scope: Some(cluster.to_string()),
    });
    (
        out.services().iter().map(convert::ecs_service).collect(),
        missing,
    )
}

async fn describe_task_definition(
    clients: &Clients,
    reference: &str,
    counter: &Counter,
) -> Result<TaskDefinition, InspectionError> {
    counter.add();
    let out = clients
        .ecs
        .describe_task_definition()
        .task_definition(reference)
        .send()
        .await
        .map_err(|e| {
            scoped(
                failure("TaskDefinitions", "ecs:DescribeTaskDefinition", &e),
                reference,
            )
        })?;
    let mut td = out
        .task_definition()
        .map(convert::task_definition)
        .unwrap_or_default();
    // Keep the name the deployment used, so the audit finds it by that name.
    if td.task_definition_arn.is_none() {
        td.task_definition_arn = Some(reference.to_string());
    }
    Ok(td)
}

/// The cluster's capacity providers of these names.
async fn capacity_providers(
    clients: &Clients,
    cluster: &str,
    names: BTreeSet<String>,
    counter: &Counter,
) -> Result<Vec<CapacityProvider>, InspectionError> {
    counter.add();
    let out = clients
        .ecs
        .describe_capacity_providers()
        .cluster(cluster)
        .set_capacity_providers(Some(names.into_iter().collect()))
        .send()
        .await
        .map_err(|e| {
            scoped(
                failure("CapacityProviders", "ecs:DescribeCapacityProviders", &e),
                crate::network::cluster_name(cluster),
            )
        })?;
    Ok(out
        .capacity_providers()
        .iter()
        .map(convert::capacity_provider)
        .collect())
}

/// The service revision a deployment lifecycle hook names.
pub async fn service_revision(
    clients: &Clients,
    arn: &str,
) -> Result<ServiceRevision, InspectionError> {
    let out = clients
        .ecs
        .describe_service_revisions()
        .service_revision_arns(arn)
        .send()
        .await
        .map_err(|e| {
            scoped(
                failure("ServiceRevisions", "ecs:DescribeServiceRevisions", &e),
                arn,
            )
        })?;
    if let Some(revision) = out.service_revisions().first() {
        return Ok(convert::service_revision(revision));
    }
    let why = out
        .failures()
        .first()
        .and_then(|f| f.reason())
        .unwrap_or("not returned");
    Err(InspectionError {
        part: "ServiceRevisions".into(),
        action: "ecs:DescribeServiceRevisions".into(),
        message: format!("{why}: {arn}"),
        scope: Some(arn.to_string()),
    })
}

/// The cluster's ACTIVE container instances and their EC2 instances.
async fn container_instances(
    clients: &Clients,
    cluster: &str,
    counter: &Counter,
) -> Result<(Vec<ContainerInstance>, Vec<Reservation>), InspectionError> {
    let name = crate::network::cluster_name(cluster).to_string();
    let mut pages = clients
        .ecs
        .list_container_instances()
        .cluster(cluster)
        .status(ContainerInstanceStatus::Active)
        .into_paginator()
        .page_size(100)
        .send();
    let mut arns = Vec::new();
    while let Some(page) = pages.next().await {
        counter.add();
        let page = page.map_err(|e| {
            scoped(
                failure("ContainerInstances", "ecs:ListContainerInstances", &e),
                &name,
            )
        })?;
        arns.extend(page.container_instance_arns().iter().cloned());
    }
    let mut found = Vec::new();
    for chunk in arns.chunks(100) {
        counter.add();
        let out = clients
            .ecs
            .describe_container_instances()
            .cluster(cluster)
            .set_container_instances(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| {
                scoped(
                    failure("ContainerInstances", "ecs:DescribeContainerInstances", &e),
                    &name,
                )
            })?;
        found.extend(
            out.container_instances()
                .iter()
                .map(convert::container_instance),
        );
    }
    let ids: Vec<String> = found
        .iter()
        .filter_map(|c| c.ec2_instance_id.clone())
        .collect();
    let mut reservations = Vec::new();
    for chunk in ids.chunks(100) {
        let mut pages = clients
            .ec2
            .describe_instances()
            .set_instance_ids(Some(chunk.to_vec()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            counter.add();
            let page = page
                .map_err(|e| scoped(failure("Reservations", "ec2:DescribeInstances", &e), &name))?;
            reservations.extend(page.reservations().iter().map(convert::reservation));
        }
    }
    Ok((found, reservations))
}

/// The subnets; when one of them does not exist (EC2 then refuses the whole call), each is
/// read alone, so one stale ID in a service's configuration costs only that subnet.
async fn describe_subnets(
    clients: &Clients,
    ids: &[String],
    counter: &Counter,
) -> Result<Vec<Subnet>, InspectionError> {
    let read = |ids: Vec<String>| async move {
        counter.add();
        clients
            .ec2
            .describe_subnets()
            .set_subnet_ids(Some(ids))
            .send()
            .await
    };
    match read(ids.to_vec()).await {
        Ok(out) => Ok(out.subnets().iter().map(convert::subnet).collect()),
        Err(e) if e.code() == Some("InvalidSubnetID.NotFound") && ids.len() > 1 => {
            let each: Vec<_> = stream::iter(ids.iter().cloned())
                .map(|id| read(vec![id]))
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            // A subnet that does not exist is said by the rules ("not in the view"); any
            // other failure is the read's.
            let mut found = Vec::new();
            for out in each {
                match out {
                    Ok(out) => found.extend(out.subnets().iter().map(convert::subnet)),
                    Err(e) if e.code() == Some("InvalidSubnetID.NotFound") => {}
                    Err(e) => return Err(failure("Subnets", "ec2:DescribeSubnets", &e)),
                }
            }
            Ok(found)
        }
        Err(e) => Err(failure("Subnets", "ec2:DescribeSubnets", &e)),
    }
}
