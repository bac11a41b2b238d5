"""The unit of work on fakes: a decision sees the lead as it is now, is taken again after a lost race
(with fresh reads), hands its result back, and a lead that keeps moving ends in a 409 busy."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from chalicelib.domain import changes
from chalicelib.domain.changes import Change
from chalicelib.domain.errors import Conflict
from chalicelib.domain.leads import Lead, next_version
from chalicelib.services.lead_changes import change_lead, decide_and_save
from tests.fakes import FakeDeps, FakeTransactions, fake_deps


class MovesTheLeadFirst(FakeTransactions):
    """Another writer changes the lead just before each of the first `times` commits."""

    def __init__(self, deps: FakeDeps, lead_id: str, times: int) -> None:
        super().__init__()
        self.deps, self.lead_id, self.times = deps, lead_id, times

    def commit(self, writes: Sequence[changes.Write]) -> None:
        if self.times > 0:
            self.times -= 1
            current = self.deps.state.leads[self.lead_id]
            self.deps.state.leads[self.lead_id] = next_version(current, labels=[*current.labels, "elsewhere"])
        super().commit(writes)


def _deps_with_lead() -> tuple[FakeDeps, Lead]:
    deps = fake_deps()
    lead = Lead(lead_id="lead_1", account_id="acc_1", group_id="grp_1", created_at="2026-11-02T15:00:00.000Z",
                received_at="2026-11-02T15:00:00.000Z", last_activity_at="2026-11-02T15:00:00.000Z")
    deps.state.leads[lead.lead_id] = lead
    return deps, lead


def test_a_lost_race_is_decided_again_on_the_lead_as_it_is_now() -> None:
    deps, lead = _deps_with_lead()
    deps.transactions = MovesTheLeadFirst(deps, lead.lead_id, times=2)
    seen: list[tuple[int, list[str]]] = []

    def decide(current: Lead, attempt: int) -> Change[str]:
        seen.append((attempt, list(current.labels)))
        return Change(updates={"status": "hot"}, result=f"decided on attempt {attempt}")

    saved = decide_and_save(deps, lead.lead_id, decide)
    assert seen == [(0, []), (1, ["elsewhere"]), (2, ["elsewhere", "elsewhere"])]
    assert saved.result == "decided on attempt 2"
    assert saved.lead == deps.state.leads[lead.lead_id]
    assert (saved.lead.status, saved.lead.labels) == ("hot", ["elsewhere", "elsewhere"])


def test_nothing_to_do_writes_nothing() -> None:
    deps, lead = _deps_with_lead()
    saved = change_lead(deps, lead.lead_id, lambda current: None)
    assert saved.change is None and saved.result is None and saved.lead == lead
    assert deps.transactions.commits == 0  # type: ignore[attr-defined]


def test_a_lead_that_keeps_moving_is_a_409_busy() -> None:
    deps, lead = _deps_with_lead()
    deps.transactions = MovesTheLeadFirst(deps, lead.lead_id, times=10)
    with pytest.raises(Conflict) as busy:
        change_lead(deps, lead.lead_id, lambda current: Change(updates={"status": "hot"}), attempts=3)
    assert busy.value.code == "busy"
    assert deps.state.leads[lead.lead_id].status == "new"


def test_touch_moves_last_activity_to_now_and_never_back() -> None:
    deps, lead = _deps_with_lead()
    deps.fixed_clock.set("2026-11-02T16:00:00Z")
    saved = change_lead(deps, lead.lead_id, lambda current: Change(), touch=True)
    assert saved.lead.last_activity_at == "2026-11-02T16:00:00.000Z"
    deps.fixed_clock.set("2026-11-02T15:30:00Z")  # a clock behind
    assert change_lead(deps, lead.lead_id, lambda current: Change(), touch=True).lead.last_activity_at == \
        "2026-11-02T16:00:00.000Z"
