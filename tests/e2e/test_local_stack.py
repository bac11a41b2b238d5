"""The local stack as a user runs it: `leadline local` in its own process, driven over real
HTTP and through the `leadline` CLI from other processes."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import Http, cli

pytestmark = pytest.mark.e2e

STORE = {"name": "Harbor Kia", "timezone": "America/Chicago", "kind": "sales",
         "business_hours": {"mon": [["09:00", "18:00"]], "sat": [["22:00", "02:00"]]},
         "sms_number": "+13125550110", "holidays": ["2026-12-25"]}


def bootstrap(home: Path) -> dict[str, Any]:
    done = cli(home, "bootstrap", "--group", "Harbor Motors", "--email", "Owner@Harbor-Motors.com",
               "--name", "Hana Harbor")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"group_id", "user_id", "token"}
    return dict(data)


def test_data_survives_a_restart_and_the_cli_works_from_other_processes(stack_factory: Any) -> None:
    stack = stack_factory().start()
    assert stack.info()["api_url"] == stack.url
    secret_file = stack.home / "jwt_secret"
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert secret_file.read_text().strip() not in (stack.home / "stack.json").read_text()

    owner = bootstrap(stack.home)
    http = Http(stack.url, owner["token"])
    me = http("GET", "/me")
    assert me.status_code == 200 and me.json()["role"] == "group_admin"
    created = http("POST", "/accounts", STORE)
    assert created.status_code == 201, created.text
    account_id = created.json()["account_id"]
    agent = http("POST", "/users", {"email": "sam.agent@harbor-motors.com", "name": "Sam Agent", "role": "agent",
                                    "account_ids": [account_id]})
    assert agent.status_code == 201, agent.text
    # A bad field is named, over real HTTP too.
    bad = http("POST", "/accounts", {**STORE, "timezone": "Mars/Olympus"})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "timezone"
    # What never reaches a route is in the contract's shape too: a path no route has, a method a path does not take.
    nowhere = http("GET", "/no-such-route")
    assert nowhere.status_code == 404 and nowhere.json()["error"]["code"] == "not_found", nowhere.text
    wrong_method = http("DELETE", "/accounts")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert set(wrong_method.headers["Allow"].split(", ")) == {"GET", "POST"}

    # Stopped right after the writes: only the final snapshot can have kept them.
    assert stack.stop() == 0
    assert not (stack.home / "stack.json").exists()
    down = cli(stack.home, "token", "--email", "sam.agent@harbor-motors.com")
    assert down.returncode == 2 and "no local stack is running" in down.stderr

    stack.start()
    http = Http(stack.url, owner["token"])  # the secret is kept: the old token still works
    accounts = http("GET", "/accounts")
    assert accounts.status_code == 200, accounts.text
    assert [a["account_id"] for a in accounts.json()["items"]] == [account_id]
    assert accounts.json()["items"][0]["business_hours"]["sat"] == [["22:00", "02:00"]]
    users = {u["email"]: u for u in http("GET", "/users").json()["items"]}
    assert set(users) == {"owner@harbor-motors.com", "sam.agent@harbor-motors.com"}

    minted = cli(stack.home, "token", "--email", "SAM.AGENT@harbor-motors.com")
    assert minted.returncode == 0, minted.stderr
    as_agent = http("GET", "/me", token=minted.stdout.strip())
    assert as_agent.status_code == 200
    assert as_agent.json()["user_id"] == agent.json()["user_id"] and as_agent.json()["role"] == "agent"

    nightly = cli(stack.home, "report", "nightly", "--date", "2026-11-02")
    assert nightly.returncode == 0, nightly.stderr
    keys = nightly.stdout.split()
    assert keys and all(account_id in k and "2026/11/02" in k for k in keys)
    s3 = boto3.client("s3", endpoint_url=stack.info()["aws_endpoint"], region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    bucket = stack.info()["settings_env"].get("LEADLINE_REPORTS_BUCKET", "leadline-reports")
    assert all(s3.head_object(Bucket=bucket, Key=k)["ContentLength"] > 0 for k in keys)

    unknown = cli(stack.home, "token", "--email", "nobody@harbor-motors.com")
    assert unknown.returncode == 1 and "no active user" in unknown.stderr
    assert http("GET", "/me", token=owner["token"] + "x").status_code == 401


def test_mappings_come_from_the_app_and_the_demo_is_seeded_once(stack_factory: Any) -> None:
    from app import app

    # No history: the demo's people, stores, cadences and today's leads are what this test reads (the
    # 90 days are tests/integration/test_demo.py's; the browser tests' stack has two weeks of them).
    stack = stack_factory(demo=True, env={"LEADLINE_DEMO_DAYS": "0"}).start()
    info = stack.info()
    assert {m["name"] for m in info["mappings"]} == {s.name for s in app.event_sources}
    demo = info["demo"]
    assert len(demo["account_ids"]) == 3 and demo["manager_id"]
    # The banner is printed just after the stack starts answering: wait for it rather than race it.
    deadline = time.monotonic() + 10
    while not (token_lines := [ln for ln in stack.output().splitlines() if ln.strip().startswith("token")]):
        assert time.monotonic() < deadline, stack.output()
        time.sleep(0.1)
    token_line = token_lines[0]
    manager = Http(stack.url, token_line.split()[-1])
    me = manager("GET", "/me").json()
    assert me["role"] == "manager" and sorted(me["account_ids"]) == sorted(demo["account_ids"])
    stores = manager("GET", "/accounts").json()["items"]
    assert sorted(s["timezone"] for s in stores) == ["America/Denver", "America/New_York", "America/Phoenix"]
    assert all(s["sms_number"] for s in stores)
    assert len(manager("GET", "/users").json()["items"]) >= 6
    for store in stores:  # one new-lead cadence per store, and the store's demo leads are enrolled in it
        [cadence] = manager("GET", f"/accounts/{store['account_id']}/cadences").json()["items"]
        assert cadence["enroll"] == "new_lead" and len(cadence["steps"]) == 3
        leads = manager("GET", f"/leads?account_id={store['account_id']}").json()["items"]
        assert leads and {lead["cadence"]["cadence_id"] for lead in leads} == {cadence["cadence_id"]}

    assert stack.stop() == 0
    stack.start()  # the store is not empty now: nothing is seeded twice
    assert stack.info()["demo"]["group_id"] == demo["group_id"]
    stores_again = Http(stack.url, token_line.split()[-1])("GET", "/accounts").json()["items"]
    assert sorted(s["account_id"] for s in stores_again) == sorted(demo["account_ids"])


def test_an_external_aws_endpoint_is_provisioned_and_keeps_the_data(stack_factory: Any) -> None:
    from moto.server import ThreadedMotoServer

    from chalicelib.adapters.dynamodb.keys import user_key
    from tests.e2e.conftest import free_port

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    emulator.start()
    stack = stack_factory(aws_endpoint=endpoint)
    try:
        stack.start()
        assert stack.info()["aws_endpoint"] == endpoint
        owner = bootstrap(stack.home)
        assert stack.stop() == 0
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="local",
                           aws_secret_access_key="local")
        queues = {url.rsplit("/", 1)[-1] for url in sqs.list_queues()["QueueUrls"]}
        assert {"leadline-timers", "leadline-timers-dlq", "leadline-outbox", "leadline-outbox-dlq"} <= queues
        ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="local",
                           aws_secret_access_key="local")
        key = {name: {"S": value} for name, value in user_key(owner["user_id"]).items()}
        assert "Item" in ddb.get_item(TableName="leadline", Key=key)  # the data lives in the endpoint
    finally:
        stack.stop()  # before the emulator: the stack's final snapshot reads from it
        emulator.stop()
