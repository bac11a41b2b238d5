"""The inbound queue's jobs (handlers/conversations.py): what a customer's message sets off that
the webhook must not wait for — copying an MMS's pictures and a store's inbound email (an unknown
sender's lead made by services/new_contact.py). The webhook's part is services/inbound.py; the lead's
language is set on the table's stream (services/language.py)."""

from __future__ import annotations

from chalicelib.deps import Deps
from chalicelib.schemas.queues import CopyMedia, InboundBody, SesMailReceived


def process_job(deps: Deps, job: InboundBody) -> None:
    if isinstance(job, CopyMedia):
        from chalicelib.services.attachments import copy_inbound

        copy_inbound(deps, job)
    elif isinstance(job, SesMailReceived):
        from chalicelib.services.email_in import ses_mail_arrived

        ses_mail_arrived(deps, job)
    else:
        # A new contact's message queued by a release before its lead was made in the webhook.
        from chalicelib.services.new_contact import make_lead

        make_lead(deps, job.account_id, job.message)


