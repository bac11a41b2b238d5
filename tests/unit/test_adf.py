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


# -- ADF as providers send it (tests/events/adf/README.md says where each shape comes from) -----

def test_the_specifications_own_example_header_and_typographic_quotes() -> None:
    (p,) = parse_adf(doc("spec_example.xml"))
    assert (p["first_name"], p["last_name"], p["phone"]) == ("John", "Doe", "393-999-3922")
    assert p["vehicle"] == {"year": 1999, "make": "Chevrolet", "model": "Blazer"}
    assert p["requestdate"] == "2000-03-30T15:30:20-08:00"


@pytest.mark.parametrize("name, first, phone, email", [
    ("spec_header_crlf.xml", "Tanya", "(312) 555-0148", "tanya.brooks@example.net"),
    ("xml_then_adf_header.xml", "Kevin", "7735550163", None),
    ("no_declaration.xml", "Juan", "+54 9 221 555-0102", "juan.perez@example.com.ar"),
    ("bom_utf8.xml", "Ana Lucía", "+1 (415) 555-0190", "ana.reyes@example.org"),
    ("windows_1252.xml", "Renée", "(614) 555-0117", "renee.cote@example.ca"),
    ("undeclared_windows_1252.xml", "María", "214-555-0176", None),
    ("utf16_bom.xml", "Chris", None, "chris.nguyen@example.com"),
])
def test_headers_encodings_and_contact_variants(name: str, first: str, phone: str | None,
                                                email: str | None) -> None:
    (p,) = parse_adf(doc(name))
    assert (p["first_name"], p["phone"], p["email"]) == (first, phone, email)


def test_windows_1252_text_is_read_as_written() -> None:
    (p,) = parse_adf(doc("windows_1252.xml"))
    assert p["last_name"] == "Côté"
    # Word's apostrophe, en dash and quotes are single Windows-1252 bytes (0x92, 0x96, 0x93, 0x94).
    assert p["message"] == "I\u2019m interested \u2013 is it still \u201cfor sale\u201d? Price €/$ whatever works."
    (q,) = parse_adf(doc("undeclared_windows_1252.xml"))
    assert (q["last_name"], q["message"]) == ("Nuñez", "¿Tienen financiamiento? Señor López me recomendó.")


def test_primary_contact_preferred_mobile_and_mailto_email() -> None:
    (p,) = parse_adf(doc("contacts_and_phones.xml"))
    assert (p["first_name"], p["last_name"]) == ("Jordan", "Ellis")
    assert p["phone"] == "(602) 555-0122" and p["email"] == "jordan.ellis@example.com"


def test_a_mobile_wins_over_a_landline_listed_first() -> None:
    document = (b'<adf><prospect><customer><contact><phone type="voice">312-555-0100</phone>'
                b'<phone type="mobile">312-555-0199</phone><phone type="fax">312-555-0101</phone>'
                b'</contact></customer></prospect></adf>')
    (p,) = parse_adf(document)
    assert p["phone"] == "312-555-0199"
    (q,) = parse_adf(document.replace(b'type="mobile"', b'type="fax"'))
    assert q["phone"] == "312-555-0100"  # never a fax


@pytest.mark.parametrize("body, message", [
    (doc("adf_header_not_adf.xml"), "root element"),
    (b'<?xml version="1.0" encoding="ebcdic-cp-us"?><adf/>', "encoding"),
    (b'<?xml version="1.0" encoding="windows-1252"?><adf>\x81</adf>', "windows-1252"),
    (b"<html><body>Thanks for your lead!</body></html>", "root element"),
])
def test_what_is_not_adf_is_still_refused(body: bytes, message: str) -> None:
    with pytest.raises(AdfError, match=message) as err:
        parse_adf(body)
    assert err.value.field == "body"
