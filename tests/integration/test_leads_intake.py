"""Lead intake through the service (the interface the SMS / Messenger paths use) and the JSON route:
normalisation, coalescing, the window, closed leads, owner credit and notification, atomicity."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.domain.leads import NewLead
from chalicelib.services import intake
from tests.support import World


def _account(world: World, account_id: str) -> Any:
    return world.deps.accounts.require(account_id)


INTAKE_REPORTS = ("lead_received", "lead_coalesced", "message_inbound", "lead_assigned")


def _report_kinds(world: World, account_id: str) -> list[str]:
    """Intake's report events (routing adds its own, which are not this suite's business)."""
    day = world.clock.now().date().isoformat()
    return [i["kind"] for i in world.deps.table.query(keys.report_day_pk(account_id, day))
            if i["kind"] in INTAKE_REPORTS]


def _scores(world: World, user_id: str) -> list[dict[str, Any]]:
    return list(world.deps.table.query(f"USER#{user_id}", sk_condition="begins_with(#sk, :s)",
                                       sk_values={":s": "SCORE#"}))


def _later(world: World, t: Any, **delta: float) -> None:
    """Move the clock on; tokens last 12 hours, so the admin signs in again."""
    world.clock.advance(**delta)
    t.token = world.token(t.admin_id)


def test_new_lead_is_normalised_and_recorded(world: World) -> None:
    t = world.tenant()
    account = _account(world, t.accounts[0]["account_id"])
    result = intake.receive_lead(world.deps, account, NewLead(
        first_name=" Jane ", last_name="Doe", phone="(212) 555-0142", email="Jane.Doe@Example.COM",
        source="Cars.com", source_group="Third party", campaign="Fall", message="Is the Civic still there?"))
    lead = result.lead
    assert result.created and result.coalesced_into is None and result.message_id
    assert (lead.first_name, lead.phone, lead.email) == ("Jane", "+12125550142", "jane.doe@example.com")
    assert lead.awaiting_since == lead.created_at and lead.last_message_preview == "Is the Civic still there?"
    timeline = LeadRepository(world.deps.table).timeline(lead.lead_id)
    # (routing, another part, may add its own events; these are intake's)
    assert sorted(e.type for e in timeline if e.type in ("created", "message", "coalesced")) == ["created", "message"]
    message = next(e for e in timeline if e.type == "message")
    assert message.data["direction"] == "inbound" and message.data["status"] == "received"
    assert message.event_id == result.message_id and message.data["body"] == "Is the Civic still there?"
    assert sorted(_report_kinds(world, account.account_id)) == ["lead_received", "message_inbound"]
    assert intake.find_open_lead(world.deps, account.account_id, "phone", "+12125550142").lead_id == lead.lead_id
    assert intake.find_open_lead(world.deps, account.account_id, "email", "JANE.DOE@example.com") is not None
    assert intake.find_open_lead(world.deps, account.account_id, "phone", "+12125550143") is None


def test_phone_default_region_follows_the_store(world: World) -> None:
    t = world.tenant(timezone="Europe/London")
    account = _account(world, t.accounts[0]["account_id"])
    lead = intake.receive_lead(world.deps, account, NewLead(phone="020 7946 0958")).lead
    assert lead.phone == "+442079460958"


def test_repeat_joins_the_open_lead_credits_and_notifies_the_owner(world: World) -> None:
    t = world.tenant()
    account_id = t.accounts[0]["account_id"]
    agent, agent_token = world.user(t, "rep@acme.com")
    first = world.post(f"/accounts/{account_id}/leads", t.token,
                       {"first_name": "Ann", "phone": "212-555-0100", "source": "Web"}).json
    assert world.post(f"/leads/{first['lead_id']}/assign", t.token, {"user_id": agent["user_id"]}).status == 200
    world.clock.advance(hours=5)
    reply = world.post(f"/accounts/{account_id}/leads", t.token,
                       {"last_name": "Smith", "phone": "+1 212 555 0100", "email": "ann@gmail.com",
                        "source": "AutoTrader", "message": "Still interested"})
    assert reply.status == 201
    assert reply.json["coalesced_into"] == first["lead_id"] and reply.json["lead_id"] == first["lead_id"]
    # the repeat filled in what the lead lacked, and its email now finds the lead too
    assert reply.json["last_name"] == "Smith" and reply.json["email"] == "ann@gmail.com"
    assert intake.find_open_lead(world.deps, account_id, "email", "ann@gmail.com").lead_id == first["lead_id"]
    events = world.get(f"/leads/{first['lead_id']}/timeline", t.token).json["items"]
    coalesced = [e for e in events if e["type"] == "coalesced"]
    assert len(coalesced) == 1 and coalesced[0]["source"] == "AutoTrader"
    assert coalesced[0]["message"] == "Still interested"
    reasons = sorted(s["reason"] for s in _scores(world, agent["user_id"]))
    assert reasons == ["assigned", "coalesced"]
    notes = world.get("/me/notifications", agent_token).json["items"]
    assert [n["kind"] for n in notes].count("customer_replied") == 1
    assert _report_kinds(world, account_id).count("lead_coalesced") == 1
    # no second lead appeared
    assert len(world.get(f"/leads?account_id={account_id}", t.token).json["items"]) == 1


def test_same_person_in_another_store_is_a_new_lead(world: World) -> None:
    t = world.tenant(stores=2)
    a, b = (x["account_id"] for x in t.accounts)
    one = world.post(f"/accounts/{a}/leads", t.token, {"phone": "2125550100"}).json
    two = world.post(f"/accounts/{b}/leads", t.token, {"phone": "2125550100"}).json
    assert one["lead_id"] != two["lead_id"] and two["coalesced_into"] is None


def test_outside_the_window_or_closed_makes_a_new_lead(world: World) -> None:
    # PyJWT refuses an `iat` after the real time, so weeks of fake time start in the past.
    world.clock.set("2026-09-01T15:00:00Z")
    t = world.tenant()
    account_id = t.accounts[0]["account_id"]
    first = world.post(f"/accounts/{account_id}/leads", t.token, {"email": "old@gmail.com"}).json
    _later(world, t, days=31)
    second = world.post(f"/accounts/{account_id}/leads", t.token, {"email": "old@gmail.com"}).json
    assert second["coalesced_into"] is None and second["lead_id"] != first["lead_id"]
    # the key moved to the new lead: a repeat now joins it
    third = world.post(f"/accounts/{account_id}/leads", t.token, {"email": "old@gmail.com"}).json
    assert third["coalesced_into"] == second["lead_id"]
    assert world.patch(f"/leads/{second['lead_id']}", t.token, {"status": "sold"}).status == 200
    fourth = world.post(f"/accounts/{account_id}/leads", t.token, {"email": "old@gmail.com"}).json
    assert fourth["coalesced_into"] is None and fourth["lead_id"] not in (first["lead_id"], second["lead_id"])


def test_window_is_per_account(world: World) -> None:
    world.clock.set("2026-09-01T15:00:00Z")
    t = world.tenant()
    account_id = t.accounts[0]["account_id"]
    assert world.patch(f"/accounts/{account_id}", t.token, {"coalesce_window_days": 3}).status == 200
    first = world.post(f"/accounts/{account_id}/leads", t.token, {"phone": "2125550111"}).json
    _later(world, t, days=2)
    assert world.post(f"/accounts/{account_id}/leads", t.token,
                      {"phone": "2125550111"}).json["coalesced_into"] == first["lead_id"]
    # the window runs from the latest request, so the repeat kept the lead joinable
    _later(world, t, days=2, hours=23)
    assert world.post(f"/accounts/{account_id}/leads", t.token,
                      {"phone": "2125550111"}).json["coalesced_into"] == first["lead_id"]
    _later(world, t, days=3, hours=1)
    assert world.post(f"/accounts/{account_id}/leads", t.token, {"phone": "2125550111"}).json["coalesced_into"] is None


@pytest.fixture
def atomic_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """DynamoDB applies each request atomically; in-process moto does not guard its tables against
    threads. One lock per AWS request restores that, while the threads still interleave between
    requests (read the contact keys, decide, write) exactly as concurrent Lambdas would."""
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.Lock()
    original = BotocoreStubber.process_request

    def one_at_a_time(self: Any, request: Any) -> Any:
        with lock:
            return original(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", one_at_a_time)
    yield


@pytest.mark.usefixtures("atomic_requests")
def test_ten_identical_requests_at_once_make_one_lead(world: World) -> None:
    t = world.tenant()
    account = _account(world, t.accounts[0]["account_id"])
    request = NewLead(first_name="Rush", phone="2125550199", email="rush@gmail.com", source="Cars.com",
                      message="hello")

    # Every request reads the contact keys and decides before any of them writes: the worst case,
    # made certain rather than left to thread timing.
    decided = threading.Barrier(10, timeout=30)
    first_write = threading.local()
    table = world.deps.table
    plain_transact = table.transact

    def transact_after_everyone_decided(operations: list[dict[str, Any]]) -> None:
        if not getattr(first_write, "done", False):
            first_write.done = True
            decided.wait()
        plain_transact(operations)

    table.transact = transact_after_everyone_decided  # type: ignore[method-assign]

    def send(_: int) -> intake.IntakeResult:
        return intake.receive_lead(world.deps, account, request)

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(send, range(10)))
    created = [r for r in results if r.created]
    assert len(created) == 1
    lead_id = created[0].lead.lead_id
    assert sorted(r.coalesced_into for r in results if not r.created) == [lead_id] * 9
    timeline = LeadRepository(world.deps.table).timeline(lead_id)
    assert [e.type for e in timeline].count("coalesced") == 9
    kinds = _report_kinds(world, account.account_id)
    assert kinds.count("lead_received") == 1 and kinds.count("lead_coalesced") == 9


def test_json_route_validates_every_field(world: World) -> None:
    t = world.tenant()
    account_id = t.accounts[0]["account_id"]
    reply = world.post(f"/accounts/{account_id}/leads", t.token,
                       {"phone": "12", "email": "not-an-email", "channel": "fax", "vehicle": {"year": "old"},
                        "received_at": "2026-11-01T10:00:00"})
    assert reply.status == 400
    fields = {d["field"] for d in reply.json["error"]["details"]}
    assert fields == {"phone", "email", "channel", "vehicle.year", "received_at"}
    reply = world.post(f"/accounts/{account_id}/leads", t.token, {"phone": "12"})
    assert reply.status == 400 and [d["field"] for d in reply.json["error"]["details"]] == ["phone"]
    reply = world.post(f"/accounts/{account_id}/leads", t.token, {"first_name": "Nobody"})
    assert reply.status == 400 and {d["field"] for d in reply.json["error"]["details"]} == {"phone", "email"}
    for far_off in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"):
        reply = world.post(f"/accounts/{account_id}/leads", t.token, {"phone": "2125550100", "received_at": far_off})
        assert reply.status == 400 and reply.json["error"]["details"][0]["field"] == "received_at"
    assert world.get(f"/leads?account_id={account_id}", t.token).json["items"] == []


def test_received_at_from_the_provider_is_kept(world: World) -> None:
    t = world.tenant()
    account_id = t.accounts[0]["account_id"]
    reply = world.post(f"/accounts/{account_id}/leads", t.token,
                       {"phone": "2125550123", "received_at": "2026-11-02T08:30:00-05:00"})
    assert reply.status == 201
    assert reply.json["received_at"] == "2026-11-02T13:30:00.000Z"
    assert reply.json["created_at"] == "2026-11-02T15:00:00.000Z"


def test_intake_into_a_store_the_caller_cannot_see_is_404(world: World) -> None:
    a = world.tenant("Alpha", "a@alpha.com")
    b = world.tenant("Beta", "b@beta.com")
    reply = world.post(f"/accounts/{a.accounts[0]['account_id']}/leads", b.token, {"phone": "2125550100"})
    assert reply.status == 404


def test_only_new_leads_are_routed(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import routing

    routed: list[str] = []
    monkeypatch.setattr(routing, "route_new_lead", lambda deps, lead, routing=None: routed.append(lead.lead_id))
    t = world.tenant()
    account_id = t.accounts[0]["account_id"]
    first = world.post(f"/accounts/{account_id}/leads", t.token, {"phone": "2125550155"}).json
    again = world.post(f"/accounts/{account_id}/leads", t.token, {"phone": "2125550155", "message": "again"}).json
    assert again["coalesced_into"] == first["lead_id"]
    assert routed == [first["lead_id"]]
