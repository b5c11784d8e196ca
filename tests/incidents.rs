//! Incidents, end to end: the real `bootstrap` behind the Runtime API emulator, moto as SNS
//! (with its real SQS and HTTPS subscriptions), DynamoDB (the dedup table, where incidents
//! are kept) and Secrets Manager (the credentials), and the emulator's stand-ins for
//! PagerDuty's Events API v2, Slack's Web API and a Teams Workflows webhook, which refuse
//! what the real ones refuse.

mod common;

use std::path::PathBuf;

use common::emulator::{error_message, invoke, log_decisions, outcomes, published};
use common::moto::{fixture, FaultProxy, Moto};
use serde_json::Value;

const ROUTING_KEY: &str = "0123456789abcdef0123456789abcdef";
const INCIDENT: &str = "ecs-pull-doctor/111122223333/ap-northeast-2/prod/service:web";

/// The topic, table and routing-key secret in moto.
fn paging_sinks(moto: &Moto) -> Value {
    paging_sinks_with_key(moto, ROUTING_KEY)
}

fn paging_sinks_with_key(moto: &Moto, key: &str) -> Value {
    fixture(moto, "lambda_sinks.py", &["--pagerduty-key", key])
}

/// The seed failure as another task (a repeat of the same alert).
fn seed_task(name: &str) -> PathBuf {
    common::variant(&common::repo("events/s3-route-missing.json"), name, |e| {
        let arn = format!("arn:aws:ecs:ap-northeast-2:111122223333:task/prod/{name}");
        e["detail"]["taskArn"] = arn.clone().into();
        e["resources"] = serde_json::json!([arn]);
    })
}

fn service_event(file: &str) -> PathBuf {
    common::repo(&format!("tests/fixtures/service-events/{file}"))
}

/// The `event_action` of each event PagerDuty received.
fn page_actions(report: &Value) -> Vec<String> {
    paged(report)
        .into_iter()
        .map(|(_, action, _)| action)
        .collect()
}

/// (HTTP status, event_action, dedup_key) of each event PagerDuty received.
fn paged(report: &Value) -> Vec<(u64, String, String)> {
    report["pagerduty"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["status"].as_u64().unwrap(),
                p["event"]["event_action"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
                p["event"]["dedup_key"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

fn paging_env<'a>(sinks: &'a Value, snapshot: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("SNS_TOPIC_ARN", sinks["topic_arn"].as_str().unwrap()),
        ("DEDUP_TABLE", sinks["table"].as_str().unwrap()),
        (
            "PAGERDUTY_ROUTING_KEY_SECRET_ARN",
            sinks["pagerduty_secret_arn"].as_str().unwrap(),
        ),
        ("NETWORK_SNAPSHOT_FILE", snapshot),
    ]
}

#[test]
fn an_incident_pages_once_resolves_when_the_service_is_steady_and_reopens_on_the_next_failure() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = paging_sinks(&moto);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let snapshot = snapshot.to_str().unwrap();
    let events = [
        seed_task("first"),
        seed_task("second"),
        service_event("deployment-failed-circuit-breaker.json"),
        service_event("service-steady-state.json"),
        service_event("service-steady-state.json"),
        seed_task("third"),
    ];
    let paths: Vec<&std::path::Path> = events.iter().map(PathBuf::as_path).collect();
    let report = invoke(
        &moto.endpoint,
        &paging_env(&sinks, snapshot),
        &paths,
        &["--pagerduty-receiver"],
    );
    assert_eq!(
        outcomes(&report),
        [
            "sent",
            "suppressed",
            "mitigated",
            "resolved",
            "skipped",
            "suppressed"
        ],
        "{report:#}"
    );
    assert_eq!(
        paged(&report),
        [
            (202, "trigger".into(), INCIDENT.into()),
            (202, "resolve".into(), INCIDENT.into()),
            (202, "trigger".into(), INCIDENT.into()),
        ],
        "one trigger, the resolve, and a new trigger after the recovery"
    );
    let bodies: Vec<&Value> = report["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["body"])
        .collect();
    assert_eq!(
        bodies[0]["sent_to"],
        serde_json::json!(["sns", "pagerduty"])
    );
    assert!(bodies[1].get("sent_to").is_none(), "{:#}", bodies[1]);
    assert_eq!(bodies[2]["event_name"], "SERVICE_DEPLOYMENT_FAILED");
    assert_eq!(
        bodies[2]["sent_to"],
        serde_json::json!([]),
        "PagerDuty keeps the incident triggered: the pull path is still broken"
    );
    assert_eq!(bodies[3]["incident"], INCIDENT);
    assert_eq!(bodies[3]["failed_tasks"], 2);
    assert!(bodies[4]["why"]
        .as_str()
        .unwrap()
        .starts_with("no open incident"));
    // Inside the alert's window SNS stays quiet, but the service failed again after it
    // recovered: that pages.
    assert_eq!(bodies[5]["sent_to"], serde_json::json!(["pagerduty"]));
    assert_eq!(published(&moto).len(), 1, "SNS got the first failure only");

    let trigger = &report["pagerduty"][0]["event"];
    assert_eq!(trigger["routing_key"], ROUTING_KEY);
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["class"], "S3_ROUTE_MISSING");
    assert_eq!(trigger["payload"]["component"], "prod/web");
    assert!(trigger["payload"]["custom_details"]["commands"][0]
        .as_str()
        .unwrap()
        .starts_with("aws ec2 modify-vpc-endpoint"));
    assert_eq!(
        trigger["links"][0]["href"],
        "https://ap-northeast-2.console.aws.amazon.com/ecs/v2/clusters/prod/services/web/health?region=ap-northeast-2"
    );
    let logs = report["logs"].to_string();
    assert!(!logs.contains(ROUTING_KEY), "the routing key reached a log");
    assert_eq!(
        log_decisions(&report),
        [
            "sent",
            "suppressed",
            "mitigated",
            "resolved",
            "skipped",
            "suppressed"
        ]
    );
}

#[test]
fn a_failed_page_is_retried_alone_and_sns_is_not_published_again() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = paging_sinks(&moto);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let snapshot = snapshot.to_str().unwrap();
    let first = seed_task("first");
    // PagerDuty answers 500 three times: the invocation's own tries are spent, so it fails;
    // the asynchronous retry pages, and SNS is not published again.
    let report = invoke(
        &moto.endpoint,
        &paging_env(&sinks, snapshot),
        &[&first],
        &[
            "--pagerduty-receiver",
            "--pagerduty-fail",
            "3",
            "--retries",
            "2",
        ],
    );
    assert_eq!(
        outcomes(&report),
        ["error:SinkFailed", "sent"],
        "{report:#}"
    );
    let error = error_message(&report, 0);
    assert!(
        error.contains("pagerduty: events API answered HTTP 500")
            && error.contains("(delivered: sns)"),
        "{error}"
    );
    assert!(!error.contains(ROUTING_KEY));
    let statuses: Vec<u64> = paged(&report).iter().map(|(s, _, _)| *s).collect();
    assert_eq!(statuses, [500, 500, 500, 202]);
    assert_eq!(
        report["invocations"][1]["body"]["sent_to"],
        serde_json::json!(["pagerduty"])
    );
    assert_eq!(published(&moto).len(), 1);
}

