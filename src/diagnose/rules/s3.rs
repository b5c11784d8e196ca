//! S3, where ECR keeps image layers: the gateway endpoint route, its policy, and other regions.

use super::*;

impl<'a> Rules<'a> {
    // ---- S3 ----------------------------------------------------------------------------

    pub(super) fn evaluate_s3(&mut self, s3_region: &str) {
        let Some((table, _)) = self.table else { return };
        let ip = self.probe.dialled;
        let layer_bucket = format!("prod-{s3_region}-starport-layer-bucket");
        if s3_region != self.region {
            let destination = match ip {
                Some(ip) => Destination::Ip(ip),
                None => Destination::AnyPublic { ipv6: false },
            };
            let chosen = route_for(self.view, table, &destination);
            let verdict = self.route_verdict(chosen);
            if verdict.is_usable() {
                self.open_path.push(t!(
                    "S3 in {s3_region} is reached through {via} (a gateway endpoint only serves its own region, {region}).",
                    "{s3_region} 리전의 S3는 {via}를 통해 접근합니다(게이트웨이 엔드포인트는 자기 리전 {region}만 지원).",
                    via = verdict.via(),
                    region = self.region
                ));
                self.check_filters(&peer_for(ip), "S3");
            } else if !self.push_route_problem(&verdict, &format!("S3 ({s3_region})")) {
                self.push_cross_region(s3_region, &layer_bucket, table);
            }
            return;
        }

        let gateways = self.view.s3_gateway_endpoints(&self.vpc_id, s3_region);
        let pl = self.view.s3_prefix_list(s3_region);
        let pl_ids: Vec<String> = pl.map(|p| p.prefix_list_id.clone()).into_iter().collect();
        let endpoint_ids: Vec<String> =
            gateways.iter().map(|e| e.vpc_endpoint_id.clone()).collect();
        if self.view.vpc_endpoints.is_none() {
            self.not_inspected.push(t!(
                "VPC endpoints (VpcEndpoints)",
                "VPC 엔드포인트(VpcEndpoints)"
            ));
        }
        let destination = Destination::S3 {
            ip,
            prefix_list_ids: &pl_ids,
            endpoint_ids: &endpoint_ids,
        };
        let chosen = route_for(self.view, table, &destination);
        if let Some(c) = chosen.filter(|c| c.via_s3_endpoint) {
            if c.route.is_blackhole() {
                self.push_blackhole(c.route, table, "S3");
                return;
            }
            let endpoint = c
                .route
                .gateway_id
                .as_deref()
                .and_then(|id| self.view.endpoint(id))
                .or(gateways.first().copied());
            self.open_path.push(t!(
                "{rtb} routes S3 ({dest}) to gateway endpoint {vpce}.",
                "{rtb}은(는) S3({dest}) 트래픽을 게이트웨이 엔드포인트 {vpce}로 보냅니다.",
                rtb = table.route_table_id,
                dest = c.route.destination(),
                vpce = c.route.gateway_id.as_deref().unwrap_or("?")
            ));
            if let Some(endpoint) = endpoint {
                self.check_s3_policy(endpoint, s3_region);
            }
            if let (None, Some(list)) = (ip, pl) {
                if let Some(file) = &list.cidrs_stand_in {
                    self.open_path.push(t!(
                        "The entries of {id} could not be read; AWS's published S3 ranges for {s3_region} ({file}) stand in for them.",
                        "{id}의 항목을 읽지 못해 AWS가 공개한 {s3_region} 리전 S3 대역({file})으로 대신 점검했습니다.",
                        id = list.prefix_list_id
                    ));
                }
            }
            let peer = Peer {
                nets: match ip {
                    Some(ip) => vec![IpNet::from(ip)],
                    None => pl.map(|p| p.cidrs().collect()).unwrap_or_default(),
                },
                prefix_list_ids: pl_ids.clone(),
                group_ids: vec![],
            };
            self.check_filters(&peer, "S3");
            return;
        }

        let verdict = self.route_verdict(chosen);
        let usable = verdict.is_usable();
        if usable {
            let via = verdict.via();
            self.open_path.push(t!(
                "S3 traffic leaves through {via}.",
                "S3 트래픽은 {via}를 통해 나갑니다.",
                via = via
            ));
            if let RouteVerdict::Usable {
                leaves_vpc: Some(exit),
                ..
            } = &verdict
            {
                self.push_s3_endpoint_recommended(
                    table,
                    gateways.first().copied(),
                    exit,
                    s3_region,
                );
            } else if let Some(endpoint) = gateways.first() {
                self.open_path.push(t!(
                    "S3 gateway endpoint {vpce} exists but is not associated with {rtb}: associating it would keep S3 traffic off the NAT gateway (and its data charges).",
                    "S3 게이트웨이 엔드포인트 {vpce}가 있지만 {rtb}에 연결되어 있지 않습니다. 연결하면 S3 트래픽이 NAT 게이트웨이를 거치지 않습니다(데이터 처리 요금 절감).",
                    vpce = endpoint.vpc_endpoint_id,
                    rtb = table.route_table_id
                ));
            }
            self.check_filters(&peer_for(ip), "S3");
            return;
        }
        if let Some(endpoint) = gateways.first() {
            self.push_s3_route_missing(
                endpoint,
                table,
                pl.map(|p| p.prefix_list_id.as_str()),
                s3_region,
            );
            self.push_route_problem(&verdict, "S3");
        } else if self.view.vpc_endpoints.is_some() {
            self.push_route_problem(&verdict, "S3");
            self.push_s3_gateway_missing(table, s3_region, &verdict);
        } else if !self.push_route_problem(&verdict, "S3") {
            // Whatever the endpoints are, nothing in this table carries S3 traffic.
            self.push_no_route(table, "S3", false);
        }
    }

