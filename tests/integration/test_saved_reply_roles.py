"""Saved replies: managers and up write them (create, change, delete); agents — restricted ones
too — list them and send them. An agent can no longer rewrite a reply colleagues send, nor plant
a link in one (services/saved_replies.py; the isolation matrix holds the same rule)."""

from __future__ import annotations

from tests.integration.conversations_support import lead, messages, store
from tests.support import World


def test_agents_use_saved_replies_and_managers_write_them(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    base = f"/accounts/{s.account_id}/saved-replies"
    manager, manager_token = world.user(s.tenant, "mia@acme.com", role="manager", account_ids=[s.account_id])
    restricted, restricted_token = world.user(s.tenant, "rex@acme.com", role="agent", account_ids=[s.account_id],
                                              restricted=True)
    made = world.post(base, s.admin_token, {"title": "Hours", "body": "We open at 9, {{lead.first_name}}."})
    assert made.status == 201
    reply_id = made.json["saved_reply_id"]
    for token in (s.agent_token, restricted_token):
        assert world.post(base, token, {"title": "Mine", "body": "Click https://evil.example"}).status == 403
        refused = world.patch(f"/saved-replies/{reply_id}", token, {"body": "Click https://evil.example"})
        assert refused.status == 403 and refused.error_code == "forbidden"
        assert world.delete(f"/saved-replies/{reply_id}", token).status == 403
        assert [r["title"] for r in world.get(base, token).json["items"]] == ["Hours"]
    assert world.get(base, s.admin_token).json["items"][0]["body"] == "We open at 9, {{lead.first_name}}."
    sent = world.post(f"/leads/{existing.lead_id}/messages", s.agent_token, {"saved_reply_id": reply_id})
    assert sent.status == 202
    assert messages(world, existing.lead_id)[-1]["body"] == "We open at 9, Maria."
    changed = world.patch(f"/saved-replies/{reply_id}", manager_token, {"title": "Opening hours"})
    assert changed.status == 200 and changed.json["title"] == "Opening hours"
    assert world.post(base, manager_token, {"title": "Thanks", "body": "Thanks!"}).status == 201
    assert world.delete(f"/saved-replies/{reply_id}", manager_token).status == 204
    assert manager["user_id"] and restricted["user_id"]
