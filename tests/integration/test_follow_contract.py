"""The follow-through's repository contract, on the fakes and on DynamoDB (moto) alike: leads in the
due index at their deadline's warning, then at the deadline, out of it once decided; the `due`
folder soonest deadline first and the `delinquent` folder oldest first, each one Query per store;
a store's opening markers (delinquent leads offered again) due at the opening, one per opening."""

from __future__ import annotations

from typing import Any

from chalicelib.deps import Deps
from chalicelib.domain.lead_query import LeadFilters, Position, plan_list
from chalicelib.domain.leads import Lead, next_version
from chalicelib.domain.rerouting import Revival
from chalicelib.domain.targets import Deadline
from tests.integration.test_repository_contract import every_due

NOW = "2026-11-02T15:00:00.000Z"


def _deadline(due_at: str, warn_at: str | None = None, **fields: Any) -> Deadline:
    return Deadline(version=1, kind="first_response", owner="usr_1", set_at=NOW, started_at=NOW, due_at=due_at,
                    warn_at=warn_at, **fields)


def _stored(deps: Deps, n: int, **fields: Any) -> Lead:
    at = fields.pop("at", NOW)
    lead = Lead(lead_id=f"lead_{n:04d}", account_id="acc_1", group_id="grp_1", created_at=at, received_at=at,
                last_activity_at=at, **fields)
    deps.transactions.commit(deps.leads.create(lead))
    return lead


def _every_due(deps: Deps, now: str, page_size: int) -> list[str]:
    return every_due(deps.leads.due_deadlines, now, page_size, lambda lead: lead.lead_id)


def test_a_deadline_is_due_at_its_warning_then_at_itself_then_never(deps: Deps) -> None:
    deadline = _deadline("2026-11-02T15:10:00.000Z", warn_at="2026-11-02T15:08:00.000Z")
    lead = _stored(deps, 1, assigned_to="usr_1", deadline=deadline)
    _stored(deps, 2, assigned_to="usr_1")  # no deadline: never due
    assert _every_due(deps, "2026-11-02T15:07:59.999Z", 10) == []
    assert _every_due(deps, "2026-11-02T15:08:00.000Z", 10) == [lead.lead_id]
    warned = next_version(lead, deadline=deadline.model_copy(update={"warned": True}))
    deps.transactions.commit(deps.leads.save(lead, warned))
    assert _every_due(deps, "2026-11-02T15:09:00.000Z", 10) == []
    assert _every_due(deps, "2026-11-02T15:10:00.000Z", 10) == [lead.lead_id]
    missed = next_version(warned, deadline=deadline.model_copy(update={"warned": True, "missed": True}))
    deps.transactions.commit(deps.leads.save(warned, missed))
    assert _every_due(deps, "2026-11-03T15:00:00.000Z", 10) == []


def test_the_sweep_finds_every_due_deadline_across_pages(deps: Deps) -> None:
    due = [_stored(deps, n, assigned_to="usr_1", deadline=_deadline(f"2026-11-02T15:{n:02d}:00.000Z"))
           for n in range(1, 23)]
    _stored(deps, 40, assigned_to="usr_1", deadline=_deadline("2026-11-02T16:00:00.000Z"))
    assert _every_due(deps, "2026-11-02T15:30:00.000Z", 4) == [lead.lead_id for lead in due]


def test_the_due_folder_is_soonest_first_and_the_delinquent_folder_oldest_first(deps: Deps) -> None:
    for n, minute in ((1, 30), (2, 10), (3, 20)):
        _stored(deps, n, assigned_to="usr_1", routing_state="accepted", at=f"2026-11-02T14:0{n}:00.000Z",
                deadline=_deadline(f"2026-11-02T15:{minute}:00.000Z"))
    _stored(deps, 4, assigned_to="usr_1", routing_state="accepted")  # answered: in no timed folder
    for n in (7, 5, 6):
        _stored(deps, n, routing_state="delinquent", at=f"2026-11-02T1{n}:00:00.000Z")
    due = deps.leads.list_batch("acc_1", plan_list("due", LeadFilters()), Position(), 2)
    assert [lead.lead_id for _, lead in due.items] == ["lead_0002", "lead_0003"]
    rest = deps.leads.list_batch("acc_1", plan_list("due", LeadFilters()), Position(after=due.examined_to), 5)
    assert [lead.lead_id for _, lead in rest.items] == ["lead_0001"]
    mine = deps.leads.list_batch("acc_1", plan_list("due", LeadFilters(), only_assigned_to="usr_2"), Position(), 5)
    assert mine.items == []
    delinquent = deps.leads.list_batch("acc_1", plan_list("delinquent", LeadFilters()), Position(), 5)
    assert [lead.lead_id for _, lead in delinquent.items] == ["lead_0005", "lead_0006", "lead_0007"]
    # Taken by an agent: out of the delinquent folder, in the same change.
    lead = deps.leads.require("lead_0005")
    deps.transactions.commit(deps.leads.save(lead, next_version(lead, routing_state="accepted",
                                                                  assigned_to="usr_1")))
    delinquent = deps.leads.list_batch("acc_1", plan_list("delinquent", LeadFilters()), Position(), 5)
    assert [lead.lead_id for _, lead in delinquent.items] == ["lead_0006", "lead_0007"]


def test_a_stores_opening_marker_is_due_at_the_opening_and_kept_once(deps: Deps) -> None:
    opening = Revival(account_id="acc_1", opens_at="2026-11-03T15:00:00.000Z")
    deps.transactions.commit([deps.routing.add_revival(opening)])
    deps.transactions.commit([deps.routing.add_revival(opening)])  # a second lead going delinquent before it
    other = Revival(account_id="acc_2", opens_at="2026-11-03T14:00:00.000Z")
    deps.transactions.commit([deps.routing.add_revival(other)])
    assert deps.routing.due_revivals("2026-11-03T13:59:59.000Z", 10)[0] == []
    assert deps.routing.due_revivals("2026-11-03T14:30:00.000Z", 10)[0] == [other]
    assert sorted(r.account_id for r in deps.routing.due_revivals("2026-11-03T15:00:00.000Z", 10)[0]) == [
        "acc_1", "acc_2"]
    deps.routing.drop_revival(opening)
    deps.routing.drop_revival(opening)
    assert deps.routing.due_revivals("2026-11-04T00:00:00.000Z", 10)[0] == [other]
