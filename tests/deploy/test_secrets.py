"""A deployed stage reads the Twilio / Meta credentials from Secrets Manager, never the dev defaults."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from chalicelib.adapters.aws import client, reset_clients
from chalicelib.config import get_settings, reset_settings


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    reset_clients()
    with mock_aws():
        arn = client("secretsmanager").create_secret(Name="leadline/prod/providers", SecretString=json.dumps({
            "twilio_account_sid": "AC123", "twilio_auth_token": "tw-secret", "meta_app_secret": "",
            "meta_verify_token": "verify-xyz", "meta_page_token": "page-tok", "table_name": "evil"}))["ARN"]
        monkeypatch.setenv("LEADLINE_SECRETS_ID", arn)
        reset_settings()
        yield arn
    reset_settings()
    reset_clients()


def test_provider_keys_come_from_the_secret(secret: str) -> None:
    settings = get_settings()
    assert settings.twilio_auth_token == "tw-secret" and settings.twilio_account_sid == "AC123"
    assert settings.meta_verify_token == "verify-xyz" and settings.meta_page_token == "page-tok"
    # an empty key stays empty: a deployed stage must not fall back to "dev-meta-secret"
    assert settings.meta_app_secret == ""
    # only provider keys are taken from the secret
    assert settings.table_name != "evil"


def test_without_a_secret_the_environment_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADLINE_SECRETS_ID", raising=False)
    monkeypatch.setenv("LEADLINE_TWILIO_AUTH_TOKEN", "from-env")
    reset_settings()
    try:
        assert get_settings().twilio_auth_token == "from-env"
    finally:
        reset_settings()


def test_the_template_secret_has_exactly_the_keys_the_app_reads() -> None:
    from pathlib import Path

    from chalicelib.adapters.secrets import PROVIDER_SECRET_KEYS

    deploy = json.loads((Path(__file__).resolve().parents[2] / "infra" / "deploy.json").read_text())
    generated = deploy["Resources"]["ProviderSecret"]["Properties"]["GenerateSecretString"]
    keys = set(json.loads(generated["SecretStringTemplate"])) | {generated["GenerateStringKey"]}
    assert keys == set(PROVIDER_SECRET_KEYS)
