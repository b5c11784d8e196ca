//! Shared helpers for the black-box tests: paths into the repository, the bundled samples,
//! the committed ip-ranges excerpt, and the full snapshot (found the way the product finds it).

#![allow(dead_code)]

pub mod emulator;
pub mod moto;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ecs_pull_doctor::diagnose::Finding;
use ecs_pull_doctor::event::{parse_task_event, FailedTask, TaskEvent};
use ecs_pull_doctor::ipranges::{self, IpRanges};
use ecs_pull_doctor::network::{snapshot, NetworkView};

/// The tests that start moto or the Lambda run one at a time within their binary: several
/// moto servers and CLI runs at once on two cores slow calls towards the SDK's timeouts,
/// which would turn a busy machine into a finding.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The committed excerpt of ip-ranges.json (`scripts/ip_ranges_excerpt.py`): every prefix
/// that holds an address the tests name, so those addresses are classified as the full file
/// classifies them.
pub fn ip_ranges_path() -> PathBuf {
    repo("tests/fixtures/ip-ranges-excerpt.json")
}

/// The excerpt, loaded once per test binary.
pub fn ip_ranges() -> &'static IpRanges {
    static RANGES: OnceLock<IpRanges> = OnceLock::new();
    RANGES.get_or_init(|| {
        ipranges::load_file(&ip_ranges_path()).expect("the ip-ranges excerpt should parse")
    })
}

/// Where AWS's full published snapshot is: `IP_RANGES_FILE` (what CI sets), else the copy
/// `make ip-ranges` downloads into `data/`. Only the tests that need every range use it.
pub fn full_ip_ranges_path() -> PathBuf {
    if let Some(path) = std::env::var_os("IP_RANGES_FILE") {
        let path = PathBuf::from(path);
        let path = if path.is_relative() {
            repo(".").join(path)
        } else {
            path
        };
        assert!(
            path.is_file(),
            "IP_RANGES_FILE={} does not exist; point it at an ip-ranges.json or run `make ip-ranges`",
            path.display()
        );
        return path;
    }
    let downloaded = repo("data/ip-ranges.json");
    assert!(
        downloaded.is_file(),
        "this test needs AWS's full ip-ranges.json: set IP_RANGES_FILE or run `make ip-ranges` (needs network)"
    );
    downloaded
}

/// The full snapshot, loaded once per test binary.
pub fn full_ip_ranges() -> &'static IpRanges {
    static RANGES: OnceLock<IpRanges> = OnceLock::new();
    RANGES.get_or_init(|| {
        ipranges::load_file(&full_ip_ranges_path()).expect("the ip-ranges snapshot should parse")
    })
}

pub fn read(relative: &str) -> String {
    std::fs::read_to_string(repo(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// A bundled sample's failed task (panics if the sample is not a pull failure).
pub fn sample_task(name: &str) -> FailedTask {
    match parse_task_event(&read(&format!("events/{name}.json"))).expect("sample event parses") {
        TaskEvent::PullFailure(task) => *task,
        TaskEvent::Skipped { why, .. } => panic!("sample {name} was skipped: {why}"),
    }
}

pub fn sample_network(name: &str) -> NetworkView {
    snapshot::load(&repo(&format!("events/network/{name}.json"))).expect("sample snapshot parses")
}

/// The bundled account snapshot the audit demo reads.
pub fn sample_account() -> NetworkView {
    snapshot::load(&repo("events/audit/account.json")).expect("the account snapshot parses")
}

/// A finding's English evidence, one line each.
pub fn evidence_en(finding: &Finding) -> String {
    finding
        .evidence
        .iter()
        .map(|e| e.en.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A copy of the event at `event` with `change` applied, written to a temporary file named
/// for `name` (what the emulator and the CLI read).
pub fn variant(event: &Path, name: &str, change: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(event).unwrap()).unwrap();
    change(&mut value);
    let dir = std::env::temp_dir().join(format!("ecs-pull-doctor-variants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

/// A character no sink may show: a bidirectional control, or a control character other than
/// the line feed (the list is the issue's, written here apart from `untrusted`'s own).
pub fn hidden(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}' | '\u{200E}' | '\u{200F}')
        || (c.is_control() && c != '\n')
}

/// What an attacker plants in a task event: bidirectional overrides, terminal escapes, a
/// forged line with a live mention, and 100 KB in the container's name, image and reason
/// and in the task's group.
pub fn plant_hostile_text(event: &mut serde_json::Value) {
    let huge = "a".repeat(100_000);
    let container = &mut event["detail"]["containers"][0];
    container["name"] = format!("web\u{202E}gnp.exe\u{1b}[2J{huge}").into();
    container["image"] = format!("{}{huge}", container["image"].as_str().unwrap()).into();
    let reason = format!(
        "{}\u{2066}\u{7}\r\nforged line <!channel> {huge}",
        container["reason"].as_str().unwrap()
    );
    container["reason"] = reason.clone().into();
    event["detail"]["stoppedReason"] = reason.into();
    event["detail"]["group"] = format!("service:web\u{200F}{huge}").into();
}

/// A JSON array of strings, as strings.
pub fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// An `XDG_DATA_HOME` with nothing in it: a run that must have no ip-ranges does not find
/// the user's copy (`ecs-pull-doctor ip-ranges update`) of whoever runs the tests.
pub fn no_user_data() -> &'static str {
    "/nonexistent/ecs-pull-doctor-tests"
}
