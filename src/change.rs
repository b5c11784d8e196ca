//! A CloudTrail management event (as EventBridge delivers it, `AWS API Call via CloudTrail`)
//! → the network or service change it made, if it is one that can break image pulls.
//!
//! Pure. The watched calls are one list ([`WATCHED`]), which the template's rule pattern is
//! checked against. A call that failed (`errorCode`) changed nothing and is skipped, as is an
//! `UpdateService` that changes neither the task definition nor the network configuration
//! and forces no new deployment.

use serde_json::Value;

use crate::untrusted;

/// The calls that can break a pull path, by CloudTrail `eventSource`.
pub const WATCHED: &[(&str, &[&str])] = &[
    (
        "ec2.amazonaws.com",
        &[
            "AssociateRouteTable",
            "DisassociateRouteTable",
            "ReplaceRouteTableAssociation",
            "CreateRoute",
            "ReplaceRoute",
            "DeleteRoute",
            "ModifyVpcEndpoint",
            "DeleteVpcEndpoints",
            "RevokeSecurityGroupEgress",
            "ModifySecurityGroupRules",
            "CreateNetworkAclEntry",
            "ReplaceNetworkAclEntry",
            "DeleteNetworkAclEntry",
            "ReplaceNetworkAclAssociation",
            "DeleteNatGateway",
            "ModifyVpcAttribute",
            // A new interface endpoint with private DNS takes the service's name over, so a
            // closed security group on it breaks pulls that worked through the NAT.
            "CreateVpcEndpoint",
            "DetachInternetGateway",
            "ModifyNetworkInterfaceAttribute",
        ],
    ),
    ("ecs.amazonaws.com", &["CreateService", "UpdateService"]),
];

/// What the change can affect, so only that is audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeScope {
    /// Every service of the region: a network change does not always name its VPC
    /// (`DisassociateRouteTable` records only the association's ID).
    Region,
    /// One service (`CreateService`, `UpdateService`).
    Service { cluster: String, service: String },
}

/// One change, with who made it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub event_name: String,
    pub event_id: Option<String>,
    /// `userIdentity.arn`, else its principal or type.
    pub actor: String,
    /// `eventTime` (ISO 8601).
    pub at: String,
    pub region: Option<String>,
    pub account: Option<String>,
    pub scope: ChangeScope,
    /// The resource IDs the request names (`rtb-…`, `rtbassoc-…`, `sg-…`, `vpce-…`…).
    pub resources: Vec<String>,
}

/// What became of a CloudTrail event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeEvent {
    Change(Box<Change>),
    /// Not a change that can break a pull: why.
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("not a CloudTrail API call event: {0}")]
    NotCloudTrail(String),
    #[error("the CloudTrail record has no {0}")]
    Missing(&'static str),
    /// The envelope's account or region is malformed, or the record's disagrees with it.
    #[error("the event's identity cannot be trusted: {0}")]
    Untrusted(crate::trust::Untrusted),
}

impl From<crate::trust::Untrusted> for ChangeError {
    fn from(why: crate::trust::Untrusted) -> ChangeError {
        ChangeError::Untrusted(why)
    }
}

/// An RFC 3339 time's characters and length (`2026-12-06T10:00:00Z`): nothing else is
/// put in a sentence as the time of a change.
fn is_timestamp(text: &str) -> bool {
    (10..=40).contains(&text.len())
        && text.starts_with(|c: char| c.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b"-:.+TZ".contains(&b))
}

fn text<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = value;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str().filter(|s| !s.is_empty())
}

