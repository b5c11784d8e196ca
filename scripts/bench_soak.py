#!/usr/bin/env python3
"""Soak benchmark of one warm `bootstrap` (not a test): memory and throughput over a long storm.

One process per mode, driven through scripts/lambda_emulator.py (the Runtime API on
loopback), with moto as DynamoDB (the dedup table) and SNS, and a local receiver as Slack:

* offline: the seed pull failure from N different tasks of one service, diagnosed against the
  bundled snapshot (NETWORK_SNAPSHOT_FILE), interleaved with ordinary stops (one every third
  event) and malformed payloads (one every hundredth);
* live: the same pull failure inspected live against moto's EC2/ECS (fewer events: each costs
  moto's ~12 answers).

The process's resident set (VmRSS) and peak (VmHWM) are read from /proc after warm-up and at
each checkpoint of diagnosed events; events per second are counted over the whole run. (wait4's
ru_maxrss is not used: it keeps the peak from before exec, when the child was a fork of the
Python driver, so it grows with whatever the driver holds, such as a list of prepared events.) What is sent must not change with the length of the storm: one
Slack post, one SNS publish, the first task `sent`, every other `suppressed` with its repeat
counted in the dedup record; the script fails if it does.

    scripts/bench_soak.py --bootstrap target/release/bootstrap [--diagnosed 10000] [--live 1000]

Needs IP_RANGES_FILE (the function loads it at cold start) and moto (tests/requirements.txt).
"""

import argparse
import json
import pathlib
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests/fixtures"))

import lambda_emulator  # noqa: E402
from bench_lambda import ORDINARY, SEED, SNAPSHOT, base_env  # noqa: E402
from local_moto import start_moto  # noqa: E402
from moto_scenario import client  # noqa: E402

WARM_UP = 100
# JSON, as EventBridge always delivers, but not a task: the handler's MalformedEvent.
MALFORMED = b'{"version": "0", "id": "malformed", "detail-type": "ECS Task State Change", "source": "aws.ecs", "detail": "not a task"}'


def rss_parts(pid):
    """The resident set split into anonymous memory (heap, stacks) and file-backed pages (the
    binary and shared libraries), in MB, from /proc/<pid>/smaps_rollup."""
    fields = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("Rss", "Anonymous"):
                fields[name] = int(value.split()[0]) / 1024
    return fields["Anonymous"], fields["Rss"] - fields["Anonymous"]


