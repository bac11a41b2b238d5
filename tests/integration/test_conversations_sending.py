"""Sending through the HTTP contract: smart fields, saved replies and kinds, quiet hours, scheduled
messages and their cancel, the outbox (queued -> delivered through the sandbox sender), provider
errors retried with backoff then failed, lost queue jobs recovered by the sweep, and the
opt-out check at the moment of sending."""

from __future__ import annotations

import threading

from chalicelib.adapters.aws import client
from chalicelib.adapters.dynamodb.outbox import OutboxRepository
from chalicelib.domain.messaging import OutboundMessage, SendFailed, SendResult
from chalicelib.services import outbox as service
from tests.integration.conversations_support import (
    atomic_dynamodb,
    current,
    drain,
    lead,
    messages,
    queued_jobs,
    report_events,
    sent,
    sms,
    store,
    sweep,
)
from tests.support import World


def test_send_renders_smart_fields_and_is_delivered_through_the_outbox(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    reply = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token,
                       {"body": "Hi {{lead.first_name}}, this is {{agent.name}} at {{account.name}}. "
                                "We are at {{ account.address }}."})
    assert reply.status == 202 and reply.json["status"] == "queued"
    message_id = reply.json["message_id"]
    [shown] = [m for m in messages(world, existing.lead_id) if m["direction"] == "outbound"]
    assert shown["message_id"] == message_id and shown["status"] == "queued"
    assert shown["by"] == s.agent["user_id"] and shown["automated"] is False
    assert shown["body"] == "Hi Maria, this is Sam at Acme Honda. We are at 1200 N Clark St, Chicago, IL."
    assert sent(world, s) == []  # nothing goes before the outbox runs
    drain(world, "outbox")
    [record] = sent(world, s)
    assert (record["to"], record["sender"], record["body"]) == ("+13125550199", "+13125550100", shown["body"])
    done = next(m for m in messages(world, existing.lead_id) if m["message_id"] == message_id)
    assert done["status"] == "delivered" and done["provider_id"] == record["send_id"]
    after = current(world, existing.lead_id)
    assert after.awaiting_since is None and after.first_response_at == "2026-11-02T15:00:00.000Z"
    [human] = report_events(world, s, "human_response")
    assert human["user_id"] == s.agent["user_id"] and human["data"] == {"activity": "message", "automated": False}
    # Running the outbox job again sends nothing more.
    service.deliver(world.deps, message_id)
    assert len(sent(world, s)) == 1


def test_unknown_smart_field_is_400_naming_it_and_nothing_is_queued(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    reply = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token,
                       {"body": "Hi {{lead.nickname}} and {{foo}}"})
    assert reply.status == 400
    detail = reply.json["error"]["details"][0]
    assert detail["field"] == "body" and "{{lead.nickname}}" in detail["message"] and "{{foo}}" in detail["message"]
    assert queued_jobs(world, "outbox") == []
    assert [m for m in messages(world, existing.lead_id) if m["direction"] == "outbound"] == []


def test_empty_fields_use_the_fallback_or_vanish_cleanly(world: World) -> None:
    s = store(world)
    nameless = lead(world, s, first_name=None, last_name=None)
    world.post(f"/leads/{nameless.lead_id}/messages", s.agent_token, {"body": "Hi {{lead.first_name}}, thanks!"})
    world.post(f"/leads/{nameless.lead_id}/messages", s.agent_token,
               {"body": "Hi {{lead.first_name|there}}, thanks!"})
    bodies = [m["body"] for m in messages(world, nameless.lead_id) if m["direction"] == "outbound"]
    assert sorted(bodies) == ["Hi there, thanks!", "Hi, thanks!"]


