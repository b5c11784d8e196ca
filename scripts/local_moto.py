"""moto's server mode on a free loopback port, for the benchmark scripts (the tests start
theirs from Rust, tests/common/moto.rs)."""

import socket
import subprocess
import sys
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    """Starts `python -m moto.server`; returns the process and its endpoint once it answers."""
    port = free_port()
    endpoint = "http://127.0.0.1:%d" % port
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=2)
            return moto, endpoint
        except OSError:
            if time.time() > deadline:
                moto.kill()
                raise SystemExit("moto did not start")
            time.sleep(0.1)
