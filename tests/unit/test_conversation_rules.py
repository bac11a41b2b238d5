"""Pure conversation rules: signatures against Twilio's own validator, consent words, quiet hours
across zones and DST, smart fields, the Messenger window, ADF output; and the live senders'
requests (the HTTP call is captured, never made)."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request
from datetime import UTC, datetime
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from chalicelib.adapters.senders import MetaSender, TwilioSender
from chalicelib.domain import conversations as rules
from chalicelib.domain.accounts import Account
from chalicelib.domain.adf_out import lead_to_adf, transcript
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.leads import Lead, Vehicle
from chalicelib.domain.messaging import OutboundMessage, SendFailed
from chalicelib.domain.signatures import meta_signature, twilio_signature, valid_meta_signature, valid_twilio_signature
from chalicelib.domain.timeline import TimelineEvent
from tests.support import JsonHttpResponse

URL = "https://hooks.example.com/webhooks/twilio/sms"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# -- signatures ------------------------------------------------------------------------

@given(st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=40), max_size=8))
def test_twilio_signature_matches_twilios_validator(params: dict[str, str]) -> None:
    expected = RequestValidator("tok3n").compute_signature(URL, params)
    assert twilio_signature("tok3n", URL, {k: [v] for k, v in params.items()}) == expected
    assert valid_twilio_signature("tok3n", URL, {k: [v] for k, v in params.items()}, expected)


def test_twilio_signature_refuses_changes_and_accepts_the_default_port() -> None:
    params = {"Body": ["hi"], "From": ["+13125550199"]}
    good = RequestValidator("tok3n").compute_signature(URL, {"Body": "hi", "From": "+13125550199"})
    assert valid_twilio_signature("tok3n", "https://hooks.example.com:443/webhooks/twilio/sms", params, good)
    assert not valid_twilio_signature("tok3n", URL, {**params, "Body": ["hI"]}, good)
    assert not valid_twilio_signature("other", URL, params, good)
    assert not valid_twilio_signature("tok3n", URL, params, None)
    assert not valid_twilio_signature("", URL, params, good)


def test_meta_signature_is_the_documented_hmac_sha256() -> None:
    body = b'{"object":"page","entry":[]}'
    documented = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert meta_signature("app-secret", body) == documented
    assert valid_meta_signature("app-secret", body, documented)
    assert valid_meta_signature("app-secret", body, documented.upper().replace("SHA256", "sha256"))
    assert not valid_meta_signature("app-secret", body + b" ", documented)
    assert not valid_meta_signature("app-secret", body, None)


# -- consent ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,meaning", [
    ("STOP", "stop"), (" stop ", "stop"), ("StopAll", "stop"), ("unsubscribe", "stop"), ("Cancel", "stop"),
    ("end", "stop"), ("QUIT", "stop"), ("revoke", "stop"), ("optout", "stop"), ("\tSTOP\n", "stop"),
    ("start", "start"), ("UNSTOP", "start"), ("yes", "start"), ("help", "help"), ("Info", "help"),
    ("stop please", None), ("please stop by", None), ("STOP!", None), ("", None), (None, None),
])
def test_consent_keywords(text: str | None, meaning: str | None) -> None:
    assert rules.consent_keyword(text) == meaning


# -- quiet hours -----------------------------------------------------------------------

def test_quiet_hours_in_one_zone_across_the_dst_change() -> None:
    zones = ("America/Chicago",)
    assert rules.next_allowed_send(_at("2026-11-02T15:00:00Z"), zones) == _at("2026-11-02T15:00:00Z")
    # 21:00 CST is quiet; the next 08:00 CST is 14:00Z.
    assert rules.next_allowed_send(_at("2026-11-03T03:00:00Z"), zones) == _at("2026-11-03T14:00:00Z")
    # 07:59 local is still quiet: 08:00 the same day.
    assert rules.next_allowed_send(_at("2026-11-03T13:59:00Z"), zones) == _at("2026-11-03T14:00:00Z")
    # Saturday night before the fall-back (CDT -> CST): 08:00 CST on Sunday is 14:00Z.
    assert rules.next_allowed_send(_at("2026-11-01T03:30:00Z"), zones) == _at("2026-11-01T14:00:00Z")


def test_quiet_hours_wait_for_every_candidate_zone() -> None:
    zones = ("America/New_York", "America/Chicago")
    # 08:30 in New York is 07:30 in Chicago: wait for Chicago's 08:00.
    assert rules.next_allowed_send(_at("2026-11-03T13:30:00Z"), zones) == _at("2026-11-03T14:00:00Z")
    assert rules.is_quiet(_at("2026-11-03T13:30:00Z"), zones)


def test_recipient_zones() -> None:
    assert rules.recipient_zones(("America/New_York",), "America/Chicago") == ("America/New_York",)
    assert rules.recipient_zones((), "America/Chicago") == ("America/Chicago",)
    many = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Pacific/Honolulu")
    assert rules.recipient_zones(many, "America/Denver") == ("America/Denver",)
    assert rules.recipient_zones(("America/Chicago", "America/Denver"), "America/Denver") == ("America/Denver",)


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)))
def test_next_allowed_send_is_never_quiet_and_never_early(at: datetime) -> None:
    zones = ("America/New_York", "America/Los_Angeles")
    allowed = rules.next_allowed_send(at, zones)
    assert allowed >= at and not rules.is_quiet(allowed, zones)
    assert (allowed - at).total_seconds() < 2 * 86400


# -- smart fields ----------------------------------------------------------------------

def _lead(**fields: Any) -> Lead:
    base: dict[str, Any] = {"lead_id": "lead_1", "account_id": "acc_1", "group_id": "grp_1",
                            "created_at": "2026-11-02T15:00:00.000Z", "received_at": "2026-11-02T15:00:00.000Z",
                            "last_activity_at": "2026-11-02T15:00:00.000Z", "first_name": "Maria",
                            "last_name": "Lopez", "phone": "+13125550199", "source": "Cars.com"}
    return Lead.model_validate({**base, **fields})


def _account(**fields: Any) -> Account:
    base: dict[str, Any] = {"account_id": "acc_1", "group_id": "grp_1", "name": "Acme Honda",
                            "timezone": "America/Chicago", "created_at": "x", "updated_at": "x",
                            "address": "1200 N Clark St", "directions_url": "https://maps.example.com/a"}
    return Account.model_validate({**base, **fields})


def test_render_fills_fields_and_names_unknown_ones() -> None:
    values = rules.smart_field_values(_lead(), _account(), "Sam Reed")
    text = rules.render("Hi {{lead.first_name}}! {{agent.first_name}} at {{ account.name }}", values)
    assert text == "Hi Maria! Sam at Acme Honda"
    with pytest.raises(ValidationFailed) as err:
        rules.render("Hi {{lead.nick}} {{lead.first_name}}", values, field="saved_reply_id")
    assert err.value.details == [{"field": "saved_reply_id", "message": "unknown smart field {{lead.nick}}"}]


def test_render_empty_values_use_fallbacks_or_disappear() -> None:
    values = rules.smart_field_values(_lead(first_name=None, last_name=None), _account(address=None), None)
    assert rules.render("Hi {{lead.first_name}}, see you!", values) == "Hi, see you!"
    assert rules.render("Hi {{lead.first_name|there}}, see you!", values) == "Hi there, see you!"
    assert rules.render("We are at {{account.address}} today", values) == "We are at today"
    assert "{{" not in rules.render("{{lead.first_name}}", values)


def test_a_value_that_looks_like_a_field_is_not_expanded_again() -> None:
    values = rules.smart_field_values(_lead(first_name="{{account.name}}"), _account(), None)
    assert rules.render("Hi {{lead.first_name}}", values) == "Hi {{account.name}}"


def test_kind_templates_need_the_store_link() -> None:
    assert "{{account.directions_url}}" in rules.kind_template("directions", _account())
    with pytest.raises(ValidationFailed):
        rules.kind_template("voucher", _account())


# -- Messenger window, delivery order --------------------------------------------------

def test_messenger_window() -> None:
    last = _at("2026-11-02T15:00:00Z")
    assert rules.messenger_tag(last, _at("2026-11-03T14:59:00Z"), human=False) is None
    assert rules.messenger_tag(last, _at("2026-11-05T15:00:00Z"), human=True) == "HUMAN_AGENT"
    with pytest.raises(Conflict):
        rules.messenger_tag(last, _at("2026-11-05T15:00:00Z"), human=False)
    with pytest.raises(Conflict):
        rules.messenger_tag(last, _at("2026-11-09T15:00:01Z"), human=True)
    with pytest.raises(Conflict):
        rules.messenger_tag(None, last, human=True)


def test_delivery_states_only_move_forward() -> None:
    assert rules.statuses_before("sent") == ("queued",)
    assert "delivered" not in rules.statuses_before("sent")
    assert set(rules.statuses_before("delivered")) == {"queued", "sent"}


# -- ADF -------------------------------------------------------------------------------

def test_adf_out_is_parseable_and_escapes_text() -> None:
    lead = _lead(last_name="O'Brien & Sons <LLC>", vehicle=Vehicle(year=2021, make="Honda", model="Civic"))
    events = [TimelineEvent(event_id="msg_1", lead_id="lead_1", type="message", at="2026-11-02T15:00:00.000Z",
                            data={"direction": "inbound", "channel": "sms", "body": "Price <best>?",
                                  "status": "received"})]
    comments = transcript(events, lead, "America/Chicago")
    assert comments == "2026-11-02 09:00 CST  Maria O'Brien & Sons <LLC> (sms): Price <best>?"
    xml = lead_to_adf(lead, _account(), comments)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<?adf version="1.0"?>')
    prospect = SafeET.fromstring(xml.split("?>", 2)[-1]).find("prospect")
    assert prospect.findtext("customer/comments") == comments
    assert prospect.findtext("requestdate") == "2026-11-02T09:00:00-06:00"
    assert prospect.findtext("vehicle/year") == "2021"


# -- live senders (HTTP captured) --------------------------------------------------------

def test_twilio_sender_posts_the_rest_api_form(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[urllib.request.Request] = []

    def fake_urlopen(request: urllib.request.Request, timeout: float) -> JsonHttpResponse:
        calls.append(request)
        return JsonHttpResponse({"sid": "SM123", "status": "queued"})

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    sender = TwilioSender("AC1", "tok", status_callback_url="https://api.example.com/webhooks/twilio/status")
    result = sender.send(OutboundMessage(channel="sms", to="+13125550199", body="Hi", sender="+13125550100",
                                         message_id="msg_1", media_urls=("https://x.example.com/a.jpg",)))
    assert result.provider_id == "SM123"
    [request] = calls
    assert request.full_url == "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    form = dict(p.split("=", 1) for p in (request.data or b"").decode().split("&"))
    assert form["To"] == "%2B13125550199" and form["Body"] == "Hi" and "StatusCallback" in form and "MediaUrl" in form
    assert request.get_header("Authorization", "").startswith("Basic ")


def test_twilio_sender_classifies_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import urllib.error

    def refusing(code: int, twilio_code: int) -> Any:
        def urlopen(request: urllib.request.Request, timeout: float) -> Any:
            body = io.BytesIO(json.dumps({"code": twilio_code, "message": "nope"}).encode())
            raise urllib.error.HTTPError(request.full_url, code, "err", {}, body)  # type: ignore[arg-type]
        return urlopen

    sender = TwilioSender("AC1", "tok")
    message = OutboundMessage(channel="sms", to="+13125550199", body="Hi", sender="+13125550100")
    for status, code, permanent in ((400, 21610, True), (429, 20429, False), (503, 20500, False)):
        monkeypatch.setattr(urllib.request, "urlopen", refusing(status, code))
        with pytest.raises(SendFailed) as err:
            sender.send(message)
        assert err.value.permanent is permanent, (status, code)


def test_meta_sender_uses_the_tag_and_sends_pictures(monkeypatch: pytest.MonkeyPatch) -> None:
    bodies: list[dict[str, Any]] = []

    def fake_urlopen(request: urllib.request.Request, timeout: float) -> JsonHttpResponse:
        assert request.full_url.startswith("https://graph.facebook.com/v21.0/me/messages?access_token=")
        bodies.append(json.loads(request.data or b"{}"))
        return JsonHttpResponse({"recipient_id": "1", "message_id": f"m_{len(bodies)}"})

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    result = MetaSender("page-token").send(OutboundMessage(channel="messenger", to="PSID1", body="Hi",
                                                           media_urls=("https://x.example.com/a.jpg",),
                                                           tag="HUMAN_AGENT"))
    assert result.provider_id == "m_1"
    assert bodies[0] == {"recipient": {"id": "PSID1"}, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT",
                         "message": {"text": "Hi"}}
    assert bodies[1]["message"]["attachment"]["payload"]["url"] == "https://x.example.com/a.jpg"


def test_anything_in_double_braces_that_is_not_a_known_field_is_refused() -> None:
    values = rules.smart_field_values(_lead(), _account(), "Sam")
    for template in ("Hi {{first name}}", "Hi {{ }}", "Hi {{lead.first_name }} {{LEAD.FIRST_NAME}}"):
        with pytest.raises(ValidationFailed):
            rules.render(template, values)
    assert rules.render("Use code {SAVE10} or {{lead.first_name}}", values) == "Use code {SAVE10} or Maria"
