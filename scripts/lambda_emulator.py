#!/usr/bin/env python3
"""Runs the real `bootstrap` binary against a local emulator of the Lambda Runtime API.

The emulator serves GET /2018-06-01/runtime/invocation/next (one event at a time, with the
Lambda-Runtime-Aws-Request-Id and Lambda-Runtime-Deadline-Ms headers) and takes the
handler's POST .../{id}/response, .../{id}/error and /runtime/init/error. Like an
asynchronous invoke, an event whose invocation fails is delivered again, up to --retries
times. With --slack-receiver it also runs a local HTTP receiver standing in for the Slack
incoming webhook (--slack-fail N answers the first N posts with HTTP 500; --slack-echo
answers them with the request line, as a misbehaving proxy would, token and all).
With --pagerduty-receiver it runs a stand-in for PagerDuty's Events API v2 (202, or its 400
error shape for an event PagerDuty would refuse; --pagerduty-fail N answers 500), and with
--slack-api-token one for Slack's Web API (chat.postMessage, chat.update).

Used by `make invoke`, the end-to-end tests (tests/lambda.rs, with --json) and
scripts/bench_lambda.py. Only the standard library.
"""

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUNTIME_PREFIX = "/2018-06-01/runtime"
# In the account moto answers for by default, as a real function is in its own credentials' account.
FUNCTION_ARN = "arn:aws:lambda:ap-northeast-2:123456789012:function:ecs-pull-doctor"
# The path shape of a real webhook, with a token the tests look for in logs.
SLACK_PATH = "/services/T00000000/B00000000/local-receiver-secret-token"


class RuntimeApi:
    """The Runtime API's state: events waiting, results by request ID."""

    def __init__(self, deadline_seconds, function_arn=FUNCTION_ARN):
        self.events = queue.Queue()
        self.results = {}
        self.handed_out = {}
        self.cond = threading.Condition()
        self.init_error = None
        self.deadline_seconds = deadline_seconds
        self.function_arn = function_arn

    def handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != RUNTIME_PREFIX + "/invocation/next":
                    return self.reply(404, b'{"errorType":"NotFound"}')
                request_id, payload = api.events.get()
                deadline = int((time.time() + api.deadline_seconds) * 1000)
                with api.cond:
                    api.handed_out[request_id] = time.perf_counter()
                headers = [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                    ("Lambda-Runtime-Invoked-Function-Arn", api.function_arn),
                    # Lambda gives every invocation its own X-Ray trace ID.
                    ("Lambda-Runtime-Trace-Id", trace_id(request_id)),
                ]
                self.reply(200, payload, headers)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                received = time.perf_counter()
                path = self.path
                if path == RUNTIME_PREFIX + "/init/error":
                    with api.cond:
                        api.init_error = decode(body)
                        api.cond.notify_all()
                    return self.reply(202, b'{"status":"OK"}')
                prefix = RUNTIME_PREFIX + "/invocation/"
                if path.startswith(prefix) and (path.endswith("/response") or path.endswith("/error")):
                    request_id, kind = path[len(prefix):].rsplit("/", 1)
                    with api.cond:
                        api.results[request_id] = (kind, decode(body), received)
                        api.cond.notify_all()
                    return self.reply(202, b'{"status":"OK"}')
                self.reply(404, b'{"errorType":"NotFound"}')

        return Handler


class QuietServer(ThreadingHTTPServer):
    """A server that does not print a traceback when a client goes away (bootstrap is
    stopped while it waits for the next event)."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


def own_peak_rss_kb(pid):
    """VmHWM of a running process: its peak resident set since exec."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def trace_id(request_id):
    """An X-Ray trace header for one invocation: Root=1-<8 hex epoch>-<24 hex>."""
    return "Root=1-%08x-%s;Parent=%s;Sampled=0" % (
        int(time.time()), request_id.replace("-", "")[:24], request_id.replace("-", "")[8:24])


def decode(body):
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


class LocalReceiver:
    """A loopback HTTP server standing in for a sink: each POST's body (JSON when it parses)
    goes to `receive(path, headers, body)`, which records it and returns (status, headers,
    content type, bytes)."""

    def __init__(self, port, url_path):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = decode(self.rfile.read(length))
                status, headers, content_type, text = receiver.receive(self.path, self.headers, body)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

        self.server = QuietServer(("127.0.0.1", port), Handler)
        self.url = "http://127.0.0.1:%d%s" % (self.server.server_address[1], url_path)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def json_answer(status, answer, headers=()):
    return status, list(headers), "application/json", json.dumps(answer).encode()


