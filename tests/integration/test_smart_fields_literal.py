"""Smart fields are filled in one pass, each value literally: a customer whose name is
"{{account.name}}" gets "Hi {{account.name}}", never the store's name and never a 400."""

from __future__ import annotations

from tests.integration.conversations_support import messages, store
from tests.support import World


def test_a_lead_named_like_a_smart_field_is_greeted_by_that_name(world: World) -> None:
    s = store(world)
    made = world.post(f"/accounts/{s.account_id}/leads", s.agent_token,
                      {"first_name": "{{account.name}}", "last_name": "{{lead.first_name|x}}", "phone": "+13125550111"})
    assert made.status == 201
    lead_id = made.json["lead_id"]
    reply = world.post(f"/leads/{lead_id}/messages", s.agent_token,
                       {"body": "Hi {{lead.first_name}} {{lead.last_name}}, this is {{account.name}}."})
    assert reply.status == 202, reply.json
    assert messages(world, lead_id)[-1]["body"] == "Hi {{account.name}} {{lead.first_name|x}}, this is Acme Honda."
    saved = world.post(f"/accounts/{s.account_id}/saved-replies", s.admin_token,
                       {"title": "Hello", "body": "Hello {{lead.name}}!"})
    sent = world.post(f"/leads/{lead_id}/messages", s.agent_token, {"saved_reply_id": saved.json["saved_reply_id"]})
    assert sent.status == 202
    assert messages(world, lead_id)[-1]["body"] == "Hello {{account.name}} {{lead.first_name|x}}!"
