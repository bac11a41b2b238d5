"""ADF 1.0 parsing of realistic provider documents and hostile ones (pure: no AWS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.domain.adf import AdfError, parse_adf

DOCS = Path(__file__).resolve().parents[1] / "events" / "adf"


def doc(name: str) -> bytes:
    return (DOCS / name).read_bytes()


def test_cars_com_style() -> None:
    (p,) = parse_adf(doc("cars_com.xml"))
    assert (p["first_name"], p["last_name"]) == ("Maria", "Gonzalez")
    assert p["email"] == "Maria.Gonzalez@Example.com" and p["phone"] == "(212) 555-0187"
    assert p["requestdate"] == "2026-11-02T09:41:07-05:00"
    assert p["source"] == "Cars.com" and p["source_group"] == "Cars.com Used Vehicle Lead"
    assert p["vehicle"] == {"year": 2021, "make": "Honda", "model": "Civic", "trim": "EX Sedan",
                            "vin": "2HGFC1F39MH512345", "stock": "U4471", "status": "used", "interest": "buy"}
    assert p["message"] == "Is this Civic still available? Can I come Saturday morning & test drive it?"
    assert p["provider_lead_id"] == "CC-88812034"


def test_autotrader_style_upper_case_trade_in_fax_and_campaign() -> None:
    (p,) = parse_adf(doc("autotrader.xml"))
    assert (p["first_name"], p["last_name"]) == ("Derek", "O'Neil")
    # the fax number is skipped for the one that can take a call or a text
    assert p["phone"] == "+1 646 555 0123"
    # the vehicle wanted, not the trade-in
    assert p["vehicle"]["model"] == "RAV4" and p["vehicle"]["status"] == "new" and p["vehicle"]["year"] == 2027
    assert p["campaign"] == "Winter-SUV-2026" and p["source"] == "AutoTrader"
    assert p["message"] == "Looking for best out-the-door price. Trading my Focus.\nTimeframe: Within 2 weeks"


def test_dealer_website_form_with_namespace_full_name_and_local_time() -> None:
    (p,) = parse_adf(doc("dealer_website.xml"))
    assert (p["first_name"], p["last_name"]) == ("Li Wei", "Chen")
    assert p["email"] is None and p["phone"] == "917.555.0144"
    assert p["requestdate"] == "2026-11-02 08:15:00"
    assert p["campaign"] == "Google Ads - Outback" and p["source_group"] == "Contact Us Form"
    assert p["vehicle"]["vin"] == "4S4BSANCXK3201234" and p["vehicle"]["interest"] == "test-drive"
    assert p["message"] == "Schedule a test drive please. Prefer text messages."


def test_multi_prospect_document() -> None:
    prospects = parse_adf(doc("multi_prospect.xml"))
    assert [p["first_name"] for p in prospects] == ["Sam", "Sam", "Ava"]
    assert prospects[2]["vehicle"] is None and prospects[2]["phone"] is None


def test_bad_vehicle_year_names_the_field() -> None:
    with pytest.raises(AdfError) as err:
        parse_adf(doc("bad_second_prospect.xml"))
    assert err.value.field == "prospect[1].vehicle.year"


@pytest.mark.parametrize("name", ["billion_laughs.xml", "external_entity.xml"])
def test_entities_are_refused_before_expansion(name: str) -> None:
    with pytest.raises(AdfError) as err:
        parse_adf(doc(name))
    assert err.value.field == "body" and "DTD" in err.value.message


@pytest.mark.parametrize("body, field", [
    (b"", "body"), (b"   ", "body"), (b"not xml at all", "body"),
    (b"<adf></adf>", "prospect"), (b"<adf><prospect></adf>", "body"),
])
def test_unusable_documents(body: bytes, field: str) -> None:
    with pytest.raises(AdfError) as err:
        parse_adf(body)
    assert err.value.field == field


def test_broken_and_foreign_documents() -> None:
    with pytest.raises(AdfError, match="well-formed"):
        parse_adf(doc("broken.xml"))
    with pytest.raises(AdfError, match="root element"):
        parse_adf(doc("not_adf.xml"))
