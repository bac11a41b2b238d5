"""ADF 1.0 (Auto-lead Data Format), the XML every US lead provider and dealer CRM speaks,
read into plain data: one dict per <prospect> with the fields of a lead request.

Parsing goes through defusedxml with DTDs forbidden, so entity expansion (billion laughs) and
external entities are refused before anything is expanded or fetched. Providers differ in
small ways that this reader tolerates: the ADF 1.0 specification's own header
(`<?ADF VERSION "1.0"?>` before an upper-case `<?XML VERSION "1.0"?>`, in either order, with
the specification's typographic quotes), no XML declaration, a byte order mark, a declared
Windows-1252 / ISO-8859-1 encoding (or undeclared Windows-1252 bytes), upper-case tags, a
namespace, names given only as a full name, several contacts, phones or emails (the preferred or
primary one, a mobile before a landline, never a fax), `mailto:` emails, the vehicle of interest
among trade-ins. tests/events/adf/ holds a sample of each shape and says where it comes from."""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element, ParseError

MAX_PROSPECTS = 100
_NO_DTD = "documents with a DTD or entities are refused"


class AdfError(ValueError):
    """A bad document or a bad prospect field: `field` names it (e.g. `prospect[1].vehicle.year`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_adf(document: bytes | str) -> list[dict[str, Any]]:
    """Every prospect of an ADF document; AdfError for anything that is not a usable document."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    if not document or not document.strip():
        raise AdfError("body", "is empty; send an ADF 1.0 document")
    text = _document_text(document.encode("utf-8") if isinstance(document, str) else document)
    try:
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise AdfError("body", _NO_DTD) from exc
    except (ParseError, ValueError) as exc:
        raise AdfError("body", f"is not well-formed XML ({exc})") from exc
    if _tag(root) != "adf":
        raise AdfError("body", "the root element must be <adf>")
    prospects = _children(root, "prospect")
    if not prospects:
        raise AdfError("prospect", "the document has no <prospect>")
    if len(prospects) > MAX_PROSPECTS:
        raise AdfError("prospect", f"at most {MAX_PROSPECTS} prospects per document")
    return [_prospect(p, f"prospect[{i}]") for i, p in enumerate(prospects)]


# -- the bytes providers send ---------------------------------------------------------------

# The declarations a document may open with: `<?xml ...?>` and ADF's own `<?ADF VERSION "1.0"?>`,
# in any case and order (the ADF 1.0 specification prints `<?ADF VERSION "1.0"?>` first, then
# `<?XML VERSION "1.0"?>`, which XML parsers refuse: a declaration must come first, in lower case).
_OPENING = re.compile(rb"\s*<\?\s*(adf|xml)\b(.{0,200}?)\?>", re.IGNORECASE | re.DOTALL)
# The value's quotes may be typographic (the specification's own example has them).
_ENCODING = re.compile(rb"encoding\s*=\s*[^A-Za-z>]{0,3}([A-Za-z][A-Za-z0-9._-]{0,39})", re.IGNORECASE)
# Labels as browsers read them (WHATWG): ISO-8859-1 and ASCII labels mean Windows-1252.
_CODECS = {"utf-8": "utf-8", "utf8": "utf-8", "windows-1252": "cp1252", "cp1252": "cp1252",
           "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
           "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-15": "iso8859_15", "utf-16": "utf-16"}


def _document_text(raw: bytes) -> str:
    """The document as text with its opening declarations removed, decoded as they (or a byte
    order mark) say; undeclared bytes that are not UTF-8 are read as Windows-1252."""
    declared: str | None = None
    label = "utf-8"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raw, declared = raw.decode("utf-16").encode("utf-8"), "utf-8"
    elif raw.startswith(b"\xef\xbb\xbf"):
        raw, declared = raw[3:], "utf-8"
    while (opening := _OPENING.match(raw)) is not None:
        if opening.group(1).lower() == b"xml":
            found = _ENCODING.search(opening.group(2))
            if found is not None and declared is None:
                label = found.group(1).decode("ascii")
                if label.lower() not in _CODECS:
                    raise AdfError("body", f"declares the encoding {label!r}; send UTF-8 or Windows-1252")
                declared = _CODECS[label.lower()]
        raw = raw[opening.end():]
    if declared == "utf-16":
        raise AdfError("body", "declares UTF-16 but has no byte order mark")
    try:
        return raw.decode(declared or "utf-8")
    except UnicodeDecodeError:
        if declared not in (None, "utf-8"):
            raise AdfError("body", f"is not valid {label} text") from None
        # Declared UTF-8 (or nothing) but written by a Windows program: what its bytes mean there.
        return raw.decode("cp1252", errors="replace")


# -- one prospect ------------------------------------------------------------------------

def _prospect(node: Element, path: str) -> dict[str, Any]:
    customer = _child(node, "customer")
    contact = _primary(_children(customer, "contact"))
    provider = _child(node, "provider")
    first, last = _names(contact)
    data: dict[str, Any] = {
        "first_name": first,
        "last_name": last,
        "email": _email(contact),
        "phone": _phone(contact),
        "message": _comments(customer, node),
        "requestdate": _text(_child(node, "requestdate")),
        "source": _provider_name(provider),
        "source_group": _text(_child(provider, "service")) if provider is not None else None,
        "campaign": _campaign(node, provider),
        "vehicle": _vehicle(node, path),
        "provider_lead_id": _text(_child(node, "id")),
    }
    return data


