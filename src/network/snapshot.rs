//! Reading a network snapshot file: the AWS CLI's JSON members gathered in one object.

use std::path::Path;

use super::NetworkView;

/// Why a snapshot file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a network snapshot: {source}")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Parses a snapshot's text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<NetworkView, SnapshotError> {
    serde_json::from_str(text).map_err(|source| SnapshotError::Parse {
        path: origin.to_string(),
        source,
    })
}

/// Reads and parses a snapshot file.
pub fn load(path: &Path) -> Result<NetworkView, SnapshotError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Read {
        path: shown.clone(),
        source,
    })?;
    parse(&text, &shown)
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
