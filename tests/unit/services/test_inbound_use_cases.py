"""What a customer's message does, on fakes: it joins the contact's open lead and makes it wait for
the store; STOP / START / HELP take effect at once; a repeated delivery is stored once; a closed
lead's contact or an unknown sender starts a new lead (tests/unit/services/test_new_contact.py)."""

from __future__ import annotations

from chalicelib.domain.inbound import InboundMessage
from chalicelib.services import inbound
from tests.unit.services.shop import STORE_NUMBER, Shop, shop


def sms(s: Shop, body: str, sid: str, sender: str = "+13125550177") -> InboundMessage:
    return InboundMessage(provider="twilio", provider_id=sid, channel="sms", sender=sender, recipient=STORE_NUMBER,
                          body=body, received_at=s.clock.now().isoformat())


def _inbound_bodies(s: Shop, lead_id: str) -> list[tuple[str, str]]:
    return [(e.data["direction"], e.data["body"]) for e in s.deps.leads.timeline(lead_id) if e.type == "message"]


def test_a_message_joins_the_contacts_lead_once_and_makes_it_wait() -> None:
    s = shop()
    lead = s.lead(message=None)
    s.queued("inbound")
    msg = sms(s, "Still available?", "SM" + "1" * 32)
    first = inbound.receive(s.deps, s.account.account_id, msg)
    again = inbound.receive(s.deps, s.account.account_id, msg)
    assert (first.lead_id, first.duplicate) == (lead.lead_id, False)
    assert (again.duplicate, again.message_id) == (True, first.message_id)
    assert _inbound_bodies(s, lead.lead_id) == [("inbound", "Still available?")]
    current = s.current(lead.lead_id)
    assert current.awaiting_since is not None and current.last_message_preview == "Still available?"
    # Nothing queued: the stored message is marked for the lead's language (the stream consumer's).
    assert s.queued("inbound") == []
    assert [e.language_wanted for e in s.deps.leads.timeline(lead.lead_id) if e.type == "message"] == [True]


def test_stop_opts_out_and_start_opts_back_in() -> None:
    s = shop()
    lead = s.lead()
    inbound.receive(s.deps, s.account.account_id, sms(s, "stop", "SM" + "2" * 32))
    stopped = s.current(lead.lead_id)
    assert (stopped.opted_out, stopped.status) == (True, "dead")
    inbound.receive(s.deps, s.account.account_id, sms(s, " START ", "SM" + "3" * 32))
    started = s.current(lead.lead_id)
    assert (started.opted_out, started.status) == (False, "hot")
    kinds = [e.type for e in s.deps.leads.timeline(lead.lead_id)][-6:]
    assert kinds == ["message", "opt_out", "status", "message", "opt_in", "status"]


def test_help_is_answered_in_the_reply_and_recorded_after_the_question() -> None:
    s = shop()
    lead = s.lead(message=None)
    result = inbound.receive(s.deps, s.account.account_id, sms(s, "HELP", "SM" + "4" * 32))
    assert result.reply is not None and result.reply.startswith("Acme Honda:")
    assert _inbound_bodies(s, lead.lead_id) == [("inbound", "HELP"), ("outbound", result.reply)]
    assert s.current(lead.lead_id).awaiting_since == lead.awaiting_since  # a keyword waits for nobody


def test_a_form_leads_message_and_a_short_or_keyword_message_are_not_marked() -> None:
    s = shop()
    lead = s.lead(message="Is the blue one still there?")  # a web form's words, not the customer's own SMS
    inbound.receive(s.deps, s.account.account_id, sms(s, "ok", "SM" + "a" * 32))
    inbound.receive(s.deps, s.account.account_id, sms(s, "HELP", "SM" + "b" * 32))
    assert not any(e.language_wanted for e in s.deps.leads.timeline(lead.lead_id))


