"""Click-to-call and logged activities through the HTTP surface under moto: the sandbox dialer
records the call, Twilio's voice and status webhooks (signed like SMS) fold into one `call` event
that answers the lead when completed; forged webhooks are 403 and store nothing; the 409s; an
activity is a timeline event and a response."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.integration.conversations_support import (
    Store,
    current,
    lead,
    report_events,
    sent,
    store,
    timeline,
    twilio_post,
)
from tests.support import World


def _agent_with_phone(world: World, s: Store) -> None:
    assert world.patch("/me", s.agent_token, {"phone": "+13125550111"}).status == 200


def _placed(world: World, s: Store) -> dict[str, Any]:
    [call] = [x for x in sent(world, s) if x["channel"] == "voice"]
    return call


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _status(world: World, url: str, status: str, **more: str) -> Any:
    return twilio_post(world, _path(url), {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "0" * 32,
                                           "CallStatus": status, **more})


def test_a_call_rings_the_agent_bridges_the_customer_and_answers_the_lead(world: World) -> None:
    s = store(world)
    _agent_with_phone(world, s)
    made = lead(world, s)
    reply = world.post(f"/leads/{made.lead_id}/call", s.agent_token)
    assert reply.status == 202 and reply.json["status"] == "queued"
    call_id = reply.json["call_id"]
    placed = _placed(world, s)
    assert (placed["to"], placed["sender"], placed["customer"], placed["call_id"]) == (
        "+13125550111", "+13125550100", "+13125550199", call_id)

    voice = twilio_post(world, _path(placed["answer_url"]), {"CallSid": placed["provider_id"],
                                                            "CallStatus": "in-progress"})
    assert voice.status == 200 and voice.headers["Content-Type"] == "text/xml"
    twiml = voice.body.decode()
    assert "Acme Honda call to Maria Lopez" in twiml and ">+13125550199</Number>" in twiml
    customer_url = twiml.split('statusCallback="')[1].split('"')[0].replace("&amp;", "&")

    for url, status, extra in [(placed["status_url"], "initiated", {}), (placed["status_url"], "ringing", {}),
                               (placed["status_url"], "in-progress", {}), (customer_url, "ringing", {}),
                               (customer_url, "in-progress", {}), (customer_url, "completed", {"CallDuration": "62"}),
                               (customer_url, "completed", {"CallDuration": "62"}),  # retried by Twilio
                               (placed["status_url"], "completed", {"CallDuration": "80"})]:
        assert _status(world, url, status, **extra).status == 204
    [event] = timeline(world, made.lead_id, "call")
    assert (event["call_id"], event["status"], event["duration_s"], event["by"]) == (
        call_id, "completed", 62, s.agent["user_id"])
    after = current(world, made.lead_id)
    assert after.awaiting_since is None and after.first_response_at is not None
    [response] = report_events(world, s, "human_response")
    assert response["data"]["activity"] == "call" and response["user_id"] == s.agent["user_id"]


def test_forged_voice_and_status_webhooks_are_403_and_store_nothing(world: World) -> None:
    s = store(world)
    _agent_with_phone(world, s)
    made = lead(world, s)
    world.post(f"/leads/{made.lead_id}/call", s.agent_token)
    placed = _placed(world, s)
    before = timeline(world, made.lead_id)
    params = {"CallSid": "CA" + "1" * 32, "CallStatus": "completed", "CallDuration": "60"}
    for path in (_path(placed["status_url"]), _path(placed["answer_url"])):
        assert twilio_post(world, path, params, token="not-the-auth-token").status == 403
        assert twilio_post(world, path, params, signature="").status == 403
    # A genuine signature over another call's URL does not move this one.
    other = _path(placed["status_url"]).replace(placed["call_id"], "call_01NOTTHISONE")
    from twilio.request_validator import RequestValidator

    from tests.integration.conversations_support import HOST

    forged = RequestValidator("dev-twilio-token").compute_signature(f"https://{HOST}{other}", params)
    assert twilio_post(world, _path(placed["status_url"]), params, signature=forged).status == 403
    assert timeline(world, made.lead_id) == before
    assert report_events(world, s, "human_response") == []
    assert current(world, made.lead_id).awaiting_since is not None


def test_the_conflicts_of_a_call(world: World) -> None:
    s = store(world)
    made = lead(world, s)
    reply = world.post(f"/leads/{made.lead_id}/call", s.agent_token)
    assert (reply.status, reply.error_code) == (409, "no_agent_phone")
    _agent_with_phone(world, s)
    email_only = lead(world, s, phone=None, email="nophone@example.com")
    reply = world.post(f"/leads/{email_only.lead_id}/call", s.agent_token)
    assert (reply.status, reply.error_code) == (409, "no_phone")
    assert timeline(world, email_only.lead_id, "call") == []
    # opted out of messages, but a person may still call
    assert world.post(f"/leads/{made.lead_id}/opt-out", s.agent_token).status == 200
    assert world.post(f"/leads/{made.lead_id}/call", s.agent_token).status == 202


def test_a_logged_activity_is_a_timeline_event_and_a_response(world: World) -> None:
    s = store(world)
    made = lead(world, s)
    world.clock.advance(seconds=1800)
    reply = world.post(f"/leads/{made.lead_id}/activities", s.agent_token,
                       {"kind": "call", "note": "Called from the showroom phone, left a voicemail",
                        "at": "2026-11-02T15:10:00-00:00"})
    assert reply.status == 201, reply.json
    assert (reply.json["type"], reply.json["kind"]) == ("activity", "call")
    assert reply.json["at"] == "2026-11-02T15:10:00.000Z"
    [event] = timeline(world, made.lead_id, "activity")
    assert event["note"].startswith("Called from the showroom") and event["by"] == s.agent["user_id"]
    after = current(world, made.lead_id)
    assert after.awaiting_since is None and after.first_response_at == "2026-11-02T15:10:00.000Z"
    bad = world.post(f"/leads/{made.lead_id}/activities", s.agent_token, {"kind": "fax", "note": ""})
    assert bad.status == 400
    assert {d["field"] for d in bad.json["error"]["details"]} == {"kind", "note"}
    future = world.post(f"/leads/{made.lead_id}/activities", s.agent_token,
                        {"kind": "task", "note": "x", "at": "2026-11-03T15:00:00Z"})
    assert (future.status, future.json["error"]["details"][0]["field"]) == (400, "at")
    other = world.tenant(name="Other", email="boss@other.com")
    assert world.post(f"/leads/{made.lead_id}/activities", other.token, {"kind": "task", "note": "x"}).status == 404