#[test]
fn a_steady_service_without_paging_configured_reads_and_sends_nothing() {
    let _serial = common::one_at_a_time();
    let steady = service_event("service-steady-state.json");
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let report = invoke(
        // Nothing answers here: any AWS call would fail the invocation.
        "http://127.0.0.1:9",
        &[
            (
                "SNS_TOPIC_ARN",
                "arn:aws:sns:ap-northeast-2:123456789012:ecs-pull-doctor",
            ),
            ("NETWORK_SNAPSHOT_FILE", snapshot.to_str().unwrap()),
        ],
        &[&steady],
        &["--pagerduty-receiver"],
    );
    assert_eq!(outcomes(&report), ["skipped"], "{report:#}");
    assert!(paged(&report).is_empty());
}

#[test]
fn an_event_pagerduty_refuses_is_sent_once_and_its_reason_is_said() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    // A key of our accepted shape that the receiver, as PagerDuty, refuses (not 32 long).
    let refused_key = "0123456789abcdef0123456789abcdef01234567";
    let sinks = paging_sinks_with_key(&moto, refused_key);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let first = seed_task("first");
    let report = invoke(
        &moto.endpoint,
        &paging_env(&sinks, snapshot.to_str().unwrap()),
        &[&first],
        &["--pagerduty-receiver"],
    );
    assert_eq!(outcomes(&report), ["error:SinkFailed"], "{report:#}");
    let statuses: Vec<u64> = paged(&report).iter().map(|(s, _, _)| *s).collect();
    assert_eq!(
        statuses,
        [400],
        "a 400 is not tried again within the invocation"
    );
    let error = error_message(&report, 0);
    assert!(
        error.contains("HTTP 400: Event object is invalid ('routing_key' is invalid)"),
        "{error}"
    );
    assert!(!error.contains(refused_key), "{error}");
}

const BOT_TOKEN: &str = "xoxb-0000000000-1111111111-abcdefABCDEF";
const CHANNEL: &str = "C0INCIDENTS";

/// The seed failure with another cause (the image's tag is not in the registry).
fn image_not_found(name: &str) -> PathBuf {
    common::variant(&common::repo("events/s3-route-missing.json"), name, |e| {
        let reason = "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/web:2026.11.31: 111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/web:2026.11.31: not found";
        let arn = format!("arn:aws:ecs:ap-northeast-2:111122223333:task/prod/{name}");
        e["detail"]["taskArn"] = arn.clone().into();
        e["resources"] = serde_json::json!([arn]);
        e["detail"]["stoppedReason"] = reason.into();
        e["detail"]["containers"][0]["reason"] = reason.into();
    })
}

/// The topic, table, routing key and bot token in moto.
fn app_sinks(moto: &Moto) -> Value {
    fixture(
        moto,
        "lambda_sinks.py",
        &[
            "--pagerduty-key",
            ROUTING_KEY,
            "--slack-bot-token",
            BOT_TOKEN,
        ],
    )
}

fn app_env<'a>(sinks: &'a Value, snapshot: &'a str) -> Vec<(&'static str, &'a str)> {
    let mut env = paging_env(sinks, snapshot);
    env.push((
        "SLACK_BOT_TOKEN_SECRET_ARN",
        sinks["slack_bot_token_secret_arn"].as_str().unwrap(),
    ));
    env.push(("SLACK_CHANNEL_ID", CHANNEL));
    env
}

/// (method, status, thread_ts, reply_broadcast) of each Web API call.
fn slack_calls(report: &Value) -> Vec<(String, u64, Option<String>, bool)> {
    report["slack_api"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["method"].as_str().unwrap().to_string(),
                c["status"].as_u64().unwrap(),
                c["body"]["thread_ts"].as_str().map(str::to_string),
                c["body"]["reply_broadcast"] == true,
            )
        })
        .collect()
}

