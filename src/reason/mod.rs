//! One pull or initialisation error message → a [`PullFailure`].
//!
//! The message comes from the ECS agent (and sometimes from a person pasting it), so it is
//! untrusted text of any length: it may be wrapped in a service event, split over lines, carry
//! markdown links or typographic quotes, and it keeps changing wording. What a message's
//! phrases mean is data, in [`grammar`] (the families the emitters write, with their sources);
//! this module finds the host and the address in the text and applies the table's decisions.
//!
//! Two facts are read with care:
//! - the dialled address is only what follows `dial tcp`; other addresses in the text (an image
//!   reference such as `127.0.0.1:5000/app`, a DNS server in `lookup x on 10.0.0.2:53`) are not it;
//! - in the 2024+ wording (`The task cannot pull …`), the text after `Get` is the image
//!   reference, not the URL that failed, so the dialled IP is the more reliable signal of which
//!   hop failed (the classification step lets an S3 IP override the registry).

use std::net::IpAddr;
use std::sync::LazyLock;

pub mod grammar;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::localized::Localized;

/// Messages longer than this are cut before parsing (real ones are under 2 KiB); the cut keeps
/// the parser's cost bounded whatever arrives.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// What went wrong, independent of where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Symptom {
    Timeout,
    Unreachable,
    Refused,
    Dns,
    Denied,
    NotFound,
    /// Docker's `pull access denied …, repository does not exist or may require …`: the
    /// registry answers the same for a missing repository and for missing credentials.
    NotFoundOrDenied,
    RateLimited,
    Platform,
    ImageFormat,
    DiskFull,
    Unknown,
}

impl Symptom {
    pub const ALL: [Symptom; 12] = [
        Symptom::Timeout,
        Symptom::Unreachable,
        Symptom::Refused,
        Symptom::Dns,
        Symptom::Denied,
        Symptom::NotFound,
        Symptom::NotFoundOrDenied,
        Symptom::RateLimited,
        Symptom::Platform,
        Symptom::ImageFormat,
        Symptom::DiskFull,
        Symptom::Unknown,
    ];

    /// The symptom whose stable name is `name` (`"not_found"`).
    pub fn from_name(name: &str) -> Option<Symptom> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Symptoms that say the network path (routing, filtering, DNS) may be at fault.
    pub fn is_network(self) -> bool {
        matches!(
            self,
            Symptom::Timeout | Symptom::Unreachable | Symptom::Refused | Symptom::Dns
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Symptom::Timeout => "timeout",
            Symptom::Unreachable => "unreachable",
            Symptom::Refused => "refused",
            Symptom::Dns => "dns",
            Symptom::Denied => "denied",
            Symptom::NotFound => "not_found",
            Symptom::NotFoundOrDenied => "not_found_or_denied",
            Symptom::RateLimited => "rate_limited",
            Symptom::Platform => "platform",
            Symptom::ImageFormat => "image_format",
            Symptom::DiskFull => "disk_full",
            Symptom::Unknown => "unknown",
        }
    }

    /// How a sentence names the symptom: the stable name in English, words in Korean.
    pub fn words(self) -> Localized {
        let ko = match self {
            Symptom::Timeout => "시간 초과",
            Symptom::Unreachable => "네트워크 도달 불가",
            Symptom::Refused => "연결 거부",
            Symptom::Dns => "DNS 조회 실패",
            Symptom::Denied => "접근 거부",
            Symptom::NotFound => "찾을 수 없음",
            Symptom::NotFoundOrDenied => "찾을 수 없음 또는 접근 거부",
            Symptom::RateLimited => "요청 제한",
            Symptom::Platform => "플랫폼 불일치",
            Symptom::ImageFormat => "지원하지 않는 이미지 형식",
            Symptom::DiskFull => "디스크 부족",
            Symptom::Unknown => "알 수 없는 오류",
        };
        Localized::new(self.as_str(), ko)
    }
}