    /// S3 traffic that leaves the VPC through a transit gateway, virtual private gateway or
    /// appliance may well arrive, but nothing here can verify the path beyond; the gateway
    /// endpoint is the recommended route (free, and inside the VPC), so it is said as a
    /// recommendation, not as the cause.
    fn push_s3_endpoint_recommended(
        &mut self,
        table: &RouteTable,
        gateway: Option<&VpcEndpoint>,
        exit: &str,
        s3_region: &str,
    ) {
        let rtb = table.route_table_id.as_str();
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.extend(self.owner_evidence());
        evidence.push(t!(
            "{rtb} sends S3 traffic to {exit}, out of the VPC; what happens beyond it (the transit gateway's route tables, an inspection VPC's firewall, the egress VPC's NAT) is not visible from here.",
            "{rtb}은(는) S3 트래픽을 VPC 밖의 {exit}(으)로 보냅니다. 그 너머(트랜짓 게이트웨이 라우팅 테이블, 검사 VPC 방화벽, 송신 VPC의 NAT)는 여기서 볼 수 없습니다."
        ));
        let (fix, command) = match gateway {
            Some(endpoint) => (
                t!(
                    "Recommended: associate S3 gateway endpoint {vpce} with {rtb}, so image layers stay inside the VPC instead of depending on the path beyond {exit}.",
                    "권장: S3 게이트웨이 엔드포인트 {vpce}를 {rtb}에 연결하면 이미지 레이어가 {exit} 너머의 경로에 의존하지 않고 VPC 안에서 내려받아집니다.",
                    vpce = endpoint.vpc_endpoint_id
                ),
                format!(
                    "aws ec2 modify-vpc-endpoint --region {region} --vpc-endpoint-id {vpce} --add-route-table-ids {rtb}",
                    region = self.region,
                    vpce = endpoint.vpc_endpoint_id
                ),
            ),
            None => (
                t!(
                    "Recommended: create an S3 gateway endpoint (free of charge) for the task subnets' route tables, so image layers stay inside the VPC instead of depending on the path beyond {exit}.",
                    "권장: 태스크 서브넷 라우팅 테이블용 S3 게이트웨이 엔드포인트(무료)를 만들면 이미지 레이어가 {exit} 너머의 경로에 의존하지 않고 VPC 안에서 내려받아집니다."
                ),
                format!(
                    "aws ec2 create-vpc-endpoint --region {region} --vpc-id {vpc} --vpc-endpoint-type Gateway --service-name com.amazonaws.{s3_region}.s3 --route-table-ids {rtb}",
                    region = self.region,
                    vpc = self.vpc_id
                ),
            ),
        };
        self.findings.push(Finding {
            code: Code::S3GatewayEndpointRecommended,
            severity: Code::S3GatewayEndpointRecommended.severity(),
            summary: t!(
                "S3 traffic from subnet {subnet} leaves the VPC through {exit}, where this tool cannot follow it; an S3 gateway endpoint route would serve the image layers without it.",
                "서브넷 {subnet}의 S3 트래픽은 {exit}을(를) 통해 VPC 밖으로 나가며, 이 도구는 그 너머를 따라갈 수 없습니다. S3 게이트웨이 엔드포인트 경로가 있으면 그 경로 없이 이미지 레이어를 받을 수 있습니다.",
                subnet = self.subnet.subnet_id
            ),
            evidence,
            fix,
            commands: vec![command],
            remedy: None,
        });
    }

