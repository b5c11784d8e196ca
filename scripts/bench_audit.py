#!/usr/bin/env python3
"""Benchmark of `audit --live` over a large account, against a local moto server (not a test).

Builds, through the real API, 500 Fargate services in 4 clusters over 20 VPCs (3 private
subnets each, one route table per subnet, an S3 gateway endpoint and ecr.api, ecr.dkr and logs
interface endpoints per VPC) running 120 distinct task definitions, with a few broken parts:
in 2 VPCs the S3 endpoint misses one route table, in 1 VPC there is no logs endpoint. Then runs
the release binary's audit and reports the API calls, sequential rounds, wall time and peak
RSS (GNU time's maximum resident set size of the audit process itself), and checks the
audit found exactly the broken parts. moto answers each call in milliseconds on loopback, so
the wall time is mostly moto's; the call and round counts are what carry over to AWS.

With --bootstrap it also runs the Lambda's scheduled sweep of the same account through the
Runtime API emulator (SNS in moto as the sink, no dedup table) and reports its time and the
function's own peak RSS (VmHWM), which is what the template's MemorySize must hold.

With --accounts N it instead builds N member accounts of 10 services each (one VPC of 3
subnets apiece, the first account's S3 endpoint missing a route table) and runs one
`audit --live --account … --role-name ecs-pull-doctor-read` over all of them (at most eight
accounts in flight), reporting wall time, calls and peak RSS.

    scripts/bench_audit.py --binary target/release/ecs-pull-doctor [--bootstrap target/release/bootstrap] [--runs 3]
    scripts/bench_audit.py --binary target/release/ecs-pull-doctor --accounts 50
"""

import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests/fixtures"))
from local_moto import start_moto  # noqa: E402
from moto_scenario import client  # noqa: E402

REGION = "ap-northeast-2"
ACCOUNT = "123456789012"
CLUSTERS, SERVICES, VPCS, TASK_DEFINITIONS = 4, 500, 20, 120
S3_ROUTE_MISSING_IN = {3, 11}  # VPC indexes whose third route table lacks the S3 endpoint
NO_LOGS_ENDPOINT_IN = {7}



def build(endpoint, clusters=CLUSTERS, services=SERVICES, vpcs=VPCS, task_definitions=TASK_DEFINITIONS,
          broken_routes=S3_ROUTE_MISSING_IN, broken_logs=NO_LOGS_ENDPOINT_IN, make=client):
    ec2, ecs = make("ec2", endpoint), make("ecs", endpoint)
    networks = []
    for v in range(vpcs):
        vpc = ec2.create_vpc(CidrBlock=f"10.{100 + v}.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnets, tables = [], []
        for i, zone in enumerate("abc"):
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{100 + v}.{i}.0/24",
                                       AvailabilityZone=REGION + zone)["Subnet"]["SubnetId"]
            table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
            subnets.append(subnet)
            tables.append(table)
        tasks = ec2.create_security_group(VpcId=vpc, GroupName="tasks", Description="tasks")["GroupId"]
        endpoints = ec2.create_security_group(VpcId=vpc, GroupName="vpce", Description="vpce")["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=endpoints, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": tasks}]}])
        associated = tables[:2] if v in broken_routes else tables
        ec2.create_vpc_endpoint(VpcId=vpc, VpcEndpointType="Gateway", ServiceName=f"com.amazonaws.{REGION}.s3",
                                RouteTableIds=associated)
        for short in ["ecr.api", "ecr.dkr"] + ([] if v in broken_logs else ["logs"]):
            ec2.create_vpc_endpoint(VpcId=vpc, VpcEndpointType="Interface",
                                    ServiceName=f"com.amazonaws.{REGION}.{short}", SubnetIds=subnets,
                                    SecurityGroupIds=[endpoints], PrivateDnsEnabled=True)
        networks.append((subnets, tasks))
    logs = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/bench", "awslogs-region": REGION,
                                                "awslogs-stream-prefix": "app"}}
    definitions = []
    for t in range(task_definitions):
        definitions.append(ecs.register_task_definition(
            family=f"app{t}", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "app", "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app{t}:1",
                                   "memory": 512, "essential": True, "logConfiguration": logs}],
        )["taskDefinition"]["taskDefinitionArn"])
    for c in range(clusters):
        ecs.create_cluster(clusterName=f"cluster{c}")
    for s in range(services):
        subnets, group = networks[s % vpcs]
        ecs.create_service(cluster=f"cluster{s % clusters}", serviceName=f"svc{s}",
                           taskDefinition=definitions[s % task_definitions], desiredCount=1, launchType="FARGATE",
                           networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group],
                                                                         "assignPublicIp": "DISABLED"}})