def test_bad_requests_name_their_fields(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    path = f"/leads/{existing.lead_id}/messages"
    assert world.post(path, s.agent_token, {}).status == 400
    both = world.post(path, s.agent_token, {"body": "x", "kind": "directions"})
    assert both.status == 400
    bad = world.post(path, s.agent_token, {"body": "x", "send_at": "tomorrow", "kind": "map"})
    assert {d["field"] for d in bad.json["error"]["details"]} >= {"send_at", "kind"}
    past = world.post(path, s.agent_token, {"body": "x", "send_at": "2026-11-01T10:00:00Z"})
    assert past.status == 400 and past.json["error"]["details"][0]["field"] == "send_at"
    assert world.post(path, s.agent_token, {"body": "x", "media_url": "ftp://x"}).status == 400


def test_saved_replies_crud_and_sending_one(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    base = f"/accounts/{s.account_id}/saved-replies"
    created = world.post(base, s.admin_token, {"title": "Thanks", "body": "Thanks {{lead.first_name}}!"})
    assert created.status == 201
    reply_id = created.json["saved_reply_id"]
    assert world.post(base, s.admin_token, {"title": "Bad", "body": "Hi {{lead.shoe_size}}"}).status == 400
    world.post(base, s.admin_token, {"title": "Address", "body": "We are at {{account.address}}"})
    assert [r["title"] for r in world.get(base, s.agent_token).json["items"]] == ["Address", "Thanks"]
    patched = world.patch(f"/saved-replies/{reply_id}", s.admin_token, {"body": "Thank you {{lead.first_name}}!"})
    assert patched.status == 200 and patched.json["body"] == "Thank you {{lead.first_name}}!"
    sent_reply = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"saved_reply_id": reply_id})
    assert sent_reply.status == 202
    assert messages(world, existing.lead_id)[-1]["body"] == "Thank you Maria!"
    other = world.tenant("Beta", "b@beta.com")
    assert world.get(base, other.token).status == 404
    assert world.patch(f"/saved-replies/{reply_id}", other.token, {"title": "mine"}).status == 404
    assert world.delete(f"/saved-replies/{reply_id}", s.admin_token).status == 204
    assert world.delete(f"/saved-replies/{reply_id}", s.admin_token).status == 404
    gone = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"saved_reply_id": reply_id})
    assert gone.status == 404


def test_kinds_use_the_store_links(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    for kind, link in (("directions", "https://maps.example.com/acme"), ("voucher", "https://acme.com/voucher"),
                       ("credit_app", "https://acme.com/credit")):
        world.clock.advance(seconds=1)
        assert world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"kind": kind}).status == 202
        assert link in messages(world, existing.lead_id)[-1]["body"]
    world.patch(f"/accounts/{s.account_id}", s.admin_token, {"voucher_url": None})
    missing = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"kind": "voucher"})
    assert missing.status == 400 and missing.json["error"]["details"][0]["field"] == "kind"


def test_quiet_hours_schedule_for_the_next_8am_in_the_recipients_zone(world: World) -> None:
    s = store(world, timezone="America/Chicago")
    chicago = lead(world, s)  # +1 312: Chicago
    new_york = lead(world, s, phone="+12125550143", first_name="Ann")  # +1 212: New York
    world.clock.set("2026-11-03T02:30:00Z")  # 20:30 in Chicago, 21:30 in New York
    ok = world.post(f"/leads/{chicago.lead_id}/messages", s.agent_token, {"body": "Still up?"})
    assert ok.json["status"] == "queued"
    late = world.post(f"/leads/{new_york.lead_id}/messages", s.agent_token, {"body": "Good morning!"})
    assert late.status == 202
    assert late.json == {"message_id": late.json["message_id"], "status": "scheduled",
                         "send_at": "2026-11-03T13:00:00.000Z"}  # 08:00 EST
    assert current(world, new_york.lead_id).scheduled_messages == 1
    # A scheduled time at night moves to the morning too.
    night = world.post(f"/leads/{chicago.lead_id}/messages", s.agent_token,
                       {"body": "x", "send_at": "2026-11-04T05:00:00Z"})  # 23:00 CST
    assert night.json["send_at"] == "2026-11-04T14:00:00.000Z"


