"""One contract, two implementations: every test here runs against the in-memory fakes of
tests/fakes.py and against the DynamoDB repositories under moto, through the ports on Deps. What a
use-case unit test learns from a fake is therefore what DynamoDB does: the same reads, the same
conditions, the same named conflicts, all-or-nothing transactions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.adapters.dynamodb.deliveries import DeliveryRepository
from chalicelib.clock import FixedClock
from chalicelib.deps import Deps
from chalicelib.domain import errors
from chalicelib.domain.accounts import Account, Group
from chalicelib.domain.appointments import Appointment
from chalicelib.domain.inbound import SenderHint
from chalicelib.domain.lead_query import LeadFilters, Position, plan_list
from chalicelib.domain.leads import Lead, next_version
from chalicelib.domain.notifications import Notification
from chalicelib.domain.outbox import DueClaims, DueMessage, OutboxMessage
from chalicelib.domain.records import report_event, score_event, timeline_event
from chalicelib.domain.routing import Offer, OfferDecision, Rotation, RoutingConfig, Waiting
from chalicelib.domain.saved_replies import SavedReply
from chalicelib.domain.tenancy import Role
from chalicelib.domain.users import User

NOW = "2026-11-02T15:00:00.000Z"
LATER = "2026-11-02T15:05:00.000Z"
LAST = "2026-11-03T00:00:00.000Z"


def _lead(n: int = 1, **fields: Any) -> Lead:
    at = fields.pop("at", NOW)
    return Lead(lead_id=f"lead_{n:04d}", account_id="acc_1", group_id="grp_1", first_name=f"Pat{n}",
                created_at=at, received_at=at, last_activity_at=at, **fields)


def _stored(deps: Deps, lead: Lead) -> Lead:
    deps.transactions.commit(deps.leads.create(lead))
    return lead


# -- transactions and leads -----------------------------------------------------------------------

def test_a_lead_is_created_once_and_read_back(deps: Deps) -> None:
    lead = _stored(deps, _lead(phone="+13125550177"))
    assert deps.leads.get(lead.lead_id) == lead
    assert deps.leads.require(lead.lead_id) == lead
    assert deps.leads.many({lead.lead_id, "lead_missing"}) == {lead.lead_id: lead}
    with pytest.raises(errors.LostRace):
        deps.transactions.commit(deps.leads.create(lead))
    with pytest.raises(errors.NotFound):
        deps.leads.require("lead_missing")


def test_saving_over_a_lead_that_moved_on_is_lead_changed(deps: Deps) -> None:
    before = _stored(deps, _lead())
    after = next_version(before, status="hot")
    deps.transactions.commit(deps.leads.save(before, after))
    assert deps.leads.require(before.lead_id).version == before.version + 1
    with pytest.raises(errors.LeadChanged):
        deps.transactions.commit(deps.leads.save(before, next_version(before, status="cold")))
    assert deps.leads.require(before.lead_id).status == "hot"


def test_a_transaction_is_all_or_nothing_and_names_the_first_failed_condition(deps: Deps) -> None:
    lead = _stored(deps, _lead())
    event = timeline_event(lead, "note", None, FixedClock(NOW).now(), text="first")
    deps.transactions.commit([deps.leads.add_event(event)])
    other = timeline_event(lead, "note", None, FixedClock(NOW).now(), text="second")
    claim = deps.leads.claim_contact("acc_1", "phone", "+13125550177", lead.lead_id, NOW, None)
    with pytest.raises(errors.LostRace) as lost:
        deps.transactions.commit([deps.leads.add_event(other), claim, deps.leads.add_event(event)])
    assert type(lost.value) is errors.LostRace  # the repeated event, not a errors.ContactTaken
    assert [e.data["text"] for e in deps.leads.timeline(lead.lead_id)] == ["first"]
    assert deps.leads.contact("acc_1", "phone", "+13125550177") is None


def test_a_sender_pointer_is_read_with_the_number_and_names_what_is_read_next(deps: Deps) -> None:
    group = Group(group_id="grp_1", name="Acme", created_at=NOW)
    deps.accounts.create(Account(account_id="acc_1", group_id="grp_1", name="Store 1", timezone="America/Chicago",
                                 api_key="key-1", sms_number="+13125550100", created_at=NOW, updated_at=NOW), group)
    owner = User(user_id="usr_1", group_id="grp_1", email="a@acme.com", name="A", role=Role.AGENT,
                 account_ids=["acc_1"], created_at=NOW, updated_at=NOW)
    deps.users.create(owner)
    lead = _stored(deps, _lead(phone="+13125550177", assigned_to="usr_1"))
    hint = SenderHint("acc_1", lead.lead_id, "usr_1")
    deps.transactions.commit([deps.leads.point_sender("+13125550100", "+13125550177", hint, ttl=1),
                              deps.leads.claim_contact("acc_1", "phone", "+13125550177", lead.lead_id, NOW, None)])
    number, pointer = deps.accounts.sms_route("+13125550100", "+13125550177")
    assert number is not None and number.account_id == "acc_1" and pointer == hint
    assert deps.accounts.sms_route("+13125550100", "+13125550199")[1] is None
    read = deps.leads.conversation("acc_1", "phone", "+13125550177", lead.lead_id, "usr_1")
    assert (read.lead_id, read.lead, read.owner) == (lead.lead_id, lead, owner)
    assert read.store is not None and read.store.name == "Store 1"
    # Rewritten without a condition (a hint); what it names may be gone: absent parts are None.
    moved = SenderHint("acc_1", "lead_gone", None)
    deps.transactions.commit([deps.leads.point_sender("+13125550100", "+13125550177", moved, ttl=1)])
    assert deps.accounts.sms_route("+13125550100", "+13125550177")[1] == moved
    gone = deps.leads.conversation("acc_1", "phone", "+13125550199", "lead_gone", "usr_gone")
    assert (gone.lead_id, gone.lead, gone.owner) == (None, None, None) and gone.store is not None


def test_a_contact_is_read_with_its_stores_routing(deps: Deps) -> None:
    group = Group(group_id="grp_1", name="Acme", created_at=NOW)
    store = Account(account_id="acc_1", group_id="grp_1", name="Store 1", timezone="America/Chicago",
                    api_key="key-1", created_at=NOW, updated_at=NOW)
    deps.accounts.create(store, group)
    contact, routing = deps.leads.contact_and_routing("acc_1", "phone", "+13125550177")
    assert contact is None and routing.account == store and routing.config is None and routing.rotation.rev == 0
    deps.routing.put_config(RoutingConfig(account_id="acc_1", offer_timeout_seconds=90))
    lead = _stored(deps, _lead(phone="+13125550177"))
    deps.transactions.commit([deps.leads.claim_contact("acc_1", "phone", "+13125550177", lead.lead_id, NOW, None)])
    contact, routing = deps.leads.contact_and_routing("acc_1", "phone", "+13125550177")
    assert contact == {"lead_id": lead.lead_id, "at": NOW}
    assert routing.config is not None and routing.config.offer_timeout_seconds == 90
    assert routing == deps.routing.store_routing("acc_1")


def test_a_leads_contact_points_are_read_together(deps: Deps) -> None:
    one = _stored(deps, _lead(1))
    deps.transactions.commit([deps.leads.claim_contact("acc_1", "email", "pat@example.com", one.lead_id, NOW, None),
                              deps.leads.claim_contact("acc_2", "phone", "+13125550178", one.lead_id, NOW, None)])
    points = [("phone", "+13125550178"), ("email", "pat@example.com"), ("messenger", "psid-1")]
    assert deps.leads.contacts("acc_1", points) == {  # the phone is another store's
        "phone": None, "email": {"lead_id": one.lead_id, "at": NOW}, "messenger": None}
    assert deps.leads.contacts("acc_2", points[:1]) == {"phone": {"lead_id": one.lead_id, "at": NOW}}
    assert deps.leads.contacts("acc_2", []) == {}


def test_the_timeline_is_oldest_first_by_time_then_by_id(deps: Deps) -> None:
    lead = _stored(deps, _lead())
    clock = FixedClock(NOW)
    first = timeline_event(lead, "note", "usr_1", clock.now(), text="a")
    second = timeline_event(lead, "note", "usr_1", clock.now(), text="b")  # same millisecond
    earlier = timeline_event(lead, "note", None, clock.now(), at="2026-11-02T14:00:00.000Z", text="c")
    deps.transactions.commit([deps.leads.add_event(second), deps.leads.add_event(first),
                              deps.leads.add_event(earlier)])
    assert [e.data["text"] for e in deps.leads.timeline(lead.lead_id)] == ["c", "a", "b"]
    assert deps.leads.event(lead.lead_id, first.event_id) == first


def test_contact_keys_are_claimed_once_and_only_released_by_their_lead(deps: Deps) -> None:
    one, two = _stored(deps, _lead(1)), _stored(deps, _lead(2))
    deps.transactions.commit([deps.leads.claim_contact("acc_1", "phone", "+13125550177", one.lead_id, NOW, None)])
    assert deps.leads.contact("acc_1", "phone", "+13125550177") == {"lead_id": one.lead_id, "at": NOW}
    with pytest.raises(errors.ContactTaken):
        deps.transactions.commit([deps.leads.claim_contact("acc_1", "phone", "+13125550177", two.lead_id, NOW,
                                                           None)])
    with pytest.raises(errors.ContactTaken):
        deps.transactions.commit([deps.leads.release_contact("acc_1", "phone", "+13125550177", two.lead_id)])
    deps.transactions.commit([deps.leads.claim_contact("acc_1", "phone", "+13125550177", two.lead_id, LATER,
                                                       one.lead_id)])
    assert deps.leads.contact("acc_1", "phone", "+13125550177") == {"lead_id": two.lead_id, "at": LATER}
    deps.transactions.commit([deps.leads.release_contact("acc_1", "phone", "+13125550177", two.lead_id)])
    assert deps.leads.contact("acc_1", "phone", "+13125550177") is None


def test_lists_page_newest_first_filter_and_resume_after_a_position(deps: Deps) -> None:
    leads = [_stored(deps, _lead(n, at=f"2026-11-02T15:0{n}:00.000Z", labels=["vip"] if n % 2 else []))
             for n in range(1, 6)]
    inbox = plan_list("inbox", LeadFilters())
    first = deps.leads.list_batch("acc_1", inbox, Position(), 2)
    assert [lead.lead_id for _, lead in first.items] == [leads[4].lead_id, leads[3].lead_id]
    assert not first.exhausted and first.examined_to == first.items[-1][0]
    rest = deps.leads.list_batch("acc_1", inbox, Position(after=first.examined_to), 10)
    assert [lead.lead_id for _, lead in rest.items] == [leads[2].lead_id, leads[1].lead_id, leads[0].lead_id]
    assert rest.exhausted
    vip = deps.leads.list_batch("acc_1", plan_list("inbox", LeadFilters(label="vip")), Position(), 10)
    assert [lead.lead_id for _, lead in vip.items] == [leads[4].lead_id, leads[2].lead_id, leads[0].lead_id]
    searched = deps.leads.list_batch("acc_1", plan_list("inbox", LeadFilters(q="pat3")), Position(), 10)
    assert [lead.lead_id for _, lead in searched.items] == [leads[2].lead_id]
    awaiting = [_stored(deps, _lead(10 + n, awaiting_since=f"2026-11-02T1{n}:00:00.000Z")) for n in (3, 1)]
    waiting = deps.leads.list_batch("acc_1", plan_list("awaiting", LeadFilters()), Position(), 10)
    assert [lead.lead_id for _, lead in waiting.items] == [awaiting[1].lead_id, awaiting[0].lead_id]


def test_score_and_report_records_are_written_once(deps: Deps) -> None:
    lead = _stored(deps, _lead(assigned_to="usr_1"))
    clock = FixedClock(NOW)
    entry = score_event(lead, "usr_1", "accept", clock.now())
    deps.transactions.commit([deps.leads.add_score(entry), deps.leads.add_report(
        report_event(lead, "offer_accepted", clock.now(), user_id="usr_1"))])
    with pytest.raises(errors.LostRace):
        deps.transactions.commit([deps.leads.add_score(entry)])
    assert deps.routing.score_events("usr_1", "2026-11-02T00:00:00.000Z", "2026-11-02T23:59:59.999Z") == [entry]
    assert deps.routing.score_events("usr_1", LAST, "2026-11-03T23:59:59.999Z") == []


# -- routing -----------------------------------------------------------------------------------------

def _offer(n: int = 1, expires_at: str = LATER, agent: str = "usr_1", version: int = 1) -> Offer:
    return Offer(offer_id=f"ofr_{n:04d}", lead_id="lead_0001", account_id="acc_1", group_id="grp_1", agent_id=agent,
                 routing_version=version, made_at=NOW, expires_at=expires_at)


def test_routing_config_and_the_rotations_revision(deps: Deps) -> None:
    assert deps.routing.config("acc_1") is None
    config = RoutingConfig(account_id="acc_1", offer_timeout_seconds=90)
    deps.routing.put_config(config)
    assert deps.routing.config("acc_1") == config
    assert deps.routing.rotation("acc_1") == Rotation()
    moved = Rotation(seq=1, last_offered={"usr_1": 1})
    deps.transactions.commit([deps.routing.save_rotation("acc_1", Rotation(), moved)])
    assert deps.routing.rotation("acc_1") == moved.model_copy(update={"rev": 1})
    with pytest.raises(errors.VersionConflict):
        deps.transactions.commit([deps.routing.save_rotation("acc_1", Rotation(), moved)])


def test_an_offer_closes_once_and_only_in_its_window(deps: Deps) -> None:
    deps.transactions.commit([deps.routing.add_offer(_offer(1)), deps.routing.add_offer(_offer(2))])
    with pytest.raises(errors.AlreadyDecided):  # not expired yet
        deps.transactions.commit([deps.routing.close_offer(OfferDecision("ofr_0001", "timed_out", "expired"), NOW)])
    deps.transactions.commit([deps.routing.close_offer(OfferDecision("ofr_0001", "accepted", "live"), NOW)])
    assert deps.routing.offer("ofr_0001").state == "accepted"  # type: ignore[union-attr]
    with pytest.raises(errors.AlreadyDecided):
        deps.transactions.commit([deps.routing.close_offer(OfferDecision("ofr_0001", "declined", "live"), NOW)])
    assert deps.routing.decide_offer(OfferDecision("ofr_0002", "superseded", "expired"), LATER) is True
    assert deps.routing.decide_offer(OfferDecision("ofr_0002", "superseded", "expired"), LATER) is False


def test_pending_and_due_offers(deps: Deps) -> None:
    deps.transactions.commit([deps.routing.add_offer(_offer(n, expires_at=f"2026-11-02T15:0{n}:00.000Z"))
                              for n in range(1, 5)])
    deps.routing.decide_offer(OfferDecision("ofr_0004", "declined", "live"), NOW)
    now = "2026-11-02T15:01:30.000Z"
    first, cursor = deps.routing.pending_offers("usr_1", now, 1, None)
    assert [o.offer_id for o in first] == ["ofr_0002"] and cursor
    second, _ = deps.routing.pending_offers("usr_1", now, 1, cursor)
    assert [o.offer_id for o in second] == ["ofr_0003"]
    assert deps.routing.pending_offers("usr_2", now, 10, None) == ([], None)
    assert _every_due_offer(deps, "2026-11-02T15:03:00.000Z", 2) == ["ofr_0001", "ofr_0002", "ofr_0003"]


def every_due(fetch: Callable[..., tuple[list[Any], Any]], now: str, page_size: int,
              id_of: Callable[[Any], str]) -> list[str]:
    """Follow a due index's pages to the end: every due entry exactly once, in pages of at most
    `page_size` (the order across pages is the index's, sharded in DynamoDB: only the set is the contract)."""
    found: list[str] = []
    page, start = fetch(now, page_size)
    while True:
        assert len(page) <= page_size
        found += [id_of(entry) for entry in page]
        if start is None:
            break
        page, start = fetch(now, page_size, start)
    assert len(found) == len(set(found)), found
    return sorted(found)


def _every_due_offer(deps: Deps, now: str, page_size: int) -> list[str]:
    return every_due(deps.routing.due_offers, now, page_size, lambda offer: offer.offer_id)


def test_the_due_sweep_finds_every_due_offer_and_message_across_pages(deps: Deps) -> None:
    deps.transactions.commit([deps.routing.add_offer(_offer(n, expires_at=NOW)) for n in range(1, 25)])
    deps.transactions.commit([deps.routing.add_offer(_offer(n, expires_at=LATER)) for n in range(25, 30)])
    assert _every_due_offer(deps, NOW, 5) == [f"ofr_{n:04d}" for n in range(1, 25)]
    lead = _stored(deps, _lead())
    messages = [_message().model_copy(update={"message_id": f"msg_{n:04d}", "lead_id": lead.lead_id})
                for n in range(1, 13)]
    deps.transactions.commit([deps.outbox.add(m, NOW) for m in messages])
    assert sorted(m.message_id for m in deps.outbox.due(NOW)) == [m.message_id for m in messages]
    assert len(deps.outbox.due(NOW, limit=5)) == 5


def test_a_waiting_marker_is_removed_only_at_its_routing_version(deps: Deps) -> None:
    waiting = Waiting(lead_id="lead_0001", account_id="acc_1", routing_version=3, opens_at=LATER)
    deps.transactions.commit([deps.routing.add_waiting(waiting)])
    assert deps.routing.waiting("lead_0001") == waiting
    assert [w.lead_id for w in deps.routing.due_openings(NOW, 10)[0]] == []
    assert [w.lead_id for w in deps.routing.due_openings(LATER, 10)[0]] == ["lead_0001"]
    with pytest.raises(errors.VersionConflict):
        deps.transactions.commit([deps.routing.remove_waiting(waiting.model_copy(update={"routing_version": 2}))])
    deps.routing.drop_waiting(waiting.model_copy(update={"routing_version": 2}))
    assert deps.routing.waiting("lead_0001") == waiting
    deps.transactions.commit([deps.routing.remove_waiting(waiting)])
    assert deps.routing.waiting("lead_0001") is None


def test_feedback_parts_earned(deps: Deps) -> None:
    assert deps.routing.feedback_earned("lead_0001", "usr_1") == set()
    deps.transactions.commit([deps.routing.record_feedback("lead_0001", "usr_1", {"feedback_status"}, NOW)])
    assert deps.routing.feedback_earned("lead_0001", "usr_1") == {"feedback_status"}


# -- outbox, deliveries, appointments, saved replies, notifications -----------------------------------

def _message(status: str = "queued") -> OutboxMessage:
    return OutboxMessage(message_id="msg_0001", lead_id="lead_0001", account_id="acc_1", group_id="grp_1",
                         channel="sms", to="+13125550177", body="Hi", status=status, created_at=NOW)


def _with_message_event(deps: Deps, status: str = "queued") -> OutboxMessage:
    lead = _stored(deps, _lead())
    message = _message(status)
    event = timeline_event(lead, "message", None, FixedClock(NOW).now(), event_id=message.message_id,
                           direction="outbound", channel="sms", body="Hi", status=status)
    deps.transactions.commit([deps.outbox.add(message, NOW), deps.leads.add_event(event)])
    return message


def test_a_message_moves_with_its_timeline_event_and_leaves_the_due_index(deps: Deps) -> None:
    message = _with_message_event(deps)
    assert deps.outbox.get(message.message_id) == message
    assert [m.message_id for m in deps.outbox.due(NOW)] == ["msg_0001"]
    deps.transactions.commit(deps.outbox.move("lead_0001", "msg_0001", "sent", ("queued",),
                                              shown={"sent_at": LATER}, set_fields={"attempts": 1,
                                                                                     "provider_id": "SM1"}))
    moved = deps.outbox.get("msg_0001")
    assert moved is not None and (moved.status, moved.attempts, moved.provider_id) == ("sent", 1, "SM1")
    shown = deps.leads.event("lead_0001", "msg_0001")
    assert shown is not None and (shown.data["status"], shown.data["sent_at"]) == ("sent", LATER)
    assert deps.outbox.due(LATER) == []
    with pytest.raises(errors.AlreadyDecided):
        deps.transactions.commit(deps.outbox.move("lead_0001", "msg_0001", "sent", ("queued",)))


def test_the_sweep_claims_a_due_message_once_and_never_one_that_moved_on(deps: Deps) -> None:
    _with_message_event(deps)
    first, second = deps.outbox.due(NOW), deps.outbox.due(NOW)  # two overlapping sweeps read it
    assert first == [DueMessage(message_id="msg_0001", due_at=NOW)]
    assert deps.outbox.claim_due(first, LATER) == DueClaims(claimed=["msg_0001"])
    assert deps.outbox.claim_due(second, LATER) == DueClaims(moved_on=["msg_0001"])
    assert deps.outbox.due(NOW) == []
    assert deps.outbox.due(LATER) == [DueMessage(message_id="msg_0001", due_at=LATER)]
    stale = deps.outbox.due(LATER)
    deps.transactions.commit(deps.outbox.move("lead_0001", "msg_0001", "sent", ("queued",)))
    assert deps.outbox.claim_due(stale, LAST) == DueClaims(moved_on=["msg_0001"])
    assert deps.outbox.due(LAST) == []


def test_the_sweep_claims_past_a_batch_and_past_the_messages_that_moved_on(deps: Deps) -> None:
    lead = _stored(deps, _lead())
    messages = [_message().model_copy(update={"message_id": f"msg_{n:04d}", "lead_id": lead.lead_id})
                for n in range(1, 131)]
    for start in range(0, len(messages), 50):
        deps.transactions.commit([deps.outbox.add(m, NOW) for m in messages[start:start + 50]])
    due = deps.outbox.due(NOW)
    assert len(due) == 130
    for moved in ("msg_0007", "msg_0120"):  # sent by the consumer between the sweep's read and its claim
        deps.transactions.commit(deps.outbox.move(lead.lead_id, moved, "sent", ("queued",))[:1])
    claims = deps.outbox.claim_due(due, LATER)
    assert sorted(claims.moved_on) == ["msg_0007", "msg_0120"]
    assert sorted(claims.claimed) == sorted(m.message_id for m in messages if m.message_id not in claims.moved_on)
    assert deps.outbox.due(NOW) == []
    assert len(deps.outbox.due(LATER)) == 128


def test_a_queued_message_is_claimed_once_and_never_for_an_opted_out_lead(deps: Deps) -> None:
    message = _with_message_event(deps)
    deps.outbox.claim(message, NOW, LATER)
    with pytest.raises(errors.ClaimHeld):
        deps.outbox.claim(message, NOW, LATER)
    with pytest.raises(errors.AlreadyDecided):  # nobody else may move it while the claim is live
        deps.transactions.commit(deps.outbox.move("lead_0001", "msg_0001", "dropped", ("queued",), claim_free_at=NOW))
    after_claim = "2026-11-02T15:05:00.001Z"
    deps.outbox.claim(message, after_claim, "2026-11-02T15:10:00.000Z")  # the first claim ran out
    lead = deps.leads.require("lead_0001")
    deps.transactions.commit(deps.leads.save(lead, next_version(lead, opted_out=True)))
    deps.transactions.commit(deps.outbox.move("lead_0001", "msg_0001", "queued", ("queued",), release=True,
                                              due_at=NOW))
    with pytest.raises(errors.LeadOptedOut):
        deps.outbox.claim(message, after_claim, "2026-11-02T15:10:00.000Z")
    deps.transactions.commit(deps.outbox.move("lead_0001", "msg_0001", "sent", ("queued",)))
    with pytest.raises(errors.ClaimHeld):  # not queued any more: whatever the lead
        deps.outbox.claim(message, after_claim, "2026-11-02T15:10:00.000Z")


def test_provider_ids_and_dedup_keys(deps: Deps) -> None:
    deps.transactions.commit([deps.deliveries.record_provider_id("twilio", "SM1", "lead_0001", "msg_0001",
                                                                 account_id="acc_1", provider_account="AC1")])
    found = deps.deliveries.provider_message("twilio", "SM1")
    assert found is not None and (found.message_id, found.provider_account) == ("msg_0001", "AC1")
    assert deps.deliveries.provider_message("twilio", "SM2") is None
    deps.transactions.commit([deps.deliveries.record("twilio", "SM1", 1, lead_id="lead_0001", message_id="m")])
    with pytest.raises(errors.DuplicateDelivery):
        deps.transactions.commit([deps.deliveries.record("twilio", "SM1", 1, lead_id="lead_0002", message_id="n")])
    assert deps.deliveries.seen("twilio", "SM1") == {"lead_id": "lead_0001", "message_id": "m"}


def test_a_claim_an_earlier_release_left_unfinished_is_taken_over(deps: Deps) -> None:
    # Releases before 2026-11-27 claimed a new contact's message id before making its lead; a consumer
    # that crashed left the claim without a lead, and the message was never stored.
    from chalicelib.adapters.dynamodb import keys

    if isinstance(deps.deliveries, DeliveryRepository):
        deps.deliveries.table.put({**keys.dedup_key("meta", "mid1"), "type": "dedup", "ttl": 1, "claimed_at": NOW})
    else:
        deps.deliveries.state.dedup[("meta", "mid1")] = {"claimed_at": NOW}  # type: ignore[attr-defined]
    deps.transactions.commit([deps.deliveries.record("meta", "mid1", 1, lead_id="lead_0001", message_id="m2")])
    assert deps.deliveries.seen("meta", "mid1") == {"lead_id": "lead_0001", "message_id": "m2"}
    with pytest.raises(errors.DuplicateDelivery):
        deps.transactions.commit([deps.deliveries.record("meta", "mid1", 1, lead_id="lead_0002", message_id="m3")])


def test_an_appointment_changes_only_from_the_status_it_was_read_in(deps: Deps) -> None:
    appointment = Appointment(appointment_id="apt_1", lead_id="lead_0001", account_id="acc_1", group_id="grp_1",
                              at=LATER, created_at=NOW, updated_at=NOW)
    deps.transactions.commit([deps.appointments.save(appointment)])
    with pytest.raises(errors.LostRace):
        deps.transactions.commit([deps.appointments.save(appointment)])
    showed = appointment.model_copy(update={"status": "showed"})
    deps.transactions.commit([deps.appointments.save(showed, expected_status="scheduled")])
    assert deps.appointments.get("apt_1") == showed
    with pytest.raises(errors.AlreadyDecided):
        deps.transactions.commit([deps.appointments.save(showed, expected_status="scheduled")])


def test_saved_replies_by_title_with_their_cursor(deps: Deps) -> None:
    for n, title in enumerate(["Trade-in", "directions", "Financing"]):
        deps.saved_replies.put(SavedReply(saved_reply_id=f"svr_{n}", account_id="acc_1", group_id="grp_1", title=title,
                                          body="b", created_at=NOW, updated_at=NOW), new=True)
    with pytest.raises(errors.Conflict):
        deps.saved_replies.put(deps.saved_replies.get("svr_0"), new=True)  # type: ignore[arg-type]
    first, cursor = deps.saved_replies.page("acc_1", 2, None)
    assert [r.title for r in first] == ["directions", "Financing"] and cursor
    rest, _ = deps.saved_replies.page("acc_1", 2, cursor)
    assert [r.title for r in rest] == ["Trade-in"]
    with pytest.raises(errors.ValidationFailed):
        deps.saved_replies.page("acc_1", 2, "bm90LWEtY3Vyc29y")
    deps.saved_replies.delete("svr_0")
    with pytest.raises(errors.NotFound):
        deps.saved_replies.delete("svr_0")
    assert deps.saved_replies.get("svr_0") is None


def test_a_notification_lands_with_its_transaction(deps: Deps) -> None:
    note = Notification(notification_id="ntf_9", user_id="usr_9", kind="assigned", title="yours", text="yours",
                        at="2026-11-02T15:00:00.000Z")
    assert deps.notifications.page("usr_9", 10, None)[0] == []
    deps.transactions.commit([deps.notifications.added(note, 2_000_000_000)])
    assert [n.notification_id for n in deps.notifications.page("usr_9", 10, None)[0]] == ["ntf_9"]


def test_notifications_newest_first_unread_and_read(deps: Deps) -> None:
    for n in range(3):
        deps.notifications.add(Notification(notification_id=f"ntf_{n}", user_id="usr_1", kind="offer", title=f"t{n}",
                                            text=f"t{n}", at=NOW), ttl=1)
    page, cursor = deps.notifications.page("usr_1", 2, None)
    assert [n.notification_id for n in page] == ["ntf_2", "ntf_1"] and cursor
    assert [n.notification_id for n in deps.notifications.page("usr_1", 2, cursor)[0]] == ["ntf_0"]
    assert deps.notifications.mark_read("usr_1", "ntf_2").read is True
    assert [n.notification_id for n in deps.notifications.page("usr_1", 10, None, unread_only=True)[0]] == \
        ["ntf_1", "ntf_0"]
    with pytest.raises(errors.NotFound):
        deps.notifications.mark_read("usr_2", "ntf_1")
    assert deps.notifications.delivered("ntf_1", "email") is False
    deps.notifications.mark_delivered("ntf_1", "email", ttl=1)
    assert deps.notifications.delivered("ntf_1", "email") is True


# -- tenancy ------------------------------------------------------------------------------------------

def _account(n: int, **fields: Any) -> Account:
    return Account(account_id=f"acc_{n}", group_id="grp_1", name=f"Store {n}", timezone="America/Chicago",
                   api_key=f"key-{n}", created_at=NOW, updated_at=NOW, **fields)


def test_stores_keep_their_numbers_to_themselves(deps: Deps) -> None:
    group = Group(group_id="grp_1", name="Acme", created_at=NOW)
    one = _account(1, sms_number="+13125550100", twilio_account_sid="AC" + "1" * 32)
    deps.accounts.create(one, group)
    with pytest.raises(errors.Conflict) as taken:
        deps.accounts.create(_account(2, sms_number="+13125550100"))
    assert taken.value.code == "already_exists" and taken.value.details[0]["field"] == "sms_number"
    owner, pointer = deps.accounts.sms_route("+13125550100", "+13125550177")
    assert owner is not None and (owner.account_id, owner.twilio_account_sid) == ("acc_1", "AC" + "1" * 32)
    assert pointer is None
    moved = one.model_copy(update={"sms_number": "+13125550101", "updated_at": LATER})
    deps.accounts.replace(one, moved)
    assert deps.accounts.sms_route("+13125550100", None) == (None, None)
    assert deps.accounts.sms_route("+13125550101", None)[0].account_id == "acc_1"  # type: ignore[union-attr]
    with pytest.raises(errors.Conflict):
        deps.accounts.replace(one, moved)  # read before the last change
    assert deps.accounts.by_api_key("key-1") == moved
    assert deps.groups.get("grp_1") == group
    deps.accounts.create(_account(3))
    assert [a.account_id for a in deps.accounts.list_for_group("grp_1")] == ["acc_1", "acc_3"]
    page, more = deps.accounts.page_for_group("grp_1", 1, None, lambda a: True)
    assert [a.account_id for a in page] == ["acc_1"] and more


def test_users_by_email_and_the_groups_list_without_deleted_ones(deps: Deps) -> None:
    def user(n: int) -> User:
        return User(user_id=f"usr_{n}", group_id="grp_1", email=f"u{n}@acme.com", name=f"U{n}", role=Role.AGENT,
                    created_at=NOW, updated_at=NOW)

    deps.users.create_with_group(user(1), Group(group_id="grp_1", name="Acme", created_at=NOW))
    deps.users.create(user(2))
    with pytest.raises(errors.Conflict) as taken:
        deps.users.create(user(3).model_copy(update={"email": "u1@acme.com"}))
    assert taken.value.code == "already_exists"
    assert deps.users.identity_of("u2@acme.com") == "usr_2"
    assert deps.users.in_group_by_email("grp_1", "u2@acme.com") == user(2)
    assert deps.users.set_available("usr_2", False, LATER).available is False
    gone = user(1).model_copy(update={"deleted": True, "updated_at": LATER})
    assert deps.users.replace(user(1), gone) is True
    assert deps.users.identity_of("u1@acme.com") is None
    assert deps.users.in_group_by_email("grp_1", "u1@acme.com") is None
    assert [u.user_id for u in deps.users.list_for_group("grp_1")] == ["usr_2"]
    with pytest.raises(errors.NotFound):
        deps.users.set_available("usr_1", True, LATER)


def _person(user_id: str, group_id: str, email: str, identity_id: str | None = None, at: str = NOW) -> User:
    return User(user_id=user_id, identity_id=identity_id, group_id=group_id, email=email, name="Pat",
                role=Role.AGENT, created_at=at, updated_at=at)


def test_a_person_joins_a_second_group_and_the_last_one_out_releases_the_address(deps: Deps) -> None:
    first = _person("usr_p", "grp_a", "pat@x.com")
    deps.users.create_with_group(first, Group(group_id="grp_a", name="A", created_at=NOW))
    second = _person("usr_q", "grp_b", "pat@x.com", identity_id="usr_p", at=LATER)
    deps.users.join(second, Group(group_id="grp_b", name="B", created_at=LATER))
    assert deps.groups.get("grp_b") is not None
    found = [(m.group_id, m.user_id) for m in deps.users.memberships("usr_p")]
    assert found == [("grp_a", "usr_p"), ("grp_b", "usr_q")]
    assert deps.users.membership("usr_p", "grp_b") == "usr_q"
    with pytest.raises(errors.Conflict) as again:
        deps.users.join(_person("usr_r", "grp_b", "pat@x.com", identity_id="usr_p", at=LATER))
    assert again.value.code == "already_exists"
    with pytest.raises(errors.Conflict):  # the address is the person's: one record cannot change it alone
        deps.users.replace(second, second.model_copy(update={"email": "new@x.com", "updated_at": LAST}))
    assert deps.users.replace(first, first.model_copy(update={"deleted": True, "updated_at": LATER})) is False
    assert deps.users.identity_of("pat@x.com") == "usr_p"
    assert [m.group_id for m in deps.users.memberships("usr_p")] == ["grp_b"]
    assert deps.users.replace(second, second.model_copy(update={"deleted": True, "updated_at": LAST})) is True
    assert deps.users.identity_of("pat@x.com") is None and deps.users.memberships("usr_p") == []
    with pytest.raises(errors.Conflict):  # nobody signs in with the address any more: nobody to join
        deps.users.join(_person("usr_s", "grp_a", "pat@x.com", identity_id="usr_p", at=LATER))


def test_a_record_moves_to_the_person_at_its_new_address(deps: Deps) -> None:
    for user_id, group_id, email in (("usr_p", "grp_a", "pat@x.com"), ("usr_j", "grp_b", "jo@x.com")):
        group = Group(group_id=group_id, name="G", created_at=NOW)
        deps.users.create_with_group(_person(user_id, group_id, email), group)
    seat = _person("usr_s", "grp_a", "sam@x.com")
    deps.users.create(seat)
    moved = seat.model_copy(update={"email": "jo@x.com", "identity_id": "usr_j", "updated_at": LATER})
    assert deps.users.replace(seat, moved) is True  # sam signed in nowhere else
    assert deps.users.identity_of("sam@x.com") is None
    assert deps.users.membership("usr_j", "grp_a") == "usr_s"
    assert [m.group_id for m in deps.users.memberships("usr_j")] == ["grp_b", "grp_a"]
    with pytest.raises(errors.Conflict) as shared:  # jo's address is jo's in both groups
        deps.users.replace(moved, moved.model_copy(update={"email": "pat@x.com", "updated_at": LAST}))
    assert shared.value.code == "conflict"
    renamed = _person("usr_p", "grp_a", "pat@x.com")
    assert deps.users.replace(renamed, renamed.model_copy(update={"email": "pat@y.com", "updated_at": LATER})) is False
    assert deps.users.identity_of("pat@y.com") == "usr_p" and deps.users.identity_of("pat@x.com") is None


def test_a_stores_routing_and_a_lead_with_its_store_are_read_together(deps: Deps) -> None:
    empty = deps.routing.store_routing("acc_1")
    assert (empty.account, empty.config, empty.rotation) == (None, None, Rotation())
    assert deps.leads.with_store("lead_0001", "acc_1") == (None, None)
    store = _account(1)
    deps.accounts.create(store, Group(group_id="grp_1", name="Acme", created_at=NOW))
    config = RoutingConfig(account_id="acc_1", offer_timeout_seconds=90)
    deps.routing.put_config(config)
    moved = Rotation(seq=1, last_offered={"usr_1": 1})
    deps.transactions.commit([deps.routing.save_rotation("acc_1", Rotation(), moved)])
    read = deps.routing.store_routing("acc_1")
    assert (read.account, read.config, read.rotation) == (deps.accounts.get("acc_1"), config,
                                                          moved.model_copy(update={"rev": 1}))
    lead = _stored(deps, _lead())
    assert deps.leads.with_store(lead.lead_id, "acc_1") == (lead, deps.accounts.get("acc_1"))
    assert deps.leads.with_store(lead.lead_id, "acc_2") == (lead, None)


def test_an_offer_is_read_with_its_callers_record_and_a_check_holds_the_record(deps: Deps) -> None:
    assert deps.routing.offer_with_user("ofr_0001", "usr_p") == (None, None)
    pat = _person("usr_p", "grp_a", "pat@x.com")
    deps.users.create_with_group(pat, Group(group_id="grp_a", name="A", created_at=NOW))
    deps.transactions.commit([deps.routing.add_offer(_offer(1, agent="usr_p"))])
    assert deps.routing.offer_with_user("ofr_0001", "usr_p") == (deps.routing.offer("ofr_0001"), pat)
    assert deps.routing.offer_with_user("ofr_0002", "usr_p") == (None, pat)
    # The check passes on the record as read, and adds nothing to the transaction's writes.
    deps.transactions.commit([deps.users.unchanged(pat), deps.routing.add_offer(_offer(2, agent="usr_p"))])
    assert deps.routing.offer("ofr_0002") is not None
    # Deleted in the same millisecond it was read: still refused, and nothing of the transaction lands.
    gone = pat.model_copy(update={"deleted": True})
    deps.users.replace(pat, gone)
    with pytest.raises(errors.CallerChanged):
        deps.transactions.commit([deps.users.unchanged(pat), deps.routing.add_offer(_offer(3, agent="usr_p"))])
    assert deps.routing.offer("ofr_0003") is None
    # Any later write of the record (its updated_at) fails a check of the record read before it.
    jo = _person("usr_j", "grp_a", "jo@x.com")
    deps.users.create(jo)
    deps.users.set_available("usr_j", False, LATER)
    with pytest.raises(errors.CallerChanged):
        deps.transactions.commit([deps.users.unchanged(jo)])
    with pytest.raises(errors.CallerChanged):  # nobody's record
        deps.transactions.commit([deps.users.unchanged(_person("usr_x", "grp_a", "x@x.com"))])


def test_records_and_groups_are_read_together(deps: Deps) -> None:
    assert deps.users.records_and_groups(set(), set()) == ({}, {})
    first = _person("usr_p", "grp_a", "pat@x.com")
    group_a = Group(group_id="grp_a", name="A", created_at=NOW)
    deps.users.create_with_group(first, group_a)
    second = _person("usr_q", "grp_b", "pat@x.com", identity_id="usr_p", at=LATER)
    group_b = Group(group_id="grp_b", name="B", created_at=LATER)
    deps.users.join(second, group_b)
    users, groups = deps.users.records_and_groups({"usr_p", "usr_q", "usr_none"}, {"grp_a", "grp_b", "grp_none"})
    assert users == {"usr_p": first, "usr_q": second}
    assert groups == {"grp_a": group_a, "grp_b": group_b}
