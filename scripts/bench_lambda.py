#!/usr/bin/env python3
"""Benchmark of the `bootstrap` Lambda (not a test): cold start, warm latency, peak RSS, size.

Runs the release binary through scripts/lambda_emulator.py (the Runtime API on loopback):

* cold start, process start to first response, for an ordinary STOPPED event (no AWS call)
  and for the seed pull failure diagnosed live against moto and published to SNS and Slack;
* warm latency per event inside one process: offline (NETWORK_SNAPSHOT_FILE, Slack receiver:
  no AWS call, so this is the function's own time) and live against moto (API time included);
* peak RSS of the process (its VmHWM, read before it is stopped: wait4's ru_maxrss would count
  the forking Python process too) and the size of the (stripped) binary;
* the cost of the incident channels: the seed failure, each the first of its incident, with
  SNS and the dedup table only, then with every channel on (Amazon Q Developer's part on SNS,
  PagerDuty, Slack's app and Teams on loopback stand-ins; DynamoDB and Secrets Manager in moto;
  the network from the snapshot, so only the channels differ);
* for orientation, a Python process that imports boto3 and creates EC2 and SNS clients.

    scripts/bench_lambda.py --bootstrap target/release/bootstrap [--runs 20]

Needs IP_RANGES_FILE (the function loads it at cold start) and moto (tests/requirements.txt).
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests/fixtures"))

import lambda_emulator  # noqa: E402
from local_moto import start_moto  # noqa: E402

SEED = ROOT / "events/s3-route-missing.json"
ORDINARY = ROOT / "events/essential-container-exited.json"
SNAPSHOT = ROOT / "events/network/s3-route-missing.json"
TOPIC = "arn:aws:sns:ap-northeast-2:123456789012:ecs-pull-doctor"


def base_env(endpoint):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLACK_", "SNS_", "DEDUP_"))}
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "ap-northeast-2",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }
    )
    env.pop("NETWORK_SNAPSHOT_FILE", None)
    return env


def summary(values, unit):
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
    return "median %.1f %s (min %.1f, p90 %.1f, n=%d)" % (statistics.median(values), unit, values[0], p90, len(values))


def run(bootstrap, events, env, slack=False):
    receiver = lambda_emulator.SlackReceiver(0, 0) if slack else None
    report = lambda_emulator.run(bootstrap, events, env=env, slack=receiver, timeout=60)
    bad = [i for i in report["invocations"] if i["outcome"] != "response"]
    if bad or report["init_error"]:
        raise SystemExit("bootstrap failed: %s\n%s" % (bad or report["init_error"], "\n".join(report["logs"])))
    if receiver:
        receiver.server.shutdown()
    return report


MEMBER = "210987654321"


def seed_event_in(built):
    """The seed sample's event, moved into a scenario moto_scenario.py built."""
    # Every ARN names the scenario's account, as the function's identity checks require.
    event = json.loads(SEED.read_text().replace("111122223333", built["account"]))
    event["detail"]["clusterArn"] = built["cluster_arn"]
    for d in event["detail"]["attachments"][0]["details"]:
        if d["name"] == "subnetId":
            d["value"] = built["task_subnet"]
        if d["name"] == "privateIPv4Address":
            d["value"] = built["task_ip"]
    return json.dumps(event).encode()


