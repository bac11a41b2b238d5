"""How long `make run` takes to seed the demo on an empty store: the group, stores and people
through the API, then 90 days of history per store through the services (leadline/demo_history.py).

Starts a local stack in a fresh $LEADLINE_HOME and reads what the stack recorded of its seed
(stack.json): the history's wall and CPU seconds (the CPU figures are the ones a busy shared machine
inflates least: the stack's whole process, which also runs its pollers meanwhile, the history's own
thread, and the forked process that lives half the stores on the other core) and what the 90 days
hold. Also the whole start, from launch to ready, its CPU seconds (the stack's process and the
forked one), and the load average as it began."""

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


def _cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children it waited for (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="leadline-bench-demo-") as home:
        began = time.perf_counter()
        stack = StackProcess(home=Path(home), port=free_port(), aws_port=free_port(), demo=True,
                             start_timeout=START_TIMEOUT).start()
        ready = time.perf_counter() - began
        start_cpu = _cpu_seconds(stack.proc.pid)
        try:
            demo = json.loads((Path(home) / "stack.json").read_text())["demo"]
        finally:
            stack.stop()
    timing, history = demo.get("history_seconds") or {}, demo.get("history") or {}
    if not timing:
        print(f"the demo recorded no history: {demo.get('skipped')}", file=sys.stderr)
        return 1
    print(f"stack ready with the demo in {ready:.1f} s ({os.cpu_count()} cores, load average {load:.1f} as it began); "
          f"{start_cpu:.1f} s CPU for the whole start (the stack's process and the forked one)")
    print(f"history: {timing['wall']:.1f} s wall, {timing['cpu']:.1f} s CPU (the stack's process), "
          f"{timing.get('history_cpu')} s CPU in the history's own thread, {timing.get('forked_cpu')} s CPU in "
          f"the forked process living the other stores; rollups rebuilt in {timing.get('rollups_wall')} s wall")
    print("history holds: " + ", ".join(f"{n} {what}" for what, n in sorted(history.items())))
    print(f"BENCH demo_history_wall: {timing['wall'] * 1000:.0f} ms")
    print(f"BENCH demo_history_cpu: {timing['cpu'] * 1000:.0f} ms")
    print(f"BENCH demo_start_wall: {ready * 1000:.0f} ms")
    print(f"BENCH demo_start_cpu: {start_cpu * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