fn all_text(call: &Value) -> String {
    call["body"].to_string()
}

#[test]
fn a_slack_thread_follows_the_incident_from_its_parent_to_its_resolution() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = app_sinks(&moto);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let mut events = vec![seed_task("first")];
    events.extend((0..5).map(|i| seed_task(&format!("repeat-{i}"))));
    events.push(image_not_found("other-cause"));
    events.push(service_event("service-steady-state.json"));
    let paths: Vec<&std::path::Path> = events.iter().map(PathBuf::as_path).collect();
    let report = invoke(
        &moto.endpoint,
        &app_env(&sinks, snapshot.to_str().unwrap()),
        &paths,
        &["--pagerduty-receiver", "--slack-api-token", BOT_TOKEN],
    );
    assert_eq!(
        outcomes(&report),
        [
            "sent",
            "suppressed",
            "suppressed",
            "suppressed",
            "suppressed",
            "suppressed",
            "sent",
            "resolved"
        ],
        "{report:#}"
    );
    // The parent; five repeats inside a minute edit nothing; the new cause is a reply and
    // an edit; the resolution is a reply sent to the channel too and an edit. The receiver
    // answers `ok` only for a thread or an edit of a message it issued.
    let issued = slack_calls(&report);
    let methods: Vec<(&str, bool, bool)> = issued
        .iter()
        .map(|(m, _, thread, broadcast)| (m.as_str(), thread.is_some(), *broadcast))
        .collect();
    assert_eq!(
        methods,
        [
            ("chat.postMessage", false, false),
            ("chat.postMessage", true, false),
            ("chat.update", false, false),
            ("chat.postMessage", true, true),
            ("chat.update", false, false),
        ],
        "{:#}",
        report["slack_api"]
    );
    assert!(issued.iter().all(|(_, status, _, _)| *status == 200));
    assert!(report["slack_api"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["ok"] == true));
    let first = all_text(&report["slack_api"][0]);
    assert!(
        first.contains("🔴 *Open*") && first.contains("S3_ROUTE_MISSING"),
        "{first}"
    );
    let reply = all_text(&report["slack_api"][1]);
    assert!(reply.contains("IMAGE_NOT_FOUND"), "{reply}");
    let edited = all_text(&report["slack_api"][2]);
    assert!(
        edited.contains("7 failed tasks") && edited.contains("S3_ROUTE_MISSING, IMAGE_NOT_FOUND"),
        "{edited}"
    );
    let resolved = all_text(&report["slack_api"][4]);
    assert!(
        resolved.contains("✅ *Resolved by SERVICE_STEADY_STATE*")
            && resolved.contains("7 failed tasks"),
        "{resolved}"
    );
    assert!(
        resolved.contains("S3_ROUTE_MISSING"),
        "the resolved parent keeps the first diagnosis: {resolved}"
    );
    assert_eq!(page_actions(&report), ["trigger", "trigger", "resolve"]);
    assert_eq!(
        report["invocations"][7]["body"]["sent_to"],
        serde_json::json!(["pagerduty", "slack"])
    );
    assert!(!report["logs"].to_string().contains(BOT_TOKEN));
}

#[test]
fn a_storm_of_one_service_makes_one_parent_at_most_two_edits_and_one_page() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = app_sinks(&moto);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    const STORM: usize = 1000;
    let events: Vec<PathBuf> = (0..STORM)
        .map(|i| seed_task(&format!("storm-{i}")))
        .collect();
    let paths: Vec<&std::path::Path> = events.iter().map(PathBuf::as_path).collect();
    let report = invoke(
        &moto.endpoint,
        &app_env(&sinks, snapshot.to_str().unwrap()),
        &paths,
        &["--pagerduty-receiver", "--slack-api-token", BOT_TOKEN],
    );
    let outcomes = outcomes(&report);
    assert_eq!(outcomes.len(), STORM);
    assert_eq!(outcomes[0], "sent");
    assert!(
        outcomes[1..].iter().all(|o| o == "suppressed"),
        "{outcomes:?}"
    );
    let calls = slack_calls(&report);
    let posts = calls.iter().filter(|c| c.0 == "chat.postMessage").count();
    let edits = calls.iter().filter(|c| c.0 == "chat.update").count();
    eprintln!(
        "storm of {STORM}: {posts} chat.postMessage, {edits} chat.update, {} PagerDuty events",
        paged(&report).len()
    );
    assert_eq!(posts, 1, "one parent, no replies");
    assert!(edits <= 2, "{edits} edits");
    assert_eq!(paged(&report).len(), 1, "one page");
}