def cold_and_warm(args, events, env, cold_label, warm_label):
    """Cold starts (half the runs, at least 3), then warm invocations in one process."""
    cold, rss = [], []
    for _ in range(max(3, args.runs // 2)):
        report = run(args.bootstrap, events, env, slack=True)
        cold.append(report["cold_start_ms"])
        rss.append(report["peak_rss_kb"] / 1024)
    print("cold start, %s: %s" % (cold_label, summary(cold, "ms")))
    print("  peak RSS: " + summary(rss, "MB"))
    report = run(args.bootstrap, events * (args.runs + 1), env, slack=True)
    warm = [i["ms"] for i in report["invocations"][1:]]
    print("warm, %s: %s" % (warm_label, summary(warm, "ms")))
    print("  peak RSS: %.1f MB" % (report["peak_rss_kb"] / 1024))


BOT_TOKEN = "xoxb-0000000000-1111111111-abcdefABCDEF"
ROUTING_KEY = "0123456789abcdef0123456789abcdef"


def incident_events(count, start):
    """The seed failure in `count` services, so each is the first failure of its incident."""
    events = []
    for i in range(start, start + count):
        event = json.loads(SEED.read_text())
        event["detail"]["group"] = "service:web-%d" % i
        arn = "arn:aws:ecs:ap-northeast-2:111122223333:task/prod/bench-%d" % i
        event["detail"]["taskArn"] = arn
        event["resources"] = [arn]
        events.append(("incident-%d" % i, json.dumps(event).encode()))
    return events


def channels_cost(args):
    """Cold and warm first failures with SNS and the dedup table only, then every channel on
    (a moto of its own)."""
    moto, endpoint = start_moto()
    try:
        channels_cost_in(args, endpoint)
    finally:
        moto.terminate()
        moto.wait()


def channels_cost_in(args, endpoint):
    teams = lambda_emulator.TeamsReceiver(0, 0)
    sinks = json.loads(subprocess.check_output(
        [sys.executable, str(ROOT / "tests/fixtures/lambda_sinks.py"), "--endpoint", endpoint,
         "--pagerduty-key", ROUTING_KEY, "--slack-bot-token", BOT_TOKEN, "--teams-url", teams.url]))
    pagerduty = lambda_emulator.PagerDutyReceiver(0, 0)
    slack_api = lambda_emulator.SlackApiReceiver(0, BOT_TOKEN)
    env = base_env(endpoint)
    env.update(NETWORK_SNAPSHOT_FILE=str(SNAPSHOT), SNS_TOPIC_ARN=sinks["topic_arn"], DEDUP_TABLE=sinks["table"])
    every = dict(env, CHATBOT_NOTIFICATIONS="true", PAGERDUTY_ROUTING_KEY_SECRET_ARN=sinks["pagerduty_secret_arn"],
                 PAGERDUTY_EVENTS_URL=pagerduty.url, SLACK_BOT_TOKEN_SECRET_ARN=sinks["slack_bot_token_secret_arn"],
                 SLACK_CHANNEL_ID="C0INCIDENTS", SLACK_API_URL=slack_api.url,
                 TEAMS_WEBHOOK_URL_SECRET_ARN=sinks["teams_secret_arn"])
    counter = [0]

    def measure(environment, label):
        cold = []
        for _ in range(args.runs):
            report = lambda_emulator.run(args.bootstrap, incident_events(1, counter[0]), env=environment, timeout=60)
            counter[0] += 1
            if report["invocations"][0].get("body", {}).get("status") != "sent":
                raise SystemExit("not sent: %s\n%s" % (report["invocations"], "\n".join(report["logs"])))
            cold.append(report["cold_start_ms"])
        report = lambda_emulator.run(args.bootstrap, incident_events(args.runs + 1, counter[0]), env=environment, timeout=60)
        counter[0] += args.runs + 1
        warm = [i["ms"] for i in report["invocations"][1:]]
        print("cold start, first failure of an incident, %s: %s" % (label, summary(cold, "ms")))
        print("warm, first failure of an incident, %s: %s" % (label, summary(warm, "ms")))
        print("  peak RSS: %.1f MB" % (report["peak_rss_kb"] / 1024))

    measure(env, "SNS and the dedup table (snapshot, moto)")
    calls_before = (len(pagerduty.events), len(slack_api.calls), len(teams.posts))
    measure(every, "every channel on (+ Q Developer, PagerDuty, Slack app, Teams)")
    print("  calls per incident: %.1f PagerDuty, %.1f Slack, %.1f Teams" % tuple(
        (after - before) / (2 * args.runs + 1)
        for after, before in zip((len(pagerduty.events), len(slack_api.calls), len(teams.posts)), calls_before)))


def python_reference():
    code = "import boto3; boto3.client('ec2', region_name='ap-northeast-2'); boto3.client('sns', region_name='ap-northeast-2')"
    started = time.perf_counter()
    try:
        child = subprocess.Popen([sys.executable, "-c", code])
    except OSError:
        return None
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        return None
    return (time.perf_counter() - started) * 1000, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if not os.environ.get("IP_RANGES_FILE"):
        raise SystemExit("set IP_RANGES_FILE (or run `make ip-ranges`): the function loads it at cold start")

    size = os.path.getsize(args.bootstrap)
    print("binary: %s, %.1f MB" % (args.bootstrap, size / 1e6))

    seed = [("seed", SEED.read_bytes())]
    ordinary = [("ordinary", ORDINARY.read_bytes())]

    # Cold start without any AWS call: an ordinary STOPPED event is skipped.
    env = base_env("http://127.0.0.1:9")
    env["SNS_TOPIC_ARN"] = TOPIC
    cold, rss = [], []
    for _ in range(args.runs):
        report = run(args.bootstrap, ordinary, env)
        cold.append(report["cold_start_ms"])
        rss.append(report["peak_rss_kb"] / 1024)
    print("cold start, ordinary STOPPED (skipped, no AWS call): " + summary(cold, "ms"))
    print("  peak RSS: " + summary(rss, "MB"))

    # Offline (snapshot, Slack on loopback): the function's own time for a pull failure.
    env = base_env("http://127.0.0.1:9")
    env["NETWORK_SNAPSHOT_FILE"] = str(SNAPSHOT)
    cold = [run(args.bootstrap, seed, env, slack=True)["cold_start_ms"] for _ in range(args.runs)]
    print("cold start, seed pull failure offline (waits for ip-ranges, diagnose, Slack post): " + summary(cold, "ms"))
    report = run(args.bootstrap, seed * (args.runs + 1), env, slack=True)
    warm = [i["ms"] for i in report["invocations"][1:]]
    print("warm, seed pull failure offline (diagnose + Slack post on loopback): " + summary(warm, "ms"))
    print("  peak RSS: %.1f MB" % (report["peak_rss_kb"] / 1024))

    moto, endpoint = start_moto()
    try:
        built = json.loads(
            subprocess.check_output(
                [sys.executable, str(ROOT / "tests/fixtures/moto_scenario.py"), "--endpoint", endpoint, "--scenario", "s3-route-missing"]
            )
        )
        sinks = json.loads(
            subprocess.check_output([sys.executable, str(ROOT / "tests/fixtures/lambda_sinks.py"), "--endpoint", endpoint])
        )
        live = [("seed-live", seed_event_in(built))]
        env = base_env(endpoint)
        env["SNS_TOPIC_ARN"] = sinks["topic_arn"]

        cold_and_warm(args, live, env, "seed pull failure live vs moto (12 EC2/ECS calls, SNS publish, Slack post)",
                      "seed pull failure live vs moto (API time included)")

        # The same failure in a member account, for a central function: GetCallerIdentity at
        # cold start, then one AssumeRole per account (cached), then the same calls there.
        member = json.loads(
            subprocess.check_output(
                [sys.executable, str(ROOT / "tests/fixtures/moto_scenario.py"), "--endpoint", endpoint,
                 "--scenario", "s3-route-missing", "--account-id", MEMBER]
            )
        )
        from_member = [("member-live", seed_event_in(member))]
        env = dict(env, MEMBER_ROLE_NAME="ecs-pull-doctor-read", ALLOWED_ACCOUNTS=MEMBER)
        cold_and_warm(args, from_member, env,
                      "member-account pull failure vs moto (GetCallerIdentity, AssumeRole, the same calls)",
                      "member-account pull failure vs moto (credentials cached)")
    finally:
        moto.terminate()
        moto.wait()

    channels_cost(args)

    reference = python_reference()
    if reference:
        print("for orientation, python3 + boto3 EC2 and SNS clients: %.0f ms, %.1f MB" % reference)
    else:
        print("for orientation: boto3 is not importable here")


if __name__ == "__main__":
    main()
