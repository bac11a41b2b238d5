"""AWS calls counted at the endpoint: a standalone moto server behind a counting HTTP proxy.

A botocore hook inside the process sees only the clients it was attached to; the proxy sees every
request that reaches "AWS" from any process — the API, the queue pollers standing in for Lambda's
event source mappings, the schedules, the CLI. Each request is named the way AWS bills it:

    dynamodb.GetItem, dynamodb.TransactWriteItems     (X-Amz-Target)
    sqs.SendMessage, sqs.ReceiveMessage               (X-Amz-Target, or Action= for the query protocol)
    s3.PUT, s3.GET                                    (method; S3 is REST)
    ses.SendEmail                                     (Action=, or the SESv2 REST path)

Calls whose User-Agent carries HARNESS_AGENT (the local stack's own upkeep: snapshots, journal
folding) are the emulator's, not the product's: counted apart as `harness_calls`.

An SQS ReceiveMessage that returns no message is the pollers' idle long-poll, not work: it is
counted apart (`idle_receives`), so a measurement needs no subtraction of an idle rate. A DynamoDB
Query's ScannedCount is summed as `items_read` (what a page costs in read capacity).

    from _endpoint import CountingEndpoint, LocalStack
    with CountingEndpoint() as endpoint, LocalStack(endpoint.url) as stack:
        endpoint.take()                                # forget the set-up's calls
        stack.http("POST", "/accounts/.../leads", body)
        calls = endpoint.settle_and_take()             # the request and the work it set off

The leading underscore keeps bench/run_all.py from running this file as a bench."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate"}
HARNESS_AGENT = "leadline-local-harness"
_NO_LOCK = contextlib.nullcontext()
SESV2_PATH = re.compile(r"^/v2/email/(?P<what>[a-z-]+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def operation(method: str, path: str, headers: dict[str, str], body: bytes) -> str:
    """The billed operation a request to the AWS endpoint is."""
    target = headers.get("x-amz-target", "")
    if target:
        service, _, action = target.partition(".")
        prefix = "sqs" if service.startswith("AmazonSQS") else \
            "dynamodbstreams" if service.startswith("DynamoDBStreams") else \
            "dynamodb" if service.startswith("DynamoDB") else service.lower()
        return f"{prefix}.{action}"
    split = urlsplit(path)
    form = parse_qs(split.query)
    if not form.get("Action") and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode("utf-8", errors="replace"))
    if form.get("Action"):
        action = form["Action"][0]
        service = "sqs" if "QueueUrl" in form or "Queue" in action or "Message" in action else "ses"
        return f"{service}.{action}"
    sesv2 = SESV2_PATH.match(split.path)
    if sesv2:
        return f"ses.{method} {sesv2['what']}"
    if split.path.startswith("/moto-api"):
        return f"moto.{method}"
    return f"s3.{method}"


class _Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, the client's delayed ACK
    # holds the body back ~40 ms on every call (measured: 57 ms a PutItem through the proxy, 13 without).
    disable_nagle_algorithm = True
    endpoint: CountingEndpoint

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        name = operation(self.command, self.path, headers, body)
        if HARNESS_AGENT in headers.get("user-agent", ""):
            name = "harness." + name
        # moto copies a whole table for a TransactWriteItems and fails when another thread writes to it
        # meanwhile; DynamoDB calls go through one at a time, as the local stack's own emulator does.
        with self.endpoint.dynamodb_lock if name.removeprefix("harness.").startswith("dynamodb.") else _NO_LOCK:
            status, reply_headers, data = self._upstream(body)
        self.endpoint._record(name, data, body)
        self.send_response(status)
        for key, value in reply_headers:
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _upstream(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = http.client.HTTPConnection("127.0.0.1", self.endpoint.moto_port, timeout=120)
        try:
            upstream.request(self.command, self.path, body=body,
                             headers={k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP})
            reply = upstream.getresponse()
            return reply.status, reply.getheaders(), reply.read()
        finally:
            upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that went away (a stack stopping)
            super().handle_error(request, client_address)


class CountingEndpoint:
    """moto server on a free port with the counting proxy in front of it (`url`). With `moto_port`, the
    proxy fronts a moto server already running there (in a process of its own: bench/_load_endpoint.py)."""

    def __init__(self, moto_port: int | None = None) -> None:
        self.external_moto = moto_port is not None
        self.moto_port = moto_port or free_port()
        self.port = free_port()
        self.calls: Counter[str] = Counter()
        self.idle_receives = 0
        self.harness_calls = 0
        self.items_read = 0
        self.units: Counter[str] = Counter()
        self._last_work = time.monotonic()
        self._lock = threading.Lock()
        self.dynamodb_lock = threading.Lock()
        self._moto: Any = None
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> CountingEndpoint:
        import logging

        from moto.server import ThreadedMotoServer

        from leadline.local import moto_fast

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access line per AWS call otherwise
        # moto as the local stack runs it: a request costs what it touches, not what the table holds
        # (counts are the same either way; a bench with thousands of leads finishes).
        if not self.external_moto:
            moto_fast.install()
            self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
            self._moto.start()
        handler = type("Proxy", (_Proxy,), {"endpoint": self})
        self._server = _Server(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        from leadline.local import moto_fast

        if self._server is not None:
            self._server.shutdown()
        if self._moto is not None:
            self._moto.stop()
            moto_fast.uninstall()

    def _record(self, name: str, data: bytes, body: bytes = b"") -> None:
        if name.startswith("harness."):
            with self._lock:
                self.harness_calls += 1
            return
        idle = name == "sqs.ReceiveMessage" and not _has_messages(data)
        scanned = _scanned_count(data) if name in ("dynamodb.Query", "dynamodb.Scan") else 0
        units = _item_units(name, body, data, scanned) if name.startswith("dynamodb.") else Counter()
        with self._lock:
            if idle:
                self.idle_receives += 1
                return
            self.calls[name] += 1
            self.units.update(units)
            self.items_read += scanned
            self._last_work = time.monotonic()

    def take_units(self) -> Counter[str]:
        """Items read and written since the last take_units (`_item_units`): what DynamoDB bills by."""
        with self._lock:
            taken, self.units = self.units, Counter()
        return taken

    def take(self) -> Counter[str]:
        """The calls since the last take (idle receives left out); starts a new count."""
        with self._lock:
            taken, self.calls, self.items_read, self.idle_receives = self.calls, Counter(), 0, 0
        return taken

    def take_with_items_read(self) -> tuple[Counter[str], int]:
        with self._lock:
            taken, read = self.calls, self.items_read
            self.calls, self.items_read, self.idle_receives = Counter(), 0, 0
        return taken, read

    def settle_and_take(self, quiet: float = 1.5, timeout: float = 60.0) -> Counter[str]:
        """Wait until no work has reached the endpoint for `quiet` seconds (the queues drained, the
        consumers done), then take the count. Idle long-polls do not count as work."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle_for = time.monotonic() - self._last_work
            if idle_for >= quiet:
                break
            time.sleep(0.05)
        return self.take()