#[test]
fn slack_rate_limits_are_waited_out_and_a_failed_parent_is_posted_by_the_retry() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let sinks = app_sinks(&moto);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let first = seed_task("first");
    let report = invoke(
        &moto.endpoint,
        &app_env(&sinks, snapshot.to_str().unwrap()),
        &[&first],
        &[
            "--slack-api-token",
            BOT_TOKEN,
            "--slack-api-limit",
            "1",
            "--pagerduty-receiver",
        ],
    );
    assert_eq!(outcomes(&report), ["sent"], "{report:#}");
    let statuses: Vec<u64> = slack_calls(&report).iter().map(|c| c.1).collect();
    assert_eq!(statuses, [429, 200], "Retry-After: 1 was waited out once");

    let moto = Moto::start();
    let sinks = app_sinks(&moto);
    let report = invoke(
        &moto.endpoint,
        &app_env(&sinks, snapshot.to_str().unwrap()),
        &[&first],
        &[
            "--slack-api-token",
            BOT_TOKEN,
            "--slack-api-fail",
            "1",
            "--pagerduty-receiver",
            "--retries",
            "2",
        ],
    );
    assert_eq!(
        outcomes(&report),
        ["error:SinkFailed", "sent"],
        "{report:#}"
    );
    let error = error_message(&report, 0);
    assert!(
        error.contains("slack: chat.postMessage answered HTTP 500")
            && error.contains("delivered: sns, pagerduty"),
        "{error}"
    );
    let posts: Vec<u64> = slack_calls(&report).iter().map(|c| c.1).collect();
    assert_eq!(posts, [500, 200], "the retry posts the parent once");
    assert_eq!(paged(&report).len(), 1, "PagerDuty is not paged again");
    assert_eq!(published(&moto).len(), 1, "nor is SNS published again");
}

/// A loopback port free now, for a receiver whose URL must be known before it starts (the
/// Teams URL is stored in a secret, the HTTPS subscriber in the topic).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What a run with Teams and Amazon Q Developer needs: the sinks in moto (the Teams URL in
/// a secret; an SQS queue and an HTTPS endpoint subscribed to the topic) and the receivers'
/// ports.
struct Channels {
    sinks: Value,
    teams_port: String,
    https_port: String,
}

fn teams_and_chatbot(moto: &Moto, slack: bool) -> Channels {
    let teams_port = free_port().to_string();
    let https_port = free_port().to_string();
    let teams_url = format!(
        "http://127.0.0.1:{teams_port}/workflows/doctor/triggers/manual/paths/invoke?sig=local-signature"
    );
    let https_url = format!("http://127.0.0.1:{https_port}/sns");
    let mut args = vec![
        "--pagerduty-key",
        ROUTING_KEY,
        "--teams-url",
        &teams_url,
        "--subscribe-queue",
        "--subscribe-https",
        &https_url,
    ];
    if slack {
        args.extend(["--slack-bot-token", BOT_TOKEN]);
    }
    Channels {
        sinks: fixture(moto, "lambda_sinks.py", &args),
        teams_port,
        https_port,
    }
}

impl Channels {
    fn env<'a>(&'a self, snapshot: &'a str) -> Vec<(&'static str, &'a str)> {
        let mut env = paging_env(&self.sinks, snapshot);
        env.push((
            "TEAMS_WEBHOOK_URL_SECRET_ARN",
            self.sinks["teams_secret_arn"].as_str().unwrap(),
        ));
        env.push(("CHATBOT_NOTIFICATIONS", "true"));
        if let Some(token) = self.sinks["slack_bot_token_secret_arn"].as_str() {
            env.push(("SLACK_BOT_TOKEN_SECRET_ARN", token));
            env.push(("SLACK_CHANNEL_ID", CHANNEL));
        }
        env
    }

    fn options<'a>(&'a self, more: &[&'a str]) -> Vec<&'a str> {
        let mut options = vec![
            "--pagerduty-receiver",
            "--teams-port",
            &self.teams_port,
            "--sns-https-port",
            &self.https_port,
        ];
        if self.sinks.get("slack_bot_token_secret_arn").is_some() {
            options.extend(["--slack-api-token", BOT_TOKEN]);
        }
        options.extend(more);
        options
    }
}

/// Opens the seed failure's incident through every channel of `channels`, with `snapshot`
/// as the network.
fn open_incident(moto: &Moto, channels: &Channels, snapshot: &std::path::Path) {
    let first = seed_task("first");
    let report = invoke(
        &moto.endpoint,
        &channels.env(snapshot.to_str().unwrap()),
        &[&first],
        &channels.options(&[]),
    );
    assert_eq!(outcomes(&report), ["sent"], "{report:#}");
}

/// Moto with the Teams and Q Developer channels (no Slack) and the seed failure's incident
/// open; the network snapshot's path.
fn with_an_open_incident() -> (Moto, Channels, String) {
    let moto = Moto::start();
    let channels = teams_and_chatbot(&moto, false);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    open_incident(&moto, &channels, &snapshot);
    (moto, channels, snapshot.to_str().unwrap().to_string())
}

/// The title of each Teams card, with the HTTP status it was answered.
fn teams_cards(report: &Value) -> Vec<(u64, String)> {
    report["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["status"].as_u64().unwrap(),
                p["body"]["attachments"][0]["content"]["body"][0]["text"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
            )
        })
        .collect()
}

