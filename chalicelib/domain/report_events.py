"""The compact per-store, per-day event record that every report reads.

Writers (intake, routing, conversations) add one ReportEvent per fact, in the same
transaction as the change it describes; reports never re-read timelines.

What the reports read (docs/reports.md): `lead_received.at` is the lead's arrival (the
period a lead belongs to and the start of its clocks); `user_id` is always the person who
acted (the agent offered / accepting / declining, the new owner of `lead_assigned`, the
claimer of `lead_requeued`, the author of `feedback` and `note_added`, the person behind a
`human_response`); only `human_response` with `automated` false counts as a response."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from chalicelib.model import BaseModel

ReportEventKind = Literal[
    # intake: data = {source, source_group, campaign, channel, has_email, has_phone, received_at}
    "lead_received",
    # a repeat request joined an open lead: data as lead_received + {coalesced_into}
    "lead_coalesced",
    # routing: data = {offer_id, catchall: bool}; user_id = the agent
    "offer_made", "offer_accepted", "offer_declined", "offer_timed_out",
    "lead_delinquent",           # data = {}
    "lead_requeued",             # user_id claims a delinquent lead
    "lead_assigned",             # user_id = new owner, data = {by}
    "feedback",                  # data = {contact_status, comment_chars}
    # conversations: data = {activity: message|call|appointment|email, automated: bool}
    "human_response",
    "message_inbound", "message_outbound",   # message_outbound data = {automated}
    "appointment_created", "appointment_showed", "appointment_no_show", "appointment_cancelled",
    "status_changed",            # data = {from, to}
    "note_added",                # user_id = the author; a comment in the dashboard's averages
    # cadences: data = {cadence_id, name, manual}; user_id = who enrolled the lead by hand
    "cadence_enrolled",
    "cadence_step",              # a step went out: data = {cadence_id, step, phase, channel}
    "cadence_stopped",           # data = {cadence_id, reason} (domain/enrolment.StopReason)
    "cadence_resumed",           # data = {cadence_id}; user_id = who resumed messaging
    # follow-through (domain/targets.py): user_id = the owner the deadline ran for; data = {deadline_kind,
    # due_at, started_at, version}, + {on_miss} or {answered: true} for a miss decided by a late answer.
    # One of the two per deadline, in the transaction that decides it.
    "target_met", "target_missed",
    "lead_reoffered",            # user_id = the owner the lead was taken from; data = {reason}
]


class ReportEvent(BaseModel):
    event_id: str
    account_id: str
    group_id: str
    kind: ReportEventKind
    at: str
    lead_id: str
    user_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
