"""Helpers for the e2e tests: free ports, a local stack in a subprocess, the CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.aws_world import aws

__all__ = ["aws"]

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0  # deadlines, not waits: a 2-core machine shared with other work can take 40 s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(home: Path) -> dict[str, str]:
    """The test session's env minus what conftest set for in-process moto: the stack and
    the CLI must find everything through LEADLINE_HOME alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEADLINE_", "POWERTOOLS_"))}
    env.update({"LEADLINE_HOME": str(home), "PYTHONUNBUFFERED": "1"})
    return env


def wait_for(check: Any, seconds: float, what: str, poll: float = 0.1) -> Any:
    """Poll `check` until it gives something truthy (returned) or `seconds` pass (AssertionError)."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not there after {seconds} s")
        time.sleep(poll)


def cli(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadline.cli", *args], cwd=ROOT, env=clean_env(home),
                          capture_output=True, text=True, timeout=timeout, check=False)


@dataclass
class StackProcess:
    home: Path
    port: int
    aws_port: int
    demo: bool = False
    aws_endpoint: str | None = None
    # A demo seed on a busy 2-core machine can take longer than a bare start.
    start_timeout: float = START_TIMEOUT
    env: dict[str, str] = field(default_factory=dict)  # added to the stack's environment
    smtp_port: int = field(default_factory=lambda: free_port())
    proc: subprocess.Popen[str] | None = None
    outputs: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StackProcess:
        args = [sys.executable, "-m", "leadline.cli", "local", "--port", str(self.port),
                "--smtp-port", str(self.smtp_port)]
        args += ["--aws-endpoint", self.aws_endpoint] if self.aws_endpoint else ["--aws-port", str(self.aws_port)]
        if not self.demo:
            args.append("--no-demo")
        log_path = self.home / f"stack-{len(self.outputs)}.log"
        self.outputs.append(str(log_path))
        with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(args, cwd=ROOT, env={**clean_env(self.home), **self.env}, stdout=log,
                                         stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the stack exited with {self.proc.returncode}:\n{self.output()}")
            if (self.home / "stack.json").exists():
                try:
                    if requests.get(self.url + "/health", timeout=2).status_code == 200:
                        return self
                except requests.RequestException:
                    pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"the stack was not ready in {self.start_timeout} s:\n{self.output()}")

    def output(self) -> str:
        return Path(self.outputs[-1]).read_text() if self.outputs else ""

    def info(self) -> dict[str, Any]:
        return dict(json.loads((self.home / "stack.json").read_text()))

    def logs(self) -> str:
        """The structured JSON lines the stack wrote to $LEADLINE_HOME/logs/stack.log."""
        path = self.home / "logs" / "stack.log"
        return path.read_text() if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: a crash or a power cut, nothing runs on the way down."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C or a process manager would; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the stack did not stop on SIGTERM:\n{self.output()}") from None


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[StackProcess] = []

    def make(demo: bool = False, aws_endpoint: str | None = None, env: dict[str, str] | None = None) -> StackProcess:
        stack = StackProcess(home=tmp_path / "home", port=free_port(), aws_port=free_port(), demo=demo,
                             aws_endpoint=aws_endpoint, env=env or {})
        stack.home.mkdir(exist_ok=True)
        started.append(stack)
        return stack

    yield make
    for stack in started:
        stack.stop()


class Http:
    """requests with the contract's bearer header."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token

    def __call__(self, method: str, path: str, body: Any = None, token: str | None = None) -> requests.Response:
        headers = {}
        if token or self.token:
            headers["Authorization"] = f"Bearer {token or self.token}"
        return requests.request(method, self.base_url + path, json=body, headers=headers, timeout=30)


ALWAYS_OPEN = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass
class RoutedStore:
    http: Http  # as the group's admin
    account_id: str
    agents: dict[str, str]  # user_id -> bearer token


def routed_store(stack: StackProcess, domain: str, offer_timeout_seconds: int, **store: Any) -> RoutedStore:
    """A new group (bootstrapped through the CLI) with one always-open store, round-robin routing
    with the given offer timeout, and two agents (ava@, ben@ `domain`) with their tokens."""
    done = cli(stack.home, "bootstrap", "--group", f"{domain} group", "--email", f"owner@{domain}",
               "--name", "Owner")
    if done.returncode != 0:
        raise AssertionError(done.stderr)
    http = Http(stack.url, json.loads(done.stdout)["token"])
    made = http("POST", "/accounts", {"name": f"{domain} store", "timezone": "America/Chicago",
                                      "business_hours": ALWAYS_OPEN, **store})
    if made.status_code != 201:
        raise AssertionError(made.text)
    account_id = made.json()["account_id"]
    agents: dict[str, str] = {}
    for name in ("ava", "ben"):
        user = http("POST", "/users", {"email": f"{name}@{domain}", "name": name.title(), "role": "agent",
                                       "account_ids": [account_id]})
        minted = cli(stack.home, "token", "--email", f"{name}@{domain}")
        if user.status_code != 201 or minted.returncode != 0:
            raise AssertionError(user.text + minted.stderr)
        agents[user.json()["user_id"]] = minted.stdout.strip()
    routing = http("PUT", f"/accounts/{account_id}/routing", {"offer_timeout_seconds": offer_timeout_seconds})
    if routing.status_code != 200:
        raise AssertionError(routing.text)
    return RoutedStore(http, account_id, agents)