/// Which dependency the task could not use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hop {
    /// ECR's API (`api.ecr.<region>`), for `GetAuthorizationToken`.
    EcrAuth,
    /// The image registry: manifests, tags, and for non-ECR registries everything.
    Registry,
    /// Where ECR keeps image layers: S3 (`prod-<region>-starport-layer-bucket`).
    LayerStorage,
    SecretsManager,
    Ssm,
    CloudwatchLogs,
    /// Environment files that the task definition loads from S3.
    EnvFiles,
    Unknown,
}

impl Hop {
    pub const ALL: [Hop; 8] = [
        Hop::EcrAuth,
        Hop::Registry,
        Hop::LayerStorage,
        Hop::SecretsManager,
        Hop::Ssm,
        Hop::CloudwatchLogs,
        Hop::EnvFiles,
        Hop::Unknown,
    ];

    /// The hop whose stable name is `name` (`"layer_storage"`).
    pub fn from_name(name: &str) -> Option<Hop> {
        Self::ALL.into_iter().find(|h| h.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Hop::EcrAuth => "ecr_auth",
            Hop::Registry => "registry",
            Hop::LayerStorage => "layer_storage",
            Hop::SecretsManager => "secrets_manager",
            Hop::Ssm => "ssm",
            Hop::CloudwatchLogs => "cloudwatch_logs",
            Hop::EnvFiles => "env_files",
            Hop::Unknown => "unknown",
        }
    }

    /// How a sentence names the hop: the stable name in English, words in Korean.
    pub fn words(self) -> Localized {
        let ko = match self {
            Hop::EcrAuth => "ECR 인증(api.ecr)",
            Hop::Registry => "레지스트리",
            Hop::LayerStorage => "레이어 저장소(S3)",
            Hop::SecretsManager => "Secrets Manager",
            Hop::Ssm => "SSM Parameter Store",
            Hop::CloudwatchLogs => "CloudWatch Logs",
            Hop::EnvFiles => "환경 파일(S3)",
            Hop::Unknown => "알 수 없는 구간",
        };
        Localized::new(self.as_str(), ko)
    }
}

/// What one error message says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullFailure {
    pub symptom: Symptom,
    pub hop: Hop,
    /// The host the task was talking to, lower-cased, when the message names one.
    pub host: Option<String>,
    /// The address the task dialled (`dial tcp <ip>:<port>`), never another address in the text.
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
}

static DIAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"dial (?:tcp|tcp4|tcp6) (?:\[([0-9a-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})")
        .expect("static regex")
});
static LOOKUP_HOST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"lookup ([a-z0-9-]+(?:\.[a-z0-9-]+)+)").expect("static regex"));
/// `Get "https://host/…"` (a URL that failed) or `Get host/repo:tag` (an image reference).
static REQUEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b(?:get|head|post|put)\s+["']?(https?://)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::\d+)?(/\S*)?"#)
        .expect("static regex")
});
static FROM_HOST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"from host ([a-z0-9-]+(?:\.[a-z0-9-]+)+)").expect("static regex"));
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"https?://([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::\d+)?(/\S*)?").expect("static regex")
});
/// An image reference whose first component is a registry host (it has a dot), after the
/// phrases that introduce one.
static IMAGE_REF_HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:resolve ref(?:erence)?|(?:cannot|can't|can not) pull(?: the image)?|pull image|repository|failed to pull image|manifest for|pull access denied for)\s+["'\[]?([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::\d+)?/"#,
    )
    .expect("static regex")
});
/// Hosts that error messages link for help, never hosts the task talked to.
const DOCUMENTATION_HOSTS: &[&str] = &["www.docker.com", "docs.docker.com", "docs.aws.amazon.com"];

/// Parses one message. Never fails: what it cannot recognise is `unknown`.
pub fn parse_reason(message: &str) -> PullFailure {
    decide(message).failure
}

/// A parsed message and the families of [`grammar`] that decided its symptom and hop.
#[derive(Debug, Clone)]
pub struct Decision {
    pub failure: PullFailure,
    pub symptom_family: Option<&'static grammar::Family>,
    /// `None` when no family decided the hop (it is `unknown`, or a registry named only in
    /// the image reference made it `registry`).
    pub hop_family: Option<&'static grammar::Family>,
}

