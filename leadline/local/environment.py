"""Point this process's boto3 and Settings at a local AWS endpoint.

boto3 honours AWS_ENDPOINT_URL for every service, so the app code runs unchanged; the
credentials are fake on purpose, so a local command can never reach a real account."""

from __future__ import annotations

import os

LOCAL_REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
# Variables that could route a local command to a real account or another endpoint.
_DROPPED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE")


def point_boto3_at(endpoint: str, region: str = LOCAL_REGION) -> None:
    for name in list(os.environ):
        if name in _DROPPED or (name.startswith("AWS_ENDPOINT_URL_")):
            os.environ.pop(name)
    os.environ.update(FAKE_CREDENTIALS)
    os.environ.update({
        "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": region, "AWS_REGION": region,
        # botocore would otherwise build account-id endpoints that an emulator does not route.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    })
    refresh_app_caches()


def apply_settings_env(settings_env: dict[str, str], jwt_secret: str) -> None:
    os.environ.update(settings_env)
    os.environ["LEADLINE_JWT_SECRET"] = jwt_secret
    refresh_app_caches()


def refresh_app_caches() -> None:
    """Clients and settings are cached; drop them so the next use sees the new environment."""
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.config import reset_settings

    reset_clients()
    reset_settings()


def local_settings_env(api_url: str) -> dict[str, str]:
    """LEADLINE_* for the local stage. Names (table, queues, bucket) keep any value already
    exported, so two checkouts can share one endpoint; auth and sending are always local."""
    env = {
        "LEADLINE_STAGE": os.environ.get("LEADLINE_STAGE", "local"),
        "LEADLINE_AUTH_MODE": "hs256",
        "LEADLINE_SENDER_MODE": "sandbox",
        "LEADLINE_PUBLIC_BASE_URL": api_url,
        # The local stack fetches a customer's picture from whatever URL a test or a person gives.
        "LEADLINE_MEDIA_FETCH_HOSTS": "*",
        # The console is served at / of the API: alerts link to {api_url}/#/leads/{lead_id}.
        "LEADLINE_CONSOLE_URL": api_url,
    }
    # Only names go into stack.json (which the CLI reads); secrets stay in this process's env.
    for name in ("TABLE_NAME", "REPORTS_BUCKET", "MEDIA_BUCKET", "QUEUE_PREFIX", "MAIL_FROM", "LOG_LEVEL"):
        value = os.environ.get(f"LEADLINE_{name}")
        if value:
            env[f"LEADLINE_{name}"] = value
    return env


def lambda_like_env() -> dict[str, str]:
    """What Powertools reads on Lambda; tracing is off locally (there is no X-Ray daemon)."""
    return {
        "POWERTOOLS_SERVICE_NAME": "leadline",
        "POWERTOOLS_TRACE_DISABLED": "1",
        # EMF metric lines on stdout would drown the request log; export 0 to see them.
        "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "1"),
        "POWERTOOLS_METRICS_NAMESPACE": os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "LeadlineLocal"),
    }
