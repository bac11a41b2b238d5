"""The repository contract for the channels' ports (calls, attachments, mailboxes): the same tests
against the in-memory fakes and the DynamoDB repositories under moto (see test_repository_contract)."""

from __future__ import annotations

import pytest

from chalicelib.clock import FixedClock
from chalicelib.deps import Deps
from chalicelib.domain import errors
from chalicelib.domain.records import timeline_event
from tests.integration.test_repository_contract import NOW, _lead, _stored


def test_a_call_event_moves_only_from_the_version_it_was_read_at(deps: Deps) -> None:
    lead = _stored(deps, _lead())
    event = timeline_event(lead, "call", "usr_1", FixedClock(NOW).now(), event_id="call_1", call_id="call_1",
                           status="queued", version=0)
    deps.transactions.commit([deps.leads.add_event(event)])
    ringing = {"status": "ringing", "agent_status": "ringing"}
    deps.transactions.commit([deps.calls.update(lead.lead_id, "call_1", ringing, 0)])
    stored = deps.leads.event(lead.lead_id, "call_1")
    assert stored is not None and stored.data == {"call_id": "call_1", "status": "ringing",
                                                  "agent_status": "ringing", "version": 1}
    with pytest.raises(errors.VersionConflict):
        deps.transactions.commit([deps.calls.update(lead.lead_id, "call_1", {"status": "failed"}, 0)])
    with pytest.raises(errors.VersionConflict):
        deps.transactions.commit([deps.calls.update(lead.lead_id, "call_missing", {"status": "failed"}, 0)])
    assert deps.leads.event(lead.lead_id, "call_1").data["status"] == "ringing"  # type: ignore[union-attr]


def test_a_leads_language_is_set_once_raising_its_version_and_a_marked_message_reads_back(deps: Deps) -> None:
    from chalicelib.domain.inbound import for_language
    from chalicelib.domain.lead_query import LeadFilters, Position, plan_list
    from chalicelib.domain.leads import next_version
    from chalicelib.domain.targets import Deadline

    lead = _stored(deps, _lead(assigned_to="usr_1", status="hot"))
    # An owned lead with a running deadline: its `due` flag copy must follow the language too.
    owned = next_version(lead, deadline=Deadline(version=1, kind="first_response", owner="usr_1", set_at=NOW,
                                                 started_at=NOW, due_at=NOW))
    deps.transactions.commit(deps.leads.save(lead, owned))
    said = timeline_event(lead, "message", None, FixedClock(NOW).now(), event_id="msg_1", body="Hola")
    deps.transactions.commit([deps.leads.add_event(for_language(said, True))])
    assert deps.leads.event(lead.lead_id, "msg_1") == for_language(said, True)
    assert deps.leads.set_language(lead.lead_id, "es") == "set"
    after = deps.leads.require(lead.lead_id)
    assert after == next_version(owned, language="es")
    # A save read before the language fails on its version: it decides again on the lead with it.
    with pytest.raises(errors.LeadChanged):
        deps.transactions.commit(deps.leads.save(owned, next_version(owned, first_name="Ana")))
    assert deps.leads.set_language(lead.lead_id, "fr") == "kept"
    assert deps.leads.set_language("lead_missing", "es") == "gone"
    assert deps.leads.get("lead_missing") is None
    assert deps.leads.require(lead.lead_id) == after
    [(_key, listed)] = deps.leads.list_batch("acc_1", plan_list("due", LeadFilters()), Position(), 10).items
    assert (listed.language, listed.version) == ("es", after.version)
