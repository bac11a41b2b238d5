"""A message from a sender no open lead knows, on fakes: the lead is made and routed in the webhook,
with the message's dedup key in intake's transaction; the two races (two deliveries of one message,
two messages of one new sender) each make one lead."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.inbound import InboundMessage
from chalicelib.schemas.leads import UpdateLeadRequest
from chalicelib.services import inbound, lead_edits
from tests.unit.services.shop import STORE_NUMBER, Shop, shop

NEW_SENDER = "+13125550188"


def sms(s: Shop, body: str, sid: str, sender: str = NEW_SENDER) -> InboundMessage:
    return InboundMessage(provider="twilio", provider_id=sid, channel="sms", sender=sender, recipient=STORE_NUMBER,
                          body=body, received_at=s.clock.now().isoformat())


def _bodies(s: Shop, lead_id: str) -> list[str]:
    return [e.data["body"] for e in s.deps.leads.timeline(lead_id) if e.type == "message"]


def test_an_unknown_sender_becomes_a_routed_lead_in_the_webhook_once() -> None:
    s = shop()
    msg = sms(s, "Do you have trucks?", "SM" + "5" * 32)
    first = inbound.receive(s.deps, s.account.account_id, msg)
    again = inbound.receive(s.deps, s.account.account_id, msg)  # the provider delivers it again
    [lead] = s.deps.state.leads.values()
    assert (lead.phone, lead.source, lead.routing_state) == (NEW_SENDER, "SMS", "offered")
    assert (first.lead_id, first.duplicate) == (lead.lead_id, False)
    assert (again.duplicate, again.lead_id, again.message_id) == (True, lead.lead_id, first.message_id)
    assert _bodies(s, lead.lead_id) == ["Do you have trucks?"]
    assert s.queued("inbound") == []  # nothing of it left for a queue


def test_the_lead_its_marked_message_and_dedup_key_are_one_transaction_and_nothing_follows_the_offer() -> None:
    from chalicelib.services import language

    s = shop()
    sid = "SM" + "7" * 32
    commits = s.deps.transactions.commits  # type: ignore[attr-defined]
    result = inbound.receive(s.deps, s.account.account_id, sms(s, "Hola, ¿tienen camionetas disponibles hoy?", sid))
    [lead] = s.deps.state.leads.values()
    # Intake's lead (with its message marked for the language, the dedup key and the sender's pointer),
    # then its first offer.
    assert s.deps.transactions.commits - commits == 2  # type: ignore[attr-defined]
    assert s.deps.state.dedup[("twilio", sid)] == {"lead_id": lead.lead_id, "message_id": result.message_id,
                                                   "account_id": s.account.account_id}
    assert s.deps.state.senders[(STORE_NUMBER, NEW_SENDER)].lead_id == lead.lead_id
    [message] = [e for e in s.deps.leads.timeline(lead.lead_id) if e.type == "message"]
    assert message.language_wanted and lead.language is None
    # The table's stream hands the marked message to the language consumer.
    assert language.set_from_message(s.deps, message.model_dump(mode="json")) == "set"
    assert s.current(lead.lead_id).language == "es"


def test_a_message_to_a_closed_lead_starts_a_new_one() -> None:
    s = shop()
    lead = s.lead()
    assert s.manager is not None
    lead_edits.update_lead(s.deps, s.principal(s.manager), lead.lead_id, UpdateLeadRequest(status="sold"))
    result = inbound.receive(s.deps, s.account.account_id, sms(s, "One more question", "SM" + "6" * 32,
                                                               sender=lead.phone or ""))
    assert result.lead_id not in (None, lead.lead_id)
    assert result.lead_id is not None and _bodies(s, result.lead_id) == ["One more question"]
    contact = s.deps.leads.contact(s.account.account_id, "phone", lead.phone or "")
    assert contact is not None and contact["lead_id"] == result.lead_id


def _rival_between_read_and_write(s: Shop, rival: InboundMessage) -> None:
    """The next contact read answers as it found things, after `rival` went through the webhook whole."""
    leads: Any = s.deps.leads
    real = leads.contact_and_routing

    def read_then_rival(account_id: str, kind: str, value: str) -> Any:
        read = real(account_id, kind, value)
        leads.contact_and_routing = real
        inbound.receive(s.deps, account_id, rival)
        return read

    leads.contact_and_routing = read_then_rival


def test_two_deliveries_of_one_message_racing_make_one_lead_and_the_loser_answers_as_a_repeat() -> None:
    s = shop()
    msg = sms(s, "Is the Tacoma still for sale?", "SM" + "8" * 32)
    _rival_between_read_and_write(s, msg)
    result = inbound.receive(s.deps, s.account.account_id, msg)
    [lead] = s.deps.state.leads.values()
    assert (result.duplicate, result.lead_id) == (True, lead.lead_id)
    assert _bodies(s, lead.lead_id) == ["Is the Tacoma still for sale?"]
    assert len(s.deps.state.offers) == 1


def test_two_messages_of_one_new_sender_racing_make_one_lead_with_both_messages() -> None:
    s = shop()
    _rival_between_read_and_write(s, sms(s, "Hi, I saw your ad", "SM" + "a" * 32))
    result = inbound.receive(s.deps, s.account.account_id, sms(s, "for the blue Outback", "SM" + "b" * 32))
    [lead] = s.deps.state.leads.values()
    assert (result.duplicate, result.lead_id) == (False, lead.lead_id)
    # The loser's message is a message on the winner's lead, not a second request.
    assert _bodies(s, lead.lead_id) == ["Hi, I saw your ad", "for the blue Outback"]
    assert [e.type for e in s.deps.leads.timeline(lead.lead_id)].count("coalesced") == 0
    assert set(s.deps.state.dedup) >= {("twilio", "SM" + "a" * 32), ("twilio", "SM" + "b" * 32)}


def test_a_lead_made_meanwhile_by_a_web_form_takes_the_message_on_it() -> None:
    s = shop()
    leads: Any = s.deps.leads
    real = leads.contact_and_routing

    def read_then_web_form(account_id: str, kind: str, value: str) -> Any:
        read = real(account_id, kind, value)
        leads.contact_and_routing = real
        s.lead(phone=NEW_SENDER, message="Trucks please")
        return read

    leads.contact_and_routing = read_then_web_form
    result = inbound.receive(s.deps, s.account.account_id, sms(s, "Do you have any trucks?", "SM" + "9" * 32))
    [lead] = s.deps.state.leads.values()
    assert result.lead_id == lead.lead_id
    assert _bodies(s, lead.lead_id) == ["Trucks please", "Do you have any trucks?"]


def test_a_new_contact_job_an_earlier_release_queued_makes_the_lead_once() -> None:
    from chalicelib.schemas.queues import NewContact
    from chalicelib.services import inbound_queue

    s = shop()
    job = NewContact(account_id=s.account.account_id, message=sms(s, "Queued before the upgrade", "SM" + "c" * 32))
    inbound_queue.process_job(s.deps, job)
    inbound_queue.process_job(s.deps, job)  # delivered twice
    [lead] = s.deps.state.leads.values()
    assert lead.routing_state == "offered" and _bodies(s, lead.lead_id) == ["Queued before the upgrade"]


def test_an_adf_delivery_racing_its_repeat_into_an_open_lead_answers_as_the_first() -> None:
    """Not an arrival (no caller of its own races): intake decides a lost delivery race again and
    answers what the first delivery did, instead of refusing it."""
    from chalicelib.domain.leads import NewLead
    from chalicelib.services.intake import receive_lead

    s = shop()
    open_lead = s.lead(phone=NEW_SENDER)
    request = NewLead.model_validate({"first_name": "Ana", "phone": NEW_SENDER, "source": "Cars.com"})
    deliveries: Any = s.deps.deliveries
    real = deliveries.seen

    def rival_first(source: str, dedup_id: str) -> Any:
        deliveries.seen = real
        receive_lead(s.deps, s.account, request, delivery="adf-1")  # the provider's repeat lands first
        return None  # as this delivery read it, before the rival

    deliveries.seen = rival_first
    result = receive_lead(s.deps, s.account, request, delivery="adf-1")
    assert (result.lead.lead_id, result.created, result.coalesced_into) == (open_lead.lead_id, False, open_lead.lead_id)
    assert [e.type for e in s.deps.leads.timeline(open_lead.lead_id)].count("coalesced") == 1
