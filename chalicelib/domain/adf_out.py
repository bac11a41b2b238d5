"""ADF 1.0 (Auto-lead Data Format) for "send to CRM": what dealer CRMs ingest by email.

One prospect: the lead's request date, vehicle, customer contact, and the conversation as
a readable transcript in the customer's <comments>; the store as vendor, Leadline as provider."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

from chalicelib.clock import parse_time
from chalicelib.domain.accounts import Account
from chalicelib.domain.leads import Lead
from chalicelib.domain.timeline import TimelineEvent

PROVIDER = "Leadline"


def transcript(events: list[TimelineEvent], lead: Lead, timezone: str, names: dict[str, str] | None = None) -> str:
    """The messages and notes of a timeline as plain lines, in the store's local time:
    `2026-11-02 10:00 EST  Customer (sms): Is it still available?`"""
    tz = ZoneInfo(timezone)
    lines = []
    for event in events:
        if event.type not in ("message", "note"):
            continue
        when = parse_time(event.at).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
        data = event.data
        if event.type == "note":
            who = (names or {}).get(event.by or "", "Staff")
            lines.append(f"{when}  {who} (internal note): {data.get('text', '')}")
            continue
        if data.get("direction") == "inbound":
            who = lead.name or "Customer"
        elif data.get("automated"):
            who = "Automatic reply"
        else:
            who = (names or {}).get(event.by or "", "Staff")
        status = data.get("status")
        suffix = f" [{status}]" if status in ("scheduled", "failed", "cancelled", "dropped") else ""
        body = data.get("body") or ""
        pictures = [a.get("url", "") for a in data.get("attachments") or []]
        if pictures:
            body = (body + " " if body else "") + " ".join(f"[picture {u}]" for u in pictures)
        lines.append(f"{when}  {who} ({data.get('channel', '')}): {body}{suffix}")
    return "\n".join(lines)


def _text(parent: ET.Element, tag: str, value: object, **attrs: str) -> None:
    if value is None or value == "":
        return
    child = ET.SubElement(parent, tag, attrs)
    child.text = str(value)


def lead_to_adf(lead: Lead, account: Account, comments: str) -> str:
    root = ET.Element("adf")
    prospect = ET.SubElement(root, "prospect", {"status": "new"})
    _text(prospect, "id", lead.lead_id, sequence="1", source=PROVIDER)
    request_date = parse_time(lead.received_at).astimezone(ZoneInfo(account.timezone)).isoformat(timespec="seconds")
    _text(prospect, "requestdate", request_date)
    vehicle = lead.vehicle
    if vehicle is not None:
        v = ET.SubElement(prospect, "vehicle",
                          {"interest": vehicle.interest or "buy", "status": vehicle.status or "used"})
        for tag in ("year", "make", "model", "vin", "stock", "trim"):
            _text(v, tag, getattr(vehicle, tag))
    customer = ET.SubElement(prospect, "customer")
    contact = ET.SubElement(customer, "contact")
    _text(contact, "name", lead.first_name, part="first")
    _text(contact, "name", lead.last_name, part="last")
    if not (lead.first_name or lead.last_name):
        _text(contact, "name", lead.name or "Unknown", part="full")
    _text(contact, "email", lead.email)
    _text(contact, "phone", lead.phone, type="voice")
    _text(customer, "comments", comments)
    vendor = ET.SubElement(prospect, "vendor")
    _text(vendor, "vendorname", account.name)
    vendor_contact = ET.SubElement(vendor, "contact")
    _text(vendor_contact, "name", account.name, part="full")
    if account.address:
        address = ET.SubElement(vendor_contact, "address")
        _text(address, "street", account.address, line="1")
    provider = ET.SubElement(prospect, "provider")
    _text(provider, "name", PROVIDER, part="full")
    _text(provider, "service", lead.source)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<?adf version="1.0"?>\n' + body + "\n"
