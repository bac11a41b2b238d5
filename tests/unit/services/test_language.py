"""The lead's language from the table's stream, on fakes: a customer's message stored with the marker
sets the lead's language once; twice, late, out of order, after a person set it or with the lead gone
it changes nothing and fails nothing; a transient write failure is retried through the batch."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.adapters.dynamodb.table import Table, serialize
from chalicelib.domain.inbound import InboundMessage
from chalicelib.domain.timeline import TimelineEvent
from chalicelib.services import inbound, language
from tests.unit.services.shop import STORE_NUMBER, Shop, shop

SPANISH = "Hola, ¿todavía está disponible el carro azul?"
FRENCH = "Bonjour, je voudrais essayer la voiture samedi"


def _write(s: Shop, body: str, sid: str) -> TimelineEvent:
    """The customer's SMS on the shop's lead, as the webhook stores it; its message event."""
    msg = InboundMessage(provider="twilio", provider_id=sid, channel="sms", sender="+13125550177",
                         recipient=STORE_NUMBER, body=body, received_at=s.clock.now().isoformat())
    stored = inbound.receive(s.deps, s.account.account_id, msg)
    [event] = [e for e in s.deps.leads.timeline(str(stored.lead_id)) if e.event_id == stored.message_id]
    return event


def _record(event: TimelineEvent, sequence: int, name: str = "INSERT") -> dict[str, Any]:
    """The stream record of the event's item as the DynamoDB adapter writes it (Lambda's shape)."""
    put = LeadRepository(Table("unused")).add_event(event).op["Put"]  # type: ignore[attr-defined]
    return {"eventName": name, "dynamodb": {"SequenceNumber": str(sequence), "NewImage": serialize(put["Item"])}}


def test_a_marked_message_sets_the_language_once_whatever_the_order_or_the_repeats() -> None:
    s = shop()
    lead = s.lead(message=None)
    first, second = _write(s, SPANISH, "SM" + "1" * 32), _write(s, FRENCH, "SM" + "2" * 32)
    assert first.language_wanted and second.language_wanted  # both stored before the consumer ran
    before = s.current(lead.lead_id)
    # The later message's record first (another shard, a retried batch): its language is the lead's.
    assert language.apply_stream_records(s.deps, [_record(second, 2)]) == []
    assert language.apply_stream_records(s.deps, [_record(first, 1), _record(second, 2), _record(first, 1)]) == []
    after = s.current(lead.lead_id)
    assert (after.language, after.version) == ("fr", before.version + 1)
    assert after.model_copy(update={"language": None, "version": before.version}) == before


def test_a_language_a_person_set_is_kept_and_a_gone_lead_is_no_failure() -> None:
    from chalicelib.schemas.leads import UpdateLeadRequest
    from chalicelib.services import lead_edits

    s = shop()
    lead = s.lead(message=None)
    event = _write(s, SPANISH, "SM" + "3" * 32)
    assert s.manager is not None
    lead_edits.update_lead(s.deps, s.principal(s.manager), lead.lead_id, UpdateLeadRequest(language="en"))
    assert language.set_from_message(s.deps, event.model_dump(mode="json")) == "kept"
    assert s.current(lead.lead_id).language == "en"
    del s.deps.state.leads[lead.lead_id]  # type: ignore[attr-defined]
    assert language.set_from_message(s.deps, event.model_dump(mode="json")) == "gone"
    assert language.apply_stream_records(s.deps, [_record(event, 7)]) == []


def test_only_inserted_marked_messages_are_read_and_unclear_text_writes_nothing() -> None:
    s = shop()
    lead = s.lead(message=None)
    event = _write(s, SPANISH, "SM" + "4" * 32)
    unmarked = event.model_copy(update={"language_wanted": False})
    unclear = event.model_copy(update={"data": {**event.data, "body": "ok 👍 ok"}})
    assert "language_wanted" not in _record(unmarked, 1)["dynamodb"]["NewImage"]
    # A change of the stored message (its pictures copied) is no new words.
    language.apply_stream_records(s.deps, [_record(unmarked, 1), _record(event, 2, "MODIFY"), _record(unclear, 3)])
    assert s.current(lead.lead_id).language is None


def test_a_write_that_fails_for_a_transient_reason_is_retried_through_the_batch(
        monkeypatch: pytest.MonkeyPatch) -> None:
    s = shop()
    lead = s.lead(message=None)
    event = _write(s, SPANISH, "SM" + "5" * 32)
    real = s.deps.leads.set_language

    def throttled(lead_id: str, value: str) -> Any:
        raise RuntimeError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(s.deps.leads, "set_language", throttled)
    assert language.apply_stream_records(s.deps, [_record(event, 41)]) == ["41"]
    monkeypatch.setattr(s.deps.leads, "set_language", real)
    assert language.apply_stream_records(s.deps, [_record(event, 41)]) == []
    assert s.current(lead.lead_id).language == "es"


def test_only_the_messages_first_characters_are_detected() -> None:
    s = shop()
    lead = s.lead(message=None)
    event = _write(s, SPANISH, "SM" + "6" * 32)
    # A reply above a long quoted thread in another language: the reply's words tell the language.
    spanish = (SPANISH + " ") * (language.DETECTED_CHARS // len(SPANISH) + 1)
    body = spanish + "On Monday you wrote: " + ("Thanks for writing to us. We would be happy to show you the car on "
                                                "Saturday morning; please let us know when you can come by. ") * 40
    quoted = event.model_copy(update={"data": {**event.data, "body": body}})
    assert language.set_from_message(s.deps, quoted.model_dump(mode="json")) == "set"
    assert s.current(lead.lead_id).language == "es"
