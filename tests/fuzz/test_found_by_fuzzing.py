"""Requests the fuzzer found answering 5xx, kept as plain tests so they stay fixed."""

from __future__ import annotations

from tests.support import World


def test_null_hours_or_holidays_leave_the_account_unchanged(world: World) -> None:
    t = world.tenant()
    account = t.accounts[0]
    for body in ({"business_hours": None}, {"holidays": None},
                 {"address": "", "business_hours": None, "campaign_notes": "-"}):
        reply = world.patch(f"/accounts/{account['account_id']}", t.token, body)
        assert reply.status == 200, (body, reply.json)
        assert reply.json["business_hours"] == account["business_hours"]