def _has_messages(data: bytes) -> bool:
    text = data.decode("utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        try:
            return bool(json.loads(text).get("Messages"))
        except ValueError:
            return True
    return "<Message>" in text


def _item_units(name: str, body: bytes, data: bytes, scanned: int) -> Counter[str]:
    """Items a DynamoDB call read and wrote, by how DynamoDB bills them: `read` (a GetItem or a
    BatchGetItem key, a Query's scanned items; on-demand bills per 4 KB), `written` (per 1 KB) and
    `written_in_transactions` (twice the units). Index copies are not counted here."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return Counter()
    action = name.split(".", 1)[1]
    if action == "GetItem":
        return Counter(read=1)
    if action == "BatchGetItem":
        return Counter(read=sum(len(t.get("Keys", [])) for t in request.get("RequestItems", {}).values()))
    if action in ("Query", "Scan"):
        return Counter(read=max(1, scanned))
    if action in ("PutItem", "UpdateItem", "DeleteItem"):
        return Counter(written=1)
    if action == "BatchWriteItem":
        return Counter(written=sum(len(w) for w in request.get("RequestItems", {}).values()))
    if action == "TransactWriteItems":
        return Counter(written_in_transactions=len(request.get("TransactItems", [])))
    return Counter()


def _scanned_count(data: bytes) -> int:
    try:
        return int(json.loads(data).get("ScannedCount", 0))
    except (ValueError, AttributeError):
        return 0


class LocalStack:
    """`leadline local --aws-endpoint URL` in a child process with its own LEADLINE_HOME, and the
    CLI and HTTP helpers a bench needs to drive it through the contract's surface."""

    def __init__(self, aws_endpoint: str, demo: bool = False, home: Path | None = None) -> None:
        self.aws_endpoint = aws_endpoint
        self.demo = demo
        self._tmp = None if home is not None else tempfile.TemporaryDirectory(prefix="leadline-bench-")
        self.home = home or Path(self._tmp.name)  # type: ignore[union-attr]
        self.port = free_port()
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEADLINE_", "POWERTOOLS_"))}
        env.update({"LEADLINE_HOME": str(self.home), "PYTHONUNBUFFERED": "1"})
        return env

    def __enter__(self) -> LocalStack:
        import requests

        args = [sys.executable, "-m", "leadline.cli", "local", "--port", str(self.port),
                "--smtp-port", str(free_port()), "--aws-endpoint", self.aws_endpoint]
        if not self.demo:
            args.append("--no-demo")
        log = open(self.home / "bench-stack.log", "w")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the stack exited: {(self.home / 'bench-stack.log').read_text()[-3000:]}")
            try:
                # The CLI finds the stack through stack.json, written once it is up.
                if (self.home / "stack.json").exists() and \
                        requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("the local stack did not start in 120 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self._tmp is not None:
            self._tmp.cleanup()

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "leadline.cli", *args], cwd=ROOT, env=self.env(),
                              capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"leadline {' '.join(args)}: {done.stderr[-2000:]}")
        return done.stdout.strip()

    def http(self, method: str, path: str, body: Any = None, token: str | None = None,
             headers: dict[str, str] | None = None, data: Any = None) -> Any:
        import requests

        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        reply = requests.request(method, self.url + path, json=body if data is None else None, data=data,
                                 headers=sent, timeout=60)
        if reply.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {reply.status_code}: {reply.text[:500]}")
        return reply