/// Every plain text of a Teams card, in order.
fn card_text(post: &Value) -> String {
    post["body"]["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .map(|block| match block["inlines"].as_array() {
            Some(runs) => runs
                .iter()
                .map(|r| r["text"].as_str().unwrap_or_default())
                .collect::<String>(),
            None => block["text"].as_str().unwrap_or_default().to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The custom notifications Amazon Q Developer's HTTPS subscription received.
fn chatbot_notifications(report: &Value) -> Vec<Value> {
    report["sns_https"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["Message"].clone())
        .collect()
}

/// The S3 route fixed: the task subnet's table associated with the S3 gateway endpoint.
fn fixed_snapshot() -> PathBuf {
    common::variant(
        &common::repo("events/network/s3-route-missing.json"),
        "fixed",
        |s| {
            let table = "rtb-0c3e5a7b9d1f24680";
            for t in s["RouteTables"].as_array_mut().unwrap() {
                if t["RouteTableId"] == table {
                    t["Routes"].as_array_mut().unwrap().push(serde_json::json!({
                        "DestinationPrefixListId": "pl-78a54011",
                        "GatewayId": "vpce-04e8c1a2b3d5f6a79",
                        "Origin": "CreateRoute",
                        "State": "active"
                    }));
                }
            }
            for e in s["VpcEndpoints"].as_array_mut().unwrap() {
                if e["VpcEndpointId"] == "vpce-04e8c1a2b3d5f6a79" {
                    e["RouteTableIds"]
                        .as_array_mut()
                        .unwrap()
                        .push(table.into());
                }
            }
        },
    )
}

#[test]
fn teams_q_developer_and_slack_follow_an_incident_through_its_rollback_to_a_verified_close() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let channels = teams_and_chatbot(&moto, true);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let events = [
        seed_task("first"),
        seed_task("repeat"),
        image_not_found("other-cause"),
        service_event("deployment-failed-circuit-breaker.json"),
        service_event("deployment-rolling-back.json"),
        service_event("deployment-rolling-back.json"),
        service_event("service-steady-state.json"),
    ];
    let paths: Vec<&std::path::Path> = events.iter().map(PathBuf::as_path).collect();
    let report = invoke(
        &moto.endpoint,
        &channels.env(snapshot.to_str().unwrap()),
        &paths,
        &channels.options(&[]),
    );
    assert_eq!(
        outcomes(&report),
        [
            "sent",
            "suppressed",
            "sent",
            "mitigated",
            "mitigated",
            "skipped",
            "resolved"
        ],
        "{report:#}"
    );
    // Teams: a card per cause, per mitigation and for the close; each answered 202.
    let cards = teams_cards(&report);
    assert_eq!(
        cards,
        [
            (202, "ECS pull failure: S3_ROUTE_MISSING".into()),
            (202, "New cause: IMAGE_NOT_FOUND".into()),
            (202, "Mitigated: SERVICE_DEPLOYMENT_FAILED".into()),
            (202, "Mitigated: SERVICE_DEPLOYMENT_IN_PROGRESS".into()),
            (202, "Resolved".into()),
        ],
        "{:#}",
        report["teams"]
    );
    let rollback = card_text(&report["teams"][3]);
    assert!(
        rollback.contains("ECS is rolling back to ecs-svc/2958317640482917356: the old revision runs; the new revision's pull path is still broken (IMAGE_NOT_FOUND, S3_ROUTE_MISSING)"),
        "{rollback}"
    );
    let closed = card_text(&report["teams"][4]);
    assert!(
        closed.contains("✅ Resolved by SERVICE_STEADY_STATE")
            && closed.contains("3 failed tasks")
            && closed.contains("S3_ROUTE_MISSING: the service is steady, but a task in subnet-0c9d8e7f6a5b4c3d2 would still fail"),
        "{closed}"
    );
    let verified = report["invocations"][6]["body"]["verified"]
        .as_array()
        .unwrap();
    assert_eq!(verified.len(), 2, "one line per cause: {verified:#?}");

    // Amazon Q Developer: every message in the incident's thread, in the documented shape.
    let notifications = chatbot_notifications(&report);
    let kinds: Vec<&str> = notifications
        .iter()
        .map(|n| n["metadata"]["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ImagePullFailure",
            "ImagePullFailure",
            "IncidentMitigated",
            "IncidentMitigated",
            "IncidentClosed"
        ]
    );
    for n in &notifications {
        assert_eq!(n["version"], "1.0");
        assert_eq!(n["source"], "custom");
        assert_eq!(n["content"]["textType"], "client-markdown");
        assert_eq!(n["metadata"]["threadId"], INCIDENT);
        assert!(n["content"]["title"]
            .as_str()
            .is_some_and(|t| !t.is_empty()));
        assert!(n["content"]["description"].as_str().is_some());
    }
    assert!(notifications[0]["content"]["nextSteps"][0]
        .as_str()
        .unwrap()
        .starts_with("`aws ec2 modify-vpc-endpoint"));
    // Everyone else subscribed to the topic still reads today's text, attributes included.
    let queued = fixture(
        &moto,
        "lambda_sinks.py",
        &[
            "--receive",
            channels.sinks["subscriber_queue_url"].as_str().unwrap(),
        ],
    );
    let first: Value =
        serde_json::from_str(queued[0]["Message"].as_str().unwrap_or("{}")).unwrap_or(Value::Null);
    assert!(
        first.is_null(),
        "SQS got the structure, not the text: {first}"
    );
    let text = queued[0]["Message"].as_str().unwrap();
    assert!(text.contains("S3_ROUTE_MISSING"), "{text}");
    assert_eq!(
        queued[0]["MessageAttributes"]["finding"]["Value"],
        "S3_ROUTE_MISSING"
    );

    // Slack: the mitigations are replies in the thread, the parent edited with them.
    let calls = slack_calls(&report);
    let replies: Vec<String> = report["slack_api"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["method"] == "chat.postMessage" && c["body"]["thread_ts"].is_string())
        .map(all_text)
        .collect();
    assert_eq!(replies.len(), 4, "{calls:?}");
    assert!(
        replies[1].contains("🟠 *Mitigated: the old revision runs*"),
        "{}",
        replies[1]
    );
    assert!(replies[3].contains("would still fail"), "{}", replies[3]);
    // PagerDuty: a trigger per cause, and the resolve.
    assert_eq!(page_actions(&report), ["trigger", "trigger", "resolve"]);
}

#[test]
fn a_close_says_the_path_is_fixed_when_the_route_is_there_now() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let channels = teams_and_chatbot(&moto, false);
    open_incident(
        &moto,
        &channels,
        &common::repo("events/network/s3-route-missing.json"),
    );
    // Another process, after the fix: the same read a diagnosis makes finds the route.
    let fixed = fixed_snapshot();
    let steady = service_event("service-steady-state.json");
    let report = invoke(
        &moto.endpoint,
        &channels.env(fixed.to_str().unwrap()),
        &[&steady],
        &channels.options(&[]),
    );
    assert_eq!(outcomes(&report), ["resolved"], "{report:#}");
    let verified = report["invocations"][0]["body"]["verified"][0]
        .as_str()
        .unwrap();
    assert!(
        verified.starts_with(
            "S3_ROUTE_MISSING: fixed, the path from subnet-0c9d8e7f6a5b4c3d2 is open now: ✓ ENI in subnet-0c9d8e7f6a5b4c3d2 → ✓ rtb-0c3e5a7b9d1f24680: pl-78a54011 via vpce-04e8c1a2b3d5f6a79"
        ),
        "{verified}"
    );
    assert!(card_text(&report["teams"][0]).contains(verified));
    assert_eq!(
        chatbot_notifications(&report)[0]["metadata"]["eventType"],
        "IncidentClosed"
    );
    assert_eq!(paged(&report), [(202, "resolve".into(), INCIDENT.into())]);
}

