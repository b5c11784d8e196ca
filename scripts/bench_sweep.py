#!/usr/bin/env python3
"""Benchmark of the organisation's sweep against a local moto server (not a test).

Builds, through the real API, N member accounts (default 200) of 10 Fargate services in 2 VPCs
each (3 private subnets per VPC, an S3 gateway endpoint and ecr.api, ecr.dkr and logs interface
endpoints; the first account's S3 endpoint misses a route table), in the first region only: the
second region of each account is read and found empty. Then, through the release `bootstrap`
and the Runtime API emulator: the plan (one invocation), and the work, with
tests/fixtures/sqs_poller.py playing the event source mapping (--workers at once, one message
per invocation). Reports the wall time of each phase, the messages, retries, the API calls per
target (the workers' own count), and each worker's peak RSS (the function's own VmHWM, which the
template's MemorySize must hold). moto answers each call in milliseconds on loopback, so wall
times are mostly moto's and the emulator's process start-up; calls per target and memory are
what carry over to AWS.

    scripts/bench_sweep.py --bootstrap target/release/bootstrap [--accounts 200] [--workers 4]
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests/fixtures"))
from bench_audit import build, in_account  # noqa: E402
from local_moto import start_moto  # noqa: E402
from moto_scenario import client  # noqa: E402

REGIONS = ["ap-northeast-2", "eu-west-1"]
CENTRAL = "123456789012"


def environment(endpoint, variables):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGIONS[0], "AWS_MAX_ATTEMPTS": "1", "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    })
    env.update(variables)
    return env


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    moto, endpoint = start_moto()
    try:
        accounts = [f"{310000000000 + i:012d}" for i in range(args.accounts)]
        started = time.perf_counter()
        for i, account in enumerate(accounts):
            build(endpoint, clusters=1, services=10, vpcs=2, task_definitions=10,
                  broken_routes={0} if i == 0 else set(), broken_logs=set(), make=in_account(endpoint, account))
        print(f"{args.accounts} accounts of 10 services in 2 VPCs built through the API in "
              f"{time.perf_counter() - started:.0f} s")
        sqs, dynamodb = client("sqs", endpoint), client("dynamodb", endpoint)
        topic = client("sns", endpoint).create_topic(Name="bench-sweep")["TopicArn"]
        dynamodb.create_table(TableName="bench-sweep", BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        dlq = sqs.create_queue(QueueName="bench-sweep-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue = sqs.create_queue(QueueName="bench-sweep", Attributes={
            # The template's is 540 s; a retried target comes back in 10 here.
            "VisibilityTimeout": "10",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})})["QueueUrl"]
        env = environment(endpoint, {
            "SNS_TOPIC_ARN": topic, "DEDUP_TABLE": "bench-sweep", "MEMBER_ROLE_NAME": "ecs-pull-doctor-read",
            "ALLOWED_ACCOUNTS": ",".join(accounts), "SWEEP_QUEUE_URL": queue, "SWEEP_REGIONS": ",".join(REGIONS),
            "IP_RANGES_FILE": str(ROOT / "tests/fixtures/ip-ranges-excerpt.json"),
        })
        event = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / "bench-sweep-schedule.json"
        event.write_text(json.dumps({
            "version": "0", "id": "bench", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": CENTRAL, "time": "2026-12-01T00:00:00Z", "region": REGIONS[0], "resources": [], "detail": {}}))
        started = time.perf_counter()
        out = subprocess.run([sys.executable, str(ROOT / "scripts/lambda_emulator.py"), "--bootstrap", args.bootstrap,
                              "--event", str(event), "--json", "--timeout", "300"],
                             env=env, capture_output=True, text=True, check=True)
        plan = json.loads(out.stdout)
        body = plan["invocations"][0]["body"]
        planned = time.perf_counter() - started
        print(f"plan: {body.get('targets')} targets ({args.accounts} accounts × {len(REGIONS)} regions) in "
              f"{planned:.2f} s, peak RSS {plan['peak_rss_kb'] / 1024:.1f} MB")
        started = time.perf_counter()
        out = subprocess.run([sys.executable, str(ROOT / "tests/fixtures/sqs_poller.py"), "--endpoint", endpoint,
                              "--queue-url", queue, "--bootstrap", args.bootstrap, "--workers", str(args.workers),
                              "--max-seconds", "3600"],
                             env=env, capture_output=True, text=True, check=True)
        worked = time.perf_counter() - started
        polled = json.loads(out.stdout)
        calls = []
        for line in polled["logs"]:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("message") == "audit done" or record.get("fields", {}).get("message") == "audit done":
                value = record.get("calls", record.get("fields", {}).get("calls"))
                if value is not None:
                    calls.append(int(value))
        retried_why = {}
        for line in polled["logs"]:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("decision") == "retry":
                why = str(record.get("why", ""))[:120]
                retried_why[why] = retried_why.get(why, 0) + 1
        for why, count in sorted(retried_why.items(), key=lambda x: -x[1]):
            print(f"  retried {count}×: {why}")
        rss = [kb / 1024 for kb in polled["peak_rss_kb"]]
        print(f"work: {polled['received']} messages in {polled['batches']} invocations, {polled['retried']} retried, "
              f"{polled['deleted']} done in {worked:.1f} s with {args.workers} workers "
              f"({worked * args.workers / max(polled['deleted'], 1) * 1000:.0f} ms a target a worker, "
              f"moto and the emulator's start-up included)")
        if calls:
            populated = [c for c in calls if c > 10]
            print(f"API calls per target: mean {statistics.mean(calls):.1f}, max {max(calls)} "
                  f"(targets with services: mean {statistics.mean(populated or [0]):.1f}); plus one AssumeRole "
                  f"per account and region's worker")
        if rss:
            print(f"worker peak RSS: median {statistics.median(rss):.1f} MB, max {max(rss):.1f} MB")
        published = [m for t in json.loads(urllib.request.urlopen(
            endpoint + "/moto-api/data.json", timeout=600).read())["sns"]["Topic"]
                     for m in t["sent_notifications"]]
        summaries = [m for m in published if "organisation sweep" in (m[2] or "")]
        print(f"posts: {len(published)} ({len(summaries)} run summary: {summaries[0][2] if summaries else '-'})")
        depth = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
        print(f"dead-letter queue: {depth['Attributes']['ApproximateNumberOfMessages']} messages")
    finally:
        moto.terminate()


if __name__ == "__main__":
    main()
