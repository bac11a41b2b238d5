"""Cadences through the HTTP contract under moto: CRUD with every bad field named, a new lead
enrolled on arrival and its steps through the timers consumer, the outbox and the sandbox sender,
the stop rules and staff actions as the API shows them (lead field `cadence`, timeline), the
sweep behind a lost step timer, and appointment reminders set on the store."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.integration.conversations_support import sent, sms, store, timeline
from tests.integration.routing_support import deliver_timers, record_queues, sqs_event
from tests.support import World, dynamodb_calls

STEPS = [{"after_seconds": 0, "phase": "first_touch", "channel": "auto",
          "body": "Hi {{lead.first_name}}, this is {{assistant.name}} at {{account.name}}."},
         {"after_seconds": 120, "phase": "follow_up", "channel": "sms", "body": "Still looking?"},
         {"after_seconds": 3600, "phase": "follow_up", "channel": "auto", "body": "Last note from {{assistant.name}}"}]
CADENCE = {"name": "Internet leads", "enroll": "new_lead", "match": {"channel": "web"}, "assistant_name": "Ava",
           "steps": STEPS}
LEAD = {"first_name": "Maria", "last_name": "Lopez", "phone": "+13125550199", "source": "Cars.com", "channel": "web",
        "message": "Is the Civic still there?"}


def _run(world: World, queues: Any, kind: str = "cadence_step") -> None:
    """Hand the recorded jobs due by now to their consumers: timers of `kind`, then the outbox."""
    from chalicelib.clock import parse_time

    now = world.clock.now()
    timers = [b for q, b, _ in queues.sent if q == "timers" and b["kind"] == kind
              and parse_time(b["due_at"]) <= now]
    queues.sent = [m for m in queues.sent if not (m[0] == "timers" and m[1] in timers)]
    if timers:
        deliver_timers(world, timers)
    jobs = queues.take("outbox")
    if jobs:
        world.client.lambda_.invoke("conversations_outbox", sqs_event(jobs))


def test_cadence_crud_validates_every_field_and_only_managers_shape_them(world: World) -> None:
    s = store(world)
    path = f"/accounts/{s.account_id}/cadences"
    bad = world.post(path, s.admin_token, {"name": "", "enroll": "sometimes", "assistant_name": "Ava", "steps": [
        {"after_seconds": -1, "phase": "first_touch", "body": "Hi"},
        {"after_seconds": 10, "phase": "later", "channel": "fax", "body": ""}]})
    assert bad.status == 400
    assert {d["field"] for d in bad.json["error"]["details"]} == {
        "name", "enroll", "steps.0.after_seconds", "steps.1.phase", "steps.1.channel", "steps.1.body"}
    unknown = world.post(path, s.admin_token, {**CADENCE, "steps": [
        {"after_seconds": 0, "phase": "follow_up", "body": "Hi"},
        {"after_seconds": 0, "phase": "first_touch", "body": "Hi {{lead.nickname}}"}]})
    assert unknown.status == 400
    assert [d["field"] for d in unknown.json["error"]["details"]] == ["steps.1.phase", "steps.1.body"]
    assert world.post(path, s.admin_token, {**CADENCE, "steps": []}).json["error"]["details"][0]["field"] == "steps"
    assert world.post(path, s.agent_token, CADENCE).status == 403

    made = world.post(path, s.admin_token, CADENCE)
    assert made.status == 201
    cadence_id = made.json["cadence_id"]
    assert made.json["steps"][0]["channel"] == "auto" and made.json["match"]["channel"] == "web"
    assert [c["cadence_id"] for c in world.get(path, s.agent_token).json["items"]] == [cadence_id]
    assert world.get(f"/cadences/{cadence_id}", s.agent_token).json["name"] == "Internet leads"
    patched = world.patch(f"/cadences/{cadence_id}", s.admin_token, {"assistant_name": "Max"})
    assert patched.status == 200 and patched.json["assistant_name"] == "Max" and patched.json["version"] == 2
    assert world.patch(f"/cadences/{cadence_id}", s.agent_token, {"name": "x"}).status == 403
    other = world.tenant("Beta", "b@beta.com")
    assert world.get(f"/cadences/{cadence_id}", other.token).status == 404
    assert world.delete(f"/cadences/{cadence_id}", other.token).status == 404
    assert world.delete(f"/cadences/{cadence_id}", s.admin_token).status == 204
    assert world.get(f"/cadences/{cadence_id}", s.admin_token).status == 404


def test_a_new_lead_is_enrolled_on_arrival_and_the_assistant_writes_until_the_customer_replies(world: World) -> None:
    s = store(world)
    queues = record_queues(world)
    world.post(f"/accounts/{s.account_id}/cadences", s.admin_token, CADENCE)
    made = world.post(f"/accounts/{s.account_id}/leads", s.admin_token, LEAD)
    assert made.status == 201
    lead_id = made.json["lead_id"]
    enrolment = made.json["cadence"]
    assert (enrolment["state"], enrolment["next_step"], enrolment["name"]) == ("active", 0, "Internet leads")
    assert enrolment["next_at"] == "2026-11-02T15:00:00.000Z"

    _run(world, queues)
    [first] = [m for m in sent(world, s) if "Ava" in m["body"]]
    assert first["body"] == "Hi Maria, this is Ava at Acme Honda." and first["to"] == "+13125550199"
    [step] = [m for m in timeline(world, lead_id, "message") if m.get("cadence_id")]
    assert (step["automated"], step["step"], step["status"]) == (True, 0, "delivered")  # the sandbox delivers
    lead = world.get(f"/leads/{lead_id}", s.agent_token).json
    assert lead["cadence"]["next_step"] == 1 and lead["cadence"]["next_at"] == "2026-11-02T15:02:00.000Z"
    assert lead["awaiting_since"] is not None  # the assistant's message answers nobody

    world.clock.advance(minutes=2)
    _run(world, queues)
    assert [m["step"] for m in timeline(world, lead_id, "message") if m.get("cadence_id")] == [0, 1]

    world.clock.advance(minutes=1)
    assert sms(world, "Yes! Can I come by at 5?", sid="SM" + "5" * 32).status == 200
    lead = world.get(f"/leads/{lead_id}", s.agent_token).json
    assert (lead["cadence"]["state"], lead["cadence"]["stop_reason"]) == ("stopped", "replied")
    assert lead["awaiting_since"] == "2026-11-02T15:00:00.000Z"  # still waiting for a person since it came
    stopped = [e for e in timeline(world, lead_id, "cadence") if e["action"] == "stopped"]
    assert [(e["reason"], e["step"]) for e in stopped] == [("replied", 2)]
    world.clock.advance(hours=2)
    _run(world, queues)
    assert len([m for m in timeline(world, lead_id, "message") if m.get("cadence_id")]) == 2


def test_staff_actions_on_an_enrolment(world: World) -> None:
    s = store(world)
    queues = record_queues(world)
    world.post(f"/accounts/{s.account_id}/cadences", s.admin_token, CADENCE)
    lead_id = world.post(f"/accounts/{s.account_id}/leads", s.admin_token, LEAD).json["lead_id"]
    _run(world, queues)

    assert world.post(f"/leads/{lead_id}/stop-messaging", s.agent_token).status == 403
    stopped = world.post(f"/leads/{lead_id}/stop-messaging", s.admin_token).json
    assert (stopped["cadence"]["state"], stopped["cadence"]["stop_reason"]) == ("stopped", "stopped_by_staff")
    assert world.post(f"/leads/{lead_id}/resume-messaging", s.agent_token).status == 403
    resumed = world.post(f"/leads/{lead_id}/resume-messaging", s.admin_token).json
    assert not resumed["stop_messaging"] and resumed["cadence"]["state"] == "active"

    skipped = world.post(f"/leads/{lead_id}/skip-to-follow-up", s.agent_token).json
    assert skipped["status"] == "follow_up" and skipped["cadence"]["next_step"] == 1

    reply = world.post(f"/leads/{lead_id}/messages", s.agent_token,
                       {"body": "{{assistant.name}} again: see you at 5", "as_assistant": True})
    assert reply.status == 202
    [mine] = [m for m in timeline(world, lead_id, "message") if m.get("as_assistant")]
    assert (mine["body"], mine["sent_as"], mine["automated"]) == ("Ava again: see you at 5", "Ava", False)

    manual = world.post(f"/accounts/{s.account_id}/cadences", s.admin_token,
                        {**CADENCE, "name": "First only", "enroll": "manual",
                         "steps": [{"after_seconds": 0, "phase": "first_touch", "body": "Hello"}]}).json
    moved = world.post(f"/leads/{lead_id}/cadence", s.agent_token, {"cadence_id": manual["cadence_id"]}).json
    assert moved["cadence"]["cadence_id"] == manual["cadence_id"]
    no_follow_up = world.post(f"/leads/{lead_id}/skip-to-follow-up", s.agent_token)
    assert no_follow_up.status == 409 and no_follow_up.error_code == "no_follow_up_step"
    removed = world.delete(f"/leads/{lead_id}/cadence", s.agent_token).json
    assert (removed["cadence"]["state"], removed["cadence"]["stop_reason"]) == ("stopped", "removed")
    assert world.post(f"/leads/{lead_id}/cadence", s.agent_token, {"cadence_id": "cad_nope"}).status == 404
    actions = [(e["action"], e.get("reason")) for e in timeline(world, lead_id, "cadence")]
    assert actions == [("enrolled", None), ("stopped", "stopped_by_staff"), ("resumed", None), ("moved", None),
                       ("stopped", "replaced"), ("enrolled", None), ("stopped", "removed")]


def test_the_sweep_sends_a_step_whose_timer_was_lost(world: World) -> None:
    from tests.integration.routing_support import sweep

    s = store(world)
    queues = record_queues(world)
    world.post(f"/accounts/{s.account_id}/cadences", s.admin_token, CADENCE)
    lead_id = world.post(f"/accounts/{s.account_id}/leads", s.admin_token, LEAD).json["lead_id"]
    queues.sent = [m for m in queues.sent if m[0] != "timers"]  # lost
    sweep(world)
    assert [m["step"] for m in timeline(world, lead_id, "message") if m.get("cadence_id")] == [0]
    sweep(world)  # nothing more is due: the step is not sent twice
    assert len([m for m in timeline(world, lead_id, "message") if m.get("cadence_id")]) == 1


def test_appointment_reminders_come_from_the_store_and_are_withdrawn(world: World) -> None:
    s = store(world)
    bad = world.patch(f"/accounts/{s.account_id}", s.admin_token, {"appointment_reminders_seconds": [30, 7200, 7200]})
    assert bad.status == 400 and bad.json["error"]["details"][0]["field"].startswith("appointment_reminders_seconds")
    ok = world.patch(f"/accounts/{s.account_id}", s.admin_token, {"appointment_reminders_seconds": [7200, 86400]})
    assert ok.status == 200 and ok.json["appointment_reminders_seconds"] == [86400, 7200]
    lead_id = world.post(f"/accounts/{s.account_id}/leads", s.admin_token, LEAD).json["lead_id"]
    made = world.post(f"/leads/{lead_id}/appointments", s.agent_token, {"at": "2026-11-05T18:00:00Z"}).json
    reminders = [m for m in timeline(world, lead_id, "message") if m.get("appointment_id")]
    assert sorted(m["send_at"] for m in reminders) == ["2026-11-04T18:00:00.000Z", "2026-11-05T16:00:00.000Z"]
    assert {(m["status"], m["automated"]) for m in reminders} == {("scheduled", True)}
    world.patch(f"/appointments/{made['appointment_id']}", s.agent_token, {"status": "cancelled"})
    assert {m["status"] for m in timeline(world, lead_id, "message") if m.get("appointment_id")} == {"cancelled"}
    assert world.get(f"/leads/{lead_id}", s.agent_token).json["scheduled_messages"] == 0


def test_an_email_only_lead_gets_its_steps_by_email_with_the_steps_subject(world: World) -> None:
    s = store(world)
    world.deps._settings = world.deps.settings.model_copy(update={"public_base_url": "https://api.acme-leads.example"})
    store_mail = {"email_from": "sales@acme-honda.example"}
    assert world.patch(f"/accounts/{s.account_id}", s.admin_token, store_mail).status == 200
    queues = record_queues(world)
    steps = [{**STEPS[0], "subject": "{{lead.first_name}}, about your {{account.name}} inquiry"}]
    assert world.post(f"/accounts/{s.account_id}/cadences", s.admin_token, {**CADENCE, "steps": steps}).status == 201
    made = world.post(f"/accounts/{s.account_id}/leads", s.admin_token,
                      {**{k: v for k, v in LEAD.items() if k != "phone"}, "email": "maria@example.com"})
    assert made.status == 201, made.json
    _run(world, queues)
    [mail] = [m for m in sent(world, s) if m["channel"] == "email"]
    assert mail["to"] == "maria@example.com"
    assert mail["email"]["headers"]["Subject"] == "Maria, about your Acme Honda inquiry"
    assert mail["email"]["text"].startswith("Hi Maria, this is Ava at Acme Honda.")
    [step] = [m for m in timeline(world, made.json["lead_id"], "message") if m.get("cadence_id")]
    assert (step["channel"], step["automated"], step["status"]) == ("email", True, "delivered")


def test_a_new_lead_queries_the_stores_cadences_only_while_it_has_a_new_lead_cadence(world: World) -> None:
    s = store(world)

    def new_lead(phone: str) -> tuple[Any, Counter[str]]:
        with dynamodb_calls() as calls:
            made = world.post(f"/accounts/{s.account_id}/leads", s.admin_token, {**LEAD, "phone": phone})
        assert made.status == 201
        return made.json, calls

    # A new store: its routing read says it has no new-lead cadence, so none is queried.
    _, without = new_lead("+13125550101")
    manual = world.post(f"/accounts/{s.account_id}/cadences", s.admin_token, {**CADENCE, "enroll": "manual"}).json
    _, still_without = new_lead("+13125550102")
    assert still_without == without
    world.patch(f"/cadences/{manual['cadence_id']}", s.admin_token, {"enroll": "new_lead"})
    lead, with_one = new_lead("+13125550103")
    assert lead["cadence"]["name"] == "Internet leads"
    assert with_one["Query"] == without["Query"] + 1
    world.delete(f"/cadences/{manual['cadence_id']}", s.admin_token)
    lead, after_delete = new_lead("+13125550104")
    assert lead.get("cadence") is None and after_delete == without
