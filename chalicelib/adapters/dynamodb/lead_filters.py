"""A Lead Manager list's conditions (domain/lead_query.py) as a DynamoDB FilterExpression (keys.py
pattern 16), for leads.LeadRepository.list_batch."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.lead_query import AnyOf, Condition, Contains, Eq, Missing


def filter_expression(conditions: tuple[Condition, ...]) -> tuple[str | None, dict[str, str], dict[str, Any]]:
    """The plan's conditions as a FilterExpression with its names and values."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}

    def name(field: str) -> str:
        alias = f"#f_{field}"
        names[alias] = field
        return alias

    def value(v: Any) -> str:
        alias = f":v{len(values)}"
        values[alias] = v
        return alias

    def one(c: Condition) -> str:
        if isinstance(c, Eq):
            return f"{name(c.field)} = {value(c.value)}"
        if isinstance(c, Contains):
            return f"contains({name(c.field)}, {value(c.value)})"
        if isinstance(c, Missing):
            return f"attribute_not_exists({name(c.field)})"
        if isinstance(c, AnyOf):
            return "(" + " OR ".join(one(p) for p in c.parts) + ")"
        return f"{name(c.field)} > {value(0)}"

    if not conditions:
        return None, {}, {}
    return " AND ".join(one(c) for c in conditions), names, values
