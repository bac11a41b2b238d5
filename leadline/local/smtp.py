"""The local stack's inbound mail: an SMTP server (aiosmtpd) on 127.0.0.1:${SMTP_PORT:-2525} that
hands each mail to the same code path SES's receipt rule reaches when deployed
(chalicelib/services/email_in.py).

- RCPT TO a lead's reply address or a store's `email_from` is accepted; anything else is 550.
- DATA: the mail is parsed and stored before the server answers, so the client learns the
  outcome: 250 when stored (or a repeat of a stored Message-ID, or an ignored auto-reply), the
  parser's 5xx for broken or huge MIME (nothing stored), 451 when something failed that a retry
  may fix. Mail over the size limit is refused while it is still arriving (552).
The handler runs the product's code on a worker thread, never on the server's event loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

# Not "leadline...": Powertools' root-handler filter drops every logger whose name contains its service name.
log = logging.getLogger("local_smtp")

HOST = "127.0.0.1"
DEFAULT_PORT = 2525


class MailHandler:
    """aiosmtpd's handler: RCPT and DATA through services/email_in."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        from chalicelib.deps import get_deps
        from chalicelib.services.email_in import accepts

        try:
            known = await asyncio.get_running_loop().run_in_executor(None, accepts, get_deps(), address)
        except Exception:
            log.exception("checking a recipient failed")
            return "451 4.3.0 temporary failure, try again"
        if not known:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from chalicelib.deps import get_deps
        from chalicelib.domain.email_in import MailRefused
        from chalicelib.services.email_in import mail_arrived

        raw = envelope.original_content or envelope.content or b""
        raw = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", errors="replace")
        try:
            outcome = await asyncio.get_running_loop().run_in_executor(
                None, mail_arrived, get_deps(), raw, list(envelope.rcpt_tos))
        except MailRefused as exc:
            log.warning("mail refused: %s", exc.smtp_reply)
            return exc.smtp_reply
        except Exception:
            log.exception("storing a mail failed")
            return "451 4.3.0 temporary failure, try again"
        log.info("mail %s (lead %s)", outcome.status, outcome.lead_id or "-")
        return f"250 2.0.0 {outcome.status}"


class LocalSmtp:
    """The SMTP listener of `leadline local`: start() once the app can take mail, stop() at exit."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        from chalicelib.domain.email_in import MAX_MAIL_BYTES

        # aiosmtpd reports every connection at INFO ("mail.log"), its own start-up probe included.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller = Controller(MailHandler(), hostname=HOST, port=self.port, data_size_limit=MAX_MAIL_BYTES,
                                      decode_data=False, enable_SMTPUTF8=True, ready_timeout=10)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
