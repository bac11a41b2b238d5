"""What an alert about a lead says, in each form it travels in. Pure.

An alert is written once from the lead and the moment (`lead_alert`) and read three ways: the
in-app notification (`title` + `body`), an SMS (`sms`: one short paragraph) and an email (`text`
and `html`: a multipart message readable on a phone). Each carries what a person needs to act
without opening anything first: the customer's name and how to reach them, the vehicle, the
source, the customer's message, the time left (or how late it is), the store, and a link into the
console (`lead_link`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from chalicelib.clock import parse_time
from chalicelib.domain.leads import Lead, Vehicle
from chalicelib.domain.notifications import NotificationKind

SMS_MESSAGE_CHARS = 100
MESSAGE_CHARS = 500


@dataclass(frozen=True)
class Timing:
    """When something is due for the alert: the due instant and the clock time left until it (on a
    business-hours clock, fewer seconds than the wall clock shows overnight)."""

    due_at: str
    seconds_left: float


@dataclass(frozen=True)
class Facts:
    """What the alert says beside the lead: the store, its timezone, the customer's message to quote
    (the first or the latest), who did it (a mention's author, the owner who missed), a note."""

    store: str = ""
    timezone: str = "UTC"
    message: str | None = None
    who: str | None = None
    note: str | None = None
    timing: Timing | None = None


@dataclass(frozen=True)
class Alert:
    kind: NotificationKind
    lead_id: str | None
    account_id: str | None
    title: str
    lines: tuple[tuple[str, str], ...]
    link: str | None

    @property
    def body(self) -> str:
        """The in-app body and the plain-text email: one `Label: value` line each, then the link."""
        text = "\n".join(f"{label}: {value}" for label, value in self.lines)
        return f"{text}\n\nOpen the lead: {self.link}" if self.link else text

    @property
    def subject(self) -> str:
        return self.title

    @property
    def text(self) -> str:
        return f"{self.title}\n\n{self.body}\n"

    @property
    def sms(self) -> str:
        values = dict(self.lines)
        parts = [self.title]
        parts += [values[k] for k in ("Vehicle", "Source") if k in values]
        if "Message" in values:
            parts.append(_cut(values["Message"], SMS_MESSAGE_CHARS))
        if "Time left" in values:
            parts.append(f"Time left: {values['Time left']}")
        if self.link:
            parts.append(self.link)
        return " · ".join(parts)

    @property
    def html(self) -> str:
        rows = "".join(
            f'<tr><th style="text-align:left;vertical-align:top;padding:6px 12px 6px 0;color:#555;font-weight:600;'
            f'white-space:nowrap">{escape(label)}</th><td style="padding:6px 0">{_html_text(value)}</td></tr>'
            for label, value in self.lines)
        button = (f'<p style="margin:24px 0 8px"><a href="{escape(self.link, quote=True)}" style="display:inline-block;'
                  'padding:12px 20px;background:#1d4ed8;color:#ffffff;border-radius:6px;text-decoration:none;'
                  f'font-weight:600">Open the lead</a></p><p style="color:#666;font-size:13px;word-break:break-all">'
                  f'{escape(self.link)}</p>') if self.link else ""
        return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<title>{escape(self.title)}</title></head>'
                '<body style="margin:0;padding:16px;background:#f6f7f9;font-family:-apple-system,BlinkMacSystemFont,'
                'Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.45;color:#111">'
                '<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:20px">'
                f'<h1 style="font-size:19px;line-height:1.3;margin:0 0 16px">{escape(self.title)}</h1>'
                f'<table role="presentation" style="border-collapse:collapse;width:100%">{rows}</table>'
                f'{button}</div></body></html>')


def _html_text(value: str) -> str:
    return escape(value).replace("\n", "<br>")


def _cut(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def vehicle_text(vehicle: Vehicle | None) -> str | None:
    if vehicle is None:
        return None
    words = [str(vehicle.year) if vehicle.year else "", vehicle.make or "", vehicle.model or "", vehicle.trim or ""]
    text = " ".join(w for w in words if w)
    if vehicle.stock:
        text = f"{text} (stock {vehicle.stock})" if text else f"stock {vehicle.stock}"
    return text or None


def duration(seconds: float) -> str:
    """`45 s`, `4 min 30 s`, `2 h 5 min`, `3 d 4 h`: whole units, the two largest."""
    total = max(0, round(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def local_time(at: str, timezone: str) -> str:
    """`Tue 09:20` in the store's zone (the day when it is not obvious from the time alone)."""
    local = parse_time(at).astimezone(ZoneInfo(timezone))
    return local.strftime("%a %H:%M")


def _time_left(timing: Timing, now: datetime, timezone: str) -> str:
    late = (now - parse_time(timing.due_at)).total_seconds()
    if late >= 0:
        return f"overdue by {duration(late)} (was due {local_time(timing.due_at, timezone)})"
    return f"{duration(timing.seconds_left)} (due {local_time(timing.due_at, timezone)})"


def _title(kind: NotificationKind, lead: Lead, facts: Facts) -> str:
    name = lead.name or "a customer"
    source = lead.source
    titles: dict[str, str] = {
        "offer": f"New {source} lead for you: {name}",
        "assigned": f"{name} is your lead now",
        "customer_replied": f"{name} wrote back",
        "target_warning": f"Answer {name} soon: the response target is near",
        "target_missed": f"Response target missed on {name}" + (f" ({facts.who})" if facts.who else ""),
        "reoffered": f"{name} went to another agent: the response target was missed",
        "mention": f"{facts.who or 'Someone'} mentioned you on {name}",
        "delinquent": f"Nobody accepted the {source} lead from {name}",
    }
    return titles[kind]


def lead_link(console_url: str, lead_id: str) -> str:
    """The console's page of a lead: `{console_url}/#/leads/{lead_id}`. The console routes in the URL's
    fragment (console/src/router.ts), since every real path on the local port is the API's: a bare
    `/leads/{lead_id}` there is the API's JSON, not the page."""
    return f"{console_url.rstrip('/')}/#/leads/{lead_id}"


def lead_alert(kind: NotificationKind, lead: Lead, now: datetime, console_url: str, facts: Facts) -> Alert:
    contact = ", ".join(p for p in (lead.phone, lead.email) if p)
    customer = f"{lead.name or 'unnamed'} ({contact})" if contact else (lead.name or "unnamed")
    lines: list[tuple[str, str]] = [("Customer", customer)]
    vehicle = vehicle_text(lead.vehicle)
    if vehicle:
        lines.append(("Vehicle", vehicle))
    lines.append(("Source", lead.source))
    message = facts.message if facts.message is not None else lead.last_message_preview
    if message:
        lines.append(("Message", _cut(message, MESSAGE_CHARS)))
    if facts.note:
        lines.append(("Note", _cut(facts.note, MESSAGE_CHARS)))
    if facts.timing is not None:
        lines.append(("Time left", _time_left(facts.timing, now, facts.timezone)))
    if facts.store:
        lines.append(("Store", facts.store))
    link = lead_link(console_url, lead.lead_id) if console_url else None
    return Alert(kind, lead.lead_id, lead.account_id, _title(kind, lead, facts), tuple(lines), link)
