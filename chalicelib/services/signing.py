"""Who must have signed a provider's webhook, checked before anything is read on its behalf or
written: the policy, the check and the log line of a refusal. Pure signature maths is
domain/signatures.py; the handlers only hand over what arrived."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.deps import Deps
from chalicelib.domain.errors import Forbidden, ValidationFailed
from chalicelib.domain.provider_limits import check_twilio_form
from chalicelib.domain.signatures import valid_meta_signature, valid_twilio_signature
from chalicelib.observability import logger

# Looked up before the signature is checked: Twilio's numbers, channel addresses and SIDs (34 chars)
# fit; anything longer names no store or message, and must not reach a key (DynamoDB caps key size).
MAX_LOOKUP_CHARS = 64


@dataclass(frozen=True)
class TwilioPost:
    """A Twilio webhook as it arrived, not yet trusted: every posted field (all values), the
    X-Twilio-Signature header, and the URL Twilio signed (handlers/webhooks.signed_urls: one, or the
    encodings a query rebuilt from API Gateway's decoded parameters may have had)."""

    form: dict[str, list[str]]
    signature: str | None
    urls: list[str]

    def last(self, name: str) -> str:
        return (self.form.get(name) or [""])[-1].strip()

    def lookup_value(self, name: str) -> str | None:
        """A field fit to look up (a number, a SID) before the signature is checked; None otherwise."""
        value = self.last(name)
        return value if 0 < len(value) <= MAX_LOOKUP_CHARS else None

    def required(self, *names: str) -> list[str]:
        missing = [n for n in names if not self.last(n)]
        if missing:
            raise ValidationFailed("missing fields: " + ", ".join(missing),
                                   details=[{"field": n, "message": "is required"} for n in missing])
        return [self.last(n) for n in names]


def check_twilio(deps: Deps, post: TwilioPost, account_id: str | None, twilio_account: str | None) -> None:
    """403 unless X-Twilio-Signature matches, made with the auth token of the Twilio account that owns
    what the request is about: a store on its own subaccount (`twilio_account`) with that subaccount's
    token, and only when the request says it comes from that subaccount (AccountSid) — so one store's
    subaccount token can never sign a request for another store's number or message. Everything else
    (stores on the stage's account, numbers or messages no store owns) with the stage's token."""
    settings = deps.settings
    token = settings.twilio_auth_token
    if twilio_account:
        if post.last("AccountSid") != twilio_account:
            logger.warning("twilio webhook from another Twilio account than the store's",
                           extra={"account_id": account_id})
            raise Forbidden("the request is not from this store's Twilio account", code="bad_signature")
        token = settings.twilio_auth_tokens.get(twilio_account, "")
        if not token:
            logger.error("no auth token configured for the store's Twilio subaccount (twilio_auth_tokens)",
                         extra={"account_id": account_id, "twilio_account_sid": twilio_account})
            raise Forbidden("no auth token is configured for this store's Twilio account", code="bad_signature")
    if not post.urls:
        logger.error("LEADLINE_PUBLIC_BASE_URL is not set: no Twilio webhook can be checked")
        raise Forbidden("the X-Twilio-Signature cannot be checked here", code="bad_signature")
    if not any(valid_twilio_signature(token, url, post.form, post.signature) for url in post.urls):
        logger.warning("twilio webhook with a bad or missing signature", extra={"account_id": account_id})
        raise Forbidden("the X-Twilio-Signature does not match this request", code="bad_signature")
    # Signed, so from Twilio (or its token's holder): now its fields must fit a key and an item.
    check_twilio_form(post.form)


def status_signer(deps: Deps, post: TwilioPost, sent_through: str | None, known: bool) -> str | None:
    """The Twilio account whose token signs a status callback: the one the message was sent through.
    A callback can beat the outbox's saving of the send result (`known` False): nothing names the
    sender yet, so a configured subaccount the request claims signs it (its token must match), else
    the stage's account."""
    if known:
        return sent_through
    claimed = post.last("AccountSid")
    return claimed if claimed in deps.settings.twilio_auth_tokens else None


def check_meta(deps: Deps, raw_body: bytes, signature: str | None) -> None:
    """403 unless X-Hub-Signature-256 is the app secret's HMAC of exactly these bytes."""
    if not valid_meta_signature(deps.settings.meta_app_secret, raw_body, signature):
        logger.warning("meta webhook with a bad or missing signature")
        raise Forbidden("the X-Hub-Signature-256 does not match this body", code="bad_signature")