class SlackReceiver(LocalReceiver):
    """Slack's incoming webhook: records every POST; answers the first `fail` of them with
    HTTP 500, whose body is Slack's error code, or with `echo` the request line (path and
    token included)."""

    def __init__(self, port, fail, echo=False):
        self.posts = []
        self.fail = fail
        self.echo = echo
        super().__init__(port, SLACK_PATH)

    def receive(self, path, headers, body):
        failing = self.fail > 0
        if failing:
            self.fail -= 1
        error = ("POST %s HTTP/1.1" % path).encode() if self.echo else b"internal_error"
        status, text = (500, error) if failing else (200, b"ok")
        self.posts.append({"path": path, "status": status, "body": body})
        return status, [], "text/plain", text


class PagerDutyReceiver(LocalReceiver):
    """PagerDuty's Events API v2 (POST /v2/enqueue): checks what PagerDuty checks (a routing
    key of 32 characters, an event_action, a dedup_key on resolve, a summary, source and
    severity on trigger), answers 202 with the dedup_key, 400 with PagerDuty's error shape,
    or 500 for the first `fail` events. Records every event."""

    SEVERITIES = ("critical", "error", "warning", "info")

    def __init__(self, port, fail):
        self.events = []
        self.fail = fail
        super().__init__(port, "/v2/enqueue")

    def receive(self, path, headers, event):
        status, answer = self.answer(event, path)
        self.events.append({"status": status, "event": event})
        return json_answer(status, answer)

    def answer(self, event, path):
        if self.fail > 0:
            self.fail -= 1
            return 500, {"status": "error", "message": "internal error"}
        errors = []
        if path != "/v2/enqueue":
            errors.append("not found")
        if not isinstance(event, dict):
            return 400, {"status": "invalid event", "message": "Event object is invalid", "errors": ["not JSON"]}
        if len(str(event.get("routing_key", ""))) != 32:
            errors.append("'routing_key' is invalid")
        action = event.get("event_action")
        if action not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is invalid")
        if action != "trigger" and not event.get("dedup_key"):
            errors.append("'dedup_key' is missing")
        if len(str(event.get("dedup_key", ""))) > 255:
            errors.append("'dedup_key' is too long")
        if action == "trigger":
            payload = event.get("payload") or {}
            if not payload.get("summary") or len(payload["summary"]) > 1024:
                errors.append("'payload.summary' is missing or too long")
            if not payload.get("source"):
                errors.append("'payload.source' is missing")
            if payload.get("severity") not in self.SEVERITIES:
                errors.append("'payload.severity' is invalid")
        if errors:
            return 400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
        return 202, {"status": "success", "message": "Event processed", "dedup_key": event.get("dedup_key")}


class SlackApiReceiver(LocalReceiver):
    """Slack's Web API (POST /api/chat.postMessage, /api/chat.update): checks the bearer
    token, answers as Slack does (HTTP 200 with `ok`, `channel`, `ts`; errors as `ok: false`
    with Slack's code), lets `chat.update` edit only a message it issued in that channel, and
    answers the first `limited` calls with 429 and Retry-After: 1, or the first `fail` with
    500. Records every call."""

    def __init__(self, port, token, limited=0, fail=0):
        self.calls = []
        self.token = token
        self.limited = limited
        self.fail = fail
        self.issued = {}
        self.clock = 1765000000
        super().__init__(port, "/api")

    def receive(self, path, headers, body):
        status, answer, extra = self.answer(path, headers.get("Authorization", ""), body)
        self.calls.append({"method": path.rsplit("/", 1)[-1], "status": status,
                           "ok": answer.get("ok"), "body": body})
        return json_answer(status, answer, extra)

    def answer(self, path, authorization, body):
        if self.limited > 0:
            self.limited -= 1
            return 429, {"ok": False, "error": "ratelimited"}, [("Retry-After", "1")]
        if self.fail > 0:
            self.fail -= 1
            return 500, {"ok": False, "error": "internal_error"}, []
        if authorization != "Bearer " + self.token:
            return 200, {"ok": False, "error": "invalid_auth"}, []
        if not isinstance(body, dict) or not body.get("channel"):
            return 200, {"ok": False, "error": "channel_not_found"}, []
        if not body.get("text") and not body.get("blocks"):
            return 200, {"ok": False, "error": "no_text"}, []
        if len(body.get("blocks") or []) > 50:
            return 200, {"ok": False, "error": "invalid_blocks"}, []
        channel = body["channel"]
        if path.endswith("/chat.postMessage"):
            thread = body.get("thread_ts")
            if thread is not None and (channel, thread) not in self.issued:
                return 200, {"ok": False, "error": "thread_not_found"}, []
            self.clock += 1
            ts = "%d.%06d" % (self.clock, len(self.issued) + 1)
            self.issued[(channel, ts)] = body
            return 200, {"ok": True, "channel": channel, "ts": ts, "message": {"text": body.get("text")}}, []
        if path.endswith("/chat.update"):
            ts = body.get("ts")
            if (channel, ts) not in self.issued:
                return 200, {"ok": False, "error": "message_not_found"}, []
            self.issued[(channel, ts)] = body
            return 200, {"ok": True, "channel": channel, "ts": ts, "text": body.get("text")}, []
        return 404, {"ok": False, "error": "unknown_method"}, []


