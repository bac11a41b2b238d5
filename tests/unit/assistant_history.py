"""A small hand-built history of cadence report events and the assistant figures it makes, worked
out by hand (used by the unit and the HTTP tests of the assistant report)."""

from __future__ import annotations

from tests.unit.reports_history import History

A, B = "cad_speed", "cad_service"
M = "usr_max"
TIMEZONE = "America/Chicago"  # the period 2026-11-02..03 is 06:00Z on the 2nd to 06:00Z on the 4th


def history() -> History:
    """Eight leads; the figures each one makes are in the comments (Chicago time is UTC-6)."""
    h = History()

    def enrol(lead_id: str, at: str, cadence_id: str, by: str | None = None) -> None:
        name = "Speed to lead" if cadence_id == A else "Service follow-up"
        h.add("cadence_enrolled", at, lead_id, by, cadence_id=cadence_id, name=name, manual=by is not None)

    def step(lead_id: str, at: str, cadence_id: str, index: int) -> None:
        h.add("cadence_step", at, lead_id, cadence_id=cadence_id, step=index, phase="follow_up", channel="sms")

    def stopped(lead_id: str, at: str, cadence_id: str, reason: str, by: str | None = None) -> None:
        h.add("cadence_stopped", at, lead_id, by, cadence_id=cadence_id, reason=reason)

    # L1: A; two steps, replies, then hot and an appointment: enrolled, contacted, engaged, hot, appointment.
    h.lead("L1", "2026-11-02T15:00:00Z")
    enrol("L1", "2026-11-02T15:00:00Z", A)
    step("L1", "2026-11-02T15:00:01Z", A, 0)
    step("L1", "2026-11-02T16:00:00Z", A, 1)
    stopped("L1", "2026-11-02T16:30:00Z", A, "replied")
    h.add("status_changed", "2026-11-02T17:00:00Z", "L1", M, to="hot")
    h.add("appointment_created", "2026-11-02T18:00:00Z", "L1", M)
    # L2: A; one step, then STOP: enrolled, contacted, opted out.
    h.lead("L2", "2026-11-02T15:10:00Z")
    enrol("L2", "2026-11-02T15:10:00Z", A)
    step("L2", "2026-11-02T15:10:01Z", A, 0)
    stopped("L2", "2026-11-02T15:20:00Z", A, "opted_out")
    # L3: A; a manager stops messaging before any step: enrolled, stopped by staff.
    h.lead("L3", "2026-11-02T15:20:00Z")
    enrol("L3", "2026-11-02T15:20:00Z", A)
    stopped("L3", "2026-11-02T15:20:30Z", A, "stopped_by_staff", M)
    # L4: A; stopped by a manager, resumed, finished: enrolled, contacted (the stop no longer stands).
    h.lead("L4", "2026-11-02T15:30:00Z")
    enrol("L4", "2026-11-02T15:30:00Z", A)
    step("L4", "2026-11-02T15:30:01Z", A, 0)
    stopped("L4", "2026-11-02T15:40:00Z", A, "stopped_by_staff", M)
    h.add("cadence_resumed", "2026-11-02T15:50:00Z", "L4", M, cadence_id=A)
    step("L4", "2026-11-02T16:50:00Z", A, 1)
    stopped("L4", "2026-11-02T16:50:00Z", A, "finished")
    # L5: hot before any cadence (counts nowhere); A by hand, taken out (staff), then B by hand, a
    # reply and an appointment: A enrolled, contacted, stopped by staff; B enrolled, contacted,
    # engaged, appointment. Once in every total it makes.
    h.lead("L5", "2026-11-02T15:40:00Z")
    h.add("status_changed", "2026-11-02T15:45:00Z", "L5", M, to="hot")
    enrol("L5", "2026-11-02T16:00:00Z", A, M)
    step("L5", "2026-11-02T16:00:01Z", A, 0)
    stopped("L5", "2026-11-02T16:10:00Z", A, "removed", M)
    enrol("L5", "2026-11-02T16:20:00Z", B, M)
    step("L5", "2026-11-02T16:20:01Z", B, 0)
    stopped("L5", "2026-11-02T17:00:00Z", B, "replied")
    h.add("appointment_created", "2026-11-02T17:30:00Z", "L5", M)
    # L6: no cadence at all.
    h.lead("L6", "2026-11-02T15:50:00Z")
    h.respond("L6", "2026-11-02T15:55:00Z", M)
    # L7 arrived after the period, L8 before it: not the period's leads, whatever they did.
    h.lead("L7", "2026-11-04T15:00:00Z")
    enrol("L7", "2026-11-04T15:00:00Z", A)
    stopped("L7", "2026-11-04T15:05:00Z", A, "replied")
    h.lead("L8", "2026-11-01T15:00:00Z")
    enrol("L8", "2026-11-01T15:00:00Z", A)
    step("L8", "2026-11-02T15:00:00Z", A, 1)
    stopped("L8", "2026-11-02T16:00:00Z", A, "replied")
    return h


TOTALS = {"enrolled": 5, "contacted": 4, "engaged": 2, "engaged_pct": 40.0, "hot": 1, "appointments": 2,
          "opted_out": 1, "stopped_by_staff": 2}
BY_CADENCE = [
    {"cadence_id": B, "name": "Service follow-up", "enrolled": 1, "contacted": 1, "engaged": 1,
     "engaged_pct": 100.0, "hot": 0, "appointments": 1, "opted_out": 0, "stopped_by_staff": 0},
    {"cadence_id": A, "name": "Speed to lead", "enrolled": 5, "contacted": 4, "engaged": 1, "engaged_pct": 20.0,
     "hot": 1, "appointments": 1, "opted_out": 1, "stopped_by_staff": 2},
]
