"""Adapters of the Dialer port (chalicelib/domain/calls.py): click-to-call.

- TwilioDialer: Twilio Programmable Voice, POST /2010-04-01/Accounts/{sid}/Calls.json (plain
  HTTPS, like the SMS sender): ring the agent from the store's number, fetch the bridge TwiML
  when they answer, report the agent's leg to the status URL.
- SandboxDialer: the local stack and the tests; records the call as a sandbox item (what the
  SMS sandbox does) and answers a made-up call SID. Tests drive the webhooks themselves.
`build_dialer(settings)` picks one by `Settings.sender_mode`."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.senders import SANDBOX_DAYS, post_twilio
from chalicelib.clock import iso
from chalicelib.config import Settings
from chalicelib.domain.calls import CallRequest, Dialer
from chalicelib.domain.messaging import SendFailed
from chalicelib.ids import new_id

# Twilio voice errors a retry will not change: a bad number, an unverified caller id, a bad URL.
TWILIO_VOICE_PERMANENT = {13214, 13223, 13224, 13225, 13226, 21201, 21205, 21210, 21211, 21212, 21214, 21215,
                          21216, 21217}
# How long Twilio rings the agent before giving up.
RING_SECONDS = 25


class TwilioDialer:
    """Always authenticated as the stage's (parent) account; a store on a subaccount places its
    calls on that subaccount's Calls resource, as its SMS are."""

    def __init__(self, account_sid: str, auth_token: str, api_url: str = "https://api.twilio.com") -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.api_url = api_url.rstrip("/")

    def place(self, request: CallRequest) -> str:
        fields = [("To", request.to), ("From", request.caller_id), ("Url", request.answer_url), ("Method", "POST"),
                  ("StatusCallback", request.status_url), ("StatusCallbackMethod", "POST"),
                  ("Timeout", str(RING_SECONDS))]
        fields += [("StatusCallbackEvent", e) for e in ("initiated", "ringing", "answered", "completed")]
        data = post_twilio(self.api_url, (self.account_sid, self.auth_token),
                           f"{request.twilio_account_sid or self.account_sid}/Calls", fields, TWILIO_VOICE_PERMANENT)
        sid = str(data.get("sid", ""))
        if not sid:
            raise SendFailed("Twilio answered without a call SID")
        return sid


class SandboxDialer:
    """Records every call in the table (channel `voice`, under the store's sandbox partition)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def place(self, request: CallRequest) -> str:
        now = datetime.now(UTC)
        sid = "CA" + secrets.token_hex(16)
        send_id = new_id("sbx", now)
        self.table.put({
            **keys.sandbox_send_key(request.account_id, iso(now), send_id), "type": "sandbox_send",
            "send_id": send_id, "channel": "voice", "to": request.to, "sender": request.caller_id,
            "customer": request.customer, "call_id": request.call_id, "provider_id": sid,
            "answer_url": request.answer_url, "status_url": request.status_url, "account_id": request.account_id,
            "at": iso(now), "ttl": int((now + timedelta(days=SANDBOX_DAYS)).timestamp()),
        })
        return sid


def build_dialer(settings: Settings) -> Dialer:
    if settings.sender_mode == "sandbox":
        from chalicelib.adapters.dynamodb.table import Table

        return SandboxDialer(Table(settings.table_name))
    return TwilioDialer(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_url)
