"""Fairness through the real service and DynamoDB items (moto): the rotation survives between leads
because it is stored, conditionally, with every offer.

The contract's sizes (3 agents x 300 leads, 3:1 over 400) run in the pure tests
(tests/unit/test_routing_state_machine.py). Here a tenth of them: moto's transactions slow
down with the table's size (the full sizes took 255 s and 453 s under moto and passed), and
the wiring that could break fairness — the stored rotation — is the same at any size."""

from __future__ import annotations

from collections import Counter

from chalicelib.adapters.dynamodb.leads import LeadRepository
from tests.integration.routing_support import Store, add_user, configure, new_lead, record_queues, store
from tests.support import World


def _first_offers(world: World, s: Store, leads: int) -> Counter[str]:
    repo = LeadRepository(world.deps.table)
    firsts: Counter[str] = Counter()
    for _ in range(leads):
        world.clock.advance(1)
        created = new_lead(world, s)
        made = [e.data["agent"] for e in repo.timeline(created.lead_id) if e.data.get("action") == "made"]
        assert len(made) == 1
        firsts[made[0]] += 1
    return firsts


def test_round_robin_three_agents_30_leads_10_first_offers_each(world: World) -> None:
    record_queues(world)
    s = store(world, agents=3)
    configure(world, s, offer_timeout_seconds=86_400)
    assert sorted(_first_offers(world, s, 30).values()) == [10, 10, 10]


def test_weights_three_to_one_over_40_leads(world: World) -> None:
    record_queues(world)
    s = store(world, agents=0)
    heavy = add_user(world, s, "heavy@acme.com", teams=["sales"])
    light = add_user(world, s, "light@acme.com", teams=["sales"])
    configure(world, s, offer_timeout_seconds=86_400, strategy="weighted",
              rules=[{"match": {}, "team": "sales", "weights": {heavy["user_id"]: 3, light["user_id"]: 1}}])
    firsts = _first_offers(world, s, 40)
    assert (firsts[heavy["user_id"]], firsts[light["user_id"]]) == (30, 10)