/// Parses one message and says which families decided it.
pub fn decide(message: &str) -> Decision {
    let text = normalise(message);
    let (ip, port) = dialled_address(&text);
    let host = failing_host(&text);
    let matching = grammar::grammar().matching(&text);
    let symptom_family = matching.iter().copied().find(|f| f.symptom.is_some());
    let (hop, hop_family) = hop_of(&matching, host.as_ref());
    Decision {
        failure: PullFailure {
            symptom: symptom_family
                .and_then(|f| f.symptom)
                .unwrap_or(Symptom::Unknown),
            hop,
            host: host.map(|h| h.name),
            ip,
            port,
        },
        symptom_family,
        hop_family,
    }
}

/// Lower-cases, folds typographic quotes to ASCII, and caps the length on a char boundary.
fn normalise(message: &str) -> String {
    let mut end = message.len().min(MAX_MESSAGE_BYTES);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message[..end]
        .chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{02bc}' => '\'',
            '\u{201c}' | '\u{201d}' => '"',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

/// The last `dial tcp` address: Go prints the innermost failure last.
fn dialled_address(text: &str) -> (Option<IpAddr>, Option<u16>) {
    let Some(caps) = DIAL.captures_iter(text).last() else {
        return (None, None);
    };
    let ip = caps
        .get(1)
        .or_else(|| caps.get(2))
        .and_then(|m| m.as_str().parse::<IpAddr>().ok());
    let port = caps.get(3).and_then(|m| m.as_str().parse::<u16>().ok());
    match ip {
        Some(ip) => (Some(ip), port),
        None => (None, None),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostSource {
    /// A URL the task requested, a DNS lookup, or `from host`: the host that failed.
    Request,
    /// The registry part of an image reference: where the image lives, not necessarily the
    /// host that failed (layers come from elsewhere).
    ImageReference,
}

#[derive(Debug, Clone)]
struct FailingHost {
    name: String,
    source: HostSource,
    /// The URL path, when the host came from a URL (`/v2/…/manifests/…`).
    path: Option<String>,
}

fn failing_host(text: &str) -> Option<FailingHost> {
    let request = |name: &str, path: Option<&str>| FailingHost {
        name: name.trim_end_matches('.').to_string(),
        source: HostSource::Request,
        path: path.map(str::to_string),
    };
    if let Some(c) = LOOKUP_HOST.captures_iter(text).last() {
        return Some(request(&c[1], None));
    }
    if let Some(c) = REQUEST
        .captures_iter(text)
        .filter(|c| c.get(1).is_some())
        .last()
    {
        return Some(request(&c[2], c.get(3).map(|m| m.as_str())));
    }
    if let Some(c) = FROM_HOST.captures_iter(text).last() {
        return Some(request(&c[1], None));
    }
    let requested_url = URL.captures_iter(text).filter(|c| {
        // A markdown link repeats the image reference as `(http://ref)`, and Docker Hub's rate
        // limit message links its documentation: neither is a request that failed.
        let is_markdown_echo = text[..c.get(0).map_or(0, |m| m.start())].ends_with("](");
        !is_markdown_echo && !DOCUMENTATION_HOSTS.contains(&&c[1])
    });
    if let Some(c) = requested_url.last() {
        return Some(request(&c[1], c.get(2).map(|m| m.as_str())));
    }
    let image_ref = REQUEST
        .captures_iter(text)
        .filter(|c| c.get(1).is_none() && c.get(3).is_some())
        .map(|c| c[2].to_string())
        .last()
        .or_else(|| {
            IMAGE_REF_HOST
                .captures_iter(text)
                .next()
                .map(|c| c[1].to_string())
        });
    image_ref.map(|name| FailingHost {
        name: name.trim_end_matches('.').to_string(),
        source: HostSource::ImageReference,
        path: None,
    })
}

/// The hop: the first matching family that decides one. `@host` families hand the decision
/// to the host the task was talking to, except that a registry host on AWS answering a layer
/// copy (not a manifest) is ECR redirecting to S3: a later layer family decides then.
fn hop_of(
    matching: &[&'static grammar::Family],
    host: Option<&FailingHost>,
) -> (Hop, Option<&'static grammar::Family>) {
    use grammar::HopRule;
    for (position, family) in matching.iter().enumerate() {
        match family.hop {
            HopRule::Silent => {}
            HopRule::Decides(hop) => return (hop, Some(family)),
            HopRule::FailingHost => {
                let Some(host) = host.filter(|h| h.source == HostSource::Request) else {
                    continue;
                };
                let by_host = hop_for_host(&host.name);
                let is_manifest = host
                    .path
                    .as_deref()
                    .is_some_and(|p| p.contains("/manifests/"));
                // A layer GET to a host outside AWS is the registry's own blob store or CDN
                // (Docker Hub's, ghcr's, a pull-through cache's upstream), reached over the
                // internet, not S3.
                let outside_aws = !host.name.ends_with(".amazonaws.com");
                let copies_layers = matching[position + 1..]
                    .iter()
                    .any(|f| f.hop == HopRule::Decides(Hop::LayerStorage));
                if by_host != Hop::Registry || is_manifest || outside_aws || !copies_layers {
                    return (by_host, Some(family));
                }
            }
        }
    }
    // An image reference names where the image lives even when no step is named.
    if host.is_some() {
        return (Hop::Registry, None);
    }
    (Hop::Unknown, None)
}

/// The hop a host name belongs to.
pub fn hop_for_host(host: &str) -> Hop {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let first = labels.first().copied().unwrap_or("");
    if host.contains("starport-layer-bucket") || is_s3_host(&labels) {
        return Hop::LayerStorage;
    }
    if host.starts_with("api.ecr") || host.starts_with("ecr.") || first == "ecr-fips" {
        return Hop::EcrAuth;
    }
    match first {
        "secretsmanager" | "secretsmanager-fips" => Hop::SecretsManager,
        "ssm" | "ssm-fips" | "ssmmessages" => Hop::Ssm,
        "logs" if host.contains("amazonaws") => Hop::CloudwatchLogs,
        _ => Hop::Registry,
    }
}

fn is_s3_host(labels: &[&str]) -> bool {
    let on_aws = labels.contains(&"amazonaws");
    on_aws
        && labels
            .iter()
            .any(|l| *l == "s3" || l.starts_with("s3-") || *l == "s3-external-1")
}

/// The AWS region named in an AWS host (`api.ecr.eu-west-3.amazonaws.com` → `eu-west-3`,
/// `prod-ap-northeast-2-starport-layer-bucket.s3…` → `ap-northeast-2`).
pub fn region_in_host(host: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    if let Some(rest) = host.strip_prefix("prod-") {
        if let Some((region, _)) = rest.split_once("-starport-layer-bucket") {
            if looks_like_region(region) {
                return Some(region.to_string());
            }
        }
    }
    host.split('.')
        .find(|label| looks_like_region(label))
        .map(str::to_string)
}

/// `us-east-1`, `ap-northeast-2`, `us-gov-west-1`, `eu-central-2`…
pub fn looks_like_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
}

/// The registry host of an image reference, as Docker reads it: the first path component
/// when it has a dot or a port or is `localhost`, otherwise Docker Hub.
pub fn registry_of_image(image: &str) -> String {
    let image = image.trim();
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_ascii_lowercase()
        }
        _ => "docker.io".to_string(),
    }
}

/// ECR private registry hosts: `<account>.dkr.ecr.<region>.amazonaws.com` (and `.com.cn`).
pub fn is_ecr_private_registry(host: &str) -> bool {
    host.contains(".dkr.ecr.") || host.contains(".dkr.ecr-fips.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_reference_with_port_is_not_the_dialled_address() {
        let f = parse_reason(
            "CannotPullContainerError: failed to resolve ref 127.0.0.1:5000/app:1: dial tcp 10.0.3.9:5000: connect: connection refused",
        );
        assert_eq!(f.ip, Some("10.0.3.9".parse().unwrap()));
        assert_eq!(f.port, Some(5000));
        assert_eq!(f.symptom, Symptom::Refused);
    }

    #[test]
    fn dns_server_is_not_the_dialled_address() {
        let f = parse_reason(
            "dial tcp: lookup api.ecr.us-east-1.amazonaws.com on 10.0.0.2:53: no such host",
        );
        assert_eq!(f.ip, None);
        assert_eq!(f.port, None);
        assert_eq!(f.symptom, Symptom::Dns);
        assert_eq!(f.host.as_deref(), Some("api.ecr.us-east-1.amazonaws.com"));
        assert_eq!(f.hop, Hop::EcrAuth);
    }

    #[test]
    fn ipv6_dial_is_parsed() {
        let f = parse_reason("Get \"https://auth.ipv6.docker.com/token\": dial tcp [2600:1f18:2148:bc00:e947:5a7f:a49f:9126]:443: connect: network is unreachable");
        assert_eq!(
            f.ip,
            Some("2600:1f18:2148:bc00:e947:5a7f:a49f:9126".parse().unwrap())
        );
        assert_eq!(f.port, Some(443));
        assert_eq!(f.symptom, Symptom::Unreachable);
    }

    #[test]
    fn out_of_range_port_and_bad_ip_are_dropped() {
        let f = parse_reason("dial tcp 300.1.1.1:99999: i/o timeout");
        assert_eq!((f.ip, f.port), (None, None));
        assert_eq!(f.symptom, Symptom::Timeout);
    }

    #[test]
    fn typographic_apostrophe_in_new_wording() {
        let f = parse_reason("CannotPullContainerError: The task can\u{2019}t pull the image 111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/web:1 from Amazon ECR. There is a connection issue between the task and Amazon ECR.");
        assert_eq!(f.symptom, Symptom::Timeout);
        assert_eq!(f.hop, Hop::Registry);
    }

    #[test]
    fn service_event_wrapping_is_read_through() {
        let f = parse_reason("(service web) was unable to place a task. Reason: ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post \"https://api.ecr.ap-northeast-2.amazonaws.com/\": dial tcp 3.36.53.2:443: i/o timeout");
        assert_eq!(f.hop, Hop::EcrAuth);
        assert_eq!(f.symptom, Symptom::Timeout);
        assert_eq!(
            f.host.as_deref(),
            Some("api.ecr.ap-northeast-2.amazonaws.com")
        );
    }

    #[test]
    fn pull_access_denied_alone_is_missing_image_or_missing_credentials() {
        let f = parse_reason("CannotPullContainerError: Error response from daemon: pull access denied for myorg/app, repository does not exist or may require 'docker login'");
        assert_eq!(f.symptom, Symptom::NotFoundOrDenied);
        // Docker Hub's stock denial is also its answer for a repository that does not exist.
        let f = parse_reason("CannotPullContainerError: Error response from daemon: pull access denied for myorg/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied");
        assert_eq!(f.symptom, Symptom::NotFoundOrDenied);
        let f = parse_reason("CannotPullContainerError: Error response from daemon: pull access denied for myorg/app, repository does not exist or may require 'docker login': denied: Your authorization token has expired. Reauthenticate and try again.");
        assert_eq!(f.symptom, Symptom::Denied);
    }

    #[test]
    fn registry_helpers() {
        assert_eq!(registry_of_image("nginx:latest"), "docker.io");
        assert_eq!(registry_of_image("library/nginx"), "docker.io");
        assert_eq!(registry_of_image("localhost/app"), "localhost");
        assert_eq!(
            registry_of_image("111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/web:1"),
            "111122223333.dkr.ecr.ap-northeast-2.amazonaws.com"
        );
        assert_eq!(
            region_in_host("prod-eu-west-2-starport-layer-bucket.s3.eu-west-2.amazonaws.com")
                .as_deref(),
            Some("eu-west-2")
        );
        assert_eq!(
            region_in_host("api.ecr.us-gov-west-1.amazonaws.com").as_deref(),
            Some("us-gov-west-1")
        );
        assert_eq!(region_in_host("registry-1.docker.io"), None);
        assert_eq!(hop_for_host("s3.amazonaws.com"), Hop::LayerStorage);
        assert_eq!(hop_for_host("quay.io"), Hop::Registry);
    }

    #[test]
    fn cut_on_a_char_boundary() {
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let f = parse_reason(&long);
        assert_eq!(f.symptom, Symptom::Unknown);
    }
}
