"""tests/unit stays a fast, offline suite: none of its modules (or tests/fakes.py) loads moto, even
through a conftest, and the sockets-off fixture really refuses connections."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = Path(__file__).resolve().parent


def _modules() -> list[str]:
    found = ["tests.conftest", "tests.fakes"] if (ROOT / "tests" / "fakes.py").exists() else ["tests.conftest"]
    for path in sorted(UNIT.rglob("*.py")):
        found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def test_no_unit_module_imports_moto() -> None:
    script = ("import importlib, sys\n"
              f"for name in {_modules()!r}:\n"
              "    importlib.import_module(name)\n"
              "loaded = sorted(m for m in sys.modules if m == 'moto' or m.startswith('moto.'))\n"
              "print(','.join(loaded))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"moto loaded by tests/unit: {result.stdout.strip()}"


def test_no_unit_source_mentions_moto() -> None:
    """Also a lazy import inside a test function: the source never names it."""
    sources = [*UNIT.rglob("*.py"), ROOT / "tests" / "fakes.py"]
    offenders = [p.name for p in sources if p.exists() and p != Path(__file__).resolve()
                 and ("import moto" in p.read_text() or "from moto" in p.read_text())]
    assert offenders == []


def test_sockets_are_off() -> None:
    with pytest.raises(RuntimeError, match="without network"):
        socket.create_connection(("127.0.0.1", 9))
