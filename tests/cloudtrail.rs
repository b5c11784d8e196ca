//! The recorded CloudTrail change shapes (`tests/fixtures/cloudtrail/`, sources in its
//! SOURCES.md) → the change each one is: every watched call is read, with the IDs its request
//! names and who made it, whatever nesting the call records (`associationId` flat,
//! `DeleteVpcEndpointsRequest.VpcEndpointId.content` nested).

mod common;

use ecs_pull_doctor::change::{parse_change, ChangeEvent, ChangeScope, WATCHED};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    serde_json::from_str(&common::read(&format!(
        "tests/fixtures/cloudtrail/{name}.json"
    )))
    .unwrap()
}

fn change(name: &str) -> ecs_pull_doctor::change::Change {
    match parse_change(&fixture(name)) {
        Ok(ChangeEvent::Change(change)) => *change,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn every_recorded_network_change_names_its_resources_and_who_made_it() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "disassociate-route-table",
            "DisassociateRouteTable",
            &["rtbassoc-"],
        ),
        (
            "associate-route-table",
            "AssociateRouteTable",
            &["rtb-", "subnet-"],
        ),
        (
            "replace-route-table-association",
            "ReplaceRouteTableAssociation",
            &["rtbassoc-", "rtb-"],
        ),
        ("create-route", "CreateRoute", &["rtb-", "nat-"]),
        ("replace-route", "ReplaceRoute", &["rtb-", "nat-"]),
        ("delete-route", "DeleteRoute", &["rtb-"]),
        (
            "modify-vpc-endpoint-remove-route-table",
            "ModifyVpcEndpoint",
            &["vpce-", "rtb-"],
        ),
        ("delete-vpc-endpoints", "DeleteVpcEndpoints", &["vpce-"]),
        (
            "revoke-security-group-egress",
            "RevokeSecurityGroupEgress",
            &["sg-"],
        ),
        (
            "modify-security-group-rules",
            "ModifySecurityGroupRules",
            &["sg-", "sgr-"],
        ),
        (
            "replace-network-acl-entry",
            "ReplaceNetworkAclEntry",
            &["acl-"],
        ),
        (
            "delete-network-acl-entry",
            "DeleteNetworkAclEntry",
            &["acl-"],
        ),
        (
            "replace-network-acl-association",
            "ReplaceNetworkAclAssociation",
            &["aclassoc-", "acl-"],
        ),
        ("delete-nat-gateway", "DeleteNatGateway", &["nat-"]),
        ("modify-vpc-attribute", "ModifyVpcAttribute", &["vpc-"]),
    ];
    for (file, event_name, prefixes) in cases {
        let change = change(file);
        assert_eq!(change.event_name, *event_name, "{file}");
        assert_eq!(change.scope, ChangeScope::Region, "{file}");
        for prefix in *prefixes {
            assert!(
                change.resources.iter().any(|r| r.starts_with(prefix)),
                "{file}: no {prefix} in {:?}",
                change.resources
            );
        }
        assert!(
            change.actor.starts_with("arn:aws:"),
            "{file}: {}",
            change.actor
        );
        assert_eq!(change.region.as_deref(), Some("ap-northeast-2"), "{file}");
        assert!(!change.at.is_empty(), "{file}");
    }
    // Every watched call has a recorded shape here or in the ECS test below, but these,
    // whose IDs sit in request shapes like their siblings' (no recorded event was found).
    let without_fixture = [
        "CreateNetworkAclEntry",
        "CreateVpcEndpoint",
        "DetachInternetGateway",
        "ModifyNetworkInterfaceAttribute",
    ];
    for (_, names) in WATCHED {
        for name in *names {
            let covered = cases.iter().any(|(_, event_name, _)| event_name == name)
                || ["CreateService", "UpdateService"].contains(name)
                || without_fixture.contains(name);
            assert!(
                covered,
                "{name} has no recorded shape and is not listed as lacking one"
            );
        }
    }
}

#[test]
fn service_changes_are_scoped_to_their_service() {
    for (file, service) in [
        ("ecs-update-service", "web"),
        ("ecs-create-service", "web-canary"),
    ] {
        let change = change(file);
        assert_eq!(
            change.scope,
            ChangeScope::Service {
                cluster: "prod".into(),
                service: service.into()
            },
            "{file}"
        );
    }
    // A forced redeployment pulls again; a scaling change does not.
    let mut forced = fixture("ecs-update-service");
    let request = forced["detail"]["requestParameters"]
        .as_object_mut()
        .unwrap();
    request.retain(|k, _| k == "cluster" || k == "service");
    request.insert("forceNewDeployment".into(), true.into());
    assert!(matches!(parse_change(&forced), Ok(ChangeEvent::Change(_))));
    let request = forced["detail"]["requestParameters"]
        .as_object_mut()
        .unwrap();
    request.insert("forceNewDeployment".into(), false.into());
    request.insert("desiredCount".into(), 4.into());
    assert!(matches!(parse_change(&forced), Ok(ChangeEvent::Skipped(_))));
}