#[test]
fn a_quiet_incident_is_closed_as_quiet_and_the_next_failure_opens_a_new_one() {
    let _serial = common::one_at_a_time();
    let (moto, channels, snapshot) = with_an_open_incident();
    let env = channels.env(&snapshot);
    // 61 minutes pass without a failure.
    fixture(
        &moto,
        "lambda_sinks.py",
        &["--age-incident", INCIDENT, "--minutes", "61"],
    );
    let later = seed_task("an-hour-later");
    let report = invoke(&moto.endpoint, &env, &[&later], &channels.options(&[]));
    // Inside the alert's window SNS stays quiet; the incident's channels hear the close and
    // the new incident.
    assert_eq!(outcomes(&report), ["suppressed"], "{report:#}");
    let cards = teams_cards(&report);
    assert_eq!(
        cards,
        [
            (202, "Resolved".into()),
            (202, "ECS pull failure: S3_ROUTE_MISSING".into())
        ],
        "{:#}",
        report["teams"]
    );
    let closed = card_text(&report["teams"][0]);
    assert!(
        closed.contains("⚪ Closed: no failure for 60 min") && !closed.contains("Resolved by"),
        "quiet is not called fixed: {closed}"
    );
    assert!(card_text(&report["teams"][1]).contains("1 failed tasks"));
    assert_eq!(page_actions(&report), ["resolve", "trigger"]);
    let closed = chatbot_notifications(&report);
    assert_eq!(closed[0]["metadata"]["eventType"], "IncidentClosed");
}

#[test]
fn a_failing_teams_is_retried_alone_and_nothing_else_is_sent_twice() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let channels = teams_and_chatbot(&moto, false);
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let first = seed_task("first");
    let report = invoke(
        &moto.endpoint,
        &channels.env(snapshot.to_str().unwrap()),
        &[&first],
        &channels.options(&["--teams-fail", "1", "--retries", "2"]),
    );
    assert_eq!(
        outcomes(&report),
        ["error:SinkFailed", "sent"],
        "{report:#}"
    );
    let error = error_message(&report, 0);
    assert!(
        error.contains("teams: workflow answered HTTP 500: InternalServerError")
            && error.contains("delivered: sns, pagerduty"),
        "{error}"
    );
    assert!(
        !error.contains("local-signature")
            && !report["logs"].to_string().contains("local-signature")
    );
    let statuses: Vec<u64> = teams_cards(&report).iter().map(|c| c.0).collect();
    assert_eq!(statuses, [500, 202]);
    assert_eq!(paged(&report).len(), 1);
    assert_eq!(published(&moto).len(), 1);
    assert_eq!(chatbot_notifications(&report).len(), 1);
    assert_eq!(
        report["invocations"][1]["body"]["sent_to"],
        serde_json::json!(["teams"])
    );

    // A Teams secret that cannot be read fails Teams alone, naming the variable.
    let moto = Moto::start();
    let channels = teams_and_chatbot(&moto, false);
    let mut env = channels.env(snapshot.to_str().unwrap());
    let missing =
        "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:ecs-pull-doctor/gone-AbCdEf";
    for (name, value) in env.iter_mut() {
        if *name == "TEAMS_WEBHOOK_URL_SECRET_ARN" {
            *value = missing;
        }
    }
    let report = invoke(&moto.endpoint, &env, &[&first], &channels.options(&[]));
    assert_eq!(outcomes(&report), ["error:SinkFailed"], "{report:#}");
    let error = error_message(&report, 0);
    assert!(
        error.contains("teams: TEAMS_WEBHOOK_URL_SECRET_ARN: secretsmanager:GetSecretValue failed (ResourceNotFoundException)")
            && error.contains("delivered: sns, pagerduty"),
        "{error}"
    );
    assert!(report["teams"].as_array().unwrap().is_empty());
}

const ROUTED_KEY: &str = "fedcba9876543210fedcba9876543210";
const ROUTED_CHANNEL: &str = "C0NETWORKTEAM";