/// Reads one EventBridge event.
pub fn parse_change(event: &Value) -> Result<ChangeEvent, ChangeError> {
    let detail_type = text(event, &["detail-type"]).unwrap_or("");
    if detail_type != "AWS API Call via CloudTrail" {
        return Err(ChangeError::NotCloudTrail(detail_type.to_string()));
    }
    let detail = event
        .get("detail")
        .filter(|d| d.is_object())
        .ok_or(ChangeError::Missing("detail"))?;
    let name = text(detail, &["eventName"]).ok_or(ChangeError::Missing("detail.eventName"))?;
    let source =
        text(detail, &["eventSource"]).ok_or(ChangeError::Missing("detail.eventSource"))?;
    let watched = WATCHED
        .iter()
        .any(|(s, names)| *s == source && names.contains(&name));
    if !watched {
        return Ok(ChangeEvent::Skipped(format!(
            "{source} {name} cannot break an image pull"
        )));
    }
    if let Some(code) = text(detail, &["errorCode"]) {
        return Ok(ChangeEvent::Skipped(format!(
            "{name} failed ({code}), so it changed nothing"
        )));
    }
    let request = detail.get("requestParameters").unwrap_or(&Value::Null);
    let scope = if source == "ecs.amazonaws.com" {
        let cluster = text(request, &["cluster"]).unwrap_or("default");
        let Some(service) = text(request, &["service"]).or(text(request, &["serviceName"])) else {
            return Err(ChangeError::Missing("requestParameters.service"));
        };
        // A forced new deployment pulls again too (on EC2 a cached image may hide a path
        // broken since the last one).
        let changes_pull = name == "CreateService"
            || request.get("forceNewDeployment").and_then(Value::as_bool) == Some(true)
            || [
                "taskDefinition",
                "networkConfiguration",
                "capacityProviderStrategy",
                "launchType",
            ]
            .iter()
            .any(|k| request.get(k).is_some_and(|v| !v.is_null()));
        if !changes_pull {
            return Ok(ChangeEvent::Skipped(format!(
                "{name} of {service} changes neither its task definition nor its network, and forces no new deployment"
            )));
        }
        ChangeScope::Service {
            cluster: untrusted::one_line(last_segment(cluster), untrusted::MAX_NAME_BYTES),
            service: untrusted::one_line(last_segment(service), untrusted::MAX_NAME_BYTES),
        }
    } else {
        ChangeScope::Region
    };
    let (account, region) = trusted_account_and_region(event, detail, request)?;
    let identity = detail.get("userIdentity").unwrap_or(&Value::Null);
    let actor = untrusted::one_line(
        text(identity, &["arn"])
            .or(text(identity, &["principalId"]))
            .or(text(identity, &["type"]))
            .unwrap_or("unknown"),
        untrusted::MAX_NAME_BYTES,
    );
    let mut resources = Vec::new();
    collect_ids(request, &mut resources);
    Ok(ChangeEvent::Change(Box::new(Change {
        event_name: name.to_string(),
        event_id: text(detail, &["eventID"])
            .map(|id| untrusted::one_line(id, untrusted::MAX_NAME_BYTES)),
        actor,
        at: text(detail, &["eventTime"])
            .or(text(event, &["time"]))
            .filter(|at| is_timestamp(at))
            .unwrap_or("")
            .to_string(),
        region,
        account,
        scope,
        resources,
    })))
}

/// The account and region the change was made in: the record's `recipientAccountId` and
/// `awsRegion`, which must agree with the envelope's `account` and `region` (EventBridge sets
/// both from the same record; a document where they differ was written by someone else), and
/// the ARNs the request names must be in them.
fn trusted_account_and_region(
    event: &Value,
    detail: &Value,
    request: &Value,
) -> Result<(Option<String>, Option<String>), ChangeError> {
    use crate::trust::{check_identity, Untrusted};
    let (envelope_account, envelope_region) = (text(event, &["account"]), text(event, &["region"]));
    check_identity(envelope_account, envelope_region, &[])?;
    let recipient = text(detail, &["recipientAccountId"]);
    let aws_region = text(detail, &["awsRegion"]);
    if recipient.is_some_and(|a| !crate::trust::is_account_id(a)) {
        return Err(Untrusted::Account {
            field: "detail.recipientAccountId",
        }
        .into());
    }
    if aws_region.is_some_and(|r| !crate::trust::is_region(r)) {
        return Err(Untrusted::Region {
            field: "detail.awsRegion",
        }
        .into());
    }
    if let (Some(envelope), Some(recipient)) = (envelope_account, recipient) {
        if envelope != recipient {
            return Err(Untrusted::OtherAccount {
                field: "detail.recipientAccountId",
                named: recipient.to_string(),
                account: envelope.to_string(),
            }
            .into());
        }
    }
    if let (Some(envelope), Some(aws_region)) = (envelope_region, aws_region) {
        if envelope != aws_region {
            return Err(Untrusted::OtherRegion {
                field: "detail.awsRegion",
                named: aws_region.to_string(),
                region: envelope.to_string(),
            }
            .into());
        }
    }
    let account = recipient.or(envelope_account);
    let region = aws_region.or(envelope_region);
    let arn = |key: &str| text(request, &[key]).filter(|v| v.starts_with("arn:"));
    check_identity(
        account,
        region,
        &[
            ("requestParameters.cluster", arn("cluster")),
            ("requestParameters.service", arn("service")),
        ],
    )?;
    Ok((account.map(str::to_string), region.map(str::to_string)))
}

