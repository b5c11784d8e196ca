//! Security groups and network ACLs on the path, for TCP 443 and its replies.

use super::*;

impl<'a> Rules<'a> {
    // ---- security groups and NACLs -----------------------------------------------------

    /// The task's egress rules and the subnet's NACL, for TCP 443 to `peer`.
    pub(super) fn check_filters(&mut self, peer: &Peer, what: &str) {
        self.check_task_egress(peer, what);
        self.check_nacl(peer, what);
    }

    pub(super) fn check_task_egress(&mut self, peer: &Peer, what: &str) {
        let Some(groups) = self.task_groups.clone() else {
            return;
        };
        if peer.is_unknown() {
            return;
        }
        if groups_admit(self.view, &groups, true, peer, HTTPS) {
            self.open_path.push(t!(
                "The task's security groups ({ids}) allow TCP 443 out to {what}.",
                "태스크 보안 그룹({ids})은 {what}(으)로 나가는 TCP 443을 허용합니다.",
                ids = self.task_group_ids.join(", ")
            ));
            return;
        }
        let cidr_rules = groups.iter().any(|g| {
            g.ip_permissions_egress
                .iter()
                .any(|r| r.admits_tcp_port(HTTPS) && r.cidrs().next().is_some())
        });
        if peer.nets.is_empty() && cidr_rules {
            // Known only by reference, the far side may or may not be inside those CIDRs.
            self.not_inspected.push(t!(
                "the task's security groups ({ids}) for {what}: its addresses are unknown (the prefix list's Cidrs were not read), so their CIDR rules were not evaluated",
                "{what}에 대한 태스크 보안 그룹({ids}): 주소를 알 수 없어(접두사 목록의 Cidrs를 읽지 못함) CIDR 규칙을 평가하지 못했습니다",
                ids = self.task_group_ids.join(", ")
            ));
            return;
        }
        let group = groups[0].group_id.clone();
        let (target_en, target_ko, permission) = if let Some(pl) = peer.prefix_list_ids.first() {
            (
                format!("prefix list {pl}"),
                format!("접두사 목록 {pl}"),
                format!(
                    "IpProtocol=tcp,FromPort=443,ToPort=443,PrefixListIds=[{{PrefixListId={pl}}}]"
                ),
            )
        } else if let Some(sg) = peer.group_ids.first() {
            (
                format!("security group {sg}"),
                format!("보안 그룹 {sg}"),
                format!(
                    "IpProtocol=tcp,FromPort=443,ToPort=443,UserIdGroupPairs=[{{GroupId={sg}}}]"
                ),
            )
        } else {
            // Egress to any address of the peer's family: an internet peer's address changes
            // (DNS answers rotate), and an IPv6 peer needs an IPv6 rule. A private peer
            // outside the VPC (a hub's endpoints) gets the range its route covers.
            let ipv6 = peer.nets.first().is_some_and(|n| n.addr().is_ipv6());
            let private_range = match peer.nets.as_slice() {
                [single] if single.addr().is_ipv4() && is_private(single.addr()) => {
                    self.routed_range(single.addr())
                }
                _ => None,
            };
            let (cidr, key) = if let Some(range) = private_range {
                (range.to_string(), format!("IpRanges=[{{CidrIp={range}}}]"))
            } else if ipv6 {
                (
                    "::/0".to_string(),
                    "Ipv6Ranges=[{CidrIpv6=::/0}]".to_string(),
                )
            } else {
                (
                    "0.0.0.0/0".to_string(),
                    "IpRanges=[{CidrIp=0.0.0.0/0}]".to_string(),
                )
            };
            (
                cidr.clone(),
                cidr,
                format!("IpProtocol=tcp,FromPort=443,ToPort=443,{key}"),
            )
        };
        let targets: Vec<String> = peer.nets.iter().map(|n| n.to_string()).take(4).collect();
        self.findings.push(Finding {
            code: Code::TaskSgBlocksHttps,
            severity: Code::TaskSgBlocksHttps.severity(),
            summary: t!(
                "The task's security groups ({ids}) do not allow TCP 443 out to {what}, so its connections never leave the task.",
                "태스크 보안 그룹({ids})이 {what}(으)로 나가는 TCP 443을 허용하지 않아 연결이 태스크를 벗어나지 못합니다.",
                ids = self.task_group_ids.join(", ")
            ),
            evidence: vec![t!(
                "No egress rule of {ids} covers TCP 443 to {list}{pl_en}.",
                "{ids}의 아웃바운드 규칙 중 {list}{pl_ko}(으)로 가는 TCP 443을 허용하는 것이 없습니다.",
                ids = self.task_group_ids.join(", "),
                list = targets.join(", "),
                pl_en = if peer.prefix_list_ids.is_empty() && peer.group_ids.is_empty() { String::new() } else { format!(" ({target_en})") },
                pl_ko = if peer.prefix_list_ids.is_empty() && peer.group_ids.is_empty() { String::new() } else { format!(" ({target_ko})") }
            )],
            fix: t!(
                "Allow TCP 443 out to {target_en} in the task's security group.",
                "태스크 보안 그룹에 {target_ko}(으)로 나가는 TCP 443을 허용하세요."
            ),
            commands: vec![format!(
                "aws ec2 authorize-security-group-egress --region {region} --group-id {group} --ip-permissions '{permission}'",
                region = self.region
            )],
            remedy: None,
        });
    }

