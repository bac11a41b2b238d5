"""Settings.twilio_auth_tokens from the provider secret (Secrets Manager under moto): the map is a
JSON object in the secret, a malformed one fails at settings load without printing it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws
from pydantic import ValidationError

from chalicelib.config import get_settings, reset_settings

SUB_A = "AC" + "a1" * 16
ENV = "LEADLINE_TWILIO_AUTH_TOKENS"


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
