"""ADF intake through HTTP: the signed-in route and the providers' webhook, sample documents
in several providers' styles, and hostile or broken ones (400, nothing stored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support import Tenant, World

DOCS = Path(__file__).resolve().parents[1] / "events" / "adf"
XML = {"Content-Type": "application/xml"}


def doc(name: str) -> bytes:
    return (DOCS / name).read_bytes()


def post_adf(world: World, t: Tenant, name: str, account: int = 0) -> Any:
    return world.call("POST", f"/accounts/{t.accounts[account]['account_id']}/leads/adf", t.token,
                      raw=doc(name), headers=XML)


def lead_count(world: World, t: Tenant) -> int:
    return len(world.get("/leads?limit=200", t.token).json["items"])


def test_cars_com_document_makes_a_normalised_lead(world: World) -> None:
    t = world.tenant()
    reply = post_adf(world, t, "cars_com.xml")
    assert reply.status == 201, reply.json
    (lead,) = reply.json["items"]
    assert lead["phone"] == "+12125550187" and lead["email"] == "maria.gonzalez@example.com"
    assert lead["source"] == "Cars.com" and lead["source_group"] == "Cars.com Used Vehicle Lead"
    assert lead["received_at"] == "2026-11-02T14:41:07.000Z"
    assert lead["vehicle"]["vin"] == "2HGFC1F39MH512345" and lead["vehicle"]["year"] == 2021
    assert lead["last_message_preview"].startswith("Is this Civic still available?")
    timeline = world.get(f"/leads/{lead['lead_id']}/timeline", t.token).json["items"]
    message = next(e for e in timeline if e["type"] == "message")
    assert message["direction"] == "inbound" and message["body"].endswith("test drive it?")


def test_autotrader_and_dealer_site_documents(world: World) -> None:
    t = world.tenant(timezone="America/Chicago")
    at = post_adf(world, t, "autotrader.xml").json["items"][0]
    assert at["phone"] == "+16465550123" and at["campaign"] == "Winter-SUV-2026"
    assert at["vehicle"]["model"] == "RAV4"
    site = post_adf(world, t, "dealer_website.xml").json["items"][0]
    # no offset in <requestdate>: the store's local time (Chicago, UTC-6 in November)
    assert site["received_at"] == "2026-11-02T14:15:00.000Z"
    assert (site["first_name"], site["last_name"], site["phone"]) == ("Li Wei", "Chen", "+19175550144")


def test_multi_prospect_document_coalesces_inside_the_document(world: World) -> None:
    t = world.tenant()
    reply = post_adf(world, t, "multi_prospect.xml")
    assert reply.status == 201
    sam, sam_again, ava = reply.json["items"]
    assert sam["coalesced_into"] is None and sam_again["coalesced_into"] == sam["lead_id"]
    assert ava["coalesced_into"] is None and ava["lead_id"] != sam["lead_id"]
    assert lead_count(world, t) == 2


def test_bad_prospect_names_every_field_and_stores_nothing(world: World) -> None:
    t = world.tenant()
    reply = post_adf(world, t, "bad_second_prospect.xml")
    assert reply.status == 400
    assert reply.json["error"]["details"][0]["field"] == "prospect[1].vehicle.year"
    # with the year fixed, the other bad fields of that prospect are named together
    fixed = doc("bad_second_prospect.xml").replace(b"<year>97</year>", b"<year>1997</year>")
    reply = world.call("POST", f"/accounts/{t.accounts[0]['account_id']}/leads/adf", t.token, raw=fixed, headers=XML)
    assert reply.status == 400
    fields = {d["field"] for d in reply.json["error"]["details"]}
    assert fields == {"prospect[1].requestdate", "prospect[1].phone", "prospect[1].email"}
    assert lead_count(world, t) == 0


def test_hostile_and_broken_documents_are_400_and_store_nothing(world: World) -> None:
    t = world.tenant()
    for name in ("billion_laughs.xml", "external_entity.xml", "broken.xml", "not_adf.xml"):
        reply = post_adf(world, t, name)
        assert reply.status == 400, name
        assert reply.json["error"]["details"][0]["field"] == "body"
    assert lead_count(world, t) == 0


def test_json_is_not_an_adf_document(world: World) -> None:
    t = world.tenant()
    reply = world.call("POST", f"/accounts/{t.accounts[0]['account_id']}/leads/adf", t.token, raw=doc("cars_com.xml"),
                       headers={"Content-Type": "application/json"})
    assert reply.status == 415


def test_webhook_with_the_store_api_key(world: World) -> None:
    t = world.tenant(stores=2)
    account = world.get(f"/accounts/{t.accounts[0]['account_id']}", t.token).json
    path = f"/webhooks/leads/adf?account_id={account['account_id']}"
    ok = world.call("POST", path, raw=doc("cars_com.xml"),
                    headers={"Content-Type": "text/xml", "X-Api-Key": account["api_key"]})
    assert ok.status == 201 and ok.json["items"][0]["account_id"] == account["account_id"]
    timeline = world.get(f"/leads/{ok.json['items'][0]['lead_id']}/timeline", t.token).json["items"]
    assert next(e for e in timeline if e["type"] == "created")["by"] is None


def test_webhook_refuses_wrong_or_missing_keys_and_stores_nothing(world: World) -> None:
    t = world.tenant(stores=2)
    account = world.get(f"/accounts/{t.accounts[0]['account_id']}", t.token).json
    other = world.get(f"/accounts/{t.accounts[1]['account_id']}", t.token).json
    path = f"/webhooks/leads/adf?account_id={account['account_id']}"
    for headers in ({}, {"X-Api-Key": "ll_wrong"}, {"X-Api-Key": other["api_key"]},
                    {"Authorization": f"Bearer {t.token}"}):
        reply = world.call("POST", path, raw=doc("cars_com.xml"), headers={**XML, **headers})
        assert reply.status == 403, headers
    # a hostile document without a key is refused for the key, before it is parsed
    reply = world.call("POST", path, raw=doc("billion_laughs.xml"), headers={"Content-Type": "application/xml"})
    assert reply.status == 403
    assert lead_count(world, t) == 0


def test_restricted_agent_cannot_enter_leads(world: World) -> None:
    t = world.tenant()
    _, token = world.user(t, "restricted@acme.com", restricted=True)
    reply = world.call("POST", f"/accounts/{t.accounts[0]['account_id']}/leads/adf", token, raw=doc("cars_com.xml"),
                       headers=XML)
    assert reply.status == 403
    reply = world.post(f"/accounts/{t.accounts[0]['account_id']}/leads", token, {"phone": "2125550100"})
    assert reply.status == 403


# -- repeated deliveries: a provider that missed our answer sends the document again ------------------------


def provider_post(world: World, t: Tenant, document: bytes) -> Any:
    account = world.get(f"/accounts/{t.accounts[0]['account_id']}", t.token).json
    return world.call("POST", f"/webhooks/leads/adf?account_id={account['account_id']}", raw=document,
                      headers={"Content-Type": "text/xml", "X-Api-Key": account["api_key"]})


def history(world: World, t: Tenant, lead_id: str) -> list[str]:
    return [e["type"] for e in world.get(f"/leads/{lead_id}/timeline", t.token).json["items"]]


def test_a_repeated_document_answers_as_the_first_and_changes_nothing(world: World) -> None:
    t = world.tenant()
    first = provider_post(world, t, doc("multi_prospect.xml"))
    assert first.status == 201
    sam = first.json["items"][0]["lead_id"]
    before = (lead_count(world, t), history(world, t, sam))

    world.clock.advance(600)
    again = provider_post(world, t, doc("multi_prospect.xml"))

    assert again.status == 201
    assert [(i["lead_id"], i["coalesced_into"]) for i in again.json["items"]] == [
        (i["lead_id"], i["coalesced_into"]) for i in first.json["items"]]
    assert (lead_count(world, t), history(world, t, sam)) == before
    # a new request from the same person (another document) still coalesces
    resent = doc("multi_prospect.xml").replace(b"2026-11-02", b"2026-11-03")
    assert provider_post(world, t, resent).json["items"][0]["coalesced_into"] == sam


def test_the_provider_lead_id_names_the_delivery(world: World) -> None:
    t = world.tenant()
    first = provider_post(world, t, doc("cars_com.xml")).json["items"][0]
    # the provider resends lead CC-88812034 with a later request date: the same delivery
    resent = doc("cars_com.xml").replace(b"2026-11-02T09:41:07-05:00", b"2026-11-02T09:45:00-05:00")
    again = provider_post(world, t, resent).json["items"][0]
    assert again["lead_id"] == first["lead_id"] and again["coalesced_into"] is None
    assert history(world, t, first["lead_id"]).count("coalesced") == 0
    # another provider lead id from the same person is a new request: it coalesces
    other = doc("cars_com.xml").replace(b"CC-88812034", b"CC-88812099")
    assert provider_post(world, t, other).json["items"][0]["coalesced_into"] == first["lead_id"]


def test_a_document_that_failed_halfway_is_finished_by_the_retry(world: World) -> None:
    t = world.tenant()
    transactions = world.deps.transactions
    writes: list[int] = []

    class FailingThirdWrite:
        def commit(self, ops: Any) -> Any:
            writes.append(1)
            if len(writes) == 3:
                raise RuntimeError("DynamoDB is unavailable")
            return transactions.commit(ops)

    world.deps.transactions = FailingThirdWrite()
    failed = provider_post(world, t, doc("multi_prospect.xml"))
    assert failed.status == 500  # the provider will deliver it again
    world.deps.transactions = transactions
    assert lead_count(world, t) == 1

    retried = provider_post(world, t, doc("multi_prospect.xml"))

    assert retried.status == 201
    sam, sam_again, ava = retried.json["items"]
    assert sam_again["coalesced_into"] == sam["lead_id"] and ava["coalesced_into"] is None
    assert lead_count(world, t) == 2
    assert history(world, t, sam["lead_id"]).count("coalesced") == 1


def test_provider_variants_land_as_leads_through_both_routes(world: World) -> None:
    """The ADF 1.0 specification's own header, no declaration, a BOM, Windows-1252, UTF-16, several
    contacts and phones (tests/events/adf/README.md): each makes a normalised lead."""
    t = world.tenant()
    account_id = t.accounts[0]["account_id"]
    api_key = world.get(f"/accounts/{account_id}", t.token).json["api_key"]
    expected = {
        "spec_header_lead.xml": ("Dana", "+14255550139", None),
        "spec_header_crlf.xml": ("Tanya", "+13125550148", "tanya.brooks@example.net"),
        "xml_then_adf_header.xml": ("Kevin", "+17735550163", None),
        "bom_utf8.xml": ("Ana Lucía", "+14155550190", "ana.reyes@example.org"),
        "windows_1252.xml": ("Renée", "+16145550117", "renee.cote@example.ca"),
        "undeclared_windows_1252.xml": ("María", "+12145550176", None),
        "utf16_bom.xml": ("Chris", None, "chris.nguyen@example.com"),
        "contacts_and_phones.xml": ("Jordan", "+16025550122", "jordan.ellis@example.com"),
    }
    for i, (name, (first, phone, email)) in enumerate(expected.items()):
        if i % 2:
            reply = world.call("POST", "/webhooks/leads/adf", raw=doc(name),
                               headers={"Content-Type": "text/xml", "X-Api-Key": api_key})
        else:
            reply = post_adf(world, t, name)
        assert reply.status == 201, (name, reply.json)
        (lead,) = reply.json["items"]
        assert (lead["first_name"], lead["phone"], lead["email"]) == (first, phone, email), name
    assert lead_count(world, t) == len(expected)


def test_an_adf_header_over_another_document_is_still_400(world: World) -> None:
    t = world.tenant()
    # The specification's example parses; its made-up phone (area code 393) is named, nothing stored.
    reply = post_adf(world, t, "spec_example.xml")
    assert reply.status == 400 and reply.json["error"]["details"] == [
        {"field": "prospect[0].phone", "message": "is not a valid phone number"}]
    reply = post_adf(world, t, "adf_header_not_adf.xml")
    assert reply.status == 400 and reply.json["error"]["details"][0]["field"] == "body"
    assert lead_count(world, t) == 0
