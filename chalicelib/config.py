"""One settings model, read from the environment once and cached.

Every name the deployed stage and the local stack set lives here, so a reader can
see the whole configuration surface in one place.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from chalicelib.model import BaseModel

QUEUE_NAMES = ("timers", "outbox", "inbound", "reports", "events")


class Settings(BaseModel):
    stage: str = "local"
    table_name: str = "leadline"
    reports_bucket: str = "leadline-reports"
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
    log_level: str = "INFO"
    # Deployed stages: the Secrets Manager secret holding the Twilio / Meta credentials.
    secrets_id: str = ""
    max_body_bytes: int = 1024 * 1024

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

        settings = settings.model_copy(update=provider_secrets(settings.secrets_id))
    return settings


def reset_settings() -> None:
    get_settings.cache_clear()