    pub(super) fn push_s3_route_missing(
        &mut self,
        endpoint: &VpcEndpoint,
        table: &RouteTable,
        pl_id: Option<&str>,
        s3_region: &str,
    ) {
        let vpce = endpoint.vpc_endpoint_id.as_str();
        let rtb = table.route_table_id.as_str();
        let subnet = self.subnet.subnet_id.as_str();
        let pl = match pl_id {
            Some(id) => Localized::same(id),
            None => t!("the S3 prefix list", "S3 접두사 목록"),
        };
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.extend(self.owner_evidence());
        let associated = if endpoint.route_table_ids.is_empty() {
            t!("no route table", "어떤 라우팅 테이블에도")
        } else {
            Localized::same(endpoint.route_table_ids.join(", "))
        };
        evidence.push(t!(
            "S3 gateway endpoint {vpce} (com.amazonaws.{s3_region}.s3) is associated with {a_en} but not with {rtb}.",
            "S3 게이트웨이 엔드포인트 {vpce}(com.amazonaws.{s3_region}.s3)는 {a_ko} 연결되어 있지만 {rtb}에는 연결되어 있지 않습니다.",
            a_en = associated.en,
            a_ko = if endpoint.route_table_ids.is_empty() { associated.ko.clone() } else { format!("{}에", associated.ko) }
        ));
        evidence.push(t!(
            "{rtb} has no route to {pl} and no usable default route (0.0.0.0/0).",
            "{rtb}에는 {pl}로 가는 경로도, 사용 가능한 기본 경로(0.0.0.0/0)도 없습니다.",
            pl = pl
        ));
        let mut tables = vec![rtb.to_string()];
        let siblings = self.sibling_tables_without(endpoint, table);
        if !siblings.is_empty() {
            let list = siblings
                .iter()
                .map(|(t, s)| format!("{t} ({s})"))
                .collect::<Vec<_>>()
                .join(", ");
            evidence.push(t!(
                "Route tables of the service's other subnets lack it too: {list}.",
                "서비스의 다른 서브넷 라우팅 테이블에도 이 경로가 없습니다: {list}."
            ));
            tables.extend(siblings.into_iter().map(|(t, _)| t));
        }
        let remedy = Remedy::AssociateRouteTables {
            region: self.region.to_string(),
            endpoint_id: vpce.to_string(),
            route_tables: tables,
        };
        let ip_text = self.dialled_text();
        let (ip_en, ip_ko) = (&ip_text.en, &ip_text.ko);
        self.findings.push(Finding {
            code: Code::S3RouteMissing,
            severity: Code::S3RouteMissing.severity(),
            summary: t!(
                "Route table {rtb} of subnet {subnet} has no route to S3 gateway endpoint {vpce}, so image layers from S3{ip_en} cannot be downloaded.",
                "서브넷 {subnet}의 라우팅 테이블 {rtb}에 S3 게이트웨이 엔드포인트 {vpce}로 가는 경로가 없어 S3{ip_ko}에서 이미지 레이어를 내려받지 못했습니다."
            ),
            evidence,
            fix: t!(
                "Associate the S3 gateway endpoint with the route table(s); that adds the prefix-list route. Nothing needs restarting: the next task pulls through the endpoint.",
                "S3 게이트웨이 엔드포인트를 라우팅 테이블에 연결하세요. 연결하면 접두사 목록 경로가 추가됩니다. 재시작은 필요 없으며 다음 태스크부터 엔드포인트를 통해 이미지를 받습니다."
            ),
            commands: vec![remedy.command()],
            remedy: Some(remedy),
        });
    }

