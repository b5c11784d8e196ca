//! Alert identity and storm suppression: which failures count as "the same alert", which
//! sinks still owe a delivery, and how the first post tells people where repeats are counted.
//!
//! Pure: the DynamoDB record that applies these decisions lives in `lambda::dedup`.

use serde::Serialize;

use crate::diagnose::Diagnosis;
use crate::localized::Localized;
use crate::t;

/// Where a diagnosis is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sink {
    Sns,
    Slack,
    /// PagerDuty's Events API v2: a trigger per new alert, under the incident's key.
    #[serde(rename = "pagerduty")]
    PagerDuty,
    /// Microsoft Teams through a Workflows webhook: a card per new cause, mitigation and
    /// resolution.
    Teams,
}

impl Sink {
    pub const ALL: [Sink; 4] = [Sink::Sns, Sink::Slack, Sink::PagerDuty, Sink::Teams];

    /// The name stored in the dedup record's `delivered` set and shown in responses.
    pub fn as_str(self) -> &'static str {
        match self {
            Sink::Sns => "sns",
            Sink::Slack => "slack",
            Sink::PagerDuty => "pagerduty",
            Sink::Teams => "teams",
        }
    }

    pub fn parse(name: &str) -> Option<Sink> {
        Sink::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// DynamoDB's limit on a partition key is 2048 bytes; each part is capped well below it.
const MAX_KEY_PART: usize = 400;

fn key_part(value: Option<&str>) -> String {
    let value = value.filter(|v| !v.is_empty()).unwrap_or("-");
    let mut end = value.len().min(MAX_KEY_PART);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    // `#` separates the parts; a name cannot forge another key by containing it.
    value[..end].replace('#', "%23")
}

/// The identity of an alert: account, region, cluster, service (or task family), task
/// definition revision and the first finding's code. Tasks that a deployment restarts over and
/// over share it; a different cause, a new revision, another service, or the same names in
/// another account or region do not.
pub fn alert_key(d: &Diagnosis) -> String {
    let task = &d.task;
    let task_definition = task
        .task_definition_arn
        .as_deref()
        .map(|arn| arn.rsplit('/').next().unwrap_or(arn));
    format!(
        "{}#{}#{}#{}#{}#{}",
        key_part(task.account.as_deref()),
        key_part(task.region.as_deref()),
        key_part(task.cluster_name()),
        key_part(task.group.as_deref()),
        key_part(task_definition),
        d.verdict().as_str()
    )
}

/// PagerDuty's limit on a `dedup_key`.
pub const MAX_INCIDENT_KEY: usize = 255;

/// The identity of an incident: account, region, cluster ARN and task group (`service:NAME`
/// or `family:NAME`). Every cause and task definition revision of one service is one
/// incident; cluster names repeat across regions and accounts, so the whole ARN is kept. A
/// key that would be longer than PagerDuty takes ends in a hash of the whole instead.
pub fn incident_key(account: &str, region: &str, cluster_arn: &str, group: &str) -> String {
    let cluster = crate::network::cluster_name(cluster_arn);
    let key = format!("ecs-pull-doctor/{account}/{region}/{cluster}/{group}");
    if key.len() <= MAX_INCIDENT_KEY {
        return key;
    }
    // FNV-1a over the whole key: stable across processes and releases, unlike std's hasher.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut end = MAX_INCIDENT_KEY - 17;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}#{hash:016x}", &key[..end])
}

/// The incident `d` belongs to, when its task names a cluster and a group.
pub fn incident_key_of(d: &Diagnosis) -> Option<String> {
    let task = &d.task;
    Some(incident_key(
        task.account.as_deref().unwrap_or("-"),
        task.region.as_deref().unwrap_or("-"),
        task.cluster_arn.as_deref()?,
        task.group.as_deref()?,
    ))
}

/// What the dedup record says about an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The first event of this alert in the window: notify every sink.
    First,
    /// The same task again (the asynchronous invoke is being retried): notify only the sinks
    /// that have not been delivered.
    Retry { delivered: Vec<Sink> },
    /// Another task with the same alert inside the window: count it, post nothing.
    Repeat { repeats: u64, first_task: String },
    /// The same task, while another invocation (a duplicate delivery beside this one) holds
    /// the alert's delivery lease: post nothing; if that one fails, its own retry delivers.
    InFlight { holder: String },
}

