"""Settings.twilio_auth_tokens (subaccount SID -> auth token) from the environment: parsed at settings
load, a malformed value refused there — without printing it. (From the provider secret:
tests/integration/test_settings_twilio_secret.py.)"""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from chalicelib.config import Settings

SUB_A, SUB_B = "AC" + "a1" * 16, "AC" + "B2" * 16
ENV = "LEADLINE_TWILIO_AUTH_TOKENS"


def test_a_json_object_in_the_environment_becomes_the_map() -> None:
    settings = Settings.from_env({ENV: json.dumps({SUB_A: "token-a", SUB_B: "token-b"})})
    assert settings.twilio_auth_tokens == {SUB_A: "token-a", SUB_B: "token-b"}
    assert settings.twilio_auth_token == "dev-twilio-token"  # the default / parent token is untouched


@pytest.mark.parametrize("raw", ["", "  ", "{}"])
def test_unset_or_empty_means_no_subaccounts(raw: str) -> None:
    assert Settings.from_env({}).twilio_auth_tokens == {}
    assert Settings.from_env({ENV: raw}).twilio_auth_tokens == {}


@pytest.mark.parametrize("raw", [
    '{"' + SUB_A + '": "token-secret-1"',           # not JSON (cut short)
    '["token-secret-1"]',                            # not an object
    '"token-secret-1"',                              # a bare string
    '{"AC123": "token-secret-1"}',                   # not a Twilio account SID
    '{"SK' + "a1" * 16 + '": "token-secret-1"}',     # an API key SID, not an account
    '{"' + SUB_A + '": ""}',                         # an empty token
    '{"' + SUB_A + '": 12345}',                      # not a string
])
def test_a_malformed_value_fails_at_load_without_showing_it(raw: str) -> None:
    with pytest.raises(ValidationError) as err:
        Settings.from_env({ENV: raw})
    text = str(err.value)
    assert "twilio_auth_tokens" in text
    assert "token-secret-1" not in text and "12345" not in text
