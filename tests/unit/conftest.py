"""Unit tests: pure domain rules and use cases on the fakes of tests/fakes.py. No moto (nothing
here or in tests/fakes.py imports it; tests/unit/test_offline.py checks) and no network: every
socket connection fails the test, so a use case that reaches for AWS is caught at once."""

from __future__ import annotations

import socket
from typing import Any

import pytest


def _refuse(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("unit tests run without network: give the use case the fakes of tests/fakes.py")


@pytest.fixture(autouse=True)
def _sockets_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