    /// Route tables of the service's other subnets that lack the endpoint too: in the
    /// reference case only some private tables were associated, and the next task may land in
    /// any of the service's subnets.
    pub(super) fn sibling_tables_without(
        &self,
        endpoint: &VpcEndpoint,
        current: &RouteTable,
    ) -> Vec<(String, String)> {
        let Some(workload) = &self.probe.from.workload else {
            return vec![];
        };
        let mut out: Vec<(String, String)> = Vec::new();
        for subnet in &workload.subnets {
            if let Some((t, _)) = self.view.route_table_for_subnet(subnet, &self.vpc_id) {
                let has_route =
                    t.routes.iter().any(|r| {
                        r.gateway_id.as_deref() == Some(endpoint.vpc_endpoint_id.as_str())
                    }) || endpoint.route_table_ids.contains(&t.route_table_id);
                if t.route_table_id != current.route_table_id
                    && !has_route
                    && !out.iter().any(|(id, _)| *id == t.route_table_id)
                {
                    out.push((t.route_table_id.clone(), subnet.clone()));
                }
            }
        }
        out
    }

    pub(super) fn push_s3_gateway_missing(
        &mut self,
        table: &RouteTable,
        s3_region: &str,
        verdict: &RouteVerdict,
    ) {
        let rtb = table.route_table_id.as_str();
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.extend(self.owner_evidence());
        evidence.push(t!(
            "The VPC {vpc} has no S3 gateway endpoint (com.amazonaws.{s3_region}.s3).",
            "VPC {vpc}에 S3 게이트웨이 엔드포인트(com.amazonaws.{s3_region}.s3)가 없습니다.",
            vpc = self.vpc_id
        ));
        let service_name = format!("com.amazonaws.{s3_region}.s3");
        if let Some(interface) = self
            .view
            .endpoints_for(&self.vpc_id, &service_name)
            .into_iter()
            .find(|e| e.is_interface())
        {
            // ECR hands out layer URLs on S3's regional names, which only a gateway endpoint
            // (a route) captures; an S3 interface endpoint answers only its own DNS names.
            evidence.push(t!(
                "The VPC does have S3 interface endpoint {vpce}, but ECR cannot use S3 interface endpoints for image layers: layer downloads need the gateway endpoint.",
                "VPC에 S3 인터페이스 엔드포인트 {vpce}는 있지만 ECR은 이미지 레이어에 S3 인터페이스 엔드포인트를 쓸 수 없습니다. 레이어 다운로드에는 게이트웨이 엔드포인트가 필요합니다.",
                vpce = interface.vpc_endpoint_id
            ));
        }
        if matches!(verdict, RouteVerdict::NoRoute) {
            evidence.push(t!(
                "{rtb} has no default route (0.0.0.0/0) either.",
                "{rtb}에는 기본 경로(0.0.0.0/0)도 없습니다."
            ));
        }
        let severity = if self
            .findings
            .iter()
            .any(|f| f.severity == Severity::Critical)
        {
            Severity::Warning
        } else {
            Severity::Critical
        };
        let remedy = Remedy::CreateGatewayEndpoint {
            region: self.region.to_string(),
            vpc_id: self.vpc_id.clone(),
            service_name: format!("com.amazonaws.{s3_region}.s3"),
            route_tables: vec![rtb.to_string()],
        };
        self.findings.push(Finding {
            code: Code::S3GatewayEndpointMissing,
            severity,
            summary: t!(
                "ECR image layers are stored in S3, but the VPC has no S3 gateway endpoint and subnet {subnet} has no working way out, so the layers cannot be downloaded.",
                "ECR 이미지 레이어는 S3에 저장되지만 VPC에 S3 게이트웨이 엔드포인트가 없고 서브넷 {subnet}에서 나갈 경로도 없어 레이어를 내려받지 못했습니다.",
                subnet = self.subnet.subnet_id
            ),
            evidence,
            fix: t!(
                "Create an S3 gateway endpoint (free of charge) and associate it with the task subnets' route tables.",
                "S3 게이트웨이 엔드포인트(무료)를 만들고 태스크 서브넷의 라우팅 테이블에 연결하세요."
            ),
            commands: vec![remedy.command()],
            remedy: Some(remedy),
        });
    }

