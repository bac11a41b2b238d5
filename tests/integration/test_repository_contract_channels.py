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
