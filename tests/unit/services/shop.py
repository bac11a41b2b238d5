"""A store on fakes for the use-case unit tests: a group, one store with an SMS number, agents and
a manager, all written straight into the fake repositories (no HTTP, no moto)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.clock import iso
from chalicelib.domain.accounts import Account, Group
from chalicelib.domain.leads import Lead, NewLead
from chalicelib.domain.routing import RoutingConfig
from chalicelib.domain.tenancy import Principal, Role
from chalicelib.domain.users import User
from tests.fakes import FakeDeps, fake_deps

STORE_NUMBER = "+13125550100"


@dataclass
class Shop:
    deps: FakeDeps
    account: Account
    agents: list[User] = field(default_factory=list)
    manager: User | None = None

    @property
    def clock(self) -> Any:
        return self.deps.fixed_clock

    def principal(self, user: User) -> Principal:
        return user.principal()

    def lead(self, **fields: Any) -> Lead:
        """A new lead through intake (which routes it), from a web form by default."""
        from chalicelib.services.intake import receive_lead

        request = {"first_name": "Maria", "phone": "+13125550177", "source": "Web", "channel": "web",
                   "message": "Is the red one still there?", **fields}
        return receive_lead(self.deps, self.account, NewLead.model_validate(request)).lead

    def current(self, lead_id: str) -> Lead:
        return self.deps.leads.require(lead_id)

    def queued(self, queue: str) -> list[dict[str, Any]]:
        return self.deps.queues.take(queue)  # type: ignore[attr-defined, no-any-return]


def shop(agents: int = 2, timeout_seconds: int = 60, **account_fields: Any) -> Shop:
    deps = fake_deps()
    now = iso(deps.clock.now())
    group = Group(group_id="grp_1", name="Acme Group", created_at=now)
    account = Account(account_id="acc_1", group_id=group.group_id, name="Acme Honda", timezone="America/Chicago",
                      sms_number=STORE_NUMBER, api_key="key-1", created_at=now, updated_at=now, **account_fields)
    deps.accounts.create(account, group)
    made = Shop(deps, account)
    for i in range(agents):
        user = User(user_id=f"usr_agent{i + 1}", group_id=group.group_id, email=f"agent{i + 1}@acme.com",
                    name=f"Agent {i + 1}", role=Role.AGENT, account_ids=[account.account_id], created_at=now,
                    updated_at=now)
        deps.users.create(user)
        made.agents.append(user)
    made.manager = User(user_id="usr_manager", group_id=group.group_id, email="manager@acme.com", name="Manager",
                        role=Role.MANAGER, account_ids=[account.account_id], created_at=now, updated_at=now)
    deps.users.create(made.manager)
    deps.routing.put_config(RoutingConfig(account_id=account.account_id, offer_timeout_seconds=timeout_seconds))
    return made
