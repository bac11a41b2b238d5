"""Click-to-call and logged activities on fakes: the call is placed from the store's number to the
agent's phone, the signed status callbacks fold into one `call` event, a completed call answers
the lead once; forged callbacks change nothing; the 409s; an activity is a response at its time."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.domain.errors import Conflict, Forbidden, ValidationFailed
from chalicelib.domain.messaging import SendFailed
from chalicelib.domain.signatures import twilio_signature
from chalicelib.services import activities, calls, lead_actions
from chalicelib.services.signing import TwilioPost
from tests.unit.services.shop import Shop, shop

TOKEN = "dev-twilio-token"


def _with_phone(s: Shop) -> Shop:
    agent = s.agents[0]
    s.agents[0] = agent.model_copy(update={"phone": "+13125550111"})
    s.deps.state.users[agent.user_id] = s.agents[0]
    return s


def signed(url: str, form: dict[str, str], token: str = TOKEN) -> tuple[TwilioPost, dict[str, str]]:
    fields = {k: [v] for k, v in form.items()}
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return TwilioPost(form=fields, signature=twilio_signature(token, url, fields), urls=[url]), query


def status(s: Shop, url: str, leg_status: str, **extra: str) -> str | None:
    post, query = signed(url, {"CallSid": "CA1", "CallStatus": leg_status, **extra})
    return calls.call_status_arrived(s.deps, post, query)


def _call(s: Shop) -> tuple[str, str, str]:
    lead = s.lead()
    started = calls.start_call(s.deps, s.principal(s.agents[0]), lead.lead_id)
    [placed] = s.deps.dialer.placed  # type: ignore[attr-defined]
    return lead.lead_id, started["call_id"], placed.status_url


def test_the_agent_is_rung_from_the_store_and_the_call_event_follows_both_legs() -> None:
    s = _with_phone(shop())
    lead_id, call_id, agent_url = _call(s)
    [placed] = s.deps.dialer.placed  # type: ignore[attr-defined]
    assert (placed.to, placed.caller_id, placed.customer) == ("+13125550111", "+13125550100", "+13125550177")
    event = s.deps.state.events[lead_id][call_id]
    assert (event.type, event.by, event.data["status"], event.data["provider_id"]) == (
        "call", s.agents[0].user_id, "queued", "CA" + "0" * 31 + "1")
    assert s.current(lead_id).awaiting_since is not None

    # the agent answers: Twilio asks for the bridge
    post, query = signed(placed.answer_url, {"CallSid": "CA1", "CallStatus": "in-progress"})
    twiml = calls.voice_answered(s.deps, post, query)
    assert "Acme Honda call to Maria" in twiml and ">+13125550177</Number>" in twiml
    customer_url = twiml.split('statusCallback="')[1].split('"')[0].replace("&amp;", "&")
    assert "leg=customer" in customer_url

    assert status(s, agent_url, "ringing") == "ringing"
    assert status(s, agent_url, "in-progress") == "in-progress"
    assert status(s, customer_url, "ringing") == "in-progress"  # the call stays in progress
    assert status(s, customer_url, "answered") == "in-progress"
    assert s.current(lead_id).awaiting_since is not None
    assert status(s, customer_url, "completed", CallDuration="95") == "completed"
    assert status(s, customer_url, "completed", CallDuration="95") is None  # Twilio retried it
    assert status(s, agent_url, "completed", CallDuration="110") == "completed"  # its own leg ends
    lead = s.current(lead_id)
    assert lead.awaiting_since is None and lead.first_response_at is not None
    data = s.deps.state.events[lead_id][call_id].data
    assert (data["status"], data["duration_s"], data["agent_duration_s"]) == ("completed", 95, 110)
    responses = [r for r in s.deps.state.reports if r.kind == "human_response" and r.lead_id == lead_id]
    assert [(r.data["activity"], r.user_id) for r in responses] == [("call", s.agents[0].user_id)]


def test_an_unanswered_call_is_no_response() -> None:
    s = _with_phone(shop())
    lead_id, _call_id, agent_url = _call(s)
    assert status(s, agent_url, "no-answer") == "no-answer"
    assert s.current(lead_id).awaiting_since is not None and s.current(lead_id).first_response_at is None


def test_forged_callbacks_are_refused_and_change_nothing() -> None:
    s = _with_phone(shop())
    lead_id, call_id, agent_url = _call(s)
    before = s.deps.state.events[lead_id][call_id]
    post, query = signed(agent_url, {"CallSid": "CA1", "CallStatus": "completed"}, token="not-the-token")
    with pytest.raises(Forbidden):
        calls.call_status_arrived(s.deps, post, query)
    post, query = signed(agent_url.replace(call_id, "call_other"), {"CallSid": "CA1", "CallStatus": "completed"})
    moved = TwilioPost(form=post.form, signature=post.signature, urls=[agent_url])
    with pytest.raises(Forbidden):  # a signature made for another call's URL
        calls.call_status_arrived(s.deps, moved, {k: v for k, v in signed(agent_url, {})[1].items()})
    unsigned = TwilioPost(form={"CallStatus": ["completed"]}, signature=None, urls=[agent_url])
    with pytest.raises(Forbidden):
        calls.voice_answered(s.deps, unsigned, query)
    assert s.deps.state.events[lead_id][call_id] == before


def test_a_genuine_callback_about_an_unknown_call_or_leg() -> None:
    s = _with_phone(shop())
    _lead_id, call_id, agent_url = _call(s)
    gone = agent_url.replace(call_id, "call_unknown")
    assert status(s, gone, "completed") is None
    with pytest.raises(ValidationFailed):
        status(s, agent_url.replace("leg=agent", "leg=nobody"), "ringing")


def test_calls_need_the_agents_phone_the_leads_number_and_the_stores() -> None:
    s = shop()
    lead = s.lead()
    with pytest.raises(Conflict) as err:
        calls.start_call(s.deps, s.principal(s.agents[0]), lead.lead_id)
    assert err.value.code == "no_agent_phone"
    _with_phone(s)
    email_only = s.lead(phone=None, email="only@mail.com")
    with pytest.raises(Conflict) as err:
        calls.start_call(s.deps, s.principal(s.agents[0]), email_only.lead_id)
    assert err.value.code == "no_phone"
    s.deps.state.accounts[s.account.account_id] = s.account.model_copy(update={"sms_number": None})
    with pytest.raises(Conflict) as err:
        calls.start_call(s.deps, s.principal(s.agents[0]), lead.lead_id)
    assert err.value.code == "no_store_number"


def test_an_opted_out_lead_can_still_be_called() -> None:
    s = _with_phone(shop())
    lead = s.lead()
    lead_actions.agent_opt_out(s.deps, s.principal(s.agents[0]), lead.lead_id)
    assert calls.start_call(s.deps, s.principal(s.agents[0]), lead.lead_id)["status"] == "queued"


def test_a_refused_call_is_shown_failed() -> None:
    s = _with_phone(shop())
    lead = s.lead()
    s.deps.dialer.fail_with = SendFailed("HTTP 400: 21214 To number cannot be reached", permanent=True)  # type: ignore[attr-defined]
    started = calls.start_call(s.deps, s.principal(s.agents[0]), lead.lead_id)
    data = s.deps.state.events[lead.lead_id][started["call_id"]].data
    assert started["status"] == data["status"] == "failed" and "21214" in data["error"]


def test_a_logged_activity_answers_the_lead_at_its_own_time() -> None:
    s = shop()
    lead = s.lead()
    s.clock.advance(seconds=3600)
    event = activities.log_activity(s.deps, s.principal(s.agents[0]), lead.lead_id, "visit", "came by, test drove",
                                    at="2026-11-02T15:20:00Z")
    assert (event.type, event.at, event.data["kind"]) == ("activity", "2026-11-02T15:20:00.000Z", "visit")
    current = s.current(lead.lead_id)
    assert current.awaiting_since is None and current.first_response_at == "2026-11-02T15:20:00.000Z"
    [response] = [r for r in s.deps.state.reports if r.kind == "human_response"]
    assert (response.at, response.data["activity"], response.data["activity_kind"]) == (
        "2026-11-02T15:20:00.000Z", "activity", "visit")
    for bad in ("2026-11-02T14:00:00Z", "2026-11-02T17:00:00Z"):  # before the lead, in the future
        with pytest.raises(ValidationFailed) as err:
            activities.log_activity(s.deps, s.principal(s.agents[0]), lead.lead_id, "call", "x", at=bad)
        assert err.value.details[0]["field"] == "at"
