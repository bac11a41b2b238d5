"""Text from outside (domain/text.py): control characters refused in every request field (free
text keeps line feeds and tabs), cleaned from what providers send; mail headers built by the email
package's policy (domain/mime.py); CSV cells that cannot run as formulas, full-width forms too, and
never hold a NUL."""

from __future__ import annotations

import email
from email import policy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.inbound import InboundMessage
from chalicelib.domain.leads import NewLead
from chalicelib.domain.mail import Email
from chalicelib.domain.mime import address, build_message
from chalicelib.domain.reports.csv_files import cell, read_csv, write_csv
from chalicelib.domain.text import clean_line, clean_text, line_problem, text_problem
from chalicelib.schemas.conversations import SavedReplyRequest, SendMessageRequest
from chalicelib.schemas.leads import CreateLeadRequest, NoteRequest
from chalicelib.schemas.tenancy import CreateUserRequest, UpdateAccountRequest

HOSTILE = "Evil\r\nBcc: attacker@example.com"
CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]


def _bad_fields(model: type[Any], data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [".".join(str(p) for p in err["loc"]) for err in info.value.errors()]


@pytest.mark.parametrize("char", [*CONTROLS, "\u2028", "\u2029"])
def test_a_single_line_field_refuses_every_control_character(char: str) -> None:
    assert line_problem(f"Ann{char}Marie") is not None
    assert _bad_fields(CreateLeadRequest, {"first_name": f"Ann{char}Marie"}) == ["first_name"]


@pytest.mark.parametrize("char", [c for c in CONTROLS if c not in "\n\t"])
def test_free_text_keeps_line_feeds_and_tabs_only(char: str) -> None:
    assert text_problem("line one\nline\ttwo") is None
    assert NoteRequest(text="line one\nline\ttwo").text == "line one\nline\ttwo"
    assert _bad_fields(NoteRequest, {"text": f"one{char}two"}) == ["text"]


def test_every_request_field_is_checked_and_named() -> None:
    assert _bad_fields(CreateLeadRequest, {"source": "Web\nsite", "vehicle": {"make": "Hon\x00da"},
                                           "message": "fine\nmessage"}) == ["source", "vehicle.make"]
    assert _bad_fields(UpdateAccountRequest, {"name": "Acme\r\nBcc: x@y.com"}) == ["name"]
    assert _bad_fields(UpdateAccountRequest, {"address": "1 Main St\nSuite 2\x1b[31m"}) == ["address"]
    assert UpdateAccountRequest(address="1 Main St\nSuite 2").address == "1 Main St\nSuite 2"
    assert _bad_fields(CreateUserRequest, {"email": "a@b.com", "name": "Sam", "role": "agent",
                                           "teams": ["new", "used\ttrucks"]}) == ["teams"]
    assert _bad_fields(SavedReplyRequest, {"title": "Hours\r\nBcc: x", "body": "We open at 9.\nSee you!"}) == ["title"]
    assert SendMessageRequest(body="Hi!\n\nSee you at 5").body == "Hi!\n\nSee you at 5"


def test_provider_text_is_cleaned_not_refused() -> None:
    made = NewLead(first_name=HOSTILE, last_name="Lo\x00pez", source="Cars\r\n.com", message="Hi\r\nthere\x07!",
                   vehicle={"make": "Honda\n", "model": "Civic\x1b"})
    assert (made.first_name, made.last_name, made.source) == ("Evil Bcc: attacker@example.com", "Lopez", "Cars .com")
    assert made.message == "Hi\nthere!"
    assert made.vehicle is not None and (made.vehicle.make, made.vehicle.model) == ("Honda", "Civic")
    msg = InboundMessage(provider="twilio", provider_id="SM1\r\n", channel="sms", sender="+13125550199",
                         recipient="+13125550100", body="Line\r\nnext\x00", received_at="2026-11-02T15:00:00Z",
                         attachments=[{"url": "https://x.example/a\r\nb", "content_type": "image/png\x00"}])
    assert (msg.provider_id, msg.body) == ("SM1", "Line\nnext")
    assert msg.attachments == [{"url": "https://x.example/a b", "content_type": "image/png"}]


@given(st.text())
def test_cleaned_text_always_passes_its_own_check(value: str) -> None:
    assert line_problem(clean_line(value)) is None
    assert text_problem(clean_text(value)) is None
    assert clean_line(clean_line(value)) == clean_line(value)


def _parsed(raw: bytes) -> Any:
    return email.message_from_bytes(raw, policy=policy.default)


def test_mail_headers_cannot_be_added_by_a_customer_or_a_store_name() -> None:
    sender = address("leadline@example.com", display_name="Acme\r\nBcc: attacker@example.com")
    msg = build_message(sender, Email(to=["gm@acme.com"], subject=f"Escalation: {HOSTILE} (Acme\u2028Honda)",
                                      text="Body", reply_to=["sam@acme.com"]),
                        headers={"In-Reply-To": "<a@b>\r\nBcc: attacker@example.com"})
    parsed = _parsed(msg.as_bytes())
    assert parsed["Bcc"] is None and parsed.get_all("Subject") and len(parsed.get_all("Subject")) == 1
    assert parsed["Subject"] == "Escalation: Evil Bcc: attacker@example.com (Acme Honda)"
    assert [str(a.addr_spec) for a in parsed["To"].addresses] == ["gm@acme.com"]
    assert parsed["From"].addresses[0].addr_spec == "leadline@example.com"
    assert "attacker@example.com" not in str(parsed["To"]) + str(parsed["Reply-To"])


def test_mail_addresses_are_parsed_never_pasted() -> None:
    with pytest.raises(ValueError):
        build_message(address("leadline@example.com"), Email(to=["gm@acme.com\r\nBcc: x@y.com"], subject="s",
                                                               text="t")).as_bytes()
    non_ascii = _parsed(build_message(address("leadline@example.com"), Email(
        to=["gm@bücher.example"], subject="Überraschung für Zoë", text="t")).as_bytes())
    assert non_ascii["To"].addresses[0].domain == "xn--bcher-kva.example"
    assert non_ascii["Subject"] == "Überraschung für Zoë"


@pytest.mark.parametrize("value", ["=HYPERLINK(\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\uff1d1+1",
                                   "\uff0b1", "\uff0d1", "\uff20SUM(A1)", "  =1+1", "\u22121"])
def test_csv_cells_never_run_as_formulas(value: str) -> None:
    assert str(cell(value)).startswith("'")


def test_csv_files_hold_no_nul_or_other_control_character() -> None:
    body = write_csv(["name", "source"], [["Ann\x00Marie", "Web\x1bsite"], ["Bo", 3]])
    assert b"\x00" not in body and b"\x1b" not in body
    assert read_csv(body) == [{"name": "AnnMarie", "source": "Website"}, {"name": "Bo", "source": "3"}]
