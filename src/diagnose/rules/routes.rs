//! What a route does with the packets: blackholes, NAT gateways, internet gateways.

use super::*;

impl<'a> Rules<'a> {
    // ---- routes ------------------------------------------------------------------------

    pub(super) fn route_verdict(&mut self, chosen: Option<ChosenRoute<'a>>) -> RouteVerdict<'a> {
        let Some(chosen) = chosen else {
            return RouteVerdict::NoRoute;
        };
        let route = chosen.route;
        if route.is_blackhole() {
            return RouteVerdict::Blackhole(route);
        }
        match target_of(route) {
            RouteTarget::Missing => RouteVerdict::Blackhole(route),
            RouteTarget::Local => RouteVerdict::Usable {
                leaves_vpc: None,
                via: t!("the local route", "local 경로"),
            },
            RouteTarget::GatewayEndpoint(id) => RouteVerdict::Usable {
                leaves_vpc: None,
                via: t!("gateway endpoint {id}", "게이트웨이 엔드포인트 {id}"),
            },
            RouteTarget::EgressOnlyInternetGateway(id) => RouteVerdict::Usable {
                leaves_vpc: None,
                via: t!(
                    "egress-only internet gateway {id}",
                    "송신 전용 인터넷 게이트웨이 {id}"
                ),
            },
            // A private address may well be in the peer's CIDRs (a hub's endpoint), which the
            // view does not hold: only a public destination is known to be out of reach.
            RouteTarget::Elsewhere(id)
                if id.starts_with("pcx-")
                    && chosen.prefix_len == 0
                    && !self.probe.dialled.is_some_and(is_private) =>
            {
                RouteVerdict::PeeringNoTransit { route, pcx: id }
            }
            RouteTarget::Elsewhere(id) => {
                self.not_inspected.push(t!(
                    "the path beyond {id} (route {dest}): transit gateways, peering, firewalls and appliances are not inspected",
                    "{id} 이후 경로(라우트 {dest}): 트랜짓 게이트웨이, 피어링, 방화벽, 어플라이언스는 점검하지 않음",
                    dest = route.destination()
                ));
                RouteVerdict::Usable {
                    via: Localized::same(id.clone()),
                    leaves_vpc: Some(id),
                }
            }
            RouteTarget::NatGateway(id) => {
                if self.view.nat_gateways.is_none() {
                    self.not_inspected.push(t!(
                        "the state of NAT gateway {id} (NatGateways)",
                        "NAT 게이트웨이 {id}의 상태(NatGateways)"
                    ));
                    return RouteVerdict::Usable {
                        leaves_vpc: None,
                        via: t!("NAT gateway {id}", "NAT 게이트웨이 {id}"),
                    };
                }
                let Some(nat) = self.view.nat_gateway(&id) else {
                    return RouteVerdict::NatGone { route, nat_id: id };
                };
                if !nat.is_available() {
                    return RouteVerdict::NatUnavailable { route, nat };
                }
                if let Some(why) = self.nat_cannot_reach_internet(nat) {
                    return RouteVerdict::NatNoInternet { route, nat, why };
                }
                RouteVerdict::Usable {
                    leaves_vpc: None,
                    via: t!("NAT gateway {id}", "NAT 게이트웨이 {id}"),
                }
            }
            RouteTarget::InternetGateway(id) => {
                if let Some(igws) = self.view.internet_gateways.as_deref() {
                    let attached = igws.iter().any(|g| {
                        g.internet_gateway_id == id
                            && g.attachments.iter().any(|a| {
                                a.vpc_id.as_deref() == Some(self.vpc_id.as_str())
                                    && a.state
                                        .as_deref()
                                        .is_none_or(|s| s == "available" || s == "attached")
                            })
                    });
                    if !attached {
                        return RouteVerdict::Blackhole(route);
                    }
                }
                match self.public_ip {
                    Some(false) => RouteVerdict::IgwWithoutPublicIp { route, igw: id },
                    Some(true) => RouteVerdict::Usable {
                        leaves_vpc: None,
                        via: t!(
                            "internet gateway {id} (the task has a public IP)",
                            "인터넷 게이트웨이 {id}(태스크에 퍼블릭 IP 있음)"
                        ),
                    },
                    None => {
                        self.not_inspected.push(t!(
                            "whether the task had a public IP, which the route to internet gateway {id} requires",
                            "인터넷 게이트웨이 {id} 경로에 필요한 태스크 퍼블릭 IP 여부"
                        ));
                        RouteVerdict::Usable {
                            leaves_vpc: None,
                            via: t!("internet gateway {id}", "인터넷 게이트웨이 {id}"),
                        }
                    }
                }
            }
        }
    }

    /// A public NAT gateway needs its own subnet to route to an internet gateway; a private
    /// NAT gateway's traffic to an internet gateway is dropped.
    pub(super) fn nat_cannot_reach_internet(&mut self, nat: &NatGateway) -> Option<Localized> {
        let subnet = nat.subnet_id.as_deref()?;
        let Some((table, _)) = self.view.route_table_for_subnet(subnet, &self.vpc_id) else {
            self.not_inspected.push(t!(
                "the route table of NAT gateway {nat}'s subnet {subnet}",
                "NAT 게이트웨이 {nat}의 서브넷 {subnet} 라우팅 테이블",
                nat = nat.nat_gateway_id
            ));
            return None;
        };
        let default = route_for(self.view, table, &Destination::AnyPublic { ipv6: false });
        let to_igw = default.is_some_and(|c| {
            !c.route.is_blackhole() && matches!(target_of(c.route), RouteTarget::InternetGateway(_))
        });
        let nat_id = nat.nat_gateway_id.as_str();
        let rtb = table.route_table_id.as_str();
        if nat.is_private() {
            return to_igw.then(|| t!(
                "{nat_id} is a private NAT gateway; its subnet's route table {rtb} sends it to an internet gateway, which drops private NAT traffic.",
                "{nat_id}는 프라이빗 NAT 게이트웨이입니다. 서브넷 라우팅 테이블 {rtb}가 인터넷 게이트웨이로 보내지만, 인터넷 게이트웨이는 프라이빗 NAT 트래픽을 버립니다."
            ));
        }
        match default {
            None => Some(t!(
                "NAT gateway {nat_id} is in subnet {subnet}, whose route table {rtb} has no default route to an internet gateway.",
                "NAT 게이트웨이 {nat_id}가 있는 서브넷 {subnet}의 라우팅 테이블 {rtb}에 인터넷 게이트웨이로 가는 기본 경로가 없습니다."
            )),
            Some(c) if c.route.is_blackhole() => Some(t!(
                "NAT gateway {nat_id}'s subnet {subnet} routes 0.0.0.0/0 to a blackhole in {rtb}.",
                "NAT 게이트웨이 {nat_id}의 서브넷 {subnet}은(는) {rtb}에서 0.0.0.0/0을 블랙홀로 보냅니다."
            )),
            Some(c) => match target_of(c.route) {
                RouteTarget::InternetGateway(_) => None,
                RouteTarget::Elsewhere(id) => {
                    self.not_inspected.push(t!(
                        "where NAT gateway {nat_id}'s subnet sends traffic beyond {id}",
                        "NAT 게이트웨이 {nat_id} 서브넷의 트래픽이 {id} 이후 어디로 가는지"
                    ));
                    None
                }
                other => {
                    let target = match other {
                        RouteTarget::NatGateway(id) | RouteTarget::GatewayEndpoint(id) => id,
                        _ => "no internet gateway".to_string(),
                    };
                    Some(t!(
                        "NAT gateway {nat_id} is in subnet {subnet}, whose route table {rtb} sends 0.0.0.0/0 to {target}, not to an internet gateway: a public NAT gateway must sit in a public subnet.",
                        "NAT 게이트웨이 {nat_id}가 있는 서브넷 {subnet}의 라우팅 테이블 {rtb}는 0.0.0.0/0을 인터넷 게이트웨이가 아닌 {target}(으)로 보냅니다. 퍼블릭 NAT 게이트웨이는 퍼블릭 서브넷에 있어야 합니다."
                    ))
                }
            },
        }
    }

    /// Turns a broken route into its finding; returns false when the verdict is not broken.
    pub(super) fn push_route_problem(&mut self, verdict: &RouteVerdict<'a>, what: &str) -> bool {
        let Some((table, _)) = self.table else {
            return false;
        };
        match verdict {
            RouteVerdict::Blackhole(route) => {
                self.push_blackhole(route, table, what);
                true
            }
            RouteVerdict::NatGone { route, nat_id } => {
                let mut evidence = vec![self.subnet_evidence(table)];
                evidence.push(t!(
                    "NAT gateway {nat_id} is not among the VPC's NAT gateways: it was deleted.",
                    "NAT 게이트웨이 {nat_id}가 VPC의 NAT 게이트웨이 목록에 없습니다. 삭제되었습니다."
                ));
                self.push_blackhole_with(route, table, what, evidence);
                true
            }
            RouteVerdict::NatUnavailable { route, nat } => {
                self.push_nat_unavailable(route, nat, table, what);
                true
            }
            RouteVerdict::NatNoInternet { route, nat, why } => {
                let nat_id = nat.nat_gateway_id.as_str();
                let mut evidence = vec![self.subnet_evidence(table)];
                evidence.push(t!(
                    "{rtb} sends {dest} to NAT gateway {nat_id}.",
                    "{rtb}은(는) {dest} 트래픽을 NAT 게이트웨이 {nat_id}로 보냅니다.",
                    rtb = table.route_table_id,
                    dest = route.destination()
                ));
                evidence.push(why.clone());
                let nat_subnet = nat.subnet_id.clone().unwrap_or_default();
                let nat_table = self
                    .view
                    .route_table_for_subnet(&nat_subnet, &self.vpc_id)
                    .map(|(t, _)| t.route_table_id.clone())
                    .unwrap_or_else(|| "<nat-subnet-route-table>".into());
                let igw = self.attached_igw().unwrap_or_else(|| "<igw-id>".into());
                self.findings.push(Finding {
                    code: Code::NoRouteToTarget,
                    severity: Code::NoRouteToTarget.severity(),
                    summary: t!(
                        "Traffic to {what} goes to NAT gateway {nat_id}, but the NAT gateway has no way to the internet.",
                        "{what}(으)로 가는 트래픽은 NAT 게이트웨이 {nat_id}로 가지만, NAT 게이트웨이에서 인터넷으로 나갈 경로가 없습니다."
                    ),
                    evidence,
                    fix: t!(
                        "Give the NAT gateway's subnet a default route to the VPC's internet gateway (a public NAT gateway must sit in a public subnet).",
                        "NAT 게이트웨이 서브넷에 VPC 인터넷 게이트웨이로 가는 기본 경로를 추가하세요(퍼블릭 NAT 게이트웨이는 퍼블릭 서브넷에 있어야 합니다)."
                    ),
                    commands: vec![format!(
                        "aws ec2 create-route --region {region} --route-table-id {nat_table} --destination-cidr-block 0.0.0.0/0 --gateway-id {igw}",
                        region = self.region
                    )],
                    remedy: None,
                });
                true
            }
            RouteVerdict::IgwWithoutPublicIp { route, igw } => {
                self.push_public_ip_missing(route, igw, table, what);
                true
            }
            RouteVerdict::PeeringNoTransit { route, pcx } => {
                self.push_peering_no_transit(route, pcx, table, what);
                true
            }
            RouteVerdict::NoRoute | RouteVerdict::Usable { .. } => false,
        }
    }

    fn push_peering_no_transit(
        &mut self,
        route: &Route,
        pcx: &str,
        table: &RouteTable,
        what: &str,
    ) {
        let rtb = table.route_table_id.as_str();
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.extend(self.owner_evidence());
        evidence.push(t!(
            "{rtb} sends {dest} to peering connection {pcx}.",
            "{rtb}은(는) {dest} 트래픽을 피어링 연결 {pcx}로 보냅니다.",
            dest = route.destination()
        ));
        evidence.push(t!(
            "A peering connection carries traffic only to the peer VPC's own CIDRs: AWS does not forward it on to the peer's NAT gateway, internet gateway or VPC endpoints (no edge-to-edge routing).",
            "피어링 연결은 상대 VPC의 CIDR로 가는 트래픽만 전달합니다. AWS는 이를 상대 VPC의 NAT 게이트웨이, 인터넷 게이트웨이, VPC 엔드포인트로 넘기지 않습니다(엣지 간 라우팅 없음)."
        ));
        let commands = self.nat_replacement(route, rtb);
        self.findings.push(Finding {
            code: Code::NoRouteToTarget,
            severity: Code::NoRouteToTarget.severity(),
            summary: t!(
                "Subnet {subnet}'s default route goes to peering connection {pcx}, which cannot carry traffic to {what}{ip}: nothing reaches it.",
                "서브넷 {subnet}의 기본 경로는 피어링 연결 {pcx}로 가며, 이 연결로는 {what}{ip}에 도달할 수 없습니다.",
                subnet = self.subnet.subnet_id,
                ip = self.dialled_text()
            ),
            evidence,
            fix: t!(
                "Give the subnet its own way to {what}: VPC endpoints in this VPC (S3 gateway, ECR interface endpoints), or a default route to a NAT gateway or a transit gateway that has one; keep the peering route for the peer's CIDRs only.",
                "서브넷에 {what}(으)로 가는 자체 경로를 주세요: 이 VPC의 VPC 엔드포인트(S3 게이트웨이, ECR 인터페이스 엔드포인트), 또는 NAT 게이트웨이나 NAT가 있는 트랜짓 게이트웨이로 가는 기본 경로. 피어링 경로는 상대 VPC CIDR에만 두세요."
            ),
            commands,
            remedy: None,
        });
    }

    pub(super) fn push_blackhole(&mut self, route: &Route, table: &RouteTable, what: &str) {
        let evidence = vec![self.subnet_evidence(table)];
        self.push_blackhole_with(route, table, what, evidence);
    }

    pub(super) fn push_blackhole_with(
        &mut self,
        route: &Route,
        table: &RouteTable,
        what: &str,
        mut evidence: Vec<Localized>,
    ) {
        let rtb = table.route_table_id.as_str();
        let dest = route.destination();
        let target = route.target().unwrap_or("(no target)");
        evidence.push(t!(
            "Route {dest} → {target} in {rtb} is a blackhole: its target no longer exists or is not attached.",
            "{rtb}의 {dest} → {target} 경로는 블랙홀입니다. 대상이 더 이상 없거나 연결되어 있지 않습니다."
        ));
        let commands = if route.destination_prefix_list_id.is_some() {
            vec![format!(
                "aws ec2 create-vpc-endpoint --region {region} --vpc-id {vpc} --vpc-endpoint-type Gateway --service-name com.amazonaws.{region}.s3 --route-table-ids {rtb}  # then delete the blackhole route",
                region = self.region,
                vpc = self.vpc_id
            )]
        } else {
            self.nat_replacement(route, rtb)
        };
        self.findings.push(Finding {
            code: Code::RouteBlackhole,
            severity: Code::RouteBlackhole.severity(),
            summary: t!(
                "The route that carries traffic to {what} ({dest} in {rtb}) is a blackhole, so the packets are dropped.",
                "{what}(으)로 가는 트래픽을 전달하는 경로({rtb}의 {dest})가 블랙홀이라 패킷이 버려집니다."
            ),
            evidence,
            fix: t!(
                "Point the route at a working target (an available NAT gateway in a public subnet, created first when the VPC has none), or remove it and add a VPC endpoint.",
                "경로를 정상 대상(퍼블릭 서브넷의 available 상태 NAT 게이트웨이, 없으면 먼저 생성)으로 바꾸거나, 경로를 지우고 VPC 엔드포인트를 추가하세요."
            ),
            commands,
            remedy: None,
        });
    }

    pub(super) fn push_nat_unavailable(
        &mut self,
        route: &Route,
        nat: &NatGateway,
        table: &RouteTable,
        what: &str,
    ) {
        let rtb = table.route_table_id.as_str();
        let nat_id = nat.nat_gateway_id.as_str();
        let state = nat.state.as_deref().unwrap_or("unknown");
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.push(t!(
            "{rtb} sends {dest} to NAT gateway {nat_id}, whose state is {state}.",
            "{rtb}은(는) {dest} 트래픽을 NAT 게이트웨이 {nat_id}로 보내지만, 그 상태는 {state}입니다.",
            dest = route.destination()
        ));
        if let Some(code) = &nat.failure_code {
            let message = nat.failure_message.as_deref().unwrap_or("");
            // AWS's own words, quoted as they are.
            evidence.push(t!(
                "AWS gives {nat_id}'s failure as: {code} \"{message}\"",
                "AWS가 밝힌 {nat_id}의 실패 원인(원문): {code} \"{message}\""
            ));
        }
        let replacement = self.available_nat_in_vpc();
        let commands = self.nat_replacement(route, rtb);
        self.findings.push(Finding {
            code: Code::NatGatewayNotAvailable,
            severity: Code::NatGatewayNotAvailable.severity(),
            summary: t!(
                "Traffic to {what} goes to NAT gateway {nat_id}, which is {state}, not available.",
                "{what}(으)로 가는 트래픽이 NAT 게이트웨이 {nat_id}로 가지만, 그 상태가 available이 아니라 {state}입니다."
            ),
            evidence,
            fix: match &replacement {
                Some(other) => t!(
                    "Route through NAT gateway {other}, which is available, or replace {nat_id}.",
                    "available 상태인 NAT 게이트웨이 {other}로 경로를 바꾸거나 {nat_id}를 교체하세요."
                ),
                None => t!(
                    "Create a NAT gateway in a public subnet (one whose default route goes to the VPC's internet gateway) and point the route at it.",
                    "퍼블릭 서브넷(기본 경로가 VPC의 인터넷 게이트웨이로 가는 서브넷)에 NAT 게이트웨이를 만들고 경로가 그것을 가리키게 하세요."
                ),
            },
            commands,
            remedy: None,
        });
    }

    pub(super) fn push_public_ip_missing(
        &mut self,
        route: &Route,
        igw: &str,
        table: &RouteTable,
        what: &str,
    ) {
        let rtb = table.route_table_id.as_str();
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.push(t!(
            "{rtb} sends {dest} to internet gateway {igw}: a public subnet.",
            "{rtb}은(는) {dest} 트래픽을 인터넷 게이트웨이 {igw}로 보냅니다(퍼블릭 서브넷).",
            dest = route.destination()
        ));
        let instance = self.probe.from.instance_id.clone();
        evidence.push(if let Some(instance) = &instance {
            t!(
                "The image is pulled by container instance {instance}, whose primary network interface has no public IP.",
                "이미지는 컨테이너 인스턴스 {instance}가 받으며, 이 인스턴스의 기본 네트워크 인터페이스에는 퍼블릭 IP가 없습니다."
            )
        } else {
            t!(
                "The service's awsvpcConfiguration has assignPublicIp DISABLED, so the task has only a private IP, which an internet gateway does not translate.",
                "서비스 awsvpcConfiguration의 assignPublicIp가 DISABLED라 태스크에는 프라이빗 IP만 있고, 인터넷 게이트웨이는 이를 변환하지 않습니다."
            )
        });
        let command = match &self.probe.from.workload {
            _ if instance.is_some() => "# run the container instances in private subnets whose default route goes to a NAT gateway (or give them public IPs)".to_string(),
            Some(workload) => {
                let (cluster, service) = (
                    crate::untrusted::shell_word(&workload.cluster),
                    crate::untrusted::shell_word(&workload.service),
                );
                let subnets = workload.subnets.join(",");
                let groups = workload.security_groups.join(",");
                format!(
                    "aws ecs update-service --region {region} --cluster {cluster} --service {service} --network-configuration 'awsvpcConfiguration={{subnets=[{subnets}],securityGroups=[{groups}],assignPublicIp=ENABLED}}'",
                    region = self.region
                )
            }
            _ => "# move the task to private subnets whose default route goes to a NAT gateway"
                .to_string(),
        };
        self.findings.push(Finding {
            code: Code::PublicIpMissing,
            severity: Code::PublicIpMissing.severity(),
            summary: t!(
                "Subnet {subnet} reaches the internet through internet gateway {igw}, but the task had no public IP, so it could not reach {what}.",
                "서브넷 {subnet}은(는) 인터넷 게이트웨이 {igw}로 인터넷에 나가지만 태스크에 퍼블릭 IP가 없어 {what}에 접근하지 못했습니다.",
                subnet = self.subnet.subnet_id
            ),
            evidence,
            fix: t!(
                "Turn on assignPublicIp for the service, or run the tasks in private subnets with a NAT gateway route (or VPC endpoints).",
                "서비스의 assignPublicIp를 켜거나, NAT 게이트웨이 경로(또는 VPC 엔드포인트)가 있는 프라이빗 서브넷에서 태스크를 실행하세요."
            ),
            commands: vec![command],
            remedy: None,
        });
    }

    pub(super) fn available_nat_in_vpc(&self) -> Option<String> {
        let az = self.subnet.availability_zone.as_deref();
        let nats: Vec<&NatGateway> = self
            .view
            .nat_gateways
            .as_deref()?
            .iter()
            .filter(|n| {
                n.is_available()
                    && !n.is_private()
                    && n.vpc_id.as_deref().is_none_or(|v| v == self.vpc_id)
            })
            .collect();
        // Prefer a NAT gateway in the task's availability zone (no cross-AZ charges or
        // dependency on another zone).
        let same_az = nats.iter().find(|n| {
            n.subnet_id
                .as_deref()
                .and_then(|s| self.view.subnet(s))
                .and_then(|s| s.availability_zone.as_deref())
                == az
        });
        same_az.or(nats.first()).map(|n| n.nat_gateway_id.clone())
    }

    /// A subnet of the VPC whose traffic goes out through its internet gateway (where a NAT
    /// gateway can be created), preferring the task's zone.
    fn public_subnet_in_vpc(&self) -> Option<String> {
        let igw = self.attached_igw()?;
        let az = self.subnet.availability_zone.as_deref();
        let mut public: Vec<&crate::network::Subnet> = self
            .view
            .subnets
            .as_deref()?
            .iter()
            .filter(|s| s.vpc_id.as_deref() == Some(self.vpc_id.as_str()))
            .filter(|s| {
                self.view
                    .route_table_for_subnet(&s.subnet_id, &self.vpc_id)
                    .is_some_and(|(table, _)| {
                        table.routes.iter().any(|r| {
                            r.destination_cidr_block.as_deref() == Some("0.0.0.0/0")
                                && r.gateway_id.as_deref() == Some(igw.as_str())
                                && r.state.as_deref() != Some("blackhole")
                        })
                    })
            })
            .collect();
        public.sort_by_key(|s| (s.availability_zone.as_deref() != az, s.subnet_id.clone()));
        public.first().map(|s| s.subnet_id.clone())
    }

    /// The commands that route `destination` of `rtb` to a NAT gateway (`verb` is
    /// `create-route` or `replace-route`): the VPC's available one, or, when it has none,
    /// the commands that create one in a public subnet first; `None` when the VPC has no
    /// public subnet to put one in (the fix must say so, with no command to paste).
    /// The commands that point `route` of `rtb` at a NAT gateway (none when the VPC has no
    /// public subnet to create one in).
    fn nat_replacement(&self, route: &Route, rtb: &str) -> Vec<String> {
        let flag = if route.destination_ipv6_cidr_block.is_some() {
            "--destination-ipv6-cidr-block"
        } else {
            "--destination-cidr-block"
        };
        self.nat_route_commands("replace-route", rtb, (flag, &route.destination()))
            .unwrap_or_default()
    }

    pub(super) fn nat_route_commands(
        &self,
        verb: &str,
        rtb: &str,
        (flag, destination): (&str, &str),
    ) -> Option<Vec<String>> {
        let region = &self.region;
        let route = |nat: &str| {
            format!(
                "aws ec2 {verb} --region {region} --route-table-id {rtb} {flag} {destination} --nat-gateway-id {nat}"
            )
        };
        if let Some(nat) = self.available_nat_in_vpc() {
            return Some(vec![route(&nat)]);
        }
        let public = self.public_subnet_in_vpc()?;
        Some(vec![
            format!("EIP=$(aws ec2 allocate-address --region {region} --domain vpc --query AllocationId --output text)"),
            format!("NAT=$(aws ec2 create-nat-gateway --region {region} --subnet-id {public} --allocation-id \"$EIP\" --query NatGateway.NatGatewayId --output text)"),
            format!("aws ec2 wait nat-gateway-available --region {region} --nat-gateway-ids \"$NAT\""),
            route("\"$NAT\""),
        ])
    }

    pub(super) fn attached_igw(&self) -> Option<String> {
        self.view
            .internet_gateways
            .as_deref()?
            .iter()
            .find(|g| {
                g.attachments
                    .iter()
                    .any(|a| a.vpc_id.as_deref() == Some(self.vpc_id.as_str()))
            })
            .map(|g| g.internet_gateway_id.clone())
    }
}
