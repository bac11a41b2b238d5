"""Powertools logger, tracer and metrics, created once and wired in app.py.

Log lines carry ids, never a phone number, an email address or a message body:
`redact` is the one place that decides what a log line may show of a contact.

The tracer is built on first use and only where tracing can work (inside Lambda with
tracing on): constructing it imports the X-Ray SDK, ~200 ms that a cold start (and every
local process) would otherwise pay for nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = "leadline"

logger = Logger(service=SERVICE)
# The stage's POWERTOOLS_METRICS_NAMESPACE wins (benches and the local stack set their own).
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Leadline", service=SERVICE)

_tracer: Any = None


def tracing_enabled() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true")
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not disabled


def get_tracer() -> Any:
    global _tracer
    if _tracer is None:
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(service=SERVICE)
    return _tracer


def trace_handler(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware ('all'): an X-Ray subsegment per invocation when tracing is on."""
    if not tracing_enabled():
        return get_response(event)
    tracer = get_tracer()
    with tracer.provider.in_subsegment("## handler") as subsegment:
        subsegment.put_annotation(key="ColdStart", value=_cold_start())
        return get_response(event)


_cold = True


def _cold_start() -> bool:
    global _cold
    was, _cold = _cold, False
    return was


def observe_http(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware ('http'): one access line per request and the count of its status class
    (`flush_metrics` publishes). The line names the route's template, never the path or query as
    sent: those carry search text (`q=` may be a phone number or an email address)."""
    started = time.perf_counter()
    response = get_response(event)
    status = getattr(response, "status_code", 200)
    metrics.add_metric(name=f"Http{status // 100}xx", unit=MetricUnit.Count, value=1)
    context = getattr(event, "context", None) or {}
    logger.info("http request", extra={
        "method": getattr(event, "method", None), "route": context.get("resourcePath"), "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    return response


def flush_metrics(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware ('all', registered before every middleware that adds metrics): one EMF
    line per invocation of any kind, with what the invocation recorded, even when it raised.

    Not Powertools' `log_metrics`: it warns "No application metrics to publish" after every
    invocation that recorded none (most queue batches and schedules). And with
    POWERTOOLS_METRICS_DISABLED, Powertools' flush neither prints nor clears, while `add_metric`
    prints a full set regardless once a metric holds 100 values; clearing here keeps a
    long-lived local process quiet and its memory flat."""
    try:
        return get_response(event)
    finally:
        if metrics.metric_set:
            if is_metrics_disabled():
                metrics.clear_metrics()
            else:
                metrics.flush_metrics()


def redact(value: str | None) -> str:
    if not value:
        return ""
    return f"<{len(value)} chars>"
