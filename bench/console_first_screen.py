"""How soon the console shows its first screens, in Debian's chromium against a local demo stack.

- sign-in form: from navigation to the form being on screen, on a cold cache (a new browser context);
- inbox: from pressing "Sign in" to the first queue row on screen (the sign-in, then the requests
  the first screen waits on);
- overview: a manager's first screen, from "Sign in" to the stores table.

Each figure is read in the page: the performance clock at navigation start (the form) or at the
click event (the capture listener on the document), and at the first animation frame where the
element is in the DOM, so the harness's own round trips are not counted (`wall` adds them: what
the Python side saw, the previous way of measuring). Needs the console built (`make console`)
and chromium (`make chromium`). Prints the median of RUNS runs; BENCH lines for bench/run_all.py.
`--waterfall` also prints, for the last run of each screen, every request the page made after
the click (start and end in ms after it; for the form: after navigation start), to see which ones
wait on which. `--home DIR` keeps the
stack's data in DIR (its demo is seeded once; later runs start from it in seconds)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM_ARGS, DESKTOP, FULL_DEMO_START_TIMEOUT  # noqa: E402
from tests.e2e.conftest import StackProcess, free_port  # noqa: E402

RUNS = 7
AGENT = "ava.chen@northwind-auto.com"
SCREENS = ("sign_in_form", "agent_inbox", "manager_overview",
           "sign_in_form_wall", "agent_inbox_wall", "manager_overview_wall")
# The page's clock when an element first is in the DOM (checked on every animation frame).
SHOWN = "(selector) => document.querySelector(selector) ? performance.now() : false"
# The page's clock at the click event itself.
CLICK_CLOCK = ("document.addEventListener('click', () => { window.clickedAt = performance.now(); }, "
               "{capture: true, once: true})")
# The page's resource timings after the click.
TIMELINE = """(clicked) => [...performance.getEntriesByType('navigation'),
                           ...performance.getEntriesByType('resource')]
    .filter((e) => e.startTime >= clicked)
    .map((e) => ({name: e.name.replace(location.origin, ''), start: e.startTime - clicked,
                  end: e.responseEnd - clicked}))"""


def measure(url: str, password: str, manager: str, runs: int) -> tuple[dict[str, list[float]], dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    found: dict[str, list[float]] = {name: [] for name in SCREENS}
    waterfalls: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for _ in range(runs):
            for email, screen, ready in ((AGENT, "agent_inbox", ".rows .row-item"),
                                         (manager, "manager_overview", "table tbody tr")):
                context = browser.new_context(viewport=DESKTOP)
                page = context.new_page()
                began = time.perf_counter()
                page.goto(url + "/")
                form_at = page.wait_for_function(SHOWN, arg="form input[type=email]", polling="raf").json_value()
                if screen == "agent_inbox":
                    found["sign_in_form"].append(form_at / 1000)
                    found["sign_in_form_wall"].append(time.perf_counter() - began)
                    waterfalls["sign_in_form"] = {"ready": form_at, "requests": page.evaluate(TIMELINE, 0)}
                page.get_by_label("Email").fill(email)
                page.get_by_label("Password").fill(password)
                page.evaluate(CLICK_CLOCK)
                began = time.perf_counter()
                page.get_by_role("button", name="Sign in").click()
                shown_at = page.wait_for_function(SHOWN, arg=ready, polling="raf").json_value()
                found[screen + "_wall"].append(time.perf_counter() - began)
                clicked = page.evaluate("window.clickedAt")
                found[screen].append((shown_at - clicked) / 1000)
                waterfalls[screen] = {"ready": shown_at - clicked, "requests": page.evaluate(TIMELINE, clicked)}
                context.close()
        browser.close()
    return found, waterfalls


def print_waterfall(screen: str, waterfall: dict[str, Any]) -> None:
    print(f"{screen} (last run): ready {waterfall['ready']:.0f} ms after the start")
    for request in sorted(waterfall["requests"], key=lambda r: r["start"]):
        print(f"  {request['start']:6.0f} .. {request['end']:6.0f} ms  {request['name']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--waterfall", action="store_true", help="print the last run's requests after the click")
    parser.add_argument("--home", type=Path, help="a LEADLINE_HOME kept between runs (default: a new one)")
    args = parser.parse_args()
    if not (ROOT / "console" / "dist" / "index.html").exists() or not shutil.which("chromium"):
        print("needs `make console` and `make chromium` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="leadline-bench-console-") as scratch:
        home = args.home or Path(scratch)
        home.mkdir(parents=True, exist_ok=True)
        stack = StackProcess(home=home, port=free_port(), aws_port=free_port(), demo=True,
                             start_timeout=FULL_DEMO_START_TIMEOUT).start()
        try:
            demo = json.loads((home / "stack.json").read_text())["demo"]
            password = (home / "password").read_text().strip()
            load_before = os.getloadavg()[0]
            found, waterfalls = measure(stack.url, password, demo["manager_email"], args.runs)
            load_after = os.getloadavg()[0]
        finally:
            stack.stop()
    print(f"load average (1 min): {load_before:.1f} as the runs began, {load_after:.1f} as they ended")
    for name, seconds in found.items():
        print(f"{name}: median {statistics.median(seconds) * 1000:.0f} ms, "
              f"max {max(seconds) * 1000:.0f} ms over {len(seconds)} runs")
        print(f"BENCH console_{name}: {statistics.median(seconds) * 1000:.0f} ms")
    if args.waterfall:
        for screen, waterfall in waterfalls.items():
            print_waterfall(screen, waterfall)
    return 0


if __name__ == "__main__":
    sys.exit(main())
