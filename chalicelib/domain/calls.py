"""Click-to-call: the store calls the agent's own phone from its number; when the agent answers,
a short whisper names the lead and the customer is dialled (Twilio Voice, a bridge of two legs).

A call is one timeline `call` event updated through its statuses. Twilio reports each leg on its
own (the agent's call, then the customer's dialled number), twice, late or out of order; `fold`
keeps each leg moving forward only and derives the call's one `status`. A call is `completed`
— a response to the lead — only when the customer's leg was answered and ended. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol
from xml.etree.ElementTree import Element, SubElement, tostring

from chalicelib.clock import iso, parse_time

Leg = Literal["agent", "customer"]
LEGS: tuple[Leg, ...] = ("agent", "customer")
# Twilio's CallStatus values (and the `answered` event, which reports in-progress), by progress.
_RANK = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3, "completed": 4, "busy": 4,
         "no-answer": 4, "failed": 4, "canceled": 4}
FAILED = frozenset({"busy", "no-answer", "failed", "canceled"})
TERMINAL = FAILED | {"completed"}
# Twilio answers an unanswered bridge leg after this many seconds.
DIAL_TIMEOUT_SECONDS = 25


def leg_status(raw: str) -> str | None:
    """Twilio's status of a leg in our vocabulary (None: not a call status)."""
    status = raw.strip().lower()
    status = "in-progress" if status == "answered" else status
    return status if status in _RANK else None


@dataclass(frozen=True)
class CallUpdate:
    """What one status callback changes: the event's fields, and whether the call just completed."""

    fields: dict[str, Any]
    completed: bool
    ended: bool


def overall(agent: str | None, customer: str | None, current: str) -> str:
    """The call's one status from its legs' (forward only: `current` stays while nothing decides)."""
    if customer == "completed":
        return "completed"
    if customer in FAILED:
        return customer
    if customer == "in-progress" or agent == "in-progress":
        return "in-progress" if current not in TERMINAL else current
    if agent in TERMINAL:
        if customer is not None:
            return current  # the customer's leg reports its own end
        # The agent's call ended before the customer was dialled: nobody answered, or the agent hung up.
        return "canceled" if agent == "completed" else agent
    if agent is not None and _RANK[agent] > _RANK.get(current, 0):
        return agent
    return current


def fold(call: dict[str, Any], leg: Leg, raw_status: str, duration: str | None, at: str) -> CallUpdate | None:
    """One status callback of one leg applied to a call event's data; None when it changes nothing
    (a repeat, an older status arriving late, a leg that has ended, an unknown status)."""
    status = leg_status(raw_status)
    key = f"{leg}_status"
    before = call.get(key)
    if status is None or (before is not None and (before in TERMINAL or _RANK[status] <= _RANK[before])):
        return None
    fields: dict[str, Any] = {key: status}
    seconds = _seconds(duration)
    if status in TERMINAL and seconds is not None:
        fields[f"{leg}_duration_s"] = seconds
        if leg == "customer" and status == "completed":
            fields["duration_s"] = seconds
    agent = status if leg == "agent" else call.get("agent_status")
    customer = status if leg == "customer" else call.get("customer_status")
    was = str(call.get("status") or "queued")
    now_status = overall(agent, customer, was)
    if leg == "customer" and status in ("in-progress", "completed") and not call.get("answered_at"):
        # The customer picked up; when the `answered` callback went missing, the end less the duration.
        fields["answered_at"] = at if status == "in-progress" else iso(parse_time(at) - timedelta(seconds=seconds or 0))
    if now_status != was:
        fields["status"] = now_status
        if now_status in TERMINAL:
            fields["ended_at"] = at
    return CallUpdate(fields=fields, completed=now_status == "completed" and was != "completed",
                      ended=now_status in TERMINAL and was not in TERMINAL)


def completed_at(call: dict[str, Any], fields: dict[str, Any]) -> datetime:
    """When a completed call answered the lead: the moment the customer picked up (else its end
    less its duration, when the `answered` callback never came)."""
    answered = fields.get("answered_at") or call.get("answered_at")
    if answered:
        return parse_time(str(answered))
    ended = parse_time(str(fields.get("ended_at") or call.get("ended_at")))
    return ended - timedelta(seconds=int(fields.get("duration_s") or call.get("duration_s") or 0))


def _seconds(raw: str | None) -> int | None:
    text = (raw or "").strip()
    return int(text) if text.isdigit() and len(text) <= 6 else None


# -- the port calls are placed through ------------------------------------------------------------

@dataclass(frozen=True)
class CallRequest:
    """Ring the agent (`to`) from the store's number; Twilio fetches `answer_url` when they answer."""

    to: str  # the agent's phone, E.164
    caller_id: str  # the store's number
    answer_url: str
    status_url: str
    call_id: str
    account_id: str
    customer: str  # the number the bridge dials (the sandbox records it; Twilio learns it from the TwiML)
    twilio_account_sid: str | None = None  # a store on its own Twilio subaccount


class Dialer(Protocol):
    def place(self, request: CallRequest) -> str:
        """Start the call; the provider's call id. SendFailed when the provider refuses."""
        ...


# -- TwiML ---------------------------------------------------------------------------------------

def whisper_text(lead_name: str, vehicle: str | None, store_name: str) -> str:
    """What the agent hears before the customer is dialled."""
    who = " ".join("".join(ch if ch.isalnum() or ch in " '-." else " " for ch in lead_name).split()) or "a customer"
    about = f", about the {vehicle}" if vehicle else ""
    return f"{store_name} call to {who}{about}. Connecting now."


def bridge_twiml(whisper: str, caller_id: str, customer: str, status_url: str) -> str:
    """The agent answered: say who is called, then dial the customer from the store's number;
    the customer's leg reports its statuses to `status_url`."""
    response = Element("Response")
    SubElement(response, "Say").text = whisper[:300]
    dial = SubElement(response, "Dial", {"callerId": caller_id, "answerOnBridge": "true",
                                         "timeout": str(DIAL_TIMEOUT_SECONDS)})
    SubElement(dial, "Number", {"statusCallback": status_url, "statusCallbackMethod": "POST",
                                "statusCallbackEvent": "initiated ringing answered completed"}).text = customer
    return _xml(response)


def hangup_twiml(reason: str) -> str:
    response = Element("Response")
    SubElement(response, "Say").text = reason
    SubElement(response, "Hangup")
    return _xml(response)


def _xml(element: Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>' + tostring(element, encoding="unicode")
