"""Twilio signatures are checked over the URL the request was sent to: the configured public base
URL (LEADLINE_PUBLIC_BASE_URL) + the route + the query as received (`?a=b%20c` stays `%20`). The
Host and X-Forwarded-Proto headers a client sends are never used. The deployed case: an API
Gateway REST event whose path carries the stage (`/api`), signed over the stage's URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from tests.integration.conversations_support import HOST, lead, messages, store, twilio_params, twilio_post
from tests.support import World

EVENTS = Path(__file__).resolve().parents[1] / "events" / "apigateway"
STAGE_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/api"


def _sign(url: str, params: dict[str, str]) -> str:
    return str(RequestValidator("dev-twilio-token").compute_signature(url, params))


def test_a_signature_over_a_url_the_client_names_in_host_is_refused(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    params = twilio_params("inbound_sms.txt", Body="STOP", MessageSid="SM000000000000000000000000000host")
    for host, proto in (("evil.example.com", "https"), (HOST, "http"), ("evil.example.com", "http")):
        reply = world.call("POST", "/webhooks/twilio/sms", raw=urlencode(params), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Host": host, "X-Forwarded-Proto": proto,
            "X-Twilio-Signature": _sign(f"{proto}://{host}/webhooks/twilio/sms", params)})
        assert reply.status == 403, (host, proto)
    assert not world.deps.leads.require(existing.lead_id).opted_out


def test_the_query_is_signed_as_received(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    for n, query in enumerate(("a=b%20c", "a=b+c", "store=acme%2Fhonda&x=%C3%A9t%C3%A9&empty=")):
        params = twilio_params("inbound_sms.txt", Body=f"query {n}", MessageSid=f"SM00000000000000000000000000qry{n}")
        reply = twilio_post(world, f"/webhooks/twilio/sms?{query}", params)
        assert reply.status == 200, query
    assert [m["body"] for m in messages(world, existing.lead_id)[-3:]] == ["query 0", "query 1", "query 2"]
    # A signature over other values of the same parameters is not one over these.
    params = twilio_params("inbound_sms.txt", Body="other", MessageSid="SM00000000000000000000000000qryx")
    forged = _sign(f"https://{HOST}/webhooks/twilio/sms?a=other", params)
    assert twilio_post(world, "/webhooks/twilio/sms?a=b%20c", params, signature=forged).status == 403


def _rest_event(params: dict[str, str], signature: str) -> dict[str, Any]:
    event = json.loads((EVENTS / "twilio_sms_rest.json").read_text())
    event["headers"]["X-Twilio-Signature"] = signature
    event["body"] = urlencode(params)
    return dict(event)


def test_the_deployed_stage_path_is_part_of_the_signed_url(world: World) -> None:
    from app import app
    from leadline.local.lambda_events import LambdaContext

    s = store(world)
    existing = lead(world, s)
    world.deps._settings = world.deps.settings.model_copy(update={"public_base_url": STAGE_URL + "/"})
    params = twilio_params("inbound_sms.txt", Body="via API Gateway", MessageSid="SM000000000000000000000000000apigw")
    context = LambdaContext("leadline-prod-APIHandler", 30, "us-east-1")
    signed = _sign(f"{STAGE_URL}/webhooks/twilio/sms?store=acme%20honda&n=1%2B1", params)
    answer = app(_rest_event(params, signed), context)
    assert answer["statusCode"] == 200, answer
    assert messages(world, existing.lead_id)[-1]["body"] == "via API Gateway"
    # Without the stage path, or over the Host the request names, it is not the stage's URL.
    for url in (f"{STAGE_URL.removesuffix('/api')}/webhooks/twilio/sms?store=acme%20honda&n=1%2B1",
                "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/api/api/webhooks/twilio/sms"):
        again = {**params, "MessageSid": "SM00000000000000000000000000apigw2"}
        assert app(_rest_event(again, _sign(url, again)), context)["statusCode"] == 403


def test_without_a_public_base_url_twilio_webhooks_are_refused(world: World) -> None:
    s = store(world)
    existing = lead(world, s)
    world.deps._settings = world.deps.settings.model_copy(update={"public_base_url": ""})
    params = twilio_params("inbound_sms.txt", Body="no base", MessageSid="SM0000000000000000000000000nobase")
    refused = twilio_post(world, "/webhooks/twilio/sms", params)
    assert refused.status == 403 and refused.error_code == "bad_signature"
    assert refused.json["error"]["message"] == "the X-Twilio-Signature cannot be checked here"
    assert "no base" not in [m["body"] for m in messages(world, existing.lead_id)]
