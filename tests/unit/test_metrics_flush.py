"""Metrics are published once per invocation, as one EMF line on stdout (Powertools' documented
way to test metrics: capture stdout and parse the JSON), and never when disabled.

GET /health needs no AWS, so these run the real app (its middleware as app.py wires it)
through chalice's test client without moto."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.observability import flush_metrics, metrics


@pytest.fixture(autouse=True)
def clean_metrics() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def emf_lines(captured: str) -> list[dict[str, Any]]:
    found = []
    for line in captured.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "_aws" in record:
            found.append(record)
    return found


def metric_names(record: dict[str, Any]) -> list[str]:
    return [m["Name"] for d in record["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]


def test_an_http_request_flushes_one_emf_line_with_its_status_class(monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    with Client(app) as client:
        reply = client.http.get("/health")
    assert reply.status_code == 200
    lines = emf_lines(capsys.readouterr().out)
    assert len(lines) == 1
    assert metric_names(lines[0]) == ["Http2xx"]
    assert lines[0]["Http2xx"] == [1.0]
    assert not metrics.metric_set


def test_each_request_is_its_own_flush(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    with Client(app) as client:
        assert client.http.get("/health").status_code == 200
        assert client.http.get("/me/offers").status_code == 401  # no token: refused before any AWS call
    lines = emf_lines(capsys.readouterr().out)
    assert [metric_names(line) for line in lines] == [["Http2xx"], ["Http4xx"]]


def test_disabled_metrics_print_nothing_even_after_a_hundred_requests(monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # Powertools' add_metric prints a metric that reaches 100 values whether or not metrics are
    # disabled: without a per-invocation clear, the 100th request of a local process printed one.
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with Client(app) as client:
        for _ in range(101):
            assert client.http.get("/health").status_code == 200
    assert emf_lines(capsys.readouterr().out) == []
    assert not metrics.metric_set


def test_an_invocation_that_records_no_metric_prints_and_warns_nothing(monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # A queue batch or a schedule: Powertools' own log_metrics would warn "No application metrics".
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert flush_metrics({"Records": []}, lambda event: {"batchItemFailures": []}) == {"batchItemFailures": []}
    assert emf_lines(capsys.readouterr().out) == []


def test_metrics_recorded_before_a_failure_are_still_flushed(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")

    def failing(event: Any) -> Any:
        metrics.add_metric(name="Http5xx", unit="Count", value=1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        flush_metrics({}, failing)
    lines = emf_lines(capsys.readouterr().out)
    assert [metric_names(line) for line in lines] == [["Http5xx"]]
