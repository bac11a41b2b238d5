"""A lead's language through the HTTP surface and the table's stream under moto: a customer's first
words are stored marked, nothing is queued for them, and the stream consumer sets the language once;
a language a person set meanwhile stands; records delivered again change nothing."""

from __future__ import annotations

from tests.integration.conversations_support import current, lead, queued_jobs, sms, store
from tests.support import World


def test_a_persons_language_stands_and_records_delivered_again_change_nothing(world: World) -> None:
    s = store(world)
    made = lead(world, s)
    assert sms(world, "Bonjour, je voudrais essayer la voiture samedi", sid="SM" + "1" * 32).status == 200
    assert queued_jobs(world, "inbound") == []
    # A person sets the language before the stream consumer gets to the message.
    assert world.patch(f"/leads/{made.lead_id}", s.admin_token, {"language": "es"}).status == 200
    edited = current(world, made.lead_id)
    world.settle()
    assert current(world, made.lead_id) == edited
    # Every record the consumer took, delivered again (a retried batch): nothing changes, nothing fails.
    world.pump.replay(list(world.pump.delivered))
    assert current(world, made.lead_id) == edited


def test_the_first_words_set_the_language_and_later_words_leave_it(world: World) -> None:
    s = store(world)
    made = lead(world, s)
    assert sms(world, "ok", sid="SM" + "2" * 32).status == 200  # too little to tell: not marked
    assert sms(world, "Hola, ¿todavía tienen el carro azul?", sid="SM" + "3" * 32).status == 200
    assert sms(world, "Thanks, I will come on Saturday morning", sid="SM" + "4" * 32).status == 200
    before = current(world, made.lead_id)
    assert before.language is None
    world.settle()  # both marked messages in one batch: the first sets it, the second finds it set
    after = current(world, made.lead_id)
    assert (after.language, after.version) == ("es", before.version + 1)
    assert world.get(f"/leads/{made.lead_id}", s.admin_token).json["language"] == "es"
