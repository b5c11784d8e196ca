//! AWS services behind interface endpoints (ECR API and registry, Secrets Manager, SSM, CloudWatch
//! Logs): their endpoint, its DNS, its security groups, or the way out when there is none.

use super::*;

impl<'a> Rules<'a> {
    // ---- interface-endpoint services -----------------------------------------------------

    pub(super) fn evaluate_service(&mut self, short: &str, service_region: &str) {
        let Some((table, _)) = self.table else { return };
        let service_name = format!("com.amazonaws.{service_region}.{short}");
        if self.view.vpc_endpoints.is_none() {
            self.not_inspected.push(t!(
                "VPC endpoints (VpcEndpoints)",
                "VPC 엔드포인트(VpcEndpoints)"
            ));
        }
        let endpoints: Vec<&VpcEndpoint> = self
            .view
            .endpoints_for(&self.vpc_id, &service_name)
            .into_iter()
            .filter(|e| e.is_interface())
            .collect();
        let ip = self.probe.dialled;
        let public_ip_dialled = ip.is_some();

        if let Some(endpoint) = endpoints.iter().find(|e| e.is_available()).copied() {
            let private_dns = endpoint.private_dns_enabled.unwrap_or(false);
            let dns_problem = self.endpoint_dns_problem(endpoint, private_dns);
            let destination = match ip {
                Some(ip) => Destination::Ip(ip),
                None => Destination::AnyPublic { ipv6: false },
            };
            let verdict = self.route_verdict(route_for(self.view, table, &destination));
            if public_ip_dialled || dns_problem.is_some() {
                // The name resolved to a public address, so the endpoint was bypassed.
                match dns_problem {
                    Some(finding) if !verdict.is_usable() => self.findings.push(finding),
                    Some(_) => {
                        self.open_path.push(t!(
                            "{service_name} resolves publicly, and the traffic leaves through {via}.",
                            "{service_name}은(는) 퍼블릭 주소로 해석되며 트래픽은 {via}를 통해 나갑니다.",
                            via = verdict.via()
                        ));
                        self.check_filters(&peer_for(ip), &service_name);
                    }
                    None if verdict.is_usable() => {
                        self.open_path.push(t!(
                            "The task dialled a public address of {service_name} and the traffic leaves through {via}.",
                            "태스크가 {service_name}의 퍼블릭 주소로 연결했고 트래픽은 {via}를 통해 나갑니다.",
                            via = verdict.via()
                        ));
                        self.check_filters(&peer_for(ip), &service_name);
                    }
                    None => {
                        self.not_inspected.push(t!(
                            "why {service_name} resolved to a public address although {vpce} has private DNS: the VPC's DHCP options and Route 53 Resolver rules were not inspected",
                            "{vpce}에 프라이빗 DNS가 켜져 있는데도 {service_name}이(가) 퍼블릭 주소로 해석된 이유: VPC DHCP 옵션과 Route 53 Resolver 규칙은 점검하지 않음",
                            vpce = endpoint.vpc_endpoint_id
                        ));
                        self.push_route_problem(&verdict, &service_name);
                    }
                }
                return;
            }
            self.check_endpoint_path(endpoint, None);
            return;
        }

        if let Some(endpoint) = endpoints.first() {
            self.not_inspected.push(t!(
                "interface endpoint {vpce} for {service_name} is in state {state}, not available",
                "{service_name}용 인터페이스 엔드포인트 {vpce}의 상태가 available이 아니라 {state}입니다",
                vpce = endpoint.vpc_endpoint_id,
                state = endpoint.state.as_deref().unwrap_or("unknown")
            ));
        }
        let destination = match ip {
            Some(ip) => Destination::Ip(ip),
            None => Destination::AnyPublic { ipv6: false },
        };
        // A private address outside this VPC: the name resolved to an endpoint elsewhere
        // (centralised endpoints in a hub VPC, shared through a private hosted zone), so this
        // VPC needing its own endpoint is not the question; the route to that address is.
        let hub_endpoint = ip.filter(|ip| is_private(*ip));
        if let Some(ip) = hub_endpoint {
            self.open_path.push(t!(
                "The task dialled {ip}, a private address outside the VPC: {service_name} resolves to an endpoint elsewhere (a hub VPC's, shared through a private hosted zone).",
                "태스크가 VPC 밖의 프라이빗 주소 {ip}로 연결했습니다. {service_name}이(가) 다른 곳(허브 VPC, 공유된 프라이빗 호스팅 영역)의 엔드포인트로 해석됩니다."
            ));
        }
        let verdict = self.route_verdict(route_for(self.view, table, &destination));
        if verdict.is_usable() {
            self.open_path.push(t!(
                "{service_name} is reached through {via}.",
                "{service_name}에는 {via}를 통해 접근합니다.",
                via = verdict.via()
            ));
            self.check_filters(&peer_for(ip), &service_name);
            return;
        }
        if self.push_route_problem(&verdict, &service_name) {
            return;
        }
        if hub_endpoint.is_some() {
            self.push_no_route(table, &service_name, false);
            return;
        }
        if self.view.vpc_endpoints.is_none() || service_region != self.region {
            self.push_no_route(table, &service_name, service_region != self.region);
            return;
        }
        self.push_interface_endpoint_missing(table, short, &service_name);
    }