    pub(super) fn push_cross_region(
        &mut self,
        s3_region: &str,
        layer_bucket: &str,
        table: &RouteTable,
    ) {
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.extend(self.owner_evidence());
        evidence.push(t!(
            "The layers are in {layer_bucket} in {s3_region}; the task runs in {region}, and a gateway endpoint only serves its own region.",
            "레이어는 {s3_region} 리전의 {layer_bucket}에 있고 태스크는 {region} 리전에서 실행되며, 게이트웨이 엔드포인트는 자기 리전만 지원합니다.",
            region = self.region
        ));
        evidence.push(t!(
            "{rtb} has no default route (0.0.0.0/0).",
            "{rtb}에는 기본 경로(0.0.0.0/0)가 없습니다.",
            rtb = table.route_table_id
        ));
        let (fix, commands) = self.cross_region_image_fix(s3_region, &table.route_table_id);
        self.findings.push(Finding {
            code: Code::CrossRegionLayerBucket,
            severity: Code::CrossRegionLayerBucket.severity(),
            summary: t!(
                "The image's layers are in S3 in {s3_region}, another region, which the VPC's S3 gateway endpoint cannot reach, and the subnet has no route to the internet.",
                "이미지 레이어가 다른 리전({s3_region})의 S3에 있어 VPC의 S3 게이트웨이 엔드포인트로는 접근할 수 없고, 서브넷에는 인터넷으로 가는 경로도 없습니다."
            ),
            evidence,
            fix,
            commands,
            remedy: None,
        });
    }

    pub(super) fn check_s3_policy(&mut self, endpoint: &VpcEndpoint, s3_region: &str) {
        let bucket = format!("prod-{s3_region}-starport-layer-bucket");
        let resource = format!("arn:aws:s3:::{bucket}/layer");
        let vpce = endpoint.vpc_endpoint_id.as_str();
        match policy::evaluate(
            endpoint.policy_document.as_deref(),
            "s3:GetObject",
            &resource,
        ) {
            PolicyDecision::Allowed => self.open_path.push(t!(
                "The policy of {vpce} allows s3:GetObject on {bucket}.",
                "{vpce}의 정책은 {bucket}에 대한 s3:GetObject를 허용합니다."
            )),
            PolicyDecision::Uncertain { why } => self.not_inspected.push(t!(
                "whether the policy of {vpce} allows s3:GetObject on {bucket}: {why}",
                "{vpce} 정책이 {bucket}에 대한 s3:GetObject를 허용하는지: {why}"
            )),
            PolicyDecision::Denied { explicit_statement } => {
                let why = match explicit_statement {
                    Some(sid) => t!("statement {sid} denies it", "{sid} 문이 거부합니다"),
                    None => t!("no statement allows it", "허용하는 문이 없습니다"),
                };
                let policy_json = format!(
                    "{{\"Statement\":[{{\"Sid\":\"AllowEcrLayers\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::{bucket}/*\"}}]}}"
                );
                self.findings.push(Finding {
                    code: Code::S3EndpointPolicyDeniesLayerBucket,
                    severity: Code::S3EndpointPolicyDeniesLayerBucket.severity(),
                    summary: t!(
                        "The policy of S3 gateway endpoint {vpce} does not allow s3:GetObject on {bucket}, where ECR keeps image layers.",
                        "S3 게이트웨이 엔드포인트 {vpce}의 정책이 ECR 이미지 레이어가 있는 {bucket}에 대한 s3:GetObject를 허용하지 않습니다."
                    ),
                    evidence: vec![t!(
                        "Evaluating the endpoint policy for s3:GetObject on arn:aws:s3:::{bucket}/*: {why}.",
                        "엔드포인트 정책을 arn:aws:s3:::{bucket}/*에 대한 s3:GetObject로 평가한 결과: {why}.",
                        why = why
                    )],
                    fix: t!(
                        "Add a statement allowing s3:GetObject on arn:aws:s3:::{bucket}/* to the endpoint policy (merge it into the existing statements rather than replacing them).",
                        "엔드포인트 정책에 arn:aws:s3:::{bucket}/*에 대한 s3:GetObject 허용 문을 추가하세요(기존 문을 대체하지 말고 병합)."
                    ),
                    commands: vec![format!(
                        "aws ec2 modify-vpc-endpoint --region {region} --vpc-endpoint-id {vpce} --policy-document '{policy_json}'  # merge with the existing statements",
                        region = self.region
                    )],
                    remedy: None,
                });
            }
        }
    }
}