#[test]
fn a_route_sends_an_incident_to_its_own_channels_and_a_mute_sends_nothing_but_counts() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let teams_port = free_port().to_string();
    let teams_url = format!(
        "http://127.0.0.1:{teams_port}/workflows/doctor/triggers/manual/paths/invoke?sig=local-signature"
    );
    let sinks = fixture(
        &moto,
        "lambda_sinks.py",
        &[
            "--pagerduty-key",
            ROUTING_KEY,
            "--routed-pagerduty-key",
            ROUTED_KEY,
            "--slack-bot-token",
            BOT_TOKEN,
            "--teams-url",
            &teams_url,
        ],
    );
    let routes = serde_json::json!([
        {"match": {"service": "web", "finding": "IMAGE_NOT_FOUND"}, "mute": true},
        {"match": {"account": "1111*", "cluster": "prod"},
         "slack_channel": ROUTED_CHANNEL,
         "pagerduty_routing_key_secret_arn": sinks["routed_pagerduty_secret_arn"],
         "teams_webhook_url_secret_arn": sinks["teams_secret_arn"]},
    ])
    .to_string();
    let snapshot = common::repo("events/network/s3-route-missing.json");
    let mut env = app_env(&sinks, snapshot.to_str().unwrap());
    env.push(("ROUTES", &routes));
    let events = [
        image_not_found("muted-first"),
        seed_task("first"),
        image_not_found("muted-later"),
        service_event("service-steady-state.json"),
    ];
    let paths: Vec<&std::path::Path> = events.iter().map(PathBuf::as_path).collect();
    let report = invoke(
        &moto.endpoint,
        &env,
        &paths,
        &[
            "--pagerduty-receiver",
            "--slack-api-token",
            BOT_TOKEN,
            "--teams-port",
            &teams_port,
        ],
    );
    assert_eq!(
        outcomes(&report),
        ["muted", "sent", "muted", "resolved"],
        "{report:#}"
    );
    let muted = &report["invocations"][0]["body"];
    assert_eq!(muted["route"], 1);
    assert_eq!(muted["incident"], INCIDENT);
    assert_eq!(muted["findings"][0], "IMAGE_NOT_FOUND");
    // Only the routed failure went out: SNS (not routable) and the route's channels.
    assert_eq!(published(&moto).len(), 1);
    let keys: Vec<(String, String)> = report["pagerduty"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["event"]["event_action"].as_str().unwrap().to_string(),
                p["event"]["routing_key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("trigger".to_string(), ROUTED_KEY.to_string()),
            ("resolve".to_string(), ROUTED_KEY.to_string())
        ],
        "the route's PagerDuty service, never the default's"
    );
    let channels: Vec<&str> = report["slack_api"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"]["channel"].as_str().unwrap())
        .collect();
    assert!(
        !channels.is_empty() && channels.iter().all(|c| *c == ROUTED_CHANNEL),
        "{channels:?}"
    );
    assert_eq!(
        teams_cards(&report),
        [
            (202, "ECS pull failure: S3_ROUTE_MISSING".into()),
            (202, "Resolved".into())
        ]
    );
    // The muted failures are counted in the incident all the same.
    assert_eq!(report["invocations"][3]["body"]["failed_tasks"], 3);
    assert!(log_decisions(&report).starts_with(&["muted".to_string()]));

    // A route that cannot work fails the start and names itself.
    let bad = r#"[{"match": {"finding": "S3_ROUTE_MISING"}, "mute": true}]"#;
    let mut env = app_env(&sinks, snapshot.to_str().unwrap());
    env.push(("ROUTES", bad));
    let first = seed_task("after-a-bad-deploy");
    let report = invoke(&moto.endpoint, &env, &[&first], &[]);
    assert_eq!(report["init_error"]["errorType"], "InvalidConfiguration");
    let message = report["init_error"]["errorMessage"].as_str().unwrap();
    assert!(
        message
            .contains("ROUTES: route 1: match.finding \"S3_ROUTE_MISING\" is not a finding code"),
        "{message}"
    );
}

/// A service event of `file` moved into the scenario's account and cluster.
fn service_event_in(file: &str, built: &Value) -> PathBuf {
    let account = built["account"].as_str().unwrap();
    let cluster_arn = built["cluster_arn"].as_str().unwrap();
    let region = cluster_arn.split(':').nth(3).unwrap();
    common::variant(&service_event(file), &format!("{account}-{file}"), |e| {
        e["account"] = account.into();
        e["region"] = region.into();
        e["resources"] =
            serde_json::json!([format!("arn:aws:ecs:{region}:{account}:service/prod/web")]);
        if e["detail"].get("clusterArn").is_some() {
            e["detail"]["clusterArn"] = cluster_arn.into();
        }
    })
}