/// The sinks in `configured` that `delivered` does not hold, in order.
pub fn pending_sinks(configured: &[Sink], delivered: &[Sink]) -> Vec<Sink> {
    configured
        .iter()
        .copied()
        .filter(|s| !delivered.contains(s))
        .collect()
}

/// The line the first post carries: repeats are counted, and how to read the count.
pub fn repeats_note(table: &str, key: &str, window_minutes: u32) -> Localized {
    let key_json = serde_json::json!({ "pk": { "S": key } }).to_string();
    let command = format!(
        "aws dynamodb get-item --table-name {table} --key {} --query 'Item.repeats.N'",
        crate::untrusted::shell_word(&key_json)
    );
    t!(
        "Repeats of this failure in the next {window_minutes} minutes are counted, not posted. Count: {command}",
        "앞으로 {window_minutes}분 동안 같은 실패는 알림 없이 횟수만 셉니다. 횟수 확인: {command}",
        window_minutes = window_minutes,
        command = command
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_parts_cannot_forge_a_separator_and_stay_short() {
        assert_eq!(key_part(Some("a#b")), "a%23b");
        assert_eq!(key_part(None), "-");
        assert_eq!(key_part(Some("")), "-");
        let long = "가".repeat(500);
        let part = key_part(Some(&long));
        assert!(part.len() <= MAX_KEY_PART && !part.is_empty());
    }

    #[test]
    fn an_incident_is_one_service_in_one_account_and_region_and_fits_pagerduty() {
        let cluster = "arn:aws:ecs:ap-northeast-2:111122223333:cluster/prod";
        let key = incident_key("111122223333", "ap-northeast-2", cluster, "service:web");
        assert_eq!(
            key,
            "ecs-pull-doctor/111122223333/ap-northeast-2/prod/service:web"
        );
        assert_ne!(
            key,
            incident_key("111122223333", "us-east-1", cluster, "service:web")
        );
        let long_a = incident_key("1", "r", cluster, &format!("service:{}a", "x".repeat(300)));
        let long_b = incident_key("1", "r", cluster, &format!("service:{}b", "x".repeat(300)));
        assert!(long_a.len() <= MAX_INCIDENT_KEY && long_b.len() <= MAX_INCIDENT_KEY);
        assert_ne!(long_a, long_b, "the hash keeps long keys apart");
    }

    #[test]
    fn the_same_names_in_another_account_are_another_alert() {
        use crate::event::{parse_task_event, TaskEvent};
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/events/s3-route-missing.json"
        ))
        .unwrap();
        let TaskEvent::PullFailure(task) = parse_task_event(&text).unwrap() else {
            panic!("the seed sample is a pull failure")
        };
        let mut other = (*task).clone();
        other.account = Some("210987654321".into());
        let key =
            |t: &crate::event::FailedTask| alert_key(&crate::diagnose::diagnose(t, None, None));
        assert!(
            key(&task).starts_with("111122223333#ap-northeast-2#"),
            "{}",
            key(&task)
        );
        assert_ne!(key(&task), key(&other));
    }

    #[test]
    fn pending_sinks_skip_what_was_delivered() {
        let alerts = [Sink::Sns, Sink::Slack];
        assert_eq!(pending_sinks(&alerts, &[Sink::Sns]), vec![Sink::Slack]);
        assert_eq!(pending_sinks(&[Sink::Sns], &[Sink::Sns]), vec![]);
        assert_eq!(pending_sinks(&alerts, &[]), alerts.to_vec());
    }

    #[test]
    fn sinks_round_trip_their_names() {
        for sink in Sink::ALL {
            assert_eq!(Sink::parse(sink.as_str()), Some(sink));
        }
        assert_eq!(Sink::parse("email"), None);
    }

    #[test]
    fn the_repeats_note_is_a_runnable_command() {
        let note = repeats_note(
            "pull-doctor",
            "prod#service:web#web:42#S3_ROUTE_MISSING",
            60,
        );
        assert!(note.en.contains("60 minutes"), "{}", note.en);
        assert!(
            note.en
                .contains(r#"--key '{"pk":{"S":"prod#service:web#web:42#S3_ROUTE_MISSING"}}'"#),
            "{}",
            note.en
        );
        assert!(note.ko.contains("60분"));
    }
}
