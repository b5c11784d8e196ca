//! A host on the internet that no VPC endpoint serves (Docker Hub, ghcr.io, a registry's CDN):
//! a default route through a NAT gateway, or an internet gateway with a public IP.

use super::*;

impl<'a> Rules<'a> {
    pub(super) fn evaluate_internet(&mut self, what: &str) {
        let Some((table, _)) = self.table else { return };
        let ip = self.probe.dialled;
        let ipv6 = ip.is_some_and(|i| i.is_ipv6());
        let destination = match ip {
            Some(ip) => Destination::Ip(ip),
            None => Destination::AnyPublic { ipv6 },
        };
        let verdict = self.route_verdict(route_for(self.view, table, &destination));
        if verdict.is_usable() {
            self.open_path.push(t!(
                "{what} is reached through {via}.",
                "{what}에는 {via}를 통해 접근합니다.",
                via = verdict.via()
            ));
            self.check_filters(&peer_for(ip), what);
            return;
        }
        if !self.push_route_problem(&verdict, what) {
            self.push_no_route(table, what, false);
        }
    }

    /// A layer download sent outside AWS: the internet path, said as such.
    pub(super) fn evaluate_upstream(&mut self, ip: IpAddr) {
        self.open_path.push(upstream_note(ip));
        self.evaluate_internet(&ip.to_string());
    }

    pub(super) fn push_no_route(
        &mut self,
        table: &RouteTable,
        what: &str,
        cross_region_service: bool,
    ) {
        let rtb = table.route_table_id.as_str();
        let ipv6 = self.probe.dialled.is_some_and(|i| i.is_ipv6());
        let default = if ipv6 { "::/0" } else { "0.0.0.0/0" };
        let mut evidence = vec![self.subnet_evidence(table)];
        evidence.extend(self.owner_evidence());
        if let Target::Upstream { ip } = self.probe.to {
            evidence.push(upstream_note(ip));
        }
        evidence.push(if self.view.vpc_endpoints.is_some() {
            t!(
                "{rtb} has no route for {default}, and no VPC endpoint serves {what}.",
                "{rtb}에는 {default} 경로가 없고, {what}을(를) 처리하는 VPC 엔드포인트도 없습니다."
            )
        } else {
            t!(
                "{rtb} has no route for {default} and no endpoint route for {what} (the VPC's endpoints themselves were not inspected).",
                "{rtb}에는 {default} 경로도 {what}용 엔드포인트 경로도 없습니다(VPC 엔드포인트 자체는 점검하지 못함)."
            )
        });
        if cross_region_service {
            evidence.push(t!(
                "{what} is in another region than the task ({region}); interface endpoints in this VPC serve {region}.",
                "{what}은(는) 태스크 리전({region})과 다른 리전에 있으며, 이 VPC의 인터페이스 엔드포인트는 {region}만 지원합니다.",
                region = self.region
            ));
        }
        let (fix, commands) = if ipv6 {
            (
                t!(
                    "The task dialled an IPv6 address but the subnet has no IPv6 route out: add an egress-only internet gateway route for ::/0, or make the registry resolve over IPv4.",
                    "태스크가 IPv6 주소로 연결했지만 서브넷에 IPv6 외부 경로가 없습니다. ::/0에 대한 송신 전용 인터넷 게이트웨이 경로를 추가하거나 레지스트리를 IPv4로 접근하게 하세요."
                ),
                vec![format!(
                    "aws ec2 create-route --region {region} --route-table-id {rtb} --destination-ipv6-cidr-block ::/0 --egress-only-internet-gateway-id <eigw-id>",
                    region = self.region
                )],
            )
        } else if cross_region_service && what.contains(".ecr.") {
            let image_region = what
                .strip_prefix("com.amazonaws.")
                .and_then(|rest| rest.split('.').next())
                .unwrap_or_default();
            self.cross_region_image_fix(image_region, rtb)
        } else {
            let commands = self.nat_route_commands(
                "create-route",
                rtb,
                ("--destination-cidr-block", "0.0.0.0/0"),
            );
            let fix = match &commands {
                Some(_) => t!(
                    "Give the subnet a way out: a default route to a NAT gateway in a public subnet.",
                    "서브넷에 외부로 나갈 경로를 추가하세요: 퍼블릭 서브넷의 NAT 게이트웨이로 가는 기본 경로."
                ),
                None => t!(
                    "Give the subnet a way out: a default route to a NAT gateway. The VPC has no public subnet (a default route to an internet gateway) to put one in: attach an internet gateway and make a public subnet first, or route through a transit gateway that has a way out.",
                    "서브넷에 외부로 나갈 경로를 추가하세요: NAT 게이트웨이로 가는 기본 경로. 이 VPC에는 NAT 게이트웨이를 둘 퍼블릭 서브넷(인터넷 게이트웨이로 가는 기본 경로)이 없으니, 먼저 인터넷 게이트웨이를 연결하고 퍼블릭 서브넷을 만들거나 외부 경로가 있는 트랜짓 게이트웨이를 거치게 하세요."
                ),
            };
            (fix, commands.unwrap_or_default())
        };
        self.findings.push(Finding {
            code: Code::NoRouteToTarget,
            severity: Code::NoRouteToTarget.severity(),
            summary: t!(
                "Nothing routes subnet {subnet}'s traffic to {what}{ip}: no default route and no VPC endpoint for it.",
                "서브넷 {subnet}에서 {what}{ip}(으)로 가는 경로가 없습니다. 기본 경로도 해당 VPC 엔드포인트도 없습니다.",
                subnet = self.subnet.subnet_id,
                ip = self.dialled_text()
            ),
            evidence,
            fix,
            commands,
            remedy: None,
        });
    }
}

fn upstream_note(ip: IpAddr) -> Localized {
    t!(
        "The layer download went to {ip}, which is not in AWS's published ranges: a pull-through cache's upstream registry (or its CDN) serves it over the internet, so S3 endpoints do not help.",
        "레이어 다운로드가 AWS 공개 대역에 없는 {ip}로 갔습니다. 풀스루 캐시의 업스트림 레지스트리(또는 그 CDN)가 인터넷으로 제공하므로 S3 엔드포인트로는 해결되지 않습니다."
    )
}
