"""`leadline local` in the foreground: start the stack, print the banner, serve until Ctrl-C or
SIGTERM, stop cleanly. What the terminal shows is for a person (logs.py)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

from leadline.local import environment
from leadline.local.banner import print_banner
from leadline.local.logs import route_logs
from leadline.local.stack import LocalStack, StackError, StackOptions


def run(options: StackOptions) -> int:
    """Start, print the banner, serve until Ctrl-C or SIGTERM, stop cleanly."""
    os.environ.update(environment.lambda_like_env())  # before the app's Powertools objects exist
    logs = route_logs(options.home, options.verbose)
    stack = LocalStack(options, say=lambda line: print(line, flush=True))
    stop_requested = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop_requested.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            stack.start()
        except StackError as exc:
            print(f"leadline local: {exc}", file=sys.stderr)
            return 2
        print_banner(stack.facts(logs.file_path), sys.stdout)
        stack.announce()
        logs.ready()
        while not stop_requested.wait(0.5):
            pass
        print("stopping the local stack...", flush=True)
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        logs.close()
    return 0
