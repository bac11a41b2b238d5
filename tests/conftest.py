"""What every suite shares: an environment that can never reach real AWS (set before anything
imports boto3), and captured logs. The moto world (`aws`, `world`, `client`) lives in
tests/aws_world.py and is imported by the conftests of the suites that use it; tests/unit runs on
the fakes of tests/fakes.py and never loads moto."""

from __future__ import annotations

import os

# Before anything imports boto3: no real endpoint, fake credentials, one region.
for _var in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
    os.environ.pop(_var)
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "LEADLINE_JWT_SECRET": "test-secret-0123456789abcdef0123456789", "LEADLINE_STAGE": "test",
    "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_METRICS_NAMESPACE": "LeadlineTest",
    "POWERTOOLS_DEV": "0", "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "1",
    # Where the tests' Twilio requests say they were sent (tests/integration/conversations_support.HOST).
    "LEADLINE_PUBLIC_BASE_URL": "https://hooks.leadline-demo.com",
})

import io  # noqa: E402
import logging  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """What the app logs during the test, every level: the Powertools logger binds its stream at
    import (FIELD-NOTES), so the test swaps the handler's stream rather than using capsys."""
    from chalicelib.observability import logger

    stream = io.StringIO()
    handler = logger.registered_handler
    old_stream, old_level = handler.stream, logger.log_level
    handler.setStream(stream)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        handler.setStream(old_stream)
        logger.setLevel(old_level)
