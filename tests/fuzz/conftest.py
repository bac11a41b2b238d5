"""`make fuzz` passes --fuzz-examples (total cases over all operations) and --fuzz-stack (drive a
`leadline local` stack of its own over HTTP); `make test` runs a short, deterministic pass in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.aws_world import aws, client, world

__all__ = ["aws", "client", "world"]

SHORT_RUN_CASES = 250


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fuzz-examples", type=int, default=None,
                     help="total generated requests over every operation (default: a short run)")
    parser.addoption("--fuzz-stack", action="store_true", default=False,
                     help="fuzz a local stack (`leadline local` in a temporary home) over HTTP, not in-process")


@pytest.fixture(scope="session")
def fuzz_budget(request: pytest.FixtureRequest) -> tuple[int, bool]:
    """(total cases, long run?) — a long run is random; the short one is derandomized so CI is stable."""
    value = request.config.getoption("--fuzz-examples", default=None)
    if value is None and os.environ.get("FUZZ_EXAMPLES"):
        value = int(os.environ["FUZZ_EXAMPLES"])
    return (int(value), True) if value else (SHORT_RUN_CASES, False)


@pytest.fixture(scope="module")
def fuzz_world() -> Iterator[Any]:
    """One moto world for every operation of the module: provisioning per operation would cost
    more than the fuzzing itself."""
    from tests.fuzz.world import module_world

    with module_world() as world:
        yield world


@pytest.fixture(scope="module")
def fuzz_target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """What the fuzzer drives: the app in-process (`make test`), or with --fuzz-stack a local stack
    started for the run, over real HTTP, with a token the stack's own CLI made."""
    from tests.fuzz.targets import in_process_target, local_stack_target

    if request.config.getoption("--fuzz-stack", default=False):
        with local_stack_target(tmp_path_factory.mktemp("fuzz-stack")) as target:
            yield target
    else:
        with in_process_target(request.getfixturevalue("fuzz_world")) as target:
            yield target


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """`make fuzz` ends with how many requests were generated (not shown from xdist workers)."""
    from tests.fuzz.test_fuzz import TOTALS

    if TOTALS["cases"]:
        terminalreporter.write_line(f"fuzz: {TOTALS['cases']} generated requests over {TOTALS['operations']} "
                                    "operations (each checked: no 5xx, errors in the contract's shape)")
