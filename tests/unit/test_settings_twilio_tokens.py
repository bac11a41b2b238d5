"""Settings.twilio_auth_tokens (subaccount SID -> auth token) from the environment and from the
provider secret: parsed at settings load, a malformed value refused there — without printing it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws
from pydantic import ValidationError

from chalicelib.config import Settings, get_settings, reset_settings

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


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, object]]:
    from chalicelib.adapters.aws import client, reset_clients

    reset_clients()
    with mock_aws():
        data: dict[str, object] = {"twilio_account_sid": "AC" + "0f" * 16, "twilio_auth_token": "parent-token",
                                   "twilio_auth_tokens": {SUB_A: "token-a"}}
        arn = client("secretsmanager").create_secret(Name="leadline/prod/providers",
                                                     SecretString=json.dumps(data))["ARN"]
        monkeypatch.setenv("LEADLINE_SECRETS_ID", arn)
        monkeypatch.delenv(ENV, raising=False)
        reset_settings()
        yield data
        reset_settings()
    reset_clients()


def test_the_provider_secret_holds_the_map_as_a_json_object(secret: dict[str, object]) -> None:
    settings = get_settings()
    assert settings.twilio_auth_tokens == {SUB_A: "token-a"}
    assert settings.twilio_auth_token == "parent-token"


def test_a_malformed_map_in_the_secret_fails_at_load(secret: dict[str, object]) -> None:
    from chalicelib.adapters.aws import client

    secret_id = get_settings().secrets_id
    client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=json.dumps(
        {**secret, "twilio_auth_tokens": {"not-a-sid": "token-secret-1"}}))
    reset_settings()
    with pytest.raises(ValidationError) as err:
        get_settings()
    assert "token-secret-1" not in str(err.value)
