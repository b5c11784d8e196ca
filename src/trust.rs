//! What an event's text must be before it is used: an account ID before it names a role, a
//! dedup key or an alert; a region before it builds a client, a link or a sentence; and the
//! accounts and regions ARNs name, which must agree with the envelope's.
//!
//! Everything in an event is untrusted, its envelope included: EventBridge sets `account` and
//! `region` for events it routes, but a forwarded, replayed or hand-made document carries
//! whatever its sender wrote. One place decides what is well-formed, so the task events, the
//! change alarm and the gate refuse the same things the same way.

/// Exactly twelve ASCII digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// A region's shape (`^[a-z]{2}(-[a-z]+)+-\d+$`): `ap-northeast-2`, `us-gov-west-1`.
pub fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return false;
    };
    first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !middle.is_empty()
        && middle
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// An EC2 resource ID's shape: `prefix` then 1 to 32 ASCII letters and digits
/// (`subnet-0a1b2c3d4e5f67890`): nothing that could end a command's argument.
pub fn is_resource_id(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|rest| {
        (1..=32).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The region and account fields of `arn:<partition>:<service>:<region>:<account>:<resource>`.
pub fn arn_region_and_account(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(_service), Some(region), Some(account), Some(_)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some((region, account))
}

/// Why an event's identity cannot be trusted, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Untrusted {
    #[error("{field} is not a 12-digit account ID")]
    Account { field: &'static str },
    #[error("{field} is not a region name (such as ap-northeast-2)")]
    Region { field: &'static str },
    #[error("{field} is not a resource ID")]
    ResourceId { field: &'static str },
    #[error("{field} is not an ARN")]
    NotAnArn { field: &'static str },
    #[error("{field} names account {named}, not the event's account {account}")]
    OtherAccount {
        field: &'static str,
        named: String,
        account: String,
    },
    #[error("{field} names region {named}, not the event's region {region}")]
    OtherRegion {
        field: &'static str,
        named: String,
        region: String,
    },
}

/// An event's account and region and the ARNs it names (`(field, arn)`), checked together:
/// each present value well-formed, and each ARN in the event's account and region. A value
/// that is absent is not checked here (the caller decides whether it may be absent); the
/// shapes are never repeated in the error, which is logged.
pub fn check_identity(
    account: Option<&str>,
    region: Option<&str>,
    arns: &[(&'static str, Option<&str>)],
) -> Result<(), Untrusted> {
    if account.is_some_and(|a| !is_account_id(a)) {
        return Err(Untrusted::Account { field: "account" });
    }
    if region.is_some_and(|r| !is_region(r)) {
        return Err(Untrusted::Region { field: "region" });
    }
    for (field, arn) in arns {
        let Some(arn) = arn else { continue };
        let field = *field;
        let (named_region, named_account) =
            arn_region_and_account(arn).ok_or(Untrusted::NotAnArn { field })?;
        if !is_account_id(named_account) {
            return Err(Untrusted::Account { field });
        }
        if !is_region(named_region) {
            return Err(Untrusted::Region { field });
        }
        if let Some(account) = account.filter(|a| *a != named_account) {
            return Err(Untrusted::OtherAccount {
                field,
                named: named_account.to_string(),
                account: account.to_string(),
            });
        }
        if let Some(region) = region.filter(|r| *r != named_region) {
            return Err(Untrusted::OtherRegion {
                field,
                named: named_region.to_string(),
                region: region.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits_and_nothing_else() {
        assert!(is_account_id("210987654321"));
        for bad in [
            "",
            "21098765432",
            "2109876543210",
            "21098765432a",
            "210987654321/../x",
            "２10987654321",
            "*",
            " 210987654321",
        ] {
            assert!(!is_account_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn regions_have_aws_shape() {
        for good in [
            "ap-northeast-2",
            "us-gov-west-1",
            "eu-central-1",
            "cn-north-1",
        ] {
            assert!(is_region(good), "{good}");
        }
        for bad in [
            "",
            "ap",
            "ap-2",
            "AP-northeast-2",
            "ap-northeast-",
            "ap--2",
            "ap-northeast-2|<!channel>",
            "ap-northeast-2#x",
            "a-northeast-2",
            "ap-northeast-2\n",
        ] {
            assert!(!is_region(bad), "{bad:?}");
        }
    }

    #[test]
    fn resource_ids_cannot_carry_shell_text() {
        assert!(is_resource_id("subnet-0a1b2c3d4e5f67890", "subnet-"));
        assert!(is_resource_id("subnet-1", "subnet-"));
        for bad in [
            "subnet-",
            "subnet-1;rm",
            "subnet-1 x",
            "subnet-$(id)",
            "sg-1",
            "subnet-0123456789012345678901234567890123",
        ] {
            assert!(!is_resource_id(bad, "subnet-"), "{bad:?}");
        }
    }

    #[test]
    fn arns_must_name_the_events_account_and_region() {
        let task = "arn:aws:ecs:ap-northeast-2:111122223333:task/prod/abc";
        let other = "arn:aws:ecs:ap-northeast-2:999999999999:cluster/prod";
        assert_eq!(
            check_identity(
                Some("111122223333"),
                Some("ap-northeast-2"),
                &[("taskArn", Some(task)), ("clusterArn", None)]
            ),
            Ok(())
        );
        assert_eq!(
            check_identity(
                Some("111122223333"),
                Some("ap-northeast-2"),
                &[("taskArn", Some(task)), ("clusterArn", Some(other))]
            ),
            Err(Untrusted::OtherAccount {
                field: "clusterArn",
                named: "999999999999".into(),
                account: "111122223333".into()
            })
        );
        assert_eq!(
            check_identity(
                Some("111122223333"),
                Some("us-east-1"),
                &[("taskArn", Some(task))]
            ),
            Err(Untrusted::OtherRegion {
                field: "taskArn",
                named: "ap-northeast-2".into(),
                region: "us-east-1".into()
            })
        );
        assert_eq!(
            check_identity(Some("1111"), None, &[]),
            Err(Untrusted::Account { field: "account" })
        );
        assert_eq!(
            check_identity(None, Some("x<!here>"), &[]),
            Err(Untrusted::Region { field: "region" })
        );
        assert_eq!(
            check_identity(None, None, &[("taskArn", Some("task/abc"))]),
            Err(Untrusted::NotAnArn { field: "taskArn" })
        );
        assert_eq!(
            check_identity(
                None,
                None,
                &[("taskArn", Some("arn:aws:ecs:ap-northeast-2:../../x:task/a"))]
            ),
            Err(Untrusted::Account { field: "taskArn" })
        );
    }
}
