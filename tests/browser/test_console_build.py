"""The built console (console/dist): within its size budget, no inline script or style, and no
request to anyone but us."""

from __future__ import annotations

import gzip
import re

from tests.browser.conftest import DIST

BUDGET_GZIPPED = 250 * 1024
# XML namespaces are names, not requests (SVG and uPlot carry them).
NAMESPACES = ("http://www.w3.org/",)
URL = re.compile(rb"""https?://[^\s"'`)<>]+""")


def built_files() -> list:
    files = [p for p in DIST.rglob("*") if p.is_file()]
    assert (DIST / "index.html") in files, "run `make console` first"
    return files


def test_bundle_is_within_budget() -> None:
    shipped = [p for p in built_files() if p.suffix in (".js", ".css", ".html")]
    total = sum(len(gzip.compress(p.read_bytes(), 9)) for p in shipped)
    assert total <= BUDGET_GZIPPED, f"the console ships {total / 1024:.0f} KB gzipped (budget 250 KB)"


def test_no_external_requests_in_the_bundle() -> None:
    for path in built_files():
        if path.suffix not in (".js", ".css", ".html", ".svg"):
            continue
        external = {m.group().decode() for m in URL.finditer(path.read_bytes())
                    if not m.group().decode().startswith(NAMESPACES)}
        assert not external, f"{path.name} names outside URLs: {sorted(external)[:5]}"


def test_index_has_no_inline_script_or_style() -> None:
    html = (DIST / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> breaks the CSP"
    assert "<style" not in html and " style=" not in html
