"""Modules imported on first use.

Handlers reference their use-case modules through `lazy_module`, so `import app` (every
cold start) registers routes without importing every service, domain rule and adapter;
a request loads only what it calls. Type checkers see a normal import (TYPE_CHECKING)."""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any


class LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None
        self._lock = threading.Lock()

    def _load(self) -> ModuleType:
        module = self._module
        if module is None:
            with self._lock:
                if self._module is None:
                    self._module = importlib.import_module(self._name)
                module = self._module
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)


def lazy_module(name: str) -> Any:
    return LazyModule(name)