def wait_at_barrier(barrier, index):
    """Waits until every party (another emulator with its own bootstrap) has reached event
    `index`, so that they hand out the same event at the same moment: the duplicate
    deliveries of the dedup tests. Each party leaves a file named for the event and its pid."""
    directory, parties = barrier
    os.makedirs(directory, exist_ok=True)
    prefix = "%d." % index
    open(os.path.join(directory, prefix + str(os.getpid())), "w").close()
    limit = time.time() + 60
    while sum(n.startswith(prefix) for n in os.listdir(directory)) < parties:
        if time.time() > limit:
            raise SystemExit("barrier: the other parties never reached event %d" % index)
        time.sleep(0.0005)


class TeamsReceiver(LocalReceiver):
    """A Teams Workflows webhook ("When a Teams webhook request is received"): takes a
    `message` whose attachments are Adaptive Cards (version 1.4 at most) and answers 202, as
    Workflows does; refuses a body over 28 KB (413) or of another shape (400, with Workflows'
    error JSON), or answers the first `fail` posts with 500. Records every post."""

    MAX_BYTES = 28 * 1024

    def __init__(self, port, fail):
        self.posts = []
        self.fail = fail
        super().__init__(port, "/workflows/doctor/triggers/manual/paths/invoke?sig=local-signature")

    def receive(self, path, headers, body):
        status, answer = self.answer(path, headers, body)
        self.posts.append({"status": status, "body": body})
        return json_answer(status, answer)

    def answer(self, path, headers, body):
        if self.fail > 0:
            self.fail -= 1
            return 500, {"error": {"code": "InternalServerError", "message": "try again"}}
        if "sig=local-signature" not in path:
            return 401, {"error": {"code": "DirectApiAuthorizationRequired", "message": "no signature"}}
        if int(headers.get("Content-Length") or 0) > self.MAX_BYTES:
            return 413, {"error": {"code": "RequestEntityTooLarge", "message": "over 28 KB"}}
        attachments = body.get("attachments") if isinstance(body, dict) else None
        cards = [a for a in attachments or []
                 if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
                 and isinstance(a.get("content"), dict)
                 and a["content"].get("type") == "AdaptiveCard"]
        if not isinstance(body, dict) or body.get("type") != "message" or not cards \
                or len(cards) != len(attachments):
            return 400, {"error": {"code": "TriggerInputSchemaMismatch", "message": "not a card message"}}
        if any(tuple(int(p) for p in str(c["content"].get("version", "9")).split(".")) > (1, 4) for c in cards):
            return 400, {"error": {"code": "TriggerInputSchemaMismatch", "message": "card version"}}
        return 202, {}


class SnsHttpsReceiver(LocalReceiver):
    """An HTTPS subscriber of an SNS topic (Amazon Q Developer's place): records each
    notification SNS delivers (its `Message` parsed when it is JSON) and answers 200."""

    def __init__(self, port):
        self.notifications = []
        super().__init__(port, "/sns")

    def receive(self, path, headers, body):
        if isinstance(body, dict) and isinstance(body.get("Message"), str):
            try:
                body = dict(body, Message=json.loads(body["Message"]))
            except ValueError:
                pass
        self.notifications.append(body)
        return 200, [], "text/plain", b"ok"


