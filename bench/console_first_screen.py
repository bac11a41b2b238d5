"""How soon the console shows its first screens, in Debian's chromium against a local demo stack.

- sign-in form: from navigation to the form being visible, on a cold cache (a new browser context);
- inbox: from pressing "Sign in" to the first queue row on screen (sign-in, /me, the stores,
  the people and the first page of leads);
- overview: a manager's first screen, from "Sign in" to the stores table.

Needs the console built (`make console`) and chromium (`make chromium`). Prints the median of
RUNS runs; BENCH lines for bench/run_all.py."""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM_ARGS, DESKTOP, FULL_DEMO_START_TIMEOUT  # noqa: E402
from tests.e2e.conftest import StackProcess, free_port  # noqa: E402

RUNS = 7
AGENT = "ava.chen@northwind-auto.com"


def measure(url: str, password: str, manager: str) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    found: dict[str, list[float]] = {"sign_in_form": [], "agent_inbox": [], "manager_overview": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for _ in range(RUNS):
            for email, screen, ready in ((AGENT, "agent_inbox", ".rows .row-item"),
                                         (manager, "manager_overview", "table tbody tr")):
                context = browser.new_context(viewport=DESKTOP)
                page = context.new_page()
                began = time.perf_counter()
                page.goto(url + "/")
                page.get_by_label("Email").wait_for()
                if screen == "agent_inbox":
                    found["sign_in_form"].append(time.perf_counter() - began)
                page.get_by_label("Email").fill(email)
                page.get_by_label("Password").fill(password)
                began = time.perf_counter()
                page.get_by_role("button", name="Sign in").click()
                page.locator(ready).first.wait_for()
                found[screen].append(time.perf_counter() - began)
                context.close()
        browser.close()
    return found


def main() -> int:
    if not (ROOT / "console" / "dist" / "index.html").exists() or not shutil.which("chromium"):
        print("needs `make console` and `make chromium` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="leadline-bench-console-") as home:
        stack = StackProcess(home=Path(home), port=free_port(), aws_port=free_port(), demo=True,
                             start_timeout=FULL_DEMO_START_TIMEOUT).start()
        try:
            demo = json.loads((Path(home) / "stack.json").read_text())["demo"]
            password = (Path(home) / "password").read_text().strip()
            found = measure(stack.url, password, demo["manager_email"])
        finally:
            stack.stop()
    for name, seconds in found.items():
        print(f"{name}: median {statistics.median(seconds) * 1000:.0f} ms, "
              f"max {max(seconds) * 1000:.0f} ms over {len(seconds)} runs")
        print(f"BENCH console_{name}: {statistics.median(seconds) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