#[test]
fn a_service_whose_tasks_cannot_start_is_diagnosed_from_its_newest_stopped_task() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let reason = common::read("events/s3-route-missing.json");
    let reason: Value = serde_json::from_str(&reason).unwrap();
    let reason = reason["detail"]["stoppedReason"].as_str().unwrap();
    let built = fixture(
        &moto,
        "moto_scenario.py",
        &["--scenario", "s3-route-missing", "--stopped-task", reason],
    );
    let sinks = paging_sinks(&moto);
    let impaired = service_event_in("service-task-start-impaired.json", &built);
    let env = [
        ("SNS_TOPIC_ARN", sinks["topic_arn"].as_str().unwrap()),
        ("DEDUP_TABLE", sinks["table"].as_str().unwrap()),
        (
            "PAGERDUTY_ROUTING_KEY_SECRET_ARN",
            sinks["pagerduty_secret_arn"].as_str().unwrap(),
        ),
    ];
    // The first opens the incident from the stopped task; the second finds it open.
    let proxy = FaultProxy::start(&moto.endpoint, &["--repair-describe-tasks"]);
    let report = invoke(
        &proxy.endpoint,
        &env,
        &[&impaired, &impaired],
        &["--pagerduty-receiver"],
    );
    assert_eq!(outcomes(&report), ["sent", "skipped"], "{report:#}");
    let body = &report["invocations"][0]["body"];
    assert_eq!(body["findings"][0], "S3_ROUTE_MISSING", "{body:#}");
    assert_eq!(body["task_arn"], built["stopped_task"]);
    assert!(report["invocations"][1]["body"]["why"]
        .as_str()
        .unwrap()
        .ends_with("is open: its failed tasks tell the rest"));
    let incident = format!(
        "ecs-pull-doctor/{}/ap-northeast-2/prod/service:web",
        built["account"].as_str().unwrap()
    );
    assert_eq!(paged(&report), [(202, "trigger".into(), incident)]);
    let (subject, text, _) = &published(&moto)[0];
    assert!(subject.contains("S3_ROUTE_MISSING"), "{subject}");
    assert!(
        text.contains(built["route_tables"]["priv-c"].as_str().unwrap()),
        "the live read names the task subnet's table: {text}"
    );
}

#[test]
fn a_start_impaired_service_with_no_stopped_task_left_says_so() {
    let _serial = common::one_at_a_time();
    let moto = Moto::start();
    let built = fixture(
        &moto,
        "moto_scenario.py",
        &["--scenario", "s3-route-missing"],
    );
    let sinks = paging_sinks(&moto);
    let impaired = service_event_in("service-task-start-impaired.json", &built);
    let report = invoke(
        &moto.endpoint,
        &[
            ("DEDUP_TABLE", sinks["table"].as_str().unwrap()),
            (
                "PAGERDUTY_ROUTING_KEY_SECRET_ARN",
                sinks["pagerduty_secret_arn"].as_str().unwrap(),
            ),
        ],
        &[&impaired],
        &["--pagerduty-receiver"],
    );
    assert_eq!(outcomes(&report), ["skipped"], "{report:#}");
    let why = report["invocations"][0]["body"]["why"].as_str().unwrap();
    assert!(
        why.contains("none of its stopped tasks is left to diagnose"),
        "{why}"
    );
    assert!(paged(&report).is_empty());
}

#[test]
fn the_quiet_check_closes_an_incident_that_went_quiet_once() {
    let _serial = common::one_at_a_time();
    let (moto, channels, snapshot) = with_an_open_incident();
    let env = channels.env(&snapshot);
    let (name, value) = ecs_pull_doctor::lambda::preflight::QUIET_CHECK;
    let check = common::variant(&seed_task("first"), "quiet-check", |e| {
        *e = serde_json::json!({ name: value });
    });
    // Inside the quiet period the check leaves it open.
    let report = invoke(&moto.endpoint, &env, &[&check], &channels.options(&[]));
    assert_eq!(outcomes(&report), ["quiet_checked"], "{report:#}");
    assert_eq!(
        report["invocations"][0]["body"]["closed"],
        serde_json::json!([])
    );
    assert!(report["teams"].as_array().unwrap().is_empty(), "{report:#}");
    assert!(paged(&report).is_empty());
    fixture(
        &moto,
        "lambda_sinks.py",
        &["--age-incident", INCIDENT, "--minutes", "61"],
    );
    let report = invoke(
        &moto.endpoint,
        &env,
        &[&check, &check],
        &channels.options(&[]),
    );
    assert_eq!(
        report["invocations"][0]["body"]["closed"],
        serde_json::json!([INCIDENT])
    );
    assert_eq!(
        report["invocations"][1]["body"]["closed"],
        serde_json::json!([])
    );
    assert_eq!(
        teams_cards(&report),
        [(202, "Resolved".into())],
        "closed once: {:#}",
        report["teams"]
    );
    assert!(card_text(&report["teams"][0]).contains("⚪ Closed: no failure for 60 min"));
    assert_eq!(paged(&report), [(202, "resolve".into(), INCIDENT.into())]);
}

#[test]
fn a_close_whose_invocation_stopped_is_finished_by_the_next_failure_which_then_opens_anew() {
    let _serial = common::one_at_a_time();
    let (moto, channels, snapshot) = with_an_open_incident();
    let env = channels.env(&snapshot);
    // A steady state's close began, and its invocation stopped before telling anyone.
    fixture(
        &moto,
        "lambda_sinks.py",
        &["--abandon-close", INCIDENT, "--by", "SERVICE_STEADY_STATE"],
    );
    let later = seed_task("after-the-close");
    let report = invoke(&moto.endpoint, &env, &[&later], &channels.options(&[]));
    assert_eq!(outcomes(&report), ["suppressed"], "{report:#}");
    assert_eq!(
        teams_cards(&report),
        [
            (202, "Resolved".into()),
            (202, "ECS pull failure: S3_ROUTE_MISSING".into())
        ],
        "{:#}",
        report["teams"]
    );
    assert!(card_text(&report["teams"][0]).contains("✅ Resolved by SERVICE_STEADY_STATE"));
    assert!(card_text(&report["teams"][1]).contains("1 failed tasks"));
    assert_eq!(page_actions(&report), ["resolve", "trigger"]);
}