def run(bootstrap, events, env=None, retries=0, slack=None, timeout=60.0, deadline_seconds=60,
        on_result=None, keep_logs=True, function_arn=FUNCTION_ARN, barrier=None, pagerduty=None,
        slack_api=None, teams=None, sns_https=None):
    """Starts `bootstrap`, feeds it `events` ([(name, bytes)], any iterable), returns what
    happened. `on_result(record, pid)` is called after each invocation (the soak benchmark
    samples the process there); `keep_logs=False` drops the log lines as they arrive. As in
    Lambda, an answer that comes after the invocation's deadline is not taken: the record
    says `timed_out`."""
    api = RuntimeApi(deadline_seconds, function_arn)
    server = QuietServer(("127.0.0.1", 0), api.handler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    child_env = dict(os.environ if env is None else env)
    child_env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % server.server_address[1],
            "AWS_LAMBDA_FUNCTION_NAME": "ecs-pull-doctor",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    child_env.setdefault("AWS_REGION", "ap-northeast-2")
    if slack is not None and not (
        child_env.get("SLACK_WEBHOOK_URL") or child_env.get("SLACK_WEBHOOK_SECRET_ARN")
    ):
        child_env["SLACK_WEBHOOK_URL"] = slack.url
    if pagerduty is not None:
        child_env.setdefault("PAGERDUTY_EVENTS_URL", pagerduty.url)
    if slack_api is not None:
        child_env.setdefault("SLACK_API_URL", slack_api.url)

    logs = []
    started = time.perf_counter()
    child = subprocess.Popen(
        [bootstrap], env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )

    def pump():
        for line in child.stdout:
            if keep_logs:
                logs.append(line.decode("utf-8", "replace").rstrip("\n"))

    pump_thread = threading.Thread(target=pump, daemon=True)
    pump_thread.start()

    # Reaped here with wait4 (not Popen.poll) to keep the child's resource usage (peak RSS).
    exit_info = {}

    def exited(block=False):
        if not exit_info:
            try:
                pid, status, usage = os.wait4(child.pid, 0 if block else os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: the exit is known, the usage is not
                pid, status, usage = child.pid, None, None
            if pid:
                exit_info.update(status=status, usage=usage)
                # Popen must not wait for this pid again (it may belong to another process by then).
                child.returncode = status if status is not None else -1
        return bool(exit_info)

    invocations = []
    first_response_ms = None
    for index, (name, payload) in enumerate(events):
        for attempt in range(1, retries + 2):
            if barrier is not None and attempt == 1:
                wait_at_barrier(barrier, index)
            request_id = str(uuid.uuid4())
            api.events.put((request_id, payload))
            limit = time.time() + timeout
            with api.cond:
                while request_id not in api.results and api.init_error is None:
                    if exited() or time.time() > limit:
                        break
                    api.cond.wait(0.05)
                result = api.results.get(request_id)
                handed_out = api.handed_out.get(request_id)
            record = {"event": name, "attempt": attempt, "request_id": request_id}
            if result is None:
                record["outcome"] = "no_result"
                record["why"] = (
                    "init error" if api.init_error is not None
                    else "bootstrap exited (status %s)" % exit_info["status"] if exited()
                    else "timed out after %ss" % timeout
                )
                invocations.append(record)
                break
            kind, body, received = result
            if handed_out is not None and received - handed_out > deadline_seconds:
                record["outcome"] = "timed_out"
                record["why"] = "answered %.1f s after the %s s deadline" % (
                    received - handed_out - deadline_seconds, deadline_seconds)
                invocations.append(record)
                break
            if first_response_ms is None:
                first_response_ms = (received - started) * 1000
            record["outcome"] = kind
            record["body"] = body
            record["ms"] = round((received - handed_out) * 1000, 3) if handed_out else None
            invocations.append(record)
            if on_result is not None:
                on_result(record, child.pid)
            if kind == "response":
                break
        if invocations and invocations[-1]["outcome"] == "no_result":
            break

    # The child's own peak resident set, read before it is stopped. wait4's ru_maxrss is not
    # that: it keeps the high-water mark from before exec, when the child was still a fork of
    # this (larger) Python process, so it grows with whatever this process holds.
    peak_rss_kb = None
    if not exited():
        peak_rss_kb = own_peak_rss_kb(child.pid)
        child.send_signal(signal.SIGTERM)
        exited(block=True)
    pump_thread.join(timeout=5)
    server.shutdown()
    return {
        "invocations": invocations,
        "init_error": api.init_error,
        "cold_start_ms": round(first_response_ms, 3) if first_response_ms is not None else None,
        "peak_rss_kb": peak_rss_kb,
        "max_rss_kb": exit_info["usage"].ru_maxrss if exit_info["usage"] else None,
        "exit_status": exit_info["status"],
        "slack": slack.posts if slack is not None else [],
        "pagerduty": pagerduty.events if pagerduty is not None else [],
        "slack_api": slack_api.calls if slack_api is not None else [],
        "teams": teams.posts if teams is not None else [],
        "sns_https": sns_https.notifications if sns_https is not None else [],
        "logs": logs,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--event", action="append", default=[], help="event JSON file (repeatable)")
    parser.add_argument("--retries", type=int, default=0, help="redeliver a failed event (async invoke: 2)")
    parser.add_argument("--slack-receiver", action="store_true", help="run a local Slack webhook receiver")
    parser.add_argument("--slack-port", type=int, default=0)
    parser.add_argument("--slack-fail", type=int, default=0, help="answer the first N posts with HTTP 500")
    parser.add_argument("--slack-echo", action="store_true",
                        help="with --slack-fail: the 500's body echoes the request line")
    parser.add_argument("--pagerduty-receiver", action="store_true",
                        help="run a local PagerDuty Events API v2 receiver (sets PAGERDUTY_EVENTS_URL)")
    parser.add_argument("--pagerduty-fail", type=int, default=0, help="answer the first N events with HTTP 500")
    parser.add_argument("--slack-api-token", metavar="TOKEN",
                        help="run a local Slack Web API receiver that accepts this bot token (sets SLACK_API_URL)")
    parser.add_argument("--slack-api-limit", type=int, default=0, help="answer the first N calls with 429")
    parser.add_argument("--slack-api-fail", type=int, default=0, help="answer the first N calls with 500")
    parser.add_argument("--teams-port", type=int,
                        help="run a local Teams Workflows receiver on this port (its URL goes in the secret)")
    parser.add_argument("--teams-fail", type=int, default=0, help="answer the first N cards with 500")
    parser.add_argument("--sns-https-port", type=int,
                        help="run a receiver for the topic's HTTPS subscription on this port (path /sns)")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--deadline-seconds", type=float, default=60.0,
                        help="each invocation's Lambda-Runtime-Deadline-Ms, from when it is handed out")
    parser.add_argument("--function-arn", default=FUNCTION_ARN,
                        help="Lambda-Runtime-Invoked-Function-Arn (names the function's own account)")
    parser.add_argument("--json", action="store_true", help="print everything as one JSON document")
    parser.add_argument("--barrier", metavar="DIR",
                        help="hand out each event only when --parties emulators have reached it")
    parser.add_argument("--parties", type=int, default=2)
    args = parser.parse_args()

    events = []
    for path in args.event:
        with open(path, "rb") as f:
            events.append((path, f.read()))
    slack = SlackReceiver(args.slack_port, args.slack_fail, args.slack_echo) if args.slack_receiver else None
    report = run(args.bootstrap, events, retries=args.retries, slack=slack, timeout=args.timeout,
                 deadline_seconds=args.deadline_seconds, function_arn=args.function_arn,
                 barrier=(args.barrier, args.parties) if args.barrier else None,
                 pagerduty=PagerDutyReceiver(0, args.pagerduty_fail) if args.pagerduty_receiver else None,
                 slack_api=SlackApiReceiver(0, args.slack_api_token, args.slack_api_limit, args.slack_api_fail)
                 if args.slack_api_token else None,
                 teams=TeamsReceiver(args.teams_port, args.teams_fail) if args.teams_port else None,
                 sns_https=SnsHttpsReceiver(args.sns_https_port) if args.sns_https_port else None)

    if args.json:
        json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for line in report["logs"]:
            print("log: " + line, file=sys.stderr)
        if report["init_error"] is not None:
            print("init error: %s" % json.dumps(report["init_error"], ensure_ascii=False))
        for inv in report["invocations"]:
            print("== %s (attempt %d): %s" % (inv["event"], inv["attempt"], inv["outcome"]))
            if "body" in inv:
                print(json.dumps(inv["body"], ensure_ascii=False, indent=2))
            else:
                print(inv.get("why", ""))
        for post in report["slack"]:
            print("== Slack received (answered %d):" % post["status"])
            print(json.dumps(post["body"], ensure_ascii=False, indent=2))
    failed = report["init_error"] is not None or any(
        i["outcome"] != "response" for i in report["invocations"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
