"""The repository contract (test_repository_contract.py) for cadences: the same tests against the
fake and the DynamoDB CadenceRepository — a store's cadences by name, edits only over the version
read, and the leads whose enrolment's next step is due (the lead items in the sharded due index)."""

from __future__ import annotations

import pytest

from chalicelib.deps import Deps
from chalicelib.domain import errors
from chalicelib.domain.cadences import Cadence, CadenceStep
from chalicelib.domain.enrolment import Enrolment
from chalicelib.domain.leads import next_version
from tests.integration.test_repository_contract import LATER, NOW, _account, _lead, _stored


def _cadence(n: int, name: str, account_id: str = "acc_1", enroll: str = "manual") -> Cadence:
    return Cadence(cadence_id=f"cad_{n:04d}", account_id=account_id, group_id="grp_1", name=name, enroll=enroll,
                   assistant_name="Ava", steps=[CadenceStep(after_seconds=0, phase="first_touch", body="Hi")],
                   created_at=NOW, updated_at=NOW)


def _arrivals(deps: Deps, account_id: str = "acc_1") -> tuple[str, ...] | None:
    return deps.routing.store_routing(account_id).arrival_cadences


def _enrolment(next_at: str | None, state: str = "active") -> Enrolment:
    return Enrolment.model_validate({"cadence_id": "cad_0001", "name": "New", "assistant_name": "Ava",
                                     "state": state, "next_step": 0, "next_at": next_at, "enrolled_at": NOW})


def test_cadences_by_name_edited_only_over_the_version_read(deps: Deps) -> None:
    for n, name in enumerate(["Service", "new leads", "Aged"]):
        deps.cadences.add(_cadence(n, name))
    deps.cadences.add(_cadence(9, "Elsewhere", account_id="acc_2"))
    with pytest.raises(errors.Conflict):
        deps.cadences.add(_cadence(0, "Again"))
    assert [c.name for c in deps.cadences.for_account("acc_1")] == ["Aged", "new leads", "Service"]
    first, cursor = deps.cadences.page("acc_1", 2, None)
    rest, end = deps.cadences.page("acc_1", 2, cursor)
    assert [c.name for c in first + rest] == ["Aged", "new leads", "Service"] and end is None
    before = deps.cadences.get("cad_0000")
    assert before is not None
    after = before.model_copy(update={"name": "Service lane", "version": 2})
    deps.cadences.replace(before, after)
    assert deps.cadences.get("cad_0000") == after
    with pytest.raises(errors.VersionConflict):
        deps.cadences.replace(before, before.model_copy(update={"name": "Stale", "version": 2}))
    deps.cadences.delete(after)
    assert deps.cadences.get("cad_0000") is None
    with pytest.raises(errors.NotFound):
        deps.cadences.delete(after)


def test_a_stores_arrival_cadences_are_kept_by_every_cadence_write(deps: Deps) -> None:
    # Never written: not known (intake then Queries the store's cadences).
    assert _arrivals(deps) is None
    service = _cadence(1, "Service")
    deps.cadences.add(service)
    assert _arrivals(deps) == ()
    welcome, other = _cadence(2, "Welcome", enroll="new_lead"), _cadence(3, "Other", "acc_2", enroll="new_lead")
    deps.cadences.add(welcome)
    deps.cadences.add(other)
    assert _arrivals(deps) == ("cad_0002",) and _arrivals(deps, "acc_2") == ("cad_0003",)
    # A trigger change either way, an edit that keeps it, a new-lead cadence without steps, a delete.
    now_arrival = service.model_copy(update={"enroll": "new_lead", "version": 2})
    deps.cadences.replace(service, now_arrival)
    assert _arrivals(deps) == ("cad_0001", "cad_0002")
    renamed = welcome.model_copy(update={"name": "Hello", "version": 2})
    deps.cadences.replace(welcome, renamed)
    assert _arrivals(deps) == ("cad_0001", "cad_0002")
    emptied = renamed.model_copy(update={"steps": [], "version": 3})
    deps.cadences.replace(renamed, emptied)
    assert _arrivals(deps) == ("cad_0001",)
    with pytest.raises(errors.VersionConflict):
        deps.cadences.replace(service, service.model_copy(update={"version": 2}))
    assert _arrivals(deps) == ("cad_0001",)
    deps.cadences.delete(now_arrival)
    assert _arrivals(deps) == ()
    with pytest.raises(errors.NotFound):
        deps.cadences.delete(now_arrival)
    assert _arrivals(deps) == () and _arrivals(deps, "acc_2") == ("cad_0003",)
    # A new store has no cadences: known, and none.
    deps.accounts.create(_account(7))
    assert _arrivals(deps, "acc_7") == ()


def test_leads_whose_cadence_step_is_due_across_pages_and_shards(deps: Deps) -> None:
    due = [_stored(deps, _lead(n, cadence=_enrolment(NOW))) for n in range(1, 8)]
    _stored(deps, _lead(20, cadence=_enrolment(LATER)))  # not due yet
    _stored(deps, _lead(21, cadence=_enrolment(None, state="stopped")))  # not active
    _stored(deps, _lead(22))  # never enrolled
    found, start = [], None
    while True:
        page, start = deps.cadences.due_steps(NOW, 3, start)
        found += page
        if start is None:
            break
    assert sorted(lead.lead_id for lead in found) == sorted(lead.lead_id for lead in due)
    # A step sent (the enrolment stopped, or moved on) takes the lead out of the due index.
    moved = next_version(due[0], cadence=_enrolment(None, state="finished"))
    deps.transactions.commit(deps.leads.save(due[0], moved))
    again, _ = deps.cadences.due_steps(NOW, 50)
    assert due[0].lead_id not in {lead.lead_id for lead in again} and len(again) == 6
    later, _ = deps.cadences.due_steps(LATER, 50)
    assert len(later) == 7