    /// The CIDR of the (non-default) route that carries `ip`, else `ip` alone.
    fn routed_range(&self, ip: IpAddr) -> Option<IpNet> {
        let (table, _) = self.table?;
        let chosen = route_for(self.view, table, &Destination::Ip(ip))
            .filter(|c| c.prefix_len > 0 && c.route.destination_prefix_list_id.is_none());
        Some(
            match chosen.and_then(|c| c.route.destination_cidr_block.as_deref()) {
                Some(cidr) => cidr.parse().ok()?,
                None => IpNet::from(ip),
            },
        )
    }

    pub(super) fn check_nacl(&mut self, peer: &Peer, what: &str) {
        let Some(acl) = self.acl else { return };
        if peer.nets.is_empty() {
            // The far side's addresses are unknown (a prefix list whose CIDRs were not read):
            // only an ACL open to every address both ways can be called open.
            let any: Vec<IpNet> = vec!["0.0.0.0/0".parse().expect("static CIDR")];
            let open = nacl_verdict(acl, true, &any, (HTTPS, HTTPS)) == NaclVerdict::Allowed
                && nacl_verdict(acl, false, &any, EPHEMERAL_PORTS) == NaclVerdict::Allowed;
            if open {
                self.open_path.push(t!(
                    "Network ACL {acl_id} allows TCP 443 out to any address and the replies back on ephemeral ports.",
                    "네트워크 ACL {acl_id}는 모든 주소로 나가는 TCP 443과 임시 포트로 돌아오는 응답을 허용합니다.",
                    acl_id = acl.network_acl_id
                ));
            } else {
                self.not_inspected.push(t!(
                    "network ACL {acl_id} for {what}: its addresses are unknown (the prefix list's Cidrs were not read), so the ACL's rules were not evaluated",
                    "{what}에 대한 네트워크 ACL {acl_id}: 주소를 알 수 없어(접두사 목록의 Cidrs를 읽지 못함) ACL 규칙을 평가하지 못했습니다",
                    acl_id = acl.network_acl_id
                ));
            }
            return;
        }
        let out = nacl_verdict(acl, true, &peer.nets, (HTTPS, HTTPS));
        let back = nacl_verdict(acl, false, &peer.nets, EPHEMERAL_PORTS);
        let acl_id = acl.network_acl_id.as_str();
        let mut problems: Vec<(bool, NaclVerdict)> = Vec::new();
        if out != NaclVerdict::Allowed {
            problems.push((true, out));
        }
        if back != NaclVerdict::Allowed {
            problems.push((false, back));
        }
        if problems.is_empty() {
            self.open_path.push(t!(
                "Network ACL {acl_id} allows TCP 443 out to {what} and the replies back on ephemeral ports.",
                "네트워크 ACL {acl_id}는 {what}(으)로 나가는 TCP 443과 임시 포트로 돌아오는 응답을 허용합니다."
            ));
            return;
        }
        let mut evidence = Vec::new();
        let mut commands = Vec::new();
        for (egress, verdict) in &problems {
            let NaclVerdict::Denied {
                rule_number,
                net,
                ports,
            } = verdict
            else {
                continue;
            };
            let rule = rule_number.map_or_else(|| "*".to_string(), |n| n.to_string());
            let (lo, hi) = ports;
            evidence.push(if *egress {
                t!(
                    "Outbound rule {rule} of {acl_id} denies TCP {lo}-{hi} to {net}.",
                    "{acl_id}의 아웃바운드 규칙 {rule}이(가) {net}(으)로 가는 TCP {lo}-{hi}를 거부합니다."
                )
            } else {
                t!(
                    "Inbound rule {rule} of {acl_id} denies the replies from {net} on TCP {lo}-{hi} (NACLs are stateless: replies need their own rule).",
                    "{acl_id}의 인바운드 규칙 {rule}이(가) {net}에서 TCP {lo}-{hi}로 돌아오는 응답을 거부합니다(NACL은 상태 비저장이라 응답용 규칙이 따로 필요)."
                )
            });
            let number = free_rule_number(acl, *egress, *rule_number);
            let (direction, from, to) = if *egress {
                ("--egress", 443, 443)
            } else {
                ("--ingress", 1024, 65535)
            };
            let cidr_flag = if net.addr().is_ipv6() {
                "--ipv6-cidr-block"
            } else {
                "--cidr-block"
            };
            commands.push(format!(
                "aws ec2 create-network-acl-entry --region {region} --network-acl-id {acl_id} {direction} --rule-number {number} --protocol tcp --port-range From={from},To={to} {cidr_flag} {net} --rule-action allow",
                region = self.region
            ));
        }
        self.findings.push(Finding {
            code: Code::NaclBlocksHttps,
            severity: Code::NaclBlocksHttps.severity(),
            summary: t!(
                "Network ACL {acl_id} of subnet {subnet} blocks the HTTPS traffic to {what} or its replies.",
                "서브넷 {subnet}의 네트워크 ACL {acl_id}가 {what}(으)로 가는 HTTPS 트래픽이나 그 응답을 차단합니다.",
                subnet = self.subnet.subnet_id
            ),
            evidence,
            fix: t!(
                "Add allow entries numbered below the denying rule: TCP 443 outbound and TCP 1024-65535 inbound for the destination.",
                "거부 규칙보다 작은 번호로 허용 규칙을 추가하세요: 대상에 대해 아웃바운드 TCP 443, 인바운드 TCP 1024-65535."
            ),
            commands,
            remedy: None,
        });
    }
}