/// A service or cluster given by ARN (`…:service/CLUSTER/NAME`) or by name.
fn last_segment(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// Every string in the request that is an EC2 resource ID, in order, each once; the request
/// shapes differ from call to call (`routeTableId`, `RouteTableId`, `item` lists…), the IDs
/// do not.
fn collect_ids(value: &Value, out: &mut Vec<String>) {
    const PREFIXES: &[&str] = &[
        "rtbassoc-",
        "rtb-",
        "subnet-",
        "vpc-",
        "vpce-",
        "sg-",
        "sgr-",
        "acl-",
        "aclassoc-",
        "nat-",
        "igw-",
        "eigw-",
        "tgw-",
        "pcx-",
        "eni-",
        "pl-",
    ];
    match value {
        Value::String(s) => {
            let id = s.trim();
            let looks_like_id = PREFIXES.iter().any(|p| {
                id.strip_prefix(p).is_some_and(|rest| {
                    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_hexdigit())
                })
            });
            if looks_like_id && !out.iter().any(|o| o == id) {
                out.push(id.to_string());
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_ids(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(detail: Value) -> Value {
        json!({"version": "0", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
               "account": "123456789012", "region": "ap-northeast-2", "detail": detail})
    }

    #[test]
    fn a_route_table_disassociation_is_a_region_wide_change_with_its_association() {
        let parsed = parse_change(&event(json!({
            "eventSource": "ec2.amazonaws.com", "eventName": "DisassociateRouteTable",
            "eventTime": "2026-12-01T02:03:04Z", "awsRegion": "ap-northeast-2",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/ops/alice"},
            "requestParameters": {"associationId": "rtbassoc-0a1b2c3d4e5f60718"}
        })))
        .unwrap();
        let ChangeEvent::Change(change) = parsed else {
            panic!("{parsed:?}")
        };
        assert_eq!(change.scope, ChangeScope::Region);
        assert_eq!(change.resources, ["rtbassoc-0a1b2c3d4e5f60718"]);
        assert_eq!(
            change.actor,
            "arn:aws:sts::123456789012:assumed-role/ops/alice"
        );
    }

    #[test]
    fn an_actor_or_a_time_cannot_forge_a_line_of_the_alarm() {
        let parsed = parse_change(&event(json!({
            "eventSource": "ec2.amazonaws.com", "eventName": "DisassociateRouteTable",
            "eventTime": "2026-12-01\n*Fixed* ✓", "awsRegion": "ap-northeast-2",
            "userIdentity": {"arn": "arn:aws:sts::123456789012:assumed-role/ops/alice\n*Fixed* ✓ \u{202e}x"},
            "requestParameters": {"associationId": "rtbassoc-0a1b2c3d4e5f60718"}
        })))
        .unwrap();
        let ChangeEvent::Change(change) = parsed else {
            panic!("{parsed:?}")
        };
        assert_eq!(
            change.actor,
            "arn:aws:sts::123456789012:assumed-role/ops/alice *Fixed* ✓ x"
        );
        assert_eq!(change.at, "", "a time that is not a time is not said");
    }

    #[test]
    fn a_record_whose_account_or_region_disagrees_with_its_envelope_is_refused() {
        let change = |detail: Value| {
            let mut detail = detail;
            detail["eventSource"] = "ec2.amazonaws.com".into();
            detail["eventName"] = "DeleteRoute".into();
            parse_change(&event(detail))
        };
        assert!(matches!(
            change(json!({"recipientAccountId": "123456789012", "awsRegion": "ap-northeast-2"})),
            Ok(ChangeEvent::Change(_))
        ));
        for (detail, said) in [
            (
                json!({"recipientAccountId": "210987654321"}),
                "detail.recipientAccountId names account 210987654321, not the event's account 123456789012",
            ),
            (
                json!({"recipientAccountId": "2109876543"}),
                "detail.recipientAccountId is not a 12-digit account ID",
            ),
            (
                json!({"awsRegion": "us-east-1"}),
                "detail.awsRegion names region us-east-1",
            ),
            (
                json!({"awsRegion": "ap-northeast-2|<!channel>"}),
                "detail.awsRegion is not a region name",
            ),
        ] {
            let refused = change(detail.clone()).unwrap_err();
            assert!(matches!(refused, ChangeError::Untrusted(_)), "{detail}");
            assert!(refused.to_string().contains(said), "{detail}: {refused}");
        }
        let mut forged = event(
            json!({"eventSource": "ecs.amazonaws.com", "eventName": "UpdateService",
            "requestParameters": {"cluster": "arn:aws:ecs:ap-northeast-2:999999999999:cluster/prod",
                                  "service": "web", "taskDefinition": "web:43"}}),
        );
        assert!(matches!(
            parse_change(&forged),
            Err(ChangeError::Untrusted(_))
        ));
        forged["account"] = "12345".into();
        assert!(matches!(
            parse_change(&forged),
            Err(ChangeError::Untrusted(_))
        ));
    }

    #[test]
    fn failed_calls_unwatched_calls_and_scaling_are_skipped() {
        let failed = event(
            json!({"eventSource": "ec2.amazonaws.com", "eventName": "DeleteRoute",
                                  "errorCode": "Client.UnauthorizedOperation"}),
        );
        assert!(matches!(parse_change(&failed), Ok(ChangeEvent::Skipped(_))));
        let unwatched =
            event(json!({"eventSource": "ec2.amazonaws.com", "eventName": "CreateTags"}));
        assert!(matches!(
            parse_change(&unwatched),
            Ok(ChangeEvent::Skipped(_))
        ));
        let scaling = event(
            json!({"eventSource": "ecs.amazonaws.com", "eventName": "UpdateService",
                                   "requestParameters": {"cluster": "prod", "service": "web", "desiredCount": 4}}),
        );
        assert!(matches!(
            parse_change(&scaling),
            Ok(ChangeEvent::Skipped(_))
        ));
        let redeploy = event(
            json!({"eventSource": "ecs.amazonaws.com", "eventName": "UpdateService",
                                    "requestParameters": {"cluster": "arn:aws:ecs:ap-northeast-2:123456789012:cluster/prod",
                                                          "service": "web", "taskDefinition": "web:43"}}),
        );
        let Ok(ChangeEvent::Change(change)) = parse_change(&redeploy) else {
            panic!()
        };
        assert_eq!(
            change.scope,
            ChangeScope::Service {
                cluster: "prod".into(),
                service: "web".into()
            }
        );
    }

    #[test]
    fn a_document_that_is_not_cloudtrail_is_an_error() {
        assert!(parse_change(&json!({"detail-type": "ECS Task State Change"})).is_err());
        assert!(parse_change(&json!({"detail-type": "AWS API Call via CloudTrail"})).is_err());
        assert!(parse_change(&event(json!({"eventSource": "ec2.amazonaws.com"}))).is_err());
    }
}
