"""`chalice package` for the Lambda runtime Leadline deploys on, whatever Python runs the build.

Chalice names every function's Runtime after the interpreter that runs it and picks the bundle's
wheels for that version (Config.lambda_python_version). Leadline deploys on LAMBDA_RUNTIME instead.
This entry point fixes that property and runs chalice's own CLI, so the template says python3.13 and
the dependency builder fetches cp313 manylinux wheels for the bundle even when the build runs on 3.11.

Chalice asks pip for those wheels with `--abi cp313` but without `--python-version`, so pip looks for
wheels of the *building* interpreter's version and finds none (chalice then leaves pydantic-core and
cffi out of the bundle with only a warning). The second patch adds the runtime's version to that one
pip call."""

from __future__ import annotations

import sys
from typing import Any

LAMBDA_RUNTIME = "python3.13"


def _runtime_version() -> str:
    return LAMBDA_RUNTIME.removeprefix("python").replace(".", "")


def main() -> int:
    from chalice.cli import main as chalice_main
    from chalice.config import Config
    from chalice.deploy.packager import PipRunner

    Config.lambda_python_version = property(lambda self: LAMBDA_RUNTIME)  # type: ignore[assignment,method-assign]
    execute = PipRunner._execute

    def execute_for_runtime(self: Any, command: str, args: list[str], *rest: Any, **kwargs: Any) -> Any:
        if command == "download" and "--only-binary=:all:" in args and "--python-version" not in args:
            args = [*args[:-1], "--python-version", _runtime_version(), args[-1]]
        return execute(self, command, args, *rest, **kwargs)

    PipRunner._execute = execute_for_runtime  # type: ignore[method-assign]
    return int(chalice_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
