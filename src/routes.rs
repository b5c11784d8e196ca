//! Routes and mutes (`ROUTES`): where each failure's incident is told. Each route matches an
//! account, a cluster, a service and the failure's first finding (any left out matches all;
//! `*` and `?` are wildcards in names) and either sends the incident to its own Slack
//! channel, PagerDuty routing-key secret and Teams URL secret, or mutes it. The first match
//! wins; no match uses the defaults.
//!
//! Pure. The whole parameter is checked once, at cold start: an unknown key, a finding code
//! that does not exist or a route that neither sends nor mutes fails the start with the
//! route's number, never a silent default.

use serde_json::{Map, Value};

use crate::diagnose::policy::wildcard_match;
use crate::diagnose::Code;

/// What a route matches; `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    pub account: Option<String>,
    pub cluster: Option<String>,
    pub service: Option<String>,
    pub finding: Option<Code>,
}

/// Where a routed incident goes instead of the defaults: each channel named replaces its
/// default; a channel not named gets nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Destinations {
    pub slack_channel: Option<String>,
    pub pagerduty_secret_arn: Option<String>,
    pub teams_secret_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Send(Destinations),
    Mute,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Its position in `ROUTES`, from 1, as errors and logs name it.
    pub number: usize,
    pub matches: Match,
    pub action: Action,
}

/// What an incident is matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject<'a> {
    pub account: &'a str,
    pub cluster: &'a str,
    pub service: &'a str,
    pub finding: &'a str,
}

/// The parsed `ROUTES`, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes(Vec<Route>);

/// Why `ROUTES` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutesError {
    #[error("not a JSON array of routes ({0})")]
    NotAnArray(String),
    #[error("route {number}: {problem}")]
    Route { number: usize, problem: String },
}

const ROUTE_KEYS: [&str; 5] = [
    "match",
    "mute",
    "slack_channel",
    "pagerduty_routing_key_secret_arn",
    "teams_webhook_url_secret_arn",
];
const MATCH_KEYS: [&str; 4] = ["account", "cluster", "service", "finding"];

impl Routes {
    /// Parses and checks `json`; `is_channel_id` and `is_secret_arn` are the checks the
    /// configuration applies to the defaults.
    pub fn parse(
        json: &str,
        is_channel_id: impl Fn(&str) -> bool,
        is_secret_arn: impl Fn(&str) -> bool,
    ) -> Result<Routes, RoutesError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| RoutesError::NotAnArray(e.to_string()))?;
        let Value::Array(items) = value else {
            return Err(RoutesError::NotAnArray(
                "the top level is not an array".into(),
            ));
        };
        let mut routes = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let number = index + 1;
            let fail = |problem: String| RoutesError::Route { number, problem };
            let Value::Object(route) = item else {
                return Err(fail("not a JSON object".into()));
            };
            unknown_keys(route, &ROUTE_KEYS).map_err(fail)?;
            let matches = match route.get("match") {
                None => Match::default(),
                Some(Value::Object(m)) => parse_match(m).map_err(fail)?,
                Some(_) => return Err(fail("\"match\" is not an object".into())),
            };
            let text = |key: &str| -> Result<Option<String>, RoutesError> {
                match route.get(key) {
                    None => Ok(None),
                    Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().into())),
                    Some(_) => Err(fail(format!("\"{key}\" is not a non-empty string"))),
                }
            };
            let destinations = Destinations {
                slack_channel: text("slack_channel")?,
                pagerduty_secret_arn: text("pagerduty_routing_key_secret_arn")?,
                teams_secret_arn: text("teams_webhook_url_secret_arn")?,
            };
            // The values are not quoted: a URL or key pasted in the wrong place is a
            // credential, and this error is logged.
            if destinations
                .slack_channel
                .as_deref()
                .is_some_and(|c| !is_channel_id(c))
            {
                return Err(fail(
                    "slack_channel is not a channel ID (C…, not the channel's name)".into(),
                ));
            }
            for (key, arn) in [
                (
                    "pagerduty_routing_key_secret_arn",
                    &destinations.pagerduty_secret_arn,
                ),
                (
                    "teams_webhook_url_secret_arn",
                    &destinations.teams_secret_arn,
                ),
            ] {
                if arn.as_deref().is_some_and(|a| !is_secret_arn(a)) {
                    return Err(fail(format!(
                        "{key} is not a Secrets Manager secret ARN (the value is not shown)"
                    )));
                }
            }
            let sends = destinations != Destinations::default();
            let action = match route.get("mute") {
                Some(Value::Bool(true)) if sends => {
                    return Err(fail("mutes and names a destination: choose one".into()))
                }
                Some(Value::Bool(true)) => Action::Mute,
                Some(Value::Bool(false)) | None if sends => Action::Send(destinations),
                Some(Value::Bool(false)) | None => {
                    return Err(fail(
                        "names no destination (slack_channel, pagerduty_routing_key_secret_arn, teams_webhook_url_secret_arn) and does not mute".into(),
                    ))
                }
                Some(_) => return Err(fail("\"mute\" is not true or false".into())),
            };
            routes.push(Route {
                number,
                matches,
                action,
            });
        }
        Ok(Routes(routes))
    }

    /// The first route that matches `subject`; `None`: the defaults.
    pub fn route_for(&self, subject: &Subject<'_>) -> Option<&Route> {
        self.0.iter().find(|r| r.matches.admits(subject))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every destination the routes name (secrets to be able to read, channels to post to).
    pub fn destinations(&self) -> impl Iterator<Item = &Destinations> {
        self.0.iter().filter_map(|r| match &r.action {
            Action::Send(d) => Some(d),
            Action::Mute => None,
        })
    }
}

