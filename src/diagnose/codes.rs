//! The finding codes: one table, from which the enum, the list of every code, each code's
//! name, severity and meaning (the finding-code table of docs/diagnosing.md, which a test keeps equal) are
//! derived. A new code is one row here.

use serde::{Serialize, Serializer};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks the pull: fix this.
    Critical,
    /// Contributes, or limits what the diagnosis could see.
    Warning,
    /// Nothing found to fix.
    Info,
}

macro_rules! codes {
    ($($variant:ident => $name:literal, $severity:ident, $meaning:literal;)*) => {
        /// A finding's stable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in the order of the table.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            pub fn severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$severity,)*
                }
            }

            /// What the code means, as the finding-code table of docs/diagnosing.md says it.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Code::$variant => $meaning,)*
                }
            }
        }
    };
}

codes! {
    S3RouteMissing => "S3_ROUTE_MISSING", Critical,
        "The VPC has an S3 gateway endpoint, but the task subnet's route table (its explicit association, else the VPC's main table) has no route to it and no usable default route. Fix: associate the endpoint with the table(s).";
    S3GatewayEndpointMissing => "S3_GATEWAY_ENDPOINT_MISSING", Critical,
        "Layers must come from S3, the VPC has no S3 gateway endpoint, and the subnet has no usable default route.";
    S3EndpointPolicyDeniesLayerBucket => "S3_ENDPOINT_POLICY_DENIES_LAYER_BUCKET", Critical,
        "The S3 endpoint's policy does not allow `s3:GetObject` on `arn:aws:s3:::prod-<region>-starport-layer-bucket/*`. Policies with conditions or specific principals are reported as not inspected, never guessed.";
    CrossRegionLayerBucket => "CROSS_REGION_LAYER_BUCKET", Critical,
        "The layers are in S3 in another region (a gateway endpoint serves only its own region) and there is no default route.";
    S3GatewayEndpointRecommended => "S3_GATEWAY_ENDPOINT_RECOMMENDED", Warning,
        "Not the cause: S3 traffic leaves the VPC through a transit gateway, virtual private gateway or appliance that this tool cannot follow; an S3 gateway endpoint route is recommended (free, and it needs nothing beyond the VPC).";
    RouteBlackhole => "ROUTE_BLACKHOLE", Critical,
        "The route that would carry the traffic is a blackhole (its NAT gateway, internet gateway or endpoint is gone).";
    NatGatewayNotAvailable => "NAT_GATEWAY_NOT_AVAILABLE", Critical,
        "The route's NAT gateway is `pending`, `failed`, `deleting` or `deleted`.";
    PublicIpMissing => "PUBLIC_IP_MISSING", Critical,
        "The default route goes to an internet gateway but the task has no public IP (`assignPublicIp` DISABLED, or awsvpc on EC2).";
    NoRouteToTarget => "NO_ROUTE_TO_TARGET", Critical,
        "Nothing routes the target: no default route and no endpoint can serve it (Docker Hub, another region, IPv6), or the NAT gateway itself has no way to the internet.";
    InterfaceEndpointMissing => "INTERFACE_ENDPOINT_MISSING", Critical,
        "The hop needs an interface endpoint (`ecr.api`, `ecr.dkr`, `secretsmanager`, `ssm`, `logs`; named in the finding), there is no default route, and the VPC lacks it.";
    EndpointPrivateDnsDisabled => "ENDPOINT_PRIVATE_DNS_DISABLED", Critical,
        "The interface endpoint exists but has private DNS off, so the service name resolves to public addresses.";
    VpcDnsDisabled => "VPC_DNS_DISABLED", Critical,
        "The VPC has `enableDnsSupport` or `enableDnsHostnames` off, so an endpoint's private DNS name does not resolve to it.";
    EndpointSgBlocksHttps => "ENDPOINT_SG_BLOCKS_HTTPS", Critical,
        "The endpoint's security groups do not admit TCP 443 from the task (its security groups, IP or subnet CIDR).";
    TaskSgBlocksHttps => "TASK_SG_BLOCKS_HTTPS", Critical,
        "The task's security groups have no egress for TCP 443 to the target (CIDR, S3 prefix list, or the endpoint's security group).";
    NaclBlocksHttps => "NACL_BLOCKS_HTTPS", Critical,
        "The subnet's network ACL denies TCP 443 out to the target, or the replies back on ephemeral ports 32768-60999 (rules evaluated by number; no match is a deny).";
    ImageNotFound => "IMAGE_NOT_FOUND", Critical,
        "The repository, tag or digest does not exist. Not a network problem.";
    RegistryAccessDenied => "REGISTRY_ACCESS_DENIED", Critical,
        "The registry refused the pull (execution role, repository policy or registry credentials).";
    StartupResourceNotFound => "STARTUP_RESOURCE_NOT_FOUND", Critical,
        "A secret, parameter, JSON key, environment file or log group the task needs at start-up does not exist (the image is not the problem).";
    AwsApiThrottled => "AWS_API_THROTTLED", Critical,
        "An AWS API the task needs at start-up (ECR's GetAuthorizationToken, SSM, Secrets Manager, CloudWatch Logs) throttled the calls.";
    RegistryRateLimited => "REGISTRY_RATE_LIMITED", Critical,
        "The registry throttled the pull (Docker Hub's anonymous limit per NAT IP).";
    ImagePlatformMismatch => "IMAGE_PLATFORM_MISMATCH", Critical,
        "The image has no variant for the task's CPU architecture.";
    ImageFormatUnsupported => "IMAGE_FORMAT_UNSUPPORTED", Critical,
        "The runtime cannot unpack the image (attestation manifests, zstd or mixed layer compression).";
    DiskFull => "DISK_FULL", Critical,
        "The host ran out of disk while unpacking the image.";
    SecretAccessDenied => "SECRET_ACCESS_DENIED", Critical,
        "The execution role may not read the secret or parameter named in the error.";
    ExecutionRoleAccessDenied => "EXECUTION_ROLE_ACCESS_DENIED", Critical,
        "The execution role was denied another start-up call (log stream, environment file).";
    NetworkPathLooksOpen => "NETWORK_PATH_LOOKS_OPEN", Info,
        "A network symptom, but nothing inspected blocks the path; the evidence lists each open step and `not_inspected` what was not seen (custom DNS, firewalls beyond a transit gateway…).";
    InspectionIncomplete => "INSPECTION_INCOMPLETE", Warning,
        "Inputs were missing (no network view, no subnet in the event, a snapshot key absent, no ip-ranges); the finding says which.";
}

