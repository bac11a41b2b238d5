"""Powertools logger, tracer and metrics, created once and wired in app.py.

Log lines carry ids, never a phone number, an email address or a message body:
`redact` is the one place that decides what a log line may show of a contact."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "leadline"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="Leadline", service=SERVICE)


def redact(value: str | None) -> str:
    if not value:
        return ""
    return f"<{len(value)} chars>"