impl Match {
    fn admits(&self, subject: &Subject<'_>) -> bool {
        let name = |pattern: &Option<String>, value: &str| {
            pattern
                .as_deref()
                .is_none_or(|p| wildcard_match(p, value, true))
        };
        name(&self.account, subject.account)
            && name(&self.cluster, subject.cluster)
            && name(&self.service, subject.service)
            && self.finding.is_none_or(|f| f.as_str() == subject.finding)
    }
}

fn unknown_keys(object: &Map<String, Value>, known: &[&str]) -> Result<(), String> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(format!("unknown key {key:?} (known: {})", known.join(", "))),
        None => Ok(()),
    }
}

fn parse_match(m: &Map<String, Value>) -> Result<Match, String> {
    unknown_keys(m, &MATCH_KEYS)?;
    let text = |key: &str| -> Result<Option<String>, String> {
        match m.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => Ok(Some(s.clone())),
            Some(_) => Err(format!(
                "match.{key} is not a name or pattern of 1 to 255 characters"
            )),
        }
    };
    let account = text("account")?;
    if let Some(account) = &account {
        if !account
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'*' || b == b'?')
        {
            return Err(format!(
                "match.account {account:?} is not an account ID or pattern"
            ));
        }
    }
    let finding = match text("finding")? {
        None => None,
        Some(code) => Some(
            Code::parse(&code)
                .ok_or_else(|| format!("match.finding {code:?} is not a finding code"))?,
        ),
    };
    Ok(Match {
        account,
        cluster: text("cluster")?,
        service: text("service")?,
        finding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Routes, RoutesError> {
        Routes::parse(
            json,
            |c| c.starts_with('C'),
            |a| a.starts_with("arn:aws:secretsmanager:"),
        )
    }

    fn subject<'a>(service: &'a str, finding: &'a str) -> Subject<'a> {
        Subject {
            account: "111122223333",
            cluster: "prod",
            service,
            finding,
        }
    }

    #[test]
    fn the_first_matching_route_wins_and_no_match_means_the_defaults() {
        let routes = parse(
            r#"[
              {"match": {"service": "batch-*"}, "mute": true},
              {"match": {"cluster": "prod", "finding": "S3_ROUTE_MISSING"}, "slack_channel": "C0NETWORK"},
              {"match": {"account": "1111*"}, "pagerduty_routing_key_secret_arn": "arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:team-a"}
            ]"#,
        )
        .unwrap();
        assert_eq!(
            routes
                .route_for(&subject("batch-nightly", "S3_ROUTE_MISSING"))
                .unwrap()
                .action,
            Action::Mute
        );
        let network = routes
            .route_for(&subject("web", "S3_ROUTE_MISSING"))
            .unwrap();
        assert_eq!(network.number, 2);
        assert_eq!(
            routes
                .route_for(&subject("web", "IMAGE_NOT_FOUND"))
                .unwrap()
                .number,
            3
        );
        let elsewhere = Subject {
            account: "999988887777",
            ..subject("web", "IMAGE_NOT_FOUND")
        };
        assert!(routes.route_for(&elsewhere).is_none());
        assert_eq!(routes.destinations().count(), 2);
    }

    #[test]
    fn a_bad_route_is_refused_with_its_number() {
        for (json, says) in [
            ("{}", "not a JSON array"),
            ("[1]", "route 1: not a JSON object"),
            (
                r#"[{"match": {}, "mute": true}, {"match": {"servce": "x"}, "mute": true}]"#,
                "route 2: unknown key \"servce\"",
            ),
            (r#"[{"mute": true, "slack_channel": "C0X"}]"#, "choose one"),
            (r#"[{"match": {"service": "web"}}]"#, "names no destination"),
            (
                r#"[{"match": {"finding": "S3_MISSING"}, "mute": true}]"#,
                "is not a finding code",
            ),
            (r##"[{"slack_channel": "#alerts"}]"##, "is not a channel ID"),
            (
                r#"[{"teams_webhook_url_secret_arn": "https://x"}]"#,
                "not a Secrets Manager",
            ),
            (
                r#"[{"match": {"account": "prod"}, "mute": true}]"#,
                "not an account ID",
            ),
            (r#"[{"mute": "yes"}]"#, "not true or false"),
        ] {
            let err = parse(json).unwrap_err().to_string();
            assert!(err.contains(says), "{json}: {err}");
            assert!(
                !err.contains("SECRET"),
                "a pasted credential is quoted: {err}"
            );
        }
        assert!(parse("[]").unwrap().is_empty());
    }
}
