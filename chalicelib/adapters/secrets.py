"""Provider credentials from AWS Secrets Manager, read once per cold start.

A deployed stage keeps the Twilio and Meta credentials in one JSON secret (the template's
ProviderSecret) instead of in the functions' environment, where anyone allowed to read a
function's configuration would see them. `Settings` overlays these keys on itself when
`LEADLINE_SECRETS_ID` names the secret (chalicelib/config.py)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.aws import client

# Only these keys are taken from the secret: a secret cannot repoint the table or switch auth off.
PROVIDER_SECRET_KEYS = ("twilio_account_sid", "twilio_auth_token", "twilio_auth_tokens", "twilio_from_number",
                        "meta_app_secret", "meta_verify_token", "meta_page_token")


def provider_secrets(secret_id: str) -> dict[str, str]:
    """The provider keys of the secret. A key present with an empty value is kept empty, so a
    deployed stage never falls back to the local development defaults."""
    raw = client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    data: Any = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("the provider secret must be a JSON object")
    return {key: _text(data[key]) for key in PROVIDER_SECRET_KEYS if key in data and data[key] is not None}


def _text(value: Any) -> str:
    """Settings read strings: a nested object (twilio_auth_tokens) stays JSON, which Settings parses."""
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