def proc_status(pid):
    """VmRSS and VmHWM of `pid`, in MB."""
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def pull_failure(template, index):
    """The seed event as task number `index` of the same service: its own task ARN, ENI and
    address, and a dialled S3 address that varies as S3's answers do (all in the region's S3
    prefix list, so the verdict is the same)."""
    text = json.dumps(template)
    task_ip = "10.20.%d.%d" % (8 + index // 250 % 4, 4 + index % 250)
    s3_ip = "52.219.%d.%d" % (204 + index // 250 % 4, 1 + index % 250)
    text = text.replace("10.20.11.57", task_ip).replace("ip-10-20-11-57", "ip-" + task_ip.replace(".", "-"))
    text = text.replace("52.219.204.42", s3_ip).replace("eni-0f1e2d3c4b5a69780", "eni-%017x" % (0xE000 + index))
    event = json.loads(text)
    task_id = "%032x" % (0x5EED0000 + index)
    arn = event["detail"]["taskArn"].rsplit("/", 1)[0] + "/" + task_id
    event["id"] = "soak-%d" % index
    event["resources"] = [arn]
    event["detail"]["taskArn"] = arn
    for container in event["detail"].get("containers", []):
        container["taskArn"] = arn
    return json.dumps(event).encode()


def storm(template, diagnosed, with_noise):
    """(name, payload) pairs: `diagnosed` pull failures, with ordinary stops and malformed
    payloads in between when `with_noise`."""
    ordinary = ORDINARY.read_bytes()
    for index in range(diagnosed):
        yield "pull-failure", pull_failure(template, index)
        if with_noise and index % 3 == 2:
            yield "ordinary", ordinary
        if with_noise and index % 100 == 99:
            yield "malformed", MALFORMED


class Sampler:
    """Counts outcomes and samples the process at checkpoints of diagnosed events."""

    def __init__(self, checkpoints):
        self.checkpoints = set(checkpoints) | {WARM_UP}
        self.diagnosed = 0
        self.outcomes = {}
        self.samples = []
        self.parts = None
        self.started = None

    def __call__(self, record, pid):
        if self.started is None:
            self.started = time.perf_counter()
        body = record.get("body")
        status = body.get("status") if isinstance(body, dict) else None
        kind = status or (body.get("errorType") if isinstance(body, dict) else record["outcome"])
        key = "%s: %s" % (record["event"], kind)
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        if record["event"] == "pull-failure" and record["outcome"] == "response":
            self.diagnosed += 1
            if self.diagnosed in self.checkpoints:
                rss, hwm = proc_status(pid)
                self.samples.append((self.diagnosed, rss, hwm, time.perf_counter() - self.started))
                self.parts = rss_parts(pid)


def sent_counts(endpoint, table, key):
    """SNS publishes, and the dedup record's repeat count, as moto holds them."""
    with urllib.request.urlopen(endpoint + "/moto-api/data.json") as f:
        data = json.load(f)
    published = sum(len(t.get("sent_notifications", [])) for t in data["sns"]["Topic"])
    item = client("dynamodb", endpoint).get_item(TableName=table, Key={"pk": {"S": key}}).get("Item", {})
    return published, int(item.get("repeats", {}).get("N", "0"))


def soak(name, bootstrap, env, template, diagnosed, checkpoints, endpoint, table, with_noise):
    slack = lambda_emulator.SlackReceiver(0, 0)
    sampler = Sampler(checkpoints)
    report = lambda_emulator.run(
        bootstrap,
        storm(template, diagnosed, with_noise),
        env=env,
        slack=slack,
        timeout=60,
        on_result=sampler,
        keep_logs=False,
    )
    slack.server.shutdown()
    elapsed = time.perf_counter() - sampler.started
    events = sum(sampler.outcomes.values())
    print("%s: %d events (%d diagnosed) in %.1f s, %.0f events/s" % (name, events, sampler.diagnosed, elapsed, events / elapsed))
    for count, rss, hwm, at in sampler.samples:
        label = "after warm-up (%d)" % count if count == WARM_UP else "after %d diagnosed" % count
        print("  %-26s RSS %6.1f MB   peak %6.1f MB   (%.0f s)" % (label, rss, hwm, at))
    print("  peak RSS at the end (VmHWM): %.1f MB" % (report["peak_rss_kb"] / 1024))
    print("  at the last checkpoint: %.1f MB anonymous (heap, stacks), %.1f MB file-backed (binary, libraries)" % sampler.parts)
    print("  outcomes: " + ", ".join("%s %d" % kv for kv in sorted(sampler.outcomes.items())))

    first = next(i for i in report["invocations"] if i["event"] == "pull-failure")
    key = first["body"].get("dedup_key")
    published, repeats = sent_counts(endpoint, table, key)
    posts = len(slack.posts)
    print("  sent: %d Slack post(s), %d SNS publish(es), %d repeats counted" % (posts, published, repeats))
    expected = {"pull-failure: sent": 1, "pull-failure: suppressed": diagnosed - 1}
    if with_noise:
        expected["ordinary: skipped"] = sum(1 for i in range(diagnosed) if i % 3 == 2)
        expected["malformed: MalformedEvent"] = sum(1 for i in range(diagnosed) if i % 100 == 99)
    problems = []
    if sampler.outcomes != expected:
        problems.append("outcomes %s, expected %s" % (sampler.outcomes, expected))
    if (posts, published, repeats) != (1, 1, diagnosed - 1):
        problems.append("sent %d/%d/%d, expected 1/1/%d" % (posts, published, repeats, diagnosed - 1))
    if problems:
        raise SystemExit("%s: what was sent changed: %s" % (name, "; ".join(problems)))
    return sampler.samples


def reset_sinks(endpoint):
    urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset", method="POST"))
    return json.loads(
        subprocess.check_output([sys.executable, str(ROOT / "tests/fixtures/lambda_sinks.py"), "--endpoint", endpoint])
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--diagnosed", type=int, default=10000, help="pull failures in the offline run")
    parser.add_argument("--live", type=int, default=1000, help="pull failures in the live run (0: none)")
    args = parser.parse_args()
    checkpoints = [c for c in (1000, 3000, 10000) if c <= args.diagnosed] or [args.diagnosed]
    template = json.loads(SEED.read_text())

    moto, endpoint = start_moto()
    try:
        sinks = reset_sinks(endpoint)
        env = base_env(endpoint)
        env.update(
            {
                "NETWORK_SNAPSHOT_FILE": str(SNAPSHOT),
                "SNS_TOPIC_ARN": sinks["topic_arn"],
                "DEDUP_TABLE": sinks["table"],
                "AWS_LAMBDA_LOG_LEVEL": "info",
            }
        )
        samples = soak("offline", args.bootstrap, env, template, args.diagnosed, checkpoints, endpoint, sinks["table"], True)
        by_count = {count: rss for count, rss, _, _ in samples}
        if 1000 in by_count and args.diagnosed in by_count and args.diagnosed > 1000:
            print("  growth from 1,000 to %d diagnosed: %+.1f MB (RSS)" % (args.diagnosed, by_count[args.diagnosed] - by_count[1000]))

        if args.live:
            sinks = reset_sinks(endpoint)
            built = json.loads(
                subprocess.check_output(
                    [sys.executable, str(ROOT / "tests/fixtures/moto_scenario.py"), "--endpoint", endpoint, "--scenario", "s3-route-missing"]
                )
            )
            # An event whose ARNs name another account than its envelope is refused, so every
            # ARN moves to the account moto built the scenario in.
            live = json.loads(json.dumps(template).replace("111122223333", built["account"]))
            live["detail"]["clusterArn"] = built["cluster_arn"]
            for d in live["detail"]["attachments"][0]["details"]:
                if d["name"] == "subnetId":
                    d["value"] = built["task_subnet"]
                if d["name"] == "privateIPv4Address":
                    d["value"] = built["task_ip"]
            env.pop("NETWORK_SNAPSHOT_FILE")
            env.update({"SNS_TOPIC_ARN": sinks["topic_arn"], "DEDUP_TABLE": sinks["table"]})
            live_checkpoints = [c for c in (1000, 3000) if c <= args.live] or [args.live]
            soak("live", args.bootstrap, env, live, args.live, live_checkpoints, endpoint, sinks["table"], False)
    finally:
        moto.terminate()
        moto.wait()


if __name__ == "__main__":
    main()
