"""One settings model, read from the environment once and cached.

Every name the deployed stage and the local stack set lives here, so a reader can
see the whole configuration surface in one place.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from chalicelib.model import BaseModel

# "rollups" is a failure queue only: the table stream's consumer sends what it could not apply there.
QUEUE_NAMES = ("timers", "outbox", "inbound", "reports", "events", "rollups")
TWILIO_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


class Settings(BaseModel):
    # A settings error must never print the values: they hold tokens and secrets.
    model_config = ConfigDict(hide_input_in_errors=True)

    stage: str = "local"
    table_name: str = "leadline"
    reports_bucket: str = "leadline-reports"
    # Pictures and files of conversations, and (deployed) the raw mail SES receives.
    media_bucket: str = "leadline-media"
    # Where customers' MMS / Messenger files may be fetched from ("*": anywhere; the local stack).
    media_fetch_hosts: tuple[str, ...] = ("api.twilio.com", "fbcdn.net", "fbsbx.com", "facebook.com")
    queue_prefix: str = "leadline-"
    # "hs256": tokens signed with jwt_secret (local stack, tests).
    # "cognito": RS256 tokens checked against the user pool's JWKS.
    auth_mode: Literal["hs256", "cognito"] = "hs256"
    jwt_secret: str = ""
    cognito_region: str = ""
    cognito_user_pool_id: str = ""
    cognito_app_client_id: str = ""
    # "sandbox" records outbound messages (local stack); "live" calls Twilio / Meta.
    sender_mode: Literal["sandbox", "live"] = "sandbox"
    twilio_auth_token: str = "dev-twilio-token"
    twilio_account_sid: str = ""
    # Stores on their own Twilio subaccount (Account.twilio_account_sid): subaccount SID -> its auth
    # token, which signs that subaccount's webhooks. A JSON object in LEADLINE_TWILIO_AUTH_TOKENS or in
    # the provider secret's `twilio_auth_tokens`. Sending uses the parent's SID and token above.
    twilio_auth_tokens: dict[str, str] = Field(default_factory=dict)
    meta_app_secret: str = "dev-meta-secret"
    meta_verify_token: str = "dev-meta-verify"
    meta_page_token: str = ""
    # The number staff SMS notifications come from when they belong to no store with an SMS number.
    twilio_from_number: str = ""
    # Provider endpoints (overridable so a test or a staging stack can point them at a fake).
    twilio_api_url: str = "https://api.twilio.com"
    meta_graph_url: str = "https://graph.facebook.com/v21.0"
    mail_from: str = "leadline@example.com"
    public_base_url: str = ""
    # The local stack's demo password (LEADLINE_LOCAL_PASSWORD): with it, and only on the local stage,
    # POST /auth/local/sign-in exchanges an email and this password for a local token (the console's sign-in).
    local_password: str = ""
    # The deployed console's origin (https://<distribution>.cloudfront.net): the one origin whose
    # browser calls get CORS headers. Empty (the local stack: the console is served beside the API): none.
    console_origin: str = ""
    # Where people open a lead from an alert: `{console_url}/#/leads/{lead_id}` (domain/alerts.lead_link;
    # the local stack serves the console at / of the API). Empty: the console's origin (deployed, the stack
    # output ConsoleUrl); both empty: alerts carry no link.
    console_url: str = ""
    log_level: str = "INFO"
    # Deployed stages: the Secrets Manager secret holding the Twilio / Meta credentials.
    secrets_id: str = ""
    max_body_bytes: int = 1024 * 1024
    # Reports read the rollups (docs/reports.md); "events" recomputes them from the report events
    # (slower: one Query per store and day), e.g. until `leadline report rebuild` has filled them.
    report_source: Literal["rollups", "events"] = "rollups"
    # Reports also read the report events of this many last seconds that the stream has not rolled
    # up yet; the stream consumer's iterator-age alarm fires well before it falls this far behind.
    report_tail_seconds: int = Field(default=120, ge=0, le=3600)

    @field_validator("media_fetch_hosts", mode="before")
    @classmethod
    def _parse_hosts(cls, value: Any) -> Any:
        """A comma-separated list in the environment (`*` for any host)."""
        if isinstance(value, str):
            return tuple(h.strip().lower() for h in value.split(",") if h.strip())
        return value

    @field_validator("twilio_auth_tokens", mode="before")
    @classmethod
    def _parse_auth_tokens(cls, value: Any) -> Any:
        """Environment variables and secret keys are strings: parse the JSON here, so a malformed value
        stops the function at settings load rather than turning every webhook into a 500."""
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError as exc:
                raise ValueError("twilio_auth_tokens is not valid JSON (expected {\"AC...\": \"token\"})") from exc
        if not isinstance(value, dict):
            raise ValueError("twilio_auth_tokens must be a JSON object of subaccount SID -> auth token")
        for sid, token in value.items():
            if not isinstance(sid, str) or not TWILIO_ACCOUNT_SID.match(sid):
                raise ValueError("twilio_auth_tokens keys must be Twilio account SIDs (AC + 32 hex digits)")
            if not isinstance(token, str) or not token.strip():
                raise ValueError(f"twilio_auth_tokens[{sid}] must be a non-empty string")
        return value

    def queue_name(self, queue: str) -> str:
        if queue not in QUEUE_NAMES:
            raise KeyError(queue)
        return f"{self.queue_prefix}{queue}"

    @property
    def cognito_issuer(self) -> str:
        return f"https://cognito-idp.{self.cognito_region}.amazonaws.com/{self.cognito_user_pool_id}"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, str] = {}
        for name in cls.model_fields:
            key = f"LEADLINE_{name.upper()}"
            if key in env:
                values[name] = env[key]
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    settings = Settings.from_env()
    if settings.secrets_id:
        from chalicelib.adapters.secrets import provider_secrets

        # Validated again (not model_copy): secret values are parsed and checked like environment ones.
        settings = Settings.model_validate({**settings.model_dump(), **provider_secrets(settings.secrets_id)})
    return settings


def reset_settings() -> None:
    get_settings.cache_clear()
