"""Appointments. Keys: keys.py (pattern 27)."""

from __future__ import annotations

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import Table, Write, entity_fields
from chalicelib.domain.appointments import Appointment
from chalicelib.domain.errors import AlreadyDecided

_NEW = "attribute_not_exists(PK)"


class AppointmentRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, appointment_id: str) -> Appointment | None:
        item = self.table.get(keys.appointment_key(appointment_id), consistent=True)
        return Appointment.model_validate(entity_fields(item)) if item else None

    def save(self, appointment: Appointment, expected_status: str | None = None) -> Write:
        """A new appointment, or (with `expected_status`) a change to one still in that status;
        AlreadyDecided when it left it meanwhile."""
        item = {**keys.appointment_key(appointment.appointment_id), "type": "appointment",
                **appointment.model_dump(exclude_none=True),
                "GSI1PK": keys.account_appointments_pk(appointment.account_id),
                "GSI1SK": f"{appointment.at}#{appointment.appointment_id}"}
        if expected_status is None:
            return Write({"Put": {"Item": item, "ConditionExpression": _NEW}})
        return Write({"Put": {"Item": item, "ConditionExpression": "#st = :seen",
                              "ExpressionAttributeNames": {"#st": "status"},
                              "ExpressionAttributeValues": {":seen": expected_status}}}, AlreadyDecided)
