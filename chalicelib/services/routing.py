"""Routing use cases (offers, accept, decline, timeouts, requeue). Owned by the routing work."""

from __future__ import annotations

from chalicelib.deps import Deps
from chalicelib.domain.leads import Lead


def route_new_lead(deps: Deps, lead: Lead) -> None:
    """Start routing a lead that was just created (not for coalesced requests).

    Placeholder until the routing state machine lands in this session: the intake and
    the inbound-message paths already call it, so they need no change when it does."""
    return None
