"""$LEADLINE_HOME: where the local stack keeps its secret, its snapshots and the
`stack.json` through which every `leadline` command finds the running stack."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[2]
STACK_FILE = "stack.json"
SECRET_FILE = "jwt_secret"
DEMO_FILE = "demo.json"
DATA_DIR = "data"


class NoRunningStack(RuntimeError):
    """No local stack answers for this $LEADLINE_HOME."""


def leadline_home() -> Path:
    """$LEADLINE_HOME, else `.local/` in the checkout this package was installed from."""
    configured = os.environ.get("LEADLINE_HOME", "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    root = CHECKOUT if (CHECKOUT / "app.py").exists() else Path.cwd()
    return root / ".local"


def write_json_atomically(path: Path, data: Any, mode: int = 0o644) -> None:
    """Write to a temp file beside `path`, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, separators=(",", ":"), sort_keys=True)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def ensure_secret(home: Path, name: str = SECRET_FILE, make: Callable[[], str] | None = None) -> str:
    """A secret file (the HS256 secret by default): generated once, readable by its owner only (0600)."""
    path = home / name
    home.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_secret(home, name)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(make() if make else secrets.token_urlsafe(48))
    return read_secret(home, name)


def read_secret(home: Path, name: str = SECRET_FILE) -> str:
    path = home / name
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise NoRunningStack(f"no local secret under {home}; start the stack with `make run`") from exc
    if not secret:
        raise NoRunningStack(f"{path} is empty; delete it and restart the stack")
    return secret


@dataclass
class StackInfo:
    """What a running stack tells the CLI (never the secret: that stays in its 0600 file)."""

    api_url: str
    aws_endpoint: str
    region: str
    pid: int
    started_at: str
    settings_env: dict[str, str]
    mappings: list[dict[str, Any]] = field(default_factory=list)
    demo: dict[str, Any] = field(default_factory=dict)


def write_stack_info(home: Path, info: StackInfo) -> None:
    write_json_atomically(home / STACK_FILE, asdict(info))


def read_stack_info(home: Path) -> StackInfo | None:
    try:
        data = json.loads((home / STACK_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return StackInfo(**data)


def remove_stack_info(home: Path, pid: int) -> None:
    """Remove stack.json if it is still ours (a newer stack may have replaced it)."""
    info = read_stack_info(home)
    if info is not None and info.pid == pid:
        with contextlib.suppress(FileNotFoundError):
            (home / STACK_FILE).unlink()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_stack(home: Path | None = None) -> StackInfo:
    """The stack running for this home, or NoRunningStack with what to do about it."""
    home = home or leadline_home()
    info = read_stack_info(home)
    hint = "start one with `make run` (or `leadline local`) and keep it running"
    if info is None:
        raise NoRunningStack(f"no local stack is running for LEADLINE_HOME={home}: {hint}")
    if not pid_alive(info.pid):
        raise NoRunningStack(f"the local stack recorded in {home / STACK_FILE} (pid {info.pid}) has stopped: {hint}")
    return info
