"""The two things `tests/fuzz` can drive: the app in-process (chalice's gateway over in-process
moto, fast enough for `make test`) and a real local stack over HTTP (`make fuzz`).

Each target holds the schema schemathesis reads from the target's own `/openapi.json`, a
group_admin token and real ids of that group's store, agent and lead (so generated requests get
past the 404s), and how to send a case."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import World

LEAD = {"first_name": "Fay", "phone": "+13125550123", "source": "Web", "channel": "web"}


@dataclass
class FuzzTarget:
    name: str
    schema: Any
    token: str
    ids: dict[str, str]
    send: Callable[[Any], Any]
    # API Gateway's own answer to a path no route has, where the target still gives it (chalice's
    # in-process gateway: 403 with x-amzn-ErrorType); the local stack and a deployed stage answer
    # in the contract's shape.
    gateway_answers_unshaped: bool


@contextmanager
def in_process_target(world: World) -> Iterator[FuzzTarget]:
    import schemathesis

    from tests.fuzz.wsgi import ChaliceWsgi

    tenant = world.tenant("Fuzz Auto", "owner@fuzz.com")
    account_id = tenant.accounts[0]["account_id"]
    agent, _ = world.user(tenant, "agent@fuzz.com", account_ids=[account_id])
    ids = {"account_id": account_id, "user_id": agent["user_id"]}
    reply = world.post(f"/accounts/{account_id}/leads", tenant.token, LEAD)
    if reply.status == 201:
        ids["lead_id"] = reply.json["lead_id"]
    schema = schemathesis.openapi.from_wsgi("/openapi.json", ChaliceWsgi(world.client.http))
    yield FuzzTarget("in-process", schema, tenant.token, ids, lambda case: case.call(),
                     gateway_answers_unshaped=True)


@contextmanager
def local_stack_target(home: Path) -> Iterator[FuzzTarget]:
    import schemathesis

    from tests.e2e.conftest import Http, StackProcess, cli, free_port

    stack = StackProcess(home=home, port=free_port(), aws_port=free_port(), smtp_port=free_port())
    stack.start()
    try:
        made = cli(home, "bootstrap", "--group", "Fuzz Auto", "--email", "owner@fuzz.com", "--name", "Fuzz Owner")
        assert made.returncode == 0, made.stderr
        token = json.loads(made.stdout)["token"]
        http = Http(stack.url, token)
        account = http("POST", "/accounts", {"name": "Fuzz Auto Store", "timezone": "America/Chicago"})
        assert account.status_code == 201, account.text
        account_id = account.json()["account_id"]
        agent = http("POST", "/users", {"email": "agent@fuzz.com", "name": "Agent", "role": "agent",
                                        "account_ids": [account_id]})
        assert agent.status_code == 201, agent.text
        ids = {"account_id": account_id, "user_id": agent.json()["user_id"]}
        lead = http("POST", f"/accounts/{account_id}/leads", LEAD)
        if lead.status_code == 201:
            ids["lead_id"] = lead.json()["lead_id"]
        schema = schemathesis.openapi.from_url(stack.url + "/openapi.json")
        yield FuzzTarget("local stack", schema, token, ids, lambda case: case.call(base_url=stack.url, timeout=30),
                         gateway_answers_unshaped=False)
    finally:
        stack.stop()
    # What the fuzzed requests set off behind the API (queue consumers, schedules) failed nowhere either.
    logged = stack.output() + stack.logs()
    failures = [line for line in logged.splitlines() if "Traceback" in line or '"level":"ERROR"' in line]
    assert not failures, "the local stack logged failures while fuzzed:\n" + "\n".join(failures[:20])
