"""The load test's check (bench/_load_check.py, bench/_load_report.py): where each accepted request's lead
is, how the settle waits, and what fails the run. Pure pieces, on fakes; no load is run here."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from _load_check import Emulator as RealEmulator
from _load_check import Queue, classify, settle
from _load_report import failures, findings

from chalicelib.adapters.dynamodb.leads import LeadRepository
from chalicelib.domain.timeline import TimelineEvent


@dataclass
class Request:
    account_id: str
    phone: str
    accepted: bool = True


def contact(request: Request) -> tuple[str, str]:
    return request.account_id, request.phone


def test_a_request_is_stored_queued_dead_or_lost_by_where_its_number_is() -> None:
    stored, queued, dead, lost = (Request("A1", "+17732000001"), Request("A1", "+17732000002"),
                                  Request("A2", "+17732000003"), Request("A2", "+17732000004"))
    verdict = classify([stored, queued, dead, lost], contact, {("A1", "+17732000001")},
                       queued_bodies=['{"form": "From=%2B17732000002&Body=Hi"}'],
                       dead_bodies=['{"From": "+17732000003"}'], unread_queued=0)
    assert (verdict.stored, verdict.queued, verdict.dead, verdict.lost) == ([stored], [queued], [dead], [lost])


def test_the_same_number_stored_in_another_store_is_not_this_request_s_lead() -> None:
    request = Request("A2", "+17732000001")
    verdict = classify([request], contact, {("A1", "+17732000001")}, [], [], unread_queued=0)
    assert verdict.lost == [request]


def test_each_unreadable_queued_message_stands_for_at_most_one_missing_request() -> None:
    missing = [Request("A1", f"+1773200000{n}") for n in range(3)]
    verdict = classify(missing, contact, set(), [], [], unread_queued=2)
    assert (len(verdict.queued), verdict.lost) == (2, [missing[2]])


class Emulator:
    """Queues that drain one step at a time; an overdue offer until the second look."""

    def __init__(self, depths: list[int]) -> None:
        self.depths, self.looks = depths, 0

    def queues(self) -> list[Queue]:
        depth = self.depths[min(self.looks, len(self.depths) - 1)]
        return [Queue("work", "u1", dead_letter=False, depth=depth), Queue("work-dlq", "u2", dead_letter=True, depth=1)]

    def overdue(self, now: datetime) -> dict[str, int]:
        self.looks += 1
        return {"OFFER": 1} if self.looks < 2 else {}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_settle_waits_until_the_work_queues_are_empty_and_nothing_is_overdue_dead_letters_aside() -> None:
    clock, said = Clock(), []
    waited, drained = settle(Emulator([5, 3, 0]), 100, said.append, clock=clock, sleep=clock.sleep, every=10)
    assert (waited, drained, len(said)) == (20.0, True, 2)
    assert "queued 5" in said[0] and "OFFER" in said[0]


def test_settle_stops_at_its_bound_and_says_it_did_not_drain() -> None:
    clock = Clock()
    waited, drained = settle(Emulator([5]), 25, lambda line: None, clock=clock, sleep=clock.sleep, every=10)
    assert (waited, drained) == (30.0, False)


def lead(lead_id: str, account_id: str, phone: str) -> dict[str, str]:
    return {"PK": f"LEAD#{lead_id}", "type": "lead", "lead_id": lead_id, "account_id": account_id, "phone": phone}


def stored_message(lead_id: str, body: str, at: str) -> dict[str, Any]:
    """A customer's message as the product stores it (the item LeadRepository.add_event puts)."""
    event = TimelineEvent(event_id="msg1", lead_id=lead_id, type="message", at=at,
                          data={"message_id": "msg1", "direction": "inbound", "channel": "sms", "body": body,
                                "status": "received"})
    return dict(LeadRepository(table=None).add_event(event).op["Put"]["Item"])  # type: ignore[arg-type]


def test_a_run_fails_on_a_lost_lead_a_double_owner_a_send_after_stop_or_a_dead_letter() -> None:
    items = [lead("L1", "A1", "+17732000001"),
             {"type": "offer", "lead_id": "L1", "state": "accepted"},
             {"type": "offer", "lead_id": "L1", "state": "accepted"},
             stored_message("L1", "stop", "2026-11-26T10:00:00Z"),
             {"PK": "SANDBOX#sms", "to": "+17732000001", "at": "2026-11-26T10:00:05Z"}]
    sent = [Request("A1", "+17732000001"), Request("A1", "+17732000009"), Request("A1", "+17732000008", accepted=False)]
    queues = [Queue("work-dlq", "u", dead_letter=True, depth=1)]
    facts = findings(sent, items, queues, queued_bodies=[], dead_bodies=["{}"])
    assert failures(facts) == ["1 leads lost", "1 double owners", "1 sends to opted-out customers",
                               "1 dead-letter messages"]


def test_a_clean_run_with_a_lead_still_queued_does_not_fail() -> None:
    queues = [Queue("inbound", "u", dead_letter=False, depth=1)]
    facts = findings([Request("A1", "+17732000001")], [], queues, queued_bodies=["From=%2B17732000001"], dead_bodies=[])
    assert failures(facts) == [] and len(facts["verdict"].queued) == 1


class Backlog:
    """An SQS client whose queue holds `held` messages: each receive hands out the next ones."""

    def __init__(self, held: int) -> None:
        self.held, self.calls = held, 0

    def receive_message(self, QueueUrl: str, MaxNumberOfMessages: int, **_: Any) -> dict[str, Any]:
        self.calls += 1
        taken = min(MaxNumberOfMessages, self.held)
        self.held -= taken
        return {"Messages": [{"MessageId": f"m{self.held + n}", "Body": "{}"} for n in range(taken)]}


def test_the_check_reads_a_bounded_sample_of_a_backlog_and_all_of_a_small_queue() -> None:
    emulator = RealEmulator("http://127.0.0.1:9")  # no call reaches it: its SQS client is replaced
    emulator.sqs = Backlog(28_000)
    queue = Queue("outbox", "u", dead_letter=False, depth=28_000)
    assert len(emulator.peek(queue, limit=1000)) == 1000 and emulator.sqs.calls == 100
    emulator.sqs = Backlog(37)
    assert len(emulator.peek(queue, limit=1000)) == 37 and emulator.sqs.calls == 5


def test_messages_not_read_count_as_queued_and_dead_letters_count_from_the_depths() -> None:
    queues = [Queue("inbound", "u", dead_letter=False, depth=5000),
              Queue("inbound-dlq", "d", dead_letter=True, depth=3)]
    waiting = [Request("A1", f"+1773200{n:04d}") for n in range(10)]
    facts = findings(waiting, [], queues, queued_bodies=["From=%2B17732000000"], dead_bodies=["{}"])
    assert (len(facts["verdict"].queued), facts["verdict"].lost) == (10, [])  # 4,999 + 2 unread
    assert failures(facts) == ["3 dead-letter messages"]
