"""Intake's rules without AWS: contact normalisation per store region, the coalescing window,
reading an ADF document into lead requests (every bad field of every prospect named)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.domain.accounts import Account
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.intake import normalize_contact, read_adf
from chalicelib.domain.leads import NewLead, within_window

DOCS = Path(__file__).resolve().parents[1] / "events" / "adf"


def store(timezone: str = "America/New_York") -> Account:
    return Account(account_id="acc_1", group_id="grp_1", name="Acme", timezone=timezone,
                   created_at="2026-11-01T00:00:00.000Z", updated_at="2026-11-01T00:00:00.000Z")


def test_contact_points_are_normalised_with_the_store_region() -> None:
    contact = normalize_contact(store(), NewLead(phone="(212) 555-0142", email=" Ann@Example.COM "))
    assert (contact.phone, contact.email) == ("+12125550142", "ann@example.com")
    assert normalize_contact(store("Europe/London"), NewLead(phone="020 7946 0958")).phone == "+442079460958"
    assert normalize_contact(store(), NewLead(messenger_psid=" 2468 ")).points() == [("messenger", "2468")]


def test_bad_or_missing_contact_points_name_the_fields() -> None:
    with pytest.raises(ValidationFailed) as err:
        normalize_contact(store(), NewLead(phone="555", email="nope"), prefix="prospect[2].")
    assert [d["field"] for d in err.value.details] == ["prospect[2].phone", "prospect[2].email"]
    with pytest.raises(ValidationFailed) as err:
        normalize_contact(store(), NewLead(first_name="Nobody", phone="  "))
    assert [d["field"] for d in err.value.details] == ["phone", "email"]


def test_window_runs_from_the_latest_request() -> None:
    assert within_window("2026-10-01T00:00:00.000Z", "2026-10-31T00:00:00.000Z", 30)
    assert not within_window("2026-10-01T00:00:00.000Z", "2026-10-31T00:00:00.001Z", 30)
    assert not within_window("2026-10-01T00:00:00.000Z", "2026-10-04T00:00:00.000Z", 2)


def test_adf_document_becomes_lead_requests() -> None:
    ((request, _),) = read_adf(store("America/Chicago"), (DOCS / "dealer_website.xml").read_bytes())
    assert request.received_at is not None and request.received_at.isoformat() == "2026-11-02T08:15:00-06:00"
    assert request.source == "Acme Subaru Website" and request.channel == "web"
    assert request.vehicle is not None and request.vehicle.model == "Outback"
    read = read_adf(store(), (DOCS / "multi_prospect.xml").read_bytes())
    assert [r.email for r, _ in read] == ["sam.patel@outlook.com", "SAM.PATEL@outlook.com", "ava.brooks@yahoo.com"]
    # each prospect is its own delivery, the same one every time the document comes
    assert len({key for _, key in read}) == 3
    assert [key for _, key in read] == [key for _, key in read_adf(store(), (DOCS / "multi_prospect.xml").read_bytes())]


def test_adf_names_every_bad_field_of_every_prospect() -> None:
    document = (DOCS / "bad_second_prospect.xml").read_bytes().replace(b"<year>97</year>", b"")
    with pytest.raises(ValidationFailed) as err:
        read_adf(store(), document)
    assert {d["field"] for d in err.value.details} == {"prospect[1].requestdate", "prospect[1].phone",
                                                       "prospect[1].email"}


def test_adf_fields_too_long_to_store_are_named() -> None:
    document = (DOCS / "cars_com.xml").read_bytes().replace(b"<make>Honda</make>", b"<make>" + b"H" * 5000 + b"</make>")
    with pytest.raises(ValidationFailed) as err:
        read_adf(store(), document)
    assert [d["field"] for d in err.value.details] == ["prospect[0].vehicle.make"]


def test_adf_request_dates_out_of_range_are_named() -> None:
    document = (DOCS / "cars_com.xml").read_bytes().replace(b"2026-11-02T09:41:07-05:00", b"9999-12-31T23:59:59-05:00")
    with pytest.raises(ValidationFailed) as err:
        read_adf(store(), document)
    assert [d["field"] for d in err.value.details] == ["prospect[0].requestdate"]
