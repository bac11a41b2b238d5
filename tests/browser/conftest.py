"""Browser tests: Playwright for Python driving Debian's chromium against one real local stack
(demo seeded, console built by `make console`), shared by every test of the worker.

Never `playwright install`: the browser is the system's `chromium` (`make chromium` installs it).
axe-core comes from console/node_modules (npm, pinned in the console's lockfile) and is evaluated
into the page over the DevTools protocol, so the page's content security policy stays as served."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import StackProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "console" / "dist"
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-extensions", "--no-first-run", "--mute-audio"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Everything the live poll needs to show (3 s poll) plus a loaded machine's slack: the issue asks for 5 s.
LIVE_TIMEOUT_MS = 5_000
# Seeding the demo takes seconds of CPU, and several times that in wall time on a machine shared with
# other suites. The browser tests' stack has no history: the screens are under test, with leads the
# tests know (the 90 days are tests/integration/test_demo.py's and `make screenshots`' to show).
DEMO_START_TIMEOUT = 180.0
BROWSER_DEMO_ENV = {"LEADLINE_DEMO_DAYS": "0"}
FULL_DEMO_START_TIMEOUT = 900.0  # the whole 90 days (screenshots, the first-screen bench)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """One xdist worker runs every browser test (`--dist loadgroup`): one stack, one chromium."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.xdist_group("browser"))


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Debian's chromium is not installed: run `make chromium` (apt-get install chromium)")
    return found


@dataclass
class Demo:
    url: str
    password: str
    info: dict[str, Any]
    home: Path  # the stack's LEADLINE_HOME (for `leadline` commands against it)

    def token(self, email: str) -> str:
        reply = requests.post(f"{self.url}/auth/local/sign-in", json={"email": email, "password": self.password},
                              timeout=10)
        assert reply.status_code == 200, reply.text
        return str(reply.json()["token"])

    def api(self, email: str) -> Api:
        return Api(self.url, self.token(email))


class Api:
    """The HTTP API as one user: what the tests arrange and check besides the screens."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: Any = None, expect: int | None = None) -> Any:
        reply = requests.request(method, self.base_url + path, json=body, headers=self.headers, timeout=30)
        if expect is not None:
            assert reply.status_code == expect, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else None

    def get(self, path: str) -> Any:
        return self.call("GET", path, expect=200)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    if not (DIST / "index.html").exists():
        pytest.fail("the console is not built: run `make console` (make test builds it)")
    home = tmp_path_factory.mktemp("browser-stack")
    stack = StackProcess(home=home, port=free_port(), aws_port=free_port(), demo=True,
                         start_timeout=DEMO_START_TIMEOUT, env=BROWSER_DEMO_ENV).start()
    try:
        info = json.loads((home / "stack.json").read_text())["demo"]
        assert info.get("manager_email"), f"the demo was not seeded:\n{stack.output()}"
        yield Demo(url=stack.url, password=(home / "password").read_text().strip(), info=info, home=home)
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_as(browser: Any, demo: Demo) -> Iterator[Any]:
    """open_as(email, viewport=DESKTOP) -> a page of a fresh browser context, signed in through the form."""
    contexts: list[Any] = []

    def sign_in(email: str, viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.errors = errors
        page.goto(demo.url + "/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(demo.password)
        page.get_by_role("button", name="Sign in").click()
        page.locator("header.topbar").wait_for()
        return page

    yield sign_in
    for context in contexts:
        context.close()


def check_accessibility(page: Any, screen: str) -> None:
    """axe-core over the page as it is: no serious or critical violation (WCAG 2 A/AA rules)."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("""async (tags) => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => (
            {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""", AXE_TAGS)
    assert result == [], f"{screen}: axe-core found {json.dumps(result, indent=1)}"


def no_page_errors(page: Any) -> None:
    assert page.errors == [], f"the page threw: {page.errors}"
