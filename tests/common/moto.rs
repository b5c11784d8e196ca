//! moto's server mode as the AWS API for one test: started on a free loopback port, killed
//! when dropped (panics included).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m moto.server starts (pip install -r tests/requirements.txt)");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !moto.answers() {
            assert!(
                Instant::now() < deadline,
                "moto did not answer on {}",
                moto.endpoint
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    fn answers(&self) -> bool {
        Command::new("python3")
            .args([
                "-c",
                "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/moto-api/', timeout=2)",
                &self.endpoint,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Clears every service's state (`POST /moto-api/reset`).
    pub fn reset(&self) {
        let status = Command::new("python3")
            .args([
                "-c",
                "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/moto-api/reset', method='POST'), timeout=10)",
                &self.endpoint,
            ])
            .status()
            .unwrap();
        assert!(status.success(), "moto reset failed");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Everything moto holds (`GET /moto-api/data.json`), as JSON.
pub fn data(moto: &Moto) -> Value {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1] + '/moto-api/data.json', timeout=10).read().decode())",
            &moto.endpoint,
        ])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `tests/fixtures/<script>` against moto with `args`; its JSON output.
pub fn fixture<S: AsRef<std::ffi::OsStr>>(moto: &Moto, script: &str, args: &[S]) -> Value {
    let out = Command::new("python3")
        .arg(super::repo(&format!("tests/fixtures/{script}")))
        .args(["--endpoint", &moto.endpoint])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Builds one scenario of `tests/fixtures/moto_scenario.py` through the API.
pub fn build_scenario(moto: &Moto, scenario: &str) -> Value {
    fixture(moto, "moto_scenario.py", &["--scenario", scenario])
}

/// `tests/fixtures/fault_proxy.py` in front of moto: refuses the EC2 actions it is told to.
pub struct FaultProxy {
    child: Child,
    pub endpoint: String,
}

impl FaultProxy {
    pub fn start(upstream: &str, faults: &[&str]) -> FaultProxy {
        use std::io::BufRead;
        let mut child = Command::new("python3")
            .arg(super::repo("tests/fixtures/fault_proxy.py"))
            .args(["--upstream", upstream])
            .args(faults)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().expect("the proxy prints its port");
        FaultProxy {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const REGISTRY_TIMEOUT_WITHOUT_IP: &str = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/web:2026.11.27-1f3a9c2: failed to do request: Head \"https://111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/v2/web/manifests/2026.11.27-1f3a9c2\": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)";

/// `event` as if sent from `account`: its envelope and every ARN it names (an event whose
/// ARNs name another account than its own is refused).
pub fn move_to_account(event: &mut Value, account: &str) {
    let from = event["account"].as_str().unwrap().to_string();
    let moved = |arn: &Value| {
        Value::String(
            arn.as_str()
                .unwrap()
                .replace(&format!(":{from}:"), &format!(":{account}:")),
        )
    };
    event["account"] = account.into();
    if let Some(resources) = event["resources"].as_array_mut() {
        for arn in resources.iter_mut() {
            *arn = moved(arn);
        }
    }
    for field in [
        "taskArn",
        "clusterArn",
        "taskDefinitionArn",
        "containerInstanceArn",
    ] {
        if event["detail"][field].is_string() {
            event["detail"][field] = moved(&event["detail"][field]);
        }
    }
}

/// The sample's event, moved into the scenario's account, cluster, subnet and address.
pub fn event_for(sample: &str, built: &Value) -> std::path::PathBuf {
    let mut event: Value =
        serde_json::from_str(&super::read(&format!("events/{sample}.json"))).unwrap();
    move_to_account(&mut event, built["account"].as_str().unwrap());
    let detail = &mut event["detail"];
    detail["clusterArn"] = built["cluster_arn"].clone();
    let attachments = detail["attachments"].as_array_mut().unwrap();
    for d in attachments
        .iter_mut()
        .flat_map(|a| a["details"].as_array_mut().unwrap())
    {
        match d["name"].as_str() {
            Some("subnetId") => d["value"] = built["task_subnet"].clone(),
            Some("privateIPv4Address") => d["value"] = built["task_ip"].clone(),
            _ => {}
        }
    }
    if let Some(arn) = built["container_instance"].as_str() {
        detail["containerInstanceArn"] = arn.into();
    }
    if sample == "endpoint-sg-blocks-task" {
        // moto gives interface endpoints random addresses outside the subnet, so this
        // scenario uses the older wording that names no address.
        detail["stoppedReason"] = REGISTRY_TIMEOUT_WITHOUT_IP.into();
        detail["containers"][0]["reason"] = REGISTRY_TIMEOUT_WITHOUT_IP.into();
    }
    let dir = std::env::temp_dir().join(format!("ecs-pull-doctor-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{sample}.json"));
    std::fs::write(&path, event.to_string()).unwrap();
    path
}

/// The CLI with the standard AWS environment pointed at `endpoint`, in English, with no
/// ip-ranges file but the one a test passes.
pub fn doctor(endpoint: &str, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecs-pull-doctor"));
    aws_environment(&mut command, endpoint)
        .args(args)
        .env_remove("DIAGNOSIS_LANG")
        .env_remove("IP_RANGES_FILE")
        // Nor the user's copy (`ip-ranges update`): these runs have no ip-ranges.
        .env("XDG_DATA_HOME", super::no_user_data())
        .output()
        .unwrap()
}

/// `audit --live --format json` with `extra`: the report, and the exit status.
pub fn audit_json(endpoint: &str, extra: &[&str]) -> (Value, i32) {
    let mut args = vec!["audit", "--live", "--format", "json"];
    args.extend_from_slice(extra);
    let out = doctor(endpoint, &args);
    let code = out.status.code().expect("exit status");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "exit {code}, not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (json, code)
}

/// The standard AWS environment of a child process, pointed at `endpoint` (moto or a proxy
/// in front of it), with nothing from the developer's own AWS configuration.
pub fn aws_environment<'c>(command: &'c mut Command, endpoint: &str) -> &'c mut Command {
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_REGION", "ap-northeast-2")
        // moto answers what it does not implement with HTTP 500: fail fast, no retries.
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}
