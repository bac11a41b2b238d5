"""The call state machine (domain/calls.fold): each leg only moves forward, the call's one status
follows from both legs, a call is completed only when the customer's leg was answered and ended;
and the bridge TwiML. Pure: no AWS."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import calls

AT = "2026-11-02T15:00:00.000Z"


def run(steps: list[tuple[str, str, str | None]]) -> tuple[dict[str, Any], int]:
    """Apply (leg, status, duration) callbacks; the call's data and how often it completed."""
    call: dict[str, Any] = {"status": "queued", "version": 0}
    completions = 0
    for leg, status, duration in steps:
        update = calls.fold(call, leg, status, duration, AT)  # type: ignore[arg-type]
        if update is not None:
            call = {**call, **update.fields}
            completions += update.completed
    return call, completions


HAPPY = [("agent", "initiated", None), ("agent", "ringing", None), ("agent", "in-progress", None),
         ("customer", "initiated", None), ("customer", "ringing", None), ("customer", "answered", None),
         ("customer", "completed", "74"), ("agent", "completed", "90")]


def test_a_bridged_call_completes_once_with_the_customer_legs_duration() -> None:
    call, completions = run(HAPPY)
    assert call["status"] == "completed" and call["duration_s"] == 74 and completions == 1
    assert call["agent_duration_s"] == 90 and call["answered_at"] == AT and call["ended_at"] == AT


def test_repeats_and_late_statuses_change_nothing() -> None:
    call, _ = run(HAPPY)
    for leg, status, duration in HAPPY:
        assert calls.fold(call, leg, status, duration, AT) is None  # type: ignore[arg-type]
    assert calls.fold(call, "customer", "ringing", None, AT) is None
    assert calls.fold(call, "agent", "bogus", None, AT) is None


def test_nobody_reached_is_never_completed() -> None:
    assert run([("agent", "ringing", None), ("agent", "no-answer", "0")])[0]["status"] == "no-answer"
    # the agent answered, but hung up during the whisper
    assert run([("agent", "in-progress", None), ("agent", "completed", "5")])[0]["status"] == "canceled"
    # the customer did not pick up, in either order of the legs' final callbacks
    for order in itertools.permutations([("customer", "no-answer", "0"), ("agent", "completed", "30")]):
        call, completions = run([("agent", "in-progress", None), ("customer", "ringing", None), *order])
        assert (call["status"], completions) == ("no-answer", 0)
    assert run([("agent", "in-progress", None), ("customer", "busy", None)])[0]["status"] == "busy"


legs = st.sampled_from([*HAPPY, ("customer", "no-answer", "0"), ("agent", "failed", None)])


@given(st.lists(legs, max_size=12))
def test_any_order_completes_at_most_once_and_only_with_the_customer(steps: list[Any]) -> None:
    call, completions = run(steps)
    assert completions <= 1
    assert (call["status"] == "completed") == (completions == 1)
    if completions:
        assert call["customer_status"] == "completed" and call["duration_s"] == 74


def test_completed_at_is_when_the_customer_answered() -> None:
    assert calls.completed_at({"answered_at": "2026-11-02T15:01:00.000Z"}, {}).isoformat().startswith(
        "2026-11-02T15:01:00")
    at = calls.completed_at({}, {"ended_at": "2026-11-02T15:05:00.000Z", "duration_s": 60})
    assert at.isoformat().startswith("2026-11-02T15:04:00")


def test_bridge_twiml_whispers_and_dials_from_the_store() -> None:
    whisper = calls.whisper_text("Maria <Lopez> & co", "2024 Honda Civic", "Acme Honda")
    assert whisper == "Acme Honda call to Maria Lopez co, about the 2024 Honda Civic. Connecting now."
    twiml = calls.bridge_twiml(whisper, "+13125550100", "+13125550177", "https://x.test/s?a=1&b=2")
    assert twiml.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Say>Acme Honda call to')
    assert '<Dial callerId="+13125550100" answerOnBridge="true" timeout="25">' in twiml
    assert 'statusCallback="https://x.test/s?a=1&amp;b=2"' in twiml and ">+13125550177</Number>" in twiml
    assert "<Hangup />" in calls.hangup_twiml("bye")


# -- the live dialer (HTTP captured) -----------------------------------------------------

def test_twilio_dialer_rings_the_agent_on_the_stores_subaccount(monkeypatch: Any) -> None:
    import io
    import json
    import urllib.error
    import urllib.request
    from urllib.parse import parse_qsl

    import pytest

    from chalicelib.adapters.dialer import TwilioDialer
    from chalicelib.domain.messaging import SendFailed
    from tests.support import JsonHttpResponse

    sent: list[urllib.request.Request] = []

    def answering(request: urllib.request.Request, timeout: float) -> JsonHttpResponse:
        sent.append(request)
        return JsonHttpResponse({"sid": "CA123", "status": "queued"})

    monkeypatch.setattr(urllib.request, "urlopen", answering)
    request = calls.CallRequest(to="+13125550111", caller_id="+13125550100", account_id="acc_1", call_id="call_1",
                                answer_url="https://api.example.com/webhooks/twilio/voice?call_id=call_1",
                                status_url="https://api.example.com/webhooks/twilio/call-status?call_id=call_1",
                                customer="+13125550199", twilio_account_sid="AC2")
    assert TwilioDialer("AC1", "tok").place(request) == "CA123"
    [posted] = sent
    assert posted.full_url == "https://api.twilio.com/2010-04-01/Accounts/AC2/Calls.json"
    form = parse_qsl((posted.data or b"").decode())  # type: ignore[union-attr]
    assert ("To", "+13125550111") in form and ("From", "+13125550100") in form
    assert ("Url", request.answer_url) in form and ("StatusCallback", request.status_url) in form
    assert {v for k, v in form if k == "StatusCallbackEvent"} == {"initiated", "ringing", "answered", "completed"}
    assert posted.get_header("Authorization", "").startswith("Basic ")

    def refusing(status: int, twilio_code: int) -> Any:
        def urlopen(request: urllib.request.Request, timeout: float) -> Any:
            body = io.BytesIO(json.dumps({"code": twilio_code, "message": "nope"}).encode())
            raise urllib.error.HTTPError(request.full_url, status, "err", {}, body)  # type: ignore[arg-type]
        return urlopen

    for status, code, permanent in ((400, 21215, True), (429, 20429, False)):
        monkeypatch.setattr(urllib.request, "urlopen", refusing(status, code))
        with pytest.raises(SendFailed) as err:
            TwilioDialer("AC1", "tok").place(request)
        assert err.value.permanent is permanent
