"""Cold start: wall time of `python -c "import app"` against `python -c "import chalice, boto3"`.

Each is run in a fresh interpreter (the venv's python, from the repo root) several times,
alternating, after the project's .pyc files are written (site-packages has them already;
a Lambda bundle should ship them too: /var/task is read-only, so Lambda cannot cache
bytecode) and one warm-up run each. Prints the medians and their ratio; the budget is 1.5.

    python bench/cold_start.py [--runs N] [--why]

--why lists the modules `import app` loads beyond chalice and boto3, by cumulative import
time (python -X importtime), to find what to make lazy."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 1.5
APP = "import app"
BASELINE = "import chalice, boto3"


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_ENDPOINT_URL", "LEADLINE_")) and k != "PYTHONDONTWRITEBYTECODE"}
    # What a deployed function has; no endpoint and no credentials are needed to import.
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "1", "PYTHONPATH": str(ROOT)})
    return env


def wall(code: str) -> float:
    return measure(code)[0]


def measure(code: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh interpreter running `code`. CPU time is the
    cross-check on a busy machine, where other processes stretch wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=child_env(), check=True)
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_times(code: str) -> dict[str, int]:
    """module -> cumulative import time in microseconds, from -X importtime."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, env=child_env(),
                          capture_output=True, text=True, check=True)
    found: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        found[name.strip()] = int(cumulative)
    return found


def explain(top: int = 25) -> None:
    base = import_times(BASELINE)
    app = import_times(APP)
    extra = {name: us for name, us in app.items() if name not in base}
    print(f"modules `{APP}` loads beyond `{BASELINE}` (cumulative ms; nested modules count in their parents):")
    for name, us in sorted(extra.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {us / 1000:8.1f}  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--why", action="store_true")
    args = parser.parse_args()

    # Bytecode for the project, as site-packages already has it: without it every run compiles
    # ~70 modules from source (PYTHONDONTWRITEBYTECODE=1 in the environment would force that).
    subprocess.run([sys.executable, "-m", "compileall", "-q", "app.py", "chalicelib"], cwd=ROOT, env=child_env(),
                   check=True, stdout=subprocess.DEVNULL)
    wall(APP), wall(BASELINE)  # warm-up: fill the OS page cache
    app_runs, base_runs = [], []
    for _ in range(args.runs):
        app_runs.append(measure(APP))
        base_runs.append(measure(BASELINE))
    app_ms, base_ms = (statistics.median(r[0] for r in runs) * 1000 for runs in (app_runs, base_runs))
    app_cpu, base_cpu = (statistics.median(r[1] for r in runs) * 1000 for runs in (app_runs, base_runs))
    ratio = app_ms / base_ms
    print(f"python -c '{APP}'             median {app_ms:7.1f} ms wall, {app_cpu:7.1f} ms CPU  ({args.runs} runs)")
    print(f"python -c '{BASELINE}' median {base_ms:7.1f} ms wall, {base_cpu:7.1f} ms CPU  ({args.runs} runs)")
    print(f"wall-time ratio {ratio:.2f} (budget {BUDGET}): {'ok' if ratio <= BUDGET else 'OVER BUDGET'}; "
          f"CPU-time ratio {app_cpu / base_cpu:.2f}; load average {os.getloadavg()[0]:.1f}")
    print(f"BENCH cold_start_import_app: {app_ms:.0f} ms")
    print(f"BENCH cold_start_baseline: {base_ms:.0f} ms")
    print(f"BENCH cold_start_ratio: {ratio:.2f} x")
    print(f"BENCH cold_start_cpu_ratio: {app_cpu / base_cpu:.2f} x")
    if args.why or ratio > BUDGET:
        explain()
    return 0 if ratio <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
