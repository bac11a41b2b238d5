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


def test_a_financial_map_with_an_empty_key_is_refused_and_the_lead_stays_readable(world: World) -> None:
    t = world.tenant()
    account_id = t.accounts[0]["account_id"]
    lead = world.post(f"/accounts/{account_id}/leads", t.token,
                      {"first_name": "Fay", "phone": "+13125550123", "channel": "web"}).json["lead_id"]
    for financial in ({"": 1}, {"a": {"": {}}}, {"a": [{"": 1}]}):
        reply = world.patch(f"/leads/{lead}", t.token, {"financial": financial})
        assert reply.status == 400 and reply.json["error"]["details"][0]["field"].startswith("financial")
    assert world.patch(f"/leads/{lead}", t.token, {"financial": {"down_payment": 2000}}).status == 200
    assert world.get(f"/leads/{lead}", t.token).json["financial"] == {"down_payment": 2000}