impl Code {
    /// The codes a probe check of the network path decides (the rest come from the message
    /// alone, or say what was not seen): only these can be checked again against the
    /// network as it is now.
    pub const PATH: &'static [Code] = &[
        Code::S3RouteMissing,
        Code::S3GatewayEndpointMissing,
        Code::S3EndpointPolicyDeniesLayerBucket,
        Code::CrossRegionLayerBucket,
        Code::RouteBlackhole,
        Code::NatGatewayNotAvailable,
        Code::PublicIpMissing,
        Code::NoRouteToTarget,
        Code::InterfaceEndpointMissing,
        Code::EndpointPrivateDnsDisabled,
        Code::VpcDnsDisabled,
        Code::EndpointSgBlocksHttps,
        Code::TaskSgBlocksHttps,
        Code::NaclBlocksHttps,
    ];

    /// The code named `name`.
    pub fn parse(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == name)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_shouting_snake_case() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert!(names.iter().all(|n| n
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
    }

    #[test]
    fn path_codes_are_the_critical_network_findings() {
        assert!(Code::PATH
            .iter()
            .all(|c| c.severity() == Severity::Critical));
        assert!(Code::PATH.contains(&Code::S3RouteMissing));
        assert!(!Code::PATH.contains(&Code::ImageNotFound));
        assert_eq!(
            Code::parse("NACL_BLOCKS_HTTPS"),
            Some(Code::NaclBlocksHttps)
        );
        assert_eq!(Code::parse("S3_MISSING"), None);
    }
}
