//! An address inside the VPC: usually an interface endpoint's network interface, found by the
//! address the task dialled.

use super::*;

impl<'a> Rules<'a> {
    pub(super) fn evaluate_in_vpc(&mut self, ip: IpAddr, expected_service: Option<String>) {
        let eni = self.view.interface_with_ip(ip);
        let endpoint = eni
            .and_then(|n| n.vpc_endpoint_id())
            .and_then(|id| self.view.endpoint(id))
            .or_else(|| {
                // Without the interface list, an endpoint of the expected service is the
                // likely owner of a VPC-internal address.
                let name = expected_service.as_deref()?;
                self.view
                    .endpoints_for(&self.vpc_id, name)
                    .into_iter()
                    .find(|e| e.is_interface())
            });
        self.open_path.push(t!(
            "{ip} is inside the VPC's CIDR, so the local route carries it.",
            "{ip}는 VPC CIDR 안의 주소이므로 local 경로로 전달됩니다."
        ));
        match endpoint {
            Some(endpoint) => {
                if eni.is_none() {
                    self.not_inspected.push(t!(
                        "which network interface holds {ip}: assumed to be endpoint {vpce}",
                        "{ip}를 가진 네트워크 인터페이스: 엔드포인트 {vpce}로 가정함",
                        vpce = endpoint.vpc_endpoint_id
                    ));
                }
                self.check_endpoint_path(endpoint, Some(ip));
            }
            None => {
                self.not_inspected.push(t!(
                    "what listens on {ip} inside the VPC (not an endpoint in the view)",
                    "VPC 내부 주소 {ip}의 대상(네트워크 정보의 엔드포인트가 아님)"
                ));
                self.check_filters(&Peer::ip(ip), &ip.to_string());
            }
        }
    }
}