def test_scheduled_message_cancel_and_the_sweep(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    path = f"/leads/{existing.lead_id}/messages"
    keep = world.post(path, s.agent_token, {"body": "Reminder: your test drive", "send_at": "2026-11-02T18:00:00Z"})
    drop = world.post(path, s.agent_token, {"body": "never mind", "send_at": "2026-11-02T18:00:00Z"})
    assert keep.json["status"] == drop.json["status"] == "scheduled"
    assert current(world, existing.lead_id).scheduled_messages == 2
    assert world.delete(f"{path}/{drop.json['message_id']}", s.agent_token).json["status"] == "cancelled"
    again = world.delete(f"{path}/{drop.json['message_id']}", s.agent_token)
    assert again.status == 409 and again.error_code == "not_scheduled"
    assert world.delete(f"{path}/msg_nope", s.agent_token).status == 404
    assert current(world, existing.lead_id).scheduled_messages == 1
    assert sweep(world) == 0  # not due yet
    world.clock.set("2026-11-02T18:00:30Z")
    assert sweep(world) == 1
    drain(world, "outbox")
    assert [r["body"] for r in sent(world, s)] == ["Reminder: your test drive"]
    statuses = {m["message_id"]: m["status"] for m in messages(world, existing.lead_id)}
    assert statuses[keep.json["message_id"]] == "delivered" and statuses[drop.json["message_id"]] == "cancelled"
    assert current(world, existing.lead_id).scheduled_messages == 0
    # Idempotent: the sweep finds nothing more, and a repeated job sends nothing.
    assert sweep(world) == 0
    service.deliver(world.deps, keep.json["message_id"])
    assert len(sent(world, s)) == 1
    late = world.delete(f"{path}/{keep.json['message_id']}", s.agent_token)
    assert late.status == 409 and late.json["error"]["status"] == "delivered"


class Flaky:
    """A provider that fails (transiently) `failures` times, then accepts."""

    def __init__(self, failures: int, permanent: bool = False) -> None:
        self.failures = failures
        self.permanent = permanent
        self.calls = 0

    def send(self, message: OutboundMessage) -> SendResult:
        self.calls += 1
        if self.calls <= self.failures:
            raise SendFailed("HTTP 503: 20500 Service unavailable", permanent=self.permanent)
        return SendResult(provider_id=f"SM{self.calls:032d}", status="queued")


def _retry_round(world: World) -> None:
    world.clock.advance(minutes=20)
    sweep(world)
    drain(world, "outbox")


def test_provider_errors_are_retried_with_backoff_then_sent(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    flaky = Flaky(failures=2)
    world.deps.__dict__["sender"] = flaky
    message_id = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Hello"}).json["message_id"]
    drain(world, "outbox")
    shown = messages(world, existing.lead_id)[-1]
    assert shown["status"] == "queued" and shown["attempts"] == 1 and "503" in shown["error"]
    outbox = world.deps.outbox.get(message_id)
    assert outbox is not None and outbox.claim_until is None
    _retry_round(world)
    assert messages(world, existing.lead_id)[-1]["attempts"] == 2
    _retry_round(world)
    assert messages(world, existing.lead_id)[-1]["status"] == "sent" and flaky.calls == 3


def test_provider_errors_end_in_failed_never_lost(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    world.deps.__dict__["sender"] = Flaky(failures=99)
    world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Hello"})
    drain(world, "outbox")
    for _ in range(service.MAX_ATTEMPTS):
        _retry_round(world)
    last = messages(world, existing.lead_id)[-1]
    assert last["status"] == "failed" and last["attempts"] == service.MAX_ATTEMPTS
    assert sweep(world) == 0


def test_a_permanent_provider_error_fails_at_once(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    world.deps.__dict__["sender"] = Flaky(failures=1, permanent=True)
    world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Hello"})
    drain(world, "outbox")
    assert messages(world, existing.lead_id)[-1]["status"] == "failed"


def test_a_lost_queue_job_is_recovered_by_the_sweep(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Hello"})
    client("sqs").purge_queue(QueueUrl=world.deps.queues.url("outbox"))
    assert sweep(world) == 0  # within the grace period it is the queue's job
    world.clock.advance(minutes=3)
    assert sweep(world) == 1
    drain(world, "outbox")
    assert [r["body"] for r in sent(world, s)] == ["Hello"]


def test_opt_out_after_queueing_drops_the_message_at_send_time(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    queued = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Hello"})
    scheduled = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token,
                           {"body": "Later", "send_at": "2026-11-02T16:00:00Z"})
    sms(world, "STOP", sid="SM0000000000000000000000000000stop")
    drain(world, "outbox")
    world.clock.set("2026-11-02T16:01:00Z")
    sweep(world)
    drain(world, "outbox")
    assert sent(world, s) == []
    statuses = {m["message_id"]: m for m in messages(world, existing.lead_id)}
    assert statuses[queued.json["message_id"]]["status"] == "dropped"
    assert statuses[scheduled.json["message_id"]]["status"] == "dropped"
    assert statuses[scheduled.json["message_id"]]["dropped_reason"] == "opted_out"
    assert current(world, existing.lead_id).scheduled_messages == 0


def test_opt_out_racing_a_due_scheduled_send_sends_nothing(world: World) -> None:
    """The consumer has read the due message (lead not opted out yet); a STOP commits before it
    goes on. Whatever the consumer read, it must not hand the message to the sender."""
    s = store(world)
    existing = lead(world, s)
    scheduled = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token,
                           {"body": "Reminder", "send_at": "2026-11-02T16:00:00Z"})
    message_id = scheduled.json["message_id"]
    world.clock.set("2026-11-02T16:00:05Z")
    read_it, stopped = threading.Event(), threading.Event()
    repo_outbox = OutboxRepository.get

    def outbox_then_wait(self: OutboxRepository, wanted: str):  # type: ignore[no-untyped-def]
        found = repo_outbox(self, wanted)
        if threading.current_thread().name == "sender" and not read_it.is_set():
            read_it.set()
            stopped.wait(10)
        return found

    OutboxRepository.get = outbox_then_wait  # type: ignore[method-assign]
    try:
        with atomic_dynamodb():
            sender = threading.Thread(target=service.deliver, args=(world.deps, message_id), name="sender")
            sender.start()
            assert read_it.wait(10)
            sms(world, "STOP", sid="SM00000000000000000000000000race1")
            stopped.set()
            sender.join(10)
    finally:
        OutboxRepository.get = repo_outbox  # type: ignore[method-assign]
    assert sent(world, s) == []
    assert [m["status"] for m in messages(world, existing.lead_id) if m["message_id"] == message_id] == ["dropped"]


def test_opt_out_racing_a_queued_send_at_the_claim_sends_nothing(world: World) -> None:
    """Same race one step later: the message is queued and read; the STOP commits before the claim."""
    s = store(world)
    existing = lead(world, s)
    message_id = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Hi"}).json["message_id"]
    read_it, stopped = threading.Event(), threading.Event()
    repo_outbox = OutboxRepository.get

    def outbox_then_wait(self: OutboxRepository, wanted: str):  # type: ignore[no-untyped-def]
        found = repo_outbox(self, wanted)
        if threading.current_thread().name == "sender" and not read_it.is_set():
            read_it.set()
            stopped.wait(10)
        return found

    OutboxRepository.get = outbox_then_wait  # type: ignore[method-assign]
    try:
        with atomic_dynamodb():
            sender = threading.Thread(target=service.deliver, args=(world.deps, message_id), name="sender")
            sender.start()
            assert read_it.wait(10)
            sms(world, "STOP", sid="SM00000000000000000000000000race2")
            stopped.set()
            sender.join(10)
    finally:
        OutboxRepository.get = repo_outbox  # type: ignore[method-assign]
    assert sent(world, s) == []
    assert [m["status"] for m in messages(world, existing.lead_id) if m["message_id"] == message_id] == ["dropped"]


def test_two_consumers_of_one_job_send_once(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    message_id = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"body": "Hi"}).json["message_id"]
    start = threading.Barrier(4)

    def run() -> None:
        start.wait()
        service.deliver(world.deps, message_id)

    with atomic_dynamodb():
        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    assert len(sent(world, s)) == 1


def test_sends_are_404_outside_the_callers_tenant(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    other = world.tenant("Beta", "b@beta.com")
    assert world.post(f"/leads/{existing.lead_id}/messages", other.token, {"body": "x"}).status == 404
    assert world.post("/leads/lead_nope/messages", s.agent_token, {"body": "x"}).status == 404


def test_staff_notification_jobs_are_delivered_by_the_outbox_consumer(world: World) -> None:
    from chalicelib.adapters.senders import sandbox_sends
    from tests.integration.test_conversations_actions import sent_mail

    s = store(world)
    before = len(sent_mail())
    world.deps.queues.send_batch("outbox", [
        {"kind": "notification", "channel": "sms", "to": "+13125550142", "text": "New lead offered to you",
         "notification_id": "ntf_1", "account_id": s.account_id},
        {"kind": "notification", "channel": "email", "to": "sam@acme.com", "text": "New lead offered to you",
         "subject": "New lead offered to you", "notification_id": "ntf_2"},
    ])
    drain(world, "outbox")
    [text] = sandbox_sends(world.deps.table, s.account_id)
    assert (text["to"], text["body"]) == ("+13125550142", "New lead offered to you")
    assert len(sent_mail()) == before + 1
    assert queued_jobs(world, "outbox") == []


def test_a_redelivered_staff_notification_is_sent_once(world: World) -> None:
    from chalicelib.adapters.senders import sandbox_sends
    from chalicelib.schemas.queues import DeliverNotification
    from chalicelib.services.notifications import deliver_notification
    from tests.integration.test_conversations_actions import sent_mail

    s = store(world)
    before = len(sent_mail())
    sms_job = {"kind": "notification", "channel": "sms", "to": "+13125550142", "text": "New lead offered to you",
               "notification_id": "ntf_9", "account_id": s.account_id}
    email_job = {**sms_job, "channel": "email", "to": "sam@acme.com", "subject": "New lead"}
    for job in (sms_job, email_job, sms_job, email_job):
        deliver_notification(world.deps, DeliverNotification.model_validate(job))
    assert len(sandbox_sends(world.deps.table, s.account_id)) == 1
    assert len(sent_mail()) == before + 1
