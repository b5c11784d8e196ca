//! Reading a network snapshot file: the AWS CLI's JSON members gathered in one object.

use std::path::Path;

use super::NetworkView;

/// Why a snapshot file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Read(#[from] crate::files::ReadError),
    #[error("{path}: not a network snapshot: {cause}")]
    Parse {
        path: String,
        cause: serde_json::Error,
    },
}

/// Parses a snapshot's text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<NetworkView, SnapshotError> {
    serde_json::from_str(text).map_err(|cause| SnapshotError::Parse {
        path: origin.to_string(),
        cause,
    })
}

/// Reads and parses a snapshot file.
pub fn load(path: &Path) -> Result<NetworkView, SnapshotError> {
    let text = crate::files::read(path, crate::files::Kind::Snapshot)?;
    parse(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_parts_stay_absent_and_empty_parts_stay_empty() {
        let view = parse(r#"{"RouteTables": [], "Unknown": 1}"#, "s.json").unwrap();
        assert_eq!(view.route_tables, Some(vec![]));
        assert_eq!(view.vpc_endpoints, None);
        assert!(view.missing_parts().contains(&"VpcEndpoints"));
        assert!(!view.missing_parts().contains(&"RouteTables"));
    }

    #[test]
    fn ecs_services_keep_their_camel_case() {
        let view = parse(
            r#"{"services": [{"serviceName": "web", "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}}}]}"#,
            "s.json",
        )
        .unwrap();
        let service = view.ecs_service("web", None).unwrap();
        assert_eq!(service.awsvpc().unwrap().security_groups, vec!["sg-1"]);
        assert!(!service.awsvpc().unwrap().public_ip_enabled());
    }

    #[test]
    fn wrong_shape_names_the_file() {
        let err = parse(r#"{"RouteTables": {"a": 1}}"#, "bad.json")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("bad.json: not a network snapshot"), "{err}");
    }
}
