//! moto's server mode as the AWS API for one test: started on a free loopback port, killed
//! when dropped (panics included).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
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
