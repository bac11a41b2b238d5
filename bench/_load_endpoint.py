"""The load test's AWS endpoint in processes of their own: moto server, and the counting proxy in front of it.

In one process with the bots, moto and the proxy shared one GIL with 74 bot and customer threads (the
harness held 90-100 % of a core and the emulator fell hundreds of seconds behind). Here:

    moto process    leadline.local.emulator.LocalMotoServer: the emulator `leadline local` runs, with
                    its moto patches (moto_fast) and one DynamoDB request at a time
    proxy process   _endpoint.CountingEndpoint(moto_port=...) in front of it, and a small control
                    server whose GET /take, /take_units and /settle?quiet=&timeout= answer the counts
                    as JSON

    with EndpointProcesses() as endpoint:        # the API of CountingEndpoint: url, take(), settle_and_take()
        ...
        endpoint.moto_url                        # moto itself: reads that the counter must not see
        endpoint.cpu_seconds()                   # what each process has used

    python bench/_load_endpoint.py moto PORT
    python bench/_load_endpoint.py proxy MOTO_PORT PORT CONTROL_PORT"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

from _endpoint import ROOT, CountingEndpoint, free_port

HERE = Path(__file__).resolve()


def cpu_seconds(pid: int) -> float:
    """User + system CPU a live process has used (Linux /proc), 0.0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the {what} process exited ({proc.returncode})")
        try:
            with urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the {what} process did not answer in 60 s")


class EndpointProcesses:
    """moto server and the counting proxy, each in a child process; counts read over HTTP."""

    def __init__(self) -> None:
        self.moto_port, self.port, self.control_port = free_port(), free_port(), free_port()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    def __enter__(self) -> EndpointProcesses:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        try:
            self.procs["moto"] = subprocess.Popen([sys.executable, str(HERE), "moto", str(self.moto_port)],
                                                  cwd=ROOT, env=env)
            _wait_for(self.moto_url + "/moto-api/", self.procs["moto"], "moto")
            self.procs["proxy"] = subprocess.Popen(
                [sys.executable, str(HERE), "proxy", str(self.moto_port), str(self.port), str(self.control_port)],
                cwd=ROOT, env=env)
            _wait_for(f"http://127.0.0.1:{self.control_port}/ready", self.procs["proxy"], "proxy")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def cpu_seconds(self) -> dict[str, float]:
        return {name: cpu_seconds(proc.pid) for name, proc in self.procs.items()}

    def _ask(self, path: str, timeout: float = 30) -> Any:
        with urlopen(f"http://127.0.0.1:{self.control_port}{path}", timeout=timeout) as reply:
            return json.loads(reply.read())

    def take(self) -> Counter[str]:
        return Counter(self._ask("/take"))

    def take_units(self) -> Counter[str]:
        return Counter(self._ask("/take_units"))

    def settle_and_take(self, quiet: float = 1.5, timeout: float = 60.0) -> Counter[str]:
        return Counter(self._ask(f"/settle?quiet={quiet}&timeout={timeout}", timeout=timeout + 30))


def _control(endpoint: CountingEndpoint) -> type[BaseHTTPRequestHandler]:
    class Control(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            split = urlsplit(self.path)
            query = {k: float(v[0]) for k, v in parse_qs(split.query).items()}
            answers = {"/ready": lambda: {},
                       "/take": endpoint.take,
                       "/take_units": endpoint.take_units,
                       "/settle": lambda: endpoint.settle_and_take(**query)}
            if split.path not in answers:
                self.send_error(404)
                return
            data = json.dumps(answers[split.path]()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Control


def main(argv: list[str]) -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if argv[0] == "moto":
        from leadline.local.emulator import LocalMotoServer

        moto = LocalMotoServer("127.0.0.1", int(argv[1]))
        moto.start()
        threading.Event().wait()  # until terminated
    elif argv[0] == "proxy":
        endpoint = CountingEndpoint(moto_port=int(argv[1]))
        endpoint.port = int(argv[2])  # the port the parent chose, bound by __enter__
        with endpoint:
            control = ThreadingHTTPServer(("127.0.0.1", int(argv[3])), _control(endpoint))
            control.serve_forever()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
