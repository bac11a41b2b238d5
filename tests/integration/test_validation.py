"""Bad input: 400 naming every bad field, 413 over 1 MB, never a 5xx."""

from __future__ import annotations

from typing import Any

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


def test_a_method_the_path_does_not_take_is_405_in_the_contract_shape(world: World) -> None:
    t = world.tenant()
    reply = world.delete("/accounts", t.token)
    assert reply.status == 405 and reply.error_code == "method_not_allowed"
    assert set(reply.headers["Allow"].split(", ")) == {"GET", "POST"}


def test_an_unexpected_failure_is_a_500_in_the_contract_shape_without_its_text(world: World, monkeypatch: Any) -> None:
    import chalicelib.services.auth

    def broken(*_: Any) -> Any:
        raise RuntimeError("detail for the log only: +13125550142")

    t = world.tenant()
    monkeypatch.setattr(chalicelib.services.auth, "authorise", broken)
    reply = world.get("/me", t.token)
    assert reply.status == 500 and reply.error_code == "internal_error"
    assert "13125550142" not in reply.body.decode() and reply.json["error"]["details"] == []


def test_an_aws_throttle_is_a_503_the_caller_may_retry(world: World, monkeypatch: Any) -> None:
    from botocore.exceptions import ClientError

    import chalicelib.services.auth

    def throttled(*_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                          "GetItem")

    t = world.tenant()
    monkeypatch.setattr(chalicelib.services.auth, "authorise", throttled)
    reply = world.get("/me", t.token)
    assert reply.status == 503 and reply.error_code == "unavailable" and reply.headers["Retry-After"] == "1"
