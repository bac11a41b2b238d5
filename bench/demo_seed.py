"""How long `make run` takes to seed the demo on an empty store: the group, stores and people
through the API, then 90 days of history per store through the services (leadline/demo_history.py).

Starts a local stack in a fresh $LEADLINE_HOME and reads what the stack recorded of its seed
(stack.json): the history's wall and CPU seconds (the CPU figures are the ones a busy shared machine
does not inflate: the stack's whole process, which also runs the stream consumer keeping the rollups
meanwhile, and the history's own thread) and what the 90 days hold. Also the whole start, from launch
to ready, and the load average as it began."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import StackProcess, free_port  # noqa: E402

START_TIMEOUT = 600.0


def main() -> int:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="leadline-bench-demo-") as home:
        began = time.perf_counter()
        stack = StackProcess(home=Path(home), port=free_port(), aws_port=free_port(), demo=True,
                             start_timeout=START_TIMEOUT).start()
        ready = time.perf_counter() - began
        try:
            demo = json.loads((Path(home) / "stack.json").read_text())["demo"]
        finally:
            stack.stop()
    timing, history = demo.get("history_seconds") or {}, demo.get("history") or {}
    if not timing:
        print(f"the demo recorded no history: {demo.get('skipped')}", file=sys.stderr)
        return 1
    print(f"stack ready with the demo in {ready:.1f} s ({os.cpu_count()} cores, load average {load:.1f} as it began)")
    print(f"history: {timing['wall']:.1f} s wall, {timing['cpu']:.1f} s CPU (the stack's process), "
          f"{timing.get('history_cpu')} s CPU in the history's own thread, {timing.get('forked_cpu')} s CPU in "
          f"the forked process living the other stores; rollups rebuilt in {timing.get('rollups_wall')} s wall")
    print("history holds: " + ", ".join(f"{n} {what}" for what, n in sorted(history.items())))
    print(f"BENCH demo_history_wall: {timing['wall'] * 1000:.0f} ms")
    print(f"BENCH demo_history_cpu: {timing['cpu'] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
