"""`make bench`: run every bench/*.py script and print one table of their key figures.

The convention: a bench script is a plain program run from the repo root with the venv's
python and no arguments (bench/load.py excepted: `make load` runs it); it prints whatever it
likes, and one line per key figure:

    BENCH <name>: <value> <unit>

e.g. `BENCH cold_start_ratio: 1.12 x`. This runner collects those lines. A script that
fails, times out (BENCH_TIMEOUT seconds, default 600) or prints no BENCH line is shown
as such in the table and the others still run; the exit status is 1 if any script failed.

bench/baseline.json keeps figures measured before a change worth comparing with (each with
where and when it was measured); the table shows them in the `before` column."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "bench" / "baseline.json"
BENCH_LINE = re.compile(r"^BENCH\s+(?P<name>[^:]+?)\s*:\s*(?P<value>\S+)\s*(?P<unit>.*?)\s*$")


# Run on their own (`make load`): the load test holds both cores for 10+ minutes.
SEPARATE = {"load.py"}


def scripts() -> list[Path]:
    here = Path(__file__).resolve()
    return sorted(p for p in (ROOT / "bench").glob("*.py")
                  if p.resolve() != here and not p.name.startswith("_") and p.name not in SEPARATE)


def run(script: Path, timeout: float) -> tuple[str, list[tuple[str, str, str]], float]:
    started = time.perf_counter()
    print(f"== {script.name}", flush=True)
    try:
        done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        status = f"timed out after {timeout:.0f} s"
    else:
        output = done.stdout
        status = "ok" if done.returncode == 0 else f"exit {done.returncode}"
        if done.returncode != 0 and done.stderr:
            print(done.stderr.rstrip()[-3000:], file=sys.stderr)
    print(output.rstrip(), flush=True)
    figures = [(m["name"], m["value"], m["unit"]) for m in map(BENCH_LINE.match, output.splitlines()) if m]
    if status == "ok" and not figures:
        status = "no BENCH lines"
    return status, figures, time.perf_counter() - started


def baseline() -> dict[str, str]:
    """figure name -> its value before (bench/baseline.json `figures`)."""
    if not BASELINE.exists():
        return {}
    return {name: str(value) for name, value in json.loads(BASELINE.read_text())["figures"].items()}


def main() -> int:
    timeout = float(os.environ.get("BENCH_TIMEOUT", "600"))
    before = baseline()
    rows: list[tuple[str, str, str, str, str, str]] = []
    failed = False
    for script in scripts():
        status, figures, took = run(script, timeout)
        failed |= status not in ("ok", "no BENCH lines")
        summary = f"{status} ({took:.1f} s)"
        if not figures:
            rows.append((script.name, "-", "", "-", "", summary))
        for i, (name, value, unit) in enumerate(figures):
            rows.append((script.name if i == 0 else "", name, before.get(name, ""), value, unit,
                         summary if i == 0 else ""))
    header = ("script", "figure", "before", "value", "unit", "status")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [cell.rjust(w) if i in (2, 3) else cell.ljust(w) for i, (cell, w) in pairs]  # values right-aligned
        print("  ".join(cells).rstrip())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
