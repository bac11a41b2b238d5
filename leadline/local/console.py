"""The console on the local stack: its static files at `/` of the API's port, the demo password
behind `POST /auth/local/sign-in`, and the banner lines a person reads after `make run`.

The console is a single-page app with hash routes (`/#/inbox`), so the only paths served
here are `/`, `/index.html`, `/assets/*` and the other files at the top of console/dist;
every other path goes to the API unchanged. The security headers are the deployed console's
(leadline/console_policy.py), so a page that breaks the content security policy breaks locally first."""

from __future__ import annotations

import functools
import gzip
import mimetypes
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from leadline.console_policy import SECURITY_HEADERS, content_security_policy
from leadline.local.gateway import ContractRequestHandler, use_contract_errors
from leadline.local.home import CHECKOUT, ensure_secret

CONSOLE_DIST = CHECKOUT / "console" / "dist"
PASSWORD_FILE = "password"
# Read aloud and typed by people: no 0/O, 1/l/I.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
IMMUTABLE = "public, max-age=31536000, immutable"
# What `leadline console publish` writes for a deployed console; locally the API is beside it
# and sign-in is the local route (no Cognito).
LOCAL_CONFIG_PATH = "/config.json"
LOCAL_CONFIG = b'{"apiBaseUrl": "", "cognito": null}'
COMPRESSIBLE = (".html", ".js", ".css", ".svg", ".json", ".map", ".txt")


def make_password() -> str:
    groups = ["".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3)]
    return "-".join(groups)


def enable_local_sign_in(home: Path) -> str:
    """The demo password: made once into $LEADLINE_HOME/password (0600), handed to the app's Settings."""
    from leadline.local.environment import refresh_app_caches

    password = ensure_secret(home, PASSWORD_FILE, make_password)
    os.environ["LEADLINE_LOCAL_PASSWORD"] = password
    refresh_app_caches()
    return password


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None
    content_type: str
    cache_control: str


class ConsoleFiles:
    """console/dist read into memory on first use (a few hundred KB), gzipped once."""

    def __init__(self, root: Path = CONSOLE_DIST) -> None:
        self.root = root.resolve()
        self._cache: dict[str, StaticFile | None] = {}
        self._lock = threading.Lock()

    def built(self) -> bool:
        return (self.root / "index.html").is_file()

    def serves(self, path: str) -> bool:
        """Whether `path` (no query) is the console's rather than the API's."""
        if path in ("/", "/index.html", LOCAL_CONFIG_PATH) or path.startswith("/assets/"):
            return True
        name = path.lstrip("/")
        return "/" not in name and "." in name and (self.root / name).is_file()

    def get(self, path: str) -> StaticFile | None:
        with self._lock:
            if path not in self._cache:
                self._cache[path] = self._load(path)
            return self._cache[path]

    def _load(self, path: str) -> StaticFile | None:
        if path == LOCAL_CONFIG_PATH:
            return StaticFile(LOCAL_CONFIG, None, "application/json", "no-cache")
        name = "index.html" if path in ("/", "") else unquote(path).lstrip("/")
        target = (self.root / name).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            return None
        body = target.read_bytes()
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "image/svg+xml"):
            content_type += "; charset=utf-8"
        gzipped = gzip.compress(body, 6) if target.suffix in COMPRESSIBLE and len(body) > 1024 else None
        # Vite names every asset by its hash: cached for good. index.html is checked on every load.
        cache = IMMUTABLE if name.startswith("assets/") else "no-cache"
        return StaticFile(body, gzipped, content_type, cache)


class ConsoleRequestHandler(ContractRequestHandler):
    """Serves the console's files; everything else is the API (and its contract errors)."""

    console_files: ConsoleFiles
    api_url: str
    upload_origin: str  # where the console POSTs pictures (presigned uploads to the media bucket)

    def _console(self) -> bool:
        path = urlsplit(self.path).path
        if self.command not in ("GET", "HEAD") or not self.console_files.serves(path):
            return False
        found = self.console_files.get(path)
        if found is None:
            message = (b"The console is not built. `make run` builds it; or run `make console` and reload."
                       if not self.console_files.built() else b"Not found.")
            self._send_static(404, message, "text/plain; charset=utf-8", "no-store")
            return True
        body, encoding = found.body, None
        if found.gzipped is not None and "gzip" in self.headers.get("Accept-Encoding", ""):
            body, encoding = found.gzipped, "gzip"
        self._send_static(200, body, found.content_type, found.cache_control, encoding)
        return True

    def _send_static(self, status: int, body: bytes, content_type: str, cache: str,
                     encoding: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.send_header("Vary", "Accept-Encoding")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        connect = [self.api_url, self.upload_origin] if self.upload_origin else [self.api_url]
        self.send_header("Content-Security-Policy", content_security_policy(connect))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        if not self._console():
            self._generic_handle()

    def do_HEAD(self) -> None:
        if not self._console():
            self._generic_handle()


def serve_console(server: Any, app: Any, config: Any, api_url: str, files: ConsoleFiles | None = None,
                  upload_origin: str = "") -> None:
    """Make a chalice.local LocalDevServer serve the console at `/` beside the API (`upload_origin`: the
    local S3's, where the console's presigned picture uploads go)."""
    use_contract_errors(server, app, config)  # the gateway's setup (its burst backlog), then our handler on top
    handler = type("BoundConsoleHandler", (ConsoleRequestHandler,),
                   {"console_files": files or ConsoleFiles(), "api_url": api_url,
                    "upload_origin": upload_origin})
    server.server.RequestHandlerClass = functools.partial(handler, app_object=app, config=config)


def banner_lines(api_url: str, demo: dict[str, Any], password: str | None,
                 files: ConsoleFiles | None = None) -> list[str]:
    """What a person needs to open the console: its URL and who can sign in with what."""
    files = files or ConsoleFiles()
    console = f"{api_url}/" if files.built() else f"{api_url}/ (not built: run `make console`)"
    lines = [f"  console        {console}"]
    if demo.get("manager_email") and password:
        lines.append(f"  demo password  {password}  (every demo user)")
        lines.append(f"  demo users     {demo['manager_email']} (manager)")
        lines += [f"                 {email} ({role})" for email, role in demo_people(demo)]
    return lines


def demo_people(demo: dict[str, Any]) -> list[tuple[str, str]]:
    """The demo's other users, as leadline/demo.py made them."""
    from leadline.demo import ADMIN, AGENTS

    people = [(ADMIN[0], "group admin")] if demo.get("admin_id") else []
    for email, _name, _stores, extra in AGENTS[: len(demo.get("agent_ids", []))]:
        people.append((email, "agent, restricted" if extra.get("restricted") else "agent"))
    return people


def openapi_document() -> dict[str, Any]:
    """What the running app answers at GET /openapi.json (through chalice's test client, no ports):
    the document the console's API types are generated from (`make console-api-types`)."""
    import json
    import sys

    from chalice.test import Client

    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    from app import app

    with Client(app) as client:
        reply = client.http.get("/openapi.json")
    if reply.status_code != 200:
        raise RuntimeError(f"GET /openapi.json answered {reply.status_code}")
    return dict(json.loads(reply.body))


def main() -> None:
    """`python -m leadline.local.console openapi OUT`: write the app's OpenAPI document to OUT."""
    import json
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "openapi":
        raise SystemExit("usage: python -m leadline.local.console openapi OUT.json")
    Path(sys.argv[2]).write_text(json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