    pub(super) fn endpoint_dns_problem(
        &self,
        endpoint: &VpcEndpoint,
        private_dns: bool,
    ) -> Option<Finding> {
        let vpce = endpoint.vpc_endpoint_id.as_str();
        let service = endpoint.service_name.as_deref().unwrap_or("?");
        if !private_dns {
            return Some(Finding {
                code: Code::EndpointPrivateDnsDisabled,
                severity: Code::EndpointPrivateDnsDisabled.severity(),
                summary: t!(
                    "Interface endpoint {vpce} ({service}) has private DNS turned off, so the service's usual name resolves to public addresses the subnet cannot reach.",
                    "인터페이스 엔드포인트 {vpce}({service})의 프라이빗 DNS가 꺼져 있어 서비스 기본 이름이 서브넷에서 접근할 수 없는 퍼블릭 주소로 해석됩니다."
                ),
                evidence: vec![t!(
                    "{vpce}: PrivateDnsEnabled is false.",
                    "{vpce}: PrivateDnsEnabled가 false입니다."
                )],
                fix: t!(
                    "Turn on private DNS for the endpoint.",
                    "엔드포인트의 프라이빗 DNS를 켜세요."
                ),
                commands: vec![format!(
                    "aws ec2 modify-vpc-endpoint --region {region} --vpc-endpoint-id {vpce} --private-dns-enabled",
                    region = self.region
                )],
                remedy: None,
            });
        }
        let attributes = self.view.vpc_attributes(&self.vpc_id)?;
        let support = attributes.enable_dns_support.map(|v| v.value);
        let hostnames = attributes.enable_dns_hostnames.map(|v| v.value);
        let mut off = Vec::new();
        if support == Some(false) {
            off.push("enableDnsSupport");
        }
        if hostnames == Some(false) {
            off.push("enableDnsHostnames");
        }
        if off.is_empty() {
            return None;
        }
        let vpc = self.vpc_id.as_str();
        let list = off.join(", ");
        Some(Finding {
            code: Code::VpcDnsDisabled,
            severity: Code::VpcDnsDisabled.severity(),
            summary: t!(
                "VPC {vpc} has {list} turned off, so the private DNS name of endpoint {vpce} ({service}) does not resolve to it.",
                "VPC {vpc}의 {list}이(가) 꺼져 있어 엔드포인트 {vpce}({service})의 프라이빗 DNS 이름이 엔드포인트로 해석되지 않습니다."
            ),
            evidence: vec![t!(
                "{vpc}: {list} = false; interface endpoints' private DNS needs both attributes on.",
                "{vpc}: {list} = false. 인터페이스 엔드포인트의 프라이빗 DNS에는 두 속성이 모두 켜져 있어야 합니다."
            )],
            fix: t!(
                "Turn on both DNS attributes of the VPC (one attribute per call).",
                "VPC의 DNS 속성 두 가지를 모두 켜세요(호출당 속성 하나)."
            ),
            commands: off
                .iter()
                .map(|attr| {
                    let flag = if *attr == "enableDnsSupport" { "--enable-dns-support" } else { "--enable-dns-hostnames" };
                    format!(
                        "aws ec2 modify-vpc-attribute --region {region} --vpc-id {vpc} {flag} '{{\"Value\":true}}'",
                        region = self.region
                    )
                })
                .collect(),
            remedy: None,
        })
    }

