"""boto3 clients, created lazily and cached.

Nothing here runs at import time: moto's `mock_aws` only sees clients made after it
starts, and a Lambda cold start should not pay for clients a route never uses.
`reset_clients()` drops the cache (tests, and the local stack after it repoints
`AWS_ENDPOINT_URL`)."""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[str, Any] = {}
_lock = threading.Lock()

# AWS answers that mean "not now", not "never", still there after the clients' own retries.
SLOW_DOWN_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "TransactionInProgressException", "ServiceUnavailable", "InternalServerError",
})


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(service)
        if found is None:
            import boto3
            from botocore.config import Config

            # s3v4 so presigned report links carry X-Amz-Expires (seconds) rather than an absolute time.
            extra = {"signature_version": "s3v4"} if service == "s3" else {}
            # The local stack's request and consumer threads share one client; on Lambda the pool
            # only fills as far as a request's fan-out (FANOUT_THREADS).
            found = _session(boto3).client(
                service, config=Config(retries={"mode": "standard", "max_attempts": 4}, max_pool_connections=32,
                                       **extra)
            )
            _clients[service] = found
        return found


_loader: Any = None
_session_now: Any = None


def _session(boto3: Any) -> Any:
    """One session per `reset_clients` (endpoint and credentials read from the environment then),
    all sharing one botocore data loader: parsing the service models again costs ~0.5 s a client.
    Called under `_lock`."""
    import botocore.session

    global _loader, _session_now
    if _session_now is None:
        core = botocore.session.Session()
        if _loader is None:
            _loader = core.get_component("data_loader")
        else:
            core.register_component("data_loader", _loader)
        _session_now = boto3.session.Session(botocore_session=core)
    return _session_now


def reset_clients() -> None:
    global _session_now
    with _lock:
        _clients.clear()
        _session_now = None


def aws_error_code(exc: BaseException) -> str:
    """The error code of an AWS ClientError ("UserNotFoundException", ...); "" for anything else."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def asked_to_slow_down(exc: BaseException) -> str | None:
    """The AWS error code when `exc` is AWS saying "retry later", else None."""
    code = aws_error_code(exc)
    return code if code in SLOW_DOWN_CODES else None