def sweep(bootstrap, endpoint, env):
    """One scheduled sweep of the account through the real bootstrap; its time and peak RSS."""
    topic = client("sns", endpoint).create_topic(Name="bench-audit")["TopicArn"]
    event = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / "bench-audit-schedule.json"
    event.write_text(json.dumps({
        "version": "0", "id": "bench", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": ACCOUNT, "time": "2026-12-01T00:00:00Z", "region": REGION, "resources": [], "detail": {}}))
    started = time.perf_counter()
    out = subprocess.run([sys.executable, str(ROOT / "scripts/lambda_emulator.py"), "--bootstrap", bootstrap,
                          "--event", str(event), "--json", "--timeout", "300"],
                         env=dict(env, SNS_TOPIC_ARN=topic), capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    report = json.loads(out.stdout)
    body = report["invocations"][0]["body"]
    print(f"Lambda sweep: {body.get('services')} services, {len(body.get('new', []))} new causes, "
          f"posted to {body.get('sent_to')}; {elapsed:.1f} s from cold start; "
          f"function peak RSS {report['peak_rss_kb'] / 1024:.1f} MB")


def in_account(endpoint, account):
    """A client factory acting in `account` (moto: credentials from sts:AssumeRole act there)."""
    sts = client("sts", endpoint)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/bench-builder", RoleSessionName="bench")["Credentials"]
    import boto3

    def make(service, endpoint):
        return boto3.client(service, region_name=REGION, endpoint_url=endpoint, aws_access_key_id=c["AccessKeyId"],
                            aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
    return make


def many_accounts(binary, endpoint, env, count):
    accounts = [f"{210000000000 + i:012d}" for i in range(count)]
    started = time.perf_counter()
    for i, account in enumerate(accounts):
        build(endpoint, clusters=1, services=10, vpcs=1, task_definitions=10,
              broken_routes={0} if i == 0 else set(), broken_logs=set(), make=in_account(endpoint, account))
    print(f"{count} member accounts of 10 services built through the API in {time.perf_counter() - started:.0f} s")
    args = ["/usr/bin/time", "-f", "peak_rss_kb=%M", binary, "audit", "--live", "--role-name", "ecs-pull-doctor-read",
            "--format", "json"]
    for account in accounts:
        args += ["--account", account]
    start = time.perf_counter()
    out = subprocess.run(args, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode not in (0, 1, 3):
        raise SystemExit(f"audit failed ({out.returncode}): {out.stderr}")
    result = json.loads(out.stdout)
    peak = int(re.search(r"peak_rss_kb=(\d+)", out.stderr).group(1))
    summary, calls = result["summary"], result["calls"]
    causes = [(c["account"], c["code"]) for c in result["root_causes"]]
    print(f"audit of {count} accounts: {summary['services']} services ({summary['ok']} ok, {summary['blocked']} blocked, "
          f"{summary['unknown']} unknown), root causes {causes}")
    print(f"calls: {calls['total']} ({calls['total'] / count:.0f} per account) and {count} AssumeRole, "
          f"deepest account: {calls['rounds']} rounds; wall time {elapsed:.1f} s; peak RSS {peak / 1024:.1f} MB")
    if causes != [(accounts[0], "S3_ROUTE_MISSING")]:
        raise SystemExit("the audit did not find exactly the one broken account's cause")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bootstrap", help="also time the Lambda's sweep of the account")
    parser.add_argument("--accounts", type=int, help="audit this many member accounts of 10 services instead")
    args = parser.parse_args()

    moto, endpoint = start_moto()
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_REGION=REGION, AWS_MAX_ATTEMPTS="1", AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    if args.accounts:
        try:
            many_accounts(args.binary, endpoint, env, args.accounts)
        finally:
            moto.terminate()
            moto.wait()
        return
    try:
        started = time.perf_counter()
        build(endpoint)
        print(f"account built through the API in {time.perf_counter() - started:.0f} s: {SERVICES} services, "
              f"{CLUSTERS} clusters, {VPCS} VPCs x 3 subnets, {TASK_DEFINITIONS} task definitions")
        times, peaks, result = [], [], None
        for _ in range(args.runs):
            start = time.perf_counter()
            out = subprocess.run(["/usr/bin/time", "-f", "peak_rss_kb=%M", args.binary, "audit", "--live",
                                  "--format", "json"], env=env, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if out.returncode not in (0, 1, 3):
                raise SystemExit(f"audit failed ({out.returncode}): {out.stderr}")
            peaks.append(int(re.search(r"peak_rss_kb=(\d+)", out.stderr).group(1)))
            result = json.loads(out.stdout)
        summary, calls = result["summary"], result["calls"]
        checks = sum(len(s["hops"]) for s in result["services"])
        causes = sorted((c["code"], len(c["services"])) for c in result["root_causes"])
        expected = sorted([("S3_ROUTE_MISSING", SERVICES // VPCS)] * len(S3_ROUTE_MISSING_IN)
                          + [("INTERFACE_ENDPOINT_MISSING", SERVICES // VPCS)] * len(NO_LOGS_ENDPOINT_IN))
        budget = 2 * SERVICES // 10 + TASK_DEFINITIONS + 12 * VPCS
        print(f"verdicts: {summary['ok']} ok, {summary['blocked']} blocked, {summary['unknown']} unknown; "
              f"root causes: {causes}")
        print(f"(service, subnet, hop) checks: {checks}")
        print(f"calls: {calls['total']} in {calls['rounds']} sequential rounds "
              f"(budget 2 x services/10 + task definitions + 12 x VPCs = {budget}, plus pagination)")
        print(f"wall time per audit, {args.runs} runs: median {statistics.median(times):.1f} s, "
              f"min {min(times):.1f} s, max {max(times):.1f} s")
        print(f"peak RSS: median {statistics.median(peaks) / 1024:.1f} MB, max {max(peaks) / 1024:.1f} MB")
        if causes != expected:
            raise SystemExit(f"the audit did not find exactly the broken parts: expected {expected}")
        if args.bootstrap:
            sweep(args.bootstrap, endpoint, env)
        if calls["total"] > budget + 20:
            raise SystemExit(f"{calls['total']} calls is over the budget")
    finally:
        moto.terminate()
        moto.wait()


if __name__ == "__main__":
    main()
