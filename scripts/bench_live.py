#!/usr/bin/env python3
"""Benchmark of a full `diagnose --live` against a local moto server (not a test).

Builds the seed scenario padded to 50 route tables and 20 extra interface endpoints, then runs
the release binary N times and reports wall time (median, min, max) with the API calls and
sequential rounds the inspection made. moto answers in ~15 ms a call on this machine, so the
wall time is dominated by the emulator; the call and round counts are what carry over to AWS.

    scripts/bench_live.py --binary target/release/ecs-pull-doctor [--runs 20]
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests/fixtures"))
from local_moto import start_moto  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    moto, endpoint = start_moto()
    try:
        built = json.loads(
            subprocess.check_output(
                [sys.executable, str(ROOT / "tests/fixtures/moto_scenario.py"), "--endpoint", endpoint,
                 "--scenario", "s3-route-missing", "--pad-route-tables", "46", "--pad-endpoints", "16"]
            )
        )
        # The event is refused when an ARN names another account than its envelope, so
        # every ARN moves to the account moto built the scenario in.
        seed = (ROOT / "events/s3-route-missing.json").read_text()
        event = json.loads(seed.replace("111122223333", built["account"]))
        event["detail"]["clusterArn"] = built["cluster_arn"]
        for d in event["detail"]["attachments"][0]["details"]:
            if d["name"] == "subnetId":
                d["value"] = built["task_subnet"]
        event_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(event, event_file)
        event_file.close()

        env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_REGION="ap-northeast-2", AWS_MAX_ATTEMPTS="1", AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        times, report, verdict = [], "", ""
        for _ in range(args.runs):
            start = time.perf_counter()
            out = subprocess.run([args.binary, "diagnose", "--event", event_file.name, "--live", "--report-calls",
                                  "--format", "json"], env=env, capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - start)
            report = out.stderr.strip()
            verdict = json.loads(out.stdout)["findings"][0]["code"]
        ms = [t * 1000 for t in times]
        print(f"scenario: seed (s3-route-missing), 50 route tables, 20 endpoints (19 interface, 1 gateway)")
        print(f"verdict: {verdict}")
        print(report)
        print(f"wall time per diagnose --live (process start to exit), {args.runs} runs: "
              f"median {statistics.median(ms):.0f} ms, min {min(ms):.0f} ms, max {max(ms):.0f} ms")
    finally:
        moto.terminate()
        moto.wait()


if __name__ == "__main__":
    main()
