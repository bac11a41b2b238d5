"""Bad input: 400 naming every bad field, 413 over 1 MB, never a 5xx."""

from __future__ import annotations

from tests.support import World


def test_bad_json_is_400(world: World) -> None:
    t = world.tenant()
    reply = world.call("POST", "/accounts", t.token, raw=b"{not json")
    assert reply.status == 400 and reply.error_code == "validation_failed"


def test_every_bad_field_is_named(world: World) -> None:
    t = world.tenant()
    reply = world.post("/accounts", t.token, {
        "name": "", "timezone": "Mars/Olympus", "kind": "boats", "sms_number": "12",
        "business_hours": {"mon": [["9am", "18:00"]], "funday": []}, "holidays": ["2026-13-01"],
        "crm_email": "not-an-email", "surprise": 1,
    })
    assert reply.status == 400
    fields = {d["field"] for d in reply.json["error"]["details"]}
    assert {"name", "timezone", "kind", "sms_number", "business_hours", "holidays", "crm_email", "surprise"} <= fields


def test_overnight_and_split_hours_are_accepted(world: World) -> None:
    t = world.tenant()
    reply = world.post("/accounts", t.token, {
        "name": "Night Store", "timezone": "America/Chicago", "sms_number": "(312) 555-0142",
        "business_hours": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "fri": [["22:00", "02:00"]]},
        "holidays": ["2026-12-25", "2026-12-25"],
    })
    assert reply.status == 201, reply.json
    assert reply.json["sms_number"] == "+13125550142"
    assert reply.json["holidays"] == ["2026-12-25"]


def test_sms_number_is_unique(world: World) -> None:
    t = world.tenant()
    first = world.post("/accounts", t.token, {"name": "A", "timezone": "UTC", "sms_number": "+13125550142"})
    assert first.status == 201
    reply = world.post("/accounts", t.token, {"name": "B", "timezone": "UTC", "sms_number": "+13125550142"})
    assert reply.status == 409
    assert reply.json["error"]["details"][0]["field"] == "sms_number"


def test_too_large_is_413(world: World) -> None:
    t = world.tenant()
    reply = world.call("POST", "/accounts", t.token, raw=b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}')
    assert reply.status == 413


def test_limit_is_validated(world: World) -> None:
    t = world.tenant()
    reply = world.get("/accounts?limit=0", t.token)
    assert reply.status == 400 and reply.json["error"]["details"][0]["field"] == "limit"


def test_duplicate_email_is_409(world: World) -> None:
    t = world.tenant()
    world.user(t, "dup@acme.com")
    reply = world.post("/users", t.token, {"email": "DUP@acme.com", "name": "D", "role": "agent",
                                           "account_ids": [t.accounts[0]["account_id"]]})
    assert reply.status == 409 and reply.json["error"]["details"][0]["field"] == "email"
