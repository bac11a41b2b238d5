"""Messaging and the outbox on fakes: a message goes to the sender once, quiet hours schedule it,
an opt-out drops what has not gone, a failed send retries then fails, delivery callbacks only
move a message forward, a scheduled message can be cancelled until it goes, the sweep gives a
waiting message one job a grace period (not one a sweep), and once when two sweeps overlap."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.domain.messaging import SendFailed
from chalicelib.services import lead_actions, messaging, outbox
from tests.unit.services.shop import Shop, shop


def _owned(s: Shop) -> str:
    from chalicelib.services import routing

    lead = s.lead()
    [offer] = [o.offer_id for o in s.deps.state.offers.values() if o.lead_id == lead.lead_id]
    routing.accept_offer(s.deps, s.agents[0].caller(), offer)
    return lead.lead_id


def _event(s: Shop, lead_id: str, message_id: str) -> dict:
    return s.deps.state.events[lead_id][message_id].data


def test_a_message_is_written_queued_and_handed_to_the_sender_once() -> None:
    s = shop()
    lead_id = _owned(s)
    s.queued("outbox")
    sent = messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="Hi {{lead.first_name}}!")
    assert sent["status"] == "queued"
    assert s.queued("outbox") == [{"kind": "message", "message_id": sent["message_id"]}]
    assert outbox.deliver(s.deps, sent["message_id"]) == "sent"
    assert outbox.deliver(s.deps, sent["message_id"]) == "sent"  # a repeated job sends nothing more
    [handed] = s.deps.sender.sent  # type: ignore[attr-defined]
    assert (handed.to, handed.body, handed.sender) == ("+13125550177", "Hi Maria!", "+13125550100")
    lead = s.current(lead_id)
    assert lead.awaiting_since is None and lead.first_response_at is not None
    assert _event(s, lead_id, sent["message_id"])["status"] == "sent"


def test_quiet_hours_schedule_and_the_sweep_sends_at_eight() -> None:
    s = shop()
    lead_id = _owned(s)
    s.clock.set("2026-11-03T04:00:00Z")  # 22:00 in Chicago
    sent = messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="Good morning")
    assert sent == {"message_id": sent["message_id"], "status": "scheduled", "send_at": "2026-11-03T14:00:00.000Z"}
    assert s.current(lead_id).scheduled_messages == 1
    assert outbox.sweep_due(s.deps) == 0
    s.clock.set("2026-11-03T14:00:01Z")
    assert outbox.sweep_due(s.deps) == 1
    assert outbox.deliver(s.deps, sent["message_id"]) == "sent"
    assert s.current(lead_id).scheduled_messages == 0


def test_the_sweep_enqueues_a_message_still_waiting_once_a_grace_period_not_once_a_sweep() -> None:
    s = shop()
    lead_id = _owned(s)
    sent = messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="Hi")
    s.queued("outbox")  # its job went missing (or the backlog is slow)
    jobs = []
    for _ in range(9):  # every minute for 9 minutes
        s.clock.advance(minutes=1)
        outbox.sweep_due(s.deps)
        jobs.append(len(s.queued("outbox")))
    # due 2 min after it was written: a job at minute 2, its due time moved 2 min on each time
    assert jobs == [0, 1, 0, 1, 0, 1, 0, 1, 0]
    assert outbox.deliver(s.deps, sent["message_id"]) == "sent"
    s.clock.advance(minutes=5)
    assert outbox.sweep_due(s.deps) == 0  # sent: out of the index


def test_two_overlapping_sweeps_enqueue_a_due_message_once(monkeypatch: pytest.MonkeyPatch) -> None:
    s = shop()
    lead_id = _owned(s)
    sent = messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="Hi")
    s.queued("outbox")
    s.clock.advance(minutes=3)
    read_due = s.deps.outbox.due

    def read_then_another_sweep_runs(now: str, limit: int = 1000) -> list:
        read = read_due(now, limit)
        monkeypatch.setattr(s.deps.outbox, "due", read_due)
        assert outbox.sweep_due(s.deps) == 1  # the other sweep, between this one's read and its claim
        return read

    monkeypatch.setattr(s.deps.outbox, "due", read_then_another_sweep_runs)
    assert outbox.sweep_due(s.deps) == 0
    assert s.queued("outbox") == [{"kind": "message", "message_id": sent["message_id"]}]


def test_an_opt_out_drops_a_scheduled_message_and_refuses_new_ones() -> None:
    s = shop()
    lead_id = _owned(s)
    agent = s.principal(s.agents[0])
    sent = messaging.send_message(s.deps, agent, lead_id, body="Later", send_at="2026-11-02T18:00:00Z")
    lead_actions.agent_opt_out(s.deps, agent, lead_id)
    s.clock.set("2026-11-02T18:00:01Z")
    assert outbox.deliver(s.deps, sent["message_id"]) == "dropped"
    assert _event(s, lead_id, sent["message_id"])["dropped_reason"] == "opted_out"
    with pytest.raises(Conflict) as refused:
        messaging.send_message(s.deps, agent, lead_id, body="Hello?")
    assert refused.value.code == "opted_out"
    assert s.deps.sender.sent == []  # type: ignore[attr-defined]


def test_a_failing_sender_is_retried_with_backoff_then_the_message_fails() -> None:
    s = shop()
    lead_id = _owned(s)
    sent = messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="Hi")
    s.deps.sender.fail_with = SendFailed("HTTP 503")  # type: ignore[attr-defined]
    statuses = [outbox.deliver(s.deps, sent["message_id"]) for _ in range(outbox.MAX_ATTEMPTS)]
    assert statuses == ["queued"] * (outbox.MAX_ATTEMPTS - 1) + ["failed"]
    delays = [delay for queue, _, delay in s.deps.queues.sent if queue == "outbox"]  # type: ignore[attr-defined]
    assert delays[1:] == list(outbox.BACKOFF_SECONDS)


def test_delivery_callbacks_move_a_message_forward_only() -> None:
    s = shop()
    lead_id = _owned(s)
    sent = messaging.send_message(s.deps, s.principal(s.agents[0]), lead_id, body="Hi")
    outbox.deliver(s.deps, sent["message_id"])
    provider_id = s.deps.state.outbox[sent["message_id"]].provider_id or ""
    target = outbox.delivery_target(s.deps, "twilio", provider_id)
    assert target is not None and target.message_id == sent["message_id"]
    assert outbox.record_delivery_status(s.deps, "twilio", target, "delivered") == "delivered"
    assert outbox.record_delivery_status(s.deps, "twilio", target, "sent") is None  # late: never back
    assert _event(s, lead_id, sent["message_id"])["status"] == "delivered"


def test_a_scheduled_message_is_cancelled_once_and_not_after_it_went() -> None:
    s = shop()
    lead_id = _owned(s)
    agent = s.principal(s.agents[0])
    first = messaging.send_message(s.deps, agent, lead_id, body="Later", send_at="2026-11-02T18:00:00Z")
    assert messaging.cancel_message(s.deps, agent, lead_id, first["message_id"])["status"] == "cancelled"
    with pytest.raises(Conflict) as again:
        messaging.cancel_message(s.deps, agent, lead_id, first["message_id"])
    assert again.value.code == "not_scheduled"
    assert s.current(lead_id).scheduled_messages == 0