    pub(super) fn push_interface_endpoint_missing(
        &mut self,
        table: &RouteTable,
        short: &str,
        service_name: &str,
    ) {
        let vpc = self.vpc_id.clone();
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.extend(self.owner_evidence());
        evidence.push(t!(
            "VPC {vpc} has no interface endpoint for {service_name}, and {rtb} has no default route (0.0.0.0/0) to reach its public address.",
            "VPC {vpc}에 {service_name} 인터페이스 엔드포인트가 없고, {rtb}에는 퍼블릭 주소로 갈 기본 경로(0.0.0.0/0)도 없습니다.",
            rtb = table.route_table_id
        ));
        let sg_hint = if self.task_group_ids.is_empty() {
            t!(
                "a security group that admits TCP 443 from the task subnet ({cidr})",
                "태스크 서브넷({cidr})에서 오는 TCP 443을 허용하는 보안 그룹",
                cidr = self.subnet.cidr_block.as_deref().unwrap_or("?")
            )
        } else {
            t!(
                "a security group that admits TCP 443 from the task's groups ({groups})",
                "태스크 보안 그룹({groups})에서 오는 TCP 443을 허용하는 보안 그룹",
                groups = self.task_group_ids.join(", ")
            )
        };
        let also = match short {
            "ecr.api" | "ecr.dkr" => t!(
                " An ECR pull needs ecr.api, ecr.dkr and the S3 gateway endpoint together.",
                " ECR 이미지를 받으려면 ecr.api, ecr.dkr 엔드포인트와 S3 게이트웨이 엔드포인트가 모두 필요합니다."
            ),
            _ => Localized::default(),
        };
        // An interface endpoint takes one subnet per availability zone.
        let mut subnets_by_zone = std::collections::BTreeMap::new();
        for subnet in self.service_subnets() {
            let zone = self
                .view
                .subnet(&subnet)
                .and_then(|s| s.availability_zone.clone())
                .unwrap_or_else(|| subnet.clone());
            subnets_by_zone.entry(zone).or_insert(subnet);
        }
        let remedy = Remedy::CreateInterfaceEndpoint {
            region: self.region.to_string(),
            vpc_id: vpc.clone(),
            service_name: service_name.to_string(),
            subnets_by_zone,
            security_group: self.endpoint_group_admitting_task(),
        };
        self.findings.push(Finding {
            code: Code::InterfaceEndpointMissing,
            severity: Code::InterfaceEndpointMissing.severity(),
            summary: t!(
                "Subnet {subnet} has no way to reach {service_name}: the VPC has no interface endpoint for it and no default route.",
                "서브넷 {subnet}에서 {service_name}에 접근할 방법이 없습니다. VPC에 해당 인터페이스 엔드포인트도, 기본 경로도 없습니다.",
                subnet = self.subnet.subnet_id
            ),
            evidence,
            fix: t!(
                "Create the interface endpoint in the task subnets with private DNS on, attached to {sg}.{also}",
                "태스크 서브넷에 프라이빗 DNS를 켠 인터페이스 엔드포인트를 만들고 {sg}을(를) 연결하세요.{also}",
                sg = sg_hint,
                also = also
            ),
            commands: vec![remedy.command()],
            remedy: Some(remedy),
        });
    }

    /// An interface endpoint is on the path: its security groups must admit the task, the
    /// task's must let 443 out to it, and the subnet's NACL must pass both directions.
    pub(super) fn check_endpoint_path(&mut self, endpoint: &VpcEndpoint, dialled: Option<IpAddr>) {
        let vpce = endpoint.vpc_endpoint_id.as_str();
        let service = endpoint.service_name.as_deref().unwrap_or("?");
        self.open_path.push(t!(
            "{service} is served inside the VPC by interface endpoint {vpce} (private DNS {dns}).",
            "{service}은(는) VPC 안의 인터페이스 엔드포인트 {vpce}가 처리합니다(프라이빗 DNS {dns}).",
            dns = if endpoint.private_dns_enabled.unwrap_or(false) { "on" } else { "off" }
        ));
        let endpoint_group_ids: Vec<String> =
            endpoint.groups.iter().map(|g| g.group_id.clone()).collect();
        let endpoint_nets: Vec<IpNet> = match dialled {
            Some(ip) => vec![IpNet::from(ip)],
            None => self.endpoint_addresses(endpoint),
        };

        // The endpoint's own security groups must admit the task.
        if self.view.security_groups.is_some() {
            let groups: Vec<&SecurityGroup> = endpoint_group_ids
                .iter()
                .filter_map(|id| self.view.security_group(id))
                .collect();
            if groups.len() < endpoint_group_ids.len() || groups.is_empty() {
                self.not_inspected.push(t!(
                    "the security groups of {vpce} ({ids}): not in the view",
                    "{vpce}의 보안 그룹({ids}): 네트워크 정보에 없음",
                    ids = endpoint_group_ids.join(", ")
                ));
            } else {
                let task_peer = self.task_peer();
                if groups_admit(self.view, &groups, false, &task_peer, HTTPS) {
                    self.open_path.push(t!(
                        "The security groups of {vpce} admit TCP 443 from the task.",
                        "{vpce}의 보안 그룹은 태스크에서 오는 TCP 443을 허용합니다."
                    ));
                } else {
                    self.push_endpoint_sg_blocks(endpoint, &groups);
                }
            }
        }
        let peer = Peer {
            nets: endpoint_nets,
            prefix_list_ids: vec![],
            group_ids: endpoint_group_ids,
        };
        self.check_filters(&peer, service);
    }

