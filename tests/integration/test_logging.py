"""Log lines carry ids, never a phone number, an email address or a message body."""

from __future__ import annotations

import io
import json

from tests.integration import conversations_support as conv
from tests.support import World

PHONE_DIGITS = "3125550177"
EMAIL = "maria.private@gmail.com"
BODY = "my secret trade-in question about the blue civic"


def test_a_whole_conversation_logs_no_contact_data(world: World, captured_logs: io.StringIO) -> None:
    store = conv.store(world)
    created = world.post(f"/accounts/{store.account_id}/leads", store.tenant.token, {
        "first_name": "Maria", "last_name": "Lopez", "phone": f"+1{PHONE_DIGITS}", "email": EMAIL,
        "source": "Cars.com", "channel": "web", "message": BODY,
    })
    assert created.status == 201, created.json
    lead_id = created.json["lead_id"]
    assert conv.sms(world, BODY, sid="SM" + "a" * 32, sender=f"+1{PHONE_DIGITS}").status == 200
    assert conv.sms(world, "HELP", sid="SM" + "b" * 32, sender=f"+1{PHONE_DIGITS}").status == 200
    sent = world.post(f"/leads/{lead_id}/messages", store.tenant.token, {"body": BODY})
    assert sent.status == 202, sent.json
    conv.drain(world, "outbox")
    conv.drain(world, "inbound")
    assert world.post(f"/leads/{lead_id}/notes", store.tenant.token, {"text": BODY}).status in (200, 201)
    # bad input is logged, if at all, without the values
    assert world.post(f"/accounts/{store.account_id}/leads", store.tenant.token,
                      {"phone": "12", "email": "not-an-email " + EMAIL}).status == 400

    # A search for the customer: the access line names the route, not the query.
    assert world.get(f"/leads?q={EMAIL}", store.tenant.token).status == 200

    logs = captured_logs.getvalue()
    assert logs.count("\n") >= 3, "the flow should have logged something to check"
    access = [json.loads(line) for line in logs.splitlines() if '"http request"' in line]
    assert {(a["method"], a["route"], a["status"]) for a in access} >= {
        ("POST", "/accounts/{account_id}/leads", 201), ("POST", "/accounts/{account_id}/leads", 400),
        ("GET", "/leads", 200), ("POST", "/webhooks/twilio/sms", 200)}
    assert all(isinstance(a["duration_ms"], float) for a in access)
    for secret in (PHONE_DIGITS, EMAIL, BODY):
        assert secret not in logs, f"{secret!r} appears in the logs"
