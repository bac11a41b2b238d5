"""Hand-built report-event histories for the reports' golden tests."""

from __future__ import annotations

from typing import Any

from chalicelib.clock import iso, parse_time


class History:
    """Report events as the repository returns them (plain dicts), built by hand."""

    def __init__(self, account_id: str = "acc_main", group_id: str = "grp_1") -> None:
        self.account_id = account_id
        self.group_id = group_id
        self.events: list[dict[str, Any]] = []
        self._n = 0

    def add(self, kind: str, at: str, lead_id: str, user_id: str | None = None, account_id: str | None = None,
            **data: Any) -> dict[str, Any]:
        self._n += 1
        event = {"event_id": f"rev_{self._n:05d}", "account_id": account_id or self.account_id,
                 "group_id": self.group_id, "kind": kind, "at": iso(parse_time(at)), "lead_id": lead_id,
                 "data": data}
        if user_id:
            event["user_id"] = user_id
        self.events.append(event)
        return event

    def lead(self, lead_id: str, at: str, source: str = "Website", email: bool = True, phone: bool = True,
             source_group: str | None = None, account_id: str | None = None, received_at: str | None = None) -> None:
        self.add("lead_received", at, lead_id, account_id=account_id, source=source, source_group=source_group,
                 campaign=None, channel="web", has_email=email, has_phone=phone, received_at=received_at or at)

    def offer(self, lead_id: str, at: str, user_id: str, outcome: str | None, outcome_at: str | None = None,
              catchall: bool = False) -> None:
        offer_id = f"ofr_{lead_id}_{user_id}"
        self.add("offer_made", at, lead_id, user_id, offer_id=offer_id, catchall=catchall)
        if outcome:
            self.add(f"offer_{outcome}", outcome_at or at, lead_id, user_id, offer_id=offer_id, catchall=catchall)

    def respond(self, lead_id: str, at: str, user_id: str | None, activity: str = "message",
                automated: bool = False) -> None:
        self.add("human_response", at, lead_id, user_id, activity=activity, automated=automated)

    def target(self, lead_id: str, at: str, owner: str, met: bool, deadline_kind: str = "first_response") -> None:
        """A response deadline decided for `owner` (domain/targets.py), as follow-through records it."""
        self.add("target_met" if met else "target_missed", at, lead_id, owner, deadline_kind=deadline_kind,
                 due_at=at, started_at=at, version=1)