    /// The endpoint's network interface addresses, else its subnets' CIDRs.
    pub(super) fn endpoint_addresses(&self, endpoint: &VpcEndpoint) -> Vec<IpNet> {
        let from_enis: Vec<IpNet> = endpoint
            .network_interface_ids
            .iter()
            .filter_map(|id| {
                self.view
                    .network_interfaces
                    .as_deref()?
                    .iter()
                    .find(|n| &n.network_interface_id == id)?
                    .private_ip_address
                    .as_deref()?
                    .parse::<IpAddr>()
                    .ok()
                    .map(IpNet::from)
            })
            .collect();
        if !from_enis.is_empty() {
            return from_enis;
        }
        endpoint
            .subnet_ids
            .iter()
            .filter_map(|id| self.view.subnet(id)?.cidr_block.as_deref()?.parse().ok())
            .collect()
    }

    pub(super) fn push_endpoint_sg_blocks(
        &mut self,
        endpoint: &VpcEndpoint,
        groups: &[&SecurityGroup],
    ) {
        let vpce = endpoint.vpc_endpoint_id.as_str();
        let service = endpoint.service_name.as_deref().unwrap_or("?");
        let group = groups[0].group_id.as_str();
        let ids = groups
            .iter()
            .map(|g| g.group_id.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let source = match self.task_group_ids.first() {
            Some(task_group) => format!("--source-group {task_group}"),
            None => format!(
                "--cidr {}",
                self.subnet
                    .cidr_block
                    .as_deref()
                    .unwrap_or("<task-subnet-cidr>")
            ),
        };
        let from = if self.task_group_ids.is_empty() {
            Localized::same(self.probe.from.private_ip.map_or_else(
                || self.subnet.cidr_block.clone().unwrap_or_default(),
                |ip| {
                    format!(
                        "{ip} / {}",
                        self.subnet.cidr_block.as_deref().unwrap_or("?")
                    )
                },
            ))
        } else {
            Localized::same(self.task_group_ids.join(", "))
        };
        self.findings.push(Finding {
            code: Code::EndpointSgBlocksHttps,
            severity: Code::EndpointSgBlocksHttps.severity(),
            summary: t!(
                "The security groups of interface endpoint {vpce} ({service}) do not admit TCP 443 from the task, so its connections time out.",
                "인터페이스 엔드포인트 {vpce}({service})의 보안 그룹이 태스크에서 오는 TCP 443을 허용하지 않아 연결 시간이 초과됩니다."
            ),
            evidence: vec![
                t!(
                    "{vpce} uses {ids}; no inbound rule admits TCP 443 from {from}.",
                    "{vpce}는 {ids}를 사용하며, {from}에서 오는 TCP 443을 허용하는 인바운드 규칙이 없습니다.",
                    from = from
                ),
            ],
            fix: t!(
                "Allow TCP 443 into the endpoint's security group from the task's security group (or subnet).",
                "엔드포인트 보안 그룹에 태스크 보안 그룹(또는 서브넷)에서 오는 TCP 443 인바운드를 허용하세요."
            ),
            commands: vec![format!(
                "aws ec2 authorize-security-group-ingress --region {region} --group-id {group} --protocol tcp --port 443 {source}",
                region = self.region
            )],
            remedy: None,
        });
    }

    /// The subnets the service places tasks in (an endpoint should cover all of their
    /// zones), else the task's own subnet.
    pub(super) fn service_subnets(&self) -> Vec<String> {
        let from_service = self
            .probe
            .from
            .workload
            .as_ref()
            .map(|w| w.subnets.clone())
            .filter(|s| !s.is_empty());
        from_service.unwrap_or_else(|| vec![self.subnet.subnet_id.clone()])
    }

    /// A security group already used by the VPC's interface endpoints that admits TCP 443
    /// from the task: the natural group for a new endpoint.
    fn endpoint_group_admitting_task(&self) -> Option<String> {
        let task_peer = self.task_peer();
        let endpoints = self.view.vpc_endpoints.as_deref()?;
        endpoints
            .iter()
            .filter(|e| e.is_interface() && e.vpc_id.as_deref().is_none_or(|v| v == self.vpc_id))
            .flat_map(|e| e.groups.iter())
            .filter_map(|g| self.view.security_group(&g.group_id))
            .find(|g| groups_admit(self.view, &[g], false, &task_peer, HTTPS))
            .map(|g| g.group_id.clone())
    }

    /// The task as the far side of an endpoint's inbound rules.
    pub(super) fn task_peer(&self) -> Peer {
        Peer {
            nets: match self.probe.from.private_ip {
                Some(ip) => vec![IpNet::from(ip)],
                None => self
                    .subnet
                    .cidr_block
                    .as_deref()
                    .and_then(|c| c.parse().ok())
                    .into_iter()
                    .collect(),
            },
            prefix_list_ids: vec![],
            group_ids: self.task_group_ids.clone(),
        }
    }
}
