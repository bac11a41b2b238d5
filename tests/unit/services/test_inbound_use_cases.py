"""What a customer's message does, on fakes: it joins the contact's open lead and makes it wait for
the store; STOP / START / HELP take effect at once; a repeated delivery is stored once; a closed
lead's contact or an unknown sender starts a new lead on the inbound queue."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from chalicelib.domain.inbound import InboundMessage
from chalicelib.schemas.queues import InboundJob
from chalicelib.services import inbound, inbound_queue
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


def test_an_unknown_sender_goes_to_the_inbound_queue_and_becomes_a_routed_lead() -> None:
    s = shop()
    result = inbound.receive(s.deps, s.account.account_id, sms(s, "Do you have trucks?", "SM" + "5" * 32,
                                                               sender="+13125550188"))
    assert result.deferred
    [body] = s.queued("inbound")
    job = TypeAdapter(InboundJob).validate_python(body)
    inbound_queue.process_job(s.deps, job)
    inbound_queue.process_job(s.deps, job)  # delivered twice: still one lead
    leads = list(s.deps.state.leads.values())
    assert len(leads) == 1 and leads[0].phone == "+13125550188" and leads[0].source == "SMS"
    assert leads[0].routing_state == "offered"
    assert _inbound_bodies(s, leads[0].lead_id) == [("inbound", "Do you have trucks?")]


def test_a_message_to_a_closed_lead_starts_a_new_one() -> None:
    from chalicelib.services import lead_edits

    s = shop()
    lead = s.lead()
    assert s.manager is not None
    from chalicelib.schemas.leads import UpdateLeadRequest

    lead_edits.update_lead(s.deps, s.principal(s.manager), lead.lead_id, UpdateLeadRequest(status="sold"))
    result = inbound.receive(s.deps, s.account.account_id, sms(s, "One more question", "SM" + "6" * 32))
    assert result.deferred


def test_a_new_senders_lead_has_its_marked_message_and_claim_in_intakes_transaction() -> None:
    from chalicelib.services import language

    s = shop()
    sid = "SM" + "7" * 32
    inbound.receive(s.deps, s.account.account_id, sms(s, "Hola, ¿tienen camionetas disponibles hoy?", sid,
                                                      sender="+13125550188"))
    [body] = s.queued("inbound")
    commits = s.deps.transactions.commits  # type: ignore[attr-defined]
    inbound_queue.process_job(s.deps, TypeAdapter(InboundJob).validate_python(body))
    [lead] = s.deps.state.leads.values()
    # Intake's lead (with its message marked for the language, the claim and the sender's pointer), then
    # its first offer: nothing written after them.
    assert s.deps.transactions.commits - commits == 2  # type: ignore[attr-defined]
    [message] = [e for e in s.deps.leads.timeline(lead.lead_id) if e.type == "message"]
    assert message.language_wanted and lead.language is None
    assert s.deps.state.dedup[("twilio", sid)] == {"claimed_at": s.deps.state.dedup[("twilio", sid)]["claimed_at"],
                                                   "lead_id": lead.lead_id, "message_id": message.event_id}
    assert s.deps.state.senders[(STORE_NUMBER, "+13125550188")].lead_id == lead.lead_id
    assert s.queued("inbound") == []
    # The table's stream hands the marked message to the language consumer.
    assert language.set_from_message(s.deps, message.model_dump(mode="json")) == "set"
    assert s.current(lead.lead_id).language == "es"


def test_a_form_leads_message_and_a_short_or_keyword_message_are_not_marked() -> None:
    s = shop()
    lead = s.lead(message="Is the blue one still there?")  # a web form's words, not the customer's own SMS
    inbound.receive(s.deps, s.account.account_id, sms(s, "ok", "SM" + "a" * 32))
    inbound.receive(s.deps, s.account.account_id, sms(s, "HELP", "SM" + "b" * 32))
    assert not any(e.language_wanted for e in s.deps.leads.timeline(lead.lead_id))


def test_a_lead_made_meanwhile_for_the_sender_takes_the_message_as_a_repeat_request_with_the_claim() -> None:
    s = shop()
    sid = "SM" + "9" * 32
    inbound.receive(s.deps, s.account.account_id, sms(s, "Do you have any trucks?", sid, sender="+13125550188"))
    [body] = s.queued("inbound")
    # A web form of the same person lands after the consumer read the contact key (it read none).
    made = s.lead(phone="+13125550188", message="Trucks please")
    leads: Any = s.deps.leads
    leads.contact_and_routing = lambda a, k, v: (None, s.deps.routing.store_routing(a))
    inbound_queue.process_job(s.deps, TypeAdapter(InboundJob).validate_python(body))
    assert len(s.deps.state.leads) == 1
    assert [e.type for e in s.deps.leads.timeline(made.lead_id)].count("coalesced") == 1
    assert s.deps.state.dedup[("twilio", sid)]["message_id"] == "coalesced"
