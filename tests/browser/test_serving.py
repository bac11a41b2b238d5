"""The local stack serves the console at `/` of the API's port; the API keeps every path."""

from __future__ import annotations

import re

import requests

from tests.browser.conftest import Demo


def test_console_at_the_root_with_the_security_headers(demo: Demo) -> None:
    reply = requests.get(demo.url + "/", timeout=10)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/html")
    csp = reply.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Cache-Control"] == "no-cache"
    asset = re.search(r'src="(/assets/[^"]+\.js)"', reply.text)
    assert asset, reply.text
    script = requests.get(demo.url + asset.group(1), headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert script.status_code == 200 and script.headers["Content-Encoding"] == "gzip"
    assert "immutable" in script.headers["Cache-Control"]


def test_api_paths_stay_the_api(demo: Demo) -> None:
    assert requests.get(demo.url + "/health", timeout=10).json() == {"status": "ok"}
    unknown = requests.get(demo.url + "/no-such-thing", timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_no_file_outside_the_console_is_served(demo: Demo) -> None:
    for path in ("/assets/../../app.py", "/assets/%2e%2e/%2e%2e/app.py", "/assets/nope.js"):
        reply = requests.get(demo.url + path, timeout=10)
        assert reply.status_code == 404, path
        assert "Flask" not in reply.text and "Chalice" not in reply.text


def test_local_config_names_no_cognito(demo: Demo) -> None:
    assert requests.get(demo.url + "/config.json", timeout=10).json() == {"apiBaseUrl": "", "cognito": None}