def _names(contact: Element | None) -> tuple[str | None, str | None]:
    if contact is None:
        return None, None
    parts: dict[str, str] = {}
    for name in _children(contact, "name"):
        text = _text(name)
        if text:
            parts.setdefault((_attr(name, "part") or "full").strip().lower(), text)
    first, last = parts.get("first"), parts.get("last")
    if not first and not last and parts.get("full"):
        # Some forms send only the full name: the last word is the family name.
        words = parts["full"].split()
        first, last = (" ".join(words[:-1]) or None, words[-1]) if len(words) > 1 else (words[0], None)
    return first, last


def _primary(contacts: list[Element]) -> Element | None:
    """The customer's contact: the one marked primary, else the first."""
    return next((c for c in contacts if (_attr(c, "primarycontact") or "").strip() == "1"),
                contacts[0] if contacts else None)


_MOBILE = ("cellphone", "cell", "mobile", "mobilephone", "sms", "text")


def _phone(contact: Element | None) -> str | None:
    if contact is None:
        return None
    phones = [p for p in _children(contact, "phone") if _text(p)]
    # A fax or pager number can take neither a call nor a text: never one of those.
    usable = [p for p in phones if (_attr(p, "type") or "voice").strip().lower() not in ("fax", "pager")]
    if not usable:
        return None
    preferred = [p for p in usable if (_attr(p, "preferredcontact") or "").strip() == "1"]
    # A mobile can take the texts a store sends; among equals, the provider's order.
    mobile = [p for p in (preferred or usable) if (_attr(p, "type") or "").strip().lower() in _MOBILE]
    return _text((mobile or preferred or usable)[0])


def _email(contact: Element | None) -> str | None:
    """The preferred email (else the first), without a `mailto:` and without a second address
    some forms append (`a@x.com; b@y.com`)."""
    chosen = _preferred(_children(contact, "email")) if contact is not None else None
    if chosen is None:
        return None
    text = re.sub(r"^mailto:", "", chosen.strip(), flags=re.IGNORECASE)
    return next((part for part in re.split(r"[;,\s]+", text) if "@" in part), text) or None


def _preferred(nodes: list[Element]) -> str | None:
    with_text = [n for n in nodes if _text(n)]
    if not with_text:
        return None
    chosen = next((n for n in with_text if (_attr(n, "preferredcontact") or "").strip() == "1"), with_text[0])
    return _text(chosen)


def _comments(customer: Element | None, prospect: Element) -> str | None:
    parts = []
    if customer is not None:
        parts.append(_text(_child(customer, "comments")))
        timeframe = _child(customer, "timeframe")
        if timeframe is not None:
            description = _text(_child(timeframe, "description"))
            if description:
                parts.append(f"Timeframe: {description}")
    text = "\n".join(p for p in parts if p)
    return text or None


def _provider_name(provider: Element | None) -> str | None:
    if provider is None:
        return None
    names = _children(provider, "name")
    full = next((n for n in names if (_attr(n, "part") or "full").lower() == "full" and _text(n)), None)
    return _text(full) or _text(_child(provider, "id"))


def _campaign(prospect: Element, provider: Element | None) -> str | None:
    for holder in (prospect, provider):
        if holder is None:
            continue
        value = _text(_child(holder, "campaign"))
        if value:
            return value
        for ident in _children(holder, "id"):
            if (_attr(ident, "source") or "").strip().lower() == "campaign" and _text(ident):
                return _text(ident)
    return None


def _vehicle(prospect: Element, path: str) -> dict[str, Any] | None:
    vehicles = _children(prospect, "vehicle")
    if not vehicles:
        return None
    # The car the customer wants, not the one they trade in.
    wanted = [v for v in vehicles if (_attr(v, "interest") or "buy").strip().lower() not in ("trade-in", "sell")]
    index = vehicles.index((wanted or vehicles)[0])
    node = vehicles[index]
    vpath = f"{path}.vehicle" if len(vehicles) == 1 else f"{path}.vehicle[{index}]"
    data: dict[str, Any] = {k: _text(_child(node, k)) for k in ("make", "model", "trim", "vin", "stock")}
    year = _text(_child(node, "year"))
    if year is not None:
        if not re.fullmatch(r"(19|20)\d\d", year):
            raise AdfError(f"{vpath}.year", "must be a four-digit model year")
        data["year"] = int(year)
    vin = data.get("vin")
    if vin is not None and not re.fullmatch(r"[A-HJ-NPR-Z0-9]{11,17}", vin.upper()):
        raise AdfError(f"{vpath}.vin", "is not a vehicle identification number")
    data["vin"] = vin.upper() if vin else None
    status = (_attr(node, "status") or "").strip().lower() or None
    data["status"] = status if status in ("new", "used") else None
    data["interest"] = (_attr(node, "interest") or "").strip().lower() or None
    cleaned = {k: v for k, v in data.items() if v is not None}
    return cleaned or None


# -- tolerant element access ---------------------------------------------------------------

def _tag(node: Element) -> str:
    """Local, lower-case tag name: `{urn:x}Prospect` and `PROSPECT` both read as `prospect`."""
    return str(node.tag).rsplit("}", 1)[-1].lower()


def _attr(node: Element, name: str) -> str | None:
    """An attribute whatever its case (`part`, `PART`)."""
    for key, value in node.attrib.items():
        if key.rsplit("}", 1)[-1].lower() == name:
            return value
    return None


def _children(node: Element | None, name: str) -> list[Element]:
    return [c for c in node if _tag(c) == name] if node is not None else []


def _child(node: Element | None, name: str) -> Element | None:
    found = _children(node, name)
    return found[0] if found else None


def _text(node: Element | None) -> str | None:
    if node is None:
        return None
    text = " ".join("".join(node.itertext()).split())
    return text or None
